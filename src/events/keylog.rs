//! The walker's key log: what the plain keys of the last event read resolved to in the path
//! trie, by their ordinal among that event's keys, with each key's bytes as written
//! (`"key":`, at most 16 bytes). The next event usually has the same shape (EventBridge
//! envelopes, one source's details), so the walker first compares the 16 bytes at the cursor
//! with the entry at the same ordinal: one load and one comparison instead of finding the key's
//! end, hashing it and probing the trie.
//!
//! Invariants:
//! - Every entry is a true fact about the trie generation the log was written against ("in the
//!   object at node `parent`, a key written exactly so resolves to `child`"), whatever ordinal
//!   it is met at: the ordinal only decides how often the comparison succeeds, never what it
//!   gives. [`KeyLog::written_against`] empties the log when the trie changes or another trie's
//!   walk uses the buffers.
//! - A pattern holds only non-zero bytes where its mask is set, and the text is followed by a
//!   zero byte, so a match lies within the text (the scanner's cursor invariant).
//! - An event is compared with the log key by key until its first key that differs; from there
//!   on its keys are read the usual way, and logged only when the event before it also
//!   differed ([`KeyLog::relearning`]), so an event of another shape costs one comparison.
//! - While an event is logged, `keys.len()` is at least the ordinal of its next key (each key
//!   before it was found in the log or recorded), so recording extends the log by one at most.

/// A node id that no trie node has: the `parent` of an entry never to be used, the `child` of
/// a key no rule path goes through.
pub const NO_NODE: u32 = u32::MAX;

/// Keys logged per event at most (later keys are read the usual way).
const LOGGED_KEYS: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LoggedKey {
    /// The key's bytes `"key":`, little-endian, zero past them.
    pub pattern: u128,
    /// The trie node of the object the key was in ([`NO_NODE`]: never used).
    pub parent: u32,
    /// The child node, or [`NO_NODE`] when no rule path goes through the key.
    pub child: u32,
    /// Bytes from the opening quote to past the colon (3 to 16), or 0 for a key that is not
    /// compared (longer, escaped or after whitespace), which is read the usual way without
    /// ending the comparisons.
    pub len: u8,
    pub empty_step: bool,
}

/// `MASKS[n]`: the low `n` bytes of a 16-byte word.
const MASKS: [u128; 17] = {
    let mut masks = [u128::MAX; 17];
    let mut n = 0;
    while n < 16 {
        masks[n] = (1u128 << (8 * n)) - 1;
        n += 1;
    }
    masks
};

impl LoggedKey {
    /// The entry for a key in the object at `parent` that is not compared.
    pub fn unread(parent: u32) -> LoggedKey {
        LoggedKey { pattern: 0, parent, child: NO_NODE, len: 0, empty_step: false }
    }

    /// The entry for a plain key of `key_len` bytes (written without escapes, its colon right
    /// after its closing quote) whose opening quote starts the 16 bytes `word`, met in the
    /// object at trie node `parent` and resolved to `resolved` (child node, needs an empty
    /// step); [`Self::unread`] when `"key":` exceeds 16 bytes.
    #[inline(always)]
    pub fn new(parent: u32, word: u128, key_len: usize, resolved: (Option<u32>, bool)) -> LoggedKey {
        let n = key_len + 3;
        if n > 16 {
            return LoggedKey::unread(parent);
        }
        let (child, empty_step) = resolved;
        LoggedKey { pattern: word & MASKS[n], parent, child: child.unwrap_or(NO_NODE), len: n as u8, empty_step }
    }

    /// The bytes of `pattern` to compare.
    #[inline(always)]
    pub fn mask(&self) -> u128 {
        MASKS[usize::from(self.len).min(16)]
    }
}

/// The log itself, kept in the walker's buffers between events.
#[derive(Default)]
pub struct KeyLog {
    keys: Vec<LoggedKey>,
    /// The trie generation the entries were written against.
    generation: u64,
    /// The log does not describe the last event read (or there was none yet).
    missed: bool,
}

impl KeyLog {
    /// Before a walk over a trie of `generation`: the entries of any other are dropped.
    #[inline(always)]
    pub fn written_against(&mut self, generation: u64) {
        if self.generation != generation {
            self.keys.clear();
            self.generation = generation;
            self.missed = true;
        }
    }

    /// Whether the keys an event reads past the point where it stops matching the log are to
    /// be logged: only after an event that did not match it either. A stream alternating
    /// between shapes keeps the log of one of them (rather than paying to rewrite it at every
    /// event and matching none), and a stream whose shape changed relearns it at its second
    /// event.
    #[inline(always)]
    pub fn relearning(&self) -> bool {
        self.missed
    }

    /// After an event read to its end: whether the log does not describe it (it stopped
    /// matching the log and was not logged from there).
    #[inline(always)]
    pub fn read_to_end(&mut self, missed: bool) {
        self.missed = missed;
    }

