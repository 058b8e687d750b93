//! The API sheet: a short, catalog-grounded reference added to a generation prompt.
//!
//! A 1.5B model writes plausible Airflow from memory: operator names with their words in the
//! wrong order, Airflow 2 import paths in a 3.x file, arguments that do not exist. Repair rounds
//! rarely help, because the model does not know the right name either. The catalog does: for the
//! target version this picks the operators, sensors and hooks whose names and modules match the
//! request's words (services, providers, verbs, class names it mentions) and writes their exact
//! import lines and required arguments, after the version's idioms (how to import `DAG`, `task`
//! and the core operators, `schedule=`, dates), within a size budget.
//!
//! Only classes that are current are offered: for a 2.x request, the class must also exist in
//! the newest 2.x target (a DAG built on an operator that later provider releases removed breaks
//! at the user's next upgrade), and deprecation shims are skipped.

use std::sync::OnceLock;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::AirflowVersion;
use crate::catalog::{Catalog, Target, catalog};

/// Default size of the class part of a sheet, in bytes (~4 bytes a token: ~350 tokens).
pub const DEFAULT_BUDGET: usize = 1400;

/// At most this many classes, however small they are: a long list dilutes the model's choice.
const MAX_CLASSES: usize = 6;

/// Instruction words that name a service differently from the catalog's module names.
/// (instruction word or phrase, catalog word it stands for)
const SYNONYMS: &[(&str, &str)] = &[
    ("gs", "gcs"),
    ("cloud storage", "gcs"),
    ("google cloud storage", "gcs"),
    ("pub/sub", "pubsub"),
    ("pub sub", "pubsub"),
    ("gke", "kubernetes_engine"),
    ("kubernetes engine", "kubernetes_engine"),
    ("blob", "wasb"),
    ("blob storage", "wasb"),
    ("service bus", "asb"),
    ("data factory", "data_factory"),
    ("lambda", "lambda_function"),
    ("k8s", "kubernetes"),
    ("rest", "http"),
    ("endpoint", "http"),
    ("gcp", "google"),
    ("aws", "amazon"),
    ("azure", "microsoft"),
    ("kubernetes", "cncf"),
    ("wait", "sensor"),
    ("waits", "sensor"),
    ("until", "sensor"),
    ("poke", "sensor"),
    ("notebook", "notebook"),
    ("sql warehouse", "databricks_sql"),
    ("statement", "sql"),
    ("query", "sql"),
    ("shell", "bash"),
    ("command", "bash"),
    ("mail", "email"),
    ("job flow", "emr"),
    ("crawler", "crawler"),
    ("container", "docker"),
    ("pod", "pod"),
    ("provision", "create"),
    ("provisions", "create"),
    ("file", "filesystem"),
    ("files", "filesystem"),
    ("remove", "delete"),
    ("removes", "delete"),
    ("execute", "run"),
    ("executes", "run"),
];

/// Providers that most DAGs use. Where several providers have a service of the same name
/// (Google's and Yandex's Dataproc), a request that names no provider means one of these.
const COMMON_PROVIDERS: &[&str] = &[
    "standard",
    "common",
    "google",
    "amazon",
    "microsoft",
    "cncf",
    "docker",
    "http",
    "postgres",
    "mysql",
    "snowflake",
    "databricks",
    "sqlite",
    "trino",
    "slack",
    "ssh",
    "sftp",
    "smtp",
    "redis",
    "mongo",
    "elasticsearch",
    "apache",
    "dbt",
    "oracle",
    "presto",
    "ftp",
];

