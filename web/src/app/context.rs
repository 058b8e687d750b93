//! The page's state: every signal, gathered in [`Ctx`], which is `Copy` and handed to every part
//! of the page and to the actions ([`crate::app::actions`]).

use dagsmith_core::share::GenerationParams;
use dagsmith_core::{AirflowVersion, Report};
use leptos::prelude::*;
use web_sys::AbortController;

use crate::api::Health;
use crate::browser;
use crate::view_model::{self, Recent};

/// localStorage key of the recent generations.
pub const RECENTS_KEY: &str = "dagsmith.recent.v1";

#[derive(Clone, Debug, PartialEq)]
pub enum HealthState {
    Checking,
    Unreachable(String),
    Up(Health),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub kind: &'static str,
    pub text: String,
}

/// One answer of a generation: attempt 0 is the model's answer, later ones repair rounds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Attempt {
    pub index: u32,
    pub raw: String,
    /// The extracted code, once the attempt ended.
    pub code: Option<String>,
    pub tokens: u64,
    pub seconds: f64,
    pub tokens_per_second: f64,
    pub loads: Option<bool>,
}

#[derive(Clone, Copy)]
pub struct Ctx {
    pub instruction: RwSignal<String>,
    pub version: RwSignal<String>,
    pub params: RwSignal<GenerationParams>,
    pub code: RwSignal<String>,
    pub report: RwSignal<Report>,
    pub validations: RwSignal<u32>,
    /// The code or version changed and the report shown is not yet theirs.
    pub pending: RwSignal<bool>,
    /// Why the last validation gave no report (the validator failed on the input).
    pub failure: RwSignal<Option<String>>,
    /// Number of the latest validation asked for: older answers are not shown.
    pub validation_seq: StoredValue<u64>,
    pub validate_ms: RwSignal<f64>,
    /// Hash of the code as last generated; `None` for the user's own code.
    pub generated_hash: RwSignal<Option<String>>,
    pub attempts: RwSignal<Vec<Attempt>>,
    pub viewing: RwSignal<Option<usize>>,
    pub running: RwSignal<bool>,
    pub live_tokens: RwSignal<u64>,
    pub live_tps: RwSignal<f64>,
    pub health: RwSignal<HealthState>,
    pub notice: RwSignal<Option<Notice>>,
    pub share_warnings: RwSignal<Vec<String>>,
    pub share_url: RwSignal<String>,
    pub recents: RwSignal<Vec<Recent>>,
    pub flash: RwSignal<Option<u32>>,
    pub abort: StoredValue<Option<AbortController>, LocalStorage>,
    /// Debounce state: the latest scheduled run's number, and when validation last ran.
    pub debounce: StoredValue<(u64, f64)>,
    pub textarea: NodeRef<leptos::html::Textarea>,
    pub scroller: NodeRef<leptos::html::Div>,
}

/// A report without findings or DAGs: what is shown before the first validation and when the
/// validator failed (never the previous file's findings).
pub fn empty_report(version: &str) -> Report {
    Report {
        airflow_version: version.to_string(),
        loads: false,
        dags: Vec::new(),
        findings: Vec::new(),
    }
}

impl Ctx {
    pub fn new() -> Self {
        let empty = empty_report(&AirflowVersion::DEFAULT.to_string());
        Ctx {
            instruction: RwSignal::new(String::new()),
            version: RwSignal::new(AirflowVersion::DEFAULT.to_string()),
            params: RwSignal::new(GenerationParams::default()),
            code: RwSignal::new(String::new()),
            report: RwSignal::new(empty),
            validations: RwSignal::new(0),
            pending: RwSignal::new(false),
            failure: RwSignal::new(None),
            validation_seq: StoredValue::new(0),
            validate_ms: RwSignal::new(0.0),
            generated_hash: RwSignal::new(None),
            attempts: RwSignal::new(Vec::new()),
            viewing: RwSignal::new(None),
            running: RwSignal::new(false),
            live_tokens: RwSignal::new(0),
            live_tps: RwSignal::new(0.0),
            health: RwSignal::new(HealthState::Checking),
            notice: RwSignal::new(None),
            share_warnings: RwSignal::new(Vec::new()),
            share_url: RwSignal::new(String::new()),
            recents: RwSignal::new(
                browser::local_get(RECENTS_KEY)
                    .map(|s| view_model::parse_recents(&s))
                    .unwrap_or_default(),
            ),
            flash: RwSignal::new(None),
            abort: StoredValue::new_local(None),
            debounce: StoredValue::new((0, 0.0)),
            textarea: NodeRef::new(),
            scroller: NodeRef::new(),
        }
    }

    pub fn say(&self, kind: &'static str, text: impl Into<String>) {
        self.notice.set(Some(Notice { kind, text: text.into() }));
    }
}
