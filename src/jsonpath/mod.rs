//! JSONPath as AWS Step Functions runs it (the Jayway dialect), compiled once and evaluated
//! over [`Value`]s without deep copies.
//!
//! CONTRACT (the rest of the engine relies on this; the implementation fills it in):
//! - [`Path::parse`] accepts `$`, `$$` (context object) and `$name` (a workflow variable) roots,
//!   dot and bracket member access (`$.a.b`, `$['a b']`, `$["x"]`), indices (`[0]`, `[-1]`),
//!   unions (`[0,1]`, `['a','b']`), slices (`[1:5]`, `[:2]`, `[1:]`), wildcards (`.*`, `[*]`),
//!   deep scan (`..`), filters (`[?(@.x == 1)]`, `&&`, `||`, comparison operators, `@.x`
//!   existence) and length (`@.length`), as Jayway does.
//! - A path is *definite* when it has none of wildcards, slices, unions, deep scan, filters.
//!   [`Path::select`] on a definite path returns the one node or a [`PathMiss`]; on an
//!   indefinite path it returns an array of all matches (possibly empty, never a miss).
//! - [`Path::assign`] implements ResultPath: a definite path without `$$`; intermediate objects
//!   are created when missing; assigning into a non-object fails with a [`PathMiss`].
//! - Misses carry Jayway's wording, which AWS puts in causes, e.g.
//!   `No results for path: $['x']` and `Missing property in path $['no']`.

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
    // implementation detail: compiled segments
}

impl Path {
    pub fn parse(text: &str) -> Result<Path, PathSyntaxError> {
        let _ = text;
        todo!("jsonpath::Path::parse")
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
        todo!("jsonpath::Path::is_definite")
    }

    /// Selects from a root value (the caller picks which root according to [`Path::root`]).
    pub fn select(&self, root: &Value) -> Result<Value, PathMiss> {
        let _ = root;
        todo!("jsonpath::Path::select")
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

    /// ResultPath: returns `target` with `value` placed at this path.
    pub fn assign(&self, target: Value, value: Value) -> Result<Value, PathMiss> {
        let _ = (target, value);
        todo!("jsonpath::Path::assign")
    }
}
