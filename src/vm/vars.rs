//! Workflow variables (`Assign`) and their scopes.
//!
//! Invariants:
//! - One [`Frame`] per `States` block run: the top level, each Parallel branch, each Map
//!   iteration. An inner frame reads the outer frame as it was when the branch started (a
//!   refcount snapshot) and writes only its own names, so siblings never see each other's
//!   variables and inner variables vanish with the branch; results leave only through output.
//! - Frames are copy-on-write (`Arc::make_mut`): assigning in a frame a branch still reads
//!   copies the frame's own map once, never the values.
//! - All assignments of one `Assign` are evaluated against the old values, then applied together.
//! - Distributed Map iterations are child executions and start with no outer frame (AWS).

use std::sync::Arc;

use crate::error::{AslError, STATES_DATA_LIMIT_EXCEEDED};
use crate::value::{Map, Str, Value};

/// AWS's limits: one variable, and all values of one `Assign`, at most 256 KiB; 10 MiB per execution.
pub const VARIABLE_LIMIT_BYTES: usize = 262_144;
pub const ASSIGN_LIMIT_BYTES: usize = 262_144;

#[derive(Clone, Default, Debug)]
pub struct Frame {
    local: Map,
    parent: Option<Arc<Frame>>,
}

impl Frame {
    /// The top-level frame of an execution.
    pub fn root() -> Arc<Frame> {
        Arc::new(Frame::default())
    }

    /// A frame for a branch or iteration that reads `parent`.
    pub fn child(parent: &Arc<Frame>) -> Arc<Frame> {
        Arc::new(Frame { local: Map::default(), parent: Some(Arc::clone(parent)) })
    }

    /// The variable's value, looking outwards through enclosing frames.
    pub fn get(&self, name: &str) -> Option<Value> {
        let mut frame = self;
        loop {
            if let Some(v) = frame.local.get(name) {
                return Some(v.clone());
            }
            frame = frame.parent.as_deref()?;
        }
    }

    /// Whether `name` is defined in an enclosing (not this) frame.
    pub fn defined_outside(&self, name: &str) -> bool {
        self.parent.as_deref().is_some_and(|p| p.get(name).is_some())
    }

    /// The variables assigned in this frame, in assignment order.
    pub fn locals(&self) -> &Map {
        &self.local
    }
}

/// Applies the evaluated `Assign` object (name → value) to `frame`, enforcing AWS's limits.
pub fn apply(frame: &mut Arc<Frame>, assigned: Value, state_name: &str) -> Result<(), AslError> {
    let Value::Object(values) = assigned else { return Ok(()) };
    if values.is_empty() {
        return Ok(());
    }
    let mut total = 0usize;
    for (name, v) in values.iter() {
        if v.json_len_exceeds(VARIABLE_LIMIT_BYTES) {
            return Err(too_large(state_name, &format!("The variable '{name}' is larger than the {VARIABLE_LIMIT_BYTES} bytes a variable may hold.")));
        }
        total += v.json_len();
    }
    if total > ASSIGN_LIMIT_BYTES {
        return Err(too_large(state_name, &format!("The values assigned by the state '{state_name}' exceed {ASSIGN_LIMIT_BYTES} bytes in total.")));
    }
    let frame = Arc::make_mut(frame);
    for (name, v) in values.iter() {
        frame.local.insert(Str::clone(name), v.clone());
    }
    Ok(())
}

fn too_large(_state: &str, cause: &str) -> AslError {
    AslError::new(STATES_DATA_LIMIT_EXCEEDED, cause.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(pairs: &[(&str, i64)]) -> Value {
        Value::object(pairs.iter().map(|(k, v)| (*k, Value::from(*v))))
    }

    #[test]
    fn inner_frames_read_a_snapshot_and_write_locally() {
        let mut root = Frame::root();
        apply(&mut root, obj(&[("x", 1)]), "S").unwrap();
        let mut inner = Frame::child(&root);
        apply(&mut inner, obj(&[("y", 2)]), "S").unwrap();
        apply(&mut root, obj(&[("x", 5)]), "S").unwrap();
        assert_eq!(inner.get("x"), Some(Value::from(1i64)), "snapshot taken at branch start");
        assert_eq!(inner.get("y"), Some(Value::from(2i64)));
        assert_eq!(root.get("y"), None, "inner variables do not leak");
        assert!(inner.defined_outside("x") && !inner.defined_outside("y"));
    }

    #[test]
    fn oversized_values_are_refused() {
        let mut root = Frame::root();
        let big = Value::from("x".repeat(VARIABLE_LIMIT_BYTES + 1));
        let e = apply(&mut root, Value::object([("big", big)]), "S").unwrap_err();
        assert_eq!(e.error.as_deref(), Some(STATES_DATA_LIMIT_EXCEEDED));
        assert_eq!(root.get("big"), None);
    }
}
