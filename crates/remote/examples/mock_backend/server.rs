//! A scripted OpenAI-compatible server for tests and the client-overhead benchmark: it answers
//! `/v1/models` and streams canned chat answers at once, or fails on cue (429, 5xx, a hang, the
//! server going away), and records what it was sent. Never a stand-in for a model's answers in
//! anything but those two places.
//!
//! HTTP/1.1 with keep-alive, a thread per connection; answers are sent whole with a
//! Content-Length (an SSE body the client reads as a stream all the same), or, when paced, as a
//! real server sends them: chunked, one write per token's event, a pause between them.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// What the server does with a chat request.
#[derive(Clone, Debug, PartialEq)]
pub enum Behaviour {
    /// Streams the next canned answer.
    Answer,
    /// Answers this status with an OpenAI error body (and `Retry-After` when given).
    Status { code: u16, retry_after: Option<u64> },
    /// Reads the request and never answers.
    Hang,
    /// Closes the connection and stops listening: the server is gone.
    Die,
}

/// One request the server received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub body: String,
    pub at: Instant,
}

struct State {
    /// Behaviours for the next chat requests, in order; then `default`.
    script: VecDeque<Behaviour>,
    default: Behaviour,
    answers: Vec<String>,
    next_answer: usize,
    seen: Vec<Seen>,
    record: bool,
    /// When set: each event written on its own, this long after the one before.
    pace: Option<Duration>,
}

pub struct MockBackend {
    pub url: String,
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stopped: Arc<AtomicBool>,
    pub chats: Arc<AtomicU64>,
}

impl MockBackend {
    /// Listens on 127.0.0.1 (any free port). `answers`: the canned answers, served in turn.
    pub fn start(default: Behaviour, script: Vec<Behaviour>, answers: Vec<String>) -> MockBackend {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(State {
            script: script.into(),
            default,
            answers,
            next_answer: 0,
            seen: Vec::new(),
            record: true,
            pace: None,
        }));
        let stopped = Arc::new(AtomicBool::new(false));
        let chats = Arc::new(AtomicU64::new(0));
        let (s, st, c) = (state.clone(), stopped.clone(), chats.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (s, st, c) = (s.clone(), st.clone(), c.clone());
                thread::spawn(move || serve(conn, &s, &st, &c, addr));
            }
            // The listener is dropped here: new connections are refused.
        });
        MockBackend { url: format!("http://{addr}"), addr, state, stopped, chats }
    }

    /// Keeps no record of requests (a benchmark's millions).
    pub fn without_records(self) -> Self {
        self.state.lock().unwrap().record = false;
        self
    }

    /// Streams answers an event at a time, `pace` apart, as a server generating tokens does.
    pub fn paced(self, pace: Duration) -> Self {
        self.state.lock().unwrap().pace = Some(pace);
        self
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    pub fn chat_requests(&self) -> Vec<Seen> {
        self.requests().into_iter().filter(|r| r.path == "/v1/chat/completions").collect()
    }

    /// Stops listening (connections already open are left to finish).
    pub fn stop(&self) {
        stop(&self.stopped, self.addr);
    }
}

impl Drop for MockBackend {
    fn drop(&mut self) {
        self.stop();
    }
}

fn stop(stopped: &AtomicBool, addr: SocketAddr) {
    if !stopped.swap(true, Ordering::SeqCst) {
        // Wakes the accept loop so that it sees the flag and drops the listener.
        let _ = TcpStream::connect(addr);
    }
}

