//! The table from exact strings (and ASCII equals-ignore-case keys) to the conditions that name
//! them, at one rule path: open addressing with linear probing, keyed by the string's length and
//! two words read from it, so a lookup is a multiply, one probe and a comparison of three words
//! for any string up to 16 bytes (no byte-wise hashing, no `memcmp` call).
//!
//! The two words ([`words`]) are the first and last eight bytes (overlapping when shorter than
//! 16), the first and last four for 4–7 bytes, the first, middle and last byte below that. For
//! a given length they determine a string of up to 16 bytes; longer keys also compare the bytes
//! between the words. Caseless tables hold ASCII lower-case keys and fold the value's words
//! (the caller has checked it is ASCII) and middle bytes to lower case.
//!
//! Invariants: at most half the slots are used, so every probe sequence reaches an empty slot;
//! removal shifts later entries back (no tombstones), so a key is always found before the first
//! empty slot after its home; a key's id list is never empty.

use smallvec::SmallVec;

use super::index::CondId;

pub type Ids = SmallVec<[CondId; 1]>;

const EMPTY: u32 = u32::MAX;

#[derive(Debug)]
struct Slot {
    /// Key length, or [`EMPTY`].
    len: u32,
    head: u64,
    tail: u64,
    key: Box<[u8]>,
    ids: Ids,
}

impl Slot {
    fn empty() -> Slot {
        Slot { len: EMPTY, head: 0, tail: 0, key: Box::default(), ids: Ids::new() }
    }
}

/// `CASELESS`: keys are ASCII lower case and values are folded before comparison.
#[derive(Debug, Default)]
pub struct ExactTable<const CASELESS: bool> {
    /// A power of two long, or empty.
    slots: Vec<Slot>,
    used: usize,
    /// 64 minus log2 of the slot count: a key's home is the top bits of its hash (the low and
    /// middle bits of a product depend on the low bytes only, which keys often share).
    shift: u32,
}

#[inline(always)]
fn words(b: &[u8]) -> (u64, u64) {
    let n = b.len();
    if let (Some(first), Some(last)) = (b.first_chunk::<8>(), b.last_chunk::<8>()) {
        (u64::from_le_bytes(*first), u64::from_le_bytes(*last))
    } else if let (Some(first), Some(last)) = (b.first_chunk::<4>(), b.last_chunk::<4>()) {
        (u64::from(u32::from_le_bytes(*first)) | u64::from(u32::from_le_bytes(*last)) << 32, 0)
    } else if let (Some(&first), Some(&mid), Some(&last)) = (b.first(), b.get(n / 2), b.last()) {
        (u64::from(first) | u64::from(mid) << 8 | u64::from(last) << 16, 0)
    } else {
        (0, 0)
    }
}

