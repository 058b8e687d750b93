//! `validate`: parse a DAG file, model it without running it, and apply every rule.

// Whatever the input, validation must not panic (issue 12): numbers from the file and sizes
// derived from it are only combined with checked or saturating arithmetic (`arith` for Python's
// operators) and only converted where nothing is lost. Enforced here for every module below.
#![deny(
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

mod airflow;
mod arith;
mod builtins;
mod checks;
mod context_keys;
mod dag_checks;
mod fixes;
mod imports;
mod interp;
mod memo;
mod model;
mod names;
mod schedule;
mod stages;
mod stdlib;
mod syntax;
mod unused_imports;
mod uses;

pub use memo::forget as forget_memos;
pub use stages::{Stage, record_stages, take_stage_times};

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, Stmt};
use ruff_text_size::{Ranged, TextRange};
use rustc_hash::FxHashSet as HashSet;

use crate::airflow_version::AirflowVersion;
use crate::finding::{Finding, Severity};
use crate::fix::Fix;
use crate::hint::Hint;
use crate::parse::parse_module;
use crate::report::{DagSummary, Report};
use crate::rules::{self, Rule};
use crate::source::LineIndex;
use stages::Clock;

/// What to validate against.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidateOptions {
    pub airflow_version: AirflowVersion,
}

/// Validates one Python source file. Never panics, whatever the input.
pub fn validate(source: &str, options: &ValidateOptions) -> Report {
    validate_source(source, None, options)
}

/// Like [`validate`], for a file whose name is known (e.g. `etl.py`; a path works too, only
/// its last component is used): `__file__` then gives what Airflow would see, so DAG ids built
/// from it (`Path(__file__).stem`, `os.path.basename(__file__)`) are known.
pub fn validate_named(source: &str, file_name: &str, options: &ValidateOptions) -> Report {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    validate_source(source, Some(base), options)
}

fn validate_source(source: &str, file_name: Option<&str>, options: &ValidateOptions) -> Report {
    let mut clock = Clock::start();
    let report = validate_stages(source, file_name, options, &mut clock);
    // What the stages built (tree, tokens, interpreter state) is freed as they return.
    clock.mark(Stage::Freed);
    report
}

