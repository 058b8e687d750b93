//! The HTML the page builds as strings, and the one escaping function all of it goes through.
//!
//! Strings rather than `view!` where a view has many small parts that change together: the code
//! view (one element per line, thousands while a DAG streams in, all rebuilt per token) and the
//! task graphs (SVG). One `inner_html` per update is far cheaper than as many reactive nodes.
//! Pure: builds and is tested natively.

use dagsmith_core::{Report, Severity};

use crate::svg::dag_svg;

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
}

fn mark_class(mark: Option<Severity>) -> &'static str {
    mark.map_or("", |s| s.as_str())
}

/// The code view's lines: `lines` are highlighted HTML ([`crate::highlight::highlight_lines`]),
/// marked with the worst severity found on them; `flash` (1-based) is the line jumped to.
pub fn code_lines(lines: &[String], marks: &[Option<Severity>], flash: Option<u32>) -> String {
    let mut html = String::new();
    for (i, line) in lines.iter().enumerate() {
        let mark = mark_class(marks.get(i).copied().flatten());
        let flashing = if flash == Some(i as u32 + 1) { " flash" } else { "" };
        html.push_str(&format!("<div class=\"line {mark}{flashing}\">{line}</div>"));
    }
    html
}

/// The line numbers beside the code, marked as the lines are.
pub fn gutter(marks: &[Option<Severity>]) -> String {
    let mut html = String::new();
    for (i, m) in marks.iter().enumerate() {
        html.push_str(&format!("<div class=\"{}\">{}</div>", mark_class(*m), i + 1));
    }
    html
}

/// The task graph panel: a figure per DAG, or why there is none (`failed`: the validator failed
/// on the input).
pub fn graphs(report: &Report, failed: bool) -> String {
    let mut html = String::new();
    for (i, dag) in report.dags.iter().enumerate() {
        let mut name = String::new();
        escape(dag.dag_id.as_deref().unwrap_or("(dynamic dag_id)"), &mut name);
        let dynamic = if dag.dynamic_tasks > 0 {
            format!(" · {} tasks with run-time ids not shown", dag.dynamic_tasks)
        } else {
            String::new()
        };
        html.push_str(&format!(
            "<figure class=\"dag\"><figcaption><b>{name}</b> <span class=\"muted\">\
             line {} · {} tasks · {} edges{dynamic}</span></figcaption>{}</figure>",
            dag.line,
            dag.tasks.len(),
            dag.edges.len(),
            dag_svg(dag, report, i)
        ));
    }
    if failed {
        html.push_str("<p class=\"muted\">No graph: the validator failed on this input.</p>");
    } else if html.is_empty() {
        html.push_str("<p class=\"muted\">No DAG found (yet) in this file.</p>");
    }
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagsmith_core::{AirflowVersion, ValidateOptions, validate};

    #[test]
    fn escapes_markup_and_quotes() {
        let mut out = String::new();
        escape("<a href=\"x\">&</a>", &mut out);
        assert_eq!(out, "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
    }

    #[test]
    fn lines_and_gutter_carry_marks_and_the_flash() {
        let lines = vec!["a".to_string(), "b".to_string()];
        let marks = [None, Some(Severity::Error)];
        assert_eq!(
            code_lines(&lines, &marks, Some(2)),
            "<div class=\"line \">a</div><div class=\"line error flash\">b</div>"
        );
        assert_eq!(gutter(&marks), "<div class=\"\">1</div><div class=\"error\">2</div>");
    }

    #[test]
    fn graph_names_are_escaped_and_absence_is_explained() {
        let code = "from airflow import DAG\nwith DAG('a<b', schedule=None):\n    pass\n";
        let options = ValidateOptions { airflow_version: AirflowVersion::DEFAULT };
        let html = graphs(&validate(code, &options), false);
        assert!(html.contains("<b>a&lt;b</b>"), "{html}");
        let empty = validate("x = 1\n", &options);
        assert!(graphs(&empty, false).contains("No DAG found"));
        assert!(graphs(&empty, true).contains("the validator failed"));
    }
}
