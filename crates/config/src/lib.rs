//! dagsmith's settings files, as ruff finds its own: `[tool.dagsmith]` in `pyproject.toml`, or a
//! `dagsmith.toml`, the nearest one in the checked file's directory or above it
//! ([`Discovery`]). A file sets the target Airflow version, the rules to report and rules to
//! ignore per file ([`Settings`]); the command line overrides it ([`Overrides`]), and
//! [`resolve`] says what applies to one file.
//!
//! The reading and the walking up do I/O, so this is not part of `dagsmith-core`.

mod discovery;
mod glob;
mod settings;

pub use discovery::Discovery;
pub use glob::{Glob, GlobError};
pub use settings::{
    ConfigError, DAGSMITH_TOML, FileSettings, Overrides, PYPROJECT_TOML, PerFileIgnore, Settings,
    resolve,
};
