//! String matchers: equals-ignore-case (also as prefix and suffix), wildcards, and the quoting
//! rules behind prefix and suffix.
//!
//! event-ruler matches strings as the UTF-8 bytes of the value *with its JSON quotes*:
//! `{"prefix": "ab"}` is the byte prefix `"ab` of `"abc"`. The quotes only show when a pattern
//! itself contains a quote character, so [`quoted_prefix`] and [`quoted_suffix`] answer the
//! question on the quoted form without building it.
//!
//! equals-ignore-case works per Java `char` (UTF-16 unit) of the pattern: each unit matches
//! the UTF-8 bytes of its own `toLowerCase(Locale.ROOT)` or `toUpperCase(Locale.ROOT)`, which may
//! be longer (`ß` → `SS`), and never the unit itself when neither mapping gives it back (the
//! title-case `ǅ`). The event value is not folded. A unit that is half of a surrogate pair
//! becomes `?`, as Java's UTF-8 encoder writes a lone surrogate.

/// A compiled equals-ignore-case pattern: one set of alternatives per pattern unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caseless {
    /// All pattern units are ASCII: then `folded` (ASCII lower-case) is the whole story.
    ascii: bool,
    folded: Box<str>,
    alternatives: Box<[Alternatives]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Alternatives(Box<[Box<[u8]>]>);

impl Caseless {
    pub fn new(pattern: &str) -> Caseless {
        let ascii = pattern.is_ascii();
        let mut alternatives = Vec::with_capacity(pattern.len());
        for c in pattern.chars() {
            if c.len_utf16() == 2 {
                alternatives.push(Alternatives(Box::new([Box::from(&b"?"[..])])));
                alternatives.push(Alternatives(Box::new([Box::from(&b"?"[..])])));
                continue;
            }
            let lower: String = c.to_lowercase().collect();
            let upper: String = c.to_uppercase().collect();
            let mut alts: Vec<Box<[u8]>> = vec![lower.into_bytes().into()];
            if upper.as_bytes() != &*alts[0] {
                alts.push(upper.into_bytes().into());
            }
            alternatives.push(Alternatives(alts.into()));
        }
        Caseless { ascii, folded: pattern.to_ascii_lowercase().into(), alternatives: alternatives.into() }
    }

    /// The ASCII lower-case form, when the pattern is all ASCII (the key the matcher indexes).
    pub fn ascii_key(&self) -> Option<&str> {
        self.ascii.then_some(&*self.folded)
    }

    /// Whether the whole value matches.
    pub fn matches(&self, value: &str) -> bool {
        if self.ascii {
            return value.eq_ignore_ascii_case(&self.folded);
        }
        self.ends_at(value.as_bytes(), 0).contains(&value.len())
    }

    /// Whether the value, in its quoted form, starts with the quoted pattern (`"` + pattern).
    pub fn is_prefix_of(&self, value: &str) -> bool {
        let quoted = quote(value);
        !self.ends_at(&quoted, 1).is_empty()
    }

    /// Whether the value, in its quoted form, ends with the quoted pattern (pattern + `"`).
    pub fn is_suffix_of(&self, value: &str) -> bool {
        let quoted = quote(value);
        let body = &quoted[..quoted.len() - 1];
        (0..=body.len()).any(|start| self.ends_at(body, start).contains(&body.len()))
    }

    /// Every offset in `bytes` at which the pattern, matched from `start`, can end.
    fn ends_at(&self, bytes: &[u8], start: usize) -> Vec<usize> {
        let mut positions = vec![start];
        for alts in self.alternatives.iter() {
            let mut next = Vec::with_capacity(positions.len());
            for &p in &positions {
                for alt in alts.0.iter() {
                    if bytes.get(p..p + alt.len()) == Some(&alt[..]) && !next.contains(&(p + alt.len())) {
                        next.push(p + alt.len());
                    }
                }
            }
            if next.is_empty() {
                return next;
            }
            positions = next;
        }
        positions
    }
}

fn quote(value: &str) -> Vec<u8> {
    let mut q = Vec::with_capacity(value.len() + 2);
    q.push(b'"');
    q.extend_from_slice(value.as_bytes());
    q.push(b'"');
    q
}

/// `"pattern` is a prefix of `"value"`.
pub fn quoted_prefix(value: &str, pattern: &str) -> bool {
    if pattern.len() <= value.len() {
        value.as_bytes().starts_with(pattern.as_bytes())
    } else {
        pattern.len() == value.len() + 1 && pattern.ends_with('"') && pattern.as_bytes().starts_with(value.as_bytes())
    }
}

/// `pattern"` is a suffix of `"value"`.
pub fn quoted_suffix(value: &str, pattern: &str) -> bool {
    if pattern.len() <= value.len() {
        value.as_bytes().ends_with(pattern.as_bytes())
    } else {
        pattern.len() == value.len() + 1 && pattern.starts_with('"') && pattern.as_bytes().ends_with(value.as_bytes())
    }
}

