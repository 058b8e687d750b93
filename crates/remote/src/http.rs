//! HTTP/1.1 over plain TCP, for `http://` backends (`https://` and proxied ones go through ureq).
//!
//! A server streams an answer as one HTTP chunk per token, ~200 bytes each; ureq copied every
//! body byte from its buffer into ours and looked for a chunk extension a byte at a time, ~1.5 M
//! instructions a DAG, more than validating it (docs/SCALE-OUT.md). Here a body is read into a
//! buffer kept with its connection and handed out where it lies, a chunk's data at a time, so
//! that an event of one chunk is parsed in place. A pooled connection is reused without a
//! probe; if the server had closed it meanwhile (nothing came back), the request goes once more
//! on a new connection.

use std::collections::HashMap;
use std::io::{self, BufRead, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::gapped::Gapped;

/// A connection's read buffer: the response head must fit, and a body is read this much at once.
pub(crate) const BUFFER: usize = 64 << 10;
/// Idle connections kept per server (one per request in flight is the most ever used).
pub(crate) const IDLE_PER_SERVER: usize = 1024;
const MAX_HEADERS: usize = 64;

/// Where `http://` URLs go: host and port, and the path the base URL has.
pub(crate) struct Target<'u> {
    /// `host:port` as in the URL (the `Host` header and the pool's key).
    pub authority: &'u str,
    pub path_prefix: &'u str,
}

