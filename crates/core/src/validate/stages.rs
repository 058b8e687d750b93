//! Where validate()'s time goes, stage by stage (`dagsmith bench validate --stages`). Off unless
//! asked for: then every stage reads the clock (about 15 reads a file, ~0.5% of its time); off,
//! a stage costs one relaxed load. Instructions (callgrind) and samples (perf) could not say
//! this: the validator's own code runs at about half the parser's instructions per cycle, and
//! its inlined stages share symbols.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A stage of [`super::validate`], in the order it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The line index (finding positions).
    Lines,
    /// ruff's parser: tokens and tree.
    Parse,
    /// Parse errors reported; one pass over the tokens (nesting depth, `lambda`/`yield`/`await`).
    Tokens,
    /// The whole-tree scan (dynamic names, deferred code, context keys, uses, keywords).
    Scan,
    /// CPython's compile-time rules (DS002).
    CompileRules,
    /// The interpreter running the module: imports, DAGs, tasks, arguments.
    Interpreter,
    /// The task graph and the DAG-level rules.
    DagChecks,
    /// Names undefined when a task runs (DS103).
    DeferredNames,
    /// Imports never used (DS217).
    UnusedImports,
    /// Context keys Airflow 3 removed (DS210).
    ContextKeys,
    /// The fixes of every finding, and the findings placed in the file.
    Fixes,
    /// The DAG summaries of the report.
    Summaries,
    /// Findings sorted and deduplicated, the verdict.
    Finish,
    /// The tree, the tokens and the interpreter's state freed.
    Freed,
}

impl Stage {
    pub const ALL: [Stage; 14] = [
        Stage::Lines,
        Stage::Parse,
        Stage::Tokens,
        Stage::Scan,
        Stage::CompileRules,
        Stage::Interpreter,
        Stage::DagChecks,
        Stage::DeferredNames,
        Stage::UnusedImports,
        Stage::ContextKeys,
        Stage::Fixes,
        Stage::Summaries,
        Stage::Finish,
        Stage::Freed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Lines => "line index",
            Stage::Parse => "parse",
            Stage::Tokens => "parse errors, token pass",
            Stage::Scan => "scan",
            Stage::CompileRules => "compile rules",
            Stage::Interpreter => "interpreter",
            Stage::DagChecks => "task graph, DAG rules",
            Stage::DeferredNames => "names at run time",
            Stage::UnusedImports => "unused imports",
            Stage::ContextKeys => "removed context keys",
            Stage::Fixes => "fixes",
            Stage::Summaries => "DAG summaries",
            Stage::Finish => "sort, verdict",
            Stage::Freed => "memory freed",
        }
    }
}

static RECORDING: AtomicBool = AtomicBool::new(false);
static NANOS: [AtomicU64; Stage::ALL.len()] = [const { AtomicU64::new(0) }; Stage::ALL.len()];

/// Starts (or stops) adding up the stages' times of every validate() call, on every thread.
pub fn record_stages(on: bool) {
    RECORDING.store(on, Ordering::Relaxed);
}

/// The time each stage took since the last call (every stage, in order), and starts again.
pub fn take_stage_times() -> Vec<(Stage, Duration)> {
    Stage::ALL
        .iter()
        .zip(&NANOS)
        .map(|(&stage, nanos)| (stage, Duration::from_nanos(nanos.swap(0, Ordering::Relaxed))))
        .collect()
}

/// The clock of one validate() call: each [`Clock::mark`] adds the time since the last mark to
/// a stage. Reads no clock unless recording (`Instant` is not available on every target).
pub(super) struct Clock(Option<Instant>);

impl Clock {
    pub fn start() -> Clock {
        Clock(RECORDING.load(Ordering::Relaxed).then(Instant::now))
    }

    #[inline]
    pub fn mark(&mut self, stage: Stage) {
        if let Some(last) = &mut self.0 {
            let now = Instant::now();
            let nanos = u64::try_from(now.saturating_duration_since(*last).as_nanos());
            NANOS[stage as usize].fetch_add(nanos.unwrap_or(u64::MAX), Ordering::Relaxed);
            *last = now;
        }
    }
}
