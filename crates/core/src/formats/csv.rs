//! CSV, RFC 4180, with airflow-net's `dag_validation_report.csv` columns first.

use std::borrow::Cow;

use super::Entry;
use crate::finding::Severity;
use crate::rules;

/// The CSV header. The first five are airflow-net's `dag_validation_report.csv` columns, with
/// the same meaning and spelling of values:
///
/// * `filename`: the entry's path (`FILE#N` for a dataset row),
/// * `airflow_version`: the version the rules were applied for,
/// * `id`: the dataset row's line number (airflow-net numbered repeats of a file name); empty
///   for a plain file,
/// * `validation_passed`: `True`/`False` (Python's spelling): predicted to load and no error or
///   warning findings,
/// * `failure_cause`: the error and warning findings as airflow-net-style upper-case names
///   joined with `"; "` (`SYNTAX_ERROR; DUPLICATE_TASK_ID`), `READ_ERROR` for an input that
///   could not be validated;
///
/// then dagsmith's own:
///
/// * `loads`: `true`/`false`, the load prediction,
/// * `errors`, `warnings`: finding counts,
/// * `codes`: every finding's rule code, `"; "`-joined, in order,
/// * `messages`: one `LINE:COLUMN CODE message` per finding, newline-separated (quoted),
/// * `error`: why the input could not be validated, else empty.
pub const CSV_COLUMNS: &[&str] = &[
    "filename",
    "airflow_version",
    "id",
    "validation_passed",
    "failure_cause",
    "loads",
    "errors",
    "warnings",
    "codes",
    "messages",
    "error",
];

/// Quotes a CSV field when RFC 4180 requires it (a comma, quote, CR or LF inside).
pub fn csv_field(value: &str) -> Cow<'_, str> {
    if value.contains([',', '"', '\r', '\n']) {
        Cow::Owned(format!("\"{}\"", value.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(value)
    }
}

/// `duplicate-task-id` → `DUPLICATE_TASK_ID`, airflow-net's spelling of error types.
fn upper_snake(name: &str) -> String {
    name.chars().map(|c| if c == '-' { '_' } else { c.to_ascii_uppercase() }).collect()
}

fn failure_name(code: &str) -> String {
    rules::find(code).map_or_else(|| code.to_string(), |r| upper_snake(r.name))
}

/// One header line and one line per entry, CRLF line endings (RFC 4180).
pub fn to_csv(entries: &[Entry]) -> String {
    let mut out = String::new();
    out.push_str(&CSV_COLUMNS.join(","));
    out.push_str("\r\n");
    for entry in entries {
        let report = &entry.report;
        let errors = report.count(Severity::Error);
        let warnings = report.count(Severity::Warning);
        let passed = entry.error.is_none() && report.loads && errors == 0 && warnings == 0;
        let failure_cause = if entry.error.is_some() {
            "READ_ERROR".to_string()
        } else {
            report
                .findings
                .iter()
                .filter(|f| f.severity >= Severity::Warning)
                .map(|f| failure_name(f.code))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let codes = report.findings.iter().map(|f| f.code).collect::<Vec<_>>().join("; ");
        let messages = report
            .findings
            .iter()
            .map(|f| format!("{}:{} {} {}", f.line, f.column, f.code, f.message))
            .collect::<Vec<_>>()
            .join("\n");
        let fields: [Cow<'_, str>; 11] = [
            Cow::Owned(entry.path()),
            Cow::Borrowed(report.airflow_version.as_str()),
            Cow::Owned(entry.row.map(|n| n.to_string()).unwrap_or_default()),
            Cow::Borrowed(if passed { "True" } else { "False" }),
            Cow::Owned(failure_cause),
            Cow::Borrowed(if report.loads { "true" } else { "false" }),
            Cow::Owned(errors.to_string()),
            Cow::Owned(warnings.to_string()),
            Cow::Owned(codes),
            Cow::Owned(messages),
            Cow::Borrowed(entry.error.as_deref().unwrap_or("")),
        ];
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&csv_field(field));
        }
        out.push_str("\r\n");
    }
    out
}
