//! An abstract interpreter over the code Airflow runs when it imports a DAG file.
//!
//! It walks module-level statements in order, the way Python executes them, and follows calls
//! into `@dag` and `@task_group` functions and into plain helper functions, so that it sees
//! DAG contexts, task groups, ids built from constants, loops over literal lists, and edges.
//! Nothing is ever executed for real: values it cannot know are `Unknown`. Names that would
//! raise NameError at import time are reported here (DS102); deferred code (task bodies) is
//! checked by `names`.

use std::borrow::Cow;

use ruff_python_ast::{self as ast, Expr, Operator, Stmt};
use ruff_text_size::{Ranged, TextRange};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::airflow::{self, ApiKind, ArgCheck};
use super::arith::{self, MAX_STR_LEN, MAX_UNROLL, MAX_WEIGHT};
use super::builtins::is_builtin;
use super::model::*;
use crate::AirflowVersion;
use crate::finding::Severity;
use crate::rules;

/// How deep helper-function calls are followed.
const MAX_CALL_DEPTH: usize = 8;
/// Modules whose functions never return a DAG (for the "no DAG" verdict).
const WELL_KNOWN_MODULES: &[&str] = &[
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
const MAX_EVAL_DEPTH: u32 = 1000;
/// Work one file may cost (see `Interp::spend`), so that any input is validated quickly: past
/// it, the rest of the file is not followed. docs/VALIDATION.md ("Bounded cost") has the
/// measurements behind the figures.
const MAX_WORK: u32 = 150_000;
/// The work of creating a task, task group or DAG (ids, signatures, and every rule after the
/// interpretation looks at it), in units of one expression.
const NODE_COST: usize = 100;
/// The work of reporting a finding (message, position, sorting).
const FINDING_COST: usize = 20;
/// The work of one edge between tasks (and of the rules over edges).
const EDGE_COST: usize = 5;
/// The work of calling a function (a new frame, its parameters bound).
const CALL_COST: usize = 10;
/// The work of importing one name (checked against the catalog, bound).
const IMPORT_COST: usize = 5;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Flow {
    Normal,
    Break,
    Continue,
    Return,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FrameKind {
    Module,
    Function,
    Class,
}

struct Frame<'a> {
    id: u32,
    kind: FrameKind,
    /// Lexical parent for name lookup (class frames are skipped by Python's rules).
    parent: Option<u32>,
    vars: HashMap<String, Value<'a>>,
    /// The uncertain region (see `Interp::regions`) a variable was first bound in, if any.
    bound_in: HashMap<String, u32>,
    globals: HashSet<String>,
    returned: Option<Value<'a>>,
}

/// Exceptions a surrounding `try` catches, as far as name and import errors go.
#[derive(Clone, Copy, Default)]
struct Guard {
    name_error: bool,
    import_error: bool,
    attribute_error: bool,
    /// `except TypeError` / `ValueError` (or anything broader): constructor and call errors.
    call_error: bool,
}

pub(super) struct Interp<'a> {
    version: AirflowVersion,
    frames: Vec<Frame<'a>>,
    next_frame_id: u32,
    pub model: DagModel,
    pub findings: Vec<RawFinding>,
    /// Star imports, `globals()`, `exec`...: unknown names are not certain errors.
    dynamic_names: bool,
    /// > 0 inside code that may not run (unknown `if`, `except`, `while`, unknown loops).
    uncertain: u32,
    /// The code that may not run, innermost last, by id: a variable first bound inside a
    /// region can be rebound there for sure (an unrolled loop under an unknown `if`).
    regions: Vec<u32>,
    next_region: u32,
    /// > 0 inside loops whose iterations are unknown.
    unknown_loops: u32,
    guards: Vec<Guard>,
    dag_stack: Vec<usize>,
    group_stack: Vec<usize>,
    call_stack: Vec<TextRange>,
    /// Work done so far, up to `MAX_WORK`.
    work: u32,
    /// Import statements checked so far: (range, module, under `except ImportError`).
    checked_imports: HashSet<(TextRange, String, bool)>,
    /// Ranges of `@dag` functions that were called.
    called_dag_functions: HashSet<TextRange>,
    defined_dag_functions: Vec<(String, TextRange)>,
    /// Task and group ids per DAG, for TaskFlow renaming.
    taken_ids: HashSet<(Option<usize>, String)>,
    next_suffix: HashMap<(Option<usize>, String), usize>,
    depth: u32,
    /// A module-level variable holds the result of a call into code we cannot see (a local
    /// module's factory): a DAG may hide there.
    pub opaque_module_values: bool,
    /// `from __future__ import annotations`: annotations are strings, never evaluated.
    postponed_annotations: bool,
    /// The name of the file being validated, when known (`__file__`).
    pub file_name: Option<String>,
}

impl<'a> Interp<'a> {
    pub fn new(version: AirflowVersion, dynamic_names: bool, postponed_annotations: bool) -> Self {
        let module = Frame {
            id: 0,
            kind: FrameKind::Module,
            parent: None,
            vars: HashMap::default(),
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
            checked_imports: HashSet::default(),
            called_dag_functions: HashSet::default(),
            defined_dag_functions: Vec::new(),
            opaque_module_values: false,
            postponed_annotations,
            taken_ids: HashSet::default(),
            next_suffix: HashMap::default(),
            depth: 0,
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

    // ----- findings -----

    fn report(
        &mut self,
        rule: &'static rules::Rule,
        range: TextRange,
        message: String,
        fix: Option<String>,
    ) {
        self.spend(FINDING_COST);
        self.findings.push(RawFinding { rule, severity: rule.severity, range, message, fix });
    }

    fn report_with(
        &mut self,
        rule: &'static rules::Rule,
        severity: Severity,
        range: TextRange,
        message: String,
        fix: Option<String>,
    ) {
        self.spend(FINDING_COST);
        self.findings.push(RawFinding { rule, severity, range, message, fix });
    }

    fn enter_uncertain(&mut self) {
        self.uncertain = self.uncertain.saturating_add(1);
        self.next_region = self.next_region.wrapping_add(1);
        self.regions.push(self.next_region);
    }

    fn leave_uncertain(&mut self) {
        self.uncertain = self.uncertain.saturating_sub(1);
        self.regions.pop();
    }

    // ----- cost -----

    /// Charges `units` of work: one per statement and per expression, a value's weight
    /// (`arith::weight`) whenever one is built or copied, more for costlier steps (`*_COST`).
    /// False once the file's budget is spent: from then on statements end the module and
    /// expressions are unknown. The code not followed may create a DAG, so a missing DAG is
    /// then only likely.
    fn spend(&mut self, units: usize) -> bool {
        self.work = self.work.saturating_add(u32::try_from(units).unwrap_or(u32::MAX));
        if self.work > MAX_WORK {
            self.opaque_module_values = true;
            return false;
        }
        true
    }

    /// A value just built, charged for its size; unknown when it is heavier than
    /// `MAX_WEIGHT` or the budget is spent.
    fn built(&mut self, v: Value<'a>) -> Value<'a> {
        let w = arith::weight(&v);
        if self.spend(w) && w <= MAX_WEIGHT { v } else { Value::Unknown }
    }

    /// A copy of a value: charged like a value built.
    fn copied(&mut self, v: &Value<'a>) -> Value<'a> {
        let w = arith::weight(v);
        if self.spend(w) { v.clone() } else { Value::Unknown }
    }

    fn certain(&self) -> bool {
        self.uncertain == 0 && self.unknown_loops == 0
    }

    fn guarded(&self, f: impl Fn(&Guard) -> bool) -> bool {
        self.guards.iter().any(f)
    }

    // ----- frames and names -----

    fn frame(&self) -> &Frame<'a> {
        self.frames.last().expect("the module frame is never popped")
    }

    fn frame_mut(&mut self) -> &mut Frame<'a> {
        self.frames.last_mut().expect("the module frame is never popped")
    }

    fn frame_by_id(&self, id: u32) -> Option<&Frame<'a>> {
        // Ids grow with every frame pushed and frames are popped in order: the stack is sorted.
        let i = self.frames.binary_search_by_key(&id, |f| f.id).ok()?;
        self.frames.get(i)
    }

    fn lookup(&self, name: &str) -> Option<Value<'a>> {
        let top = self.frame();
        if top.globals.contains(name) {
            return self.frames[0].vars.get(name).cloned();
        }
        if let Some(v) = top.vars.get(name) {
            return Some(v.clone());
        }
        let mut parent = top.parent;
        while let Some(id) = parent {
            let Some(frame) = self.frame_by_id(id) else {
                break;
            };
            if let Some(v) = frame.vars.get(name) {
                return Some(v.clone());
            }
            parent = frame.parent;
        }
        self.frames[0].vars.get(name).cloned()
    }

    fn bind(&mut self, name: &str, value: Value<'a>) {
        let is_global_decl = self.frame().globals.contains(name);
        let uncertain = self.uncertain > 0;
        let region = self.regions.last().copied();
        let frame = if is_global_decl { &mut self.frames[0] } else { self.frame_mut() };
        // A branch that may not run cannot replace a value for sure: `k8s = None` in an
        // `except ImportError:` must not make `if k8s:` statically false. DAG objects are
        // kept, since only their structure matters. A variable that was first bound in the
        // same region is replaced: both bindings run, or neither.
        let same_region = region.is_some() && frame.bound_in.get(name).copied() == region;
        let value = match (uncertain, frame.vars.contains_key(name), &value) {
            (true, true, Value::Dag(_) | Value::Task(_) | Value::XCom(_) | Value::Group(_)) => {
                value
            }
            (true, true, _) if !same_region => Value::Unknown,
            _ => value,
        };
        if !frame.vars.contains_key(name)
            && let Some(r) = region
        {
            frame.bound_in.insert(name.to_string(), r);
        }
        frame.vars.insert(name.to_string(), value);
    }

