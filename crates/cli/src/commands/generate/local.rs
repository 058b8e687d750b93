//! Answers from the local model: llama.cpp through dagsmith-engine, every sequence in one
//! batch.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use dagsmith_core::pipeline::{AnswerEnd, with_repeat_penalty};
use dagsmith_engine::{
    BatchOptions, Completion, Engine, FinishReason, Flow, GenerationRequest, JobId, Jobs,
    ModelOptions, Progress, RequestError, SamplingParams, default_model_path,
};

use super::Settings;
use super::record::ModelRecord;
use super::work::{Answered, Outcome, Source, Totals, Work};

pub struct Local {
    engine: Engine,
    model_path: PathBuf,
    batch: BatchOptions,
    sampling: SamplingParams,
    max_tokens: u32,
    /// `--parallel` was not given and the GPU's free memory chose it (said once it is final).
    gpu_default: bool,
}

impl Local {
    pub fn load(settings: &Settings) -> Result<Local, String> {
        let args = &settings.args;
        let model_path = args.model.clone().unwrap_or_else(default_model_path);
        if !model_path.is_file() {
            return Err(format!(
                "model {} not found: run `dagsmith model fetch` (or pass --model FILE.gguf)",
                model_path.display()
            ));
        }
        let loading = Instant::now();
        let engine = Engine::load(&model_path, &ModelOptions { gpu_layers: args.gpu_layers })
            .map_err(|e| e.to_string())?;
        if !args.quiet {
            eprintln!(
                "dagsmith: loaded {} ({:.2}B parameters) in {:.1} s",
                engine.info().file,
                engine.info().parameters as f64 / 1e9,
                loading.elapsed().as_secs_f64()
            );
        }
        let parallel = args.parallel.unwrap_or_else(|| {
            super::local_default_parallel(
                engine.gpu_free_bytes(),
                engine.kv_bytes_per_cell(),
                args.ctx,
            )
        });
        let gpu_default = args.parallel.is_none() && parallel != super::DEFAULT_PARALLEL;
        let batch = BatchOptions {
            parallel: parallel as usize,
            context_per_sequence: args.ctx,
            batch_tokens: 512,
            threads: args.threads,
            ..BatchOptions::default()
        };
        Ok(Local {
            engine,
            model_path,
            batch,
            sampling: settings.sampling.clone(),
            max_tokens: args.max_tokens,
            gpu_default,
        })
    }

    /// Holds at most `sequences` at once: a run with fewer rows than `--parallel` (one
    /// instruction, `--test-run`) would only hold a bigger KV cache, the rounds of a row running
    /// one after another.
    pub fn fit_to(&mut self, sequences: usize, quiet: bool) {
        self.batch.parallel = self.batch.parallel.min(sequences.max(1));
        if self.gpu_default && self.batch.parallel > super::DEFAULT_PARALLEL as usize && !quiet {
            eprintln!(
                "dagsmith: {} sequences at once (the model is on a GPU; --parallel N to choose)",
                self.batch.parallel
            );
        }
    }

    /// Sequences generated at once.
    pub fn parallel(&self) -> usize {
        self.batch.parallel
    }

    /// The model, for the output rows.
    pub fn model_record(&self) -> ModelRecord {
        let info = self.engine.info();
        ModelRecord::Local {
            file: info.file.clone(),
            name: info.name.clone(),
            sha256: model_sha256(&self.model_path),
            parameters: info.parameters,
        }
    }

    pub fn drive(&self, work: &mut dyn Work) -> Result<Totals, String> {
        let mut jobs = EngineJobs { work, sampling: &self.sampling, max_tokens: self.max_tokens };
        let stats = self.engine.run(&self.batch, &mut jobs).map_err(|e| e.to_string())?;
        Ok(Totals {
            wall: stats.wall,
            prompt_tokens: stats.prompt_tokens,
            generated_tokens: stats.generated_tokens,
            stopped_early: None,
        })
    }
}

/// The engine's job source, fed by the run's work.
struct EngineJobs<'a> {
    work: &'a mut dyn Work,
    sampling: &'a SamplingParams,
    max_tokens: u32,
}

impl EngineJobs<'_> {
    fn flow(&self) -> Flow {
        if self.work.stopping() { Flow::Stop } else { Flow::Continue }
    }
}

impl Jobs for EngineJobs<'_> {
    fn next(&mut self, _idle: bool) -> Option<(JobId, GenerationRequest)> {
        if self.work.stopping() {
            return None;
        }
        let next = self.work.next()?;
        let request = GenerationRequest {
            sampling: with_repeat_penalty(self.sampling, next.repeat_penalty),
            ..GenerationRequest::new(next.messages, self.max_tokens)
        };
        Some((next.task as JobId, request))
    }

    fn text(&mut self, id: JobId, text: &str, _: Progress) -> Flow {
        self.work.text(id as usize, text);
        self.flow()
    }

    fn poll(&mut self, _: JobId) -> Flow {
        self.work.tick();
        self.flow()
    }

    fn finished(&mut self, id: JobId, result: Result<Completion, RequestError>) {
        let outcome = match result {
            Ok(c) if c.finish == FinishReason::Cancelled => Outcome::Dropped(None),
            Ok(c) => Outcome::Answered(answered(c)),
            Err(e) => Outcome::Failed(e.to_string()),
        };
        self.work.finished(id as usize, outcome);
    }
}

fn answered(c: Completion) -> Answered {
    let end = match c.finish {
        FinishReason::Length => AnswerEnd::Length,
        FinishReason::Repetition => AnswerEnd::Repetition,
        FinishReason::Stop | FinishReason::Cancelled => AnswerEnd::Complete,
    };
    let tokens_per_second = c.tokens_per_second();
    Answered {
        finish: c.finish.as_str().to_string(),
        end,
        prompt_tokens: Some(c.prompt_tokens),
        completion_tokens: Some(c.completion_tokens),
        source: Source::Local {
            prompt_ms: c.prompt_ms,
            generation_ms: c.generation_ms,
            tokens_per_second,
        },
        text: c.text,
    }
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
