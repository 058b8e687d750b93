//! Fuzzes the untrusted-text entry points other than `validate`: `dataset::parse_row` (one JSONL
//! line of a ChatML dataset) with every accessor of the parsed row, and `extract::extract_code` /
//! `has_fence` (markdown answers of LLMs). None may panic.
//!
//! The whole input is used both as a JSONL line and as an assistant answer: mutated JSON rows
//! rarely stay valid JSON, so the extractor also gets the raw text directly.
#![no_main]

use dagsmith_core::dataset::parse_row;
use dagsmith_core::extract::{extract_code, has_fence};
use libfuzzer_sys::fuzz_target;

fn check_extract(answer: &str) {
    let code = extract_code(answer);
    let _ = has_fence(answer);
    // The extracted code is a part of the answer (fence lines and a <think> block removed,
    // indentation of the opening fence stripped; a newline may be added at the end).
    assert!(code.len() <= answer.len() + 1, "extract_code grew the text: {answer:?} -> {code:?}");
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    check_extract(&text);

    match parse_row(&text) {
        Ok(row) => {
            let _ = row.system();
            let _ = row.instruction();
            let _ = row.airflow_version_str();
            let _ = row.airflow_version();
            if let Some(answer) = row.assistant() {
                check_extract(answer);
                assert_eq!(row.assistant_code().as_deref(), Some(extract_code(answer).as_str()));
            }
            let _ = serde_json::to_string(&row).expect("row serializes");
        }
        Err(e) => {
            assert!(e.line >= 1 && e.column >= 1, "row error position below 1:1: {e:?}");
            let _ = e.to_string();
        }
    }
});
