//! The `PARAMS` field of a class record (docs/CATALOG.md): an `__init__` signature and what its
//! body does with `**kwargs`.

/// One named parameter of an `__init__`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Param<'a> {
    pub name: &'a str,
    pub has_default: bool,
    pub positional_only: bool,
    /// Neither keyword-only nor positional-only.
    pub positional_or_keyword: bool,
    /// Values the `__init__` accepts for it (empty: any).
    pub choices: Vec<&'a str>,
}

/// A parsed `PARAMS` field. `-` (no `__init__`) and `()` both parse to an empty signature;
/// callers that care check the raw field first.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct InitTokens<'a> {
    pub params: Vec<Param<'a>>,
    /// `Some(true)`: `**kwargs` passed on; `Some(false)`: `**kwargs` that rejects unknown keys.
    pub kwargs: Option<bool>,
    /// Keywords passed explicitly to the base's `__init__`.
    pub super_kw: Vec<&'a str>,
    /// Positional arguments passed to the base's `__init__`.
    pub super_positional: usize,
    /// Keys taken out of `**kwargs` (`+x`), with whether a deprecation warning goes with them (`~x`).
    pub kwargs_read: Vec<(&'a str, bool)>,
    /// Keys put into `**kwargs` before they are passed on (`=x`).
    pub kwargs_set: Vec<&'a str>,
    /// The `__init__` fetches a connection (`@`).
    pub fetches_connection: bool,
    /// The `__init__` takes `*args` (`*`).
    pub var_args: bool,
}

impl<'a> InitTokens<'a> {
    pub fn parse(field: &'a str) -> InitTokens<'a> {
        let mut out = InitTokens::default();
        if field == "-" || field == "()" {
            return out;
        }
        for tok in field.split(',') {
            match tok {
                "*" => out.var_args = true,
                "**" => out.kwargs = Some(true),
                "**!" => out.kwargs = Some(false),
                "@" => out.fetches_connection = true,
                _ => {
                    if let Some(rest) = tok.strip_prefix('^') {
                        match rest.parse::<usize>() {
                            Ok(n) => out.super_positional = n,
                            Err(_) => out.super_kw.push(rest),
                        }
                    } else if let Some(k) = tok.strip_prefix('+') {
                        out.kwargs_read.push((k, false));
                    } else if let Some(k) = tok.strip_prefix('~') {
                        out.kwargs_read.push((k, true));
                    } else if let Some(k) = tok.strip_prefix('=') {
                        out.kwargs_set.push(k);
                    } else {
                        out.params.push(param(tok));
                    }
                }
            }
        }
        out
    }
}

fn param(tok: &str) -> Param<'_> {
    let mut parts = tok.split('|');
    let head = parts.next().unwrap_or("");
    let choices: Vec<&str> = parts.collect();
    let keyword_only = head.starts_with(':');
    let positional_only = head.starts_with('/');
    let name = head.trim_start_matches([':', '/']);
    let (name, has_default) = match name.strip_suffix('?') {
        Some(n) => (n, true),
        None => (name, false),
    };
    Param {
        name,
        has_default,
        positional_only,
        positional_or_keyword: !keyword_only && !positional_only,
        choices,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_token_kind() {
        let t = InitTokens::parse(
            ":image,auto_remove?|never|success|force,/x,**,^task_id,^2,+hook_params,~provide_context,=options",
        );
        assert_eq!(t.params.len(), 3);
        assert_eq!(t.params[0].name, "image");
        assert!(!t.params[0].positional_or_keyword && !t.params[0].has_default);
        assert_eq!(t.params[1].name, "auto_remove");
        assert!(t.params[1].has_default && t.params[1].positional_or_keyword);
        assert_eq!(t.params[1].choices, ["never", "success", "force"]);
        assert!(t.params[2].positional_only);
        assert_eq!(t.kwargs, Some(true));
        assert_eq!(t.super_kw, ["task_id"]);
        assert_eq!(t.super_positional, 2);
        assert_eq!(t.kwargs_read, [("hook_params", false), ("provide_context", true)]);
        assert_eq!(t.kwargs_set, ["options"]);
        assert_eq!(InitTokens::parse("()"), InitTokens::default());
        assert_eq!(InitTokens::parse("-"), InitTokens::default());
    }
}
