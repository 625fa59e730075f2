//! Text → compiled path segments, following Jayway's `PathCompiler` as AWS runs it.
//!
//! Owns the grammar after the root (`$`, `$$`, `$name` are split off by `Path::parse`).
//! Invariants:
//! - Never panics on any input: every index into the text is bounds-checked through
//!   [`Cursor`], and all failures become [`PathSyntaxError`].
//! - Bracket-quoted names are kept *raw*: a backslash only stops the next character from
//!   closing the string, it is not removed. AWS's Jayway does this (recorded case
//!   `test_escape_sequence_parsing__ESCAPE_SEQUENCES_JSONPATH`: `$['Test\""Name"']` selects the
//!   key `Test\""Name"`, backslash included).
//! - A dot name runs to the next `.` or `[`; `(`/`)` are part of it. AWS reports
//!   `$.list.length()` as `Property ['length()'] not found` (awsdocs developer-guide PR #5), so
//!   Jayway functions are plain property names here and simply select nothing.

use smallvec::SmallVec;

use super::filter::{self, FilterExpr};
use super::PathSyntaxError;
use crate::value::{Key, Str};

/// One compiled step of a path.
#[derive(Clone, Debug)]
pub(crate) enum Segment {
    /// `.name` or `['name']`.
    Property(Key),
    /// `['a','b']`: a union of names (a merged object when it is the last segment, as Jayway).
    Properties(SmallVec<[Str; 2]>),
    /// `[3]`, `[-1]`.
    Index(i64),
    /// `[0,2]`.
    Indices(SmallVec<[i64; 4]>),
    /// `[1:5]`, `[:2]`, `[-2:]` (a third, step part is read and ignored, as Jayway does).
    Slice { start: Option<i64>, end: Option<i64> },
    /// `.*` / `[*]`.
    Wildcard,
    /// `..x`: deep scan applying the inner segment at every level.
    Scan(Box<Segment>),
    /// `[?(…)]`.
    Filter(Box<FilterExpr>),
}

impl Segment {
    /// Whether this step alone keeps a path definite; `is_last` matters for name unions,
    /// which Jayway merges into one object only at the end of a path.
    pub(crate) fn is_definite(&self, is_last: bool) -> bool {
        match self {
            Segment::Property(_) | Segment::Index(_) => true,
            Segment::Properties(_) => is_last,
            _ => false,
        }
    }

    /// Jayway's normalized rendering of this step (`['a']`, `[0]`, `[*]`, …).
    pub(crate) fn write_normalized(&self, out: &mut String) {
        match self {
            Segment::Property(name) => {
                out.push_str("['");
                out.push_str(name);
                out.push_str("']");
            }
            Segment::Properties(names) => {
                out.push('[');
                for (i, name) in names.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push('\'');
                    out.push_str(name);
                    out.push('\'');
                }
                out.push(']');
            }
            Segment::Index(i) => {
                out.push('[');
                out.push_str(itoa::Buffer::new().format(*i));
                out.push(']');
            }
            Segment::Indices(list) => {
                out.push('[');
                for (n, i) in list.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    out.push_str(itoa::Buffer::new().format(*i));
                }
                out.push(']');
            }
            Segment::Slice { start, end } => {
                out.push('[');
                if let Some(s) = start {
                    out.push_str(itoa::Buffer::new().format(*s));
                }
                out.push(':');
                if let Some(e) = end {
                    out.push_str(itoa::Buffer::new().format(*e));
                }
                out.push(']');
            }
            Segment::Wildcard => out.push_str("[*]"),
            Segment::Scan(inner) => {
                out.push_str("..");
                inner.write_normalized(out);
            }
            Segment::Filter(_) => out.push_str("[?]"),
        }
    }
}

