//! Definition (validated ASL JSON) → [`Program`].
//!
//! The compiler assumes `asl::validate` found no errors, but it never panics on a malformed
//! definition: anything it cannot make sense of is a [`CompileError`] naming the location.
//! It resolves every transition to a [`StateId`], so no unresolved name exists after compile.

mod jsonata;
mod template;

use rustc_hash::FxHashMap;
use serde_json::{Map as JsonMap, Value as Json};
use smallvec::SmallVec;

use crate::choice::Rule;
use crate::intrinsics::{is_intrinsic, Intrinsic};
use crate::jsonpath::Path;
use crate::program::*;
use crate::value::{Str, Value};

pub use jsonata::{compile_jtemplate, expression_text};
pub use template::compile_template;

/// A definition the compiler could not turn into a program.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message} at {location}")]
pub struct CompileError {
    pub message: String,
    pub location: String,
}

fn err<T>(location: &str, message: impl Into<String>) -> Result<T, CompileError> {
    Err(CompileError { message: message.into(), location: location.to_string() })
}

/// Compiles a parsed definition.
pub fn compile(definition: &Json) -> Result<Program, CompileError> {
    let Some(top) = definition.as_object() else {
        return err("/", "Definition must be a valid JSON object");
    };
    let machine_language = match top.get("QueryLanguage").and_then(Json::as_str) {
        Some("JSONata") => QueryLanguage::Jsonata,
        _ => QueryLanguage::JsonPath,
    };
    let mut builder = Builder { states: Vec::new(), blocks: Vec::new(), machine_language };
    builder.block(top, "", None)?;
    let timeout_seconds = match top.get("TimeoutSeconds") {
        None => None,
        Some(v) => match v.as_u64() {
            Some(n) => Some(n),
            None => return err("/TimeoutSeconds", "TimeoutSeconds must be a non-negative integer"),
        },
    };
    let states = builder
        .states
        .into_iter()
        .enumerate()
        .map(|(i, s)| s.ok_or_else(|| CompileError { message: format!("state #{i} was never compiled"), location: "/".into() }))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Program {
        blocks: builder.blocks,
        states,
        timeout_seconds,
        comment: top.get("Comment").and_then(Json::as_str).map(Str::from),
        source: std::sync::Arc::new(definition.clone()),
    })
}

/// Parses and compiles definition text (without validation; see `asl::validate`).
pub fn compile_str(text: &str) -> Result<Program, CompileError> {
    let json: Json = serde_json::from_str(text)
        .map_err(|e| CompileError { message: e.to_string(), location: "/".into() })?;
    compile(&json)
}

struct Builder {
    /// Slots are reserved per block so a block's states stay contiguous while nested blocks
    /// are compiled; every slot is filled before `compile` returns.
    states: Vec<Option<State>>,
    blocks: Vec<Block>,
    /// States without their own `QueryLanguage` use the machine's (nested ones too: AWS does
    /// not inherit from the enclosing Parallel or Map state).
    machine_language: QueryLanguage,
}

impl Builder {
    /// Compiles one `{StartAt, States}` object located at `loc`; returns its id.
    fn block(&mut self, obj: &JsonMap<String, Json>, loc: &str, parent: Option<StateId>) -> Result<BlockId, CompileError> {
        let Some(states) = obj.get("States").and_then(Json::as_object) else {
            return err(&format!("{loc}/"), "These fields are required: [States]");
        };
        let Some(start_at) = obj.get("StartAt").and_then(Json::as_str) else {
            return err(&format!("{loc}/"), "These fields are required: [StartAt]");
        };
        let first = self.states.len() as u32;
        let mut ids: FxHashMap<&str, StateId> = FxHashMap::default();
        for (i, name) in states.keys().enumerate() {
            ids.insert(name.as_str(), StateId(first + i as u32));
        }
        self.states.extend(states.iter().map(|_| None));
        let block_id = BlockId(self.blocks.len() as u32);
        let Some(&start) = ids.get(start_at) else {
            return err(&format!("{loc}/StartAt"), format!("Missing 'Next' target: {start_at}"));
        };
        self.blocks.push(Block { start, states: first..first + states.len() as u32, parent });
        for (i, (name, def)) in states.iter().enumerate() {
            let id = StateId(first + i as u32);
            let state_loc = format!("{loc}/States/{name}");
            let state = self.state(name, def, &state_loc, &ids, block_id, id)?;
            self.states[id.0 as usize] = Some(state);
        }
        Ok(block_id)
    }

