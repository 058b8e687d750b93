//! Scoring: validating each labelled file with dagsmith and counting the figures against Airflow's
//! verdict.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use dagsmith_core::{AirflowVersion, Finding, Report, ValidateOptions, validate_named};
use serde_json::{Value, json};

use crate::NEVER_ON_LOADING_FILES;
use crate::labels::{AirflowDag, Label};

/// `hits` out of `total`.
#[derive(Clone, Copy, Default)]
pub(crate) struct Ratio {
    pub(crate) hits: usize,
    pub(crate) total: usize,
}

impl Ratio {
    pub(crate) fn add(&mut self, hit: bool) {
        self.total += 1;
        self.hits += usize::from(hit);
    }

    /// The share, rounded to 4 decimals as printed; 1 when there is nothing to score.
    pub(crate) fn value(self) -> f64 {
        if self.total == 0 { 1.0 } else { round4(self.hits as f64 / self.total as f64) }
    }

    pub(crate) fn show(self) -> String {
        if self.total == 0 {
            "n/a (0/0)".to_owned()
        } else {
            format!("{:.4} ({}/{})", self.value(), self.hits, self.total)
        }
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

pub(crate) struct Metrics {
    pub(crate) set: &'static str,
    pub(crate) version: String,
    pub(crate) airflow_loads: usize,
    pub(crate) agreement: Ratio,
    /// Airflow loads it, we say it does not: (id, our error findings).
    pub(crate) false_alarms: Vec<(String, Vec<String>)>,
    pub(crate) misses: usize,
    pub(crate) line_hits: Ratio,
    pub(crate) dag_ids: Ratio,
    pub(crate) task_ids: Ratio,
    pub(crate) edges: Ratio,
    /// Files both load whose DAG ids, task ids and edges all equal Airflow's.
    pub(crate) structure: Ratio,
    /// Files Airflow loads where a rule of `NEVER_ON_LOADING_FILES` fired: (id, findings).
    pub(crate) forbidden: Vec<(String, Vec<String>)>,
    pub(crate) agreement_by_kind: BTreeMap<String, Ratio>,
    /// Misses per failure key (see `Label::failure_key`).
    pub(crate) miss_groups: BTreeMap<String, usize>,
    pub(crate) disagreements: Vec<Value>,
    /// Files whose validation panicked.
    pub(crate) panics: Vec<String>,
}

impl Metrics {
    pub(crate) fn gated(&self, key: &str) -> f64 {
        match key {
            "agreement" => self.agreement.value(),
            "false_alarms" => self.false_alarms.len() as f64,
            "line_hits" => self.line_hits.value(),
            "structure" => self.structure.value(),
            _ => unreachable!("not a gated figure: {key}"),
        }
    }

    /// `corpus 2.11.2`: the column title and baseline key.
    pub(crate) fn name(&self) -> String {
        format!("{} {}", self.set, self.version)
    }
}

/// Whether dagsmith's DAGs of a file match Airflow's: (ids, task ids, edges).
///
/// A DAG whose id dagsmith cannot know (`dag_id: None`, e.g. `str(uuid4())`) stands for one of
/// Airflow's DAGs that no known id names; a DAG all of whose tasks dagsmith cannot name
/// (no known task, `dynamic_tasks > 0`: a SubDAG built by a factory from another module, tasks
/// made in loops over run-time data) is compared by its id only. Everything dagsmith does
/// name must be what Airflow found.
fn compare_dags(report: &Report, theirs: &[AirflowDag]) -> (bool, Option<(bool, bool)>) {
    let mut unmatched: Vec<&AirflowDag> = theirs.iter().collect();
    let mut pairs: Vec<(&dagsmith_core::DagSummary, &AirflowDag)> = Vec::new();
    let mut same_ids = true;
    for dag in report.dags.iter().filter(|d| d.dag_id.is_some()) {
        match unmatched.iter().position(|t| Some(&t.id) == dag.dag_id.as_ref()) {
            Some(i) => pairs.push((dag, unmatched.remove(i))),
            None => same_ids = false,
        }
    }
    for dag in report.dags.iter().filter(|d| d.dag_id.is_none()) {
        // The unknown id goes with the Airflow DAG of the same tasks, else the first left.
        let ours: BTreeSet<&String> = dag.tasks.iter().collect();
        let i = unmatched
            .iter()
            .position(|t| {
                t.tasks.as_ref().is_some_and(|ts| ts.iter().collect::<BTreeSet<_>>() == ours)
            })
            .or((!unmatched.is_empty()).then_some(0));
        match i {
            Some(i) => pairs.push((dag, unmatched.remove(i))),
            None => same_ids = false,
        }
    }
    same_ids &= unmatched.is_empty();
    let mut same_tasks = true;
    let mut same_edges = true;
    for (ours, theirs) in pairs {
        let (Some(their_tasks), Some(their_edges)) = (&theirs.tasks, &theirs.edges) else {
            return (same_ids, None);
        };
        if ours.tasks.is_empty() && ours.dynamic_tasks > 0 {
            continue;
        }
        let tasks: BTreeSet<String> = ours.tasks.iter().cloned().collect();
        let edges: BTreeSet<(String, String)> =
            ours.edges.iter().map(|e| (e.upstream.clone(), e.downstream.clone())).collect();
        same_tasks &= &tasks == their_tasks;
        same_edges &= &edges == their_edges;
    }
    (same_ids, Some((same_tasks, same_edges)))
}

pub(crate) fn score(
    set: &'static str,
    version: &str,
    labels: &[&Label],
    sources: &HashMap<&Path, String>,
    groups: &HashMap<String, String>,
) -> Metrics {
    let options = ValidateOptions {
        airflow_version: version.parse::<AirflowVersion>().expect("a valid Airflow version"),
    };
    let mut m = Metrics {
        set,
        version: version.to_owned(),
        airflow_loads: 0,
        agreement: Ratio::default(),
        false_alarms: Vec::new(),
        misses: 0,
        line_hits: Ratio::default(),
        dag_ids: Ratio::default(),
        task_ids: Ratio::default(),
        edges: Ratio::default(),
        structure: Ratio::default(),
        forbidden: Vec::new(),
        agreement_by_kind: BTreeMap::new(),
        miss_groups: BTreeMap::new(),
        disagreements: Vec::new(),
        panics: Vec::new(),
    };
    for label in labels {
        let source = &sources[label.path.as_path()];
        // Airflow imported the file under its own name: `__file__` ends with it.
        let name = Path::new(&label.file).file_name().and_then(|n| n.to_str()).unwrap_or("");
        let Ok(report) = catch_unwind(AssertUnwindSafe(|| validate_named(source, name, &options)))
        else {
            m.panics.push(format!("{} ({})", label.id, label.file));
            continue;
        };
        let errors: Vec<_> = report.errors().collect();
        let error_lines: Vec<String> = errors
            .iter()
            .map(|f| format!("{} {}:{} {}", f.code, f.line, f.column, f.message))
            .collect();
        let mut why: Vec<&str> = Vec::new();

        m.airflow_loads += usize::from(label.loads_ok);
        let agree = report.loads == label.loads_ok;
        m.agreement.add(agree);
        m.agreement_by_kind.entry(label.kind.clone()).or_default().add(agree);
        if label.loads_ok && !report.loads {
            m.false_alarms.push((label.id.clone(), error_lines.clone()));
            why.push("false_alarm");
        }
        if label.loads_ok {
            let forbidden: Vec<String> = report
                .findings
                .iter()
                .filter(|f| NEVER_ON_LOADING_FILES.contains(&f.code))
                .map(|f| format!("{} {}:{} {}", f.code, f.line, f.column, f.message))
                .collect();
            if !forbidden.is_empty() {
                m.forbidden.push((label.id.clone(), forbidden));
                why.push("operator_argument_on_loading_file");
            }
        }
        if !label.loads_ok && report.loads {
            m.misses += 1;
            *m.miss_groups.entry(label.failure_key(groups)).or_default() += 1;
            why.push("miss");
        }
        if !label.loads_ok
            && let Some(line) = label.failure.as_ref().and_then(|f| f.line)
        {
            let hit = errors.iter().any(|f| f.line == line);
            m.line_hits.add(hit);
            if !hit && !report.loads {
                why.push("wrong_line");
            }
        }
        let mut dags_differ = false;
        if label.loads_ok && report.loads {
            let (same_ids, contents) = compare_dags(&report, &label.dags);
            m.dag_ids.add(same_ids);
            if !same_ids {
                why.push("dag_ids");
                dags_differ = true;
            }
            if let Some((same_tasks, same_edges)) = contents {
                m.task_ids.add(same_tasks);
                m.edges.add(same_edges);
                m.structure.add(same_ids && same_tasks && same_edges);
                if same_ids && !same_tasks {
                    why.push("task_ids");
                    dags_differ = true;
                }
                if same_tasks && !same_edges {
                    why.push("edges");
                    dags_differ = true;
                }
            }
        }
        if !why.is_empty() {
            m.disagreements.push(disagreement_row(
                label,
                version,
                &report,
                &errors,
                &why,
                dags_differ,
            ));
        }
    }
    m
}

/// The `DAGSMITH_CORPUS_REPORT` row of one disagreement: the label, what dagsmith made of the
/// file, and both sides' DAGs when they differ.
fn disagreement_row(
    label: &Label,
    version: &str,
    report: &Report,
    errors: &[&Finding],
    why: &[&str],
    dags_differ: bool,
) -> Value {
    let mut row = json!({
        "set": label.set,
        "id": label.id,
        "version": version,
        "kind": label.kind,
        "source": label.source,
        "file": label.file,
        "disagreement": why,
        "airflow_loads": label.loads_ok,
        "airflow_verdict": label.verdict,
        "airflow_failure": label.failure.as_ref().map(|f| json!({
            "category": f.category,
            "subcategory": f.subcategory,
            "message": f.message,
            "line": f.line,
        })),
        "our_loads": report.loads,
        "our_errors": errors.iter().map(|f| json!({
            "code": f.code,
            "line": f.line,
            "column": f.column,
            "message": f.message,
        })).collect::<Vec<_>>(),
    });
    if dags_differ {
        row["airflow_dags"] = label
            .dags
            .iter()
            .map(|d| json!({"dag_id": d.id, "task_ids": d.tasks, "edges": d.edges}))
            .collect();
        row["our_dags"] = serde_json::to_value(&report.dags).expect("serializable");
    }
    row
}
