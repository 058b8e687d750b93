//! The Airflow catalog: which modules exist in each supported Airflow version (core + task SDK +
//! providers), which names each module defines or re-exports, and the `__init__` parameters of
//! its classes — generated from the real wheels by `dagsmith-catalog-gen`
//! (`scripts/build-catalog.sh`, docs/CATALOG.md) and embedded here as data.
//!
//! The data is parsed once, on first use (`catalog()`); no I/O, so this works in wasm32 too.

mod classes;
mod format;
mod init_tokens;
mod signature;
pub mod similarity;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, OnceLock};

use crate::AirflowVersion;

pub use classes::{ClassAttributes, ClassInfo, ClassKind, Deprecation};
pub use format::ParseError;
use init_tokens::InitTokens;
pub use signature::{ClassSignature, Param, ParamKind};
use similarity::bounded_levenshtein_bytes;

/// The generated catalog (see docs/CATALOG.md for the format).
static DATA: &str = include_str!("../../catalog/airflow.cat");

/// The catalog, parsed on first use.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::parse(DATA).expect("embedded Airflow catalog is valid"))
}

/// One of the Airflow versions the catalog was generated for (an index into
/// [`Catalog::targets`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target(pub(crate) u8);

impl Target {
    pub fn index(self) -> usize {
        self.0 as usize
    }
    fn bit(self) -> u16 {
        1 << self.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModuleStatus {
    Exists,
    Missing,
    /// Not in the provider release this target uses (the newest one that admits it), but in
    /// the release of that provider that was current when this Airflow version came out (what
    /// its constraint files pin): it loads where that older provider is installed. Not an
    /// error — at most a warning that a newer provider release removed it.
    InOlderProvider,
}

/// Whether `from MODULE import NAME` finds NAME.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameStatus {
    /// Defined, imported, re-exported or lazily provided by the module, or a submodule.
    Exists,
    /// The module exists and NAME is not among its attributes.
    Missing,
    /// The module does not exist in this version.
    ModuleMissing,
    /// The module exists but its attributes cannot be listed statically (a module-level
    /// `__getattr__` the generator could not model, a star import from outside Airflow).
    Unknown,
    /// Not in this target's release of the provider, but in its release-time release (see
    /// [`ModuleStatus::InOlderProvider`]). Not an error.
    InOlderProvider,
}

/// Facts about an existing module in one target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleInfo<'a> {
    /// The distribution that ships it, e.g. `apache-airflow-providers-google`.
    pub distribution: &'a str,
    pub is_package: bool,
    /// Created at import time by Airflow's deprecation shims (`add_deprecated_classes`),
    /// e.g. `airflow.operators.bash_operator` in 2.x or `airflow.operators.bash` in 3.x.
    pub is_deprecated_shim: bool,
    /// Its attributes cannot all be listed statically.
    pub is_open: bool,
    /// Importing it raises in this target because it needs a newer Airflow (a provider module
    /// guarded by `if not AIRFLOW_V_3_1_PLUS: raise ...`): that version, e.g. `"3.1"`.
    pub requires_airflow: Option<&'a str>,
}

/// The keyword arguments an operator's constructor takes, resolved through its bases.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OperatorParams {
    /// Every parameter that can be passed by keyword (the class's own and, through `**kwargs`,
    /// its bases' — including `BaseOperator`'s `task_id`, `retries`, ...).
    pub accepted: BTreeSet<String>,
    /// Parameters without a default (for operators: at least `task_id`). Airflow 2 and 3 also
    /// fill them from the DAG's `default_args`, which the caller has to consider.
    pub required: BTreeSet<String>,
    /// Unknown keywords are accepted (some class in the chain takes `**kwargs` and does not
    /// forward them to `BaseOperator`, or a base could not be resolved).
    pub accepts_any_kwargs: bool,
    /// The chain of bases reaches Airflow's `BaseOperator`.
    pub is_operator: bool,
    /// Every base in the chain was resolved (if false, treat `accepted` as incomplete).
    pub complete: bool,
    /// Where the class is defined, e.g. `airflow.providers.standard.operators.bash.BashOperator`.
    pub defined_at: String,
    /// The required parameters of the nearest class (the operator itself, or the first base
    /// with an `__init__` when it has none). Required parameters of classes further up can be
    /// filled by a subclass's `__init__` (`kwargs["options"] = ...`), which the catalog does not
    /// model, so only these are certain to be needed.
    pub required_by_nearest_init: BTreeSet<String>,
    /// Accepted only with a deprecation warning: some `__init__` in the chain takes them out of
    /// `**kwargs` and warns (e.g. `provide_context` of Airflow 2's `PythonOperator`).
    pub deprecated: BTreeSet<String>,
    /// The values a parameter must take: the `__init__` raises for any other
    /// (`if auto_remove not in ("never", "success", "force"): raise ...`).
    pub choices: std::collections::BTreeMap<String, Vec<String>>,
    /// The effective `__init__`'s positional-or-keyword parameters, in order (for bases filled
    /// positionally by a subclass).
    pub positional: Vec<String>,
    /// Some `__init__` in the chain fetches a connection (`get_connection`): creating an
    /// instance needs the connection to exist.
    pub fetches_connection: bool,
}

