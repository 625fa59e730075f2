//! Events → the leaves rules look at: (path, scalar value, array membership), in one pass over
//! the event's text.
//!
//! Invariants:
//! - Paths are the dotted key sequences event-ruler builds (`{"a": {"b": 1}}` and
//!   `{"a.b": 1}` both give `a.b`; array indexes are not part of a path). Only paths some rule
//!   names are produced: a subtree no rule path runs through is skipped (still syntax-checked).
//! - Every occurrence of a repeated key counts; arrays of arrays are flattened; empty arrays and
//!   objects produce no leaf, and neither does an object value (it is not a leaf).
//! - Each leaf records, for every array around it, that array's number in the event (in order
//!   of appearance) and the element index: event-ruler's *array membership*, which two leaves
//!   must agree on to be used together by one rule.

use std::borrow::Cow;

use rustc_hash::FxHashMap;

use super::json::JsonError;
use super::scan::Scanner;

/// Index of an interned rule path.
pub type PathId = u32;

/// The rule paths as a trie of key segments, so event keys are resolved one segment at a time.
///
/// It also keeps event-ruler's set of *steps* (the pieces of rule paths split at dots, with
/// Java's `split`, which drops trailing empty pieces): event-ruler only descends into an event
/// key that is a step or whose dot-separated pieces all are, which decides whether empty keys
/// can ever match (`{"detail": {"": …}}` cannot; a top-level `""` can).
#[derive(Default, Debug)]
pub struct PathTrie {
    nodes: Vec<PathNode>,
    steps: FxHashMap<Box<str>, u32>,
}

#[derive(Default, Debug)]
struct PathNode {
    children: Children,
    path: Option<PathId>,
    /// Uses of rule paths running through or ending at this node.
    uses: u32,
    /// Uses of the rule path ending at this node.
    ends: u32,
}

impl PathTrie {
    pub fn new() -> PathTrie {
        PathTrie { nodes: vec![PathNode::default()], steps: FxHashMap::default() }
    }

    /// Whether event-ruler, holding only rules without an empty step, would skip this key
    /// (`GenericMachine.isFieldStepUsed`): the key is empty or has an empty dot-separated piece.
    /// All other keys on a rule path are steps of that very rule.
    fn needs_empty_step(key: &str) -> bool {
        key.is_empty() || (memchr::memchr(b'.', key.as_bytes()).is_some() && java_split_dots(key).contains(&""))
    }

    /// Whether some rule path has an empty step.
    fn has_empty_step(&self) -> bool {
        self.steps.contains_key("")
    }

    /// Adds one use of `path`, giving it `id` if it is new; returns the path's id.
    pub fn add(&mut self, path: &str, new_id: PathId) -> PathId {
        for step in java_split_dots(path) {
            *self.steps.entry(step.into()).or_default() += 1;
        }
        let mut node = 0usize;
        self.nodes[0].uses += 1;
        for segment in path.split('.') {
            let next = match self.nodes[node].children.get(segment) {
                Some(&n) => n as usize,
                None => {
                    self.nodes.push(PathNode::default());
                    let n = self.nodes.len() - 1;
                    self.nodes[node].children.insert(segment.into(), n as u32);
                    n
                }
            };
            node = next;
            self.nodes[node].uses += 1;
        }
        self.nodes[node].ends += 1;
        *self.nodes[node].path.get_or_insert(new_id)
    }

    /// Removes one use of `path`; returns its id when that was the last use.
    pub fn remove(&mut self, path: &str) -> Option<PathId> {
        for step in java_split_dots(path) {
            if let Some(n) = self.steps.get_mut(step) {
                *n -= 1;
                if *n == 0 {
                    self.steps.remove(step);
                }
            }
        }
        let mut trail = vec![0usize];
        for segment in path.split('.') {
            let &n = self.nodes[*trail.last()?].children.get(segment)?;
            trail.push(n as usize);
        }
        let last = *trail.last()?;
        self.nodes[last].ends = self.nodes[last].ends.saturating_sub(1);
        let freed = if self.nodes[last].ends == 0 { self.nodes[last].path.take() } else { None };
        for depth in (0..trail.len()).rev() {
            let n = trail[depth];
            self.nodes[n].uses = self.nodes[n].uses.saturating_sub(1);
            if self.nodes[n].uses == 0 && depth > 0 {
                let parent = trail[depth - 1];
                self.nodes[parent].children.retain_not(n as u32);
                self.nodes[n] = PathNode::default();
            }
        }
        freed
    }

    fn step(&self, node: u32, key: &str) -> Option<u32> {
        if memchr::memchr(b'.', key.as_bytes()).is_none() {
            return self.nodes.get(node as usize)?.children.get(key).copied();
        }
        let mut n = node;
        for segment in key.split('.') {
            n = *self.nodes.get(n as usize)?.children.get(segment)?;
        }
        Some(n)
    }
}

