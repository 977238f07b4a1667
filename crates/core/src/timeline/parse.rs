//! Turning CloudTrail JSON, in every container it reaches people in, into [`Event`]s.
//!
//! Containers understood by [`parse_document`]:
//!
//! * a delivered log file, `{"Records":[…]}`;
//! * a JSON array of records;
//! * JSON Lines, one object per line (blank lines skipped; a bad line is reported and the other
//!   lines still count);
//! * a single record object;
//! * saved `LookupEvents` output, `{"Events":[…]}`, whose items carry the record as a JSON
//!   string in `CloudTrailEvent` (items that are raw records, as in some AWS docs, work too),
//!   and JSON Lines of such items;
//! * EventBridge envelopes (`"detail-type": "AWS API Call via CloudTrail"` and its siblings),
//!   the record under `detail`;
//! * digest files, which are counted and otherwise ignored;
//! * JSON objects one after the other (`{…}{…}`, a Firehose delivery);
//! * what SIEMs and log services export (Elasticsearch hits and documents, Logstash and Elastic
//!   documents with `@timestamp`, Splunk's export and search results, CloudWatch Logs events):
//!   see `siem.rs`;
//! * CSV: the CloudTrail console's event-history download, and Splunk's, Kibana's and Athena's
//!   CSV of the same events: see `console_csv.rs`.
//!
//! Nothing here panics on bad input: a document or record that cannot be used becomes a
//! [`Skipped`] entry that says why.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::timeline::model::{Event, Minted, Origin, intern};
use crate::timeline::prefilter::{Walk, walk_records};
use crate::timeline::{console_csv, siem};

/// A file or record that could not be turned into an event, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub origin: Origin,
    /// In words, with the position when there is one: `line 7: not JSON (…)`,
    /// `record 3: no eventTime`.
    pub reason: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.origin, self.reason)
    }
}

/// What one document held.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub events: Vec<Event>,
    /// Digest files seen (not events, not errors).
    pub digests: usize,
    /// The first [`REASONS_PER_DOCUMENT`] problems, with the reason; `skipped_count` counts
    /// them all. A hostile file can hold millions of bad records: one entry each would cost
    /// more memory than the file.
    pub skipped: Vec<Skipped>,
    /// Everything that could not be used: the whole document, or each bad record or line.
    pub skipped_count: usize,
}

/// How many reasons a document keeps (the rest are only counted).
pub const REASONS_PER_DOCUMENT: usize = 3;

impl Parsed {
    /// Counts one problem, and keeps its reason while fewer than [`REASONS_PER_DOCUMENT`] are.
    pub fn skip(&mut self, origin: &Origin, reason: String) {
        self.skipped_count += 1;
        if self.skipped.len() < REASONS_PER_DOCUMENT {
            self.skipped.push(Skipped {
                origin: origin.clone(),
                reason,
            });
        }
    }

    /// Adds what another part of the same document held (its reasons within the cap).
    pub fn absorb(&mut self, mut other: Parsed) {
        self.events.append(&mut other.events);
        self.digests += other.digests;
        self.skipped_count += other.skipped_count;
        let room = REASONS_PER_DOCUMENT.saturating_sub(self.skipped.len());
        self.skipped.extend(other.skipped.into_iter().take(room));
    }
}

/// Largest document [`decompress`] and the scan will hold in memory (decompressed): far above
/// any real trail log object (a busy account's five minutes in one region is a few MiB), and
/// small enough that a gzip bomb or a planted giant costs a bounded amount of memory. A larger
/// file is read as a stream when it is JSON Lines, and refused otherwise.
pub const MAX_DECOMPRESSED: u64 = 128 << 20;

/// Whether `bytes` starts with the gzip magic number.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Gunzip `bytes` when they start with the gzip magic (several concatenated members are read
/// as one stream, and each member's CRC-32 and length are checked); anything else is returned
/// as it is, without a copy. At most [`MAX_DECOMPRESSED`] bytes are produced.
pub fn decompress(bytes: &[u8]) -> Result<Cow<'_, [u8]>, String> {
    if !is_gzip(bytes) {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut out = Vec::new();
    let cap = usize::try_from(MAX_DECOMPRESSED).unwrap_or(usize::MAX);
    let len = gunzip_into(bytes, &mut out, cap).map_err(|e| e.to_string())?;
    out.truncate(len);
    Ok(Cow::Owned(out))
}

/// Why a gzip stream was not decompressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gunzip {
    /// It decompresses to more than the cap it was given (in bytes).
    TooLarge(usize),
    /// Damaged, cut short, or not gzip: the reason in words.
    Bad(String),
}

impl fmt::Display for Gunzip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gunzip::TooLarge(cap) => write!(f, "decompresses to more than {} MiB", cap >> 20),
            Gunzip::Bad(reason) => f.write_str(reason),
        }
    }
}

impl From<String> for Gunzip {
    fn from(reason: String) -> Gunzip {
        Gunzip::Bad(reason)
    }
}

impl From<&str> for Gunzip {
    fn from(reason: &str) -> Gunzip {
        Gunzip::Bad(reason.to_string())
    }
}

/// The size a gzip file says it decompresses to (its last member's length field), when
/// deflate could plausibly reach it from this many compressed bytes. Only a hint: a damaged
/// file, several members or a lying trailer make it wrong, and [`gunzip_into`] checks.
pub fn gzip_size_hint(bytes: &[u8]) -> Option<usize> {
    let tail = bytes.get(bytes.len().checked_sub(4)?..)?;
    let size = u32::from_le_bytes(le(tail)) as usize;
    // Deflate's best ratio is a little over 1000:1.
    (size <= bytes.len().saturating_mul(1032)).then_some(size)
}

