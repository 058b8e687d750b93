//! dagsmith's own API: health, validation, and generate-and-validate with repair rounds.

use std::str::FromStr;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dagsmith_core::fix::FixMode;
use dagsmith_core::pipeline::{self, AnswerEnd, Conversation};
use dagsmith_core::{AirflowVersion, Report, ValidateOptions};
use dagsmith_engine::{FinishReason, GenerationRequest, SamplingParams};
use serde::Deserialize;
use serde_json::json;

use crate::config::Validator;
use crate::error::ApiError;
use crate::json::{json_response, parse_body};
use crate::routes::{capped_max_tokens, check_prompt};
use crate::scheduler::{JobEvent, Scheduler};
use crate::sse::{self, EventSender, Next};
use crate::state::{Generation, SharedState};

/// `GET /api/health`.
pub async fn health(State(state): State<SharedState>) -> Response {
    let (available, reason, slots, busy, queue) = match &state.generation {
        Generation::Ready { scheduler, .. } => match scheduler.failure() {
            Some(reason) => (false, Some(reason), 0, 0, 0),
            None => (true, None, scheduler.slots(), scheduler.busy(), scheduler.queued()),
        },
        Generation::Unavailable(reason) => (false, Some(reason.clone()), 0, 0, 0),
    };
    let model = state.model().map(|m| json!({"name": m.name, "path": m.path}));
    json_response(
        StatusCode::OK,
        &json!({
            "status": "ok",
            "version": dagsmith_core::VERSION,
            "generation": {"available": available, "reason": reason},
            "model": model,
            "slots": {"total": slots, "busy": busy},
            "queue": queue,
        }),
    )
}

fn parse_version(v: Option<&str>) -> Result<AirflowVersion, ApiError> {
    match v {
        None => Ok(AirflowVersion::DEFAULT),
        Some(s) => AirflowVersion::from_str(s)
            .map_err(|e| ApiError::bad_request(format!("airflow_version: {e}"))),
    }
}

/// Validation is CPU work: off the async threads. A validator panic ends only this request, as
/// a 500 (the blocking task catches it).
async fn validate_blocking(
    validator: Validator,
    code: String,
    version: AirflowVersion,
) -> Result<Report, ApiError> {
    tokio::task::spawn_blocking(move || {
        validator(&code, &ValidateOptions { airflow_version: version })
    })
    .await
    .map_err(crate::error::validator_failed)
}

#[derive(Deserialize)]
struct ValidateBody {
    code: String,
    airflow_version: Option<String>,
}

/// `POST /api/validate`: the report `dagsmith validate --format json` gives for one file.
pub async fn validate_code(
    State(state): State<SharedState>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let body: ValidateBody = parse_body(body, state.config.body_limit)?;
        let version = parse_version(body.airflow_version.as_deref())?;
        validate_blocking(state.config.validator, body.code, version).await
    };
    match result.await {
        Ok(report) => json_response(StatusCode::OK, &report),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct GenerateBody {
    instruction: String,
    airflow_version: Option<String>,
    max_tokens: Option<u32>,
    temperature: Option<f32>,
    top_p: Option<f32>,
    top_k: Option<i32>,
    min_p: Option<f32>,
    seed: Option<u32>,
    repeat_penalty: Option<f32>,
    repair: Option<u32>,
    /// `all` (default), `safe` or `none`: the fixes applied to each answer.
    fixes: Option<String>,
    /// Add the catalog's API sheet to the prompt (default true).
    api_sheet: Option<bool>,
}

/// Default `max_tokens` of /api/generate: room for a whole DAG file.
const GENERATE_MAX_TOKENS: u32 = 1024;

/// `POST /api/generate`: streams the answer's tokens, then the extracted code and its report;
/// repair rounds (the findings sent back to the model) while it does not load.
pub async fn generate(
    State(state): State<SharedState>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match start_generate(state, body).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn start_generate(
    state: SharedState,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (engine, scheduler, _) = state.ready()?;
    let body: GenerateBody = parse_body(body, state.config.body_limit)?;
    if body.instruction.trim().is_empty() {
        return Err(ApiError::bad_request("instruction must not be empty"));
    }
    let version = parse_version(body.airflow_version.as_deref())?;
    let defaults = SamplingParams::default();
    let sampling = SamplingParams {
        temperature: body.temperature.unwrap_or(defaults.temperature),
        top_p: body.top_p.unwrap_or(defaults.top_p),
        top_k: body.top_k.unwrap_or(defaults.top_k),
        min_p: body.min_p.unwrap_or(defaults.min_p),
        repeat_penalty: body.repeat_penalty.unwrap_or(defaults.repeat_penalty),
        seed: body.seed.unwrap_or(defaults.seed),
        ..defaults
    };
    sampling.check().map_err(ApiError::bad_request)?;
    let repair = body.repair.unwrap_or(0);
    if repair > state.config.max_repair {
        return Err(ApiError::bad_request(format!(
            "repair must be at most {} (the server's --max-repair)",
            state.config.max_repair
        )));
    }
    let fixes = match body.fixes.as_deref() {
        None | Some("all") => Some(FixMode::SafeAndUnsafe),
        Some("safe") => Some(FixMode::Safe),
        Some("none") => None,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "fixes must be \"all\", \"safe\" or \"none\", not {other:?}"
            )));
        }
    };
    let options = pipeline::Options {
        repair_rounds: repair,
        fixes,
        api_sheet: body.api_sheet.unwrap_or(true),
    };
    let conversation = Conversation::new(&body.instruction, version, None, options);
    let messages = conversation.messages().to_vec();
    let context = state.config.context_per_sequence;
    let prompt_tokens = check_prompt(engine, &messages, context).await?;
    let max_tokens = capped_max_tokens(
        body.max_tokens,
        GENERATE_MAX_TOKENS,
        state.config.max_tokens,
        context,
        prompt_tokens,
    )?;
    let mut request = GenerationRequest::new(messages, max_tokens);
    request.sampling = sampling;
    // The first attempt is queued before answering, so a full queue is a 429, not an event.
    let job = scheduler.submit(request.clone(), false)?;
    let (events, response) = sse::channel();
    let run = Generate { state: state.clone(), events, conversation, request };
    tokio::spawn(run.run(job));
    Ok(response.into_response())
}

