//! The Airflow catalog: which modules exist in each supported Airflow version (core + task SDK +
//! providers), which names each module defines or re-exports, and the `__init__` parameters of
//! its classes — generated from the real wheels by `dagsmith-catalog-gen`
//! (`scripts/build-catalog.sh`, docs/CATALOG.md) and embedded here as data.
//!
//! The data is parsed once, on first use (`catalog()`); no I/O, so this works in wasm32 too.

mod classes;
mod format;
mod init_tokens;
mod modules;
mod params;
mod resolve;
mod signature;
pub mod similarity;
mod suggest;

use rustc_hash::FxHashMap as HashMap;
use std::sync::{Arc, OnceLock};

use crate::AirflowVersion;

pub use classes::{ClassAttributes, ClassInfo, ClassKind, Deprecation};
pub use format::ParseError;
use init_tokens::InitTokens;
pub use params::OperatorParams;
pub use signature::{ClassSignature, Param, ParamKind};
use suggest::ClassNames;

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

/// Resolved operator signatures by `module.Class` (looked up as the caller has it, without
/// building a key), then target.
type ParamsCache = HashMap<String, Vec<(u8, Option<Arc<OperatorParams>>)>>;
/// Attributes through the MRO by (target, `module.Class`).
type AttributesCache = HashMap<(u8, String), Option<Arc<ClassAttributes>>>;

/// The parsed catalog.
#[derive(Debug)]
pub struct Catalog {
    pub(crate) targets: Vec<&'static str>,
    /// (major, minor) of each target, parsed once (`target_for` runs for every import).
    target_mm: Vec<(u16, u16)>,
    /// The targets that are Airflow releases (not `X~` snapshots), in order.
    releases: Vec<Target>,
    /// Each target's `X~` snapshot, when there is one.
    snapshots: Vec<Option<Target>>,
    pub(crate) dists: Vec<format::Dist>,
    pub(crate) modules: Vec<Module>,
    pub(crate) index: HashMap<String, u32>,
    class_index: OnceLock<HashMap<&'static str, Vec<u32>>>,
    /// Modules by the last segment of their path ("did you mean" for a moved module).
    by_last_segment: OnceLock<HashMap<String, Vec<u32>>>,
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

/// A module path with a private segment (`_internal`, `__init__` aside) or one of tests,
/// examples and migrations. By bytes: asked for every module that names a class a fix looks
/// for, and `str::split` compares each `.` it finds through `memcmp`.
fn is_private_module(path: &str) -> bool {
    path.as_bytes().split(|&b| b == b'.').any(|s| {
        s.first() == Some(&b'_') && s != b"__init__"
            || matches!(s, b"example_dags" | b"tests" | b"migrations")
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
        let releases =
            (0..targets.len() as u8).map(Target).filter(|t| !targets[t.index()].ends_with('~'));
        let releases = releases.collect();
        let snapshots = targets
            .iter()
            .map(|t| {
                let name = format!("{t}~");
                targets.iter().position(|x| *x == name).map(|i| Target(i as u8))
            })
            .collect();
        Ok(Catalog {
            targets,
            target_mm,
            releases,
            snapshots,
            dists,
            modules,
            index,
            class_index: OnceLock::new(),
            by_last_segment: OnceLock::new(),
            class_names: OnceLock::new(),
            params_cache: std::sync::Mutex::new(HashMap::default()),
            classes_cache: (0..targets_len).map(|_| OnceLock::new()).collect(),
            attributes_cache: std::sync::Mutex::new(HashMap::default()),
        })
    }

    /// All targets, oldest first.
    pub fn targets(&self) -> impl Iterator<Item = Target> + '_ {
        self.releases.iter().copied()
    }

    /// The release-time provider snapshot of a target (`X~` in the data): its providers as the
    /// constraint files of that Airflow release pin them, when the catalog has one.
    pub(crate) fn snapshot(&self, t: Target) -> Option<Target> {
        self.snapshots[t.index()]
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
}

/// `module.name`: built without `format!`'s machinery, because validation builds one for every
/// import and every operator call it meets.
pub(crate) fn qualified(module: &str, name: &str) -> String {
    let mut out = String::with_capacity(module.len().saturating_add(name.len()).saturating_add(1));
    out.push_str(module);
    out.push('.');
    out.push_str(name);
    out
}

#[cfg(test)]
mod tests;
