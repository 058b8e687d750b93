//! DS121 (missing start date): a DAG without `start_date` where its Airflow version needs one,
//! and the first task of such a DAG without its own.

use ruff_python_ast::{self as ast, Expr};
use ruff_text_size::{Ranged, TextRange};

use crate::rules;
use crate::validate::interp::Interp;
use crate::validate::interp::helpers::*;
use crate::validate::model::*;

impl<'a> Interp<'a> {
    /// Start-date rules, which moved between versions:
    /// - before 2.8, `DAG.add_task` refuses a task when neither it nor the DAG (nor
    ///   `default_args`) has a start_date — returned as `true` for `add_task` to check;
    /// - 2.8+: `DAG.__init__` refuses an explicit, truthy schedule without a start_date;
    /// - 3.x: `catchup=True` with a time-based schedule needs a start_date.
    pub(in crate::validate) fn check_start_date(&mut self, call: &'a ast::ExprCall) -> bool {
        if call.arguments.keywords.iter().any(|k| k.arg.is_none()) {
            return false;
        }
        let start_date = match keyword(call, "start_date") {
            Some(e) => !matches!(self.eval_quiet(e), Value::None),
            None => false,
        };
        let in_default_args = match keyword(call, "default_args").map(|e| self.eval_quiet(e)) {
            None | Some(Value::None) => Some(false),
            Some(Value::Dict(items)) => Some(items.iter().any(|(k, _)| k == "start_date")),
            Some(_) => None,
        };
        // Unknown default_args may carry a start_date: say nothing then.
        if start_date || in_default_args != Some(false) {
            return false;
        }
        if !self.version.at_least(2, 8) {
            return true;
        }
        let schedule =
            ["schedule", "schedule_interval", "timetable"].into_iter().find_map(|name| {
                let expr = keyword(call, name)?;
                let truthy = match self.eval_quiet(expr) {
                    Value::Str(s) => !s.is_empty(),
                    Value::List(items) => !items.is_empty(),
                    Value::None | Value::Bool(false) => false,
                    // `timedelta(days=1)`, `CronTriggerTimetable(...)`, `[Dataset(...)]`.
                    _ => matches!(expr, Expr::Call(_)),
                };
                truthy.then_some((name, expr))
            });
        let Some((name, expr)) = schedule else {
            return false;
        };
        if !self.version.is_v3() {
            self.report(
                &rules::MISSING_START_DATE,
                expr.range(),
                format!("`{name}` is set but the DAG has no start_date (ValueError: DAG is missing the start_date parameter)"),
                Some("pass `start_date=datetime(2024, 1, 1)` to the DAG or put it in `default_args`".into()),
            );
            return false;
        }
        let catchup = keyword(call, "catchup").map(|e| self.eval_quiet(e));
        let time_based = match self.eval_quiet(expr) {
            Value::Str(s) => !matches!(s.trim(), "@once" | "@continuous"),
            _ => {
                matches!(expr, Expr::Call(c) if matches!(&*c.func, Expr::Name(n) if n.id.as_str() == "timedelta"))
            }
        };
        if let (Some(Value::Bool(true)), true) = (catchup, time_based) {
            let range = keyword(call, "catchup").map_or(call.range(), |e| e.range());
            self.report(
                &rules::MISSING_START_DATE,
                range,
                "`catchup=True` with a time-based schedule needs a start_date (ValueError: start_date is required when catchup=True)".into(),
                Some("pass `start_date=...` or set `catchup=False`".into()),
            );
        }
        false
    }

    /// DS121 for a task without its own `start_date` in a DAG that has none (before Airflow
    /// 2.8): reported once per DAG, at the first such task, which is where Airflow raises.
    pub(in crate::validate) fn check_task_start_date(&mut self, dag: DagIdx, range: TextRange) {
        if !self.model.dags[dag].needs_task_start_date {
            return;
        }
        self.model.dags[dag].needs_task_start_date = false;
        self.report(
            &rules::MISSING_START_DATE,
            range,
            format!(
                "neither this task nor its DAG has a start_date (AirflowException in Airflow {}: DAG is missing the start_date parameter)",
                self.version
            ),
            Some("pass `start_date=...` to the DAG or put it in `default_args`".into()),
        );
    }
}
