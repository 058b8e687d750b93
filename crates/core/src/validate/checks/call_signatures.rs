//! DS214 (call signature mismatch): calls to functions defined in the file, stdlib `datetime`
//! calls, and the `airflow.task` package used as a decorator.

use ruff_python_ast::{self as ast, Expr};
use ruff_text_size::{Ranged, TextRange};

use crate::finding::Severity;
use crate::rules;
use crate::validate::airflow;
use crate::validate::interp::Interp;
use crate::validate::interp::helpers::*;
use crate::validate::model::*;

impl<'a> Interp<'a> {
    /// DS214: Python's binding of call arguments to the function's parameters, where a
    /// mismatch raises TypeError at import: plain helpers and `@dag` functions when called, and
    /// TaskFlow functions (Airflow binds the arguments when the task is created; context-key
    /// parameters default to None, and `.partial`/`.expand` only check what is given).
    pub(in crate::validate) fn check_call_binding(
        &mut self,
        f: &FunctionRef<'a>,
        call: &'a ast::ExprCall,
        positional: usize,
        kwargs: &[Kwarg<'a>],
    ) {
        let (context_defaults, check_missing) = match &f.kind {
            FunctionKind::Plain | FunctionKind::Dag { .. } => (false, true),
            FunctionKind::Task { partial, .. } => {
                let expanding = matches!(&*call.func, Expr::Attribute(a) if matches!(a.attr.as_str(), "expand" | "expand_kwargs"));
                (true, !*partial && !expanding)
            }
            FunctionKind::TaskGroup { .. } => return,
        };
        // `.expand(...)` of a TaskFlow function: its arguments are mapped, not bound here.
        if !f.own_signature
            || call.arguments.args.iter().any(|a| matches!(a, Expr::Starred(_)))
            || call.arguments.keywords.iter().any(|k| k.arg.is_none())
            || matches!(&*call.func, Expr::Attribute(a) if a.attr.as_str() == "expand_kwargs")
        {
            return;
        }
        let params = &f.def.parameters;
        let name = f.def.name.as_str();
        let by_position: Vec<&ast::ParameterWithDefault> =
            params.posonlyargs.iter().chain(params.args.iter()).collect();
        let mut problem: Option<(String, TextRange)> = None;
        if positional > by_position.len() && params.vararg.is_none() {
            problem = Some((
                format!(
                    "{name}() takes {} positional argument{} but {positional} were given",
                    by_position.len(),
                    if by_position.len() == 1 { "" } else { "s" }
                ),
                call.range(),
            ));
        }
        let mut bound: Vec<&str> =
            by_position.iter().take(positional).map(|p| p.parameter.name.as_str()).collect();
        for (k, _) in kwargs {
            let Some(k) = k.as_deref() else { continue };
            let range = keyword_range(call, k);
            let named = params
                .args
                .iter()
                .chain(params.kwonlyargs.iter())
                .any(|p| p.parameter.name.as_str() == k);
            if named {
                if bound.contains(&k) && problem.is_none() {
                    problem =
                        Some((format!("{name}() got multiple values for argument '{k}'"), range));
                }
                bound.push(k);
            } else if params.kwarg.is_none() && problem.is_none() {
                problem =
                    Some((format!("{name}() got an unexpected keyword argument '{k}'"), range));
            }
        }
        if check_missing && problem.is_none() {
            let missing = params.iter_non_variadic_params().find(|p| {
                let n = p.parameter.name.as_str();
                p.default.is_none()
                    && !bound.contains(&n)
                    && !(context_defaults && airflow::CONTEXT_KEYS.contains(&n))
            });
            if let Some(p) = missing {
                problem = Some((
                    format!("{name}() missing a required argument: '{}'", p.parameter.name),
                    call.range(),
                ));
            }
        }
        let Some((message, range)) = problem else { return };
        let severity = if self.certain() && !self.guarded(|g| g.call_error) {
            Severity::Error
        } else {
            Severity::Warning
        };
        self.report_with(
            &rules::CALL_SIGNATURE_MISMATCH,
            severity,
            range,
            format!("{message} (TypeError while Airflow imports the file)"),
            None,
        );
    }

    /// DS214: `datetime(2024, 1, 1, tz="UTC")` with the standard library's `datetime`, which
    /// takes `tzinfo=`; `tz=` is pendulum's (`pendulum.datetime(..., tz="UTC")`).
    pub(in crate::validate) fn check_stdlib_datetime_call(&mut self, call: &'a ast::ExprCall) {
        if !has_keyword(call, "tz") {
            return;
        }
        let range = keyword_range(call, "tz");
        let severity = if self.certain() { Severity::Error } else { Severity::Warning };
        self.report_with(
            &rules::CALL_SIGNATURE_MISMATCH,
            severity,
            range,
            "'tz' is an invalid keyword argument for datetime.datetime() (TypeError while Airflow imports the file)".into(),
            Some("use `pendulum.datetime(..., tz=\"UTC\")`, or `tzinfo=` with a timezone object".into()),
        );
    }

    /// DS214: `from airflow import task` imports the package `airflow.task`, not the TaskFlow
    /// decorator; `@task` then fails ('module' object is not callable) and `@task.bash` or
    /// `@task.kubernetes` with AttributeError, while Airflow imports the file.
    pub(in crate::validate) fn report_task_package_decorator(
        &mut self,
        qualified: &str,
        range: TextRange,
    ) {
        let home = if self.version.is_v3() { "airflow.sdk" } else { "airflow.decorators" };
        let what = if qualified == "airflow.task" {
            "'module' object is not callable".to_string()
        } else {
            let attr = qualified.rsplit('.').next().unwrap_or(qualified);
            format!("module 'airflow.task' has no attribute '{attr}'")
        };
        let severity = if self.certain() { Severity::Error } else { Severity::Warning };
        self.report_with(
            &rules::CALL_SIGNATURE_MISMATCH,
            severity,
            range,
            format!(
                "{what}: `task` here is the package `airflow.task`, not the TaskFlow decorator (error while Airflow imports the file)"
            ),
            Some(format!("import the decorator: `from {home} import task`")),
        );
    }
}
