//! The value index of one rule path: every condition that rules place on values at that path,
//! arranged so that one event value finds the conditions it meets without trying each.
//!
//! Exact strings, number spellings, comparable number values, literals and ASCII
//! equals-ignore-case values are hash lookups; prefixes and suffixes (and their ASCII
//! ignore-case forms) are byte tries walked once along the value; `exists: true` is one entry.
//! The rest (wildcards, non-ASCII ignore-case, numeric and IP ranges, anything-but) is a list
//! scanned per value of the matching kind.
//!
//! Invariant: a condition id is reported at most once per value evaluated.

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use super::ip::HexRange;
use super::number;
use super::pattern::{AnythingBut, Condition, Literal, NumericRange};
use super::strings::{quoted_prefix, quoted_suffix};

/// Identifies a condition at a path in one value-reading mode (see `matcher`).
pub type CondId = u32;

type Ids = SmallVec<[CondId; 1]>;

/// An event value as one path's conditions see it.
#[derive(Debug, Clone, Copy)]
pub enum Probe<'v> {
    Str(&'v str),
    /// A number read by spelling.
    Num(&'v str),
    Lit(Literal),
    /// A comparable number, read by value.
    Value(f64),
    /// Hex digits of an IP address.
    Hex(&'v [u8]),
}

#[derive(Default, Debug)]
pub struct ValueIndex {
    exact: FxHashMap<Box<str>, Ids>,
    number_text: FxHashMap<Box<str>, Ids>,
    number_value: FxHashMap<u64, Ids>,
    literals: [Ids; 3],
    caseless: FxHashMap<Box<str>, Ids>,
    prefixes: ByteTrie,
    suffixes: ByteTrie,
    caseless_prefixes: ByteTrie,
    caseless_suffixes: ByteTrie,
    exists: Ids,
    /// String conditions evaluated one by one.
    strings: Vec<(CondId, Condition)>,
    numeric: Vec<(CondId, NumericRange)>,
    ip: Vec<(CondId, HexRange)>,
    anything_but: Vec<(CondId, AnythingBut)>,
    len: usize,
}

fn literal_slot(l: Literal) -> usize {
    match l {
        Literal::True => 0,
        Literal::False => 1,
        Literal::Null => 2,
    }
}

fn remove_id(ids: &mut Ids, id: CondId) {
    ids.retain(|x| *x != id);
}

fn remove_keyed<K: std::hash::Hash + Eq>(map: &mut FxHashMap<K, Ids>, key: &K, id: CondId) {
    if let Some(ids) = map.get_mut(key) {
        remove_id(ids, id);
        if ids.is_empty() {
            map.remove(key);
        }
    }
}

impl ValueIndex {
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds condition `id` (never `Exists(false)`, which is not a value condition).
    pub fn add(&mut self, id: CondId, c: &Condition) {
        self.len += 1;
        match c {
            Condition::Exact(s) => self.exact.entry(s.clone()).or_default().push(id),
            Condition::Number { text, value } => {
                self.number_text.entry(text.clone()).or_default().push(id);
                if let Some(v) = value {
                    self.number_value.entry(number::value_key(*v)).or_default().push(id);
                }
            }
            Condition::Literal(l) => self.literals[literal_slot(*l)].push(id),
            Condition::Prefix(p) if !p.contains('"') => self.prefixes.insert(p.bytes(), id),
            Condition::Suffix(s) if !s.contains('"') => self.suffixes.insert(s.bytes().rev(), id),
            Condition::EqualsIgnoreCase(c) if c.ascii_key().is_some() => {
                self.caseless.entry(c.ascii_key().unwrap_or_default().into()).or_default().push(id)
            }
            Condition::PrefixIgnoreCase(c) if c.ascii_key().is_some_and(|k| !k.contains('"')) => {
                self.caseless_prefixes.insert(c.ascii_key().unwrap_or_default().bytes(), id)
            }
            Condition::SuffixIgnoreCase(c) if c.ascii_key().is_some_and(|k| !k.contains('"')) => {
                self.caseless_suffixes.insert(c.ascii_key().unwrap_or_default().bytes().rev(), id)
            }
            Condition::Exists(_) => self.exists.push(id),
            Condition::Numeric(r) => self.numeric.push((id, *r)),
            Condition::Ip(r) => self.ip.push((id, r.clone())),
            Condition::AnythingBut(a) => self.anything_but.push((id, a.clone())),
            other => self.strings.push((id, other.clone())),
        }
    }

    /// Removes condition `id`, added earlier with the same condition.
    pub fn remove(&mut self, id: CondId, c: &Condition) {
        self.len = self.len.saturating_sub(1);
        match c {
            Condition::Exact(s) => remove_keyed(&mut self.exact, s, id),
            Condition::Number { text, value } => {
                remove_keyed(&mut self.number_text, text, id);
                if let Some(v) = value {
                    remove_keyed(&mut self.number_value, &number::value_key(*v), id);
                }
            }
            Condition::Literal(l) => remove_id(&mut self.literals[literal_slot(*l)], id),
            Condition::Prefix(p) if !p.contains('"') => self.prefixes.remove(p.bytes(), id),
            Condition::Suffix(s) if !s.contains('"') => self.suffixes.remove(s.bytes().rev(), id),
            Condition::EqualsIgnoreCase(c) if c.ascii_key().is_some() => {
                let key: Box<str> = c.ascii_key().unwrap_or_default().into();
                remove_keyed(&mut self.caseless, &key, id)
            }
            Condition::PrefixIgnoreCase(c) if c.ascii_key().is_some_and(|k| !k.contains('"')) => {
                self.caseless_prefixes.remove(c.ascii_key().unwrap_or_default().bytes(), id)
            }
            Condition::SuffixIgnoreCase(c) if c.ascii_key().is_some_and(|k| !k.contains('"')) => {
                self.caseless_suffixes.remove(c.ascii_key().unwrap_or_default().bytes().rev(), id)
            }
            Condition::Exists(_) => remove_id(&mut self.exists, id),
            Condition::Numeric(_) => self.numeric.retain(|(x, _)| *x != id),
            Condition::Ip(_) => self.ip.retain(|(x, _)| *x != id),
            Condition::AnythingBut(_) => self.anything_but.retain(|(x, _)| *x != id),
            _ => self.strings.retain(|(x, _)| *x != id),
        }
    }

    /// Reports every condition `probe` meets. `lower` is scratch space.
    pub fn eval(&self, probe: Probe<'_>, lower: &mut String, out: &mut impl FnMut(CondId)) {
        self.exists.iter().for_each(|&id| out(id));
        match probe {
            Probe::Str(s) => self.eval_str(s, lower, out),
            Probe::Num(text) => {
                if let Some(ids) = self.number_text.get(text) {
                    ids.iter().for_each(|&id| out(id));
                }
                for (id, r) in &self.ip {
                    if r.matches(text.as_bytes()) {
                        out(*id);
                    }
                }
            }
            Probe::Lit(l) => self.literals[literal_slot(l)].iter().for_each(|&id| out(id)),
            Probe::Value(v) => {
                if let Some(ids) = self.number_value.get(&number::value_key(v)) {
                    ids.iter().for_each(|&id| out(id));
                }
                for (id, r) in &self.numeric {
                    if r.contains(v) {
                        out(*id);
                    }
                }
            }
            Probe::Hex(h) => {
                for (id, r) in &self.ip {
                    if r.matches(h) {
                        out(*id);
                    }
                }
            }
        }
        for (id, a) in &self.anything_but {
            if !excludes(a, probe) {
                out(*id);
            }
        }
    }

    fn eval_str(&self, s: &str, lower: &mut String, out: &mut impl FnMut(CondId)) {
        if let Some(ids) = self.exact.get(s) {
            ids.iter().for_each(|&id| out(id));
        }
        if !self.caseless.is_empty() && s.is_ascii() {
            lower.clear();
            lower.push_str(s);
            lower.make_ascii_lowercase();
            if let Some(ids) = self.caseless.get(lower.as_str()) {
                ids.iter().for_each(|&id| out(id));
            }
        }
        self.prefixes.walk(s.bytes(), out);
        self.suffixes.walk(s.bytes().rev(), out);
        self.caseless_prefixes.walk(s.bytes().map(|b| b.to_ascii_lowercase()), out);
        self.caseless_suffixes.walk(s.bytes().rev().map(|b| b.to_ascii_lowercase()), out);
        for (id, c) in &self.strings {
            let hit = match c {
                Condition::Prefix(p) => quoted_prefix(s, p),
                Condition::Suffix(p) => quoted_suffix(s, p),
                Condition::EqualsIgnoreCase(c) => c.matches(s),
                Condition::PrefixIgnoreCase(c) => c.is_prefix_of(s),
                Condition::SuffixIgnoreCase(c) => c.is_suffix_of(s),
                Condition::Wildcard(w) => w.matches(s),
                _ => false,
            };
            if hit {
                out(*id);
            }
        }
    }
}

/// Whether an anything-but excludes the value.
pub fn excludes(a: &AnythingBut, probe: Probe<'_>) -> bool {
    match (a, probe) {
        (AnythingBut::Strings(set), Probe::Str(s)) => set.iter().any(|x| **x == *s),
        (AnythingBut::Numbers(set), Probe::Value(v)) => set.contains(&v),
        (AnythingBut::Prefixes(list), Probe::Str(s)) => list.iter().any(|p| quoted_prefix(s, p)),
        (AnythingBut::Suffixes(list), Probe::Str(s)) => list.iter().any(|p| quoted_suffix(s, p)),
        (AnythingBut::IgnoreCase(list), Probe::Str(s)) => list.iter().any(|c| c.matches(s)),
        (AnythingBut::Wildcards(list), Probe::Str(s)) => list.iter().any(|w| w.matches(s)),
        _ => false,
    }
}

/// A byte trie whose nodes carry condition ids; walking a value reports the ids of every node
/// on its path, the root (the empty key) included.
#[derive(Debug)]
struct ByteTrie {
    nodes: Vec<TrieNode>,
}

#[derive(Debug, Default)]
struct TrieNode {
    edges: SmallVec<[(u8, u32); 2]>,
    ids: Ids,
}

impl Default for ByteTrie {
    fn default() -> ByteTrie {
        ByteTrie { nodes: vec![TrieNode::default()] }
    }
}

impl ByteTrie {
    fn child(&self, node: usize, b: u8) -> Option<usize> {
        self.nodes.get(node)?.edges.iter().find(|(k, _)| *k == b).map(|(_, n)| *n as usize)
    }

    fn insert(&mut self, key: impl Iterator<Item = u8>, id: CondId) {
        let mut node = 0;
        for b in key {
            node = match self.child(node, b) {
                Some(n) => n,
                None => {
                    self.nodes.push(TrieNode::default());
                    let n = self.nodes.len() - 1;
                    self.nodes[node].edges.push((b, n as u32));
                    n
                }
            };
        }
        self.nodes[node].ids.push(id);
    }

    fn remove(&mut self, key: impl Iterator<Item = u8>, id: CondId) {
        let mut node = 0;
        for b in key {
            match self.child(node, b) {
                Some(n) => node = n,
                None => return,
            }
        }
        remove_id(&mut self.nodes[node].ids, id);
    }

    fn walk(&self, key: impl Iterator<Item = u8>, out: &mut impl FnMut(CondId)) {
        if self.nodes.len() == 1 && self.nodes[0].ids.is_empty() {
            return;
        }
        let mut node = 0;
        self.nodes[0].ids.iter().for_each(|&id| out(id));
        for b in key {
            match self.child(node, b) {
                Some(n) => {
                    node = n;
                    self.nodes[n].ids.iter().for_each(|&id| out(id));
                }
                None => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::strings::{Caseless, Wildcard};

    fn hits(index: &ValueIndex, probe: Probe<'_>) -> Vec<CondId> {
        let mut out = Vec::new();
        index.eval(probe, &mut String::new(), &mut |id| out.push(id));
        out.sort_unstable();
        out
    }

    #[test]
    fn finds_conditions_by_kind() {
        let mut ix = ValueIndex::default();
        ix.add(1, &Condition::Exact("running".into()));
        ix.add(2, &Condition::Prefix("run".into()));
        ix.add(3, &Condition::Suffix("ing".into()));
        ix.add(4, &Condition::EqualsIgnoreCase(Caseless::new("RUNNING")));
        ix.add(5, &Condition::PrefixIgnoreCase(Caseless::new("RU")));
        ix.add(6, &Condition::Wildcard(Wildcard::parse("r*g").unwrap()));
        ix.add(7, &Condition::AnythingBut(AnythingBut::Strings(Box::new(["stopped".into()]))));
        ix.add(8, &Condition::Prefix("".into()));
        ix.add(9, &Condition::Number { text: "5".into(), value: Some(5.0) });
        ix.add(10, &Condition::Numeric(NumericRange { lower: Some((1.0, false)), upper: None }));
        assert_eq!(hits(&ix, Probe::Str("running")), vec![1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(hits(&ix, Probe::Str("stopped")), vec![8]);
        assert_eq!(hits(&ix, Probe::Value(5.0)), vec![7, 9, 10]);
        assert_eq!(hits(&ix, Probe::Num("5")), vec![7, 9]);
        ix.remove(2, &Condition::Prefix("run".into()));
        ix.remove(7, &Condition::AnythingBut(AnythingBut::Strings(Box::new(["stopped".into()]))));
        assert_eq!(hits(&ix, Probe::Str("running")), vec![1, 3, 4, 5, 6, 8]);
    }
}
