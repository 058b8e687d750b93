//! dagsmith-remote: generation on OpenAI-compatible backends (vLLM, llama.cpp's llama-server,
//! SGLang, `dagsmith serve`), for runs that outgrow one machine.
//!
//! The backends do the inference; dagsmith keeps the rest (fixes, validation, repair rounds,
//! resumable output), so this crate only gets answers:
//!
//! * [`backend`]: which backends, from `--backend URL` and `--backends FILE`;
//! * [`client`]: one streaming `POST /v1/chat/completions`, `/v1/models` and dagsmith's
//!   `/api/health`, with every failure sorted into what a retry can cure and what it cannot;
//!   `http://` backends through an HTTP/1.1 transport of our own (`http`: a token-by-token
//!   stream read where it lies), `https://` and proxied ones through ureq;
//! * [`dispatch`]: many requests over many backends: per-backend concurrency, least-loaded
//!   choice, retries with backoff on another backend, `Retry-After`, backends set aside and
//!   probed again, and a clean stop when every backend is down.
//!
//! Chat requests to `http://` backends all run on one thread that waits on every connection at
//! once (`reactor`); requests through ureq (`https://`, a proxy) run on a thread each, blocking.
//! Either way a batch request reads a trickling answer in gulps, not a wake-up per token
//! (`gapped`), and the caller's loop stays plain: it submits requests and takes events.

pub mod backend;
mod chunk;
pub mod client;
pub mod dispatch;
mod gapped;
mod http;
mod reactor;
mod resolve;
mod sse;

pub use backend::{BackendSpec, parse_backends_file};
pub use client::{Answer, CallError, ChatParams, Client};
pub use dispatch::{Dispatcher, Event, Failure, Options};
