//! The generation pipeline shared by `dagsmith generate`, `POST /api/generate` and (through the
//! server) the playground: answer → extract code → fix → validate → a repair round only for what
//! the fixes could not solve.
//!
//! A small model does not reliably repair its own hallucinations, so dagsmith first applies what
//! the catalog knows ([`crate::fix`]); the model is asked again only for the rest, with the
//! findings phrased as concrete edits of quoted lines and, for names that do not exist, the real
//! classes' import lines. The previous answer goes back *fixed*, so the model never sees its own
//! wrong imports again.
//!
//! [`Conversation`] is a state machine without I/O: the caller runs the model on
//! [`Conversation::messages`] and hands each answer to [`Conversation::record`].

use serde::Serialize;

use crate::api_sheet;
use crate::dataset::Message;
use crate::extract::extract_code;
use crate::fix::{AppliedFix, FixMode, fix_source};
use crate::{AirflowVersion, Report, ValidateOptions, prompt, validate};

/// What the pipeline does besides asking the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Repair rounds at most after the first answer.
    pub repair_rounds: u32,
    /// Which fixes to apply to each answer; `None`: none (to measure the raw model).
    pub fixes: Option<FixMode>,
    /// Add the catalog's API sheet for the request to the system prompt.
    pub api_sheet: bool,
}

impl Default for Options {
    fn default() -> Self {
        // Generated code has no author to surprise: a guess that makes the DAG load (a
        // misspelt class's real name) beats a file that does not, so the unsafe fixes apply too.
        Options { repair_rounds: 0, fixes: Some(FixMode::SafeAndUnsafe), api_sheet: true }
    }
}

/// How the model's answer ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AnswerEnd {
    /// The model finished (or a stop string ended it).
    #[default]
    Complete,
    /// The token limit cut it off.
    Length,
    /// It repeated itself and was stopped early (a runaway answer).
    Repetition,
}

/// One answer and what became of it.
#[derive(Clone, Debug, Serialize)]
pub struct Attempt {
    /// The model's whole answer.
    pub raw: String,
    pub end: AnswerEnd,
    /// The code extracted from the answer, before fixes.
    pub code_before_fixes: String,
    /// dagsmith's verdict on that code.
    pub loads_before_fixes: bool,
    /// The fixes applied, in order.
    pub fixes: Vec<AppliedFix>,
    /// The code after fixes: the attempt's result.
    pub code: String,
    /// The report of `code`.
    pub report: Report,
}

/// One request's conversation with the model, its attempts and the next messages to send.
#[derive(Clone, Debug)]
pub struct Conversation {
    version: AirflowVersion,
    options: Options,
    messages: Vec<Message>,
    attempts: Vec<Attempt>,
}

impl Conversation {
    /// The first turns for `instruction`: the system prompt (`system`, else
    /// [`prompt::SYSTEM_PROMPT`]) with the API sheet when enabled, and airflow-net's user turn.
    pub fn new(
        instruction: &str,
        version: AirflowVersion,
        system: Option<&str>,
        options: Options,
    ) -> Self {
        let base = system.unwrap_or(prompt::SYSTEM_PROMPT);
        let system = if options.api_sheet {
            let sheet = api_sheet::api_sheet(instruction, version, api_sheet::DEFAULT_BUDGET);
            format!("{base}\n\n{sheet}")
        } else {
            base.to_string()
        };
        let messages = prompt::messages(instruction, &version.to_string(), Some(&system));
        Conversation { version, options, messages, attempts: Vec::new() }
    }

    /// The conversation to send to the model next.
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    pub fn version(&self) -> AirflowVersion {
        self.version
    }

    pub fn options(&self) -> Options {
        self.options
    }

    pub fn attempts(&self) -> &[Attempt] {
        &self.attempts
    }

    /// The latest attempt: the conversation's result once it is over.
    pub fn last(&self) -> Option<&Attempt> {
        self.attempts.last()
    }

    /// Extracts, fixes and validates an answer. Returns `true` when a repair round is due; then
    /// [`Conversation::messages`] holds its turns.
    pub fn record(&mut self, raw: &str, end: AnswerEnd) -> bool {
        let attempt = process_answer(raw, end, self.version, self.options.fixes);
        let loads = attempt.report.loads;
        self.attempts.push(attempt);
        let again = !loads && self.attempts.len() <= self.options.repair_rounds as usize;
        if again {
            let last = self.attempts.last().expect("just pushed");
            let turn = prompt::repair_turn_for(&last.code, &last.report, self.version, end);
            self.messages.push(Message {
                role: "assistant".into(),
                content: format!("```python\n{}\n```", last.code.trim_end()),
            });
            self.messages.push(Message { role: "user".into(), content: turn });
        }
        again
    }

    /// Records that the model could not answer (e.g. the prompt did not fit): an attempt with
    /// no code, and no further round.
    pub fn record_failure(&mut self) {
        let report = validate("", &ValidateOptions { airflow_version: self.version });
        self.attempts.push(Attempt {
            raw: String::new(),
            end: AnswerEnd::Complete,
            code_before_fixes: String::new(),
            loads_before_fixes: false,
            fixes: Vec::new(),
            code: String::new(),
            report,
        });
    }
}

/// Extract → validate → fix (→ the fixed file's report).
pub fn process_answer(
    raw: &str,
    end: AnswerEnd,
    version: AirflowVersion,
    fixes: Option<FixMode>,
) -> Attempt {
    let options = ValidateOptions { airflow_version: version };
    let code = extract_code(raw);
    let before = validate(&code, &options);
    let loads_before_fixes = before.loads;
    let (fixed, applied, report) = match fixes {
        Some(mode) if !before.loads || before.findings.iter().any(|f| f.autofix.is_some()) => {
            let outcome = fix_source(&code, &options, mode);
            (outcome.source, outcome.applied, outcome.report)
        }
        _ => (code.clone(), Vec::new(), before),
    };
    Attempt {
        raw: raw.to_string(),
        end,
        code_before_fixes: code,
        loads_before_fixes,
        fixes: applied,
        code: fixed,
        report,
    }
}