    fn load_name(&mut self, name: &ast::ExprName) -> Value<'a> {
        let id = name.id.as_str();
        if let Some(v) = self.lookup(id) {
            let w = arith::weight(&v);
            return if self.spend(w) { v } else { Value::Unknown };
        }
        if id == "__file__"
            && let Some(f) = &self.file_name
        {
            return Value::FilePath(f.clone());
        }
        if is_builtin(id) {
            return Value::Unknown;
        }
        if self.frame().kind != FrameKind::Module && self.frame().globals.contains(id) {
            return Value::Unknown;
        }
        let severity = if self.dynamic_names || self.guarded(|g| g.name_error) {
            Severity::Warning
        } else {
            Severity::Error
        };
        let fix = airflow::import_hint(id, self.version);
        self.report_with(
            &rules::UNDEFINED_NAME,
            severity,
            name.range,
            format!("name '{id}' is not defined (NameError while Airflow imports the file)"),
            fix,
        );
        Value::Unknown
    }

    // ----- statements -----

    fn exec_block(&mut self, body: &'a [Stmt]) -> Flow {
        for stmt in body {
            let flow = self.exec_stmt(stmt);
            if flow != Flow::Normal {
                return flow;
            }
        }
        Flow::Normal
    }

    fn exec_uncertain(&mut self, body: &'a [Stmt]) -> Flow {
        self.enter_uncertain();
        let flow = self.exec_block(body);
        self.leave_uncertain();
        flow
    }

    fn exec_stmt(&mut self, stmt: &'a Stmt) -> Flow {
        super::guard_stack(|| self.exec_stmt_inner(stmt))
    }

    fn exec_stmt_inner(&mut self, stmt: &'a Stmt) -> Flow {
        if !self.spend(1) {
            return Flow::Return;
        }
        match stmt {
            Stmt::Expr(s) => {
                self.eval_statement_expr(&s.value);
            }
            Stmt::Assign(s) => {
                let value = self.eval(&s.value);
                if self.frame().kind == FrameKind::Module
                    && matches!(value, Value::Unknown)
                    && self.is_opaque_call(&s.value)
                {
                    self.opaque_module_values = true;
                }
                for target in &s.targets {
                    let value = self.copied(&value);
                    self.assign(target, value);
                }
            }
            Stmt::AnnAssign(s) => {
                // Module and class annotations are evaluated (PEP 526), function ones not,
                // and none under `from __future__ import annotations` (PEP 563).
                if self.frame().kind != FrameKind::Function && !self.postponed_annotations {
                    self.eval(&s.annotation);
                }
                if let Some(v) = &s.value {
                    let value = self.eval(v);
                    self.assign(&s.target, value);
                }
            }
            Stmt::AugAssign(s) => {
                let current = self.eval(&s.target);
                let rhs = self.eval(&s.value);
                let value = self.binop(s.op, current, rhs);
                self.assign(&s.target, value);
            }
            Stmt::TypeAlias(s) => {
                if let Expr::Name(n) = &*s.name {
                    self.bind(n.id.as_str(), Value::Unknown);
                }
            }
            Stmt::Delete(s) => {
                for target in &s.targets {
                    match target {
                        Expr::Name(n) => {
                            self.load_name(n);
                            if self.certain() {
                                self.frame_mut().vars.remove(n.id.as_str());
                            }
                        }
                        other => {
                            self.eval(other);
                        }
                    }
                }
            }
            Stmt::Import(s) => {
                if !self.spend(s.names.len().saturating_mul(IMPORT_COST)) {
                    return Flow::Return;
                }
                for alias in &s.names {
                    let module = alias.name.as_str();
                    self.check_import(module, Vec::new(), s.range);
                    match &alias.asname {
                        Some(asname) => self.bind(asname.as_str(), Value::Imported(module.into())),
                        None => {
                            let top = module.split('.').next().unwrap_or(module);
                            self.bind(top, Value::Imported(top.into()));
                        }
                    }
                }
            }
            Stmt::ImportFrom(s) => {
                if !self.spend(s.names.len().saturating_mul(IMPORT_COST)) {
                    return Flow::Return;
                }
                let module = s.module.as_ref().map_or("", |m| m.as_str());
                let dotted =
                    format!("{}{}", ".".repeat(usize::try_from(s.level).unwrap_or(0)), module);
                if s.level == 0 {
                    let names = s
                        .names
                        .iter()
                        .filter(|a| a.name.as_str() != "*")
                        .map(|a| (a.name.as_str(), a.range))
                        .collect();
                    self.check_import(module, names, s.range);
                }
                for alias in &s.names {
                    let name = alias.name.as_str();
                    if name == "*" {
                        continue;
                    }
                    let bound = alias.asname.as_ref().map_or(name, |a| a.as_str());
                    let qualified = if dotted.is_empty() {
                        name.to_string()
                    } else {
                        format!("{dotted}.{name}")
                    };
                    self.bind(bound, Value::Imported(qualified));
                }
            }
            Stmt::FunctionDef(def) => self.define_function(def),
            Stmt::ClassDef(class) => self.define_class(class),
            Stmt::If(s) => return self.exec_if(s),
            Stmt::For(s) => return self.exec_for(s),
            Stmt::While(s) => {
                self.eval(&s.test);
                self.enter_uncertain();
                let flow = self.exec_block(&s.body);
                self.leave_uncertain();
                if flow == Flow::Return {
                    return flow;
                }
                let flow = self.exec_uncertain(&s.orelse);
                if flow == Flow::Return {
                    return flow;
                }
            }
            Stmt::With(s) => return self.exec_with(s),
            Stmt::Try(s) => return self.exec_try(s),
            Stmt::Match(s) => {
                self.eval(&s.subject);
                for case in &s.cases {
                    self.bind_pattern_names(&case.pattern);
                    if let Some(guard) = &case.guard {
                        self.eval(guard);
                    }
                    let flow = self.exec_uncertain(&case.body);
                    if flow == Flow::Return {
                        return flow;
                    }
                }
            }
            Stmt::Return(s) => {
                let value = s.value.as_ref().map_or(Value::None, |v| self.eval(v));
                let frame = self.frame_mut();
                if frame.returned.is_none() {
                    frame.returned = Some(value);
                }
                return Flow::Return;
            }
            Stmt::Raise(s) => {
                if let Some(exc) = &s.exc {
                    self.eval(exc);
                }
                if let Some(cause) = &s.cause {
                    self.eval(cause);
                }
                // A raise that surely runs ends the import (we report nothing: the reason is
                // the user's own); one under a condition may well never run.
                if self.certain() && self.guards.is_empty() {
                    return Flow::Return;
                }
            }
            Stmt::Assert(s) => {
                self.eval(&s.test);
                if let Some(msg) = &s.msg {
                    self.eval(msg);
                }
            }
            Stmt::Global(s) => {
                if self.frame().kind != FrameKind::Module {
                    for n in &s.names {
                        self.frame_mut().globals.insert(n.to_string());
                    }
                }
            }
            Stmt::Nonlocal(_) | Stmt::Pass(_) | Stmt::IpyEscapeCommand(_) => {}
            Stmt::Break(_) => return Flow::Break,
            Stmt::Continue(_) => return Flow::Continue,
        }
        Flow::Normal
    }

    /// A call to something imported from a module we know nothing about.
    fn is_opaque_call(&self, e: &Expr) -> bool {
        let Expr::Call(call) = e else { return false };
        let mut root = &*call.func;
        while let Expr::Attribute(a) = root {
            root = &a.value;
        }
        let Expr::Name(n) = root else { return false };
        match self.lookup(n.id.as_str()) {
            Some(Value::Imported(q)) => {
                let top = q.split('.').next().unwrap_or("");
                !(top == "airflow" || WELL_KNOWN_MODULES.contains(&top))
            }
            _ => false,
        }
    }

    fn check_import(&mut self, module: &str, names: Vec<(&str, TextRange)>, range: TextRange) {
        let guarded = self.guarded(|g| g.import_error);
        // An import run again (in a loop, a helper called often) finds what it found before, and
        // the catalog's search for suggestions is too costly to repeat thousands of times.
        if !self.checked_imports.insert((range, module.to_string(), guarded)) {
            return;
        }
        let import = super::imports::Import { module, names, range, guarded };
        super::imports::check(self.version, &import, &mut self.findings);
    }

    fn exec_if(&mut self, s: &'a ast::StmtIf) -> Flow {
        // Each clause: (test, body). Decided tests pick one branch; others run "uncertainly".
        let mut clauses: Vec<(Option<&'a Expr>, &'a [Stmt])> = vec![(Some(&*s.test), &s.body)];
        for c in &s.elif_else_clauses {
            clauses.push((c.test.as_ref(), &c.body));
        }
        let mut decided = false;
        for (test, body) in clauses {
            let truth = match test {
                Some(t) => {
                    let v = self.eval(t);
                    truthiness(t, &v)
                }
                None => Some(true),
            };
            match truth {
                Some(false) => continue,
                Some(true) if !decided => {
                    let flow = self.exec_block(body);
                    return flow;
                }
                _ => {
                    decided = true;
                    let flow = self.exec_uncertain(body);
                    if flow == Flow::Return {
                        return flow;
                    }
                }
            }
        }
        Flow::Normal
    }

    fn exec_for(&mut self, s: &'a ast::StmtFor) -> Flow {
        let iter = self.eval(&s.iter);
        let items = match iter {
            Value::List(items) if items.len() <= MAX_UNROLL => Some(items),
            Value::Dict(items) if items.len() <= MAX_UNROLL => {
                Some(items.into_iter().map(|(k, _)| Value::Str(k)).collect())
            }
            _ => None,
        };
        match items {
            Some(items) => {
                for item in items {
                    self.assign(&s.target, item);
                    match self.exec_block(&s.body) {
                        Flow::Break => return Flow::Normal,
                        Flow::Return => return Flow::Return,
                        Flow::Normal | Flow::Continue => {}
                    }
                }
                self.exec_block(&s.orelse)
            }
            None => {
                self.assign(&s.target, Value::Unknown);
                self.unknown_loops = self.unknown_loops.saturating_add(1);
                let flow = self.exec_block(&s.body);
                self.unknown_loops = self.unknown_loops.saturating_sub(1);
                if flow == Flow::Return {
                    return flow;
                }
                self.exec_uncertain(&s.orelse)
            }
        }
    }

    fn exec_with(&mut self, s: &'a ast::StmtWith) -> Flow {
        let mut pushed_dags = 0u32;
        let mut pushed_groups = 0u32;
        // `with teardown_task:` / `with setup_task:`: tasks made inside are wrapped.
        let mut setup_teardown: Vec<usize> = Vec::new();
        let tasks_before = self.model.tasks.len();
        for item in &s.items {
            self.check_decorator_as_context_manager(&item.context_expr);
            let value = self.eval(&item.context_expr);
            match value {
                Value::Task(t) | Value::XCom(t) if self.model.tasks[t].role.is_some() => {
                    setup_teardown.push(t);
                }
                Value::Dag(d) => {
                    // `with DAG(...)` registers the DAG (auto_register).
                    self.model.dags[d].collected = true;
                    self.dag_stack.push(d);
                    pushed_dags = pushed_dags.saturating_add(1);
                }
                Value::Group(g) => {
                    self.group_stack.push(g);
                    pushed_groups = pushed_groups.saturating_add(1);
                }
                _ => {}
            }
            if let Some(vars) = &item.optional_vars {
                self.assign(vars, value);
            }
        }
        let flow = self.exec_block(&s.body);
        for t in setup_teardown {
            self.wrap_in_setup_teardown(t, tasks_before, s.range);
        }
        for _ in 0..pushed_dags {
            self.dag_stack.pop();
        }
        for _ in 0..pushed_groups {
            self.group_stack.pop();
        }
        flow
    }

    /// DS213: an operator's `.partial(...).expand(x=...)` maps over lists, dicts and XComArgs;
    /// Airflow refuses a plain string, number, bool or None with ValueError while it imports
    /// the file. (TaskFlow's `.expand()` is not checked: it is not certain to fail at import.)
    fn check_expand_values(&mut self, what: &str, call: &'a ast::ExprCall, kwargs: &[Kwarg<'a>]) {
        for (k, v) in kwargs {
            let Some(k) = k.as_deref() else { continue };
            let kind = match v {
                Value::Str(_) => "str",
                Value::Int(_) => "int",
                Value::Bool(_) => "bool",
                Value::None => "NoneType",
                _ => continue,
            };
            let range = keyword_range(call, k);
            let severity = if self.certain() { Severity::Error } else { Severity::Warning };
            self.report_with(
                &rules::INVALID_ARGUMENT_VALUE,
                severity,
                range,
                format!(
                    "{what}.expand() got an unexpected type '{kind}' for keyword argument {k}: it maps over a list, a dict or an XComArg (ValueError while Airflow imports the file)"
                ),
                Some(format!("pass a list (`{k}=[...]`), or set a fixed value in `.partial({k}=...)`")),
            );
        }
    }

    /// DS214: `datetime(2024, 1, 1, tz="UTC")` with the standard library's `datetime`, which
    /// takes `tzinfo=`; `tz=` is pendulum's (`pendulum.datetime(..., tz="UTC")`).
    fn check_stdlib_datetime_call(&mut self, call: &'a ast::ExprCall) {
        if !has_keyword(call, "tz") {
            return;
        }
        let range = keyword_range(call, "tz");
        let severity = if self.certain() { Severity::Error } else { Severity::Warning };
        self.report_with(
            &rules::CALL_SIGNATURE_MISMATCH,
            severity,
            range,
            "'tz' is an invalid keyword argument for datetime.datetime() (TypeError while Airflow imports the file)".into(),
            Some("use `pendulum.datetime(..., tz=\"UTC\")`, or `tzinfo=` with a timezone object".into()),
        );
    }

    /// DS214: `from airflow import task` imports the package `airflow.task`, not the TaskFlow
    /// decorator; `@task` then fails ('module' object is not callable) and `@task.bash` or
    /// `@task.kubernetes` with AttributeError, while Airflow imports the file.
    fn report_task_package_decorator(&mut self, qualified: &str, range: TextRange) {
        let home = if self.version.is_v3() { "airflow.sdk" } else { "airflow.decorators" };
        let what = if qualified == "airflow.task" {
            "'module' object is not callable".to_string()
        } else {
            let attr = qualified.rsplit('.').next().unwrap_or(qualified);
            format!("module 'airflow.task' has no attribute '{attr}'")
        };
        let severity = if self.certain() { Severity::Error } else { Severity::Warning };
        self.report_with(
            &rules::CALL_SIGNATURE_MISMATCH,
            severity,
            range,
            format!(
                "{what}: `task` here is the package `airflow.task`, not the TaskFlow decorator (error while Airflow imports the file)"
            ),
            Some(format!("import the decorator: `from {home} import task`")),
        );
    }

    /// DS123: `with task_group("x"):` / `with dag(...):`, decorators used as context managers.
    fn check_decorator_as_context_manager(&mut self, expr: &'a Expr) {
        let Expr::Call(call) = expr else { return };
        let Value::Imported(q) = self.eval_quiet(&call.func) else { return };
        let class = match airflow::classify(&q) {
            ApiKind::TaskGroupDecorator => "TaskGroup",
            ApiKind::DagDecorator => "DAG",
            _ => return,
        };
        let name = q.rsplit('.').next().unwrap_or(&q).to_string();
        self.report(
            &rules::DECORATOR_AS_CONTEXT_MANAGER,
            call.range(),
            format!(
                "'functools.partial' object does not support the context manager protocol: `{name}` is a decorator (TypeError while Airflow imports the file)"
            ),
            Some(format!("use `with {class}(...)`")),
        );
    }

    /// Airflow's `SetupTeardownContext`: the work tasks made in the `with` block that have no
    /// upstream come after the setup task(s), those without downstream before the teardown.
    fn wrap_in_setup_teardown(&mut self, context: usize, first_task: usize, range: TextRange) {
        let (setups, teardown) = match self.model.tasks[context].role {
            Some(TaskRole::Teardown) => {
                let setups: Vec<usize> = self
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
        let work: Vec<usize> = (first_task..self.model.tasks.len())
            .filter(|&t| t != context && self.model.tasks[t].role.is_none())
            .collect();
        if work.is_empty() {
            return;
        }
        let edges = super::dag_checks::task_edges(&self.model);
        let has_upstream = |t: usize| edges.iter().any(|&(_, d, _, _)| d == t);
        let has_downstream = |t: usize| edges.iter().any(|&(u, _, _, _)| u == t);
        let mut roots: Vec<usize> = work.iter().copied().filter(|&t| !has_upstream(t)).collect();
        if roots.is_empty() {
            roots.push(work[0]);
        }
        let mut leaves: Vec<usize> = work.iter().copied().filter(|&t| !has_downstream(t)).collect();
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

    fn exec_try(&mut self, s: &'a ast::StmtTry) -> Flow {
        let mut guard = Guard::default();
        for handler in &s.handlers {
            let ast::ExceptHandler::ExceptHandler(h) = handler;
            let names = h
                .type_
                .as_deref()
                .map(exception_names)
                .unwrap_or_else(|| vec!["BaseException".into()]);
            for n in names {
                match n.as_str() {
                    "Exception" | "BaseException" => {
                        guard.name_error = true;
                        guard.import_error = true;
                        guard.attribute_error = true;
                        guard.call_error = true;
                    }
                    "NameError" => guard.name_error = true,
                    "AttributeError" => guard.attribute_error = true,
                    "TypeError" | "ValueError" | "AirflowException" => guard.call_error = true,
                    "ImportError" | "ModuleNotFoundError" => guard.import_error = true,
                    _ => {}
                }
            }
        }
        self.guards.push(guard);
        let flow = self.exec_block(&s.body);
        self.guards.pop();
        if flow == Flow::Return {
            // A return in `try` still runs `finally`.
            self.exec_block(&s.finalbody);
            return flow;
        }
        let mut result = flow;
        for handler in &s.handlers {
            let ast::ExceptHandler::ExceptHandler(h) = handler;
            if let Some(t) = &h.type_ {
                self.eval(t);
            }
            if let Some(name) = &h.name {
                self.bind(name.as_str(), Value::Unknown);
            }
            self.exec_uncertain(&h.body);
        }
        if result == Flow::Normal {
            result = self.exec_block(&s.orelse);
        }
        let fin = self.exec_block(&s.finalbody);
        if fin != Flow::Normal { fin } else { result }
    }

    fn bind_pattern_names(&mut self, pattern: &'a ast::Pattern) {
        use ruff_python_ast::visitor::source_order::{SourceOrderVisitor, walk_pattern};
        struct Names<'b>(Vec<&'b str>);
        impl<'b> SourceOrderVisitor<'b> for Names<'b> {
            fn visit_pattern(&mut self, pattern: &'b ast::Pattern) {
                match pattern {
                    ast::Pattern::MatchAs(p) => {
                        if let Some(n) = &p.name {
                            self.0.push(n.as_str());
                        }
                    }
                    ast::Pattern::MatchStar(p) => {
                        if let Some(n) = &p.name {
                            self.0.push(n.as_str());
                        }
                    }
                    ast::Pattern::MatchMapping(p) => {
                        if let Some(n) = &p.rest {
                            self.0.push(n.as_str());
                        }
                    }
                    _ => {}
                }
                walk_pattern(self, pattern);
            }
        }
        let mut names = Names(Vec::new());
        names.visit_pattern(pattern);
        for n in names.0 {
            self.bind(n, Value::Unknown);
        }
    }

    // ----- definitions -----

    fn define_function(&mut self, def: &'a ast::StmtFunctionDef) {
        let mut kind = FunctionKind::Plain;
        let mut own_signature = true;
        let mut role = None;
        // `@asset(...)` (Airflow 3): the decorator's call, if any (`None` inside: bare `@asset`).
        let mut asset_decorator: Option<Option<&'a ast::ExprCall>> = None;
        for decorator in &def.decorator_list {
            let (callee, call) = match &decorator.expression {
                Expr::Call(call) => (self.eval(&call.func), Some(call)),
                other => (self.eval(other), None),
            };
            if let Some(call) = call {
                self.eval_arguments(&call.arguments);
            }
            if let Value::Imported(q) = &callee
                && (q == "airflow.task" || q.starts_with("airflow.task."))
            {
                self.report_task_package_decorator(q, decorator.range());
            }
            let api = match &callee {
                Value::Imported(q) => airflow::classify(q),
                _ => ApiKind::Other,
            };
            let from_airflow = match &callee {
                Value::Imported(q) => q.starts_with("airflow."),
                Value::Method(object, _) => {
                    matches!(&**object, Value::Imported(q) if q.starts_with("airflow."))
                }
                _ => false,
            };
            if !from_airflow {
                own_signature = false;
            }
            if let Value::Imported(q) = &callee
                && let Some(r) = airflow::setup_teardown_role(q)
            {
                role = Some(r);
            }
            if let Value::Imported(q) = &callee
                && airflow::is_asset_decorator(q)
                && self.version.is_v3()
            {
                asset_decorator = Some(call);
            }
            kind = match api {
                ApiKind::DagDecorator => FunctionKind::Dag { decorator: call },
                ApiKind::TaskDecorator => {
                    let task_id =
                        call.and_then(|c| keyword(c, "task_id")).map(|e| self.eval_quiet(e));
                    FunctionKind::Task { task_id, partial: false, role: None }
                }
                ApiKind::TaskGroupDecorator => {
                    if let Some(c) = call {
                        self.check_task_group_kwargs(c);
                    }
                    let group_id = call
                        .and_then(|c| keyword(c, "group_id").or_else(|| c.arguments.args.first()))
                        .map(|e| self.eval_quiet(e));
                    FunctionKind::TaskGroup { group_id, decorator: call }
                }
                _ => kind,
            };
        }
        if let FunctionKind::Task { role: r, .. } = &mut kind {
            *r = role;
        }
        if let Some(asset_call) = asset_decorator {
            self.define_asset(def, asset_call);
            self.bind(def.name.as_str(), Value::Unknown);
            return;
        }
        let mut defaults = Vec::new();
        for p in def.parameters.iter() {
            if let Some(default) = p.default() {
                let v = self.eval(default);
                defaults.push((p.name().to_string(), v));
            }
        }
        // Parameter and return annotations are not evaluated: they may be strings or
        // postponed, and skipping them can only hide a NameError, never invent one.
        if matches!(kind, FunctionKind::Dag { .. }) {
            self.defined_dag_functions.push((def.name.to_string(), def.range));
        }
        let closure = (self.frame().kind == FrameKind::Function).then(|| self.frame().id);
        let f = FunctionRef { def, kind, defaults, closure, own_signature };
        self.bind(def.name.as_str(), Value::Function(Box::new(f)));
    }

    /// `@asset` / `@asset.multi` (Airflow 3): the function becomes a DAG of one task, named
    /// after the asset (`name=`, else the function) with the function's name as task id.
    fn define_asset(&mut self, def: &'a ast::StmtFunctionDef, call: Option<&'a ast::ExprCall>) {
        let name = call
            .and_then(|c| keyword(c, "name"))
            .map(|e| self.eval_quiet(e))
            .unwrap_or_else(|| Value::Str(def.name.to_string()));
        let id_range = call.and_then(|c| keyword(c, "name")).map_or(def.name.range, |e| e.range());
        let dag = self.add_dag(name, def.range, id_range);
        // DagBag finds the asset's DAG when the definition is a module global.
        self.model.dags[dag].collected = self.frame().kind == FrameKind::Module;
        self.dag_stack.push(dag);
        self.add_task(
            Value::Str(def.name.to_string()),
            def.name.range,
            def.name.as_str(),
            true,
            None,
            true,
        );
        self.dag_stack.pop();
    }

    fn define_class(&mut self, class: &'a ast::StmtClassDef) {
        for d in &class.decorator_list {
            self.eval(&d.expression);
        }
        let mut kind = ClassKind::Other;
        if let Some(arguments) = &class.arguments {
            for base in arguments.args.iter() {
                match self.eval(base) {
                    Value::Imported(q) => match airflow::classify(&q) {
                        ApiKind::Operator => kind = ClassKind::Operator,
                        ApiKind::DagClass => kind = ClassKind::Dag,
                        _ => {}
                    },
                    Value::Class(_, k) if k != ClassKind::Other => kind = k,
                    _ => {}
                }
            }
            for kw in &arguments.keywords {
                self.eval(&kw.value);
            }
        }
        // The class body runs now, in its own namespace.
        let parent = self
            .frame()
            .parent
            .or(Some(self.frame().id))
            .filter(|_| self.frame().kind != FrameKind::Module);
        self.push_frame(FrameKind::Class, parent);
        self.exec_block(&class.body);
        self.pop_frame();
        self.bind(class.name.as_str(), Value::Class(class, kind));
    }

    fn push_frame(&mut self, kind: FrameKind, parent: Option<u32>) {
        let id = self.next_frame_id;
        self.next_frame_id = self.next_frame_id.saturating_add(1);
        self.frames.push(Frame {
            id,
            kind,
            parent,
            vars: HashMap::default(),
            bound_in: HashMap::default(),
            globals: HashSet::default(),
            returned: None,
        });
    }

    fn pop_frame(&mut self) -> Option<Value<'a>> {
        if self.frames.len() > 1 { self.frames.pop().and_then(|f| f.returned) } else { None }
    }

    // ----- assignment -----

    fn assign(&mut self, target: &'a Expr, value: Value<'a>) {
        match target {
            Expr::Name(n) => self.bind(n.id.as_str(), value),
            Expr::Tuple(t) => self.assign_sequence(&t.elts, value),
            Expr::List(l) => self.assign_sequence(&l.elts, value),
            Expr::Starred(s) => self.assign(&s.value, Value::Unknown),
            Expr::Attribute(a) => {
                let object = self.eval(&a.value);
                // `task.dag = dag` attaches a task.
                if a.attr.as_str() == "dag"
                    && let (Value::Task(t), Value::Dag(d)) = (&object, &value)
                {
                    self.model.tasks[*t].dag = Some(*d);
                }
            }
            Expr::Subscript(s) => {
                self.eval(&s.value);
                self.eval(&s.slice);
                if is_globals_call(&s.value) {
                    match value {
                        Value::Dag(d) => self.model.dags[d].collected = true,
                        // `globals()[name] = build()` may well store a DAG.
                        Value::Unknown => self.model.dynamic_dags = true,
                        _ => {}
                    }
                }
            }
            other => {
                self.eval(other);
            }
        }
    }

    fn assign_sequence(&mut self, targets: &'a [Expr], value: Value<'a>) {
        match value {
            Value::List(items) if items.len() == targets.len() => {
                for (t, v) in targets.iter().zip(items) {
                    self.assign(t, v);
                }
            }
            _ => {
                for t in targets {
                    self.assign(t, Value::Unknown);
                }
            }
        }
    }

    // ----- expressions -----

    /// An expression statement: handles in-place list mutation (`tasks.append(t)`).
    fn eval_statement_expr(&mut self, expr: &'a Expr) {
        if let Expr::Call(call) = expr
            && let Expr::Attribute(attr) = &*call.func
            && let Expr::Name(list_name) = &*attr.value
            && matches!(attr.attr.as_str(), "append" | "extend")
            && let Some(list) = self.lookup(list_name.id.as_str())
            && matches!(list, Value::List(_))
        {
            // The copy just made is paid for like any other.
            if !self.spend(arith::weight(&list)) {
                return;
            }
            let Value::List(mut items) = list else { return };
            let args: Vec<Value<'a>> = call.arguments.args.iter().map(|a| self.eval(a)).collect();
            if call.arguments.keywords.is_empty() && args.len() == 1 {
                let arg = args.into_iter().next().unwrap_or(Value::Unknown);
                match (attr.attr.as_str(), arg) {
                    ("append", v) => items.push(v),
                    ("extend", Value::List(vs)) => items.extend(vs),
                    _ => items.push(Value::Unknown),
                }
                let list = self.built(Value::List(items));
                self.bind(list_name.id.as_str(), list);
            }
            return;
        }
        self.eval(expr);
    }

    /// Evaluates without reporting undefined names (for values re-read from decorators).
    fn eval_quiet(&mut self, expr: &'a Expr) -> Value<'a> {
        let before = self.findings.len();
        let v = self.eval(expr);
        self.findings.truncate(before);
        v
    }

    pub fn eval(&mut self, expr: &'a Expr) -> Value<'a> {
        // Where the stack cannot grow (wasm), very deep expressions are left unknown.
        if self.depth > MAX_EVAL_DEPTH || !self.spend(1) {
            return Value::Unknown;
        }
        self.depth = self.depth.saturating_add(1);
        let value = super::guard_stack(|| self.eval_inner(expr));
        self.depth = self.depth.saturating_sub(1);
        value
    }

    fn eval_inner(&mut self, expr: &'a Expr) -> Value<'a> {
        match expr {
            Expr::Name(n) => self.load_name(n),
            Expr::StringLiteral(s) => Value::Str(s.value.to_str().to_string()),
            Expr::NumberLiteral(n) => match &n.value {
                ast::Number::Int(i) => i.as_i64().map_or(Value::Unknown, Value::Int),
                _ => Value::Unknown,
            },
            Expr::BooleanLiteral(b) => Value::Bool(b.value),
            Expr::NoneLiteral(_) => Value::None,
            Expr::FString(f) => self.eval_fstring(f),
            Expr::List(l) => {
                let items = self.eval_elements(&l.elts);
                self.built(Value::List(items))
            }
            Expr::Tuple(t) => {
                let items = self.eval_elements(&t.elts);
                self.built(Value::List(items))
            }
            Expr::Set(s) => {
                self.eval_elements(&s.elts);
                Value::Unknown
            }
            Expr::Dict(d) => {
                // Only a dict whose every key is known is a `Dict`: code checks the
                // absence of keys (start_date, task_id) on it.
                let mut items = Some(Vec::new());
                for item in &d.items {
                    let key = item.key.as_ref().map(|k| self.eval(k));
                    let value = self.eval(&item.value);
                    match (key, value, items.as_mut()) {
                        (Some(Value::Str(k)), v, Some(items)) => items.push((k, v)),
                        (None, Value::Dict(inner), Some(items)) => items.extend(inner),
                        _ => items = None,
                    }
                }
                match items {
                    Some(items) => self.built(Value::Dict(items)),
                    None => Value::Unknown,
                }
            }
            Expr::BinOp(b) => self.eval_binop(b),
            Expr::BoolOp(b) => {
                let mut last = Value::Unknown;
                for v in &b.values {
                    last = self.eval(v);
                }
                if b.values.len() == 1 { last } else { Value::Unknown }
            }
            Expr::UnaryOp(u) => {
                let v = self.eval(&u.operand);
                match (u.op, v) {
                    (ast::UnaryOp::Not, Value::Bool(b)) => Value::Bool(!b),
                    (op, Value::Int(i)) => {
                        arith::int_unary(op, i).map_or(Value::Unknown, Value::Int)
                    }
                    _ => Value::Unknown,
                }
            }
            Expr::Compare(c) => {
                let left = self.eval(&c.left);
                let rights: Vec<Value<'a>> = c.comparators.iter().map(|e| self.eval(e)).collect();
                if c.ops.len() == 1
                    && let Some(right) = rights.first()
                {
                    let eq = match (&left, right) {
                        (Value::Str(a), Value::Str(b)) => Some(a == b),
                        (Value::Int(a), Value::Int(b)) => Some(a == b),
                        _ => None,
                    };
                    if let Some(eq) = eq {
                        match c.ops[0] {
                            ast::CmpOp::Eq => return Value::Bool(eq),
                            ast::CmpOp::NotEq => return Value::Bool(!eq),
                            _ => {}
                        }
                    }
                }
                Value::Unknown
            }
            Expr::If(i) => {
                let test = self.eval(&i.test);
                match truthiness(&i.test, &test) {
                    Some(true) => self.eval(&i.body),
                    Some(false) => self.eval(&i.orelse),
                    None => {
                        self.eval(&i.body);
                        self.eval(&i.orelse);
                        Value::Unknown
                    }
                }
            }
            Expr::Named(n) => {
                let v = self.eval(&n.value);
                self.assign(&n.target, v.clone());
                v
            }
            Expr::Lambda(l) => {
                if let Some(parameters) = &l.parameters {
                    for p in parameters.iter() {
                        if let Some(d) = p.default() {
                            self.eval(d);
                        }
                    }
                }
                // The body runs later; `names` checks it.
                Value::Unknown
            }
            Expr::ListComp(c) => self.eval_comprehension(&c.generators, &[&c.elt], true),
            Expr::SetComp(c) => self.eval_comprehension(&c.generators, &[&c.elt], false),
            // A generator passed to list()/chain() behaves like a list here.
            Expr::Generator(c) => self.eval_comprehension(&c.generators, &[&c.elt], true),
            Expr::DictComp(c) => match c.key.as_deref() {
                Some(key) => self.eval_comprehension(&c.generators, &[key, &c.value], false),
                None => self.eval_comprehension(&c.generators, &[&c.value], false),
            },
            Expr::Await(a) => {
                self.eval(&a.value);
                Value::Unknown
            }
            Expr::Yield(y) => {
                if let Some(v) = &y.value {
                    self.eval(v);
                }
                Value::Unknown
            }
            Expr::YieldFrom(y) => {
                self.eval(&y.value);
                Value::Unknown
            }
            Expr::Call(call) => self.eval_call(call),
            Expr::Attribute(a) => {
                let object = self.eval(&a.value);
                let attr = a.attr.as_str();
                match object {
                    // `TriggerRule.ALL_SUCCESS` is a str enum whose value is "all_success".
                    Value::Imported(q)
                        if q.starts_with("airflow.")
                            && q.ends_with(".TriggerRule")
                            && attr.chars().all(|c| c.is_ascii_uppercase() || c == '_') =>
                    {
                        Value::Str(attr.to_ascii_lowercase())
                    }
                    // Models write `pendulum.timedelta(hours=1)`: pendulum has `duration`.
                    Value::Imported(q) if q == "pendulum" && attr == "timedelta" => {
                        let severity = self.attribute_error_severity();
                        self.report_with(
                            &rules::UNKNOWN_ATTRIBUTE,
                            severity,
                            a.range,
                            "module 'pendulum' has no attribute 'timedelta' (AttributeError while Airflow imports the file)".into(),
                            Some("`pendulum.duration(...)` takes the same arguments".into()),
                        );
                        Value::Unknown
                    }
                    Value::Imported(q) => match arith::concat_str(q, ".") {
                        Some(q) => {
                            arith::concat_str(q, attr).map_or(Value::Unknown, Value::Imported)
                        }
                        None => Value::Unknown,
                    },
                    Value::Task(t) if attr == "output" => Value::XCom(t),
                    Value::XCom(t) if attr == "output" => {
                        self.report(
                            &rules::XCOM_ARG_OUTPUT,
                            a.range,
                            "`.output` on the result of a TaskFlow call: it is already an XComArg (AttributeError while Airflow imports the file)".into(),
                            Some("drop `.output`: pass the call's result directly".into()),
                        );
                        Value::XCom(t)
                    }
                    Value::Unknown => Value::Unknown,
                    Value::FilePath(name) => path_attribute(&name, attr),
                    other => {
                        self.check_attribute(&other, attr, a.range);
                        Value::Method(Box::new(other), attr.to_string())
                    }
                }
            }
            Expr::Subscript(s) => {
                let object = self.eval(&s.value);
                let index = self.eval(&s.slice);
                match (object, index) {
                    (Value::Dict(items), Value::Str(k)) => items
                        .into_iter()
                        .rev()
                        .find(|(key, _)| *key == k)
                        .map_or(Value::Unknown, |(_, v)| v),
                    (Value::List(items), Value::Int(i)) => {
                        // A negative index counts from the end.
                        let idx = if i < 0 {
                            i64::try_from(items.len()).ok().and_then(|n| n.checked_add(i))
                        } else {
                            Some(i)
                        };
                        idx.and_then(|i| usize::try_from(i).ok())
                            .and_then(|i| items.into_iter().nth(i))
                            .unwrap_or(Value::Unknown)
                    }
                    (Value::XCom(t), _) => Value::XCom(t),
                    _ => Value::Unknown,
                }
            }
            Expr::Starred(s) => self.eval(&s.value),
            Expr::Slice(s) => {
                for part in [&s.lower, &s.upper, &s.step].into_iter().flatten() {
                    self.eval(part);
                }
                Value::Unknown
            }
            Expr::TString(t) => {
                for e in t.value.elements() {
                    if let ast::InterpolatedStringElement::Interpolation(i) = e {
                        self.eval(&i.expression);
                    }
                }
                Value::Unknown
            }
            Expr::BytesLiteral(_) | Expr::EllipsisLiteral(_) | Expr::IpyEscapeCommand(_) => {
                Value::Unknown
            }
        }
    }

    fn eval_elements(&mut self, elts: &'a [Expr]) -> Vec<Value<'a>> {
        let mut out = Vec::with_capacity(elts.len());
        for e in elts {
            match (e, self.eval(e)) {
                (Expr::Starred(_), Value::List(items)) => out.extend(items),
                (_, v) => out.push(v),
            }
        }
        out
    }

    fn eval_fstring(&mut self, f: &'a ast::ExprFString) -> Value<'a> {
        let mut out = String::new();
        let mut known = true;
        for part in f.value.as_slice() {
            match part {
                ast::FStringPart::Literal(lit) => out.push_str(&lit.value),
                ast::FStringPart::FString(fs) => {
                    for element in fs.elements.iter() {
                        match element {
                            ast::InterpolatedStringElement::Literal(lit) => {
                                out.push_str(&lit.value)
                            }
                            ast::InterpolatedStringElement::Interpolation(i) => {
                                let v = self.eval(&i.expression);
                                if let Some(spec) = &i.format_spec {
                                    for e in spec.elements.iter() {
                                        if let ast::InterpolatedStringElement::Interpolation(i) = e
                                        {
                                            self.eval(&i.expression);
                                        }
                                    }
                                    known = false;
                                }
                                if i.debug_text.is_some()
                                    || i.conversion != ast::ConversionFlag::None
                                {
                                    known = false;
                                }
                                match display(&v) {
                                    Some(s) if out.len().saturating_add(s.len()) <= MAX_STR_LEN => {
                                        out.push_str(&s)
                                    }
                                    _ => known = false,
                                }
                            }
                        }
                    }
                }
            }
        }
        if known { self.built(Value::Str(out)) } else { Value::Unknown }
    }

    fn eval_binop(&mut self, b: &'a ast::ExprBinOp) -> Value<'a> {
        let left = self.eval(&b.left);
        let right = self.eval(&b.right);
        match b.op {
            // Integers shift bits; anything else links tasks.
            Operator::RShift | Operator::LShift
                if !matches!((&left, &right), (Value::Int(_), Value::Int(_))) =>
            {
                if let (Value::List(_), Value::List(_)) = (&left, &right)
                    && (is_list_like(&b.left) || matches!(left, Value::List(_)))
                {
                    self.report(
                        &rules::LIST_TO_LIST_DEPENDENCY,
                        b.range,
                        "unsupported operand types for >>/<<: 'list' and 'list' (TypeError while Airflow imports the file)".into(),
                        Some("use `cross_downstream(upstream_list, downstream_list)` or `chain(...)`".into()),
                    );
                    return Value::Unknown;
                }
                for side in [&left, &right] {
                    if let Value::Function(f) = side
                        && matches!(f.kind, FunctionKind::Task { .. })
                    {
                        let name = f.def.name.as_str();
                        let severity =
                            if self.certain() { Severity::Error } else { Severity::Warning };
                        self.report_with(
                            &rules::INVALID_DEPENDENCY,
                            severity,
                            b.range,
                            format!(
                                "`{name}` is a @task function, not a task: `>>`/`<<` on it fails (a `_TaskDecorator` has no dependencies: TypeError or AttributeError while Airflow imports the file)"
                            ),
                            Some(format!("call it to make the task: `{name}()`, and link what the call returns")),
                        );
                        return Value::Unknown;
                    }
                }
                let forward = b.op == Operator::RShift;
                self.shift(left, right, forward, b.range)
            }
            op => self.binop(op, left, right),
        }
    }

    /// `left OP right` on numbers, strings and lists (`arith` keeps it checked and bounded).
    fn binop(&mut self, op: Operator, left: Value<'a>, right: Value<'a>) -> Value<'a> {
        let value = match (op, left, right) {
            (op, Value::Int(a), Value::Int(b)) => arith::int_binop(op, a, b).map(Value::Int),
            (Operator::Add, Value::Str(a), Value::Str(b)) => {
                arith::concat_str(a, &b).map(Value::Str)
            }
            (Operator::Add, Value::List(mut a), Value::List(b)) => {
                a.extend(b);
                Some(Value::List(a))
            }
            (Operator::Mult, Value::Str(s), Value::Int(n))
            | (Operator::Mult, Value::Int(n), Value::Str(s)) => {
                arith::repeat_str(&s, n).map(Value::Str)
            }
            (Operator::Mult, Value::List(items), Value::Int(n))
            | (Operator::Mult, Value::Int(n), Value::List(items)) => {
                arith::repeat_list(&items, n).map(Value::List)
            }
            (Operator::Mod, Value::Str(fmt), arg) => percent_format(&fmt, &arg).map(Value::Str),
            _ => None,
        };
        match value {
            Some(v) => self.built(v),
            None => Value::Unknown,
        }
    }

    /// `left >> right` (forward) or `left << right`. Returns the right operand, like Airflow.
    fn shift(
        &mut self,
        left: Value<'a>,
        right: Value<'a>,
        forward: bool,
        range: TextRange,
    ) -> Value<'a> {
        // `a >> Label("x") >> b`: the label remembers `a`.
        if forward && let Value::EdgeLabel(_) = right {
            return Value::EdgeLabel(self.endpoints(&left));
        }
        if forward && let Value::EdgeLabel(ups) = &left {
            let downs = self.endpoints(&right);
            self.add_edges(ups.clone(), downs, range);
            return right;
        }
        let (ups, downs) = if forward {
            (self.endpoints(&left), self.endpoints(&right))
        } else {
            (self.endpoints(&right), self.endpoints(&left))
        };
        self.add_edges(ups, downs, range);
        right
    }

    fn endpoints(&self, value: &Value<'a>) -> Vec<Endpoint> {
        match value {
            Value::Task(t) | Value::XCom(t) => vec![Endpoint::Task(*t)],
            Value::Group(g) => vec![Endpoint::Group(*g)],
            Value::List(items) => items.iter().flat_map(|v| self.endpoints(v)).collect(),
            _ => Vec::new(),
        }
    }

    fn add_edges(&mut self, ups: Vec<Endpoint>, downs: Vec<Endpoint>, range: TextRange) {
        if !self.spend(ups.len().saturating_mul(downs.len()).saturating_mul(EDGE_COST)) {
            return;
        }
        let certain = self.certain();
        self.check_edge_dags(&ups, &downs, range);
        for &u in &ups {
            for &d in &downs {
                self.model.edges.push(EdgeNode { upstream: u, downstream: d, range, certain });
            }
        }
        // Airflow gives a DAG-less task the DAG of the task it is linked to.
        let dag_of = |m: &DagModel, e: Endpoint| match e {
            Endpoint::Task(t) => m.tasks[t].dag,
            Endpoint::Group(g) => m.groups[g].dag,
        };
        let all: Vec<Endpoint> = ups.iter().chain(downs.iter()).copied().collect();
        if let Some(dag) = all.iter().find_map(|&e| dag_of(&self.model, e)) {
            for e in all {
                if let Endpoint::Task(t) = e
                    && self.model.tasks[t].dag.is_none()
                {
                    self.model.tasks[t].dag = Some(dag);
                }
            }
        }
    }

    /// Airflow links tasks only within one DAG, and needs at least one side to have one.
    fn check_edge_dags(&mut self, ups: &[Endpoint], downs: &[Endpoint], range: TextRange) {
        if ups.is_empty() || downs.is_empty() {
            return;
        }
        let mut dags: Vec<usize> = Vec::new();
        for &e in ups.iter().chain(downs) {
            let (dag, unknown) = match e {
                Endpoint::Task(t) => (self.model.tasks[t].dag, self.model.tasks[t].dag_unknown),
                Endpoint::Group(g) => (self.model.groups[g].dag, true),
            };
            if unknown && dag.is_none() {
                return;
            }
            if let Some(d) = dag
                && !dags.contains(&d)
            {
                dags.push(d);
            }
        }
        let severity = if self.certain() { Severity::Error } else { Severity::Warning };
        let name = |m: &DagModel, d: usize| m.dags[d].id.clone().unwrap_or_else(|| "?".into());
        if dags.len() > 1 {
            let names: Vec<String> =
                dags.iter().map(|&d| format!("'{}'", name(&self.model, d))).collect();
            self.report_with(
                &rules::INVALID_DEPENDENCY,
                severity,
                range,
                format!(
                    "tried to set relationships between tasks in more than one DAG ({}) while Airflow imports the file",
                    names.join(", ")
                ),
                Some("tasks of different DAGs cannot depend on each other: use ExternalTaskSensor, TriggerDagRunOperator or assets".into()),
            );
        } else if dags.is_empty() {
            self.report_with(
                &rules::INVALID_DEPENDENCY,
                severity,
                range,
                "tried to create relationships between tasks that don't have DAGs yet (error while Airflow imports the file)".into(),
                Some("create the tasks inside `with DAG(...)` or a `@dag` function, or pass `dag=`".into()),
            );
        }
    }

    /// Comprehensions over known sequences are unrolled, so
    /// `[EmptyOperator(task_id=f"t_{i}") for i in range(3)]` yields three known tasks.
    fn eval_comprehension(
        &mut self,
        generators: &'a [ast::Comprehension],
        elts: &[&'a Expr],
        collect: bool,
    ) -> Value<'a> {
        let Some(first) = generators.first() else {
            return Value::Unknown;
        };
        // The first iterable is evaluated in the enclosing scope.
        let first_iter = self.eval(&first.iter);
        let parent = Some(self.frame().id);
        self.push_frame(FrameKind::Function, parent);
        let mut out = Some(Vec::new());
        self.comprehension_level(generators, 0, Some(first_iter), elts, &mut out);
        // Walrus targets bind in the enclosing scope; dropping them can only make later
        // lookups unknown, never wrong.
        self.pop_frame();
        match out {
            Some(items) if collect => self.built(Value::List(items)),
            _ => Value::Unknown,
        }
    }

    fn comprehension_level(
        &mut self,
        generators: &'a [ast::Comprehension],
        level: usize,
        iter: Option<Value<'a>>,
        elts: &[&'a Expr],
        out: &mut Option<Vec<Value<'a>>>,
    ) {
        if !self.spend(1) {
            *out = None;
            return;
        }
        let Some(generator) = generators.get(level) else {
            let value = match elts {
                [single] => self.eval(single),
                many => {
                    for e in many {
                        self.eval(e);
                    }
                    Value::Unknown
                }
            };
            if let Some(items) = out {
                items.push(value);
                // Too big to be a value: `built` would refuse it anyway.
                if items.len() > MAX_WEIGHT {
                    *out = None;
                }
            }
            return;
        };
        let iter = match iter {
            Some(v) => v,
            None => self.eval(&generator.iter),
        };
        let items = match iter {
            Value::List(items) if items.len() <= MAX_UNROLL => Some(items),
            _ => None,
        };
        match items {
            Some(items) => {
                for item in items {
                    self.assign(&generator.target, item);
                    let mut included = Some(true);
                    for cond in &generator.ifs {
                        let v = self.eval(cond);
                        match (included, truthiness(cond, &v)) {
                            (_, Some(false)) => included = Some(false),
                            (Some(true), None) => included = None,
                            _ => {}
                        }
                    }
                    match included {
                        Some(false) => {}
                        Some(true) => self.comprehension_level(
                            generators,
                            level.saturating_add(1),
                            None,
                            elts,
                            out,
                        ),
                        None => {
                            *out = None;
                            self.enter_uncertain();
                            self.comprehension_level(
                                generators,
                                level.saturating_add(1),
                                None,
                                elts,
                                out,
                            );
                            self.leave_uncertain();
                        }
                    }
                }
            }
            None => {
                *out = None;
                self.assign(&generator.target, Value::Unknown);
                for cond in &generator.ifs {
                    self.eval(cond);
                }
                self.unknown_loops = self.unknown_loops.saturating_add(1);
                self.comprehension_level(generators, level.saturating_add(1), None, elts, out);
                self.unknown_loops = self.unknown_loops.saturating_sub(1);
            }
        }
    }

    fn eval_arguments(
        &mut self,
        arguments: &'a ast::Arguments,
    ) -> (Vec<Value<'a>>, Vec<Kwarg<'a>>) {
        let mut args = Vec::new();
        for a in arguments.args.iter() {
            match (a, self.eval(a)) {
                (Expr::Starred(_), Value::List(items)) => args.extend(items),
                (Expr::Starred(_), _) => args.push(Value::Unknown),
                (_, v) => args.push(v),
            }
        }
        let mut kwargs = Vec::new();
        for kw in arguments.keywords.iter() {
            let v = self.eval(&kw.value);
            match (&kw.arg, v) {
                (Some(name), v) => kwargs.push((Some(Cow::Borrowed(name.as_str())), v)),
                (None, Value::Dict(items)) => {
                    // `**{"task_id": "x"}` and `**CONFIG[0]`: keep the names we know.
                    for (k, v) in items {
                        kwargs.push((Some(Cow::Owned(k)), v));
                    }
                }
                (None, v) => kwargs.push((None, v)),
            }
        }
        (args, kwargs)
    }

    // ----- calls -----

    fn eval_call(&mut self, call: &'a ast::ExprCall) -> Value<'a> {
        let callee = self.eval(&call.func);
        match callee {
            Value::Imported(q) => {
                if q == "datetime.datetime" {
                    self.check_stdlib_datetime_call(call);
                }
                self.call_imported(&q, call)
            }
            Value::Function(f) => self.call_function(*f, call),
            Value::Class(class, kind) => {
                let (args, kwargs) = self.eval_arguments(&call.arguments);
                match kind {
                    ClassKind::Operator => {
                        self.create_operator(class.name.as_str(), call, &kwargs, None)
                    }
                    ClassKind::Dag => self.create_dag_from_call(call, &args, &kwargs, false),
                    ClassKind::Other if has_keyword(call, "task_id") => {
                        self.create_operator(class.name.as_str(), call, &kwargs, None)
                    }
                    ClassKind::Other => Value::Unknown,
                }
            }
            Value::Method(object, name) => self.call_method(*object, &name, call),
            Value::Unknown => {
                let builtin = match &*call.func {
                    Expr::Name(n)
                        if self.lookup(n.id.as_str()).is_none() && is_builtin(n.id.as_str()) =>
                    {
                        Some(n.id.as_str())
                    }
                    _ => None,
                };
                let (args, kwargs) = self.eval_arguments(&call.arguments);
                if let Some(b) = builtin {
                    let value = call_builtin(b, args, &kwargs);
                    return self.built(value);
                }
                if has_keyword(call, "task_id") {
                    let name = callee_name(&call.func).unwrap_or_else(|| "operator".into());
                    return self.create_operator(&name, call, &kwargs, None);
                }
                Value::Unknown
            }
            _ => {
                self.eval_arguments(&call.arguments);
                Value::Unknown
            }
        }
    }

    /// `Operator.partial(...)`: remembers the arguments and context until `.expand(...)`.
    fn operator_partial(&mut self, class_name: String, call: &'a ast::ExprCall) -> Value<'a> {
        let (_, kwargs) = self.eval_arguments(&call.arguments);
        let group = self.group_stack.last().copied();
        let dag =
            group.and_then(|g| self.model.groups[g].dag).or_else(|| self.dag_stack.last().copied());
        Value::OperatorPartial(Box::new(PendingOperator { class_name, call, kwargs, dag, group }))
    }

    fn call_imported(&mut self, qualified: &str, call: &'a ast::ExprCall) -> Value<'a> {
        if let Some(base) = qualified.strip_suffix(".partial")
            && airflow::classify(base) == ApiKind::Operator
        {
            return self.operator_partial(base.to_string(), call);
        }
        let (args, kwargs) = self.eval_arguments(&call.arguments);
        match airflow::classify(qualified) {
            ApiKind::DagClass => {
                let dag = self.create_dag_from_call(call, &args, &kwargs, true);
                if let Value::Dag(d) = dag {
                    self.model.dags[d].class_path = Some(qualified.to_string());
                }
                dag
            }
            ApiKind::TaskGroupClass => {
                let group = self.create_group_from_call(call, &args, &kwargs);
                if let Value::Group(g) = group {
                    self.model.groups[g].class_path = Some(qualified.to_string());
                }
                group
            }
            ApiKind::Operator => self.create_operator(qualified, call, &kwargs, None),
            ApiKind::Chain => {
                self.chain(call, args);
                Value::None
            }
            ApiKind::ChainLinear => {
                let groups: Vec<Vec<Endpoint>> = args.iter().map(|a| self.endpoints(a)).collect();
                for pair in groups.windows(2) {
                    self.add_edges(pair[0].clone(), pair[1].clone(), call.range());
                }
                Value::None
            }
            ApiKind::CrossDownstream => {
                let ups = args.first().map(|a| self.endpoints(a)).unwrap_or_default();
                let downs = args.get(1).map(|a| self.endpoints(a)).unwrap_or_default();
                self.add_edges(ups, downs, call.range());
                Value::None
            }
            ApiKind::Label => Value::EdgeLabel(Vec::new()),
            ApiKind::TaskDecorator | ApiKind::DagDecorator | ApiKind::TaskGroupDecorator => {
                Value::Unknown
            }
            ApiKind::Other if has_keyword(call, "task_id") => {
                self.create_operator(qualified, call, &kwargs, None)
            }
            ApiKind::Other => self.call_other_airflow(qualified, call, &args, &kwargs),
        }
    }

    /// `chain(a, [b, c], d)`: adjacent lists pair up element-wise, so their lengths must match.
    fn chain(&mut self, call: &'a ast::ExprCall, args: Vec<Value<'a>>) {
        for (i, pair) in args.windows(2).enumerate() {
            match (&pair[0], &pair[1]) {
                (Value::List(a), Value::List(b)) => {
                    if a.len() != b.len() {
                        let range = call
                            .arguments
                            .args
                            .get(i.saturating_add(1))
                            .map_or(call.range(), |e| e.range());
                        self.report(
                            &rules::CHAIN_LENGTH_MISMATCH,
                            range,
                            format!(
                                "chain() got adjacent lists of different lengths ({} and {}): AirflowException while Airflow imports the file",
                                a.len(),
                                b.len()
                            ),
                            Some("make the lists the same length, or use cross_downstream() for every pair".into()),
                        );
                        continue;
                    }
                    for (x, y) in a.iter().zip(b.iter()) {
                        let (ups, downs) = (self.endpoints(x), self.endpoints(y));
                        self.add_edges(ups, downs, call.range());
                    }
                }
                (a, b) => {
                    let (ups, downs) = (self.endpoints(a), self.endpoints(b));
                    self.add_edges(ups, downs, call.range());
                }
            }
        }
    }

    fn call_method(&mut self, object: Value<'a>, name: &str, call: &'a ast::ExprCall) -> Value<'a> {
        match (&object, name) {
            (
                Value::Task(_) | Value::XCom(_) | Value::Group(_) | Value::List(_),
                "set_downstream" | "set_upstream",
            ) => {
                let (args, _) = self.eval_arguments(&call.arguments);
                let other = args.into_iter().next().unwrap_or(Value::Unknown);
                let forward = name == "set_downstream";
                let (ups, downs) = if forward {
                    (self.endpoints(&object), self.endpoints(&other))
                } else {
                    (self.endpoints(&other), self.endpoints(&object))
                };
                self.add_edges(ups, downs, call.range());
                Value::None
            }
            // `task.as_teardown(setups=create)` returns the task and links the setups to it.
            (Value::Task(t) | Value::XCom(t), "as_setup" | "as_teardown") => {
                let (_, kwargs) = self.eval_arguments(&call.arguments);
                self.model.tasks[*t].role =
                    Some(if name == "as_setup" { TaskRole::Setup } else { TaskRole::Teardown });
                if name == "as_teardown"
                    && let Some(setups) = kwarg(&kwargs, "setups")
                {
                    let ups = self.endpoints(setups);
                    let downs = self.endpoints(&object);
                    self.add_edges(ups, downs, call.range());
                }
                object
            }
            (Value::Function(f), "override") => {
                let (_, kwargs) = self.eval_arguments(&call.arguments);
                let mut f = f.clone();
                if let FunctionKind::Task { task_id, .. } = &mut f.kind
                    && let Some((_, v)) =
                        kwargs.iter().find(|(k, _)| k.as_deref() == Some("task_id"))
                {
                    *task_id = Some(v.clone());
                }
                Value::Function(f)
            }
            (Value::Function(f), "partial") => {
                self.eval_arguments(&call.arguments);
                let mut f = f.clone();
                if let FunctionKind::Task { partial, .. } = &mut f.kind {
                    *partial = true;
                }
                Value::Function(f)
            }
            (Value::Function(f), "expand" | "expand_kwargs")
                if matches!(f.kind, FunctionKind::Task { .. }) =>
            {
                let f = (**f).clone();
                self.call_function(f, call)
            }
            (Value::Class(class, ClassKind::Operator), "partial") => {
                let name = class.name.to_string();
                self.operator_partial(name, call)
            }
            (Value::OperatorPartial(p), "expand" | "expand_kwargs") => {
                let (_, kwargs) = self.eval_arguments(&call.arguments);
                if name == "expand" {
                    let class = p.class_name.rsplit('.').next().unwrap_or(&p.class_name);
                    self.check_expand_values(class, call, &kwargs);
                }
                let p = (**p).clone();
                let mut all = p.kwargs;
                all.extend(kwargs);
                self.create_operator(&p.class_name, p.call, &all, Some((p.dag, p.group)))
            }
            (Value::Str(s), "split" | "rsplit") => {
                let (args, _) = self.eval_arguments(&call.arguments);
                split_string(s, name == "rsplit", &args)
            }
            (Value::Str(s), _) => {
                let (args, _) = self.eval_arguments(&call.arguments);
                match string_method(s, name, &args) {
                    Some(s) => self.built(Value::Str(s)),
                    None => Value::Unknown,
                }
            }
            (Value::FilePath(f), "resolve" | "absolute" | "expanduser") => {
                self.eval_arguments(&call.arguments);
                Value::FilePath(f.clone())
            }
            (Value::Hook(class), _) => {
                self.eval_arguments(&call.arguments);
                let class = class.rsplit('.').next().unwrap_or(class).to_string();
                self.report_environment(
                    call.range(),
                    format!("`{class}.{name}()` runs while the file is parsed: it uses the hook's connection, and the import fails where that connection is not defined"),
                );
                Value::Unknown
            }
            (Value::Dag(_) | Value::Task(_) | Value::Group(_), _) => {
                self.eval_arguments(&call.arguments);
                Value::Unknown
            }
            _ => {
                self.eval_arguments(&call.arguments);
                Value::Unknown
            }
        }
    }

    fn call_function(&mut self, f: FunctionRef<'a>, call: &'a ast::ExprCall) -> Value<'a> {
        let (args, kwargs) = self.eval_arguments(&call.arguments);
        self.check_call_binding(&f, call, args.len(), &kwargs);
        match f.kind.clone() {
            FunctionKind::Task { task_id, role, .. } => {
                let id = match task_id {
                    Some(v) => v,
                    None => Value::Str(f.def.name.to_string()),
                };
                let t = self.add_task(id, call.range(), f.def.name.as_str(), true, None, false);
                self.model.tasks[t].role = role;
                // TaskFlow data passing: every XComArg argument becomes an upstream.
                let mut ups = Vec::new();
                for v in args.iter().chain(kwargs.iter().map(|(_, v)| v)) {
                    collect_xcoms(v, &mut ups);
                }
                self.add_edges(
                    ups.into_iter().map(Endpoint::Task).collect(),
                    vec![Endpoint::Task(t)],
                    call.range(),
                );
                Value::XCom(t)
            }
            FunctionKind::Dag { decorator } => {
                self.called_dag_functions.insert(f.def.range);
                let (dargs, dkwargs) = match decorator {
                    Some(d) => {
                        let before = self.findings.len();
                        let r = self.eval_arguments(&d.arguments);
                        self.findings.truncate(before);
                        r
                    }
                    None => (Vec::new(), Vec::new()),
                };
                let id_value = kwarg(&dkwargs, "dag_id")
                    .cloned()
                    .or_else(|| dargs.first().cloned())
                    .unwrap_or_else(|| Value::Str(f.def.name.to_string()));
                let id_range = decorator
                    .and_then(|d| keyword(d, "dag_id").or_else(|| d.arguments.args.first()))
                    .map_or(f.def.name.range, |e| e.range());
                let needs_task_start_date = match decorator {
                    Some(d) => {
                        self.check_dag_kwargs(d);
                        self.check_start_date(d)
                    }
                    None => !self.version.at_least(2, 8),
                };
                let dag = self.add_dag(id_value, f.def.range, id_range);
                self.model.dags[dag].collected = true;
                self.model.dags[dag].class_path = Some(airflow::dag_class(self.version).into());
                if let Some(d) = decorator {
                    self.model.dags[dag].default_arg_keys = default_arg_keys(d, &dkwargs);
                }
                self.model.dags[dag].needs_task_start_date = needs_task_start_date;
                self.dag_stack.push(dag);
                // The body sees DAG params (`DagParam`), not the defaults: values are unknown.
                let unknown_args = args.iter().map(|_| Value::Unknown).collect();
                let unknown_kwargs =
                    kwargs.iter().map(|(k, _)| (k.clone(), Value::Unknown)).collect();
                let no_defaults = FunctionRef { defaults: Vec::new(), ..f.clone() };
                self.inline(&no_defaults, unknown_args, unknown_kwargs);
                self.dag_stack.pop();
                Value::Dag(dag)
            }
            FunctionKind::TaskGroup { group_id, decorator } => {
                let id = group_id.unwrap_or_else(|| Value::Str(f.def.name.to_string()));
                let mut gkwargs = Vec::new();
                if let Some(d) = decorator {
                    let before = self.findings.len();
                    gkwargs = self.eval_arguments(&d.arguments).1;
                    self.findings.truncate(before);
                }
                let prefix =
                    !matches!(kwarg(&gkwargs, "prefix_group_id"), Some(Value::Bool(false)));
                let g = self.add_group(id, call.range(), prefix, true, None, None);
                self.model.groups[g].class_path =
                    Some(airflow::task_group_class(self.version).into());
                if kwarg(&gkwargs, "default_args").is_some() {
                    self.model.groups[g].has_default_args = true;
                }
                self.group_stack.push(g);
                let ret = self.inline(&f, args, kwargs);
                self.group_stack.pop();
                match ret {
                    Some(
                        v @ (Value::Task(_) | Value::XCom(_) | Value::List(_) | Value::Group(_)),
                    ) => v,
                    _ => Value::Group(g),
                }
            }
            FunctionKind::Plain => self.inline(&f, args, kwargs).unwrap_or(Value::Unknown),
        }
    }

    /// DS214: Python's binding of call arguments to the function's parameters, where a
    /// mismatch raises TypeError at import: plain helpers and `@dag` functions when called, and
    /// TaskFlow functions (Airflow binds the arguments when the task is created; context-key
    /// parameters default to None, and `.partial`/`.expand` only check what is given).
    fn check_call_binding(
        &mut self,
        f: &FunctionRef<'a>,
        call: &'a ast::ExprCall,
        positional: usize,
        kwargs: &[Kwarg<'a>],
    ) {
        let (context_defaults, check_missing) = match &f.kind {
            FunctionKind::Plain | FunctionKind::Dag { .. } => (false, true),
            FunctionKind::Task { partial, .. } => {
                let expanding = matches!(&*call.func, Expr::Attribute(a) if matches!(a.attr.as_str(), "expand" | "expand_kwargs"));
                (true, !*partial && !expanding)
            }
            FunctionKind::TaskGroup { .. } => return,
        };
        // `.expand(...)` of a TaskFlow function: its arguments are mapped, not bound here.
        if !f.own_signature
            || call.arguments.args.iter().any(|a| matches!(a, Expr::Starred(_)))
            || call.arguments.keywords.iter().any(|k| k.arg.is_none())
            || matches!(&*call.func, Expr::Attribute(a) if a.attr.as_str() == "expand_kwargs")
        {
            return;
        }
        let params = &f.def.parameters;
        let name = f.def.name.as_str();
        let by_position: Vec<&ast::ParameterWithDefault> =
            params.posonlyargs.iter().chain(params.args.iter()).collect();
        let mut problem: Option<(String, TextRange)> = None;
        if positional > by_position.len() && params.vararg.is_none() {
            problem = Some((
                format!(
                    "{name}() takes {} positional argument{} but {positional} were given",
                    by_position.len(),
                    if by_position.len() == 1 { "" } else { "s" }
                ),
                call.range(),
            ));
        }
        let mut bound: Vec<&str> =
            by_position.iter().take(positional).map(|p| p.parameter.name.as_str()).collect();
        for (k, _) in kwargs {
            let Some(k) = k.as_deref() else { continue };
            let range = keyword_range(call, k);
            let named = params
                .args
                .iter()
                .chain(params.kwonlyargs.iter())
                .any(|p| p.parameter.name.as_str() == k);
            if named {
                if bound.contains(&k) && problem.is_none() {
                    problem =
                        Some((format!("{name}() got multiple values for argument '{k}'"), range));
                }
                bound.push(k);
            } else if params.kwarg.is_none() && problem.is_none() {
                problem =
                    Some((format!("{name}() got an unexpected keyword argument '{k}'"), range));
            }
        }
        if check_missing && problem.is_none() {
            let missing = params.iter_non_variadic_params().find(|p| {
                let n = p.parameter.name.as_str();
                p.default.is_none()
                    && !bound.contains(&n)
                    && !(context_defaults && airflow::CONTEXT_KEYS.contains(&n))
            });
            if let Some(p) = missing {
                problem = Some((
                    format!("{name}() missing a required argument: '{}'", p.parameter.name),
                    call.range(),
                ));
            }
        }
        let Some((message, range)) = problem else { return };
        let severity = if self.certain() && !self.guarded(|g| g.call_error) {
            Severity::Error
        } else {
            Severity::Warning
        };
        self.report_with(
            &rules::CALL_SIGNATURE_MISMATCH,
            severity,
            range,
            format!("{message} (TypeError while Airflow imports the file)"),
            None,
        );
    }

    /// Runs a function's body as if called, with its parameters bound.
    fn inline(
        &mut self,
        f: &FunctionRef<'a>,
        args: Vec<Value<'a>>,
        kwargs: Vec<Kwarg<'a>>,
    ) -> Option<Value<'a>> {
        if self.call_stack.len() >= MAX_CALL_DEPTH || self.call_stack.contains(&f.def.range) {
            return None;
        }
        let params = &f.def.parameters;
        // Each parameter is looked up among the keywords and the defaults.
        let lookups = kwargs.len().saturating_add(f.defaults.len()).saturating_add(1);
        if !self.spend(params.len().saturating_mul(lookups).saturating_add(CALL_COST)) {
            return None;
        }
        let parent = f.closure.filter(|id| self.frame_by_id(*id).is_some());
        self.push_frame(FrameKind::Function, parent);
        let default = |name: &str| f.defaults.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        let mut positional = args.into_iter();
        for p in params.posonlyargs.iter().chain(params.args.iter()) {
            let name = p.parameter.name.as_str();
            let v = match positional.next() {
                Some(v) => v,
                None => match kwarg(&kwargs, name).or_else(|| default(name)) {
                    Some(v) => self.copied(v),
                    None => Value::Unknown,
                },
            };
            self.frame_mut().vars.insert(name.to_string(), v);
        }
        for p in params.kwonlyargs.iter() {
            let name = p.parameter.name.as_str();
            let v = match kwarg(&kwargs, name).or_else(|| default(name)) {
                Some(v) => self.copied(v),
                None => Value::Unknown,
            };
            self.frame_mut().vars.insert(name.to_string(), v);
        }
        if let Some(v) = &params.vararg {
            self.frame_mut().vars.insert(v.name.to_string(), Value::Unknown);
        }
        if let Some(v) = &params.kwarg {
            self.frame_mut().vars.insert(v.name.to_string(), Value::Unknown);
        }
        self.call_stack.push(f.def.range);
        self.exec_block(&f.def.body);
        self.call_stack.pop();
        self.pop_frame()
    }

    // ----- DAGs, groups, tasks -----

    fn check_dag_kwargs(&mut self, call: &'a ast::ExprCall) {
        let mut schedule_args = Vec::new();
        for kw in call.arguments.keywords.iter() {
            let Some(name) = &kw.arg else { continue };
            let name = name.as_str();
            // Airflow 2 counts only truthy values (`schedule=None` is "not given").
            if matches!(name, "schedule" | "schedule_interval" | "timetable")
                && !matches!(self.eval_quiet(&kw.value), Value::None | Value::Bool(false))
            {
                schedule_args.push(name);
            }
            match airflow::check_dag_argument(name, self.version) {
                ArgCheck::Accepted => {}
                ArgCheck::Removed(hint) => self.report(
                    &rules::UNKNOWN_DAG_ARGUMENT,
                    from_call_start(call, kw.range),
                    format!(
                        "DAG() got an unexpected keyword argument '{name}' in Airflow {} (TypeError while Airflow imports the file)",
                        self.version
                    ),
                    Some(format!("`{name}` was {hint}")),
                ),
                ArgCheck::Unknown => {
                    let fix = if matches!(name, "execution_timeout" | "retries" | "retry_delay" | "owner" | "email" | "pool" | "queue" | "depends_on_past") {
                        Some(format!("`{name}` is a task argument: put it in `default_args` or on the operator"))
                    } else {
                        None
                    };
                    self.report(
                        &rules::UNKNOWN_DAG_ARGUMENT,
                        from_call_start(call, kw.range),
                        format!("DAG() got an unexpected keyword argument '{name}' (TypeError while Airflow imports the file)"),
                        fix,
                    )
                }
            }
        }
        if schedule_args.len() > 1 && !self.version.is_v3() {
            self.report(
                &rules::CONFLICTING_SCHEDULE,
                call.range(),
                format!(
                    "only one of `schedule`, `schedule_interval` and `timetable` may be given, got {}",
                    schedule_args.join(", ")
                ),
                Some("keep only `schedule=`".into()),
            );
        }
        let schedule = keyword(call, "schedule").or_else(|| keyword(call, "schedule_interval"));
        if let Some(expr) = schedule
            && let Value::Str(s) = self.eval_quiet(expr)
            && let Err(why) = super::schedule::check_schedule(&s)
        {
            self.report(&rules::INVALID_SCHEDULE, expr.range(), why, None);
        }
        if let Some(expr) = schedule
            && let Value::Str(s) = self.eval_quiet(expr)
            && s.trim() == "@continuous"
            && !call.arguments.keywords.iter().any(|k| k.arg.is_none())
        {
            // max_active_runs defaults to 16 (core.max_active_runs_per_dag).
            let runs = match keyword(call, "max_active_runs") {
                Some(m) => match self.eval_quiet(m) {
                    Value::Int(n) => Some((n, m.range())),
                    _ => None,
                },
                None => Some((16, expr.range())),
            };
            let defaulted = keyword(call, "max_active_runs").is_none();
            if let Some((n, range)) = runs
                && n > 1
            {
                self.report(
                    &rules::INVALID_SCHEDULE,
                    range,
                    if defaulted {
                        "the @continuous schedule needs max_active_runs=1, and the default (core.max_active_runs_per_dag) is 16 (error while Airflow imports the file)".to_string()
                    } else {
                        format!("the @continuous schedule needs max_active_runs=1, got {n} (error while Airflow imports the file)")
                    },
                    Some("pass `max_active_runs=1`".into()),
                );
            }
        }
    }

    /// Start-date rules, which moved between versions:
    /// - before 2.8, `DAG.add_task` refuses a task when neither it nor the DAG (nor
    ///   `default_args`) has a start_date — returned as `true` for `add_task` to check;
    /// - 2.8+: `DAG.__init__` refuses an explicit, truthy schedule without a start_date;
    /// - 3.x: `catchup=True` with a time-based schedule needs a start_date.
    fn check_start_date(&mut self, call: &'a ast::ExprCall) -> bool {
        if call.arguments.keywords.iter().any(|k| k.arg.is_none()) {
            return false;
        }
        let start_date = match keyword(call, "start_date") {
            Some(e) => !matches!(self.eval_quiet(e), Value::None),
            None => false,
        };
        let in_default_args = match keyword(call, "default_args").map(|e| self.eval_quiet(e)) {
            None | Some(Value::None) => Some(false),
            Some(Value::Dict(items)) => Some(items.iter().any(|(k, _)| k == "start_date")),
            Some(_) => None,
        };
        // Unknown default_args may carry a start_date: say nothing then.
        if start_date || in_default_args != Some(false) {
            return false;
        }
        if !self.version.at_least(2, 8) {
            return true;
        }
        let schedule =
            ["schedule", "schedule_interval", "timetable"].into_iter().find_map(|name| {
                let expr = keyword(call, name)?;
                let truthy = match self.eval_quiet(expr) {
                    Value::Str(s) => !s.is_empty(),
                    Value::List(items) => !items.is_empty(),
                    Value::None | Value::Bool(false) => false,
                    // `timedelta(days=1)`, `CronTriggerTimetable(...)`, `[Dataset(...)]`.
                    _ => matches!(expr, Expr::Call(_)),
                };
                truthy.then_some((name, expr))
            });
        let Some((name, expr)) = schedule else {
            return false;
        };
        if !self.version.is_v3() {
            self.report(
                &rules::MISSING_START_DATE,
                expr.range(),
                format!("`{name}` is set but the DAG has no start_date (ValueError: DAG is missing the start_date parameter)"),
                Some("pass `start_date=datetime(2024, 1, 1)` to the DAG or put it in `default_args`".into()),
            );
            return false;
        }
        let catchup = keyword(call, "catchup").map(|e| self.eval_quiet(e));
        let time_based = match self.eval_quiet(expr) {
            Value::Str(s) => !matches!(s.trim(), "@once" | "@continuous"),
            _ => {
                matches!(expr, Expr::Call(c) if matches!(&*c.func, Expr::Name(n) if n.id.as_str() == "timedelta"))
            }
        };
        if let (Some(Value::Bool(true)), true) = (catchup, time_based) {
            let range = keyword(call, "catchup").map_or(call.range(), |e| e.range());
            self.report(
                &rules::MISSING_START_DATE,
                range,
                "`catchup=True` with a time-based schedule needs a start_date (ValueError: start_date is required when catchup=True)".into(),
                Some("pass `start_date=...` or set `catchup=False`".into()),
            );
        }
        false
    }

    fn create_dag_from_call(
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

    /// `TaskGroup(...)` and `@task_group(...)` raise TypeError on unknown keywords.
    fn check_task_group_kwargs(&mut self, call: &'a ast::ExprCall) {
        for kw in call.arguments.keywords.iter() {
            if let Some(name) = &kw.arg
                && !airflow::TASK_GROUP_ARGS.contains(&name.as_str())
            {
                self.report(
                    &rules::UNKNOWN_TASK_GROUP_ARGUMENT,
                    from_call_start(call, kw.range),
                    format!("TaskGroup() got an unexpected keyword argument '{name}' (TypeError while Airflow imports the file)"),
                    None,
                );
            }
        }
    }

    fn add_dag(&mut self, id: Value<'a>, range: TextRange, id_range: TextRange) -> usize {
        self.spend(NODE_COST);
        let id = match id {
            Value::Str(s) => Some(s),
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
        self.model.dags.len().saturating_sub(1)
    }

    fn create_group_from_call(
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
        let g = self.add_group(id, id_range, prefix, renames, dag, parent);
        if kwarg(kwargs, "default_args").is_some() {
            self.model.groups[g].has_default_args = true;
        }
        Value::Group(g)
    }

    /// `explicit_dag` / `explicit_parent` come from `dag=` / `parent_group=`; otherwise the
    /// enclosing `with` blocks decide.
    fn add_group(
        &mut self,
        id: Value<'a>,
        range: TextRange,
        prefix: bool,
        renames: bool,
        explicit_dag: Option<usize>,
        explicit_parent: Option<usize>,
    ) -> usize {
        self.spend(NODE_COST);
        let parent = explicit_parent.or_else(|| self.group_stack.last().copied());
        let dag = explicit_dag
            .or_else(|| parent.and_then(|p| self.model.groups[p].dag))
            .or_else(|| self.dag_stack.last().copied());
        let raw = match id {
            Value::Str(s) => Some(s),
            Value::None => None,
            _ => None,
        };
        // Airflow 2 validates the group key only when it becomes a prefix; 3.x always does.
        if let Some(s) = &raw
            && (prefix || self.version.is_v3())
        {
            self.check_key(s, range, &rules::INVALID_GROUP_ID, "group_id", 200, false);
        }
        let mut full = match (raw, parent) {
            (Some(s), Some(p)) => {
                let parent_node = &self.model.groups[p];
                match (&parent_node.id, parent_node.prefix_group_id) {
                    (Some(pid), true) => Some(format!("{pid}.{s}")),
                    (None, true) => None,
                    (_, false) => Some(s),
                }
            }
            (s, None) => s,
            (None, Some(_)) => None,
        };
        if renames && let Some(id) = &full {
            full = Some(self.unique_id(id, dag));
        }
        if let Some(id) = &full {
            self.taken_ids.insert((dag, id.clone()));
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
        self.model.groups.len().saturating_sub(1)
    }

    /// `operator` is the class's dotted import path when known (`airflow.providers...X`),
    /// else its bare name.
    fn create_operator(
        &mut self,
        operator: &str,
        call: &'a ast::ExprCall,
        kwargs: &[Kwarg<'a>],
        partial_context: Option<(Option<usize>, Option<usize>)>,
    ) -> Value<'a> {
        let qualified = operator;
        let operator = qualified.rsplit('.').next().unwrap_or(qualified);
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
        let t = self.add_task(
            id_value,
            id_range,
            operator,
            false,
            Some(context.unwrap_or((explicit_dag, explicit_group))),
            has_start_date,
        );
        self.model.tasks[t].dag_unknown = dag_unknown;
        if operator == "SubDagOperator" && qualified.starts_with("airflow.") {
            self.attach_subdag(t, kwarg(kwargs, "subdag").cloned());
        }
        // A mapped operator (`.partial().expand()`) is a MappedOperator, not an instance.
        if qualified.starts_with("airflow.") && partial_context.is_none() {
            self.model.tasks[t].class_path = Some(qualified.to_string());
        }
        if qualified.starts_with("airflow.") && !has_unpacking {
            self.check_operator_arguments(qualified, call, kwargs, t);
        }
        if qualified.starts_with("airflow.") {
            self.check_argument_values(qualified, call, kwargs);
        }
        let mut ups = Vec::new();
        for (_, v) in kwargs {
            collect_xcoms(v, &mut ups);
        }
        self.add_edges(
            ups.into_iter().map(Endpoint::Task).collect(),
            vec![Endpoint::Task(t)],
            call.range(),
        );
        Value::Task(t)
    }

    /// DS215: reading the environment (Variables, Connections) while the file is parsed.
    fn report_environment(&mut self, range: TextRange, message: String) {
        self.report(
            &rules::ENVIRONMENT_AT_IMPORT,
            range,
            message,
            Some(
                "read it inside a task (or a template), where a missing value fails only that task"
                    .into(),
            ),
        );
    }

    /// Calls of Airflow names that are neither DAG structure nor operators: `Variable.get`,
    /// `BaseHook.get_connection`, and hook constructors.
    fn call_other_airflow(
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
        let Some((module, class)) = qualified.rsplit_once('.') else { return Value::Unknown };
        if !class.starts_with(|c: char| c.is_ascii_uppercase()) {
            return Value::Unknown;
        }
        let cat = crate::catalog::catalog();
        let target = cat.target_for(self.version);
        if cat.class_kind(target, module, class) != Some(crate::catalog::ClassKind::Hook) {
            return Value::Unknown;
        }
        if cat.operator_params(target, module, class).is_some_and(|p| p.fetches_connection) {
            self.report_environment(
                call.range(),
                format!("{class}() fetches its connection when it is created, here while the file is parsed: the import fails where that connection is not defined"),
            );
        }
        Value::Hook(qualified.to_string())
    }

    /// An AttributeError is certain unless the code may not run or catches it.
    fn attribute_error_severity(&self) -> Severity {
        if self.certain() && !self.guarded(|g| g.attribute_error) {
            Severity::Error
        } else {
            Severity::Warning
        }
    }

    /// The Airflow class a value is certainly an instance of, as a dotted import path.
    fn class_of(&self, value: &Value<'a>) -> Option<String> {
        match value {
            Value::Dag(d) => self.model.dags[*d].class_path.clone(),
            Value::Task(t) => self.model.tasks[*t].class_path.clone(),
            Value::Group(g) => self.model.groups[*g].class_path.clone(),
            Value::XCom(_) => Some(airflow::xcom_arg_class(self.version).to_string()),
            Value::Hook(class) => Some(class.clone()),
            _ => None,
        }
    }

    /// DS212: `dag.create_task_group(...)` and the like, on an Airflow object whose class (and
    /// every base) has no such attribute in the target version.
    fn check_attribute(&mut self, object: &Value<'a>, attr: &str, range: TextRange) {
        // `.output` on a TaskFlow result has its own rule (DS120).
        if attr.starts_with('_') || (matches!(object, Value::XCom(_)) && attr == "output") {
            return;
        }
        let Some(path) = self.class_of(object) else { return };
        let Some((module, class)) = path.rsplit_once('.') else { return };
        let cat = crate::catalog::catalog();
        let target = cat.target_for(self.version);
        let Some(attrs) = cat.class_attributes(target, module, class) else { return };
        if !attrs.certainly_lacks(attr) {
            return;
        }
        let class_name = cat
            .operator_params(target, module, class)
            .and_then(|p| p.defined_at.rsplit('.').next().map(str::to_string))
            .unwrap_or_else(|| class.to_string());
        let severity = self.attribute_error_severity();
        let fix =
            closest(attr, attrs.names.iter().copied()).map(|c| format!("did you mean `{c}`?"));
        self.report_with(
            &rules::UNKNOWN_ATTRIBUTE,
            severity,
            range,
            format!(
                "'{class_name}' object has no attribute '{attr}' in Airflow {} (AttributeError while Airflow imports the file)",
                self.version
            ),
            fix,
        );
    }

    /// Airflow 2's DagBag also collects the DAG of every SubDagOperator, whose id must be
    /// `<parent dag_id>.<task_id>`. A subdag built by code we cannot see (a factory imported
    /// from another module) is recorded by that id, with unknown tasks.
    fn attach_subdag(&mut self, task: usize, subdag: Option<Value<'a>>) {
        match subdag {
            Some(Value::Dag(d)) => self.model.dags[d].collected = true,
            Some(Value::Unknown) => {
                let node = &self.model.tasks[task];
                let parent = node.dag.and_then(|d| self.model.dags[d].id.clone());
                if let (Some(parent), Some(task_id)) = (parent, node.id.clone()) {
                    let range = node.range;
                    let d = self.add_dag(Value::Str(format!("{parent}.{task_id}")), range, range);
                    self.model.dags[d].collected = true;
                    self.model.dags[d].opaque = true;
                }
            }
            _ => {}
        }
    }

    /// DS211 and DS213: arguments the operator accepts only with a deprecation warning, and
    /// values its constructor refuses (`auto_remove=True`, an unknown `trigger_rule`).
    fn check_argument_values(
        &mut self,
        qualified: &str,
        call: &'a ast::ExprCall,
        kwargs: &[Kwarg<'a>],
    ) {
        let Some((module, class)) = qualified.rsplit_once('.') else { return };
        let cat = crate::catalog::catalog();
        let target = cat.target_for(self.version);
        let Some(params) = cat.operator_params(target, module, class) else { return };
        if !params.is_operator {
            return;
        }
        let class_name = params.defined_at.rsplit('.').next().unwrap_or(class).to_string();
        let severity = if self.certain() && !self.guarded(|g| g.call_error) {
            Severity::Error
        } else {
            Severity::Warning
        };
        for (name, value) in kwargs {
            let Some(name) = name.as_deref() else { continue };
            if params.deprecated.contains(name) {
                self.report(
                    &rules::DEPRECATED_OPERATOR_ARGUMENT,
                    keyword_range(call, name),
                    format!(
                        "`{name}` is deprecated for {class_name}: Airflow {} accepts it with a deprecation warning and ignores it",
                        self.version
                    ),
                    Some(format!("remove `{name}=...`")),
                );
            }
            let shown = match value {
                Value::Str(s) => format!("'{s}'"),
                Value::Bool(b) => {
                    if *b {
                        "True".into()
                    } else {
                        "False".into()
                    }
                }
                Value::Int(i) => i.to_string(),
                Value::None => "None".into(),
                _ => continue,
            };
            let given = match value {
                Value::Str(s) => Some(s.as_str()),
                _ => None,
            };
            // Values listed by the operator's own `__init__` (`if x not in (...): raise`).
            if let Some(allowed) = params.choices.get(name)
                && !given.is_some_and(|g| allowed.iter().any(|a| a == g))
            {
                let listed =
                    allowed.iter().map(|a| format!("'{a}'")).collect::<Vec<_>>().join(", ");
                self.report_with(
                    &rules::INVALID_ARGUMENT_VALUE,
                    severity,
                    keyword_range(call, name),
                    format!(
                        "{class_name}() refuses {name}={shown}: it must be one of {listed} (error while Airflow imports the file)"
                    ),
                    Some(format!("pass one of {listed}")),
                );
                continue;
            }
            match (name, given) {
                ("trigger_rule", Some(rule)) => {
                    let values = airflow::enum_values(target, airflow::TRIGGER_RULE);
                    if !values.is_empty() && !values.contains(&rule) {
                        let fix = closest(rule, values.iter().copied())
                            .map(|c| format!("did you mean `{c}`?"))
                            .or_else(|| {
                                Some("use a `TriggerRule` value, e.g. `all_success`".into())
                            });
                        self.report_with(
                            &rules::INVALID_ARGUMENT_VALUE,
                            severity,
                            keyword_range(call, name),
                            format!(
                                "trigger_rule {shown} is not a trigger rule of Airflow {} (error while Airflow imports the file)",
                                self.version
                            ),
                            fix,
                        );
                    }
                }
                ("weight_rule", Some(rule)) => {
                    let values = airflow::enum_values(target, airflow::WEIGHT_RULE);
                    if values.is_empty() || values.contains(&rule) {
                        continue;
                    }
                    let listed =
                        values.iter().map(|a| format!("'{a}'")).collect::<Vec<_>>().join(", ");
                    if rule.contains('.') {
                        // A class path: valid where a plugin registers that strategy.
                        self.report_with(
                            &rules::INVALID_ARGUMENT_VALUE,
                            Severity::Warning,
                            keyword_range(call, name),
                            format!(
                                "weight_rule {shown} is not one of {listed}: the file loads only where a plugin registers that priority weight strategy"
                            ),
                            None,
                        );
                    } else {
                        self.report_with(
                            &rules::INVALID_ARGUMENT_VALUE,
                            severity,
                            keyword_range(call, name),
                            format!(
                                "weight_rule {shown} is neither one of {listed} nor a registered priority weight strategy (error while Airflow imports the file)"
                            ),
                            Some(format!("pass one of {listed}")),
                        );
                    }
                }
                _ => {}
            }
        }
    }

    /// DS207/DS208: the operator's keyword arguments against its real signature (catalog).
    fn check_operator_arguments(
        &mut self,
        qualified: &str,
        call: &'a ast::ExprCall,
        kwargs: &[Kwarg<'a>],
        task: usize,
    ) {
        let Some((module, class)) = qualified.rsplit_once('.') else { return };
        let cat = crate::catalog::catalog();
        let target = cat.target_for(self.version);
        let Some(params) = cat.operator_params(target, module, class) else { return };
        if !params.is_operator {
            return;
        }
        let task_id = self.model.tasks[task].id.clone().unwrap_or_else(|| "?".into());
        let given: Vec<&str> = kwargs.iter().filter_map(|(k, _)| k.as_deref()).collect();
        if params.complete && !params.accepts_any_kwargs {
            let unknown: Vec<&str> =
                given.iter().copied().filter(|k| !params.accepted.contains(*k)).collect();
            if !unknown.is_empty() {
                let range = keyword_range(call, unknown[0]);
                let fix = unknown
                    .iter()
                    .filter_map(|u| {
                        closest(u, params.accepted.iter().map(String::as_str))
                            .map(|c| format!("`{u}` → `{c}`"))
                    })
                    .collect::<Vec<_>>();
                let listed =
                    unknown.iter().map(|u| format!("'{u}'")).collect::<Vec<_>>().join(", ");
                self.report_with(
                    &rules::UNKNOWN_OPERATOR_ARGUMENT,
                    if self.certain() { Severity::Error } else { Severity::Warning },
                    range,
                    format!(
                        "Invalid arguments were passed to {class} (task_id: {task_id}): {listed} (error while Airflow imports the file)"
                    ),
                    (!fix.is_empty()).then(|| format!("did you mean {}?", fix.join(", "))),
                );
            }
        }
        // Required arguments, unless something we cannot see may supply them.
        let positional = !call.arguments.args.is_empty();
        let node = &self.model.tasks[task];
        let group_defaults = node.group.is_some_and(|g| self.model.groups[g].has_default_args);
        let dag_defaults = match node.dag {
            Some(d) => self.model.dags[d].default_arg_keys.clone(),
            None if node.dag_unknown => None,
            None => Some(Vec::new()),
        };
        let (Some(dag_defaults), false, false) = (dag_defaults, positional, group_defaults) else {
            return;
        };
        if given.contains(&"default_args") {
            return;
        }
        let missing: Vec<&String> = params
            .required
            .iter()
            .filter(|r| r.as_str() != "task_id")
            .filter(|r| !given.contains(&r.as_str()) && !dag_defaults.contains(r))
            .collect();
        if !missing.is_empty() {
            let names = missing.iter().map(|m| format!("'{m}'")).collect::<Vec<_>>().join(", ");
            let plural = if missing.len() > 1 { "s" } else { "" };
            self.report_with(
                &rules::MISSING_OPERATOR_ARGUMENT,
                if self.certain() { Severity::Error } else { Severity::Warning },
                call.range(),
                format!(
                    "{class} (task_id: {task_id}) is missing keyword argument{plural} {names} (error while Airflow imports the file)"
                ),
                Some(format!("pass {names} to {class}")),
            );
        }
    }

    fn add_task(
        &mut self,
        id: Value<'a>,
        range: TextRange,
        operator: &str,
        taskflow: bool,
        explicit: Option<(Option<usize>, Option<usize>)>,
        has_start_date: bool,
    ) -> usize {
        self.spend(NODE_COST);
        let (explicit_dag, explicit_group) = explicit.unwrap_or((None, None));
        let group = explicit_group.or_else(|| self.group_stack.last().copied());
        let dag = explicit_dag
            .or_else(|| group.and_then(|g| self.model.groups[g].dag))
            .or_else(|| self.dag_stack.last().copied());
        let raw = match id {
            Value::Str(s) => Some(s),
            _ => None,
        };
        if let Some(s) = &raw {
            self.check_key(s, range, &rules::INVALID_TASK_ID, "task_id", 250, true);
        }
        if let Some(d) = dag
            && self.model.dags[d].needs_task_start_date
            && !has_start_date
        {
            // Reported once per DAG: the first task added raises.
            self.model.dags[d].needs_task_start_date = false;
            self.report(
                &rules::MISSING_START_DATE,
                range,
                format!(
                    "neither this task nor its DAG has a start_date (AirflowException in Airflow {}: DAG is missing the start_date parameter)",
                    self.version
                ),
                Some("pass `start_date=...` to the DAG or put it in `default_args`".into()),
            );
        }
        let mut full = match (raw, group) {
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
        };
        let in_unknown_loop = self.unknown_loops > 0;
        if taskflow && let Some(id) = &full {
            // TaskFlow renames repeats: `extract`, `extract__1`, ...
            full = Some(self.unique_id(id, dag));
        }
        if in_unknown_loop && taskflow {
            full = None;
        }
        if let Some(id) = &full {
            self.taken_ids.insert((dag, id.clone()));
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
        self.model.tasks.len().saturating_sub(1)
    }

    /// Airflow's renaming of repeated TaskFlow tasks and decorated groups: `x`, `x__1`, ...
    fn unique_id(&mut self, id: &str, dag: Option<usize>) -> String {
        if !self.taken_ids.contains(&(dag, id.to_string())) {
            return id.to_string();
        }
        let core = strip_suffix_number(id).to_string();
        // Start after the last suffix handed out for this core: repeats stay linear.
        let mut n = self.next_suffix.get(&(dag, core.clone())).copied().unwrap_or(1);
        loop {
            let candidate = format!("{core}__{n}");
            if !self.taken_ids.contains(&(dag, candidate.clone())) {
                self.next_suffix.insert((dag, core), n.saturating_add(1));
                return candidate;
            }
            // Ends: only finitely many ids are taken.
            n = n.saturating_add(1);
        }
    }

    fn check_key(
        &mut self,
        key: &str,
        range: TextRange,
        rule: &'static rules::Rule,
        what: &str,
        max: usize,
        dots: bool,
    ) {
        // Python's `$` also matches before one final newline.
        let key = key.strip_suffix('\n').unwrap_or(key);
        let bad: Vec<char> = key
            .chars()
            .filter(|c| {
                !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-' || (dots && *c == '.'))
            })
            .collect();
        let allowed =
            if dots { "letters, digits, `_`, `-` and `.`" } else { "letters, digits, `_` and `-`" };
        if key.chars().count() > max {
            self.report(
                rule,
                range,
                format!("{what} {key:?} is longer than {max} characters"),
                None,
            );
        } else if key.is_empty() && what != "group_id" {
            self.report(rule, range, format!("{what} must not be empty"), None);
        } else if !bad.is_empty() {
            // Python's `\w` also accepts non-ASCII letters: those load, but are risky.
            let only_unicode_word = bad.iter().all(|c| c.is_alphanumeric());
            let severity = if only_unicode_word { Severity::Warning } else { rule.severity };
            let shown: String = {
                let mut b = bad.clone();
                b.dedup();
                b.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(", ")
            };
            let suggestion: String = key
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '_' || c == '-' || (dots && c == '.') {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            self.report_with(
                rule,
                severity,
                range,
                format!("{what} {key:?} contains {shown}: only {allowed} are allowed"),
                Some(format!("use {suggestion:?}")),
            );
        }
    }
}

// ----- helpers -----

fn keyword<'a>(call: &'a ast::ExprCall, name: &str) -> Option<&'a Expr> {
    call.arguments
        .keywords
        .iter()
        .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == name))
        .map(|k| &k.value)
}

/// From the start of a call to the end of one of its arguments: an exception raised by the call
/// (a constructor refusing an argument) is reported by Python on the line where the call
/// starts, and the range still ends at the argument at fault.
fn from_call_start(call: &ast::ExprCall, argument: TextRange) -> TextRange {
    TextRange::new(call.range().start(), argument.end().max(call.range().start()))
}

/// Where a finding about the keyword argument `name` of `call` goes ([`from_call_start`]), or
/// the whole call when it has no such keyword.
fn keyword_range(call: &ast::ExprCall, name: &str) -> TextRange {
    call.arguments
        .keywords
        .iter()
        .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == name))
        .map_or(call.range(), |k| from_call_start(call, k.range))
}

fn has_keyword(call: &ast::ExprCall, name: &str) -> bool {
    keyword(call, name).is_some()
}

fn kwarg<'v, 'a>(kwargs: &'v [Kwarg<'a>], name: &str) -> Option<&'v Value<'a>> {
    kwargs.iter().rev().find(|(k, _)| k.as_deref() == Some(name)).map(|(_, v)| v)
}

/// The keys of a `default_args=` argument: `Some(keys)` when known (none given: empty), `None`
/// when it cannot be known.
fn default_arg_keys(call: &ast::ExprCall, kwargs: &[Kwarg<'_>]) -> Option<Vec<String>> {
    if call.arguments.keywords.iter().any(|k| k.arg.is_none()) {
        return None;
    }
    match kwarg(kwargs, "default_args") {
        None | Some(Value::None) => Some(Vec::new()),
        Some(Value::Dict(items)) => Some(items.iter().map(|(k, _)| k.clone()).collect()),
        Some(_) => None,
    }
}

/// The candidate nearest to `word` by edit distance, if it is close enough to be a typo.
fn closest<'c>(word: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    let limit = (word.len() / 3).clamp(1, 3);
    candidates
        .filter(|c| c.len().abs_diff(word.len()) <= limit)
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i.saturating_add(1);
        for (j, cb) in b.iter().enumerate() {
            let (Some(&left), Some(&cur)) = (row.get(j), row.get(j.saturating_add(1))) else {
                break;
            };
            let next = if ca == *cb { prev } else { prev.min(left).min(cur).saturating_add(1) };
            if let Some(cell) = row.get_mut(j.saturating_add(1)) {
                *cell = next;
            }
            prev = cur;
        }
    }
    row[b.len()]
}

fn callee_name(func: &Expr) -> Option<String> {
    match func {
        Expr::Name(n) => Some(n.id.to_string()),
        Expr::Attribute(a) => Some(a.attr.to_string()),
        _ => None,
    }
}

fn is_list_like(e: &Expr) -> bool {
    matches!(e, Expr::List(_) | Expr::Tuple(_) | Expr::ListComp(_))
}

fn is_globals_call(e: &Expr) -> bool {
    matches!(e, Expr::Call(c) if matches!(&*c.func, Expr::Name(n) if matches!(n.id.as_str(), "globals" | "vars" | "locals")))
}

fn collect_xcoms(v: &Value<'_>, out: &mut Vec<usize>) {
    match v {
        Value::XCom(t) => out.push(*t),
        Value::List(items) => items.iter().for_each(|i| collect_xcoms(i, out)),
        Value::Dict(items) => items.iter().for_each(|(_, i)| collect_xcoms(i, out)),
        _ => {}
    }
}

fn strip_suffix_number(id: &str) -> &str {
    if let Some((core, tail)) = id.rsplit_once("__")
        && !tail.is_empty()
        && tail.chars().all(|c| c.is_ascii_digit())
    {
        return core;
    }
    id
}

/// Names of the exception classes an `except` clause catches.
fn exception_names(e: &Expr) -> Vec<String> {
    match e {
        Expr::Name(n) => vec![n.id.to_string()],
        Expr::Attribute(a) => vec![a.attr.to_string()],
        Expr::Tuple(t) => t.elts.iter().flat_map(exception_names).collect(),
        _ => vec!["Exception".into()],
    }
}

/// Whether a test is statically true or false.
fn truthiness(test: &Expr, value: &Value<'_>) -> Option<bool> {
    // `if __name__ == "__main__":` never runs when Airflow imports the file.
    if let Expr::Compare(c) = test
        && c.ops.len() == 1
        && let (Expr::Name(n), Some(Expr::StringLiteral(s))) = (&*c.left, c.comparators.first())
        && n.id.as_str() == "__name__"
        && s.value.to_str() == "__main__"
    {
        return Some(matches!(c.ops[0], ast::CmpOp::NotEq));
    }
    if let Expr::Name(n) = test
        && n.id.as_str() == "TYPE_CHECKING"
    {
        return Some(false);
    }
    if let Expr::Attribute(a) = test
        && a.attr.as_str() == "TYPE_CHECKING"
    {
        return Some(false);
    }
    match value {
        Value::Bool(b) => Some(*b),
        Value::None => Some(false),
        Value::Int(i) => Some(*i != 0),
        Value::Str(s) => Some(!s.is_empty()),
        _ => None,
    }
}

/// `Path(__file__).stem` and friends: what a path made from `__file__` tells of the file's name.
fn path_attribute<'a>(name: &str, attr: &str) -> Value<'a> {
    let (stem, suffix) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    match attr {
        "name" => Value::Str(name.to_string()),
        "stem" => Value::Str(stem.to_string()),
        "suffix" => Value::Str(suffix.to_string()),
        _ => Value::Unknown,
    }
}

/// `os.path` and `pathlib` calls on `__file__` (or on strings).
fn path_function<'a>(qualified: &str, args: &[Value<'a>]) -> Value<'a> {
    match (qualified, args) {
        (
            "pathlib.Path" | "pathlib.PurePath" | "pathlib.PosixPath" | "os.path.abspath"
            | "os.path.realpath" | "os.path.normpath",
            [Value::FilePath(f)],
        ) => Value::FilePath(f.clone()),
        ("os.path.basename", [Value::FilePath(f)]) => Value::Str(f.clone()),
        ("os.path.basename", [Value::Str(s)]) => {
            Value::Str(s.rsplit('/').next().unwrap_or(s).to_string())
        }
        ("os.path.splitext", [Value::Str(s)]) => {
            let base_start = s.rfind('/').map_or(0, |i| i.saturating_add(1));
            match s[base_start..].rfind('.') {
                Some(i) if i > 0 => {
                    let at = base_start.saturating_add(i);
                    Value::List(vec![
                        Value::Str(s[..at].to_string()),
                        Value::Str(s[at..].to_string()),
                    ])
                }
                _ => Value::List(vec![Value::Str(s.clone()), Value::Str(String::new())]),
            }
        }
        _ => Value::Unknown,
    }
}

/// `"a.b".split(".")`, `rsplit(".", 1)`: a list of strings (Python's whitespace split when no
/// separator is given).
fn split_string<'a>(s: &str, from_right: bool, args: &[Value<'a>]) -> Value<'a> {
    let (sep, max) = match args {
        [] | [Value::None] => (None, None),
        [Value::Str(sep)] => (Some(sep.as_str()), None),
        // A negative maxsplit means no limit, as in Python.
        [Value::Str(sep), Value::Int(n)] => (Some(sep.as_str()), usize::try_from(*n).ok()),
        [Value::None, Value::Int(n)] => (None, usize::try_from(*n).ok()),
        _ => return Value::Unknown,
    };
    let parts: Vec<String> = match (sep, max, from_right) {
        (Some(""), _, _) => return Value::Unknown,
        (Some(sep), None, _) => s.split(sep).map(str::to_string).collect(),
        (Some(sep), Some(n), false) => {
            s.splitn(n.saturating_add(1), sep).map(str::to_string).collect()
        }
        (Some(sep), Some(n), true) => {
            let mut v: Vec<String> =
                s.rsplitn(n.saturating_add(1), sep).map(str::to_string).collect();
            v.reverse();
            v
        }
        (None, None, _) => s.split_whitespace().map(str::to_string).collect(),
        (None, Some(_), _) => return Value::Unknown,
    };
    Value::List(parts.into_iter().map(Value::Str).collect())
}

