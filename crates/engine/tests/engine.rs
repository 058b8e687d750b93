//! The real engine on a real small GGUF (SmolLM2-135M-Instruct Q4_1, fetched by scripts/setup.sh
//! into the cache; `DAGSMITH_TEST_MODEL` points elsewhere).

use std::path::PathBuf;
use std::sync::OnceLock;

use dagsmith_engine::{
    BatchOptions, Completion, Engine, FinishReason, Flow, GenerationRequest, JobId, Jobs, Message,
    ModelOptions, Progress, RequestError, RunStats, SamplingParams,
};

fn model_path() -> PathBuf {
    if let Some(p) = std::env::var_os("DAGSMITH_TEST_MODEL") {
        return PathBuf::from(p);
    }
    let cache = std::env::var_os("DAGSMITH_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/dagsmith")
    });
    cache.join("models/SmolLM2-135M-Instruct.Q4_1.gguf")
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let path = model_path();
        Engine::load(&path, &ModelOptions::default()).unwrap_or_else(|e| {
            panic!(
                "{e}\n(the test model is fetched by scripts/setup.sh; or set DAGSMITH_TEST_MODEL)"
            )
        })
    })
}

fn request(instruction: &str, max_tokens: u32) -> GenerationRequest {
    let messages = dagsmith_core::prompt::messages(instruction, "3.1", None);
    GenerationRequest::new(messages, max_tokens)
}

const INSTRUCTIONS: &[&str] = &[
    "Write a DAG that runs a bash command every day.",
    "Create a TaskFlow pipeline that extracts, transforms and loads sales data.",
    "Build a DAG with a sensor waiting for a file, then a Python task.",
    "Make a DAG that branches on the weekday.",
    "Dynamic task mapping over three file names.",
    "A DAG with a task group of two tasks.",
];

fn options(parallel: usize) -> BatchOptions {
    BatchOptions {
        parallel,
        context_per_sequence: 1024,
        batch_tokens: 256,
        threads: Some(2),
        reuse_prefix: true,
        device_sampling: false,
    }
}

/// Every instruction, traced (tokens and greedy margins kept).
fn traced_requests(max_tokens: u32) -> Vec<GenerationRequest> {
    INSTRUCTIONS
        .iter()
        .map(|i| GenerationRequest { trace: true, ..request(i, max_tokens) })
        .collect()
}

/// Each request's completion, in order (request errors are test failures here).
fn completions(options: &BatchOptions, requests: Vec<GenerationRequest>) -> Vec<Completion> {
    engine().generate_all(options, requests).unwrap().into_iter().map(Result::unwrap).collect()
}

fn texts(results: Vec<Result<Completion, RequestError>>) -> Vec<String> {
    // (Request errors are test failures here.)
    results.into_iter().map(|r| r.expect("request succeeds").text).collect()
}

#[test]
fn renders_the_models_chat_template() {
    let e = engine();
    let prompt = e.render(&dagsmith_core::prompt::messages("Hi", "2.9", None)).unwrap();
    assert!(prompt.contains("<|im_start|>system\n"), "{prompt}");
    assert!(prompt.contains("<|im_start|>user\nHi\n\nAirflow Version: 2.9"), "{prompt}");
    assert!(prompt.ends_with("<|im_start|>assistant\n"), "{prompt}");
    // <|im_start|> is one special token, not its characters.
    let tokens = e.tokenize("<|im_start|>user");
    assert!(tokens.len() <= 3, "{tokens:?}");
}

/// Largest logit lead at which batched and one-at-a-time greedy runs may choose differently.
/// llama.cpp is not batch-invariant: its kernels and float sums depend on the batch shape (how
/// many sequences share a step, the context's sequence count, where KV cells sit), and with this
/// 4-bit 135M model logits moved by up to ~0.1 between the two runs; a token choice may only
/// flip where the top two logits are that close. A real batching bug (mixed-up sequence ids,
/// positions, logits rows or KV cells) diverges at a clear choice (leads of several logits) or
/// produces garbage, and fails.
const NEAR_TIE: f32 = 0.3;

