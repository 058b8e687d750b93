//! Python's arithmetic on the interpreter's values, checked and bounded.
//!
//! Python integers never overflow and its strings and lists grow until memory runs out; the
//! interpreter has `i64` and must stay fast on any input. So every operation here returns the
//! exact Python result when it fits an `i64` and the size bounds below, and `None` (an unknown
//! value) otherwise — never a wrapped number, a panic or an unbounded allocation. The code that
//! an error would stop (`1 // 0`, `1 << -1`) is unknown too: whether the import fails there is not
//! this module's call.

use ruff_python_ast::{Operator, UnaryOp};

use super::model::{FunctionKind, Value};

/// Longest sequence that `range()`, repetition or a literal loop is unrolled into; longer
/// ones are unknown.
pub(super) const MAX_UNROLL: usize = 256;
/// Longest string the interpreter computes (bytes); a longer result is unknown.
pub(super) const MAX_STR_LEN: usize = 1 << 16;
/// Largest value (see [`weight`]) the interpreter builds; a larger one is unknown.
pub(super) const MAX_WEIGHT: usize = 1 << 14;
/// String bytes that weigh as much as one value node.
const BYTES_PER_UNIT: usize = 64;

/// `a OP b` on integers.
pub(super) fn int_binop(op: Operator, a: i64, b: i64) -> Option<i64> {
    match op {
        Operator::Add => a.checked_add(b),
        Operator::Sub => a.checked_sub(b),
        Operator::Mult => a.checked_mul(b),
        Operator::FloorDiv => floor_div(a, b),
        Operator::Mod => python_mod(a, b),
        // A negative exponent gives a float.
        Operator::Pow => a.checked_pow(u32::try_from(b).ok()?),
        Operator::LShift => shift_left(a, b),
        Operator::RShift => shift_right(a, b),
        Operator::BitAnd => Some(a & b),
        Operator::BitOr => Some(a | b),
        Operator::BitXor => Some(a ^ b),
        // `/` gives a float; `@` is not defined on int.
        Operator::Div | Operator::MatMult => None,
    }
}

/// `OP a` on an integer (`not` is not arithmetic and is handled by the caller).
pub(super) fn int_unary(op: UnaryOp, a: i64) -> Option<i64> {
    match op {
        UnaryOp::USub => a.checked_neg(),
        UnaryOp::UAdd => Some(a),
        // `~a` is `-a - 1`, which always fits.
        UnaryOp::Invert => Some(!a),
        UnaryOp::Not => None,
    }
}

/// Python's `//`: rounds towards negative infinity (`-7 // 2 == -4`).
fn floor_div(a: i64, b: i64) -> Option<i64> {
    let q = a.checked_div(b)?;
    let r = a.checked_rem(b)?;
    if r != 0 && ((r < 0) != (b < 0)) { q.checked_sub(1) } else { Some(q) }
}

/// Python's `%`: the result has the sign of the divisor (`-7 % 2 == 1`).
fn python_mod(a: i64, b: i64) -> Option<i64> {
    let r = a.checked_rem(b)?;
    if r != 0 && ((r < 0) != (b < 0)) { r.checked_add(b) } else { Some(r) }
}

fn shift_left(a: i64, b: i64) -> Option<i64> {
    // A negative count is a ValueError.
    if b < 0 {
        return None;
    }
    if a == 0 {
        return Some(0);
    }
    let b = u32::try_from(b).ok()?;
    let shifted = a.checked_shl(b)?;
    // Bits shifted out (or into the sign) mean the exact result does not fit.
    (shifted.checked_shr(b)? == a).then_some(shifted)
}

fn shift_right(a: i64, b: i64) -> Option<i64> {
    if b < 0 {
        return None;
    }
    let b = u32::try_from(b).unwrap_or(u32::MAX);
    // An arithmetic shift floors, like Python's; past 63 bits only the sign is left.
    Some(a.checked_shr(b).unwrap_or(if a < 0 { -1 } else { 0 }))
}

/// `range(...)` with one to three integer arguments, when at most [`MAX_UNROLL`] long.
pub(super) fn range(args: &[i64]) -> Option<Vec<i64>> {
    let (start, stop, step) = match *args {
        [stop] => (0, stop, 1),
        [start, stop] => (start, stop, 1),
        [start, stop, step] => (start, stop, step),
        _ => return None,
    };
    // `step == 0` is a ValueError. In i128 nothing below can overflow; the checks only say so.
    let (start, stop, step) = (i128::from(start), i128::from(stop), i128::from(step));
    let (span, stride) = match step {
        0 => return None,
        s if s > 0 => (stop.checked_sub(start)?, s),
        s => (start.checked_sub(stop)?, s.checked_neg()?),
    };
    // ceil(span / stride) elements when the span is positive, none otherwise.
    let len = if span > 0 { span.checked_sub(1)?.checked_div(stride)?.checked_add(1)? } else { 0 };
    if len > i128::try_from(MAX_UNROLL).ok()? {
        return None;
    }
    (0..len).map(|i| i64::try_from(i.checked_mul(step)?.checked_add(start)?).ok()).collect()
}

