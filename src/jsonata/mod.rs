//! JSONata as AWS Step Functions runs it: JSONata 2.0.6 plus AWS's functions (`$partition`,
//! `$range`, `$hash`, `$random([seed])`, `$uuid`, `$parse`), without `$eval`.
//!
//! The evaluator is the `jsonata-core` crate (pinned), wrapped so that nothing outside this
//! module sees its types:
//! - [`Expression::parse`] parses once; the AST is plain data (`Send + Sync`), so an
//!   `Expression` can sit in a compiled program shared across threads.
//! - [`Expression::evaluate`] runs synchronously on the calling thread. The crate's values are
//!   `Rc`-based, so the input and the referenced bindings are converted into them on entry and
//!   the result is converted back on exit (see [`convert`]). Only the variables the expression
//!   references are asked for and converted.
//! - Numbers are doubles inside JSONata; results that are integral and within ±2^53 come back
//!   as [`Number::Int`](crate::value::Number::Int) (AWS prints `3`, not `3.0`).
//! - Errors keep JSONata's codes and jsonata-js's wording (`T1006: Attempted to invoke a
//!   non-function`), which AWS quotes in `States.QueryEvaluationError` causes.
//! - Runaway expressions are bounded by an evaluation depth and a wall-clock limit
//!   ([`Limits`]); both raise `U1001`, as jsonata-js's own guard does.

pub mod fast;
mod aws;
mod convert;
mod scan;

pub use convert::UNSUPPORTED_RESULT;
pub use scan::{TopLevelReference, BUILTIN_FUNCTIONS};

use std::sync::Arc;

use jsonata_core::ast::AstNode;
use jsonata_core::evaluator::{Context, Evaluator, EvaluatorError, EvaluatorOptions};

use crate::value::Value;

/// A JSONata error: its code (`T1006`, `S0201`, …), jsonata-js's message for it, and where
/// known the character offset in the expression.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct JsonataError {
    pub code: String,
    pub message: String,
    pub position: Option<usize>,
}

impl JsonataError {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> JsonataError {
        JsonataError { code: code.into(), message: message.into(), position: None }
    }

    /// Splits a crate message `"T1006: Attempted …"` into code and message; a message without
    /// a code gets `default_code`.
    /// The crate sometimes wraps a coded message (`"Invalid syntax: T1006: …"`), so the first
    /// `X9999: ` anywhere in the text is taken, and what precedes it dropped.
    fn from_coded(text: &str, default_code: &str) -> JsonataError {
        match find_code(text) {
            Some(at) => JsonataError::new(&text[at..at + 5], text[at + 6..].trim_start()),
            None => JsonataError::new(default_code, text),
        }
    }
}

/// Offset of the first JSONata error code (`[A-Z][0-9]{4}:`) in `text`, at its start or after
/// a space.
fn find_code(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    (0..b.len().saturating_sub(5)).find(|&i| {
        (i == 0 || b[i - 1] == b' ')
            && b[i].is_ascii_uppercase()
            && b[i + 1..i + 5].iter().all(u8::is_ascii_digit)
            && b[i + 5] == b':'
    })
}

/// Guards against runaway evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum nesting of evaluation steps (each function call costs a few).
    pub max_depth: usize,
    /// Maximum wall-clock time of one evaluation, in milliseconds.
    pub timeout_ms: u64,
}

impl Default for Limits {
    /// 10,000 levels (about 3,000 nested non-tail calls) and 10 seconds.
    fn default() -> Limits {
        Limits { max_depth: 10_000, timeout_ms: 10_000 }
    }
}

/// A parsed JSONata expression, reusable and shareable across threads.
#[derive(Clone)]
pub struct Expression {
    inner: Arc<Inner>,
}

struct Inner {
    ast: AstNode,
    /// Variables referenced anywhere (bound inside the expression or not): the names to ask
    /// the caller's bindings for.
    referenced: Vec<String>,
    free: Vec<String>,
    functions: Vec<String>,
    states_fields: Vec<String>,
    /// Set when the expression is a plain field path (see `fast`).
    simple: Option<fast::SimplePath>,
}

impl std::fmt::Debug for Expression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Expression").field("free_variables", &self.inner.free).finish()
    }
}

/// Functions AWS does not offer; calling one fails like any call of an undefined name would
/// not, with a message that says why.
pub const FORBIDDEN_FUNCTIONS: &[&str] = &["eval"];

impl Expression {
    /// Parses an expression (the text between `{%` and `%}`, already trimmed by the caller).
    pub fn parse(text: &str) -> Result<Expression, JsonataError> {
        let ast = parse_guarded(text)?;
        let names = scan::scan(&ast);
        if let Some(symbol) = names.newer_operator {
            // JSONata 2.0.6 reads `a ?? b` as `a ? (?b)` and `a ?: b` as `a ? (:b)`, and
            // fails on the second symbol as a prefix operator.
            return Err(JsonataError::new(
                "S0211",
                format!("The symbol {symbol} cannot be used as a unary operator"),
            ));
        }
        Ok(Expression {
            inner: Arc::new(Inner {
                ast,
                referenced: names.referenced,
                free: names.free,
                functions: names.functions,
                states_fields: names.states_fields,
                simple: fast::SimplePath::recognise(text),
            }),
        })
    }

