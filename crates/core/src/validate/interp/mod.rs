//! An abstract interpreter over the code Airflow runs when it imports a DAG file.
//!
//! It walks module-level statements in order, the way Python executes them, and follows calls
//! into `@dag` and `@task_group` functions and into plain helper functions, so that it sees
//! DAG contexts, task groups, ids built from constants, loops over literal lists, and edges.
//! Nothing is ever executed for real: values it cannot know are `Unknown`. Names that would
//! raise NameError at import time are reported here (DS102); deferred code (task bodies) is
//! checked by `names`.

mod airflow_objects;
mod calls;
mod definitions;
mod edges;
mod expressions;
mod frames;
pub(super) mod helpers;
mod python;
mod statements;

use std::borrow::Cow;

use ruff_python_ast::{self as ast, Expr, Operator, Stmt};
use ruff_text_size::{Ranged, TextRange};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::airflow::{self, ApiKind};
use super::arith::{self, MAX_STR_LEN, MAX_UNROLL, MAX_WEIGHT};
use super::builtins::is_builtin;
use super::model::*;
use crate::AirflowVersion;
use crate::finding::Severity;
use crate::hint::Hint;
use crate::rules;
use airflow_objects::{NewGroup, NewTask};
use helpers::*;
use python::*;

/// How deep helper-function calls are followed.
pub(super) const MAX_CALL_DEPTH: usize = 8;
/// Modules whose functions never return a DAG (for the "no DAG" verdict).
pub(super) const WELL_KNOWN_MODULES: &[&str] = &[
    "datetime",
    "pendulum",
    "os",
    "sys",
    "json",
    "yaml",
    "logging",
    "pathlib",
    "time",
    "re",
    "random",
    "uuid",
    "math",
    "csv",
    "requests",
    "pandas",
    "numpy",
    "typing",
    "collections",
    "functools",
    "itertools",
    "textwrap",
    "subprocess",
    "shutil",
    "tempfile",
    "socket",
    "urllib",
    "boto3",
    "google",
    "sqlalchemy",
    "dateutil",
    "croniter",
    "io",
    "hashlib",
    "base64",
];

/// Expressions nested deeper than this are not followed.
pub(super) const MAX_EVAL_DEPTH: u32 = 1000;
/// Work one file may cost (see `Interp::spend`), so that any input is validated quickly: past
/// it, the rest of the file is not followed. docs/VALIDATION.md ("Bounded cost") has the
/// measurements behind the figures.
pub(super) const MAX_WORK: u32 = 150_000;
/// The work of creating a task, task group or DAG (ids, signatures, and every rule after the
/// interpretation looks at it), in units of one expression.
pub(super) const NODE_COST: usize = 100;
/// The work of reporting a finding (message, position, sorting).
pub(super) const FINDING_COST: usize = 20;
/// The work of one edge between tasks (and of the rules over edges).
pub(super) const EDGE_COST: usize = 5;
/// The work of calling a function (a new frame, its parameters bound).
pub(super) const CALL_COST: usize = 10;
/// The work of importing one name (checked against the catalog, bound).
pub(super) const IMPORT_COST: usize = 5;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Flow {
    Normal,
    Break,
    Continue,
    Return,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum FrameKind {
    Module,
    Function,
    Class,
}

pub(super) struct Frame<'a> {
    pub(super) id: u32,
    pub(super) kind: FrameKind,
    /// Lexical parent for name lookup (class frames are skipped by Python's rules).
    pub(super) parent: Option<u32>,
    /// By names from the tree (bound once and looked up again and again: no copies).
    pub(super) vars: HashMap<&'a str, Value<'a>>,
    /// The uncertain region (see `Interp::regions`) a variable was first bound in, if any.
    pub(super) bound_in: HashMap<&'a str, u32>,
    pub(super) globals: HashSet<&'a str>,
    pub(super) returned: Option<Value<'a>>,
}

/// Exceptions a surrounding `try` catches, as far as name and import errors go.
#[derive(Clone, Copy, Default)]
pub(super) struct Guard {
    pub(super) name_error: bool,
    pub(super) import_error: bool,
    pub(super) attribute_error: bool,
    /// `except TypeError` / `ValueError` (or anything broader): constructor and call errors.
    pub(super) call_error: bool,
}

pub(super) struct Interp<'a> {
    pub(super) version: AirflowVersion,
    pub(super) frames: Vec<Frame<'a>>,
    pub(super) next_frame_id: u32,
    pub(super) model: DagModel,
    pub(super) findings: Vec<RawFinding>,
    /// Star imports, `globals()`, `exec`...: unknown names are not certain errors.
    pub(super) dynamic_names: bool,
    /// > 0 inside code that may not run (unknown `if`, `except`, `while`, unknown loops).
    pub(super) uncertain: u32,
    /// The code that may not run, innermost last, by id: a variable first bound inside a
    /// region can be rebound there for sure (an unrolled loop under an unknown `if`).
    pub(super) regions: Vec<u32>,
    pub(super) next_region: u32,
    /// > 0 inside loops whose iterations are unknown.
    pub(super) unknown_loops: u32,
    pub(super) guards: Vec<Guard>,
    pub(super) dag_stack: Vec<DagIdx>,
    pub(super) group_stack: Vec<GroupIdx>,
    pub(super) call_stack: Vec<TextRange>,
    /// Work done so far, up to `MAX_WORK`.
    pub(super) work: u32,
    /// Import statements checked so far: (range, module, under `except ImportError`).
    pub(super) checked_imports: HashSet<(TextRange, &'a str, bool)>,
    /// Ranges of `@dag` functions that were called.
    pub(super) called_dag_functions: HashSet<TextRange>,
    pub(super) defined_dag_functions: Vec<(String, TextRange)>,
    /// Task and group ids per DAG, for TaskFlow renaming (by DAG, so that an id is looked up
    /// without building a key).
    pub(super) taken_ids: HashMap<Option<DagIdx>, HashSet<String>>,
    pub(super) next_suffix: HashMap<(Option<DagIdx>, String), usize>,
    pub(super) depth: u32,
    /// Where a dotted path is put together before it becomes an imported value's `Rc<str>`
    /// (one allocation for the value, none for the building).
    pub(super) path_buf: String,
    /// A module-level variable holds the result of a call into code we cannot see (a local
    /// module's factory): a DAG may hide there.
    pub(super) opaque_module_values: bool,
    /// `from __future__ import annotations`: annotations are strings, never evaluated.
    pub(super) postponed_annotations: bool,
    /// The name of the file being validated, when known (`__file__`).
    pub(super) file_name: Option<String>,
}

