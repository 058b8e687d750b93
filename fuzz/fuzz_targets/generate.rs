//! Fuzzes `dagsmith_core::validate` with Python written by a DAG-file grammar (`grammar`): byte 0
//! picks the Airflow version as in the `validate` target, the rest drives the generator, so
//! libFuzzer's byte mutations become structural changes (another operator, a bigger integer,
//! one more level of nesting).
#![no_main]

use arbitrary::Unstructured;
use dagsmith_fuzz::check::validate_checked;
use dagsmith_fuzz::grammar;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let Ok(source) = grammar::module(&mut Unstructured::new(rest)) else { return };
    validate_checked(selector, &source);
});
