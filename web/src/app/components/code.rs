//! The centre column: the toolbar, notices, a generation's attempts and the code view.

use dagsmith_core::share;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::app::actions::{download_report, own_code, share_link};
use crate::app::context::Ctx;
use crate::browser;
use crate::highlight::highlight_lines;
use crate::html;
use crate::view_model;

#[component]
pub fn Toolbar(ctx: Ctx) -> impl IntoView {
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
        let name = ctx.report.with_untracked(|r| format!("{}.py", view_model::file_stem(r)));
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
pub fn Notices(ctx: Ctx) -> impl IntoView {
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
pub fn Attempts(ctx: Ctx) -> impl IntoView {
    let show = move |i: usize| {
        ctx.viewing.set(Some(i));
        let code = ctx.attempts.with_untracked(|a| {
            a.get(i).map(|a| {
                a.code.clone().unwrap_or_else(|| view_model::stream_preview(&a.raw).into())
            })
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
pub fn Editor(ctx: Ctx) -> impl IntoView {
    let lines = Memo::new(move |_| ctx.code.with(|c| highlight_lines(c)));
    let marks = Memo::new(move |_| {
        let n = lines.with(Vec::len);
        ctx.report.with(|r| view_model::line_marks(r, n))
    });
    let code_html = move || {
        marks.with(|marks| lines.with(|lines| html::code_lines(lines, marks, ctx.flash.get())))
    };
    let gutter_html = move || marks.with(|marks| html::gutter(marks));
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
