//! The subcommands, one module each, with their arguments.

pub mod bench;
pub mod generate;
pub mod merge;
pub mod model;
pub mod rules;
pub mod serve;
pub mod validate;
