//! Byte-driven generators shared by `tests/no_panic.rs` (via `#[path]`) and the fuzz targets.
//!
//! Everything here reads its choices from a [`Bytes`] stream: running out of bytes yields zeros,
//! which always select the simplest option, so proptest shrinking (towards zero bytes) and
//! libFuzzer minimisation both converge on small definitions.
//!
//! [`definition`] builds *acyclic* state machines (every transition goes to a later state, and
//! every state is reachable through the `S{i}` → `S{i+1}` chain), so they terminate.
#![allow(dead_code)]

use serde_json::{json, Map, Value as Json};

pub struct Bytes<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8]) -> Bytes<'a> {
        Bytes { data, pos: 0 }
    }
    pub fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    /// A number in `0..n` (0 when `n == 0`).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.u8() as usize) % n
        }
    }
    /// True with roughly `pct` percent probability (false once the bytes run out).
    pub fn chance(&mut self, pct: u32) -> bool {
        (self.u8() as u32) * 100 / 256 >= 100 - pct
    }
    pub fn pick<'b, T>(&mut self, xs: &'b [T]) -> &'b T {
        &xs[self.below(xs.len())]
    }
    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }
}

pub const READ_PATHS: &[&str] = &[
    "$", "$.a", "$.b", "$.b[0]", "$.a.b", "$.c", "$.items", "$.items[0]", "$.items[*]", "$.items[1:]",
    "$..a", "$.s", "$.n", "$.missing", "$$.Execution.Input", "$$.State.Name", "$$.Map.Item.Value",
    "$.items[?(@.n > 1)]", "$.items.length()", "$['a']", "$.b[-1]", "$.items[0,1]", "$.a.*",
];
/// Reference paths (members and indexes only), for fields that require one.
pub const REF_PATHS: &[&str] = &["$", "$.a", "$.n", "$.s", "$.b[0]", "$.a.b", "$.missing", "$.items[1]", "$$.Execution.Input.n"];
pub const RESULT_PATHS: &[&str] = &["$", "$.a", "$.r", "$.a.b", "$.b[0]", "$.res.deep.x", "$.items[2]"];
pub const INTRINSICS: &[&str] = &[
    "States.Format('x={} y={}', $.a, $.n)",
    "States.Format('{}', States.ArrayLength(States.Array(1, 2)))",
    "States.StringToJson($.s)",
    "States.JsonToString($)",
    "States.Array($.a, $.n, 1, 'x', null)",
    "States.ArrayPartition($.items, $.n)",
    "States.ArrayContains($.items, $.a)",
    "States.ArrayRange(0, $.n, 1)",
    "States.ArrayRange($.n, 0, -1)",
    "States.ArrayGetItem($.items, $.n)",
    "States.ArrayLength($.items)",
    "States.ArrayUnique($.items)",
    "States.Base64Encode($.s)",
    "States.Base64Decode($.s)",
    "States.Hash($.s, 'SHA-256')",
    "States.Hash($.a, 'MD5')",
    "States.JsonMerge($.a, $.b, false)",
    "States.MathRandom($.n, 100)",
    "States.MathAdd($.n, -1)",
    "States.StringSplit($.s, ',')",
    "States.UUID()",
];
const STRINGS: &[&str] = &[
    "", "x", "a,b,,c", "{\"a\":1}", "[1,2", "aGVsbG8=", "!!notbase64", "2020-01-01T00:00:00Z",
    "2016-03-14T01:59:00.123+01:00", "1e3", "héllo\u{0}\u{FFFF}", "$.a", "{}", "States.ALL",
];
const TIMESTAMPS: &[&str] = &["2020-01-01T00:00:00Z", "2999-12-31T23:59:59Z", "2016-03-14T01:59:00.5+01:00"];

/// A small number, biased to edge cases.
pub fn number(b: &mut Bytes) -> Json {
    match b.below(12) {
        0 => json!(0),
        1 => json!(1),
        2 => json!(-1),
        3 => json!(2.5),
        4 => json!(1e10),
        5 => json!(1000000),
        6 => json!(i64::MIN),
        7 => json!(u64::MAX),
        8 => json!(-0.0),
        9 => json!(1.7976931348623157e308),
        10 => json!(3),
        _ => json!(b.u8() as i64 - 64),
    }
}

