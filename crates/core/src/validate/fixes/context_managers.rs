//! Fix for DS123 decorator-as-context-manager: `with task_group("x"):` → `with TaskGroup("x"):`
//! and `with dag(...)` → `with DAG(...)`, importing the class from the version's public module
//! when the file does not have it. Safe: a `with` block can only have meant the class.

use ruff_python_ast::Expr;
use ruff_text_size::Ranged;

use super::edits::{ImportLine, add_import};
use super::{Context, Draft};
use crate::fix::Applicability;
use crate::validate::model::RawFinding;

pub(super) fn fix(ctx: &Context, finding: &RawFinding) -> Option<Draft> {
    let file = ctx.file();
    let call = file.call_at(finding.range)?;
    let Expr::Name(name) = call.func.as_ref() else { return None };
    let (class, module) = match (name.id.as_str(), ctx.version.is_v3()) {
        ("task_group", true) => ("TaskGroup", "airflow.sdk"),
        ("task_group", false) => ("TaskGroup", "airflow.utils.task_group"),
        ("dag", true) => ("DAG", "airflow.sdk"),
        ("dag", false) => ("DAG", "airflow"),
        _ => return None,
    };
    let mut edits = vec![(name.range(), class.to_string())];
    let mut message = format!("replace `{}(...)` with `{class}(...)`", name.id);
    let bound = file.imported().contains_key(class) || file.module_bindings().contains_key(class);
    if !bound {
        let import = ImportLine::From { module: module.into(), name: class.into() };
        let (edit, added) = add_import(file, &import)?;
        edits.push(edit);
        message.push_str(&format!(", {added}"));
    }
    Some(Draft { applicability: Applicability::Safe, message, edits })
}
