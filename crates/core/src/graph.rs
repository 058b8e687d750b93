//! A layered layout of a DAG's task graph (left to right), for the playground's SVG.
//!
//! Layers come from the longest path from a source, computed on the graph without its back
//! edges (found by depth-first search), so a cycle still lays out. Within a layer, tasks are
//! ordered by a few barycenter sweeps to reduce crossings. Edges between tasks of one strongly
//! connected component are marked as cycle edges (what makes Airflow refuse the DAG, DS108).
//!
//! Pure and iterative (no recursion): a generated DAG with thousands of tasks cannot overflow
//! the stack, natively or in wasm.

use std::collections::HashMap;

use crate::report::Edge;

/// One task's place: its column (`layer`) and its row within the column (`rank`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayoutNode {
    pub id: String,
    pub layer: usize,
    pub rank: usize,
    /// The task is part of a dependency cycle.
    pub in_cycle: bool,
}

/// One dependency, by index into [`GraphLayout::nodes`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayoutEdge {
    pub from: usize,
    pub to: usize,
    /// Both ends are in the same cycle.
    pub cycle: bool,
    /// Points backwards (or to itself) in the layering: draw it curved.
    pub back: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GraphLayout {
    /// The tasks in the order given, then any edge endpoint that was not among them.
    pub nodes: Vec<LayoutNode>,
    /// Duplicate edges are dropped.
    pub edges: Vec<LayoutEdge>,
    /// Number of columns.
    pub layers: usize,
    /// Tasks in the fullest column.
    pub max_rank: usize,
}

/// Lays out tasks and edges (as in a [`crate::DagSummary`]).
pub fn layout(tasks: &[String], edges: &[Edge]) -> GraphLayout {
    // Nodes: the tasks, then unknown edge endpoints; a repeated id is one node.
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut ids: Vec<&str> = Vec::new();
    for id in tasks
        .iter()
        .map(String::as_str)
        .chain(edges.iter().flat_map(|e| [e.upstream.as_str(), e.downstream.as_str()]))
    {
        index.entry(id).or_insert_with(|| {
            ids.push(id);
            ids.len() - 1
        });
    }
    let n = ids.len();
    let mut pairs: Vec<(usize, usize)> = Vec::with_capacity(edges.len());
    let mut seen = HashMap::new();
    for e in edges {
        let pair = (index[e.upstream.as_str()], index[e.downstream.as_str()]);
        if seen.insert(pair, ()).is_none() {
            pairs.push(pair);
        }
    }
    let mut out_adj: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (k, &(a, _)) in pairs.iter().enumerate() {
        out_adj[a].push(k);
    }

    let component = strongly_connected(n, &pairs, &out_adj);
    let mut component_size = vec![0usize; n];
    for &c in &component {
        component_size[c] += 1;
    }
    let back = back_edges(n, &pairs, &out_adj);
    let layer = longest_path_layers(n, &pairs, &back);
    let layers = layer.iter().max().map_or(0, |&l| l + 1);
    let rank = order_layers(n, layers, &layer, &pairs, &back);

    let edges: Vec<LayoutEdge> = pairs
        .iter()
        .zip(&back)
        .map(|(&(from, to), &back)| LayoutEdge {
            from,
            to,
            cycle: component[from] == component[to]
                && (from == to || component_size[component[from]] > 1),
            back,
        })
        .collect();
    let mut in_cycle = vec![false; n];
    for e in edges.iter().filter(|e| e.cycle) {
        in_cycle[e.from] = true;
        in_cycle[e.to] = true;
    }
    let mut per_layer = vec![0usize; layers];
    for &l in &layer {
        per_layer[l] += 1;
    }
    GraphLayout {
        nodes: (0..n)
            .map(|v| LayoutNode {
                id: ids[v].to_string(),
                layer: layer[v],
                rank: rank[v],
                in_cycle: in_cycle[v],
            })
            .collect(),
        edges,
        layers,
        max_rank: per_layer.into_iter().max().unwrap_or(0),
    }
}

/// Tarjan's algorithm without recursion: the component number of every node.
fn strongly_connected(n: usize, pairs: &[(usize, usize)], out_adj: &[Vec<usize>]) -> Vec<usize> {
    const UNSEEN: usize = usize::MAX;
    let mut order = vec![UNSEEN; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut component = vec![UNSEEN; n];
    let mut components = 0;
    let mut next = 0;
    // (node, position in its out-edge list)
    let mut call: Vec<(usize, usize)> = Vec::new();
    for root in 0..n {
        if order[root] != UNSEEN {
            continue;
        }
        call.push((root, 0));
        order[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut pos)) = call.last_mut() {
            if let Some(&k) = out_adj[v].get(*pos) {
                *pos += 1;
                let w = pairs[k].1;
                if order[w] == UNSEEN {
                    order[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    call.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(order[w]);
                }
                continue;
            }
            call.pop();
            if let Some(&(parent, _)) = call.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == order[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component[w] = components;
                    if w == v {
                        break;
                    }
                }
                components += 1;
            }
        }
    }
    component
}

