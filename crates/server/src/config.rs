//! How the server runs: address, who may call it, slots, queue and the limits that protect it.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use dagsmith_core::{Report, ValidateOptions};

use crate::guard::api_key::ApiKey;
use crate::guard::host::AllowedHost;
use crate::guard::origin::AllowedOrigin;

/// The validator the APIs run on code.
pub type Validator = fn(&str, &ValidateOptions) -> Report;

/// Everything `dagsmith serve` can set. [`ServerConfig::default`] is what the CLI starts from.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub host: IpAddr,
    /// 0 = any free port (tests; the bound address is reported).
    pub port: u16,
    /// Binding to a non-loopback address is refused without this.
    pub allow_remote: bool,
    /// Names a request's `Host` may give besides the loopback ones and the bound address.
    pub allowed_hosts: Vec<AllowedHost>,
    /// Web pages (origins) besides the server's own that may call it, with CORS.
    pub allowed_origins: Vec<AllowedOrigin>,
    /// Every web page may call it (CORS for any origin).
    pub allow_any_origin: bool,
    /// When set, `/v1` and `/api` requests need `Authorization: Bearer KEY`.
    pub api_key: Option<ApiKey>,
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
    /// `dagsmith_core::validate`. A seam for tests: one that panics checks that a validator bug
    /// costs one request a 500, not the server, with no trigger in the real validator.
    pub validator: Validator,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 8080,
            allow_remote: false,
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            allow_any_origin: false,
            api_key: None,
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
            validator: dagsmith_core::validate,
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
                "refusing to listen on {}: it is reachable from other machines; pass \
                 --allow-remote to do it anyway (and --api-key to require a key)",
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

    /// What the operator should know before the server starts: settings that let others use it.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if !self.host.is_loopback() && self.api_key.is_none() {
            warnings.push(format!(
                "listening on {} WITHOUT AN API KEY: anyone who can reach this address can use \
                 the server and its model; set --api-key (or DAGSMITH_API_KEY)",
                self.host
            ));
        }
        if self.allow_any_origin {
            warnings.push(format!(
                "--allow-any-origin: ANY WEB PAGE open in a browser that can reach this server can \
                 use it and read its answers{}",
                if self.api_key.is_none() {
                    "; there is no API key (--api-key) to stop it"
                } else {
                    " (with the API key, if the page has it)"
                }
            ));
        }
        warnings
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

    #[test]
    fn warnings_for_settings_that_open_the_server() {
        assert!(ServerConfig::default().warnings().is_empty());
        let remote = ServerConfig {
            host: "0.0.0.0".parse().unwrap(),
            allow_remote: true,
            ..Default::default()
        };
        let w = remote.warnings();
        assert!(w.len() == 1 && w[0].contains("WITHOUT AN API KEY"), "{w:?}");
        let keyed = ServerConfig { api_key: Some("k".parse().unwrap()), ..remote };
        assert!(keyed.warnings().is_empty());
        let any = ServerConfig { allow_any_origin: true, ..Default::default() };
        let w = any.warnings();
        assert!(w.len() == 1 && w[0].contains("ANY WEB PAGE"), "{w:?}");
    }
}