    fn state(
        &mut self,
        name: &str,
        def: &Json,
        loc: &str,
        ids: &FxHashMap<&str, StateId>,
        block: BlockId,
        id: StateId,
    ) -> Result<State, CompileError> {
        let Some(obj) = def.as_object() else { return err(loc, "A state must be a JSON object") };
        let ql = match obj.get("QueryLanguage").and_then(Json::as_str) {
            Some("JSONata") => QueryLanguage::Jsonata,
            Some(_) => QueryLanguage::JsonPath,
            None => self.machine_language,
        };
        let jsonata = ql == QueryLanguage::Jsonata;
        let target = |field: &str, name: &str| -> Result<StateId, CompileError> {
            match ids.get(name) {
                Some(&id) => Ok(id),
                None => err(&format!("{loc}/{field}"), format!("Missing 'Next' target: {name}")),
            }
        };
        let next = match obj.get("Next").and_then(Json::as_str) {
            Some(n) => Transition::Next(target("Next", n)?),
            None => Transition::End,
        };
        let io = Io {
            input_path: io_path(obj.get("InputPath"), &format!("{loc}/InputPath"))?,
            parameters: match obj.get("Parameters") {
                Some(p) => Some(compile_template(p, &format!("{loc}/Parameters"))?),
                None => None,
            },
            result_selector: match obj.get("ResultSelector") {
                Some(p) => Some(compile_template(p, &format!("{loc}/ResultSelector"))?),
                None => None,
            },
            result_path: result_path(obj.get("ResultPath"), &format!("{loc}/ResultPath"))?,
            output_path: io_path(obj.get("OutputPath"), &format!("{loc}/OutputPath"))?,
        };
        let retry = match obj.get("Retry") {
            Some(r) => retriers(r, &format!("{loc}/Retry"))?,
            None => Vec::new(),
        };
        let catch = match obj.get("Catch") {
            Some(Json::Array(cs)) => {
                let mut out = Vec::with_capacity(cs.len());
                for (i, c) in cs.iter().enumerate() {
                    let cloc = format!("{loc}/Catch/{i}");
                    let next = match c.get("Next").and_then(Json::as_str) {
                        Some(n) => target(&format!("Catch/{i}/Next"), n)?,
                        None => return err(&cloc, "These fields are required: [Next]"),
                    };
                    out.push(Catcher {
                        error_equals: error_names(c.get("ErrorEquals"), &cloc)?,
                        result_path: result_path(c.get("ResultPath"), &format!("{cloc}/ResultPath"))?,
                        next,
                        assign: assign(c.get("Assign"), ql, &cloc)?,
                        output: jfield(c.get("Output"), ql, "Output", &cloc)?,
                    });
                }
                out
            }
            Some(_) => return err(&format!("{loc}/Catch"), "Catch must be an array"),
            None => Vec::new(),
        };
        let kind = match obj.get("Type").and_then(Json::as_str).unwrap_or("") {
            "Pass" => StateKind::Pass { result: obj.get("Result").map(Value::from_serde) },
            "Succeed" => StateKind::Succeed,
            "Fail" => StateKind::Fail(FailSpec {
                error: fail_field(obj, "Error", "ErrorPath", ql, loc)?,
                cause: fail_field(obj, "Cause", "CausePath", ql, loc)?,
            }),
            "Task" => StateKind::Task(TaskSpec {
                resource: match obj.get("Resource").and_then(Json::as_str) {
                    Some(r) => Str::from(r),
                    None => return err(loc, "These fields are required: [Resource]"),
                },
                timeout: number_source(obj, "TimeoutSeconds", "TimeoutSecondsPath", ql, loc)?,
                heartbeat: number_source(obj, "HeartbeatSeconds", "HeartbeatSecondsPath", ql, loc)?,
                credentials: obj.get("Credentials").map(Value::from_serde),
            }),
            "Wait" => StateKind::Wait(wait_spec(obj, ql, loc)?),
            "Choice" => {
                let Some(Json::Array(rules)) = obj.get("Choices") else {
                    return err(loc, "These fields are required: [Choices]");
                };
                let mut choices = Vec::with_capacity(rules.len());
                for (i, r) in rules.iter().enumerate() {
                    let rloc = format!("{loc}/Choices/{i}");
                    let condition = match (jsonata, r.get("Condition")) {
                        (true, Some(c)) => Condition::Jsonata(compile_jtemplate(c, "Condition", &format!("{rloc}/Condition"))?),
                        (true, None) => return err(&rloc, "These fields are required: [Condition]"),
                        (false, _) => Condition::Rule(Rule::compile(r).or_else(|m| err(&rloc, m))?),
                    };
                    let next = match r.get("Next").and_then(Json::as_str) {
                        Some(n) => target(&format!("Choices/{i}/Next"), n)?,
                        None => return err(&rloc, "These fields are required: [Next]"),
                    };
                    choices.push(ChoiceBranch {
                        condition,
                        next,
                        assign: assign(r.get("Assign"), ql, &rloc)?,
                        output: jfield(r.get("Output"), ql, "Output", &rloc)?,
                    });
                }
                let default = match obj.get("Default").and_then(Json::as_str) {
                    Some(n) => Some(target("Default", n)?),
                    None => None,
                };
                StateKind::Choice { choices, default }
            }
            "Parallel" => {
                let Some(Json::Array(branches)) = obj.get("Branches") else {
                    return err(loc, "These fields are required: [Branches]");
                };
                let mut out = Vec::with_capacity(branches.len());
                for (i, b) in branches.iter().enumerate() {
                    let bloc = format!("{loc}/Branches/{i}");
                    let Some(bobj) = b.as_object() else { return err(&bloc, "A branch must be an object") };
                    out.push(self.block(bobj, &bloc, Some(id))?);
                }
                StateKind::Parallel { branches: out }
            }
            "Map" => StateKind::Map(Box::new(self.map_spec(obj, ql, loc, id)?)),
            other => return err(&format!("{loc}/Type"), format!("Unsupported state type: {other}")),
        };
        // The legacy Map form puts the item selector in `Parameters`; it is not a Parameters
        // applied to the state input, so move it to where the VM expects it.
        let mut io = io;
        if let StateKind::Map(spec) = &kind {
            if spec.item_selector.is_some() {
                io.parameters = None;
            }
        }
        let assign = assign(obj.get("Assign"), ql, loc)?;
        let arguments = jfield(obj.get("Arguments"), ql, "Arguments", loc)?;
        let output = jfield(obj.get("Output"), ql, "Output", loc)?;
        let output_bound = match &kind {
            StateKind::Pass { result } if !jsonata => LenBound::pass_output(&io, result.as_ref()),
            _ => None,
        };
        // Conservative: any `$$` or `$states` text anywhere in the state (nested states
        // included) counts, whatever field it is in.
        let text = def.to_string();
        let reads_entered_time = matches!(kind, StateKind::Wait(_)) || text.contains("$$") || text.contains("$states");
        Ok(State {
            name: Str::from(name),
            block,
            io,
            next,
            retry,
            catch,
            assign,
            query_language: ql,
            arguments,
            output,
            output_bound,
            reads_entered_time,
            kind,
        })
    }

