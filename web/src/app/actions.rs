//! What the page does: validation (debounced, in the worker), generation and its event stream,
//! share links, recent generations, downloads. Views call these with the page's [`Ctx`].

use std::str::FromStr;
use std::time::Duration;

use dagsmith_core::fix::{Fix, apply_edits};
use dagsmith_core::share::{self, ShareError, SharedState};
use dagsmith_core::{AirflowVersion, Report};
use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::AbortController;

use super::context::{Attempt, Ctx, HealthState, RECENTS_KEY, empty_report};
use crate::api::{GenerateRequest, Health, ServerEvent};
use crate::browser;
use crate::validation::Validated;
use crate::validator;
use crate::view_model::{self, Recent};

/// Pixel height of a code line; the stylesheet's `--line` must match.
const LINE_PX: i32 = 20;
/// Quiet time after an edit before validating, and the longest a stream of edits (tokens)
/// may postpone validation.
const DEBOUNCE_MS: u64 = 150;
const MAX_WAIT_MS: f64 = 1000.0;

/// Validates the current code and version and shows the outcome: the report, or the failure
/// with no findings. An answer overtaken by a newer request is dropped. True when what is
/// shown belongs to the code and version as they are now.
async fn refresh(ctx: Ctx) -> bool {
    let seq = ctx.validation_seq.get_value() + 1;
    ctx.validation_seq.set_value(seq);
    ctx.debounce.update_value(|d| d.1 = browser::perf_now());
    let code = ctx.code.get_untracked();
    let version = ctx.version.get_untracked();
    let outcome = validator::validate(&code, &version).await;
    if ctx.validation_seq.get_value() != seq {
        return false;
    }
    match outcome {
        Ok(Validated { report, ms }) => {
            ctx.failure.set(None);
            ctx.validate_ms.set(ms);
            ctx.report.set(report);
        }
        Err(failure) => {
            ctx.failure.set(Some(failure.to_string()));
            ctx.report.set(empty_report(&version));
        }
    }
    ctx.validations.update(|n| *n += 1);
    let current =
        ctx.code.with_untracked(|c| *c == code) && ctx.version.with_untracked(|v| *v == version);
    if current {
        ctx.pending.set(false);
    }
    current
}

/// Validates now (not debounced).
pub fn validate_now(ctx: Ctx) {
    spawn_local(async move {
        refresh(ctx).await;
    });
}

/// The report of the code as it is now: the one shown when it is up to date, else a new one;
/// the error says why there is none.
async fn current_report(ctx: Ctx) -> Result<Report, String> {
    if !ctx.pending.get_untracked() {
        return match ctx.failure.get_untracked() {
            None => Ok(ctx.report.get_untracked()),
            Some(why) => Err(why),
        };
    }
    let (code, version) = (ctx.code.get_untracked(), ctx.version.get_untracked());
    validator::validate(&code, &version).await.map(|v| v.report).map_err(|f| f.to_string())
}

/// Whether `code` loads, for labels (attempts, recents): false when the validator fails.
async fn loads(code: &str, version: &str) -> bool {
    validator::validate(code, version).await.is_ok_and(|v| v.report.loads)
}

/// Validates after [`DEBOUNCE_MS`] of quiet, or at once when the last run is older than
/// [`MAX_WAIT_MS`] (so a streaming DAG is checked as it grows).
pub fn schedule_validation(ctx: Ctx) {
    let (ticket, last) = ctx.debounce.get_value();
    if browser::perf_now() - last > MAX_WAIT_MS {
        ctx.debounce.update_value(|d| d.0 += 1);
        validate_now(ctx);
        return;
    }
    let ticket = ticket + 1;
    ctx.debounce.update_value(|d| d.0 = ticket);
    ctx.pending.set(true);
    set_timeout(
        move || {
            if ctx.debounce.get_value().0 == ticket {
                validate_now(ctx);
            }
        },
        Duration::from_millis(DEBOUNCE_MS),
    );
}

