//! The `dagsmith serve` API as the playground uses it: the request, event and health types
//! (dagsmith-core's wire types, re-exported), the events decoded by name, and an incremental
//! parser for the `text/event-stream` that `POST /api/generate` answers with.
//!
//! Response types are lenient (missing fields default, unknown ones are ignored) so that a
//! slightly newer or older server still shows something useful instead of failing to parse.

use serde::Deserialize;

// The request, events and health are dagsmith-core's wire types, shared with the server.
pub use dagsmith_core::wire::{
    AttemptEnd, AttemptStart, Done, GenerateRequest, GenerationStatus, Health, ModelInfo, Slots,
    Token,
};

/// The message of a JSON error body (`{"error":{"message":...}}`), if it is one.
pub fn error_message(body: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Outer {
        error: Inner,
    }
    #[derive(Deserialize)]
    struct Inner {
        message: String,
    }
    serde_json::from_str::<Outer>(body).ok().map(|o| o.error.message)
}

/// One raw server-sent event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SseEvent {
    /// `message` when the event names none, as in browsers' EventSource.
    pub event: String,
    pub data: String,
}

/// Splits an event stream into events as chunks arrive (chunks may cut lines anywhere).
/// Follows the WHATWG rules: `\n`, `\r\n` or `\r` end lines, a blank line dispatches, data
/// lines are joined with `\n`, one space after the colon is dropped, `:` lines are comments.
#[derive(Debug, Default)]
pub struct SseParser {
    buffer: String,
    event: String,
    data: Vec<String>,
    /// The last chunk ended with `\r`: a `\n` starting the next one belongs to it.
    pending_cr: bool,
}

impl SseParser {
    pub fn push(&mut self, chunk: &str) -> Vec<SseEvent> {
        let mut chunk = chunk;
        if self.pending_cr && !chunk.is_empty() {
            chunk = chunk.strip_prefix('\n').unwrap_or(chunk);
            self.pending_cr = false;
        }
        self.buffer.push_str(chunk);
        let mut events = Vec::new();
        let mut start = 0;
        let bytes = self.buffer.as_bytes();
        let mut lines = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => {
                    lines.push((start, i));
                    start = i + 1;
                }
                b'\r' => {
                    lines.push((start, i));
                    if i + 1 == bytes.len() {
                        self.pending_cr = true;
                    } else if bytes[i + 1] == b'\n' {
                        i += 1;
                    }
                    start = i + 1;
                }
                _ => {}
            }
            i += 1;
        }
        let buffer = std::mem::take(&mut self.buffer);
        for (from, to) in lines {
            if let Some(event) = self.line(&buffer[from..to]) {
                events.push(event);
            }
        }
        self.buffer = buffer[start..].to_string();
        events
    }

    fn line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            let event = std::mem::take(&mut self.event);
            if self.data.is_empty() {
                return None;
            }
            let data = std::mem::take(&mut self.data).join("\n");
            let event = if event.is_empty() { "message".to_string() } else { event };
            return Some(SseEvent { event, data });
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = value.to_string(),
            "data" => self.data.push(value.to_string()),
            _ => {}
        }
        None
    }
}

/// A generation event, decoded. An attempt's `report` is not used: the browser validates the
/// code itself with the same dagsmith-core, so the findings shown are the same either way.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerEvent {
    AttemptStart(AttemptStart),
    Token(Token),
    AttemptEnd(AttemptEnd),
    Done(Done),
    Error(String),
    /// An event this playground does not know (a newer server); ignored.
    Other(String),
}