    fn map_spec(&mut self, obj: &JsonMap<String, Json>, ql: QueryLanguage, loc: &str, id: StateId) -> Result<MapSpec, CompileError> {
        let (processor_field, processor) = match (obj.get("ItemProcessor"), obj.get("Iterator")) {
            (Some(p), _) => ("ItemProcessor", p),
            (None, Some(p)) => ("Iterator", p),
            (None, None) => return err(loc, "These fields are required: [ItemProcessor]"),
        };
        let ploc = format!("{loc}/{processor_field}");
        let Some(pobj) = processor.as_object() else { return err(&ploc, "ItemProcessor must be an object") };
        let mode = match pobj.get("ProcessorConfig").and_then(|c| c.get("Mode")).and_then(Json::as_str) {
            Some("DISTRIBUTED") => MapMode::Distributed,
            _ => MapMode::Inline,
        };
        let block = self.block(pobj, &ploc, Some(id))?;
        let selector_field = if obj.contains_key("ItemSelector") { "ItemSelector" } else { "Parameters" };
        let item_selector = match (obj.get(selector_field), ql) {
            (Some(t), QueryLanguage::Jsonata) => {
                Some(ItemSelector::Jsonata(compile_jtemplate(t, selector_field, &format!("{loc}/{selector_field}"))?))
            }
            (Some(t), QueryLanguage::JsonPath) => Some(ItemSelector::JsonPath(compile_template(t, &format!("{loc}/{selector_field}"))?)),
            (None, _) => None,
        };
        let batcher = match obj.get("ItemBatcher").and_then(Json::as_object) {
            Some(b) => {
                let bloc = format!("{loc}/ItemBatcher");
                Some(ItemBatcher {
                    max_items: number_source(b, "MaxItemsPerBatch", "MaxItemsPerBatchPath", ql, &bloc)?,
                    max_bytes: number_source(b, "MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath", ql, &bloc)?,
                    batch_input: match b.get("BatchInput") {
                        Some(t) => Some(compile_template(t, &format!("{bloc}/BatchInput"))?),
                        None => None,
                    },
                })
            }
            None => None,
        };
        Ok(MapSpec {
            processor: block,
            mode,
            items_path: match obj.get("ItemsPath").and_then(Json::as_str) {
                Some(p) => Some(parse_path(p, &format!("{loc}/ItemsPath"))?),
                None => None,
            },
            items: jfield(obj.get("Items"), ql, "Items", loc)?,
            item_selector,
            max_concurrency: number_source(obj, "MaxConcurrency", "MaxConcurrencyPath", ql, loc)?,
            tolerated_failure_count: number_source(obj, "ToleratedFailureCount", "ToleratedFailureCountPath", ql, loc)?,
            tolerated_failure_percentage: number_source(
                obj,
                "ToleratedFailurePercentage",
                "ToleratedFailurePercentagePath",
                ql,
                loc,
            )?,
            batcher,
            label: obj.get("Label").and_then(Json::as_str).map(Str::from),
            item_reader: obj.get("ItemReader").map(Value::from_serde),
            result_writer: obj.get("ResultWriter").map(Value::from_serde),
        })
    }
}

