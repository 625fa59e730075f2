//! [`Map`]: the insertion-ordered object map behind [`Value::Object`](super::Value::Object).
//!
//! Workflow payloads are mostly small objects (a Parameters template's few keys, a context
//! object, a ResultPath merge target), built, read a few times and dropped. A general hash map
//! pays for hashing every key and for a second allocation (its index table) on all of them; here
//! the entries sit in one `Vec` in insertion order and a lookup scans them. Each entry carries
//! its key's first eight bytes as a `u64` tag, so the scan compares one word per entry, and keys
//! of up to eight bytes (most JSON keys) are decided by the tag and the length alone, without a
//! `memcmp`. Past [`LINEAR_MAX`] entries a hash index (positions keyed by an Fx hash of the key)
//! is built so that big objects stay O(1).
//!
//! Invariants:
//! - `entries` is in insertion order and holds each key once; `insert` on a present key replaces
//!   the value in place (first position, last value). Each slot's `tag` is `tag(key)`.
//! - `index` is `Some` exactly when `entries.len() > LINEAR_MAX`, and then maps every key's hash
//!   to its position in `entries`.
//! - Removal (`shift_remove`) keeps the order of the other entries.
//! - Equality ignores order, as `Value`'s does.

use std::fmt;
use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use super::{Str, Value};

/// Objects up to this many entries are searched by a linear scan; larger ones get a hash index.
/// Comparing sixteen tags costs about what hashing one key and probing does.
pub const LINEAR_MAX: usize = 16;

/// Positions in `entries`; `u32` keeps the table small (an object never has 4 billion keys:
/// that would be over 100 GB of entries).
type Index = HashTable<u32>;

/// A key known ahead of the objects it is looked up in (a compiled path's property name), with
/// its lookup tag computed once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    name: Str,
    tag: u64,
}

impl Key {
    pub fn new(name: Str) -> Key {
        Key { tag: tag(name.as_bytes()), name }
    }
}

impl std::ops::Deref for Key {
    type Target = str;
    fn deref(&self) -> &str {
        &self.name
    }
}

/// Insertion-ordered map from string keys to [`Value`]s.
#[derive(Default)]
pub struct Map {
    entries: Vec<Slot>,
    index: Option<Box<Index>>,
}

#[derive(Clone)]
struct Slot {
    tag: u64,
    key: Str,
    value: Value,
}

impl Slot {
    #[inline]
    fn is(&self, tag: u64, key: &[u8]) -> bool {
        self.tag == tag
            && self.key.len() == key.len()
            && (key.len() <= 8 || std::ptr::eq(self.key.as_ptr(), key.as_ptr()) || self.key.as_bytes().get(8..) == key.get(8..))
    }
}

/// The key's first eight bytes, zero-padded, as a little-endian word: equal tags and equal
/// lengths mean equal keys up to eight bytes. Short keys are read with overlapping loads
/// rather than a variable-length copy.
#[inline]
fn tag(key: &[u8]) -> u64 {
    let word = |at: usize| key.get(at..at + 4).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64);
    let byte = |at: usize| key.get(at).map_or(0, |&b| b as u64);
    match key.len() {
        0 => 0,
        1..=3 => {
            let n = key.len();
            byte(0) | byte(n / 2) << (8 * (n / 2)) | byte(n - 1) << (8 * (n - 1))
        }
        4..=7 => word(0) | word(key.len() - 4) << (8 * (key.len() - 4)),
        _ => word(0) | word(4) << 32,
    }
}

fn hash_key(key: &str) -> u64 {
    FxBuildHasher.hash_one(key)
}

fn build_index(entries: &[Slot]) -> Box<Index> {
    let mut index = Index::with_capacity(entries.len());
    for (i, slot) in entries.iter().enumerate() {
        index.insert_unique(hash_key(&slot.key), i as u32, |&j| hash_at(entries, j));
    }
    Box::new(index)
}

/// The hash of the key at position `j` (the index's rehash callback; positions it holds are
/// always in range, so the fallback never runs).
fn hash_at(entries: &[Slot], j: u32) -> u64 {
    entries.get(j as usize).map_or(0, |slot| hash_key(&slot.key))
}

