//! `dagsmith validate` (and `dagsmith fix`, which is `validate --fix`).

use std::io::{self, IsTerminal, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use std::sync::Arc;

use clap::{Args, ValueEnum};
use dagsmith_config::{Discovery, Overrides};
use dagsmith_core::AirflowVersion;
use dagsmith_core::fix::{Applicability, FixMode, fix_source_selected, unified_diff};
use dagsmith_core::formats::{Entry, Format};
use dagsmith_core::selection::{RuleSelection, Selector, parse_selectors};
use dagsmith_core::{Report, ValidateOptions, noqa, validate, validate_named};

use crate::file_settings::{FileSettingsLookup, Source};
use crate::inputs::{self, Item, Job, STDIN_NAME};
use crate::output::{self, Style, Written};
use crate::{ColorChoice, exit, text_report};

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
  dagsmith validate --fix dags/                 apply the safe fixes in place, then report
  dagsmith validate --diff --unsafe-fixes dags/ show every fix as a unified diff, change nothing
  cat dag.py | dagsmith fix -                   the fixed code on stdout, the report on stderr

Settings: the nearest dagsmith.toml, or pyproject.toml with [tool.dagsmith], in each file's
directory or above (airflow-version, select, ignore, per-file-ignores); the command line wins.
`# noqa: DS102` at the end of a line (or a bare `# noqa`) drops that line's findings.

Output: `path:line:col: CODE severity message` per finding, a verdict per input, a summary.
A dataset row is named FILE#N (N = its line); its positions are in the row's extracted code.

Fixes (--fix, --diff, `dagsmith fix`) rewrite .py files and standard input, never dataset rows;
each fix is validated after it is applied and undone if it adds an error or loses a DAG or task.
Unsafe fixes (guesses: a misspelt class or argument, a task attached to the file's DAG) need
--unsafe-fixes; `dagsmith rules` says which rules have fixes.

Exit status: 0 every input is predicted to load, 1 some are not, 2 usage error or an input that
could not be read (unreadable path, malformed dataset row); the other inputs are still checked.
With --fix the verdicts are those of the fixed files. With --diff: 0 nothing to fix, 1 some file
would change, 2 error.";

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Files, directories (searched recursively for *.py and *.jsonl) and JSONL datasets;
    /// `-` reads Python source from standard input.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Target Airflow version, e.g. 2.7, 2.11.2 or 3.1 [default: 3.1; a dataset row's own
    /// `Airflow Version:` line when this option is not given].
    #[arg(long, short = 'a', value_name = "VERSION")]
    pub airflow_version: Option<AirflowVersion>,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// Write the report to FILE instead of standard output (atomically: the file is replaced only
    /// once the whole report is written).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Table format: print only the summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Report only these rules: codes, code prefixes (DS1) or names, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub select: Vec<String>,

    /// Do not report these rules (codes, code prefixes or names, comma-separated). An ignored
    /// error no longer counts against the verdict, except syntax errors (DS001, DS002).
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub ignore: Vec<String>,

    /// Treat .py files and standard input as LLM answers: take the code out of markdown fences
    /// first (dataset rows always are).
    #[arg(long)]
    pub extract: bool,

    /// Validate with N threads [default: the number of CPUs].
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub jobs: Option<u32>,

    /// Apply the fixes of the findings to .py files in place (atomically) and report on the
    /// fixed files; for standard input, print the fixed code (the report goes to stderr).
    #[arg(long)]
    pub fix: bool,

    /// Show the fixes as a unified diff on stdout and change nothing.
    #[arg(long, conflicts_with = "fix")]
    pub diff: bool,

    /// Also apply unsafe fixes: best guesses (a misspelt class or argument, a task attached to
    /// the file's only DAG) that could change what the DAG does.
    #[arg(long)]
    pub unsafe_fixes: bool,

    /// Read settings from FILE (a dagsmith.toml, or a pyproject.toml with [tool.dagsmith]) for
    /// every input, instead of the nearest one above each input.
    #[arg(long, value_name = "FILE", conflicts_with = "isolated")]
    pub config: Option<PathBuf>,

    /// Ignore settings files: only the command line counts.
    #[arg(long)]
    pub isolated: bool,

    /// Report findings even on lines with `# noqa` comments.
    #[arg(long)]
    pub disable_noqa: bool,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// For people: one line per finding, a verdict per input and a summary.
    Table,
    /// One JSON array with an object per input.
    Json,
    /// One JSON object per input, one per line.
    Jsonl,
    /// One row per input, airflow-net's report columns first (RFC 4180).
    Csv,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// GitHub Actions workflow commands: annotations on the pull request's lines.
    Github,
    /// GitLab Code Quality JSON, for merge request widgets.
    Gitlab,
}

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
    let fixing = args.fix || args.diff;
    if fixing && args.extract {
        output::error(
            "--fix and --diff rewrite Python files; they cannot be used with --extract (the markdown around the code would be lost)",
        );
        return exit::ERROR;
    }
    let Some(items) = collect_items(&args, &mut settings) else {
        return exit::ERROR;
    };

    let jobs = args
        .jobs
        .map_or_else(|| thread::available_parallelism().map_or(1, |n| n.get()), |n| n as usize);
    let fix =
        fixing.then_some(if args.unsafe_fixes { FixMode::SafeAndUnsafe } else { FixMode::Safe });
    // Each input's rule selection (settings files can differ per file): fixes keep to it too.
    let items: Vec<(Item, RuleSelection)> = items
        .into_iter()
        .map(|item| {
            let selection = match &item {
                Item::Job(job) => settings.for_entry(&job.file).selection,
                Item::Failed(_) => RuleSelection::all(),
            };
            (item, selection)
        })
        .collect();
    let results = validate_all(items, jobs, fix, !args.disable_noqa);
    let mut entries: Vec<Entry> = Vec::with_capacity(results.len());
    let mut changes: Vec<Change> = Vec::new();
    for (mut entry, change) in results {
        settings.for_entry(&entry.file).selection.apply(&mut entry.report);
        if let Some(change) = change {
            changes.push(change);
        }
        entries.push(entry);
    }
    if let Some(e) = settings.error.take() {
        output::error(&e.to_string());
        return exit::ERROR;
    }
    if fixing && entries.iter().any(|e| e.row.is_some()) {
        output::note("dataset rows are validated but never rewritten by --fix or --diff");
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

    if args.diff {
        return show_diffs(&changes, &entries, fix, has_errors);
    }
    if args.fix {
        for change in &changes {
            if let Some(path) = &change.path
                && let Err(e) = write_back(path, &change.original, &change.fixed)
            {
                output::error(&format!("cannot write the fixes to {}: {e}", change.file));
                status = exit::ERROR;
            }
        }
    }
    let stdin_fixed = args.fix && entries.iter().any(|e| e.file == STDIN_NAME);

    let text = report_text(&args, color, &entries, fix, stdin_fixed);
    if !write_report(&args, &text, stdin_fixed, &changes) {
        status = exit::ERROR;
    }
    status
}

/// The inputs named on the command line, each with the Airflow version its settings give.
/// `None` once an error has been reported.
fn collect_items(args: &ValidateArgs, settings: &mut FileSettingsLookup) -> Option<Vec<Item>> {
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
        return None;
    }
    for dir in &empty_dirs {
        output::warning(&format!("no .py or .jsonl files in {dir}"));
    }
    if items.is_empty() {
        output::error("no inputs to validate");
        return None;
    }
    Some(items)
}

