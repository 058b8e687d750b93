//! `dagsmith generate` end to end: the real binary, real llama.cpp, a real small GGUF
//! (SmolLM2-135M, whose answers are nonsense: so no generated DAG loads, which the tests use).

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

mod common;
use common::{TempDir, test_model as model};

const BIN: &str = env!("CARGO_BIN_EXE_dagsmith");
const SMOLLM2_SHA256: &str = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53";

fn generate(dir: &Path, extra: &[&str]) -> Output {
    let model = model();
    let mut args = vec!["generate", "--model", model.to_str().unwrap(), "--threads", "2"];
    args.extend_from_slice(extra);
    Command::new(BIN).current_dir(dir).args(&args).output().unwrap()
}

fn row(instruction: &str, version: &str) -> String {
    serde_json::json!({
        "messages": [
            {"role": "system", "content": "You write Airflow DAGs."},
            {"role": "user", "content": format!("{instruction}\n\nAirflow Version: {version}")},
        ],
        "metadata": {"file_name": instruction.len().to_string()},
    })
    .to_string()
}

fn lines(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("every output line is JSON"))
        .collect()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn batch_records_bad_rows_resumes_and_drops_a_torn_line() {
    let dir = TempDir::new("batch");
    let input = dir.0.join("rows.jsonl");
    let good = [row("Daily bash DAG", "2.9.3"), row("TaskFlow ETL", "3.1.0")];
    fs::write(&input, format!("{}\n{{\"messages\": [oops\n{}\n", good[0], good[1])).unwrap();
    let output = dir.0.join("out.jsonl");
    let args = ["--input", "rows.jsonl", "--output", "out.jsonl", "--max-tokens", "12", "-p", "2"];

    let first = generate(&dir.0, &args);
    // A bad row makes the run exit 2, after generating the others.
    assert_eq!(first.status.code(), Some(2), "{}", stderr(&first));
    assert!(stderr(&first).contains("rows.jsonl:2:"), "bad row named: {}", stderr(&first));
    let rows = lines(&output);
    assert_eq!(rows.len(), 3);
    let mut by_row: Vec<(u64, &Value)> =
        rows.iter().map(|r| (r["metadata"]["dagsmith"]["row"].as_u64().unwrap(), r)).collect();
    by_row.sort_by_key(|(n, _)| *n);
    assert_eq!(by_row.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [1, 2, 3]);
    let bad = by_row[1].1;
    assert!(bad["metadata"]["dagsmith"]["error"].as_str().unwrap().contains("rows.jsonl:2:"));
    for (_, r) in [by_row[0], by_row[2]] {
        let ds = &r["metadata"]["dagsmith"];
        assert_eq!(ds["model"]["sha256"], SMOLLM2_SHA256);
        assert_eq!(ds["params"]["max_tokens"], 12);
        assert_eq!(ds["params"]["sampling"]["temperature"], 0.0);
        let attempt = &ds["attempts"][0];
        assert!(attempt["completion_tokens"].as_u64().unwrap() <= 12);
        assert!(attempt["prompt_tokens"].as_u64().unwrap() > 10);
        // 12 tokens of a 135M model is never a loadable DAG.
        assert_eq!(ds["loads"], false);
        assert!(attempt["findings"].is_array());
        let messages = r["messages"].as_array().unwrap();
        assert_eq!(messages.len(), 3);
        assert_eq!(messages[2]["role"], "assistant");
        assert_eq!(messages[2]["content"], attempt["code"]);
        assert!(r["metadata"]["file_name"].is_string(), "input metadata kept");
    }

    // Rerun: nothing left to do, nothing rewritten.
    let before = fs::read(&output).unwrap();
    let again = generate(&dir.0, &args);
    assert!(stderr(&again).contains("3 rows already done"), "{}", stderr(&again));
    assert_eq!(fs::read(&output).unwrap(), before);

    // A torn last line (a run killed mid-write) is dropped; a new input row is generated.
    let mut torn = before.clone();
    torn.extend_from_slice(b"{\"messages\": [{\"role\"");
    fs::write(&output, &torn).unwrap();
    fs::write(
        &input,
        format!("{}\n{{\"messages\": [oops\n{}\n{}\n", good[0], good[1], row("Sensor", "2.7.3")),
    )
    .unwrap();
    let third = generate(&dir.0, &args);
    assert!(stderr(&third).contains("incomplete last line"), "{}", stderr(&third));
    let rows = lines(&output);
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[3]["metadata"]["dagsmith"]["row"], 4);
    assert_eq!(rows[3]["metadata"]["dagsmith"]["airflow_version"], "2.7.3");
}