/// Gunzip every member of `bytes` into the start of `out`, producing at most `cap` bytes;
/// returns how many (the document is `out[..n]`; `out` may be longer, its tail stale, so that
/// a reused buffer is not zeroed again for every file).
///
/// A single-member file whose trailer tells its size (every delivered trail log) is inflated
/// in one call by libdeflate, the fastest inflater measured here (about 1.4 × zlib-rs on
/// trail logs), and its CRC-32 checked. Anything else (several members, a trailer that lies,
/// a file cut short) goes through zlib-rs member by member, each member's length and CRC-32
/// checked.
pub fn gunzip_into(bytes: &[u8], out: &mut Vec<u8>, cap: usize) -> Result<usize, Gunzip> {
    if let Some(n) = gunzip_whole(bytes, out, cap) {
        return Ok(n);
    }
    gunzip_members(bytes, out, cap)
}

thread_local! {
    static INFLATER: std::cell::RefCell<libdeflater::Decompressor> =
        std::cell::RefCell::new(libdeflater::Decompressor::new());
}

/// The fast path of [`gunzip_into`]: `None` when the file is not one member of the size its
/// trailer says (the slow path then reads it, or says what is wrong).
fn gunzip_whole(bytes: &[u8], out: &mut Vec<u8>, cap: usize) -> Option<usize> {
    let tail = bytes.get(bytes.len().checked_sub(8)?..)?;
    let (crc, _) = tail.split_at(4);
    let size = gzip_size_hint(bytes)?;
    if size > cap {
        return None;
    }
    if out.len() < size {
        out.resize(size, 0);
    }
    let dest = out.get_mut(..size)?;
    let n = INFLATER
        .with(|d| d.borrow_mut().gzip_decompress(bytes, dest))
        .ok()?;
    // libdeflate reads the first member only and checks it against its own trailer. The one
    // at the end of the file must describe the same bytes, or there are more members.
    let produced = dest.get(..n)?;
    (n == size && libdeflater::crc32(produced) == u32::from_le_bytes(le(crc))).then_some(n)
}

/// The slow path of [`gunzip_into`]: member after member, with zlib-rs, into `out` (cleared
/// first); each member's length and CRC-32 checked.
fn gunzip_members(bytes: &[u8], out: &mut Vec<u8>, cap: usize) -> Result<usize, Gunzip> {
    out.clear();
    if let Some(hint) = gzip_size_hint(bytes) {
        out.reserve(hint.min(cap).saturating_add(64));
    }
    let mut rest = bytes;
    let mut member = 0usize;
    while !rest.is_empty() {
        if member > 0 && !is_gzip(rest) {
            // Some writers pad the file with zeros; anything else is damage.
            if rest.iter().all(|&b| b == 0) {
                break;
            }
            return Err(format!("not valid gzip (stray bytes after member {member})").into());
        }
        let header = gzip_header_len(rest)?;
        let body = rest.get(header..).unwrap_or_default();
        let start = out.len();
        let used = inflate_member(body, out, cap)?;
        let trailer = header
            .checked_add(used)
            .and_then(|at| rest.get(at..at.checked_add(8)?))
            .ok_or("gzip data ends early (no trailer)")?;
        let (crc, size) = trailer.split_at(4);
        let produced = out.get(start..).unwrap_or_default();
        if produced.len() as u32 != u32::from_le_bytes(le(size)) {
            return Err("not valid gzip (length check failed)".into());
        }
        if libdeflater::crc32(produced) != u32::from_le_bytes(le(crc)) {
            return Err("not valid gzip (CRC check failed)".into());
        }
        rest = rest.get(header + used + 8..).unwrap_or_default();
        member += 1;
    }
    Ok(out.len())
}

/// Inflate one raw deflate stream from the start of `body`, appending to `out` without
/// letting it pass `cap` bytes; returns how many bytes of `body` it used.
fn inflate_member(body: &[u8], out: &mut Vec<u8>, cap: usize) -> Result<usize, Gunzip> {
    let mut inflater = flate2::Decompress::new(false);
    loop {
        let used = usize::try_from(inflater.total_in()).unwrap_or(usize::MAX);
        let input = body.get(used..).unwrap_or_default();
        if out.len() == out.capacity() {
            // One byte of room past the cap tells "exactly the cap" from "more than the cap".
            let room = cap.saturating_add(1).saturating_sub(out.len());
            if room == 0 {
                out.clear();
                return Err(Gunzip::TooLarge(cap));
            }
            out.reserve_exact(room.min(out.capacity().max(64 << 10)));
        }
        let before = out.len();
        let status = inflater
            .decompress_vec(input, out, flate2::FlushDecompress::Finish)
            .map_err(|e| format!("not valid gzip ({e})"))?;
        if out.len() > cap {
            out.clear();
            return Err(Gunzip::TooLarge(cap));
        }
        if status == flate2::Status::StreamEnd {
            return Ok(usize::try_from(inflater.total_in()).unwrap_or(usize::MAX));
        }
        let took = usize::try_from(inflater.total_in()).unwrap_or(usize::MAX) != used;
        if !took && out.len() == before && out.len() < out.capacity() {
            return Err("gzip data ends early".into());
        }
    }
}

/// Length of the gzip member header at the start of `b` (RFC 1952, section 2.3).
fn gzip_header_len(b: &[u8]) -> Result<usize, String> {
    const FHCRC: u8 = 0x02;
    const FEXTRA: u8 = 0x04;
    const FNAME: u8 = 0x08;
    const FCOMMENT: u8 = 0x10;
    let short = || "gzip header cut short".to_string();
    let Some(&[0x1f, 0x8b, method, flags, ..]) = b.get(..10) else {
        return Err(short());
    };
    if method != 8 {
        return Err(format!("not valid gzip (compression method {method})"));
    }
    let mut at = 10usize;
    if flags & FEXTRA != 0 {
        let len = b.get(at..at + 2).ok_or_else(short)?;
        at += 2 + usize::from(u16::from_le_bytes(le(len)));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let text = b.get(at..).ok_or_else(short)?;
            at += memchr::memchr(0, text).ok_or_else(short)? + 1;
        }
    }
    if flags & FHCRC != 0 {
        at += 2;
    }
    if at > b.len() {
        return Err(short());
    }
    Ok(at)
}