/// Words too common in requests and class names to tell services apart.
const STOP_WORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "and",
    "or",
    "of",
    "to",
    "in",
    "on",
    "for",
    "with",
    "by",
    "from",
    "into",
    "that",
    "then",
    "it",
    "its",
    "is",
    "are",
    "be",
    "as",
    "at",
    "each",
    "every",
    "all",
    "named",
    "called",
    "dag",
    "dags",
    "airflow",
    "task",
    "tasks",
    "operator",
    "operators",
    "write",
    "build",
    "use",
    "uses",
    "using",
    "after",
    "before",
    "first",
    "second",
    "third",
    "one",
    "two",
    "three",
    "daily",
    "hourly",
    "run",
    "runs",
    "pipeline",
    "workflow",
    "data",
    "new",
    "file",
    "files",
    "table",
    "version",
    "name",
    "finally",
    "end",
    "when",
    "if",
    "so",
    "only",
    "also",
    "this",
    "their",
    "them",
    "they",
    "which",
    "while",
    "should",
    "demonstrates",
    "develop",
    "design",
    "construct",
    "airflow's",
    "get",
    "set",
    "id",
];

/// Service words that are also everyday words: a request that uses one of them ("log the
/// result", "a dataset") is not about that provider's service unless it names the provider.
const GENERIC_SERVICE_WORDS: &[&str] = &[
    "logging",
    "log",
    "dataset",
    "datasets",
    "function",
    "functions",
    "record",
    "publish",
    "time",
    "sql",
    "job",
    "jobs",
    "file",
    "filesystem",
    "table",
    "tables",
    "query",
    "data",
    "transfer",
    "compute",
    "batch",
    "workflow",
    "workflows",
    "text",
    "speech",
    "video",
    "vision",
    "language",
    "search",
    "storage",
    "translate",
    "natural",
    "custom",
    "model",
    "pipeline",
    "pipelines",
    "notebook",
    "cluster",
    "instance",
    "database",
    "email",
    "api",
    "run",
    "service",
    "sensor",
    "operator",
    "message",
    "queue",
    "bucket",
    "object",
    "key",
    "task",
    "external",
    "python",
    "bash",
];

/// One class the sheet can offer.
#[derive(Debug)]
struct Candidate {
    module: &'static str,
    class: &'static str,
    /// Lowercase words of the class name and of its module's service segments.
    words: Vec<String>,
    /// The provider (`google`, `amazon`, ...; `core` for Airflow's own modules).
    provider: &'static str,
    /// The words of the module's last segment (`s3_to_redshift` → s3, redshift): the service.
    service: Vec<String>,
}

impl Candidate {
    /// Whether the request is about this class's service, from a provider it names or a
    /// common one. `terms`: sorted (see [`request_terms`]).
    fn fits(&self, terms: &[String]) -> bool {
        let named_provider = terms.iter().any(|t| t == self.provider);
        let core = matches!(self.provider, "core" | "standard" | "common");
        let matched = |w: &String| terms.binary_search(w).is_ok();
        let service = self.service.iter().any(|w| {
            matched(w) && (core || named_provider || !GENERIC_SERVICE_WORDS.contains(&w.as_str()))
        });
        // A transfer (`s3_to_redshift`) fits only a request that names both ends.
        if self.module.contains(".transfers.") && !self.service.iter().all(matched) {
            return false;
        }
        service && (core || named_provider || COMMON_PROVIDERS.contains(&self.provider))
    }
}

