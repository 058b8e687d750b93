//! What a class body says beyond its bases: its public attributes, whether it is deprecated (and
//! what replaces it), and what its `__init__` does with `**kwargs` and with argument values.

use std::collections::BTreeSet;

use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{self as ast, Expr, ExprContext, Stmt};

use crate::ast_walk::{first_param_name, for_each_call};

/// A class's public attributes: methods, class-level names (attrs/dataclass fields included),
/// nested classes and the `self.x` an instance gets in any method. Names starting with `_` are
/// left out (the validator never reports them). `open`: attributes are created in ways that
/// cannot be listed (`__getattr__`, `setattr(self, name, ...)`, `self.__dict__`).
#[derive(Clone, Debug, Default)]
pub struct Attributes {
    pub names: BTreeSet<String>,
    /// For string enums (`class TriggerRule(str, Enum)`): member name -> value.
    pub enum_values: Vec<(String, String)>,
    pub open: bool,
}

impl Attributes {
    /// `ATTRS` as stored in the catalog: comma-separated names, `NAME=value` for enum members,
    /// `*` when open, `-` when empty. Names in `implied` are left out.
    pub fn encode(&self, implied: &[&str]) -> String {
        let mut toks: Vec<String> = Vec::new();
        if self.open {
            toks.push("*".into());
        }
        for n in self.names.iter().filter(|n| !implied.contains(&n.as_str())) {
            match self.enum_values.iter().find(|(k, _)| k == n) {
                Some((_, v)) if plain_token(v) => toks.push(format!("{n}={v}")),
                _ => toks.push(n.clone()),
            }
        }
        if toks.is_empty() { "-".into() } else { toks.join(",") }
    }
}

/// A value that can be written into a comma/space/`|`-separated catalog token.
pub fn plain_token(v: &str) -> bool {
    !v.is_empty() && !v.contains([',', ' ', '|', '=', '\n', '\t', '\r'])
}

fn is_public(name: &str) -> bool {
    !name.starts_with('_')
}

pub fn attributes(c: &ast::StmtClassDef, bases: &[String]) -> Attributes {
    let mut out = Attributes::default();
    let is_enum = bases.iter().any(|b| b.rsplit('.').next().is_some_and(|l| l.ends_with("Enum")));
    class_level(&c.body, &mut out, is_enum);
    out
}

fn class_level(body: &[Stmt], out: &mut Attributes, is_enum: bool) {
    for s in body {
        match s {
            Stmt::FunctionDef(f) => {
                let name = f.name.as_str();
                if matches!(name, "__getattr__" | "__getattribute__") {
                    out.open = true;
                }
                if is_public(name) {
                    out.names.insert(name.to_string());
                }
                instance_attributes(f, out);
            }
            Stmt::ClassDef(inner) if is_public(inner.name.as_str()) => {
                out.names.insert(inner.name.to_string());
            }
            Stmt::Assign(a) => {
                for t in &a.targets {
                    bind_names(t, out);
                    if is_enum
                        && let (Expr::Name(n), Expr::StringLiteral(v)) = (t, &*a.value)
                        && is_public(n.id.as_str())
                    {
                        out.enum_values.push((n.id.to_string(), v.value.to_str().to_string()));
                    }
                    if let Expr::Name(n) = t
                        && n.id.as_str() == "__slots__"
                    {
                        for e in literal_strings(&a.value) {
                            if is_public(&e) {
                                out.names.insert(e);
                            }
                        }
                    }
                }
            }
            Stmt::AnnAssign(a) => bind_names(&a.target, out),
            Stmt::AugAssign(a) => bind_names(&a.target, out),
            Stmt::If(i) => {
                class_level(&i.body, out, is_enum);
                for c in &i.elif_else_clauses {
                    class_level(&c.body, out, is_enum);
                }
            }
            Stmt::Try(t) => {
                class_level(&t.body, out, is_enum);
                for h in &t.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    class_level(&h.body, out, is_enum);
                }
                class_level(&t.orelse, out, is_enum);
                class_level(&t.finalbody, out, is_enum);
            }
            Stmt::With(w) => class_level(&w.body, out, is_enum),
            Stmt::For(f) => {
                bind_names(&f.target, out);
                class_level(&f.body, out, is_enum);
            }
            Stmt::ImportFrom(imp) => {
                for a in &imp.names {
                    let n = a.asname.as_ref().unwrap_or(&a.name);
                    if is_public(n.as_str()) {
                        out.names.insert(n.to_string());
                    }
                }
            }
            Stmt::Import(imp) => {
                for a in &imp.names {
                    let n = match &a.asname {
                        Some(n) => n.as_str(),
                        None => a.name.as_str().split('.').next().unwrap_or(""),
                    };
                    if is_public(n) {
                        out.names.insert(n.to_string());
                    }
                }
            }
            _ => {}
        }
    }
}

