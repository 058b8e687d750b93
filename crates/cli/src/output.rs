//! Writing: colors, stderr messages, standard output that tolerates a closed pipe, and atomic
//! file replacement.

use std::fs;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::ColorChoice;

/// Whether to color text bound for stdout.
pub fn use_color(choice: ColorChoice, writing_to_file: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            !writing_to_file
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && io::stdout().is_terminal()
        }
    }
}

/// Plain ANSI styling, or nothing.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    pub enabled: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.enabled { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
    }
    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }
    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }
    pub fn red(self, text: &str) -> String {
        self.paint("1;31", text)
    }
    pub fn green(self, text: &str) -> String {
        self.paint("1;32", text)
    }
    pub fn yellow(self, text: &str) -> String {
        self.paint("1;33", text)
    }
    pub fn blue(self, text: &str) -> String {
        self.paint("1;34", text)
    }
    pub fn cyan(self, text: &str) -> String {
        self.paint("36", text)
    }
}

/// An error message on stderr, never failing.
pub fn error(message: &str) {
    let _ = writeln!(io::stderr().lock(), "dagsmith: error: {message}");
}

pub fn warning(message: &str) {
    let _ = writeln!(io::stderr().lock(), "dagsmith: warning: {message}");
}

pub fn note(message: &str) {
    let _ = writeln!(io::stderr().lock(), "dagsmith: note: {message}");
}

/// A line on stderr, never failing.
pub fn stderr_line(line: &str) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

/// What happened when writing to stdout.
pub enum Written {
    Ok,
    /// The reader went away (`dagsmith ... | head`): stop quietly.
    BrokenPipe,
    Failed,
}

/// Writes all of `text` to stdout.
pub fn stdout(text: &str) -> Written {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Written::Ok,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Written::BrokenPipe,
        Err(e) => {
            error(&format!("cannot write to standard output: {e}"));
            Written::Failed
        }
    }
}

/// Replaces `path` with `contents` atomically: writes a temporary file in the same directory,
/// syncs it and renames it over `path`. On failure `path` is left as it was.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    if path.is_dir() {
        return Err(io::Error::new(io::ErrorKind::IsADirectory, "is a directory"));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let tmp = dir.join(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
    let result = (|| {
        let mut file = fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        // Keep the permissions of the file being replaced.
        if let Ok(meta) = fs::metadata(path) {
            let _ = fs::set_permissions(&tmp, meta.permissions());
        }
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_cleans_up() {
        let dir = std::env::temp_dir().join(format!("dagsmith-out-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let target = dir.join("r.json");
        fs::write(&target, "old").unwrap();
        write_atomic(&target, b"new").unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        // Writing into a missing directory fails and leaves nothing behind.
        assert!(write_atomic(&dir.join("nope/r.json"), b"x").is_err());
        assert!(write_atomic(&dir, b"x").is_err());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn style_off_is_plain() {
        let s = Style { enabled: false };
        assert_eq!(s.red("x"), "x");
        assert_eq!(Style { enabled: true }.red("x"), "\x1b[1;31mx\x1b[0m");
    }
}
