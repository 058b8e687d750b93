//! `dagsmith`: generate Apache Airflow DAGs with a local LLM and validate them statically.

mod bench;
#[cfg(feature = "engine")]
mod bench_generate;
#[cfg(feature = "engine")]
mod fetch;
mod file_settings;
#[cfg(feature = "engine")]
mod generate_cmd;
mod inputs;
#[cfg(feature = "engine")]
mod model_cmd;
mod output;
#[cfg(feature = "engine")]
mod progress;
mod rules_cmd;
#[cfg(feature = "engine")]
mod serve_cmd;
mod table;
mod validate_cmd;
#[cfg(not(feature = "engine"))]
mod without_engine;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

// The parser allocates many small nodes; mimalloc validates the corpus noticeably faster
// than glibc's allocator (docs/BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use dagsmith_core::AirflowVersion;

/// Exit statuses, the same for every subcommand.
pub mod exit {
    /// Every input is predicted to load (or the command succeeded).
    pub const OK: u8 = 0;
    /// At least one input is predicted not to load.
    pub const NOT_LOADING: u8 = 1;
    /// Bad usage, or an input or output could not be read or written.
    pub const ERROR: u8 = 2;
}

const ABOUT: &str = "Generate Apache Airflow DAGs with a local LLM and validate them as strictly as \
Airflow does.";

const LONG_ABOUT: &str = "\
Generate Apache Airflow DAGs with a local LLM and validate them as strictly as Airflow does.

`dagsmith generate` writes DAGs with a local model (llama.cpp; `dagsmith model fetch` gets one). \
`dagsmith validate` parses files (it never runs them) and predicts whether Airflow of the target \
version would import them and find their DAGs, reporting every problem with a stable rule code \
(see `dagsmith rules`).";

const MAIN_EXAMPLES: &str = "\
Examples:
  dagsmith model fetch                         download the default model (once)
  dagsmith generate -i 'Hourly S3 to Postgres copy' -a 2.9 > dags/s3_copy.py
  dagsmith generate --input rows.jsonl -o out.jsonl --parallel 8
  dagsmith validate dags/                      check every .py file under dags/
  dagsmith validate --airflow-version 2.7 etl.py
  dagsmith fix dags/                           apply the safe fixes in place
  dagsmith validate outputs.jsonl --format csv -o report.csv
  dagsmith rules                               list the rules
  dagsmith rules DS102                         explain one rule
  dagsmith lsp                                 the language server, for editors

Exit status: 0 every input is predicted to load, 1 some are not, 2 usage or I/O error.";

#[derive(Parser, Debug)]
#[command(
    name = "dagsmith",
    version = dagsmith_core::VERSION,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = MAIN_EXAMPLES,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    /// When to color the output: auto (when stdout is a terminal and NO_COLOR is unset),
    /// always or never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    color: ColorChoice,

    #[command(subcommand)]
    command: Command,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Generate DAGs from an instruction or a JSONL dataset with the local model.
    #[cfg(feature = "engine")]
    #[command(after_help = generate_cmd::EXAMPLES)]
    Generate(Box<generate_cmd::GenerateArgs>),
    /// Generate DAGs with the local model (not in this build: it has no model support).
    #[cfg(not(feature = "engine"))]
    Generate(without_engine::Unavailable),
    /// Check DAG files, directories and JSONL datasets; predict whether Airflow loads each one.
    #[command(after_help = validate_cmd::EXAMPLES)]
    Validate(ValidateArgs),
    /// Apply fixes in place and report what remains (`dagsmith validate --fix`).
    #[command(after_help = validate_cmd::EXAMPLES)]
    Fix(ValidateArgs),
    /// List the rules, or explain one (`dagsmith rules DS102`).
    #[command(after_help = rules_cmd::EXAMPLES)]
    Rules(RulesArgs),
    /// Run the language server on standard input and output, for editors: diagnostics as you
    /// type, rule help and operator signatures on hover, quick fixes.
    Lsp,
    /// Download models and list the ones present.
    #[cfg(feature = "engine")]
    #[command(subcommand)]
    Model(model_cmd::ModelCommand),
    /// Download and list models (not in this build: it has no model support).
    #[cfg(not(feature = "engine"))]
    Model(without_engine::Unavailable),
    /// Serve the local HTTP endpoint: OpenAI-compatible chat completions, generate-and-validate,
    /// validation, and the web app.
    #[cfg(feature = "engine")]
    #[command(after_help = serve_cmd::EXAMPLES)]
    Serve(serve_cmd::ServeArgs),
    /// Serve the local HTTP endpoint (not in this build: it has no model support).
    #[cfg(not(feature = "engine"))]
    Serve(without_engine::Unavailable),
    /// Measure dagsmith's own speed.
    #[command(subcommand)]
    Bench(BenchCommand),
}

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

