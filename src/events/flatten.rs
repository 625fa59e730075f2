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
use std::sync::atomic::{AtomicU64, Ordering};

use rustc_hash::FxHashMap;

use super::classify::head;
use super::json::JsonError;
use super::keylog::{self, KeyLog, LoggedKey};
use super::scan::{KeyRef, Scanner};

/// Index of an interned rule path.
pub type PathId = u32;

/// The rule paths as a trie of key segments, so event keys are resolved one segment at a time.
///
/// It also keeps event-ruler's set of *steps* (the pieces of rule paths split at dots, with
/// Java's `split`, which drops trailing empty pieces): event-ruler only descends into an event
/// key that is a step or whose dot-separated pieces all are, which decides whether empty keys
/// can ever match (`{"detail": {"": …}}` cannot; a top-level `""` can).
///
/// Invariant the walker's unchecked reads rely on ([`PathTrie::node`]): `nodes` always holds
/// the root (node 0) and never shrinks (`remove` resets a node in place), and every node id in
/// a node's children was an index into `nodes` when it was inserted.
#[derive(Debug)]
pub struct PathTrie {
    nodes: Vec<PathNode>,
    steps: FxHashMap<Box<str>, u32>,
    /// Unique to this trie's current contents (taken from [`GENERATIONS`] on creation and on
    /// every change), so that a walker's key log from another trie or an earlier state is not used.
    generation: u64,
}

/// The source of [`PathTrie::generation`]s: never repeats within a process.
static GENERATIONS: AtomicU64 = AtomicU64::new(1);

