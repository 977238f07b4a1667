//! Local files as a timeline source (`--logs PATH`, repeatable): a copy of a trail bucket, a
//! LookupEvents export, a SIEM's JSON Lines dump.
//!
//! A path is a file or a directory searched recursively for `.json`, `.json.gz`, `.jsonl`,
//! `.log` and `.csv` files (also gzip'd; never an access key CSV; a file named on its own is
//! read whatever its name). Files are read in parallel, one at a time per worker: a file is
//! read, decompressed, filtered and dropped before the worker takes the next, so memory
//! follows the largest file, not the corpus. A file that cannot be read or understood is
//! reported in `skipped` and the scan goes on.
//!
//! With a [`KeyFilter`] only the records made with a tracked key, or minting one, are kept,
//! and only records whose bytes mention a key are ever parsed (see
//! [`KeyFilter::scan_records`]). Keys those records mint are not followed here: the caller
//! scans again with them.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::timeline::model::{Event, Origin};
use crate::timeline::parse::{
    Parsed, Skipped, gunzip_into, is_csv, is_gzip, parse_csv, parse_document, parse_line,
    parse_record,
};
use crate::timeline::prefilter::{KeyFilter, ScanOutcome};

/// What a scan of local files found.
#[derive(Debug, Clone, Default)]
pub struct FileScan {
    pub events: Vec<Event>,
    /// Data files read (or attempted), digest files and failures included.
    pub files: usize,
    /// CloudTrail digest files seen.
    pub digests: usize,
    /// Files, lines and records that could not be used, each with its path and the reason.
    pub skipped: Vec<Skipped>,
}

/// Read every log file under `paths`. With `filter`, keep only the events whose
/// `userIdentity.accessKeyId` or minted key is one of its keys; with `None`, every event.
/// Events come in file order (paths sorted within a directory), then record order.
pub fn scan_paths(paths: &[PathBuf], filter: Option<&KeyFilter>) -> FileScan {
    let mut scan = FileScan::default();
    let mut files = Vec::new();
    for path in paths {
        collect(path, true, &mut files, &mut scan.skipped);
    }
    scan.files = files.len();

    let results: Vec<Parsed> = files
        .par_iter()
        .map_init(Buffers::default, |buffers, path| {
            scan_file(path, filter, buffers)
        })
        .collect();
    for mut parsed in results {
        scan.events.append(&mut parsed.events);
        scan.digests += parsed.digests;
        scan.skipped.append(&mut parsed.skipped);
    }
    scan
}

/// Whether a file name is one of the log file kinds looked at inside a directory.
pub fn is_log_file_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let base = lower.strip_suffix(".gz").unwrap_or(&lower);
    [".json", ".jsonl", ".log", ".csv"]
        .iter()
        .any(|ext| base.ends_with(ext))
        && !is_credentials_file_name(base)
}

/// Access key CSVs, never opened in a directory walk: keyspill's own `USER-KEY.secret.csv`,
/// and the console's `USER_accessKeys.csv` and `credentials.csv` downloads.
fn is_credentials_file_name(lower: &str) -> bool {
    lower.ends_with(".secret.csv")
        || lower.ends_with("accesskeys.csv")
        || lower.ends_with("credentials.csv")
}

fn origin_of(path: &Path) -> Origin {
    Origin::File {
        path: path.display().to_string().into(),
    }
}

fn skip(path: &Path, reason: String) -> Skipped {
    Skipped {
        origin: origin_of(path),
        reason,
    }
}

/// Add `path` to `files`: itself when it is a file (named explicitly, or with a log file
/// name), its log files when it is a directory. Symbolic links to directories are not
/// followed inside a tree, so a link cycle cannot trap the walk.
fn collect(path: &Path, named: bool, files: &mut Vec<PathBuf>, skipped: &mut Vec<Skipped>) {
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) => {
            skipped.push(skip(path, format!("cannot read ({e})")));
            return;
        }
    };
    if meta.is_file() {
        let name = path.file_name().map(|n| n.to_string_lossy());
        if named || name.is_some_and(|n| is_log_file_name(&n)) {
            files.push(path.to_path_buf());
        }
        return;
    }
    if !meta.is_dir() {
        if named {
            skipped.push(skip(path, "not a file or a directory".into()));
        }
        return;
    }
    let entries = match fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) => {
            skipped.push(skip(path, format!("cannot list directory ({e})")));
            return;
        }
    };
    let mut children = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => {
                let is_dir_link =
                    entry.file_type().is_ok_and(|t| t.is_symlink()) && entry.path().is_dir();
                if !is_dir_link {
                    children.push(entry.path());
                }
            }
            Err(e) => skipped.push(skip(path, format!("cannot list directory ({e})"))),
        }
    }
    children.sort();
    for child in children {
        collect(&child, false, files, skipped);
    }
}

/// Per-worker buffers, reused from file to file.
#[derive(Default)]
struct Buffers {
    file: Vec<u8>,
    text: Vec<u8>,
}

fn scan_file(path: &Path, filter: Option<&KeyFilter>, buffers: &mut Buffers) -> Parsed {
    buffers.file.clear();
    if let Err(e) = fs::File::open(path).and_then(|mut f| f.read_to_end(&mut buffers.file)) {
        let mut out = Parsed::default();
        out.skipped.push(skip(path, format!("cannot read ({e})")));
        return out;
    }
    let parsed = scan_into(&buffers.file, &origin_of(path), filter, &mut buffers.text);
    // One huge file must not keep its buffers alive for the rest of the scan.
    for buf in [&mut buffers.file, &mut buffers.text] {
        if buf.capacity() > 256 << 20 {
            *buf = Vec::new();
        }
    }
    parsed
}

