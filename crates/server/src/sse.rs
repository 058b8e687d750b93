//! Server-sent event streams fed by a producer task, and the wait that notices a departed client.

use std::convert::Infallible;
use std::pin::pin;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use futures_util::future::{Either, select};
use tokio::sync::mpsc::{self, UnboundedReceiver};

use crate::scheduler::JobEvent;

/// Events buffered towards a slow client before the producer waits.
const BUFFER: usize = 256;

/// The producer's end of an event stream.
pub struct EventSender {
    tx: mpsc::Sender<Event>,
}

/// What [`EventSender::next_job_event`] saw first.
pub enum Next {
    Job(JobEvent),
    /// The response stream was dropped: the client disconnected.
    ClientGone,
    /// The job's channel closed without a final event (the engine thread ended).
    EngineGone,
}

impl EventSender {
    /// Sends one event; false when the client is gone.
    pub async fn send(&self, event: Event) -> bool {
        self.tx.send(event).await.is_ok()
    }

    /// Sends a named event (its data one line of JSON); false when the client is gone.
    pub async fn send_named(&self, name: &str, data: String) -> bool {
        self.send(Event::default().event(name).data(data)).await
    }

    /// The job's next event, or [`Next::ClientGone`] as soon as the client disconnects (also
    /// while the job is still queued): returning drops the job's receiver, which the engine
    /// thread sees at its next decode step and frees the slot.
    pub async fn next_job_event(&self, job: &mut UnboundedReceiver<JobEvent>) -> Next {
        let closed = pin!(self.tx.closed());
        let recv = pin!(job.recv());
        match select(recv, closed).await {
            Either::Left((Some(event), _)) => Next::Job(event),
            Either::Left((None, _)) => Next::EngineGone,
            Either::Right(_) => Next::ClientGone,
        }
    }
}

/// A sender and the SSE response that streams what it sends (with keep-alive comments, which
/// also reveal a departed client while nothing else is being sent).
pub fn channel() -> (EventSender, Sse<impl Stream<Item = Result<Event, Infallible>>>) {
    let (tx, rx) = mpsc::channel(BUFFER);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|event| (Ok(event), rx))
    });
    let sse = Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(5)));
    (EventSender { tx }, sse)
}
