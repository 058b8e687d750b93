//! What one Python module defines at module level, read from its AST.

mod encode;
mod lazy;
mod walk;

use std::collections::{BTreeMap, HashMap};

use ruff_python_ast::{self as ast, Expr};
use ruff_python_parser::{Mode, ParseOptions, parse_unchecked};

use crate::class_facts::{Attributes, Deprecation, InitBody};

use walk::Ctx;

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
