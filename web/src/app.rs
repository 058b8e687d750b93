//! The playground page (leptos, client-side rendered).
//!
//! All state lives in signals gathered in [`Ctx`], which is `Copy` and handed to every part of
//! the page. Validation runs in the browser (dagsmith-core in wasm, in a Web Worker: see
//! [`crate::validator`]) whenever the code or the Airflow version changes, debounced;
//! generation streams from `POST /api/generate`.

use std::str::FromStr;
use std::time::Duration;

use dagsmith_core::fix::{Applicability, Fix, apply_edits};
use dagsmith_core::share::{self, GenerationParams, ShareError, SharedState};
use dagsmith_core::{AirflowVersion, Report};
use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::AbortController;

use crate::api::{GenerateRequest, Health, ServerEvent};
use crate::browser;
use crate::highlight::highlight_lines;
use crate::state::{self, AIRFLOW_VERSIONS, Recent};
use crate::svg::dag_svg;
use crate::validation::Validated;
use crate::validator;

/// Pixel height of a code line; the stylesheet's `--line` must match.
const LINE_PX: i32 = 20;
/// Quiet time after an edit before validating, and the longest a stream of edits (tokens)
/// may postpone validation.
const DEBOUNCE_MS: u64 = 150;
const MAX_WAIT_MS: f64 = 1000.0;
const RECENTS_KEY: &str = "dagsmith.recent.v1";

#[derive(Clone, Debug, PartialEq)]
enum HealthState {
    Checking,
    Unreachable(String),
    Up(Health),
}

#[derive(Clone, Debug, PartialEq)]
struct Notice {
    kind: &'static str,
    text: String,
}

/// One answer of a generation: attempt 0 is the model's answer, later ones repair rounds.
#[derive(Clone, Debug, Default, PartialEq)]
struct Attempt {
    index: u32,
    raw: String,
    /// The extracted code, once the attempt ended.
    code: Option<String>,
    tokens: u64,
    seconds: f64,
    tokens_per_second: f64,
    loads: Option<bool>,
}

#[derive(Clone, Copy)]
struct Ctx {
    instruction: RwSignal<String>,
    version: RwSignal<String>,
    params: RwSignal<GenerationParams>,
    code: RwSignal<String>,
    report: RwSignal<Report>,
    validations: RwSignal<u32>,
    /// The code or version changed and the report shown is not yet theirs.
    pending: RwSignal<bool>,
    /// Why the last validation gave no report (the validator failed on the input).
    failure: RwSignal<Option<String>>,
    /// Number of the latest validation asked for: older answers are not shown.
    validation_seq: StoredValue<u64>,
    validate_ms: RwSignal<f64>,
    /// Hash of the code as last generated; `None` for the user's own code.
    generated_hash: RwSignal<Option<String>>,
    attempts: RwSignal<Vec<Attempt>>,
    viewing: RwSignal<Option<usize>>,
    running: RwSignal<bool>,
    live_tokens: RwSignal<u64>,
    live_tps: RwSignal<f64>,
    health: RwSignal<HealthState>,
    notice: RwSignal<Option<Notice>>,
    share_warnings: RwSignal<Vec<String>>,
    share_url: RwSignal<String>,
    recents: RwSignal<Vec<Recent>>,
    flash: RwSignal<Option<u32>>,
    abort: StoredValue<Option<AbortController>, LocalStorage>,
    /// Debounce state: the latest scheduled run's number, and when validation last ran.
    debounce: StoredValue<(u64, f64)>,
    textarea: NodeRef<leptos::html::Textarea>,
    scroller: NodeRef<leptos::html::Div>,
}

/// A report without findings or DAGs: what is shown before the first validation and when the
/// validator failed (never the previous file's findings).
fn empty_report(version: &str) -> Report {
    Report {
        airflow_version: version.to_string(),
        loads: false,
        dags: Vec::new(),
        findings: Vec::new(),
    }
}

