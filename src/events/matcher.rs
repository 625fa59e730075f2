//! All rules of a bus compiled together: one pass over an event finds every rule it matches.
//!
//! Shape (after aws/event-ruler and quamina): rule paths form one trie, so reading an event
//! resolves each key once and skips every subtree no rule looks at; each path has one
//! [`ValueIndex`] holding the conditions of *all* rules on that path, deduplicated, so a value
//! finds the conditions it meets by lookup; each condition knows the rule fields using it, and a
//! rule branch becomes a candidate when all its required fields have a hit. Only candidates are
//! checked further, so the cost follows the event and its partial matches, not the number of
//! rules (except branches made only of `exists: false` fields, which are always checked).
//!
//! The check of a candidate reproduces event-ruler's array-consistent matching
//! (`rulesForJSONEvent`): the leaves used for one branch must agree on the element of every
//! array they share. Fields are visited in path order, and an `exists: false` field holds when
//! no leaf of its path agrees with the leaves chosen for the fields *before* it, as in
//! event-ruler, where the verdict can therefore depend on field names' order.
//!
//! How values are read also follows event-ruler, per field: when a field has a numeric
//! condition (a comparable number literal, `numeric`, a numeric `anything-but`), comparable
//! event numbers are read by value and only by value; otherwise, when it has an IP condition,
//! event strings that are IP addresses are read as addresses and only as addresses; otherwise
//! values are read as written. Conditions are kept per (path, reading mode). event-ruler shares
//! this choice between all rules whose fields meet in one state of its automaton, so one rule can
//! change how another reads a value; we share it only among the `$or` branches of one rule that
//! reach the field through identical earlier fields, so adding a rule never changes the verdict of
//! another.

use std::cell::RefCell;

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use super::flatten::{flatten, java_split_dots, EventError, LeafSink, PathId, PathTrie, Scalar};
use super::index::{CondId, Probe, ValueIndex};
use super::ip;
use super::number;
use super::pattern::{Condition, Literal, Pattern};

/// Caller-chosen identifier of a rule.
pub type RuleId = u32;

/// How a field reads event values (see the module documentation).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Mode {
    Raw = 0,
    Numeric = 1,
    Ip = 2,
}

const MODES: [Mode; 3] = [Mode::Raw, Mode::Numeric, Mode::Ip];

/// A deduplicated condition at a path in one mode, and the fields using it.
struct Cond {
    path: PathId,
    mode: Mode,
    key: String,
    condition: Condition,
    users: Vec<FieldRef>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct FieldRef {
    branch: u32,
    field: u32,
    required: bool,
}

struct CompiledBranch {
    rule: RuleId,
    /// Some path of the rule has an empty step, so the rule sees leaves under empty keys.
    empty_step: bool,
    fields: Box<[CompiledField]>,
    required: u32,
}

struct CompiledField {
    /// Global field number, for per-event stamps.
    id: u32,
    path: PathId,
    path_text: Box<str>,
    conds: SmallVec<[CondId; 2]>,
    /// The field also holds when its path is absent (`exists: false`).
    absent_ok: bool,
}

/// Rules compiled together. `matches` takes `&self`, so one matcher serves many threads.
#[derive(Default)]
pub struct Matcher {
    trie: PathTrie,
    path_ids: FxHashMap<Box<str>, PathId>,
    free_paths: Vec<PathId>,
    /// Per path, per mode.
    indexes: Vec<[ValueIndex; 3]>,
    conds: Vec<Option<Cond>>,
    cond_ids: FxHashMap<(PathId, Mode, String), CondId>,
    free_conds: Vec<CondId>,
    branches: Vec<Option<CompiledBranch>>,
    free_branches: Vec<u32>,
    next_field: u32,
    free_fields: Vec<u32>,
    rules: FxHashMap<RuleId, Vec<u32>>,
    /// Branches with no required field: candidates for every event.
    always: Vec<u32>,
}

impl Matcher {
    pub fn new() -> Matcher {
        Matcher { trie: PathTrie::new(), ..Matcher::default() }
    }

