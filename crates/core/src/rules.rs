//! The rule registry: every finding dagsmith can report, with a stable code.
//!
//! Codes never change meaning once published. Ranges: `DS0xx` Python syntax and compilation,
//! `DS1xx` DAG structure and names, `DS2xx` imports.

use crate::finding::Severity;

/// A rule's static description (what `dagsmith rules CODE` prints).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub code: &'static str,
    /// Short kebab-case name, e.g. `undefined-name`.
    pub name: &'static str,
    pub severity: Severity,
    /// One line.
    pub summary: &'static str,
    /// Why it matters and how Airflow behaves; a few sentences.
    pub explanation: &'static str,
    /// Whether dagsmith can fix its findings (`dagsmith validate --fix`), and how safely.
    pub fixable: Fixable,
}

/// Whether a rule's findings come with a fix (see [`crate::fix`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fixable {
    No,
    /// Every fix keeps the DAG's meaning.
    Safe,
    /// Fixes are guesses, applied only with `--unsafe-fixes`.
    Unsafe,
    /// Some fixes are safe, others guesses (the explanation says which).
    SafeOrUnsafe,
}

impl Fixable {
    pub fn as_str(self) -> &'static str {
        match self {
            Fixable::No => "no",
            Fixable::Safe => "safe",
            Fixable::Unsafe => "unsafe",
            Fixable::SafeOrUnsafe => "safe/unsafe",
        }
    }
}

/// `NAME = "CODE", "name", Severity [fix: Fixable], "summary", "explanation";` with the
/// `[fix: ...]` part only for rules that have fixes.
macro_rules! rules {
    ($($ident:ident = $code:literal, $name:literal, $sev:ident $([fix: $fix:ident])?, $summary:literal, $explanation:literal;)*) => {
        $(pub const $ident: Rule = Rule {
            code: $code,
            name: $name,
            severity: Severity::$sev,
            summary: $summary,
            explanation: $explanation,
            fixable: rules!(@fixable $($fix)?),
        };)*
        /// All rules, ordered by code.
        pub const ALL: &[Rule] = &[$($ident),*];
    };
    (@fixable) => { Fixable::No };
    (@fixable $fix:ident) => { Fixable::$fix };
}

