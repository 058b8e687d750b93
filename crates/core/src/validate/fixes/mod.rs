//! The fixes of findings (see [`crate::fix`] for the model and how they are applied). One
//! module per family of rules; each turns a finding into edits of the source, using the parsed
//! file, the catalog and the DAG model, and says whether the edit is safe. Nothing here changes
//! a verdict: `validate` only attaches the result to the finding.

mod boolean_choices;
mod context_managers;
mod dag_arguments;
mod dates;
mod dependency_chains;
mod edits;
mod expand_values;
mod file;
mod homes;
mod imports;
mod late_definitions;
mod operator_arguments;
mod orphan_tasks;
mod self_dependencies;
mod third_party;
mod uncalled_dags;
mod undefined_names;
mod wrong_dag_arguments;
mod xcom_output;

use std::cell::{OnceCell, RefCell};

use ruff_python_ast::Stmt;
use ruff_text_size::TextRange;
use rustc_hash::FxHashMap as HashMap;

use super::model::{DagModel, RawFinding};
use super::uses::LazyUses;
use crate::AirflowVersion;
use crate::catalog::{Target, catalog};
use crate::fix::{Applicability, Edit, Fix};
use crate::rules;
use crate::source::LineIndex;
use file::FileIndex;
pub(super) use file::bound_name;

/// A fix before positions are computed.
#[derive(Clone)]
pub(super) struct Draft {
    pub applicability: Applicability,
    pub message: String,
    pub edits: Vec<edits::Replacement>,
}

/// What every fix may look at; the file index is built on first use.
pub(super) struct Context<'a> {
    pub source: &'a str,
    pub body: &'a [Stmt],
    pub version: AirflowVersion,
    target: OnceCell<Target>,
    pub model: &'a DagModel,
    uses: &'a LazyUses<'a>,
    file: OnceCell<FileIndex<'a>>,
    /// Import statements' fixes by (statement, shims only): several findings of one statement
    /// share its fix, and finding it searches the catalog.
    import_fixes: RefCell<HashMap<(TextRange, bool), Option<Draft>>>,
}

impl<'a> Context<'a> {
    pub fn new(
        source: &'a str,
        body: &'a [Stmt],
        uses: &'a LazyUses<'a>,
        version: AirflowVersion,
        model: &'a DagModel,
    ) -> Self {
        Context {
            source,
            body,
            version,
            target: OnceCell::new(),
            model,
            uses,
            file: OnceCell::new(),
            import_fixes: RefCell::default(),
        }
    }

    /// The catalog target of the version (looked up only when a fix needs it).
    fn target(&self) -> Target {
        *self.target.get_or_init(|| catalog().target_for(self.version))
    }

    fn file(&self) -> &FileIndex<'a> {
        self.file.get_or_init(|| FileIndex::new(self.source, self.body, self.uses.get()))
    }

    /// The fix for a finding, if its rule has one and it applies here.
    pub fn fix_for(&self, finding: &RawFinding, lines: &LineIndex) -> Option<Fix> {
        let code = finding.rule.code;
        let draft = if code == rules::UNDEFINED_NAME.code
            || code == rules::UNDEFINED_NAME_AT_RUNTIME.code
        {
            late_definitions::fix(self, finding).or_else(|| undefined_names::fix(self, finding))
        } else if [
            rules::MODULE_NOT_FOUND.code,
            rules::NAME_NOT_IN_MODULE.code,
            rules::VERSION_MISMATCH_IMPORT.code,
            rules::DEPRECATED_IMPORT.code,
            rules::DEPRECATED_CLASS.code,
            rules::UNUSED_PROVIDER_IMPORT.code,
        ]
        .contains(&code)
        {
            imports::fix(self, finding)
        } else if code == rules::CYCLE.code {
            self_dependencies::fix(self, finding)
        } else if code == rules::NO_DAG.code {
            uncalled_dags::fix(self, finding)
        } else if code == rules::UNKNOWN_DAG_ARGUMENT.code {
            dag_arguments::fix(self, finding)
        } else if code == rules::UNKNOWN_OPERATOR_ARGUMENT.code {
            operator_arguments::fix(self, finding)
        } else if code == rules::INVALID_ARGUMENT_VALUE.code {
            expand_values::fix(self, finding)
                .or_else(|| boolean_choices::fix(self, finding))
                .or_else(|| wrong_dag_arguments::fix(self, finding))
        } else if code == rules::CALL_SIGNATURE_MISMATCH.code {
            dates::fix_datetime_tz(self, finding)
                .or_else(|| imports::fix_task_package(self, finding))
        } else if code == rules::UNKNOWN_ATTRIBUTE.code {
            third_party::fix(self, finding)
        } else if code == rules::XCOM_ARG_OUTPUT.code {
            xcom_output::fix(self, finding)
        } else if code == rules::DECORATOR_AS_CONTEXT_MANAGER.code {
            context_managers::fix(self, finding)
        } else if code == rules::TASK_WITHOUT_DAG.code {
            orphan_tasks::fix(self, finding)
        } else if code == rules::INVALID_DEPENDENCY.code {
            orphan_tasks::fix(self, finding)
                .or_else(|| dependency_chains::fix_uncalled_taskflow(self, finding))
        } else if code == rules::LIST_TO_LIST_DEPENDENCY.code {
            dependency_chains::fix_list_to_list(self, finding)
        } else {
            None
        }?;
        finish(draft, lines)
    }
}

/// Sorts the edits and gives them positions; `None` if two overlap (a bug in a fix, never
/// worth a broken file).
fn finish(draft: Draft, lines: &LineIndex) -> Option<Fix> {
    let mut replacements = draft.edits;
    replacements.sort_by_key(|(r, _)| (r.start(), r.end()));
    replacements.dedup();
    for pair in replacements.windows(2) {
        let (a, b): (TextRange, TextRange) = (pair[0].0, pair[1].0);
        if b.start() < a.end() || (b.start() == a.start() && a.is_empty() && b.is_empty()) {
            return None;
        }
    }
    if replacements.is_empty() {
        return None;
    }
    let edits = replacements
        .into_iter()
        .map(|(range, content)| {
            let (start, end) = lines.span(range);
            Edit {
                start: range.start().into(),
                end: range.end().into(),
                content,
                line: start.line,
                column: start.column,
                end_line: end.line,
                end_column: end.column,
            }
        })
        .collect();
    Some(Fix { applicability: draft.applicability, message: draft.message, edits })
}
