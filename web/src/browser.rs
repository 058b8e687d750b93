//! Thin wrappers over the browser APIs the app uses: fetch (with streaming and abort),
//! localStorage, the URL fragment, the clipboard and file downloads. Errors are strings for
//! the page to show; nothing here panics when an API is missing or refuses.

use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortSignal, Blob, BlobPropertyBag, HtmlAnchorElement, ReadableStreamDefaultReader,
    RequestInit, Response, TextDecodeOptions, TextDecoder, Url,
};

use crate::api::{self, SseEvent, SseParser};

fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

/// A JS error as text (`TypeError: Failed to fetch`, ...).
pub fn js_error(e: &JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return format!("{}: {}", String::from(err.name()), String::from(err.message()));
    }
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

/// Whether a JS error is the `AbortError` of an aborted fetch.
pub fn is_abort(e: &JsValue) -> bool {
    Reflect::get(e, &"name".into()).ok().and_then(|n| n.as_string()).as_deref()
        == Some("AbortError")
}

async fn fetch(url: &str, init: &RequestInit) -> Result<Response, JsValue> {
    let win = window().ok_or_else(|| JsValue::from_str("no window"))?;
    let resp = JsFuture::from(win.fetch_with_str_and_init(url, init)).await?;
    resp.dyn_into::<Response>()
}

async fn text(resp: &Response) -> Result<String, JsValue> {
    let text = JsFuture::from(resp.text()?).await?;
    Ok(text.as_string().unwrap_or_default())
}

/// A failed response's message: the JSON error's message, or the status.
async fn failure(resp: &Response) -> String {
    let body = text(resp).await.unwrap_or_default();
    match api::error_message(&body) {
        Some(msg) => msg,
        None => format!("HTTP {} {}", resp.status(), resp.status_text()),
    }
}

/// `GET url`, the body as text.
pub async fn get_text(url: &str) -> Result<String, String> {
    let init = RequestInit::new();
    init.set_method("GET");
    let resp = fetch(url, &init).await.map_err(|e| js_error(&e))?;
    if !resp.ok() {
        return Err(failure(&resp).await);
    }
    text(&resp).await.map_err(|e| js_error(&e))
}

/// How a streamed request ended.
pub enum StreamEnd {
    /// The server closed the stream.
    Finished,
    /// The abort signal fired.
    Aborted,
}

/// `POST url` with a JSON body, calling `on_event` for each server-sent event as it arrives.
/// The abort signal cancels both the request and the body read (the server then sees the
/// connection drop and frees its slot).
pub async fn post_event_stream(
    url: &str,
    json_body: &str,
    signal: &AbortSignal,
    mut on_event: impl FnMut(SseEvent),
) -> Result<StreamEnd, String> {
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(json_body));
    init.set_signal(Some(signal));
    let headers = web_sys::Headers::new().map_err(|e| js_error(&e))?;
    headers.set("Content-Type", "application/json").map_err(|e| js_error(&e))?;
    headers.set("Accept", "text/event-stream").map_err(|e| js_error(&e))?;
    init.set_headers(&headers);
    let resp = match fetch(url, &init).await {
        Ok(resp) => resp,
        Err(e) if is_abort(&e) => return Ok(StreamEnd::Aborted),
        Err(e) => return Err(format!("cannot reach the server ({})", js_error(&e))),
    };
    if !resp.ok() {
        return Err(failure(&resp).await);
    }
    let body = resp.body().ok_or("the server sent no body")?;
    let reader: ReadableStreamDefaultReader =
        body.get_reader().dyn_into().map_err(|e| js_error(&e))?;
    let decoder = TextDecoder::new().map_err(|e| js_error(&e))?;
    let options = TextDecodeOptions::new();
    // Streaming decode: a UTF-8 character cut between chunks is completed by the next one.
    options.set_stream(true);
    let mut parser = SseParser::default();
    loop {
        let chunk = match JsFuture::from(reader.read()).await {
            Ok(chunk) => chunk,
            Err(e) if is_abort(&e) || signal.aborted() => return Ok(StreamEnd::Aborted),
            Err(e) => return Err(format!("the stream broke off ({})", js_error(&e))),
        };
        let done = Reflect::get(&chunk, &"done".into()).ok().and_then(|d| d.as_bool());
        if done != Some(false) {
            return Ok(StreamEnd::Finished);
        }
        let Ok(value) = Reflect::get(&chunk, &"value".into()) else { continue };
        let Ok(bytes) = value.dyn_into::<Uint8Array>() else { continue };
        let text = decoder
            .decode_with_js_u8_array_and_options(&bytes, &options)
            .map_err(|e| js_error(&e))?;
        for event in parser.push(&text) {
            on_event(event);
        }
        if signal.aborted() {
            return Ok(StreamEnd::Aborted);
        }
    }
}

pub fn local_get(key: &str) -> Option<String> {
    window()?.local_storage().ok()??.get_item(key).ok()?
}

/// Best effort: private windows and full quotas refuse, and the page works without it.
pub fn local_set(key: &str, value: &str) {
    if let Some(Ok(Some(storage))) = window().map(|w| w.local_storage()) {
        let _ = storage.set_item(key, value);
    }
}

/// The URL fragment without `#`.
pub fn fragment() -> String {
    let hash = window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
    hash.strip_prefix('#').unwrap_or(&hash).to_string()
}

/// The page URL with `fragment`, also written to the address bar without a history entry.
pub fn set_fragment(fragment: &str) -> String {
    let Some(win) = window() else { return String::new() };
    let loc = win.location();
    let base = format!(
        "{}{}{}",
        loc.origin().unwrap_or_default(),
        loc.pathname().unwrap_or_default(),
        loc.search().unwrap_or_default()
    );
    let url = format!("{base}#{fragment}");
    if let Ok(history) = win.history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url));
    }
    url
}

/// Copies text to the clipboard; `Err` when the browser refuses (no permission, no API).
pub async fn copy_text(text: &str) -> Result<(), String> {
    let win = window().ok_or("no window")?;
    let promise = win.navigator().clipboard().write_text(text);
    JsFuture::from(promise).await.map(|_| ()).map_err(|e| js_error(&e))
}

/// Offers `content` as a file download.
pub fn download(file_name: &str, mime: &str, content: &str) -> Result<(), String> {
    let win = window().ok_or("no window")?;
    let doc = win.document().ok_or("no document")?;
    let parts = Array::of1(&JsValue::from_str(content));
    let props = BlobPropertyBag::new();
    props.set_type(mime);
    let blob = Blob::new_with_str_sequence_and_options(&parts, &props).map_err(|e| js_error(&e))?;
    let url = Url::create_object_url_with_blob(&blob).map_err(|e| js_error(&e))?;
    let a: HtmlAnchorElement =
        doc.create_element("a").map_err(|e| js_error(&e))?.dyn_into().map_err(|e| js_error(&e))?;
    a.set_href(&url);
    a.set_download(file_name);
    a.click();
    let _ = Url::revoke_object_url(&url);
    Ok(())
}

/// Milliseconds since the epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// A high-resolution clock in milliseconds (for timing validation).
pub fn perf_now() -> f64 {
    window().and_then(|w| w.performance()).map_or_else(now_ms, |p| p.now())
}
