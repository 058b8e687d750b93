//! The server on 127.0.0.1 with the real engine on a real small GGUF (SmolLM2-135M-Instruct Q4_1,
//! fetched by scripts/setup.sh; `DAGSMITH_TEST_MODEL` points elsewhere), spoken to over raw TCP
//! (tests/common).

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{Request, config, connect, engine, http, model_path, post, run_python};
use dagsmith_core::formats::{Entry, to_json};
use dagsmith_core::{AirflowVersion, ValidateOptions, validate};
use dagsmith_engine::{BatchOptions, GenerationRequest, Message};
use dagsmith_server::{Background, ServerConfig};
use serde_json::{Value, json};

/// The server most tests share.
fn server() -> &'static Background {
    static SERVER: OnceLock<Background> = OnceLock::new();
    SERVER.get_or_init(|| Background::start(config(), Ok(engine())).expect("server starts"))
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
    let out = run_python(OPENAI_SCRIPT, &[("BASE_URL", format!("{}/v1", s.url()))]);
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

/// Any web page can post to a local server: code nested hundreds of thousands of levels deep
/// without a bracket (a `+` chain, nested lambdas) under the body limit gets its report, and
/// the server lives on (such a chain once overflowed a validation thread's stack and ended
/// the process).
#[test]
fn api_validate_survives_deep_code() {
    let s = server();
    let n = 200_000;
    let plus = format!("x = {}\n", vec!["1"; n].join(" + "));
    let lambdas = format!("f = {}0\n", "lambda: ".repeat(n / 2));
    for code in [plus, lambdas] {
        assert!(code.len() < config().body_limit);
        let reply = post(s.addr, "/api/validate", &json!({"code": code}));
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.json()["loads"], false, "no DAG in it");
    }
    assert_eq!(health(s.addr)["status"], "ok");
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
fn static_files_answer_ranges_revalidation_and_precompressed_variants() {
    let dist = std::env::temp_dir().join(format!("dagsmith-static-http-{}", std::process::id()));
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<!doctype html>").unwrap();
    std::fs::write(dist.join("app.js"), "0123456789").unwrap();
    std::fs::write(dist.join("app.js.gz"), b"gzipped").unwrap();
    let config = ServerConfig { static_dir: Some(dist.clone()), ..config() };
    let s = Background::start(config, Err("not needed here".into())).unwrap();

    let get = |path: &str| Request::new(s.addr, "GET", path);
    let range = get("/app.js").header("Range", "bytes=2-4").send();
    assert_eq!((range.status, range.body.as_str()), (206, "234"));
    assert_eq!(range.header("content-type"), Some("text/javascript; charset=utf-8"));
    let full = get("/app.js").send();
    let modified = full.header("last-modified").expect("last-modified").to_string();
    assert_eq!(full.header("cache-control"), Some("public, max-age=3600"));
    let again = get("/app.js").header("If-Modified-Since", &modified).send();
    assert_eq!(again.status, 304);
    let gz = get("/app.js").header("Accept-Encoding", "gzip").send();
    assert_eq!((gz.header("content-encoding"), gz.body.as_str()), (Some("gzip"), "gzipped"));
    let index = get("/some/route").send();
    assert_eq!((index.status, index.header("cache-control")), (200, Some("no-cache")));
    drop(s);
    std::fs::remove_dir_all(&dist).unwrap();
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

/// The input that makes [`failing_validator`] panic.
const PANIC_INPUT: &str = "# make the validator panic\n";

/// The real validator, except that it panics on [`PANIC_INPUT`]: a stand-in for a validator bug
/// (such as the one issue 12 found), injected through `ServerConfig::validator` so that neither
/// the validator nor the server carries a trigger.
fn failing_validator(code: &str, options: &ValidateOptions) -> dagsmith_core::Report {
    if code == PANIC_INPUT {
        panic!("injected validator failure");
    }
    validate(code, options)
}

#[test]
fn a_validator_panic_is_a_500_json_error_and_the_server_keeps_serving() {
    let config = ServerConfig { validator: failing_validator, ..config() };
    let s = Background::start(config, Err("not needed here".into())).unwrap();
    for _ in 0..3 {
        let failed = post(s.addr, "/api/validate", &json!({"code": PANIC_INPUT}));
        assert_eq!(failed.status, 500, "{}", failed.body);
        assert_eq!(failed.json()["error"]["type"], "server_error");
        let message = failed.error_message();
        assert!(message.contains("the validator failed on this input"), "{message}");
        assert!(message.contains("injected validator failure"), "{message}");
        // The next request is served as usual.
        let ok = post(s.addr, "/api/validate", &json!({"code": DAG}));
        assert_eq!(ok.status, 200, "{}", ok.body);
        assert_eq!(ok.json()["loads"], true);
    }
    assert_eq!(health(s.addr)["status"], "ok");
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
            &Request::new(addr, "POST", "/v1/chat/completions").body(&body.to_string()).bytes(),
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
            &Request::new(s.addr, "POST", "/v1/chat/completions").body(&body.to_string()).bytes(),
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
