//! A strict JSON scanner for events: the same grammar and limits as [`super::json::Reader`]
//! (Jackson's defaults), written as a tight recursive descent over bytes because it runs once
//! per event on the matching hot path, where the token-by-token reader was the largest cost.
//! Values no rule looks at are skipped with full syntax checking but without being built.
//!
//! Strings are found 16 bytes at a time ([`super::classify`]), and the usual tokens (a plain key
//! right before its colon, a plain string, a short number before a separator) are read inline;
//! anything else takes the general path, which accepts and refuses exactly the same texts.
//!
//! The hot paths read a padded copy of the text (the text, then [`PAD`] zero bytes, in a
//! per-thread buffer reused between scanners), as simdjson does: every 16-byte load at a
//! position up to the text's end is in bounds without a path for the text's last bytes, and
//! the zero right after the text stops string runs, whitespace, digits and literals by itself
//! (a zero byte is a control byte, which the grammar refuses anywhere, so only the error paths
//! need to tell the end of the text from a zero in it; they read the text itself).
//!
//! Invariants: never panics; containers nest at most [`MAX_DEPTH`] deep; strings are decoded
//! (through the reader, so escapes mean the same) only when they contain escapes; the cursor
//! is at most the text's length at all times (it only moves past bytes the scanner has read
//! and found to be part of a token, never past the zero after the text), which is what the
//! unchecked reads of the padded copy rely on.

use std::borrow::Cow;
use std::cell::Cell;

use super::classify::{head, padded_head, padded_string_run, string_run, PAD};
use super::json::{number_end, JsonError, Reader, Token, MAX_DEPTH};

/// Decodes a quoted string with escapes (`raw` includes the quotes), which the scanner has
/// already checked. One byte-wise pass: a PutEvents `Detail` sent as JSON text has an escape
/// every few bytes, too often for copying runs to pay. `\u` escapes (surrogate pairs) go to
/// the reader.
#[inline(never)]
fn decode(raw: &str, start: usize) -> Result<String, JsonError> {
    let body = raw.get(1..raw.len().saturating_sub(1)).unwrap_or("");
    if body.contains("\\u") {
        return decode_with_reader(raw, start);
    }
    let bytes = body.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        out.push(match bytes.get(i + 1) {
            Some(b'"') => b'"',
            Some(b'\\') => b'\\',
            Some(b'/') => b'/',
            Some(b'b') => 0x08,
            Some(b'f') => 0x0c,
            Some(b'n') => b'\n',
            Some(b'r') => b'\r',
            Some(b't') => b'\t',
            _ => return decode_with_reader(raw, start),
        });
        i += 2;
    }
    // Only ASCII bytes replaced ASCII escapes, so the text stays UTF-8.
    String::from_utf8(out).or_else(|_| decode_with_reader(raw, start))
}

#[inline(never)]
fn decode_with_reader(raw: &str, start: usize) -> Result<String, JsonError> {
    match Reader::new(raw).next_token() {
        Ok(Token::Str(s)) => Ok(s.into_owned()),
        Ok(_) => Err(JsonError { message: "Invalid string".into(), offset: start }),
        Err(e) => Err(JsonError { message: e.message, offset: start + e.offset }),
    }
}

/// Whether `text` is one JSON object and nothing else but whitespace, read with the scanner's
/// grammar (the one events are matched with) and without building it.
pub fn is_json_object(text: &str) -> bool {
    let mut s = Scanner::new(text);
    s.ws();
    if s.peek() != Some(b'{') || s.skip_value().is_err() {
        return false;
    }
    s.ws();
    s.offset() == text.len()
}

/// How a string was written: with escapes, with a dot (before decoding).
#[derive(Clone, Copy)]
struct StrShape {
    escaped: bool,
    dot: bool,
}

/// An object member's key, decoded; whether it has a dot; its first bytes as a word
/// ([`head`]).
pub struct Key<'a> {
    pub text: Cow<'a, str>,
    pub dot: bool,
    pub head: u64,
}

/// A [`Key`] borrowed: from the text ([`Scanner::plain_key`]) or from a decoded [`Key`].
#[derive(Clone, Copy)]
pub struct KeyRef<'k> {
    pub text: &'k str,
    pub dot: bool,
    pub head: u64,
}

impl Key<'_> {
    pub fn borrowed(&self) -> KeyRef<'_> {
        KeyRef { text: &self.text, dot: self.dot, head: self.head }
    }
}

thread_local! {
    /// The last scanner's padded buffer, so that scanning an event allocates nothing.
    static SPARE: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

pub struct Scanner<'a> {
    text: &'a str,
    /// The text's bytes (error paths and escapes read these).
    b: &'a [u8],
    /// The text followed by [`PAD`] zero bytes (hot paths read these), then possibly bytes of
    /// an earlier text, which are never read: every read stops at the zero after the text.
    pad: Vec<u8>,
    /// The cursor: at most `text.len()` (see the module's invariants).
    i: usize,
    depth: usize,
}

