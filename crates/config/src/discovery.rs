//! Finding the settings file for a checked file, as ruff does: in the file's directory and then
//! each parent, the first `dagsmith.toml`, or `pyproject.toml` with a `[tool.dagsmith]` table,
//! wins (a `pyproject.toml` without one is passed over). Files are not merged. Results are kept
//! per directory, so a tree of DAGs reads each settings file once.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use crate::settings::{ConfigError, DAGSMITH_TOML, PYPROJECT_TOML, Settings};

/// Finds and caches settings files.
#[derive(Debug)]
pub struct Discovery {
    /// Relative paths are taken from here.
    cwd: PathBuf,
    /// Directory → the settings that apply in it.
    cache: HashMap<PathBuf, Option<Arc<Settings>>>,
}

impl Discovery {
    /// Relative paths are resolved against `cwd`.
    pub fn new(cwd: PathBuf) -> Self {
        Discovery { cwd, cache: HashMap::new() }
    }

    /// Relative paths are resolved against the process's current directory.
    pub fn from_current_dir() -> io::Result<Self> {
        Ok(Discovery::new(std::env::current_dir()?))
    }

    /// `path` made absolute (against the working directory) and without `.`/`..` components,
    /// without touching the file system (symbolic links are not resolved, as in ruff).
    pub fn absolute(&self, path: &Path) -> PathBuf {
        let joined = if path.is_absolute() { path.to_path_buf() } else { self.cwd.join(path) };
        let mut out = PathBuf::new();
        for component in joined.components() {
            match component {
                Component::CurDir => {}
                Component::ParentDir => {
                    out.pop();
                }
                other => out.push(other.as_os_str()),
            }
        }
        out
    }

    /// The settings for the checked file `file`: the nearest settings file in its directory
    /// or above. `Ok(None)` when there is none.
    pub fn for_file(&mut self, file: &Path) -> Result<Option<Arc<Settings>>, ConfigError> {
        let file = self.absolute(file);
        match file.parent() {
            Some(dir) => self.for_directory(dir),
            None => Ok(None),
        }
    }

    /// The settings that apply to files in `dir` (e.g. standard input, checked from the
    /// working directory).
    pub fn for_directory(&mut self, dir: &Path) -> Result<Option<Arc<Settings>>, ConfigError> {
        let dir = self.absolute(dir);
        let mut visited = Vec::new();
        let mut found = None;
        for ancestor in dir.ancestors() {
            if let Some(cached) = self.cache.get(ancestor) {
                found = cached.clone();
                break;
            }
            visited.push(ancestor.to_path_buf());
            if let Some(settings) = settings_in(ancestor)? {
                found = Some(Arc::new(settings));
                break;
            }
        }
        for dir in visited {
            self.cache.insert(dir, found.clone());
        }
        Ok(found)
    }

    /// Reads a settings file named explicitly (`--config FILE`): a `pyproject.toml` must have
    /// a `[tool.dagsmith]` table.
    pub fn load(&self, path: &Path) -> Result<Settings, ConfigError> {
        let path = self.absolute(path);
        let text = read(&path)?;
        Settings::parse(&path, &text)?.ok_or_else(|| ConfigError {
            path: path.clone(),
            position: None,
            message: "no [tool.dagsmith] table".into(),
        })
    }
}

fn read(path: &Path) -> Result<String, ConfigError> {
    fs::read_to_string(path).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        position: None,
        message: match e.kind() {
            io::ErrorKind::NotFound => "no such file".into(),
            io::ErrorKind::InvalidData => "not UTF-8 text".into(),
            _ => format!("cannot read: {e}"),
        },
    })
}

/// The settings file in `dir` itself, if any.
fn settings_in(dir: &Path) -> Result<Option<Settings>, ConfigError> {
    for name in [DAGSMITH_TOML, PYPROJECT_TOML] {
        let path = dir.join(name);
        if !path.is_file() {
            continue;
        }
        if let Some(settings) = Settings::parse(&path, &read(&path)?)? {
            return Ok(Some(settings));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagsmith_core::AirflowVersion;

    struct Scratch(PathBuf);
    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn scratch(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("dagsmith-config-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn write(dir: &Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    fn version(d: &mut Discovery, file: &Path) -> Option<AirflowVersion> {
        d.for_file(file).unwrap().and_then(|s| s.airflow_version)
    }

    #[test]
    fn nearest_file_wins_and_plain_pyprojects_are_passed_over() {
        let s = scratch("walk");
        let root = &s.0;
        write(root, "pyproject.toml", "[tool.dagsmith]\nairflow-version = \"2.7\"\n");
        write(root, "a/pyproject.toml", "[project]\nname = \"a\"\n");
        write(root, "a/b/dagsmith.toml", "airflow-version = \"3.0\"\n");
        // dagsmith.toml beats pyproject.toml in the same directory.
        write(root, "c/dagsmith.toml", "airflow-version = \"2.11\"\n");
        write(root, "c/pyproject.toml", "[tool.dagsmith]\nairflow-version = \"2.9\"\n");
        let mut d = Discovery::new(root.clone());
        let v = |s: &str| Some(s.parse::<AirflowVersion>().unwrap());
        assert_eq!(version(&mut d, &root.join("a/dag.py")), v("2.7"));
        assert_eq!(version(&mut d, &root.join("a/b/dag.py")), v("3.0"));
        assert_eq!(version(&mut d, &root.join("a/b/deeper/dag.py")), v("3.0"));
        assert_eq!(version(&mut d, Path::new("c/dag.py")), v("2.11"), "relative to cwd");
        assert_eq!(version(&mut d, Path::new("a/b/../dag.py")), v("2.7"));
        let found = d.for_file(&root.join("a/b/x.py")).unwrap().unwrap();
        assert_eq!(found.path, root.join("a/b/dagsmith.toml"));
        assert_eq!(found.root, root.join("a/b"));
    }

    #[test]
    fn errors_and_explicit_files() {
        let s = scratch("errors");
        let root = &s.0;
        write(root, "bad/dagsmith.toml", "select = [\"DS1\"\n");
        write(root, "plain/pyproject.toml", "[project]\nname = \"p\"\n");
        let mut d = Discovery::new(root.clone());
        let e = d.for_file(&root.join("bad/dag.py")).unwrap_err();
        assert_eq!(e.path, root.join("bad/dagsmith.toml"));
        assert!(e.position.is_some());
        let e = d.load(&root.join("plain/pyproject.toml")).unwrap_err();
        assert!(e.message.contains("[tool.dagsmith]"), "{e}");
        let e = d.load(&root.join("missing.toml")).unwrap_err();
        assert_eq!(e.message, "no such file");
        assert!(d.load(&root.join("bad/dagsmith.toml")).is_err());
    }
}
