//! What a caller asks for and what it gets back.

use serde::{Deserialize, Serialize};

use crate::Message;
use crate::sampling::SamplingParams;

/// One chat completion to generate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GenerationRequest {
    pub messages: Vec<Message>,
    pub sampling: SamplingParams,
    /// New tokens at most (also capped by the room left in the sequence's context).
    pub max_tokens: u32,
    /// Generation ends before the first occurrence of any of these (besides end-of-generation
    /// tokens such as `<|im_end|>`, which always end it).
    pub stop: Vec<String>,
    /// Keep going past end-of-generation tokens until `max_tokens` (benchmarks: equal work).
    #[serde(default)]
    pub ignore_eos: bool,
    /// End the answer with [`FinishReason::Repetition`] once it loops (see
    /// [`crate::RepetitionGuard`]). On by default; benchmarks that need equal work turn it off.
    #[serde(default = "yes")]
    pub stop_on_repetition: bool,
    /// Record each new token and, when greedy, its logit margin over the runner-up (tests of
    /// batch equivalence: llama.cpp's float sums depend on the batch shape, so batched and
    /// one-at-a-time greedy runs may part ways at a near-tie, and only there).
    #[serde(default)]
    pub trace: bool,
}

impl GenerationRequest {
    pub fn new(messages: Vec<Message>, max_tokens: u32) -> Self {
        GenerationRequest {
            messages,
            sampling: SamplingParams::default(),
            max_tokens,
            stop: Vec::new(),
            ignore_eos: false,
            stop_on_repetition: true,
            trace: false,
        }
    }
}

fn yes() -> bool {
    true
}

/// Why generation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// End-of-generation token or a stop string.
    Stop,
    /// `max_tokens` or the sequence's context was reached.
    Length,
    /// The job source cancelled it.
    Cancelled,
    /// The answer began repeating itself (a loop that would run to `max_tokens`): a failed
    /// attempt, stopped early.
    Repetition,
}

impl FinishReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::Cancelled => "cancelled",
            FinishReason::Repetition => "repetition",
        }
    }
}

/// A finished request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    /// The generated text (without the stop string or end-of-generation token).
    pub text: String,
    pub finish: FinishReason,
    pub prompt_tokens: u32,
    /// Of the prompt tokens, those whose KV cells were reused from an earlier or concurrent
    /// request with the same prefix (not decoded again).
    #[serde(default)]
    pub reused_prompt_tokens: u32,
    pub completion_tokens: u32,
    /// From the request's start (its slot was taken) to its first new token: the prompt's share
    /// of the batched decode steps, plus the first token.
    pub prompt_ms: f64,
    /// From the first to the last new token.
    pub generation_ms: f64,
    /// With [`GenerationRequest::trace`]: every sampled token (the end token included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Trace>,
}

/// Sampled tokens and, for greedy sampling, the gap between the best and second-best logit.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    pub tokens: Vec<i32>,
    pub margins: Vec<f32>,
}

impl Completion {
    /// Generated tokens per second of this sequence (in a batch, sequences share the steps).
    pub fn tokens_per_second(&self) -> f64 {
        if self.generation_ms > 0.0 && self.completion_tokens > 1 {
            (self.completion_tokens - 1) as f64 * 1000.0 / self.generation_ms
        } else {
            0.0
        }
    }
}
