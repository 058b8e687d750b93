//! End-to-end tests of the `dagsmith` binary.
//!
//! Inputs are chosen so the verdict cannot change as rules are added: a clean minimal DAG
//! (loads) and a file with a syntax error (does not load, DS001).

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

mod common;
use common::{TempDir, code, run_command, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_dagsmith");

const OK_DAG: &str = r#"from datetime import datetime
from airflow import DAG
from airflow.operators.empty import EmptyOperator
with DAG(dag_id="ok", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    a = EmptyOperator(task_id="a")
    b = EmptyOperator(task_id="b")
    a >> b
"#;

const BAD_PY: &str = "def broken(:\n    pass\n";

fn run_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut command = Command::new(BIN);
    command.args(args).current_dir(dir).env_remove("NO_COLOR");
    run_command(command, stdin)
}

fn jsonl(out: &Output) -> Vec<Value> {
    stdout(out).lines().map(|l| serde_json::from_str(l).expect("JSONL line")).collect()
}

fn chatml_row(user: &str, assistant: &str) -> String {
    serde_json::json!({
        "messages": [
            {"role": "system", "content": "You write Airflow DAGs."},
            {"role": "user", "content": user},
            {"role": "assistant", "content": assistant},
        ],
        "metadata": {"file_name": "dag_0_variant_1"},
    })
    .to_string()
}

/// ok.py and bad.py in a fresh directory.
fn two_files(name: &str) -> TempDir {
    let dir = TempDir::new(name);
    dir.write("ok.py", OK_DAG);
    dir.write("bad.py", BAD_PY);
    dir
}

#[test]
fn clean_dag_loads_and_exits_0() {
    let dir = two_files("clean");
    let out = run_in(dir.path(), &["validate", "ok.py", "--format", "json"], None);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let entries = v.as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["path"], "ok.py");
    assert_eq!(entries[0]["loads"], true);
    assert_eq!(entries[0]["airflow_version"], "3.1");
    assert!(entries[0]["dags"].is_array());
    assert!(entries[0]["findings"].is_array());
    assert!(entries[0].get("error").is_none());
}

#[test]
fn syntax_error_exits_1_with_ds001() {
    let dir = two_files("syntax");
    let out = run_in(dir.path(), &["validate", "ok.py", "bad.py", "--format", "json"], None);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let bad = &v[1];
    assert_eq!(bad["path"], "bad.py");
    assert_eq!(bad["loads"], false);
    let first = &bad["findings"][0];
    assert_eq!(first["code"], "DS001");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["line"], 1);
    for key in ["column", "end_line", "end_column", "message"] {
        assert!(first.get(key).is_some(), "{key}");
    }
}

#[test]
fn table_format_lists_findings_verdicts_and_summary() {
    let dir = two_files("table");
    let out = run_in(dir.path(), &["validate", "bad.py", "ok.py", "--color", "never"], None);
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    assert!(text.contains("bad.py:1:"), "{text}");
    assert!(text.contains(" DS001 error: "), "{text}");
    assert!(text.contains("bad.py: does not load"), "{text}");
    assert!(text.contains("ok.py: loads"), "{text}");
    assert!(
        text.contains("Checked 2 inputs for Airflow 3.1: 1 predicted to load, 1 not."),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "no colors when told never");

    let quiet = run_in(dir.path(), &["validate", "bad.py", "ok.py", "-q"], None);
    let text = stdout(&quiet);
    assert!(text.starts_with("Checked 2 inputs"), "{text}");
    assert!(!text.contains("DS001"), "{text}");

    let colored = run_in(dir.path(), &["validate", "bad.py", "--color", "always"], None);
    assert!(stdout(&colored).contains("\x1b["));
    // Auto: stdout is a pipe here, so no colors.
    let auto = run_in(dir.path(), &["validate", "bad.py"], None);
    assert!(!stdout(&auto).contains('\x1b'));
}

#[test]
fn missing_path_exits_2_and_the_rest_is_still_reported() {
    let dir = two_files("missing");
    let out = run_in(
        dir.path(),
        &["validate", "ok.py", "does-not-exist.py", "bad.py", "--format", "jsonl"],
        None,
    );
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("does-not-exist.py"), "{}", stderr(&out));
    let entries = jsonl(&out);
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["loads"], true);
    assert_eq!(entries[1]["path"], "does-not-exist.py");
    assert_eq!(entries[1]["loads"], false);
    assert!(entries[1]["error"].as_str().unwrap().contains("no such file"));
    assert_eq!(entries[1]["dags"], serde_json::json!([]));
    assert_eq!(entries[2]["findings"][0]["code"], "DS001");
}

