//! An open document: its text as the client last sent it, and where it lives on disk.

use std::path::PathBuf;

use dagsmith_core::source::LineIndex;
use lsp_types::{TextDocumentContentChangeEvent, Uri};

use crate::check::Checked;
use crate::position;

#[derive(Debug)]
pub struct Document {
    pub uri: Uri,
    pub text: String,
    pub version: i32,
    pub language_id: String,
    /// The file behind a `file:` URI (settings are looked up from there).
    pub path: Option<PathBuf>,
    /// The result of the last validation of this text, if it was validated since it changed.
    pub checked: Option<Checked>,
}

impl Document {
    pub fn new(uri: Uri, text: String, version: i32, language_id: String) -> Self {
        let path = uri_to_path(&uri);
        Document { uri, text, version, language_id, path, checked: None }
    }

    /// Applies the client's changes (whole-text ones, or ranged ones from a client that sends
    /// them anyway).
    pub fn apply(&mut self, version: i32, changes: Vec<TextDocumentContentChangeEvent>) {
        for change in changes {
            match change.range {
                None => self.text = change.text,
                Some(range) => {
                    let lines = LineIndex::new(&self.text);
                    let start = position::offset_of(&lines, range.start);
                    let end = position::offset_of(&lines, range.end).max(start);
                    self.text.replace_range(start..end, &change.text);
                }
            }
        }
        self.version = version;
        self.checked = None;
    }

    /// A Python file (by language id or extension).
    pub fn is_python(&self) -> bool {
        self.language_id == "python"
            || self.path.as_ref().is_some_and(|p| p.extension().is_some_and(|e| e == "py"))
            || self.uri.as_str().ends_with(".py")
    }
}

/// `file:///a/b%20c.py` → `/a/b c.py`; `None` for other schemes or undecodable paths.
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    // Skip the authority (empty or a host name) up to the path.
    let path = &rest[rest.find('/')?..];
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let bytes = percent_decode(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        Some(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
    }
    #[cfg(not(unix))]
    {
        // `/C:/dags/x.py` → `C:/dags/x.py`.
        let text = String::from_utf8(bytes).ok()?;
        let b = text.as_bytes();
        let text = if b.len() >= 3 && b[0] == b'/' && b[1].is_ascii_alphabetic() && b[2] == b':' {
            text[1..].to_string()
        } else {
            text
        };
        Some(PathBuf::from(text))
    }
}

fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    #[test]
    fn file_uris_become_paths() {
        assert_eq!(uri_to_path(&uri("file:///a/b%20c.py")), Some(PathBuf::from("/a/b c.py")));
        assert_eq!(uri_to_path(&uri("file://localhost/a.py")), Some(PathBuf::from("/a.py")));
        assert_eq!(uri_to_path(&uri("untitled:Untitled-1")), None);
        assert_eq!(percent_decode("/a%2"), None);
        assert_eq!(percent_decode("/a%zz"), None);
    }

    #[test]
    fn changes_apply_in_order() {
        let mut d = Document::new(uri("file:///x.py"), "abc\ndef\n".into(), 1, "python".into());
        let ranged = |l1, c1, l2, c2, text: &str| TextDocumentContentChangeEvent {
            range: Some(lsp_types::Range {
                start: lsp_types::Position { line: l1, character: c1 },
                end: lsp_types::Position { line: l2, character: c2 },
            }),
            range_length: None,
            text: text.into(),
        };
        d.apply(2, vec![ranged(1, 0, 1, 3, "XY"), ranged(0, 1, 0, 1, "+")]);
        assert_eq!(d.text, "a+bc\nXY\n");
        assert_eq!(d.version, 2);
        d.apply(
            3,
            vec![TextDocumentContentChangeEvent {
                range: None,
                range_length: None,
                text: "new".into(),
            }],
        );
        assert_eq!(d.text, "new");
        assert!(d.is_python());
    }
}
