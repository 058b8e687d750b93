//! `dagsmith-catalog-gen`: builds the Airflow catalog embedded in dagsmith-core.
//!
//! Usage: `dagsmith-catalog-gen LOCK WHEEL_DIR OUT_FILE`
//!        `dagsmith-catalog-gen query [CATALOG_FILE] < QUERIES` (see `query.rs`)
//!
//! LOCK is written by `pick_dists.py` (one line per target and distribution:
//! `TARGET NAME VERSION SHA256 WHEEL_FILENAME`); WHEEL_DIR holds those wheels. Every `.py`
//! file under `airflow/` in each wheel is parsed with ruff's parser — never imported or run —
//! and its module-level names, classes and `__init__` signatures, Airflow's lazy-import
//! dictionaries and its `add_deprecated_classes` shims are recorded. The output format is
//! described in docs/CATALOG.md and read by `dagsmith_core::catalog`.

mod ast_walk;
mod class_facts;
mod extract;
mod query;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::Read;
use std::path::Path;

use extract::{ModInfo, VirtualMod};

struct LockLine {
    target: String,
    dist: String,
    version: String,
    wheel: String,
}

/// Everything read from one wheel.
struct WheelData {
    modules: Vec<(String, ModInfo)>,
    virtuals: Vec<(String, VirtualMod)>,
    parse_errors: usize,
}

fn read_wheel(path: &Path) -> WheelData {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut zip = zip::ZipArchive::new(file).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut modules = Vec::new();
    let mut virtuals = Vec::new();
    let mut parse_errors = 0;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).expect("zip entry");
        let name = entry.name().to_string();
        if !name.starts_with("airflow/") || !name.ends_with(".py") {
            continue;
        }
        let mut src = String::new();
        if entry.read_to_string(&mut src).is_err() {
            continue;
        }
        let stem = &name[..name.len() - 3];
        let (dotted, is_package) = match stem.strip_suffix("/__init__") {
            Some(pkg) => (pkg.replace('/', "."), true),
            None => (stem.replace('/', "."), false),
        };
        if dotted.split('.').any(|p| p.is_empty() || p.contains('-') || p.contains(' ')) {
            continue;
        }
        let (mut info, virt, had_errors) = extract::extract_module(&dotted, is_package, &src);
        if is_internal(&dotted) {
            // Server/CLI/migration internals: existence only, any attribute accepted.
            info = ModInfo { is_package, open: true, ..Default::default() };
        }
        if had_errors {
            parse_errors += 1;
        }
        modules.push((dotted, info));
        virtuals.extend(virt);
    }
    WheelData { modules, virtuals, parse_errors }
}

/// Modules no DAG file has a reason to import from: their names are not recorded (the
/// module is stored as "open": any attribute accepted), to keep the catalog small.
fn is_internal(dotted: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "airflow.migrations.",
        "airflow.api_fastapi.",
        "airflow.api_connexion.",
        "airflow.www.",
        "airflow.cli.",
        "airflow.ui.",
        "airflow._vendor.",
        "airflow.example_dags.",
    ];
    PREFIXES.iter().any(|p| dotted.starts_with(p)) || dotted.contains(".example_dags.")
}

/// A module as it exists in one target.
#[derive(Clone)]
struct TargetModule {
    dist: usize,
    flags: String,
    info: ModInfo,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("query") {
        query::run(args.get(2).map(String::as_str));
        return;
    }
    if args.len() != 4 {
        eprintln!("usage: dagsmith-catalog-gen LOCK WHEEL_DIR OUT_FILE");
        std::process::exit(2);
    }
    let lock = std::fs::read_to_string(&args[1]).expect("lock file");
    let wheel_dir = Path::new(&args[2]);
    let out = &args[3];
    let lines = parse_lock(&lock);
    let mut targets: Vec<String> = Vec::new();
    for l in &lines {
        if !targets.contains(&l.target) {
            targets.push(l.target.clone());
        }
    }
    assert!(targets.len() <= 16, "at most 16 targets");
    let mut dists: Vec<String> = Vec::new();
    for l in &lines {
        if !dists.contains(&l.dist) {
            dists.push(l.dist.clone());
        }
    }
    let wheels = read_wheels(&lines, wheel_dir);
    let per_target: Vec<BTreeMap<String, TargetModule>> =
        targets.iter().map(|t| target_modules(t, &lines, &dists, &wheels)).collect();
    let recs = merge_targets(&targets, &per_target);
    let rendered = render(&targets, &dists, &lines, &recs);
    std::fs::write(out, &rendered.text).expect("write output");
    eprintln!(
        "wrote {out}: {} bytes, {} modules, {} names, {} classes",
        rendered.text.len(),
        rendered.n_mod,
        rendered.n_name,
        rendered.n_class
    );
}

