//! The bridge between async request handlers and the engine's blocking batch loop.
//!
//! One std thread runs [`Engine::run`] for the server's lifetime. Handlers [`Scheduler::submit`]
//! requests into a bounded queue and get a channel of [`JobEvent`]s back; the engine thread's
//! [`Jobs`] implementation takes queued requests whenever a slot is free (so concurrent requests
//! decode together), forwards streamed text, and cancels a request at the next decode step once
//! its receiver is gone (the client disconnected) or its deadline has passed.

use std::collections::{HashMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use dagsmith_engine::{
    BatchOptions, Completion, Engine, FinishReason, Flow, GenerationRequest, JobId, Jobs, Progress,
    RequestError,
};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::error::ApiError;

/// What a handler hears about its request.
#[derive(Debug)]
pub enum JobEvent {
    /// New text (stop strings already held back by the engine).
    Text { text: String, progress: Progress },
    /// Finished normally (`Stop` or `Length`).
    Done(Completion),
    /// Failed, timed out or cancelled by shutdown: the error to send to the client.
    Failed(ApiError),
}

/// Why a request was not queued.
#[derive(Debug, Clone, PartialEq)]
pub enum SubmitError {
    /// The queue is full.
    Busy { queued: usize },
    /// The engine thread is gone (the reason).
    Unavailable(String),
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> ApiError {
        match e {
            SubmitError::Busy { queued } => ApiError::busy(queued, 1),
            SubmitError::Unavailable(reason) => ApiError::unavailable(reason),
        }
    }
}

struct Pending {
    id: JobId,
    request: GenerationRequest,
    tx: UnboundedSender<JobEvent>,
    deadline: Instant,
}

#[derive(Default)]
struct Queue {
    pending: VecDeque<Pending>,
    shutdown: bool,
    /// Set when the engine thread ended on its own (context creation failed, or a panic).
    failure: Option<String>,
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
    busy: AtomicUsize,
    next_id: AtomicU64,
    timeout: Duration,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A panic while holding the lock leaves the queue consistent (plain pushes and pops).
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The engine thread and its request queue.
pub struct Scheduler {
    shared: Arc<Shared>,
    capacity: usize,
    parallel: usize,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Scheduler {
    /// Starts the engine thread. `capacity` requests may wait for a slot; `timeout` bounds each
    /// request from submission to its last token.
    pub fn start(
        engine: Arc<Engine>,
        options: BatchOptions,
        capacity: usize,
        timeout: Duration,
    ) -> Scheduler {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
            busy: AtomicUsize::new(0),
            next_id: AtomicU64::new(0),
            timeout,
        });
        let parallel = options.parallel.max(1);
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("dagsmith-engine".into())
            .spawn(move || engine_thread(&engine, &options, thread_shared))
            .expect("spawning a thread only fails when the OS is out of resources");
        Scheduler { shared, capacity, parallel, thread: Mutex::new(Some(thread)) }
    }

    /// Queues a request. `admitted` requests (repair rounds of a request already accepted) are
    /// queued even when the queue is full, so that accepted work is not dropped half-way.
    pub fn submit(
        &self,
        request: GenerationRequest,
        admitted: bool,
    ) -> Result<UnboundedReceiver<JobEvent>, SubmitError> {
        let mut queue = self.shared.lock();
        if let Some(reason) = &queue.failure {
            return Err(SubmitError::Unavailable(reason.clone()));
        }
        if queue.shutdown {
            return Err(SubmitError::Unavailable("the server is shutting down".into()));
        }
        // Clients that went away while waiting do not hold queue places.
        queue.pending.retain(|p| !p.tx.is_closed());
        if !admitted && queue.pending.len() >= self.capacity {
            return Err(SubmitError::Busy { queued: queue.pending.len() });
        }
        let (tx, rx) = unbounded_channel();
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        let deadline = Instant::now() + self.shared.timeout;
        queue.pending.push_back(Pending { id, request, tx, deadline });
        drop(queue);
        self.shared.wake.notify_one();
        Ok(rx)
    }

    /// Slots decoding now.
    pub fn busy(&self) -> usize {
        self.shared.busy.load(Ordering::Relaxed)
    }

    /// Slots in all.
    pub fn slots(&self) -> usize {
        self.parallel
    }

    /// Requests waiting for a slot (clients that left while waiting not counted).
    pub fn queued(&self) -> usize {
        self.shared.lock().pending.iter().filter(|p| !p.tx.is_closed()).count()
    }

    /// Why generation stopped working, if it did.
    pub fn failure(&self) -> Option<String> {
        self.shared.lock().failure.clone()
    }

    /// Cancels running requests at their next decode step, fails queued ones and ends the engine
    /// thread; returns once it has ended.
    pub fn shutdown(&self) {
        let pending = {
            let mut queue = self.shared.lock();
            queue.shutdown = true;
            std::mem::take(&mut queue.pending)
        };
        for p in pending {
            let _ = p.tx.send(JobEvent::Failed(shutting_down()));
        }
        self.shared.wake.notify_all();
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn shutting_down() -> ApiError {
    ApiError::unavailable("the server is shutting down")
}

fn engine_thread(engine: &Engine, options: &BatchOptions, shared: Arc<Shared>) {
    let mut bridge = Bridge { shared: shared.clone(), running: HashMap::new() };
    let outcome = catch_unwind(AssertUnwindSafe(|| engine.run(options, &mut bridge)));
    let reason = match outcome {
        Ok(Ok(_stats)) => return,
        Ok(Err(e)) => format!("generation is unavailable: {e}"),
        Err(_) => "generation is unavailable: the engine thread panicked".to_string(),
    };
    eprintln!("dagsmith serve: {reason}");
    let pending = {
        let mut queue = shared.lock();
        queue.failure = Some(reason.clone());
        std::mem::take(&mut queue.pending)
    };
    let unavailable = ApiError::unavailable(reason);
    for p in pending {
        let _ = p.tx.send(JobEvent::Failed(unavailable.clone()));
    }
    for (_, job) in bridge.running.drain() {
        let _ = job.tx.send(JobEvent::Failed(unavailable.clone()));
    }
    shared.busy.store(0, Ordering::Relaxed);
}

struct Running {
    tx: UnboundedSender<JobEvent>,
    deadline: Instant,
}

/// The engine thread's side of the queue.
struct Bridge {
    shared: Arc<Shared>,
    running: HashMap<JobId, Running>,
}

impl Bridge {
    fn timed_out(&self) -> ApiError {
        ApiError::timeout(format!(
            "generation timed out after {} s (the server's --timeout)",
            self.shared.timeout.as_secs()
        ))
    }
}

impl Jobs for Bridge {
    fn next(&mut self, idle: bool) -> Option<(JobId, GenerationRequest)> {
        let mut queue = self.shared.lock();
        loop {
            if queue.shutdown {
                // Running requests are cancelled by `poll`; the run ends once they are.
                return None;
            }
            while let Some(p) = queue.pending.pop_front() {
                if p.tx.is_closed() {
                    continue;
                }
                if Instant::now() >= p.deadline {
                    let _ = p.tx.send(JobEvent::Failed(self.timed_out()));
                    continue;
                }
                self.running.insert(p.id, Running { tx: p.tx, deadline: p.deadline });
                self.shared.busy.fetch_add(1, Ordering::Relaxed);
                return Some((p.id, p.request));
            }
            if !idle {
                return None;
            }
            // The timeout only bounds how long a missed wake-up could delay work.
            queue = self
                .shared
                .wake
                .wait_timeout(queue, Duration::from_secs(1))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn text(&mut self, id: JobId, text: &str, progress: Progress) -> Flow {
        let Some(job) = self.running.get(&id) else { return Flow::Stop };
        let event = JobEvent::Text { text: text.to_string(), progress };
        if job.tx.send(event).is_err() { Flow::Stop } else { Flow::Continue }
    }

    fn poll(&mut self, id: JobId) -> Flow {
        match self.running.get(&id) {
            Some(job) if !job.tx.is_closed() && Instant::now() < job.deadline => {
                // Shutdown is rare; the lock is uncontended almost always.
                if self.shared.lock().shutdown { Flow::Stop } else { Flow::Continue }
            }
            _ => Flow::Stop,
        }
    }

    fn finished(&mut self, id: JobId, result: Result<Completion, RequestError>) {
        let Some(job) = self.running.remove(&id) else { return };
        self.shared.busy.fetch_sub(1, Ordering::Relaxed);
        let event = match result {
            Ok(c) if c.finish == FinishReason::Cancelled => {
                if Instant::now() >= job.deadline {
                    JobEvent::Failed(self.timed_out())
                } else {
                    // The client left (nobody hears this) or the server is shutting down.
                    JobEvent::Failed(shutting_down())
                }
            }
            Ok(c) => JobEvent::Done(c),
            Err(
                e @ (RequestError::Template(_)
                | RequestError::PromptTooLong { .. }
                | RequestError::NotGreedy),
            ) => JobEvent::Failed(ApiError::bad_request(e.to_string())),
            Err(e) => JobEvent::Failed(ApiError::internal(e.to_string())),
        };
        let _ = job.tx.send(event);
    }
}
