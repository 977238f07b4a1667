//! Local files as a timeline source (`--logs PATH`, repeatable): a copy of a trail bucket, a
//! LookupEvents export, a SIEM's JSON Lines dump.
//!
//! A path is a file or a directory searched recursively for `.json`, `.json.gz`, `.jsonl`,
//! `.log` and `.csv` files (also gzip'd; never an access key CSV; a file named on its own is
//! read whatever its name). Files are read in parallel, one at a time per worker: a file is
//! read, decompressed, filtered and dropped before the worker takes the next. A file that cannot be read or understood is
//! counted as skipped, with the reason, and the scan goes on.
//!
//! Memory is bounded whatever the files hold (an attacker with an admin key can plant objects
//! in the trail bucket):
//!
//! * compressed bytes and decompressed text are held against two budgets shared by every
//!   worker of the process ([`INPUT`], [`TEXT`]): a worker waits for room rather than adding
//!   its file on top of the others';
//! * a document is held whole only up to [`MAX_DECOMPRESSED`]; a larger one is read as a
//!   stream when it is JSON Lines (line by line, each line up to [`MAX_LINE`]) and otherwise
//!   skipped with "larger than … MiB, not read";
//! * a document is never turned into one JSON tree when it is larger than [`MAX_TREE`] (a
//!   tree costs many times its text): delivered logs and arrays are read element by element,
//!   JSON Lines line by line;
//! * bad records are counted, with the first few reasons per file ([`REASONS_PER_DOCUMENT`](crate::timeline::parse::REASONS_PER_DOCUMENT))
//!   and at most [`MAX_REASONS`] for the whole scan.
//!
//! With a [`KeyFilter`] only the records made with a tracked key, or minting one, are kept,
//! and only records whose bytes mention a key are ever parsed (see
//! [`KeyFilter::scan_records`]). Keys those records mint are not followed here: the caller
//! scans again with them.

use std::fs;
use std::io::Read;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};

use rayon::prelude::*;

use crate::timeline::model::{Event, Origin};
use crate::timeline::parse::{
    Gunzip, MAX_DECOMPRESSED, Parsed, Skipped, gunzip_into, gzip_size_hint, is_csv, is_gzip,
    parse_csv, parse_document, parse_line, parse_record,
};
use crate::timeline::prefilter::{
    KeyFilter, ScanOutcome, Walk, array_elements, object_members, top_values, walk_array,
    walk_member, walk_records,
};

/// What a scan of local files found.
#[derive(Debug, Clone, Default)]
pub struct FileScan {
    pub events: Vec<Event>,
    /// Data files read (or attempted), digest files and failures included.
    pub files: usize,
    /// CloudTrail digest files seen.
    pub digests: usize,
    /// The first problems, each with its path and the reason: at most
    /// [`REASONS_PER_DOCUMENT`](crate::timeline::parse::REASONS_PER_DOCUMENT) per file and [`MAX_REASONS`] in all.
    pub skipped: Vec<Skipped>,
    /// Every file, record or line that could not be used.
    pub skipped_count: usize,
    /// Files with at least one of them (a path that could not be read counts as one).
    pub skipped_files: usize,
}

/// How many reasons a whole scan keeps (the rest are counted).
pub const MAX_REASONS: usize = 50;

/// Largest document turned into one JSON tree; beyond it, element by element. A tree costs up
/// to sixteen times its text (`[1,1,…]`), so this stays small.
pub const MAX_TREE: usize = 4 << 20;

/// Longest line read from a JSON Lines stream.
pub const MAX_LINE: usize = 8 << 20;

/// A streamed JSON Lines file stops after this much text (a gzip bomb of valid lines would
/// otherwise keep a worker busy for hours).
pub const MAX_STREAMED: u64 = 64 << 30;

impl FileScan {
    /// Counts one file's problems and keeps its reasons while there is room.
    fn add_skips(&mut self, parsed: &mut Parsed) {
        if parsed.skipped_count == 0 {
            return;
        }
        self.skipped_count += parsed.skipped_count;
        self.skipped_files += 1;
        let room = MAX_REASONS.saturating_sub(self.skipped.len());
        self.skipped
            .extend(std::mem::take(&mut parsed.skipped).into_iter().take(room));
    }
}

/// Memory the scan may hold at once, in bytes, shared by every worker: a worker asks for what
/// a file needs and waits until the others have given enough back.
///
/// There are two (compressed input, decompressed text), always taken in that order and
/// text never waited for while more text is held, so two workers cannot wait on each other.
#[derive(Debug)]
pub struct Budget {
    limit: usize,
    /// In use, and the most ever in use at once.
    used: Mutex<(usize, usize)>,
    freed: Condvar,
}

/// Compressed bytes held at once: local gzip files read whole, and S3 objects.
pub static INPUT: Budget = Budget::new(48 << 20);

/// Decompressed text held at once, by every worker together: the largest document read whole.
pub static TEXT: Budget = Budget::new(MAX_DECOMPRESSED as usize);

