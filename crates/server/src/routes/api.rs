//! dagsmith's own API: health, validation, and generate-and-validate with repair rounds.

use std::str::FromStr;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dagsmith_core::fix::{AppliedFix, FixMode};
use dagsmith_core::pipeline::{self, AnswerEnd, Conversation, with_repeat_penalty};
use dagsmith_core::wire::{
    AttemptEnd, AttemptStart, Done, ErrorEvent, GENERATE_MAX_TOKENS, GenerateEvent,
    GenerateRequest, GenerationStatus, Health, ModelInfo, SamplingParams, Slots, Token,
};
use dagsmith_core::{AirflowVersion, Report, ValidateOptions};
use dagsmith_engine::{FinishReason, GenerationRequest};
use serde::Deserialize;

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
    let model = state
        .model()
        .map(|m| ModelInfo { name: m.name.clone(), path: m.path.to_string_lossy().into_owned() });
    // Counts far below u32::MAX: the slots and queue are configured in u32 or less.
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    json_response(
        StatusCode::OK,
        &Health {
            status: "ok".into(),
            version: dagsmith_core::VERSION.into(),
            generation: GenerationStatus { available, reason },
            model,
            slots: Slots { total: count(slots), busy: count(busy) },
            queue: count(queue),
        },
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
) -> Result<Response, ApiError> {
    let body: ValidateBody = parse_body(body, state.config.body_limit)?;
    let version = parse_version(body.airflow_version.as_deref())?;
    let report = validate_blocking(state.config.validator, body.code, version).await?;
    Ok(json_response(StatusCode::OK, &report))
}

/// `POST /api/generate`: streams the answer's tokens, then the extracted code and its report;
/// repair rounds (the findings sent back to the model) while it does not load.
pub async fn generate(
    State(state): State<SharedState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let (engine, scheduler, _) = state.ready()?;
    let body: GenerateRequest = parse_body(body, state.config.body_limit)?;
    if body.instruction.trim().is_empty() {
        return Err(ApiError::bad_request("instruction must not be empty"));
    }
    let version = parse_version(body.airflow_version.as_deref())?;
    let sampling =
        body.sampling.resolve(SamplingParams::default()).map_err(ApiError::bad_request)?;
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
    request.sampling = sampling.clone();
    // The first attempt is queued before answering, so a full queue is a 429, not an event.
    let job = scheduler.submit(request.clone(), false)?;
    let (events, response) = sse::channel();
    let run = Generate { state: state.clone(), events, conversation, sampling, request };
    tokio::spawn(run.run(job));
    Ok(response.into_response())
}

/// One /api/generate request's attempts, run by a task that feeds its event stream.
struct Generate {
    state: SharedState,
    events: EventSender,
    conversation: Conversation,
    /// The request's sampling; a round may add a repetition penalty to it.
    sampling: SamplingParams,
    request: GenerationRequest,
}

impl Generate {
    fn scheduler(&self) -> Option<&Scheduler> {
        match &self.state.generation {
            Generation::Ready { scheduler, .. } => Some(scheduler),
            Generation::Unavailable(_) => None,
        }
    }

    /// Sends one event; false when the client is gone.
    async fn send(&self, event: GenerateEvent<&Report, &[AppliedFix]>) -> bool {
        self.events.send_named(event.name(), event.data()).await
    }

    async fn error(&self, e: &ApiError) {
        self.send(GenerateEvent::Error(ErrorEvent { message: e.message.clone() })).await;
    }

    async fn run(mut self, mut job: tokio::sync::mpsc::UnboundedReceiver<JobEvent>) {
        let mut attempt = 0u32;
        loop {
            if !self.send(GenerateEvent::AttemptStart(AttemptStart { attempt })).await {
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
                        let token = Token {
                            attempt,
                            text,
                            tokens: u64::from(progress.tokens),
                            tokens_per_second: tps,
                        };
                        if !self.send(GenerateEvent::Token(token)).await {
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
            let end = AttemptEnd {
                attempt,
                raw: completion.text.clone(),
                code: last.code.clone(),
                report: &last.report,
                code_before_fixes: last.code_before_fixes.clone(),
                loads_before_fixes: last.loads_before_fixes,
                fixes: &last.fixes[..],
                finish: completion.finish.as_str().into(),
                tokens: u64::from(completion.completion_tokens),
                seconds: started.elapsed().as_secs_f64(),
                tokens_per_second: completion.tokens_per_second(),
            };
            if !self.send(GenerateEvent::AttemptEnd(end)).await {
                return;
            }
            if !again {
                let done =
                    Done { attempts: attempt + 1, code: last.code.clone(), report: &last.report };
                self.send(GenerateEvent::Done(done)).await;
                return;
            }
            // A repair round: the fixed code and the findings left go back to the model (or,
            // after a runaway answer, the request afresh, sampled with a repetition penalty).
            self.request.messages = self.conversation.messages().to_vec();
            self.request.sampling =
                with_repeat_penalty(&self.sampling, self.conversation.restart_penalty());
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
