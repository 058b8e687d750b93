//! dagsmith-engine: runs the LLM (llama.cpp through `llama-cpp-2`) with batched generation.
//!
//! Not built yet: generation arrives with the engine issue. Until then this crate exports
//! nothing, so nothing can pretend to generate.
