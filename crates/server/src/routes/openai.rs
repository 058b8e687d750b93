//! OpenAI-compatible endpoints: `GET /v1/models` and `POST /v1/chat/completions` (streaming and
//! not), so that existing OpenAI clients work unchanged against the local model.
//!
//! Differences from OpenAI: sampling defaults to greedy (temperature 0) when the request names no
//! temperature; `n` must be 1; `model` is accepted whatever it says (there is one model). Extra
//! llama.cpp-style fields are accepted: `top_k`, `min_p`, `repeat_penalty`, `ignore_eos`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use dagsmith_core::wire::SamplingOverrides;
use dagsmith_engine::{Completion, GenerationRequest, Message, SamplingParams};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::json::{json_response, parse_body};
use crate::routes::{capped_max_tokens, check_prompt};
use crate::scheduler::JobEvent;
use crate::sse::{self, EventSender, Next};
use crate::state::SharedState;

/// Stop strings per request at most.
const MAX_STOP: usize = 16;

/// `GET /v1/models`: the loaded model, or an empty list.
pub async fn models(State(state): State<SharedState>) -> Response {
    let data: Vec<Value> = state
        .model()
        .map(|m| json!({"id": m.name, "object": "model", "created": 0, "owned_by": "dagsmith"}))
        .into_iter()
        .collect();
    json_response(StatusCode::OK, &json!({"object": "list", "data": data}))
}

#[derive(Deserialize)]
struct ChatRequest {
    #[serde(default)]
    model: Option<String>,
    messages: Vec<ChatMessage>,
    #[serde(default)]
    stream: Option<bool>,
    #[serde(default)]
    stream_options: Option<StreamOptions>,
    max_tokens: Option<u32>,
    max_completion_tokens: Option<u32>,
    temperature: Option<f32>,
    top_p: Option<f32>,
    top_k: Option<i32>,
    min_p: Option<f32>,
    repeat_penalty: Option<f32>,
    seed: Option<i64>,
    stop: Option<Stop>,
    n: Option<u32>,
    #[serde(default)]
    ignore_eos: Option<bool>,
}

