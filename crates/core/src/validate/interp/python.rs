//! Python semantics on known values: truthiness, `str` methods, `%` formatting, path functions
//! on `__file__`, and the builtins the interpreter follows.

use ruff_python_ast::{self as ast, Expr};

use crate::validate::arith::{self, MAX_STR_LEN};
use crate::validate::model::*;

/// Whether a test is statically true or false.
pub(in crate::validate) fn truthiness(test: &Expr, value: &Value<'_>) -> Option<bool> {
    // `if __name__ == "__main__":` never runs when Airflow imports the file.
    if let Expr::Compare(c) = test
        && c.ops.len() == 1
        && let (Expr::Name(n), Some(Expr::StringLiteral(s))) = (&*c.left, c.comparators.first())
        && n.id.as_str() == "__name__"
        && s.value.to_str() == "__main__"
    {
        return Some(matches!(c.ops[0], ast::CmpOp::NotEq));
    }
    if let Expr::Name(n) = test
        && n.id.as_str() == "TYPE_CHECKING"
    {
        return Some(false);
    }
    if let Expr::Attribute(a) = test
        && a.attr.as_str() == "TYPE_CHECKING"
    {
        return Some(false);
    }
    match value {
        Value::Bool(b) => Some(*b),
        Value::None => Some(false),
        Value::Int(i) => Some(*i != 0),
        Value::Str(s) => Some(!s.is_empty()),
        _ => None,
    }
}

/// `Path(__file__).stem` and friends: what a path made from `__file__` tells of the file's name.
pub(in crate::validate) fn path_attribute<'a>(name: &str, attr: &str) -> Value<'a> {
    let (stem, suffix) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    match attr {
        "name" => Value::Str(name.to_string().into()),
        "stem" => Value::Str(stem.to_string().into()),
        "suffix" => Value::Str(suffix.to_string().into()),
        _ => Value::Unknown,
    }
}

/// `os.path` and `pathlib` calls on `__file__` (or on strings).
pub(in crate::validate) fn path_function<'a>(qualified: &str, args: &[Value<'a>]) -> Value<'a> {
    match (qualified, args) {
        (
            "pathlib.Path" | "pathlib.PurePath" | "pathlib.PosixPath" | "os.path.abspath"
            | "os.path.realpath" | "os.path.normpath",
            [Value::FilePath(f)],
        ) => Value::FilePath(f.clone()),
        ("os.path.basename", [Value::FilePath(f)]) => Value::Str(f.clone().into()),
        ("os.path.basename", [Value::Str(s)]) => {
            Value::Str(s.rsplit('/').next().unwrap_or(s).to_string().into())
        }
        ("os.path.splitext", [Value::Str(s)]) => {
            let base_start = s.rfind('/').map_or(0, |i| i.saturating_add(1));
            match s[base_start..].rfind('.') {
                Some(i) if i > 0 => {
                    let at = base_start.saturating_add(i);
                    Value::List(vec![
                        Value::Str(s[..at].to_string().into()),
                        Value::Str(s[at..].to_string().into()),
                    ])
                }
                _ => Value::List(vec![Value::Str(s.clone()), Value::Str("".into())]),
            }
        }
        _ => Value::Unknown,
    }
}

/// `"a.b".split(".")`, `rsplit(".", 1)`: a list of strings (Python's whitespace split when no
/// separator is given).
pub(in crate::validate) fn split_string<'a>(
    s: &str,
    from_right: bool,
    args: &[Value<'a>],
) -> Value<'a> {
    let (sep, max) = match args {
        [] | [Value::None] => (None, None),
        [Value::Str(sep)] => (Some(&**sep), None),
        // A negative maxsplit means no limit, as in Python.
        [Value::Str(sep), Value::Int(n)] => (Some(&**sep), usize::try_from(*n).ok()),
        [Value::None, Value::Int(n)] => (None, usize::try_from(*n).ok()),
        _ => return Value::Unknown,
    };
    let parts: Vec<String> = match (sep, max, from_right) {
        (Some(""), _, _) => return Value::Unknown,
        (Some(sep), None, _) => s.split(sep).map(str::to_string).collect(),
        (Some(sep), Some(n), false) => {
            s.splitn(n.saturating_add(1), sep).map(str::to_string).collect()
        }
        (Some(sep), Some(n), true) => {
            let mut v: Vec<String> =
                s.rsplitn(n.saturating_add(1), sep).map(str::to_string).collect();
            v.reverse();
            v
        }
        (None, None, _) => s.split_whitespace().map(str::to_string).collect(),
        (None, Some(_), _) => return Value::Unknown,
    };
    Value::List(parts.into_iter().map(|p| Value::Str(p.into())).collect())
}

/// How a value prints in an f-string, when known.
pub(in crate::validate) fn display(v: &Value<'_>) -> Option<String> {
    match v {
        Value::Str(s) => Some(s.to_string()),
        Value::Int(i) => Some(i.to_string()),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.into()),
        Value::None => Some("None".into()),
        _ => None,
    }
}

pub(in crate::validate) fn percent_format(fmt: &str, arg: &Value<'_>) -> Option<String> {
    let args: Vec<&Value<'_>> = match arg {
        Value::List(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut out = String::new();
    let mut it = args.into_iter();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '%' => out.push('%'),
            's' | 'd' => out.push_str(&display(it.next()?)?),
            _ => return None,
        }
        if out.len() > MAX_STR_LEN {
            return None;
        }
    }
    if it.next().is_some() { None } else { Some(out) }
}