/// Part of a [`Budget`], given back when dropped.
#[derive(Debug)]
pub struct Grant {
    budget: &'static Budget,
    bytes: usize,
}

impl Budget {
    pub const fn new(limit: usize) -> Budget {
        Budget {
            limit,
            used: Mutex::new((0, 0)),
            freed: Condvar::new(),
        }
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes granted and not given back.
    pub fn in_use(&self) -> usize {
        self.used.lock().unwrap_or_else(|p| p.into_inner()).0
    }

    /// The most ever granted at once.
    pub fn peak(&self) -> usize {
        self.used.lock().unwrap_or_else(|p| p.into_inner()).1
    }

    /// `bytes` of the budget, waiting until they are free; `None` when they never can be
    /// (more than the whole budget).
    pub fn acquire(&'static self, bytes: usize) -> Option<Grant> {
        if bytes > self.limit {
            return None;
        }
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        while used.0 + bytes > self.limit {
            used = self.freed.wait(used).unwrap_or_else(|p| p.into_inner());
        }
        used.0 += bytes;
        used.1 = used.1.max(used.0);
        Some(Grant {
            budget: self,
            bytes,
        })
    }
}

impl Grant {
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

impl Drop for Grant {
    fn drop(&mut self) {
        let mut used = self.budget.used.lock().unwrap_or_else(|p| p.into_inner());
        used.0 = used.0.saturating_sub(self.bytes);
        self.budget.freed.notify_all();
    }
}

/// The budgets a scan draws on: the process's own ([`INPUT`], [`TEXT`]) unless a test wants
/// smaller ones.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub input: &'static Budget,
    pub text: &'static Budget,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            input: &INPUT,
            text: &TEXT,
        }
    }
}

/// Read every log file under `paths`. With `filter`, keep only the events whose
/// `userIdentity.accessKeyId` or minted key is one of its keys; with `None`, every event.
/// Events come in file order (paths sorted within a directory), then record order.
pub fn scan_paths(paths: &[PathBuf], filter: Option<&KeyFilter>) -> FileScan {
    scan_paths_within(paths, filter, Limits::default())
}

/// [`scan_paths`] within these budgets.
pub fn scan_paths_within(
    paths: &[PathBuf],
    filter: Option<&KeyFilter>,
    limits: Limits,
) -> FileScan {
    let mut scan = FileScan::default();
    let mut files = Vec::new();
    let mut unreadable = Parsed::default();
    for path in paths {
        collect(path, true, &mut files, &mut unreadable);
    }
    scan.files = files.len();
    // Each unreadable path is a file of its own.
    for s in std::mem::take(&mut unreadable.skipped) {
        let mut one = Parsed::default();
        one.skip(&s.origin, s.reason);
        scan.add_skips(&mut one);
    }
    let unlisted = unreadable.skipped_count.saturating_sub(scan.skipped_files);
    scan.skipped_count += unlisted;
    scan.skipped_files += unlisted;

    let results: Vec<Parsed> = files
        .par_iter()
        .map_init(Buffers::default, |buffers, path| {
            scan_file(path, filter, limits, buffers)
        })
        .collect();
    for mut parsed in results {
        scan.events.append(&mut parsed.events);
        scan.digests += parsed.digests;
        scan.add_skips(&mut parsed);
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

/// Add `path` to `files`: itself when it is a file (named explicitly, or with a log file
/// name), its log files when it is a directory. Symbolic links to directories are not
/// followed inside a tree, so a link cycle cannot trap the walk.
fn collect(path: &Path, named: bool, files: &mut Vec<PathBuf>, skipped: &mut Parsed) {
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) => {
            skipped.skip(&origin_of(path), format!("cannot read ({e})"));
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
            skipped.skip(&origin_of(path), "not a file or a directory".into());
        }
        return;
    }
    let entries = match fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) => {
            skipped.skip(&origin_of(path), format!("cannot list directory ({e})"));
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
            Err(e) => skipped.skip(&origin_of(path), format!("cannot list directory ({e})")),
        }
    }
    children.sort();
    for child in children {
        collect(&child, false, files, skipped);
    }
}

/// Per-worker buffers, reused from file to file while they stay small (a large one is
/// dropped after its file, so that its memory goes back and its budget with it).
#[derive(Default)]
struct Buffers {
    file: Vec<u8>,
    text: Vec<u8>,
}

/// Buffers larger than this are not kept from one file to the next.
const KEEP: usize = 4 << 20;

impl Buffers {
    fn trim(&mut self) {
        for buf in [&mut self.file, &mut self.text] {
            if buf.capacity() > KEEP {
                *buf = Vec::new();
            }
        }
    }
}

fn scan_file(
    path: &Path,
    filter: Option<&KeyFilter>,
    limits: Limits,
    buffers: &mut Buffers,
) -> Parsed {
    let origin = origin_of(path);
    let parsed = match read_and_scan(path, &origin, filter, limits, buffers) {
        Ok(parsed) => parsed,
        Err(reason) => {
            let mut out = Parsed::default();
            out.skip(&origin, reason);
            out
        }
    };
    buffers.trim();
    parsed
}

