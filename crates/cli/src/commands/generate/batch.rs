//! A dataset run: rows in, one output row per input row (in the order they finish), resumable.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};

use dagsmith_core::dataset;
use dagsmith_core::{AirflowVersion, VERSION};
use serde::Deserialize;
use serde_json::Value;

use super::progress::BatchProgress;
use super::record::{Params, RunRecord, generated_row, unusable_row};
use super::shard::Shard;
use super::summary::{Closing, Summary};
use super::task::Task;
use super::work::{Driver, Outcome, Request, Work};
use super::{BUILTIN_INPUT, BUILTIN_NAME, GenerateArgs, Settings, install_ctrlc, interrupted};
use crate::exit;
use crate::jsonl::ResumableJsonl;
use crate::output::error;

/// An input row waiting for its turn (its conversation is built when it starts: the API sheet
/// costs time and memory that thousands of waiting rows need not hold).
struct RowInput {
    line: usize,
    instruction: String,
    version: AirflowVersion,
    system: Option<String>,
    metadata: Value,
}

enum Slot {
    Waiting(RowInput),
    Running(Task),
    /// Written (or dropped): nothing kept.
    Done,
}

/// The part of an output row a rerun needs: which input line it answers and whether it loads.
#[derive(Deserialize)]
struct WrittenRow {
    #[serde(default)]
    metadata: Option<WrittenMetadata>,
}

#[derive(Deserialize)]
struct WrittenMetadata {
    #[serde(default)]
    dagsmith: Option<WrittenRecord>,
}

#[derive(Deserialize)]
struct WrittenRecord {
    #[serde(default)]
    row: Option<usize>,
    #[serde(default)]
    loads: Option<bool>,
}

struct Batch<'a> {
    settings: &'a Settings,
    slots: Vec<Slot>,
    /// Slots waiting for an answer; repair rounds go to the front.
    queue: VecDeque<usize>,
    out: ResumableJsonl,
    run: RunRecord,
    progress: BatchProgress,
    summary: Summary,
    /// Rows given up after every try failed (not written).
    dropped: usize,
    write_error: Option<String>,
}

pub fn run(driver: &mut Driver, settings: &Settings, shard: Option<Shard>) -> u8 {
    let args = &settings.args;
    let (input_name, bytes) = match read_input(args) {
        Ok(x) => x,
        Err(e) => {
            error(&e);
            return exit::ERROR;
        }
    };
    let out_path = args.output.clone().unwrap_or_else(|| default_output(args, shard));
    let mut done: HashMap<usize, bool> = HashMap::new();
    let seen = |r: WrittenRow| {
        if let Some(record) = r.metadata.and_then(|m| m.dagsmith)
            && let Some(row) = record.row
        {
            done.insert(row, record.loads == Some(true));
        }
    };
    let out = match ResumableJsonl::open(&out_path, seen) {
        Ok(out) => out,
        Err(e) => {
            error(&e);
            return exit::ERROR;
        }
    };

    let (inputs, bad_rows) = read_rows(&bytes, &input_name, settings, shard, &done);
    drop(bytes);
    let total = inputs.len();
    if !done.is_empty() && !args.quiet {
        eprintln!(
            "dagsmith: resuming {}: {} rows already done, {} to go",
            out_path.display(),
            done.len(),
            total + bad_rows.len()
        );
    }
    driver.fit_to(total, args.quiet);
    let run = run_record(driver, settings, input_name, shard);
    install_ctrlc();
    let mut batch = Batch {
        settings,
        queue: (0..total).collect(),
        slots: inputs.into_iter().map(Slot::Waiting).collect(),
        out,
        run,
        progress: BatchProgress::new(total, args.quiet),
        summary: Summary::default(),
        dropped: 0,
        write_error: None,
    };
    // Malformed rows are recorded (and reported) first; they never reach the model.
    for (line, message) in &bad_rows {
        error(message);
        append_to(
            &mut batch.out,
            &mut batch.write_error,
            &unusable_row(*line, message, &batch.run),
        );
    }
    let result = driver.drive(&mut batch);
    batch.progress.finish();
    let totals = match result {
        Ok(t) => t,
        Err(e) => {
            error(&e);
            return exit::ERROR;
        }
    };
    if let Some(e) = &batch.write_error {
        error(e);
        return exit::ERROR;
    }
    let interrupted = interrupted();
    if let Some(reason) = &totals.stopped_early {
        let left = batch.slots.iter().filter(|s| !matches!(s, Slot::Done)).count();
        error(&format!(
            "stopped: {reason}; {} rows written, {left} left: rerun to resume",
            batch.summary.rows
        ));
    }
    let parallelism = match driver {
        #[cfg(feature = "engine")]
        Driver::Local(l) => format!("{} parallel", l.parallel()),
        Driver::Remote(r) => match r.urls().len() {
            1 => "1 backend".to_string(),
            n => format!("{n} backends"),
        },
    };
    let closing = Closing {
        output: &out_path.display().to_string(),
        interrupted,
        bad_rows: bad_rows.len(),
        dropped: batch.dropped,
        repair: args.repair_rounds(),
        parallelism,
    };
    batch.summary.print(&closing, &totals);
    if interrupted || !bad_rows.is_empty() || batch.dropped > 0 || totals.stopped_early.is_some() {
        return exit::ERROR;
    }
    let already_failing = done.values().any(|loads| !loads);
    let all_load = batch.summary.pass_final == batch.summary.rows && !already_failing;
    if args.strict && !all_load { exit::NOT_LOADING } else { exit::OK }
}

