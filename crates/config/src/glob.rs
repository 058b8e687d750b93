//! The glob patterns of `per-file-ignores`, with ruff's meaning: `*` matches any run of
//! characters (path separators included, as in ruff's globset defaults), `**` the same,
//! `?` one character, `[abc]`, `[a-z]` and `[!abc]` one character of (not of) a set; anything
//! else matches itself. Paths are compared with `/` separators.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Literal(char),
    /// `*` or `**`.
    Star,
    Any,
    /// `[...]`: (negated, ranges).
    Class(bool, Vec<(char, char)>),
}

/// A compiled pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glob {
    text: String,
    pieces: Vec<Piece>,
}

/// Why a pattern was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobError(pub String);

impl fmt::Display for GlobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Glob {
    pub fn new(pattern: &str) -> Result<Glob, GlobError> {
        if pattern.trim().is_empty() {
            return Err(GlobError("empty pattern".into()));
        }
        let text = pattern.replace('\\', "/");
        let mut pieces = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '*' => {
                    while chars.peek() == Some(&'*') {
                        chars.next();
                    }
                    pieces.push(Piece::Star);
                }
                '?' => pieces.push(Piece::Any),
                '[' => {
                    let negated = matches!(chars.peek(), Some('!' | '^'));
                    if negated {
                        chars.next();
                    }
                    let mut ranges = Vec::new();
                    let mut closed = false;
                    let mut first = true;
                    while let Some(c) = chars.next() {
                        if c == ']' && !first {
                            closed = true;
                            break;
                        }
                        first = false;
                        let mut lookahead = chars.clone();
                        if lookahead.next() == Some('-')
                            && let Some(end) = lookahead.next()
                            && end != ']'
                        {
                            chars.next();
                            chars.next();
                            if end < c {
                                return Err(GlobError(format!(
                                    "invalid range {c}-{end} in {pattern:?}"
                                )));
                            }
                            ranges.push((c, end));
                        } else {
                            ranges.push((c, c));
                        }
                    }
                    if !closed {
                        return Err(GlobError(format!("unclosed `[` in {pattern:?}")));
                    }
                    pieces.push(Piece::Class(negated, ranges));
                }
                c => pieces.push(Piece::Literal(c)),
            }
        }
        Ok(Glob { text, pieces })
    }

    /// The pattern as written (with `/` separators).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern has a path separator (one without is also matched against file
    /// names alone).
    pub fn has_separator(&self) -> bool {
        self.text.contains('/')
    }

    /// Whether `path` (with `/` separators) matches the whole pattern.
    pub fn matches(&self, path: &str) -> bool {
        let text: Vec<char> = path.chars().collect();
        // Iterative wildcard matching with backtracking to the last star: linear in practice,
        // never exponential.
        let (mut p, mut t) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            let step = match self.pieces.get(p) {
                Some(Piece::Star) => {
                    star = Some((p, t));
                    p += 1;
                    continue;
                }
                Some(Piece::Literal(c)) => *c == text[t],
                Some(Piece::Any) => true,
                Some(Piece::Class(negated, ranges)) => {
                    ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&text[t])) != *negated
                }
                None => false,
            };
            if step {
                p += 1;
                t += 1;
            } else if let Some((sp, st)) = star {
                p = sp + 1;
                t = st + 1;
                star = Some((sp, st + 1));
            } else {
                return false;
            }
        }
        self.pieces[p..].iter().all(|piece| *piece == Piece::Star)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, path: &str) -> bool {
        Glob::new(pattern).unwrap().matches(path)
    }

    #[test]
    fn wildcards() {
        assert!(m("dags/legacy.py", "dags/legacy.py"));
        assert!(!m("dags/legacy.py", "dags/legacy.pyc"));
        assert!(m("tests/*", "tests/a.py"));
        assert!(m("tests/*", "tests/deep/a.py"), "`*` crosses separators, as in ruff");
        assert!(m("**/include/*.py", "dags/include/helpers.py"));
        assert!(m("*_test.py", "x_test.py"));
        assert!(!m("*_test.py", "x_test.pyi"));
        assert!(m("dag_?.py", "dag_1.py"));
        assert!(!m("dag_?.py", "dag_10.py"));
        assert!(m("dag_[0-9].py", "dag_7.py"));
        assert!(!m("dag_[!0-9].py", "dag_7.py"));
        assert!(m("dag_[!0-9].py", "dag_x.py"));
        assert!(m("a*b*c", "aXbYbZc"));
        assert!(!m("a*b*c", "aXbYbZ"));
        assert!(m("dags\\x.py", "dags/x.py"));
    }

    #[test]
    fn bad_patterns() {
        assert!(Glob::new("").is_err());
        assert!(Glob::new("dag_[0-9.py").is_err());
        assert!(Glob::new("[z-a]").is_err());
        assert!(Glob::new("[]]").unwrap().matches("]"));
    }

    #[test]
    fn many_stars_stay_fast() {
        let g = Glob::new(&"a*".repeat(30)).unwrap();
        assert!(!g.matches(&"a".repeat(29)));
        assert!(g.matches(&"a".repeat(30)));
    }
}
