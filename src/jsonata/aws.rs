//! AWS Step Functions' additions to JSONata: `$partition`, `$range`, `$hash`, `$random([seed])`,
//! `$uuid`, `$parse`; and the refusal of `$eval`.
//!
//! What is confirmed against AWS and what is inferred is listed in the module docs of
//! `src/jsonata/mod.rs` and in the report; argument checks raise JSONata's signature errors
//! (`T0410`) and range errors (`D3137`-style custom messages) with jsonata-js's wording.

use jsonata_core::evaluator::{Evaluator, EvaluatorError};
use jsonata_core::value::JValue;

use super::convert;

/// Names this module implements (host functions of the crate).
pub const NAMES: &[&str] = &["partition", "range", "hash", "uuid", "parse", "random", "eval"];

/// Registers the AWS functions the expression calls by name. The crate dispatches host
/// functions only from a call by name (a host function cannot be passed as a value), so the
/// others need not be registered; skipping them saves a few allocations per evaluation.
pub fn register(ev: &mut Evaluator, called: &[String]) {
    for name in called.iter().filter(|n| NAMES.contains(&n.as_str())) {
        // None of the first five is a JSONata built-in, so `register_fn` accepts them;
        // `random` and `eval` are (impure, non-compiled) built-ins the crate lets a host replace.
        let _ = match name.as_str() {
            "partition" => ev.register_fn("partition", |a: &[JValue]| partition(a)),
            "range" => ev.register_fn("range", |a: &[JValue]| range(a)),
            "hash" => ev.register_fn("hash", |a: &[JValue]| hash(a)),
            "uuid" => ev.register_fn("uuid", |a: &[JValue]| uuid(a)),
            "parse" => ev.register_fn("parse", |a: &[JValue]| parse(a)),
            "random" => ev.register_fn_override("random", |a: &[JValue]| random(a)),
            _ => ev.register_fn_override("eval", |_: &[JValue]| {
                Err(err(
                    "T1006",
                    "Attempted to invoke a non-function: $eval is not supported by AWS Step Functions (use $parse)",
                ))
            }),
        };
    }
}

fn err(code: &str, message: &str) -> EvaluatorError {
    EvaluatorError::EvaluationError(format!("{code}: {message}"))
}

fn signature(index: usize, function: &str) -> EvaluatorError {
    err("T0410", &format!("Argument {index} of function {function} does not match function signature"))
}

fn arg(a: &[JValue], i: usize) -> &JValue {
    a.get(i).unwrap_or(&JValue::Undefined)
}

/// A number argument truncated toward zero; `None` when absent.
fn int_arg(a: &[JValue], i: usize, function: &str) -> Result<Option<i64>, EvaluatorError> {
    match arg(a, i) {
        JValue::Undefined => Ok(None),
        JValue::Number(f) if f.is_finite() => Ok(Some(f.trunc() as i64)),
        _ => Err(signature(i + 1, function)),
    }
}

fn too_many(a: &[JValue], max: usize, function: &str) -> Result<(), EvaluatorError> {
    if a.len() > max {
        Err(signature(max + 1, function))
    } else {
        Ok(())
    }
}

/// `$partition(array, size)`: consecutive chunks of `size` items, the last one shorter.
fn partition(a: &[JValue]) -> Result<JValue, EvaluatorError> {
    too_many(a, 2, "partition")?;
    let items: Vec<JValue> = match arg(a, 0) {
        JValue::Undefined => return Ok(JValue::Undefined),
        JValue::Array(items) => items.iter().cloned().collect(),
        JValue::Null => {
            return Err(err("T0412", "Argument 1 of function partition must be an array"))
        }
        JValue::Lambda(_) | JValue::Builtin { .. } | JValue::Regex { .. } => {
            return Err(signature(1, "partition"))
        }
        // A single value is an array of one, as JSONata's `a` signature type has it.
        other => vec![other.clone()],
    };
    let size = match int_arg(a, 1, "partition")? {
        None => items.len().max(1),
        Some(n) if n < 0 => return Err(err("D3137", "Second argument must be zero or greater")),
        Some(0) => return Ok(JValue::Undefined),
        Some(n) => n as usize,
    };
    if items.is_empty() {
        return Ok(JValue::Undefined);
    }
    let chunks = items.chunks(size).map(|c| JValue::array(c.to_vec())).collect();
    Ok(JValue::array(chunks))
}

/// Longest array `$range` builds (JSONata's own range operator stops at 10^7 items).
const MAX_RANGE: i128 = 10_000_000;