/// A module's record in the catalog.
#[derive(Debug)]
pub(crate) struct Module {
    pub path: String,
    /// (mask, distribution index, flags, forward target) per group of targets.
    pub exists: Vec<Existence>,
    pub classes: Vec<ClassRec>,
    pub names: Vec<NameRec>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Existence {
    pub mask: u16,
    pub dist: u16,
    pub package: bool,
    pub shim: bool,
    pub open: bool,
    pub forward: Option<&'static str>,
    /// Importing it raises in these targets: it needs this Airflow version, e.g. `3.1`.
    pub requires: Option<&'static str>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct NameRec {
    pub mask: u16,
    pub name: &'static str,
    /// Raw target (a trailing `.` means "append the name").
    pub target: Option<&'static str>,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct ClassRec {
    pub mask: u16,
    pub name: &'static str,
    pub bases: &'static str,
    pub params: &'static str,
    /// Public attributes, comma-separated (`NAME=value` for string enum members; `*`: open; `-`).
    pub attrs: &'static str,
    /// `Some("")`: deprecated; `Some(r)`: deprecated, replaced by `r`.
    pub deprecation: Option<&'static str>,
}

/// A public class of a public module, its name prepared for comparisons once.
#[derive(Debug)]
struct ClassName {
    module: u32,
    /// Targets in which the module exists (not as a deprecation shim) and defines the class.
    mask: u16,
    prepared: similarity::Prepared,
}

/// [`ClassName`]s, and for each word that is not common (in fewer than 1 in 20 names) the
/// names that have it: "did you mean" looks only at names sharing such a word.
#[derive(Debug, Default)]
struct ClassNames {
    names: Vec<ClassName>,
    by_word: HashMap<String, Vec<u32>>,
}

/// Resolved operator signatures by (target, `module.Class`).
type ParamsCache = HashMap<(u8, String), Option<Arc<OperatorParams>>>;
/// Attributes through the MRO by (target, `module.Class`).
type AttributesCache = HashMap<(u8, String), Option<Arc<ClassAttributes>>>;

/// The parsed catalog.
#[derive(Debug)]
pub struct Catalog {
    pub(crate) targets: Vec<&'static str>,
    /// (major, minor) of each target, parsed once (`target_for` runs for every import).
    target_mm: Vec<(u16, u16)>,
    pub(crate) dists: Vec<format::Dist>,
    pub(crate) modules: Vec<Module>,
    pub(crate) index: HashMap<String, u32>,
    class_index: OnceLock<HashMap<&'static str, Vec<u32>>>,
    /// Every public class with its name split into words, built on first use.
    class_names: OnceLock<ClassNames>,
    /// Resolving a class through its bases is costly and the same operators recur in every
    /// file: results are kept (a plain Mutex also works on single-threaded wasm).
    params_cache: std::sync::Mutex<ParamsCache>,
    /// [`Catalog::classes`] per target, computed on first use.
    classes_cache: Vec<OnceLock<Vec<ClassInfo>>>,
    /// [`Catalog::class_attributes`] by (target, `module.Class`): the validator asks for the
    /// same few classes (DAG, BaseOperator subclasses, XComArg) in every file.
    attributes_cache: std::sync::Mutex<AttributesCache>,
}

const MODULE_DUNDERS: &[&str] = &[
    "__name__",
    "__doc__",
    "__package__",
    "__loader__",
    "__spec__",
    "__file__",
    "__cached__",
    "__builtins__",
    "__dict__",
    "__path__",
];

fn expand_target(raw: &str, name: &str) -> String {
    if raw.ends_with('.') { format!("{raw}{name}") } else { raw.to_string() }
}

fn is_private_module(path: &str) -> bool {
    path.split('.').any(|s| {
        s.starts_with('_') && s != "__init__"
            || matches!(s, "example_dags" | "tests" | "migrations")
    })
}

impl Catalog {
    /// Parses catalog text (the embedded one is parsed by [`catalog()`]).
    pub fn parse(text: &'static str) -> Result<Catalog, ParseError> {
        let (targets, dists, modules) = format::parse(text)?;
        let targets_len = targets.len();
        let index = modules.iter().enumerate().map(|(i, m)| (m.path.clone(), i as u32)).collect();
        let mut target_mm = Vec::with_capacity(targets.len());
        for (i, t) in targets.iter().enumerate() {
            let v: AirflowVersion = t.trim_end_matches('~').parse().map_err(|_| ParseError {
                line: 2,
                message: format!("target {} is not an Airflow version: {t:?}", i + 1),
            })?;
            target_mm.push((v.major, v.minor));
        }
        Ok(Catalog {
            targets,
            target_mm,
            dists,
            modules,
            index,
            class_index: OnceLock::new(),
            class_names: OnceLock::new(),
            params_cache: std::sync::Mutex::new(HashMap::new()),
            classes_cache: (0..targets_len).map(|_| OnceLock::new()).collect(),
            attributes_cache: std::sync::Mutex::new(HashMap::new()),
        })
    }

    /// All targets, oldest first.
    pub fn targets(&self) -> impl Iterator<Item = Target> + '_ {
        (0..self.targets.len() as u8)
            .map(Target)
            .filter(|t| !self.targets[t.index()].ends_with('~'))
    }