impl Map {
    pub fn new() -> Map {
        Map::default()
    }

    /// An empty map with room for `n` entries (templates and parsers know their key count).
    pub fn with_capacity(n: usize) -> Map {
        Map { entries: Vec::with_capacity(n), index: None }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Position of `key`, if present.
    fn get_index_of(&self, key: &str) -> Option<usize> {
        self.find(tag(key.as_bytes()), key)
    }

    /// Position of `key`, whose tag is `t`. The scan is inlined into callers; the hashed lookup
    /// stays out of line so that small objects do not pay for its register pressure.
    #[inline]
    fn find(&self, t: u64, key: &str) -> Option<usize> {
        match &self.index {
            None => self.entries.iter().position(|slot| slot.is(t, key.as_bytes())),
            Some(index) => self.find_hashed(index, t, key),
        }
    }

    #[inline(never)]
    fn find_hashed(&self, index: &Index, t: u64, key: &str) -> Option<usize> {
        index
            .find(hash_key(key), |&i| self.entries.get(i as usize).is_some_and(|slot| slot.is(t, key.as_bytes())))
            .map(|&i| i as usize)
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.get_index_of(key).and_then(|i| self.entries.get(i)).map(|slot| &slot.value)
    }

    /// [`Map::get`] with the key's tag already computed.
    pub fn get_key(&self, key: &Key) -> Option<&Value> {
        self.find(key.tag, &key.name).and_then(|i| self.entries.get(i)).map(|slot| &slot.value)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get_index_of(key).is_some()
    }

    /// Inserts or replaces; a replaced key keeps its position. Returns the old value.
    pub fn insert(&mut self, key: Str, value: Value) -> Option<Value> {
        self.insert_tagged(tag(key.as_bytes()), key, value)
    }

    /// [`Map::insert`] with the key's tag already computed.
    pub fn insert_key(&mut self, key: &Key, value: Value) -> Option<Value> {
        self.insert_tagged(key.tag, key.name.clone(), value)
    }

    fn insert_tagged(&mut self, t: u64, key: Str, value: Value) -> Option<Value> {
        match self.find(t, &key) {
            Some(i) => self.entries.get_mut(i).map(|slot| std::mem::replace(&mut slot.value, value)),
            None => {
                self.push_new(Slot { tag: t, key, value });
                None
            }
        }
    }

    /// Appends an entry whose key the caller knows is absent (a compiled template's distinct
    /// keys), skipping [`Map::insert`]'s lookup. A present key would break the one-entry-per-key
    /// invariant, so debug builds check.
    pub fn push_distinct(&mut self, key: Str, value: Value) {
        debug_assert!(!self.contains_key(&key), "push_distinct of a present key {key:?}");
        self.push_new(Slot { tag: tag(key.as_bytes()), key, value });
    }

    /// Appends an entry whose key is known to be absent; returns its position.
    fn push_new(&mut self, slot: Slot) -> usize {
        let i = self.entries.len();
        match &mut self.index {
            Some(index) => {
                let hash = hash_key(&slot.key);
                self.entries.push(slot);
                let entries = &self.entries;
                index.insert_unique(hash, i as u32, |&j| hash_at(entries, j));
            }
            None => {
                self.entries.push(slot);
                if self.entries.len() > LINEAR_MAX {
                    self.index = Some(build_index(&self.entries));
                }
            }
        }
        i
    }

    /// The value at `key`, inserted from `default` first if absent (at the end).
    pub fn get_or_insert_with(&mut self, key: &Key, default: impl FnOnce() -> Value) -> &mut Value {
        let i = match self.find(key.tag, &key.name) {
            Some(i) => i,
            None => self.push_new(Slot { tag: key.tag, key: key.name.clone(), value: default() }),
        };
        // `i` is a position in `entries`, found or just pushed.
        &mut self.entries[i].value
    }

    /// Removes `key` keeping the order of the others (O(n); the index, if any, is rebuilt).
    pub fn shift_remove(&mut self, key: &str) -> Option<Value> {
        let i = self.get_index_of(key)?;
        let removed = self.entries.remove(i);
        self.index = (self.entries.len() > LINEAR_MAX).then(|| build_index(&self.entries));
        Some(removed.value)
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter(self.entries.iter())
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator + Clone {
        self.entries.iter().map(|slot| &slot.value)
    }
}

/// A copy has room for one more entry: objects are copied (`Arc::make_mut`) mostly to have a
/// ResultPath or variable merged in, and an exact-size copy would reallocate at once.
impl Clone for Map {
    fn clone(&self) -> Map {
        let mut entries = Vec::with_capacity(self.entries.len() + 1);
        entries.extend(self.entries.iter().cloned());
        Map { entries, index: self.index.clone() }
    }
}

/// Borrowing iterator over `(key, value)` in insertion order.
#[derive(Clone)]
pub struct Iter<'a>(std::slice::Iter<'a, Slot>);

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Str, &'a Value);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|slot| (&slot.key, &slot.value))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}
impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|slot| (&slot.key, &slot.value))
    }
}
impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a Str, &'a Value);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl IntoIterator for Map {
    type Item = (Str, Value);
    type IntoIter = IntoIter;
    fn into_iter(self) -> IntoIter {
        IntoIter(self.entries.into_iter())
    }
}