/// ASCII lower case of every byte of a word of ASCII bytes.
#[inline(always)]
fn fold(x: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Per byte, the high bit of `ge_a` says byte >= b'A', that of `gt_z` byte > b'Z' (the
    // bytes are below 0x80, so no addition carries into the next byte).
    let ge_a = (x & LOW7) + 0x3f3f_3f3f_3f3f_3f3f;
    let gt_z = (x & LOW7) + 0x2525_2525_2525_2525;
    let upper = (ge_a & !gt_z) & HIGH;
    x | (upper >> 2)
}

#[inline(always)]
fn home(len: u32, head: u64, tail: u64, shift: u32) -> usize {
    let h = (head ^ tail.rotate_left(31) ^ u64::from(len)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (h >> shift) as usize
}

impl<const CASELESS: bool> ExactTable<CASELESS> {
    pub fn is_empty(&self) -> bool {
        self.used == 0
    }

    /// The key's words as the table compares them.
    #[inline(always)]
    fn key_words(&self, key: &[u8]) -> (u64, u64) {
        let (head, tail) = words(key);
        if CASELESS {
            (fold(head), fold(tail))
        } else {
            (head, tail)
        }
    }

    fn middle_eq(&self, stored: &[u8], key: &[u8]) -> bool {
        let n = key.len();
        match (stored.get(8..n - 8), key.get(8..n - 8)) {
            (Some(a), Some(b)) if CASELESS => a.eq_ignore_ascii_case(b),
            (Some(a), Some(b)) => a == b,
            _ => false,
        }
    }

    /// The slot holding `key`, or the empty slot where it would go.
    #[inline(always)]
    fn find(&self, key: &[u8]) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let Ok(len) = u32::try_from(key.len()) else { return None };
        let (head, tail) = self.key_words(key);
        let mask = self.slots.len() - 1;
        let mut i = home(len, head, tail, self.shift);
        loop {
            let slot = self.slots.get(i)?;
            if slot.len == EMPTY
                || (slot.len == len && slot.head == head && slot.tail == tail && (len <= 16 || self.middle_eq(&slot.key, key)))
            {
                return Some(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// The ids under `key` (for a caseless table, `key` must be ASCII).
    #[inline(always)]
    pub fn get(&self, key: &[u8]) -> Option<&Ids> {
        let slot = self.slots.get(self.find(key)?)?;
        (slot.len != EMPTY).then_some(&slot.ids)
    }

    /// Files `id` under `key` (already lower case for a caseless table).
    pub fn insert(&mut self, key: &[u8], id: CondId) {
        if u32::try_from(key.len()).map_or(true, |n| n == EMPTY) {
            return;
        }
        if (self.used + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let Some(i) = self.find(key) else { return };
        let (head, tail) = self.key_words(key);
        let slot = &mut self.slots[i];
        if slot.len == EMPTY {
            *slot = Slot { len: key.len() as u32, head, tail, key: key.into(), ids: Ids::new() };
            self.used += 1;
        }
        if !slot.ids.contains(&id) {
            slot.ids.push(id);
        }
    }

    /// Takes `id` off `key`, and the key out when no id is left.
    pub fn remove(&mut self, key: &[u8], id: CondId) {
        let Some(mut hole) = self.find(key) else { return };
        let slot = &mut self.slots[hole];
        if slot.len == EMPTY {
            return;
        }
        slot.ids.retain(|x| *x != id);
        if !slot.ids.is_empty() {
            return;
        }
        // Shift back every later entry of the run whose home is not between the hole and it.
        let mask = self.slots.len() - 1;
        let mut j = (hole + 1) & mask;
        while self.slots[j].len != EMPTY {
            let s = &self.slots[j];
            let at = home(s.len, s.head, s.tail, self.shift);
            if (j.wrapping_sub(at) & mask) >= (j.wrapping_sub(hole) & mask) {
                self.slots.swap(hole, j);
                hole = j;
            }
            j = (j + 1) & mask;
        }
        self.slots[hole] = Slot::empty();
        self.used -= 1;
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(8);
        let old = std::mem::replace(&mut self.slots, (0..size).map(|_| Slot::empty()).collect());
        let mask = size - 1;
        self.shift = 64 - size.trailing_zeros();
        for slot in old.into_iter().filter(|s| s.len != EMPTY) {
            let mut i = home(slot.len, slot.head, slot.tail, self.shift);
            while self.slots[i].len != EMPTY {
                i = (i + 1) & mask;
            }
            self.slots[i] = slot;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[test]
    fn words_tell_short_strings_apart() {
        let all: Vec<Vec<u8>> =
            (0..=3).flat_map(|n| (0..27u32.pow(n)).map(move |k| (0..n).map(|d| b'a' + (k / 27u32.pow(d) % 27) as u8).collect())).collect();
        let mut seen = HashMap::new();
        for s in &all {
            let key = (s.len(), words(s));
            assert_eq!(seen.insert(key, s.clone()), None, "{s:?}");
        }
        assert_eq!(words(b"instance-id"), (u64::from_le_bytes(*b"instance"), u64::from_le_bytes(*b"tance-id")));
    }

    #[test]
    fn folds_ascii_upper_case_only() {
        let all: Vec<u8> = (0..0x80).collect();
        for chunk in all.chunks(8) {
            let word = u64::from_le_bytes(chunk.try_into().unwrap());
            let want: Vec<u8> = chunk.iter().map(u8::to_ascii_lowercase).collect();
            assert_eq!(fold(word).to_le_bytes().to_vec(), want);
        }
    }

    #[test]
    fn caseless_lookups_fold_the_value() {
        let mut t = ExactTable::<true>::default();
        t.insert(b"alice", 1);
        t.insert(b"a-rather-long-user-name", 2);
        assert_eq!(t.get(b"ALICE").map(|ids| ids.to_vec()), Some(vec![1]));
        assert_eq!(t.get(b"A-Rather-LONG-User-Name").map(|ids| ids.to_vec()), Some(vec![2]));
        assert_eq!(t.get(b"A-Rather-LONG-User-Nam"), None);
        assert_eq!(t.get(b"alicf"), None);
    }

    #[test]
    fn keys_sharing_their_first_bytes_spread_out() {
        let mut t = ExactTable::<false>::default();
        let keys: Vec<String> = (0..1000).map(|n| format!("team-{n}")).chain((0..1000).map(|n| format!("aws.svc{n}"))).collect();
        for (i, k) in keys.iter().enumerate() {
            t.insert(k.as_bytes(), i as CondId);
        }
        let mask = t.slots.len() - 1;
        let longest = keys
            .iter()
            .filter_map(|k| t.find(k.as_bytes()).map(|at| at.wrapping_sub(home(k.len() as u32, words(k.as_bytes()).0, words(k.as_bytes()).1, t.shift)) & mask))
            .max();
        assert!(longest.is_some_and(|d| d < 64), "longest probe {longest:?}");
    }

    fn key() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(prop::sample::select(vec![b'a', b'b', b'A', b'-', 0x00, 0xc3, 0xa9]), 0..26)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// Inserts and removals in any order leave the table answering as a `HashMap` does.
        #[test]
        fn agrees_with_a_hash_map(ops in prop::collection::vec((key(), 0u32..4, any::<bool>()), 0..120), probes in prop::collection::vec(key(), 0..20)) {
            let mut table = ExactTable::<false>::default();
            let mut model: HashMap<Vec<u8>, Vec<CondId>> = HashMap::new();
            for (k, id, insert) in &ops {
                if *insert {
                    table.insert(k, *id);
                    let ids = model.entry(k.clone()).or_default();
                    if !ids.contains(id) {
                        ids.push(*id);
                    }
                } else {
                    table.remove(k, *id);
                    if let Some(ids) = model.get_mut(k) {
                        ids.retain(|x| x != id);
                        if ids.is_empty() {
                            model.remove(k);
                        }
                    }
                }
                prop_assert_eq!(table.used, model.len());
                prop_assert!(table.used * 2 <= table.slots.len().max(1));
            }
            for k in model.keys().chain(probes.iter()).chain(ops.iter().map(|(k, _, _)| k)) {
                let got = table.get(k).map(|ids| ids.to_vec());
                prop_assert_eq!(got, model.get(k).cloned(), "key {:?}", k);
            }
        }
    }
}