#[derive(Args, Debug)]
pub struct RulesArgs {
    /// A rule code (DS102) or name (undefined-name) to explain.
    #[arg(value_name = "CODE")]
    pub rule: Option<String>,

    /// Print JSON instead of text.
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,

    /// Print Markdown (the rules page, docs/RULES.md).
    #[arg(long)]
    pub markdown: bool,
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// Time validate() over a corpus of .py files and JSONL datasets.
    ///
    /// All inputs are read (and dataset answers extracted) before timing starts; only the
    /// validate() calls are timed.
    #[command(after_help = bench::EXAMPLES)]
    Validate(BenchArgs),
    /// Generation speed: prompt and generated tokens/s and DAGs/s at 1, 2, 4 and 8 parallel
    /// sequences.
    #[cfg(feature = "engine")]
    #[command(after_help = bench_generate::EXAMPLES)]
    Generate(bench_generate::BenchGenerateArgs),
    /// Generation speed (not in this build: it has no model support).
    #[cfg(not(feature = "engine"))]
    Generate(without_engine::Unavailable),
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Files and directories to read [default: ../shared/corpus].
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Timed passes over all inputs.
    #[arg(long, default_value_t = 3, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub repeat: u32,

    /// Untimed passes before timing starts.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub warmup: u32,

    /// Threads validating at once (1 = the honest single-thread figure).
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub threads: u32,

    /// Target Airflow version for .py files and rows that name none [default: 3.1].
    #[arg(long, short = 'a', value_name = "VERSION")]
    pub airflow_version: Option<AirflowVersion>,

    /// Print the results as one JSON object.
    #[arg(long)]
    pub json: bool,
}

fn main() -> ExitCode {
    // SAFETY: first thing in main, before any thread is started.
    unsafe { dagsmith_engine::set_cpu_kernel_defaults() };
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and --version go to stdout and exit 0; usage errors to stderr, exit 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::ERROR } else { exit::OK });
        }
    };
    let code = match cli.command {
        Command::Validate(args) => validate_cmd::run(args, cli.color),
        Command::Fix(mut args) => {
            args.fix = !args.diff;
            validate_cmd::run(args, cli.color)
        }
        Command::Rules(args) => rules_cmd::run(args, cli.color),
        Command::Lsp => lsp(),
        Command::Bench(BenchCommand::Validate(args)) => bench::run(args),
        #[cfg(feature = "engine")]
        Command::Generate(args) => generate_cmd::run(*args),
        #[cfg(feature = "engine")]
        Command::Model(command) => model_cmd::run(command),
        #[cfg(feature = "engine")]
        Command::Serve(args) => serve_cmd::run(args),
        #[cfg(feature = "engine")]
        Command::Bench(BenchCommand::Generate(args)) => bench_generate::run(args),
        #[cfg(not(feature = "engine"))]
        Command::Generate(_) => without_engine::refuse("generate"),
        #[cfg(not(feature = "engine"))]
        Command::Model(_) => without_engine::refuse("model"),
        #[cfg(not(feature = "engine"))]
        Command::Serve(_) => without_engine::refuse("serve"),
        #[cfg(not(feature = "engine"))]
        Command::Bench(BenchCommand::Generate(_)) => without_engine::refuse("bench generate"),
    };
    ExitCode::from(code)
}

/// `dagsmith lsp`: serves one editor session on stdin/stdout (logs go to stderr).
fn lsp() -> u8 {
    match dagsmith_lsp::run_stdio() {
        Ok(()) => exit::OK,
        Err(e) => {
            output::error(&format!("language server: {e}"));
            exit::ERROR
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        super::Cli::command().debug_assert();
    }
}