/// The report in the requested format, with the summary of applied fixes for `--fix`.
fn report_text(
    args: &ValidateArgs,
    color: ColorChoice,
    entries: &[Entry],
    fix: Option<FixMode>,
    stdin_fixed: bool,
) -> String {
    let mut text = match args.format {
        OutputFormat::Table => {
            let style =
                Style { enabled: output::use_color(color, args.output.is_some() || stdin_fixed) };
            text_report::render(entries, style, args.quiet)
        }
        OutputFormat::Json => Format::Json.render(entries),
        OutputFormat::Jsonl => Format::Jsonl.render(entries),
        OutputFormat::Csv => Format::Csv.render(entries),
        OutputFormat::Sarif => Format::Sarif.render(entries),
        OutputFormat::Github => Format::Github.render(entries),
        OutputFormat::Gitlab => Format::Gitlab.render(entries),
    };
    if args.fix {
        let summary = fix_summary(entries, fix.unwrap_or(FixMode::Safe));
        if args.format == OutputFormat::Table {
            text.push_str(&summary);
        } else {
            output::stderr_line(summary.trim_end());
        }
    }
    text
}

/// Writes the report (to `--output`, stdout, or stderr when stdout carries the fixed code) and
/// then the fixed standard input. Returns false if some write failed (already reported).
fn write_report(args: &ValidateArgs, text: &str, stdin_fixed: bool, changes: &[Change]) -> bool {
    let mut ok = true;
    match &args.output {
        Some(path) => {
            if let Err(e) = output::write_atomic(path, text.as_bytes()) {
                output::error(&format!("cannot write {}: {e}", path.display()));
                ok = false;
            }
        }
        // With the fixed code on stdout, the report goes to stderr.
        None if stdin_fixed => {
            let _ = io::stderr().write_all(text.as_bytes());
        }
        None => match output::stdout(text) {
            Written::Ok | Written::BrokenPipe => {}
            Written::Failed => ok = false,
        },
    }
    if stdin_fixed
        && let Some(code) = stdin_source(changes)
        && matches!(output::stdout(&code), Written::Failed)
    {
        ok = false;
    }
    ok
}