/// The lines of the lock file (`TARGET NAME VERSION SHA256 WHEEL_FILENAME`), comments skipped.
fn parse_lock(lock: &str) -> Vec<LockLine> {
    lock.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            LockLine {
                target: f[0].into(),
                dist: f[1].into(),
                version: f[2].into(),
                wheel: f[4].into(),
            }
        })
        .collect()
}

/// Parses each distinct wheel the lock names once.
fn read_wheels(lines: &[LockLine], wheel_dir: &Path) -> HashMap<String, WheelData> {
    let mut wheels: HashMap<String, WheelData> = HashMap::new();
    let t0 = std::time::Instant::now();
    for l in lines {
        if !wheels.contains_key(&l.wheel) {
            let data = read_wheel(&wheel_dir.join(&l.wheel));
            eprintln!(
                "{} {}: {} modules, {} with syntax errors",
                l.dist,
                l.version,
                data.modules.len(),
                data.parse_errors
            );
            wheels.insert(l.wheel.clone(), data);
        }
    }
    eprintln!("parsed {} wheels in {:.1?}", wheels.len(), t0.elapsed());
    wheels
}

/// The modules of one target: its wheels' modules, their implicit parent packages and the
/// virtual modules of deprecation shims, with star imports resolved.
fn target_modules(
    t: &str,
    lines: &[LockLine],
    dists: &[String],
    wheels: &HashMap<String, WheelData>,
) -> BTreeMap<String, TargetModule> {
    let mut mods: BTreeMap<String, TargetModule> = BTreeMap::new();
    let mut virts: Vec<(String, usize, VirtualMod)> = Vec::new();
    for l in lines.iter().filter(|l| l.target == t) {
        let dist = dists.iter().position(|d| d == &l.dist).unwrap();
        let w = &wheels[&l.wheel];
        for (m, info) in &w.modules {
            match mods.get_mut(m) {
                // Namespace packages (e.g. `airflow.providers`) shipped by several wheels.
                Some(existing) => existing.info.merge(info),
                None => {
                    mods.insert(
                        m.clone(),
                        TargetModule {
                            dist,
                            flags: if info.is_package { "p".into() } else { String::new() },
                            info: info.clone(),
                        },
                    );
                }
            }
        }
        for (m, v) in &w.virtuals {
            virts.push((m.clone(), dist, v.clone()));
        }
    }
    // Implicit namespace packages: every parent folder of a module.
    let names: Vec<String> = mods.keys().cloned().collect();
    for m in &names {
        let dist = mods[m].dist;
        let mut parts: Vec<&str> = m.split('.').collect();
        while parts.len() > 1 {
            parts.pop();
            let parent = parts.join(".");
            mods.entry(parent).or_insert_with(|| TargetModule {
                dist,
                flags: "p".into(),
                info: ModInfo { is_package: true, ..Default::default() },
            });
        }
    }
    // Virtual modules (add_deprecated_classes): the package's `__init__` registers them with
    // `sys.modules.setdefault` before any submodule can be imported, and CPython's import
    // then returns that entry, so a virtual module usually shadows a real file of the same
    // name (`airflow.hooks.base` in 3.x: `BaseHook` comes through the shim). Which one wins
    // depends on import order, so both sets of names are kept (no false "missing"), and the
    // module is flagged as a shim. A virtual module for the package itself adds names.
    for (m, dist, v) in virts {
        match mods.get_mut(&m) {
            Some(existing) => {
                for (n, tgt) in &v.names {
                    existing.info.names.entry(n.clone()).or_insert_with(|| tgt.clone());
                }
                if v.wildcard.is_some() {
                    existing.info.open = true;
                }
                if !v.is_self && !existing.flags.contains('v') {
                    existing.flags.push('v');
                }
            }
            None => {
                let info = ModInfo {
                    names: v.names.clone(),
                    open: v.wildcard.is_some(),
                    forward: v.wildcard.clone(),
                    ..Default::default()
                };
                mods.insert(m, TargetModule { dist, flags: "v".into(), info });
            }
        }
    }
    resolve_stars(&mut mods);
    mods
}