/// How a value prints in an f-string, when known.
fn display(v: &Value<'_>) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.into()),
        Value::None => Some("None".into()),
        _ => None,
    }
}

fn percent_format(fmt: &str, arg: &Value<'_>) -> Option<String> {
    let args: Vec<&Value<'_>> = match arg {
        Value::List(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut out = String::new();
    let mut it = args.into_iter();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '%' => out.push('%'),
            's' | 'd' => out.push_str(&display(it.next()?)?),
            _ => return None,
        }
        if out.len() > MAX_STR_LEN {
            return None;
        }
    }
    if it.next().is_some() { None } else { Some(out) }
}

/// `s.NAME(*args)` for the string methods DAG files use to build ids, when the result is at
/// most `MAX_STR_LEN` bytes.
fn string_method(s: &str, name: &str, args: &[Value<'_>]) -> Option<String> {
    let out = match (name, args) {
        ("lower", []) => s.to_lowercase(),
        ("upper", []) => s.to_uppercase(),
        ("strip", []) => s.trim().to_string(),
        ("removesuffix", [Value::Str(a)]) => s.strip_suffix(a.as_str()).unwrap_or(s).to_string(),
        ("removeprefix", [Value::Str(a)]) => s.strip_prefix(a.as_str()).unwrap_or(s).to_string(),
        ("replace", [Value::Str(a), Value::Str(b)]) => {
            // Sized before it is built: `s.replace("", x)` inserts x between all characters.
            let matches = s.matches(a.as_str()).count();
            let grown = matches.checked_mul(b.len().saturating_sub(a.len()))?;
            if s.len().checked_add(grown)? > MAX_STR_LEN {
                return None;
            }
            s.replace(a.as_str(), b)
        }
        ("format", args) => {
            let mut out = String::new();
            let mut rest = s;
            let mut next = 0usize;
            while let Some((before, after)) = rest.split_once('{') {
                out.push_str(before);
                if let Some(stripped) = after.strip_prefix('{') {
                    out.push('{');
                    rest = stripped;
                    continue;
                }
                let (field, after_close) = after.split_once('}')?;
                let v = if field.is_empty() {
                    let v = args.get(next)?;
                    next = next.saturating_add(1);
                    v
                } else {
                    args.get(field.parse::<usize>().ok()?)?
                };
                out.push_str(&display(v)?);
                if out.len() > MAX_STR_LEN {
                    return None;
                }
                rest = after_close;
            }
            if rest.contains('}') && !rest.contains("}}") {
                return None;
            }
            out.push_str(&rest.replace("}}", "}"));
            out
        }
        _ => return None,
    };
    (out.len() <= MAX_STR_LEN).then_some(out)
}

fn call_builtin<'a>(name: &str, args: Vec<Value<'a>>, kwargs: &[Kwarg<'a>]) -> Value<'a> {
    if !kwargs.is_empty() {
        return Value::Unknown;
    }
    match (name, args.as_slice()) {
        ("range", args) => {
            let ints: Option<Vec<i64>> =
                args.iter().map(|v| if let Value::Int(i) = v { Some(*i) } else { None }).collect();
            ints.and_then(|ints| arith::range(&ints))
                .map_or(Value::Unknown, |r| Value::List(r.into_iter().map(Value::Int).collect()))
        }
        ("list" | "tuple" | "sorted", [Value::List(items)]) => Value::List(items.clone()),
        ("list" | "tuple", [Value::Dict(items)]) => {
            Value::List(items.iter().map(|(k, _)| Value::Str(k.clone())).collect())
        }
        ("enumerate", [Value::List(items)]) => Value::List(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let i = i64::try_from(i).map_or(Value::Unknown, Value::Int);
                    Value::List(vec![i, v.clone()])
                })
                .collect(),
        ),
        ("str", [v]) => display(v).map_or(Value::Unknown, Value::Str),
        ("len", [Value::List(items)]) => {
            i64::try_from(items.len()).map_or(Value::Unknown, Value::Int)
        }
        _ => Value::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: Value<'_>) -> Option<Vec<String>> {
        match v {
            Value::List(items) => items
                .into_iter()
                .map(|i| match i {
                    Value::Str(s) => Some(s),
                    _ => None,
                })
                .collect(),
            _ => None,
        }
    }

    #[test]
    fn splits_like_python() {
        let s = |v: &str| Value::Str(v.to_string());
        assert_eq!(strings(split_string("a.b.c", false, &[s(".")])).unwrap(), ["a", "b", "c"]);
        assert_eq!(
            strings(split_string("a.b.c", true, &[s("."), Value::Int(1)])).unwrap(),
            ["a.b", "c"]
        );
        assert_eq!(
            strings(split_string("a.b.c", false, &[s("."), Value::Int(-1)])).unwrap(),
            ["a", "b", "c"]
        );
        assert_eq!(
            strings(split_string("a.b", false, &[s("."), Value::Int(i64::MAX)])).unwrap(),
            ["a", "b"]
        );
        assert_eq!(strings(split_string(" a  b ", false, &[])).unwrap(), ["a", "b"]);
        assert!(matches!(split_string("ab", false, &[s("")]), Value::Unknown));
    }

    #[test]
    fn file_paths() {
        assert!(matches!(path_attribute("etl.py", "stem"), Value::Str(s) if s == "etl"));
        assert!(matches!(path_attribute(".hidden", "stem"), Value::Str(s) if s == ".hidden"));
        assert!(matches!(path_attribute("etl.py", "parent"), Value::Unknown));
        let f = [Value::FilePath("etl.py".into())];
        assert!(matches!(path_function("os.path.basename", &f), Value::Str(s) if s == "etl.py"));
        assert!(matches!(path_function("pathlib.Path", &f), Value::FilePath(_)));
        assert!(
            strings(path_function("os.path.splitext", &[Value::Str("dir.d/etl.py".into())]))
                .is_some_and(|v| v == ["dir.d/etl", ".py"])
        );
        assert!(
            strings(path_function("os.path.splitext", &[Value::Str("dir.d/etl".into())]))
                .is_some_and(|v| v == ["dir.d/etl", ""])
        );
    }
}
