//! Fixes for DS207 unknown-operator-argument: `provide_context` dropped and Airflow's renamed
//! operator arguments (safe), an unknown argument with one confident match among the
//! operator's real parameters, or a DAG argument given to a task, dropped (unsafe); any other
//! argument the operator does not take is commented out (unsafe: the task loses a setting, but
//! the file loads and the author still sees what was meant).

use super::edits::{Replacement, comment_out_argument, remove_argument};
use super::{Context, Draft};
use crate::catalog::{OperatorParams, Target, catalog, similarity};
use crate::fix::Applicability;
use crate::validate::memo::Memo;
use crate::validate::model::RawFinding;

/// Arguments that do nothing since Airflow 2 (the context is always passed).
const NO_OPS: &[&str] = &["provide_context"];

/// Arguments of `DAG(...)` that models also pass to operators, which refuse them: removed
/// (unsafe: the author may have meant the DAG to have them).
const DAG_ONLY: &[&str] = &[
    "schedule_interval",
    "schedule",
    "timetable",
    "catchup",
    "dag_id",
    "tags",
    "max_active_runs",
    "dagrun_timeout",
];

/// Airflow's new names for operator arguments of the same meaning.
const RENAMED: &[(&str, &str)] = &[
    ("task_concurrency", "max_active_tis_per_dag"),
    // Airflow 1's name.
    ("xcom_push", "do_xcom_push"),
];

pub(super) fn fix(ctx: &Context, finding: &RawFinding) -> Option<Draft> {
    let file = ctx.file();
    let call = file.call_at(finding.range)?;
    let qualified = file.qualified_callee(&call.func)?;
    let (module, class) = qualified.rsplit_once('.')?;
    let params = catalog().operator_params(ctx.target(), module, class)?;
    if !params.is_operator || !params.complete || params.accepts_any_kwargs {
        return None;
    }
    let given: Vec<&str> =
        call.arguments.keywords.iter().filter_map(|k| k.arg.as_ref().map(|a| a.as_str())).collect();
    let mut edits: Vec<Replacement> = Vec::new();
    let mut messages: Vec<String> = Vec::new();
    let mut applicability = Applicability::Safe;
    let mut removed = false;
    // Commented out only when nothing else is fixed: a certain fix never waits on a guess.
    let mut inventions: Vec<(Replacement, String)> = Vec::new();
    for kw in call.arguments.keywords.iter() {
        let Some(name) = kw.arg.as_ref().map(|a| a.as_str()) else { continue };
        if params.accepted.contains(name) {
            continue;
        }
        let dag_only = DAG_ONLY.contains(&name);
        if NO_OPS.contains(&name) || dag_only {
            // One removal per fix: two neighbours' removals could overlap.
            if !removed && let Some(edit) = remove_argument(&call.arguments, kw.range) {
                edits.push(edit);
                if dag_only {
                    messages
                        .push(format!("remove `{name}=` (an argument of the DAG, not of a task)"));
                    applicability = Applicability::Unsafe;
                } else {
                    messages.push(format!("remove `{name}=`"));
                }
                removed = true;
            }
            continue;
        }
        let renamed = RENAMED
            .iter()
            .find(|(old, new)| *old == name && params.accepted.contains(*new))
            .map(|(_, new)| ((*new).to_string(), Applicability::Safe));
        let guessed = || {
            closest_argument(ctx.target(), &params, name).map(|real| (real, Applicability::Unsafe))
        };
        let Some((real, how)) = renamed.or_else(guessed) else {
            // No real argument to put in its place: a model's invention (`command=` for
            // `cmds=`) that repair rounds rarely change. Keeping it fails the whole file.
            let note = format!("{class} takes no `{name}`");
            match comment_out_argument(file, kw, &note) {
                Some(edit) => inventions.push((edit, format!("comment out `{name}=` ({note})"))),
                // Removals of neighbours could overlap: one per fix.
                None if inventions.is_empty() => {
                    if let Some(edit) = remove_argument(&call.arguments, kw.range) {
                        inventions.push((edit, format!("remove `{name}=` ({note})")));
                    }
                }
                None => {}
            }
            continue;
        };
        if given.contains(&real.as_str()) {
            continue;
        }
        let ident = kw.arg.as_ref()?;
        messages.push(format!("replace `{name}=` with `{real}=`"));
        edits.push((ident.range, real));
        applicability = applicability.max(how);
    }
    if edits.is_empty() {
        applicability = Applicability::Unsafe;
        (edits, messages) = inventions.into_iter().unzip();
    }
    if edits.is_empty() {
        return None;
    }
    Some(Draft { applicability, message: messages.join(", "), edits })
}

/// The one accepted argument a misspelt keyword confidently means, remembered: a batch
/// misspells the same keywords of the same operators in answer after answer, and the class
/// where the signature is defined (with the target) decides what it accepts.
fn closest_argument(target: Target, params: &OperatorParams, written: &str) -> Option<String> {
    type Found = Memo<(Target, String, String), Option<String>>;
    static FOUND: Found = Memo::new(4096);
    FOUND.get_or_compute((target, params.defined_at.clone(), written.to_string()), || {
        similarity::confident_match(written, params.accepted.iter().map(String::as_str))
            .map(str::to_string)
    })
}
