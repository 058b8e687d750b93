//! `dagsmith generate`: DAGs from instructions with the local model, validated as they come.
//!
//! Batch mode reads an airflow-net ChatML JSONL file (default: the project's own instruction
//! set) and appends one output row per input row, in the order they finish, each with
//! `metadata.dagsmith.row` = the input line. Rerunning with the same output skips the rows already
//! there; Ctrl-C stops cleanly (a second Ctrl-C at once), leaving only whole rows in the file.

use std::collections::{HashMap, VecDeque};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, IsTerminal, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use clap::Args;
use dagsmith_core::AirflowVersion;
use dagsmith_core::dataset::parse_row;
use dagsmith_core::fix::FixMode;
use dagsmith_core::pipeline::{self, AnswerEnd, Conversation};
use dagsmith_engine::{
    BatchOptions, Completion, Engine, FinishReason, Flow, GenerationRequest, JobId, Jobs,
    ModelOptions, Progress as TokenProgress, RequestError, SamplingParams, default_model_path,
};
use serde_json::{Value, json};

use crate::exit;
use crate::output::error;
use crate::progress::Progress;

/// The project's own instruction set, built in so that `dagsmith generate` works anywhere.
pub const BUILTIN_INPUT: &str = include_str!("../../../datasets/instructions.jsonl");
const BUILTIN_NAME: &str = "datasets/instructions.jsonl";

pub const EXAMPLES: &str = "\
Examples:
  dagsmith generate --instruction \"Daily ETL from S3 to Postgres\" --airflow-version 2.9
  dagsmith generate --test-run                     3 rows of the built-in instruction set
  dagsmith generate --input rows.jsonl --output out.jsonl --parallel 8 --repair 2
  dagsmith generate --input rows.jsonl --output out.jsonl    (again: resumes)

Output rows keep the input's ChatML format, the assistant turn being the generated code, plus
metadata.dagsmith: model and sha256, parameters, timings, token counts, every attempt and its
validation (loads, findings). Exit status: 0 all generated DAGs are predicted to load, 1 some
are not, 2 usage or I/O error.";

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// GGUF model [default: the default model in the models directory; `dagsmith model fetch`].
    #[arg(long, short = 'm', value_name = "FILE")]
    pub model: Option<PathBuf>,

    /// One instruction: generate one DAG and print its code to standard output.
    #[arg(long, short = 'i', value_name = "TEXT", conflicts_with = "input")]
    pub instruction: Option<String>,

    /// ChatML JSONL dataset of instructions [default: the built-in instruction set].
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,

    /// Output JSONL (appended to; rows already there are skipped) [default: INPUT's name with
    /// .out.jsonl in the current directory; datasets/instructions.out.jsonl for the built-in set
    /// in a dagsmith checkout].
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Target Airflow version: for --instruction, and for rows that name none [default: 3.1].
    #[arg(long, short = 'a', value_name = "VERSION")]
    pub airflow_version: Option<AirflowVersion>,

    /// Sequences generated at once (continuous batching in one context).
    #[arg(long, short = 'p', default_value_t = 4, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub parallel: u32,

    /// New tokens per answer at most.
    #[arg(long, default_value_t = 2048, value_name = "N")]
    pub max_tokens: u32,

    /// Only the first N rows of the input.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,

    /// A quick trial: the first 3 rows (unless --limit says otherwise).
    #[arg(long)]
    pub test_run: bool,

    /// Repair rounds: when the fixed code still does not load, send the remaining findings back
    /// and regenerate, up to K times.
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub repair: u32,

    /// Fixes applied to every answer before it is validated: `all` (also the unsafe ones, which
    /// guess what was meant, e.g. a misspelt class's real name), `safe`, or `none` (the raw
    /// model).
    #[arg(long, value_enum, default_value_t = Fixes::All)]
    pub fixes: Fixes,

    /// No API sheet (the catalog's imports and required arguments of the operators that fit
    /// the request) in the system prompt.
    #[arg(long)]
    pub no_api_sheet: bool,

    /// Sampling temperature (0 = greedy, the default: reproducible).
    #[arg(long, default_value_t = 0.0)]
    pub temperature: f32,
    #[arg(long, default_value_t = 1.0)]
    pub top_p: f32,
    /// 0 = off.
    #[arg(long, default_value_t = 40)]
    pub top_k: i32,
    /// 0 = off.
    #[arg(long, default_value_t = 0.0)]
    pub min_p: f32,
    /// 1 = off.
    #[arg(long, default_value_t = 1.0)]
    pub repeat_penalty: f32,
    #[arg(long, default_value_t = 42)]
    pub seed: u32,

    /// System prompt instead of the default one (and of the rows' own).
    #[arg(long, value_name = "TEXT")]
    pub system_prompt: Option<String>,

    /// CPU threads [default: physical cores].
    #[arg(long, short = 't', value_name = "N")]
    pub threads: Option<usize>,

    /// Context tokens per sequence (prompt + answer, repair turns included).
    #[arg(long, default_value_t = 4096, value_name = "N")]
    pub ctx: u32,

    /// GPU layers to offload [default: all with a GPU build, else 0].
    #[arg(long, value_name = "N")]
    pub gpu_layers: Option<u32>,

    /// No progress bar, no streamed text; just the result.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// `--fixes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Fixes {
    All,
    Safe,
    None,
}

