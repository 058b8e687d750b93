//! The request guard against a real server on 127.0.0.1: who may call it (`Host`, `Origin`,
//! API key) and what it accepts (JSON bodies), as browsers, attackers' pages and clients send
//! requests over the wire. Most servers here have no model: a refusal (403, 415, 401) instead
//! of the 503 the handler would answer shows the request never reached a handler.

mod common;

use std::net::SocketAddr;

use common::{Reply, Request, config, engine, run_python};
use dagsmith_server::{Background, ServerConfig};
use serde_json::json;

const DAG: &str = "\
from datetime import datetime
from airflow import DAG
from airflow.operators.empty import EmptyOperator

with DAG(dag_id=\"ok\", start_date=datetime(2024, 1, 1), schedule=None):
    EmptyOperator(task_id=\"a\")
";

fn no_model(config: ServerConfig) -> Background {
    Background::start(config, Err("no model in these tests".into())).expect("server starts")
}

fn validate_body() -> String {
    json!({"code": DAG}).to_string()
}

/// `POST /api/validate` with a JSON body and the given changes.
fn validate_request(addr: SocketAddr) -> Request {
    Request::new(addr, "POST", "/api/validate").body(&validate_body())
}

fn assert_refused(reply: &Reply, status: u16, message: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    let got = reply.error_message();
    assert!(got.contains(message), "{message:?} not in {got:?}");
    assert!(!reply.has_cors_headers(), "{:?}", reply.headers);
}

#[test]
fn only_the_servers_own_host_names_are_answered() {
    let s = no_model(config());
    let port = s.addr.port();
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}"), format!("[::1]:{port}")]
    {
        let reply = validate_request(s.addr).header("Host", &host).send();
        assert_eq!(reply.status, 200, "{host}: {}", reply.body);
        assert_eq!(reply.json()["loads"], true, "{host}");
    }
    for host in [
        format!("evil.example:{port}"),
        "evil.example".to_string(),
        format!("localhost:{}", port.wrapping_add(1)),
        "127.0.0.1".to_string(),
        format!("localhost.evil.example:{port}"),
    ] {
        let reply = validate_request(s.addr).header("Host", &host).send();
        assert_refused(&reply, 403, "is not this server");
        assert!(reply.error_message().contains("--allowed-host"), "{}", reply.body);
        let get = Request::new(s.addr, "GET", "/api/health").header("Host", &host).send();
        assert_refused(&get, 403, "is not this server");
    }
    // The web app too: a rebinding page must not read it either.
    let app = Request::new(s.addr, "GET", "/").header("Host", "evil.example").send();
    assert_refused(&app, 403, "is not this server");
    let none = validate_request(s.addr).without("Host").send();
    assert_refused(&none, 403, "no Host header");
    let absolute = Request::new(s.addr, "GET", "http://evil.example/api/health")
        .header("Host", "evil.example")
        .send();
    assert_refused(&absolute, 403, "is not this server");
}

#[test]
fn allowed_host_names_are_answered() {
    let config = ServerConfig {
        allowed_hosts: vec!["dagsmith.example".parse().unwrap(), "box.lan:9000".parse().unwrap()],
        ..config()
    };
    let s = no_model(config);
    for (host, status) in [
        ("dagsmith.example", 200),
        ("DagSmith.example:443", 200),
        ("box.lan:9000", 200),
        ("box.lan:9001", 403),
        ("other.example", 403),
    ] {
        let reply = validate_request(s.addr).header("Host", host).send();
        assert_eq!(reply.status, status, "{host}: {}", reply.body);
    }
}

#[test]
fn a_dns_rebinding_page_is_refused() {
    // After rebinding, the attacker's page at http://attacker.example:PORT talks to 127.0.0.1
    // while the browser believes it is the page's own server: Origin and Host agree, and both
    // name the attacker. The Host check is what stops it, for "simple" and JSON requests alike.
    let s = no_model(config());
    let site = format!("attacker.example:{}", s.addr.port());
    let origin = format!("http://{site}");
    for content_type in ["text/plain;charset=UTF-8", "application/json"] {
        let reply = validate_request(s.addr)
            .header("Host", &site)
            .header("Origin", &origin)
            .header("Content-Type", content_type)
            .send();
        assert_refused(&reply, 403, "is not this server");
    }
    let read = Request::new(s.addr, "GET", "/v1/models").header("Host", &site).send();
    assert_refused(&read, 403, "is not this server");
}

#[test]
fn other_origins_are_refused_without_cors_headers() {
    let s = no_model(config());
    let evil = "http://evil.example";
    // A cross-site "simple" request (text/plain, no preflight) to the generation endpoints is
    // refused before any handler: 403, not the 503 of a server without a model.
    for path in ["/v1/chat/completions", "/api/generate", "/api/validate"] {
        let reply = Request::new(s.addr, "POST", path)
            .header("Origin", evil)
            .header("Content-Type", "text/plain;charset=UTF-8")
            .body(r#"{"messages": [{"role": "user", "content": "hi"}], "instruction": "x"}"#)
            .send();
        assert_refused(&reply, 403, "--allow-origin http://evil.example");
    }
    let json = validate_request(s.addr).header("Origin", evil).send();
    assert_refused(&json, 403, "not allowed");
    let get = Request::new(s.addr, "GET", "/api/health").header("Origin", evil).send();
    assert_refused(&get, 403, "not allowed");
    for origin in ["null", "http://localhost:1", &format!("http://localhost:{}", s.addr.port())] {
        // localhost is another origin than the 127.0.0.1 this request names.
        let reply = validate_request(s.addr).header("Origin", origin).send();
        assert_refused(&reply, 403, "not allowed");
    }
    let preflight = Request::new(s.addr, "OPTIONS", "/v1/chat/completions")
        .header("Origin", evil)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send();
    assert_refused(&preflight, 403, "not allowed");

    // The server's own page (same origin) is answered, without CORS headers.
    let own = validate_request(s.addr).header("Origin", &s.url()).send();
    assert_eq!(own.status, 200, "{}", own.body);
    assert!(!own.has_cors_headers(), "{:?}", own.headers);
}

#[test]
fn allowed_origins_get_cors_headers_and_preflights() {
    let config = ServerConfig {
        allowed_origins: vec!["http://localhost:5173".parse().unwrap()],
        ..config()
    };
    let s = no_model(config);
    let origin = "http://localhost:5173";
    let preflight = Request::new(s.addr, "OPTIONS", "/v1/chat/completions")
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "authorization, content-type")
        .send();
    assert_eq!(preflight.status, 204, "{}", preflight.body);
    assert_eq!(preflight.header("access-control-allow-origin"), Some(origin));
    assert!(preflight.header("access-control-allow-methods").unwrap().contains("POST"));
    assert_eq!(
        preflight.header("access-control-allow-headers"),
        Some("authorization, content-type")
    );
    assert!(preflight.header("access-control-max-age").is_some());
    let vary: Vec<&str> = preflight
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("vary"))
        .map(|(_, v)| v.as_str())
        .collect();
    assert!(vary.iter().any(|v| v.contains("Origin")), "{vary:?}");

    let reply = validate_request(s.addr).header("Origin", origin).send();
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("access-control-allow-origin"), Some(origin));
    assert_eq!(reply.json()["loads"], true);
    // Errors too, so that the page can show them.
    let unavailable = Request::new(s.addr, "POST", "/api/generate")
        .header("Origin", origin)
        .body(r#"{"instruction": "x"}"#)
        .send();
    assert_eq!(unavailable.status, 503, "{}", unavailable.body);
    assert_eq!(unavailable.header("access-control-allow-origin"), Some(origin));
    let other = validate_request(s.addr).header("Origin", "http://localhost:5174").send();
    assert_refused(&other, 403, "not allowed");

    let any = no_model(ServerConfig { allow_any_origin: true, ..common::config() });
    let reply = validate_request(any.addr).header("Origin", "http://anything.example").send();
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("access-control-allow-origin"), Some("http://anything.example"));
}

