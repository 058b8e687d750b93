//! SARIF 2.1.0, for GitHub code scanning.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{Entry, INFORMATION_URI};
use crate::finding::{Finding, Severity};
use crate::fix::Fix;
use crate::rules;

/// SARIF's level for a severity.
pub fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A path as a URI reference: `/` separators, percent-encoded; absolute paths become `file://`
/// URIs, relative ones stay relative (resolved against the repository root by code scanning).
pub fn path_to_uri(path: &str) -> (String, bool) {
    let path = path.replace('\\', "/");
    let windows_drive = path.len() >= 2
        && path.as_bytes()[0].is_ascii_alphabetic()
        && path.as_bytes()[1] == b':'
        && (path.len() == 2 || path.as_bytes()[2] == b'/');
    let mut encoded = String::with_capacity(path.len());
    let relative = path.trim_start_matches("./");
    let (prefix, body, absolute) = if windows_drive {
        ("file:///", &path[..], true)
    } else if let Some(rest) = path.strip_prefix('/') {
        ("file:///", rest, true)
    } else {
        ("", relative, false)
    };
    encoded.push_str(prefix);
    for (i, b) in body.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/')
            // A drive letter's colon stays as is.
            || (windows_drive && i == 1 && b == b':');
        if keep {
            encoded.push(b as char);
        } else {
            let _ = write!(encoded, "%{b:02X}");
        }
    }
    (encoded, !absolute)
}

fn sarif_rules() -> Vec<Value> {
    rules::ALL
        .iter()
        .map(|r| {
            json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.explanation},
                "help": {
                    "text": format!("{}\n\n{}\n\nSee `dagsmith rules {}`.", r.summary, r.explanation, r.code),
                },
                "defaultConfiguration": {"level": sarif_level(r.severity)},
                "properties": {"tags": ["airflow"]},
            })
        })
        .collect()
}

fn artifact_location(file: &str) -> Value {
    let (uri, relative) = path_to_uri(file);
    if relative { json!({"uri": uri, "uriBaseId": "%SRCROOT%"}) } else { json!({"uri": uri}) }
}

fn finding_region(f: &Finding) -> Value {
    let start_line = f.line.max(1);
    let start_column = f.column.max(1);
    let mut region = json!({"startLine": start_line, "startColumn": start_column});
    let end_line = f.end_line.max(start_line);
    let end_ok = end_line > start_line || f.end_column >= start_column;
    if end_ok && f.end_line != 0 {
        region["endLine"] = json!(end_line);
        region["endColumn"] = json!(f.end_column.max(1));
    }
    region
}

/// A SARIF `fix` object: one artifact change with a replacement per edit (regions in
/// code-point columns, as the run's `columnKind` says; an insertion is an empty region).
fn sarif_fix(file: &str, fix: &Fix) -> Value {
    let replacements: Vec<Value> = fix
        .edits
        .iter()
        .map(|e| {
            json!({
                "deletedRegion": {
                    "startLine": e.line.max(1),
                    "startColumn": e.column.max(1),
                    "endLine": e.end_line.max(1),
                    "endColumn": e.end_column.max(1),
                },
                "insertedContent": {"text": e.content},
            })
        })
        .collect();
    json!({
        "description": {"text": format!("{} ({})", fix.message, fix.applicability.as_str())},
        "artifactChanges": [{
            "artifactLocation": artifact_location(file),
            "replacements": replacements,
        }],
    })
}

/// A SARIF 2.1.0 log with one run. Results point at `file` (relative as given); a dataset row's
/// findings point at the row's line, with the position inside the assistant code in the message.
/// Inputs that could not be validated are listed as tool execution notifications.
pub fn to_sarif(entries: &[Entry]) -> String {
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for entry in entries {
        if let Some(error) = &entry.error {
            let mut location = json!({"artifactLocation": artifact_location(&entry.file)});
            if let Some(row) = entry.row {
                location["region"] = json!({"startLine": row.max(1)});
            }
            notifications.push(json!({
                "level": "error",
                "message": {"text": format!("{}: {error}", entry.path())},
                "locations": [{"physicalLocation": location}],
            }));
            continue;
        }
        for f in &entry.report.findings {
            let (text, region) = match entry.row {
                None => (f.message.clone(), finding_region(f)),
                Some(row) => (
                    format!(
                        "{} (row {row}, line {}, column {} of the assistant's code)",
                        f.message, f.line, f.column
                    ),
                    json!({"startLine": row.max(1)}),
                ),
            };
            let text = match f.fix.text() {
                Some(fix) => format!("{text}\nHelp: {fix}"),
                None => text,
            };
            let mut result = json!({
                "ruleId": f.code,
                "level": sarif_level(f.severity),
                "message": {"text": text},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": artifact_location(&entry.file),
                        "region": region,
                    },
                }],
                "properties": {"airflowVersion": entry.report.airflow_version},
            });
            if let Some(index) = rules::ALL.iter().position(|r| r.code == f.code) {
                result["ruleIndex"] = json!(index);
            }
            // Positions inside a dataset row's code are not positions in the file.
            if let (Some(fix), None) = (&f.autofix, entry.row) {
                result["fixes"] = json!([sarif_fix(&entry.file, fix)]);
            }
            results.push(result);
        }
    }
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "dagsmith",
                    "version": crate::VERSION,
                    "semanticVersion": crate::VERSION,
                    "informationUri": INFORMATION_URI,
                    "rules": sarif_rules(),
                },
            },
            "columnKind": "unicodeCodePoints",
            "invocations": [{
                "executionSuccessful": notifications.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    });
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_else(|_| "{}".into());
    out.push('\n');
    out
}
