//! All rules of a bus compiled together: one pass over an event finds every rule it matches.
//!
//! Shape (after aws/event-ruler and quamina): rule paths form one trie, so reading an event
//! resolves each key once and skips every subtree no rule looks at; each path has one
//! [`ValueIndex`] holding the conditions of *all* rules on that path, deduplicated, so a value
//! finds the conditions it meets by lookup. Each rule branch is filed under one *anchor* field,
//! the required field whose conditions fewer other branches share when the rule is added (so
//! `source: aws.ec2`, used by many rules, rarely anchors); a branch is a candidate when a
//! condition of its anchor is met, and only candidates are checked further. The cost therefore
//! follows the event and the branches whose most selective field it meets, not the number of
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
//!
//! Per path, what a leaf there needs is decided when rules change ([`LeafPlan`]): which reading
//! modes have conditions (most paths have one, and many only exact strings, which are one
//! inline table lookup; many others only conditions of one part of the index, which is then the
//! only part looked at; every evaluation but the exact lookup is one function chosen then, for
//! its mode and part), and whether the path's leaves must be listed for `exists: false`.
//! A candidate is checked by the array-consistent search only when a leaf on one of its paths
//! sits in an array or under an empty step; otherwise any leaf will do, and a hit per field is
//! the whole check.

use std::cell::RefCell;

use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use super::flatten::{flatten_with, java_split_dots, EventError, LeafSink, PathId, PathTrie, Scalar, WalkBuffers};
use super::index::{CondId, Part, Probe, ValueIndex};
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

/// How a leaf at a path is evaluated, decided when the path's conditions change.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
enum Eval {
    /// No value condition (the path is there for `exists: false`, or for a longer path).
    #[default]
    Nothing,
    /// Only exact strings, read as written: one table lookup for a string, nothing otherwise.
    Exact,
    /// Conditions in this mode only, all in one part of the index.
    Part(Mode, Part),
    /// Conditions in this mode only.
    One(Mode),
    /// Conditions in several modes.
    Modes,
}