/// An input's entry, and its code before and after the fixes when it was fixed.
type Checked = (Entry, Option<Change>);

/// A fixable input (a .py file or standard input) and its code before and after the fixes.
struct Change {
    file: String,
    path: Option<std::path::PathBuf>,
    original: String,
    fixed: String,
}

fn stdin_source(changes: &[Change]) -> Option<String> {
    changes.iter().find(|c| c.file == STDIN_NAME).map(|c| c.fixed.clone())
}

/// `--diff`: the diffs on stdout, a one-line summary on stderr.
fn show_diffs(
    changes: &[Change],
    entries: &[Entry],
    mode: Option<FixMode>,
    has_errors: bool,
) -> u8 {
    let mut text = String::new();
    let mut files = 0;
    for change in changes.iter().filter(|c| c.original != c.fixed) {
        text.push_str(&unified_diff(&change.original, &change.fixed, &change.file));
        files += 1;
    }
    let fixes: usize = entries.iter().map(|e| e.applied_fixes.len()).sum();
    let mut status = if has_errors {
        exit::ERROR
    } else if files > 0 {
        exit::NOT_LOADING
    } else {
        exit::OK
    };
    if matches!(output::stdout(&text), Written::Failed) {
        status = exit::ERROR;
    }
    let more = match mode {
        Some(FixMode::Safe) => {
            let unsafe_left: usize = entries.iter().map(|e| unsafe_fixable(&e.report)).sum();
            if unsafe_left > 0 {
                format!(" ({unsafe_left} more with --unsafe-fixes)")
            } else {
                String::new()
            }
        }
        _ => String::new(),
    };
    output::stderr_line(&format!(
        "Would apply {} in {}{more}.",
        plural(fixes, "fix", "fixes"),
        plural(files, "file", "files")
    ));
    status
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Findings whose fix is unsafe (not applied without --unsafe-fixes).
fn unsafe_fixable(report: &Report) -> usize {
    report
        .findings
        .iter()
        .filter(|f| f.autofix.as_ref().is_some_and(|x| x.applicability == Applicability::Unsafe))
        .count()
}

/// "Fixed 3 problems in 2 files (1 unsafe); 4 findings left, 1 fixable with --unsafe-fixes."
fn fix_summary(entries: &[Entry], mode: FixMode) -> String {
    let applied: usize = entries.iter().map(|e| e.applied_fixes.len()).sum();
    let unsafe_applied: usize = entries
        .iter()
        .flat_map(|e| &e.applied_fixes)
        .filter(|f| f.applicability == Applicability::Unsafe)
        .count();
    let files = entries.iter().filter(|e| !e.applied_fixes.is_empty()).count();
    let remaining: usize = entries.iter().map(|e| e.report.findings.len()).sum();
    let mut out = format!(
        "Fixed {} in {}",
        plural(applied, "problem", "problems"),
        plural(files, "file", "files")
    );
    if unsafe_applied > 0 {
        out.push_str(&format!(" ({unsafe_applied} unsafe)"));
    }
    out.push_str(&format!("; {} left", plural(remaining, "finding", "findings")));
    let unsafe_left: usize = entries.iter().map(|e| unsafe_fixable(&e.report)).sum();
    if mode == FixMode::Safe && unsafe_left > 0 {
        out.push_str(&format!(", {unsafe_left} fixable with --unsafe-fixes"));
    }
    out.push_str(".\n");
    out
}

/// Replaces a fixed file, atomically, if it still holds what was validated (a byte-order mark
/// is kept). Files read in another encoding are never rewritten.
fn write_back(path: &std::path::Path, original: &str, fixed: &str) -> Result<(), String> {
    if original == fixed {
        return Ok(());
    }
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let bom: &[u8] = b"\xEF\xBB\xBF";
    let (bom, body) = match bytes.strip_prefix(bom) {
        Some(rest) => (bom, rest),
        None => (&[][..], &bytes[..]),
    };
    let current = std::str::from_utf8(body)
        .map_err(|_| "the file is not UTF-8; it was left as it was".to_string())?;
    if current != original {
        return Err("the file changed while it was being checked; it was left as it was".into());
    }
    let mut out = Vec::with_capacity(bom.len() + fixed.len());
    out.extend_from_slice(bom);
    out.extend_from_slice(fixed.as_bytes());
    output::write_atomic(path, &out).map_err(|e| e.to_string())
}

/// Validates (and with `fix`, fixes) every job on `jobs` threads, keeping the input order; with
/// `noqa`, a .py file's (or standard input's) `# noqa` comments drop the findings they name.
fn validate_all(
    items: Vec<(Item, RuleSelection)>,
    jobs: usize,
    fix: Option<FixMode>,
    noqa: bool,
) -> Vec<(Entry, Option<Change>)> {
    let mut slots: Vec<Option<Checked>> = Vec::with_capacity(items.len());
    let mut work: Vec<(usize, Job, RuleSelection)> = Vec::new();
    for (item, selection) in items {
        match item {
            Item::Failed(entry) => slots.push(Some((entry, None))),
            Item::Job(job) => {
                work.push((slots.len(), job, selection));
                slots.push(None);
            }
        }
    }
    let total = work.len();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Checked)>> = Mutex::new(Vec::with_capacity(total));
    let show_progress = total >= PROGRESS_FROM && io::stderr().is_terminal();
    let threads = jobs.clamp(1, total.max(1));

    let worker = || {
        let mut local = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some((slot, job, selection)) = work.get(i) else { break };
            local.push((*slot, validate_job(job, selection, fix, noqa)));
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
                (Entry::failed("?", None, "", "internal error: the input was not validated"), None)
            })
        })
        .collect()
}

