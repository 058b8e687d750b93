//! Fuzzes `dagsmith_core::fix::fix_source`, which must never panic whatever the input, and checks
//! what every outcome promises: its report is the report of its source, the source is unchanged
//! when no fix was kept, every fix a report offers applies cleanly to the source it was reported
//! for, and fixing never makes a loading file fail.
//!
//! Input layout as the `validate` target: byte 0 picks the Airflow version, the rest is the source.
#![no_main]

use dagsmith_core::fix::{FixMode, apply_edits, fix_source};
use dagsmith_core::{AirflowVersion, ValidateOptions, validate};
use libfuzzer_sys::fuzz_target;

const VERSIONS: [AirflowVersion; 4] = [
    AirflowVersion::new(2, 7, None),
    AirflowVersion::new(2, 11, None),
    AirflowVersion::new(3, 0, None),
    AirflowVersion::new(3, 1, None),
];

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let options = ValidateOptions { airflow_version: VERSIONS[first as usize % VERSIONS.len()] };
    let source = String::from_utf8_lossy(rest);
    let before = validate(&source, &options);
    for f in &before.findings {
        if let Some(fix) = &f.autofix {
            apply_edits(&source, &fix.edits).expect("a reported fix applies to its source");
        }
    }
    let outcome = fix_source(&source, &options, FixMode::SafeAndUnsafe);
    assert_eq!(outcome.report, validate(&outcome.source, &options), "report of another source");
    if outcome.applied.is_empty() {
        assert_eq!(outcome.source, source, "changed without a kept fix");
    }
    assert!(!before.loads || outcome.report.loads, "a fix made a loading file fail");
});
