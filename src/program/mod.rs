//! The compiled program: a flat table of states addressed by [`StateId`], with every
//! transition resolved and every path, template, Choice rule and retry policy precompiled.
//!
//! Invariants (established by `compile`, relied on by `vm`):
//! - Every `StateId` stored anywhere in a [`Program`] indexes `Program::states`; every
//!   `BlockId` indexes `Program::blocks`. No state name is looked up at run time.
//! - A block is one `States` object (the top level, a Parallel branch or a Map processor); its
//!   states are contiguous in `states` and transitions never leave the block.
//! - Constant parts of templates are prebuilt [`Value`]s, so evaluating them is a refcount bump.

mod display;

use std::ops::Range;
use std::sync::Arc;

use smallvec::SmallVec;

use crate::choice::Rule;
use crate::intrinsics::Intrinsic;
use crate::jsonata::Expression;
use crate::jsonpath::{Path, Root};
use crate::value::{Str, Value};

/// Index of a state in [`Program::states`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StateId(pub u32);

/// Index of a block in [`Program::blocks`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlockId(pub u32);

/// The top-level block is always block 0.
pub const ROOT_BLOCK: BlockId = BlockId(0);

#[derive(Debug)]
pub struct Program {
    pub blocks: Vec<Block>,
    pub states: Vec<State>,
    /// The definition's top-level `TimeoutSeconds`, if any.
    pub timeout_seconds: Option<u64>,
    pub comment: Option<Str>,
    /// The definition this was compiled from: worker threads compile their own copies from it
    /// (see `runtime::local`), so no two cores share the program's reference counts.
    pub source: Arc<serde_json::Value>,
}

impl Program {
    pub fn state(&self, id: StateId) -> &State {
        &self.states[id.0 as usize]
    }
    pub fn block(&self, id: BlockId) -> &Block {
        &self.blocks[id.0 as usize]
    }
    /// Finds a state of `block` by name (used by tools such as TestState, never by the VM).
    pub fn find_state(&self, block: BlockId, name: &str) -> Option<StateId> {
        let b = self.block(block);
        (b.states.start..b.states.end).map(StateId).find(|&id| &*self.state(id).name == name)
    }
    /// Finds a state by name in any block.
    pub fn find_state_anywhere(&self, name: &str) -> Option<StateId> {
        (0..self.states.len() as u32).map(StateId).find(|&id| &*self.state(id).name == name)
    }
}

/// One `States` object.
#[derive(Debug)]
pub struct Block {
    pub start: StateId,
    pub states: Range<u32>,
    /// The state that owns this block (a Parallel or Map), `None` for the top level.
    pub parent: Option<StateId>,
}

/// Where a state goes when it finishes normally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    Next(StateId),
    End,
}

/// InputPath / OutputPath.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // compiled once and read on every state: inline beats a pointer
pub enum IoPath {
    /// Absent or `$`: the value passes through.
    Identity,
    /// `null`: the value becomes `{}`.
    Empty,
    Path(Path),
}

/// ResultPath.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // compiled once and read on every state: inline beats a pointer
pub enum ResultPath {
    /// Absent or `$`: the result replaces the input.
    Replace,
    /// `null`: the result is discarded and the input passes through.
    Discard,
    Path(Path),
}

/// A payload template (`Parameters`, `ResultSelector`, `ItemSelector`): constant parts are
/// prebuilt, `.$` keys hold compiled paths or intrinsic calls.
#[derive(Clone, Debug)]
pub enum Template {
    Const(Value),
    /// Built with [`Template::object`]; `distinct` says no two fields share a key (`"a"` and
    /// `"a.$"` both strip to `a`), so evaluation can append without looking keys up. Validation
    /// rejects such twins, but the compiler does not rely on having been validated first.
    Object { fields: Vec<(Str, Template)>, distinct: bool },
    Array(Vec<Template>),
    /// A `.$` path; `field` is the key as written (with `.$`) for causes.
    Path { path: Path, field: Str },
    Intrinsic { call: Intrinsic, field: Str },
}

