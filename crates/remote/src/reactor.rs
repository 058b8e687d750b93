//! Chat requests to `http://` backends, all on one thread that waits on every connection at
//! once (epoll, kqueue), however many are in flight.
//!
//! A thread per request cost a handover between threads (futex, context switch) at each end of
//! every request, and against a generating server, where tokens trickle in, one wake-up per
//! thread per read gap: ~70 a DAG (docs/SCALE-OUT.md, "Packets"). Here one wake-up serves every
//! connection with something to read. A trickling answer is still read in gulps (see `gapped`):
//! after a read of less than `TRICKLE`, arrivals on that connection no longer wake the thread
//! (it is registered for writability only), and it is read at the next point of the grid the
//! gap ends on, with every other connection due then, in one wake-up.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token, Waker};

use crate::client::{Answer, AnswerReader, CallError, ERROR_BODY_LIMIT, Step, io_error};
use crate::gapped::{GRID_STEPS, TRICKLE, on_the_grid};
use crate::http::{
    BUFFER, Exchanged, Framed, Head, IDLE_PER_SERVER, closed_before_answering, closed_before_head,
    head_in,
};
use crate::sse;

const WAKER: Token = Token(usize::MAX);
/// A backend's addresses are looked up again after this long.
const ADDRESSES_FOR: Duration = Duration::from_secs(10);

/// A chat request for the reactor.
pub(crate) struct Request {
    /// The caller's name for it, in its outcomes.
    pub attempt: u64,
    /// `host:port` as the URL says it.
    pub authority: String,
    /// Builds the request's bytes, on the reactor's thread (off the caller's).
    pub build: Box<dyn FnOnce() -> Vec<u8> + Send>,
    /// Zero: the answer is read as it comes.
    pub gap: Duration,
    /// Text is reported as it arrives.
    pub stream_text: bool,
    pub cancel: Arc<AtomicBool>,
}

/// What the reactor reports of a request.
pub(crate) enum Outcome {
    Text(String),
    /// Once per request (cancelled ones included).
    Finished(Result<Answer, CallError>),
}

pub(crate) type Report = Box<dyn FnMut(u64, Outcome) + Send>;

/// The handle: requests go in, outcomes come out through the `Report` given at the start. The
/// thread ends when the handle is dropped (requests still in flight are dropped with it).
pub(crate) struct Reactor {
    /// `None` only while dropping.
    requests: Option<Sender<Request>>,
    waker: Arc<Waker>,
}

impl Reactor {
    /// `timeout`: a backend that sends nothing for this long has failed the request;
    /// `connect_timeout`: for connecting.
    pub fn start(timeout: Duration, connect_timeout: Duration, report: Report) -> io::Result<Self> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let (requests, incoming) = mpsc::channel();
        let mut reactor = Loop {
            poll,
            _waker: waker.clone(),
            incoming,
            report,
            exchanges: Vec::new(),
            free: Vec::new(),
            idle: HashMap::new(),
            addresses: HashMap::new(),
            timeout,
            connect_timeout,
        };
        std::thread::Builder::new()
            .name("dagsmith-requests".into())
            .spawn(move || reactor.run())?;
        Ok(Reactor { requests: Some(requests), waker })
    }

    pub fn submit(&self, request: Request) {
        // The thread holds the receiver as long as it runs; it stops only when this is dropped.
        if let Some(requests) = &self.requests {
            let _ = requests.send(request);
        }
        let _ = self.waker.wake();
    }

    /// Makes the thread look at its requests now (one was cancelled).
    pub fn wake(&self) {
        let _ = self.waker.wake();
    }
}

impl Drop for Reactor {
    fn drop(&mut self) {
        // The sender first, then the wake-up: woken, the thread sees it gone and ends.
        drop(self.requests.take());
        let _ = self.waker.wake();
    }
}

/// A connection and its read buffer.
struct Connection {
    stream: TcpStream,
    buffer: Box<[u8]>,
}

