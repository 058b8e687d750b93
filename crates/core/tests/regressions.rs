//! Inputs the fuzzer (fuzz/, docs/VALIDATION.md#fuzzing) found slow or crashing, replayed
//! here so they stay fixed. Byte 0 picks the Airflow version, as in the fuzz target.
//! Speed is tracked by the benchmarks, not asserted here.

use std::path::Path;

use dagsmith_core::{AirflowVersion, Severity, ValidateOptions, validate};

const VERSIONS: [&str; 4] = ["2.7", "2.11", "3.0", "3.1"];

#[test]
fn fuzz_regressions_validate_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_none())
        .collect();
    entries.sort();
    assert!(!entries.is_empty(), "no regression inputs in {}", dir.display());
    for path in entries {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let Some((&first, rest)) = bytes.split_first() else { continue };
        let version: AirflowVersion = VERSIONS[first as usize % 4].parse().unwrap();
        let source = String::from_utf8_lossy(rest);
        let report = validate(&source, &ValidateOptions { airflow_version: version });
        let has_error = report.findings.iter().any(|f| f.severity == Severity::Error);
        assert_eq!(report.loads, !has_error, "{}", path.display());
        // What the fuzz targets check of every finding (fuzz/src/check.rs).
        let lines = source.replace("\r\n", "\n").replace('\r', "\n").split('\n').count() as u32;
        for f in &report.findings {
            assert!(f.line >= 1 && f.column >= 1, "{}: {f:?}", path.display());
            assert!((f.end_line, f.end_column) >= (f.line, f.column), "{}: {f:?}", path.display());
            assert!(f.end_line <= lines, "{}: {f:?}", path.display());
        }
    }
}

#[test]
fn deep_nesting_is_refused_like_cpython() {
    let source = format!("x = {}{}\n", "[".repeat(201), "]".repeat(201));
    let report = validate(&source, &ValidateOptions::default());
    assert!(!report.loads);
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    assert_eq!(report.findings[0].code, "DS001");
    assert!(report.findings[0].message.contains("too many nested parentheses"));
    // 200 levels are still fine for CPython.
    let source = format!("x = {}{}\n", "[".repeat(200), "]".repeat(200));
    let report = validate(&source, &ValidateOptions::default());
    assert!(report.findings.iter().all(|f| f.code != "DS001"), "{:?}", report.findings);
}

/// Trees tens of thousands of levels deep without a single bracket (a long `+` chain, `not`
/// after `not`, a chain of attributes), in module code and in a function body: every walk
/// over them must move to a new stack segment rather than overflow. On a thread with a small
/// stack, so that the segments are needed even in release builds.
#[test]
fn deep_trees_without_brackets_grow_the_stack() {
    let n = 20_000;
    let plus = vec!["1"; n].join(" + ");
    let names = vec!["y"; n].join(" + ");
    let source = format!(
        "x = {plus}\ndef f():\n    return {names}\nz = {}x\nw = a{}\n",
        "not ".repeat(n),
        ".b".repeat(n)
    );
    let report = validate_v3_on_a_small_stack(source);
    // `y` is undefined in the function body, once per use; `a` at module level.
    let deferred = report.findings.iter().filter(|f| f.code == "DS103").count();
    assert_eq!(deferred, n, "{:?}", &report.findings[..3]);
    assert!(!report.loads);
}

/// More shapes that nest without brackets, inside a DAG where the interpreter and the DAG
/// checks see them: a `>>` chain of hundreds of tasks, nested lambdas, conditional
/// expressions, powers, unary minus, and a call through a long attribute chain.
#[test]
fn deep_trees_inside_a_dag_grow_the_stack() {
    let (n, tasks) = (5_000, 300);
    let mut source = String::from(
        "from datetime import datetime\nfrom airflow import DAG\nfrom airflow.providers.standard.operators.empty import EmptyOperator\nimport airflow\n\nwith DAG(dag_id=\"deep\", start_date=datetime(2024, 1, 1), schedule=None):\n",
    );
    for i in 0..tasks {
        source.push_str(&format!("    t{i} = EmptyOperator(task_id=\"t{i}\")\n"));
    }
    let chain: Vec<String> = (0..tasks).map(|i| format!("t{i}")).collect();
    source.push_str(&format!("    {}\n", chain.join(" >> ")));
    source.push_str(&format!("    f = {}0\n", "lambda: ".repeat(n)));
    source.push_str(&format!("    c = {}0\n", "1 if t0 else ".repeat(n)));
    source.push_str(&format!("    p = {}2\n", "2 ** ".repeat(n)));
    source.push_str(&format!("    m = {}1\n", "- ".repeat(n)));
    source.push_str(&format!("    airflow{}.EmptyOperator(task_id=\"last\")\n", ".x".repeat(n)));
    let report = validate_v3_on_a_small_stack(source);
    let dag = &report.dags[0];
    // The chain's tasks, and the call through the attribute chain taken for one more.
    assert_eq!(dag.tasks.len(), tasks + 1, "{:?}", report.findings);
    assert_eq!(dag.edges.len(), tasks - 1);
}

