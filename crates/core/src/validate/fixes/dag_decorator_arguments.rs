//! Fix for DS213 `dag=dag` where `dag` is the `@dag` decorator, not a DAG: the argument goes,
//! and the task joins the DAG of the `with DAG(...)` block or `@dag` function it is created in.
//! Safe: outside such a context the task would lose its DAG, which the fix loop refuses (it
//! never keeps a fix that adds an error).

use super::edits::remove_argument;
use super::file::argument_at;
use super::{Context, Draft};
use crate::fix::Applicability;
use crate::validate::model::RawFinding;

pub(super) fn fix(ctx: &Context, finding: &RawFinding) -> Option<Draft> {
    if !finding.message.contains("the `@dag` decorator function as `dag=`") {
        return None;
    }
    let file = ctx.file();
    let call = file.call_at(finding.range)?;
    let kw = call.arguments.keywords.iter().find(|k| argument_at(call, k, finding.range))?;
    let edit = remove_argument(&call.arguments, kw.range)?;
    Some(Draft {
        applicability: Applicability::Safe,
        message: "remove `dag=` (the `@dag` decorator is not a DAG)".into(),
        edits: vec![edit],
    })
}
