//! [`Map`]: the insertion-ordered object map behind [`Value::Object`](super::Value::Object).
//!
//! Workflow payloads are mostly small objects (a Parameters template's few keys, a context
//! object, a ResultPath merge target), built, read a few times and dropped. A general hash map
//! pays for hashing every key and for a second allocation (its index table) on all of them; here
//! the entries sit in one `Vec` in insertion order and a lookup scans them, comparing lengths
//! first and the key's pointer before its bytes (keys are `Arc<str>`, often the very string the
//! compiled program holds). Past [`LINEAR_MAX`] entries a hash index (positions keyed by an Fx
//! hash of the key) is built so that big objects stay O(1).
//!
//! Invariants:
//! - `entries` is in insertion order and holds each key once; `insert` on a present key replaces
//!   the value in place (first position, last value).
//! - `index` is `Some` exactly when `entries.len() > LINEAR_MAX`, and then maps every key's hash
//!   to its position in `entries`.
//! - Removal is order-preserving (`shift_remove`) unless the caller asks for `swap_remove`.
//! - Equality ignores order, as `Value`'s does.

use std::fmt;
use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use super::{Str, Value};

/// Objects up to this many entries are searched by a linear scan; larger ones get a hash index.
/// Scanning a dozen length-prefixed keys costs less than hashing one key and probing.
pub const LINEAR_MAX: usize = 12;

/// Positions in `entries`; `u32` keeps the table small (an object never has 4 billion keys:
/// that would be over 100 GB of entries).
type Index = HashTable<u32>;

/// Insertion-ordered map from string keys to [`Value`]s.
#[derive(Clone, Default)]
pub struct Map {
    entries: Vec<(Str, Value)>,
    index: Option<Box<Index>>,
}

fn hash_key(key: &str) -> u64 {
    FxBuildHasher.hash_one(key)
}

/// Lengths first (cheap and usually decisive), then the pointer (shared `Arc<str>` keys), then
/// the bytes.
#[inline]
fn same_key(stored: &str, key: &str) -> bool {
    stored.len() == key.len() && (std::ptr::eq(stored.as_ptr(), key.as_ptr()) || stored.as_bytes() == key.as_bytes())
}

fn build_index(entries: &[(Str, Value)]) -> Box<Index> {
    let mut index = Index::with_capacity(entries.len());
    for (i, (k, _)) in entries.iter().enumerate() {
        index.insert_unique(hash_key(k), i as u32, |&j| hash_at(entries, j));
    }
    Box::new(index)
}