    /// Number of rules held.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Adds (or replaces) a rule.
    pub fn add_rule(&mut self, id: RuleId, pattern: &Pattern) {
        self.remove_rule(id);
        let modes = field_modes(pattern);
        let empty_step = pattern.branches.iter().flat_map(|b| b.fields.iter()).any(|f| has_empty_step(&f.path));
        let mut branch_ids = Vec::with_capacity(pattern.branches.len());
        for (b, branch) in pattern.branches.iter().enumerate() {
            let branch_id = match self.free_branches.pop() {
                Some(i) => i,
                None => {
                    self.branches.push(None);
                    (self.branches.len() - 1) as u32
                }
            };
            let mut fields = Vec::with_capacity(branch.fields.len());
            let mut required = 0;
            for (f, field) in branch.fields.iter().enumerate() {
                let path = self.intern_path(&field.path);
                let mode = modes[b][f];
                let absent_ok = field.conditions.iter().any(|c| *c == Condition::Exists(false));
                let field_id = self.free_fields.pop().unwrap_or_else(|| {
                    self.next_field += 1;
                    self.next_field - 1
                });
                let mut conds = SmallVec::new();
                for c in field.conditions.iter().filter(|c| **c != Condition::Exists(false)) {
                    let cond = self.intern_cond(path, mode, c);
                    let user = FieldRef { branch: branch_id, field: field_id, required: !absent_ok };
                    if let Some(Some(entry)) = self.conds.get_mut(cond as usize) {
                        if !entry.users.contains(&user) {
                            entry.users.push(user);
                        }
                    }
                    if !conds.contains(&cond) {
                        conds.push(cond);
                    }
                }
                if !absent_ok {
                    required += 1;
                }
                fields.push(CompiledField { id: field_id, path, path_text: field.path.clone(), conds, absent_ok });
            }
            if required == 0 {
                self.always.push(branch_id);
            }
            self.branches[branch_id as usize] = Some(CompiledBranch { rule: id, empty_step, fields: fields.into(), required });
            branch_ids.push(branch_id);
        }
        self.rules.insert(id, branch_ids);
    }

    /// Removes a rule; returns whether it was there.
    pub fn remove_rule(&mut self, id: RuleId) -> bool {
        let Some(branch_ids) = self.rules.remove(&id) else {
            return false;
        };
        for branch_id in branch_ids {
            let Some(branch) = self.branches.get_mut(branch_id as usize).and_then(Option::take) else {
                continue;
            };
            self.always.retain(|b| *b != branch_id);
            for field in branch.fields.iter() {
                for &cond in &field.conds {
                    self.release_cond(cond, branch_id, field.id);
                }
                self.release_path(&field.path_text);
                self.free_fields.push(field.id);
            }
            self.free_branches.push(branch_id);
        }
        true
    }

    fn intern_path(&mut self, path: &str) -> PathId {
        let fresh = match self.path_ids.get(path) {
            Some(&id) => id,
            None => {
                let id = self.free_paths.pop().unwrap_or(self.indexes.len() as PathId);
                if id as usize == self.indexes.len() {
                    self.indexes.push(Default::default());
                }
                self.path_ids.insert(path.into(), id);
                id
            }
        };
        self.trie.add(path, fresh)
    }

    fn release_path(&mut self, path: &str) {
        if let Some(id) = self.trie.remove(path) {
            self.path_ids.remove(path);
            self.free_paths.push(id);
        }
    }

    fn intern_cond(&mut self, path: PathId, mode: Mode, c: &Condition) -> CondId {
        let key = format!("{c:?}");
        if let Some(&id) = self.cond_ids.get(&(path, mode, key.clone())) {
            return id;
        }
        let id = match self.free_conds.pop() {
            Some(i) => i,
            None => {
                self.conds.push(None);
                (self.conds.len() - 1) as CondId
            }
        };
        self.indexes[path as usize][mode as usize].add(id, c);
        self.cond_ids.insert((path, mode, key.clone()), id);
        self.conds[id as usize] = Some(Cond { path, mode, key, condition: c.clone(), users: Vec::new() });
        id
    }

    fn release_cond(&mut self, id: CondId, branch: u32, field: u32) {
        let Some(Some(cond)) = self.conds.get_mut(id as usize) else { return };
        cond.users.retain(|u| !(u.branch == branch && u.field == field));
        if !cond.users.is_empty() {
            return;
        }
        if let Some(cond) = self.conds[id as usize].take() {
            self.indexes[cond.path as usize][cond.mode as usize].remove(id, &cond.condition);
            self.cond_ids.remove(&(cond.path, cond.mode, cond.key));
            self.free_conds.push(id);
        }
    }