fn validate_job(job: &Job, selection: &RuleSelection, fix: Option<FixMode>, noqa: bool) -> Checked {
    let options = ValidateOptions { airflow_version: job.version };
    let fixable = job.row.is_none() && job.undecodable.is_none();
    // Dataset rows are model answers, not the user's code: their comments are data.
    let noqa = noqa && job.row.is_none();
    let result = match (&job.undecodable, fix) {
        (Some(report), _) => Ok((report.clone(), Vec::new(), None)),
        (None, Some(mode)) if fixable => catch_unwind(AssertUnwindSafe(|| {
            let outcome =
                fix_source_selected(&job.source, &options, mode, |code| selection.keeps(code));
            let mut report = outcome.report;
            if noqa {
                noqa::apply(&outcome.source, &mut report);
            }
            let change = Change {
                file: job.file.clone(),
                path: job.path.clone(),
                original: job.source.clone(),
                fixed: outcome.source,
            };
            (report, outcome.applied, Some(change))
        })),
        (None, _) => catch_unwind(AssertUnwindSafe(|| {
            // A `.py` file is imported under its own name: `__file__` ends with it.
            let mut report = if job.row.is_none() && job.file.ends_with(".py") {
                validate_named(&job.source, &job.file, &options)
            } else {
                validate(&job.source, &options)
            };
            if noqa {
                noqa::apply(&job.source, &mut report);
            }
            (report, Vec::new(), None)
        })),
    };
    match result {
        Ok((report, applied_fixes, change)) => (
            Entry { file: job.file.clone(), row: job.row, report, error: None, applied_fixes },
            change,
        ),
        Err(_) => {
            let entry = Entry::failed(
                job.file.clone(),
                job.row,
                job.version.to_string(),
                "internal error: the validator crashed on this input (please report it)",
            );
            output::error(&format!("{}: the validator crashed on this input", entry.path()));
            (entry, None)
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
