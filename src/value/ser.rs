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

/// Writes `s` as a JSON string literal. Runs of plain bytes are found a word at a time and
/// copied at once: result lines and outputs are mostly long plain strings (ARNs, ids).
pub fn write_string(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        i += plain_run(bytes.get(i..).unwrap_or(&[]));
        let Some(&b) = bytes.get(i) else { break };
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            // A plain byte where the word test stopped early (see `plain_run`).
            _ => {
                i += 1;
                continue;
            }
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
        i += 1;
        start = i;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Length of the leading run of bytes that need no attention inside a JSON string (not `"`, `\\`
/// or a control character), eight bytes at a time. It may stop early at a plain byte (a space
/// right after some UTF-8 continuation bytes looks like a control character to the word trick);
/// callers treat a plain byte there as plain and go on.
#[inline]
pub(crate) fn plain_run(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let mut n = 0;
    while let Some(chunk) = bytes.get(n..n + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        // A byte below 0x20, or equal to '"' or '\\', stops the run. Bytes >= 0x80 (UTF-8)
        // are plain; `x & !HIGHS` keeps them from looking small.
        let small = (x & !HIGHS).wrapping_sub(ONES * 0x20) & !x & HIGHS;
        let stop = small | has_zero(x ^ (ONES * u64::from(b'"'))) | has_zero(x ^ (ONES * u64::from(b'\\')));
        if stop != 0 {
            // The lowest flagged byte is the first byte that stops the run.
            return n + (stop.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    n + bytes.get(n..).unwrap_or(&[]).iter().position(|&c| c < 0x20 || c == b'"' || c == b'\\').unwrap_or(bytes.len() - n)
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_runs_stop_at_quotes_escapes_and_control_characters() {
        assert_eq!(plain_run(b"abcdefghijklmnop\"x"), 16);
        assert_eq!(plain_run(b"abcdefg\"hijklmnop"), 7);
        assert_eq!(plain_run(b"abcdefgh\\ijklmnop"), 8);
        assert_eq!(plain_run(b"abcdefghi\x1fjklmnopqrst"), 9);
        assert_eq!(plain_run(b"abc"), 3);
        assert_eq!(plain_run(b"ab\"c"), 2);
        // Never past a byte that stops the run, and never stops at a plain byte except a space
        // after a byte in 0x80..0xa0.
        for b in 0u8..=255 {
            for at in 0..12 {
                let mut s = [b'a'; 12];
                s[at] = b;
                let stops = b < 0x20 || b == b'"' || b == b'\\';
                assert_eq!(plain_run(&s) == at, stops, "byte {b} at {at}");
            }
        }
        assert_eq!(plain_run("é é\"".as_bytes()), 5);
        assert!(plain_run(b"\xc2\x80 aaaaa\"") <= 8);
    }

    /// The escaping rules one character at a time: the reference for [`write_string`].
    fn escaped_char_by_char(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    #[test]
    fn strings_are_escaped_as_jackson_does() {
        for s in ["", "plain", "a\"b\\c/d", "\u{1}\u{1f}\u{7f}", "é \u{80} aaaaaaaa\"", "arn:aws:states:us-east-1:123456789012:x\n"] {
            let mut out = String::new();
            write_string(s, &mut out);
            assert_eq!(out, escaped_char_by_char(s), "{s:?}");
        }
    }

    proptest! {
        #[test]
        fn write_string_matches_the_reference(s in "(\\PC|[\"\\\\\\x00-\\x1f ]){0,40}") {
            let mut out = String::from("x");
            write_string(&s, &mut out);
            prop_assert_eq!(out, format!("x{}", escaped_char_by_char(&s)));
        }
    }
}
