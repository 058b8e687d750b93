//! The DAG model built by the interpreter: DAGs, tasks, task groups and edges, plus the
//! abstract values the interpreter computes with.

use ruff_python_ast as ast;
use ruff_text_size::TextRange;

use crate::finding::Severity;
use crate::hint::Hint;
use crate::rules::Rule;

/// Indices into [`DagModel`]'s lists, one type each so that a task's index is never taken for a
/// DAG's. The lists index by them directly (`model.dags[d]`).
macro_rules! index_type {
    ($($name:ident => $node:ident, $doc:literal;)*) => {$(
        #[doc = $doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub(super) struct $name(pub usize);

        impl std::ops::Index<$name> for Vec<$node> {
            type Output = $node;
            fn index(&self, i: $name) -> &$node {
                &self[i.0]
            }
        }

        impl std::ops::IndexMut<$name> for Vec<$node> {
            fn index_mut(&mut self, i: $name) -> &mut $node {
                &mut self[i.0]
            }
        }
    )*};
}

index_type! {
    DagIdx => DagNode, "A DAG: its place in `DagModel::dags`.";
    TaskIdx => TaskNode, "A task: its place in `DagModel::tasks`.";
    GroupIdx => GroupNode, "A task group: its place in `DagModel::groups`.";
}

/// A finding before positions are computed.
pub(super) struct RawFinding {
    pub rule: &'static Rule,
    pub severity: Severity,
    pub range: TextRange,
    pub message: String,
    pub fix: Hint,
}

/// A keyword argument as evaluated: its name (`None` for `**unknown`) and value.
pub(super) type Kwarg<'a> = (Option<std::borrow::Cow<'a, str>>, Value<'a>);