    /// The parents and patterns logged, in order (for tests).
    #[cfg(test)]
    fn logged(&self) -> Vec<(u32, u128)> {
        self.keys.iter().map(|k| (k.parent, k.pattern)).collect()
    }

    #[inline(always)]
    pub fn get(&self, ordinal: usize) -> Option<&LoggedKey> {
        self.keys.get(ordinal)
    }

    /// Files `entry` at `ordinal` (see the module's third invariant).
    #[inline(always)]
    pub fn record(&mut self, ordinal: usize, entry: LoggedKey) {
        match self.keys.get_mut(ordinal) {
            Some(slot) => *slot = entry,
            None if ordinal < LOGGED_KEYS => self.keys.push(entry),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::flatten::{flatten_with, LeafSink, PathId, PathTrie, Scalar, WalkBuffers};
    use super::*;
    use proptest::prelude::*;

    type Leaf = (PathId, String, Vec<(u32, u32)>, bool);

    #[derive(Default)]
    struct Collect(Vec<Leaf>);
    impl LeafSink for Collect {
        fn leaf(&mut self, path: PathId, value: Scalar<'_>, membership: &[(u32, u32)], needs_empty_step: bool) {
            self.0.push((path, value.written(), membership.to_vec(), needs_empty_step));
        }
    }

    fn read(event: &str, trie: &PathTrie, buffers: &mut WalkBuffers) -> Result<Vec<Leaf>, String> {
        let mut out = Collect::default();
        flatten_with(event, trie, &mut out, buffers).map_err(|e| e.to_string())?;
        Ok(out.0)
    }

    fn fresh(event: &str, trie: &PathTrie) -> Result<Vec<Leaf>, String> {
        read(event, trie, &mut WalkBuffers::default())
    }

    /// Keys of 13 and 14 bytes (`"key":` at 16 bytes and just past), dotted, escaped, empty,
    /// prefixes of one another, and the same keys under different parents.
    const PATHS: [&str; 9] =
        ["a", "a.b", "b", "b.a", "thirteen-char", "fourteen-chars", "d.e", "", "ab"];

    fn trie(paths: &[&str]) -> PathTrie {
        let mut trie = PathTrie::new();
        for (i, p) in paths.iter().enumerate() {
            trie.add(p, i as PathId);
        }
        trie
    }

    fn word(text: &[u8]) -> u128 {
        let mut bytes = [0u8; 16];
        let n = text.len().min(16);
        bytes[..n].copy_from_slice(&text[..n]);
        u128::from_le_bytes(bytes)
    }

    #[test]
    fn patterns_hold_the_key_as_written() {
        let k = LoggedKey::new(3, word(b"\"thirteen-char\":1}"), 13, (Some(9), true));
        assert_eq!(k.pattern.to_le_bytes(), *b"\"thirteen-char\":");
        assert_eq!((k.mask(), k.len, k.parent, k.child, k.empty_step), (u128::MAX, 16, 3, 9, true));
        let short = LoggedKey::new(0, word(b"\"ab\":{\"c\":1}}"), 2, (None, false));
        assert_eq!(&short.pattern.to_le_bytes()[..6], b"\"ab\":\0");
        assert_eq!((short.mask(), short.child), (0xff_ffff_ffff, NO_NODE));
        assert_eq!(LoggedKey::new(4, word(b"\"fourteen-chars\":"), 14, (Some(1), false)), LoggedKey::unread(4));
        assert_eq!(LoggedKey::new(0, word(b"\"\":1"), 0, (Some(1), false)).len, 3);
    }

    #[test]
    fn a_sequence_of_events_reads_as_each_event_alone() {
        let trie = trie(&PATHS);
        let events = [
            r#"{"a":{"b":1},"b":{"a":2},"thirteen-char":3,"fourteen-chars":4}"#,
            // The same keys at the same ordinals under other parents.
            r#"{"b":{"b":1},"a":{"a":2},"fourteen-chars":3,"thirteen-char":4}"#,
            // The same bytes as a logged key, but a longer key, a prefix, escaped, spaced.
            r#"{"ab":{"b":1},"a":{"b":2},"\u0061":{"b":3},"a" :{"b":4},"a": {"b":5}}"#,
            r#"{"a.b":6,"a":{"b":7},"d.e":8,"d":{"e":9},"":10,"x":{"a":{"b":0}}}"#,
            r#"{"a":[{"b":1},{"b":2}],"b":[{"a":3}],"ab":[1,2]}"#,
            r#"{"a":{"b":1},"b":{"a":2},"thirteen-char":3,"fourteen-chars":4}"#,
            // Broken after logged keys, and a key cut short where a logged one was longer.
            r#"{"a":{"b":1},"b":{"a":"#,
            r#"{"a":{"b"#,
            r#"{"a":{"b":1},"b":{"a":2},"thirteen-char":3,"fourteen-chars":4}"#,
        ];
        let mut buffers = WalkBuffers::default();
        for _ in 0..3 {
            for event in events {
                assert_eq!(read(event, &trie, &mut buffers), fresh(event, &trie), "{event}");
            }
        }
    }

    #[test]
    fn a_changed_trie_is_not_read_with_the_old_log() {
        let mut trie = trie(&["a.b"]);
        let event = r#"{"x":{"y":1},"a":{"b":2}}"#;
        let mut buffers = WalkBuffers::default();
        assert_eq!(read(event, &trie, &mut buffers).map(|l| l.len()), Ok(1));
        // `x` was logged as on no rule path; now one goes through it.
        let xy = trie.add("x.y", 7);
        let leaves = read(event, &trie, &mut buffers).unwrap();
        assert!(leaves.iter().any(|l| l.0 == xy), "{leaves:?}");
        trie.remove("x.y");
        assert_eq!(read(event, &trie, &mut buffers), fresh(event, &trie));
    }

    #[test]
    fn tries_sharing_buffers_do_not_share_entries() {
        let (one, two) = (trie(&["a.b"]), trie(&["x", "a"]));
        let event = r#"{"a":{"b":1},"x":2}"#;
        let mut buffers = WalkBuffers::default();
        for _ in 0..3 {
            assert_eq!(read(event, &one, &mut buffers), fresh(event, &one));
            assert_eq!(read(event, &two, &mut buffers), fresh(event, &two));
        }
    }

    #[test]
    fn alternating_shapes_keep_one_log_and_a_new_shape_is_learnt_at_its_second_event() {
        let trie = trie(&["a", "b"]);
        let (first, second) = (r#"{"a":1,"b":2,"c":3}"#, r#"{"c":3,"b":2,"a":1}"#);
        let mut buffers = WalkBuffers::default();
        read(first, &trie, &mut buffers).unwrap();
        let first_log = buffers.keys.logged();
        assert_eq!(first_log.len(), 3);
        assert_eq!(first_log[0].1, u128::from_le_bytes(*b"\"a\":\0\0\0\0\0\0\0\0\0\0\0\0"));
        for _ in 0..3 {
            read(second, &trie, &mut buffers).unwrap();
            read(first, &trie, &mut buffers).unwrap();
            assert_eq!(buffers.keys.logged(), first_log);
        }
        read(second, &trie, &mut buffers).unwrap();
        assert_eq!(buffers.keys.logged(), first_log);
        read(second, &trie, &mut buffers).unwrap();
        let second_log = buffers.keys.logged();
        assert_ne!(second_log, first_log);
        assert_eq!(second_log[0].1, u128::from_le_bytes(*b"\"c\":\0\0\0\0\0\0\0\0\0\0\0\0"));
        assert_eq!(read(second, &trie, &mut buffers), fresh(second, &trie));
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec!["a", "b", "ab", "d", "e", "thirteen-char", "fourteen-chars", "", "a.b", "d.e"])
                .prop_map(|k| format!("\"{k}\"")),
            Just(r#""\u0061""#.to_string()),
        ]
    }

    fn value(depth: u32) -> BoxedStrategy<String> {
        let leaf = prop_oneof![Just("1".to_string()), Just("\"s\"".to_string()), Just("null".to_string())];
        if depth == 0 {
            return leaf.boxed();
        }
        prop_oneof![
            leaf,
            prop::collection::vec((key(), value(depth - 1), prop::bool::ANY), 0..5).prop_map(|members| {
                let body: Vec<String> =
                    members.into_iter().map(|(k, v, spaced)| if spaced { format!("{k} : {v}") } else { format!("{k}:{v}") }).collect();
                format!("{{{}}}", body.join(","))
            }),
            prop::collection::vec(value(depth - 1), 0..3).prop_map(|items| format!("[{}]", items.join(","))),
        ]
        .boxed()
    }

    fn event() -> impl Strategy<Value = String> {
        prop::collection::vec((key(), value(2)), 0..6).prop_map(|members| {
            let body: Vec<String> = members.into_iter().map(|(k, v)| format!("{k}:{v}")).collect();
            format!("{{{}}}", body.join(","))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Events of few keys, read one after another with the same buffers (so the log is
        /// met at every ordinal by keys of other parents, shapes and spellings), some cut short.
        #[test]
        fn reused_buffers_read_every_event_as_fresh_ones(events in prop::collection::vec((event(), 70usize..100), 1..10)) {
            let trie = trie(&PATHS);
            let mut buffers = WalkBuffers::default();
            for (event, keep) in &events {
                // The events are ASCII, so any cut is on a character boundary.
                let cut_event = &event[..event.len() * keep / 100];
                for text in [event.as_str(), cut_event] {
                    prop_assert_eq!(read(text, &trie, &mut buffers), fresh(text, &trie), "{}", text);
                }
            }
        }
    }
}
