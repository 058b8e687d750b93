//! dagsmith-web: the browser playground.
//!
//! The pure parts build and are unit-tested natively: Python highlighting ([`highlight`]), the
//! HTML built as strings and its escaping ([`html`]), the server API and its event stream
//! ([`api`]), the plain logic behind the views ([`view_model`]) and the validator worker's
//! messages ([`validation`]). The leptos app (`app`: its context, actions and components), its
//! browser bindings and the validator worker (`validator` on the page's side, `worker` inside
//! it) exist only on wasm32.

pub mod api;
pub mod highlight;
pub mod html;
pub mod svg;
pub mod validation;
pub mod view_model;

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod browser;
#[cfg(target_arch = "wasm32")]
mod validator;
#[cfg(target_arch = "wasm32")]
pub mod worker;

/// Mounts the app on the page's `<body>` (trunk's entry point calls this).
#[cfg(target_arch = "wasm32")]
pub fn start() {
    app::mount();
}
