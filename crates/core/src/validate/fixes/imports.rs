//! Fixes for `from airflow... import Name` findings (DS202 module-not-found, DS203
//! name-not-in-module, DS204 removed-or-not-yet-in-version, DS206 deprecated-import, DS216
//! deprecated-class, DS217 unused-provider-import):
//!
//! - the name exists in the target version and its home is certain → import it from there
//!   (safe: the same class), e.g. `airflow.operators.python_operator` → `airflow.operators.python`
//!   on 2.x, `airflow.providers.standard.operators.python` on 3.x, `airflow.sdk` for `DAG`, `dag`,
//!   `task`, ... on 3.x;
//! - a name Airflow renamed without changing it: `DummyOperator` → `EmptyOperator` (safe);
//! - a class name that exists nowhere but has one confident match in its package → that class, at
//!   the import and at every use (unsafe: a guess);
//! - a deprecated operator whose replacement takes the same keywords → the replacement
//!   (unsafe), e.g. `SqliteOperator` → `SQLExecuteQueryOperator`;
//! - `days_ago` from the removed `airflow.utils.dates` → `pendulum` (see `dates`);
//! - names that nothing uses and that cannot be imported or come from a provider (models
//!   import whole lists of classes they then leave alone) → removed from the statement, or the
//!   statement removed (safe: the import only ever failed, or only added a dependency);
//! - a module imported as if it were a name of an Airflow module (`from airflow.utils.dates
//!   import pendulum`) → `import pendulum` (safe: the module the code uses).

use ruff_python_ast as ast;
use ruff_text_size::{Ranged, TextRange};

use super::edits::Replacement;
use super::file::bound_name;
use super::homes::{confident_class, home_of};
use super::undefined_names::FROM_STDLIB;
use super::{Context, Draft, dates};
use crate::AirflowVersion;
use crate::catalog::{ModuleStatus, NameStatus, catalog};
use crate::fix::Applicability;
use crate::validate::memo::Memo;
use crate::validate::model::RawFinding;

/// Names Airflow retired for another of the same behaviour: (old, new).
const RENAMED: &[(&str, &str)] = &[("DummyOperator", "EmptyOperator")];

/// Database operators the SQL providers dropped for common-sql's `SQLExecuteQueryOperator`, with
/// the connection argument that became its `conn_id`. Unsafe: other arguments (`database=`,
/// `warehouse=`, ...) went into `hook_params`, which the argument fixes then point out.
const SQL_OPERATORS: &[(&str, &str)] = &[
    ("PostgresOperator", "postgres_conn_id"),
    ("MySqlOperator", "mysql_conn_id"),
    ("SqliteOperator", "sqlite_conn_id"),
    ("MsSqlOperator", "mssql_conn_id"),
    ("SnowflakeOperator", "snowflake_conn_id"),
    ("TrinoOperator", "trino_conn_id"),
];
const SQL_SUCCESSOR: &str = "SQLExecuteQueryOperator";

/// Modules that models import from Airflow modules as if they were names there
/// (`from airflow.utils.dates import pendulum`): Airflow's own requirements and the standard
/// library. (`datetime` is a class too: `plan` imports it from `datetime`.)
const MODULES: &[&str] = &["pendulum", "json", "logging", "os", "time", "random", "re"];

/// Where one imported name should come from.
struct Move<'a> {
    alias: &'a ast::Alias,
    module: String,
    /// The class's real name when it differs from the one imported.
    rename: Option<String>,
    safe: bool,
}

pub(super) fn fix(ctx: &Context, finding: &RawFinding) -> Option<Draft> {
    let only_shims = finding.rule.code == crate::rules::DEPRECATED_IMPORT.code;
    let key = (finding.range, only_shims);
    if let Some(known) = ctx.import_fixes.borrow().get(&key) {
        return known.clone();
    }
    let draft = statement_fix(ctx, finding.range, only_shims);
    ctx.import_fixes.borrow_mut().insert(key, draft.clone());
    draft
}

