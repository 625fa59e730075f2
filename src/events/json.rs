//! A strict, streaming JSON reader for event patterns (events are read by `scan`, which
//! accepts exactly the same grammar, faster).
//!
//! Patterns and events are read from their text, not from a parsed value, because the text
//! carries what EventBridge's matcher (aws/event-ruler, on Jackson) sees and a DOM loses: number
//! spellings (`5` vs `5.0`), duplicate keys (every occurrence of a key in an event counts; in a
//! pattern the later one wins), and the order in which problems are met (a pattern error is
//! reported at the first token that shows it, as Jackson's streaming parser does).
//!
//! Invariants:
//! - Strict JSON as Jackson reads it by default: no comments, single quotes, `NaN`, `+1`, `01`,
//!   trailing commas or raw control characters in strings.
//! - Containers nest at most [`MAX_DEPTH`] deep and number literals are at most
//!   [`MAX_NUMBER_LEN`] characters (Jackson's `StreamReadConstraints` defaults).
//! - Reading stops at the end of the first top-level value; whatever follows is never looked at.
//! - A `\u` escape that leaves a lone UTF-16 surrogate decodes to `?`, which is what Java's
//!   UTF-8 encoder (and so event-ruler's byte matching) turns a lone surrogate into.
//! - Never panics, whatever the input.

use std::borrow::Cow;

/// Deepest container nesting accepted (objects and arrays together).
pub const MAX_DEPTH: usize = 1000;
/// Longest number literal accepted, in characters (sign excluded).
pub const MAX_NUMBER_LEN: usize = 1000;

