//! DS217: names imported from provider packages at module level that nothing in the file
//! uses. Each is a dependency on an installed provider for nothing.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::TextRange;
use rustc_hash::FxHashSet as HashSet;

/// Every identifier the file reads or writes as a name (at any depth).
#[derive(Default)]
struct Names<'a>(HashSet<&'a str>);

impl<'a> Visitor<'a> for Names<'a> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Name(n) = expr {
            self.0.insert(n.id.as_str());
        }
        visitor::walk_expr(self, expr);
    }
}

/// The module-level `from airflow.providers... import` statements with the names of each that
/// the file never uses: (statement range, module, names).
pub(super) fn unused_provider_imports(body: &[Stmt]) -> Vec<(TextRange, &str, Vec<&str>)> {
    let mut names = Names::default();
    for stmt in body {
        names.visit_stmt(stmt);
    }
    let mut out = Vec::new();
    for stmt in body {
        let Stmt::ImportFrom(imp) = stmt else { continue };
        let Some(module) = imp.module.as_ref().map(|m| m.as_str()) else { continue };
        if imp.level != 0 || !module.starts_with("airflow.providers.") {
            continue;
        }
        let unused: Vec<&str> = imp
            .names
            .iter()
            .filter(|a: &&ast::Alias| {
                let bound = a.asname.as_ref().map_or(a.name.as_str(), |n| n.as_str());
                bound != "*" && !names.0.contains(bound)
            })
            .map(|a| a.name.as_str())
            .collect();
        if !unused.is_empty() {
            out.push((imp.range, module, unused));
        }
    }
    out
}