#[test]
fn repair_rounds_keep_every_attempt() {
    let dir = TempDir::new("repair");
    fs::write(dir.0.join("one.jsonl"), row("A DAG with two bash tasks", "3.1.0") + "\n").unwrap();
    let args =
        ["--input", "one.jsonl", "-o", "o.jsonl", "--max-tokens", "8", "--repair", "2", "-q"];
    let out = generate(&dir.0, &args);
    // A completed dataset run exits 0 whatever the verdicts: they are data in the output.
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let rows = lines(&dir.0.join("o.jsonl"));
    let ds = &rows[0]["metadata"]["dagsmith"];
    assert_eq!(ds["repair_rounds"], 2);
    assert_eq!(ds["pass_at_1"], false);
    // One row holds one sequence, not the default four: its rounds run one after another.
    assert_eq!(ds["params"]["parallel"], 1);
    let attempts = ds["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3);
    for a in attempts {
        assert_eq!(a["loads"], false);
        assert!(a["completion_tokens"].as_u64().unwrap() <= 8);
    }
    // Each repair prompt carries the previous answer and findings: it is longer.
    let prompt = |i: usize| attempts[i]["prompt_tokens"].as_u64().unwrap();
    assert!(prompt(1) > prompt(0) && prompt(2) > prompt(1), "{attempts:?}");
    // The row's conversation is the original one; the answer is the last attempt's code.
    assert_eq!(rows[0]["messages"].as_array().unwrap().len(), 3);
    assert_eq!(rows[0]["messages"][2]["content"], attempts[2]["code"]);
    // --strict: 1 when some DAG does not load, the rows already done included.
    let strict = generate(&dir.0, &[&args[..], &["--strict"]].concat());
    assert_eq!(strict.status.code(), Some(1), "{}", stderr(&strict));
}

#[test]
fn single_instruction_prints_code_and_the_verdict() {
    let dir = TempDir::new("single");
    let out = generate(
        &dir.0,
        &["-i", "Write a DAG that prints hello", "-a", "2.9", "--max-tokens", "10"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("Airflow would NOT load it"), "{}", stderr(&out));
    assert!(stderr(&out).contains("(Airflow 2.9)"), "{}", stderr(&out));
}

#[test]
fn missing_model_and_bad_flags_are_clear_errors() {
    let dir = TempDir::new("errors");
    let out = Command::new(BIN)
        .current_dir(&dir.0)
        .args(["generate", "--model", "nope.gguf", "--test-run"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("dagsmith model fetch"), "{}", stderr(&out));
    let out = generate(&dir.0, &["--test-run", "--top-p", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("top_p"), "{}", stderr(&out));
}

#[test]
fn builtin_instruction_set_covers_the_required_topics() {
    let text = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/instructions.jsonl"),
    )
    .unwrap();
    let rows: Vec<dagsmith_core::dataset::Row> =
        text.lines().map(|l| dagsmith_core::dataset::parse_row(l).unwrap()).collect();
    assert!(rows.len() >= 60);
    let versions: Vec<_> = rows.iter().map(|r| r.airflow_version().unwrap().unwrap()).collect();
    assert!(versions.iter().any(|v| v.major == 2) && versions.iter().any(|v| v.major == 3));
    let topics: Vec<&str> = rows.iter().map(|r| r.metadata["topic"].as_str().unwrap()).collect();
    for needed in ["taskflow", "sensor", "branch", "taskgroup", "mapping", "dataset", "asset"] {
        assert!(topics.iter().any(|t| t.starts_with(needed)), "no {needed} instruction");
    }
    for r in &rows {
        assert!(r.instruction().is_some_and(|i| i.len() > 40));
        assert_eq!(r.system(), Some(dagsmith_core::prompt::SYSTEM_PROMPT));
    }
}

#[test]
fn ctrl_c_leaves_only_whole_rows_and_a_rerun_resumes() {
    let dir = TempDir::new("sigint");
    let model = model();
    // The built-in set (62 rows), one at a time: plenty left to interrupt.
    let child = Command::new(BIN)
        .current_dir(&dir.0)
        .args(["generate", "--model", model.to_str().unwrap(), "-o", "o.jsonl", "-p", "1"])
        .args(["--max-tokens", "24", "--threads", "2"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = dir.0.join("o.jsonl");
    let start = std::time::Instant::now();
    while fs::read_to_string(&out).map_or(0, |t| t.lines().count()) < 2 {
        assert!(start.elapsed().as_secs() < 120, "no rows written in 2 minutes");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("interrupted"), "{err}");
    assert_eq!(output.status.code(), Some(2), "{err}");
    let rows = lines(&out);
    assert!(rows.len() >= 2 && rows.len() < 62, "{} rows", rows.len());
    let text = fs::read_to_string(&out).unwrap();
    assert!(text.ends_with('\n'), "the last row is whole");
    let resumed = generate(&dir.0, &["-o", "o.jsonl", "--max-tokens", "24", "--limit", "5"]);
    assert!(stderr(&resumed).contains("rows already done"), "{}", stderr(&resumed));
    let rows = lines(&out);
    let mut seen: Vec<u64> =
        rows.iter().map(|r| r["metadata"]["dagsmith"]["row"].as_u64().unwrap()).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), rows.len(), "no row written twice");
    assert!(seen.len() >= 5);
}
