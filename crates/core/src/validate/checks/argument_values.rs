//! DS211 (deprecated operator argument), DS213 (invalid argument value), for constructors and
//! for `.expand(...)`.

use ruff_python_ast as ast;
use ruff_text_size::TextRange;

use std::sync::Arc;

use crate::catalog::{OperatorParams, Target};
use crate::finding::Severity;
use crate::rules;
use crate::validate::airflow;
use crate::validate::interp::Interp;
use crate::validate::interp::helpers::*;
use crate::validate::model::*;

impl<'a> Interp<'a> {
    /// DS211 and DS213: arguments the operator accepts only with a deprecation warning, and
    /// values its constructor refuses (`auto_remove=True`, an unknown `trigger_rule`).
    pub(in crate::validate) fn check_argument_values(
        &mut self,
        (class, params): (&str, &Arc<OperatorParams>),
        call: &'a ast::ExprCall,
        kwargs: &[Kwarg<'a>],
    ) {
        let target = crate::catalog::catalog().target_for(self.version);
        let class_name = params.defined_at.rsplit('.').next().unwrap_or(class).to_string();
        let severity = if self.certain() && !self.guarded(|g| g.call_error) {
            Severity::Error
        } else {
            Severity::Warning
        };
        for (name, value) in kwargs {
            let Some(name) = name.as_deref() else { continue };
            if name == "dag" && is_dag_decorator(value) {
                self.report_with(
                    &rules::INVALID_ARGUMENT_VALUE,
                    severity,
                    keyword_range(call, name),
                    format!(
                        "{class_name}() is given the `@dag` decorator function as `dag=`, not a DAG: Airflow reads DAG attributes off it and fails ('function' object has no attribute ...) (error while Airflow imports the file)"
                    ),
                    Some("remove `dag=...`: inside `with DAG(...)` or a `@dag` function the task joins that DAG".into()),
                );
                continue;
            }
            if name == "dag" && matches!(value, Value::Group(_)) {
                self.report_with(
                    &rules::INVALID_ARGUMENT_VALUE,
                    severity,
                    keyword_range(call, name),
                    format!(
                        "{class_name}() is given a TaskGroup as `dag=`, not a DAG: Airflow reads DAG attributes off it and fails ('TaskGroup' object has no attribute ...) (error while Airflow imports the file)"
                    ),
                    Some("pass the group as `task_group=...` (or create the task inside `with TaskGroup(...)` without `dag=`)".into()),
                );
                continue;
            }
            if let Some(wanted) = dict_argument(&class_name, name, value) {
                self.report_with(
                    &rules::INVALID_ARGUMENT_VALUE,
                    severity,
                    keyword_range(call, name),
                    format!(
                        "{class_name}() reads `{name}` as {wanted} while the task is created: Airflow fails on a {} (error while Airflow imports the file)",
                        value_kind(value)
                    ),
                    Some(format!("pass {wanted}")),
                );
                continue;
            }
            if params.deprecated.contains(name) {
                self.report(
                    &rules::DEPRECATED_OPERATOR_ARGUMENT,
                    keyword_range(call, name),
                    format!(
                        "`{name}` is deprecated for {class_name}: Airflow {} accepts it with a deprecation warning and ignores it",
                        self.version
                    ),
                    Some(format!("remove `{name}=...`")),
                );
            }
            // Only literal values are checked.
            let Some(shown) = Literal::of(value) else { continue };
            let given = match value {
                Value::Str(s) => Some(&**s),
                _ => None,
            };
            // Values listed by the operator's own `__init__` (`if x not in (...): raise`).
            if let Some(allowed) = params.choices.get(name)
                && !given.is_some_and(|g| allowed.iter().any(|a| a == g))
            {
                let listed =
                    allowed.iter().map(|a| format!("'{a}'")).collect::<Vec<_>>().join(", ");
                self.report_with(
                    &rules::INVALID_ARGUMENT_VALUE,
                    severity,
                    keyword_range(call, name),
                    format!(
                        "{class_name}() refuses {name}={shown}: it must be one of {listed} (error while Airflow imports the file)"
                    ),
                    Some(format!("pass one of {listed}")),
                );
                continue;
            }
            match (name, given) {
                ("trigger_rule", Some(rule)) => {
                    let values = airflow::enum_values(target, airflow::TRIGGER_RULE);
                    if !values.is_empty() && !values.contains(&rule) {
                        let fix = closest(rule, values.iter().copied())
                            .map(|c| format!("did you mean `{c}`?"))
                            .or_else(|| {
                                Some("use a `TriggerRule` value, e.g. `all_success`".into())
                            });
                        self.report_with(
                            &rules::INVALID_ARGUMENT_VALUE,
                            severity,
                            keyword_range(call, name),
                            format!(
                                "trigger_rule {shown} is not a trigger rule of Airflow {} (error while Airflow imports the file)",
                                self.version
                            ),
                            fix,
                        );
                    }
                }
                ("weight_rule", Some(rule)) => {
                    let range = keyword_range(call, name);
                    self.check_weight_rule(target, rule, range, severity);
                }
                _ => {}
            }
        }
    }

    /// DS213 for `weight_rule=`: one of Airflow's strategies, or a class path a plugin may
    /// register.
    fn check_weight_rule(
        &mut self,
        target: Target,
        rule: &str,
        range: TextRange,
        severity: Severity,
    ) {
        let values = airflow::enum_values(target, airflow::WEIGHT_RULE);
        if values.is_empty() || values.contains(&rule) {
            return;
        }
        // Only a string literal gets here.
        let shown = Literal::Str(rule);
        let listed = values.iter().map(|a| format!("'{a}'")).collect::<Vec<_>>().join(", ");
        if rule.contains('.') {
            // A class path: valid where a plugin registers that strategy.
            self.report_with(
                &rules::INVALID_ARGUMENT_VALUE,
                Severity::Warning,
                range,
                format!(
                    "weight_rule {shown} is not one of {listed}: the file loads only where a plugin registers that priority weight strategy"
                ),
                None,
            );
        } else {
            self.report_with(
                &rules::INVALID_ARGUMENT_VALUE,
                severity,
                range,
                format!(
                    "weight_rule {shown} is neither one of {listed} nor a registered priority weight strategy (error while Airflow imports the file)"
                ),
                Some(format!("pass one of {listed}")),
            );
        }
    }

    /// DS213: an operator's `.partial(...).expand(x=...)` maps over lists, dicts and XComArgs;
    /// Airflow refuses a plain string, number, bool or None with ValueError while it imports
    /// the file. (TaskFlow's `.expand()` is not checked: it is not certain to fail at import.)
    pub(in crate::validate) fn check_expand_values(
        &mut self,
        what: &str,
        call: &'a ast::ExprCall,
        kwargs: &[Kwarg<'a>],
    ) {
        for (k, v) in kwargs {
            let Some(k) = k.as_deref() else { continue };
            let kind = match v {
                Value::Str(_) => "str",
                Value::Int(_) => "int",
                Value::Bool(_) => "bool",
                Value::None => "NoneType",
                _ => continue,
            };
            let range = keyword_range(call, k);
            let severity = if self.certain() { Severity::Error } else { Severity::Warning };
            self.report_with(
                &rules::INVALID_ARGUMENT_VALUE,
                severity,
                range,
                format!(
                    "{what}.expand() got an unexpected type '{kind}' for keyword argument {k}: it maps over a list, a dict or an XComArg (ValueError while Airflow imports the file)"
                ),
                Some(format!("pass a list (`{k}=[...]`), or set a fixed value in `.partial({k}=...)`")),
            );
        }
    }
}

/// A literal argument value, displayed as Python shows it (`'x'`, `True`, `3`, `None`): written
/// out only for a finding (most arguments have none).
enum Literal<'v> {
    Str(&'v str),
    Bool(bool),
    Int(i64),
    None,
}

impl<'v> Literal<'v> {
    fn of(value: &'v Value) -> Option<Self> {
        Some(match value {
            Value::Str(s) => Literal::Str(s),
            Value::Bool(b) => Literal::Bool(*b),
            Value::Int(i) => Literal::Int(*i),
            Value::None => Literal::None,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Literal<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Literal::Str(s) => write!(f, "'{s}'"),
            Literal::Bool(true) => f.write_str("True"),
            Literal::Bool(false) => f.write_str("False"),
            Literal::Int(i) => write!(f, "{i}"),
            Literal::None => f.write_str("None"),
        }
    }
}

/// `dag=dag` where `dag` is the `@dag` decorator (imported from `airflow.decorators` or
/// `airflow.sdk`) or a `@dag` function, not a DAG object: models write it inside `@dag`
/// functions, where no `dag` variable exists.
fn is_dag_decorator(value: &Value) -> bool {
    match value {
        Value::Imported(path) => {
            matches!(&**path, "airflow.decorators.dag" | "airflow.sdk.dag")
                || path.ends_with(".decorators.dag")
        }
        Value::Function(f) => matches!(f.kind, FunctionKind::Dag { .. }),
        _ => false,
    }
}

/// Arguments whose constructor iterates `.items()` of the value (and of its values) when the
/// task is created: common-sql's check operators.
const DICT_ARGUMENTS: &[(&str, &str, &str)] = &[
    (
        "SQLTableCheckOperator",
        "checks",
        "a dict of checks (`{\"row_count\": {\"check_statement\": \"COUNT(*) > 0\"}}`)",
    ),
    (
        "SQLColumnCheckOperator",
        "column_mapping",
        "a dict of columns to dicts of checks (`{\"id\": {\"null_check\": {\"equal_to\": 0}}}`)",
    ),
];

/// What `class.name` must be when `value` is not that: a plain value, a list, or a dict whose
/// values are plain values or lists.
fn dict_argument(class: &str, name: &str, value: &Value) -> Option<&'static str> {
    let (_, _, wanted) = DICT_ARGUMENTS.iter().find(|(c, n, _)| *c == class && *n == name)?;
    let plain = |v: &Value| {
        matches!(v, Value::Str(_) | Value::Int(_) | Value::Bool(_) | Value::None | Value::List(_))
    };
    match value {
        Value::Dict(entries) => entries.iter().any(|(_, v)| plain(v)).then_some(*wanted),
        v if plain(v) => Some(*wanted),
        _ => None,
    }
}

fn value_kind(value: &Value) -> &'static str {
    match value {
        Value::Str(_) => "string",
        Value::Int(_) => "number",
        Value::Bool(_) => "boolean",
        Value::None => "None",
        Value::List(_) => "list",
        _ => "dict of plain values",
    }
}
