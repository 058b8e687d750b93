//! Fixture tests, one directory per rule: `tests/fixtures/<CODE>/<name>.py`, plus `model/` for
//! how DAGs, tasks and edges are understood.
//!
//! Every fixture is validated and its report rendered as a small, stable text snapshot that is
//! compared with `<name>.expected` next to it:
//!
//! ```text
//! loads: true|false
//! dag <dag_id or ?> tasks=[a, b] edges=[a>>b] dynamic=0      (one line per DAG; tasks in
//!                                                             creation order, edges sorted)
//! LINE:COL CODE severity message                              (one line per finding)
//!   fix: ...                                                  (when the finding has a hint)
//!   autofix (safe|unsafe): ...                                (when it has a fix)
//! ```
//!
//! `<name>.fixed.py` / `<name>.unsafe.fixed.py` next to a fixture are the fixed sources, checked
//! by `tests/fixes.rs`; they are not fixtures themselves.
//!
//! Conventions:
//! - A first line `# airflow-version: 3.1` picks the target Airflow version (default 2.11).
//! - In a rule directory, `bad*.py` must produce at least one finding with that code and `ok*.py`
//!   none (checked apart from the snapshots); every rule in `rules::ALL` needs at least one of each,
//!   so a new rule without fixtures fails the build.
//! - `*.pending.py` are known validator bugs: their `.expected` holds what Airflow really does, so
//!   they would fail. They are run and listed (always printed, even without `--nocapture`) but never
//!   fail the suite; when one starts to pass, the listing says so: drop `.pending` from its name.
//!
//! - Every fixture must also give the same report on every run (edge order included);
//!   `KNOWN_UNSTABLE` lists the known exceptions, printed like pending fixtures.
//!
//! Updating snapshots: `DAGSMITH_BLESS=1 cargo test -p dagsmith-core --test rules` rewrites the
//! `.expected` files of every non-pending fixture from the current output (pending ones are written
//! by hand and never blessed). Read the diff before committing it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use dagsmith_core::rules;
use dagsmith_core::{AirflowVersion, Report, ValidateOptions, validate_named};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
/// Fixture directories that are not rule codes.
const EXTRA_DIRS: &[&str] = &["model"];
const DEFAULT_VERSION: &str = "2.11";
const VERSION_PREFIX: &str = "# airflow-version:";

struct Fixture {
    /// `CODE` or `model`.
    dir: String,
    /// File name without `.py`, e.g. `bad_cycle` or `bad_cycle.pending`.
    name: String,
    path: PathBuf,
    pending: bool,
}

impl Fixture {
    fn expected_path(&self) -> PathBuf {
        self.path.with_file_name(format!("{}.expected", self.name))
    }

    fn label(&self) -> String {
        format!("{}/{}.py", self.dir, self.name)
    }

    /// `bad` or `ok`, from the name (`None` for anything else, e.g. model fixtures).
    fn kind(&self) -> Option<&'static str> {
        if self.name.starts_with("bad") {
            Some("bad")
        } else if self.name.starts_with("ok") {
            Some("ok")
        } else {
            None
        }
    }
}

fn fixtures() -> Vec<Fixture> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = fs::read_dir(FIXTURES)
        .unwrap_or_else(|e| panic!("cannot read {FIXTURES}: {e}"))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let dir_name = dir.file_name().and_then(|n| n.to_str()).expect("utf-8 name").to_string();
        let mut files: Vec<PathBuf> = fs::read_dir(&dir)
            .expect("fixture directory")
            .map(|e| e.expect("directory entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "py"))
            // Fix snapshots (tests/fixes.rs), not fixtures.
            .filter(|p| !p.to_string_lossy().ends_with(".fixed.py"))
            .collect();
        files.sort();
        for path in files {
            let name = path.file_stem().and_then(|n| n.to_str()).expect("utf-8 name").to_string();
            let pending = name.ends_with(".pending");
            out.push(Fixture { dir: dir_name.clone(), name, path, pending });
        }
    }
    out
}

fn version_of(source: &str) -> AirflowVersion {
    let first = source.lines().next().unwrap_or("");
    let text = first.strip_prefix(VERSION_PREFIX).map_or(DEFAULT_VERSION, str::trim);
    text.parse().unwrap_or_else(|e| panic!("bad `{VERSION_PREFIX}` line {first:?}: {e}"))
}

