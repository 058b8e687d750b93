//! The page's side of the validator worker (wasm32 only): validation runs in a Web Worker so
//! that a validator bug cannot take the page down. The wasm aborts on panic, which in the page
//! would kill the app for good (and leave the previous file's findings on screen); in a worker
//! it costs the worker, which is replaced before the next request.
//!
//! The worker runs the page's own wasm module (no second download or build): a small module
//! script, made here as a blob, imports the wasm-bindgen glue the page was loaded from,
//! instantiates the `WebAssembly.Module` the page posts to it, and calls
//! `validator_worker_main` ([`crate::worker`]). One request is in flight at a time; a request
//! with no answer within [`TIMEOUT_MS`] counts as a hang and the worker is replaced too.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};

use js_sys::{Array, Function, Promise};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, BlobPropertyBag, ErrorEvent, MessageEvent, Url, Worker, WorkerOptions, WorkerType,
};

use crate::browser::js_error;
use crate::validation::{Failure, Reply, Request, Validated};

/// How long one validation may take before the worker is taken to hang. Generous: the first
/// request also waits for the worker to start, on slow machines too.
const TIMEOUT_MS: i32 = 20_000;

/// Starts in a row that fail before the worker is ready, after which requests fail at once.
const MAX_FAILED_STARTS: u32 = 2;

#[wasm_bindgen]
extern "C" {
    type ImportMeta;

    #[wasm_bindgen(method, getter)]
    fn url(this: &ImportMeta) -> String;

    /// `import.meta` as the wasm-bindgen glue module sees it: its URL is what the worker
    /// imports.
    #[wasm_bindgen(thread_local_v2, js_namespace = import, js_name = meta)]
    static IMPORT_META: ImportMeta;
}

/// A request waiting to be sent or answered; `resolve` wakes its caller.
struct Job {
    id: u32,
    message: String,
    resolve: Function,
}