pub(crate) fn parse_path(text: &str, loc: &str) -> Result<Path, CompileError> {
    Path::parse(text).or_else(|e| err(loc, format!("The value for the field must be a valid JSONPath: {e}")))
}

/// `Assign`: keys are variable names; values are a payload template (JSONPath) or JSONata values.
fn assign(v: Option<&Json>, ql: QueryLanguage, loc: &str) -> Result<Option<Assign>, CompileError> {
    match (v, ql) {
        (None, _) => Ok(None),
        (Some(Json::Object(o)), _) if o.is_empty() => Ok(None),
        (Some(t), QueryLanguage::JsonPath) => Ok(Some(Assign::JsonPath(compile_template(t, &format!("{loc}/Assign"))?))),
        (Some(t), QueryLanguage::Jsonata) => Ok(Some(Assign::Jsonata(compile_jtemplate(t, "Assign", &format!("{loc}/Assign"))?))),
    }
}

/// A JSONata-only field (`Output`, `Arguments`, `Items`); ignored in JSONPath states, where the
/// validator already refuses it.
fn jfield(v: Option<&Json>, ql: QueryLanguage, field: &str, loc: &str) -> Result<Option<JTemplate>, CompileError> {
    match (v, ql) {
        (Some(t), QueryLanguage::Jsonata) => Ok(Some(compile_jtemplate(t, field, &format!("{loc}/{field}"))?)),
        _ => Ok(None),
    }
}

fn io_path(v: Option<&Json>, loc: &str) -> Result<IoPath, CompileError> {
    match v {
        None => Ok(IoPath::Identity),
        Some(Json::Null) => Ok(IoPath::Empty),
        Some(Json::String(s)) if s == "$" => Ok(IoPath::Identity),
        Some(Json::String(s)) => Ok(IoPath::Path(parse_path(s, loc)?)),
        Some(_) => err(loc, "The value for the field must be a string or null"),
    }
}

fn result_path(v: Option<&Json>, loc: &str) -> Result<ResultPath, CompileError> {
    match v {
        None => Ok(ResultPath::Replace),
        Some(Json::Null) => Ok(ResultPath::Discard),
        Some(Json::String(s)) if s == "$" => Ok(ResultPath::Replace),
        Some(Json::String(s)) => Ok(ResultPath::Path(parse_path(s, loc)?)),
        Some(_) => err(loc, "The value for the field must be a string or null"),
    }
}

fn error_names(v: Option<&Json>, loc: &str) -> Result<SmallVec<[Str; 2]>, CompileError> {
    match v {
        Some(Json::Array(names)) => names
            .iter()
            .map(|n| n.as_str().map(Str::from).ok_or_else(|| CompileError {
                message: "ErrorEquals must hold strings".into(),
                location: format!("{loc}/ErrorEquals"),
            }))
            .collect(),
        _ => err(loc, "These fields are required: [ErrorEquals]"),
    }
}

