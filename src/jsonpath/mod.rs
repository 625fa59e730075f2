//! JSONPath as AWS Step Functions runs it (the Jayway dialect), compiled once and evaluated
//! over [`Value`]s without deep copies.
//!
//! CONTRACT (the rest of the engine relies on this; the implementation fills it in):
//! - [`Path::parse`] accepts `$`, `$$` (context object) and `$name` (a workflow variable) roots,
//!   dot and bracket member access (`$.a.b`, `$['a b']`, `$["x"]`), indices (`[0]`, `[-1]`),
//!   unions (`[0,1]`, `['a','b']`), slices (`[1:5]`, `[:2]`, `[1:]`), wildcards (`.*`, `[*]`),
//!   deep scan (`..`), filters (`[?(@.x == 1)]`, `&&`, `||`, comparison operators, `@.x`
//!   existence), as AWS's Jayway does. Jayway functions (`.length()`, `.sum()`) are NOT
//!   evaluated: AWS treats `length()` as a property name (awsdocs developer-guide PR #5 records
//!   "Invalid path '$.list.length()' : Property ['length()'] not found in path $['list']"), so
//!   they select nothing.
//! - A path is *definite* when it has none of wildcards, slices, unions, deep scan, filters.
//!   [`Path::select`] on a definite path returns the one node or a [`PathMiss`]; on an
//!   indefinite path it returns an array of all matches (possibly empty, never a miss).
//! - [`Path::assign`] implements ResultPath: a definite path without `$$`; intermediate objects
//!   are created when missing; assigning into a non-object fails with a [`PathMiss`].
//! - Misses carry Jayway's wording, which AWS puts in causes, e.g.
//!   `No results for path: $['x']` and `Missing property in path $['no']`.
//!
//! Files: `parse` (text → segments), `filter` (`[?(…)]`), `eval` (selection, ResultPath),
//! `java` (Java `toString` printing used in messages and by `States.Format`), `tests`.

mod eval;
mod filter;
mod java;
mod parse;
#[cfg(test)]
mod tests;

use std::fmt;

use smallvec::SmallVec;

pub use java::java_to_string;
use parse::{Cursor, Segment};

use crate::value::{Str, Value};

/// Where a path starts.
#[derive(Clone, Debug, PartialEq)]
pub enum Root {
    /// `$`: the state's (effective) input.
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable.
    Variable(Str),
}

/// What a path is evaluated against; the context object is built lazily by the caller.
pub trait Roots {
    fn input(&self) -> &Value;
    fn context(&self) -> Value;
    fn variable(&self, name: &str) -> Option<Value>;
}

/// A path that selected nothing or could not be applied.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct PathMiss {
    /// Jayway's message, e.g. `No results for path: $['x']`.
    pub message: String,
}

/// A path that does not parse.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct PathSyntaxError {
    pub message: String,
}

/// A compiled JSONPath.
#[derive(Clone, Debug)]
pub struct Path {
    source: Str,
    root: Root,
    segments: SmallVec<[Segment; 4]>,
    definite: bool,
}

