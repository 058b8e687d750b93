//! The report that ends a dataset run: how many DAGs load as first answered, after fixes and
//! after repair rounds, the commonest errors, throughput.

use std::collections::HashMap;

use dagsmith_core::pipeline::AnswerEnd;

use super::task::{Run, Task};
use super::work::Totals;

#[derive(Default)]
pub struct Summary {
    pub rows: usize,
    pub failed_rows: usize,
    /// The first answer loads as the model wrote it / after dagsmith's fixes.
    pub pass_at_1_raw: usize,
    pub pass_at_1: usize,
    pub pass_final: usize,
    /// Fixes applied, over all attempts.
    pub fixes: usize,
    /// Answers stopped because they kept repeating themselves.
    pub runaway: usize,
    finding_counts: HashMap<&'static str, usize>,
}

/// What the closing report says besides the counts.
pub struct Closing<'a> {
    pub output: &'a str,
    pub interrupted: bool,
    pub bad_rows: usize,
    /// Rows not generated because every try failed (not written; a rerun tries them again).
    pub dropped: usize,
    pub repair: u32,
    /// `4 parallel`, `2 backends`.
    pub parallelism: String,
}

impl Summary {
    /// Counts a written row.
    pub fn add(&mut self, task: &Task) {
        let attempts = task.conversation.attempts();
        self.rows += 1;
        self.failed_rows += usize::from(task.failed());
        self.pass_at_1_raw += usize::from(attempts.first().is_some_and(|a| a.loads_before_fixes));
        self.pass_at_1 += usize::from(attempts.first().is_some_and(|a| a.report.loads));
        self.pass_final += usize::from(task.loads());
        self.fixes += attempts.iter().map(|a| a.fixes.len()).sum::<usize>();
        self.runaway += task
            .runs
            .iter()
            .filter(|r| matches!(r, Run::Answered(a) if a.end == AnswerEnd::Repetition))
            .count();
        if let Some(last) = attempts.last() {
            for f in last.report.errors() {
                *self.finding_counts.entry(f.code).or_default() += 1;
            }
        }
    }

    pub fn print(&self, closing: &Closing, totals: &Totals) {
        let pct = |n: usize| if self.rows == 0 { 0.0 } else { 100.0 * n as f64 / self.rows as f64 };
        eprintln!(
            "dagsmith: {} DAGs generated{} -> {}",
            self.rows,
            if closing.interrupted { " (interrupted; rerun to resume)" } else { "" },
            closing.output
        );
        if closing.bad_rows > 0 {
            eprintln!("  bad input rows: {} (recorded with their error)", closing.bad_rows);
        }
        if self.failed_rows > 0 {
            eprintln!(
                "  rows whose generation failed: {} (the error is in the row)",
                self.failed_rows
            );
        }
        if closing.dropped > 0 {
            eprintln!(
                "  rows not generated: {} (every try failed; not written, a rerun tries them again)",
                closing.dropped
            );
        }
        if self.rows == 0 {
            return;
        }
        eprintln!(
            "  predicted to load: {} ({:.0}%) as first answered, {} ({:.0}%) after {} fixes{}",
            self.pass_at_1_raw,
            pct(self.pass_at_1_raw),
            self.pass_at_1,
            pct(self.pass_at_1),
            self.fixes,
            if closing.repair > 0 {
                format!(
                    ", {} ({:.0}%) after up to {} repair rounds",
                    self.pass_final,
                    pct(self.pass_final),
                    closing.repair
                )
            } else {
                String::new()
            }
        );
        let mut top: Vec<(&&str, &usize)> = self.finding_counts.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let top: Vec<String> = top.iter().take(5).map(|(c, n)| format!("{c} x{n}")).collect();
        if !top.is_empty() {
            eprintln!("  top errors: {}", top.join(", "));
        }
        if self.runaway > 0 {
            eprintln!("  answers stopped for repeating themselves: {}", self.runaway);
        }
        let secs = totals.wall.as_secs_f64().max(1e-9);
        eprintln!(
            "  throughput: {:.3} DAGs/s, {:.1} generated tok/s, {} prompt + {} generated tokens in {:.1} s ({})",
            self.rows as f64 / secs,
            totals.generated_tokens as f64 / secs,
            totals.prompt_tokens,
            totals.generated_tokens,
            secs,
            closing.parallelism
        );
    }
}
