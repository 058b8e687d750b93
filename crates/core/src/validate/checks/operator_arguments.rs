//! DS207 (unknown operator argument), DS208 (missing operator argument).

use ruff_python_ast as ast;
use ruff_text_size::Ranged;
use std::sync::Arc;

use crate::AirflowVersion;
use crate::catalog::{OperatorParams, Target};
use crate::finding::Severity;
use crate::hint::Hint;
use crate::rules;
use crate::validate::interp::Interp;
use crate::validate::interp::helpers::*;
use crate::validate::memo::Memo;
use crate::validate::model::*;

impl<'a> Interp<'a> {
    /// DS207/DS208: the operator's keyword arguments against its real signature (catalog).
    pub(in crate::validate) fn check_operator_arguments(
        &mut self,
        (class, params): (&str, &Arc<OperatorParams>),
        call: &'a ast::ExprCall,
        kwargs: &[Kwarg<'a>],
        task: TaskIdx,
    ) {
        let given: Vec<&str> = kwargs.iter().filter_map(|(k, _)| k.as_deref()).collect();
        if params.complete && !params.accepts_any_kwargs {
            let unknown: Vec<&str> =
                given.iter().copied().filter(|k| !params.accepted.contains(*k)).collect();
            if !unknown.is_empty() {
                let range = keyword_range(call, unknown[0]);
                let hint = {
                    let (version, params) = (self.version, params.clone());
                    let unknown: Vec<String> = unknown.iter().map(|u| u.to_string()).collect();
                    Hint::later(move || {
                        let fix = unknown
                            .iter()
                            .filter_map(|u| {
                                nearest_accepted(version, &params, u)
                                    .map(|c| format!("`{u}` → `{c}`"))
                            })
                            .collect::<Vec<_>>();
                        (!fix.is_empty()).then(|| format!("did you mean {}?", fix.join(", ")))
                    })
                };
                let listed =
                    unknown.iter().map(|u| format!("'{u}'")).collect::<Vec<_>>().join(", ");
                let task_id = self.task_id_shown(task);
                self.report_with(
                    &rules::UNKNOWN_OPERATOR_ARGUMENT,
                    if self.certain() { Severity::Error } else { Severity::Warning },
                    range,
                    format!(
                        "Invalid arguments were passed to {class} (task_id: {task_id}): {listed} (error while Airflow imports the file)"
                    ),
                    hint,
                );
            }
        }
        // Required arguments, unless something we cannot see may supply them.
        let positional = !call.arguments.args.is_empty();
        let node = &self.model.tasks[task];
        let group_defaults = node.group.is_some_and(|g| self.model.groups[g].has_default_args);
        let dag_defaults: Option<&[String]> = match node.dag {
            Some(d) => self.model.dags[d].default_arg_keys.as_deref(),
            None if node.dag_unknown => None,
            None => Some(&[]),
        };
        let (Some(dag_defaults), false, false) = (dag_defaults, positional, group_defaults) else {
            return;
        };
        if given.contains(&"default_args") {
            return;
        }
        let missing: Vec<&String> = params
            .required
            .iter()
            .filter(|r| r.as_str() != "task_id")
            .filter(|r| !given.contains(&r.as_str()) && !dag_defaults.contains(r))
            .collect();
        if !missing.is_empty() {
            let task_id = self.task_id_shown(task);
            let names = missing.iter().map(|m| format!("'{m}'")).collect::<Vec<_>>().join(", ");
            let plural = if missing.len() > 1 { "s" } else { "" };
            self.report_with(
                &rules::MISSING_OPERATOR_ARGUMENT,
                if self.certain() { Severity::Error } else { Severity::Warning },
                call.range(),
                format!(
                    "{class} (task_id: {task_id}) is missing keyword argument{plural} {names} (error while Airflow imports the file)"
                ),
                Some(format!("pass {names} to {class}")),
            );
        }
    }

    /// A task's id as the messages show it (`?` when it is not known).
    fn task_id_shown(&self, task: TaskIdx) -> String {
        self.model.tasks[task].id.clone().unwrap_or_else(|| "?".into())
    }
}

/// The accepted argument nearest to an unknown one, remembered: a batch passes the same wrong
/// keywords to the same operators in answer after answer, and the class where the signature is
/// defined (with the catalog target) decides what it accepts.
fn nearest_accepted(
    version: AirflowVersion,
    params: &OperatorParams,
    unknown: &str,
) -> Option<String> {
    // The accepted arguments are the target's: versions of one target share the search.
    type Found = Memo<(Target, String, String), Option<String>>;
    static FOUND: Found = Memo::new(4096);
    let target = crate::catalog::catalog().target_for(version);
    FOUND.get_or_compute((target, params.defined_at.clone(), unknown.to_string()), || {
        closest(unknown, params.accepted.iter().map(String::as_str)).map(str::to_string)
    })
}