impl Drop for Scanner<'_> {
    fn drop(&mut self) {
        let pad = std::mem::take(&mut self.pad);
        // During thread exit the spare slot may be gone; the buffer is then simply freed.
        let _ = SPARE.try_with(|spare| spare.set(pad));
    }
}

impl<'a> Scanner<'a> {
    pub fn new(text: &'a str) -> Scanner<'a> {
        let mut pad = SPARE.try_with(Cell::take).unwrap_or_default();
        let len = text.len();
        // Grown only, never shrunk, so the usual event costs one copy and the zeros after it.
        if pad.len() < len + PAD {
            pad.resize(len + PAD, 0);
        }
        let (copy, rest) = pad.split_at_mut(len);
        copy.copy_from_slice(text.as_bytes());
        if let Some(zeros) = rest.get_mut(..PAD) {
            zeros.fill(0);
        }
        Scanner { text, b: text.as_bytes(), pad, i: 0, depth: 0 }
    }

    /// The cursor's offset in the text.
    #[inline]
    pub fn offset(&self) -> usize {
        self.i
    }

    /// The byte at `at` of the padded text: the text's byte, or zero at and after its end.
    #[inline(always)]
    fn at(&self, at: usize) -> u8 {
        debug_assert!(at < self.pad.len());
        // SAFETY: callers read at most PAD - 1 bytes past the cursor, which is at most the
        // text's length (the module's invariant), and `pad` holds the text then PAD zeros.
        unsafe { *self.pad.get_unchecked(at) }
    }

    /// The byte at the cursor, zero at the end of the text (and for a zero byte in it, which
    /// every caller refuses on a path that tells the two apart).
    #[inline(always)]
    pub fn byte(&self) -> u8 {
        self.at(self.i)
    }

    /// The two bytes at `at` of the padded text, `at` at most the text's length, as one
    /// little-endian word (one load and one comparison for a key's closing quote and colon).
    #[inline(always)]
    fn pair(&self, at: usize) -> u16 {
        debug_assert!(at + 2 <= self.pad.len());
        // SAFETY: `at` is at most the text's length and `pad` holds the text then PAD zeros, so
        // `at + 2 <= pad.len()`; the read is unaligned.
        u16::from_le(unsafe { self.pad.as_ptr().add(at).cast::<u16>().read_unaligned() })
    }

    /// The 16 bytes of the padded text at the cursor, little-endian (zeros past the text).
    #[inline(always)]
    pub fn word(&self) -> u128 {
        debug_assert!(self.i + 16 <= self.pad.len());
        // SAFETY: the cursor is at most the text's length and `pad` holds PAD >= 16 bytes after
        // it; the read is unaligned.
        u128::from_le(unsafe { self.pad.as_ptr().add(self.i).cast::<u128>().read_unaligned() })
    }

    /// Whether the 16 bytes at the cursor agree with `pattern` (little-endian) wherever `mask`
    /// has bits: one load and one comparison to recognise a key read before (the walker's key
    /// log, see `keylog`).
    #[inline(always)]
    pub fn at_pattern(&self, pattern: u128, mask: u128) -> bool {
        (self.word() ^ pattern) & mask == 0
    }

    /// Moves the cursor past `n` bytes that [`Self::at_pattern`] found equal to non-zero bytes
    /// of a pattern. They are the text's (the byte after the text is zero), so the cursor stays
    /// within it.
    #[inline(always)]
    pub fn advance_matched(&mut self, n: usize) {
        debug_assert!(self.i + n <= self.text.len());
        self.i += n;
    }

    /// [`padded_string_run`] from `start`, which is at most the text's length.
    #[inline(always)]
    fn run(&self, start: usize) -> (usize, bool) {
        debug_assert!(start <= self.text.len());
        // SAFETY: `start` is at most the text's length (callers pass the cursor or one past an
        // opening quote the cursor is at); `pad` holds the text then PAD zero bytes.
        unsafe { padded_string_run(&self.pad, start) }
    }

    /// [`super::classify::head`] of the text's `start..start + len`, `start` at most the
    /// text's length.
    #[inline(always)]
    fn head(&self, start: usize, len: usize) -> u64 {
        debug_assert!(start <= self.text.len());
        // SAFETY: start + 8 <= text.len() + PAD <= pad.len().
        unsafe { padded_head(&self.pad, start, len) }
    }

    #[inline(never)]
    pub fn error<T>(&self, message: impl Into<String>) -> Result<T, JsonError> {
        Err(JsonError { message: message.into(), offset: self.i })
    }

    #[inline(never)]
    fn unexpected<T>(&self, expecting: &str) -> Result<T, JsonError> {
        match self.text.get(self.i..).and_then(|r| r.chars().next()) {
            Some(c) => self.error(format!("Unexpected character ('{c}' (code {})): {expecting}", c as u32)),
            None => self.error(format!("Unexpected end-of-input: {expecting}")),
        }
    }

    /// Moves past whitespace. The zero after the text is not whitespace, so the cursor never
    /// passes the text's end.
    #[inline(always)]
    pub fn ws(&mut self) {
        loop {
            let c = self.byte();
            // One comparison for the usual case, a byte that is no whitespace.
            if c > b' ' || !(c == b' ' || c == b'\n' || c == b'\r' || c == b'\t') {
                break;
            }
            self.i += 1;
        }
    }

    #[inline]
    pub fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Consumes `{` or `[` at the cursor (callers check which), counting depth.
    #[inline]
    pub fn open(&mut self) -> Result<(), JsonError> {
        if self.depth >= MAX_DEPTH {
            return self.error(format!(
                "Document nesting depth ({}) exceeds the maximum allowed ({MAX_DEPTH}, from `StreamReadConstraints.getMaxNestingDepth()`)",
                self.depth + 1
            ));
        }
        self.depth += 1;
        // Clamped so that the cursor stays within the text even for a caller that did not check.
        self.i = (self.i + 1).min(self.text.len());
        Ok(())
    }

    /// After a member or element: consumes `,` (returns true) or the closing `close` (false).
    #[inline]
    pub fn next_or_close(&mut self, close: u8) -> Result<bool, JsonError> {
        // The separator first, whitespace only when it is not there: compact JSON is the usual
        // event, and this runs after every member and element.
        let mut c = self.byte();
        if c != b',' && c != close {
            self.ws();
            c = self.byte();
        }
        match c {
            b',' => {
                self.i += 1;
                Ok(true)
            }
            c if c == close => {
                self.i += 1;
                self.depth -= 1;
                Ok(false)
            }
            _ if close == b'}' => self.unexpected("was expecting comma to separate Object entries"),
            _ => self.unexpected("was expecting comma to separate Array entries"),
        }
    }

    /// At the start of a container's content: consumes the closing byte if it is empty.
    #[inline]
    pub fn empty(&mut self, close: u8) -> bool {
        self.ws();
        if self.byte() == close {
            self.i += 1;
            self.depth -= 1;
            true
        } else {
            false
        }
    }

    /// A member's key and its colon; the cursor ends at the value. A key without escapes is
    /// borrowed from the text, and comes with whether it has a dot, found on the way.
    #[inline(always)]
    pub fn key(&mut self) -> Result<Key<'a>, JsonError> {
        match self.plain_key() {
            Some(KeyRef { text, dot, head }) => Ok(Key { text: Cow::Borrowed(text), dot, head }),
            None => self.any_key(),
        }
    }

