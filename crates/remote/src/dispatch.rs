//! Many requests over many backends, without losing or duplicating one.
//!
//! The caller submits requests while [`Dispatcher::has_room`] and takes [`Event`]s from
//! [`Dispatcher::next_event`]; each submitted request ends in exactly one [`Event::Done`] (unless
//! the caller cancels, or [`Event::AllDown`] ends the run). Underneath:
//!
//! * each backend takes at most its `parallel` requests at once; a new request goes to the
//!   least-loaded backend (in flight ÷ parallel);
//! * a transient failure (unreachable, timeout, 5xx, a stream cut short) is tried again after a
//!   backoff, on another backend when there is one, up to [`Options::tries`] times;
//! * 429 keeps the backend out for its `Retry-After` and puts the request back at the front;
//! * a backend that fails twice in a row is set aside and probed again (`GET /v1/models`) after
//!   1, 2, 4, ... 30 s; an answer brings it back at once;
//! * a backend that refuses a chat request (401/403/404: key, URL or model name) before it has
//!   answered one is not used again in the run; one that refuses after answering (a key rotated,
//!   a model unloaded) is set aside, and until it answers a chat request again it does not count
//!   as usable, since a probe proves nothing about the key (llama-server lists its models
//!   without one);
//! * when no backend has been usable for [`Options::give_up_after`], or every backend has
//!   refused us, [`Event::AllDown`].
//!
//! The first probe of each backend is its discovery: the model name (unless given) from
//! `/v1/models`, and its slots from dagsmith's `/api/health` when no `parallel` was given.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use dagsmith_core::dataset::Message;

use crate::backend::BackendSpec;
use crate::client::{Answer, CallError, ChatParams, Client};
use crate::reactor::{Outcome, Reactor, Request};

/// Consecutive transient failures that set a backend aside.
const SET_ASIDE_AFTER: u32 = 2;
/// The first wait before probing a set-aside backend; it doubles up to the maximum.
const FIRST_PROBE_WAIT: Duration = Duration::from_secs(1);
const MAX_PROBE_WAIT: Duration = Duration::from_secs(30);
/// A 429 without `Retry-After` keeps the backend out this long; a longer one is capped.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);
/// Backoff before the second try; it doubles per try up to the maximum.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// How the dispatcher works.
#[derive(Clone, Debug)]
pub struct Options {
    /// Sampling and length, the same for every request.
    pub params: ChatParams,
    /// The model to ask for; `None`: the first that each backend's `/v1/models` lists.
    pub model_name: Option<String>,
    /// Requests in flight per backend when neither its spec nor its health says.
    pub default_parallel: usize,
    /// Tries per request at most, over transient failures.
    pub tries: u32,
    /// Stop once no backend has been usable for this long.
    pub give_up_after: Duration,
}

/// A request's answer and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    pub answer: Answer,
    /// The backend's URL.
    pub backend: String,
    pub model: String,
    /// Tries it took (1 = the first one answered).
    pub tries: u32,
}

/// A backend's state, for logs and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendStatus {
    pub url: String,
    /// Requests it is answering now.
    pub in_flight: usize,
    /// Requests it takes at once (0 until discovered).
    pub parallel: usize,
    /// Up (not set aside or being probed).
    pub usable: bool,
}

/// Why a request ended without an answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// The backend refused the request as it is (a 4xx such as a prompt longer than the
    /// context): an answer about this request, to record.
    Rejected(String),
    /// Every try failed on transient faults: nothing is known about this request; a later run
    /// should try it again.
    GaveUp(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Rejected(m) | Failure::GaveUp(m) => f.write_str(m),
        }
    }
}

/// What the caller hears.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// New text of a request submitted with `stream_text`.
    Text { id: u64, text: String },
    /// A request ended (once per submitted request).
    Done { id: u64, result: Result<Reply, Failure> },
    /// A backend came up, was set aside, came back or is busy: for the log.
    Notice(String),
    /// No backend has been usable for [`Options::give_up_after`], or every backend refused us:
    /// nothing more will be done.
    AllDown(String),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Health {
    /// A probe (the first one: discovery) is running.
    Probing,
    Up,
    /// Set aside until then; `wait` is the current probe interval.
    Aside {
        until: Instant,
        wait: Duration,
    },
    /// Refused a chat request before answering any: not used again in this run.
    Refused,
}

