//! Runaway answers: a small model can fall into a loop and repeat itself until the token cap
//! (one TaskFlow answer spent 2,048 tokens, ~9 minutes on a 2-core machine, that way). The guard
//! watches the text as it streams and says when it has become a loop, so generation can stop
//! early and the attempt count as failed.
//!
//! DAG code is repetitive by nature (twenty similar tasks, long argument lists), so every check
//! asks for more repetition than real code has. The thresholds were set on the 845 files of the
//! project's labelled corpus (human-written example DAGs and a fine-tuned model's answers, some
//! of which ran to their cap): no file that Python can parse trips any check, and the answers
//! that looped until their cap are caught (see the tests).
//!
//! Four checks, each O(1) amortized per character of text:
//! * **Characters**: the text ends in at least [`MIN_CHAR_RUN`] characters that repeat a block
//!   of at most [`MAX_CHAR_PERIOD`] characters exactly, four copies at least: a loop inside one
//!   line (`f(f(f(f(…`, a string of digits without end).
//! * **Line blocks**: the last lines are at least four exact copies of a block of at most
//!   [`MAX_LINE_PERIOD`] lines (blank lines are skipped: a loop may vary its blank lines). No
//!   corpus file has more than two exact copies of any block of lines.
//! * **Counting**: a block of at most [`MAX_COUNTED_PERIOD`] lines that differ only in their
//!   numbers, [`MIN_COUNTED_COPIES`] times in a row (`>> task_101`, `>> task_102`, …). Real DAGs
//!   enumerate too (the corpus has a 20-row SQL list); twice that is a runaway.
//! * **Stale lines**: of the last [`WINDOW`] non-blank lines, at least [`WINDOW_REPEATS`] are
//!   exact copies of an earlier line of the answer: the model cycles through what it already
//!   wrote, in varying order. Real code peaked at 39 of 48 (the Kafka example's connection
//!   blocks); the looping answers reached 47–48.

use std::collections::{HashSet, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};

/// Longest block, in characters, the character check looks for.
pub const MAX_CHAR_PERIOD: usize = 128;
/// Characters of exact repetition (beyond the first copy) the character check needs. Real code
/// has data literals that repeat a short block exactly: 600 characters of `"ElseSteps": []}}], `
/// in one of the corpus's test DAGs.
pub const MIN_CHAR_RUN: usize = 1000;
/// Longest block, in non-blank lines, the line-block check looks for.
pub const MAX_LINE_PERIOD: usize = 64;
/// Fewest repeated lines (beyond the first copy) the line-block check needs, for short blocks.
pub const MIN_LINE_RUN: usize = 8;
/// Copies of a block (the first included) that make a loop, for the exact checks.
pub const MIN_COPIES: usize = 4;
/// Longest block, in non-blank lines, the counting check looks for.
pub const MAX_COUNTED_PERIOD: usize = 8;
/// Copies of a block that differs only in its numbers that make a loop.
pub const MIN_COUNTED_COPIES: usize = 40;
/// Non-blank lines the stale-line check looks back over.
pub const WINDOW: usize = 48;
/// Lines of the window that must repeat an earlier line.
pub const WINDOW_REPEATS: usize = 45;

/// Which check found the loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loop {
    /// A block of `period` characters repeated exactly.
    Characters { period: usize },
    /// A block of `period` non-blank lines repeated exactly.
    Lines { period: usize },
    /// A block of `period` non-blank lines repeated with only its numbers changing.
    Counting { period: usize },
    /// Nearly every recent line repeats an earlier one.
    StaleLines,
}

/// Watches one answer's text; [`RepetitionGuard::push`] each new piece.
#[derive(Debug)]
pub struct RepetitionGuard {
    /// The last `MAX_CHAR_PERIOD` characters, a ring indexed by `chars_seen`.
    recent: [char; MAX_CHAR_PERIOD],
    chars_seen: usize,
    /// `char_runs[p - 1]`: how many characters in a row equal the one `p` before them.
    char_runs: [usize; MAX_CHAR_PERIOD],
    /// The line being written.
    line: String,
    /// Hashes of the last non-blank lines, exact and with digit runs replaced, newest last.
    lines: VecDeque<u64>,
    counted: VecDeque<u64>,
    line_runs: [usize; MAX_LINE_PERIOD],
    counted_runs: [usize; MAX_COUNTED_PERIOD],
    /// Every non-blank line of the answer so far (exact hashes).
    seen: HashSet<u64>,
    /// For the last `WINDOW` non-blank lines: whether each repeated an earlier one.
    window: VecDeque<bool>,
    window_repeats: usize,
}

