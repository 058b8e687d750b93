//! Taking Python code out of LLM answers (markdown fences and surrounding prose).
//!
//! The rules, in order:
//!
//! 1. A leading `<think>…</think>` block (reasoning models) is dropped.
//! 2. Markdown fences are found line by line: a line whose first non-blank characters are three
//!    or more backticks or tildes opens a block; the info string's first word is its language.
//!    The block ends at a line holding only a fence of the same character at least as long, or
//!    at the end of the text (an unterminated final fence, as when generation hits its token
//!    limit). Fence-like lines inside a Python triple-quoted string outside any block are *not*
//!    fences: mined DAG files often carry markdown in their module docstring.
//! 3. If there is a block tagged `python` (or `py`, `python3`, `py3`, `ipython`), the **longest**
//!    such block is the answer: when a model splits its answer into several blocks, the complete
//!    DAG file is the long one and the others are usually fragments (a `pip install` line, a
//!    snippet repeating one task), so joining them would duplicate definitions. Ties go to the
//!    first block.
//! 4. Otherwise, the longest untagged block. Blocks tagged with another language (`bash`, `json`,
//!    `yaml`, …) are never taken.
//! 5. No usable block (no fences, or only empty/other-language blocks): the text as is, minus
//!    stray fence lines when there were any (a model that forgot its opening fence).
//!
//! The result keeps the block's lines exactly (with the opening fence's indentation removed) and
//! ends with a newline when non-empty.

/// Languages whose blocks count as Python.
const PYTHON_TAGS: &[&str] = &["python", "py", "python3", "py3", "ipython", "python2"];

/// Takes the Python code out of an LLM answer. See the module documentation for the rules.
pub fn extract_code(answer: &str) -> String {
    let answer = strip_think(answer);
    let blocks = find_blocks(answer);
    if blocks.is_empty() {
        return answer.to_string();
    }
    let pick = |python: bool| {
        blocks
            .iter()
            .filter(|b| b.is_python() == python && (python || b.lang.is_empty()))
            .filter(|b| !b.content.trim().is_empty())
            // `max_by_key` keeps the last maximum; iterate in reverse to keep the first.
            .rev()
            .max_by_key(|b| b.content.len())
    };
    if let Some(block) = pick(true).or_else(|| pick(false)) {
        return block.content.clone();
    }
    // Only empty blocks or other languages: drop the fence lines and keep the rest.
    let mut out = String::with_capacity(answer.len());
    for line in answer.split_inclusive('\n') {
        if fence_of(line).is_none() {
            out.push_str(line);
        }
    }
    out
}

/// Whether the text has at least one markdown fence that [`extract_code`] would act on.
pub fn has_fence(answer: &str) -> bool {
    !find_blocks(strip_think(answer)).is_empty()
}

fn strip_think(answer: &str) -> &str {
    let trimmed = answer.trim_start();
    if trimmed.starts_with("<think>")
        && let Some(end) = trimmed.find("</think>")
    {
        return trimmed[end + "</think>".len()..].trim_start_matches(['\r', '\n']);
    }
    answer
}

#[derive(Debug)]
struct Block {
    /// Lower-cased first word of the info string; empty when untagged.
    lang: String,
    content: String,
}

impl Block {
    fn is_python(&self) -> bool {
        PYTHON_TAGS.contains(&self.lang.as_str())
    }
}

/// A fence line: its character, its length, its indentation (in bytes) and the info string.
struct Fence<'a> {
    ch: u8,
    len: usize,
    indent: usize,
    info: &'a str,
}

fn fence_of(line: &str) -> Option<Fence<'_>> {
    let line = line.trim_end_matches(['\n', '\r']);
    let body = line.trim_start_matches([' ', '\t']);
    let indent = line.len() - body.len();
    let ch = *body.as_bytes().first()?;
    if ch != b'`' && ch != b'~' {
        return None;
    }
    let len = body.bytes().take_while(|&b| b == ch).count();
    if len < 3 {
        return None;
    }
    let info = body[len..].trim();
    // CommonMark: a backtick fence's info string cannot contain backticks (so "```x```" inline
    // code on its own line is not a fence).
    if ch == b'`' && info.contains('`') {
        return None;
    }
    Some(Fence { ch, len, indent, info })
}

fn language(info: &str) -> String {
    // Accept `python`, `{.python}`, `python title="dag.py"`, `Python:dag.py`.
    let word = info
        .trim_start_matches(['{', '.'])
        .split(|c: char| c.is_whitespace() || matches!(c, '}' | ':' | ',' | '{'))
        .next()
        .unwrap_or("");
    word.to_ascii_lowercase()
}

/// Tracks whether a position is inside a Python triple-quoted string, for text outside blocks.
#[derive(Default)]
struct TripleQuotes {
    open: Option<&'static str>,
}

impl TripleQuotes {
    fn feed(&mut self, line: &str) {
        let mut rest = line;
        loop {
            match self.open {
                Some(q) => match rest.find(q) {
                    Some(i) => {
                        rest = &rest[i + 3..];
                        self.open = None;
                    }
                    None => return,
                },
                None => {
                    let d = rest.find("\"\"\"");
                    let s = rest.find("'''");
                    let (i, q) = match (d, s) {
                        (Some(d), Some(s)) if s < d => (s, "'''"),
                        (Some(d), _) => (d, "\"\"\""),
                        (None, Some(s)) => (s, "'''"),
                        (None, None) => return,
                    };
                    // A `#` before the quotes makes them part of a comment.
                    if rest[..i].contains('#') {
                        return;
                    }
                    rest = &rest[i + 3..];
                    self.open = Some(q);
                }
            }
        }
    }
}