/// Edges that close a cycle in a depth-first search from the nodes in order (self-loops
/// included); without them the graph is acyclic.
fn back_edges(n: usize, pairs: &[(usize, usize)], out_adj: &[Vec<usize>]) -> Vec<bool> {
    let mut back = vec![false; pairs.len()];
    for_each_back_edge(n, out_adj, |k| pairs[k].1, |_, k| back[k] = true);
    back
}

/// The one cycle search of the crate (this layout and DS108's report): a depth-first search
/// from each node `0..n` in order, following each node's edges in the order of `out_adj` (edge
/// numbers; `target` gives an edge's end). Calls `on_back(path, edge)` for every edge that
/// closes a cycle, self-loops included: its end is open on `path`, the nodes from the search's
/// root to the edge's start. Without those edges the graph is acyclic.
pub(crate) fn for_each_back_edge(
    n: usize,
    out_adj: &[Vec<usize>],
    target: impl Fn(usize) -> usize,
    mut on_back: impl FnMut(&[usize], usize),
) {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        Open,
        Done,
    }
    let mut state = vec![State::New; n];
    // The open nodes, root first, and how many of each one's edges were followed.
    let mut path: Vec<usize> = Vec::new();
    let mut followed: Vec<usize> = Vec::new();
    for root in 0..n {
        if state[root] != State::New {
            continue;
        }
        state[root] = State::Open;
        path.push(root);
        followed.push(0);
        while let (Some(&v), Some(pos)) = (path.last(), followed.last_mut()) {
            if let Some(&k) = out_adj[v].get(*pos) {
                *pos += 1;
                let w = target(k);
                match state[w] {
                    State::New => {
                        state[w] = State::Open;
                        path.push(w);
                        followed.push(0);
                    }
                    State::Open => on_back(&path, k),
                    State::Done => {}
                }
            } else {
                state[v] = State::Done;
                path.pop();
                followed.pop();
            }
        }
    }
}

/// Layer of each node: the longest path to it from a source, over the forward edges (Kahn).
fn longest_path_layers(n: usize, pairs: &[(usize, usize)], back: &[bool]) -> Vec<usize> {
    let mut indegree = vec![0usize; n];
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (&(a, b), &is_back) in pairs.iter().zip(back) {
        if !is_back {
            indegree[b] += 1;
            succ[a].push(b);
        }
    }
    let mut layer = vec![0usize; n];
    let mut ready: Vec<usize> = (0..n).filter(|&v| indegree[v] == 0).rev().collect();
    while let Some(v) = ready.pop() {
        for &w in &succ[v] {
            layer[w] = layer[w].max(layer[v] + 1);
            indegree[w] -= 1;
            if indegree[w] == 0 {
                ready.push(w);
            }
        }
    }
    layer
}

