//! The 18 intrinsic functions over evaluated argument values.
//!
//! Each function checks its argument count and types and returns the value, or a
//! `States.IntrinsicFailure` cause. Behaviour confirmed by recorded AWS cases is noted at each
//! function; where no case exists, the choice follows the AWS developer guide and is commented.


use base64::Engine as _;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::Function;
use crate::jsonpath::java_to_string;
use crate::value::{Map, Number, Str, Value};

/// A failure's cause text (the caller wraps it as `States.IntrinsicFailure`).
pub(crate) type Failure = String;

/// AWS's input limit for Base64Encode/Base64Decode/Hash (developer guide: 10,000 characters).
const MAX_TEXT_CHARS: usize = 10_000;
/// AWS's limit on the number of elements ArrayRange may produce.
const MAX_RANGE_ELEMENTS: usize = 1000;

/// One evaluated argument; `format_raw` keeps a literal string's escapes for Format.
pub(crate) struct ArgValue {
    pub(crate) value: Value,
    pub(crate) format_raw: Option<Str>,
}

pub(crate) fn call(function: Function, args: &[ArgValue]) -> Result<Value, Failure> {
    let name = function.name();
    let values: Vec<&Value> = args.iter().map(|a| &a.value).collect();
    let expect = |n: usize| -> Result<(), Failure> {
        if values.len() == n {
            Ok(())
        } else {
            Err(format!("Function {name} expects {n} argument(s) but {} were given", values.len()))
        }
    };
    match function {
        Function::Format => format(args),
        Function::StringToJson => {
            expect(1)?;
            let text = string_arg(name, values[0], 1)?;
            // Recorded (test_string_to_json): "" and " " give null; "-0" gives 0.
            if text.trim().is_empty() {
                return Ok(Value::Null);
            }
            let parsed = crate::value::parse_str(text)
                .map_err(|e| format!("Function {name} could not parse '{text}' as JSON: {e}"))?;
            // Jackson reads the integer text `-0` as the integer 0; our value parser yields the
            // float -0.0 (prints "-0.0"), so restore AWS's answer for a top-level `-0`.
            match parsed {
                Value::Number(Number::Float(f)) if f == 0.0 && !text.contains(['.', 'e', 'E']) => Ok(Value::from(0i64)),
                other => Ok(other),
            }
        }
        Function::JsonToString => {
            expect(1)?;
            // Recorded (test_json_to_string): compact JSON; a string comes back quoted.
            Ok(Value::from(values[0].to_json()))
        }
        Function::Array => Ok(Value::array(values.iter().map(|v| (*v).clone()).collect())),
        Function::ArrayPartition => {
            expect(2)?;
            let items = array_arg(name, values[0], 1)?;
            let size = integer_arg(name, values[1], 2)?;
            if size <= 0 {
                return Err(format!("Function {name} expects a chunk size greater than 0, got {size}"));
            }
            let size = usize::try_from(size).unwrap_or(usize::MAX);
            Ok(Value::array(items.chunks(size).map(|c| Value::array(c.to_vec())).collect()))
        }
        Function::ArrayContains => {
            expect(2)?;
            let items = array_arg(name, values[0], 1)?;
            Ok(Value::Bool(items.iter().any(|v| java_equals(v, values[1]))))
        }
        Function::ArrayRange => {
            expect(3)?;
            let start = integer_arg(name, values[0], 1)?;
            let end = integer_arg(name, values[1], 2)?;
            let step = integer_arg(name, values[2], 3)?;
            array_range(name, start, end, step)
        }
        Function::ArrayGetItem => {
            expect(2)?;
            let items = array_arg(name, values[0], 1)?;
            let index = integer_arg(name, values[1], 2)?;
            usize::try_from(index)
                .ok()
                .and_then(|i| items.get(i))
                .cloned()
                .ok_or_else(|| format!("Function {name}: index {index} is out of bounds for an array of length {}", items.len()))
        }
        Function::ArrayLength => {
            expect(1)?;
            Ok(Value::from(array_arg(name, values[0], 1)?.len() as i64))
        }
        Function::ArrayUnique => {
            expect(1)?;
            let items = array_arg(name, values[0], 1)?;
            let mut unique: Vec<Value> = Vec::with_capacity(items.len());
            for item in items {
                if !unique.iter().any(|u| java_equals(u, item)) {
                    unique.push(item.clone());
                }
            }
            Ok(Value::array(unique))
        }
        Function::Base64Encode => {
            expect(1)?;
            let text = limited_string_arg(name, values[0])?;
            Ok(Value::from(base64::engine::general_purpose::STANDARD.encode(text.as_bytes())))
        }
        Function::Base64Decode => {
            expect(1)?;
            let text = limited_string_arg(name, values[0])?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text.as_bytes())
                .map_err(|_| format!("Function {name}: the input is not valid Base64: '{text}'"))?;
            String::from_utf8(bytes)
                .map(Value::from)
                .map_err(|_| format!("Function {name}: the decoded data is not valid UTF-8 text"))
        }
        Function::Hash => {
            expect(2)?;
            // Non-string data is hashed as its JSON text (the guide: "the data to hash").
            let data = match values[0] {
                Value::String(s) => s.to_string(),
                Value::Null => return Err(format!("Function {name} expects a value to hash, got null")),
                other => other.to_json(),
            };
            if data.chars().count() > MAX_TEXT_CHARS {
                return Err(format!("Function {name}: the input exceeds the maximum of {MAX_TEXT_CHARS} characters"));
            }
            let algorithm = string_arg(name, values[1], 2)?;
            let digest: Vec<u8> = match algorithm {
                "MD5" => Md5::digest(data.as_bytes()).to_vec(),
                "SHA-1" => Sha1::digest(data.as_bytes()).to_vec(),
                "SHA-256" => Sha256::digest(data.as_bytes()).to_vec(),
                "SHA-384" => Sha384::digest(data.as_bytes()).to_vec(),
                "SHA-512" => Sha512::digest(data.as_bytes()).to_vec(),
                other => {
                    return Err(format!(
                        "Function {name}: unsupported hash algorithm '{other}'; supported are MD5, SHA-1, SHA-256, SHA-384, SHA-512"
                    ))
                }
            };
            Ok(Value::from(hex(&digest)))
        }
        Function::JsonMerge => {
            expect(3)?;
            let left = object_arg(name, values[0], 1)?;
            let right = object_arg(name, values[1], 2)?;
            match values[2] {
                Value::Bool(false) => Ok(json_merge_shallow(left, right)),
                // The guide: deep merging is not supported; AWS only accepts `false`.
                Value::Bool(true) => Err(format!("Function {name}: deep merge (true) is not supported, use false")),
                other => Err(format!("Function {name} expects a boolean as argument 3, got {}", other.type_name())),
            }
        }
        Function::MathRandom => {
            if values.len() != 2 && values.len() != 3 {
                return Err(format!("Function {name} expects 2 or 3 argument(s) but {} were given", values.len()));
            }
            let start = integer_arg(name, values[0], 1)?;
            let end = integer_arg(name, values[1], 2)?;
            let seed = match values.get(2) {
                Some(v) => Some(integer_arg(name, v, 3)?),
                None => None,
            };
            math_random(name, start, end, seed)
        }
        Function::MathAdd => {
            expect(2)?;
            // Recorded (BASE_REFERENCE_IN_ITERATOR_OUTER_SCOPE): AWS adds a non-integral number
            // (4.3) without failing; like the JVM's Math.round, it is rounded half up first.
            let a = rounded_integer_arg(name, values[0], 1)?;
            let b = rounded_integer_arg(name, values[1], 2)?;
            a.checked_add(b).map(Value::from).ok_or_else(|| format!("Function {name}: the sum overflows"))
        }
        Function::StringSplit => {
            expect(2)?;
            let text = string_arg(name, values[0], 1)?;
            let delimiters = string_arg(name, values[1], 2)?;
            // Recorded (test_string_split): every character of the delimiter string splits, and
            // empty parts are dropped (",,,," → [], ".+,=" splits on each of the four).
            let parts = text
                .split(|c: char| delimiters.contains(c))
                .filter(|p| !p.is_empty())
                .map(Value::from)
                .collect();
            Ok(Value::array(parts))
        }
        Function::Uuid => {
            expect(0)?;
            Ok(Value::from(crate::ids::uuid_v4()))
        }
    }
}

