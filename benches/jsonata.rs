//! JSONata parse and evaluation time for typical Step Functions expressions, with a JSONPath
//! selection of the same field beside them for comparison.
//!
//! Run: `cargo bench --bench jsonata`.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use expressway::jsonata::Expression;
use expressway::jsonpath::Path;
use expressway::value::{parse_str, Value};

const CASES: &[(&str, &str)] = &[
    ("field_plus_one", "$states.input.a + 1"),
    ("map_10_items", "$map($states.input.items, function($v) { $v.price * $v.qty })"),
    (
        "object_constructor",
        "{'id': $states.input.id, 'total': $sum($states.input.items.price), 'first': $states.input.items[0].name, 'tag': 'order-' & $states.input.id}",
    ),
    ("condition", "$states.input.a > 10 and $exists($states.input.items)"),
];

fn states() -> Value {
    let items: Vec<String> = (0..10)
        .map(|i| format!(r#"{{"name": "item{i}", "price": {}.5, "qty": {i}}}"#, i + 1))
        .collect();
    let input = format!(r#"{{"a": 41, "id": "o-17", "items": [{}]}}"#, items.join(","));
    parse_str(&format!(
        r#"{{"input": {input}, "context": {{"Execution": {{"Id": "arn:aws:states:us-east-1:123456789012:execution:m:e", "Name": "e"}}, "State": {{"Name": "S", "EnteredTime": "2024-01-01T00:00:00Z"}}}}}}"#
    ))
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let states = states();
    let lookup = |name: &str| (name == "states").then(|| states.clone());
    for (name, text) in CASES {
        c.bench_function(&format!("jsonata/parse/{name}"), |b| {
            b.iter(|| Expression::parse(black_box(text)).unwrap())
        });
        let expr = Expression::parse(text).unwrap();
        assert!(expr.evaluate(None, &lookup).unwrap().is_some(), "{name}");
        c.bench_function(&format!("jsonata/evaluate/{name}"), |b| {
            b.iter(|| expr.evaluate(None, &lookup).unwrap())
        });
    }
    // The JSONPath equivalent of the simplest case's selection, for scale.
    let path = Path::parse("$.input.a").unwrap();
    c.bench_function("jsonpath/select/$.input.a", |b| b.iter(|| path.select(black_box(&states)).unwrap()));
}

criterion_group!(benches, bench);
criterion_main!(benches);
