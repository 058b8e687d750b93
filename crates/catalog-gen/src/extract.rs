//! What one Python module defines at module level, read from its AST.

use std::collections::{BTreeMap, HashMap};

use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_python_parser::{Mode, ParseOptions, parse_unchecked};

use crate::class_facts::{self, Attributes, Deprecation, InitBody, plain_token};

/// Module-level facts of one module.
#[derive(Clone, Default, Debug)]
pub struct ModInfo {
    pub is_package: bool,
    /// Name -> where it comes from (absolute dotted path; only kept for `airflow.*` targets).
    pub names: BTreeMap<String, Option<String>>,
    /// `__all__`, when it is a literal list/tuple.
    pub all: Option<Vec<String>>,
    /// Any attribute may exist (an unmodelled module `__getattr__`, a star import from
    /// outside Airflow, a wildcard deprecation shim).
    pub open: bool,
    /// A wildcard shim: every attribute is forwarded to this module.
    pub forward: Option<String>,
    /// `from X import *` (absolute X).
    pub stars: Vec<String>,
    pub classes: BTreeMap<String, ClassRec>,
    /// `if not AIRFLOW_V_3_1_PLUS: raise ...` at module level: importing the module raises on
    /// Airflow older than this `(major, minor, patch)`.
    pub requires_airflow: Option<(u32, u32, u32)>,
}

impl ModInfo {
    /// Merges the same module shipped by another wheel (namespace packages).
    pub fn merge(&mut self, other: &ModInfo) {
        for (k, v) in &other.names {
            self.names.entry(k.clone()).or_insert_with(|| v.clone());
        }
        for (k, v) in &other.classes {
            self.classes.entry(k.clone()).or_insert_with(|| v.clone());
        }
        self.open |= other.open;
        self.stars.extend(other.stars.iter().cloned());
    }
}

/// A module created at import time by Airflow's `add_deprecated_classes`.
#[derive(Clone, Default, Debug)]
pub struct VirtualMod {
    pub names: BTreeMap<String, Option<String>>,
    pub wildcard: Option<String>,
    /// The shim adds names to the calling module itself (`__name__` key).
    pub is_self: bool,
}

#[derive(Clone, Debug)]
pub struct ClassRec {
    /// Bases as absolute dotted paths where they could be resolved, otherwise as written.
    pub bases: Vec<String>,
    pub init: Option<InitSig>,
    pub attrs: Attributes,
    pub deprecation: Option<Deprecation>,
}

#[derive(Clone, Debug, Default)]
pub struct InitSig {
    /// (name, has_default, kind) with kind 'p' positional-or-keyword, 'k' keyword-only,
    /// '/' positional-only; `self` is left out.
    pub params: Vec<(String, bool, char)>,
    pub varargs: bool,
    /// `Some(true)`: `**kwargs` accepted; `Some(false)`: `**kwargs` present but unknown
    /// arguments are rejected (Airflow's BaseOperator); `None`: no `**kwargs`.
    pub kwargs: Option<bool>,
    /// Keywords this `__init__` passes explicitly to `super().__init__(...)`.
    pub super_kw: Vec<String>,
    /// What the body does with `**kwargs` and argument values.
    pub body: InitBody,
}

/// Whether attributes are recorded for the classes of a module: Airflow's core object model
/// (DAG, task groups, XComArgs, operators and their mixins) and every operator, sensor and
/// transfer module of the providers — what the validator can meet at import time. Other
/// classes are stored as `?` (attributes unknown), to keep the catalog small.
fn records_attributes(module: &str) -> bool {
    if !module.starts_with("airflow.providers.") {
        return true;
    }
    module.split('.').any(|s| matches!(s, "operators" | "sensors" | "transfers" | "decorators"))
}

