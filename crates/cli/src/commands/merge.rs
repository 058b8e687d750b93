//! `dagsmith merge`: joins the outputs of `generate --shard` runs into one file, in input order,
//! after checking them against the input: every input row answered, none twice.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use dagsmith_core::dataset;
use serde::Deserialize;

use crate::commands::{BUILTIN_INPUT, BUILTIN_NAME};
use crate::exit;
use crate::output::error;

pub const EXAMPLES: &str = "\
Examples:
  dagsmith merge out-0.jsonl out-1.jsonl out-2.jsonl --input rows.jsonl -o all.jsonl
  dagsmith merge shards/*.jsonl -o all.jsonl       the input named in the rows

The merged file holds each input row's output once, in input order (a row found twice: the
first copy). Exit status: 0 every input row is there exactly once, 1 rows are missing or
duplicated (the report lists them; the merged file is written anyway), 2 an output or the
input could not be read.";

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Outputs of `dagsmith generate` (typically one per --shard).
    #[arg(required = true, value_name = "OUT")]
    pub outputs: Vec<PathBuf>,

    /// The merged JSONL (replaced atomically once complete).
    #[arg(long, short = 'o', value_name = "ALL")]
    pub output: PathBuf,

    /// The input the outputs were generated from [default: the one their rows name].
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,

    /// Check against the first N rows of the input only (as `generate --limit N`).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

/// Missing and duplicate rows are listed up to this many each.
const LISTED: usize = 20;

#[derive(Deserialize)]
struct OutputRow {
    #[serde(default)]
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    dagsmith: Option<Record>,
}

#[derive(Deserialize)]
struct Record {
    #[serde(default)]
    row: Option<usize>,
    #[serde(default)]
    input: Option<String>,
    #[serde(default)]
    shard: Option<String>,
}

/// Where a row is: output file, line, byte range.
#[derive(Clone, Copy)]
struct Place {
    file: usize,
    line: usize,
    offset: u64,
    len: usize,
}

#[derive(Default)]
struct Scan {
    rows: BTreeMap<usize, Place>,
    /// (row, first place, other place).
    duplicates: Vec<(usize, Place, Place)>,
    inputs: BTreeSet<String>,
    shards: BTreeSet<String>,
    errors: usize,
}

pub fn run(args: MergeArgs) -> u8 {
    let mut scan = Scan::default();
    for (i, path) in args.outputs.iter().enumerate() {
        if let Err(e) = scan_output(path, i, &mut scan) {
            error(&e);
            scan.errors += 1;
        }
    }
    let (input_name, input) = match read_input(&args, &scan) {
        Ok(x) => x,
        Err(e) => {
            error(&e);
            return exit::ERROR;
        }
    };
    let expected: BTreeSet<usize> =
        dataset::rows(&input).take(args.limit.unwrap_or(usize::MAX)).map(|r| r.line).collect();
    let missing: Vec<usize> =
        expected.iter().filter(|l| !scan.rows.contains_key(l)).copied().collect();
    let unknown: Vec<usize> = scan.rows.keys().filter(|l| !expected.contains(l)).copied().collect();

    if let Err(e) = write_merged(&args, &scan) {
        error(&e);
        return exit::ERROR;
    }
    let name = |p: &Place| args.outputs[p.file].display().to_string();
    eprintln!(
        "dagsmith merge: {} outputs, {} rows of {} in {input_name} -> {}",
        args.outputs.len(),
        scan.rows.len() - unknown.len(),
        expected.len(),
        args.output.display()
    );
    if scan.shards.len() > 1 || scan.shards.iter().any(|s| s != "0/1") {
        eprintln!("  shards: {}", scan.shards.iter().cloned().collect::<Vec<_>>().join(", "));
    }
    if !missing.is_empty() {
        eprintln!(
            "  missing: {} rows of the input (lines {})",
            missing.len(),
            listed(missing.iter().map(usize::to_string))
        );
    }
    if !scan.duplicates.is_empty() {
        eprintln!(
            "  duplicates: {} rows written more than once, the first copy kept ({})",
            scan.duplicates.len(),
            listed(scan.duplicates.iter().map(|(row, a, b)| {
                format!("line {row}: {}:{} and {}:{}", name(a), a.line, name(b), b.line)
            }))
        );
    }
    if !unknown.is_empty() {
        eprintln!(
            "  not in the input: {} rows (lines {}; another input, or --limit?)",
            unknown.len(),
            listed(unknown.iter().map(usize::to_string))
        );
    }
    if scan.errors > 0 {
        exit::ERROR
    } else if missing.is_empty() && scan.duplicates.is_empty() && unknown.is_empty() {
        exit::OK
    } else {
        exit::NOT_LOADING
    }
}

fn listed(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    let mut text = items.iter().take(LISTED).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > LISTED {
        text.push_str(&format!(", ... {} more", items.len() - LISTED));
    }
    text
}

/// Reads where each row of one output is. Lines that are not rows are reported (and counted)
/// but do not stop the scan.
fn scan_output(path: &Path, file: usize, scan: &mut Scan) -> Result<(), String> {
    let f = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut reader = BufReader::new(f);
    let mut buf = Vec::new();
    let (mut offset, mut line) = (0u64, 0usize);
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if n == 0 {
            return Ok(());
        }
        line += 1;
        let place = Place { file, line, offset, len: n };
        offset += n as u64;
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let bad = |message: String| {
            error(&format!("{}:{line}:{message}", path.display()));
        };
        if !buf.ends_with(b"\n") {
            bad("1: an incomplete last line (an interrupted run); rerun that shard".into());
            scan.errors += 1;
            continue;
        }
        let record = match serde_json::from_slice::<OutputRow>(&buf) {
            Ok(r) => r.metadata.and_then(|m| m.dagsmith),
            Err(e) => {
                bad(format!("{}: not an output row: {e}", e.column().max(1)));
                scan.errors += 1;
                continue;
            }
        };
        let Some(record) = record.filter(|r| r.row.is_some()) else {
            bad("1: not a dagsmith generate row (no metadata.dagsmith.row)".into());
            scan.errors += 1;
            continue;
        };
        let row = record.row.unwrap_or_default();
        scan.inputs.extend(record.input);
        scan.shards.extend(record.shard);
        match scan.rows.get(&row) {
            Some(first) => scan.duplicates.push((row, *first, place)),
            None => {
                scan.rows.insert(row, place);
            }
        }
    }
}

/// The input as (name, bytes): `--input`, else the one the rows name (the built-in set by its
/// name).
fn read_input(args: &MergeArgs, scan: &Scan) -> Result<(String, Vec<u8>), String> {
    let path = match &args.input {
        Some(p) => p.clone(),
        None => match scan.inputs.len() {
            0 => return Err("no output row names its input: pass --input FILE".into()),
            1 => {
                let name = scan.inputs.first().expect("one");
                if name == BUILTIN_NAME && !Path::new(name).is_file() {
                    return Ok((name.clone(), BUILTIN_INPUT.as_bytes().to_vec()));
                }
                PathBuf::from(name)
            }
            _ => {
                let names: Vec<&str> = scan.inputs.iter().map(String::as_str).collect();
                return Err(format!(
                    "the outputs name different inputs ({}): pass --input FILE",
                    names.join(", ")
                ));
            }
        },
    };
    let bytes = fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok((path.display().to_string(), bytes))
}

/// Writes the rows in input order into a temporary file beside the output, then renames it.
fn write_merged(args: &MergeArgs, scan: &Scan) -> Result<(), String> {
    let out = &args.output;
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| -> io::Result<()> {
        let mut files = Vec::new();
        for p in &args.outputs {
            files.push(File::open(p)?);
        }
        let mut w = BufWriter::new(File::create(&tmp)?);
        let mut buf = Vec::new();
        for place in scan.rows.values() {
            let f = &mut files[place.file];
            f.seek(SeekFrom::Start(place.offset))?;
            buf.resize(place.len, 0);
            f.read_exact(&mut buf)?;
            w.write_all(&buf)?;
        }
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        fs::rename(&tmp, out)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        format!("cannot write {}: {e}", out.display())
    })
}