fn bind_names(target: &Expr, out: &mut Attributes) {
    match target {
        Expr::Name(n) if is_public(n.id.as_str()) => {
            out.names.insert(n.id.to_string());
        }
        Expr::Tuple(t) => t.elts.iter().for_each(|e| bind_names(e, out)),
        Expr::List(l) => l.elts.iter().for_each(|e| bind_names(e, out)),
        Expr::Starred(s) => bind_names(&s.value, out),
        _ => {}
    }
}

fn literal_strings(e: &Expr) -> Vec<String> {
    let elts: &[Expr] = match e {
        Expr::List(l) => &l.elts,
        Expr::Tuple(t) => &t.elts,
        Expr::Set(s) => &s.elts,
        Expr::StringLiteral(s) => return vec![s.value.to_str().to_string()],
        _ => return Vec::new(),
    };
    elts.iter()
        .filter_map(|x| match x {
            Expr::StringLiteral(s) => Some(s.value.to_str().to_string()),
            _ => None,
        })
        .collect()
}

/// `self.x = ...` (and `setattr(self, ...)`) anywhere in a method, nested functions included.
fn instance_attributes(f: &ast::StmtFunctionDef, out: &mut Attributes) {
    let Some(self_name) = first_param_name(f) else { return };
    struct SelfAttrs<'o> {
        self_name: String,
        out: &'o mut Attributes,
        /// Loop variables over one of the instance's own collections (`for field in
        /// self.template_fields:`): `setattr(self, field, ...)` re-sets attributes declared
        /// elsewhere, it creates none.
        own_names: Vec<String>,
    }
    impl<'a> Visitor<'a> for SelfAttrs<'_> {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            if let Stmt::For(f) = s
                && let Expr::Name(target) = &*f.target
                && matches!(&*f.iter, Expr::Attribute(a)
                    if matches!(&*a.value, Expr::Name(n) if n.id.as_str() == self.self_name))
            {
                self.own_names.push(target.id.to_string());
                walk_stmt(self, s);
                self.own_names.pop();
                return;
            }
            walk_stmt(self, s);
        }

        fn visit_expr(&mut self, e: &'a Expr) {
            match e {
                Expr::Attribute(a)
                    if matches!(a.ctx, ExprContext::Store)
                        && matches!(&*a.value, Expr::Name(n) if n.id.as_str() == self.self_name)
                        && is_public(a.attr.as_str()) =>
                {
                    self.out.names.insert(a.attr.to_string());
                }
                // `self.__dict__[k] = v` creates attributes; reading `self.__dict__` does not.
                Expr::Subscript(sub)
                    if matches!(sub.ctx, ExprContext::Store) && self.is_self_dict(&sub.value) =>
                {
                    self.out.open = true;
                }
                Expr::Call(c) => {
                    if let Expr::Attribute(m) = &*c.func
                        && m.attr.as_str() == "update"
                        && self.is_self_dict(&m.value)
                    {
                        self.out.open = true;
                    }
                    // `setattr(self, "x", v)` / `object.__setattr__(self, "x", v)`.
                    let is_setattr = match &*c.func {
                        Expr::Name(n) => n.id.as_str() == "setattr",
                        Expr::Attribute(a) => a.attr.as_str() == "__setattr__",
                        _ => false,
                    };
                    if is_setattr
                        && matches!(c.arguments.args.first(), Some(Expr::Name(n)) if n.id.as_str() == self.self_name)
                    {
                        match c.arguments.args.get(1) {
                            Some(Expr::StringLiteral(s)) => {
                                let name = s.value.to_str();
                                if is_public(name) {
                                    self.out.names.insert(name.to_string());
                                }
                            }
                            Some(Expr::Name(n))
                                if self.own_names.iter().any(|o| o == n.id.as_str()) => {}
                            _ => self.out.open = true,
                        }
                    }
                }
                _ => {}
            }
            walk_expr(self, e);
        }
    }
    impl SelfAttrs<'_> {
        fn is_self_dict(&self, e: &Expr) -> bool {
            matches!(e, Expr::Attribute(a) if a.attr.as_str() == "__dict__"
                && matches!(&*a.value, Expr::Name(n) if n.id.as_str() == self.self_name))
        }
    }
    let mut v = SelfAttrs { self_name, out, own_names: Vec::new() };
    for s in &f.body {
        v.visit_stmt(s);
    }
}

