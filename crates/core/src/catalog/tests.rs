use super::*;

fn v(s: &str) -> Target {
    catalog().target_for(s.parse().unwrap())
}

#[test]
fn targets_round_up_within_a_major_version() {
    let c = catalog();
    assert_eq!(c.target_version(v("2.0")), "2.7.3");
    assert_eq!(c.target_version(v("2.7")), "2.7.3");
    assert_eq!(c.target_version(v("2.8")), "2.9.3");
    assert_eq!(c.target_version(v("2.10.5")), "2.11.2");
    assert_eq!(c.target_version(v("2.11")), "2.11.2");
    assert_eq!(c.target_version(v("3.0")), "3.0.6");
    assert_eq!(c.target_version(v("3.1.8")), "3.1.8");
    assert_eq!(c.target_version(v("3.3")), "3.1.8");
}

#[test]
fn airflow2_import_paths_removed_in_3() {
    let c = catalog();
    let (v211, v31) = (v("2.11"), v("3.1"));
    assert_eq!(c.module_exists(v211, "airflow.operators.python_operator"), ModuleStatus::Exists);
    assert_eq!(c.module_exists(v31, "airflow.operators.python_operator"), ModuleStatus::Missing);
    assert!(c.name_in_module(v211, "airflow.operators.python_operator", "PythonOperator"));
    assert!(!c.name_in_module(v211, "airflow.operators.python_operator", "NoSuchOperator"));
    assert_eq!(
        c.name_status(v31, "airflow.operators.python_operator", "PythonOperator"),
        NameStatus::ModuleMissing
    );
    assert!(c.module_exists_in_any("airflow.operators.python_operator"));
    let info = c.module_info(v211, "airflow.operators.python_operator").unwrap();
    assert!(info.is_deprecated_shim);
    assert!(c.name_in_module(v211, "airflow.operators.dummy_operator", "DummyOperator"));
    assert!(c.name_in_module(v211, "airflow.operators.dummy", "DummyOperator"));
    assert_eq!(c.module_exists(v31, "airflow.operators.dummy"), ModuleStatus::Missing);
}

#[test]
fn airflow3_operator_shims_and_standard_provider() {
    let c = catalog();
    let v31 = v("3.1");
    // Airflow 3.1 keeps `airflow.operators.bash` as a deprecation shim to the standard provider.
    assert_eq!(c.module_exists(v31, "airflow.operators.bash"), ModuleStatus::Exists);
    assert!(c.module_info(v31, "airflow.operators.bash").unwrap().is_deprecated_shim);
    assert!(c.name_in_module(v31, "airflow.operators.bash", "BashOperator"));
    assert!(c.name_in_module(v31, "airflow.providers.standard.operators.python", "PythonOperator"));
    assert_eq!(
        c.module_distribution(v31, "airflow.providers.standard.operators.python"),
        Some("apache-airflow-providers-standard")
    );
    assert_eq!(c.module_distribution(v31, "airflow.sdk"), Some("apache-airflow-task-sdk"));
    assert_eq!(c.module_distribution(v("2.11"), "airflow.operators.bash"), Some("apache-airflow"));
}

#[test]
fn sdk_is_airflow3_only() {
    let c = catalog();
    for t in ["3.0", "3.1"] {
        assert!(c.name_in_module(v(t), "airflow.sdk", "DAG"), "{t}");
        assert!(c.name_in_module(v(t), "airflow.sdk", "task"), "{t}");
    }
    for t in ["2.7", "2.9", "2.11"] {
        assert_eq!(c.module_exists(v(t), "airflow.sdk"), ModuleStatus::Missing, "{t}");
    }
    assert!(c.name_in_module(v("2.11"), "airflow", "DAG"));
    assert!(c.name_in_module(v("3.1"), "airflow", "DAG"));
    assert!(!c.name_in_module(v("3.1"), "airflow", "NoSuchThing"));
    assert!(c.name_in_module(v("3.1"), "airflow.decorators", "task"));
    assert!(c.name_in_module(v("2.11"), "airflow.models", "Variable"));
}

#[test]
fn bash_operator_params() {
    let c = catalog();
    for t in ["2.7", "2.11", "3.0", "3.1"] {
        let module = if t.starts_with('3') {
            "airflow.providers.standard.operators.bash"
        } else {
            "airflow.operators.bash"
        };
        let p = c.operator_params(v(t), module, "BashOperator").unwrap_or_else(|| panic!("{t}"));
        assert!(p.is_operator, "{t}");
        assert!(p.complete, "{t}: {p:?}");
        assert!(!p.accepts_any_kwargs, "{t}");
        assert!(p.required.contains("bash_command"), "{t}");
        assert!(p.required.contains("task_id"), "{t}");
        assert!(p.accepted.contains("retries"), "{t}");
        assert!(p.accepted.contains("env"), "{t}");
        assert!(!p.accepted.contains("python_callable"), "{t}");
    }
    // Through the 3.x shim module as well.
    let p = c.operator_params(v("3.1"), "airflow.operators.bash", "BashOperator").unwrap();
    assert_eq!(p.defined_at, "airflow.providers.standard.operators.bash.BashOperator");
}

