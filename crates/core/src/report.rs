//! The result of validating one file: the verdict, the DAGs found and the findings.

use serde::Serialize;

use crate::finding::{Finding, Severity};

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
}