/// The rows this run generates (within --limit, in its shard, not already done) and the
/// malformed ones, as (line, `FILE:LINE:COLUMN: message`).
fn read_rows(
    bytes: &[u8],
    input_name: &str,
    settings: &Settings,
    shard: Option<Shard>,
    done: &HashMap<usize, bool>,
) -> (Vec<RowInput>, Vec<(usize, String)>) {
    let args = &settings.args;
    let limit = args.limit.or(if args.test_run { Some(3) } else { None });
    let default_version = args.airflow_version.unwrap_or(AirflowVersion::DEFAULT);
    let mut inputs = Vec::new();
    let mut bad_rows = Vec::new();
    for dataset::RowLine { line, row } in dataset::rows(bytes).take(limit.unwrap_or(usize::MAX)) {
        let id = row.as_ref().ok().and_then(dataset::Row::id);
        if shard.is_some_and(|s| !s.contains(id.as_deref(), line)) || done.contains_key(&line) {
            continue;
        }
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                bad_rows.push((line, format!("{input_name}:{line}:{}: {}", e.column, e.message)));
                continue;
            }
        };
        let Some(instruction) = row.instruction().filter(|i| !i.trim().is_empty()) else {
            bad_rows.push((line, format!("{input_name}:{line}:1: the row has no user turn")));
            continue;
        };
        let version = match row.airflow_version() {
            Ok(v) => v.unwrap_or(default_version),
            Err(e) => {
                bad_rows.push((line, format!("{input_name}:{line}:1: {e}")));
                continue;
            }
        };
        inputs.push(RowInput {
            line,
            instruction: instruction.to_string(),
            version,
            system: args.system_prompt.clone().or_else(|| row.system().map(str::to_string)),
            metadata: row.metadata,
        });
    }
    (inputs, bad_rows)
}

fn run_record(
    driver: &Driver,
    settings: &Settings,
    input: String,
    shard: Option<Shard>,
) -> RunRecord {
    let args = &settings.args;
    let (model, backends, parallel, context) = match driver {
        #[cfg(feature = "engine")]
        Driver::Local(l) => (l.model_record(), None, Some(l.parallel() as u32), Some(args.ctx)),
        Driver::Remote(r) => (r.model_record(), Some(r.urls().to_vec()), args.parallel, None),
    };
    RunRecord {
        version: VERSION,
        input,
        model,
        backends,
        params: Params {
            sampling: settings.sampling.clone(),
            max_tokens: args.max_tokens,
            parallel,
            context_per_sequence: context,
            repair: args.repair_rounds(),
            fixes: args.fixes.name(),
            api_sheet: !args.no_api_sheet,
        },
        shard: shard.map(|s| s.to_string()),
    }
}

