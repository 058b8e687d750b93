//! DS103: undefined names in code that runs later (function bodies and lambdas), with
//! Python's scoping rules: function scopes see enclosing functions and the module, never
//! class bodies. Module-level code is checked, in execution order, by the interpreter.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, ExprContext, Stmt};
use ruff_text_size::TextRange;
use rustc_hash::FxHashSet as HashSet;

use super::builtins::is_builtin;

/// Names bound directly in one scope (not in nested functions or classes).
#[derive(Default)]
struct Bindings<'a> {
    names: HashSet<&'a str>,
    globals: HashSet<&'a str>,
}

impl<'a> Bindings<'a> {
    fn of_body(body: &'a [Stmt]) -> Self {
        // Sized for a module's names up front: growing the set rehashes it each time.
        let mut b = Bindings {
            names: HashSet::with_capacity_and_hasher(32, Default::default()),
            globals: HashSet::default(),
        };
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

impl<'a> Visitor<'a> for Bindings<'a> {
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
            _ => super::guard_stack(|| visitor::walk_expr(self, expr)),
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

/// Every name `global`-declared in any function of the module (they become module names).
struct GlobalDecls<'a>(HashSet<&'a str>);

impl<'a> Visitor<'a> for GlobalDecls<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if let Stmt::Global(g) = stmt {
            self.0.extend(g.names.iter().map(|n| n.as_str()));
        }
        super::guard_stack(|| visitor::walk_stmt(self, stmt));
    }

    // `global` is a statement, and no expression holds a statement: only statements are walked.
    fn visit_expr(&mut self, _expr: &'a Expr) {}
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ScopeKind {
    /// Module level and module-level class bodies: the interpreter checks their names.
    Executed,
    Function,
    Class,
}

struct Scope<'a> {
    kind: ScopeKind,
    bindings: Bindings<'a>,
}

struct Checker<'a> {
    module: HashSet<&'a str>,
    scopes: Vec<Scope<'a>>,
    undefined: Vec<(TextRange, &'a str)>,
}

/// Undefined names in deferred code: (range, name).
pub(super) fn deferred_undefined_names(body: &[Stmt]) -> Vec<(TextRange, &str)> {
    let module_bindings = Bindings::of_body(body);
    let mut globals = GlobalDecls(HashSet::default());
    for stmt in body {
        globals.visit_stmt(stmt);
    }
    let mut module = module_bindings.names;
    module.extend(globals.0);
    let mut checker = Checker {
        module,
        scopes: vec![Scope { kind: ScopeKind::Executed, bindings: Bindings::default() }],
        undefined: Vec::new(),
    };
    for stmt in body {
        checker.visit_stmt(stmt);
    }
    checker.undefined
}

impl<'a> Checker<'a> {
    fn in_deferred(&self) -> bool {
        self.scopes.iter().any(|s| s.kind == ScopeKind::Function)
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
        let mut bindings = match body {
            FunctionBody::Stmts(stmts) => Bindings::of_body(stmts),
            FunctionBody::Expr(e) => {
                let mut b = Bindings::default();
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
        match body {
            FunctionBody::Stmts(stmts) => stmts.iter().for_each(|s| self.visit_stmt(s)),
            FunctionBody::Expr(e) => self.visit_expr(e),
        }
        self.scopes.pop();
    }
}

#[derive(Clone, Copy)]
enum FunctionBody<'a> {
    Stmts(&'a [Stmt]),
    Expr(&'a Expr),
}

impl<'a> Visitor<'a> for Checker<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
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
                let bindings = Bindings::of_body(&class.body);
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
            _ => super::guard_stack(|| visitor::walk_expr(self, expr)),
        }
    }

    fn visit_annotation(&mut self, _expr: &'a Expr) {}
}