rules! {
    SYNTAX_ERROR = "DS001", "syntax-error", Error,
        "The file is not valid Python.",
        "Airflow imports every DAG file; a SyntaxError or IndentationError makes the whole file an import error and none of its DAGs appear. dagsmith reports every syntax error it can recover from, not only the first.";
    COMPILE_ERROR = "DS002", "compile-error", Error,
        "Python's compiler rejects code that parses (e.g. `return` outside a function, a repeated keyword argument).",
        "Some mistakes pass the grammar but are refused by CPython's compiler before any code runs: `return`/`yield` outside a function, `break`/`continue` outside a loop, the same keyword argument twice in one call, a repeated parameter name, `nonlocal` at module level, and more. Airflow sees them as a SyntaxError.";
    NO_DAG = "DS101", "no-dag", Error [fix: Safe],
        "The file defines no DAG that Airflow would find.",
        "Airflow's DagBag keeps DAG objects that are module-level globals or were created in a `with DAG(...)` block, and DAGs made by calling a `@dag` function. A `@dag` function that is never called, or a DAG built only under `if __name__ == \"__main__\":`, yields no DAG and the file is listed as having none. Fix (safe): a `@dag` function that is never called (and needs no arguments) is called at the end of the file.";
    UNDEFINED_NAME = "DS102", "undefined-name", Error [fix: Safe],
        "A name is used while the file is imported but is never defined or imported.",
        "Module-level code, class bodies, decorators, default values and the bodies of `@dag`/`@task_group` functions that are called at import time all run when Airflow parses the file. A name they use that was never assigned or imported (the classic `timedelta` without `from datetime import timedelta`) raises NameError and the file becomes an import error. Fix (safe): a function the file defines further down (the DAG written first, its callables after it) moves up, with the comments above it, before the statement that first uses it, when it is bound once, has no decorators and its signature reads only builtins and names imported above; otherwise, when the standard library, pendulum or the catalog knows the name uniquely (`timedelta`, `datetime`, `PythonOperator`, `DAG`...), or, for a class that several providers define (Google's and Yandex's `DataprocCreateClusterOperator`), only one of them accepts the keywords the file passes to it, the import is added after the file's imports.";
    UNDEFINED_NAME_AT_RUNTIME = "DS103", "undefined-name-at-runtime", Warning [fix: Safe],
        "A name inside a task callable or other deferred function is never defined.",
        "Code that only runs later (a `@task` function body, a `python_callable`, a lambda) does not stop Airflow from importing the file, but the task will fail with NameError when it runs. Fix (safe): the import is added, as for DS102.";
    DUPLICATE_TASK_ID = "DS104", "duplicate-task-id", Error,
        "Two tasks or task groups in one DAG share an id.",
        "Adding a task whose id (group prefix included) already exists in the DAG raises DuplicateTaskIdFound while the file is imported. TaskFlow (`@task`) calls are exempt: Airflow renames repeats to `name__1`, `name__2`, ....";
    INVALID_DAG_ID = "DS105", "invalid-dag-id", Error,
        "A dag_id has characters other than ASCII letters, digits, `_`, `.`, `-`, or is longer than 250.",
        "Airflow validates DAG ids when the DAG is created and raises an exception for anything but alphanumerics, dashes, dots and underscores, or more than 250 characters.";
    INVALID_TASK_ID = "DS106", "invalid-task-id", Error,
        "A task_id has characters other than ASCII letters, digits, `_`, `.`, `-`, or is longer than 250.",
        "Airflow validates task ids when the operator is created (the same check as dag ids), so an id with a space or a slash makes the file an import error.";
    INVALID_GROUP_ID = "DS107", "invalid-group-id", Error,
        "A TaskGroup id has characters other than ASCII letters, digits, `_`, `-`, or is longer than 200.",
        "Task group ids become prefixes of task ids, so Airflow forbids dots in them and limits them to 200 characters.";
    CYCLE = "DS108", "dependency-cycle", Error [fix: Safe],
        "The task dependencies form a cycle.",
        "A DAG must be acyclic. Airflow checks every DAG it collects and reports AirflowDagCycleException as an import error for the file. The finding lists the cycle's path. Fix (safe): a statement that only links a task to itself (`send >> send >> send`) is removed.";
    TASK_WITHOUT_DAG = "DS109", "task-without-dag", Warning [fix: Unsafe],
        "A task is created outside any DAG.",
        "An operator made outside a `with DAG(...)` block or `@dag` function, without `dag=` and without a dependency on a task that has a DAG, belongs to no DAG: Airflow ignores it silently. Fix (unsafe, it adds the task to a DAG): when the file has exactly one DAG, assigned to a module variable (`dag = DAG(...)` or `with DAG(...) as dag`) before the task is made, `dag=dag` is passed to the task.";
    DAG_NOT_COLLECTED = "DS110", "dag-not-collected", Warning,
        "A DAG object is created where Airflow will not find it.",
        "DagBag collects DAGs that are module-level globals, were used in a `with` block, or were made by a called `@dag` function. A DAG created and kept only in a local variable or a container is dropped.";
    UNKNOWN_DAG_ARGUMENT = "DS111", "unknown-dag-argument", Error [fix: SafeOrUnsafe],
        "`DAG(...)` or `@dag(...)` is given a keyword argument it does not accept in the target Airflow version.",
        "DAG's constructor takes a fixed set of keyword arguments; any other raises TypeError at import. Airflow 3 removed several 2.x arguments: `schedule_interval` and `timetable` (use `schedule`), `concurrency` (use `max_active_tasks`), `fail_stop` (now `fail_fast`), `default_view`, `orientation` and `full_filepath`. Task arguments such as `retries` or `execution_timeout` belong in `default_args`, not in `DAG(...)`. Fix: on Airflow 3, `schedule_interval`/`timetable` become `schedule`, `concurrency` becomes `max_active_tasks`, `fail_stop` becomes `fail_fast` and the UI-only `default_view`, `orientation` and `full_filepath` are dropped (safe); an unknown argument with one close match among DAG's arguments is renamed (unsafe), any other is commented out when it has lines of its own (unsafe).";
    CONFLICTING_SCHEDULE = "DS112", "conflicting-schedule-arguments", Error,
        "More than one of `schedule`, `schedule_interval` and `timetable` is given.",
        "Airflow 2 accepts exactly one way to say when a DAG runs and raises ValueError if several are passed.";
    INVALID_SCHEDULE = "DS113", "invalid-schedule", Error,
        "The schedule is not a valid cron expression or preset.",
        "A string schedule must be a preset (`@daily`, `@hourly`, `@once`, `@continuous`, ...) or a cron expression with 5 or 6 fields; otherwise Airflow fails to build the DAG's timetable at import. `@continuous` also needs `max_active_runs=1`.";
    LIST_TO_LIST_DEPENDENCY = "DS114", "list-to-list-dependency", Error [fix: Unsafe],
        "`[a, b] >> [c, d]`: bitshift between two lists.",
        "Python has no `>>` between lists, so this raises TypeError when the file is imported. Use `cross_downstream([a, b], [c, d])` for every pair, or `chain(...)`. Fix (unsafe): where two lists meet in a `>>` chain whose inner operands are names or lists of names, that link becomes `cross_downstream(...)` (imported from where the version has it) and the rest of the chain stays `>>`.";
    CHAIN_LENGTH_MISMATCH = "DS115", "chain-length-mismatch", Error,
        "`chain()` is given adjacent lists of different lengths.",
        "`chain([a, b], [c, d, e])` raises AirflowException: adjacent lists in chain() must have the same length (they are paired element by element).";
    DUPLICATE_DAG_ID = "DS116", "duplicate-dag-id", Warning,
        "Two DAGs in this file have the same dag_id.",
        "Airflow keeps only one DAG per id from a file (which one is not defined); the other silently disappears.";
    MISSING_TASK_ID = "DS117", "missing-task-id", Error,
        "An operator is created without a task_id.",
        "Every operator needs a `task_id`; Airflow raises an exception about the missing argument while importing the file.";
    UNKNOWN_TASK_GROUP_ARGUMENT = "DS118", "unknown-task-group-argument", Error,
        "`TaskGroup(...)` is given a keyword argument it does not accept.",
        "TaskGroup's constructor raises TypeError for unknown keyword arguments (`add_start_stop_tasks`, `dag_id`, ...).";
    UNRESOLVED_DYNAMIC_CODE = "DS119", "dynamic-names", Info,
        "The file uses `from x import *`, `globals()` or `exec`, so some names cannot be checked.",
        "Names created dynamically are invisible to static analysis; dagsmith then reports unknown names as warnings instead of errors.";
    XCOM_ARG_OUTPUT = "DS120", "xcomarg-output", Error [fix: Safe],
        "`.output` is used on the result of a `@task` call, which is already an XComArg.",
        "Calling a TaskFlow function returns an XComArg, not an operator; `my_task().output` raises AttributeError ('PlainXComArg' object has no attribute 'output') while Airflow imports the file. Pass the call's result directly. Fix (safe): `.output` is dropped.";
    MISSING_START_DATE = "DS121", "missing-start-date", Error,
        "The DAG has no start_date where the target Airflow version requires one.",
        "Airflow 2.8+ raises `DAG is missing the start_date parameter` when a DAG declares a schedule but neither the DAG nor `default_args` has a start_date; before 2.8 the same error comes when the first task is added. In Airflow 3, `catchup=True` with a time-based schedule needs a start_date.";
    INVALID_DEPENDENCY = "DS122", "invalid-dependency", Error [fix: Unsafe],
        "A dependency links tasks of different DAGs, tasks that have no DAG at all, or a @task function that was never called.",
        "`a >> b` needs both tasks in the same DAG, and at least one of them must already have a DAG (the other joins it). Otherwise Airflow raises `Tried to set relationships between tasks in more than one DAG` or `... tasks that don't have DAGs yet` while importing the file. A `@task` function itself (`extract >> load` where `extract()` was meant) is not a task either and fails the same way. Fix (unsafe): as for DS109, `dag=dag` is passed to every task created outside the file's one DAG; @task functions linked by name are called, each taking the previous task's result when it has one parameter (`extract() >> transform >> load` becomes `load(transform(extract()))`).";
    DECORATOR_AS_CONTEXT_MANAGER = "DS123", "decorator-as-context-manager", Error [fix: Safe],
        "`with task_group(...)` or `with dag(...)`: a decorator used where its class is meant.",
        "`@task_group` and `@dag` are decorators: called with arguments they return a decorator (a `functools.partial`), which has no `__enter__`, so `with task_group(\"extract\"):` raises TypeError while Airflow imports the file. The context managers are the classes `TaskGroup` and `DAG`. Fix (safe): the call is made on the class, imported from the version's module when the file does not import it yet.";
    TASK_GROUP_WITHOUT_DAG = "DS124", "task-group-without-dag", Error,
        "A `TaskGroup` created at module level outside any DAG, without `dag=` or `parent_group=`.",
        "A TaskGroup takes its DAG from `dag=`, its parent group, or the `with DAG(...)` block or `@dag` function it is created in. With none of these, Airflow raises \"TaskGroup can only be used inside a dag\" (AirflowException in 2.x, RuntimeError in 3.x) while it imports the file. Create the group inside the DAG's block.";
    TEST_HARNESS_IMPORT = "DS201", "test-harness-import", Error,
        "An import of Airflow's own test utilities (`tests_common`, `tests.system`, `system.*`, ...).",
        "Example DAGs in Airflow's repository import helpers that exist only in that repository (`tests_common.test_utils...`, `tests.system.utils...`, `system.openlineage...`). They are not installed with Airflow, so the import raises ModuleNotFoundError. Remove the import and the `watcher()`/`get_test_run()` boilerplate.";
    MODULE_NOT_FOUND = "DS202", "module-not-found", Error [fix: SafeOrUnsafe],
        "An `airflow.*` module that does not exist in the target Airflow version or its providers.",
        "dagsmith knows every module of Airflow 2.7, 2.9, 2.11, 3.0 and 3.1 and of every provider release that goes with them (see docs/CATALOG.md). Importing one that exists in none of them (a hallucinated provider, a misspelt path) raises ModuleNotFoundError while Airflow imports the file. The hint names the nearest real module, or where the imported class really lives. Fix: an existing class whose home in the target version is unique is imported from there (safe); a class name that exists nowhere but has one confident match in the same package (the same CamelCase words in another order, or one small edit) is replaced by it, at the import and at every use (unsafe); a database operator that its provider dropped (`PostgresOperator`, `MySqlOperator`, `SqliteOperator`, `MsSqlOperator`, `SnowflakeOperator`, `TrinoOperator`) becomes common-sql's `SQLExecuteQueryOperator`, its `<db>_conn_id=` becoming `conn_id=` (unsafe: other arguments moved to `hook_params`); names that cannot be imported and that nothing in the file uses are removed from the import, or the whole statement (safe).";
    NAME_NOT_IN_MODULE = "DS203", "name-not-in-module", Error [fix: SafeOrUnsafe],
        "`from airflow.x import Name` where the module exists but has no `Name`.",
        "The right class name in the wrong module (`SnowflakeOperator` after it moved to common-sql's `SQLExecuteQueryOperator`, an operator from another provider) raises ImportError while Airflow imports the file. The hint says where the name lives in the target version. Fix: as for DS202, the right module for the same name (safe) or the one confident real name (unsafe); `DummyOperator` becomes `EmptyOperator` (safe). Also names pendulum has in neither 2.x nor 3.x (`from pendulum import timedelta`); fix (safe): the standard library's name from its module. A module imported as a name (`from airflow.utils.dates import pendulum`) becomes `import pendulum` (safe). Names that cannot be imported and that nothing in the file uses are removed from the import (safe).";
    VERSION_MISMATCH_IMPORT = "DS204", "removed-or-not-yet-in-version", Error [fix: SafeOrUnsafe],
        "An Airflow module that exists in other Airflow versions but not the target (removed in 3.x, or 3.x-only).",
        "Airflow 3 removed many Airflow-2 import paths (`airflow.operators.python_operator`, `airflow.contrib.*`, `airflow.utils.dates`, ...), and 3.x-only modules such as `airflow.sdk` do not exist in 2.x. Either way the import raises ModuleNotFoundError for the target version. Fix: the class is imported from its module in the target version (safe: e.g. `airflow.operators.python_operator` becomes `airflow.providers.standard.operators.python` on 3.x, and `DAG`, `dag`, `task` come from `airflow.sdk`); `days_ago(n)` from the removed `airflow.utils.dates` becomes `pendulum.today(\"UTC\").add(days=-n)` (safe, the same value).";
    PROVIDER_RELEASE_MISMATCH = "DS205", "provider-release-mismatch", Warning,
        "The module or name exists only in an older release of its provider package.",
        "Providers drop deprecated operators over time. The name exists in the provider release that was current when the target Airflow version came out, but not in the newest release that supports it: the file loads only with the older provider installed. The message names the pip package and version.";
    DEPRECATED_IMPORT = "DS206", "deprecated-import", Warning [fix: Safe],
        "The import works only through a deprecation shim of the target Airflow version.",
        "Airflow keeps some old import paths alive with compatibility shims (e.g. `airflow.operators.bash` in Airflow 3 forwards to the standard provider). They still load but warn, and they disappear in later releases; the hint names the real module. Fix (safe): the name is imported from its real module (on 3.x, `DAG`, `dag`, `task` and friends from `airflow.sdk`).";
    UNKNOWN_OPERATOR_ARGUMENT = "DS207", "unknown-operator-argument", Error [fix: SafeOrUnsafe],
        "An operator is given a keyword argument it does not accept.",
        "BaseOperator refuses unknown keyword arguments: Airflow raises `Invalid arguments were passed to X` while importing the file. Accepted arguments come from the operator class and all its bases in the target version (see docs/CATALOG.md). Fix: `provide_context` (a no-op since Airflow 2) is dropped (safe); an unknown argument with one confident match among the operator's real parameters (the same words, or one small edit) is renamed (unsafe); any other unknown argument is commented out where it has lines of its own, with a note, else removed (unsafe: the task loses a setting its operator never had; the file loads, and what was meant stays visible).";
    MISSING_OPERATOR_ARGUMENT = "DS208", "missing-operator-argument", Error,
        "A required argument of an operator is neither passed nor supplied by `default_args`.",
        "Airflow checks required operator arguments when the task is created and raises `missing keyword argument 'x'` while importing the file. Values in the DAG's `default_args` count as passed.";
    THIRD_PARTY_IMPORT = "DS209", "third-party-import", Info,
        "An import of a package that is neither Airflow nor Python's standard library.",
        "Airflow can only import the file where that package is installed (in the scheduler's and DAG processor's environment, not just the workers'). dagsmith cannot know your environment, so this is information, not a verdict.";
    REMOVED_CONTEXT_VARIABLE = "DS210", "removed-context-variable", Warning,
        "A template or context variable that Airflow 3 removed (`execution_date`, `next_ds`, `prev_ds`, `tomorrow_ds`, ...).",
        "Airflow 3 dropped the execution-date family of context variables. Templates such as `{{ execution_date }}`, `context[\"next_ds\"]` or a `@task` parameter named `execution_date` no longer receive a value: the file still imports, but the task fails or renders an empty value when it runs. Use `logical_date`, `data_interval_start`/`data_interval_end` and the `ds` macros instead.";
    DEPRECATED_OPERATOR_ARGUMENT = "DS211", "deprecated-operator-argument", Warning,
        "An operator argument that the target version accepts only with a deprecation warning.",
        "Some operators take a retired argument out of `**kwargs` and warn instead of failing (Airflow 2's `PythonOperator(provide_context=True)`). The file loads, but the argument does nothing and a later release refuses it; remove it.";
    UNKNOWN_ATTRIBUTE = "DS212", "unknown-attribute", Error [fix: Safe],
        "An attribute or method that the Airflow object does not have in the target version.",
        "A DAG, task group, operator or XComArg used while the file is imported (`dag.create_task_group(...)`, `task.set_downstreams(...)`) raises AttributeError when its class has no such attribute. dagsmith knows the attributes and methods of Airflow's classes and their bases per version (docs/CATALOG.md). Also `pendulum.timedelta`, which small models write for `pendulum.duration`. Fix (safe): `pendulum.timedelta(...)` becomes `pendulum.duration(...)`, whose parameters are timedelta's, in the same order. Also `pendulum.datetime.now()` / `.today()` (`pendulum.datetime` is a function); fix (safe): `pendulum.now()` / `pendulum.today()`.";
    INVALID_ARGUMENT_VALUE = "DS213", "invalid-argument-value", Error [fix: SafeOrUnsafe],
        "An operator argument whose value the constructor refuses.",
        "Some arguments are checked when the task is created: `trigger_rule` must be a `TriggerRule`, `weight_rule` a `WeightRule` or a priority weight strategy registered by a plugin, and some operators accept only listed values (the Docker operator's `auto_remove` is `'never'`, `'success'` or `'force'`, not `True`); an operator's `.partial(...).expand(x=...)` maps over a list, a dict or an XComArg, never a plain string or number. Anything else raises while Airflow imports the file. Fix (unsafe): a plain value given to `.expand()` becomes a list of that one value. Fix (safe): the Docker operators' `auto_remove=True`/`False` becomes `'success'`/`'never'`, what the provider made of them before it dropped the booleans. Also common-sql's check operators, which iterate `checks` (`SQLTableCheckOperator`) and `column_mapping` (`SQLColumnCheckOperator`) as dicts of dicts while the task is created: a SQL string or a list there fails. Also `dag=dag` where `dag` is the `@dag` decorator (written inside `@dag` functions, where no DAG variable exists): Airflow reads DAG attributes off a function and fails; fix (safe): the argument is removed, and the task joins the DAG it is created in.";
    CALL_SIGNATURE_MISMATCH = "DS214", "call-signature-mismatch", Error [fix: Safe],
        "A function called while the file is imported gets arguments its signature does not take.",
        "Calling a helper function, a `@dag` function or a `@task` function at import time with an unknown keyword argument, too many positional arguments or without a required argument raises TypeError (TaskFlow binds the arguments when the task is created; parameters named after context variables, such as `ti` or `ds`, are filled when the task runs). Also the standard library's `datetime(..., tz=\"UTC\")`: `tz=` is pendulum's. Fix (safe): that call becomes `pendulum.datetime(...)`. And `from airflow import task` (the package `airflow.task`) used as the TaskFlow decorator; fix (safe): `task` imported from `airflow.sdk` (3.x) or `airflow.decorators` (2.x).";
    ENVIRONMENT_AT_IMPORT = "DS215", "environment-at-import", Warning,
        "The file reads a Variable or a Connection while it is imported.",
        "`Variable.get(...)` without a default, `BaseHook.get_connection(...)`, and hooks that fetch their connection when created or used at module level run every time the DAG processor parses the file. Where the variable or connection is not defined, the import fails (KeyError / AirflowNotFoundException) — so whether the file loads depends on the environment. Read them inside tasks, or pass a default.";
    DEPRECATED_CLASS = "DS216", "deprecated-class", Warning [fix: Unsafe],
        "An operator, sensor or hook that its package deprecated for a named replacement in the target version.",
        "Providers deprecate classes before they remove them (`SqliteOperator`, `PostgresOperator` and the other database operators for common-sql's `SQLExecuteQueryOperator`, `SimpleHttpOperator` for `HttpOperator`, ...). The file still loads, with a deprecation warning, but breaks at the next provider upgrade that removes the class. The message names the replacement the deprecation names (reported only when the providers of the target's release already had that replacement). Fix (unsafe: the replacement may behave differently): the replacement, at the import and at every use, when it exists in the target and accepts every keyword the file passes (the database operators' `<db>_conn_id=` becoming `conn_id=`).";
    UNUSED_PROVIDER_IMPORT = "DS217", "unused-provider-import", Warning [fix: Safe],
        "A name imported from a provider package that nothing in the file uses.",
        "Every provider import makes the file need that provider installed where Airflow parses DAGs: where it is not, the import raises ModuleNotFoundError and the DAG is lost, for a name the file never uses. Models copy whole lists of imports from their prompt and use a few. Fix (safe): the unused names are removed from the import, or the whole statement (with its comment) when none is used.";
}

/// Finds a rule by its code (case-insensitive) or its name.
pub fn find(code_or_name: &str) -> Option<&'static Rule> {
    ALL.iter().find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_sorted() {
        for pair in ALL.windows(2) {
            assert!(pair[0].code < pair[1].code, "{} !< {}", pair[0].code, pair[1].code);
        }
        let mut names: Vec<_> = ALL.iter().map(|r| r.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
    }

    #[test]
    fn find_by_code_or_name() {
        assert_eq!(find("ds102").unwrap().name, "undefined-name");
        assert_eq!(find("dependency-cycle").unwrap().code, "DS108");
        assert!(find("DS999").is_none());
    }
}