/// One log object's bytes (gzip'd or not), from wherever they came (a file, an S3 object):
/// decompressed, then every event, or with `filter` only the events it keeps. A failure is
/// reported in `skipped` under `origin`.
pub fn scan_bytes(bytes: &[u8], origin: &Origin, filter: Option<&KeyFilter>) -> Parsed {
    scan_into(bytes, origin, filter, &mut Vec::new())
}

fn scan_into(
    bytes: &[u8],
    origin: &Origin,
    filter: Option<&KeyFilter>,
    text: &mut Vec<u8>,
) -> Parsed {
    let doc: &[u8] = if is_gzip(bytes) {
        if let Err(reason) = gunzip_into(bytes, text, false) {
            let mut out = Parsed::default();
            out.skipped.push(Skipped {
                origin: origin.clone(),
                reason,
            });
            return out;
        }
        text
    } else {
        bytes
    };
    match filter {
        None => parse_document(doc, origin),
        Some(filter) => filtered(doc, filter, origin),
    }
}

/// The events of one document that a filter keeps, parsing as little as possible.
fn filtered(doc: &[u8], filter: &KeyFilter, origin: &Origin) -> Parsed {
    let start = doc
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(doc)
        .trim_ascii_start();
    if is_csv(start) {
        // A CSV download: only the rows that mention a key are read.
        if !filter.hits(start) {
            return Parsed::default();
        }
        let mut out = parse_csv(start, origin, Some(&|row: &[u8]| filter.hits(row)));
        out.events.retain(|e| keeps(filter, e));
        return out;
    }
    // An empty file, one that is not JSON at all, or a digest: a full parse is cheap (it
    // stops at the first byte, or the file is small) and reports or counts it as the
    // unfiltered scan would.
    if !matches!(start.first(), Some(b'{' | b'[')) || looks_like_digest(start) {
        let mut out = parse_document(doc, origin);
        out.events.retain(|e| keeps(filter, e));
        return out;
    }
    let mut out = match filter.scan_records(doc) {
        ScanOutcome::ParseWhole => match json_lines_with_hits(doc, filter, origin) {
            Some(parsed) => parsed,
            None => parse_document(doc, origin),
        },
        ScanOutcome::Records(spans) => {
            let mut out = Parsed::default();
            for span in spans {
                let label = format!("record {}", span.index + 1);
                let reason = match serde_json::from_slice(span.bytes) {
                    Ok(value) => match parse_record(&value, origin) {
                        Ok(event) => {
                            out.events.push(event);
                            continue;
                        }
                        Err(reason) => reason,
                    },
                    Err(e) => format!("not JSON ({e})"),
                };
                out.skipped.push(Skipped {
                    origin: origin.clone(),
                    reason: format!("{label}: {reason}"),
                });
            }
            out
        }
    };
    out.events.retain(|e| keeps(filter, e));
    out
}

/// JSON Lines (the first non-blank line is a whole JSON object, and more lines follow): only
/// the lines that mention a key are parsed. `None` for any other shape.
fn json_lines_with_hits(doc: &[u8], filter: &KeyFilter, origin: &Origin) -> Option<Parsed> {
    let mut lines = doc
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(n, line)| (n + 1, line.trim_ascii()))
        .filter(|(_, line)| !line.is_empty());
    let (_, first) = lines.next()?;
    lines.next()?;
    if !matches!(
        serde_json::from_slice(first),
        Ok(serde_json::Value::Object(_))
    ) {
        return None;
    }
    let mut out = Parsed::default();
    for (number, line) in doc
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(n, line)| (n + 1, line.trim_ascii()))
    {
        if !line.is_empty() && filter.hits(line) {
            parse_line(line, number, origin, &mut out);
        }
    }
    Some(out)
}

/// Whether a filter keeps an event: made with a tracked key, or minting one.
pub fn keeps(filter: &KeyFilter, event: &Event) -> bool {
    filter.contains(&event.access_key_id)
        || event
            .minted
            .as_ref()
            .is_some_and(|m| filter.contains(&m.key_id))
}

/// A digest file is a small single object whose members start with `digest…` or
/// `awsAccountId`; a log file starts with `{"Records"`.
fn looks_like_digest(start: &[u8]) -> bool {
    let head = start.get(..start.len().min(512)).unwrap_or(start);
    memchr::memmem::find(head, b"\"digestStartTime\"").is_some()
        || memchr::memmem::find(head, b"\"awsAccountId\"").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_file_names() {
        for yes in [
            "a.json",
            "a.JSON.gz",
            "x.jsonl",
            "y.log",
            "z.log.gz",
            "h.csv",
        ] {
            assert!(is_log_file_name(yes), "{yes}");
        }
        for no in [
            "a.md",
            "a.gz",
            "json",
            "a.json.bak",
            "a.txt",
            "ci-deploy-AKIAEXAMPLE.secret.csv",
            "alice_accessKeys.csv",
            "credentials.csv",
        ] {
            assert!(!is_log_file_name(no), "{no}");
        }
    }

    #[test]
    fn missing_path_is_skipped() {
        let scan = scan_paths(&[PathBuf::from("/nonexistent/keyspill/logs")], None);
        assert_eq!(scan.files, 0);
        assert_eq!(scan.skipped.len(), 1);
        assert!(scan.skipped[0].reason.starts_with("cannot read"));
    }
}