#[test]
fn find_class_and_suggestions() {
    let c = catalog();
    let v31 = v("3.1");
    let found = c.find_class(v31, "BashOperator");
    assert_eq!(
        found.first().map(String::as_str),
        Some("airflow.providers.standard.operators.bash"),
        "{found:?}"
    );
    let near = c.closest_modules(v31, "airflow.operators.bash_operator", 5);
    assert!(near.contains(&"airflow.operators.bash"), "{near:?}");
    let names =
        c.closest_names(v31, "airflow.providers.standard.operators.python", "PythonOperater", 3);
    assert_eq!(names.first(), Some(&"PythonOperator"));
}

#[test]
fn modules_are_sorted_for_prefix_searches() {
    let c = catalog();
    assert!(c.modules.windows(2).all(|w| w[0].path < w[1].path));
    let google: Vec<_> = c.classes_under(v("3.1"), "airflow.providers.google.").collect();
    assert!(google.len() > 500, "{}", google.len());
    assert!(google.iter().all(|(m, _)| m.starts_with("airflow.providers.google.")));
    let all = c.classes_under(v("3.1"), "").count();
    assert_eq!(all, c.class_names().names.iter().filter(|n| n.mask & v("3.1").bit() != 0).count());
}

#[test]
fn names_resolve_to_their_definition() {
    let c = catalog();
    let v31 = v("3.1");
    let bash = Some("airflow.providers.standard.operators.bash.BashOperator".to_string());
    assert_eq!(c.resolve_name(v31, "airflow.operators.bash", "BashOperator"), bash);
    assert_eq!(
        c.resolve_name(v31, "airflow.providers.standard.operators.bash", "BashOperator"),
        bash
    );
    assert_eq!(
        c.resolve_name(v31, "airflow.hooks.base", "BaseHook"),
        c.resolve_name(v31, "airflow.sdk", "BaseHook")
    );
    assert_eq!(c.resolve_name(v31, "airflow.operators.bash", "NoSuchThing"), None);
    let v211 = v("2.11");
    assert_eq!(
        c.resolve_name(v211, "airflow.operators.python_operator", "PythonOperator"),
        Some("airflow.operators.python.PythonOperator".into())
    );
}

#[test]
fn submodules_are_importable_names() {
    let c = catalog();
    assert!(c.name_in_module(v("3.1"), "airflow.providers.standard", "operators"));
    assert!(c.name_in_module(v("2.11"), "airflow.operators", "bash_operator"));
    assert!(!c.name_in_module(v("2.11"), "airflow.operators", "BashOperator"));
}

#[test]
fn provider_removals_after_release_are_not_missing() {
    let c = catalog();
    let v31 = v("3.1");
    // Removed by apache-airflow-providers-google 21/22, present in the release-time provider.
    let m = "airflow.providers.google.cloud.operators.datacatalog";
    assert_eq!(c.module_exists(v31, m), ModuleStatus::InOlderProvider);
    assert_eq!(
        c.name_status(v31, m, "CloudDataCatalogCreateEntryOperator"),
        NameStatus::InOlderProvider
    );
    assert_eq!(c.name_status(v31, m, "CloudDataCatalogMadeUpOperator"), NameStatus::Missing);
    assert!(
        c.older_provider_has(v31, m, None)
            .is_some_and(|(d, _)| d == "apache-airflow-providers-google")
    );
    // Removed long before: really missing.
    assert_eq!(
        c.name_status(v31, "airflow.providers.snowflake.operators.snowflake", "SnowflakeOperator"),
        NameStatus::Missing
    );
}

