//! The left column: the server's health, the instruction, version and sampling settings, the
//! Generate and Stop buttons, and the recent generations.

use std::str::FromStr;

use dagsmith_core::share::GenerationParams;
use leptos::prelude::*;

use crate::app::actions::{check_health, generate, restore_recent, save_recents, stop};
use crate::app::context::{Ctx, HealthState};
use crate::view_model::AIRFLOW_VERSIONS;

#[component]
pub fn HealthBadge(ctx: Ctx) -> impl IntoView {
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
pub fn Controls(ctx: Ctx) -> impl IntoView {
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
pub fn Recents(ctx: Ctx) -> impl IntoView {
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
                                        <button on:click=move |_| restore_recent(ctx, r.clone())>
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
