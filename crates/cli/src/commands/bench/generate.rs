//! `dagsmith bench generate`: generation speed at several parallel-sequence counts.
//!
//! For each count P, the first P instructions of the built-in set are generated together
//! (greedy, ending at end-of-generation or --max-tokens; with --ignore-eos every answer runs to
//! --max-tokens), after one untimed warm-up request. Reported per P: prompt tokens/s (decode
//! steps that carried prompt tokens), generation tokens/s over steps carrying only new tokens
//! (the decode rate llama.cpp's batched-bench calls S_TG), the same with only llama.cpp's decode
//! timed (the difference is dagsmith's own work per step: sampling, text, stops), aggregate new
//! tokens/s over the whole run, answers per second, time to first token, and how many prompt
//! tokens were reused from the KV cache instead of decoded.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use dagsmith_core::dataset::parse_row;
use dagsmith_core::prompt;
use dagsmith_engine::{
    BatchOptions, Completion, Engine, Flow, GenerationRequest, JobId, Jobs, ModelOptions, Progress,
    RequestError, default_model_path, physical_cores,
};
use serde_json::json;

use crate::commands::generate::BUILTIN_INPUT;
use crate::exit;
use crate::output::error;

pub const EXAMPLES: &str = "\
Examples:
  dagsmith bench generate                       default model, 1 2 4 8 sequences, 256 tokens
  dagsmith bench generate --parallel 1,8 --max-tokens 128 --json
  dagsmith bench generate --model models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf";

#[derive(Args, Debug)]
pub struct BenchGenerateArgs {
    /// GGUF model [default: the default model].
    #[arg(long, short = 'm', value_name = "FILE")]
    pub model: Option<PathBuf>,

    /// Parallel sequence counts to measure.
    #[arg(long, value_delimiter = ',', default_values_t = [1u32, 2, 4, 8], value_name = "N,..")]
    pub parallel: Vec<u32>,

    /// New tokens per answer at most.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub max_tokens: u32,

    /// Keep generating past end-of-generation (and past a loop) up to --max-tokens: equal work
    /// per sequence.
    #[arg(long)]
    pub ignore_eos: bool,

    /// Decode every prompt in full instead of reusing shared prefixes from the KV cache.
    #[arg(long)]
    pub no_prefix_reuse: bool,

    /// Pick the greedy tokens inside llama.cpp's decode, on the model's device, instead of from
    /// logits copied to the host (llama.cpp's experimental backend sampling).
    #[arg(long)]
    pub device_sampling: bool,

