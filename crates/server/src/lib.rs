//! dagsmith-server: the local HTTP endpoint (OpenAI-compatible plus dagsmith's own API).
//!
//! Not built yet: the endpoint arrives with the `dagsmith serve` issue. Until then this crate
//! exports nothing.