fn validate_stages(
    source: &str,
    file_name: Option<&str>,
    options: &ValidateOptions,
    clock: &mut Clock,
) -> Report {
    let lines = LineIndex::new(source);
    clock.mark(Stage::Lines);
    let mut sink = Sink { lines: &lines, findings: Vec::new() };
    let parsed = parse_module(source);
    clock.mark(Stage::Parse);
    syntax::report_parse_errors(&parsed, &mut sink);
    let tokens = TokenFacts::of(parsed.tokens());
    clock.mark(Stage::Tokens);
    let module = parsed.syntax();
    let body: &[ruff_python_ast::Stmt] = match module {
        ruff_python_ast::Mod::Module(m) => &m.body,
        ruff_python_ast::Mod::Expression(_) => &[],
    };
    if let Some(range) = tokens.too_deep {
        // CPython refuses the file before parsing it; deeper analysis would only recurse.
        sink.push(
            &rules::SYNTAX_ERROR,
            range,
            "too many nested parentheses (more than 200 levels)".into(),
            None,
        );
        return finish(sink.findings, Vec::new(), options);
    }
    let has_syntax_errors = !sink.findings.is_empty();

    let is_v3 = options.airflow_version.is_v3();
    let removed_keys_possible = is_v3 && context_keys::may_use_removed_keys(source);
    // The uses index is collected on the way when DS217 will want it; the fixes may want it
    // too, in fewer files, and then walk for it themselves.
    let Scan {
        dynamic,
        deferred,
        binders,
        context_keys: scanned_keys,
        uses: scanned_uses,
        repeated_keywords,
        globals,
    } = scan(
        body,
        removed_keys_possible,
        unused_imports::needs_uses(body),
        !tokens.lambda_yield_or_await,
    );
    clock.mark(Stage::Scan);
    // Of the expressions, DS002 looks at lambdas, `yield`, `await` and calls' keywords: where
    // the tokens show none of the first three, the scan checks the keywords of every call,
    // unless it stops early.
    let keywords_checked = repeated_keywords.filter(|_| dynamic.is_none());
    syntax::check_compile_rules(body, &mut sink, keywords_checked);
    clock.mark(Stage::CompileRules);
    // The scan stops where names are made dynamically; the index needs the whole file.
    let uses = uses::LazyUses::new(body, scanned_uses.filter(|_| dynamic.is_none()));
    let postponed_annotations = body.iter().any(|stmt| {
        matches!(stmt, Stmt::ImportFrom(imp)
            if imp.module.as_ref().is_some_and(|m| m.as_str() == "__future__")
                && imp.names.iter().any(|a| a.name.as_str() == "annotations"))
    });
    let mut interp =
        interp::Interp::new(options.airflow_version, dynamic.is_some(), postponed_annotations);
    interp.file_name = file_name.filter(|n| !n.is_empty()).map(str::to_string);
    interp.run_module(body);
    clock.mark(Stage::Interpreter);
    let mut raw = std::mem::take(&mut interp.findings);
    let task_edges = dag_checks::task_edges(&interp.model);
    dag_checks::check(&interp.model, &task_edges, interp.opaque_module_values, &mut raw);
    clock.mark(Stage::DagChecks);
    if let Some(range) = dynamic {
        raw.push(model::RawFinding {
            rule: &rules::UNRESOLVED_DYNAMIC_CODE,
            severity: rules::UNRESOLVED_DYNAMIC_CODE.severity,
            range,
            message: "names are created dynamically here, so undefined names are reported as warnings only".into(),
            fix: Hint::default(),
        });
    } else if !deferred.is_empty() {
        let import_time: HashSet<TextRange> = raw
            .iter()
            .filter(|f| f.rule.code == rules::UNDEFINED_NAME.code)
            .map(|f| f.range)
            .collect();
        let landmarks = names::Landmarks { deferred: &deferred, binders: &binders };
        for (range, name) in names::deferred_undefined_names(body, landmarks, &globals) {
            if import_time.contains(&range) {
                continue;
            }
            raw.push(model::RawFinding {
                rule: &rules::UNDEFINED_NAME_AT_RUNTIME,
                severity: rules::UNDEFINED_NAME_AT_RUNTIME.severity,
                range,
                message: format!(
                    "name '{name}' is not defined: the task fails with NameError when it runs"
                ),
                fix: airflow::import_hint(name, options.airflow_version).into(),
            });
        }
    }
    clock.mark(Stage::DeferredNames);
    if dynamic.is_none() {
        unused_imports::check(body, &uses, options.airflow_version, &mut raw);
    }
    clock.mark(Stage::UnusedImports);
    if removed_keys_possible {
        // The scan stops where names are made dynamically; DS210 needs the whole file.
        let removed_keys = match scanned_keys {
            Some(found) if dynamic.is_none() => found,
            _ => context_keys::removed_context_keys(body),
        };
        for (range, key, instead) in removed_keys {
            raw.push(model::RawFinding {
                rule: &rules::REMOVED_CONTEXT_VARIABLE,
                severity: rules::REMOVED_CONTEXT_VARIABLE.severity,
                range,
                message: format!(
                    "`{key}` was removed from the task context in Airflow 3: the task fails or renders an empty value when it runs"
                ),
                fix: format!("use `{instead}`").into(),
            });
        }
    }
    clock.mark(Stage::ContextKeys);
    // On a file that does not parse, structure findings would describe a guess: keep only
    // the syntax errors, but still show the DAGs we could recover.
    if !has_syntax_errors {
        let fixes =
            fixes::Context::new(source, body, &uses, options.airflow_version, &interp.model);
        for f in raw {
            let autofix = fixes.fix_for(&f, &lines);
            sink.push_with(f.rule, f.severity, f.range, f.message, f.fix, autofix);
        }
    }
    clock.mark(Stage::Fixes);
    let dags = dag_checks::summaries(&interp.model, &task_edges, &lines);
    clock.mark(Stage::Summaries);
    let report = finish(sink.findings, dags, options);
    clock.mark(Stage::Finish);
    report
}

