//! Parser-only throughput over a directory tree, to compare `validate` against its floor:
//! `cargo run --release -p dagsmith-core --example parse_speed -- DIR [--fix]` (5 timed passes
//! of each after an untimed one); with `--fix` also `fix_source` (safe fixes: one `validate`,
//! plus one per fix tried). `validate` starts each pass without the searches it remembers, as
//! a fresh process would; `validate warm` keeps them, as one long batch or a server does.
use std::time::Instant;

fn collect(dir: &std::path::Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|e| e == "py")
            && let Ok(s) = std::fs::read_to_string(&p)
        {
            out.push(s);
        }
    }
}

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "../shared/corpus".into());
    let with_fix = std::env::args().any(|a| a == "--fix");
    let mut files = Vec::new();
    collect(std::path::Path::new(&dir), &mut files);
    let bytes: usize = files.iter().map(|f| f.len()).sum();
    let opts = ruff_python_parser::ParseOptions::from(ruff_python_parser::Mode::Module);
    for (label, run) in [
        (
            "parse only",
            &(|s: &str| drop(ruff_python_parser::parse_unchecked(s, opts.clone())))
                as &dyn Fn(&str),
        ),
        ("validate", &|s: &str| {
            drop(dagsmith_core::validate(s, &dagsmith_core::ValidateOptions::default()))
        }),
        ("validate warm", &|s: &str| {
            drop(dagsmith_core::validate(s, &dagsmith_core::ValidateOptions::default()))
        }),
        ("fix (safe)", &|s: &str| {
            drop(dagsmith_core::fix::fix_source(
                s,
                &dagsmith_core::ValidateOptions::default(),
                dagsmith_core::fix::FixMode::Safe,
            ))
        }),
    ] {
        if label.starts_with("fix") && !with_fix {
            continue;
        }
        // One untimed pass first: the first validate() loads the embedded catalog (~15 ms),
        // which `dagsmith bench validate` leaves to its warm-up pass too.
        for f in &files {
            run(f);
        }
        let start = Instant::now();
        let passes = 5;
        for _ in 0..passes {
            // As a fresh process would: no import checks remembered from the pass before.
            if !label.ends_with("warm") {
                dagsmith_core::forget_memos();
            }
            for f in &files {
                run(f);
            }
        }
        let secs = start.elapsed().as_secs_f64();
        let n = (files.len() * passes) as f64;
        println!(
            "{label:>13}: {} files, {:.0} files/s, {:.1} MB/s",
            files.len(),
            n / secs,
            (bytes * passes) as f64 / secs / 1e6
        );
    }
}
