//! dagsmith-web: the browser playground.
//!
//! The pure parts build and are unit-tested natively: Python highlighting ([`highlight`]), the
//! server API and its event stream ([`api`]), the app's plain state helpers ([`state`]) and the
//! validator worker's messages ([`validation`]). The leptos app (`app`), its browser bindings
//! and the validator worker (`validator` on the page's side, `worker` inside it) exist only on
//! wasm32.

pub mod api;
pub mod highlight;
pub mod state;
pub mod svg;
pub mod validation;

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
