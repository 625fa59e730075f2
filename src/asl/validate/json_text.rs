//! Reading the definition text as AWS does (Jackson `readTree`), and describing syntax errors
//! with Jackson's wording, which AWS passes through as `INVALID_JSON_DESCRIPTION`.
//!
//! Invariants: only the first JSON value is read (Jackson ignores trailing content by default);
//! blank text is "not a JSON object" rather than a syntax error (recorded for `" "`). Error text
//! is produced by a small scanner that mirrors Jackson's first-error behaviour; the recorded case
//! (`Unrecognized token`) is exact, the other wordings follow Jackson's sources.

use serde_json::Value;

use super::{codes, Diagnostic};

/// Jackson quotes at most this many characters of the source in a location.
const SOURCE_SNIPPET_LIMIT: usize = 500;

pub(super) fn parse_definition(text: &str) -> Result<Value, Diagnostic> {
    if text.trim().is_empty() {
        return Err(Diagnostic::error(
            codes::SCHEMA_VALIDATION_FAILED,
            "Definition must be a valid JSON object",
            None,
        ));
    }
    let mut values = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    match values.next() {
        Some(Ok(value)) => Ok(value),
        Some(Err(error)) => {
            if error.to_string().contains("recursion limit exceeded") {
                // serde_json stops at 128 levels; AWS's limit is unknown. Reported as nesting
                // rather than as a syntax error (message guessed).
                return Err(Diagnostic::error(
                    codes::TOO_DEEPLY_NESTED,
                    "The definition is too deeply nested",
                    None,
                ));
            }
            let message = jackson_error(text).unwrap_or_else(|| {
                // Fallback when our scanner disagrees with serde_json about validity.
                format!("{error}\n at {}", source_location(text, error.line(), error.column()))
            });
            let location = message.split_once("\n at ").map(|(_, at)| at.to_string());
            Err(Diagnostic::error(codes::INVALID_JSON_DESCRIPTION, message, location))
        }
        None => Err(Diagnostic::error(
            codes::SCHEMA_VALIDATION_FAILED,
            "Definition must be a valid JSON object",
            None,
        )),
    }
}

fn source_location(text: &str, line: usize, column: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let snippet: String = chars.iter().take(SOURCE_SNIPPET_LIMIT).collect();
    let truncated = if chars.len() > SOURCE_SNIPPET_LIMIT {
        format!("[truncated {} chars]", chars.len() - SOURCE_SNIPPET_LIMIT)
    } else {
        String::new()
    };
    format!("[Source: (String)\"{snippet}\"{truncated}; line: {line}, column: {column}]")
}

/// Position tracking as Jackson reports it: 1-based line, and column = chars consumed on the
/// line + 1 (so an error found after reading `not` at the start reports column 4).
struct Scanner<'a> {
    chars: Vec<char>,
    pos: usize,
    line: usize,
    line_start: usize,
    text: &'a str,
}

enum Container {
    Object,
    Array,
}

impl<'a> Scanner<'a> {
    fn location(&self) -> String {
        source_location(self.text, self.line, self.pos - self.line_start + 1)
    }

    fn fail(&self, message: String) -> Option<String> {
        Some(format!("{message}\n at {}", self.location()))
    }

    fn skip_whitespace(&mut self) {
        while let Some(&c) = self.chars.get(self.pos) {
            match c {
                ' ' | '\t' | '\r' => self.pos += 1,
                '\n' => {
                    self.pos += 1;
                    self.line += 1;
                    self.line_start = self.pos;
                }
                _ => break,
            }
        }
    }