/// Values nested as deep as a loop can make them (`x = [x]`, `y = {"k": y}`, `s = (s, s)`)
/// are measured and dropped without overflowing a small stack.
#[test]
fn deeply_nested_values_do_not_overflow() {
    let source = "x = []\nfor i in range(1000000):\n    x = [x]\ny = {}\nfor i in range(1000000):\n    y = {\"k\": y}\ns = \"a\"\nfor i in range(1000000):\n    s = (s, s)\nprint(x, y, s)\n";
    let report = validate_v3_on_a_small_stack(source);
    assert!(report.dags.is_empty());
}

// ----- the interpreter's arithmetic (issue 12) -----

fn validate_v3(source: &str) -> dagsmith_core::Report {
    validate(source, &ValidateOptions { airflow_version: "3.1".parse().unwrap() })
}

/// [`validate_v3`] on a thread with a 512 KiB stack, so that deep trees need the stack guards
/// even in release builds.
fn validate_v3_on_a_small_stack(source: impl Into<String>) -> dagsmith_core::Report {
    let source = source.into();
    std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(move || validate_v3(&source))
        .unwrap()
        .join()
        .expect("validation finished without overflowing the stack")
}

/// A DAG whose body is `body` (indented by four spaces by the caller).
fn dag_with(body: &str) -> String {
    format!(
        "from datetime import datetime\nfrom airflow import DAG\nfrom airflow.operators.empty import EmptyOperator\n\nwith DAG(dag_id=\"d\", start_date=datetime(2024, 1, 1), schedule=None):\n{body}"
    )
}

fn task_ids(report: &dagsmith_core::Report) -> Vec<String> {
    report.dags.iter().flat_map(|d| d.tasks.iter().cloned()).collect()
}

/// Issue 12: `b - a` overflowed in the range unrolling (a panic in debug builds), then 2^64
/// values were allocated ("capacity overflow").
#[test]
fn range_over_the_whole_i64_range_is_an_unknown_loop() {
    let report = validate_v3(&dag_with(
        "    for i in range(-9223372036854775807, 9223372036854775807):\n        pass\n    for i in range(-9223372036854775808, 9223372036854775807, 1):\n        EmptyOperator(task_id=f\"t_{i}\")\n",
    ));
    assert!(report.loads, "{:?}", report.findings);
    // The loop's task id depends on the unknown loop variable: one task, id unknown.
    assert_eq!(report.dags.len(), 1);
    assert_eq!(report.dags[0].dynamic_tasks, 1, "{:?}", report.dags);
}

#[test]
fn ranges_with_a_step_are_unrolled_exactly() {
    let report = validate_v3(&dag_with(
        "    for i in range(9223372036854775806, 9223372036854775807 - 20, -9):\n        EmptyOperator(task_id=f\"t_{i}\")\n",
    ));
    assert!(report.loads, "{:?}", report.findings);
    assert_eq!(
        task_ids(&report),
        ["t_9223372036854775806", "t_9223372036854775797", "t_9223372036854775788"]
    );
}

/// Integer results that do not fit an i64 are unknown, never wrapped into a wrong id.
#[test]
fn integer_overflow_gives_unknown_values_not_wrapped_ones() {
    for expr in [
        "9223372036854775807 + 1",
        "-9223372036854775807 - 2",
        "-(-9223372036854775807 - 1)",
        "9223372036854775807 * 2",
        "2 ** 63",
        "10 ** 9223372036854775807",
        "1 << 63",
        "1 << 9223372036854775807",
        "(-9223372036854775807 - 1) // -1",
        "(-9223372036854775807 - 1) % -1",
        "7 // 0",
        "7 % 0",
        "1 << -1",
        "2 ** -1",
    ] {
        let report =
            validate_v3(&dag_with(&format!("    EmptyOperator(task_id=f\"t_{{{expr}}}\")\n")));
        assert!(report.loads, "{expr}: {:?}", report.findings);
        assert!(task_ids(&report).is_empty(), "{expr} gave {:?}", task_ids(&report));
        assert_eq!(report.dags[0].dynamic_tasks, 1, "{expr}");
    }
}