pub fn check_health(ctx: Ctx) {
    spawn_local(async move {
        let state = match browser::get_text("/api/health").await {
            Ok(body) => match serde_json::from_str::<Health>(&body) {
                Ok(h) => HealthState::Up(h),
                Err(e) => HealthState::Unreachable(format!("unexpected /api/health answer: {e}")),
            },
            Err(e) => HealthState::Unreachable(e),
        };
        ctx.health.set(state);
    });
}

pub fn generate(ctx: Ctx) {
    if ctx.running.get_untracked() {
        return;
    }
    let instruction = ctx.instruction.get_untracked();
    if instruction.trim().is_empty() {
        ctx.say("warn", "Describe the DAG you want in the instruction box first.");
        return;
    }
    let version = ctx.version.get_untracked();
    let params = ctx.params.get_untracked();
    let request = GenerateRequest::from_params(&instruction, &version, &params);
    let body = serde_json::to_string(&request).unwrap_or_default();
    let controller = match AbortController::new() {
        Ok(c) => c,
        Err(e) => return ctx.say("error", browser::js_error(&e)),
    };
    let signal = controller.signal();
    // Before the new controller is stored: the reset stops whatever ran (nothing, here).
    reset_session(ctx, String::new(), None);
    ctx.abort.set_value(Some(controller));
    ctx.running.set(true);
    ctx.live_tokens.set(0);
    ctx.live_tps.set(0.0);
    ctx.notice.set(None);
    spawn_local(async move {
        let mut finished = None;
        let mut failed = false;
        let result = browser::post_event_stream("/api/generate", &body, &signal, |event| {
            match ServerEvent::decode(&event) {
                Ok(ServerEvent::Done(done)) => finished = Some(done.code),
                Ok(ServerEvent::Error(message)) => {
                    failed = true;
                    ctx.say("error", format!("Generation failed: {message}"));
                }
                Ok(other) => on_event(ctx, other, &version),
                Err(message) => {
                    failed = true;
                    ctx.say("error", message);
                }
            }
        })
        .await;
        let complete = finished.is_some();
        if let Some(code) = finished {
            on_done(ctx, &instruction, &version, code).await;
        }
        match result {
            Ok(browser::StreamEnd::Aborted) => ctx.say("info", "Stopped."),
            Ok(browser::StreamEnd::Finished) if !complete && !failed => {
                ctx.say("warn", "The server ended the stream before the DAG was complete.")
            }
            Ok(browser::StreamEnd::Finished) => {}
            Err(message) => {
                ctx.say("error", format!("Generation unavailable: {message}"));
                check_health(ctx);
            }
        }
        ctx.abort.set_value(None);
        ctx.running.set(false);
    });
}

fn on_event(ctx: Ctx, event: ServerEvent, version: &str) {
    match event {
        ServerEvent::AttemptStart(start) => {
            ctx.attempts.update(|a| a.push(Attempt { index: start.attempt, ..Default::default() }));
            ctx.viewing.set(Some(ctx.attempts.with_untracked(Vec::len) - 1));
            ctx.live_tokens.set(0);
            ctx.code.set(String::new());
        }
        ServerEvent::Token(token) => {
            let mut preview = String::new();
            ctx.attempts.update(|attempts| {
                if attempts.last().is_none_or(|a| a.index != token.attempt || a.code.is_some()) {
                    // A server that skipped attempt_start: start the attempt here.
                    attempts.push(Attempt { index: token.attempt, ..Default::default() });
                }
                if let Some(a) = attempts.last_mut() {
                    a.raw.push_str(&token.text);
                    a.tokens = token.tokens;
                    a.tokens_per_second = token.tokens_per_second;
                    preview = view_model::stream_preview(&a.raw).to_string();
                }
            });
            ctx.viewing.set(Some(ctx.attempts.with_untracked(Vec::len) - 1));
            ctx.live_tokens.set(token.tokens);
            ctx.live_tps.set(token.tokens_per_second);
            ctx.code.set(preview);
        }
        ServerEvent::AttemptEnd(end) => {
            let (index, code, version) = (end.attempt, end.code.clone(), version.to_string());
            spawn_local(async move {
                let loads = loads(&code, &version).await;
                ctx.attempts.update(|attempts| {
                    let attempt = attempts.iter_mut().rev().find(|a| a.index == index);
                    if let Some(a) = attempt.filter(|a| a.code.as_deref() == Some(code.as_str())) {
                        a.loads = Some(loads);
                    }
                });
            });
            ctx.attempts.update(|attempts| {
                let slot = attempts.iter_mut().rev().find(|a| a.index == end.attempt);
                let attempt = match slot {
                    Some(a) => a,
                    None => {
                        attempts.push(Attempt { index: end.attempt, ..Default::default() });
                        attempts.last_mut().expect("just pushed")
                    }
                };
                attempt.raw = end.raw;
                attempt.code = Some(end.code.clone());
                attempt.tokens = end.tokens;
                attempt.seconds = end.seconds;
                attempt.tokens_per_second = end.tokens_per_second;
            });
            ctx.live_tokens.set(end.tokens);
            ctx.live_tps.set(end.tokens_per_second);
            ctx.code.set(end.code);
        }
        ServerEvent::Done(_) | ServerEvent::Error(_) | ServerEvent::Other(_) => {}
    }
}

