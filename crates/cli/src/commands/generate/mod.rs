//! `dagsmith generate`: DAGs from instructions, with the local model or OpenAI-compatible
//! backends, validated as they come.
//!
//! Batch mode reads an airflow-net ChatML JSONL file (default: the project's own instruction
//! set) and appends one output row per input row, in the order they finish, each with
//! `metadata.dagsmith.row` = the input line. Rerunning with the same output skips the rows already
//! there; Ctrl-C stops cleanly (a second Ctrl-C at once), leaving only whole rows in the file.
//!
//! The parts: [`work`] is what a run asks of whatever answers (the [`local`] llama.cpp engine
//! or the [`remote`] backends); [`single`] and [`batch`] are the two kinds of run; [`task`] is
//! one row's conversation, [`record`] its output row, [`summary`] the closing report,
//! [`shard`] the `--shard` split.

mod batch;
#[cfg(feature = "engine")]
mod local;
mod progress;
mod record;
mod remote;
pub mod shard;
mod single;
mod summary;
mod task;
mod work;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use clap::Args;
use dagsmith_core::AirflowVersion;
use dagsmith_core::fix::FixMode;
use dagsmith_core::pipeline;
use dagsmith_core::wire::SamplingParams;

use crate::exit;
use crate::output::error;
use work::Driver;

pub use super::{BUILTIN_INPUT, BUILTIN_NAME};

/// `--parallel` when not given (local sequences on a CPU; remote requests per backend that does
/// not say): the measured best of 1, 2, 4 and 8 on the 2-core machine (docs/BENCHMARKS.md).
const DEFAULT_PARALLEL: u32 = 4;

/// Local sequences at once with the model on a GPU, best first: on an H200, 64 gave 1.35x the
/// DAGs per hour of 16 (docs/BENCHMARKS.md, "On an NVIDIA GPU"); fewer where the KV cache
/// would not fit.
#[cfg(feature = "engine")]
const GPU_PARALLEL: [u32; 3] = [64, 32, 16];

/// The default `--parallel` for the local model: [`DEFAULT_PARALLEL`] on a CPU; on a GPU the
/// most of [`GPU_PARALLEL`] whose KV cache (`ctx` cells of `kv_per_cell` bytes each per
/// sequence) fits in 70% of the GPU's free memory less 1 GiB for llama.cpp's compute buffers.
#[cfg(feature = "engine")]
fn local_default_parallel(gpu_free: Option<u64>, kv_per_cell: u64, ctx: u32) -> u32 {
    let Some(free) = gpu_free else { return DEFAULT_PARALLEL };
    let budget = (free / 10 * 7).saturating_sub(1 << 30);
    GPU_PARALLEL
        .into_iter()
        .find(|&p| u64::from(p) * u64::from(ctx) * kv_per_cell <= budget)
        .unwrap_or(DEFAULT_PARALLEL)
}

pub const EXAMPLES: &str = "\
Examples:
  dagsmith generate --instruction \"Daily ETL from S3 to Postgres\" --airflow-version 2.9
  dagsmith generate --test-run                     3 rows of the built-in instruction set
  dagsmith generate --input rows.jsonl --output out.jsonl --parallel 8 --repair 2
  dagsmith generate --input rows.jsonl --output out.jsonl    (again: resumes)
  dagsmith generate --input rows.jsonl --backend http://gpu-1:8000 --backend http://gpu-2:8000
  dagsmith generate --input rows.jsonl --backends fleet.txt --shard 3/8 -o out-3.jsonl
  dagsmith merge out-*.jsonl --input rows.jsonl -o all.jsonl

Output rows keep the input's ChatML format, the assistant turn being the generated code, plus
metadata.dagsmith: model (or backend) and parameters, timings, token counts, every attempt and
its validation (loads, findings).

Backends: any OpenAI-compatible server (vLLM, llama-server, SGLang, dagsmith serve). A backends
file has one URL per line, optionally followed by parallel=N and api-key=KEY or
api-key-env=NAME; DAGSMITH_API_KEY (else OPENAI_API_KEY) is the key of the others.

