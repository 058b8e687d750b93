//! The generation pipeline shared by `dagsmith generate`, `POST /api/generate` and (through the
//! server) the playground: answer → extract code → fix → validate → a repair round only for what
//! the fixes could not solve.
//!
//! A small model does not reliably repair its own hallucinations, so dagsmith first applies what
//! the catalog knows ([`crate::fix`]); the model is asked again only for the rest, with the
//! findings phrased as concrete edits of quoted lines and, for names that do not exist, the real
//! classes' import lines. The previous answer goes back *fixed*, so the model never sees its own
//! wrong imports again. When all that is left is functions the file calls but never defines
//! (the commonest failure), the model is asked for those definitions only, and dagsmith puts
//! them into the file ([`crate::splice`]): asked for the whole file again, a small model
//! repeats it as it was.
//!
//! An answer stopped for repeating itself is not sent back: with its loop in the context, the
//! model writes the loop again. The conversation starts afresh instead, and that attempt is
//! sampled with a repetition penalty ([`Conversation::restart_penalty`]): greedy decoding of the same
//! prompt would run into the same loop.
//!
//! [`Conversation`] is a state machine without I/O: the caller runs the model on
//! [`Conversation::messages`] (and [`Conversation::restart_penalty`]) and hands each answer to
//! [`Conversation::record`].

use serde::Serialize;

use crate::api_sheet;
use crate::dataset::Message;
use crate::extract::extract_code;
use crate::fix::{AppliedFix, FixMode, fix_source_from};
use crate::wire::SamplingParams;
use crate::{AirflowVersion, Report, ValidateOptions, prompt, splice, validate};

/// The repetition penalty of the fresh start after a runaway answer (over the sampler's last
/// `repeat_last_n` tokens): llama.cpp's long-standing default, mild enough for code, whose
/// keywords and indentation repeat by nature.
pub const RESTART_REPEAT_PENALTY: f32 = 1.1;

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
    /// This attempt started the conversation afresh, with a repetition penalty, after the
    /// previous answer had been stopped for repeating itself.
    pub restarted: bool,
}

/// What the last user turn asked the model for.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Asked {
    /// A whole DAG file.
    File,
    /// Only the definitions of these names, for the previous attempt's file.
    Definitions(Vec<String>),
}

/// One request's conversation with the model, its attempts and the next messages to send.
#[derive(Clone, Debug)]
pub struct Conversation {
    version: AirflowVersion,
    options: Options,
    messages: Vec<Message>,
    /// How many of `messages` are the first turns (system prompt and request).
    first_turns: usize,
    attempts: Vec<Attempt>,
    asked: Asked,
    /// The next attempt is a fresh start after a runaway answer.
    restart: bool,
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
        Conversation {
            version,
            options,
            first_turns: messages.len(),
            messages,
            attempts: Vec::new(),
            asked: Asked::File,
            restart: false,
        }
    }

    /// The conversation to send to the model next.
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// The repetition penalty the next attempt needs beyond the user's sampling, if any: a
    /// fresh start after a runaway answer (apply it with [`with_repeat_penalty`]).
    pub fn restart_penalty(&self) -> Option<f32> {
        self.restart.then_some(RESTART_REPEAT_PENALTY)
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
        let code = extract_code(raw);
        // An answer to "define these" completes the previous file; one without the
        // definitions is taken as it is (the model may have written the whole file).
        let code = match (&self.asked, self.attempts.last()) {
            (Asked::Definitions(names), Some(previous)) => {
                splice::insert_definitions(&previous.code, &code, names).unwrap_or(code)
            }
            _ => code,
        };
        let mut attempt = process_code(raw, code, end, self.version, self.options.fixes);
        attempt.restarted = self.restart;
        let loads = attempt.report.loads;
        self.attempts.push(attempt);
        let again = !loads && self.attempts.len() <= self.options.repair_rounds as usize;
        // A fresh start once: if that loops too, the repair turn below gets the rest.
        self.restart =
            again && end == AnswerEnd::Repetition && !self.attempts.iter().any(|a| a.restarted);
        if self.restart {
            self.messages.truncate(self.first_turns);
            self.asked = Asked::File;
        } else if again {
            let last = self.attempts.last().expect("just pushed");
            let (asked, turn) = match splice::missing_names(&last.report) {
                Some(names) if end == AnswerEnd::Complete => {
                    let turn = prompt::definitions_turn(&last.code, &names, self.version);
                    (Asked::Definitions(names), turn)
                }
                _ => {
                    let turn = prompt::repair_turn_for(&last.code, &last.report, self.version, end);
                    (Asked::File, turn)
                }
            };
            self.messages.push(Message {
                role: "assistant".into(),
                content: format!("```python\n{}\n```", last.code.trim_end()),
            });
            self.messages.push(Message { role: "user".into(), content: turn });
            self.asked = asked;
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
            restarted: self.restart,
        });
    }
}

/// `base` with a repetition penalty of at least `penalty` (none: `base` as it is).
pub fn with_repeat_penalty(base: &SamplingParams, penalty: Option<f32>) -> SamplingParams {
    let mut params = base.clone();
    if let Some(penalty) = penalty {
        params.repeat_penalty = params.repeat_penalty.max(penalty);
        if params.repeat_last_n == 0 {
            params.repeat_last_n = SamplingParams::default().repeat_last_n;
        }
    }
    params
}