fn find_blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut quotes = TripleQuotes::default();
    let mut lines = text.split_inclusive('\n');
    while let Some(line) = lines.next() {
        let fence = match (quotes.open, fence_of(line)) {
            (None, Some(f)) => f,
            _ => {
                quotes.feed(line);
                continue;
            }
        };
        let lang = language(fence.info);
        let mut content = String::new();
        for inner in lines.by_ref() {
            if let Some(close) = fence_of(inner)
                && close.ch == fence.ch
                && close.len >= fence.len
                && close.info.is_empty()
            {
                break;
            }
            content.push_str(dedent(inner, fence.indent));
        }
        if !content.is_empty() && !content.ends_with('\n') {
            content.push('\n');
        }
        blocks.push(Block { lang, content });
    }
    blocks
}

/// Removes up to `indent` leading spaces/tabs (the opening fence's indentation).
fn dedent(line: &str, indent: usize) -> &str {
    let removable = line.bytes().take(indent).take_while(|b| *b == b' ' || *b == b'\t').count();
    &line[removable..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_code_is_kept_as_is() {
        let code = "from airflow import DAG\nx = 1\n";
        assert_eq!(extract_code(code), code);
        assert_eq!(extract_code(""), "");
        assert!(!has_fence(code));
    }

    #[test]
    fn python_block_surrounded_by_prose() {
        let answer = "Here is your DAG:\n\n```python\nimport os\nprint(1)\n```\n\nIt runs daily.";
        assert_eq!(extract_code(answer), "import os\nprint(1)\n");
        assert!(has_fence(answer));
    }

    #[test]
    fn py_tag_untagged_and_tilde_fences() {
        assert_eq!(extract_code("```py\na = 1\n```"), "a = 1\n");
        assert_eq!(extract_code("text\n```\nb = 2\n```\n"), "b = 2\n");
        assert_eq!(extract_code("~~~python\nc = 3\n~~~\n"), "c = 3\n");
        assert_eq!(extract_code("```Python title=\"dag.py\"\nd = 4\n```"), "d = 4\n");
        assert_eq!(extract_code("```{.python}\ne = 5\n```"), "e = 5\n");
    }

    #[test]
    fn longest_python_block_wins_and_other_languages_are_skipped() {
        let answer = "Install:\n```bash\npip install apache-airflow apache-airflow-providers\n```\n\
                      Snippet:\n```python\nt1 >> t2\n```\nFull file:\n```python\nfrom airflow import DAG\n\
                      dag = DAG('x')\n```\nUsage:\n```python\nrun()\n```\n";
        assert_eq!(extract_code(answer), "from airflow import DAG\ndag = DAG('x')\n");
    }

    #[test]
    fn python_block_preferred_over_longer_untagged_block() {
        let answer = "```\nsome very long output that is not code at all, really long\n```\n\
                      ```python\nx = 1\n```\n";
        assert_eq!(extract_code(answer), "x = 1\n");
    }

    #[test]
    fn ties_go_to_the_first_block() {
        assert_eq!(extract_code("```python\na = 1\n```\n```python\nb = 2\n```\n"), "a = 1\n");
    }

    #[test]
    fn unterminated_final_fence() {
        let answer = "Sure!\n```python\nfrom airflow import DAG\nwith DAG(\n";
        assert_eq!(extract_code(answer), "from airflow import DAG\nwith DAG(\n");
        assert_eq!(extract_code("```python\nx = 1"), "x = 1\n");
    }

    #[test]
    fn closing_fence_must_be_as_long_and_bare() {
        let answer = "````python\nprint('''\n```\n''')\n````\n";
        assert_eq!(extract_code(answer), "print('''\n```\n''')\n");
        // A line like ```python inside a block does not close it.
        let answer = "```\na = 1\n```python\nb = 2\n```\n";
        assert_eq!(extract_code(answer), "a = 1\n```python\nb = 2\n");
    }

    #[test]
    fn indented_fence_is_dedented() {
        let answer = "1. Create the file:\n   ```python\n   def f():\n       return 1\n   ```\n";
        assert_eq!(extract_code(answer), "def f():\n    return 1\n");
    }

    #[test]
    fn fences_in_a_docstring_are_not_markdown() {
        let code =
            "\"\"\"\nRequired:\n```\nDB = os.environ.get('DB')\n```\n\"\"\"\nimport os\nx = 1\n";
        assert_eq!(extract_code(code), code);
        let code = "x = '''\n```python\ny\n```\n'''\n";
        assert_eq!(extract_code(code), code);
        // Inline triple backticks are not fences either.
        let code = "MSG = \"```{{ table }}```\"\n";
        assert_eq!(extract_code(code), code);
    }

    #[test]
    fn stray_fence_lines_are_dropped_when_no_block_has_code() {
        assert_eq!(extract_code("x = 1\ny = 2\n```\n"), "x = 1\ny = 2\n");
        assert_eq!(extract_code("```json\n{}\n```\n"), "{}\n");
    }

    #[test]
    fn think_block_is_dropped() {
        let answer = "<think>\nmaybe ```python\nbad\n```\n</think>\n\n```python\ngood = 1\n```";
        assert_eq!(extract_code(answer), "good = 1\n");
        assert_eq!(extract_code("<think>hmm</think>\nx = 1\n"), "x = 1\n");
    }

    #[test]
    fn crlf_lines() {
        assert_eq!(extract_code("```python\r\nx = 1\r\n```\r\n"), "x = 1\r\n");
    }
}
