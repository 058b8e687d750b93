//! Reads the catalog text written by `dagsmith-catalog-gen` (format: docs/CATALOG.md).

use std::fmt;

use super::{ClassRec, Existence, Module, NameRec};

/// The catalog text is malformed (only possible for hand-made or truncated data).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "catalog line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// A distribution: its name and its version in each target (`None`: not part of it).
pub(super) type Dist = (String, Vec<Option<&'static str>>);

type Parsed = (Vec<&'static str>, Vec<Dist>, Vec<Module>);

fn mask(s: &str, all: u16) -> Option<u16> {
    if s == "*" { Some(all) } else { s.parse().ok() }
}

pub(super) fn parse(text: &'static str) -> Result<Parsed, ParseError> {
    let mut targets: Vec<&'static str> = Vec::new();
    let mut dists: Vec<Dist> = Vec::new();
    let mut modules: Vec<Module> = Vec::new();
    let mut all: u16 = 0;
    let mut lines = text.lines().enumerate();
    let err = |line: usize, message: &str| ParseError { line: line + 1, message: message.into() };
    match lines.next() {
        Some((_, "dagsmith-airflow-catalog 2")) => {}
        _ => return Err(err(0, "not a dagsmith Airflow catalog (version 2)")),
    }
    let mut prev_segments: Vec<&'static str> = Vec::new();
    for (no, line) in lines {
        let bad = |m: &str| err(no, m);
        let Some(tag) = line.as_bytes().first() else { continue };
        match tag {
            b'T' => {
                targets = line[2..].split(' ').collect();
                if targets.is_empty() || targets.len() > 16 {
                    return Err(bad("1 to 16 targets expected"));
                }
                all = ((1u32 << targets.len()) - 1) as u16;
            }
            b'D' => {
                let mut f = line[2..].split(' ');
                let d = f.next().unwrap_or("");
                let name = match d.strip_prefix('+') {
                    Some(p) => format!("apache-airflow-providers-{p}"),
                    None => d.to_string(),
                };
                let versions: Vec<Option<&'static str>> =
                    f.map(|v| if v == "-" { None } else { Some(v) }).collect();
                if versions.len() != targets.len() {
                    return Err(bad("one version per target expected"));
                }
                dists.push((name, versions));
            }
            b'M' => {
                let (shared, rest) = line[1..].split_once(' ').ok_or_else(|| bad("module line"))?;
                let shared: usize = shared.parse().map_err(|_| bad("module prefix count"))?;
                if shared > prev_segments.len() {
                    return Err(bad("module prefix longer than the previous module"));
                }
                prev_segments.truncate(shared);
                prev_segments.extend(rest.split('.'));
                modules.push(Module {
                    path: prev_segments.join("."),
                    exists: Vec::new(),
                    classes: Vec::new(),
                    names: Vec::new(),
                });
            }
            b'n' => {
                let m = modules.last_mut().ok_or_else(|| bad("name before any module"))?;
                let mut f = line[1..].splitn(3, ' ');
                let mask = f.next().and_then(|s| mask(s, all)).ok_or_else(|| bad("name mask"))?;
                let name = f.next().ok_or_else(|| bad("name"))?;
                m.names.push(NameRec { mask, name, target: f.next() });
            }
            b'c' => {
                let m = modules.last_mut().ok_or_else(|| bad("class before any module"))?;
                let mut f = line[1..].splitn(6, ' ');
                let mask = f.next().and_then(|s| mask(s, all)).ok_or_else(|| bad("class mask"))?;
                let name = f.next().ok_or_else(|| bad("class name"))?;
                let bases = f.next().ok_or_else(|| bad("class bases"))?;
                let params = f.next().ok_or_else(|| bad("class params"))?;
                let attrs = f.next().ok_or_else(|| bad("class attributes"))?;
                let deprecation = match f.next() {
                    None => None,
                    Some(d) => Some(d.strip_prefix('!').ok_or_else(|| bad("class deprecation"))?),
                };
                m.classes.push(ClassRec { mask, name, bases, params, attrs, deprecation });
            }
            _ => {
                // Existence: `MASK DIST FLAGS[>FORWARD]`
                let m = modules.last_mut().ok_or_else(|| bad("existence before any module"))?;
                let mut f = line.splitn(3, ' ');
                let mask = f.next().and_then(|s| mask(s, all)).ok_or_else(|| bad("mask"))?;
                let dist: u16 =
                    f.next().and_then(|s| s.parse().ok()).ok_or_else(|| bad("distribution"))?;
                if dist as usize >= dists.len() {
                    return Err(bad("unknown distribution"));
                }
                let flags_all = f.next().unwrap_or("-");
                let (flags, forward) = match flags_all.split_once('>') {
                    Some((a, b)) => (a, Some(b)),
                    None => (flags_all, None),
                };
                // `rX.Y`: importing the module raises in these targets (it needs Airflow X.Y).
                let requires = flags.find('r').map(|i| &flags[i + 1..]).filter(|v| !v.is_empty());
                m.exists.push(Existence {
                    mask,
                    dist,
                    package: flags.contains('p'),
                    shim: flags.contains('v'),
                    open: flags.contains('o'),
                    forward,
                    requires,
                });
            }
        }
    }
    if targets.is_empty() {
        return Err(err(1, "no targets"));
    }
    Ok((targets, dists, modules))
}