/// Bounds-checked reading over the path's characters.
pub(crate) struct Cursor<'a> {
    chars: Vec<char>,
    pos: usize,
    text: &'a str,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(text: &'a str) -> Cursor<'a> {
        Cursor { chars: text.chars().collect(), pos: 0, text }
    }
    pub(crate) fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }
    pub(crate) fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }
    pub(crate) fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }
    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }
    pub(crate) fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }
    pub(crate) fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    pub(crate) fn position(&self) -> usize {
        self.pos
    }
    pub(crate) fn slice(&self, from: usize, to: usize) -> String {
        self.chars.get(from..to.min(self.chars.len())).map(|s| s.iter().collect()).unwrap_or_default()
    }
    pub(crate) fn error(&self, what: &str) -> PathSyntaxError {
        PathSyntaxError { message: format!("Invalid path '{}': {} at position {}", self.text, what, self.pos) }
    }
}

/// Parses the segments that follow a root. Stops at the end of the text, or — when
/// `in_filter` — at the first character that cannot continue a path (space, operator, `)`).
pub(crate) fn parse_segments(
    cur: &mut Cursor<'_>,
    in_filter: bool,
) -> Result<SmallVec<[Segment; 4]>, PathSyntaxError> {
    let mut segments: SmallVec<[Segment; 4]> = SmallVec::new();
    loop {
        match cur.peek() {
            None => break,
            Some('.') => {
                if cur.peek_at(1) == Some('.') {
                    cur.bump();
                    cur.bump();
                    let inner = match cur.peek() {
                        Some('[') => parse_bracket(cur)?,
                        Some('*') => {
                            cur.bump();
                            Segment::Wildcard
                        }
                        Some(c) if is_name_char(c, in_filter) => Segment::Property(Key::new(read_dot_name(cur, in_filter)?)),
                        _ => return Err(cur.error("Path must not end with a '.' or '..'")),
                    };
                    segments.push(Segment::Scan(Box::new(inner)));
                } else {
                    cur.bump();
                    match cur.peek() {
                        Some('*') => {
                            cur.bump();
                            segments.push(Segment::Wildcard);
                        }
                        Some('[') => segments.push(parse_bracket(cur)?),
                        Some(c) if is_name_char(c, in_filter) => {
                            segments.push(Segment::Property(Key::new(read_dot_name(cur, in_filter)?)))
                        }
                        None => return Err(cur.error("Path must not end with a '.' or '..'")),
                        Some(c) => return Err(cur.error(&format!("Character '{c}' is not valid here"))),
                    }
                }
            }
            Some('[') => segments.push(parse_bracket(cur)?),
            Some(c) if in_filter && !is_name_char(c, true) => break,
            Some(c) => return Err(cur.error(&format!("Character '{c}' is not valid here"))),
        }
    }
    Ok(segments)
}

/// Characters a dot name may hold. Outside filters Jayway reads to the next `.` or `[` and
/// rejects blanks; inside a filter the name also ends at operators and parentheses so that
/// `@.a==1` and `(@.a)` work.
fn is_name_char(c: char, in_filter: bool) -> bool {
    if c == '.' || c == '[' || c.is_whitespace() {
        return false;
    }
    !(in_filter && matches!(c, '=' | '!' | '<' | '>' | '&' | '|' | ')' | '(' | ',' | ']' | '~'))
}

fn read_dot_name(cur: &mut Cursor<'_>, in_filter: bool) -> Result<Str, PathSyntaxError> {
    let start = cur.position();
    while let Some(c) = cur.peek() {
        if !is_name_char(c, in_filter) {
            if c.is_whitespace() && !in_filter {
                return Err(cur.error("Use bracket notion ['my prop'] if your property contains blank characters"));
            }
            break;
        }
        cur.bump();
    }
    if cur.position() == start {
        return Err(cur.error("Empty property name"));
    }
    Ok(Str::from(cur.slice(start, cur.position())))
}

