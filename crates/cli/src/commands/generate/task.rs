//! One row's work: its conversation with the model (repair rounds included) and, per attempt,
//! what the source of answers reported.

use dagsmith_core::AirflowVersion;
use dagsmith_core::pipeline::{self, Conversation};
use serde_json::Value;

use super::work::{Answered, Outcome};

pub struct Task {
    /// 1-based input line (0 for --instruction).
    pub line: usize,
    pub conversation: Conversation,
    /// The input row's metadata, kept in the output row.
    pub metadata: Value,
    /// Parallel to the conversation's attempts.
    pub runs: Vec<Run>,
}

/// The answering side of one attempt.
pub enum Run {
    Answered(Answered),
    Failed(String),
}

impl Task {
    pub fn new(
        line: usize,
        instruction: &str,
        version: AirflowVersion,
        system: Option<&str>,
        options: pipeline::Options,
        metadata: Value,
    ) -> Task {
        Task {
            line,
            conversation: Conversation::new(instruction, version, system, options),
            metadata,
            runs: Vec::new(),
        }
    }

    /// Turns an answer (or a failure) into an attempt; true when another repair round is due.
    /// [`Outcome::Dropped`] records nothing.
    pub fn record(&mut self, outcome: Outcome) -> bool {
        match outcome {
            Outcome::Answered(a) => {
                let again = self.conversation.record(&a.text, a.end);
                self.runs.push(Run::Answered(a));
                again
            }
            Outcome::Failed(e) => {
                self.conversation.record_failure();
                self.runs.push(Run::Failed(e));
                false
            }
            Outcome::Dropped(_) => false,
        }
    }

    pub fn failed(&self) -> bool {
        self.runs.iter().any(|r| matches!(r, Run::Failed(_)))
    }

    /// The final attempt loads (as dagsmith predicts) and nothing failed.
    pub fn loads(&self) -> bool {
        !self.failed() && self.conversation.last().is_some_and(|a| a.report.loads)
    }
}
