//! Evaluation of compiled segments over [`Value`]s, and ResultPath assignment.
//!
//! Invariants:
//! - Selection never deep-copies: a selected node is a refcount clone of the input's node.
//! - A definite path walks one chain by reference and allocates only on a miss (to render the
//!   message); an indefinite path collects into a `Vec` and never misses.
//! - Miss messages are Jayway's, with AWS's configuration (JacksonJsonProvider, default
//!   options): a missing last property → `No results for path: <full path>`; a missing
//!   property before the end → `Missing property in path <path up to it>`; an index out of
//!   range → `No results for path: <full path>`; a step applied to the wrong kind of node →
//!   Jayway's "Expected to find an object …" / "Filter: [0] can only be applied to arrays …".
//!   The first two are confirmed by recorded AWS cases; the wrong-kind wordings are Jayway's
//!   source text with the JSON provider AWS's Format output implies (Java `Map.toString`).

use super::java::{java_class_name, java_to_string};
use super::parse::Segment;
use super::PathMiss;
use crate::value::{Map, Value};

/// Jayway's normalized path of the first `upto` segments, e.g. `$['a'][0]`.
pub(crate) fn normalized_prefix(segs: &[Segment], upto: usize) -> String {
    let mut out = String::from("$");
    for seg in segs.iter().take(upto) {
        seg.write_normalized(&mut out);
    }
    out
}

fn miss(message: String) -> PathMiss {
    PathMiss { message }
}

/// Error for a property step on a node that is not an object.
fn not_an_object(segs: &[Segment], at: usize, found: &Value) -> PathMiss {
    let mut fragment = String::new();
    if let Some(seg) = segs.get(at) {
        seg.write_normalized(&mut fragment);
    }
    let class = match found {
        Value::Null => "null",
        other => java_class_name(other),
    };
    miss(format!(
        "Expected to find an object with property {fragment} in path {} but found '{class}'. \
         This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JacksonJsonProvider'.",
        normalized_prefix(segs, at)
    ))
}

/// Error for an index step on a node that is not an array.
fn not_an_array(segs: &[Segment], at: usize, found: &Value) -> PathMiss {
    if found.is_null() {
        return miss(format!("The path {} is null", normalized_prefix(segs, at)));
    }
    let mut fragment = String::new();
    if let Some(seg) = segs.get(at) {
        seg.write_normalized(&mut fragment);
    }
    miss(format!("Filter: {fragment} can only be applied to arrays. Current context is: {}", java_to_string(found)))
}

/// Resolves a possibly negative index against a length (Jayway: `len + index` when negative).
fn effective_index(index: i64, len: usize) -> Option<usize> {
    let i = if index < 0 { (len as i64).checked_add(index)? } else { index };
    if i < 0 {
        return None;
    }
    let i = usize::try_from(i).ok()?;
    (i < len).then_some(i)
}

/// Evaluates a definite chain of segments from `start`.
pub(crate) fn select_one(segs: &[Segment], start: &Value) -> Result<Value, PathMiss> {
    let mut cur = start;
    let last = segs.len().saturating_sub(1);
    for (i, seg) in segs.iter().enumerate() {
        match seg {
            Segment::Property(name) => match cur {
                Value::Object(map) => match map.get_key(name) {
                    Some(v) => cur = v,
                    None if i == last => {
                        return Err(miss(format!("No results for path: {}", normalized_prefix(segs, segs.len()))))
                    }
                    None => return Err(miss(format!("Missing property in path {}", normalized_prefix(segs, i + 1)))),
                },
                other => return Err(not_an_object(segs, i, other)),
            },
            Segment::Index(index) => match cur {
                Value::Array(items) => match effective_index(*index, items.len()) {
                    Some(at) => cur = &items[at],
                    None => {
                        return Err(miss(format!("No results for path: {}", normalized_prefix(segs, segs.len()))))
                    }
                },
                other => return Err(not_an_array(segs, i, other)),
            },
            // Jayway's "merge" case: a union of names as the last step yields one object of
            // the names present.
            Segment::Properties(names) if i == last => match cur {
                Value::Object(map) => return Ok(merge_properties(map, names)),
                other => return Err(not_an_object(segs, i, other)),
            },
            _ => {
                // Not reachable for paths compiled as definite; answer as an indefinite step.
                let mut out = Vec::new();
                select_many(&segs[i..], cur, start, &mut out);
                return Ok(Value::array(out));
            }
        }
    }
    Ok(cur.clone())
}

