//! Compiling a Choice rule from its definition JSON into the [`Node`] tree.
//!
//! Owns: the operator-name table and all definition-level checks of a rule.
//!
//! Invariants:
//! - Never panics, whatever the JSON: every malformed shape becomes an `Err(String)` naming the
//!   field, and nesting deeper than [`MAX_DEPTH`] is refused so recursion stays bounded.
//! - A successful result satisfies the tree invariants in `mod.rs` (non-empty `And`/`Or`, one
//!   operator per data test, typed literals).
//!
//! Choice where AWS's behaviour is unclear: a `Timestamp*` literal that is not a valid
//! timestamp compiles (to an operand that never matches) instead of failing. Rejecting such a
//! definition is the validator's job; if AWS does accept one, never matching is the only
//! outcome consistent with "a string that is not a valid timestamp is false".

use super::string_matches::Pattern;
use super::{Cmp, Node, Op, Operand, Test};
use crate::jsonpath::Path;
use crate::timestamp::Timestamp;
use crate::value::{Number, Str};
use serde_json::Value as Json;

/// Deepest `And`/`Or`/`Not` nesting accepted (far beyond any real definition).
pub(super) const MAX_DEPTH: usize = 256;

/// Fields a rule may carry that are not part of its condition.
const IGNORED: &[&str] = &["Next", "Comment", "Assign"];

pub(super) fn node(rule: &Json, depth: usize) -> Result<Node, String> {
    if depth > MAX_DEPTH {
        return Err(format!("Choice rule nesting is deeper than {MAX_DEPTH} levels"));
    }
    let Some(obj) = rule.as_object() else {
        return Err(format!("a Choice rule must be an object, not {}", json_type(rule)));
    };

    let mut variable: Option<&Json> = None;
    let mut combinator: Option<(&str, &Json)> = None;
    let mut found_op: Option<(&str, &Json)> = None;
    for (key, value) in obj {
        let key = key.as_str();
        match key {
            "Variable" => variable = Some(value),
            "And" | "Or" | "Not" => {
                if let Some((other, _)) = combinator {
                    return Err(format!("a Choice rule cannot have both '{other}' and '{key}'"));
                }
                combinator = Some((key, value));
            }
            _ if IGNORED.contains(&key) => {}
            _ if operator_kind(key).is_some() => {
                if let Some((other, _)) = found_op {
                    return Err(format!(
                        "a Choice rule must have exactly one comparison operator, found '{other}' and '{key}'"
                    ));
                }
                found_op = Some((key, value));
            }
            _ => return Err(format!("unknown field '{key}' in Choice rule")),
        }
    }

    if let Some((name, value)) = combinator {
        if variable.is_some() || found_op.is_some() {
            return Err(format!("a Choice rule with '{name}' cannot also have 'Variable' or a comparison operator"));
        }
        return match name {
            "Not" => {
                if !value.is_object() {
                    return Err(format!("'Not' must be an object, not {}", json_type(value)));
                }
                Ok(Node::Not(Box::new(node(value, depth + 1)?)))
            }
            _ => {
                let Some(items) = value.as_array() else {
                    return Err(format!("'{name}' must be an array, not {}", json_type(value)));
                };
                if items.is_empty() {
                    return Err(format!("'{name}' must contain at least one rule"));
                }
                let children =
                    items.iter().map(|r| node(r, depth + 1)).collect::<Result<Vec<_>, _>>()?;
                Ok(if name == "And" { Node::And(children) } else { Node::Or(children) })
            }
        };
    }

    let Some(variable) = variable else {
        return Err("a Choice rule needs 'Variable' or one of 'And', 'Or', 'Not'".to_string());
    };
    let Some(variable) = variable.as_str() else {
        return Err(format!("'Variable' must be a string, not {}", json_type(variable)));
    };
    let variable = parse_path("Variable", variable)?;
    let Some((name, operand)) = found_op else {
        return Err("a Choice rule with 'Variable' needs a comparison operator".to_string());
    };
    let op = operator(name, operand)?;
    Ok(Node::Test(Box::new(Test { variable, op })))
}