/// How many times a sequence is repeated by `seq * n` (`n <= 0` empties it).
fn repeat_count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

/// `s * n`, when the result is at most [`MAX_STR_LEN`] bytes.
pub(super) fn repeat_str(s: &str, n: i64) -> Option<String> {
    let n = repeat_count(n);
    if s.is_empty() {
        return Some(String::new());
    }
    (s.len().checked_mul(n)? <= MAX_STR_LEN).then(|| s.repeat(n))
}

/// `items * n`, when the result is at most [`MAX_UNROLL`] long and [`MAX_WEIGHT`] heavy.
pub(super) fn repeat_list<'a>(items: &[Value<'a>], n: i64) -> Option<Vec<Value<'a>>> {
    let n = repeat_count(n);
    if items.is_empty() {
        return Some(Vec::new());
    }
    if items.len().checked_mul(n)? > MAX_UNROLL {
        return None;
    }
    let one = weight(&Value::List(Vec::new())).saturating_add(list_weight(items));
    if one.checked_mul(n)? > MAX_WEIGHT {
        return None;
    }
    let mut out = Vec::with_capacity(items.len().saturating_mul(n));
    for _ in 0..n {
        out.extend_from_slice(items);
    }
    Some(out)
}

/// `a + b` on strings, when the result is at most [`MAX_STR_LEN`] bytes.
pub(super) fn concat_str(mut a: String, b: &str) -> Option<String> {
    if a.len().checked_add(b.len())? > MAX_STR_LEN {
        return None;
    }
    a.push_str(b);
    Some(a)
}

/// How much work it is to copy a value, and how much memory it holds: one unit per node
/// (list element, dict entry, argument...) plus one per [`BYTES_PER_UNIT`] string bytes.
/// Stops counting past [`MAX_WEIGHT`], so it is cheap on values that are too big anyway.
pub(super) fn weight(v: &Value<'_>) -> usize {
    let own = match v {
        Value::Unknown
        | Value::None
        | Value::Bool(_)
        | Value::Int(_)
        | Value::Class(..)
        | Value::Dag(_)
        | Value::Task(_)
        | Value::XCom(_)
        | Value::Group(_) => 0,
        Value::Str(s) => str_weight(s),
        Value::Imported(s) => str_weight(s),
        Value::Hook(s) | Value::FilePath(s) => str_weight(s),
        Value::List(items) => list_weight(items),
        Value::Dict(items) => {
            let mut total = 0usize;
            for (k, v) in items {
                total = total.saturating_add(str_weight(k)).saturating_add(weight(v));
                if total > MAX_WEIGHT {
                    break;
                }
            }
            total
        }
        Value::Function(f) => {
            let mut total = 0usize;
            for (name, v) in &f.defaults {
                total = total.saturating_add(str_weight(name)).saturating_add(weight(v));
                if total > MAX_WEIGHT {
                    break;
                }
            }
            let ids = match &f.kind {
                FunctionKind::Task { task_id, .. } => task_id.as_ref(),
                FunctionKind::TaskGroup { group_id, .. } => group_id.as_ref(),
                FunctionKind::Plain | FunctionKind::Dag { .. } => None,
            };
            total.saturating_add(ids.map_or(0, weight))
        }
        Value::OperatorPartial(p) => {
            let mut total = str_weight(&p.class_name);
            for (k, v) in &p.kwargs {
                total = total
                    .saturating_add(k.as_deref().map_or(0, str_weight))
                    .saturating_add(weight(v));
                if total > MAX_WEIGHT {
                    break;
                }
            }
            total
        }
        Value::EdgeLabel(ends) => ends.len(),
        Value::Method(object, name) => weight(object).saturating_add(str_weight(name)),
    };
    own.saturating_add(1)
}

