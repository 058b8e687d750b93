//! Rules over the finished DAG model: duplicates, cycles, DAG-less tasks, DAGs Airflow will
//! not collect, and files without any DAG.

use ruff_text_size::TextRange;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::model::*;
use crate::finding::Severity;
use crate::report::{DagSummary, Edge};
use crate::rules;
use crate::source::LineIndex;

/// `edges`: the model's `task_edges`.
pub(super) fn check(
    model: &DagModel,
    edges: &[TaskEdge],
    opaque_module_values: bool,
    out: &mut Vec<RawFinding>,
) {
    duplicate_ids(model, out);
    cycles(model, edges, out);
    dags_and_orphans(model, opaque_module_values, out);
}

fn push(
    out: &mut Vec<RawFinding>,
    rule: &'static rules::Rule,
    severity: Severity,
    range: TextRange,
    message: String,
    fix: Option<String>,
) {
    out.push(RawFinding { rule, severity, range, message, fix: fix.into() });
}

/// Replays task and group creation in order, per DAG, as Airflow's `add_task` and
/// `TaskGroup.__init__` do.
fn duplicate_ids(model: &DagModel, out: &mut Vec<RawFinding>) {
    /// A task or a task group, as far as ids go.
    struct Created<'m> {
        range: TextRange,
        dag: Option<DagIdx>,
        id: Option<&'m str>,
        certain: bool,
        /// TaskFlow tasks and decorated groups are renamed on collision instead of failing.
        renamed: bool,
        /// Made in an unknown loop with an id that does not change between iterations.
        constant_in_loop: bool,
        what: &'static str,
        hint: &'static str,
    }
    let tasks = model.tasks.iter().map(|t| Created {
        range: t.range,
        dag: t.dag,
        id: t.id.as_deref(),
        certain: t.certain,
        renamed: t.taskflow,
        constant_in_loop: t.looped && !t.in_condition && !t.taskflow,
        what: "task id",
        hint: "give every task a unique task_id",
    });
    let groups = model.groups.iter().map(|g| Created {
        range: g.range,
        dag: g.dag,
        id: g.id.as_deref(),
        certain: g.certain,
        renamed: g.renames_on_collision,
        constant_in_loop: false,
        what: "group_id",
        hint: "give every task group a unique group_id",
    });
    let mut items: Vec<Created> = tasks.chain(groups).collect();
    // Creation order equals source order except for calls into helpers defined earlier,
    // which the stable sort keeps in call order within the same range.
    items.sort_by_key(|c| c.range.start());
    let mut seen: HashMap<(DagIdx, &str), bool> = HashMap::default();
    for c in items {
        let (Some(dag), Some(id)) = (c.dag, c.id) else { continue };
        if let Some(&earlier_certain) = seen.get(&(dag, id)) {
            if !c.renamed && c.certain && earlier_certain {
                push(
                    out,
                    &rules::DUPLICATE_TASK_ID,
                    Severity::Error,
                    c.range,
                    format!(
                        "{} '{id}' has already been added to the DAG (DuplicateTaskIdFound while Airflow imports the file)",
                        c.what
                    ),
                    Some(c.hint.into()),
                );
            }
        } else {
            seen.insert((dag, id), c.certain);
        }
        if c.constant_in_loop {
            push(
                out,
                &rules::DUPLICATE_TASK_ID,
                Severity::Warning,
                c.range,
                format!(
                    "task id '{id}' is created inside a loop but does not change between iterations: a second iteration raises DuplicateTaskIdFound"
                ),
                Some("build the task_id from the loop variable, e.g. f\"load_{item}\"".into()),
            );
        }
    }
}

/// Task-level edges beyond this many are not derived (nor reported, nor searched for cycles):
/// two groups of hundreds of tasks linked (`g1 >> g2` is every leaf times every root) would
/// otherwise take most of a file's time budget. Real DAG files stay far below it.
const MAX_TASK_EDGES: usize = 20_000;

/// How far up a task's group nesting is followed (task groups made in a loop with
/// `parent_group=` can chain without end).
const MAX_GROUP_DEPTH: usize = 1000;

