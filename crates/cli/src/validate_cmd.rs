//! `dagsmith validate`.

use std::io::{self, IsTerminal, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use std::sync::Arc;

use dagsmith_config::{Discovery, Overrides};
use dagsmith_core::formats::{Entry, Format};
use dagsmith_core::selection::{Selector, parse_selectors};
use dagsmith_core::{ValidateOptions, noqa, validate};

use crate::file_settings::{FileSettingsLookup, Source};
use crate::inputs::{self, Item, Job};
use crate::output::{self, Style, Written};
use crate::{ColorChoice, OutputFormat, ValidateArgs, exit, table};

pub const EXAMPLES: &str = "\
Examples:
  dagsmith validate dags/                       every *.py (and *.jsonl) under dags/, recursively
  dagsmith validate etl.py --airflow-version 2.7
  dagsmith validate outputs.jsonl               each row's assistant answer, for the row's own
                                                `Airflow Version:` (unless --airflow-version)
  cat dag.py | dagsmith validate -              standard input
  dagsmith validate dags/ --format sarif -o dagsmith.sarif
  dagsmith validate dags/ --format github       annotations in a GitHub Actions job
  dagsmith validate dags/ --format jsonl --ignore DS103,DS119

Settings: the nearest dagsmith.toml, or pyproject.toml with [tool.dagsmith], in each file's
directory or above (airflow-version, select, ignore, per-file-ignores); the command line wins.
`# noqa: DS102` at the end of a line (or a bare `# noqa`) drops that line's findings.

Output: `path:line:col: CODE severity message` per finding, a verdict per input, a summary.
A dataset row is named FILE#N (N = its line); its positions are in the row's extracted code.

Exit status: 0 every input is predicted to load, 1 some are not, 2 usage error or an input that
could not be read (unreadable path, malformed dataset row); the other inputs are still checked.";

/// Stack of each validating thread. The validator and the parser recurse over the syntax tree,
/// so very deep code (a chain of hundreds of `>>`) needs more than the 2 MiB a spawned thread
/// gets by default; untouched stack costs no memory.
pub const WORKER_STACK: usize = 64 << 20;

/// Inputs from which a progress line is shown on a terminal.
const PROGRESS_FROM: usize = 50;

pub fn run(args: ValidateArgs, color: ColorChoice) -> u8 {
    let mut settings = match file_settings(&args) {
        Ok(s) => s,
        Err(message) => {
            output::error(&message);
            return exit::ERROR;
        }
    };
    let options = inputs::Options {
        explicit_version: args.airflow_version,
        extract: args.extract,
        report_errors: true,
    };
    let (items, empty_dirs) = inputs::collect_with(&args.paths, &options, &mut |display, path| {
        settings.version(display, path)
    });
    if let Some(e) = settings.error.take() {
        output::error(&e.to_string());
        return exit::ERROR;
    }
    for dir in &empty_dirs {
        output::warning(&format!("no .py or .jsonl files in {dir}"));
    }
    if items.is_empty() {
        output::error("no inputs to validate");
        return exit::ERROR;
    }

    let jobs = args
        .jobs
        .map_or_else(|| thread::available_parallelism().map_or(1, |n| n.get()), |n| n as usize);
    let mut entries = validate_all(items, jobs, !args.disable_noqa);
    for entry in &mut entries {
        settings.for_entry(&entry.file).selection.apply(&mut entry.report);
    }
    if let Some(e) = settings.error.take() {
        output::error(&e.to_string());
        return exit::ERROR;
    }

    let has_errors = entries.iter().any(Entry::is_error);
    let all_load = entries.iter().all(|e| e.report.loads);
    let mut status = if has_errors {
        exit::ERROR
    } else if all_load {
        exit::OK
    } else {
        exit::NOT_LOADING
    };

    let text = match args.format {
        OutputFormat::Table => {
            let style = Style { enabled: output::use_color(color, args.output.is_some()) };
            table::render(&entries, style, args.quiet)
        }
        OutputFormat::Json => Format::Json.render(&entries),
        OutputFormat::Jsonl => Format::Jsonl.render(&entries),
        OutputFormat::Csv => Format::Csv.render(&entries),
        OutputFormat::Sarif => Format::Sarif.render(&entries),
        OutputFormat::Github => Format::Github.render(&entries),
        OutputFormat::Gitlab => Format::Gitlab.render(&entries),
    };

    match &args.output {
        Some(path) => {
            if let Err(e) = output::write_atomic(path, text.as_bytes()) {
                output::error(&format!("cannot write {}: {e}", path.display()));
                status = exit::ERROR;
            }
        }
        None => match output::stdout(&text) {
            Written::Ok | Written::BrokenPipe => {}
            Written::Failed => status = exit::ERROR,
        },
    }
    status
}

/// Validates every job (on `jobs` threads), keeping the input order; with `noqa`, a .py file's
/// (or standard input's) `# noqa` comments drop the findings they name.
fn validate_all(items: Vec<Item>, jobs: usize, noqa: bool) -> Vec<Entry> {
    let mut slots: Vec<Option<Entry>> = Vec::with_capacity(items.len());
    let mut work: Vec<(usize, Job)> = Vec::new();
    for item in items {
        match item {
            Item::Failed(entry) => slots.push(Some(entry)),
            Item::Job(job) => {
                work.push((slots.len(), job));
                slots.push(None);
            }
        }
    }
    let total = work.len();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Entry)>> = Mutex::new(Vec::with_capacity(total));
    let show_progress = total >= PROGRESS_FROM && io::stderr().is_terminal();
    let threads = jobs.clamp(1, total.max(1));

    let worker = || {
        let mut local = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some((slot, job)) = work.get(i) else { break };
            local.push((*slot, validate_job(job, noqa)));
            done.fetch_add(1, Ordering::Relaxed);
        }
        if let Ok(mut all) = results.lock() {
            all.append(&mut local);
        }
    };

    thread::scope(|scope| {
        let mut spawned = 0;
        for _ in 0..threads {
            let builder = thread::Builder::new().name("validate".into()).stack_size(WORKER_STACK);
            if builder.spawn_scoped(scope, worker).is_ok() {
                spawned += 1;
            }
        }
        if spawned == 0 {
            // No thread could be started: do the work here.
            worker();
        }
        if show_progress {
            let mut stderr = io::stderr();
            loop {
                let n = done.load(Ordering::Relaxed);
                let _ = write!(stderr, "\rvalidated {n}/{total}");
                let _ = stderr.flush();
                if n >= total {
                    break;
                }
                thread::sleep(Duration::from_millis(100));
            }
            let _ = write!(stderr, "\r\x1b[2K");
            let _ = stderr.flush();
        }
    });

    let results = results.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    for (slot, entry) in results {
        slots[slot] = Some(entry);
    }
    slots
        .into_iter()
        .map(|entry| {
            entry.unwrap_or_else(|| {
                Entry::failed("?", None, "", "internal error: the input was not validated")
            })
        })
        .collect()
}