/// A random JSON value of bounded depth, with edge-case leaves.
pub fn json_value(b: &mut Bytes, depth: u32) -> Json {
    let kinds = if depth >= 3 { 5 } else { 7 };
    match b.below(kinds) {
        0 => Json::Null,
        1 => Json::Bool(b.chance(50)),
        2 => number(b),
        3 => Json::String(b.pick(STRINGS).to_string()),
        4 => Json::String(b.pick(READ_PATHS).to_string()),
        5 => Json::Array((0..b.below(4)).map(|_| json_value(b, depth + 1)).collect()),
        _ => {
            let mut m = Map::new();
            for _ in 0..b.below(4) {
                let k = b.pick(&["a", "b", "c", "n", "s", "items", "x y", "", "$"]).to_string();
                m.insert(k, json_value(b, depth + 1));
            }
            Json::Object(m)
        }
    }
}

/// An execution input shaped so the generated paths often hit something.
pub fn input(b: &mut Bytes) -> Json {
    if b.chance(10) {
        return json_value(b, 0);
    }
    let mut m = Map::new();
    for key in ["a", "b", "c", "n", "s", "items"] {
        if b.chance(75) || key == "items" && b.chance(50) {
            let v = match key {
                "n" => number(b),
                "s" => Json::String(b.pick(STRINGS).to_string()),
                "items" => Json::Array((0..b.below(5)).map(|_| json_value(b, 1)).collect()),
                _ => json_value(b, 1),
            };
            m.insert(key.to_string(), v);
        }
    }
    Json::Object(m)
}

fn template(b: &mut Bytes, depth: u32) -> Json {
    let mut m = Map::new();
    for i in 0..1 + b.below(4) {
        match b.below(if depth < 2 { 5 } else { 4 }) {
            0 => {
                m.insert(format!("k{i}"), json_value(b, 2));
            }
            1 | 2 => {
                m.insert(format!("k{i}.$"), json!(b.pick(READ_PATHS)));
            }
            3 => {
                m.insert(format!("k{i}.$"), json!(b.pick(INTRINSICS)));
            }
            _ => {
                m.insert(format!("k{i}"), template(b, depth + 1));
            }
        }
    }
    Json::Object(m)
}

fn data_test(b: &mut Bytes) -> Map<String, Json> {
    let mut m = Map::new();
    m.insert("Variable".into(), json!(b.pick(READ_PATHS)));
    let (op, operand): (&str, Json) = match b.below(19) {
        0 => ("NumericEquals", number(b)),
        1 => ("NumericLessThan", number(b)),
        2 => ("NumericGreaterThanEquals", number(b)),
        3 => ("StringEquals", json!(b.pick(STRINGS))),
        4 => ("StringLessThan", json!(b.pick(STRINGS))),
        5 => ("StringMatches", json!(b.pick(&["a*", "*", "x\\*y*", "", "**b"]))),
        6 => ("BooleanEquals", json!(b.chance(50))),
        7 => ("IsPresent", json!(b.chance(50))),
        8 => ("IsNull", json!(b.chance(50))),
        9 => ("IsNumeric", json!(b.chance(50))),
        10 => ("IsString", json!(b.chance(50))),
        11 => ("IsBoolean", json!(b.chance(50))),
        12 => ("IsTimestamp", json!(b.chance(50))),
        13 => ("TimestampEquals", json!(b.pick(TIMESTAMPS))),
        14 => ("TimestampLessThan", json!(b.pick(TIMESTAMPS))),
        15 => ("NumericEqualsPath", json!(b.pick(READ_PATHS))),
        16 => ("StringEqualsPath", json!(b.pick(READ_PATHS))),
        17 => ("TimestampGreaterThanPath", json!(b.pick(READ_PATHS))),
        _ => ("BooleanEqualsPath", json!(b.pick(READ_PATHS))),
    };
    m.insert(op.into(), operand);
    m
}

