//! JSONL output that survives being killed: rows are appended one whole line at a time, and a
//! rerun reads the rows already written (to skip their work) after cutting a torn last line.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// An output file opened for appending whole rows.
pub struct ResumableJsonl {
    file: File,
    path: PathBuf,
    /// The first write error: later rows are not written (the caller stops the run).
    error: Option<String>,
    /// The row being written, kept between rows: a row is tens of KB, and growing a new buffer
    /// for each one copied it several times.
    line: Vec<u8>,
}

impl ResumableJsonl {
    /// Opens (or creates) `path` for appending. Each complete row already there is parsed as
    /// `T` and handed to `seen`; a torn last line (a run killed mid-write) is cut off, so that
    /// its row is generated again. A complete line that is not a row is an error naming its
    /// line and column.
    pub fn open<T: DeserializeOwned>(
        path: &Path,
        mut seen: impl FnMut(T),
    ) -> Result<ResumableJsonl, String> {
        let good_len = match File::open(path) {
            Ok(file) => read_rows(path, file, &mut seen)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        if file.metadata().is_ok_and(|m| m.len() > good_len) {
            eprintln!(
                "dagsmith: {}: dropping an incomplete last line (from an interrupted run)",
                path.display()
            );
            file.set_len(good_len)
                .map_err(|e| format!("cannot truncate {}: {e}", path.display()))?;
        }
        let _ = file.seek(SeekFrom::End(0));
        Ok(ResumableJsonl { file, path: path.to_path_buf(), error: None, line: Vec::new() })
    }

    /// Appends one row as one line (one write, flushed): an interrupted run leaves whole rows,
    /// or a torn last line that the next run drops.
    pub fn append(&mut self, row: &impl Serialize) -> Result<(), String> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        self.line.clear();
        serde_json::to_writer(&mut self.line, row).expect("rows serialize");
        self.line.push(b'\n');
        if let Err(e) = self.file.write_all(&self.line).and_then(|()| self.file.flush()) {
            let e = format!("cannot write {}: {e}", self.path.display());
            self.error = Some(e.clone());
            return Err(e);
        }
        Ok(())
    }
}

/// Reads the complete rows of `file`; returns the length of the part to keep.
fn read_rows<T: DeserializeOwned>(
    path: &Path,
    file: File,
    seen: &mut impl FnMut(T),
) -> Result<u64, String> {
    let mut reader = BufReader::new(file);
    let mut good_len = 0u64;
    let mut line = Vec::new();
    let mut line_no = 0usize;
    loop {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if n == 0 {
            return Ok(good_len);
        }
        line_no += 1;
        let complete = line.ends_with(b"\n");
        let text = trim_ascii_end(&line);
        if text.is_empty() {
            good_len += n as u64;
            continue;
        }
        if !complete {
            // The last line, torn: keep what comes before it.
            return Ok(good_len);
        }
        match serde_json::from_slice::<T>(text) {
            Ok(row) => {
                seen(row);
                good_len += n as u64;
            }
            Err(e) => {
                // A torn line followed by more rows (an older dagsmith, or an edit) is not
                // silently dropped with everything after it.
                let mut rest = Vec::new();
                if reader.read_to_end(&mut rest).is_ok() && trim_ascii_end(&rest).is_empty() {
                    return Ok(good_len);
                }
                return Err(format!(
                    "{}:{line_no}:{}: not an output row ({}); remove the line to resume",
                    path.display(),
                    e.column().max(1),
                    strip_position(&e.to_string())
                ));
            }
        }
    }
}

fn trim_ascii_end(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |i| i + 1);
    &bytes[..end]
}

/// serde_json appends " at line L column C"; the position is reported separately.
fn strip_position(message: &str) -> &str {
    message.rfind(" at line ").map_or(message, |i| &message[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Row {
        n: u32,
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("dagsmith-jsonl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    fn open(path: &Path) -> Result<(ResumableJsonl, Vec<u32>), String> {
        let mut seen = Vec::new();
        let out = ResumableJsonl::open(path, |r: Row| seen.push(r.n))?;
        Ok((out, seen))
    }

    #[test]
    fn appends_resumes_and_cuts_a_torn_line() {
        let path = scratch("a.jsonl");
        let _ = std::fs::remove_file(&path);
        let (mut out, seen) = open(&path).unwrap();
        assert!(seen.is_empty());
        out.append(&serde_json::json!({"n": 1})).unwrap();
        out.append(&serde_json::json!({"n": 2})).unwrap();
        drop(out);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("\n{\"n\": 3");
        std::fs::write(&path, &text).unwrap();
        let (mut out, seen) = open(&path).unwrap();
        assert_eq!(seen, [1, 2]);
        out.append(&serde_json::json!({"n": 4})).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"n\":1}\n{\"n\":2}\n\n{\"n\":4}\n");
    }

    #[test]
    fn a_bad_row_in_the_middle_is_an_error_with_its_position() {
        let path = scratch("b.jsonl");
        std::fs::write(&path, "{\"n\": 1}\n{\"n\": \"x\"}\n{\"n\": 3}\n").unwrap();
        let err = open(&path).err().unwrap();
        assert!(err.ends_with(":2:9: not an output row (invalid type: string \"x\", expected u32); remove the line to resume"), "{err}");
        // The same line last, with nothing after it: a torn write, cut.
        std::fs::write(&path, "{\"n\": 1}\n{\"n\": \"x\"}\n").unwrap();
        assert_eq!(open(&path).unwrap().1, [1]);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"n\": 1}\n");
    }
}