impl Template {
    /// An object template from its fields in order.
    pub fn object(fields: Vec<(Str, Template)>) -> Template {
        let mut seen = rustc_hash::FxHashSet::default();
        let distinct = fields.iter().all(|(key, _)| seen.insert(&**key));
        Template::Object { fields, distinct }
    }

    /// A bound on the compact JSON length of what this template evaluates to, in terms of the
    /// length of its `$`. `None` when nothing bounds it by `$` alone: intrinsics (which can
    /// build values larger than their arguments), context and variable paths, and indefinite
    /// paths (a deep scan can select nested nodes more than once).
    pub fn len_bound(&self) -> Option<LenBound> {
        match self {
            Template::Const(v) => Some(LenBound::constant(v.json_len())),
            Template::Path { path, .. } => (*path.root() == Root::Input && path.is_definite()).then_some(LenBound::INPUT),
            Template::Intrinsic { .. } => None,
            // Brackets and commas, then each item.
            Template::Array(items) => items
                .iter()
                .try_fold(LenBound::constant(2 + items.len()), |acc, item| Some(acc.plus(item.len_bound()?))),
            // Braces and commas, then `"key":` and the value for each field.
            Template::Object { fields, .. } => fields.iter().try_fold(LenBound::constant(2 + fields.len()), |acc, (key, f)| {
                Some(acc.plus(LenBound::constant(Value::String(key.clone()).json_len() + 1)).plus(f.len_bound()?))
            }),
        }
    }
}

/// An upper bound on the compact JSON length of a value computed from an input:
/// `constant + per_input × (the input's length)`. A definite path selects a node whose text is
/// part of its root's, so it counts as one input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LenBound {
    pub constant: usize,
    pub per_input: usize,
}

impl LenBound {
    /// The input itself (or a definite selection from it).
    pub const INPUT: LenBound = LenBound { constant: 0, per_input: 1 };

    pub fn constant(len: usize) -> LenBound {
        LenBound { constant: len, per_input: 0 }
    }

    pub fn plus(self, other: LenBound) -> LenBound {
        LenBound { constant: self.constant.saturating_add(other.constant), per_input: self.per_input.saturating_add(other.per_input) }
    }

    /// This bound applied to an input that is itself bounded by `inner`.
    pub fn of(self, inner: LenBound) -> LenBound {
        LenBound {
            constant: self.constant.saturating_add(self.per_input.saturating_mul(inner.constant)),
            per_input: self.per_input.saturating_mul(inner.per_input),
        }
    }

    /// The bound for an input of at most `input_len` bytes.
    pub fn at(self, input_len: usize) -> usize {
        self.constant.saturating_add(self.per_input.saturating_mul(input_len))
    }

    /// A Pass state's output in terms of its raw input, through InputPath, `Result` or
    /// `Parameters`, ResultPath and OutputPath. `None` when a step is not bounded by `$`.
    pub fn pass_output(io: &Io, result: Option<&Value>) -> Option<LenBound> {
        let effective = io_path_bound(&io.input_path)?;
        let value = match (result, &io.parameters) {
            (Some(r), _) => LenBound::constant(r.json_len()),
            (None, Some(t)) => t.len_bound()?.of(effective),
            (None, None) => effective,
        };
        let merged = match &io.result_path {
            ResultPath::Replace => value,
            ResultPath::Discard => LenBound::INPUT,
            ResultPath::Path(p) => value.plus(LenBound::INPUT).plus(LenBound::constant(p.assign_growth_bound()?)),
        };
        Some(io_path_bound(&io.output_path)?.of(merged))
    }
}

/// InputPath / OutputPath in terms of the value they select from.
fn io_path_bound(path: &IoPath) -> Option<LenBound> {
    match path {
        IoPath::Identity => Some(LenBound::INPUT),
        IoPath::Empty => Some(LenBound::constant(2)),
        IoPath::Path(p) => (*p.root() == Root::Input && p.is_definite()).then_some(LenBound::INPUT),
    }
}

/// A number given literally, through a reference path (`TimeoutSeconds`/`…Path`, …), or (JSONata
/// states) through an expression.
#[derive(Clone, Debug)]
pub enum NumberSource {
    Literal(f64),
    Path(Path),
    Jsonata(JTemplate),
}

