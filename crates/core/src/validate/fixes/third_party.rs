//! Fix for DS212 on `pendulum.timedelta`: it becomes `pendulum.duration`, whose parameters are
//! `datetime.timedelta`'s in the same order (days, seconds, microseconds, milliseconds, minutes,
//! hours, weeks). Safe.

use super::{Context, Draft};
use crate::fix::Applicability;
use crate::validate::model::RawFinding;

pub(super) fn fix(ctx: &Context, finding: &RawFinding) -> Option<Draft> {
    let text = ctx.file().text(finding.range);
    let object = text.strip_suffix("timedelta")?.trim_end().strip_suffix('.')?.trim_end();
    if object != "pendulum" {
        return None;
    }
    Some(Draft {
        applicability: Applicability::Safe,
        message: "replace `pendulum.timedelta` with `pendulum.duration`".into(),
        edits: vec![(finding.range, "pendulum.duration".into())],
    })
}
