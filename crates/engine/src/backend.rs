//! The process-wide llama.cpp backend: initialised once (llama.cpp refuses a second init), with
//! its log output silenced (it writes hundreds of lines per model load to stderr otherwise).

use std::sync::OnceLock;

use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::{LogOptions, send_logs_to_tracing};

use crate::error::EngineError;

static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();

/// The shared backend. `DAGSMITH_LLAMA_LOG=1` keeps llama.cpp's own logs (routed to `tracing`,
/// which prints nothing unless a subscriber is installed).
pub fn backend() -> Result<&'static LlamaBackend, EngineError> {
    BACKEND
        .get_or_init(|| {
            let keep_logs = std::env::var_os("DAGSMITH_LLAMA_LOG").is_some_and(|v| v == "1");
            send_logs_to_tracing(LogOptions::default().with_logs_enabled(keep_logs));
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| EngineError::Backend(e.clone()))
}