/// Owning iterator over `(key, value)` in insertion order.
pub struct IntoIter(std::vec::IntoIter<Slot>);

impl Iterator for IntoIter {
    type Item = (Str, Value);
    fn next(&mut self) -> Option<(Str, Value)> {
        self.0.next().map(|slot| (slot.key, slot.value))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}
impl DoubleEndedIterator for IntoIter {
    fn next_back(&mut self) -> Option<(Str, Value)> {
        self.0.next_back().map(|slot| (slot.key, slot.value))
    }
}
impl ExactSizeIterator for IntoIter {}

/// Later duplicates replace earlier values in place, as [`Map::insert`] does.
impl Extend<(Str, Value)> for Map {
    fn extend<I: IntoIterator<Item = (Str, Value)>>(&mut self, pairs: I) {
        let pairs = pairs.into_iter();
        self.entries.reserve(pairs.size_hint().0);
        for (k, v) in pairs {
            self.insert(k, v);
        }
    }
}

impl FromIterator<(Str, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (Str, Value)>>(pairs: I) -> Map {
        let mut map = Map::new();
        map.extend(pairs);
        map
    }
}

/// Order-insensitive, like `Value`'s object equality.
impl PartialEq for Map {
    fn eq(&self, other: &Map) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k).is_some_and(|w| v == w))
    }
}

