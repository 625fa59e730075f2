//! The `expressway-loadtest` binary against the real server: `expressway serve`'s server
//! (the same `Server` and `ServerState`, with `chain` preloaded as `--preload` does) on
//! 127.0.0.1:0 in this process, driven for 2 s at a modest rate with the `start-sync` and
//! `start` targets. Asserts on counts only (no errors, every request answered and every
//! execution recorded by the server), never on timing.
//!
//! Needs `../shared/bench/chain.asl.json` (`$EXPRESSWAY_BENCH_DIR` overrides the folder); the
//! test says so and checks nothing when it is absent.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use expressway::server::logging::LogSink;
use expressway::server::{Server, ServerConfig, ServerState};
use expressway::tasks::Resources;

const RATE: u64 = 100;
const SECONDS: u64 = 2;

fn bench_dir() -> PathBuf {
    std::env::var_os("EXPRESSWAY_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench"))
}

/// A scenario file for `kind`, in `dir`, sending the IoT reading template to `url`.
fn scenario(dir: &Path, kind: &str, url: &str) -> PathBuf {
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("events/iot-reading.json");
    let text = format!(
        "description = \"chain through {kind}\"\nduration_secs = {SECONDS}\nseed = 7\n\
         [event]\ntemplate = {template:?}\n\
         [traffic]\nkind = \"constant\"\nrate = {RATE}\n\
         [target]\nkind = \"{kind}\"\nurl = \"{url}\"\nconnections = 4\nthreads = 1\n\
         state_machine_arn = \"arn:aws:states:us-east-1:123456789012:stateMachine:chain\"\n",
        template = template.display().to_string(),
    );
    let path = dir.join(format!("{kind}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the loadtest binary; answers its JSON report.
fn loadtest(scenario: &Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_expressway-loadtest"))
        .arg("run")
        .arg(scenario)
        .args(["--json", "-", "--html", "/dev/null", "--quiet", "--fail-on-errors"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "loadtest failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not a JSON report ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn loadtest_drives_a_real_server_with_start_sync_and_start() {
    let chain = bench_dir().join("chain.asl.json");
    if !chain.is_file() {
        eprintln!("skipped: {} is absent (set EXPRESSWAY_BENCH_DIR)", chain.display());
        return;
    }
    let dir = std::env::temp_dir().join(format!("expressway-loadtest-serve-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(&chain, dir.join("chain.asl.json")).unwrap();

    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let config = ServerConfig { bind: "127.0.0.1:0".parse().unwrap(), ..ServerConfig::default() };
    let state = ServerState::new(&config, Resources::default(), None, LogSink::new(Box::new(std::io::sink())));
    let server = runtime.block_on(Server::bind(config, state)).unwrap();
    let names = server.state().preload(&dir).unwrap();
    assert_eq!(names, ["chain"]);
    let url = format!("http://{}/", server.local_addr().unwrap());
    let state = Arc::clone(server.state());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = runtime.spawn(server.run(async move {
        let _ = stopped.await;
    }));

    let mut answered = 0;
    for kind in ["start-sync", "start"] {
        let report = loadtest(&scenario(&dir, kind, &url));
        let requests = &report["requests"];
        let planned = RATE * SECONDS;
        assert_eq!(requests["failed"], 0, "{kind}: {}", report["errors"]);
        assert_eq!(requests["ok"], planned, "{kind}: {requests}");
        assert_eq!(report["errors"], serde_json::json!({}), "{kind}");
        assert_eq!(report["target"].as_str().map(|t| t.contains(kind)), Some(true), "{kind}: {}", report["target"]);
        assert!(report["latency_us"]["count"].as_u64() == Some(planned), "{kind}: {}", report["latency_us"]);
        assert!(!report["timeline"].as_array().unwrap().is_empty(), "{kind}");
        answered += planned;
    }

    // Every execution the two runs started is in the server's ring, finished (the async ones
    // may still be settling: wait for the engine to drain, without asserting on how long).
    runtime.block_on(async {
        while state.engine.in_flight() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    let machine = "arn:aws:states:us-east-1:123456789012:stateMachine:chain";
    let executions = state.executions.of_machine(machine);
    assert_eq!(executions.len() as u64, answered);
    assert!(executions.iter().all(|r| r.status() == "SUCCEEDED"));
    assert_eq!(executions.iter().filter(|r| r.arn.contains(":express:")).count() as u64, answered);

    let _ = stop.send(());
    let report = runtime.block_on(serving).unwrap();
    assert!(report.aborted.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
