//! Where a name is imported from in the target version, when the catalog says so without
//! doubt, and the one real class a wrong class name most likely meant.

use crate::AirflowVersion;
use crate::catalog::{ModuleStatus, NameStatus, Target, catalog, similarity};
use crate::validate::memo::Memo;

/// Airflow's own API outside `airflow.sdk` (2.x, and 3.x names the SDK lacks): name → module.
/// Checked against the catalog before use.
const CORE_API: &[(&str, &str)] = &[
    ("DAG", "airflow"),
    ("dag", "airflow.decorators"),
    ("task", "airflow.decorators"),
    ("task_group", "airflow.decorators"),
    ("setup", "airflow.decorators"),
    ("teardown", "airflow.decorators"),
    ("chain", "airflow.models.baseoperator"),
    ("chain_linear", "airflow.models.baseoperator"),
    ("cross_downstream", "airflow.models.baseoperator"),
    ("BaseOperator", "airflow.models.baseoperator"),
    ("Variable", "airflow.models"),
    ("Param", "airflow.models.param"),
    ("TaskGroup", "airflow.utils.task_group"),
    ("Label", "airflow.utils.edgemodifier"),
    ("TriggerRule", "airflow.utils.trigger_rule"),
    ("Dataset", "airflow.datasets"),
    ("get_current_context", "airflow.operators.python"),
];

/// Distributions preferred when a class is defined in several: Airflow itself.
const CORE_DISTRIBUTIONS: &[&str] =
    &["apache-airflow", "apache-airflow-core", "apache-airflow-task-sdk"];

/// The module to import `name` from in this target, other than `wrong_module`: `airflow.sdk`
/// on 3.x when it has the name; Airflow's API table; else the one public, non-shim module
/// that defines the class (Airflow's own before providers, then the provider of
/// `wrong_module`). `None` when the choice is not certain.
pub(super) fn home_of(
    target: Target,
    version: AirflowVersion,
    name: &str,
    wrong_module: Option<&str>,
) -> Option<String> {
    // Remembered: every answer of a batch imports the same few names from the same wrong places.
    type Found = Memo<(Target, AirflowVersion, String, Option<String>), Option<String>>;
    static FOUND: Found = Memo::new(4096);
    FOUND.get_or_compute(
        (target, version, name.to_string(), wrong_module.map(str::to_string)),
        || search_home(target, version, name, wrong_module),
    )
}

fn search_home(
    target: Target,
    version: AirflowVersion,
    name: &str,
    wrong_module: Option<&str>,
) -> Option<String> {
    let cat = catalog();
    let exists = |m: &str| cat.name_status(target, m, name) == NameStatus::Exists;
    let not_wrong = |m: &str| Some(m) != wrong_module;
    if version.is_v3() && exists("airflow.sdk") && not_wrong("airflow.sdk") {
        return Some("airflow.sdk".into());
    }
    if let Some((_, m)) = CORE_API.iter().find(|(n, _)| *n == name)
        && exists(m)
        && not_wrong(m)
        && cat.module_info(target, m).is_some_and(|i| !i.is_deprecated_shim)
    {
        return Some((*m).into());
    }
    let usable = |m: &&str| {
        not_wrong(m) && cat.module_info(target, m).is_some_and(|i| !i.is_deprecated_shim)
    };
    let defs: Vec<&str> = cat.class_definitions(target, name).into_iter().filter(usable).collect();
    if let Some(m) = pick(target, &defs, wrong_module) {
        return Some(m.into());
    }
    if defs.is_empty() {
        let reexports = cat.class_reexports(target, name);
        let reexports: Vec<&str> = reexports.into_iter().filter(usable).collect();
        return pick(target, &reexports, wrong_module).map(Into::into);
    }
    None
}

/// When several modules define a class of this name (Google's and Yandex's
/// `DataprocCreateClusterOperator`): the one whose class accepts every keyword the file passes
/// to it, when exactly one does. `None` without keywords to tell them apart.
pub(super) fn home_by_arguments(target: Target, name: &str, keywords: &[&str]) -> Option<String> {
    if keywords.is_empty() {
        return None;
    }
    let cat = catalog();
    only_definition(target, name, |m| {
        cat.operator_params(target, m, name).is_some_and(|p| {
            p.accepts_any_kwargs || keywords.iter().all(|k| p.accepted.contains(*k))
        })
    })
}

/// When several providers define a class of this name: the one whose provider the file
/// already imports from (a file importing Google's `DataprocSubmitJobOperator` means Google's
/// `DataprocCreateClusterOperator`, not Yandex's), when exactly one is.
pub(super) fn home_beside_imports<'m>(
    target: Target,
    name: &str,
    imported_modules: impl Iterator<Item = &'m str>,
) -> Option<String> {
    let providers: Vec<String> = imported_modules.filter_map(provider_prefix).collect();
    if providers.is_empty() {
        return None;
    }
    only_definition(target, name, |m| providers.iter().any(|p| m.starts_with(p.as_str())))
}

