//! Which `Host` a request may name. A page that tricks the browser with DNS rebinding (its own
//! name made to resolve to 127.0.0.1) still sends its own name here, so refusing unknown names
//! is what keeps such a page from reading the server's answers.

use std::net::IpAddr;
use std::str::FromStr;

use axum::http::uri::Authority;

/// `NAME` or `NAME:PORT` as a `Host` header or an authority gives it: the name lowercased (an
/// IPv6 address keeps its brackets), the port if one is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPort {
    pub name: String,
    pub port: Option<u16>,
}

impl HostPort {
    /// `None` for anything that is not a plain authority (user info, paths, bad ports, ...).
    pub fn parse(s: &str) -> Option<HostPort> {
        if s.is_empty() || s.contains(['@', '/', '?', '#', ' ']) {
            return None;
        }
        let authority = Authority::from_str(s).ok()?;
        let host = authority.host();
        // Whatever follows the host must be a port: the parser lets "name:x" through.
        let port = match s.get(host.len()..)? {
            "" => None,
            rest => Some(rest.strip_prefix(':')?.parse::<u16>().ok()?),
        };
        if host.is_empty() {
            return None;
        }
        Some(HostPort { name: host.to_ascii_lowercase(), port })
    }

    /// The address a name is, if it is one (`[::1]` → `::1`).
    fn ip(&self) -> Option<IpAddr> {
        let bare = self.name.strip_prefix('[').and_then(|n| n.strip_suffix(']'));
        bare.unwrap_or(&self.name).parse().ok()
    }

    /// Names no one but this machine can answer for: `localhost` and loopback addresses.
    fn is_loopback(&self) -> bool {
        self.name == "localhost" || self.ip().is_some_and(|ip| ip.is_loopback())
    }
}

/// A name given with `--allowed-host NAME[:PORT]`; without a port it matches any port (behind a
/// reverse proxy the `Host` is the proxy's, often without a port).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedHost(HostPort);

impl FromStr for AllowedHost {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.contains('*') {
            return Err("wildcards are not supported: name each host".into());
        }
        if s.contains("://") {
            return Err(format!("{s:?}: give a host name, not a URL (e.g. dagsmith.example.com)"));
        }
        HostPort::parse(s)
            .map(AllowedHost)
            .ok_or_else(|| format!("{s:?} is not a host name or address (NAME or NAME:PORT)"))
    }
}

impl std::fmt::Display for AllowedHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.port {
            Some(port) => write!(f, "{}:{port}", self.0.name),
            None => f.write_str(&self.0.name),
        }
    }
}

/// The names a request may give in `Host`.
#[derive(Clone, Debug)]
pub struct HostPolicy {
    /// The port the server listens on.
    pub port: u16,
    /// The address it listens on when that is a specific non-loopback one (`--host 10.0.0.5`).
    pub bound: Option<IpAddr>,
    pub extra: Vec<AllowedHost>,
}

impl HostPolicy {
    pub fn new(bound: IpAddr, port: u16, extra: Vec<AllowedHost>) -> Self {
        let bound = Some(bound).filter(|ip| !ip.is_loopback() && !ip.is_unspecified());
        HostPolicy { port, bound, extra }
    }

    /// Whether `host` (a `Host` header) names this server; the error says why not.
    pub fn check(&self, host: &str) -> Result<HostPort, String> {
        let Some(parsed) = HostPort::parse(host) else {
            return Err(format!("the Host header {host:?} is not a host name"));
        };
        // Plain HTTP: a Host without a port means port 80.
        let port = parsed.port.unwrap_or(80);
        let own = port == self.port
            && (parsed.is_loopback() || (self.bound.is_some() && parsed.ip() == self.bound));
        let listed = self.extra.iter().any(|AllowedHost(allowed)| {
            allowed.name == parsed.name && allowed.port.is_none_or(|p| p == port)
        });
        if own || listed {
            return Ok(parsed);
        }
        Err(format!(
            "Host {host:?} is not this server, which answers to {}; to reach it under another \
             name, start it with --allowed-host {}",
            self.expected(),
            parsed.name
        ))
    }

    /// The names it answers to, for messages.
    pub fn expected(&self) -> String {
        let port = self.port;
        let mut names = vec![format!("localhost:{port}"), format!("127.0.0.1:{port}")];
        names.push(format!("[::1]:{port}"));
        if let Some(ip) = self.bound {
            names.push(match ip {
                IpAddr::V4(v4) => format!("{v4}:{port}"),
                IpAddr::V6(v6) => format!("[{v6}]:{port}"),
            });
        }
        names.extend(self.extra.iter().map(ToString::to_string));
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(extra: &[&str]) -> HostPolicy {
        let extra = extra.iter().map(|h| h.parse().unwrap()).collect();
        HostPolicy::new("127.0.0.1".parse().unwrap(), 8080, extra)
    }

    #[test]
    fn loopback_names_at_the_servers_port() {
        let p = policy(&[]);
        for ok in
            ["localhost:8080", "LocalHost:8080", "127.0.0.1:8080", "[::1]:8080", "127.0.0.2:8080"]
        {
            assert!(p.check(ok).is_ok(), "{ok}");
        }
        for bad in [
            "evil.example:8080",
            "localhost:8081",
            "localhost",
            "127.0.0.1",
            "localhost.:8080",
            "localhost.evil.example:8080",
            "10.0.0.5:8080",
            "user@localhost:8080",
            "localhost:8080/x",
            "localhost:99999",
            "localhost:8080x",
            "localhost:",
            "",
            "[::1",
        ] {
            assert!(p.check(bad).is_err(), "{bad}");
        }
        let message = p.check("evil.example:8080").unwrap_err();
        assert!(message.contains("--allowed-host evil.example"), "{message}");
        assert!(message.contains("localhost:8080, 127.0.0.1:8080, [::1]:8080"), "{message}");
    }

    #[test]
    fn allowed_hosts_and_the_bound_address() {
        let p = policy(&["dagsmith.example.com", "Box.Lan:9000"]);
        assert!(p.check("dagsmith.example.com").is_ok());
        assert!(p.check("DAGSMITH.example.com:443").is_ok());
        assert!(p.check("box.lan:9000").is_ok());
        assert!(p.check("box.lan:8080").is_err());
        assert!(p.check("example.com").is_err());
        let bound = HostPolicy::new("10.0.0.5".parse().unwrap(), 8080, Vec::new());
        assert!(bound.check("10.0.0.5:8080").is_ok());
        assert!(bound.check("10.0.0.6:8080").is_err());
        assert!(bound.expected().ends_with("10.0.0.5:8080"), "{}", bound.expected());
        let any = HostPolicy::new("0.0.0.0".parse().unwrap(), 8080, Vec::new());
        assert!(any.check("0.0.0.0:8080").is_err());
        assert!(any.check("localhost:8080").is_ok());
    }

    #[test]
    fn allowed_host_values() {
        assert_eq!("a.example:81".parse::<AllowedHost>().unwrap().to_string(), "a.example:81");
        assert_eq!("[::1]".parse::<AllowedHost>().unwrap().to_string(), "[::1]");
        for bad in ["*", "*.example.com", "http://a.example", "a b", "", "a:b"] {
            assert!(bad.parse::<AllowedHost>().is_err(), "{bad}");
        }
    }
}
