//! `# noqa` comments, as ruff and flake8 read them: a finding is suppressed when the line it
//! starts on carries `# noqa` (every rule) or `# noqa: DS102, DS103` (those codes). An own-line
//! `# dagsmith: noqa` (or `# dagsmith: noqa: DS101`) anywhere in the file suppresses every
//! finding (or those codes) in the whole file.
//!
//! Details that follow ruff: `noqa` is case-insensitive and may share a comment with others
//! (`# type: ignore  # noqa: DS102`); codes are separated by commas or spaces; a finding inside
//! a multi-line string is matched against the line where the string ends (a comment cannot
//! follow its first line); `# noqa:` followed by no code suppresses nothing. Syntax and compile
//! errors (DS001, DS002) are never suppressed: Python refuses the file whatever its comments say.
//!
//! Only comments count (a `# noqa` inside a string does not): the source is tokenized, which is
//! done only when the text contains `noqa` at all.

use std::collections::HashMap;

use ruff_python_ast::token::TokenKind;
use ruff_text_size::{Ranged, TextRange, TextSize};

use crate::finding::Finding;
use crate::report::Report;
use crate::rules;
use crate::source::LineIndex;

/// What one directive suppresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Codes {
    /// Bare `# noqa`.
    All,
    /// `# noqa: DS102, DS103` (upper-cased).
    Listed(Vec<String>),
}

impl Codes {
    fn covers(&self, code: &str) -> bool {
        match self {
            Codes::All => true,
            Codes::Listed(codes) => codes.iter().any(|c| c == code),
        }
    }

    fn merge(&mut self, other: Codes) {
        match (&mut *self, other) {
            (Codes::All, _) => {}
            (_, Codes::All) => *self = Codes::All,
            (Codes::Listed(mine), Codes::Listed(theirs)) => mine.extend(theirs),
        }
    }
}

/// The `noqa` directives of one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Directives {
    /// 1-based line → what its comment suppresses.
    pub lines: HashMap<u32, Codes>,
    /// `# dagsmith: noqa[: CODES]`.
    pub file: Option<Codes>,
    /// Line → the line whose comment counts for it: the last line of a multi-line string, or
    /// the next line after a backslash continuation (a comment cannot go on the line itself).
    moved: HashMap<u32, u32>,
    /// 1-based line → the byte range of its comment.
    comments: HashMap<u32, TextRange>,
}

impl Directives {
    /// Reads the directives of `source` (nothing to do, and no tokenizing, when the text has
    /// no `noqa`).
    pub fn parse(source: &str) -> Directives {
        if !contains_noqa(source) {
            return Directives::default();
        }
        Directives::scan(source)
    }