/// A body's reads, counted (to tell a trickle from a flood).
struct Tally {
    stream: TcpStream,
    read: usize,
    /// A read returned less than it could take: the socket is empty, and data arriving later
    /// brings a new readiness event (epoll and kqueue notify each arrival, as tokio relies on
    /// too), so the read that would only say `WouldBlock` is saved until then.
    drained: bool,
}

impl Read for Tally {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.drained {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = self.stream.read(buf)?;
        self.read += n;
        // Windows' readiness is emulated and promises less: read until `WouldBlock` there.
        self.drained = n > 0 && n < buf.len() && !cfg!(windows);
        Ok(n)
    }
}

enum Phase {
    /// Not on a connection yet.
    Start,
    Connecting {
        stream: TcpStream,
    },
    Sending {
        connection: Connection,
        written: usize,
    },
    Head {
        connection: Connection,
        end: usize,
    },
    /// An answer streaming in.
    Answer {
        events: sse::Events<Framed<Tally>>,
        reader: AnswerReader,
        keep_alive: bool,
    },
    /// A non-2xx response's body, read for its error message.
    Refusal {
        body: Framed<Tally>,
        head: Head,
        text: Vec<u8>,
        keep_alive: bool,
    },
    /// After `[DONE]` (the answer is reported): the body read to its end, for the connection.
    Draining {
        events: sse::Events<Framed<Tally>>,
        keep_alive: bool,
    },
}

struct Exchange {
    attempt: u64,
    authority: String,
    request: Vec<u8>,
    gap: Duration,
    stream_text: bool,
    cancel: Arc<AtomicBool>,
    started: Instant,
    phase: Phase,
    /// It runs on a connection that served an earlier request: if the server closed it
    /// meanwhile (nothing comes back), the request goes once more on a new one.
    reused: bool,
    /// A pooled connection failed it: only new ones now.
    fresh_only: bool,
    /// Addresses not tried yet, once looked up.
    untried: Option<Vec<SocketAddr>>,
    /// The last error connecting, for when no address is left.
    connect_error: Option<io::Error>,
    /// Failed if nothing happens before then.
    deadline: Instant,
    /// Read then (reading in gulps), whatever the connection's readiness says.
    read_at: Option<Instant>,
    /// Registered for writability only, so that arrivals do not wake the thread: the
    /// connection is read at the points of the grid (`read_at`).
    polled: bool,
    /// Readiness arrived since it was last driven.
    ready: bool,
    /// Its answer was reported (it is draining its connection).
    reported: bool,
}

struct Loop {
    poll: Poll,
    /// Held open here too: the wake-up sent as the handle is dropped must still arrive (closing
    /// the last handle of the waker would take its event out of the wait).
    _waker: Arc<Waker>,
    incoming: Receiver<Request>,
    report: Report,
    exchanges: Vec<Option<Exchange>>,
    free: Vec<usize>,
    idle: HashMap<String, Vec<Connection>>,
    addresses: HashMap<String, (Instant, Vec<SocketAddr>)>,
    timeout: Duration,
    connect_timeout: Duration,
}

/// What driving an exchange came to.
enum Driven {
    /// It waits for readiness, or for its `read_at`.
    Waiting,
    /// It ended: with this result, unless reported already.
    Ended(Result<Answer, CallError>),
}

impl Loop {
    fn run(&mut self) {
        let mut events = Events::with_capacity(1024);
        loop {
            let now = Instant::now();
            let wait = self.next_due().map(|t| t.saturating_duration_since(now));
            if let Err(e) = self.poll.poll(&mut events, wait)
                && e.kind() != io::ErrorKind::Interrupted
            {
                return self.broken(&format!("waiting on the connections failed: {e}"));
            }
            for event in events.iter() {
                if let Some(Some(exchange)) = self.exchanges.get_mut(event.token().0) {
                    exchange.ready = true;
                }
            }
            loop {
                match self.incoming.try_recv() {
                    Ok(request) => self.start(request),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return,
                }
            }
            self.drive_all();
        }
    }