async fn on_done(ctx: Ctx, instruction: &str, version: &str, code: String) {
    let shown = ctx.attempts.with_untracked(|a| {
        a.iter().rposition(|x| x.code.as_deref() == Some(code.as_str())).or(a.len().checked_sub(1))
    });
    ctx.viewing.set(shown);
    ctx.generated_hash.set(Some(share::code_hash(&code)));
    ctx.code.set(code.clone());
    validate_now(ctx);
    let loads = loads(&code, version).await;
    ctx.recents.update(|list| {
        view_model::push_recent(
            list,
            Recent {
                when: browser::now_ms(),
                instruction: instruction.to_string(),
                airflow_version: version.to_string(),
                code,
                loads,
            },
        )
    });
    save_recents(ctx);
}

pub fn save_recents(ctx: Ctx) {
    if let Ok(json) = ctx.recents.with_untracked(serde_json::to_string) {
        browser::local_set(RECENTS_KEY, &json);
    }
}

/// Replaces what the page shows with `code` (`generated_hash`: its hash when it is a model's
/// output): a running generation stops, its attempts and any share warnings go. The one reset
/// behind Generate, "Validate my own DAG", share links and recent generations.
pub fn reset_session(ctx: Ctx, code: String, generated_hash: Option<String>) {
    stop(ctx);
    ctx.attempts.set(Vec::new());
    ctx.viewing.set(None);
    ctx.share_warnings.set(Vec::new());
    ctx.generated_hash.set(generated_hash);
    ctx.code.set(code);
}

/// Restores a recent generation (its instruction, version and code).
pub fn restore_recent(ctx: Ctx, recent: Recent) {
    ctx.instruction.set(recent.instruction);
    if AirflowVersion::from_str(&recent.airflow_version).is_ok() {
        ctx.version.set(recent.airflow_version);
    }
    let hash = share::code_hash(&recent.code);
    reset_session(ctx, recent.code, Some(hash));
}

pub fn stop(ctx: Ctx) {
    if let Some(controller) = ctx.abort.try_update_value(Option::take).flatten() {
        // The pending read rejects with AbortError; the generate task then reports "Stopped".
        controller.abort();
    }
}

/// Starts over with the user's own code: any generation stops, nothing is kept of it.
pub fn own_code(ctx: Ctx) {
    reset_session(ctx, String::new(), None);
    ctx.say("info", "Paste or type a DAG file in the code view: it is validated as you type.");
    if let Some(ta) = ctx.textarea.get_untracked() {
        let _ = ta.focus();
    }
}

pub fn share_link(ctx: Ctx) {
    spawn_local(async move {
        // No verdict in the link when the validator failed on the code.
        let verdict = current_report(ctx).await.ok().map(|r| view_model::shared_verdict(&r));
        let shared = SharedState {
            validator: dagsmith_core::VERSION.to_string(),
            instruction: ctx.instruction.get_untracked(),
            airflow_version: ctx.version.get_untracked(),
            params: ctx.params.get_untracked(),
            code: ctx.code.get_untracked(),
            generated_hash: ctx.generated_hash.get_untracked(),
            verdict,
        };
        let url = browser::set_fragment(&share::encode(&shared));
        ctx.share_url.set(url.clone());
        match browser::copy_text(&url).await {
            Ok(()) => ctx.say("info", format!("Share link copied ({} characters).", url.len())),
            Err(_) => ctx.say("info", "Share link ready: copy it from the box below."),
        }
    });
}