/// The hash of the key at position `j` (the index's rehash callback; positions it holds are
/// always in range, so the fallback never runs).
fn hash_at(entries: &[(Str, Value)], j: u32) -> u64 {
    entries.get(j as usize).map_or(0, |(k, _)| hash_key(k))
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

    pub fn capacity(&self) -> usize {
        self.entries.capacity()
    }

    pub fn reserve(&mut self, additional: usize) {
        self.entries.reserve(additional);
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.index = None;
    }

    /// Position of `key`, if present.
    pub fn get_index_of(&self, key: &str) -> Option<usize> {
        match &self.index {
            None => self.entries.iter().position(|(k, _)| same_key(k, key)),
            Some(index) => index
                .find(hash_key(key), |&i| self.entries.get(i as usize).is_some_and(|(k, _)| same_key(k, key)))
                .map(|&i| i as usize),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.get_index_of(key).and_then(|i| self.entries.get(i)).map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        let i = self.get_index_of(key)?;
        self.entries.get_mut(i).map(|(_, v)| v)
    }

    pub fn get_key_value(&self, key: &str) -> Option<(&Str, &Value)> {
        self.get_index_of(key).and_then(|i| self.get_index(i))
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get_index_of(key).is_some()
    }

    /// The entry at position `i` in insertion order.
    pub fn get_index(&self, i: usize) -> Option<(&Str, &Value)> {
        self.entries.get(i).map(|(k, v)| (k, v))
    }

    pub fn get_index_mut(&mut self, i: usize) -> Option<(&Str, &mut Value)> {
        self.entries.get_mut(i).map(|(k, v)| (&*k, v))
    }

    pub fn first(&self) -> Option<(&Str, &Value)> {
        self.get_index(0)
    }

    pub fn last(&self) -> Option<(&Str, &Value)> {
        self.entries.last().map(|(k, v)| (k, v))
    }

    /// Inserts or replaces; a replaced key keeps its position. Returns the old value.
    pub fn insert(&mut self, key: Str, value: Value) -> Option<Value> {
        match self.get_index_of(&key) {
            Some(i) => self.entries.get_mut(i).map(|(_, v)| std::mem::replace(v, value)),
            None => {
                self.push_new(key, value);
                None
            }
        }
    }

    /// Appends an entry whose key is known to be absent.
    fn push_new(&mut self, key: Str, value: Value) -> usize {
        let i = self.entries.len();
        let hash = self.index.as_ref().map(|_| hash_key(&key));
        self.entries.push((key, value));
        match (&mut self.index, hash) {
            (Some(index), Some(hash)) => {
                let entries = &self.entries;
                index.insert_unique(hash, i as u32, |&j| hash_at(entries, j));
            }
            _ if self.entries.len() > LINEAR_MAX => self.index = Some(build_index(&self.entries)),
            _ => {}
        }
        i
    }

    /// The entry for `key`, for in-place insert-or-update.
    pub fn entry(&mut self, key: Str) -> Entry<'_> {
        match self.get_index_of(&key) {
            Some(i) => Entry::Occupied(OccupiedEntry { map: self, i }),
            None => Entry::Vacant(VacantEntry { map: self, key }),
        }
    }

    /// Removes `key` keeping the order of the others (O(n)).
    pub fn shift_remove(&mut self, key: &str) -> Option<Value> {
        self.shift_remove_entry(key).map(|(_, v)| v)
    }

    pub fn shift_remove_entry(&mut self, key: &str) -> Option<(Str, Value)> {
        let i = self.get_index_of(key)?;
        self.shift_remove_index(i)
    }

    /// Removes the entry at position `i` keeping the order of the others.
    pub fn shift_remove_index(&mut self, i: usize) -> Option<(Str, Value)> {
        if i >= self.entries.len() {
            return None;
        }
        let removed = self.entries.remove(i);
        self.reindex();
        Some(removed)
    }

    /// Removes `key` by moving the last entry into its place (O(1), changes order).
    pub fn swap_remove(&mut self, key: &str) -> Option<Value> {
        let i = self.get_index_of(key)?;
        self.swap_remove_index(i).map(|(_, v)| v)
    }

    pub fn swap_remove_index(&mut self, i: usize) -> Option<(Str, Value)> {
        if i >= self.entries.len() {
            return None;
        }
        let removed = self.entries.swap_remove(i);
        if self.entries.len() <= LINEAR_MAX {
            self.index = None;
        } else if let Some(index) = &mut self.index {
            let gone = i as u32;
            let moved = self.entries.len() as u32;
            if let Ok(slot) = index.find_entry(hash_key(&removed.0), |&j| j == gone) {
                slot.remove();
            }
            if let Some((k, _)) = self.entries.get(i) {
                if let Some(slot) = index.find_mut(hash_key(k), |&j| j == moved) {
                    *slot = gone;
                }
            }
        }
        Some(removed)
    }

    /// Removes and returns the last entry.
    pub fn pop(&mut self) -> Option<(Str, Value)> {
        let last = self.entries.len().checked_sub(1)?;
        self.swap_remove_index(last)
    }

    /// Keeps the entries for which `keep` returns true, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&Str, &mut Value) -> bool) {
        let before = self.entries.len();
        self.entries.retain_mut(|(k, v)| keep(k, v));
        if self.entries.len() != before {
            self.reindex();
        }
    }

    /// Shortens to the first `n` entries.
    pub fn truncate(&mut self, n: usize) {
        if n < self.entries.len() {
            self.entries.truncate(n);
            self.reindex();
        }
    }

    /// Sorts the entries by key (byte order).
    pub fn sort_keys(&mut self) {
        self.sort_by(|k1, _, k2, _| k1.cmp(k2));
    }

    /// Sorts the entries with `cmp(key1, value1, key2, value2)` (stable).
    pub fn sort_by(&mut self, mut cmp: impl FnMut(&Str, &Value, &Str, &Value) -> std::cmp::Ordering) {
        self.entries.sort_by(|(k1, v1), (k2, v2)| cmp(k1, v1, k2, v2));
        self.reindex();
    }

    /// Rebuilds (or drops) the hash index after entries moved.
    fn reindex(&mut self) {
        self.index = (self.entries.len() > LINEAR_MAX).then(|| build_index(&self.entries));
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter(self.entries.iter())
    }

    pub fn iter_mut(&mut self) -> IterMut<'_> {
        IterMut(self.entries.iter_mut())
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Str> + ExactSizeIterator + Clone {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Value> + ExactSizeIterator + Clone {
        self.entries.iter().map(|(_, v)| v)
    }

    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut Value> + ExactSizeIterator {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    pub fn into_keys(self) -> impl DoubleEndedIterator<Item = Str> + ExactSizeIterator {
        self.entries.into_iter().map(|(k, _)| k)
    }

    pub fn into_values(self) -> impl DoubleEndedIterator<Item = Value> + ExactSizeIterator {
        self.entries.into_iter().map(|(_, v)| v)
    }
}

/// Borrowing iterator over `(key, value)` in insertion order.
#[derive(Clone)]
pub struct Iter<'a>(std::slice::Iter<'a, (Str, Value)>);

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a Str, &'a Value);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k, v))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}
impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (k, v))
    }
}
impl ExactSizeIterator for Iter<'_> {}

