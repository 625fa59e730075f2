//! EventBridge event patterns: parsed from JSON text, validated with event-ruler's rules and
//! messages, into a typed [`Pattern`].
//!
//! A pattern is an OR of [`Branch`]es (one per combination of `$or` choices); a branch is an AND
//! of [`Field`]s; a field is a dotted path (`{"detail": {"a": …}}` and `{"detail.a": …}` are the
//! same path) with an OR of [`Condition`]s on the value found there.
//!
//! Invariants (each mirrors aws/event-ruler, the library behind EventBridge rules):
//! - Parsing is streaming: the first problem in document order is the one reported, and the
//!   text after the pattern's closing brace is never read.
//! - A key that repeats replaces the earlier value for that path, in every branch it reaches
//!   (`{"detail": {"a": …}, "detail": {"b": …}}` keeps both `detail.a` and `detail.b`).
//! - `$or` is a combinator only when followed by an array of at least two objects whose keys
//!   are not matcher names. Otherwise event-ruler falls back to its older compiler, for which
//!   `$or` is an ordinary field name; the pattern is valid when either accepts it, and the
//!   message of a pattern both reject is the `$or`-aware compiler's.
//! - Branch fields are sorted by path in Java `String` order (UTF-16 units): the order in which
//!   event-ruler visits them, which `exists: false` under arrays depends on (see `matcher`).
//! - Numbers used for numeric comparison must be comparable (see [`super::number`]).

use std::fmt;

use super::ip::HexRange;
use super::json::{JsonError, Reader, Token};
use super::number;
use super::strings::{Caseless, Wildcard};

/// Most `$or` combinations one pattern may expand to. event-ruler has no limit; without one a
/// short pattern of nested `$or`s could demand unbounded memory. EventBridge documents a limit
/// of 1,000 combinations per rule for its own service; we allow more so no pattern event-ruler
/// handles in practice is refused.
pub const MAX_BRANCHES: usize = 10_000;

/// Most fields one branch may have (event-ruler's `MAXIMUM_RULE_SIZE`).
pub const MAX_FIELDS: usize = 256;

/// Field names reserved for matchers, which cannot be field names inside `$or`.
const RESERVED_IN_OR: &[&str] = &[
    "exactly",
    "equals-ignore-case",
    "prefix",
    "suffix",
    "anything-but",
    "exists",
    "wildcard",
    "numeric",
    "cidr",
    "=",
    "<",
    "<=",
    ">",
    ">=",
    "regex",
    "not-wildcard",
    "not-equals-ignore-case",
    "date-after",
    "date-on-or-after",
    "date-before",
    "date-on-or-before",
    "in-date-range",
    "ip-address-in-range",
    "ip-address-not-in-range",
];

/// A pattern that cannot be used, with a message modelled on event-ruler's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PatternError {
    pub message: String,
}

impl From<JsonError> for PatternError {
    fn from(e: JsonError) -> PatternError {
        PatternError { message: e.message }
    }
}

fn barf<T>(message: impl Into<String>) -> Result<T, PatternError> {
    Err(PatternError { message: message.into() })
}

/// A validated event pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub(crate) branches: Box<[Branch]>,
}

/// One combination of `$or` choices: every field must match.
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    pub(crate) fields: Box<[Field]>,
}

/// A dotted path and the conditions, any of which its value must meet.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub(crate) path: Box<str>,
    pub(crate) conditions: Box<[Condition]>,
}