/// The catalog's records, each line with the mask of the targets it holds in.
struct Records {
    /// module -> (dist, flags, forward) -> mask
    modules: BTreeMap<String, BTreeMap<(usize, String), u16>>,
    /// module -> name line -> mask
    names: BTreeMap<String, BTreeMap<String, u16>>,
    /// module -> class line -> mask
    classes: BTreeMap<String, BTreeMap<String, u16>>,
}

/// Merges the targets' modules into records with version masks.
fn merge_targets(targets: &[String], per_target: &[BTreeMap<String, TargetModule>]) -> Records {
    let mut module_recs: BTreeMap<String, BTreeMap<(usize, String), u16>> = BTreeMap::new();
    let mut name_recs: BTreeMap<String, BTreeMap<String, u16>> = BTreeMap::new();
    let mut class_recs: BTreeMap<String, BTreeMap<String, u16>> = BTreeMap::new();
    for (ti, mods) in per_target.iter().enumerate() {
        let bit = 1u16 << ti;
        let release = parse_release(&targets[ti]);
        for (m, tm) in mods {
            let mut flags = tm.flags.clone();
            if tm.info.open {
                flags.push('o');
            }
            // The module raises when imported in this target (it needs a newer Airflow).
            if let Some(needed) = tm.info.requires_airflow
                && release < needed
            {
                flags.push_str(&format!("r{}.{}", needed.0, needed.1));
                if needed.2 > 0 {
                    flags.push_str(&format!(".{}", needed.2));
                }
            }
            let mut flag_field = if flags.is_empty() { "-".to_string() } else { flags };
            if let Some(f) = &tm.info.forward {
                flag_field.push('>');
                flag_field.push_str(f);
            }
            *module_recs.entry(m.clone()).or_default().entry((tm.dist, flag_field)).or_default() |=
                bit;
            let nr = name_recs.entry(m.clone()).or_default();
            for (n, tgt) in &tm.info.names {
                if tm.info.classes.contains_key(n) {
                    continue; // classes carry their own line
                }
                let line = match tgt {
                    Some(t) => format!("{n} {}", compress_target(m, n, t)),
                    None => n.clone(),
                };
                *nr.entry(line).or_default() |= bit;
            }
            let cr = class_recs.entry(m.clone()).or_default();
            for (n, c) in &tm.info.classes {
                let line = format!("{n} {}", c.encode(m));
                *cr.entry(line).or_default() |= bit;
            }
        }
    }
    Records { modules: module_recs, names: name_recs, classes: class_recs }
}

/// The catalog's text and what it counts.
struct Rendered {
    text: String,
    n_mod: usize,
    n_name: usize,
    n_class: usize,
}

