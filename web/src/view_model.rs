//! Plain helpers behind the app's views: what to show while a DAG streams in, which lines and
//! tasks to mark, the verdict's wording, report downloads and the recent-generations list.

use dagsmith_core::formats::{self, Entry};
use dagsmith_core::share::SharedVerdict;
use dagsmith_core::{Report, Severity};
use serde::{Deserialize, Serialize};

/// The Airflow versions offered in the version select (newest last).
pub const AIRFLOW_VERSIONS: &[&str] = &["2.7", "2.8", "2.9", "2.10", "2.11", "3.0", "3.1"];

/// How many recent generations localStorage keeps.
pub const MAX_RECENT: usize = 12;

/// What the code view shows while tokens stream in: the model's text without the prose and
/// opening fence before the code, and without the closing fence and anything after it. The
/// exact code (`extract_code`) replaces it when the attempt ends.
pub fn stream_preview(raw: &str) -> &str {
    let fence_line = |line: &str| line.trim_start().starts_with("```");
    let mut offset = 0;
    let mut body_start = None;
    for line in raw.split_inclusive('\n') {
        let next = offset + line.len();
        match body_start {
            None if fence_line(line) => {
                // An opening fence still being streamed (no newline yet) hides everything.
                if !line.ends_with('\n') {
                    return "";
                }
                body_start = Some(next);
            }
            Some(start) if fence_line(line) => return &raw[start..offset],
            _ => {}
        }
        offset = next;
    }
    match body_start {
        Some(start) => &raw[start..],
        None => raw,
    }
}

/// The mark of each line (index 0 = line 1): the worst severity of the findings on it. A
/// finding marks its whole span when that is at most three lines, else only its first line
/// (a "no DAG in this file" finding should not paint the whole file).
pub fn line_marks(report: &Report, line_count: usize) -> Vec<Option<Severity>> {
    let mut marks = vec![None; line_count];
    for f in &report.findings {
        let first = f.line.max(1) as usize;
        let last = if f.end_line >= f.line && f.end_line - f.line <= 2 {
            f.end_line as usize
        } else {
            first
        };
        for line in first..=last {
            if let Some(mark) = marks.get_mut(line - 1) {
                *mark = (*mark).max(Some(f.severity));
            }
        }
    }
    marks
}

/// Offset of the start of a 1-based line in UTF-16 code units (what a textarea's selection
/// uses); the end of the text when the line is past it.
pub fn utf16_line_start(code: &str, line: u32) -> u32 {
    let mut remaining = line.saturating_sub(1);
    let mut offset = 0u32;
    for c in code.chars() {
        if remaining == 0 {
            break;
        }
        offset += c.len_utf16() as u32;
        if c == '\n' {
            remaining -= 1;
        }
    }
    offset
}

/// The worst severity among findings that name a task: `'id'`, `"id"` or `` `id` `` in the
/// message, or the task on a `a >> b >> a` cycle path.
pub fn task_severity(report: &Report, task_id: &str) -> Option<Severity> {
    let quoted = [format!("'{task_id}'"), format!("\"{task_id}\""), format!("`{task_id}`")];
    report
        .findings
        .iter()
        .filter(|f| {
            quoted.iter().any(|q| f.message.contains(q.as_str()))
                || (f.code == "DS108" && cycle_path(&f.message).any(|t| t == task_id))
        })
        .map(|f| f.severity)
        .max()
}

/// Task ids of a DS108 message (`dependency cycle: a >> b >> a (...)`).
fn cycle_path(message: &str) -> impl Iterator<Item = &str> {
    let path = message.strip_prefix("dependency cycle: ").unwrap_or("");
    let path = path.split(" (").next().unwrap_or("");
    path.split(" >> ").map(str::trim).filter(|t| !t.is_empty())
}

/// The verdict's place when the validator gave no report (`why`: a validation `Failure`).
pub fn failure_text(why: &str) -> String {
    format!(
        "No verdict: {why}. That is a bug in dagsmith: please report it with this file. Other \
         files still validate."
    )
}

/// The verdict in words: whether Airflow would load the file, and the finding counts.
pub fn verdict_text(report: &Report) -> String {
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    let infos = report.count(Severity::Info);
    let mut counts = Vec::new();
    for (n, word) in [(errors, "error"), (warnings, "warning"), (infos, "note")] {
        if n > 0 {
            counts.push(format!("{n} {word}{}", if n == 1 { "" } else { "s" }));
        }
    }
    let counts = if counts.is_empty() { "no findings".to_string() } else { counts.join(", ") };
    let dags = report.dags.len();
    if report.loads {
        format!(
            "Airflow {} would load this file: {dags} DAG{} ({counts})",
            report.airflow_version,
            if dags == 1 { "" } else { "s" }
        )
    } else {
        format!("Airflow {} would NOT load this file ({counts})", report.airflow_version)
    }
}

/// What a share link records of the findings, to compare on opening.
pub fn shared_verdict(report: &Report) -> SharedVerdict {
    SharedVerdict {
        loads: report.loads,
        findings: report.findings.iter().map(|f| format!("{}:{}", f.code, f.line)).collect(),
    }
}

/// The report as a downloadable document (`json` or `sarif`), for a file named `file`.
pub fn report_document(report: &Report, file: &str, sarif: bool) -> String {
    let entries = [Entry::file(file, report.clone())];
    if sarif { formats::to_sarif(&entries) } else { formats::to_json(&entries) }
}

/// A file name for downloads, from the first DAG's id (`dag.py` when there is none usable).
pub fn file_stem(report: &Report) -> String {
    let id = report.dags.iter().find_map(|d| d.dag_id.as_deref()).unwrap_or("dag");
    let stem: String = id
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .take(64)
        .collect();
    if stem.is_empty() { "dag".into() } else { stem }
}