/// The tasks of every group that is an edge's endpoint, for expanding group edges to tasks.
struct GroupMembers {
    /// Endpoint group → its tasks (nested groups' included), ascending.
    members: HashMap<GroupIdx, Vec<TaskIdx>>,
    /// Task → the endpoint groups it belongs to, ascending.
    containing: HashMap<TaskIdx, Vec<GroupIdx>>,
}

impl GroupMembers {
    fn new(model: &DagModel) -> Self {
        let endpoints: HashSet<GroupIdx> = model
            .edges
            .iter()
            .flat_map(|e| [e.upstream, e.downstream])
            .filter_map(|e| match e {
                Endpoint::Group(g) => Some(g),
                Endpoint::Task(_) => None,
            })
            .collect();
        let mut members: HashMap<GroupIdx, Vec<TaskIdx>> = HashMap::default();
        let mut containing: HashMap<TaskIdx, Vec<GroupIdx>> = HashMap::default();
        if endpoints.is_empty() {
            return GroupMembers { members, containing };
        }
        for (t, task) in model.tasks.iter().enumerate() {
            let t = TaskIdx(t);
            let mut group = task.group;
            let mut depth = 0usize;
            while let Some(g) = group {
                if endpoints.contains(&g) {
                    members.entry(g).or_default().push(t);
                    containing.entry(t).or_default().push(g);
                }
                group = model.groups[g].parent;
                depth = depth.saturating_add(1);
                if depth > MAX_GROUP_DEPTH {
                    break;
                }
            }
        }
        for groups in containing.values_mut() {
            groups.sort_unstable();
        }
        GroupMembers { members, containing }
    }

    /// Records a task edge in `inner` for every endpoint group that holds both of its ends.
    fn note_edge(&self, inner: &mut InnerEdges, u: TaskIdx, d: TaskIdx) {
        if self.members.is_empty() {
            return;
        }
        let none: &[GroupIdx] = &[];
        let gu = self.containing.get(&u).map_or(none, Vec::as_slice);
        let gd = self.containing.get(&d).map_or(none, Vec::as_slice);
        // Groups holding both ends: a merge of two ascending lists.
        let (mut i, mut j) = (0, 0);
        while let (Some(&a), Some(&b)) = (gu.get(i), gd.get(j)) {
            if a == b {
                inner.has_down.insert((a, u));
                inner.has_up.insert((a, d));
            }
            if a <= b {
                i = i.saturating_add(1);
            }
            if b <= a {
                j = j.saturating_add(1);
            }
        }
    }
}

/// (group, task) pairs: the task has an edge to (`has_down`: not a leaf of the group) or from
/// (`has_up`: not a root) another task of the group.
#[derive(Default)]
struct InnerEdges {
    has_down: HashSet<(GroupIdx, TaskIdx)>,
    has_up: HashSet<(GroupIdx, TaskIdx)>,
}

/// Expands an endpoint to tasks into `out` (cleared first): a group as upstream means its
/// leaves, as downstream its roots.
fn expand(
    groups: &GroupMembers,
    e: Endpoint,
    as_upstream: bool,
    inner: &InnerEdges,
    out: &mut Vec<TaskIdx>,
) {
    out.clear();
    match e {
        Endpoint::Task(t) => out.push(t),
        Endpoint::Group(g) => {
            let inner = if as_upstream { &inner.has_down } else { &inner.has_up };
            out.extend(
                groups
                    .members
                    .get(&g)
                    .map_or(&[][..], Vec::as_slice)
                    .iter()
                    .copied()
                    .filter(|m| !inner.contains(&(g, *m))),
            );
        }
    }
}

/// An edge between two tasks: (upstream, downstream, source range, certain).
pub(super) type TaskEdge = (TaskIdx, TaskIdx, TextRange, bool);