/// A value as far as the interpreter can know it. Anything it cannot follow is `Unknown`.
#[derive(Clone, Debug)]
pub(super) enum Value<'a> {
    Unknown,
    None,
    Bool(bool),
    Int(i64),
    /// Borrowed from the tree for a literal (evaluating or copying one allocates nothing).
    Str(std::borrow::Cow<'a, str>),
    /// A list or a tuple.
    List(Vec<Value<'a>>),
    /// A dict with string keys (other keys are dropped).
    Dict(Vec<(String, Value<'a>)>),
    /// Something imported, by dotted path (`airflow.operators.bash.BashOperator`).
    Imported(std::rc::Rc<str>),
    Function(Box<FunctionRef<'a>>),
    Class(&'a ast::StmtClassDef, ClassKind),
    Dag(DagIdx),
    /// An operator instance.
    Task(TaskIdx),
    /// An XComArg: the output of a TaskFlow call or `op.output`; passing it creates an edge.
    XCom(TaskIdx),
    Group(GroupIdx),
    /// `Operator.partial(...)`: waits for `.expand(...)`.
    OperatorPartial(Box<PendingOperator<'a>>),
    /// `Label("...")` between two tasks; remembers its upstream side.
    EdgeLabel(Vec<Endpoint>),
    /// A method looked up on a value, e.g. `t1.set_downstream`; its name is the tree's.
    Method(Box<Value<'a>>, &'a str),
    /// An instance of an Airflow hook, by the dotted import path of its class.
    Hook(String),
    /// `__file__` (or a path made from it): only the file's name is known, e.g. `etl.py`.
    FilePath(String),
}

/// A function object with what its decorators made of it.
#[derive(Clone, Debug)]
pub(super) struct FunctionRef<'a> {
    pub def: &'a ast::StmtFunctionDef,
    pub kind: FunctionKind<'a>,
    /// Default values of the parameters, evaluated when `def` ran, by parameter name.
    pub defaults: Vec<(String, Value<'a>)>,
    /// The frame the function was defined in (for closures).
    pub closure: Option<u32>,
    /// Every decorator is one of Airflow's, which keep the function's signature (a foreign
    /// decorator may change what the call accepts).
    pub own_signature: bool,
}

#[derive(Clone, Debug)]
pub(super) enum FunctionKind<'a> {
    Plain,
    /// `@task` / `@task.bash` / ...; `task_id` from the decorator or `.override()`.
    Task {
        task_id: Option<Value<'a>>,
        partial: bool,
        /// `@setup` / `@teardown`.
        role: Option<TaskRole>,
    },
    /// `@dag(...)`, with the decorator's call for its keyword arguments.
    Dag {
        decorator: Option<&'a ast::ExprCall>,
    },
    /// `@task_group(...)`.
    TaskGroup {
        group_id: Option<Value<'a>>,
        decorator: Option<&'a ast::ExprCall>,
    },
}

/// Setup and teardown tasks (`@setup`, `.as_teardown()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TaskRole {
    Setup,
    Teardown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ClassKind {
    Operator,
    Dag,
    Other,
}

#[derive(Clone, Debug)]
pub(super) struct PendingOperator<'a> {
    pub class_name: String,
    pub call: &'a ast::ExprCall,
    pub kwargs: Vec<Kwarg<'a>>,
    pub dag: Option<DagIdx>,
    pub group: Option<GroupIdx>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Endpoint {
    Task(TaskIdx),
    Group(GroupIdx),
}

pub(super) struct DagNode {
    pub id: Option<String>,
    pub range: TextRange,
    /// Where the id came from (the `dag_id` argument or the function name).
    pub id_range: TextRange,
    /// Airflow's DagBag will find it (module global, `with` block, or `@dag` call).
    pub collected: bool,
    /// Created under a condition or in a loop whose iterations are unknown.
    pub certain: bool,
    /// Before Airflow 2.8: no start_date on the DAG or in default_args, so the first task
    /// without its own start_date fails.
    pub needs_task_start_date: bool,
    /// Keys of the DAG's `default_args`; `None` when they cannot be known.
    pub default_arg_keys: Option<Vec<String>>,
    /// The Airflow class it is an instance of (a dotted import path), when certain.
    pub class_path: Option<String>,
    /// Stands for a DAG built by code dagsmith cannot see (a SubDAG factory imported from
    /// another module): its tasks are unknown.
    pub opaque: bool,
}

pub(super) struct TaskNode {
    /// Full id, group prefix included; `None` when it cannot be known.
    pub id: Option<String>,
    pub range: TextRange,
    pub dag: Option<DagIdx>,
    pub group: Option<GroupIdx>,
    /// Created unconditionally (not under an unknown `if`, `try` handler or loop).
    pub certain: bool,
    /// Created in a loop whose iterations are unknown (an id known there is the same in
    /// every iteration).
    pub looped: bool,
    /// Created under a condition that may be false.
    pub in_condition: bool,
    /// `dag=`/`task_group=`/`**kwargs` we cannot follow: it may have a DAG after all.
    pub dag_unknown: bool,
    pub taskflow: bool,
    pub operator: String,
    /// The Airflow class it is an instance of (a dotted import path), when certain: not for
    /// mapped operators, user-defined classes or calls we cannot resolve.
    pub class_path: Option<String>,
    pub role: Option<TaskRole>,
}

pub(super) struct GroupNode {
    pub id: Option<String>,
    pub range: TextRange,
    pub dag: Option<DagIdx>,
    pub parent: Option<GroupIdx>,
    pub prefix_group_id: bool,
    pub certain: bool,
    /// Decorated task groups rename repeats (`add_suffix_on_collision`).
    pub renames_on_collision: bool,
    /// The group (or an enclosing one) passes `default_args` to its tasks.
    pub has_default_args: bool,
    /// The Airflow class it is an instance of (a dotted import path), when certain.
    pub class_path: Option<String>,
}

pub(super) struct EdgeNode {
    pub upstream: Endpoint,
    pub downstream: Endpoint,
    pub range: TextRange,
    pub certain: bool,
}

#[derive(Default)]
pub(super) struct DagModel {
    pub dags: Vec<DagNode>,
    pub tasks: Vec<TaskNode>,
    pub groups: Vec<GroupNode>,
    pub edges: Vec<EdgeNode>,
    /// `@dag` functions that were defined but never called: (name, range).
    pub uncalled_dag_functions: Vec<(String, TextRange)>,
    /// The file builds DAG objects in ways we cannot follow (`globals()[...] = ...`).
    pub dynamic_dags: bool,
}