fn statement_fix(ctx: &Context, range: TextRange, only_shims: bool) -> Option<Draft> {
    let file = ctx.file();
    let stmt = file.uses.import_froms.iter().copied().find(|s| s.range == range)?;
    let module = stmt.module.as_ref().filter(|_| stmt.level == 0)?.as_str();
    // `days_ago` alone becomes pendulum; other names there (`datetime`, which 2.x re-exported
    // from the standard library) move like any import.
    if module == "airflow.utils.dates"
        && let Some(draft) = dates::fix_days_ago_import(ctx, stmt)
    {
        return Some(draft);
    }
    if !only_shims && let Some(draft) = modules_as_names(ctx, stmt, module) {
        return Some(draft);
    }
    // Unused names go first, rather than move: the next pass moves the others.
    if !only_shims && let Some(draft) = drop_unused(ctx, stmt, module) {
        return Some(draft);
    }
    let mut moves: Vec<Move> =
        stmt.names.iter().filter_map(|alias| plan(ctx, module, alias, only_shims)).collect();
    // Safe moves first: a guess never holds back a certain fix (it comes back next pass).
    if moves.iter().any(|m| m.safe) {
        moves.retain(|m| m.safe);
    }
    if moves.is_empty() {
        return None;
    }
    let mut edits: Vec<Replacement> = Vec::new();
    // Names that stay in this module (only renamed) are edited in place; the others move.
    let away: Vec<&Move> = moves.iter().filter(|m| m.module != module).collect();
    let all_to_one = !away.is_empty()
        && away.len() == stmt.names.len()
        && away.iter().all(|m| m.module == away[0].module);
    if all_to_one {
        edits.push((stmt.module.as_ref()?.range, away[0].module.clone()));
    }
    if away.is_empty() || all_to_one {
        for m in &moves {
            if let Some(new) = &m.rename {
                edits.push((m.alias.name.range, new.clone()));
            }
        }
    } else {
        edits.extend(split_statement(ctx, stmt, module, &moves)?);
    }
    for m in &moves {
        let old = m.alias.name.as_str();
        if let (Some(new), None) = (&m.rename, &m.alias.asname) {
            edits.extend(rename_uses(ctx, old, new)?);
        }
        if m.rename.is_some() {
            edits.extend(sql_connection_arguments(ctx, m.alias));
        }
    }
    let message = message(module, &moves, all_to_one);
    let applicability =
        if moves.iter().all(|m| m.safe) { Applicability::Safe } else { Applicability::Unsafe };
    Some(Draft { applicability, message, edits })
}

/// DS214's `from airflow import task` (the package `airflow.task`) used as the TaskFlow
/// decorator → `task` imported from where the decorator lives (safe: the name the code meant).
pub(super) fn fix_task_package(ctx: &Context, finding: &RawFinding) -> Option<Draft> {
    if !finding.message.contains("`task` here is the package `airflow.task`") {
        return None;
    }
    let file = ctx.file();
    let (stmt, alias) = file.uses.import_froms.iter().find_map(|s| {
        let from_airflow =
            s.level == 0 && s.module.as_ref().is_some_and(|m| m.as_str() == "airflow");
        let alias = s
            .names
            .iter()
            .find(|a| a.name.as_str() == "task" && a.asname.is_none())
            .filter(|_| from_airflow)?;
        Some((*s, alias))
    })?;
    let home = home_of(ctx.target(), ctx.version, "task", None)?;
    let moves = [Move { alias, module: home, rename: None, safe: true }];
    let all_to_one = stmt.names.len() == 1;
    let edits = if all_to_one {
        vec![(stmt.module.as_ref()?.range, moves[0].module.clone())]
    } else {
        split_statement(ctx, stmt, "airflow", &moves)?
    };
    Some(Draft {
        applicability: Applicability::Safe,
        message: message("airflow", &moves, all_to_one),
        edits,
    })
}

/// `from airflow.utils.dates import pendulum` → `import pendulum`: the names of `stmt` that
/// are modules missing from `module` become `import` statements of their own.
fn modules_as_names(ctx: &Context, stmt: &ast::StmtImportFrom, module: &str) -> Option<Draft> {
    let t = ctx.target();
    let is_module = |a: &ast::Alias| {
        MODULES.contains(&a.name.as_str()) && cannot_import(t, module, a.name.as_str())
    };
    let (modules, kept): (Vec<&ast::Alias>, Vec<&ast::Alias>) =
        stmt.names.iter().partition(|a| is_module(a));
    if modules.is_empty() {
        return None;
    }
    let file = ctx.file();
    let lines: Vec<String> = modules
        .iter()
        .map(|a| match &a.asname {
            Some(as_name) => format!("import {} as {as_name}", a.name.as_str()),
            None => format!("import {}", a.name.as_str()),
        })
        .collect();
    let names: Vec<String> = modules.iter().map(|a| format!("`{}`", a.name.as_str())).collect();
    let message = format!("import {} as a module, not from `{module}`", names.join(", "));
    // On lines of their own, at the statement's indentation.
    let indent = file.indentation(stmt.range)?;
    let line_end = file.line_end(stmt.range.end());
    let after = file.text(TextRange::new(stmt.range.end(), line_end)).trim();
    if !(after.is_empty() || after.starts_with('#')) {
        return None;
    }
    let separator = format!("{}{indent}", file.newline);
    let edits = if kept.is_empty() {
        vec![(stmt.range, lines.join(&separator))]
    } else {
        let added: String = lines.iter().map(|l| format!("{separator}{l}")).collect();
        vec![keep_only(file, stmt, &kept)?, (TextRange::empty(line_end), added)]
    };
    Some(Draft { applicability: Applicability::Safe, message, edits })
}

