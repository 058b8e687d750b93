//! Fix for DS108 when the cycle is a statement that links a task only to itself
//! (`send >> send >> send`, a model's way of saying "three times"): the statement goes. Safe:
//! its only effect is the cycle that stops Airflow from loading the file.

use ruff_python_ast::{self as ast, Expr, Operator, Stmt};
use ruff_text_size::{Ranged, TextSize};

use super::{Context, Draft};
use crate::fix::Applicability;
use crate::validate::model::RawFinding;

pub(super) fn fix(ctx: &Context, finding: &RawFinding) -> Option<Draft> {
    let file = ctx.file();
    let stmt = expression_statement_at(file.body, finding.range.start())?;
    let mut names = Vec::new();
    if !chain_operands(&stmt.value, &mut names) || names.len() < 2 {
        return None;
    }
    let first = names[0];
    if !names.iter().all(|n| *n == first) {
        return None;
    }
    Some(Draft {
        applicability: Applicability::Safe,
        message: format!(
            "remove `{}`: it only makes `{first}` depend on itself",
            file.text(stmt.range)
        ),
        edits: vec![(file.whole_lines(stmt.range)?, String::new())],
    })
}

/// The expression statement that contains `offset`, at any depth of `with`/`if`/`for` blocks
/// and function bodies.
fn expression_statement_at(body: &[Stmt], offset: TextSize) -> Option<&ast::StmtExpr> {
    let stmt = body.iter().find(|s| s.range().contains(offset))?;
    match stmt {
        Stmt::Expr(e) => Some(e),
        Stmt::With(s) => expression_statement_at(&s.body, offset),
        Stmt::For(s) => expression_statement_at(&s.body, offset),
        Stmt::FunctionDef(s) => expression_statement_at(&s.body, offset),
        Stmt::If(s) => expression_statement_at(&s.body, offset).or_else(|| {
            s.elif_else_clauses.iter().find_map(|c| expression_statement_at(&c.body, offset))
        }),
        _ => None,
    }
}

/// The plain names chained by `>>` / `<<` in `expr`; false when anything else is in the chain.
fn chain_operands<'a>(expr: &'a Expr, out: &mut Vec<&'a str>) -> bool {
    match expr {
        Expr::BinOp(b) if matches!(b.op, Operator::RShift | Operator::LShift) => {
            chain_operands(&b.left, out) && chain_operands(&b.right, out)
        }
        Expr::Name(n) => {
            out.push(n.id.as_str());
            true
        }
        _ => false,
    }
}
