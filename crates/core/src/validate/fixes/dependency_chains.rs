//! Fixes that rewrite a `a >> b >> c` statement:
//! - DS114 list-to-list-dependency: `[a, b] >> [c, d]` → `cross_downstream([a, b], [c, d])`
//!   (unsafe: `>>` between lists has no meaning, all-to-all is the likely one), the chain split
//!   into one statement per link where lists meet;
//! - DS122 invalid-dependency: `extract() >> transform >> load`, @task functions linked without
//!   being called → each called, taking the previous task's result when it has one parameter:
//!   `load(transform(extract()))` (unsafe: it adds the data flow the names suggest).

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Operator, Stmt};
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::edits::{ImportLine, Replacement, add_import};
use super::homes::home_of;
use super::{Context, Draft};
use crate::fix::Applicability;
use crate::validate::model::RawFinding;

/// The expression statement (at any depth) whose value contains `offset`.
fn statement_at(body: &[Stmt], offset: TextSize) -> Option<&ast::StmtExpr> {
    struct Find<'a> {
        offset: TextSize,
        found: Option<&'a ast::StmtExpr>,
    }
    impl<'a> Visitor<'a> for Find<'a> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            if self.found.is_some() || !stmt.range().contains_inclusive(self.offset) {
                return;
            }
            if let Stmt::Expr(e) = stmt {
                self.found = Some(e);
                return;
            }
            visitor::walk_stmt(self, stmt);
        }
    }
    let mut find = Find { offset, found: None };
    find.visit_body(body);
    find.found
}

/// The operands of a left-to-right `>>` chain: `a >> b >> c` → [a, b, c].
fn chain(expr: &Expr) -> Option<Vec<&Expr>> {
    match expr {
        Expr::BinOp(b) if b.op == Operator::RShift => {
            let mut operands = chain(&b.left).unwrap_or_else(|| vec![&*b.left]);
            operands.push(&b.right);
            Some(operands)
        }
        _ => None,
    }
}

/// The statement's `>>` chain, when the statement stands on lines of its own.
fn chain_statement<'a>(
    ctx: &Context<'a>,
    finding: &RawFinding,
) -> Option<(&'a ast::StmtExpr, Vec<&'a Expr>, &'a str)> {
    let stmt = statement_at(ctx.body, finding.range.start())?;
    let file = ctx.file();
    let indent = file.indentation(stmt.range)?;
    let rest = file.text(TextRange::new(stmt.range.end(), file.line_end(stmt.range.end())));
    if !(rest.trim().is_empty() || rest.trim_start().starts_with('#')) {
        return None;
    }
    Some((stmt, chain(&stmt.value)?, indent))
}

/// A name, `a.b`, or a list of those: safe to write twice (evaluating it creates nothing).
fn repeatable(e: &Expr) -> bool {
    match e {
        Expr::Name(_) => true,
        Expr::Attribute(a) => repeatable(&a.value),
        Expr::List(l) => l.elts.iter().all(repeatable),
        _ => false,
    }
}

/// Names bound only to list displays or list comprehensions, anywhere in the file.
fn is_list(body: &[Stmt], e: &Expr) -> bool {
    struct Bindings<'b> {
        name: &'b str,
        lists: usize,
        others: usize,
    }
    impl<'a> Visitor<'a> for Bindings<'_> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            if let Stmt::Assign(a) = stmt
                && a.targets
                    .iter()
                    .any(|t| matches!(t, Expr::Name(n) if n.id.as_str() == self.name))
            {
                if matches!(&*a.value, Expr::List(_) | Expr::ListComp(_)) {
                    self.lists = self.lists.saturating_add(1);
                } else {
                    self.others = self.others.saturating_add(1);
                }
            }
            visitor::walk_stmt(self, stmt);
        }
    }
    match e {
        Expr::List(_) => true,
        Expr::Name(n) => {
            let mut b = Bindings { name: n.id.as_str(), lists: 0, others: 0 };
            b.visit_body(body);
            b.lists > 0 && b.others == 0
        }
        _ => false,
    }
}

