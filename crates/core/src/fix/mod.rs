//! Fixes: deterministic rewrites that resolve a finding, ruff-style.
//!
//! A [`Finding`](crate::Finding) may carry a structured [`Fix`] (`Finding::autofix`) next to its
//! free-text hint (`Finding::fix`). A fix is a set of byte-range [`Edit`]s on the validated
//! source, a message phrased as a concrete edit ("replace `X` with `Y`") and an
//! [`Applicability`]: `Safe` fixes keep what the DAG does (an import path that names the same
//! class, a renamed argument with the same meaning); `Unsafe` ones guess what the author meant
//! (a misspelt class or argument, a task attached to the file's DAG) and are applied only when
//! asked for (`--unsafe-fixes`).
//!
//! [`fix_source`] applies them: non-overlapping fixes per pass, each one validated again right
//! after it is applied and reverted when it adds an error or loses a DAG or task, repeated until
//! nothing changes (at most [`MAX_PASSES`] passes).
//!
//! JSON shape (in reports, under each finding's `"autofix"`, omitted when there is none):
//!
//! ```json
//! {"applicability": "safe", "message": "replace `schedule_interval=` with `schedule=`",
//!  "edits": [{"start": 120, "end": 137, "content": "schedule",
//!             "line": 7, "column": 5, "end_line": 7, "end_column": 22}]}
//! ```
//!
//! `start`/`end` are byte offsets into the validated source (UTF-8), `line`/`column` the same
//! span as 1-based positions in Unicode code points (like findings); `end == start` is an
//! insertion, an empty `content` a deletion. Edits are sorted and do not overlap.

mod apply;
mod diff;

use serde::{Deserialize, Serialize};

pub use apply::{MAX_PASSES, apply_edits, fix_source, fix_source_from, fix_source_selected};
pub use diff::unified_diff;

/// Whether a fix keeps the DAG's meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// Keeps what the DAG does (the same class from its real module, an argument's new name).
    Safe,
    /// A best guess at what was meant; applied only with `--unsafe-fixes`.
    Unsafe,
}

impl Applicability {
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::Safe => "safe",
            Applicability::Unsafe => "unsafe",
        }
    }
}

/// One text replacement.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Edit {
    /// Byte offset of the first replaced byte.
    pub start: u32,
    /// Byte offset after the last replaced byte (`== start` for an insertion).
    pub end: u32,
    /// The new text (empty for a deletion).
    pub content: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

/// A rewrite that resolves a finding.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Fix {
    pub applicability: Applicability,
    /// What the fix does, as a concrete edit: "replace `X` with `Y`".
    pub message: String,
    /// Sorted by `start`, non-overlapping.
    pub edits: Vec<Edit>,
}

impl Fix {
    /// The byte span from the first edit's start to the last edit's end.
    pub fn span(&self) -> (u32, u32) {
        let start = self.edits.iter().map(|e| e.start).min().unwrap_or(0);
        let end = self.edits.iter().map(|e| e.end).max().unwrap_or(0);
        (start, end)
    }
}

/// Which fixes [`fix_source`] applies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FixMode {
    /// Only fixes that keep the DAG's meaning.
    #[default]
    Safe,
    /// Also the guesses (`--unsafe-fixes`).
    SafeAndUnsafe,
}

impl FixMode {
    pub fn allows(self, applicability: Applicability) -> bool {
        match self {
            FixMode::Safe => applicability == Applicability::Safe,
            FixMode::SafeAndUnsafe => true,
        }
    }
}

/// A fix that [`fix_source`] applied and kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AppliedFix {
    /// The rule of the finding it resolved, e.g. `DS203`.
    pub code: &'static str,
    pub applicability: Applicability,
    /// The fix's message ("replace `X` with `Y`").
    pub message: String,
    /// The finding's line in the source as it was when the fix was applied.
    pub line: u32,
}

/// What [`fix_source`] made of a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FixOutcome {
    /// The fixed source (the input itself when no fix applied).
    pub source: String,
    /// The fixes kept, in the order they were applied.
    pub applied: Vec<AppliedFix>,
    /// The validation report of `source`.
    pub report: crate::Report,
}

impl FixOutcome {
    /// Findings of the fixed source that still have a fix `mode` does not apply (or that could
    /// not be applied without adding an error).
    pub fn fixable_remaining(&self, mode: FixMode) -> usize {
        self.report
            .findings
            .iter()
            .filter(|f| f.autofix.as_ref().is_some_and(|x| !mode.allows(x.applicability)))
            .count()
    }
}
