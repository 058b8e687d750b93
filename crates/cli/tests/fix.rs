//! End-to-end tests of fixes: `dagsmith validate --fix / --diff / --unsafe-fixes`,
//! `dagsmith fix`, and the fixes in JSON and SARIF reports.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

mod common;
use common::{TempDir, code, run_command, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_dagsmith");

/// Fails on Airflow 3.1: an Airflow 2 import path (safe fix) and a misspelt argument (unsafe).
const AIRFLOW2_DAG: &str = r#"from datetime import datetime

from airflow import DAG
from airflow.operators.python_operator import PythonOperator


def hello():
    print("hello")


with DAG(dag_id="hello", start_date=datetime(2024, 1, 1), schedule=None):
    PythonOperator(task_id="hello", python_callable=hello, op_kwarg={"x": 1})
"#;

const SAFE_FIXED: &str = r#"from datetime import datetime

from airflow import DAG
from airflow.providers.standard.operators.python import PythonOperator


def hello():
    print("hello")


with DAG(dag_id="hello", start_date=datetime(2024, 1, 1), schedule=None):
    PythonOperator(task_id="hello", python_callable=hello, op_kwarg={"x": 1})
"#;

const CLEAN_DAG: &str = r#"from datetime import datetime

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

with DAG(dag_id="ok", start_date=datetime(2024, 1, 1), schedule=None):
    EmptyOperator(task_id="a")
"#;

fn run_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut command = Command::new(BIN);
    command.args(args).current_dir(dir).env("NO_COLOR", "1");
    run_command(command, stdin)
}

#[test]
fn fix_rewrites_files_in_place_and_reports_what_remains() {
    let dir = TempDir::new("fix-in-place");
    let path = dir.write("dags/hello.py", AIRFLOW2_DAG);
    dir.write("dags/ok.py", CLEAN_DAG);
    let out = run_in(dir.path(), &["validate", "--fix", "-a", "3.1", "dags"], None);
    let text = stdout(&out);
    // The misspelt argument remains (an unsafe fix), so the file still does not load.
    assert_eq!(code(&out), 1, "{text}{}", stderr(&out));
    assert_eq!(fs::read_to_string(&path).unwrap(), SAFE_FIXED);
    assert_eq!(fs::read_to_string(dir.path().join("dags/ok.py")).unwrap(), CLEAN_DAG);
    assert!(text.contains("DS207"), "{text}");
    assert!(!text.contains("DS204"), "{text}");
    assert!(
        text.contains("Fixed 1 problem in 1 file; 1 finding left, 1 fixable with --unsafe-fixes."),
        "{text}"
    );
    // No temporary file is left behind.
    assert_eq!(fs::read_dir(dir.path().join("dags")).unwrap().count(), 2);

    // Again, with the unsafe fixes: the file loads now.
    let out = run_in(dir.path(), &["fix", "--unsafe-fixes", "-a", "3.1", "dags/hello.py"], None);
    let text = stdout(&out);
    assert_eq!(code(&out), 0, "{text}{}", stderr(&out));
    assert_eq!(fs::read_to_string(&path).unwrap(), SAFE_FIXED.replace("op_kwarg=", "op_kwargs="));
    assert!(text.contains("Fixed 1 problem in 1 file (1 unsafe); 0 findings left."), "{text}");
}

#[test]
fn diff_shows_the_fixes_and_changes_nothing() {
    let dir = TempDir::new("fix-diff");
    let path = dir.write("hello.py", AIRFLOW2_DAG);
    let out = run_in(dir.path(), &["validate", "--diff", "-a", "3.1", "hello.py"], None);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "--- hello.py\n+++ hello.py\n@@ -1,7 +1,7 @@\n from datetime import datetime\n \n from airflow import DAG\n\
         -from airflow.operators.python_operator import PythonOperator\n\
         +from airflow.providers.standard.operators.python import PythonOperator\n \n \n def hello():\n"
    );
    assert!(stderr(&out).contains("Would apply 1 fix in 1 file (1 more with --unsafe-fixes)."));
    assert_eq!(fs::read_to_string(&path).unwrap(), AIRFLOW2_DAG);

    // Nothing to fix: no diff, exit 0.
    dir.write("ok.py", CLEAN_DAG);
    let out = run_in(dir.path(), &["fix", "--diff", "ok.py"], None);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
}

#[test]
fn fixing_standard_input_prints_the_code_and_reports_on_stderr() {
    let dir = TempDir::new("fix-stdin");
    let out = run_in(dir.path(), &["fix", "-a", "3.1", "-"], Some(AIRFLOW2_DAG));
    assert_eq!(code(&out), 1);
    assert_eq!(stdout(&out), SAFE_FIXED);
    let err = stderr(&out);
    assert!(err.contains("<stdin>:12:5: DS207 error"), "{err}");
    assert!(err.contains("Fixed 1 problem in 1 file"), "{err}");
}

