//! Which rules to report: `--select` / `--ignore` on the command line and `select`, `ignore` and
//! `per-file-ignores` in a config file, written as rule codes (`DS102`), code prefixes (`DS1`),
//! rule names (`undefined-name`) or `ALL`.
//!
//! Dropping an error finding changes the verdict (the user says it is a false alarm), except for
//! syntax and compile errors: Python refuses those files whatever the user says
//! ([`Report::retain_findings`]).

use crate::catalog::similarity::bounded_levenshtein_chars;
use crate::report::Report;
use crate::rules::{self, Rule};

/// A resolved rule reference: a code prefix (`""` matches every rule).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Selector(String);

/// A rule reference that names no rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownRule {
    pub value: String,
    /// Close rule codes and names, as `CODE (name)`.
    pub close: Vec<String>,
}

impl UnknownRule {
    /// `unknown rule "DS9" in WHERE; did you mean ...?` (`context`: where it was written, e.g.
    /// `--ignore`).
    pub fn message(&self, context: Option<&str>) -> String {
        let mut message = format!("unknown rule {:?}", self.value);
        if let Some(context) = context {
            message.push_str(&format!(" in {context}"));
        }
        if self.close.is_empty() {
            message.push_str(" (see `dagsmith rules`)");
        } else {
            message.push_str(&format!("; did you mean {}?", self.close.join(", ")));
        }
        message
    }
}

impl std::fmt::Display for UnknownRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(None))
    }
}

impl Selector {
    /// Resolves `DS1`, `ds102`, `undefined-name` or `ALL`; the error suggests close rule codes
    /// or names.
    pub fn parse(value: &str) -> Result<Selector, UnknownRule> {
        let value = value.trim();
        if value.eq_ignore_ascii_case("all") {
            return Ok(Selector(String::new()));
        }
        if let Some(rule) = rules::ALL.iter().find(|r| r.name == value) {
            return Ok(Selector(rule.code.to_string()));
        }
        let upper = value.to_ascii_uppercase();
        if !upper.is_empty() && rules::ALL.iter().any(|r| r.code.starts_with(&upper)) {
            return Ok(Selector(upper));
        }
        Err(UnknownRule { value: value.to_string(), close: close_matches(value) })
    }

    /// Whether this selector covers the rule `code`.
    pub fn matches(&self, code: &str) -> bool {
        code.starts_with(self.0.as_str())
    }

    /// The code prefix (empty for `ALL`).
    pub fn prefix(&self) -> &str {
        &self.0
    }
}

/// Parses a list of selectors, skipping blank entries (`--ignore DS103,`).
pub fn parse_selectors<S: AsRef<str>>(values: &[S]) -> Result<Vec<Selector>, UnknownRule> {
    values.iter().map(AsRef::as_ref).filter(|v| !v.trim().is_empty()).map(Selector::parse).collect()
}

/// The rules to report: those matched by `select` (every rule when empty) and not by `ignore`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleSelection {
    pub select: Vec<Selector>,
    pub ignore: Vec<Selector>,
}

impl RuleSelection {
    /// Every rule.
    pub fn all() -> Self {
        RuleSelection::default()
    }

    pub fn is_all(&self) -> bool {
        self.select.is_empty() && self.ignore.is_empty()
    }

    pub fn keeps(&self, code: &str) -> bool {
        (self.select.is_empty() || self.select.iter().any(|s| s.matches(code)))
            && !self.ignore.iter().any(|s| s.matches(code))
    }

    /// Drops the findings of rules not selected (see [`Report::retain_findings`]).
    pub fn apply(&self, report: &mut Report) {
        if !self.is_all() {
            report.retain_findings(|f| self.keeps(f.code));
        }
    }
}

