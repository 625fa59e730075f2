//! Names an expression uses, read from its parsed tree (so string literals, comments and
//! quoted field names can never be mistaken for variables).
//!
//! [`top_level_references`] is a second, narrower walk: the reads of the context item that an
//! expression makes outside every path step, predicate and sort term (see its docs).
//!
//! Limits (of [`scan`]): scoping is flattened. A name bound anywhere in the expression (`$x := …`, a lambda
//! parameter, `@$x`, `#$x`) is treated as bound everywhere, so `$x + ($x := 1)` reports no free
//! `$x`. Names of built-in and AWS functions used as values (`$map(xs, $string)`) are not free
//! variables.

use std::collections::HashSet;

use jsonata_core::ast::{AstNode, BinaryOp, PathStep, Stage};

pub struct Names {
    /// Every variable name referenced (what to ask the caller's bindings for).
    pub referenced: Vec<String>,
    pub free: Vec<String>,
    pub functions: Vec<String>,
    /// Fields of `$states` a path names right after it (`result` for `$states.result.x`), in
    /// order of first appearance; empty when the expression binds `$states` itself.
    pub states_fields: Vec<String>,
    /// An operator newer than JSONata 2.0.6 (`??` or `?:`), which AWS does not parse.
    pub newer_operator: Option<&'static str>,
}

/// JSONata 2.0.6's built-in functions plus AWS's additions.
pub const BUILTIN_FUNCTIONS: &[&str] = &[
    "string", "length", "substring", "substringBefore", "substringAfter", "uppercase",
    "lowercase", "trim", "pad", "contains", "split", "join", "match", "replace", "eval",
    "base64encode", "base64decode", "encodeUrlComponent", "encodeUrl", "decodeUrlComponent",
    "decodeUrl", "number", "abs", "floor", "ceil", "round", "power", "sqrt", "random",
    "formatNumber", "formatBase", "formatInteger", "parseInteger", "sum", "max", "min",
    "average", "boolean", "not", "exists", "count", "append", "sort", "reverse", "shuffle",
    "distinct", "zip", "keys", "lookup", "spread", "merge", "sift", "each", "error", "assert",
    "type", "map", "filter", "reduce", "single", "now", "millis", "fromMillis", "toMillis",
    // AWS
    "partition", "range", "hash", "uuid", "parse",
];

#[derive(Default)]
struct Walk {
    referenced: Vec<String>,
    seen_ref: HashSet<String>,
    bound: HashSet<String>,
    functions: Vec<String>,
    seen_fn: HashSet<String>,
    states_fields: Vec<String>,
    newer_operator: Option<&'static str>,
}

impl Walk {
    fn reference(&mut self, name: &str) {
        if !name.is_empty() && self.seen_ref.insert(name.to_string()) {
            self.referenced.push(name.to_string());
        }
    }
    fn call(&mut self, name: &str) {
        if self.seen_fn.insert(name.to_string()) {
            self.functions.push(name.to_string());
        }
    }
    fn bind(&mut self, name: &str) {
        self.bound.insert(name.to_string());
    }

    fn node(&mut self, n: &AstNode) {
        // The parser nests at most about a thousand levels; grow the stack if needed.
        jsonata_core::value::with_stack(|| self.node_inner(n))
    }

    fn nodes(&mut self, ns: &[AstNode]) {
        for n in ns {
            self.node(n);
        }
    }

    fn step(&mut self, s: &PathStep) {
        self.node(&s.node);
        for stage in &s.stages {
            match stage {
                Stage::Filter(f) => self.node(f),
                Stage::KeepArray => {}
                Stage::Index(v) => self.bind(v),
            }
        }
        if let Some(v) = &s.focus {
            self.bind(v);
        }
        if let Some(v) = &s.index_var {
            self.bind(v);
        }
    }

