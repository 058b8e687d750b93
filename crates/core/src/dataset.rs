//! Dataset rows: the airflow-net ChatML JSONL format (`{"messages": [...], "metadata": {...}}`).
//!
//! One row per line:
//!
//! ```json
//! {"messages": [{"role": "system", "content": "..."},
//!               {"role": "user", "content": "<instruction>\n\nAirflow Version: 2.7.2"},
//!               {"role": "assistant", "content": "<code or markdown answer>"}],
//!  "metadata": {"file_name": "dag_0_variant_1", "airflow_version": "2.7.2", ...}}
//! ```
//!
//! Parsing does no I/O: callers hand over a file's bytes ([`rows`]) or one line
//! ([`parse_row`]) and, on error, report it as `file:LINE:COLUMN: message` with
//! [`RowError::line`] and [`RowError::column`].

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::airflow_version::{AirflowVersion, VersionError};
use crate::extract::extract_code;

/// The label of the version line at the end of the user turn.
pub const VERSION_LABEL: &str = "Airflow Version:";

/// One chat message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

/// One dataset row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub messages: Vec<Message>,
    /// Free-form; airflow-net puts `file_name`, `airflow_version`, `model`, ... here.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub metadata: serde_json::Value,
}

/// Why a line is not a dataset row. `line`/`column` are 1-based and relative to the text given
/// to [`parse_row`] (`line` is 1 for a single JSONL line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for RowError {}

/// One non-blank line of a JSONL dataset, parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct RowLine {
    /// 1-based line number in the file.
    pub line: usize,
    /// The row, or why the line is not one (`RowError::line` is the file's line).
    pub row: Result<Row, RowError>,
}

/// The rows of a JSONL dataset, in file order: every non-blank line, parsed. Lines may end with
/// CR LF; a line that is not valid UTF-8 is an error of that line alone, so one bad byte does not
/// cost the rest of a large file.
pub fn rows(bytes: &[u8]) -> impl Iterator<Item = RowLine> + '_ {
    bytes.split(|&b| b == b'\n').enumerate().filter_map(|(i, raw)| {
        let line = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let row = match std::str::from_utf8(raw) {
            Ok(text) if text.trim().is_empty() => return None,
            Ok(text) => parse_row(text).map_err(|e| RowError { line, ..e }),
            Err(_) => Err(RowError {
                line,
                column: 1,
                message: "the line is not valid UTF-8".to_string(),
            }),
        };
        Some(RowLine { line, row })
    })
}

/// Parses one JSONL line as a ChatML row.
pub fn parse_row(line: &str) -> Result<Row, RowError> {
    serde_json::from_str::<Row>(line).map_err(|e| RowError {
        line: e.line().max(1),
        column: e.column().max(1),
        message: strip_position(&e.to_string()),
    })
}

/// serde_json appends " at line L column C" to its messages; the position is kept separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) if message[i..].contains(" column ") => message[..i].to_string(),
        _ => message.to_string(),
    }
}

/// The user turn of a generation prompt: the instruction, a blank line and the version line.
pub fn user_turn(instruction: &str, version: impl fmt::Display) -> String {
    format!("{instruction}\n\n{VERSION_LABEL} {version}")
}