    /// The release-time provider snapshot of a target (`X~` in the data): the providers that
    /// were current when Airflow X was released.
    fn snapshot(&self, t: Target) -> Option<Target> {
        let name = format!("{}~", self.targets[t.index()]);
        self.targets.iter().position(|x| *x == name).map(|i| Target(i as u8))
    }

    /// The exact Airflow release a target was generated from, e.g. `"2.11.2"`.
    pub fn target_version(&self, t: Target) -> &str {
        self.targets[t.index()]
    }

    fn target_mm(&self, t: Target) -> (u16, u16) {
        self.target_mm[t.index()]
    }

    /// The target used for a requested Airflow version: the oldest target of the same major
    /// version whose minor is at least the requested one (2.0–2.7 → 2.7, 2.8–2.9 → 2.9,
    /// 2.10–2.11 → 2.11, 3.0 → 3.0, 3.1 → 3.1); newer than every target of that major → the
    /// newest one (3.2 → 3.1). Rounding up, not down, because within a major version Airflow
    /// adds far more than it removes, so a file is less likely to be flagged for something
    /// that exists in the version asked for.
    pub fn target_for(&self, v: AirflowVersion) -> Target {
        let mut best: Option<Target> = None;
        let mut newest_same_major: Option<Target> = None;
        for t in self.targets() {
            let (maj, min) = self.target_mm(t);
            if maj != v.major {
                continue;
            }
            newest_same_major = Some(t);
            if min >= v.minor && best.is_none() {
                best = Some(t);
            }
        }
        best.or(newest_same_major).unwrap_or_else(|| {
            // Another major version: the newest target below it, else the oldest.
            self.targets().filter(|t| self.target_mm(*t).0 < v.major).last().unwrap_or(Target(0))
        })
    }

    fn module(&self, path: &str) -> Option<&Module> {
        self.index.get(path).map(|i| &self.modules[*i as usize])
    }

    fn existence(&self, t: Target, path: &str) -> Option<(&Module, &Existence)> {
        let m = self.module(path)?;
        let e = m.exists.iter().find(|e| e.mask & t.bit() != 0)?;
        Some((m, e))
    }

    /// Whether `import PATH` finds the module in this target.
    pub fn module_exists(&self, t: Target, path: &str) -> ModuleStatus {
        if self.existence(t, path).is_some() {
            ModuleStatus::Exists
        } else if self.older_provider_has(t, path, None).is_some() {
            ModuleStatus::InOlderProvider
        } else {
            ModuleStatus::Missing
        }
    }