impl<'u> Target<'u> {
    /// `None` for what this transport does not do: TLS, credentials in the URL.
    pub fn of(url: &'u str) -> Option<Target<'u>> {
        let rest = url.strip_prefix("http://")?;
        let (authority, path_prefix) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        (!authority.is_empty() && !authority.contains('@'))
            .then_some(Target { authority, path_prefix })
    }

    /// The target of `host:port` (the path prefix does not matter for connecting).
    pub fn of_authority(authority: &'u str) -> Target<'u> {
        Target { authority, path_prefix: "" }
    }

    /// What to connect to: the port is 80 unless the URL says.
    pub fn socket_address(&self) -> String {
        let a = self.authority;
        let has_port = match a.rfind(']') {
            Some(bracket) => a[bracket..].contains(':'),
            None => a.contains(':'),
        };
        if has_port { a.to_string() } else { format!("{a}:80") }
    }
}

struct Connection {
    stream: TcpStream,
    buffer: Box<[u8]>,
}

/// Connections kept open between requests, per server.
pub(crate) struct Transport {
    idle: Mutex<HashMap<String, Vec<Connection>>>,
    connect_timeout: Duration,
    timeout: Duration,
    user_agent: String,
}

/// A response's status line and the headers the client uses.
pub(crate) struct Head {
    pub status: u16,
    pub retry_after: Option<String>,
    pub location: Option<String>,
}

impl Transport {
    /// `timeout`: for each read and write; `connect_timeout`: for connecting.
    pub fn new(timeout: Duration, connect_timeout: Duration, user_agent: String) -> Transport {
        Transport { idle: Mutex::default(), connect_timeout, timeout, user_agent }
    }

    /// Sends a request (`body` for a POST) and reads the response's head; the body is read from
    /// the returned [`Body`], which gives the connection back once read to its end. `gap`: see
    /// `gapped` (zero: every read goes straight through).
    pub fn send(
        self: &Arc<Self>,
        target: &Target<'_>,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
        gap: Duration,
    ) -> io::Result<(Head, Body)> {
        let request = self.request_bytes(target, method, path, headers, body);
        let pooled = self.take_idle(target.authority);
        let reused = pooled.is_some();
        let mut connection = match pooled {
            Some(c) => c,
            None => self.connect(target)?,
        };
        let mut head = exchange(&mut connection, &request);
        // Nothing came back on a reused connection: the server closed it while it was idle
        // (servers do after a few seconds). Once more on a new one.
        if reused && head.as_ref().is_err_and(closed_before_answering) {
            connection = self.connect(target)?;
            head = exchange(&mut connection, &request);
        }
        let Exchanged { head, framing, keep_alive, start, end } = head?;
        let Connection { stream, buffer } = connection;
        let framed = Framed { reader: Some(Gapped::new(stream, gap)), buffer, start, end, framing };
        let body = Body {
            framed,
            keep_alive,
            transport: self.clone(),
            authority: target.authority.to_string(),
        };
        Ok((head, body))
    }

    /// A request as it goes on the wire (`body` for a POST).
    pub fn request_bytes(
        &self,
        target: &Target<'_>,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Vec<u8> {
        let mut request = Vec::with_capacity(256 + body.map_or(0, <[u8]>::len));
        // Writes to a Vec do not fail.
        let _ = write!(
            request,
            "{method} {}{path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\n",
            target.path_prefix, target.authority, self.user_agent
        );
        for (name, value) in headers {
            let _ = write!(request, "{name}: {value}\r\n");
        }
        if let Some(body) = body {
            let _ = write!(request, "Content-Length: {}\r\n\r\n", body.len());
            request.extend_from_slice(body);
        } else {
            request.extend_from_slice(b"\r\n");
        }
        request
    }

    fn take_idle(&self, authority: &str) -> Option<Connection> {
        self.idle.lock().ok()?.get_mut(authority)?.pop()
    }

    fn give_back(&self, authority: String, connection: Connection) {
        if let Ok(mut idle) = self.idle.lock() {
            let kept = idle.entry(authority).or_default();
            if kept.len() < IDLE_PER_SERVER {
                kept.push(connection);
            }
        }
    }

    fn connect(&self, target: &Target<'_>) -> io::Result<Connection> {
        let mut last = None;
        for address in target.socket_address().to_socket_addrs()? {
            match TcpStream::connect_timeout(&address, self.connect_timeout) {
                Ok(stream) => {
                    stream.set_read_timeout(Some(self.timeout))?;
                    stream.set_write_timeout(Some(self.timeout))?;
                    // The request goes in one write; a small one must not wait for an ACK.
                    stream.set_nodelay(true)?;
                    return Ok(Connection { stream, buffer: vec![0; BUFFER].into_boxed_slice() });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, format!("{}: no address", target.authority))
        }))
    }
}

/// An error that says a reused connection had been closed by the server before this request:
/// the request may go again on a new one.
pub(crate) fn closed_before_answering(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

/// A response's head, read.
pub(crate) struct Exchanged {
    pub head: Head,
    pub framing: Framing,
    /// The connection can serve another request once the body is read.
    pub keep_alive: bool,
    /// The body's first bytes, read with the head: `buffer[start..end]`.
    pub start: usize,
    pub end: usize,
}

/// Writes the request and reads the response's head.
fn exchange(connection: &mut Connection, request: &[u8]) -> io::Result<Exchanged> {
    connection.stream.write_all(request)?;
    let mut end = 0;
    loop {
        if let Some(exchanged) = head_in(&mut connection.buffer, &mut end)? {
            return Ok(exchanged);
        }
        let n = connection.stream.read(&mut connection.buffer[end..])?;
        if n == 0 {
            return Err(closed_before_head());
        }
        end += n;
    }
}

/// The response's head in `buffer[..end]`, once it has all arrived (`None`: read more after
/// `end`). Informational responses (100, 103) come before the real one: they are taken out of
/// the buffer.
pub(crate) fn head_in(buffer: &mut [u8], end: &mut usize) -> io::Result<Option<Exchanged>> {
    loop {
        let Some((head, framing, keep_alive, length)) = parse_head(&buffer[..*end])? else {
            if *end == buffer.len() {
                return Err(invalid("the response's headers are too long"));
            }
            return Ok(None);
        };
        if (100..200).contains(&head.status) {
            buffer.copy_within(length..*end, 0);
            *end -= length;
            continue;
        }
        return Ok(Some(Exchanged { head, framing, keep_alive, start: length, end: *end }));
    }
}

/// The head at the start of `bytes`: it, the body's framing, whether the connection can serve
/// another request after the body, and the head's length; `None` when it has not all arrived.
fn parse_head(bytes: &[u8]) -> io::Result<Option<(Head, Framing, bool, usize)>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let length = match response.parse(bytes) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(invalid(&format!("not an HTTP response ({e})"))),
    };
    let status = response.code.unwrap_or(0);
    let mut head = Head { status, retry_after: None, location: None };
    let mut keep_alive = response.version == Some(1);
    let (mut chunked, mut content_length) = (false, None);
    for header in response.headers.iter() {
        let value = || String::from_utf8_lossy(header.value).trim().to_string();
        let name = header.name;
        if name.eq_ignore_ascii_case("transfer-encoding") {
            // Only the last coding frames the body; chunked is the one servers use.
            chunked = value()
                .rsplit(',')
                .next()
                .is_some_and(|c| c.trim().eq_ignore_ascii_case("chunked"));
        } else if name.eq_ignore_ascii_case("content-length") {
            let length = value().parse::<u64>().map_err(|_| invalid("a bad Content-Length"))?;
            content_length = Some(length);
        } else if name.eq_ignore_ascii_case("connection") {
            let value = value();
            if value.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")) {
                keep_alive = false;
            } else if value.split(',').any(|t| t.trim().eq_ignore_ascii_case("keep-alive")) {
                keep_alive = true;
            }
        } else if name.eq_ignore_ascii_case("retry-after") {
            head.retry_after = Some(value());
        } else if name.eq_ignore_ascii_case("location") {
            head.location = Some(value());
        }
    }
    let framing = if (100..200).contains(&status) || status == 204 || status == 304 {
        Framing::Length(0)
    } else if chunked {
        Framing::Chunked(Chunk::Size)
    } else if let Some(length) = content_length {
        Framing::Length(length)
    } else {
        keep_alive = false;
        Framing::UntilClose
    };
    Ok(Some((head, framing, keep_alive, length)))
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_string())
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Framing {
    /// Bytes left.
    Length(u64),
    Chunked(Chunk),
    /// Until the server closes the connection.
    UntilClose,
    /// Read to its end.
    Done,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Chunk {
    /// At a chunk's size line.
    Size,
    /// In a chunk's data, bytes left.
    Data(u64),
    /// At the line end after a chunk's data.
    DataEnd,
    /// After the last chunk: trailer lines up to an empty one.
    Trailer,
}

/// A response body, read where it lies in the connection's buffer; the connection goes back to
/// the pool when the body has been read to its end.
pub(crate) struct Body {
    framed: Framed<Gapped<TcpStream>>,
    keep_alive: bool,
    transport: Arc<Transport>,
    authority: String,
}

impl Body {
    /// Reads go straight through from now on (the rest is read to its end at once).
    pub fn stop_waiting(&mut self) {
        if let Some(reader) = &mut self.framed.reader {
            reader.stop_waiting();
        }
    }

    fn give_back(&mut self) {
        if !self.keep_alive {
            return;
        }
        if let Some((reader, buffer)) = self.framed.take_reusable() {
            let connection = Connection { stream: reader.into_inner(), buffer };
            self.transport.give_back(std::mem::take(&mut self.authority), connection);
        }
    }
}

impl BufRead for Body {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let available = self.framed.available()?;
        if available.is_empty() {
            self.give_back();
        }
        Ok(&self.framed.buffer[available])
    }

    fn consume(&mut self, amount: usize) {
        self.framed.consume(amount);
    }
}

