//! The playground page (leptos, client-side rendered).
//!
//! All state lives in signals gathered in [`context::Ctx`], which is `Copy` and handed to every
//! part of the page. Validation runs in the browser (dagsmith-core in wasm, in a Web Worker: see
//! [`crate::validator`]) whenever the code or the Airflow version changes, debounced;
//! generation streams from `POST /api/generate`. What the page does is in [`actions`], what it
//! shows in [`components`].

mod actions;
mod components;
mod context;

use leptos::prelude::*;

use crate::browser;
use actions::{check_health, generate, restore, schedule_validation, stop};
use components::{
    Attempts, Controls, Editor, Findings, Graph, HealthBadge, Notices, Toolbar, Verdict,
};
use context::Ctx;

pub fn mount() {
    leptos::mount::mount_to_body(App);
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