fn parse_bracket(cur: &mut Cursor<'_>) -> Result<Segment, PathSyntaxError> {
    cur.bump(); // '['
    cur.skip_spaces();
    match cur.peek() {
        Some('?') => {
            cur.bump();
            cur.skip_spaces();
            if !cur.eat('(') {
                return Err(cur.error("Expected '(' after '[?'"));
            }
            let expr = filter::parse_filter(cur)?;
            cur.skip_spaces();
            if !cur.eat(')') {
                return Err(cur.error("Expected ')' to close the filter"));
            }
            cur.skip_spaces();
            if !cur.eat(']') {
                return Err(cur.error("Expected ']' to close the filter"));
            }
            Ok(Segment::Filter(Box::new(expr)))
        }
        Some('*') => {
            cur.bump();
            cur.skip_spaces();
            if !cur.eat(']') {
                return Err(cur.error("Expected ']' after '[*'"));
            }
            Ok(Segment::Wildcard)
        }
        Some('\'') | Some('"') => {
            let mut names: SmallVec<[Str; 2]> = SmallVec::new();
            loop {
                cur.skip_spaces();
                let quote = match cur.bump() {
                    Some(q @ ('\'' | '"')) => q,
                    _ => return Err(cur.error("Expected a quoted property name")),
                };
                names.push(Str::from(read_raw_quoted(cur, quote)?));
                cur.skip_spaces();
                match cur.bump() {
                    Some(',') => continue,
                    Some(']') => break,
                    _ => return Err(cur.error("Property must be separated by comma or terminated by ']'")),
                }
            }
            if names.len() == 1 {
                Ok(Segment::Property(Key::new(names.swap_remove(0))))
            } else {
                Ok(Segment::Properties(names))
            }
        }
        _ => parse_index_or_slice(cur),
    }
}

/// Reads up to the closing `quote`; a backslash protects the next character but stays in the
/// name (see the module comment for the recorded AWS behaviour).
pub(crate) fn read_raw_quoted(cur: &mut Cursor<'_>, quote: char) -> Result<String, PathSyntaxError> {
    let start = cur.position();
    loop {
        match cur.bump() {
            None => return Err(cur.error("Property has not been closed - missing closing quote")),
            Some('\\') => {
                if cur.bump().is_none() {
                    return Err(cur.error("Property has not been closed - missing closing quote"));
                }
            }
            Some(c) if c == quote => return Ok(cur.slice(start, cur.position() - 1)),
            Some(_) => {}
        }
    }
}

fn parse_index_or_slice(cur: &mut Cursor<'_>) -> Result<Segment, PathSyntaxError> {
    let start = cur.position();
    while let Some(c) = cur.peek() {
        if c == ']' {
            break;
        }
        if !(c.is_ascii_digit() || matches!(c, '-' | ':' | ',' | ' ')) {
            return Err(cur.error(&format!("Character '{c}' is not allowed in an array index")));
        }
        cur.bump();
    }
    let content = cur.slice(start, cur.position());
    if !cur.eat(']') {
        return Err(cur.error("Expected ']'"));
    }
    let content = content.trim();
    if content.is_empty() {
        return Err(cur.error("Empty brackets"));
    }
    let parse_int = |s: &str| -> Result<i64, PathSyntaxError> {
        s.trim().parse::<i64>().map_err(|_| cur.error(&format!("Invalid array index '{}'", s.trim())))
    };
    let parse_opt = |s: &str| -> Result<Option<i64>, PathSyntaxError> {
        if s.trim().is_empty() {
            Ok(None)
        } else {
            parse_int(s).map(Some)
        }
    };
    if content.contains(':') {
        if content.contains(',') {
            return Err(cur.error("A slice cannot be combined with a union"));
        }
        let mut parts = content.split(':');
        let start = parse_opt(parts.next().unwrap_or(""))?;
        let end = parse_opt(parts.next().unwrap_or(""))?;
        // Jayway reads only the first two parts; a step is accepted and ignored.
        if let Some(step) = parts.next() {
            parse_opt(step)?;
        }
        if parts.next().is_some() {
            return Err(cur.error("Too many ':' in slice"));
        }
        return Ok(Segment::Slice { start, end });
    }
    if content.contains(',') {
        let list = content.split(',').map(parse_int).collect::<Result<SmallVec<[i64; 4]>, _>>()?;
        return Ok(Segment::Indices(list));
    }
    Ok(Segment::Index(parse_int(content)?))
}
