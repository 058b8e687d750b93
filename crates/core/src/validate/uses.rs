//! Every `from ... import`, call, name and attribute read of a file, collected during the walk
//! every file gets (the validator's scan) and shared: DS217 (unused provider imports) and the
//! fixes look names up in the same index instead of walking the file each.

use std::cell::OnceCell;

use ruff_python_ast::{self as ast, Expr, Stmt};
use rustc_hash::FxHashMap as HashMap;

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

impl Uses<'_> {
    /// An empty index, its maps sized for a DAG file's few dozen names (growing them a step at
    /// a time was most of their cost).
    pub fn new() -> Self {
        Uses {
            import_froms: Vec::new(),
            calls: Vec::with_capacity(32),
            names: HashMap::with_capacity_and_hasher(64, Default::default()),
            attributes: HashMap::with_capacity_and_hasher(16, Default::default()),
        }
    }
}

/// The index of one file: handed over by the scan every file gets (which collects it on the
/// way, as a [`super::NodeHooks`]), or walked for on first use where that scan stopped early.
pub(super) struct LazyUses<'a> {
    body: &'a [Stmt],
    cell: OnceCell<Uses<'a>>,
}

impl<'a> LazyUses<'a> {
    /// `scanned`: the index collected by a walk of the whole file, if there was one.
    pub fn new(body: &'a [Stmt], scanned: Option<Uses<'a>>) -> Self {
        let cell = OnceCell::new();
        if let Some(uses) = scanned {
            let _ = cell.set(uses);
        }
        LazyUses { body, cell }
    }

    pub fn get(&self) -> &Uses<'a> {
        self.cell.get_or_init(|| super::walk_nodes(self.body, Uses::new()))
    }
}

/// One node at a time, in the walk's (source) order.
impl<'a> super::NodeHooks<'a> for Uses<'a> {
    fn stmt(&mut self, stmt: &'a Stmt) {
        if let Stmt::ImportFrom(s) = stmt {
            self.import_froms.push(s);
        }
    }

    fn expr(&mut self, expr: &'a Expr) {
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
    }
}