fn finish(mut findings: Vec<Finding>, dags: Vec<DagSummary>, options: &ValidateOptions) -> Report {
    findings.sort_by(|a, b| {
        (a.line, a.column, a.code, &a.message).cmp(&(b.line, b.column, b.code, &b.message))
    });
    findings.dedup();
    // Syntax errors are errors, so one error-severity finding decides the verdict.
    let loads = !findings.iter().any(|f| f.severity == Severity::Error);
    Report { airflow_version: options.airflow_version.to_string(), loads, dags, findings }
}

/// What one pass over the tokens tells before any walk of the tree.
struct TokenFacts {
    /// Where brackets nest deeper than CPython's tokenizer allows (200 levels: "too many
    /// nested parentheses").
    too_deep: Option<TextRange>,
    /// Whether the file has a `lambda`, `yield` or `await` anywhere.
    lambda_yield_or_await: bool,
}

impl TokenFacts {
    fn of(tokens: &ruff_python_ast::token::Tokens) -> Self {
        use ruff_python_ast::token::TokenKind;
        let mut facts = TokenFacts { too_deep: None, lambda_yield_or_await: false };
        let mut level = 0usize;
        for token in tokens.iter() {
            match token.kind() {
                TokenKind::Lpar | TokenKind::Lsqb | TokenKind::Lbrace => {
                    if level >= 200 {
                        facts.too_deep = Some(token.range());
                        return facts;
                    }
                    level = level.saturating_add(1);
                }
                TokenKind::Rpar | TokenKind::Rsqb | TokenKind::Rbrace => {
                    level = level.saturating_sub(1);
                }
                TokenKind::Lambda | TokenKind::Yield | TokenKind::Await => {
                    facts.lambda_yield_or_await = true;
                }
                _ => {}
            }
        }
        facts
    }
}

/// LLMs sometimes emit hundreds of nested calls; recursion over such trees grows the stack on
/// the heap instead of overflowing it (a plain call where that is unsupported, e.g. wasm).
#[inline]
pub(crate) fn guard_stack<R>(f: impl FnOnce() -> R) -> R {
    // Every node of every walk passes here. Asking stacker (a call and a thread-local lookup)
    // at each was 3-4% of validating; comparing an address with the room last measured on this
    // stack is a few instructions.
    let marker = 0u8;
    let here = std::hint::black_box(&marker) as *const u8 as usize;
    let (floor, ceiling) = STACK_ROOM.get();
    if floor < here && here <= ceiling {
        return f();
    }
    guard_stack_measured(here, f)
}

/// Free space below the red zone guard_stack keeps.
const RED_ZONE: usize = 64 * 1024;
/// The size of a stack segment stacker allocates when the red zone is reached.
const STACK_SEGMENT: usize = 1024 * 1024;

thread_local! {
    /// Addresses of this thread's current stack segment that have at least [`RED_ZONE`] below
    /// them: (floor, ceiling], both measured (the ceiling is the shallowest frame measured).
    /// Empty when unknown; reset whenever a segment grown here is left, so it only ever
    /// describes a segment still in use (segments never overlap). Sound as long as no caller
    /// runs validation on a stacker segment of its own (none does: ruff's parser grows its
    /// own only while parsing).
    static STACK_ROOM: std::cell::Cell<(usize, usize)> = const { std::cell::Cell::new((usize::MAX, 0)) };
}

/// [`guard_stack`] outside the measured room (`here`: an address in the caller's frame):
/// measure it again, or grow.
fn guard_stack_measured<R>(here: usize, f: impl FnOnce() -> R) -> R {
    if measure_stack_room(here) {
        return f();
    }
    let result = stacker::maybe_grow(RED_ZONE, STACK_SEGMENT, f);
    // The segment `f` ran on (if one was allocated) is gone.
    STACK_ROOM.set((usize::MAX, 0));
    result
}

/// Asks stacker how much stack is left; when more than the red zone, records the room and
/// says so. One function for every caller, so that the floors it computes are equal.
#[inline(never)]
fn measure_stack_room(caller: usize) -> bool {
    let marker = 0u8;
    let here = std::hint::black_box(&marker) as *const u8 as usize;
    match stacker::remaining_stack() {
        Some(remaining) if remaining >= RED_ZONE => {
            // `here` is above the stack pointer stacker measured from, so this floor is at or
            // above the true limit plus the red zone.
            let floor = here.saturating_sub(remaining).saturating_add(RED_ZONE);
            let (old_floor, old_ceiling) = STACK_ROOM.get();
            let ceiling = if old_floor == floor { old_ceiling.max(caller) } else { caller };
            STACK_ROOM.set((floor, ceiling));
            true
        }
        _ => false,
    }
}