/// The sheet for one request: the version's idioms, then the matching classes.
pub fn api_sheet(instruction: &str, version: AirflowVersion, budget: usize) -> String {
    let cat = catalog();
    let target = cat.target_for(version);
    let mut out = idioms(version);
    let picked = pick_classes(cat, target, version, instruction, budget, &out);
    if !picked.is_empty() {
        out.push_str(
            "\nOperators, sensors and hooks of this Airflow version that fit the request \
             (exact imports; required arguments besides task_id):\n",
        );
        for line in picked {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// Import lines (with required arguments) of the classes named in `text` (a finding's message and
/// hint: "did you mean `X`?") that exist in this version, for a repair round.
pub fn class_lines_named(text: &str, version: AirflowVersion) -> Vec<String> {
    let cat = catalog();
    let target = cat.target_for(version);
    // Modules the text names (the failing import's): a class's home nearest to them wins
    // (Google's Dataproc operator for a file that imports from Google's provider, not Yandex's).
    let mentioned: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .filter(|w| w.starts_with("airflow."))
        .collect();
    let shared = |m: &str| {
        mentioned
            .iter()
            .map(|x| x.split('.').zip(m.split('.')).take_while(|(a, b)| a == b).count())
            .max()
            .unwrap_or(0)
    };
    let mut out: Vec<String> = Vec::new();
    for name in named_classes(text) {
        let homes = cat.find_class(target, &name);
        // `find_class` lists definitions first; among the nearest homes keep that order.
        let Some(module) = homes
            .iter()
            .enumerate()
            .max_by_key(|(i, m)| (shared(m), usize::MAX - i))
            .map(|(_, m)| m)
        else {
            continue;
        };
        let line = class_line(cat, target, module, &name);
        if !out.contains(&line) {
            out.push(line);
        }
    }
    out
}

/// How DAG files are written for this version: imports of the core names and the rules a small
/// model most often gets wrong. Every import line is checked against the catalog by a test.
pub fn idioms(version: AirflowVersion) -> String {
    let v = format!("{}.{}", version.major, version.minor);
    if version.is_v3() {
        format!(
            "Airflow {v} reference (import only the names you use, from exactly these modules):\n\
             from airflow.sdk import DAG, dag, task, task_group, TaskGroup, Asset\n\
             from airflow.providers.standard.operators.bash import BashOperator\n\
             from airflow.providers.standard.operators.python import PythonOperator, BranchPythonOperator, ShortCircuitOperator\n\
             from airflow.providers.standard.operators.empty import EmptyOperator\n\
             import pendulum\n\
             Rules for Airflow {v}: `schedule=` (never `schedule_interval`); \
             `start_date=pendulum.datetime(2024, 1, 1, tz=\"UTC\")`; no `airflow.utils.dates`, no \
             `days_ago`, no `provide_context`; no `airflow.operators.*` or \
             `airflow.sensors.*` modules (operators and sensors come from providers); create every \
             task inside `with DAG(...) as dag:` or a `@dag` function; a group block is \
             `with TaskGroup(\"id\"):` (`@task_group` only decorates a function); `from datetime \
             import timedelta` (pendulum has no `timedelta`); define every function before a \
             task uses it.\n"
        )
    } else {
        let empty = if version.at_least(2, 3) { "EmptyOperator" } else { "DummyOperator" };
        let empty_module = if version.at_least(2, 3) { "empty" } else { "dummy" };
        let mut s = format!(
            "Airflow {v} reference (import only the names you use, from exactly these modules):\n\
             from airflow import DAG\n\
             from airflow.decorators import dag, task, task_group\n\
             from airflow.utils.task_group import TaskGroup\n\
             from airflow.operators.bash import BashOperator\n\
             from airflow.operators.python import PythonOperator, BranchPythonOperator, ShortCircuitOperator\n\
             from airflow.operators.{empty_module} import {empty}\n"
        );
        if version.at_least(2, 4) {
            s.push_str("from airflow.datasets import Dataset\n");
        }
        s.push_str("import pendulum\n");
        s.push_str(&format!(
            "Rules for Airflow {v}: {}`start_date=pendulum.datetime(2024, 1, 1, tz=\"UTC\")`; no \
             `days_ago`, no `provide_context`, no `*_operator` modules (`airflow.operators.bash_operator` \
             is deprecated); create every task inside `with DAG(...) as dag:` or a `@dag` function; \
             a group block is `with TaskGroup(\"id\"):` (`@task_group` only decorates a function); \
             `from datetime import timedelta` (pendulum has no `timedelta`); define every function \
             before a task uses it.\n",
            if version.at_least(2, 4) { "`schedule=` (not `schedule_interval`); " } else { "" }
        ));
        s
    }
}

/// The import lines (with required arguments) of the classes that fit the request best.
fn pick_classes(
    cat: &'static Catalog,
    target: Target,
    version: AirflowVersion,
    instruction: &str,
    budget: usize,
    idiom_text: &str,
) -> Vec<String> {
    let Candidates { all: cands, df, n_docs, by_service_word, by_class } =
        candidates(cat, target, version);
    let n_docs = *n_docs;
    let terms = request_terms(instruction);
    let proper = proper_nouns(instruction);
    let named = named_classes(instruction);
    let wants_hooks = terms.iter().any(|t| t == "hook");
    // Only a named class or one with a service word among the terms can score (see `fits`):
    // look those up instead of testing thousands of candidates per request. In catalog order,
    // as a scan would meet them (the sort below breaks no tie by position, but stays stable).
    let lists = named
        .iter()
        .filter_map(|n| by_class.get(n.as_str()))
        .chain(terms.iter().filter_map(|t| by_service_word.get(t.as_str())))
        .map(Vec::as_slice);
    let reachable = crate::id_set::union_in_order(0, cands.len(), lists);
    let mut scored: Vec<(f32, &Candidate)> = Vec::new();
    for c in reachable.map(|i| &cands[i]) {
        let mut score = 0.0f32;
        if named.iter().any(|n| n == c.class) {
            score += 100.0;
        } else if !c.fits(&terms) || (c.class.ends_with("Hook") && !wants_hooks) {
            // Hooks only for requests about hooks: operators are what a DAG is built from.
            continue;
        }
        for w in &c.words {
            if terms.binary_search(w).is_ok() {
                let d = df.get(w.as_str()).copied().unwrap_or(1) as f32;
                let weight = if proper.contains(w) { 2.0 } else { 1.0 };
                score += weight * (n_docs as f32 / d).ln().max(0.1);
            }
        }
        if score > 0.0 {
            scored.push((score, c));
        }
    }
    // Best first; ties by shorter (more general) names, then alphabetically for determinism.
    // In 2.x, Airflow's own modules before the standard provider's copies (which a stock 2.x
    // installation may lack); in 3.x only the provider has them.
    let home_rank = |c: &Candidate| u8::from(version.major == 2 && c.provider != "core");
    scored.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(home_rank(a.1).cmp(&home_rank(b.1)))
            .then(a.1.class.len().cmp(&b.1.class.len()))
            .then(a.1.class.cmp(b.1.class))
    });
    let Some(&(best, _)) = scored.first() else { return Vec::new() };
    let mut lines = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    let mut used = 0;
    for (score, c) in scored {
        // One home per class name (the preferred one sorts first), and none for what the
        // idioms already import.
        if seen.contains(&c.class) || idiom_text.contains(&format!(" {}", c.class)) {
            continue;
        }
        seen.push(c.class);
        // Far weaker matches only share a common word with the request.
        if score < best * 0.5 || lines.len() >= MAX_CLASSES {
            break;
        }
        let line = class_line(cat, target, c.module, c.class);
        if used + line.len() > budget && !lines.is_empty() {
            break;
        }
        used += line.len() + 1;
        lines.push(line);
    }
    lines
}

/// `from M import C  # C(task_id, a, b)`: the import and the arguments without defaults.
fn class_line(cat: &Catalog, target: Target, module: &str, class: &str) -> String {
    let required: Vec<String> = cat
        .operator_params(target, module, class)
        .map(|p| {
            p.required_by_nearest_init
                .iter()
                .filter(|r| r.as_str() != "task_id" && p.required.contains(r.as_str()))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let is_hook = class.ends_with("Hook");
    let mut args: Vec<String> = Vec::new();
    if !is_hook {
        args.push("task_id=...".into());
    }
    args.extend(required.iter().map(|r| format!("{r}=...")));
    format!("from {module} import {class}  # {class}({})", args.join(", "))
}

/// Every class the sheet may offer for this target, computed once per target.
/// A target's offerable classes and how many of them have each word (for TF-IDF), built once:
/// a sheet per request must cost little next to validating the answer (docs/SCALE-OUT.md).
struct Candidates {
    all: Vec<Candidate>,
    df: HashMap<String, usize>,
    n_docs: usize,
    /// Indices into `all` of the candidates with each service word.
    by_service_word: HashMap<String, Vec<u32>>,
    /// Indices into `all` of the candidates with each class name.
    by_class: HashMap<&'static str, Vec<u32>>,
}

fn candidates(
    cat: &'static Catalog,
    target: Target,
    version: AirflowVersion,
) -> &'static Candidates {
    static CACHE: [OnceLock<Candidates>; 16] = [const { OnceLock::new() }; 16];
    static NONE: OnceLock<Candidates> = OnceLock::new();
    let build = || {
        let all = build_candidates(cat, target, version);
        let mut df: HashMap<String, usize> = HashMap::default();
        for c in &all {
            for w in &c.words {
                *df.entry(w.clone()).or_default() += 1;
            }
        }
        let n_docs = all.len().max(1);
        let mut by_service_word: HashMap<String, Vec<u32>> = HashMap::default();
        let mut by_class: HashMap<&'static str, Vec<u32>> = HashMap::default();
        for (i, c) in all.iter().enumerate() {
            let i = u32::try_from(i).expect("fewer than 2^32 classes");
            for w in &c.service {
                let list = by_service_word.entry(w.clone()).or_default();
                // A word twice in one module name (`s3_to_s3`) lists the class once.
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
            by_class.entry(c.class).or_default().push(i);
        }
        Candidates { all, df, n_docs, by_service_word, by_class }
    };
    match CACHE.get(target.index()) {
        Some(cell) => cell.get_or_init(build),
        None => NONE.get_or_init(|| Candidates {
            all: Vec::new(),
            df: HashMap::default(),
            n_docs: 1,
            by_service_word: HashMap::default(),
            by_class: HashMap::default(),
        }),
    }
}

fn build_candidates(
    cat: &'static Catalog,
    target: Target,
    version: AirflowVersion,
) -> Vec<Candidate> {
    let bit = 1u16 << target.index();
    // Provider classes newer than the target's constraint files need a provider upgrade that
    // most installations do not have: offer only what the release-time providers have too.
    let release_time = cat.snapshot(target).map_or(bit, |s| 1u16 << s.index());
    // A request names a minor version (3.1.0), whose first releases pinned older providers than
    // the target's last patch release (3.1.8): offer only classes that the previous target's
    // release-time providers had already.
    let previous = cat.targets().take_while(|t| *t != target).last();
    let settled =
        previous.and_then(|p| cat.snapshot(p)).map_or(release_time, |s| 1u16 << s.index());
    // A 2.x request must not get a class that the newest 2.x providers removed.
    let major = format!("{}.", version.major);
    let newest_same_major =
        cat.targets().filter(|t| cat.target_version(*t).starts_with(&major)).last();
    let mut out = Vec::new();
    for m in &cat.modules {
        let path: &'static str = m.path.as_str();
        if !is_offerable_module(path) {
            continue;
        }
        let Some(info) = cat.module_info(target, path) else { continue };
        if info.is_deprecated_shim {
            continue;
        }
        for c in &m.classes {
            if c.mask & bit == 0 || !is_offerable_class(c.name) {
                continue;
            }
            // (A class whose signature changed has one record per signature.)
            let in_snapshot =
                |mask: u16| m.classes.iter().any(|r| r.name == c.name && r.mask & mask != 0);
            if path.contains(".providers.") && !(in_snapshot(release_time) && in_snapshot(settled))
            {
                continue;
            }
            if let Some(newest) = newest_same_major
                && newest != target
                && !cat.name_in_module(newest, path, c.name)
            {
                continue;
            }
            let mut words = camel_words(c.name);
            for seg in service_segments(path) {
                words.extend(seg.split('_').map(str::to_string));
                words.push(seg.to_string());
            }
            words.sort();
            words.dedup();
            let provider = path
                .split_once(".providers.")
                .map_or("core", |(_, rest)| rest.split('.').next().unwrap_or("core"));
            let last = path.rsplit('.').next().unwrap_or(path);
            let service = last
                .split('_')
                .filter(|w| !matches!(*w, "to" | "and" | "operator" | "sensor" | "hook"))
                .map(str::to_string)
                .collect();
            out.push(Candidate { module: path, class: c.name, words, provider, service });
        }
    }
    out
}

/// Modules whose classes DAG authors import: operators, sensors, hooks and transfers of Airflow
/// and its providers, not examples, tests or private modules.
fn is_offerable_module(path: &str) -> bool {
    let public =
        !path.split('.').any(|s| s.starts_with('_') || matches!(s, "example_dags" | "tests"));
    let kind =
        path.split('.').any(|s| matches!(s, "operators" | "sensors" | "hooks" | "transfers"));
    public && kind && !path.starts_with("airflow.contrib")
}

fn is_offerable_class(name: &str) -> bool {
    // `Base` anywhere (`BigQueryToSqlBaseOperator`) marks a class made to be subclassed, often
    // abstract: Airflow cannot instantiate it.
    (name.ends_with("Operator") || name.ends_with("Sensor") || name.ends_with("Hook"))
        && !has_camel_word(name, "base")
        && !name.starts_with('_')
        && !name.contains("Abstract")
        && !name.contains("Mixin")
}

/// Whether [`camel_words`]`(name)` has `lower` (lower-case), without building them.
fn has_camel_word(name: &str, lower: &str) -> bool {
    let (mut found, mut previous) = (false, "");
    camel_parts(name, |part| {
        let joined = lower.len() == previous.len() + part.len()
            && lower.as_bytes()[..previous.len()].eq_ignore_ascii_case(previous.as_bytes())
            && lower.as_bytes()[previous.len()..].eq_ignore_ascii_case(part.as_bytes());
        found |= part.eq_ignore_ascii_case(lower) || (!previous.is_empty() && joined);
        previous = part;
    });
    found
}

/// The segments of a module path that name the service: after `providers` (e.g. `google`,
/// `cloud`, `bigquery`), without the kind (`operators`, ...).
fn service_segments(path: &str) -> impl Iterator<Item = &str> {
    let after = path.split_once(".providers.").map_or(path, |(_, rest)| rest);
    after
        .split('.')
        .filter(|s| !matches!(*s, "airflow" | "operators" | "sensors" | "hooks" | "transfers"))
}

/// Words written with a capital inside a sentence (`an Athena query`, `to BigQuery`): the
/// services a request names count double against common words that only happen to match
/// (`the database analytics`), lowercased.
fn proper_nouns(instruction: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut sentence_start = true;
    for word in instruction.split_whitespace() {
        let clean = word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        if !sentence_start && clean.starts_with(|c: char| c.is_ascii_uppercase()) {
            out.push(clean.to_ascii_lowercase());
        }
        sentence_start = word.ends_with(['.', '!', '?', ':']);
    }
    out
}

/// `BigQueryInsertJobOperator` → big, query, bigquery, insert, job, operator (joined neighbours
/// too, so `bigquery` and `dataproc` match however the class splits them).
fn camel_words(name: &str) -> Vec<String> {
    let mut parts: Vec<&str> = Vec::new();
    camel_parts(name, |part| parts.push(part));
    let mut words: Vec<String> = parts.iter().map(|p| p.to_ascii_lowercase()).collect();
    for pair in parts.windows(2) {
        let mut joined = String::with_capacity(pair[0].len() + pair[1].len());
        joined.push_str(pair[0]);
        joined.push_str(pair[1]);
        joined.make_ascii_lowercase();
        words.push(joined);
    }
    words
}

/// The parts of a CamelCase name, as they are written: a part starts at a capital that follows
/// a lower-case letter or a digit, or that a lower-case letter follows (`S3KeySensor` → S3, Key,
/// Sensor; `HTTPSHook` → HTTPS, Hook). Bytes, not characters: a boundary is an ASCII capital, and
/// the bytes of other characters are neither lower-case letters nor digits.
fn camel_parts<'n>(name: &'n str, mut part: impl FnMut(&'n str)) {
    let b = name.as_bytes();
    let mut start = 0;
    for i in 0..b.len() {
        let boundary = b[i].is_ascii_uppercase()
            && i > start
            && (b[i - 1].is_ascii_lowercase()
                || b[i - 1].is_ascii_digit()
                || b.get(i + 1).is_some_and(u8::is_ascii_lowercase));
        if boundary {
            part(&name[start..i]);
            start = i;
        }
    }
    if start < b.len() {
        part(&name[start..]);
    }
}

/// The request's words, lowercased, without stop words, with the catalog words their synonyms
/// stand for and a naive singular form; sorted, each once.
fn request_terms(instruction: &str) -> Vec<String> {
    let lower = instruction.to_lowercase();
    let mut terms: Vec<String> = Vec::new();
    for word in lower.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
        if word.is_empty() || is_stop_word(word) {
            continue;
        }
        terms.push(word.to_string());
        if let Some(s) = word.strip_suffix('s').filter(|s| s.len() > 2) {
            terms.push(s.to_string());
        }
    }
    // Class names the request spells out contribute their words too (`S3KeySensor`).
    for name in named_classes(instruction) {
        terms.extend(camel_words(&name));
    }
    for (phrase, word) in SYNONYMS {
        let hit = if phrase.contains(' ') || phrase.contains('/') {
            lower.contains(phrase)
        } else {
            terms.iter().any(|t| t == phrase)
        };
        if hit {
            terms.push((*word).to_string());
            terms.extend(word.split('_').map(str::to_string));
        }
    }
    terms.sort();
    terms.dedup();
    terms
}

/// Whether `word` (lower-cased) is one of [`STOP_WORDS`]: asked of every word of every request.
fn is_stop_word(word: &str) -> bool {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| STOP_WORDS.iter().copied().collect()).contains(word)
}

/// Class-like names the request spells out (`S3KeySensor`, `SQLColumnCheckOperator`).
fn named_classes(instruction: &str) -> Vec<String> {
    instruction
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| {
            w.starts_with(|c: char| c.is_ascii_uppercase())
                && (w.ends_with("Operator") || w.ends_with("Sensor") || w.ends_with("Hook"))
        })
        .map(str::to_string)
        .collect()
}