fn merge_properties(map: &Map, names: &[crate::value::Str]) -> Value {
    let mut merged = Map::default();
    for name in names {
        if let Some(v) = map.get(name.as_ref()) {
            merged.insert(name.clone(), v.clone());
        }
    }
    Value::from(merged)
}

/// Collects every match of `segs` from `node` into `out` (indefinite evaluation: misses add
/// nothing). `root` is the document that `$` inside filters refers to.
pub(crate) fn select_many(segs: &[Segment], node: &Value, root: &Value, out: &mut Vec<Value>) {
    match segs.split_first() {
        Some((seg, rest)) => apply_step(seg, rest, node, root, out),
        None => out.push(node.clone()),
    }
}

/// Applies one step, then the rest of the path, to `node`.
fn apply_step(seg: &Segment, rest: &[Segment], node: &Value, root: &Value, out: &mut Vec<Value>) {
    match seg {
        Segment::Property(name) => {
            if let Some(v) = node.as_object().and_then(|m| m.get_key(name)) {
                select_many(rest, v, root, out);
            }
        }
        Segment::Properties(names) => {
            if let Value::Object(map) = node {
                if rest.is_empty() {
                    out.push(merge_properties(map, names));
                } else {
                    for name in names {
                        if let Some(v) = map.get(name.as_ref()) {
                            select_many(rest, v, root, out);
                        }
                    }
                }
            }
        }
        Segment::Index(index) => {
            if let Value::Array(items) = node {
                if let Some(at) = effective_index(*index, items.len()) {
                    select_many(rest, &items[at], root, out);
                }
            }
        }
        Segment::Indices(list) => {
            if let Value::Array(items) = node {
                for index in list {
                    if let Some(at) = effective_index(*index, items.len()) {
                        select_many(rest, &items[at], root, out);
                    }
                }
            }
        }
        Segment::Slice { start, end } => {
            if let Value::Array(items) = node {
                let (from, to) = slice_bounds(*start, *end, items.len());
                for item in items.iter().take(to).skip(from) {
                    select_many(rest, item, root, out);
                }
            }
        }
        Segment::Wildcard => match node {
            Value::Object(map) => map.values().for_each(|v| select_many(rest, v, root, out)),
            Value::Array(items) => items.iter().for_each(|v| select_many(rest, v, root, out)),
            _ => {}
        },
        Segment::Filter(expr) => match node {
            Value::Array(items) => {
                for item in items.iter() {
                    if expr.matches(item, root) {
                        select_many(rest, item, root, out);
                    }
                }
            }
            // Jayway applies a filter to an object as a whole.
            Value::Object(_) if expr.matches(node, root) => select_many(rest, node, root, out),
            _ => {}
        },
        Segment::Scan(inner) => scan(inner, rest, node, root, out, 0),
    }
}

/// Bound on deep-scan recursion; JSON deeper than this is not walked further (our parser's
/// nesting limit is far below it, so this only guards hand-built values).
const MAX_SCAN_DEPTH: usize = 4096;

/// Jayway's `ScanPathToken.walk`: pre-order; at each node that the next step can apply to,
/// apply it (and the rest of the path), then descend into children in document order.
fn scan(inner: &Segment, rest: &[Segment], node: &Value, root: &Value, out: &mut Vec<Value>, depth: usize) {
    if depth > MAX_SCAN_DEPTH {
        return;
    }
    let applies = match inner {
        Segment::Property(name) => node.get(name).is_some(),
        Segment::Properties(names) => node.as_object().is_some_and(|m| names.iter().all(|n| m.contains_key(n.as_ref()))),
        Segment::Index(_) | Segment::Indices(_) | Segment::Slice { .. } => node.as_array().is_some(),
        Segment::Filter(_) => node.as_object().is_some(),
        Segment::Wildcard | Segment::Scan(_) => true,
    };
    if applies {
        apply_step(inner, rest, node, root, out);
    }
    match node {
        Value::Object(map) => map.values().for_each(|v| scan(inner, rest, v, root, out, depth + 1)),
        Value::Array(items) => items.iter().for_each(|v| scan(inner, rest, v, root, out, depth + 1)),
        _ => {}
    }
}