    fn next_char(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn unexpected(&self, c: char, expectation: &str) -> Option<String> {
        self.fail(format!("Unexpected character ({}): {expectation}", describe_char(c)))
    }

    fn end_of_input(&self, stack: &[(Container, String)]) -> Option<String> {
        match stack.last() {
            Some((Container::Object, start)) => self.fail(format!(
                "Unexpected end-of-input: expected close marker for Object (start marker at {start})"
            )),
            Some((Container::Array, start)) => self.fail(format!(
                "Unexpected end-of-input: expected close marker for Array (start marker at {start})"
            )),
            None => self.fail("No content to map due to end-of-input".to_string()),
        }
    }

    /// Reads a string body after the opening quote.
    fn string(&mut self) -> Result<(), Option<String>> {
        loop {
            match self.next_char() {
                None => return Err(self.fail("Unexpected end-of-input: was expecting closing quote for a string value".into())),
                Some('"') => return Ok(()),
                Some('\\') => match self.next_char() {
                    Some('"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't') => {}
                    Some('u') => {
                        for _ in 0..4 {
                            match self.next_char() {
                                Some(h) if h.is_ascii_hexdigit() => {}
                                Some(h) => {
                                    return Err(self.fail(format!(
                                        "Unexpected character ({}): expected a hex-digit for character escape sequence",
                                        describe_char(h)
                                    )))
                                }
                                None => return Err(self.fail("Unexpected end-of-input in character escape sequence".into())),
                            }
                        }
                    }
                    Some(other) => {
                        return Err(self.fail(format!("Unrecognized character escape {}", describe_char(other))))
                    }
                    None => return Err(self.fail("Unexpected end-of-input in character escape sequence".into())),
                },
                Some(c) if (c as u32) < 0x20 => {
                    return Err(self.fail(format!(
                        "Illegal unquoted character ((CTRL-CHAR, code {})): has to be escaped using backslash to be included in string value",
                        c as u32
                    )))
                }
                Some(_) => {}
            }
        }
    }

    /// Reads a scalar or opens a container; returns the container opened, if any.
    fn value(&mut self, stack: &[(Container, String)]) -> Result<Option<Container>, Option<String>> {
        let Some(c) = self.next_char() else { return Err(self.end_of_input(stack)) };
        match c {
            '{' => Ok(Some(Container::Object)),
            '[' => Ok(Some(Container::Array)),
            '"' => self.string().map(|_| None),
            '-' | '0'..='9' => self.number(c).map(|_| None),
            _ if is_token_char(c) => {
                let start = self.pos - 1;
                while self.chars.get(self.pos).is_some_and(|&n| is_token_char(n)) {
                    self.pos += 1;
                }
                let token: String = self.chars.get(start..self.pos).unwrap_or_default().iter().collect();
                if matches!(token.as_str(), "true" | "false" | "null") {
                    Ok(None)
                } else {
                    Err(self.fail(format!(
                        "Unrecognized token '{token}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
                    )))
                }
            }
            _ => Err(self.unexpected(c, "expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')")),
        }
    }

    fn number(&mut self, first: char) -> Result<(), Option<String>> {
        let start = self.pos - 1;
        while self.chars.get(self.pos).is_some_and(|&n| n.is_ascii_digit() || matches!(n, '.' | 'e' | 'E' | '+' | '-')) {
            self.pos += 1;
        }
        let literal: String = self.chars.get(start..self.pos).unwrap_or_default().iter().collect();
        let body = literal.strip_prefix('-').unwrap_or(&literal);
        if body.len() > 1 && body.starts_with('0') && body.as_bytes().get(1).is_some_and(|b| b.is_ascii_digit()) {
            return Err(self.fail("Invalid numeric value: Leading zeroes not allowed".into()));
        }
        if literal.parse::<f64>().is_err() || (first == '-' && body.is_empty()) {
            return Err(self.fail(format!("Invalid numeric value: '{literal}'")));
        }
        Ok(())
    }
}

/// Jackson reads an unrecognised token up to the next non-identifier character.
fn is_token_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

fn describe_char(c: char) -> String {
    let code = c as u32;
    if code < 0x20 {
        format!("(CTRL-CHAR, code {code})")
    } else {
        format!("'{c}' (code {code})")
    }
}

/// The first syntax error in `text` as Jackson words it, or `None` if the scanner finds none.
fn jackson_error(text: &str) -> Option<String> {
    let mut s = Scanner { chars: text.chars().collect(), pos: 0, line: 1, line_start: 0, text };
    let mut stack: Vec<(Container, String)> = Vec::new();
    s.skip_whitespace();
    // After a value, what may follow depends on the enclosing container.
    let mut expect_value = true;
    loop {
        if expect_value {
            s.skip_whitespace();
            // Empty containers close immediately.
            let start_location = source_location(text, s.line, s.pos - s.line_start + 1);
            match s.value(&stack) {
                Ok(Some(container)) => {
                    s.skip_whitespace();
                    let closer = match container {
                        Container::Object => '}',
                        Container::Array => ']',
                    };
                    if s.chars.get(s.pos) == Some(&closer) {
                        s.pos += 1;
                        expect_value = false;
                        if stack.is_empty() {
                            return None;
                        }
                        continue;
                    }
                    let is_object = matches!(container, Container::Object);
                    stack.push((container, start_location));
                    if is_object {
                        if let Some(error) = object_key(&mut s, &stack) {
                            return Some(error);
                        }
                    }
                    continue;
                }
                Ok(None) => {
                    if stack.is_empty() {
                        return None;
                    }
                    expect_value = false;
                }
                Err(error) => return error,
            }
        }
        s.skip_whitespace();
        let Some(c) = s.next_char() else { return s.end_of_input(&stack) };
        let (top, _) = stack.last()?;
        match (top, c) {
            (Container::Object, ',') => {
                if let Some(error) = object_key(&mut s, &stack) {
                    return Some(error);
                }
                expect_value = true;
            }
            (Container::Array, ',') => expect_value = true,
            (Container::Object, '}') | (Container::Array, ']') => {
                stack.pop();
                if stack.is_empty() {
                    return None;
                }
            }
            (Container::Object, other) => {
                return s.unexpected(other, "was expecting comma to separate Object entries")
            }
            (Container::Array, other) => {
                return s.unexpected(other, "was expecting comma to separate Array entries")
            }
        }
    }
}

/// Reads `"name" :` inside an object; the value follows.
fn object_key(s: &mut Scanner<'_>, stack: &[(Container, String)]) -> Option<String> {
    s.skip_whitespace();
    match s.next_char() {
        None => return s.end_of_input(stack),
        Some('"') => {
            if let Err(error) = s.string() {
                return error;
            }
        }
        Some(c) => return s.unexpected(c, "was expecting double-quote to start field name"),
    }
    s.skip_whitespace();
    match s.next_char() {
        None => s.end_of_input(stack),
        Some(':') => None,
        Some(c) => s.unexpected(c, "was expecting a colon to separate field name and value"),
    }
}
