//! Helpers shared by the CLI's end-to-end test files (each file uses a subset).
#![allow(dead_code)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The persistent cache scripts/setup.sh fills (test model, model wheels).
pub fn cache() -> PathBuf {
    std::env::var_os("DAGSMITH_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/dagsmith")
    })
}

/// The tiny test model (SmolLM2-135M, fetched by scripts/setup.sh; `DAGSMITH_TEST_MODEL`
/// points elsewhere).
pub fn test_model() -> PathBuf {
    let p = std::env::var_os("DAGSMITH_TEST_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache().join("models/SmolLM2-135M-Instruct.Q4_1.gguf"));
    assert!(p.is_file(), "test model {} missing: run scripts/setup.sh", p.display());
    p
}

/// A scratch directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("dagsmith-cli-{}-{n}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, contents).unwrap();
        path
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The scripted OpenAI-compatible server (shared with the client-overhead benchmark).
#[path = "../../../remote/examples/mock_backend/server.rs"]
pub mod mock_backend;

/// Runs `command` (the dagsmith binary, arguments and environment set by the caller) with
/// `stdin` as its standard input (none: closed), and waits for its output.
pub fn run_command(mut command: Command, stdin: Option<&str>) -> Output {
    let mut child = command
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run dagsmith");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

pub fn code(out: &Output) -> i32 {
    out.status.code().expect("exit code")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
