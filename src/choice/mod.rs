//! Choice rules (JSONPath mode): compiled once from the definition into a rule tree, then
//! evaluated against the state's effective input.
//!
//! CONTRACT:
//! - [`Rule::compile`] takes one element of `Choices` (or a nested rule under `And`/`Or`/`Not`)
//!   as it appears in the definition and builds the tree; the definition has been validated, but
//!   compile must still never panic (it returns an error string instead).
//! - [`Rule::eval`] returns whether the rule matches. Type mismatches are `false`, as AWS does.
//!   Errors AWS raises at run time (a `Variable` path that selects nothing for operators other
//!   than `IsPresent`, a `…Path` operand that selects nothing, an invalid `StringMatches`
//!   pattern) come back as `AslError`s with AWS's causes.

use crate::error::AslError;
use crate::jsonpath::Roots;

/// A compiled Choice rule (without its `Next`, which the compiler resolves to a state index).
#[derive(Clone, Debug)]
pub struct Rule {
    // implementation detail
}

impl Rule {
    pub fn compile(rule: &serde_json::Value) -> Result<Rule, String> {
        let _ = rule;
        todo!("choice::Rule::compile")
    }

    pub fn eval(&self, roots: &dyn Roots) -> Result<bool, AslError> {
        let _ = roots;
        todo!("choice::Rule::eval")
    }
}