impl Fixes {
    fn mode(self) -> Option<FixMode> {
        match self {
            Fixes::All => Some(FixMode::SafeAndUnsafe),
            Fixes::Safe => Some(FixMode::Safe),
            Fixes::None => None,
        }
    }
}

pub fn run(args: GenerateArgs) -> u8 {
    let sampling = SamplingParams {
        temperature: args.temperature,
        top_p: args.top_p,
        top_k: args.top_k,
        min_p: args.min_p,
        repeat_penalty: args.repeat_penalty,
        seed: args.seed,
        ..SamplingParams::default()
    };
    if let Err(e) = sampling.check() {
        error(&e);
        return exit::ERROR;
    }
    if args.max_tokens == 0 {
        error("--max-tokens must be at least 1");
        return exit::ERROR;
    }
    let model_path = args.model.clone().unwrap_or_else(default_model_path);
    if !model_path.is_file() {
        error(&format!(
            "model {} not found: run `dagsmith model fetch` (or pass --model FILE.gguf)",
            model_path.display()
        ));
        return exit::ERROR;
    }
    let loading = Instant::now();
    let engine = match Engine::load(&model_path, &ModelOptions { gpu_layers: args.gpu_layers }) {
        Ok(e) => e,
        Err(e) => {
            error(&e.to_string());
            return exit::ERROR;
        }
    };
    if !args.quiet {
        eprintln!(
            "dagsmith: loaded {} ({:.2}B parameters) in {:.1} s",
            engine.info().file,
            engine.info().parameters as f64 / 1e9,
            loading.elapsed().as_secs_f64()
        );
    }
    let batch = BatchOptions {
        parallel: args.parallel as usize,
        context_per_sequence: args.ctx,
        batch_tokens: 512,
        threads: args.threads,
        ..BatchOptions::default()
    };
    let settings = Settings { sampling, batch, args };
    if let Some(instruction) = settings.args.instruction.clone() {
        run_single(&engine, &settings, &instruction)
    } else {
        run_batch(&engine, &settings, &model_path)
    }
}

struct Settings {
    sampling: SamplingParams,
    batch: BatchOptions,
    args: GenerateArgs,
}

/// One row's work: its conversation with the model (attempts included) and, per attempt, what
/// the engine reported.
struct Task {
    /// 1-based input line.
    line: usize,
    conversation: Conversation,
    metadata: Value,
    /// Parallel to the conversation's attempts.
    runs: Vec<Run>,
}

/// The engine's side of one attempt.
enum Run {
    Completed(Completion),
    Failed(String),
}

impl Task {
    fn new(
        line: usize,
        instruction: &str,
        version: AirflowVersion,
        system: Option<&str>,
        settings: &Settings,
        metadata: Value,
    ) -> Task {
        let options = pipeline::Options {
            repair_rounds: settings.args.repair,
            fixes: settings.args.fixes.mode(),
            api_sheet: !settings.args.no_api_sheet,
        };
        Task {
            line,
            conversation: Conversation::new(instruction, version, system, options),
            metadata,
            runs: Vec::new(),
        }
    }

    fn attempts_json(&self) -> Vec<Value> {
        let attempts = self.conversation.attempts();
        attempts.iter().zip(&self.runs).map(|(a, run)| attempt_json(a, run)).collect()
    }

    fn failed(&self) -> bool {
        self.runs.iter().any(|r| matches!(r, Run::Failed(_)))
    }

