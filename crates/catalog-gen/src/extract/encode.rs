//! How a class record is written into the catalog (`BASES PARAMS ATTRS [DEPRECATION]`).

use super::ClassRec;
use crate::class_facts::plain_token;

/// Whether attributes are recorded for the classes of a module: Airflow's core object model
/// (DAG, task groups, XComArgs, operators and their mixins) and every operator, sensor and
/// transfer module of the providers — what the validator can meet at import time. Other
/// classes are stored as `?` (attributes unknown), to keep the catalog small.
fn records_attributes(module: &str) -> bool {
    if !module.starts_with("airflow.providers.") {
        return true;
    }
    module.split('.').any(|s| matches!(s, "operators" | "sensors" | "transfers" | "decorators"))
}

impl ClassRec {
    /// `BASES PARAMS ATTRS [DEPRECATION]` as stored in the catalog (see docs/CATALOG.md).
    pub fn encode(&self, module: &str) -> String {
        let bases = if self.bases.is_empty() { "-".to_string() } else { self.bases.join(",") };
        let params = match &self.init {
            None => "-".to_string(),
            Some(sig) => {
                let mut toks: Vec<String> = Vec::new();
                for (n, d, k) in &sig.params {
                    let mut t = String::new();
                    match k {
                        'k' => t.push(':'),
                        '/' => t.push('/'),
                        _ => {}
                    }
                    t.push_str(n);
                    if *d {
                        t.push('?');
                    }
                    if let Some((_, values)) = sig.body.choices.iter().find(|(p, _)| p == n) {
                        for v in values {
                            t.push('|');
                            t.push_str(v);
                        }
                    }
                    toks.push(t);
                }
                if sig.varargs {
                    toks.push("*".into());
                }
                match sig.kwargs {
                    Some(true) => toks.push("**".into()),
                    Some(false) => toks.push("**!".into()),
                    None => {}
                }
                for s in &sig.super_kw {
                    toks.push(format!("^{s}"));
                }
                if sig.body.fetches_connection {
                    toks.push("@".into());
                }
                if sig.body.super_positional > 0 {
                    toks.push(format!("^{}", sig.body.super_positional));
                }
                if sig.kwargs.is_some() {
                    for (k, deprecated) in &sig.body.kwargs_read {
                        if plain_token(k) && !sig.params.iter().any(|(n, _, _)| n == k) {
                            toks.push(format!("{}{k}", if *deprecated { '~' } else { '+' }));
                        }
                    }
                    for k in &sig.body.kwargs_set {
                        if plain_token(k) {
                            toks.push(format!("={k}"));
                        }
                    }
                }
                if toks.is_empty() { "()".into() } else { toks.join(",") }
            }
        };
        let attrs = if records_attributes(module) {
            // The `__init__`'s own parameters are implied (the reader adds them): most are
            // stored as `self.<param>`, and listing one too many never causes a report.
            let params: Vec<&str> = self
                .init
                .as_ref()
                .map(|sig| sig.params.iter().map(|(n, _, _)| n.as_str()).collect())
                .unwrap_or_default();
            self.attrs.encode(&params)
        } else {
            "?".to_string()
        };
        let mut out = format!("{bases} {params} {attrs}");
        if let Some(d) = &self.deprecation {
            out.push(' ');
            out.push_str(&d.encode());
        }
        out
    }
}