/// A compiled wildcard pattern: literal byte runs separated by `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wildcard {
    /// Literal runs; a `*` sits between each pair. Never empty (an all-star pattern has two
    /// empty runs).
    parts: Box<[Box<[u8]>]>,
}

impl Wildcard {
    /// Parses a wildcard, with event-ruler's messages. Positions count the opening quote, as
    /// event-ruler's parser sees the quoted value.
    pub fn parse(pattern: &str) -> Result<Wildcard, String> {
        let bytes = pattern.as_bytes();
        let mut parts = Vec::new();
        let mut current = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            let pos = i + 1;
            match bytes[i] {
                b'*' => {
                    if bytes.get(i + 1) == Some(&b'*') {
                        return Err(format!("Consecutive wildcard characters at pos {pos}"));
                    }
                    parts.push(std::mem::take(&mut current).into_boxed_slice());
                }
                b'\\' => match bytes.get(i + 1) {
                    Some(&c @ (b'*' | b'\\')) => {
                        current.push(c);
                        i += 1;
                    }
                    _ => return Err(format!("Invalid escape character at pos {pos}")),
                },
                b => current.push(b),
            }
            i += 1;
        }
        parts.push(current.into_boxed_slice());
        Ok(Wildcard { parts: parts.into() })
    }

    /// The literal text before the first `*` (all of it when there is no `*`).
    pub fn literal_prefix(&self) -> &[u8] {
        &self.parts[0]
    }

    /// The literal text after the last `*`.
    pub fn literal_suffix(&self) -> &[u8] {
        &self.parts[self.parts.len() - 1]
    }

    pub fn has_star(&self) -> bool {
        self.parts.len() > 1
    }

    pub fn matches(&self, value: &str) -> bool {
        let v = value.as_bytes();
        let first = self.literal_prefix();
        if self.parts.len() == 1 {
            return v == first;
        }
        let last = self.literal_suffix();
        if v.len() < first.len() + last.len() || !v.starts_with(first) || !v.ends_with(last) {
            return false;
        }
        // Greedy left-to-right placement of the middle runs is optimal for `*`-only globs.
        let mut at = first.len();
        let end = v.len() - last.len();
        for part in &self.parts[1..self.parts.len() - 1] {
            match find(&v[at..end], part) {
                Some(off) => at += off + part.len(),
                None => return false,
            }
        }
        true
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    memchr::memmem::find(haystack, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caseless_per_unit() {
        assert!(Caseless::new("straße").matches("STRASSE"));
        assert!(Caseless::new("straße").matches("Straße"));
        assert!(!Caseless::new("ǅ").matches("ǅ"));
        assert!(Caseless::new("ǅ").matches("ǆ"));
        assert!(Caseless::new("ǅ").matches("Ǆ"));
        assert!(!Caseless::new("k").matches("\u{212A}"));
        assert!(!Caseless::new("ΣΊΣΥΦΟΣ").matches("σίσυφος"));
        assert!(Caseless::new("ΣΊΣΥΦΟΣ").matches("σίσυφοσ"));
        assert!(Caseless::new("a🚀").matches("A??"));
        assert!(!Caseless::new("a🚀").matches("a🚀"));
        assert!(Caseless::new("RUNNING").matches("running"));
        assert!(Caseless::new("").matches(""));
        assert!(Caseless::new("straß").is_prefix_of("STRASSE"));
        assert!(Caseless::new("ße").is_suffix_of("STRASSE"));
        assert!(!Caseless::new("Ω").is_suffix_of("abc"));
    }

    #[test]
    fn quoting() {
        assert!(quoted_prefix("abc", "ab"));
        assert!(quoted_prefix("ab", "ab\""));
        assert!(!quoted_prefix("ab", "abc"));
        assert!(quoted_suffix("abc", "bc"));
        assert!(quoted_suffix("b", "\"b"));
        assert!(quoted_prefix("", ""));
    }

    #[test]
    fn wildcards() {
        let w = |p: &str| Wildcard::parse(p).unwrap();
        assert!(w("*").matches(""));
        assert!(w("a*b").matches("ab"));
        assert!(w("a*b*c").matches("aXbYc"));
        assert!(!w("a*b*c").matches("aXcYb"));
        assert!(w("a\\*b").matches("a*b"));
        assert!(!w("a\\*b").matches("axb"));
        assert!(w("a\\\\b").matches("a\\b"));
        assert!(w("*aa*aa").matches("aaaa"));
        assert!(!w("*aa*aa").matches("aaa"));
        assert_eq!(Wildcard::parse("ab\\").unwrap_err(), "Invalid escape character at pos 3");
        assert_eq!(Wildcard::parse("a**").unwrap_err(), "Consecutive wildcard characters at pos 2");
        assert!(Wildcard::parse("a\\x").is_err());
    }
}
