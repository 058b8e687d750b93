//! One settings file: what it may say, how it is read, and what it means for one checked file.
//!
//! ```toml
//! [tool.dagsmith]                    # pyproject.toml; in dagsmith.toml the same keys, top level
//! airflow-version = "2.9"            # the target when the command line names none
//! select = ["DS1", "DS2"]            # codes, code prefixes, rule names or "ALL"
//! ignore = ["DS103"]
//!
//! [tool.dagsmith.per-file-ignores]   # globs relative to this file's directory
//! "dags/legacy/*" = ["DS204"]
//! "__init__.py" = ["DS101"]          # no `/`: matched against file names too
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use dagsmith_core::AirflowVersion;
use dagsmith_core::selection::{RuleSelection, Selector};
use serde::Deserialize;
use toml::Spanned;

use crate::glob::Glob;

/// The settings file that takes precedence in a directory.
pub const DAGSMITH_TOML: &str = "dagsmith.toml";
/// Read when it has a `[tool.dagsmith]` table.
pub const PYPROJECT_TOML: &str = "pyproject.toml";

/// Why a settings file could not be used: the file, and the 1-based line and column when the
/// problem is inside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    /// `(line, column)`, 1-based, columns in code points.
    pub position: Option<(usize, usize)>,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, column)) => {
                write!(f, "{}:{line}:{column}: {}", self.path.display(), self.message)
            }
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// `per-file-ignores`: rules not reported for files matching a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PerFileIgnore {
    pub pattern: Glob,
    pub rules: Vec<Selector>,
}

/// A settings file's contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The file read.
    pub path: PathBuf,
    /// Its directory: `per-file-ignores` patterns are relative to it.
    pub root: PathBuf,
    pub airflow_version: Option<AirflowVersion>,
    pub select: Option<Vec<Selector>>,
    pub ignore: Option<Vec<Selector>>,
    pub per_file_ignores: Vec<PerFileIgnore>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RawSettings {
    airflow_version: Option<Spanned<String>>,
    select: Option<Vec<Spanned<String>>>,
    ignore: Option<Vec<Spanned<String>>>,
    per_file_ignores: Option<BTreeMap<Spanned<String>, Vec<Spanned<String>>>>,
}

#[derive(Deserialize)]
struct Pyproject {
    tool: Option<Tool>,
}

#[derive(Deserialize)]
struct Tool {
    dagsmith: Option<RawSettings>,
}

impl Settings {
    /// Reads settings from the text of `path`: a `pyproject.toml` (its `[tool.dagsmith]` table;
    /// `Ok(None)` without one) or any other file (a `dagsmith.toml`: the keys at top level).
    /// `path`'s directory becomes the root of the `per-file-ignores` patterns.
    pub fn parse(path: &Path, text: &str) -> Result<Option<Settings>, ConfigError> {
        let is_pyproject = path.file_name().is_some_and(|n| n == PYPROJECT_TOML);
        let raw = if is_pyproject {
            // Most pyproject.toml files say nothing about dagsmith: skip those without
            // parsing (a broken one that is not ours is not our error).
            if !text.contains("dagsmith") {
                return Ok(None);
            }
            let pyproject: Pyproject =
                toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
            match pyproject.tool.and_then(|t| t.dagsmith) {
                Some(raw) => raw,
                None => return Ok(None),
            }
        } else {
            toml::from_str(text).map_err(|e| toml_error(path, text, &e))?
        };
        let at = |span: std::ops::Range<usize>, message: String| ConfigError {
            path: path.to_path_buf(),
            position: Some(line_column(text, span.start)),
            message,
        };
        let selectors = |key: &str, values: Vec<Spanned<String>>| {
            values
                .into_iter()
                .filter(|v| !v.get_ref().trim().is_empty())
                .map(|v| {
                    Selector::parse(v.get_ref())
                        .map_err(|e| at(v.span(), e.message(Some(&format!("`{key}`")))))
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let airflow_version = match raw.airflow_version {
            None => None,
            Some(v) => Some(
                v.get_ref()
                    .parse::<AirflowVersion>()
                    .map_err(|e| at(v.span(), format!("invalid `airflow-version`: {e}")))?,
            ),
        };
        let select = raw.select.map(|v| selectors("select", v)).transpose()?;
        let ignore = raw.ignore.map(|v| selectors("ignore", v)).transpose()?;
        let mut per_file_ignores = Vec::new();
        for (pattern, rules) in raw.per_file_ignores.unwrap_or_default() {
            let glob = Glob::new(pattern.get_ref()).map_err(|e| {
                at(pattern.span(), format!("invalid pattern in `per-file-ignores`: {e}"))
            })?;
            per_file_ignores.push(PerFileIgnore {
                pattern: glob,
                rules: selectors("per-file-ignores", rules)?,
            });
        }
        let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(Some(Settings {
            path: path.to_path_buf(),
            root,
            airflow_version,
            select,
            ignore,
            per_file_ignores,
        }))
    }

    /// The rules `per-file-ignores` drops for `file` (an absolute path, or one relative to the
    /// settings file's directory).
    pub fn ignored_for(&self, file: &Path) -> Vec<Selector> {
        if self.per_file_ignores.is_empty() {
            return Vec::new();
        }
        let relative = file.strip_prefix(&self.root).unwrap_or(file);
        let relative = slashed(relative);
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        self.per_file_ignores
            .iter()
            .filter(|p| {
                p.pattern.matches(&relative)
                    || (!p.pattern.has_separator() && p.pattern.matches(&name))
            })
            .flat_map(|p| p.rules.iter().cloned())
            .collect()
    }
}

fn slashed(path: &Path) -> String {
    let text = path.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' { text.into_owned() } else { text.replace('\\', "/") }
}

/// 1-based line and code-point column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    ConfigError {
        path: path.to_path_buf(),
        position: e.span().map(|span| line_column(text, span.start)),
        // The message alone: toml's Display repeats the position and quotes the line.
        message: e.message().trim_end().to_string(),
    }
}

/// What the command line says; it wins over settings files.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    pub airflow_version: Option<AirflowVersion>,
    /// `--select`: replaces the file's `select` *and* `ignore`, as in ruff.
    pub select: Option<Vec<Selector>>,
    /// `--ignore`: added to the file's `ignore`.
    pub ignore: Option<Vec<Selector>>,
}

