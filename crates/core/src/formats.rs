//! Machine-readable report formats: JSON, JSONL, CSV, SARIF 2.1.0, and CI annotations (GitHub
//! Actions workflow commands, GitLab Code Quality).
//!
//! Every function takes the validated inputs in order, as [`Entry`] values, and returns the whole
//! document as a `String` (no I/O here). An entry is either a file or a dataset row that was
//! validated, or one that could not be read or parsed (then `error` is set, `loads` is false and
//! there are no DAGs or findings).
//!
//! * [`to_json`]: one JSON array of entry objects (pretty-printed).
//! * [`to_jsonl`]: one compact entry object per line.
//! * [`to_csv`]: one row per entry, RFC 4180, with the columns of airflow-net's
//!   `dag_validation_report.csv` first (see [`CSV_COLUMNS`]).
//! * [`to_sarif`]: a SARIF 2.1.0 log for GitHub code scanning.
//! * [`to_github`]: GitHub Actions workflow commands (`::error file=…,line=…::…`), one line per
//!   finding, which annotate a pull request's diff.
//! * [`to_gitlab`]: a GitLab Code Quality report (a JSON array of issues), for merge requests.
//!
//! Entry object (JSON and JSONL):
//!
//! ```json
//! {"path": "dags/etl.py", "airflow_version": "3.1", "loads": true,
//!  "dags": [{"dag_id": "etl", "line": 5, "tasks": ["a", "b"],
//!            "edges": [{"upstream": "a", "downstream": "b"}], "dynamic_tasks": 0}],
//!  "findings": [{"code": "DS103", "severity": "warning", "line": 9, "column": 5,
//!                "end_line": 9, "end_column": 12, "message": "...", "fix": "...",
//!                "autofix": {"applicability": "safe", "message": "add `import os`",
//!                            "edits": [{"start": 0, "end": 0, "content": "import os\n",
//!                                       "line": 1, "column": 1, "end_line": 1, "end_column": 1}]}}],
//!  "applied_fixes": [{"code": "DS204", "applicability": "safe", "message": "...", "line": 2}]}
//! ```
//!
//! A dataset row's path is `FILE#N`, N being its 1-based line number; its findings' lines are
//! lines of the code taken out of the row's assistant turn. `fix` (a hint for people) and
//! `autofix` (the edit dagsmith can make, see [`crate::fix`]) are omitted when there is none;
//! `applied_fixes` lists what `--fix` changed and is omitted when nothing was; `error` is present
//! only for inputs that could not be validated. SARIF results carry `autofix` as SARIF `fixes`.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::str::FromStr;

use serde::Serialize;
use serde_json::{Value, json};

use crate::finding::{Finding, Severity};
use crate::fix::{AppliedFix, Fix};
use crate::report::{DagSummary, Report};
use crate::rules;

/// Where the project lives; SARIF's `informationUri`.
pub const INFORMATION_URI: &str = "https://github.com/dagsmith/dagsmith";

/// One validated (or unreadable) input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The file as given on the command line or found in a directory (`<stdin>` for stdin).
    pub file: String,
    /// 1-based line number of a dataset row in `file`; `None` for a whole file.
    pub row: Option<usize>,
    pub report: Report,
    /// Why the input could not be validated (unreadable file, malformed dataset row, ...).
    pub error: Option<String>,
    /// The fixes applied to the input before `report` was made (`--fix`).
    pub applied_fixes: Vec<AppliedFix>,
}

impl Entry {
    /// A validated file.
    pub fn file(file: impl Into<String>, report: Report) -> Self {
        Entry { file: file.into(), row: None, report, error: None, applied_fixes: Vec::new() }
    }

    /// A validated dataset row.
    pub fn row(file: impl Into<String>, row: usize, report: Report) -> Self {
        Entry { file: file.into(), row: Some(row), report, error: None, applied_fixes: Vec::new() }
    }

