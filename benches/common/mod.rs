//! What the benches share: the standard workloads (`../shared/bench`, or
//! `$EXPRESSWAY_BENCH_DIR`) and an engine whose `annotate` Task is the local function the
//! `task` workload expects (its input plus `"processedBy": "local-fn"`).

use std::path::PathBuf;

use expressway::runtime::Engine;
use expressway::tasks::{handler_fn, Resources};
use expressway::value::Value;

pub fn bench_dir() -> PathBuf {
    std::env::var_os("EXPRESSWAY_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/bench"))
}

pub fn read(name: &str) -> String {
    let p = bench_dir().join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("cannot read {}: {e} (set EXPRESSWAY_BENCH_DIR)", p.display()))
}

pub fn engine_with_annotate() -> Engine {
    let mut r = Resources::default();
    r.register(
        "arn:aws:lambda:us-east-1:123456789012:function:annotate",
        handler_fn(|req| async move {
            let mut v = req.input;
            if let Some(m) = v.as_object_mut() {
                m.insert("processedBy".into(), Value::from("local-fn"));
            }
            Ok(v)
        }),
    );
    Engine::new(Default::default(), r)
}
