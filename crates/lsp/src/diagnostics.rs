//! Findings as LSP diagnostics.

use dagsmith_core::formats::INFORMATION_URI;
use dagsmith_core::source::LineIndex;
use dagsmith_core::{Finding, Report, Severity};
use lsp_types::{CodeDescription, Diagnostic, DiagnosticSeverity, NumberOrString, Uri};

use crate::position;

/// What diagnostics name as their source.
pub const SOURCE: &str = "dagsmith";

/// Where a rule's documentation is: docs/RULES.md (the text of `dagsmith rules CODE`, written
/// by `dagsmith rules --markdown`), anchored at the rule.
pub fn rule_url(code: &str) -> String {
    format!("{INFORMATION_URI}/blob/main/docs/RULES.md#{}", code.to_ascii_lowercase())
}

fn severity(severity: Severity) -> DiagnosticSeverity {
    match severity {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
    }
}

/// One finding as a diagnostic; the hint, when there is one, follows the message.
pub fn diagnostic(lines: &LineIndex<'_>, f: &Finding) -> Diagnostic {
    let message = match f.fix.text() {
        Some(fix) => format!("{}\nhelp: {fix}", f.message),
        None => f.message.clone(),
    };
    Diagnostic {
        range: position::finding_range(lines, f),
        severity: Some(severity(f.severity)),
        code: Some(NumberOrString::String(f.code.to_string())),
        code_description: rule_url(f.code).parse::<Uri>().ok().map(|href| CodeDescription { href }),
        source: Some(SOURCE.to_string()),
        message,
        ..Diagnostic::default()
    }
}

/// Every finding of `report` on `text`.
pub fn diagnostics(text: &str, report: &Report) -> Vec<Diagnostic> {
    let lines = LineIndex::new(text);
    report.findings.iter().map(|f| diagnostic(&lines, f)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_to_diagnostic() {
        let f = Finding {
            code: "DS102",
            severity: Severity::Error,
            line: 2,
            column: 5,
            end_line: 2,
            end_column: 14,
            message: "name 'timedelta' is not defined".into(),
            fix: "add `from datetime import timedelta`".into(),
            autofix: None,
        };
        let d = diagnostic(&LineIndex::new("x\ny = timedelta(1)\n"), &f);
        assert_eq!((d.range.start.line, d.range.start.character), (1, 4));
        assert_eq!((d.range.end.line, d.range.end.character), (1, 13));
        assert_eq!(d.severity, Some(DiagnosticSeverity::ERROR));
        assert_eq!(d.code, Some(NumberOrString::String("DS102".into())));
        assert_eq!(
            d.code_description.unwrap().href.as_str(),
            "https://github.com/dagsmith/dagsmith/blob/main/docs/RULES.md#ds102"
        );
        assert!(d.message.ends_with("\nhelp: add `from datetime import timedelta`"));
    }
}
