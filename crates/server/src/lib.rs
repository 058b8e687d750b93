//! dagsmith-server: the local HTTP endpoint behind `dagsmith serve`.
//!
//! * OpenAI-compatible: `GET /v1/models`, `POST /v1/chat/completions` (streaming or not), so that
//!   OpenAI clients and SDKs work unchanged.
//! * dagsmith's own: `GET /api/health`, `POST /api/validate` (the CLI's JSON report for one
//!   file), `POST /api/generate` (SSE: tokens, then the extracted code and its validation
//!   report, then repair rounds while it does not load).
//! * The built web app at `/`, with `index.html` for other non-API paths.
//!
//! Every generation goes through one [`scheduler::Scheduler`]: concurrent requests share the
//! engine's batch slots, a bounded queue answers 429 when full, and a client that disconnects
//! frees its slot at the next decode step. Without a model, validation and the app still work
//! and the generation endpoints answer 503 with the reason.

pub mod config;
pub mod error;
pub mod guard;
pub mod json;
pub mod routes;
pub mod scheduler;
pub mod sse;
pub mod state;
pub mod static_files;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};
use dagsmith_engine::Engine;
use tokio::sync::oneshot;

pub use config::{ServerConfig, Validator};
pub use state::{AppState, SharedState};

/// The routes, on `state`, behind the request guard ([`guard`]).
pub fn router(state: SharedState) -> Router {
    let limit = state.config.body_limit;
    let policy = Arc::new(guard::AccessPolicy::new(&state.config));
    Router::new()
        .route("/v1/models", get(routes::openai::models))
        .route("/v1/chat/completions", post(routes::openai::chat_completions))
        .route("/api/health", get(routes::api::health))
        .route("/api/validate", post(routes::api::validate_code))
        .route("/api/generate", post(routes::api::generate))
        .fallback(static_files::fallback)
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(policy, guard::guard))
        .with_state(state)
}

fn runtime() -> io::Result<tokio::runtime::Runtime> {
    // Handlers mostly wait on the engine thread; validation runs on the blocking pool.
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("dagsmith-http")
        .enable_all()
        .build()
}

/// Binds the configured address (checked with [`ServerConfig::check`]); the configuration comes
/// back with the bound port (port 0 = any free one), which the `Host` check needs.
fn bind(mut config: ServerConfig) -> io::Result<(std::net::TcpListener, ServerConfig)> {
    config.check().map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let listener = std::net::TcpListener::bind(config.addr())?;
    listener.set_nonblocking(true)?;
    config.port = listener.local_addr()?.port();
    Ok((listener, config))
}

async fn serve_until(
    listener: std::net::TcpListener,
    state: SharedState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let stopping = state.clone();
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async move {
            shutdown.await;
            // Ends open streams: running generations are cancelled, queued ones fail.
            let s = stopping.clone();
            let _ = tokio::task::spawn_blocking(move || s.shutdown()).await;
        })
        .await
}

/// Runs the server on the current thread until Ctrl-C (or SIGTERM). `model` is the engine, or
/// why there is none; `ready` is called with the bound address before serving.
pub fn run(
    config: ServerConfig,
    model: Result<Arc<Engine>, String>,
    ready: impl FnOnce(SocketAddr, &AppState),
) -> io::Result<()> {
    let (listener, config) = bind(config)?;
    let addr = listener.local_addr()?;
    let state = AppState::new(config, model);
    ready(addr, &state);
    runtime()?.block_on(serve_until(listener, state, shutdown_signal()))
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                let ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
                let term = std::pin::pin!(term.recv());
                futures_util::future::select(ctrl_c, term).await;
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A server running on a background thread (tests, benchmarks). Dropping it stops it.
pub struct Background {
    pub addr: SocketAddr,
    pub state: SharedState,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl Background {
    /// Binds (port 0 = any free port) and starts serving before returning.
    pub fn start(config: ServerConfig, model: Result<Arc<Engine>, String>) -> io::Result<Self> {
        let (listener, config) = bind(config)?;
        let addr = listener.local_addr()?;
        let state = AppState::new(config, model);
        let runtime = runtime()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = state.clone();
        let thread =
            std::thread::Builder::new().name("dagsmith-server".into()).spawn(move || {
                runtime.block_on(serve_until(listener, serving, async {
                    let _ = stopped.await;
                }))
            })?;
        Ok(Background { addr, state, stop: Some(stop), thread: Some(thread) })
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.state.shutdown();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
