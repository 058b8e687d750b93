//! Fixes over the labelled corpus (`../shared/corpus`, as `corpus.rs`): "a fix never breaks a
//! file".
//!
//! Every scored label row (file × Airflow version) is fixed with `fix_source`, safe fixes only,
//! and checked:
//!
//! - a file real Airflow loads: its report after the fixes has the same DAG ids, task ids and
//!   edges, and still loads when it did before;
//! - a file real Airflow refuses: no rule has more errors after the fixes than before, except
//!   the argument checks an import fix reveals (see `dagsmith_core::fix`), which are counted.
//!
//! It also counts, per rule, the corpus rows each kind of fix touches, and how many failing rows
//! the fixes turn into predicted loads (safe, and safe + unsafe), printed as the table of
//! docs/VALIDATION.md's "Fixes" section. `DAGSMITH_CORPUS_UPDATE=1` rewrites that table.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use dagsmith_core::fix::{FixMode, FixOutcome, fix_source};
use dagsmith_core::{AirflowVersion, Report, Severity, ValidateOptions, validate};
use serde_json::Value;

const SHARED_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared");
const CORPUS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");
const DOC_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/VALIDATION.md");
const VERSIONS: [&str; 2] = ["2.11.2", "3.1.8"];
const REVEALED: [&str; 4] = ["DS207", "DS208", "DS111", "DS121"];
const BEGIN: &str = "<!-- BEGIN fixes:figures -->";
const END: &str = "<!-- END fixes:figures -->";

struct Row {
    id: String,
    file: String,
    version: String,
    loads_ok: bool,
}

fn rows() -> Vec<Row> {
    let path = Path::new(CORPUS_DIR).join("labels.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("the labelled corpus is missing: cannot read {} ({e})", path.display())
    });
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let row: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("labels.jsonl line {}: {e}", i + 1));
        let s = |k: &str| row.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        if s("kind") == "general_python"
            || row.get("failure_env_limited").and_then(Value::as_bool).unwrap_or(false)
        {
            continue;
        }
        let verdict = row.get("retry_60s").filter(|r| r.is_object()).unwrap_or(&row);
        let loads_ok = verdict
            .get("airflow_loads_ok")
            .and_then(Value::as_bool)
            .unwrap_or_else(|| panic!("labels.jsonl line {}: no airflow_loads_ok", i + 1));
        out.push(Row { id: s("id"), file: s("file"), version: s("airflow_version"), loads_ok });
    }
    out
}

type Dags = BTreeMap<Option<String>, (BTreeSet<String>, BTreeSet<(String, String)>)>;

fn dags(report: &Report) -> Dags {
    report
        .dags
        .iter()
        .map(|d| {
            let edges = d.edges.iter().map(|e| (e.upstream.clone(), e.downstream.clone()));
            (d.dag_id.clone(), (d.tasks.iter().cloned().collect(), edges.collect()))
        })
        .collect()
}

fn errors_by_code(report: &Report) -> BTreeMap<&'static str, usize> {
    let mut m = BTreeMap::new();
    for f in report.findings.iter().filter(|f| f.severity == Severity::Error) {
        *m.entry(f.code).or_default() += 1;
    }
    m
}

/// Figures for one Airflow version.
#[derive(Default)]
struct Tally {
    rows: usize,
    loading_rows: usize,
    failing_rows: usize,
    /// Rows whose source a mode changed: (safe, safe + unsafe).
    changed: [usize; 2],
    /// Failing rows (Airflow refuses) that dagsmith also refused before and predicts to load
    /// after the fixes: (safe, safe + unsafe).
    now_load: [usize; 2],
    /// Rows each rule's fixes touched: code → (safe mode, safe + unsafe mode).
    touched: BTreeMap<&'static str, [usize; 2]>,
    /// Errors revealed by import fixes on failing rows (safe mode).
    revealed: usize,
    violations: Vec<String>,
}

fn check(row: &Row, source: &str, tally: &mut Tally) {
    let options = ValidateOptions {
        airflow_version: row.version.parse::<AirflowVersion>().expect("version"),
    };
    let before = validate(source, &options);
    let safe = fix_source(source, &options, FixMode::Safe);
    // Unsafe fixes only matter where one is offered (before or after the safe ones); elsewhere
    // the second run would repeat the first (this keeps the test fast; figures only).
    let offers_unsafe = |r: &Report| {
        r.findings
            .iter()
            .any(|f| f.autofix.as_ref().is_some_and(|x| !FixMode::Safe.allows(x.applicability)))
    };
    let all = if offers_unsafe(&before) || offers_unsafe(&safe.report) {
        fix_source(source, &options, FixMode::SafeAndUnsafe)
    } else {
        safe.clone()
    };
    tally.rows += 1;
    for (i, outcome) in [&safe, &all].into_iter().enumerate() {
        if outcome.source != source {
            tally.changed[i] += 1;
        }
        let codes: BTreeSet<&str> = outcome.applied.iter().map(|a| a.code).collect();
        for code in codes {
            tally.touched.entry(code).or_default()[i] += 1;
        }
        if !row.loads_ok && !before.loads && outcome.report.loads {
            tally.now_load[i] += 1;
        }
    }
    if row.loads_ok {
        tally.loading_rows += 1;
        loading_row_unchanged(row, &before, &safe, tally);
    } else {
        tally.failing_rows += 1;
        let (b, a) = (errors_by_code(&before), errors_by_code(&safe.report));
        for (code, n) in &a {
            let was = b.get(code).copied().unwrap_or(0);
            if *n > was {
                if REVEALED.contains(code) {
                    tally.revealed += n - was;
                } else {
                    tally.violations.push(format!(
                        "[{}] {} ({}): the safe fixes added a {code} error: {b:?} → {a:?}",
                        row.version, row.id, row.file
                    ));
                }
            }
        }
    }
}