fn read_and_scan(
    path: &Path,
    origin: &Origin,
    filter: Option<&KeyFilter>,
    limits: Limits,
    buffers: &mut Buffers,
) -> Result<Parsed, String> {
    let cannot = |e: std::io::Error| format!("cannot read ({e})");
    let mut file = fs::File::open(path).map_err(cannot)?;
    let size = usize::try_from(file.metadata().map_err(cannot)?.len()).unwrap_or(usize::MAX);
    let mut magic = [0u8; 2];
    let got = read_up_to(&mut file, &mut magic).map_err(cannot)?;
    let gzip = is_gzip(magic.get(..got).unwrap_or_default());
    // Whole in memory when it fits its budget: compressed files against the input budget,
    // plain ones against the text budget (they are their own text).
    let budget = if gzip { limits.input } else { limits.text };
    if size > budget.limit() {
        let file = fs::File::open(path).map_err(cannot)?;
        let reader: Box<dyn Read> = if gzip {
            Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(
                file,
            )))
        } else {
            Box::new(file)
        };
        return Ok(stream(reader, origin, filter, limits));
    }
    let Some(grant) = budget.acquire(size) else {
        return Err(too_large(budget.limit()));
    };
    buffers.file.clear();
    buffers
        .file
        .extend_from_slice(magic.get(..got).unwrap_or_default());
    buffers.file.reserve_exact(size.saturating_sub(got));
    (&mut file)
        .take(size.saturating_sub(got) as u64)
        .read_to_end(&mut buffers.file)
        .map_err(cannot)?;
    let parsed = scan_held(&buffers.file, origin, filter, limits, &mut buffers.text);
    drop(grant);
    Ok(parsed)
}

/// Fills as much of `buf` as the reader has; returns how much.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(buf.get_mut(got..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

fn too_large(limit: usize) -> String {
    format!("larger than {} MiB, not read", limit >> 20)
}

/// One log object's bytes (gzip'd or not), from wherever they came (a file, an S3 object):
/// decompressed, then every event, or with `filter` only the events it keeps. A failure is
/// reported in `skipped` under `origin`. The decompressed text is held against the process's
/// text budget ([`TEXT`]).
pub fn scan_bytes(bytes: &[u8], origin: &Origin, filter: Option<&KeyFilter>) -> Parsed {
    scan_bytes_within(bytes, origin, filter, Limits::default())
}

/// [`scan_bytes`] within these budgets (the caller accounts for `bytes` itself).
pub fn scan_bytes_within(
    bytes: &[u8],
    origin: &Origin,
    filter: Option<&KeyFilter>,
    limits: Limits,
) -> Parsed {
    scan_held(bytes, origin, filter, limits, &mut Vec::new())
}

/// A document held in memory (compressed or not; its own memory already accounted for).
fn scan_held(
    bytes: &[u8],
    origin: &Origin,
    filter: Option<&KeyFilter>,
    limits: Limits,
    text: &mut Vec<u8>,
) -> Parsed {
    if !is_gzip(bytes) {
        return scan_doc(bytes, origin, filter);
    }
    let cap = limits.text.limit();
    // First ask for what the trailer announces; if the file lies, for the whole budget.
    let mut want = gzip_size_hint(bytes).map_or(cap, |hint| hint.min(cap));
    loop {
        let Some(grant) = limits.text.acquire(want) else {
            return one_skip(origin, too_large(cap));
        };
        match gunzip_into(bytes, text, grant.bytes()) {
            Ok(n) => {
                let doc = text.get(..n).unwrap_or_default();
                let parsed = scan_doc(doc, origin, filter);
                if text.capacity() > KEEP {
                    *text = Vec::new();
                }
                return parsed;
            }
            Err(Gunzip::TooLarge(_)) if want < cap => {
                drop(grant);
                *text = Vec::new();
                want = cap;
            }
            Err(Gunzip::TooLarge(_)) => {
                drop(grant);
                *text = Vec::new();
                let reader = flate2::read::MultiGzDecoder::new(bytes);
                return stream(reader, origin, filter, limits);
            }
            Err(Gunzip::Bad(reason)) => return one_skip(origin, reason),
        }
    }
}

fn one_skip(origin: &Origin, reason: String) -> Parsed {
    let mut out = Parsed::default();
    out.skip(origin, reason);
    out
}

/// One whole document in memory.
fn scan_doc(doc: &[u8], origin: &Origin, filter: Option<&KeyFilter>) -> Parsed {
    // A CSV is read row by row whatever its size: never a tree.
    if doc.len() > MAX_TREE && !is_csv(doc) {
        let mut out = large_document(doc, origin, filter);
        if let Some(filter) = filter {
            out.events.retain(|e| keeps(filter, e));
        }
        return out;
    }
    match filter {
        None => parse_document(doc, origin),
        Some(filter) => filtered(doc, filter, origin),
    }
}