/// Which language a state's fields are written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum QueryLanguage {
    #[default]
    JsonPath,
    Jsonata,
}

/// A JSONata-mode value: JSON in which any string `{% … %}` is an expression, at any depth.
/// Constant subtrees are prebuilt values.
#[derive(Clone, Debug)]
pub enum JTemplate {
    Const(Value),
    /// `field` is where the expression sits (`Output/result`), as AWS names it in causes.
    Expr { expr: Arc<Expression>, source: Str, field: Str },
    Object(Vec<(Str, JTemplate)>),
    Array(Vec<JTemplate>),
}

/// `Assign` in either language.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // compiled once and read on every state: inline beats a pointer
pub enum Assign {
    JsonPath(Template),
    Jsonata(JTemplate),
}

/// A Choice rule's test: a JSONPath rule tree or a JSONata `Condition`.
#[derive(Debug)]
pub enum Condition {
    Rule(Rule),
    Jsonata(JTemplate),
}

/// A Map's item selector in either language.
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)] // compiled once and read on every state: inline beats a pointer
pub enum ItemSelector {
    JsonPath(Template),
    Jsonata(JTemplate),
}

#[derive(Clone, Debug)]
pub struct Retrier {
    pub error_equals: SmallVec<[Str; 2]>,
    pub interval_seconds: f64,
    pub max_attempts: u32,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<f64>,
    pub jitter_full: bool,
}

#[derive(Clone, Debug)]
pub struct Catcher {
    pub error_equals: SmallVec<[Str; 2]>,
    pub result_path: ResultPath,
    pub next: StateId,
    /// Variables to assign when this catcher handles an error (`$` = the Error Output).
    pub assign: Option<Assign>,
    /// JSONata: the state output when this catcher handles an error (default: the Error Output).
    pub output: Option<JTemplate>,
}

/// One rule of a Choice state with where it leads.
#[derive(Debug)]
pub struct ChoiceBranch {
    pub condition: Condition,
    pub next: StateId,
    /// Variables to assign when this rule matches (`$` = the effective input).
    pub assign: Option<Assign>,
    /// JSONata: the state output when this rule matches.
    pub output: Option<JTemplate>,
}

/// Fields shared by the state types that have them; absent fields take their defaults.
#[derive(Clone, Debug)]
pub struct Io {
    pub input_path: IoPath,
    pub parameters: Option<Template>,
    pub result_selector: Option<Template>,
    pub result_path: ResultPath,
    pub output_path: IoPath,
}

impl Default for Io {
    fn default() -> Io {
        Io {
            input_path: IoPath::Identity,
            parameters: None,
            result_selector: None,
            result_path: ResultPath::Replace,
            output_path: IoPath::Identity,
        }
    }
}

#[derive(Debug)]
pub struct State {
    pub name: Str,
    pub block: BlockId,
    pub io: Io,
    pub next: Transition,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
    /// The state's `Assign`, evaluated after its output, against the old variable values.
    pub assign: Option<Assign>,
    pub query_language: QueryLanguage,
    /// JSONata `Arguments` (Task, Parallel).
    pub arguments: Option<JTemplate>,
    /// JSONata `Output`.
    pub output: Option<JTemplate>,
    /// JSONPath Pass states: a bound on the output's length in terms of the raw input's, so
    /// the VM can skip the payload-size walk when the bound is under the limit.
    pub output_bound: Option<LenBound>,
    /// Whether anything in the state reads its entry time (a Wait, or `$$` / `$states` whose
    /// context holds `State.EnteredTime`). Other states skip the clock read on entry: it was a
    /// noticeable share of a short Pass state.
    pub reads_entered_time: bool,
    pub kind: StateKind,
}

#[derive(Debug)]
pub enum StateKind {
    Pass { result: Option<Value> },
    Task(TaskSpec),
    Choice { choices: Vec<ChoiceBranch>, default: Option<StateId> },
    Wait(WaitSpec),
    Succeed,
    Fail(FailSpec),
    Parallel { branches: Vec<BlockId> },
    Map(Box<MapSpec>),
}