fn run(fixture: &Fixture) -> Report {
    let source = fs::read_to_string(&fixture.path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", fixture.path.display()));
    // Under its own name, as Airflow would import it (`__file__`).
    let name = fixture.path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    validate_named(&source, name, &ValidateOptions { airflow_version: version_of(&source) })
}

/// The snapshot text of a report (see the module docs).
fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "loads: {}", report.loads);
    for dag in &report.dags {
        // Sorted: the order of `edges` in a report carries no meaning.
        let mut edges: Vec<String> =
            dag.edges.iter().map(|e| format!("{}>>{}", e.upstream, e.downstream)).collect();
        edges.sort();
        let _ = writeln!(
            out,
            "dag {} tasks=[{}] edges=[{}] dynamic={}",
            dag.dag_id.as_deref().unwrap_or("?"),
            dag.tasks.join(", "),
            edges.join(", "),
            dag.dynamic_tasks
        );
    }
    for f in &report.findings {
        let _ = writeln!(
            out,
            "{}:{} {} {} {}",
            f.line,
            f.column,
            f.code,
            f.severity.as_str(),
            f.message
        );
        if let Some(fix) = f.fix.text() {
            let _ = writeln!(out, "  fix: {fix}");
        }
        if let Some(autofix) = &f.autofix {
            let _ = writeln!(
                out,
                "  autofix ({}): {}",
                autofix.applicability.as_str(),
                autofix.message
            );
        }
    }
    out
}

/// A line diff (longest common subsequence): ` ` kept, `-` expected only, `+` actual only.
fn diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] =
                if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = String::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            let _ = writeln!(out, "  {}", a[i]);
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            let _ = writeln!(out, "+ {}", b[j]);
            j += 1;
        } else {
            let _ = writeln!(out, "- {}", a[i]);
            i += 1;
        }
    }
    out
}

