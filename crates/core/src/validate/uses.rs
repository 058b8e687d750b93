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

/// Values by name, each name's in the order they were added. Collected as one list, indexed
/// by name only when a name's values are first asked for: most files are only asked whether a
/// few imported names occur at all (DS217), which one pass over the list answers, and hashing
/// every name of every file was most of what building the index cost.
pub(super) struct Grouped<'a, V> {
    /// Every value with its name, in the order added.
    items: Vec<(&'a str, V)>,
    index: OnceCell<Index<'a>>,
}

/// Where each name's values are in [`Grouped::items`]: (first, last) by name, and for each
/// item the next one of its name (`usize::MAX`: the last).
struct Index<'a> {
    ends: HashMap<&'a str, (usize, usize)>,
    next: Vec<usize>,
}

/// Names looked for in one pass without hashing each item's name: up to this many.
const FEW: usize = 8;

impl<'a, V: Copy> Grouped<'a, V> {
    fn with_capacity(values: usize) -> Self {
        Grouped { items: Vec::with_capacity(values), index: OnceCell::new() }
    }

    fn push(&mut self, name: &'a str, value: V) {
        self.items.push((name, value));
        // Added after a lookup (never, as the index is used): it is built again when needed.
        self.index.take();
    }

    fn index(&self) -> &Index<'a> {
        self.index.get_or_init(|| {
            let mut ends: HashMap<&'a str, (usize, usize)> = HashMap::default();
            let mut next = vec![usize::MAX; self.items.len()];
            for (at, (name, _)) in self.items.iter().enumerate() {
                match ends.entry(name) {
                    Entry::Occupied(mut e) => {
                        let (_, last) = e.get_mut();
                        next[*last] = at;
                        *last = at;
                    }
                    Entry::Vacant(e) => {
                        e.insert((at, at));
                    }
                }
            }
            Index { ends, next }
        })
    }

    /// The values of `name`, in the order they were added.
    pub fn get(&self, name: &str) -> impl Iterator<Item = V> + '_ {
        let index = self.index();
        let mut at = index.ends.get(name).map_or(usize::MAX, |&(first, _)| first);
        std::iter::from_fn(move || {
            let (_, value) = *self.items.get(at)?;
            at = index.next.get(at).copied().unwrap_or(usize::MAX);
            Some(value)
        })
    }

    pub fn contains(&self, name: &str) -> bool {
        self.index().ends.contains_key(name)
    }

    /// Whether each of `names` has a value: one pass over the values when the names are few
    /// and no index has been built, else by the index.
    pub fn which_of(&self, names: &[&str]) -> Vec<bool> {
        if names.len() > FEW || self.index.get().is_some() {
            return names.iter().map(|n| self.contains(n)).collect();
        }
        let mut found = vec![false; names.len()];
        for (name, _) in &self.items {
            // Every place: a name can be asked for twice (imported by two statements).
            for (found, _) in found.iter_mut().zip(names).filter(|(_, n)| *n == name) {
                *found = true;
            }
        }
        found
    }
}

impl Uses<'_> {
    /// An empty index, its maps sized for a DAG file's few dozen names (growing them a step at
    /// a time was most of their cost).
    pub fn new() -> Self {
        Uses {
            import_froms: Vec::new(),
            calls: Vec::with_capacity(32),
            names: Grouped::with_capacity(256),
            attributes: Grouped::with_capacity(32),
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
        let mut g: Grouped<'_, u32> = Grouped::with_capacity(2);
        for (name, v) in [("a", 1), ("b", 2), ("a", 3), ("c", 4), ("a", 5), ("b", 6)] {
            g.push(name, v);
        }
        // Asked before the index is built (a name twice), then after.
        assert_eq!(g.which_of(&["d", "c", "a", "c"]), [false, true, true, true]);
        assert_eq!(g.get("a").collect::<Vec<_>>(), [1, 3, 5]);
        assert_eq!(g.get("b").collect::<Vec<_>>(), [2, 6]);
        assert_eq!(g.get("c").collect::<Vec<_>>(), [4]);
        assert_eq!(g.get("d").count(), 0);
        assert!(g.contains("c") && !g.contains("d"));
        assert_eq!(g.which_of(&["d", "c", "a"]), [false, true, true]);
        // Many names at once, and a value added after the index was built.
        let many: Vec<String> = (0..20).map(|i| format!("n{i}")).collect();
        let mut wanted: Vec<&str> = many.iter().map(String::as_str).collect();
        wanted.push("b");
        let found = g.which_of(&wanted);
        assert_eq!(found.iter().filter(|f| **f).count(), 1);
        g.push("d", 7);
        assert_eq!(g.get("d").collect::<Vec<_>>(), [7]);
    }
}
