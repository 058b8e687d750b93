//! `dagsmith rules [CODE]`.

use std::fmt::Write as _;

use clap::Args;
use dagsmith_core::rules::{self, Rule};
use serde_json::json;

use crate::output::{self, Style, Written};
use crate::{ColorChoice, exit};

pub const EXAMPLES: &str = "\
Examples:
  dagsmith rules                   the table of rules: code, severity, name, summary
  dagsmith rules DS102             explain one rule
  dagsmith rules undefined-name    the same, by name
  dagsmith rules --json            every rule as JSON";

#[derive(Args, Debug)]
pub struct RulesArgs {
    /// A rule code (DS102) or name (undefined-name) to explain.
    #[arg(value_name = "CODE")]
    pub rule: Option<String>,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: RulesArgs, color: ColorChoice) -> u8 {
    let style = Style { enabled: output::use_color(color, false) };
    let text = match &args.rule {
        None if args.json => {
            let all: Vec<_> = rules::ALL.iter().map(rule_json).collect();
            pretty(&json!(all))
        }
        None => table(style),
        Some(query) => match rules::find(query.trim()) {
            Some(rule) if args.json => pretty(&rule_json(rule)),
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

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Rules whose code or name is close to `query`, as `CODE (name)`, best first.
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
                let d = levenshtein(&q, &code).min(levenshtein(&q_name, r.name));
                if d <= 2 { d } else { return None }
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

    #[test]
    fn close_matches_by_code_and_name() {
        for r in rules::ALL {
            let label = format!("{} ({})", r.code, r.name);
            assert_eq!(close_matches(&r.code.to_ascii_lowercase())[0], label);
            let prefix = &r.code[..r.code.len() - 1];
            let by_prefix = close_matches(prefix);
            assert!(by_prefix[0].starts_with(prefix), "{by_prefix:?}");
            assert!(close_matches(&r.code.to_ascii_lowercase()).contains(&label));
            assert!(close_matches(&r.name.replace('-', "_")).contains(&label), "{}", r.name);
        }
        assert!(close_matches("zzzzzzzz").is_empty());
        assert!(close_matches("").is_empty());
    }

    #[test]
    fn wraps_words() {
        assert_eq!(wrap("aaa bbb ccc", 7), ["aaa bbb", "ccc"]);
        assert!(wrap("", 10).is_empty());
    }

    #[test]
    fn table_lists_every_rule() {
        let t = table(Style { enabled: false });
        for r in rules::ALL {
            assert!(t.contains(r.code) && t.contains(r.summary));
        }
    }
}
