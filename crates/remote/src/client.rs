//! One backend call: a streaming chat completion, the model list, dagsmith's health.
//!
//! Every failure is sorted into what the dispatcher can do about it ([`CallError`]): try again
//! elsewhere (unreachable, timed out, 5xx, a stream cut short), wait (429), stop using the
//! backend (401/403/404: a wrong key, URL or model name), or record that this request cannot be
//! served (other 4xx, e.g. a prompt longer than the model's context).

use std::io::{self, BufRead, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use dagsmith_core::dataset::Message;
use dagsmith_core::wire::Health;
use serde::Deserialize;
use serde_json::{Value, json};
use ureq::Agent;

use crate::backend::BackendSpec;
use crate::gapped::Gapped;
use crate::http::{self, Head, Target, Transport};
use crate::sse::Events;

/// Error bodies are read up to this many bytes (the message is all that is kept).
pub(crate) const ERROR_BODY_LIMIT: u64 = 64 << 10;

/// An answer longer than this is a server gone wrong (a DAG is a few KiB), not a reason to run
/// out of memory.
const MAX_ANSWER: usize = 64 << 20;

/// Connecting takes at most this long (a refused connection fails at once).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a batch request lets a trickling answer accumulate between two reads
/// (`gapped`): a few tokens per read instead of one, for at most a quarter more than this of
/// latency per answer. Requests whose text a user watches arrive ungapped.
pub const BATCH_READ_GAP: Duration = Duration::from_millis(100);

/// What a chat completion asks besides the messages.
#[derive(Clone, Debug, PartialEq)]
pub struct ChatParams {
    pub max_tokens: u32,
    pub temperature: f32,
    pub top_p: f32,
    /// 0 = off.
    pub top_k: i32,
    /// 0 = off.
    pub min_p: f32,
    /// 1 = off.
    pub repeat_penalty: f32,
    pub seed: u32,
}

impl ChatParams {
    /// The request body. The repetition penalty goes always, under vLLM's name and llama.cpp's
    /// (each server ignores the other's): vLLM otherwise fills what a request leaves out from the
    /// model's `generation_config.json` (Qwen2.5-Coder's says 1.05), and greedy runs would differ
    /// from local ones. `top_k` and `min_p` go only when sampling and when they are on. OpenAI's
    /// own API refuses these fields; the servers dagsmith targets take them.
    pub fn body(&self, model: &str, messages: &[Message]) -> Value {
        let mut body = json!({
            "model": model,
            "messages": messages,
            "stream": true,
            "stream_options": {"include_usage": true},
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "seed": self.seed,
            "repetition_penalty": self.repeat_penalty,
            "repeat_penalty": self.repeat_penalty,
        });
        if self.temperature > 0.0 {
            if self.top_k > 0 {
                body["top_k"] = json!(self.top_k);
            }
            if self.min_p > 0.0 {
                body["min_p"] = json!(self.min_p);
            }
        }
        body
    }
}

/// A complete answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Answer {
    pub text: String,
    /// `finish_reason` as the server said it: "stop", "length", "repetition" (dagsmith serve's
    /// runaway guard), ...; `None` when the server sent none but ended the stream properly.
    pub finish: Option<String>,
    /// From the `usage` chunk; `None` when the server sent none.
    pub prompt_tokens: Option<u32>,
    pub completion_tokens: Option<u32>,
    /// From sending the request to the first text.
    pub first_token_ms: Option<f64>,
    /// From sending the request to the end of the stream.
    pub latency_ms: f64,
}

/// Why a call failed.
#[derive(Clone, Debug, PartialEq)]
pub enum CallError {
    /// No connection (refused, reset, unknown host, TLS).
    Unreachable(String),
    /// Nothing arrived for the timeout.
    Timeout(String),
    /// 429: the backend is busy; `Retry-After` when it said.
    Busy { retry_after: Option<Duration>, message: String },
    /// 5xx, 408, a malformed stream, an error sent mid-stream or a stream cut short: the backend
    /// failed this time.
    Server(String),
    /// 401, 403, 404: the backend will not serve us (key, URL or model name).
    Denied(String),
    /// Another 4xx: this request cannot be served as it is.
    BadRequest(String),
    /// The caller cancelled the call.
    Cancelled,
}

