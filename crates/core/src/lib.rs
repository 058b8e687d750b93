//! dagsmith-core: static validation of Apache Airflow DAG files, plus the prompt, dataset and
//! report formats shared by the CLI, the server and the browser app.
//!
//! No I/O and no threads here: this crate also builds for `wasm32-unknown-unknown`.
//! Generated code is data: it is parsed, never executed.

pub mod airflow_version;
pub mod api_sheet;
pub mod catalog;
pub mod dataset;
mod dotted;
pub mod extract;
pub mod finding;
pub mod fix;
pub mod formats;
pub mod graph;
pub mod hint;
mod id_set;
pub mod noqa;
mod parse;
pub mod pipeline;
pub mod prompt;
pub mod report;
pub mod rules;
pub mod selection;
pub mod share;
pub mod source;
pub mod splice;
pub mod symbol;
mod validate;
pub mod wire;

pub use airflow_version::AirflowVersion;
pub use finding::{Finding, Severity};
pub use hint::Hint;
pub use parse::parse_only;
pub use report::{DagSummary, Edge, Report};
pub use validate::{
    Stage, ValidateOptions, forget_memos, record_stages, take_stage_times, validate, validate_named,
};

/// The validator's version, shown in reports and share links.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