impl ServerEvent {
    pub fn decode(event: &SseEvent) -> Result<ServerEvent, String> {
        fn parse<'a, T: Deserialize<'a>>(event: &'a SseEvent) -> Result<T, String> {
            serde_json::from_str(&event.data)
                .map_err(|e| format!("bad `{}` event from the server: {e}", event.event))
        }
        Ok(match event.event.as_str() {
            "attempt_start" => ServerEvent::AttemptStart(parse(event)?),
            "token" => ServerEvent::Token(parse(event)?),
            "attempt_end" => ServerEvent::AttemptEnd(parse(event)?),
            "done" => ServerEvent::Done(parse(event)?),
            "error" => ServerEvent::Error(
                serde_json::from_str::<serde_json::Value>(&event.data)
                    .ok()
                    .and_then(|v| v.get("message")?.as_str().map(str::to_string))
                    .unwrap_or_else(|| event.data.clone()),
            ),
            other => ServerEvent::Other(other.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagsmith_core::share::GenerationParams;

    #[test]
    fn request_body_matches_the_contract() {
        let params = GenerationParams { temperature: 0.5, repair: 1, ..Default::default() };
        let body =
            serde_json::to_value(GenerateRequest::from_params("etl", "2.7", &params)).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"instruction": "etl", "airflow_version": "2.7", "max_tokens": 1024,
                "temperature": 0.5, "top_p": 1.0, "top_k": 40, "seed": 42,
                "repeat_penalty": 1.0, "repair": 1})
        );
    }

    #[test]
    fn health_parses_both_states() {
        let up: Health = serde_json::from_str(
            r#"{"status":"ok","version":"0.1.0","generation":{"available":true,"reason":null},
            "model":{"name":"SmolLM2","path":"/m.gguf"},"slots":{"total":1,"busy":0},"queue":0}"#,
        )
        .unwrap();
        assert!(up.generation.available);
        assert_eq!(up.model.unwrap().name, "SmolLM2");
        let down: Health = serde_json::from_str(
            r#"{"status":"ok","generation":{"available":false,"reason":"no model loaded"},
            "model":null}"#,
        )
        .unwrap();
        assert_eq!(down.generation.reason.as_deref(), Some("no model loaded"));
        assert_eq!(down.slots, Slots::default());
    }

    #[test]
    fn error_bodies() {
        assert_eq!(
            error_message(r#"{"error":{"message":"no model","type":"unavailable"}}"#).as_deref(),
            Some("no model")
        );
        assert_eq!(error_message("<html>502</html>"), None);
    }

    #[test]
    fn sse_across_arbitrary_chunks() {
        let stream = "event: attempt_start\ndata: {\"attempt\":0}\n\n: keep-alive\n\n\
            event: token\r\ndata: {\"attempt\":0,\"text\":\"```py\",\"tokens\":1,\
            \"tokens_per_second\":4.5}\r\n\r\ndata: line1\ndata:line2\n\nevent: done\rdata: {}\r\r";
        let expect = vec![
            SseEvent { event: "attempt_start".into(), data: "{\"attempt\":0}".into() },
            SseEvent {
                event: "token".into(),
                data: "{\"attempt\":0,\"text\":\"```py\",\"tokens\":1,\"tokens_per_second\":4.5}"
                    .into(),
            },
            SseEvent { event: "message".into(), data: "line1\nline2".into() },
            SseEvent { event: "done".into(), data: "{}".into() },
        ];
        // Every split point, including inside "\r\n".
        for cut in 0..=stream.len() {
            let mut p = SseParser::default();
            let mut got = p.push(&stream[..cut]);
            got.extend(p.push(&stream[cut..]));
            assert_eq!(got, expect, "cut at {cut}");
        }
        let mut p = SseParser::default();
        let got: Vec<SseEvent> = stream.split_inclusive(|_| true).flat_map(|c| p.push(c)).collect();
        assert_eq!(got, expect);
    }

    #[test]
    fn decodes_server_events() {
        let ev = |event: &str, data: &str| SseEvent { event: event.into(), data: data.into() };
        let token = ServerEvent::decode(&ev(
            "token",
            r#"{"attempt":1,"text":"def","tokens":7,"tokens_per_second":12.5}"#,
        ))
        .unwrap();
        assert_eq!(
            token,
            ServerEvent::Token(Token {
                attempt: 1,
                text: "def".into(),
                tokens: 7,
                tokens_per_second: 12.5
            })
        );
        let end = ServerEvent::decode(&ev(
            "attempt_end",
            r#"{"attempt":0,"raw":"```python\nx\n```","code":"x\n","report":{"loads":false},
            "tokens":3,"seconds":0.5,"tokens_per_second":6.0}"#,
        ))
        .unwrap();
        assert!(matches!(end, ServerEvent::AttemptEnd(AttemptEnd { tokens: 3, .. })));
        assert_eq!(
            ServerEvent::decode(&ev("error", r#"{"message":"slot busy"}"#)).unwrap(),
            ServerEvent::Error("slot busy".into())
        );
        assert_eq!(
            ServerEvent::decode(&ev("error", "plain")).unwrap(),
            ServerEvent::Error("plain".into())
        );
        assert_eq!(
            ServerEvent::decode(&ev("progress", "{}")).unwrap(),
            ServerEvent::Other("progress".into())
        );
        assert!(ServerEvent::decode(&ev("token", "not json")).is_err());
    }
}