    /// The final attempt loads (as dagsmith predicts) and nothing failed.
    fn loads(&self) -> bool {
        !self.failed() && self.conversation.last().is_some_and(|a| a.report.loads)
    }
}

fn attempt_json(a: &pipeline::Attempt, run: &Run) -> Value {
    let mut v = json!({
        "code": a.code,
        "loads": a.report.loads,
        "findings": a.report.findings,
        "dags": a.report.dags.len(),
        "loads_before_fixes": a.loads_before_fixes,
        "fixes": a.fixes,
    });
    if a.code_before_fixes != a.code {
        v["code_before_fixes"] = json!(a.code_before_fixes);
    }
    match run {
        Run::Completed(c) => {
            v["raw"] = json!(a.raw);
            v["finish"] = json!(c.finish.as_str());
            v["prompt_tokens"] = json!(c.prompt_tokens);
            v["completion_tokens"] = json!(c.completion_tokens);
            v["prompt_ms"] = json!(round(c.prompt_ms));
            v["generation_ms"] = json!(round(c.generation_ms));
            v["tokens_per_second"] = json!(round(c.tokens_per_second()));
        }
        Run::Failed(e) => v["error"] = json!(e),
    }
    v
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn request_for(task: &Task, settings: &Settings) -> GenerationRequest {
    GenerationRequest {
        sampling: settings.sampling.clone(),
        ..GenerationRequest::new(task.conversation.messages().to_vec(), settings.args.max_tokens)
    }
}

/// How an answer ended, for the pipeline.
fn answer_end(c: &Completion) -> AnswerEnd {
    match c.finish {
        FinishReason::Length => AnswerEnd::Length,
        FinishReason::Repetition => AnswerEnd::Repetition,
        FinishReason::Stop | FinishReason::Cancelled => AnswerEnd::Complete,
    }
}

/// Turns a finished request into an attempt; true when another repair round is due.
fn record(task: &mut Task, result: Result<Completion, RequestError>) -> bool {
    match result {
        Ok(c) => {
            let again = task.conversation.record(&c.text, answer_end(&c));
            task.runs.push(Run::Completed(c));
            again
        }
        Err(e) => {
            task.conversation.record_failure();
            task.runs.push(Run::Failed(e.to_string()));
            false
        }
    }
}

fn print_findings(report: &dagsmith_core::Report) {
    for f in &report.findings {
        eprintln!("  {}:{}: {} {} {}", f.line, f.column, f.severity.as_str(), f.code, f.message);
    }
}

fn run_single(engine: &Engine, settings: &Settings, instruction: &str) -> u8 {
    let version = settings.args.airflow_version.unwrap_or(AirflowVersion::DEFAULT);
    let mut task = Task::new(
        0,
        instruction,
        version,
        settings.args.system_prompt.as_deref(),
        settings,
        Value::Null,
    );
    struct Single {
        pending: Option<GenerationRequest>,
        result: Option<Result<Completion, RequestError>>,
        stream: bool,
    }
    impl Jobs for Single {
        fn next(&mut self, _idle: bool) -> Option<(JobId, GenerationRequest)> {
            self.pending.take().map(|r| (0, r))
        }
        fn text(&mut self, _: JobId, text: &str, _: TokenProgress) -> Flow {
            if self.stream {
                let _ = io::stderr().write_all(text.as_bytes());
            }
            if INTERRUPTED.load(Ordering::SeqCst) { Flow::Stop } else { Flow::Continue }
        }
        fn finished(&mut self, _: JobId, result: Result<Completion, RequestError>) {
            self.result = Some(result);
        }
    }
    install_ctrlc();
    let stream = !settings.args.quiet && io::stderr().is_terminal();
    loop {
        let attempt = task.runs.len();
        if !settings.args.quiet {
            eprintln!(
                "dagsmith: {} (Airflow {version})",
                if attempt == 0 {
                    "generating".to_string()
                } else {
                    format!("repair round {attempt}")
                }
            );
        }
        let mut single =
            Single { pending: Some(request_for(&task, settings)), result: None, stream };
        if let Err(e) = engine.run(&settings.batch, &mut single) {
            error(&e.to_string());
            return exit::ERROR;
        }
        if stream {
            eprintln!();
        }
        let result = single.result.expect("the request finished");
        if let Ok(c) = &result
            && c.finish == dagsmith_engine::FinishReason::Cancelled
        {
            error("interrupted");
            return exit::ERROR;
        }
        let again = record(&mut task, result);
        let c = match task.runs.last().expect("recorded") {
            Run::Failed(e) => {
                error(e);
                return exit::ERROR;
            }
            Run::Completed(c) => c,
        };
        let last = task.conversation.last().expect("recorded");
        if !settings.args.quiet {
            eprintln!(
                "dagsmith: {} tokens in {:.1} s ({:.1} tok/s, prompt {} tokens){}; {}",
                c.completion_tokens,
                (c.prompt_ms + c.generation_ms) / 1000.0,
                c.tokens_per_second(),
                c.prompt_tokens,
                match answer_end(c) {
                    AnswerEnd::Complete => "",
                    AnswerEnd::Length => ", cut off at --max-tokens",
                    AnswerEnd::Repetition => ", stopped: it kept repeating itself",
                },
                if last.report.loads {
                    "Airflow would load it"
                } else {
                    "Airflow would NOT load it"
                }
            );
            for f in &last.fixes {
                eprintln!("  fixed (line {}): {} [{}]", f.line, f.message, f.code);
            }
            print_findings(&last.report);
        }
        if !again {
            break;
        }
    }
    let last = task.conversation.last().expect("at least one attempt");
    print!("{}", last.code);
    if !last.code.ends_with('\n') {
        println!();
    }
    if last.report.loads { exit::OK } else { exit::NOT_LOADING }
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static SIGNALS: AtomicUsize = AtomicUsize::new(0);

fn install_ctrlc() {
    // A first Ctrl-C finishes cleanly (running rows are dropped, written rows stay); a second
    // one exits at once. Either way the output holds only whole rows.
    let _ = ctrlc::set_handler(|| {
        if SIGNALS.fetch_add(1, Ordering::SeqCst) > 0 {
            std::process::exit(130);
        }
        INTERRUPTED.store(true, Ordering::SeqCst);
        eprintln!("\ndagsmith: interrupted: finishing up (Ctrl-C again to quit now)");
    });
}

/// The input as (name, text).
fn read_input(args: &GenerateArgs) -> Result<(String, String), String> {
    match &args.input {
        None => Ok((BUILTIN_NAME.to_string(), BUILTIN_INPUT.to_string())),
        Some(p) => fs::read_to_string(p)
            .map(|t| (p.display().to_string(), t))
            .map_err(|e| format!("cannot read {}: {e}", p.display())),
    }
}

fn default_output(args: &GenerateArgs) -> PathBuf {
    if args.input.is_none() && Path::new("datasets").is_dir() {
        // In a dagsmith checkout: beside the instruction set (datasets/*.out.jsonl is ignored).
        return PathBuf::from("datasets/instructions.out.jsonl");
    }
    let stem = args
        .input
        .as_deref()
        .and_then(Path::file_stem)
        .map_or_else(|| "instructions".to_string(), |s| s.to_string_lossy().into_owned());
    PathBuf::from(format!("{stem}.out.jsonl"))
}

/// Rows already in the output (by input line), after cutting a torn last line.
fn resume_state(path: &Path) -> Result<HashMap<usize, bool>, String> {
    let mut done = HashMap::new();
    let Ok(file) = File::open(path) else { return Ok(done) };
    let mut reader = BufReader::new(file);
    let mut good_len = 0u64;
    let mut line = String::new();
    loop {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if n == 0 {
            break;
        }
        let complete = line.ends_with('\n');
        let parsed: Option<Value> = serde_json::from_str(line.trim_end()).ok();
        match (complete, parsed) {
            (true, Some(v)) => {
                if let Some(row) = v["metadata"]["dagsmith"]["row"].as_u64() {
                    done.insert(row as usize, v["metadata"]["dagsmith"]["loads"] == json!(true));
                }
                good_len += n as u64;
            }
            (true, None) if line.trim().is_empty() => good_len += n as u64,
            _ => {
                // A torn write (killed mid-line): drop it; that row is generated again.
                eprintln!(
                    "dagsmith: {}: dropping an incomplete last line (from an interrupted run)",
                    path.display()
                );
                let f = OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
                f.set_len(good_len)
                    .map_err(|e| format!("cannot truncate {}: {e}", path.display()))?;
                break;
            }
        }
    }
    Ok(done)
}

/// sha256 of the model, cached beside it (`<model>.sha256`, with size and mtime) because hashing
/// a 1 GB file on every run costs seconds.
fn model_sha256(path: &Path) -> Option<String> {
    let meta = fs::metadata(path).ok()?;
    let stamp = format!(
        "{} {}",
        meta.len(),
        meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs()
    );
    let mut cache = path.as_os_str().to_owned();
    cache.push(".sha256");
    let cache = PathBuf::from(cache);
    if let Ok(text) = fs::read_to_string(&cache)
        && let Some((digest, s)) = text.trim().split_once(' ')
        && s == stamp
    {
        return Some(digest.to_string());
    }
    let digest = crate::fetch::sha256_file(path, "hashing model").ok()?;
    let _ = fs::write(&cache, format!("{digest} {stamp}\n"));
    Some(digest)
}

struct BatchJobs<'a> {
    settings: &'a Settings,
    tasks: Vec<Task>,
    /// Tasks (by index) waiting for a slot; repair rounds go to the front.
    queue: VecDeque<usize>,
    out: File,
    out_path: &'a Path,
    common: Value,
    progress: Progress,
    started: Instant,
    tokens: u64,
    rows_done: usize,
    write_error: Option<String>,
    stats: Summary,
}

#[derive(Default)]
struct Summary {
    rows: usize,
    failed_rows: usize,
    /// The first answer loads as the model wrote it / after dagsmith's fixes.
    pass_at_1_raw: usize,
    pass_at_1: usize,
    pass_final: usize,
    /// Fixes applied, over all attempts.
    fixes: usize,
    /// Answers stopped because they kept repeating themselves.
    runaway: usize,
    finding_counts: HashMap<&'static str, usize>,
    prompt_tokens: u64,
    completion_tokens: u64,
}

impl BatchJobs<'_> {
    fn write_row(&mut self, index: usize) {
        let task = &self.tasks[index];
        let attempts = task.conversation.attempts();
        let last = attempts.last();
        let first = attempts.first();
        let loads = task.loads();
        let mut messages: Vec<Value> = task
            .conversation
            .messages()
            .iter()
            .take(2)
            .map(|m| json!({"role": m.role, "content": m.content}))
            .collect();
        messages
            .push(json!({"role": "assistant", "content": last.map_or("", |a| a.code.as_str())}));
        let mut metadata = match &task.metadata {
            Value::Object(m) => Value::Object(m.clone()),
            _ => json!({}),
        };
        let pass_at_1_raw = first.is_some_and(|a| a.loads_before_fixes);
        let pass_at_1 = first.is_some_and(|a| a.report.loads);
        let mut ds = self.common.clone();
        ds["row"] = json!(task.line);
        ds["airflow_version"] = json!(task.conversation.version().to_string());
        ds["loads"] = json!(loads);
        ds["pass_at_1_raw"] = json!(pass_at_1_raw);
        ds["pass_at_1"] = json!(pass_at_1);
        ds["repair_rounds"] = json!(attempts.len().saturating_sub(1));
        ds["attempts"] = Value::Array(task.attempts_json());
        metadata["dagsmith"] = ds;
        let row = json!({"messages": messages, "metadata": metadata});
        let failed = task.failed();
        let errors: Vec<&'static str> =
            last.map(|a| a.report.errors().map(|f| f.code).collect()).unwrap_or_default();
        let (prompt_tokens, completion_tokens, runaway) =
            task.runs.iter().fold((0, 0, 0), |(p, c, r), run| match run {
                Run::Completed(x) => (
                    p + x.prompt_tokens as u64,
                    c + x.completion_tokens as u64,
                    r + usize::from(answer_end(x) == AnswerEnd::Repetition),
                ),
                Run::Failed(_) => (p, c, r),
            });
        let fixes: usize = attempts.iter().map(|a| a.fixes.len()).sum();

        self.append(&row);
        let stats = &mut self.stats;
        stats.rows += 1;
        stats.failed_rows += failed as usize;
        stats.pass_at_1_raw += pass_at_1_raw as usize;
        stats.pass_at_1 += pass_at_1 as usize;
        stats.fixes += fixes;
        stats.runaway += runaway;
        stats.pass_final += loads as usize;
        for code in errors {
            *stats.finding_counts.entry(code).or_default() += 1;
        }
        stats.prompt_tokens += prompt_tokens;
        stats.completion_tokens += completion_tokens;
        self.rows_done += 1;
        self.progress.inc(1);
        let secs = self.started.elapsed().as_secs_f64().max(1e-9);
        self.progress.message(format!(
            "{:.2} DAGs/s {:.1} tok/s, loads {}/{}",
            self.rows_done as f64 / secs,
            self.tokens as f64 / secs,
            self.stats.pass_final,
            self.stats.rows
        ));
    }

    /// One whole line per write: an interrupted run leaves whole rows (or a torn last line that
    /// the next run drops).
    fn append(&mut self, row: &Value) {
        if self.write_error.is_some() {
            return;
        }
        let mut line = serde_json::to_string(row).expect("serializable");
        line.push('\n');
        if let Err(e) = self.out.write_all(line.as_bytes()).and_then(|()| self.out.flush()) {
            self.write_error = Some(format!("cannot write {}: {e}", self.out_path.display()));
            INTERRUPTED.store(true, Ordering::SeqCst);
        }
    }
}