/// The out-of-line evaluation of a leaf (`Eval::Part`, `Eval::One`, `Eval::Modes`), one function
/// per mode and part, so that neither the walker nor the function dispatches on them per leaf.
type LeafFn = fn(&Matcher, &mut Scratch, usize, &Scalar<'_>, Leaf);

#[derive(Clone, Copy, Default, Debug)]
struct LeafPlan {
    /// `eval` is `Eval::Exact` (evaluated inline in the walker).
    exact: bool,
    /// Some `exists: false` field is on the path, so its leaves are listed per event.
    listed: bool,
    /// The evaluation of every other plan but `Eval::Nothing`.
    call: Option<LeafFn>,
}

/// A deduplicated condition at a path in one mode, and the fields using it.
struct Cond {
    path: PathId,
    mode: Mode,
    key: String,
    condition: Condition,
    /// Fields using the condition, counted for choosing anchors and for release.
    uses: u32,
    /// Branches anchored on a field using this condition.
    anchored: Vec<u32>,
}

struct CompiledBranch {
    rule: RuleId,
    /// Some path of the rule has an empty step, so the rule sees leaves under empty keys.
    empty_step: bool,
    fields: Box<[CompiledField]>,
    /// The field the branch is filed under; `None` when no field is required.
    anchor: Option<usize>,
}

struct CompiledField {
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
    /// Per path, kept in step with `indexes` and `absent_fields`.
    plans: Vec<LeafPlan>,
    /// Per path, the `exists: false` fields on it.
    absent_fields: Vec<u32>,
    conds: Vec<Option<Cond>>,
    cond_ids: FxHashMap<(PathId, Mode, String), CondId>,
    free_conds: Vec<CondId>,
    branches: Vec<Option<CompiledBranch>>,
    free_branches: Vec<u32>,
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
            for (f, field) in branch.fields.iter().enumerate() {
                let path = self.intern_path(&field.path);
                let mode = modes[b][f];
                let absent_ok = field.conditions.contains(&Condition::Exists(false));
                let mut conds: SmallVec<[CondId; 2]> = SmallVec::new();
                for c in field.conditions.iter().filter(|c| **c != Condition::Exists(false)) {
                    let cond = self.intern_cond(path, mode, c);
                    if !conds.contains(&cond) {
                        conds.push(cond);
                        if let Some(Some(entry)) = self.conds.get_mut(cond as usize) {
                            entry.uses += 1;
                        }
                    }
                }
                if absent_ok {
                    self.absent_fields[path as usize] += 1;
                    self.replan(path);
                }
                fields.push(CompiledField { path, path_text: field.path.clone(), conds, absent_ok });
            }
            let anchor = fields
                .iter()
                .enumerate()
                .filter(|(_, f)| !f.absent_ok)
                .min_by_key(|(_, f)| {
                    f.conds.iter().map(|&c| self.cond(c).map_or(0, |e| e.anchored.len() + e.uses as usize)).sum::<usize>()
                })
                .map(|(i, _)| i);
            match anchor {
                Some(a) => {
                    for &cond in &fields[a].conds {
                        if let Some(Some(entry)) = self.conds.get_mut(cond as usize) {
                            entry.anchored.push(branch_id);
                        }
                    }
                }
                None => self.always.push(branch_id),
            }
            self.branches[branch_id as usize] = Some(CompiledBranch { rule: id, empty_step, fields: fields.into(), anchor });
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
            if let Some(a) = branch.anchor {
                for &cond in &branch.fields[a].conds {
                    if let Some(Some(entry)) = self.conds.get_mut(cond as usize) {
                        entry.anchored.retain(|b| *b != branch_id);
                    }
                }
            }
            for field in branch.fields.iter() {
                for &cond in &field.conds {
                    self.release_cond(cond);
                }
                if field.absent_ok {
                    self.absent_fields[field.path as usize] -= 1;
                    self.replan(field.path);
                }
                self.release_path(&field.path_text);
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
                    self.plans.push(LeafPlan::default());
                    self.absent_fields.push(0);
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
        self.replan(path);
        self.cond_ids.insert((path, mode, key.clone()), id);
        self.conds[id as usize] = Some(Cond { path, mode, key, condition: c.clone(), uses: 0, anchored: Vec::new() });
        id
    }

    /// How leaves at path `p` are evaluated, from its conditions.
    fn eval_for(&self, p: usize) -> Eval {
        let Some(indexes) = self.indexes.get(p) else { return Eval::Nothing };
        let mut modes = MODES.iter().filter(|m| !indexes[**m as usize].is_empty());
        match (modes.next(), modes.next()) {
            (None, _) => Eval::Nothing,
            (Some(Mode::Raw), None) if indexes[Mode::Raw as usize].exact_only() => Eval::Exact,
            (Some(&m), None) => match indexes[m as usize].sole_part() {
                Some(part) => Eval::Part(m, part),
                None => Eval::One(m),
            },
            (Some(_), Some(_)) => Eval::Modes,
        }
    }

    fn replan(&mut self, path: PathId) {
        let p = path as usize;
        let eval = self.eval_for(p);
        let call: Option<LeafFn> = match eval {
            Eval::Nothing | Eval::Exact => None,
            Eval::Part(mode, part) => Some(PART_FNS[mode as usize][part as usize]),
            Eval::One(mode) => Some(ONE_FNS[mode as usize]),
            Eval::Modes => Some(evaluate_modes),
        };
        self.plans[p] = LeafPlan { exact: eval == Eval::Exact, listed: self.absent_fields[p] > 0, call };
    }

    fn cond(&self, id: CondId) -> Option<&Cond> {
        self.conds.get(id as usize).and_then(Option::as_ref)
    }

    fn release_cond(&mut self, id: CondId) {
        let Some(Some(cond)) = self.conds.get_mut(id as usize) else { return };
        cond.uses = cond.uses.saturating_sub(1);
        if cond.uses > 0 {
            return;
        }
        if let Some(cond) = self.conds[id as usize].take() {
            self.indexes[cond.path as usize][cond.mode as usize].remove(id, &cond.condition);
            self.replan(cond.path);
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
        let mut walk = std::mem::take(&mut s.walk);
        let read = flatten_with(event, &self.trie, &mut Collector { matcher: self, s: &mut *s }, &mut walk);
        s.walk = walk;
        read?;
        // Branches whose anchor field has a hit, each once.
        let gen = s.gen;
        let mut candidates = std::mem::take(&mut s.candidates);
        candidates.clear();
        candidates.extend_from_slice(&self.always);
        for &cond in &s.hit_conds {
            let Some(c) = self.cond(cond) else { continue };
            for &b in &c.anchored {
                if s.branch_stamp[b as usize] != gen {
                    s.branch_stamp[b as usize] = gen;
                    candidates.push(b);
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

/// A leaf of the event as the candidate check sees it: its array memberships (a range of
/// `Scratch::memberships`) and whether only rules with an empty step see it.
#[derive(Clone, Copy)]
struct Leaf {
    start: u32,
    len: u32,
    hidden: bool,
}

/// Per-event working state, reused between events; stamps with the event's generation number
/// replace clearing.
#[derive(Default)]
struct Scratch {
    gen: u32,
    /// Per condition: (stamp, head of its (leaf, next) list in `hits`), side by side so that a
    /// hit reads and writes one entry.
    conds: Vec<(u32, u32)>,
    hit_conds: Vec<CondId>,
    /// (leaf, next) linked lists of leaves per condition.
    hits: Vec<(Leaf, u32)>,
    path_stamp: Vec<u32>,
    path_head: Vec<u32>,
    /// `path_stamp`, `path_head`: (leaf, next) linked lists of leaves per path, kept only for
    /// paths with an `exists: false` field (the only ones asked whether they have a leaf).
    path_leaves: Vec<(Leaf, u32)>,
    /// Per path: stamped when a leaf there sits in an array or needs an empty step, so a
    /// candidate using the path needs the full search.
    search_stamp: Vec<u32>,
    memberships: Vec<(u32, u32)>,
    /// Some path has a `search_stamp` of this event.
    needs_search: bool,
    branch_stamp: Vec<u32>,
    candidates: Vec<u32>,
    walk: WalkBuffers,
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
        if self.conds.len() < m.conds.len() {
            self.conds.resize(m.conds.len(), (0, NONE));
        }
        grow(&mut self.path_stamp, m.indexes.len());
        grow(&mut self.path_head, m.indexes.len());
        grow(&mut self.search_stamp, m.indexes.len());
        grow(&mut self.branch_stamp, m.branches.len());
        self.hit_conds.clear();
        self.hits.clear();
        self.path_leaves.clear();
        self.memberships.clear();
        self.needs_search = false;
    }

    fn membership(&self, leaf: Leaf) -> &[(u32, u32)] {
        &self.memberships[leaf.start as usize..(leaf.start + leaf.len) as usize]
    }

    fn visible(leaf: Leaf, empty_step: bool) -> bool {
        empty_step || !leaf.hidden
    }

    /// Condition `cond` holds for `leaf`.
    #[inline(always)]
    fn hit(&mut self, cond: CondId, leaf: Leaf) {
        // Condition ids come from the matcher, whose `conds` this was grown to in `begin`.
        let Some(state) = self.conds.get_mut(cond as usize) else { return };
        let next = if state.0 != self.gen {
            state.0 = self.gen;
            self.hit_conds.push(cond);
            NONE
        } else {
            state.1
        };
        state.1 = self.hits.len() as u32;
        self.hits.push((leaf, next));
    }

    /// `leaf` is at path `p`, one with an `exists: false` field.
    #[inline(always)]
    fn list_leaf(&mut self, p: usize, leaf: Leaf) {
        if self.path_stamp[p] != self.gen {
            self.path_stamp[p] = self.gen;
            self.path_head[p] = NONE;
        }
        self.path_leaves.push((leaf, self.path_head[p]));
        self.path_head[p] = (self.path_leaves.len() - 1) as u32;
    }

    fn any_hit(&self, field: &CompiledField) -> bool {
        field.conds.iter().any(|&c| self.conds[c as usize].0 == self.gen)
    }

    fn path_has_leaf(&self, path: PathId) -> bool {
        self.path_stamp[path as usize] == self.gen
    }

    fn verify(&self, branch: &CompiledBranch) -> bool {
        if !self.needs_search || !branch.fields.iter().any(|f| self.search_stamp[f.path as usize] == self.gen) {
            return branch.fields.iter().all(|f| self.any_hit(f) || (f.absent_ok && !self.path_has_leaf(f.path)));
        }
        // A field that neither has a hit nor may be absent fails the search whatever the arrays
        // say: most candidates that fail, fail here, without the search.
        if !branch.fields.iter().all(|f| f.absent_ok || self.any_hit(f)) {
            return false;
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
            let (stamp, mut hit) = self.conds[cond as usize];
            if stamp != self.gen {
                continue;
            }
            while hit != NONE {
                let (leaf, next) = self.hits[hit as usize];
                let membership = self.membership(leaf);
                if Scratch::visible(leaf, empty_step) && consistent(chosen, membership) {
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
            if Scratch::visible(leaf, empty_step) && consistent(chosen, self.membership(leaf)) {
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
    // Inlined into the walker, which is iterative, so its one frame does not grow with depth.
    // The exact-string lookup is inlined with it; other evaluations are one call.
    #[inline(always)]
    fn leaf(&mut self, path: PathId, value: Scalar<'_>, membership: &[(u32, u32)], needs_empty_step: bool) {
        let s = &mut *self.s;
        let p = path as usize;
        let leaf = Leaf { start: s.memberships.len() as u32, len: membership.len() as u32, hidden: needs_empty_step };
        if !membership.is_empty() || needs_empty_step {
            s.memberships.extend_from_slice(membership);
            s.search_stamp[p] = s.gen;
            s.needs_search = true;
        }
        let Some(plan) = self.matcher.plans.get(p) else { return };
        if plan.listed {
            s.list_leaf(p, leaf);
        }
        if plan.exact {
            if let (Scalar::Str(text), Some(indexes)) = (&value, self.matcher.indexes.get(p)) {
                if let Some(ids) = indexes[Mode::Raw as usize].exact_ids(text) {
                    for &cond in ids {
                        s.hit(cond, leaf);
                    }
                }
            }
        } else if let Some(call) = plan.call {
            call(self.matcher, s, p, &value, leaf);
        }
    }
}

/// `evaluate_one` for each mode, by mode.
const ONE_FNS: [LeafFn; 3] = [evaluate_one::<0>, evaluate_one::<1>, evaluate_one::<2>];

/// A leaf at a path whose conditions are all in one reading mode (`MODES[MODE]`).
#[inline(never)]
fn evaluate_one<const MODE: usize>(matcher: &Matcher, s: &mut Scratch, p: usize, value: &Scalar<'_>, leaf: Leaf) {
    let Some(indexes) = matcher.indexes.get(p) else { return };
    indexes[MODE].eval(probe(value, MODES[MODE]), &mut |cond| s.hit(cond, leaf));
}

macro_rules! part_fns {
    ($mode:literal) => {
        [
            evaluate_part::<$mode, 0>,
            evaluate_part::<$mode, 1>,
            evaluate_part::<$mode, 2>,
            evaluate_part::<$mode, 3>,
            evaluate_part::<$mode, 4>,
            evaluate_part::<$mode, 5>,
            evaluate_part::<$mode, 6>,
            evaluate_part::<$mode, 7>,
            evaluate_part::<$mode, 8>,
            evaluate_part::<$mode, 9>,
        ]
    };
}

/// `evaluate_part` for each mode and part, by mode and part.
const PART_FNS: [[LeafFn; 10]; 3] = [part_fns!(0), part_fns!(1), part_fns!(2)];

/// A leaf at a path whose conditions are all in one reading mode and one part of its index
/// (`MODES[MODE]`, `Part::ALL[PART]`): the mode and the part are constants here, so only the
/// value's kind is tested.
#[inline(never)]
fn evaluate_part<const MODE: usize, const PART: usize>(
    matcher: &Matcher,
    s: &mut Scratch,
    p: usize,
    value: &Scalar<'_>,
    leaf: Leaf,
) {
    let Some(indexes) = matcher.indexes.get(p) else { return };
    indexes[MODE].eval_part(Part::ALL[PART], probe(value, MODES[MODE]), &mut |cond| s.hit(cond, leaf));
}

/// A leaf at a path with conditions in several reading modes: every condition its value meets
/// in each.
#[inline(never)]
fn evaluate_modes(matcher: &Matcher, s: &mut Scratch, p: usize, value: &Scalar<'_>, leaf: Leaf) {
    let Some(indexes) = matcher.indexes.get(p) else { return };
    for mode in MODES {
        let index = &indexes[mode as usize];
        if !index.is_empty() {
            index.eval(probe(value, mode), &mut |cond| s.hit(cond, leaf));
        }
    }
}

/// An event value as the conditions of one reading mode see it.
#[inline(always)]
fn probe<'v>(value: &'v Scalar<'_>, mode: Mode) -> Probe<'v> {
    match (value, mode) {
        (Scalar::Str(text), Mode::Ip) => match ip::parse(text) {
            Some(a) => Probe::Ip(a),
            None => Probe::Str(text),
        },
        (Scalar::Str(text), _) => Probe::Str(text),
        (Scalar::Num(text), Mode::Numeric) => match number::comparable_inline(text) {
            Some(v) => Probe::Value(v),
            None => Probe::Num(text),
        },
        (Scalar::Num(text), _) => Probe::Num(text),
        (Scalar::True, _) => Probe::Lit(Literal::True),
        (Scalar::False, _) => Probe::Lit(Literal::False),
        (Scalar::Null, _) => Probe::Lit(Literal::Null),
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

    /// The evaluation chosen for path `p` and whether its leaves are listed, checked against
    /// what the stored plan carries out (inline exact lookup, or a call, or neither).
    fn plan(m: &Matcher, p: usize) -> (Eval, bool) {
        let (eval, stored) = (m.eval_for(p), m.plans[p]);
        assert_eq!(stored.exact, eval == Eval::Exact);
        assert_eq!(stored.call.is_some(), !matches!(eval, Eval::Nothing | Eval::Exact));
        (eval, stored.listed)
    }

    #[test]
    fn leaf_plans_follow_the_rules() {
        let mut m = matcher(&[r#"{"a": ["x"]}"#]);
        let a = m.path_ids["a"] as usize;
        assert_eq!(plan(&m, a), (Eval::Exact, false));
        m.add_rule(2, &Pattern::parse(r#"{"a": [{"exists": false}], "b": [{"prefix": "y"}]}"#).unwrap());
        assert_eq!(plan(&m, a), (Eval::Exact, true));
        m.add_rule(3, &Pattern::parse(r#"{"a": [5]}"#).unwrap());
        assert_eq!(plan(&m, a).0, Eval::Modes);
        let b = m.path_ids["b"] as usize;
        assert_eq!(plan(&m, b).0, Eval::Part(Mode::Raw, Part::Prefixes));
        assert_eq!(&m.matches(r#"{"b": "yes"}"#).unwrap()[..], &[2]);
        assert_eq!(&m.matches(r#"{"a": "x", "b": "yes"}"#).unwrap()[..], &[0]);
        assert_eq!(&m.matches(r#"{"a": [5, "x"], "b": ["yes", 1]}"#).unwrap()[..], &[0, 3]);
        m.remove_rule(3);
        assert_eq!(plan(&m, a).0, Eval::Exact);
        m.remove_rule(2);
        assert_eq!(plan(&m, a), (Eval::Exact, false));
        assert_eq!(&m.matches(r#"{"a": "x", "b": "yes"}"#).unwrap()[..], &[0]);
        m.remove_rule(0);
        assert!((0..m.plans.len()).all(|p| plan(&m, p) == (Eval::Nothing, false)));
    }

    #[test]
    fn only_candidates_on_array_paths_need_the_search() {
        let patterns = [r#"{"a": ["x"], "b": ["y"]}"#, r#"{"c": {"d": [1], "e": [{"exists": false}]}}"#];
        let m = matcher(&patterns);
        let plain_and_array = r#"{"a": "x", "b": "y", "c": [{"d": 2}, {"d": 1}]}"#;
        let same_element = r#"{"a": "x", "b": ["z", "y"], "c": [{"d": 1, "e": 0}, {"d": 3}]}"#;
        for (event, want) in [(plain_and_array, &[0, 1][..]), (same_element, &[0][..])] {
            assert_eq!(&m.matches(event).unwrap()[..], want, "{event}");
            for (i, p) in patterns.iter().enumerate() {
                let alone = Pattern::parse(p).unwrap().matches(event).unwrap();
                assert_eq!(alone, want.contains(&(i as RuleId)), "{p} {event}");
            }
        }
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

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    const KEYS: &[&str] = &["a", "b", "c"];

    fn condition() -> impl Strategy<Value = String> {
        let word = prop::sample::select(vec!["x", "xy", "y", "10.0.0.1", "", "X"]);
        let num = prop::sample::select(vec!["0", "1", "1.0", "-2.5", "1e2", "9007199254740993"]);
        prop_oneof![
            word.clone().prop_map(|w| format!("\"{w}\"")),
            num.clone().prop_map(str::to_string),
            Just("null".to_string()),
            Just("true".to_string()),
            word.clone().prop_map(|w| format!(r#"{{"prefix":"{w}"}}"#)),
            word.clone().prop_map(|w| format!(r#"{{"suffix":"{w}"}}"#)),
            word.clone().prop_map(|w| format!(r#"{{"equals-ignore-case":"{w}"}}"#)),
            word.clone().prop_map(|w| format!(r#"{{"wildcard":"{w}*"}}"#)),
            word.clone().prop_map(|w| format!(r#"{{"anything-but":"{w}"}}"#)),
            num.clone().prop_map(|n| format!(r#"{{"anything-but":[{n}]}}"#)),
            num.clone().prop_map(|n| format!(r#"{{"numeric":[">=",{n}]}}"#)),
            Just(r#"{"cidr":"10.0.0.0/8"}"#.to_string()),
            any::<bool>().prop_map(|b| format!(r#"{{"exists":{b}}}"#)),
        ]
    }

    fn field() -> impl Strategy<Value = String> {
        (prop::sample::select(KEYS), prop::sample::select(KEYS), any::<bool>(), prop::collection::vec(condition(), 1..3))
            .prop_map(|(k1, k2, nested, conds)| {
                let values = conds.join(",");
                if nested {
                    format!(r#""{k1}":{{"{k2}":[{values}]}}"#)
                } else {
                    format!(r#""{k1}":[{values}]"#)
                }
            })
    }

    fn pattern() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::collection::vec(field(), 1..3).prop_map(|f| format!("{{{}}}", f.join(","))),
            (field(), field(), field()).prop_map(|(a, b, c)| format!(r#"{{{a},"$or":[{{{b}}},{{{c}}}]}}"#)),
        ]
    }

    fn scalar() -> impl Strategy<Value = String> {
        prop::sample::select(vec![
            "\"x\"",
            "\"xy\"",
            "\"X\"",
            "\"\"",
            "\"10.0.0.1\"",
            "1",
            "1.0",
            "100",
            "-2.5",
            "null",
            "true",
            "9007199254740993",
        ])
        .prop_map(str::to_string)
    }

    fn event_value() -> impl Strategy<Value = String> {
        let leaf = scalar();
        leaf.prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec((prop::sample::select(KEYS), inner), 0..3).prop_map(|kv| format!(
                    "{{{}}}",
                    kv.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect::<Vec<_>>().join(",")
                )),
            ]
        })
    }

    fn event() -> impl Strategy<Value = String> {
        prop::collection::vec((prop::sample::select(KEYS), event_value()), 0..4)
            .prop_map(|kv| format!("{{{}}}", kv.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect::<Vec<_>>().join(",")))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// A matcher holding many rules gives each rule the verdict it gets alone.
        #[test]
        fn many_rules_agree_with_each_rule_alone(patterns in prop::collection::vec(pattern(), 1..12), events in prop::collection::vec(event(), 1..6)) {
            let parsed: Vec<Pattern> = patterns.iter().filter_map(|p| Pattern::parse(p).ok()).collect();
            let mut all = Matcher::new();
            for (i, p) in parsed.iter().enumerate() {
                all.add_rule(i as RuleId, p);
            }
            for e in &events {
                let together = all.matches(e).expect("generated events are valid");
                for (i, p) in parsed.iter().enumerate() {
                    let alone = p.matches(e).expect("valid event");
                    prop_assert_eq!(together.contains(&(i as RuleId)), alone, "pattern {:?} event {}", p, e);
                }
            }
        }

        /// Arbitrary text never panics the pattern parser or the matcher.
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,64}", json_like in "[\\[\\]{}\":,0-9a-z.\\\\ -]{0,64}") {
            let _ = Pattern::parse(&text);
            let _ = Pattern::parse(&json_like);
            let m = {
                let mut m = Matcher::new();
                m.add_rule(1, &Pattern::parse(r#"{"a":[{"exists":false}],"b":{"c":["x"]}}"#).expect("valid"));
                m
            };
            let _ = m.matches(&text);
            let _ = m.matches(&json_like);
        }
    }
}
