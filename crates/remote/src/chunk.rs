//! One streamed chat-completion chunk (`data: {...}` of the answer's event stream).
//!
//! Servers stream a chunk per token, so a DAG's answer is a thousand or more of them, and
//! reading them through serde_json cost the client more than fixing and validating the DAG.
//! The fields dagsmith reads are picked out by a small scanner that skips the rest; a chunk it
//! does not expect (an error, a `\u` escape, a number where a count should be, JSON it cannot
//! follow) is read by serde_json instead, so every chunk means what serde_json says it means.

use serde::Deserialize;
use serde_json::Value;

// Every field may be missing (servers differ in what they send): it then takes its default.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub(crate) struct Chunk {
    pub choices: Vec<Choice>,
    pub usage: Option<Usage>,
    pub error: Option<Value>,
}

#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub(crate) struct Choice {
    pub index: u32,
    pub delta: Option<Delta>,
    pub finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub(crate) struct Delta {
    pub content: Option<String>,
}

#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub(crate) struct Usage {
    pub prompt_tokens: Option<u32>,
    pub completion_tokens: Option<u32>,
}

/// Reads the chunks of one answer's stream.
///
/// A server's chunks differ, token after token, only in the text of `content`: a chunk that is
/// the last one read with another (well-formed) text between the same bytes before and after
/// means the same with that text, which takes a comparison of the two ends to see.
#[derive(Default)]
pub(crate) struct Reader {
    /// The last chunk read up to its content's text, and from the quote that ends it; empty
    /// when that chunk was not a plain piece of text.
    before: String,
    after: String,
}

impl Reader {
    /// The chunk `data` holds; `None` when it was only a piece of the answer's text, which is
    /// then appended to `text` (no chunk is built for the usual chunk).
    pub fn read(
        &mut self,
        data: &[u8],
        text: &mut String,
    ) -> Result<Option<Chunk>, serde_json::Error> {
        if self.same_shape(data, text) {
            return Ok(None);
        }
        self.before.clear();
        self.after.clear();
        let Ok(data) = std::str::from_utf8(data) else {
            // Not UTF-8: serde_json says what is wrong with it.
            return serde_json::from_slice(data).map(Some);
        };
        let Some((chunk, content_at)) = Scanner::scan(data) else {
            return serde_json::from_str(data).map(Some);
        };
        if let Some((start, end)) = content_at
            && chunk.text().is_some()
        {
            self.before.push_str(&data[..start]);
            self.after.push_str(&data[end..]);
        }
        Ok(Some(chunk))
    }

    /// Whether `data` is shaped like the last chunk read; then its text, decoded, is appended
    /// to `text`.
    fn same_shape(&self, data: &[u8], text: &mut String) -> bool {
        self.measure(data).is_some_and(|(len, at)| len == data.len() && append_text(data, at, text))
    }

    /// The length of the chunk `bytes` starts with, and where its text is, when that chunk is
    /// shaped like the last one read: the same bytes before and after its text, and a text with
    /// no control byte in it (JSON allows none), so no line end either. Nothing past the chunk
    /// is looked at: an event's reader learns from it where the event should end.
    pub fn measure(&self, bytes: &[u8]) -> Option<(usize, TextAt)> {
        if self.before.is_empty() {
            return None;
        }
        let start = self.before.len();
        if bytes.get(..start)? != self.before.as_bytes() {
            return None;
        }
        // The text runs to its first unescaped quote.
        let rest = &bytes[start..];
        let (mut i, mut escaped, mut ascii) = (0, false, true);
        loop {
            match *rest.get(i)? {
                b'"' => break,
                b'\\' if *rest.get(i + 1)? >= 0x20 => (i, escaped) = (i + 2, true),
                0..=0x1f | b'\\' => return None,
                b => (i, ascii) = (i + 1, ascii & b.is_ascii()),
            }
        }
        let end = start + i;
        let at = TextAt { start, end, escaped, ascii };
        bytes[end..].starts_with(self.after.as_bytes()).then_some((end + self.after.len(), at))
    }
}

/// Where the text of a chunk shaped like the last one read is ([`Reader::measure`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct TextAt {
    start: usize,
    end: usize,
    escaped: bool,
    ascii: bool,
}

