//! Preparing a Map state's run: the items (ItemsPath, must be an array), each iteration's input
//! (ItemSelector with `$$.Map.Item`), batching, and the concurrency and failure-tolerance
//! settings, each checked with AWS's runtime causes. Running the iterations is the driver's job.

use std::sync::Arc;

use crate::error::AslError;
use crate::jsonpath::Roots;
use crate::program::{BlockId, ItemSelector, MapMode, MapSpec, NumberSource};
use crate::value::{Map, Value};

use super::context::{ExecShared, MapItem, StateRoots};
use super::Frame;
use super::io::{eval_template, quote_raw};
use super::jsonata::{self, JEnv};

/// Everything the driver needs to run a Map state's iterations.
#[derive(Debug)]
pub struct MapRun {
    pub processor: BlockId,
    pub mode: MapMode,
    /// One input per iteration, in item order.
    pub inputs: Vec<Value>,
    /// 0 = no limit.
    pub max_concurrency: usize,
    /// Failed iterations allowed before the Map fails; `None` = none tolerated.
    pub tolerated_failure_count: Option<u64>,
    pub tolerated_failure_percentage: Option<f64>,
    /// The Map state's variables, which inline iterations read.
    pub vars: Arc<Frame>,
}

impl MapRun {
    /// Whether `failed` failures out of `total` iterations exceed the tolerance.
    pub fn exceeds_tolerance(&self, failed: usize, total: usize) -> bool {
        if failed == 0 {
            return false;
        }
        let by_count = self.tolerated_failure_count.map(|c| failed as u64 > c);
        let by_pct = self
            .tolerated_failure_percentage
            .map(|p| total > 0 && (failed as f64 * 100.0 / total as f64) > p);
        match (by_count, by_pct) {
            (None, None) => true,
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (Some(a), Some(b)) => a || b,
        }
    }

    /// Whether any failure is tolerated (iteration failures become results, not state failures).
    pub fn tolerates_failures(&self) -> bool {
        self.tolerated_failure_count.is_some_and(|c| c > 0)
            || self.tolerated_failure_percentage.is_some_and(|p| p > 0.0)
    }
}

/// `vars` is the Map state's variable frame, which inline iterations read; `items_override`,
/// when given, replaces reading the items (TestState's `mapItemReaderData`).
pub(super) fn prepare(
    spec: &MapSpec,
    roots: &StateRoots,
    exec: &ExecShared,
    vars: &Arc<Frame>,
    items_override: Option<Value>,
) -> Result<MapRun, AslError> {
    let items_value = match (items_override, &spec.items, &spec.items_path) {
        (Some(items), _, _) => items,
        (None, Some(t), _) => jsonata::eval_array(t, &JEnv::new(roots, None, None))?,
        (None, None, Some(p)) => p
            .resolve(roots)
            .map_err(|miss| AslError::runtime(format!("Invalid path '{}' : {}", p.source(), miss.message)))?,
        (None, None, None) => roots.input().clone(),
    };
    let Value::Array(items) = &items_value else {
        let cause = format!("Map state input must be an array but was: {}", items_value.to_json());
        // Recorded: JSONata states report this as a query evaluation error.
        return Err(if roots.jsonata { AslError::query_evaluation(cause) } else { AslError::runtime(cause) });
    };
    // Recorded AWS histories: a bad MaxConcurrencyPath fails before MapStateStarted, bad
    // tolerance values after it.
    let max_concurrency = match &spec.max_concurrency {
        None => 0,
        Some(src) => integer(src, "MaxConcurrencyPath", roots)?.max(0) as usize,
    };
    exec.event("MapStateStarted", Some(roots.state_name), || None);
    let tolerated_failure_count = match &spec.tolerated_failure_count {
        None => None,
        Some(src) => {
            let n = integer(src, "ToleratedFailureCountPath", roots)?;
            if n < 0 {
                return Err(AslError::runtime("ToleratedFailureCount cannot be negative."));
            }
            Some(n as u64)
        }
    };
    let tolerated_failure_percentage = match &spec.tolerated_failure_percentage {
        None => None,
        Some(src) => {
            let p = float(src, "ToleratedFailurePercentagePath", roots)?;
            if !(0.0..=100.0).contains(&p) {
                return Err(AslError::runtime("ToleratedFailurePercentage must be between 0 and 100."));
            }
            Some(p)
        }
    };

    let mut inputs = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let input = match &spec.item_selector {
            Some(selector) => {
                let item_roots = StateRoots { map_item: Some(MapItem { index, value: item }), ..roots.with_input(roots.input) };
                match selector {
                    ItemSelector::JsonPath(t) => eval_template(t, &item_roots)?,
                    ItemSelector::Jsonata(t) => jsonata::eval(t, &JEnv::new(&item_roots, None, None))?,
                }
            }
            None => item.clone(),
        };
        inputs.push(input);
    }
    if let Some(b) = &spec.batcher {
        inputs = batch(inputs, b, roots)?;
    }
    Ok(MapRun {
        processor: spec.processor,
        mode: spec.mode,
        inputs,
        max_concurrency,
        tolerated_failure_count,
        tolerated_failure_percentage,
        vars: Arc::clone(vars),
    })
}

