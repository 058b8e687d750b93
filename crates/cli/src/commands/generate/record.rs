//! Output rows: the input's ChatML row with the generated code as the assistant turn, and
//! `metadata.dagsmith` telling how it was made (model or backends, parameters, every attempt).

use dagsmith_core::Finding;
use dagsmith_core::fix::AppliedFix;
use dagsmith_core::pipeline::Attempt;
use dagsmith_core::wire::SamplingParams;
use serde::Serialize;
use serde_json::Value;

use super::task::{Run, Task};
use super::work::Source;

/// What every row of a run shares.
#[derive(Clone, Debug, Serialize)]
pub struct RunRecord {
    /// dagsmith's version.
    pub version: &'static str,
    pub input: String,
    pub model: ModelRecord,
    /// The backends' URLs, for remote runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backends: Option<Vec<String>>,
    pub params: Params,
    /// `K/N` for a `--shard` run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
// `Local` is made by the engine only.
#[cfg_attr(not(feature = "engine"), allow(dead_code))]
pub enum ModelRecord {
    Local {
        file: String,
        name: Option<String>,
        sha256: Option<String>,
        parameters: u64,
    },
    /// `name`: `--model-name`; each attempt names the model that answered it.
    Remote {
        name: Option<String>,
    },
}

#[derive(Clone, Debug, Serialize)]
pub struct Params {
    pub sampling: SamplingParams,
    pub max_tokens: u32,
    /// Local: sequences at once; remote: requests per backend when given (else each
    /// backend's own).
    pub parallel: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_per_sequence: Option<u32>,
    pub repair: u32,
    pub fixes: &'static str,
    pub api_sheet: bool,
}

/// `metadata.dagsmith` of a generated row.
#[derive(Serialize)]
pub struct Generated<'a> {
    #[serde(flatten)]
    run: &'a RunRecord,
    row: usize,
    airflow_version: String,
    loads: bool,
    pass_at_1_raw: bool,
    pass_at_1: bool,
    repair_rounds: usize,
    attempts: Vec<AttemptRecord<'a>>,
}

/// `metadata.dagsmith` of an input row that could not be used.
#[derive(Serialize)]
pub struct Unusable<'a> {
    #[serde(flatten)]
    run: &'a RunRecord,
    row: usize,
    loads: bool,
    error: &'a str,
}

