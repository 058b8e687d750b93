//! DS122 (invalid dependency): an edge between tasks of different DAGs or without one.

use ruff_text_size::TextRange;

use crate::finding::Severity;
use crate::rules;
use crate::validate::interp::Interp;
use crate::validate::model::*;

impl<'a> Interp<'a> {
    /// Airflow links tasks only within one DAG, and needs at least one side to have one.
    pub(in crate::validate) fn check_edge_dags(
        &mut self,
        ups: &[Endpoint],
        downs: &[Endpoint],
        range: TextRange,
    ) {
        if ups.is_empty() || downs.is_empty() {
            return;
        }
        let dag_of = |e: Endpoint| match e {
            Endpoint::Task(t) => (self.model.tasks[t].dag, self.model.tasks[t].dag_unknown),
            Endpoint::Group(g) => (self.model.groups[g].dag, true),
        };
        // Almost always one DAG: its index is kept, and the list built only when there are more.
        let (mut first, mut several) = (None, false);
        for &e in ups.iter().chain(downs) {
            let (dag, unknown) = dag_of(e);
            if unknown && dag.is_none() {
                return;
            }
            match (first, dag) {
                (None, d) => first = d,
                (Some(f), Some(d)) if f != d => several = true,
                _ => {}
            }
        }
        let mut dags: Vec<DagIdx> = Vec::new();
        if several {
            for &e in ups.iter().chain(downs) {
                if let (Some(d), _) = dag_of(e)
                    && !dags.contains(&d)
                {
                    dags.push(d);
                }
            }
        }
        let severity = if self.certain() { Severity::Error } else { Severity::Warning };
        let name = |m: &DagModel, d: DagIdx| m.dags[d].id.clone().unwrap_or_else(|| "?".into());
        if dags.len() > 1 {
            let names: Vec<String> =
                dags.iter().map(|&d| format!("'{}'", name(&self.model, d))).collect();
            self.report_with(
                &rules::INVALID_DEPENDENCY,
                severity,
                range,
                format!(
                    "tried to set relationships between tasks in more than one DAG ({}) while Airflow imports the file",
                    names.join(", ")
                ),
                Some("tasks of different DAGs cannot depend on each other: use ExternalTaskSensor, TriggerDagRunOperator or assets".into()),
            );
        } else if first.is_none() {
            self.report_with(
                &rules::INVALID_DEPENDENCY,
                severity,
                range,
                "tried to create relationships between tasks that don't have DAGs yet (error while Airflow imports the file)".into(),
                Some("create the tasks inside `with DAG(...)` or a `@dag` function, or pass `dag=`".into()),
            );
        }
    }
}