impl Row {
    /// The row's identity across runs and machines: `metadata.file_name`, else `metadata.id`
    /// (a string or a number), when present and not empty.
    pub fn id(&self) -> Option<String> {
        ["file_name", "id"].iter().find_map(|key| match self.metadata.get(key)? {
            serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    }

    /// The first message with this role.
    pub fn message(&self, role: &str) -> Option<&str> {
        self.messages.iter().find(|m| m.role == role).map(|m| m.content.as_str())
    }

    pub fn system(&self) -> Option<&str> {
        self.message("system")
    }

    pub fn user(&self) -> Option<&str> {
        self.message("user")
    }

    /// The assistant's answer as written (markdown and prose included).
    pub fn assistant(&self) -> Option<&str> {
        self.message("assistant")
    }

    /// The Python code of the assistant's answer (see [`extract_code`]).
    pub fn assistant_code(&self) -> Option<String> {
        self.assistant().map(extract_code)
    }

    /// The user turn without its `Airflow Version:` line.
    pub fn instruction(&self) -> Option<&str> {
        let user = self.user()?;
        Some(match version_line(user) {
            Some((start, _)) => user[..start].trim_end(),
            None => user.trim_end(),
        })
    }

    /// The requested version as written: the user turn's last `Airflow Version:` line, else
    /// `metadata.airflow_version`.
    pub fn airflow_version_str(&self) -> Option<&str> {
        if let Some((_, v)) = self.user().and_then(version_line) {
            return Some(v);
        }
        self.metadata
            .get("airflow_version")
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    /// The requested version, parsed. `Ok(None)` when the row names none; `Err` when it names one
    /// dagsmith cannot check (e.g. `1.10.12`) or that is not a version at all.
    pub fn airflow_version(&self) -> Result<Option<AirflowVersion>, VersionError> {
        self.airflow_version_str().map(str::parse).transpose()
    }
}

/// Finds the last `Airflow Version: X` line: (byte offset where the line starts, the version).
fn version_line(user: &str) -> Option<(usize, &str)> {
    let mut found = None;
    let mut offset = 0;
    for line in user.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.len() >= VERSION_LABEL.len()
            && trimmed.is_char_boundary(VERSION_LABEL.len())
            && trimmed[..VERSION_LABEL.len()].eq_ignore_ascii_case(VERSION_LABEL)
        {
            let value = trimmed[VERSION_LABEL.len()..].trim();
            if !value.is_empty() {
                found = Some((offset, value));
            }
        }
        offset += line.len();
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row_json(user: &str, assistant: &str, metadata: &str) -> String {
        serde_json::json!({
            "messages": [
                {"role": "system", "content": "You are an expert Apache Airflow developer."},
                {"role": "user", "content": user},
                {"role": "assistant", "content": assistant},
            ],
            "metadata": serde_json::from_str::<serde_json::Value>(metadata).unwrap(),
        })
        .to_string()
    }

    #[test]
    fn parses_a_chatml_row() {
        let line = row_json(
            "Build a daily pipeline.\n\nAirflow Version: 2.7.2",
            "```python\nx = 1\n```",
            r#"{"file_name": "dag_0_variant_1", "airflow_version": "2.9.0"}"#,
        );
        let row = parse_row(&line).unwrap();
        assert_eq!(row.messages.len(), 3);
        assert_eq!(row.system(), Some("You are an expert Apache Airflow developer."));
        assert_eq!(row.instruction(), Some("Build a daily pipeline."));
        // The user turn wins over the metadata.
        assert_eq!(row.airflow_version_str(), Some("2.7.2"));
        assert_eq!(row.airflow_version().unwrap(), Some(AirflowVersion::new(2, 7, Some(2))));
        assert_eq!(row.assistant_code().as_deref(), Some("x = 1\n"));
        assert_eq!(row.metadata["file_name"], "dag_0_variant_1");
    }

    #[test]
    fn version_falls_back_to_metadata_then_none() {
        let row = parse_row(&row_json("Do X.", "x", r#"{"airflow_version": "3.0.1"}"#)).unwrap();
        assert_eq!(row.airflow_version().unwrap(), Some(AirflowVersion::new(3, 0, Some(1))));
        assert_eq!(row.instruction(), Some("Do X."));
        let row = parse_row(&row_json("Do X.", "x", "{}")).unwrap();
        assert_eq!(row.airflow_version().unwrap(), None);
        let row = parse_row(r#"{"messages": []}"#).unwrap();
        assert_eq!(row.airflow_version().unwrap(), None);
        assert_eq!(row.assistant_code(), None);
        assert!(row.metadata.is_null());
    }

    #[test]
    fn unsupported_version_is_an_error() {
        let row = parse_row(&row_json("X\n\nAirflow Version: 1.10.12", "x", "{}")).unwrap();
        assert!(row.airflow_version().is_err());
    }

    #[test]
    fn user_turn_round_trips() {
        let turn = user_turn("Create a DAG.", AirflowVersion::new(3, 1, None));
        assert_eq!(turn, "Create a DAG.\n\nAirflow Version: 3.1");
        let row = Row {
            messages: vec![Message { role: "user".into(), content: turn }],
            metadata: serde_json::Value::Null,
        };
        assert_eq!(row.instruction(), Some("Create a DAG."));
        assert_eq!(row.airflow_version().unwrap(), Some(AirflowVersion::new(3, 1, None)));
        // Serializing and parsing again gives the same row.
        let json = serde_json::to_string(&row).unwrap();
        assert_eq!(parse_row(&json).unwrap(), row);
    }

    #[test]
    fn rows_skip_blank_lines_strip_cr_and_isolate_bad_bytes() {
        let good = row_json("Do X.", "x", r#"{"file_name": "a"}"#);
        let mut bytes = format!("{good}\r\n\n  \r\n").into_bytes();
        bytes.extend_from_slice(b"\xff{}\n{\"messages\": [1]}\n");
        bytes.extend_from_slice(good.as_bytes());
        let all: Vec<RowLine> = rows(&bytes).collect();
        assert_eq!(all.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 4, 5, 6]);
        assert_eq!(all[0].row.as_ref().unwrap().id().as_deref(), Some("a"));
        let e = all[1].row.as_ref().unwrap_err();
        assert_eq!((e.line, e.column, e.message.as_str()), (4, 1, "the line is not valid UTF-8"));
        let e = all[2].row.as_ref().unwrap_err();
        assert_eq!((e.line, e.column), (5, 15));
        assert!(all[3].row.is_ok(), "a last line without a newline is read");
        assert_eq!(rows(b"").count(), 0);
    }

    #[test]
    fn row_ids_come_from_file_name_then_id() {
        let id = |metadata: &str| parse_row(&row_json("X", "x", metadata)).unwrap().id();
        assert_eq!(id(r#"{"file_name": "f", "id": "i"}"#).as_deref(), Some("f"));
        assert_eq!(id(r#"{"file_name": "", "id": 7}"#).as_deref(), Some("7"));
        assert_eq!(id(r#"{"id": [1]}"#), None);
        assert_eq!(id("{}"), None);
        assert_eq!(parse_row(r#"{"messages": []}"#).unwrap().id(), None);
    }

    #[test]
    fn errors_carry_the_column() {
        let err = parse_row(r#"{"messages": [1]}"#).unwrap_err();
        assert_eq!(err.line, 1);
        assert_eq!(err.column, 15);
        assert!(err.message.starts_with("invalid type: integer `1`"), "{}", err.message);
        assert!(!err.message.contains(" at line "), "{}", err.message);

        let err = parse_row(r#"{"metadata": {}}"#).unwrap_err();
        assert_eq!(err.message, "missing field `messages`");
        assert_eq!(err.to_string(), format!("1:{}: missing field `messages`", err.column));

        let err = parse_row("{\"messages\": [}").unwrap_err();
        assert_eq!((err.line, err.column), (1, 15));
        assert!(parse_row("").is_err());
    }
}