/// Characters allowed in a variable name after `$` (Unicode identifier characters).
fn is_variable_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl Path {
    /// Compiles a path. Surrounding whitespace is ignored, as Jayway trims the path.
    pub fn parse(text: &str) -> Result<Path, PathSyntaxError> {
        let trimmed = text.trim();
        // The parser recurses once per nested bracket or parenthesis (filters inside filters);
        // bounding the nesting up front keeps any input from exhausting the stack.
        // (Unbalanced text is left to the parser, which reports where it goes wrong.)
        if bracket_nesting(trimmed).is_some_and(|d| d > MAX_NESTING) || trimmed.matches(['[', '(']).count() > 4 * MAX_NESTING {
            return Err(PathSyntaxError { message: format!("Path is nested more than {MAX_NESTING} levels deep") });
        }
        let mut cur = Cursor::new(trimmed);
        if !cur.eat('$') {
            return Err(cur.error("Path must start with '$'"));
        }
        let root = if cur.eat('$') {
            Root::Context
        } else if cur.peek().is_some_and(is_variable_char) {
            let start = cur.position();
            while cur.peek().is_some_and(is_variable_char) {
                cur.bump();
            }
            Root::Variable(Str::from(cur.slice(start, cur.position())))
        } else {
            Root::Input
        };
        let segments = parse::parse_segments(&mut cur, false)?;
        if !cur.at_end() {
            return Err(cur.error("Unexpected text"));
        }
        let count = segments.len();
        let definite = segments.iter().enumerate().all(|(i, s)| s.is_definite(i + 1 == count));
        Ok(Path { source: Str::from(trimmed), root, segments, definite })
    }

    /// The text the path was compiled from.
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn root(&self) -> &Root {
        &self.root
    }

    /// True when the path selects at most one node (a "reference path" in ASL terms).
    pub fn is_definite(&self) -> bool {
        self.definite
    }

    /// True when the path is its root alone (`$`, `$$`, `$name`).
    pub fn is_root_only(&self) -> bool {
        self.segments.is_empty()
    }

    /// True when every step is a plain name or index (what ResultPath and other reference
    /// paths may use; no unions, slices, wildcards, scans or filters).
    pub fn is_reference_path(&self) -> bool {
        self.segments.iter().all(|s| matches!(s, Segment::Property(_) | Segment::Index(_)))
    }

    /// Jayway's normalized form, e.g. `$['a']['b'][0]` (always rooted at `$`, as Jayway
    /// prints paths in messages).
    pub fn jayway_normalized(&self) -> String {
        eval::normalized_prefix(&self.segments, self.segments.len())
    }

    /// Selects from a root value (the caller picks which root according to [`Path::root`]).
    /// Definite paths give the node or a [`PathMiss`]; indefinite paths give an array of all
    /// matches and never miss (AWS returns `[]`, e.g. `$.item.items[1:5]` on `{}`).
    pub fn select(&self, root: &Value) -> Result<Value, PathMiss> {
        if self.definite {
            eval::select_one(&self.segments, root)
        } else {
            let mut out = Vec::new();
            eval::select_many(&self.segments, root, root, &mut out);
            Ok(Value::array(out))
        }
    }

    /// Selects from the right root of `roots`.
    pub fn resolve(&self, roots: &dyn Roots) -> Result<Value, PathMiss> {
        match &self.root {
            Root::Input => self.select(roots.input()),
            Root::Context => self.select(&roots.context()),
            Root::Variable(name) => match roots.variable(name) {
                Some(v) => self.select(&v),
                None => Err(PathMiss { message: format!("No such variable: {name}") }),
            },
        }
    }

    /// ResultPath: returns `target` with `value` placed at this path. `$` replaces the whole
    /// value; missing intermediate objects are created; a step into a node of the wrong kind
    /// fails with Jayway's message for that step, and hands `target` back unchanged.
    pub fn assign(&self, target: Value, value: Value) -> Result<Value, (PathMiss, Value)> {
        if self.root != Root::Input {
            return Err((PathMiss { message: format!("Invalid path '{}': ResultPath must start with '$'", self.source) }, target));
        }
        eval::assign(&self.segments, target, value)
    }

    /// How many bytes [`Path::assign`] can add to the compact JSON of `target` beyond those of
    /// `value`: a `,"name":` and a `{}` for each name step it may create (escaping counted at
    /// its worst, six bytes a character). Index steps only replace existing elements. `None`
    /// for paths `assign` refuses.
    pub fn assign_growth_bound(&self) -> Option<usize> {
        if self.root != Root::Input || !self.is_reference_path() {
            return None;
        }
        Some(self.segments.iter().map(|s| if let Segment::Property(name) = s { 6 * name.len() + 6 } else { 0 }).sum())
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Deepest bracket/parenthesis nesting a path may have.
const MAX_NESTING: usize = 32;

/// The deepest `[`/`(` nesting in `text` (quoted strings ignored), or `None` when brackets or
/// quotes do not pair up.
pub(crate) fn bracket_nesting(text: &str) -> Option<usize> {
    let (mut depth, mut max, mut quote, mut escaped) = (0usize, 0usize, None::<char>, false);
    for c in text.chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '[' | '(' => {
                depth += 1;
                max = max.max(depth);
            }
            ']' | ')' => depth = depth.checked_sub(1)?,
            _ => {}
        }
    }
    (depth == 0 && quote.is_none()).then_some(max)
}
