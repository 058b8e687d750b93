//! Fix for DS101 when the file's `@dag` function is never called: the call goes at the end of
//! the file, as Airflow's examples do. Safe: calling it is what makes the DAG, and a function
//! with parameters that have no default is left alone.

use ruff_text_size::{TextRange, TextSize};

use super::{Context, Draft};
use crate::fix::Applicability;
use crate::validate::model::RawFinding;

pub(super) fn fix(ctx: &Context, finding: &RawFinding) -> Option<Draft> {
    let rest = finding.message.strip_prefix("no DAG: the @dag function '")?;
    let (name, _) = rest.split_once("' is never called")?;
    let file = ctx.file();
    let (_, def) = file.top_level_function(name)?;
    let p = &def.parameters;
    let needs_arguments =
        p.posonlyargs.iter().chain(&p.args).chain(&p.kwonlyargs).any(|a| a.default.is_none());
    if needs_arguments || file.module_bindings().get(name) != Some(&1) {
        return None;
    }
    let source = file.source;
    let end = TextSize::try_from(source.len()).ok()?;
    let nl = file.newline;
    let lead = if source.ends_with('\n') { format!("{nl}{nl}") } else { format!("{nl}{nl}{nl}") };
    Some(Draft {
        applicability: Applicability::Safe,
        message: format!("call `{name}()` at the end of the file"),
        edits: vec![(TextRange::empty(end), format!("{lead}{name}(){nl}"))],
    })
}
