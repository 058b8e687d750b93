//! DS111 (unknown DAG argument), DS112 (conflicting schedule arguments), DS113 (invalid
//! schedule): the keyword arguments of `DAG(...)` / `@dag(...)`.

use ruff_python_ast as ast;
use ruff_text_size::Ranged;

use crate::rules;
use crate::validate::airflow::{self, ArgCheck};
use crate::validate::interp::Interp;
use crate::validate::interp::helpers::*;
use crate::validate::model::*;

impl<'a> Interp<'a> {
    pub(in crate::validate) fn check_dag_kwargs(&mut self, call: &'a ast::ExprCall) {
        let mut schedule_args = Vec::new();
        for kw in call.arguments.keywords.iter() {
            let Some(name) = &kw.arg else { continue };
            let name = name.as_str();
            // Airflow 2 counts only truthy values (`schedule=None` is "not given").
            if matches!(name, "schedule" | "schedule_interval" | "timetable")
                && !matches!(self.eval_quiet(&kw.value), Value::None | Value::Bool(false))
            {
                schedule_args.push(name);
            }
            match airflow::check_dag_argument(name, self.version) {
                ArgCheck::Accepted => {}
                ArgCheck::Removed(hint) => self.report(
                    &rules::UNKNOWN_DAG_ARGUMENT,
                    from_call_start(call, kw.range),
                    format!(
                        "DAG() got an unexpected keyword argument '{name}' in Airflow {} (TypeError while Airflow imports the file)",
                        self.version
                    ),
                    Some(format!("`{name}` was {hint}")),
                ),
                ArgCheck::Unknown => {
                    let fix = if matches!(name, "execution_timeout" | "retries" | "retry_delay" | "owner" | "email" | "pool" | "queue" | "depends_on_past") {
                        Some(format!("`{name}` is a task argument: put it in `default_args` or on the operator"))
                    } else {
                        None
                    };
                    self.report(
                        &rules::UNKNOWN_DAG_ARGUMENT,
                        from_call_start(call, kw.range),
                        format!("DAG() got an unexpected keyword argument '{name}' (TypeError while Airflow imports the file)"),
                        fix,
                    )
                }
            }
        }
        if schedule_args.len() > 1 && !self.version.is_v3() {
            self.report(
                &rules::CONFLICTING_SCHEDULE,
                call.range(),
                format!(
                    "only one of `schedule`, `schedule_interval` and `timetable` may be given, got {}",
                    schedule_args.join(", ")
                ),
                Some("keep only `schedule=`".into()),
            );
        }
        let schedule = keyword(call, "schedule").or_else(|| keyword(call, "schedule_interval"));
        if let Some(expr) = schedule
            && let Value::Str(s) = self.eval_quiet(expr)
            && let Err(why) = crate::validate::schedule::check_schedule(&s)
        {
            self.report(&rules::INVALID_SCHEDULE, expr.range(), why, None);
        }
        if let Some(expr) = schedule
            && let Value::Str(s) = self.eval_quiet(expr)
            && s.trim() == "@continuous"
            && !call.arguments.keywords.iter().any(|k| k.arg.is_none())
        {
            // max_active_runs defaults to 16 (core.max_active_runs_per_dag).
            let runs = match keyword(call, "max_active_runs") {
                Some(m) => match self.eval_quiet(m) {
                    Value::Int(n) => Some((n, m.range())),
                    _ => None,
                },
                None => Some((16, expr.range())),
            };
            let defaulted = keyword(call, "max_active_runs").is_none();
            if let Some((n, range)) = runs
                && n > 1
            {
                self.report(
                    &rules::INVALID_SCHEDULE,
                    range,
                    if defaulted {
                        "the @continuous schedule needs max_active_runs=1, and the default (core.max_active_runs_per_dag) is 16 (error while Airflow imports the file)".to_string()
                    } else {
                        format!("the @continuous schedule needs max_active_runs=1, got {n} (error while Airflow imports the file)")
                    },
                    Some("pass `max_active_runs=1`".into()),
                );
            }
        }
    }
}