    /// [`Self::key`] for the usual key, plain and right before its colon, borrowed from the
    /// text; `None`, with the cursor unmoved but for whitespace, for every other key (and the
    /// errors), which [`Self::any_key`] then reads. No `Cow` is built for the usual key.
    #[inline(always)]
    pub fn plain_key(&mut self) -> Option<KeyRef<'a>> {
        // The quote first, whitespace only when it is not there (compact JSON is the usual event).
        if self.byte() != b'"' {
            self.ws();
        }
        // The usual key: plain, right before its colon; one block-wise run finds both.
        let start = self.i + 1;
        if self.byte() == b'"' {
            // `start` is at most the text's length: the cursor is at a quote of the text.
            let (end, dot) = self.run(start);
            // A quote and a colon at `end` are the text's (the padding is zeros), so
            // start <= end < end + 2 <= text.len().
            if self.pair(end) == u16::from_le_bytes(*b"\":") {
                // SAFETY: `start..end` lies in the text (above), between two quotes, which are
                // ASCII, so in UTF-8 text it starts and ends on char boundaries.
                let text = unsafe { self.text.get_unchecked(start..end) };
                self.i = end + 2;
                let head = self.head(start, end - start);
                self.ws();
                return Some(KeyRef { text, dot, head });
            }
        }
        None
    }

    /// [`Self::key`] for every key [`Self::plain_key`] leaves (and the errors).
    #[inline(never)]
    pub fn any_key(&mut self) -> Result<Key<'a>, JsonError> {
        if self.peek() != Some(b'"') {
            return self.unexpected("was expecting double-quote to start field name");
        }
        let start = self.i + 1;
        let (text, shape) = self.string_shaped()?;
        let key = if shape.escaped {
            Key { dot: text.contains('.'), head: head(text.as_bytes(), 0, text.len()), text }
        } else {
            Key { dot: shape.dot, head: self.head(start, text.len()), text }
        };
        self.ws();
        if self.peek() != Some(b':') {
            return self.unexpected("was expecting a colon to separate field name and value");
        }
        self.i += 1;
        self.ws();
        Ok(key)
    }

    /// Like [`Self::key`], without decoding the key (for skipped objects).
    #[inline(always)]
    fn skip_key(&mut self) -> Result<(), JsonError> {
        // The expected byte first, whitespace only when it is not there (as in `key`).
        if self.byte() != b'"' {
            self.ws();
            if self.byte() != b'"' {
                return self.unexpected("was expecting double-quote to start field name");
            }
        }
        self.skip_string()?;
        if self.byte() != b':' {
            self.ws();
            if self.byte() != b':' {
                return self.unexpected("was expecting a colon to separate field name and value");
            }
        }
        self.i += 1;
        Ok(())
    }

    /// The string at the cursor (which is at its opening quote).
    #[inline(always)]
    pub fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        if self.byte() == b'"' {
            let start = self.i + 1;
            // `start` is at most the text's length: the cursor is at a quote of the text.
            let (end, _) = self.run(start);
            if self.at(end) == b'"' {
                // SAFETY: the quote at `end` is the text's, so start <= end < text.len(); the
                // range lies between two quotes, which are ASCII, so it starts and ends on char
                // boundaries of the UTF-8 text.
                let text = unsafe { self.text.get_unchecked(start..end) };
                self.i = end + 1;
                return Ok(Cow::Borrowed(text));
            }
        }
        self.string_shaped().map(|(text, _)| text)
    }

    /// The string at the cursor, and how it was written.
    #[inline(never)]
    fn string_shaped(&mut self) -> Result<(Cow<'a, str>, StrShape), JsonError> {
        if self.byte() != b'"' {
            // Callers check first; this keeps the cursor within the text regardless.
            return self.unexpected("was expecting double-quote to start a string");
        }
        let start = self.i;
        let shape = self.skip_string()?;
        let raw = self.text.get(start..self.i).unwrap_or("\"\"");
        if !shape.escaped {
            return Ok((Cow::Borrowed(raw.get(1..raw.len() - 1).unwrap_or("")), shape));
        }
        decode(raw, start).map(|text| (Cow::Owned(text), shape))
    }

    /// Moves past the string at the cursor. The usual string, without escapes, is found by one
    /// block-wise run to its closing quote, inlined: it runs for every key and string of an
    /// event, most of them a few bytes long.
    #[inline(always)]
    fn skip_string(&mut self) -> Result<StrShape, JsonError> {
        debug_assert!(self.i < self.text.len());
        // The cursor is at the opening quote, a byte of the text, so `i + 1` is at most its
        // length.
        let (end, dot) = self.run(self.i + 1);
        if self.at(end) == b'"' {
            self.i = end + 1;
            return Ok(StrShape { escaped: false, dot });
        }
        self.i = end;
        self.skip_string_rest(StrShape { escaped: false, dot })
    }

    /// [`Self::skip_string`] from the first byte that is not plain (the cursor).
    #[inline(never)]
    fn skip_string_rest(&mut self, mut shape: StrShape) -> Result<StrShape, JsonError> {
        loop {
            let Some(&c) = self.b.get(self.i) else {
                return self.error("Unexpected end-of-input: was expecting closing quote for a string value");
            };
            match c {
                b'"' => {
                    self.i += 1;
                    return Ok(shape);
                }
                b'\\' => {
                    shape.escaped = true;
                    match self.b.get(self.i + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 2,
                        Some(b'u') => {
                            let hex = self.b.get(self.i + 2..self.i + 6);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                self.i += 2;
                                return self.unexpected("expected a hex-digit for character escape sequence");
                            }
                            self.i += 6;
                        }
                        _ => {
                            self.i += 1;
                            return self.unexpected("Unrecognized character escape");
                        }
                    }
                }
                _ => {
                    return self.error(format!(
                        "Illegal unquoted character ((CTRL-CHAR, code {c})): has to be escaped using backslash to be included in string value"
                    ))
                }
            }
            let (end, dot) = string_run(self.b, self.i);
            self.i = end;
            shape.dot |= dot;
        }
    }

    /// The number at the cursor, as written. Inlined: it runs for every number of an event,
    /// read or skipped, and the usual one is a few digits.
    #[inline(always)]
    pub fn number(&mut self) -> Result<&'a str, JsonError> {
        // The usual number, an integer or a plain decimal of a few digits right before a
        // separator, is one the general reader accepts as it is.
        // Every byte read is at most one past a digit, `-` or `.` of the text, so at most its
        // end (the zero there stops the digits).
        let start = self.i;
        let int_start = start + usize::from(self.byte() == b'-');
        let mut i = int_start;
        while self.at(i).is_ascii_digit() {
            i += 1;
        }
        let mut plain = i == int_start + 1 || (i > int_start + 1 && self.at(int_start) != b'0');
        if plain && self.at(i) == b'.' {
            let fraction = i + 1;
            i = fraction;
            while self.at(i).is_ascii_digit() {
                i += 1;
            }
            plain = i > fraction;
        }
        // A separator at `i` is the text's, so `start..i` lies in it.
        if plain && i - start <= 64 && matches!(self.at(i), b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
            // SAFETY: `start..i` lies in the text (above) and every byte in it was checked
            // to be an ASCII digit, `-` or `.`, so it is on char boundaries.
            let text = unsafe { self.text.get_unchecked(start..i) };
            self.i = i;
            return Ok(text);
        }
        self.any_number()
    }

    #[inline(never)]
    fn any_number(&mut self) -> Result<&'a str, JsonError> {
        let start = self.i;
        match number_end(self.text, start) {
            Ok(end) => {
                self.i = end.min(self.text.len());
                Ok(self.text.get(start..end).unwrap_or("0"))
            }
            Err(e) => {
                self.i = e.offset.min(self.text.len());
                Err(e)
            }
        }
    }

    /// `true`, `false` or `null` at the cursor.
    pub fn literal(&mut self, word: &'static str) -> Result<(), JsonError> {
        // `word` is at most five bytes, fewer than PAD: the reads stay in the padded text, and a
        // match is the text's (the padding is zeros), so `end` is at most its length.
        let end = self.i + word.len();
        if self.pad.get(self.i..end) != Some(word.as_bytes()) || self.at(end).is_ascii_alphanumeric() {
            return self.bad_token();
        }
        self.i = end;
        Ok(())
    }

    #[inline(never)]
    pub fn bad_token<T>(&self) -> Result<T, JsonError> {
        let rest = self.text.get(self.i..).unwrap_or("");
        let word: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').take(64).collect();
        if word.is_empty() {
            return self.unexpected("expected a value");
        }
        self.error(format!(
            "Unrecognized token '{word}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
        ))
    }

    /// [`Self::skip_value`] with the usual cases, a string or a number, inlined.
    #[inline(always)]
    pub fn skip(&mut self) -> Result<(), JsonError> {
        match self.byte() {
            b'"' => self.skip_string().map(|_| ()),
            b'-' | b'0'..=b'9' => self.number().map(|_| ()),
            _ => self.skip_value(),
        }
    }

    /// Skips the value at the cursor, checking its syntax. Iterative, so nesting depth costs
    /// no stack.
    #[inline(never)]
    pub fn skip_value(&mut self) -> Result<(), JsonError> {
        // The kinds of the containers this call has open, one bit each (set: object), the
        // innermost at `level - 1`. A container opened below 64 of them is skipped by a call of
        // its own (at most MAX_DEPTH / 64 deep, as `open` limits the nesting), so one word
        // holds the kinds and no array is set up per call.
        let mut objects = 0u64;
        let mut level = 0u32;
        loop {
            match self.byte() {
                // Whitespace in the dispatch rather than a test before it: compact JSON first.
                b' ' | b'\n' | b'\r' | b'\t' => {
                    self.ws();
                    continue;
                }
                b'{' | b'[' if level == 64 => self.skip_value()?,
                c @ (b'{' | b'[') => {
                    self.open()?;
                    let object = c == b'{';
                    if !self.empty(if object { b'}' } else { b']' }) {
                        let bit = 1u64 << level;
                        objects = if object { objects | bit } else { objects & !bit };
                        level += 1;
                        if object {
                            self.skip_key()?;
                        }
                        continue;
                    }
                }
                b'"' => {
                    self.skip_string()?;
                }
                b'-' | b'0'..=b'9' => {
                    self.number()?;
                }
                b't' => self.literal("true")?,
                b'f' => self.literal("false")?,
                b'n' => self.literal("null")?,
                // Also the end of the text: "Unexpected end-of-input: expected a value".
                _ => return self.bad_token(),
            }
            // A value is complete: close every container it completes.
            loop {
                let Some(top) = level.checked_sub(1) else { return Ok(()) };
                let object = objects >> top & 1 == 1;
                if self.next_or_close(if object { b'}' } else { b']' })? {
                    if object {
                        self.skip_key()?;
                    }
                    break;
                }
                level = top;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_valid_values_and_rejects_invalid_ones() {
        for ok in [r#"{"a": [1, -2.5e3, "x\"\u00e9", true, false, null, {}, []]}"#, "[]", "\"s\"", "0"] {
            let mut s = Scanner::new(ok);
            s.skip_value().unwrap();
            assert_eq!(s.i, ok.len(), "{ok}");
        }
        for bad in [
            r#"{"a": [1,]}"#,
            r#"{"a" 1}"#,
            r#"{"a": 01}"#,
            r#"{"a": tru}"#,
            r#"{"a": "x"#,
            "{\"a\": \"\u{1}\"}",
            r#"{"a": "\q"}"#,
            r#"{"a": 1 "b": 2}"#,
            r#"[1 2]"#,
            "{",
            "[",
            r#"{"a": NaN}"#,
            r#"{"a": +1}"#,
        ] {
            assert!(Scanner::new(bad).skip_value().is_err(), "{bad}");
        }
        let deep = format!("{}{}", "[".repeat(1001), "]".repeat(1001));
        assert!(Scanner::new(&deep).skip_value().is_err());
        // Objects and arrays alternating past the first 64 levels: each closes with its own
        // bracket, and a wrong one at any depth is refused.
        let nest = |n: usize, wrong: Option<usize>| {
            let open: String = (0..n).map(|l| if l % 3 == 0 { "{\"k\":" } else { "[" }).collect();
            let close: String = (0..n)
                .rev()
                .map(|l| if (l % 3 == 0) != (wrong == Some(l)) { "}" } else { "]" })
                .collect();
            format!("{open}1{close}")
        };
        for n in [63, 64, 65, 130, 200, 1000] {
            let text = nest(n, None);
            let mut s = Scanner::new(&text);
            assert!(s.skip_value().is_ok() && s.offset() == text.len(), "{n}");
            for wrong in [0, 1, 63, 64, 65, 128, n - 1] {
                if wrong < n {
                    assert!(Scanner::new(&nest(n, Some(wrong))).skip_value().is_err(), "{n} {wrong}");
                }
            }
        }
        // Members and elements after a nested value at every level, across the 64-level
        // boundaries where a skip hands the rest of a container over to a call of its own.
        let siblings = |n: usize| {
            let open: String = (0..n).map(|l| if l % 2 == 0 { "{\"k\":" } else { "[" }).collect();
            let close: String = (0..n).rev().map(|l| if l % 2 == 0 { ",\"z\":[2]}" } else { ",{}]" }).collect();
            format!("{open}1{close}")
        };
        for n in [63, 64, 65, 127, 128, 129, 192, 999] {
            let text = siblings(n);
            let mut s = Scanner::new(&text);
            assert!(s.skip_value().is_ok() && s.offset() == text.len(), "{n}");
            let cut = &text[..text.len() - 1];
            assert!(Scanner::new(cut).skip_value().is_err(), "{n}");
        }
        let ok = format!("{}{}", "[".repeat(1000), "]".repeat(1000));
        assert!(Scanner::new(&ok).skip_value().is_ok());
    }

    #[test]
    fn deep_events_fit_a_small_stack() {
        use crate::events::{Matcher, Pattern};
        let depth = 999;
        let pattern = format!("{}[\"x\"]{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        let event = format!("{}\"x\"{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        let parsed = Pattern::parse(&pattern).unwrap();
        let run = move || {
            let mut m = Matcher::new();
            m.add_rule(1, &parsed);
            m.matches(&event).unwrap().len()
        };
        // Half of what tokio gives a worker thread.
        let found = std::thread::Builder::new().stack_size(1 << 20).spawn(run).unwrap().join().unwrap();
        assert_eq!(found, 1);
    }

    #[test]
    fn decoding_agrees_with_the_reader() {
        let raws = [
            r#""a\"b""#,
            r#""\\\/\b\f\n\r\t""#,
            r#""{\"deviceId\":\"sensor-00042\",\"tags\":[\"indoor\",\"é\"]}""#,
            r#""x\u00e9\ud83d\ude00\\u""#,
            r#""\\""#,
        ];
        for raw in raws {
            assert_eq!(decode(raw, 0).ok(), decode_with_reader(raw, 0).ok(), "{raw}");
            assert!(decode(raw, 0).is_ok(), "{raw}");
        }
    }

    proptest::proptest! {
        #[test]
        fn decoding_any_escaped_string_agrees_with_the_reader(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "a", "é", "abcdefghij", "\\\"", "\\\\", "\\/", "\\n", "\\t", "\\b", "\\u00e9", " "]), 0..20)
        ) {
            let raw = format!("\"{}\"", parts.concat());
            proptest::prop_assert_eq!(decode(&raw, 0).ok(), decode_with_reader(&raw, 0).ok());
        }
    }

    /// A ~1 KB EventBridge event like the benchmark's, with escapes, non-ASCII text, numbers
    /// of every shape and nesting, so mutations hit every branch of the scanner.
    const BENCH_LIKE: &str = concat!(
        r#"{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"EC2 Instance State-change Notification","#,
        r#""source":"aws.ec2","account":"111122223333","time":"2017-12-22T18:43:48Z","region":"eu-west-1","#,
        r#""resources":["arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc1234def567890"],"detail":{"#,
        r#""instance-id":"i-0abc1234def567890","state":"running","source-ip":"10.1.2.3","port":443,"bytes":18234,"#,
        r#""latency-ms":12.5,"ratio":-1.25e-3,"big":1E+400,"ok":true,"no":false,"none":null,"#,
        r#""user":{"name":"alice","role":"admin","groups":["ops","dev","audit"]},"#,
        r#""tags":[{"key":"env","value":"prod"},{"key":"team","value":"payments"}],"#,
        r#""request":{"method":"POST","path":"/api/v1/orders/8f14e45f","agent":"Mozilla/5.0 (X11; Linux x86_64)"},"#,
        r#""items":[{"sku":"A-100","qty":2,"price":19.99},{"sku":"B-200","qty":1,"price":5.5}],"#,
        r#""esc\u0041pe.d":"quote \" slash \/ tab \t uni \u00e9\ud83d\ude80","naïve":"café 🚀","a.b":{"c.d":[[1,[2]],{}]},"#,
        r#""notes":"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore."}}"#
    );

    /// Whether the token reader (the pattern reader: same grammar and limits, written
    /// independently) reads a complete first value from `text`, and that value is an object.
    fn reader_accepts_object(text: &str) -> bool {
        let mut reader = Reader::new(text);
        let mut depth = 0usize;
        let mut first = true;
        loop {
            match reader.next_token() {
                Err(_) => return false,
                Ok(token) => {
                    if first && token != Token::StartObject {
                        return false;
                    }
                    first = false;
                    match token {
                        Token::StartObject | Token::StartArray => depth += 1,
                        Token::EndObject | Token::EndArray => depth -= 1,
                        _ => {}
                    }
                    if depth == 0 {
                        return true;
                    }
                }
            }
        }
    }

    /// The matcher's verdict on `text`, once with rules reading every path of the event (so
    /// the walker reads it) and once with a rule reading none of it (so it is skipped).
    fn matcher_accepts(text: &str) -> bool {
        use crate::events::{Matcher, Pattern};
        let reading = [
            r#"{"source":["aws.ec2"],"detail":{"state":["running"],"port":[{"numeric":[">",1]}]}}"#,
            r#"{"detail":{"source-ip":[{"cidr":"10.0.0.0/8"}],"user":{"name":[{"prefix":"a"}]},"tags":{"key":["env"]}}}"#,
            r#"{"detail":{"escApe":{"d":[{"exists":true}]},"a":{"b":{"c":{"d":[1]}}},"naïve":[{"suffix":"🚀"}]}}"#,
            r#"{"detail":{"items":{"sku":[{"wildcard":"A-*"}]},"big":[{"exists":true}],"none":[null],"ok":[true]}}"#,
        ];
        let mut all = Matcher::new();
        for (i, p) in reading.iter().enumerate() {
            all.add_rule(i as u32, &Pattern::parse(p).unwrap());
        }
        let mut none = Matcher::new();
        none.add_rule(0, &Pattern::parse(r#"{"absent":[{"exists":false}]}"#).unwrap());
        let read = all.matches(text).is_ok();
        assert_eq!(read, none.matches(text).is_ok(), "reading and skipping disagree on {text:?}");
        read
    }

    #[test]
    fn the_bench_event_reads_as_the_token_reader_reads_it() {
        assert!(reader_accepts_object(BENCH_LIKE));
        assert!(matcher_accepts(BENCH_LIKE));
        let deep = |n: usize| format!(r#"{{"detail":{}1{}}}"#, "[".repeat(n), "]".repeat(n));
        for n in [998, 999, 1000, 1001] {
            assert_eq!(matcher_accepts(&deep(n)), reader_accepts_object(&deep(n)), "depth {n}");
        }
        assert!(matcher_accepts(&deep(999)) && !matcher_accepts(&deep(1000)));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

        /// Truncations, deletions and insertions of bytes that matter to JSON (control bytes,
        /// quotes, backslashes, bad escapes, brackets) anywhere in the bench event: the matcher
        /// accepts exactly what the token reader accepts.
        #[test]
        fn mutated_bench_events_read_as_the_token_reader_reads_them(
            at in 0usize..1200,
            how in 0u8..3,
            inserted in proptest::sample::select(vec![
                "\u{1}", "\u{1f}", "\t", "\n", "\"", "\\", "\\x", "\\u12", "\\u12G4", "\\uD800", "{", "}", "[", "]",
                ",", ":", " ", "-", "0", "01", ".", "e", "1e", "tru", "nul", "é", "🚀", "\u{7f}", "\u{0}", "\u{0}\"",
            ]),
        ) {
            let text = BENCH_LIKE;
            let mut cut = at.min(text.len());
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            let mutated = match how {
                0 => text[..cut].to_string(),
                1 => {
                    let next = text[cut..].chars().next().map_or(0, char::len_utf8);
                    format!("{}{}", &text[..cut], &text[cut + next..])
                }
                _ => format!("{}{inserted}{}", &text[..cut], &text[cut..]),
            };
            proptest::prop_assert_eq!(matcher_accepts(&mutated), reader_accepts_object(&mutated), "{:?}", mutated);
        }
    }

    /// The matcher's error on `text` (identical whether the walker reads or skips it).
    fn refusal(text: &str) -> Option<(String, usize)> {
        use crate::events::{EventError, Matcher, Pattern};
        let mut reading = Matcher::new();
        reading.add_rule(0, &Pattern::parse(r#"{"a":[{"exists":true}],"x":[{"exists":true}],"k":[1]}"#).unwrap());
        let mut skipping = Matcher::new();
        skipping.add_rule(0, &Pattern::parse(r#"{"absent":[{"exists":false}]}"#).unwrap());
        let read = reading.matches(text).err();
        assert_eq!(read, skipping.matches(text).err(), "reading and skipping disagree on {text:?}");
        match read {
            Some(EventError::Json(e)) => Some((e.message, e.offset)),
            Some(other) => panic!("{other} for {text:?}"),
            None => None,
        }
    }

    /// Errors at the end of the text and at zero bytes in it, with the text ending at every
    /// position of a 16- and a 64-byte block (the scanner reads a padded copy whose zeros stop
    /// its loops; the errors must still tell the end of the text from a zero byte in it).
    #[test]
    fn texts_ending_anywhere_and_zero_bytes_are_refused_as_before() {
        let end = |what: &str| format!("Unexpected end-of-input: {what}");
        let zero = |what: &str| format!("Unexpected character ('\0' (code 0)): {what}");
        let ctrl = "Illegal unquoted character ((CTRL-CHAR, code 0)): has to be escaped using backslash to be included in string value";
        let comma = "was expecting comma to separate Object entries";
        let cases: Vec<(&str, String, usize)> = vec![
            ("{\"a\":", end("expected a value"), 5),
            ("{\"a\":\"x", end("was expecting closing quote for a string value"), 7),
            ("{\"abcdefghijklmnop", end("was expecting closing quote for a string value"), 18),
            ("{\"a\":1", end(comma), 6),
            ("{\"a\":true", end(comma), 9),
            ("{\"a\":\"x\\", end("Unrecognized character escape"), 8),
            ("{\"a\":-", end("expected digit (0-9) to follow minus sign, for valid numeric value"), 6),
            ("{\"a\":1.", end("Decimal point not followed by a digit"), 7),
            ("{\"a\":tru", "Unrecognized token 'tru': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')".into(), 5),
            ("{\"a\":\"\0\"}", ctrl.into(), 6),
            ("{\"x\":\"abc\0", ctrl.into(), 9),
            ("{\"a\":\0}", zero("expected a value"), 5),
            ("{\"a\"\0:1}", zero("was expecting a colon to separate field name and value"), 4),
            ("{\0\"a\":1}", zero("was expecting double-quote to start field name"), 1),
            ("{\"a\":1\0}", zero(comma), 6),
            ("{\"x\":12\0", zero(comma), 7),
            ("{\"a\":1,\0\"b\":2}", zero("was expecting double-quote to start field name"), 7),
        ];
        for (text, message, offset) in cases {
            assert_eq!(refusal(text), Some((message.clone(), offset)), "{text:?}");
            // The same text after a member whose key is `shift` bytes longer: it ends (and its
            // zero byte sits) at every offset of a 64-byte block.
            for shift in 0..80 {
                let shifted = format!("{{\"k{}\":1,{}", " ".repeat(shift), &text[1..]);
                assert_eq!(refusal(&shifted), Some((message.clone(), offset + 6 + shift)), "{shifted:?}");
            }
        }
    }

    /// Two scanners alive at once, and a short text read after a long one in the reused
    /// buffer: each reads its own text, and the long one's bytes do not show past the short
    /// one's end.
    #[test]
    fn padded_buffers_are_per_scanner_and_cleared() {
        let long = format!("{{\"a\":\"{}\"}}", "x".repeat(300));
        let mut outer = Scanner::new(&long);
        let mut inner = Scanner::new("{\"a\":1}");
        assert!(inner.skip_value().is_ok() && outer.skip_value().is_ok());
        assert_eq!((outer.offset(), inner.offset()), (long.len(), 7));
        drop(inner);
        drop(outer);
        for short in ["{\"a\":\"xx", "{\"a\":\"x\"", "{\"a\":1"] {
            let mut s = Scanner::new(short);
            assert!(s.skip_value().is_err(), "{short}");
            assert_eq!(s.offset(), short.len(), "{short}");
        }
        assert!(is_json_object("{}") && !is_json_object("{"));
        // Opening at the end of the text leaves the cursor there.
        let mut s = Scanner::new("[");
        assert!(s.open().is_ok() && s.open().is_ok());
        assert_eq!(s.offset(), 1);
    }

    #[test]
    fn numbers_read_as_the_general_reader_reads_them() {
        let numbers = [
            "0", "-0", "7", "-12", "443", "18234", "12.5", "-0.25", "19.99", "01", "-", "-a", "1.", "1.e5", "00.5", "1e5",
            "1E+4", "2.5e-3", "1x", "1.5.2", "9007199254740993", "123456789012345678901234567890",
        ];
        for n in numbers {
            for after in ["", ",", "}", "]", " ", "\n", "x", ".", "e", "-", "+", "0"] {
                let text = format!("{n}{after}");
                let mut s = Scanner::new(&text);
                let got = s.number().map(|t| (t.to_string(), s.i));
                let want = number_end(&text, 0).map(|end| (text[..end].to_string(), end));
                assert_eq!(got, want, "{text:?}");
            }
        }
    }

    #[test]
    fn json_objects_alone() {
        for ok in ["{}", " {\"a\": [1, {\"b\": null}]}\n", "{\"a\": \"}\"}"] {
            assert!(is_json_object(ok), "{ok}");
        }
        for bad in ["", "[]", "\"{}\"", "1", "{} {}", "{\"a\": 1", "{\"a\": 1}}", "{\"a\": 1} x", "{'a': 1}"] {
            assert!(!is_json_object(bad), "{bad}");
        }
    }

    #[test]
    fn strings_decode_only_when_escaped() {
        let mut s = Scanner::new(r#""plain""#);
        assert!(matches!(s.string().unwrap(), Cow::Borrowed("plain")));
        let mut s = Scanner::new(r#""a\nb\ud83d\ude80""#);
        assert_eq!(s.string().unwrap(), "a\nb🚀");
    }
}