struct Backend {
    spec: Arc<BackendSpec>,
    model: Option<String>,
    /// 0 until discovered.
    parallel: usize,
    in_flight: usize,
    health: Health,
    /// The probe interval to use when it is set aside next.
    next_wait: Duration,
    failures: u32,
    busy_until: Option<Instant>,
    /// Tie-break among equally loaded backends: the one used longest ago.
    last_used: u64,
    last_error: Option<String>,
    ever_up: bool,
    /// It has answered a chat request in this run.
    answered: bool,
    /// Its last chat request was refused (401/403/404): a probe does not bring it back for good.
    denied: bool,
}

struct Pending {
    id: u64,
    messages: Arc<Vec<Message>>,
    stream_text: bool,
    /// A repetition penalty of at least this much, beyond the run's parameters.
    repeat_penalty: Option<f32>,
    /// Tries already failed.
    tries: u32,
    not_before: Option<Instant>,
    /// The backend that failed it last: another one is preferred.
    avoid: Option<usize>,
    last_error: Option<String>,
}

struct Running {
    request: Pending,
    backend: usize,
    cancel: Arc<AtomicBool>,
}

enum Msg {
    Text { attempt: u64, text: String },
    Finished { attempt: u64, result: Result<Answer, CallError> },
    Probed { backend: usize, result: Result<(String, Option<usize>), CallError> },
}

type Job = Box<dyn FnOnce() + Send>;

/// The threads that run requests, kept between requests: a thread per request cost more than
/// the rest of the client's work on a fast backend (thread creation, and a fresh allocator
/// heap each time). A job starts at once: on an idle thread, else on a new one.
struct Workers {
    tx: Sender<Job>,
    rx: Arc<Mutex<Receiver<Job>>>,
    /// Threads waiting for a job, less the jobs sent that no thread has taken yet.
    idle: Arc<AtomicUsize>,
}

impl Workers {
    fn new() -> Workers {
        let (tx, rx) = mpsc::channel();
        Workers { tx, rx: Arc::new(Mutex::new(rx)), idle: Arc::new(AtomicUsize::new(0)) }
    }

    fn run(&self, job: Job) -> std::io::Result<()> {
        let reserved =
            self.idle.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1));
        if reserved.is_err() {
            let (rx, idle) = (self.rx.clone(), self.idle.clone());
            thread::Builder::new().name("dagsmith-request".into()).spawn(move || {
                loop {
                    // The lock is held while waiting: the other idle threads wait on it instead.
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(job) = job else { return };
                    job();
                    idle.fetch_add(1, Ordering::AcqRel);
                }
            })?;
        }
        // The receiver lives as long as this sender (the workers hold it): sending succeeds.
        let _ = self.tx.send(job);
        Ok(())
    }
}

/// Requests over backends; see the module documentation.
pub struct Dispatcher {
    client: Client,
    /// The thread that runs the requests to `http://` backends (`None` if it could not start).
    /// Boxed: the CLI holds a dispatcher by value in an enum that must stay small.
    reactor: Option<Box<Reactor>>,
    /// The threads that run the others (ureq's: `https://`, or through a proxy).
    workers: Workers,
    options: Options,
    backends: Vec<Backend>,
    pending: VecDeque<Pending>,
    running: HashMap<u64, Running>,
    next_attempt: u64,
    uses: u64,
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
    events: VecDeque<Event>,
    /// Since when no backend has been usable.
    down_since: Option<Instant>,
    stopped: bool,
}

impl Dispatcher {
    /// Starts discovering every backend (in the background).
    pub fn start(client: Client, specs: Vec<BackendSpec>, options: Options) -> Dispatcher {
        let (tx, rx) = mpsc::channel();
        let now = Instant::now();
        let backends: Vec<Backend> = specs
            .into_iter()
            .map(|spec| Backend {
                spec: Arc::new(spec),
                model: None,
                parallel: 0,
                in_flight: 0,
                health: Health::Aside { until: now, wait: Duration::ZERO },
                next_wait: FIRST_PROBE_WAIT,
                failures: 0,
                busy_until: None,
                last_used: 0,
                last_error: None,
                ever_up: false,
                answered: false,
                denied: false,
            })
            .collect();
        let uses_reactor = backends.iter().any(|b| client.own_authority(&b.spec).is_some());
        let reactor = uses_reactor.then(|| start_reactor(&client, tx.clone())).flatten();
        let mut dispatcher = Dispatcher {
            client,
            reactor,
            workers: Workers::new(),
            options,
            backends,
            pending: VecDeque::new(),
            running: HashMap::new(),
            next_attempt: 0,
            uses: 0,
            tx,
            rx,
            events: VecDeque::new(),
            down_since: Some(now),
            stopped: false,
        };
        dispatcher.pump(now);
        dispatcher
    }

