//! Fix for DS120 xcomarg-output: `.output` on a TaskFlow call's result, which already is the
//! XComArg `.output` would give for an operator: dropped (safe: the same value).

use super::{Context, Draft};
use crate::fix::Applicability;
use crate::validate::model::RawFinding;

pub(super) fn fix(ctx: &Context, finding: &RawFinding) -> Option<Draft> {
    let text = ctx.file().text(finding.range);
    let value = text.strip_suffix("output")?.trim_end().strip_suffix('.')?.trim_end();
    Some(Draft {
        applicability: Applicability::Safe,
        message: "drop `.output`".into(),
        edits: vec![(finding.range, value.to_string())],
    })
}
