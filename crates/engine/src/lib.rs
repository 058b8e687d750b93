//! dagsmith-engine: runs a GGUF model with llama.cpp (through `llama-cpp-2`) and generates many
//! prompts at once.
//!
//! * [`Engine::load`] loads the model once; [`Engine::run`] decodes any number of requests with
//!   continuous batching: up to `parallel` sequences share one context and one batch per decode
//!   step, and a finished sequence's slot takes the next request at once.
//! * Prompts are rendered with the model's own chat template (ChatML when it has none that
//!   llama.cpp knows).
//! * An answer that starts repeating itself is stopped early ([`FinishReason::Repetition`]).
//! * Requests arrive through a [`Jobs`] source, which also receives the streamed text and the
//!   result, and can cancel a request at any step (the server frees a client's slot that way).
//!
//! The hardware backend is chosen at build time: CPU SIMD with OpenMP by default; the `cuda`,
//! `vulkan` and `metal` features offload every layer to the GPU unless told otherwise.

mod backend;
mod batch;
mod error;
mod model;
mod prefix;
mod registry;
mod repetition;
mod request;
mod sampling;
mod stop;
mod threads;
mod utf8;

pub use backend::set_cpu_kernel_defaults;
pub use batch::{BatchOptions, Flow, JobId, Jobs, Progress, RunStats};
pub use dagsmith_core::dataset::Message;
pub use error::{EngineError, RequestError};
pub use model::{Engine, ModelInfo, ModelOptions, TemplateSource};
pub use registry::{DEFAULT_MODEL, KnownModel, MODELS, PypiChunk, default_model_path, models_dir};
pub use repetition::{Loop, RepetitionGuard};
pub use request::{Completion, FinishReason, GenerationRequest, Trace};
pub use sampling::SamplingParams;
pub use threads::physical_cores;

/// The GPU backend compiled in, if any ("cuda", "vulkan", "metal").
pub const GPU_BACKEND: Option<&str> = if cfg!(feature = "cuda") {
    Some("cuda")
} else if cfg!(feature = "vulkan") {
    Some("vulkan")
} else if cfg!(feature = "metal") {
    Some("metal")
} else {
    None
};
