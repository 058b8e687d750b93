//! Every `from ... import`, call, name and attribute read of a file, from one walk of the
//! tree, built on first use and shared: DS217 (unused provider imports) and the fixes look
//! names up in the same index instead of walking the file each.

use std::cell::OnceCell;

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use rustc_hash::FxHashMap as HashMap;

#[derive(Default)]
pub(super) struct Uses<'a> {
    /// `from X import ...` statements at any depth, in source order.
    pub import_froms: Vec<&'a ast::StmtImportFrom>,
    /// Every call, in source order of their start.
    pub calls: Vec<&'a ast::ExprCall>,
    /// Every `Name` node (read, written or deleted), by identifier, in source order.
    pub names: HashMap<&'a str, Vec<&'a ast::ExprName>>,
    /// The attributes read off each plain name: `datetime.now` → `datetime`: [`now`].
    pub attributes: HashMap<&'a str, Vec<&'a str>>,
}

/// The index of one file, walked for on first use (many files need it for neither).
pub(super) struct LazyUses<'a> {
    body: &'a [Stmt],
    cell: OnceCell<Uses<'a>>,
}

impl<'a> LazyUses<'a> {
    pub fn new(body: &'a [Stmt]) -> Self {
        LazyUses { body, cell: OnceCell::new() }
    }

    pub fn get(&self) -> &Uses<'a> {
        self.cell.get_or_init(|| {
            let mut uses = Uses::default();
            for stmt in self.body {
                uses.visit_stmt(stmt);
            }
            uses
        })
    }
}

impl<'a> Visitor<'a> for Uses<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if let Stmt::ImportFrom(s) = stmt {
            self.import_froms.push(s);
        }
        super::guard_stack(|| visitor::walk_stmt(self, stmt));
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Call(c) => self.calls.push(c),
            Expr::Name(n) => self.names.entry(n.id.as_str()).or_default().push(n),
            Expr::Attribute(a) => {
                if let Expr::Name(n) = &*a.value {
                    self.attributes.entry(n.id.as_str()).or_default().push(a.attr.as_str());
                }
            }
            _ => {}
        }
        super::guard_stack(|| visitor::walk_expr(self, expr));
    }
}