/// The one module (not a deprecation shim) defining the class `name` that `keep` accepts.
fn only_definition(target: Target, name: &str, keep: impl Fn(&str) -> bool) -> Option<String> {
    let cat = catalog();
    let defs = cat.class_definitions(target, name);
    let kept: Vec<&str> = defs
        .into_iter()
        .filter(|m| cat.module_info(target, m).is_some_and(|i| !i.is_deprecated_shim))
        .filter(|m| keep(m))
        .collect();
    match kept[..] {
        [only] => Some(only.to_string()),
        _ => None,
    }
}

/// The one module of `modules` in the first non-empty tier: Airflow itself, then the standard
/// provider (Airflow 3's home of the core operators), then the provider of `near`.
fn pick<'m>(target: Target, modules: &[&'m str], near: Option<&str>) -> Option<&'m str> {
    if let [only] = modules {
        return Some(only);
    }
    let cat = catalog();
    let dist = |m: &str| cat.module_distribution(target, m).unwrap_or_default();
    let near_provider = near.and_then(provider_prefix);
    let tiers: [&dyn Fn(&str) -> bool; 3] = [
        &|m| CORE_DISTRIBUTIONS.contains(&dist(m)),
        &|m| dist(m) == "apache-airflow-providers-standard",
        &|m| near_provider.as_deref().is_some_and(|p| m.starts_with(p)),
    ];
    for in_tier in tiers {
        let found: Vec<&str> = modules.iter().copied().filter(|m| in_tier(m)).collect();
        match found[..] {
            [] => continue,
            [only] => return Some(only),
            _ => return None,
        }
    }
    None
}

/// `airflow.providers.google.` for any module of the Google provider.
pub(super) fn provider_prefix(module: &str) -> Option<String> {
    let rest = module.strip_prefix("airflow.providers.")?;
    let provider = rest.split('.').next().filter(|p| !p.is_empty())?;
    Some(format!("airflow.providers.{provider}."))
}

/// The one real class that `written` (which exists nowhere in this target) most likely meant,
/// and its module: the same CamelCase words in another order, or one small edit (see
/// [`similarity::closeness`]), with no other candidate as close. Looked for in `module` when
/// it exists, else in its provider (every class, for a module of Airflow itself).
pub(super) fn confident_class(
    target: Target,
    version: AirflowVersion,
    module: &str,
    written: &str,
) -> Option<(String, String)> {
    if !written.starts_with(|c: char| c.is_ascii_uppercase()) {
        return None;
    }
    // The same misspelt class recurs in a batch and in each fix pass of a file.
    /// (module, class) by (target, version, module written, class written).
    type Found = Memo<(Target, AirflowVersion, String, String), Option<(String, String)>>;
    static FOUND: Found = Memo::new(4096);
    FOUND.get_or_compute((target, version, module.to_string(), written.to_string()), || {
        search_confident_class(target, version, module, written)
    })
}

fn search_confident_class(
    target: Target,
    version: AirflowVersion,
    module: &str,
    written: &str,
) -> Option<(String, String)> {
    let cat = catalog();
    let written = similarity::Prepared::new(written);
    let in_module = if cat.module_exists(target, module) == ModuleStatus::Exists {
        let classes = cat.classes_under(target, module).filter(|(m, _)| *m == module);
        similarity::confident_among(classes, &written, |(_, p)| (p.name.as_str(), *p))
            .map(|(_, p)| (module.to_string(), p.name.clone()))
    } else {
        None
    };
    if let Some(found) = in_module {
        return Some(found);
    }
    // The provider's classes; for Airflow's own modules (`airflow.operators...`,
    // `airflow.contrib...`) every class, since Airflow 2 and 3 moved many into providers.
    let prefix = provider_prefix(module).unwrap_or_else(|| "airflow.".into());
    let (real, only_home) = confident_under(target, &prefix, &written)?;
    let home = home_of(target, version, &real, None).or(only_home)?;
    Some((home, real))
}

/// The one class under `prefix` that `written` confidently means, and its module when it is
/// the only one of the candidates to define it. Remembered apart from [`confident_class`]:
/// the modules a class is misplaced in vary more than the class (the same misspelt Google
/// class, imported from several made-up modules, is one search).
fn confident_under(
    target: Target,
    prefix: &str,
    written: &similarity::Prepared,
) -> Option<(String, Option<String>)> {
    /// (class, only module) by (target, prefix, class written).
    type Found = Memo<(Target, String, String), Option<(String, Option<String>)>>;
    static FOUND: Found = Memo::new(4096);
    FOUND.get_or_compute((target, prefix.to_string(), written.name.clone()), || {
        let candidates = catalog().classes_sharing_a_word(target, prefix, &written.name);
        let (_, real) =
            similarity::confident_among(candidates.iter().copied(), written, |(_, p)| {
                (p.name.as_str(), *p)
            })?;
        let real = real.name.as_str();
        let homes: Vec<&str> =
            candidates.iter().filter(|(_, c)| c.name == real).map(|(m, _)| *m).collect();
        let only = if let [only] = homes[..] { Some(only.to_string()) } else { None };
        Some((real.to_string(), only))
    })
}