/// Removes the names of `stmt` that nothing in the file uses and that the target version
/// cannot import or that come from a provider (DS217: a dependency for nothing); the whole
/// statement (its lines) when that is all of them.
fn drop_unused(ctx: &Context, stmt: &ast::StmtImportFrom, module: &str) -> Option<Draft> {
    let file = ctx.file();
    let t = ctx.target();
    let provider = module.starts_with("airflow.providers.");
    let unused_and_missing = |a: &ast::Alias| {
        let bound = bound_name(a, true);
        a.name.as_str() != "*"
            && !file.uses.names.contains(bound)
            && (provider || cannot_import(t, module, a.name.as_str()))
    };
    let (dropped, kept): (Vec<&ast::Alias>, Vec<&ast::Alias>) =
        stmt.names.iter().partition(|a| unused_and_missing(a));
    if dropped.is_empty() {
        return None;
    }
    let names: Vec<String> = dropped.iter().map(|a| format!("`{}`", a.name.as_str())).collect();
    let message = format!("remove the unused import of {} from `{module}`", names.join(", "));
    let edit = if kept.is_empty() {
        (file.whole_lines(stmt.range)?, String::new())
    } else {
        keep_only(file, stmt, &kept)?
    };
    Some(Draft { applicability: Applicability::Safe, message, edits: vec![edit] })
}

/// `from M import a, b, c` → `from M import a, c`: the statement's names become `kept`.
fn keep_only(
    file: &super::file::FileIndex,
    stmt: &ast::StmtImportFrom,
    kept: &[&ast::Alias],
) -> Option<Replacement> {
    let first = stmt.names.first()?.range.start();
    let last = stmt.names.last()?.range.end();
    let kept: Vec<&str> = kept.iter().map(|a| file.text(a.range)).collect();
    Some((TextRange::new(first, last), kept.join(", ")))
}

/// Whether `from module import name` fails in the target.
fn cannot_import(t: crate::catalog::Target, module: &str, name: &str) -> bool {
    matches!(
        catalog().name_status(t, module, name),
        NameStatus::Missing | NameStatus::ModuleMissing
    )
}

/// The real module to import `name` from instead of the deprecated shim `module`: where the
/// version's API has the same object, else where it is defined. A function of the catalog
/// alone, remembered: files of a batch import from the same shims again and again.
fn real_home(version: AirflowVersion, module: &str, name: &str) -> Option<String> {
    static HOMES: Memo<(AirflowVersion, String, String), Option<String>> = Memo::new(4096);
    HOMES.get_or_compute((version, module.to_string(), name.to_string()), || {
        let cat = catalog();
        let t = cat.target_for(version);
        let object = cat.resolve_name(t, module, name)?;
        let same = |m: &str| cat.resolve_name(t, m, name).as_deref() == Some(object.as_str());
        home_of(t, version, name, Some(module)).filter(|h| same(h)).or_else(|| {
            let (defining, _) = object.rsplit_once('.')?;
            let public = cat.module_info(t, defining).is_some_and(|i| !i.is_deprecated_shim)
                && !defining.split('.').any(|s| s.starts_with('_'));
            (public && same(defining)).then(|| defining.to_string())
        })
    })
}

