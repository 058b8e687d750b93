//! What the server's test files share: the test model, a one-slot configuration, and a raw
//! HTTP/1.1 client over TCP, so that the tests see exactly what goes over the wire (and can send
//! what well-behaved clients would not: foreign `Host` headers, wrong content types).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use dagsmith_engine::{Engine, ModelOptions};
use dagsmith_server::ServerConfig;
use serde_json::Value;

pub fn cache_dir() -> PathBuf {
    std::env::var_os("DAGSMITH_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/dagsmith")
    })
}

pub fn model_path() -> PathBuf {
    match std::env::var_os("DAGSMITH_TEST_MODEL") {
        Some(p) => PathBuf::from(p),
        None => cache_dir().join("models/SmolLM2-135M-Instruct.Q4_1.gguf"),
    }
}

pub fn engine() -> Arc<Engine> {
    static ENGINE: OnceLock<Arc<Engine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let path = model_path();
            let engine = Engine::load(&path, &ModelOptions::default()).unwrap_or_else(|e| {
                panic!("{e}\n(the test model is fetched by scripts/setup.sh; or set DAGSMITH_TEST_MODEL)")
            });
            Arc::new(engine)
        })
        .clone()
}

/// One slot and one thread: greedy answers equal the engine's own, whatever else runs. Every
/// prompt is decoded in full: one that starts from an earlier request's cached prefix is decoded
/// in other batch shapes, which may round a near-tie the other way (the engine's own tests
/// compare that case with a tolerance).
pub fn config() -> ServerConfig {
    ServerConfig {
        port: 0,
        parallel: 1,
        context_per_sequence: 1024,
        threads: Some(1),
        queue: 8,
        max_tokens: 64,
        reuse_prefix: false,
        ..ServerConfig::default()
    }
}

/// The python of the venv scripts/setup-python.sh makes (with the official `openai` SDK).
pub fn venv_python() -> PathBuf {
    let python = cache_dir().join("venv/bin/python");
    assert!(
        python.is_file(),
        "{} missing: run scripts/setup-python.sh (part of scripts/setup.sh)",
        python.display()
    );
    python
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Whether any `Access-Control-*` header came back.
    pub fn has_cors_headers(&self) -> bool {
        self.headers.iter().any(|(k, _)| k.to_ascii_lowercase().starts_with("access-control-"))
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {:?}", self.status, self.body))
    }

    /// The error message of an `{"error": {"message": ...}}` body.
    pub fn error_message(&self) -> String {
        let v = self.json();
        assert!(v["error"]["type"].is_string(), "{v}");
        v["error"]["message"].as_str().expect("error.message").to_string()
    }

    /// `(event name, data)` of each server-sent event ("message" when unnamed).
    pub fn events(&self) -> Vec<(String, String)> {
        assert_eq!(self.header("content-type"), Some("text/event-stream"), "{}", self.body);
        let mut events = Vec::new();
        for block in self.body.split("\n\n") {
            let (mut name, mut data) = ("message".to_string(), Vec::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim_start().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push(v.strip_prefix(' ').unwrap_or(v).to_string());
                }
            }
            if !data.is_empty() {
                events.push((name, data.join("\n")));
            }
        }
        events
    }
}

pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    stream
}

/// Sends raw bytes, reads the whole response (the request says `Connection: close`).
pub fn raw(addr: SocketAddr, request: &[u8]) -> Reply {
    let mut stream = connect(addr);
    stream.write_all(request).unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).expect("read response");
    parse_reply(&bytes)
}

/// A request as a well-behaved local client sends it: `Host` is the server's address, the body
/// JSON, the connection closed after the answer. Tests change what they need.
pub struct Request {
    addr: SocketAddr,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Request {
    pub fn new(addr: SocketAddr, method: &str, path: &str) -> Self {
        let headers = [
            ("Host", addr.to_string()),
            ("Connection", "close".into()),
            ("Content-Type", "application/json".into()),
        ];
        Request {
            addr,
            method: method.into(),
            path: path.into(),
            headers: headers.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            body: String::new(),
        }
    }

    /// Sets a header, replacing one of the same name.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self = self.without(name);
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn without(mut self, name: &str) -> Self {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self
    }

    pub fn body(mut self, body: &str) -> Self {
        self.body = body.into();
        self
    }

    pub fn bytes(&self) -> Vec<u8> {
        let mut head = format!("{} {} HTTP/1.1\r\n", self.method, self.path);
        for (k, v) in &self.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", self.body.len()));
        [head.as_bytes(), self.body.as_bytes()].concat()
    }

    pub fn send(&self) -> Reply {
        raw(self.addr, &self.bytes())
    }
}

pub fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> Reply {
    Request::new(addr, method, path).body(body.unwrap_or("")).send()
}

pub fn post(addr: SocketAddr, path: &str, body: &Value) -> Reply {
    http(addr, "POST", path, Some(&body.to_string()))
}

pub fn parse_reply(bytes: &[u8]) -> Reply {
    let split = bytes.windows(4).position(|w| w == b"\r\n\r\n").expect("end of headers");
    let head = String::from_utf8_lossy(&bytes[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = bytes[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    Reply { status, headers, body: String::from_utf8(body).expect("UTF-8 body") }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = data.windows(2).position(|w| w == b"\r\n").expect("chunk size line");
        let size_line = std::str::from_utf8(&data[..eol]).unwrap();
        let size = usize::from_str_radix(size_line.split(';').next().unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 2 + size + 2..];
    }
}

/// Runs a python script in the venv with `env`, no proxies; its stdout must be one JSON value.
pub fn run_python(script: &str, env: &[(&str, String)]) -> Value {
    let mut command = std::process::Command::new(venv_python());
    command.arg("-c").arg(script);
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command
        .env("NO_PROXY", "127.0.0.1")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("ALL_PROXY")
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_str(stdout.trim()).expect("JSON from the script")
}
