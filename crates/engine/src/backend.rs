//! The process-wide llama.cpp backend: initialised once (llama.cpp refuses a second init), with
//! its log output silenced (it writes hundreds of lines per model load to stderr otherwise), and
//! the CPU kernel choices that llama.cpp only takes from the environment.

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

/// llama.cpp settings read from the environment, with the values dagsmith measured best, each
/// unless the environment already has one:
///
/// * `GGML_CPU_TILED_MM=0`: llama.cpp's tiled K-quant matmul (on by default in the vendored
///   release, for batches of 8 rows and more) took ~60% more CPU time per token than its stock
///   kernels when decoding 8 sequences of Qwen2.5-Coder-1.5B Q4_K_M, which made 8 sequences
///   slower than 4; on prompt batches it saved at most ~5% (docs/BENCHMARKS.md, "Generation").
///
/// # Safety
///
/// Sets environment variables: call it before the process has started any other thread (at
/// the top of `main`), as [`std::env::set_var`] requires.
pub unsafe fn set_cpu_kernel_defaults() {
    for (name, value) in [("GGML_CPU_TILED_MM", "0")] {
        if std::env::var_os(name).is_none() {
            // SAFETY: the caller guarantees that no other thread exists yet.
            unsafe { std::env::set_var(name, value) };
        }
    }
}