/// One /api/generate request's attempts, run by a task that feeds its event stream.
struct Generate {
    state: SharedState,
    events: EventSender,
    conversation: Conversation,
    request: GenerationRequest,
}

impl Generate {
    fn scheduler(&self) -> Option<&Scheduler> {
        match &self.state.generation {
            Generation::Ready { scheduler, .. } => Some(scheduler),
            Generation::Unavailable(_) => None,
        }
    }

    async fn error(&self, e: &ApiError) {
        self.events.send_json("error", &json!({"message": e.message})).await;
    }

    async fn run(mut self, mut job: tokio::sync::mpsc::UnboundedReceiver<JobEvent>) {
        let mut attempt = 0u32;
        loop {
            if !self.events.send_json("attempt_start", &json!({"attempt": attempt})).await {
                return;
            }
            let started = Instant::now();
            let completion = loop {
                match self.events.next_job_event(&mut job).await {
                    Next::Job(JobEvent::Text { text, progress }) => {
                        let tps = if progress.generation_ms > 0.0 && progress.tokens > 1 {
                            (progress.tokens - 1) as f64 * 1000.0 / progress.generation_ms
                        } else {
                            0.0
                        };
                        let data = json!({"attempt": attempt, "text": text,
                                          "tokens": progress.tokens, "tokens_per_second": tps});
                        if !self.events.send_json("token", &data).await {
                            return;
                        }
                    }
                    Next::Job(JobEvent::Done(completion)) => break completion,
                    Next::Job(JobEvent::Failed(e)) => return self.error(&e).await,
                    Next::ClientGone => return,
                    Next::EngineGone => {
                        return self.error(&ApiError::unavailable("the engine stopped")).await;
                    }
                }
            };
            let end = match completion.finish {
                FinishReason::Length => AnswerEnd::Length,
                FinishReason::Repetition => AnswerEnd::Repetition,
                _ => AnswerEnd::Complete,
            };
            // Fixing re-validates the file several times: CPU work, off the async threads.
            let (again, conversation) = {
                let mut conversation = self.conversation.clone();
                let text = completion.text.clone();
                match tokio::task::spawn_blocking(move || {
                    let again = conversation.record(&text, end);
                    (again, conversation)
                })
                .await
                {
                    Ok(x) => x,
                    Err(e) => {
                        let e = ApiError::internal(format!("validation failed: {e}"));
                        return self.error(&e).await;
                    }
                }
            };
            self.conversation = conversation;
            let last = self.conversation.last().expect("just recorded");
            let data = json!({
                "attempt": attempt,
                "raw": completion.text,
                "code": last.code,
                "report": last.report,
                "code_before_fixes": last.code_before_fixes,
                "loads_before_fixes": last.loads_before_fixes,
                "fixes": last.fixes,
                "finish": completion.finish.as_str(),
                "tokens": completion.completion_tokens,
                "seconds": started.elapsed().as_secs_f64(),
                "tokens_per_second": completion.tokens_per_second(),
            });
            if !self.events.send_json("attempt_end", &data).await {
                return;
            }
            if !again {
                let done =
                    json!({"attempts": attempt + 1, "code": last.code, "report": last.report});
                self.events.send_json("done", &done).await;
                return;
            }
            // A repair round: the fixed code and the findings left go back to the model.
            self.request.messages = self.conversation.messages().to_vec();
            attempt += 1;
            let submitted = match self.scheduler() {
                Some(s) => s.submit(self.request.clone(), true).map_err(ApiError::from),
                None => Err(ApiError::unavailable("generation is unavailable")),
            };
            job = match submitted {
                Ok(job) => job,
                Err(e) => return self.error(&e).await,
            };
        }
    }
}