impl CallError {
    /// A failure another try (on another backend, or later) may cure.
    pub fn is_transient(&self) -> bool {
        matches!(self, CallError::Unreachable(_) | CallError::Timeout(_) | CallError::Server(_))
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Unreachable(m)
            | CallError::Timeout(m)
            | CallError::Server(m)
            | CallError::Denied(m)
            | CallError::BadRequest(m)
            | CallError::Busy { message: m, .. } => f.write_str(m),
            CallError::Cancelled => f.write_str("cancelled"),
        }
    }
}

/// The HTTP side; cheap to clone (one connection pool per transport).
///
/// `http://` backends go through dagsmith's own HTTP/1.1 transport (`http`), which reads a
/// token-by-token stream where it lies; `https://` ones, and all when a proxy is set in the
/// environment (`HTTP_PROXY`, `ALL_PROXY`, ...), through ureq, which does TLS and proxies.
#[derive(Clone)]
pub struct Client {
    agent: Agent,
    /// `None` when a proxy is set: then ureq takes every request.
    http: Option<Arc<Transport>>,
    timeout: Duration,
}

/// A response body from either transport.
enum Body {
    Own(http::Body),
    Ureq(BufReader<Gapped<ureq::BodyReader<'static>>>),
}

impl Body {
    /// Reads go straight through from now on (see `gapped`).
    fn stop_waiting(&mut self) {
        match self {
            Body::Own(body) => body.stop_waiting(),
            Body::Ureq(body) => body.get_mut().stop_waiting(),
        }
    }

    /// The body as text, at most `limit` bytes of it (invalid UTF-8 replaced).
    fn text(&mut self, limit: u64) -> Result<String, CallError> {
        let mut bytes = Vec::new();
        self.take(limit).read_to_end(&mut bytes).map_err(read_error)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

impl Read for Body {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match self {
            Body::Own(body) => body.read(out),
            Body::Ureq(body) => body.read(out),
        }
    }
}

impl BufRead for Body {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self {
            Body::Own(body) => body.fill_buf(),
            Body::Ureq(body) => body.fill_buf(),
        }
    }

    fn consume(&mut self, amount: usize) {
        match self {
            Body::Own(body) => body.consume(amount),
            Body::Ureq(body) => body.consume(amount),
        }
    }
}

impl Client {
    /// `timeout`: a backend that sends nothing for this long (no headers, no token) has failed
    /// the call.
    pub fn new(timeout: Duration) -> Client {
        let user_agent = format!("dagsmith/{}", dagsmith_core::VERSION);
        let connect_timeout = timeout.min(CONNECT_TIMEOUT);
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(connect_timeout))
            .timeout_resolve(Some(connect_timeout))
            .timeout_per_read(Some(timeout))
            .timeout_per_write(Some(timeout))
            // Keep a connection per request in flight: reconnecting per request costs a round
            // trip (and a TLS handshake) each time.
            .max_idle_connections(4096)
            .max_idle_connections_per_host(1024)
            // A redirect is refused with the URL to give instead, as the HTTP/1.1 transport
            // does: a POST redirected would not be the same request.
            .max_redirects(0)
            // ureq allocates (and zeroes) the output buffer per request: its default 128 KiB
            // was a tenth of the client's CPU per request (scripts/bench-client.sh). A request
            // is a few KiB of JSON and a larger one is written in several pieces all the same.
            .output_buffer_size(16 * 1024)
            .user_agent(user_agent.clone())
            .build();
        let proxied = config.proxy().is_some();
        let agent = Agent::with_parts(
            config,
            ureq::unversioned::transport::DefaultConnector::default(),
            crate::resolve::BackendResolver::default(),
        );
        let http = (!proxied)
            .then(|| Arc::new(Transport::new(timeout, timeout.min(CONNECT_TIMEOUT), user_agent)));
        Client { agent, http, timeout }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The `host:port` of a backend whose requests go through dagsmith's own transport
    /// (`http://`, no proxy set), for the reactor; `None` for ureq's.
    pub(crate) fn own_authority(&self, backend: &BackendSpec) -> Option<String> {
        self.http.as_ref()?;
        Target::of(&backend.url).map(|t| t.authority.to_string())
    }

