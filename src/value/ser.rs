//! [`Value`] → JSON text. Escaping follows Jackson's defaults as AWS emits them: `"`, `\` and
//! control characters are escaped (`\n`, `\t`, … or `\u00XX`); `/` and non-ASCII are written as is.

use super::Value;

pub(super) fn write_compact(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => n.write(out),
        Value::String(s) => write_string(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_compact(item, out);
            }
            out.push(']');
        }
        Value::Object(o) => {
            out.push('{');
            for (i, (k, item)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write_compact(item, out);
            }
            out.push('}');
        }
    }
}

pub(super) fn write_pretty(v: &Value, out: &mut String, depth: usize) {
    fn indent(out: &mut String, depth: usize) {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    }
    match v {
        Value::Array(a) if !a.is_empty() => {
            out.push('[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                indent(out, depth + 1);
                write_pretty(item, out, depth + 1);
            }
            indent(out, depth);
            out.push(']');
        }
        Value::Object(o) if !o.is_empty() => {
            out.push('{');
            for (i, (k, item)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                indent(out, depth + 1);
                write_string(k, out);
                out.push_str(": ");
                write_pretty(item, out, depth + 1);
            }
            indent(out, depth);
            out.push('}');
        }
        other => write_compact(other, out),
    }
}

/// Writes `s` as a JSON string literal.
pub fn write_string(s: &str, out: &mut String) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            out.push_str("\\u00");
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Byte length of [`write_compact`]'s output, computed without building it.
pub(super) fn compact_len(v: &Value) -> usize {
    match v {
        Value::Null => 4,
        Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(crate::value::Number::Int(i)) => itoa::Buffer::new().format(*i).len(),
        Value::Number(crate::value::Number::UInt(u)) => itoa::Buffer::new().format(*u).len(),
        Value::Number(n) => {
            let mut s = String::new();
            n.write(&mut s);
            s.len()
        }
        Value::String(s) => string_len(s),
        Value::Array(a) => 2 + a.len().saturating_sub(1) + a.iter().map(compact_len).sum::<usize>(),
        Value::Object(o) => {
            2 + o.len().saturating_sub(1)
                + o.iter().map(|(k, v)| string_len(k) + 1 + compact_len(v)).sum::<usize>()
        }
    }
}

fn string_len(s: &str) -> usize {
    2 + s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0x00..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

/// A cheap upper bound of [`compact_len`]: every string counted as if each byte needed a
/// six-byte escape, every number as 25 bytes. Formats nothing.
/// (Saturating: shared subtrees are counted once per reference.)
pub(super) fn compact_len_upper_bound(v: &Value) -> usize {
    match v {
        Value::Array(a) => a.iter().fold(2 + a.len(), |acc, x| acc.saturating_add(member_upper_bound(x))),
        Value::Object(o) => o.iter().fold(2 + o.len(), |acc, (k, x)| acc.saturating_add(3 + 6 * k.len()).saturating_add(member_upper_bound(x))),
        leaf => member_upper_bound(leaf),
    }
}

/// Leaves answered in place, without a call: most members of an event are leaves.
#[inline(always)]
fn member_upper_bound(v: &Value) -> usize {
    match v {
        Value::Null | Value::Bool(_) => 5,
        Value::Number(_) => 25,
        Value::String(s) => 2 + 6 * s.len(),
        Value::Array(_) | Value::Object(_) => compact_len_upper_bound(v),
    }
}