fn next_generation() -> u64 {
    GENERATIONS.fetch_add(1, Ordering::Relaxed)
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

impl Default for PathTrie {
    /// The empty trie still has its root, as the walker starts there.
    fn default() -> PathTrie {
        PathTrie::new()
    }
}

impl PathTrie {
    pub fn new() -> PathTrie {
        PathTrie { nodes: vec![PathNode::default()], steps: FxHashMap::default(), generation: next_generation() }
    }

    /// The node `id`, which is the root or came from this trie's children (see the type's
    /// invariant), so it is in bounds and read without a check.
    #[inline]
    fn node(&self, id: u32) -> &PathNode {
        debug_assert!((id as usize) < self.nodes.len());
        // SAFETY: by the type's invariant, `id` is 0 or a child's node id, both below `nodes.len()`.
        unsafe { self.nodes.get_unchecked(id as usize) }
    }

    #[cfg(test)]
    fn needs_empty_step(key: &str) -> bool {
        Self::needs_empty_step_dotted(key, key.contains('.'))
    }

    /// Whether event-ruler, holding only rules without an empty step, would skip this key
    /// (`GenericMachine.isFieldStepUsed`): the key is empty or has an empty dot-separated piece.
    /// All other keys on a rule path are steps of that very rule. `dot`: the key has a dot.
    #[inline]
    fn needs_empty_step_dotted(key: &str, dot: bool) -> bool {
        key.is_empty() || (dot && java_split_dots(key).contains(&""))
    }

    /// Whether some rule path has an empty step.
    fn has_empty_step(&self) -> bool {
        self.steps.contains_key("")
    }

    /// Adds one use of `path`, giving it `id` if it is new; returns the path's id.
    pub fn add(&mut self, path: &str, new_id: PathId) -> PathId {
        self.generation = next_generation();
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
        self.generation = next_generation();
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

    /// The child of `node` under an event key.
    #[inline(always)]
    fn step(&self, node: u32, key: KeyRef<'_>) -> Option<u32> {
        if !key.dot {
            return self.node(node).children.get_with_head(key.text, key.head).copied();
        }
        let mut n = node;
        for segment in key.text.split('.') {
            n = *self.node(n).children.get(segment)?;
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

/// A node's children by key segment, in an open-addressing table keyed by the segment's first
/// eight bytes as a word ([`head`]): finding an event key among them (or not) takes a
/// multiplication and, usually, one or two integer comparisons, without hashing the key.
#[derive(Debug, Default)]
struct Children {
    list: Vec<Child>,
    /// Indexes into `list` plus one (0: free); a power of two long, at most half full.
    table: Box<[u32]>,
}

#[derive(Debug)]
struct Child {
    head: u64,
    key: Box<str>,
    node: u32,
}

impl Children {
    fn get(&self, key: &str) -> Option<&u32> {
        self.get_with_head(key, head(key.as_bytes(), 0, key.len()))
    }

    /// The home slot of a key: in the table, or past its end (so not found, without a test
    /// of its own) when the table is empty.
    #[inline]
    fn slot(&self, h: u64, len: usize) -> usize {
        let mixed = (h ^ len as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (mixed >> 32) as usize & self.table.len().wrapping_sub(1)
    }

    /// The child under `key`, whose [`head`] is `h`.
    #[inline]
    fn get_with_head(&self, key: &str, h: u64) -> Option<&u32> {
        let bytes = key.as_bytes();
        let mut slot = self.slot(h, bytes.len());
        // The table is at most half full, so a free slot ends every probe.
        loop {
            let entry = *self.table.get(slot)?;
            let index = entry.checked_sub(1)? as usize;
            debug_assert!(index < self.list.len());
            // SAFETY: `table` is refilled (`place`, `rebuild`) whenever `list` grows or shrinks,
            // so every entry other than 0 is an index into `list` plus one.
            let child = unsafe { self.list.get_unchecked(index) };
            // Keys of at most eight bytes are equal when their heads and lengths are; only
            // longer ones need the comparison of their tails (a call to memcmp).
            if child.head == h
                && child.key.len() == bytes.len()
                && (bytes.len() <= 8 || child.key.as_bytes().get(8..) == bytes.get(8..))
            {
                return Some(&child.node);
            }
            slot = (slot + 1) & (self.table.len() - 1);
        }
    }

    fn insert(&mut self, key: Box<str>, node: u32) {
        self.list.push(Child { head: head(key.as_bytes(), 0, key.len()), key, node });
        if self.list.len() * 2 > self.table.len() {
            self.rebuild();
        } else {
            self.place(self.list.len() - 1);
        }
    }

    fn place(&mut self, index: usize) {
        let child = &self.list[index];
        let mut slot = self.slot(child.head, child.key.len());
        while self.table[slot] != 0 {
            slot = (slot + 1) & (self.table.len() - 1);
        }
        self.table[slot] = index as u32 + 1;
    }

    fn rebuild(&mut self) {
        let size = if self.list.is_empty() { 0 } else { (self.list.len() * 2).next_power_of_two().max(4) };
        self.table = vec![0; size].into();
        for index in 0..self.list.len() {
            self.place(index);
        }
    }

    fn retain_not(&mut self, node: u32) {
        self.list.retain(|c| c.node != node);
        self.rebuild();
    }

    fn is_empty(&self) -> bool {
        self.list.is_empty()
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

#[cfg(test)]
impl Scalar<'_> {
    /// The scalar as JSON text (strings quoted, not escaped), for tests' expectations.
    pub fn written(&self) -> String {
        match self {
            Scalar::Str(s) => format!("\"{s}\""),
            Scalar::Num(n) => n.to_string(),
            Scalar::True => "true".into(),
            Scalar::False => "false".into(),
            Scalar::Null => "null".into(),
        }
    }
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
#[cfg(test)]
pub fn flatten(event: &str, trie: &PathTrie, sink: &mut impl LeafSink) -> Result<(), EventError> {
    flatten_with(event, trie, sink, &mut WalkBuffers::default())
}

/// The walker's stacks, kept by the caller between events so reading one allocates nothing.
#[derive(Default)]
pub struct WalkBuffers {
    stack: Vec<Frame>,
    membership: Vec<(u32, u32)>,
    pub(super) keys: KeyLog,
}

/// [`flatten`] with the caller's buffers.
pub fn flatten_with(event: &str, trie: &PathTrie, sink: &mut impl LeafSink, buffers: &mut WalkBuffers) -> Result<(), EventError> {
    buffers.stack.clear();
    buffers.membership.clear();
    buffers.keys.written_against(trie.generation);
    let mut walker = Walker {
        scan: Scanner::new(event),
        trie,
        membership: &mut buffers.membership,
        keys: &mut buffers.keys,
        arrays: 0,
        empty_steps: 0,
    };
    walker.scan.ws();
    if walker.scan.peek() != Some(b'{') {
        // Still report malformed text as such.
        walker.scan.skip_value()?;
        return Err(EventError::NotAnObject);
    }
    walker.walk(sink, &mut buffers.stack)
}

/// A container being read: an object, or an array (`array`) with its number `id` and the index
/// of its next element. `empty_step` says whether the key leading into it needs an empty step.
#[derive(Clone, Copy)]
struct Frame {
    node: u32,
    id: u32,
    index: u32,
    array: bool,
    empty_step: bool,
}

impl Frame {
    fn object(node: u32, empty_step: bool) -> Frame {
        Frame { node, id: 0, index: 0, array: false, empty_step }
    }
}

struct Walker<'a, 't> {
    scan: Scanner<'a>,
    trie: &'t PathTrie,
    membership: &'t mut Vec<(u32, u32)>,
    keys: &'t mut KeyLog,
    arrays: u32,
    /// Keys needing an empty step on the current path.
    empty_steps: u32,
}

impl Walker<'_, '_> {
    /// Reads the event object at the cursor. Iterative (an explicit stack of containers), so a
    /// rule path 1,000 levels deep costs no call stack. The innermost container lives in `top`
    /// (in registers, not read back from the stack per token); `stack` holds the ones around it.
    fn walk(&mut self, sink: &mut impl LeafSink, stack: &mut Vec<Frame>) -> Result<(), EventError> {
        let mut top = Frame::object(0, false);
        let mut keys_read = 0usize;
        // Still matching the key log (see `keylog`), and whether keys past a miss are logged.
        let mut predicting = true;
        let relearning = self.keys.relearning();
        self.scan.open()?;
        if self.scan.empty(b'}') {
            return Ok(());
        }
        loop {
            // At the next member or element of the innermost container: find its trie node.
            let (node, empty_step) = if top.array {
                self.membership.push((top.id, top.index));
                top.index += 1;
                // After a comma (a key has its trailing whitespace read already).
                self.scan.ws();
                (Some(top.node), false)
            } else {
                // A key of the same shape as the last event's at this ordinal is recognised by
                // one comparison (see `keylog`); any other is read and logged.
                let ordinal = keys_read;
                keys_read += 1;
                match self.keys.get(ordinal).filter(|k| predicting && k.parent == top.node) {
                    Some(&k) if k.len == 0 => self.key(top.node, relearning.then_some(ordinal))?,
                    Some(&k) if self.scan.at_pattern(k.pattern, k.mask()) => {
                        self.scan.advance_matched(k.len as usize);
                        self.scan.ws();
                        if k.child == keylog::NO_NODE {
                            self.scan.skip()?;
                            (None, false)
                        } else {
                            (Some(k.child), k.empty_step)
                        }
                    }
                    _ => {
                        predicting = false;
                        self.key(top.node, relearning.then_some(ordinal))?
                    }
                }
            };
            // The node's entry read once, for both the `{` test and the scalar's path. Node ids
            // come from the trie's own children (nodes are reset, never removed), so it exists.
            if let Some((node, entry)) = node.map(|node| (node, self.trie.node(node))) {
                self.empty_steps += u32::from(empty_step);
                match self.scan.byte() {
                    b'{' if !entry.children.is_empty() => {
                        self.scan.open()?;
                        if !self.scan.empty(b'}') {
                            stack.push(top);
                            top = Frame::object(node, empty_step);
                            continue;
                        }
                    }
                    b'[' => {
                        self.scan.open()?;
                        let id = self.arrays;
                        self.arrays += 1;
                        if !self.scan.empty(b']') {
                            stack.push(top);
                            top = Frame { node, id, index: 0, array: true, empty_step };
                            continue;
                        }
                    }
                    _ => self.scalar(entry, sink)?,
                }
                self.empty_steps -= u32::from(empty_step);
            }
            // A value is complete: move past separators, closing the containers it completes.
            loop {
                let close = if top.array {
                    self.membership.pop();
                    b']'
                } else {
                    b'}'
                };
                if self.scan.next_or_close(close)? {
                    break;
                }
                self.empty_steps -= u32::from(top.empty_step);
                match stack.pop() {
                    Some(outer) => top = outer,
                    None => {
                        // A relearning event is logged from where it stopped matching, so the
                        // log then describes it.
                        self.keys.read_to_end(!predicting && !relearning);
                        return Ok(());
                    }
                }
            }
        }
    }

    /// A member's key the key log did not recognise, in the object at trie node `parent`: its
    /// child node (or none, with the value skipped) and whether it needs an empty step; logged
    /// at `log_at` (an ordinal) when that is given.
    #[inline(always)]
    fn key(&mut self, parent: u32, log_at: Option<usize>) -> Result<(Option<u32>, bool), EventError> {
        // Only a key right at the cursor can be recognised there next time.
        let at_quote = self.scan.byte() == b'"';
        let word = self.scan.word();
        let escaped;
        let (key, plain) = match self.scan.plain_key() {
            Some(key) => (key, at_quote),
            None => {
                escaped = self.scan.any_key()?;
                (escaped.borrowed(), false)
            }
        };
        // The empty-step test only for keys on a rule path (most keys are not).
        let step = self.trie.step(parent, key).map(|child| (child, PathTrie::needs_empty_step_dotted(key.text, key.dot)));
        let resolved = match step.filter(|&(_, needs_empty)| !needs_empty || self.trie.has_empty_step()) {
            Some((child, needs_empty)) => (Some(child), needs_empty),
            None => (None, false),
        };
        if let Some(ordinal) = log_at {
            let entry = if plain { LoggedKey::new(parent, word, key.text.len(), resolved) } else { LoggedKey::unread(parent) };
            self.keys.record(ordinal, entry);
        }
        if resolved.0.is_none() {
            self.scan.skip()?;
        }
        Ok(resolved)
    }

    /// A scalar (or an object no rule path enters) at the cursor, under trie node `node`.
    fn scalar(&mut self, node: &PathNode, sink: &mut impl LeafSink) -> Result<(), EventError> {
        let scalar = match self.scan.byte() {
            b'{' => return Ok(self.scan.skip_value()?),
            b'"' => Scalar::Str(self.scan.string()?),
            b'-' | b'0'..=b'9' => Scalar::Num(self.scan.number()?),
            b't' => {
                self.scan.literal("true")?;
                Scalar::True
            }
            b'f' => {
                self.scan.literal("false")?;
                Scalar::False
            }
            b'n' => {
                self.scan.literal("null")?;
                Scalar::Null
            }
            // Also the end of the text: "Unexpected end-of-input: expected a value".
            _ => return Ok(self.scan.bad_token()?),
        };
        if let Some(path) = node.path {
            sink.leaf(path, scalar, self.membership, self.empty_steps > 0);
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
            self.0.push((path, value.written(), membership.to_vec()));
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

    /// Keys, strings, numbers and literals whose last byte falls at every offset of a 16- and a
    /// 64-byte block, up to the text's very end (the scanner reads a padded copy of the text).
    #[test]
    fn tokens_ending_at_every_block_offset_give_their_leaves() {
        let mut trie = PathTrie::new();
        let (k, s, n, t) = (trie.add("k", 0), trie.add("s", 1), trie.add("n", 2), trie.add("t", 3));
        for len in 0..80 {
            let word = "w".repeat(len);
            let digits = format!("1{}", "0".repeat(len % 20));
            let long_key = format!("z{word}");
            let event = format!(r#"{{"{long_key}":0,"k":"{word}","s":"{word}.","n":{digits},"t":true}}"#);
            let mut out = Collect::default();
            flatten(&event, &trie, &mut out).unwrap();
            let want = vec![
                (k, format!("\"{word}\""), vec![]),
                (s, format!("\"{word}.\""), vec![]),
                (n, digits.clone(), vec![]),
                (t, "true".to_string(), vec![]),
            ];
            assert_eq!(out.0, want, "{event}");
            for cut in 1..event.len() {
                assert!(flatten(&event[..cut], &trie, &mut Collect::default()).is_err(), "{}", &event[..cut]);
            }
        }
    }

    /// The scanner tests the expected byte (quote, colon, comma, bracket) before whitespace:
    /// whitespace of every kind at every place between tokens still gives the compact event's
    /// leaves, in the parts read and in the parts skipped.
    #[test]
    fn whitespace_anywhere_between_tokens_reads_as_compact() {
        let mut trie = PathTrie::new();
        let (a, b, n) = (trie.add("a.b", 0), trie.add("a.c", 1), trie.add("n", 2));
        let compact = r#"{"skip":{"x":[1,-2.5,"s",{"y":true}],"z":null},"a":[{"b":"v","c":[1,2]},{"b":"w"}],"n":7,"m":-1}"#;
        let mut want = Collect::default();
        flatten(compact, &trie, &mut want).unwrap();
        assert_eq!(want.0.len(), 5);
        assert_eq!((want.0[0].0, want.0[1].0, want.0[4].0), (a, b, n));
        for ws in [" ", "\n", "\t", "\r\n", " \t\n "] {
            let mut spaced = String::new();
            let mut in_string = false;
            for c in compact.chars() {
                let structural = !in_string && matches!(c, '{' | '}' | '[' | ']' | ':' | ',');
                if structural {
                    spaced.push_str(ws);
                }
                spaced.push(c);
                if structural {
                    spaced.push_str(ws);
                }
                in_string ^= c == '"';
            }
            let mut got = Collect::default();
            flatten(&spaced, &trie, &mut got).unwrap();
            assert_eq!(got.0, want.0, "{spaced:?}");
        }
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

/// The scanner and walker against a reference built on serde_json's parser, on random and
/// mutated JSON: escapes, non-ASCII text, nesting, duplicate keys, numbers of many shapes, and
/// broken text. A line serde_json rejects must be rejected (never matched by what was read
/// before the fault), and a line it accepts must give the same leaves.
#[cfg(test)]
mod reference {
    use super::*;
    use proptest::prelude::*;
    use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

    /// A leaf as both sides report it: path, value (numbers by double value), element indexes
    /// of the arrays around it with array ids renumbered by first appearance.
    #[derive(Debug, Clone, PartialEq)]
    enum Val {
        Str(String),
        Num(f64),
        Bool(bool),
        Null,
    }
    type RefLeaf = (String, Val, Vec<(u32, u32)>);

    /// serde_json's view of an event: every leaf with its dotted path (duplicate keys kept).
    struct Walk<'r> {
        /// At the top level, where a key is the whole path (even an empty one).
        root: bool,
        path: String,
        membership: Vec<(u32, u32)>,
        arrays: &'r mut u32,
        /// Some key on the path is one only rules with an empty step see.
        hidden: bool,
        out: &'r mut Vec<(RefLeaf, bool)>,
    }

    impl<'de> DeserializeSeed<'de> for Walk<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }

    impl Walk<'_> {
        fn leaf(self, v: Val) {
            self.out.push(((self.path, v, self.membership), self.hidden));
        }
    }

    impl<'de> Visitor<'de> for Walk<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("JSON")
        }
        fn visit_bool<E>(self, v: bool) -> Result<(), E> {
            self.leaf(Val::Bool(v));
            Ok(())
        }
        fn visit_i64<E>(self, v: i64) -> Result<(), E> {
            self.leaf(Val::Num(v as f64));
            Ok(())
        }
        fn visit_u64<E>(self, v: u64) -> Result<(), E> {
            self.leaf(Val::Num(v as f64));
            Ok(())
        }
        fn visit_f64<E>(self, v: f64) -> Result<(), E> {
            self.leaf(Val::Num(v));
            Ok(())
        }
        fn visit_str<E>(self, v: &str) -> Result<(), E> {
            self.leaf(Val::Str(v.to_string()));
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            self.leaf(Val::Null);
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<String>()? {
                let hidden = self.hidden || PathTrie::needs_empty_step(&key);
                let path = if self.root { key } else { format!("{}.{key}", self.path) };
                let membership = self.membership.clone();
                map.next_value_seed(Walk { root: false, path, membership, hidden, arrays: self.arrays, out: self.out })?;
            }
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let id = *self.arrays;
            *self.arrays += 1;
            let mut index = 0;
            loop {
                let mut membership = self.membership.clone();
                membership.push((id, index));
                let (root, path, hidden) = (self.root, self.path.clone(), self.hidden);
                let seed = Walk { root, path, membership, hidden, arrays: self.arrays, out: self.out };
                if seq.next_element_seed(seed)?.is_none() {
                    return Ok(());
                }
                index += 1;
            }
        }
    }

    /// Renumbers array ids by first appearance, so the two sides' numbering (which counts
    /// skipped arrays differently) compares.
    fn canonical(mut leaves: Vec<RefLeaf>) -> Vec<RefLeaf> {
        let mut seen: Vec<u32> = Vec::new();
        for (_, _, membership) in leaves.iter_mut() {
            for (array, _) in membership.iter_mut() {
                let n = seen.iter().position(|a| a == array).unwrap_or_else(|| {
                    seen.push(*array);
                    seen.len() - 1
                });
                *array = n as u32;
            }
        }
        leaves
    }

    /// serde_json's leaves of the first JSON value of `text` (what follows it is not read, as
    /// in the matcher), or its error message.
    /// Each leaf comes with whether only rules with an empty step see it.
    fn reference(text: &str) -> Result<Vec<(RefLeaf, bool)>, String> {
        let mut out = Vec::new();
        let mut arrays = 0;
        let mut de = serde_json::Deserializer::from_str(text);
        Walk { root: true, path: String::new(), membership: Vec::new(), hidden: false, arrays: &mut arrays, out: &mut out }
            .deserialize(&mut de)
            .map_err(|e| e.to_string())?;
        Ok(out)
    }

    #[derive(Default)]
    struct Leaves<'t> {
        names: Vec<(PathId, &'t str)>,
        out: Vec<RefLeaf>,
    }

    impl LeafSink for Leaves<'_> {
        fn leaf(&mut self, path: PathId, value: Scalar<'_>, membership: &[(u32, u32)], _needs_empty_step: bool) {
            let name = self.names.iter().find(|(id, _)| *id == path).map_or("?", |(_, n)| n).to_string();
            let v = match value {
                Scalar::Str(s) => Val::Str(s.into_owned()),
                Scalar::Num(n) => Val::Num(n.parse().unwrap_or(f64::NAN)),
                Scalar::True => Val::Bool(true),
                Scalar::False => Val::Bool(false),
                Scalar::Null => Val::Null,
            };
            self.out.push((name, v, membership.to_vec()));
        }
    }

    /// Our leaves of `text` at `paths`.
    fn ours(text: &str, paths: &[String]) -> Result<Vec<RefLeaf>, EventError> {
        let mut trie = PathTrie::new();
        let mut sink = Leaves::default();
        for (i, p) in paths.iter().enumerate() {
            let id = trie.add(p, i as PathId);
            sink.names.push((id, p.as_str()));
        }
        flatten(text, &trie, &mut sink)?;
        Ok(canonical(sink.out))
    }

    /// A JSON string literal of `s`, each character written plainly or as an escape.
    fn quoted(s: &str, escapes: &[bool]) -> String {
        let mut out = String::from("\"");
        for (i, c) in s.chars().enumerate() {
            let escape = escapes.get(i % escapes.len().max(1)).copied().unwrap_or(false);
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c if escape => {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        out.push_str(&format!("\\u{u:04X}"));
                    }
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    fn text() -> impl Strategy<Value = String> {
        let piece =
            prop::sample::select(vec!["a", "b", "x y", "é", "🚀", "\"", "\\", "\n", "\u{7f}", "\u{2028}", "/", "é\u{301}"]);
        (prop::collection::vec(piece, 0..4), prop::collection::vec(any::<bool>(), 1..4))
            .prop_map(|(pieces, escapes)| quoted(&pieces.concat(), &escapes))
    }

    /// Keys: never empty and without dots, so a key is one path step.
    fn key() -> impl Strategy<Value = String> {
        let piece = prop::sample::select(vec!["a", "b", "k", "é", "🚀", "\"", "\\", "\t", "a b"]);
        (prop::collection::vec(piece, 1..3), prop::collection::vec(any::<bool>(), 1..4))
            .prop_map(|(pieces, escapes)| quoted(&pieces.concat(), &escapes))
    }

    fn number() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "0",
                "-0",
                "1",
                "-1",
                "0.5",
                "-0.0",
                "1e5",
                "1E-5",
                "2.5e+3",
                "9007199254740993",
                "123456789012345678901234567890",
                "1.00000000000000001",
                "1e20",
                "0.1",
                "-12.75e-2",
            ])
            .prop_map(str::to_string),
            any::<i64>().prop_map(|n| n.to_string()),
            (any::<i32>(), 0u32..1000, -20i32..20).prop_map(|(i, f, e)| format!("{i}.{f}e{e}")),
        ]
    }

    fn value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![text(), number(), Just("true".to_string()), Just("false".to_string()), Just("null".to_string()),];
        let ws = prop::sample::select(vec!["", " ", "\n", "\t ", "\r\n"]);
        leaf.prop_recursive(8, 64, 5, move |inner| {
            prop_oneof![
                (prop::collection::vec(inner.clone(), 0..5), ws.clone())
                    .prop_map(|(v, w)| format!("[{w}{}{w}]", v.join(&format!(",{w}")))),
                (prop::collection::vec((key(), inner), 0..5), ws.clone()).prop_map(|(kv, w)| {
                    let members: Vec<String> = kv.iter().map(|(k, v)| format!("{k}{w}:{w}{v}")).collect();
                    format!("{{{w}{}{w}}}", members.join(","))
                }),
            ]
        })
    }

    /// An event object; some keys repeat.
    fn event() -> impl Strategy<Value = String> {
        prop::collection::vec(
            (
                prop::sample::select(vec!["\"a\"", "\"b\"", "\"\\u0061\"", "\"d\\u00e9\""])
                    .prop_map(str::to_string)
                    .boxed()
                    .prop_union(key().boxed()),
                value(),
            ),
            0..6,
        )
        .prop_map(|kv| format!("{{{}}}", kv.iter().map(|(k, v)| format!("{k}:{v}")).collect::<Vec<_>>().join(",")))
    }

    /// Breaks an event: cuts it short, drops a byte, or inserts one that matters to JSON.
    fn mutated() -> impl Strategy<Value = String> {
        let inserted = prop::sample::select(vec![
            "{", "}", "[", "]", ",", ":", "\"", "\\", " ", "x", "-", ".", "e", "0", "\u{1}", "é", "tru", "nul",
        ]);
        (event(), any::<prop::sample::Index>(), 0u8..3, inserted).prop_map(|(e, at, how, ins)| {
            let mut cut = at.index(e.len() + 1);
            while !e.is_char_boundary(cut) {
                cut -= 1;
            }
            match how {
                0 => e[..cut].to_string(),
                1 => {
                    let next = e[cut..].chars().next().map_or(0, char::len_utf8);
                    format!("{}{}", &e[..cut], &e[cut + next..])
                }
                _ => format!("{}{ins}{}", &e[..cut], &e[cut..]),
            }
        })
    }

    /// Every path of the reference's leaves, plus their prefixes (which make our walker
    /// report leaves at inner nodes too).
    fn all_paths(leaves: &[(RefLeaf, bool)]) -> Vec<String> {
        let mut paths: Vec<String> = Vec::new();
        for ((p, _, _), _) in leaves {
            let mut end = 0;
            for piece in p.split('.') {
                end += piece.len();
                let prefix = p[..end].to_string();
                if !paths.contains(&prefix) {
                    paths.push(prefix);
                }
                end += 1;
            }
        }
        paths
    }

    fn has_high_surrogate(text: &str) -> bool {
        let lower = text.to_ascii_lowercase();
        lower.match_indices("\\ud").any(|(i, _)| matches!(lower.as_bytes().get(i + 3), Some(b'8'..=b'9' | b'a'..=b'b')))
    }

    fn check(text: &str) -> Result<(), TestCaseError> {
        let reference = reference(text);
        match reference {
            Ok(leaves) => {
                let is_object = text.trim_start().starts_with('{');
                let paths = all_paths(&leaves);
                // As event-ruler, keys that are empty are only entered when some rule path has an
                // empty step (see `PathTrie`).
                let empty_steps = paths.iter().any(|p| java_split_dots(p).contains(&""));
                let leaves =
                    canonical(leaves.into_iter().filter(|(_, hidden)| empty_steps || !hidden).map(|(leaf, _)| leaf).collect());
                match ours(text, &paths) {
                    Ok(got) => {
                        prop_assert!(is_object, "accepted a non-object: {}", text);
                        prop_assert_eq!(got, leaves, "{}", text);
                    }
                    Err(EventError::NotAnObject) => prop_assert!(!is_object, "{}", text),
                    Err(e) => prop_assert!(false, "rejected valid JSON {}: {}", text, e),
                }
                // Reading only some paths skips the rest, and must give the same verdict.
                if let Some(first) = paths.first() {
                    let some = ours(text, std::slice::from_ref(first)).map(|l| l.len());
                    prop_assert_eq!(some.is_ok(), is_object, "{}", text);
                }
            }
            // serde_json rejects lone UTF-16 surrogates, which Jackson (and we) read as `?`
            // (after a high surrogate it also insists on a `\u` escape), and numbers beyond a
            // double's range, which Jackson reads.
            Err(e)
                if e.contains("surrogate")
                    || e.contains("out of range")
                    || (e.contains("hex escape") && has_high_surrogate(text)) => {}
            Err(e) => {
                prop_assert!(ours(text, &[]).is_err(), "accepted invalid JSON {} ({})", text, e);
                prop_assert!(ours(text, &["a".into(), "a.b".into()]).is_err(), "accepted invalid JSON {} ({})", text, e);
            }
        }
        Ok(())
    }

    #[test]
    fn adversarial_cases() {
        for text in [
            r#"{"a": "\ud83d\ude80", "a": [1, [2, {"a": 3}]], "\u0061": -0.0e-0}"#,
            r#"{"a":{"b":{"c":[[[[]]]]}},"a":{"b":1e-7}}"#,
            "{\"a\": \"\u{2028}\\u2029\\/\"}",
            r#"{"a": 1}  trailing text is never read"#,
            r#"{"a": [1, 2,]}"#,
            r#"{"a": 1.e5}"#,
            r#"{"a": "\x"}"#,
            r#"{"a"}"#,
            "{\"a\": \"tab\there\"}",
            r#"{"a": 00}"#,
            r#"[{"a": 1}]"#,
            r#"{"": {"b": 1}, "a": [{"": "x", "\u0061\u0061": 2}], "a": {"\ud83d\"ude80": 3}}"#,
            r#"{"\uD83DuDE80\u0061": [1]}"#,
            r#"{"a": -1e0148250918838742949}"#,
            r#"{"a": {"🚀": {}, "": [-0, true]}, "a": [-1], "\u0061": [[true, 1e20]]}"#,
            r#"{"a": {"b": {"\uD83D\uDE80": {"c": 9"#,
            "",
        ] {
            check(text).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn valid_events_give_the_reference_leaves(text in event()) {
            check(&text)?;
        }

        #[test]
        fn broken_events_are_rejected(text in mutated()) {
            check(&text)?;
        }
    }
}
