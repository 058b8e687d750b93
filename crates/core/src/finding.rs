//! A finding: one problem the validator reports, with a stable rule code and a span.

use serde::Serialize;

use crate::fix::Fix;
use crate::hint::Hint;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Style or information; never changes the verdict.
    Info,
    /// Likely a bug, but Airflow will still import the file.
    Warning,
    /// Airflow will refuse the file or the DAG.
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A 1-based line/column position. Columns count Unicode code points.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

/// One problem found in a DAG file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable rule code, e.g. `DS102` (see `dagsmith rules`).
    pub code: &'static str,
    pub severity: Severity,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub message: String,
    /// How to fix it, when that is clear: a hint for people (JSON `"fix"`), perhaps a search
    /// made when first read (see [`Hint`]).
    #[serde(skip_serializing_if = "Hint::is_none")]
    pub fix: Hint,
    /// The edit that fixes it, when dagsmith can make it (JSON `"autofix"`; see [`crate::fix`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autofix: Option<Fix>,
}

impl Finding {
    pub fn start(&self) -> Position {
        Position { line: self.line, column: self.column }
    }
}
