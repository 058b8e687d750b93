//! The dispatcher against scripted servers on 127.0.0.1 (`examples/mock_backend/server.rs`):
//! every request ends exactly once, whatever the servers do.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use dagsmith_core::dataset::Message;
use dagsmith_remote::{BackendSpec, ChatParams, Client, Dispatcher, Event, Failure, Options};

#[path = "../examples/mock_backend/server.rs"]
mod server;
use server::{Behaviour, MockBackend};

fn options(tries: u32) -> Options {
    Options {
        params: ChatParams {
            max_tokens: 64,
            temperature: 0.0,
            top_p: 1.0,
            top_k: 40,
            min_p: 0.0,
            repeat_penalty: 1.0,
            seed: 42,
        },
        model_name: None,
        default_parallel: 4,
        tries,
        give_up_after: Duration::from_secs(30),
    }
}

fn spec(mock: &MockBackend, parallel: usize) -> BackendSpec {
    BackendSpec { parallel: Some(parallel), ..BackendSpec::from_url(&mock.url).unwrap() }
}

fn messages(i: u64) -> Vec<Message> {
    vec![Message { role: "user".into(), content: format!("request {i}") }]
}

/// Submits `n` requests as room allows and collects how each ended.
fn run_all(d: &mut Dispatcher, n: u64) -> HashMap<u64, Vec<Result<String, Failure>>> {
    let mut ended: HashMap<u64, Vec<Result<String, Failure>>> = HashMap::new();
    let mut next = 0;
    let start = Instant::now();
    while next < n || d.in_flight() > 0 {
        assert!(start.elapsed() < Duration::from_secs(60), "stuck: {} in flight", d.in_flight());
        while next < n && d.has_room() {
            d.submit(next, messages(next), false);
            next += 1;
        }
        match d.next_event(Duration::from_millis(100)) {
            Some(Event::Done { id, result }) => {
                ended.entry(id).or_default().push(result.map(|r| r.backend));
            }
            Some(Event::AllDown(m)) => panic!("all down: {m}"),
            _ => {}
        }
    }
    ended
}

#[test]
fn no_request_is_lost_or_duplicated_under_faults() {
    let answers = vec!["```python\nx = 1\n```".to_string()];
    let s500 = Behaviour::Status { code: 500, retry_after: None };
    let s503 = Behaviour::Status { code: 503, retry_after: None };
    let s429 = Behaviour::Status { code: 429, retry_after: Some(0) };
    let mut script = Vec::new();
    for i in 0..60 {
        script.push(match i % 5 {
            0 => s500.clone(),
            1 => s429.clone(),
            2 => s503.clone(),
            _ => Behaviour::Answer,
        });
    }
    let a = MockBackend::start(Behaviour::Answer, script.clone(), answers.clone());
    let b = MockBackend::start(Behaviour::Answer, script, answers.clone());
    // Dies after a few answers: its requests in flight must end elsewhere.
    let c = MockBackend::start(
        Behaviour::Answer,
        vec![Behaviour::Answer, Behaviour::Answer, Behaviour::Die],
        answers,
    );
    let client = Client::new(Duration::from_secs(5));
    let mut d = Dispatcher::start(client, vec![spec(&a, 3), spec(&b, 2), spec(&c, 2)], options(10));
    let ended = run_all(&mut d, 300);
    assert_eq!(ended.len(), 300);
    for (id, results) in &ended {
        assert_eq!(results.len(), 1, "request {id} ended {} times", results.len());
        assert!(results[0].is_ok(), "request {id}: {:?}", results[0]);
    }
    let answered: u64 =
        [&a, &b, &c].iter().map(|m| m.chats.load(std::sync::atomic::Ordering::Relaxed)).sum();
    assert_eq!(answered, 300, "each answered once, nothing generated twice");
}

