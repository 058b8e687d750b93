//! Fix for DS213 when a boolean is given to an argument that now takes one of listed strings,
//! and the provider once mapped that boolean to one of them itself: the Docker operators'
//! `auto_remove=True` meant `'success'` and `False` meant `'never'` until the provider dropped
//! the booleans. Safe: the value those releases used.

use ruff_python_ast::Expr;

use super::{Context, Draft};
use crate::fix::Applicability;
use crate::validate::model::RawFinding;

/// (argument, the string for `True`, the string for `False`).
const MAPPED: &[(&str, &str, &str)] = &[("auto_remove", "success", "never")];

pub(super) fn fix(ctx: &Context, finding: &RawFinding) -> Option<Draft> {
    let file = ctx.file();
    let (_, kw) = file.keyword_at(finding.range)?;
    let name = kw.arg.as_ref()?.as_str();
    let (_, yes, no) = MAPPED.iter().find(|(n, _, _)| *n == name)?;
    let Expr::BooleanLiteral(b) = &kw.value else { return None };
    let value = if b.value { yes } else { no };
    // Only where the listed values are the ones the mapping produces.
    if !finding.message.contains(&format!("'{value}'")) {
        return None;
    }
    Some(Draft {
        applicability: Applicability::Safe,
        message: format!(
            "`{name}={}` is `{name}=\"{value}\"`",
            if b.value { "True" } else { "False" }
        ),
        edits: vec![(b.range, format!("\"{value}\""))],
    })
}