impl Read for Body {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        read_buffered(self, out)
    }
}

/// `Read::read` of a reader whose bytes come from its `BufRead` side.
fn read_buffered(reader: &mut impl BufRead, out: &mut [u8]) -> io::Result<usize> {
    let available = reader.fill_buf()?;
    let n = available.len().min(out.len());
    out[..n].copy_from_slice(&available[..n]);
    reader.consume(n);
    Ok(n)
}

/// A body's bytes without its framing (`Content-Length`, chunked, or up to the end), handed
/// out where they lie in the buffer: a chunk's data at a time.
pub(crate) struct Framed<R> {
    /// `None` once the connection is gone (back to the pool, or closed by the server).
    reader: Option<R>,
    buffer: Box<[u8]>,
    /// Unread bytes: `buffer[start..end]`, framing included.
    start: usize,
    end: usize,
    framing: Framing,
}

impl<R> Framed<R> {
    /// A body framed so, whose first bytes (read with the head) are `buffer[start..end]`.
    pub fn new(reader: R, buffer: Box<[u8]>, start: usize, end: usize, framing: Framing) -> Self {
        Framed { reader: Some(reader), buffer, start, end, framing }
    }

    /// The reader, when it is still open (not read to its close).
    pub fn reader_mut(&mut self) -> Option<&mut R> {
        self.reader.as_mut()
    }

