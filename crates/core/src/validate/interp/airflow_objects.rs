//! DAGs, task groups and tasks: created from calls and decorated functions, added to the model.

use super::*;
use crate::catalog::Target;
use crate::validate::memo::Memo;

/// A task to add to the model ([`Interp::add_task`]); what is not given comes from the
/// enclosing `with` blocks and the DAG.
pub(in crate::validate) struct NewTask<'a, 'o> {
    pub id: Value<'a>,
    /// Where the id is written: findings about it go there.
    pub range: TextRange,
    /// The operator's class (dotted path or bare name), or the TaskFlow function's name.
    pub operator: &'o str,
    /// A TaskFlow task: repeated ids are renamed (`extract__1`).
    pub taskflow: bool,
    /// `(dag, task_group)` given to the operator (`dag=`, `task_group=`, or those of the
    /// `.partial()` it expands), instead of the enclosing blocks'.
    pub explicit: Option<(Option<DagIdx>, Option<GroupIdx>)>,
    /// The task has its own `start_date` (or may have one in `**kwargs`).
    pub has_start_date: bool,
}

/// For a hook class `module.class`, whether creating it fetches its connection; `None` for
/// anything else. Asked of every call of an Airflow class that is not an operator or DAG
/// structure: remembered per catalog target, as following the class's bases is most of such
/// a call's cost.
fn hook_fetches_connection(version: AirflowVersion, module: &str, class: &str) -> Option<bool> {
    static HOOKS: Memo<(Target, String, String), Option<bool>> = Memo::new(4096);
    let cat = crate::catalog::catalog();
    let target = cat.target_for(version);
    HOOKS.get_or_compute((target, module.to_string(), class.to_string()), || {
        (cat.class_kind(target, module, class) == Some(crate::catalog::ClassKind::Hook)).then(
            || cat.operator_params(target, module, class).is_some_and(|p| p.fetches_connection),
        )
    })
}

/// A task group to add to the model ([`Interp::add_group`]).
pub(in crate::validate) struct NewGroup<'a> {
    pub id: Value<'a>,
    /// Where the id is written: findings about it go there.
    pub range: TextRange,
    /// `prefix_group_id`: the group's id prefixes its children's.
    pub prefix: bool,
    /// Repeats are renamed (`add_suffix_on_collision`, decorated groups).
    pub renames: bool,
    /// `dag=` / `parent_group=`; otherwise the enclosing `with` blocks decide.
    pub explicit_dag: Option<DagIdx>,
    pub explicit_parent: Option<GroupIdx>,
}