/// Restores the page from a share fragment (if it is one) and re-validates.
pub fn restore(ctx: Ctx, fragment: &str) {
    let shared = match share::decode(fragment) {
        Ok(s) => s,
        Err(ShareError::NotAShareLink) => return,
        Err(e) => return ctx.say("error", e.to_string()),
    };
    let mut warnings = Vec::new();
    if AirflowVersion::from_str(&shared.airflow_version).is_ok() {
        ctx.version.set(shared.airflow_version.clone());
    } else {
        warnings.push(format!(
            "The link names Airflow {:?}, which this page does not know; using {}.",
            shared.airflow_version,
            ctx.version.get_untracked()
        ));
    }
    ctx.instruction.set(shared.instruction.clone());
    ctx.params.set(shared.params.clone());
    reset_session(ctx, shared.code.clone(), shared.generated_hash.clone());
    if shared.validator != dagsmith_core::VERSION {
        warnings.push(format!(
            "This link was made with validator {}; this page runs {}: findings may differ.",
            if shared.validator.is_empty() { "(unknown)" } else { &shared.validator },
            dagsmith_core::VERSION
        ));
    }
    if shared.edited_since_generation() {
        warnings.push(
            "The code was edited after the model generated it: it is not the model's output."
                .into(),
        );
    }
    validate_now(ctx);
    let version = ctx.version.get_untracked();
    spawn_local(async move {
        // The link's findings against this page's, for the same code (a validator failure is
        // shown as such, not as a difference).
        if let Some(then) = &shared.verdict
            && let Ok(now) = validator::validate(&shared.code, &version).await
            && *then != view_model::shared_verdict(&now.report)
        {
            warnings.push("The findings differ from those seen when the link was made.".into());
        }
        ctx.share_warnings.set(warnings);
        ctx.say("info", "Restored from a share link and validated here.");
    });
}

pub fn jump_to_line(ctx: Ctx, line: u32) {
    if let Some(ta) = ctx.textarea.get_untracked() {
        let (start, end) = ctx.code.with_untracked(|code| {
            (view_model::utf16_line_start(code, line), view_model::utf16_line_start(code, line + 1))
        });
        let _ = ta.focus();
        let _ = ta.set_selection_range(start, end.saturating_sub(1).max(start));
    }
    if let Some(scroller) = ctx.scroller.get_untracked() {
        let top = (line.max(1) as i32 - 1) * LINE_PX - scroller.client_height() / 3;
        scroller.set_scroll_top(top.max(0));
    }
    ctx.flash.set(Some(line));
    set_timeout(
        move || {
            if ctx.flash.get_untracked() == Some(line) {
                ctx.flash.set(None);
            }
        },
        Duration::from_millis(1500),
    );
}

pub fn download_report(ctx: Ctx, sarif: bool) {
    spawn_local(async move {
        let report = match current_report(ctx).await {
            Ok(report) => report,
            Err(failure) => return ctx.say("error", format!("No report: {failure}.")),
        };
        let stem = view_model::file_stem(&report);
        let doc = view_model::report_document(&report, &format!("{stem}.py"), sarif);
        let (name, mime) = if sarif {
            (format!("{stem}.sarif"), "application/sarif+json")
        } else {
            (format!("{stem}.report.json"), "application/json")
        };
        if let Err(e) = browser::download(&name, mime, &doc) {
            ctx.say("error", format!("Download failed: {e}"));
        }
    });
}

/// Applies a finding's fix to the code it was found in (the buttons are disabled while the
/// code is newer than its report, so the edits' offsets still hold); the edit re-validates.
pub fn apply_fix(ctx: Ctx, fix: &Fix) {
    if ctx.running.get_untracked() || ctx.pending.get_untracked() {
        return;
    }
    let code = ctx.code.get_untracked();
    if let Ok(fixed) = apply_edits(&code, &fix.edits) {
        ctx.pending.set(true);
        ctx.code.set(fixed);
    }
}
