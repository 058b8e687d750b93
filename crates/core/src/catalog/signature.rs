//! A class's constructor signature for people (an editor's hover): its own parameters in their
//! order, where the class is defined and which distribution ships it, in one target.

use super::{Catalog, ClassRec, InitTokens, Target};

/// How a parameter can be passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    PositionalOnly,
    /// Positionally or by keyword.
    Normal,
    KeywordOnly,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub kind: ParamKind,
    pub has_default: bool,
}

/// The `__init__` of a class as the catalog records it (names and defaults, no types).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassSignature {
    /// `module.Class` where the class is defined (after re-exports and shims).
    pub defined_at: String,
    /// The distribution shipping the defining module, e.g. `apache-airflow-providers-standard`.
    pub distribution: Option<String>,
    /// `module.Class` whose `__init__` this is, when the class has none of its own.
    pub init_from: Option<String>,
    pub params: Vec<Param>,
    /// Takes `*args`.
    pub var_args: bool,
    /// Takes `**kwargs` (for operators: forwarded to the bases, e.g. `BaseOperator`).
    pub var_kwargs: bool,
}

impl ClassSignature {
    /// The signature in Python syntax without `self`, e.g.
    /// `BashOperator(*, bash_command, env=…, cwd=…, **kwargs)`.
    pub fn to_python(&self, class_name: &str) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut positional_only_done = false;
        let mut star_done = false;
        for p in &self.params {
            if p.kind != ParamKind::PositionalOnly && !positional_only_done {
                if self.params.iter().any(|q| q.kind == ParamKind::PositionalOnly) {
                    parts.push("/".into());
                }
                positional_only_done = true;
            }
            if p.kind == ParamKind::KeywordOnly && !star_done {
                parts.push(if self.var_args { "*args" } else { "*" }.into());
                star_done = true;
            }
            let default = if p.has_default { "=…" } else { "" };
            parts.push(format!("{}{default}", p.name));
        }
        if !positional_only_done && self.params.iter().any(|q| q.kind == ParamKind::PositionalOnly)
        {
            parts.push("/".into());
        }
        if self.var_args && !star_done {
            parts.push("*args".into());
        }
        if self.var_kwargs {
            parts.push("**kwargs".into());
        }
        format!("{class_name}({})", parts.join(", "))
    }
}

impl Catalog {
    /// The constructor signature of `module.class_name` in this target (following re-exports,
    /// lazy imports and shims to the definition, and bases for a class without `__init__`);
    /// `None` when no such class exists there.
    pub fn class_signature(
        &self,
        t: Target,
        module: &str,
        class_name: &str,
    ) -> Option<ClassSignature> {
        let (defined_in, rec) = self.resolve_class(t, module, class_name)?;
        let distribution = self.module_distribution(t, &defined_in).map(str::to_string);
        let defined_at = format!("{defined_in}.{}", rec.name);
        let (init_rec, init_from) = self.init_owner(t, &defined_in, rec, 0)?;
        let mut sig = ClassSignature {
            defined_at: defined_at.clone(),
            distribution,
            init_from: (init_from != defined_at).then_some(init_from),
            params: Vec::new(),
            var_args: false,
            var_kwargs: false,
        };
        // The same reading of the `PARAMS` field as the argument checks'.
        let tokens = InitTokens::parse(init_rec.params);
        sig.var_args = tokens.var_args;
        sig.var_kwargs = tokens.kwargs.is_some();
        sig.params = tokens
            .params
            .iter()
            .map(|p| Param {
                name: p.name.to_string(),
                kind: if p.positional_only {
                    ParamKind::PositionalOnly
                } else if p.positional_or_keyword {
                    ParamKind::Normal
                } else {
                    ParamKind::KeywordOnly
                },
                has_default: p.has_default,
            })
            .collect();
        Some(sig)
    }

    /// The class whose `__init__` runs: `rec` itself, or the first base (depth-first, as
    /// [`Catalog::operator_params`] approximates the MRO) that has one. An object-like class
    /// with none anywhere is its own owner with no parameters.
    fn init_owner(
        &self,
        t: Target,
        module: &str,
        rec: ClassRec,
        depth: u8,
    ) -> Option<(ClassRec, String)> {
        let here = super::qualified(module, rec.name);
        if rec.params != "-" || rec.bases == "-" || depth > 24 {
            return Some((rec, here));
        }
        for base in rec.bases.split(',') {
            if let Some((bm, brec)) =
                self.split_dotted(t, base).and_then(|(m, n)| self.resolve_class(t, &m, &n))
                && let Some(found) = self.init_owner(t, &bm, brec, depth + 1)
                && found.0.params != "-"
            {
                return Some(found);
            }
        }
        Some((rec, here))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::catalog;

    fn target(v: &str) -> Target {
        catalog().target_for(v.parse().unwrap())
    }

    #[test]
    fn bash_operator_in_2_and_3() {
        let c = catalog();
        let sig = c
            .class_signature(
                target("3.1"),
                "airflow.providers.standard.operators.bash",
                "BashOperator",
            )
            .unwrap();
        assert_eq!(sig.defined_at, "airflow.providers.standard.operators.bash.BashOperator");
        assert_eq!(sig.distribution.as_deref(), Some("apache-airflow-providers-standard"));
        assert!(sig.var_kwargs);
        let first = &sig.params[0];
        assert_eq!(
            (first.name.as_str(), first.kind, first.has_default),
            ("bash_command", ParamKind::KeywordOnly, false)
        );
        let text = sig.to_python("BashOperator");
        assert!(text.starts_with("BashOperator(*, bash_command, env=…"), "{text}");
        assert!(text.ends_with(", **kwargs)"), "{text}");

        // The Airflow 2 path is a different module; a name that is not a class has none.
        let sig =
            c.class_signature(target("2.9"), "airflow.operators.bash", "BashOperator").unwrap();
        assert_eq!(sig.defined_at, "airflow.operators.bash.BashOperator");
        assert!(
            c.class_signature(target("3.1"), "airflow.operators.bash_operator", "BashOperator")
                .is_none()
        );
        assert!(
            c.class_signature(target("3.1"), "airflow.providers.standard.operators.bash", "Nope")
                .is_none()
        );
    }

    #[test]
    fn python_syntax() {
        let sig = ClassSignature {
            defined_at: "m.C".into(),
            distribution: None,
            init_from: None,
            params: vec![
                Param { name: "a".into(), kind: ParamKind::PositionalOnly, has_default: false },
                Param { name: "b".into(), kind: ParamKind::Normal, has_default: true },
                Param { name: "c".into(), kind: ParamKind::KeywordOnly, has_default: false },
            ],
            var_args: true,
            var_kwargs: true,
        };
        assert_eq!(sig.to_python("C"), "C(a, /, b=…, *args, c, **kwargs)");
        let empty = ClassSignature { params: vec![], var_args: false, var_kwargs: false, ..sig };
        assert_eq!(empty.to_python("C"), "C()");
    }
}
