//! The value index of one rule path: every condition that rules place on values at that path,
//! arranged so that one event value finds the conditions it meets without trying each.
//!
//! Exact strings and ASCII equals-ignore-case values are lookups in an [`ExactTable`]; number
//! spellings, comparable number values and literals are hash lookups; prefixes and suffixes (and their ASCII
//! ignore-case forms) are byte tries walked once along the value, and so are wildcards, by
//! their literal text before the first `*` (only those whose literal prefix the value has are
//! tried); CIDR blocks and IP addresses are hash lookups per mask length; `exists: true` is one
//! entry; anything-but lists of strings or numbers are reported unless the value is one they
//! exclude (a lookup). The rest (non-ASCII ignore-case, other anything-buts, numeric ranges, and
//! the odd cases of IP ranges meeting values of another length) is scanned per value. When every
//! condition sits in one part ([`Part`]), [`ValueIndex::eval_part`] looks at that part alone.
//!
//! Invariant: a condition id is reported at most once per value evaluated.

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use super::exact::{ExactTable, Ids};
use super::ip::{Address, Block, HexRange};
use super::number;
use super::pattern::{AnythingBut, Condition, Literal, NumericRange};
use super::strings::{quoted_prefix, quoted_suffix, Wildcard};

/// Identifies a condition at a path in one value-reading mode (see `matcher`).
pub type CondId = u32;

/// An event value as one path's conditions see it.
#[derive(Debug, Clone, Copy)]
pub enum Probe<'v> {
    Str(&'v str),
    /// A number read by spelling.
    Num(&'v str),
    Lit(Literal),
    /// A comparable number, read by value.
    Value(f64),
    /// An IP address (a string read as one).
    Ip(Address),
}

#[derive(Default, Debug)]
pub struct ValueIndex {
    exact: ExactTable<false>,
    number_text: FxHashMap<Box<str>, Ids>,
    number_value: FxHashMap<u64, Ids>,
    literals: [Ids; 3],
    caseless: ExactTable<true>,
    prefixes: ByteTrie,
    suffixes: ByteTrie,
    caseless_prefixes: ByteTrie,
    caseless_suffixes: ByteTrie,
    exists: Ids,
    /// Wildcards by literal prefix; the patterns themselves in `wildcard_patterns`.
    wildcards: ByteTrie,
    wildcard_patterns: FxHashMap<CondId, Wildcard>,
    /// String conditions evaluated one by one.
    strings: Vec<(CondId, Condition)>,
    numeric: RangeIndex,
    /// IPv6 conditions by (family, mask, masked address).
    ip_blocks: FxHashMap<(bool, u8, u128), Ids>,
    /// The IPv4 ones again, keyed by [`ipv4_key`]: one word to hash for the usual event address.
    ipv4_blocks: FxHashMap<u64, Ids>,
    /// Mask lengths in use per family (IPv4, IPv6), with counts.
    ip_masks: [Vec<(u8, u32)>; 2],
    /// IPv6 ranges wider than /32, the only ones an IPv4 value can fall in.
    ip_wide_v6: Vec<(CondId, HexRange)>,
    /// Every IP condition, for values that are not addresses (event-ruler matches number
    /// spellings against the digit ranges too).
    ip_all: Vec<(CondId, HexRange)>,
    /// anything-but lists of strings: all of them, and those each string excludes.
    but_strings: Vec<CondId>,
    but_string_excluded: ExactTable<false>,
    but_numbers: Vec<CondId>,
    but_number_excluded: FxHashMap<u64, Ids>,
    anything_but: Vec<(CondId, AnythingBut)>,
    len: usize,
    /// How many of the `len` conditions are exact strings: when all are, a string is evaluated
    /// by [`ValueIndex::exact_ids`] with one lookup, inline, and no other value meets any.
    exact_len: usize,
    /// Which of the parts above hold something (bits from [`kind`]), so evaluating a value
    /// skips the empty ones with one test each.
    kinds: u16,
}

/// Bits of [`ValueIndex::kinds`].
mod kind {
    pub const EXACT: u16 = 1 << 0;
    pub const CASELESS: u16 = 1 << 1;
    pub const PREFIXES: u16 = 1 << 2;
    pub const SUFFIXES: u16 = 1 << 3;
    pub const CASELESS_PREFIXES: u16 = 1 << 4;
    pub const CASELESS_SUFFIXES: u16 = 1 << 5;
    pub const WILDCARDS: u16 = 1 << 6;
    pub const STRINGS: u16 = 1 << 7;
    pub const BUT_STRINGS: u16 = 1 << 8;
    pub const BUT_NUMBERS: u16 = 1 << 9;
    pub const ANYTHING_BUT: u16 = 1 << 10;
    pub const NUMBERS: u16 = 1 << 11;
    pub const LITERALS: u16 = 1 << 12;
    pub const EXISTS: u16 = 1 << 13;
    pub const RANGES: u16 = 1 << 14;
    pub const IP: u16 = 1 << 15;
}

/// The one part of a [`ValueIndex`] holding all its conditions, when there is one: a leaf at
/// such a path is evaluated by [`ValueIndex::eval_part`], without `eval`'s tests of every part.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Part {
    Prefixes,
    Suffixes,
    Caseless,
    CaselessPrefixes,
    CaselessSuffixes,
    Wildcards,
    Exists,
    /// Number spellings and values, and numeric ranges.
    Numbers,
    /// Exact strings and anything-but lists of strings (either or both).
    ExactButStrings,
    Ip,
}

