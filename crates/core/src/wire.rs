//! dagsmith serve's own API on the wire: the body of `POST /api/generate`, the events it streams,
//! the answer of `GET /api/health`, and the sampling parameters with their defaults. One set of
//! types for the server (which writes the events and health), the browser playground (which
//! reads them) and the CLI's remote client, so that the two ends cannot drift apart.
//!
//! Readers are lenient: every answer type defaults missing fields and ignores unknown ones, so a
//! slightly newer or older server still gives something usable. Pure serde: builds for wasm32.

use serde::{Deserialize, Serialize};

use crate::share::GenerationParams;

/// `max_tokens` of `/api/generate` when the request names none: room for a whole DAG file.
pub const GENERATE_MAX_TOKENS: u32 = 1024;

/// How the next token is chosen. The default is greedy (temperature 0): batch jobs are
/// reproducible and a DAG is code, where the likeliest token is usually right.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SamplingParams {
    /// 0 = greedy.
    pub temperature: f32,
    /// Nucleus sampling; 1 = off.
    pub top_p: f32,
    /// Keep the k likeliest tokens; 0 = off.
    pub top_k: i32,
    /// Minimum probability relative to the likeliest token; 0 = off.
    pub min_p: f32,
    /// Penalty for tokens among the last `repeat_last_n` generated; 1 = off.
    pub repeat_penalty: f32,
    pub repeat_last_n: i32,
    /// Seed of the random sampler (ignored when greedy).
    pub seed: u32,
}

impl Default for SamplingParams {
    fn default() -> Self {
        SamplingParams {
            temperature: 0.0,
            top_p: 1.0,
            top_k: 40,
            min_p: 0.0,
            repeat_penalty: 1.0,
            repeat_last_n: 64,
            seed: 42,
        }
    }
}

impl SamplingParams {
    pub fn is_greedy(&self) -> bool {
        self.temperature <= 0.0
    }

    /// Checks ranges; the message names the parameter.
    pub fn check(&self) -> Result<(), String> {
        let finite = |name: &str, v: f32| {
            if v.is_finite() { Ok(()) } else { Err(format!("{name} must be a finite number")) }
        };
        finite("temperature", self.temperature)?;
        finite("top_p", self.top_p)?;
        finite("min_p", self.min_p)?;
        finite("repeat_penalty", self.repeat_penalty)?;
        if self.temperature < 0.0 {
            return Err("temperature must be >= 0".into());
        }
        if !(0.0..=1.0).contains(&self.top_p) || self.top_p == 0.0 {
            return Err("top_p must be in (0, 1]".into());
        }
        if !(0.0..=1.0).contains(&self.min_p) {
            return Err("min_p must be in [0, 1]".into());
        }
        if self.top_k < 0 {
            return Err("top_k must be >= 0 (0 = off)".into());
        }
        if self.repeat_penalty <= 0.0 {
            return Err("repeat_penalty must be > 0 (1 = off)".into());
        }
        if self.repeat_last_n < 0 {
            return Err("repeat_last_n must be >= 0".into());
        }
        Ok(())
    }
}

/// The sampling fields of a request; each one left out takes the server's default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SamplingOverrides {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_p: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_penalty: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u32>,
}

impl SamplingOverrides {
    /// `defaults` with the fields this request gives replaced, checked: the one place where a
    /// request's parameters meet the defaults (`/api/generate` and `/v1/chat/completions`).
    pub fn resolve(&self, defaults: SamplingParams) -> Result<SamplingParams, String> {
        let params = SamplingParams {
            temperature: self.temperature.unwrap_or(defaults.temperature),
            top_p: self.top_p.unwrap_or(defaults.top_p),
            top_k: self.top_k.unwrap_or(defaults.top_k),
            min_p: self.min_p.unwrap_or(defaults.min_p),
            repeat_penalty: self.repeat_penalty.unwrap_or(defaults.repeat_penalty),
            seed: self.seed.unwrap_or(defaults.seed),
            ..defaults
        };
        params.check()?;
        Ok(params)
    }
}

/// `POST /api/generate` body. Fields left out take the server's defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GenerateRequest {
    pub instruction: String,
    /// Default: [`crate::AirflowVersion::DEFAULT`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub airflow_version: Option<String>,
    /// Default: [`GENERATE_MAX_TOKENS`], capped by the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(flatten)]
    pub sampling: SamplingOverrides,
    /// Repair rounds after the first answer (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repair: Option<u32>,
    /// `all` (default), `safe` or `none`: the fixes applied to each answer. A string rather than
    /// an enum so that the server's 400 can name what it got.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixes: Option<String>,
    /// Add the catalog's API sheet to the prompt (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_sheet: Option<bool>,
}

impl GenerateRequest {
    /// The request the playground sends for its parameters (all of them given explicitly, so
    /// that a shared link reproduces whatever the server's defaults become).
    pub fn from_params(instruction: &str, airflow_version: &str, p: &GenerationParams) -> Self {
        GenerateRequest {
            instruction: instruction.to_string(),
            airflow_version: Some(airflow_version.to_string()),
            max_tokens: Some(p.max_tokens),
            sampling: SamplingOverrides {
                temperature: Some(p.temperature),
                top_p: Some(p.top_p),
                top_k: Some(p.top_k),
                min_p: None,
                repeat_penalty: Some(p.repeat_penalty),
                seed: Some(p.seed),
            },
            repair: Some(p.repair),
            fixes: None,
            api_sheet: None,
        }
    }
}

