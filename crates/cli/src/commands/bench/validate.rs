//! `dagsmith bench validate`: how fast `validate()` is.
//!
//! Reading files, parsing dataset rows and extracting code all happen before the clock starts.
//! Each `validate()` call is timed on its own (`Instant` around the call, the returned report
//! kept alive until after the clock stops); throughput is computed from the wall time of the
//! timed passes.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use dagsmith_core::{
    AirflowVersion, Stage, ValidateOptions, forget_memos, parse_only, record_stages,
    take_stage_times, validate,
};
use serde_json::json;

use crate::commands::bench::BenchArgs;
use crate::commands::validate::WORKER_STACK;
use crate::exit;
use crate::inputs::{self, Item, Job};
use crate::output::{self, Written};

pub const EXAMPLES: &str = "\
Examples:
  dagsmith bench validate                          the shared corpus (../shared/corpus)
  dagsmith bench validate dags/ --repeat 10
  dagsmith bench validate corpus/ --threads 4 --json
  dagsmith bench validate corpus/ --parse-only     the parser's floor, to divide by
  dagsmith bench validate corpus/ --against-parse  both, pass by pass: validate ÷ parse

Reports files/s, MB/s (10^6 bytes of source), mean, p50 and p99 time per file, the slowest
files (each file's fastest pass, so that a busy machine does not pick them), and the findings of
one pass. Only validate() is timed. With --against-parse each timed pass of validate() is paired
with a pass of the parser alone, in turn before and after it, and the ratio of the pair's times
is reported (median and range): a busy or throttled machine slows both sides of a pair alike.";

/// How many of the slowest files are listed.
const SLOWEST: usize = 5;

const DEFAULT_CORPUS: &str = "../shared/corpus";

pub fn run(args: BenchArgs) -> u8 {
    let paths = if args.paths.is_empty() {
        let default = PathBuf::from(DEFAULT_CORPUS);
        if !default.is_dir() {
            output::error(&format!(
                "no PATH given and the default corpus {DEFAULT_CORPUS} does not exist here; \
                 name the files or directories to benchmark"
            ));
            return exit::ERROR;
        }
        vec![default]
    } else {
        args.paths.clone()
    };
    let options = inputs::Options {
        explicit_version: args.airflow_version,
        extract: false,
        report_errors: false,
    };
    let (items, _) = inputs::collect(&paths, &options);
    let mut jobs: Vec<Job> = Vec::new();
    let mut skipped = 0usize;
    let mut unreadable_paths = Vec::new();
    for item in items {
        match item {
            Item::Job(job) if job.undecodable.is_none() => jobs.push(job),
            Item::Job(_) => skipped += 1,
            Item::Failed(entry) if entry.row.is_some() => skipped += 1,
            Item::Failed(entry) => unreadable_paths.push(entry.file),
        }
    }
    for path in &unreadable_paths {
        output::error(&format!("cannot read {path}"));
    }
    if !unreadable_paths.is_empty() {
        return exit::ERROR;
    }
    if jobs.is_empty() {
        output::error("nothing to benchmark: no .py files or dataset rows found");
        return exit::ERROR;
    }
    if skipped > 0 {
        output::warning(&format!(
            "skipped {skipped} inputs that are not validatable (e.g. JSONL rows that are not ChatML dataset rows)"
        ));
    }

    let plan = Plan {
        repeats: args.repeat as usize,
        warmup: args.warmup as usize,
        threads: args.threads as usize,
        warm: args.warm,
        timed: if args.parse_only { parse_timed } else { validate_timed },
        floor: args.against_parse.then_some(parse_timed as Timed),
        stages: args.stages,
    };
    // On a thread with the same large stack as `dagsmith validate` uses.
    let result = thread::scope(|scope| {
        thread::Builder::new()
            .stack_size(WORKER_STACK)
            .spawn_scoped(scope, || measure(&jobs, &plan))
            .map_err(|e| format!("cannot start the benchmark thread: {e}"))
            .and_then(|h| h.join().map_err(|_| "the benchmark thread crashed".to_string())?)
    });
    let result = match result {
        Ok(r) => r,
        Err(message) => {
            output::error(&message);
            return exit::ERROR;
        }
    };
    let text = if args.json {
        let mut s =
            serde_json::to_string_pretty(&result.to_json(&paths, &args)).unwrap_or_default();
        s.push('\n');
        s
    } else {
        result.to_text(&paths, &args)
    };
    match output::stdout(&text) {
        Written::Ok | Written::BrokenPipe => exit::OK,
        Written::Failed => exit::ERROR,
    }
}

struct BenchResult {
    files: usize,
    bytes: usize,
    repeats: usize,
    threads: usize,
    /// Wall time of all timed passes.
    wall: Duration,
    /// One duration per timed validate() call.
    per_file: Vec<Duration>,
    /// The slowest inputs: (fastest timed pass, file, row), slowest first.
    slowest: Vec<(Duration, String, Option<usize>)>,
    /// Findings of one pass.
    findings: usize,
    loads: usize,
    /// With a floor (`--against-parse`): each timed pass's wall time, and its paired floor
    /// pass's.
    pairs: Vec<(Duration, Duration)>,
    /// With `--stages`: each stage's time over all timed passes (all threads together).
    stages: Vec<(Stage, Duration)>,
}

/// One input timed: (time, findings or syntax errors, loads or parses cleanly).
type Timed = fn(&Job) -> (Duration, usize, bool);

fn parse_timed(job: &Job) -> (Duration, usize, bool) {
    let start = Instant::now();
    let errors = parse_only(black_box(&job.source));
    let elapsed = start.elapsed();
    let errors = black_box(errors);
    (elapsed, errors, errors == 0)
}

fn validate_timed(job: &Job) -> (Duration, usize, bool) {
    let options = ValidateOptions { airflow_version: job.version };
    let start = Instant::now();
    let report = validate(black_box(&job.source), black_box(&options));
    let elapsed = start.elapsed();
    let report = black_box(report);
    (elapsed, report.findings.len(), report.loads)
}

/// How to time the inputs.
struct Plan {
    repeats: usize,
    warmup: usize,
    threads: usize,
    /// Keep the searches validate() remembers from one pass to the next.
    warm: bool,
    timed: Timed,
    /// Paired with each timed pass (`--against-parse`).
    floor: Option<Timed>,
    /// Add up validate()'s stages (`--stages`).
    stages: bool,
}

/// Stage recording (`--stages`) for as long as it lives: it stops however `measure` returns,
/// error included, so later validate() calls do not keep reading the clock.
struct StageRecording;

impl StageRecording {
    fn start(on: bool) -> StageRecording {
        record_stages(on);
        StageRecording
    }
}

impl Drop for StageRecording {
    fn drop(&mut self) {
        record_stages(false);
    }
}

fn measure(jobs: &[Job], plan: &Plan) -> Result<BenchResult, String> {
    let Plan { repeats, warmup, threads, warm, timed, floor, stages } = *plan;
    let bytes = jobs.iter().map(|j| j.source.len()).sum();
    let _recording = StageRecording::start(stages);
    for _ in 0..warmup {
        for job in jobs {
            black_box(timed(job));
            if let Some(floor) = floor {
                black_box(floor(job));
            }
        }
    }
    let mut per_file = Vec::with_capacity(jobs.len() * repeats);
    let mut best = vec![Duration::MAX; jobs.len()];
    let mut findings = 0;
    let mut loads = 0;
    let mut wall = Duration::ZERO;
    let threads = threads.clamp(1, jobs.len());
    let mut pairs = Vec::new();
    // The warm-up's stages are not the timed passes'.
    take_stage_times();
    for pass in 0..repeats {
        // The floor's pass goes first in even pairs, second in odd ones: neither side always
        // follows the other.
        let floor_wall = |run: bool| -> Result<Option<Duration>, String> {
            match floor {
                Some(floor) if run => {
                    let start = Instant::now();
                    black_box(run_pass(jobs, threads, floor)?);
                    Ok(Some(start.elapsed()))
                }
                _ => Ok(None),
            }
        };
        let before = floor_wall(pass % 2 == 0)?;
        // Unless --warm, each timed pass starts as a fresh process would, without the imports a
        // pass before it checked (validate() remembers them: a real run meets the same imports
        // often).
        if !warm {
            forget_memos();
        }
        let start = Instant::now();
        let results = run_pass(jobs, threads, timed)?;
        let elapsed = start.elapsed();
        wall += elapsed;
        let after = floor_wall(pass % 2 == 1)?;
        if let Some(f) = before.or(after) {
            pairs.push((elapsed, f));
        }
        if pass == 0 {
            findings = results.iter().map(|r| r.1).sum();
            loads = results.iter().filter(|r| r.2).count();
        }
        // Results come back in job order, whatever the threads.
        for (b, r) in best.iter_mut().zip(&results) {
            *b = (*b).min(r.0);
        }
        per_file.extend(results.into_iter().map(|r| r.0));
    }
    let stages = if stages { take_stage_times() } else { Vec::new() };
    per_file.sort_unstable();
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by(|&a, &b| best[b].cmp(&best[a]));
    let slowest = order
        .into_iter()
        .take(SLOWEST)
        .map(|i| (best[i], jobs[i].file.clone(), jobs[i].row))
        .collect();
    Ok(BenchResult {
        files: jobs.len(),
        bytes,
        repeats,
        threads,
        wall,
        per_file,
        slowest,
        findings,
        loads,
        pairs,
        stages,
    })
}

/// One pass over every input, on `threads` threads; the results in input order.
fn run_pass(
    jobs: &[Job],
    threads: usize,
    timed: Timed,
) -> Result<Vec<(Duration, usize, bool)>, String> {
    if threads == 1 {
        return Ok(jobs.iter().map(timed).collect());
    }
    let chunk = jobs.len().div_ceil(threads);
    thread::scope(|scope| {
        let mut handles = Vec::new();
        for part in jobs.chunks(chunk) {
            let handle = thread::Builder::new()
                .stack_size(WORKER_STACK)
                .spawn_scoped(scope, move || part.iter().map(timed).collect::<Vec<_>>())
                .map_err(|e| format!("cannot start a benchmark thread: {e}"))?;
            handles.push(handle);
        }
        let mut all = Vec::with_capacity(jobs.len());
        for handle in handles {
            all.extend(handle.join().map_err(|_| "a benchmark thread crashed")?);
        }
        Ok::<_, String>(all)
    })
}

impl BenchResult {
    fn percentile(&self, p: f64) -> Duration {
        if self.per_file.is_empty() {
            return Duration::ZERO;
        }
        // Nearest rank.
        let rank = ((p / 100.0) * self.per_file.len() as f64).ceil() as usize;
        self.per_file[rank.clamp(1, self.per_file.len()) - 1]
    }

    fn calls(&self) -> usize {
        self.files * self.repeats
    }

    fn files_per_s(&self) -> f64 {
        self.calls() as f64 / self.wall.as_secs_f64().max(f64::MIN_POSITIVE)
    }

    fn mb_per_s(&self) -> f64 {
        (self.bytes * self.repeats) as f64 / 1e6 / self.wall.as_secs_f64().max(f64::MIN_POSITIVE)
    }

    /// Each pair's time ÷ its floor's, sorted.
    fn ratios(&self) -> Vec<f64> {
        let mut r: Vec<f64> = self
            .pairs
            .iter()
            .map(|(t, f)| t.as_secs_f64() / f.as_secs_f64().max(f64::MIN_POSITIVE))
            .collect();
        r.sort_by(f64::total_cmp);
        r
    }

    /// The floor's files per second over all its passes.
    fn floor_files_per_s(&self) -> f64 {
        let wall: Duration = self.pairs.iter().map(|p| p.1).sum();
        (self.files * self.pairs.len()) as f64 / wall.as_secs_f64().max(f64::MIN_POSITIVE)
    }

    fn mean(&self) -> Duration {
        let total: Duration = self.per_file.iter().sum();
        total / (self.per_file.len().max(1) as u32)
    }

    fn to_json(&self, paths: &[PathBuf], args: &BenchArgs) -> serde_json::Value {
        let us = |d: Duration| (d.as_secs_f64() * 1e6 * 100.0).round() / 100.0;
        json!({
            "dagsmith_version": dagsmith_core::VERSION,
            "paths": paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "airflow_version": args.airflow_version.unwrap_or(AirflowVersion::DEFAULT).to_string(),
            "rows_use_their_own_version": args.airflow_version.is_none(),
            "files": self.files,
            "bytes": self.bytes,
            "repeats": self.repeats,
            "warmup": args.warmup,
            "warm": args.warm,
            "parse_only": args.parse_only,
            "threads": self.threads,
            "total_seconds": self.wall.as_secs_f64(),
            "files_per_second": self.files_per_s(),
            "mb_per_second": self.mb_per_s(),
            "mean_us": us(self.mean()),
            "p50_us": us(self.percentile(50.0)),
            "p90_us": us(self.percentile(90.0)),
            "p99_us": us(self.percentile(99.0)),
            "max_us": us(self.per_file.last().copied().unwrap_or_default()),
            "slowest": self.slowest.iter().map(|(d, file, row)| json!({
                "file": file,
                "row": row,
                "best_us": us(*d),
            })).collect::<Vec<_>>(),
            "findings": self.findings,
            "loads": self.loads,
            "stages": (!self.stages.is_empty()).then(|| {
                self.stages.iter().map(|(stage, d)| json!({
                    "stage": stage.name(),
                    "seconds_per_pass": d.as_secs_f64() / self.repeats as f64,
                })).collect::<Vec<_>>()
            }),
            "against_parse": (!self.pairs.is_empty()).then(|| {
                let r = self.ratios();
                json!({
                    "parse_files_per_second": self.floor_files_per_s(),
                    "ratio_median": median(&r),
                    "ratio_min": r.first(),
                    "ratio_max": r.last(),
                    "ratios": r,
                })
            }),
        })
    }

    fn to_text(&self, paths: &[PathBuf], args: &BenchArgs) -> String {
        let us = |d: Duration| format!("{:.1} µs", d.as_secs_f64() * 1e6);
        let names: Vec<String> = paths.iter().map(|p| display(p)).collect();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "dagsmith {} bench validate: {} inputs, {:.2} MB from {}",
            dagsmith_core::VERSION,
            self.files,
            self.bytes as f64 / 1e6,
            names.join(", ")
        );
        let _ = writeln!(
            out,
            "Airflow {}, {} timed pass{} after {} warm-up, {} thread{}, {}",
            version_label(args.airflow_version),
            self.repeats,
            if self.repeats == 1 { "" } else { "es" },
            args.warmup,
            self.threads,
            if self.threads == 1 { "" } else { "s" },
            if args.parse_only {
                "ruff's parser alone (tree built and freed)"
            } else if args.warm {
                "searches kept between passes"
            } else {
                "each pass cold"
            },
        );
        let _ = writeln!(out);
        let _ = writeln!(out, "  files/s      {:>12.1}", self.files_per_s());
        let _ = writeln!(out, "  MB/s         {:>12.2}", self.mb_per_s());
        let _ = writeln!(out, "  mean         {:>12}  per file", us(self.mean()));
        let _ = writeln!(out, "  p50          {:>12}", us(self.percentile(50.0)));
        let _ = writeln!(out, "  p99          {:>12}", us(self.percentile(99.0)));
        let _ = writeln!(
            out,
            "  max          {:>12}",
            us(self.per_file.last().copied().unwrap_or_default())
        );
        if !self.pairs.is_empty() {
            let r = self.ratios();
            let _ = writeln!(
                out,
                "  parse only   {:>12.1}  files/s, in passes paired with validate()'s",
                self.floor_files_per_s()
            );
            let _ = writeln!(
                out,
                "  ÷ parse      {:>12.2}  median of {} pairs (range {:.2}–{:.2})",
                median(&r),
                r.len(),
                r.first().copied().unwrap_or_default(),
                r.last().copied().unwrap_or_default()
            );
        }
        if !self.stages.is_empty() {
            let total: Duration = self.stages.iter().map(|(_, d)| *d).sum();
            let _ = writeln!(out, "  stages of validate(), per pass (all threads):");
            for (stage, d) in &self.stages {
                let _ = writeln!(
                    out,
                    "  {:>25} {:>9.2} ms  {:>5.1}%",
                    stage.name(),
                    d.as_secs_f64() * 1e3 / self.repeats as f64,
                    100.0 * d.as_secs_f64() / total.as_secs_f64().max(f64::MIN_POSITIVE)
                );
            }
        }
        let timed = if args.parse_only { "parse only" } else { "validate() only" };
        let _ = writeln!(out, "  total        {:>12.3} s  ({timed})", self.wall.as_secs_f64());
        let _ = writeln!(out, "  slowest files (fastest of their {} timed passes):", self.repeats);
        for (d, file, row) in &self.slowest {
            let row = row.map(|r| format!(":{r}")).unwrap_or_default();
            let _ = writeln!(out, "  {:>25}  {file}{row}", us(*d));
        }
        let _ = if args.parse_only {
            writeln!(
                out,
                "  syntax errors {:>11}  per pass; {} of {} without any",
                self.findings, self.loads, self.files
            )
        } else {
            writeln!(
                out,
                "  findings     {:>12}  per pass; {} of {} predicted to load",
                self.findings, self.loads, self.files
            )
        };
        out
    }
}

