//! The result of validating one file: the verdict, the DAGs found and the findings.

use serde::Serialize;

use crate::finding::{Finding, Severity};
use crate::rules;

/// A dependency between two tasks, by full task id (group prefixes included).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Edge {
    pub upstream: String,
    pub downstream: String,
}

/// One DAG as dagsmith understood it, without running the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DagSummary {
    /// `None` when the id is computed at run time and cannot be known statically.
    pub dag_id: Option<String>,
    /// Line of the `DAG(...)` call or of the `@dag` function.
    pub line: u32,
    /// Task ids in creation order, group prefixes included.
    pub tasks: Vec<String>,
    /// Edges between tasks whose ids are known.
    pub edges: Vec<Edge>,
    /// Tasks whose ids cannot be known statically (e.g. made in a loop over runtime data).
    pub dynamic_tasks: u32,
}

/// Everything `validate` says about one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The target Airflow version the rules were applied for.
    pub airflow_version: String,
    /// Our prediction: real Airflow of that version imports the file without error and finds at
    /// least one DAG.
    pub loads: bool,
    pub dags: Vec<DagSummary>,
    /// Sorted by position, then code.
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.severity == Severity::Error)
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == severity).count()
    }

    /// Keeps the findings for which `keep` is true: the user's rule selection or `# noqa`
    /// comments. When every error that made the file fail is dropped, it is predicted to load,
    /// unless one of them was a syntax or compile error (DS0xx): Python refuses such a file
    /// whatever the user says.
    pub fn retain_findings(&mut self, mut keep: impl FnMut(&Finding) -> bool) {
        let had_errors = self.errors().next().is_some();
        let mut dropped_syntax = false;
        self.findings.retain(|f| {
            let kept = keep(f);
            if !kept && (f.code == rules::SYNTAX_ERROR.code || f.code == rules::COMPILE_ERROR.code)
            {
                dropped_syntax = true;
            }
            kept
        });
        if !self.loads && had_errors {
            self.loads = !dropped_syntax && self.errors().next().is_none();
        }
    }
}
