//! `validate`: parse a DAG file, model it without running it, and apply every rule.

mod syntax;

use ruff_python_parser::{Mode, ParseOptions, parse_unchecked};
use ruff_text_size::TextRange;

use crate::airflow_version::AirflowVersion;
use crate::finding::{Finding, Severity};
use crate::report::Report;
use crate::rules::Rule;
use crate::source::LineIndex;

/// What to validate against.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidateOptions {
    pub airflow_version: AirflowVersion,
}

/// Validates one Python source file. Never panics, whatever the input.
pub fn validate(source: &str, options: &ValidateOptions) -> Report {
    let lines = LineIndex::new(source);
    let mut sink = Sink { lines: &lines, findings: Vec::new() };
    let parsed = parse_unchecked(source, ParseOptions::from(Mode::Module));
    syntax::report_parse_errors(&parsed, &mut sink);
    let module = parsed.into_syntax();
    let body: &[ruff_python_ast::Stmt] = match &module {
        ruff_python_ast::Mod::Module(m) => &m.body,
        ruff_python_ast::Mod::Expression(_) => &[],
    };
    let has_syntax_errors = !sink.findings.is_empty();
    syntax::check_compile_rules(body, &mut sink);

    let mut findings = sink.findings;
    findings.sort_by(|a, b| {
        (a.line, a.column, a.code, &a.message).cmp(&(b.line, b.column, b.code, &b.message))
    });
    findings.dedup();
    let loads = !has_syntax_errors && !findings.iter().any(|f| f.severity == Severity::Error);
    Report {
        airflow_version: options.airflow_version.to_string(),
        loads,
        dags: Vec::new(),
        findings,
    }
}

/// Collects findings, converting ranges to line/column.
pub(crate) struct Sink<'a> {
    pub lines: &'a LineIndex<'a>,
    pub findings: Vec<Finding>,
}

impl Sink<'_> {
    pub fn push(&mut self, rule: &Rule, range: TextRange, message: String, fix: Option<String>) {
        self.push_with(rule, rule.severity, range, message, fix);
    }

    pub fn push_with(
        &mut self,
        rule: &Rule,
        severity: Severity,
        range: TextRange,
        message: String,
        fix: Option<String>,
    ) {
        let (start, end) = self.lines.span(range);
        self.findings.push(Finding {
            code: rule.code,
            severity,
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
            message,
            fix,
        });
    }
}