fn loading_row_unchanged(row: &Row, before: &Report, after: &FixOutcome, tally: &mut Tally) {
    let what = |m: &str| format!("[{}] {} ({}): {m}", row.version, row.id, row.file);
    if before.loads && !after.report.loads {
        tally.violations.push(what("loads before the safe fixes, not after"));
    }
    if dags(before) != dags(&after.report) {
        tally.violations.push(what(&format!(
            "the safe fixes changed the DAGs: {:?} → {:?} (applied {:?})",
            dags(before),
            dags(&after.report),
            after.applied
        )));
    }
}

fn table(tallies: &[(&str, Tally)]) -> String {
    let mut out = String::from("| | ");
    out.push_str(
        &tallies.iter().map(|(v, _)| format!("Airflow {v}")).collect::<Vec<_>>().join(" | "),
    );
    out.push_str(" |\n|---|");
    out.push_str(&"---:|".repeat(tallies.len()));
    out.push('\n');
    let mut line = |label: &str, f: &dyn Fn(&Tally) -> String| {
        let cells: Vec<String> = tallies.iter().map(|(_, t)| f(t)).collect();
        writeln!(out, "| {label} | {} |", cells.join(" | ")).unwrap();
    };
    line("rows scored (Airflow loads / refuses)", &|t| {
        format!("{} ({} / {})", t.rows, t.loading_rows, t.failing_rows)
    });
    line("rows changed by safe fixes / safe + unsafe", &|t| {
        format!("{} / {}", t.changed[0], t.changed[1])
    });
    line("refused rows now predicted to load, safe fixes", &|t| t.now_load[0].to_string());
    line("refused rows now predicted to load, safe + unsafe", &|t| t.now_load[1].to_string());
    line("errors revealed by import fixes (refused rows, safe)", &|t| t.revealed.to_string());
    let codes: BTreeSet<&str> =
        tallies.iter().flat_map(|(_, t)| t.touched.keys().copied()).collect();
    for code in codes {
        line(&format!("rows touched by {code} fixes (safe / safe + unsafe)"), &|t| {
            let [s, a] = t.touched.get(code).copied().unwrap_or_default();
            format!("{s} / {a}")
        });
    }
    out
}

#[test]
fn fixes_never_break_corpus_files() {
    let rows = rows();
    assert!(!rows.is_empty(), "no scored rows in the corpus");
    let mut sources: BTreeMap<&str, String> = BTreeMap::new();
    for row in &rows {
        sources.entry(&row.file).or_insert_with(|| {
            let bytes = std::fs::read(Path::new(SHARED_DIR).join(&row.file))
                .unwrap_or_else(|e| panic!("{}: {e}", row.file));
            String::from_utf8_lossy(&bytes).into_owned()
        });
    }
    let tallies: Vec<(&str, Tally)> = std::thread::scope(|s| {
        let handles: Vec<_> = VERSIONS
            .iter()
            .map(|v| {
                let (rows, sources) = (&rows, &sources);
                s.spawn(move || {
                    let mut tally = Tally::default();
                    for row in rows.iter().filter(|r| r.version == *v) {
                        check(row, &sources[row.file.as_str()], &mut tally);
                    }
                    (*v, tally)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("fix thread panicked")).collect()
    });
    let text = table(&tallies);
    eprintln!("\nfixes over the corpus:\n\n{text}");
    if std::env::var("DAGSMITH_CORPUS_UPDATE").is_ok_and(|v| !v.is_empty() && v != "0") {
        let doc = std::fs::read_to_string(DOC_PATH).expect("read docs/VALIDATION.md");
        let (Some(b), Some(e)) = (doc.find(BEGIN), doc.find(END)) else {
            panic!("docs/VALIDATION.md has no {BEGIN} ... {END} region");
        };
        let updated = format!("{}{BEGIN}\n{text}{}", &doc[..b], &doc[e..]);
        std::fs::write(DOC_PATH, updated).expect("write docs/VALIDATION.md");
    }
    let violations: Vec<&String> = tallies.iter().flat_map(|(_, t)| &t.violations).collect();
    assert!(
        violations.is_empty(),
        "{} corpus rows broken by safe fixes:\n{}",
        violations.len(),
        violations.iter().map(|v| v.as_str()).collect::<Vec<_>>().join("\n")
    );
}