#[test]
fn post_bodies_must_be_json() {
    let s = no_model(config());
    for path in ["/api/validate", "/api/generate", "/v1/chat/completions"] {
        for content_type in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            None,
        ] {
            let mut request = Request::new(s.addr, "POST", path).body(&validate_body());
            request = match content_type {
                Some(t) => request.header("Content-Type", t),
                None => request.without("Content-Type"),
            };
            let reply = request.send();
            assert_refused(&reply, 415, "Content-Type: application/json");
        }
    }
    let charset =
        validate_request(s.addr).header("Content-Type", "application/json; charset=utf-8").send();
    assert_eq!(charset.status, 200, "{}", charset.body);
    let get = Request::new(s.addr, "GET", "/api/health").without("Content-Type").send();
    assert_eq!(get.status, 200, "{}", get.body);
}

const KEY: &str = "dagsmith-test-key-0123456789";

#[test]
fn with_an_api_key_the_apis_need_it() {
    let config = ServerConfig {
        api_key: Some(KEY.parse().unwrap()),
        allowed_origins: vec!["http://localhost:5173".parse().unwrap()],
        ..config()
    };
    let s = no_model(config);
    for (method, path) in [("GET", "/api/health"), ("GET", "/v1/models"), ("POST", "/api/validate")]
    {
        let body = if method == "POST" { validate_body() } else { String::new() };
        let send = |authorization: Option<&str>| {
            let request = Request::new(s.addr, method, path).body(&body);
            match authorization {
                Some(value) => request.header("Authorization", value).send(),
                None => request.send(),
            }
        };
        let missing = send(None);
        assert_refused(&missing, 401, "needs an API key");
        assert_eq!(missing.header("www-authenticate"), Some("Bearer"), "{path}");
        for wrong in ["Bearer not-the-key", &format!("Bearer {KEY}x"), &format!("Basic {KEY}"), KEY]
        {
            assert_refused(&send(Some(wrong)), 401, "invalid API key");
        }
        for right in [format!("Bearer {KEY}"), format!("bearer {KEY}")] {
            let reply = send(Some(&right));
            assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        }
    }
    // The web app's files are public; a browser's preflight carries no key and is answered.
    let app = Request::new(s.addr, "GET", "/").send();
    assert_eq!(app.status, 404, "no web app here, but no 401: {}", app.body);
    let preflight = Request::new(s.addr, "OPTIONS", "/v1/chat/completions")
        .header("Origin", "http://localhost:5173")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "authorization, content-type")
        .send();
    assert_eq!(preflight.status, 204, "{}", preflight.body);
}

