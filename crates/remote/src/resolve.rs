//! Backend addresses for ureq: an IP address is used as it is, and a host name is looked up
//! once and reused for [`REUSE_FOR`].
//!
//! ureq looks the host up before every request, even one that takes a pooled connection, and
//! with a timeout on the lookup (the client sets one) it starts a thread to do it: a thread
//! per request, two thirds of the client's system calls on a fast backend.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long a host name's addresses are reused: a backend that moves (a Kubernetes Service
/// recreated, a DNS change) is reached at its new address within this.
pub(crate) const REUSE_FOR: Duration = Duration::from_secs(10);

#[derive(Default)]
pub(crate) struct BackendResolver {
    lookup: DefaultResolver,
    /// By `host:port`: the addresses, and when they were looked up.
    known: Mutex<HashMap<String, (Instant, ResolvedSocketAddrs)>>,
}

impl fmt::Debug for BackendResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BackendResolver")
    }
}

impl Resolver for BackendResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority()) else {
            // Not a full URL: ureq's own resolver says so.
            return self.lookup.resolve(uri, config, timeout);
        };
        let Some(key) = DefaultResolver::host_and_port(scheme, authority) else {
            return self.lookup.resolve(uri, config, timeout);
        };
        if let Ok(addr) = key.parse::<SocketAddr>() {
            let mut addrs = self.lookup.empty();
            for wanted in config.ip_family().keep_wanted(std::iter::once(addr)) {
                addrs.push(wanted);
            }
            return if addrs.is_empty() { Err(ureq::Error::HostNotFound) } else { Ok(addrs) };
        }
        let now = Instant::now();
        if let Ok(known) = self.known.lock()
            && let Some((at, addrs)) = known.get(&key)
            && now.duration_since(*at) < REUSE_FOR
        {
            return Ok(addrs.clone());
        }
        let addrs = self.lookup.resolve(uri, config, timeout)?;
        if let Ok(mut known) = self.known.lock() {
            known.insert(key, (now, addrs.clone()));
        }
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ureq::unversioned::transport::time::Duration as UreqDuration;

    fn resolve(resolver: &BackendResolver, url: &str) -> Result<Vec<SocketAddr>, ureq::Error> {
        let config = Config::default();
        let timeout =
            NextTimeout { after: UreqDuration::from(Duration::from_secs(5)), ..Default::default() };
        let uri: Uri = url.parse().unwrap();
        resolver.resolve(&uri, &config, timeout).map(|a| a.iter().copied().collect())
    }

    #[test]
    fn addresses_are_used_as_they_are_and_names_looked_up_once() {
        let r = BackendResolver::default();
        let v4: SocketAddr = "127.0.0.1:8000".parse().unwrap();
        assert_eq!(resolve(&r, "http://127.0.0.1:8000/v1/models").unwrap(), [v4]);
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        assert_eq!(resolve(&r, "http://[::1]/v1/models").unwrap(), [v6]);
        assert!(r.known.lock().unwrap().is_empty(), "no lookup for an address");
        let first = resolve(&r, "http://localhost:8000/").unwrap();
        assert!(!first.is_empty() && first.iter().all(|a| a.port() == 8000), "{first:?}");
        assert_eq!(resolve(&r, "http://localhost:8000/x").unwrap(), first);
        assert_eq!(r.known.lock().unwrap().len(), 1);
        assert!(resolve(&r, "http://no-such-host.invalid:8000/").is_err());
        assert_eq!(r.known.lock().unwrap().len(), 1, "a failed lookup is not kept");
    }
}
