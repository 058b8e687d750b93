//! The validator's side of its Web Worker (wasm32 only). The worker runs the same wasm as the
//! page, started by [`crate::validator`]; this installs the panic hook and answers requests.
//!
//! The wasm build aborts on panic (`panic = "abort"`, no unwinding in wasm here): a validator
//! bug traps the whole instance. In a worker, that costs the worker, which the page replaces;
//! the hook first tells the page which request it was and what the panic said.

use std::cell::Cell;

use dagsmith_core::{ValidateOptions, validate};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

use crate::validation::{Reply, Request, WireReport};

/// The input that makes the validator panic, in test builds only (`--features fault-injection`,
/// which scripts/test-browser.sh builds and scripts/build-web.sh never does): a stand-in for a
/// validator bug, so that the browser tests can check the page survives one.
#[cfg(feature = "fault-injection")]
pub const PANIC_INPUT: &str = "# dagsmith-test: make the validator panic\n";

thread_local! {
    /// The request being validated, for the panic hook.
    static CURRENT: Cell<Option<u32>> = const { Cell::new(None) };
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(reply: &Reply) {
    // Only fails for values that cannot be cloned; a string always can.
    let _ = scope().post_message(&JsValue::from_str(&reply.to_json()));
}

fn now_ms() -> f64 {
    scope().performance().map_or_else(js_sys::Date::now, |p| p.now())
}

/// Starts answering validation requests (the worker's script calls this once the wasm is up).
pub fn main() {
    std::panic::set_hook(Box::new(|info| {
        post(&Reply::Panic { id: CURRENT.get(), message: info.to_string() });
    }));
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(|event: MessageEvent| {
        if let Some(text) = event.data().as_string() {
            answer(&text);
        }
    });
    scope().set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    post(&Reply::Ready);
}

fn answer(text: &str) {
    // Page and worker are the same build: a request that does not parse cannot come.
    let Ok(request) = serde_json::from_str::<Request>(text) else { return };
    CURRENT.set(Some(request.id));
    let options =
        ValidateOptions { airflow_version: request.airflow_version.parse().unwrap_or_default() };
    let start = now_ms();
    #[cfg(feature = "fault-injection")]
    if request.code == PANIC_INPUT {
        panic!("fault injected for a test (--features fault-injection)");
    }
    let report = validate(&request.code, &options);
    let ms = now_ms() - start;
    CURRENT.set(None);
    post(&Reply::Report { id: request.id, ms, report: WireReport::from(&report) });
}
