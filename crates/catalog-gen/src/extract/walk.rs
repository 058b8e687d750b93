//! The walk over module-level statements: imports and other bindings, `__all__`, classes and
//! their `__init__` signatures.

use std::collections::HashMap;

use ruff_python_ast::visitor::{Visitor, walk_stmt};
use ruff_python_ast::{self as ast, Expr, Stmt};

use super::lazy::DictAdd;
use super::{ClassRec, InitSig, ModInfo, str_list, str_lit};
use crate::ast_walk::for_each_call;
use crate::class_facts;

/// `not AIRFLOW_V_3_1_PLUS` (the providers' `version_compat` flags): the version it asks for.
fn version_gate(test: &Expr) -> Option<(u32, u32, u32)> {
    let Expr::UnaryOp(u) = test else { return None };
    if !matches!(u.op, ast::UnaryOp::Not) {
        return None;
    }
    let name = match &*u.operand {
        Expr::Name(n) => n.id.as_str(),
        Expr::Attribute(a) => a.attr.as_str(),
        _ => return None,
    };
    let digits = name.strip_prefix("AIRFLOW_V_")?.strip_suffix("_PLUS")?;
    let parts: Vec<u32> = digits.split('_').map(|p| p.parse().ok()).collect::<Option<_>>()?;
    match parts[..] {
        [a, b] => Some((a, b, 0)),
        [a, b, c] => Some((a, b, c)),
        _ => None,
    }
}

fn is_type_checking(test: &Expr) -> bool {
    match test {
        Expr::Name(n) => n.id.as_str() == "TYPE_CHECKING",
        Expr::Attribute(a) => a.attr.as_str() == "TYPE_CHECKING",
        _ => false,
    }
}

pub(super) struct Ctx<'a> {
    pub(super) module: &'a str,
    pub(super) is_package: bool,
    pub(super) src: &'a str,
    pub(super) info: ModInfo,
    /// Every module-level binding with where it comes from (external modules included), for
    /// resolving class bases.
    pub(super) bindings: HashMap<String, String>,
    pub(super) dicts: HashMap<String, &'a ast::ExprDict>,
    /// Keys added to a module-level dict later: `D.update(OTHER)` (by name) and `D["k"] = v`.
    pub(super) dict_updates: HashMap<String, Vec<DictAdd<'a>>>,
    pub(super) getattr: Option<&'a ast::StmtFunctionDef>,
    /// `__getattr__ = make_getattr(import_map=D, ...)`: the dicts passed.
    pub(super) getattr_factory_dicts: Option<Vec<String>>,
    pub(super) shim_calls: Vec<&'a ast::ExprCall>,
}

impl<'a> Ctx<'a> {
    /// The package that `from .x import y` is relative to.
    fn rel_base(&self, level: u32) -> Option<String> {
        let mut parts: Vec<&str> = self.module.split('.').collect();
        if !self.is_package {
            parts.pop();
        }
        for _ in 1..level {
            parts.pop()?;
        }
        Some(parts.join("."))
    }

    fn bind(&mut self, name: &str, target: Option<String>) {
        if let Some(t) = &target {
            self.bindings.insert(name.to_string(), t.clone());
        } else {
            self.bindings.remove(name);
        }
        let keep = target.filter(|t| t == "airflow" || t.starts_with("airflow."));
        self.info.names.insert(name.to_string(), keep);
    }

    /// The dotted path an expression names, through this module's bindings.
    fn dotted(&self, e: &Expr) -> Option<String> {
        match e {
            Expr::Name(n) => Some(
                self.bindings
                    .get(n.id.as_str())
                    .cloned()
                    .unwrap_or_else(|| n.id.as_str().to_string()),
            ),
            Expr::Attribute(a) => Some(format!("{}.{}", self.dotted(&a.value)?, a.attr.as_str())),
            Expr::Subscript(s) => self.dotted(&s.value),
            _ => None,
        }
    }

    fn bind_target(&mut self, target: &Expr, alias: Option<String>) {
        match target {
            Expr::Name(n) => self.bind(n.id.as_str(), alias),
            Expr::Tuple(t) => t.elts.iter().for_each(|e| self.bind_target(e, None)),
            Expr::List(l) => l.elts.iter().for_each(|e| self.bind_target(e, None)),
            Expr::Starred(s) => self.bind_target(&s.value, None),
            _ => {}
        }
    }

    fn alias_of(&self, value: &Expr) -> Option<String> {
        match value {
            Expr::Name(n) => self.bindings.get(n.id.as_str()).cloned(),
            Expr::Attribute(_) => self.dotted(value).filter(|d| d.contains('.')),
            _ => None,
        }
    }