/// Appends the text of `chunk`, found `at` by [`Reader::measure`], decoded; `false` (and `text`
/// as it was) when that text is not well-formed (not UTF-8, an escape JSON does not have).
pub(crate) fn append_text(chunk: &[u8], at: TextAt, text: &mut String) -> bool {
    let raw = &chunk[at.start..at.end];
    if at.ascii && !at.escaped {
        text.extend(raw.iter().map(|&b| ascii_char(b)));
        return true;
    }
    if at.ascii && push_ascii(raw, text) {
        return true;
    }
    // The ends are the last chunk's, checked as UTF-8 then: only the text is new.
    let Ok(raw) = std::str::from_utf8(raw) else { return false };
    if !at.escaped {
        text.push_str(raw);
        return true;
    }
    // `\u` escapes (surrogate pairs and all) are serde_json's to decode.
    unescape_into(raw, text)
        || serde_json::from_str::<String>(&format!("\"{raw}\""))
            .map(|decoded| text.push_str(&decoded))
            .is_ok()
}

/// An ASCII byte as a character, which the compiler then knows to be one byte long: a token's
/// few bytes cost less so, appended one by one, than checked as UTF-8 and copied.
fn ascii_char(b: u8) -> char {
    char::from(b & 0x7f)
}

/// Appends ASCII text, its escapes decoded; `false` (and `text` as it was) for a `\u` escape,
/// or one JSON does not have.
fn push_ascii(raw: &[u8], text: &mut String) -> bool {
    let len = text.len();
    text.reserve(raw.len());
    let mut bytes = raw.iter();
    while let Some(&b) = bytes.next() {
        let b = if b == b'\\' { bytes.next().and_then(|&letter| escaped(letter)) } else { Some(b) };
        let Some(b) = b else {
            text.truncate(len);
            return false;
        };
        text.push(ascii_char(b));
    }
    true
}

impl Chunk {
    /// Its text, when it is only a piece of the answer's text (as [`text_chunk`] makes).
    fn text(&self) -> Option<&str> {
        match (self.choices.as_slice(), &self.usage, &self.error) {
            (
                [
                    Choice {
                        index: 0,
                        delta: Some(Delta { content: Some(text) }),
                        finish_reason: None,
                    },
                ],
                None,
                None,
            ) => Some(text),
            _ => None,
        }
    }
}

/// A chunk that is only a piece of the answer's text.
#[cfg(test)]
fn text_chunk(content: String) -> Chunk {
    Chunk {
        choices: vec![Choice {
            index: 0,
            delta: Some(Delta { content: Some(content) }),
            finish_reason: None,
        }],
        usage: None,
        error: None,
    }
}

/// Nesting deeper than this in a skipped value (the bits of a `u64`): left to serde_json.
const MAX_DEPTH: usize = 64;

/// A cursor over the chunk's JSON. Every method returns `None` for what it does not expect.
struct Scanner<'a> {
    text: &'a str,
    at: usize,
    /// Where the last `content` string read starts and ends (between its quotes).
    content_at: Option<(usize, usize)>,
}

