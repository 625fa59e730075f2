//! The fast path for the most common Step Functions expressions: plain field paths such as
//! `$states.input.order.id`, `$myVar.items[0]` or `$states.context.Execution.Id`.
//!
//! Such a path is recognised once, at parse time. At run time the caller resolves the root
//! variable itself and [`SimplePath::walk`] follows the steps over our values: no conversion
//! into the evaluator's values, no `$states` object built. The walk answers only where the
//! answer is certainly JSONata's: it gives up (returns [`Walk::Fallback`]) as soon as a step
//! meets an array (where JSONata maps over elements and flattens sequences) or an index on a
//! non-array, and the caller then runs the full evaluator. Results are normalised to what a
//! round trip through JSONata's doubles gives (integral floats become integers, integers past
//! 2^53 become floats).

use std::sync::Arc;

use crate::value::{Map, Number, Str, Value};

/// One step of a simple path.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Field(Str),
    Index(usize),
}

/// `$root.step.step…` with field names and non-negative literal indexes only.
#[derive(Clone, Debug, PartialEq)]
pub struct SimplePath {
    pub root: String,
    pub steps: Vec<Step>,
}

/// The outcome of walking a simple path.
#[derive(Debug, PartialEq)]
pub enum Walk {
    Value(Value),
    Undefined,
    /// The full evaluator must decide.
    Fallback,
}

const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

impl SimplePath {
    /// Recognises `text` as a simple path, or `None`.
    pub fn recognise(text: &str) -> Option<SimplePath> {
        let rest = text.strip_prefix('$')?;
        let (root, mut rest) = split_name(rest)?;
        let mut steps = Vec::new();
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('.') {
                let (name, r) = split_name(r)?;
                steps.push(Step::Field(Str::from(name)));
                rest = r;
            } else if let Some(r) = rest.strip_prefix('[') {
                let end = r.find(']')?;
                let digits = &r[..end];
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 9 {
                    return None;
                }
                steps.push(Step::Index(digits.parse().ok()?));
                rest = &r[end + 1..];
            } else {
                return None;
            }
        }
        Some(SimplePath { root: root.to_string(), steps })
    }

    /// Follows the steps from `start`, skipping the first `skip` steps (already resolved by the
    /// caller, e.g. `input` of `$states.input`).
    pub fn walk(&self, start: &Value, skip: usize) -> Walk {
        let mut current = start;
        for step in self.steps.iter().skip(skip) {
            match (step, current) {
                (_, Value::Array(_)) if !matches!(step, Step::Index(_)) => return Walk::Fallback,
                (Step::Field(name), Value::Object(map)) => match map.get(name) {
                    Some(v) => current = v,
                    None => return Walk::Undefined,
                },
                (Step::Field(_), _) => return Walk::Undefined,
                (Step::Index(i), Value::Array(items)) => match items.get(*i) {
                    // An element that is itself an array would be flattened by JSONata.
                    Some(Value::Array(_)) => return Walk::Fallback,
                    Some(v) => current = v,
                    None => return Walk::Undefined,
                },
                (Step::Index(_), _) => return Walk::Fallback,
            }
        }
        Walk::Value(normalise(current))
    }
}

/// An identifier-like name (JSONata dot-notation names are broader; anything else falls back).
fn split_name(s: &str) -> Option<(&str, &str)> {
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    (end > 0).then(|| s.split_at(end))
}

/// The value as JSONata's double-based numbers would give it back.
pub fn normalise(v: &Value) -> Value {
    if needs_normalising(v) {
        rebuild(v)
    } else {
        v.clone()
    }
}

fn number_needs(n: &Number) -> bool {
    match n {
        Number::Int(i) => (*i as f64).abs() > MAX_SAFE,
        Number::UInt(_) => true,
        Number::Float(f) => f.fract() == 0.0 && f.abs() <= MAX_SAFE,
    }
}

fn needs_normalising(v: &Value) -> bool {
    match v {
        Value::Number(n) => number_needs(n),
        Value::Array(a) => a.iter().any(needs_normalising),
        Value::Object(o) => o.values().any(needs_normalising),
        _ => false,
    }
}

fn rebuild(v: &Value) -> Value {
    match v {
        Value::Number(n) if number_needs(n) => Value::Number(super::convert::number(n.as_f64())),
        Value::Array(a) => Value::Array(Arc::new(a.iter().map(normalise).collect())),
        Value::Object(o) => {
            let mut m = Map::with_capacity(o.len());
            for (k, x) in o.iter() {
                m.insert(k.clone(), normalise(x));
            }
            Value::from(m)
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jsonata::Expression;
    use crate::value::parse_str;

    #[test]
    fn recognises_only_plain_paths() {
        let p = SimplePath::recognise("$states.input.tags[0]").unwrap();
        assert_eq!(p.root, "states");
        assert_eq!(p.steps, vec![Step::Field("input".into()), Step::Field("tags".into()), Step::Index(0)]);
        for not in ["$states.input.a + 1", "$count($x)", "states.input", "$x[-1]", "$x['a']", "$x.a b", "$", "$x[0.5]", "$x.`a b`"] {
            assert_eq!(SimplePath::recognise(not), None, "{not}");
        }
    }

    /// The fast path agrees with the full evaluator wherever it answers.
    #[test]
    fn agrees_with_the_evaluator() {
        let data = parse_str(
            r#"{"a":{"b":1,"f":2.0,"big":9007199254740993,"s":"x","n":null,"arr":[{"c":1},{"c":2}],"nested":[[1],[2]],"o":{"k":[3,4]}},"t":[5,6]}"#,
        )
        .unwrap();
        let paths = [
            "$d.a", "$d.a.b", "$d.a.f", "$d.a.big", "$d.a.s", "$d.a.n", "$d.a.missing", "$d.a.s.x", "$d.a.arr",
            "$d.a.arr.c", "$d.a.arr[1]", "$d.a.arr[1].c", "$d.a.arr[5]", "$d.a.nested[0]", "$d.a.o.k[1]", "$d.t[0]",
            "$d.a.b[0]", "$d.a.n.x",
        ];
        for text in paths {
            let path = SimplePath::recognise(text).unwrap();
            let full = Expression::parse(text).unwrap().evaluate(None, &|n| (n == "d").then(|| data.clone())).unwrap();
            match path.walk(&data, 0) {
                Walk::Value(v) => assert_eq!(Some(v.to_json()), full.map(|f| f.to_json()), "{text}"),
                Walk::Undefined => assert_eq!(full, None, "{text}"),
                Walk::Fallback => {}
            }
        }
    }
}
