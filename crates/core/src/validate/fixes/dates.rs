//! Dates that models get wrong, made with `pendulum` (which Airflow always installs):
//! `days_ago(n)` from `airflow.utils.dates` (removed in Airflow 3) is midnight UTC today minus
//! `n` days, exactly `pendulum.today("UTC").add(days=-n)` (safe; for DS204 on the import and
//! DS102 on a `days_ago` never imported); `datetime(..., tz=...)` is `pendulum.datetime`'s
//! signature (DS214).

use ruff_python_ast::{self as ast, Expr};
use ruff_text_size::{Ranged, TextRange};

use super::edits::{ImportLine, Replacement, add_import};
use super::{Context, Draft};
use crate::fix::Applicability;
use crate::validate::model::RawFinding;

const NAME: &str = "days_ago";

/// `from airflow.utils.dates import days_ago` (nothing else imported there): the statement
/// becomes `import pendulum` and every call is rewritten.
pub(super) fn fix_days_ago_import(ctx: &Context, stmt: &ast::StmtImportFrom) -> Option<Draft> {
    let [alias] = &stmt.names[..] else { return None };
    if alias.name.as_str() != NAME || alias.asname.is_some() {
        return None;
    }
    let mut edits = calls(ctx)?;
    edits.push((stmt.range, "import pendulum".into()));
    Some(Draft {
        applicability: Applicability::Safe,
        message: "replace `days_ago(n)` with `pendulum.today(\"UTC\").add(days=-n)`".into(),
        edits,
    })
}

/// `days_ago` used but never imported: the calls are rewritten and `pendulum` imported.
pub(super) fn fix_undefined_days_ago(ctx: &Context) -> Option<Draft> {
    let mut edits = calls(ctx)?;
    if !ctx.file().module_bindings().contains_key("pendulum") {
        let (edit, _) = add_import(ctx.file(), &ImportLine::Module("pendulum".into()))?;
        edits.push(edit);
    }
    Some(Draft {
        applicability: Applicability::Safe,
        message: "replace `days_ago(n)` with `pendulum.today(\"UTC\").add(days=-n)`".into(),
        edits,
    })
}

/// The rewrite of every `days_ago(...)` call; `None` when `days_ago` is used any other way
/// (passed as a value, called with keywords), or rebound.
fn calls(ctx: &Context) -> Option<Vec<Replacement>> {
    let file = ctx.file();
    if file.module_bindings().get(NAME).copied().unwrap_or(0) > 1 {
        return None;
    }
    let mut edits = Vec::new();
    for name in file.uses.names.get(NAME) {
        let call = file.uses.calls.iter().find(|c| c.func.range() == name.range)?;
        let ([arg], true) = (&call.arguments.args[..], call.arguments.keywords.is_empty()) else {
            return None;
        };
        if matches!(arg, Expr::Starred(_)) {
            return None;
        }
        let text = file.text(arg.range());
        let today = "pendulum.today(\"UTC\")";
        let replacement = match arg {
            Expr::NumberLiteral(_) if text.trim() == "0" => today.to_string(),
            Expr::NumberLiteral(_) | Expr::Name(_) | Expr::Attribute(_) | Expr::Call(_) => {
                format!("{today}.add(days=-{text})")
            }
            _ => format!("{today}.add(days=-({text}))"),
        };
        edits.push((call.range(), replacement));
    }
    // A call nested in another's argument would give overlapping edits.
    edits.sort_by_key(|(r, _): &(TextRange, String)| r.start());
    if edits.windows(2).any(|w| w[1].0.start() < w[0].0.end()) {
        return None;
    }
    Some(edits)
}

/// DS214 on `datetime(2024, 1, 1, tz="UTC")` (the standard library's `datetime`, which has no
/// `tz=`): the call becomes `pendulum.datetime(...)`, which takes exactly these arguments, and
/// `pendulum` is imported when the file does not have it. Safe: `tz=` says what was meant.
pub(super) fn fix_datetime_tz(ctx: &Context, finding: &RawFinding) -> Option<Draft> {
    if !finding.message.starts_with("'tz' is an invalid keyword argument for datetime.datetime()") {
        return None;
    }
    let file = ctx.file();
    let call = file.call_at(finding.range)?;
    let mut edits = vec![(call.func.range(), "pendulum.datetime".to_string())];
    if !file.module_bindings().contains_key("pendulum") {
        let (edit, _) = add_import(file, &ImportLine::Module("pendulum".into()))?;
        edits.push(edit);
    }
    Some(Draft {
        applicability: Applicability::Safe,
        message: "replace `datetime(..., tz=...)` with `pendulum.datetime(..., tz=...)`".into(),
        edits,
    })
}
