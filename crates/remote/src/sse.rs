//! Server-sent events as OpenAI-compatible servers stream them: the `data` of each event.

use std::io::{self, BufRead};

/// Reads events from a response body.
pub struct Events<R> {
    reader: R,
    line: Vec<u8>,
    data: Vec<u8>,
    has_data: bool,
    /// Bytes of the reader's buffer that the last event returned was read from in place, to
    /// be consumed before the next.
    in_place: usize,
}

impl<R: BufRead> Events<R> {
    pub fn new(reader: R) -> Self {
        Events { reader, line: Vec::new(), data: Vec::new(), has_data: false, in_place: 0 }
    }

    /// The reader the events come from.
    pub fn reader_mut(&mut self) -> &mut R {
        &mut self.reader
    }

    /// The next event's data (several `data:` lines joined with `\n`); `None` at the end of the
    /// stream. Comments (`: keep-alive`), `event:`, `id:` and `retry:` lines are skipped.
    /// Bytes, not checked as UTF-8: a server sends an event per token, and its reader checks
    /// only the bytes that differ from the last event's (see `chunk::Reader`).
    pub fn next_data(&mut self) -> io::Result<Option<&[u8]>> {
        self.reader.consume(std::mem::take(&mut self.in_place));
        // The usual event, `data: {...}\n\n`, read where it lies in the buffer (a server sends
        // one per token): no copy.
        let buffer = self.reader.fill_buf()?;
        if let Some(range) = single_line_event(buffer) {
            self.in_place = range.end + 2;
            return Ok(Some(self.reader.fill_buf()?.get(range).unwrap_or_default()));
        }
        self.data.clear();
        self.has_data = false;
        loop {
            self.line.clear();
            if self.reader.read_until(b'\n', &mut self.line)? == 0 {
                // A last event without its blank line still counts: servers that close the
                // connection right after `data: [DONE]` are common.
                return Ok(self.has_data.then_some(self.data.as_slice()));
            }
            let mut line = self.line.as_slice();
            while let [rest @ .., b'\n' | b'\r'] = line {
                line = rest;
            }
            if line.is_empty() {
                if self.has_data {
                    return Ok(Some(&self.data));
                }
                continue;
            }
            if let Some(value) = line.strip_prefix(b"data") {
                let Some(value) = value.strip_prefix(b":").or(value.is_empty().then_some(value))
                else {
                    continue;
                };
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value.strip_prefix(b" ").unwrap_or(value));
                self.has_data = true;
            }
        }
    }
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
}
