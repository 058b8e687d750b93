//! Fixes for DS212 on pendulum: `pendulum.timedelta` becomes `pendulum.duration`, whose
//! parameters are `datetime.timedelta`'s in the same order (days, seconds, microseconds,
//! milliseconds, minutes, hours, weeks); `pendulum.datetime.now` / `.today` (a function's
//! attribute) become `pendulum.now` / `pendulum.today`, what the standard library's
//! `datetime.now()` habit meant. Safe.

use super::{Context, Draft};
use crate::fix::Applicability;
use crate::validate::model::RawFinding;

/// (what the model wrote, what pendulum has).
const RENAMED: &[(&str, &str)] = &[
    ("pendulum.timedelta", "pendulum.duration"),
    ("pendulum.datetime.now", "pendulum.now"),
    ("pendulum.datetime.today", "pendulum.today"),
];

pub(super) fn fix(ctx: &Context, finding: &RawFinding) -> Option<Draft> {
    let text = ctx.file().text(finding.range);
    let written: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let (old, new) = RENAMED.iter().find(|(old, _)| *old == written)?;
    Some(Draft {
        applicability: Applicability::Safe,
        message: format!("replace `{old}` with `{new}`"),
        edits: vec![(finding.range, (*new).to_string())],
    })
}