/// One token of a JSON text.
#[derive(Debug, Clone, PartialEq)]
pub enum Token<'a> {
    StartObject,
    EndObject,
    StartArray,
    EndArray,
    Key(Cow<'a, str>),
    Str(Cow<'a, str>),
    /// A number, as written.
    Num(&'a str),
    True,
    False,
    Null,
}

/// A JSON syntax error, worded like Jackson's, with the byte offset where it was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct JsonError {
    pub message: String,
    pub offset: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Expect {
    /// A value: at the top, after `:` or after `,` in an array.
    Value,
    /// Just after `[`: a value or `]`.
    ValueOrEnd,
    /// Just after `{`: a key or `}`.
    KeyOrEnd,
    /// After `,` in an object.
    Key,
    /// After a value inside a container.
    CommaOrEnd,
    /// The top-level value is complete.
    Done,
}

/// The end of the number literal starting at `start`, checked against Jackson's grammar and
/// length limit (shared by the pattern reader and the event scanner).
pub fn number_end(text: &str, start: usize) -> Result<usize, JsonError> {
    let src = text.as_bytes();
    let fail = |offset: usize, message: &str| -> Result<usize, JsonError> {
        let found = match text.get(offset..).and_then(|r| r.chars().next()) {
            Some(c) => format!("Unexpected character ('{c}' (code {})): {message}", c as u32),
            None => format!("Unexpected end-of-input: {message}"),
        };
        Err(JsonError { message: found, offset })
    };
    let mut i = start;
    if src.get(i) == Some(&b'-') {
        i += 1;
    }
    let int_start = i;
    while src.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    if i == int_start {
        return fail(i, "expected digit (0-9) to follow minus sign, for valid numeric value");
    }
    if i - int_start > 1 && src.get(int_start) == Some(&b'0') {
        return Err(JsonError { message: "Invalid numeric value: Leading zeroes not allowed".into(), offset: int_start });
    }
    if src.get(i) == Some(&b'.') {
        i += 1;
        let frac_start = i;
        while src.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == frac_start {
            return fail(i, "Decimal point not followed by a digit");
        }
    }
    if matches!(src.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(src.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp_start = i;
        while src.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == exp_start {
            return fail(i, "Exponent indicator not followed by a digit");
        }
    }
    if src.get(i).is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'.' || c == b'+' || c == b'-') {
        return fail(i, "expected separator or end of a numeric value");
    }
    let len = i - start - usize::from(src.get(start) == Some(&b'-'));
    if len > MAX_NUMBER_LEN {
        return Err(JsonError {
            message: format!(
                "Number value length ({len}) exceeds the maximum allowed ({MAX_NUMBER_LEN}, from `StreamReadConstraints.getMaxNumberLength()`)"
            ),
            offset: start,
        });
    }
    Ok(i)
}

/// Pull reader over one JSON text.
pub struct Reader<'a> {
    src: &'a [u8],
    text: &'a str,
    pos: usize,
    /// `true` for an object, `false` for an array, innermost last.
    stack: smallvec::SmallVec<[bool; 32]>,
    expect: Expect,
}

impl<'a> Reader<'a> {
    pub fn new(text: &'a str) -> Reader<'a> {
        Reader { src: text.as_bytes(), text, pos: 0, stack: smallvec::SmallVec::new(), expect: Expect::Value }
    }

    /// Byte offset of the next unread character.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// Whether the top-level value has been read completely.
    #[cfg(test)]
    fn is_done(&self) -> bool {
        self.expect == Expect::Done
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, JsonError> {
        Err(JsonError { message: message.into(), offset: self.pos })
    }

    fn skip_ws(&mut self) {
        while let Some(&b) = self.src.get(self.pos) {
            if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn unexpected<T>(&self, expecting: &str) -> Result<T, JsonError> {
        match self.text.get(self.pos..).and_then(|rest| rest.chars().next()) {
            Some(c) => self.error(format!("Unexpected character ('{c}' (code {})): {expecting}", c as u32)),
            None => self.error(format!("Unexpected end-of-input: {expecting}")),
        }
    }

    fn end_of_input<T>(&self) -> Result<T, JsonError> {
        match self.stack.last() {
            Some(true) => self.error("Unexpected end-of-input: expected close marker for Object"),
            Some(false) => self.error("Unexpected end-of-input: expected close marker for Array"),
            None => self.error("No content to map due to end-of-input"),
        }
    }

    /// The next token. After the top-level value is complete, returns an error if called again.
    pub fn next_token(&mut self) -> Result<Token<'a>, JsonError> {
        self.skip_ws();
        let Some(&b) = self.src.get(self.pos) else {
            return self.end_of_input();
        };
        match self.expect {
            Expect::Done => self.error("Reading past the end of the document"),
            Expect::KeyOrEnd | Expect::Key => {
                if b == b'}' && self.expect == Expect::KeyOrEnd {
                    return Ok(self.close(true));
                }
                if b != b'"' {
                    return self.unexpected("was expecting double-quote to start field name");
                }
                let key = self.string()?;
                self.skip_ws();
                if self.src.get(self.pos) != Some(&b':') {
                    if self.pos >= self.src.len() {
                        return self.end_of_input();
                    }
                    return self.unexpected("was expecting a colon to separate field name and value");
                }
                self.pos += 1;
                self.expect = Expect::Value;
                Ok(Token::Key(key))
            }
            Expect::CommaOrEnd => {
                let in_object = self.stack.last().copied().unwrap_or(false);
                match b {
                    b',' => {
                        self.pos += 1;
                        self.expect = if in_object { Expect::Key } else { Expect::Value };
                        self.next_token()
                    }
                    b'}' if in_object => Ok(self.close(true)),
                    b']' if !in_object => Ok(self.close(false)),
                    _ if in_object => self.unexpected("was expecting comma to separate Object entries"),
                    _ => self.unexpected("was expecting comma to separate Array entries"),
                }
            }
            Expect::Value | Expect::ValueOrEnd => {
                if b == b']' && self.expect == Expect::ValueOrEnd {
                    return Ok(self.close(false));
                }
                self.value_start(b)
            }
        }
    }

    fn close(&mut self, object: bool) -> Token<'a> {
        self.pos += 1;
        self.stack.pop();
        self.after_value();
        if object {
            Token::EndObject
        } else {
            Token::EndArray
        }
    }

    fn after_value(&mut self) {
        self.expect = if self.stack.is_empty() { Expect::Done } else { Expect::CommaOrEnd };
    }

    fn open(&mut self, object: bool) -> Result<(), JsonError> {
        if self.stack.len() >= MAX_DEPTH {
            return self.error(format!(
                "Document nesting depth ({}) exceeds the maximum allowed ({MAX_DEPTH}, from `StreamReadConstraints.getMaxNestingDepth()`)",
                self.stack.len() + 1
            ));
        }
        self.pos += 1;
        self.stack.push(object);
        self.expect = if object { Expect::KeyOrEnd } else { Expect::ValueOrEnd };
        Ok(())
    }

    fn value_start(&mut self, b: u8) -> Result<Token<'a>, JsonError> {
        match b {
            b'{' => {
                self.open(true)?;
                Ok(Token::StartObject)
            }
            b'[' => {
                self.open(false)?;
                Ok(Token::StartArray)
            }
            b'"' => {
                let s = self.string()?;
                self.after_value();
                Ok(Token::Str(s))
            }
            b'-' | b'0'..=b'9' => {
                let n = self.number()?;
                self.after_value();
                Ok(Token::Num(n))
            }
            b't' => self.literal("true", Token::True),
            b'f' => self.literal("false", Token::False),
            b'n' => self.literal("null", Token::Null),
            b'+' => self.unexpected(
                "in numeric value: JSON spec does not allow numbers to have plus signs: enable `JsonReadFeature.ALLOW_LEADING_PLUS_SIGN_FOR_NUMBERS` to allow",
            ),
            b'N' | b'I' => self.bad_token("Non-standard token"),
            b']' | b'}' | b',' | b':' => {
                self.unexpected("expected a value")
            }
            _ => self.bad_token("Unrecognized token"),
        }
    }

    fn bad_token<T>(&self, what: &str) -> Result<T, JsonError> {
        let rest = self.text.get(self.pos..).unwrap_or("");
        let word: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').take(64).collect();
        let word = if word.is_empty() { rest.chars().next().map(String::from).unwrap_or_default() } else { word };
        self.error(format!(
            "{what} '{word}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
        ))
    }

    fn literal(&mut self, word: &str, token: Token<'a>) -> Result<Token<'a>, JsonError> {
        let end = self.pos + word.len();
        if self.src.get(self.pos..end) != Some(word.as_bytes()) || self.src.get(end).is_some_and(|c| c.is_ascii_alphanumeric()) {
            return self.bad_token("Unrecognized token");
        }
        self.pos = end;
        self.after_value();
        Ok(token)
    }

    /// Reads a number literal and checks Jackson's grammar and length limit.
    fn number(&mut self) -> Result<&'a str, JsonError> {
        let start = self.pos;
        match number_end(self.text, start) {
            Ok(end) => {
                self.pos = end;
                Ok(self.text.get(start..end).unwrap_or("0"))
            }
            Err(e) => {
                self.pos = e.offset;
                Err(e)
            }
        }
    }

    /// Reads a string starting at the opening quote.
    fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        self.pos += 1;
        let start = self.pos;
        let src = self.src;
        // Fast path: no escapes.
        let mut i = start;
        while let Some(&b) = src.get(i) {
            match b {
                b'"' => {
                    self.pos = i + 1;
                    return Ok(Cow::Borrowed(self.text.get(start..i).unwrap_or("")));
                }
                b'\\' => break,
                0..=0x1f => {
                    self.pos = i;
                    return self.control_char(b);
                }
                _ => i += 1,
            }
        }
        if i >= src.len() {
            self.pos = i;
            return self.error("Unexpected end-of-input: was expecting closing quote for a string value");
        }
        let mut out = String::with_capacity(i - start + 16);
        out.push_str(self.text.get(start..i).unwrap_or(""));
        self.pos = i;
        loop {
            let Some(&b) = src.get(self.pos) else {
                return self.error("Unexpected end-of-input: was expecting closing quote for a string value");
            };
            match b {
                b'"' => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                b'\\' => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                0..=0x1f => return self.control_char(b),
                _ => {
                    // Copy a run of plain characters at once.
                    let run_start = self.pos;
                    let mut j = self.pos;
                    while src.get(j).is_some_and(|&c| c != b'"' && c != b'\\' && c >= 0x20) {
                        j += 1;
                    }
                    out.push_str(self.text.get(run_start..j).unwrap_or(""));
                    self.pos = j;
                }
            }
        }
    }

    fn control_char<T>(&self, b: u8) -> Result<T, JsonError> {
        self.error(format!(
            "Illegal unquoted character ((CTRL-CHAR, code {b})): has to be escaped using backslash to be included in string value"
        ))
    }

    fn escape(&mut self, out: &mut String) -> Result<(), JsonError> {
        let Some(&e) = self.src.get(self.pos) else {
            return self.error("Unexpected end-of-input in character escape sequence");
        };
        self.pos += 1;
        let c = match e {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let high = self.hex4()?;
                if (0xD800..0xDC00).contains(&high) && self.src.get(self.pos..self.pos + 2) == Some(b"\\u") {
                    let save = self.pos;
                    self.pos += 2;
                    let low = self.hex4()?;
                    if (0xDC00..0xE000).contains(&low) {
                        let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                        out.push(char::from_u32(code).unwrap_or('?'));
                        return Ok(());
                    }
                    self.pos = save;
                }
                char::from_u32(high).unwrap_or('?')
            }
            _ => {
                self.pos -= 1;
                let c = self.text.get(self.pos..).and_then(|r| r.chars().next()).unwrap_or('?');
                return self.error(format!("Unrecognized character escape '{c}' (code {})", c as u32));
            }
        };
        out.push(c);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let Some(&h) = self.src.get(self.pos) else {
                return self.error("Unexpected end-of-input in character escape sequence");
            };
            let d = match h {
                b'0'..=b'9' => h - b'0',
                b'a'..=b'f' => h - b'a' + 10,
                b'A'..=b'F' => h - b'A' + 10,
                _ => return self.unexpected("expected a hex-digit for character escape sequence"),
            };
            v = v * 16 + u32::from(d);
            self.pos += 1;
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Result<Vec<Token<'_>>, JsonError> {
        let mut r = Reader::new(text);
        let mut out = Vec::new();
        loop {
            out.push(r.next_token()?);
            if r.is_done() {
                return Ok(out);
            }
        }
    }

    #[test]
    fn reads_tokens_and_keeps_number_spellings() {
        let t = tokens(r#"{"a": [1.50, -0, 2e3, "x\"y", true, null, {}], "b": false} trailing"#).unwrap();
        assert_eq!(t[0], Token::StartObject);
        assert_eq!(t[1], Token::Key("a".into()));
        assert_eq!(t[3], Token::Num("1.50"));
        assert_eq!(t[4], Token::Num("-0"));
        assert_eq!(t[5], Token::Num("2e3"));
        assert_eq!(t[6], Token::Str("x\"y".into()));
        assert_eq!(t.last(), Some(&Token::EndObject));
    }

    #[test]
    fn rejects_what_jackson_rejects() {
        for bad in [
            "{'a': 1}",
            "{\"a\": 01}",
            "{\"a\": +1}",
            "{\"a\": NaN}",
            "{\"a\": 1.}",
            "{\"a\": [1,]}",
            "{\"a\" 1}",
            "{\"a\": \"x\ny\"}",
            "{\"a\": \"\\q\"}",
            "{\"a\": 0x10}",
            "{\"a\": tru}",
            "{\"a\": 1",
            "",
        ] {
            assert!(tokens(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn limits_depth_and_number_length() {
        let ok = format!("{}1{}", "[".repeat(1000), "]".repeat(1000));
        assert!(tokens(&ok).is_ok());
        let deep = format!("{}1{}", "[".repeat(1001), "]".repeat(1001));
        assert!(tokens(&deep).unwrap_err().message.contains("nesting depth (1001)"));
        assert!(tokens(&format!("[-{}]", "1".repeat(1000))).is_ok());
        assert!(tokens(&format!("[{}]", "1".repeat(1001))).unwrap_err().message.contains("(1001)"));
    }

    #[test]
    fn surrogates() {
        assert_eq!(tokens(r#"["\ud83d\ude80", "\ud800x"]"#).unwrap()[1], Token::Str("🚀".into()));
        assert_eq!(tokens(r#"["\ud800x"]"#).unwrap()[1], Token::Str("?x".into()));
    }
}
