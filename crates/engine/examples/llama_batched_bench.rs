//! The reference for `dagsmith bench generate`: llama.cpp's own measurement loops
//! (`llama-batched-bench` and `llama-bench`'s prompt test), made of the same llama.cpp calls
//! through the same bindings and the same vendored llama.cpp the engine links, without any of
//! dagsmith's engine. crates.io ships llama.cpp without its tools' sources, so they are rebuilt
//! here, call for call:
//!
//! * batched: P sequences (P from `--npl`) get the first P prompts of the instruction set,
//!   rendered and tokenized as dagsmith does; all prompts are decoded together in batches of at
//!   most `--batch` tokens (the last token of each with logits), then `--tg` steps decode one
//!   token per sequence (with logits, as generation needs). The token fed back is a fixed one:
//!   llama-batched-bench does not sample either, so this is the decode floor.
//! * prompt (`--pp-reps N`): llama-bench's `pp` test: the first prompt alone, decoded as one
//!   batch into an empty cache, N times; tokens/s of the mean.
//!
//! Prints one JSON object. scripts/bench-generate.sh runs it interleaved with dagsmith's bench.
//!
//! usage: llama_batched_bench MODEL.gguf INSTRUCTIONS.jsonl [--threads N] [--tg N] [--npl 1,2,4,8]
//!        [--batch 512] [--ubatch N] [--kv-unified 0|1] [--flash-attn auto|on|off] [--pp-reps N]
//!        [--max-prompt N] [--repack 0|1] [--group N] [--ctx-per-seq N] [--sync-steps 0|1]
//! (`--npl ''` with `--pp-reps N` runs the prompt test alone.)

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Instant;

use dagsmith_core::dataset::parse_row;
use dagsmith_core::prompt;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaModel};
use llama_cpp_2::token::LlamaToken;
use serde_json::json;

struct Args {
    model: PathBuf,
    instructions: PathBuf,
    threads: i32,
    tg: usize,
    npl: Vec<usize>,
    batch: u32,
    ubatch: Option<u32>,
    kv_unified: bool,
    flash_attn: String,
    pp_reps: usize,
    /// Keep only this many tokens of each prompt (decode experiments).
    max_prompt: Option<usize>,
    /// Keep the weights in llama.cpp's plain CPU buffers: no repacking into interleaved layouts.
    no_repack: bool,
    /// Generation steps decode at most this many sequences per llama_decode call.
    group: Option<usize>,
    /// KV cells per sequence instead of just enough (dagsmith's engine sizes its context this
    /// way: to compare the two at the same context size).
    ctx_per_seq: Option<usize>,
    /// Wait for each generation step's results before the next, as sampling must: without it a
    /// GPU backend overlaps the CPU's preparation of step N+1 with its own work on step N,
    /// which no sampler that reads the logits can do.
    sync_steps: bool,
}

fn args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let model = it.next().ok_or("usage: llama_batched_bench MODEL INSTRUCTIONS [options]")?;
    let instructions = it.next().ok_or("missing INSTRUCTIONS.jsonl")?;
    let mut a = Args {
        model: model.into(),
        instructions: instructions.into(),
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()) as i32,
        tg: 64,
        npl: vec![1, 2, 4, 8],
        batch: 512,
        ubatch: None,
        kv_unified: true,
        flash_attn: "auto".into(),
        pp_reps: 0,
        max_prompt: None,
        no_repack: false,
        group: None,
        ctx_per_seq: None,
        sync_steps: false,
    };
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let num = |v: &str| v.parse::<usize>().map_err(|e| format!("{flag} {v}: {e}"));
        match flag.as_str() {
            "--threads" => a.threads = num(&value)? as i32,
            "--tg" => a.tg = num(&value)?,
            "--npl" => {
                a.npl =
                    value.split(',').filter(|v| !v.is_empty()).map(num).collect::<Result<_, _>>()?
            }
            "--batch" => a.batch = num(&value)? as u32,
            "--ubatch" => a.ubatch = Some(num(&value)? as u32),
            "--kv-unified" => a.kv_unified = value == "1",
            "--flash-attn" => a.flash_attn = value,
            "--pp-reps" => a.pp_reps = num(&value)?,
            "--max-prompt" => a.max_prompt = Some(num(&value)?),
            "--repack" => a.no_repack = value == "0",
            "--group" => a.group = Some(num(&value)?.max(1)),
            "--ctx-per-seq" => a.ctx_per_seq = Some(num(&value)?),
            "--sync-steps" => a.sync_steps = value == "1",
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(a)
}

