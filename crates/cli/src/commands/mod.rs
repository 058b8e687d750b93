//! The subcommands, one module each, with their arguments.

pub mod bench;
#[cfg(feature = "remote")]
pub mod generate;
pub mod merge;
#[cfg(feature = "engine")]
pub mod model;
pub mod rules;
#[cfg(feature = "engine")]
pub mod serve;
pub mod validate;

/// The project's own instruction set, built in so that `dagsmith generate` works anywhere (and
/// `dagsmith merge` can check runs over it).
pub const BUILTIN_INPUT: &str = include_str!("../../../../datasets/instructions.jsonl");
pub const BUILTIN_NAME: &str = "datasets/instructions.jsonl";