/// The first `N` bytes as an array, for `from_le_bytes` (zeros where fewer are given).
fn le<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    for (o, i) in out.iter_mut().zip(b) {
        *o = *i;
    }
    out
}

/// Every event in one document, whatever its container (see the module docs).
pub fn parse_document(bytes: &[u8], origin: &Origin) -> Parsed {
    let mut out = Parsed::default();
    let untrimmed = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = untrimmed.trim_ascii();
    if text.is_empty() {
        out.skip(origin, "empty document".into());
        return out;
    }
    if is_gzip(text) {
        // What is left after one gunzip is gzip again: Firehose compressing a CloudWatch Logs
        // subscription's already compressed data does this.
        out.skip(
            origin,
            "gzip inside gzip (compressed twice, as a Firehose delivery of CloudWatch Logs can \
             be): gunzip it once and read the result"
                .into(),
        );
        return out;
    }
    if console_csv::looks_like_csv(text) {
        return parse_csv(text, origin, None);
    }
    // A delivered log file is read record by record: never a JSON tree of the whole file,
    // which can be many times its size.
    if let Some(parsed) = records_one_by_one(text, origin) {
        return parsed;
    }
    let whole_error = match serde_json::from_slice::<Value>(text) {
        Ok(value) => {
            absorb_document(value, "", origin, &mut out);
            return out;
        }
        Err(e) => e,
    };
    // Line numbers count from the top of the file, blank lines included.
    if json_lines(untrimmed, origin, &mut out) {
        return out;
    }
    if concatenated(text, origin, &mut out) {
        return out;
    }
    // Not one JSON value and not JSON Lines. A delivered log file that was cut short still
    // has whole records before the cut: keep those.
    let salvaged = salvage_records(text, origin, &mut out);
    out.skip(
        origin,
        if salvaged {
            format!("log file ends early or is damaged ({whole_error})")
        } else {
            format!("not JSON ({whole_error})")
        },
    );
    out
}

/// Whether a document (BOM and leading white space allowed) has the shape of CSV rather than
/// JSON: [`parse_csv`] reads it.
pub fn is_csv(bytes: &[u8]) -> bool {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    console_csv::looks_like_csv(text.trim_ascii_start())
}

/// Which rows of a CSV download to read, from their bytes (`true`: read it).
pub type KeepRow<'a> = &'a dyn Fn(&[u8]) -> bool;

/// A CloudTrail console event-history CSV download. With `keep`, only the rows whose bytes it
/// accepts are read (a key filter's byte search); the others cost no JSON parsing.
pub fn parse_csv(bytes: &[u8], origin: &Origin, keep: Option<KeepRow<'_>>) -> Parsed {
    let mut out = Parsed::default();
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let read = console_csv::rows(text.trim_ascii_start(), keep, |label, row| match row {
        Ok(record) => absorb_record(&record, &label, origin, &mut out),
        Err(reason) => out.skip(origin, format!("{label}: {reason}")),
    });
    if let Err(reason) = read {
        out.skip(origin, reason);
    }
    out
}

/// Treat `text` as JSON Lines. Returns false, touching nothing, when it does not look like it
/// (fewer than half of the non-blank lines are JSON objects): then it is one broken document,
/// better reported once than line by line.
fn json_lines(text: &[u8], origin: &Origin, out: &mut Parsed) -> bool {
    let mut found = Parsed::default();
    let (mut lines, mut objects) = (0usize, 0usize);
    for (n, line) in text.split(|&b| b == b'\n').enumerate() {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        lines += 1;
        if parse_line(line, n + 1, origin, &mut found) {
            objects += 1;
        }
        // Plain text, or a pretty-printed document: stop before collecting a reason per line.
        if lines >= 32 && objects * 2 < lines {
            return false;
        }
    }
    if objects == 0 || objects * 2 < lines {
        return false;
    }
    out.absorb(found);
    true
}

/// JSON objects one after the other with nothing between them (a Firehose delivery of
/// CloudWatch Logs to S3 writes `{…}{…}`). Returns false, touching nothing, unless the text
/// opens with such an object; each object is then read as it comes (nothing is collected),
/// and text that breaks after whole objects costs the rest of the file, with a reason.
fn concatenated(text: &[u8], origin: &Origin, out: &mut Parsed) -> bool {
    let mut count = 0usize;
    for value in serde_json::Deserializer::from_slice(text).into_iter::<Value>() {
        match value {
            Ok(Value::Object(map)) if count > 0 || looks_like_cloudtrail(&map) => {
                count += 1;
                absorb_document(Value::Object(map), &format!("object {count}"), origin, out);
            }
            Ok(other) if count > 0 => {
                count += 1;
                out.skip(
                    origin,
                    format!(
                        "object {count}: not a JSON object (a JSON {})",
                        kind(&other)
                    ),
                );
            }
            Err(e) if count > 0 => {
                out.skip(
                    origin,
                    format!(
                        "object {}: not JSON ({e}); the rest of the file is not read",
                        count + 1
                    ),
                );
                break;
            }
            Ok(_) | Err(_) => return false,
        }
    }
    count > 0
}

/// Whether an object is CloudTrail in one of the shapes read here, by its members alone.
fn looks_like_cloudtrail(map: &Map<String, Value>) -> bool {
    is_digest(map) || siem::looks_like_cloudtrail(map)
}

/// One line of JSON Lines (`number` counts from 1), its events and reasons added to `out`.
/// Returns whether the line was a JSON object.
pub(crate) fn parse_line(line: &[u8], number: usize, origin: &Origin, out: &mut Parsed) -> bool {
    let at = format!("line {number}");
    match serde_json::from_slice::<Value>(line) {
        Ok(value @ Value::Object(_)) => {
            absorb_document(value, &at, origin, out);
            true
        }
        Ok(_) => {
            out.skip(origin, format!("{at}: not a JSON object"));
            false
        }
        Err(e) => {
            out.skip(origin, format!("{at}: not JSON ({e})"));
            false
        }
    }
}