/// The official SDK given the server's key, and one given a wrong key.
const OPENAI_KEY_SCRIPT: &str = r#"
import json, os, openai
base = os.environ["BASE_URL"]
client = openai.OpenAI(base_url=base, api_key=os.environ["API_KEY"], max_retries=0)
out = {}
r = client.chat.completions.create(model="local", max_tokens=6,
    messages=[{"role": "user", "content": "Hi!"}])
out["content"] = r.choices[0].message.content
out["streamed"] = "".join(c.choices[0].delta.content or "" for c in
    client.chat.completions.create(model="local", max_tokens=6, stream=True,
        messages=[{"role": "user", "content": "Hi!"}]) if c.choices)
out["models"] = [m.id for m in client.models.list()]
try:
    openai.OpenAI(base_url=base, api_key="wrong", max_retries=0).models.list()
    out["wrong"] = "accepted"
except openai.AuthenticationError as e:
    out["wrong"] = {"status": e.status_code, "message": e.message}
print(json.dumps(out))
"#;

#[test]
fn the_openai_sdk_works_with_the_api_key() {
    let config = ServerConfig { api_key: Some(KEY.parse().unwrap()), ..config() };
    let s = Background::start(config, Ok(engine())).expect("server starts");
    let out = run_python(
        OPENAI_KEY_SCRIPT,
        &[("BASE_URL", format!("{}/v1", s.url())), ("API_KEY", KEY.to_string())],
    );
    assert!(!out["content"].as_str().unwrap().is_empty(), "{out}");
    assert_eq!(out["content"], out["streamed"], "{out}");
    assert_eq!(out["models"], json!(["SmolLM2-135M-Instruct.Q4_1"]));
    assert_eq!(out["wrong"]["status"], 401, "{out}");
    assert!(out["wrong"]["message"].as_str().unwrap().contains("invalid API key"), "{out}");
}
