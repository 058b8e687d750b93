//! Replays fuzz inputs in a native release build: the 50 ms cap of issue 12 holds for a release
//! build, not for the instrumented fuzz binaries, so `scripts/fuzz.sh` ends every run by timing
//! the inputs the fuzzer kept here.
//!
//!   replay TARGET [--max-ms N] [--python DIR] PATH...
//!
//! TARGET says how an input becomes Python: `validate` and `mutate` inputs are a version byte and
//! the source, `generate` inputs drive the grammar. PATHs are files or directories (not
//! recursive). Each input is validated three times; the fastest counts, and every report must
//! pass the fuzz targets' checks (`check::check_report`; a failure panics). Prints the slowest
//! inputs and exits 1 when one is over `--max-ms` (default 50). `--python DIR` writes each input
//! as a version byte plus its Python source (the layout of fuzz/regressions/) into DIR.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use arbitrary::Unstructured;
use dagsmith_core::{ValidateOptions, validate};
use dagsmith_fuzz::check::{VERSIONS, check_report};
use dagsmith_fuzz::grammar;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(target) = args.next() else {
        eprintln!("usage: replay TARGET [--max-ms N] [--python DIR] PATH...");
        return ExitCode::from(2);
    };
    let mut max = Duration::from_millis(50);
    let mut python_dir: Option<PathBuf> = None;
    let mut files = Vec::new();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--max-ms" => match args.next().and_then(|v| v.parse().ok()) {
                Some(ms) => max = Duration::from_millis(ms),
                None => {
                    eprintln!("--max-ms needs a number of milliseconds");
                    return ExitCode::from(2);
                }
            },
            "--python" => python_dir = args.next().map(PathBuf::from),
            path => {
                let path = PathBuf::from(path);
                match std::fs::read_dir(&path) {
                    Ok(entries) => files.extend(
                        entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()),
                    ),
                    Err(_) if path.is_file() => files.push(path),
                    Err(e) => {
                        eprintln!("{}: {e}", path.display());
                        return ExitCode::from(2);
                    }
                }
            }
        }
    }
    files.sort();
    let mut timed: Vec<(Duration, PathBuf, usize)> = Vec::new();
    for path in &files {
        let Ok(bytes) = std::fs::read(path) else {
            eprintln!("cannot read {}", path.display());
            return ExitCode::from(2);
        };
        let Some((&selector, rest)) = bytes.split_first() else { continue };
        let source = match target.as_str() {
            "generate" => match grammar::module(&mut Unstructured::new(rest)) {
                Ok(s) => s,
                Err(_) => continue,
            },
            _ => String::from_utf8_lossy(rest).into_owned(),
        };
        if let Some(dir) = &python_dir {
            let name = path.file_name().map(|n| n.to_owned()).unwrap_or_default();
            let mut out = vec![b'0' + selector % 4];
            out.extend_from_slice(source.as_bytes());
            if let Err(e) =
                std::fs::create_dir_all(dir).and_then(|()| std::fs::write(dir.join(name), out))
            {
                eprintln!("{}: {e}", dir.display());
                return ExitCode::from(2);
            }
        }
        let version = VERSIONS[usize::from(selector % 4)];
        let options = ValidateOptions { airflow_version: version };
        let mut best = Duration::MAX;
        for _ in 0..3 {
            let start = Instant::now();
            let report = std::hint::black_box(validate(&source, &options));
            best = best.min(start.elapsed());
            // The same invariants as in the fuzz targets: a crash reproduces here too.
            check_report(&report, &source, version);
        }
        timed.push((best, path.clone(), source.len()));
    }
    timed.sort_by(|a, b| b.0.cmp(&a.0));
    let total: Duration = timed.iter().map(|t| t.0).sum();
    println!(
        "replayed {} {target} inputs natively: {:.3} s in all (fastest of 3 runs each); slowest:",
        timed.len(),
        total.as_secs_f64()
    );
    for (d, path, len) in timed.iter().take(5) {
        println!("  {:>9.3} ms  {:>7} B  {}", d.as_secs_f64() * 1e3, len, path.display());
    }
    let over: Vec<_> = timed.iter().filter(|t| t.0 > max).collect();
    if over.is_empty() {
        println!("none over {} ms", max.as_millis());
        ExitCode::SUCCESS
    } else {
        println!("{} over {} ms", over.len(), max.as_millis());
        ExitCode::FAILURE
    }
}
