//! Server-sent events as OpenAI-compatible servers stream them: the `data` of each event.

use std::io::{self, BufRead};

/// Reads events from a response body.
pub struct Events<R> {
    reader: R,
    line: String,
    data: String,
    has_data: bool,
}

impl<R: BufRead> Events<R> {
    pub fn new(reader: R) -> Self {
        Events { reader, line: String::new(), data: String::new(), has_data: false }
    }

    /// The next event's data (several `data:` lines joined with `\n`); `None` at the end of the
    /// stream. Comments (`: keep-alive`), `event:`, `id:` and `retry:` lines are skipped.
    pub fn next_data(&mut self) -> io::Result<Option<&str>> {
        self.data.clear();
        self.has_data = false;
        loop {
            self.line.clear();
            if self.reader.read_line(&mut self.line)? == 0 {
                // A last event without its blank line still counts: servers that close the
                // connection right after `data: [DONE]` are common.
                return Ok(self.has_data.then_some(self.data.as_str()));
            }
            let line = self.line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if self.has_data {
                    return Ok(Some(self.data.as_str()));
                }
                continue;
            }
            if let Some(value) = line.strip_prefix("data") {
                let Some(value) = value.strip_prefix(':').or(value.is_empty().then_some(value))
                else {
                    continue;
                };
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value.strip_prefix(' ').unwrap_or(value));
                self.has_data = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<String> {
        let mut events = Events::new(text.as_bytes());
        let mut out = Vec::new();
        while let Some(d) = events.next_data().unwrap() {
            out.push(d.to_string());
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
}
