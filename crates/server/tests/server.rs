//! The server on 127.0.0.1 with the real engine on a real small GGUF (SmolLM2-135M-Instruct Q4_1,
//! fetched by scripts/setup.sh; `DAGSMITH_TEST_MODEL` points elsewhere), spoken to over raw TCP
//! so that the tests see exactly what goes over the wire (and can send what clients would not).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use dagsmith_core::formats::{Entry, to_json};
use dagsmith_core::{AirflowVersion, ValidateOptions, validate};
use dagsmith_engine::{BatchOptions, Engine, GenerationRequest, Message, ModelOptions};
use dagsmith_server::{Background, ServerConfig};
use serde_json::{Value, json};

fn cache_dir() -> PathBuf {
    std::env::var_os("DAGSMITH_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/dagsmith")
    })
}

fn model_path() -> PathBuf {
    match std::env::var_os("DAGSMITH_TEST_MODEL") {
        Some(p) => PathBuf::from(p),
        None => cache_dir().join("models/SmolLM2-135M-Instruct.Q4_1.gguf"),
    }
}

fn engine() -> Arc<Engine> {
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
fn config() -> ServerConfig {
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

/// The server most tests share.
fn server() -> &'static Background {
    static SERVER: OnceLock<Background> = OnceLock::new();
    SERVER.get_or_init(|| Background::start(config(), Ok(engine())).expect("server starts"))
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {:?}", self.status, self.body))
    }

    /// The error message of an `{"error": {"message": ...}}` body.
    fn error_message(&self) -> String {
        let v = self.json();
        assert!(v["error"]["type"].is_string(), "{v}");
        v["error"]["message"].as_str().expect("error.message").to_string()
    }

    /// `(event name, data)` of each server-sent event ("message" when unnamed).
    fn events(&self) -> Vec<(String, String)> {
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

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    stream
}

/// Sends raw bytes, reads the whole response (the request says `Connection: close`).
fn raw(addr: SocketAddr, request: &[u8]) -> Reply {
    let mut stream = connect(addr);
    stream.write_all(request).unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).expect("read response");
    parse_reply(&bytes)
}

fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> Reply {
    raw(addr, request_bytes(method, path, body).as_bytes())
}

