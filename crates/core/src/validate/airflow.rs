//! What dagsmith knows of Airflow's core API without the catalog: how to recognise DAGs,
//! operators, TaskFlow decorators and dependency helpers from their import paths, the
//! keyword arguments `DAG` and `TaskGroup` accept per version, and modules that exist only in
//! Airflow's source repository.

use super::memo::Memo;
use crate::AirflowVersion;

/// What an imported (qualified) name is, as far as DAG structure is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ApiKind {
    DagClass,
    DagDecorator,
    TaskDecorator,
    TaskGroupClass,
    TaskGroupDecorator,
    Operator,
    Chain,
    ChainLinear,
    CrossDownstream,
    Label,
    Other,
}

/// Classifies a dotted name that came from an import, e.g. `airflow.sdk.DAG`.
pub(super) fn classify(qualified: &str) -> ApiKind {
    let from_airflow = qualified == "airflow" || qualified.starts_with("airflow.");
    let last = crate::dotted::last(qualified);
    if !from_airflow {
        // Custom operators from a plugin or a shared module still behave like operators.
        return if is_operator_class_name(last) { ApiKind::Operator } else { ApiKind::Other };
    }
    if is_task_decorator_path(qualified) {
        return ApiKind::TaskDecorator;
    }
    match last {
        "DAG" => ApiKind::DagClass,
        "dag" => ApiKind::DagDecorator,
        "TaskGroup" => ApiKind::TaskGroupClass,
        "task_group" => ApiKind::TaskGroupDecorator,
        "chain" => ApiKind::Chain,
        "chain_linear" => ApiKind::ChainLinear,
        "cross_downstream" => ApiKind::CrossDownstream,
        "Label" => ApiKind::Label,
        "python_task" | "virtualenv_task" | "branch_task" | "setup" | "teardown" | "setup_task"
        | "teardown_task" => ApiKind::TaskDecorator,
        _ if is_operator_class_name(last) => ApiKind::Operator,
        _ => ApiKind::Other,
    }
}

/// `task`, `task.bash`, `task.virtualenv`, ... from airflow.decorators / airflow.sdk: the
/// first `task` segment, right after one of those, with at most one segment after it. Read from
/// the end (classify runs for every call of an imported name).
fn is_task_decorator_path(qualified: &str) -> bool {
    use crate::dotted::split_last;
    let Some((rest, last)) = split_last(qualified) else { return false };
    let (rest, second) = split_last(rest).unwrap_or(("", rest));
    let (rest, before) = if second == "task" {
        split_last(rest).unwrap_or(("", rest))
    } else if last == "task" {
        (rest, second)
    } else {
        return false;
    };
    matches!(before, "decorators" | "sdk") && !rest.split('.').any(|s| s == "task")
}

/// `@asset` / `@asset.multi` of Airflow 3's task SDK.
pub(super) fn is_asset_decorator(qualified: &str) -> bool {
    qualified.starts_with("airflow.sdk")
        && (qualified.ends_with(".asset") || qualified.ends_with(".asset.multi"))
}

/// `@setup` / `@teardown` (from `airflow.decorators` or `airflow.sdk`).
pub(super) fn setup_teardown_role(qualified: &str) -> Option<super::model::TaskRole> {
    if !qualified.starts_with("airflow.") {
        return None;
    }
    match crate::dotted::last(qualified) {
        "setup" | "setup_task" => Some(super::model::TaskRole::Setup),
        "teardown" | "teardown_task" => Some(super::model::TaskRole::Teardown),
        _ => None,
    }
}

/// The class of the DAG a `@dag` function makes.
pub(super) fn dag_class(version: AirflowVersion) -> &'static str {
    if version.is_v3() { "airflow.sdk.definitions.dag.DAG" } else { "airflow.models.dag.DAG" }
}

/// The class of the group a `@task_group` function makes.
pub(super) fn task_group_class(version: AirflowVersion) -> &'static str {
    if version.is_v3() {
        "airflow.sdk.definitions.taskgroup.TaskGroup"
    } else {
        "airflow.utils.task_group.TaskGroup"
    }
}

