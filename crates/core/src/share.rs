//! Share links: the playground's whole state in a URL fragment, so that no server stores it.
//!
//! A fragment is `d<FORMAT>.<mode>.<payload>`:
//!
//! * `FORMAT` is [`FORMAT_VERSION`]; a link of a newer format is refused with a clear message
//!   rather than half-restored.
//! * `mode` is `z` when the payload is the raw-deflated JSON of [`SharedState`], `j` when it is
//!   the JSON itself; [`encode`] picks whichever is shorter (tiny states do not compress).
//! * `payload` is base64url without padding, so the fragment needs no percent-encoding.
//!
//! The state carries the validator version that made the link and a hash of the code as the
//! model generated it ([`code_hash`]): whoever opens the link re-validates locally and can be
//! told when their validator differs or when the code was edited after generation.
//!
//! Pure: no I/O, builds for wasm32. Decoding never panics on bad input and caps the inflated
//! size ([`MAX_JSON_BYTES`]) so a crafted link cannot exhaust memory.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The fragment format written by [`encode`].
pub const FORMAT_VERSION: u32 = 1;

/// Largest JSON a fragment may inflate to. Generous for a DAG file, small for a browser.
pub const MAX_JSON_BYTES: usize = 4 << 20;

/// The playground's generation settings, as a link stores them;
/// [`crate::wire::GenerateRequest::from_params`] makes the `/api/generate` body from them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GenerationParams {
    pub max_tokens: u32,
    pub temperature: f32,
    pub top_p: f32,
    /// `i32` as [`crate::wire::SamplingParams`] (links hold a small JSON number either way).
    pub top_k: i32,
    pub seed: u32,
    pub repeat_penalty: f32,
    /// Repair rounds after the first answer.
    pub repair: u32,
}

impl Default for GenerationParams {
    fn default() -> Self {
        // The server's defaults, so that a link of untouched settings reproduces a plain request.
        let sampling = crate::wire::SamplingParams::default();
        GenerationParams {
            max_tokens: crate::wire::GENERATE_MAX_TOKENS,
            temperature: sampling.temperature,
            top_p: sampling.top_p,
            top_k: sampling.top_k,
            seed: sampling.seed,
            repeat_penalty: sampling.repeat_penalty,
            repair: 0,
        }
    }
}

/// The findings a link's maker saw: compared on opening when the validators differ.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SharedVerdict {
    pub loads: bool,
    /// `CODE:LINE` per finding, in report order.
    pub findings: Vec<String>,
}

/// Everything a share link restores. Unknown fields are ignored and missing ones default, so
/// links stay readable as fields are added within a format version.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SharedState {
    /// `dagsmith_core::VERSION` of the validator that made the link.
    pub validator: String,
    pub instruction: String,
    pub airflow_version: String,
    pub params: GenerationParams,
    /// The code as it was when the link was made (possibly edited by hand).
    pub code: String,
    /// [`code_hash`] of the code as the model generated it; `None` when there was no generation
    /// (the user's own DAG).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<SharedVerdict>,
}

impl SharedState {
    /// Whether the code differs from what the model generated (`false` without a generation).
    pub fn edited_since_generation(&self) -> bool {
        self.generated_hash.as_deref().is_some_and(|h| h != code_hash(&self.code))
    }
}

/// Why a fragment could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShareError {
    /// Not a dagsmith share fragment at all.
    NotAShareLink,
    /// Made by a newer dagsmith whose format this one does not know.
    UnsupportedFormat(u32),
    /// The payload is damaged (truncated link, bad base64, bad deflate, bad JSON, too large).
    Corrupt(String),
}

impl fmt::Display for ShareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShareError::NotAShareLink => f.write_str("not a dagsmith share link"),
            ShareError::UnsupportedFormat(v) => write!(
                f,
                "share link format {v} is newer than this playground understands (format \
                 {FORMAT_VERSION}); open it with a newer dagsmith"
            ),
            ShareError::Corrupt(why) => write!(f, "the share link is damaged: {why}"),
        }
    }
}

impl std::error::Error for ShareError {}