/// Names and literals (f-strings aside): most of a tree's expressions, with nothing inside that
/// a walk of the validator looks at (none looks at a name's context or a literal's parts).
pub(crate) fn is_leaf(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::Name(_)
            | Expr::NumberLiteral(_)
            | Expr::BooleanLiteral(_)
            | Expr::NoneLiteral(_)
            | Expr::EllipsisLiteral(_)
            | Expr::StringLiteral(_)
            | Expr::BytesLiteral(_)
    )
}

/// `visitor::walk_expr` with the stack guarded, skipped for a leaf: half the nodes of a walk
/// then cost neither the call nor the stack check.
pub(crate) fn walk_inside<'a, V: Visitor<'a> + ?Sized>(v: &mut V, expr: &'a Expr) {
    if !is_leaf(expr) {
        guard_stack(|| visitor::walk_expr(v, expr));
    }
}

/// A rule that looks at one node at a time, its children left to the walk that calls it: the
/// scan every file gets feeds several such rules at once (a walk costs as much as they do).
trait NodeHooks<'a> {
    /// The statement itself, not the statements and expressions inside it.
    fn stmt(&mut self, stmt: &'a Stmt);
    /// The expression itself, not the expressions inside it.
    fn expr(&mut self, expr: &'a Expr);
}

/// A walk of the whole tree for `hooks` alone: where the scan that feeds them stopped early.
fn walk_nodes<'a, H: NodeHooks<'a>>(body: &'a [Stmt], hooks: H) -> H {
    struct Walk<H>(H);
    impl<'a, H: NodeHooks<'a>> Visitor<'a> for Walk<H> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            self.0.stmt(stmt);
            guard_stack(|| visitor::walk_stmt(self, stmt));
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            self.0.expr(expr);
            walk_inside(self, expr);
        }
    }
    let mut walk = Walk(hooks);
    for stmt in body {
        walk.visit_stmt(stmt);
    }
    walk.0
}

/// What a walk of the whole tree tells before the file is interpreted.
struct Scan<'a> {
    /// The first place where the file creates names dynamically (`from x import *`,
    /// `globals()`, `exec`, ...), if any. The walk stops there.
    dynamic: Option<TextRange>,
    /// Where code that runs later starts (every `def` and `lambda`; sorted; complete when
    /// `dynamic` is not): without any, DS103 has nothing to look at and its walks are skipped,
    /// and they skip the subtrees without any.
    deferred: Vec<u32>,
    /// Where every `:=` and comprehension starts (sorted): the expressions DS103's walks must
    /// enter to find the names a scope binds.
    binders: Vec<u32>,
    /// DS210's findings when asked for (Airflow 3), complete when `dynamic` is not.
    context_keys: Option<Vec<context_keys::RemovedKey>>,
    /// DS002's repeated keyword arguments (`f(a=1, a=2)`) when asked for, complete when
    /// `dynamic` is not.
    repeated_keywords: Option<Vec<(TextRange, String)>>,
    /// Every name declared `global` anywhere (module names for DS103), complete when `dynamic`
    /// is not.
    globals: Vec<&'a str>,
    /// The file's uses index when asked for (complete when `dynamic` is not).
    uses: Option<uses::Uses<'a>>,
}