/// Where `alias` should be imported from, when that is not `module` and is certain.
fn plan<'a>(
    ctx: &Context,
    module: &str,
    alias: &'a ast::Alias,
    only_shims: bool,
) -> Option<Move<'a>> {
    let cat = catalog();
    let t = ctx.target();
    let name = alias.name.as_str();
    let status = cat.name_status(t, module, name);
    let shim = cat.module_info(t, module).is_some_and(|i| i.is_deprecated_shim);
    let to = |module: String, rename: Option<String>, safe: bool| {
        Some(Move { alias, module, rename, safe })
    };
    // `from pendulum import timedelta`: the standard library's name, which pendulum lacks.
    // (The catalog knows only Airflow's modules: nothing else moves out of pendulum.)
    if module == "pendulum" {
        let (_, stdlib) = FROM_STDLIB.iter().find(|(n, _)| *n == name)?;
        return to((*stdlib).to_string(), None, true);
    }
    match status {
        NameStatus::Exists if !shim && !only_shims => deprecated_move(ctx, module, alias),
        NameStatus::Exists if shim => to(real_home(ctx.version, module, name)?, None, true),
        NameStatus::Missing | NameStatus::ModuleMissing if !only_shims => {
            if let Some(home) = home_of(t, ctx.version, name, Some(module)) {
                return to(home, None, true);
            }
            // `from airflow.utils.dates import datetime`: Airflow modules used to import the
            // standard library's names, and some no longer do.
            if let Some((_, stdlib)) = FROM_STDLIB.iter().find(|(n, _)| *n == name) {
                return to((*stdlib).to_string(), None, true);
            }
            if name == "datetime" {
                return to("datetime".into(), None, true);
            }
            if let Some((_, new)) = RENAMED.iter().find(|(old, _)| *old == name)
                && let Some(home) = home_of(t, ctx.version, new, None)
            {
                return to(home, Some((*new).to_string()), true);
            }
            if SQL_OPERATORS.iter().any(|(old, _)| *old == name)
                && let Some(home) = home_of(t, ctx.version, SQL_SUCCESSOR, None)
            {
                return to(home, Some(SQL_SUCCESSOR.to_string()), false);
            }
            let (home, real) = confident_class(t, ctx.version, module, name)?;
            // The right module for a misspelt class: the module itself when it has it.
            let home = if cat.module_exists(t, module) == ModuleStatus::Exists
                && cat.name_status(t, module, &real) == NameStatus::Exists
            {
                module.to_string()
            } else {
                home
            };
            to(home, Some(real), false)
        }
        _ => None,
    }
}

/// DS216: a deprecated operator, sensor or hook → the replacement its deprecation names, when
/// that exists in the target and accepts every keyword the file passes (the database
/// operators' `<db>_conn_id=` as `conn_id=`). Unsafe: the replacement may behave differently.
fn deprecated_move<'a>(ctx: &Context, module: &str, alias: &'a ast::Alias) -> Option<Move<'a>> {
    let cat = catalog();
    let t = ctx.target();
    let name = alias.name.as_str();
    let replacement = crate::validate::imports::deprecated_class_replacement(t, module, name)?;
    let (named_module, real) = match replacement.rsplit_once('.') {
        Some((m, c)) => (Some(m), c),
        None => (None, replacement.as_str()),
    };
    let home = named_module
        .filter(|m| cat.name_status(t, m, real) == NameStatus::Exists)
        .filter(|m| cat.module_info(t, m).is_some_and(|i| !i.is_deprecated_shim))
        .map(str::to_string)
        .or_else(|| home_of(t, ctx.version, real, None))?;
    let params = cat.operator_params(t, &home, real)?;
    let conn = SQL_OPERATORS.iter().find(|(old, _)| *old == name).map(|(_, c)| *c);
    let bound = bound_name(alias, true);
    let fits = ctx.file().calls_of(bound).flat_map(|c| c.arguments.keywords.iter()).all(|k| {
        let Some(arg) = k.arg.as_ref() else { return true };
        let arg = if Some(arg.as_str()) == conn { "conn_id" } else { arg.as_str() };
        params.accepts_any_kwargs || params.accepted.contains(arg)
    });
    fits.then(|| Move { alias, module: home, rename: Some(real.to_string()), safe: false })
}

