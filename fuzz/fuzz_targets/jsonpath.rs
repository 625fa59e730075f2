//! bytes = path text, NUL, JSON document → `Path::parse`, then `select`/`assign` on the document.
#![no_main]
use expressway::jsonpath::Path;
use expressway::value::{self, Value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (path, doc) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"{\"a\":{\"b\":[1,{\"c\":2}]},\"items\":[{\"n\":1},{\"n\":3}]}"[..]),
    };
    let Ok(path) = std::str::from_utf8(path) else { return };
    let Ok(p) = Path::parse(path) else { return };
    let root = value::parse(doc).unwrap_or(Value::Null);
    let _ = p.select(&root);
    let _ = (p.is_definite(), p.is_reference_path(), p.jayway_normalized());
    let _ = p.assign(root.clone(), Value::from("x"));
    let _ = p.assign(Value::empty_object(), root);
});