fn type_error(name: &str, position: usize, wanted: &str, got: &Value) -> Failure {
    format!("Function {name} expects {wanted} as argument {position}, got {}", got.type_name())
}

fn string_arg<'a>(name: &str, v: &'a Value, position: usize) -> Result<&'a str, Failure> {
    v.as_str().ok_or_else(|| type_error(name, position, "a string", v))
}

fn limited_string_arg<'a>(name: &str, v: &'a Value) -> Result<&'a str, Failure> {
    let text = string_arg(name, v, 1)?;
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(format!("Function {name}: the input exceeds the maximum of {MAX_TEXT_CHARS} characters"));
    }
    Ok(text)
}

fn array_arg<'a>(name: &str, v: &'a Value, position: usize) -> Result<&'a Vec<Value>, Failure> {
    v.as_array().ok_or_else(|| type_error(name, position, "an array", v))
}

fn object_arg<'a>(name: &str, v: &'a Value, position: usize) -> Result<&'a Map, Failure> {
    v.as_object().ok_or_else(|| type_error(name, position, "a JSON object", v))
}

/// An integer argument; an integral float such as `2.0` is accepted as the integer it holds.
fn integer_arg(name: &str, v: &Value, position: usize) -> Result<i64, Failure> {
    match v {
        Value::Number(Number::Int(i)) => Ok(*i),
        Value::Number(Number::Float(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(*f as i64),
        _ => Err(type_error(name, position, "an integer", v)),
    }
}

/// A number rounded half up to an integer (Java's `Math.round`); non-numbers are errors.
fn rounded_integer_arg(name: &str, v: &Value, position: usize) -> Result<i64, Failure> {
    match v {
        Value::Number(Number::Float(f)) if f.is_finite() && f.abs() < 9.0e15 => Ok((f + 0.5).floor() as i64),
        _ => integer_arg(name, v, position),
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

/// Jackson `JsonNode.equals`: like JSON equality, but an integer never equals a float.
fn java_equals(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.is_integer() == y.is_integer() && x == y,
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| java_equals(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| java_equals(v, w)))
        }
        _ => a == b,
    }
}

/// `States.Format`: `{}` placeholders (not `\{`/`\}`) take the remaining args in order.
/// Values print as Java's `String.valueOf`: strings raw, numbers Java-style, `null`, objects
/// as `{a=1}` (recorded: test_format_2__exec_hist_resp_7, test_context_json_path).
fn format(args: &[ArgValue]) -> Result<Value, Failure> {
    let name = Function::Format.name();
    let Some((template_arg, rest)) = args.split_first() else {
        return Err(format!("Function {name} expects at least 1 argument(s) but 0 were given"));
    };
    let raw: &str = match (&template_arg.format_raw, &template_arg.value) {
        (Some(raw), _) => raw,
        (None, Value::String(s)) => s,
        (None, other) => return Err(type_error(name, 1, "a string", other)),
    };
    let mut out = String::with_capacity(raw.len() + 16);
    let mut next_arg = 0usize;
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if template_arg.format_raw.is_some() => {
                if let Some(escaped) = chars.next() {
                    out.push(escaped);
                }
            }
            '{' if chars.peek() == Some(&'}') => {
                chars.next();
                let Some(arg) = rest.get(next_arg) else {
                    return Err(format!(
                        "Function {name}: the format string has more placeholders than the {} argument(s) given",
                        rest.len()
                    ));
                };
                out.push_str(&java_to_string(&arg.value));
                next_arg += 1;
            }
            other => out.push(other),
        }
    }
    if next_arg != rest.len() {
        return Err(format!(
            "Function {name}: the format string has {next_arg} placeholder(s) but {} argument(s) were given",
            rest.len()
        ));
    }
    Ok(Value::from(out))
}

