//! `dagsmith`: generate Apache Airflow DAGs with a local LLM and validate them statically.

mod allocator;
mod commands;
#[cfg(feature = "engine")]
mod fetch;
mod file_settings;
mod inputs;
#[cfg(feature = "remote")]
mod jsonl;
mod output;
#[cfg(feature = "remote")]
mod progress;
mod text_report;
#[cfg(not(feature = "engine"))]
mod without_engine;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
#[cfg(feature = "remote")]
use commands::generate;
use commands::{bench, merge, rules, validate};
#[cfg(feature = "engine")]
use commands::{model, serve};

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
  dagsmith generate --input rows.jsonl -o out.jsonl --backend http://gpu-1:8000
  dagsmith validate dags/                      check every .py file under dags/
  dagsmith validate --airflow-version 2.7 etl.py
  dagsmith fix dags/                           apply the safe fixes in place
  dagsmith validate outputs.jsonl --format csv -o report.csv
  dagsmith rules                               list the rules
  dagsmith rules DS102                         explain one rule
  dagsmith lsp                                 the language server, for editors

Exit status: 0 every input is predicted to load (a generate dataset run: it completed), 1 some
are not, 2 usage or I/O error.";

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
    /// Generate DAGs from an instruction or a JSONL dataset with the local model or
    /// OpenAI-compatible backends.
    #[cfg(feature = "remote")]
    #[command(after_help = generate::EXAMPLES)]
    Generate(Box<generate::GenerateArgs>),
    /// Generate DAGs with the local model (not in this build: it has no model support).
    #[cfg(not(feature = "remote"))]
    Generate(without_engine::Unavailable),
    /// Join the outputs of `generate --shard` runs, checking that every input row is there once.
    #[command(after_help = merge::EXAMPLES)]
    Merge(merge::MergeArgs),
    /// Check DAG files, directories and JSONL datasets; predict whether Airflow loads each one.
    #[command(after_help = validate::EXAMPLES)]
    Validate(validate::ValidateArgs),
    /// Apply fixes in place and report what remains (`dagsmith validate --fix`).
    #[command(after_help = validate::EXAMPLES)]
    Fix(validate::ValidateArgs),
    /// List the rules, or explain one (`dagsmith rules DS102`).
    #[command(after_help = rules::EXAMPLES)]
    Rules(rules::RulesArgs),
    /// Run the language server on standard input and output, for editors: diagnostics as you
    /// type, rule help and operator signatures on hover, quick fixes.
    Lsp,
    /// Download models and list the ones present.
    #[cfg(feature = "engine")]
    #[command(subcommand)]
    Model(model::ModelCommand),
    /// Download and list models (not in this build: it has no model support).
    #[cfg(not(feature = "engine"))]
    Model(without_engine::Unavailable),
    /// Serve the local HTTP endpoint: OpenAI-compatible chat completions, generate-and-validate,
    /// validation, and the web app.
    #[cfg(feature = "engine")]
    #[command(after_help = serve::EXAMPLES)]
    Serve(serve::ServeArgs),
    /// Serve the local HTTP endpoint (not in this build: it has no model support).
    #[cfg(not(feature = "engine"))]
    Serve(without_engine::Unavailable),
    /// Measure dagsmith's own speed.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

fn main() -> ExitCode {
    // SAFETY: first thing in main, before any thread is started.
    #[cfg(feature = "engine")]
    unsafe {
        dagsmith_engine::set_cpu_kernel_defaults()
    };
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and --version go to stdout and exit 0; usage errors to stderr, exit 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::ERROR } else { exit::OK });
        }
    };
    // Batch commands keep freed memory; the long-lived servers give it back when idle.
    if !matches!(cli.command, Command::Lsp | Command::Serve(_)) {
        allocator::keep_freed_memory();
    }
    let code = match cli.command {
        Command::Merge(args) => merge::run(args),
        Command::Validate(args) => validate::run(args, cli.color),
        Command::Fix(mut args) => {
            args.fix = !args.diff;
            validate::run(args, cli.color)
        }
        Command::Rules(args) => rules::run(args, cli.color),
        Command::Lsp => lsp(),
        Command::Bench(command) => bench::run(command),
        #[cfg(feature = "remote")]
        Command::Generate(args) => generate::run(*args),
        #[cfg(feature = "engine")]
        Command::Model(command) => model::run(command),
        #[cfg(feature = "engine")]
        Command::Serve(args) => serve::run(args),
        #[cfg(not(feature = "remote"))]
        Command::Generate(_) => without_engine::refuse("generate"),
        #[cfg(not(feature = "engine"))]
        Command::Model(_) => without_engine::refuse("model"),
        #[cfg(not(feature = "engine"))]
        Command::Serve(_) => without_engine::refuse("serve"),
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