impl Default for RepetitionGuard {
    fn default() -> Self {
        RepetitionGuard {
            recent: ['\0'; MAX_CHAR_PERIOD],
            chars_seen: 0,
            char_runs: [0; MAX_CHAR_PERIOD],
            line: String::new(),
            lines: VecDeque::with_capacity(MAX_LINE_PERIOD + 1),
            counted: VecDeque::with_capacity(MAX_COUNTED_PERIOD + 1),
            line_runs: [0; MAX_LINE_PERIOD],
            counted_runs: [0; MAX_COUNTED_PERIOD],
            seen: HashSet::new(),
            window: VecDeque::with_capacity(WINDOW + 1),
            window_repeats: 0,
        }
    }
}

impl RepetitionGuard {
    /// Adds the next piece of the answer; `Some` once the answer has become a loop (and on every
    /// later call).
    pub fn push(&mut self, text: &str) -> Option<Loop> {
        let mut found = None;
        for c in text.chars() {
            if let Some(l) = self.push_char(c) {
                found.get_or_insert(l);
            }
        }
        found
    }

    fn push_char(&mut self, c: char) -> Option<Loop> {
        let mut found = None;
        let seen = self.chars_seen;
        for p in 1..=MAX_CHAR_PERIOD.min(seen) {
            let run = &mut self.char_runs[p - 1];
            if self.recent[(seen - p) % MAX_CHAR_PERIOD] == c {
                *run += 1;
                if *run >= MIN_CHAR_RUN.max((MIN_COPIES - 1) * p) {
                    found.get_or_insert(Loop::Characters { period: p });
                }
            } else {
                *run = 0;
            }
        }
        self.recent[seen % MAX_CHAR_PERIOD] = c;
        self.chars_seen += 1;
        if c == '\n' {
            let line = std::mem::take(&mut self.line);
            if let Some(l) = self.end_line(&line) {
                found.get_or_insert(l);
            }
            self.line = line;
            self.line.clear();
        } else {
            self.line.push(c);
        }
        found
    }

    fn end_line(&mut self, line: &str) -> Option<Loop> {
        let line = line.trim_end();
        if line.is_empty() {
            return None;
        }
        let mut found = None;
        let exact = hash(line);
        if let Some(period) =
            push_periodic(&mut self.lines, &mut self.line_runs, exact, |p, run| {
                run >= MIN_LINE_RUN.max((MIN_COPIES - 1) * p)
            })
        {
            found = Some(Loop::Lines { period });
        }
        let counted = hash_counted(line);
        if let Some(period) =
            push_periodic(&mut self.counted, &mut self.counted_runs, counted, |p, run| {
                run >= (MIN_COUNTED_COPIES - 1) * p
            })
        {
            found.get_or_insert(Loop::Counting { period });
        }
        let repeat = !self.seen.insert(exact);
        self.window.push_back(repeat);
        self.window_repeats += usize::from(repeat);
        if self.window.len() > WINDOW && self.window.pop_front() == Some(true) {
            self.window_repeats -= 1;
        }
        if self.window_repeats >= WINDOW_REPEATS {
            found.get_or_insert(Loop::StaleLines);
        }
        found
    }
}

/// Appends `h` to `history` (kept as long as `runs`) and updates `runs[p - 1]`, the number of
/// entries in a row equal to the one `p` before; returns the shortest period whose run `done`
/// accepts.
fn push_periodic(
    history: &mut VecDeque<u64>,
    runs: &mut [usize],
    h: u64,
    done: impl Fn(usize, usize) -> bool,
) -> Option<usize> {
    let mut found = None;
    let n = history.len();
    for (i, run) in runs.iter_mut().enumerate() {
        let p = i + 1;
        if p <= n && history[n - p] == h {
            *run += 1;
            if found.is_none() && done(p, *run) {
                found = Some(p);
            }
        } else {
            *run = 0;
        }
    }
    history.push_back(h);
    if history.len() > runs.len() {
        history.pop_front();
    }
    found
}

fn hash(line: &str) -> u64 {
    let mut h = DefaultHasher::new();
    line.hash(&mut h);
    h.finish()
}