/// Task-level edges with their source ranges and certainty.
pub(super) fn task_edges(model: &DagModel) -> Vec<TaskEdge> {
    let groups = GroupMembers::new(model);
    // The same link made again (in a loop) expands to the same task edges.
    let key = |e: Endpoint| match e {
        Endpoint::Task(t) => (false, t.0),
        Endpoint::Group(g) => (true, g.0),
    };
    let mut unique = HashSet::default();
    let edges: Vec<&EdgeNode> = model
        .edges
        .iter()
        .filter(|e| unique.insert((key(e.upstream), key(e.downstream), e.range, e.certain)))
        .collect();
    // As in Airflow, `group >> x` links the group's leaves (`x >> group` its roots) as they
    // are when that statement runs: from the edges made before it, not after (so
    // `group >> task_in_group` links that task to itself, a cycle Airflow reports).
    let mut inner = InnerEdges::default();
    let mut out: Vec<TaskEdge> = Vec::with_capacity(edges.len());
    // Reused for every edge: most endpoints are one task.
    let (mut ups, mut downs) = (Vec::new(), Vec::new());
    'edges: for e in &edges {
        let first = out.len();
        expand(&groups, e.downstream, false, &inner, &mut downs);
        expand(&groups, e.upstream, true, &inner, &mut ups);
        for &u in &ups {
            for &d in &downs {
                if out.len() >= MAX_TASK_EDGES {
                    break 'edges;
                }
                out.push((u, d, e.range, e.certain));
            }
        }
        for &(u, d, _, _) in &out[first..] {
            groups.note_edge(&mut inner, u, d);
        }
    }
    out
}

fn cycles(model: &DagModel, edges: &[TaskEdge], out: &mut Vec<RawFinding>) {
    // Each task's edges, by their place in `edges`, in order.
    let mut out_adj: Vec<Vec<usize>> = vec![Vec::new(); model.tasks.len()];
    for (k, &(u, ..)) in edges.iter().enumerate() {
        if let Some(list) = out_adj.get_mut(u.0) {
            list.push(k);
        }
    }
    // Each back edge of the search closes one cycle.
    let mut reported: HashSet<Vec<usize>> = HashSet::default();
    let target = |k: usize| edges[k].1.0;
    crate::graph::for_each_back_edge(model.tasks.len(), &out_adj, target, |path, k| {
        let (_, next, range, certain) = edges[k];
        let next = next.0;
        let from = path.iter().position(|&n| n == next).unwrap_or(0);
        let mut cycle: Vec<usize> = path[from..].to_vec();
        let mut key = cycle.clone();
        key.sort_unstable();
        if !reported.insert(key) {
            return;
        }
        cycle.push(next);
        let names: Vec<String> = cycle
            .iter()
            .map(|&t| {
                model.tasks[t]
                    .id
                    .clone()
                    .unwrap_or_else(|| format!("<{}>", model.tasks[t].operator))
            })
            .collect();
        let all_certain = certain && cycle.iter().all(|&t| model.tasks[t].certain);
        let severity = if all_certain { Severity::Error } else { Severity::Warning };
        push(
            out,
            &rules::CYCLE,
            severity,
            range,
            format!(
                "dependency cycle: {} (AirflowDagCycleException while Airflow imports the file)",
                names.join(" >> ")
            ),
            Some("remove one of these dependencies".into()),
        );
    });
}