/// In how many candidates each word occurs, and how many candidates there are.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::NameStatus;

    fn v(s: &str) -> AirflowVersion {
        s.parse().unwrap()
    }

    /// Every `from M import A, B` line of a sheet names things that exist in that version.
    fn assert_imports_exist(sheet: &str, version: AirflowVersion) {
        let cat = catalog();
        let t = cat.target_for(version);
        for line in sheet.lines() {
            let Some(rest) = line.strip_prefix("from ") else { continue };
            let (module, names) = rest.split_once(" import ").unwrap();
            let names = names.split("  #").next().unwrap();
            for name in names.split(',').map(str::trim) {
                assert_eq!(
                    cat.name_status(t, module, name),
                    NameStatus::Exists,
                    "{version}: from {module} import {name}"
                );
            }
        }
    }

    /// `camel_words` as first written, a character at a time: the reference.
    fn camel_words_by_chars(name: &str) -> Vec<String> {
        let mut parts: Vec<String> = Vec::new();
        let chars: Vec<char> = name.chars().collect();
        let mut cur = String::new();
        for (i, &ch) in chars.iter().enumerate() {
            let boundary = ch.is_ascii_uppercase()
                && !cur.is_empty()
                && (chars
                    .get(i.wrapping_sub(1))
                    .is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
                    || chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase()));
            if boundary {
                parts.push(std::mem::take(&mut cur).to_ascii_lowercase());
            }
            cur.push(ch);
        }
        if !cur.is_empty() {
            parts.push(cur.to_ascii_lowercase());
        }
        let mut words = parts.clone();
        for pair in parts.windows(2) {
            words.push(format!("{}{}", pair[0], pair[1]));
        }
        words
    }

    #[test]
    fn camel_words_split_as_the_reference_does() {
        let cat = catalog();
        let odd = [
            "",
            "A",
            "a",
            "BaSeOperator",
            "S3KeySensor",
            "HTTPSHook",
            "ÉtéÀOperator",
            "xÉY",
            "AbcÉDef",
            "ab_Cd",
            "A1B2c",
        ];
        let names = cat.modules.iter().flat_map(|m| m.classes.iter().map(|c| c.name)).chain(odd);
        let mut n = 0;
        for name in names {
            let reference = camel_words_by_chars(name);
            assert_eq!(camel_words(name), reference, "{name}");
            for word in ["base", "s3key", "hook", "ba"] {
                assert_eq!(
                    has_camel_word(name, word),
                    reference.iter().any(|w| w == word),
                    "{name} {word}"
                );
            }
            n += 1;
        }
        assert!(n > 5_000, "{n}");
        assert!(
            has_camel_word("BaSeOperator", "base") && !has_camel_word("BasementOperator", "base")
        );
    }

    #[test]
    fn idioms_import_only_what_exists() {
        for s in ["2.7", "2.9", "2.11", "3.0", "3.1"] {
            assert_imports_exist(&idioms(v(s)), v(s));
        }
    }

    #[test]
    fn named_and_described_services_are_found() {
        let sheet = api_sheet(
            "Create a DAG that provisions a Dataproc cluster, submits a PySpark job and deletes \
             the cluster afterwards.",
            v("3.1"),
            DEFAULT_BUDGET,
        );
        assert!(sheet.contains("import DataprocCreateClusterOperator"), "{sheet}");
        assert!(sheet.contains("import DataprocDeleteClusterOperator"), "{sheet}");
        assert!(sheet.contains("import DataprocSubmitJobOperator"), "{sheet}");
        assert_imports_exist(&sheet, v("3.1"));

        let sheet = api_sheet(
            "Wait for a key in S3 with S3KeySensor, then copy it with S3CopyObjectOperator.",
            v("2.11"),
            DEFAULT_BUDGET,
        );
        assert!(
            sheet.contains("from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor"),
            "{sheet}"
        );
        assert!(sheet.contains("import S3CopyObjectOperator"), "{sheet}");
        assert_imports_exist(&sheet, v("2.11"));
    }

    #[test]
    fn sheets_stay_within_budget_and_exist_for_every_instruction() {
        let text = include_str!("../../../datasets/instructions.jsonl");
        for line in text.lines() {
            let row = crate::dataset::parse_row(line).unwrap();
            let version = row.airflow_version().unwrap().unwrap();
            let sheet = api_sheet(row.instruction().unwrap(), version, DEFAULT_BUDGET);
            let classes: usize =
                sheet.lines().filter(|l| l.contains("  # ")).map(|l| l.len() + 1).sum();
            assert!(classes <= DEFAULT_BUDGET + 200, "{sheet}");
            assert_imports_exist(&sheet, version);
            if std::env::var_os("DAGSMITH_PRINT_SHEETS").is_some() {
                println!("=== {}\n{sheet}", row.instruction().unwrap());
            }
        }
    }
}
