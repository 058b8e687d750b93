//! A finding's hint for people ("did you mean `PythonOperator`?"): written when the finding is
//! made, or found by a catalog search the first time someone reads it.
//!
//! The searches behind "did you mean" are most of what validating a file with hallucinated
//! imports costs, and most findings never have their hint read: a batch counts verdicts, and the
//! fixes replace a wrong import (validating the file again) before anyone looks. So a hint that
//! needs a search keeps the search and runs it once, when first read; every copy of the
//! finding shares the result.

use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::{Serialize, Serializer};

/// How to fix a finding, when that is clear (JSON `"fix"`; absent when there is none).
#[derive(Clone, Default)]
pub struct Hint(Inner);

#[derive(Clone, Default)]
enum Inner {
    #[default]
    None,
    Text(String),
    Later(Arc<Search>),
}

type SearchFn = dyn Fn() -> Option<String> + Send + Sync;

struct Search {
    run: Box<SearchFn>,
    found: OnceLock<Option<String>>,
}

impl Hint {
    /// A hint that `search` finds (or not) the first time it is read.
    pub fn later(search: impl Fn() -> Option<String> + Send + Sync + 'static) -> Hint {
        Hint(Inner::Later(Arc::new(Search { run: Box::new(search), found: OnceLock::new() })))
    }

    /// The hint's text; a hint still to be searched for is searched for now, once.
    pub fn text(&self) -> Option<&str> {
        match &self.0 {
            Inner::None => None,
            Inner::Text(text) => Some(text),
            Inner::Later(search) => search.found.get_or_init(|| (search.run)()).as_deref(),
        }
    }

    /// Whether there is no hint (which may take the search).
    pub fn is_none(&self) -> bool {
        self.text().is_none()
    }

    /// The text, owned.
    pub fn to_option(&self) -> Option<String> {
        self.text().map(str::to_string)
    }
}

impl From<Option<String>> for Hint {
    fn from(text: Option<String>) -> Hint {
        text.map_or(Hint(Inner::None), |t| Hint(Inner::Text(t)))
    }
}

impl From<String> for Hint {
    fn from(text: String) -> Hint {
        Hint(Inner::Text(text))
    }
}

impl From<&str> for Hint {
    fn from(text: &str) -> Hint {
        Hint(Inner::Text(text.to_string()))
    }
}

/// Hints compare by their text.
impl PartialEq for Hint {
    fn eq(&self, other: &Hint) -> bool {
        self.text() == other.text()
    }
}

impl Eq for Hint {}

impl fmt::Debug for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.text().fmt(f)
    }
}

impl Serialize for Hint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.text().serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_search_runs_once_when_first_read_and_copies_share_it() {
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let hint = Hint::later(|| {
            RUNS.fetch_add(1, Ordering::Relaxed);
            Some("did you mean `BashOperator`?".into())
        });
        let copy = hint.clone();
        assert_eq!(RUNS.load(Ordering::Relaxed), 0);
        assert_eq!(copy.text(), Some("did you mean `BashOperator`?"));
        assert_eq!(hint.text(), Some("did you mean `BashOperator`?"));
        assert_eq!(RUNS.load(Ordering::Relaxed), 1);
        assert_eq!(hint, Hint::from("did you mean `BashOperator`?"));
    }

    #[test]
    fn a_search_that_finds_nothing_is_no_hint() {
        let hint = Hint::later(|| None);
        assert!(hint.is_none());
        assert_eq!(hint, Hint::default());
        assert_eq!(serde_json::to_string(&hint).unwrap(), "null");
        assert_eq!(serde_json::to_string(&Hint::from("x")).unwrap(), "\"x\"");
    }
}