/// What a value must be.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// This string exactly (a plain pattern string, or `{"exactly": …}`).
    Exact(Box<str>),
    /// A number literal: matches the same spelling, and equal values when comparable.
    Number {
        text: Box<str>,
        value: Option<f64>,
    },
    /// `true`, `false` or `null`.
    Literal(Literal),
    Prefix(Box<str>),
    Suffix(Box<str>),
    PrefixIgnoreCase(Caseless),
    SuffixIgnoreCase(Caseless),
    EqualsIgnoreCase(Caseless),
    Wildcard(Wildcard),
    AnythingBut(AnythingBut),
    Numeric(NumericRange),
    /// A CIDR block, or a plain pattern string that is an IP address.
    Ip(HexRange),
    Exists(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Literal {
    True,
    False,
    Null,
}

/// The values an `anything-but` excludes.
#[derive(Debug, Clone, PartialEq)]
pub enum AnythingBut {
    Strings(Box<[Box<str>]>),
    Numbers(Box<[f64]>),
    Prefixes(Box<[Box<str>]>),
    Suffixes(Box<[Box<str>]>),
    IgnoreCase(Box<[Caseless]>),
    Wildcards(Box<[Wildcard]>),
}

/// A numeric interval; `None` bounds are unbounded, `bool` says inclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumericRange {
    pub lower: Option<(f64, bool)>,
    pub upper: Option<(f64, bool)>,
}

impl NumericRange {
    pub fn contains(&self, x: f64) -> bool {
        let above = match self.lower {
            None => true,
            Some((lo, inclusive)) => x > lo || (inclusive && x == lo),
        };
        let below = match self.upper {
            None => true,
            Some((hi, inclusive)) => x < hi || (inclusive && x == hi),
        };
        above && below
    }
}

impl Condition {
    /// Whether this condition makes event-ruler read numbers as comparable numbers on its field.
    pub(crate) fn is_numeric(&self) -> bool {
        matches!(
            self,
            Condition::Number { value: Some(_), .. } | Condition::Numeric(_) | Condition::AnythingBut(AnythingBut::Numbers(_))
        )
    }
}

impl Pattern {
    /// Parses and validates a pattern from its JSON text.
    pub fn parse(text: &str) -> Result<Pattern, PatternError> {
        match Compiler::compile(text, true) {
            Ok(p) => Ok(p),
            Err(first) => Compiler::compile(text, false).map_err(|_| first),
        }
    }

    /// The branches (combinations of `$or` choices); the pattern matches when one does.
    pub fn branches(&self) -> &[Branch] {
        &self.branches
    }

    /// Whether this one pattern matches an event given as JSON text. For many patterns, compile
    /// them together into a [`super::Matcher`].
    pub fn matches(&self, event: &str) -> Result<bool, super::EventError> {
        let mut m = super::Matcher::new();
        m.add_rule(0, self);
        Ok(!m.matches(event)?.is_empty())
    }
}

impl Branch {
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }
}

impl Field {
    pub fn path(&self) -> &str {
        &self.path
    }
    pub fn conditions(&self) -> &[Condition] {
        &self.conditions
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Literal::True => "true",
            Literal::False => "false",
            Literal::Null => "null",
        })
    }
}

/// Fields of one branch under construction, in insertion order.
type BranchFields = Vec<(String, Vec<Condition>)>;

struct Compiler<'a> {
    reader: Reader<'a>,
    /// `$or` is a combinator (event-ruler's JsonRuleCompiler) or a field name (RuleCompiler).
    or_enabled: bool,
    path: Vec<String>,
}

impl<'a> Compiler<'a> {
    fn compile(text: &'a str, or_enabled: bool) -> Result<Pattern, PatternError> {
        let mut c = Compiler { reader: Reader::new(text), or_enabled, path: Vec::new() };
        let first = match c.reader.next_token() {
            Ok(t) => t,
            Err(e) if c.reader.offset() >= text.trim_end().len() => {
                return barf(format!("Filter is not an object: {}", e.message))
            }
            Err(e) => return Err(e.into()),
        };
        if first != Token::StartObject {
            return barf("Filter is not an object");
        }
        let mut branches: Vec<BranchFields> = Vec::new();
        c.object(&mut branches, false)?;
        if branches.iter().any(|b| b.len() > MAX_FIELDS) {
            return barf(format!("Size of rule exceeds max value of {MAX_FIELDS}"));
        }
        let branches = branches
            .into_iter()
            .map(|fields| {
                let mut fields: Vec<Field> = fields
                    .into_iter()
                    .map(|(path, conditions)| Field { path: path.into(), conditions: conditions.into() })
                    .collect();
                fields.sort_by(|a, b| a.path.encode_utf16().cmp(b.path.encode_utf16()));
                Branch { fields: fields.into() }
            })
            .collect();
        Ok(Pattern { branches })
    }