/// `$range(start, end, step)`: from `start` to `end` inclusive by `step` (all truncated to
/// integers). A step of zero, or one pointing away from `end`, gives undefined.
fn range(a: &[JValue]) -> Result<JValue, EvaluatorError> {
    too_many(a, 3, "range")?;
    let start = int_arg(a, 0, "range")?;
    let end = int_arg(a, 1, "range")?;
    let step = int_arg(a, 2, "range")?;
    let (Some(start), Some(end)) = (start, end) else {
        if start.is_some() {
            return Err(signature(2, "range"));
        }
        return Ok(JValue::Undefined);
    };
    let Some(step) = step else { return Ok(JValue::Undefined) };
    let (start, end, step) = (start as i128, end as i128, step as i128);
    if step == 0 || (step > 0 && start > end) || (step < 0 && start < end) {
        return Ok(JValue::Undefined);
    }
    let count = (end - start) / step + 1;
    if count > MAX_RANGE {
        return Err(err(
            "D2014",
            &format!("The size of the sequence allocated by the range operator (..) must not exceed 1e7.  Attempted to allocate {count}."),
        ));
    }
    let items: Vec<JValue> = (0..count).map(|i| JValue::Number((start + i * step) as f64)).collect();
    // A sequence: one item comes out as that item, as JSONata sequences do.
    Ok(JValue::sequence(items))
}

/// `$hash(value, algorithm)`: hex digest of the UTF-8 bytes.
fn hash(a: &[JValue]) -> Result<JValue, EvaluatorError> {
    use sha2::Digest as _;
    too_many(a, 2, "hash")?;
    let text = match arg(a, 0) {
        JValue::Undefined => return Ok(JValue::Undefined),
        JValue::String(s) => s.clone(),
        _ => return Err(signature(1, "hash")),
    };
    let alg = match arg(a, 1) {
        JValue::Undefined => return Ok(JValue::Undefined),
        JValue::String(s) => s.clone(),
        _ => return Err(signature(2, "hash")),
    };
    let bytes = text.as_bytes();
    let digest: Vec<u8> = match &*alg {
        "MD5" => md5::Md5::digest(bytes).to_vec(),
        "SHA-1" => sha1::Sha1::digest(bytes).to_vec(),
        "SHA-256" => sha2::Sha256::digest(bytes).to_vec(),
        "SHA-384" => sha2::Sha384::digest(bytes).to_vec(),
        "SHA-512" => sha2::Sha512::digest(bytes).to_vec(),
        other => {
            return Err(err(
                "D3137",
                &format!("Unsupported hash algorithm '{other}'. Supported algorithms: MD5, SHA-1, SHA-256, SHA-384, SHA-512"),
            ))
        }
    };
    let mut hex = String::with_capacity(digest.len() * 2);
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    Ok(JValue::string(hex))
}

/// `$uuid()`: a random version-4 UUID.
fn uuid(a: &[JValue]) -> Result<JValue, EvaluatorError> {
    too_many(a, 0, "uuid")?;
    Ok(JValue::string(crate::ids::uuid_v4()))
}

/// `$random([seed])`: a double in [0, 1). With a seed (truncated to an integer) the draw is
/// `java.util.Random(seed).nextDouble()`, so the same seed gives what AWS's Java runtime gives.
fn random(a: &[JValue]) -> Result<JValue, EvaluatorError> {
    too_many(a, 1, "random")?;
    match int_arg(a, 0, "random")? {
        Some(seed) => Ok(JValue::Number(java_random_double(seed))),
        None => Ok(JValue::Number(crate::ids::next_fraction())),
    }
}

/// `new java.util.Random(seed).nextDouble()`.
pub fn java_random_double(seed: i64) -> f64 {
    const MULT: u64 = 0x5DEECE66D;
    const MASK: u64 = (1 << 48) - 1;
    let mut state = (seed as u64 ^ MULT) & MASK;
    let mut next = |bits: u32| -> u64 {
        state = state.wrapping_mul(MULT).wrapping_add(0xB) & MASK;
        state >> (48 - bits)
    };
    let hi = next(26);
    let lo = next(27);
    ((hi << 27) + lo) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// `$parse(jsonString)`: the JSON value the string holds.
fn parse(a: &[JValue]) -> Result<JValue, EvaluatorError> {
    too_many(a, 1, "parse")?;
    let text = match arg(a, 0) {
        JValue::Undefined => return Ok(JValue::Undefined),
        JValue::String(s) => s.clone(),
        _ => return Err(signature(1, "parse")),
    };
    match crate::value::parse_str(&text) {
        Ok(v) => Ok(convert::to_jvalue(&v)),
        Err(e) => Err(err("D3137", &format!("Unable to parse the argument of function parse as JSON: {e}"))),
    }
}