#[test]
fn select_limits_which_fixes_apply() {
    let dir = TempDir::new("fix-select");
    let path = dir.write("hello.py", AIRFLOW2_DAG);
    // Only the import's rule: the unsafe argument fix is not applied although allowed, and the
    // argument's error is not reported (so the file counts as loading, as with `validate`).
    let out = run_in(
        dir.path(),
        &["fix", "--unsafe-fixes", "--select", "DS204", "-a", "3.1", "hello.py"],
        None,
    );
    assert_eq!(code(&out), 0, "{}", stdout(&out));
    assert_eq!(fs::read_to_string(&path).unwrap(), SAFE_FIXED);
}

#[test]
fn json_and_sarif_reports_carry_the_fixes() {
    let dir = TempDir::new("fix-reports");
    dir.write("hello.py", AIRFLOW2_DAG);
    let out = run_in(dir.path(), &["validate", "-f", "json", "-a", "3.1", "hello.py"], None);
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let finding = &v[0]["findings"][0];
    assert_eq!(finding["code"], "DS204");
    let autofix = &finding["autofix"];
    assert_eq!(autofix["applicability"], "safe");
    assert_eq!(
        autofix["message"],
        "replace `airflow.operators.python_operator` with `airflow.providers.standard.operators.python`"
    );
    let edit = &autofix["edits"][0];
    assert_eq!(edit["content"], "airflow.providers.standard.operators.python");
    assert_eq!((edit["line"].as_u64(), edit["column"].as_u64()), (Some(4), Some(6)));
    let (start, end) =
        (edit["start"].as_u64().unwrap() as usize, edit["end"].as_u64().unwrap() as usize);
    assert_eq!(&AIRFLOW2_DAG[start..end], "airflow.operators.python_operator");
    assert!(v[0].get("applied_fixes").is_none());

    // After --fix, JSONL lists what was applied.
    let out =
        run_in(dir.path(), &["validate", "--fix", "-f", "jsonl", "-a", "3.1", "hello.py"], None);
    let row: Value = serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert_eq!(row["applied_fixes"][0]["code"], "DS204");
    assert_eq!(row["applied_fixes"][0]["line"], 4);
    assert_eq!(row["findings"][0]["autofix"]["applicability"], "unsafe");
    assert!(stderr(&out).contains("Fixed 1 problem"), "{}", stderr(&out));

    let out = run_in(dir.path(), &["validate", "-f", "sarif", "-a", "3.1", "hello.py"], None);
    let log: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "DS207");
    let fix = &result["fixes"][0];
    assert_eq!(fix["description"]["text"], "replace `op_kwarg=` with `op_kwargs=` (unsafe)");
    let change = &fix["artifactChanges"][0];
    assert_eq!(change["artifactLocation"]["uri"], "hello.py");
    let replacement = &change["replacements"][0];
    assert_eq!(replacement["insertedContent"]["text"], "op_kwargs");
    assert_eq!(replacement["deletedRegion"]["startLine"], 12);
    assert_eq!(replacement["deletedRegion"]["startColumn"], 60);
    assert_eq!(replacement["deletedRegion"]["endColumn"], 68);
}

#[test]
fn rules_say_which_are_fixable() {
    let dir = TempDir::new("fix-rules");
    let out = run_in(dir.path(), &["rules"], None);
    let text = stdout(&out);
    let line =
        |code: &str| text.lines().find(|l| l.starts_with(code)).unwrap_or_default().to_string();
    assert!(line("DS102").contains(" safe "), "{text}");
    assert!(line("DS109").contains(" unsafe "), "{text}");
    assert!(line("DS203").contains(" safe/unsafe "), "{text}");
    assert!(line("DS001").contains(" no "), "{text}");
    let out = run_in(dir.path(), &["rules", "DS102"], None);
    assert!(stdout(&out).starts_with("DS102 undefined-name (error, fixable: safe)"));
    let out = run_in(dir.path(), &["rules", "--json", "DS207"], None);
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["fixable"], "safe/unsafe");
}

#[test]
fn fix_refuses_extract_and_leaves_datasets_alone() {
    let dir = TempDir::new("fix-usage");
    dir.write("answer.py", format!("```python\n{AIRFLOW2_DAG}```\n"));
    let out = run_in(dir.path(), &["fix", "--extract", "answer.py"], None);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("--extract"), "{}", stderr(&out));

    let row = serde_json::json!({
        "messages": [
            {"role": "user", "content": "Airflow Version: 3.1\nSay hello"},
            {"role": "assistant", "content": AIRFLOW2_DAG},
        ],
    })
    .to_string();
    let path = dir.write("rows.jsonl", format!("{row}\n"));
    let out = run_in(dir.path(), &["fix", "rows.jsonl"], None);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("dataset rows are validated but never rewritten"));
    assert_eq!(fs::read_to_string(&path).unwrap(), format!("{row}\n"));
}
