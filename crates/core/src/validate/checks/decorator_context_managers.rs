//! DS123 (decorator as context manager): `with task_group:` / `with dag:` on the decorator.

use ruff_python_ast::Expr;
use ruff_text_size::Ranged;

use crate::rules;
use crate::validate::airflow::{self, ApiKind};
use crate::validate::interp::Interp;
use crate::validate::model::*;

impl<'a> Interp<'a> {
    /// DS123: `with task_group("x"):` / `with dag(...):`, decorators used as context managers.
    pub(in crate::validate) fn check_decorator_as_context_manager(&mut self, expr: &'a Expr) {
        let Expr::Call(call) = expr else { return };
        let Value::Imported(q) = self.eval_quiet(&call.func) else { return };
        let class = match airflow::classify(&q) {
            ApiKind::TaskGroupDecorator => "TaskGroup",
            ApiKind::DagDecorator => "DAG",
            _ => return,
        };
        let name = q.rsplit('.').next().unwrap_or(&q).to_string();
        self.report(
            &rules::DECORATOR_AS_CONTEXT_MANAGER,
            call.range(),
            format!(
                "'functools.partial' object does not support the context manager protocol: `{name}` is a decorator (TypeError while Airflow imports the file)"
            ),
            Some(format!("use `with {class}(...)`")),
        );
    }
}
