//! The optional API key (`--api-key` or `DAGSMITH_API_KEY`): when set, every `/v1` and `/api`
//! request must carry `Authorization: Bearer KEY`, which OpenAI's SDKs send.

use std::str::FromStr;

use axum::http::HeaderValue;
use subtle::ConstantTimeEq;

/// The key; never printed (`Debug` hides it).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(hidden)")
    }
}

impl FromStr for ApiKey {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err("the API key must not be empty".into());
        }
        // What a header can carry after "Bearer " without quoting.
        if !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("the API key may only contain visible ASCII characters (no spaces)".into());
        }
        Ok(ApiKey(s.to_string()))
    }
}

/// Why a request's `Authorization` is not good enough.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    Missing,
    Wrong,
}

impl ApiKey {
    /// Checks an `Authorization` header: `Bearer KEY`, the scheme in any case.
    pub fn check(&self, authorization: Option<&HeaderValue>) -> Result<(), Refusal> {
        let Some(value) = authorization else { return Err(Refusal::Missing) };
        let value = value.as_bytes();
        let given = match value.split_at_checked(7) {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case(b"bearer ") => rest.trim_ascii(),
            _ => return Err(Refusal::Wrong),
        };
        // Constant time in the key's bytes: how far a guess matches does not show in the timing.
        if bool::from(given.ct_eq(self.0.as_bytes())) { Ok(()) } else { Err(Refusal::Wrong) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(s: &str) -> HeaderValue {
        HeaderValue::from_str(s).unwrap()
    }

    #[test]
    fn bearer_key_in_any_case_else_refused() {
        let key: ApiKey = "s3cret-Key_1".parse().unwrap();
        assert_eq!(key.check(Some(&header("Bearer s3cret-Key_1"))), Ok(()));
        assert_eq!(key.check(Some(&header("bearer s3cret-Key_1"))), Ok(()));
        assert_eq!(key.check(None), Err(Refusal::Missing));
        for wrong in [
            "Bearer s3cret-Key_2",
            "Bearer s3cret-Key_1x",
            "Bearer s3cret-Key_",
            "Bearer ",
            "Basic s3cret-Key_1",
            "s3cret-Key_1",
            "Bearer S3CRET-KEY_1",
        ] {
            assert_eq!(key.check(Some(&header(wrong))), Err(Refusal::Wrong), "{wrong}");
        }
        assert_eq!(format!("{key:?}"), "ApiKey(hidden)");
    }

    #[test]
    fn keys_must_fit_a_header() {
        assert!("".parse::<ApiKey>().is_err());
        assert!("two words".parse::<ApiKey>().is_err());
        assert!("ключ".parse::<ApiKey>().is_err());
        assert!("sk-local-0123".parse::<ApiKey>().is_ok());
    }
}
