//! Choice rules (JSONPath mode): compiled once from the definition into a rule tree, then
//! evaluated against the state's effective input.
//!
//! CONTRACT:
//! - [`Rule::compile`] takes one element of `Choices` (or a nested rule under `And`/`Or`/`Not`)
//!   as it appears in the definition and builds the tree; the definition has been validated, but
//!   compile must still never panic (it returns an error string instead).
//! - [`Rule::eval`] returns whether the rule matches. Type mismatches are `false`, as AWS does.
//!   Errors AWS raises at run time (a `Variable` path that selects nothing for operators other
//!   than `IsPresent`, a `…Path` operand that selects nothing) come back as `AslError`s with
//!   AWS's causes (without the state prefix, which the VM adds).
//!
//! Layout: [`compile`] turns definition JSON into the [`Node`] tree, [`eval`] runs it, and
//! [`string_matches`] holds the `StringMatches` glob. Invariants of the tree:
//! - every `And`/`Or` has at least one child; every data test has exactly one operator;
//! - literal operands are already typed (numbers are [`Number`]s, timestamps are parsed), so
//!   evaluation does no definition-level type checks, only checks on the runtime data.

mod compile;
mod eval;
pub mod string_matches;

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod tests;

use crate::error::AslError;
use crate::jsonpath::{Path, Roots};
use crate::timestamp::Timestamp;
use crate::value::{Number, Str};
use string_matches::Pattern;

/// A compiled Choice rule (without its `Next`, which the compiler resolves to a state index).
#[derive(Clone, Debug)]
pub struct Rule {
    node: Node,
}

impl Rule {
    /// Compiles one Choice rule from its definition JSON. `Next`, `Comment` and `Assign` are
    /// ignored here (the state compiler handles them); any other unknown field is an error.
    pub fn compile(rule: &serde_json::Value) -> Result<Rule, String> {
        compile::node(rule, 0).map(|node| Rule { node })
    }

    /// Evaluates the rule against the state's effective input, context object and variables.
    pub fn eval(&self, roots: &dyn Roots) -> Result<bool, AslError> {
        eval::node(&self.node, roots)
    }

    /// The paths this rule reads (every `Variable` and `…Path` operand), in definition order,
    /// so callers can check variable references.
    pub fn paths(&self) -> Vec<&Path> {
        let mut out = Vec::new();
        collect_paths(&self.node, &mut out);
        out
    }
}

fn collect_paths<'a>(node: &'a Node, out: &mut Vec<&'a Path>) {
    match node {
        Node::And(children) | Node::Or(children) => {
            children.iter().for_each(|c| collect_paths(c, out));
        }
        Node::Not(child) => collect_paths(child, out),
        Node::Test(test) => {
            out.push(&test.variable);
            if let Some(p) = test.op.operand_path() {
                out.push(p);
            }
        }
    }
}

/// The rule tree.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Test(Box<Test>),
}

/// A data-test rule: `Variable` plus one comparison operator.
#[derive(Clone, Debug)]
pub(crate) struct Test {
    pub variable: Path,
    pub op: Op,
}

/// How two values are compared.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
}

/// The right-hand side of a comparison: a literal from the definition or a path into the data.
/// The path is boxed because a compiled `Path` is much larger than any literal.
#[derive(Clone, Debug)]
pub(crate) enum Operand<T> {
    Literal(T),
    Path(Box<Path>),
}

/// A comparison operator with its operand.
#[derive(Clone, Debug)]
pub(crate) enum Op {
    String(Cmp, Operand<Str>),
    StringMatches(Pattern),
    Numeric(Cmp, Operand<Number>),
    Boolean(Operand<bool>),
    /// A literal that is not a valid timestamp is kept as `None` and never matches (see
    /// `compile.rs` for why this is not a compile error).
    Timestamp(Cmp, Operand<Option<Timestamp>>),
    IsNull(bool),
    IsPresent(bool),
    IsNumeric(bool),
    IsString(bool),
    IsBoolean(bool),
    IsTimestamp(bool),
}

impl Op {
    fn operand_path(&self) -> Option<&Path> {
        match self {
            Op::String(_, Operand::Path(p))
            | Op::Numeric(_, Operand::Path(p))
            | Op::Boolean(Operand::Path(p))
            | Op::Timestamp(_, Operand::Path(p)) => Some(p),
            _ => None,
        }
    }
}