/// A short, stable hash of code (FNV-1a 64, hex). Not cryptographic: it only tells "same code
/// as generated" from "edited", and must give the same value natively and in wasm.
pub fn code_hash(code: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in code.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The fragment (without `#`) for a state: deflated when that is shorter.
pub fn encode(state: &SharedState) -> String {
    // Serializing plain structs of strings and numbers cannot fail; NaN floats become null.
    let json = serde_json::to_vec(state).unwrap_or_default();
    let deflated = miniz_oxide::deflate::compress_to_vec(&json, 9);
    let (mode, bytes) = if deflated.len() < json.len() { ('z', &deflated) } else { ('j', &json) };
    format!("d{FORMAT_VERSION}.{mode}.{}", base64url_encode(bytes))
}

/// Reads a fragment made by [`encode`]. A leading `#` is accepted.
pub fn decode(fragment: &str) -> Result<SharedState, ShareError> {
    let fragment = fragment.strip_prefix('#').unwrap_or(fragment).trim();
    let rest = fragment.strip_prefix('d').ok_or(ShareError::NotAShareLink)?;
    let (version, rest) = rest.split_once('.').ok_or(ShareError::NotAShareLink)?;
    let version: u32 = version.parse().map_err(|_| ShareError::NotAShareLink)?;
    if version != FORMAT_VERSION {
        return Err(ShareError::UnsupportedFormat(version));
    }
    let (mode, payload) = rest.split_once('.').ok_or(ShareError::NotAShareLink)?;
    let bytes =
        base64url_decode(payload).ok_or_else(|| ShareError::Corrupt("invalid base64url".into()))?;
    let json = match mode {
        "j" => bytes,
        "z" => miniz_oxide::inflate::decompress_to_vec_with_limit(&bytes, MAX_JSON_BYTES)
            .map_err(|e| ShareError::Corrupt(format!("cannot inflate ({:?})", e.status)))?,
        other => return Err(ShareError::Corrupt(format!("unknown payload mode {other:?}"))),
    };
    if json.len() > MAX_JSON_BYTES {
        return Err(ShareError::Corrupt("payload too large".into()));
    }
    serde_json::from_slice(&json).map_err(|e| ShareError::Corrupt(format!("bad JSON: {e}")))
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64url_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n =
            chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        // One input byte gives two output characters, two give three, three give four.
        for i in 0..=chunk.len() {
            out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    // Padding is tolerated (some tools add it back); a lone trailing character is not valid.
    let text = text.trim_end_matches('=').as_bytes();
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    for chunk in text.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            let v = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                // Also the standard alphabet: links pasted through tools that "fix" them.
                b'-' | b'+' => 62,
                b'_' | b'/' => 63,
                _ => return None,
            };
            n |= u32::from(v) << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(code: &str) -> SharedState {
        SharedState {
            validator: crate::VERSION.to_string(),
            instruction: "Daily ETL: extract, transform, load — with «unicode»".into(),
            airflow_version: "2.11".into(),
            params: GenerationParams { temperature: 0.7, seed: 7, repair: 2, ..Default::default() },
            code: code.into(),
            generated_hash: Some(code_hash(code)),
            verdict: Some(SharedVerdict { loads: false, findings: vec!["DS108:12".into()] }),
        }
    }

    const DAG: &str = "from airflow import DAG\nfrom airflow.operators.empty import EmptyOperator\n\n\
        with DAG('etl', schedule=None):\n    a = EmptyOperator(task_id='a')\n    \
        b = EmptyOperator(task_id='b')\n    a >> b\n    b >> a\n";

    #[test]
    fn round_trip_compressed() {
        let state = sample(&DAG.repeat(5));
        let link = encode(&state);
        assert!(link.starts_with("d1.z."), "{link}");
        assert_eq!(decode(&link).unwrap(), state);
        assert_eq!(decode(&format!("#{link}")).unwrap(), state);
        assert!(link.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
    }

    #[test]
    fn tiny_state_stays_plain() {
        // `{}`-like states are shorter uncompressed: the encoder must not pick deflate blindly.
        let json = serde_json::to_vec(&SharedState::default()).unwrap();
        let deflated = miniz_oxide::deflate::compress_to_vec(&json, 9);
        let link = encode(&SharedState::default());
        let expect = if deflated.len() < json.len() { "d1.z." } else { "d1.j." };
        assert!(link.starts_with(expect), "{link}");
        assert_eq!(decode(&link).unwrap(), SharedState::default());
        let plain = format!("d1.j.{}", base64url_encode(br#"{"code":"x = 1\n"}"#));
        assert_eq!(decode(&plain).unwrap().code, "x = 1\n");
    }

    #[test]
    fn edited_code_is_detected() {
        let mut state = sample(DAG);
        assert!(!state.edited_since_generation());
        state.code.push_str("# edited\n");
        assert!(state.edited_since_generation());
        state.generated_hash = None;
        assert!(!state.edited_since_generation(), "own code has no generation to differ from");
        let back = decode(&encode(&sample(DAG))).unwrap();
        assert!(!back.edited_since_generation());
    }

    #[test]
    fn code_hash_is_stable() {
        // Fixed values: links made natively and in wasm must agree forever.
        assert_eq!(code_hash(""), "cbf29ce484222325");
        assert_eq!(code_hash("a"), "af63dc4c8601ec8c");
        assert_ne!(code_hash("a\n"), code_hash("a"));
    }

    #[test]
    fn base64url_matches_rfc4648_vectors() {
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64url_encode(plain.as_bytes()), enc);
            assert_eq!(base64url_decode(enc).unwrap(), plain.as_bytes());
        }
        assert_eq!(base64url_encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(base64url_decode("-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(base64url_decode("+/8=").unwrap(), [0xfb, 0xff]);
        assert_eq!(base64url_decode("Zm9vY"), None);
        assert_eq!(base64url_decode("Zm9v!"), None);
    }

    #[test]
    fn bad_links_are_errors_not_panics() {
        assert_eq!(decode(""), Err(ShareError::NotAShareLink));
        assert_eq!(decode("#section-2"), Err(ShareError::NotAShareLink));
        assert_eq!(decode("d1"), Err(ShareError::NotAShareLink));
        assert_eq!(decode("dx.z.AAAA"), Err(ShareError::NotAShareLink));
        assert_eq!(decode("d2.z.AAAA"), Err(ShareError::UnsupportedFormat(2)));
        assert!(matches!(decode("d1.q.AAAA"), Err(ShareError::Corrupt(_))));
        assert!(matches!(decode("d1.z.!!!!"), Err(ShareError::Corrupt(_))));
        assert!(matches!(decode("d1.z.AAAA"), Err(ShareError::Corrupt(_))));
        assert!(decode("d1.j.e30K").is_ok(), "`{{}}` plus newline is a valid state");
        assert!(matches!(decode("d1.j.WzFd"), Err(ShareError::Corrupt(_))), "`[1]` is not");
        // Truncating a real link anywhere must give an error or a state, never a panic.
        let link = encode(&sample(&DAG.repeat(3)));
        for cut in 0..link.len() {
            let _ = decode(&link[..cut]);
        }
        assert!(decode(&link[..link.len() - 10]).is_err());
    }

    #[test]
    fn inflate_is_capped() {
        // A deflate bomb: 8 MiB of spaces inside a JSON string compress to a few KB.
        let json = format!("{{\"code\":\"{}\"}}", " ".repeat(8 << 20));
        let bomb = miniz_oxide::deflate::compress_to_vec(json.as_bytes(), 9);
        assert!(bomb.len() < 64 << 10);
        let link = format!("d1.z.{}", base64url_encode(&bomb));
        assert!(matches!(decode(&link), Err(ShareError::Corrupt(_))));
    }

    #[test]
    fn missing_and_unknown_fields() {
        let json = br#"{"code":"x\n","future_field":[1,2],"params":{"seed":9}}"#;
        let state = decode(&format!("d1.j.{}", base64url_encode(json))).unwrap();
        assert_eq!(state.code, "x\n");
        assert_eq!(state.params.seed, 9);
        assert_eq!(state.params.max_tokens, GenerationParams::default().max_tokens);
        assert_eq!(state.generated_hash, None);
    }
}
