//! Progress bars on stderr when it is a terminal; nothing otherwise (logs stay clean).

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    fn new(total: u64, template: &str, label: &str) -> Progress {
        let bar = if std::io::stderr().is_terminal() {
            ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(8))
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template(template).expect("valid template").progress_chars("=> "),
        );
        bar.set_prefix(label.to_string());
        bar.enable_steady_tick(Duration::from_millis(250));
        Progress { bar }
    }

    /// A download or hashing bar: bytes, rate, ETA (the bytes bars are for models only).
    #[cfg(feature = "engine")]
    pub fn bytes(label: &str, total: u64) -> Progress {
        Progress::new(
            total,
            "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
            label,
        )
    }

    /// A batch bar: items done, a free-form message (rates), ETA.
    pub fn items(label: &str, total: u64) -> Progress {
        Progress::new(total, "{prefix} [{bar:30}] {pos}/{len} {msg} ETA {eta}", label)
    }

    #[cfg(feature = "engine")]
    pub fn set(&self, pos: u64) {
        self.bar.set_position(pos);
    }

    pub fn inc(&self, n: u64) {
        self.bar.inc(n);
    }

    /// `reader`, advancing the bar by what is read through it.
    #[cfg(feature = "engine")]
    pub fn wrap_read<R: std::io::Read>(&self, reader: R) -> indicatif::ProgressBarIter<R> {
        self.bar.wrap_read(reader)
    }

    pub fn message(&self, msg: String) {
        self.bar.set_message(msg);
    }

    /// A line on stderr above the bar (or alone, when there is no bar).
    pub fn println(&self, line: &str) {
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.suspend(|| eprintln!("{line}"));
        }
    }

    #[cfg(feature = "engine")]
    pub fn finish(&self) {
        self.bar.finish();
    }

    pub fn finish_and_clear(&self) {
        self.bar.finish_and_clear();
    }
}