#[test]
fn integer_arithmetic_follows_python() {
    let report = validate_v3(&dag_with(
        "    EmptyOperator(task_id=f\"a_{-7 // 2}_{-7 % 2}_{2 ** 10}_{1 << 62}_{-5 >> 1}_{-5 >> 100}_{~0}_{6 & 3}_{6 | 3}_{6 ^ 3}_{10 - 20}\")\n",
    ));
    assert_eq!(task_ids(&report), ["a_-4_1_1024_4611686018427387904_-3_-1_-1_2_7_5_-10"]);
}

/// Repetition builds known values up to a size, and nothing bigger.
#[test]
fn repetition_is_exact_when_small_and_unknown_when_huge() {
    let report = validate_v3(&dag_with(
        "    EmptyOperator(task_id=\"ab\" * 3)\n    for x in [1, 2] * 2:\n        EmptyOperator(task_id=f\"r{x}\")\n",
    ));
    assert_eq!(task_ids(&report), ["ababab", "r1", "r2"]);
    // Python would raise DuplicateTaskIdFound on the second `r1`.
    assert!(!report.loads);
    for expr in [
        "\"ab\" * 9223372036854775807",
        "[0] * 9223372036854775807",
        "9223372036854775807 * [[0] * 200]",
        "\"x\" * 10**6",
    ] {
        let report = validate_v3(&dag_with(&format!("    EmptyOperator(task_id={expr})\n")));
        assert!(task_ids(&report).is_empty(), "{expr}");
        assert!(report.loads, "{expr}: {:?}", report.findings);
    }
    // A long id that is still computed is checked like a literal one.
    let report = validate_v3(&dag_with("    EmptyOperator(task_id=\"x\" * 300)\n"));
    assert!(
        report.findings.iter().any(|f| f.code == "DS106" && f.message.contains("longer than 250"))
    );
}

/// Values that double on every iteration of an unrolled loop: without size bounds they
/// exhaust memory (2^200 bytes) or time.
#[test]
fn values_that_grow_exponentially_stop_at_a_bound() {
    for body in [
        "    s = \"ab\"\n    for i in range(200):\n        s = s + s\n",
        "    s = \"ab\"\n    for i in range(200):\n        s += s\n",
        "    s = \"ab\"\n    for i in range(200):\n        s = f\"{s}{s}\"\n",
        "    s = \"ab\"\n    for i in range(200):\n        s = \"{}{}\".format(s, s)\n",
        "    s = \"ab\"\n    for i in range(200):\n        s = \"%s%s\" % (s, s)\n",
        "    s = \"ab\"\n    for i in range(200):\n        s = s.replace(\"\", \"xx\")\n",
        "    s = \"ab\"\n    for i in range(200):\n        s = s * 2\n",
        "    l = [1]\n    for i in range(200):\n        l = l + l\n",
        "    l = [1]\n    for i in range(200):\n        l.extend(l)\n",
        "    l = [1]\n    for i in range(200):\n        l = [x for x in l for y in [1, 2]]\n",
    ] {
        let source = dag_with(&format!("{body}    EmptyOperator(task_id=\"end\")\n"));
        let report = validate_v3(&source);
        assert!(report.loads, "{body}: {:?}", report.findings);
        assert_eq!(task_ids(&report), ["end"], "{body}");
    }
    // Nested copies are paid for by their size: these use up the file's work budget, so the
    // interpretation ends early — with the DAG found and no error made up.
    for body in [
        "    l = [1]\n    for i in range(200):\n        l = [l, l]\n",
        "    l = [1]\n    for i in range(200):\n        l = [*l, *l]\n",
        "    d = {\"a\": 1}\n    for i in range(200):\n        d = {\"a\": d, \"b\": d}\n",
    ] {
        let source = dag_with(&format!("{body}    EmptyOperator(task_id=\"end\")\n"));
        let report = validate_v3(&source);
        assert!(report.loads, "{body}: {:?}", report.findings);
        assert_eq!(report.dags.len(), 1, "{body}");
    }
}

/// Nested unrolled loops multiply: the work budget ends the interpretation, and a DAG that may
/// be created in code not followed makes "no DAG" a warning, not an error.
#[test]
fn work_budget_ends_huge_unrolled_loops() {
    let source = "from airflow.operators.empty import EmptyOperator\nfor a in range(256):\n    for b in range(256):\n        for c in range(256):\n            EmptyOperator(task_id=f\"t_{a}_{b}_{c}\")\nfrom airflow import DAG\nwith DAG(dag_id=\"late\", schedule=None):\n    pass\n";
    let report = validate_v3(source);
    assert!(report.loads, "{:?}", report.findings);
    assert!(report.findings.iter().any(|f| f.code == "DS101"), "{:?}", report.findings);
}
