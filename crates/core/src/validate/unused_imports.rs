//! DS217: names imported from provider packages at module level that nothing in the file
//! uses. Each is a dependency on an installed provider for nothing.

use ruff_python_ast::{self as ast, Stmt};

use super::fixes::bound_name;
use super::model::RawFinding;
use super::uses::LazyUses;
use crate::AirflowVersion;
use crate::catalog::{NameStatus, catalog};
use crate::rules;

/// Reports the unused names of each module-level `from airflow.providers... import`, one
/// finding per statement. Names and modules the target lacks are left to their own findings.
pub(super) fn check(
    body: &[Stmt],
    uses: &LazyUses,
    version: AirflowVersion,
    out: &mut Vec<RawFinding>,
) {
    let imports: Vec<&ast::StmtImportFrom> = provider_imports(body).collect();
    if imports.is_empty() {
        // Most files import no provider: no need to walk them for names.
        return;
    }
    // Whether each imported name is used, for all the statements in one pass over the file's
    // names.
    let bound: Vec<&str> =
        imports.iter().flat_map(|imp| imp.names.iter().map(|a| bound_name(a, true))).collect();
    let mut used = uses.get().names.which_of(&bound).into_iter();
    let cat = catalog();
    let target = cat.target_for(version);
    for imp in imports {
        // Taken for every statement, whatever follows: `used` goes with `bound`'s order.
        let used: Vec<bool> = used.by_ref().take(imp.names.len()).collect();
        let Some(module) = imp.module.as_ref().map(|m| m.as_str()) else { continue };
        let Some(dist) = cat.module_distribution(target, module) else { continue };
        let unused: Vec<String> = imp
            .names
            .iter()
            .zip(used)
            .filter(|(a, used)| {
                bound_name(a, true) != "*"
                    && !used
                    && cat.name_status(target, module, a.name.as_str()) == NameStatus::Exists
            })
            .map(|(a, _)| format!("`{}`", a.name.as_str()))
            .collect();
        if unused.is_empty() {
            continue;
        }
        out.push(RawFinding {
            rule: &rules::UNUSED_PROVIDER_IMPORT,
            severity: rules::UNUSED_PROVIDER_IMPORT.severity,
            range: imp.range,
            message: format!(
                "{} imported from `{module}` but never used: an import from a provider needs {dist} installed where Airflow parses the file (ModuleNotFoundError where it is not)",
                unused.join(", ")
            ),
            fix: "remove the unused names".into(),
        });
    }
}

/// The module-level `from airflow.providers... import` statements: what DS217 looks at.
fn provider_imports(body: &[Stmt]) -> impl Iterator<Item = &ast::StmtImportFrom> {
    body.iter().filter_map(|stmt| match stmt {
        Stmt::ImportFrom(imp)
            if imp.level == 0
                && imp.module.as_ref().is_some_and(|m| m.starts_with("airflow.providers.")) =>
        {
            Some(imp)
        }
        _ => None,
    })
}

/// Whether [`check`] will look names up in the file's uses index.
pub(super) fn needs_uses(body: &[Stmt]) -> bool {
    provider_imports(body).next().is_some()
}