/// One entry of the recent-generations list in localStorage.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Recent {
    /// Milliseconds since the epoch.
    pub when: f64,
    pub instruction: String,
    pub airflow_version: String,
    pub code: String,
    pub loads: bool,
}

/// Adds a generation at the front, dropping an older entry with the same code and anything
/// beyond [`MAX_RECENT`].
pub fn push_recent(list: &mut Vec<Recent>, recent: Recent) {
    list.retain(|r| r.code != recent.code || r.instruction != recent.instruction);
    list.insert(0, recent);
    list.truncate(MAX_RECENT);
}

/// The stored list; anything unreadable (an older format, a hand-edited value) is an empty list.
pub fn parse_recents(json: &str) -> Vec<Recent> {
    let mut list: Vec<Recent> = serde_json::from_str(json).unwrap_or_default();
    list.truncate(MAX_RECENT);
    list
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagsmith_core::{AirflowVersion, ValidateOptions, validate};

    const CYCLE: &str = "from datetime import datetime\n\nfrom airflow import DAG\n\
        from airflow.operators.empty import EmptyOperator\n\n\
        with DAG(dag_id=\"loop\", start_date=datetime(2024, 1, 1), schedule=None) as dag:\n\
        \x20   extract = EmptyOperator(task_id=\"extract\")\n\
        \x20   load = EmptyOperator(task_id=\"load\")\n\
        \x20   other = EmptyOperator(task_id=\"other\")\n\
        \x20   extract >> load\n\
        \x20   load >> extract\n";

    fn check(code: &str, version: &str) -> Report {
        let airflow_version: AirflowVersion = version.parse().unwrap();
        validate(code, &ValidateOptions { airflow_version })
    }

    #[test]
    fn preview_strips_fences_and_prose() {
        assert_eq!(stream_preview(""), "");
        assert_eq!(stream_preview("Here is"), "Here is");
        assert_eq!(stream_preview("Here is:\n```pyt"), "");
        assert_eq!(stream_preview("Here is:\n```python\nimport os\nx"), "import os\nx");
        assert_eq!(stream_preview("```python\nimport os\n```\nThis DAG..."), "import os\n");
        assert_eq!(stream_preview("```\na\n  ```"), "a\n");
    }

    #[test]
    fn cycle_marks_lines_and_tasks() {
        let report = check(CYCLE, "2.7");
        assert!(!report.loads);
        let cycle = report.findings.iter().find(|f| f.code == "DS108").unwrap();
        let marks = line_marks(&report, CYCLE.lines().count());
        assert_eq!(marks[cycle.line as usize - 1], Some(Severity::Error));
        assert_eq!(marks[0], None);
        assert_eq!(task_severity(&report, "extract"), Some(Severity::Error));
        assert_eq!(task_severity(&report, "load"), Some(Severity::Error));
        assert_eq!(task_severity(&report, "other"), None);
        assert!(verdict_text(&report).starts_with("Airflow 2.7 would NOT load this file (1 error"));
        assert_eq!(file_stem(&report), "loop");
        let shared = shared_verdict(&report);
        assert!(!shared.loads && shared.findings.contains(&format!("DS108:{}", cycle.line)));
    }

    #[test]
    fn loading_file_verdict_and_reports() {
        let ok = CYCLE.replace("    load >> extract\n", "");
        let report = check(&ok, "3.1");
        assert!(report.loads, "{:?}", report.findings);
        assert!(verdict_text(&report).starts_with("Airflow 3.1 would load this file: 1 DAG"));
        let json: serde_json::Value =
            serde_json::from_str(&report_document(&report, "loop.py", false)).unwrap();
        assert_eq!(json[0]["path"], "loop.py");
        let sarif: serde_json::Value =
            serde_json::from_str(&report_document(&report, "loop.py", true)).unwrap();
        assert_eq!(sarif["version"], "2.1.0");
    }

    #[test]
    fn marks_stay_in_range() {
        let report = check("def broken(:\n", "3.1");
        assert!(!report.findings.is_empty());
        // Fewer lines than findings point at (e.g. the view is shorter): no panic.
        let _ = line_marks(&report, 0);
    }

    #[test]
    fn utf16_offsets() {
        assert_eq!(utf16_line_start("a\nb\n", 1), 0);
        assert_eq!(utf16_line_start("a\nb\n", 2), 2);
        assert_eq!(utf16_line_start("é𝄞\nb", 2), 4, "é is one unit, 𝄞 two");
        assert_eq!(utf16_line_start("a", 9), 1);
        assert_eq!(utf16_line_start("a", 0), 0);
    }

    #[test]
    fn recents_are_bounded_and_deduplicated() {
        let mut list = Vec::new();
        for i in 0..20 {
            push_recent(&mut list, Recent { code: format!("{i}"), ..Default::default() });
        }
        assert_eq!(list.len(), MAX_RECENT);
        assert_eq!(list[0].code, "19");
        push_recent(&mut list, Recent { code: "15".into(), ..Default::default() });
        assert_eq!(list.iter().filter(|r| r.code == "15").count(), 1);
        assert_eq!(list[0].code, "15");
        let json = serde_json::to_string(&list).unwrap();
        assert_eq!(parse_recents(&json), list);
        assert_eq!(parse_recents("{broken"), []);
        assert_eq!(
            file_stem(&Report {
                airflow_version: "3.1".into(),
                loads: false,
                dags: vec![],
                findings: vec![]
            }),
            "dag"
        );
    }
}
