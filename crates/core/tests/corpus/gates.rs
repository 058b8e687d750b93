//! The checks that fail the test: rules no baseline can excuse (panics, forbidden findings,
//! floors, false alarms) and the comparison with the baseline block of docs/VALIDATION.md.

use std::fmt::Write as _;

use crate::baseline::parse_baseline;
use crate::scoring::Metrics;
use crate::{DOC_PATH, FLOORS, GATED, NEVER_ON_LOADING_FILES, TOLERANCE};

/// Failures whatever the baseline says: a panic in `validate`, a rule of
/// `NEVER_ON_LOADING_FILES` on a file Airflow loads, a figure below its floor, a false alarm.
pub(crate) fn gate_failures(metrics: &[Metrics]) -> Vec<String> {
    let mut failures: Vec<String> = Vec::new();
    for m in metrics {
        for p in &m.panics {
            failures.push(format!("[{}] validate panicked on {p}", m.name()));
        }
        for (id, findings) in &m.forbidden {
            failures.push(format!(
                "[{}] {id}: Airflow loads it, but {} fired:\n      {}",
                m.name(),
                NEVER_ON_LOADING_FILES.join("/"),
                findings.join("\n      ")
            ));
        }
        for (key, floor) in FLOORS {
            let now = m.gated(key);
            if now + TOLERANCE < floor {
                failures.push(format!(
                    "[{}] {key} is {now:.4}, below the floor of {floor:.2}",
                    m.name()
                ));
            }
        }
        if !m.false_alarms.is_empty() {
            let mut msg = format!(
                "[{}] {} false alarm(s): Airflow loads these files, dagsmith says it does not:",
                m.name(),
                m.false_alarms.len()
            );
            for (id, errors) in &m.false_alarms {
                write!(msg, "\n  {id}").unwrap();
                for e in errors.iter().take(8) {
                    write!(msg, "\n      {e}").unwrap();
                }
                if errors.len() > 8 {
                    write!(msg, "\n      ... and {} more", errors.len() - 8).unwrap();
                }
            }
            failures.push(msg);
        }
    }
    failures
}

/// Failures against the baseline block: a gated figure worse than its baseline, a missing
/// baseline line or figure, a baseline that allows false alarms.
pub(crate) fn baseline_failures(doc: &str, metrics: &[Metrics]) -> Vec<String> {
    let mut failures: Vec<String> = Vec::new();
    match parse_baseline(doc) {
        Err(e) => failures.push(e),
        Ok(baseline) => {
            for m in metrics {
                let Some(base) = baseline.get(&m.name()) else {
                    failures.push(format!("no baseline line for {} in {DOC_PATH}", m.name()));
                    continue;
                };
                for key in GATED {
                    let Some(&expected) = base.get(key) else {
                        failures.push(format!("baseline for {} lacks {key}=", m.name()));
                        continue;
                    };
                    let now = m.gated(key);
                    let worse = if key == "false_alarms" {
                        now > expected + TOLERANCE
                    } else {
                        now + TOLERANCE < expected
                    };
                    if worse {
                        failures.push(format!(
                            "[{}] {key} is {now:.4}, baseline {expected:.4}",
                            m.name()
                        ));
                    }
                }
                if base.get("false_alarms").is_some_and(|&n| n != 0.0) {
                    failures.push(format!(
                        "baseline for {} has false_alarms={}: it must be 0",
                        m.name(),
                        base["false_alarms"]
                    ));
                }
            }
        }
    }
    failures
}