/// The events of a well-formed `{"Records":[…]}` document, each record parsed on its own.
/// `None` when the document has another shape or its structure breaks somewhere (the caller
/// then looks at it as a whole).
fn records_one_by_one(text: &[u8], origin: &Origin) -> Option<Parsed> {
    let mut out = Parsed::default();
    let walk = walk_records(text, |index, start, end| {
        let label = format!("record {}", index + 1);
        match text.get(start..end).map(serde_json::from_slice::<Value>) {
            Some(Ok(value)) => absorb_record(&value, &label, origin, &mut out),
            Some(Err(e)) => out.skip(origin, format!("{label}: not JSON ({e})")),
            None => {}
        }
        std::ops::ControlFlow::Continue(())
    });
    (walk == Walk::Complete).then_some(out)
}

/// Recover the complete records of a `{"Records":[…]}` document that breaks somewhere.
/// Returns whether the document had that shape.
fn salvage_records(text: &[u8], origin: &Origin, out: &mut Parsed) -> bool {
    let mut spans = Vec::new();
    let walk = walk_records(text, |index, start, end| {
        spans.push((index, start, end));
        std::ops::ControlFlow::Continue(())
    });
    if walk == Walk::NotRecords {
        return false;
    }
    for (index, start, end) in spans {
        let label = format!("record {}", index + 1);
        match text.get(start..end).map(serde_json::from_slice::<Value>) {
            Some(Ok(value)) => absorb_record(&value, &label, origin, out),
            Some(Err(e)) => out.skip(origin, format!("{label}: not JSON ({e})")),
            None => {}
        }
    }
    true
}

/// One parsed JSON document, or one line of JSON Lines (`at` is then `line N`, and prefixes
/// every reason).
fn absorb_document(value: Value, at: &str, origin: &Origin, out: &mut Parsed) {
    let nth = |i: usize| {
        if at.is_empty() {
            format!("record {}", i + 1)
        } else {
            format!("{at}, record {}", i + 1)
        }
    };
    let whole = if at.is_empty() { "record 1" } else { at };
    match value {
        Value::Object(map) => {
            if is_digest(&map) {
                out.digests += 1;
            } else if let Some(Value::Array(records)) = map.get("Records") {
                for (i, record) in records.iter().enumerate() {
                    absorb_record(record, &nth(i), origin, out);
                }
            } else if let Some(Value::Array(items)) = map.get("Events")
                && !map.contains_key("eventTime")
            {
                for (i, item) in items.iter().enumerate() {
                    absorb_item(item, &nth(i), origin, out, 0);
                }
            } else if !map.contains_key("eventTime") && siem::is_container(&map) {
                // A SIEM's container: reasons name what is inside it (`hit 3`), not a record.
                absorb_item(&Value::Object(map), at, origin, out, 0);
            } else {
                absorb_item(&Value::Object(map), whole, origin, out, 0);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                absorb_item(item, &nth(i), origin, out, 0);
            }
        }
        other => {
            let what = format!("not a CloudTrail document (a JSON {})", kind(&other));
            out.skip(
                origin,
                if at.is_empty() {
                    what
                } else {
                    format!("{at}: {what}")
                },
            )
        }
    }
}

/// A CloudTrail digest file: hashes of the log files, no events.
fn is_digest(map: &Map<String, Value>) -> bool {
    !map.contains_key("eventTime")
        && (map.contains_key("digestStartTime")
            || map.contains_key("digestS3Object")
            || (map.contains_key("logFiles") && map.contains_key("awsAccountId")))
}

/// How many containers deep a record is looked for (a Splunk result in an Elasticsearch
/// document in a search response is three): a document nesting records in strings without
/// end is refused rather than followed.
const MAX_NESTING: u8 = 6;

/// `label, word n` (or `word n` when there is no label yet).
fn join(label: &str, word: &str, n: usize) -> String {
    if label.is_empty() {
        format!("{word} {n}")
    } else {
        format!("{label}, {word} {n}")
    }
}

/// An element of an array or `Events` list: a record, a LookupEvents item, an EventBridge
/// envelope, a nested log document, or a SIEM's container (`depth` of them around it so far).
/// `label` places it in reasons; empty for a whole document that is a SIEM container.
fn absorb_item(item: &Value, label: &str, origin: &Origin, out: &mut Parsed, depth: u8) {
    let label_or_record = if label.is_empty() { "record 1" } else { label };
    let Value::Object(map) = item else {
        absorb_record(item, label_or_record, origin, out);
        return;
    };
    if map.contains_key("eventTime") {
        match siem::nested_again(map) {
            Some(record) => absorb_record(&record, label_or_record, origin, out),
            None => absorb_record(item, label_or_record, origin, out),
        }
    } else if let Some(inner) = map.get("CloudTrailEvent") {
        // LookupEvents: the record is a JSON document inside a string. Its own eventTime is
        // the truth; the wrapper's EventTime is re-rendered by whoever saved it.
        match inner {
            Value::String(text) => match serde_json::from_str::<Value>(text) {
                Ok(record) => absorb_record(&record, label_or_record, origin, out),
                Err(e) => out.skip(
                    origin,
                    format!("{label_or_record}: CloudTrailEvent is not JSON ({e})"),
                ),
            },
            Value::Object(_) => absorb_record(inner, label_or_record, origin, out),
            other => out.skip(
                origin,
                format!(
                    "{label_or_record}: CloudTrailEvent is a JSON {}",
                    kind(other)
                ),
            ),
        }
    } else if let Some(detail) = map.get("detail")
        && let Some(detail_type) = map.get("detail-type")
    {
        let words = detail_type.as_str().unwrap_or_default();
        if words.to_ascii_lowercase().contains("cloudtrail") {
            absorb_record(detail, label_or_record, origin, out);
        } else {
            out.skip(
                origin,
                format!(
                    "{label_or_record}: EventBridge event {words:?} does not come from CloudTrail"
                ),
            );
        }
    } else if is_digest(map) {
        out.digests += 1;
    } else if let Some(Value::Array(records)) = map.get("Records") {
        for (i, record) in records.iter().enumerate() {
            absorb_record(record, &join(label, "record", i + 1), origin, out);
        }
    } else if let Some(inner) = siem::unwrap(map) {
        if depth >= MAX_NESTING {
            out.skip(
                origin,
                format!("{label_or_record}: containers nested more than {MAX_NESTING} deep"),
            );
            return;
        }
        match inner {
            siem::Inner::Many(word, items) => {
                for (i, item) in items.iter().enumerate() {
                    absorb_item(item, &join(label, word, i + 1), origin, out, depth + 1);
                }
            }
            siem::Inner::One(inner) => absorb_item(&inner, label, origin, out, depth + 1),
            siem::Inner::Bad(reason) => out.skip(origin, format!("{label_or_record}: {reason}")),
            siem::Inner::Empty => {}
            siem::Inner::Rows(rows) => {
                for (i, row) in rows.iter().enumerate() {
                    absorb_item(row, &join(label, "row", i + 1), origin, out, depth + 1);
                }
            }
        }
    } else {
        absorb_record(item, label_or_record, origin, out);
    }
}

