//! Import rules (DS201–DS206, DS209): test-harness modules, and every `airflow.*` import
//! checked against the catalog of real Airflow and provider releases for the target version.

use ruff_text_size::TextRange;

use super::airflow;
use super::memo::Memo;
use super::model::RawFinding;
use super::stdlib::is_stdlib;
use crate::AirflowVersion;
use crate::catalog::{ModuleStatus, NameStatus, Target, catalog};
use crate::finding::Severity;
use crate::hint::Hint;
use crate::rules::{self, Rule};

/// One executed import: `import module` (no names) or `from module import names`.
pub(super) struct Import<'n> {
    pub module: &'n str,
    pub names: Vec<(&'n str, TextRange)>,
    /// The whole statement: Python reports import errors on its first line.
    pub range: TextRange,
    /// Inside a `try` that catches ImportError: failures are handled.
    pub guarded: bool,
}

/// Packages every Airflow 2.7–3.1 installation has (its own requirements).
const AIRFLOW_DEPENDENCIES: &[&str] = &[
    "attr",
    "attrs",
    "croniter",
    "dateutil",
    "httpx",
    "jinja2",
    "lazy_object_proxy",
    "markupsafe",
    "packaging",
    "pendulum",
    "pluggy",
    "psutil",
    "pydantic",
    "requests",
    "rich",
    "sqlalchemy",
    "tabulate",
    "tenacity",
    "typing_extensions",
    "yaml",
];

/// pendulum's public names in its 2.x releases (Airflow 2.7-2.9 pin 2.1) and 3.x (Airflow 2.10+):
/// a name in neither is an ImportError whichever is installed. Models import `timedelta` from it.
const PENDULUM_NAMES: &[&str] = &[
    "DAYS_PER_WEEK",
    "Date",
    "DateTime",
    "Duration",
    "FRIDAY",
    "FixedTimezone",
    "Formatter",
    "HOURS_PER_DAY",
    "Interval",
    "MINUTES_PER_HOUR",
    "MONDAY",
    "MONTHS_PER_YEAR",
    "Period",
    "POST_TRANSITION",
    "PRE_TRANSITION",
    "SATURDAY",
    "SECONDS_PER_DAY",
    "SECONDS_PER_HOUR",
    "SECONDS_PER_MINUTE",
    "SUNDAY",
    "THURSDAY",
    "TRANSITION_ERROR",
    "TUESDAY",
    "Time",
    "Timezone",
    "UTC",
    "WEDNESDAY",
    "WEEKS_PER_YEAR",
    "WeekDay",
    "YEARS_PER_CENTURY",
    "YEARS_PER_DECADE",
    "constants",
    "date",
    "datetime",
    "day",
    "duration",
    "exceptions",
    "fixed_timezone",
    "format_diff",
    "formatting",
    "freeze",
    "from_format",
    "from_timestamp",
    "get_locale",
    "get_test_now",
    "has_test_now",
    "helpers",
    "instance",
    "interval",
    "local",
    "local_timezone",
    "locale",
    "locales",
    "mixins",
    "naive",
    "now",
    "parse",
    "parser",
    "parsing",
    "period",
    "set_local_timezone",
    "set_locale",
    "set_test_now",
    "test",
    "test_local_timezone",
    "time",
    "timezone",
    "timezones",
    "today",
    "tomorrow",
    "travel",
    "travel_back",
    "travel_to",
    "tz",
    "utils",
    "week_ends_at",
    "week_starts_at",
    "yesterday",
];

/// One finding of an import statement, before its place and its `try` guard are known.
#[derive(Clone)]
struct ImportFinding {
    rule: &'static Rule,
    severity: Severity,
    message: String,
    /// Searched for when first read: shared by every file the memo below gives it to.
    fix: Hint,
}

/// The findings of an import statement by catalog target (with whether the version is an
/// Airflow 3, which the messages say), module and names: they depend on nothing else, so
/// 3.0.0, 3.0.1 and 3.0.6 share their searches. Keyed by [`findings_key`].
static FINDINGS: Memo<String, Vec<ImportFinding>> = Memo::new(8192);