fn dags_and_orphans(model: &DagModel, opaque_module_values: bool, out: &mut Vec<RawFinding>) {
    let mut ids: HashMap<&str, TextRange> = HashMap::default();
    for dag in &model.dags {
        if !dag.collected && dag.certain {
            push(out, &rules::DAG_NOT_COLLECTED, Severity::Warning, dag.range,
                "this DAG is neither a module-level variable nor used in a `with` block: Airflow will not find it".into(),
                Some("assign it to a module-level variable or use `with DAG(...) as dag:`".into()));
        }
        if dag.collected
            && let Some(id) = dag.id.as_deref()
            && ids.insert(id, dag.range).is_some()
        {
            push(
                out,
                &rules::DUPLICATE_DAG_ID,
                Severity::Warning,
                dag.id_range,
                format!(
                    "dag_id '{id}' is used by another DAG in this file: Airflow keeps only one of them"
                ),
                None,
            );
        }
    }
    for task in &model.tasks {
        if task.dag.is_none() && task.certain && !task.taskflow && !task.dag_unknown {
            push(
                out,
                &rules::TASK_WITHOUT_DAG,
                Severity::Warning,
                task.range,
                format!(
                    "{} is created outside any DAG and never linked to a task that has one: Airflow ignores it",
                    task.id
                        .as_deref()
                        .map_or_else(|| task.operator.clone(), |id| format!("task '{id}'"))
                ),
                Some(
                    "create it inside `with DAG(...)`, inside a `@dag` function, or pass `dag=`"
                        .into(),
                ),
            );
        }
    }
    let has_dag = model.dags.iter().any(|d| d.collected) || model.dynamic_dags;
    if has_dag {
        return;
    }
    // A DAG could come from a factory we cannot see into: then absence is only likely.
    let severity = if opaque_module_values { Severity::Warning } else { Severity::Error };
    if let Some((name, range)) = model.uncalled_dag_functions.first() {
        push(
            out,
            &rules::NO_DAG,
            severity,
            *range,
            format!(
                "no DAG: the @dag function '{name}' is never called, so Airflow finds no DAG in this file"
            ),
            Some(format!("call it at module level: `{name}()`")),
        );
    } else if model.dags.is_empty() {
        push(
            out,
            &rules::NO_DAG,
            severity,
            TextRange::default(),
            "no DAG: this file creates no DAG object, so Airflow finds no DAG in it".into(),
            Some(
                "create one with `with DAG(dag_id=..., ...) as dag:` or a called `@dag` function"
                    .into(),
            ),
        );
    } else {
        push(out, &rules::NO_DAG, severity, model.dags[0].range,
            "no DAG: the DAGs this file creates are not reachable from module level, so Airflow finds none".into(),
            Some("assign the DAG to a module-level variable or use `with DAG(...) as dag:`".into()));
    }
}

/// The report's view of each DAG Airflow would collect (uncertain ones included).
pub(super) fn summaries(
    model: &DagModel,
    edges: &[TaskEdge],
    lines: &LineIndex,
) -> Vec<DagSummary> {
    // Tasks and edges by DAG in one pass each, in model order: files with thousands of tasks
    // and DAGs made in loops stay linear.
    let mut tasks_of: HashMap<DagIdx, Vec<&TaskNode>> = HashMap::default();
    for t in &model.tasks {
        if let Some(d) = t.dag {
            tasks_of.entry(d).or_default().push(t);
        }
    }
    let mut edges_of: HashMap<DagIdx, Vec<(&str, &str)>> = HashMap::default();
    for &(u, dn, _, _) in edges {
        let (tu, td) = (&model.tasks[u], &model.tasks[dn]);
        if let (Some(d), true, Some(a), Some(b)) = (tu.dag, tu.dag == td.dag, &tu.id, &td.id)
            && u != dn
        {
            edges_of.entry(d).or_default().push((a, b));
        }
    }
    model
        .dags
        .iter()
        .enumerate()
        .filter(|(_, d)| d.collected)
        .map(|(i, d)| {
            let mut tasks = Vec::new();
            let mut seen: HashSet<&str> = HashSet::default();
            // A DAG built by code we cannot see has tasks we cannot name.
            let mut dynamic = u32::from(d.opaque);
            for t in tasks_of.get(&DagIdx(i)).map_or(&[][..], Vec::as_slice) {
                match &t.id {
                    Some(id) => {
                        if seen.insert(id) {
                            tasks.push(id.clone());
                        }
                    }
                    _ => dynamic = dynamic.saturating_add(1),
                }
            }
            let mut dag_edges: Vec<Edge> = Vec::new();
            let mut seen: HashSet<(&str, &str)> = HashSet::default();
            for &(a, b) in edges_of.get(&DagIdx(i)).map_or(&[][..], Vec::as_slice) {
                if seen.insert((a, b)) {
                    dag_edges.push(Edge { upstream: a.to_string(), downstream: b.to_string() });
                }
            }
            DagSummary {
                dag_id: d.id.clone(),
                line: lines.position(d.range.start()).line,
                tasks,
                edges: dag_edges,
                dynamic_tasks: dynamic,
            }
        })
        .collect()
}
