//! Class-level queries: attributes through the MRO, string enum values, deprecations, and the
//! list of public operator / sensor / hook classes of a target.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{Catalog, ClassRec, Target, is_private_module};

/// A class is deprecated in a target (a `@deprecated` decorator, a deprecation warning in its
/// `__init__`, or a deprecation note in its docstring).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deprecation {
    /// What the deprecation message names instead, when it names something: a dotted path
    /// (`airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator`) or a class name.
    pub replacement: Option<String>,
}

/// What a class is, for someone writing DAGs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClassKind {
    /// Derives from `BaseOperator` (and not from `BaseSensorOperator`).
    Operator,
    /// Derives from `BaseSensorOperator`.
    Sensor,
    /// Derives from `BaseHook`.
    Hook,
}

/// A public operator, sensor or hook class of one target (see [`Catalog::classes`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassInfo {
    /// The module that defines it, e.g. `airflow.providers.standard.operators.bash`.
    pub module: String,
    pub name: &'static str,
    pub kind: ClassKind,
    /// Constructor parameters without a default, inherited ones included (`task_id` for every
    /// operator); `default_args` can supply them too.
    pub required: BTreeSet<String>,
    pub deprecated: Option<Deprecation>,
}

/// The public attributes an instance of a class has (see [`Catalog::class_attributes`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClassAttributes {
    /// Methods, properties, class-level names and `self.x` set by any method, of the class and
    /// every base. Names starting with `_` are not listed.
    pub names: BTreeSet<&'static str>,
    /// Some class in the chain creates attributes in ways that cannot be listed
    /// (`__getattr__`, `setattr(self, name, ...)`), or a base could not be resolved: any name
    /// may exist.
    pub open: bool,
}

impl ClassAttributes {
    /// Whether `instance.name` certainly raises AttributeError.
    pub fn certainly_lacks(&self, name: &str) -> bool {
        !self.open && !name.starts_with('_') && !self.names.contains(name)
    }
}

/// Bases that add no attributes worth listing.
fn adds_no_attributes(base: &str) -> bool {
    matches!(
        base,
        "object"
            | "Generic"
            | "Protocol"
            | "ABC"
            | "typing.Generic"
            | "typing.Protocol"
            | "abc.ABC"
    ) || base.starts_with("typing.Generic")
}

/// The roots that make a class an operator, a sensor or a hook: (defining module, class, kind).
const ROOTS: &[(&str, &str, ClassKind)] = &[
    ("airflow.models.baseoperator", "BaseOperator", ClassKind::Operator),
    ("airflow.sdk.bases.operator", "BaseOperator", ClassKind::Operator),
    ("airflow.sdk.definitions.baseoperator", "BaseOperator", ClassKind::Operator),
    ("airflow.sensors.base", "BaseSensorOperator", ClassKind::Sensor),
    ("airflow.sdk.bases.sensor", "BaseSensorOperator", ClassKind::Sensor),
    ("airflow.hooks.base", "BaseHook", ClassKind::Hook),
    ("airflow.sdk.bases.hook", "BaseHook", ClassKind::Hook),
    ("airflow.sdk.definitions.hook", "BaseHook", ClassKind::Hook),
];

