//! Operator constructor parameters, resolved through a class's bases and its MRO.

use std::collections::BTreeSet;
use std::sync::Arc;

use rustc_hash::FxHashSet as HashSet;

use super::init_tokens::InitTokens;
use super::{Catalog, ClassRec, Target};

/// The keyword arguments an operator's constructor takes, resolved through its bases.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OperatorParams {
    /// Every parameter that can be passed by keyword (the class's own and, through `**kwargs`,
    /// its bases' — including `BaseOperator`'s `task_id`, `retries`, ...). Hashed: every keyword
    /// of every operator call is looked up here; in no order (sort it to show it).
    pub accepted: HashSet<String>,
    /// Parameters without a default (for operators: at least `task_id`). Airflow 2 and 3 also
    /// fill them from the DAG's `default_args`, which the caller has to consider.
    pub required: BTreeSet<String>,
    /// Unknown keywords are accepted (some class in the chain takes `**kwargs` and does not
    /// forward them to `BaseOperator`, or a base could not be resolved).
    pub accepts_any_kwargs: bool,
    /// The chain of bases reaches Airflow's `BaseOperator`.
    pub is_operator: bool,
    /// Every base in the chain was resolved (if false, treat `accepted` as incomplete).
    pub complete: bool,
    /// Where the class is defined, e.g. `airflow.providers.standard.operators.bash.BashOperator`.
    pub defined_at: String,
    /// The required parameters of the nearest class (the operator itself, or the first base
    /// with an `__init__` when it has none). Required parameters of classes further up can be
    /// filled by a subclass's `__init__` (`kwargs["options"] = ...`), which the catalog does not
    /// model, so only these are certain to be needed.
    pub required_by_nearest_init: BTreeSet<String>,
    /// Accepted only with a deprecation warning: some `__init__` in the chain takes them out of
    /// `**kwargs` and warns (e.g. `provide_context` of Airflow 2's `PythonOperator`).
    pub deprecated: BTreeSet<String>,
    /// The values a parameter must take: the `__init__` raises for any other
    /// (`if auto_remove not in ("never", "success", "force"): raise ...`).
    pub choices: std::collections::BTreeMap<String, Vec<String>>,
    /// The effective `__init__`'s positional-or-keyword parameters, in order (for bases filled
    /// positionally by a subclass).
    pub positional: Vec<String>,
    /// Some `__init__` in the chain fetches a connection (`get_connection`): creating an
    /// instance needs the connection to exist.
    pub fetches_connection: bool,
}

impl Catalog {
    /// The constructor parameters of the class `module.class_name`, resolved through its bases
    /// (including `BaseOperator`'s). `None` if the class cannot be found in this target.
    pub fn operator_params(
        &self,
        t: Target,
        module: &str,
        class_name: &str,
    ) -> Option<Arc<OperatorParams>> {
        self.params_by_path(t, &super::qualified(module, class_name), module, class_name)
    }

    /// [`operator_params`](Self::operator_params) of a dotted path (`module.Class`): the
    /// validator asks with the path it has for every operator it creates.
    pub fn operator_params_at(&self, t: Target, path: &str) -> Option<Arc<OperatorParams>> {
        let (module, class_name) = crate::dotted::split_last(path)?;
        self.params_by_path(t, path, module, class_name)
    }

    /// `path` is `module.class_name`.
    fn params_by_path(
        &self,
        t: Target,
        path: &str,
        module: &str,
        class_name: &str,
    ) -> Option<Arc<OperatorParams>> {
        if let Some(hit) = self.cached_params(t, path) {
            return hit;
        }
        let result = self.resolve_class(t, module, class_name).map(|(dm, rec)| {
            let mut out = self.params_of(t, &dm, &rec, 0);
            out.defined_at = format!("{dm}.{}", rec.name);
            out.required_by_nearest_init = self.nearest_init_required(t, &dm, &rec, 0);
            Arc::new(out)
        });
        self.cache_params(t, path, result.clone());
        result
    }

