//! Token pieces are bytes, and a multi-byte character can be split across tokens: buffer the
//! incomplete tail until the next piece completes it.

#[derive(Default, Debug)]
pub struct Utf8Buffer {
    pending: Vec<u8>,
}

impl Utf8Buffer {
    /// Appends `bytes` and returns the text that is complete so far. Invalid sequences become
    /// U+FFFD (a model can emit them), never an error.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(s) => {
                    out.push_str(s);
                    self.pending.clear();
                    return out;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    out.push_str(std::str::from_utf8(&self.pending[..valid]).unwrap_or_default());
                    match e.error_len() {
                        // Incomplete at the end: keep it for the next piece.
                        None => {
                            self.pending.drain(..valid);
                            return out;
                        }
                        Some(bad) => {
                            out.push('\u{FFFD}');
                            self.pending.drain(..valid + bad);
                        }
                    }
                }
            }
        }
    }

    /// What is left at the end of generation, lossily.
    pub fn finish(&mut self) -> String {
        let rest = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_characters_are_joined() {
        let bytes = "é→𝄞".as_bytes();
        let mut buf = Utf8Buffer::default();
        let mut out = String::new();
        for b in bytes {
            out.push_str(&buf.push(std::slice::from_ref(b)));
        }
        assert_eq!(out, "é→𝄞");
        assert_eq!(buf.finish(), "");
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        let mut buf = Utf8Buffer::default();
        assert_eq!(buf.push(b"a\xffb"), "a\u{FFFD}b");
        assert_eq!(buf.push(b"\xe2\x86"), "");
        assert_eq!(buf.finish(), "\u{FFFD}");
    }
}