/// Writes a row unless an earlier write failed (the first failure is kept and reported).
fn append_to(
    out: &mut ResumableJsonl,
    write_error: &mut Option<String>,
    row: &impl serde::Serialize,
) {
    if write_error.is_none()
        && let Err(e) = out.append(row)
    {
        *write_error = Some(e);
    }
}

impl Batch<'_> {
    fn write_row(&mut self, index: usize) {
        let Slot::Running(task) = std::mem::replace(&mut self.slots[index], Slot::Done) else {
            return;
        };
        append_to(&mut self.out, &mut self.write_error, &generated_row(&task, &self.run));
        self.summary.add(&task);
        self.progress.row(task.loads());
    }
}

impl Work for Batch<'_> {
    fn next(&mut self) -> Option<Request> {
        if self.stopping() {
            return None;
        }
        let index = self.queue.pop_front()?;
        let slot = &mut self.slots[index];
        if matches!(slot, Slot::Waiting(_))
            && let Slot::Waiting(input) = std::mem::replace(slot, Slot::Done)
        {
            *slot = Slot::Running(Task::new(
                input.line,
                &input.instruction,
                input.version,
                input.system.as_deref(),
                self.settings.pipeline,
                input.metadata,
            ));
        }
        match slot {
            Slot::Running(task) => Some(Request::of(index, &task.conversation)),
            _ => None,
        }
    }

    fn has_queued(&self) -> bool {
        !self.queue.is_empty()
    }

    fn finished(&mut self, index: usize, outcome: Outcome) {
        let Slot::Running(task) = &mut self.slots[index] else { return };
        match &outcome {
            // Interrupted: not written, so a rerun generates it.
            Outcome::Dropped(None) => return,
            Outcome::Dropped(Some(reason)) => {
                let line = task.line;
                self.slots[index] = Slot::Done;
                self.dropped += 1;
                self.progress.println(&format!(
                    "dagsmith: warning: row {line} not generated: {reason} (not written; a rerun \
                     tries it again)"
                ));
                return;
            }
            Outcome::Answered(a) => {
                self.progress.tokens(u64::from(a.completion_tokens.unwrap_or(0)))
            }
            Outcome::Failed(_) => {}
        }
        if task.record(outcome) {
            self.queue.push_front(index);
        } else {
            self.write_row(index);
        }
    }

    fn stopping(&self) -> bool {
        self.write_error.is_some() || interrupted()
    }

    fn notice(&mut self, message: &str) {
        if !self.settings.args.quiet {
            self.progress.println(&format!("dagsmith: {message}"));
        }
    }

    fn tick(&mut self) {
        self.progress.tick();
    }
}

/// The input as (name, bytes).
fn read_input(args: &GenerateArgs) -> Result<(String, Vec<u8>), String> {
    match &args.input {
        None => Ok((BUILTIN_NAME.to_string(), BUILTIN_INPUT.as_bytes().to_vec())),
        Some(p) => std::fs::read(p)
            .map(|t| (p.display().to_string(), t))
            .map_err(|e| format!("cannot read {}: {e}", p.display())),
    }
}

fn default_output(args: &GenerateArgs, shard: Option<Shard>) -> PathBuf {
    let suffix = match shard {
        Some(s) => format!(".shard-{}-of-{}.out.jsonl", s.index, s.count),
        None => ".out.jsonl".to_string(),
    };
    if args.input.is_none() && Path::new("datasets").is_dir() {
        // In a dagsmith checkout: beside the instruction set (datasets/*.out.jsonl is ignored).
        return PathBuf::from(format!("datasets/instructions{suffix}"));
    }
    let stem = args
        .input
        .as_deref()
        .and_then(Path::file_stem)
        .map_or_else(|| "instructions".to_string(), |s| s.to_string_lossy().into_owned());
    PathBuf::from(format!("{stem}{suffix}"))
}
