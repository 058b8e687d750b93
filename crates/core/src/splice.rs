//! Adding the model's definitions of missing names to a DAG file.
//!
//! The commonest reason a small model's DAG does not load is a task whose `python_callable`
//! (or `response_check`, `on_failure_callback`, ...) names a function the file never defines,
//! or defines only after the DAG uses it. Asked to repair the whole file, the model rewrites it
//! as it was; asked only for the missing definitions, it writes them. [`missing_names`] finds
//! such a file, [`insert_definitions`] puts the answer's definitions where they run before
//! the DAG: after the file's imports.

use std::collections::HashSet;

use ruff_python_ast::{Mod, Stmt};
use ruff_text_size::Ranged;

use crate::{Report, Severity, rules};

/// The undefined names that stop `report`'s file from loading, when they are all that does
/// and each looks like a function or a value (`snake_case`, not a class): a repair round then
/// asks for their definitions only. `None` otherwise.
pub fn missing_names(report: &Report) -> Option<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    for f in report.findings.iter().filter(|f| f.severity == Severity::Error) {
        if f.code != rules::UNDEFINED_NAME.code {
            return None;
        }
        // "name 'fetch_rates' is not defined (NameError while Airflow imports the file)"
        let name = f.message.strip_prefix("name '")?.split('\'').next()?;
        let snake = name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !snake {
            return None;
        }
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    (!names.is_empty()).then_some(names)
}

/// `code` with the module-level imports, functions and assignments of `answer` (Python
/// source) that define one of `names` or that those need, inserted after `code`'s leading
/// imports (and docstring). Imports already in `code` are not repeated. `None` when the
/// answer has a syntax error or defines none of the names.
pub fn insert_definitions(code: &str, answer: &str, names: &[String]) -> Option<String> {
    let parsed = crate::parse::parse_module(answer);
    if !parsed.errors().is_empty() {
        return None;
    }
    let Mod::Module(module) = parsed.syntax() else { return None };
    let existing: HashSet<&str> = code.lines().map(str::trim).collect();
    let mut imports = String::new();
    let mut definitions = String::new();
    let mut defines_one = false;
    for stmt in &module.body {
        let text = &answer[stmt.range()];
        match stmt {
            Stmt::Import(_) | Stmt::ImportFrom(_) if !existing.contains(text.trim()) => {
                imports.push_str(text);
                imports.push('\n');
            }
            Stmt::FunctionDef(def) => {
                defines_one |= names.iter().any(|n| n == def.name.as_str());
                definitions.push_str(&format!("\n\n{text}\n"));
            }
            Stmt::Assign(_) | Stmt::AnnAssign(_) => {
                let binds = |name: &str| {
                    text.split(['=', ':']).next().is_some_and(|target| target.trim() == name)
                };
                if names.iter().any(|n| binds(n)) {
                    defines_one = true;
                    definitions.push_str(&format!("\n{text}\n"));
                }
            }
            // A `with DAG(...)` block, tasks, prints: the model rewrote more than asked.
            _ => {}
        }
    }
    if !defines_one {
        return None;
    }
    let at = after_imports(code)?;
    let (head, tail) = code.split_at(at);
    let mut out = String::with_capacity(code.len() + imports.len() + definitions.len() + 4);
    out.push_str(head);
    if !head.is_empty() && !head.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&imports);
    out.push_str(&definitions);
    out.push_str("\n\n");
    out.push_str(tail.trim_start_matches('\n'));
    Some(out)
}

/// The byte offset after `code`'s docstring and leading imports (at the start of the next
/// line); 0 when the file starts with something else.
fn after_imports(code: &str) -> Option<usize> {
    let parsed = crate::parse::parse_module(code);
    let Mod::Module(module) = parsed.syntax() else { return None };
    let mut end = 0usize;
    for (i, stmt) in module.body.iter().enumerate() {
        let docstring = i == 0 && matches!(stmt, Stmt::Expr(e) if e.value.is_string_literal_expr());
        if docstring || matches!(stmt, Stmt::Import(_) | Stmt::ImportFrom(_)) {
            end = stmt.end().to_usize();
        } else {
            break;
        }
    }
    if end == 0 {
        return Some(0);
    }
    Some(code[end..].find('\n').map_or(code.len(), |i| end.saturating_add(i).saturating_add(1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AirflowVersion, ValidateOptions, validate};

    const DAG: &str = r#"from datetime import datetime

from airflow import DAG
from airflow.providers.standard.operators.python import PythonOperator

with DAG(dag_id="rates", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    fetch_rates = PythonOperator(task_id="fetch_rates", python_callable=fetch_rates)
"#;

    fn report(code: &str) -> Report {
        let version: AirflowVersion = "3.1".parse().unwrap();
        validate(code, &ValidateOptions { airflow_version: version })
    }

    #[test]
    fn an_undefined_callable_is_asked_for_and_inserted_after_the_imports() {
        let names = missing_names(&report(DAG)).unwrap();
        assert_eq!(names, ["fetch_rates"]);
        let answer = "import json\nfrom datetime import datetime\n\n\
                      def fetch_rates(**context):\n    return json.dumps({'EUR': 1.0})\n\n\
                      with DAG('x') as dag:\n    pass\n";
        let fixed = insert_definitions(DAG, answer, &names).unwrap();
        assert!(report(&fixed).loads, "{fixed}");
        // The answer's own DAG block is left out, its new import kept, the known one not repeated.
        assert_eq!(fixed.matches("with DAG").count(), 1, "{fixed}");
        assert_eq!(fixed.matches("from datetime import datetime").count(), 1, "{fixed}");
        let def = fixed.find("def fetch_rates").unwrap();
        assert!(fixed.find("import json").unwrap() < def);
        assert!(def < fixed.find("with DAG").unwrap());
    }

    #[test]
    fn other_errors_or_class_names_are_left_to_the_usual_repair() {
        let class = DAG.replace("python_callable=fetch_rates", "python_callable=FetchRates");
        assert_eq!(missing_names(&report(&class)), None);
        let syntax = format!("{DAG}\nx = (\n");
        assert_eq!(missing_names(&report(&syntax)), None);
        assert_eq!(missing_names(&report("")), None);
    }

    #[test]
    fn an_answer_without_the_definition_or_with_a_syntax_error_is_refused() {
        let names = vec!["fetch_rates".to_string()];
        assert_eq!(insert_definitions(DAG, "def other():\n    pass\n", &names), None);
        assert_eq!(insert_definitions(DAG, "def fetch_rates(:\n", &names), None);
        let value = insert_definitions(DAG, "fetch_rates = print\n", &names).unwrap();
        assert!(value.contains("\nfetch_rates = print\n"), "{value}");
    }

    #[test]
    fn a_file_without_imports_gets_the_definitions_first() {
        let code = "x = f()\n";
        let fixed = insert_definitions(code, "def f():\n    return 1\n", &["f".into()]).unwrap();
        assert!(fixed.starts_with("\n\ndef f():"), "{fixed:?}");
        assert!(fixed.ends_with("x = f()\n"), "{fixed:?}");
    }
}
