//! Fixes for names used but never imported (DS102 undefined-name, DS103
//! undefined-name-at-runtime): the import, when the standard library, pendulum or the catalog
//! knows the name uniquely, added after the file's imports (safe); a class name that exists
//! nowhere, the real class it most likely meant (unsafe).

use super::edits::{ImportLine, add_import};
use super::homes::{confident_class, home_beside_imports, home_by_arguments, home_of};
use super::imports::rename_uses;
use super::{Context, Draft, dates};
use crate::fix::Applicability;
use crate::validate::model::RawFinding;

/// Standard-library (and pendulum) modules imported by their name.
const MODULES: &[&str] = &[
    "base64",
    "calendar",
    "collections",
    "copy",
    "csv",
    "decimal",
    "functools",
    "glob",
    "gzip",
    "hashlib",
    "io",
    "itertools",
    "json",
    "logging",
    "math",
    "os",
    "pathlib",
    "pendulum",
    "pprint",
    "random",
    "re",
    "shutil",
    "socket",
    "statistics",
    "string",
    "subprocess",
    "sys",
    "tempfile",
    "textwrap",
    "traceback",
    "uuid",
    "zipfile",
];

/// Standard-library (and Airflow-requirement) names imported from their module.
pub(super) const FROM_STDLIB: &[(&str, &str)] = &[
    ("timedelta", "datetime"),
    ("date", "datetime"),
    ("Path", "pathlib"),
    ("dedent", "textwrap"),
    ("partial", "functools"),
    ("defaultdict", "collections"),
    ("OrderedDict", "collections"),
    ("Counter", "collections"),
    ("namedtuple", "collections"),
    ("deque", "collections"),
    ("Any", "typing"),
    ("Optional", "typing"),
    ("Union", "typing"),
    ("List", "typing"),
    ("Dict", "typing"),
    // dateutil is one of Airflow's own requirements.
    ("relativedelta", "dateutil.relativedelta"),
];

/// Attributes that say `datetime` is the module (`datetime.timedelta`), not the class.
const DATETIME_MODULE_ATTRIBUTES: &[&str] =
    &["datetime", "date", "time", "timedelta", "timezone", "tzinfo", "MINYEAR", "MAXYEAR"];

pub(super) fn fix(ctx: &Context, finding: &RawFinding) -> Option<Draft> {
    let file = ctx.file();
    let name = file.text(finding.range);
    if name == "days_ago" {
        return dates::fix_undefined_days_ago(ctx);
    }
    let Some(import) = import_for(ctx, name) else {
        return misspelt_class(ctx, name);
    };
    let (edit, message) = add_import(file, &import)?;
    Some(Draft { applicability: Applicability::Safe, message, edits: vec![edit] })
}

/// A class that exists nowhere, used without an import (`PubSubPublishOperator`): the one real
/// class of a module the file imports from that it most likely meant (see
/// [`confident_class`]), renamed at every use and imported. Unsafe: a guess.
fn misspelt_class(ctx: &Context, name: &str) -> Option<Draft> {
    if !name.starts_with(|c: char| c.is_ascii_uppercase()) {
        return None;
    }
    let file = ctx.file();
    let mut modules: Vec<&str> =
        imported_modules(ctx).filter(|m| m.starts_with("airflow.providers.")).collect();
    modules.sort_unstable();
    modules.dedup();
    let mut found: Vec<(String, String)> = modules
        .iter()
        .filter_map(|m| confident_class(ctx.target(), ctx.version, m, name))
        .collect();
    found.sort_unstable();
    found.dedup();
    let [(home, real)] = &found[..] else { return None };
    let mut edits = rename_uses(ctx, name, real)?;
    let mut message = format!("replace `{name}` with `{real}`");
    if !file.imported().contains_key(real.as_str()) {
        let import = ImportLine::From { module: home.clone(), name: real.clone() };
        let (edit, added) = add_import(file, &import)?;
        edits.push(edit);
        message = format!("{message}; {added}");
    }
    Some(Draft { applicability: Applicability::Unsafe, message, edits })
}

fn import_for(ctx: &Context, name: &str) -> Option<ImportLine> {
    let from = |module: &str| Some(ImportLine::From { module: module.into(), name: name.into() });
    if name == "datetime" {
        return datetime_import(ctx);
    }
    if name == "time" {
        // `time.sleep(...)`: the module; a bare `time(...)` is ambiguous.
        return all_uses_are_attributes(ctx, name, |_| true)
            .then(|| ImportLine::Module(name.into()));
    }
    if name == "dag" && passed_as_dag_argument(ctx) {
        // `dag=dag` wants a DAG object; importing the `@dag` decorator would not be one.
        return None;
    }
    if MODULES.contains(&name) {
        return Some(ImportLine::Module(name.into()));
    }
    if let Some((_, module)) = FROM_STDLIB.iter().find(|(n, _)| *n == name) {
        return from(module);
    }
    if name.starts_with('_') || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let home = home_of(ctx.target(), ctx.version, name, None)
        .or_else(|| home_by_arguments(ctx.target(), name, &keywords_passed_to(ctx, name)))
        .or_else(|| home_beside_imports(ctx.target(), name, imported_modules(ctx)))?;
    from(&home)
}

/// The modules the file imports names from (`from X import ...`).
fn imported_modules<'c>(ctx: &'c Context) -> impl Iterator<Item = &'c str> + 'c {
    ctx.file().uses.import_froms.iter().filter_map(|i| i.module.as_ref().map(|m| m.as_str()))
}

/// Some call passes the name `dag` as its `dag=` argument.
fn passed_as_dag_argument(ctx: &Context) -> bool {
    ctx.file().uses.calls.iter().any(|c| {
        c.arguments.keywords.iter().any(|k| {
            k.arg.as_ref().is_some_and(|a| a.as_str() == "dag")
                && matches!(&k.value, ruff_python_ast::Expr::Name(n) if n.id.as_str() == "dag")
        })
    })
}

/// The keyword arguments of every call of the plain name `name` in the file.
fn keywords_passed_to<'c>(ctx: &'c Context, name: &str) -> Vec<&'c str> {
    let mut out: Vec<&str> = ctx
        .file()
        .calls_of(name)
        .flat_map(|c| {
            c.arguments.keywords.iter().filter_map(|k| k.arg.as_ref().map(|a| a.as_str()))
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// `import datetime` when every use is `datetime.<module attribute>`, `from datetime import
/// datetime` when none is; mixed uses get no fix.
fn datetime_import(ctx: &Context) -> Option<ImportLine> {
    let module_attr = |attr: &str| DATETIME_MODULE_ATTRIBUTES.contains(&attr);
    if all_uses_are_attributes(ctx, "datetime", module_attr) {
        return Some(ImportLine::Module("datetime".into()));
    }
    if !attributes_of(ctx, "datetime").any(module_attr) {
        return Some(ImportLine::From { module: "datetime".into(), name: "datetime".into() });
    }
    None
}

/// Every use of `name` is `name.attr` with `accept(attr)`.
fn all_uses_are_attributes(ctx: &Context, name: &str, accept: impl Fn(&str) -> bool) -> bool {
    let uses = ctx.file().uses.names.get(name).count();
    uses > 0 && attributes_of(ctx, name).filter(|a| accept(a)).count() == uses
}

/// The attribute names read directly off `name` (`name.attr`).
fn attributes_of<'c>(ctx: &'c Context, name: &str) -> impl Iterator<Item = &'c str> + 'c {
    ctx.file().uses.attributes.get(name)
}
