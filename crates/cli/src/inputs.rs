//! Finding and reading inputs: .py files, directories, JSONL datasets and standard input.
//!
//! Everything is read before validation starts, in a stable order: paths in the order given,
//! directory contents sorted by name, dataset rows in file order.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use dagsmith_core::dataset::{self, RowError};
use dagsmith_core::extract::extract_code;
use dagsmith_core::formats::Entry;
use dagsmith_core::{AirflowVersion, Finding, Report, Severity, rules};

use crate::output;

/// The name standard input has in reports.
pub const STDIN_NAME: &str = "<stdin>";

/// Directories never searched.
const SKIPPED_DIRS: &[&str] = &["__pycache__", "node_modules", "target"];

/// After this many bad rows in one dataset, the rest are only counted on stderr.
const BAD_ROWS_SHOWN: usize = 10;

/// One piece of Python source to validate.
#[derive(Debug)]
pub struct Job {
    pub file: String,
    pub row: Option<usize>,
    pub source: String,
    pub version: AirflowVersion,
    /// Set when the source could not be decoded as Python reads it: the report to give instead
    /// of validating.
    pub undecodable: Option<Report>,
    /// The file on disk for a whole .py file (not standard input or a dataset row): where
    /// `--fix` writes.
    pub path: Option<PathBuf>,
}

/// An input, in order: something to validate or something that could not be read.
#[derive(Debug)]
pub enum Item {
    Job(Job),
    Failed(Entry),
}

#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// `--airflow-version` when given: overrides dataset rows' own versions.
    pub explicit_version: Option<AirflowVersion>,
    /// Take code out of markdown fences in .py files and stdin too.
    pub extract: bool,
    /// Print bad dataset rows and unreadable paths on stderr as they are found.
    pub report_errors: bool,
}

impl Options {
    fn default_version(&self) -> AirflowVersion {
        self.explicit_version.unwrap_or(AirflowVersion::DEFAULT)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Python,
    Dataset,
}

fn kind_of(path: &Path) -> Kind {
    if path.extension() == Some(OsStr::new("jsonl")) { Kind::Dataset } else { Kind::Python }
}

/// What a path argument names.
enum Found {
    /// `named`: the path was given as an argument (not found in a directory).
    File {
        path: PathBuf,
        display: String,
        kind: Kind,
        named: bool,
    },
    Unreadable {
        display: String,
        message: String,
    },
}

/// Reads every input named by `paths`. Problems become `Item::Failed` entries (and, with
/// `report_errors`, stderr messages); `empty_dirs` lists directories that held no input.
pub fn collect(paths: &[PathBuf], options: &Options) -> (Vec<Item>, Vec<String>) {
    collect_with(paths, options, &mut |_, _| None)
}

/// The target version a settings file gives an input, asked with the input's name in reports
/// and its path (`None` for standard input); `None` when no settings file names one.
pub type FileVersion<'a> = dyn FnMut(&str, Option<&Path>) -> Option<AirflowVersion> + 'a;

/// [`collect`], with the target of each input that the command line does not set taken from
/// `file_version` (after a dataset row's own version), before the default.
pub fn collect_with(
    paths: &[PathBuf],
    options: &Options,
    file_version: &mut FileVersion<'_>,
) -> (Vec<Item>, Vec<String>) {
    let mut items = Vec::new();
    let mut empty_dirs = Vec::new();
    for arg in paths {
        if arg.as_os_str() == "-" {
            let version = options.explicit_version.or_else(|| file_version(STDIN_NAME, None));
            read_stdin(version.unwrap_or(AirflowVersion::DEFAULT), options, &mut items);
            continue;
        }
        let display = arg.to_string_lossy().into_owned();
        let mut found = Vec::new();
        match fs::metadata(arg) {
            Ok(meta) if meta.is_dir() => {
                walk(arg, &display, &mut found);
                if found.is_empty() {
                    empty_dirs.push(display);
                }
            }
            Ok(_) => found.push(Found::File {
                path: arg.clone(),
                kind: kind_of(arg),
                display,
                named: true,
            }),
            Err(e) => found.push(Found::Unreadable { display, message: io_message(&e) }),
        }
        for f in found {
            match f {
                Found::File { path, display, kind, named } => {
                    let version = options
                        .explicit_version
                        .or_else(|| file_version(&display, Some(&path)))
                        .unwrap_or(AirflowVersion::DEFAULT);
                    read_file(&path, display, kind, named, version, options, &mut items)
                }
                Found::Unreadable { display, message } => {
                    unreadable(display, None, message, options, &mut items)
                }
            }
        }
    }
    (items, empty_dirs)
}

fn io_message(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            // Drop the " (os error N)" suffix.
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}

fn unreadable(
    display: String,
    row: Option<usize>,
    message: String,
    options: &Options,
    items: &mut Vec<Item>,
) {
    if options.report_errors {
        output::error(&format!("cannot read {display}: {message}"));
    }
    let error = format!("cannot read: {message}");
    items.push(Item::Failed(Entry::failed(
        display,
        row,
        options.default_version().to_string(),
        error,
    )));
}

/// Recursively lists *.py and *.jsonl files under `dir`, sorted by name, skipping hidden
/// entries, `__pycache__`, `node_modules`, `target` and symbolic links to directories.
fn walk(dir: &Path, display: &str, found: &mut Vec<Found>) {
    let entries = match fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            found.push(Found::Unreadable { display: display.to_string(), message: io_message(&e) });
            return;
        }
    };
    let mut entries: Vec<fs::DirEntry> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let name_str = name.to_string_lossy();
        if name_str.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let child_display = if display == "." {
            name_str.to_string()
        } else if display.ends_with('/') || display.ends_with(std::path::MAIN_SEPARATOR) {
            format!("{display}{name_str}")
        } else {
            format!("{display}/{name_str}")
        };
        let Ok(file_type) = entry.file_type() else { continue };
        let is_dir = if file_type.is_symlink() {
            // Follow links to files, never links to directories (no loops).
            match fs::metadata(&path) {
                Ok(m) if m.is_file() => false,
                _ => continue,
            }
        } else {
            file_type.is_dir()
        };
        if is_dir {
            if !SKIPPED_DIRS.contains(&name_str.as_ref()) {
                walk(&path, &child_display, found);
            }
            continue;
        }
        let ext = path.extension().and_then(OsStr::to_str);
        if matches!(ext, Some("py" | "jsonl")) {
            let kind = kind_of(&path);
            found.push(Found::File { path, display: child_display, kind, named: false });
        }
    }
}

