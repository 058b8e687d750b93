//! A dataset run's progress: a bar on a terminal; otherwise (a pipe, `nohup`, a cluster job's
//! log) a line every twentieth of the rows and at least once a minute.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use crate::progress::Progress;

/// Log lines at least this often while rows are running.
const LOG_EVERY: Duration = Duration::from_secs(60);
/// And every this fraction of the rows.
const LOG_STEPS: usize = 20;

pub struct BatchProgress {
    bar: Progress,
    log: bool,
    total: usize,
    started: Instant,
    done: usize,
    loads: usize,
    tokens: u64,
    every_rows: usize,
    last_log: Instant,
    last_logged_done: usize,
}

impl BatchProgress {
    pub fn new(total: usize, quiet: bool) -> BatchProgress {
        let bar = if quiet {
            Progress::items("", 0)
        } else {
            Progress::items("generating", total as u64)
        };
        let now = Instant::now();
        BatchProgress {
            bar,
            log: !quiet && !std::io::stderr().is_terminal(),
            total,
            started: now,
            done: 0,
            loads: 0,
            tokens: 0,
            every_rows: total.div_ceil(LOG_STEPS).max(1),
            last_log: now,
            last_logged_done: 0,
        }
    }

    /// A row was written.
    pub fn row(&mut self, loads: bool) {
        self.done += 1;
        self.loads += usize::from(loads);
        self.bar.inc(1);
        let secs = self.started.elapsed().as_secs_f64().max(1e-9);
        self.bar.message(format!(
            "{:.2} DAGs/s {:.1} tok/s, loads {}/{}",
            self.done as f64 / secs,
            self.tokens as f64 / secs,
            self.loads,
            self.done
        ));
        if self.log && self.done - self.last_logged_done >= self.every_rows {
            self.log_line();
        }
    }

    pub fn tokens(&mut self, n: u64) {
        self.tokens += n;
    }

    /// Time-based logging: call often.
    pub fn tick(&mut self) {
        if self.log && self.last_log.elapsed() >= LOG_EVERY {
            self.log_line();
        }
    }

    /// A message that does not tear the bar.
    pub fn println(&self, message: &str) {
        self.bar.println(message);
    }

    fn log_line(&mut self) {
        let elapsed = self.started.elapsed();
        let secs = elapsed.as_secs_f64().max(1e-9);
        let rate = self.done as f64 / secs;
        let left = self.total.saturating_sub(self.done);
        let eta = if self.done == 0 {
            "ETA unknown".to_string()
        } else {
            format!("ETA {}", super::human_duration(Duration::from_secs_f64(left as f64 / rate)))
        };
        eprintln!(
            "dagsmith: {}/{} rows ({:.0}%), {:.2} DAGs/s, {:.1} tok/s, loads {}/{}, {} elapsed, {eta}",
            self.done,
            self.total,
            if self.total == 0 { 100.0 } else { 100.0 * self.done as f64 / self.total as f64 },
            rate,
            self.tokens as f64 / secs,
            self.loads,
            self.done,
            super::human_duration(elapsed),
        );
        self.last_log = Instant::now();
        self.last_logged_done = self.done;
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
