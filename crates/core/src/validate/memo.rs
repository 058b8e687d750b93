//! Remembered answers of the catalog searches that validation repeats: a batch meets the same
//! imports and the same misspelt classes again and again (in every answer of a run, and in every
//! fix pass of one answer), and the "did you mean" searches behind them are most of what
//! validating a broken file costs. Each memo is bounded (cleared when full) and holds only what
//! is a function of its key and the embedded catalog, so a remembered answer is the answer.

use rustc_hash::FxHashMap as HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Bumped by [`forget`]: a memo filled under an older generation starts empty.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Forgets everything every memo remembers, so that a benchmark pass pays for its own
/// searches, as a fresh process would.
pub fn forget() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// A bounded map from a search's arguments to its result (a plain Mutex also works on
/// single-threaded wasm).
pub(crate) struct Memo<K, V> {
    entries: Mutex<Option<(u64, HashMap<K, V>)>>,
    capacity: usize,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    pub(crate) const fn new(capacity: usize) -> Self {
        Memo { entries: Mutex::new(None), capacity }
    }

    /// The remembered result for `key`, or `compute()`'s, remembered. `compute` runs without
    /// the lock held (it may use other memos).
    pub(crate) fn get_or_compute(&self, key: K, compute: impl FnOnce() -> V) -> V {
        let generation = GENERATION.load(Ordering::Relaxed);
        if let Ok(mut guard) = self.entries.lock()
            && let Some((g, map)) = guard.as_mut()
        {
            if *g != generation {
                *guard = None;
            } else if let Some(v) = map.get(&key) {
                return v.clone();
            }
        }
        let value = compute();
        if let Ok(mut guard) = self.entries.lock() {
            let (g, map) = guard.get_or_insert_with(|| (generation, HashMap::default()));
            if *g != generation || map.len() >= self.capacity {
                *g = generation;
                map.clear();
            }
            map.insert(key, value.clone());
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_until_full_or_forgotten() {
        static M: Memo<u32, u32> = Memo::new(2);
        let calls = std::cell::Cell::new(0);
        let get = |k: u32| {
            M.get_or_compute(k, || {
                calls.set(calls.get() + 1);
                k * 10
            })
        };
        assert_eq!((get(1), get(1), get(2)), (10, 10, 20));
        assert_eq!(calls.get(), 2);
        get(3); // full: cleared, then 3 kept
        get(1);
        assert_eq!(calls.get(), 4);
        forget();
        get(1);
        assert_eq!(calls.get(), 5);
    }
}