#[test]
fn directories_are_searched_recursively_in_sorted_order() {
    let dir = TempDir::new("walk");
    dir.write("dags/b.py", OK_DAG);
    dir.write("dags/a/z.py", OK_DAG);
    dir.write("dags/a/y.py", BAD_PY);
    dir.write("dags/notes.txt", "not python");
    dir.write("dags/.hidden/h.py", BAD_PY);
    dir.write("dags/__pycache__/c.py", BAD_PY);
    dir.write("dags/node_modules/n.py", BAD_PY);
    dir.write("dags/target/t.py", BAD_PY);
    dir.write("dags/.dotfile.py", BAD_PY);
    dir.write("dags/rows.jsonl", chatml_row("Make one.", OK_DAG) + "\n");
    dir.write("dags/manifest.jsonl", "{\"id\": 1, \"file\": \"b.py\"}\n");
    let out = run_in(dir.path(), &["validate", "dags", "--format", "jsonl"], None);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let paths: Vec<String> =
        jsonl(&out).iter().map(|e| e["path"].as_str().unwrap().to_string()).collect();
    assert_eq!(paths, ["dags/a/y.py", "dags/a/z.py", "dags/b.py", "dags/rows.jsonl#1"]);
    // A .jsonl file that is not a ChatML dataset is skipped when found in a directory.
    assert!(stderr(&out).contains("skipped dags/manifest.jsonl"), "{}", stderr(&out));
}

#[test]
fn empty_directory_is_a_usage_error() {
    let dir = TempDir::new("empty");
    fs::create_dir_all(dir.path().join("nothing")).unwrap();
    let out = run_in(dir.path(), &["validate", "nothing"], None);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("no .py or .jsonl files in nothing"), "{}", stderr(&out));
}

#[test]
fn dataset_rows_bad_row_is_reported_and_the_batch_goes_on() {
    let dir = TempDir::new("dataset");
    let rows = [
        chatml_row(
            "Build a two-task pipeline.\n\nAirflow Version: 2.7.2",
            &format!("Here is the DAG:\n\n```python\n{OK_DAG}```\n\nEnjoy."),
        ),
        r#"{"messages": [1]}"#.to_string(),
        String::new(),
        chatml_row("Do it.\n\nAirflow Version: 3.0.1", BAD_PY),
        "{not json".to_string(),
    ];
    dir.write("gen.jsonl", rows.join("\n") + "\n");
    let out = run_in(dir.path(), &["validate", "gen.jsonl", "--format", "jsonl"], None);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("gen.jsonl:2:15: error: invalid dataset row"), "{err}");
    assert!(err.contains("gen.jsonl:5:2: error:"), "{err}");
    let entries = jsonl(&out);
    let paths: Vec<&str> = entries.iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["gen.jsonl#1", "gen.jsonl#2", "gen.jsonl#4", "gen.jsonl#5"]);
    // Row 1: code taken out of the fence, checked for the row's own version.
    assert_eq!(entries[0]["loads"], true);
    assert_eq!(entries[0]["airflow_version"], "2.7.2");
    assert!(entries[0].get("error").is_none());
    // Row 2: malformed, recorded with its position.
    assert_eq!(entries[1]["loads"], false);
    assert!(entries[1]["error"].as_str().unwrap().starts_with("2:15: "));
    // Row 4: validated although row 2 was bad.
    assert_eq!(entries[2]["loads"], false);
    assert_eq!(entries[2]["airflow_version"], "3.0.1");
    assert_eq!(entries[2]["findings"][0]["code"], "DS001");
    assert!(entries[3]["error"].is_string());

    // An explicit --airflow-version overrides the rows' own.
    let out = run_in(
        dir.path(),
        &["validate", "gen.jsonl", "--format", "jsonl", "--airflow-version", "2.9"],
        None,
    );
    for entry in jsonl(&out) {
        assert_eq!(entry["airflow_version"], "2.9");
    }
}

#[test]
fn stdin_is_read_with_dash() {
    let dir = TempDir::new("stdin");
    let out = run_in(dir.path(), &["validate", "-", "--format", "jsonl"], Some(OK_DAG));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let entries = jsonl(&out);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["path"], "<stdin>");
    assert_eq!(entries[0]["loads"], true);

    let out = run_in(dir.path(), &["validate", "-", "--format", "jsonl"], Some(BAD_PY));
    assert_eq!(code(&out), 1);

    // --extract takes the code out of a markdown answer.
    let answer = format!("Sure:\n```python\n{OK_DAG}```\n");
    let out = run_in(dir.path(), &["validate", "-", "--extract", "-q"], Some(&answer));
    assert_eq!(code(&out), 0, "{}", stdout(&out));
}

