//! An instant OpenAI-compatible backend, to measure what dagsmith's client costs per request
//! (`scripts/bench-client.sh`): every chat request is answered at once with the next of the
//! given DAG files, in a markdown fence, as a model would. With `--pace-ms MS`, each token's
//! event is written on its own, MS apart (chunked), as a server that is generating them does:
//! what the client pays per packet rather than per byte.
//!
//! ```sh
//! cargo run --release -p dagsmith-remote --example mock_backend -- ../shared/corpus/finetuned
//! cargo run --release -p dagsmith-remote --example mock_backend -- --pace-ms 1 ../shared/corpus/finetuned
//! ```

mod server;

use std::path::{Path, PathBuf};

use server::{Behaviour, MockBackend};

fn main() {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let mut pace = None;
    if args.first().is_some_and(|a| a == "--pace-ms") {
        let ms = args.get(1).and_then(|a| a.to_str()).and_then(|a| a.parse::<f64>().ok());
        let Some(ms) = ms.filter(|ms| ms.is_finite() && *ms >= 0.0) else {
            eprintln!("mock_backend: --pace-ms needs a number of milliseconds");
            std::process::exit(2);
        };
        pace = Some(std::time::Duration::from_secs_f64(ms / 1000.0));
        args.drain(..2);
    }
    let paths: Vec<PathBuf> = args.into_iter().map(PathBuf::from).collect();
    if paths.is_empty() {
        eprintln!("usage: mock_backend [--pace-ms MS] FILE.py|DIR...   (answers, served in turn)");
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
    let mut mock = MockBackend::start(Behaviour::Answer, Vec::new(), answers).without_records();
    if let Some(pace) = pace {
        mock = mock.paced(pace);
    }
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
