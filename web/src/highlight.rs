//! Python syntax highlighting for the code view: a small lexer (keywords, strings including
//! triple-quoted and prefixed ones, comments, numbers, decorators, definitions) that never
//! fails, whatever the input, and HTML output split per line so that each line can be marked.

use crate::html::escape;

/// Token classes; each maps to a CSS class (`tok-…`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Plain,
    Keyword,
    /// `True`, `False`, `None`.
    Constant,
    Builtin,
    String,
    Comment,
    Number,
    Decorator,
    /// The name after `def` or `class`.
    Definition,
}

impl Class {
    fn css(self) -> Option<&'static str> {
        match self {
            Class::Plain => None,
            Class::Keyword => Some("tok-kw"),
            Class::Constant => Some("tok-const"),
            Class::Builtin => Some("tok-builtin"),
            Class::String => Some("tok-str"),
            Class::Comment => Some("tok-comment"),
            Class::Number => Some("tok-num"),
            Class::Decorator => Some("tok-deco"),
            Class::Definition => Some("tok-def"),
        }
    }
}

const KEYWORDS: &[&str] = &[
    "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif",
    "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda",
    "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield", "match",
    "case",
];

const BUILTINS: &[&str] = &[
    "print",
    "len",
    "range",
    "dict",
    "list",
    "set",
    "tuple",
    "str",
    "int",
    "float",
    "bool",
    "open",
    "enumerate",
    "zip",
    "map",
    "filter",
    "sorted",
    "isinstance",
    "super",
    "Exception",
    "ValueError",
    "KeyError",
    "TypeError",
    "RuntimeError",
    "min",
    "max",
    "sum",
    "any",
    "all",
    "getattr",
    "setattr",
    "hasattr",
    "type",
    "object",
    "self",
];

/// Splits source into classified pieces covering it exactly.
pub fn tokenize(src: &str) -> Vec<(Class, &str)> {
    let bytes = src.as_bytes();
    let mut out: Vec<(Class, &str)> = Vec::new();
    let mut i = 0;
    let mut plain_start = 0;
    // After `def`/`class`, the next name is a definition.
    let mut expect_definition = false;
    while i < bytes.len() {
        let c = bytes[i];
        let (class, end) = if c == b'#' {
            (Class::Comment, line_end(bytes, i))
        } else if let Some(end) = string_at(bytes, i) {
            (Class::String, end)
        } else if c.is_ascii_digit()
            || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            let end = scan(bytes, i + 1, |b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
            (Class::Number, end)
        } else if c == b'@' && at_line_start(bytes, i) {
            let end = scan(bytes, i + 1, |b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
            (Class::Decorator, end)
        } else if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            // Non-ASCII bytes are identifier parts (Python allows Unicode names); they never
            // split a UTF-8 character because every byte of one is >= 0x80.
            let end = scan(bytes, i + 1, |b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80);
            let word = &src[i..end];
            let class = if expect_definition {
                Class::Definition
            } else if KEYWORDS.contains(&word) {
                Class::Keyword
            } else if matches!(word, "True" | "False" | "None") {
                Class::Constant
            } else if BUILTINS.contains(&word) {
                Class::Builtin
            } else {
                Class::Plain
            };
            expect_definition = matches!(word, "def" | "class");
            if class == Class::Plain {
                i = end;
                continue;
            }
            (class, end)
        } else {
            i += 1;
            continue;
        };
        push_plain(&mut out, src, plain_start, i);
        out.push((class, &src[i..end]));
        i = end;
        plain_start = end;
    }
    push_plain(&mut out, src, plain_start, bytes.len());
    out
}

fn push_plain<'a>(out: &mut Vec<(Class, &'a str)>, src: &'a str, from: usize, to: usize) {
    if to > from {
        out.push((Class::Plain, &src[from..to]));
    }
}

fn scan(bytes: &[u8], mut i: usize, keep: impl Fn(u8) -> bool) -> usize {
    while i < bytes.len() && keep(bytes[i]) {
        i += 1;
    }
    i
}

fn line_end(bytes: &[u8], i: usize) -> usize {
    scan(bytes, i, |b| b != b'\n')
}

fn at_line_start(bytes: &[u8], i: usize) -> bool {
    bytes[..i].iter().rev().take_while(|&&b| b != b'\n').all(|&b| b == b' ' || b == b'\t')
}

