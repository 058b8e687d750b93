//! What a run asks of whatever answers, and what comes back: the seam between the two kinds of
//! run (one instruction, a dataset) and the two sources of answers (the local engine, remote
//! backends).

use std::time::Duration;

use dagsmith_core::dataset::Message;
use dagsmith_core::pipeline::{AnswerEnd, Conversation};

#[cfg(feature = "engine")]
use super::local::Local;
use super::remote::Remote;

/// One answer, local or remote.
#[derive(Clone, Debug)]
pub struct Answered {
    pub text: String,
    pub end: AnswerEnd,
    /// The finish reason as the source said it ("stop", "length", "repetition", ...).
    pub finish: String,
    /// `None`: the backend did not report usage.
    pub prompt_tokens: Option<u32>,
    pub completion_tokens: Option<u32>,
    pub source: Source,
}

/// Where an answer came from, and its timings.
#[derive(Clone, Debug)]
// `Local` is made by the engine only.
#[cfg_attr(not(feature = "engine"), allow(dead_code))]
pub enum Source {
    Local {
        prompt_ms: f64,
        generation_ms: f64,
        tokens_per_second: f64,
    },
    Remote {
        backend: String,
        model: String,
        latency_ms: f64,
        first_token_ms: Option<f64>,
        tries: u32,
    },
}

/// How a request ended.
#[derive(Clone, Debug)]
pub enum Outcome {
    Answered(Answered),
    /// The request cannot be served as it is (e.g. the prompt does not fit the context): the
    /// row records the error as a failed attempt.
    Failed(String),
    /// No answer and nothing learnt about the request (interrupted; every try failed on
    /// faults of the backends): the row is not written, so a rerun does it. `None`: interrupted.
    Dropped(Option<String>),
}

/// A request to start.
pub struct Request {
    pub task: usize,
    pub messages: Vec<Message>,
    /// A repetition penalty this attempt needs beyond the run's sampling: a fresh start after
    /// a runaway answer (`Conversation::restart_penalty`).
    pub repeat_penalty: Option<f32>,
}

impl Request {
    pub fn of(task: usize, conversation: &Conversation) -> Request {
        Request {
            task,
            messages: conversation.messages().to_vec(),
            repeat_penalty: conversation.restart_penalty(),
        }
    }
}

/// A run's side: it hands out requests and takes their outcomes.
pub trait Work {
    /// The next request to start; `None`: nothing to start now.
    fn next(&mut self) -> Option<Request>;

    /// Requests wait to be started (the next `next` gives one).
    fn has_queued(&self) -> bool;

    /// New text of a running request.
    fn text(&mut self, _task: usize, _text: &str) {}

    /// Asks for [`Work::text`] (remote backends then forward every piece).
    fn wants_text(&self) -> bool {
        false
    }

    fn finished(&mut self, task: usize, outcome: Outcome);

    /// Start nothing more and cancel what runs (Ctrl-C, a write error).
    fn stopping(&self) -> bool;

    /// Something for the log (a backend set aside, back, busy).
    fn notice(&mut self, message: &str);

    /// Called often while requests run: time-based logging.
    fn tick(&mut self) {}
}

/// How a drive ended.
#[derive(Clone, Debug, Default)]
pub struct Totals {
    pub wall: Duration,
    /// Prompt tokens decoded (local: those not reused from the KV cache; remote: as reported).
    pub prompt_tokens: u64,
    pub generated_tokens: u64,
    /// Set when every backend went down: the run stopped with work left.
    pub stopped_early: Option<String>,
}

/// The source of answers.
pub enum Driver {
    #[cfg(feature = "engine")]
    Local(Local),
    Remote(Remote),
}

impl Driver {
    /// Runs `work` until it has nothing left, stops, or (remote) no backend is left.
    pub fn drive(&mut self, work: &mut dyn Work) -> Result<Totals, String> {
        match self {
            #[cfg(feature = "engine")]
            Driver::Local(l) => l.drive(work),
            Driver::Remote(r) => Ok(r.drive(work)),
        }
    }

    /// Sizes the local model's batch for a run of `rows` rows (a backend's requests hold nothing
    /// in advance).
    #[cfg_attr(not(feature = "engine"), allow(unused_variables))]
    pub fn fit_to(&mut self, rows: usize, quiet: bool) {
        match self {
            #[cfg(feature = "engine")]
            Driver::Local(l) => l.fit_to(rows, quiet),
            Driver::Remote(_) => {}
        }
    }
}