impl Ctx {
    fn new() -> Self {
        let empty = empty_report(&AirflowVersion::DEFAULT.to_string());
        Ctx {
            instruction: RwSignal::new(String::new()),
            version: RwSignal::new(AirflowVersion::DEFAULT.to_string()),
            params: RwSignal::new(GenerationParams::default()),
            code: RwSignal::new(String::new()),
            report: RwSignal::new(empty),
            validations: RwSignal::new(0),
            pending: RwSignal::new(false),
            failure: RwSignal::new(None),
            validation_seq: StoredValue::new(0),
            validate_ms: RwSignal::new(0.0),
            generated_hash: RwSignal::new(None),
            attempts: RwSignal::new(Vec::new()),
            viewing: RwSignal::new(None),
            running: RwSignal::new(false),
            live_tokens: RwSignal::new(0),
            live_tps: RwSignal::new(0.0),
            health: RwSignal::new(HealthState::Checking),
            notice: RwSignal::new(None),
            share_warnings: RwSignal::new(Vec::new()),
            share_url: RwSignal::new(String::new()),
            recents: RwSignal::new(
                browser::local_get(RECENTS_KEY)
                    .map(|s| state::parse_recents(&s))
                    .unwrap_or_default(),
            ),
            flash: RwSignal::new(None),
            abort: StoredValue::new_local(None),
            debounce: StoredValue::new((0, 0.0)),
            textarea: NodeRef::new(),
            scroller: NodeRef::new(),
        }
    }

    fn say(&self, kind: &'static str, text: impl Into<String>) {
        self.notice.set(Some(Notice { kind, text: text.into() }));
    }
}

