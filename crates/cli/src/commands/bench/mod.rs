//! `dagsmith bench`: dagsmith's own speed (validation, local generation).

#[cfg(feature = "engine")]
pub mod generate;
pub mod validate;

use std::path::PathBuf;

use clap::{Args, Subcommand};
use dagsmith_core::AirflowVersion;

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Time validate() over a corpus of .py files and JSONL datasets.
    ///
    /// All inputs are read (and dataset answers extracted) before timing starts; only the
    /// validate() calls are timed.
    #[command(after_help = validate::EXAMPLES)]
    Validate(BenchArgs),
    /// Generation speed: prompt and generated tokens/s and DAGs/s at 1, 2, 4 and 8 parallel
    /// sequences.
    #[cfg(feature = "engine")]
    #[command(after_help = generate::EXAMPLES)]
    Generate(generate::BenchGenerateArgs),
    /// Generation speed (not in this build: it has no model support).
    #[cfg(not(feature = "engine"))]
    Generate(crate::without_engine::Unavailable),
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

    /// Keep what validation remembers (import checks, "did you mean" searches) from one pass to
    /// the next, as one long batch or a server does; by default each timed pass starts without
    /// them, as a fresh process would.
    #[arg(long)]
    pub warm: bool,

    /// Time ruff's parser alone (the tree built and freed, as validate() does) instead of
    /// validate(): the floor validation is measured against, in the same binary and allocator.
    #[arg(long, conflicts_with = "warm")]
    pub parse_only: bool,

    /// Pair each timed pass with a pass of the parser alone (in turn before and after it) and
    /// report validate() ÷ parse per pair: a ratio that a busy machine disturbs far less than
    /// two separate runs.
    #[arg(long, conflicts_with = "parse_only")]
    pub against_parse: bool,

    /// Also time validate()'s stages (parse, interpreter, fixes...) and report each one's time
    /// per pass: reading the clock at every stage costs about half a percent.
    #[arg(long, conflicts_with = "parse_only")]
    pub stages: bool,

    /// Target Airflow version for .py files and rows that name none [default: 3.1].
    #[arg(long, short = 'a', value_name = "VERSION")]
    pub airflow_version: Option<AirflowVersion>,

    /// Print the results as one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn run(command: BenchCommand) -> u8 {
    match command {
        BenchCommand::Validate(args) => validate::run(args),
        #[cfg(feature = "engine")]
        BenchCommand::Generate(args) => generate::run(args),
        #[cfg(not(feature = "engine"))]
        BenchCommand::Generate(_) => crate::without_engine::refuse("bench generate"),
    }
}
