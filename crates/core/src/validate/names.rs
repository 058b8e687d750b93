//! DS103: undefined names in code that runs later (function bodies and lambdas), with
//! Python's scoping rules: function scopes see enclosing functions and the module, never
//! class bodies. Module-level code is checked, in execution order, by the interpreter.
//!
//! Both walks skip what cannot matter to them, found from where the file's whole-tree scan
//! saw the nodes they look for ([`Landmarks`]): outside functions, subtrees with no `def` or
//! `lambda`; when collecting a scope's names, expressions with no `:=` or comprehension.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, ExprContext, Stmt};
use ruff_text_size::{Ranged, TextRange};
use rustc_hash::FxHashSet as HashSet;

use super::builtins::is_builtin;

/// Where the nodes the walks look for start (byte offsets, sorted), from the file's scan.
#[derive(Clone, Copy)]
pub(super) struct Landmarks<'l> {
    /// Every `def` and `lambda`: code that runs later.
    pub deferred: &'l [u32],
    /// Every `:=` and comprehension: the only expressions that bind names.
    pub binders: &'l [u32],
}

/// Whether a node starting at one of `starts` lies in `range`.
fn holds_any(starts: &[u32], range: TextRange) -> bool {
    let first = starts.partition_point(|&s| s < range.start().to_u32());
    starts.get(first).is_some_and(|&s| s < range.end().to_u32())
}

/// Names bound directly in one scope (not in nested functions or classes).
struct Bindings<'a, 'l> {
    names: HashSet<&'a str>,
    globals: HashSet<&'a str>,
    binders: &'l [u32],
}

impl<'a, 'l> Bindings<'a, 'l> {
    fn new(binders: &'l [u32]) -> Self {
        Bindings { names: HashSet::default(), globals: HashSet::default(), binders }
    }

    fn of_body(body: &'a [Stmt], binders: &'l [u32]) -> Self {
        let mut b = Bindings::new(binders);
        // Sized for a module's names up front: growing the set rehashes it each time.
        b.names.reserve(32);
        for stmt in body {
            b.visit_stmt(stmt);
        }
        b
    }

    fn target(&mut self, target: &'a Expr) {
        match target {
            Expr::Name(n) => {
                self.names.insert(n.id.as_str());
            }
            Expr::Tuple(t) => t.elts.iter().for_each(|e| self.target(e)),
            Expr::List(l) => l.elts.iter().for_each(|e| self.target(e)),
            Expr::Starred(s) => self.target(&s.value),
            other => self.visit_expr(other),
        }
    }
}

