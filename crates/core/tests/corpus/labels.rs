//! Label rows: what real Airflow made of each file, read from the labelled sets' labels.jsonl.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use serde_json::Value;

use crate::SETS;

/// Why Airflow refused a file.
pub(crate) struct Failure {
    pub(crate) category: String,
    pub(crate) subcategory: String,
    pub(crate) message: String,
    /// The line Airflow blamed, when known.
    pub(crate) line: Option<u32>,
}

pub(crate) struct AirflowDag {
    pub(crate) id: String,
    /// `None` when only the id is known (a timed-out row re-run with a longer timeout).
    pub(crate) tasks: Option<BTreeSet<String>>,
    pub(crate) edges: Option<BTreeSet<(String, String)>>,
}

/// One row of labels.jsonl: what real Airflow of one version made of one file.
pub(crate) struct Label {
    /// Which labelled set (`SETS`).
    pub(crate) set: &'static str,
    /// The file on disk.
    pub(crate) path: std::path::PathBuf,
    pub(crate) id: String,
    pub(crate) source: String,
    pub(crate) kind: String,
    pub(crate) file: String,
    pub(crate) version: String,
    pub(crate) loads_ok: bool,
    pub(crate) env_limited: bool,
    pub(crate) verdict: String,
    pub(crate) failure: Option<Failure>,
    pub(crate) dags: Vec<AirflowDag>,
}

impl Label {
    /// Why the row is left out of the scores, if it is.
    pub(crate) fn skip_reason(&self) -> Option<&'static str> {
        if self.kind == "general_python" {
            Some("general_python")
        } else if self.env_limited {
            Some("failure_env_limited")
        } else {
            None
        }
    }

    pub(crate) fn failure_key(&self, groups: &HashMap<String, String>) -> String {
        match &self.failure {
            None => format!("{} (no failure recorded)", self.verdict),
            Some(f) => {
                let sub = groups.get(&f.subcategory).unwrap_or(&f.subcategory);
                if sub.is_empty() || *sub == f.category {
                    f.category.clone()
                } else {
                    format!("{}: {}", f.category, sub)
                }
            }
        }
    }
}

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

pub(crate) fn parse_label(set: &'static str, base: &str, line: &str, lineno: usize) -> Label {
    let row: Value = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("{set} labels line {lineno}: not JSON: {e}"));
    let need = |key: &str| -> String {
        row.get(key)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("labels.jsonl line {lineno}: no string field {key:?}"))
            .to_owned()
    };
    // Rows that hit the labeller's 10 s timeout were re-run with 60 s (Airflow's own
    // dagbag_import_timeout is 30 s): that run's verdict is the real one.
    let retry = row.get("retry_60s").filter(|r| r.is_object());
    let verdict_row = retry.unwrap_or(&row);
    let loads_ok = verdict_row
        .get("airflow_loads_ok")
        .and_then(Value::as_bool)
        .unwrap_or_else(|| panic!("labels.jsonl line {lineno}: no boolean airflow_loads_ok"));
    let first_error_line = if retry.is_some() {
        None
    } else {
        row.get("import_errors")
            .and_then(Value::as_array)
            .and_then(|errors| errors.first())
            .and_then(|e| e.get("sample_lineno"))
            .and_then(Value::as_u64)
    };
    let failure = verdict_row.get("primary_failure").filter(|p| p.is_object()).map(|p| Failure {
        category: text(p, "category"),
        subcategory: text(p, "subcategory"),
        message: text(p, "message"),
        line: p
            .get("sample_lineno")
            .and_then(Value::as_u64)
            .or(first_error_line)
            .and_then(|n| u32::try_from(n).ok()),
    });
    let dags = match retry {
        Some(r) => r
            .get("dag_ids")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|id| AirflowDag { id: id.to_owned(), tasks: None, edges: None })
            .collect(),
        None => row
            .get("dags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|d| AirflowDag {
                id: text(d, "dag_id"),
                tasks: Some(
                    d.get("task_ids")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect(),
                ),
                edges: Some(
                    d.get("edges")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|e| {
                            let pair = e.as_array()?;
                            Some((
                                pair.first()?.as_str()?.to_owned(),
                                pair.get(1)?.as_str()?.to_owned(),
                            ))
                        })
                        .collect(),
                ),
            })
            .collect(),
    };
    let file = need("file");
    Label {
        set,
        path: Path::new(base).join(&file),
        id: need("id"),
        source: text(&row, "source"),
        kind: need("kind"),
        file,
        version: need("airflow_version"),
        loads_ok,
        env_limited: row.get("failure_env_limited").and_then(Value::as_bool).unwrap_or(false),
        verdict: text(verdict_row, "airflow_verdict"),
        failure,
        dags,
    }
}

/// Subcategories like `unexpected keyword argument (DAG: region)` carry a detail in a trailing
/// parenthesis; when several share the text before it, the breakdown groups them as
/// `unexpected keyword argument (…)`.
pub(crate) fn subcategory_groups(labels: &[Label]) -> HashMap<String, String> {
    fn stem(s: &str) -> Option<&str> {
        if s.ends_with(')') { s.rfind(" (").map(|i| &s[..i]) } else { None }
    }
    let all: BTreeSet<&str> =
        labels.iter().filter_map(|l| l.failure.as_ref()).map(|f| f.subcategory.as_str()).collect();
    let mut by_stem: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &all {
        if let Some(st) = stem(s) {
            *by_stem.entry(st).or_default() += 1;
        }
    }
    all.iter()
        .filter_map(|s| {
            let st = stem(s)?;
            (by_stem[st] >= 2).then(|| (s.to_string(), format!("{st} (…)")))
        })
        .collect()
}

/// Reads the rows of every labelled set (`SETS`), in order; a set that is missing or empty
/// fails the test.
pub(crate) fn load_labels() -> Vec<Label> {
    let mut labels: Vec<Label> = Vec::new();
    for (set, labels_path, base) in SETS {
        let labels_text = std::fs::read_to_string(labels_path).unwrap_or_else(|e| {
            panic!(
                "the labelled {set} is missing: cannot read {labels_path} ({e}).\n\
                 The corpus lives in ../shared/corpus beside the repository root (CI provides it), \
                 Airflow's example DAGs in crates/core/tests/third_party/airflow_examples; this test never \
                 passes without them."
            )
        });
        let before = labels.len();
        labels.extend(
            labels_text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
                .map(|(i, l)| parse_label(set, base, l, i + 1)),
        );
        assert!(labels.len() > before, "{labels_path} has no rows");
    }
    labels
}

/// The text of every scored row's file, read once per file.
pub(crate) fn read_sources(labels: &[Label]) -> HashMap<&Path, String> {
    let mut sources: HashMap<&Path, String> = HashMap::new();
    for label in labels.iter().filter(|l| l.skip_reason().is_none()) {
        if !sources.contains_key(label.path.as_path()) {
            let bytes = std::fs::read(&label.path).unwrap_or_else(|e| {
                panic!("{}: labelled file {} unreadable: {e}", label.id, label.path.display())
            });
            sources.insert(&label.path, String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    sources
}