fn read_stdin(version: AirflowVersion, options: &Options, items: &mut Vec<Item>) {
    let mut bytes = Vec::new();
    if let Err(e) = io::stdin().lock().read_to_end(&mut bytes) {
        unreadable(STDIN_NAME.into(), None, io_message(&e), options, items);
        return;
    }
    items.push(Item::Job(python_job(STDIN_NAME.into(), bytes, version, options)));
}

fn read_file(
    path: &Path,
    display: String,
    kind: Kind,
    named: bool,
    version: AirflowVersion,
    options: &Options,
    items: &mut Vec<Item>,
) {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) => return unreadable(display, None, io_message(&e), options, items),
    };
    match kind {
        Kind::Python => {
            let mut job = python_job(display, bytes, version, options);
            job.path = Some(path.to_path_buf());
            items.push(Item::Job(job));
        }
        Kind::Dataset if !named && !looks_like_dataset(&bytes) => {
            if options.report_errors {
                output::note(&format!(
                    "skipped {display}: not a ChatML dataset (its first row has no \"messages\"); \
                     name it explicitly to validate it anyway"
                ));
            }
        }
        Kind::Dataset => read_dataset(&display, &bytes, version, options, items),
    }
}

/// For .jsonl files found in directories: false when the first non-blank line is a JSON object
/// without `messages` (a manifest, a label file, ...), true otherwise (malformed rows included,
/// so that they are reported).
fn looks_like_dataset(bytes: &[u8]) -> bool {
    let Some(first) =
        bytes.split(|&b| b == b'\n').find(|line| line.iter().any(|b| !b.is_ascii_whitespace()))
    else {
        return true;
    };
    match serde_json::from_slice::<serde_json::Value>(first) {
        Ok(serde_json::Value::Object(map)) => map.contains_key("messages"),
        Ok(_) => false,
        Err(_) => true,
    }
}

fn python_job(file: String, bytes: Vec<u8>, version: AirflowVersion, options: &Options) -> Job {
    let (source, undecodable) = match decode_python(bytes) {
        Ok(source) => (source, None),
        Err(report) => (String::new(), Some(report(version))),
    };
    let source = if options.extract { extract_code(&source) } else { source };
    Job { file, row: None, source, version, undecodable, path: None }
}

type ReportFor = Box<dyn FnOnce(AirflowVersion) -> Report>;

/// Decodes a source file as Python does: UTF-8 (a BOM is dropped), or, when a PEP 263 coding
/// declaration names another encoding, leniently. Undecodable UTF-8 is a syntax error in
/// Python, reported as DS001.
fn decode_python(mut bytes: Vec<u8>) -> Result<String, ReportFor> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => {
            let bytes = e.into_bytes();
            if declares_other_encoding(&bytes) {
                return Ok(String::from_utf8_lossy(&bytes).into_owned());
            }
            let valid_up_to = match std::str::from_utf8(&bytes) {
                Ok(_) => bytes.len(),
                Err(e) => e.valid_up_to(),
            };
            let prefix = String::from_utf8_lossy(&bytes[..valid_up_to]);
            let line = prefix.matches('\n').count() as u32 + 1;
            let column = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
            let byte = bytes.get(valid_up_to).copied().unwrap_or(0);
            let message = format!(
                "(unicode error) 'utf-8' codec can't decode byte 0x{byte:02x} in position \
                 {valid_up_to}: the file is not valid UTF-8 and declares no other encoding"
            );
            Err(Box::new(move |version: AirflowVersion| Report {
                airflow_version: version.to_string(),
                loads: false,
                dags: Vec::new(),
                findings: vec![Finding {
                    code: rules::SYNTAX_ERROR.code,
                    severity: Severity::Error,
                    line,
                    column,
                    end_line: line,
                    end_column: column + 1,
                    message,
                    fix: "save the file as UTF-8".into(),
                    autofix: None,
                }],
            }))
        }
    }
}

