//! Filter expressions (`[?(…)]`): parsing and evaluation with Jayway's comparison rules.
//!
//! Grammar (Jayway `FilterCompiler`): `or := and ('||' and)*`, `and := unary ('&&' unary)*`,
//! `unary := '!' unary | '(' or ')' | operand (op operand)?`. An operand alone must be a path
//! and tests existence. Operators: `==`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `nin`.
//! Semantics (Jayway's evaluators):
//! - A path operand that selects nothing is *undefined*: every comparison with it is false
//!   except `!=`, which is the negation of `==` and so true.
//! - `==` compares numbers numerically and strings by text; a number and a string are equal
//!   when the string reads as that number (Jayway converts between the two nodes).
//! - `<`, `<=`, `>`, `>=` hold only between two numbers or two strings (code-point order).
//! - `=~` (regex) is not supported: it is a syntax error here (no regex engine in the crate).

use smallvec::SmallVec;

use super::eval::{select_many, select_one};
use super::parse::{parse_segments, read_raw_quoted, Cursor, Segment};
use super::PathSyntaxError;
use crate::value::{Number, Value};

#[derive(Clone, Debug)]
pub(crate) enum FilterExpr {
    Or(Box<FilterExpr>, Box<FilterExpr>),
    And(Box<FilterExpr>, Box<FilterExpr>),
    Not(Box<FilterExpr>),
    Exists(Box<Operand>),
    Compare(Box<Operand>, CompareOp, Box<Operand>),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Nin,
}

#[derive(Clone, Debug)]
pub(crate) enum Operand {
    /// `@…`: relative to the element being tested.
    Current(SmallVec<[Segment; 4]>),
    /// `$…`: relative to the document root.
    Root(SmallVec<[Segment; 4]>),
    Literal(Value),
}

/// Parses the inside of `[?( … )]`, leaving the cursor on the closing `)`.
pub(crate) fn parse_filter(cur: &mut Cursor<'_>) -> Result<FilterExpr, PathSyntaxError> {
    parse_or(cur, 0)
}

/// Nesting limit so hostile input cannot overflow the stack.
const MAX_DEPTH: usize = 64;

fn parse_or(cur: &mut Cursor<'_>, depth: usize) -> Result<FilterExpr, PathSyntaxError> {
    let mut left = parse_and(cur, depth)?;
    loop {
        cur.skip_spaces();
        if cur.peek() == Some('|') && cur.peek_at(1) == Some('|') {
            cur.bump();
            cur.bump();
            let right = parse_and(cur, depth)?;
            left = FilterExpr::Or(Box::new(left), Box::new(right));
        } else {
            return Ok(left);
        }
    }
}

fn parse_and(cur: &mut Cursor<'_>, depth: usize) -> Result<FilterExpr, PathSyntaxError> {
    let mut left = parse_unary(cur, depth)?;
    loop {
        cur.skip_spaces();
        if cur.peek() == Some('&') && cur.peek_at(1) == Some('&') {
            cur.bump();
            cur.bump();
            let right = parse_unary(cur, depth)?;
            left = FilterExpr::And(Box::new(left), Box::new(right));
        } else {
            return Ok(left);
        }
    }
}

fn parse_unary(cur: &mut Cursor<'_>, depth: usize) -> Result<FilterExpr, PathSyntaxError> {
    if depth > MAX_DEPTH {
        return Err(cur.error("Filter nested too deeply"));
    }
    cur.skip_spaces();
    match cur.peek() {
        Some('!') if cur.peek_at(1) != Some('=') => {
            cur.bump();
            Ok(FilterExpr::Not(Box::new(parse_unary(cur, depth + 1)?)))
        }
        Some('(') => {
            cur.bump();
            let inner = parse_or(cur, depth + 1)?;
            cur.skip_spaces();
            if !cur.eat(')') {
                return Err(cur.error("Expected ')' in filter"));
            }
            Ok(inner)
        }
        _ => parse_relation(cur),
    }
}