    fn next(&mut self) -> Result<Token<'a>, PatternError> {
        Ok(self.reader.next_token()?)
    }

    /// event-ruler's `Path.extendedName`: the enclosing keys joined with dots, then a dot and
    /// `name` unless that join is empty (so an empty enclosing key vanishes: `{"": {"a": …}}`
    /// is the path `a`).
    fn dotted(&self, name: &str) -> String {
        let base = self.path.join(".");
        if base.is_empty() {
            name.to_string()
        } else {
            format!("{base}.{name}")
        }
    }

    /// The members of an object whose `{` has been read.
    fn object(&mut self, branches: &mut Vec<BranchFields>, inside_or: bool) -> Result<(), PatternError> {
        let mut any = false;
        loop {
            let name = match self.next()? {
                Token::EndObject => break,
                Token::Key(k) => k.into_owned(),
                _ => return barf("Expected a field name"),
            };
            any = true;
            if self.or_enabled && name == "$or" {
                self.or(branches)?;
                continue;
            }
            if inside_or && RESERVED_IN_OR.contains(&name.as_str()) {
                return barf(format!("{name} is Ruler reserved fieldName which cannot be used inside $or."));
            }
            match self.next()? {
                Token::StartObject => {
                    self.path.push(name);
                    let r = self.object(branches, inside_or);
                    self.path.pop();
                    r?;
                }
                Token::StartArray => {
                    let values = self.values()?;
                    let path = self.dotted(&name);
                    if branches.is_empty() {
                        branches.push(Vec::new());
                    }
                    for branch in branches.iter_mut() {
                        match branch.iter_mut().find(|(p, _)| *p == path) {
                            Some(slot) => slot.1 = values.clone(),
                            None => branch.push((path.clone(), values.clone())),
                        }
                    }
                }
                _ => return barf(format!("\"{name}\" must be an object or an array")),
            }
        }
        if !any {
            return barf("Empty objects are not allowed");
        }
        Ok(())
    }

    /// The value of a `$or` key: an array of at least two objects, each forking the branches.
    fn or(&mut self, branches: &mut Vec<BranchFields>) -> Result<(), PatternError> {
        let current = std::mem::take(branches);
        if self.next()? != Token::StartArray {
            return barf("It must be an Array followed with $or.");
        }
        let mut count = 0;
        loop {
            match self.next()? {
                Token::EndArray => break,
                Token::StartObject => {
                    count += 1;
                    let mut forked = if current.is_empty() { vec![Vec::new()] } else { current.clone() };
                    self.object(&mut forked, true)?;
                    if branches.len() + forked.len() > MAX_BRANCHES {
                        return barf(format!("Pattern has more than {MAX_BRANCHES} combinations of $or branches"));
                    }
                    branches.extend(forked);
                }
                _ => return barf("Only JSON object is allowed in array of $or relationship."),
            }
        }
        if count < 2 {
            return barf("There must have at least 2 Objects in $or relationship.");
        }
        Ok(())
    }

    /// The elements of a field's array, whose `[` has been read.
    fn values(&mut self) -> Result<Vec<Condition>, PatternError> {
        let mut values = Vec::new();
        loop {
            match self.next()? {
                Token::EndArray => break,
                Token::StartObject => values.push(self.match_expression()?),
                Token::Str(s) => match HexRange::single_address(&s) {
                    Some(range) => values.push(Condition::Ip(range)),
                    None => values.push(Condition::Exact(s.into())),
                },
                Token::Num(text) => values.push(Condition::Number { text: text.into(), value: number::comparable(text) }),
                Token::True => values.push(Condition::Literal(Literal::True)),
                Token::False => values.push(Condition::Literal(Literal::False)),
                Token::Null => values.push(Condition::Literal(Literal::Null)),
                _ => return barf("Match value must be String, number, true, false, or null"),
            }
        }
        if values.is_empty() {
            return barf("Empty arrays are not allowed");
        }
        Ok(values)
    }

    fn expect_end(&mut self, message: &str) -> Result<(), PatternError> {
        match self.next()? {
            Token::EndObject => Ok(()),
            _ => barf(message),
        }
    }

    fn string_operand(&mut self, what: &str) -> Result<String, PatternError> {
        match self.next()? {
            Token::Str(s) => Ok(s.into_owned()),
            _ => barf(format!("{what} match pattern must be a string")),
        }
    }

    /// A matcher object (`{"prefix": …}` and the like) whose `{` has been read.
    fn match_expression(&mut self) -> Result<Condition, PatternError> {
        const ONE_KEY: &str = "Only one key allowed in match expression";
        let name = match self.next()? {
            Token::Key(k) => k.into_owned(),
            _ => return barf("Match expression name not found"),
        };
        let condition = match name.as_str() {
            "exactly" => Condition::Exact(self.string_operand("exact")?.into()),
            "prefix" | "suffix" => self.prefix_or_suffix(name == "prefix")?,
            "equals-ignore-case" => Condition::EqualsIgnoreCase(Caseless::new(&self.string_operand("equals-ignore-case")?)),
            "wildcard" => {
                Condition::Wildcard(Wildcard::parse(&self.string_operand("wildcard")?).map_err(|m| PatternError { message: m })?)
            }
            "cidr" => {
                let text = self.string_operand("cidr")?;
                Condition::Ip(HexRange::cidr(&text).map_err(|e| PatternError { message: e.0 })?)
            }
            "exists" => match self.next()? {
                Token::True => Condition::Exists(true),
                Token::False => Condition::Exists(false),
                _ => return barf("exists match pattern must be either true or false."),
            },
            "numeric" => {
                if self.next()? != Token::StartArray {
                    return barf("Value of numeric must be an array.");
                }
                let range = self.numeric()?;
                self.expect_end("Too many elements in numeric expression")?;
                return Ok(range);
            }
            "anything-but" => {
                let c = self.anything_but()?;
                self.expect_end("Too many elements in numeric expression")?;
                return Ok(c);
            }
            _ => return barf(format!("Unrecognized match type {name}")),
        };
        self.expect_end(ONE_KEY)?;
        Ok(condition)
    }

    fn prefix_or_suffix(&mut self, prefix: bool) -> Result<Condition, PatternError> {
        let what = if prefix { "prefix" } else { "suffix" };
        match self.next()? {
            Token::Str(s) => Ok(if prefix { Condition::Prefix(s.into()) } else { Condition::Suffix(s.into()) }),
            Token::StartObject => {
                let op = match self.next()? {
                    Token::Key(k) => k.into_owned(),
                    _ => return barf(format!("{} expression name not found", capitalised(what))),
                };
                if op != "equals-ignore-case" {
                    return barf(format!("Unsupported {what} pattern: {op}"));
                }
                let text = self.string_operand("equals-ignore-case")?;
                self.expect_end("Only one key allowed in match expression")?;
                let c = Caseless::new(&text);
                Ok(if prefix { Condition::PrefixIgnoreCase(c) } else { Condition::SuffixIgnoreCase(c) })
            }
            _ => barf(format!("{what} match pattern must be a string")),
        }
    }

    /// A numeric operand, which must be a comparable number.
    fn numeric_operand(&mut self, token: Token<'a>, op: &str) -> Result<f64, PatternError> {
        let Token::Num(text) = token else {
            return barf(format!("Value of {op} must be numeric"));
        };
        match number::comparable(text) {
            Some(v) => Ok(v),
            None => barf(format!("Cannot compare number : {text}")),
        }
    }

    /// The body of `{"numeric": [...]}` after its `[`.
    fn numeric(&mut self) -> Result<Condition, PatternError> {
        let op = match self.next()? {
            Token::Str(s) => s.into_owned(),
            Token::EndArray => return barf("Invalid member in numeric match: ]"),
            Token::Num(n) => return barf(format!("Invalid member in numeric match: {n}")),
            other => return barf(format!("Invalid member in numeric match: {}", token_text(&other))),
        };
        let too_many = "Too many elements in numeric expression";
        let operand = self.next()?;
        let range = match op.as_str() {
            "=" => {
                let v = self.numeric_operand(operand, "equals")?;
                if self.next()? != Token::EndArray {
                    return barf(too_many);
                }
                return Ok(Condition::Numeric(NumericRange { lower: Some((v, true)), upper: Some((v, true)) }));
            }
            ">" | ">=" => {
                let lo = self.numeric_operand(operand, &op)?;
                let lower = Some((lo, op == ">="));
                match self.next()? {
                    Token::EndArray => NumericRange { lower, upper: None },
                    Token::Str(top_op) => {
                        if top_op != "<" && top_op != "<=" {
                            return barf(format!("Bad numeric range operator: {top_op}"));
                        }
                        let t = self.next()?;
                        let hi = self.numeric_operand(t, &top_op)?;
                        if self.next()? != Token::EndArray {
                            return barf("Too many terms in numeric range expression");
                        }
                        if lo >= hi {
                            return barf("Bottom must be less than top");
                        }
                        NumericRange { lower, upper: Some((hi, top_op == "<=")) }
                    }
                    other => return barf(format!("Bad value in numeric range: {}", token_text(&other))),
                }
            }
            "<" | "<=" => {
                let hi = self.numeric_operand(operand, &op)?;
                if self.next()? != Token::EndArray {
                    return barf(too_many);
                }
                NumericRange { lower: None, upper: Some((hi, op == "<=")) }
            }
            _ => return barf(format!("Unrecognized numeric range operator: {op}")),
        };
        Ok(Condition::Numeric(range))
    }

    /// The value of `anything-but`.
    fn anything_but(&mut self) -> Result<Condition, PatternError> {
        let token = self.next()?;
        let excluded = match token {
            Token::StartObject => {
                let op = match self.next()? {
                    Token::Key(k) => k.into_owned(),
                    _ => return barf("Anything-But expression name not found"),
                };
                let excluded = match op.as_str() {
                    "prefix" | "suffix" => {
                        let list =
                            self.string_list(&format!("anything-but/{op}"), "prefix/suffix match pattern must be a string")?;
                        if list.iter().any(|s| s.is_empty()) {
                            return barf("Null prefix/suffix not allowed");
                        }
                        if op == "prefix" {
                            AnythingBut::Prefixes(list.into_iter().map(Box::from).collect())
                        } else {
                            AnythingBut::Suffixes(list.into_iter().map(Box::from).collect())
                        }
                    }
                    "equals-ignore-case" => {
                        let list = self.string_list(
                            "anything-but/equals-ignore-case",
                            "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.",
                        )?;
                        AnythingBut::IgnoreCase(list.iter().map(|s| Caseless::new(s)).collect())
                    }
                    "wildcard" => {
                        let list = self.string_list("anything-but/wildcard", "wildcard match pattern must be a string")?;
                        let parsed: Result<Vec<Wildcard>, String> = list.iter().map(|s| Wildcard::parse(s)).collect();
                        AnythingBut::Wildcards(parsed.map_err(|m| PatternError { message: m })?.into())
                    }
                    _ => return barf(format!("Unsupported anything-but pattern: {op}")),
                };
                self.expect_end("Only one key allowed in match expression")?;
                excluded
            }
            Token::StartArray => self.anything_but_list()?,
            Token::Str(s) => AnythingBut::Strings(Box::new([s.into()])),
            Token::Num(text) => match number::comparable(text) {
                Some(v) => AnythingBut::Numbers(Box::new([v])),
                None => return barf(format!("Cannot compare number : {text}")),
            },
            _ => return barf("Value of anything-but must be an array or single string/number value."),
        };
        Ok(Condition::AnythingBut(excluded))
    }

    /// A string, or an array of strings, as the operand of an anything-but sub-matcher.
    fn string_list(&mut self, what: &str, not_string: &str) -> Result<Vec<String>, PatternError> {
        match self.next()? {
            Token::Str(s) => Ok(vec![s.into_owned()]),
            Token::StartArray => {
                let mut out = Vec::new();
                loop {
                    match self.next()? {
                        Token::EndArray => return Ok(out),
                        Token::Str(s) => out.push(s.into_owned()),
                        _ => return barf(format!("Inside {what} list, number|start|null|boolean is not supported.")),
                    }
                }
            }
            _ => barf(not_string),
        }
    }

    /// `anything-but: [ ... ]`: all strings or all (comparable) numbers.
    fn anything_but_list(&mut self) -> Result<AnythingBut, PatternError> {
        let mut strings = Vec::new();
        let mut numbers = Vec::new();
        loop {
            match self.next()? {
                Token::EndArray => break,
                Token::Str(s) => strings.push(Box::<str>::from(s)),
                Token::Num(text) => match number::comparable(text) {
                    Some(v) => numbers.push(v),
                    None => return barf(format!("Cannot compare number : {text}")),
                },
                _ => return barf("Inside anything but list, start|null|boolean is not supported."),
            }
        }
        match (strings.is_empty(), numbers.is_empty()) {
            (false, true) => Ok(AnythingBut::Strings(strings.into())),
            (true, false) => Ok(AnythingBut::Numbers(numbers.into())),
            _ => barf("Inside anything but list, either all values are number or string, mixed type is not supported"),
        }
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

fn token_text(t: &Token<'_>) -> String {
    match t {
        Token::StartObject => "{".into(),
        Token::EndObject => "}".into(),
        Token::StartArray => "[".into(),
        Token::EndArray => "]".into(),
        Token::Key(k) | Token::Str(k) => k.to_string(),
        Token::Num(n) => n.to_string(),
        Token::True => "true".into(),
        Token::False => "false".into(),
        Token::Null => "null".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(p: &Pattern) -> Vec<Vec<&str>> {
        p.branches.iter().map(|b| b.fields.iter().map(|f| &*f.path).collect()).collect()
    }

    #[test]
    fn nesting_and_dots_give_the_same_paths() {
        let a = Pattern::parse(r#"{"detail": {"a": ["x"]}}"#).unwrap();
        let b = Pattern::parse(r#"{"detail.a": ["x"]}"#).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn duplicate_keys_replace_per_path() {
        let p = Pattern::parse(r#"{"detail":{"a":["1"]},"detail":{"b":["2"]},"source":["x"],"source":["y"]}"#).unwrap();
        assert_eq!(paths(&p), vec![vec!["detail.a", "detail.b", "source"]]);
        assert_eq!(p.branches[0].fields[2].conditions[..], [Condition::Exact("y".into())]);
    }

    #[test]
    fn or_forks_branches() {
        let p =
            Pattern::parse(r#"{"s":["x"],"$or":[{"a":["1"]},{"b":["2"],"$or":[{"c":["3"]},{"d":["4"]}]}],"z":["9"]}"#).unwrap();
        assert_eq!(paths(&p), vec![vec!["a", "s", "z"], vec!["b", "c", "s", "z"], vec!["b", "d", "s", "z"]]);
    }

    #[test]
    fn or_falls_back_to_a_field_name() {
        for text in [
            r#"{"$or":["x","y"]}"#,
            r#"{"$or":{"a":["1"]}}"#,
            r#"{"$or":[{"numeric":[">",0]},{"prefix":"abc"}]}"#,
            r#"{"$or": [1, 2]}"#,
        ] {
            let p = Pattern::parse(text).unwrap();
            assert!(p.branches[0].fields[0].path.starts_with("$or"), "{text}");
        }
        for (text, msg) in [
            (r#"{"$or":[]}"#, "There must have at least 2 Objects in $or relationship."),
            (r#"{"$or":[{"a":["1"]}]}"#, "There must have at least 2 Objects in $or relationship."),
            (
                r#"{"$or": [{"a": ["1"]}, {"numeric": [">", 0]}]}"#,
                "numeric is Ruler reserved fieldName which cannot be used inside $or.",
            ),
            (r#"{"detail": {"$or": "x"}}"#, "It must be an Array followed with $or."),
            (r#"{"$or": [{"a": ["1"]}, "b"]}"#, "Only JSON object is allowed in array of $or relationship."),
        ] {
            assert_eq!(Pattern::parse(text).unwrap_err().message, msg, "{text}");
        }
    }

    #[test]
    fn invalid_patterns_have_event_ruler_messages() {
        for (text, msg) in [
            ("[1]", "Filter is not an object"),
            ("{}", "Empty objects are not allowed"),
            (r#"{"a": []}"#, "Empty arrays are not allowed"),
            (r#"{"n": 5}"#, "\"n\" must be an object or an array"),
            (r#"{"a": [["x"]]}"#, "Match value must be String, number, true, false, or null"),
            (r#"{"a": [{}]}"#, "Match expression name not found"),
            (r#"{"a": [{"regex": "x"}]}"#, "Unrecognized match type regex"),
            (r#"{"a": [{"prefix": "a", "x": 1}]}"#, "Only one key allowed in match expression"),
            (r#"{"a": [{"prefix": {"foo": "a"}}]}"#, "Unsupported prefix pattern: foo"),
            (r#"{"n": [{"numeric": [">", 0, ">", 5]}]}"#, "Bad numeric range operator: >"),
            (r#"{"n": [{"numeric": [">=", 5, "<=", 5]}]}"#, "Bottom must be less than top"),
            (r#"{"n": [{"numeric": ["=", 1e309]}]}"#, "Cannot compare number : 1e309"),
            (r#"{"n": [{"numeric": ["==", 0]}]}"#, "Unrecognized numeric range operator: =="),
            (
                r#"{"s": [{"anything-but": ["a", 1]}]}"#,
                "Inside anything but list, either all values are number or string, mixed type is not supported",
            ),
            (r#"{"s": [{"anything-but": {"prefix": ""}}]}"#, "Null prefix/suffix not allowed"),
            (r#"{"s": [{"anything-but": {"exists": true}}]}"#, "Unsupported anything-but pattern: exists"),
            (r#"{"s": [{"wildcard": "a**"}]}"#, "Consecutive wildcard characters at pos 2"),
            (r#"{"ip": [{"cidr": "10.0.0.0/32"}]}"#, "IPv4 mask bits must be < 32"),
            (r#"{"s": [{"exists": "true"}]}"#, "exists match pattern must be either true or false."),
        ] {
            assert_eq!(Pattern::parse(text).unwrap_err().message, msg, "{text}");
        }
    }

    #[test]
    fn trailing_text_is_ignored_and_fields_sort_in_java_order() {
        let p = Pattern::parse(r#"{"b":["2"],"a.b":["1"],"a-b":["0"]} this is ignored"#).unwrap();
        assert_eq!(paths(&p), vec![vec!["a-b", "a.b", "b"]]);
    }

    #[test]
    fn conditions() {
        let p =
            Pattern::parse(r#"{"a":["10.0.0.1", 5, 1e309, null, {"numeric":[">",0,"<=",5]}, {"anything-but":[1,2]}]}"#).unwrap();
        let c = &p.branches[0].fields[0].conditions;
        assert!(matches!(c[0], Condition::Ip(_)));
        assert_eq!(c[1], Condition::Number { text: "5".into(), value: Some(5.0) });
        assert_eq!(c[2], Condition::Number { text: "1e309".into(), value: None });
        assert_eq!(c[3], Condition::Literal(Literal::Null));
        assert_eq!(c[4], Condition::Numeric(NumericRange { lower: Some((0.0, false)), upper: Some((5.0, true)) }));
        assert_eq!(c[5], Condition::AnythingBut(AnythingBut::Numbers(Box::new([1.0, 2.0]))));
    }
}