pub(super) fn fix_list_to_list(ctx: &Context, finding: &RawFinding) -> Option<Draft> {
    let (stmt, operands, indent) = chain_statement(ctx, finding)?;
    let file = ctx.file();
    let lists: Vec<bool> = operands.iter().map(|e| is_list(ctx.body, e)).collect();
    // Operands inside the chain are written twice once it is split.
    let inner = operands.get(1..operands.len().saturating_sub(1))?;
    if !inner.iter().all(|e| repeatable(e)) {
        return None;
    }
    let mut statements: Vec<String> = Vec::new();
    let mut current: Vec<&str> = vec![file.text(operands.first()?.range())];
    for (i, pair) in operands.windows(2).enumerate() {
        let right = file.text(pair[1].range());
        if lists.get(i).copied()? && lists.get(i.checked_add(1)?).copied()? {
            if current.len() > 1 {
                statements.push(current.join(" >> "));
            }
            statements.push(format!("cross_downstream({}, {right})", file.text(pair[0].range())));
            current = vec![right];
        } else {
            current.push(right);
        }
    }
    if current.len() > 1 {
        statements.push(current.join(" >> "));
    }
    let mut edits: Vec<Replacement> =
        vec![(stmt.range, statements.join(&format!("{}{indent}", file.newline)))];
    if !file.module_bindings().contains_key("cross_downstream") {
        let home = home_of(ctx.target(), ctx.version, "cross_downstream", None)?;
        let line = ImportLine::From { module: home, name: "cross_downstream".into() };
        edits.push(add_import(file, &line)?.0);
    }
    Some(Draft {
        applicability: Applicability::Unsafe,
        message: "link every task of one list to every task of the next with `cross_downstream`"
            .into(),
        edits,
    })
}

/// How many arguments a @task function needs, by name; `None` for anything else.
fn taskflow_parameters(body: &[Stmt], name: &str) -> Option<usize> {
    struct Find<'b> {
        name: &'b str,
        found: Vec<Option<usize>>,
    }
    impl<'a> Visitor<'a> for Find<'_> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            if let Stmt::FunctionDef(f) = stmt
                && f.name.as_str() == self.name
            {
                let is_task = f.decorator_list.iter().any(|d| {
                    let callee = match &d.expression {
                        Expr::Call(c) => &*c.func,
                        e => e,
                    };
                    match callee {
                        Expr::Name(n) => n.id.as_str() == "task",
                        Expr::Attribute(a) => {
                            matches!(&*a.value, Expr::Name(n) if n.id.as_str() == "task")
                        }
                        _ => false,
                    }
                });
                let p = &f.parameters;
                let required = p
                    .posonlyargs
                    .iter()
                    .chain(&p.args)
                    .chain(&p.kwonlyargs)
                    .filter(|a| a.default.is_none())
                    .count();
                self.found.push(is_task.then_some(required));
            }
            visitor::walk_stmt(self, stmt);
        }
    }
    let mut find = Find { name, found: Vec::new() };
    find.visit_body(body);
    match find.found.as_slice() {
        [one] => *one,
        _ => None,
    }
}

pub(super) fn fix_uncalled_taskflow(ctx: &Context, finding: &RawFinding) -> Option<Draft> {
    if !finding.message.contains("is a @task function, not a task") {
        return None;
    }
    let (stmt, operands, _) = chain_statement(ctx, finding)?;
    let file = ctx.file();
    fn bare<'e>(body: &[Stmt], e: &'e Expr) -> Option<(&'e str, usize)> {
        match e {
            Expr::Name(n) => taskflow_parameters(body, n.id.as_str()).map(|p| (n.id.as_str(), p)),
            _ => None,
        }
    }
    let called_taskflow = |e: &Expr| match e {
        Expr::Call(c) => {
            matches!(&*c.func, Expr::Name(n) if taskflow_parameters(ctx.body, n.id.as_str()).is_some())
        }
        _ => false,
    };
    let first = operands.first()?;
    let (mut text, mut is_taskflow) = match bare(ctx.body, first) {
        Some((name, 0)) => (format!("{name}()"), true),
        Some(_) => return None,
        None => (file.text(first.range()).to_string(), called_taskflow(first)),
    };
    for e in operands.iter().skip(1) {
        (text, is_taskflow) = match bare(ctx.body, e) {
            Some((name, 0)) => (format!("{text} >> {name}()"), true),
            // The previous task's result is the one argument (`>>` yields its right side).
            Some((name, 1)) if is_taskflow => (format!("{name}({text})"), true),
            Some(_) => return None,
            None => (format!("{text} >> {}", file.text(e.range())), called_taskflow(e)),
        };
    }
    Some(Draft {
        applicability: Applicability::Unsafe,
        message: "call the @task functions, passing each the previous task's result".into(),
        edits: vec![(stmt.value.range(), text)],
    })
}