/// Same greedy answer, or the same up to a near-tie (see [`NEAR_TIE`]).
fn assert_equivalent(what: &str, a: &Completion, b: &Completion) -> bool {
    let (at, bt) = (a.trace.as_ref().unwrap(), b.trace.as_ref().unwrap());
    match at.tokens.iter().zip(&bt.tokens).position(|(x, y)| x != y) {
        None => {
            assert_eq!(a.text, b.text, "{what}");
            true
        }
        Some(k) => {
            let margin = at.margins[k].min(bt.margins[k]);
            assert!(
                margin < NEAR_TIE,
                "{what} diverges at token {k} where the lead is {margin}:\n{:?}\n{:?}",
                a.text,
                b.text
            );
            false
        }
    }
}

#[test]
fn batched_greedy_output_equals_one_at_a_time() {
    let e = engine();
    let requests = traced_requests(40);
    let sequential = completions(&options(1), requests.clone());
    // 6 requests on 4 slots: two start only when earlier ones finish (continuous batching).
    let batched = completions(&options(4), requests);
    let mut identical = 0;
    for (i, (s, b)) in sequential.iter().zip(&batched).enumerate() {
        assert!(s.completion_tokens > 5, "request {i} generated {:?}", s.text);
        identical += assert_equivalent(&format!("request {i}"), s, b) as usize;
    }
    assert!(identical >= 1, "no request came out identical");
    // Greedy batch jobs are reproducible: the same batch twice gives the same text.
    let again: Vec<String> = e
        .generate_all(&options(4), INSTRUCTIONS.iter().map(|i| request(i, 40)).collect())
        .unwrap()
        .into_iter()
        .map(|r| r.unwrap().text)
        .collect();
    assert_eq!(again, batched.iter().map(|c| c.text.clone()).collect::<Vec<_>>());
}

#[test]
fn greedy_tokens_picked_inside_the_decode_match_the_hosts() {
    let e = engine();
    let requests = traced_requests(32);
    let host = completions(&options(4), requests.clone());
    let on_device = BatchOptions { device_sampling: true, ..options(4) };
    let device = completions(&on_device, requests);
    for (i, (h, d)) in host.iter().zip(&device).enumerate() {
        let (ht, dt) = (h.trace.as_ref().unwrap(), d.trace.as_ref().unwrap());
        // The tokens came from llama.cpp's sampler, not the host's argmax (which notes margins).
        assert!(dt.margins.is_empty() && dt.tokens.len() > 5, "request {i}: {dt:?}");
        // The same logits: the same answer, unless at a near-tie (an argmax over other floats).
        if let Some(k) = ht.tokens.iter().zip(&dt.tokens).position(|(x, y)| x != y) {
            assert!(ht.margins[k] < NEAR_TIE, "request {i} diverges at token {k}");
        } else {
            assert_eq!(h.text, d.text, "request {i}");
        }
    }
    // Requests that sample otherwise are refused, not answered greedily.
    let mut tempered = request(INSTRUCTIONS[0], 8);
    tempered.sampling = SamplingParams { temperature: 0.7, ..Default::default() };
    let refused = e.generate_all(&on_device, vec![tempered, request(INSTRUCTIONS[1], 8)]).unwrap();
    assert!(matches!(refused[0], Err(RequestError::NotGreedy)), "{:?}", refused[0]);
    assert!(refused[1].as_ref().is_ok_and(|c| c.completion_tokens > 0), "{:?}", refused[1]);
}

#[test]
fn max_tokens_and_stop_strings_end_generation() {
    let e = engine();
    let results = e.generate_all(&options(2), vec![request(INSTRUCTIONS[0], 7)]).unwrap();
    let c = results[0].as_ref().unwrap();
    assert_eq!(c.finish, FinishReason::Length);
    assert_eq!(c.completion_tokens, 7);
    assert!(c.prompt_tokens > 20);

    // Cut the same greedy answer at its second character: the stop string is not included.
    let full = &c.text;
    let cut: String = full.chars().skip(1).take(2).collect();
    let mut req = request(INSTRUCTIONS[0], 7);
    req.stop = vec![cut.clone()];
    let stopped = e.generate_all(&options(1), vec![req]).unwrap().remove(0).unwrap();
    assert_eq!(stopped.finish, FinishReason::Stop);
    assert_eq!(stopped.text, full[..full.find(&cut).unwrap()], "full answer {full:?}");
}