pub(super) fn check(version: AirflowVersion, import: &Import, out: &mut Vec<RawFinding>) {
    let compute = || {
        let mut found = Vec::new();
        check_module(version, import, &mut found);
        found
    };
    let findings = match findings_key(catalog().target_for(version), version.is_v3(), import) {
        Some(key) => FINDINGS.get_or_compute_by(key.as_str(), str::to_string, compute),
        None => compute(),
    };
    for f in findings {
        let severity = match f.severity {
            Severity::Error if import.guarded => Severity::Warning,
            s => s,
        };
        out.push(RawFinding {
            rule: f.rule,
            severity,
            range: import.range,
            message: f.message,
            fix: f.fix,
        });
    }
}

/// [`FINDINGS`]' key: the target, the major version, then the module and each name, each
/// ended by a NUL (which no Python name has; one that does is not remembered). One string
/// looked up as it is built, where a tuple of strings took an allocation for each.
fn findings_key(target: Target, v3: bool, import: &Import) -> Option<String> {
    let parts = std::iter::once(import.module).chain(import.names.iter().map(|(n, _)| *n));
    let mut key = String::with_capacity(64);
    key.push(char::from(target.0));
    key.push(if v3 { '3' } else { '2' });
    for part in parts {
        if part.contains('\0') {
            return None;
        }
        key.push_str(part);
        key.push('\0');
    }
    Some(key)
}

/// [`check`]'s work: what is wrong with importing `import`'s names from its module.
fn check_module(version: AirflowVersion, import: &Import, out: &mut Vec<ImportFinding>) {
    let mut push = |rule: &'static Rule, severity: Severity, message: String, fix: Hint| {
        out.push(ImportFinding { rule, severity, message, fix });
    };
    let module = import.module;
    let top = module.split('.').next().unwrap_or(module);
    if airflow::test_harness_module(module) {
        let what = if top == "pytest" {
            "`pytest` is a test dependency, not installed with Airflow".to_string()
        } else {
            format!(
                "`{module}` exists only in Airflow's source repository (system tests), not in an Airflow install"
            )
        };
        push(
            &rules::TEST_HARNESS_IMPORT,
            Severity::Error,
            format!("{what}: ModuleNotFoundError while Airflow imports the file"),
            "remove this import and the test boilerplate that uses it (`watcher()`, `get_test_run(dag)`, `ENV_ID`...)".into(),
        );
        return;
    }
    if module == "pendulum" {
        for (name, _) in &import.names {
            if *name != "*" && !PENDULUM_NAMES.contains(name) {
                push(
                    &rules::NAME_NOT_IN_MODULE,
                    Severity::Error,
                    format!(
                        "cannot import name '{name}' from 'pendulum' (ImportError while Airflow imports the file)"
                    ),
                    Hint::default(),
                );
            }
        }
        return;
    }
    if top != "airflow" {
        if !is_stdlib(top)
            && !AIRFLOW_DEPENDENCIES.contains(&top)
            && !top.is_empty()
            && top != "__future__"
        {
            push(
                &rules::THIRD_PARTY_IMPORT,
                Severity::Info,
                format!(
                    "`{top}` is not part of Airflow, its dependencies or Python's standard library: it must be installed (or be a module in the DAG folder) where Airflow parses DAGs"
                ),
                Hint::default(),
            );
        }
        return;
    }
    let cat = catalog();
    let target = cat.target_for(version);
    let release = cat.target_version(target);
    match cat.module_exists(target, module) {
        ModuleStatus::Missing => {
            let (rule, message, fix) = missing_module(target, version, release, module, import);
            push(rule, Severity::Error, message, fix);
        }
        ModuleStatus::InOlderProvider => {
            let (dist, older) = cat.older_provider_has(target, module, None).unwrap_or_default();
            push(
                &rules::PROVIDER_RELEASE_MISMATCH,
                Severity::Warning,
                format!(
                    "`{module}` is gone from the newest {dist} release for Airflow {release}; it exists in {dist} {older}"
                ),
                format!("pin `{dist}=={older}`, or use the module's replacement").into(),
            );
        }
        ModuleStatus::Exists => {
            if let Some(needed) = cat.module_info(target, module).and_then(|i| i.requires_airflow) {
                let dist = cat.module_distribution(target, module).unwrap_or("its provider");
                push(
                    &rules::VERSION_MISMATCH_IMPORT,
                    Severity::Error,
                    format!(
                        "`{module}` ({dist}) needs Airflow {needed} or newer: importing it in Airflow {release} raises AirflowOptionalProviderFeatureException"
                    ),
                    format!("target Airflow {needed}+, or do without this feature").into(),
                );
                return;
            }
            if let Some(info) = cat.module_info(target, module)
                && info.is_deprecated_shim
            {
                let fix = match import.names.first() {
                    Some(&(name, _)) => {
                        let (name, module) = (name.to_string(), module.to_string());
                        Hint::later(move || {
                            better_home(target, &name, &module)
                                .map(|m| format!("import it from `{m}`"))
                        })
                    }
                    None => Hint::default(),
                };
                push(
                    &rules::DEPRECATED_IMPORT,
                    Severity::Warning,
                    format!(
                        "`{module}` is a deprecated alias in Airflow {release} (it is created by a compatibility shim)"
                    ),
                    fix,
                );
            }
            for &(name, _) in &import.names {
                name_check(target, release, module, name, &mut push);
            }
        }
    }
}