/// ItemBatcher: groups inputs into `{"Items": [...], "BatchInput": …}` objects, each within
/// `MaxItemsPerBatch` items and `MaxInputBytesPerBatch` bytes.
fn batch(inputs: Vec<Value>, b: &crate::program::ItemBatcher, roots: &StateRoots) -> Result<Vec<Value>, AslError> {
    let max_items = match &b.max_items {
        Some(src) => integer(src, "MaxItemsPerBatchPath", roots)?.max(1) as usize,
        None => usize::MAX,
    };
    let max_bytes = match &b.max_bytes {
        Some(src) => integer(src, "MaxInputBytesPerBatchPath", roots)?.max(1) as usize,
        None => super::io::PAYLOAD_LIMIT_BYTES,
    };
    let batch_input = match &b.batch_input {
        Some(t) => Some(eval_template(t, roots)?),
        None => None,
    };
    let mut out = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    let mut bytes = 0usize;
    for item in inputs {
        let len = item.json_len() + 1;
        if !current.is_empty() && (current.len() >= max_items || bytes + len > max_bytes) {
            out.push(batch_value(std::mem::take(&mut current), &batch_input));
            bytes = 0;
        }
        bytes += len;
        current.push(item);
    }
    if !current.is_empty() {
        out.push(batch_value(current, &batch_input));
    }
    Ok(out)
}

fn batch_value(items: Vec<Value>, batch_input: &Option<Value>) -> Value {
    let mut m = Map::default();
    if let Some(bi) = batch_input {
        m.insert("BatchInput".into(), bi.clone());
    }
    m.insert("Items".into(), Value::array(items));
    Value::from(m)
}

fn integer(src: &NumberSource, path_field: &str, roots: &StateRoots) -> Result<i64, AslError> {
    match src {
        NumberSource::Literal(n) => Ok(*n as i64),
        NumberSource::Jsonata(t) => jsonata::eval_integer(t, &JEnv::new(roots, None, None)),
        NumberSource::Path(p) => {
            let v = p
                .resolve(roots)
                .map_err(|miss| AslError::runtime(format!("Invalid path '{}' : {}", p.source(), miss.message)))?;
            v.as_i64().ok_or_else(|| {
                AslError::runtime(format!(
                    "The {path_field} field refers to value \"{}\" which is not a valid integer: {}",
                    quote_raw(&v),
                    p.source()
                ))
            })
        }
    }
}

fn float(src: &NumberSource, path_field: &str, roots: &StateRoots) -> Result<f64, AslError> {
    match src {
        NumberSource::Literal(n) => Ok(*n),
        NumberSource::Jsonata(t) => jsonata::eval_number(t, &JEnv::new(roots, None, None)),
        NumberSource::Path(p) => {
            let v = p
                .resolve(roots)
                .map_err(|miss| AslError::runtime(format!("Invalid path '{}' : {}", p.source(), miss.message)))?;
            v.as_f64().ok_or_else(|| {
                AslError::runtime(format!(
                    "The {path_field} field refers to value \"{}\" which is not a valid float: {}",
                    quote_raw(&v),
                    p.source()
                ))
            })
        }
    }
}