    /// The thread cannot wait on connections any more: every request fails, now and later.
    fn broken(&mut self, message: &str) {
        let failed = || Outcome::Finished(Err(CallError::Server(message.to_string())));
        for exchange in std::mem::take(&mut self.exchanges).into_iter().flatten() {
            if !exchange.reported {
                (self.report)(exchange.attempt, failed());
            }
        }
        while let Ok(request) = self.incoming.recv() {
            (self.report)(request.attempt, failed());
        }
    }

    /// The earliest moment an exchange is due: its gap's end or its deadline.
    fn next_due(&self) -> Option<Instant> {
        self.exchanges.iter().flatten().map(|e| e.read_at.unwrap_or(e.deadline)).min()
    }

    fn drive_all(&mut self) {
        let now = Instant::now();
        for slot in 0..self.exchanges.len() {
            let Some(exchange) = &self.exchanges[slot] else { continue };
            let due = exchange.read_at.is_some_and(|t| t <= now);
            let ready = exchange.ready && exchange.read_at.is_none();
            let cancelled = exchange.cancel.load(Ordering::Relaxed);
            let late = exchange.deadline <= now && exchange.read_at.is_none();
            if !(due || ready || cancelled || late) {
                continue;
            }
            let Some(mut exchange) = self.exchanges[slot].take() else { continue };
            let driven = if cancelled {
                Driven::Ended(Err(CallError::Cancelled))
            } else if due {
                exchange.read_at = None;
                self.drive(slot, &mut exchange)
            } else if ready {
                self.drive(slot, &mut exchange)
            } else {
                Driven::Ended(Err(timed_out(&exchange, self.timeout)))
            };
            self.settle(slot, exchange, driven);
        }
    }

    fn start(&mut self, request: Request) {
        let slot = self.free.pop().unwrap_or_else(|| {
            self.exchanges.push(None);
            self.exchanges.len() - 1
        });
        let now = Instant::now();
        let mut exchange = Exchange {
            attempt: request.attempt,
            authority: request.authority,
            request: (request.build)(),
            gap: request.gap,
            stream_text: request.stream_text,
            cancel: request.cancel,
            started: now,
            phase: Phase::Start,
            reused: false,
            fresh_only: false,
            untried: None,
            connect_error: None,
            deadline: now + self.timeout,
            read_at: None,
            polled: false,
            ready: false,
            reported: false,
        };
        let driven = self.drive(slot, &mut exchange);
        self.settle(slot, exchange, driven);
    }

    /// Puts a driven exchange back in its slot, or ends it there.
    fn settle(&mut self, slot: usize, exchange: Exchange, driven: Driven) {
        match driven {
            Driven::Waiting => self.exchanges[slot] = Some(exchange),
            Driven::Ended(result) => {
                if !exchange.reported {
                    (self.report)(exchange.attempt, Outcome::Finished(result));
                }
                self.free.push(slot);
            }
        }
    }

    /// Takes the exchange as far as it goes without waiting.
    fn drive(&mut self, slot: usize, ex: &mut Exchange) -> Driven {
        ex.ready = false;
        if let Some(tally) = tally_of(&mut ex.phase) {
            tally.drained = false;
        }
        loop {
            let phase = std::mem::replace(&mut ex.phase, Phase::Start);
            let next = match phase {
                Phase::Start => self.connection_for(slot, ex),
                Phase::Connecting { stream } => self.connecting(slot, ex, stream),
                Phase::Sending { connection, written } => sending(ex, connection, written),
                Phase::Head { connection, end } => self.head(ex, connection, end),
                Phase::Answer { events, reader, keep_alive } => {
                    self.answer(slot, ex, events, reader, keep_alive)
                }
                Phase::Refusal { body, head, text, keep_alive } => {
                    self.refusal(ex, body, head, text, keep_alive)
                }
                Phase::Draining { events, keep_alive } => self.draining(ex, events, keep_alive),
            };
            match next {
                Next::Phase(phase) => ex.phase = phase,
                Next::Wait(phase) => {
                    ex.phase = phase;
                    return Driven::Waiting;
                }
                Next::Retry => {
                    // A pooled connection the server had closed: a new one.
                    ex.reused = false;
                    ex.fresh_only = true;
                    ex.phase = Phase::Start;
                }
                Next::End(result) => return Driven::Ended(result),
            }
        }
    }

