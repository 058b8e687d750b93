//! `dagsmith validate` with settings files (`[tool.dagsmith]` in pyproject.toml, dagsmith.toml)
//! found by walking up from each file, `--config`, `--isolated`, and `# noqa` comments.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

mod common;
use common::{TempDir, code, run_command, stderr};

const BIN: &str = env!("CARGO_BIN_EXE_dagsmith");

/// Loads in every target; only the verdict's version differs.
const OK_DAG: &str = r#"from datetime import datetime
from airflow import DAG
from airflow.operators.empty import EmptyOperator
with DAG(dag_id="ok", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    EmptyOperator(task_id="a")
"#;

/// DS202 (an `airflow.*` module that exists nowhere) on line 2.
const MISSING_MODULE: &str = r#"from datetime import datetime
from airflow.providers.nowhere.operators.nothing import NothingOperator
from airflow import DAG
from airflow.operators.empty import EmptyOperator
with DAG(dag_id="m", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    EmptyOperator(task_id="a")
"#;

fn run_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut command = Command::new(BIN);
    command.args(args).current_dir(dir);
    run_command(command, stdin)
}

/// The JSONL report as (path → entry).
fn entries(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSONL line"))
        .collect()
}

fn entry<'a>(entries: &'a [Value], path: &str) -> &'a Value {
    entries.iter().find(|e| e["path"] == path).unwrap_or_else(|| panic!("{path} in {entries:?}"))
}

fn codes(entry: &Value) -> Vec<String> {
    entry["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn project() -> TempDir {
    let dir = TempDir::new("settings");
    dir.write(
        "pyproject.toml",
        r#"[project]
name = "dags"

[tool.dagsmith]
airflow-version = "2.9"

[tool.dagsmith.per-file-ignores]
"dags/legacy/*" = ["module-not-found"]
"#,
    );
    dir.write("dags/ok.py", OK_DAG);
    dir.write("dags/missing.py", MISSING_MODULE);
    dir.write("dags/legacy/missing.py", MISSING_MODULE);
    // A nearer settings file wins, and is not merged with the one above.
    dir.write("dags/team/dagsmith.toml", "airflow-version = \"3.0\"\n");
    dir.write("dags/team/ok.py", OK_DAG);
    dir.write("dags/team/missing.py", MISSING_MODULE);
    dir
}

#[test]
fn nearest_settings_file_sets_the_version_and_per_file_ignores() {
    let dir = project();
    let out = run_in(dir.path(), &["validate", "dags", "-f", "jsonl"], None);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    let all = entries(&out);
    assert_eq!(entry(&all, "dags/ok.py")["airflow_version"], "2.9");
    let missing = entry(&all, "dags/missing.py");
    assert_eq!(missing["loads"], false);
    assert!(codes(missing).contains(&"DS202".to_string()));
    // per-file-ignores: the same file under legacy/ loads.
    let legacy = entry(&all, "dags/legacy/missing.py");
    assert_eq!(legacy["loads"], true, "{legacy}");
    assert!(!codes(legacy).contains(&"DS202".to_string()));
    // dags/team/dagsmith.toml: its own version, and no per-file-ignores from above.
    assert_eq!(entry(&all, "dags/team/ok.py")["airflow_version"], "3.0");
    assert_eq!(entry(&all, "dags/team/missing.py")["loads"], false);

    // From inside dags/, relative paths find the same files.
    let out =
        run_in(&dir.path().join("dags"), &["validate", "legacy/missing.py", "-f", "jsonl"], None);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(entries(&out)[0]["airflow_version"], "2.9");
}

#[test]
fn the_command_line_wins() {
    let dir = project();
    let out = run_in(dir.path(), &["validate", "dags/ok.py", "-f", "jsonl", "-a", "3.1"], None);
    assert_eq!(entries(&out)[0]["airflow_version"], "3.1");
    // --select replaces the file's selection; per-file-ignores still apply.
    let out = run_in(
        dir.path(),
        &[
            "validate",
            "dags/legacy/missing.py",
            "dags/missing.py",
            "-f",
            "jsonl",
            "--select",
            "DS2",
        ],
        None,
    );
    let all = entries(&out);
    assert_eq!(entry(&all, "dags/legacy/missing.py")["loads"], true);
    assert_eq!(entry(&all, "dags/missing.py")["loads"], false);
    // --isolated: no settings file at all.
    let out = run_in(dir.path(), &["validate", "dags", "-f", "jsonl", "--isolated"], None);
    let all = entries(&out);
    assert_eq!(entry(&all, "dags/ok.py")["airflow_version"], "3.1");
    assert_eq!(entry(&all, "dags/legacy/missing.py")["loads"], false);
    // --config FILE: that file for every input.
    let out = run_in(
        dir.path(),
        &["validate", "dags", "-f", "jsonl", "--config", "dags/team/dagsmith.toml"],
        None,
    );
    assert_eq!(entry(&entries(&out), "dags/ok.py")["airflow_version"], "3.0");
    let out = run_in(dir.path(), &["validate", "dags", "--config", "nope.toml"], None);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("nope.toml: no such file"), "{}", stderr(&out));
}

