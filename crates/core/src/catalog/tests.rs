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