impl fmt::Debug for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;

    fn key(s: &str) -> Str {
        Str::from(s)
    }

    fn keys(map: &Map) -> Vec<&str> {
        map.iter().map(|(k, _)| &**k).collect()
    }

    /// Checks the invariants the lookups rely on: tags match keys, keys are unique, and the
    /// index exists exactly past `LINEAR_MAX` and points every key at its position.
    fn assert_consistent(map: &Map) {
        for (i, slot) in map.entries.iter().enumerate() {
            assert_eq!(slot.tag, tag(slot.key.as_bytes()), "tag of {:?}", slot.key);
            assert_eq!(map.get_index_of(&slot.key), Some(i), "position of {:?}", slot.key);
        }
        assert_eq!(map.index.is_some(), map.len() > LINEAR_MAX, "index presence at {} entries", map.len());
        if let Some(index) = &map.index {
            assert_eq!(index.len(), map.len());
        }
    }

    #[test]
    fn tags_decide_short_keys_and_separate_lookalikes() {
        let lookalikes =
            ["", "a", "a\0", "\0", "ab", "ba", "abc", "abcd", "abcdefg", "abcdefgh", "abcdefghi", "abcdefghj", "é", "😀"];
        let map: Map = lookalikes.iter().map(|k| (key(k), Value::from(*k))).collect();
        assert_consistent(&map);
        for k in lookalikes {
            assert_eq!(map.get(k).and_then(Value::as_str), Some(k), "lookup of {k:?}");
            assert_eq!(map.get_key(&Key::new(key(k))).and_then(Value::as_str), Some(k), "keyed lookup of {k:?}");
        }
        assert_eq!(map.get("abcdefghk"), None);
        assert_eq!(map.get("a\0\0"), None);
        for n in 0..=8 {
            let k = &"xyzw1234"[..n];
            let mut padded = [0u8; 8];
            padded[..n].copy_from_slice(k.as_bytes());
            assert_eq!(tag(k.as_bytes()), u64::from_le_bytes(padded), "tag of {k:?}");
        }
    }

    #[test]
    fn insert_keeps_first_position_and_returns_the_old_value() {
        let mut map = Map::new();
        assert_eq!(map.insert(key("z"), Value::from(1i64)), None);
        assert_eq!(map.insert(key("a"), Value::from(2i64)), None);
        assert_eq!(map.insert(key("z"), Value::from(3i64)), Some(Value::from(1i64)));
        assert_eq!(map.insert_key(&Key::new(key("a")), Value::from(4i64)), Some(Value::from(2i64)));
        assert_eq!(keys(&map), ["z", "a"]);
        assert_eq!(map.get("z"), Some(&Value::from(3i64)));
        assert_eq!(map.get("a"), Some(&Value::from(4i64)));
    }

    #[test]
    fn shift_remove_keeps_order() {
        let mut map: Map = ["a", "b", "c", "d"].iter().map(|k| (key(k), Value::from(*k))).collect();
        assert_eq!(map.shift_remove("b"), Some(Value::from("b")));
        assert_eq!(map.shift_remove("missing"), None);
        assert_eq!(keys(&map), ["a", "c", "d"]);
        assert_consistent(&map);
    }

    #[test]
    fn grows_past_the_scan_threshold_and_shrinks_back() {
        let mut map = Map::new();
        for i in 0..100 {
            map.insert(key(&format!("key{i}")), Value::from(i as i64));
            assert_consistent(&map);
        }
        assert!(map.index.is_some());
        for i in (0..100).filter(|i| i % 10 != 1) {
            assert_eq!(map.shift_remove(&format!("key{i}")), Some(Value::from(i as i64)));
            assert_consistent(&map);
        }
        assert_eq!(keys(&map), ["key1", "key11", "key21", "key31", "key41", "key51", "key61", "key71", "key81", "key91"]);
        assert!(map.index.is_none());
    }

    #[test]
    fn get_or_insert_with_inserts_once_at_the_end() {
        let mut map: Map = [(key("a"), Value::from(1i64))].into_iter().collect();
        *map.get_or_insert_with(&Key::new(key("b")), Value::empty_object) = Value::from(2i64);
        let existing = map.get_or_insert_with(&Key::new(key("a")), || unreachable!("a is present"));
        assert_eq!(*existing, Value::from(1i64));
        assert_eq!(keys(&map), ["a", "b"]);
        assert_eq!(map.get("b"), Some(&Value::from(2i64)));
    }

    #[test]
    fn push_distinct_appends_and_indexes() {
        let mut map = Map::with_capacity(2);
        for i in 0..LINEAR_MAX + 2 {
            map.push_distinct(key(&format!("p{i}")), Value::from(i as i64));
        }
        assert_consistent(&map);
        assert_eq!(map.get("p3"), Some(&Value::from(3i64)));
    }

    #[test]
    fn equality_ignores_order() {
        let pairs = |p: &[(&str, i64)]| p.iter().map(|(k, v)| (key(k), Value::from(*v))).collect::<Map>();
        assert_eq!(pairs(&[("x", 1), ("y", 2)]), pairs(&[("y", 2), ("x", 1)]));
        assert_ne!(pairs(&[("x", 1), ("y", 2)]), pairs(&[("y", 2), ("x", 3)]));
        assert_ne!(pairs(&[("x", 1)]), Map::new());
    }

    #[test]
    fn make_mut_copies_one_level_and_leaves_the_original() {
        for size in [3, LINEAR_MAX + 5] {
            let original = Value::object((0..size).map(|i| (format!("k{i}"), Value::array(vec![Value::from(i as i64)]))));
            let mut copy = original.clone();
            let map = copy.as_object_mut().unwrap();
            map.insert(key("new"), Value::Null);
            map.shift_remove("k0");
            assert_consistent(map);
            let (Value::Object(a), Value::Object(b)) = (&original, &copy) else { panic!("not objects") };
            assert!(!Arc::ptr_eq(a, b));
            assert_consistent(a);
            assert_eq!(a.len(), size);
            assert!(a.get("new").is_none() && a.get("k0").is_some());
            // The one-level copy shares the members.
            let (Some(Value::Array(x)), Some(Value::Array(y))) = (a.get("k1"), b.get("k1")) else { panic!("no k1") };
            assert!(Arc::ptr_eq(x, y));
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(String, i64),
        InsertKey(String, i64),
        GetOrInsert(String, i64),
        ShiftRemove(String),
    }

    fn key_strategy() -> impl Strategy<Value = String> {
        // Short keys, keys that differ only past their eighth byte, and NUL bytes, so that tags
        // collide and lookups must fall back to lengths and bytes.
        prop_oneof!["[ab\u{0}]{0,3}", "k[0-9]{1,2}", "prefix12[0-9]{0,2}", "é[a-c]"]
    }

    fn op_strategy() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (key_strategy(), any::<i64>()).prop_map(|(k, v)| Op::Insert(k, v)),
            2 => (key_strategy(), any::<i64>()).prop_map(|(k, v)| Op::InsertKey(k, v)),
            1 => (key_strategy(), any::<i64>()).prop_map(|(k, v)| Op::GetOrInsert(k, v)),
            3 => key_strategy().prop_map(Op::ShiftRemove),
        ]
    }

    proptest! {
        /// Every operation agrees with a `Vec` of pairs doing the same thing the slow way.
        #[test]
        fn behaves_like_a_vec_of_pairs(ops in proptest::collection::vec(op_strategy(), 0..300)) {
            let mut map = Map::new();
            let mut reference: Vec<(String, i64)> = Vec::new();
            let position = |r: &Vec<(String, i64)>, k: &str| r.iter().position(|(rk, _)| rk == k);
            for op in ops {
                let via_key = matches!(op, Op::InsertKey(..));
                match op {
                    Op::Insert(k, v) | Op::InsertKey(k, v) => {
                        let old = if !via_key {
                            map.insert(key(&k), Value::from(v))
                        } else {
                            map.insert_key(&Key::new(key(&k)), Value::from(v))
                        };
                        let expected = match position(&reference, &k) {
                            Some(i) => Some(std::mem::replace(&mut reference[i].1, v)),
                            None => {
                                reference.push((k, v));
                                None
                            }
                        };
                        prop_assert_eq!(old.and_then(|o| o.as_i64()), expected);
                    }
                    Op::GetOrInsert(k, v) => {
                        let got = map.get_or_insert_with(&Key::new(key(&k)), || Value::from(v)).as_i64();
                        let expected = match position(&reference, &k) {
                            Some(i) => reference[i].1,
                            None => {
                                reference.push((k, v));
                                v
                            }
                        };
                        prop_assert_eq!(got, Some(expected));
                    }
                    Op::ShiftRemove(k) => {
                        let expected = position(&reference, &k).map(|i| reference.remove(i).1);
                        prop_assert_eq!(map.shift_remove(&k).and_then(|v| v.as_i64()), expected);
                    }
                }
                assert_consistent(&map);
                let pairs: Vec<(String, i64)> = map.iter().map(|(k, v)| (k.to_string(), v.as_i64().unwrap_or_default())).collect();
                prop_assert_eq!(&pairs, &reference);
                for (k, v) in &reference {
                    prop_assert_eq!(map.get(k).and_then(Value::as_i64), Some(*v));
                    prop_assert_eq!(map.get_key(&Key::new(key(k))).and_then(Value::as_i64), Some(*v));
                }
            }
        }
    }
}