    fn cached_params(&self, t: Target, path: &str) -> Option<Option<Arc<OperatorParams>>> {
        let cache = self.params_cache.lock().ok()?;
        let (_, hit) = cache.get(path)?.iter().find(|(target, _)| *target == t.0)?;
        Some(hit.clone())
    }

    fn cache_params(&self, t: Target, path: &str, params: Option<Arc<OperatorParams>>) {
        if let Ok(mut cache) = self.params_cache.lock() {
            let slots = cache.entry(path.to_string()).or_default();
            match slots.iter_mut().find(|(target, _)| *target == t.0) {
                Some(slot) => slot.1 = params,
                None => slots.push((t.0, params)),
            }
        }
    }

    /// The class's C3 linearization (Python's MRO), itself first. Bases that cannot be
    /// resolved are left out; an inconsistent hierarchy falls back to depth-first order.
    pub(crate) fn linearize(
        &self,
        t: Target,
        module: &str,
        rec: &ClassRec,
        depth: u8,
    ) -> Vec<(String, ClassRec)> {
        let me = (module.to_string(), *rec);
        if depth > 24 || rec.bases == "-" {
            return vec![me];
        }
        let bases: Vec<(String, ClassRec)> = rec
            .bases
            .split(',')
            .filter_map(|b| {
                self.split_dotted(t, b).and_then(|(m, n)| self.resolve_class(t, &m, &n))
            })
            .collect();
        let mut seqs: Vec<Vec<(String, ClassRec)>> =
            bases.iter().map(|(m, c)| self.linearize(t, m, c, depth + 1)).collect();
        seqs.push(bases.clone());
        let same =
            |a: &(String, ClassRec), b: &(String, ClassRec)| a.0 == b.0 && a.1.name == b.1.name;
        let mut out = vec![me];
        loop {
            seqs.retain(|s| !s.is_empty());
            if seqs.is_empty() {
                return out;
            }
            // The first head that is in no other sequence's tail.
            let head = seqs
                .iter()
                .map(|s| &s[0])
                .find(|h| !seqs.iter().any(|s| s.iter().skip(1).any(|x| same(x, h))));
            let Some(head) = head.cloned() else {
                // Not linearizable: depth-first order of what is left.
                for s in seqs {
                    for c in s {
                        if !out.iter().any(|o| same(o, &c)) {
                            out.push(c);
                        }
                    }
                }
                return out;
            };
            for s in &mut seqs {
                if same(&s[0], &head) {
                    s.remove(0);
                }
            }
            out.push(head);
        }
    }

    fn nearest_init_required(
        &self,
        t: Target,
        module: &str,
        rec: &ClassRec,
        depth: u8,
    ) -> BTreeSet<String> {
        if depth > 24 {
            return BTreeSet::new();
        }
        if rec.params == "-" {
            // The `__init__` that runs: the first of the MRO.
            let mro = self.linearize(t, module, rec, 0);
            return match mro.iter().skip(1).find(|(_, c)| c.params != "-") {
                Some((m, c)) => self.nearest_init_required(t, m, c, depth + 1),
                None => BTreeSet::new(),
            };
        }
        InitTokens::parse(rec.params)
            .params
            .iter()
            .filter(|p| !p.positional_only && !p.has_default)
            .map(|p| p.name.to_string())
            .collect()
    }

    /// `params_of` for a base class, through the cache `operator_params` fills: every operator
    /// shares BaseOperator's chain, so it is resolved once per target.
    fn base_params(&self, t: Target, module: &str, rec: &ClassRec, depth: u8) -> OperatorParams {
        let path = super::qualified(module, rec.name);
        if let Some(Some(hit)) = self.cached_params(t, &path) {
            return (*hit).clone();
        }
        let mut out = self.params_of(t, module, rec, depth);
        out.required_by_nearest_init = self.nearest_init_required(t, module, rec, 0);
        out.defined_at = path;
        self.cache_params(t, &out.defined_at, Some(Arc::new(out.clone())));
        out
    }