/// `s.NAME(*args)` for the string methods DAG files use to build ids, when the result is at
/// most `MAX_STR_LEN` bytes.
pub(in crate::validate) fn string_method(
    s: &str,
    name: &str,
    args: &[Value<'_>],
) -> Option<String> {
    let out = match (name, args) {
        ("lower", []) => s.to_lowercase(),
        ("upper", []) => s.to_uppercase(),
        ("strip", []) => s.trim().to_string(),
        ("removesuffix", [Value::Str(a)]) => s.strip_suffix(&**a).unwrap_or(s).to_string(),
        ("removeprefix", [Value::Str(a)]) => s.strip_prefix(&**a).unwrap_or(s).to_string(),
        ("replace", [Value::Str(a), Value::Str(b)]) => {
            // Sized before it is built: `s.replace("", x)` inserts x between all characters.
            let matches = s.matches(&**a).count();
            let grown = matches.checked_mul(b.len().saturating_sub(a.len()))?;
            if s.len().checked_add(grown)? > MAX_STR_LEN {
                return None;
            }
            s.replace(&**a, b)
        }
        ("format", args) => {
            let mut out = String::new();
            let mut rest = s;
            let mut next = 0usize;
            while let Some((before, after)) = rest.split_once('{') {
                out.push_str(before);
                if let Some(stripped) = after.strip_prefix('{') {
                    out.push('{');
                    rest = stripped;
                    continue;
                }
                let (field, after_close) = after.split_once('}')?;
                let v = if field.is_empty() {
                    let v = args.get(next)?;
                    next = next.saturating_add(1);
                    v
                } else {
                    args.get(field.parse::<usize>().ok()?)?
                };
                out.push_str(&display(v)?);
                if out.len() > MAX_STR_LEN {
                    return None;
                }
                rest = after_close;
            }
            if rest.contains('}') && !rest.contains("}}") {
                return None;
            }
            out.push_str(&rest.replace("}}", "}"));
            out
        }
        _ => return None,
    };
    (out.len() <= MAX_STR_LEN).then_some(out)
}

pub(in crate::validate) fn call_builtin<'a>(
    name: &str,
    args: Vec<Value<'a>>,
    kwargs: &[Kwarg<'a>],
) -> Value<'a> {
    if !kwargs.is_empty() {
        return Value::Unknown;
    }
    match (name, args.as_slice()) {
        ("range", args) => {
            let ints: Option<Vec<i64>> =
                args.iter().map(|v| if let Value::Int(i) = v { Some(*i) } else { None }).collect();
            ints.and_then(|ints| arith::range(&ints))
                .map_or(Value::Unknown, |r| Value::List(r.into_iter().map(Value::Int).collect()))
        }
        ("list" | "tuple" | "sorted", [Value::List(items)]) => Value::List(items.clone()),
        ("list" | "tuple", [Value::Dict(items)]) => {
            Value::List(items.iter().map(|(k, _)| Value::Str(k.clone().into())).collect())
        }
        ("enumerate", [Value::List(items)]) => Value::List(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let i = i64::try_from(i).map_or(Value::Unknown, Value::Int);
                    Value::List(vec![i, v.clone()])
                })
                .collect(),
        ),
        ("str", [v]) => display(v).map_or(Value::Unknown, |s| Value::Str(s.into())),
        ("len", [Value::List(items)]) => {
            i64::try_from(items.len()).map_or(Value::Unknown, Value::Int)
        }
        _ => Value::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: Value<'_>) -> Option<Vec<String>> {
        match v {
            Value::List(items) => items
                .into_iter()
                .map(|i| match i {
                    Value::Str(s) => Some(s.into_owned()),
                    _ => None,
                })
                .collect(),
            _ => None,
        }
    }

    #[test]
    fn splits_like_python() {
        let s = |v: &str| Value::Str(v.to_string().into());
        assert_eq!(strings(split_string("a.b.c", false, &[s(".")])).unwrap(), ["a", "b", "c"]);
        assert_eq!(
            strings(split_string("a.b.c", true, &[s("."), Value::Int(1)])).unwrap(),
            ["a.b", "c"]
        );
        assert_eq!(
            strings(split_string("a.b.c", false, &[s("."), Value::Int(-1)])).unwrap(),
            ["a", "b", "c"]
        );
        assert_eq!(
            strings(split_string("a.b", false, &[s("."), Value::Int(i64::MAX)])).unwrap(),
            ["a", "b"]
        );
        assert_eq!(strings(split_string(" a  b ", false, &[])).unwrap(), ["a", "b"]);
        assert!(matches!(split_string("ab", false, &[s("")]), Value::Unknown));
    }

    #[test]
    fn file_paths() {
        assert!(matches!(path_attribute("etl.py", "stem"), Value::Str(s) if s == "etl"));
        assert!(matches!(path_attribute(".hidden", "stem"), Value::Str(s) if s == ".hidden"));
        assert!(matches!(path_attribute("etl.py", "parent"), Value::Unknown));
        let f = [Value::FilePath("etl.py".into())];
        assert!(matches!(path_function("os.path.basename", &f), Value::Str(s) if s == "etl.py"));
        assert!(matches!(path_function("pathlib.Path", &f), Value::FilePath(_)));
        assert!(
            strings(path_function("os.path.splitext", &[Value::Str("dir.d/etl.py".into())]))
                .is_some_and(|v| v == ["dir.d/etl", ".py"])
        );
        assert!(
            strings(path_function("os.path.splitext", &[Value::Str("dir.d/etl".into())]))
                .is_some_and(|v| v == ["dir.d/etl", ""])
        );
    }
}