#[test]
fn standard_input_uses_the_working_directorys_settings() {
    let dir = project();
    let out = run_in(dir.path(), &["validate", "-", "-f", "jsonl"], Some(OK_DAG));
    assert_eq!(entries(&out)[0]["airflow_version"], "2.9");
}

#[test]
fn dataset_rows_keep_their_own_version_over_the_settings() {
    let dir = project();
    let row = |user: &str| {
        serde_json::json!({"messages": [
            {"role": "user", "content": user},
            {"role": "assistant", "content": format!("```python\n{OK_DAG}```")},
        ]})
        .to_string()
    };
    dir.write(
        "rows.jsonl",
        format!("{}\n{}\n", row("A DAG.\nAirflow Version: 2.7"), row("A DAG.")),
    );
    let out = run_in(dir.path(), &["validate", "rows.jsonl", "-f", "jsonl"], None);
    let all = entries(&out);
    assert_eq!(entry(&all, "rows.jsonl#1")["airflow_version"], "2.7");
    assert_eq!(entry(&all, "rows.jsonl#2")["airflow_version"], "2.9");
}

#[test]
fn a_bad_settings_file_is_an_error_naming_file_line_and_column() {
    let dir = TempDir::new("bad-settings");
    dir.write(
        "pyproject.toml",
        "[tool.dagsmith]\nselect = [\"DS1\"]\nignore = [\"DS1\", \"DS9\"]\n",
    );
    dir.write("dag.py", OK_DAG);
    let out = run_in(dir.path(), &["validate", "dag.py"], None);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("pyproject.toml:3:18: unknown rule \"DS9\" in `ignore`"), "{err}");

    dir.write("pyproject.toml", "[tool.dagsmith]\nairflow_version = \"2.9\"\n");
    let err = stderr(&run_in(dir.path(), &["validate", "dag.py"], None));
    assert!(err.contains("pyproject.toml:2:1: unknown field `airflow_version`"), "{err}");

    dir.write("pyproject.toml", "[tool.dagsmith]\nairflow-version = \"1.10\"\n");
    let err = stderr(&run_in(dir.path(), &["validate", "dag.py"], None));
    assert!(err.contains("pyproject.toml:2:19: invalid `airflow-version`"), "{err}");

    // --isolated does not read it.
    let out = run_in(dir.path(), &["validate", "dag.py", "--isolated"], None);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
}

#[test]
fn noqa_comments_drop_findings_and_the_verdict_follows() {
    let dir = TempDir::new("noqa");
    let with_codes = MISSING_MODULE
        .replace("import NothingOperator\n", "import NothingOperator  # noqa: DS202\n");
    let bare =
        MISSING_MODULE.replace("import NothingOperator\n", "import NothingOperator  # noqa\n");
    let other_code = MISSING_MODULE
        .replace("import NothingOperator\n", "import NothingOperator  # noqa: E501\n");
    dir.write("codes.py", &with_codes);
    dir.write("bare.py", &bare);
    dir.write("other.py", &other_code);
    dir.write("syntax.py", "def f(:  # noqa\n    pass\n");
    let out = run_in(dir.path(), &["validate", ".", "-f", "jsonl"], None);
    let all = entries(&out);
    for name in ["codes.py", "bare.py"] {
        let e = entry(&all, name);
        assert_eq!(e["loads"], true, "{e}");
        assert!(!codes(e).contains(&"DS202".to_string()), "{e}");
    }
    assert_eq!(entry(&all, "other.py")["loads"], false);
    // Syntax errors cannot be silenced.
    assert_eq!(codes(entry(&all, "syntax.py"))[0], "DS001");

    let out = run_in(dir.path(), &["validate", "codes.py", "-f", "jsonl", "--disable-noqa"], None);
    assert_eq!(entries(&out)[0]["loads"], false);

    // Standard input too; dataset rows (model answers) never.
    let out = run_in(dir.path(), &["validate", "-", "-f", "jsonl"], Some(&with_codes));
    assert_eq!(entries(&out)[0]["loads"], true);
    let row = serde_json::json!({"messages": [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": format!("```python\n{with_codes}```")},
    ]});
    dir.write("rows.jsonl", format!("{row}\n"));
    let out = run_in(dir.path(), &["validate", "rows.jsonl", "-f", "jsonl"], None);
    assert_eq!(entries(&out)[0]["loads"], false);
}