    /// The connection and its buffer, when the body has been read to its end and nothing
    /// follows it: ready for another request.
    pub fn take_reusable(&mut self) -> Option<(R, Box<[u8]>)> {
        let at_end = self.framing == Framing::Done && self.start == self.end;
        at_end.then_some(())?;
        Some((self.reader.take()?, std::mem::take(&mut self.buffer)))
    }
}

impl<R: Read> BufRead for Framed<R> {
    #[inline]
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let available = match self.at_hand() {
            Some(available) => available,
            None => self.available()?,
        };
        Ok(&self.buffer[available])
    }

    fn consume(&mut self, amount: usize) {
        Framed::consume(self, amount);
    }
}

impl<R: Read> Read for Framed<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        read_buffered(self, out)
    }
}

impl<R: Read> Framed<R> {
    /// Reads more into the buffer; `Ok(false)` at the connection's end.
    fn refill(&mut self) -> io::Result<bool> {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        } else if self.end == self.buffer.len() {
            if self.start == 0 {
                return Err(invalid("a chunk's size line is too long"));
            }
            self.buffer.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
        }
        let Some(reader) = &mut self.reader else { return Ok(false) };
        let n = reader.read(&mut self.buffer[self.end..])?;
        self.end += n;
        Ok(n > 0)
    }

    /// The next line of framing (a size line, a data's line end, a trailer line): where it
    /// ends without its line end, and where the next begins.
    fn framing_line(&mut self) -> io::Result<(usize, usize)> {
        loop {
            if let Some(at) = memchr::memchr(b'\n', &self.buffer[self.start..self.end]) {
                let line_end = self.start + at;
                let without_cr = if at > 0 && self.buffer[line_end - 1] == b'\r' {
                    line_end - 1
                } else {
                    line_end
                };
                return Ok((without_cr, line_end + 1));
            }
            if !self.refill()? {
                return Err(cut_short());
            }
        }
    }

    /// Where the body's next bytes lie when they are data in the buffer already: nearly every
    /// time (a call per event), and found without the rest of [`available`](Self::available),
    /// which is kept out of line so that this is all a caller has inlined.
    fn at_hand(&self) -> Option<std::ops::Range<usize>> {
        let (Framing::Length(left) | Framing::Chunked(Chunk::Data(left))) = self.framing else {
            return None;
        };
        let n = left.min((self.end - self.start) as u64) as usize;
        (n > 0).then_some(self.start..self.start + n)
    }

    /// Where the body's next bytes lie in the buffer; empty at its end.
    #[inline(never)]
    fn available(&mut self) -> io::Result<std::ops::Range<usize>> {
        loop {
            let available = (self.end - self.start) as u64;
            match self.framing {
                Framing::Done => return Ok(0..0),
                Framing::Length(0) => self.framing = Framing::Done,
                Framing::Length(left) | Framing::Chunked(Chunk::Data(left)) => {
                    if available == 0 {
                        if !self.refill()? {
                            return Err(cut_short());
                        }
                        continue;
                    }
                    let n = left.min(available) as usize;
                    return Ok(self.start..self.start + n);
                }
                Framing::UntilClose => {
                    if available == 0 && !self.refill()? {
                        self.framing = Framing::Done;
                        self.reader = None;
                        return Ok(0..0);
                    }
                    return Ok(self.start..self.end);
                }
                Framing::Chunked(Chunk::Size) => {
                    // The usual size line, `hex\r\n`, read in place; anything else (an
                    // extension, a bare `\n`, a line not all here yet) by lines.
                    let (size, next) = match quick_size_line(&self.buffer[self.start..self.end]) {
                        Some((size, length)) => (size, self.start + length),
                        None => {
                            let (line_end, next) = self.framing_line()?;
                            (size_line(&self.buffer[self.start..line_end])?, next)
                        }
                    };
                    self.start = next;
                    self.framing = Framing::Chunked(if size == 0 {
                        Chunk::Trailer
                    } else {
                        Chunk::Data(size)
                    });
                }
                Framing::Chunked(Chunk::DataEnd) => {
                    if self.buffer[self.start..self.end].starts_with(b"\r\n") {
                        self.start += 2;
                        self.framing = Framing::Chunked(Chunk::Size);
                        continue;
                    }
                    let (line_end, next) = self.framing_line()?;
                    if line_end != self.start {
                        return Err(invalid("a chunk longer than its size"));
                    }
                    self.start = next;
                    self.framing = Framing::Chunked(Chunk::Size);
                }
                Framing::Chunked(Chunk::Trailer) => {
                    let (line_end, next) = self.framing_line()?;
                    let empty = line_end == self.start;
                    self.start = next;
                    if empty {
                        self.framing = Framing::Done;
                    }
                }
            }
        }
    }

    pub fn consume(&mut self, amount: usize) {
        self.start += amount;
        match &mut self.framing {
            Framing::Length(left) => *left -= amount as u64,
            Framing::Chunked(Chunk::Data(left)) => {
                *left -= amount as u64;
                if *left == 0 {
                    self.framing = Framing::Chunked(Chunk::DataEnd);
                }
            }
            _ => {}
        }
    }
}

