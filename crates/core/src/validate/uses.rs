//! Every `from ... import`, call, name and attribute read of a file, collected during the walk
//! every file gets (the validator's scan) and shared: DS217 (unused provider imports) and the
//! fixes look names up in the same index instead of walking the file each.

use std::cell::OnceCell;
use std::collections::hash_map::Entry;

use ruff_python_ast::{self as ast, Expr, Stmt};
use rustc_hash::FxHashMap as HashMap;

pub(super) struct Uses<'a> {
    /// `from X import ...` statements at any depth, in source order.
    pub import_froms: Vec<&'a ast::StmtImportFrom>,
    /// Every call, in source order of their start.
    pub calls: Vec<&'a ast::ExprCall>,
    /// Every `Name` node (read, written or deleted), by identifier, in source order.
    pub names: Grouped<'a, &'a ast::ExprName>,
    /// The attributes read off each plain name: `datetime.now` → `datetime`: [`now`].
    pub attributes: Grouped<'a, &'a str>,
}

/// Values by name, each name's in the order they were added, all in one list: most names of
/// a file are used a few times, and a list of their own for each (allocated, then grown) was
/// most of what building the index cost.
pub(super) struct Grouped<'a, V> {
    /// (first, last) item of each name.
    ends: HashMap<&'a str, (usize, usize)>,
    /// Each value with the index of the next one of its name (`usize::MAX`: the last).
    items: Vec<(V, usize)>,
}

impl<'a, V: Copy> Grouped<'a, V> {
    fn with_capacity(names: usize, values: usize) -> Self {
        Grouped {
            ends: HashMap::with_capacity_and_hasher(names, Default::default()),
            items: Vec::with_capacity(values),
        }
    }

    fn push(&mut self, name: &'a str, value: V) {
        let at = self.items.len();
        self.items.push((value, usize::MAX));
        match self.ends.entry(name) {
            Entry::Occupied(mut e) => {
                let (_, last) = e.get_mut();
                self.items[*last].1 = at;
                *last = at;
            }
            Entry::Vacant(e) => {
                e.insert((at, at));
            }
        }
    }

    /// The values of `name`, in the order they were added.
    pub fn get(&self, name: &str) -> impl Iterator<Item = V> + '_ {
        let mut next = self.ends.get(name).map_or(usize::MAX, |&(first, _)| first);
        std::iter::from_fn(move || {
            let (value, after) = *self.items.get(next)?;
            next = after;
            Some(value)
        })
    }

    pub fn contains(&self, name: &str) -> bool {
        self.ends.contains_key(name)
    }
}

impl Uses<'_> {
    /// An empty index, its maps sized for a DAG file's few dozen names (growing them a step at
    /// a time was most of their cost).
    pub fn new() -> Self {
        Uses {
            import_froms: Vec::new(),
            calls: Vec::with_capacity(32),
            names: Grouped::with_capacity(64, 256),
            attributes: Grouped::with_capacity(16, 32),
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
            Expr::Name(n) => self.names.push(n.id.as_str(), n),
            Expr::Attribute(a) => {
                if let Expr::Name(n) = &*a.value {
                    self.attributes.push(n.id.as_str(), a.attr.as_str());
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Grouped;

    #[test]
    fn each_name_keeps_its_values_in_order() {
        let mut g: Grouped<'_, u32> = Grouped::with_capacity(2, 2);
        for (name, v) in [("a", 1), ("b", 2), ("a", 3), ("c", 4), ("a", 5), ("b", 6)] {
            g.push(name, v);
        }
        assert_eq!(g.get("a").collect::<Vec<_>>(), [1, 3, 5]);
        assert_eq!(g.get("b").collect::<Vec<_>>(), [2, 6]);
        assert_eq!(g.get("c").collect::<Vec<_>>(), [4]);
        assert_eq!(g.get("d").count(), 0);
        assert!(g.contains("c") && !g.contains("d"));
    }
}