/// Iterator over `(key, mutable value)` in insertion order.
pub struct IterMut<'a>(std::slice::IterMut<'a, (Str, Value)>);

impl<'a> Iterator for IterMut<'a> {
    type Item = (&'a Str, &'a mut Value);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (&*k, v))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}
impl DoubleEndedIterator for IterMut<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (&*k, v))
    }
}
impl ExactSizeIterator for IterMut<'_> {}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a Str, &'a Value);
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<'a> IntoIterator for &'a mut Map {
    type Item = (&'a Str, &'a mut Value);
    type IntoIter = IterMut<'a>;
    fn into_iter(self) -> IterMut<'a> {
        self.iter_mut()
    }
}

impl IntoIterator for Map {
    type Item = (Str, Value);
    type IntoIter = std::vec::IntoIter<(Str, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

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

/// A key's slot in a [`Map`], from [`Map::entry`].
pub enum Entry<'a> {
    Occupied(OccupiedEntry<'a>),
    Vacant(VacantEntry<'a>),
}

pub struct OccupiedEntry<'a> {
    map: &'a mut Map,
    i: usize,
}

pub struct VacantEntry<'a> {
    map: &'a mut Map,
    key: Str,
}

// An entry's position was found in (or pushed onto) the map it borrows mutably, so indexing
// with it cannot fail.
impl<'a> OccupiedEntry<'a> {
    pub fn get(&self) -> &Value {
        &self.map.entries[self.i].1
    }
    pub fn get_mut(&mut self) -> &mut Value {
        &mut self.map.entries[self.i].1
    }
    pub fn into_mut(self) -> &'a mut Value {
        &mut self.map.entries[self.i].1
    }
    pub fn insert(&mut self, value: Value) -> Value {
        std::mem::replace(self.get_mut(), value)
    }
}

impl<'a> VacantEntry<'a> {
    pub fn insert(self, value: Value) -> &'a mut Value {
        let i = self.map.push_new(self.key, value);
        &mut self.map.entries[i].1
    }
}

impl<'a> Entry<'a> {
    pub fn or_insert(self, default: Value) -> &'a mut Value {
        self.or_insert_with(|| default)
    }
    pub fn or_insert_with(self, default: impl FnOnce() -> Value) -> &'a mut Value {
        match self {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(default()),
        }
    }
    pub fn or_default(self) -> &'a mut Value {
        self.or_insert_with(Value::default)
    }
    pub fn and_modify(mut self, f: impl FnOnce(&mut Value)) -> Entry<'a> {
        if let Entry::Occupied(e) = &mut self {
            f(e.get_mut());
        }
        self
    }
}
