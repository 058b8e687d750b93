//! GitHub Actions workflow commands: annotations on a pull request's lines.

use std::fmt::Write as _;

use super::Entry;
use crate::finding::Severity;

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
            let text = match f.fix.text() {
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