/// The class of what a TaskFlow call (or `operator.output`) returns.
pub(super) fn xcom_arg_class(version: AirflowVersion) -> &'static str {
    if version.is_v3() {
        "airflow.sdk.definitions.xcom_arg.PlainXComArg"
    } else {
        "airflow.models.xcom_arg.PlainXComArg"
    }
}

/// Where the `TriggerRule` enum is defined, newest first (the first found in a target counts).
pub(super) const TRIGGER_RULE: &[(&str, &str)] =
    &[("airflow.task.trigger_rule", "TriggerRule"), ("airflow.utils.trigger_rule", "TriggerRule")];

/// Where the `WeightRule` enum is defined, newest first.
pub(super) const WEIGHT_RULE: &[(&str, &str)] =
    &[("airflow.task.weight_rule", "WeightRule"), ("airflow.utils.weight_rule", "WeightRule")];

/// The values of a string enum in a target, from the catalog (empty when not found).
/// Remembered: every `trigger_rule=` of every operator asks, and each answer follows the
/// enum's imports to its class.
pub(super) fn enum_values(
    target: crate::catalog::Target,
    candidates: &'static [(&'static str, &'static str)],
) -> Vec<&'static str> {
    type Found =
        Memo<(crate::catalog::Target, &'static [(&'static str, &'static str)]), Vec<&'static str>>;
    static FOUND: Found = Memo::new(64);
    FOUND.get_or_compute((target, candidates), || {
        let cat = crate::catalog::catalog();
        candidates
            .iter()
            .filter_map(|(m, c)| cat.enum_values(target, m, c))
            .find(|v| !v.is_empty())
            .map(|v| v.into_iter().map(|(_, value)| value).collect())
            .unwrap_or_default()
    })
}

/// Parameter names a TaskFlow function may leave without a value: Airflow fills them from the
/// task context when the task runs (`KNOWN_CONTEXT_KEYS` of Airflow 2 and 3, together).
pub(super) const CONTEXT_KEYS: &[&str] = &[
    "conf",
    "conn",
    "dag",
    "dag_run",
    "data_interval_end",
    "data_interval_start",
    "ds",
    "ds_nodash",
    "exception",
    "execution_date",
    "expanded_ti_count",
    "inlet_events",
    "inlets",
    "logical_date",
    "macros",
    "map_index_template",
    "next_ds",
    "next_ds_nodash",
    "next_execution_date",
    "outlet_events",
    "outlets",
    "params",
    "prev_data_interval_end_success",
    "prev_data_interval_start_success",
    "prev_ds",
    "prev_ds_nodash",
    "prev_end_date_success",
    "prev_execution_date",
    "prev_execution_date_success",
    "prev_start_date_success",
    "reason",
    "run_id",
    "start_date",
    "task",
    "task_instance",
    "task_instance_key_str",
    "task_reschedule_count",
    "templates_dict",
    "test_mode",
    "ti",
    "tomorrow_ds",
    "tomorrow_ds_nodash",
    "triggering_asset_events",
    "triggering_dataset_events",
    "try_number",
    "ts",
    "ts_nodash",
    "ts_nodash_with_tz",
    "var",
    "yesterday_ds",
    "yesterday_ds_nodash",
];

/// Operators and sensors are named `...Operator` / `...Sensor` throughout Airflow and its
/// providers (the catalog issue replaces this with real class data).
pub(super) fn is_operator_class_name(name: &str) -> bool {
    (name.ends_with("Operator") || name.ends_with("Sensor"))
        && name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && !matches!(name, "BaseOperatorLink" | "XComOperator")
}