    /// A request submitted now would start at once: a usable backend has a free place and no
    /// request is waiting.
    pub fn has_room(&self) -> bool {
        let now = Instant::now();
        !self.stopped && self.pending.is_empty() && self.backends.iter().any(|b| b.has_room(now))
    }

    /// Requests submitted and not yet done (waiting or running).
    pub fn in_flight(&self) -> usize {
        self.pending.len() + self.running.len()
    }

    /// Where each backend stands, in the order given.
    pub fn backends(&self) -> Vec<BackendStatus> {
        self.backends
            .iter()
            .map(|b| BackendStatus {
                url: b.spec.url.clone(),
                in_flight: b.in_flight,
                parallel: b.parallel,
                usable: b.health == Health::Up,
            })
            .collect()
    }

    /// Queues a request; it starts as soon as a backend has room. `stream_text`: report its
    /// text as it arrives ([`Event::Text`]).
    pub fn submit(&mut self, id: u64, messages: Vec<Message>, stream_text: bool) {
        self.submit_with_penalty(id, messages, stream_text, None);
    }

    /// [`Dispatcher::submit`] with a repetition penalty of at least `repeat_penalty` (a fresh
    /// start after a runaway answer).
    pub fn submit_with_penalty(
        &mut self,
        id: u64,
        messages: Vec<Message>,
        stream_text: bool,
        repeat_penalty: Option<f32>,
    ) {
        self.pending.push_back(Pending {
            id,
            messages: Arc::new(messages),
            stream_text,
            repeat_penalty,
            tries: 0,
            not_before: None,
            avoid: None,
            last_error: None,
        });
        self.pump(Instant::now());
    }

    /// Cancels everything in flight: no more events for those requests.
    pub fn cancel_all(&mut self) {
        for (_, r) in self.running.drain() {
            r.cancel.store(true, Ordering::Relaxed);
        }
        if let Some(reactor) = &self.reactor {
            reactor.wake();
        }
        self.pending.clear();
        for b in &mut self.backends {
            b.in_flight = 0;
        }
    }