impl ClassRec {
    /// `BASES PARAMS ATTRS [DEPRECATION]` as stored in the catalog (see docs/CATALOG.md).
    pub fn encode(&self, module: &str) -> String {
        let bases = if self.bases.is_empty() { "-".to_string() } else { self.bases.join(",") };
        let params = match &self.init {
            None => "-".to_string(),
            Some(sig) => {
                let mut toks: Vec<String> = Vec::new();
                for (n, d, k) in &sig.params {
                    let mut t = String::new();
                    match k {
                        'k' => t.push(':'),
                        '/' => t.push('/'),
                        _ => {}
                    }
                    t.push_str(n);
                    if *d {
                        t.push('?');
                    }
                    if let Some((_, values)) = sig.body.choices.iter().find(|(p, _)| p == n) {
                        for v in values {
                            t.push('|');
                            t.push_str(v);
                        }
                    }
                    toks.push(t);
                }
                if sig.varargs {
                    toks.push("*".into());
                }
                match sig.kwargs {
                    Some(true) => toks.push("**".into()),
                    Some(false) => toks.push("**!".into()),
                    None => {}
                }
                for s in &sig.super_kw {
                    toks.push(format!("^{s}"));
                }
                if sig.body.fetches_connection {
                    toks.push("@".into());
                }
                if sig.body.super_positional > 0 {
                    toks.push(format!("^{}", sig.body.super_positional));
                }
                if sig.kwargs.is_some() {
                    for (k, deprecated) in &sig.body.kwargs_read {
                        if plain_token(k) && !sig.params.iter().any(|(n, _, _)| n == k) {
                            toks.push(format!("{}{k}", if *deprecated { '~' } else { '+' }));
                        }
                    }
                    for k in &sig.body.kwargs_set {
                        if plain_token(k) {
                            toks.push(format!("={k}"));
                        }
                    }
                }
                if toks.is_empty() { "()".into() } else { toks.join(",") }
            }
        };
        let attrs = if records_attributes(module) {
            // The `__init__`'s own parameters are implied (the reader adds them): most are
            // stored as `self.<param>`, and listing one too many never causes a report.
            let params: Vec<&str> = self
                .init
                .as_ref()
                .map(|sig| sig.params.iter().map(|(n, _, _)| n.as_str()).collect())
                .unwrap_or_default();
            self.attrs.encode(&params)
        } else {
            "?".to_string()
        };
        let mut out = format!("{bases} {params} {attrs}");
        if let Some(d) = &self.deprecation {
            out.push(' ');
            out.push_str(&d.encode());
        }
        out
    }
}

fn str_lit(e: &Expr) -> Option<String> {
    match e {
        Expr::StringLiteral(s) => Some(s.value.to_str().to_string()),
        _ => None,
    }
}

fn str_list(e: &Expr) -> Option<Vec<String>> {
    let elts: &[Expr] = match e {
        Expr::List(l) => &l.elts,
        Expr::Tuple(t) => &t.elts,
        Expr::Set(s) => &s.elts,
        _ => return None,
    };
    elts.iter().map(str_lit).collect()
}

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