/// Inclusive range `start, start+step, …` up to `end` (guide: `States.ArrayRange(1, 9, 2)` →
/// `[1,3,5,7,9]`); at most 1000 elements; a step of 0 is an error. A step pointing away from
/// `end` gives `[]`.
fn array_range(name: &str, start: i64, end: i64, step: i64) -> Result<Value, Failure> {
    if step == 0 {
        return Err(format!("Function {name}: the step must not be 0"));
    }
    let span = i128::from(end) - i128::from(start);
    let count = if (span >= 0) == (step > 0) || span == 0 { span / i128::from(step) + 1 } else { 0 };
    if count > MAX_RANGE_ELEMENTS as i128 {
        return Err(format!("Function {name}: the range has {count} elements, more than the maximum of {MAX_RANGE_ELEMENTS}"));
    }
    let items = (0..count.max(0) as i64).map(|i| Value::from(start + i * step)).collect();
    Ok(Value::array(items))
}

/// `States.MathRandom(start, end[, seed])`: `start + nextInt(end - start)` with Java's
/// `java.util.Random` (so the same seed gives the same number, as the guide promises); start
/// inclusive, end exclusive. No recorded case pins the exact numbers (the seeded case's output
/// is a placeholder), so Java's generator is the closest honest choice.
fn math_random(name: &str, start: i64, end: i64, seed: Option<i64>) -> Result<Value, Failure> {
    // i128: `end - start` cannot overflow for any pair of i64 bounds.
    let bound = i128::from(end) - i128::from(start);
    if end <= start || bound > i128::from(i32::MAX) {
        return Err(format!("Function {name}: the end ({end}) must be greater than the start ({start})"));
    }
    let seed = seed.unwrap_or_else(|| crate::ids::next_u64() as i64);
    let mut random = JavaRandom::new(seed);
    Ok(Value::from(start + i64::from(random.next_int(bound as i32))))
}

