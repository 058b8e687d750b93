//! The HTTP endpoints: OpenAI's (`/v1`) and dagsmith's own (`/api`).

pub mod api;
pub mod openai;

use dagsmith_engine::{Engine, Message};

use crate::error::ApiError;

/// Checks up front that the prompt renders and fits a sequence's context, so that such errors
/// are a 400 before any stream starts. Tokenizing is CPU work: done off the async threads.
pub async fn check_prompt(
    engine: &std::sync::Arc<Engine>,
    messages: &[Message],
    context: u32,
) -> Result<usize, ApiError> {
    let engine = engine.clone();
    let messages = messages.to_vec();
    let tokens = tokio::task::spawn_blocking(move || engine.prompt_tokens(&messages))
        .await
        .map_err(|e| ApiError::internal(format!("prompt check failed: {e}")))?
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    if tokens >= context as usize {
        return Err(ApiError::bad_request(format!(
            "the prompt has {tokens} tokens but a sequence's context holds {context} (the \
             server's --ctx)"
        )));
    }
    Ok(tokens)
}

/// `max_tokens` as asked, capped by the server's limit and the room the prompt leaves.
pub fn capped_max_tokens(
    asked: Option<u32>,
    default: u32,
    cap: u32,
    context: u32,
    prompt_tokens: usize,
) -> Result<u32, ApiError> {
    if asked == Some(0) {
        return Err(ApiError::bad_request("max_tokens must be at least 1"));
    }
    let room = (context as usize).saturating_sub(prompt_tokens).max(1) as u32;
    Ok(asked.unwrap_or(default).min(cap).min(room))
}
