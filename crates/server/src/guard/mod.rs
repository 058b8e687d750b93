//! The request guard: a middleware every request passes before any handler runs. In order:
//!
//! 1. `Host` must name this server ([`host`]): stops DNS rebinding.
//! 2. An `Origin` must be the server's own page or an allowed one ([`origin`]): stops other
//!    web pages; allowed ones get CORS headers, and their preflights (`OPTIONS`) are answered
//!    here.
//! 3. POST bodies to the APIs must be `application/json` (415): no form or `text/plain` body,
//!    which a browser sends cross-site without asking, reaches a handler.
//! 4. With an API key ([`api_key`]), `/v1` and `/api` need `Authorization: Bearer KEY` (401).
//!
//! Refusals are JSON errors in the API's usual shape.

pub mod api_key;
pub mod host;
pub mod origin;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::static_files::is_api;
use api_key::{ApiKey, Refusal};
use host::HostPolicy;
use origin::{OriginPolicy, Verdict};

/// Everything the guard checks, from the configuration and the bound port.
#[derive(Clone, Debug)]
pub struct AccessPolicy {
    pub hosts: HostPolicy,
    pub origins: OriginPolicy,
    pub api_key: Option<ApiKey>,
}

impl AccessPolicy {
    /// `config.port` must be the bound port (not 0).
    pub fn new(config: &ServerConfig) -> Self {
        AccessPolicy {
            hosts: HostPolicy::new(config.host, config.port, config.allowed_hosts.clone()),
            origins: OriginPolicy {
                allowed: config.allowed_origins.clone(),
                any: config.allow_any_origin,
            },
            api_key: config.api_key.clone(),
        }
    }
}

/// How long browsers may cache a preflight's answer, in seconds.
const PREFLIGHT_MAX_AGE: u32 = 600;

/// The middleware (`axum::middleware::from_fn_with_state`).
pub async fn guard(
    State(policy): State<Arc<AccessPolicy>>,
    request: Request,
    next: Next,
) -> Response {
    let host = match request_host(&request)
        .and_then(|h| policy.hosts.check(h).map_err(ApiError::forbidden))
    {
        Ok(host) => host,
        Err(e) => return e.into_response(),
    };
    // The origin to answer with CORS headers, when it is another page that may call.
    let cors = match request.headers().get(header::ORIGIN) {
        None => None,
        Some(value) => {
            let origin = value.to_str().unwrap_or("(not text)");
            match policy.origins.check(origin, &host) {
                Verdict::Same => None,
                Verdict::Cross => Some(value.clone()),
                // No CORS headers: the refusing page cannot even read why.
                Verdict::Refused(why) => return ApiError::forbidden(why).into_response(),
            }
        }
    };
    let response = if is_preflight(&request) {
        preflight(request.headers())
    } else if let Err(e) = check_api_request(&policy, &request) {
        let mut response = e.clone().into_response();
        if e.status == StatusCode::UNAUTHORIZED {
            // RFC 9110: a 401 names the scheme it wants.
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    } else {
        next.run(request).await
    };
    match cors {
        Some(origin) => with_cors(response, origin),
        None => response,
    }
}

/// The `Host` the request names: the header, or the authority of an absolute-form target
/// (which then wins, RFC 9112 §3.2.2); both must pass when both are there.
fn request_host(request: &Request) -> Result<&str, ApiError> {
    let mut hosts = request.headers().get_all(header::HOST).iter();
    let header = match (hosts.next(), hosts.next()) {
        (Some(h), None) => Some(
            h.to_str().map_err(|_| ApiError::forbidden("the Host header is not a host name"))?,
        ),
        (None, _) => None,
        (Some(_), Some(_)) => return Err(ApiError::bad_request("more than one Host header")),
    };
    match (request.uri().authority().map(|a| a.as_str()), header) {
        (Some(target), Some(header)) if !target.eq_ignore_ascii_case(header) => Err(
            ApiError::bad_request("the request target and the Host header name different hosts"),
        ),
        (Some(target), _) => Ok(target),
        (None, Some(header)) => Ok(header),
        (None, None) => Err(ApiError::forbidden("the request has no Host header")),
    }
}

/// A CORS preflight: `OPTIONS` with `Origin` and `Access-Control-Request-Method`.
fn is_preflight(request: &Request) -> bool {
    request.method() == Method::OPTIONS
        && request.headers().contains_key(header::ORIGIN)
        && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// 204 allowing the methods the API has and the headers the page asked for (it is an allowed
/// origin by now; the CORS origin header is added by the caller).
fn preflight(request: &HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    if let Some(asked) = request.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
    }
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from(PREFLIGHT_MAX_AGE));
    headers.append(
        header::VARY,
        HeaderValue::from_static("Access-Control-Request-Method, Access-Control-Request-Headers"),
    );
    response
}

fn with_cors(mut response: Response, origin: HeaderValue) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("Retry-After"));
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    response
}

/// The body type and API key rules, for `/v1` and `/api` only: the web app's files are public.
fn check_api_request(policy: &AccessPolicy, request: &Request) -> Result<(), ApiError> {
    if !is_api(request.uri().path()) {
        return Ok(());
    }
    if request.method() == Method::POST {
        check_json_body(request.headers())?;
    }
    if let Some(key) = &policy.api_key {
        key.check(request.headers().get(header::AUTHORIZATION)).map_err(|refusal| {
            let message = match refusal {
                Refusal::Missing => {
                    "this server needs an API key: send `Authorization: Bearer KEY` with the key \
                     it was started with (--api-key or DAGSMITH_API_KEY)"
                }
                Refusal::Wrong => "invalid API key in the Authorization header",
            };
            ApiError::unauthorized(message)
        })?;
    }
    Ok(())
}

/// POST bodies must say they are JSON.
fn check_json_body(headers: &HeaderMap) -> Result<(), ApiError> {
    let given = headers.get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap_or("(not text)"));
    let essence = given.map(|v| v.split(';').next().unwrap_or("").trim());
    if essence.is_some_and(|e| e.eq_ignore_ascii_case("application/json")) {
        return Ok(());
    }
    let got = match given {
        Some(v) => format!("Content-Type {v:?}"),
        None => "no Content-Type".to_string(),
    };
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "invalid_request_error",
        format!(
            "the request body must be JSON sent as Content-Type: application/json (got {got}; \
             with curl: -H 'Content-Type: application/json')"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content_type(v: Option<&str>) -> Result<(), ApiError> {
        let mut headers = HeaderMap::new();
        if let Some(v) = v {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(v).unwrap());
        }
        check_json_body(&headers)
    }

    #[test]
    fn json_bodies_only() {
        assert!(content_type(Some("application/json")).is_ok());
        assert!(content_type(Some("Application/JSON; charset=utf-8")).is_ok());
        for bad in [Some("text/plain"), Some("application/x-www-form-urlencoded"), None] {
            let e = content_type(bad).unwrap_err();
            assert_eq!(e.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{bad:?}");
        }
        let e = content_type(Some("text/plain;charset=UTF-8")).unwrap_err();
        assert!(e.message.contains("\"text/plain;charset=UTF-8\""), "{}", e.message);
    }
}