fn name_check(
    target: Target,
    release: &str,
    module: &str,
    name: &str,
    push: &mut impl FnMut(&'static Rule, Severity, String, Hint),
) {
    let cat = catalog();
    match cat.name_status(target, module, name) {
        NameStatus::Missing => {
            let (module_owned, name_owned) = (module.to_string(), name.to_string());
            let fix = Hint::later(move || {
                let (module, name) = (module_owned.as_str(), name_owned.as_str());
                replacement_hint(target, name, module).or_else(|| {
                    let close = catalog().closest_names(target, module, name, 3);
                    if close.is_empty() {
                        similar_classes(target, module, name)
                    } else {
                        Some(format!("did you mean {}?", quoted(&close)))
                    }
                })
            });
            let other_versions = cat.name_targets(module, name);
            let message = if other_versions.is_empty() {
                format!(
                    "cannot import name '{name}' from '{module}' in Airflow {release} (ImportError while Airflow imports the file)"
                )
            } else {
                let versions: Vec<&str> =
                    other_versions.iter().map(|t| cat.target_version(*t)).collect();
                format!(
                    "cannot import name '{name}' from '{module}' in Airflow {release}; it exists there in Airflow {} (ImportError while Airflow imports the file)",
                    versions.join(", ")
                )
            };
            push(&rules::NAME_NOT_IN_MODULE, Severity::Error, message, fix);
        }
        NameStatus::InOlderProvider => {
            let (dist, older) =
                cat.older_provider_has(target, module, Some(name)).unwrap_or_default();
            push(
                &rules::PROVIDER_RELEASE_MISMATCH,
                Severity::Warning,
                format!(
                    "`{name}` is gone from `{module}` in the newest {dist} release for Airflow {release}; it exists in {dist} {older}"
                ),
                format!("pin `{dist}=={older}`, or use its replacement").into(),
            );
        }
        NameStatus::Exists => {
            if let Some(replacement) = deprecated_class_replacement(target, module, name) {
                let replacement = match replacement.rsplit_once('.') {
                    Some((m, c)) => format!("{c}` from `{m}"),
                    None => replacement,
                };
                let dist = cat.module_distribution(target, module).unwrap_or("its package");
                push(
                    &rules::DEPRECATED_CLASS,
                    Severity::Warning,
                    format!(
                        "`{name}` is deprecated in {dist} for Airflow {release} (a later release removes it): its replacement is `{replacement}`"
                    ),
                    format!("use `{replacement}`").into(),
                );
            }
        }
        NameStatus::Unknown | NameStatus::ModuleMissing => {}
    }
}

/// The replacement that the deprecation of operator, sensor or hook `module.name` names in
/// this target, as written there (a dotted path or a class name).
pub(super) fn deprecated_class_replacement(
    target: Target,
    module: &str,
    name: &str,
) -> Option<String> {
    let cat = catalog();
    let replacement = cat.class_deprecation(target, module, name)?.replacement?;
    let short = replacement.rsplit('.').next().unwrap_or(&replacement);
    let is_class = short.starts_with(|c: char| c.is_ascii_uppercase()) && short != name;
    // A replacement newer than the target's release-time providers would need an upgrade
    // most installations do not have (`GlueCrawlerCreateOperator` for 3.0): not offered.
    let released = cat.snapshot(target).is_none_or(|snapshot| match replacement.rsplit_once('.') {
        Some((m, c)) => cat.name_status(snapshot, m, c) == NameStatus::Exists,
        None => !cat.class_definitions(snapshot, short).is_empty(),
    });
    (is_class && released && cat.class_kind(target, module, name).is_some()).then_some(replacement)
}

/// The DS202/DS204 finding for a module that does not exist in the target version.
fn missing_module(
    target: Target,
    version: AirflowVersion,
    release: &str,
    module: &str,
    import: &Import,
) -> (&'static Rule, String, Hint) {
    let cat = catalog();
    let elsewhere = cat.module_targets(module);
    let absence = if elsewhere.is_empty() {
        Absence::Nowhere
    } else if module.starts_with("airflow.providers.") {
        Absence::DroppedByProvider
    } else {
        Absence::OtherVersions
    };
    let hint = {
        let (module, first) =
            (module.to_string(), import.names.first().map(|(n, _)| n.to_string()));
        Hint::later(move || missing_module_hint(target, &module, first.as_deref(), absence))
    };
    let versions = || -> String {
        let versions: Vec<&str> = elsewhere.iter().map(|t| cat.target_version(*t)).collect();
        versions.join(", ")
    };
    match absence {
        Absence::DroppedByProvider => {
            // Providers version independently: the module was dropped from the provider release
            // that goes with this Airflow, not from Airflow itself.
            let dist = cat.module_distribution_any(module).unwrap_or("its provider package");
            let message = format!(
                "No module named '{module}' in the {dist} release for Airflow {release}: the provider dropped it (it is in the releases used with Airflow {}) (ModuleNotFoundError while Airflow imports the file)",
                versions()
            );
            (&rules::MODULE_NOT_FOUND, message, hint)
        }
        Absence::OtherVersions => {
            let when = if version.is_v3() {
                format!("was removed in Airflow 3 (it exists in Airflow {})", versions())
            } else {
                format!("does not exist before Airflow 3 (it exists in Airflow {})", versions())
            };
            let message = format!(
                "No module named '{module}' in Airflow {release}: it {when} (ModuleNotFoundError while Airflow imports the file)"
            );
            (&rules::VERSION_MISMATCH_IMPORT, message, hint)
        }
        Absence::Nowhere => {
            let message = format!(
                "No module named '{module}' in Airflow {release} (ModuleNotFoundError while Airflow imports the file)"
            );
            (&rules::MODULE_NOT_FOUND, message, hint)
        }
    }
}

/// Why a module is missing from the target.
#[derive(Clone, Copy)]
enum Absence {
    /// Its provider's release for this Airflow no longer has it; older ones did.
    DroppedByProvider,
    /// Other Airflow versions have it.
    OtherVersions,
    /// No version of Airflow or of a provider has it.
    Nowhere,
}

/// The hint of [`missing_module`]'s finding, where `first` is the first name imported from it:
/// where that name (or its successor) lives, else the closest classes or modules.
fn missing_module_hint(
    target: Target,
    module: &str,
    first: Option<&str>,
    absence: Absence,
) -> Option<String> {
    let cat = catalog();
    let replacement = first.and_then(|n| replacement_hint(target, n, module));
    let similar = || first.and_then(|n| similar_classes(target, module, n));
    match absence {
        Absence::DroppedByProvider => replacement,
        Absence::OtherVersions => replacement.or_else(similar),
        Absence::Nowhere => replacement.or_else(|| {
            let provider =
                module.strip_prefix("airflow.providers.").and_then(|rest| rest.split('.').next());
            let known_provider = provider.is_some_and(|p| {
                cat.module_exists(target, &format!("airflow.providers.{p}")) != ModuleStatus::Missing
            });
            match provider {
                Some(p) if !known_provider => Some(format!(
                    "there is no provider package `apache-airflow-providers-{}`: check the provider's name",
                    p.replace('_', "-")
                )),
                _ => similar().or_else(|| {
                    let close = cat.closest_modules(target, module, 3);
                    (!close.is_empty()).then(|| format!("did you mean {}?", quoted(&close)))
                }),
            }
        }),
    }
}

/// Names Airflow retired in favour of another, for hints when the old one is gone.
const RENAMED: &[(&str, &str)] = &[
    ("DummyOperator", "EmptyOperator"),
    ("SubDagOperator", "TaskGroup"),
    ("Dataset", "Asset"),
    ("DatasetAlias", "AssetAlias"),
    ("SnowflakeOperator", "SQLExecuteQueryOperator"),
    ("PostgresOperator", "SQLExecuteQueryOperator"),
    ("MySqlOperator", "SQLExecuteQueryOperator"),
    ("SqliteOperator", "SQLExecuteQueryOperator"),
    ("MsSqlOperator", "SQLExecuteQueryOperator"),
    ("TrinoOperator", "SQLExecuteQueryOperator"),
];

/// A hint for a name that is gone: where it (or its successor) lives in this version.
fn replacement_hint(target: Target, name: &str, wrong_module: &str) -> Option<String> {
    if let Some(home) = better_home(target, name, wrong_module) {
        return Some(format!("use `from {home} import {name}`"));
    }
    if name == "days_ago" {
        return Some("`days_ago` is gone: use a fixed `datetime(...)` or `pendulum.today(\"UTC\").add(days=-N)`".into());
    }
    let (_, new) = RENAMED.iter().find(|(old, _)| *old == name)?;
    // The successor may well live in the module the old name was imported from.
    let home = better_home(target, new, "")?;
    Some(format!("`{name}` was replaced by `{new}`: `from {home} import {new}`"))
}

/// Where a class or function named `name` really lives in this version (not `wrong_module`),
/// preferring the defining module over re-exports, and never a deprecated shim.
fn better_home(target: Target, name: &str, wrong_module: &str) -> Option<String> {
    let cat = catalog();
    // find_class lists defining modules first, then re-exports.
    cat.find_class(target, name)
        .into_iter()
        .filter(|m| m != wrong_module)
        .find(|m| cat.module_info(target, m).is_some_and(|i| !i.is_deprecated_shim))
}

/// "Did you mean" for a class name that is nowhere in the target: the closest classes of the
/// same package (the provider, or Airflow itself), by words, then nearness to `module`.
fn similar_classes(target: Target, module: &str, name: &str) -> Option<String> {
    if !name.starts_with(|c: char| c.is_ascii_uppercase()) {
        return None;
    }
    let prefix = match module.strip_prefix("airflow.providers.").and_then(|r| r.split('.').next()) {
        Some(p) => format!("airflow.providers.{p}."),
        None => "airflow.".to_string(),
    };
    let close = catalog().closest_classes(target, &prefix, module, name, 3);
    (!close.is_empty()).then(|| {
        let items: Vec<String> = close.iter().map(|(m, c)| format!("`{c}` (from `{m}`)")).collect();
        format!("did you mean {}?", items.join(", "))
    })
}

fn quoted(items: &[&str]) -> String {
    items.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
}
