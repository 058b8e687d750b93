//! Names a module provides lazily: a module-level `__getattr__`, lazy-import dicts, and
//! `add_deprecated_classes` shims.

use ruff_python_ast::visitor::{Visitor, walk_expr};
use ruff_python_ast::{self as ast, Expr};

use super::walk::Ctx;
use super::{VirtualMod, str_list, str_lit};
use crate::ast_walk::first_param_name;

impl<'a> Ctx<'a> {
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

    /// Names served by a module-level `__getattr__`.
    pub(super) fn model_getattr(&mut self, f: &'a ast::StmtFunctionDef) {
        let param = first_param_name(f).unwrap_or_default();
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
    pub(super) fn names_from_dict(&mut self, d: &str, depth: u8) -> bool {
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
    pub(super) fn model_shim(&self, call: &'a ast::ExprCall) -> Vec<(String, VirtualMod)> {
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

#[derive(Clone)]
pub(super) enum DictAdd<'a> {
    Key(String, &'a Expr),
    Merge(String),
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