/// Jayway's `ArraySliceToken` bounds: negative ends count from the back, clamped to the array.
fn slice_bounds(start: Option<i64>, end: Option<i64>, len: usize) -> (usize, usize) {
    let len_i = len as i64;
    let from = match start {
        None => 0,
        Some(s) if s < 0 => (len_i + s).max(0),
        Some(s) => s,
    };
    let to = match end {
        None => len_i,
        Some(e) if e < 0 => len_i + e,
        Some(e) => e.min(len_i),
    };
    let from = from.clamp(0, len_i) as usize;
    let to = to.clamp(0, len_i) as usize;
    (from, to.max(from))
}

/// ResultPath: puts `value` at `segs` inside `target`, creating missing intermediate objects.
/// Unshared nodes are changed in place (`Arc::make_mut`).
///
/// The path is checked against `target` before anything changes, so on failure the caller gets
/// `target` back untouched: a state's input survives a failed ResultPath for its Retry and
/// Catch, and callers can hand over their only reference (no copy-on-write clone).
pub(crate) fn assign(segs: &[Segment], target: Value, value: Value) -> Result<Value, (PathMiss, Value)> {
    if segs.is_empty() {
        return Ok(value);
    }
    if let Err(miss) = probe_assign(segs, &target) {
        return Err((miss, target));
    }
    let mut target = target;
    write_into(segs, &mut target, value);
    Ok(target)
}

/// Walks `segs` through `node` as [`write_into`] will, failing where the write would.
fn probe_assign(segs: &[Segment], node: &Value) -> Result<(), PathMiss> {
    let mut node = node;
    for (at, seg) in segs.iter().enumerate() {
        match seg {
            Segment::Property(name) => {
                let Value::Object(map) = node else {
                    return Err(not_an_object(segs, at, node));
                };
                match map.get_key(name) {
                    Some(child) => node = child,
                    // The rest is created as empty objects: only names can follow.
                    None => return match segs[at + 1..].iter().position(|s| !matches!(s, Segment::Property(_))) {
                        None => Ok(()),
                        Some(k) => Err(not_an_array(segs, at + 1 + k, &Value::empty_object())),
                    },
                }
            }
            Segment::Index(index) => {
                let Value::Array(items) = node else {
                    return Err(not_an_array(segs, at, node));
                };
                let Some(child) = effective_index(*index, items.len()).and_then(|i| items.get(i)) else {
                    return Err(miss(format!("No results for path: {}", normalized_prefix(segs, at + 1))));
                };
                node = child;
            }
            _ => {
                return Err(miss(format!(
                    "Invalid path {}: ResultPath must be a definite path of names and indices",
                    normalized_prefix(segs, segs.len())
                )))
            }
        }
    }
    Ok(())
}

/// The write half of [`assign`], on a path [`probe_assign`] accepted. Should a step still not
/// fit, the value is left unchanged there rather than panicking.
fn write_into(segs: &[Segment], node: &mut Value, value: Value) {
    let Some((seg, rest)) = segs.split_first() else {
        *node = value;
        return;
    };
    match seg {
        Segment::Property(name) => {
            if let Some(map) = node.as_object_mut() {
                if rest.is_empty() {
                    map.insert_key(name, value);
                } else {
                    write_into(rest, map.get_or_insert_with(name, Value::empty_object), value);
                }
            }
        }
        Segment::Index(index) => {
            let len = node.as_array().map_or(0, |a| a.len());
            if let (Some(i), Some(items)) = (effective_index(*index, len), node.as_array_mut()) {
                if let Some(slot) = items.get_mut(i) {
                    write_into(rest, slot, value);
                }
            }
        }
        _ => {}
    }
}