fn rule(b: &mut Bytes, depth: u32) -> Map<String, Json> {
    let k = if depth < 2 { 10 } else { 7 };
    match b.below(k) {
        7 => {
            let mut m = Map::new();
            m.insert("And".into(), Json::Array((0..1 + b.below(2)).map(|_| Json::Object(rule(b, depth + 1))).collect()));
            m
        }
        8 => {
            let mut m = Map::new();
            m.insert("Or".into(), Json::Array((0..1 + b.below(2)).map(|_| Json::Object(rule(b, depth + 1))).collect()));
            m
        }
        9 => {
            let mut m = Map::new();
            m.insert("Not".into(), Json::Object(rule(b, depth + 1)));
            m
        }
        _ => data_test(b),
    }
}

fn error_names(b: &mut Bytes, last: bool) -> Json {
    let pool: &[&str] = if last {
        &["States.ALL", "States.TaskFailed", "States.Runtime", "Custom", "States.Timeout", "States.IntrinsicFailure"]
    } else {
        &["States.TaskFailed", "States.Runtime", "Custom", "States.Timeout", "States.IntrinsicFailure"]
    };
    json!([b.pick(pool)])
}

fn retry(b: &mut Bytes) -> Json {
    let n = 1 + b.below(2);
    Json::Array(
        (0..n)
            .map(|i| {
                let mut r = json!({
                    "ErrorEquals": error_names(b, i + 1 == n),
                    "IntervalSeconds": 1 + b.below(3),
                    "MaxAttempts": b.below(4),
                    "BackoffRate": *b.pick(&[1.0, 1.5, 2.0]),
                });
                if b.chance(25) {
                    r["MaxDelaySeconds"] = json!(1 + b.below(5));
                }
                if b.chance(25) {
                    r["JitterStrategy"] = json!(b.pick(&["FULL", "NONE"]));
                }
                r
            })
            .collect(),
    )
}

fn catch(b: &mut Bytes, i: usize, names: &[String]) -> Json {
    let n = 1 + b.below(2);
    Json::Array(
        (0..n)
            .map(|k| {
                let target = &names[i + 1 + b.below(names.len() - i - 1)];
                let mut c = json!({"ErrorEquals": error_names(b, k + 1 == n), "Next": target});
                if b.chance(50) {
                    c["ResultPath"] = if b.chance(20) { Json::Null } else { json!(b.pick(RESULT_PATHS)) };
                }
                c
            })
            .collect(),
    )
}

/// A whole acyclic definition.
pub fn definition(b: &mut Bytes) -> Json {
    let mut ids = 0;
    let mut m = machine(b, 0, &mut ids);
    if b.chance(15) {
        m["TimeoutSeconds"] = json!(1 + b.below(30));
    }
    m
}

/// State names are unique across the whole definition (nested machines included): `ids` counts.
fn machine(b: &mut Bytes, depth: u32, ids: &mut usize) -> Json {
    let max = if depth == 0 { 6 } else { 3 };
    let n = 1 + b.below(max);
    let names: Vec<String> = (0..n).map(|i| format!("S{}", *ids + i)).collect();
    *ids += n;
    let mut states = Map::new();
    for i in 0..n {
        states.insert(names[i].clone(), state(b, depth, i, &names, ids));
    }
    json!({"StartAt": names[0], "States": states})
}

