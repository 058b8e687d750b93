//! Inputs the fuzzer (fuzz/, docs/VALIDATION.md#fuzzing) found slow or crashing, replayed
//! here so they stay fixed. Byte 0 picks the Airflow version, as in the fuzz target.
//! Speed is tracked by the benchmarks, not asserted here.

use std::path::Path;

use dagsmith_core::{AirflowVersion, Severity, ValidateOptions, validate};

const VERSIONS: [&str; 4] = ["2.7", "2.11", "3.0", "3.1"];

#[test]
fn fuzz_regressions_validate_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_none())
        .collect();
    entries.sort();
    assert!(!entries.is_empty(), "no regression inputs in {}", dir.display());
    for path in entries {
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let Some((&first, rest)) = bytes.split_first() else { continue };
        let version: AirflowVersion = VERSIONS[first as usize % 4].parse().unwrap();
        let source = String::from_utf8_lossy(rest);
        let report = validate(&source, &ValidateOptions { airflow_version: version });
        let has_error = report.findings.iter().any(|f| f.severity == Severity::Error);
        assert_eq!(report.loads, !has_error, "{}", path.display());
        assert!(report.findings.iter().all(|f| f.line >= 1 && f.column >= 1), "{}", path.display());
    }
}

#[test]
fn deep_nesting_is_refused_like_cpython() {
    let source = format!("x = {}{}\n", "[".repeat(201), "]".repeat(201));
    let report = validate(&source, &ValidateOptions::default());
    assert!(!report.loads);
    assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
    assert_eq!(report.findings[0].code, "DS001");
    assert!(report.findings[0].message.contains("too many nested parentheses"));
    // 200 levels are still fine for CPython.
    let source = format!("x = {}{}\n", "[".repeat(200), "]".repeat(200));
    let report = validate(&source, &ValidateOptions::default());
    assert!(report.findings.iter().all(|f| f.code != "DS001"), "{:?}", report.findings);
}