/// Row of each node within its layer: creation order first, then barycenter sweeps (left to
/// right over predecessors, right to left over successors), which keep most drawings tidy.
fn order_layers(
    n: usize,
    layers: usize,
    layer: &[usize],
    pairs: &[(usize, usize)],
    back: &[bool],
) -> Vec<usize> {
    let mut columns: Vec<Vec<usize>> = vec![Vec::new(); layers];
    for v in 0..n {
        columns[layer[v]].push(v);
    }
    let mut rank = vec![0usize; n];
    let set_ranks = |columns: &[Vec<usize>], rank: &mut [usize]| {
        for column in columns {
            for (r, &v) in column.iter().enumerate() {
                rank[v] = r;
            }
        }
    };
    set_ranks(&columns, &mut rank);
    let mut pred: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (&(a, b), &is_back) in pairs.iter().zip(back) {
        if !is_back && a != b {
            pred[b].push(a);
            succ[a].push(b);
        }
    }
    // A few sweeps suffice for the DAGs people write.
    for sweep in 0..4 {
        let (neighbours, range): (&[Vec<usize>], Box<dyn Iterator<Item = usize>>) =
            if sweep % 2 == 0 {
                (&pred, Box::new(1..layers))
            } else {
                (&succ, Box::new((0..layers.saturating_sub(1)).rev()))
            };
        for l in range {
            let mut keyed: Vec<(f64, usize)> = columns[l]
                .iter()
                .map(|&v| {
                    let ns = &neighbours[v];
                    let key = if ns.is_empty() {
                        rank[v] as f64
                    } else {
                        ns.iter().map(|&u| rank[u] as f64).sum::<f64>() / ns.len() as f64
                    };
                    (key, v)
                })
                .collect();
            // Stable: ties keep the current order.
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
            columns[l] = keyed.into_iter().map(|(_, v)| v).collect();
            for (r, &v) in columns[l].iter().enumerate() {
                rank[v] = r;
            }
        }
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(a: &str, b: &str) -> Edge {
        Edge { upstream: a.into(), downstream: b.into() }
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn node<'a>(g: &'a GraphLayout, id: &str) -> &'a LayoutNode {
        g.nodes.iter().find(|n| n.id == id).unwrap()
    }

    #[test]
    fn chain_and_diamond() {
        let g = layout(
            &names(&["extract", "left", "right", "load", "lonely"]),
            &[e("extract", "left"), e("extract", "right"), e("left", "load"), e("right", "load")],
        );
        assert_eq!(g.layers, 3);
        assert_eq!(g.max_rank, 2, "extract and lonely in layer 0, left and right in layer 1");
        assert_eq!(node(&g, "extract").layer, 0);
        assert_eq!(node(&g, "left").layer, 1);
        assert_eq!(node(&g, "right").layer, 1);
        assert_ne!(node(&g, "left").rank, node(&g, "right").rank);
        assert_eq!(node(&g, "load").layer, 2);
        assert_eq!(node(&g, "lonely").layer, 0);
        assert!(g.edges.iter().all(|e| !e.cycle && !e.back));
        assert!(g.nodes.iter().all(|n| !n.in_cycle));
    }

    #[test]
    fn longest_path_decides_the_layer() {
        let g = layout(&names(&["a", "b", "c"]), &[e("a", "b"), e("b", "c"), e("a", "c")]);
        assert_eq!(node(&g, "c").layer, 2);
    }

    #[test]
    fn cycle_edges_are_marked() {
        let g = layout(
            &names(&["start", "a", "b", "c", "end"]),
            &[e("start", "a"), e("a", "b"), e("b", "c"), e("c", "a"), e("c", "end")],
        );
        let cycle: Vec<(String, String)> = g
            .edges
            .iter()
            .filter(|e| e.cycle)
            .map(|e| (g.nodes[e.from].id.clone(), g.nodes[e.to].id.clone()))
            .collect();
        assert_eq!(
            cycle,
            [("a".into(), "b".into()), ("b".into(), "c".into()), ("c".into(), "a".into())]
        );
        assert_eq!(g.edges.iter().filter(|e| e.back).count(), 1);
        assert!(node(&g, "b").in_cycle && !node(&g, "start").in_cycle);
        assert!(!node(&g, "end").in_cycle);
        // The back edge is ignored for layering, so the cycle lays out as a chain.
        assert_eq!(node(&g, "a").layer, 1);
        assert_eq!(node(&g, "c").layer, 3);
        assert_eq!(node(&g, "end").layer, 4);
    }

    #[test]
    fn self_loop_duplicates_and_unknown_endpoints() {
        let g = layout(&names(&["a", "a"]), &[e("a", "a"), e("a", "ghost"), e("a", "ghost")]);
        assert_eq!(g.nodes.len(), 2);
        assert_eq!(g.edges.len(), 2);
        assert!(g.edges[0].cycle && g.edges[0].back);
        assert!(!g.edges[1].cycle);
        assert_eq!(node(&g, "ghost").layer, 1);
    }

    #[test]
    fn empty_graph() {
        assert_eq!(layout(&[], &[]), GraphLayout::default());
    }

    #[test]
    fn long_chains_do_not_recurse() {
        let ids: Vec<String> = (0..20_000).map(|i| format!("t{i}")).collect();
        let mut edges: Vec<Edge> = ids.windows(2).map(|w| e(&w[0], &w[1])).collect();
        edges.push(e("t19999", "t0"));
        let g = layout(&ids, &edges);
        assert_eq!(g.layers, 20_000);
        assert!(g.edges.iter().all(|e| e.cycle));
    }

    #[test]
    fn barycenters_untangle_crossings() {
        // Creation order crosses: a->y, b->x. Sweeps put x beside b and y beside a.
        let g = layout(&names(&["a", "b", "x", "y"]), &[e("a", "y"), e("b", "x")]);
        assert_eq!(node(&g, "y").rank, node(&g, "a").rank);
        assert_eq!(node(&g, "x").rank, node(&g, "b").rank);
    }
}