    /// The next event, waiting at most `wait` for one.
    pub fn next_event(&mut self, wait: Duration) -> Option<Event> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(e) = self.events.pop_front() {
                return Some(e);
            }
            if self.stopped {
                return None;
            }
            let now = Instant::now();
            self.pump(now);
            if let Some(e) = self.events.pop_front() {
                return Some(e);
            }
            if now >= deadline {
                return None;
            }
            let timeout = self.next_timer(now).map_or(deadline, |t| t.min(deadline)) - now;
            match self.rx.recv_timeout(timeout.max(Duration::from_millis(1))) {
                Ok(msg) => self.handle(msg),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    unreachable!("the dispatcher holds a sender")
                }
            }
        }
    }

    /// The earliest moment something is due: a retry, a probe, the end of a 429 wait, the
    /// give-up deadline.
    fn next_timer(&self, now: Instant) -> Option<Instant> {
        let retries = self.pending.iter().filter_map(|p| p.not_before);
        let probes = self.backends.iter().filter_map(|b| match b.health {
            Health::Aside { until, .. } => Some(until),
            _ => None,
        });
        let busy = self.backends.iter().filter_map(|b| b.busy_until);
        let give_up = self.down_since.map(|s| s + self.options.give_up_after);
        retries.chain(probes).chain(busy).chain(give_up).filter(|&t| t > now).min()
    }

    /// Starts what can start: probes that are due, then waiting requests on backends with room.
    /// Declares everything down when no backend has been usable for too long.
    fn pump(&mut self, now: Instant) {
        for i in 0..self.backends.len() {
            if let Health::Aside { until, wait } = self.backends[i].health
                && until <= now
            {
                self.backends[i].next_wait = (wait * 2).clamp(FIRST_PROBE_WAIT, MAX_PROBE_WAIT);
                self.probe(i);
            }
        }
        let mut waiting = VecDeque::with_capacity(self.pending.len());
        while let Some(request) = self.pending.pop_front() {
            if request.not_before.is_some_and(|t| t > now) {
                waiting.push_back(request);
                continue;
            }
            match self.choose(request.avoid, now) {
                Some(b) => self.launch(request, b),
                None => {
                    waiting.push_back(request);
                    // No room anywhere: the rest waits too, in order.
                    waiting.extend(self.pending.drain(..));
                }
            }
        }
        self.pending = waiting;

        if self.backends.iter().any(|b| b.health == Health::Up && !b.denied) {
            self.down_since = None;
        } else {
            let since = *self.down_since.get_or_insert(now);
            let all_refused = self.backends.iter().all(|b| b.health == Health::Refused);
            if (all_refused || now.duration_since(since) >= self.options.give_up_after)
                && !self.stopped
            {
                let reasons: Vec<String> = self
                    .backends
                    .iter()
                    .map(|b| {
                        // Errors name their backend already.
                        b.last_error
                            .clone()
                            .unwrap_or_else(|| format!("{}: no answer to probes", b.spec.url))
                    })
                    .collect();
                self.cancel_all();
                self.stopped = true;
                self.events.push_back(Event::AllDown(if all_refused {
                    format!(
                        "every backend refused the requests ({}): check the API key, the URLs \
                         and the model name",
                        reasons.join("; ")
                    )
                } else {
                    format!(
                        "no backend has answered for {} s ({})",
                        self.options.give_up_after.as_secs(),
                        reasons.join("; ")
                    )
                }));
            }
        }
    }

    /// The least-loaded backend with room, preferring any other over `avoid`.
    fn choose(&self, avoid: Option<usize>, now: Instant) -> Option<usize> {
        let load = |i: usize| {
            let b = &self.backends[i];
            (b.in_flight as f64 / b.parallel as f64, b.last_used)
        };
        let best = |skip: Option<usize>| {
            (0..self.backends.len())
                .filter(|&i| Some(i) != skip && self.backends[i].has_room(now))
                .min_by(|&a, &b| load(a).partial_cmp(&load(b)).expect("finite loads"))
        };
        best(avoid).or_else(|| avoid.filter(|&a| self.backends[a].has_room(now)))
    }

    fn launch(&mut self, request: Pending, b: usize) {
        let attempt = self.next_attempt;
        self.next_attempt += 1;
        self.uses += 1;
        let backend = &mut self.backends[b];
        backend.in_flight += 1;
        backend.last_used = self.uses;
        let cancel = Arc::new(AtomicBool::new(false));
        let mut params = self.options.params.clone();
        if let Some(penalty) = request.repeat_penalty {
            params.repeat_penalty = params.repeat_penalty.max(penalty);
        }
        let body =
            params.body(backend.model.as_deref().expect("a usable backend has a model"), &[]);
        let (client, spec, tx) = (self.client.clone(), backend.spec.clone(), self.tx.clone());
        let (messages, stream_text, flag) =
            (request.messages.clone(), request.stream_text, cancel.clone());
        self.running.insert(attempt, Running { request, backend: b, cancel });
        let gap = if stream_text { Duration::ZERO } else { crate::client::BATCH_READ_GAP };
        if let Some(reactor) = &self.reactor
            && let Some(authority) = client.own_authority(&spec)
        {
            let build = move || {
                // Built on the reactor's thread, off the caller's, which validates answers.
                client.chat_request(&spec, &with_messages(body, &messages)).unwrap_or_default()
            };
            let build = Box::new(build);
            reactor.submit(Request { attempt, authority, build, gap, stream_text, cancel: flag });
            return;
        }
        let spawned = self.workers.run(Box::new(move || {
            // The body is built here, off the caller's thread, which validates answers.
            let body = with_messages(body, &messages);
            let text_tx = tx.clone();
            let mut on_text = |text: &str| {
                if stream_text {
                    let _ = text_tx.send(Msg::Text { attempt, text: text.to_string() });
                }
            };
            let result = client.chat(&spec, &body, &flag, gap, &mut on_text);
            let _ = tx.send(Msg::Finished { attempt, result });
        }));
        if let Err(e) = spawned {
            let message = format!("cannot start a request thread: {e}");
            self.handle(Msg::Finished { attempt, result: Err(CallError::Server(message)) });
        }
    }

    fn probe(&mut self, b: usize) {
        let backend = &mut self.backends[b];
        backend.health = Health::Probing;
        let (client, spec, tx) = (self.client.clone(), backend.spec.clone(), self.tx.clone());
        let model_name = self.options.model_name.clone();
        let want_slots = spec.parallel.is_none() && backend.parallel == 0;
        let spawned = thread::Builder::new().name("dagsmith-probe".into()).spawn(move || {
            let result = client.models(&spec).and_then(|models| {
                let model = match model_name {
                    Some(name) => name,
                    None => models.into_iter().next().ok_or_else(|| {
                        CallError::Denied("GET /v1/models lists no model".to_string())
                    })?,
                };
                Ok((model, if want_slots { client.health_slots(&spec) } else { None }))
            });
            let _ = tx.send(Msg::Probed { backend: b, result });
        });
        if let Err(e) = spawned {
            let message = format!("cannot start a probe thread: {e}");
            self.handle(Msg::Probed { backend: b, result: Err(CallError::Server(message)) });
        }
    }

    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Text { attempt, text } => {
                if let Some(r) = self.running.get(&attempt) {
                    self.events.push_back(Event::Text { id: r.request.id, text });
                }
            }
            Msg::Finished { attempt, result } => {
                // Not running: cancelled, or the run stopped; nothing to report.
                let Some(running) = self.running.remove(&attempt) else { return };
                self.finished(running, result);
            }
            Msg::Probed { backend, result } => self.probed(backend, result),
        }
    }

    fn finished(&mut self, running: Running, result: Result<Answer, CallError>) {
        let Running { mut request, backend: b, .. } = running;
        let now = Instant::now();
        let backend = &mut self.backends[b];
        backend.in_flight = backend.in_flight.saturating_sub(1);
        let url = backend.spec.url.clone();
        match result {
            Ok(answer) => {
                backend.failures = 0;
                backend.answered = true;
                backend.denied = false;
                if backend.health != Health::Up {
                    // An answer is proof enough that it works again.
                    backend.health = Health::Up;
                    backend.next_wait = FIRST_PROBE_WAIT;
                    self.events.push_back(Event::Notice(format!("{url}: answering again")));
                }
                let reply = Reply {
                    answer,
                    backend: url,
                    model: backend.model.clone().unwrap_or_default(),
                    tries: request.tries + 1,
                };
                self.events.push_back(Event::Done { id: request.id, result: Ok(reply) });
            }
            Err(CallError::Cancelled) => {}
            Err(CallError::BadRequest(message)) => {
                backend.failures = 0;
                // It read the request: the key and the model are right.
                backend.denied = false;
                let message = format!("{url}: {message}");
                self.events.push_back(Event::Done {
                    id: request.id,
                    result: Err(Failure::Rejected(message)),
                });
            }
            Err(CallError::Busy { retry_after, message }) => {
                let wait = retry_after.unwrap_or(DEFAULT_RETRY_AFTER).min(MAX_RETRY_AFTER);
                if backend.busy_until.is_none_or(|t| t <= now) {
                    self.events.push_back(Event::Notice(format!(
                        "{url}: busy ({message}); waiting {} s before sending it more",
                        wait.as_secs_f64()
                    )));
                }
                backend.busy_until = Some(now + wait);
                self.pending.push_front(request);
            }
            Err(CallError::Denied(message)) => {
                // Not this request's fault: it waits for another backend, no try counted.
                let reason = format!("{url}: {message}");
                if !backend.answered {
                    // Never served us: a wrong key, URL or model name, which waiting won't fix.
                    if backend.health != Health::Refused {
                        backend.health = Health::Refused;
                        backend.last_error = Some(reason.clone());
                        self.events.push_back(Event::Notice(format!(
                            "{reason}; not used again in this run (check its API key, URL and \
                             model name)"
                        )));
                    }
                } else {
                    backend.denied = true;
                    if backend.health == Health::Up {
                        self.set_aside(b, reason, now);
                    }
                }
                request.avoid = Some(b);
                self.pending.push_front(request);
            }
            Err(e) => {
                let message = format!("{url}: {e}");
                backend.failures += 1;
                backend.last_error = Some(message.clone());
                if backend.failures >= SET_ASIDE_AFTER && backend.health == Health::Up {
                    self.set_aside(b, message.clone(), now);
                }
                request.tries += 1;
                if request.tries >= self.options.tries {
                    let message = format!("{} tries failed, the last: {message}", request.tries);
                    self.events.push_back(Event::Done {
                        id: request.id,
                        result: Err(Failure::GaveUp(message)),
                    });
                } else {
                    request.not_before = Some(now + backoff(request.tries, self.next_attempt));
                    request.avoid = Some(b);
                    request.last_error = Some(message);
                    self.pending.push_back(request);
                }
            }
        }
    }

    fn set_aside(&mut self, b: usize, reason: String, now: Instant) {
        let backend = &mut self.backends[b];
        let wait = backend.next_wait;
        backend.health = Health::Aside { until: now + wait, wait };
        backend.last_error = Some(reason.clone());
        self.events.push_back(Event::Notice(format!(
            "{reason}; set aside, probing again in {} s",
            wait.as_secs()
        )));
    }

    fn probed(&mut self, b: usize, result: Result<(String, Option<usize>), CallError>) {
        let now = Instant::now();
        let default_parallel = self.options.default_parallel.max(1);
        let backend = &mut self.backends[b];
        let url = backend.spec.url.clone();
        match result {
            Ok((model, slots)) => {
                if backend.parallel == 0 {
                    backend.parallel = backend.spec.parallel.or(slots).unwrap_or(default_parallel);
                }
                let first = !backend.ever_up;
                backend.model = Some(model);
                backend.health = Health::Up;
                if !backend.denied {
                    // A refused backend keeps its growing interval until it answers a chat.
                    backend.next_wait = FIRST_PROBE_WAIT;
                }
                backend.failures = 0;
                backend.ever_up = true;
                self.events.push_back(Event::Notice(if first {
                    format!(
                        "{url}: model {}, {} in parallel",
                        backend.model.as_deref().unwrap_or_default(),
                        backend.parallel
                    )
                } else {
                    format!("{url}: back")
                }));
            }
            Err(e) => {
                let quiet = backend.last_error.is_some();
                backend.last_error = Some(format!("{url}: {e}"));
                let wait = backend.next_wait;
                backend.health = Health::Aside { until: now + wait, wait };
                if !quiet {
                    self.events.push_back(Event::Notice(format!(
                        "{url}: {e}; probing again in {} s",
                        wait.as_secs()
                    )));
                }
            }
        }
    }
}

