//! Fixes for DS213 `dag=` given something that is not a DAG. The `@dag` decorator: the
//! argument goes, and the task joins the DAG of the `with DAG(...)` block or `@dag` function it
//! is created in. A TaskGroup (`dag=backup_group`): it was meant as the task's group, so it
//! becomes `task_group=`. Safe: outside a DAG context the task would lose its DAG, which the fix
//! loop refuses (it never keeps a fix that adds an error).

use super::edits::remove_argument;
use super::{Context, Draft};
use crate::fix::Applicability;
use crate::validate::model::RawFinding;

pub(super) fn fix(ctx: &Context, finding: &RawFinding) -> Option<Draft> {
    let decorator = finding.message.contains("the `@dag` decorator function as `dag=`");
    let group = finding.message.contains("is given a TaskGroup as `dag=`");
    if !decorator && !group {
        return None;
    }
    let file = ctx.file();
    let (call, kw) = file.keyword_at(finding.range)?;
    if group {
        let name = kw.arg.as_ref()?;
        return Some(Draft {
            applicability: Applicability::Safe,
            message: "replace `dag=` with `task_group=` (a TaskGroup is not a DAG)".into(),
            edits: vec![(name.range, "task_group".into())],
        });
    }
    let edit = remove_argument(&call.arguments, kw.range)?;
    Some(Draft {
        applicability: Applicability::Safe,
        message: "remove `dag=` (the `@dag` decorator is not a DAG)".into(),
        edits: vec![edit],
    })
}
