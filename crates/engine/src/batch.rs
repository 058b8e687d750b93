//! Continuous batching: up to `parallel` sequences share one llama.cpp context (a unified KV
//! cache) and one batch per decode step. Each step carries one new token per generating sequence
//! plus chunks of the prompts of sequences that just started; a finished sequence's slot is
//! cleared and takes the next request at once, so the batch stays full while work remains.
//! A new request starts from the longest prompt prefix already in the cache (see [`crate::prefix`]),
//! and an answer that loops is stopped (see [`crate::repetition`]).

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;

use crate::error::{EngineError, RequestError};
use crate::model::Engine;
use crate::prefix::{CacheMap, Plan};
use crate::repetition::RepetitionGuard;
use crate::request::{Completion, FinishReason, GenerationRequest, Trace};
use crate::sampling::{Sampler, argmax_rows};
use crate::stop::{find_stop, safe_len};
use crate::threads::physical_cores;
use crate::utf8::Utf8Buffer;

/// The caller's handle for a request.
pub type JobId = u64;

/// Whether a request goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue,
    Stop,
}

/// Where a running request stands, passed along with its streamed text.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    pub prompt_tokens: u32,
    /// New tokens so far.
    pub tokens: u32,
    /// Since the first new token.
    pub generation_ms: f64,
}

/// The source of requests and the sink of their results for one [`Engine::run`].
pub trait Jobs {
    /// The next request to start, if one is ready. `idle` is true when nothing is running: the
    /// call may then block until work arrives, and `None` ends the run. When `idle` is false it
    /// must not block (the running sequences wait for it).
    fn next(&mut self, idle: bool) -> Option<(JobId, GenerationRequest)>;

    /// New text of a running request (stop strings already held back). `Flow::Stop` cancels it.
    fn text(&mut self, id: JobId, text: &str, progress: Progress) -> Flow;

    /// Asked once per decode step for every running request; `Flow::Stop` cancels it (e.g. the
    /// client went away) and frees its slot before the next step.
    fn poll(&mut self, _id: JobId) -> Flow {
        Flow::Continue
    }

    /// The request ended: completed, cancelled (`finish == Cancelled`), or failed.
    fn finished(&mut self, id: JobId, result: Result<Completion, RequestError>);
}

/// Context and batch shape of a run.
#[derive(Clone, Debug)]
pub struct BatchOptions {
    /// Sequences decoded together.
    pub parallel: usize,
    /// KV cells per sequence: prompt plus new tokens must fit.
    pub context_per_sequence: u32,
    /// Tokens per decode step at most (prompt chunks fill what generation leaves).
    pub batch_tokens: u32,
    /// CPU threads; `None` = physical cores.
    pub threads: Option<usize>,
    /// Start each request from the longest prompt prefix already in the KV cache (see
    /// [`crate::prefix`]); off, every prompt is decoded in full (for comparisons).
    pub reuse_prefix: bool,
    /// Greedy tokens picked by llama.cpp inside the decode, on the model's device (its
    /// experimental backend sampling), instead of from logits copied to the host: with the
    /// model on a GPU that copy is every sequence's ~150k logits per step. Every request must
    /// then be plain greedy; others fail with [`RequestError::NotGreedy`].
    pub device_sampling: bool,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            parallel: 4,
            context_per_sequence: 4096,
            batch_tokens: 512,
            threads: None,
            reuse_prefix: true,
            device_sampling: false,
        }
    }
}

/// Counters of one run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunStats {
    pub requests: u64,
    pub decode_steps: u64,
    /// Prompt tokens decoded.
    pub prompt_tokens: u64,
    /// Prompt tokens taken from cells already in the KV cache instead (shared prefixes).
    pub prompt_tokens_reused: u64,
    /// New tokens sampled.
    pub generated_tokens: u64,
    /// Requests ended with [`FinishReason::Repetition`].
    pub repetition_stops: u64,
    /// Time in decode steps that carried prompt tokens (some also carried generation).
    pub prompt_steps_time: Duration,
    /// Time in decode steps that carried only generation tokens, sampling included.
    pub generation_steps_time: Duration,
    /// Of that, the time llama.cpp took to decode (until its results were ready): the rest is
    /// dagsmith's own work per step (sampling, text, stops).
    pub generation_decode_time: Duration,
    /// New tokens sampled in those steps.
    pub generation_steps_tokens: u64,
    pub wall: Duration,
}

