//! Fuzzes `dagsmith_core::validate` with libFuzzer's byte-level mutations of real DAG files: it
//! must never panic, stay under the time cap, and return a consistent report (`check`).
//!
//! Input layout: byte 0 picks the target Airflow version (`byte % 4`: 2.7, 2.11, 3.0, 3.1 — the
//! ASCII digits `0`..`3` pick them in that order, which keeps seed files readable); the rest is
//! the Python source. Invalid UTF-8 is converted lossily (U+FFFD), as the CLI would never hand
//! such bytes over but a mutated seed is still mostly Python worth validating.
#![no_main]

use dagsmith_fuzz::check::validate_checked;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    validate_checked(selector, &String::from_utf8_lossy(rest));
});
