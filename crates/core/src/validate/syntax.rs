//! DS001 (what the parser rejects) and DS002 (what CPython's compiler rejects though the
//! grammar accepts it).

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Mod, Stmt};
use ruff_python_parser::Parsed;
use ruff_text_size::{Ranged, TextRange};
use rustc_hash::FxHashSet as HashSet;

use super::Sink;
use crate::rules;

pub(super) fn report_parse_errors(parsed: &Parsed<Mod>, sink: &mut Sink) {
    for error in parsed.errors() {
        let line = sink.lines.line_text(sink.lines.position(error.location.start()).line);
        let hint = quote_inside_string(line).map(|fixed| {
            format!(
                "a quote inside a string ends it early: write `{fixed}` (the other quotes outside)"
            )
        });
        sink.push(&rules::SYNTAX_ERROR, error.location, error.error.to_string(), hint);
    }
}

/// A line whose string holds its own quote character (`data="{"json": "data"}",`,
/// `bash_command='echo 'done''`): that string quoted with the other character, running to the
/// line's last quote. Looked for at each quote in a value position (after `=`, `(`, `,`, ...)
/// whose string Python ends right before a name; `None` when its text holds the other quote.
fn quote_inside_string(line: &str) -> Option<String> {
    if line.contains("\"\"\"") || line.contains("\'\'\'") || line.contains('\\') {
        return None;
    }
    for (quote, other) in [('"', '\''), ('\'', '"')] {
        let Some(last) = line.rfind(quote) else { continue };
        for (first, _) in line.match_indices(quote).filter(|(i, _)| *i < last) {
            let before = line[..first].trim_end();
            let value_position =
                before.is_empty() || before.ends_with(['=', '(', ',', ':', '[', '{']);
            let Some(inner) = line.get(first.saturating_add(1)..last) else { continue };
            // Where Python ends the string: a name right after it says it was cut short.
            let cut_short = inner
                .find(quote)
                .and_then(|i| inner.get(i.saturating_add(1)..))
                .and_then(|rest| rest.chars().next())
                .is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '{' | '[' | '$'));
            if value_position && cut_short && !inner.contains(other) {
                return Some(format!("{other}{inner}{other}"));
            }
        }
    }
    None
}

/// DS002 over the file: walks the whole module tracking the kind of scope and loop nesting,
/// like CPython's symtable/compiler passes do. `keywords_checked`: the repeated keyword
/// arguments of every call, when the caller has found them and the file has no `lambda`,
/// `yield` or `await`; then no expression needs a visit here (none holds a statement).
pub(super) fn check_compile_rules(
    body: &[Stmt],
    sink: &mut Sink,
    keywords_checked: Option<Vec<(TextRange, String)>>,
) {
    let expressions = keywords_checked.is_none();
    for (range, message) in keywords_checked.into_iter().flatten() {
        sink.push(&rules::COMPILE_ERROR, range, message, None);
    }
    let mut checker =
        CompileChecker { sink, scopes: vec![ScopeKind::Module], loops: vec![0], expressions };
    checker.check_future_imports(body);
    checker.visit_body(body);
}