    /// Evaluates against `input` (bound to `$`, may be absent) with named variable bindings
    /// (`$states`, workflow variables — names without the `$`). `Ok(None)` = undefined result.
    pub fn evaluate(
        &self,
        input: Option<&Value>,
        bindings: &dyn Fn(&str) -> Option<Value>,
    ) -> Result<Option<Value>, JsonataError> {
        self.evaluate_with_limits(input, bindings, Limits::default())
    }

    /// [`evaluate`](Self::evaluate) with explicit [`Limits`].
    pub fn evaluate_with_limits(
        &self,
        input: Option<&Value>,
        bindings: &dyn Fn(&str) -> Option<Value>,
        limits: Limits,
    ) -> Result<Option<Value>, JsonataError> {
        let mut context = Context::new();
        for name in &self.inner.referenced {
            if let Some(v) = bindings(name) {
                context.bind(name.clone(), convert::to_jvalue(&v));
            }
        }
        let options = EvaluatorOptions {
            timeout_ms: Some(limits.timeout_ms),
            max_stack_depth: Some(limits.max_depth),
            ..EvaluatorOptions::default()
        };
        let mut ev = Evaluator::with_options(context, options);
        aws::register(&mut ev, &self.inner.functions);
        let data = match input {
            Some(v) => convert::to_jvalue(v),
            None => jsonata_core::value::JValue::Undefined,
        };
        let result = ev.evaluate(&self.inner.ast, &data).map_err(eval_error)?;
        convert::from_jvalue(&result)
    }

    /// The expression as a plain field path, when it is one (callers may walk it directly).
    pub fn simple_path(&self) -> Option<&fast::SimplePath> {
        self.inner.simple.as_ref()
    }

    /// Names of the free variables the expression references (without `$`), in order of first
    /// appearance: variables neither bound inside the expression (`:=`, lambda parameters,
    /// `@$x`/`#$x`) nor names of built-in functions. A name bound anywhere in the expression
    /// counts as bound everywhere (a conservative simplification: `$x + ($x := 1)` reports
    /// nothing). `$` and `$$` are not reported.
    pub fn free_variables(&self) -> Vec<String> {
        self.inner.free.clone()
    }

    /// Fields of `$states` the expression names statically (`result` in `$states.result.x`,
    /// anywhere in the expression, lambdas included), in order of first appearance. Dynamic
    /// access (`$states`, `$lookup($states, 'result')`, `$states.*`) names none; an expression
    /// that binds `$states` itself (`$states := …`, a parameter) names none either.
    pub fn states_fields(&self) -> Vec<String> {
        self.inner.states_fields.clone()
    }

    /// What the expression reads from the context item outside every path step and predicate
    /// (`phone`, `$`, `$$`), each once, in writing order; see [`TopLevelReference`].
    /// Computed from the tree on each call (only the validator asks).
    pub fn top_level_references(&self) -> Vec<TopLevelReference> {
        scan::top_level_references(&self.inner.ast)
    }

    /// Names (without `$`) of the functions called by name, in order of first appearance,
    /// including calls of lambdas bound inside the expression. A function passed as a value
    /// (`$map(xs, $string)`) is not a call and is not listed.
    pub fn called_functions(&self) -> Vec<String> {
        self.inner.functions.clone()
    }
}

/// Parses with the parser's own recursion bounded: deeply nested text becomes an error.
fn parse_guarded(text: &str) -> Result<AstNode, JsonataError> {
    // The crate's parser grows its stack with `stacker`; a panic there would be a bug in it,
    // which we contain rather than let it take the process down.
    match std::panic::catch_unwind(|| jsonata_core::parser::parse(text)) {
        Ok(Ok(ast)) => Ok(ast),
        Ok(Err(e)) => Err(parse_error(&e)),
        Err(_) => Err(JsonataError::new("S0201", "Syntax error: expression could not be parsed")),
    }
}

fn parse_error(e: &jsonata_core::parser::ParserError) -> JsonataError {
    use jsonata_core::parser::ParserError as P;
    let text = e.to_string();
    if find_code(&text).is_some() {
        return JsonataError::from_coded(&text, "S0201");
    }
    match e {
        P::UnclosedComment => JsonataError::new("S0106", "Comment has no closing tag"),
        P::InvalidNumber(_) => JsonataError::new("S0102", format!("Number out of range: {text}")),
        _ => JsonataError::new("S0201", text),
    }
}

fn eval_error(e: EvaluatorError) -> JsonataError {
    let mut err = JsonataError::from_coded(e.message(), "D3137");
    match err.code.as_str() {
        // The crate's own depth and time guards; jsonata-js's guard raises U1001 for both.
        "D1011" => {
            err.code = "U1001".into();
            err.message = "Stack overflow error: Check for non-terminating recursive function.  Consider rewriting as tail-recursive.".into();
        }
        "D1012" => {
            err.code = "U1001".into();
            err.message = "Expression evaluation timeout: Check for infinite loop".into();
        }
        // jsonata-js's T1006 names nothing; the crate sometimes appends the callee, and AWS
        // quotes the bare text ("T1006: Attempted to invoke a non-function").
        "T1006" if !err.message.contains("$eval") => {
            err.message = "Attempted to invoke a non-function".into();
        }
        _ => {}
    }
    err
}

#[cfg(test)]
mod tests;