    /// The rules an event (JSON text) matches, each once, in ascending id order.
    pub fn matches(&self, event: &str) -> Result<SmallVec<[RuleId; 4]>, EventError> {
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            self.matches_with(event, &mut s)
        })
    }

    fn matches_with(&self, event: &str, s: &mut Scratch) -> Result<SmallVec<[RuleId; 4]>, EventError> {
        s.begin(self);
        {
            let mut sink = Collector { matcher: self, s: &mut *s };
            flatten(event, &self.trie, &mut sink)?;
        }
        // Count satisfied required fields per branch.
        let gen = s.gen;
        let mut candidates = std::mem::take(&mut s.candidates);
        candidates.clear();
        candidates.extend_from_slice(&self.always);
        for i in 0..s.hit_conds.len() {
            let cond = s.hit_conds[i];
            let Some(Some(c)) = self.conds.get(cond as usize) else { continue };
            for u in &c.users {
                let f = u.field as usize;
                if s.field_stamp[f] == gen {
                    continue;
                }
                s.field_stamp[f] = gen;
                if !u.required {
                    continue;
                }
                let b = u.branch as usize;
                if s.branch_stamp[b] != gen {
                    s.branch_stamp[b] = gen;
                    s.branch_count[b] = 0;
                }
                s.branch_count[b] += 1;
                if let Some(Some(branch)) = self.branches.get(b) {
                    if s.branch_count[b] == branch.required {
                        candidates.push(u.branch);
                    }
                }
            }
        }
        let mut out: SmallVec<[RuleId; 4]> = SmallVec::new();
        for &b in &candidates {
            let Some(Some(branch)) = self.branches.get(b as usize) else { continue };
            if out.contains(&branch.rule) {
                continue;
            }
            if s.verify(branch) {
                out.push(branch.rule);
            }
        }
        s.candidates = candidates;
        out.sort_unstable();
        Ok(out)
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

const NONE: u32 = u32::MAX;

/// Per-event working state, reused between events; stamps with the event's generation number
/// replace clearing.
#[derive(Default)]
struct Scratch {
    gen: u32,
    cond_stamp: Vec<u32>,
    cond_head: Vec<u32>,
    hit_conds: Vec<CondId>,
    /// (leaf, next) linked lists of leaves per condition.
    hits: Vec<(u32, u32)>,
    path_stamp: Vec<u32>,
    path_head: Vec<u32>,
    path_leaves: Vec<(u32, u32)>,
    /// Per leaf: (start, len) in `memberships`, and whether only rules with an empty step see it.
    leaves: Vec<(u32, u32, bool)>,
    memberships: Vec<(u32, u32)>,
    /// Some leaf sits in an array or needs an empty step: candidates need the full search.
    needs_search: bool,
    field_stamp: Vec<u32>,
    branch_stamp: Vec<u32>,
    branch_count: Vec<u32>,
    candidates: Vec<u32>,
    lower: String,
    hex: Vec<u8>,
}

impl Scratch {
    fn begin(&mut self, m: &Matcher) {
        if self.gen == u32::MAX {
            *self = Scratch::default();
        }
        self.gen += 1;
        let grow = |v: &mut Vec<u32>, n: usize| {
            if v.len() < n {
                v.resize(n, 0)
            }
        };
        grow(&mut self.cond_stamp, m.conds.len());
        grow(&mut self.cond_head, m.conds.len());
        grow(&mut self.path_stamp, m.indexes.len());
        grow(&mut self.path_head, m.indexes.len());
        grow(&mut self.field_stamp, m.next_field as usize);
        grow(&mut self.branch_stamp, m.branches.len());
        grow(&mut self.branch_count, m.branches.len());
        self.hit_conds.clear();
        self.hits.clear();
        self.path_leaves.clear();
        self.leaves.clear();
        self.memberships.clear();
        self.needs_search = false;
    }

    fn membership(&self, leaf: u32) -> &[(u32, u32)] {
        let (start, len, _) = self.leaves[leaf as usize];
        &self.memberships[start as usize..(start + len) as usize]
    }

    fn visible(&self, leaf: u32, empty_step: bool) -> bool {
        empty_step || !self.leaves[leaf as usize].2
    }

    fn path_has_leaf(&self, path: PathId) -> bool {
        self.path_stamp[path as usize] == self.gen
    }

    fn verify(&self, branch: &CompiledBranch) -> bool {
        if !self.needs_search {
            return branch
                .fields
                .iter()
                .all(|f| !f.absent_ok || self.field_stamp[f.id as usize] == self.gen || !self.path_has_leaf(f.path));
        }
        let mut chosen = SmallVec::<[(u32, u32); 8]>::new();
        self.search(&branch.fields, branch.empty_step, &mut chosen)
    }

    /// Array-consistent search over the fields in order (see the module documentation).
    fn search(&self, fields: &[CompiledField], empty_step: bool, chosen: &mut SmallVec<[(u32, u32); 8]>) -> bool {
        let Some((field, rest)) = fields.split_first() else {
            return true;
        };
        for &cond in &field.conds {
            if self.cond_stamp[cond as usize] != self.gen {
                continue;
            }
            let mut hit = self.cond_head[cond as usize];
            while hit != NONE {
                let (leaf, next) = self.hits[hit as usize];
                let membership = self.membership(leaf);
                if self.visible(leaf, empty_step) && consistent(chosen, membership) {
                    let mark = chosen.len();
                    for &(array, index) in membership {
                        if !chosen.iter().any(|&(a, _)| a == array) {
                            chosen.push((array, index));
                        }
                    }
                    let found = self.search(rest, empty_step, chosen);
                    chosen.truncate(mark);
                    if found {
                        return true;
                    }
                }
                hit = next;
            }
        }
        if field.absent_ok && !self.consistent_leaf_at(field.path, empty_step, chosen) {
            return self.search(rest, empty_step, chosen);
        }
        false
    }

    fn consistent_leaf_at(&self, path: PathId, empty_step: bool, chosen: &[(u32, u32)]) -> bool {
        if !self.path_has_leaf(path) {
            return false;
        }
        let mut at = self.path_head[path as usize];
        while at != NONE {
            let (leaf, next) = self.path_leaves[at as usize];
            if self.visible(leaf, empty_step) && consistent(chosen, self.membership(leaf)) {
                return true;
            }
            at = next;
        }
        false
    }
}

fn consistent(chosen: &[(u32, u32)], membership: &[(u32, u32)]) -> bool {
    membership.iter().all(|&(array, index)| chosen.iter().all(|&(a, i)| a != array || i == index))
}

struct Collector<'m, 's> {
    matcher: &'m Matcher,
    s: &'s mut Scratch,
}

impl LeafSink for Collector<'_, '_> {
    fn leaf(&mut self, path: PathId, value: Scalar<'_>, membership: &[(u32, u32)], needs_empty_step: bool) {
        let s = &mut *self.s;
        let gen = s.gen;
        let leaf = s.leaves.len() as u32;
        s.leaves.push((s.memberships.len() as u32, membership.len() as u32, needs_empty_step));
        s.memberships.extend_from_slice(membership);
        s.needs_search |= !membership.is_empty() || needs_empty_step;
        let p = path as usize;
        if s.path_stamp[p] != gen {
            s.path_stamp[p] = gen;
            s.path_head[p] = NONE;
        }
        s.path_leaves.push((leaf, s.path_head[p]));
        s.path_head[p] = (s.path_leaves.len() - 1) as u32;

        let Some(indexes) = self.matcher.indexes.get(p) else { return };
        let mut lower = std::mem::take(&mut s.lower);
        let mut hex = std::mem::take(&mut s.hex);
        for mode in MODES {
            let index = &indexes[mode as usize];
            if index.is_empty() {
                continue;
            }
            let probe = match (&value, mode) {
                (Scalar::Str(text), Mode::Ip) => match ip::address_hex(text) {
                    Some(h) => {
                        hex = h;
                        Probe::Hex(&hex)
                    }
                    None => Probe::Str(text),
                },
                (Scalar::Str(text), _) => Probe::Str(text),
                (Scalar::Num(text), Mode::Numeric) => match number::comparable(text) {
                    Some(v) => Probe::Value(v),
                    None => Probe::Num(text),
                },
                (Scalar::Num(text), _) => Probe::Num(text),
                (Scalar::True, _) => Probe::Lit(Literal::True),
                (Scalar::False, _) => Probe::Lit(Literal::False),
                (Scalar::Null, _) => Probe::Lit(Literal::Null),
            };
            index.eval(probe, &mut lower, &mut |cond| {
                let c = cond as usize;
                if s.cond_stamp[c] != gen {
                    s.cond_stamp[c] = gen;
                    s.cond_head[c] = NONE;
                    s.hit_conds.push(cond);
                }
                s.hits.push((leaf, s.cond_head[c]));
                s.cond_head[c] = (s.hits.len() - 1) as u32;
            });
        }
        s.lower = lower;
        s.hex = hex;
    }
}

/// Whether a rule path, split as event-ruler splits it, has an empty piece.
fn has_empty_step(path: &str) -> bool {
    java_split_dots(path).contains(&"")
}

/// The reading mode of every field of every branch of a pattern.
fn field_modes(pattern: &Pattern) -> Vec<Vec<Mode>> {
    // Fields of one rule that event-ruler would place in the same automaton state: same path,
    // reached through identical earlier fields.
    let state_key = |fields: &[super::pattern::Field], k: usize| format!("{:?}|{}", &fields[..k], fields[k].path);
    let mut by_state: FxHashMap<String, Mode> = FxHashMap::default();
    for branch in pattern.branches.iter() {
        for (k, field) in branch.fields.iter().enumerate() {
            let mode = by_state.entry(state_key(&branch.fields, k)).or_insert(Mode::Raw);
            for c in field.conditions.iter() {
                if c.is_numeric() {
                    *mode = Mode::Numeric;
                } else if matches!(c, Condition::Ip(_)) && *mode == Mode::Raw {
                    *mode = Mode::Ip;
                }
            }
        }
    }
    pattern
        .branches
        .iter()
        .map(|b| (0..b.fields.len()).map(|k| by_state.get(&state_key(&b.fields, k)).copied().unwrap_or(Mode::Raw)).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(patterns: &[&str]) -> Matcher {
        let mut m = Matcher::new();
        for (i, p) in patterns.iter().enumerate() {
            m.add_rule(i as RuleId, &Pattern::parse(p).unwrap());
        }
        m
    }

    #[test]
    fn matches_many_rules_at_once() {
        let m = matcher(&[
            r#"{"source": ["aws.ec2"]}"#,
            r#"{"source": ["aws.ec2"], "detail": {"state": ["running"]}}"#,
            r#"{"detail": {"state": [{"prefix": "run"}]}}"#,
            r#"{"source": ["aws.s3"]}"#,
            r#"{"detail": {"missing": [{"exists": false}]}}"#,
        ]);
        let hits = m.matches(r#"{"source": "aws.ec2", "detail": {"state": "running"}}"#).unwrap();
        assert_eq!(&hits[..], &[0, 1, 2, 4]);
        let hits = m.matches(r#"{"source": "aws.s3", "detail": {"missing": 1}}"#).unwrap();
        assert_eq!(&hits[..], &[3]);
    }

    #[test]
    fn array_consistency_and_field_order() {
        let m = matcher(&[
            r#"{"employees": {"first": ["Anna"], "last": ["Jones"]}}"#,
            r#"{"employees": {"first": ["Anna"], "age": [{"exists": false}]}}"#,
        ]);
        let split = r#"{"employees": [{"first": "Anna", "last": "Smith", "age": 30}, {"first": "Peter", "last": "Jones"}]}"#;
        assert!(m.matches(split).unwrap().is_empty());
        let same = r#"{"employees": [{"first": "Anna", "last": "Jones"}, {"first": "X"}]}"#;
        assert_eq!(&m.matches(same).unwrap()[..], &[0, 1]);
    }

    #[test]
    fn removing_rules_releases_everything() {
        let mut m = matcher(&[r#"{"a": ["x"], "b": [{"prefix": "y"}]}"#, r#"{"a": ["x"]}"#]);
        assert!(m.remove_rule(0));
        assert!(!m.remove_rule(0));
        assert_eq!(&m.matches(r#"{"a": "x", "b": "yes"}"#).unwrap()[..], &[1]);
        assert!(m.remove_rule(1));
        assert!(m.conds.iter().all(Option::is_none));
        assert!(m.path_ids.is_empty());
        m.add_rule(5, &Pattern::parse(r#"{"b": ["z"]}"#).unwrap());
        assert_eq!(&m.matches(r#"{"a": "x", "b": "z"}"#).unwrap()[..], &[5]);
    }

    #[test]
    fn field_reading_modes() {
        // A numeric condition makes the field read comparable numbers by value only.
        let m = matcher(&[r#"{"n": [5, {"cidr": "0.0.0.0/0"}]}"#, r#"{"n": [{"cidr": "0.0.0.0/0"}]}"#]);
        assert_eq!(&m.matches(r#"{"n": 10}"#).unwrap()[..], &[1]);
        assert_eq!(&m.matches(r#"{"n": 1e309}"#).unwrap()[..], &[0, 1]);
        assert_eq!(&m.matches(r#"{"n": "10.1.2.3"}"#).unwrap()[..], &[1]);
    }
}
