//! What every fuzz target asserts about one `validate()` call: it returns (no panic), within the
//! time cap, with a report that satisfies the invariants the CLI, the server and the playground
//! rely on.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use dagsmith_core::{AirflowVersion, Report, Severity, ValidateOptions, validate};

/// The versions byte 0 of an input picks (`byte % 4`: the digits `0`..`3` pick them in order).
pub const VERSIONS: [AirflowVersion; 4] = [
    AirflowVersion::new(2, 7, None),
    AirflowVersion::new(2, 11, None),
    AirflowVersion::new(3, 0, None),
    AirflowVersion::new(3, 1, None),
];

/// The cap in a native release build is 50 ms per file (issue 12). Fuzz builds run under
/// AddressSanitizer, coverage instrumentation and debug assertions, measured ~30 times slower on
/// the slowest inputs (docs/VALIDATION.md, "Fuzzing"), so 50 ms × 30. The native replay after
/// each run (`replay`) checks the real cap. `DAGSMITH_FUZZ_SLOW_MS` overrides.
const DEFAULT_SLOW_MS: u64 = 1500;

fn slow_limit() -> Duration {
    static LIMIT: OnceLock<Duration> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        let ms = std::env::var("DAGSMITH_FUZZ_SLOW_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_SLOW_MS);
        Duration::from_millis(ms)
    })
}

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

/// Validates `source` for the version `selector` picks and checks the result.
pub fn validate_checked(selector: u8, source: &str) {
    let version = VERSIONS[usize::from(selector % 4)];
    let options = ValidateOptions { airflow_version: version };

    let start = Instant::now();
    let report = validate(source, &options);
    let mut elapsed = start.elapsed();
    if elapsed > slow_limit() {
        // A busy machine can stall one call: the fastest of three decides.
        for _ in 0..2 {
            let start = Instant::now();
            drop(validate(source, &options));
            elapsed = elapsed.min(start.elapsed());
        }
        assert!(
            elapsed <= slow_limit(),
            "validate() took {} ms, over the fuzz build's cap of {} ms ({} bytes of source)",
            elapsed.as_millis(),
            slow_limit().as_millis(),
            source.len()
        );
    }
    check_report(&report, source, version);
}

/// The invariants of one report (panics when one does not hold).
pub fn check_report(report: &Report, source: &str, version: AirflowVersion) {
    assert_eq!(report.airflow_version, version.to_string());
    let lines = line_count(source);
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
        report
            .findings
            .windows(2)
            .all(|w| (w[0].line, w[0].column, w[0].code) <= (w[1].line, w[1].column, w[1].code)),
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
    let json = serde_json::to_string(report).expect("report serializes");
    assert!(!json.is_empty());
}