impl StateKind {
    /// The prefix of this state type's history event names (`PassStateEntered`, …).
    pub fn event_prefix(&self) -> &'static str {
        match self {
            StateKind::Pass { .. } => "Pass",
            StateKind::Task(_) => "Task",
            StateKind::Choice { .. } => "Choice",
            StateKind::Wait(_) => "Wait",
            StateKind::Succeed => "Succeed",
            StateKind::Fail(_) => "Fail",
            StateKind::Parallel { .. } => "Parallel",
            StateKind::Map(_) => "Map",
        }
    }
    pub fn type_name(&self) -> &'static str {
        self.event_prefix()
    }

    /// `<Type>StateEntered`.
    pub fn entered_event(&self) -> &'static str {
        match self {
            StateKind::Pass { .. } => "PassStateEntered",
            StateKind::Task(_) => "TaskStateEntered",
            StateKind::Choice { .. } => "ChoiceStateEntered",
            StateKind::Wait(_) => "WaitStateEntered",
            StateKind::Succeed => "SucceedStateEntered",
            StateKind::Fail(_) => "FailStateEntered",
            StateKind::Parallel { .. } => "ParallelStateEntered",
            StateKind::Map(_) => "MapStateEntered",
        }
    }

    /// `<Type>StateExited`.
    pub fn exited_event(&self) -> &'static str {
        match self {
            StateKind::Pass { .. } => "PassStateExited",
            StateKind::Task(_) => "TaskStateExited",
            StateKind::Choice { .. } => "ChoiceStateExited",
            StateKind::Wait(_) => "WaitStateExited",
            StateKind::Succeed => "SucceedStateExited",
            StateKind::Fail(_) => "FailStateExited",
            StateKind::Parallel { .. } => "ParallelStateExited",
            StateKind::Map(_) => "MapStateExited",
        }
    }

    /// `<Type>StateSucceeded` / `<Type>StateFailed` for the fan-out states.
    pub fn outcome_event(&self, succeeded: bool) -> &'static str {
        match (self, succeeded) {
            (StateKind::Parallel { .. }, true) => "ParallelStateSucceeded",
            (StateKind::Parallel { .. }, false) => "ParallelStateFailed",
            (_, true) => "MapStateSucceeded",
            (_, false) => "MapStateFailed",
        }
    }
}

#[derive(Debug)]
pub struct TaskSpec {
    pub resource: Str,
    pub timeout: Option<NumberSource>,
    pub heartbeat: Option<NumberSource>,
    /// `Credentials`, kept as written; only passed through to handlers.
    pub credentials: Option<Value>,
}

#[derive(Debug)]
pub enum WaitSpec {
    Seconds(u64),
    SecondsPath(Path),
    /// Epoch milliseconds of a literal timestamp.
    Timestamp(i64),
    TimestampPath(Path),
    /// JSONata `Seconds` / `Timestamp` expressions.
    SecondsExpr(JTemplate),
    TimestampExpr(JTemplate),
}

#[derive(Debug)]
pub enum FailField {
    None,
    Literal(Str),
    Path(Path),
    Intrinsic(Intrinsic),
    Jsonata(JTemplate),
}

#[derive(Debug)]
pub struct FailSpec {
    pub error: FailField,
    pub cause: FailField,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapMode {
    Inline,
    /// Items come from the input; each runs as a child execution in-process.
    Distributed,
}

#[derive(Debug)]
pub struct MapSpec {
    pub processor: BlockId,
    pub mode: MapMode,
    /// `ItemsPath` (a reference path), `None` = the effective input.
    pub items_path: Option<Path>,
    /// JSONata `Items` (an array, or an expression giving one), `None` = the state input.
    pub items: Option<JTemplate>,
    pub item_selector: Option<ItemSelector>,
    pub max_concurrency: Option<NumberSource>,
    pub tolerated_failure_count: Option<NumberSource>,
    pub tolerated_failure_percentage: Option<NumberSource>,
    /// `ItemBatcher`: `MaxItemsPerBatch`, `MaxInputBytesPerBatch`, `BatchInput`.
    pub batcher: Option<ItemBatcher>,
    /// Distributed maps name their runs.
    pub label: Option<Str>,
    /// `ItemReader`/`ResultWriter` as written: reading from or writing to S3 needs a task
    /// handler for the resource, and the VM reports a clear error when none is configured.
    pub item_reader: Option<Value>,
    pub result_writer: Option<Value>,
}

#[derive(Debug)]
pub struct ItemBatcher {
    pub max_items: Option<NumberSource>,
    pub max_bytes: Option<NumberSource>,
    pub batch_input: Option<Template>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asl::StateMachineType;
    use crate::machine::StateMachine;
    use crate::value::parse_str;