/// A PEP 263 `# -*- coding: NAME -*-` on one of the first two lines, naming something other
/// than UTF-8.
fn declares_other_encoding(bytes: &[u8]) -> bool {
    for line in bytes.split(|&b| b == b'\n').take(2) {
        let line = String::from_utf8_lossy(line);
        let trimmed = line.trim_start();
        if trimmed.trim_end().is_empty() {
            continue;
        }
        // A declaration on line 2 counts only when line 1 is a comment or blank.
        if !trimmed.starts_with('#') {
            return false;
        }
        if let Some(i) = trimmed.find("coding") {
            let rest = &trimmed[i + "coding".len()..];
            if let Some(rest) = rest.strip_prefix([':', '=']) {
                let name: String = rest
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                    .collect::<String>()
                    .to_ascii_lowercase()
                    .replace('_', "-");
                return !name.is_empty() && name != "utf-8" && name != "utf8";
            }
        }
    }
    false
}

/// `version`: for rows that name none (and when the command line names none).
fn read_dataset(
    display: &str,
    bytes: &[u8],
    version: AirflowVersion,
    options: &Options,
    items: &mut Vec<Item>,
) {
    let mut bad_rows = 0usize;
    let mut rows = 0usize;
    let mut report_bad = |line_no: usize, column: usize, message: String, items: &mut Vec<Item>| {
        bad_rows += 1;
        if options.report_errors && bad_rows <= BAD_ROWS_SHOWN {
            output::stderr_line(&format!("{display}:{line_no}:{column}: error: {message}"));
        }
        items.push(Item::Failed(Entry::failed(
            display,
            Some(line_no),
            version.to_string(),
            format!("{line_no}:{column}: {message}"),
        )));
    };
    for dataset::RowLine { line: line_no, row } in dataset::rows(bytes) {
        rows += 1;
        let row = match row {
            Ok(row) => row,
            Err(RowError { column, message, .. }) => {
                report_bad(line_no, column, format!("invalid dataset row: {message}"), items);
                continue;
            }
        };
        let version = match options.explicit_version {
            Some(v) => v,
            None => match row.airflow_version() {
                Ok(v) => v.unwrap_or(version),
                Err(e) => {
                    report_bad(
                        line_no,
                        1,
                        format!(
                            "{e} (the row's requested version; --airflow-version overrides it)"
                        ),
                        items,
                    );
                    continue;
                }
            },
        };
        let Some(source) = row.assistant_code() else {
            report_bad(line_no, 1, "invalid dataset row: no assistant message".into(), items);
            continue;
        };
        items.push(Item::Job(Job {
            file: display.to_string(),
            row: Some(line_no),
            source,
            version,
            undecodable: None,
            path: None,
        }));
    }
    if options.report_errors && bad_rows > BAD_ROWS_SHOWN {
        output::stderr_line(&format!(
            "{display}: error: {} more invalid rows not shown ({bad_rows} of {rows} rows are invalid)",
            bad_rows - BAD_ROWS_SHOWN
        ));
    }
    if rows == 0 && options.report_errors {
        output::warning(&format!("{display} has no dataset rows"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dataset_detection() {
        assert!(looks_like_dataset(b"\n{\"messages\": []}\n"));
        assert!(looks_like_dataset(b"{broken"));
        assert!(looks_like_dataset(b""));
        assert!(!looks_like_dataset(b"{\"id\": 1}\n"));
        assert!(!looks_like_dataset(b"[1, 2]\n"));
    }

    #[test]
    fn decodes_utf8_and_drops_bom() {
        assert_eq!(decode_python(b"\xEF\xBB\xBFx = 1\n".to_vec()).ok().unwrap(), "x = 1\n");
    }

    #[test]
    fn invalid_utf8_is_a_syntax_error_at_its_position() {
        let Err(report) = decode_python(b"x = 1\nyy = '\xff'\n".to_vec()) else { panic!() };
        let report = report(AirflowVersion::DEFAULT);
        assert!(!report.loads);
        let f = &report.findings[0];
        assert_eq!((f.code, f.line, f.column), ("DS001", 2, 7));
        assert!(f.message.contains("0xff"), "{}", f.message);
    }

    #[test]
    fn coding_declaration_allows_other_encodings() {
        assert!(decode_python(b"# -*- coding: latin-1 -*-\nx = '\xe9'\n".to_vec()).is_ok());
        assert!(
            decode_python(b"#!/usr/bin/env python\n# coding=utf-8\nx = '\xe9'\n".to_vec()).is_err()
        );
        assert!(!declares_other_encoding(b"x = 1\n# coding: latin-1\n# third"));
        assert!(!declares_other_encoding(b"x = 1\ny = 2\n# coding: latin-1\n"));
    }
}
