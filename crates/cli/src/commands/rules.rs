//! `dagsmith rules [CODE]`.

use std::fmt::Write as _;

use clap::Args;
use dagsmith_core::rules::{self, Rule};
use dagsmith_core::selection::close_matches;
use serde_json::json;

use crate::output::{self, Style, Written};
use crate::{ColorChoice, exit};

pub const EXAMPLES: &str = "\
Examples:
  dagsmith rules                   the table of rules: code, severity, name, summary
  dagsmith rules DS102             explain one rule
  dagsmith rules undefined-name    the same, by name
  dagsmith rules --json            every rule as JSON
  dagsmith rules --markdown        every rule as Markdown (docs/RULES.md)";

#[derive(Args, Debug)]
pub struct RulesArgs {
    /// A rule code (DS102) or name (undefined-name) to explain.
    #[arg(value_name = "CODE")]
    pub rule: Option<String>,

    /// Print JSON instead of text.
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,

    /// Print Markdown (the rules page, docs/RULES.md).
    #[arg(long)]
    pub markdown: bool,
}

pub fn run(args: RulesArgs, color: ColorChoice) -> u8 {
    let style = Style { enabled: output::use_color(color, false) };
    let text = match &args.rule {
        None if args.json => {
            let all: Vec<_> = rules::ALL.iter().map(rule_json).collect();
            pretty(&json!(all))
        }
        None if args.markdown => markdown(),
        None => table(style),
        Some(query) => match rules::find(query.trim()) {
            Some(rule) if args.json => pretty(&rule_json(rule)),
            Some(rule) if args.markdown => markdown_rule(rule),
            Some(rule) => explain(rule, style),
            None => {
                let mut message = format!("unknown rule {query:?}");
                let close = close_matches(query);
                if close.is_empty() {
                    message.push_str("; run `dagsmith rules` for the list");
                } else {
                    message.push_str(&format!("; did you mean {}?", close.join(", ")));
                }
                output::error(&message);
                return exit::ERROR;
            }
        },
    };
    match output::stdout(&text) {
        Written::Ok | Written::BrokenPipe => exit::OK,
        Written::Failed => exit::ERROR,
    }
}

fn pretty(value: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(value).unwrap_or_default();
    s.push('\n');
    s
}

fn rule_json(rule: &Rule) -> serde_json::Value {
    json!({
        "code": rule.code,
        "name": rule.name,
        "severity": rule.severity.as_str(),
        "summary": rule.summary,
        "explanation": rule.explanation,
        "fixable": rule.fixable.as_str(),
    })
}

fn severity(rule: &Rule, style: Style) -> String {
    let label = format!("{:<7}", rule.severity.as_str());
    match rule.severity {
        dagsmith_core::Severity::Error => style.red(&label),
        dagsmith_core::Severity::Warning => style.yellow(&label),
        dagsmith_core::Severity::Info => style.blue(&label),
    }
}

fn table(style: Style) -> String {
    let name_width = rules::ALL.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        style.bold(&format!(
            "{:<6} {:<7} {:<11} {:<name_width$} SUMMARY",
            "CODE", "LEVEL", "FIX", "NAME"
        ))
    );
    for rule in rules::ALL {
        let _ = writeln!(
            out,
            "{} {} {:<11} {:<name_width$} {}",
            style.bold(&format!("{:<6}", rule.code)),
            severity(rule, style),
            rule.fixable.as_str(),
            rule.name,
            rule.summary
        );
    }
    let _ = writeln!(
        out,
        "\n{} rules. FIX: whether `dagsmith fix` can fix the findings (unsafe fixes need \
         --unsafe-fixes). `dagsmith rules CODE` explains one.",
        rules::ALL.len()
    );
    out
}

fn explain(rule: &Rule, style: Style) -> String {
    let mut out = String::new();
    let fix = match rule.fixable {
        dagsmith_core::rules::Fixable::No => "not fixable".to_string(),
        f => format!("fixable: {}", f.as_str()),
    };
    let _ = writeln!(
        out,
        "{} {} ({}, {fix})\n",
        style.bold(rule.code),
        style.bold(rule.name),
        severity(rule, style).trim_end()
    );
    for line in wrap(rule.summary, 88) {
        let _ = writeln!(out, "{line}");
    }
    out.push('\n');
    for line in wrap(rule.explanation, 88) {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// The rules page, docs/RULES.md: one section per rule, anchored by its lower-case code
/// (`#ds102`), which editors link to from diagnostics.
fn markdown() -> String {
    let mut out = String::from(
        "# dagsmith rules\n\n\
         <!-- Written by `dagsmith rules --markdown`; regenerate, do not edit. -->\n\n\
         Every finding `dagsmith validate` reports has one of these codes. `DS0xx`: Python \
         syntax and compilation; `DS1xx`: DAG structure and names; `DS2xx`: imports. An error \
         means Airflow would not load the file; warnings and info do not change that verdict. \
         `dagsmith rules CODE` prints a rule's text; `# noqa: CODE` on a line, or `ignore` in \
         the settings, silences one (see the README).\n\n\
         | code | name | level | summary |\n|---|---|---|---|\n",
    );
    for rule in rules::ALL {
        let _ = writeln!(
            out,
            "| [{}](#{}) | `{}` | {} | {} |",
            rule.code,
            rule.code.to_ascii_lowercase(),
            rule.name,
            rule.severity.as_str(),
            rule.summary.replace('|', "\\|")
        );
    }
    for rule in rules::ALL {
        out.push('\n');
        out.push_str(&markdown_rule(rule));
    }
    out
}

fn markdown_rule(rule: &Rule) -> String {
    format!(
        "## {}\n\n`{}` ({})\n\n{}\n\n{}\n",
        rule.code,
        rule.name,
        rule.severity.as_str(),
        rule.summary,
        rule.explanation
    )
}

/// Greedy word wrap.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_words() {
        assert_eq!(wrap("aaa bbb ccc", 7), ["aaa bbb", "ccc"]);
        assert!(wrap("", 10).is_empty());
    }

    #[test]
    fn markdown_has_an_anchored_section_per_rule() {
        let md = markdown();
        for r in rules::ALL {
            assert!(md.contains(&format!("\n## {}\n", r.code)), "{}", r.code);
            assert!(md.contains(&format!("(#{})", r.code.to_ascii_lowercase())));
            assert!(md.contains(r.explanation));
        }
    }

    #[test]
    fn table_lists_every_rule() {
        let t = table(Style { enabled: false });
        for r in rules::ALL {
            assert!(t.contains(r.code) && t.contains(r.summary));
        }
    }
}