/// Keyword arguments accepted by `DAG(...)` and `@dag(...)`.
pub(super) enum ArgCheck {
    Accepted,
    /// Not accepted; the message says what to use instead.
    Removed(&'static str),
    /// Not a parameter at all.
    Unknown,
}

const DAG_ARGS_COMMON: &[&str] = &[
    "dag_id",
    "description",
    "schedule",
    "start_date",
    "end_date",
    "template_searchpath",
    "template_undefined",
    "user_defined_macros",
    "user_defined_filters",
    "default_args",
    "max_active_tasks",
    "max_active_runs",
    "dagrun_timeout",
    "catchup",
    "on_success_callback",
    "on_failure_callback",
    "doc_md",
    "params",
    "access_control",
    "is_paused_upon_creation",
    "jinja_environment_kwargs",
    "render_template_as_native_obj",
    "tags",
    "owner_links",
    "auto_register",
    // Accepted in 3.x only with a warning (the SLA feature was removed).
    "sla_miss_callback",
];

const DAG_ARGS_V2_ONLY: &[&str] = &[
    "schedule_interval",
    "timetable",
    "concurrency",
    "full_filepath",
    "fail_stop",
    "default_view",
    "orientation",
];

pub(super) fn check_dag_argument(name: &str, version: AirflowVersion) -> ArgCheck {
    if DAG_ARGS_COMMON.contains(&name) {
        return ArgCheck::Accepted;
    }
    match name {
        "max_consecutive_failed_dag_runs" | "dag_display_name" if version.at_least(2, 9) => {
            ArgCheck::Accepted
        }
        "fail_fast" | "disable_bundle_versioning" if version.is_v3() => ArgCheck::Accepted,
        "deadline" if version.at_least(3, 1) => ArgCheck::Accepted,
        _ if !version.is_v3() && DAG_ARGS_V2_ONLY.contains(&name) => ArgCheck::Accepted,
        "schedule_interval" | "timetable" => ArgCheck::Removed(
            "removed in Airflow 3: pass the cron string, timedelta or timetable as `schedule=`",
        ),
        "concurrency" => ArgCheck::Removed("removed in Airflow 3: use `max_active_tasks=`"),
        "fail_stop" => ArgCheck::Removed("renamed in Airflow 3: use `fail_fast=`"),
        "full_filepath" | "default_view" | "orientation" => {
            ArgCheck::Removed("removed in Airflow 3")
        }
        _ => ArgCheck::Unknown,
    }
}

/// Every keyword argument `DAG(...)` accepts in this version (for "did you mean" fixes).
pub(super) fn accepted_dag_arguments(version: AirflowVersion) -> Vec<&'static str> {
    const NEWER: &[&str] = &[
        "max_consecutive_failed_dag_runs",
        "dag_display_name",
        "fail_fast",
        "disable_bundle_versioning",
        "deadline",
    ];
    DAG_ARGS_COMMON
        .iter()
        .chain(DAG_ARGS_V2_ONLY)
        .chain(NEWER)
        .copied()
        .filter(|n| matches!(check_dag_argument(n, version), ArgCheck::Accepted))
        .collect()
}

/// Keyword arguments of `TaskGroup(...)` (the same in 2.x and 3.x).
pub(super) const TASK_GROUP_ARGS: &[&str] = &[
    "group_id",
    "prefix_group_id",
    "parent_group",
    "dag",
    "default_args",
    "tooltip",
    "ui_color",
    "ui_fgcolor",
    "add_suffix_on_collision",
    "group_display_name",
];

/// Modules that exist in Airflow's source repository (system tests, test utilities) or are
/// test-only dependencies, but are not installed with Airflow.
pub(super) fn test_harness_module(module: &str) -> bool {
    let top = module.split('.').next().unwrap_or(module);
    matches!(top, "tests_common" | "pytest" | "tests" | "system")
}