    /// A chat completion's request as it goes on the wire, for a backend of
    /// [`own_authority`](Self::own_authority).
    pub(crate) fn chat_request(&self, backend: &BackendSpec, body: &Value) -> Option<Vec<u8>> {
        let (transport, target) = (self.http.as_ref()?, Target::of(&backend.url)?);
        let bytes = serde_json::to_vec(body).expect("a JSON value serializes");
        let bearer = bearer(backend);
        let headers = headers(bearer.as_deref(), true);
        let path = "/v1/chat/completions";
        Some(transport.request_bytes(&target, "POST", path, &headers, Some(&bytes)))
    }

    /// Connecting takes at most this long.
    pub(crate) fn connect_timeout(&self) -> Duration {
        self.timeout.min(CONNECT_TIMEOUT)
    }

    /// A request (`body`: a JSON POST, else a GET) and its response's head.
    fn send(
        &self,
        backend: &BackendSpec,
        path: &str,
        body: Option<&[u8]>,
        read_gap: Duration,
    ) -> Result<(Head, Body), CallError> {
        let bearer = bearer(backend);
        if let (Some(transport), Some(target)) = (&self.http, Target::of(&backend.url)) {
            let headers = headers(bearer.as_deref(), body.is_some());
            let method = if body.is_some() { "POST" } else { "GET" };
            let (head, body) = transport
                .send(&target, method, path, &headers, body, read_gap)
                .map_err(io_error)?;
            return Ok((head, Body::Own(body)));
        }
        let url = format!("{}{path}", backend.url);
        let headers = headers(bearer.as_deref(), body.is_some());
        let response = match body {
            Some(bytes) => {
                let request = self.agent.post(url);
                headers.iter().fold(request, |r, (name, value)| r.header(*name, *value)).send(bytes)
            }
            None => {
                let request = self.agent.get(url);
                headers.iter().fold(request, |r, (name, value)| r.header(*name, *value)).call()
            }
        }
        .map_err(|e| transport_error(&e))?;
        let header = |name: &str| {
            let value = response.headers().get(name)?.to_str().ok()?;
            Some(value.trim().to_string())
        };
        let head = Head {
            status: response.status().as_u16(),
            retry_after: header("retry-after"),
            location: header("location"),
        };
        let reader = Gapped::new(response.into_body().into_reader(), read_gap);
        Ok((head, Body::Ureq(BufReader::with_capacity(16 << 10, reader))))
    }

    /// `GET /v1/models`: the ids of the models served.
    pub fn models(&self, backend: &BackendSpec) -> Result<Vec<String>, CallError> {
        #[derive(Deserialize)]
        struct List {
            data: Vec<Model>,
        }
        #[derive(Deserialize)]
        struct Model {
            id: String,
        }
        let (head, mut body) = self.send(backend, "/v1/models", None, Duration::ZERO)?;
        check_status(&head, &mut body)?;
        let text = body.text(16 << 20)?;
        let list: List = serde_json::from_str(&text).map_err(|e| {
            CallError::Server(format!("GET /v1/models: not an OpenAI model list ({e})"))
        })?;
        Ok(list.data.into_iter().map(|m| m.id).collect())
    }

    /// dagsmith serve's generation slots (`GET /api/health`); `None` from other servers.
    pub fn health_slots(&self, backend: &BackendSpec) -> Option<usize> {
        let (head, mut body) = self.send(backend, "/api/health", None, Duration::ZERO).ok()?;
        if head.status != 200 {
            return None;
        }
        let text = body.text(1 << 20).ok()?;
        let health: Health = serde_json::from_str(&text).ok()?;
        let slots = health.slots.total;
        (slots > 0).then_some(slots as usize)
    }