fn parse_relation(cur: &mut Cursor<'_>) -> Result<FilterExpr, PathSyntaxError> {
    let left = parse_operand(cur)?;
    cur.skip_spaces();
    let op = match (cur.peek(), cur.peek_at(1)) {
        (Some('='), Some('=')) => Some((CompareOp::Eq, 2)),
        (Some('!'), Some('=')) => Some((CompareOp::Ne, 2)),
        (Some('<'), Some('=')) => Some((CompareOp::Le, 2)),
        (Some('>'), Some('=')) => Some((CompareOp::Ge, 2)),
        (Some('<'), _) => Some((CompareOp::Lt, 1)),
        (Some('>'), _) => Some((CompareOp::Gt, 1)),
        (Some('='), Some('~')) => return Err(cur.error("Regular expressions (=~) are not supported")),
        (Some('i'), Some('n')) if !cur.peek_at(2).is_some_and(char::is_alphanumeric) => Some((CompareOp::In, 2)),
        (Some('n'), Some('i')) if cur.peek_at(2) == Some('n') => Some((CompareOp::Nin, 3)),
        _ => None,
    };
    match op {
        None => match left {
            Operand::Literal(_) => Err(cur.error("A literal alone is not a filter condition")),
            path => Ok(FilterExpr::Exists(Box::new(path))),
        },
        Some((op, width)) => {
            for _ in 0..width {
                cur.bump();
            }
            let right = parse_operand(cur)?;
            Ok(FilterExpr::Compare(Box::new(left), op, Box::new(right)))
        }
    }
}

fn parse_operand(cur: &mut Cursor<'_>) -> Result<Operand, PathSyntaxError> {
    cur.skip_spaces();
    match cur.peek() {
        Some('@') => {
            cur.bump();
            Ok(Operand::Current(parse_segments(cur, true)?))
        }
        Some('$') => {
            cur.bump();
            Ok(Operand::Root(parse_segments(cur, true)?))
        }
        Some(q @ ('\'' | '"')) => {
            cur.bump();
            Ok(Operand::Literal(Value::string(read_raw_quoted(cur, q)?)))
        }
        Some('[') => parse_json_literal(cur, '[', ']'),
        Some('{') => parse_json_literal(cur, '{', '}'),
        Some(c) if c == '-' || c.is_ascii_digit() => {
            let start = cur.position();
            while cur.peek().is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')) {
                cur.bump();
            }
            let text = cur.slice(start, cur.position());
            match crate::value::parse_str(&text) {
                Ok(v @ Value::Number(_)) => Ok(Operand::Literal(v)),
                _ => Err(cur.error(&format!("Invalid number '{text}' in filter"))),
            }
        }
        Some(c) if c.is_ascii_alphabetic() => {
            let start = cur.position();
            while cur.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
                cur.bump();
            }
            match cur.slice(start, cur.position()).as_str() {
                "true" => Ok(Operand::Literal(Value::Bool(true))),
                "false" => Ok(Operand::Literal(Value::Bool(false))),
                "null" => Ok(Operand::Literal(Value::Null)),
                other => Err(cur.error(&format!("Unexpected '{other}' in filter"))),
            }
        }
        _ => Err(cur.error("Expected a value or a path in filter")),
    }
}

/// JSON array/object literal (for `in`/`nin`); single-quoted strings inside are accepted as
/// Jayway does, by reading them as JSON strings.
fn parse_json_literal(cur: &mut Cursor<'_>, open: char, close: char) -> Result<Operand, PathSyntaxError> {
    let start = cur.position();
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    loop {
        let c = cur.bump().ok_or_else(|| cur.error("Unterminated literal in filter"))?;
        match quote {
            Some(q) => {
                if c == '\\' {
                    cur.bump();
                } else if c == q {
                    quote = None;
                }
            }
            None => {
                if c == '\'' || c == '"' {
                    quote = Some(c);
                } else if c == open {
                    depth += 1;
                } else if c == close {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                }
            }
        }
    }
    let text = cur.slice(start, cur.position());
    let json = if text.contains('"') { text.clone() } else { text.replace('\'', "\"") };
    crate::value::parse_str(&json)
        .map(Operand::Literal)
        .map_err(|_| cur.error(&format!("Invalid JSON literal '{text}' in filter")))
}