impl Catalog {
    fn bases_of(&self, t: Target, rec: &ClassRec) -> Vec<Result<(String, ClassRec), &'static str>> {
        if rec.bases == "-" {
            return Vec::new();
        }
        rec.bases
            .split(',')
            .map(|b| {
                self.split_dotted(t, b).and_then(|(m, n)| self.resolve_class(t, &m, &n)).ok_or(b)
            })
            .collect()
    }

    /// The public attributes of instances of `module.class_name` in this target, through
    /// re-exports and every base. `None` if the class cannot be found.
    pub fn class_attributes(
        &self,
        t: Target,
        module: &str,
        class_name: &str,
    ) -> Option<Arc<ClassAttributes>> {
        let key = (t.0, super::qualified(module, class_name));
        if let Ok(cache) = self.attributes_cache.lock()
            && let Some(hit) = cache.get(&key)
        {
            return hit.clone();
        }
        let result = self.resolve_class(t, module, class_name).map(|(dm, rec)| {
            let mut out = ClassAttributes::default();
            let mut seen: Vec<(String, &'static str)> = Vec::new();
            self.collect_attributes(t, &dm, &rec, &mut out, &mut seen, 0);
            Arc::new(out)
        });
        if let Ok(mut cache) = self.attributes_cache.lock() {
            cache.insert(key, result.clone());
        }
        result
    }

    fn collect_attributes(
        &self,
        t: Target,
        module: &str,
        rec: &ClassRec,
        out: &mut ClassAttributes,
        seen: &mut Vec<(String, &'static str)>,
        depth: u8,
    ) {
        if depth > 24 {
            out.open = true;
            return;
        }
        if seen.iter().any(|(m, n)| m == module && *n == rec.name) {
            return;
        }
        seen.push((module.to_string(), rec.name));
        for tok in rec.attrs.split(',') {
            match tok {
                "-" => {}
                // `*`: attributes made dynamically; `?`: not recorded for this class.
                "*" | "?" => out.open = true,
                _ => {
                    out.names.insert(tok.split_once('=').map_or(tok, |(n, _)| n));
                }
            }
        }
        // The `__init__`'s parameters are implied attributes (the generator leaves them out).
        for p in super::InitTokens::parse(rec.params).params {
            if !p.name.starts_with('_') {
                out.names.insert(p.name);
            }
        }
        for base in self.bases_of(t, rec) {
            match base {
                Ok((bm, brec)) => self.collect_attributes(t, &bm, &brec, out, seen, depth + 1),
                Err(b) if adds_no_attributes(b) => {}
                Err(_) => out.open = true,
            }
        }
    }

    /// The members of a string enum class (`TriggerRule`, `WeightRule`, ...) as
    /// (name, value), its own members only. `None` if the class cannot be found.
    pub fn enum_values(
        &self,
        t: Target,
        module: &str,
        class_name: &str,
    ) -> Option<Vec<(&'static str, &'static str)>> {
        let (_, rec) = self.resolve_class(t, module, class_name)?;
        Some(rec.attrs.split(',').filter_map(|tok| tok.split_once('=')).collect())
    }

    /// Whether the class `module.class_name` (followed through re-exports to its definition) is
    /// deprecated in this target, and what replaces it. `None`: not deprecated, or not found.
    pub fn class_deprecation(
        &self,
        t: Target,
        module: &str,
        class_name: &str,
    ) -> Option<Deprecation> {
        let (_, rec) = self.resolve_class(t, module, class_name)?;
        deprecation_of(&rec)
    }

    /// Whether `module.class_name` (followed through re-exports) is an operator, a sensor or a
    /// hook in this target.
    pub fn class_kind(&self, t: Target, module: &str, class_name: &str) -> Option<ClassKind> {
        let (dm, rec) = self.resolve_class(t, module, class_name)?;
        self.kind_of(t, &dm, &rec, 0, &mut KindMemo::default())
    }

    /// Whether the class derives from BaseOperator, BaseSensorOperator or BaseHook.
    fn kind_of(
        &self,
        t: Target,
        module: &str,
        rec: &ClassRec,
        depth: u8,
        memo: &mut KindMemo,
    ) -> Option<ClassKind> {
        if let Some((_, _, k)) = ROOTS.iter().find(|(m, n, _)| *m == module && *n == rec.name) {
            return Some(*k);
        }
        if depth > 24 {
            return None;
        }
        let key = (module.to_string(), rec.name);
        if let Some(known) = memo.get(&key) {
            return *known;
        }
        let mut found = None;
        for (bm, brec) in self.bases_of(t, rec).into_iter().flatten() {
            match self.kind_of(t, &bm, &brec, depth + 1, memo) {
                Some(ClassKind::Sensor) => {
                    found = Some(ClassKind::Sensor);
                    break;
                }
                Some(k) => found = found.or(Some(k)),
                None => {}
            }
        }
        memo.insert(key, found);
        found
    }

    /// Every public operator, sensor and hook class defined in this target (not in private
    /// modules, example DAGs or test packages; names without a leading `_`), in module order.
    /// Computed on first use per target.
    pub fn classes(&self, t: Target) -> impl Iterator<Item = &ClassInfo> + '_ {
        let cached = self.classes_cache.get(t.index()).map(|cell| {
            cell.get_or_init(|| {
                let mut out = Vec::new();
                let mut memo = KindMemo::default();
                for m in &self.modules {
                    if is_private_module(&m.path) || self.existence(t, &m.path).is_none() {
                        continue;
                    }
                    for rec in m.classes.iter().filter(|c| c.mask & t.bit() != 0) {
                        if rec.name.starts_with('_') {
                            continue;
                        }
                        let Some(kind) = self.kind_of(t, &m.path, rec, 0, &mut memo) else {
                            continue;
                        };
                        let required = self
                            .operator_params(t, &m.path, rec.name)
                            .map(|p| p.required.clone())
                            .unwrap_or_default();
                        out.push(ClassInfo {
                            module: m.path.clone(),
                            name: rec.name,
                            kind,
                            required,
                            deprecated: deprecation_of(rec),
                        });
                    }
                }
                out
            })
        });
        cached.into_iter().flatten()
    }
}

/// What `kind_of` found per class (`module`, name), within one target.
type KindMemo = std::collections::HashMap<(String, &'static str), Option<ClassKind>>;

fn deprecation_of(rec: &ClassRec) -> Option<Deprecation> {
    rec.deprecation
        .map(|r| Deprecation { replacement: if r.is_empty() { None } else { Some(r.to_string()) } })
}