    /// [`Directives::parse`] without the shortcut: also for a file that has no directive yet
    /// (to place a new one, see [`add_code`]).
    pub fn scan(source: &str) -> Directives {
        let mut out = Directives::default();
        let lines = LineIndex::new(source);
        let parsed = crate::parse::parse_module(source);
        // Start offsets of the f-/t-strings being read (they nest).
        let mut open_strings: Vec<TextSize> = Vec::new();
        // Byte ranges of whole strings, to tell a continuation backslash from one in a string.
        let mut strings: Vec<TextRange> = Vec::new();
        for token in parsed.tokens().iter() {
            let range = token.range();
            match token.kind() {
                TokenKind::Comment => {
                    let text = &source[range];
                    let position = lines.position(range.start());
                    out.comments.insert(position.line, range);
                    let own_line = lines
                        .line_text(position.line)
                        .chars()
                        .take(position.column.saturating_sub(1) as usize)
                        .all(char::is_whitespace);
                    if own_line && let Some(codes) = file_directive(text) {
                        match &mut out.file {
                            Some(existing) => existing.merge(codes),
                            None => out.file = Some(codes),
                        }
                    } else if let Some((codes, _)) = line_directive(text) {
                        match out.lines.get_mut(&position.line) {
                            Some(existing) => existing.merge(codes),
                            None => {
                                out.lines.insert(position.line, codes);
                            }
                        }
                    }
                }
                TokenKind::String => strings.push(range),
                TokenKind::FStringStart | TokenKind::TStringStart => {
                    open_strings.push(range.start());
                }
                TokenKind::FStringEnd | TokenKind::TStringEnd => {
                    if let Some(start) = open_strings.pop()
                        && open_strings.is_empty()
                    {
                        strings.push(TextRange::new(start, range.end()));
                    }
                }
                _ => {}
            }
        }
        for range in &strings {
            let (first, last) =
                (lines.position(range.start()).line, lines.position(range.end()).line);
            for line in first..last {
                out.moved.insert(line, last);
            }
        }
        // A line ending in `\` outside a string continues on the next one.
        let mut offset = 0usize;
        for (line, text) in (1u32..).zip(source.split_inclusive('\n')) {
            let body = text.trim_end_matches(['\n', '\r']);
            if body.ends_with('\\') {
                let at = TextSize::try_from(offset + body.len() - 1).unwrap_or_default();
                if !strings.iter().any(|r| r.contains(at)) {
                    out.moved.entry(line).or_insert(line + 1);
                }
            }
            offset += text.len();
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty() && self.file.is_none()
    }

    /// The line whose comment counts for a finding that starts on `line`.
    pub fn comment_line(&self, line: u32) -> u32 {
        let mut line = line;
        // Bounded: every step moves forward.
        while let Some(&next) = self.moved.get(&line) {
            if next <= line {
                break;
            }
            line = next;
        }
        line
    }

    /// Whether a directive suppresses `finding`.
    pub fn suppresses(&self, finding: &Finding) -> bool {
        if finding.code == rules::SYNTAX_ERROR.code || finding.code == rules::COMPILE_ERROR.code {
            return false;
        }
        if self.file.as_ref().is_some_and(|c| c.covers(finding.code)) {
            return true;
        }
        let on = |line: u32| self.lines.get(&line).is_some_and(|c| c.covers(finding.code));
        on(finding.line) || on(self.comment_line(finding.line))
    }
}

/// The edit that makes a `code` finding starting on `line` suppressed: `(byte offset, text to
/// insert)` — `, CODE` added to the line's `# noqa: ...` list, or `  # noqa: CODE` at the end
/// of the line (after any comment already there). `None` when the line is already covered or
/// does not exist. For an editor's "ignore on this line" action.
pub fn add_code(source: &str, line: u32, code: &str) -> Option<(usize, String)> {
    let directives = Directives::scan(source);
    let target = directives.comment_line(line);
    if directives.lines.get(&target).is_some_and(|c| c.covers(code)) {
        return None;
    }
    let lines = LineIndex::new(source);
    let line_start = usize::from(lines.offset(target, 1)?);
    let line_end = line_start + lines.line_text(target).len();
    if let Some(range) = directives.comments.get(&target) {
        let comment = &source[*range];
        if let Some((Codes::Listed(_), Some(end))) = line_directive(comment) {
            return Some((usize::from(range.start()) + end, format!(", {code}")));
        }
        return Some((usize::from(range.end()), format!("  # noqa: {code}")));
    }
    let body = &source[line_start..line_end];
    let trimmed = body.trim_end();
    let at = line_start + trimmed.len();
    let spacing = if trimmed.is_empty() { "" } else { "  " };
    Some((at, format!("{spacing}# noqa: {code}")))
}

/// Drops the findings of `report` that `source`'s `noqa` comments suppress (the verdict follows,
/// see [`Report::retain_findings`]). Returns how many were dropped.
pub fn apply(source: &str, report: &mut Report) -> usize {
    let directives = Directives::parse(source);
    if directives.is_empty() {
        return 0;
    }
    let before = report.findings.len();
    report.retain_findings(|f| !directives.suppresses(f));
    before - report.findings.len()
}

fn contains_noqa(source: &str) -> bool {
    source.as_bytes().windows(4).any(|w| w.eq_ignore_ascii_case(b"noqa"))
}

/// `# noqa` / `# noqa: CODES` anywhere in a comment (`# type: ignore # noqa`), with the byte
/// offset (in `comment`) just after the last code of the last listed directive.
fn line_directive(comment: &str) -> Option<(Codes, Option<usize>)> {
    let mut found: Option<(Codes, Option<usize>)> = None;
    for (i, _) in comment.match_indices('#') {
        let after_hash = &comment[i + 1..];
        let rest = after_hash.trim_start();
        let rest_at = i + 1 + (after_hash.len() - rest.len());
        if let Some((codes, end)) = after_keyword(rest, "noqa") {
            let end = end.map(|e| rest_at + e);
            match &mut found {
                Some((existing, last_end)) => {
                    existing.merge(codes);
                    *last_end = end.or(*last_end);
                }
                None => found = Some((codes, end)),
            }
        }
    }
    found
}

/// `# dagsmith: noqa` / `# dagsmith: noqa: CODES`.
fn file_directive(comment: &str) -> Option<Codes> {
    let rest = comment.strip_prefix('#')?.trim_start();
    let rest = strip_prefix_ignore_case(rest, "dagsmith")?.trim_start();
    let rest = rest.strip_prefix(':')?.trim_start();
    after_keyword(rest, "noqa").map(|(codes, _)| codes)
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

/// `text` starts with `keyword` (then no identifier character): the codes that follow and the
/// byte offset after the last one, or `All` without a colon. `None` when the colon is followed
/// by no code.
fn after_keyword(text: &str, keyword: &str) -> Option<(Codes, Option<usize>)> {
    let rest = strip_prefix_ignore_case(text, keyword)?;
    if rest.chars().next().is_some_and(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let trimmed = rest.trim_start();
    let Some(list) = trimmed.strip_prefix(':') else {
        return Some((Codes::All, None));
    };
    let list_at = text.len() - list.len();
    let mut codes = Vec::new();
    let mut end = None;
    let mut at = 0usize;
    for word in list.split_inclusive(|c: char| c == ',' || c.is_whitespace()) {
        let bare = word.trim_end_matches(|c: char| c == ',' || c.is_whitespace());
        let word_at = at;
        at += word.len();
        if bare.is_empty() {
            continue;
        }
        if !is_code(bare) {
            break;
        }
        codes.push(bare.to_ascii_uppercase());
        end = Some(list_at + word_at + bare.len());
    }
    (!codes.is_empty()).then_some((Codes::Listed(codes), end))
}

/// Letters then digits: `DS102`, `E501`.
fn is_code(word: &str) -> bool {
    let letters = word.chars().take_while(char::is_ascii_alphabetic).count();
    letters > 0 && word.len() > letters && word[letters..].chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;

    fn finding(code: &'static str, line: u32) -> Finding {
        Finding {
            code,
            severity: Severity::Error,
            line,
            column: 1,
            end_line: line,
            end_column: 2,
            message: String::new(),
            fix: Default::default(),
            autofix: None,
        }
    }

    fn codes(comment: &str) -> Option<Codes> {
        line_directive(comment).map(|(c, _)| c)
    }

    fn listed(codes: &[&str]) -> Option<Codes> {
        Some(Codes::Listed(codes.iter().map(|c| c.to_string()).collect()))
    }

    #[test]
    fn directive_grammar() {
        assert_eq!(codes("# noqa"), Some(Codes::All));
        assert_eq!(codes("#NOQA"), Some(Codes::All));
        assert_eq!(codes("# noqa: DS102,ds103  E501"), listed(&["DS102", "DS103", "E501"]));
        assert_eq!(codes("# noqa:DS102 because reasons"), listed(&["DS102"]));
        assert_eq!(codes("# type: ignore  # noqa: DS202"), listed(&["DS202"]));
        assert_eq!(codes("# noqa: because reasons"), None);
        assert_eq!(codes("# noqa:"), None);
        assert_eq!(codes("# noqanything"), None);
        assert_eq!(codes("# a comment about noqa"), None);
        assert_eq!(file_directive("# dagsmith: noqa"), Some(Codes::All));
        assert_eq!(file_directive("# dagsmith: noqa: DS101"), listed(&["DS101"]));
        assert_eq!(file_directive("# noqa"), None);
        // Where the code list ends (to extend it).
        let comment = "# x  # noqa: DS102, E501 why";
        let end = line_directive(comment).unwrap().1.unwrap();
        assert_eq!(&comment[..end], "# x  # noqa: DS102, E501");
        assert_eq!(line_directive("# noqa").unwrap().1, None);
    }

    #[test]
    fn only_comments_count() {
        let source = "x = '# noqa'\ny = 1  # noqa: DS102\nz = 2  # noqa\n";
        let d = Directives::parse(source);
        assert!(!d.suppresses(&finding("DS102", 1)));
        assert!(d.suppresses(&finding("DS102", 2)));
        assert!(!d.suppresses(&finding("DS103", 2)));
        assert!(d.suppresses(&finding("DS103", 3)));
        assert!(!d.suppresses(&finding("DS001", 3)), "syntax errors are never suppressed");
        assert!(Directives::parse("x = 1\n").is_empty());
    }

    #[test]
    fn multiline_strings_and_continuations_match_their_last_line() {
        let source = "cmd = \"\"\"\n{{ execution_date }}\n\"\"\"  # noqa: DS210\n\
                      msg = f\"\"\"\n{x}\n\"\"\"  # noqa\n\
                      y = a + \\\n    b  # noqa: DS102\n\
                      s = 'not a \\\\'\n";
        let d = Directives::parse(source);
        assert!(d.suppresses(&finding("DS210", 1)));
        assert!(d.suppresses(&finding("DS210", 2)));
        assert!(!d.suppresses(&finding("DS102", 2)));
        assert!(d.suppresses(&finding("DS103", 5)));
        assert!(d.suppresses(&finding("DS102", 7)));
        assert!(d.suppresses(&finding("DS102", 8)));
        assert_eq!(d.comment_line(7), 8);
        assert_eq!(d.comment_line(9), 9);
    }

    #[test]
    fn adding_a_code() {
        let insert = |source: &str, line: u32, code: &str| {
            add_code(source, line, code).map(|(at, text)| {
                let mut s = source.to_string();
                s.insert_str(at, &text);
                s
            })
        };
        assert_eq!(insert("x = y\n", 1, "DS102").unwrap(), "x = y  # noqa: DS102\n");
        assert_eq!(
            insert("x = y  # noqa: DS103 why\n", 1, "DS102").unwrap(),
            "x = y  # noqa: DS103, DS102 why\n"
        );
        assert_eq!(
            insert("x = y  # type: ignore\r\nz\n", 1, "DS102").unwrap(),
            "x = y  # type: ignore  # noqa: DS102\r\nz\n"
        );
        assert_eq!(
            insert("c = \"\"\"\n{{ ds }}\n\"\"\"\n", 2, "DS210").unwrap(),
            "c = \"\"\"\n{{ ds }}\n\"\"\"  # noqa: DS210\n"
        );
        assert_eq!(insert("x = y  # noqa\n", 1, "DS102"), None);
        assert_eq!(insert("x = y  # noqa: DS102\n", 1, "DS102"), None);
        assert_eq!(insert("x\n", 5, "DS102"), None);
        // Each result is itself read back as suppressing the finding.
        for (source, line) in [("x = y\n", 1), ("a = \\\n  b\n", 1), ("x = y  # noqa: DS1\n", 1)] {
            let fixed = insert(source, line, "DS102").unwrap();
            assert!(Directives::parse(&fixed).suppresses(&finding("DS102", line)), "{fixed}");
        }
    }

    #[test]
    fn file_level_directive_is_own_line_only() {
        let d = Directives::parse("# dagsmith: noqa: DS101\nx = 1\n");
        assert!(d.suppresses(&finding("DS101", 9)));
        assert!(!d.suppresses(&finding("DS102", 2)));
        let d = Directives::parse("x = 1  # dagsmith: noqa\n");
        assert!(d.file.is_none());
        // A trailing `# dagsmith: noqa` has no `# noqa` of its own.
        assert!(!d.suppresses(&finding("DS102", 1)));
    }

    #[test]
    fn apply_updates_the_verdict() {
        let source = "from airflow.nope import X  # noqa: DS202\n";
        let mut report = Report {
            airflow_version: "3.1".into(),
            loads: false,
            dags: vec![],
            findings: vec![finding("DS202", 1)],
        };
        assert_eq!(apply(source, &mut report), 1);
        assert!(report.loads);
        assert!(report.findings.is_empty());
    }
}