fn absorb_record(record: &Value, label: &str, origin: &Origin, out: &mut Parsed) {
    match parse_record(record, origin) {
        Ok(event) => out.events.push(event),
        Err(reason) => out.skip(origin, format!("{label}: {reason}")),
    }
}

/// The kind of a JSON value, in words, for reasons.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// STS calls that hand out temporary credentials.
const MINTING_CALLS: [&str; 5] = [
    "AssumeRole",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
    "GetSessionToken",
    "GetFederationToken",
];

/// Normalize one CloudTrail record. Fails, in words, when it is not an object or has no
/// usable `eventTime` (a fragment such as `{eventVersion, userIdentity}` is not an event).
pub fn parse_record(v: &Value, origin: &Origin) -> Result<Event, String> {
    let Value::Object(map) = v else {
        return Err(format!("not a JSON object (a JSON {})", kind(v)));
    };
    let time = match map.get("eventTime") {
        None | Some(Value::Null) => return Err("no eventTime".into()),
        Some(Value::String(s)) => {
            parse_time(s).ok_or_else(|| format!("eventTime {s:?} is not an RFC 3339 time"))?
        }
        Some(other) => return Err(format!("eventTime is a JSON {}, not a string", kind(other))),
    };

    let id = match map.get("eventID") {
        Some(Value::String(s)) if !s.is_empty() => Box::from(s.as_str()),
        _ => format!("h:{:016x}", stable_hash(v)).into_boxed_str(),
    };

    let mut service = text_at(v, &["eventSource"]);
    let mut name = text_at(v, &["eventName"]);
    let insight = text_at(v, &["eventType"]).eq_ignore_ascii_case("AwsCloudTrailInsight")
        || text_at(v, &["eventCategory"]).eq_ignore_ascii_case("Insight");
    if insight || (service.is_empty() && name.is_empty()) {
        let inner_service = text_at(v, &["insightDetails", "eventSource"]);
        let inner_name = text_at(v, &["insightDetails", "eventName"]);
        if !inner_service.is_empty() {
            service = inner_service;
        }
        if !inner_name.is_empty() {
            name = inner_name;
        }
    }

    let error_code = nonempty(text_at(v, &["errorCode"]));
    let mut error_message = nonempty(text_at(v, &["errorMessage"]));
    if error_code.is_none()
        && error_message.is_none()
        && text_at(v, &["responseElements", "ConsoleLogin"]).eq_ignore_ascii_case("Failure")
    {
        // A failed console sign-in normally says why in errorMessage; keep it visible as a
        // failure even when a record lacks that.
        error_message = Some("ConsoleLogin: Failure".into());
    }

    let minted = minted(v, &service, &name).map(Box::new);
    let shared = |path: &[&str]| intern(&text_at(v, path));

    Ok(Event {
        id,
        time,
        region: shared(&["awsRegion"]),
        source_ip: shared(&["sourceIPAddress"]),
        user_agent: shared(&["userAgent"]),
        identity_type: shared(&["userIdentity", "type"]),
        identity_arn: shared(&["userIdentity", "arn"]),
        access_key_id: shared(&["userIdentity", "accessKeyId"]),
        error_code: error_code.as_deref().map(intern),
        error_message: error_message.as_deref().map(intern),
        read_only: flag(v.get("readOnly"), "true", "false"),
        mfa_used: flag(
            v.get("additionalEventData").and_then(|d| d.get("MFAUsed")),
            "yes",
            "no",
        ),
        minted,
        origin: origin.clone(),
        raw: Arc::from(v.to_string()),
        risk: None,
        service: intern(&service),
        name: intern(&name),
    })
}

/// Credentials a call created: `responseElements.credentials.accessKeyId` of an STS call, or
/// the new long-term key of `iam:CreateAccessKey` (an attacker's key for a backdoor user is
/// as much the attacker's as a session is).
fn minted(v: &Value, service: &str, name: &str) -> Option<Minted> {
    if service.eq_ignore_ascii_case("iam.amazonaws.com") && name == "CreateAccessKey" {
        let key_id = nonempty(text_at(
            v,
            &["responseElements", "accessKey", "accessKeyId"],
        ))?;
        let user = text_at(v, &["responseElements", "accessKey", "userName"]);
        let user = if user.is_empty() {
            text_at(v, &["requestParameters", "userName"])
        } else {
            user
        };
        let via = if user.is_empty() {
            name.to_string()
        } else {
            format!("{name} {user}")
        };
        return Some(Minted { key_id, via });
    }
    if !service.eq_ignore_ascii_case("sts.amazonaws.com") || !MINTING_CALLS.contains(&name) {
        return None;
    }
    let key_id = nonempty(text_at(
        v,
        &["responseElements", "credentials", "accessKeyId"],
    ))?;
    let detail = match name {
        "GetFederationToken" => text_at(v, &["requestParameters", "name"]),
        "GetSessionToken" => String::new(),
        _ => role_name(&text_at(v, &["requestParameters", "roleArn"])).to_string(),
    };
    let via = if detail.is_empty() {
        name.to_string()
    } else {
        format!("{name} {detail}")
    };
    Some(Minted { key_id, via })
}