impl Backend {
    fn has_room(&self, now: Instant) -> bool {
        self.health == Health::Up
            && self.in_flight < self.parallel
            && self.busy_until.is_none_or(|t| t <= now)
    }
}

/// A request's body (the run's parameters) with its messages.
fn with_messages(mut body: serde_json::Value, messages: &[Message]) -> serde_json::Value {
    body["messages"] = serde_json::to_value(messages).expect("messages serialize");
    body
}

/// The reactor, reporting to the dispatcher's channel; `None` (requests then run on threads)
/// when the system refuses what it needs.
fn start_reactor(client: &Client, tx: Sender<Msg>) -> Option<Box<Reactor>> {
    let report = move |attempt, outcome| {
        let msg = match outcome {
            Outcome::Text(text) => Msg::Text { attempt, text },
            Outcome::Finished(result) => Msg::Finished { attempt, result },
        };
        let _ = tx.send(msg);
    };
    Reactor::start(client.timeout(), client.connect_timeout(), Box::new(report)).ok().map(Box::new)
}

/// The wait before try `tries + 1`: doubling from [`FIRST_BACKOFF`], with ±25% jitter (so that
/// requests failed together do not come back together).
fn backoff(tries: u32, salt: u64) -> Duration {
    let base = FIRST_BACKOFF.saturating_mul(1 << tries.saturating_sub(1).min(16)).min(MAX_BACKOFF);
    // splitmix64 of the attempt counter: a cheap, well-spread fraction.
    let mut z = salt.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    let fraction = ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64;
    base.mul_f64(0.75 + 0.5 * fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        for salt in 0..50 {
            let first = backoff(1, salt);
            assert!(first >= FIRST_BACKOFF.mul_f64(0.75) && first <= FIRST_BACKOFF.mul_f64(1.25));
            let third = backoff(3, salt);
            assert!(third >= FIRST_BACKOFF.mul_f64(3.0) && third <= FIRST_BACKOFF.mul_f64(5.0));
            assert!(backoff(40, salt) <= MAX_BACKOFF.mul_f64(1.25));
        }
        assert_ne!(backoff(2, 1), backoff(2, 2));
    }
}