/// Java's `s.split("\\.")`: trailing empty pieces dropped, but `""` gives `[""]`.
pub(crate) fn java_split_dots(s: &str) -> Vec<&str> {
    if s.is_empty() {
        return vec![""];
    }
    let mut parts: Vec<&str> = s.split('.').collect();
    while parts.last() == Some(&"") {
        parts.pop();
    }
    parts
}

/// A node's children by key segment: a short list scanned in place (most nodes have a handful
/// of children), or a hash map once it grows.
#[derive(Debug, Default)]
struct Children {
    list: Vec<(Box<str>, u32)>,
    map: FxHashMap<Box<str>, u32>,
}

const CHILD_LIST_MAX: usize = 8;

impl Children {
    fn get(&self, key: &str) -> Option<&u32> {
        if self.map.is_empty() {
            // Length and first byte first: most event keys differ from every child there.
            let first = key.as_bytes().first();
            self.list.iter().find(|(k, _)| k.len() == key.len() && k.as_bytes().first() == first && **k == *key).map(|(_, n)| n)
        } else {
            self.map.get(key)
        }
    }

    fn insert(&mut self, key: Box<str>, node: u32) {
        if self.map.is_empty() && self.list.len() < CHILD_LIST_MAX {
            self.list.push((key, node));
        } else {
            self.map.extend(self.list.drain(..));
            self.map.insert(key, node);
        }
    }

    fn retain_not(&mut self, node: u32) {
        self.list.retain(|(_, c)| *c != node);
        self.map.retain(|_, c| *c != node);
    }

    fn is_empty(&self) -> bool {
        self.list.is_empty() && self.map.is_empty()
    }
}