/// CPU seconds this process has used (all threads; Linux), or 0 where unknown. On a machine
/// shared with other work, CPU time per token is a steadier measure than wall time.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { return 0.0 };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

// Kept whole: a straight-line benchmark script (load, one prompt test, one batched test per
// `--npl`) that follows llama.cpp's batched-bench loops step for step, to be compared with them.
fn main() {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default().with_logs_enabled(false));
    let backend = LlamaBackend::init().expect("llama.cpp backend");
    let mut model_params = std::pin::pin!(LlamaModelParams::default());
    if a.no_repack {
        // Every tensor in the plain CPU buffer type (the pattern matches any name).
        model_params.as_mut().add_cpu_buft_override(c".");
    }
    let model = LlamaModel::load_from_file(&backend, &a.model, &model_params).expect("model loads");
    let template = model.chat_template(None).expect("the model has a chat template");
    let dataset = std::fs::read_to_string(&a.instructions).expect("instructions file");
    let vocab = model.vocab();
    let prompts: Vec<Vec<LlamaToken>> = dataset
        .lines()
        .filter_map(|l| parse_row(l).ok())
        .filter_map(|r| Some((r.instruction()?.to_string(), r.airflow_version_str()?.to_string())))
        .map(|(instruction, version)| {
            let chat: Vec<LlamaChatMessage> = prompt::messages(&instruction, &version, None)
                .into_iter()
                .map(|m| LlamaChatMessage::new(m.role, m.content).expect("no NUL"))
                .collect();
            let text = model.apply_chat_template(&template, &chat, true).expect("template");
            let mut tokens = vocab.tokenize(text.as_bytes(), vocab.should_add_bos(), true);
            tokens.truncate(a.max_prompt.unwrap_or(usize::MAX).max(1));
            tokens
        })
        .collect();
    assert!(!prompts.is_empty(), "no instructions in {}", a.instructions.display());
    let flash = match a.flash_attn.as_str() {
        "on" => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_ENABLED,
        "off" => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_DISABLED,
        _ => llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_AUTO,
    };
    // A token to feed back in generation steps (which one does not change the work).
    let filler = prompts[0][prompts[0].len() / 2];

    let mut results = Vec::new();
    if a.pp_reps > 0 {
        let p = &prompts[0];
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(p.len() as u32 + 16))
            .with_n_batch(a.batch.max(p.len() as u32))
            .with_n_ubatch(a.ubatch.unwrap_or(a.batch).max(1))
            .with_n_seq_max(1)
            .with_flash_attention_policy(flash)
            .with_n_threads(a.threads)
            .with_n_threads_batch(a.threads);
        let mut ctx = model.new_context(&backend, params).expect("context");
        let mut batch = LlamaBatch::new(p.len(), 1);
        let mut times = Vec::new();
        let mut cpu = 0.0;
        // One warm-up run, as llama-bench does.
        for rep in 0..=a.pp_reps {
            ctx.clear_kv_cache();
            batch.clear();
            for (i, &t) in p.iter().enumerate() {
                batch.add(t, i as i32, &[0], i + 1 == p.len()).expect("batch room");
            }
            let start = Instant::now();
            let cpu_start = cpu_seconds();
            ctx.decode(&mut batch).expect("decode");
            ctx.synchronize();
            if rep > 0 {
                times.push(start.elapsed().as_secs_f64());
                cpu += cpu_seconds() - cpu_start;
            }
        }
        let mean = times.iter().sum::<f64>() / times.len() as f64;
        results.push(json!({
            "test": "pp", "prompt_tokens": p.len(), "repetitions": a.pp_reps,
            "seconds_mean": mean, "prompt_tokens_per_second": p.len() as f64 / mean,
            "cpu_seconds_mean": cpu / a.pp_reps as f64,
        }));
    }

    for &pl in &a.npl {
        let pl = pl.max(1);
        let seqs: Vec<&Vec<LlamaToken>> = (0..pl).map(|i| &prompts[i % prompts.len()]).collect();
        let longest = seqs.iter().map(|p| p.len()).max().unwrap_or(0);
        let n_ctx = (pl * a.ctx_per_seq.unwrap_or(longest + a.tg + 1)) as u32;
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n_ctx.max(256)))
            .with_n_batch(a.batch.max(pl as u32))
            .with_n_ubatch(a.ubatch.unwrap_or(a.batch).max(pl as u32))
            .with_n_seq_max(pl as u32)
            .with_kv_unified(a.kv_unified)
            .with_flash_attention_policy(flash)
            .with_n_threads(a.threads)
            .with_n_threads_batch(a.threads);
        let mut ctx = model.new_context(&backend, params).expect("context");
        let mut batch = LlamaBatch::new(a.batch.max(pl as u32) as usize, 1);

        // Prompts: every sequence's tokens, in batches of at most --batch.
        let all: Vec<(LlamaToken, i32, i32, bool)> = seqs
            .iter()
            .enumerate()
            .flat_map(|(s, p)| {
                p.iter().enumerate().map(move |(i, &t)| (t, i as i32, s as i32, i + 1 == p.len()))
            })
            .collect();
        let start = Instant::now();
        let cpu_start = cpu_seconds();
        for chunk in all.chunks(a.batch as usize) {
            batch.clear();
            for &(t, pos, seq, logits) in chunk {
                batch.add(t, pos, &[seq], logits).expect("batch room");
            }
            ctx.decode(&mut batch).expect("decode prompt");
        }
        ctx.synchronize();
        let t_pp = start.elapsed().as_secs_f64();
        let cpu_pp = cpu_seconds() - cpu_start;

        let tg_start = Instant::now();
        let cpu_tg_start = cpu_seconds();
        let group = a.group.unwrap_or(pl);
        for step in 0..a.tg {
            for first in (0..pl).step_by(group) {
                batch.clear();
                for (s, p) in seqs.iter().enumerate().skip(first).take(group) {
                    batch.add(filler, (p.len() + step) as i32, &[s as i32], true).expect("room");
                }
                ctx.decode(&mut batch).expect("decode step");
            }
            if a.sync_steps {
                ctx.synchronize();
            }
        }
        ctx.synchronize();
        let t_tg = tg_start.elapsed().as_secs_f64();
        let cpu_tg = cpu_seconds() - cpu_tg_start;
        let prompt_tokens = all.len();
        let new_tokens = pl * a.tg;
        results.push(json!({
            "test": "batched", "parallel": pl, "n_ctx": n_ctx, "prompt_tokens": prompt_tokens,
            "generated_tokens": new_tokens,
            "prompt_seconds": t_pp, "prompt_tokens_per_second": prompt_tokens as f64 / t_pp,
            "generation_seconds": t_tg,
            "generation_tokens_per_second": new_tokens as f64 / t_tg,
            "prompt_cpu_seconds": cpu_pp, "generation_cpu_seconds": cpu_tg,
            "aggregate_tokens_per_second": new_tokens as f64 / (t_pp + t_tg),
        }));
    }
    let out = json!({
        "implementation": "llama.cpp batched-bench / llama-bench loops through llama-cpp-2 0.1.160",
        "model": a.model.file_name().map(|f| f.to_string_lossy().into_owned()),
        "threads": a.threads, "tg": a.tg, "batch": a.batch, "ubatch": a.ubatch.unwrap_or(a.batch),
        "kv_unified": a.kv_unified, "flash_attn": a.flash_attn, "repack": !a.no_repack,
        "sync_steps": a.sync_steps,
        "results": results,
    });
    println!("{}", serde_json::to_string_pretty(&out).expect("serializable"));
}