impl FilterExpr {
    /// True when `current` (the `@`) passes; `root` is the document for `$` operands.
    pub(crate) fn matches(&self, current: &Value, root: &Value) -> bool {
        match self {
            FilterExpr::Or(a, b) => a.matches(current, root) || b.matches(current, root),
            FilterExpr::And(a, b) => a.matches(current, root) && b.matches(current, root),
            FilterExpr::Not(a) => !a.matches(current, root),
            FilterExpr::Exists(op) => op.resolve(current, root).is_some(),
            FilterExpr::Compare(l, op, r) => {
                let left = l.resolve(current, root);
                let right = r.resolve(current, root);
                compare(left.as_ref(), *op, right.as_ref())
            }
        }
    }
}

impl Operand {
    /// The operand's value, or `None` when a path selects nothing (Jayway's UNDEFINED).
    fn resolve(&self, current: &Value, root: &Value) -> Option<Value> {
        match self {
            Operand::Literal(v) => Some(v.clone()),
            Operand::Current(segs) => resolve_path(segs, current, root),
            Operand::Root(segs) => resolve_path(segs, root, root),
        }
    }
}

fn resolve_path(segs: &[Segment], start: &Value, root: &Value) -> Option<Value> {
    let definite = segs.iter().enumerate().all(|(i, s)| s.is_definite(i + 1 == segs.len()));
    if definite {
        select_one(segs, start).ok()
    } else {
        let mut out = Vec::new();
        select_many(segs, start, root, &mut out);
        // Jayway's existence check on an indefinite path asks for a non-empty result.
        if out.is_empty() {
            None
        } else {
            Some(Value::array(out))
        }
    }
}

fn compare(left: Option<&Value>, op: CompareOp, right: Option<&Value>) -> bool {
    let (l, r) = match (left, right) {
        (Some(l), Some(r)) => (l, r),
        _ => return op == CompareOp::Ne,
    };
    match op {
        CompareOp::Eq => loose_equals(l, r),
        CompareOp::Ne => !loose_equals(l, r),
        CompareOp::Lt => ordering(l, r).is_some_and(|o| o.is_lt()),
        CompareOp::Le => ordering(l, r).is_some_and(|o| o.is_le()),
        CompareOp::Gt => ordering(l, r).is_some_and(|o| o.is_gt()),
        CompareOp::Ge => ordering(l, r).is_some_and(|o| o.is_ge()),
        CompareOp::In => r.as_array().is_some_and(|a| a.iter().any(|x| loose_equals(l, x))),
        CompareOp::Nin => r.as_array().is_some_and(|a| !a.iter().any(|x| loose_equals(l, x))),
    }
}

fn loose_equals(l: &Value, r: &Value) -> bool {
    match (l, r) {
        (Value::Number(n), Value::String(s)) | (Value::String(s), Value::Number(n)) => {
            string_as_number(s).is_some_and(|m| m == *n)
        }
        _ => l == r,
    }
}

fn string_as_number(s: &str) -> Option<Number> {
    match crate::value::parse_str(s.trim()) {
        Ok(Value::Number(n)) => Some(n),
        _ => None,
    }
}

fn ordering(l: &Value, r: &Value) -> Option<std::cmp::Ordering> {
    match (l, r) {
        (Value::Number(a), Value::Number(b)) => Some(a.cmp_numeric(*b)),
        (Value::String(a), Value::String(b)) => Some(a.as_ref().cmp(b.as_ref())),
        _ => None,
    }
}