    pub(super) fn block(&mut self, body: &'a [Stmt]) {
        for s in body {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, s: &'a Stmt) {
        match s {
            Stmt::Import(imp) => self.import(imp),
            Stmt::ImportFrom(imp) => self.import_from(imp),
            Stmt::Assign(a) => self.assign(a),
            Stmt::AnnAssign(a) if a.value.is_none() => {
                // `Session: Callable[...]` declared here and assigned later through `global`
                // (airflow.settings): counted as defined.
                self.bind_target(&a.target, None);
            }
            Stmt::AnnAssign(a) => {
                if let Some(v) = &a.value {
                    if let (Expr::Name(n), Expr::Dict(d)) = (&*a.target, &**v) {
                        self.dicts.insert(n.id.to_string(), d);
                    }
                    if let Expr::Name(n) = &*a.target
                        && n.id.as_str() == "__all__"
                        && let Some(list) = str_list(v)
                    {
                        self.info.all = Some(list);
                    }
                    let alias = self.alias_of(v);
                    self.bind_target(&a.target, alias);
                }
            }
            Stmt::AugAssign(a) => {
                if let Expr::Name(n) = &*a.target
                    && n.id.as_str() == "__all__"
                    && let Some(list) = str_list(&a.value)
                {
                    self.info.all.get_or_insert_with(Vec::new).extend(list);
                }
            }
            Stmt::Expr(e) => self.expr_stmt(e),
            Stmt::FunctionDef(f) => self.function_def(f),
            Stmt::ClassDef(c) => {
                let rec = self.class_rec(c);
                let name = c.name.as_str().to_string();
                self.bind(&name, None);
                self.bindings.insert(name.clone(), format!("{}.{}", self.module, name));
                self.info.classes.insert(name, rec);
            }
            Stmt::If(i) => {
                if let Some(v) = version_gate(&i.test)
                    && i.body.iter().any(|s| matches!(s, Stmt::Raise(_)))
                {
                    self.info.requires_airflow = Some(v);
                }
                if !is_type_checking(&i.test) {
                    self.block(&i.body);
                }
                for c in &i.elif_else_clauses {
                    self.block(&c.body);
                }
            }
            Stmt::For(f) => {
                self.bind_target(&f.target, None);
                self.block(&f.body);
                self.block(&f.orelse);
            }
            Stmt::While(w) => {
                self.block(&w.body);
                self.block(&w.orelse);
            }
            Stmt::With(w) => {
                for item in &w.items {
                    if let Some(v) = &item.optional_vars {
                        self.bind_target(v, None);
                    }
                }
                self.block(&w.body);
            }
            Stmt::Try(t) => {
                self.block(&t.body);
                for h in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    self.block(&h.body);
                }
                self.block(&t.orelse);
                self.block(&t.finalbody);
            }
            Stmt::Match(m) => {
                for c in &m.cases {
                    self.block(&c.body);
                }
            }
            Stmt::TypeAlias(t) => self.bind_target(&t.name, None),
            _ => {}
        }
    }

    /// `import a.b` binds `a`; `import a.b as c` binds `c`.
    fn import(&mut self, imp: &'a ast::StmtImport) {
        for a in &imp.names {
            let full = a.name.as_str();
            match &a.asname {
                Some(asn) => self.bind(asn.as_str(), Some(full.to_string())),
                None => {
                    let top = full.split('.').next().unwrap_or(full);
                    self.bind(top, Some(top.to_string()));
                }
            }
        }
    }

    /// `from X import a, b as c, *` (relative X resolved against this module).
    fn import_from(&mut self, imp: &'a ast::StmtImportFrom) {
        let module = imp.module.as_ref().map(|m| m.as_str()).unwrap_or("");
        let base = if imp.level == 0 {
            Some(module.to_string())
        } else {
            self.rel_base(imp.level).map(|b| {
                if module.is_empty() {
                    b
                } else if b.is_empty() {
                    module.to_string()
                } else {
                    format!("{b}.{module}")
                }
            })
        };
        if module == "__future__" {
            return;
        }
        for a in &imp.names {
            let name = a.name.as_str();
            if name == "*" {
                match &base {
                    Some(b) => self.info.stars.push(b.clone()),
                    None => self.info.open = true,
                }
                continue;
            }
            let bound = a.asname.as_ref().map_or(name, |x| x.as_str());
            self.bind(bound, base.as_ref().map(|b| format!("{b}.{name}")));
        }
    }

    /// `NAME = ...`: aliases, `__all__`, dicts (`D = {...}`, `D["k"] = v`) and a `__getattr__`
    /// made by a factory call.
    fn assign(&mut self, a: &'a ast::StmtAssign) {
        if let [Expr::Subscript(sub)] = &a.targets[..]
            && let Expr::Name(d) = &*sub.value
            && let Some(k) = str_lit(&sub.slice)
        {
            self.dict_updates.entry(d.id.to_string()).or_default().push(DictAdd::Key(k, &a.value));
        }
        if let [Expr::Name(n)] = &a.targets[..]
            && n.id.as_str() == "__getattr__"
            && let Expr::Call(c) = &*a.value
        {
            let mut ds = Vec::new();
            for e in c.arguments.args.iter().chain(c.arguments.keywords.iter().map(|k| &k.value)) {
                if let Expr::Name(x) = e {
                    ds.push(x.id.to_string());
                }
            }
            self.getattr_factory_dicts = Some(ds);
        }
        if let [Expr::Name(n)] = &a.targets[..] {
            if n.id.as_str() == "__all__"
                && let Some(list) = str_list(&a.value)
            {
                self.info.all = Some(list);
            }
            if let Expr::Dict(d) = &*a.value {
                self.dicts.insert(n.id.to_string(), d);
            }
        }
        let alias = self.alias_of(&a.value);
        for t in &a.targets {
            self.bind_target(t, alias.clone());
        }
    }