impl<'a> Scanner<'a> {
    /// The chunk, when it is one the scanner expects, and where its `content` text is (between
    /// the quotes) when it has one. Servers send compact JSON: one with a control character
    /// (inside a string, where JSON forbids it, or as whitespace) is left to serde_json, so that
    /// the scanner need look for neither.
    fn scan(text: &'a str) -> Option<(Chunk, Option<(usize, usize)>)> {
        // One pass the compiler vectorizes, rather than a test at every byte of every string.
        let controls = text.bytes().fold(false, |found, b| found | (b < 0x20));
        if controls {
            return None;
        }
        Scanner { text, at: 0, content_at: None }.chunk()
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// The next byte that is not whitespace (without taking it). Only spaces: [`parse`] leaves
    /// chunks with tabs or line breaks to serde_json.
    fn peek(&mut self) -> Option<u8> {
        while let Some(&b) = self.bytes().get(self.at) {
            if b != b' ' {
                return Some(b);
            }
            self.at += 1;
        }
        None
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// Takes `literal` (`null`, `true`, `false`) if it comes next.
    fn literal(&mut self, literal: &str) -> bool {
        self.peek();
        let found = self.text.get(self.at..).is_some_and(|t| t.starts_with(literal));
        if found {
            self.at += literal.len();
        }
        found
    }

    /// A string's raw text between its quotes (escapes not decoded).
    fn raw_string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        // From quote or backslash to the next ([`parse`] has ruled out control characters).
        loop {
            let i = memchr::memchr2(b'"', b'\\', self.bytes().get(self.at..)?)?;
            self.at += i;
            if self.bytes()[self.at] == b'"' {
                break;
            }
            self.at += 2;
        }
        let raw = self.text.get(start..self.at)?;
        self.at += 1;
        Some(raw)
    }

    /// A string, decoded.
    fn string(&mut self) -> Option<String> {
        unescape(self.raw_string()?)
    }

    /// `null` or a string.
    fn optional_string(&mut self) -> Option<Option<String>> {
        if self.literal("null") { Some(None) } else { self.string().map(Some) }
    }

    /// A count: digits only, within `u32`.
    fn count(&mut self) -> Option<u32> {
        self.peek()?;
        let start = self.at;
        while self.bytes().get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        let digits = &self.text[start..self.at];
        // A leading zero, a fraction or an exponent: serde_json decides.
        if digits.is_empty()
            || (digits.len() > 1 && digits.starts_with('0'))
            || matches!(self.bytes().get(self.at), Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        digits.parse().ok()
    }

    /// `null` or a count.
    fn optional_count(&mut self) -> Option<Option<u32>> {
        if self.literal("null") { Some(None) } else { self.count().map(Some) }
    }

    /// Any value, skipped.
    fn skip(&mut self) -> Option<()> {
        // Bit `d` set: the container `d` levels down is an object (its values follow keys).
        let mut objects = 0u64;
        let mut depth = 0usize;
        loop {
            match self.peek()? {
                b'"' => {
                    self.raw_string()?;
                }
                open @ (b'{' | b'[') => {
                    self.at += 1;
                    if depth == MAX_DEPTH {
                        return None;
                    }
                    let is_object = open == b'{';
                    objects =
                        if is_object { objects | 1 << depth } else { objects & !(1 << depth) };
                    depth += 1;
                    if self.peek()? == if is_object { b'}' } else { b']' } {
                        self.at += 1;
                        depth -= 1;
                    } else {
                        if is_object {
                            self.raw_string()?;
                            self.eat(b':')?;
                        }
                        continue;
                    }
                }
                b'-' | b'0'..=b'9' => {
                    while matches!(
                        self.bytes().get(self.at),
                        Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                    ) {
                        self.at += 1;
                    }
                }
                _ if self.literal("null") || self.literal("true") || self.literal("false") => {}
                _ => return None,
            }
            // After a value: the next one of its container, or the container's end.
            loop {
                let Some(level) = depth.checked_sub(1) else { return Some(()) };
                let in_object = objects >> level & 1 == 1;
                match self.peek()? {
                    b',' => {
                        self.at += 1;
                        if in_object {
                            self.raw_string()?;
                            self.eat(b':')?;
                        }
                        break;
                    }
                    b'}' if in_object => {
                        self.at += 1;
                        depth = level;
                    }
                    b']' if !in_object => {
                        self.at += 1;
                        depth = level;
                    }
                    _ => return None,
                }
            }
        }
    }

    /// An object: `field` is called with each key (raw) and must take its value.
    fn object(&mut self, mut field: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.at += 1;
            return Some(());
        }
        loop {
            let key = self.raw_string()?;
            // A key spelt with escapes: serde_json decodes it.
            if key.contains('\\') {
                return None;
            }
            self.eat(b':')?;
            field(self, key)?;
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn chunk(mut self) -> Option<(Chunk, Option<(usize, usize)>)> {
        let mut chunk = Chunk::default();
        let (mut seen_choices, mut seen_usage) = (false, false);
        self.object(|s, key| match key {
            "choices" if !seen_choices => {
                seen_choices = true;
                s.eat(b'[')?;
                if s.peek()? == b']' {
                    s.at += 1;
                    return Some(());
                }
                loop {
                    chunk.choices.push(s.choice()?);
                    match s.peek()? {
                        b',' => s.at += 1,
                        b']' => {
                            s.at += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            "usage" if !seen_usage => {
                seen_usage = true;
                if !s.literal("null") {
                    chunk.usage = Some(s.usage()?);
                }
                Some(())
            }
            // An error (or a field twice): as serde_json reads it.
            "error" | "choices" | "usage" => None,
            _ => s.skip(),
        })?;
        // Nothing after the object.
        self.peek().is_none().then_some((chunk, self.content_at))
    }

    fn choice(&mut self) -> Option<Choice> {
        let mut choice = Choice::default();
        let mut seen = [false; 3];
        self.object(|s, key| {
            let slot = match key {
                "index" => 0,
                "delta" => 1,
                "finish_reason" => 2,
                _ => return s.skip(),
            };
            if std::mem::replace(&mut seen[slot], true) {
                return None;
            }
            match slot {
                0 => choice.index = s.count()?,
                1 if s.literal("null") => {}
                1 => choice.delta = Some(s.delta()?),
                _ => choice.finish_reason = s.optional_string()?,
            }
            Some(())
        })?;
        Some(choice)
    }

    fn delta(&mut self) -> Option<Delta> {
        let mut delta = Delta::default();
        let mut seen = false;
        self.object(|s, key| match key {
            "content" if !std::mem::replace(&mut seen, true) => {
                let start = s.peek().map(|_| s.at + 1);
                delta.content = s.optional_string()?;
                if delta.content.is_some() {
                    s.content_at = start.map(|start| (start, s.at - 1));
                }
                Some(())
            }
            "content" => None,
            _ => s.skip(),
        })?;
        Some(delta)
    }

    fn usage(&mut self) -> Option<Usage> {
        let mut usage = Usage::default();
        let mut seen = [false; 2];
        self.object(|s, key| {
            let slot = match key {
                "prompt_tokens" => 0,
                "completion_tokens" => 1,
                _ => return s.skip(),
            };
            if std::mem::replace(&mut seen[slot], true) {
                return None;
            }
            let value = s.optional_count()?;
            if slot == 0 {
                usage.prompt_tokens = value;
            } else {
                usage.completion_tokens = value;
            }
            Some(())
        })?;
        Some(usage)
    }
}

/// A string's raw text decoded; `None` for a `\u` escape (serde_json decodes those, surrogate
/// pairs and all) or an escape JSON does not have.
fn unescape(raw: &str) -> Option<String> {
    let mut out = String::new();
    unescape_into(raw, &mut out).then_some(out)
}

/// [`unescape`], appended to `out`; `false` (and `out` as it was) where that is `None`.
fn unescape_into(raw: &str, out: &mut String) -> bool {
    let len = out.len();
    let done = push_unescaped(raw, out);
    if done.is_none() {
        out.truncate(len);
    }
    done.is_some()
}

/// The character a backslash and `letter` stand for (ASCII); `None` for `\u` and what JSON
/// does not have.
fn escaped(letter: u8) -> Option<u8> {
    Some(match letter {
        b'"' | b'\\' | b'/' => letter,
        b'b' => 0x8,
        b'f' => 0xc,
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        _ => return None,
    })
}

fn push_unescaped(raw: &str, out: &mut String) -> Option<()> {
    out.reserve(raw.len());
    let mut rest = raw;
    while let Some(i) = memchr::memchr(b'\\', rest.as_bytes()) {
        out.push_str(&rest[..i]);
        out.push(char::from(escaped(*rest.as_bytes().get(i + 1)?)?));
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What [`Reader::read`] reads, as a chunk (a piece of text as [`text_chunk`] makes it);
    /// `None` for an error. The text it appends goes after what was there, untouched.
    fn read(reader: &mut Reader, data: &[u8]) -> Option<Chunk> {
        let mut text = String::from("earlier");
        let chunk = reader.read(data, &mut text);
        let piece = text.strip_prefix("earlier").expect("earlier text kept").to_string();
        match chunk.ok()? {
            Some(chunk) => {
                assert_eq!(piece, "", "a chunk returned appends nothing");
                Some(chunk)
            }
            None => Some(text_chunk(piece)),
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_are_an_error_wherever_they_are() {
        let chunk = |content: &[u8]| {
            [&br#"{"id":"c","choices":[{"index":0,"delta":{"content":""#[..], content, br#""}}]}"#]
                .concat()
        };
        let mut reader = Reader::default();
        assert_eq!(read(&mut reader, &chunk(b"ok")), Some(text_chunk("ok".into())));
        // Shaped like the last chunk, with a text that is not UTF-8.
        assert!(!reader.same_shape(&chunk(b"caf\xc3"), &mut String::new()));
        assert_eq!(read(&mut reader, &chunk(b"caf\xc3")), None);
        assert_eq!(read(&mut reader, &chunk(b"\xff")), None);
        assert_eq!(read(&mut reader, &chunk("é".as_bytes())), Some(text_chunk("é".into())));
        assert_eq!(read(&mut reader, &chunk("✓".as_bytes())), Some(text_chunk("✓".into())));
        assert_eq!(read(&mut reader, b"{\"x\xff\":1,\"choices\":[]}"), None);
    }

    #[test]
    fn ascii_text_is_decoded_byte_by_byte_as_it_is_as_a_string() {
        let texts = [
            "",
            "plain",
            r#"\"q\" \\ \/ \b\f\n\r\t"#,
            r#"\u00e9"#,
            r#"a\qb"#,
            r#"end\"#,
            r#"\\u0041"#,
        ];
        for raw in texts {
            let (mut by_bytes, mut by_string) = (String::from("x"), String::from("x"));
            let decoded = push_ascii(raw.as_bytes(), &mut by_bytes);
            assert_eq!(decoded, unescape_into(raw, &mut by_string), "{raw}");
            assert_eq!(by_bytes, by_string, "{raw}");
        }
    }

    /// Chunks as vLLM, llama-server, SGLang and OpenAI send them, and odd ones.
    const CHUNKS: &[&str] = &[
        r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1764547200,"model":"Qwen/Qwen2.5-Coder-1.5B-Instruct","choices":[{"index":0,"delta":{"content":"from"},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1764547200,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}"#,
        r#"{"choices":[{"finish_reason":"stop","index":0,"delta":{}}],"created":1,"id":"x","model":"m","system_fingerprint":"b1","object":"chat.completion.chunk","usage":{"completion_tokens":12,"prompt_tokens":30,"total_tokens":42}}"#,
        r#"{"id":"x","choices":[],"usage":{"prompt_tokens":30,"completion_tokens":12,"total_tokens":42,"prompt_tokens_details":{"cached_tokens":0}}}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"with DAG(\"x\") as dag:\n\tt = 'a\\b' / \/ \b\f\r"},"finish_reason":null}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"caf\u00e9 \ud83d\ude00"}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"grüße 😀 ✓"}}]}"#,
        r#" { "choices" : [ { "index" : 0 , "delta" : { "content" : "a b" } , "finish_reason" : null } ] , "usage" : null } "#,
        r#"{"choices":[{"index":1,"delta":{"content":"other"}},{"index":0,"delta":{"content":"mine"},"finish_reason":"length"}]}"#,
        r#"{"choices":[{"delta":null,"finish_reason":"stop"}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":null,"tool_calls":[{"id":"t","function":{"arguments":"{\"a\": [1, 2.5e3, -4]}"}}]}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"x"},"logprobs":{"content":[{"token":"x","logprob":-0.25,"top_logprobs":[]}]}}]}"#,
        r#"{"error":{"message":"out of memory","type":"server_error"}}"#,
        r#"{"error":null,"choices":[]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"a"}}],"usage":{"prompt_tokens":1.5}}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"a"}}],"usage":{"prompt_tokens":-1}}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"a"}}],"usage":{"prompt_tokens":99999999999}}"#,
        r#"{"choices":[{"index":"0","delta":{"content":"a"}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":5}}]}"#,
        r#"{"choices":null}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"a"}}]} trailing"#,
        r#"{"choices":[{"index":0,"delta":{"content":"a"}}],}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"a"}}]"#,
        r#"{"choices":[{"index":0,"delta":{"content":"a","content":"b"}}]}"#,
        r#"{"ch\u006fices":[{"index":0,"delta":{"content":"a"}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"tab	inside"}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"bad \x escape"}}]}"#,
        r#"{"extra":{"deep":[[[{"a":[true,false,null,"}]",{"b":"\"]"}]}]]]},"choices":[{"index":0,"delta":{"content":"ok"}}]}"#,
        r#"{"extra":[1,2,],"choices":[]}"#,
        r#"{"extra":nul,"choices":[]}"#,
        r#"{}"#,
        r#"[]"#,
        r#""#,
        r#"{"choices":[{"index":00,"delta":{"content":"a"}}]}"#,
        r#"{"choices":[{"index":0,"delta":{"content":"a"}}],"usage":{"prompt_tokens":1,"completion_tokens":null}}"#,
    ];

    #[test]
    fn the_scanner_reads_a_chunk_as_serde_json_does() {
        let mut scanned = 0;
        for data in CHUNKS {
            let by_serde = serde_json::from_str::<Chunk>(data).ok();
            if let Some((fast, _)) = Scanner::scan(data) {
                assert_eq!(Some(&fast), by_serde.as_ref(), "{data}");
                scanned += 1;
            }
            assert_eq!(read(&mut Reader::default(), data.as_bytes()), by_serde, "{data}");
        }
        // The usual chunks take the fast path.
        assert!(scanned >= 12, "{scanned}");
        assert!(Scanner::scan(CHUNKS[0]).is_some());
        assert!(Scanner::scan(CHUNKS[4]).is_some());
    }

    #[test]
    fn every_cut_of_a_chunk_is_read_as_serde_json_reads_it() {
        // Truncated and damaged JSON must never be read differently (or panic).
        for data in CHUNKS {
            for end in (0..=data.len()).filter(|&e| data.is_char_boundary(e)) {
                let cut = &data[..end];
                if let Some((fast, _)) = Scanner::scan(cut) {
                    assert_eq!(Some(fast), serde_json::from_str::<Chunk>(cut).ok(), "{cut}");
                }
            }
        }
    }

    #[test]
    fn a_stream_of_chunks_is_read_as_serde_json_reads_each() {
        let chunk = |content: &str, finish: &str| {
            format!(
                r#"{{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1,"model":"m","choices":[{{"index":0,"delta":{{"content":{content}}},"logprobs":null,"finish_reason":{finish}}}]}}"#
            )
        };
        let stream = [
            chunk(r#""""#, "null"),
            chunk(r#""from""#, "null"),
            chunk(r#"" airflow""#, "null"),
            chunk(r#""\"x\"\n""#, "null"),
            chunk(r#""\\""#, "null"),
            chunk(r#""caf\u00e9 \ud83d\ude00""#, "null"),
            chunk(r#""😀 ü""#, "null"),
            chunk(r#""a\qb""#, "null"),
            chunk("\"tab\there\"", "null"),
            chunk(r#""\"},\"logprobs\":null,\"finish_reason\":\"stop\"}]}""#, "null"),
            chunk(r#""x"},"logprobs":null,"finish_reason":"stop"}]}"#, "null"),
            chunk(r#""ok""#, "null"),
            chunk(r#""x""#, r#""stop""#),
            chunk("null", "null"),
            chunk(r#""after""#, "null"),
            chunk(r#""after""#, "null").replace(r#""m""#, r#""n""#),
            r#"{"id":"chatcmpl-7","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":9}}"#
                .to_string(),
        ];
        let mut reader = Reader::default();
        let mut by_shape = 0;
        for data in &stream {
            by_shape += usize::from(reader.same_shape(data.as_bytes(), &mut String::new()));
            // What follows a chunk does not change where it ends (an event's line end, or the
            // start of a next event, is not taken in).
            let followed = [data.as_bytes(), b"\n\ndata: {}\n\n"].concat();
            let length = reader.measure(&followed).map(|(length, _)| length);
            assert_eq!(length, reader.measure(data.as_bytes()).map(|(length, _)| length));
            assert!(length.is_none_or(|length| length == data.len()), "{data}");
            let expected = serde_json::from_str::<Chunk>(data).ok();
            assert_eq!(read(&mut reader, data.as_bytes()), expected, "{data}");
        }
        // The plain pieces of text after the first were read by their shape.
        assert!(by_shape >= 5, "{by_shape}");
    }
}