#[test]
fn sampling_is_seeded() {
    let e = engine();
    let mut req = request(INSTRUCTIONS[1], 24);
    req.sampling = SamplingParams { temperature: 0.9, top_p: 0.95, seed: 7, ..Default::default() };
    // Separate runs: within one run the second would start from the first's cached prompt, and a
    // prompt decoded in other batch shapes may round differently (see NEAR_TIE).
    let a = texts(e.generate_all(&options(1), vec![req.clone()]).unwrap());
    let b = texts(e.generate_all(&options(1), vec![req]).unwrap());
    assert_eq!(a, b, "same seed, same text");
}

/// Streams into a log and cancels one request after `cancel_after` pieces.
struct Recorder {
    queue: Vec<GenerationRequest>,
    cancel: JobId,
    cancel_after: usize,
    pieces: Vec<(JobId, String)>,
    done: Vec<(JobId, Result<Completion, RequestError>)>,
}

impl Jobs for Recorder {
    fn next(&mut self, _idle: bool) -> Option<(JobId, GenerationRequest)> {
        // Pops from the end: job ids count down to 0.
        let request = self.queue.pop()?;
        Some((self.queue.len() as JobId, request))
    }
    fn text(&mut self, id: JobId, text: &str, progress: Progress) -> Flow {
        assert!(progress.tokens >= 1);
        self.pieces.push((id, text.to_string()));
        let seen = self.pieces.iter().filter(|(i, _)| *i == id).count();
        if id == self.cancel && seen >= self.cancel_after { Flow::Stop } else { Flow::Continue }
    }
    fn finished(&mut self, id: JobId, result: Result<Completion, RequestError>) {
        self.done.push((id, result));
    }
}

#[test]
fn streaming_pieces_add_up_and_cancel_frees_the_slot() {
    let e = engine();
    // Job 0 has a prompt that cannot fit; jobs 1 and 2 generate, 1 is cancelled after 3 pieces.
    let long = "word ".repeat(2000);
    let mut rec = Recorder {
        queue: vec![
            request(&long, 10),
            request(INSTRUCTIONS[2], 30),
            GenerationRequest { trace: true, ..request(INSTRUCTIONS[3], 30) },
        ],
        cancel: 1,
        cancel_after: 3,
        pieces: Vec::new(),
        done: Vec::new(),
    };
    let stats = e.run(&options(2), &mut rec).unwrap();
    assert_eq!(stats.requests, 3);
    assert_eq!(rec.done.len(), 3);
    for (id, result) in &rec.done {
        match id {
            0 => assert!(matches!(result, Err(RequestError::PromptTooLong { .. })), "{result:?}"),
            1 => {
                let c = result.as_ref().unwrap();
                assert_eq!(c.finish, FinishReason::Cancelled);
                assert!(c.completion_tokens < 30);
            }
            _ => {
                let c = result.as_ref().unwrap();
                let streamed: String =
                    rec.pieces.iter().filter(|(i, _)| i == id).map(|(_, t)| t.as_str()).collect();
                assert_eq!(streamed, c.text, "streamed pieces make up the text");
                assert_ne!(c.finish, FinishReason::Cancelled);
            }
        }
    }
    // The cancelled request's slot was reused: the same answer as a run on its own.
    let alone = e
        .generate_all(
            &options(1),
            vec![GenerationRequest { trace: true, ..request(INSTRUCTIONS[3], 30) }],
        )
        .unwrap();
    let job2 = rec.done.iter().find(|(id, _)| *id == 2).unwrap().1.as_ref().unwrap();
    assert_equivalent("job 2", job2, alone[0].as_ref().unwrap());
}

#[test]
fn missing_model_is_a_clear_error() {
    let err = Engine::load(std::path::Path::new("/nonexistent/model.gguf"), &Default::default())
        .err()
        .unwrap();
    assert!(err.to_string().contains("dagsmith model fetch"), "{err}");
}