fn retriers(v: &Json, loc: &str) -> Result<Vec<Retrier>, CompileError> {
    let Some(list) = v.as_array() else { return err(loc, "Retry must be an array") };
    list.iter()
        .enumerate()
        .map(|(i, r)| {
            let rloc = format!("{loc}/{i}");
            let num = |k: &str| r.get(k).and_then(Json::as_f64);
            Ok(Retrier {
                error_equals: error_names(r.get("ErrorEquals"), &rloc)?,
                interval_seconds: num("IntervalSeconds").unwrap_or(1.0),
                max_attempts: num("MaxAttempts").map(|n| n.clamp(0.0, u32::MAX as f64) as u32).unwrap_or(3),
                backoff_rate: num("BackoffRate").unwrap_or(2.0),
                max_delay_seconds: num("MaxDelaySeconds"),
                jitter_full: r.get("JitterStrategy").and_then(Json::as_str) == Some("FULL"),
            })
        })
        .collect()
}

fn number_source(
    obj: &JsonMap<String, Json>,
    literal: &str,
    path: &str,
    ql: QueryLanguage,
    loc: &str,
) -> Result<Option<NumberSource>, CompileError> {
    if let Some(v) = obj.get(literal).filter(|v| ql == QueryLanguage::Jsonata && jsonata::is_expression(v)) {
        return Ok(Some(NumberSource::Jsonata(compile_jtemplate(v, literal, &format!("{loc}/{literal}"))?)));
    }
    if let Some(v) = obj.get(literal) {
        return match v.as_f64() {
            Some(n) => Ok(Some(NumberSource::Literal(n))),
            None => err(&format!("{loc}/{literal}"), format!("{literal} must be a number")),
        };
    }
    match obj.get(path).and_then(Json::as_str) {
        Some(p) => Ok(Some(NumberSource::Path(parse_path(p, &format!("{loc}/{path}"))?))),
        None => Ok(None),
    }
}

fn fail_field(obj: &JsonMap<String, Json>, literal: &str, path: &str, ql: QueryLanguage, loc: &str) -> Result<FailField, CompileError> {
    if let Some(v) = obj.get(literal).filter(|v| ql == QueryLanguage::Jsonata && jsonata::is_expression(v)) {
        return Ok(FailField::Jsonata(compile_jtemplate(v, literal, &format!("{loc}/{literal}"))?));
    }
    if let Some(s) = obj.get(literal).and_then(Json::as_str) {
        return Ok(FailField::Literal(Str::from(s)));
    }
    match obj.get(path).and_then(Json::as_str) {
        Some(p) if is_intrinsic(p) => Intrinsic::parse(p)
            .map(FailField::Intrinsic)
            .or_else(|e| err(&format!("{loc}/{path}"), e.message)),
        Some(p) => Ok(FailField::Path(parse_path(p, &format!("{loc}/{path}"))?)),
        None => Ok(FailField::None),
    }
}

fn wait_spec(obj: &JsonMap<String, Json>, ql: QueryLanguage, loc: &str) -> Result<WaitSpec, CompileError> {
    if ql == QueryLanguage::Jsonata {
        if let Some(v) = obj.get("Seconds").filter(|v| jsonata::is_expression(v)) {
            return Ok(WaitSpec::SecondsExpr(compile_jtemplate(v, "Seconds", &format!("{loc}/Seconds"))?));
        }
        if let Some(v) = obj.get("Timestamp").filter(|v| jsonata::is_expression(v)) {
            return Ok(WaitSpec::TimestampExpr(compile_jtemplate(v, "Timestamp", &format!("{loc}/Timestamp"))?));
        }
    }
    if let Some(v) = obj.get("Seconds") {
        return match v.as_u64() {
            Some(n) => Ok(WaitSpec::Seconds(n)),
            None => err(&format!("{loc}/Seconds"), "Seconds must be a non-negative integer"),
        };
    }
    if let Some(p) = obj.get("SecondsPath").and_then(Json::as_str) {
        return Ok(WaitSpec::SecondsPath(parse_path(p, &format!("{loc}/SecondsPath"))?));
    }
    if let Some(t) = obj.get("Timestamp").and_then(Json::as_str) {
        return match crate::timestamp::Timestamp::parse(t) {
            Some(ts) => Ok(WaitSpec::Timestamp(ts.epoch_millis())),
            None => err(&format!("{loc}/Timestamp"), "Timestamp must be a valid RFC3339 timestamp"),
        };
    }
    if let Some(p) = obj.get("TimestampPath").and_then(Json::as_str) {
        return Ok(WaitSpec::TimestampPath(parse_path(p, &format!("{loc}/TimestampPath"))?));
    }
    err(loc, "A Wait state needs one of Seconds, SecondsPath, Timestamp, TimestampPath")
}