/// `f(a=1, a=2)`: each keyword argument given again in the same call, as CPython's compiler
/// reports it.
pub(super) fn repeated_keywords(call: &ast::ExprCall, mut found: impl FnMut(TextRange, String)) {
    let keywords = &call.arguments.keywords;
    // A call has a handful of keywords: comparing each with those before it costs less than
    // a set (most calls in a DAG file are operators with keywords).
    let mut seen = HashSet::default();
    for (i, kw) in keywords.iter().enumerate() {
        let Some(arg) = &kw.arg else { continue };
        let repeated = if keywords.len() <= 16 {
            keywords[..i].iter().any(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == arg.as_str()))
        } else {
            !seen.insert(arg.as_str())
        };
        if repeated {
            found(kw.range, format!("keyword argument repeated: {arg}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::quote_inside_string;

    #[test]
    fn quotes_inside_strings() {
        let fixed = quote_inside_string(r#"            data="{"json": "data"}","#);
        assert_eq!(fixed.as_deref(), Some(r#"'{"json": "data"}'"#));
        let fixed = quote_inside_string("    bash_command='echo 'Yesterday's count'',");
        assert_eq!(fixed.as_deref(), Some(r#""echo 'Yesterday's count'""#));
        let fixed = quote_inside_string("    msg = 'it's done'");
        assert_eq!(fixed.as_deref(), Some(r#""it's done""#));
        assert_eq!(quote_inside_string(r#"    x = f(a, b"#), None);
        assert_eq!(quote_inside_string(r#"    print("a", "b")"#), None);
        let fixed = quote_inside_string(r#"    Op(task_id="post", cmd="echo {"s": "ok"}")"#);
        assert_eq!(fixed.as_deref(), Some(r#"'echo {"s": "ok"}'"#));
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ScopeKind {
    Module,
    Class,
    Function { is_async: bool },
    Lambda,
}

struct CompileChecker<'s, 'a> {
    sink: &'s mut Sink<'a>,
    scopes: Vec<ScopeKind>,
    /// Loop depth per scope: loops do not reach across function boundaries.
    loops: Vec<u32>,
    /// Whether expressions are visited (see [`check_compile_rules`]).
    expressions: bool,
}

const FUTURE_FEATURES: &[&str] = &[
    "nested_scopes",
    "generators",
    "division",
    "absolute_import",
    "with_statement",
    "print_function",
    "unicode_literals",
    "barry_as_FLUFL",
    "generator_stop",
    "annotations",
];

impl CompileChecker<'_, '_> {
    fn error(&mut self, range: ruff_text_size::TextRange, message: String) {
        self.sink.push(&rules::COMPILE_ERROR, range, message, None);
    }

    fn scope(&self) -> ScopeKind {
        *self.scopes.last().unwrap_or(&ScopeKind::Module)
    }

    fn in_function(&self) -> bool {
        matches!(self.scope(), ScopeKind::Function { .. } | ScopeKind::Lambda)
    }

    fn in_loop(&self) -> bool {
        self.loops.last().copied().unwrap_or(0) > 0
    }

    /// `from __future__ import x` must come first (after the docstring) and name a real feature.
    fn check_future_imports(&mut self, body: &[Stmt]) {
        let mut allowed = true;
        for (i, stmt) in body.iter().enumerate() {
            let is_docstring = i == 0
                && matches!(stmt, Stmt::Expr(e) if matches!(*e.value, Expr::StringLiteral(_)));
            match stmt {
                Stmt::ImportFrom(imp)
                    if imp.level == 0
                        && imp.module.as_ref().is_some_and(|m| m.as_str() == "__future__") =>
                {
                    if !allowed {
                        self.error(
                            imp.range,
                            "from __future__ imports must occur at the beginning of the file"
                                .into(),
                        );
                    }
                    for alias in &imp.names {
                        if !FUTURE_FEATURES.contains(&alias.name.as_str()) {
                            let message = format!("future feature {} is not defined", alias.name);
                            self.error(alias.range, message);
                        }
                    }
                }
                _ if is_docstring => {}
                _ => allowed = false,
            }
        }
    }

    fn with_scope(&mut self, kind: ScopeKind, f: impl FnOnce(&mut Self)) {
        self.scopes.push(kind);
        self.loops.push(0);
        f(self);
        self.loops.pop();
        self.scopes.pop();
    }

    fn check_parameters(&mut self, parameters: &ast::Parameters) {
        let mut seen = HashSet::default();
        for p in parameters.iter() {
            let name = p.name();
            if !seen.insert(name.as_str()) {
                self.error(
                    name.range,
                    format!("duplicate argument '{}' in function definition", name.as_str()),
                );
            }
        }
    }

    fn check_function_body(&mut self, def: &ast::StmtFunctionDef) {
        // `name is parameter and global` / `nonlocal`.
        let params: HashSet<&str> = def.parameters.iter().map(|p| p.name().as_str()).collect();
        for stmt in &def.body {
            match stmt {
                Stmt::Global(g) => {
                    for n in &g.names {
                        if params.contains(n.as_str()) {
                            self.error(n.range, format!("name '{}' is parameter and global", n));
                        }
                    }
                }
                Stmt::Nonlocal(g) => {
                    for n in &g.names {
                        if params.contains(n.as_str()) {
                            self.error(n.range, format!("name '{}' is parameter and nonlocal", n));
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

impl<'a> Visitor<'a> for CompileChecker<'_, '_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(def) => {
                for d in &def.decorator_list {
                    self.visit_decorator(d);
                }
                self.check_parameters(&def.parameters);
                // Defaults and annotations belong to the enclosing scope.
                for p in def.parameters.iter() {
                    if let Some(default) = p.default() {
                        self.visit_expr(default);
                    }
                    if let Some(annotation) = p.annotation() {
                        self.visit_expr(annotation);
                    }
                }
                if let Some(returns) = &def.returns {
                    self.visit_expr(returns);
                }
                self.check_function_body(def);
                self.with_scope(ScopeKind::Function { is_async: def.is_async }, |c| {
                    c.visit_body(&def.body);
                });
                return;
            }
            Stmt::ClassDef(class) => {
                for d in &class.decorator_list {
                    self.visit_decorator(d);
                }
                if let Some(arguments) = &class.arguments {
                    self.visit_arguments(arguments);
                }
                self.with_scope(ScopeKind::Class, |c| c.visit_body(&class.body));
                return;
            }
            Stmt::Return(ret) if !self.in_function() => {
                self.error(ret.range, "'return' outside function".into());
            }
            Stmt::Break(b) if !self.in_loop() => {
                self.error(b.range, "'break' outside loop".into());
            }
            Stmt::Continue(c) if !self.in_loop() => {
                self.error(c.range, "'continue' not properly in loop".into());
            }
            Stmt::Nonlocal(n) if self.scope() == ScopeKind::Module => {
                self.error(n.range, "nonlocal declaration not allowed at module level".into());
            }
            Stmt::ImportFrom(imp)
                if self.scope() != ScopeKind::Module
                    && imp.names.iter().any(|a| a.name.as_str() == "*") =>
            {
                self.error(imp.range, "import * only allowed at module level".into());
            }
            Stmt::Try(t) => {
                let n = t.handlers.len();
                for (i, h) in t.handlers.iter().enumerate() {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    if h.type_.is_none() && i.saturating_add(1) < n {
                        self.error(h.range, "default 'except:' must be last".into());
                    }
                }
            }
            Stmt::For(_) | Stmt::While(_) => {
                // Only the body (and not `else`) is inside the loop.
                let (body, orelse): (&[Stmt], &[Stmt]) = match stmt {
                    Stmt::For(f) => {
                        self.visit_expr(&f.target);
                        self.visit_expr(&f.iter);
                        (&f.body, &f.orelse)
                    }
                    Stmt::While(w) => {
                        self.visit_expr(&w.test);
                        (&w.body, &w.orelse)
                    }
                    _ => unreachable!(),
                };
                if let Some(depth) = self.loops.last_mut() {
                    *depth = depth.saturating_add(1);
                }
                self.visit_body(body);
                if let Some(depth) = self.loops.last_mut() {
                    *depth = depth.saturating_sub(1);
                }
                self.visit_body(orelse);
                return;
            }
            _ => {}
        }
        super::guard_stack(|| visitor::walk_stmt(self, stmt));
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if !self.expressions {
            return;
        }
        match expr {
            Expr::Call(call) => {
                repeated_keywords(call, |range, message| self.error(range, message));
            }
            Expr::Lambda(lambda) => {
                if let Some(parameters) = &lambda.parameters {
                    self.check_parameters(parameters);
                    for p in parameters.iter() {
                        if let Some(default) = p.default() {
                            self.visit_expr(default);
                        }
                    }
                }
                super::guard_stack(|| {
                    self.with_scope(ScopeKind::Lambda, |c| c.visit_expr(&lambda.body));
                });
                return;
            }
            Expr::Yield(_) | Expr::YieldFrom(_) if !self.in_function() => {
                let what = if matches!(expr, Expr::Yield(_)) { "'yield'" } else { "'yield from'" };
                self.error(expr.range(), format!("{what} outside function"));
            }
            Expr::YieldFrom(_) if self.scope() == (ScopeKind::Function { is_async: true }) => {
                self.error(expr.range(), "'yield from' inside async function".into());
            }
            Expr::Await(_) if !self.in_function() => {
                self.error(expr.range(), "'await' outside function".into());
            }
            Expr::Await(_) if self.scope() == (ScopeKind::Function { is_async: false }) => {
                self.error(expr.range(), "'await' outside async function".into());
            }
            _ => {}
        }
        super::walk_inside(self, expr);
    }
}