fn serve(
    conn: TcpStream,
    state: &Mutex<State>,
    stopped: &AtomicBool,
    chats: &AtomicU64,
    addr: SocketAddr,
) {
    let _ = conn.set_nodelay(true);
    let mut reader = BufReader::new(conn.try_clone().expect("clone the stream"));
    let mut conn = conn;
    loop {
        let Some(request) = read_request(&mut reader) else { return };
        if stopped.load(Ordering::SeqCst) {
            return;
        }
        let behaviour = {
            let mut s = state.lock().unwrap();
            if s.record {
                s.seen.push(request.clone());
            }
            match request.path.as_str() {
                "/v1/chat/completions" => s.script.pop_front().unwrap_or_else(|| s.default.clone()),
                _ => Behaviour::Answer,
            }
        };
        let response = match (request.path.as_str(), behaviour) {
            (_, Behaviour::Die) => {
                stop(stopped, addr);
                let _ = conn.shutdown(Shutdown::Both);
                return;
            }
            (_, Behaviour::Hang) => {
                while !stopped.load(Ordering::SeqCst) {
                    thread::sleep(Duration::from_millis(50));
                }
                return;
            }
            (_, Behaviour::Status { code, retry_after }) => {
                let body = format!(
                    "{{\"error\": {{\"message\": \"mock status {code}\", \"type\": \"mock\"}}}}"
                );
                let extra =
                    retry_after.map(|s| format!("Retry-After: {s}\r\n")).unwrap_or_default();
                http(code, "application/json", &extra, &body)
            }
            ("/v1/models", _) => http(
                200,
                "application/json",
                "",
                "{\"object\": \"list\", \"data\": [{\"id\": \"mock-model\", \"object\": \"model\"}]}",
            ),
            ("/v1/chat/completions", Behaviour::Answer) => {
                chats.fetch_add(1, Ordering::Relaxed);
                let (answer, pace) = {
                    let mut s = state.lock().unwrap();
                    let i = s.next_answer;
                    s.next_answer += 1;
                    (s.answers[i % s.answers.len()].clone(), s.pace)
                };
                let body = sse_answer(&answer, request.body.len());
                if let Some(pace) = pace {
                    if write_paced(&mut conn, &body, pace, stopped).is_err() {
                        return;
                    }
                    continue;
                }
                http(200, "text/event-stream", "", &body)
            }
            _ => http(404, "application/json", "", "{\"error\": {\"message\": \"no such path\"}}"),
        };
        if conn.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

fn http(code: u16, content_type: &str, extra_headers: &str, body: &str) -> String {
    let reason = match code {
        200 => "OK",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra_headers}\r\n{body}",
        body.len()
    )
}

/// `body`'s events as a generating server writes them: chunked transfer encoding, each event in
/// a write of its own, `pace` after the one before.
fn write_paced(
    conn: &mut TcpStream,
    body: &str,
    pace: Duration,
    stopped: &AtomicBool,
) -> std::io::Result<()> {
    conn.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n",
    )?;
    for event in body.split_inclusive("\n\n") {
        if stopped.load(Ordering::SeqCst) {
            return Err(std::io::ErrorKind::Interrupted.into());
        }
        thread::sleep(pace);
        conn.write_all(format!("{:x}\r\n{event}\r\n", event.len()).as_bytes())?;
    }
    conn.write_all(b"0\r\n\r\n")
}

/// The answer as vLLM streams it: a role chunk, then a chunk per token (about four characters,
/// with the fields vLLM sends), the finish reason, usage, `[DONE]`. Token by token, because that
/// is what a client pays for with a real server: parsing one event per token.
fn sse_answer(answer: &str, request_len: usize) -> String {
    let chunk = |delta: &str, finish: &str| {
        format!(
            "data: {{\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\",\"created\":1764547200,\"model\":\"mock-model\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"logprobs\":null,\"finish_reason\":{finish}}}]}}\n\n"
        )
    };
    let mut out = chunk("{\"role\":\"assistant\",\"content\":\"\"}", "null");
    let chars: Vec<char> = answer.chars().collect();
    for piece in chars.chunks(4) {
        let text: String = piece.iter().collect();
        let content = serde_json::to_string(&text).expect("a string serializes");
        out.push_str(&chunk(&format!("{{\"content\":{content}}}"), "null"));
    }
    out.push_str(&chunk("{}", "\"stop\""));
    out.push_str(&format!(
        "data: {{\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\",\"created\":1764547200,\"model\":\"mock-model\",\"choices\":[],\"usage\":{{\"prompt_tokens\":{},\"completion_tokens\":{}}}}}\n\n",
        request_len / 4,
        answer.len().div_ceil(4)
    ));
    out.push_str("data: [DONE]\n\n");
    out
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Seen> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let (mut length, mut authorization) = (0usize, None);
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().ok()?;
            } else if name.eq_ignore_ascii_case("authorization") {
                authorization = Some(value.to_string());
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Seen {
        method,
        path,
        authorization,
        body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
    })
}
