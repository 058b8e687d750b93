//! Small functions over call sites and values that the interpreter and the checks share.

use ruff_python_ast::{self as ast, Expr};
use ruff_text_size::{Ranged, TextRange};

use crate::catalog::similarity::bounded_levenshtein_str;
use crate::validate::model::*;

pub(in crate::validate) fn keyword<'a>(call: &'a ast::ExprCall, name: &str) -> Option<&'a Expr> {
    call.arguments
        .keywords
        .iter()
        .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == name))
        .map(|k| &k.value)
}

/// From the start of a call to the end of one of its arguments: an exception raised by the call
/// (a constructor refusing an argument) is reported by Python on the line where the call
/// starts, and the range still ends at the argument at fault.
pub(in crate::validate) fn from_call_start(call: &ast::ExprCall, argument: TextRange) -> TextRange {
    TextRange::new(call.range().start(), argument.end().max(call.range().start()))
}

/// Where a finding about the keyword argument `name` of `call` goes ([`from_call_start`]), or
/// the whole call when it has no such keyword.
pub(in crate::validate) fn keyword_range(call: &ast::ExprCall, name: &str) -> TextRange {
    call.arguments
        .keywords
        .iter()
        .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == name))
        .map_or(call.range(), |k| from_call_start(call, k.range))
}

pub(in crate::validate) fn has_keyword(call: &ast::ExprCall, name: &str) -> bool {
    keyword(call, name).is_some()
}

pub(in crate::validate) fn kwarg<'v, 'a>(
    kwargs: &'v [Kwarg<'a>],
    name: &str,
) -> Option<&'v Value<'a>> {
    kwargs.iter().rev().find(|(k, _)| k.as_deref() == Some(name)).map(|(_, v)| v)
}

/// The keys of a `default_args=` argument: `Some(keys)` when known (none given: empty), `None`
/// when it cannot be known.
pub(in crate::validate) fn default_arg_keys(
    call: &ast::ExprCall,
    kwargs: &[Kwarg<'_>],
) -> Option<Vec<String>> {
    if call.arguments.keywords.iter().any(|k| k.arg.is_none()) {
        return None;
    }
    match kwarg(kwargs, "default_args") {
        None | Some(Value::None) => Some(Vec::new()),
        Some(Value::Dict(items)) => Some(items.iter().map(|(k, _)| k.clone()).collect()),
        Some(_) => None,
    }
}

/// The candidate nearest to `word` by edit distance, if it is close enough to be a typo.
pub(in crate::validate) fn closest<'c>(
    word: &str,
    candidates: impl Iterator<Item = &'c str>,
) -> Option<&'c str> {
    let limit = (word.len() / 3).clamp(1, 3);
    let mut buffers = (Vec::new(), Vec::new());
    candidates
        .filter(|c| c.len().abs_diff(word.len()) <= limit)
        .filter_map(|c| Some((bounded_levenshtein_str(word, c, limit, &mut buffers)?, c)))
        .min()
        .map(|(_, c)| c)
}

pub(in crate::validate) fn callee_name(func: &Expr) -> Option<String> {
    match func {
        Expr::Name(n) => Some(n.id.to_string()),
        Expr::Attribute(a) => Some(a.attr.to_string()),
        _ => None,
    }
}

pub(in crate::validate) fn is_list_like(e: &Expr) -> bool {
    matches!(e, Expr::List(_) | Expr::Tuple(_) | Expr::ListComp(_))
}

pub(in crate::validate) fn is_globals_call(e: &Expr) -> bool {
    matches!(e, Expr::Call(c) if matches!(&*c.func, Expr::Name(n) if matches!(n.id.as_str(), "globals" | "vars" | "locals")))
}

pub(in crate::validate) fn collect_xcoms(v: &Value<'_>, out: &mut Vec<TaskIdx>) {
    match v {
        Value::XCom(t) => out.push(*t),
        Value::List(items) => items.iter().for_each(|i| collect_xcoms(i, out)),
        Value::Dict(items) => items.iter().for_each(|(_, i)| collect_xcoms(i, out)),
        _ => {}
    }
}

pub(in crate::validate) fn strip_suffix_number(id: &str) -> &str {
    if let Some((core, tail)) = id.rsplit_once("__")
        && !tail.is_empty()
        && tail.chars().all(|c| c.is_ascii_digit())
    {
        return core;
    }
    id
}

/// Names of the exception classes an `except` clause catches.
pub(in crate::validate) fn exception_names(e: &Expr) -> Vec<String> {
    match e {
        Expr::Name(n) => vec![n.id.to_string()],
        Expr::Attribute(a) => vec![a.attr.to_string()],
        Expr::Tuple(t) => t.elts.iter().flat_map(exception_names).collect(),
        _ => vec!["Exception".into()],
    }
}