    /// A call at module level: `D.update(OTHER)`, `add_deprecated_classes(...)`,
    /// `__all__.extend([...])`.
    fn expr_stmt(&mut self, e: &'a ast::StmtExpr) {
        if let Expr::Call(c) = &*e.value {
            let callee = self.dotted(&c.func).unwrap_or_default();
            if let Expr::Attribute(at) = &*c.func
                && at.attr.as_str() == "update"
                && let Expr::Name(d) = &*at.value
                && let Some(Expr::Name(other)) = c.arguments.args.first()
            {
                self.dict_updates
                    .entry(d.id.to_string())
                    .or_default()
                    .push(DictAdd::Merge(other.id.to_string()));
            }
            if callee.ends_with("add_deprecated_classes") {
                self.shim_calls.push(c);
            } else if callee == "__all__.extend"
                && let Some(arg) = c.arguments.args.first()
                && let Some(list) = str_list(arg)
            {
                self.info.all.get_or_insert_with(Vec::new).extend(list);
            }
        }
    }

    /// `def f`: binds `f`, the names it declares `global`, and a module-level `__getattr__`.
    fn function_def(&mut self, f: &'a ast::StmtFunctionDef) {
        self.bind(f.name.as_str(), None);
        // Names a function declares `global` become module attributes when it runs
        // (often at import time, e.g. `settings.initialize()`).
        let mut g = Globals { names: Vec::new() };
        for s in f.body.iter() {
            g.visit_stmt(s);
        }
        for n in g.names {
            if !self.info.names.contains_key(&n) {
                self.bind(&n, None);
            }
        }
        if f.name.as_str() == "__getattr__" {
            self.getattr = Some(f);
        }
    }

    fn class_rec(&self, c: &'a ast::StmtClassDef) -> ClassRec {
        let mut bases = Vec::new();
        if let Some(args) = &c.arguments {
            for b in args.args.iter() {
                if let Some(d) = self.dotted(b) {
                    bases.push(d);
                }
            }
        }
        let init_def = find_init(&c.body);
        let init = init_def.map(|f| self.init_sig(f));
        let attrs = class_facts::attributes(c, &bases);
        let deprecation = class_facts::class_deprecation(c, init_def);
        ClassRec { bases, init, attrs, deprecation }
    }

    fn init_sig(&self, f: &'a ast::StmtFunctionDef) -> InitSig {
        let p = &f.parameters;
        let mut sig = InitSig::default();
        let mut first = true;
        for pw in p.posonlyargs.iter() {
            if first {
                first = false;
                continue;
            }
            sig.params.push((pw.parameter.name.to_string(), pw.default.is_some(), '/'));
        }
        for pw in p.args.iter() {
            if first {
                first = false;
                continue;
            }
            sig.params.push((pw.parameter.name.to_string(), pw.default.is_some(), 'p'));
        }
        sig.varargs = p.vararg.is_some();
        for pw in p.kwonlyargs.iter() {
            sig.params.push((pw.parameter.name.to_string(), pw.default.is_some(), 'k'));
        }
        if p.kwarg.is_some() {
            let start = usize::from(f.range.start());
            let end = usize::from(f.range.end()).min(self.src.len());
            let text = self.src.get(start..end).unwrap_or("");
            sig.kwargs = Some(!text.contains("Invalid arguments were passed"));
        }
        // The keywords of `super().__init__(...)`-style calls in the body.
        let mut kws: Vec<String> = Vec::new();
        for_each_call(&f.body, |c| {
            if let Expr::Attribute(a) = &*c.func
                && a.attr.as_str() == "__init__"
            {
                for arg in c.arguments.keywords.iter().filter_map(|k| k.arg.as_ref()) {
                    if !kws.iter().any(|x| x == arg.as_str()) {
                        kws.push(arg.to_string());
                    }
                }
            }
        });
        sig.super_kw = kws;
        sig.body = class_facts::init_body(f);
        sig
    }
}

fn find_init(body: &[Stmt]) -> Option<&ast::StmtFunctionDef> {
    let mut found = None;
    for s in body {
        match s {
            Stmt::FunctionDef(f) if f.name.as_str() == "__init__" => found = Some(f),
            Stmt::If(i) => {
                if let Some(f) = find_init(&i.body) {
                    found = Some(f);
                }
            }
            _ => {}
        }
    }
    found
}

struct Globals {
    names: Vec<String>,
}

impl<'a> Visitor<'a> for Globals {
    fn visit_stmt(&mut self, s: &'a Stmt) {
        if let Stmt::Global(g) = s {
            self.names.extend(g.names.iter().map(|n| n.to_string()));
        }
        if matches!(s, Stmt::ClassDef(_)) {
            return;
        }
        walk_stmt(self, s);
    }
}
