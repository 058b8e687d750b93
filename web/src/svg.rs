//! The task graph of one DAG as an SVG document: tasks as boxes in layers, left to right
//! ([`dagsmith_core::graph::layout`]), dependencies as arrows. Cycle edges are red
//! (`edge cycle`), tasks on a cycle or named by a finding carry their worst severity.

use std::fmt::Write as _;

use dagsmith_core::graph::{self, GraphLayout};
use dagsmith_core::{DagSummary, Report};

use crate::html::escape;
use crate::view_model::task_severity;

const NODE_H: f64 = 28.0;
const ROW: f64 = 44.0;
const COL_GAP: f64 = 56.0;
const PAD: f64 = 16.0;
const CHAR_W: f64 = 7.4;
const MAX_LABEL: usize = 32;

fn label(id: &str) -> String {
    if id.chars().count() <= MAX_LABEL {
        return id.to_string();
    }
    let mut s: String = id.chars().take(MAX_LABEL - 1).collect();
    s.push('…');
    s
}

/// The SVG for `dag`; `key` makes its marker ids unique on the page.
pub fn dag_svg(dag: &DagSummary, report: &Report, key: usize) -> String {
    let layout = graph::layout(&dag.tasks, &dag.edges);
    render(&layout, report, key)
}

fn render(layout: &GraphLayout, report: &Report, key: usize) -> String {
    let widths: Vec<f64> = layout
        .nodes
        .iter()
        .map(|n| (label(&n.id).chars().count() as f64 * CHAR_W + 20.0).max(48.0))
        .collect();
    // Each column as wide as its widest task.
    let mut col_w = vec![0f64; layout.layers];
    for (n, w) in layout.nodes.iter().zip(&widths) {
        col_w[n.layer] = col_w[n.layer].max(*w);
    }
    let mut col_x = Vec::with_capacity(layout.layers);
    let mut x = PAD;
    for w in &col_w {
        col_x.push(x);
        x += w + COL_GAP;
    }
    let any_back = layout.edges.iter().any(|e| e.back);
    let width = (x - COL_GAP + PAD).max(2.0 * PAD);
    let rows_h = layout.max_rank as f64 * ROW;
    // Back edges loop below the rows.
    let height = rows_h + 2.0 * PAD + if any_back { 36.0 } else { 0.0 };
    let pos = |i: usize| {
        let n = &layout.nodes[i];
        let left = col_x[n.layer] + (col_w[n.layer] - widths[i]) / 2.0;
        (left, PAD + n.rank as f64 * ROW, widths[i])
    };

    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"graph\" width=\"{width:.0}\" \
         height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\">\
         <defs>\
         <marker id=\"arr-{key}\" class=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
         markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">\
         <path d=\"M0,0L10,5L0,10z\"/></marker>\
         <marker id=\"arr-c-{key}\" class=\"arrow cycle\" viewBox=\"0 0 10 10\" refX=\"10\" \
         refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">\
         <path d=\"M0,0L10,5L0,10z\"/></marker></defs>"
    );
    for e in &layout.edges {
        let (fx, fy, fw) = pos(e.from);
        let (tx, ty, tw) = pos(e.to);
        let d = if e.from == e.to {
            // A self-loop: out of the right side and back in above.
            let (x0, y0) = (fx + fw, fy + NODE_H / 2.0);
            format!(
                "M{x0:.1},{y0:.1}C{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
                x0 + 30.0,
                y0,
                x0 + 10.0,
                fy - 22.0,
                x0 - 12.0,
                fy
            )
        } else if e.back || layout.nodes[e.to].layer <= layout.nodes[e.from].layer {
            // Backwards: from the bottom of one box, under the rows, to the bottom of the other.
            let (x0, y0) = (fx + fw / 2.0, fy + NODE_H);
            let (x1, y1) = (tx + tw / 2.0, ty + NODE_H);
            let below = PAD + rows_h + 8.0;
            format!("M{x0:.1},{y0:.1}C{x0:.1},{below:.1} {x1:.1},{below:.1} {x1:.1},{y1:.1}")
        } else {
            let (x0, y0) = (fx + fw, fy + NODE_H / 2.0);
            let (x1, y1) = (tx, ty + NODE_H / 2.0);
            let dx = ((x1 - x0) / 2.0).max(20.0);
            format!(
                "M{x0:.1},{y0:.1}C{:.1},{y0:.1} {:.1},{y1:.1} {x1:.1},{y1:.1}",
                x0 + dx,
                x1 - dx
            )
        };
        let (class, marker) = if e.cycle { ("edge cycle", "arr-c") } else { ("edge", "arr") };
        let mut from = String::new();
        escape(&layout.nodes[e.from].id, &mut from);
        let mut to = String::new();
        escape(&layout.nodes[e.to].id, &mut to);
        let _ = write!(
            svg,
            "<path class=\"{class}\" data-from=\"{from}\" data-to=\"{to}\" d=\"{d}\" \
             marker-end=\"url(#{marker}-{key})\"><title>{from} &gt;&gt; {to}</title></path>"
        );
    }
    for (i, n) in layout.nodes.iter().enumerate() {
        let (x, y, w) = pos(i);
        let mut class = String::from("node");
        if n.in_cycle {
            class.push_str(" in-cycle");
        }
        if let Some(sev) = task_severity(report, &n.id) {
            class.push_str(" sev-");
            class.push_str(sev.as_str());
        }
        let mut id = String::new();
        escape(&n.id, &mut id);
        let mut text = String::new();
        escape(&label(&n.id), &mut text);
        let _ = write!(
            svg,
            "<g class=\"{class}\" data-task=\"{id}\"><title>{id}</title>\
             <rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{NODE_H}\" rx=\"6\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{text}</text></g>",
            x + w / 2.0,
            y + NODE_H / 2.0 + 4.5
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagsmith_core::{ValidateOptions, validate};

    #[test]
    fn cycle_edges_and_tasks_are_marked() {
        let code = "from datetime import datetime\nfrom airflow import DAG\n\
            from airflow.operators.empty import EmptyOperator\n\
            with DAG(dag_id=\"loop\", start_date=datetime(2024, 1, 1), schedule=None):\n\
            \x20   a = EmptyOperator(task_id=\"a<&>\")\n\
            \x20   b = EmptyOperator(task_id=\"b\")\n\
            \x20   c = EmptyOperator(task_id=\"c\")\n\
            \x20   a >> b >> a\n    b >> c\n";
        let report = validate(code, &ValidateOptions::default());
        assert_eq!(report.dags.len(), 1);
        let svg = dag_svg(&report.dags[0], &report, 3);
        assert_eq!(svg.matches("class=\"edge cycle\"").count(), 2, "{svg}");
        assert_eq!(svg.matches("class=\"edge\"").count(), 1);
        assert!(svg.contains("data-from=\"a&lt;&amp;&gt;\" data-to=\"b\""));
        assert!(svg.contains("<g class=\"node in-cycle sev-error\" data-task=\"b\">"));
        assert!(svg.contains("<g class=\"node\" data-task=\"c\">"));
        assert!(svg.contains("url(#arr-c-3)"));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn empty_and_long_labels() {
        let report = validate("x = 1\n", &ValidateOptions::default());
        let dag = DagSummary {
            dag_id: None,
            line: 1,
            tasks: vec!["t".repeat(100)],
            edges: vec![],
            dynamic_tasks: 0,
        };
        let svg = dag_svg(&dag, &report, 0);
        assert!(svg.contains('…'));
        let empty = DagSummary { tasks: vec![], ..dag };
        assert!(dag_svg(&empty, &report, 0).ends_with("</defs></svg>"));
    }
}