impl Part {
    /// Every part, each at the position of its discriminant (so `ALL[part as usize] == part`).
    pub const ALL: [Part; 10] = [
        Part::Prefixes,
        Part::Suffixes,
        Part::Caseless,
        Part::CaselessPrefixes,
        Part::CaselessSuffixes,
        Part::Wildcards,
        Part::Exists,
        Part::Numbers,
        Part::ExactButStrings,
        Part::Ip,
    ];
}

/// The key of the IPv4 block of mask length `mask` holding the address in the low 32 bits of
/// `bits` (or, for a block's base, that base): the mask length above the masked address.
#[inline(always)]
fn ipv4_key(mask: u8, bits: u128) -> u64 {
    let mask = u32::from(mask).min(32);
    let keep = u32::MAX.checked_shl(32 - mask).unwrap_or(0);
    u64::from(mask) << 32 | u64::from(bits as u32 & keep)
}

fn literal_slot(l: Literal) -> usize {
    match l {
        Literal::True => 0,
        Literal::False => 1,
        Literal::Null => 2,
    }
}

/// A lookup that does not hash the key when the map is empty.
fn get<'m, K, Q>(map: &'m FxHashMap<K, Ids>, key: &Q) -> Option<&'m Ids>
where
    K: std::borrow::Borrow<Q> + std::hash::Hash + Eq,
    Q: std::hash::Hash + Eq + ?Sized,
{
    if map.is_empty() {
        None
    } else {
        map.get(key)
    }
}