#[test]
fn layers_are_offloaded_only_to_the_gpus_llama_cpp_reports() {
    // Decided at run time (a GPU feature, or a dynamic-link build given a GPU build's
    // libraries): every layer by default when there is a GPU, none otherwise.
    let info = engine().info();
    if info.gpu_devices.is_empty() {
        assert_eq!(info.gpu_layers, 0);
    } else {
        assert!(info.gpu_layers > 0, "{:?}", info.gpu_devices);
    }
    // Layers asked for where there is no GPU are not reported as offloaded; on a GPU, as many
    // as asked, up to the model's all (the default above; DAGSMITH_TEST_MODEL may be small).
    let asked = Engine::load(&model_path(), &ModelOptions { gpu_layers: Some(5) }).unwrap();
    let expected = if asked.info().gpu_devices.is_empty() { 0 } else { info.gpu_layers.min(5) };
    assert_eq!(asked.info().gpu_layers, expected);
    // GPU memory is asked of llama.cpp only when layers are on a GPU.
    let none_on_gpu = Engine::load(&model_path(), &ModelOptions { gpu_layers: Some(0) }).unwrap();
    assert_eq!(none_on_gpu.gpu_free_bytes(), None);
    if info.gpu_devices.is_empty() {
        assert_eq!(engine().gpu_free_bytes(), None);
    }
}

#[test]
fn kv_cache_size_per_cell_follows_the_models_shape() {
    // SmolLM2-135M: 30 layers, 9 heads of 64 over 576 dimensions, 3 of them for keys and values:
    // 30 layers x (K + V) x 3 x 64 x 2 bytes of f16.
    if model_path().file_name().is_some_and(|f| f == "SmolLM2-135M-Instruct.Q4_1.gguf") {
        assert_eq!(engine().kv_bytes_per_cell(), 30 * 2 * 3 * 64 * 2);
    } else {
        assert!(engine().kv_bytes_per_cell() > 0);
    }
}

/// Runs `requests` in order; `follow_up` may turn a finished answer into one more request (a
/// repair round), queued first.
fn run_all(
    options: &BatchOptions,
    requests: Vec<GenerationRequest>,
    follow_up: fn(&GenerationRequest, &Completion) -> Option<GenerationRequest>,
) -> (Vec<Completion>, RunStats) {
    struct Queue {
        waiting: std::collections::VecDeque<(JobId, GenerationRequest)>,
        sent: Vec<GenerationRequest>,
        done: Vec<Option<Completion>>,
        follow_up: fn(&GenerationRequest, &Completion) -> Option<GenerationRequest>,
    }
    impl Jobs for Queue {
        fn next(&mut self, _idle: bool) -> Option<(JobId, GenerationRequest)> {
            self.waiting.pop_front()
        }
        fn text(&mut self, _: JobId, _: &str, _: Progress) -> Flow {
            Flow::Continue
        }
        fn finished(&mut self, id: JobId, result: Result<Completion, RequestError>) {
            let c = result.expect("request succeeds");
            if let Some(next) = (self.follow_up)(&self.sent[id as usize], &c) {
                self.sent.push(next.clone());
                self.done.push(None);
                self.waiting.push_front((self.sent.len() as JobId - 1, next));
            }
            self.done[id as usize] = Some(c);
        }
    }
    let n = requests.len();
    let mut q = Queue {
        waiting: requests.iter().cloned().enumerate().map(|(i, r)| (i as JobId, r)).collect(),
        sent: requests,
        done: (0..n).map(|_| None).collect(),
        follow_up,
    };
    let stats = engine().run(options, &mut q).unwrap();
    (q.done.into_iter().map(|c| c.expect("finished")).collect(), stats)
}

fn no_follow_up(_: &GenerationRequest, _: &Completion) -> Option<GenerationRequest> {
    None
}