fn state(b: &mut Bytes, depth: u32, i: usize, names: &[String], ids: &mut usize) -> Json {
    let last = i + 1 == names.len();
    let nested_ok = depth < 2;
    // 0 Pass, 1 Wait, 2 Task, 3 Parallel, 4 Map, 5 Choice, 6 Succeed, 7 Fail
    let mut kind = b.below(8);
    if !nested_ok && (kind == 3 || kind == 4) {
        kind = 0;
    }
    if last && kind == 5 {
        kind = 6;
    }
    if !last && (kind == 6 || kind == 7) {
        kind = 0;
    }
    let mut s = Map::new();
    let ty = ["Pass", "Wait", "Task", "Parallel", "Map", "Choice", "Succeed", "Fail"][kind];
    s.insert("Type".into(), json!(ty));
    if kind != 7 {
        if b.chance(20) {
            s.insert("InputPath".into(), if b.chance(15) { Json::Null } else { json!(b.pick(READ_PATHS)) });
        }
        if b.chance(20) {
            s.insert("OutputPath".into(), if b.chance(15) { Json::Null } else { json!(b.pick(READ_PATHS)) });
        }
    }
    if matches!(kind, 0 | 2 | 3 | 4) {
        if b.chance(30) {
            s.insert("ResultPath".into(), if b.chance(15) { Json::Null } else { json!(b.pick(RESULT_PATHS)) });
        }
        if b.chance(35) {
            s.insert("Parameters".into(), template(b, 0));
        }
    }
    if matches!(kind, 2..=4) {
        if b.chance(20) {
            s.insert("ResultSelector".into(), template(b, 0));
        }
        if b.chance(35) {
            s.insert("Retry".into(), retry(b));
        }
        if !last && b.chance(35) {
            s.insert("Catch".into(), catch(b, i, names));
        }
    }
    match kind {
        0 => {
            if b.chance(25) {
                s.insert("Result".into(), json_value(b, 0));
            }
        }
        1 => match b.below(4) {
            0 => {
                s.insert("Seconds".into(), json!(b.below(5)));
            }
            1 => {
                s.insert("SecondsPath".into(), json!(b.pick(REF_PATHS)));
            }
            2 => {
                s.insert("Timestamp".into(), json!(b.pick(TIMESTAMPS)));
            }
            _ => {
                s.insert("TimestampPath".into(), json!(b.pick(REF_PATHS)));
            }
        },
        2 => {
            let res = b.pick(&[
                "arn:aws:lambda:us-east-1:123456789012:function:echo",
                "arn:aws:lambda:us-east-1:123456789012:function:boom",
                "arn:aws:lambda:us-east-1:123456789012:function:slow",
                "arn:aws:states:::lambda:invoke",
                "arn:aws:states:::dynamodb:getItem",
            ]);
            s.insert("Resource".into(), json!(res));
            if b.chance(25) {
                s.insert("TimeoutSeconds".into(), json!(1 + b.below(20)));
            }
        }
        3 => {
            let branches: Vec<Json> = (0..1 + b.below(3)).map(|_| machine(b, depth + 1, ids)).collect();
            s.insert("Branches".into(), Json::Array(branches));
        }
        4 => {
            s.insert("ItemsPath".into(), json!(b.pick(&["$.items", "$", "$.a", "$.missing", "$.b"])));
            if b.chance(40) {
                s.insert("MaxConcurrency".into(), json!(b.below(3)));
            }
            let body = machine(b, depth + 1, ids);
            if b.chance(70) {
                let mut p = body;
                p["ProcessorConfig"] = json!({"Mode": "INLINE"});
                s.insert("ItemProcessor".into(), p);
            } else {
                s.insert("Iterator".into(), body);
            }
            if b.chance(30) && !s.contains_key("Parameters") {
                let mut t = template(b, 0);
                t["item.$"] = json!("$$.Map.Item.Value");
                s.insert("ItemSelector".into(), t);
            }
        }
        5 => {
            let later = names.len() - i - 1;
            let choices: Vec<Json> = (0..1 + b.below(3))
                .map(|_| {
                    let mut r = rule(b, 0);
                    r.insert("Next".into(), json!(names[i + 1 + b.below(later)]));
                    Json::Object(r)
                })
                .collect();
            s.insert("Choices".into(), Json::Array(choices));
            // The chain keeps every state reachable: Default (or, without one, a rule) → S{i+1}.
            if b.chance(75) {
                s.insert("Default".into(), json!(names[i + 1]));
            } else {
                s["Choices"][0]["Next"] = json!(names[i + 1]);
            }
        }
        6 => {}
        _ => match b.below(3) {
            0 => {
                s.insert("Error".into(), json!(b.pick(&["E", "States.Custom", ""])));
                s.insert("Cause".into(), json!(b.pick(STRINGS)));
            }
            1 => {
                s.insert("ErrorPath".into(), json!(b.pick(REF_PATHS)));
                s.insert("CausePath".into(), json!(b.pick(REF_PATHS)));
            }
            _ => {}
        },
    }
    if matches!(kind, 0..=4) {
        if last {
            s.insert("End".into(), json!(true));
        } else {
            s.insert("Next".into(), json!(names[i + 1]));
        }
    }
    Json::Object(s)
}