/// If a string literal (with an optional prefix such as `f`, `rb`) starts at `i`, its end. An
/// unterminated single-quoted string ends at the line's end, a triple-quoted one at the text's.
/// Only called at token starts: identifiers are consumed whole, so `pref'x'` is a name and a
/// string, as Python tokenizes it.
fn string_at(bytes: &[u8], i: usize) -> Option<usize> {
    let prefix = scan(bytes, i, |b| matches!(b.to_ascii_lowercase(), b'r' | b'b' | b'u' | b'f'));
    if prefix - i > 2 {
        return None;
    }
    let quote = *bytes.get(prefix)?;
    if quote != b'\'' && quote != b'"' {
        return None;
    }
    let triple = bytes.get(prefix..prefix + 3) == Some(&[quote; 3][..]);
    let mut j = prefix + if triple { 3 } else { 1 };
    while j < bytes.len() {
        match bytes[j] {
            // An escape skips the next byte even in raw strings (r"\"" is one string).
            b'\\' => j += 2,
            b'\n' if !triple => return Some(j),
            b if b == quote => {
                if !triple {
                    return Some(j + 1);
                }
                if bytes.get(j..j + 3) == Some(&[quote; 3][..]) {
                    return Some(j + 3);
                }
                j += 1;
            }
            _ => j += 1,
        }
    }
    Some(bytes.len())
}

/// Highlighted HTML per source line (no newlines inside). A token spanning lines (a
/// triple-quoted string) is closed at each line end and reopened on the next line.
pub fn highlight_lines(src: &str) -> Vec<String> {
    let mut lines = vec![String::new()];
    for (class, text) in tokenize(src) {
        for (k, piece) in text.split('\n').enumerate() {
            if k > 0 {
                lines.push(String::new());
            }
            if piece.is_empty() {
                continue;
            }
            let line = lines.last_mut().expect("lines is never empty");
            match class.css() {
                Some(css) => {
                    line.push_str("<span class=\"");
                    line.push_str(css);
                    line.push_str("\">");
                    escape(piece, line);
                    line.push_str("</span>");
                }
                None => escape(piece, line),
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(src: &str) -> Vec<(Class, &str)> {
        tokenize(src).into_iter().filter(|(c, _)| *c != Class::Plain).collect()
    }

    #[test]
    fn tokens_cover_the_source_exactly() {
        let src =
            "@dag(schedule=None)\ndef etl():\n    x = f'{a}' + r\"\\\"\" # note\n    return 0x1F\n";
        let joined: String = tokenize(src).iter().map(|(_, t)| *t).collect();
        assert_eq!(joined, src);
    }

    #[test]
    fn classifies_python() {
        let src = "@task.python\ndef extract(ds=None):\n    return len('a#b')  # why\n";
        assert_eq!(
            classes(src),
            [
                (Class::Decorator, "@task.python"),
                (Class::Keyword, "def"),
                (Class::Definition, "extract"),
                (Class::Constant, "None"),
                (Class::Keyword, "return"),
                (Class::Builtin, "len"),
                (Class::String, "'a#b'"),
                (Class::Comment, "# why"),
            ]
        );
        assert_eq!(classes("a @ b"), [], "matrix product is not a decorator");
        assert_eq!(classes("x1 = 1.5e3"), [(Class::Number, "1.5e3")]);
        assert_eq!(classes("rb'x' f\"y\""), [(Class::String, "rb'x'"), (Class::String, "f\"y\"")]);
        assert_eq!(classes("pref'x'"), [(Class::String, "'x'")], "not a string prefix");
    }

    #[test]
    fn strings_span_lines_and_stop_at_their_end() {
        let src = "doc = \"\"\"one\n'two'\n\"\"\"\nx = 'open\ny = 1\n";
        assert_eq!(
            classes(src),
            [
                (Class::String, "\"\"\"one\n'two'\n\"\"\""),
                (Class::String, "'open"),
                (Class::Number, "1")
            ]
        );
        let lines = highlight_lines(src);
        assert_eq!(lines.len(), 6);
        assert_eq!(lines[1], "<span class=\"tok-str\">'two'</span>");
        assert_eq!(lines[5], "");
    }

    #[test]
    fn escapes_html() {
        let lines = highlight_lines("a = '<b>&'\nif a < b: pass");
        assert_eq!(lines[0], "a = <span class=\"tok-str\">'&lt;b&gt;&amp;'</span>");
        assert!(lines[1].contains("a &lt; b"));
    }

    #[test]
    fn never_panics_on_odd_input() {
        for src in ["", "'", "\"\"\"", "\\", "r'\\", "é = 'ü'\n", "@", "#", "0x", "f'''\n\\"] {
            let joined: String = tokenize(src).iter().map(|(_, t)| *t).collect();
            assert_eq!(joined, src);
            assert_eq!(highlight_lines(src).len(), src.matches('\n').count() + 1);
        }
    }
}