    /// An input that could not be validated: `loads` is false, no DAGs, no findings.
    pub fn failed(
        file: impl Into<String>,
        row: Option<usize>,
        airflow_version: impl Into<String>,
        error: impl Into<String>,
    ) -> Self {
        Entry {
            file: file.into(),
            row,
            report: Report {
                airflow_version: airflow_version.into(),
                loads: false,
                dags: Vec::new(),
                findings: Vec::new(),
            },
            error: Some(error.into()),
            applied_fixes: Vec::new(),
        }
    }

    /// `file`, or `file#N` for a dataset row.
    pub fn path(&self) -> String {
        match self.row {
            Some(n) => format!("{}#{n}", self.file),
            None => self.file.clone(),
        }
    }

    pub fn is_error(&self) -> bool {
        self.error.is_some()
    }
}

/// The machine-readable formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Json,
    Jsonl,
    Csv,
    Sarif,
    Github,
    Gitlab,
}

impl Format {
    pub const ALL: [Format; 6] =
        [Format::Json, Format::Jsonl, Format::Csv, Format::Sarif, Format::Github, Format::Gitlab];

    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
            Format::Sarif => "sarif",
            Format::Github => "github",
            Format::Gitlab => "gitlab",
        }
    }

    pub fn render(self, entries: &[Entry]) -> String {
        match self {
            Format::Json => to_json(entries),
            Format::Jsonl => to_jsonl(entries),
            Format::Csv => to_csv(entries),
            Format::Sarif => to_sarif(entries),
            Format::Github => to_github(entries),
            Format::Gitlab => to_gitlab(entries),
        }
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL.into_iter().find(|f| f.name().eq_ignore_ascii_case(s)).ok_or_else(|| {
            format!("unknown format {s:?}: expected json, jsonl, csv, sarif, github or gitlab")
        })
    }
}

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
            let text = match &f.fix {
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

/// Escapes a workflow command's message (GitHub's `escapeData`).
fn github_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a workflow command's property value (GitHub's `escapeProperty`).
fn github_property(text: &str) -> String {
    github_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands: one `::error` / `::warning` / `::notice` line per finding,
/// which GitHub turns into annotations on the pull request's changed lines (like
/// `ruff check --output-format github`). The message repeats `path:line:col: CODE` so that the
/// log itself stays readable. A dataset row's findings point at the row's line; an input that
/// could not be read is one `::error` for its file.
pub fn to_github(entries: &[Entry]) -> String {
    let mut out = String::new();
    for entry in entries {
        let file = github_property(&entry.file);
        if let Some(error) = &entry.error {
            let line = entry.row.map(|r| format!(",line={r}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "::error title=dagsmith,file={file}{line}::{}",
                github_data(&format!("{}: {error}", entry.path()))
            );
            continue;
        }
        for f in &entry.report.findings {
            let level = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "notice",
            };
            let title = github_property(&format!("dagsmith ({})", f.code));
            let (position, text) = match entry.row {
                None => (
                    format!(
                        "line={},col={},endLine={},endColumn={}",
                        f.line.max(1),
                        f.column.max(1),
                        f.end_line.max(f.line).max(1),
                        f.end_column.max(1)
                    ),
                    format!("{}:{}:{}: {} {}", entry.file, f.line, f.column, f.code, f.message),
                ),
                Some(row) => (
                    format!("line={}", row.max(1)),
                    format!(
                        "{}: {} {} (line {}, column {} of the row's assistant code)",
                        entry.path(),
                        f.code,
                        f.message,
                        f.line,
                        f.column
                    ),
                ),
            };
            let text = match &f.fix {
                Some(fix) => format!("{text}\nhelp: {fix}"),
                None => text,
            };
            let _ = writeln!(
                out,
                "::{level} title={title},file={file},{position}::{}",
                github_data(&text)
            );
        }
    }
    out
}

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
            if let Some(fix) = &f.fix {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Edge;

    fn finding(code: &'static str, severity: Severity, message: &str) -> Finding {
        Finding {
            code,
            severity,
            line: 2,
            column: 5,
            end_line: 2,
            end_column: 9,
            message: message.into(),
            fix: None,
            autofix: None,
        }
    }

    fn sample() -> Vec<Entry> {
        let ok = Report {
            airflow_version: "3.1".into(),
            loads: true,
            dags: vec![DagSummary {
                dag_id: Some("ok".into()),
                line: 4,
                tasks: vec!["a".into(), "b".into()],
                edges: vec![Edge { upstream: "a".into(), downstream: "b".into() }],
                dynamic_tasks: 0,
            }],
            findings: vec![],
        };
        let mut bad_finding = finding("DS001", Severity::Error, "Expected ')', found \"newline\"");
        bad_finding.fix = Some("close the parenthesis".into());
        let bad = Report {
            airflow_version: "2.7.2".into(),
            loads: false,
            dags: vec![],
            findings: vec![bad_finding, finding("DS103", Severity::Warning, "x, y")],
        };
        vec![
            Entry::file("dags/ok.py", ok),
            Entry::row("data/set 1.jsonl", 3, bad),
            Entry::failed("data/set 1.jsonl", Some(4), "3.1", "1:15: missing field `messages`"),
            Entry::failed("missing.py", None, "3.1", "cannot read: No such file"),
        ]
    }

    #[test]
    fn json_is_an_array_of_entry_objects() {
        let v: Value = serde_json::from_str(&to_json(&sample())).unwrap();
        let a = v.as_array().unwrap();
        assert_eq!(a.len(), 4);
        assert_eq!(a[0]["path"], "dags/ok.py");
        assert_eq!(a[0]["loads"], true);
        assert_eq!(a[0]["dags"][0]["dag_id"], "ok");
        assert_eq!(a[0]["dags"][0]["edges"][0], json!({"upstream": "a", "downstream": "b"}));
        assert!(a[0].get("error").is_none());
        assert_eq!(a[1]["path"], "data/set 1.jsonl#3");
        assert_eq!(a[1]["findings"][0]["severity"], "error");
        assert_eq!(a[1]["findings"][0]["fix"], "close the parenthesis");
        assert!(a[1]["findings"][1].get("fix").is_none());
        assert_eq!(a[2]["loads"], false);
        assert_eq!(a[2]["dags"], json!([]));
        assert_eq!(a[2]["error"], "1:15: missing field `messages`");
    }

    #[test]
    fn jsonl_has_one_object_per_line() {
        let text = to_jsonl(&sample());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        for line in &lines {
            let v: Value = serde_json::from_str(line).unwrap();
            for key in ["path", "airflow_version", "loads", "dags", "findings"] {
                assert!(v.get(key).is_some(), "{key} missing in {line}");
            }
        }
        let v: Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(v["airflow_version"], "2.7.2");
        assert_eq!(v["findings"][0]["end_column"], 9);
        assert_eq!(to_jsonl(&[]), "");
    }

    #[test]
    fn csv_quotes_per_rfc_4180() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("cr\r"), "\"cr\r\"");
        assert_eq!(csv_field(""), "");
    }

    #[test]
    fn csv_rows_mirror_airflow_net_columns() {
        let text = to_csv(&sample());
        let mut lines = text.split("\r\n");
        assert_eq!(
            lines.next().unwrap(),
            "filename,airflow_version,id,validation_passed,failure_cause,loads,errors,warnings,codes,messages,error"
        );
        assert_eq!(lines.next().unwrap(), "dags/ok.py,3.1,,True,,true,0,0,,,");
        assert_eq!(
            lines.next().unwrap(),
            "data/set 1.jsonl#3,2.7.2,3,False,SYNTAX_ERROR; UNDEFINED_NAME_AT_RUNTIME,false,1,1,\
             DS001; DS103,\"2:5 DS001 Expected ')', found \"\"newline\"\"\n2:5 DS103 x, y\","
        );
        assert_eq!(
            lines.next().unwrap(),
            "data/set 1.jsonl#4,3.1,4,False,READ_ERROR,false,0,0,,,1:15: missing field `messages`"
        );
        assert_eq!(
            lines.next().unwrap(),
            "missing.py,3.1,,False,READ_ERROR,false,0,0,,,cannot read: No such file"
        );
        assert_eq!(lines.next().unwrap(), "");
        assert_eq!(lines.next(), None);
    }

    #[test]
    fn sarif_has_the_required_fields() {
        let v: Value = serde_json::from_str(&to_sarif(&sample())).unwrap();
        assert_eq!(v["version"], "2.1.0");
        assert!(v["$schema"].as_str().unwrap().contains("sarif"));
        let run = &v["runs"][0];
        assert_eq!(run["columnKind"], "unicodeCodePoints");
        let driver = &run["tool"]["driver"];
        assert_eq!(driver["name"], "dagsmith");
        assert_eq!(driver["version"], crate::VERSION);
        assert_eq!(driver["informationUri"], INFORMATION_URI);
        let rules_json = driver["rules"].as_array().unwrap();
        assert_eq!(rules_json.len(), rules::ALL.len());
        for (r, j) in rules::ALL.iter().zip(rules_json) {
            assert_eq!(j["id"], r.code);
            assert_eq!(j["name"], r.name);
            assert_eq!(j["shortDescription"]["text"], r.summary);
            assert_eq!(j["fullDescription"]["text"], r.explanation);
            assert_eq!(j["defaultConfiguration"]["level"], sarif_level(r.severity));
        }
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 2);
        let first = &results[0];
        assert_eq!(first["ruleId"], "DS001");
        assert_eq!(first["level"], "error");
        assert_eq!(first["ruleIndex"], 0);
        assert_eq!(results[1]["level"], "warning");
        let loc = &first["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "data/set%201.jsonl");
        // A dataset row's findings point at the row.
        assert_eq!(loc["region"], json!({"startLine": 3}));
        let text = first["message"]["text"].as_str().unwrap();
        assert!(text.contains("row 3, line 2, column 5"), "{text}");
        assert!(text.contains("Help: close the parenthesis"), "{text}");
        let invocation = &run["invocations"][0];
        assert_eq!(invocation["executionSuccessful"], false);
        assert_eq!(invocation["toolExecutionNotifications"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn sarif_region_for_a_file() {
        let report = Report {
            airflow_version: "3.1".into(),
            loads: false,
            dags: vec![],
            findings: vec![finding("DS102", Severity::Info, "n")],
        };
        let v: Value = serde_json::from_str(&to_sarif(&[Entry::file("./d/x.py", report)])).unwrap();
        let result = &v["runs"][0]["results"][0];
        assert_eq!(result["level"], "note");
        let loc = &result["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"], json!({"uri": "d/x.py", "uriBaseId": "%SRCROOT%"}));
        assert_eq!(
            loc["region"],
            json!({"startLine": 2, "startColumn": 5, "endLine": 2, "endColumn": 9})
        );
        assert_eq!(v["runs"][0]["invocations"][0]["executionSuccessful"], true);
    }

    #[test]
    fn uris() {
        assert_eq!(path_to_uri("dags/a b.py"), ("dags/a%20b.py".into(), true));
        assert_eq!(path_to_uri("./dags/x#1.py"), ("dags/x%231.py".into(), true));
        assert_eq!(path_to_uri("/abs/é.py"), ("file:///abs/%C3%A9.py".into(), false));
        assert_eq!(path_to_uri("C:\\dags\\x.py"), ("file:///C:/dags/x.py".into(), false));
        assert_eq!(path_to_uri("<stdin>"), ("%3Cstdin%3E".into(), true));
    }

    #[test]
    fn github_workflow_commands() {
        let mut entries = sample();
        entries[1].file = "data/set,1.jsonl".into();
        let mut report = entries[1].report.clone();
        report.findings[0].message = "50% of it\nis wrong".into();
        entries.push(Entry::file("dags/x.py", report));
        let text = to_github(&entries);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "::error title=dagsmith (DS001),file=data/set%2C1.jsonl,line=3::data/set,1.jsonl#3: \
                 DS001 Expected ')', found \"newline\" (line 2, column 5 of the row's assistant \
                 code)%0Ahelp: close the parenthesis",
                "::warning title=dagsmith (DS103),file=data/set%2C1.jsonl,line=3::data/set,1.jsonl#3: \
                 DS103 x, y (line 2, column 5 of the row's assistant code)",
                "::error title=dagsmith,file=data/set 1.jsonl,line=4::data/set 1.jsonl#4: 1:15: \
                 missing field `messages`",
                "::error title=dagsmith,file=missing.py::missing.py: cannot read: No such file",
                "::error title=dagsmith (DS001),file=dags/x.py,line=2,col=5,endLine=2,endColumn=9::\
                 dags/x.py:2:5: DS001 50%25 of it%0Ais wrong%0Ahelp: close the parenthesis",
                "::warning title=dagsmith (DS103),file=dags/x.py,line=2,col=5,endLine=2,endColumn=9::\
                 dags/x.py:2:5: DS103 x, y",
            ]
        );
        assert_eq!(to_github(&[]), "");
    }

    #[test]
    fn gitlab_code_quality() {
        let mut entries = sample();
        let report = entries[1].report.clone();
        entries.push(Entry::file("dags/x.py", report.clone()));
        // The same finding twice in one file: two issues with different fingerprints.
        let mut twice = report;
        twice.findings.push(twice.findings[1].clone());
        entries.push(Entry::file("dags/y.py", twice));
        let v: Value = serde_json::from_str(&to_gitlab(&entries)).unwrap();
        let issues = v.as_array().unwrap();
        assert_eq!(issues.len(), 2 + 2 + 2 + 3);
        assert_eq!(
            issues[0],
            json!({
                "description": "DS001 Expected ')', found \"newline\" (line 2, column 5 of the \
                                row's assistant code) (help: close the parenthesis)",
                "check_name": "DS001",
                "fingerprint": issues[0]["fingerprint"],
                "severity": "critical",
                "location": {"path": "data/set 1.jsonl", "lines": {"begin": 3, "end": 3}},
            })
        );
        assert_eq!(issues[1]["severity"], "minor");
        assert_eq!(issues[2]["check_name"], "read-error");
        assert_eq!(issues[2]["location"]["lines"]["begin"], 4);
        assert_eq!(
            issues[3]["location"],
            json!({"path": "missing.py", "lines": {"begin": 1, "end": 1}})
        );
        assert_eq!(
            issues[4]["location"],
            json!({"path": "dags/x.py", "positions": {
                "begin": {"line": 2, "column": 5}, "end": {"line": 2, "column": 9}}})
        );
        let fingerprints: std::collections::BTreeSet<&str> =
            issues.iter().map(|i| i["fingerprint"].as_str().unwrap()).collect();
        assert_eq!(fingerprints.len(), issues.len(), "fingerprints are unique");
        for fp in &fingerprints {
            assert_eq!(fp.len(), 16);
        }
        // Stable across runs, and independent of the line.
        let mut moved = entries.clone();
        moved[4].report.findings[0].line = 40;
        let again: Value = serde_json::from_str(&to_gitlab(&moved)).unwrap();
        assert_eq!(again[4]["fingerprint"], issues[4]["fingerprint"]);
        assert_eq!(to_gitlab(&[]), "[]\n");
    }

    #[test]
    fn format_names() {
        assert_eq!("SARIF".parse::<Format>().unwrap(), Format::Sarif);
        assert!("xml".parse::<Format>().is_err());
        for f in Format::ALL {
            assert_eq!(f.name().parse::<Format>().unwrap(), f);
        }
    }
}