    /// CPU threads [default: physical cores].
    #[arg(long, short = 't', value_name = "N")]
    pub threads: Option<usize>,

    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Hands out the requests and keeps the completions.
struct Collect {
    queue: Vec<GenerationRequest>,
    done: Vec<Completion>,
    failed: Vec<String>,
}

impl Jobs for Collect {
    fn next(&mut self, _idle: bool) -> Option<(JobId, GenerationRequest)> {
        let r = self.queue.pop()?;
        Some((self.queue.len() as JobId, r))
    }
    fn text(&mut self, _: JobId, _: &str, _: Progress) -> Flow {
        Flow::Continue
    }
    fn finished(&mut self, _: JobId, result: Result<Completion, RequestError>) {
        match result {
            Ok(c) => self.done.push(c),
            Err(e) => self.failed.push(e.to_string()),
        }
    }
}

// Kept whole: a straight-line benchmark (load, warm up, one run per `--parallel`, print); the
// `request` and `options` closures capture the arguments that helpers would have to be passed.
pub fn run(args: BenchGenerateArgs) -> u8 {
    let path = args.model.clone().unwrap_or_else(default_model_path);
    let engine = match Engine::load(&path, &ModelOptions::default()) {
        Ok(e) => e,
        Err(e) => {
            error(&e.to_string());
            return exit::ERROR;
        }
    };
    let instructions: Vec<(String, String)> = BUILTIN_INPUT
        .lines()
        .filter_map(|l| parse_row(l).ok())
        .filter_map(|r| Some((r.instruction()?.to_string(), r.airflow_version_str()?.to_string())))
        .collect();
    let threads = args.threads.unwrap_or_else(physical_cores);
    let request = |i: usize| {
        let (instruction, version) = &instructions[i % instructions.len()];
        let mut r =
            GenerationRequest::new(prompt::messages(instruction, version, None), args.max_tokens);
        r.ignore_eos = args.ignore_eos;
        r.stop_on_repetition = !args.ignore_eos;
        r
    };
    let options = |parallel: usize, context: u32| BatchOptions {
        parallel,
        context_per_sequence: context,
        batch_tokens: 512,
        threads: Some(threads),
        reuse_prefix: !args.no_prefix_reuse,
        device_sampling: args.device_sampling,
    };

    // Warm-up: page the weights in and let the CPU clocks settle.
    let mut warm_req = request(0);
    warm_req.max_tokens = 8;
    if let Err(e) = engine.generate_all(&options(1, 1024), vec![warm_req]) {
        error(&e.to_string());
        return exit::ERROR;
    }

    let mut results = Vec::new();
    if !args.json {
        println!(
            "model {} ({:.2}B params), {threads} threads, greedy{}, max {} new tokens, prefix reuse {}",
            engine.info().file,
            engine.info().parameters as f64 / 1e9,
            if args.device_sampling { " on the device" } else { "" },
            args.max_tokens,
            if args.no_prefix_reuse { "off" } else { "on" },
        );
        println!(
            "{:>8} {:>13} {:>11} {:>14} {:>12} {:>10} {:>9} {:>10} {:>10}",
            "parallel",
            "prompt tok/s",
            "gen tok/s",
            "decode tok/s",
            "aggregate/s",
            "answers/s",
            "TTFT s",
            "new tokens",
            "reused"
        );
    }
    for &p in &args.parallel {
        let p = p.max(1) as usize;
        let requests: Vec<_> = (0..p).rev().map(request).collect();
        let mut jobs = Collect { queue: requests, done: Vec::new(), failed: Vec::new() };
        let start = Instant::now();
        let stats = match engine.run(&options(p, args.max_tokens + 1024), &mut jobs) {
            Ok(s) => s,
            Err(e) => {
                error(&e.to_string());
                return exit::ERROR;
            }
        };
        if let Some(e) = jobs.failed.first() {
            error(e);
            return exit::ERROR;
        }
        let wall = start.elapsed().as_secs_f64();
        let rate = |n: u64, d: std::time::Duration| {
            if d.is_zero() { 0.0 } else { n as f64 / d.as_secs_f64() }
        };
        let prompt_tps = rate(stats.prompt_tokens, stats.prompt_steps_time);
        let gen_tps = rate(stats.generation_steps_tokens, stats.generation_steps_time);
        let decode_tps = rate(stats.generation_steps_tokens, stats.generation_decode_time);
        let aggregate = stats.generated_tokens as f64 / wall;
        let answers = jobs.done.len() as f64 / wall;
        let ttft = jobs.done.iter().map(|c| c.prompt_ms).sum::<f64>()
            / jobs.done.len().max(1) as f64
            / 1000.0;
        let repetition_stops = stats.repetition_stops;
        if !args.json {
            println!(
                "{:>8} {:>13.1} {:>11.1} {:>14.1} {:>12.2} {:>10.3} {:>9.2} {:>10} {:>10}",
                p,
                prompt_tps,
                gen_tps,
                decode_tps,
                aggregate,
                answers,
                ttft,
                stats.generated_tokens,
                stats.prompt_tokens_reused
            );
        }
        results.push(json!({
            "parallel": p,
            "prompt_tokens": stats.prompt_tokens,
            "prompt_tokens_reused": stats.prompt_tokens_reused,
            "generated_tokens": stats.generated_tokens,
            "repetition_stops": repetition_stops,
            "prompt_tokens_per_second": prompt_tps,
            "generation_tokens_per_second": gen_tps,
            // The same steps timed up to the end of llama.cpp's decode, without dagsmith's work.
            "generation_decode_tokens_per_second": decode_tps,
            "aggregate_tokens_per_second": aggregate,
            "answers_per_second": answers,
            "time_to_first_token_seconds": ttft,
            "wall_seconds": wall,
        }));
    }
    if args.json {
        let out = json!({
            "implementation": "dagsmith",
            "model": engine.info().file,
            "parameters": engine.info().parameters,
            "threads": threads,
            "max_tokens": args.max_tokens,
            "ignore_eos": args.ignore_eos,
            "prefix_reuse": !args.no_prefix_reuse,
            "device_sampling": args.device_sampling,
            "gpu_backend": dagsmith_engine::GPU_BACKEND,
            "gpu_devices": engine.info().gpu_devices,
            "gpu_layers": engine.info().gpu_layers,
            "results": results,
        });
        println!("{}", serde_json::to_string_pretty(&out).expect("serializable"));
    }
    exit::OK
}