    /// `POST /v1/chat/completions`, streaming. `on_text` gets each piece of the answer as it
    /// arrives; `cancel` is read between pieces. `read_gap`: see [`BATCH_READ_GAP`] (zero for
    /// an answer read as it comes).
    pub fn chat(
        &self,
        backend: &BackendSpec,
        body: &Value,
        cancel: &AtomicBool,
        read_gap: Duration,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Answer, CallError> {
        let started = Instant::now();
        let bytes = serde_json::to_vec(body).expect("a JSON value serializes");
        let path = "/v1/chat/completions";
        let (head, mut body) = self.send(backend, path, Some(&bytes), read_gap)?;
        check_status(&head, &mut body)?;
        let mut events = Events::new(body);
        let mut reader = AnswerReader::new(started);
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Err(CallError::Cancelled);
            }
            match reader.next_event(&mut events).map_err(read_error)?? {
                Step::Text(new) => on_text(&reader.answer.text[new..]),
                Step::More => {}
                Step::Done => {
                    // Read on to the body's end (servers end it right after `[DONE]`): only a
                    // body read to its end gives its connection back to the pool; otherwise
                    // every request connects anew. What is left comes at once.
                    events.reader_mut().stop_waiting();
                    while let Ok(Some(_)) = events.next_data() {}
                    break;
                }
                Step::Ended => break,
            }
        }
        Ok(reader.finish())
    }
}

/// What an event of the answer's stream did.
pub(crate) enum Step {
    /// Text arrived: it is `answer.text[from..]`.
    Text(usize),
    /// Nothing to show (a finish reason, the usage).
    More,
    /// `[DONE]`: the rest of the body can be read at once.
    Done,
    /// The stream ended after the answer did.
    Ended,
}

/// An answer built from its stream's events (`data` of each, `None` at the stream's end).
pub(crate) struct AnswerReader {
    chunks: crate::chunk::Reader,
    pub answer: Answer,
    started: Instant,
}

impl AnswerReader {
    /// `started`: when the request was sent.
    pub fn new(started: Instant) -> AnswerReader {
        AnswerReader { chunks: crate::chunk::Reader::default(), answer: Answer::default(), started }
    }

    /// Reads the next event of `events` (an error of theirs is the outer one): the usual piece
    /// of text, shaped like the last chunk, where it lies in the buffer; any other event as
    /// [`event`](Self::event) reads it.
    pub fn next_event<R: BufRead>(
        &mut self,
        events: &mut Events<R>,
    ) -> io::Result<Result<Step, CallError>> {
        let chunks = &self.chunks;
        let Some((data, at)) = events.next_known(|bytes| chunks.measure(bytes))? else {
            let data = events.next_data()?;
            return Ok(self.event(data));
        };
        let before = self.answer.text.len();
        if !crate::chunk::append_text(data, at, &mut self.answer.text) {
            // Not well-formed text: read as any other chunk (serde_json says what is wrong).
            return Ok(self.event(Some(data)));
        }
        Ok(self.appended(before))
    }

    /// Reads an event's data (`None`: the stream's end).
    pub fn event(&mut self, data: Option<&[u8]>) -> Result<Step, CallError> {
        let answer = &mut self.answer;
        let data = match data {
            Some(b"[DONE]") => return Ok(Step::Done),
            Some(data) => data,
            None if answer.finish.is_some() => return Ok(Step::Ended),
            None => {
                return Err(CallError::Server(
                    "the answer stream ended before the answer did".into(),
                ));
            }
        };
        let before = answer.text.len();
        let chunk = self.chunks.read(data, &mut answer.text).map_err(|e| {
            CallError::Server(format!("a stream chunk is not OpenAI's chunk JSON ({e})"))
        })?;
        // `None`: only a piece of text (nearly every chunk), appended already.
        if let Some(chunk) = chunk {
            if let Some(error) = chunk.error {
                let message = error_text(&error);
                return Err(CallError::Server(format!("error mid-stream: {message}")));
            }
            for choice in chunk.choices.iter().filter(|c| c.index == 0) {
                if let Some(text) = choice.delta.as_ref().and_then(|d| d.content.as_deref()) {
                    answer.text.push_str(text);
                }
                if let Some(finish) = &choice.finish_reason {
                    answer.finish = Some(finish.clone());
                }
            }
            if let Some(usage) = chunk.usage {
                answer.prompt_tokens = usage.prompt_tokens;
                answer.completion_tokens = usage.completion_tokens;
            }
        }
        self.appended(before)
    }

    /// What the answer's text from `before` on (appended by an event) makes of the event.
    fn appended(&mut self, before: usize) -> Result<Step, CallError> {
        let answer = &mut self.answer;
        if answer.text.len() > MAX_ANSWER {
            let message = format!("the answer is longer than {} MiB", MAX_ANSWER >> 20);
            return Err(CallError::Server(message));
        }
        if answer.text.len() > before {
            if answer.first_token_ms.is_none() {
                answer.first_token_ms = Some(ms(self.started));
            }
            return Ok(Step::Text(before));
        }
        Ok(Step::More)
    }