/// A fix hint for common names used without an import.
pub(super) fn import_hint(name: &str, version: AirflowVersion) -> Option<String> {
    let sdk = version.is_v3();
    let line = match name {
        "datetime" | "timedelta" | "date" | "timezone" => format!("from datetime import {name}"),
        "os" | "json" | "logging" | "time" | "sys" | "re" | "random" | "uuid" | "csv" | "math"
        | "requests" | "pendulum" | "pandas" | "subprocess" | "shutil" | "tempfile" | "yaml"
        | "pathlib" => format!("import {name}"),
        "pd" => "import pandas as pd".into(),
        "np" => "import numpy as np".into(),
        "Path" => "from pathlib import Path".into(),
        "days_ago" if sdk => {
            return Some("`days_ago` was removed in Airflow 3: use `pendulum.today('UTC').add(days=-N)` or a fixed `datetime`".into());
        }
        "days_ago" => "from airflow.utils.dates import days_ago".into(),
        "DAG" | "dag" | "task" | "task_group" | "chain" | "Variable" | "Param" | "Asset"
        | "TaskGroup" | "Label" | "cross_downstream"
            if sdk =>
        {
            format!("from airflow.sdk import {name}")
        }
        "DAG" => "from airflow import DAG".into(),
        "dag" | "task" | "task_group" => format!("from airflow.decorators import {name}"),
        "chain" | "cross_downstream" => format!("from airflow.models.baseoperator import {name}"),
        "Variable" => "from airflow.models import Variable".into(),
        "Param" => "from airflow.models.param import Param".into(),
        "TaskGroup" => "from airflow.utils.task_group import TaskGroup".into(),
        "Label" => "from airflow.utils.edgemodifier import Label".into(),
        "Dataset" => "from airflow.datasets import Dataset".into(),
        "PythonOperator" | "BranchPythonOperator" | "ShortCircuitOperator" => {
            if sdk {
                format!("from airflow.providers.standard.operators.python import {name}")
            } else {
                format!("from airflow.operators.python import {name}")
            }
        }
        "BashOperator" => {
            if sdk {
                "from airflow.providers.standard.operators.bash import BashOperator".into()
            } else {
                "from airflow.operators.bash import BashOperator".into()
            }
        }
        "EmptyOperator" => {
            if sdk {
                "from airflow.providers.standard.operators.empty import EmptyOperator".into()
            } else {
                "from airflow.operators.empty import EmptyOperator".into()
            }
        }
        _ => return None,
    };
    Some(format!("add `{line}` at the top of the file"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_airflow_names() {
        assert_eq!(classify("airflow.DAG"), ApiKind::DagClass);
        assert_eq!(classify("airflow.sdk.DAG"), ApiKind::DagClass);
        assert_eq!(classify("airflow.models.dag.DAG"), ApiKind::DagClass);
        assert_eq!(classify("airflow.decorators.dag"), ApiKind::DagDecorator);
        assert_eq!(classify("airflow.decorators.task"), ApiKind::TaskDecorator);
        assert_eq!(classify("airflow.sdk.task.bash"), ApiKind::TaskDecorator);
        assert_eq!(classify("airflow.sdk.task.task"), ApiKind::TaskDecorator);
        // The first `task` segment decides: not right after decorators/sdk, or too deep.
        assert_eq!(classify("airflow.task.sdk.task"), ApiKind::Other);
        assert_eq!(classify("airflow.sdk.task.bash.x"), ApiKind::Other);
        assert_eq!(classify("airflow.models.task"), ApiKind::Other);
        assert_eq!(classify("airflow.utils.task_group.TaskGroup"), ApiKind::TaskGroupClass);
        assert_eq!(classify("airflow.operators.bash.BashOperator"), ApiKind::Operator);
        assert_eq!(classify("airflow.models.baseoperator.chain"), ApiKind::Chain);
        assert_eq!(classify("my_plugins.MyCopyOperator"), ApiKind::Operator);
        assert_eq!(classify("datetime.datetime"), ApiKind::Other);
        assert_eq!(classify("airflow.models.Variable"), ApiKind::Other);
    }

    #[test]
    fn dag_arguments_per_version() {
        let v2: AirflowVersion = "2.11".parse().unwrap();
        let v3: AirflowVersion = "3.1".parse().unwrap();
        assert!(matches!(check_dag_argument("schedule_interval", v2), ArgCheck::Accepted));
        assert!(matches!(check_dag_argument("schedule_interval", v3), ArgCheck::Removed(_)));
        assert!(matches!(check_dag_argument("region", v2), ArgCheck::Unknown));
        assert!(matches!(check_dag_argument("fail_fast", v3), ArgCheck::Accepted));
    }

    #[test]
    fn test_harness_modules() {
        assert!(test_harness_module("tests.system.utils.watcher"));
        assert!(test_harness_module("tests_common.test_utils.version_compat"));
        assert!(test_harness_module("system.openlineage.operator"));
        assert!(test_harness_module("pytest"));
        assert!(!test_harness_module("testsuite"));
        assert!(!test_harness_module("airflow.operators.bash"));
    }
}
