//! Fixes for DS111 unknown-dag-argument: Airflow 3's renamed and removed DAG arguments (safe),
//! and an unknown argument with one confident match among DAG's real ones (unsafe), or else,
//! on a line of its own, commented out (unsafe: the DAG loses a setting it never had).

use super::edits::{comment_out_argument, remove_argument};
use super::{Context, Draft};
use crate::catalog::similarity;
use crate::fix::Applicability;
use crate::validate::airflow;
use crate::validate::model::RawFinding;

/// Airflow 3's new names for 2.x DAG arguments of the same meaning.
const RENAMED_IN_3: &[(&str, &str)] = &[
    ("schedule_interval", "schedule"),
    ("timetable", "schedule"),
    ("concurrency", "max_active_tasks"),
    ("fail_stop", "fail_fast"),
];

/// 2.x DAG arguments that only set UI defaults or are ignored: dropped on 3.x.
const DROPPED_IN_3: &[&str] = &["default_view", "orientation", "full_filepath"];

pub(super) fn fix(ctx: &Context, finding: &RawFinding) -> Option<Draft> {
    let file = ctx.file();
    let (call, kw) = file.keyword_at(finding.range)?;
    let name = kw.arg.as_ref()?;
    let given = |n: &str| call.arguments.find_keyword(n).is_some();
    let rename = |new: &str, applicability| Draft {
        applicability,
        message: format!("replace `{}=` with `{new}=`", name.as_str()),
        edits: vec![(name.range, new.to_string())],
    };
    if ctx.version.is_v3() {
        if let Some((_, new)) = RENAMED_IN_3.iter().find(|(old, _)| *old == name.as_str()) {
            return (!given(new)).then(|| rename(new, Applicability::Safe));
        }
        if DROPPED_IN_3.contains(&name.as_str()) {
            return Some(Draft {
                applicability: Applicability::Safe,
                message: format!("remove `{}=` (gone in Airflow 3)", name.as_str()),
                edits: vec![remove_argument(&call.arguments, kw.range)?],
            });
        }
    }
    let accepted = airflow::accepted_dag_arguments(ctx.version);
    match similarity::confident_match(name.as_str(), accepted.iter().copied()) {
        Some(real) => (!given(real)).then(|| rename(real, Applicability::Unsafe)),
        None => {
            let note = format!("DAG takes no `{}`", name.as_str());
            Some(Draft {
                applicability: Applicability::Unsafe,
                message: format!("comment out `{}=` ({note})", name.as_str()),
                edits: vec![comment_out_argument(ctx.file(), kw, &note)?],
            })
        }
    }
}
