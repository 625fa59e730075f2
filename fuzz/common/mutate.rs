//! Byte-driven structural mutations of a definition (JSON tree), shared by `tests/no_panic.rs`
//! and the `mutate` fuzz target. Mutations may introduce cycles: run the result with a poll cap.
#![allow(dead_code)]

use serde_json::{json, Value as Json};

use super::gen::{json_value, Bytes, INTRINSICS, READ_PATHS};

const FIELDS: &[&str] = &[
    "Next", "End", "Type", "ResultPath", "InputPath", "OutputPath", "Parameters", "ResultSelector", "Retry", "Catch",
    "Seconds", "SecondsPath", "Timestamp", "Branches", "Iterator", "ItemProcessor", "ItemsPath", "ItemSelector",
    "Choices", "Default", "TimeoutSeconds", "HeartbeatSeconds", "Result", "Assign", "QueryLanguage", "Arguments",
    "Output", "Items", "MaxConcurrency", "ToleratedFailureCount", "StartAt", "States", "Variable", "And", "Not",
    "ErrorEquals", "MaxAttempts", "BackoffRate", "Error", "Cause", "ErrorPath", "Resource", "ProcessorConfig",
    "ItemReader", "Label", "Version", "Credentials", "Comment",
];
const TYPES: &[&str] = &["Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map", "Bogus"];

fn interesting(b: &mut Bytes, names: &[String]) -> Json {
    match b.below(30) {
        0 => Json::Null,
        1 => json!(true),
        2 => json!(0),
        3 => json!(-1),
        4 => json!(2.5),
        5 => json!(1e308),
        6 => json!(i64::MIN),
        7 => json!(u64::MAX),
        8 => serde_json::from_str("99999999999999999999999").unwrap_or(Json::Null),
        9 => json!(""),
        10 => json!("$"),
        11 => json!("$$"),
        12 => json!("$..a"),
        13 => json!("$[*]"),
        14 => json!("$.a[?(@.b)]"),
        15 => json!(b.pick(INTRINSICS)),
        16 => json!([]),
        17 => json!({}),
        18 => json!([{}]),
        19 => json!("NoSuchState"),
        20 => json!("\u{0}"),
        21 => json!("2016-03-14T01:59:00Z"),
        22 => json!("x".repeat(300)),
        23 if !names.is_empty() => json!(b.pick(names)),
        24 => json!(b.pick(READ_PATHS)),
        25 => json!(b.pick(TYPES)),
        26 => json!({"Type": "Pass", "End": true}),
        27 => json!({"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}),
        _ => json_value(b, 1),
    }
}

/// Every node, as a path of object keys / array indexes from the root.
fn nodes(v: &Json, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    out.push(prefix.clone());
    match v {
        Json::Object(m) => {
            for (k, c) in m {
                prefix.push(Step::Key(k.clone()));
                nodes(c, prefix, out);
                prefix.pop();
            }
        }
        Json::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                prefix.push(Step::Index(i));
                nodes(c, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone)]
enum Step {
    Key(String),
    Index(usize),
}

fn at<'a>(v: &'a mut Json, path: &[Step]) -> Option<&'a mut Json> {
    let mut cur = v;
    for s in path {
        cur = match (s, cur) {
            (Step::Key(k), Json::Object(m)) => m.get_mut(k)?,
            (Step::Index(i), Json::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// State names found anywhere under a `States` object.
pub fn state_names(v: &Json, out: &mut Vec<String>) {
    match v {
        Json::Object(m) => {
            for (k, c) in m {
                if k == "States" {
                    if let Json::Object(s) = c {
                        out.extend(s.keys().cloned());
                    }
                }
                state_names(c, out);
            }
        }
        Json::Array(a) => a.iter().for_each(|c| state_names(c, out)),
        _ => {}
    }
}

/// Applies `1..=4` mutations chosen by `b`.
pub fn mutate(def: &mut Json, b: &mut Bytes) {
    let mut names = Vec::new();
    state_names(def, &mut names);
    for _ in 0..1 + b.below(4) {
        let mut all = Vec::new();
        nodes(def, &mut Vec::new(), &mut all);
        let path = all[b.below(all.len())].clone();
        match b.below(7) {
            // Delete the node.
            0 => {
                if let Some((last, parent)) = path.split_last() {
                    match (last, at(def, parent)) {
                        (Step::Key(k), Some(Json::Object(m))) => {
                            m.shift_remove(k);
                        }
                        (Step::Index(i), Some(Json::Array(a))) if *i < a.len() => {
                            a.remove(*i);
                        }
                        _ => {}
                    }
                }
            }
            // Replace it with something interesting.
            1 | 2 => {
                let v = interesting(b, &names);
                if let Some(n) = at(def, &path) {
                    *n = v;
                }
            }
            // Retarget a transition (possibly making a cycle or a dangling target).
            3 => {
                let mut targets = Vec::new();
                for p in &all {
                    if let Some(Step::Key(k)) = p.last() {
                        if matches!(k.as_str(), "Next" | "Default" | "StartAt") {
                            targets.push(p.clone());
                        }
                    }
                }
                if !targets.is_empty() {
                    let p = targets[b.below(targets.len())].clone();
                    let v = if names.is_empty() || b.chance(10) { json!("NoSuchState") } else { json!(b.pick(&names)) };
                    if let Some(n) = at(def, &p) {
                        *n = v;
                    }
                }
            }
            // Insert a known field with an interesting value into an object.
            4 => {
                let key = b.pick(FIELDS).to_string();
                let v = interesting(b, &names);
                if let Some(Json::Object(m)) = at(def, &path) {
                    m.insert(key, v);
                }
            }
            // Change a state's Type.
            5 => {
                let ty = b.pick(TYPES).to_string();
                if let Some(Json::Object(m)) = at(def, &path) {
                    if m.contains_key("Type") {
                        m.insert("Type".into(), json!(ty));
                    }
                }
            }
            // Copy a subtree over another node.
            _ => {
                let src = all[b.below(all.len())].clone();
                let copy = at(def, &src).map(|v| v.clone());
                if let (Some(copy), Some(n)) = (copy, at(def, &path)) {
                    *n = copy;
                }
            }
        }
    }
}