pub fn mount() {
    leptos::mount::mount_to_body(App);
}

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
fn validate_now(ctx: Ctx) {
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
fn schedule_validation(ctx: Ctx) {
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

fn check_health(ctx: Ctx) {
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

fn generate(ctx: Ctx) {
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
    ctx.abort.set_value(Some(controller));
    ctx.running.set(true);
    ctx.attempts.set(Vec::new());
    ctx.viewing.set(None);
    ctx.generated_hash.set(None);
    ctx.live_tokens.set(0);
    ctx.live_tps.set(0.0);
    ctx.notice.set(None);
    ctx.share_warnings.set(Vec::new());
    ctx.code.set(String::new());
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
                    preview = state::stream_preview(&a.raw).to_string();
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
        state::push_recent(
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

fn save_recents(ctx: Ctx) {
    if let Ok(json) = ctx.recents.with_untracked(serde_json::to_string) {
        browser::local_set(RECENTS_KEY, &json);
    }
}

fn stop(ctx: Ctx) {
    if let Some(controller) = ctx.abort.try_update_value(Option::take).flatten() {
        // The pending read rejects with AbortError; the generate task then reports "Stopped".
        controller.abort();
    }
}

fn own_code(ctx: Ctx) {
    stop(ctx);
    ctx.attempts.set(Vec::new());
    ctx.viewing.set(None);
    ctx.generated_hash.set(None);
    ctx.share_warnings.set(Vec::new());
    ctx.code.set(String::new());
    ctx.say("info", "Paste or type a DAG file in the code view: it is validated as you type.");
    if let Some(ta) = ctx.textarea.get_untracked() {
        let _ = ta.focus();
    }
}

fn share_link(ctx: Ctx) {
    spawn_local(async move {
        // No verdict in the link when the validator failed on the code.
        let verdict = current_report(ctx).await.ok().map(|r| state::shared_verdict(&r));
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
fn restore(ctx: Ctx, fragment: &str) {
    let shared = match share::decode(fragment) {
        Ok(s) => s,
        Err(ShareError::NotAShareLink) => return,
        Err(e) => return ctx.say("error", e.to_string()),
    };
    stop(ctx);
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
    ctx.attempts.set(Vec::new());
    ctx.viewing.set(None);
    ctx.generated_hash.set(shared.generated_hash.clone());
    ctx.code.set(shared.code.clone());
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
            && *then != state::shared_verdict(&now.report)
        {
            warnings.push("The findings differ from those seen when the link was made.".into());
        }
        ctx.share_warnings.set(warnings);
        ctx.say("info", "Restored from a share link and validated here.");
    });
}

fn jump_to_line(ctx: Ctx, line: u32) {
    if let Some(ta) = ctx.textarea.get_untracked() {
        let (start, end) = ctx.code.with_untracked(|code| {
            (state::utf16_line_start(code, line), state::utf16_line_start(code, line + 1))
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

fn download_report(ctx: Ctx, sarif: bool) {
    spawn_local(async move {
        let report = match current_report(ctx).await {
            Ok(report) => report,
            Err(failure) => return ctx.say("error", format!("No report: {failure}.")),
        };
        let stem = state::file_stem(&report);
        let doc = state::report_document(&report, &format!("{stem}.py"), sarif);
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

#[component]
fn App() -> impl IntoView {
    let ctx = Ctx::new();

    // Validate whenever the code or the target version changes.
    Effect::new(move |_| {
        ctx.code.track();
        ctx.version.track();
        schedule_validation(ctx);
    });
    check_health(ctx);
    let fragment = browser::fragment();
    if !fragment.is_empty() {
        restore(ctx, &fragment);
    }
    // Handles live as long as the page: nothing to remove them for.
    let _ = window_event_listener(leptos::ev::hashchange, move |_| {
        restore(ctx, &browser::fragment());
    });
    let _ = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
            ev.prevent_default();
            generate(ctx);
        } else if ev.key() == "Escape" && ctx.running.get_untracked() {
            ev.prevent_default();
            stop(ctx);
        }
    });

    view! {
        <div
            id="app"
            data-validations=move || ctx.validations.get().to_string()
            data-running=move || ctx.running.get().to_string()
            data-pending=move || ctx.pending.get().to_string()
        >
            <header class="top">
                <h1>"dagsmith " <span class="sub">"playground"</span></h1>
                <HealthBadge ctx=ctx />
                <span class="version" title="validator version (dagsmith-core)">
                    {format!("validator {}", dagsmith_core::VERSION)}
                </span>
            </header>
            <div class="layout">
                <Controls ctx=ctx />
                <section class="center">
                    <Toolbar ctx=ctx />
                    <Notices ctx=ctx />
                    <Attempts ctx=ctx />
                    <Editor ctx=ctx />
                </section>
                <section class="side">
                    <Verdict ctx=ctx />
                    <Findings ctx=ctx />
                    <Graph ctx=ctx />
                </section>
            </div>
        </div>
    }
}

#[component]
fn HealthBadge(ctx: Ctx) -> impl IntoView {
    let text = move || match ctx.health.get() {
        HealthState::Checking => ("checking", "checking the server…".to_string()),
        HealthState::Unreachable(why) => (
            "down",
            format!("Server unavailable ({why}): generation is off; validation works here."),
        ),
        HealthState::Up(h) if !h.generation.available => (
            "down",
            format!(
                "Model unavailable: {}. Validation works here.",
                h.generation.reason.unwrap_or_else(|| "no reason given".into())
            ),
        ),
        HealthState::Up(h) => (
            "up",
            format!(
                "model {} · {}/{} slots busy · {} queued",
                h.model.map(|m| m.name).unwrap_or_else(|| "?".into()),
                h.slots.busy,
                h.slots.total,
                h.queue
            ),
        ),
    };
    view! {
        <button
            id="health"
            class=move || format!("health {}", text().0)
            title="GET /api/health (click to check again)"
            on:click=move |_| check_health(ctx)
        >
            {move || text().1}
        </button>
    }
}

/// A number input bound to one generation parameter; bad input keeps the previous value.
fn param_input<T>(
    ctx: Ctx,
    label: &'static str,
    id: &'static str,
    step: &'static str,
    get: fn(&GenerationParams) -> T,
    set: fn(&mut GenerationParams, T),
) -> impl IntoView
where
    T: FromStr + ToString + 'static,
{
    view! {
        <label class="param">
            <span>{label}</span>
            <input
                id=id
                type="number"
                step=step
                prop:value=move || ctx.params.with(|p| get(p).to_string())
                on:change=move |ev| {
                    if let Ok(v) = event_target_value(&ev).trim().parse::<T>() {
                        ctx.params.update(|p| set(p, v));
                    } else {
                        ctx.params.update(|_| {});
                    }
                }
            />
        </label>
    }
}

#[component]
fn Controls(ctx: Ctx) -> impl IntoView {
    view! {
        <aside class="controls">
            <label for="instruction">"Instruction"</label>
            <textarea
                id="instruction"
                rows="6"
                placeholder="e.g. A daily DAG that extracts orders from Postgres, transforms them with pandas and loads them to S3."
                prop:value=move || ctx.instruction.get()
                on:input=move |ev| ctx.instruction.set(event_target_value(&ev))
            ></textarea>
            <label class="row">
                <span>"Airflow"</span>
                <select
                    id="airflow-version"
                    prop:value=move || ctx.version.get()
                    on:change=move |ev| {
                        ctx.pending.set(true);
                        ctx.version.set(event_target_value(&ev));
                    }
                >
                    {AIRFLOW_VERSIONS
                        .iter()
                        .map(|v| view! { <option value=*v>{*v}</option> })
                        .collect_view()}
                </select>
            </label>
            <div class="buttons">
                <button
                    id="generate"
                    class="primary"
                    title="Ctrl/Cmd+Enter"
                    disabled=move || ctx.running.get()
                    on:click=move |_| generate(ctx)
                >
                    "Generate"
                </button>
                <button
                    id="stop"
                    title="Esc"
                    disabled=move || !ctx.running.get()
                    on:click=move |_| stop(ctx)
                >
                    "Stop"
                </button>
            </div>
            <div id="stats" class="stats">
                <span id="tps">{move || format!("{:.1} tokens/s", ctx.live_tps.get())}</span>
                <span id="tokens">{move || format!("{} tokens", ctx.live_tokens.get())}</span>
            </div>
            <details class="params">
                <summary>"Sampling"</summary>
                {param_input(ctx, "max tokens", "max-tokens", "1", |p| p.max_tokens, |p, v| p.max_tokens = v)}
                {param_input(ctx, "temperature", "temperature", "0.05", |p| p.temperature, |p, v| p.temperature = v)}
                {param_input(ctx, "top p", "top-p", "0.05", |p| p.top_p, |p, v| p.top_p = v)}
                // Read as u32: a negative k is refused in the box, as before top_k became i32.
                {param_input(
                    ctx,
                    "top k",
                    "top-k",
                    "1",
                    |p| u32::try_from(p.top_k).unwrap_or(0),
                    |p, v: u32| p.top_k = i32::try_from(v).unwrap_or(i32::MAX),
                )}
                {param_input(ctx, "seed", "seed", "1", |p| p.seed, |p, v| p.seed = v)}
                {param_input(ctx, "repeat penalty", "repeat-penalty", "0.05", |p| p.repeat_penalty, |p, v| p.repeat_penalty = v)}
                {param_input(ctx, "repair rounds", "repair", "1", |p| p.repair, |p, v| p.repair = v)}
            </details>
            <Recents ctx=ctx />
        </aside>
    }
}

#[component]
fn Recents(ctx: Ctx) -> impl IntoView {
    let restore_recent = move |r: Recent| {
        stop(ctx);
        ctx.instruction.set(r.instruction);
        if AirflowVersion::from_str(&r.airflow_version).is_ok() {
            ctx.version.set(r.airflow_version);
        }
        ctx.attempts.set(Vec::new());
        ctx.viewing.set(None);
        ctx.generated_hash.set(Some(share::code_hash(&r.code)));
        ctx.code.set(r.code);
        ctx.share_warnings.set(Vec::new());
    };
    view! {
        <div class="recents">
            <h2>"Recent"</h2>
            <Show
                when=move || ctx.recents.with(|r| !r.is_empty())
                fallback=|| view! { <p class="muted">"Generations appear here (kept in this browser)."</p> }
            >
                <ul id="recents">
                    {move || {
                        ctx.recents
                            .get()
                            .into_iter()
                            .map(|r| {
                                let title = if r.instruction.trim().is_empty() {
                                    "(no instruction)".to_string()
                                } else {
                                    r.instruction.chars().take(80).collect()
                                };
                                let class = if r.loads { "dot ok" } else { "dot bad" };
                                let version = r.airflow_version.clone();
                                view! {
                                    <li>
                                        <button on:click=move |_| restore_recent(r.clone())>
                                            <span class=class></span>
                                            <span class="recent-title">{title}</span>
                                            <span class="muted">{version}</span>
                                        </button>
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
                <button
                    class="link"
                    on:click=move |_| {
                        ctx.recents.set(Vec::new());
                        save_recents(ctx);
                    }
                >
                    "clear"
                </button>
            </Show>
        </div>
    }
}

#[component]
fn Toolbar(ctx: Ctx) -> impl IntoView {
    let copy_code = move |_| {
        let code = ctx.code.get_untracked();
        spawn_local(async move {
            match browser::copy_text(&code).await {
                Ok(()) => ctx.say("info", "Code copied."),
                Err(e) => ctx.say("error", format!("Copy failed: {e}")),
            }
        });
    };
    let download_py = move |_| {
        let name = ctx.report.with_untracked(|r| format!("{}.py", state::file_stem(r)));
        let code = ctx.code.get_untracked();
        if let Err(e) = browser::download(&name, "text/x-python", &code) {
            ctx.say("error", format!("Download failed: {e}"));
        }
    };
    let edited = move || {
        ctx.generated_hash
            .with(|h| h.as_ref().is_some_and(|h| *h != ctx.code.with(|c| share::code_hash(c))))
    };
    view! {
        <div class="toolbar">
            <button id="own" on:click=move |_| own_code(ctx)>"Validate my own DAG"</button>
            <button id="share" on:click=move |_| share_link(ctx)>"Share link"</button>
            <button id="copy-code" on:click=copy_code>"Copy code"</button>
            <button id="download-py" on:click=download_py>"Download .py"</button>
            <button id="download-json" on:click=move |_| download_report(ctx, false)>
                "Report JSON"
            </button>
            <button id="download-sarif" on:click=move |_| download_report(ctx, true)>
                "Report SARIF"
            </button>
            <Show when=edited>
                <span id="edited" class="badge warn">"edited since generation"</span>
            </Show>
        </div>
        <Show when=move || ctx.share_url.with(|u| !u.is_empty())>
            <input
                id="share-url"
                class="share-url"
                readonly
                prop:value=move || ctx.share_url.get()
                on:focus=move |ev| {
                    use wasm_bindgen::JsCast;
                    if let Some(input) = ev
                        .target()
                        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                    {
                        input.select();
                    }
                }
            />
        </Show>
    }
}

#[component]
fn Notices(ctx: Ctx) -> impl IntoView {
    view! {
        {move || {
            ctx.notice
                .get()
                .map(|n| {
                    view! {
                        <div id="notice" class=format!("notice {}", n.kind)>
                            <span>{n.text}</span>
                            <button class="link" on:click=move |_| ctx.notice.set(None)>
                                "dismiss"
                            </button>
                        </div>
                    }
                })
        }}
        <Show when=move || ctx.share_warnings.with(|w| !w.is_empty())>
            <ul id="share-warnings" class="notice warn">
                {move || {
                    ctx.share_warnings
                        .get()
                        .into_iter()
                        .map(|w| view! { <li>{w}</li> })
                        .collect_view()
                }}
            </ul>
        </Show>
    }
}

#[component]
fn Attempts(ctx: Ctx) -> impl IntoView {
    let show = move |i: usize| {
        ctx.viewing.set(Some(i));
        let code = ctx.attempts.with_untracked(|a| {
            a.get(i).map(|a| a.code.clone().unwrap_or_else(|| state::stream_preview(&a.raw).into()))
        });
        if let Some(code) = code {
            ctx.code.set(code);
        }
    };
    view! {
        <Show when=move || ctx.attempts.with(|a| !a.is_empty())>
            <div id="attempts" class="attempts">
                {move || {
                    ctx.attempts
                        .get()
                        .into_iter()
                        .enumerate()
                        .map(|(i, a)| {
                            let name = if a.index == 0 {
                                "answer".to_string()
                            } else {
                                format!("repair {}", a.index)
                            };
                            let verdict = match (a.loads, &a.code) {
                                (Some(true), _) => "loads",
                                (Some(false), _) => "does not load",
                                (None, Some(_)) => "checking…",
                                (None, None) => "streaming…",
                            };
                            let stats = format!(
                                "{} tokens · {:.1} tok/s{}",
                                a.tokens,
                                a.tokens_per_second,
                                if a.seconds > 0.0 { format!(" · {:.1} s", a.seconds) } else { String::new() }
                            );
                            let class = move || {
                                let mut c = String::from("attempt");
                                if ctx.viewing.get() == Some(i) {
                                    c.push_str(" active");
                                }
                                match a.loads {
                                    Some(true) => c.push_str(" ok"),
                                    Some(false) => c.push_str(" bad"),
                                    None => {}
                                }
                                c
                            };
                            view! {
                                <button class=class data-attempt=a.index on:click=move |_| show(i)>
                                    <b>{name}</b>
                                    <span>{verdict}</span>
                                    <span class="muted">{stats}</span>
                                </button>
                            }
                        })
                        .collect_view()
                }}
            </div>
        </Show>
    }
}

#[component]
fn Editor(ctx: Ctx) -> impl IntoView {
    let lines = Memo::new(move |_| ctx.code.with(|c| highlight_lines(c)));
    let marks = Memo::new(move |_| {
        let n = lines.with(Vec::len);
        ctx.report.with(|r| state::line_marks(r, n))
    });
    let mark_class = |m: Option<dagsmith_core::Severity>| match m {
        Some(s) => s.as_str(),
        None => "",
    };
    let code_html = move || {
        let flash = ctx.flash.get();
        marks.with(|marks| {
            lines.with(|lines| {
                let mut html = String::new();
                for (i, line) in lines.iter().enumerate() {
                    let mark = mark_class(marks.get(i).copied().flatten());
                    let flashing = if flash == Some(i as u32 + 1) { " flash" } else { "" };
                    html.push_str(&format!("<div class=\"line {mark}{flashing}\">{line}</div>"));
                }
                html
            })
        })
    };
    let gutter_html = move || {
        marks.with(|marks| {
            let mut html = String::new();
            for (i, m) in marks.iter().enumerate() {
                html.push_str(&format!("<div class=\"{}\">{}</div>", mark_class(*m), i + 1));
            }
            html
        })
    };
    view! {
        <div class="editor" node_ref=ctx.scroller>
            <div class="editor-inner">
                <div class="gutter" aria-hidden="true" inner_html=gutter_html></div>
                <div class="code-area">
                    <pre class="hl" aria-hidden="true" inner_html=code_html></pre>
                    <textarea
                        id="code"
                        node_ref=ctx.textarea
                        spellcheck="false"
                        autocapitalize="off"
                        autocomplete="off"
                        wrap="off"
                        placeholder="Generated code streams here. Or paste your own DAG file: it is validated as you type."
                        readonly=move || ctx.running.get()
                        prop:value=move || ctx.code.get()
                        on:input=move |ev| {
                            // Set now, not when the effect runs: tests and the verdict's
                            // styling can tell that what is shown is about to change.
                            ctx.pending.set(true);
                            ctx.code.set(event_target_value(&ev));
                        }
                        on:keydown=move |ev| {
                            // Tab indents (four spaces) instead of leaving the editor.
                            if ev.key() != "Tab" || ev.shift_key() || ev.ctrl_key()
                                || ev.meta_key() || ev.alt_key() || ctx.running.get_untracked()
                            {
                                return;
                            }
                            let Some(ta) = ctx.textarea.get_untracked() else { return };
                            let (Ok(Some(start)), Ok(Some(end))) =
                                (ta.selection_start(), ta.selection_end())
                            else {
                                return;
                            };
                            ev.prevent_default();
                            if ta
                                .set_range_text_with_start_and_end_and_mode(
                                    "    ",
                                    start,
                                    end,
                                    "end",
                                )
                                .is_ok()
                            {
                                ctx.pending.set(true);
                                ctx.code.set(ta.value());
                            }
                        }
                    ></textarea>
                </div>
            </div>
        </div>
    }
}

#[component]
fn Verdict(ctx: Ctx) -> impl IntoView {
    view! {
        <div
            id="verdict"
            class=move || {
                if ctx.failure.with(Option::is_some) {
                    "verdict failed"
                } else if ctx.code.with(|c| c.trim().is_empty()) {
                    "verdict empty"
                } else if ctx.report.with(|r| r.loads) {
                    "verdict ok"
                } else {
                    "verdict bad"
                }
            }
            data-loads=move || ctx.report.with(|r| r.loads.to_string())
            data-failed=move || ctx.failure.with(Option::is_some).to_string()
        >
            <strong>
                {move || {
                    if let Some(why) = ctx.failure.get() {
                        state::failure_text(&why)
                    } else if ctx.code.with(|c| c.trim().is_empty()) {
                        "No code yet.".to_string()
                    } else {
                        ctx.report.with(state::verdict_text)
                    }
                }}
            </strong>
            <span class="muted">
                {move || {
                    if ctx.failure.with(Option::is_some) {
                        String::new()
                    } else {
                        format!("validated in the browser in {:.1} ms", ctx.validate_ms.get())
                    }
                }}
            </span>
        </div>
    }
}

/// Applies a finding's fix to the code it was found in (the buttons are disabled while the
/// code is newer than its report, so the edits' offsets still hold); the edit re-validates.
fn apply_fix(ctx: Ctx, fix: &Fix) {
    if ctx.running.get_untracked() || ctx.pending.get_untracked() {
        return;
    }
    let code = ctx.code.get_untracked();
    if let Ok(fixed) = apply_edits(&code, &fix.edits) {
        ctx.pending.set(true);
        ctx.code.set(fixed);
    }
}

#[component]
fn Findings(ctx: Ctx) -> impl IntoView {
    view! {
        <ul id="findings" class="findings">
            {move || {
                ctx.report
                    .with(|r| r.findings.clone())
                    .into_iter()
                    .map(|f| {
                        let line = f.line;
                        let sev = f.severity.as_str();
                        view! {
                            <li
                                class=format!("finding {sev}")
                                data-code=f.code
                                data-line=line
                                title="show in the code"
                                on:click=move |_| jump_to_line(ctx, line)
                            >
                                <span class=format!("badge {sev}")>{sev}</span>
                                <code>{f.code}</code>
                                <span class="pos">{format!("line {}:{}", f.line, f.column)}</span>
                                <div class="msg">{f.message}</div>
                                {f.fix.map(|fix| view! { <div class="fix">{fix}</div> })}
                                {f.autofix.map(|autofix| {
                                    let label = format!(
                                        "Fix: {}{}",
                                        autofix.message,
                                        if autofix.applicability == Applicability::Safe {
                                            ""
                                        } else {
                                            " (a guess: check it)"
                                        }
                                    );
                                    view! {
                                        <button
                                            class="apply-fix"
                                            title="apply this fix to the code"
                                            disabled=move || {
                                                ctx.running.get() || ctx.pending.get()
                                            }
                                            on:click=move |ev| {
                                                ev.stop_propagation();
                                                apply_fix(ctx, &autofix);
                                            }
                                        >
                                            {label}
                                        </button>
                                    }
                                })}
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
    }
}

#[component]
fn Graph(ctx: Ctx) -> impl IntoView {
    let html = move || {
        ctx.report.with(|r| {
            let mut html = String::new();
            for (i, dag) in r.dags.iter().enumerate() {
                let mut name = String::new();
                crate::highlight::escape(
                    dag.dag_id.as_deref().unwrap_or("(dynamic dag_id)"),
                    &mut name,
                );
                let dynamic = if dag.dynamic_tasks > 0 {
                    format!(" · {} tasks with run-time ids not shown", dag.dynamic_tasks)
                } else {
                    String::new()
                };
                html.push_str(&format!(
                    "<figure class=\"dag\"><figcaption><b>{name}</b> <span class=\"muted\">\
                     line {} · {} tasks · {} edges{dynamic}</span></figcaption>{}</figure>",
                    dag.line,
                    dag.tasks.len(),
                    dag.edges.len(),
                    dag_svg(dag, r, i)
                ));
            }
            if ctx.failure.with(Option::is_some) {
                html.push_str(
                    "<p class=\"muted\">No graph: the validator failed on this input.</p>",
                );
            } else if html.is_empty() {
                html.push_str("<p class=\"muted\">No DAG found (yet) in this file.</p>");
            }
            html
        })
    };
    view! {
        <div class="graph-panel">
            <h2>"Task graph"</h2>
            <div id="graph" inner_html=html></div>
        </div>
    }
}