struct Slot {
    id: JobId,
    prompt: Vec<LlamaToken>,
    /// Prompt tokens already in the KV cache.
    fed: usize,
    /// Of those, taken from cells that were already there.
    reused: usize,
    /// Waiting for another sequence to decode a shared prompt prefix.
    waiting: Option<Wait>,
    /// The sampled token to feed in the next step.
    pending: Option<LlamaToken>,
    /// Position of the next token fed.
    pos: i32,
    max_tokens: u32,
    ignore_eos: bool,
    generated: u32,
    sampler: Sampler,
    guard: Option<RepetitionGuard>,
    trace: Option<Trace>,
    stops: Vec<String>,
    text: String,
    /// Bytes of `text` already handed to the job source.
    streamed: usize,
    utf8: Utf8Buffer,
    started: Instant,
    first_token: Option<Instant>,
    /// Index of this slot's logits in the current batch.
    logits_at: Option<i32>,
}

/// A request waits for sequence `leader` (while it runs request `leader_id`) to have decoded the
/// first `tokens` tokens of its prompt.
#[derive(Clone, Copy, Debug)]
struct Wait {
    leader: usize,
    leader_id: JobId,
    tokens: usize,
}

impl Slot {
    fn feeding(&self) -> bool {
        self.waiting.is_none() && self.fed < self.prompt.len()
    }

    fn progress(&self) -> Progress {
        Progress {
            prompt_tokens: self.prompt.len() as u32,
            tokens: self.generated,
            generation_ms: self.first_token.map_or(0.0, |t| ms(t.elapsed())),
        }
    }