/// A document too large for one JSON tree: element by element when it is a delivered log or
/// an array, line by line when it is JSON Lines; refused otherwise. With a filter, only the
/// elements and lines that mention a key are parsed (the caller keeps the events it wants).
fn large_document(doc: &[u8], origin: &Origin, filter: Option<&KeyFilter>) -> Parsed {
    let mut out = Parsed::default();
    if looks_like_json_lines(doc) {
        let mut lines = Lines::default();
        lines.feed(doc, true, origin, filter, &mut out);
        return out;
    }
    let wanted = |bytes: &[u8]| filter.is_none_or(|f| f.hits(bytes));
    let mut walk = walk_records(doc, |index, start, end| {
        let bytes = doc.get(start..end).unwrap_or_default();
        if wanted(bytes) {
            element(bytes, index, true, origin, &mut out);
        }
        ControlFlow::Continue(())
    });
    let mut other = |index: usize, start: usize, end: usize| {
        let bytes = doc.get(start..end).unwrap_or_default();
        if wanted(bytes) {
            element(bytes, index, false, origin, &mut out);
        }
        ControlFlow::Continue(())
    };
    if walk == Walk::NotRecords {
        walk = walk_array(doc, &mut other);
    }
    if walk == Walk::NotRecords {
        walk = walk_member(doc, b"\"Events\"", &mut other);
    }
    if walk == Walk::NotRecords && large_objects(doc, origin, filter, &mut out) {
        return out;
    }
    match walk {
        Walk::Complete | Walk::Stopped => {}
        Walk::Broken { at } => out.skip(
            origin,
            format!("document ends early or is damaged (at byte {at})"),
        ),
        Walk::NotRecords => out.skip(
            origin,
            format!(
                "one JSON document larger than {} MiB that is not a log file, an array, \
                 saved LookupEvents output or JSON Lines: not read",
                MAX_TREE >> 20
            ),
        ),
    }
    out
}

/// Arrays whose elements are read one by one in a large object, whatever their first element
/// looks like: the containers of [`parse_document`] (a log file, LookupEvents output, an
/// Elasticsearch response's `hits`, Splunk's `results`, CloudWatch Logs events, a CloudTrail
/// Lake query's rows). Any other array is read only when its first element holds an event.
const CONTAINER_ARRAYS: [&[u8]; 7] = [
    b"\"Records\"",
    b"\"Events\"",
    b"\"hits\"",
    b"\"results\"",
    b"\"events\"",
    b"\"logEvents\"",
    b"\"QueryResultRows\"",
];

/// A large document made of objects (one, or several one after the other as a CloudWatch Logs
/// delivery writes them) that is not a log file: each object small enough is read whole; a
/// larger one is taken apart without a tree, every array among its members (or their members,
/// as in `hits.hits`) read element by element, each element inside a copy of its containers so
/// that it reads as it would in place. Returns false, touching nothing, when `doc` is not
/// objects.
fn large_objects(
    doc: &[u8],
    origin: &Origin,
    filter: Option<&KeyFilter>,
    out: &mut Parsed,
) -> bool {
    let start = skip_bom_ws(doc);
    if start.first() != Some(&b'{') {
        return false;
    }
    let wanted = |bytes: &[u8]| filter.is_none_or(|f| f.hits(bytes));
    let mut count = 0usize;
    let mut read_any = false;
    let whole = top_values(doc, |from, to| {
        count += 1;
        let bytes = doc.get(from..to).unwrap_or_default();
        if bytes.len() <= MAX_TREE {
            if wanted(bytes) {
                let mut one = parse_document(bytes, origin);
                relabel(&mut one, "object", count);
                out.absorb(one);
            }
            read_any = true;
            return;
        }
        let found = object_members(doc, from, |name, at, end| match doc.get(at) {
            Some(b'[') => {
                read_any |= container_array(doc, (name, None), (at, end), origin, &wanted, out);
            }
            Some(b'{') => {
                let _ = object_members(doc, at, |inner, at, end| {
                    if doc.get(at) == Some(&b'[') {
                        read_any |= container_array(
                            doc,
                            (name, Some(inner)),
                            (at, end),
                            origin,
                            &wanted,
                            out,
                        );
                    }
                });
            }
            _ => {}
        });
        if found.is_none() {
            out.skip(origin, format!("object {count}: damaged, not read"));
        }
    });
    if whole.is_none() && count == 0 {
        return false;
    }
    if whole.is_none() {
        out.skip(
            origin,
            format!("document damaged after object {count}: the rest is not read"),
        );
    }
    if !read_any {
        out.skip(
            origin,
            format!(
                "one JSON document larger than {} MiB with no array of CloudTrail records in \
                 it: not read",
                MAX_TREE >> 20
            ),
        );
    }
    true
}

