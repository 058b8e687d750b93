//! Fix snapshots: every fixture `tests/fixtures/<DIR>/<name>.py` (see `tests/rules.rs`) is
//! fixed with `fix_source`, and the result compared with the files next to it:
//!
//! - `<name>.fixed.py`: the source after the safe fixes; must exist exactly when they change it;
//! - `<name>.unsafe.fixed.py`: after safe and unsafe fixes; must exist exactly when that differs
//!   from the safe result.
//!
//! Also checked: fixing never adds an error or loses a DAG or task, fixing the fixed source
//! again changes nothing, and every rule that `rules::ALL` marks fixable has a snapshot of each
//! kind of fix it claims.
//!
//! Updating snapshots: `DAGSMITH_BLESS=1 cargo test -p dagsmith-core --test fixes` writes (and
//! deletes) the `.fixed.py` files from the current output. Read the diff before committing it.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use dagsmith_core::fix::{FixMode, fix_source};
use dagsmith_core::rules::{self, Fixable};
use dagsmith_core::{AirflowVersion, Report, Severity, ValidateOptions, validate};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
const DEFAULT_VERSION: &str = "2.11";
const VERSION_PREFIX: &str = "# airflow-version:";
const SAFE_SUFFIX: &str = ".fixed.py";
const UNSAFE_SUFFIX: &str = ".unsafe.fixed.py";

/// Fixture sources (not snapshots, not pending), sorted.
fn fixtures() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = fs::read_dir(FIXTURES)
        .expect("fixtures directory")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let mut files: Vec<PathBuf> = fs::read_dir(&dir)
            .expect("fixture directory")
            .map(|e| e.expect("entry").path())
            .filter(|p| {
                let name = p.to_string_lossy();
                name.ends_with(".py")
                    && !name.ends_with(SAFE_SUFFIX)
                    && !name.ends_with(".pending.py")
            })
            .collect();
        files.sort();
        out.extend(files);
    }
    out
}

fn version_of(source: &str) -> AirflowVersion {
    let first = source.lines().next().unwrap_or("");
    let text = first.strip_prefix(VERSION_PREFIX).map_or(DEFAULT_VERSION, str::trim);
    text.parse().unwrap_or_else(|e| panic!("bad `{VERSION_PREFIX}` line {first:?}: {e}"))
}

fn snapshot_path(fixture: &Path, suffix: &str) -> PathBuf {
    let stem = fixture.file_stem().and_then(|s| s.to_str()).expect("utf-8 name");
    fixture.with_file_name(format!("{stem}{suffix}"))
}

fn label(path: &Path) -> String {
    let dir = path.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()).unwrap_or("?");
    format!("{dir}/{}", path.file_name().and_then(|n| n.to_str()).unwrap_or("?"))
}

fn blessing() -> bool {
    std::env::var_os("DAGSMITH_BLESS").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Compares (or, blessing, writes/deletes) one snapshot; returns a failure message.
fn check(path: &Path, actual: Option<&str>, bless: bool) -> Option<String> {
    let expected = fs::read_to_string(path).ok();
    if expected.as_deref() == actual {
        return None;
    }
    if bless {
        match actual {
            Some(text) => fs::write(path, text).expect("write snapshot"),
            None => fs::remove_file(path).expect("delete snapshot"),
        }
        return None;
    }
    Some(match (expected, actual) {
        (None, Some(a)) => format!("{}: missing; the fixed source is:\n{a}", label(path)),
        (Some(_), None) => format!("{}: the fixes no longer change the file", label(path)),
        (Some(e), Some(a)) => {
            format!("{}: differs:\n--- expected\n{e}\n--- actual\n{a}", label(path))
        }
        (None, None) => unreachable!(),
    })
}

fn errors_by_code(report: &Report) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for f in report.findings.iter().filter(|f| f.severity == Severity::Error) {
        *m.entry(f.code).or_default() += 1;
    }
    m
}