    /// A pooled connection, else a new one.
    fn connection_for(&mut self, slot: usize, ex: &mut Exchange) -> Next {
        if !ex.fresh_only
            && let Some(mut connection) = self.idle.get_mut(&ex.authority).and_then(Vec::pop)
        {
            // Pooled connections stay registered (under the token of their last exchange).
            let interest = Interest::READABLE | Interest::WRITABLE;
            return match self.poll.registry().reregister(
                &mut connection.stream,
                Token(slot),
                interest,
            ) {
                Ok(()) => {
                    ex.reused = true;
                    Next::Phase(Phase::Sending { connection, written: 0 })
                }
                Err(_) => Next::Phase(Phase::Start),
            };
        }
        if ex.untried.is_none() {
            match self.addresses_of(&ex.authority) {
                // Tried in the order the lookup gave them.
                Ok(addresses) => ex.untried = Some(addresses.into_iter().rev().collect()),
                Err(e) => {
                    let message = format!("{}: {e}", ex.authority);
                    return Next::End(Err(CallError::Unreachable(message)));
                }
            }
        }
        while let Some(address) = ex.untried.as_mut().and_then(Vec::pop) {
            let connected = TcpStream::connect(address).and_then(|mut stream| {
                let interest = Interest::READABLE | Interest::WRITABLE;
                self.poll.registry().register(&mut stream, Token(slot), interest)?;
                Ok(stream)
            });
            match connected {
                Ok(stream) => {
                    ex.deadline = Instant::now() + self.connect_timeout;
                    return Next::Wait(Phase::Connecting { stream });
                }
                Err(e) => ex.connect_error = Some(e),
            }
        }
        let error = ex.connect_error.take().map_or("no address".into(), |e| e.to_string());
        Next::End(Err(CallError::Unreachable(format!("{}: {error}", ex.authority))))
    }

    /// A backend's addresses, looked up at most every `ADDRESSES_FOR` (on this thread: a slow
    /// name server holds every request up, but only once per period).
    fn addresses_of(&mut self, authority: &str) -> io::Result<Vec<SocketAddr>> {
        let now = Instant::now();
        if let Some((at, addresses)) = self.addresses.get(authority)
            && now.duration_since(*at) < ADDRESSES_FOR
        {
            return Ok(addresses.clone());
        }
        let target = crate::http::Target::of_authority(authority);
        let addresses: Vec<SocketAddr> = target.socket_address().to_socket_addrs()?.collect();
        self.addresses.insert(authority.to_string(), (now, addresses.clone()));
        Ok(addresses)
    }

    fn connecting(&mut self, slot: usize, ex: &mut Exchange, mut stream: TcpStream) -> Next {
        let failed = match stream.take_error() {
            Ok(Some(e)) | Err(e) => Some(e),
            Ok(None) => match stream.peer_addr() {
                Ok(_) => None,
                Err(e)
                    if e.kind() == io::ErrorKind::NotConnected
                        || e.kind() == io::ErrorKind::WouldBlock =>
                {
                    return Next::Wait(Phase::Connecting { stream });
                }
                Err(e) => Some(e),
            },
        };
        if let Some(e) = failed {
            let _ = self.poll.registry().deregister(&mut stream);
            ex.connect_error = Some(e);
            return self.connection_for(slot, ex);
        }
        // The request goes in one write; a small one must not wait for an ACK.
        let _ = stream.set_nodelay(true);
        ex.deadline = Instant::now() + self.timeout;
        let buffer = vec![0; BUFFER].into_boxed_slice();
        Next::Phase(Phase::Sending { connection: Connection { stream, buffer }, written: 0 })
    }

