//! JSON in and out. Bodies are parsed here rather than with an extractor so that every bad body
//! gets a JSON error that says what is wrong (axum's rejections are plain text).

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Parses a request body; `limit` is the server's body limit, named in the 413 message.
pub fn parse_body<T: DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<T, ApiError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request_error",
                format!("the request body is larger than the server's limit of {limit} bytes"),
            )
        } else {
            ApiError::new(
                rejection.status(),
                "invalid_request_error",
                format!("cannot read the request body: {}", rejection.body_text()),
            )
        }
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("the request body is empty: expected a JSON object"));
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        let what = if e.is_syntax() || e.is_eof() { "malformed JSON" } else { "invalid request" };
        ApiError::bad_request(format!("{what} in the request body: {e}"))
    })
}

/// A JSON response with `status`.
pub fn json_response(status: StatusCode, value: &impl serde::Serialize) -> Response {
    // Serializing our own plain values cannot fail; fall back to an empty object regardless.
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap_or_default()
}