impl<'a> Interp<'a> {
    pub(in crate::validate) fn create_dag_from_call(
        &mut self,
        call: &'a ast::ExprCall,
        args: &[Value<'a>],
        kwargs: &[Kwarg<'a>],
        check_kwargs: bool,
    ) -> Value<'a> {
        if check_kwargs {
            self.check_dag_kwargs(call);
        }
        let id = kwarg(kwargs, "dag_id").cloned().or_else(|| args.first().cloned());
        let id_range = keyword(call, "dag_id")
            .or_else(|| call.arguments.args.first())
            .map_or(call.range(), |e| e.range());
        let has_unpacking = call.arguments.keywords.iter().any(|k| k.arg.is_none())
            || call.arguments.args.iter().any(|a| matches!(a, Expr::Starred(_)));
        let id = match id {
            Some(v) => v,
            None if has_unpacking => Value::Unknown,
            None => {
                self.report(
                    &rules::NO_DAG,
                    call.range(),
                    "DAG() called without a dag_id (TypeError while Airflow imports the file)"
                        .into(),
                    Some("pass `dag_id=\"...\"`".into()),
                );
                Value::Unknown
            }
        };
        let needs_task_start_date = check_kwargs && self.check_start_date(call);
        let d = self.add_dag(id, call.range(), id_range);
        self.model.dags[d].default_arg_keys = default_arg_keys(call, kwargs);
        self.model.dags[d].needs_task_start_date = needs_task_start_date;
        Value::Dag(d)
    }

    pub(in crate::validate) fn add_dag(
        &mut self,
        id: Value<'a>,
        range: TextRange,
        id_range: TextRange,
    ) -> DagIdx {
        self.spend(NODE_COST);
        let id = match id {
            Value::Str(s) => Some(s.into_owned()),
            _ => None,
        };
        if let Some(s) = &id {
            self.check_key(s, id_range, &rules::INVALID_DAG_ID, "dag_id", 250, true);
        }
        self.model.dags.push(DagNode {
            id,
            range,
            id_range,
            collected: false,
            certain: self.certain(),
            needs_task_start_date: false,
            default_arg_keys: Some(Vec::new()),
            class_path: None,
            opaque: false,
        });
        DagIdx(self.model.dags.len().saturating_sub(1))
    }

    pub(in crate::validate) fn create_group_from_call(
        &mut self,
        call: &'a ast::ExprCall,
        args: &[Value<'a>],
        kwargs: &[Kwarg<'a>],
    ) -> Value<'a> {
        self.check_task_group_kwargs(call);
        let id = kwarg(kwargs, "group_id")
            .cloned()
            .or_else(|| args.first().cloned())
            .unwrap_or(Value::Unknown);
        let prefix = !matches!(kwarg(kwargs, "prefix_group_id"), Some(Value::Bool(false)));
        let renames = matches!(kwarg(kwargs, "add_suffix_on_collision"), Some(Value::Bool(true)));
        let dag = match kwarg(kwargs, "dag") {
            Some(Value::Dag(d)) => Some(*d),
            _ => None,
        };
        let parent = match kwarg(kwargs, "parent_group") {
            Some(Value::Group(g)) => Some(*g),
            _ => None,
        };
        let id_range = keyword(call, "group_id")
            .or_else(|| call.arguments.args.first())
            .map_or(call.range(), |e| e.range());
        let g = self.add_group(NewGroup {
            id,
            range: id_range,
            prefix,
            renames,
            explicit_dag: dag,
            explicit_parent: parent,
        });
        if kwarg(kwargs, "default_args").is_some() {
            self.model.groups[g].has_default_args = true;
        }
        self.check_task_group_has_dag(call, g);
        Value::Group(g)
    }

    pub(in crate::validate) fn add_group(&mut self, new: NewGroup<'a>) -> GroupIdx {
        let NewGroup { id, range, prefix, renames, explicit_dag, explicit_parent } = new;
        self.spend(NODE_COST);
        let parent = explicit_parent.or_else(|| self.group_stack.last().copied());
        let dag = explicit_dag
            .or_else(|| parent.and_then(|p| self.model.groups[p].dag))
            .or_else(|| self.dag_stack.last().copied());
        let raw = match id {
            Value::Str(s) => Some(s.into_owned()),
            Value::None => None,
            _ => None,
        };
        // Airflow 2 validates the group key only when it becomes a prefix; 3.x always does.
        if let Some(s) = &raw
            && (prefix || self.version.is_v3())
        {
            self.check_key(s, range, &rules::INVALID_GROUP_ID, "group_id", 200, false);
        }
        let mut full = self.prefixed_id(raw, parent);
        if renames
            && let Some(id) = &full
            && let Some(renamed) = self.unique_id(id, dag)
        {
            full = Some(renamed);
        }
        if let Some(id) = &full {
            self.take_id(dag, id);
        }
        self.model.groups.push(GroupNode {
            id: full,
            range,
            dag,
            parent,
            prefix_group_id: prefix,
            certain: self.certain(),
            renames_on_collision: renames,
            has_default_args: parent.is_some_and(|p| self.model.groups[p].has_default_args),
            class_path: None,
        });
        GroupIdx(self.model.groups.len().saturating_sub(1))
    }

    /// `operator` is the class's dotted import path when known (`airflow.providers...X`),
    /// else its bare name.
    pub(in crate::validate) fn create_operator(
        &mut self,
        operator: &str,
        call: &'a ast::ExprCall,
        kwargs: &[Kwarg<'a>],
        partial_context: Option<(Option<DagIdx>, Option<GroupIdx>)>,
    ) -> Value<'a> {
        let qualified = operator;
        let operator = crate::dotted::last(qualified);
        let id = kwarg(kwargs, "task_id").cloned();
        let has_unpacking = kwargs.iter().any(|(k, _)| k.is_none())
            || call.arguments.args.iter().any(|a| matches!(a, Expr::Starred(_)));
        if id.is_none()
            && !has_unpacking
            && call.arguments.args.is_empty()
            && partial_context.is_none()
        {
            self.report(
                &rules::MISSING_TASK_ID,
                call.range(),
                format!(
                    "{operator}() is missing its task_id (error while Airflow imports the file)"
                ),
                Some("pass `task_id=\"...\"`".into()),
            );
        }
        let explicit_dag = match kwarg(kwargs, "dag") {
            Some(Value::Dag(d)) => Some(*d),
            _ => None,
        };
        // `dag=` or `task_group=` we cannot follow, or `**kwargs`, may attach it to a DAG.
        let dag_unknown = (kwarg(kwargs, "dag").is_some() && explicit_dag.is_none())
            || matches!(kwarg(kwargs, "task_group"), Some(v) if !matches!(v, Value::Group(_)))
            || has_unpacking;
        let explicit_group = match kwarg(kwargs, "task_group") {
            Some(Value::Group(g)) => Some(*g),
            _ => None,
        };
        let context = partial_context.map(|(d, g)| (explicit_dag.or(d), explicit_group.or(g)));
        let id_value = id.unwrap_or(Value::Unknown);
        let id_range = keyword(call, "task_id").map_or(call.range(), |e| e.range());
        let has_start_date = kwarg(kwargs, "start_date").is_some() || has_unpacking;
        let t = self.add_task(NewTask {
            id: id_value,
            range: id_range,
            operator,
            taskflow: false,
            explicit: Some(context.unwrap_or((explicit_dag, explicit_group))),
            has_start_date,
        });
        self.model.tasks[t].dag_unknown = dag_unknown;
        if operator == "SubDagOperator" && qualified.starts_with("airflow.") {
            self.attach_subdag(t, kwarg(kwargs, "subdag").cloned());
        }
        // A mapped operator (`.partial().expand()`) is a MappedOperator, not an instance.
        if qualified.starts_with("airflow.") && partial_context.is_none() {
            self.model.tasks[t].class_path = Some(qualified.to_string());
        }
        // Both checks read the operator's signature: looked up once.
        if qualified.starts_with("airflow.")
            && let Some((class, params)) = self.operator_params_of(qualified)
        {
            if !has_unpacking {
                self.check_operator_arguments((class, &params), call, kwargs, t);
            }
            self.check_argument_values((class, &params), call, kwargs);
        }
        self.add_xcom_edges(kwargs.iter().map(|(_, v)| v), t, call.range());
        Value::Task(t)
    }

    /// Calls of Airflow names that are neither DAG structure nor operators: `Variable.get`,
    /// `BaseHook.get_connection`, and hook constructors.
    pub(in crate::validate) fn call_other_airflow(
        &mut self,
        qualified: &str,
        call: &'a ast::ExprCall,
        args: &[Value<'a>],
        kwargs: &[Kwarg<'a>],
    ) -> Value<'a> {
        if !qualified.starts_with("airflow.") {
            return path_function(qualified, args);
        }
        if qualified.ends_with(".Variable.get") {
            let has_default = args.len() > 1
                || kwarg(kwargs, "default_var").is_some()
                || kwarg(kwargs, "default").is_some()
                || kwargs.iter().any(|(k, _)| k.is_none());
            if !has_default {
                let key = match args.first() {
                    Some(Value::Str(k)) => format!(" '{k}'"),
                    _ => String::new(),
                };
                self.report_environment(
                    call.range(),
                    format!("Variable.get({}) runs while the file is parsed: the import fails (KeyError) where the variable{key} is not defined", if key.is_empty() { "..." } else { key.trim() }),
                );
            }
            return Value::Unknown;
        }
        if qualified.ends_with(".get_connection")
            || qualified.ends_with(".get_connection_from_secrets")
        {
            self.report_environment(
                call.range(),
                "the connection is fetched while the file is parsed: the import fails (AirflowNotFoundException) where it is not defined".into(),
            );
            return Value::Unknown;
        }
        let Some((module, class)) = crate::dotted::split_last(qualified) else {
            return Value::Unknown;
        };
        if !class.starts_with(|c: char| c.is_ascii_uppercase()) {
            return Value::Unknown;
        }
        let Some(fetches_connection) = hook_fetches_connection(self.version, module, class) else {
            return Value::Unknown;
        };
        if fetches_connection {
            self.report_environment(
                call.range(),
                format!("{class}() fetches its connection when it is created, here while the file is parsed: the import fails where that connection is not defined"),
            );
        }
        Value::Hook(qualified.to_string())
    }

    /// An AttributeError is certain unless the code may not run or catches it.
    pub(in crate::validate) fn attribute_error_severity(&self) -> Severity {
        if self.certain() && !self.guarded(|g| g.attribute_error) {
            Severity::Error
        } else {
            Severity::Warning
        }
    }

    /// The Airflow class a value is certainly an instance of, as a dotted import path.
    pub(in crate::validate) fn class_of(&self, value: &Value<'a>) -> Option<String> {
        match value {
            Value::Dag(d) => self.model.dags[*d].class_path.clone(),
            Value::Task(t) => self.model.tasks[*t].class_path.clone(),
            Value::Group(g) => self.model.groups[*g].class_path.clone(),
            Value::XCom(_) => Some(airflow::xcom_arg_class(self.version).to_string()),
            Value::Hook(class) => Some(class.clone()),
            _ => None,
        }
    }

    /// Airflow 2's DagBag also collects the DAG of every SubDagOperator, whose id must be
    /// `<parent dag_id>.<task_id>`. A subdag built by code we cannot see (a factory imported
    /// from another module) is recorded by that id, with unknown tasks.
    pub(in crate::validate) fn attach_subdag(&mut self, task: TaskIdx, subdag: Option<Value<'a>>) {
        match subdag {
            Some(Value::Dag(d)) => self.model.dags[d].collected = true,
            Some(Value::Unknown) => {
                let node = &self.model.tasks[task];
                let parent = node.dag.and_then(|d| self.model.dags[d].id.clone());
                if let (Some(parent), Some(task_id)) = (parent, node.id.clone()) {
                    let range = node.range;
                    let d = self.add_dag(
                        Value::Str(format!("{parent}.{task_id}").into()),
                        range,
                        range,
                    );
                    self.model.dags[d].collected = true;
                    self.model.dags[d].opaque = true;
                }
            }
            _ => {}
        }
    }

    pub(in crate::validate) fn add_task(&mut self, new: NewTask<'a, '_>) -> TaskIdx {
        let NewTask { id, range, operator, taskflow, explicit, has_start_date } = new;
        self.spend(NODE_COST);
        let (explicit_dag, explicit_group) = explicit.unwrap_or((None, None));
        let group = explicit_group.or_else(|| self.group_stack.last().copied());
        let dag = explicit_dag
            .or_else(|| group.and_then(|g| self.model.groups[g].dag))
            .or_else(|| self.dag_stack.last().copied());
        let raw = match id {
            Value::Str(s) => Some(s.into_owned()),
            _ => None,
        };
        if let Some(s) = &raw {
            self.check_key(s, range, &rules::INVALID_TASK_ID, "task_id", 250, true);
        }
        if let Some(d) = dag
            && !has_start_date
        {
            self.check_task_start_date(d, range);
        }
        let mut full = self.prefixed_id(raw, group);
        let in_unknown_loop = self.unknown_loops > 0;
        // TaskFlow renames repeats: `extract`, `extract__1`, ...
        if taskflow
            && let Some(id) = &full
            && let Some(renamed) = self.unique_id(id, dag)
        {
            full = Some(renamed);
        }
        if in_unknown_loop && taskflow {
            full = None;
        }
        if let Some(id) = &full {
            self.take_id(dag, id);
        }
        self.model.tasks.push(TaskNode {
            id: full,
            range,
            dag,
            group,
            certain: self.certain(),
            looped: self.unknown_loops > 0,
            dag_unknown: false,
            in_condition: self.uncertain > 0,
            taskflow,
            operator: operator.to_string(),
            class_path: None,
            role: None,
        });
        TaskIdx(self.model.tasks.len().saturating_sub(1))
    }

    /// The full id of a task or group named `raw` inside `group`: prefixed with the group's id
    /// when the group has `prefix_group_id`; unknown when that prefix is.
    pub(in crate::validate) fn prefixed_id(
        &self,
        raw: Option<String>,
        group: Option<GroupIdx>,
    ) -> Option<String> {
        match (raw, group) {
            (Some(s), Some(g)) => {
                let node = &self.model.groups[g];
                match (&node.id, node.prefix_group_id) {
                    (Some(gid), true) => Some(format!("{gid}.{s}")),
                    (None, true) => None,
                    (_, false) => Some(s),
                }
            }
            (s, None) => s,
            (None, Some(_)) => None,
        }
    }

    fn id_taken(&self, dag: Option<DagIdx>, id: &str) -> bool {
        self.taken_ids.get(&dag).is_some_and(|ids| ids.contains(id))
    }

    fn take_id(&mut self, dag: Option<DagIdx>, id: &str) {
        // Sized for a DAG's tasks and groups: growing from nothing rehashes several times.
        let ids = self
            .taken_ids
            .entry(dag)
            .or_insert_with(|| HashSet::with_capacity_and_hasher(32, Default::default()));
        if !ids.contains(id) {
            ids.insert(id.to_string());
        }
    }

    /// Airflow's renaming of repeated TaskFlow tasks and decorated groups: `x`, `x__1`, ...;
    /// `None` when `id` is not taken yet (it stays as it is).
    pub(in crate::validate) fn unique_id(
        &mut self,
        id: &str,
        dag: Option<DagIdx>,
    ) -> Option<String> {
        if !self.id_taken(dag, id) {
            return None;
        }
        let core = strip_suffix_number(id).to_string();
        // Start after the last suffix handed out for this core: repeats stay linear.
        let mut n = self.next_suffix.get(&(dag, core.clone())).copied().unwrap_or(1);
        loop {
            let candidate = format!("{core}__{n}");
            if !self.id_taken(dag, &candidate) {
                self.next_suffix.insert((dag, core), n.saturating_add(1));
                return Some(candidate);
            }
            // Ends: only finitely many ids are taken.
            n = n.saturating_add(1);
        }
    }

    /// Airflow's `SetupTeardownContext`: the work tasks made in the `with` block that have no
    /// upstream come after the setup task(s), those without downstream before the teardown.
    pub(in crate::validate) fn wrap_in_setup_teardown(
        &mut self,
        context: TaskIdx,
        first_task: usize,
        range: TextRange,
    ) {
        let (setups, teardown) = match self.model.tasks[context].role {
            Some(TaskRole::Teardown) => {
                let setups: Vec<TaskIdx> = self
                    .model
                    .edges
                    .iter()
                    .filter_map(|e| match (e.upstream, e.downstream) {
                        (Endpoint::Task(u), Endpoint::Task(d))
                            if d == context
                                && self.model.tasks[u].role == Some(TaskRole::Setup) =>
                        {
                            Some(u)
                        }
                        _ => None,
                    })
                    .collect();
                (setups, Some(context))
            }
            Some(TaskRole::Setup) => (vec![context], None),
            None => return,
        };
        let work: Vec<TaskIdx> = (first_task..self.model.tasks.len())
            .map(TaskIdx)
            .filter(|&t| t != context && self.model.tasks[t].role.is_none())
            .collect();
        if work.is_empty() {
            return;
        }
        let edges = crate::validate::dag_checks::task_edges(&self.model);
        let has_upstream = |t: TaskIdx| edges.iter().any(|&(_, d, _, _)| d == t);
        let has_downstream = |t: TaskIdx| edges.iter().any(|&(u, _, _, _)| u == t);
        let mut roots: Vec<TaskIdx> = work.iter().copied().filter(|&t| !has_upstream(t)).collect();
        if roots.is_empty() {
            roots.push(work[0]);
        }
        let mut leaves: Vec<TaskIdx> =
            work.iter().copied().filter(|&t| !has_downstream(t)).collect();
        if leaves.is_empty() {
            leaves.extend(work.last().copied());
        }
        let ups: Vec<Endpoint> = setups.into_iter().map(Endpoint::Task).collect();
        self.add_edges(ups, roots.into_iter().map(Endpoint::Task).collect(), range);
        if let Some(td) = teardown {
            self.add_edges(
                leaves.into_iter().map(Endpoint::Task).collect(),
                vec![Endpoint::Task(td)],
                range,
            );
        }
    }
}
