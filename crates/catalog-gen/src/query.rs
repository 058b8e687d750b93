//! `dagsmith-catalog-gen query [CATALOG]`: answers import queries from stdin with the catalog
//! API (used by `corpus_check.py`). Each input line: `ID<TAB>AIRFLOW_VERSION<TAB>MODULE<TAB>NAME`
//! (NAME empty for `import MODULE`); each output line: `ID<TAB>VERDICT` with VERDICT one of
//! `ok`, `unknown` (module attributes not listable), `no-module`, `no-name`,
//! `older-provider` (only in an older release of the provider).

use std::io::{BufRead, Write};

use dagsmith_core::AirflowVersion;
use dagsmith_core::catalog::{self, Catalog, ModuleStatus, NameStatus};

pub fn run(catalog_file: Option<&str>) {
    let cat: &Catalog = match catalog_file {
        Some(path) => {
            let text: &'static str =
                Box::leak(std::fs::read_to_string(path).expect("catalog file").into_boxed_str());
            Box::leak(Box::new(Catalog::parse(text).expect("valid catalog")))
        }
        None => catalog::catalog(),
    };
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout());
    for line in stdin.lock().lines() {
        let line = line.expect("stdin");
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 4 {
            continue;
        }
        let version: AirflowVersion = match f[1].parse() {
            Ok(v) => v,
            Err(_) => continue,
        };
        let t = cat.target_for(version);
        let verdict = if f[3].is_empty() {
            match cat.module_exists(t, f[2]) {
                ModuleStatus::Exists => "ok",
                ModuleStatus::Missing => "no-module",
                ModuleStatus::InOlderProvider => "older-provider",
            }
        } else {
            match cat.name_status(t, f[2], f[3]) {
                NameStatus::Exists => "ok",
                NameStatus::Unknown => "unknown",
                NameStatus::Missing => "no-name",
                NameStatus::ModuleMissing => "no-module",
                NameStatus::InOlderProvider => "older-provider",
            }
        };
        writeln!(out, "{}\t{}", f[0], verdict).unwrap();
    }
}
