//! How the server runs: address, slots, queue and the limits that protect it.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// Everything `dagsmith serve` can set. [`ServerConfig::default`] is what the CLI starts from.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub host: IpAddr,
    /// 0 = any free port (tests; the bound address is reported).
    pub port: u16,
    /// Binding to a non-loopback address is refused without this.
    pub allow_remote: bool,
    /// Sequences decoded together (the engine's batch slots).
    pub parallel: usize,
    /// KV cells per sequence: prompt plus answer must fit.
    pub context_per_sequence: u32,
    /// CPU threads for llama.cpp; `None` = physical cores.
    pub threads: Option<usize>,
    /// Requests waiting for a slot at most; more are answered 429.
    pub queue: usize,
    /// New tokens per request at most, whatever the request asks.
    pub max_tokens: u32,
    /// Repair rounds per /api/generate request at most.
    pub max_repair: u32,
    /// Request bodies larger than this are answered 413.
    pub body_limit: usize,
    /// A generation (queue wait included) is cancelled after this long.
    pub generation_timeout: Duration,
    /// The built web app; `None` = no app (the API still works).
    pub static_dir: Option<PathBuf>,
    /// Requests start from prompt prefixes already in the KV cache (the engine's
    /// `BatchOptions::reuse_prefix`); off only for comparisons.
    pub reuse_prefix: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 8080,
            allow_remote: false,
            parallel: 4,
            context_per_sequence: 4096,
            threads: None,
            queue: 32,
            max_tokens: 2048,
            max_repair: 3,
            body_limit: 1 << 20,
            generation_timeout: Duration::from_secs(600),
            static_dir: None,
            reuse_prefix: true,
        }
    }
}

impl ServerConfig {
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }

    /// Refuses settings the server cannot run with; the message names the option.
    pub fn check(&self) -> Result<(), String> {
        if !self.host.is_loopback() && !self.allow_remote {
            return Err(format!(
                "refusing to listen on {}: it is reachable from other machines and the server has \
                 no authentication; pass --allow-remote to do it anyway",
                self.host
            ));
        }
        if self.parallel == 0 {
            return Err("--parallel must be at least 1".into());
        }
        if self.max_tokens == 0 {
            return Err("--max-tokens must be at least 1".into());
        }
        if self.context_per_sequence < 64 {
            return Err("--ctx must be at least 64".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_addresses_need_the_flag() {
        let mut c = ServerConfig { host: "0.0.0.0".parse().unwrap(), ..Default::default() };
        assert!(c.check().unwrap_err().contains("--allow-remote"));
        c.allow_remote = true;
        assert_eq!(c.check(), Ok(()));
        assert_eq!(ServerConfig::default().check(), Ok(()));
        let v6 = ServerConfig { host: "::1".parse().unwrap(), ..Default::default() };
        assert_eq!(v6.check(), Ok(()));
    }
}