    fn completion(&self, finish: FinishReason) -> Completion {
        let now = Instant::now();
        let first = self.first_token.unwrap_or(now);
        Completion {
            text: self.text.clone(),
            finish,
            prompt_tokens: self.prompt.len() as u32,
            reused_prompt_tokens: self.reused as u32,
            completion_tokens: self.generated,
            prompt_ms: ms(first - self.started),
            generation_ms: ms(now - first),
            trace: self.trace.clone(),
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl Engine {
    /// Generates every request `jobs` hands out, `options.parallel` at a time, until `jobs`
    /// returns `None` while idle. Per-request failures go to [`Jobs::finished`]; an `Err` here
    /// means no context could be made.
    // Kept whole: one scheduling loop whose steps (fill slots, cancel, share prefixes, build the
    // batch, decode, sample) all work on `ctx`, `cache`, `slots` and `stats`; as helpers each
    // would take most of them by `&mut`, and the order of the steps would be harder to see.
    pub fn run(
        &self,
        options: &BatchOptions,
        jobs: &mut dyn Jobs,
    ) -> Result<RunStats, EngineError> {
        let parallel = options.parallel.max(1);
        let per_seq = options.context_per_sequence.max(16);
        let n_ctx = per_seq
            .checked_mul(parallel as u32)
            .ok_or_else(|| EngineError::Context("parallel x context is too large".into()))?;
        let threads = options.threads.unwrap_or_else(physical_cores).max(1) as i32;
        let n_batch = options.batch_tokens.max(parallel as u32).max(1);
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n_ctx))
            .with_n_batch(n_batch)
            .with_n_ubatch(n_batch)
            .with_n_seq_max(parallel as u32)
            // One KV pool for all sequences: without it each gets n_ctx / n_seq_max cells, and
            // sharing a prefix between sequences would copy whole buffers.
            .with_kv_unified(true)
            .with_n_threads(threads)
            .with_n_threads_batch(threads);
        let backend = crate::backend::backend()?;
        let mut ctx = if options.device_sampling {
            // A sampler chain per sequence (llama.cpp takes only chains), kept by the context.
            let greedy = (0..parallel)
                .map(|seq| (seq as i32, LlamaSampler::chain_simple([LlamaSampler::greedy()])));
            self.model.new_context_with_samplers(backend, params, greedy)
        } else {
            self.model.new_context(backend, params)
        }
        .map_err(|e| EngineError::Context(e.to_string()))?;
        let mut batch = LlamaBatch::new(n_batch as usize, 1);
        let n_vocab = self.model.n_vocab();
        // Greedy picks run here between decode steps, on as many threads as llama.cpp's kernels
        // (idle then); without a pool (threads could not be started) they run on this one.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads as usize)
            .thread_name(|i| format!("dagsmith-sample-{i}"))
            .build()
            .ok();

        let mut slots: Vec<Option<Slot>> = (0..parallel).map(|_| None).collect();
        // What each sequence has in the KV cache; kept after its request ends, for reuse.
        let mut cache = CacheMap::new(parallel);
        // Prompt length of each sequence's last request: an idle sequence keeps only that much.
        let mut prompt_len = vec![0usize; parallel];
        let mut stats = RunStats::default();
        let run_start = Instant::now();

        loop {
            // Fill free slots.
            let mut ended = false;
            for seq in 0..parallel {
                if slots[seq].is_some() {
                    continue;
                }
                let idle = slots.iter().all(Option::is_none);
                let Some((id, request)) = jobs.next(idle) else {
                    ended = idle;
                    break;
                };
                stats.requests += 1;
                match self.start(id, request, per_seq, n_vocab) {
                    Ok(slot) if options.device_sampling && !slot.sampler.is_argmax() => {
                        jobs.finished(id, Err(RequestError::NotGreedy));
                    }
                    Ok(mut slot) => {
                        prompt_len[seq] = slot.prompt.len();
                        begin(&mut ctx, &mut cache, &slots, seq, &mut slot, options.reuse_prefix);
                        if slot.waiting.is_none() {
                            stats.prompt_tokens_reused += slot.reused as u64;
                        }
                        slots[seq] = Some(slot);
                    }
                    Err(e) => jobs.finished(id, Err(e)),
                }
            }
            // Idle sequences keep their prompt (a shared prefix, a repair round's start) but not
            // their answer: cells in use widen every sequence's attention in a unified cache.
            for seq in 0..parallel {
                if slots[seq].is_none() && cache.tokens(seq).len() > prompt_len[seq] {
                    keep(&mut ctx, &mut cache, seq, prompt_len[seq]);
                }
            }
            if slots.iter().all(Option::is_none) {
                // Over when the source said so while idle; otherwise requests failed to start.
                if ended {
                    break;
                }
                continue;
            }

            // Cancellations before spending a step on them.
            for seq in 0..parallel {
                if let Some(slot) = &slots[seq]
                    && jobs.poll(slot.id) == Flow::Stop
                {
                    self.finish(&mut slots, seq, FinishReason::Cancelled, jobs);
                }
            }

            // Requests waiting for a shared prefix: copy it once their leader has decoded it; plan
            // again when the leader's request is gone.
            for seq in 0..parallel {
                let Some(wait) = slots[seq].as_ref().and_then(|s| s.waiting) else { continue };
                let leader_on = slots[wait.leader].as_ref().is_some_and(|l| l.id == wait.leader_id);
                let mut slot = slots[seq].take().expect("checked above");
                slot.waiting = None;
                if leader_on && cache.tokens(wait.leader).len() >= wait.tokens {
                    adopt(&mut ctx, &mut cache, &mut slot, wait.leader, seq, wait.tokens);
                } else if leader_on {
                    slot.waiting = Some(wait);
                } else {
                    begin(&mut ctx, &mut cache, &slots, seq, &mut slot, options.reuse_prefix);
                }
                if slot.waiting.is_none() {
                    stats.prompt_tokens_reused += slot.reused as u64;
                }
                slots[seq] = Some(slot);
            }

            // One batch: a token per generating sequence, then prompt chunks.
            batch.clear();
            let mut budget = n_batch as usize;
            let mut has_prompt = false;
            for (seq, slot) in slots.iter_mut().enumerate() {
                let Some(slot) = slot else { continue };
                slot.logits_at = None;
                if let Some(tok) = slot.pending.take() {
                    slot.logits_at = Some(batch.n_tokens());
                    batch
                        .add(tok, slot.pos, &[seq as i32], true)
                        .expect("batch sized for one token per sequence");
                    cache.push(seq, tok);
                    slot.pos += 1;
                    budget -= 1;
                }
            }
            for (seq, slot) in slots.iter_mut().enumerate() {
                let Some(slot) = slot else { continue };
                if !slot.feeding() || budget == 0 {
                    continue;
                }
                let take = (slot.prompt.len() - slot.fed).min(budget);
                for i in 0..take {
                    let last = slot.fed + i + 1 == slot.prompt.len();
                    if last {
                        slot.logits_at = Some(batch.n_tokens());
                    }
                    let tok = slot.prompt[slot.fed + i];
                    batch.add(tok, slot.pos, &[seq as i32], last).expect("within the batch budget");
                    cache.push(seq, tok);
                    slot.pos += 1;
                }
                slot.fed += take;
                budget -= take;
                stats.prompt_tokens += take as u64;
                has_prompt = true;
            }
            if batch.n_tokens() == 0 {
                continue;
            }

            let step_start = Instant::now();
            if let Err(e) = ctx.decode(&mut batch) {
                // The batch is lost for every sequence in it: fail them, keep serving.
                let reason = e.to_string();
                for (seq, slot) in slots.iter_mut().enumerate() {
                    if let Some(slot) = slot.take() {
                        jobs.finished(slot.id, Err(RequestError::Decode(reason.clone())));
                    }
                    keep(&mut ctx, &mut cache, seq, 0);
                }
                continue;
            }
            stats.decode_steps += 1;
            // Decoding may go on asynchronously (on a GPU); reading logits would wait for it.
            ctx.synchronize();
            let decoded = step_start.elapsed();

            // Tokens llama.cpp picked on the device first (device sampling; none where it could
            // not attach the sampler, and then copied the logits as without it); then the other
            // greedy sequences' argmax, over all threads; the rest sample one by one.
            let mut picked: Vec<Option<(LlamaToken, Option<f32>)>> = (0..parallel)
                .map(|seq| {
                    let index = slots[seq].as_ref()?.logits_at?;
                    let token = options.device_sampling.then(|| ctx.sampled_token_ith(index))?;
                    Some((token?, None))
                })
                .collect();
            let (greedy, rows): (Vec<usize>, Vec<&[f32]>) = (0..parallel)
                .filter(|&seq| picked[seq].is_none())
                .filter_map(|seq| {
                    let slot = slots[seq].as_ref()?;
                    let index = slot.logits_at.filter(|_| slot.sampler.is_argmax())?;
                    Some((seq, ctx.get_logits_ith(index)))
                })
                .unzip();
            for (seq, (best, margin)) in greedy.into_iter().zip(argmax_rows(&rows, pool.as_ref())) {
                picked[seq] = Some((LlamaToken(best as i32), Some(margin)));
            }
            let mut sampled = 0;
            for seq in 0..parallel {
                let Some(slot) = &mut slots[seq] else { continue };
                let Some(index) = slot.logits_at else { continue };
                let (token, margin) =
                    picked[seq].unwrap_or_else(|| slot.sampler.sample(&ctx, index));
                if let Some(trace) = &mut slot.trace {
                    trace.tokens.push(token.0);
                    trace.margins.extend(margin);
                }
                let now = Instant::now();
                slot.first_token.get_or_insert(now);
                stats.generated_tokens += 1;
                sampled += 1;
                if !slot.ignore_eos && self.is_end(token) {
                    self.finish(&mut slots, seq, FinishReason::Stop, jobs);
                    continue;
                }
                slot.generated += 1;
                let piece = self.model.vocab().token_to_piece(token, false, None);
                let new_text = slot.utf8.push(&piece);
                let tail_from = slot.text.len();
                slot.text.push_str(&new_text);
                if let Some(at) = find_stop(&slot.text, &slot.stops, tail_from) {
                    slot.text.truncate(at);
                    self.finish(&mut slots, seq, FinishReason::Stop, jobs);
                    continue;
                }
                if slot.guard.as_mut().is_some_and(|g| g.push(&new_text).is_some()) {
                    stats.repetition_stops += 1;
                    self.finish(&mut slots, seq, FinishReason::Repetition, jobs);
                    continue;
                }
                if slot.generated >= slot.max_tokens {
                    self.finish(&mut slots, seq, FinishReason::Length, jobs);
                    continue;
                }
                let safe = safe_len(&slot.text, &slot.stops);
                if safe > slot.streamed {
                    let progress = slot.progress();
                    let flow = jobs.text(slot.id, &slot.text[slot.streamed..safe], progress);
                    slot.streamed = safe;
                    if flow == Flow::Stop {
                        self.finish(&mut slots, seq, FinishReason::Cancelled, jobs);
                        continue;
                    }
                }
                slot.pending = Some(token);
            }
            let spent = step_start.elapsed();
            if has_prompt {
                stats.prompt_steps_time += spent;
            } else {
                stats.generation_steps_time += spent;
                stats.generation_decode_time += decoded;
                stats.generation_steps_tokens += sampled;
            }
        }
        stats.wall = run_start.elapsed();
        Ok(stats)
    }

    fn start(
        &self,
        id: JobId,
        request: GenerationRequest,
        per_seq: u32,
        n_vocab: i32,
    ) -> Result<Slot, RequestError> {
        let prompt = self.tokenize(&self.render(&request.messages)?);
        let room = (per_seq as usize).saturating_sub(prompt.len());
        if prompt.is_empty() || room == 0 {
            return Err(RequestError::PromptTooLong {
                prompt_tokens: prompt.len(),
                context: per_seq as usize,
            });
        }
        Ok(Slot {
            id,
            max_tokens: request.max_tokens.min(room as u32).max(1),
            ignore_eos: request.ignore_eos,
            prompt,
            fed: 0,
            reused: 0,
            waiting: None,
            pending: None,
            pos: 0,
            generated: 0,
            sampler: Sampler::new(&request.sampling, n_vocab),
            guard: request.stop_on_repetition.then(RepetitionGuard::default),
            trace: request.trace.then(Trace::default),
            stops: request.stop.into_iter().filter(|s| !s.is_empty()).collect(),
            text: String::new(),
            streamed: 0,
            utf8: Utf8Buffer::default(),
            started: Instant::now(),
            first_token: None,
            logits_at: None,
        })
    }

    /// Ends the request in slot `seq`: streams what was held back (unless cancelled) and reports
    /// it. Its KV cells stay for the next request (see [`crate::prefix`]).
    fn finish(
        &self,
        slots: &mut [Option<Slot>],
        seq: usize,
        reason: FinishReason,
        jobs: &mut dyn Jobs,
    ) {
        let Some(mut slot) = slots[seq].take() else { return };
        if reason != FinishReason::Cancelled {
            let rest = slot.utf8.finish();
            slot.text.push_str(&rest);
            if slot.text.len() > slot.streamed {
                let progress = slot.progress();
                // The request is over either way; a Stop here changes nothing.
                let _ = jobs.text(slot.id, &slot.text[slot.streamed..], progress);
                slot.streamed = slot.text.len();
            }
        }
        jobs.finished(slot.id, Ok(slot.completion(reason)));
    }

    /// Generates all `requests` (convenience over [`Engine::run`]); results in request order.
    pub fn generate_all(
        &self,
        options: &BatchOptions,
        requests: Vec<GenerationRequest>,
    ) -> Result<Vec<Result<Completion, RequestError>>, EngineError> {
        struct All {
            queue: std::vec::IntoIter<GenerationRequest>,
            next_id: JobId,
            results: Vec<Option<Result<Completion, RequestError>>>,
        }
        impl Jobs for All {
            fn next(&mut self, _idle: bool) -> Option<(JobId, GenerationRequest)> {
                let r = self.queue.next()?;
                self.next_id += 1;
                Some((self.next_id - 1, r))
            }
            fn text(&mut self, _: JobId, _: &str, _: Progress) -> Flow {
                Flow::Continue
            }
            fn finished(&mut self, id: JobId, result: Result<Completion, RequestError>) {
                self.results[id as usize] = Some(result);
            }
        }
        let n = requests.len();
        let mut all = All {
            queue: requests.into_iter(),
            next_id: 0,
            results: (0..n).map(|_| None).collect(),
        };
        self.run(options, &mut all)?;
        Ok(all
            .results
            .into_iter()
            .map(|r| r.expect("every request is finished before run returns"))
            .collect())
    }
}

/// Plans where the request in `slot` (for sequence `seq`, not yet in `slots`) gets its first
/// prompt tokens, and copies them or sets it waiting.
fn begin(
    ctx: &mut LlamaContext<'_>,
    cache: &mut CacheMap<LlamaToken>,
    slots: &[Option<Slot>],
    seq: usize,
    slot: &mut Slot,
    reuse: bool,
) {
    if !reuse {
        adopt(ctx, cache, slot, seq, seq, 0);
        return;
    }
    let feeding: Vec<(usize, &[LlamaToken])> = slots
        .iter()
        .enumerate()
        .filter_map(|(s, other)| other.as_ref().filter(|o| o.feeding()).map(|o| (s, &o.prompt[..])))
        .collect();
    match cache.plan(seq, &slot.prompt, &feeding) {
        Plan::Copy { from, tokens } => adopt(ctx, cache, slot, from, seq, tokens),
        Plan::Wait { leader, tokens } => {
            let leader_id = slots[leader].as_ref().expect("a feeding sequence").id;
            slot.waiting = Some(Wait { leader, leader_id, tokens });
        }
    }
}

/// Gives sequence `seq` the first `tokens` cells of sequence `from` (its own, or shared with
/// another: llama.cpp adds `seq` to those cells, nothing is copied) and nothing else; the request
/// in `slot` goes on from there.
fn adopt(
    ctx: &mut LlamaContext<'_>,
    cache: &mut CacheMap<LlamaToken>,
    slot: &mut Slot,
    from: usize,
    seq: usize,
    tokens: usize,
) {
    let mut tokens = tokens;
    if from == seq {
        tokens = keep(ctx, cache, seq, tokens);
    } else {
        keep(ctx, cache, seq, 0);
        if tokens > 0 {
            let copied =
                ctx.copy_kv_cache_seq(from as i32, seq as i32, Some(0), Some(tokens as u32));
            if copied.is_ok() {
                cache.copy(from, seq, tokens);
            } else {
                tokens = 0;
            }
        }
    }
    slot.fed = tokens;
    slot.reused = tokens;
    slot.pos = tokens as i32;
}

/// Sequence `seq` keeps its first `len` cells; returns how many it kept (0 when llama.cpp cannot
/// cut a sequence in the middle, which only recurrent models refuse).
fn keep(
    ctx: &mut LlamaContext<'_>,
    cache: &mut CacheMap<LlamaToken>,
    seq: usize,
    len: usize,
) -> usize {
    let cut = if len == 0 { None } else { Some(len as u32) };
    let len = match ctx.clear_kv_cache_seq(Some(seq as u32), cut, None) {
        Ok(true) => len,
        _ => {
            let _ = ctx.clear_kv_cache_seq(Some(seq as u32), None, None);
            0
        }
    };
    cache.truncate(seq, len);
    len
}