fn push_once(ids: &mut Ids, id: CondId) {
    if !ids.contains(&id) {
        ids.push(id);
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
        self.insert(id, c);
        self.kinds = self.present_kinds();
    }

    /// Removes condition `id`, added earlier with the same condition.
    pub fn remove(&mut self, id: CondId, c: &Condition) {
        self.delete(id, c);
        self.kinds = self.present_kinds();
    }

    fn present_kinds(&self) -> u16 {
        let parts = [
            (kind::EXACT, !self.exact.is_empty()),
            (kind::CASELESS, !self.caseless.is_empty()),
            (kind::PREFIXES, !self.prefixes.is_empty()),
            (kind::SUFFIXES, !self.suffixes.is_empty()),
            (kind::CASELESS_PREFIXES, !self.caseless_prefixes.is_empty()),
            (kind::CASELESS_SUFFIXES, !self.caseless_suffixes.is_empty()),
            (kind::WILDCARDS, !self.wildcards.is_empty()),
            (kind::STRINGS, !self.strings.is_empty()),
            (kind::BUT_STRINGS, !self.but_strings.is_empty()),
            (kind::BUT_NUMBERS, !self.but_numbers.is_empty()),
            (kind::ANYTHING_BUT, !self.anything_but.is_empty()),
            (kind::NUMBERS, !self.number_text.is_empty() || !self.number_value.is_empty()),
            (kind::LITERALS, self.literals.iter().any(|ids| !ids.is_empty())),
            (kind::EXISTS, !self.exists.is_empty()),
            (kind::RANGES, !self.numeric.ranges.is_empty()),
            (kind::IP, !self.ip_all.is_empty()),
        ];
        parts.iter().filter(|(_, present)| *present).fold(0, |bits, (bit, _)| bits | bit)
    }

    fn insert(&mut self, id: CondId, c: &Condition) {
        self.len += 1;
        match c {
            Condition::Exact(s) => {
                self.exact_len += 1;
                self.exact.insert(s.as_bytes(), id)
            }
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
                self.caseless.insert(c.ascii_key().unwrap_or_default().as_bytes(), id)
            }
            Condition::PrefixIgnoreCase(c) if c.ascii_key().is_some_and(|k| !k.contains('"')) => {
                self.caseless_prefixes.insert(c.ascii_key().unwrap_or_default().bytes(), id)
            }
            Condition::SuffixIgnoreCase(c) if c.ascii_key().is_some_and(|k| !k.contains('"')) => {
                self.caseless_suffixes.insert(c.ascii_key().unwrap_or_default().bytes().rev(), id)
            }
            Condition::Exists(_) => self.exists.push(id),
            Condition::Numeric(r) => self.numeric.insert(id, *r),
            Condition::Ip(r) => {
                let b = r.block;
                if b.v6 {
                    self.ip_blocks.entry((b.v6, b.mask, b.base)).or_default().push(id);
                } else {
                    self.ipv4_blocks.entry(ipv4_key(b.mask, b.base)).or_default().push(id);
                }
                let masks = &mut self.ip_masks[usize::from(b.v6)];
                match masks.iter_mut().find(|(m, _)| *m == b.mask) {
                    Some(entry) => entry.1 += 1,
                    None => masks.push((b.mask, 1)),
                }
                if b.v6 && b.mask < 32 {
                    self.ip_wide_v6.push((id, r.clone()));
                }
                self.ip_all.push((id, r.clone()));
            }
            Condition::Wildcard(w) => {
                self.wildcards.insert(w.literal_prefix().iter().copied(), id);
                self.wildcard_patterns.insert(id, w.clone());
            }
            Condition::AnythingBut(AnythingBut::Strings(set)) => {
                self.but_strings.push(id);
                for x in set.iter() {
                    self.but_string_excluded.insert(x.as_bytes(), id);
                }
            }
            Condition::AnythingBut(AnythingBut::Numbers(set)) => {
                self.but_numbers.push(id);
                for x in set.iter() {
                    push_once(self.but_number_excluded.entry(number::value_key(*x)).or_default(), id);
                }
            }
            Condition::AnythingBut(a) => self.anything_but.push((id, a.clone())),
            other => self.strings.push((id, other.clone())),
        }
    }

    fn delete(&mut self, id: CondId, c: &Condition) {
        self.len = self.len.saturating_sub(1);
        match c {
            Condition::Exact(s) => {
                self.exact_len = self.exact_len.saturating_sub(1);
                self.exact.remove(s.as_bytes(), id)
            }
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
                self.caseless.remove(c.ascii_key().unwrap_or_default().as_bytes(), id)
            }
            Condition::PrefixIgnoreCase(c) if c.ascii_key().is_some_and(|k| !k.contains('"')) => {
                self.caseless_prefixes.remove(c.ascii_key().unwrap_or_default().bytes(), id)
            }
            Condition::SuffixIgnoreCase(c) if c.ascii_key().is_some_and(|k| !k.contains('"')) => {
                self.caseless_suffixes.remove(c.ascii_key().unwrap_or_default().bytes().rev(), id)
            }
            Condition::Exists(_) => remove_id(&mut self.exists, id),
            Condition::Numeric(_) => self.numeric.remove(id),
            Condition::Ip(r) => {
                let b: Block = r.block;
                if b.v6 {
                    remove_keyed(&mut self.ip_blocks, &(b.v6, b.mask, b.base), id);
                } else {
                    remove_keyed(&mut self.ipv4_blocks, &ipv4_key(b.mask, b.base), id);
                }
                let masks = &mut self.ip_masks[usize::from(b.v6)];
                if let Some(entry) = masks.iter_mut().find(|(m, _)| *m == b.mask) {
                    entry.1 -= 1;
                }
                masks.retain(|(_, n)| *n > 0);
                self.ip_wide_v6.retain(|(x, _)| *x != id);
                self.ip_all.retain(|(x, _)| *x != id);
            }
            Condition::Wildcard(w) => {
                self.wildcards.remove(w.literal_prefix().iter().copied(), id);
                self.wildcard_patterns.remove(&id);
            }
            Condition::AnythingBut(AnythingBut::Strings(set)) => {
                self.but_strings.retain(|x| *x != id);
                for x in set.iter() {
                    self.but_string_excluded.remove(x.as_bytes(), id);
                }
            }
            Condition::AnythingBut(AnythingBut::Numbers(set)) => {
                self.but_numbers.retain(|x| *x != id);
                for x in set.iter() {
                    remove_keyed(&mut self.but_number_excluded, &number::value_key(*x), id);
                }
            }
            Condition::AnythingBut(_) => self.anything_but.retain(|(x, _)| *x != id),
            _ => self.strings.retain(|(x, _)| *x != id),
        }
    }

    /// Whether every condition here is an exact string (and there is one): then
    /// [`ValueIndex::exact_ids`] on strings is the whole evaluation, other values meeting none.
    pub fn exact_only(&self) -> bool {
        self.len > 0 && self.exact_len == self.len
    }

    /// The exact-string conditions `s` meets: one table lookup, inline.
    #[inline(always)]
    pub fn exact_ids(&self, s: &str) -> Option<&Ids> {
        self.exact.get(s.as_bytes())
    }

    /// The one part holding every condition here, if there is one (and a condition).
    pub fn sole_part(&self) -> Option<Part> {
        Some(match self.kinds {
            kind::PREFIXES => Part::Prefixes,
            kind::SUFFIXES => Part::Suffixes,
            kind::CASELESS => Part::Caseless,
            kind::CASELESS_PREFIXES => Part::CaselessPrefixes,
            kind::CASELESS_SUFFIXES => Part::CaselessSuffixes,
            kind::WILDCARDS => Part::Wildcards,
            kind::EXISTS => Part::Exists,
            kind::IP => Part::Ip,
            kind::BUT_STRINGS => Part::ExactButStrings,
            k if k == kind::EXACT | kind::BUT_STRINGS => Part::ExactButStrings,
            k if k != 0 && k & !(kind::NUMBERS | kind::RANGES) == 0 => Part::Numbers,
            _ => return None,
        })
    }

    /// What [`ValueIndex::eval`] reports when every condition here is in `part` (see
    /// [`ValueIndex::sole_part`]): only that part is looked at, and only for the probes it can meet.
    #[inline(always)]
    pub fn eval_part(&self, part: Part, probe: Probe<'_>, out: &mut impl FnMut(CondId)) {
        match (part, probe) {
            (Part::Exists, _) => self.exists.iter().for_each(|&id| out(id)),
            (Part::Prefixes, Probe::Str(s)) => self.prefixes.walk(s.bytes(), out),
            (Part::Suffixes, Probe::Str(s)) => self.suffixes.walk(s.bytes().rev(), out),
            (Part::Caseless, Probe::Str(s)) => self.eval_caseless(s, out),
            (Part::CaselessPrefixes, Probe::Str(s)) => {
                self.caseless_prefixes.walk(s.bytes().map(|b| b.to_ascii_lowercase()), out)
            }
            (Part::CaselessSuffixes, Probe::Str(s)) => {
                self.caseless_suffixes.walk(s.bytes().rev().map(|b| b.to_ascii_lowercase()), out)
            }
            (Part::Wildcards, Probe::Str(s)) => self.eval_wildcards(s, out),
            (Part::Numbers, Probe::Num(text)) => {
                if let Some(ids) = get(&self.number_text, text) {
                    ids.iter().for_each(|&id| out(id));
                }
            }
            (Part::Numbers, Probe::Value(v)) => self.eval_value(v, out),
            (Part::Ip, Probe::Ip(a)) => self.eval_ip(a, out),
            (Part::Ip, Probe::Num(text)) => self.eval_ip_text(text, out),
            (Part::ExactButStrings, Probe::Str(s)) => {
                if let Some(ids) = self.exact_ids(s) {
                    ids.iter().for_each(|&id| out(id));
                }
                report_unless(&self.but_strings, self.but_string_excluded.get(s.as_bytes()), out);
            }
            (Part::ExactButStrings, _) => self.but_strings.iter().for_each(|&id| out(id)),
            _ => {}
        }
    }

    /// Reports every condition `probe` meets. Not inlined: the caller runs once per leaf and
    /// would otherwise set up all of this for every leaf.
    #[inline(never)]
    pub fn eval(&self, probe: Probe<'_>, out: &mut impl FnMut(CondId)) {
        self.exists.iter().for_each(|&id| out(id));
        if self.len == self.exists.len() {
            return;
        }
        match probe {
            Probe::Str(s) => self.eval_str(s, out),
            Probe::Num(text) => {
                if let Some(ids) = get(&self.number_text, text) {
                    ids.iter().for_each(|&id| out(id));
                }
                self.eval_ip_text(text, out);
            }
            Probe::Lit(l) => self.literals[literal_slot(l)].iter().for_each(|&id| out(id)),
            Probe::Value(v) => self.eval_value(v, out),
            Probe::Ip(a) => self.eval_ip(a, out),
        }
        if self.kinds & (kind::BUT_STRINGS | kind::BUT_NUMBERS | kind::ANYTHING_BUT) != 0 {
            self.eval_anything_but(probe, out);
        }
    }

    #[inline(always)]
    fn eval_value(&self, v: f64, out: &mut impl FnMut(CondId)) {
        if let Some(ids) = get(&self.number_value, &number::value_key(v)) {
            ids.iter().for_each(|&id| out(id));
        }
        self.numeric.stab(v, out);
    }

    /// A number's spelling against the IP conditions (event-ruler matches number spellings
    /// against their digit ranges too).
    #[inline(always)]
    fn eval_ip_text(&self, text: &str, out: &mut impl FnMut(CondId)) {
        for (id, r) in &self.ip_all {
            if r.matches(text.as_bytes()) {
                out(*id);
            }
        }
    }

    #[inline(always)]
    fn eval_caseless(&self, s: &str, out: &mut impl FnMut(CondId)) {
        if s.is_ascii() {
            if let Some(ids) = self.caseless.get(s.as_bytes()) {
                ids.iter().for_each(|&id| out(id));
            }
        }
    }

    #[inline(always)]
    fn eval_wildcards(&self, s: &str, out: &mut impl FnMut(CondId)) {
        self.wildcards.walk(s.bytes(), &mut |id| {
            if self.wildcard_patterns.get(&id).is_some_and(|w| w.matches(s)) {
                out(id);
            }
        });
    }

    fn eval_anything_but(&self, probe: Probe<'_>, out: &mut impl FnMut(CondId)) {
        if self.kinds & kind::BUT_STRINGS != 0 {
            let excluded = match probe {
                Probe::Str(s) => self.but_string_excluded.get(s.as_bytes()),
                _ => None,
            };
            report_unless(&self.but_strings, excluded, out);
        }
        if self.kinds & kind::BUT_NUMBERS != 0 {
            let excluded = match probe {
                Probe::Value(v) => get(&self.but_number_excluded, &number::value_key(v)),
                _ => None,
            };
            report_unless(&self.but_numbers, excluded, out);
        }
        if self.kinds & kind::ANYTHING_BUT != 0 {
            for (id, a) in &self.anything_but {
                if !excludes(a, probe) {
                    out(*id);
                }
            }
        }
    }

    fn eval_ip(&self, a: Address, out: &mut impl FnMut(CondId)) {
        self.eval_blocks(a.v6, a.bits, out);
        if a.v6 {
            // An IPv4 range reads the first 8 of the 32 digits.
            self.eval_blocks(false, a.top32(), out);
        } else if !self.ip_wide_v6.is_empty() {
            let hex = a.hex();
            for (id, r) in &self.ip_wide_v6 {
                if r.matches(&hex) {
                    out(*id);
                }
            }
        }
    }

    /// The blocks of one family holding `bits`, one lookup per mask length in use.
    #[inline(always)]
    fn eval_blocks(&self, v6: bool, bits: u128, out: &mut impl FnMut(CondId)) {
        if !v6 {
            for &(mask, _) in &self.ip_masks[0] {
                if let Some(ids) = get(&self.ipv4_blocks, &ipv4_key(mask, bits)) {
                    ids.iter().for_each(|&id| out(id));
                }
            }
            return;
        }
        for &(mask, _) in &self.ip_masks[1] {
            let key = Block { v6, mask, base: 0 }.key_of(bits);
            if let Some(ids) = get(&self.ip_blocks, &(v6, mask, key)) {
                ids.iter().for_each(|&id| out(id));
            }
        }
    }

    fn eval_str(&self, s: &str, out: &mut impl FnMut(CondId)) {
        let kinds = self.kinds;
        if kinds & kind::EXACT != 0 {
            if let Some(ids) = self.exact_ids(s) {
                ids.iter().for_each(|&id| out(id));
            }
        }
        if kinds & kind::CASELESS != 0 {
            self.eval_caseless(s, out);
        }
        if kinds & kind::PREFIXES != 0 {
            self.prefixes.walk(s.bytes(), out);
        }
        if kinds & kind::SUFFIXES != 0 {
            self.suffixes.walk(s.bytes().rev(), out);
        }
        if kinds & kind::CASELESS_PREFIXES != 0 {
            self.caseless_prefixes.walk(s.bytes().map(|b| b.to_ascii_lowercase()), out);
        }
        if kinds & kind::CASELESS_SUFFIXES != 0 {
            self.caseless_suffixes.walk(s.bytes().rev().map(|b| b.to_ascii_lowercase()), out);
        }
        if kinds & kind::WILDCARDS != 0 {
            self.eval_wildcards(s, out);
        }
        if kinds & kind::STRINGS == 0 {
            return;
        }
        for (id, c) in &self.strings {
            let hit = match c {
                Condition::Prefix(p) => quoted_prefix(s, p),
                Condition::Suffix(p) => quoted_suffix(s, p),
                Condition::EqualsIgnoreCase(c) => c.matches(s),
                Condition::PrefixIgnoreCase(c) => c.is_prefix_of(s),
                Condition::SuffixIgnoreCase(c) => c.is_suffix_of(s),
                _ => false,
            };
            if hit {
                out(*id);
            }
        }
    }
}

