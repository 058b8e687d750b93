//! The repetition guard on real text: the 845 labelled files of `../shared/corpus` (human-written
//! example DAGs, and answers of a fine-tuned model, some of which looped until their token cap).
//! No file that Airflow loads may look like a loop, and exactly the answers that looped are
//! caught, before their end.

use std::collections::BTreeMap;
use std::path::Path;

use dagsmith_engine::RepetitionGuard;

const CORPUS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");

/// The corpus files the guard stops, each read by hand: all are answers that ran to the model's
/// cap in a loop.
const LOOPS: &[&str] = &[
    "finetuned/0013.py", // "0110011101100111…" for 3,000 characters
    "finetuned/0202.py", // the same JSON objects over and over, in varying order
    "finetuned/0274.py", // "endif" / "if" / set(...) blocks cycling through a few keys
    "finetuned/0275.py", // delete_delete_... operators, recombined
    "finetuned/0302.py", // the same few tasks, recombined
    "finetuned/0306.py", // `>> dag.children[N]` counting to 416
    "finetuned/0325.py", // kafka_to_csv(kafka_to_csv(kafka_to_csv(…
];

/// Where the guard fired: (characters read, characters in the file).
fn first_loop(text: &str) -> Option<(usize, usize)> {
    let mut guard = RepetitionGuard::default();
    // Pieces of about a token's size.
    let chars: Vec<char> = text.chars().collect();
    for (i, piece) in chars.chunks(4).enumerate() {
        if guard.push(&piece.iter().collect::<String>()).is_some() {
            return Some(((i * 4 + piece.len()), chars.len()));
        }
    }
    None
}

#[test]
fn the_guard_stops_only_runaway_answers_of_the_corpus() {
    let labels = std::fs::read_to_string(Path::new(CORPUS_DIR).join("labels.jsonl"))
        .unwrap_or_else(|e| panic!("the labelled corpus is missing ({e}): it lives in ../shared"));
    // file -> loads in some labelled Airflow environment
    let mut loads: BTreeMap<String, bool> = BTreeMap::new();
    for row in labels.lines() {
        let row: serde_json::Value = serde_json::from_str(row).expect("a JSON label row");
        let file = row["file"].as_str().expect("file").trim_start_matches("corpus/").to_string();
        let ok = row["airflow_loads_ok"].as_bool().expect("airflow_loads_ok");
        *loads.entry(file).or_insert(false) |= ok;
    }
    assert!(loads.len() > 800, "{} labelled files", loads.len());

    let mut found = Vec::new();
    for (file, loads) in &loads {
        let bytes = std::fs::read(Path::new(CORPUS_DIR).join(file)).expect("a corpus file");
        let text = String::from_utf8_lossy(&bytes);
        if let Some((at, of)) = first_loop(&text) {
            assert!(
                !loads,
                "{file} loads in Airflow but was taken for a loop at {at} of {of} chars"
            );
            found.push((file.as_str(), at, of));
        }
    }
    let names: Vec<&str> = found.iter().map(|f| f.0).collect();
    assert_eq!(names, LOOPS, "files taken for loops (file, at char, of chars): {found:?}");
    for (file, at, of) in found {
        assert!(at * 10 < of * 9, "{file}: found only at character {at} of {of}");
    }
}
