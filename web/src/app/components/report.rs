//! The right column: the verdict, the findings (with their fixes) and the task graphs.

use dagsmith_core::fix::Applicability;
use leptos::prelude::*;

use crate::app::actions::{apply_fix, jump_to_line};
use crate::app::context::Ctx;
use crate::html;
use crate::view_model;

#[component]
pub fn Verdict(ctx: Ctx) -> impl IntoView {
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
                        view_model::failure_text(&why)
                    } else if ctx.code.with(|c| c.trim().is_empty()) {
                        "No code yet.".to_string()
                    } else {
                        ctx.report.with(view_model::verdict_text)
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

#[component]
pub fn Findings(ctx: Ctx) -> impl IntoView {
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
                                {f.fix.to_option().map(|fix| view! { <div class="fix">{fix}</div> })}
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
pub fn Graph(ctx: Ctx) -> impl IntoView {
    let html = move || {
        let failed = ctx.failure.with(Option::is_some);
        ctx.report.with(|r| html::graphs(r, failed))
    };
    view! {
        <div class="graph-panel">
            <h2>"Task graph"</h2>
            <div id="graph" inner_html=html></div>
        </div>
    }
}