impl<'a> Interp<'a> {
    pub fn new(version: AirflowVersion, dynamic_names: bool, postponed_annotations: bool) -> Self {
        let module = Frame {
            id: 0,
            kind: FrameKind::Module,
            parent: None,
            // A DAG file binds a few dozen module names: no rehashing while they come.
            vars: HashMap::with_capacity_and_hasher(64, Default::default()),
            bound_in: HashMap::default(),
            globals: HashSet::default(),
            returned: None,
        };
        Interp {
            version,
            frames: vec![module],
            next_frame_id: 1,
            model: DagModel::default(),
            findings: Vec::new(),
            dynamic_names,
            uncertain: 0,
            regions: Vec::new(),
            next_region: 0,
            unknown_loops: 0,
            guards: Vec::new(),
            dag_stack: Vec::new(),
            group_stack: Vec::new(),
            call_stack: Vec::new(),
            work: 0,
            // Sized for a DAG file's imports: growing it rehashed a few times in every file.
            checked_imports: HashSet::with_capacity_and_hasher(32, Default::default()),
            called_dag_functions: HashSet::default(),
            defined_dag_functions: Vec::new(),
            opaque_module_values: false,
            postponed_annotations,
            taken_ids: HashMap::default(),
            next_suffix: HashMap::default(),
            depth: 0,
            path_buf: String::new(),
            file_name: None,
        }
    }

    pub fn run_module(&mut self, body: &'a [Stmt]) {
        self.exec_block(body);
        // DagBag scans the module's globals once the import is done: a DAG whose variable was
        // rebound is gone.
        for value in self.frames[0].vars.values() {
            if let Value::Dag(d) = value {
                self.model.dags[*d].collected = true;
            }
        }
        for (name, range) in std::mem::take(&mut self.defined_dag_functions) {
            if !self.called_dag_functions.contains(&range) {
                self.model.uncalled_dag_functions.push((name, range));
            }
        }
    }

    pub(super) fn report(
        &mut self,
        rule: &'static rules::Rule,
        range: TextRange,
        message: String,
        fix: impl Into<Hint>,
    ) {
        self.spend(FINDING_COST);
        self.findings.push(RawFinding {
            rule,
            severity: rule.severity,
            range,
            message,
            fix: fix.into(),
        });
    }

    pub(super) fn report_with(
        &mut self,
        rule: &'static rules::Rule,
        severity: Severity,
        range: TextRange,
        message: String,
        fix: impl Into<Hint>,
    ) {
        self.spend(FINDING_COST);
        self.findings.push(RawFinding { rule, severity, range, message, fix: fix.into() });
    }

    pub(super) fn enter_uncertain(&mut self) {
        self.uncertain = self.uncertain.saturating_add(1);
        self.next_region = self.next_region.wrapping_add(1);
        self.regions.push(self.next_region);
    }

    pub(super) fn leave_uncertain(&mut self) {
        self.uncertain = self.uncertain.saturating_sub(1);
        self.regions.pop();
    }

    /// Charges `units` of work: one per statement and per expression, a value's weight
    /// (`arith::weight`) whenever one is built or copied, more for costlier steps (`*_COST`).
    /// False once the file's budget is spent: from then on statements end the module and
    /// expressions are unknown. The code not followed may create a DAG, so a missing DAG is
    /// then only likely.
    pub(super) fn spend(&mut self, units: usize) -> bool {
        self.work = self.work.saturating_add(u32::try_from(units).unwrap_or(u32::MAX));
        if self.work > MAX_WORK {
            self.opaque_module_values = true;
            return false;
        }
        true
    }

    /// A value just built, charged for its size; unknown when it is heavier than
    /// `MAX_WEIGHT` or the budget is spent.
    pub(super) fn built(&mut self, v: Value<'a>) -> Value<'a> {
        let w = arith::weight(&v);
        if self.spend(w) && w <= MAX_WEIGHT { v } else { Value::Unknown }
    }

    /// A copy of a value: charged like a value built.
    pub(super) fn copied(&mut self, v: &Value<'a>) -> Value<'a> {
        let w = arith::weight(v);
        if self.spend(w) { v.clone() } else { Value::Unknown }
    }

    pub(super) fn certain(&self) -> bool {
        self.uncertain == 0 && self.unknown_loops == 0
    }

    pub(super) fn guarded(&self, f: impl Fn(&Guard) -> bool) -> bool {
        self.guards.iter().any(f)
    }
}