/// Rules whose code or name is close to `query`, as `CODE (name)`, best first (at most five).
pub fn close_matches(query: &str) -> Vec<String> {
    let q = query.trim().to_ascii_lowercase();
    if q.is_empty() {
        return Vec::new();
    }
    let q_name = q.replace(['_', ' '], "-");
    let mut scored: Vec<(usize, &Rule)> = rules::ALL
        .iter()
        .filter_map(|r| {
            let code = r.code.to_ascii_lowercase();
            let score = if code.starts_with(&q) || (q_name.len() >= 3 && r.name.contains(&q_name)) {
                0
            } else {
                // Two edits at most, on the code or on the name.
                let on_code = bounded_levenshtein_chars(&q, &code, 2);
                on_code.into_iter().chain(bounded_levenshtein_chars(&q_name, r.name, 2)).min()?
            };
            Some((score, r))
        })
        .collect();
    scored.sort_by_key(|(score, r)| (*score, r.code));
    scored.into_iter().take(5).map(|(_, r)| format!("{} ({})", r.code, r.name)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Finding, Severity};

    fn finding(code: &'static str, severity: Severity) -> Finding {
        Finding {
            code,
            severity,
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 2,
            message: String::new(),
            fix: Default::default(),
            autofix: None,
        }
    }

    fn report(findings: Vec<Finding>) -> Report {
        let loads = !findings.iter().any(|f| f.severity == Severity::Error);
        Report { airflow_version: "3.1".into(), loads, dags: vec![], findings }
    }

    fn selection(select: &[&str], ignore: &[&str]) -> RuleSelection {
        RuleSelection {
            select: parse_selectors(select).unwrap(),
            ignore: parse_selectors(ignore).unwrap(),
        }
    }

    #[test]
    fn selectors_by_code_prefix_name_and_all() {
        let s = parse_selectors(&["ds1", "undefined-name", " ", "ALL"]).unwrap();
        let prefixes: Vec<&str> = s.iter().map(Selector::prefix).collect();
        assert_eq!(prefixes, ["DS1", "DS102", ""]);
        assert!(Selector::parse("DS9").is_err());
        let e = Selector::parse("undefined_name").unwrap_err();
        assert_eq!(e.close[0], "DS102 (undefined-name)");
        assert!(
            e.message(Some("--ignore")).starts_with(
                "unknown rule \"undefined_name\" in --ignore; did you mean DS102 (undefined-name)"
            ),
            "{e}"
        );
        assert!(Selector::parse("zzzzzz").unwrap_err().to_string().contains("dagsmith rules"));
    }

    #[test]
    fn ignoring_an_error_changes_the_verdict_but_not_for_syntax_errors() {
        let mut r =
            report(vec![finding("DS102", Severity::Error), finding("DS103", Severity::Warning)]);
        selection(&[], &["DS102"]).apply(&mut r);
        assert!(r.loads);
        assert_eq!(r.findings.len(), 1);

        let mut r = report(vec![finding("DS001", Severity::Error)]);
        selection(&[], &["DS0"]).apply(&mut r);
        assert!(!r.loads);
        assert!(r.findings.is_empty());

        let mut r =
            report(vec![finding("DS102", Severity::Error), finding("DS201", Severity::Error)]);
        selection(&["DS1"], &[]).apply(&mut r);
        assert!(!r.loads);
        assert_eq!(r.findings.len(), 1);

        let mut r = report(vec![finding("DS102", Severity::Error)]);
        selection(&["ALL"], &["ALL"]).apply(&mut r);
        assert!(r.loads && r.findings.is_empty());
    }

    #[test]
    fn close_matches_by_code_and_name() {
        for r in rules::ALL {
            let label = format!("{} ({})", r.code, r.name);
            assert_eq!(close_matches(&r.code.to_ascii_lowercase())[0], label);
            let prefix = &r.code[..r.code.len() - 1];
            let by_prefix = close_matches(prefix);
            assert!(by_prefix[0].starts_with(prefix), "{by_prefix:?}");
            assert!(close_matches(&r.name.replace('-', "_")).contains(&label), "{}", r.name);
        }
        assert!(close_matches("zzzzzzzz").is_empty());
        assert!(close_matches("").is_empty());
    }
}