fn validate_job(job: &Job, noqa: bool) -> Entry {
    let report = match &job.undecodable {
        Some(report) => Ok(report.clone()),
        None => {
            let options = ValidateOptions { airflow_version: job.version };
            catch_unwind(AssertUnwindSafe(|| {
                let mut report = validate(&job.source, &options);
                // Dataset rows are model answers, not the user's code: their comments are data.
                if noqa && job.row.is_none() {
                    noqa::apply(&job.source, &mut report);
                }
                report
            }))
        }
    };
    match report {
        Ok(report) => Entry { file: job.file.clone(), row: job.row, report, error: None },
        Err(_) => {
            let entry = Entry::failed(
                job.file.clone(),
                job.row,
                job.version.to_string(),
                "internal error: the validator crashed on this input (please report it)",
            );
            output::error(&format!("{}: the validator crashed on this input", entry.path()));
            entry
        }
    }
}

/// The settings lookup for this run: `--config`, `--isolated` or discovery, and the command
/// line's `--airflow-version`, `--select` and `--ignore` over them.
fn file_settings(args: &ValidateArgs) -> Result<FileSettingsLookup, String> {
    let selectors = |values: &[String], flag: &str| -> Result<Option<Vec<Selector>>, String> {
        if values.iter().all(|v| v.trim().is_empty()) {
            return Ok(None);
        }
        parse_selectors(values).map(Some).map_err(|e| e.message(Some(flag)))
    };
    let overrides = Overrides {
        airflow_version: args.airflow_version,
        select: selectors(&args.select, "--select")?,
        ignore: selectors(&args.ignore, "--ignore")?,
    };
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    let discovery = Discovery::new(cwd);
    let source = match (&args.config, args.isolated) {
        (Some(path), _) => {
            Source::Fixed(Arc::new(discovery.load(path).map_err(|e| e.to_string())?))
        }
        (None, true) => Source::None,
        (None, false) => Source::Discover(discovery),
    };
    Ok(FileSettingsLookup::new(source, overrides))
}
