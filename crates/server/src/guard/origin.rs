//! Which web pages may call the server. Browsers name the page's origin in an `Origin` header
//! on every cross-origin request, and on same-origin ones other than GET/HEAD. A request from
//! the server's own page passes; one from an origin given with `--allow-origin` passes and gets
//! CORS headers, so that its page may read the answer; any other is refused before a handler
//! runs, so a foreign page cannot even start a generation with a "simple" POST.

use std::str::FromStr;

use super::host::HostPort;

/// `scheme://host[:port]` of a page: `http` or `https`, the host lowercased, the port made
/// explicit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    https: bool,
    host: String,
    port: u16,
}

impl Origin {
    /// `None` for `null`, other schemes, paths, user info and anything malformed.
    pub fn parse(s: &str) -> Option<Origin> {
        let (scheme, rest) = s.split_once("://")?;
        let https = match scheme.to_ascii_lowercase().as_str() {
            "http" => false,
            "https" => true,
            _ => return None,
        };
        let authority = HostPort::parse(rest)?;
        let port = authority.port.unwrap_or(default_port(https));
        Some(Origin { https, host: authority.name, port })
    }

    /// Whether a page of this origin is the server itself as the request names it (`Host`).
    /// Either scheme: behind a TLS proxy the page is `https://NAME` and the `Host` just `NAME`.
    fn is_same_as(&self, host: &HostPort) -> bool {
        self.host == host.name && self.port == host.port.unwrap_or(default_port(self.https))
    }
}

fn default_port(https: bool) -> u16 {
    if https { 443 } else { 80 }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        if self.port == default_port(self.https) {
            write!(f, "{scheme}://{}", self.host)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// An origin given with `--allow-origin`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedOrigin(Origin);

impl FromStr for AllowedOrigin {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s == "*" {
            return Err("`*` lets every web page use the server: pass --allow-any-origin for \
                        that, knowingly"
                .into());
        }
        if s.eq_ignore_ascii_case("null") {
            return Err("`null` is the origin of sandboxed frames and local files, which any \
                        page can create: it cannot be allowed"
                .into());
        }
        // A pasted URL often ends with "/"; a path beyond that is a mistake.
        let bare = s.strip_suffix('/').unwrap_or(s);
        Origin::parse(bare).map(AllowedOrigin).ok_or_else(|| {
            format!("{s:?} is not a web origin: SCHEME://HOST[:PORT], e.g. http://localhost:5173")
        })
    }
}

impl std::fmt::Display for AllowedOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// What to do with a request that has an `Origin` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The server's own page: no CORS headers needed.
    Same,
    /// Another page that may call the server: answer with CORS headers for it.
    Cross,
    /// Refused, with the reason.
    Refused(String),
}

#[derive(Clone, Debug, Default)]
pub struct OriginPolicy {
    pub allowed: Vec<AllowedOrigin>,
    /// `--allow-any-origin`.
    pub any: bool,
}

impl OriginPolicy {
    /// `origin` is the header's value, `host` the request's checked `Host`.
    pub fn check(&self, origin: &str, host: &HostPort) -> Verdict {
        let parsed = Origin::parse(origin);
        if parsed.as_ref().is_some_and(|o| o.is_same_as(host)) {
            return Verdict::Same;
        }
        if self.any || parsed.is_some_and(|o| self.allowed.iter().any(|a| a.0 == o)) {
            return Verdict::Cross;
        }
        Verdict::Refused(format!(
            "requests from web pages of origin {origin:?} are not allowed; to let that page use \
             this server, start it with --allow-origin {origin}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(s: &str) -> HostPort {
        HostPort::parse(s).unwrap()
    }

    #[test]
    fn the_servers_own_page_is_same_origin() {
        let p = OriginPolicy::default();
        assert_eq!(p.check("http://localhost:8080", &host("localhost:8080")), Verdict::Same);
        assert_eq!(p.check("http://LOCALHOST:8080", &host("localhost:8080")), Verdict::Same);
        assert_eq!(p.check("http://[::1]:8080", &host("[::1]:8080")), Verdict::Same);
        assert_eq!(p.check("https://dags.example", &host("dags.example")), Verdict::Same);
        assert_eq!(p.check("http://dags.example:80", &host("dags.example")), Verdict::Same);
        // Another loopback name is another origin, as browsers see it.
        let refused = p.check("http://127.0.0.1:8080", &host("localhost:8080"));
        assert!(matches!(refused, Verdict::Refused(_)), "{refused:?}");
        for other in [
            "http://evil.example",
            "http://localhost:8081",
            "null",
            "file://",
            "http://localhost:8080/path",
            "ftp://localhost:8080",
            "",
        ] {
            let v = p.check(other, &host("localhost:8080"));
            assert!(matches!(v, Verdict::Refused(_)), "{other}: {v:?}");
        }
        let Verdict::Refused(message) = p.check("http://evil.example", &host("localhost:8080"))
        else {
            unreachable!()
        };
        assert!(message.contains("--allow-origin http://evil.example"), "{message}");
    }

    #[test]
    fn allowed_and_any_origins() {
        let p = OriginPolicy {
            allowed: vec![
                "http://localhost:5173/".parse().unwrap(),
                "https://a.example".parse().unwrap(),
            ],
            any: false,
        };
        let h = host("localhost:8080");
        assert_eq!(p.check("http://localhost:5173", &h), Verdict::Cross);
        assert_eq!(p.check("https://a.example:443", &h), Verdict::Cross);
        assert!(matches!(p.check("http://a.example", &h), Verdict::Refused(_)));
        assert!(matches!(p.check("http://localhost:5174", &h), Verdict::Refused(_)));
        let any = OriginPolicy { allowed: Vec::new(), any: true };
        assert_eq!(any.check("http://evil.example", &h), Verdict::Cross);
        assert_eq!(any.check("null", &h), Verdict::Cross);
    }

    #[test]
    fn allowed_origin_values() {
        let o: AllowedOrigin = "HTTP://Localhost:5173/".parse().unwrap();
        assert_eq!(o.to_string(), "http://localhost:5173");
        assert_eq!(
            "https://a.example:443".parse::<AllowedOrigin>().unwrap().to_string(),
            "https://a.example"
        );
        let star = "*".parse::<AllowedOrigin>().unwrap_err();
        assert!(star.contains("--allow-any-origin"), "{star}");
        for bad in ["null", "localhost:5173", "http://a.example/app", "ws://a.example", ""] {
            assert!(bad.parse::<AllowedOrigin>().is_err(), "{bad}");
        }
    }
}
