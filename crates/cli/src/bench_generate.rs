//! `dagsmith bench generate`: generation speed at several parallel-sequence counts.
//!
//! For each count P, the first P instructions of the built-in set are generated together
//! (greedy, ending at end-of-generation or --max-tokens), after one untimed warm-up request.
//! Reported per P: prompt tokens/s (decode steps that carried prompt tokens), generation
//! tokens/s over steps carrying only new tokens, aggregate new tokens/s over the whole run, and
//! answers per second.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use dagsmith_core::dataset::parse_row;
use dagsmith_core::prompt;
use dagsmith_engine::{
    BatchOptions, Engine, GenerationRequest, ModelOptions, default_model_path, physical_cores,
};
use serde_json::json;

use crate::exit;
use crate::generate_cmd::BUILTIN_INPUT;
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

    /// Keep generating past end-of-generation up to --max-tokens (equal work per sequence).
    #[arg(long)]
    pub ignore_eos: bool,

    /// CPU threads [default: physical cores].
    #[arg(long, short = 't', value_name = "N")]
    pub threads: Option<usize>,

    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

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
        r
    };

    // Warm-up: page the weights in and let the CPU clocks settle.
    let warm = BatchOptions {
        parallel: 1,
        context_per_sequence: 1024,
        batch_tokens: 512,
        threads: Some(threads),
    };
    let mut warm_req = request(0);
    warm_req.max_tokens = 8;
    if let Err(e) = engine.generate_all(&warm, vec![warm_req]) {
        error(&e.to_string());
        return exit::ERROR;
    }

    let mut results = Vec::new();
    if !args.json {
        println!(
            "model {} ({:.2}B params), {threads} threads, greedy, max {} new tokens",
            engine.info().file,
            engine.info().parameters as f64 / 1e9,
            args.max_tokens
        );
        println!(
            "{:>8} {:>14} {:>14} {:>14} {:>12} {:>10}",
            "parallel", "prompt tok/s", "gen tok/s", "aggregate/s", "answers/s", "new tokens"
        );
    }
    for &p in &args.parallel {
        let p = p.max(1) as usize;
        let options = BatchOptions {
            parallel: p,
            context_per_sequence: args.max_tokens + 512,
            batch_tokens: 512,
            threads: Some(threads),
        };
        let requests: Vec<_> = (0..p).map(request).collect();
        let start = Instant::now();
        let mut stats = None;
        struct Collect {
            queue: Vec<GenerationRequest>,
            done: usize,
        }
        impl dagsmith_engine::Jobs for Collect {
            fn next(&mut self, _idle: bool) -> Option<(dagsmith_engine::JobId, GenerationRequest)> {
                let r = self.queue.pop()?;
                Some((self.queue.len() as u64, r))
            }
            fn text(
                &mut self,
                _: u64,
                _: &str,
                _: dagsmith_engine::Progress,
            ) -> dagsmith_engine::Flow {
                dagsmith_engine::Flow::Continue
            }
            fn finished(
                &mut self,
                _: u64,
                _: Result<dagsmith_engine::Completion, dagsmith_engine::RequestError>,
            ) {
                self.done += 1;
            }
        }
        let mut jobs = Collect { queue: requests, done: 0 };
        match engine.run(&options, &mut jobs) {
            Ok(s) => stats = Some(s),
            Err(e) => error(&e.to_string()),
        }
        let Some(s) = stats else { return exit::ERROR };
        let wall = start.elapsed().as_secs_f64();
        let rate = |n: u64, d: std::time::Duration| {
            if d.is_zero() { 0.0 } else { n as f64 / d.as_secs_f64() }
        };
        let prompt_tps = rate(s.prompt_tokens, s.prompt_steps_time);
        // Steps carrying only new tokens: one token per running sequence each.
        let gen_only_tokens = s.generated_tokens.saturating_sub(p as u64);
        let gen_tps = rate(gen_only_tokens, s.generation_steps_time);
        let aggregate = s.generated_tokens as f64 / wall;
        let answers = jobs.done as f64 / wall;
        if !args.json {
            println!(
                "{:>8} {:>14.1} {:>14.1} {:>14.1} {:>12.3} {:>10}",
                p, prompt_tps, gen_tps, aggregate, answers, s.generated_tokens
            );
        }
        results.push(json!({
            "parallel": p,
            "prompt_tokens": s.prompt_tokens,
            "generated_tokens": s.generated_tokens,
            "prompt_tokens_per_second": prompt_tps,
            "generation_tokens_per_second": gen_tps,
            "aggregate_tokens_per_second": aggregate,
            "answers_per_second": answers,
            "wall_seconds": wall,
        }));
    }
    if args.json {
        let out = json!({
            "model": engine.info().file,
            "parameters": engine.info().parameters,
            "threads": threads,
            "max_tokens": args.max_tokens,
            "gpu_backend": dagsmith_engine::GPU_BACKEND,
            "results": results,
        });
        println!("{}", serde_json::to_string_pretty(&out).expect("serializable"));
    }
    exit::OK
}
