//! GitLab Code Quality: a JSON array of issues, for merge requests.

use serde_json::json;

use super::Entry;
use crate::finding::Severity;

/// GitLab Code Quality severity of a finding: an error means Airflow refuses the file.
fn gitlab_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "critical",
        Severity::Warning => "minor",
        Severity::Info => "info",
    }
}

/// 64-bit FNV-1a: a stable, dependency-free hash for fingerprints (not for security).
fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0xff]) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// A GitLab Code Quality report (the Code Climate subset GitLab reads): a JSON array with one
/// issue per finding — `description`, `check_name` (the rule code), `fingerprint`, `severity`
/// (`critical` for errors, `minor` for warnings, `info`) and `location` (`path` and begin/end
/// `positions`; a dataset row's findings point at the row's line). An input that could not be
/// read is one `critical` issue named `read-error`.
///
/// The fingerprint hashes the path, the rule, the message and how many identical findings came
/// before in the same file, not the line: an issue keeps its identity when code above it moves,
/// so GitLab shows it as neither fixed nor new.
pub fn to_gitlab(entries: &[Entry]) -> String {
    let mut issues = Vec::new();
    let mut seen: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
    let mut fingerprint = |path: &str, check: &str, message: &str| {
        let base = fnv1a(&[path, check, message]);
        let n = seen.entry(base).or_insert(0);
        *n += 1;
        format!("{:016x}", fnv1a(&[&format!("{base:016x}"), &n.to_string()]))
    };
    for entry in entries {
        let path = entry.path();
        if let Some(error) = &entry.error {
            let line = entry.row.unwrap_or(1).max(1);
            issues.push(json!({
                "description": format!("{path}: {error}"),
                "check_name": "read-error",
                "fingerprint": fingerprint(&path, "read-error", error),
                "severity": "critical",
                "location": {"path": entry.file, "lines": {"begin": line, "end": line}},
            }));
            continue;
        }
        for f in &entry.report.findings {
            let mut description = match entry.row {
                None => format!("{} {}", f.code, f.message),
                Some(_) => format!(
                    "{} {} (line {}, column {} of the row's assistant code)",
                    f.code, f.message, f.line, f.column
                ),
            };
            if let Some(fix) = f.fix.text() {
                description.push_str(&format!(" (help: {fix})"));
            }
            let location = match entry.row {
                None => json!({
                    "path": entry.file,
                    "positions": {
                        "begin": {"line": f.line.max(1), "column": f.column.max(1)},
                        "end": {"line": f.end_line.max(f.line).max(1), "column": f.end_column.max(1)},
                    },
                }),
                Some(row) => json!({"path": entry.file, "lines": {"begin": row, "end": row}}),
            };
            issues.push(json!({
                "description": description,
                "check_name": f.code,
                "fingerprint": fingerprint(&path, f.code, &f.message),
                "severity": gitlab_severity(f.severity),
                "location": location,
            }));
        }
    }
    let mut out = serde_json::to_string_pretty(&issues).unwrap_or_else(|_| "[]".into());
    out.push('\n');
    out
}