// ---------------------------------------------------------------------------------------------
// Deprecation

/// The class is deprecated; `replacement` is what its deprecation message names instead, when
/// it names one (a dotted path or a class name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deprecation {
    pub replacement: Option<String>,
}

impl Deprecation {
    /// `!` or `!REPLACEMENT`, as stored in the catalog.
    pub fn encode(&self) -> String {
        match &self.replacement {
            Some(r) => format!("!{r}"),
            None => "!".into(),
        }
    }
}

/// The literal text of a string expression (implicit concatenation, f-string literal parts and
/// `+` of literals included).
pub fn literal_text(e: &Expr) -> Option<String> {
    match e {
        Expr::StringLiteral(s) => Some(s.value.to_str().to_string()),
        Expr::FString(f) => {
            let mut out = String::new();
            for part in f.value.as_slice() {
                match part {
                    ast::FStringPart::Literal(lit) => out.push_str(&lit.value),
                    ast::FStringPart::FString(fs) => {
                        for el in fs.elements.iter() {
                            match el {
                                ast::InterpolatedStringElement::Literal(lit) => {
                                    out.push_str(&lit.value)
                                }
                                ast::InterpolatedStringElement::Interpolation(_) => out.push(' '),
                            }
                        }
                    }
                }
            }
            Some(out)
        }
        Expr::BinOp(b) if matches!(b.op, ast::Operator::Add) => {
            Some(format!("{}{}", literal_text(&b.left)?, literal_text(&b.right)?))
        }
        _ => None,
    }
}

fn is_deprecation_category(e: &Expr) -> bool {
    let name = match e {
        Expr::Name(n) => n.id.as_str(),
        Expr::Attribute(a) => a.attr.as_str(),
        _ => return false,
    };
    name.contains("Deprecat") || name.starts_with("RemovedIn")
}

fn callee_last(e: &Expr) -> Option<&str> {
    match e {
        Expr::Name(n) => Some(n.id.as_str()),
        Expr::Attribute(a) => Some(a.attr.as_str()),
        Expr::Call(c) => callee_last(&c.func),
        _ => None,
    }
}

/// The message of a `warnings.warn(MSG, CATEGORY)` call whose category is a deprecation
/// warning (or whose message says "deprecated").
fn deprecation_warning(c: &ast::ExprCall) -> Option<String> {
    if callee_last(&c.func) != Some("warn") {
        return None;
    }
    let msg = c
        .arguments
        .args
        .first()
        .or_else(|| c.arguments.find_keyword("message").map(|k| &k.value))
        .and_then(literal_text)
        .unwrap_or_default();
    let category =
        c.arguments.args.get(1).or_else(|| c.arguments.find_keyword("category").map(|k| &k.value));
    let deprecation = category.is_some_and(is_deprecation_category)
        || msg.to_ascii_lowercase().contains("deprecat");
    deprecation.then_some(msg)
}

