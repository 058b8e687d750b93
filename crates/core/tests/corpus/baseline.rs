//! docs/VALIDATION.md's baseline block and generated regions: parsing and rewriting them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::labels::Label;
use crate::scoring::Metrics;
use crate::tables::{composition_table, figures_table, misses_table};
use crate::{BASELINE_FENCE, DOC_PATH, GATED, REGIONS};

/// Parses the ```` ```corpus-baseline ```` block: `SET VERSION key=value ...` per line, `#`
/// comments. Keys of the result are `SET VERSION` (as `Metrics::name`).
pub(crate) fn parse_baseline(doc: &str) -> Result<BTreeMap<String, BTreeMap<String, f64>>, String> {
    let start = doc
        .find(BASELINE_FENCE)
        .ok_or_else(|| format!("no {BASELINE_FENCE} block in {DOC_PATH}"))?;
    let mut out = BTreeMap::new();
    for line in doc[start..].lines().skip(1) {
        let line = line.trim();
        if line.starts_with("```") {
            return Ok(out);
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let set = words.next().unwrap_or_default();
        let version = format!("{set} {}", words.next().unwrap_or_default());
        let mut figures = BTreeMap::new();
        for word in words {
            let (key, value) = word
                .split_once('=')
                .ok_or_else(|| format!("baseline: {word:?} is not key=value"))?;
            if !GATED.contains(&key) {
                return Err(format!("baseline: unknown figure {key:?} (known: {GATED:?})"));
            }
            let value: f64 =
                value.parse().map_err(|_| format!("baseline: {word:?} is not a number"))?;
            figures.insert(key.to_owned(), value);
        }
        out.insert(version, figures);
    }
    Err(format!("the {BASELINE_FENCE} block in {DOC_PATH} is not closed"))
}

pub(crate) fn baseline_block(metrics: &[Metrics]) -> String {
    let mut out = String::from(
        "# SET VERSION agreement=SHARE false_alarms=COUNT line_hits=SHARE structure=SHARE (DAGSMITH_CORPUS_UPDATE=1 rewrites this)\n",
    );
    for m in metrics {
        writeln!(
            out,
            "{} agreement={:.4} false_alarms={} line_hits={:.4} structure={:.4}",
            m.name(),
            m.agreement.value(),
            m.false_alarms.len(),
            m.line_hits.value(),
            m.structure.value()
        )
        .unwrap();
    }
    out
}

/// Replaces what lies between `begin` and the next `end` after it.
fn replace_between(doc: &str, begin: &str, end: &str, content: &str) -> Result<String, String> {
    let b = doc.find(begin).ok_or_else(|| format!("{DOC_PATH} has no {begin:?}"))? + begin.len();
    let e = b + doc[b..]
        .find(end)
        .ok_or_else(|| format!("{DOC_PATH} has no {end:?} after {begin:?}"))?;
    Ok(format!("{}\n{}\n{}", &doc[..b], content.trim_end(), &doc[e..]))
}

pub(crate) fn update_doc(
    doc: &str,
    metrics: &[Metrics],
    labels: &[Label],
) -> Result<String, String> {
    let mut doc = replace_between(doc, BASELINE_FENCE, "```", &baseline_block(metrics))?;
    for region in REGIONS {
        let table = match region {
            "composition" => composition_table(labels),
            "figures" => figures_table(metrics),
            _ => misses_table(metrics),
        };
        doc = replace_between(
            &doc,
            &format!("<!-- BEGIN corpus:{region} -->"),
            &format!("<!-- END corpus:{region} -->"),
            &format!("\n{table}\n"),
        )?;
    }
    Ok(doc)
}
