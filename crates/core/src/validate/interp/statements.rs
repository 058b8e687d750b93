//! Statements, executed in order the way Python runs a module: blocks, `if`, `for`, `with`,
//! `try`, `match`.

use super::*;

impl<'a> Interp<'a> {
    pub(in crate::validate) fn exec_block(&mut self, body: &'a [Stmt]) -> Flow {
        for stmt in body {
            let flow = self.exec_stmt(stmt);
            if flow != Flow::Normal {
                return flow;
            }
        }
        Flow::Normal
    }

    pub(in crate::validate) fn exec_uncertain(&mut self, body: &'a [Stmt]) -> Flow {
        self.enter_uncertain();
        let flow = self.exec_block(body);
        self.leave_uncertain();
        flow
    }

    pub(in crate::validate) fn exec_stmt(&mut self, stmt: &'a Stmt) -> Flow {
        crate::validate::guard_stack(|| self.exec_stmt_inner(stmt))
    }

    pub(in crate::validate) fn exec_stmt_inner(&mut self, stmt: &'a Stmt) -> Flow {
        if !self.spend(1) {
            return Flow::Return;
        }
        match stmt {
            Stmt::Expr(s) => {
                self.eval_statement_expr(&s.value);
            }
            Stmt::Assign(s) => self.exec_assign(s),
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
            Stmt::Import(s) => return self.exec_import(s),
            Stmt::ImportFrom(s) => return self.exec_import_from(s),
            Stmt::FunctionDef(def) => self.define_function(def),
            Stmt::ClassDef(class) => self.define_class(class),
            Stmt::If(s) => return self.exec_if(s),
            Stmt::For(s) => return self.exec_for(s),
            Stmt::While(s) => return self.exec_while(s),
            Stmt::With(s) => return self.exec_with(s),
            Stmt::Try(s) => return self.exec_try(s),
            Stmt::Match(s) => return self.exec_match(s),
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
                        self.frame_mut().globals.insert(n.as_str());
                    }
                }
            }
            Stmt::Nonlocal(_) | Stmt::Pass(_) | Stmt::IpyEscapeCommand(_) => {}
            Stmt::Break(_) => return Flow::Break,
            Stmt::Continue(_) => return Flow::Continue,
        }
        Flow::Normal
    }

    pub(in crate::validate) fn exec_assign(&mut self, s: &'a ast::StmtAssign) {
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

    pub(in crate::validate) fn exec_import(&mut self, s: &'a ast::StmtImport) -> Flow {
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
        Flow::Normal
    }

    pub(in crate::validate) fn exec_import_from(&mut self, s: &'a ast::StmtImportFrom) -> Flow {
        if !self.spend(s.names.len().saturating_mul(IMPORT_COST)) {
            return Flow::Return;
        }
        let module = s.module.as_ref().map_or("", |m| m.as_str());
        let dotted: std::borrow::Cow<str> = if s.level == 0 {
            module.into()
        } else {
            format!("{}{}", ".".repeat(usize::try_from(s.level).unwrap_or(0)), module).into()
        };
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
            let qualified = self.dotted_path(Some(&*dotted).filter(|d| !d.is_empty()), name);
            self.bind(bound, Value::Imported(qualified));
        }
        Flow::Normal
    }

    pub(in crate::validate) fn exec_while(&mut self, s: &'a ast::StmtWhile) -> Flow {
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
        Flow::Normal
    }

    pub(in crate::validate) fn exec_match(&mut self, s: &'a ast::StmtMatch) -> Flow {
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
        Flow::Normal
    }

    /// A call to something imported from a module we know nothing about.
    pub(in crate::validate) fn is_opaque_call(&self, e: &Expr) -> bool {
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

    pub(in crate::validate) fn check_import(
        &mut self,
        module: &'a str,
        names: Vec<(&str, TextRange)>,
        range: TextRange,
    ) {
        let guarded = self.guarded(|g| g.import_error);
        // An import run again (in a loop, a helper called often) finds what it found before, and
        // the catalog's search for suggestions is too costly to repeat thousands of times.
        if !self.checked_imports.insert((range, module, guarded)) {
            return;
        }
        let import = crate::validate::imports::Import { module, names, range, guarded };
        crate::validate::imports::check(self.version, &import, &mut self.findings);
    }

    pub(in crate::validate) fn exec_if(&mut self, s: &'a ast::StmtIf) -> Flow {
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

    pub(in crate::validate) fn exec_for(&mut self, s: &'a ast::StmtFor) -> Flow {
        let iter = self.eval(&s.iter);
        let items = match iter {
            Value::List(items) if items.len() <= MAX_UNROLL => Some(items),
            Value::Dict(items) if items.len() <= MAX_UNROLL => {
                Some(items.into_iter().map(|(k, _)| Value::Str(k.into())).collect())
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

    pub(in crate::validate) fn exec_with(&mut self, s: &'a ast::StmtWith) -> Flow {
        let mut pushed_dags = 0u32;
        let mut pushed_groups = 0u32;
        // `with teardown_task:` / `with setup_task:`: tasks made inside are wrapped.
        let mut setup_teardown: Vec<TaskIdx> = Vec::new();
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

    pub(in crate::validate) fn exec_try(&mut self, s: &'a ast::StmtTry) -> Flow {
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

    pub(in crate::validate) fn bind_pattern_names(&mut self, pattern: &'a ast::Pattern) {
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
}