fn request_bytes(method: &str, path: &str, body: Option<&str>) -> String {
    let body = body.unwrap_or("");
    format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn post(addr: SocketAddr, path: &str, body: &Value) -> Reply {
    http(addr, "POST", path, Some(&body.to_string()))
}

fn parse_reply(bytes: &[u8]) -> Reply {
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

fn chat_body(content: &str, max_tokens: u32) -> Value {
    json!({"model": "anything", "max_tokens": max_tokens,
           "messages": [{"role": "user", "content": content}]})
}

/// What the engine itself answers, greedy, with the test server's batch shape.
fn engine_answer(messages: Vec<Message>, max_tokens: u32) -> String {
    let options = BatchOptions {
        parallel: 1,
        context_per_sequence: 1024,
        batch_tokens: 512,
        threads: Some(1),
        ..BatchOptions::default()
    };
    let request = GenerationRequest::new(messages, max_tokens);
    engine().generate_all(&options, vec![request]).unwrap().remove(0).unwrap().text
}

fn user(content: &str) -> Vec<Message> {
    vec![Message { role: "user".into(), content: content.into() }]
}

fn health(addr: SocketAddr) -> Value {
    let reply = http(addr, "GET", "/api/health", None);
    assert_eq!(reply.status, 200);
    reply.json()
}

/// Polls /api/health until `check` holds; panics with the last health after `within`.
fn wait_health(addr: SocketAddr, within: Duration, what: &str, check: impl Fn(&Value) -> bool) {
    let start = Instant::now();
    loop {
        let h = health(addr);
        if check(&h) {
            return;
        }
        assert!(start.elapsed() < within, "{what}: not within {within:?}; health {h}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn health_names_the_model_and_slots() {
    let s = server();
    let h = health(s.addr);
    assert_eq!(h["status"], "ok");
    assert_eq!(h["version"], dagsmith_core::VERSION);
    assert_eq!(h["generation"], json!({"available": true, "reason": null}));
    assert_eq!(h["model"]["name"], "SmolLM2-135M-Instruct.Q4_1");
    assert_eq!(h["model"]["path"], model_path().to_str().unwrap());
    assert_eq!(h["slots"]["total"], 1);
    assert!(h["queue"].is_u64(), "{h}");
    let models = http(s.addr, "GET", "/v1/models", None).json();
    assert_eq!(models["object"], "list");
    assert_eq!(models["data"][0]["id"], "SmolLM2-135M-Instruct.Q4_1");
}

#[test]
fn chat_completion_is_the_engines_answer_with_usage() {
    let s = server();
    let reply = post(s.addr, "/v1/chat/completions", &chat_body("Say hello.", 12));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let v = reply.json();
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "anything");
    assert!(v["id"].as_str().unwrap().starts_with("chatcmpl-"));
    let choice = &v["choices"][0];
    assert_eq!(choice["message"]["role"], "assistant");
    let text = choice["message"]["content"].as_str().unwrap();
    assert_eq!(text, engine_answer(user("Say hello."), 12));
    assert!(["stop", "length"].contains(&choice["finish_reason"].as_str().unwrap()));
    let usage = &v["usage"];
    let prompt = engine().prompt_tokens(&user("Say hello.")).unwrap() as u64;
    assert_eq!(usage["prompt_tokens"].as_u64(), Some(prompt));
    let completion = usage["completion_tokens"].as_u64().unwrap();
    assert!((1..=12).contains(&completion), "{usage}");
    assert_eq!(usage["total_tokens"].as_u64(), Some(prompt + completion));
    // The server caps max_tokens (64 here) whatever the request asks.
    let long = post(s.addr, "/v1/chat/completions", &chat_body("Count to 500.", 100_000)).json();
    assert!(long["usage"]["completion_tokens"].as_u64().unwrap() <= 64, "{long}");
}

#[test]
fn chat_completion_streams_chunks_then_done() {
    let s = server();
    let mut body = chat_body("Name three colors.", 16);
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let reply = post(s.addr, "/v1/chat/completions", &body);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let events = reply.events();
    assert_eq!(events.last().unwrap().1, "[DONE]", "{events:?}");
    let chunks: Vec<Value> =
        events[..events.len() - 1].iter().map(|(_, d)| serde_json::from_str(d).unwrap()).collect();
    assert!(chunks.iter().all(|c| c["object"] == "chat.completion.chunk"));
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String =
        chunks.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect();
    assert_eq!(text, engine_answer(user("Name three colors."), 16));
    let finish = chunks.iter().filter_map(|c| c["choices"][0]["finish_reason"].as_str());
    assert_eq!(finish.count(), 1);
    let usage = &chunks.last().unwrap()["usage"];
    assert!((1..=16).contains(&usage["completion_tokens"].as_u64().unwrap()), "{usage}");
    // More than the role chunk, the finish chunk and the usage chunk: text came in pieces.
    assert!(chunks.len() > 4, "{chunks:?}");
}

fn venv_python() -> PathBuf {
    let python = cache_dir().join("venv/bin/python");
    assert!(
        python.is_file(),
        "{} missing: run scripts/setup-python.sh (part of scripts/setup.sh)",
        python.display()
    );
    python
}

/// The official SDK, unchanged, pointed at the server.
const OPENAI_SCRIPT: &str = r#"
import json, os, openai
client = openai.OpenAI(base_url=os.environ["BASE_URL"], api_key="unused", max_retries=0)
out = {"version": openai.__version__}
r = client.chat.completions.create(model="local", max_tokens=10,
    messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi!"}])
out["content"] = r.choices[0].message.content
out["finish"] = r.choices[0].finish_reason
out["usage"] = r.usage.model_dump()
pieces = []
for chunk in client.chat.completions.create(model="local", max_tokens=10, stream=True,
        messages=[{"role": "user", "content": "Hi!"}]):
    if chunk.choices and chunk.choices[0].delta.content:
        pieces.append(chunk.choices[0].delta.content)
out["stream"] = pieces
out["models"] = [m.id for m in client.models.list()]
try:
    client.chat.completions.create(model="local", messages=[], max_tokens=1)
except openai.BadRequestError as e:
    out["bad_request"] = e.message
print(json.dumps(out))
"#;

#[test]
fn the_openai_python_sdk_works_unchanged() {
    let s = server();
    let output = Command::new(venv_python())
        .arg("-c")
        .arg(OPENAI_SCRIPT)
        .env("BASE_URL", format!("{}/v1", s.url()))
        .env("NO_PROXY", "127.0.0.1")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("ALL_PROXY")
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let out: Value = serde_json::from_str(stdout.trim()).expect("JSON from the script");
    assert_eq!(
        out["content"],
        engine_answer(
            vec![
                Message { role: "system".into(), content: "Be brief.".into() },
                Message { role: "user".into(), content: "Hi!".into() },
            ],
            10,
        )
    );
    assert!(out["usage"]["completion_tokens"].as_u64().unwrap() >= 1, "{out}");
    let streamed: String =
        out["stream"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(streamed, engine_answer(user("Hi!"), 10));
    assert!(out["stream"].as_array().unwrap().len() > 1, "{out}");
    assert_eq!(out["models"], json!(["SmolLM2-135M-Instruct.Q4_1"]));
    assert!(out["bad_request"].as_str().unwrap().contains("messages must not be empty"), "{out}");
}

#[test]
fn api_generate_streams_attempts_and_repairs() {
    let s = server();
    let body = json!({"instruction": "Write a DAG that runs a bash command every day.",
                      "airflow_version": "2.9", "max_tokens": 24, "repair": 1});
    let reply = post(s.addr, "/api/generate", &body);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let events: Vec<(String, Value)> = reply
        .events()
        .into_iter()
        .map(|(name, data)| (name, serde_json::from_str(&data).unwrap()))
        .collect();
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"attempt_start"), "{names:?}");
    assert_eq!(names.last(), Some(&"done"), "{names:?}");
    let version = AirflowVersion::new(2, 9, None);
    let mut attempts = 0;
    let mut text = String::new();
    let mut last_code = String::new();
    for (name, data) in &events {
        match name.as_str() {
            "attempt_start" => {
                assert_eq!(data["attempt"], attempts);
                text.clear();
            }
            "token" => {
                assert_eq!(data["attempt"], attempts);
                assert!(data["tokens"].as_u64().unwrap() >= 1);
                assert!(data["tokens_per_second"].as_f64().unwrap() >= 0.0);
                text.push_str(data["text"].as_str().unwrap());
            }
            "attempt_end" => {
                assert_eq!(data["raw"], text.as_str(), "tokens add up to the answer");
                let code = data["code"].as_str().unwrap();
                assert_eq!(code, dagsmith_core::extract::extract_code(&text));
                let report = validate(code, &ValidateOptions { airflow_version: version });
                assert_eq!(data["report"], serde_json::to_value(&report).unwrap());
                assert_eq!(data["report"]["airflow_version"], "2.9");
                assert!((1..=24).contains(&data["tokens"].as_u64().unwrap()), "{data}");
                assert!(data["seconds"].as_f64().unwrap() > 0.0);
                last_code = code.to_string();
                attempts += 1;
            }
            "done" => {
                assert_eq!(data["attempts"], attempts);
                assert_eq!(data["code"], last_code.as_str());
            }
            other => panic!("unexpected event {other}: {data}"),
        }
    }
    // 24 tokens cannot hold a loading DAG: the first answer fails and the one repair round runs.
    assert_eq!(attempts, 2, "{names:?}");
    assert_eq!(events.last().unwrap().1["report"]["loads"], false);
}

const DAG: &str = "\
from datetime import datetime
from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG(dag_id=\"etl\", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    a = BashOperator(task_id=\"a\", bash_command=\"echo a\")
    b = BashOperator(task_id=\"b\", bash_command=\"echo b\")
    a >> b
";

#[test]
fn api_validate_gives_the_clis_json_report() {
    let s = server();
    for (code, version) in [(DAG, "2.9"), (DAG, "3.1"), ("import airflow\nx = (", "3.1")] {
        let reply =
            post(s.addr, "/api/validate", &json!({"code": code, "airflow_version": version}));
        assert_eq!(reply.status, 200, "{}", reply.body);
        let v = reply.json();
        // `dagsmith validate --format json` for the same code, without the file's path.
        let version: AirflowVersion = version.parse().unwrap();
        let report = validate(code, &ValidateOptions { airflow_version: version });
        let mut cli: Value =
            serde_json::from_str(&to_json(&[Entry::file("x.py", report)])).unwrap();
        let mut entry = cli[0].take();
        entry.as_object_mut().unwrap().remove("path");
        assert_eq!(v, entry);
    }
    let ok = post(s.addr, "/api/validate", &json!({"code": DAG})).json();
    assert_eq!(ok["airflow_version"], "3.1", "the default version");
    assert_eq!(ok["dags"][0]["dag_id"], "etl");
    assert_eq!(ok["dags"][0]["edges"], json!([{"upstream": "a", "downstream": "b"}]));
    let bad = post(s.addr, "/api/validate", &json!({"code": DAG, "airflow_version": "banana"}));
    assert_eq!(bad.status, 400);
    assert!(bad.error_message().contains("airflow_version"), "{}", bad.body);
}

#[test]
fn bad_requests_get_clear_json_errors() {
    let s = server();
    let malformed = http(s.addr, "POST", "/api/validate", Some("{\"code\": "));
    assert_eq!(malformed.status, 400);
    assert!(malformed.error_message().starts_with("malformed JSON in the request body"));
    let chat = http(s.addr, "POST", "/v1/chat/completions", Some("{not json"));
    assert_eq!(chat.status, 400);
    assert!(chat.error_message().contains("malformed JSON"), "{}", chat.body);
    let empty = http(s.addr, "POST", "/api/generate", Some(""));
    assert_eq!(empty.status, 400);
    assert!(empty.error_message().contains("empty"), "{}", empty.body);
    let wrong = post(s.addr, "/api/validate", &json!({"code": 42}));
    assert_eq!(wrong.status, 400);
    assert!(wrong.error_message().contains("invalid type"), "{}", wrong.body);
    let missing = post(s.addr, "/api/generate", &json!({"airflow_version": "3.1"}));
    assert_eq!(missing.status, 400);
    assert!(missing.error_message().contains("instruction"), "{}", missing.body);
    let sampling = post(s.addr, "/api/generate", &json!({"instruction": "x", "top_p": 0}));
    assert_eq!(sampling.status, 400);
    assert!(sampling.error_message().contains("top_p"), "{}", sampling.body);
    let big = "x".repeat(config().body_limit + 1);
    let too_large = post(s.addr, "/api/validate", &json!({ "code": big }));
    assert_eq!(too_large.status, 413);
    assert!(too_large.error_message().contains("limit"), "{}", too_large.body);
    let unknown = http(s.addr, "GET", "/api/nope", None);
    assert_eq!(unknown.status, 404);
    assert!(unknown.error_message().contains("/api/nope"));
}

#[test]
fn static_files_spa_fallback_and_no_traversal() {
    let base = std::env::temp_dir().join(format!("dagsmith-server-test-{}", std::process::id()));
    let dist = base.join("dist");
    std::fs::create_dir_all(dist.join("assets")).unwrap();
    std::fs::write(dist.join("index.html"), "<!doctype html><title>app</title>").unwrap();
    std::fs::write(dist.join("assets/app.wasm"), b"\0asm").unwrap();
    std::fs::write(base.join("secret.txt"), "secret").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(base.join("secret.txt"), dist.join("link.txt")).unwrap();
    let config = ServerConfig { static_dir: Some(dist.clone()), ..config() };
    let s = Background::start(config, Err("not needed here".into())).unwrap();

    let index = http(s.addr, "GET", "/", None);
    assert_eq!(index.status, 200);
    assert!(index.body.contains("<title>app</title>"));
    assert_eq!(index.header("content-type"), Some("text/html; charset=utf-8"));
    let wasm = http(s.addr, "GET", "/assets/app.wasm", None);
    assert_eq!((wasm.status, wasm.header("content-type")), (200, Some("application/wasm")));
    let route = http(s.addr, "GET", "/share/abc?x=1", None);
    assert_eq!(route.status, 200);
    assert_eq!(route.body, index.body, "unknown paths get the app");
    for path in
        ["/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt", "/link.txt"]
    {
        let reply = http(s.addr, "GET", path, None);
        assert_eq!(reply.status, 404, "{path}: {}", reply.body);
        assert!(!reply.body.contains("secret\""), "{path}");
    }
    assert_eq!(http(s.addr, "GET", "/api/unknown", None).status, 404);
    assert_eq!(http(s.addr, "GET", "/api/health", None).status, 200);
    drop(s);
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn without_a_model_validation_works_and_generation_says_why() {
    let reason = "no model: /nowhere/model.gguf not found";
    let s = Background::start(config(), Err(reason.into())).unwrap();
    let h = health(s.addr);
    assert_eq!(h["generation"]["available"], false);
    assert!(h["generation"]["reason"].as_str().unwrap().contains("/nowhere/model.gguf"), "{h}");
    assert_eq!(h["model"], Value::Null);
    for (path, body) in [
        ("/api/generate", json!({"instruction": "x"})),
        ("/v1/chat/completions", chat_body("x", 4)),
    ] {
        let reply = post(s.addr, path, &body);
        assert_eq!(reply.status, 503, "{path}");
        let message = reply.error_message();
        assert!(
            message.contains("generation is unavailable") && message.contains(reason),
            "{message}"
        );
    }
    assert_eq!(http(s.addr, "GET", "/v1/models", None).json()["data"], json!([]));
    let report = post(s.addr, "/api/validate", &json!({"code": DAG}));
    assert_eq!((report.status, report.json()["loads"].clone()), (200, json!(true)));
}

/// How soon a departed client's slot or queue place must be free: generous for a loaded CI
/// machine, yet far below the ~4000 tokens the requests would otherwise generate (tens of
/// seconds for this model on one thread).
const FREED_WITHIN: Duration = Duration::from_secs(8);

/// Opens a streaming chat completion that generates up to `max_tokens` and returns once its
/// first content chunk arrived (`wait_for_text`) or right after sending.
fn open_stream(addr: SocketAddr, max_tokens: u32, wait_for_text: bool) -> TcpStream {
    let mut body = chat_body("Write a long story.", max_tokens);
    body["stream"] = json!(true);
    body["ignore_eos"] = json!(true);
    let mut stream = connect(addr);
    stream
        .write_all(
            request_bytes("POST", "/v1/chat/completions", Some(&body.to_string())).as_bytes(),
        )
        .unwrap();
    if wait_for_text {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&seen).contains("\"content\":\"")
            || String::from_utf8_lossy(&seen).matches("\"content\":").count() < 2
        {
            let n = stream.read(&mut buf).expect("stream read");
            assert!(n > 0, "stream ended early: {}", String::from_utf8_lossy(&seen));
            seen.extend_from_slice(&buf[..n]);
        }
        assert!(String::from_utf8_lossy(&seen).starts_with("HTTP/1.1 200"));
    }
    stream
}

#[test]
fn slots_decode_together_full_queue_is_429_and_disconnects_free_slots() {
    // Two slots, one queue place; answers long enough (4000 tokens) that only a cancellation
    // ends them within the test's time limits.
    let config = ServerConfig {
        parallel: 2,
        queue: 1,
        context_per_sequence: 4096,
        max_tokens: 4000,
        ..config()
    };
    let s = Background::start(config, Ok(engine())).unwrap();
    let a = open_stream(s.addr, 4000, true);
    let b = open_stream(s.addr, 4000, true);
    wait_health(s.addr, Duration::from_secs(5), "two requests decode at once", |h| {
        h["slots"]["busy"] == 2
    });
    let queued = open_stream(s.addr, 4000, false);
    wait_health(s.addr, Duration::from_secs(5), "the third waits", |h| h["queue"] == 1);
    let full = post(s.addr, "/v1/chat/completions", &chat_body("x", 4));
    assert_eq!(full.status, 429, "{}", full.body);
    assert_eq!(full.header("retry-after"), Some("1"));
    assert!(full.error_message().contains("busy"), "{}", full.body);
    let full = post(s.addr, "/api/generate", &json!({"instruction": "x"}));
    assert_eq!(full.status, 429, "{}", full.body);

    // A client that leaves the queue gives its place back.
    drop(queued);
    wait_health(s.addr, FREED_WITHIN, "the queue place is freed", |h| h["queue"] == 0);
    // A client that disconnects mid-answer frees its slot within a decode step or so.
    drop(a);
    wait_health(s.addr, FREED_WITHIN, "slot freed after a disconnect", |h| h["slots"]["busy"] == 1);
    drop(b);
    wait_health(s.addr, FREED_WITHIN, "slot freed after a disconnect", |h| h["slots"]["busy"] == 0);

    // Also for a non-streaming request: the handler is dropped with the connection.
    let mut body = chat_body("Write a long story.", 4000);
    body["ignore_eos"] = json!(true);
    let mut plain = connect(s.addr);
    plain
        .write_all(
            request_bytes("POST", "/v1/chat/completions", Some(&body.to_string())).as_bytes(),
        )
        .unwrap();
    wait_health(s.addr, Duration::from_secs(5), "the plain request runs", |h| {
        h["slots"]["busy"] == 1
    });
    drop(plain);
    wait_health(s.addr, FREED_WITHIN, "slot freed after a plain disconnect", |h| {
        h["slots"]["busy"] == 0
    });
    // And the server still answers.
    let after = post(s.addr, "/v1/chat/completions", &chat_body("Hi", 4));
    assert_eq!(after.status, 200, "{}", after.body);
}

#[test]
fn a_generation_past_the_timeout_is_cancelled_with_504() {
    let config = ServerConfig {
        context_per_sequence: 4096,
        max_tokens: 4000,
        generation_timeout: Duration::from_secs(1),
        ..config()
    };
    let s = Background::start(config, Ok(engine())).unwrap();
    let mut body = chat_body("Write a long story.", 4000);
    body["ignore_eos"] = json!(true);
    let started = Instant::now();
    let reply = post(s.addr, "/v1/chat/completions", &body);
    assert_eq!(reply.status, 504, "{}", reply.body);
    assert!(reply.error_message().contains("timed out after 1 s"), "{}", reply.body);
    assert!(started.elapsed() < FREED_WITHIN, "{:?}", started.elapsed());
    assert_eq!(health(s.addr)["slots"]["busy"], 0);
}