#[test]
fn shared_prompt_prefixes_are_decoded_once() {
    let e = engine();
    let requests = traced_requests(24);
    let prompt_total: u64 =
        requests.iter().map(|r| e.prompt_tokens(&r.messages).unwrap() as u64).sum();
    // The system prompt and the chat template's opening are common to every request.
    let shared = {
        let a = e.tokenize(&e.render(&requests[0].messages).unwrap());
        let b = e.tokenize(&e.render(&requests[1].messages).unwrap());
        a.iter().zip(&b).take_while(|(x, y)| x == y).count() as u64
    };
    assert!(shared > 50, "only {shared} tokens in common");

    let off = BatchOptions { reuse_prefix: false, ..options(4) };
    let (plain, plain_stats) = run_all(&off, requests.clone(), no_follow_up);
    assert_eq!(plain_stats.prompt_tokens, prompt_total);
    assert_eq!(plain_stats.prompt_tokens_reused, 0);

    // 6 requests on 4 slots: the 4 that start together wait for one of them to decode the common
    // prefix; the last 2 find it in the cache.
    let (reused, stats) = run_all(&options(4), requests, no_follow_up);
    assert_eq!(stats.prompt_tokens + stats.prompt_tokens_reused, prompt_total);
    assert!(
        stats.prompt_tokens_reused >= 5 * shared,
        "{} of {prompt_total} prompt tokens reused, {shared} shared by all",
        stats.prompt_tokens_reused
    );
    let per_request: u64 = reused.iter().map(|c| c.reused_prompt_tokens as u64).sum();
    assert_eq!(per_request, stats.prompt_tokens_reused);
    // The generation steps' decode is timed within them: never zero, never more than the steps.
    assert!(stats.generation_steps_tokens > 0);
    assert!(!stats.generation_decode_time.is_zero());
    assert!(stats.generation_decode_time <= stats.generation_steps_time);
    let mut identical = 0;
    for (i, (a, b)) in plain.iter().zip(&reused).enumerate() {
        assert_eq!(a.prompt_tokens, b.prompt_tokens);
        identical += assert_equivalent(&format!("request {i}"), a, b) as usize;
    }
    assert!(identical >= 3, "only {identical} of 6 answers came out identical");
}

#[test]
fn a_repair_round_reuses_the_whole_first_round() {
    fn repair(sent: &GenerationRequest, c: &Completion) -> Option<GenerationRequest> {
        // Only one round: the repair prompt ends with the user's request to fix.
        if sent.messages.len() > 2 {
            return None;
        }
        let mut messages = sent.messages.clone();
        messages.push(Message { role: "assistant".into(), content: c.text.clone() });
        messages.push(Message { role: "user".into(), content: "Fix the imports.".into() });
        Some(GenerationRequest { messages, ..sent.clone() })
    }
    let e = engine();
    let first = GenerationRequest { trace: true, ..request(INSTRUCTIONS[0], 30) };
    let (done, stats) = run_all(&options(2), vec![first.clone()], repair);
    assert_eq!(done.len(), 2);
    let (round1, round2) = (&done[0], &done[1]);
    assert_eq!(stats.prompt_tokens_reused, round2.reused_prompt_tokens as u64);
    // The cache holds the first prompt and the answer's tokens (all but the last sampled one,
    // which was never decoded). The repair prompt renders that answer as text again: its tokens
    // match up to where the model's own tokenization differs from the canonical one, if at all.
    let mut cached: Vec<i32> =
        e.tokenize(&e.render(&first.messages).unwrap()).iter().map(|t| t.0).collect();
    let sampled = &round1.trace.as_ref().unwrap().tokens;
    cached.extend(&sampled[..sampled.len() - 1]);
    let mut messages = first.messages.clone();
    messages.push(Message { role: "assistant".into(), content: round1.text.clone() });
    messages.push(Message { role: "user".into(), content: "Fix the imports.".into() });
    let repair_prompt: Vec<i32> =
        e.tokenize(&e.render(&messages).unwrap()).iter().map(|t| t.0).collect();
    let common = cached.iter().zip(&repair_prompt).take_while(|(a, b)| a == b).count();
    assert_eq!(round2.reused_prompt_tokens as usize, common.min(repair_prompt.len() - 1));
    assert!(common > round1.prompt_tokens as usize, "{common} of {cached:?}");
}
