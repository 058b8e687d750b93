//! `dagsmith serve`: the local HTTP endpoint (OpenAI-compatible API, dagsmith's API, web app).

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use dagsmith_engine::{Engine, ModelOptions, default_model_path};
use dagsmith_server::ServerConfig;
use dagsmith_server::guard::api_key::ApiKey;
use dagsmith_server::guard::host::AllowedHost;
use dagsmith_server::guard::origin::AllowedOrigin;
use dagsmith_server::state::Generation;

use crate::exit;
use crate::output::{error, warning};

pub const EXAMPLES: &str = "\
Examples:
  dagsmith serve                                 default model, http://127.0.0.1:8080
  dagsmith serve --model models/x.gguf --port 9000 --parallel 8
  DAGSMITH_API_KEY=$(openssl rand -hex 16) dagsmith serve --host 0.0.0.0 --allow-remote
  curl -s localhost:8080/api/health
  curl -s localhost:8080/api/validate -H 'Content-Type: application/json' \\
       -d '{\"code\": \"...\", \"airflow_version\": \"2.9\"}'
  curl -sN localhost:8080/v1/chat/completions -H 'Content-Type: application/json' \\
       -d '{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"stream\": true}'

OpenAI clients: base URL http://127.0.0.1:8080/v1; any API key, or the server's --api-key when it
has one. Without a model the server still validates and serves the app; generation endpoints
answer 503 with the reason.

Who may call: requests must name the server as localhost, 127.0.0.1 or [::1] at its port (or an
--allowed-host); browser pages of other origins are refused unless given with --allow-origin;
POST bodies must be Content-Type: application/json.";

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// GGUF model [default: the default model in the models directory, if present; without
    /// one, generation is unavailable].
    #[arg(long, short = 'm', value_name = "FILE")]
    pub model: Option<PathBuf>,

    /// Address to listen on. Anything but loopback needs --allow-remote.
    #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
    pub host: IpAddr,

    /// Port to listen on (0 = any free port; the address is printed).
    #[arg(long, short = 'p', default_value_t = 8080)]
    pub port: u16,

    /// Listen on a non-loopback address: anyone who can reach it can use the server, unless
    /// it has an --api-key.
    #[arg(long)]
    pub allow_remote: bool,

    /// Require `Authorization: Bearer KEY` on every /v1 and /api request (OpenAI clients send
    /// their api_key so). Prefer the environment variable: command lines are visible to
    /// other users of the machine.
    #[arg(long, env = "DAGSMITH_API_KEY", hide_env_values = true, value_name = "KEY")]
    pub api_key: Option<ApiKey>,

    /// Another name requests may reach the server under (their Host header), e.g. behind a
    /// reverse proxy; without a port, any port. localhost, 127.0.0.1, [::1] and the --host
    /// address at the server's port always work. Repeatable.
    #[arg(long = "allowed-host", value_name = "NAME[:PORT]")]
    pub allowed_hosts: Vec<AllowedHost>,

    /// A web page origin that may call the server from a browser (CORS), e.g.
    /// http://localhost:5173; the server's own pages always may. Repeatable.
    #[arg(long = "allow-origin", value_name = "SCHEME://HOST[:PORT]")]
    pub allow_origins: Vec<AllowedOrigin>,

    /// Let every web page call the server from a browser (CORS for any origin): any site
    /// visited could use the model. Only with an --api-key, or on a machine of its own.
    #[arg(long)]
    pub allow_any_origin: bool,

    /// Sequences generated at once (concurrent requests share the batch).
    #[arg(long, default_value_t = 4, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub parallel: u32,

    /// Requests waiting for a slot at most; beyond that, 429 with Retry-After.
    #[arg(long, default_value_t = 32, value_name = "N")]
    pub queue: usize,

    /// Context tokens per sequence (prompt + answer, repair turns included).
    #[arg(long, default_value_t = 4096, value_name = "N")]
    pub ctx: u32,

    /// New tokens per request at most (requests asking for more get this many).
    #[arg(long, default_value_t = 2048, value_name = "N")]
    pub max_tokens: u32,

    /// Repair rounds per /api/generate request at most.
    #[arg(long, default_value_t = 3, value_name = "K")]
    pub max_repair: u32,

    /// A generation, queue wait included, is cancelled after this many seconds.
    #[arg(long, default_value_t = 600, value_name = "SECS")]
    pub timeout: u64,

    /// Request bodies larger than this many bytes are refused (413).
    #[arg(long, default_value_t = 1 << 20, value_name = "BYTES")]
    pub body_limit: usize,

    /// The built web app [default: dist/ in the current directory, if present].
    #[arg(long, value_name = "DIR")]
    pub static_dir: Option<PathBuf>,

    /// CPU threads [default: physical cores].
    #[arg(long, short = 't', value_name = "N")]
    pub threads: Option<usize>,

    /// GPU layers to offload [default: all with a GPU build, else 0].
    #[arg(long, value_name = "N")]
    pub gpu_layers: Option<u32>,

    /// Decode every prompt in full instead of starting from a prefix already in the KV cache
    /// (for comparisons; the output is the same up to float rounding).
    #[arg(long)]
    pub no_prefix_reuse: bool,
}

