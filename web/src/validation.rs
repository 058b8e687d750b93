//! What the page and its validator worker say to each other: a request to validate some code,
//! and the worker's answer (ready, a report, or the panic that killed it). Messages are JSON
//! text; the report travels as [`WireReport`] and becomes a `dagsmith_core::Report` again on the
//! page. Plain Rust, unit-tested natively; `worker` and `validator` (wasm32) post the messages.

use std::fmt;

use dagsmith_core::fix::Fix;
use dagsmith_core::{DagSummary, Edge, Finding, Report, Severity, rules};
use serde::{Deserialize, Serialize};

/// The page asks: validate `code` for an Airflow version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub id: u32,
    pub code: String,
    pub airflow_version: String,
}

/// The worker says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reply {
    /// Started: requests may come.
    Ready,
    /// The report for request `id`, and how long the validator took (ms).
    Report { id: u32, ms: f64, report: WireReport },
    /// The validator panicked (on request `id`, when one was running); the worker's wasm is
    /// dead from here on (`panic = "abort"`), and the page replaces the worker.
    Panic { id: Option<u32>, message: String },
}

impl Reply {
    pub fn to_json(&self) -> String {
        // Plain strings and numbers: serializing cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<Reply, String> {
        serde_json::from_str(text)
            .map_err(|e| format!("unreadable message from the validator: {e}"))
    }
}

/// A validation's outcome on the page.
#[derive(Clone, Debug, PartialEq)]
pub struct Validated {
    pub report: Report,
    /// Time in the validator itself, without the messaging.
    pub ms: f64,
}

/// Why the page got no report.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// The validator panicked: its message.
    Panicked(String),
    /// The worker died or answered nonsense, without a panic message.
    Crashed(String),
    /// No answer in time: a hang, or a input too costly.
    TimedOut { seconds: u32 },
    /// The worker cannot start in this browser.
    Unavailable(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Panicked(m) | Failure::Crashed(m) => {
                write!(f, "the validator failed on this input ({m})")
            }
            Failure::TimedOut { seconds } => {
                write!(f, "the validator failed on this input: no answer within {seconds} s")
            }
            Failure::Unavailable(m) => write!(f, "the validator cannot run in this browser ({m})"),
        }
    }
}

/// `Report` as JSON on the wire (the core's types only serialize: rule codes are `&'static`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireReport {
    pub airflow_version: String,
    pub loads: bool,
    pub dags: Vec<WireDag>,
    pub findings: Vec<WireFinding>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireDag {
    pub dag_id: Option<String>,
    pub line: u32,
    pub tasks: Vec<String>,
    pub edges: Vec<(String, String)>,
    pub dynamic_tasks: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireFinding {
    pub code: String,
    pub severity: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub message: String,
    pub fix: Option<String>,
    pub autofix: Option<Fix>,
}

impl From<&Report> for WireReport {
    fn from(r: &Report) -> Self {
        WireReport {
            airflow_version: r.airflow_version.clone(),
            loads: r.loads,
            dags: r
                .dags
                .iter()
                .map(|d| WireDag {
                    dag_id: d.dag_id.clone(),
                    line: d.line,
                    tasks: d.tasks.clone(),
                    edges: d
                        .edges
                        .iter()
                        .map(|e| (e.upstream.clone(), e.downstream.clone()))
                        .collect(),
                    dynamic_tasks: d.dynamic_tasks,
                })
                .collect(),
            findings: r
                .findings
                .iter()
                .map(|f| WireFinding {
                    code: f.code.to_string(),
                    severity: f.severity.as_str().to_string(),
                    line: f.line,
                    column: f.column,
                    end_line: f.end_line,
                    end_column: f.end_column,
                    message: f.message.clone(),
                    fix: f.fix.to_option(),
                    autofix: f.autofix.clone(),
                })
                .collect(),
        }
    }
}

impl WireReport {
    /// The report again. Page and worker run the same wasm, so every code is a known rule.
    pub fn into_report(self) -> Result<Report, String> {
        let mut findings = Vec::with_capacity(self.findings.len());
        for f in self.findings {
            let rule = rules::find(&f.code).ok_or_else(|| format!("unknown rule {}", f.code))?;
            let severity = match f.severity.as_str() {
                "info" => Severity::Info,
                "warning" => Severity::Warning,
                "error" => Severity::Error,
                other => return Err(format!("unknown severity {other:?}")),
            };
            findings.push(Finding {
                code: rule.code,
                severity,
                line: f.line,
                column: f.column,
                end_line: f.end_line,
                end_column: f.end_column,
                message: f.message,
                fix: f.fix.into(),
                autofix: f.autofix,
            });
        }
        let dags = self
            .dags
            .into_iter()
            .map(|d| DagSummary {
                dag_id: d.dag_id,
                line: d.line,
                tasks: d.tasks,
                edges: d
                    .edges
                    .into_iter()
                    .map(|(upstream, downstream)| Edge { upstream, downstream })
                    .collect(),
                dynamic_tasks: d.dynamic_tasks,
            })
            .collect();
        Ok(Report { airflow_version: self.airflow_version, loads: self.loads, dags, findings })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagsmith_core::{ValidateOptions, validate};

    const CYCLE: &str = "\
from datetime import datetime
from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.utils.task_group import TaskGroup

with DAG(dag_id=\"loop\", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    with TaskGroup(\"g\"):
        a = EmptyOperator(task_id=\"a\")
    b = EmptyOperator(task_id=\"b\", retries=\"x\")
    a >> b >> a
    undefined_name
";

    #[test]
    fn reports_survive_the_trip_through_the_worker() {
        for code in [CYCLE, "", "x = (", "import airflow\n"] {
            let report = validate(code, &ValidateOptions::default());
            let reply = Reply::Report { id: 7, ms: 1.5, report: WireReport::from(&report) };
            let Reply::Report { id, ms, report: wire } =
                Reply::from_json(&reply.to_json()).unwrap()
            else {
                panic!("not a report")
            };
            assert_eq!((id, ms), (7, 1.5));
            assert_eq!(wire.into_report().unwrap(), report, "{code:?}");
        }
        let report = validate(CYCLE, &ValidateOptions::default());
        assert!(!report.findings.is_empty() && !report.dags[0].edges.is_empty());
    }

    #[test]
    fn other_replies_and_requests() {
        for reply in [Reply::Ready, Reply::Panic { id: Some(3), message: "boom".into() }] {
            assert_eq!(Reply::from_json(&reply.to_json()).unwrap(), reply);
        }
        assert_eq!(Reply::to_json(&Reply::Ready), r#"{"kind":"ready"}"#);
        assert!(Reply::from_json("{\"kind\":\"nope\"}").unwrap_err().contains("unreadable"));
        let request = Request { id: 1, code: "x".into(), airflow_version: "2.9".into() };
        let text = serde_json::to_string(&request).unwrap();
        assert_eq!(serde_json::from_str::<Request>(&text).unwrap(), request);
    }

    #[test]
    fn unknown_codes_are_refused_and_failures_say_what_happened() {
        let mut wire = WireReport::from(&validate("x = (", &ValidateOptions::default()));
        wire.findings[0].code = "DS999".into();
        assert!(wire.into_report().unwrap_err().contains("DS999"));
        let panicked = Failure::Panicked("capacity overflow".into()).to_string();
        assert_eq!(panicked, "the validator failed on this input (capacity overflow)");
        assert!(Failure::TimedOut { seconds: 20 }.to_string().contains("failed on this input"));
    }
}
