//! The `StringMatches` pattern: literal text with `*` wildcards, matched in linear time.
//!
//! Owns: [`Pattern`] (compiled once from the definition's literal) and its matcher.
//!
//! Invariants:
//! - A pattern is a list of literal parts that were separated by unescaped `*`s; `parts.len()`
//!   is the number of `*`s plus one, and no part contains a wildcard any more (escapes are
//!   already resolved), so matching never re-interprets the text.
//! - Matching is O(|text| + |pattern|): the first part is a prefix, the last a suffix, and each
//!   middle part is found leftmost with `str::find` (two-way search). Leftmost-first is optimal
//!   for `*`-only globs, so there is no backtracking and no regex.
//! - Matching is on UTF-8 bytes of literal parts, which is the same as matching code points,
//!   because UTF-8 is self-synchronising (a part can only match at character boundaries).
//!
//! Escapes (ASL specification): `\*` is a literal `*`, `\\` a literal `\`.
//! Choice where AWS's behaviour is unrecorded: a backslash before any other character makes
//! that character literal (`\a` matches `a`), and a trailing lone backslash is a literal `\`.
//! Neither is treated as an error, so no definition AWS might accept fails to compile here.

/// A compiled `StringMatches` pattern.
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    parts: Vec<String>,
}

impl Pattern {
    /// Compiles a pattern; never fails (see the module docs for escape handling).
    pub fn new(pattern: &str) -> Pattern {
        let mut parts = Vec::new();
        let mut current = String::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => current.push(chars.next().unwrap_or('\\')),
                '*' => parts.push(std::mem::take(&mut current)),
                other => current.push(other),
            }
        }
        parts.push(current);
        Pattern { parts }
    }

    /// Whether `text` matches the whole pattern.
    pub fn matches(&self, text: &str) -> bool {
        let (first, rest) = match self.parts.split_first() {
            Some(split) => split,
            None => return text.is_empty(), // unreachable by construction; harmless
        };
        let Some((last, middle)) = rest.split_last() else {
            // No wildcard: exact equality.
            return text == first;
        };
        if text.len() < first.len() + last.len()
            || !text.starts_with(first.as_str())
            || !text.ends_with(last.as_str())
        {
            return false;
        }
        // The window between the prefix and the suffix; they must not overlap.
        let Some(mut window) = text.get(first.len()..text.len() - last.len()) else {
            return false;
        };
        for part in middle {
            match window.find(part.as_str()) {
                Some(at) => window = &window[at + part.len()..],
                None => return false,
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    fn m(pattern: &str, text: &str) -> bool {
        Pattern::new(pattern).matches(text)
    }

    #[test]
    fn wildcards() {
        assert!(m("log-*.txt", "log-2024.txt"));
        assert!(m("log-*.txt", "log-.txt"));
        assert!(!m("log-*.txt", "log-2024.txt.gz"));
        assert!(m("*", ""));
        assert!(m("*", "anything"));
        assert!(m("**", "x"));
        assert!(m("*.txt", "a.txt"));
        assert!(m("a*", "abc"));
        assert!(m("a*b*c", "aXbYc"));
        assert!(m("a*b*c", "abc"));
        assert!(!m("a*b*c", "acb"));
        assert!(m("*a*a*", "aa"));
        assert!(!m("*a*a*", "a"));
        // Prefix and suffix must not share characters.
        assert!(!m("ab*ba", "aba"));
        assert!(m("ab*ba", "abba"));
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(m("exact", "exact"));
        assert!(!m("exact", "Exact"));
    }

    #[test]
    fn escapes() {
        // Definition JSON "\\*" is the pattern text `\*`: a literal star.
        assert!(m(r"a\*b", "a*b"));
        assert!(!m(r"a\*b", "aXb"));
        assert!(m(r"a\\b", r"a\b"));
        assert!(m(r"a\\*", r"a\anything"));
        assert!(m(r"\**", "*star"));
        assert!(!m(r"\**", "star"));
        assert!(m(r"*\*", "ends with *"));
        // Unrecorded cases: our documented choices.
        assert!(m(r"\a", "a"));
        assert!(m("trailing\\", "trailing\\"));
    }

    #[test]
    fn unicode() {
        assert!(m("h*é", "hé"));
        assert!(m("*€*", "price: 5€ only"));
        assert!(m("𐍈*𐍈", "𐍈x𐍈"));
        assert!(!m("𐍈*𐍈", "𐍈"));
    }

    #[test]
    fn long_inputs_stay_linear() {
        let text = "a".repeat(200_000);
        let pattern = format!("{}b", "*a".repeat(1000));
        assert!(!m(&pattern, &text));
        assert!(m(&format!("{}*", "*a".repeat(1000)), &text));
    }
}
