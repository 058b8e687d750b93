//! `dagsmith generate` on OpenAI-compatible backends, over real sockets on 127.0.0.1: two real
//! `dagsmith serve` processes with the tiny model (one killed mid-run), and a scripted mock
//! server (`crates/remote/examples/mock_backend/server.rs`) for the faults a real server cannot
//! be made to show on cue: 429 with Retry-After, 500, a hang, a server that goes away.

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::mock_backend::{Behaviour, MockBackend};
use common::{TempDir, test_model};

const BIN: &str = env!("CARGO_BIN_EXE_dagsmith");

/// An answer that Airflow 2.9 loads.
const DAG: &str = "```python
from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG(dag_id=\"hello\", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    BashOperator(task_id=\"say_hello\", bash_command=\"echo hello\")
```";

/// Short prompts: the tiny model's answers are nonsense anyway, and CI machines are slow.
const SHORT: [&str; 4] = ["--no-api-sheet", "--system-prompt", "Write an Airflow DAG.", "-q"];

fn dataset(n: usize) -> String {
    (1..=n)
        .map(|i| {
            serde_json::json!({
                "messages": [{"role": "user", "content": format!("DAG number {i}\n\nAirflow Version: 2.9.3")}],
                "metadata": {"file_name": format!("dag_{i}")},
            })
            .to_string()
                + "\n"
        })
        .collect()
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir).arg("generate").args(args).env_remove("DAGSMITH_API_KEY");
    cmd.env_remove("OPENAI_API_KEY").env_remove("JOB_COMPLETION_INDEX");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn written(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("every output line is JSON"))
        .collect()
}

/// The input lines of the rows, in file order.
fn row_numbers(rows: &[Value]) -> Vec<u64> {
    rows.iter().map(|r| r["metadata"]["dagsmith"]["row"].as_u64().unwrap()).collect()
}

fn assert_each_once(rows: &[Value], n: u64) {
    let mut seen = row_numbers(rows);
    seen.sort_unstable();
    assert_eq!(seen, (1..=n).collect::<Vec<_>>(), "every row exactly once");
}

fn attempts(row: &Value) -> &Vec<Value> {
    row["metadata"]["dagsmith"]["attempts"].as_array().unwrap()
}

/// `dagsmith serve` with the tiny model on a free port, one slot.
struct Serve {
    child: Child,
    url: String,
}

impl Serve {
    fn start() -> Serve {
        let model = test_model();
        let mut child = Command::new(BIN)
            .args(["serve", "--model", model.to_str().unwrap(), "--port", "0", "--parallel", "1"])
            .args(["--threads", "1", "--ctx", "1024", "--max-tokens", "32"])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let url = loop {
            let line = lines.next().expect("serve printed its address").unwrap();
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        // Keep draining stderr so that the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Serve { child, url }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn two_serve_backends_one_killed_mid_run_every_row_once() {
    let dir = TempDir::new("killed");
    let (a, mut b) = (Serve::start(), Serve::start());
    fs::write(dir.0.join("rows.jsonl"), dataset(10)).unwrap();
    let out = dir.0.join("out.jsonl");
    let child = Command::new(BIN)
        .current_dir(&dir.0)
        .args(["generate", "--input", "rows.jsonl", "-o", "out.jsonl", "--max-tokens", "16"])
        .args(["--backend", &a.url, "--backend", &b.url, "--timeout", "60"])
        .args(&SHORT[..3])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while written(&out).len() < 2 {
        assert!(start.elapsed() < Duration::from_secs(300), "no rows in 5 minutes");
        std::thread::sleep(Duration::from_millis(20));
    }
    b.child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{err}");
    let rows = written(&out);
    assert_eq!(rows.len(), 10, "{err}");
    assert_each_once(&rows, 10);
    // Discovery read each server's slots from /api/health.
    assert!(err.contains(&format!("{}: model ", a.url)) && err.contains("1 in parallel"), "{err}");
    // The killed server was noticed, and every row after it came from the other one.
    assert!(err.contains(&b.url) && err.contains("set aside"), "{err}");
    let by: Vec<&str> = rows.iter().map(|r| attempts(r)[0]["backend"].as_str().unwrap()).collect();
    assert!(by.iter().all(|u| *u == a.url || *u == b.url));
    assert!(by.iter().any(|u| *u == a.url));
    for r in &rows {
        let attempt = &attempts(r)[0];
        assert!(attempt["completion_tokens"].as_u64().unwrap() <= 16, "usage recorded");
        assert!(attempt["prompt_tokens"].as_u64().unwrap() > 5);
        assert!(attempt["latency_ms"].as_f64().unwrap() > 0.0);
        assert!(attempt["findings"].is_array(), "validated like local answers");
        assert_eq!(r["metadata"]["dagsmith"]["backends"][1], b.url);
    }
}

#[test]
fn faults_429_500_and_a_hang_lose_nothing_and_the_key_is_sent() {
    let dir = TempDir::new("faults");
    let answers = vec![DAG.to_string()];
    let busy = MockBackend::start(
        Behaviour::Answer,
        vec![Behaviour::Status { code: 429, retry_after: Some(1) }],
        answers.clone(),
    );
    let broken = MockBackend::start(
        Behaviour::Status { code: 500, retry_after: None },
        vec![],
        answers.clone(),
    );
    let hung = MockBackend::start(Behaviour::Hang, vec![], answers.clone());
    let good = MockBackend::start(Behaviour::Answer, vec![], answers);
    let file = format!(
        "# one of each\n{} parallel=1\n{} parallel=1\n{} parallel=1\n{} parallel=1 api-key=per-backend\n",
        busy.url, broken.url, hung.url, good.url
    );
    fs::write(dir.0.join("fleet.txt"), file).unwrap();
    fs::write(dir.0.join("rows.jsonl"), dataset(12)).unwrap();
    let out = run(
        &dir.0,
        &["--input", "rows.jsonl", "-o", "o.jsonl", "--backends", "fleet.txt", "--timeout", "2"],
        &[("DAGSMITH_API_KEY", "k-test")],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let rows = written(&dir.0.join("o.jsonl"));
    assert_each_once(&rows, 12);
    for r in &rows {
        let a = &attempts(r)[0];
        let backend = a["backend"].as_str().unwrap();
        assert!(backend == busy.url || backend == good.url, "{backend}");
        assert_eq!(a["model"], "mock-model");
        assert_eq!(a["loads"], true, "{a}");
        assert_eq!(r["metadata"]["dagsmith"]["loads"], true);
    }
    // The rows that met the 500s and the hang were tried again elsewhere.
    let retried = rows.iter().filter(|r| attempts(r)[0]["tries"].as_u64().unwrap() > 1).count();
    assert!(retried >= 1, "{err}");
    assert!(broken.chat_requests().len() >= 2, "{err}");
    assert!(
        err.contains(&format!("{}: HTTP 500", broken.url)) && err.contains("set aside"),
        "{err}"
    );
    assert!(!hung.chat_requests().is_empty());
    // The key: the environment's, except where the file gives one; on every request.
    for mock in [&busy, &broken, &hung] {
        let requests = mock.requests();
        assert!(!requests.is_empty());
        for r in requests {
            assert_eq!(r.authorization.as_deref(), Some("Bearer k-test"), "{}", r.path);
        }
    }
    for r in good.requests() {
        assert_eq!(r.authorization.as_deref(), Some("Bearer per-backend"));
    }
}

#[test]
fn retry_after_is_honoured() {
    let dir = TempDir::new("retry-after");
    let busy = MockBackend::start(
        Behaviour::Answer,
        vec![Behaviour::Status { code: 429, retry_after: Some(1) }],
        vec![DAG.to_string()],
    );
    fs::write(dir.0.join("rows.jsonl"), dataset(2)).unwrap();
    let out = run(
        &dir.0,
        &["--input", "rows.jsonl", "-o", "o.jsonl", "--backend", &busy.url, "-p", "1", "-q"],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_each_once(&written(&dir.0.join("o.jsonl")), 2);
    let chats = busy.chat_requests();
    assert_eq!(chats.len(), 3, "the 429 and two answers");
    let waited = chats[1].at.duration_since(chats[0].at);
    assert!(waited >= Duration::from_millis(950), "sent again after {waited:?}");
    // A 429 is not a failed try.
    for r in written(&dir.0.join("o.jsonl")) {
        assert_eq!(attempts(&r)[0]["tries"], 1);
    }
}

#[test]
fn every_backend_down_stops_cleanly_and_a_rerun_resumes() {
    let dir = TempDir::new("down");
    let answers = vec![DAG.to_string()];
    let dying = MockBackend::start(
        Behaviour::Answer,
        vec![Behaviour::Answer, Behaviour::Answer, Behaviour::Answer, Behaviour::Die],
        answers.clone(),
    );
    fs::write(dir.0.join("rows.jsonl"), dataset(8)).unwrap();
    let args = ["--input", "rows.jsonl", "-o", "o.jsonl", "-p", "1", "--give-up-after", "2"];
    let out = run(&dir.0, &[&args[..], &["--backend", &dying.url]].concat(), &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("no backend has answered for 2 s"), "{err}");
    assert!(err.contains("3 rows written, 5 left: rerun to resume"), "{err}");
    assert_eq!(written(&dir.0.join("o.jsonl")).len(), 3);

    let good = MockBackend::start(Behaviour::Answer, vec![], answers);
    let out = run(&dir.0, &[&args[..], &["--backend", &good.url]].concat(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("3 rows already done, 5 to go"), "{}", stderr(&out));
    assert_each_once(&written(&dir.0.join("o.jsonl")), 8);
    assert_eq!(good.chat_requests().len(), 5, "nothing generated twice");
}

#[test]
fn shards_cover_the_input_exactly_and_merge_checks_them() {
    let dir = TempDir::new("shards");
    let good = MockBackend::start(Behaviour::Answer, vec![], vec![DAG.to_string()]);
    fs::write(dir.0.join("rows.jsonl"), dataset(40)).unwrap();
    let base = ["--input", "rows.jsonl", "--backend", &good.url];
    let mut seen = BTreeSet::new();
    let mut total = 0;
    for k in 0..3 {
        let out_name = format!("out-{k}.jsonl");
        let spec = format!("{k}/3");
        // Shard 2 takes its index from a Kubernetes Indexed Job's environment.
        let (shard, env) = if k == 2 {
            ("3", vec![("JOB_COMPLETION_INDEX", "2")])
        } else {
            (spec.as_str(), vec![])
        };
        let out = run(&dir.0, &[&base[..], &["--shard", shard, "-o", &out_name]].concat(), &env);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(0), "{err}");
        let rows = written(&dir.0.join(&out_name));
        assert!(!rows.is_empty() && rows.len() < 30, "shard {k}: {} rows", rows.len());
        // Not a terminal: progress goes to the log as lines.
        assert!(err.contains(&format!("dagsmith: {0}/{0} rows (100%)", rows.len())), "{err}");
        assert!(err.contains("DAGs/s") && err.contains("ETA"), "{err}");
        for r in &rows {
            assert_eq!(r["metadata"]["dagsmith"]["shard"], spec);
            assert!(seen.insert(r["metadata"]["dagsmith"]["row"].as_u64().unwrap()), "disjoint");
        }
        total += rows.len();
    }
    assert_eq!(total, 40);
    assert_eq!(seen, (1..=40).collect::<BTreeSet<u64>>());

    let merge = |outs: &[&str]| {
        Command::new(BIN)
            .current_dir(&dir.0)
            .args(["merge", "--input", "rows.jsonl", "-o", "all.jsonl"])
            .args(outs)
            .output()
            .unwrap()
    };
    let outs = ["out-0.jsonl", "out-1.jsonl", "out-2.jsonl"];
    let ok = merge(&outs);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let all = written(&dir.0.join("all.jsonl"));
    assert_eq!(row_numbers(&all), (1..=40).collect::<Vec<_>>(), "in input order");

    // A row lost from one shard.
    let one = dir.0.join("out-1.jsonl");
    let text = fs::read_to_string(&one).unwrap();
    let (first, rest) = text.split_once('\n').unwrap();
    let lost: Value = serde_json::from_str(first).unwrap();
    let lost = lost["metadata"]["dagsmith"]["row"].as_u64().unwrap();
    fs::write(&one, rest).unwrap();
    let missing = merge(&outs);
    assert_eq!(missing.status.code(), Some(1), "{}", stderr(&missing));
    assert!(
        stderr(&missing).contains(&format!("missing: 1 rows of the input (lines {lost})")),
        "{}",
        stderr(&missing)
    );
    assert_eq!(written(&dir.0.join("all.jsonl")).len(), 39);

    // The same row in two shards.
    fs::write(&one, text.clone()).unwrap();
    let two = dir.0.join("out-2.jsonl");
    fs::write(&two, fs::read_to_string(&two).unwrap() + first + "\n").unwrap();
    let dup = merge(&outs);
    assert_eq!(dup.status.code(), Some(1), "{}", stderr(&dup));
    assert!(stderr(&dup).contains(&format!("duplicates: 1 rows written more than once, the first copy kept (line {lost}: out-1.jsonl:1 and out-2.jsonl:")), "{}", stderr(&dup));
    assert_eq!(written(&dir.0.join("all.jsonl")).len(), 40);

    // A torn last line (a shard still running, or killed) is an error naming it.
    fs::write(&two, fs::read_to_string(&two).unwrap() + "{\"messages\": [").unwrap();
    let torn = merge(&outs);
    assert_eq!(torn.status.code(), Some(2));
    assert!(stderr(&torn).contains("out-2.jsonl:"), "{}", stderr(&torn));
}

#[test]
fn one_instruction_on_a_backend_and_clear_errors() {
    let dir = TempDir::new("single");
    let good = MockBackend::start(Behaviour::Answer, vec![], vec![DAG.to_string()]);
    let out = run(
        &dir.0,
        &["-i", "A hello DAG", "-a", "2.9", "--backend", &format!("{}/v1/", good.url)],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("BashOperator(task_id=\"say_hello\""));
    assert!(stderr(&out).contains("Airflow would load it"), "{}", stderr(&out));
    let body: Value = serde_json::from_str(&good.chat_requests()[0].body).unwrap();
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    assert_eq!(body["model"], "mock-model");
    assert_eq!(body["temperature"], 0.0);

    let out = run(&dir.0, &["--test-run", "--backend", "localhost:8000"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--backend: \"localhost:8000\" is not an http"),
        "{}",
        stderr(&out)
    );
    fs::write(dir.0.join("fleet.txt"), "http://a:1\nhttp://b:2 slots=3\n").unwrap();
    let out = run(&dir.0, &["--test-run", "--backends", "fleet.txt"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("fleet.txt:2:12: \"slots\""), "{}", stderr(&out));
    // Nobody listening: the run waits --give-up-after, then stops with nothing lost.
    let closed = MockBackend::start(Behaviour::Answer, vec![], vec![DAG.to_string()]);
    let url = closed.url.clone();
    closed.stop();
    drop(closed);
    let out = run(
        &dir.0,
        &["--test-run", "-o", "o.jsonl", "--backend", &url, "--give-up-after", "1"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("no backend has answered for 1 s"), "{}", stderr(&out));
    assert!(written(&dir.0.join("o.jsonl")).is_empty());
}

#[test]
fn ctrl_c_cancels_requests_in_flight_and_writes_nothing_torn() {
    let dir = TempDir::new("sigint");
    let hung = MockBackend::start(Behaviour::Hang, vec![], vec![DAG.to_string()]);
    fs::write(dir.0.join("rows.jsonl"), dataset(3)).unwrap();
    let child = Command::new(BIN)
        .current_dir(&dir.0)
        .args(["generate", "--input", "rows.jsonl", "-o", "o.jsonl", "--backend", &hung.url])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while hung.chat_requests().len() < 3 {
        assert!(start.elapsed() < Duration::from_secs(30), "requests sent");
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    // Answered at once, not after the 300 s timeout of the hanging requests.
    assert!(start.elapsed() < Duration::from_secs(20));
    assert!(written(&dir.0.join("o.jsonl")).is_empty());
}