struct Ctx<'a> {
    module: &'a str,
    is_package: bool,
    src: &'a str,
    info: ModInfo,
    /// Every module-level binding with where it comes from (external modules included), for
    /// resolving class bases.
    bindings: HashMap<String, String>,
    dicts: HashMap<String, &'a ast::ExprDict>,
    /// Keys added to a module-level dict later: `D.update(OTHER)` (by name) and `D["k"] = v`.
    dict_updates: HashMap<String, Vec<DictAdd<'a>>>,
    getattr: Option<&'a ast::StmtFunctionDef>,
    /// `__getattr__ = make_getattr(import_map=D, ...)`: the dicts passed.
    getattr_factory_dicts: Option<Vec<String>>,
    shim_calls: Vec<&'a ast::ExprCall>,
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

    /// `importlib.import_module(s, __name__)`: relative to the module's own name.
    fn resolve_import_module(&self, s: &str) -> String {
        if !s.starts_with('.') {
            return s.to_string();
        }
        let dots = s.chars().take_while(|c| *c == '.').count();
        let mut parts: Vec<&str> = self.module.split('.').collect();
        for _ in 1..dots {
            parts.pop();
        }
        let rest = &s[dots..];
        if rest.is_empty() { parts.join(".") } else { format!("{}.{}", parts.join("."), rest) }
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

    fn block(&mut self, body: &'a [Stmt]) {
        for s in body {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, s: &'a Stmt) {
        match s {
            Stmt::Import(imp) => {
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
            Stmt::ImportFrom(imp) => {
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
            Stmt::Assign(a) => {
                if let [Expr::Subscript(sub)] = &a.targets[..]
                    && let Expr::Name(d) = &*sub.value
                    && let Some(k) = str_lit(&sub.slice)
                {
                    self.dict_updates
                        .entry(d.id.to_string())
                        .or_default()
                        .push(DictAdd::Key(k, &a.value));
                }
                if let [Expr::Name(n)] = &a.targets[..]
                    && n.id.as_str() == "__getattr__"
                    && let Expr::Call(c) = &*a.value
                {
                    let mut ds = Vec::new();
                    for e in
                        c.arguments.args.iter().chain(c.arguments.keywords.iter().map(|k| &k.value))
                    {
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
            Stmt::Expr(e) => {
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
            Stmt::FunctionDef(f) => {
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
        let mut v = SuperKw { kws: Vec::new() };
        for s in f.body.iter() {
            v.visit_stmt(s);
        }
        sig.super_kw = v.kws;
        sig.body = class_facts::init_body(f);
        sig
    }

    /// Names served by a module-level `__getattr__`.
    fn model_getattr(&mut self, f: &'a ast::StmtFunctionDef) {
        let param = f
            .parameters
            .posonlyargs
            .iter()
            .chain(f.parameters.args.iter())
            .next()
            .map(|p| p.parameter.name.to_string())
            .unwrap_or_default();
        let mut v = GetattrScan { param: &param, dict_refs: Vec::new(), literals: Vec::new() };
        for s in f.body.iter() {
            v.visit_stmt(s);
        }
        let mut found = false;
        for lit in v.literals {
            found = true;
            self.info.names.entry(lit).or_insert(None);
        }
        for d in v.dict_refs {
            found |= self.names_from_dict(&d, 0);
        }
        if !found {
            self.info.open = true;
        }
    }

    /// Adds the keys of module-level dict `d` (and what was merged into it) as lazily provided
    /// names. Returns whether it was a known dict.
    fn names_from_dict(&mut self, d: &str, depth: u8) -> bool {
        if depth > 4 {
            return false;
        }
        let mut entries: Vec<(String, &'a Expr)> = Vec::new();
        let known = self.dicts.contains_key(d);
        if let Some(dict) = self.dicts.get(d).copied() {
            for item in &dict.items {
                if let Some(key) = item.key.as_ref().and_then(str_lit) {
                    entries.push((key, &item.value));
                }
            }
        }
        let mut merges = Vec::new();
        for add in self.dict_updates.get(d).cloned().unwrap_or_default() {
            match add {
                DictAdd::Key(k, v) => entries.push((k, v)),
                DictAdd::Merge(other) => merges.push(other),
            }
        }
        for other in merges {
            self.names_from_dict(&other, depth + 1);
        }
        for (key, value) in entries {
            let target = match value {
                Expr::StringLiteral(s) => {
                    Some(format!("{}.{}", self.resolve_import_module(s.value.to_str()), key))
                }
                Expr::Tuple(t) => {
                    let m = t.elts.first().and_then(str_lit);
                    let a = t.elts.get(1).and_then(str_lit);
                    match (m, a) {
                        (Some(m), Some(a)) if a.is_empty() => Some(self.resolve_import_module(&m)),
                        // `(module, attr[, deprecated])`, as in airflow/__init__.py; a tuple of
                        // candidate modules (common.compat) has dotted second items.
                        (Some(m), Some(a)) if !a.contains('.') => {
                            Some(format!("{}.{}", self.resolve_import_module(&m), a))
                        }
                        // Candidate modules, tried in order (common.compat's lazy imports:
                        // `("airflow.sdk", "airflow.hooks.base")`): all kept, `|`-separated.
                        (Some(_), _) => Some(
                            t.elts
                                .iter()
                                .filter_map(str_lit)
                                .map(|m| format!("{}.{}", self.resolve_import_module(&m), key))
                                .collect::<Vec<_>>()
                                .join("|"),
                        ),
                        _ => None,
                    }
                }
                Expr::Dict(_) => continue, // a nested shim dictionary, not names
                _ => None,
            };
            let keep = target.filter(|t| t.starts_with("airflow"));
            self.info.names.entry(key).or_insert(keep);
        }
        known
    }

    /// `add_deprecated_classes({...}, __name__)`.
    fn model_shim(&self, call: &'a ast::ExprCall) -> Vec<(String, VirtualMod)> {
        let mut out = Vec::new();
        let Some(arg) = call.arguments.args.first() else { return out };
        let dict: &ast::ExprDict = match arg {
            Expr::Dict(d) => d,
            Expr::Name(n) => match self.dicts.get(n.id.as_str()) {
                Some(d) => d,
                None => return out,
            },
            _ => return out,
        };
        for item in &dict.items {
            let (name, is_self) = match &item.key {
                Some(Expr::StringLiteral(s)) => {
                    (format!("{}.{}", self.module, s.value.to_str()), false)
                }
                Some(Expr::Name(n)) if n.id.as_str() == "__name__" => {
                    (self.module.to_string(), true)
                }
                _ => continue,
            };
            let Expr::Dict(inner) = &item.value else { continue };
            let mut v = VirtualMod { is_self, ..Default::default() };
            for it in &inner.items {
                let (Some(k), Some(val)) = (it.key.as_ref().and_then(str_lit), str_lit(&it.value))
                else {
                    continue;
                };
                if k == "*" {
                    v.wildcard = Some(val);
                } else {
                    v.names.insert(k, Some(val).filter(|t| t.starts_with("airflow")));
                }
            }
            out.push((name, v));
        }
        out
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

#[derive(Clone)]
enum DictAdd<'a> {
    Key(String, &'a Expr),
    Merge(String),
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

struct SuperKw {
    kws: Vec<String>,
}

impl<'a> Visitor<'a> for SuperKw {
    fn visit_stmt(&mut self, s: &'a Stmt) {
        // Nested functions and classes are not part of this __init__ call.
        if matches!(s, Stmt::FunctionDef(_) | Stmt::ClassDef(_)) {
            return;
        }
        walk_stmt(self, s);
    }
    fn visit_expr(&mut self, e: &'a Expr) {
        if let Expr::Call(c) = e
            && let Expr::Attribute(a) = &*c.func
            && a.attr.as_str() == "__init__"
        {
            for k in c.arguments.keywords.iter() {
                if let Some(arg) = &k.arg
                    && !self.kws.iter().any(|x| x == arg.as_str())
                {
                    self.kws.push(arg.to_string());
                }
            }
        }
        walk_expr(self, e);
    }
}

struct GetattrScan<'p> {
    param: &'p str,
    dict_refs: Vec<String>,
    literals: Vec<String>,
}

impl<'a> Visitor<'a> for GetattrScan<'_> {
    fn visit_expr(&mut self, e: &'a Expr) {
        match e {
            Expr::Name(n)
                if n.id.as_str() != self.param
                    && !self.dict_refs.iter().any(|d| d == n.id.as_str()) =>
            {
                self.dict_refs.push(n.id.to_string());
            }
            Expr::Compare(c) => {
                let left_is_param =
                    matches!(&*c.left, Expr::Name(n) if n.id.as_str() == self.param);
                if left_is_param {
                    for comp in c.comparators.iter() {
                        if let Some(s) = str_lit(comp) {
                            self.literals.push(s);
                        } else if let Some(list) = str_list(comp) {
                            self.literals.extend(list);
                        }
                    }
                }
            }
            _ => {}
        }
        walk_expr(self, e);
    }
}

/// Parses one module. Returns its facts, the virtual modules it creates, and whether the
/// parser reported syntax errors (the facts are then best-effort).
pub fn extract_module(
    module: &str,
    is_package: bool,
    src: &str,
) -> (ModInfo, Vec<(String, VirtualMod)>, bool) {
    let parsed = parse_unchecked(src, ParseOptions::from(Mode::Module));
    let had_errors = !parsed.errors().is_empty();
    let ast::Mod::Module(m) = parsed.syntax() else {
        return (ModInfo { is_package, open: true, ..Default::default() }, Vec::new(), true);
    };
    let mut ctx = Ctx {
        module,
        is_package,
        src,
        info: ModInfo { is_package, ..Default::default() },
        bindings: HashMap::new(),
        dicts: HashMap::new(),
        dict_updates: HashMap::new(),
        getattr: None,
        getattr_factory_dicts: None,
        shim_calls: Vec::new(),
    };
    ctx.block(&m.body);
    let mut virtuals = Vec::new();
    for call in std::mem::take(&mut ctx.shim_calls) {
        virtuals.extend(ctx.model_shim(call));
    }
    let self_shim = virtuals.iter().any(|(_, v)| v.is_self);
    if let Some(ds) = ctx.getattr_factory_dicts.take() {
        ctx.info.names.remove("__getattr__");
        let mut found = false;
        for d in ds {
            found |= ctx.names_from_dict(&d, 0);
        }
        if !found {
            ctx.info.open = true;
        }
    } else if let Some(f) = ctx.getattr.take() {
        ctx.info.names.remove("__getattr__");
        ctx.model_getattr(f);
    } else if self_shim {
        // `add_deprecated_classes({__name__: ...})` installs its own __getattr__.
    }
    (ctx.info, virtuals, had_errors)
}
