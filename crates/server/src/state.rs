//! What every handler shares: the configuration, the model (if any) and the scheduler.

use std::path::PathBuf;
use std::sync::Arc;

use dagsmith_engine::{BatchOptions, Engine};

use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::scheduler::Scheduler;

/// The loaded model as the API names it.
#[derive(Clone, Debug)]
pub struct ModelSummary {
    /// The file name without `.gguf`: the OpenAI model id.
    pub name: String,
    pub path: PathBuf,
}

pub enum Generation {
    Ready {
        engine: Arc<Engine>,
        scheduler: Scheduler,
        model: ModelSummary,
    },
    /// Why not (shown by /api/health and in 503 answers).
    Unavailable(String),
}

pub struct AppState {
    pub config: ServerConfig,
    pub generation: Generation,
}

pub type SharedState = Arc<AppState>;

impl AppState {
    /// Starts the engine thread when there is a model; `no_model` says why there is none.
    pub fn new(config: ServerConfig, model: Result<Arc<Engine>, String>) -> SharedState {
        let generation = match model {
            Ok(engine) => {
                let info = engine.info();
                let name = info.file.strip_suffix(".gguf").unwrap_or(&info.file).to_string();
                let model = ModelSummary { name, path: info.path.clone() };
                let options = BatchOptions {
                    parallel: config.parallel.max(1),
                    context_per_sequence: config.context_per_sequence,
                    batch_tokens: 512,
                    threads: config.threads,
                    reuse_prefix: config.reuse_prefix,
                    // Clients choose their sampling; greedy on the device would refuse the rest.
                    device_sampling: false,
                };
                let scheduler = Scheduler::start(
                    engine.clone(),
                    options,
                    config.queue,
                    config.generation_timeout,
                );
                Generation::Ready { engine, scheduler, model }
            }
            Err(reason) => Generation::Unavailable(reason),
        };
        Arc::new(AppState { config, generation })
    }

    /// The engine, scheduler and model, or the 503 that says why generation is unavailable.
    pub fn ready(&self) -> Result<(&Arc<Engine>, &Scheduler, &ModelSummary), ApiError> {
        match &self.generation {
            Generation::Ready { engine, scheduler, model } => match scheduler.failure() {
                Some(reason) => Err(ApiError::unavailable(reason)),
                None => Ok((engine, scheduler, model)),
            },
            Generation::Unavailable(reason) => {
                Err(ApiError::unavailable(format!("generation is unavailable: {reason}")))
            }
        }
    }

    pub fn model(&self) -> Option<&ModelSummary> {
        match &self.generation {
            Generation::Ready { model, .. } => Some(model),
            Generation::Unavailable(_) => None,
        }
    }

    /// Stops the engine thread (queued and running requests are failed or cancelled).
    pub fn shutdown(&self) {
        if let Generation::Ready { scheduler, .. } = &self.generation {
            scheduler.shutdown();
        }
    }
}
