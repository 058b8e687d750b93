//! `dagsmith validate`.

use std::io::{self, IsTerminal, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use dagsmith_core::formats::{Entry, Format};
use dagsmith_core::{Report, Severity, ValidateOptions, rules, validate, validate_named};

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
  dagsmith validate dags/ --format jsonl --ignore DS103,DS119

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
    let filter = match Filter::new(&args.select, &args.ignore) {
        Ok(f) => f,
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
    let (items, empty_dirs) = inputs::collect(&args.paths, &options);
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
    let mut entries = validate_all(items, jobs);
    for entry in &mut entries {
        filter.apply(&mut entry.report);
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

/// Validates every job (on `jobs` threads), keeping the input order.
fn validate_all(items: Vec<Item>, jobs: usize) -> Vec<Entry> {
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
            local.push((*slot, validate_job(job)));
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

fn validate_job(job: &Job) -> Entry {
    let report = match &job.undecodable {
        Some(report) => Ok(report.clone()),
        None => {
            let options = ValidateOptions { airflow_version: job.version };
            // A `.py` file is imported under its own name: `__file__` ends with it.
            let named = job.row.is_none() && job.file.ends_with(".py");
            catch_unwind(AssertUnwindSafe(|| {
                if named {
                    validate_named(&job.source, &job.file, &options)
                } else {
                    validate(&job.source, &options)
                }
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

/// `--select` / `--ignore`.
struct Filter {
    select: Vec<String>,
    ignore: Vec<String>,
}

impl Filter {
    fn new(select: &[String], ignore: &[String]) -> Result<Self, String> {
        Ok(Filter { select: parse_selectors(select)?, ignore: parse_selectors(ignore)? })
    }

    fn is_active(&self) -> bool {
        !self.select.is_empty() || !self.ignore.is_empty()
    }

    fn keeps(&self, code: &str) -> bool {
        (self.select.is_empty() || self.select.iter().any(|p| code.starts_with(p.as_str())))
            && !self.ignore.iter().any(|p| code.starts_with(p.as_str()))
    }

    /// Drops filtered findings. When every error that made the input fail is dropped, the input
    /// is predicted to load, unless one was a syntax or compile error (DS0xx).
    fn apply(&self, report: &mut Report) {
        if !self.is_active() {
            return;
        }
        let had_errors = report.findings.iter().any(|f| f.severity == Severity::Error);
        let (kept, dropped): (Vec<_>, Vec<_>) =
            report.findings.drain(..).partition(|f| self.keeps(f.code));
        report.findings = kept;
        if !report.loads && had_errors {
            let dropped_syntax = dropped
                .iter()
                .any(|f| f.code == rules::SYNTAX_ERROR.code || f.code == rules::COMPILE_ERROR.code);
            let errors_left = report.findings.iter().any(|f| f.severity == Severity::Error);
            report.loads = !dropped_syntax && !errors_left;
        }
    }
}

/// Turns `DS1`, `ds102`, `undefined-name` into code prefixes; refuses what matches no rule.
fn parse_selectors(values: &[String]) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for value in values {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        if value.eq_ignore_ascii_case("all") {
            out.push(String::new());
            continue;
        }
        if let Some(rule) = rules::ALL.iter().find(|r| r.name == value) {
            out.push(rule.code.to_string());
            continue;
        }
        let upper = value.to_ascii_uppercase();
        if rules::ALL.iter().any(|r| r.code.starts_with(&upper)) {
            out.push(upper);
            continue;
        }
        let mut message = format!("unknown rule {value:?} in --select/--ignore");
        let close = crate::rules_cmd::close_matches(value);
        if !close.is_empty() {
            message.push_str(&format!("; did you mean {}?", close.join(", ")));
        } else {
            message.push_str(" (see `dagsmith rules`)");
        }
        return Err(message);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagsmith_core::Finding;

    fn finding(code: &'static str, severity: Severity) -> Finding {
        Finding {
            code,
            severity,
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 2,
            message: String::new(),
            fix: None,
        }
    }

    fn report(findings: Vec<Finding>) -> Report {
        let loads = !findings.iter().any(|f| f.severity == Severity::Error);
        Report { airflow_version: "3.1".into(), loads, dags: vec![], findings }
    }

    #[test]
    fn selectors() {
        assert_eq!(
            parse_selectors(&["ds1".into(), "undefined-name".into()]).unwrap(),
            ["DS1", "DS102"]
        );
        assert!(parse_selectors(&["DS9".into()]).is_err());
        assert!(
            parse_selectors(&["undefined_name".into()]).unwrap_err().contains("undefined-name")
        );
    }

    #[test]
    fn ignoring_an_error_changes_the_verdict_but_not_for_syntax_errors() {
        let filter = Filter::new(&[], &["DS102".into()]).unwrap();
        let mut r =
            report(vec![finding("DS102", Severity::Error), finding("DS103", Severity::Warning)]);
        filter.apply(&mut r);
        assert!(r.loads);
        assert_eq!(r.findings.len(), 1);

        let filter = Filter::new(&[], &["DS0".into()]).unwrap();
        let mut r = report(vec![finding("DS001", Severity::Error)]);
        filter.apply(&mut r);
        assert!(!r.loads);
        assert!(r.findings.is_empty());

        let filter = Filter::new(&["DS1".into()], &[]).unwrap();
        let mut r =
            report(vec![finding("DS102", Severity::Error), finding("DS201", Severity::Error)]);
        filter.apply(&mut r);
        assert!(!r.loads);
        assert_eq!(r.findings.len(), 1);
    }
}