    fn params_of(&self, t: Target, module: &str, rec: &ClassRec, depth: u8) -> OperatorParams {
        let mut out = OperatorParams { complete: true, ..Default::default() };
        let is_base_operator = rec.name == "BaseOperator"
            && matches!(
                module,
                "airflow.models.baseoperator"
                    | "airflow.sdk.bases.operator"
                    | "airflow.sdk.definitions.baseoperator"
            );
        if is_base_operator {
            out.is_operator = true;
        }
        if depth > 24 {
            out.complete = false;
            out.accepts_any_kwargs = true;
            return out;
        }
        let bases = self.bases_params(t, rec, depth);
        out.is_operator |= bases.resolved.iter().any(|b| b.is_operator);
        if rec.params == "-" {
            return self.inherited_params(t, module, rec, depth, out, bases);
        }
        let sig = InitTokens::parse(rec.params);
        add_own_params(&mut out, &sig);
        out.fetches_connection =
            sig.fetches_connection || bases.resolved.iter().any(|b| b.fetches_connection);
        match sig.kwargs {
            Some(true) => inherit_through_kwargs(&mut out, &sig, &bases),
            Some(false) => {
                out.accepts_any_kwargs = false;
            }
            None => {}
        }
        // Keys the `__init__` takes out of `**kwargs` itself: accepted here, whatever the bases
        // say (`PythonOperator` pops the deprecated `provide_context` before `BaseOperator`).
        for (key, deprecated) in &sig.kwargs_read {
            if sig.kwargs.is_some() {
                out.accepted.insert(key.to_string());
                if *deprecated {
                    out.deprecated.insert(key.to_string());
                }
            }
        }
        for p in &sig.params {
            // A parameter of this class is not deprecated just because a base once had it so.
            if !sig.kwargs_read.iter().any(|(k, d)| *k == p.name && *d) {
                out.deprecated.remove(p.name);
            }
        }
        out
    }

    /// The parameters of the class's direct bases, as far as they resolve.
    fn bases_params(&self, t: Target, rec: &ClassRec, depth: u8) -> Bases {
        let bases: Vec<&str> =
            if rec.bases == "-" { Vec::new() } else { rec.bases.split(',').collect() };
        let mut resolved_bases: Vec<OperatorParams> = Vec::new();
        let mut unresolved = 0;
        let mut unresolved_mixins = 0;
        for b in &bases {
            let base =
                match self.split_dotted(t, b).and_then(|(m, n)| self.resolve_class(t, &m, &n)) {
                    Some((bm, brec)) => self.base_params(t, &bm, &brec, depth + 1),
                    None => {
                        if !is_trivial_base(b) {
                            unresolved += 1;
                            if b.ends_with("Mixin") {
                                unresolved_mixins += 1;
                            }
                        }
                        continue;
                    }
                };
            resolved_bases.push(base);
        }
        // An unresolved mixin beside an operator base hides at most its own keywords (which
        // operators built on it usually name in their signature too: `durable`).
        let only_mixins_missing = unresolved == unresolved_mixins
            && (unresolved == 0 || resolved_bases.iter().any(|b| b.is_operator));
        let complete = only_mixins_missing && resolved_bases.iter().all(|b| b.complete);
        Bases { resolved: resolved_bases, unresolved, unresolved_mixins, complete }
    }

    /// `params_of` for a class without an `__init__` of its own. `out` holds what is known of
    /// the class itself (whether it is an operator).
    fn inherited_params(
        &self,
        t: Target,
        module: &str,
        rec: &ClassRec,
        depth: u8,
        mut out: OperatorParams,
        bases: Bases,
    ) -> OperatorParams {
        let base_complete = bases.complete;
        let unresolved = bases.unresolved;
        // No __init__ of its own: Python runs the first `__init__` of its MRO
        // (`BranchPythonOperator(BaseBranchOperator, PythonOperator)` gets PythonOperator's,
        // not BaseOperator's through BaseBranchOperator).
        let mro = self.linearize(t, module, rec, 0);
        if let Some((im, irec)) = mro.iter().skip(1).find(|(_, c)| c.params != "-") {
            let b = self.base_params(t, im, irec, depth + 1);
            let is_op = out.is_operator || b.is_operator;
            return OperatorParams {
                is_operator: is_op,
                complete: base_complete && b.complete,
                ..b
            };
        }
        match bases.resolved.into_iter().find(|b| !b.accepted.is_empty() || b.is_operator) {
            Some(b) => {
                let is_op = out.is_operator || b.is_operator;
                out = OperatorParams {
                    is_operator: is_op,
                    complete: base_complete && b.complete,
                    ..b
                };
            }
            None => {
                out.complete = base_complete;
                out.accepts_any_kwargs = unresolved > 0;
            }
        }
        out
    }
}