Exit status: --instruction: 0 the DAG is predicted to load, 1 it is not. A dataset: 0 the run
completed (the verdicts are data in the output; --strict: 1 when some DAG does not load).
2: usage or I/O error, bad input rows, an interrupted run or one that could not reach its
backends (rerun to resume).";

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// GGUF model [default: the default model in the models directory; `dagsmith model fetch`].
    // The local engine's options are hidden in a build without it (they are refused there).
    #[arg(long, short = 'm', value_name = "FILE")]
    #[cfg_attr(not(feature = "engine"), arg(hide = true))]
    pub model: Option<PathBuf>,

    /// One instruction: generate one DAG and print its code to standard output.
    #[arg(long, short = 'i', value_name = "TEXT", conflicts_with = "input")]
    pub instruction: Option<String>,

    /// ChatML JSONL dataset of instructions [default: the built-in instruction set].
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,

    /// Output JSONL (appended to; rows already there are skipped) [default: INPUT's name with
    /// .out.jsonl in the current directory; datasets/instructions.out.jsonl for the built-in set
    /// in a dagsmith checkout; .shard-K-of-N.out.jsonl with --shard].
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Target Airflow version: for --instruction, and for rows that name none [default: 3.1].
    #[arg(long, short = 'a', value_name = "VERSION")]
    pub airflow_version: Option<AirflowVersion>,

    /// Sequences generated at once (continuous batching in one context) [default: 4 on a CPU;
    /// with the model on a GPU 64, 32 or 16, the most whose KV cache fits in its free memory;
    /// never more than the rows to generate]; with backends, requests in flight per backend
    /// [default: 4; a dagsmith serve backend: its slots].
    #[arg(long, short = 'p', value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub parallel: Option<u32>,

    /// New tokens per answer at most.
    #[arg(long, default_value_t = 2048, value_name = "N")]
    pub max_tokens: u32,

    /// Only the first N rows of the input.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,

    /// A quick trial: the first 3 rows (unless --limit says otherwise).
    #[arg(long)]
    pub test_run: bool,

    /// Only this run's share of the rows: shard K of N (K from 0), chosen by a stable hash of
    /// each row's id (metadata.file_name or metadata.id, else its line). `--shard N` takes K
    /// from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job).
    #[arg(long, value_name = "K/N", conflicts_with = "instruction")]
    pub shard: Option<String>,

    /// Exit 1 when some generated DAG is predicted not to load (a dataset run otherwise exits 0
    /// once it completes).
    #[arg(long)]
    pub strict: bool,

    /// Repair rounds: when the fixed code still does not load, ask the model again for what
    /// the fixes could not do (the missing definitions, or the whole file with the remaining
    /// findings), up to K times [default: 2 for --instruction; 0 for datasets, whose rows then
    /// record the model's first answers].
    #[arg(long, value_name = "K")]
    pub repair: Option<u32>,

    /// Fixes applied to every answer before it is validated: `all` (also the unsafe ones, which
    /// guess what was meant, e.g. a misspelt class's real name), `safe`, or `none` (the raw
    /// model).
    #[arg(long, value_enum, default_value_t = Fixes::All)]
    pub fixes: Fixes,

    /// No API sheet (the catalog's imports and required arguments of the operators that fit
    /// the request) in the system prompt.
    #[arg(long)]
    pub no_api_sheet: bool,

    // Sampling defaults: dagsmith_core::wire::SamplingParams's, as the server's.
    /// Sampling temperature (0 = greedy, the default: reproducible).
    #[arg(long, default_value_t = SamplingParams::default().temperature)]
    pub temperature: f32,
    #[arg(long, default_value_t = SamplingParams::default().top_p)]
    pub top_p: f32,
    /// 0 = off.
    #[arg(long, default_value_t = SamplingParams::default().top_k)]
    pub top_k: i32,
    /// 0 = off.
    #[arg(long, default_value_t = SamplingParams::default().min_p)]
    pub min_p: f32,
    /// 1 = off.
    #[arg(long, default_value_t = SamplingParams::default().repeat_penalty)]
    pub repeat_penalty: f32,
    #[arg(long, default_value_t = SamplingParams::default().seed)]
    pub seed: u32,

    /// System prompt instead of the default one (and of the rows' own).
    #[arg(long, value_name = "TEXT")]
    pub system_prompt: Option<String>,

    /// CPU threads [default: physical cores].
    #[arg(long, short = 't', value_name = "N")]
    #[cfg_attr(not(feature = "engine"), arg(hide = true))]
    pub threads: Option<usize>,

    /// Context tokens per sequence (prompt + answer, repair turns included).
    #[arg(long, default_value_t = 4096, value_name = "N")]
    #[cfg_attr(not(feature = "engine"), arg(hide = true))]
    pub ctx: u32,

    /// GPU layers to offload [default: all with a GPU build, else 0].
    #[arg(long, value_name = "N")]
    #[cfg_attr(not(feature = "engine"), arg(hide = true))]
    pub gpu_layers: Option<u32>,

    /// Generate on this OpenAI-compatible server instead of the local model
    /// (`http://host:8000`, with or without /v1); repeat for several.
    #[arg(long, value_name = "URL", conflicts_with_all = ["model", "threads", "gpu_layers"])]
    pub backend: Vec<String>,

    /// A file of backends: one URL per line, optionally followed by parallel=N and
    /// api-key=KEY or api-key-env=NAME (# starts a comment).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["model", "threads", "gpu_layers"])]
    pub backends: Option<PathBuf>,

    /// The model name to ask the backends for [default: the first one each backend's
    /// /v1/models lists].
    #[arg(long, value_name = "NAME")]
    pub model_name: Option<String>,

    /// Backends: a request that receives nothing for this many seconds has failed (and is
    /// tried again elsewhere).
    #[arg(long, default_value_t = 300, value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,

    /// Backends: tries per request at most when backends fail (unreachable, timeouts, 5xx).
    #[arg(long, default_value_t = 4, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub tries: u32,

    /// Backends: stop the run (rows done are kept; rerun to resume) once no backend has
    /// answered for this many seconds.
    #[arg(long, default_value_t = 120, value_name = "SECS")]
    pub give_up_after: u64,

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

    fn name(self) -> &'static str {
        match self {
            Fixes::All => "all",
            Fixes::Safe => "safe",
            Fixes::None => "none",
        }
    }
}

