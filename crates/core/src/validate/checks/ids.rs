//! DS105, DS106, DS107 (invalid DAG, task and group ids): length and allowed characters.

use ruff_text_size::TextRange;

use crate::finding::Severity;
use crate::rules;
use crate::validate::interp::Interp;

impl<'a> Interp<'a> {
    pub(in crate::validate) fn check_key(
        &mut self,
        key: &str,
        range: TextRange,
        rule: &'static rules::Rule,
        what: &str,
        max: usize,
        dots: bool,
    ) {
        // Python's `$` also matches before one final newline.
        let key = key.strip_suffix('\n').unwrap_or(key);
        let allowed_char =
            |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-' || (dots && c == '.');
        // Most keys are fine, which one look at their bytes tells (all allowed: ASCII, so as
        // many characters as bytes).
        if !key.is_empty() && key.len() <= max && key.bytes().all(|b| allowed_char(char::from(b))) {
            return;
        }
        let bad: Vec<char> = key.chars().filter(|c| !allowed_char(*c)).collect();
        let allowed =
            if dots { "letters, digits, `_`, `-` and `.`" } else { "letters, digits, `_` and `-`" };
        if key.chars().count() > max {
            self.report(
                rule,
                range,
                format!("{what} {key:?} is longer than {max} characters"),
                None,
            );
        } else if key.is_empty() && what != "group_id" {
            self.report(rule, range, format!("{what} must not be empty"), None);
        } else if !bad.is_empty() {
            // Python's `\w` also accepts non-ASCII letters: those load, but are risky.
            let only_unicode_word = bad.iter().all(|c| c.is_alphanumeric());
            let severity = if only_unicode_word { Severity::Warning } else { rule.severity };
            let shown: String = {
                let mut b = bad.clone();
                b.dedup();
                b.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(", ")
            };
            let suggestion: String =
                key.chars().map(|c| if allowed_char(c) { c } else { '_' }).collect();
            self.report_with(
                rule,
                severity,
                range,
                format!("{what} {key:?} contains {shown}: only {allowed} are allowed"),
                Some(format!("use {suggestion:?}")),
            );
        }
    }
}