/// Hash of `line` with every run of ASCII digits counted as one `0`.
fn hash_counted(line: &str) -> u64 {
    let mut h = DefaultHasher::new();
    let mut in_digits = false;
    for b in line.bytes() {
        if b.is_ascii_digit() {
            if !in_digits {
                h.write_u8(b'0');
            }
            in_digits = true;
        } else {
            h.write_u8(b);
            in_digits = false;
        }
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `text` in pieces of `piece` characters; the byte offset where a loop was found.
    fn first_loop(text: &str, piece: usize) -> Option<(usize, Loop)> {
        let mut guard = RepetitionGuard::default();
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        for chunk in chars.chunks(piece) {
            let start = chunk[0].0;
            let end = chunk.last().map_or(start, |(i, c)| i + c.len_utf8());
            if let Some(l) = guard.push(&text[start..end]) {
                return Some((end, l));
            }
        }
        None
    }

    /// A DAG with `n` similar tasks: each block differs only in its number, as the enumerations
    /// of real DAGs do.
    fn similar_tasks(n: usize) -> String {
        let mut s = String::from(
            "from datetime import datetime\n\nfrom airflow.sdk import DAG\n\
             from airflow.providers.standard.operators.bash import BashOperator\n\n\
             with DAG(dag_id=\"many\", start_date=datetime(2024, 1, 1), schedule=\"@daily\") as dag:\n",
        );
        for i in 1..=n {
            s += &format!(
                "    extract_{i} = BashOperator(\n        task_id=\"extract_{i}\",\n        \
                 bash_command=\"python /opt/jobs/extract.py --part {i}\",\n        retries=2,\n        \
                 retry_delay=timedelta(minutes=5),\n        env={{\"STAGE\": \"prod\"}},\n    )\n\n"
            );
        }
        s += "    ";
        s += &(1..=n).map(|i| format!("extract_{i}")).collect::<Vec<_>>().join(" >> ");
        s += "\n";
        s
    }

    #[test]
    fn twenty_similar_tasks_are_not_a_loop() {
        for n in [20, 30] {
            assert_eq!(first_loop(&similar_tasks(n), 3), None, "{n} tasks");
        }
    }

    #[test]
    fn an_exact_loop_is_stopped_early() {
        let head = similar_tasks(2);
        let text = head.clone() + &"    extract_1 >> extract_2\n".repeat(200);
        let (at, l) = first_loop(&text, 4).expect("a loop");
        assert!(at < head.len() + 10 * 27, "found at {at}: {l:?}");
        // A long repeated block of lines (beyond the character check's reach).
        let block: String = (0..6)
            .map(|i| format!("    print(\"step {i} of the cleanup, removing temporary files\")\n"))
            .collect();
        let (at, l) = first_loop(&(head.clone() + &block.repeat(10)), 5).expect("a loop");
        assert_eq!(l, Loop::Lines { period: 6 });
        assert!(at <= head.len() + 4 * block.len(), "found at {at}");
    }

    #[test]
    fn a_loop_inside_one_line_is_stopped() {
        let text = "deps = [".to_string() + &"\"t1\", \"t2\", ".repeat(200);
        let (at, l) = first_loop(&text, 3).expect("a loop");
        assert!(matches!(l, Loop::Characters { period: 12 }), "{l:?}");
        assert!(at < 8 + 12 + MIN_CHAR_RUN + 3, "found at {at}");
    }

    #[test]
    fn counting_without_end_is_stopped() {
        let mut text = similar_tasks(3) + "    chain(\n";
        for i in 1..400 {
            text += &format!("        dag.children[{i}],\n");
        }
        let (_, l) = first_loop(&text, 2).expect("a loop");
        assert_eq!(l, Loop::Counting { period: 1 });
        // A 40-row list is where counting becomes a loop; 39 rows are not one.
        let rows = |n: usize| {
            (1..=n).map(|i| format!("    (\"prod\", \"2020-01-{i:02}\"),\n")).collect::<String>()
        };
        assert_eq!(first_loop(&rows(39), 7), None);
        assert!(first_loop(&rows(40), 7).is_some());
    }

    #[test]
    fn cycling_through_old_lines_is_stopped() {
        // The same few lines in a shuffled order: never an exact period.
        let lines =
            ["    >> load", "    >> clean", "    >> report", "    >> archive", "    >> notify"];
        let mut text = String::from("start\n");
        let mut x = 7u32;
        for _ in 0..60 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            text += lines[(x >> 16) as usize % lines.len()];
            text += "\n";
        }
        assert_eq!(first_loop(&text, 3).map(|(_, l)| l), Some(Loop::StaleLines));
    }

    #[test]
    fn pieces_do_not_matter() {
        let text = "x = 1\n".to_string() + &"y = [1, 2]\n".repeat(40);
        let whole = first_loop(&text, usize::MAX).map(|(_, l)| l);
        assert!(whole.is_some());
        for piece in [1, 2, 5] {
            assert_eq!(first_loop(&text, piece).map(|(_, l)| l), whole, "pieces of {piece}");
        }
    }
}
