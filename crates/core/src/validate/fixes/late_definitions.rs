//! The fix for a function used by module-level code above its own `def` (DS102): small models
//! write the DAG first and its callables after it, so `python_callable=transform` raises
//! NameError while Airflow imports the file. The `def` (with the comment lines just above it)
//! moves up, before the top-level statement that first uses it. Safe: the function is bound
//! once, has no decorators, and its signature reads only builtins and names imported above the
//! new place, so defining it earlier runs nothing that did not run before.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::edits::Replacement;
use super::file::{FileIndex, bound_name};
use super::{Context, Draft};
use crate::fix::Applicability;
use crate::validate::builtins::is_builtin;
use crate::validate::model::RawFinding;

pub(super) fn fix(ctx: &Context, finding: &RawFinding) -> Option<Draft> {
    let file = ctx.file();
    let name = file.text(finding.range);
    if file.module_bindings().get(name) != Some(&1) {
        return None;
    }
    let use_index = file.body.iter().position(|s| s.range().contains(finding.range.start()))?;
    let (def_index, def) = file.top_level_function(name)?;
    if def_index <= use_index
        || !def.decorator_list.is_empty()
        || !signature_reads_only(def, |n| is_builtin(n) || imported_before(file, n, use_index))
    {
        return None;
    }
    let user = file.body.get(use_index)?;
    let moved = block_with_comments(file, def.range)?;
    let insert_at = block_with_comments(file, user.range())?.start();
    let nl = file.newline;
    let text = format!("{}{nl}{nl}", file.text(moved).trim_end_matches(['\n', '\r']));
    let removed = TextRange::new(blank_lines_before(file, moved.start()), moved.end());
    let edits: Vec<Replacement> =
        vec![(TextRange::empty(insert_at), format!("{text}{nl}")), (removed, String::new())];
    Some(Draft {
        applicability: Applicability::Safe,
        message: format!("define `{name}` before the code that uses it (the `def` moves up)"),
        edits,
    })
}

/// Whether the decorators-free signature (defaults, annotations) reads only names `known`
/// accepts: those are evaluated when the `def` runs.
fn signature_reads_only(def: &ast::StmtFunctionDef, known: impl Fn(&str) -> bool) -> bool {
    struct Names<'a>(Vec<&'a str>);
    impl<'a> Visitor<'a> for Names<'a> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            if let Expr::Name(n) = expr {
                self.0.push(n.id.as_str());
            }
            visitor::walk_expr(self, expr);
        }
    }
    let mut names = Names(Vec::new());
    let p = &def.parameters;
    for param in p.posonlyargs.iter().chain(&p.args).chain(&p.kwonlyargs) {
        if let Some(default) = &param.default {
            names.visit_expr(default);
        }
        if let Some(annotation) = &param.parameter.annotation {
            names.visit_expr(annotation);
        }
    }
    for variadic in [&p.vararg, &p.kwarg].into_iter().flatten() {
        if let Some(annotation) = &variadic.annotation {
            names.visit_expr(annotation);
        }
    }
    if let Some(returns) = &def.returns {
        names.visit_expr(returns);
    }
    names.0.into_iter().all(known)
}

/// Whether a top-level import among the first `before` statements binds `name`.
fn imported_before(file: &FileIndex, name: &str, before: usize) -> bool {
    file.body.iter().take(before).any(|s| match s {
        Stmt::Import(i) => i.names.iter().any(|a| bound_name(a, false) == name),
        Stmt::ImportFrom(i) => i.names.iter().any(|a| bound_name(a, true) == name),
        _ => false,
    })
}

/// A top-level statement's whole lines, with the comment lines directly above it: from the
/// start of its first line to just after the line break ending its last line. `None` when the
/// statement does not start its line at column 0 or shares its last line with another.
fn block_with_comments(file: &FileIndex, range: TextRange) -> Option<TextRange> {
    if !file.indentation(range)?.is_empty() {
        return None;
    }
    let source = file.source;
    let mut start = range.start().to_usize();
    while let Some(previous) = previous_line(source, start) {
        if !source[previous..start].trim_start().starts_with('#') {
            break;
        }
        start = previous;
    }
    let line_end = file.line_end(range.end()).to_usize();
    if !source[range.end().to_usize()..line_end].trim_start().is_empty()
        && !source[range.end().to_usize()..line_end].trim_start().starts_with('#')
    {
        return None;
    }
    let end = match source[line_end..].chars().next() {
        Some('\r') if source[line_end..].starts_with("\r\n") => line_end.saturating_add(2),
        Some('\n' | '\r') => line_end.saturating_add(1),
        _ => line_end,
    };
    Some(TextRange::new(offset(start)?, offset(end)?))
}

/// Extends `start` (a line start) back over the blank lines above it.
fn blank_lines_before(file: &FileIndex, start: TextSize) -> TextSize {
    let source = file.source;
    let mut at = start.to_usize();
    while let Some(previous) = previous_line(source, at) {
        if !source[previous..at].trim().is_empty() {
            break;
        }
        at = previous;
    }
    offset(at).unwrap_or(start)
}

/// The start of the line before the one starting at `line_start`.
fn previous_line(source: &str, line_start: usize) -> Option<usize> {
    let before = source.get(..line_start.checked_sub(1)?)?;
    Some(before.rfind('\n').map_or(0, |i| i.saturating_add(1)))
}

fn offset(n: usize) -> Option<TextSize> {
    u32::try_from(n).ok().map(TextSize::from)
}
