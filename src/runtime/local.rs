//! Per-thread copies of programs, so cores running the same state machine share no reference
//! counts.
//!
//! Executions clone the program's constants into their values (object keys, literal strings,
//! `Result` documents): each clone and drop is an atomic increment or decrement on the
//! program's `Arc`s. With one program shared by every worker, two cores running the same
//! workflow bounce those cache lines between them on every state. Each worker thread therefore
//! compiles its own copy of a program the first time it runs it (from `Program::source`,
//! tens of microseconds once) and uses that copy from then on.
//!
//! Invariants:
//! - A copy is keyed by the address of the shared program's allocation, and the cache holds a
//!   `Weak` to it: the allocation cannot be freed and reused while the entry exists, so an
//!   address always means the same program. Entries whose program is gone are evicted.
//! - A copy behaves exactly as the shared program (same definition, same compiler). Should
//!   recompiling fail (it cannot for a program that compiled once), the shared program is used.
//! - The lookup reads the shared `Arc`'s counts (a load) but never writes them.

use std::cell::RefCell;
use std::sync::{Arc, Weak};

use rustc_hash::FxHashMap;

use crate::compile::compile;
use crate::program::Program;

/// Evict dead entries once a thread's cache holds this many.
const SWEEP_AT: usize = 64;

struct Entry {
    shared: Weak<Program>,
    local: Arc<Program>,
}

thread_local! {
    static COPIES: RefCell<FxHashMap<usize, Entry>> = RefCell::new(FxHashMap::default());
}

/// This thread's copy of `shared`.
pub(super) fn local_program(shared: &Arc<Program>) -> Arc<Program> {
    let key = Arc::as_ptr(shared) as usize;
    let found = COPIES.with(|c| c.try_borrow().ok().and_then(|map| map.get(&key).map(|e| Arc::clone(&e.local))));
    if let Some(local) = found {
        return local;
    }
    let Ok(copy) = compile(&shared.source) else {
        return Arc::clone(shared);
    };
    let local = Arc::new(copy);
    COPIES.with(|c| {
        if let Ok(mut map) = c.try_borrow_mut() {
            if map.len() >= SWEEP_AT {
                map.retain(|_, e| e.shared.strong_count() > 0);
            }
            map.insert(key, Entry { shared: Arc::downgrade(shared), local: Arc::clone(&local) });
        }
    });
    local
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::compile_str;

    #[test]
    fn a_thread_reuses_its_copy_and_threads_do_not_share_one() {
        let shared = Arc::new(compile_str(r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#).unwrap());
        let a = local_program(&shared);
        let b = local_program(&shared);
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &shared));
        let other = std::thread::scope(|s| s.spawn(|| local_program(&shared)).join().unwrap());
        assert!(!Arc::ptr_eq(&a, &other));
        assert_eq!(a.states.len(), shared.states.len());
    }

    #[test]
    fn dead_programs_are_swept() {
        for _ in 0..(SWEEP_AT * 2) {
            let p = Arc::new(compile_str(r#"{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}"#).unwrap());
            local_program(&p);
        }
        COPIES.with(|c| assert!(c.borrow().len() <= SWEEP_AT));
    }
}
