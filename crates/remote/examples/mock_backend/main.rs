//! An instant OpenAI-compatible backend, to measure what dagsmith's client costs per request
//! (`scripts/bench-client.sh`): every chat request is answered at once with the next of the
//! given DAG files, in a markdown fence, as a model would.
//!
//! ```sh
//! cargo run --release -p dagsmith-remote --example mock_backend -- ../shared/corpus/finetuned
//! ```

mod server;

use std::path::{Path, PathBuf};

use server::{Behaviour, MockBackend};

fn main() {
    let paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        eprintln!("usage: mock_backend FILE.py|DIR...   (answers, served in turn)");
        std::process::exit(2);
    }
    let mut files = Vec::new();
    for p in &paths {
        collect(p, &mut files);
    }
    files.sort();
    let answers: Vec<String> = files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .map(|code| format!("```python\n{}\n```", code.trim_end()))
        .collect();
    if answers.is_empty() {
        eprintln!("mock_backend: no readable .py file under the paths given");
        std::process::exit(2);
    }
    let count = answers.len();
    let mock = MockBackend::start(Behaviour::Answer, Vec::new(), answers).without_records();
    // The script waits for this line.
    println!("{}", mock.url);
    eprintln!("mock_backend: {count} answers, listening on {}", mock.url);
    loop {
        std::thread::park();
    }
}

fn collect(path: &Path, files: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
            collect(&entry.path(), files);
        }
    } else if path.extension().is_some_and(|e| e == "py") {
        files.push(path.to_path_buf());
    }
}