    fn head(&mut self, ex: &mut Exchange, mut connection: Connection, mut end: usize) -> Next {
        loop {
            match connection.stream.read(&mut connection.buffer[end..]) {
                Ok(0) if ex.reused && end == 0 => return Next::Retry,
                Ok(0) => return Next::End(Err(io_error(closed_before_head()))),
                Ok(n) => end += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Next::Wait(Phase::Head { connection, end });
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if ex.reused && end == 0 && closed_before_answering(&e) => {
                    return Next::Retry;
                }
                Err(e) => return Next::End(Err(io_error(e))),
            }
            ex.deadline = Instant::now() + self.timeout;
            let exchanged = match head_in(&mut connection.buffer, &mut end) {
                Ok(Some(exchanged)) => exchanged,
                Ok(None) => continue,
                Err(e) => return Next::End(Err(io_error(e))),
            };
            let Exchanged { head, framing, keep_alive, start, end } = exchanged;
            let Connection { stream, buffer } = connection;
            let tally = Tally { stream, read: 0, drained: false };
            let body = Framed::new(tally, buffer, start, end, framing);
            if (200..300).contains(&head.status) {
                let events = sse::Events::new(body);
                let reader = AnswerReader::new(ex.started);
                return Next::Phase(Phase::Answer { events, reader, keep_alive });
            }
            return Next::Phase(Phase::Refusal { body, head, text: Vec::new(), keep_alive });
        }
    }

    fn answer(
        &mut self,
        slot: usize,
        ex: &mut Exchange,
        mut events: sse::Events<Framed<Tally>>,
        mut reader: AnswerReader,
        keep_alive: bool,
    ) -> Next {
        loop {
            let step = match reader.next_event(&mut events) {
                Ok(step) => step,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Next::End(Err(io_error(e))),
            };
            match step {
                Ok(Step::Text(from)) => {
                    if ex.stream_text {
                        let text = reader.answer.text[from..].to_string();
                        (self.report)(ex.attempt, Outcome::Text(text));
                    }
                }
                Ok(Step::More) => {}
                Ok(Step::Done) => {
                    (self.report)(ex.attempt, Outcome::Finished(Ok(reader.finish())));
                    ex.reported = true;
                    if let Some(tally) = events.reader_mut().reader_mut() {
                        self.wait_for_arrivals(slot, ex, &mut tally.stream);
                    }
                    return Next::Phase(Phase::Draining { events, keep_alive });
                }
                Ok(Step::Ended) => {
                    self.keep(ex, events.into_reader(), keep_alive);
                    return Next::End(Ok(reader.finish()));
                }
                Err(e) => return Next::End(Err(e)),
            }
        }
        // Nothing more to read now. After a trickle, the next read waits for the gap's end.
        let now = Instant::now();
        let Some(tally) = events.reader_mut().reader_mut() else {
            return Next::Wait(Phase::Answer { events, reader, keep_alive });
        };
        let read = std::mem::take(&mut tally.read);
        if read > 0 {
            ex.deadline = now + self.timeout;
        }
        if !ex.gap.is_zero() && read > 0 && read < TRICKLE {
            if !ex.polled {
                // From now on read at the grid's points, not woken by each arrival: the
                // connection waits for writability, which nothing changes while it is read.
                let registry = self.poll.registry();
                let writable = Interest::WRITABLE;
                ex.polled = registry.reregister(&mut tally.stream, Token(slot), writable).is_ok();
            }
            ex.read_at = Some(on_the_grid(now + ex.gap, ex.gap / GRID_STEPS));
        } else {
            // Nothing came in a whole gap, or a flood did: woken by arrivals again.
            self.wait_for_arrivals(slot, ex, &mut tally.stream);
        }
        Next::Wait(Phase::Answer { events, reader, keep_alive })
    }

    /// An exchange read at the grid's points goes back to being woken when data arrives (were
    /// some there already, the change reports it).
    fn wait_for_arrivals(&mut self, slot: usize, ex: &mut Exchange, stream: &mut TcpStream) {
        if ex.polled {
            let registry = self.poll.registry();
            ex.polled = registry.reregister(stream, Token(slot), Interest::READABLE).is_err();
        }
    }

