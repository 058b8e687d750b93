//! `--instruction`: one DAG, its answer streamed to stderr, its code on stdout, its verdict and
//! findings on stderr.

use std::io::{self, IsTerminal, Write};

use dagsmith_core::AirflowVersion;
use dagsmith_core::pipeline::AnswerEnd;
use serde_json::Value;

use super::task::{Run, Task};
use super::work::{Driver, Outcome, Request, Source, Work};
use super::{Settings, install_ctrlc, interrupted};
use crate::exit;
use crate::output::error;

struct Single {
    task: Task,
    version: AirflowVersion,
    /// A request (the first, or a repair round) is due.
    due: bool,
    stream: bool,
    quiet: bool,
    /// Why the run ends without a verdict.
    error: Option<String>,
}

pub fn run(driver: &mut Driver, settings: &Settings, instruction: &str) -> u8 {
    let args = &settings.args;
    let version = args.airflow_version.unwrap_or(AirflowVersion::DEFAULT);
    let task = Task::new(
        0,
        instruction,
        version,
        args.system_prompt.as_deref(),
        settings.pipeline,
        Value::Null,
    );
    driver.fit_to(1, args.quiet);
    install_ctrlc();
    let mut single = Single {
        task,
        version,
        due: true,
        stream: !args.quiet && io::stderr().is_terminal(),
        quiet: args.quiet,
        error: None,
    };
    let totals = match driver.drive(&mut single) {
        Ok(t) => t,
        Err(e) => {
            error(&e);
            return exit::ERROR;
        }
    };
    if let Some(reason) = totals.stopped_early {
        error(&format!("stopped: {reason}"));
        return exit::ERROR;
    }
    if let Some(e) = &single.error {
        error(e);
        return exit::ERROR;
    }
    if interrupted() {
        error("interrupted");
        return exit::ERROR;
    }
    let Some(last) = single.task.conversation.last() else {
        error("no answer");
        return exit::ERROR;
    };
    print!("{}", last.code);
    if !last.code.ends_with('\n') {
        println!();
    }
    if last.report.loads { exit::OK } else { exit::NOT_LOADING }
}

impl Single {
    fn report_attempt(&self) {
        let (Some(Run::Answered(a)), Some(last)) =
            (self.task.runs.last(), self.task.conversation.last())
        else {
            return;
        };
        let how = match &a.source {
            Source::Local { prompt_ms, generation_ms, tokens_per_second } => format!(
                "{} tokens in {:.1} s ({:.1} tok/s, prompt {} tokens)",
                a.completion_tokens.unwrap_or(0),
                (prompt_ms + generation_ms) / 1000.0,
                tokens_per_second,
                a.prompt_tokens.unwrap_or(0)
            ),
            Source::Remote { backend, latency_ms, .. } => format!(
                "{} tokens in {:.1} s from {backend} (prompt {} tokens)",
                a.completion_tokens.map_or("?".to_string(), |n| n.to_string()),
                latency_ms / 1000.0,
                a.prompt_tokens.map_or("?".to_string(), |n| n.to_string())
            ),
        };
        eprintln!(
            "dagsmith: {how}{}; {}",
            match a.end {
                AnswerEnd::Complete => "",
                AnswerEnd::Length => ", cut off at --max-tokens",
                AnswerEnd::Repetition => ", stopped: it kept repeating itself",
            },
            if last.report.loads { "Airflow would load it" } else { "Airflow would NOT load it" }
        );
        for f in &last.fixes {
            eprintln!("  fixed (line {}): {} [{}]", f.line, f.message, f.code);
        }
        for f in &last.report.findings {
            eprintln!(
                "  {}:{}: {} {} {}",
                f.line,
                f.column,
                f.severity.as_str(),
                f.code,
                f.message
            );
        }
    }
}

impl Work for Single {
    fn next(&mut self) -> Option<Request> {
        if !self.due || self.stopping() {
            return None;
        }
        self.due = false;
        if !self.quiet {
            let attempt = self.task.runs.len();
            eprintln!(
                "dagsmith: {} (Airflow {})",
                if attempt == 0 {
                    "generating".to_string()
                } else {
                    format!("repair round {attempt}")
                },
                self.version
            );
        }
        Some(Request::of(0, &self.task.conversation))
    }

    fn has_queued(&self) -> bool {
        self.due
    }

    fn wants_text(&self) -> bool {
        self.stream
    }

    fn text(&mut self, _: usize, text: &str) {
        if self.stream {
            let _ = io::stderr().write_all(text.as_bytes());
        }
    }

    fn finished(&mut self, _: usize, outcome: Outcome) {
        if self.stream {
            eprintln!();
        }
        match outcome {
            Outcome::Dropped(reason) => {
                self.error = Some(reason.unwrap_or_else(|| "interrupted".to_string()));
            }
            Outcome::Failed(e) => {
                self.task.record(Outcome::Failed(e.clone()));
                self.error = Some(e);
            }
            answered @ Outcome::Answered(_) => {
                self.due = self.task.record(answered);
                if !self.quiet {
                    self.report_attempt();
                }
            }
        }
    }

    fn stopping(&self) -> bool {
        self.error.is_some() || interrupted()
    }

    fn notice(&mut self, message: &str) {
        if !self.quiet {
            eprintln!("dagsmith: {message}");
        }
    }
}
