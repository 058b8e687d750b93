//! dagsmith-web: the browser playground.
//!
//! The pure parts build and are unit-tested natively: Python highlighting ([`highlight`]), the
//! server API and its event stream ([`api`]) and the app's plain state helpers ([`state`]). The
//! leptos app ([`app`]) and its browser bindings exist only on wasm32.

pub mod api;
pub mod highlight;
pub mod state;
pub mod svg;

#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod browser;

/// Mounts the app on the page's `<body>` (trunk's entry point calls this).
#[cfg(target_arch = "wasm32")]
pub fn start() {
    app::mount();
}