/// The middle of sorted values (the mean of the two middle ones for an even count).
fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

fn version_label(explicit: Option<AirflowVersion>) -> String {
    match explicit {
        Some(v) => v.to_string(),
        None => format!("{} (dataset rows: their own)", AirflowVersion::DEFAULT),
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let r = BenchResult {
            files: 100,
            bytes: 0,
            repeats: 1,
            threads: 1,
            wall: Duration::from_secs(1),
            per_file: (1..=100).map(Duration::from_micros).collect(),
            slowest: Vec::new(),
            findings: 0,
            loads: 0,
            pairs: Vec::new(),
            stages: Vec::new(),
        };
        assert_eq!(r.percentile(50.0), Duration::from_micros(50));
        assert_eq!(r.percentile(99.0), Duration::from_micros(99));
        assert_eq!(r.percentile(100.0), Duration::from_micros(100));
        assert_eq!(r.files_per_s(), 100.0);
    }

    /// `n` .py inputs named `0.py`, `1.py`, ..., with `source(i)` as their text.
    fn jobs(n: usize, source: impl Fn(usize) -> String) -> Vec<Job> {
        (0..n)
            .map(|i| Job {
                file: format!("{i}.py"),
                row: None,
                source: source(i),
                version: AirflowVersion::DEFAULT,
                undecodable: None,
                path: None,
            })
            .collect()
    }

    #[test]
    fn measures_every_call() {
        let jobs = jobs(3, |_| "x = (\n".into());
        for (warm, timed) in
            [(false, validate_timed as Timed), (true, validate_timed), (false, parse_timed)]
        {
            let plan =
                Plan { repeats: 2, warmup: 0, threads: 2, warm, timed, floor: None, stages: false };
            let r = measure(&jobs, &plan).unwrap();
            assert_eq!(r.per_file.len(), 6);
            assert_eq!(r.slowest.len(), 3);
            assert!(r.slowest.windows(2).all(|w| w[0].0 >= w[1].0));
            assert_eq!(r.loads, 0);
            // A finding, or a syntax error, for each file's unclosed bracket.
            assert!(r.findings >= 3);
            assert!(r.pairs.is_empty());
        }
    }

    #[test]
    fn pairs_each_timed_pass_with_a_floor_pass() {
        let jobs = jobs(4, |i| format!("from airflow import DAG\nx{i} = DAG('d{i}')\n"));
        let plan = Plan {
            repeats: 3,
            warmup: 1,
            threads: 1,
            warm: false,
            timed: validate_timed,
            floor: Some(parse_timed),
            stages: false,
        };
        let r = measure(&jobs, &plan).unwrap();
        assert_eq!(r.pairs.len(), 3);
        assert!(r.pairs.iter().all(|(t, f)| !t.is_zero() && !f.is_zero()));
        let ratios = r.ratios();
        assert!(ratios.windows(2).all(|w| w[0] <= w[1]));
        assert!(r.floor_files_per_s() > 0.0);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[]), 0.0);
        assert_eq!(median(&[1.0, 2.0, 9.0]), 2.0);
        assert_eq!(median(&[1.0, 2.0, 4.0, 9.0]), 3.0);
    }
}
