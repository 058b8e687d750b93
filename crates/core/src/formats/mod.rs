//! Machine-readable report formats: JSON, JSONL, CSV, SARIF 2.1.0, and CI annotations (GitHub
//! Actions workflow commands, GitLab Code Quality).
//!
//! Every function takes the validated inputs in order, as [`Entry`] values, and returns the whole
//! document as a `String` (no I/O here). An entry is either a file or a dataset row that was
//! validated, or one that could not be read or parsed (then `error` is set, `loads` is false and
//! there are no DAGs or findings).
//!
//! * [`to_json`]: one JSON array of entry objects (pretty-printed).
//! * [`to_jsonl`]: one compact entry object per line.
//! * [`to_csv`]: one row per entry, RFC 4180, with the columns of airflow-net's
//!   `dag_validation_report.csv` first (see [`CSV_COLUMNS`]).
//! * [`to_sarif`]: a SARIF 2.1.0 log for GitHub code scanning.
//! * [`to_github`]: GitHub Actions workflow commands (`::error file=…,line=…::…`), one line per
//!   finding, which annotate a pull request's diff.
//! * [`to_gitlab`]: a GitLab Code Quality report (a JSON array of issues), for merge requests.
//!
//! Entry object (JSON and JSONL):
//!
//! ```json
//! {"path": "dags/etl.py", "airflow_version": "3.1", "loads": true,
//!  "dags": [{"dag_id": "etl", "line": 5, "tasks": ["a", "b"],
//!            "edges": [{"upstream": "a", "downstream": "b"}], "dynamic_tasks": 0}],
//!  "findings": [{"code": "DS103", "severity": "warning", "line": 9, "column": 5,
//!                "end_line": 9, "end_column": 12, "message": "...", "fix": "...",
//!                "autofix": {"applicability": "safe", "message": "add `import os`",
//!                            "edits": [{"start": 0, "end": 0, "content": "import os\n",
//!                                       "line": 1, "column": 1, "end_line": 1, "end_column": 1}]}}],
//!  "applied_fixes": [{"code": "DS204", "applicability": "safe", "message": "...", "line": 2}]}
//! ```
//!
//! A dataset row's path is `FILE#N`, N being its 1-based line number; its findings' lines are
//! lines of the code taken out of the row's assistant turn. `fix` (a hint for people) and
//! `autofix` (the edit dagsmith can make, see [`crate::fix`]) are omitted when there is none;
//! `applied_fixes` lists what `--fix` changed and is omitted when nothing was; `error` is present
//! only for inputs that could not be validated. SARIF results carry `autofix` as SARIF `fixes`.

use std::str::FromStr;

use crate::fix::AppliedFix;
use crate::report::Report;

mod csv;
mod github;
mod gitlab;
mod json;
mod sarif;
#[cfg(test)]
mod tests;

pub use csv::{CSV_COLUMNS, csv_field, to_csv};
pub use github::to_github;
pub use gitlab::to_gitlab;
pub use json::{to_json, to_jsonl};
pub use sarif::{path_to_uri, sarif_level, to_sarif};

/// Where the project lives; SARIF's `informationUri`.
pub const INFORMATION_URI: &str = "https://github.com/dagsmith/dagsmith";

/// One validated (or unreadable) input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The file as given on the command line or found in a directory (`<stdin>` for stdin).
    pub file: String,
    /// 1-based line number of a dataset row in `file`; `None` for a whole file.
    pub row: Option<usize>,
    pub report: Report,
    /// Why the input could not be validated (unreadable file, malformed dataset row, ...).
    pub error: Option<String>,
    /// The fixes applied to the input before `report` was made (`--fix`).
    pub applied_fixes: Vec<AppliedFix>,
}

impl Entry {
    /// A validated file.
    pub fn file(file: impl Into<String>, report: Report) -> Self {
        Entry { file: file.into(), row: None, report, error: None, applied_fixes: Vec::new() }
    }

    /// A validated dataset row.
    pub fn row(file: impl Into<String>, row: usize, report: Report) -> Self {
        Entry { file: file.into(), row: Some(row), report, error: None, applied_fixes: Vec::new() }
    }

    /// An input that could not be validated: `loads` is false, no DAGs, no findings.
    pub fn failed(
        file: impl Into<String>,
        row: Option<usize>,
        airflow_version: impl Into<String>,
        error: impl Into<String>,
    ) -> Self {
        Entry {
            file: file.into(),
            row,
            report: Report {
                airflow_version: airflow_version.into(),
                loads: false,
                dags: Vec::new(),
                findings: Vec::new(),
            },
            error: Some(error.into()),
            applied_fixes: Vec::new(),
        }
    }

    /// `file`, or `file#N` for a dataset row.
    pub fn path(&self) -> String {
        match self.row {
            Some(n) => format!("{}#{n}", self.file),
            None => self.file.clone(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.error.is_some()
    }
}

/// The machine-readable formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Json,
    Jsonl,
    Csv,
    Sarif,
    Github,
    Gitlab,
}

impl Format {
    pub const ALL: [Format; 6] =
        [Format::Json, Format::Jsonl, Format::Csv, Format::Sarif, Format::Github, Format::Gitlab];

    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
            Format::Sarif => "sarif",
            Format::Github => "github",
            Format::Gitlab => "gitlab",
        }
    }

    pub fn render(self, entries: &[Entry]) -> String {
        match self {
            Format::Json => to_json(entries),
            Format::Jsonl => to_jsonl(entries),
            Format::Csv => to_csv(entries),
            Format::Sarif => to_sarif(entries),
            Format::Github => to_github(entries),
            Format::Gitlab => to_gitlab(entries),
        }
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL.into_iter().find(|f| f.name().eq_ignore_ascii_case(s)).ok_or_else(|| {
            format!("unknown format {s:?}: expected json, jsonl, csv, sarif, github or gitlab")
        })
    }
}