/// Issue 10: for every operator class of every target, its CamelCase words in another order
/// (what LLMs write: `DataprocClusterCreateOperator`) make "did you mean" name it first. Where
/// the module has another class with the same words (`S3ToGCS…` / `GCSToS3…`), the first
/// suggestion must be one of those.
#[test]
fn permuted_words_suggest_the_operator_first() {
    let c = catalog();
    let mut checked = 0;
    let mut failures = Vec::new();
    for t in c.targets() {
        for m in &c.modules {
            if is_private_module(&m.path) || c.existence(t, &m.path).is_none() {
                continue;
            }
            let classes: Vec<&str> =
                m.classes.iter().filter(|k| k.mask & t.bit() != 0).map(|k| k.name).collect();
            // Private classes are never suggested (nor importable as public API).
            for &class in classes.iter().filter(|k| !k.starts_with('_')) {
                let words = similarity::words(class);
                if words.len() < 2
                    || words.iter().any(|w| w.starts_with(|ch: char| ch.is_ascii_digit()))
                {
                    continue;
                }
                let is_operator =
                    c.operator_params(t, &m.path, class).is_some_and(|p| p.is_operator);
                if !is_operator {
                    continue;
                }
                let Some(permuted) = permutation(&words, |p| classes.contains(&p)) else {
                    continue;
                };
                let key = similarity::word_key(class);
                let same_words: Vec<&str> =
                    classes.iter().copied().filter(|k| similarity::word_key(k) == key).collect();
                let suggested = c.closest_names(t, &m.path, &permuted, 3);
                let ok = match suggested.first() {
                    Some(first) if same_words.len() == 1 => *first == class,
                    Some(first) => same_words.contains(first),
                    None => false,
                };
                if !ok {
                    failures.push(format!(
                        "{} {}.{class}: `{permuted}` suggests {suggested:?}",
                        c.target_version(t),
                        m.path
                    ));
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 5_000, "only {checked} operator classes checked");
    assert!(failures.is_empty(), "{} of {checked}:\n{}", failures.len(), failures.join("\n"));
}

/// The words in another order, CamelCased: reversed, else rotated, skipping real names.
fn permutation(words: &[String], taken: impl Fn(&str) -> bool) -> Option<String> {
    let camel = |ws: &[&String]| -> String {
        ws.iter()
            .map(|w| {
                let mut cs = w.chars();
                cs.next()
                    .map(|f| f.to_ascii_uppercase().to_string() + cs.as_str())
                    .unwrap_or_default()
            })
            .collect()
    };
    let original = camel(&words.iter().collect::<Vec<_>>());
    let mut candidates: Vec<Vec<&String>> = vec![words.iter().rev().collect()];
    for i in 1..words.len() {
        candidates.push(words[i..].iter().chain(&words[..i]).collect());
    }
    candidates.into_iter().map(|ws| camel(&ws)).find(|p| *p != original && !taken(p))
}

#[test]
fn kwargs_popped_by_init_are_accepted_with_a_deprecation() {
    let c = catalog();
    let p = c.operator_params(v("2.11"), "airflow.operators.python", "PythonOperator").unwrap();
    assert!(p.accepted.contains("provide_context"));
    assert!(p.deprecated.contains("provide_context"));
    // The standard provider's PythonOperator (Airflow 3) no longer takes it.
    let p3 = c
        .operator_params(v("3.1"), "airflow.providers.standard.operators.python", "PythonOperator")
        .unwrap();
    assert!(!p3.accepted.contains("provide_context"));
}

#[test]
fn argument_choices_from_init_checks() {
    let c = catalog();
    let p = c
        .operator_params(v("2.11"), "airflow.providers.docker.operators.docker", "DockerOperator")
        .unwrap();
    assert_eq!(p.choices["auto_remove"], ["never", "success", "force"]);
}

#[test]
fn mro_picks_the_first_init() {
    // BranchPythonOperator(BaseBranchOperator, PythonOperator) has no __init__: Python runs
    // PythonOperator's, which comes before BaseOperator in the MRO.
    let c = catalog();
    for (t, module) in [
        ("2.11", "airflow.operators.python"),
        ("3.1", "airflow.providers.standard.operators.python"),
    ] {
        let p = c.operator_params(v(t), module, "BranchPythonOperator").unwrap();
        assert!(p.accepted.contains("python_callable"), "{t}");
        assert!(p.required.contains("python_callable"), "{t}");
    }
}

#[test]
fn class_attributes_through_bases() {
    let c = catalog();
    for t in ["2.11", "3.1"] {
        let dag = if t == "3.1" { ("airflow.sdk", "DAG") } else { ("airflow", "DAG") };
        let a = c.class_attributes(v(t), dag.0, dag.1).unwrap();
        assert!(!a.open, "{t}");
        assert!(a.names.contains("dag_id") && a.names.contains("get_task"), "{t}");
        assert!(a.certainly_lacks("create_task_group"), "{t}");
        assert!(!a.certainly_lacks("_private"), "{t}");
    }
    let bash = c
        .class_attributes(v("3.1"), "airflow.providers.standard.operators.bash", "BashOperator")
        .unwrap();
    // Own `__init__` parameters, BaseOperator's methods and DependencyMixin's.
    for name in ["bash_command", "task_id", "set_downstream", "output", "as_teardown"] {
        assert!(bash.names.contains(name), "{name}");
    }
    assert!(bash.certainly_lacks("wait_for_completion"));
    // Attributes of provider hooks are not recorded: never reported.
    let hook = c
        .class_attributes(v("2.11"), "airflow.providers.postgres.hooks.postgres", "PostgresHook")
        .unwrap();
    assert!(hook.open);
}

#[test]
fn string_enum_values() {
    let c = catalog();
    let v2: Vec<&str> = c
        .enum_values(v("2.11"), "airflow.utils.trigger_rule", "TriggerRule")
        .unwrap()
        .into_iter()
        .map(|(_, value)| value)
        .collect();
    assert!(v2.contains(&"all_success") && v2.contains(&"dummy"));
    let v3: Vec<&str> = c
        .enum_values(v("3.1"), "airflow.task.trigger_rule", "TriggerRule")
        .unwrap()
        .into_iter()
        .map(|(_, value)| value)
        .collect();
    assert!(v3.contains(&"all_success") && !v3.contains(&"dummy"));
}

#[test]
fn class_deprecations_and_replacements() {
    let c = catalog();
    let d = c
        .class_deprecation(
            v("2.7"),
            "airflow.providers.databricks.operators.databricks",
            "DatabricksSubmitRunDeferrableOperator",
        )
        .unwrap();
    assert_eq!(
        d.replacement.as_deref(),
        Some("airflow.providers.databricks.operators.DatabricksSubmitRunOperator")
    );
    assert!(
        c.class_deprecation(v("3.1"), "airflow.providers.standard.operators.bash", "BashOperator")
            .is_none()
    );
}

#[test]
fn public_classes_of_a_target() {
    let c = catalog();
    let t = v("3.1");
    let bash = c
        .classes(t)
        .find(|ci| {
            ci.name == "BashOperator" && ci.module == "airflow.providers.standard.operators.bash"
        })
        .unwrap();
    assert_eq!(bash.kind, ClassKind::Operator);
    assert!(bash.required.contains("bash_command") && bash.required.contains("task_id"));
    assert!(bash.deprecated.is_none());
    let sensor = c.classes(t).find(|ci| ci.name == "FileSensor").unwrap();
    assert_eq!(sensor.kind, ClassKind::Sensor);
    assert!(c.classes(t).any(|ci| ci.name == "PostgresHook" && ci.kind == ClassKind::Hook));
    assert!(
        c.classes(t).all(|ci| !ci.name.starts_with('_') && !ci.module.contains("example_dags"))
    );
    assert!(c.classes(t).any(|ci| ci.deprecated.is_some()));
}

#[test]
fn modules_that_need_a_newer_airflow() {
    let c = catalog();
    let m = "airflow.providers.standard.operators.hitl";
    assert_eq!(c.module_info(v("2.11"), m).unwrap().requires_airflow, Some("3.1"));
    assert_eq!(c.module_info(v("3.1"), m).unwrap().requires_airflow, None);
}

#[test]
fn class_signature_reads_params_like_the_argument_checks() {
    // `name?|a|b` is an optional `name` with its allowed values; `+x`, `~x`, `=x`, `^x` and `@`
    // say what the body does with `**kwargs`, they are not parameters.
    let sig = catalog()
        .class_signature(
            v("3.1"),
            "airflow.providers.amazon.aws.operators.sagemaker",
            "SageMakerProcessingOperator",
        )
        .expect("SageMakerProcessingOperator is in the 3.1 catalog");
    let p = sig.params.iter().find(|p| p.name == "action_if_job_exists").unwrap();
    assert!(p.has_default && p.kind == ParamKind::KeywordOnly);
    assert!(sig.params.iter().all(|p| p.name.chars().all(|c| c.is_alphanumeric() || c == '_')));
}

#[test]
fn a_names_targets_are_those_where_it_can_be_imported() {
    let c = catalog();
    // Every module's classes and names, names of modules under it, dunders, and names that
    // exist nowhere: in modules with and without forwards.
    let mut checked = 0;
    for m in c.modules.iter().step_by(3) {
        let mut names: Vec<&str> = m.classes.iter().map(|x| x.name).collect();
        names.extend(m.names.iter().map(|x| x.name));
        names.extend(["__name__", "NoSuchName", "operators", "hooks", "utils"]);
        for name in names {
            let each: Vec<Target> = c
                .targets()
                .filter(|t| c.name_status(*t, &m.path, name) == NameStatus::Exists)
                .collect();
            assert_eq!(c.name_targets(&m.path, name), each, "{} {name}", m.path);
            checked += 1;
        }
    }
    assert!(checked > 10_000, "{checked}");
    assert!(c.name_targets("no.such.module", "x").is_empty());
}

#[test]
fn private_modules_are_told_by_their_segments() {
    for path in ["airflow._shared.x", "_a", "a.tests", "airflow.example_dags.x", "a.migrations.b"] {
        assert!(is_private_module(path), "{path}");
    }
    for path in ["airflow.operators.bash", "a.__init__", "a.test", "a.b_", "", "a..b", "é._"] {
        assert_eq!(is_private_module(path), path.ends_with("._"), "{path}");
    }
}
