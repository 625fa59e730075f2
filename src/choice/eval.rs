//! Evaluating a compiled Choice rule against the data.
//!
//! Owns: the run-time semantics of every operator, and the one runtime error Choice rules raise.
//!
//! Semantics (AWS, as the recorded conformance cases show):
//! - A type mismatch is `false`, never an error: `StringEquals` on a number, `NumericEquals` on
//!   a string, `BooleanEquals` on `0`, a `…Path` operand of the wrong type, a `Timestamp*`
//!   operand (either side) that is not a valid timestamp string.
//! - `NumericEquals` compares across integer and float (`1 == 1.0`).
//! - Strings compare code point by code point (Rust's `str` ordering is UTF-8 byte order, which
//!   is code-point order). Note: Java's `String.compareTo` orders UTF-16 code units, which
//!   differs only between supplementary characters and U+E000..U+FFFF; the brief specifies code
//!   points and no recorded case distinguishes them.
//! - `IsPresent` is the only operator that tolerates a `Variable` that selects nothing.
//!   Every other operator raises `States.Runtime` with
//!   `Invalid path '<Variable>': The choice state's condition path references an invalid value.`
//!   and a `…Path` operand that selects nothing raises the same cause naming that path.
//!   (No case in our corpus exercises this; the wording is AWS's as reported by several
//!   independent emulators' tests. The `Variable` is resolved first, so when both miss, the
//!   cause names the `Variable`.)
//! - `And`/`Or` short-circuit left to right, so a later child's error is not raised once the
//!   outcome is decided.

use super::{Cmp, Node, Op, Operand, Test};
use crate::error::AslError;
use crate::jsonpath::{Path, Roots};
use crate::timestamp::Timestamp;
use crate::value::Value;
use std::cmp::Ordering;

pub(super) fn node(node: &Node, roots: &dyn Roots) -> Result<bool, AslError> {
    match node {
        Node::And(children) => {
            for child in children {
                if !self::node(child, roots)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Node::Or(children) => {
            for child in children {
                if self::node(child, roots)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Node::Not(child) => Ok(!self::node(child, roots)?),
        Node::Test(test) => data_test(test, roots),
    }
}

fn invalid_path(path: &Path) -> AslError {
    AslError::runtime(format!(
        "Invalid path '{}': The choice state's condition path references an invalid value.",
        path.source()
    ))
}

fn data_test(test: &Test, roots: &dyn Roots) -> Result<bool, AslError> {
    let value = match (test.variable.resolve(roots), &test.op) {
        (Ok(v), _) => v,
        (Err(_), Op::IsPresent(want)) => return Ok(!*want),
        (Err(_), _) => return Err(invalid_path(&test.variable)),
    };
    Ok(match &test.op {
        // The variable selected something, so it is present.
        Op::IsPresent(want) => *want,
        Op::IsNull(want) => value.is_null() == *want,
        Op::IsNumeric(want) => matches!(value, Value::Number(_)) == *want,
        Op::IsString(want) => matches!(value, Value::String(_)) == *want,
        Op::IsBoolean(want) => matches!(value, Value::Bool(_)) == *want,
        Op::IsTimestamp(want) => as_timestamp(&value).is_some() == *want,
        Op::StringMatches(pattern) => value.as_str().is_some_and(|s| pattern.matches(s)),
        Op::String(cmp, operand) => {
            let rhs = operand_value(operand, roots, |s| Value::String(s.clone()))?;
            match (value.as_str(), rhs.as_str()) {
                (Some(a), Some(b)) => holds(*cmp, a.cmp(b)),
                _ => false,
            }
        }
        Op::Numeric(cmp, operand) => {
            let rhs = operand_value(operand, roots, |n| Value::Number(*n))?;
            match (value.as_number(), rhs.as_number()) {
                (Some(a), Some(b)) => holds(*cmp, a.cmp_numeric(b)),
                _ => false,
            }
        }
        Op::Boolean(operand) => {
            let rhs = operand_value(operand, roots, |b| Value::Bool(*b))?;
            match (value.as_bool(), rhs.as_bool()) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            }
        }
        Op::Timestamp(cmp, operand) => {
            let rhs = match operand {
                Operand::Literal(t) => *t,
                Operand::Path(p) => as_timestamp(&p.resolve(roots).map_err(|_| invalid_path(p))?),
            };
            match (as_timestamp(&value), rhs) {
                (Some(a), Some(b)) => holds(*cmp, a.cmp(&b)),
                _ => false,
            }
        }
    })
}

/// The operand as a [`Value`]: literals are wrapped (cheap: strings are `Arc`-shared), paths
/// are resolved, and a path that selects nothing is AWS's "Invalid path" runtime error.
fn operand_value<T>(
    operand: &Operand<T>,
    roots: &dyn Roots,
    wrap: impl Fn(&T) -> Value,
) -> Result<Value, AslError> {
    match operand {
        Operand::Literal(lit) => Ok(wrap(lit)),
        Operand::Path(p) => p.resolve(roots).map_err(|_| invalid_path(p)),
    }
}

fn as_timestamp(v: &Value) -> Option<Timestamp> {
    v.as_str().and_then(Timestamp::parse)
}

fn holds(cmp: Cmp, ord: Ordering) -> bool {
    match cmp {
        Cmp::Eq => ord == Ordering::Equal,
        Cmp::Lt => ord == Ordering::Less,
        Cmp::Gt => ord == Ordering::Greater,
        Cmp::Le => ord != Ordering::Greater,
        Cmp::Ge => ord != Ordering::Less,
    }
}