#[derive(Serialize)]
struct AttemptRecord<'a> {
    code: &'a str,
    loads: bool,
    findings: &'a [Finding],
    dags: usize,
    loads_before_fixes: bool,
    fixes: &'a [AppliedFix],
    #[serde(skip_serializing_if = "Option::is_none")]
    code_before_fixes: Option<&'a str>,
    /// A fresh start with a repetition penalty after a runaway answer.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    restarted: bool,
    #[serde(flatten)]
    answer: AnswerRecord<'a>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum AnswerRecord<'a> {
    Local {
        raw: &'a str,
        finish: &'a str,
        prompt_tokens: Option<u32>,
        completion_tokens: Option<u32>,
        prompt_ms: f64,
        generation_ms: f64,
        tokens_per_second: f64,
    },
    Remote {
        raw: &'a str,
        finish: &'a str,
        prompt_tokens: Option<u32>,
        completion_tokens: Option<u32>,
        backend: &'a str,
        model: &'a str,
        latency_ms: f64,
        first_token_ms: Option<f64>,
        tries: u32,
    },
    Failed {
        error: &'a str,
    },
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn attempt_record<'a>(a: &'a Attempt, run: &'a Run) -> AttemptRecord<'a> {
    let answer = match run {
        Run::Failed(error) => AnswerRecord::Failed { error },
        Run::Answered(x) => match &x.source {
            Source::Local { prompt_ms, generation_ms, tokens_per_second } => AnswerRecord::Local {
                raw: &a.raw,
                finish: &x.finish,
                prompt_tokens: x.prompt_tokens,
                completion_tokens: x.completion_tokens,
                prompt_ms: round(*prompt_ms),
                generation_ms: round(*generation_ms),
                tokens_per_second: round(*tokens_per_second),
            },
            Source::Remote { backend, model, latency_ms, first_token_ms, tries } => {
                AnswerRecord::Remote {
                    raw: &a.raw,
                    finish: &x.finish,
                    prompt_tokens: x.prompt_tokens,
                    completion_tokens: x.completion_tokens,
                    backend,
                    model,
                    latency_ms: round(*latency_ms),
                    first_token_ms: first_token_ms.map(round),
                    tries: *tries,
                }
            }
        },
    };
    AttemptRecord {
        code: &a.code,
        loads: a.report.loads,
        findings: &a.report.findings,
        dags: a.report.dags.len(),
        loads_before_fixes: a.loads_before_fixes,
        fixes: &a.fixes,
        code_before_fixes: (a.code_before_fixes != a.code).then_some(a.code_before_fixes.as_str()),
        restarted: a.restarted,
        answer,
    }
}

/// An output row, written as a dataset [`Row`](dagsmith_core::dataset::Row) reads it back
/// (`messages`, then `metadata`: the input's own keys and `dagsmith`), serialized straight from
/// the run's records: building a JSON value first and copying every string into it cost a
/// tenth of the client's work per DAG in a remote run.
#[derive(Serialize)]
pub struct OutputRow<'a, R: Serialize> {
    messages: Vec<Turn<'a>>,
    metadata: Metadata<'a, R>,
}

/// A message of an output row, borrowed from the conversation.
#[derive(Serialize)]
struct Turn<'a> {
    role: &'a str,
    content: &'a str,
}

/// The input row's metadata (when it is an object) with `dagsmith` set (replacing any
/// `dagsmith` the input had).
struct Metadata<'a, R> {
    input: &'a Value,
    dagsmith: R,
}

impl<R: Serialize> Serialize for Metadata<'_, R> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        if let Value::Object(input) = self.input {
            for (key, value) in input.iter().filter(|(k, _)| k.as_str() != "dagsmith") {
                map.serialize_entry(key, value)?;
            }
        }
        map.serialize_entry("dagsmith", &self.dagsmith)?;
        map.end()
    }
}

/// The output row of a task whose conversation is over.
pub fn generated_row<'a>(task: &'a Task, run: &'a RunRecord) -> OutputRow<'a, Generated<'a>> {
    let conversation = &task.conversation;
    let attempts = conversation.attempts();
    let first = attempts.first();
    // The row's conversation is the original one (system, user), answered by the final code.
    let mut messages: Vec<Turn> = conversation
        .messages()
        .iter()
        .take(2)
        .map(|m| Turn { role: &m.role, content: &m.content })
        .collect();
    messages.push(Turn { role: "assistant", content: attempts.last().map_or("", |a| &a.code) });
    let record = Generated {
        run,
        row: task.line,
        airflow_version: conversation.version().to_string(),
        loads: task.loads(),
        pass_at_1_raw: first.is_some_and(|a| a.loads_before_fixes),
        pass_at_1: first.is_some_and(|a| a.report.loads),
        repair_rounds: attempts.len().saturating_sub(1),
        attempts: attempts.iter().zip(&task.runs).map(|(a, r)| attempt_record(a, r)).collect(),
    };
    OutputRow { messages, metadata: Metadata { input: &task.metadata, dagsmith: record } }
}

/// The output row of an input row that could not be used (recorded with its error).
pub fn unusable_row<'a>(
    line: usize,
    error: &'a str,
    run: &'a RunRecord,
) -> OutputRow<'a, Unusable<'a>> {
    let record = Unusable { run, row: line, loads: false, error };
    OutputRow { messages: Vec::new(), metadata: Metadata { input: &Value::Null, dagsmith: record } }
}