impl<'a> Visitor<'a> for Bindings<'a, '_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(def) => {
                self.names.insert(def.name.as_str());
                for d in &def.decorator_list {
                    self.visit_expr(&d.expression);
                }
                for p in def.parameters.iter() {
                    if let Some(default) = p.default() {
                        self.visit_expr(default);
                    }
                }
            }
            Stmt::ClassDef(class) => {
                self.names.insert(class.name.as_str());
                for d in &class.decorator_list {
                    self.visit_expr(&d.expression);
                }
                if let Some(arguments) = &class.arguments {
                    self.visit_arguments(arguments);
                }
            }
            Stmt::Assign(s) => {
                s.targets.iter().for_each(|t| self.target(t));
                self.visit_expr(&s.value);
            }
            Stmt::AnnAssign(s) => {
                self.target(&s.target);
                if let Some(v) = &s.value {
                    self.visit_expr(v);
                }
            }
            Stmt::AugAssign(s) => {
                self.target(&s.target);
                self.visit_expr(&s.value);
            }
            Stmt::For(s) => {
                self.target(&s.target);
                super::guard_stack(|| visitor::walk_stmt(self, stmt));
            }
            Stmt::With(s) => {
                for item in &s.items {
                    if let Some(v) = &item.optional_vars {
                        self.target(v);
                    }
                }
                super::guard_stack(|| visitor::walk_stmt(self, stmt));
            }
            Stmt::Import(s) => {
                for alias in &s.names {
                    let bound = match &alias.asname {
                        Some(a) => a.as_str(),
                        None => alias.name.as_str().split('.').next().unwrap_or(""),
                    };
                    self.names.insert(bound);
                }
            }
            Stmt::ImportFrom(s) => {
                for alias in &s.names {
                    self.names.insert(alias.asname.as_ref().unwrap_or(&alias.name).as_str());
                }
            }
            Stmt::Global(s) => {
                for n in &s.names {
                    self.globals.insert(n.as_str());
                }
            }
            Stmt::Nonlocal(s) => {
                // Bound in an enclosing function; treat as known here.
                for n in &s.names {
                    self.names.insert(n.as_str());
                }
            }
            Stmt::TypeAlias(s) => self.target(&s.name),
            Stmt::Try(t) => {
                for h in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    if let Some(n) = &h.name {
                        self.names.insert(n.as_str());
                    }
                }
                super::guard_stack(|| visitor::walk_stmt(self, stmt));
            }
            _ => super::guard_stack(|| visitor::walk_stmt(self, stmt)),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if !holds_any(self.binders, expr.range()) {
            // Nothing in it binds a name.
            return;
        }
        match expr {
            Expr::Lambda(l) => {
                if let Some(p) = &l.parameters {
                    for p in p.iter() {
                        if let Some(d) = p.default() {
                            self.visit_expr(d);
                        }
                    }
                }
            }
            Expr::Named(n) => {
                self.target(&n.target);
                self.visit_expr(&n.value);
            }
            _ => super::walk_inside(self, expr),
        }
    }

    fn visit_comprehension(&mut self, comprehension: &'a ast::Comprehension) {
        // Comprehension variables are local to the comprehension; counting them for the
        // whole scope can only hide a NameError, never invent one.
        self.target(&comprehension.target);
        visitor::walk_comprehension(self, comprehension);
    }

    fn visit_pattern(&mut self, pattern: &'a ast::Pattern) {
        match pattern {
            ast::Pattern::MatchAs(p) => {
                if let Some(n) = &p.name {
                    self.names.insert(n.as_str());
                }
            }
            ast::Pattern::MatchStar(p) => {
                if let Some(n) = &p.name {
                    self.names.insert(n.as_str());
                }
            }
            ast::Pattern::MatchMapping(p) => {
                if let Some(n) = &p.rest {
                    self.names.insert(n.as_str());
                }
            }
            _ => {}
        }
        visitor::walk_pattern(self, pattern);
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ScopeKind {
    /// Module level and module-level class bodies: the interpreter checks their names.
    Executed,
    Function,
    Class,
}

struct Scope<'a, 'l> {
    kind: ScopeKind,
    bindings: Bindings<'a, 'l>,
}

struct Checker<'a, 'l> {
    module: HashSet<&'a str>,
    scopes: Vec<Scope<'a, 'l>>,
    /// How many of `scopes` are functions (asked at every node).
    functions: u32,
    landmarks: Landmarks<'l>,
    undefined: Vec<(TextRange, &'a str)>,
}

/// Undefined names in deferred code: (range, name). `landmarks` are the scan's, for `body`,
/// and so are `globals`: every name `global`-declared anywhere (they become module names).
pub(super) fn deferred_undefined_names<'a>(
    body: &'a [Stmt],
    landmarks: Landmarks<'_>,
    globals: &[&'a str],
) -> Vec<(TextRange, &'a str)> {
    let module_bindings = Bindings::of_body(body, landmarks.binders);
    let mut module = module_bindings.names;
    module.extend(globals.iter().copied());
    let mut checker = Checker {
        module,
        scopes: vec![Scope {
            kind: ScopeKind::Executed,
            bindings: Bindings::new(landmarks.binders),
        }],
        functions: 0,
        landmarks,
        undefined: Vec::new(),
    };
    for stmt in body {
        checker.visit_stmt(stmt);
    }
    checker.undefined
}

impl<'a> Checker<'a, '_> {
    fn in_deferred(&self) -> bool {
        self.functions > 0
    }

    /// Outside functions only code that runs later is checked: a subtree without any is
    /// skipped.
    fn nothing_to_check(&self, range: TextRange) -> bool {
        !self.in_deferred() && !holds_any(self.landmarks.deferred, range)
    }

    fn is_defined(&self, name: &'a str) -> bool {
        let innermost = self.scopes.len().saturating_sub(1);
        for (i, scope) in self.scopes.iter().enumerate().rev() {
            // Class bodies are visible only to code directly inside them.
            if scope.kind == ScopeKind::Class && i != innermost {
                continue;
            }
            if scope.bindings.globals.contains(name) {
                break;
            }
            if scope.bindings.names.contains(name) {
                return true;
            }
        }
        self.module.contains(name) || is_builtin(name)
    }

    fn function_scope(&mut self, parameters: Option<&'a ast::Parameters>, body: FunctionBody<'a>) {
        let binders = self.landmarks.binders;
        let mut bindings = match body {
            FunctionBody::Stmts(stmts) => Bindings::of_body(stmts, binders),
            FunctionBody::Expr(e) => {
                let mut b = Bindings::new(binders);
                b.visit_expr(e);
                b
            }
        };
        if let Some(parameters) = parameters {
            for p in parameters.iter() {
                bindings.names.insert(p.name().as_str());
            }
        }
        self.scopes.push(Scope { kind: ScopeKind::Function, bindings });
        self.functions = self.functions.saturating_add(1);
        match body {
            FunctionBody::Stmts(stmts) => stmts.iter().for_each(|s| self.visit_stmt(s)),
            FunctionBody::Expr(e) => self.visit_expr(e),
        }
        self.scopes.pop();
        self.functions = self.functions.saturating_sub(1);
    }
}

#[derive(Clone, Copy)]
enum FunctionBody<'a> {
    Stmts(&'a [Stmt]),
    Expr(&'a Expr),
}

impl<'a> Visitor<'a> for Checker<'a, '_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if self.nothing_to_check(stmt.range()) {
            return;
        }
        match stmt {
            Stmt::FunctionDef(def) => {
                for d in &def.decorator_list {
                    self.visit_expr(&d.expression);
                }
                for p in def.parameters.iter() {
                    if let Some(default) = p.default() {
                        self.visit_expr(default);
                    }
                }
                super::guard_stack(|| {
                    self.function_scope(Some(&def.parameters), FunctionBody::Stmts(&def.body));
                });
            }
            Stmt::ClassDef(class) => {
                for d in &class.decorator_list {
                    self.visit_expr(&d.expression);
                }
                if let Some(arguments) = &class.arguments {
                    self.visit_arguments(arguments);
                }
                // Class bodies never leak into their methods, at module level or not.
                let bindings = Bindings::of_body(&class.body, self.landmarks.binders);
                self.scopes.push(Scope { kind: ScopeKind::Class, bindings });
                class.body.iter().for_each(|s| self.visit_stmt(s));
                self.scopes.pop();
            }
            // Annotations may be strings or postponed; skipping them avoids false alarms.
            Stmt::AnnAssign(s) => {
                self.visit_expr(&s.target);
                if let Some(v) = &s.value {
                    self.visit_expr(v);
                }
            }
            _ => super::guard_stack(|| visitor::walk_stmt(self, stmt)),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.nothing_to_check(expr.range()) {
            return;
        }
        match expr {
            Expr::Name(n) if n.ctx == ExprContext::Load => {
                if self.in_deferred() && !self.is_defined(n.id.as_str()) {
                    self.undefined.push((n.range, n.id.as_str()));
                }
            }
            Expr::Lambda(l) => {
                if let Some(p) = &l.parameters {
                    for p in p.iter() {
                        if let Some(d) = p.default() {
                            self.visit_expr(d);
                        }
                    }
                }
                super::guard_stack(|| {
                    self.function_scope(l.parameters.as_deref(), FunctionBody::Expr(&l.body));
                });
            }
            _ => super::walk_inside(self, expr),
        }
    }

    fn visit_annotation(&mut self, _expr: &'a Expr) {}
}
