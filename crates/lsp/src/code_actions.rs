//! Code actions: quick fixes for the findings in the requested range.
//!
//! Every action is a list of byte-offset edits on the document's text ([`ByteEdit`]), turned
//! into an LSP `WorkspaceEdit` by [`workspace_edit`]. A finding the validator can fix offers its
//! fix first (the same edit as `dagsmith validate --fix`; preferred when it is safe, so an
//! editor's "fix all" applies only those), then "ignore on this line" (a `# noqa: CODE` comment,
//! placed where dagsmith reads it back).

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

use dagsmith_core::fix::Applicability;
use dagsmith_core::source::LineIndex;
use dagsmith_core::{noqa, rules};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, TextEdit, Uri, WorkspaceEdit,
};

use crate::check::Checked;
use crate::diagnostics;
use crate::document::Document;
use crate::position;

/// Replace `range` (bytes of the document's text) with `replacement`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ByteEdit {
    pub range: Range<usize>,
    pub replacement: String,
}

/// Byte-offset edits on `text` as a `WorkspaceEdit` for the document `uri` (UTF-16 positions).
pub fn workspace_edit(uri: &Uri, text: &str, edits: &[ByteEdit]) -> WorkspaceEdit {
    let lines = LineIndex::new(text);
    let edits = edits
        .iter()
        .map(|e| TextEdit {
            range: lsp_types::Range {
                start: position::position_of_offset(&lines, e.range.start),
                end: position::position_of_offset(&lines, e.range.end),
            },
            new_text: e.replacement.clone(),
        })
        .collect();
    WorkspaceEdit { changes: Some(HashMap::from([(uri.clone(), edits)])), ..Default::default() }
}

fn overlaps(a: &lsp_types::Range, b: &lsp_types::Range) -> bool {
    let (a0, a1) = ((a.start.line, a.start.character), (a.end.line, a.end.character));
    let (b0, b1) = ((b.start.line, b.start.character), (b.end.line, b.end.character));
    a0 <= b1 && b0 <= a1
}

/// The actions for the findings of `checked` that overlap the requested range.
pub fn actions(
    doc: &Document,
    checked: &Checked,
    params: &CodeActionParams,
) -> Vec<CodeActionOrCommand> {
    let lines = LineIndex::new(&doc.text);
    let mut out = Vec::new();
    let mut offered: BTreeSet<(usize, &str)> = BTreeSet::new();
    for f in &checked.report.findings {
        let diagnostic = diagnostics::diagnostic(&lines, f);
        if !overlaps(&diagnostic.range, &params.range) {
            continue;
        }
        // Python refuses a file with a syntax error whatever its comments say.
        if f.code == rules::SYNTAX_ERROR.code || f.code == rules::COMPILE_ERROR.code {
            continue;
        }
        if let Some(fix) = &f.autofix {
            let edits: Vec<ByteEdit> = fix
                .edits
                .iter()
                .map(|e| ByteEdit {
                    range: e.start as usize..e.end as usize,
                    replacement: e.content.clone(),
                })
                .collect();
            let safe = fix.applicability == Applicability::Safe;
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!(
                    "{}: {}{}",
                    f.code,
                    fix.message,
                    if safe { "" } else { " (unsafe fix: check the result)" }
                ),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostic.clone()]),
                edit: Some(workspace_edit(&doc.uri, &doc.text, &edits)),
                is_preferred: Some(safe),
                ..Default::default()
            }));
        }
        let Some((at, insert)) = noqa::add_code(&doc.text, f.line, f.code) else { continue };
        if !offered.insert((at, f.code)) {
            continue;
        }
        let edit = ByteEdit { range: at..at, replacement: insert };
        out.push(CodeActionOrCommand::CodeAction(CodeAction {
            title: format!("Ignore {} on this line (# noqa: {})", f.code, f.code),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![diagnostic]),
            edit: Some(workspace_edit(&doc.uri, &doc.text, &[edit])),
            is_preferred: Some(false),
            ..Default::default()
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_edits_become_utf16_text_edits() {
        let uri: Uri = "file:///d.py".parse().unwrap();
        let text = "s = 'é𝔸'\nx = y\n";
        let at = text.find("y").unwrap() + 1;
        let edit = workspace_edit(
            &uri,
            text,
            &[
                ByteEdit { range: 4..11, replacement: "1".into() },
                ByteEdit { range: at..at, replacement: "  # noqa: DS102".into() },
            ],
        );
        let edits = &edit.changes.unwrap()[&uri];
        assert_eq!((edits[0].range.start.character, edits[0].range.end.character), (4, 8));
        assert_eq!((edits[1].range.start.line, edits[1].range.start.character), (1, 5));
        assert_eq!(edits[1].new_text, "  # noqa: DS102");
    }
}