fn blessing() -> bool {
    std::env::var_os("DAGSMITH_BLESS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Prints past the test harness's output capture, so the list shows on every run.
fn print_uncaptured(text: &str) {
    let _ = std::io::stderr().write_all(text.as_bytes());
}

#[test]
fn snapshots() {
    let bless = blessing();
    let mut failures = Vec::new();
    let mut pending_report = String::new();
    let all = fixtures();
    assert!(!all.is_empty(), "no fixtures under {FIXTURES}");
    for fixture in &all {
        let actual = render(&run(fixture));
        let expected_path = fixture.expected_path();
        let expected = fs::read_to_string(&expected_path).ok();
        if fixture.pending {
            let status = match &expected {
                None => "has no .expected file (write the correct expectation by hand)".to_string(),
                Some(e) if *e == actual => "now PASSES: drop `.pending` from its name".to_string(),
                Some(e) => {
                    format!(
                        "still fails (known validator bug):\n{}",
                        indent(&diff(e, &actual)).trim_end()
                    )
                }
            };
            let _ = writeln!(pending_report, "  {} {status}", fixture.label());
            continue;
        }
        if expected.as_deref() == Some(actual.as_str()) {
            continue;
        }
        if bless {
            fs::write(&expected_path, &actual)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", expected_path.display()));
            continue;
        }
        match expected {
            None => failures.push(format!(
                "{}: no {} (run with DAGSMITH_BLESS=1 to create it); output:\n{}",
                fixture.label(),
                expected_path.file_name().and_then(|n| n.to_str()).unwrap_or("?"),
                indent(&actual)
            )),
            Some(e) => failures.push(format!(
                "{}: snapshot differs (- expected, + actual):\n{}",
                fixture.label(),
                indent(&diff(&e, &actual))
            )),
        }
    }
    if !pending_report.is_empty() {
        print_uncaptured(&format!(
            "pending fixtures (known validator bugs, not failing the suite):\n{pending_report}"
        ));
    }
    // `.expected` files whose fixture is gone.
    for dir in
        fs::read_dir(FIXTURES).expect("fixtures").flatten().map(|e| e.path()).filter(|p| p.is_dir())
    {
        for path in fs::read_dir(&dir).expect("fixture directory").flatten().map(|e| e.path()) {
            if path.extension().is_some_and(|e| e == "expected")
                && !path.with_extension("py").exists()
            {
                failures.push(format!("{}: .expected without a fixture", path.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixture snapshots failed; if the new output is right, rerun with DAGSMITH_BLESS=1\n\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

/// Independent of the snapshots: `bad*` fixtures in a rule directory trigger that rule, `ok*`
/// fixtures do not.
#[test]
fn bad_fixtures_trigger_their_rule_and_ok_fixtures_do_not() {
    let mut failures = Vec::new();
    for fixture in fixtures() {
        if fixture.pending || rules::find(&fixture.dir).is_none() {
            continue;
        }
        let report = run(&fixture);
        let hits = report.findings.iter().filter(|f| f.code == fixture.dir).count();
        match fixture.kind() {
            Some("bad") if hits == 0 => failures.push(format!(
                "{}: expected a {} finding, got none",
                fixture.label(),
                fixture.dir
            )),
            Some("ok") if hits > 0 => failures.push(format!(
                "{}: expected no {} finding, got {hits}",
                fixture.label(),
                fixture.dir
            )),
            Some(_) => {}
            None => failures.push(format!(
                "{}: rule fixtures must be named bad*.py or ok*.py",
                fixture.label()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every rule has at least one (non-pending) bad and one ok fixture, and every fixture directory
/// is a rule code or one of `EXTRA_DIRS`.
#[test]
fn every_rule_has_fixtures() {
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for fixture in fixtures() {
        let entry = counts.entry(fixture.dir.clone()).or_default();
        match (fixture.pending, fixture.kind()) {
            (false, Some("bad")) => entry.0 += 1,
            (false, Some("ok")) => entry.1 += 1,
            _ => {}
        }
    }
    let mut problems = Vec::new();
    for rule in rules::ALL {
        match counts.get(rule.code) {
            None => problems.push(format!(
                "{} ({}): no fixtures/{}/ directory",
                rule.code, rule.name, rule.code
            )),
            Some((bad, ok)) if *bad == 0 || *ok == 0 => problems.push(format!(
                "{} ({}): needs at least one bad*.py and one ok*.py, has {bad} bad and {ok} ok",
                rule.code, rule.name
            )),
            Some(_) => {}
        }
    }
    for dir in counts.keys() {
        if !EXTRA_DIRS.contains(&dir.as_str()) && !rules::ALL.iter().any(|r| r.code == dir) {
            problems
                .push(format!("fixtures/{dir}/ is neither a rule code nor one of {EXTRA_DIRS:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn version_comment_is_read() {
    assert_eq!(version_of("# airflow-version: 3.1\nimport os\n").to_string(), "3.1");
    assert_eq!(version_of("import os\n").to_string(), DEFAULT_VERSION);
    assert!(Path::new(FIXTURES).is_dir());
}

/// Fixtures whose report is known to vary between runs (a validator bug, listed like pending
/// fixtures instead of failing): edges through a task group come out in hash-set order.
const KNOWN_UNSTABLE: &[&str] = &["model/with_dag_task_groups.py"];

/// The same input gives the same report, byte for byte (edge order included): reports are
/// diffed, cached and shown in share links, and `render` above sorts edges only for readability.
#[test]
fn reports_are_deterministic() {
    let mut unstable = Vec::new();
    let mut listing = String::new();
    for fixture in fixtures() {
        let first = run(&fixture);
        // Every run builds fresh hash maps with fresh random seeds.
        let varies = (0..8).any(|_| run(&fixture) != first);
        let label = fixture.label();
        let known = fixture.pending || KNOWN_UNSTABLE.contains(&label.as_str());
        match (varies, known) {
            (true, false) => unstable.push(label),
            (true, true) => {
                let _ = writeln!(
                    listing,
                    "  {label} gives different reports from run to run (known validator bug)"
                );
            }
            (false, true) if !fixture.pending => {
                let _ = writeln!(listing, "  {label} is now stable: remove it from KNOWN_UNSTABLE");
            }
            _ => {}
        }
    }
    if !listing.is_empty() {
        print_uncaptured(&format!("unstable reports:\n{listing}"));
    }
    assert!(
        unstable.is_empty(),
        "validate() gave different reports for the same file:\n{}",
        unstable.join("\n")
    );
}
