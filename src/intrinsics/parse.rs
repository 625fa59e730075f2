//! Intrinsic call text → [`Call`] tree.
//!
//! Grammar: `States.Name(arg, …)`; an arg is a `'string'` (escapes `\'` `\{` `\}` `\\`), a
//! number (`-1`, `2.5`), `null`, `true`/`false`, a path (`$…`, `$$…`, `$var…`, compiled with
//! [`Path`]) or a nested call. Whitespace is allowed around args. Never panics: all reads are
//! bounds-checked on a `Vec<char>`.

use super::{Function, IntrinsicSyntaxError};
use crate::jsonpath::Path;
use crate::value::{Str, Value};

/// AWS allows up to 10 nested intrinsics in one field; deeper nesting is rejected.
const MAX_NESTING: usize = 10;

#[derive(Clone, Debug)]
pub(crate) struct Call {
    pub(crate) function: Function,
    pub(crate) args: Vec<Arg>,
}

#[derive(Clone, Debug)]
pub(crate) enum Arg {
    /// A quoted string: `value` has escapes removed; `raw` keeps them, because Format must
    /// tell an escaped `\{` from a placeholder `{`.
    Text { value: Str, raw: Str },
    Literal(Value),
    Path(Box<Path>),
    Call(Box<Call>),
}

struct Reader<'a> {
    chars: Vec<char>,
    pos: usize,
    text: &'a str,
}

impl Reader<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }
    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }
    fn error(&self, what: &str) -> IntrinsicSyntaxError {
        IntrinsicSyntaxError {
            message: format!("The value for the field is not a valid intrinsic function: '{}' ({what} at position {})", self.text, self.pos),
        }
    }
}

pub(crate) fn parse_call_text(text: &str) -> Result<Call, IntrinsicSyntaxError> {
    let mut r = Reader { chars: text.chars().collect(), pos: 0, text };
    r.skip_spaces();
    let call = parse_call(&mut r, 1)?;
    r.skip_spaces();
    if r.peek().is_some() {
        return Err(r.error("unexpected text after the call"));
    }
    Ok(call)
}

fn parse_call(r: &mut Reader<'_>, depth: usize) -> Result<Call, IntrinsicSyntaxError> {
    if depth > MAX_NESTING {
        return Err(r.error("more than 10 nested intrinsic functions"));
    }
    let start = r.pos;
    while r.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_') {
        r.bump();
    }
    let name: String = r.chars[start..r.pos].iter().collect();
    let function = Function::from_name(&name).ok_or_else(|| r.error(&format!("unknown function '{name}'")))?;
    r.skip_spaces();
    if r.bump() != Some('(') {
        return Err(r.error("expected '('"));
    }
    let mut args = Vec::new();
    r.skip_spaces();
    if r.peek() == Some(')') {
        r.bump();
        return Ok(Call { function, args });
    }
    loop {
        r.skip_spaces();
        args.push(parse_arg(r, depth)?);
        r.skip_spaces();
        match r.bump() {
            Some(',') => continue,
            Some(')') => return Ok(Call { function, args }),
            _ => return Err(r.error("expected ',' or ')'")),
        }
    }
}

fn parse_arg(r: &mut Reader<'_>, depth: usize) -> Result<Arg, IntrinsicSyntaxError> {
    match r.peek() {
        Some('\'') => parse_text(r),
        Some('$') => parse_path(r),
        Some(c) if c == '-' || c.is_ascii_digit() => {
            let start = r.pos;
            r.bump();
            while r.peek().is_some_and(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-')) {
                r.bump();
            }
            let text: String = r.chars[start..r.pos].iter().collect();
            match crate::value::parse_str(&text) {
                Ok(v @ Value::Number(_)) => Ok(Arg::Literal(v)),
                _ => Err(r.error(&format!("invalid number '{text}'"))),
            }
        }
        Some(c) if c.is_ascii_alphabetic() => {
            let start = r.pos;
            while r.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_') {
                r.bump();
            }
            let word: String = r.chars[start..r.pos].iter().collect();
            match word.as_str() {
                "null" => Ok(Arg::Literal(Value::Null)),
                "true" => Ok(Arg::Literal(Value::Bool(true))),
                "false" => Ok(Arg::Literal(Value::Bool(false))),
                _ => {
                    r.pos = start;
                    Ok(Arg::Call(Box::new(parse_call(r, depth + 1)?)))
                }
            }
        }
        _ => Err(r.error("expected an argument")),
    }
}

fn parse_text(r: &mut Reader<'_>) -> Result<Arg, IntrinsicSyntaxError> {
    r.bump(); // opening quote
    let mut value = String::new();
    let mut raw = String::new();
    loop {
        match r.bump() {
            None => return Err(r.error("unterminated string")),
            Some('\'') => break,
            Some('\\') => match r.bump() {
                Some(c @ ('\'' | '{' | '}' | '\\')) => {
                    value.push(c);
                    raw.push('\\');
                    raw.push(c);
                }
                Some(c) => return Err(r.error(&format!("invalid escape '\\{c}'"))),
                None => return Err(r.error("dangling '\\'")),
            },
            Some(c) => {
                value.push(c);
                raw.push(c);
            }
        }
    }
    Ok(Arg::Text { value: Str::from(value), raw: Str::from(raw) })
}

/// A path argument runs to the next `,` or `)` outside brackets, parentheses and quotes.
fn parse_path(r: &mut Reader<'_>) -> Result<Arg, IntrinsicSyntaxError> {
    let start = r.pos;
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    while let Some(c) = r.peek() {
        match quote {
            Some(q) => {
                if c == '\\' {
                    r.bump();
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' => quote = Some(c),
                '[' | '(' => depth += 1,
                ']' => depth = depth.saturating_sub(1),
                ')' if depth == 0 => break,
                ')' => depth -= 1,
                ',' if depth == 0 => break,
                _ => {}
            },
        }
        r.bump();
    }
    let text: String = r.chars[start..r.pos].iter().collect();
    let path = Path::parse(text.trim()).map_err(|e| r.error(&format!("invalid path: {e}")))?;
    Ok(Arg::Path(Box::new(path)))
}