    /// The answer, its latency taken now.
    pub fn finish(mut self) -> Answer {
        self.answer.latency_ms = ms(self.started);
        self.answer
    }
}

/// The `Authorization` header's value for a backend with an API key.
fn bearer(backend: &BackendSpec) -> Option<String> {
    backend.api_key.as_ref().map(|key| format!("Bearer {key}"))
}

/// A request's headers besides `Host`, `User-Agent` and `Content-Length`: a chat request's
/// (`post`) say what it sends and takes.
fn headers(bearer: Option<&str>, post: bool) -> Vec<(&'static str, &str)> {
    let mut headers = Vec::with_capacity(3);
    if post {
        headers.push(("Content-Type", "application/json"));
        headers.push(("Accept", "text/event-stream"));
    }
    headers.extend(bearer.map(|b| ("Authorization", b)));
    headers
}

fn ms(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1e5).round() / 100.0
}

/// An error object's message (OpenAI's `{"message": ...}`), else the JSON itself.
fn error_text(error: &Value) -> String {
    match error.get("message").and_then(Value::as_str) {
        Some(m) => m.to_string(),
        None => error.to_string(),
    }
}

/// Sorts a non-2xx status (reading the error message from its body).
fn check_status(head: &Head, body: &mut Body) -> Result<(), CallError> {
    if (200..300).contains(&head.status) {
        return Ok(());
    }
    let text = body.text(ERROR_BODY_LIMIT).unwrap_or_default();
    Err(status_error(head, &text))
}

/// What a non-2xx status means for the call; `body`: the response's body (its first
/// [`ERROR_BODY_LIMIT`] bytes), whose error message is kept.
pub(crate) fn status_error(head: &Head, body: &str) -> CallError {
    let status = head.status;
    let retry_after =
        head.retry_after.as_deref().and_then(|v| v.parse::<u64>().ok()).map(Duration::from_secs);
    let detail = match serde_json::from_str::<Value>(body) {
        Ok(v) if v.get("error").is_some() => error_text(&v["error"]),
        _ => body.trim().chars().take(200).collect(),
    };
    let mut message = if detail.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {detail}")
    };
    if let (300..=399, Some(location)) = (status, &head.location) {
        message = format!("{message} (redirected to {location}: give that URL as the backend)");
    }
    match status {
        429 => CallError::Busy { retry_after, message },
        408 | 500..=599 => CallError::Server(message),
        300..=399 | 401 | 403 | 404 => CallError::Denied(message),
        _ => CallError::BadRequest(message),
    }
}

/// A failed read or connection, sorted.
pub(crate) fn io_error(e: io::Error) -> CallError {
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
            CallError::Timeout(format!("no answer in time ({e})"))
        }
        // Not HTTP, or not the HTTP it said: the server's fault.
        io::ErrorKind::InvalidData => CallError::Server(e.to_string()),
        _ => CallError::Unreachable(e.to_string()),
    }
}

/// A failed read of a body from either transport (ureq wraps its own errors in `io::Error`).
fn read_error(e: io::Error) -> CallError {
    match ureq::Error::from(e) {
        ureq::Error::Io(e) => io_error(e),
        e => transport_error(&e),
    }
}

