//! JSON and JSONL: one entry object per input (see the module docs of `formats`).

use serde::Serialize;

use super::Entry;
use crate::finding::Finding;
use crate::fix::AppliedFix;
use crate::report::DagSummary;

#[derive(Serialize)]
struct EntryObject<'a> {
    path: String,
    airflow_version: &'a str,
    loads: bool,
    dags: &'a [DagSummary],
    findings: &'a [Finding],
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "<[AppliedFix]>::is_empty")]
    applied_fixes: &'a [AppliedFix],
}

fn entry_object(entry: &Entry) -> EntryObject<'_> {
    EntryObject {
        path: entry.path(),
        airflow_version: &entry.report.airflow_version,
        loads: entry.report.loads,
        dags: &entry.report.dags,
        findings: &entry.report.findings,
        error: entry.error.as_deref(),
        applied_fixes: &entry.applied_fixes,
    }
}

/// One JSON document: an array with one object per entry, pretty-printed, newline-terminated.
pub fn to_json(entries: &[Entry]) -> String {
    let objects: Vec<EntryObject<'_>> = entries.iter().map(entry_object).collect();
    // Serializing these plain structs cannot fail (no maps with non-string keys).
    let mut out = serde_json::to_string_pretty(&objects).unwrap_or_else(|_| "[]".into());
    out.push('\n');
    out
}

/// One compact JSON object per entry, one per line.
pub fn to_jsonl(entries: &[Entry]) -> String {
    let mut out = String::new();
    for entry in entries {
        out.push_str(&serde_json::to_string(&entry_object(entry)).unwrap_or_else(|_| "{}".into()));
        out.push('\n');
    }
    out
}