    fn draining(
        &mut self,
        ex: &mut Exchange,
        mut events: sse::Events<Framed<Tally>>,
        keep_alive: bool,
    ) -> Next {
        loop {
            match events.next_data() {
                Ok(Some(_)) => continue,
                // Reported already: the result is not reported again.
                Ok(None) => {
                    self.keep(ex, events.into_reader(), keep_alive);
                    return Next::End(Err(CallError::Cancelled));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    ex.deadline = Instant::now() + self.timeout;
                    return Next::Wait(Phase::Draining { events, keep_alive });
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // The answer is in; the connection is not worth keeping.
                Err(_) => return Next::End(Err(CallError::Cancelled)),
            }
        }
    }

    fn refusal(
        &mut self,
        ex: &mut Exchange,
        mut body: Framed<Tally>,
        head: Head,
        mut text: Vec<u8>,
        keep_alive: bool,
    ) -> Next {
        use std::io::BufRead;
        let complete = loop {
            if text.len() as u64 >= ERROR_BODY_LIMIT {
                break false;
            }
            match body.fill_buf() {
                Ok([]) => break true,
                Ok(bytes) => {
                    let n = bytes.len();
                    text.extend_from_slice(bytes);
                    body.consume(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Next::Wait(Phase::Refusal { body, head, text, keep_alive });
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => break false,
            }
        };
        if complete {
            self.keep(ex, body, keep_alive);
        }
        let text = String::from_utf8_lossy(&text);
        Next::End(Err(crate::client::status_error(&head, &text)))
    }

    /// Keeps a connection whose body was read to its end for the next request.
    fn keep(&mut self, ex: &Exchange, mut body: Framed<Tally>, keep_alive: bool) {
        if !keep_alive {
            return;
        }
        if let Some((tally, buffer)) = body.take_reusable() {
            let kept = self.idle.entry(ex.authority.clone()).or_default();
            if kept.len() < IDLE_PER_SERVER {
                kept.push(Connection { stream: tally.stream, buffer });
            }
        }
    }
}

/// What a phase came to.
enum Next {
    /// Go on with this phase now.
    Phase(Phase),
    /// Wait in this phase for readiness.
    Wait(Phase),
    /// Send the request again on a new connection.
    Retry,
    End(Result<Answer, CallError>),
}

fn sending(ex: &mut Exchange, mut connection: Connection, mut written: usize) -> Next {
    while written < ex.request.len() {
        match connection.stream.write(&ex.request[written..]) {
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Next::Wait(Phase::Sending { connection, written });
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if ex.reused && closed_before_answering(&e) => return Next::Retry,
            Err(e) => return Next::End(Err(io_error(e))),
        }
    }
    Next::Phase(Phase::Head { connection, end: 0 })
}

/// The body's reader of an exchange reading one.
fn tally_of(phase: &mut Phase) -> Option<&mut Tally> {
    match phase {
        Phase::Answer { events, .. } | Phase::Draining { events, .. } => {
            events.reader_mut().reader_mut()
        }
        Phase::Refusal { body, .. } => body.reader_mut(),
        _ => None,
    }
}

fn timed_out(ex: &Exchange, timeout: Duration) -> CallError {
    match ex.phase {
        Phase::Connecting { .. } => {
            CallError::Unreachable(format!("{}: connecting timed out", ex.authority))
        }
        _ => CallError::Timeout(format!(
            "no answer in time (nothing from {} for {} s)",
            ex.authority,
            timeout.as_secs()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    #[derive(Debug, PartialEq)]
    enum Heard {
        Text(String),
        Done(Result<String, String>),
    }

    fn started(timeout: Duration) -> (Reactor, Receiver<(u64, Heard)>) {
        let (tx, rx) = mpsc::channel();
        let report = move |attempt, outcome| {
            let heard = match outcome {
                Outcome::Text(text) => Heard::Text(text),
                Outcome::Finished(result) => {
                    Heard::Done(result.map(|a| a.text).map_err(|e| format!("{e:?}")))
                }
            };
            let _ = tx.send((attempt, heard));
        };
        let reactor = Reactor::start(timeout, timeout, Box::new(report)).unwrap();
        (reactor, rx)
    }

    fn request(attempt: u64, authority: &str, gap: Duration, stream_text: bool) -> Request {
        let host = authority.to_string();
        let build = move || {
            format!("POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\nContent-Length: 2\r\n\r\n{{}}")
                .into_bytes()
        };
        Request {
            attempt,
            authority: authority.to_string(),
            build: Box::new(build),
            gap,
            stream_text,
            cancel: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Waits for the end of `attempt`, collecting its text events.
    fn outcome(rx: &Receiver<(u64, Heard)>, attempt: u64) -> (Vec<String>, Result<String, String>) {
        let mut texts = Vec::new();
        loop {
            let (a, heard) = rx.recv_timeout(Duration::from_secs(10)).expect("an outcome");
            assert_eq!(a, attempt);
            match heard {
                Heard::Text(text) => texts.push(text),
                Heard::Done(result) => return (texts, result),
            }
        }
    }

    fn event(text: &str) -> String {
        format!(
            "data: {{\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{text}\"}},\"finish_reason\":null}}]}}\n\n"
        )
    }

    fn chunked(events: &[String]) -> Vec<String> {
        let mut pieces = vec!["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_string()];
        for e in events {
            pieces.push(format!("{:x}\r\n{e}\r\n", e.len()));
        }
        pieces.push("0\r\n\r\n".into());
        pieces
    }

    fn answer(texts: &[&str]) -> Vec<String> {
        let mut events: Vec<String> = texts.iter().map(|t| event(t)).collect();
        let stop =
            "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";
        events.push(stop.into());
        events.push("data: [DONE]\n\n".into());
        chunked(&events)
    }

    /// A server on 127.0.0.1: connection `i` answers its requests with `script[i]` in turn (the
    /// pieces of an answer written `pause` apart), then is closed; `None` for an answer: read
    /// the request and say nothing until the client goes. Returns the address and the number
    /// of requests each connection read.
    fn server(
        script: Vec<Vec<Option<Vec<String>>>>,
        pause: Duration,
    ) -> (String, thread::JoinHandle<Vec<usize>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let authority = listener.local_addr().unwrap().to_string();
        let handle = thread::spawn(move || {
            let mut seen = Vec::new();
            for answers in script {
                let (mut stream, _) = listener.accept().unwrap();
                stream.set_nodelay(true).unwrap();
                let mut requests = 0;
                for answer in answers {
                    let mut request = Vec::new();
                    let mut byte = [0u8];
                    while !request.ends_with(b"\r\n\r\n{}") {
                        if stream.read(&mut byte).unwrap_or(0) == 0 {
                            break;
                        }
                        request.push(byte[0]);
                    }
                    requests += 1;
                    let Some(pieces) = answer else {
                        let _ = stream.read(&mut byte);
                        break;
                    };
                    for piece in pieces {
                        if stream.write_all(piece.as_bytes()).is_err() {
                            break;
                        }
                        thread::sleep(pause);
                    }
                }
                seen.push(requests);
            }
            seen
        });
        (authority, handle)
    }

    #[test]
    fn answers_stream_in_and_their_connection_is_kept() {
        let first = answer(&["Hel", "lo \\\"wo", "rld\\\"\\n"]);
        let second = answer(&["a", "b", "c", "d"]);
        let (authority, server) =
            server(vec![vec![Some(first), Some(second)]], Duration::from_millis(20));
        let (reactor, rx) = started(Duration::from_secs(5));
        reactor.submit(request(1, &authority, Duration::ZERO, true));
        let (texts, result) = outcome(&rx, 1);
        assert_eq!(result.unwrap(), "Hello \"world\"\n");
        assert_eq!(texts, ["Hel", "lo \"wo", "rld\"\n"]);
        // The answer is reported at `[DONE]`; the body's end follows a pause later, and only
        // then is the connection free again.
        thread::sleep(Duration::from_millis(100));
        // Read in gulps: the same answer, no text events.
        reactor.submit(request(2, &authority, Duration::from_millis(50), false));
        assert_eq!(outcome(&rx, 2), (vec![], Ok("abcd".to_string())));
        drop(reactor);
        assert_eq!(server.join().unwrap(), [2], "both on one connection");
    }

    #[test]
    fn pauses_longer_than_the_gap_lose_nothing() {
        // Each gulp finds one piece, the next point of the grid none: the connection goes from
        // being read at the grid's points back to being woken by arrivals, again and again.
        let pieces = answer(&["a", "b", "c"]);
        let (authority, server) = server(vec![vec![Some(pieces)]], Duration::from_millis(120));
        let (reactor, rx) = started(Duration::from_secs(5));
        reactor.submit(request(1, &authority, Duration::from_millis(30), false));
        assert_eq!(outcome(&rx, 1), (vec![], Ok("abc".to_string())));
        drop(reactor);
        server.join().unwrap();
    }

    #[test]
    fn a_pooled_connection_the_server_closed_is_replaced() {
        let (authority, server) = server(
            vec![vec![Some(answer(&["one"]))], vec![Some(answer(&["two"]))]],
            Duration::ZERO,
        );
        let (reactor, rx) = started(Duration::from_secs(5));
        reactor.submit(request(1, &authority, Duration::ZERO, false));
        assert_eq!(outcome(&rx, 1).1.unwrap(), "one");
        thread::sleep(Duration::from_millis(50));
        reactor.submit(request(2, &authority, Duration::ZERO, false));
        assert_eq!(outcome(&rx, 2).1.unwrap(), "two");
        drop(reactor);
        assert_eq!(server.join().unwrap(), [1, 1]);
    }

    #[test]
    fn refusals_silence_and_dead_ports_are_sorted() {
        let refusal = "{\"error\":{\"message\":\"overloaded\"}}";
        let busy =
            format!("HTTP/1.1 503 Busy\r\nContent-Length: {}\r\n\r\n{refusal}", refusal.len());
        let (authority, server) = server(vec![vec![Some(vec![busy]), None]], Duration::ZERO);
        let (reactor, rx) = started(Duration::from_millis(300));
        reactor.submit(request(1, &authority, Duration::ZERO, false));
        let (_, result) = outcome(&rx, 1);
        assert!(result.unwrap_err().starts_with("Server(\"HTTP 503: overloaded"));
        // The same connection, kept after the refusal; the server says nothing now.
        let start = Instant::now();
        reactor.submit(request(2, &authority, Duration::ZERO, false));
        let (_, result) = outcome(&rx, 2);
        assert!(result.unwrap_err().starts_with("Timeout("));
        assert!(start.elapsed() >= Duration::from_millis(300));
        drop(reactor);
        assert_eq!(server.join().unwrap(), [2]);
        // Nobody listens there any more.
        let (reactor, rx) = started(Duration::from_secs(5));
        reactor.submit(request(3, &authority, Duration::ZERO, false));
        assert!(outcome(&rx, 3).1.unwrap_err().starts_with("Unreachable("));
    }

    #[test]
    fn the_thread_ends_with_its_handle() {
        let (reactor, rx) = started(Duration::from_secs(5));
        drop(reactor);
        // The report (and its sender) goes with the thread.
        assert!(matches!(
            rx.recv_timeout(Duration::from_secs(5)),
            Err(mpsc::RecvTimeoutError::Disconnected)
        ));
    }

    #[test]
    fn a_cancelled_request_ends_at_once() {
        let (authority, server) = server(vec![vec![None]], Duration::ZERO);
        let (reactor, rx) = started(Duration::from_secs(30));
        let r = request(1, &authority, Duration::ZERO, false);
        let cancel = r.cancel.clone();
        reactor.submit(r);
        thread::sleep(Duration::from_millis(100));
        let start = Instant::now();
        cancel.store(true, Ordering::Relaxed);
        reactor.wake();
        assert_eq!(outcome(&rx, 1).1, Err("Cancelled".to_string()));
        assert!(start.elapsed() < Duration::from_secs(1));
        drop(reactor);
        server.join().unwrap();
    }
}