fn transport_error(e: &ureq::Error) -> CallError {
    match e {
        ureq::Error::Timeout(_) => CallError::Timeout(format!("no answer in time ({e})")),
        ureq::Error::Io(io) if io.kind() == io::ErrorKind::TimedOut => {
            CallError::Timeout(format!("no answer in time ({io})"))
        }
        ureq::Error::Io(io) => CallError::Unreachable(io.to_string()),
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => {
            CallError::Unreachable(e.to_string())
        }
        ureq::Error::StatusCode(status) => CallError::Server(format!("HTTP {status}")),
        _ => CallError::Server(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_body_sends_extras_only_when_they_matter() {
        let mut params = ChatParams {
            max_tokens: 100,
            temperature: 0.0,
            top_p: 1.0,
            top_k: 40,
            min_p: 0.05,
            repeat_penalty: 1.0,
            seed: 7,
        };
        let messages = [Message { role: "user".into(), content: "hi".into() }];
        let body = params.body("qwen", &messages);
        assert_eq!(body["model"], "qwen");
        assert_eq!(body["stream_options"]["include_usage"], true);
        assert_eq!(body["messages"][0]["content"], "hi");
        assert!(body.get("top_k").is_none() && body.get("min_p").is_none());
        assert_eq!(
            (&body["repetition_penalty"], &body["repeat_penalty"]),
            (&json!(1.0), &json!(1.0))
        );
        params.temperature = 0.7;
        params.repeat_penalty = 1.1;
        let body = params.body("qwen", &messages);
        assert_eq!(body["top_k"], 40);
        assert!(body["min_p"].as_f64().unwrap() > 0.04);
        assert!(body["repetition_penalty"].as_f64().unwrap() > 1.09);
    }

    /// What reading `events` to their end made of each event (each `Step`, or the error, or
    /// what the reader said), and the answer read: `next_event` (`known`), or `next_data` and
    /// `event` as before it. A `WouldBlock` is tried again.
    fn read_answer<R: BufRead>(mut events: Events<R>, known: bool) -> (Vec<String>, Answer) {
        let mut reader = AnswerReader::new(Instant::now());
        let mut steps = Vec::new();
        loop {
            let step = if known {
                reader.next_event(&mut events)
            } else {
                events.next_data().map(|data| reader.event(data))
            };
            let step = match step {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => Err(format!("read: {e}")),
                Ok(step) => step.map_err(|e| format!("{e:?}")),
            };
            steps.push(match &step {
                Ok(Step::Text(from)) => format!("text from {from}"),
                Ok(Step::More) => "more".into(),
                Ok(Step::Done) => "done".into(),
                Ok(Step::Ended) => "ended".into(),
                Err(e) => e.clone(),
            });
            if !matches!(step, Ok(Step::Text(_) | Step::More)) {
                break;
            }
        }
        let mut answer = reader.finish();
        (answer.first_token_ms, answer.latency_ms) = (None, 0.0);
        (steps, answer)
    }

    #[test]
    fn events_read_where_they_lie_are_read_as_before() {
        let chunk = |content: &str, finish: &str| {
            format!(
                r#"{{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1,"model":"m","choices":[{{"index":0,"delta":{{"content":{content}}},"logprobs":null,"finish_reason":{finish}}}]}}"#
            )
            .into_bytes()
        };
        let text = |content: &str| chunk(&format!("\"{content}\""), "null");
        // A text of any bytes.
        let raw_text = |content: &[u8]| {
            let chunk = text("@");
            let at = chunk.iter().position(|&b| b == b'@').unwrap();
            [&chunk[..at], content, &chunk[at + 1..]].concat()
        };
        let event = |data: &[u8]| [b"data: ", data, b"\n\n"].concat();
        let role = br#"{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}"#;
        let usage = br#"{"id":"chatcmpl-7","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":9}}"#;
        let usual: Vec<Vec<u8>> = [
            event(role),
            event(&text("from")),
            event(&text(" airflow")),
            event(&text(r#"\"x\"\n    "#)),
            event(&text(r#"caf\u00e9 \ud83d\ude00"#)),
            event(&text("grüße ✓")),
            event(&text("")),
            event(&text(r#"a\/b\\"#)),
            event(&text("same")),
            event(&text("same")),
            event(&chunk(r#""end""#, r#""stop""#)),
            event(usage),
            event(b"[DONE]"),
        ]
        .into();
        let bad = |piece: Vec<u8>| {
            let mut events = usual.clone();
            events.insert(3, piece);
            events
        };
        let mut streams = vec![
            usual.clone(),
            // Other line ends, events of several lines, comments, other fields.
            usual
                .iter()
                .enumerate()
                .map(|(i, e)| match i % 5 {
                    0 => e.strip_suffix(b"\n\n").map(|d| [d, b"\r\n\r\n"].concat()).unwrap(),
                    1 => [b": ping\n\nevent: message\nid: 1\n", &e[..]].concat(),
                    2 => match e.iter().position(|&b| b == b',') {
                        Some(at) => [&e[..=at], b"\ndata:", &e[at + 1..]].concat(),
                        None => e.clone(),
                    },
                    3 => e.strip_prefix(b"data: ").map(|d| [b"data:", d].concat()).unwrap(),
                    _ => e.clone(),
                })
                .collect(),
            // Cut short: after the answer, and before it ended.
            usual[..usual.len() - 1].to_vec(),
            usual[..5].to_vec(),
            // Text that is not UTF-8, a bad escape, a raw line end, an error mid-stream.
            bad(event(&raw_text(b"caf\xc3"))),
            bad(event(&raw_text(b"\xff"))),
            bad(event(&text(r#"a\qb"#))),
            bad(event(&text("tab\there"))),
            bad(event(&raw_text(b"a\\\nb"))),
            bad(event(br#"{"error":{"message":"out of memory"}}"#)),
            // A text chunk with more to it.
            bad(event(
                &chunk(r#""x""#, "null")
                    .strip_suffix(b"}")
                    .map(|c| [c, b",\"usage\":null}"].concat())
                    .unwrap(),
            )),
        ];
        streams.push(usual.iter().flat_map(|e| [e.clone(), b"\n".to_vec()]).collect());
        for (n, stream) in streams.iter().enumerate() {
            let wire = stream.concat();
            let before = read_answer(Events::new(&wire[..]), false);
            let last = before.0.last().map_or("", String::as_str);
            let expected = match n {
                2 => "ended",
                3..=9 => "Server(",
                _ => "done",
            };
            assert!(last.starts_with(expected), "stream {n}: {last}");
            assert_eq!(read_answer(Events::new(&wire[..]), true), before, "stream {n}");
            for capacity in [1, 2, 7, 64, 200, 333, 4096] {
                let reader = || std::io::BufReader::with_capacity(capacity, &wire[..]);
                assert_eq!(read_answer(Events::new(reader()), true), before, "{n}: {capacity}");
                let stuttering = crate::sse::tests::Stuttering { text: &wire, ready: false };
                let reader = std::io::BufReader::with_capacity(capacity, stuttering);
                assert_eq!(read_answer(Events::new(reader), true), before, "{n}: {capacity}");
            }
            // Chunked transfer encoding: a chunk per event, or cut anywhere.
            for cut in [0, 1, 5, 100] {
                let pieces: Vec<&[u8]> = match cut {
                    0 => stream.iter().map(Vec::as_slice).collect(),
                    _ => wire.chunks(cut).collect(),
                };
                let mut chunked: Vec<u8> = pieces
                    .iter()
                    .flat_map(|p| {
                        [format!("{:x}\r\n", p.len()).into_bytes(), p.to_vec(), b"\r\n".to_vec()]
                    })
                    .flatten()
                    .collect();
                chunked.extend_from_slice(b"0\r\n\r\n");
                for packet in [1, 13, chunked.len()] {
                    let framed = || {
                        let packets = chunked.chunks(packet).map(<[u8]>::to_vec).collect();
                        let buffer = vec![0; 4096].into_boxed_slice();
                        let chunked = crate::http::Framing::Chunked(crate::http::Chunk::Size);
                        let packets = crate::gapped::tests::Packets(packets);
                        Events::new(crate::http::Framed::new(packets, buffer, 0, 0, chunked))
                    };
                    let label = format!("{n}: chunks of {cut}, packets of {packet}");
                    assert_eq!(read_answer(framed(), true), before, "{label}");
                    assert_eq!(read_answer(framed(), false), before, "{label}");
                }
            }
        }
        // What the usual stream reads to.
        let (steps, answer) = read_answer(Events::new(&usual.concat()[..]), true);
        assert_eq!(answer.text, "from airflow\"x\"\n    café 😀grüße ✓a/b\\samesameend");
        assert_eq!((answer.finish.as_deref(), answer.completion_tokens), (Some("stop"), Some(9)));
        assert_eq!(steps.last().map(String::as_str), Some("done"));
    }

    #[test]
    fn transient_errors_are_the_retryable_ones() {
        assert!(CallError::Unreachable("x".into()).is_transient());
        assert!(CallError::Server("x".into()).is_transient());
        assert!(!CallError::BadRequest("x".into()).is_transient());
        assert!(!CallError::Denied("x".into()).is_transient());
        assert!(!CallError::Busy { retry_after: None, message: "x".into() }.is_transient());
    }
}
