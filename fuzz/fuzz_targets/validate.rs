//! Fuzzes `dagsmith_core::validate`, which must never panic (nor hang) whatever the input, and
//! checks the invariants every report must satisfy.
//!
//! Input layout: byte 0 picks the target Airflow version (`byte % 4`: 2.7, 2.11, 3.0, 3.1 — the
//! ASCII digits `0`..`3` pick them in that order, which keeps seed files readable); the rest is
//! the Python source. Invalid UTF-8 is converted lossily (U+FFFD), as the CLI would never hand
//! such bytes over but a mutated seed is still mostly Python worth validating.
#![no_main]

use dagsmith_core::{AirflowVersion, Severity, ValidateOptions, validate};
use libfuzzer_sys::fuzz_target;

const VERSIONS: [AirflowVersion; 4] = [
    AirflowVersion::new(2, 7, None),
    AirflowVersion::new(2, 11, None),
    AirflowVersion::new(3, 0, None),
    AirflowVersion::new(3, 1, None),
];

/// Lines as `LineIndex` counts them: `\n`, `\r\n` and a lone `\r` each end a line.
fn line_count(source: &str) -> u32 {
    let bytes = source.as_bytes();
    let mut n = 1u32;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            n += 1;
        }
    }
    n
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let version = VERSIONS[usize::from(selector % 4)];
    let source = String::from_utf8_lossy(rest);
    let options = ValidateOptions { airflow_version: version };

    let report = validate(&source, &options);

    assert_eq!(report.airflow_version, version.to_string());
    let lines = line_count(&source);
    let mut has_error = false;
    for f in &report.findings {
        // File-level findings (e.g. DS101 "this file creates no DAG") use the empty range at
        // offset 0, i.e. line 1 column 1: no finding is ever on line 0.
        assert!(f.line >= 1 && f.column >= 1, "finding starts before 1:1: {f:?}");
        assert!(f.end_line >= 1 && f.end_column >= 1, "finding ends before 1:1: {f:?}");
        assert!(
            (f.end_line, f.end_column) >= (f.line, f.column),
            "finding ends before it starts: {f:?}"
        );
        assert!(f.end_line <= lines, "finding ends past the last line ({lines}): {f:?}");
        assert!(!f.code.is_empty() && !f.message.is_empty(), "finding without code/message: {f:?}");
        has_error |= f.severity == Severity::Error;
    }
    // `findings` is documented as sorted by position, then code.
    assert!(
        report.findings.windows(2).all(|w| (w[0].line, w[0].column, w[0].code)
            <= (w[1].line, w[1].column, w[1].code)),
        "findings not sorted: {:?}",
        report.findings
    );
    // An error-severity finding means Airflow refuses the file; and a refusal always comes with
    // at least one error to show (syntax errors are DS001, severity error).
    if has_error {
        assert!(!report.loads, "loads == true despite an error finding: {:?}", report.findings);
    } else {
        assert!(report.loads, "loads == false without any error finding: {:?}", report.findings);
    }
    for dag in &report.dags {
        assert!(dag.line >= 1 && dag.line <= lines, "DAG line out of range: {dag:?}");
    }

    // The report is what the CLI, the server and the browser app serialize.
    let json = serde_json::to_string(&report).expect("report serializes");
    assert!(!json.is_empty());
});