/// `GET /api/health`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Health {
    /// Always `ok`: the server answers.
    pub status: String,
    /// `dagsmith_core::VERSION` of the server.
    pub version: String,
    pub generation: GenerationStatus,
    pub model: Option<ModelInfo>,
    pub slots: Slots,
    /// Requests waiting for a slot.
    pub queue: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GenerationStatus {
    pub available: bool,
    /// Why generation is unavailable.
    pub reason: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelInfo {
    /// The file name without `.gguf`: also the OpenAI model id.
    pub name: String,
    pub path: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Slots {
    pub total: u32,
    pub busy: u32,
}

/// `attempt_start`: an attempt (0 = the first answer, then repair rounds) begins.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AttemptStart {
    pub attempt: u32,
}

/// `token`: a piece of the answer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Token {
    pub attempt: u32,
    pub text: String,
    /// Tokens generated so far in this attempt.
    pub tokens: u64,
    pub tokens_per_second: f64,
}

/// `attempt_end`: an answer, the code extracted and fixed, and its report. Generic over the
/// report and fix types because those are write-only in dagsmith-core (the server sends
/// `&Report` and `&[AppliedFix]`); readers get JSON values.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(
    default,
    bound(deserialize = "R: Deserialize<'de> + Default, F: Deserialize<'de> + Default")
)]
pub struct AttemptEnd<R = serde_json::Value, F = serde_json::Value> {
    pub attempt: u32,
    /// The model's whole answer.
    pub raw: String,
    /// The code after fixes.
    pub code: String,
    pub report: R,
    pub code_before_fixes: String,
    pub loads_before_fixes: bool,
    pub fixes: F,
    /// `stop`, `length`, `repetition`...
    pub finish: String,
    pub tokens: u64,
    pub seconds: f64,
    pub tokens_per_second: f64,
}

/// `done`: the last attempt's code and report; the stream ends.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, bound(deserialize = "R: Deserialize<'de> + Default"))]
pub struct Done<R = serde_json::Value> {
    pub attempts: u32,
    pub code: String,
    pub report: R,
}

/// `error`: the generation failed; the stream ends.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ErrorEvent {
    pub message: String,
}

/// One event of the `/api/generate` stream, as the server writes it.
#[derive(Clone, Debug, PartialEq)]
pub enum GenerateEvent<R = serde_json::Value, F = serde_json::Value> {
    AttemptStart(AttemptStart),
    Token(Token),
    AttemptEnd(AttemptEnd<R, F>),
    Done(Done<R>),
    Error(ErrorEvent),
}

impl<R: Serialize, F: Serialize> GenerateEvent<R, F> {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            GenerateEvent::AttemptStart(_) => "attempt_start",
            GenerateEvent::Token(_) => "token",
            GenerateEvent::AttemptEnd(_) => "attempt_end",
            GenerateEvent::Done(_) => "done",
            GenerateEvent::Error(_) => "error",
        }
    }

    /// The SSE event data: the payload as one line of JSON.
    pub fn data(&self) -> String {
        // Plain structs of strings and numbers: serializing cannot fail (NaN becomes null).
        let data = match self {
            GenerateEvent::AttemptStart(e) => serde_json::to_string(e),
            GenerateEvent::Token(e) => serde_json::to_string(e),
            GenerateEvent::AttemptEnd(e) => serde_json::to_string(e),
            GenerateEvent::Done(e) => serde_json::to_string(e),
            GenerateEvent::Error(e) => serde_json::to_string(e),
        };
        data.unwrap_or_else(|_| "{}".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn overrides_meet_defaults_in_one_place() {
        let req: GenerateRequest =
            serde_json::from_value(json!({"instruction": "x", "top_k": 5, "seed": 1})).unwrap();
        let p = req.sampling.resolve(SamplingParams::default()).unwrap();
        assert_eq!(
            p,
            SamplingParams { top_k: 5, seed: 1, ..SamplingParams::default() },
            "named fields replace the defaults, the rest stay"
        );
        let bad = SamplingOverrides { top_p: Some(0.0), ..Default::default() };
        assert!(bad.resolve(SamplingParams::default()).unwrap_err().contains("top_p"));
    }

    #[test]
    fn a_minimal_request_serializes_minimally() {
        let req = GenerateRequest { instruction: "x".into(), ..Default::default() };
        assert_eq!(serde_json::to_value(&req).unwrap(), json!({"instruction": "x"}));
        let back: GenerateRequest = serde_json::from_value(json!({"instruction": "x"})).unwrap();
        assert_eq!(back, req);
    }

    #[test]
    fn events_round_trip_with_their_names() {
        let end: GenerateEvent<Vec<u8>, Vec<u8>> = GenerateEvent::AttemptEnd(AttemptEnd {
            attempt: 1,
            code: "x\n".into(),
            report: vec![1],
            finish: "stop".into(),
            ..Default::default()
        });
        assert_eq!(end.name(), "attempt_end");
        let read: AttemptEnd = serde_json::from_str(&end.data()).unwrap();
        assert_eq!((read.attempt, read.code.as_str()), (1, "x\n"));
        assert_eq!(read.report, json!([1]));
        let error: GenerateEvent = GenerateEvent::Error(ErrorEvent { message: "m".into() });
        assert_eq!((error.name(), error.data().as_str()), ("error", r#"{"message":"m"}"#));
    }

    #[test]
    fn health_serializes_nulls_as_the_api_always_did() {
        let down = Health {
            status: "ok".into(),
            generation: GenerationStatus { available: false, reason: Some("no model".into()) },
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&down).unwrap(),
            json!({"status": "ok", "version": "", "model": null, "queue": 0,
                   "generation": {"available": false, "reason": "no model"},
                   "slots": {"total": 0, "busy": 0}})
        );
    }
}
