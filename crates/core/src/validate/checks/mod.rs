//! Rules checked while the interpreter runs (on a call, a decorator, an edge), one file per
//! rule or close group of rules; each file's first line names the codes it reports. The rules
//! over the finished model live beside `interp` (`dag_checks`, `names`, `schedule`, ...).

mod argument_values;
mod attributes;
mod call_signatures;
mod dag_arguments;
mod decorator_context_managers;
mod edge_dags;
mod ids;
mod operator_arguments;
mod start_date;
mod task_group_arguments;