#[test]
fn a_request_failing_everywhere_gives_up_after_its_tries() {
    let broken = MockBackend::start(
        Behaviour::Status { code: 500, retry_after: None },
        vec![],
        vec!["x".into()],
    );
    let mut d =
        Dispatcher::start(Client::new(Duration::from_secs(5)), vec![spec(&broken, 1)], options(3));
    let ended = run_all(&mut d, 1);
    match &ended[&0][..] {
        [Err(Failure::GaveUp(m))] => {
            assert!(m.starts_with("3 tries failed, the last: http://"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(broken.chat_requests().len(), 3);
}

#[test]
fn a_bad_request_is_rejected_once_and_a_denying_backend_is_set_aside() {
    let bad = MockBackend::start(
        Behaviour::Status { code: 400, retry_after: None },
        vec![],
        vec!["x".into()],
    );
    let mut d =
        Dispatcher::start(Client::new(Duration::from_secs(5)), vec![spec(&bad, 1)], options(3));
    let ended = run_all(&mut d, 1);
    assert!(
        matches!(&ended[&0][..], [Err(Failure::Rejected(m))] if m.contains("HTTP 400: mock status 400"))
    );
    assert_eq!(bad.chat_requests().len(), 1, "a 4xx is not tried again");

    let denying = MockBackend::start(
        Behaviour::Status { code: 401, retry_after: None },
        vec![],
        vec!["x".into()],
    );
    let good = MockBackend::start(Behaviour::Answer, vec![], vec!["x".into()]);
    let mut d = Dispatcher::start(
        Client::new(Duration::from_secs(5)),
        vec![spec(&denying, 4), spec(&good, 1)],
        options(3),
    );
    let ended = run_all(&mut d, 20);
    assert_eq!(ended.len(), 20);
    for results in ended.values() {
        assert_eq!(results, &[Ok(good.url.clone())]);
    }
    // Set aside at its first 401: it saw at most the requests sent before the answer came.
    assert!(denying.chat_requests().len() <= 4, "{}", denying.chat_requests().len());
}

/// Submits `n` requests as room allows until the dispatcher gives up: the ids answered, and
/// why it gave up.
fn run_until_all_down(d: &mut Dispatcher, n: u64) -> (Vec<u64>, String) {
    let (mut answered, mut next) = (Vec::new(), 0);
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < Duration::from_secs(60), "never gave up");
        while next < n && d.has_room() {
            d.submit(next, messages(next), false);
            next += 1;
        }
        match d.next_event(Duration::from_millis(100)) {
            Some(Event::Done { id, result }) => {
                assert!(result.is_ok(), "{result:?}");
                answered.push(id);
            }
            Some(Event::AllDown(why)) => return (answered, why),
            _ => {}
        }
    }
}

#[test]
fn a_backend_refusing_us_from_the_start_ends_the_run_at_once() {
    // A wrong key: every chat request is refused while /v1/models answers (as llama-server's
    // does without a key), so probes alone would bring it back forever.
    let denying = MockBackend::start(
        Behaviour::Status { code: 401, retry_after: None },
        vec![],
        vec!["x".into()],
    );
    let mut d = Dispatcher::start(
        Client::new(Duration::from_secs(5)),
        vec![spec(&denying, 2)],
        Options { give_up_after: Duration::from_secs(300), ..options(3) },
    );
    let start = Instant::now();
    let (answered, why) = run_until_all_down(&mut d, 5);
    assert!(answered.is_empty());
    assert!(why.contains("every backend refused") && why.contains("HTTP 401"), "{why}");
    assert!(start.elapsed() < Duration::from_secs(10), "{:?}", start.elapsed());
    assert!(denying.chat_requests().len() <= 2, "{}", denying.chat_requests().len());
}

#[test]
fn a_backend_refusing_us_after_answering_is_given_up_on() {
    // Two answers, then 401s (a key rotated mid-run): set aside, probed (which succeeds),
    // refused again... until --give-up-after, instead of for ever.
    let rotated = MockBackend::start(
        Behaviour::Status { code: 401, retry_after: None },
        vec![Behaviour::Answer, Behaviour::Answer],
        vec!["x".into()],
    );
    let mut d = Dispatcher::start(
        Client::new(Duration::from_secs(5)),
        vec![spec(&rotated, 1)],
        Options { give_up_after: Duration::from_secs(3), ..options(3) },
    );
    let start = Instant::now();
    let (answered, why) = run_until_all_down(&mut d, 5);
    assert_eq!(answered, [0, 1]);
    assert!(why.contains("no backend has answered for 3 s") && why.contains("HTTP 401"), "{why}");
    assert!(start.elapsed() < Duration::from_secs(20), "{:?}", start.elapsed());
    // Probed after 1 s, then 2 s: a refused request each time it came back, no more.
    assert!(rotated.chat_requests().len() <= 5, "{}", rotated.chat_requests().len());
}

#[test]
fn the_least_loaded_backend_gets_the_next_request() {
    // Two hanging backends with room for 3 and 1: four requests fill both, by load.
    let big = MockBackend::start(Behaviour::Hang, vec![], vec!["x".into()]);
    let small = MockBackend::start(Behaviour::Hang, vec![], vec!["x".into()]);
    let mut d = Dispatcher::start(
        Client::new(Duration::from_secs(30)),
        vec![spec(&big, 3), spec(&small, 1)],
        options(3),
    );
    let start = Instant::now();
    while !d.backends().iter().all(|b| b.usable) {
        assert!(start.elapsed() < Duration::from_secs(10), "discovery");
        d.next_event(Duration::from_millis(20));
    }
    for i in 0..4 {
        assert!(d.has_room(), "room for request {i}");
        d.submit(i, messages(i), false);
    }
    assert!(!d.has_room());
    let loads: Vec<(usize, usize)> =
        d.backends().iter().map(|b| (b.in_flight, b.parallel)).collect();
    assert_eq!(loads, [(3, 3), (1, 1)]);
    d.cancel_all();
    assert_eq!(d.in_flight(), 0);
}

#[test]
fn an_answer_written_a_token_at_a_time_reads_as_the_whole_one() {
    // Chunked, an event per write with pauses between (as a generating server sends them): the
    // same text, finish reason and usage as the same answer sent in one piece.
    let answer = "```python\nfrom airflow.sdk import DAG  # \"quotes\", ü, 😀\n```".to_string();
    let whole = MockBackend::start(Behaviour::Answer, Vec::new(), vec![answer.clone()]);
    let paced = MockBackend::start(Behaviour::Answer, Vec::new(), vec![answer.clone()])
        .paced(Duration::from_millis(1));
    let client = Client::new(Duration::from_secs(5));
    let body = options(1).params.body("mock-model", &messages(0));
    let never = std::sync::atomic::AtomicBool::new(false);
    let read = |mock: &MockBackend| {
        let mut pieces = 0;
        let gap = dagsmith_remote::client::BATCH_READ_GAP;
        let a = client.chat(&spec(mock, 1), &body, &never, gap, &mut |_| pieces += 1).unwrap();
        (a.text, a.finish, a.prompt_tokens, a.completion_tokens, pieces)
    };
    let (w, p) = (read(&whole), read(&paced));
    assert_eq!(w.0, answer);
    assert_eq!((&w.0, &w.1, w.2, w.3), (&p.0, &p.1, p.2, p.3));
    assert!(p.4 > 10, "a piece per token: {}", p.4);
}
