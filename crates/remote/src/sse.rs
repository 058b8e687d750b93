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

    /// The next event's data when it is the usual event, a `data:` line ended by `\n\n`, whose
    /// value `measure` knows the length of: `measure` gets the reader's buffer from the value on
    /// and says how long the value is, for one with no line end (`\n`, `\r`) in it. No search
    /// for the line end then: it is only checked where `measure` says. `None` for any other
    /// event, which [`next_data`](Self::next_data) then reads line by line, as it reads an event
    /// not in the buffer whole (the buffer is not filled twice for one event: a non-blocking
    /// reader's second read could say `WouldBlock` where the first said the stream ended). What
    /// `measure` returns besides the length comes with the data.
    pub fn next_known<T>(
        &mut self,
        measure: impl FnOnce(&[u8]) -> Option<(usize, T)>,
    ) -> io::Result<Option<(&[u8], T)>> {
        self.reader.consume(std::mem::take(&mut self.in_place));
        if self.partial {
            return Ok(None);
        }
        let buffer = self.reader.fill_buf()?;
        let value = buffer.strip_prefix(b"data:").map(|v| v.strip_prefix(b" ").unwrap_or(v));
        let known = value.and_then(|value| {
            let (length, known) = measure(value)?;
            let ended = value.get(length..)?.starts_with(b"\n\n");
            ended.then(|| (&value[..length], buffer.len() - value.len() + length + 2, known))
        });
        let Some((data, event_length, known)) = known else {
            // (The fields, not a method: the buffer stays borrowed for the data returned.)
            self.data.clear();
            self.line.clear();
            self.has_data = false;
            self.partial = true;
            return Ok(None);
        };
        self.in_place = event_length;
        Ok(Some((data, known)))
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
pub(crate) mod tests {
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
    pub(crate) struct Stuttering<'a> {
        pub text: &'a [u8],
        pub ready: bool,
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

    /// The events of `events`, each read where it lies when `measure` knows it (marked `+`),
    /// else by `next_data`; a `WouldBlock` is tried again.
    fn known_or_not<R: BufRead>(
        mut events: Events<R>,
        measure: impl Fn(&[u8]) -> Option<(usize, ())>,
    ) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let read = match events.next_known(&measure) {
                Ok(Some((d, ()))) => Ok(Some(format!("+{}", String::from_utf8_lossy(d)))),
                Ok(None) => {
                    events.next_data().map(|d| d.map(|d| String::from_utf8_lossy(d).into()))
                }
                Err(e) => Err(e),
            };
            match read {
                Ok(Some(d)) => out.push(d),
                Ok(None) => return out,
                Err(e) => assert_eq!(e.kind(), io::ErrorKind::WouldBlock),
            }
        }
    }

    #[test]
    fn events_known_by_their_length_are_read_as_any_other() {
        let text = "data: {\"a\":1}\n\ndata: {\"b\":\"é\"}\n\n: ping\n\ndata:x\n\ndata: two\ndata: lines\n\ndata: cr\r\n\r\ndata:  sp\n\ndata: {\"a\":1}\n\ndata: {\"a\":2}\n\ndata: [DONE]\n\n";
        // Up to the first control byte (a line end included), as a chunk's shape would say.
        let up_to_control = |v: &[u8]| Some((v.iter().position(|&b| b < 0x20)?, ()));
        // Short of the line end: what follows is not the event's end, which is then searched.
        let short = |v: &[u8]| Some((v.iter().position(|&b| b < 0x20)?.checked_sub(1)?, ()));
        // Only the first event is known.
        let first = |v: &[u8]| v.starts_with(b"{\"a\":1}").then_some((7, ()));
        let plain = |out: Vec<String>| -> Vec<String> {
            out.into_iter().map(|d| d.strip_prefix('+').map(str::to_string).unwrap_or(d)).collect()
        };
        let expected = all(text);
        for capacity in 1..text.len() + 2 {
            let events =
                || Events::new(std::io::BufReader::with_capacity(capacity, text.as_bytes()));
            assert_eq!(plain(known_or_not(events(), up_to_control)), expected, "{capacity}");
            assert_eq!(known_or_not(events(), short), expected, "{capacity}");
            assert_eq!(plain(known_or_not(events(), first)), expected, "{capacity}");
            let stuttering = Stuttering { text: text.as_bytes(), ready: false };
            let events = Events::new(std::io::BufReader::with_capacity(capacity, stuttering));
            assert_eq!(plain(known_or_not(events, up_to_control)), expected, "{capacity}");
        }
        // Read where they lie: the single-line events ended by `\n\n` (with the whole text in the
        // buffer), not the others, nor `x`, read by lines with the comment before it.
        let known = known_or_not(Events::new(text.as_bytes()), up_to_control);
        let taken: Vec<_> = known.iter().filter_map(|d| d.strip_prefix('+')).collect();
        assert_eq!(
            taken,
            ["{\"a\":1}", "{\"b\":\"é\"}", " sp", "{\"a\":1}", "{\"a\":2}", "[DONE]"]
        );
        let first_only = known_or_not(Events::new(text.as_bytes()), first);
        assert_eq!(first_only.iter().filter(|d| d.starts_with('+')).count(), 2);
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