/// A chunk's size and the length of its line, when `bytes` starts with a whole `hex\r\n`.
fn quick_size_line(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut size = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(17) {
        let digit = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            b'\r' if i > 0 && bytes.get(i + 1) == Some(&b'\n') => return Some((size, i + 2)),
            _ => return None,
        };
        size = size << 4 | u64::from(digit);
    }
    None
}

/// A chunk's size from its line (`hex`, then perhaps `;extension`), line end excluded.
fn size_line(line: &[u8]) -> io::Result<u64> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    std::str::from_utf8(&line[..digits])
        .ok()
        .and_then(|d| u64::from_str_radix(d, 16).ok())
        .ok_or_else(|| invalid("a bad chunk size"))
}

pub(crate) fn closed_before_head() -> io::Error {
    let message = "the connection closed before the response's headers ended";
    io::Error::new(io::ErrorKind::UnexpectedEof, message)
}

fn cut_short() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "the connection closed before the response ended")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gapped::tests::Packets;
    use std::net::TcpListener;
    use std::thread;

    /// The body of `wire` (what follows the head) framed so, read whole, `piece` bytes per
    /// read into a buffer of `capacity`; and what is left unread after its end.
    fn read_body(
        wire: &[u8],
        framing: Framing,
        piece: usize,
        capacity: usize,
    ) -> io::Result<(Vec<u8>, usize)> {
        let pieces = wire.chunks(piece).map(<[u8]>::to_vec).collect();
        let mut framed = Framed {
            reader: Some(Packets(pieces)),
            buffer: vec![0; capacity].into_boxed_slice(),
            start: 0,
            end: 0,
            framing,
        };
        let mut body = Vec::new();
        loop {
            let bytes = framed.fill_buf()?;
            if bytes.is_empty() {
                break;
            }
            let n = bytes.len();
            body.extend_from_slice(bytes);
            framed.consume(n);
        }
        Ok((body, framed.end - framed.start))
    }

    const CHUNKED: &[u8] =
        b"7\r\ndata: a\r\n19;name=value\r\n\n\ndata: {\"b\":\"\xc3\xa9\"}\n\ndata:\r\n0\r\nX-Trailer: 1\r\n\r\n";

    #[test]
    fn chunked_bodies_read_the_same_however_they_arrive() {
        let expected = b"data: a\n\ndata: {\"b\":\"\xc3\xa9\"}\n\ndata:".to_vec();
        for capacity in [20, 33, 64, 4096] {
            for piece in 1..=CHUNKED.len() {
                let read = read_body(CHUNKED, Framing::Chunked(Chunk::Size), piece, capacity);
                let (body, left) = read.unwrap_or_else(|e| panic!("{piece}/{capacity}: {e}"));
                assert_eq!(body, expected, "pieces of {piece}, buffer of {capacity}");
                assert_eq!(left, 0);
            }
        }
        // A chunk's data is handed out as one piece when it has arrived whole.
        let mut framed = Framed {
            reader: Some(Packets(vec![CHUNKED.to_vec()])),
            buffer: vec![0; 4096].into_boxed_slice(),
            start: 0,
            end: 0,
            framing: Framing::Chunked(Chunk::Size),
        };
        assert_eq!(framed.fill_buf().unwrap(), b"data: a");
        framed.consume(7);
        assert_eq!(framed.fill_buf().unwrap(), b"\n\ndata: {\"b\":\"\xc3\xa9\"}\n\ndata:");
    }

    #[test]
    fn bad_or_cut_bodies_are_errors() {
        let chunked = Framing::Chunked(Chunk::Size);
        let kind = |wire: &[u8], framing| read_body(wire, framing, 5, 64).unwrap_err().kind();
        assert_eq!(kind(b"zz\r\nab\r\n0\r\n\r\n", chunked), io::ErrorKind::InvalidData);
        assert_eq!(kind(b"2\r\nabc\r\n0\r\n\r\n", chunked), io::ErrorKind::InvalidData);
        assert_eq!(kind(b"5\r\nab", chunked), io::ErrorKind::UnexpectedEof);
        assert_eq!(kind(b"2\r\nab\r\n", chunked), io::ErrorKind::UnexpectedEof);
        assert_eq!(kind(b"abc", Framing::Length(5)), io::ErrorKind::UnexpectedEof);
        let long_line = [b"1".repeat(100), b"\r\n".to_vec()].concat();
        assert_eq!(kind(&long_line, chunked), io::ErrorKind::InvalidData);
        // A length frames the body; what follows it is left unread.
        assert_eq!(read_body(b"abcdef", Framing::Length(4), 2, 64).unwrap(), (b"abcd".to_vec(), 0));
        assert_eq!(read_body(b"abcdef", Framing::Length(4), 6, 64).unwrap(), (b"abcd".to_vec(), 2));
        assert_eq!(read_body(b"abcdef", Framing::UntilClose, 4, 64).unwrap().0, b"abcdef");
    }

    #[test]
    fn heads_say_how_the_body_is_framed() {
        let head = |text: &str| parse_head(text.as_bytes()).unwrap();
        let (h, framing, keep_alive, length) =
            head("HTTP/1.1 429 Too Many\r\nRetry-After: 3\r\nContent-Length: 2\r\n\r\nab").unwrap();
        assert_eq!((h.status, h.retry_after.as_deref()), (429, Some("3")));
        assert_eq!((framing, keep_alive, length), (Framing::Length(2), true, 60));
        let chunked =
            "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, Chunked\r\nConnection: close\r\n\r\n";
        assert_eq!(head(chunked).unwrap().1, Framing::Chunked(Chunk::Size));
        assert!(!head(chunked).unwrap().2);
        let old = head("HTTP/1.0 200 OK\r\n\r\n").unwrap();
        assert_eq!((old.1, old.2), (Framing::UntilClose, false));
        assert_eq!(head("HTTP/1.1 204 No Content\r\n\r\n").unwrap().1, Framing::Length(0));
        assert!(head("HTTP/1.1 200 OK\r\nContent-Le").is_none());
        assert!(parse_head(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n").is_err());
    }

    #[test]
    fn urls_name_what_to_connect_to() {
        let t = Target::of("http://gpu-1:8000/proxy/vllm").unwrap();
        assert_eq!((t.authority, t.path_prefix), ("gpu-1:8000", "/proxy/vllm"));
        assert_eq!(t.socket_address(), "gpu-1:8000");
        assert_eq!(Target::of("http://host").unwrap().socket_address(), "host:80");
        assert_eq!(Target::of("http://[::1]").unwrap().socket_address(), "[::1]:80");
        assert_eq!(Target::of("http://[::1]:81").unwrap().socket_address(), "[::1]:81");
        assert!(Target::of("https://host").is_none());
        assert!(Target::of("http://user:pw@host").is_none());
    }

    /// A server on 127.0.0.1: connection `i` answers its requests with `script[i]` in turn and is
    /// then closed. Returns the URL and, when joined, the requests each connection read.
    fn scripted(script: Vec<Vec<&'static str>>) -> (String, thread::JoinHandle<Vec<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = thread::spawn(move || {
            let mut seen = Vec::new();
            for answers in script {
                let (mut stream, _) = listener.accept().unwrap();
                let mut requests = Vec::new();
                for answer in answers {
                    let mut request = Vec::new();
                    let mut byte = [0u8];
                    while !request.ends_with(b"\r\n\r\n") {
                        if stream.read(&mut byte).unwrap() == 0 {
                            break;
                        }
                        request.push(byte[0]);
                    }
                    let text = String::from_utf8(request).unwrap();
                    let length = text
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .map_or(0, |n| n.parse::<usize>().unwrap());
                    let mut body = vec![0; length];
                    stream.read_exact(&mut body).unwrap();
                    requests.push(text + &String::from_utf8(body).unwrap());
                    stream.write_all(answer.as_bytes()).unwrap();
                }
                seen.push(requests);
            }
            seen
        });
        (url, server)
    }

    fn transport() -> Arc<Transport> {
        let second = Duration::from_secs(5);
        Arc::new(Transport::new(second, second, "dagsmith/test".into()))
    }

    fn get(transport: &Arc<Transport>, url: &str, path: &str) -> (u16, String) {
        let target = Target::of(url).unwrap();
        let (head, mut body) =
            transport.send(&target, "GET", path, &[], None, Duration::ZERO).unwrap();
        let mut text = String::new();
        body.read_to_string(&mut text).unwrap();
        (head.status, text)
    }

    #[test]
    fn connections_are_kept_and_a_closed_one_is_replaced() {
        let keep = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\none\r\n0\r\n\r\n";
        let (url, server) = scripted(vec![
            vec![
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
                keep,
            ],
            // Closed after one answer though it said nothing: the next request finds it closed.
            vec!["HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nhi"],
            vec!["HTTP/1.1 503 Busy\r\nConnection: close\r\n\r\ngone"],
        ]);
        let transport = transport();
        assert_eq!(get(&transport, &url, "/a"), (200, "abc".into()));
        assert_eq!(get(&transport, &url, "/b"), (200, "one".into()));
        // A body not read to its end keeps its connection: the next request opens another.
        let target = Target::of(&url).unwrap();
        let posted =
            transport.send(&target, "POST", "/c", &[("X-Key", "k")], Some(b"{}"), Duration::ZERO);
        let (head, body) = posted.unwrap();
        assert_eq!(head.status, 201);
        drop(body);
        // Waits for the server's close to arrive, then reuses nothing: the pool is empty.
        assert_eq!(get(&transport, &url, "/d"), (503, "gone".into()));
        let seen = server.join().unwrap();
        assert_eq!(seen.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1, 1]);
        assert!(seen[0][0].starts_with("GET /a HTTP/1.1\r\nHost: 127.0.0.1:"));
        assert!(seen[0][0].contains("\r\nUser-Agent: dagsmith/test\r\n"));
        assert!(seen[1][0].starts_with("POST /c HTTP/1.1\r\n"));
        assert!(seen[1][0].ends_with("X-Key: k\r\nContent-Length: 2\r\n\r\n{}"));
    }

    #[test]
    fn a_pooled_connection_the_server_closed_is_replaced() {
        let (url, server) = scripted(vec![
            vec!["HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1"],
            vec!["HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2"],
        ]);
        let transport = transport();
        assert_eq!(get(&transport, &url, "/"), (200, "1".into()));
        thread::sleep(Duration::from_millis(50));
        assert_eq!(get(&transport, &url, "/"), (200, "2".into()));
        assert_eq!(server.join().unwrap().len(), 2);
    }
}
