//! Rules checked while the interpreter runs (on a call, a decorator, an edge), one file per
//! rule or close group of rules; each file's first line names the codes it reports. The checks
//! are `impl Interp` methods, called from `interp/` where the values they need are known.
//!
//! Reported by the interpreter itself, where the value is computed: DS101 for `DAG()` without
//! a dag_id (`airflow_objects::create_dag_from_call`), DS102 (`frames::load_name`), DS114 and DS122 on `>>`
//! (`edges`), DS115 (`calls::chain`), DS117 (`airflow_objects::create_operator`). The rules over
//! the finished model live beside `interp` (`dag_checks`, `names`, `context_keys`).

mod argument_values;
mod attributes;
mod call_signatures;
mod dag_arguments;
mod decorator_context_managers;
mod edge_dags;
mod environment;
mod ids;
mod operator_arguments;
mod start_date;
mod task_group_arguments;

use std::sync::Arc;

use crate::catalog::OperatorParams;
use crate::validate::interp::Interp;

impl Interp<'_> {
    /// The catalog's constructor parameters of `qualified` (`module.Class`) for this file's
    /// Airflow version, with the class name; `None` unless the catalog knows it as an operator.
    pub(in crate::validate) fn operator_params_of<'q>(
        &self,
        qualified: &'q str,
    ) -> Option<(&'q str, Arc<OperatorParams>)> {
        let class = crate::dotted::last(qualified);
        let cat = crate::catalog::catalog();
        let params = cat.operator_params_at(cat.target_for(self.version), qualified)?;
        params.is_operator.then_some((class, params))
    }
}
