//! Server-sent events as OpenAI-compatible servers stream them: the `data` of each event.

use std::io::{self, BufRead, Read};

/// An event longer than this is an error, not a reason to run out of memory (a server's event
/// is a token's chunk, a few hundred bytes).
const MAX_EVENT: usize = 16 << 20;

/// Reads events from a response body.
pub struct Events<R> {
    reader: R,
    line: Vec<u8>,
    data: Vec<u8>,
    has_data: bool,
    /// Bytes of the reader's buffer that the last event returned was read from in place, to
    /// be consumed before the next.
    in_place: usize,
    /// An event is half read (`data`, and in `line` a line not ended yet): a read of a
    /// non-blocking reader said `WouldBlock` in the middle of it, and the next call goes on.
    partial: bool,
}

impl<R: BufRead> Events<R> {
    pub fn new(reader: R) -> Self {
        Events {
            reader,
            line: Vec::new(),
            data: Vec::new(),
            has_data: false,
            in_place: 0,
            partial: false,
        }
    }

    /// The reader the events come from.
    pub fn reader_mut(&mut self) -> &mut R {
        &mut self.reader
    }

    pub fn into_reader(self) -> R {
        self.reader
    }

    /// The next event's data (several `data:` lines joined with `\n`); `None` at the end of the
    /// stream. Comments (`: keep-alive`), `event:`, `id:` and `retry:` lines are skipped.
    /// Bytes, not checked as UTF-8: a server sends an event per token, and its reader checks
    /// only the bytes that differ from the last event's (see `chunk::Reader`). An error of the
    /// reader (`WouldBlock` too) loses nothing: the next call goes on where this one stopped.
    pub fn next_data(&mut self) -> io::Result<Option<&[u8]>> {
        self.reader.consume(std::mem::take(&mut self.in_place));
        if !self.partial {
            // The usual event, `data: {...}\n\n`, read where it lies in the buffer (a server
            // sends one per token): no copy.
            let buffer = self.reader.fill_buf()?;
            if let Some(range) = single_line_event(buffer) {
                self.in_place = range.end + 2;
                return Ok(Some(self.reader.fill_buf()?.get(range).unwrap_or_default()));
            }
            self.data.clear();
            self.line.clear();
            self.has_data = false;
            self.partial = true;
        }
        loop {
            // A line cut by an error stays in `line` (read_until keeps what it read).
            let room = (MAX_EVENT + 1).saturating_sub(self.line.len() + self.data.len());
            let read = self.reader.by_ref().take(room as u64).read_until(b'\n', &mut self.line)?;
            if self.line.len() + self.data.len() > MAX_EVENT {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "an event of the answer's stream is longer than {} MiB",
                        MAX_EVENT >> 20
                    ),
                ));
            }
            if read == 0 && self.line.is_empty() {
                // A last event without its blank line still counts: servers that close the
                // connection right after `data: [DONE]` are common.
                self.partial = false;
                return Ok(self.has_data.then_some(self.data.as_slice()));
            }
            let ended = add_line(&mut self.data, &mut self.has_data, &self.line);
            self.line.clear();
            if ended {
                self.partial = false;
                return Ok(Some(&self.data));
            }
        }
    }
}

/// One line of an event: a `data` line's value appended to `data`. Whether the line ends an
/// event that has data (a blank line).
fn add_line(data: &mut Vec<u8>, has_data: &mut bool, line: &[u8]) -> bool {
    let mut line = line;
    while let [rest @ .., b'\n' | b'\r'] = line {
        line = rest;
    }
    if line.is_empty() {
        return *has_data;
    }
    if let Some(value) = line.strip_prefix(b"data")
        && let Some(value) = value.strip_prefix(b":").or(value.is_empty().then_some(value))
    {
        if *has_data {
            data.push(b'\n');
        }
        data.extend_from_slice(value.strip_prefix(b" ").unwrap_or(value));
        *has_data = true;
    }
    false
}

/// Where the value of a `data:` line is, when `buffer` starts with an event of that one line
/// ended by `\n\n`.
fn single_line_event(buffer: &[u8]) -> Option<std::ops::Range<usize>> {
    // A `\r` is a line end too: such streams take the general path.
    let end = memchr::memchr2(b'\n', b'\r', buffer)?;
    if buffer[end] != b'\n' || buffer.get(end + 1) != Some(&b'\n') {
        return None;
    }
    let value = buffer[..end].strip_prefix(b"data:")?;
    let start = end - value.len() + usize::from(value.first() == Some(&b' '));
    Some(start..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<String> {
        let mut events = Events::new(text.as_bytes());
        let mut out = Vec::new();
        while let Some(d) = events.next_data().unwrap() {
            out.push(String::from_utf8(d.to_vec()).unwrap());
        }
        out
    }

    #[test]
    fn reads_data_of_each_event() {
        let text = ": keep-alive\n\ndata: {\"a\":1}\n\nevent: x\ndata:two\ndata: lines\r\n\r\ndata: [DONE]";
        assert_eq!(all(text), ["{\"a\":1}", "two\nlines", "[DONE]"]);
        assert_eq!(all("datafoo: x\n\n"), Vec::<String>::new());
        assert!(all("").is_empty());
    }

    #[test]
    fn events_read_in_place_or_not_are_the_same_wherever_the_buffer_ends() {
        let text = "data: {\"a\":1}\n\ndata: {\"b\":\"é\"}\n\n: ping\n\ndata:x\n\ndata: two\ndata: lines\n\ndata: cr\r\n\r\ndata: [DONE]\n\n";
        let expected = ["{\"a\":1}", "{\"b\":\"é\"}", "x", "two\nlines", "cr", "[DONE]"];
        assert_eq!(all(text), expected);
        for capacity in 1..text.len() + 2 {
            let mut events =
                Events::new(std::io::BufReader::with_capacity(capacity, text.as_bytes()));
            let mut out = Vec::new();
            while let Some(d) = events.next_data().unwrap() {
                out.push(String::from_utf8(d.to_vec()).unwrap());
            }
            assert_eq!(out, expected, "buffer of {capacity}");
        }
    }

    /// A non-blocking reader: every other read has nothing yet.
    struct Stuttering<'a> {
        text: &'a [u8],
        ready: bool,
    }

    impl std::io::Read for Stuttering<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.ready = !self.ready;
            if !self.ready {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            let n = buf.len().min(self.text.len()).min(3);
            buf[..n].copy_from_slice(&self.text[..n]);
            self.text = &self.text[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_reader_with_nothing_yet_loses_nothing() {
        let text = "data: {\"a\":1}\n\n: ping\n\ndata: two\ndata: lines\r\n\r\ndata: [DONE]";
        for capacity in 1..8 {
            let reader = Stuttering { text: text.as_bytes(), ready: false };
            let mut events = Events::new(std::io::BufReader::with_capacity(capacity, reader));
            let mut out = Vec::new();
            loop {
                match events.next_data() {
                    Ok(Some(d)) => out.push(String::from_utf8(d.to_vec()).unwrap()),
                    Ok(None) => break,
                    Err(e) => assert_eq!(e.kind(), io::ErrorKind::WouldBlock),
                }
            }
            assert_eq!(out, ["{\"a\":1}", "two\nlines", "[DONE]"], "buffer of {capacity}");
        }
    }

    #[test]
    fn an_endless_event_is_an_error() {
        let endless = std::io::BufReader::new(std::io::repeat(b'a'));
        let mut events = Events::new(endless);
        let error = events.next_data().unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        let endless = std::io::BufReader::new(b"data: ".chain(std::io::repeat(b'a')));
        assert!(Events::new(endless).next_data().is_err());
    }
}