/// Deprecation of a class: a `@deprecated(...)` decorator, an unconditional deprecation
/// `warnings.warn` in its `__init__`, or a deprecation note in its docstring.
pub fn class_deprecation(
    c: &ast::StmtClassDef,
    init: Option<&ast::StmtFunctionDef>,
) -> Option<Deprecation> {
    for d in &c.decorator_list {
        let (name, call) = match &d.expression {
            Expr::Call(call) => (callee_last(&call.func), Some(call)),
            other => (callee_last(other), None),
        };
        if name != Some("deprecated") {
            continue;
        }
        let mut replacement = None;
        if let Some(call) = call {
            if let Some(k) = call.arguments.find_keyword("use_instead")
                && let Some(text) = literal_text(&k.value)
            {
                // `use_instead="a.B, a.C"`: the first is the replacement.
                replacement = text.split(',').next().map(|s| s.trim().to_string());
            }
            if replacement.is_none() {
                let msg = call
                    .arguments
                    .find_keyword("reason")
                    .map(|k| &k.value)
                    .or_else(|| call.arguments.args.first())
                    .and_then(literal_text);
                replacement = msg.as_deref().and_then(replacement_in);
            }
        }
        return Some(Deprecation { replacement: replacement.filter(|r| valid_replacement(r)) });
    }
    if let Some(f) = init {
        // Only a warning that always fires: one inside an `if` deprecates an argument.
        for s in &f.body {
            if let Stmt::Expr(e) = s
                && let Expr::Call(call) = &*e.value
                && let Some(msg) = deprecation_warning(call)
                && !msg.is_empty()
            {
                return Some(Deprecation { replacement: replacement_in(&msg) });
            }
        }
    }
    if let Some(Stmt::Expr(e)) = c.body.first()
        && let Expr::StringLiteral(doc) = &*e.value
    {
        let doc = doc.value.to_str();
        let lower = doc.to_ascii_lowercase();
        if lower.contains(".. deprecated::")
            || lower.contains("this class is deprecated")
            || lower.contains("this operator is deprecated")
            || lower.contains("this sensor is deprecated")
            || lower.contains("this hook is deprecated")
        {
            return Some(Deprecation { replacement: replacement_in(doc) });
        }
    }
    None
}

fn valid_replacement(r: &str) -> bool {
    let mut chars = r.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && !r.ends_with('.')
}

/// What a deprecation message says to use instead: the first identifier or dotted path after
/// "use" / "replaced by" / "in favor of" ("Please use `X`", "use :class:`~a.b.X` instead").
pub fn replacement_in(msg: &str) -> Option<String> {
    let lower = msg.to_ascii_lowercase();
    let mut best: Option<(usize, String)> = None;
    for cue in ["use ", "replaced by ", "in favor of ", "in favour of ", "instead of this"] {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(cue) {
            let at = from + pos;
            from = at + cue.len();
            // "use" as a word, not "because" / "reuse".
            if at > 0 && lower.as_bytes()[at - 1].is_ascii_alphanumeric() {
                continue;
            }
            let rest = &msg[at + cue.len()..];
            if let Some(candidate) = first_identifier(rest)
                && best.as_ref().is_none_or(|(p, _)| at < *p)
            {
                best = Some((at, candidate));
            }
            break;
        }
    }
    best.map(|(_, c)| c)
}

fn first_identifier(text: &str) -> Option<String> {
    let t = text.trim_start();
    let t = t.strip_prefix("the ").unwrap_or(t);
    let t = t.strip_prefix(":class:").or_else(|| t.strip_prefix(":py:class:")).unwrap_or(t);
    let t = t.trim_start_matches(['`', '\'', '"', '~']);
    let ident: String =
        t.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.').collect();
    let ident = ident.trim_end_matches('.').to_string();
    // A word such as "instead", "it" or "Google" is not a replacement; class names
    // (CamelCase), functions and paths are.
    let uppercase = ident.chars().filter(|c| c.is_ascii_uppercase()).count();
    let looks_like_name = ident.contains('.')
        || ident.contains('_')
        || (uppercase >= 2 && ident.chars().next().is_some_and(|c| c.is_ascii_uppercase()));
    (looks_like_name && valid_replacement(&ident)).then_some(ident)
}

// ---------------------------------------------------------------------------------------------
// What `__init__` does with `**kwargs` and with argument values

#[derive(Clone, Debug, Default)]
pub struct InitBody {
    /// Keys read from `**kwargs` (`kwargs.pop("x")`, `.get`, `kwargs["x"]`, `"x" in kwargs`),
    /// with whether a deprecation warning goes with them.
    pub kwargs_read: Vec<(String, bool)>,
    /// Keys set into `**kwargs` before they are passed on (`kwargs["x"] = ...`,
    /// `kwargs.setdefault("x", ...)`, `kwargs.update(x=...)`): they fill a base's parameter.
    pub kwargs_set: Vec<String>,
    /// Positional arguments passed to the base's `__init__` (`super().__init__(a, b, **kw)`).
    pub super_positional: usize,
    /// `if x not in ("a", "b"): raise ...`: the values parameter `x` must take.
    pub choices: Vec<(String, Vec<String>)>,
    /// Calls `get_connection(...)` or `self.get_conn()` (a hook that needs its connection to
    /// exist as soon as it is created).
    pub fetches_connection: bool,
}