/// What every request of a run shares.
pub struct Settings {
    pub args: GenerateArgs,
    pub sampling: SamplingParams,
    pub pipeline: pipeline::Options,
}

impl GenerateArgs {
    /// `--repair`, or its default: one DAG is worth a few more tries; a dataset run measures
    /// first answers unless asked.
    pub fn repair_rounds(&self) -> u32 {
        self.repair.unwrap_or(if self.instruction.is_some() { 2 } else { 0 })
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
    let shard = match &args.shard {
        None => None,
        Some(text) => {
            match shard::Shard::resolve(text, std::env::var("JOB_COMPLETION_INDEX").ok()) {
                Ok(s) => Some(s),
                Err(e) => {
                    error(&format!("--shard {text}: {e}"));
                    return exit::ERROR;
                }
            }
        }
    };
    let pipeline = pipeline::Options {
        repair_rounds: args.repair_rounds(),
        fixes: args.fixes.mode(),
        api_sheet: !args.no_api_sheet,
    };
    let settings = Settings { args, sampling, pipeline };
    let driver = if settings.args.backend.is_empty() && settings.args.backends.is_none() {
        local_driver(&settings)
    } else {
        remote::Remote::start(&settings).map(Driver::Remote)
    };
    let mut driver = match driver {
        Ok(d) => d,
        Err(e) => {
            error(&e);
            return exit::ERROR;
        }
    };
    match settings.args.instruction.clone() {
        Some(instruction) => single::run(&mut driver, &settings, &instruction),
        None => batch::run(&mut driver, &settings, shard),
    }
}

/// The local llama.cpp engine.
#[cfg(feature = "engine")]
fn local_driver(settings: &Settings) -> Result<Driver, String> {
    local::Local::load(settings).map(Driver::Local)
}

/// A build without the engine (the Python wheel) generates on backends only.
#[cfg(not(feature = "engine"))]
fn local_driver(_: &Settings) -> Result<Driver, String> {
    Err("this build of dagsmith has no local model (it was built without the `engine` feature, \
         as the Python wheel is): generate on an OpenAI-compatible server with --backend URL \
         (vLLM, llama-server, SGLang, dagsmith serve), or build the full CLI from source with \
         `cargo build --release -p dagsmith` (see the README)"
        .to_string())
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static SIGNALS: AtomicUsize = AtomicUsize::new(0);

fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

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

/// `1.5 s`, `12 min 5 s`, `3 h 20 min`.
fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{:.1} s", d.as_secs_f64()),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

#[cfg(all(test, feature = "engine"))]
mod tests {
    use super::*;

    #[test]
    fn local_parallel_is_four_on_a_cpu_and_what_fits_on_a_gpu() {
        const GIB: u64 = 1 << 30;
        // Qwen2.5-Coder-1.5B: 28 KiB of KV cache per cell; 4,096 cells a sequence.
        let kv = 28 * 2 * 256 * 2;
        assert_eq!(local_default_parallel(None, kv, 4096), 4);
        // An H200 with the weights loaded (~137 GiB free): 64 x 4,096 cells = 7 GiB.
        assert_eq!(local_default_parallel(Some(137 * GIB), kv, 4096), 64);
        // 8 GiB free: 70% less 1 GiB = 4.6 GiB, room for 32 (3.5 GiB), not 64.
        assert_eq!(local_default_parallel(Some(8 * GIB), kv, 4096), 32);
        assert_eq!(local_default_parallel(Some(4 * GIB), kv, 4096), 16);
        // Too little for 16: the CPU default, whose cache is small enough.
        assert_eq!(local_default_parallel(Some(2 * GIB), kv, 4096), 4);
        // A longer context per sequence takes fewer of them.
        assert_eq!(local_default_parallel(Some(8 * GIB), kv, 8192), 16);
    }
}