    fn node_inner(&mut self, n: &AstNode) {
        match n {
            AstNode::String(_)
            | AstNode::Name(_)
            | AstNode::Number(_)
            | AstNode::Boolean(_)
            | AstNode::Null
            | AstNode::Undefined
            | AstNode::Placeholder
            | AstNode::Regex { .. }
            | AstNode::Wildcard
            | AstNode::Descendant
            | AstNode::Parent(_) => {}
            AstNode::Variable(name) => self.reference(name),
            AstNode::ParentVariable(_) => {}
            AstNode::Path { steps } => {
                if let [first, second, ..] = steps.as_slice() {
                    if let (AstNode::Variable(v), AstNode::Name(field)) = (&first.node, &second.node) {
                        if v == "states" && !self.states_fields.contains(field) {
                            self.states_fields.push(field.clone());
                        }
                    }
                }
                steps.iter().for_each(|s| self.step(s))
            }
            AstNode::Binary { op, lhs, rhs } => {
                match (op, &**lhs) {
                    (BinaryOp::ColonEqual, AstNode::Variable(name)) => self.bind(name),
                    (BinaryOp::FocusBind | BinaryOp::IndexBind, _) => {
                        if let AstNode::Variable(name) = &**rhs {
                            self.bind(name);
                        }
                    }
                    (BinaryOp::Coalesce, _) => {
                        self.newer_operator.get_or_insert("?");
                    }
                    (BinaryOp::Default, _) => {
                        self.newer_operator.get_or_insert(":");
                    }
                    _ => {}
                }
                self.node(lhs);
                self.node(rhs);
            }
            AstNode::Unary { operand, .. } => self.node(operand),
            AstNode::Function { name, args, .. } => {
                self.call(name);
                self.nodes(args);
            }
            AstNode::Call { procedure, args } => {
                self.node(procedure);
                self.nodes(args);
            }
            AstNode::Lambda { params, body, .. } => {
                params.iter().for_each(|p| self.bind(p));
                self.node(body);
            }
            AstNode::Array(items) | AstNode::Block(items) | AstNode::ArrayGroup(items) => {
                self.nodes(items)
            }
            AstNode::Object(pairs) => pairs.iter().for_each(|(k, v)| {
                self.node(k);
                self.node(v);
            }),
            AstNode::ObjectTransform { input, pattern } => {
                self.node(input);
                pattern.iter().for_each(|(k, v)| {
                    self.node(k);
                    self.node(v);
                });
            }
            AstNode::Conditional { condition, then_branch, else_branch } => {
                self.node(condition);
                self.node(then_branch);
                if let Some(e) = else_branch {
                    self.node(e);
                }
            }
            AstNode::FunctionApplication(inner) => self.node(inner),
            AstNode::Sort { input, terms } => {
                self.node(input);
                terms.iter().for_each(|(t, _)| self.node(t));
            }
            AstNode::Transform { location, update, delete } => {
                self.node(location);
                self.node(update);
                if let Some(d) = delete {
                    self.node(d);
                }
            }
        }
    }
}

pub fn scan(ast: &AstNode) -> Names {
    let mut w = Walk::default();
    w.node(ast);
    let free = w
        .referenced
        .iter()
        .filter(|n| !w.bound.contains(*n) && !BUILTIN_FUNCTIONS.contains(&n.as_str()))
        .cloned()
        .collect();
    // A call by name is not a variable reference: AWS accepts `$undefinedFn()` at definition
    // time and fails it at run time with T1006 (conformance case test_math_random_seeded).
    // All referenced names are asked for: a workflow variable named like a built-in (`$count`)
    // shadows it, as bindings do in jsonata-js.
    let referenced = w.referenced;
    let states_fields = if w.bound.contains("states") { Vec::new() } else { w.states_fields };
    Names { referenced, free, functions: w.functions, states_fields, newer_operator: w.newer_operator }
}

/// A read of the context item at the top level of an expression, which AWS refuses at
/// definition time because Step Functions evaluates every expression with no context item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopLevelReference {
    /// A bare field name: `phone` in `phone.number`, `{phone: 1}`, `phone(1)` or `-phone`.
    Field(String),
    /// `$`, the context item itself.
    ContextItem,
    /// `$$`, the root of the input.
    Root,
}