/// The parameters of a class's direct bases (see `Catalog::bases_params`).
struct Bases {
    /// The bases that resolved, in the order they are listed.
    resolved: Vec<OperatorParams>,
    /// Bases not found that may add parameters (not `object`, `Generic`, ...).
    unresolved: usize,
    /// How many of those are mixins (`...Mixin`), whose `**kwargs` reach the operator after them.
    unresolved_mixins: usize,
    /// No base is missing and every resolved one is complete.
    complete: bool,
}

/// The class's own `__init__` parameters.
fn add_own_params(out: &mut OperatorParams, sig: &InitTokens) {
    for p in &sig.params {
        if !p.positional_only {
            out.accepted.insert(p.name.to_string());
        }
        if !p.has_default {
            out.required.insert(p.name.to_string());
        }
        if p.positional_or_keyword {
            out.positional.push(p.name.to_string());
        }
        if !p.choices.is_empty() {
            let values = p.choices.iter().map(|v| v.to_string()).collect();
            out.choices.insert(p.name.to_string(), values);
        }
    }
}

/// An `__init__` that passes `**kwargs` on: the bases' parameters are accepted too, and those
/// they require unless this `__init__` supplies them.
fn inherit_through_kwargs(out: &mut OperatorParams, sig: &InitTokens, bases: &Bases) {
    let own: Vec<&str> = sig.params.iter().map(|p| p.name).collect();
    // A mixin's `**kwargs` (`ResumableJobMixin(durable=..., **kwargs)`) is passed on by
    // `super().__init__` to the operator after it in the MRO, which refuses what it does not
    // know: only an operator base can make the class accept anything.
    let has_operator_base = bases.resolved.iter().any(|b| b.is_operator);
    for b in &bases.resolved {
        out.accepted.extend(b.accepted.iter().cloned());
        // The base's leading positional parameters are filled by
        // `super().__init__(a, b, ...)`.
        let by_position: Vec<&str> =
            b.positional.iter().take(sig.super_positional).map(String::as_str).collect();
        for r in &b.required {
            let r = r.as_str();
            if !own.contains(&r)
                && !sig.super_kw.contains(&r)
                && !sig.kwargs_set.contains(&r)
                && !by_position.contains(&r)
            {
                out.required.insert(r.to_string());
            }
        }
        for (k, v) in &b.choices {
            if !own.contains(&k.as_str()) {
                out.choices.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        out.deprecated.extend(b.deprecated.iter().cloned());
        if b.is_operator || !has_operator_base {
            out.accepts_any_kwargs |= b.accepts_any_kwargs;
        }
    }
    if bases.resolved.is_empty() {
        out.accepts_any_kwargs = true;
    }
    if bases.unresolved > bases.unresolved_mixins || (bases.unresolved > 0 && !has_operator_base) {
        out.accepts_any_kwargs = true;
    }
    out.complete = bases.complete;
}

/// Bases that add no constructor parameters.
fn is_trivial_base(b: &str) -> bool {
    let last = b.rsplit('.').next().unwrap_or(b);
    matches!(
        last,
        "object"
            | "Generic"
            | "Protocol"
            | "ABC"
            | "LoggingMixin"
            | "SkipMixin"
            | "Enum"
            | "str"
            | "int"
            | "Exception"
            | "NamedTuple"
            | "TypedDict"
    ) || b.starts_with("typing.")
        || b.starts_with("abc.")
        || b.starts_with("collections.abc.")
}