/// One array of a large object (`names`: its member name, and the inner one for `hits.hits`),
/// its elements read one by one, each wrapped as `{name:[element]}` (or `{name:{inner:[…]}}`).
/// Returns whether the array was read (a container, or events in its first element).
fn container_array(
    doc: &[u8],
    (name, inner): (&[u8], Option<&[u8]>),
    (at, end): (usize, usize),
    origin: &Origin,
    wanted: &dyn Fn(&[u8]) -> bool,
    out: &mut Parsed,
) -> bool {
    let last = inner.unwrap_or(name);
    let known = CONTAINER_ARRAYS.contains(&last);
    let wrap = |element: &[u8]| {
        let mut w = Vec::with_capacity(element.len() + name.len() + last.len() + 8);
        w.push(b'{');
        w.extend_from_slice(name);
        w.push(b':');
        if let Some(inner) = inner {
            w.push(b'{');
            w.extend_from_slice(inner);
            w.push(b':');
        }
        w.push(b'[');
        w.extend_from_slice(element);
        w.push(b']');
        if inner.is_some() {
            w.push(b'}');
        }
        w.push(b'}');
        w
    };
    let mut read = known;
    let walk = array_elements(doc.get(..end).unwrap_or_default(), at, |index, from, to| {
        let bytes = doc.get(from..to).unwrap_or_default();
        if bytes.len() > MAX_TREE {
            out.skip(
                origin,
                format!(
                    "element {}: larger than {} MiB, not read",
                    index + 1,
                    MAX_TREE >> 20
                ),
            );
            return ControlFlow::Continue(());
        }
        if !read {
            // An array that is no container: read only when its first element holds events.
            let probe = parse_document(&wrap(bytes), origin);
            if probe.events.is_empty() {
                return ControlFlow::Break(());
            }
            read = true;
        }
        if wanted(bytes) {
            let mut one = parse_document(&wrap(bytes), origin);
            relabel(&mut one, "element", index + 1);
            out.absorb(one);
        }
        ControlFlow::Continue(())
    });
    if read && let Walk::Broken { at } = walk {
        out.skip(
            origin,
            format!("array damaged (at byte {at}): the rest is not read"),
        );
    }
    read
}

/// Reasons from a part read on its own say where the part was: `hit 1: …` read as the 5th
/// element becomes `hit 5: …`; any other reason gets `word n: ` before it.
fn relabel(part: &mut Parsed, word: &str, n: usize) {
    for s in &mut part.skipped {
        s.reason = match s.reason.split_once(": ") {
            Some((head, rest)) if head.ends_with(" 1") && !head.contains(", ") => {
                format!("{} {n}: {rest}", head.trim_end_matches(" 1"))
            }
            _ => format!("{word} {n}: {}", s.reason),
        };
    }
}

/// `doc` past a byte order mark and leading white space.
fn skip_bom_ws(doc: &[u8]) -> &[u8] {
    doc.strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(doc)
        .trim_ascii_start()
}

/// One element of a large log file's `Records` (`records`) or of a large array.
fn element(bytes: &[u8], index: usize, records: bool, origin: &Origin, out: &mut Parsed) {
    let label = format!("record {}", index + 1);
    if bytes.len() > MAX_TREE {
        out.skip(
            origin,
            format!("{label}: larger than {} MiB, not read", MAX_TREE >> 20),
        );
        return;
    }
    if records {
        let reason = match serde_json::from_slice(bytes) {
            Ok(value) => match parse_record(&value, origin) {
                Ok(event) => {
                    out.events.push(event);
                    return;
                }
                Err(reason) => reason,
            },
            Err(e) => format!("not JSON ({e})"),
        };
        out.skip(origin, format!("{label}: {reason}"));
    } else {
        let mut one = parse_document(bytes, origin);
        for s in &mut one.skipped {
            s.reason = format!("{label}: {}", s.reason);
        }
        out.absorb(one);
    }
}

/// The first non-blank line is a whole JSON object (of a sensible size) and another follows.
fn looks_like_json_lines(doc: &[u8]) -> bool {
    let mut lines = doc
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty());
    let Some(first) = lines.next() else {
        return false;
    };
    first.len() <= MAX_LINE
        && first.first() == Some(&b'{')
        && lines.next().is_some()
        && matches!(
            serde_json::from_slice(first),
            Ok(serde_json::Value::Object(_))
        )
}

/// JSON Lines read in pieces: the line number so far and a partial last line.
#[derive(Default)]
struct Lines {
    number: usize,
    /// Inside a line longer than [`MAX_LINE`]: skip to its end.
    discarding: bool,
}

impl Lines {
    /// Every complete line of `chunk` (all of it when `last`); returns how many bytes were
    /// used (the rest is a partial line to feed again with more).
    fn feed(
        &mut self,
        chunk: &[u8],
        last: bool,
        origin: &Origin,
        filter: Option<&KeyFilter>,
        out: &mut Parsed,
    ) -> usize {
        let mut used = 0;
        loop {
            let rest = chunk.get(used..).unwrap_or_default();
            let (line, next) = match memchr::memchr(b'\n', rest) {
                Some(at) => (rest.get(..at).unwrap_or_default(), used + at + 1),
                None if last && !rest.is_empty() => (rest, chunk.len()),
                None => return used,
            };
            self.number += 1;
            used = next;
            if std::mem::take(&mut self.discarding) {
                continue;
            }
            let line = line.trim_ascii();
            if line.is_empty() || filter.is_some_and(|f| !f.hits(line)) {
                continue;
            }
            if line.len() > MAX_LINE {
                out.skip(
                    origin,
                    format!(
                        "line {}: longer than {} MiB, not read",
                        self.number,
                        MAX_LINE >> 20
                    ),
                );
                continue;
            }
            parse_line(line, self.number, origin, out);
        }
    }

