//! Hover: the rule behind a finding under the cursor (the text of `dagsmith rules CODE`), and
//! the constructor signature of an imported Airflow class (an operator, `DAG`, ...) in the
//! target version, from the embedded catalog.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use dagsmith_core::catalog::catalog;
use dagsmith_core::source::LineIndex;
use dagsmith_core::symbol::imported_symbol_at;
use dagsmith_core::{AirflowVersion, rules};
use lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind, Position, Range};

use crate::check::Checked;
use crate::diagnostics::rule_url;
use crate::document::Document;
use crate::position;

/// What to show at `at`, if anything.
pub fn hover(doc: &Document, checked: &Checked, at: Position) -> Option<Hover> {
    let lines = LineIndex::new(&doc.text);
    let mut sections: Vec<String> = Vec::new();
    let mut range: Option<Range> = None;

    let mut codes = BTreeSet::new();
    for f in &checked.report.findings {
        let r = position::finding_range(&lines, f);
        if position::contains(&r, at) && codes.insert(f.code) {
            range.get_or_insert(r);
            if let Some(text) = rule_text(f.code) {
                sections.push(text);
            }
        }
    }

    let (line, column) = position::from_lsp(&lines, at);
    if let Some(symbol) = imported_symbol_at(&doc.text, line, column)
        && let Some(text) = class_text(&symbol.module, &symbol.name, checked.version)
    {
        range = Some(Range {
            start: position::to_lsp(&lines, symbol.start.line, symbol.start.column),
            end: position::to_lsp(&lines, symbol.end.line, symbol.end.column),
        });
        sections.push(text);
    }

    if sections.is_empty() {
        return None;
    }
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: sections.join("\n\n---\n\n"),
        }),
        range,
    })
}

/// A rule's code, name, severity, summary and explanation.
fn rule_text(code: &str) -> Option<String> {
    let rule = rules::find(code)?;
    Some(format!(
        "**{}** `{}` ({})\n\n{}\n\n{}\n\n[{} in the rules]({})",
        rule.code,
        rule.name,
        rule.severity.as_str(),
        rule.summary,
        rule.explanation,
        rule.code,
        rule_url(rule.code)
    ))
}

/// `module.name`'s constructor in the target, and for an operator the arguments it takes
/// from its bases.
fn class_text(module: &str, name: &str, version: AirflowVersion) -> Option<String> {
    let cat = catalog();
    let target = cat.target_for(version);
    let sig = cat.class_signature(target, module, name)?;
    let mut out = format!("```python\n{}\n```\n\n`{}`", sig.to_python(name), sig.defined_at);
    let _ = write!(out, " in Airflow {}", cat.target_version(target));
    if let Some(dist) = &sig.distribution {
        let _ = write!(out, " (`{dist}`)");
    }
    if let Some(owner) = &sig.init_from {
        let _ = write!(out, "; its `__init__` is `{owner}`'s");
    }
    if let Some(params) = cat.operator_params(target, module, name)
        && params.is_operator
    {
        if !params.required.is_empty() {
            let required: Vec<String> = params.required.iter().map(|p| format!("`{p}`")).collect();
            let _ = write!(
                out,
                "\n\nRequired: {} (the DAG's `default_args` can supply them)",
                required.join(", ")
            );
        }
        let own: BTreeSet<&str> = sig.params.iter().map(|p| p.name.as_str()).collect();
        let mut inherited: Vec<&String> =
            params.accepted.iter().filter(|p| !own.contains(p.as_str())).collect();
        inherited.sort_unstable();
        let inherited: Vec<String> = inherited.into_iter().map(|p| format!("`{p}`")).collect();
        if !inherited.is_empty() {
            let _ = write!(
                out,
                "\n\nAlso accepts, through `**kwargs` ({}): {}",
                inherited.len(),
                inherited.join(", ")
            );
        }
        if params.accepts_any_kwargs {
            out.push_str("\n\nAccepts other keyword arguments too.");
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_text_follows_the_target_version() {
        let v3 = class_text(
            "airflow.providers.standard.operators.bash",
            "BashOperator",
            "3.1".parse().unwrap(),
        )
        .unwrap();
        assert!(v3.starts_with("```python\nBashOperator(*, bash_command"), "{v3}");
        assert!(v3.contains("`apache-airflow-providers-standard`"), "{v3}");
        assert!(v3.contains("Required: `bash_command`, `task_id`"), "{v3}");
        assert!(v3.contains("`retries`"), "{v3}");
        let v2 =
            class_text("airflow.operators.bash", "BashOperator", "2.9".parse().unwrap()).unwrap();
        assert!(v2.contains("`airflow.operators.bash.BashOperator` in Airflow 2.9"), "{v2}");
        assert!(
            class_text("airflow.operators.bash", "BashOperator", "3.1".parse().unwrap())
                .is_none_or(|t| !t.contains("Airflow 2"))
        );
        assert!(class_text("airflow.nope", "X", AirflowVersion::DEFAULT).is_none());
    }

    #[test]
    fn rule_text_is_the_explanation() {
        let text = rule_text("DS102").unwrap();
        assert!(text.starts_with("**DS102** `undefined-name` (error)"), "{text}");
        assert!(text.contains(rules::UNDEFINED_NAME.explanation));
        assert!(text.ends_with("RULES.md#ds102)"));
    }
}
