//! CI annotation formats end to end: `--format github` (workflow commands) and `--format
//! gitlab` (Code Quality JSON), compared with snapshots in tests/snapshots/. After an intended
//! change of output, `DAGSMITH_BLESS=1 cargo test -p dagsmith --test annotations` rewrites them
//! (review the diff).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

mod common;
use common::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_dagsmith");

/// Inputs covering each severity, a dataset row and an unreadable path. Chosen for messages
/// that do not depend on the catalog's suggestions.
fn inputs() -> TempDir {
    let dir = TempDir::new("annotations");
    dir.write(
        "dags/ok.py",
        "from datetime import datetime\nfrom airflow.sdk import DAG\n\
         from airflow.providers.standard.operators.empty import EmptyOperator\n\
         with DAG(dag_id=\"ok\", start_date=datetime(2024, 1, 1), schedule=None):\n\
         \x20   EmptyOperator(task_id=\"a\")\n",
    );
    dir.write("dags/syntax.py", "def broken(:\n    pass\n");
    dir.write(
        "dags/dup.py",
        "from datetime import datetime\nfrom airflow.sdk import DAG\n\
         from airflow.providers.standard.operators.empty import EmptyOperator\n\
         with DAG(dag_id=\"dup\", start_date=datetime(2024, 1, 1), schedule=None):\n\
         \x20   EmptyOperator(task_id=\"same\")\n\x20   EmptyOperator(task_id=\"same\")\n",
    );
    dir.write(
        "dags/runtime.py",
        "from datetime import datetime\nimport pandas\nfrom airflow.sdk import DAG, task\n\
         with DAG(dag_id=\"runtime\", start_date=datetime(2024, 1, 1), schedule=None):\n\
         \x20   @task\n\x20   def work():\n\x20       return undefined_helper(pandas)\n\
         \x20   work()\n",
    );
    let row = serde_json::json!({"messages": [
        {"role": "user", "content": "A DAG.\nAirflow Version: 3.1"},
        {"role": "assistant", "content": "```python\ndef broken(:\n    pass\n```"},
    ]});
    dir.write("rows.jsonl", format!("{row}\n"));
    dir
}

fn run(dir: &Path, format: &str) -> Output {
    Command::new(BIN)
        .args(["validate", "--isolated", "--format", format, "dags", "dags/gone.py", "rows.jsonl"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run dagsmith")
}

fn snapshot_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots").join(name)
}

/// Compares `actual` with the snapshot, or writes it under DAGSMITH_BLESS=1.
fn assert_snapshot(name: &str, actual: &str) {
    let path = snapshot_path(name);
    if std::env::var_os("DAGSMITH_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (DAGSMITH_BLESS=1 writes it)", path.display()));
    assert!(
        expected == actual,
        "{} differs (DAGSMITH_BLESS=1 rewrites it):\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

#[test]
fn github_workflow_commands() {
    let dir = inputs();
    let out = run(dir.path(), "github");
    assert_eq!(out.status.code(), Some(2), "an unreadable path is an error");
    let text = String::from_utf8(out.stdout).unwrap();
    for line in text.lines() {
        assert!(
            line.starts_with("::error ")
                || line.starts_with("::warning ")
                || line.starts_with("::notice "),
            "{line}"
        );
    }
    assert_snapshot("github.txt", &text);
}

#[test]
fn gitlab_code_quality() {
    let dir = inputs();
    let out = run(dir.path(), "gitlab");
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stdout).unwrap();
    let issues: Value = serde_json::from_str(&text).unwrap();
    for issue in issues.as_array().unwrap() {
        for key in ["description", "check_name", "fingerprint", "severity"] {
            assert!(issue[key].is_string(), "{key} in {issue}");
        }
        assert!(issue["location"]["path"].is_string());
        let begin = issue["location"]["lines"]["begin"]
            .as_u64()
            .or(issue["location"]["positions"]["begin"]["line"].as_u64());
        assert!(begin.is_some_and(|b| b >= 1), "{issue}");
    }
    assert_snapshot("gitlab.json", &text);
}