    fn bound_of(state: &str) -> Option<LenBound> {
        let def = format!(r#"{{"StartAt":"S","States":{{"S":{state}}}}}"#);
        let machine = StateMachine::new("t", &def, StateMachineType::Express).unwrap_or_else(|e| panic!("{e}"));
        machine.program.state(StateId(0)).output_bound
    }

    #[test]
    fn pass_output_bounds_follow_the_data_flow() {
        let b = |constant, per_input| Some(LenBound { constant, per_input });
        assert_eq!(bound_of(r#"{"Type":"Pass","End":true}"#), b(0, 1));
        // `{"k":"v"}`
        assert_eq!(bound_of(r#"{"Type":"Pass","Result":{"k":"v"},"End":true}"#), b(9, 0));
        // Braces and a comma per field (4), `"a":` and `"b":` (8), the constant `[1,"$.y"]` (9).
        assert_eq!(bound_of(r#"{"Type":"Pass","Parameters":{"a.$":"$.x","b":[1,"$.y"]},"End":true}"#), b(4 + 8 + 9, 1));
        // ResultPath adds the input and, per created name, `,"n":{}` at six bytes a character.
        assert_eq!(bound_of(r#"{"Type":"Pass","Parameters":{"a.$":"$"},"ResultPath":"$.r.s","End":true}"#), b(2 + 1 + 4 + 12 + 12, 2));
        assert_eq!(bound_of(r#"{"Type":"Pass","ResultPath":null,"OutputPath":"$.x","End":true}"#), b(0, 1));
        assert_eq!(bound_of(r#"{"Type":"Pass","InputPath":null,"End":true}"#), b(2, 0));
        // Unbounded by `$` alone: intrinsics, the context object, variables, indefinite paths.
        for unbounded in [
            r#"{"Type":"Pass","Parameters":{"a.$":"States.ArrayRange(1, 1000, 1)"},"End":true}"#,
            r#"{"Type":"Pass","Parameters":{"a.$":"$$.Execution.Input"},"End":true}"#,
            r#"{"Type":"Pass","Parameters":{"a.$":"$..x"},"End":true}"#,
            r#"{"Type":"Pass","OutputPath":"$.x[*]","End":true}"#,
            r#"{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:f","End":true}"#,
        ] {
            assert_eq!(bound_of(unbounded), None, "{unbounded}");
        }
    }

    #[test]
    fn object_templates_know_whether_their_keys_are_distinct() {
        let field = |k: &str| (Str::from(k), Template::Const(Value::Null));
        assert!(matches!(Template::object(vec![field("a"), field("b")]), Template::Object { distinct: true, .. }));
        assert!(matches!(Template::object(vec![field("a"), field("b"), field("a")]), Template::Object { distinct: false, .. }));
        assert!(matches!(Template::object(vec![]), Template::Object { distinct: true, .. }));
    }

    #[test]
    fn a_bound_holds_for_the_values_it_describes() {
        let input = parse_str(r#"{"x":{"deep":["\u0001",2.5e-7,"é"]},"y":true}"#).unwrap();
        let len = input.json_len();
        let selected = crate::jsonpath::Path::parse("$.x").unwrap().select(&input).unwrap();
        assert!(selected.json_len() <= LenBound::INPUT.at(len));
        let template = Template::object(vec![
            (Str::from("a\"b"), Template::Path { path: crate::jsonpath::Path::parse("$.x").unwrap(), field: Str::from("a.$") }),
            (Str::from("c"), Template::Const(input.clone())),
        ]);
        let built = Value::object([("a\"b", selected), ("c", input)]);
        assert!(built.json_len() <= template.len_bound().unwrap().at(len));
    }
}
