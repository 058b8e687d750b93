//! Output rows: the input's ChatML row with the generated code as the assistant turn, and
//! `metadata.dagsmith` telling how it was made (model or backends, parameters, every attempt).

use dagsmith_core::Finding;
use dagsmith_core::dataset::{Message, Row};
use dagsmith_core::fix::AppliedFix;
use dagsmith_core::pipeline::Attempt;
use dagsmith_engine::SamplingParams;
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
struct Generated<'a> {
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
struct Unusable<'a> {
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

/// The output row of a task whose conversation is over.
pub fn generated_row(task: &Task, run: &RunRecord) -> Row {
    let conversation = &task.conversation;
    let attempts = conversation.attempts();
    let first = attempts.first();
    // The row's conversation is the original one (system, user), answered by the final code.
    let mut messages: Vec<Message> = conversation.messages().iter().take(2).cloned().collect();
    messages.push(Message {
        role: "assistant".into(),
        content: attempts.last().map_or(String::new(), |a| a.code.clone()),
    });
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
    Row { messages, metadata: with_dagsmith(&task.metadata, &record) }
}

/// The output row of an input row that could not be used (recorded with its error).
pub fn unusable_row(line: usize, error: &str, run: &RunRecord) -> Row {
    let record = Unusable { run, row: line, loads: false, error };
    Row { messages: Vec::new(), metadata: with_dagsmith(&Value::Null, &record) }
}

/// The input row's metadata (an object, else none) with `dagsmith` set.
fn with_dagsmith(input: &Value, record: &impl Serialize) -> Value {
    let mut metadata = match input {
        Value::Object(m) => m.clone(),
        _ => serde_json::Map::new(),
    };
    metadata.insert("dagsmith".into(), serde_json::to_value(record).expect("records serialize"));
    Value::Object(metadata)
}
