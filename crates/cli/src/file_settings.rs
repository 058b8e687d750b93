//! Which settings apply to each input of `dagsmith validate`: the command line, then the nearest
//! settings file (`dagsmith.toml`, `[tool.dagsmith]` in `pyproject.toml`), or the one given with
//! `--config`, or none with `--isolated`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use dagsmith_config::{ConfigError, Discovery, FileSettings, Overrides, Settings, resolve};
use dagsmith_core::AirflowVersion;

use crate::inputs::STDIN_NAME;

/// Where settings come from.
pub enum Source {
    /// Found by walking up from each input.
    Discover(Discovery),
    /// `--config FILE`, for every input.
    Fixed(Arc<Settings>),
    /// `--isolated`: the command line only.
    None,
}

/// Resolves and remembers the settings of each input, by its name in reports.
pub struct FileSettingsLookup {
    source: Source,
    overrides: Overrides,
    resolved: HashMap<String, FileSettings>,
    /// The first settings file that could not be read or understood.
    pub error: Option<ConfigError>,
}

impl FileSettingsLookup {
    pub fn new(source: Source, overrides: Overrides) -> Self {
        FileSettingsLookup { source, overrides, resolved: HashMap::new(), error: None }
    }

    /// The settings of the input named `display` in reports, at `path` (`None`: standard
    /// input, whose settings are those of the working directory).
    pub fn resolve(&mut self, display: &str, path: Option<&Path>) -> &FileSettings {
        if !self.resolved.contains_key(display) {
            let settings = match &mut self.source {
                Source::None => Ok(None),
                Source::Fixed(settings) => Ok(Some(settings.clone())),
                Source::Discover(discovery) => match path {
                    Some(path) => discovery.for_file(path),
                    None => discovery.for_directory(Path::new(".")),
                },
            };
            let settings = settings.unwrap_or_else(|e| {
                self.error.get_or_insert(e);
                None
            });
            let absolute = match (&self.source, path) {
                (Source::Discover(d), Some(p)) => Some(d.absolute(p)),
                (_, Some(p)) => Some(std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())),
                (_, None) => None,
            };
            let file_settings = resolve(settings.as_deref(), &self.overrides, absolute.as_deref());
            self.resolved.insert(display.to_string(), file_settings);
        }
        &self.resolved[display]
    }

    /// The target version for [`crate::inputs::collect_with`].
    pub fn version(&mut self, display: &str, path: Option<&Path>) -> Option<AirflowVersion> {
        self.resolve(display, path).airflow_version
    }

    /// The settings an input was read with (an input that failed before it was resolved gets
    /// the command line's).
    pub fn for_entry(&mut self, file: &str) -> FileSettings {
        if let Some(settings) = self.resolved.get(file) {
            return settings.clone();
        }
        let path: Option<PathBuf> = (file != STDIN_NAME).then(|| PathBuf::from(file));
        self.resolve(file, path.as_deref()).clone()
    }
}