/// Numeric ranges sorted by lower bound, each with the running maximum of upper bounds up to it
/// (its reach), so a value visits only the ranges that start at or below it and could still reach it.
#[derive(Default, Debug)]
struct RangeIndex {
    /// (lower bound, reach, condition, range).
    ranges: Vec<(f64, f64, CondId, NumericRange)>,
}

impl RangeIndex {
    fn insert(&mut self, id: CondId, r: NumericRange) {
        let lo = r.lower.map_or(f64::NEG_INFINITY, |(v, _)| v);
        let at = self.ranges.partition_point(|(l, ..)| *l <= lo);
        self.ranges.insert(at, (lo, f64::NEG_INFINITY, id, r));
        self.rebuild();
    }

    fn remove(&mut self, id: CondId) {
        self.ranges.retain(|(_, _, x, _)| *x != id);
        self.rebuild();
    }

    fn rebuild(&mut self) {
        let mut reach = f64::NEG_INFINITY;
        for (_, at, _, r) in &mut self.ranges {
            reach = reach.max(r.upper.map_or(f64::INFINITY, |(v, _)| v));
            *at = reach;
        }
    }

    #[inline(always)]
    fn stab(&self, x: f64, out: &mut impl FnMut(CondId)) {
        let end = self.ranges.partition_point(|(l, ..)| *l <= x);
        let Some(below) = self.ranges.get(..end) else { return };
        for (_, reach, id, r) in below.iter().rev() {
            if *reach < x {
                break;
            }
            if r.contains(x) {
                out(*id);
            }
        }
    }
}