/// `deploy-role` from `arn:aws:iam::123456789012:role/path/deploy-role`.
fn role_name(arn: &str) -> &str {
    let resource = arn.rsplit(':').next().unwrap_or(arn);
    resource.rsplit('/').next().unwrap_or(resource)
}

/// An RFC 3339 time, in UTC. A space instead of `T` is tolerated.
fn parse_time(s: &str) -> Option<OffsetDateTime> {
    let parsed = OffsetDateTime::parse(s, &Rfc3339).ok().or_else(|| {
        let spaced = s.get(10..11)? == " ";
        let fixed = format!("{}T{}", s.get(..10)?, s.get(11..)?);
        spaced
            .then(|| OffsetDateTime::parse(&fixed, &Rfc3339).ok())
            .flatten()
    })?;
    parsed.checked_to_offset(UtcOffset::UTC)
}

/// The text at a path of object keys: strings as they are, numbers and booleans as written,
/// empty when missing or null.
fn text_at(v: &Value, path: &[&str]) -> String {
    let mut at = v;
    for key in path {
        match at.get(key) {
            Some(next) => at = next,
            None => return String::new(),
        }
    }
    match at {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null | Value::Array(_) | Value::Object(_) => String::new(),
    }
}

fn nonempty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// A yes/no field that may be a JSON boolean or a string (`"true"`, `"Yes"`, any case).
fn flag(v: Option<&Value>, yes: &str, no: &str) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case(yes) => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case(no) => Some(false),
        _ => None,
    }
}

/// 64-bit FNV-1a over a canonical encoding of the value: object members sorted by key, every
/// string length-prefixed. The same record always gives the same number, on any machine and
/// whatever the key order or whitespace of the text it came from.
pub fn stable_hash(v: &Value) -> u64 {
    let mut h = Fnv::new();
    feed(v, &mut h);
    h.0
}

struct Fnv(u64);

impl Fnv {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    fn new() -> Fnv {
        Fnv(Self::OFFSET)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    fn write_len(&mut self, n: usize) {
        self.write(&(n as u64).to_le_bytes());
    }

