//! Fixes for tasks created outside any DAG (DS109 task-without-dag, DS122 invalid-dependency
//! between DAG-less tasks): when the file has exactly one DAG, held by a module variable
//! (`dag = DAG(...)` or `with DAG(...) as dag:`) bound once, before the task is made, `dag=dag`
//! is passed to the task. Unsafe: the task joins a DAG it was not in.

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextSize};

use super::edits::{Replacement, append_argument};
use super::{Context, Draft};
use crate::fix::Applicability;
use crate::rules;
use crate::validate::model::RawFinding;

pub(super) fn fix(ctx: &Context, finding: &RawFinding) -> Option<Draft> {
    let (var, bound_at) = the_dag_variable(ctx)?;
    let file = ctx.file();
    let only_this = finding.rule.code == rules::TASK_WITHOUT_DAG.code;
    let mut edits: Vec<Replacement> = Vec::new();
    for task in &ctx.model.tasks {
        if task.dag.is_some() || task.dag_unknown || task.taskflow {
            continue;
        }
        if only_this && task.range != finding.range {
            continue;
        }
        let Some(call) = file.call_at(task.range) else { continue };
        // At module level, after the variable is bound (a function body may run earlier).
        let top = file.top_level_statement(call.start())?;
        if matches!(top, Stmt::FunctionDef(_) | Stmt::ClassDef(_)) || call.start() < bound_at {
            continue;
        }
        if call.arguments.find_keyword("dag").is_some() {
            continue;
        }
        edits.push(append_argument(&call.arguments, &format!("dag={var}")));
    }
    if edits.is_empty() {
        return None;
    }
    let message = if edits.len() == 1 {
        format!("add `dag={var}`")
    } else {
        format!("add `dag={var}` to {} tasks", edits.len())
    };
    Some(Draft { applicability: Applicability::Unsafe, message, edits })
}

/// The module variable that holds the file's only DAG, and where it is bound (after the
/// assignment, or where the `with` block starts).
fn the_dag_variable<'a>(ctx: &Context<'a>) -> Option<(&'a str, TextSize)> {
    let [dag] = &ctx.model.dags[..] else { return None };
    let file = ctx.file();
    let mut found: Option<(&'a str, TextSize)> = None;
    for stmt in ctx.body {
        let candidate = match stmt {
            Stmt::Assign(a) if a.value.range() == dag.range => match &a.targets[..] {
                [Expr::Name(n)] => Some((n.id.as_str(), a.range.end())),
                _ => None,
            },
            Stmt::With(w) => w.items.iter().find_map(|item: &ast::WithItem| {
                match (item.context_expr.range() == dag.range, item.optional_vars.as_deref()) {
                    (true, Some(Expr::Name(n))) => Some((n.id.as_str(), item.range.end())),
                    _ => None,
                }
            }),
            _ => None,
        };
        if candidate.is_some() {
            found = candidate;
            break;
        }
    }
    let (var, at) = found?;
    (file.module_bindings().get(var) == Some(&1)).then_some((var, at))
}