/// The distinct top-level references of an expression, in the order they are written.
///
/// The rule, as measured on AWS (floci issue #2670, PR #2699): only the first step of a path
/// reads the top-level context. Later steps, predicates (`$states.input.a[$ > 1]`), sort terms
/// (`…^(phone)`), group-by objects (`…{'k': phone}`) and transforms (`|phone|{…}|`) run against
/// the value before them, so a name there is fine and the walk never enters them. Everything
/// else is top level: operands, function arguments, array and object constructors (keys too),
/// the right side of `:=`, conditionals, blocks, and lambda bodies, which keep the context of
/// the expression defining them (`function($x){ phone }` and `function($x){ $ }` are refused,
/// `function($x){ $x.phone }` is not). `*` and `**` name nothing (`**.phone` is accepted).
/// Whether AWS also refuses `$$` inside a predicate is not recorded; only the measured top-level
/// `$$` is reported.
pub fn top_level_references(ast: &AstNode) -> Vec<TopLevelReference> {
    let mut found = Vec::new();
    top_level(ast, &mut found);
    found
}

fn top_level(n: &AstNode, found: &mut Vec<TopLevelReference>) {
    jsonata_core::value::with_stack(|| top_level_inner(n, found))
}

fn top_level_inner(n: &AstNode, found: &mut Vec<TopLevelReference>) {
    let mut add = |r: TopLevelReference| {
        if !found.contains(&r) {
            found.push(r);
        }
    };
    match n {
        AstNode::Name(name) => add(TopLevelReference::Field(name.clone())),
        AstNode::Variable(name) if name.is_empty() => add(TopLevelReference::ContextItem),
        AstNode::ParentVariable(_) => add(TopLevelReference::Root),
        AstNode::Path { steps } => {
            if let Some(first) = steps.first() {
                top_level(&first.node, found);
            }
        }
        AstNode::Function { name, args, is_builtin } => {
            // `phone(1)` calls the function in the context item's `phone` field.
            if !is_builtin {
                add(TopLevelReference::Field(name.clone()));
            }
            args.iter().for_each(|a| top_level(a, found));
        }
        AstNode::Call { procedure, args } => {
            top_level(procedure, found);
            args.iter().for_each(|a| top_level(a, found));
        }
        AstNode::Lambda { body, .. } => top_level(body, found),
        AstNode::Binary { op: BinaryOp::ColonEqual, rhs, .. } => top_level(rhs, found),
        AstNode::Binary { lhs, rhs, .. } => {
            top_level(lhs, found);
            top_level(rhs, found);
        }
        AstNode::Unary { operand, .. } => top_level(operand, found),
        AstNode::Array(items) | AstNode::Block(items) | AstNode::ArrayGroup(items) => {
            items.iter().for_each(|i| top_level(i, found))
        }
        AstNode::Object(pairs) => pairs.iter().for_each(|(k, v)| {
            top_level(k, found);
            top_level(v, found);
        }),
        AstNode::ObjectTransform { input, .. } | AstNode::Sort { input, .. } => top_level(input, found),
        AstNode::Conditional { condition, then_branch, else_branch } => {
            top_level(condition, found);
            top_level(then_branch, found);
            if let Some(e) = else_branch {
                top_level(e, found);
            }
        }
        AstNode::FunctionApplication(inner) => top_level(inner, found),
        AstNode::Transform { .. }
        | AstNode::Variable(_)
        | AstNode::String(_)
        | AstNode::Number(_)
        | AstNode::Boolean(_)
        | AstNode::Null
        | AstNode::Undefined
        | AstNode::Placeholder
        | AstNode::Regex { .. }
        | AstNode::Wildcard
        | AstNode::Descendant
        | AstNode::Parent(_) => {}
    }
}