    /// The version of `dist` used in target `t`.
    fn dist_version(&self, dist: u16, t: Target) -> Option<&'static str> {
        self.dists[dist as usize].1[t.index()]
    }

    /// If a provider module (or `module.name`) is absent from target `t` but present in the
    /// release of that provider that was current when the target's Airflow version came out
    /// (and that admits it): that provider's name and release.
    pub fn older_provider_has(
        &self,
        t: Target,
        module: &str,
        name: Option<&str>,
    ) -> Option<(&str, &str)> {
        let snap = self.snapshot(t)?;
        let m = self.module(module)?;
        let e = m.exists.iter().find(|e| e.mask & snap.bit() != 0)?;
        let (dist_name, _) = &self.dists[e.dist as usize];
        if !dist_name.starts_with("apache-airflow-providers-") {
            return None;
        }
        let version = self.dist_version(e.dist, snap)?;
        let has = match name {
            None => true,
            Some(n) => {
                m.classes.iter().any(|c| c.name == n && c.mask & snap.bit() != 0)
                    || m.names.iter().any(|r| r.name == n && r.mask & snap.bit() != 0)
                    || self.existence(snap, &format!("{module}.{n}")).is_some()
            }
        };
        has.then_some((dist_name.as_str(), version))
    }

    /// Facts about a module that exists in this target.
    pub fn module_info(&self, t: Target, path: &str) -> Option<ModuleInfo<'_>> {
        let (_, e) = self.existence(t, path)?;
        Some(ModuleInfo {
            distribution: &self.dists[e.dist as usize].0,
            is_package: e.package,
            is_deprecated_shim: e.shim,
            is_open: e.open && e.forward.is_none(),
            requires_airflow: e.requires,
        })
    }

    /// The distribution that ships the module in this target, e.g.
    /// `Some("apache-airflow-providers-google")`.
    pub fn module_distribution(&self, t: Target, path: &str) -> Option<&str> {
        self.module_info(t, path).map(|i| i.distribution)
    }

    /// The distribution that ships the module in any target (newest first).
    pub fn module_distribution_any(&self, path: &str) -> Option<&str> {
        let m = self.module(path)?;
        let t = self.module_targets(path).into_iter().last()?;
        m.exists
            .iter()
            .find(|e| e.mask & t.bit() != 0)
            .map(|e| self.dists[e.dist as usize].0.as_str())
    }

    /// The targets in which the module exists.
    pub fn module_targets(&self, path: &str) -> Vec<Target> {
        let mask = self.module(path).map_or(0, |m| m.exists.iter().fold(0, |a, e| a | e.mask));
        self.targets().filter(|t| mask & t.bit() != 0).collect()
    }

    /// Whether the module exists in at least one target.
    pub fn module_exists_in_any(&self, path: &str) -> bool {
        !self.module_targets(path).is_empty()
    }

    /// Whether `from MODULE import NAME` finds NAME in this target's distributions
    /// ([`NameStatus::Unknown`] counts as found; [`NameStatus::InOlderProvider`] does not).
    pub fn name_in_module(&self, t: Target, module: &str, name: &str) -> bool {
        matches!(self.name_status(t, module, name), NameStatus::Exists | NameStatus::Unknown)
    }

    /// What `from MODULE import NAME` does in this target.
    pub fn name_status(&self, t: Target, module: &str, name: &str) -> NameStatus {
        match self.name_status_depth(t, module, name, 0) {
            NameStatus::ModuleMissing if self.older_provider_has(t, module, None).is_some() => {
                if self.older_provider_has(t, module, Some(name)).is_some() {
                    NameStatus::InOlderProvider
                } else {
                    // The module is only in the older provider release, and that lacks the name.
                    NameStatus::Missing
                }
            }
            NameStatus::Missing if self.older_provider_has(t, module, Some(name)).is_some() => {
                NameStatus::InOlderProvider
            }
            s => s,
        }
    }

    fn name_status_depth(&self, t: Target, module: &str, name: &str, depth: u8) -> NameStatus {
        let Some((m, e)) = self.existence(t, module) else { return NameStatus::ModuleMissing };
        if MODULE_DUNDERS.contains(&name) {
            return NameStatus::Exists;
        }
        if m.classes.iter().any(|c| c.name == name && c.mask & t.bit() != 0)
            || m.names.iter().any(|n| n.name == name && n.mask & t.bit() != 0)
        {
            return NameStatus::Exists;
        }
        if self.existence(t, &format!("{module}.{name}")).is_some() {
            return NameStatus::Exists;
        }
        if let Some(fwd) = e.forward
            && depth < 8
            && self.existence(t, fwd).is_some()
        {
            return self.name_status_depth(t, fwd, name, depth + 1);
        }
        if e.open { NameStatus::Unknown } else { NameStatus::Missing }
    }

    /// The targets in which `from MODULE import NAME` works.
    pub fn name_targets(&self, module: &str, name: &str) -> Vec<Target> {
        self.targets()
            .filter(|t| self.name_status(*t, module, name) == NameStatus::Exists)
            .collect()
    }

    /// Up to `n` existing modules closest to `path` (for "did you mean"), best first.
    pub fn closest_modules(&self, t: Target, path: &str, n: usize) -> Vec<&str> {
        // Cheap on purpose (it runs for every unresolved import): siblings with a similar last
        // segment (a typo), and modules elsewhere with the same last one or two segments (moved
        // to another package). Comparing whole paths with every module was far too slow.
        let (parent, last) = path.rsplit_once('.').unwrap_or(("", path));
        let last2: String = {
            let parts: Vec<&str> = path.rsplitn(3, '.').collect();
            if parts.len() >= 2 { format!(".{}.{}", parts[1], parts[0]) } else { String::new() }
        };
        let max = (last.len() / 3).clamp(1, 3);
        let mut buffers = (Vec::new(), Vec::new());
        let mut scored: Vec<(usize, &str)> = Vec::new();
        for m in &self.modules {
            let p = m.path.as_str();
            // Byte comparisons first: only siblings and same-named modules can score.
            let sibling = !parent.is_empty()
                && p.len() > parent.len() + 1
                && p.starts_with(parent)
                && p.as_bytes()[parent.len()] == b'.';
            if p == path || !(sibling || p.ends_with(last)) {
                continue;
            }
            let Some((m_parent, m_last)) = p.rsplit_once('.') else { continue };
            let score = if m_parent == parent {
                if last.starts_with(m_last) || m_last.starts_with(last) {
                    // `bash_operator` → `bash`
                    Some(2)
                } else {
                    bounded_levenshtein_bytes(last.as_bytes(), m_last.as_bytes(), max, &mut buffers)
                }
            } else if !last2.is_empty() && p.ends_with(&last2) {
                Some(1 + p.len().abs_diff(path.len()) / 8)
            } else if m_last == last {
                Some(2 + p.len().abs_diff(path.len()) / 8)
            } else {
                None
            };
            let Some(score) = score else { continue };
            if !m.exists.iter().any(|e| e.mask & t.bit() != 0)
                || (is_private_module(p) && !is_private_module(path))
            {
                continue;
            }
            scored.push((score, p));
        }
        scored.sort();
        scored.into_iter().take(n).map(|(_, p)| p).collect()
    }

    /// Up to `n` public names of `module` (attributes and submodules) closest to `name`, best
    /// first: the same words in another order before names with a word wrong or missing, then
    /// by edit distance (see [`similarity::rank`]).
    pub fn closest_names(&self, t: Target, module: &str, name: &str, n: usize) -> Vec<&str> {
        let Some(m) = self.module(module) else { return Vec::new() };
        let mut cands: Vec<&str> = Vec::new();
        cands.extend(m.classes.iter().filter(|c| c.mask & t.bit() != 0).map(|c| c.name));
        cands.extend(m.names.iter().filter(|c| c.mask & t.bit() != 0).map(|c| c.name));
        let prefix = format!("{module}.");
        for sub in &self.modules {
            if let Some(rest) = sub.path.strip_prefix(&prefix)
                && !rest.contains('.')
                && sub.exists.iter().any(|e| e.mask & t.bit() != 0)
            {
                cands.push(rest);
            }
        }
        let query = similarity::Query::new(name);
        let mut scored: Vec<(similarity::Rank, &str)> = cands
            .into_iter()
            .filter(|c| !c.starts_with('_') && *c != name)
            .filter_map(|c| Some((query.rank(c)?, c)))
            .collect();
        scored.sort();
        scored.dedup_by(|a, b| a.1 == b.1);
        scored.into_iter().take(n).map(|(_, c)| c).collect()
    }

    fn class_names(&self) -> &ClassNames {
        self.class_names.get_or_init(|| {
            let mut names: Vec<ClassName> = Vec::new();
            for (i, m) in self.modules.iter().enumerate() {
                if is_private_module(&m.path) {
                    continue;
                }
                let real = m.exists.iter().filter(|e| !e.shim).fold(0, |a, e| a | e.mask);
                let first = names.len();
                for c in &m.classes {
                    let mask = c.mask & real;
                    if mask == 0 || c.name.starts_with('_') {
                        continue;
                    }
                    match names[first..].iter_mut().find(|e| e.prepared.name == c.name) {
                        Some(e) => e.mask |= mask,
                        None => names.push(ClassName {
                            module: i as u32,
                            mask,
                            prepared: similarity::Prepared::new(c.name),
                        }),
                    }
                }
            }
            let mut by_word: HashMap<String, Vec<u32>> = HashMap::new();
            for (i, n) in names.iter().enumerate() {
                for w in &n.prepared.key {
                    let list = by_word.entry(w.clone()).or_default();
                    if list.last() != Some(&(i as u32)) {
                        list.push(i as u32);
                    }
                }
            }
            let common = names.len() / 20;
            by_word.retain(|_, list| list.len() <= common);
            ClassNames { names, by_word }
        })
    }

    /// Public classes defined in this target in modules whose path starts with `prefix`
    /// (`airflow.providers.google.`, or a module's own path), as (module, class name split
    /// into words).
    pub fn classes_under(
        &self,
        t: Target,
        prefix: &str,
    ) -> impl Iterator<Item = (&str, &similarity::Prepared)> {
        // Modules are sorted by path and names by module: both ranges are found by bisection.
        let first = self.modules.partition_point(|m| m.path.as_str() < prefix);
        let end = first + self.modules[first..].partition_point(|m| m.path.starts_with(prefix));
        let names = &self.class_names().names;
        let lo = names.partition_point(|c| (c.module as usize) < first);
        let hi = names.partition_point(|c| (c.module as usize) < end);
        names[lo..hi].iter().filter_map(move |c| self.class_in(c, t, prefix))
    }

    /// [`classes_under`](Self::classes_under) that share a word with `name`, common words
    /// (`operator`, `to`, `sensor`...) aside: where a misremembered class name is looked for.
    pub fn classes_sharing_a_word(
        &self,
        t: Target,
        prefix: &str,
        name: &str,
    ) -> Vec<(&str, &similarity::Prepared)> {
        let index = self.class_names();
        let mut ids: Vec<u32> = similarity::words(name)
            .iter()
            .filter_map(|w| index.by_word.get(w))
            .flatten()
            .copied()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter().filter_map(|i| self.class_in(&index.names[i as usize], t, prefix)).collect()
    }

    fn class_in<'s>(
        &'s self,
        c: &'s ClassName,
        t: Target,
        prefix: &str,
    ) -> Option<(&'s str, &'s similarity::Prepared)> {
        let path = self.modules[c.module as usize].path.as_str();
        (c.mask & t.bit() != 0 && path.starts_with(prefix)).then_some((path, &c.prepared))
    }

    /// Up to `n` classes under `prefix` closest to `name`, best first: by words (as
    /// [`closest_names`](Self::closest_names); only classes that share most of the words), then
    /// by how many leading path segments their module shares with `near_module`, then by edit
    /// distance. As (module, class).
    pub fn closest_classes(
        &self,
        t: Target,
        prefix: &str,
        near_module: &str,
        name: &str,
        n: usize,
    ) -> Vec<(&str, &str)> {
        let query = similarity::Query::by_words(name);
        let shared_segments =
            |m: &str| m.split('.').zip(near_module.split('.')).take_while(|(a, b)| a == b).count();
        let mut scored: Vec<_> = self
            .classes_sharing_a_word(t, prefix, name)
            .into_iter()
            .filter(|(_, c)| c.name != name)
            .filter_map(|(m, c)| {
                let rank = query.rank_with_words(&c.name, &c.words)?;
                Some((
                    (rank.words, usize::MAX - shared_segments(m), rank.distance),
                    c.name.as_str(),
                    m,
                ))
            })
            .collect();
        scored.sort();
        scored.dedup_by(|a, b| a.1 == b.1);
        scored.into_iter().take(n).map(|(_, c, m)| (m, c)).collect()
    }

    fn class_index(&self) -> &HashMap<&'static str, Vec<u32>> {
        self.class_index.get_or_init(|| {
            let mut idx: HashMap<&'static str, Vec<u32>> = HashMap::new();
            for (i, m) in self.modules.iter().enumerate() {
                let mut seen: Vec<&'static str> = Vec::new();
                for c in &m.classes {
                    if !seen.contains(&c.name) {
                        seen.push(c.name);
                        idx.entry(c.name).or_default().push(i as u32);
                    }
                }
                for nr in &m.names {
                    if nr.target.is_some()
                        && nr.name.starts_with(|c: char| c.is_ascii_uppercase())
                        && !seen.contains(&nr.name)
                    {
                        seen.push(nr.name);
                        idx.entry(nr.name).or_default().push(i as u32);
                    }
                }
            }
            idx
        })
    }

    /// Public modules from which `from MODULE import CLASS_NAME` gives a class of that name in
    /// this target (where it is defined first, then re-exports; shorter paths first). For
    /// "right name, wrong module" hints.
    pub fn find_class(&self, t: Target, class_name: &str) -> Vec<String> {
        let (defs, reexports) = self.class_locations(t, class_name);
        defs.into_iter().chain(reexports).map(str::to_string).collect()
    }

    /// [`find_class`](Self::find_class) in two lists: the public modules that define the class,
    /// and those that re-export it (each with shorter paths first).
    pub fn class_locations(&self, t: Target, class_name: &str) -> (Vec<&str>, Vec<&str>) {
        let Some(mods) = self.class_index().get(class_name) else {
            return (Vec::new(), Vec::new());
        };
        let mut defs: Vec<&str> = Vec::new();
        let mut reexports: Vec<&str> = Vec::new();
        for &i in mods {
            let m = &self.modules[i as usize];
            if is_private_module(&m.path) || self.existence(t, &m.path).is_none() {
                continue;
            }
            if m.classes.iter().any(|c| c.name == class_name && c.mask & t.bit() != 0) {
                defs.push(&m.path);
            } else if let Some((dm, _)) = self.resolve_class(t, &m.path, class_name)
                && (!is_private_module(&dm) || defs.is_empty())
            {
                reexports.push(&m.path);
            }
        }
        defs.sort_by_key(|p| (p.len(), *p));
        reexports.sort_by_key(|p| (p.len(), *p));
        (defs, reexports)
    }

    /// Follows imports, lazy imports and shims from `module.name` to the class definition:
    /// returns (defining module, class record).
    fn resolve_class(&self, t: Target, module: &str, name: &str) -> Option<(String, ClassRec)> {
        let mut module = module.to_string();
        let mut name = name.to_string();
        for _ in 0..16 {
            let (m, e) = self.existence(t, &module)?;
            if let Some(c) = m.classes.iter().find(|c| c.name == name && c.mask & t.bit() != 0) {
                return Some((module, *c));
            }
            let (nm, nn) = match m.names.iter().find(|n| n.name == name && n.mask & t.bit() != 0) {
                // Candidates separated by `|` are tried in order (lazy imports that fall back
                // from `airflow.sdk` to the Airflow 2 module).
                Some(nr) => nr
                    .target?
                    .split('|')
                    .find_map(|raw| self.split_dotted(t, &expand_target(raw, &name)))?,
                None => self.split_dotted(t, &format!("{}.{}", e.forward?, name))?,
            };
            module = nm;
            name = nn;
        }
        None
    }

    /// What `from MODULE import NAME` gives, followed through imports, lazy imports and shims:
    /// the dotted path of its definition (`airflow.providers.standard.operators.bash.BashOperator`)
    /// or of the object from outside Airflow it re-exports (`datetime.datetime`). Two import
    /// paths give the same object exactly when this is the same. `None` when it cannot be
    /// followed.
    pub fn resolve_name(&self, t: Target, module: &str, name: &str) -> Option<String> {
        let mut module = module.to_string();
        let mut name = name.to_string();
        for _ in 0..16 {
            let (m, e) = self.existence(t, &module)?;
            let defined_here = m.classes.iter().any(|c| c.name == name && c.mask & t.bit() != 0)
                || self.existence(t, &format!("{module}.{name}")).is_some();
            let next = match m.names.iter().find(|n| n.name == name && n.mask & t.bit() != 0) {
                _ if defined_here => return Some(format!("{module}.{name}")),
                Some(nr) => match nr.target {
                    Some(raw) => expand_target(raw, &name),
                    None => return Some(format!("{module}.{name}")),
                },
                None => format!("{}.{}", e.forward?, name),
            };
            let (nm, nn) = next.rsplit_once('.')?;
            if nm != "airflow" && !nm.starts_with("airflow.") {
                return Some(next);
            }
            module = nm.to_string();
            name = nn.to_string();
        }
        None
    }

    /// Splits `a.b.c.Name` into an existing module and an attribute name.
    fn split_dotted(&self, t: Target, dotted: &str) -> Option<(String, String)> {
        let (m, n) = dotted.rsplit_once('.')?;
        if self.existence(t, m).is_some() {
            return Some((m.to_string(), n.to_string()));
        }
        // `pkg.mod.Class.Inner` and the like are not followed.
        None
    }

    /// The constructor parameters of the class `module.class_name`, resolved through its bases
    /// (including `BaseOperator`'s). `None` if the class cannot be found in this target.
    pub fn operator_params(
        &self,
        t: Target,
        module: &str,
        class_name: &str,
    ) -> Option<Arc<OperatorParams>> {
        let key = (t.0, format!("{module}.{class_name}"));
        if let Ok(cache) = self.params_cache.lock()
            && let Some(hit) = cache.get(&key)
        {
            return hit.clone();
        }
        let result = self.resolve_class(t, module, class_name).map(|(dm, rec)| {
            let mut out = self.params_of(t, &dm, &rec, 0);
            out.defined_at = format!("{dm}.{}", rec.name);
            out.required_by_nearest_init = self.nearest_init_required(t, &dm, &rec, 0);
            Arc::new(out)
        });
        if let Ok(mut cache) = self.params_cache.lock() {
            cache.insert(key, result.clone());
        }
        result
    }

    /// The class's C3 linearization (Python's MRO), itself first. Bases that cannot be
    /// resolved are left out; an inconsistent hierarchy falls back to depth-first order.
    pub(crate) fn linearize(
        &self,
        t: Target,
        module: &str,
        rec: &ClassRec,
        depth: u8,
    ) -> Vec<(String, ClassRec)> {
        let me = (module.to_string(), *rec);
        if depth > 24 || rec.bases == "-" {
            return vec![me];
        }
        let bases: Vec<(String, ClassRec)> = rec
            .bases
            .split(',')
            .filter_map(|b| {
                self.split_dotted(t, b).and_then(|(m, n)| self.resolve_class(t, &m, &n))
            })
            .collect();
        let mut seqs: Vec<Vec<(String, ClassRec)>> =
            bases.iter().map(|(m, c)| self.linearize(t, m, c, depth + 1)).collect();
        seqs.push(bases.clone());
        let same =
            |a: &(String, ClassRec), b: &(String, ClassRec)| a.0 == b.0 && a.1.name == b.1.name;
        let mut out = vec![me];
        loop {
            seqs.retain(|s| !s.is_empty());
            if seqs.is_empty() {
                return out;
            }
            // The first head that is in no other sequence's tail.
            let head = seqs
                .iter()
                .map(|s| &s[0])
                .find(|h| !seqs.iter().any(|s| s.iter().skip(1).any(|x| same(x, h))));
            let Some(head) = head.cloned() else {
                // Not linearizable: depth-first order of what is left.
                for s in seqs {
                    for c in s {
                        if !out.iter().any(|o| same(o, &c)) {
                            out.push(c);
                        }
                    }
                }
                return out;
            };
            for s in &mut seqs {
                if same(&s[0], &head) {
                    s.remove(0);
                }
            }
            out.push(head);
        }
    }

    fn nearest_init_required(
        &self,
        t: Target,
        module: &str,
        rec: &ClassRec,
        depth: u8,
    ) -> BTreeSet<String> {
        if depth > 24 {
            return BTreeSet::new();
        }
        if rec.params == "-" {
            // The `__init__` that runs: the first of the MRO.
            let mro = self.linearize(t, module, rec, 0);
            return match mro.iter().skip(1).find(|(_, c)| c.params != "-") {
                Some((m, c)) => self.nearest_init_required(t, m, c, depth + 1),
                None => BTreeSet::new(),
            };
        }
        InitTokens::parse(rec.params)
            .params
            .iter()
            .filter(|p| !p.positional_only && !p.has_default)
            .map(|p| p.name.to_string())
            .collect()
    }

    /// `params_of` for a base class, through the cache `operator_params` fills: every operator
    /// shares BaseOperator's chain, so it is resolved once per target.
    fn base_params(&self, t: Target, module: &str, rec: &ClassRec, depth: u8) -> OperatorParams {
        let key = (t.0, format!("{module}.{}", rec.name));
        if let Ok(cache) = self.params_cache.lock()
            && let Some(Some(hit)) = cache.get(&key)
        {
            return (**hit).clone();
        }
        let mut out = self.params_of(t, module, rec, depth);
        out.defined_at = key.1.clone();
        out.required_by_nearest_init = self.nearest_init_required(t, module, rec, 0);
        if let Ok(mut cache) = self.params_cache.lock() {
            cache.insert(key, Some(Arc::new(out.clone())));
        }
        out
    }

    fn params_of(&self, t: Target, module: &str, rec: &ClassRec, depth: u8) -> OperatorParams {
        let mut out = OperatorParams { complete: true, ..Default::default() };
        let is_base_operator = rec.name == "BaseOperator"
            && matches!(
                module,
                "airflow.models.baseoperator"
                    | "airflow.sdk.bases.operator"
                    | "airflow.sdk.definitions.baseoperator"
            );
        if is_base_operator {
            out.is_operator = true;
        }
        if depth > 24 {
            out.complete = false;
            out.accepts_any_kwargs = true;
            return out;
        }
        let bases: Vec<&str> =
            if rec.bases == "-" { Vec::new() } else { rec.bases.split(',').collect() };
        let mut resolved_bases: Vec<OperatorParams> = Vec::new();
        let mut unresolved = 0;
        for b in &bases {
            let base =
                match self.split_dotted(t, b).and_then(|(m, n)| self.resolve_class(t, &m, &n)) {
                    Some((bm, brec)) => self.base_params(t, &bm, &brec, depth + 1),
                    None => {
                        if !is_trivial_base(b) {
                            unresolved += 1;
                        }
                        continue;
                    }
                };
            resolved_bases.push(base);
        }
        out.is_operator |= resolved_bases.iter().any(|b| b.is_operator);
        let base_complete = unresolved == 0 && resolved_bases.iter().all(|b| b.complete);
        if rec.params == "-" {
            // No __init__ of its own: Python runs the first `__init__` of its MRO
            // (`BranchPythonOperator(BaseBranchOperator, PythonOperator)` gets PythonOperator's,
            // not BaseOperator's through BaseBranchOperator).
            let mro = self.linearize(t, module, rec, 0);
            if let Some((im, irec)) = mro.iter().skip(1).find(|(_, c)| c.params != "-") {
                let b = self.base_params(t, im, irec, depth + 1);
                let is_op = out.is_operator || b.is_operator;
                return OperatorParams {
                    is_operator: is_op,
                    complete: base_complete && b.complete,
                    ..b
                };
            }
            match resolved_bases.into_iter().find(|b| !b.accepted.is_empty() || b.is_operator) {
                Some(b) => {
                    let is_op = out.is_operator || b.is_operator;
                    out = OperatorParams {
                        is_operator: is_op,
                        complete: base_complete && b.complete,
                        ..b
                    };
                }
                None => {
                    out.complete = base_complete;
                    out.accepts_any_kwargs = unresolved > 0;
                }
            }
            return out;
        }
        let sig = InitTokens::parse(rec.params);
        for p in &sig.params {
            if !p.positional_only {
                out.accepted.insert(p.name.to_string());
            }
            if !p.has_default {
                out.required.insert(p.name.to_string());
            }
            if p.positional_or_keyword {
                out.positional.push(p.name.to_string());
            }
            if !p.choices.is_empty() {
                let values = p.choices.iter().map(|v| v.to_string()).collect();
                out.choices.insert(p.name.to_string(), values);
            }
        }
        let own: Vec<&str> = sig.params.iter().map(|p| p.name).collect();
        out.fetches_connection =
            sig.fetches_connection || resolved_bases.iter().any(|b| b.fetches_connection);
        match sig.kwargs {
            Some(true) => {
                for b in &resolved_bases {
                    out.accepted.extend(b.accepted.iter().cloned());
                    // The base's leading positional parameters are filled by
                    // `super().__init__(a, b, ...)`.
                    let by_position: Vec<&str> = b
                        .positional
                        .iter()
                        .take(sig.super_positional)
                        .map(String::as_str)
                        .collect();
                    for r in &b.required {
                        let r = r.as_str();
                        if !own.contains(&r)
                            && !sig.super_kw.contains(&r)
                            && !sig.kwargs_set.contains(&r)
                            && !by_position.contains(&r)
                        {
                            out.required.insert(r.to_string());
                        }
                    }
                    for (k, v) in &b.choices {
                        if !own.contains(&k.as_str()) {
                            out.choices.entry(k.clone()).or_insert_with(|| v.clone());
                        }
                    }
                    out.deprecated.extend(b.deprecated.iter().cloned());
                    out.accepts_any_kwargs |= b.accepts_any_kwargs;
                }
                if resolved_bases.is_empty() {
                    out.accepts_any_kwargs = true;
                }
                if unresolved > 0 {
                    out.accepts_any_kwargs = true;
                }
                out.complete = base_complete;
            }
            Some(false) => {
                out.accepts_any_kwargs = false;
            }
            None => {}
        }
        // Keys the `__init__` takes out of `**kwargs` itself: accepted here, whatever the bases
        // say (`PythonOperator` pops the deprecated `provide_context` before `BaseOperator`).
        for (key, deprecated) in &sig.kwargs_read {
            if sig.kwargs.is_some() {
                out.accepted.insert(key.to_string());
                if *deprecated {
                    out.deprecated.insert(key.to_string());
                }
            }
        }
        for p in &sig.params {
            // A parameter of this class is not deprecated just because a base once had it so.
            if !sig.kwargs_read.iter().any(|(k, d)| *k == p.name && *d) {
                out.deprecated.remove(p.name);
            }
        }
        out
    }
}

/// Bases that add no constructor parameters.
fn is_trivial_base(b: &str) -> bool {
    let last = b.rsplit('.').next().unwrap_or(b);
    matches!(
        last,
        "object"
            | "Generic"
            | "Protocol"
            | "ABC"
            | "LoggingMixin"
            | "SkipMixin"
            | "Enum"
            | "str"
            | "int"
            | "Exception"
            | "NamedTuple"
            | "TypedDict"
    ) || b.starts_with("typing.")
        || b.starts_with("abc.")
        || b.starts_with("collections.abc.")
}

#[cfg(test)]
mod tests;