#[test]
fn fix_snapshots() {
    let bless = blessing();
    let mut failures = Vec::new();
    for path in fixtures() {
        let source = fs::read_to_string(&path).expect("read fixture");
        let options = ValidateOptions { airflow_version: version_of(&source) };
        let safe = fix_source(&source, &options, FixMode::Safe);
        let all = fix_source(&source, &options, FixMode::SafeAndUnsafe);
        failures.extend(check(
            &snapshot_path(&path, SAFE_SUFFIX),
            (safe.source != source).then_some(safe.source.as_str()),
            bless,
        ));
        failures.extend(check(
            &snapshot_path(&path, UNSAFE_SUFFIX),
            (all.source != safe.source).then_some(all.source.as_str()),
            bless,
        ));
        // The outcome's report is that of its source, and nothing is lost.
        for outcome in [&safe, &all] {
            assert_eq!(outcome.report, validate(&outcome.source, &options), "{}", label(&path));
            let before = validate(&source, &options);
            let total = |r: &Report| r.count(Severity::Error);
            if outcome.applied.is_empty() {
                assert_eq!(outcome.source, source, "{}", label(&path));
            }
            if before.loads && !outcome.report.loads {
                failures.push(format!("{}: loaded before the fixes, not after", label(&path)));
            }
            if total(&outcome.report) > total(&before) {
                failures.push(format!(
                    "{}: more errors after the fixes: {:?} → {:?}",
                    label(&path),
                    errors_by_code(&before),
                    errors_by_code(&outcome.report)
                ));
            }
            for dag in &before.dags {
                // A task may gain a group prefix (DS123: `with TaskGroup("g")` groups its tasks).
                let has = |d: &dagsmith_core::DagSummary, t: &String| {
                    d.tasks.iter().any(|x| x == t || x.ends_with(&format!(".{t}")))
                };
                let kept = outcome
                    .report
                    .dags
                    .iter()
                    .any(|d| d.dag_id == dag.dag_id && dag.tasks.iter().all(|t| has(d, t)));
                if !kept {
                    failures.push(format!(
                        "{}: lost DAG {:?} or a task of it",
                        label(&path),
                        dag.dag_id
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} fix snapshot(s) failed; if the new output is right, rerun with DAGSMITH_BLESS=1\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn fixing_the_fixed_source_changes_nothing() {
    for path in fixtures() {
        let source = fs::read_to_string(&path).expect("read fixture");
        let options = ValidateOptions { airflow_version: version_of(&source) };
        for mode in [FixMode::Safe, FixMode::SafeAndUnsafe] {
            let once = fix_source(&source, &options, mode);
            let twice = fix_source(&once.source, &options, mode);
            assert_eq!(twice.source, once.source, "{} ({mode:?})", label(&path));
            assert!(twice.applied.is_empty(), "{} ({mode:?}): {:?}", label(&path), twice.applied);
        }
    }
}

/// Every fixable rule shows each kind of fix it claims in at least one snapshot of its own
/// fixture directory.
#[test]
fn every_fixable_rule_has_fix_snapshots() {
    let mut problems = Vec::new();
    for rule in rules::ALL {
        let dir = Path::new(FIXTURES).join(rule.code);
        let names: Vec<String> = fs::read_dir(&dir)
            .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        let safe = names.iter().any(|n| n.ends_with(SAFE_SUFFIX) && !n.ends_with(UNSAFE_SUFFIX));
        let unsafe_ = names.iter().any(|n| n.ends_with(UNSAFE_SUFFIX));
        let (need_safe, need_unsafe) = match rule.fixable {
            Fixable::No => (false, false),
            Fixable::Safe => (true, false),
            Fixable::Unsafe => (false, true),
            Fixable::SafeOrUnsafe => (true, true),
        };
        if need_safe && !safe {
            problems.push(format!("{} ({}): no *{SAFE_SUFFIX} snapshot", rule.code, rule.name));
        }
        if need_unsafe && !unsafe_ {
            problems.push(format!("{} ({}): no *{UNSAFE_SUFFIX} snapshot", rule.code, rule.name));
        }
        if rule.fixable == Fixable::No && (safe || unsafe_) {
            problems.push(format!(
                "{} ({}): has fix snapshots but is marked not fixable",
                rule.code, rule.name
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
