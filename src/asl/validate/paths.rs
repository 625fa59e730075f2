//! Syntax of JSONPath fields, intrinsic calls and timestamps, as far as definition-time
//! validation needs it.
//!
//! Invariants: checks are deliberately permissive (Jayway accepts far more than the ASL spec
//! describes, e.g. `$.destroy-status` is accepted by AWS). A *reference path* is a path with only
//! member and index steps (no `*`, `..`, filters, unions or slices). The full path grammar lives in
//! `crate::jsonpath`; `path_syntax_ok` is the one place to switch over to it once it is
//! implemented (branch `h-jsonpath`); `path_syntax_ok` also requires `crate::jsonpath::Path::parse`
//! to accept the text.

/// What a field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PathRule {
    /// Any Path (`InputPath`, `OutputPath`, `Variable`, comparator `…Path`, `.$` values).
    Path,
    /// A Reference Path; `allow_context` says whether `$$…` is accepted.
    Reference { allow_context: bool },
}

/// The 18 intrinsic functions AWS supports (`States.` prefix).
const INTRINSIC_FUNCTIONS: &[&str] = &[
    "Format", "StringToJson", "JsonToString", "Array", "ArrayPartition", "ArrayContains",
    "ArrayRange", "ArrayGetItem", "ArrayLength", "ArrayUnique", "Base64Encode", "Base64Decode",
    "Hash", "JsonMerge", "MathRandom", "MathAdd", "StringSplit", "UUID",
];

pub(super) fn path_syntax_ok(text: &str, rule: PathRule) -> bool {
    if !text.starts_with('$') || !brackets_balanced(text) {
        return false;
    }
    // The engine's own parser (the Jayway dialect) must accept what validation accepts, or a
    // definition would pass here and fail to compile.
    if crate::jsonpath::Path::parse(text).is_err() {
        return false;
    }
    match rule {
        PathRule::Path => true,
        PathRule::Reference { allow_context } => {
            if text.starts_with("$$") && !allow_context {
                return false;
            }
            is_reference_path(text)
        }
    }
}

/// Brackets and quotes pair up (outside quotes).
fn brackets_balanced(text: &str) -> bool {
    crate::jsonpath::bracket_nesting(text).is_some()
}

/// Only member (`.name`, `['name']`) and index (`[3]`) steps after the root.
fn is_reference_path(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    // Root: `$`, `$$`, or `$name` (a variable).
    let mut i = 1;
    if chars.get(1) == Some(&'$') {
        i = 2;
    } else {
        while chars.get(i).is_some_and(|c| !matches!(c, '.' | '[')) {
            i += 1;
        }
    }
    while i < chars.len() {
        match chars.get(i) {
            Some('.') => {
                i += 1;
                let start = i;
                while chars.get(i).is_some_and(|c| !matches!(c, '.' | '[')) {
                    if matches!(chars.get(i), Some('*' | '@' | '?' | '(' | ')' | ',')) {
                        return false;
                    }
                    i += 1;
                }
                if i == start {
                    // `..` deep scan or a trailing dot.
                    return false;
                }
            }
            Some('[') => {
                i += 1;
                match chars.get(i) {
                    Some(&q @ ('\'' | '"')) => {
                        i += 1;
                        let mut escaped = false;
                        loop {
                            match chars.get(i) {
                                None => return false,
                                Some('\\') if !escaped => escaped = true,
                                Some(&c) if c == q && !escaped => break,
                                Some(_) => escaped = false,
                            }
                            i += 1;
                        }
                        i += 1;
                    }
                    // Negative indices (`[-1]`) are single-node in Jayway too.
                    Some(c) if c.is_ascii_digit() || *c == '-' => {
                        i += 1;
                        while chars.get(i).is_some_and(|c| c.is_ascii_digit()) {
                            i += 1;
                        }
                    }
                    _ => return false,
                }
                if chars.get(i) != Some(&']') {
                    return false;
                }
                i += 1;
            }
            _ => return false,
        }
    }
    true
}

/// Whether a `.$` value is meant as an intrinsic call rather than a path.
pub(super) fn looks_like_intrinsic(text: &str) -> bool {
    text.trim_start().starts_with("States.")
}

/// A structural check of an intrinsic call: a known `States.X(` … `)` with balanced quotes and
/// parentheses, nested calls checked by name too. Argument types are a runtime matter.
pub(super) fn intrinsic_syntax_ok(text: &str) -> bool {
    let text = text.trim();
    let Some(open) = text.find('(') else { return false };
    let name = text.get(..open).unwrap_or_default().trim();
    let Some(function) = name.strip_prefix("States.") else { return false };
    if !INTRINSIC_FUNCTIONS.contains(&function) || !text.ends_with(')') {
        return false;
    }
    // Walk the arguments: quotes may hold anything (with `\` escapes); outside quotes every
    // nested call must also be a known intrinsic.
    let chars: Vec<char> = text.chars().collect();
    let mut depth = 0i32;
    let mut in_quote = false;
    let mut escaped = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars.get(i).copied().unwrap_or_default();
        if in_quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '\'' {
                in_quote = false;
            }
        } else {
            match c {
                '\'' => in_quote = true,
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth < 0 {
                        return false;
                    }
                    if depth == 0 && i + 1 != chars.len() {
                        return false;
                    }
                }
                // A nested call starts an argument: after `(` or `,` (spaces aside). Paths such
                // as `$.States.x` also contain `States.` and must not be taken for calls.
                'S' if depth > 0 && starts_argument(&chars, i) => {
                    let rest: String = chars.get(i..).unwrap_or_default().iter().collect();
                    if let Some(after) = rest.strip_prefix("States.") {
                        let nested: String = after.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
                        if !INTRINSIC_FUNCTIONS.contains(&nested.as_str()) {
                            return false;
                        }
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    depth == 0 && !in_quote
}

fn starts_argument(chars: &[char], index: usize) -> bool {
    let before = chars.get(..index).unwrap_or_default();
    matches!(before.iter().rev().find(|c| !c.is_whitespace()), Some('(' | ','))
}

/// RFC 3339 as AWS requires: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`, uppercase `T` and `Z`.
pub(super) fn is_rfc3339_timestamp(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| b.get(range).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    if b.len() < 20
        || !digits(0..4)
        || b.get(4) != Some(&b'-')
        || !digits(5..7)
        || b.get(7) != Some(&b'-')
        || !digits(8..10)
        || b.get(10) != Some(&b'T')
        || !digits(11..13)
        || b.get(13) != Some(&b':')
        || !digits(14..16)
        || b.get(16) != Some(&b':')
        || !digits(17..19)
    {
        return false;
    }
    let number = |range: std::ops::Range<usize>| {
        text.get(range).and_then(|s| s.parse::<u32>().ok()).unwrap_or(u32::MAX)
    };
    let (month, day, hour, minute, second) = (number(5..7), number(8..10), number(11..13), number(14..16), number(17..19));
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return false;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match b.get(i) {
        Some(b'Z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            i + 6 == b.len()
                && digits(i + 1..i + 3)
                && b.get(i + 3) == Some(&b':')
                && digits(i + 4..i + 6)
        }
        _ => false,
    }
}

/// Variable names in `Assign`: a Unicode identifier (approximated with alphabetic/alphanumeric
/// classes) of at most 80 characters.
pub(super) fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else { return false };
    (first.is_alphabetic() || first == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
        && name.chars().count() <= 80
}