#[test]
fn csv_has_airflow_net_columns_and_rfc4180_quoting() {
    let dir = TempDir::new("csv");
    dir.write("a,b.py", BAD_PY);
    dir.write("ok.py", OK_DAG);
    let out = run_in(dir.path(), &["validate", "a,b.py", "ok.py", "--format", "csv"], None);
    assert_eq!(code(&out), 1);
    let text = stdout(&out);
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert!(
        lines[0].starts_with("filename,airflow_version,id,validation_passed,failure_cause,loads")
    );
    for column in ["codes", "messages", "error"] {
        assert!(lines[0].split(',').any(|c| c == column), "{column}");
    }
    assert!(lines[1].starts_with("\"a,b.py\",3.1,,False,SYNTAX_ERROR"), "{}", lines[1]);
    assert!(lines[1].contains(",false,"), "{}", lines[1]);
    assert!(lines[1].contains("DS001"), "{}", lines[1]);
    let ok_row = lines.iter().find(|l| l.starts_with("ok.py,")).unwrap();
    assert!(ok_row.starts_with("ok.py,3.1,,"), "{ok_row}");
    assert!(ok_row.contains(",true,"), "{ok_row}");
    assert!(text.ends_with("\r\n"));
}

#[test]
fn sarif_is_a_code_scanning_log() {
    let dir = two_files("sarif");
    let out = run_in(dir.path(), &["validate", "ok.py", "bad.py", "--format", "sarif"], None);
    assert_eq!(code(&out), 1);
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "dagsmith");
    assert!(driver["version"].is_string());
    assert!(driver["informationUri"].as_str().unwrap().starts_with("https://"));
    let rules_out = run_in(dir.path(), &["rules", "--json"], None);
    let all_rules: Value = serde_json::from_str(&stdout(&rules_out)).unwrap();
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), all_rules.as_array().unwrap().len());
    for rule in rules {
        for key in ["id", "name", "shortDescription", "fullDescription", "defaultConfiguration"] {
            assert!(rule.get(key).is_some(), "{key} in {rule}");
        }
    }
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    let ds001 = results.iter().find(|r| r["ruleId"] == "DS001").unwrap();
    assert_eq!(ds001["level"], "error");
    assert!(ds001["message"]["text"].is_string());
    let location = &ds001["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "bad.py");
    assert_eq!(location["region"]["startLine"], 1);
    assert!(location["region"]["startColumn"].is_u64());
}

#[test]
fn output_file_is_written_and_stdout_stays_empty() {
    let dir = two_files("output");
    let out = run_in(dir.path(), &["validate", "ok.py", "-f", "json", "-o", "report.json"], None);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let written = fs::read_to_string(dir.path().join("report.json")).unwrap();
    let v: Value = serde_json::from_str(&written).unwrap();
    assert_eq!(v[0]["path"], "ok.py");
    // Overwrites an existing report.
    let out = run_in(dir.path(), &["validate", "bad.py", "-f", "json", "-o", "report.json"], None);
    assert_eq!(code(&out), 1);
    let v: Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(v[0]["path"], "bad.py");
    // No leftover temporary files.
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    // An unwritable destination is an error.
    let out = run_in(dir.path(), &["validate", "ok.py", "-o", "no/such/dir/r.txt"], None);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("no/such/dir/r.txt"), "{}", stderr(&out));
}

#[test]
fn select_and_ignore() {
    let dir = two_files("filter");
    // Ignoring a syntax error hides it but the file still does not load.
    let out = run_in(dir.path(), &["validate", "bad.py", "--ignore", "DS001", "-f", "jsonl"], None);
    assert_eq!(code(&out), 1);
    let entry = &jsonl(&out)[0];
    assert!(entry["findings"].as_array().unwrap().iter().all(|f| f["code"] != "DS001"));
    assert_eq!(entry["loads"], false);
    let out = run_in(
        dir.path(),
        &["validate", "bad.py", "--select", "syntax-error", "-f", "jsonl"],
        None,
    );
    assert!(jsonl(&out)[0]["findings"].as_array().unwrap().iter().all(|f| f["code"] == "DS001"));
    let out = run_in(dir.path(), &["validate", "bad.py", "--select", "XY9"], None);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("unknown rule"), "{}", stderr(&out));
}

#[test]
fn invalid_utf8_is_a_syntax_error() {
    let dir = TempDir::new("utf8");
    dir.write("latin.py", b"x = '\xe9'\n");
    let out = run_in(dir.path(), &["validate", "latin.py", "-f", "jsonl"], None);
    assert_eq!(code(&out), 1);
    let entry = &jsonl(&out)[0];
    assert_eq!(entry["findings"][0]["code"], "DS001");
    assert_eq!(entry["findings"][0]["column"], 6);
}

