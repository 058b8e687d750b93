//! The human-readable report.
//!
//! ```text
//! dags/bad.py:3:5: DS001 error: Expected ')', found newline
//!     help: close the parenthesis
//! dags/bad.py: does not load (1 error)
//! dags/ok.py: loads: 1 DAG (ok), 2 tasks
//!
//! Checked 2 inputs for Airflow 3.1: 1 predicted to load, 1 not.
//! Findings: 1 error, 0 warnings, 0 info. DAGs found: 1, tasks: 2.
//! ```

use std::collections::BTreeSet;
use std::fmt::Write as _;

use dagsmith_core::formats::Entry;
use dagsmith_core::{Severity, report::DagSummary};

use crate::output::Style;

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn severity_label(severity: Severity, style: Style) -> String {
    match severity {
        Severity::Error => style.red("error"),
        Severity::Warning => style.yellow("warning"),
        Severity::Info => style.blue("info"),
    }
}

fn dags_text(dags: &[DagSummary]) -> String {
    let tasks: usize = dags.iter().map(|d| d.tasks.len() + d.dynamic_tasks as usize).sum();
    let mut ids: Vec<&str> =
        dags.iter().map(|d| d.dag_id.as_deref().unwrap_or("?")).take(3).collect();
    if dags.len() > 3 {
        ids.push("...");
    }
    format!(
        "{} ({}), {}",
        plural(dags.len(), "DAG", "DAGs"),
        ids.join(", "),
        plural(tasks, "task", "tasks")
    )
}

fn counts_text(errors: usize, warnings: usize, infos: usize) -> Vec<String> {
    let mut parts = Vec::new();
    if errors > 0 {
        parts.push(plural(errors, "error", "errors"));
    }
    if warnings > 0 {
        parts.push(plural(warnings, "warning", "warnings"));
    }
    if infos > 0 {
        parts.push(plural(infos, "info", "info"));
    }
    parts
}

pub fn render(entries: &[Entry], style: Style, quiet: bool) -> String {
    let mut out = String::new();
    let versions: BTreeSet<&str> = entries
        .iter()
        .filter(|e| !e.is_error())
        .map(|e| e.report.airflow_version.as_str())
        .collect();
    let mixed_versions = versions.len() > 1;

    let (mut loading, mut failing, mut unreadable) = (0usize, 0usize, 0usize);
    let (mut errors, mut warnings, mut infos, mut dags, mut tasks) = (0, 0, 0, 0, 0);
    for entry in entries {
        let report = &entry.report;
        if entry.is_error() {
            unreadable += 1;
            continue;
        }
        let (e, w, i) = (
            report.count(Severity::Error),
            report.count(Severity::Warning),
            report.count(Severity::Info),
        );
        errors += e;
        warnings += w;
        infos += i;
        dags += report.dags.len();
        tasks +=
            report.dags.iter().map(|d| d.tasks.len() + d.dynamic_tasks as usize).sum::<usize>();
        if report.loads {
            loading += 1;
        } else {
            failing += 1;
        }
        if quiet {
            continue;
        }
        let path = entry.path();
        for f in &report.findings {
            let _ = writeln!(
                out,
                "{}:{}:{}: {} {}: {}",
                style.bold(&path),
                f.line,
                f.column,
                style.bold(f.code),
                severity_label(f.severity, style),
                f.message
            );
            if let Some(fix) = f.fix.text() {
                let _ = writeln!(out, "    {} {fix}", style.cyan("help:"));
            }
        }
        let mut verdict = if report.loads {
            let mut v = style.green("loads");
            if !report.dags.is_empty() {
                let _ = write!(v, ": {}", dags_text(&report.dags));
            }
            let counts = counts_text(e, w, i);
            if !counts.is_empty() {
                let _ = write!(v, " ({})", counts.join(", "));
            }
            v
        } else {
            let counts = counts_text(e, w, i);
            let mut v = style.red("does not load");
            if !counts.is_empty() {
                let _ = write!(v, " ({})", counts.join(", "));
            }
            v
        };
        if mixed_versions {
            let _ =
                write!(verdict, " {}", style.dim(&format!("[Airflow {}]", report.airflow_version)));
        }
        let _ = writeln!(out, "{}: {verdict}", style.bold(&path));
    }

    if !out.is_empty() {
        out.push('\n');
    }
    let target = match versions.len() {
        0 => String::new(),
        1 => format!(" for Airflow {}", versions.iter().next().copied().unwrap_or("")),
        n if n <= 4 => {
            format!(" for Airflow {}", versions.iter().copied().collect::<Vec<_>>().join(", "))
        }
        n => format!(" for {n} Airflow versions"),
    };
    let mut verdicts = Vec::new();
    let loading_text = format!("{loading} predicted to load");
    verdicts.push(if loading > 0 { style.green(&loading_text) } else { loading_text });
    if failing > 0 {
        verdicts.push(style.red(&format!("{failing} not")));
    }
    if unreadable > 0 {
        verdicts.push(style.red(&format!("{unreadable} could not be checked")));
    }
    let _ = writeln!(
        out,
        "Checked {}{target}: {}.",
        plural(entries.len(), "input", "inputs"),
        verdicts.join(", ")
    );
    let _ = writeln!(
        out,
        "Findings: {}, {}, {infos} info. DAGs found: {dags}, tasks: {tasks}.",
        plural(errors, "error", "errors"),
        plural(warnings, "warning", "warnings"),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagsmith_core::{Finding, Report};

    #[test]
    fn renders_findings_verdicts_and_summary() {
        let bad = Report {
            airflow_version: "3.1".into(),
            loads: false,
            dags: vec![],
            findings: vec![Finding {
                code: "DS001",
                severity: Severity::Error,
                line: 3,
                column: 5,
                end_line: 3,
                end_column: 6,
                message: "Expected ')'".into(),
                fix: "close it".into(),
                autofix: None,
            }],
        };
        let ok =
            Report { airflow_version: "3.1".into(), loads: true, dags: vec![], findings: vec![] };
        let entries = vec![
            Entry::file("bad.py", bad),
            Entry::file("ok.py", ok),
            Entry::failed("gone.py", None, "3.1", "cannot read: no such file or directory"),
        ];
        let text = render(&entries, Style { enabled: false }, false);
        assert_eq!(
            text,
            "bad.py:3:5: DS001 error: Expected ')'\n    help: close it\nbad.py: does not load (1 error)\n\
             ok.py: loads\n\nChecked 3 inputs for Airflow 3.1: 1 predicted to load, 1 not, 1 could not be checked.\n\
             Findings: 1 error, 0 warnings, 0 info. DAGs found: 0, tasks: 0.\n"
        );
        let quiet = render(&entries, Style { enabled: false }, true);
        assert!(quiet.starts_with("Checked 3 inputs"), "{quiet}");
    }
}