/// What applies to one checked file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileSettings {
    /// The target named by the command line or the settings file; `None` leaves it to the
    /// input (a dataset row's own version) or the default.
    pub airflow_version: Option<AirflowVersion>,
    pub selection: RuleSelection,
    /// The settings file that applied.
    pub config: Option<PathBuf>,
}

/// Combines a settings file (if any) with the command line for `file` (`None`: standard input,
/// to which `per-file-ignores` do not apply).
pub fn resolve(
    settings: Option<&Settings>,
    overrides: &Overrides,
    file: Option<&Path>,
) -> FileSettings {
    let (select, mut ignore) = match (&overrides.select, settings) {
        (Some(select), _) => (select.clone(), Vec::new()),
        (None, Some(s)) => {
            (s.select.clone().unwrap_or_default(), s.ignore.clone().unwrap_or_default())
        }
        (None, None) => (Vec::new(), Vec::new()),
    };
    if let Some(extra) = &overrides.ignore {
        ignore.extend(extra.iter().cloned());
    }
    if let (Some(s), Some(file)) = (settings, file) {
        ignore.extend(s.ignored_for(file));
    }
    FileSettings {
        airflow_version: overrides.airflow_version.or(settings.and_then(|s| s.airflow_version)),
        selection: RuleSelection { select, ignore },
        config: settings.map(|s| s.path.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(name: &str, text: &str) -> Result<Option<Settings>, ConfigError> {
        Settings::parse(&Path::new("/repo").join(name), text)
    }

    const PYPROJECT: &str = r#"[project]
name = "my-dags"

[tool.ruff]
line-length = 100

[tool.dagsmith]
airflow-version = "2.9"
select = ["DS1", "DS2"]
ignore = ["undefined-name-at-runtime"]

[tool.dagsmith.per-file-ignores]
"dags/legacy/*" = ["DS204"]
"__init__.py" = ["DS101"]
"#;

    #[test]
    fn reads_tool_dagsmith_from_pyproject() {
        let s = parse("pyproject.toml", PYPROJECT).unwrap().unwrap();
        assert_eq!(s.airflow_version, Some(AirflowVersion::new(2, 9, None)));
        let prefixes = |v: &Option<Vec<Selector>>| {
            v.as_ref().unwrap().iter().map(|s| s.prefix().to_string()).collect::<Vec<_>>()
        };
        assert_eq!(prefixes(&s.select), ["DS1", "DS2"]);
        assert_eq!(prefixes(&s.ignore), ["DS103"]);
        assert_eq!(s.root, Path::new("/repo"));
        let codes = |file: &str| {
            s.ignored_for(Path::new(file))
                .iter()
                .map(|s| s.prefix().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(codes("/repo/dags/legacy/old.py"), ["DS204"]);
        assert_eq!(codes("/repo/dags/pkg/__init__.py"), ["DS101"]);
        assert!(codes("/repo/dags/new.py").is_empty());
        assert!(codes("/elsewhere/dags/legacy/old.py").is_empty());
    }

    #[test]
    fn pyproject_without_our_table_is_skipped() {
        assert_eq!(parse("pyproject.toml", "[project]\nname = 'x'\n"), Ok(None));
        assert_eq!(parse("pyproject.toml", "[tool.other]\ndagsmith = 1\n"), Ok(None));
        // Not ours and broken: not our error.
        assert_eq!(parse("pyproject.toml", "[project\n"), Ok(None));
    }

    #[test]
    fn dagsmith_toml_has_top_level_keys() {
        let s = parse("dagsmith.toml", "airflow-version = \"3.0\"\n").unwrap().unwrap();
        assert_eq!(s.airflow_version, Some(AirflowVersion::new(3, 0, None)));
        assert_eq!(s.select, None);
        let s = parse("dagsmith.toml", "").unwrap().unwrap();
        assert_eq!(s.airflow_version, None);
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let e = parse("dagsmith.toml", "select = [\"DS1\"]\nignore = [\"DS9\"]\n").unwrap_err();
        assert_eq!(e.position, Some((2, 11)));
        assert!(e.to_string().starts_with("/repo/dagsmith.toml:2:11: unknown rule \"DS9\""), "{e}");
        assert!(e.message.contains("in `ignore`"), "{e}");

        let e = parse("dagsmith.toml", "airflow-version = \"two\"\n").unwrap_err();
        assert_eq!(e.position, Some((1, 19)));
        assert!(e.message.contains("invalid `airflow-version`"), "{e}");

        let e = parse("dagsmith.toml", "\nairflow_version = \"2.9\"\n").unwrap_err();
        assert_eq!(e.position.map(|p| p.0), Some(2));
        assert!(e.message.contains("airflow_version"), "{e}");

        let e = parse("pyproject.toml", "[tool.dagsmith]\nselect = [\"DS1\"\n").unwrap_err();
        assert!(e.position.is_some(), "{e}");

        let e = parse("dagsmith.toml", "[per-file-ignores]\n\"x[\" = [\"DS1\"]\n").unwrap_err();
        assert_eq!(e.position, Some((2, 1)));
        assert!(e.message.contains("unclosed"), "{e}");
    }

    #[test]
    fn command_line_wins() {
        let s = parse("pyproject.toml", PYPROJECT).unwrap().unwrap();
        let file = Path::new("/repo/dags/legacy/old.py");
        let none = Overrides::default();
        let r = resolve(Some(&s), &none, Some(file));
        assert_eq!(r.airflow_version, Some(AirflowVersion::new(2, 9, None)));
        assert!(r.selection.keeps("DS102") && !r.selection.keeps("DS103"));
        assert!(!r.selection.keeps("DS204"), "per-file ignore");
        assert!(!r.selection.keeps("DS001"), "not selected");
        assert_eq!(r.config.as_deref(), Some(Path::new("/repo/pyproject.toml")));

        let cli = Overrides {
            airflow_version: Some(AirflowVersion::new(3, 1, None)),
            select: Some(vec![
                Selector::parse("DS103").unwrap(),
                Selector::parse("DS204").unwrap(),
            ]),
            ignore: None,
        };
        let r = resolve(Some(&s), &cli, Some(file));
        assert_eq!(r.airflow_version, Some(AirflowVersion::new(3, 1, None)));
        assert!(r.selection.keeps("DS103"), "--select replaces the file's select and ignore");
        assert!(!r.selection.keeps("DS204"), "per-file ignores still apply");
        assert!(!r.selection.keeps("DS102"));

        let cli = Overrides { ignore: Some(vec![Selector::parse("DS2").unwrap()]), ..none };
        let r = resolve(Some(&s), &cli, None);
        assert!(r.selection.keeps("DS102") && !r.selection.keeps("DS202"));
        assert!(!r.selection.keeps("DS103"), "--ignore adds to the file's ignore");

        let r = resolve(None, &Overrides::default(), Some(file));
        assert!(r.selection.is_all() && r.airflow_version.is_none() && r.config.is_none());
    }
}