pub fn init_body(f: &ast::StmtFunctionDef) -> InitBody {
    let mut out = InitBody::default();
    let kwargs_name = f.parameters.kwarg.as_ref().map(|k| k.name.to_string());
    let params: Vec<String> = f.parameters.iter().map(|p| p.name().to_string()).collect();
    let mut v = InitScan {
        kwargs: kwargs_name.as_deref(),
        params: &params,
        out: &mut out,
        warn_depth: 0,
        warn_messages: Vec::new(),
    };
    v.warn_messages = collect_warnings(&f.body);
    for s in &f.body {
        v.visit_stmt(s);
    }
    // A key named in a deprecation message is deprecated wherever it is read.
    let messages = std::mem::take(&mut v.warn_messages);
    for (key, deprecated) in &mut out.kwargs_read {
        if messages.iter().any(|m| mentions(m, key)) {
            *deprecated = true;
        }
    }
    out.kwargs_read.sort();
    out.kwargs_read.dedup_by(|a, b| {
        if a.0 == b.0 {
            b.1 |= a.1;
            true
        } else {
            false
        }
    });
    out.kwargs_set.sort();
    out.kwargs_set.dedup();
    out
}

/// `key` appears in `msg` as a word.
fn mentions(msg: &str, key: &str) -> bool {
    msg.match_indices(key).any(|(i, _)| {
        let before = msg[..i].chars().next_back();
        let after = msg[i + key.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

fn collect_warnings(body: &[Stmt]) -> Vec<String> {
    let mut warnings = Vec::new();
    for_each_call(body, |c| warnings.extend(deprecation_warning(c)));
    warnings
}

fn contains_deprecation_warning(body: &[Stmt]) -> bool {
    !collect_warnings(body).is_empty()
}

struct InitScan<'k, 'o> {
    kwargs: Option<&'k str>,
    params: &'k [String],
    out: &'o mut InitBody,
    /// > 0 inside an `if` whose body warns about a deprecation.
    warn_depth: u32,
    warn_messages: Vec<String>,
}

impl InitScan<'_, '_> {
    fn is_kwargs(&self, e: &Expr) -> bool {
        matches!((e, self.kwargs), (Expr::Name(n), Some(k)) if n.id.as_str() == k)
    }

    fn read(&mut self, key: String) {
        let deprecated = self.warn_depth > 0;
        self.out.kwargs_read.push((key, deprecated));
    }

    /// `if PARAM not in (literals): raise ...` (also `if not PARAM or PARAM not in ...`).
    fn choices(&mut self, i: &ast::StmtIf) {
        if !i.body.iter().any(|s| matches!(s, Stmt::Raise(_))) {
            return;
        }
        let tests: Vec<&Expr> = match &*i.test {
            Expr::BoolOp(b) if matches!(b.op, ast::BoolOp::Or) => b.values.iter().collect(),
            other => vec![other],
        };
        for t in tests {
            if let Expr::Compare(c) = t
                && let ([ast::CmpOp::NotIn], [values]) = (&*c.ops, &*c.comparators)
                && let Expr::Name(n) = &*c.left
                && self.params.iter().any(|p| p == n.id.as_str())
            {
                let literal_elts: Option<Vec<String>> = match values {
                    Expr::Tuple(t) => t.elts.iter().map(str_literal).collect(),
                    Expr::List(l) => l.elts.iter().map(str_literal).collect(),
                    Expr::Set(s) => s.elts.iter().map(str_literal).collect(),
                    _ => None,
                };
                if let Some(vals) = literal_elts
                    && !vals.is_empty()
                    && vals.iter().all(|v| plain_token(v))
                {
                    self.out.choices.push((n.id.to_string(), vals));
                }
            }
        }
    }
}

fn str_literal(e: &Expr) -> Option<String> {
    match e {
        Expr::StringLiteral(s) => Some(s.value.to_str().to_string()),
        _ => None,
    }
}

impl<'a> Visitor<'a> for InitScan<'_, '_> {
    fn visit_stmt(&mut self, s: &'a Stmt) {
        match s {
            // Nested functions run later, if at all.
            Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {}
            Stmt::If(i) => {
                self.choices(i);
                let warns = contains_deprecation_warning(&i.body);
                if warns {
                    self.warn_depth += 1;
                }
                self.visit_expr(&i.test);
                for b in &i.body {
                    self.visit_stmt(b);
                }
                if warns {
                    self.warn_depth -= 1;
                }
                for c in &i.elif_else_clauses {
                    let warns = contains_deprecation_warning(&c.body);
                    if warns {
                        self.warn_depth += 1;
                    }
                    if let Some(t) = &c.test {
                        self.visit_expr(t);
                    }
                    for b in &c.body {
                        self.visit_stmt(b);
                    }
                    if warns {
                        self.warn_depth -= 1;
                    }
                }
            }
            _ => walk_stmt(self, s),
        }
    }

    fn visit_expr(&mut self, e: &'a Expr) {
        match e {
            Expr::Call(c) => {
                if let Expr::Attribute(a) = &*c.func {
                    let method = a.attr.as_str();
                    if self.is_kwargs(&a.value) {
                        let key = c.arguments.args.first().and_then(str_literal);
                        match (method, key) {
                            ("pop" | "get", Some(k)) => self.read(k),
                            ("setdefault", Some(k)) => self.out.kwargs_set.push(k),
                            ("update", _) => {
                                for kw in c.arguments.keywords.iter() {
                                    if let Some(arg) = &kw.arg {
                                        self.out.kwargs_set.push(arg.to_string());
                                    }
                                }
                                if let Some(Expr::Dict(d)) = c.arguments.args.first() {
                                    for item in &d.items {
                                        if let Some(k) = item.key.as_ref().and_then(str_literal) {
                                            self.out.kwargs_set.push(k);
                                        }
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                    if method == "get_connection"
                        || (method == "get_conn"
                            && matches!(&*a.value, Expr::Name(n) if n.id.as_str() == "self"))
                    {
                        self.out.fetches_connection = true;
                    }
                    // `super().__init__(a, b, ...)` / `Base.__init__(self, a, ...)`.
                    if method == "__init__" {
                        let explicit_self = !matches!(&*a.value, Expr::Call(_));
                        let positional = c
                            .arguments
                            .args
                            .iter()
                            .take_while(|x| !matches!(x, Expr::Starred(_)))
                            .count();
                        let n = positional.saturating_sub(usize::from(explicit_self));
                        self.out.super_positional = self.out.super_positional.max(n);
                    }
                }
            }
            Expr::Subscript(sub) if self.is_kwargs(&sub.value) => {
                if let Some(k) = str_literal(&sub.slice) {
                    match sub.ctx {
                        ExprContext::Store => self.out.kwargs_set.push(k),
                        _ => self.read(k),
                    }
                }
            }
            Expr::Compare(c) => {
                if let ([ast::CmpOp::In | ast::CmpOp::NotIn], [right]) = (&*c.ops, &*c.comparators)
                    && self.is_kwargs(right)
                    && let Some(k) = str_literal(&c.left)
                {
                    self.read(k);
                }
            }
            _ => {}
        }
        walk_expr(self, e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacement_from_messages() {
        assert_eq!(
            replacement_in(
                "This class is deprecated. Please use `airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator`."
            )
            .as_deref(),
            Some("airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator")
        );
        assert_eq!(
            replacement_in("`DatabricksSubmitRunDeferrableOperator` has been deprecated. Please use `airflow.providers.databricks.operators.DatabricksSubmitRunOperator` with `deferrable=True` instead.").as_deref(),
            Some("airflow.providers.databricks.operators.DatabricksSubmitRunOperator")
        );
        assert_eq!(
            replacement_in("Deprecated; use :class:`~airflow.utils.task_group.TaskGroup` instead")
                .as_deref(),
            Some("airflow.utils.task_group.TaskGroup")
        );
        assert_eq!(replacement_in("This operator is deprecated because reasons."), None);
        assert_eq!(replacement_in("Please use it with care"), None);
        assert_eq!(replacement_in("Please use Google's new API"), None);
        assert_eq!(
            replacement_in("Use GKEKubernetesHook instead").as_deref(),
            Some("GKEKubernetesHook")
        );
    }
}