    /// A line that fills the whole buffer: counted and skipped up to its end.
    fn overlong(&mut self, origin: &Origin, out: &mut Parsed) {
        out.skip(
            origin,
            format!(
                "line {}: longer than {} MiB, not read",
                self.number + 1,
                MAX_LINE >> 20
            ),
        );
        self.discarding = true;
    }
}

/// A document too large to hold, read as a stream: JSON Lines line by line (with a filter,
/// only the lines that mention a key are parsed); anything else is refused after its first
/// piece. The buffer is held against the text budget.
fn stream(
    mut reader: impl Read,
    origin: &Origin,
    filter: Option<&KeyFilter>,
    limits: Limits,
) -> Parsed {
    let mut out = Parsed::default();
    let size = (MAX_LINE * 2).min(limits.text.limit());
    let Some(_grant) = limits.text.acquire(size) else {
        out.skip(origin, too_large(limits.text.limit()));
        return out;
    };
    let mut buf = vec![0u8; size];
    let (mut held, mut total, mut first) = (0usize, 0u64, true);
    let mut lines = Lines::default();
    loop {
        let room = buf.get_mut(held..).unwrap_or_default();
        let got = match read_up_to(&mut reader, room) {
            Ok(got) => got,
            Err(e) => {
                out.skip(origin, format!("stopped reading ({e})"));
                break;
            }
        };
        held += got;
        total += got as u64;
        let last = got == 0 || held < buf.len();
        let piece = buf.get(..held).unwrap_or_default();
        if first {
            first = false;
            if !looks_like_json_lines(piece) {
                out.skip(
                    origin,
                    format!(
                        "larger than {} MiB and not JSON Lines, not read",
                        limits.text.limit().min(MAX_DECOMPRESSED as usize) >> 20
                    ),
                );
                break;
            }
        }
        let used = lines.feed(piece, last, origin, filter, &mut out);
        if last {
            break;
        }
        if used == 0 {
            lines.overlong(origin, &mut out);
            held = 0;
            continue;
        }
        buf.copy_within(used..held, 0);
        held -= used;
        if total > MAX_STREAMED {
            out.skip(
                origin,
                format!("stopped after {} GiB of text", MAX_STREAMED >> 30),
            );
            break;
        }
    }
    if let Some(filter) = filter {
        out.events.retain(|e| keeps(filter, e));
    }
    out
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
                out.skip(origin, format!("{label}: {reason}"));
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

    use std::io::Write;

    fn limits(input: usize, text: usize) -> Limits {
        Limits {
            input: Box::leak(Box::new(Budget::new(input))),
            text: Box::leak(Box::new(Budget::new(text))),
        }
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(data).expect("write");
        enc.finish().expect("finish")
    }

    const KEY: &str = "AKIATESTBOUNDS000001";

    fn line(n: usize, key: &str) -> String {
        format!(
            r#"{{"eventVersion":"1.08","eventTime":"2026-03-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","eventID":"id-{n}","userIdentity":{{"type":"IAMUser","accessKeyId":"{key}"}},"pad":"{}"}}"#,
            "x".repeat(200)
        )
    }

    /// JSON Lines: every 1000th line made with the tracked key.
    fn json_lines(lines: usize) -> (String, usize) {
        let mut text = String::new();
        let mut tracked = 0;
        for n in 0..lines {
            let key = if n % 1000 == 0 {
                tracked += 1;
                KEY
            } else {
                "AKIASOMEONEELSE00001"
            };
            text.push_str(&line(n, key));
            text.push('\n');
        }
        (text, tracked)
    }

    fn filter() -> KeyFilter {
        KeyFilter::new([KEY.to_string()])
    }

    #[test]
    fn json_lines_larger_than_the_budget_are_streamed() {
        let l = limits(64 << 10, 1 << 20);
        let (text, tracked) = json_lines(20_000);
        assert!(text.len() > 4 << 20);
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("export.jsonl"), &text).expect("write");
        std::fs::write(dir.path().join("export2.jsonl.gz"), gz(text.as_bytes())).expect("write");
        let scan = scan_paths_within(&[dir.path().to_path_buf()], Some(&filter()), l);
        assert_eq!(scan.events.len(), 2 * tracked, "{:?}", scan.skipped);
        assert_eq!(scan.skipped_count, 0, "{:?}", scan.skipped);
        let all = scan_paths_within(&[dir.path().to_path_buf()], None, l);
        assert_eq!(all.events.len(), 2 * 20_000);
        assert!(l.text.peak() <= l.text.limit() && l.input.peak() <= l.input.limit());
        assert_eq!((l.text.in_use(), l.input.in_use()), (0, 0));
    }

    #[test]
    fn a_single_document_over_the_cap_is_named_and_not_read() {
        let l = limits(1 << 20, 1 << 20);
        let records: Vec<String> = (0..10_000).map(|n| line(n, KEY)).collect();
        let doc = format!("{{\"Records\":[{}]}}", records.join(","));
        assert!(doc.len() > 2 << 20);
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join("big.json"), &doc).expect("write");
        std::fs::write(dir.path().join("big.json.gz"), gz(doc.as_bytes())).expect("write");
        let scan = scan_paths_within(&[dir.path().to_path_buf()], Some(&filter()), l);
        assert!(scan.events.is_empty());
        assert_eq!((scan.skipped_count, scan.skipped_files), (2, 2));
        for s in &scan.skipped {
            assert!(s.reason.contains("larger than 1 MiB"), "{s}");
            assert!(s.reason.contains("not read"), "{s}");
            assert!(s.to_string().contains("big.json"), "{s}");
        }
        // Within the default budgets the same files are read.
        let scan = scan_paths(&[dir.path().to_path_buf()], Some(&filter()));
        assert_eq!(scan.events.len(), 2 * 10_000);
    }

    #[test]
    fn a_gzip_bomb_is_refused_within_the_budget() {
        let l = limits(1 << 20, 2 << 20);
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(format!("{{\"Records\":[\"{KEY}\"").as_bytes())
            .expect("write");
        let zeros = vec![0u8; 1 << 20];
        // 16 MiB of text in a file eight times smaller than the budget.
        for _ in 0..16 {
            enc.write_all(&zeros).expect("write");
        }
        let bomb = enc.finish().expect("finish");
        assert!(bomb.len() < 256 << 10);
        let origin = Origin::File {
            path: "bomb.json.gz".into(),
        };
        for lie in [false, true] {
            let mut bomb = bomb.clone();
            if lie {
                let n = bomb.len();
                bomb[n - 4..].copy_from_slice(&100u32.to_le_bytes());
            }
            let parsed = scan_bytes_within(&bomb, &origin, Some(&filter()), l);
            assert!(parsed.events.is_empty());
            assert_eq!(parsed.skipped_count, 1, "{:?}", parsed.skipped);
            assert!(
                parsed.skipped[0].reason.contains("not read"),
                "{:?}",
                parsed.skipped
            );
        }
        assert!(l.text.peak() <= l.text.limit());
        assert_eq!(l.text.in_use(), 0);
    }

    #[test]
    fn skipped_records_are_counted_with_a_few_reasons() {
        let dir = tempfile::tempdir().expect("dir");
        for f in 0..30 {
            let mut text = line(f, KEY);
            text.push('\n');
            for _ in 0..10 {
                text.push_str("{\"eventVersion\":\"1\"}\n");
            }
            std::fs::write(dir.path().join(format!("f{f:02}.jsonl")), text).expect("write");
        }
        let scan = scan_paths(&[dir.path().to_path_buf()], None);
        assert_eq!(scan.events.len(), 30);
        assert_eq!(scan.skipped_count, 300);
        assert_eq!(scan.skipped_files, 30);
        assert_eq!(scan.skipped.len(), MAX_REASONS);
        assert_eq!(scan.skipped[0].reason, "line 2: no eventTime");
        // A hostile array: millions of bad records cost a count, not a list.
        let ones = format!("[{}1]", "1,".repeat(2_000_000));
        let p = scan_doc(ones.as_bytes(), &origin_of(Path::new("ones.json")), None);
        assert_eq!(p.skipped_count, 2_000_001);
        assert_eq!(
            p.skipped.len(),
            crate::timeline::parse::REASONS_PER_DOCUMENT
        );
    }

    #[test]
    fn large_arrays_and_lookup_saves_are_read_element_by_element() {
        let records: Vec<String> = (0..15_000)
            .map(|n| {
                line(
                    n,
                    if n % 1000 == 0 {
                        KEY
                    } else {
                        "AKIASOMEONEELSE00001"
                    },
                )
            })
            .collect();
        let array = format!("[{}]", records.join(","));
        let items: Vec<serde_json::Value> = records
            .iter()
            .map(|r| serde_json::json!({"EventName": "ListBuckets", "CloudTrailEvent": r}))
            .collect();
        let saved = serde_json::json!({"Events": items, "NextToken": "more"}).to_string();
        let o = origin_of(Path::new("big.json"));
        for doc in [&array, &saved] {
            assert!(doc.len() > MAX_TREE);
            let some = scan_doc(doc.as_bytes(), &o, Some(&filter()));
            assert_eq!(some.events.len(), 15, "{:?}", some.skipped);
            let all = scan_doc(doc.as_bytes(), &o, None);
            assert_eq!((all.events.len(), all.skipped_count), (15_000, 0));
        }
        // A large document with no CloudTrail in it is refused by name, not parsed whole.
        let ones = format!("{{\"x\":[{}1]}}", "1,".repeat(3 << 20));
        let p = scan_doc(ones.as_bytes(), &o, None);
        assert_eq!((p.events.len(), p.skipped_count), (0, 1));
        assert!(p.skipped[0].reason.contains("not read"), "{:?}", p.skipped);
    }

    /// What SIEMs and CloudWatch Logs export as one large JSON document is read element by
    /// element, as the same document under the tree cap would be.
    #[test]
    fn large_siem_documents_are_read_element_by_element() {
        let n = 15_000;
        let key = |i: usize| {
            if i.is_multiple_of(1000) {
                KEY
            } else {
                "AKIASOMEONEELSE00001"
            }
        };
        let hits: Vec<serde_json::Value> = (0..n)
            .map(|i| {
                let record: serde_json::Value =
                    serde_json::from_str(&line(i, key(i))).expect("record");
                serde_json::json!({"_index": "cloudtrail", "_id": i.to_string(), "_source": record})
            })
            .collect();
        let search = serde_json::json!({
            "took": 12, "timed_out": false, "_shards": {"total": 1},
            "hits": {"total": {"value": n}, "max_score": 1.0, "hits": hits}
        })
        .to_string();
        let results: Vec<serde_json::Value> = (0..n)
            .map(|i| serde_json::json!({"_raw": line(i, key(i)), "_time": "2026-03-01"}))
            .collect();
        let splunk = serde_json::json!({
            "preview": false, "init_offset": 0, "messages": [],
            "fields": [{"name": "_raw"}, {"name": "_time"}], "results": results
        })
        .to_string();
        // A Firehose delivery of a CloudWatch Logs subscription: objects one after another.
        let delivery: String = (0..n / 100)
            .map(|batch| {
                let events: Vec<serde_json::Value> = (batch * 100..batch * 100 + 100)
                    .map(|i| serde_json::json!({"id": i.to_string(), "timestamp": 1, "message": line(i, key(i))}))
                    .collect();
                serde_json::json!({"messageType": "DATA_MESSAGE", "logGroup": "trail", "logEvents": events})
                    .to_string()
            })
            .collect();
        let o = origin_of(Path::new("export.json"));
        for (what, doc) in [
            ("search", &search),
            ("splunk", &splunk),
            ("delivery", &delivery),
        ] {
            assert!(doc.len() > MAX_TREE, "{what}");
            let some = scan_doc(doc.as_bytes(), &o, Some(&filter()));
            assert_eq!(some.events.len(), 15, "{what}: {:?}", some.skipped);
            let all = scan_doc(doc.as_bytes(), &o, None);
            assert_eq!(
                (all.events.len(), all.skipped_count),
                (n, 0),
                "{what}: {:?}",
                all.skipped
            );
        }
        // A bad element is named by its place among the others.
        let broken = search.replacen("2026-03-01T00:00:00Z", "not a time", 1);
        let p = scan_doc(broken.as_bytes(), &o, None);
        assert_eq!(
            (p.events.len(), p.skipped_count),
            (n - 1, 1),
            "{:?}",
            p.skipped
        );
        assert!(p.skipped[0].reason.starts_with("hit "), "{:?}", p.skipped);
    }

    /// A CSV over the tree cap is read row by row, not refused.
    #[test]
    fn large_csv_is_read_row_by_row() {
        let mut csv = String::from(
            "Event ID,Event time,User name,Event name,AWS access key,Event source,AWS region,Source IP address\n",
        );
        for i in 0..40_000usize {
            csv.push_str(&format!(
                "id-{i},2026-03-01T00:00:00Z,ci,ListBuckets,{},s3.amazonaws.com,us-east-1,203.0.113.{}\n",
                if i.is_multiple_of(1000) { KEY } else { "AKIASOMEONEELSE00001" },
                i % 250
            ));
        }
        csv.push_str(&"x".repeat(MAX_TREE));
        csv.push('\n');
        assert!(csv.len() > MAX_TREE);
        let o = origin_of(Path::new("event_history.csv"));
        let some = scan_doc(csv.as_bytes(), &o, Some(&filter()));
        assert_eq!(some.events.len(), 40, "{:?}", some.skipped);
        let all = scan_doc(csv.as_bytes(), &o, None);
        assert_eq!(all.events.len(), 40_000, "{:?}", all.skipped);
    }

    #[test]
    fn budget_waits_for_room_and_refuses_the_impossible() {
        let budget: &'static Budget = Box::leak(Box::new(Budget::new(100)));
        assert!(budget.acquire(101).is_none());
        let a = budget.acquire(60).expect("room");
        let waiter = std::thread::spawn(move || budget.acquire(60).map(|g| g.bytes()));
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert_eq!(budget.in_use(), 60, "the second waits");
        drop(a);
        assert_eq!(waiter.join().expect("thread"), Some(60));
        assert_eq!((budget.in_use(), budget.peak()), (0, 60));
    }

    #[test]
    fn missing_path_is_skipped() {
        let scan = scan_paths(&[PathBuf::from("/nonexistent/keyspill/logs")], None);
        assert_eq!(scan.files, 0);
        assert_eq!(scan.skipped.len(), 1);
        assert_eq!((scan.skipped_count, scan.skipped_files), (1, 1));
        assert!(scan.skipped[0].reason.starts_with("cannot read"));
    }
}