#[test]
fn usage_errors_exit_2() {
    let dir = TempDir::new("usage");
    assert_eq!(code(&run_in(dir.path(), &["validate"], None)), 2);
    assert_eq!(
        code(&run_in(dir.path(), &["validate", "x.py", "--airflow-version", "1.10"], None)),
        2
    );
    assert_eq!(code(&run_in(dir.path(), &["validate", "x.py", "--format", "xml"], None)), 2);
    assert_eq!(code(&run_in(dir.path(), &["frobnicate"], None)), 2);
}

#[test]
fn help_and_version() {
    let dir = TempDir::new("help");
    let out = run_in(dir.path(), &["--help"], None);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    for word in ["validate", "rules", "bench", "Examples:", "Exit status"] {
        assert!(text.contains(word), "{word} in {text}");
    }
    let out = run_in(dir.path(), &["validate", "--help"], None);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    for word in ["--airflow-version", "--format", "--output", "sarif", "Examples:"] {
        assert!(text.contains(word), "{word} in {text}");
    }
    let out = run_in(dir.path(), &["--version"], None);
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).starts_with("dagsmith "));
}

#[test]
fn rules_list_and_explain() {
    let dir = TempDir::new("rules");
    let out = run_in(dir.path(), &["rules"], None);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert!(text.contains("DS001"), "{text}");
    assert!(text.contains("syntax-error"), "{text}");

    let out = run_in(dir.path(), &["rules", "DS001"], None);
    assert_eq!(code(&out), 0);
    let text = stdout(&out);
    assert!(text.starts_with("DS001 syntax-error (error, not fixable)"), "{text}");
    assert!(text.lines().count() > 3, "{text}");
    // By name and case-insensitively.
    assert_eq!(stdout(&run_in(dir.path(), &["rules", "syntax-error"], None)), text);
    assert_eq!(stdout(&run_in(dir.path(), &["rules", "ds001"], None)), text);

    let out = run_in(dir.path(), &["rules", "DS0001"], None);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("unknown rule"), "{err}");
    assert!(err.contains("DS001"), "close matches expected: {err}");

    let out = run_in(dir.path(), &["rules", "DS001", "--json"], None);
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["code"], "DS001");
    assert_eq!(v["severity"], "error");
}

#[test]
fn bench_validate_reports_throughput() {
    let dir = two_files("bench");
    let out = run_in(
        dir.path(),
        &["bench", "validate", ".", "--repeat", "2", "--warmup", "0", "--json"],
        None,
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["files"], 2);
    assert_eq!(v["repeats"], 2);
    assert_eq!(v["threads"], 1);
    assert_eq!(v["loads"], 1);
    assert_eq!(v["warm"], false);
    for key in ["files_per_second", "mb_per_second", "mean_us", "p50_us", "p99_us", "findings"] {
        assert!(v[key].is_number(), "{key}");
    }
    let out = run_in(dir.path(), &["bench", "validate", ".", "--repeat", "1"], None);
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).contains("files/s"));
    assert!(stdout(&out).contains("each pass cold"), "{}", stdout(&out));
    let out = run_in(dir.path(), &["bench", "validate", ".", "--repeat", "1", "--warm"], None);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("searches kept between passes"), "{}", stdout(&out));
    // --stages: every stage timed once per pass, the parse and the interpreter taking time.
    let out = run_in(
        dir.path(),
        &["bench", "validate", ".", "--repeat", "2", "--stages", "--json"],
        None,
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let stages = v["stages"].as_array().expect("stages reported");
    assert_eq!(stages.len(), 14, "{stages:?}");
    let seconds = |name: &str| {
        let stage = stages.iter().find(|s| s["stage"] == name).expect(name);
        stage["seconds_per_pass"].as_f64().unwrap()
    };
    assert!(seconds("parse") > 0.0 && seconds("interpreter") > 0.0, "{stages:?}");
    let sum: f64 = stages.iter().map(|s| s["seconds_per_pass"].as_f64().unwrap()).sum();
    // The stages cover validate() (measured around each call) and no more.
    assert!(sum <= v["total_seconds"].as_f64().unwrap() / 2.0, "{sum} {v}");
    let plain = run_in(dir.path(), &["bench", "validate", ".", "--repeat", "1", "--json"], None);
    let plain: Value = serde_json::from_str(&stdout(&plain)).unwrap();
    assert!(plain["stages"].is_null(), "no stages unless asked for");
    // No default corpus next to a fresh directory (the temp dir's own parent may hold one: CI
    // clones into the folder beside shared/).
    let lonely = dir.path().join("lonely");
    std::fs::create_dir(&lonely).unwrap();
    let out = run_in(&lonely, &["bench", "validate"], None);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("../shared/corpus"));
}
