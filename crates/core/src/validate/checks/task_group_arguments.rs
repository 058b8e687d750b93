//! DS118 (unknown task group argument), DS124 (task group without a DAG).

use ruff_python_ast as ast;
use ruff_text_size::Ranged;

use crate::finding::Severity;
use crate::rules;
use crate::validate::airflow;
use crate::validate::interp::Interp;
use crate::validate::interp::helpers::*;
use crate::validate::model::GroupIdx;

impl<'a> Interp<'a> {
    /// `TaskGroup(...)` and `@task_group(...)` raise TypeError on unknown keywords.
    pub(in crate::validate) fn check_task_group_kwargs(&mut self, call: &'a ast::ExprCall) {
        for kw in call.arguments.keywords.iter() {
            if let Some(name) = &kw.arg
                && !airflow::TASK_GROUP_ARGS.contains(&name.as_str())
            {
                self.report(
                    &rules::UNKNOWN_TASK_GROUP_ARGUMENT,
                    from_call_start(call, kw.range),
                    format!("TaskGroup() got an unexpected keyword argument '{name}' (TypeError while Airflow imports the file)"),
                    None,
                );
            }
        }
    }

    /// DS124: a TaskGroup created by module-level code with no DAG to join (no `dag=`, no
    /// `parent_group=`, no `**kwargs` that could carry them, no DAG block around it).
    pub(in crate::validate) fn check_task_group_has_dag(
        &mut self,
        call: &'a ast::ExprCall,
        group: GroupIdx,
    ) {
        let passed = |name: &str| {
            call.arguments
                .keywords
                .iter()
                .any(|k| k.arg.as_ref().is_none_or(|a| a.as_str() == name))
        };
        if self.frames.len() != 1
            || self.model.groups[group].dag.is_some()
            || self.model.groups[group].parent.is_some()
            || passed("dag")
            || passed("parent_group")
        {
            return;
        }
        let severity = if self.certain() { Severity::Error } else { Severity::Warning };
        self.report_with(
            &rules::TASK_GROUP_WITHOUT_DAG,
            severity,
            call.range(),
            "TaskGroup can only be used inside a dag: this group is created outside any DAG (error while Airflow imports the file)".into(),
            Some("create the group inside `with DAG(...)` (or a `@dag` function), or pass `dag=`".into()),
        );
    }
}