/// `context_keys`, `uses`, `keywords`: also look for DS210's removed context keys, collect the
/// uses index and DS002's repeated keyword arguments, on the way (one walk for all).
fn scan(body: &[Stmt], context_keys: bool, uses: bool, keywords: bool) -> Scan<'_> {
    struct Finder<'a> {
        dynamic: Option<TextRange>,
        /// Function nesting depth.
        depth: u32,
        deferred: Vec<u32>,
        binders: Vec<u32>,
        context_keys: Option<context_keys::Finder>,
        uses: Option<uses::Uses<'a>>,
        repeated_keywords: Option<Vec<(TextRange, String)>>,
        globals: Vec<&'a str>,
    }
    impl<'a> Visitor<'a> for Finder<'a> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            if self.dynamic.is_some() {
                return;
            }
            if let Some(keys) = &mut self.context_keys {
                keys.stmt(stmt);
            }
            if let Some(uses) = &mut self.uses {
                uses.stmt(stmt);
            }
            match stmt {
                Stmt::ImportFrom(imp) if imp.names.iter().any(|a| a.name.as_str() == "*") => {
                    self.dynamic = Some(imp.range);
                }
                Stmt::Global(g) => self.globals.extend(g.names.iter().map(|n| n.as_str())),
                Stmt::FunctionDef(_) => {
                    self.deferred.push(stmt.start().to_u32());
                    self.depth = self.depth.saturating_add(1);
                    guard_stack(|| visitor::walk_stmt(self, stmt));
                    self.depth = self.depth.saturating_sub(1);
                }
                _ => guard_stack(|| visitor::walk_stmt(self, stmt)),
            }
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            if self.dynamic.is_some() {
                return;
            }
            if let Some(keys) = &mut self.context_keys {
                keys.expr(expr);
            }
            if let Some(uses) = &mut self.uses {
                uses.expr(expr);
            }
            // What follows looks at calls, lambdas and comprehensions, and inside them.
            if is_leaf(expr) {
                return;
            }
            if let (Expr::Call(call), Some(found)) = (expr, &mut self.repeated_keywords) {
                syntax::repeated_keywords(call, |range, message| found.push((range, message)));
            }
            // `globals()`, `exec` and `__import__` create module names from anywhere (a
            // factory function often does `globals()[dag_id] = dag`); `eval`, `locals()` and
            // `vars()` only matter at module level.
            if let Expr::Call(call) = expr
                && let Expr::Name(n) = &*call.func
            {
                let name = n.id.as_str();
                let module_level = self.depth == 0;
                let dynamic = matches!(name, "globals" | "exec" | "__import__")
                    || (module_level && name == "eval")
                    || (module_level
                        && matches!(name, "locals" | "vars")
                        && call.arguments.is_empty());
                if dynamic {
                    self.dynamic = Some(call.range());
                    return;
                }
            }
            match expr {
                Expr::Lambda(_) => {
                    self.deferred.push(expr.start().to_u32());
                    self.depth = self.depth.saturating_add(1);
                    guard_stack(|| visitor::walk_expr(self, expr));
                    self.depth = self.depth.saturating_sub(1);
                    return;
                }
                Expr::Named(_)
                | Expr::ListComp(_)
                | Expr::SetComp(_)
                | Expr::DictComp(_)
                | Expr::Generator(_) => self.binders.push(expr.start().to_u32()),
                _ => {}
            }
            guard_stack(|| visitor::walk_expr(self, expr));
        }
    }
    let mut finder = Finder {
        dynamic: None,
        depth: 0,
        deferred: Vec::new(),
        binders: Vec::new(),
        context_keys: context_keys.then(context_keys::Finder::default),
        uses: uses.then(uses::Uses::new),
        repeated_keywords: keywords.then(Vec::new),
        globals: Vec::new(),
    };
    for stmt in body {
        finder.visit_stmt(stmt);
    }
    // A comprehension is walked generators first: its parts are met out of source order.
    finder.deferred.sort_unstable();
    finder.binders.sort_unstable();
    Scan {
        dynamic: finder.dynamic,
        deferred: finder.deferred,
        binders: finder.binders,
        context_keys: finder.context_keys.map(|k| k.found),
        uses: finder.uses,
        repeated_keywords: finder.repeated_keywords,
        globals: finder.globals,
    }
}

/// Collects findings, converting ranges to line/column.
pub(crate) struct Sink<'a> {
    pub lines: &'a LineIndex<'a>,
    pub findings: Vec<Finding>,
}

impl Sink<'_> {
    pub fn push(&mut self, rule: &Rule, range: TextRange, message: String, fix: impl Into<Hint>) {
        self.push_with(rule, rule.severity, range, message, fix.into(), None);
    }

    pub fn push_with(
        &mut self,
        rule: &Rule,
        severity: Severity,
        range: TextRange,
        message: String,
        fix: Hint,
        autofix: Option<Fix>,
    ) {
        let (start, end) = self.lines.span(range);
        self.findings.push(Finding {
            code: rule.code,
            severity,
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
            message,
            fix,
            autofix,
        });
    }
}