/// A scalar found in an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'a> {
    Str(Cow<'a, str>),
    /// A number as written.
    Num(&'a str),
    True,
    False,
    Null,
}

/// An event that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("malformed event JSON: {0}")]
    Json(#[from] JsonError),
    #[error("an event must be a JSON object")]
    NotAnObject,
}

/// Receives the leaves of an event.
pub trait LeafSink {
    /// A leaf at `path`; `membership` lists (array number, element index) outermost first.
    /// `needs_empty_step`: only rules with an empty step see this leaf (see [`PathTrie`]).
    fn leaf(&mut self, path: PathId, value: Scalar<'_>, membership: &[(u32, u32)], needs_empty_step: bool);
}

/// Walks an event's text and reports every leaf on a rule path.
pub fn flatten(event: &str, trie: &PathTrie, sink: &mut impl LeafSink) -> Result<(), EventError> {
    let mut walker = Walker { scan: Scanner::new(event), trie, membership: Vec::new(), arrays: 0, empty_steps: 0 };
    walker.scan.ws();
    if walker.scan.peek() != Some(b'{') {
        // Still report malformed text as such.
        walker.scan.skip_value()?;
        return Err(EventError::NotAnObject);
    }
    walker.walk(sink)
}

/// A container being read: an object, or an array and the index of its next element.
/// `empty_step` says whether the key leading into it needs an empty step.
enum Frame {
    Object { node: u32, empty_step: bool },
    Array { node: u32, id: u32, index: u32, empty_step: bool },
}

struct Walker<'a, 't> {
    scan: Scanner<'a>,
    trie: &'t PathTrie,
    membership: Vec<(u32, u32)>,
    arrays: u32,
    /// Keys needing an empty step on the current path.
    empty_steps: u32,
}

impl Walker<'_, '_> {
    fn node_has_children(&self, node: u32) -> bool {
        self.trie.nodes.get(node as usize).is_some_and(|n| !n.children.is_empty())
    }

    /// Reads the event object at the cursor. Iterative (an explicit stack of containers), so a
    /// rule path 1,000 levels deep costs no call stack.
    fn walk(&mut self, sink: &mut impl LeafSink) -> Result<(), EventError> {
        let mut stack = vec![Frame::Object { node: 0, empty_step: false }];
        self.scan.open()?;
        if self.scan.empty(b'}') {
            return Ok(());
        }
        loop {
            // At the next member or element of the innermost container: find its trie node.
            let (node, empty_step) = match stack.last_mut() {
                None => return Ok(()),
                Some(Frame::Object { node, .. }) => {
                    let parent = *node;
                    let key = self.scan.key()?;
                    let needs_empty = PathTrie::needs_empty_step(&key);
                    let used = !needs_empty || self.trie.has_empty_step();
                    match self.trie.step(parent, &key).filter(|_| used) {
                        Some(child) => (Some(child), needs_empty),
                        None => {
                            self.scan.skip_value()?;
                            (None, false)
                        }
                    }
                }
                Some(Frame::Array { node, id, index, .. }) => {
                    self.membership.push((*id, *index));
                    *index += 1;
                    (Some(*node), false)
                }
            };
            if let Some(node) = node {
                self.empty_steps += u32::from(empty_step);
                self.scan.ws();
                match self.scan.peek() {
                    Some(b'{') if self.node_has_children(node) => {
                        self.scan.open()?;
                        if !self.scan.empty(b'}') {
                            stack.push(Frame::Object { node, empty_step });
                            continue;
                        }
                    }
                    Some(b'[') => {
                        self.scan.open()?;
                        let id = self.arrays;
                        self.arrays += 1;
                        if !self.scan.empty(b']') {
                            stack.push(Frame::Array { node, id, index: 0, empty_step });
                            continue;
                        }
                    }
                    _ => self.scalar(node, sink)?,
                }
                self.empty_steps -= u32::from(empty_step);
            }
            // A value is complete: move past separators, closing the containers it completes.
            loop {
                let close = match stack.last() {
                    None => return Ok(()),
                    Some(Frame::Object { .. }) => b'}',
                    Some(Frame::Array { .. }) => {
                        self.membership.pop();
                        b']'
                    }
                };
                if self.scan.next_or_close(close)? {
                    break;
                }
                if let Some(Frame::Object { empty_step, .. } | Frame::Array { empty_step, .. }) = stack.pop() {
                    self.empty_steps -= u32::from(empty_step);
                }
            }
        }
    }

    /// A scalar (or an object no rule path enters) at the cursor, under trie node `node`.
    fn scalar(&mut self, node: u32, sink: &mut impl LeafSink) -> Result<(), EventError> {
        let scalar = match self.scan.peek() {
            Some(b'{') => return Ok(self.scan.skip_value()?),
            Some(b'"') => Scalar::Str(self.scan.string()?),
            Some(b'-' | b'0'..=b'9') => Scalar::Num(self.scan.number()?),
            Some(b't') => {
                self.scan.literal("true")?;
                Scalar::True
            }
            Some(b'f') => {
                self.scan.literal("false")?;
                Scalar::False
            }
            Some(b'n') => {
                self.scan.literal("null")?;
                Scalar::Null
            }
            Some(_) => return Ok(self.scan.bad_token()?),
            None => {
                return Err(JsonError { message: "Unexpected end-of-input: expected a value".into(), offset: self.scan.i }.into())
            }
        };
        if let Some(path) = self.trie.nodes.get(node as usize).and_then(|n| n.path) {
            sink.leaf(path, scalar, &self.membership, self.empty_steps > 0);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Leaf = (PathId, String, Vec<(u32, u32)>);

    #[derive(Default)]
    struct Collect(Vec<Leaf>);
    impl LeafSink for Collect {
        fn leaf(&mut self, path: PathId, value: Scalar<'_>, membership: &[(u32, u32)], _needs_empty_step: bool) {
            let v = match value {
                Scalar::Str(s) => format!("\"{s}\""),
                Scalar::Num(n) => n.to_string(),
                Scalar::True => "true".into(),
                Scalar::False => "false".into(),
                Scalar::Null => "null".into(),
            };
            self.0.push((path, v, membership.to_vec()));
        }
    }

    #[test]
    fn flattens_relevant_paths_with_membership() {
        let mut trie = PathTrie::new();
        let ab = trie.add("a.b", 0);
        let c = trie.add("c", 1);
        let mut out = Collect::default();
        let event = r#"{"x": {"deep": [1, {"y": 2}]}, "a": [{"b": 1}, {"b": [2, 3]}, {"z": 0}], "a.b": "dotted", "c": 5.0, "c": null, "c": {"d": 1}}"#;
        flatten(event, &trie, &mut out).unwrap();
        assert_eq!(
            out.0,
            vec![
                (ab, "1".to_string(), vec![(0, 0)]),
                (ab, "2".to_string(), vec![(0, 1), (1, 0)]),
                (ab, "3".to_string(), vec![(0, 1), (1, 1)]),
                (ab, "\"dotted\"".to_string(), vec![]),
                (c, "5.0".to_string(), vec![]),
                (c, "null".to_string(), vec![]),
            ]
        );
    }

    #[test]
    fn malformed_events_are_errors_even_in_skipped_parts() {
        let mut trie = PathTrie::new();
        trie.add("a", 0);
        for bad in [r#"{"x": [1, }"#, r#"{"x": "unterminated}"#, r#"["not an object"]"#, r#"{"a": 01}"#, ""] {
            assert!(flatten(bad, &trie, &mut Collect::default()).is_err(), "{bad}");
        }
    }

    #[test]
    fn paths_are_removed_with_their_last_use() {
        let mut trie = PathTrie::new();
        let ab = trie.add("a.b", 7);
        assert_eq!(trie.add("a.b", 8), ab);
        let a = trie.add("a", 9);
        assert_eq!(trie.remove("a.b"), None);
        assert_eq!(trie.remove("a"), Some(a));
        assert_eq!(trie.remove("a.b"), Some(ab));
        assert!(trie.nodes[0].children.is_empty());
    }
}
