//! Which backends a run uses: `--backend URL` (repeatable) and `--backends FILE`.
//!
//! A backends file has one backend per line, with optional settings after the URL:
//!
//! ```text
//! # vLLM on two GPU nodes, and a dagsmith serve on a workstation
//! http://gpu-1:8000   parallel=64  api-key-env=VLLM_KEY
//! http://gpu-2:8000   parallel=64  api-key-env=VLLM_KEY
//! http://ws-7:8080                 # parallel: its /api/health slots
//! ```

use std::fmt;

/// One OpenAI-compatible server.
#[derive(Clone, PartialEq, Eq)]
pub struct BackendSpec {
    /// Base URL without a trailing `/` or `/v1`: requests go to `{url}/v1/chat/completions`.
    pub url: String,
    /// Requests in flight at most; `None`: the server's own slot count when it says (dagsmith's
    /// `/api/health`), else the caller's default.
    pub parallel: Option<usize>,
    /// Sent as `Authorization: Bearer KEY`.
    pub api_key: Option<String>,
}

// Keys stay out of logs and error messages.
impl fmt::Debug for BackendSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendSpec")
            .field("url", &self.url)
            .field("parallel", &self.parallel)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .finish()
    }
}

impl BackendSpec {
    /// A backend from a URL as users paste it: `http://host:8000`, with or without a trailing
    /// `/` or `/v1` (the base URL OpenAI's SDKs take).
    pub fn from_url(text: &str) -> Result<BackendSpec, String> {
        Ok(BackendSpec { url: normalize_url(text)?, parallel: None, api_key: None })
    }
}

fn normalize_url(text: &str) -> Result<String, String> {
    let url = text.trim();
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| format!("{url:?} is not an http:// or https:// URL"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("{url:?} names no host"));
    }
    if url.contains(['?', '#']) || url.chars().any(char::is_whitespace) {
        return Err(format!("{url:?}: a backend URL has no query, fragment or spaces"));
    }
    let mut url = url.trim_end_matches('/');
    if let Some(base) = url.strip_suffix("/v1") {
        url = base.trim_end_matches('/');
    }
    Ok(url.to_string())
}

/// Parses a backends file (`name` is how errors call it). `env` looks up `api-key-env=NAME`.
/// Errors are `name:LINE:COLUMN: message`.
pub fn parse_backends_file(
    text: &str,
    name: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Vec<BackendSpec>, String> {
    let mut backends = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let at = |column: usize, message: String| format!("{name}:{}:{column}: {message}", i + 1);
        // A comment starts at `#` at the line's start or after whitespace (URLs have none).
        let content = match line.find('#') {
            Some(0) => "",
            Some(c) if line[..c].ends_with(char::is_whitespace) => &line[..c],
            _ => line,
        };
        let mut words = words_with_columns(content);
        let Some((column, url)) = words.next() else { continue };
        let mut backend = BackendSpec::from_url(url).map_err(|e| at(column, e))?;
        for (column, word) in words {
            let Some((key, value)) = word.split_once('=') else {
                return Err(at(
                    column,
                    format!("{word:?}: expected parallel=N, api-key=KEY or api-key-env=NAME"),
                ));
            };
            match key {
                "parallel" => {
                    let n: usize =
                        value.parse().ok().filter(|n| (1..=4096).contains(n)).ok_or_else(|| {
                            at(
                                column,
                                format!("parallel={value}: expected a number from 1 to 4096"),
                            )
                        })?;
                    backend.parallel = Some(n);
                }
                "api-key" if !value.is_empty() => backend.api_key = Some(value.to_string()),
                "api-key-env" => {
                    let key = env(value).filter(|k| !k.is_empty()).ok_or_else(|| {
                        at(column, format!("api-key-env={value}: the variable is not set"))
                    })?;
                    backend.api_key = Some(key);
                }
                _ => {
                    return Err(at(
                        column,
                        format!("{key:?}: expected parallel=N, api-key=KEY or api-key-env=NAME"),
                    ));
                }
            }
        }
        backends.push(backend);
    }
    if backends.is_empty() {
        return Err(format!("{name}: no backend URL in the file"));
    }
    Ok(backends)
}

/// Whitespace-separated words with their 1-based character columns.
fn words_with_columns(line: &str) -> impl Iterator<Item = (usize, &str)> {
    line.split_whitespace().map(move |w| {
        let offset = w.as_ptr() as usize - line.as_ptr() as usize;
        (line[..offset].chars().count() + 1, w)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_normalized() {
        for (given, url) in [
            ("http://gpu-1:8000", "http://gpu-1:8000"),
            ("http://gpu-1:8000/", "http://gpu-1:8000"),
            (" https://host/v1/ ", "https://host"),
            ("http://host/openai/v1", "http://host/openai"),
        ] {
            assert_eq!(BackendSpec::from_url(given).unwrap().url, url, "{given}");
        }
        for bad in ["gpu-1:8000", "http://", "ftp://x", "http://x?y=1", "http:///v1"] {
            assert!(BackendSpec::from_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn backends_file_with_settings_comments_and_errors() {
        let env = |name: &str| (name == "KEY").then(|| "s3cret".to_string());
        let text = "# fleet\n\nhttp://a:8000 parallel=64 api-key-env=KEY\n  http://b:8080/v1  # ws\nhttp://c parallel=2 api-key=k\n";
        let backends = parse_backends_file(text, "b.txt", env).unwrap();
        assert_eq!(backends.len(), 3);
        assert_eq!(backends[0].parallel, Some(64));
        assert_eq!(backends[0].api_key.as_deref(), Some("s3cret"));
        assert_eq!((backends[1].url.as_str(), backends[1].parallel), ("http://b:8080", None));
        assert_eq!(backends[2].api_key.as_deref(), Some("k"));
        assert!(!format!("{:?}", backends[0]).contains("s3cret"), "keys stay out of Debug");

        let err = |text: &str| parse_backends_file(text, "b.txt", env).unwrap_err();
        assert_eq!(
            err("\nhttp://a parallel=0"),
            "b.txt:2:10: parallel=0: expected a number from 1 to 4096"
        );
        assert!(
            err("http://a  slots=3").starts_with("b.txt:1:11: \"slots\""),
            "{}",
            err("http://a  slots=3")
        );
        assert!(err("http://a api-key-env=NOPE").contains("NOPE: the variable is not set"));
        assert!(err(" localhost:8000").starts_with("b.txt:1:2: "));
        assert_eq!(err("# nothing\n"), "b.txt: no backend URL in the file");
    }
}