fn list_weight(items: &[Value<'_>]) -> usize {
    let mut total = 0usize;
    for v in items {
        total = total.saturating_add(weight(v));
        if total > MAX_WEIGHT {
            break;
        }
    }
    total
}

fn str_weight(s: &str) -> usize {
    s.len() / BYTES_PER_UNIT
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_operators_follow_python_or_give_up() {
        assert_eq!(int_binop(Operator::FloorDiv, -7, 2), Some(-4));
        assert_eq!(int_binop(Operator::FloorDiv, 7, -2), Some(-4));
        assert_eq!(int_binop(Operator::Mod, -7, 2), Some(1));
        assert_eq!(int_binop(Operator::Mod, 7, -2), Some(-1));
        assert_eq!(int_binop(Operator::FloorDiv, 1, 0), None);
        assert_eq!(int_binop(Operator::FloorDiv, i64::MIN, -1), None);
        assert_eq!(int_binop(Operator::Mod, i64::MIN, -1), None);
        assert_eq!(int_binop(Operator::Add, i64::MAX, 1), None);
        assert_eq!(int_binop(Operator::Sub, i64::MIN, 1), None);
        assert_eq!(int_binop(Operator::Mult, i64::MAX, 2), None);
        assert_eq!(int_binop(Operator::Pow, 2, 62), Some(1 << 62));
        assert_eq!(int_binop(Operator::Pow, 2, 63), None);
        assert_eq!(int_binop(Operator::Pow, 2, -1), None);
        assert_eq!(int_binop(Operator::Pow, 10, i64::MAX), None);
        assert_eq!(int_binop(Operator::LShift, 1, 62), Some(1 << 62));
        assert_eq!(int_binop(Operator::LShift, 1, 63), None);
        assert_eq!(int_binop(Operator::LShift, -1, 63), Some(i64::MIN));
        assert_eq!(int_binop(Operator::LShift, 3, 1 << 40), None);
        assert_eq!(int_binop(Operator::LShift, 0, i64::MAX), Some(0));
        assert_eq!(int_binop(Operator::LShift, 1, -1), None);
        assert_eq!(int_binop(Operator::RShift, -5, 1), Some(-3));
        assert_eq!(int_binop(Operator::RShift, -5, 1000), Some(-1));
        assert_eq!(int_binop(Operator::RShift, 5, i64::MAX), Some(0));
        assert_eq!(int_binop(Operator::Div, 4, 2), None);
        assert_eq!(int_unary(UnaryOp::USub, i64::MIN), None);
        assert_eq!(int_unary(UnaryOp::Invert, i64::MIN), Some(i64::MAX));
    }

    #[test]
    fn ranges_are_exact_and_bounded() {
        assert_eq!(range(&[3]), Some(vec![0, 1, 2]));
        assert_eq!(range(&[-3]), Some(vec![]));
        assert_eq!(range(&[2, 5]), Some(vec![2, 3, 4]));
        assert_eq!(range(&[5, 2]), Some(vec![]));
        assert_eq!(range(&[0, 10, 3]), Some(vec![0, 3, 6, 9]));
        assert_eq!(range(&[10, 0, -4]), Some(vec![10, 6, 2]));
        assert_eq!(range(&[0, 10, 0]), None);
        assert_eq!(range(&[0, 257]), None);
        assert_eq!(range(&[0, 256]).map(|r| r.len()), Some(256));
        // The crash of issue 12: `stop - start` overflows an i64.
        assert_eq!(range(&[-9223372036854775807, 9223372036854775807]), None);
        assert_eq!(range(&[i64::MIN, i64::MAX, i64::MAX]), Some(vec![i64::MIN, -1, i64::MAX - 1]));
        assert_eq!(range(&[i64::MAX, i64::MIN, i64::MIN]), Some(vec![i64::MAX, -1]));
        assert_eq!(range(&[i64::MAX - 1, i64::MAX]), Some(vec![i64::MAX - 1]));
        assert_eq!(range(&[]), None);
    }

    #[test]
    fn repetition_is_bounded() {
        assert_eq!(repeat_str("ab", 3).as_deref(), Some("ababab"));
        assert_eq!(repeat_str("ab", -3).as_deref(), Some(""));
        assert_eq!(repeat_str("ab", i64::MAX), None);
        assert_eq!(repeat_str("", i64::MAX).as_deref(), Some(""));
        assert_eq!(repeat_str("ab", i64::try_from(MAX_STR_LEN).unwrap()), None);
        let items = [Value::Int(1), Value::Int(2)];
        assert_eq!(repeat_list(&items, 2).map(|v| v.len()), Some(4));
        assert_eq!(repeat_list(&items, i64::MAX).map(|v| v.len()), None);
        assert_eq!(repeat_list(&[], i64::MAX).map(|v| v.len()), Some(0));
        assert_eq!(concat_str("a".repeat(MAX_STR_LEN), "b"), None);
    }

    #[test]
    fn weight_counts_nodes_and_string_bytes() {
        assert_eq!(weight(&Value::Int(1)), 1);
        assert_eq!(weight(&Value::Str("x".repeat(640).into())), 11);
        let list = Value::List(vec![Value::Int(1), Value::List(vec![Value::Int(2)])]);
        assert_eq!(weight(&list), 4);
        let huge = Value::List(vec![Value::Int(0); MAX_WEIGHT.saturating_mul(2)]);
        assert!(weight(&huge) > MAX_WEIGHT);
    }
}
