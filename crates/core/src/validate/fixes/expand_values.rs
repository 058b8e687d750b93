//! Fix for DS213 when `.expand(x="value")` is given one plain value: it becomes a list of that
//! one value, `.expand(x=["value"])`, which maps once. Unsafe: the author may have meant a fixed
//! argument (`.partial(x=...)`) or a longer list.

use ruff_python_ast::Expr;
use ruff_text_size::Ranged;

use super::{Context, Draft};
use crate::fix::Applicability;
use crate::validate::model::RawFinding;

pub(super) fn fix(ctx: &Context, finding: &RawFinding) -> Option<Draft> {
    if !finding.message.contains(".expand() got an unexpected type") {
        return None;
    }
    let file = ctx.file();
    let (call, kw) = file.keyword_at(finding.range)?;
    let Expr::Attribute(method) = call.func.as_ref() else { return None };
    if method.attr.as_str() != "expand" {
        return None;
    }
    if !matches!(
        kw.value,
        Expr::StringLiteral(_)
            | Expr::NumberLiteral(_)
            | Expr::BooleanLiteral(_)
            | Expr::FString(_)
    ) {
        return None;
    }
    let name = kw.arg.as_ref()?;
    let value = file.text(kw.value.range());
    Some(Draft {
        applicability: Applicability::Unsafe,
        message: format!("map over a list: `{name}=[{value}]`"),
        edits: vec![(kw.value.range(), format!("[{value}]"))],
    })
}
