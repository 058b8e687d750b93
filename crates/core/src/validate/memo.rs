//! Remembered answers of the catalog searches that validation repeats: a batch meets the same
//! imports and the same misspelt classes again and again (in every answer of a run, and in every
//! fix pass of one answer), and the "did you mean" searches behind them are most of what
//! validating a broken file costs. Each memo is bounded (cleared when full) and holds only what
//! is a function of its key and the embedded catalog, so a remembered answer is the answer.

use rustc_hash::FxHashMap as HashMap;
use std::borrow::Borrow;
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
        if let Some(v) = self.remembered(&key) {
            return v;
        }
        let value = compute();
        self.remember(key, value.clone());
        value
    }

    /// [`Self::get_or_compute`] looked up by a borrowed form of the key, which is made owned
    /// (`owned`) only when the result is computed: most lookups hit, and building the key was
    /// most of their cost.
    pub(crate) fn get_or_compute_by<Q: Eq + Hash + ?Sized>(
        &self,
        key: &Q,
        owned: impl FnOnce(&Q) -> K,
        compute: impl FnOnce() -> V,
    ) -> V
    where
        K: Borrow<Q>,
    {
        if let Some(v) = self.remembered(key) {
            return v;
        }
        let value = compute();
        self.remember(owned(key), value.clone());
        value
    }

    fn remembered<Q: Eq + Hash + ?Sized>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        let generation = GENERATION.load(Ordering::Relaxed);
        let mut guard = self.entries.lock().ok()?;
        let (g, map) = guard.as_mut()?;
        if *g != generation {
            *guard = None;
            return None;
        }
        map.get(key).cloned()
    }

    fn remember(&self, key: K, value: V) {
        let generation = GENERATION.load(Ordering::Relaxed);
        if let Ok(mut guard) = self.entries.lock() {
            let (g, map) = guard.get_or_insert_with(|| (generation, HashMap::default()));
            if *g != generation || map.len() >= self.capacity {
                *g = generation;
                map.clear();
            }
            map.insert(key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Taken by every test here: one's `forget()` would empty the other's memo mid-test.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

    #[test]
    fn remembers_until_full_or_forgotten() {
        let _turn = ONE_AT_A_TIME.lock();
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

    #[test]
    fn looks_up_by_a_borrowed_key_and_owns_it_only_when_computing() {
        let _turn = ONE_AT_A_TIME.lock();
        static M: Memo<String, usize> = Memo::new(8);
        let (calls, owned) = (std::cell::Cell::new(0), std::cell::Cell::new(0));
        let get = |k: &str| {
            M.get_or_compute_by(
                k,
                |k| {
                    owned.set(owned.get() + 1);
                    k.to_string()
                },
                || {
                    calls.set(calls.get() + 1);
                    k.len()
                },
            )
        };
        assert_eq!((get("abc"), get("abc"), get("de"), get("abc")), (3, 3, 2, 3));
        assert_eq!((calls.get(), owned.get()), (2, 2));
        assert_eq!(M.get_or_compute("de".to_string(), || 99), 2, "one map for both ways");
    }
}
