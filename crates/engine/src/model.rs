//! A loaded model: weights, vocabulary, chat template and the tokens that end generation.

use std::path::{Path, PathBuf};

use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::token::LlamaToken;
use serde::Serialize;

use crate::Message;
use crate::backend::backend;
use crate::error::{EngineError, RequestError};

/// How to load a model.
#[derive(Clone, Debug, Default)]
pub struct ModelOptions {
    /// Layers to offload to the GPU; `None` = all of them when llama.cpp has a GPU device,
    /// none otherwise.
    pub gpu_layers: Option<u32>,
}

/// Where the chat template came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateSource {
    /// The model's `tokenizer.chat_template`, which llama.cpp recognised.
    Model,
    /// The model has none (or one llama.cpp cannot apply): ChatML.
    ChatmlFallback,
}

/// What a report says about the model.
#[derive(Clone, Debug, Serialize)]
pub struct ModelInfo {
    pub path: PathBuf,
    /// The file name.
    pub file: String,
    /// `general.name` from the GGUF metadata, if present.
    pub name: Option<String>,
    pub parameters: u64,
    pub size_bytes: u64,
    pub context_train: u32,
    pub template: TemplateSource,
    pub gpu_layers: u32,
    /// The GPUs llama.cpp found (its device descriptions), whether its GPU backend was built in
    /// by a cargo feature or came with shared libraries loaded at run time.
    pub gpu_devices: Vec<String>,
}

/// A model ready to generate. Cheap to share between threads (`&Engine` is `Send`).
pub struct Engine {
    pub(crate) model: LlamaModel,
    template: LlamaChatTemplate,
    pub(crate) stop_tokens: Vec<LlamaToken>,
    info: ModelInfo,
}

/// Control tokens that end a turn in common chat formats, in case a GGUF does not mark them as
/// end-of-generation (llama.cpp's `is_eog` covers the ones it knows).
const TURN_END_TOKENS: &[&str] = &["<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<end_of_turn>"];

impl Engine {
    pub fn load(path: &Path, options: &ModelOptions) -> Result<Engine, EngineError> {
        if !path.is_file() {
            return Err(EngineError::ModelNotFound(path.to_path_buf()));
        }
        let backend = backend()?;
        // Asked of llama.cpp at run time, not of our cargo features: a build linked to llama.cpp's
        // shared libraries (`dynamic-link`) gets a GPU from whichever libraries are loaded.
        let gpu_devices = gpu_devices();
        let gpu_layers =
            options.gpu_layers.unwrap_or(if gpu_devices.is_empty() { 0 } else { u32::MAX });
        // u32::MAX asks llama.cpp for every layer (it clamps to the model's count).
        let params = LlamaModelParams::default().with_n_gpu_layers(gpu_layers);
        let model = LlamaModel::load_from_file(backend, path, &params).map_err(|e| {
            EngineError::ModelLoad { path: path.to_path_buf(), reason: e.to_string() }
        })?;

        let chatml = || LlamaChatTemplate::new("chatml").expect("no NUL byte in a constant");
        let probe = [
            LlamaChatMessage::new("system".into(), "s".into()),
            LlamaChatMessage::new("user".into(), "u".into()),
        ]
        .map(|m| m.expect("no NUL byte in a constant"));
        let (template, source) = match model.chat_template(None) {
            // llama.cpp matches templates by pattern; an unknown one fails at apply time.
            Ok(t) if model.apply_chat_template(&t, &probe, true).is_ok() => {
                (t, TemplateSource::Model)
            }
            _ => (chatml(), TemplateSource::ChatmlFallback),
        };

        let vocab = model.vocab();
        let stop_tokens = TURN_END_TOKENS
            .iter()
            .filter_map(|t| match vocab.tokenize(t.as_bytes(), false, true).as_slice() {
                [one] => Some(*one),
                _ => None,
            })
            .collect();

        let info = ModelInfo {
            path: path.to_path_buf(),
            file: path.file_name().map_or_else(String::new, |f| f.to_string_lossy().into_owned()),
            name: model.meta_val_str("general.name").ok(),
            parameters: model.n_params(),
            size_bytes: model.size(),
            context_train: model.n_ctx_train(),
            template: source,
            // What llama.cpp offloads: nothing without a GPU, at most every layer and the output.
            gpu_layers: if gpu_devices.is_empty() {
                0
            } else {
                gpu_layers.min(model.n_layer().saturating_add(1))
            },
            gpu_devices,
        };
        Ok(Engine { model, template, stop_tokens, info })
    }

    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// Bytes of KV cache one context cell takes: keys and values of every layer, in f16 as
    /// llama.cpp allocates them by default.
    pub fn kv_bytes_per_cell(&self) -> u64 {
        let head_dim = self.model.n_embd().max(0) as u64 / u64::from(self.model.n_head().max(1));
        u64::from(self.model.n_layer()) * 2 * u64::from(self.model.n_head_kv()) * head_dim * 2
    }

    /// Free memory of the GPUs llama.cpp reports, as it stands now (the weights already on
    /// them); `None` when no layer is on a GPU or no GPU reports its memory.
    pub fn gpu_free_bytes(&self) -> Option<u64> {
        if self.info.gpu_layers == 0 {
            return None;
        }
        let free: u64 = gpu_backend_devices().map(|d| d.memory_free as u64).sum();
        (free > 0).then_some(free)
    }

    /// The prompt text for `messages` in the model's chat format, ending with the opening of the
    /// assistant's turn.
    pub fn render(&self, messages: &[Message]) -> Result<String, RequestError> {
        let chat = messages
            .iter()
            .map(|m| LlamaChatMessage::new(m.role.clone(), m.content.clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| RequestError::Template(e.to_string()))?;
        self.model
            .apply_chat_template(&self.template, &chat, true)
            .map_err(|e| RequestError::Template(e.to_string()))
    }

    /// Tokens of a rendered prompt (special tokens such as `<|im_start|>` parsed as such; BOS
    /// added when the model asks for it).
    pub fn tokenize(&self, text: &str) -> Vec<LlamaToken> {
        let vocab = self.model.vocab();
        vocab.tokenize(text.as_bytes(), vocab.should_add_bos(), true)
    }

    /// Token count of `messages` rendered as a prompt.
    pub fn prompt_tokens(&self, messages: &[Message]) -> Result<usize, RequestError> {
        Ok(self.tokenize(&self.render(messages)?).len())
    }

    pub(crate) fn is_end(&self, token: LlamaToken) -> bool {
        self.model.vocab().is_eog(token) || self.stop_tokens.contains(&token)
    }
}

/// The GPU (and integrated GPU) devices llama.cpp registered.
fn gpu_backend_devices() -> impl Iterator<Item = llama_cpp_2::LlamaBackendDevice> {
    use llama_cpp_2::LlamaBackendDeviceType as Type;
    llama_cpp_2::list_llama_ggml_backend_devices()
        .into_iter()
        .filter(|d| matches!(d.device_type, Type::Gpu | Type::IntegratedGpu))
}

/// Descriptions of [`gpu_backend_devices`].
fn gpu_devices() -> Vec<String> {
    gpu_backend_devices().map(|d| format!("{} ({})", d.description, d.backend)).collect()
}
