//! Validating an open document the way `dagsmith validate` validates the file: the nearest
//! settings file's target version and rule selection, then `# noqa` comments.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use dagsmith_config::{ConfigError, Discovery, Overrides, resolve};
use dagsmith_core::{AirflowVersion, Report, ValidateOptions, noqa, validate};

use crate::document::Document;

/// The outcome of validating one version of a document.
#[derive(Clone, Debug)]
pub struct Checked {
    /// Empty of findings when the document is not a DAG file.
    pub report: Report,
    /// The target Airflow version it was checked for.
    pub version: AirflowVersion,
}

/// Airflow's own test (DagBag's safe mode) for a file that may hold a DAG: it mentions both
/// `airflow` and `dag`, in any case. Other Python files get no diagnostics.
pub fn looks_like_dag(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.contains("airflow") && lower.contains("dag")
}

/// Validates `doc` with the settings that apply to it: those above its file, or, for a
/// document that is not a file, those of `workspace`. A settings file that cannot be used is
/// returned beside a check with the defaults.
pub fn check(doc: &Document, workspace: &Path) -> (Checked, Option<ConfigError>) {
    let mut discovery = Discovery::new(workspace.to_path_buf());
    let found = match &doc.path {
        Some(path) => discovery.for_file(path),
        None => discovery.for_directory(workspace),
    };
    let (settings, error) = match found {
        Ok(settings) => (settings, None),
        Err(e) => (None, Some(e)),
    };
    let file_settings = resolve(settings.as_deref(), &Overrides::default(), doc.path.as_deref());
    let version = file_settings.airflow_version.unwrap_or(AirflowVersion::DEFAULT);
    let mut report = if doc.is_python() && looks_like_dag(&doc.text) {
        let options = ValidateOptions { airflow_version: version };
        catch_unwind(AssertUnwindSafe(|| validate(&doc.text, &options))).unwrap_or_else(|_| {
            // validate() never panics by contract; should it ever, the editor keeps working.
            eprintln!("dagsmith lsp: the validator crashed on {}", doc.uri.as_str());
            empty(version)
        })
    } else {
        empty(version)
    };
    noqa::apply(&doc.text, &mut report);
    file_settings.selection.apply(&mut report);
    (Checked { report, version }, error)
}

fn empty(version: AirflowVersion) -> Report {
    Report {
        airflow_version: version.to_string(),
        loads: true,
        dags: Vec::new(),
        findings: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dag_heuristic_is_airflows() {
        assert!(looks_like_dag("from airflow import DAG"));
        assert!(looks_like_dag("import Airflow\n# my dag"));
        assert!(!looks_like_dag("import os\nprint('dag')"));
        assert!(!looks_like_dag("import airflow_client"));
    }
}