    fn write_str(&mut self, s: &str) {
        self.write_len(s.len());
        self.write(s.as_bytes());
    }
}

fn feed(v: &Value, h: &mut Fnv) {
    match v {
        Value::Null => h.write(b"n"),
        Value::Bool(true) => h.write(b"t"),
        Value::Bool(false) => h.write(b"f"),
        Value::Number(n) => {
            h.write(b"#");
            h.write_str(&n.to_string());
        }
        Value::String(s) => {
            h.write(b"s");
            h.write_str(s);
        }
        Value::Array(items) => {
            h.write(b"[");
            h.write_len(items.len());
            for item in items {
                feed(item, h);
            }
        }
        Value::Object(map) => {
            h.write(b"{");
            h.write_len(map.len());
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_by(|a, b| a.0.cmp(b.0));
            for (key, value) in members {
                h.write_str(key);
                feed(value, h);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn origin() -> Origin {
        Origin::File {
            path: "test.json".into(),
        }
    }

    fn record(extra: Value) -> Value {
        let mut base = json!({
            "eventVersion": "1.08",
            "eventTime": "2024-08-01T12:00:00Z",
            "eventSource": "ec2.amazonaws.com",
            "eventName": "DescribeInstances",
            "awsRegion": "us-east-1",
            "eventID": "e1",
        });
        if let (Value::Object(b), Value::Object(e)) = (&mut base, extra) {
            b.extend(e);
        }
        base
    }

    #[test]
    fn fields_are_normalized() {
        let v = record(json!({
            "sourceIPAddress": "075.050.255.67",
            "userAgent": "aws-cli/2",
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/a", "accessKeyId": "AKIA1"},
            "errorCode": "AccessDenied",
            "errorMessage": "no",
            "readOnly": "TRUE",
            "additionalEventData": {"MFAUsed": "Yes"},
        }));
        let e = parse_record(&v, &origin()).expect("parses");
        assert_eq!(&*e.id, "e1");
        assert_eq!(&*e.service, "ec2.amazonaws.com");
        assert_eq!(&*e.name, "DescribeInstances");
        assert_eq!(&*e.region, "us-east-1");
        assert_eq!(&*e.source_ip, "075.050.255.67");
        assert_eq!(&*e.identity_type, "IAMUser");
        assert_eq!(&*e.access_key_id, "AKIA1");
        assert_eq!(e.error_code.as_deref(), Some("AccessDenied"));
        assert_eq!(e.read_only, Some(true));
        assert_eq!(e.mfa_used, Some(true));
        assert_eq!(e.minted, None);
        assert_eq!(e.time.unix_timestamp(), 1_722_513_600);
        let back: Value = serde_json::from_str(&e.raw).expect("raw is JSON");
        assert_eq!(back, v);
    }

    #[test]
    fn times() {
        let t = |s: &str| parse_record(&record(json!({"eventTime": s})), &origin());
        let base = t("2024-08-01T12:00:00Z").expect("plain").time;
        let frac = t("2024-08-01T12:00:00.250Z").expect("fraction").time;
        assert_eq!((frac - base).whole_milliseconds(), 250);
        let offset = t("2024-08-01T14:00:00+02:00").expect("offset").time;
        assert_eq!(offset, base);
        assert_eq!(offset.offset(), UtcOffset::UTC);
        assert_eq!(t("2024-08-01 12:00:00Z").expect("space").time, base);
        assert!(t("Aug 1, 2024 1:33:28 PM").is_err());
        assert!(t("9999-12-31T23:59:59-01:00").is_err());
        let missing = parse_record(&json!({"eventVersion": "1.08"}), &origin());
        assert_eq!(missing.err().as_deref(), Some("no eventTime"));
        assert!(parse_record(&json!([]), &origin()).is_err());
        assert!(parse_record(&record(json!({"eventTime": 5})), &origin()).is_err());
    }

    #[test]
    fn minted_credentials() {
        let call = |name: &str, params: Value| {
            record(json!({
                "eventSource": "sts.amazonaws.com",
                "eventName": name,
                "requestParameters": params,
                "responseElements": {"credentials": {"accessKeyId": "ASIANEW"}},
            }))
        };
        let via = |v: Value| {
            parse_record(&v, &origin())
                .expect("parses")
                .minted
                .map(|m| *m)
        };
        assert_eq!(
            via(call(
                "AssumeRole",
                json!({"roleArn": "arn:aws:iam::1:role/team/deploy-role"})
            )),
            Some(Minted {
                key_id: "ASIANEW".into(),
                via: "AssumeRole deploy-role".into()
            })
        );
        assert_eq!(
            via(call("GetFederationToken", json!({"name": "bob"}))).map(|m| m.via),
            Some("GetFederationToken bob".into())
        );
        assert_eq!(
            via(call("GetSessionToken", Value::Null)).map(|m| m.via),
            Some("GetSessionToken".into())
        );
        assert_eq!(
            via(call("AssumeRoleWithSAML", Value::Null)).map(|m| m.via),
            Some("AssumeRoleWithSAML".into())
        );
        assert_eq!(via(call("GetCallerIdentity", Value::Null)), None);
        let mut denied = call("AssumeRole", Value::Null);
        denied["responseElements"] = Value::Null;
        assert_eq!(via(denied), None);
    }

    #[test]
    fn hash_ids_ignore_key_order_and_whitespace() {
        let a: Value =
            serde_json::from_str(r#"{"eventTime":"2014-03-06T21:22:54Z","b":[1,2.5e-5,"x"]}"#)
                .expect("json");
        let b: Value = serde_json::from_str(
            "{ \"b\" : [1, 2.5e-5, \"x\"],\n \"eventTime\": \"2014-03-06T21:22:54Z\" }",
        )
        .expect("json");
        let ea = parse_record(&a, &origin()).expect("a");
        let eb = parse_record(&b, &origin()).expect("b");
        assert!(ea.id.starts_with("h:"));
        assert_eq!(ea.id.len(), 2 + 16);
        assert_eq!(ea.id, eb.id);
        // Pinned: the id must not change between builds or machines.
        // FNV-1a of `{` and a zero length, worked out by hand.
        assert_eq!(stable_hash(&json!({})), 0xb8b1_8410_3b10_f3fa);
    }

    #[test]
    fn failed_console_login_without_message() {
        let v = record(
            json!({"eventName": "ConsoleLogin", "responseElements": {"ConsoleLogin": "Failure"}}),
        );
        assert!(parse_record(&v, &origin()).expect("parses").failed());
    }

    fn gz(data: &[u8], name: Option<&str>) -> Vec<u8> {
        use std::io::Write;
        let mut builder = flate2::GzBuilder::new();
        if let Some(name) = name {
            builder = builder
                .filename(name)
                .comment("a comment")
                .extra(vec![1, 2, 3]);
        }
        let mut enc = builder.write(Vec::new(), flate2::Compression::fast());
        enc.write_all(data).expect("write");
        enc.finish().expect("finish")
    }

    #[test]
    fn decompress_plain_and_gzip() {
        assert!(matches!(decompress(b"{}"), Ok(Cow::Borrowed(b"{}"))));
        let mut two = gz(b"{\"Rec", None);
        let first = two.len();
        two.extend(gz(b"ords\":[]}", Some("log.json")));
        assert_eq!(
            decompress(&two).expect("gunzip").as_ref(),
            b"{\"Records\":[]}"
        );
        let mut padded = two.clone();
        padded.extend([0u8; 16]);
        assert!(decompress(&padded).is_ok());
        let mut stray = two.clone();
        stray.extend(b"junk");
        assert!(decompress(&stray).is_err());
        // Cut anywhere after the magic but between members, the file is refused, never
        // half-read.
        for cut in (2..two.len()).filter(|&cut| cut != first) {
            assert!(decompress(&two[..cut]).is_err(), "cut at {cut}");
        }
        // A wrong CRC or length is caught (libdeflate refuses it, then the member-by-member
        // path says which check failed).
        let mut bad_crc = gz(b"hello", None);
        let at = bad_crc.len() - 8;
        bad_crc[at] ^= 1;
        assert_eq!(
            decompress(&bad_crc).err().as_deref(),
            Some("not valid gzip (CRC check failed)")
        );
        let mut out = Vec::new();
        let mut bad_len = gz(b"hello", None);
        let at = bad_len.len() - 4;
        bad_len[at] ^= 1;
        assert!(gunzip_into(&bad_len, &mut out, 1 << 20).is_err());
        // Two members of the same size: the fast path must not stop after the first.
        let mut twins = gz(b"abc", None);
        twins.extend(gz(b"xyz", None));
        assert_eq!(decompress(&twins).expect("twins").as_ref(), b"abcxyz");
        // The cap holds on both paths, and says so.
        let zeros = gz(&vec![0u8; 1 << 20], None);
        assert_eq!(
            gunzip_into(&zeros, &mut out, 1000),
            Err(Gunzip::TooLarge(1000))
        );
        let mut zeros_lying = zeros.clone();
        let n = zeros_lying.len();
        zeros_lying[n - 4..].copy_from_slice(&10u32.to_le_bytes());
        assert_eq!(
            gunzip_into(&zeros_lying, &mut out, 1000),
            Err(Gunzip::TooLarge(1000))
        );
        assert_eq!(gunzip_into(&zeros, &mut out, 1 << 20), Ok(1 << 20));
        assert!(out.capacity() <= (1 << 20) + (64 << 10) + 64);
        assert!(decompress(&[0x1f, 0x8b, 0, 0]).is_err());
        assert!(decompress(&[0x1f, 0x8b, 7, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
        // Bigger than the first guess at the output size: the buffer grows.
        let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut lying = gz(&big, None);
        let n = lying.len();
        lying[n - 4..].copy_from_slice(&7u32.to_le_bytes());
        assert!(decompress(&lying).is_err());
        assert_eq!(decompress(&gz(&big, None)).expect("big").as_ref(), &big[..]);
    }

    #[test]
    fn skipped_reasons_are_capped_and_counted() {
        let o = origin();
        let ones = format!("[{}1]", "1,".repeat(10_000));
        let p = parse_document(ones.as_bytes(), &o);
        assert_eq!(p.skipped_count, 10_001);
        assert_eq!(p.skipped.len(), REASONS_PER_DOCUMENT);
        let mut a = Parsed::default();
        a.skip(&o, "one".into());
        a.absorb(p);
        assert_eq!(a.skipped_count, 10_002);
        assert_eq!(a.skipped.len(), REASONS_PER_DOCUMENT);
        assert_eq!(a.skipped[0].reason, "one");
    }

    #[test]
    fn documents() {
        let o = origin();
        let p = parse_document(b"", &o);
        assert_eq!(p.skipped.len(), 1);
        let p = parse_document(b"42", &o);
        assert_eq!(p.skipped.len(), 1);
        let line = record(json!({})).to_string();
        let jsonl = format!("{line}\n\n{{bad\n{line}\r\n\"str\"\n");
        let p = parse_document(jsonl.as_bytes(), &o);
        assert_eq!(p.events.len(), 2);
        let reasons: Vec<&str> = p.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(reasons[0].starts_with("line 3: not JSON ("), "{reasons:?}");
        assert_eq!(reasons[1], "line 5: not a JSON object");
        // Log files one per line, and a log file with a member after the records.
        let p = parse_document(
            format!("{{\"Records\":[{line}]}}\n{{\"Records\":[{line},{line}]}}\n").as_bytes(),
            &o,
        );
        assert_eq!((p.events.len(), p.skipped.len()), (3, 0));
        let p = parse_document(format!("{{\"Records\":[{line}],\"x\":1}}").as_bytes(), &o);
        assert_eq!((p.events.len(), p.skipped.len()), (1, 0));
        // One bad record in a log file costs that record only.
        let p = parse_document(
            format!("{{\"Records\":[{line},{{\"a\":tru}}]}}").as_bytes(),
            &o,
        );
        assert_eq!(p.events.len(), 1);
        assert_eq!(p.skipped.len(), 1);
        assert!(p.skipped[0].reason.starts_with("record 2: not JSON"));
        // Bad lines first do not hide the good ones after them.
        let p = parse_document(format!("{{\n[1,\n{line}\n{line}\n{line}\n").as_bytes(), &o);
        assert_eq!((p.events.len(), p.skipped.len()), (3, 2));
        // A fragment inside JSON Lines is reported by line.
        let p = parse_document(
            format!("{line}\n{{\"eventVersion\":\"1\"}}\n").as_bytes(),
            &o,
        );
        assert_eq!(p.skipped[0].reason, "line 2: no eventTime");
        // A pretty-printed document with a broken byte is one error, not one per line.
        let pretty = serde_json::to_string_pretty(&json!([record(json!({}))])).expect("json");
        let broken = pretty.replacen(':', ";", 1);
        let p = parse_document(broken.as_bytes(), &o);
        assert_eq!(p.events.len(), 0);
        assert_eq!(p.skipped.len(), 1);
        assert!(p.skipped[0].reason.starts_with("not JSON ("));
    }

    #[test]
    fn truncated_log_keeps_whole_records() {
        let r = record(json!({})).to_string();
        let doc = format!("{{\"Records\":[{r},{r},{{\"eventTime\":\"2024-");
        let p = parse_document(doc.as_bytes(), &origin());
        assert_eq!(p.events.len(), 2);
        assert_eq!(p.skipped.len(), 1);
        assert!(p.skipped[0].reason.starts_with("log file ends early"));
    }

    #[test]
    fn envelopes_and_wrappers() {
        let o = origin();
        let r = record(json!({}));
        let wrapped = json!({"Events": [{"EventTime": "2030-01-01 00:00:00+11:00", "CloudTrailEvent": r.to_string()}]});
        let p = parse_document(wrapped.to_string().as_bytes(), &o);
        assert_eq!(p.events.len(), 1);
        assert_eq!(p.events[0].time.year(), 2024);
        let bad = json!({"Events": [{"CloudTrailEvent": "{nope"}]});
        let p = parse_document(bad.to_string().as_bytes(), &o);
        assert!(
            p.skipped[0]
                .reason
                .starts_with("record 1: CloudTrailEvent is not JSON")
        );
        let bridge = json!({"detail-type": "AWS API Call via CloudTrail", "detail": r});
        assert_eq!(
            parse_document(bridge.to_string().as_bytes(), &o)
                .events
                .len(),
            1
        );
        let other = json!({"detail-type": "EC2 Instance State-change Notification", "detail": {}});
        let p = parse_document(other.to_string().as_bytes(), &o);
        assert_eq!((p.events.len(), p.skipped.len()), (0, 1));
        let digest = json!({"awsAccountId": "1", "digestStartTime": "x", "logFiles": []});
        let p = parse_document(digest.to_string().as_bytes(), &o);
        assert_eq!((p.events.len(), p.digests, p.skipped.len()), (0, 1, 0));
    }
}