/// Java's `java.util.Random` (48-bit LCG), enough for `nextInt(bound)`.
struct JavaRandom(u64);

impl JavaRandom {
    const MULTIPLIER: u64 = 0x5DEE_CE66D;
    const MASK: u64 = (1 << 48) - 1;

    fn new(seed: i64) -> JavaRandom {
        JavaRandom((seed as u64 ^ Self::MULTIPLIER) & Self::MASK)
    }

    fn next(&mut self, bits: u32) -> i32 {
        self.0 = (self.0.wrapping_mul(Self::MULTIPLIER).wrapping_add(0xB)) & Self::MASK;
        (self.0 >> (48 - bits)) as i32
    }

    fn next_int(&mut self, bound: i32) -> i32 {
        let mut r = self.next(31);
        let m = bound - 1;
        if bound & m == 0 {
            return ((i64::from(bound) * i64::from(r)) >> 31) as i32;
        }
        let mut u = r;
        loop {
            r = u % bound;
            if u.wrapping_sub(r).wrapping_add(m) >= 0 {
                return r;
            }
            u = self.next(31);
        }
    }
}

/// Shallow merge, right wins. AWS builds the result in a Java `HashMap`, so keys come out in
/// HashMap iteration order: recorded `test_json_merge_escaped_argument` gives
/// `{"constant_input_field", "constant_in_literal"}` (buckets 1 and 15) and the variables case
/// gives `{"a","b","c","d"}`. We reproduce that order: bucket of Java's `String.hashCode`
/// (spread as HashMap does) in the table size HashMap would reach, then insertion order.
fn json_merge_shallow(left: &Map, right: &Map) -> Value {
    let mut merged: Vec<(Str, Value)> = Vec::with_capacity(left.len() + right.len());
    for (k, v) in left.iter() {
        merged.push((k.clone(), v.clone()));
    }
    for (k, v) in right.iter() {
        match merged.iter_mut().find(|(existing, _)| existing == k) {
            Some(slot) => slot.1 = v.clone(),
            None => merged.push((k.clone(), v.clone())),
        }
    }
    let mut capacity: usize = 16;
    while merged.len() * 4 > capacity * 3 {
        capacity *= 2;
    }
    let mut order: Vec<(usize, usize)> =
        merged.iter().enumerate().map(|(i, (k, _))| (java_hash_bucket(k, capacity), i)).collect();
    order.sort_unstable();
    let mut map = Map::with_capacity(merged.len());
    for (_, i) in order {
        let (k, v) = &merged[i];
        map.insert(k.clone(), v.clone());
    }
    Value::from(map)
}

fn java_hash_bucket(key: &str, capacity: usize) -> usize {
    let mut h: u32 = 0;
    for unit in key.encode_utf16() {
        h = h.wrapping_mul(31).wrapping_add(u32::from(unit));
    }
    let spread = h ^ (h >> 16);
    (spread as usize) & (capacity - 1)
}

#[cfg(test)]
pub(crate) fn java_random_first_int(seed: i64, bound: i32) -> i32 {
    JavaRandom::new(seed).next_int(bound)
}
