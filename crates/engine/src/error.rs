//! Engine errors (the model or context cannot be used) and request errors (one request fails,
//! the others go on).

use std::fmt;
use std::path::PathBuf;

/// The engine cannot run at all.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineError {
    Backend(String),
    ModelNotFound(PathBuf),
    ModelLoad { path: PathBuf, reason: String },
    Context(String),
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::Backend(e) => write!(f, "llama.cpp backend failed to start: {e}"),
            EngineError::ModelNotFound(p) => write!(
                f,
                "model file {} not found (fetch one with `dagsmith model fetch`)",
                p.display()
            ),
            EngineError::ModelLoad { path, reason } => {
                write!(f, "cannot load model {}: {reason} (is it a GGUF file?)", path.display())
            }
            EngineError::Context(e) => write!(f, "cannot create a llama.cpp context: {e}"),
        }
    }
}

impl std::error::Error for EngineError {}

/// One request failed; the batch goes on.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestError {
    /// The chat messages cannot be rendered (e.g. a NUL byte in a message).
    Template(String),
    /// The rendered prompt does not leave room for one new token in a sequence's context.
    PromptTooLong { prompt_tokens: usize, context: usize },
    /// llama.cpp failed to decode a batch this request was part of.
    Decode(String),
    /// The run picks greedy tokens on the device ([`crate::BatchOptions::device_sampling`]) and
    /// this request samples otherwise (a temperature, a repetition penalty).
    NotGreedy,
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::Template(e) => write!(f, "cannot render the chat prompt: {e}"),
            RequestError::PromptTooLong { prompt_tokens, context } => write!(
                f,
                "the prompt has {prompt_tokens} tokens but a sequence's context holds {context} \
                 (raise --ctx or shorten the prompt)"
            ),
            RequestError::Decode(e) => write!(f, "llama.cpp decode failed: {e}"),
            RequestError::NotGreedy => write!(
                f,
                "this run picks greedy tokens on the device, and the request samples otherwise \
                 (a temperature or a repetition penalty)"
            ),
        }
    }
}

impl std::error::Error for RequestError {}