pub fn run(args: ServeArgs) -> u8 {
    let static_dir = match args.static_dir {
        Some(dir) if !dir.is_dir() => {
            error(&format!("--static-dir {}: not a directory", dir.display()));
            return exit::ERROR;
        }
        Some(dir) => Some(dir),
        None => Some(PathBuf::from("dist")).filter(|d| d.join("index.html").is_file()),
    };
    let config = ServerConfig {
        host: args.host,
        port: args.port,
        allow_remote: args.allow_remote,
        allowed_hosts: args.allowed_hosts,
        allowed_origins: args.allow_origins,
        allow_any_origin: args.allow_any_origin,
        api_key: args.api_key,
        parallel: args.parallel as usize,
        context_per_sequence: args.ctx,
        threads: args.threads,
        queue: args.queue,
        max_tokens: args.max_tokens,
        max_repair: args.max_repair,
        body_limit: args.body_limit,
        generation_timeout: Duration::from_secs(args.timeout.max(1)),
        static_dir,
        reuse_prefix: !args.no_prefix_reuse,
        ..ServerConfig::default()
    };
    if let Err(e) = config.check() {
        error(&e);
        return exit::ERROR;
    }
    for w in config.warnings() {
        warning(&w);
    }

    // A model named explicitly must load; the default one is optional.
    let model = match &args.model {
        Some(path) => match load(path, args.gpu_layers) {
            Ok(engine) => Ok(engine),
            Err(e) => {
                error(&e);
                return exit::ERROR;
            }
        },
        None => {
            let path = default_model_path();
            if path.is_file() {
                load(&path, args.gpu_layers)
            } else {
                Err(format!(
                    "no model: {} not found (run `dagsmith model fetch`, or pass --model FILE.gguf)",
                    path.display()
                ))
            }
        }
    };
    if let Err(reason) = &model {
        eprintln!("dagsmith serve: generation unavailable: {reason}");
    }

    let result = dagsmith_server::run(config, model, |addr, state| {
        let generation = match &state.generation {
            Generation::Ready { model, scheduler, .. } => {
                format!("model {}, {} slots", model.name, scheduler.slots())
            }
            Generation::Unavailable(_) => "no generation".to_string(),
        };
        let app = match &state.config.static_dir {
            Some(dir) => format!("web app from {}", dir.display()),
            // The API works without it; say how to get the playground.
            None => "no web app: build it with scripts/build-web.sh and start from the \
                     repository root, or pass --static-dir DIR"
                .to_string(),
        };
        let key = if state.config.api_key.is_some() { "; API key required" } else { "" };
        eprintln!(
            "dagsmith serve: listening on http://{addr} ({generation}; {app}{key}); Ctrl-C stops"
        );
    });
    match result {
        Ok(()) => exit::OK,
        Err(e) => {
            error(&format!("cannot serve on {}:{}: {e}", args.host, args.port));
            exit::ERROR
        }
    }
}

fn load(path: &std::path::Path, gpu_layers: Option<u32>) -> Result<Arc<Engine>, String> {
    let start = Instant::now();
    let engine = Engine::load(path, &ModelOptions { gpu_layers }).map_err(|e| e.to_string())?;
    eprintln!(
        "dagsmith serve: loaded {} in {:.1} s",
        engine.info().file,
        start.elapsed().as_secs_f64()
    );
    Ok(Arc::new(engine))
}