/// A started worker with its event handlers (kept alive while it may call them).
struct Running {
    /// Which start this is: events of workers replaced since are ignored.
    generation: u32,
    worker: Worker,
    script_url: String,
    ready: bool,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

impl Running {
    /// Its handlers stay: events already on their way (the error after a panic message) are
    /// still handled, and ignored.
    fn stop(&self) {
        self.worker.terminate();
        let _ = Url::revoke_object_url(&self.script_url);
    }
}

#[derive(Default)]
struct Client {
    running: Option<Running>,
    /// The worker replaced last: its handlers may be running when it is replaced (a panic
    /// message, an error), so they are dropped at the next replacement instead.
    retired: Option<Running>,
    queue: VecDeque<Job>,
    in_flight: Option<(Job, i32)>,
    results: HashMap<u32, Result<Validated, Failure>>,
    next_id: u32,
    generation: u32,
    failed_starts: u32,
    /// One handler for every timeout, given the request's id.
    on_timeout: Option<Closure<dyn FnMut(u32)>>,
}

thread_local! {
    static CLIENT: RefCell<Client> = RefCell::new(Client::default());
}

fn with_client<T>(f: impl FnOnce(&mut Client) -> T) -> T {
    CLIENT.with(|c| f(&mut c.borrow_mut()))
}

/// Validates `code` for an Airflow version in the worker.
pub async fn validate(code: &str, airflow_version: &str) -> Result<Validated, Failure> {
    let id = with_client(|c| {
        c.next_id = c.next_id.wrapping_add(1);
        c.next_id
    });
    let request =
        Request { id, code: code.to_string(), airflow_version: airflow_version.to_string() };
    let message = serde_json::to_string(&request).unwrap_or_default();
    let mut message = Some(message);
    let promise = Promise::new(&mut |resolve, _reject| {
        if let Some(message) = message.take() {
            with_client(|c| c.queue.push_back(Job { id, message, resolve }));
        }
    });
    pump();
    let _ = JsFuture::from(promise).await;
    with_client(|c| c.results.remove(&id))
        .unwrap_or_else(|| Err(Failure::Crashed("the request was lost".into())))
}

/// Sends the next request when the worker is free, starting a worker when there is none.
fn pump() {
    with_client(|c| {
        if c.in_flight.is_some() || c.queue.is_empty() {
            return;
        }
        let Some(running) = &c.running else {
            if c.failed_starts >= MAX_FAILED_STARTS {
                let why = "the worker did not start".to_string();
                while let Some(job) = c.queue.pop_front() {
                    finish(c, job, Err(Failure::Unavailable(why.clone())));
                }
                return;
            }
            if let Err(e) = start(c) {
                c.failed_starts = MAX_FAILED_STARTS;
                while let Some(job) = c.queue.pop_front() {
                    finish(c, job, Err(Failure::Unavailable(e.clone())));
                }
            }
            return;
        };
        if !running.ready {
            return;
        }
        let Some(job) = c.queue.pop_front() else { return };
        if let Err(e) = running.worker.post_message(&JsValue::from_str(&job.message)) {
            finish(c, job, Err(Failure::Crashed(js_error(&e))));
            retire(c);
            return;
        }
        let timer = set_timeout(c, job.id);
        c.in_flight = Some((job, timer));
    });
}

/// Hands a result to the request's caller.
fn finish(c: &mut Client, job: Job, result: Result<Validated, Failure>) {
    c.results.insert(job.id, result);
    // Resolving only queues the caller's continuation: nothing runs inside this borrow.
    let _ = job.resolve.call0(&JsValue::NULL);
}

fn set_timeout(c: &mut Client, id: u32) -> i32 {
    let handler = c.on_timeout.get_or_insert_with(|| {
        Closure::<dyn FnMut(u32)>::new(|id| {
            with_client(|c| {
                if c.in_flight.as_ref().is_some_and(|(job, _)| job.id == id) {
                    fail_in_flight(c, Failure::TimedOut { seconds: (TIMEOUT_MS / 1000) as u32 });
                    retire(c);
                }
            });
            pump();
        })
    });
    web_sys::window()
        .and_then(|w| {
            w.set_timeout_with_callback_and_timeout_and_arguments_1(
                handler.as_ref().unchecked_ref(),
                TIMEOUT_MS,
                &JsValue::from(id),
            )
            .ok()
        })
        .unwrap_or(0)
}

fn fail_in_flight(c: &mut Client, failure: Failure) {
    if let Some((job, timer)) = c.in_flight.take() {
        if let Some(w) = web_sys::window() {
            w.clear_timeout_with_handle(timer);
        }
        finish(c, job, Err(failure));
    }
}

/// Stops the current worker; the next request starts a new one.
fn retire(c: &mut Client) {
    if let Some(running) = c.running.take() {
        running.stop();
        c.retired = Some(running);
    }
}

/// The worker's module script: imports the page's glue, waits for the compiled module, starts.
fn worker_script(glue_url: &str) -> String {
    let glue = serde_json::to_string(glue_url).unwrap_or_default();
    format!(
        "import init, {{ validator_worker_main }} from {glue};\n\
         addEventListener(\"message\", async (event) => {{\n\
         \x20 await init({{ module_or_path: event.data }});\n\
         \x20 validator_worker_main();\n\
         }}, {{ once: true }});\n"
    )
}

fn start(c: &mut Client) -> Result<(), String> {
    let glue_url = IMPORT_META.with(ImportMeta::url);
    let props = BlobPropertyBag::new();
    props.set_type("text/javascript");
    let parts = Array::of1(&JsValue::from_str(&worker_script(&glue_url)));
    let blob = Blob::new_with_str_sequence_and_options(&parts, &props).map_err(|e| js_error(&e))?;
    let script_url = Url::create_object_url_with_blob(&blob).map_err(|e| js_error(&e))?;
    let options = WorkerOptions::new();
    options.set_type(WorkerType::Module);
    options.set_name("dagsmith-validator");
    let worker = Worker::new_with_options(&script_url, &options).map_err(|e| js_error(&e))?;
    c.generation = c.generation.wrapping_add(1);
    let generation = c.generation;
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let text = event.data().as_string().unwrap_or_default();
        on_reply(generation, Reply::from_json(&text));
        pump();
    });
    let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
        // Handled here (the trap after a panic, a failed start): not an error of the page.
        event.prevent_default();
        on_worker_error(generation, event.message());
        pump();
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    worker.post_message(&wasm_bindgen::module()).map_err(|e| js_error(&e))?;
    c.running = Some(Running {
        generation,
        worker,
        script_url,
        ready: false,
        _on_message: on_message,
        _on_error: on_error,
    });
    Ok(())
}

/// Whether events of the worker of `generation` still count.
fn is_current(c: &Client, generation: u32) -> bool {
    c.running.as_ref().is_some_and(|r| r.generation == generation)
}

fn on_reply(generation: u32, reply: Result<Reply, String>) {
    with_client(|c| match reply {
        _ if !is_current(c, generation) => {}
        Ok(Reply::Ready) => {
            c.failed_starts = 0;
            if let Some(running) = &mut c.running {
                running.ready = true;
            }
        }
        Ok(Reply::Report { id, ms, report }) => {
            if c.in_flight.as_ref().is_some_and(|(job, _)| job.id == id) {
                let result = match report.into_report() {
                    Ok(report) => Ok(Validated { report, ms }),
                    Err(e) => Err(Failure::Crashed(e)),
                };
                if let Some((job, timer)) = c.in_flight.take() {
                    if let Some(w) = web_sys::window() {
                        w.clear_timeout_with_handle(timer);
                    }
                    finish(c, job, result);
                }
            }
        }
        Ok(Reply::Panic { message, .. }) => {
            // The worker's wasm is dead: this request failed, the next gets a new worker.
            fail_in_flight(c, Failure::Panicked(message));
            retire(c);
        }
        Err(e) => {
            fail_in_flight(c, Failure::Crashed(e));
            retire(c);
        }
    });
}

fn on_worker_error(generation: u32, message: String) {
    with_client(|c| {
        if !is_current(c, generation) {
            return;
        }
        let ready = c.running.as_ref().is_some_and(|r| r.ready);
        if !ready {
            c.failed_starts += 1;
        }
        let message = if message.is_empty() { "the worker stopped".to_string() } else { message };
        fail_in_flight(c, Failure::Crashed(message));
        retire(c);
    });
}