/// Reports every id of `all` not in `excluded`.
#[inline]
fn report_unless(all: &[CondId], excluded: Option<&Ids>, out: &mut impl FnMut(CondId)) {
    match excluded {
        None => all.iter().for_each(|&id| out(id)),
        Some(ex) if ex.len() == all.len() => {}
        Some(ex) => all.iter().filter(|id| !ex.contains(id)).for_each(|&id| out(id)),
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

    fn is_empty(&self) -> bool {
        self.nodes.len() == 1 && self.nodes[0].ids.is_empty()
    }

    /// Invariant: every edge points at a node of `nodes` (nodes are pushed, never removed, and
    /// an edge is made only to the node just pushed), and `nodes` is never empty (the root).
    fn walk(&self, key: impl Iterator<Item = u8>, out: &mut impl FnMut(CondId)) {
        let Some(mut node) = self.nodes.first() else { return };
        node.ids.iter().for_each(|&id| out(id));
        for b in key {
            let Some(&(_, n)) = node.edges.iter().find(|(k, _)| *k == b) else { return };
            debug_assert!((n as usize) < self.nodes.len());
            // SAFETY: `n` is an edge's target, in bounds by the invariant above.
            node = unsafe { self.nodes.get_unchecked(n as usize) };
            node.ids.iter().for_each(|&id| out(id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::strings::Caseless;

    /// What `eval` reports, checked to be what `exact_ids` gives too when the index is
    /// exact-only (nothing for a value that is not a string).
    fn hits(index: &ValueIndex, probe: Probe<'_>) -> Vec<CondId> {
        let mut out = Vec::new();
        index.eval(probe, &mut |id| out.push(id));
        out.sort_unstable();
        if index.exact_only() {
            let mut inline: Vec<CondId> = Vec::new();
            if let Probe::Str(s) = probe {
                inline.extend(index.exact_ids(s).into_iter().flatten().copied());
            }
            inline.sort_unstable();
            assert_eq!(out, inline, "exact_ids differs from eval for {probe:?}");
        }
        out
    }

    #[test]
    fn exact_only_paths_take_the_inline_lookup_with_the_same_result() {
        let probes = [
            Probe::Str("running"),
            Probe::Str("stopped"),
            Probe::Str(""),
            Probe::Num("5"),
            Probe::Value(5.0),
            Probe::Lit(Literal::Null),
            Probe::Ip(crate::events::ip::parse("10.1.2.3").unwrap()),
        ];
        let mut ix = ValueIndex::default();
        ix.add(1, &Condition::Exact("running".into()));
        ix.add(2, &Condition::Exact("".into()));
        assert_eq!(ix.exact_len, ix.len);
        let expected: [&[CondId]; 7] = [&[1], &[], &[2], &[], &[], &[], &[]];
        for (probe, want) in probes.iter().zip(expected) {
            assert_eq!(hits(&ix, *probe), want);
        }
        // Any other kind of condition turns the fast path off, and removing it turns it back on.
        let others = [
            Condition::Number { text: "5".into(), value: Some(5.0) },
            Condition::Literal(Literal::Null),
            Condition::Exists(true),
            Condition::Prefix("run".into()),
            Condition::AnythingBut(AnythingBut::Strings(Box::new(["stopped".into()]))),
        ];
        for other in &others {
            ix.add(9, other);
            assert_ne!(ix.exact_len, ix.len);
            for probe in &probes {
                hits(&ix, *probe);
            }
            ix.remove(9, other);
            assert_eq!(ix.exact_len, ix.len);
        }
        ix.remove(1, &Condition::Exact("running".into()));
        assert_eq!(hits(&ix, Probe::Str("running")), Vec::<CondId>::new());
        assert_eq!(hits(&ix, Probe::Str("")), vec![2]);
    }

    #[test]
    fn every_part_sits_at_its_discriminant() {
        // The matcher's table of part evaluations is indexed by `part as usize` and reads
        // `Part::ALL` back by the same number.
        for (i, part) in Part::ALL.into_iter().enumerate() {
            assert_eq!(part as usize, i);
        }
    }

    #[test]
    fn one_part_indexes_give_eval_part_what_eval_gives() {
        use crate::events::ip::parse as ip;
        let cidr = |t: &str| Condition::Ip(crate::events::ip::HexRange::cidr(t).unwrap());
        let sets: Vec<(Part, Vec<Condition>)> = vec![
            (Part::Prefixes, vec![Condition::Prefix("ru".into()), Condition::Prefix("".into()), Condition::Prefix("10.".into())]),
            (Part::Suffixes, vec![Condition::Suffix("ing".into()), Condition::Suffix("5".into())]),
            (Part::Caseless, vec![Condition::EqualsIgnoreCase(Caseless::new("RUNNING"))]),
            (Part::CaselessPrefixes, vec![Condition::PrefixIgnoreCase(Caseless::new("RU"))]),
            (Part::CaselessSuffixes, vec![Condition::SuffixIgnoreCase(Caseless::new("NG"))]),
            (Part::Wildcards, vec![Condition::Wildcard(Wildcard::parse("r*g").unwrap()), Condition::Wildcard(Wildcard::parse("*").unwrap())]),
            (Part::Exists, vec![Condition::Exists(true)]),
            (
                Part::Numbers,
                vec![
                    Condition::Number { text: "5".into(), value: Some(5.0) },
                    Condition::Number { text: "9007199254740993".into(), value: None },
                    Condition::Numeric(NumericRange { lower: Some((1.0, false)), upper: Some((10.0, true)) }),
                ],
            ),
            (Part::Numbers, vec![Condition::Numeric(NumericRange { lower: None, upper: Some((0.0, true)) })]),
            (Part::Ip, vec![cidr("10.1.2.0/24"), cidr("10.0.0.0/8"), cidr("::/16"), cidr("2001:db8::/32")]),
            (Part::Ip, vec![cidr("0.0.0.0/0"), cidr("10.1.2.3/30"), cidr("10.1.2.3/31")]),
            (Part::Ip, vec![cidr("::/0"), cidr("a00::/8"), cidr("::/100")]),
            (
                Part::ExactButStrings,
                vec![
                    Condition::Exact("running".into()),
                    Condition::AnythingBut(AnythingBut::Strings(Box::new(["running".into(), "x".into(), "x".into()]))),
                ],
            ),
            (Part::ExactButStrings, vec![Condition::AnythingBut(AnythingBut::Strings(Box::new(["".into()])))]),
        ];
        let probes = [
            Probe::Str("running"),
            Probe::Str("RUNNING"),
            Probe::Str("Ründing"),
            Probe::Str(""),
            Probe::Str("10.1.2.3"),
            Probe::Num("5"),
            Probe::Num("9007199254740993"),
            Probe::Num("10"),
            Probe::Value(5.0),
            Probe::Value(0.0),
            Probe::Value(10.0),
            Probe::Lit(Literal::Null),
            Probe::Lit(Literal::True),
            Probe::Ip(ip("10.1.2.3").unwrap()),
            Probe::Ip(ip("10.9.2.3").unwrap()),
            Probe::Ip(ip("::1").unwrap()),
            Probe::Ip(ip("2001:db8::1").unwrap()),
            Probe::Ip(ip("10.1.2.2").unwrap()),
            Probe::Ip(ip("::ffff:a01:203").unwrap()),
            Probe::Ip(ip("a01:203::").unwrap()),
        ];
        for (part, conds) in &sets {
            let mut ix = ValueIndex::default();
            for (i, c) in conds.iter().enumerate() {
                ix.add(i as CondId, c);
            }
            assert_eq!(ix.sole_part(), Some(*part), "{conds:?}");
            for probe in probes {
                let mut got = Vec::new();
                ix.eval_part(*part, probe, &mut |id| got.push(id));
                got.sort_unstable();
                assert_eq!(got, hits(&ix, probe), "{part:?} {probe:?}");
            }
            // A condition of another part (or an anything-but) leaves the general path only.
            for other in [Condition::Exists(true), Condition::Literal(Literal::Null)] {
                if ix.sole_part() == Some(Part::Exists) && other == Condition::Exists(true) {
                    continue;
                }
                ix.add(99, &other);
                assert_eq!(ix.sole_part(), None, "{conds:?} + {other:?}");
                ix.remove(99, &other);
                assert_eq!(ix.sole_part(), Some(*part));
            }
        }
        let mut ix = ValueIndex::default();
        assert_eq!(ix.sole_part(), None);
        ix.add(1, &Condition::Exact("x".into()));
        assert_eq!(ix.sole_part(), None);
    }

    #[test]
    fn range_index_finds_every_containing_range() {
        let mut ix = RangeIndex::default();
        let ranges = [
            NumericRange { lower: None, upper: Some((0.0, true)) },
            NumericRange { lower: Some((0.0, false)), upper: Some((10.0, true)) },
            NumericRange { lower: Some((5.0, true)), upper: None },
            NumericRange { lower: Some((2.0, true)), upper: Some((3.0, false)) },
            NumericRange { lower: Some((-1.0, false)), upper: Some((100.0, false)) },
        ];
        for (i, r) in ranges.iter().enumerate() {
            ix.insert(i as CondId, *r);
        }
        for x in [-5.0, -1.0, 0.0, 0.5, 2.0, 3.0, 5.0, 10.0, 99.0, 100.0, 1e9] {
            let mut got = Vec::new();
            ix.stab(x, &mut |id| got.push(id));
            got.sort_unstable();
            let want: Vec<CondId> = (0..ranges.len() as CondId).filter(|&i| ranges[i as usize].contains(x)).collect();
            assert_eq!(got, want, "{x}");
        }
        ix.remove(4);
        let mut got = Vec::new();
        ix.stab(50.0, &mut |id| got.push(id));
        assert_eq!(got, vec![2]);
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
        assert_eq!(hits(&ix, Probe::Value(1.0)), vec![7]);
        ix.remove(2, &Condition::Prefix("run".into()));
        ix.remove(7, &Condition::AnythingBut(AnythingBut::Strings(Box::new(["stopped".into()]))));
        assert_eq!(hits(&ix, Probe::Str("running")), vec![1, 3, 4, 5, 6, 8]);
    }
}
