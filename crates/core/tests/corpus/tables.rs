//! Markdown tables of the figures (printed by the test and written into docs/VALIDATION.md) and
//! the printed summary.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::labels::Label;
use crate::scoring::Metrics;
use crate::{TOP_MISSES, VERSIONS};

pub(crate) fn composition_table(labels: &[Label]) -> String {
    #[derive(Default)]
    struct Counts {
        files: BTreeSet<String>,
        /// Per version: (loads, refuses, env-limited).
        per_version: BTreeMap<String, [usize; 3]>,
    }
    let mut rows: BTreeMap<(String, String), Counts> = BTreeMap::new();
    let mut total = Counts::default();
    for l in labels {
        let slot = usize::from(!l.loads_ok) + usize::from(!l.loads_ok && l.env_limited);
        for c in [rows.entry((l.source.clone(), l.kind.clone())).or_default(), &mut total] {
            c.files.insert(l.id.clone());
            c.per_version.entry(l.version.clone()).or_default()[slot] += 1;
        }
    }
    let mut out = String::from("| source | kind | files |");
    for v in VERSIONS {
        write!(out, " {v}: loads / refuses / env-limited |").unwrap();
    }
    out.push_str(" scored |\n|---|---|---:|");
    for _ in VERSIONS {
        out.push_str("---:|");
    }
    out.push_str("---|\n");
    let mut line = |source: &str, kind: &str, c: &Counts, scored: &str| {
        write!(out, "| {source} | {kind} | {} |", c.files.len()).unwrap();
        for v in VERSIONS {
            let [a, b, e] = c.per_version.get(v).copied().unwrap_or_default();
            write!(out, " {a} / {b} / {e} |").unwrap();
        }
        writeln!(out, " {scored} |").unwrap();
    };
    for ((source, kind), c) in &rows {
        let scored = if kind == "general_python" { "no" } else { "yes, except env-limited" };
        line(source, kind, c, scored);
    }
    line("**all**", "", &total, "");
    out
}

/// A markdown table header: the first column's title, then one right-aligned column per set
/// and version.
fn table_header(first: &str, metrics: &[Metrics]) -> String {
    let mut out = format!("| {first} |");
    for m in metrics {
        write!(out, " {} |", m.name()).unwrap();
    }
    out.push_str("\n|---|");
    for _ in metrics {
        out.push_str("---:|");
    }
    out.push('\n');
    out
}

pub(crate) fn figures_table(metrics: &[Metrics]) -> String {
    let mut out = table_header("figure", metrics);
    let mut row = |name: &str, cell: &dyn Fn(&Metrics) -> String| {
        write!(out, "| {name} |").unwrap();
        for m in metrics {
            write!(out, " {} |", cell(m)).unwrap();
        }
        out.push('\n');
    };
    row("files scored", &|m| m.agreement.total.to_string());
    row("Airflow loads / refuses", &|m| {
        format!("{} / {}", m.airflow_loads, m.agreement.total - m.airflow_loads)
    });
    row("**agreement** (gated)", &|m| m.agreement.show());
    row("**false alarms** (gated, must be 0)", &|m| m.false_alarms.len().to_string());
    row("misses", &|m| m.misses.to_string());
    row("**line hits** (gated)", &|m| m.line_hits.show());
    row("DAG ids equal (both load)", &|m| m.dag_ids.show());
    row("task ids equal (both load)", &|m| m.task_ids.show());
    row("edges equal (both load)", &|m| m.edges.show());
    row("**structure**: ids, tasks and edges all equal (gated)", &|m| m.structure.show());
    let kinds: BTreeSet<&String> =
        metrics.iter().flat_map(|m| m.agreement_by_kind.keys()).collect();
    for kind in kinds {
        row(&format!("agreement, {kind} only"), &|m| {
            m.agreement_by_kind.get(kind).copied().unwrap_or_default().show()
        });
    }
    out
}

pub(crate) fn misses_table(metrics: &[Metrics]) -> String {
    let mut totals: BTreeMap<&str, usize> = BTreeMap::new();
    for m in metrics {
        for (key, n) in &m.miss_groups {
            *totals.entry(key).or_default() += n;
        }
    }
    let mut keys: Vec<(&str, usize)> = totals.into_iter().collect();
    keys.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut out = table_header("Airflow's primary failure (category: subcategory)", metrics);
    let count = |m: &Metrics, key: &str| m.miss_groups.get(key).copied().unwrap_or(0);
    for (key, _) in keys.iter().take(TOP_MISSES) {
        write!(out, "| {} |", key.replace('|', "\\|")).unwrap();
        for m in metrics {
            write!(out, " {} |", count(m, key)).unwrap();
        }
        out.push('\n');
    }
    if keys.len() > TOP_MISSES {
        let rest = &keys[TOP_MISSES..];
        write!(out, "| other ({} kinds) |", rest.len()).unwrap();
        for m in metrics {
            write!(out, " {} |", rest.iter().map(|(k, _)| count(m, k)).sum::<usize>()).unwrap();
        }
        out.push('\n');
    }
    out.push_str("| **all misses** |");
    for m in metrics {
        write!(out, " {} |", m.misses).unwrap();
    }
    out.push('\n');
    out
}

/// What the test prints: row counts, the rows left out, the figures and the miss breakdown.
pub(crate) fn summary(
    rows: usize,
    metrics: &[Metrics],
    skipped: &BTreeMap<(String, &str), usize>,
    seconds: f64,
) -> String {
    let mut summary = format!(
        "\ndagsmith corpus check: {} label rows, {} files scored per version, {:.1} s\nskipped: ",
        rows,
        metrics.iter().map(|m| m.agreement.total.to_string()).collect::<Vec<_>>().join(" / "),
        seconds
    );
    let skipped_text: Vec<String> =
        skipped.iter().map(|((v, why), n)| format!("{v} {why} {n}")).collect();
    summary.push_str(&skipped_text.join(", "));
    write!(
        summary,
        "\n\n{}\nMisses by Airflow's primary failure (top {TOP_MISSES}):\n\n{}",
        figures_table(metrics),
        misses_table(metrics)
    )
    .unwrap();
    summary
}