/// The catalog file: header, distributions, then each module with its classes and names.
fn render(targets: &[String], dists: &[String], lines: &[LockLine], recs: &Records) -> Rendered {
    let mut text = String::new();
    writeln!(text, "dagsmith-airflow-catalog 2").unwrap();
    writeln!(text, "T {}", targets.join(" ")).unwrap();
    for d in dists {
        let short = d.strip_prefix("apache-airflow-providers-").map(|s| format!("+{s}"));
        // The distribution's version in each target (`-`: not part of that target).
        let versions: Vec<&str> = targets
            .iter()
            .map(|t| {
                lines
                    .iter()
                    .find(|l| &l.target == t && &l.dist == d)
                    .map_or("-", |l| l.version.as_str())
            })
            .collect();
        writeln!(text, "D {} {}", short.as_deref().unwrap_or(d), versions.join(" ")).unwrap();
    }
    let all_mask: u16 = ((1u32 << targets.len()) - 1) as u16;
    let mut prev = String::new();
    let (mut n_mod, mut n_name, mut n_class) = (0, 0, 0);
    for (m, module_recs) in &recs.modules {
        // Module path, front-coded against the previous one: `M <shared> <rest>`.
        let shared = common_prefix_segments(&prev, m);
        writeln!(text, "M{} {}", shared.0, &m[shared.1..]).unwrap();
        prev = m.clone();
        n_mod += 1;
        for ((dist, flags), mask) in module_recs {
            writeln!(text, "{} {} {}", mask_str(*mask, all_mask), dist, flags).unwrap();
        }
        if let Some(cs) = recs.classes.get(m) {
            for (line, mask) in cs {
                writeln!(text, "c{} {}", mask_str(*mask, all_mask), line).unwrap();
                n_class += 1;
            }
        }
        if let Some(ns) = recs.names.get(m) {
            for (line, mask) in ns {
                writeln!(text, "n{} {}", mask_str(*mask, all_mask), line).unwrap();
                n_name += 1;
            }
        }
    }
    Rendered { text, n_mod, n_name, n_class }
}

/// `2.11.2` (or the snapshot `2.11.2~`) as numbers.
fn parse_release(target: &str) -> (u32, u32, u32) {
    let mut parts = target.trim_end_matches('~').split('.').map(|p| p.parse().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// `*` for every target, otherwise the mask as a decimal number.
fn mask_str(mask: u16, all: u16) -> String {
    if mask == all { "*".into() } else { mask.to_string() }
}

/// Number of shared leading dotted segments and the byte offset where the rest starts.
fn common_prefix_segments(prev: &str, cur: &str) -> (usize, usize) {
    let mut n = 0;
    let mut off = 0;
    let (mut a, mut b) = (prev.split('.'), cur.split('.'));
    let cur_parts: Vec<&str> = cur.split('.').collect();
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y && n + 1 < cur_parts.len() => {
                n += 1;
                off += y.len() + 1;
            }
            _ => break,
        }
    }
    (n, off)
}

/// Targets are stored relative where that is shorter: `=` for "module of the same name as
/// the alias plus the alias" is not used; instead a target ending in `.NAME` (same name as the
/// alias) is written as `PREFIX.` (trailing dot means "append the alias name").
fn compress_target(_module: &str, name: &str, target: &str) -> String {
    // Several candidates (`a|b`, tried in order) are compressed one by one.
    target
        .split('|')
        .map(|t| match t.strip_suffix(name) {
            Some(prefix) if prefix.ends_with('.') => prefix.to_string(),
            _ => t.to_string(),
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// `from X import *`: copies X's public names (its `__all__` if it has one) into the module.
fn resolve_stars(mods: &mut BTreeMap<String, TargetModule>) {
    for _round in 0..6 {
        let mut changed = false;
        let keys: Vec<String> =
            mods.iter().filter(|(_, m)| !m.info.stars.is_empty()).map(|(k, _)| k.clone()).collect();
        for k in keys {
            let stars = mods[&k].info.stars.clone();
            let mut add: Vec<(String, Option<String>)> = Vec::new();
            let mut open = false;
            for s in &stars {
                match mods.get(s) {
                    Some(src) => {
                        if src.info.open {
                            open = true;
                        }
                        let names: BTreeSet<String> = match &src.info.all {
                            Some(all) => all.iter().cloned().collect(),
                            None => src
                                .info
                                .names
                                .keys()
                                .filter(|n| !n.starts_with('_'))
                                .cloned()
                                .collect(),
                        };
                        for n in names {
                            add.push((n.clone(), Some(format!("{s}.{n}"))));
                        }
                    }
                    None => {
                        if s.starts_with("airflow.") || s == "airflow" {
                            // An airflow module missing here: the star import would fail.
                        } else {
                            open = true;
                        }
                    }
                }
            }
            let m = mods.get_mut(&k).unwrap();
            for (n, t) in add {
                if let std::collections::btree_map::Entry::Vacant(e) = m.info.names.entry(n) {
                    e.insert(t);
                    changed = true;
                }
            }
            if open && !m.info.open {
                m.info.open = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}
