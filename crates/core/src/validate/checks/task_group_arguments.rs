//! DS118 (unknown task group argument).

use ruff_python_ast as ast;

use crate::rules;
use crate::validate::airflow;
use crate::validate::interp::Interp;
use crate::validate::interp::helpers::*;

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
}