/// Extract → validate → fix (→ the fixed file's report).
pub fn process_answer(
    raw: &str,
    end: AnswerEnd,
    version: AirflowVersion,
    fixes: Option<FixMode>,
) -> Attempt {
    process_code(raw, extract_code(raw), end, version, fixes)
}

/// [`process_answer`] for code already taken out of the answer `raw`.
fn process_code(
    raw: &str,
    code: String,
    end: AnswerEnd,
    version: AirflowVersion,
    fixes: Option<FixMode>,
) -> Attempt {
    let options = ValidateOptions { airflow_version: version };
    let before = validate(&code, &options);
    let loads_before_fixes = before.loads;
    let (fixed, applied, report) = match fixes {
        Some(mode) if !before.loads || before.findings.iter().any(|f| f.autofix.is_some()) => {
            // The fixes start from this report rather than validating the same code again.
            let outcome = fix_source_from(&code, before, &options, mode);
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
        restarted: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNDEFINED_CALLABLE: &str = r#"```python
from datetime import datetime

from airflow.operators.python_operator import PythonOperator
from airflow.sdk import DAG

with DAG(dag_id="rates", start_date=datetime(2024, 1, 1), schedule_interval="@daily") as dag:
    fetch_rates = PythonOperator(task_id="fetch_rates", python_callable=fetch_rates)
```"#;

    fn conversation(repair_rounds: u32) -> Conversation {
        let options = Options { repair_rounds, ..Options::default() };
        Conversation::new("Fetch exchange rates daily.", "3.1".parse().unwrap(), None, options)
    }

    #[test]
    fn fixes_first_then_only_the_missing_definitions_are_asked_for() {
        let mut c = conversation(2);
        assert_eq!(c.messages().len(), 2);
        assert!(c.record(UNDEFINED_CALLABLE, AnswerEnd::Complete));
        let first = &c.attempts()[0];
        // The fixes made the old import path and `schedule_interval` right; the callable is left.
        assert!(!first.loads_before_fixes && !first.report.loads);
        assert!(
            first.code.contains("airflow.providers.standard.operators.python"),
            "{}",
            first.code
        );
        assert!(first.code.contains("schedule=\"@daily\""), "{}", first.code);
        // The model sees its file as fixed, then is asked for the function alone.
        let messages = c.messages();
        assert_eq!(messages.len(), 4);
        assert!(messages[2].content.contains("airflow.providers.standard.operators.python"));
        assert!(messages[3].content.contains("`fetch_rates`"), "{}", messages[3].content);
        assert!(messages[3].content.contains("Do not repeat the DAG"), "{}", messages[3].content);

        let answer = "```python\nimport json\n\ndef fetch_rates(**context):\n    \
                      return json.dumps({\"EUR\": 1.0})\n```";
        assert!(!c.record(answer, AnswerEnd::Complete));
        let last = c.last().unwrap();
        assert!(last.report.loads, "{}\n{:?}", last.code, last.report.findings);
        assert!(last.code.contains("def fetch_rates(**context):"));
        assert_eq!(last.code.matches("with DAG").count(), 1);
    }

    #[test]
    fn an_answer_that_is_a_whole_file_again_is_taken_as_a_file() {
        let mut c = conversation(1);
        assert!(c.record(UNDEFINED_CALLABLE, AnswerEnd::Complete));
        // Without the definition: validated as it is, and the rounds are over.
        assert!(!c.record(UNDEFINED_CALLABLE, AnswerEnd::Complete));
        assert_eq!(c.attempts().len(), 2);
        assert!(!c.last().unwrap().report.loads);
    }

    #[test]
    fn other_failures_get_the_whole_file_repair_turn() {
        let mut c = conversation(1);
        let broken =
            "```python\nfrom airflow.sdk import DAG\nwith DAG(dag_id='x' as dag:\n    pass\n```";
        assert!(c.record(broken, AnswerEnd::Complete));
        let turn = &c.messages()[3].content;
        assert!(turn.contains("Answer with the complete corrected file"), "{turn}");
    }

    #[test]
    fn a_runaway_answer_starts_afresh_once_with_a_repetition_penalty() {
        let mut c = conversation(3);
        let base = SamplingParams::default();
        let sampling = |c: &Conversation, base: &SamplingParams| {
            with_repeat_penalty(base, c.restart_penalty())
        };
        assert_eq!(sampling(&c, &base), base);
        assert_eq!(c.restart_penalty(), None);
        let first = c.messages().to_vec();
        let looping = "```python\nfrom airflow.sdk import DAG\nfrom airflow.sdk import DAG\n";
        assert!(c.record(looping, AnswerEnd::Repetition));
        // The loop is not sent back: the first turns again, sampled with a penalty.
        assert_eq!(c.messages(), &first[..]);
        assert_eq!(sampling(&c, &base).repeat_penalty, RESTART_REPEAT_PENALTY);
        assert_eq!(c.restart_penalty(), Some(RESTART_REPEAT_PENALTY));
        // A user's stronger penalty is kept.
        let strong = SamplingParams { repeat_penalty: 1.3, ..base.clone() };
        assert_eq!(sampling(&c, &strong).repeat_penalty, 1.3);
        // The fresh start loops as well: the next round is a repair turn, without the penalty.
        assert!(c.record(looping, AnswerEnd::Repetition));
        assert!(c.attempts()[1].restarted && !c.attempts()[0].restarted);
        assert_eq!(c.messages().len(), 4);
        assert!(c.messages()[3].content.contains("kept repeating itself"));
        assert_eq!(sampling(&c, &base), base);
        assert_eq!(c.restart_penalty(), None);
    }
}