#[derive(Deserialize)]
struct StreamOptions {
    #[serde(default)]
    include_usage: Option<bool>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Stop {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct ChatMessage {
    role: String,
    #[serde(default)]
    content: Option<Content>,
}

/// A message's content: a string, or OpenAI's list of typed parts (only text parts are usable).
#[derive(Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Parts(Vec<Part>),
}

#[derive(Deserialize)]
struct Part {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
}

fn message(m: ChatMessage) -> Result<Message, ApiError> {
    if !matches!(m.role.as_str(), "system" | "developer" | "user" | "assistant") {
        return Err(ApiError::bad_request(format!(
            "messages: role {:?} is not supported (system, developer, user or assistant)",
            m.role
        )));
    }
    // OpenAI's "developer" role is the newer name of "system"; chat templates know only "system".
    let role = if m.role == "developer" { "system".to_string() } else { m.role };
    let content = match m.content {
        None => String::new(),
        Some(Content::Text(t)) => t,
        Some(Content::Parts(parts)) => {
            let mut text = String::new();
            for p in parts {
                match (p.kind.as_str(), p.text) {
                    ("text", Some(t)) => text.push_str(&t),
                    (kind, _) => {
                        return Err(ApiError::bad_request(format!(
                            "messages: content parts of type {kind:?} are not supported (text only)"
                        )));
                    }
                }
            }
            text
        }
    };
    Ok(Message { role, content })
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Everything a response names besides the text.
struct Meta {
    id: String,
    created: u64,
    model: String,
}

fn usage(c: &Completion) -> Value {
    json!({
        "prompt_tokens": c.prompt_tokens,
        "completion_tokens": c.completion_tokens,
        "total_tokens": c.prompt_tokens + c.completion_tokens,
    })
}

/// `POST /v1/chat/completions`.
pub async fn chat_completions(
    State(state): State<SharedState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (engine, scheduler, model) = state.ready()?;
    let body: ChatRequest = parse_body(body, state.config.body_limit)?;
    if body.n.unwrap_or(1) != 1 {
        return Err(ApiError::bad_request("n must be 1: one choice per request"));
    }
    if body.messages.is_empty() {
        return Err(ApiError::bad_request("messages must not be empty"));
    }
    let messages = body.messages.into_iter().map(message).collect::<Result<Vec<_>, _>>()?;
    let sampling = SamplingOverrides {
        temperature: body.temperature,
        top_p: body.top_p,
        top_k: body.top_k,
        min_p: body.min_p,
        repeat_penalty: body.repeat_penalty,
        // OpenAI's seed is any integer; the sampler takes 32 bits.
        seed: body.seed.map(|s| s as u32),
    }
    .resolve(SamplingParams::default())
    .map_err(ApiError::bad_request)?;
    let stop = match body.stop {
        None => Vec::new(),
        Some(Stop::One(s)) => vec![s],
        Some(Stop::Many(v)) => v,
    };
    if stop.len() > MAX_STOP {
        return Err(ApiError::bad_request(format!("stop: at most {MAX_STOP} strings")));
    }
    let context = state.config.context_per_sequence;
    let prompt_tokens = check_prompt(engine, &messages, context).await?;
    let cap = state.config.max_tokens;
    let max_tokens = capped_max_tokens(
        body.max_completion_tokens.or(body.max_tokens),
        cap,
        cap,
        context,
        prompt_tokens,
    )?;
    let request = GenerationRequest {
        messages,
        sampling,
        max_tokens,
        stop,
        ignore_eos: body.ignore_eos.unwrap_or(false),
        // A request for equal work (ignore_eos, benchmarks) runs to max_tokens, loop or not.
        stop_on_repetition: !body.ignore_eos.unwrap_or(false),
        trace: false,
    };
    let mut job = scheduler.submit(request, false)?;
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let meta = Meta {
        id: format!("chatcmpl-{:x}{id:04x}", unix_now()),
        created: unix_now(),
        // Echo the request's model name when it gave one: some clients check it.
        model: body.model.filter(|m| !m.is_empty()).unwrap_or_else(|| model.name.clone()),
    };

    if body.stream.unwrap_or(false) {
        let include_usage = body.stream_options.and_then(|o| o.include_usage).unwrap_or(false);
        let (events, response) = sse::channel();
        tokio::spawn(stream(events, job, meta, include_usage));
        return Ok(response.into_response());
    }

    // Not streaming: collect the text. A client that disconnects drops this future, and with
    // it the job's receiver, which cancels the job at the engine's next step.
    let completion = loop {
        match job.recv().await {
            Some(JobEvent::Text { .. }) => {}
            Some(JobEvent::Done(c)) => break c,
            Some(JobEvent::Failed(e)) => return Err(e),
            None => return Err(ApiError::unavailable("the engine stopped")),
        }
    };
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "id": meta.id,
            "object": "chat.completion",
            "created": meta.created,
            "model": meta.model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": completion.text},
                "logprobs": null,
                "finish_reason": completion.finish.as_str(),
            }],
            "usage": usage(&completion),
        }),
    ))
}

fn chunk(meta: &Meta, delta: Value, finish: Option<&str>) -> Event {
    let data = json!({
        "id": meta.id,
        "object": "chat.completion.chunk",
        "created": meta.created,
        "model": meta.model,
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
    });
    Event::default().data(data.to_string())
}

/// The streaming answer: a role chunk, content chunks, a chunk with the finish reason, the usage
/// chunk when asked for, then `data: [DONE]`. An error mid-stream is sent as an
/// `{"error": ...}` chunk (what OpenAI's SDKs raise on) and ends the stream.
async fn stream(
    events: EventSender,
    mut job: tokio::sync::mpsc::UnboundedReceiver<JobEvent>,
    meta: Meta,
    include_usage: bool,
) {
    if !events.send(chunk(&meta, json!({"role": "assistant", "content": ""}), None)).await {
        return;
    }
    let completion = loop {
        match events.next_job_event(&mut job).await {
            Next::Job(JobEvent::Text { text, .. }) => {
                if !events.send(chunk(&meta, json!({"content": text}), None)).await {
                    return;
                }
            }
            Next::Job(JobEvent::Done(c)) => break c,
            Next::Job(JobEvent::Failed(e)) => {
                events.send(Event::default().data(e.body().to_string())).await;
                return;
            }
            Next::ClientGone => return,
            Next::EngineGone => {
                let e = ApiError::unavailable("the engine stopped");
                events.send(Event::default().data(e.body().to_string())).await;
                return;
            }
        }
    };
    if !events.send(chunk(&meta, json!({}), Some(completion.finish.as_str()))).await {
        return;
    }
    if include_usage {
        let data = json!({
            "id": meta.id,
            "object": "chat.completion.chunk",
            "created": meta.created,
            "model": meta.model,
            "choices": [],
            "usage": usage(&completion),
        });
        if !events.send(Event::default().data(data.to_string())).await {
            return;
        }
    }
    events.send(Event::default().data("[DONE]")).await;
}