/// Which family an operator name belongs to, with its comparison and whether it takes a path.
#[derive(Clone, Copy)]
enum Kind {
    String(Cmp, bool),
    StringMatches,
    Numeric(Cmp, bool),
    Boolean(bool),
    Timestamp(Cmp, bool),
    Is(fn(bool) -> Op),
}

fn operator_kind(name: &str) -> Option<Kind> {
    let (family, rest) = ["String", "Numeric", "Boolean", "Timestamp"]
        .into_iter()
        .find_map(|f| name.strip_prefix(f).map(|rest| (f, rest)))
        .unwrap_or(("", name));
    let (body, is_path) = match rest.strip_suffix("Path") {
        Some(body) => (body, true),
        None => (rest, false),
    };
    let cmp = match body {
        "Equals" => Some(Cmp::Eq),
        "LessThan" => Some(Cmp::Lt),
        "GreaterThan" => Some(Cmp::Gt),
        "LessThanEquals" => Some(Cmp::Le),
        "GreaterThanEquals" => Some(Cmp::Ge),
        _ => None,
    };
    Some(match (family, cmp) {
        ("String", Some(c)) => Kind::String(c, is_path),
        ("Numeric", Some(c)) => Kind::Numeric(c, is_path),
        ("Boolean", Some(Cmp::Eq)) => Kind::Boolean(is_path),
        ("Timestamp", Some(c)) => Kind::Timestamp(c, is_path),
        ("String", None) if rest == "Matches" => Kind::StringMatches,
        ("", None) => Kind::Is(match name {
            "IsNull" => Op::IsNull,
            "IsPresent" => Op::IsPresent,
            "IsNumeric" => Op::IsNumeric,
            "IsString" => Op::IsString,
            "IsBoolean" => Op::IsBoolean,
            "IsTimestamp" => Op::IsTimestamp,
            _ => return None,
        }),
        _ => return None,
    })
}

fn operator(name: &str, operand: &Json) -> Result<Op, String> {
    let kind = operator_kind(name).ok_or_else(|| format!("unknown operator '{name}'"))?;
    Ok(match kind {
        Kind::String(c, true) | Kind::Numeric(c, true) | Kind::Timestamp(c, true) => {
            let path = path_operand(name, operand)?;
            match kind {
                Kind::String(..) => Op::String(c, Operand::Path(path)),
                Kind::Numeric(..) => Op::Numeric(c, Operand::Path(path)),
                _ => Op::Timestamp(c, Operand::Path(path)),
            }
        }
        Kind::Boolean(true) => Op::Boolean(Operand::Path(path_operand(name, operand)?)),
        Kind::String(c, false) => Op::String(c, Operand::Literal(Str::from(expect_str(name, operand)?))),
        Kind::StringMatches => Op::StringMatches(Pattern::new(expect_str(name, operand)?)),
        Kind::Numeric(c, false) => match operand {
            Json::Number(n) => Op::Numeric(c, Operand::Literal(Number::from_serde(n))),
            other => return Err(format!("'{name}' must be a number, not {}", json_type(other))),
        },
        Kind::Boolean(false) => Op::Boolean(Operand::Literal(expect_bool(name, operand)?)),
        Kind::Timestamp(c, false) => {
            Op::Timestamp(c, Operand::Literal(Timestamp::parse(expect_str(name, operand)?)))
        }
        Kind::Is(make) => make(expect_bool(name, operand)?),
    })
}

fn path_operand(name: &str, operand: &Json) -> Result<Box<Path>, String> {
    parse_path(name, expect_str(name, operand)?).map(Box::new)
}

fn parse_path(field: &str, text: &str) -> Result<Path, String> {
    Path::parse(text).map_err(|e| format!("'{field}' is not a valid path ({text}): {e}"))
}

fn expect_str<'a>(name: &str, v: &'a Json) -> Result<&'a str, String> {
    v.as_str().ok_or_else(|| format!("'{name}' must be a string, not {}", json_type(v)))
}

fn expect_bool(name: &str, v: &Json) -> Result<bool, String> {
    v.as_bool().ok_or_else(|| format!("'{name}' must be a boolean, not {}", json_type(v)))
}

fn json_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}