impl Jobs for BatchJobs<'_> {
    fn next(&mut self, _idle: bool) -> Option<(JobId, GenerationRequest)> {
        if INTERRUPTED.load(Ordering::SeqCst) {
            return None;
        }
        let index = self.queue.pop_front()?;
        Some((index as JobId, request_for(&self.tasks[index], self.settings)))
    }

    fn text(&mut self, _: JobId, _: &str, _: TokenProgress) -> Flow {
        self.tokens += 1;
        Flow::Continue
    }

    fn poll(&mut self, _: JobId) -> Flow {
        if INTERRUPTED.load(Ordering::SeqCst) { Flow::Stop } else { Flow::Continue }
    }

    fn finished(&mut self, id: JobId, result: Result<Completion, RequestError>) {
        let index = id as usize;
        if let Ok(c) = &result
            && c.finish == dagsmith_engine::FinishReason::Cancelled
        {
            return; // Interrupted: not written, so a rerun generates it.
        }
        let again = record(&mut self.tasks[index], result);
        if again {
            self.queue.push_front(index);
        } else {
            self.write_row(index);
        }
    }
}

fn run_batch(engine: &Engine, settings: &Settings, model_path: &Path) -> u8 {
    let args = &settings.args;
    let (input_name, text) = match read_input(args) {
        Ok(x) => x,
        Err(e) => {
            error(&e);
            return exit::ERROR;
        }
    };
    let out_path = args.output.clone().unwrap_or_else(|| default_output(args));
    let done = match resume_state(&out_path) {
        Ok(d) => d,
        Err(e) => {
            error(&e);
            return exit::ERROR;
        }
    };
    let out = match OpenOptions::new().create(true).append(true).open(&out_path) {
        Ok(mut f) => {
            let _ = f.seek(SeekFrom::End(0));
            f
        }
        Err(e) => {
            error(&format!("cannot open {}: {e}", out_path.display()));
            return exit::ERROR;
        }
    };

    let limit = args.limit.or(if args.test_run { Some(3) } else { None });
    let default_version = args.airflow_version.unwrap_or(AirflowVersion::DEFAULT);
    let mut tasks = Vec::new();
    let mut bad_rows = Vec::new();
    let mut considered = 0;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        if limit.is_some_and(|l| considered >= l) {
            break;
        }
        considered += 1;
        let line_no = i + 1;
        if done.contains_key(&line_no) {
            continue;
        }
        let row = match parse_row(line) {
            Ok(r) => r,
            Err(e) => {
                bad_rows
                    .push((line_no, format!("{input_name}:{line_no}:{}: {}", e.column, e.message)));
                continue;
            }
        };
        let Some(instruction) = row.instruction().filter(|i| !i.trim().is_empty()) else {
            bad_rows.push((line_no, format!("{input_name}:{line_no}:1: the row has no user turn")));
            continue;
        };
        let version = match row.airflow_version() {
            Ok(v) => v.unwrap_or(default_version),
            Err(e) => {
                bad_rows.push((line_no, format!("{input_name}:{line_no}:1: {e}")));
                continue;
            }
        };
        let system = args.system_prompt.as_deref().or(row.system());
        tasks.push(Task::new(
            line_no,
            instruction,
            version,
            system,
            settings,
            row.metadata.clone(),
        ));
    }

    let info = engine.info();
    let common = json!({
        "version": dagsmith_core::VERSION,
        "input": input_name,
        "model": {
            "file": info.file,
            "name": info.name,
            "sha256": model_sha256(model_path),
            "parameters": info.parameters,
        },
        "params": {
            "sampling": settings.sampling,
            "max_tokens": args.max_tokens,
            "parallel": args.parallel,
            "context_per_sequence": args.ctx,
            "repair": args.repair,
            "fixes": format!("{:?}", args.fixes).to_lowercase(),
            "api_sheet": !args.no_api_sheet,
        },
    });

    let total = tasks.len();
    if !done.is_empty() && !args.quiet {
        eprintln!(
            "dagsmith: resuming {}: {} rows already done, {} to go",
            out_path.display(),
            done.len(),
            total + bad_rows.len()
        );
    }
    install_ctrlc();
    let progress = if args.quiet {
        Progress::items("", 0)
    } else {
        Progress::items("generating", total as u64)
    };
    let mut jobs = BatchJobs {
        settings,
        queue: (0..total).collect(),
        tasks,
        out,
        out_path: &out_path,
        common,
        progress,
        started: Instant::now(),
        tokens: 0,
        rows_done: 0,
        write_error: None,
        stats: Summary::default(),
    };
    // Malformed rows are recorded (and reported) first; they never reach the model.
    for (line, message) in &bad_rows {
        error(message);
        let mut ds = jobs.common.clone();
        ds["row"] = json!(line);
        ds["loads"] = json!(false);
        ds["error"] = json!(message);
        jobs.append(&json!({"messages": [], "metadata": {"dagsmith": ds}}));
    }
    let run = engine.run(&settings.batch, &mut jobs);
    jobs.progress.finish_and_clear();
    let stats = match run {
        Ok(s) => s,
        Err(e) => {
            error(&e.to_string());
            return exit::ERROR;
        }
    };
    if let Some(e) = &jobs.write_error {
        error(e);
        return exit::ERROR;
    }
    let s = &jobs.stats;
    let secs = stats.wall.as_secs_f64().max(1e-9);
    let pct = |n: usize| if s.rows == 0 { 0.0 } else { 100.0 * n as f64 / s.rows as f64 };
    let mut top: Vec<(&&str, &usize)> = s.finding_counts.iter().collect();
    top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let top: Vec<String> = top.iter().take(5).map(|(c, n)| format!("{c} x{n}")).collect();
    let interrupted = INTERRUPTED.load(Ordering::SeqCst);
    eprintln!(
        "dagsmith: {} DAGs generated{} -> {}",
        s.rows,
        if interrupted { " (interrupted; rerun to resume)" } else { "" },
        out_path.display()
    );
    if !bad_rows.is_empty() {
        eprintln!("  bad input rows: {} (recorded with their error)", bad_rows.len());
    }
    if s.failed_rows > 0 {
        eprintln!("  rows whose generation failed: {} (the error is in the row)", s.failed_rows);
    }
    if s.rows > 0 {
        eprintln!(
            "  predicted to load: {} ({:.0}%) as first answered, {} ({:.0}%) after {} fixes{}",
            s.pass_at_1_raw,
            pct(s.pass_at_1_raw),
            s.pass_at_1,
            pct(s.pass_at_1),
            s.fixes,
            if args.repair > 0 {
                format!(
                    ", {} ({:.0}%) after up to {} repair rounds",
                    s.pass_final,
                    pct(s.pass_final),
                    args.repair
                )
            } else {
                String::new()
            }
        );
        if !top.is_empty() {
            eprintln!("  top errors: {}", top.join(", "));
        }
        if s.runaway > 0 {
            eprintln!("  answers stopped for repeating themselves: {}", s.runaway);
        }
        eprintln!(
            "  throughput: {:.3} DAGs/s, {:.1} generated tok/s, {} prompt + {} generated tokens in {:.1} s ({} parallel)",
            s.rows as f64 / secs,
            stats.generated_tokens as f64 / secs,
            stats.prompt_tokens,
            stats.generated_tokens,
            secs,
            args.parallel
        );
    }
    if interrupted || !bad_rows.is_empty() {
        return exit::ERROR;
    }
    let already_failing = done.values().any(|loads| !loads);
    if s.pass_final == s.rows && !already_failing { exit::OK } else { exit::NOT_LOADING }
}