/// Keeps the names that stay in `stmt` (renamed in place where the move says so) and adds
/// one `from MODULE import ...` per new home after it, on its own line at the same indentation
/// (or after `; ` when the statement shares its line).
fn split_statement(
    ctx: &Context,
    stmt: &ast::StmtImportFrom,
    module: &str,
    moves: &[Move],
) -> Option<Vec<Replacement>> {
    let file = ctx.file();
    let move_of = |a: &ast::Alias| moves.iter().find(|m| std::ptr::eq(m.alias, a));
    let alias_text = |m: &Move| {
        let name = m.rename.as_deref().unwrap_or(m.alias.name.as_str());
        match &m.alias.asname {
            Some(a) => format!("{name} as {a}"),
            None => name.to_string(),
        }
    };
    let kept: Vec<String> = stmt
        .names
        .iter()
        .filter_map(|a| match move_of(a) {
            None => Some(file.text(a.range).to_string()),
            Some(m) if m.module == module => Some(alias_text(m)),
            Some(_) => None,
        })
        .collect();
    let mut homes: Vec<&str> = Vec::new();
    for m in moves.iter().filter(|m| m.module != module) {
        if !homes.contains(&m.module.as_str()) {
            homes.push(&m.module);
        }
    }
    let lines: Vec<String> = homes
        .iter()
        .map(|home| {
            let names: Vec<String> =
                moves.iter().filter(|m| m.module == *home).map(alias_text).collect();
            format!("from {home} import {}", names.join(", "))
        })
        .collect();
    let line_end = file.line_end(stmt.range.end());
    let after = file.text(TextRange::new(stmt.range.end(), line_end)).trim();
    let separator = match file.indentation(stmt.range) {
        Some(indent) if after.is_empty() || after.starts_with('#') => {
            format!("{}{indent}", file.newline)
        }
        _ => "; ".to_string(),
    };
    if kept.is_empty() {
        // Every name moves: the statement becomes the new imports.
        return Some(vec![(stmt.range, lines.join(&separator))]);
    }
    let first = stmt.names.first()?.range.start();
    let last = stmt.names.last()?.range.end();
    let text: String = lines.iter().map(|l| format!("{separator}{l}")).collect();
    // After a trailing comment only when the new imports go on lines of their own.
    let at = if separator == "; " { stmt.range.end() } else { line_end };
    Some(vec![(TextRange::new(first, last), kept.join(", ")), (TextRange::empty(at), text)])
}

/// `postgres_conn_id=` → `conn_id=` in the calls of a dropped SQL operator that becomes
/// `SQLExecuteQueryOperator` (see [`SQL_OPERATORS`]).
fn sql_connection_arguments(ctx: &Context, alias: &ast::Alias) -> Vec<Replacement> {
    let Some((_, conn)) = SQL_OPERATORS.iter().find(|(old, _)| *old == alias.name.as_str()) else {
        return Vec::new();
    };
    let bound = bound_name(alias, true);
    let file = ctx.file();
    file.calls_of(bound)
        .filter(|c| {
            !c.arguments.keywords.iter().any(|k| k.arg.as_ref().is_some_and(|a| a == "conn_id"))
        })
        .flat_map(|c| c.arguments.keywords.iter())
        .filter_map(|k| k.arg.as_ref().filter(|a| a.as_str() == *conn))
        .map(|a| (a.range, "conn_id".to_string()))
        .collect()
}

/// Renames every use of the name `old` in the file. `None` when the name is bound more than
/// once at module level (another meaning could be renamed with it).
pub(super) fn rename_uses(ctx: &Context, old: &str, new: &str) -> Option<Vec<Replacement>> {
    let file = ctx.file();
    if file.module_bindings().get(old).copied().unwrap_or(0) > 1 {
        return None;
    }
    Some(file.uses.names.get(old).map(|n| (n.range(), new.to_string())).collect())
}

fn message(module: &str, moves: &[Move], all_to_one: bool) -> String {
    if let [m] = moves {
        let old = m.alias.name.as_str();
        return match (&m.rename, m.module == module) {
            (Some(new), true) => format!("replace `{old}` with `{new}`"),
            (Some(new), false) => format!("replace `{old}` with `{new}` from `{}`", m.module),
            (None, _) if all_to_one => format!("replace `{module}` with `{}`", m.module),
            (None, _) => format!("import `{old}` from `{}`", m.module),
        };
    }
    if all_to_one && moves.iter().all(|m| m.rename.is_none()) {
        return format!("replace `{module}` with `{}`", moves[0].module);
    }
    // Renames one by one, plain moves grouped by their new module.
    let mut parts: Vec<String> = Vec::new();
    let mut homes: Vec<(&str, Vec<String>)> = Vec::new();
    for m in moves {
        let old = m.alias.name.as_str();
        match (&m.rename, m.module == module) {
            (Some(new), true) => parts.push(format!("replace `{old}` with `{new}`")),
            (Some(new), false) => {
                parts.push(format!("replace `{old}` with `{new}` from `{}`", m.module))
            }
            (None, _) => match homes.iter_mut().find(|(h, _)| *h == m.module) {
                Some((_, names)) => names.push(format!("`{old}`")),
                None => homes.push((&m.module, vec![format!("`{old}`")])),
            },
        }
    }
    for (home, names) in homes {
        parts.push(format!("import {} from `{home}`", names.join(", ")));
    }
    parts.join("; ")
}
