//! A synthetic copy of a CloudTrail bucket for the scan benchmark (`bench/scan`).
//!
//!   cargo run --release --example gen_corpus -- --out DIR --records N [--seed S]
//!       [--key AKIA…] [--account 123456789012] [--days D]
//!
//! The records are the real (anonymised) Stratus Red Team detonation records under
//! `../shared/data/cloudtrail/stratus-red-team/`, used as templates: every generated record is
//! one of them with a fresh `eventID`, `eventTime`, region, account and caller key. The output
//! has the layout a trail writes to S3:
//!
//!   DIR/AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/
//!       <acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 chars>.json.gz
//!
//! each object a gzip'd `{"Records":[…]}` of 100 to 400 records, the regions' deliveries spread
//! evenly over `--days` (default 3). About 1 % of the records were made with the tracked key
//! (`userIdentity.accessKeyId`); the others with one of a pool of 2,000 other `AKIA` keys.
//! Tracked records never use a template that mints credentials (STS credentials or an IAM
//! `CreateAccessKey`), so a scan for the tracked key finds exactly the records that carry it,
//! and a plain `jq` filter agrees with it.
//!
//! With `--hostile`, DIR gets instead a handful of files an attacker with write access to the
//! bucket could plant, each mentioning the tracked key so that the scan cannot skip it at
//! the byte filter (`bench/scan` scans them mixed with a clean corpus): a 40 MB `[1,1,…]`
//! array, a gzip bomb (a few MiB that inflate to 4 GiB, as several members), a 300 MiB
//! single-line document (gzip'd), a document nested a million deep, a real-looking log
//! object cut in half, and random bytes named `.json`.
//!
//! Everything random comes from splitmix64 seeded by `--seed` and the object's number, so the
//! same arguments give byte-identical files whatever the thread count. Objects are written one
//! at a time per worker, straight into the gzip stream: memory stays flat whatever N is.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use flate2::Compression;
use flate2::write::GzEncoder;
use rayon::prelude::*;
use serde_json::{Map, Value};

const REGIONS: [&str; 17] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "sa-east-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
];

/// Records per delivered object: uniform in this range (mean 250).
const OBJECT_MIN: u64 = 100;
const OBJECT_MAX: u64 = 400;

/// One tracked record in this many, on average.
const TRACKED_ONE_IN: u64 = 100;

/// How many distinct other keys make the rest of the traffic.
const OTHER_KEYS: usize = 2_000;

/// The first delivery window opens here (2026-03-01T00:00:00Z).
const START_UNIX: i64 = 1_772_323_200;

/// Where a template field gets its per-record value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Id,
    Time,
    Region,
    Key,
    Account,
}

const MARKERS: [(&str, Slot); 5] = [
    ("@@ID@@", Slot::Id),
    ("@@TIME@@", Slot::Time),
    ("@@REGION@@", Slot::Region),
    ("@@KEY@@", Slot::Key),
    ("@@ACCT@@", Slot::Account),
];

#[derive(Debug, Clone)]
enum Piece {
    Text(String),
    Slot(Slot),
}

/// A record pre-serialised in CloudTrail's member order, cut where the per-record values go.
#[derive(Debug, Clone)]
struct Template {
    pieces: Vec<Piece>,
    /// Safe for the tracked key: the record names a caller and mints nothing.
    trackable: bool,
}

/// The top-level members in the order CloudTrail writes them; any other member follows,
/// alphabetically.
const MEMBER_ORDER: [&str; 26] = [
    "eventVersion",
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "errorCode",
    "errorMessage",
    "requestParameters",
    "responseElements",
    "additionalEventData",
    "requestID",
    "eventID",
    "readOnly",
    "resources",
    "eventType",
    "apiVersion",
    "managementEvent",
    "recipientAccountId",
    "sharedEventID",
    "vpcEndpointId",
    "eventCategory",
    "tlsDetails",
    "sessionCredentialFromConsole",
];

struct Args {
    out: PathBuf,
    hostile: bool,
    records: u64,
    seed: u64,
    key: String,
    account: String,
    days: u64,
}

const USAGE: &str = "usage: gen_corpus --out DIR [--records N] [--seed S] [--key AKIA…] \
                     [--account 123456789012] [--days D] [--hostile]";

fn parse_args() -> Result<Args, String> {
    let mut out = None;
    let mut args = Args {
        out: PathBuf::new(),
        hostile: false,
        records: 2_000_000,
        seed: 1,
        key: "AKIABENCHTRACKED0001".into(),
        account: "123456789012".into(),
        days: 3,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.into());
        }
        if flag == "--hostile" {
            args.hostile = true;
            continue;
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let number = |v: &str| {
            v.replace('_', "")
                .parse::<u64>()
                .map_err(|e| format!("{flag} {v}: {e}"))
        };
        match flag.as_str() {
            "--out" => out = Some(PathBuf::from(value)),
            "--records" => args.records = number(&value)?,
            "--seed" => args.seed = number(&value)?,
            "--days" => args.days = number(&value)?.max(1),
            "--key" => args.key = value,
            "--account" => args.account = value,
            _ => return Err(format!("unknown argument {flag}\n{USAGE}")),
        }
    }
    args.out = out.ok_or_else(|| format!("--out is required\n{USAGE}"))?;
    let plain = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    if !plain(&args.key) {
        return Err(format!("--key {:?}: letters and digits only", args.key));
    }
    if args.account.len() != 12 || !args.account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("--account {:?}: twelve digits", args.account));
    }
    Ok(args)
}

/// splitmix64: tiny, fast, and good enough to make ids and pick templates.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0); the modulo bias is irrelevant at these sizes.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// An independent stream for one object, from the run's seed and the object's number.
    fn for_object(seed: u64, index: u64) -> Rng {
        let mut mix = Rng(seed ^ index.wrapping_mul(0xD6E8_FEB8_6659_FD93));
        Rng(mix.next())
    }
}

fn access_key(rng: &mut Rng) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut k = String::with_capacity(20);
    k.push_str("AKIA");
    for _ in 0..16 {
        k.push(char::from(ALPHABET[rng.below(32) as usize]));
    }
    k
}

fn push_uuid(rng: &mut Rng, out: &mut String) {
    use std::fmt::Write as _;
    let hi = rng.next();
    let lo = rng.next();
    // Version 4, RFC 4122 variant, like the ids CloudTrail hands out.
    let hi = (hi & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
    let lo = (lo & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    let _ = write!(
        out,
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xFFFF,
        hi & 0xFFFF,
        lo >> 48,
        lo & 0xFFFF_FFFF_FFFF
    );
}

/// `YYYY-MM-DDTHH:MM:SSZ` and the pieces the object's path needs.
struct Stamp {
    year: i32,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
}

fn stamp(unix: i64) -> Stamp {
    let t =
        time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    Stamp {
        year: t.year(),
        month: u8::from(t.month()),
        day: t.day(),
        hour: t.hour(),
        minute: t.minute(),
        second: t.second(),
    }
}

fn push_time(unix: i64, out: &mut String) {
    use std::fmt::Write as _;
    let s = stamp(unix);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        s.year, s.month, s.day, s.hour, s.minute, s.second
    );
}

fn load_templates(dir: &Path) -> Result<Vec<Template>, String> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut templates = Vec::new();
    for path in files {
        let text = fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let value: Value =
            serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let Value::Array(records) = value else {
            return Err(format!("{}: not a JSON array", path.display()));
        };
        for record in records {
            if let Value::Object(map) = record {
                templates.push(template(map));
            }
        }
    }
    if !templates.iter().any(|t| t.trackable) {
        return Err(format!("{}: no usable record", dir.display()));
    }
    Ok(templates)
}

fn text_of<'a>(map: &'a Map<String, Value>, path: &[&str]) -> Option<&'a str> {
    let (last, parents) = path.split_last()?;
    let mut at = map;
    for p in parents {
        at = at.get(*p)?.as_object()?;
    }
    at.get(*last)?.as_str()
}

fn template(mut map: Map<String, Value>) -> Template {
    // A call that hands out a key: STS's temporary credentials, or IAM's CreateAccessKey. The
    // template's minted key is the same in every copy, so a tracked copy would make every
    // other copy "a call minting a tracked key" (kept by the scan, not by a filter on the
    // caller's key).
    let mints = text_of(&map, &["responseElements", "credentials", "accessKeyId"]).is_some()
        || text_of(&map, &["responseElements", "accessKey", "accessKeyId"]).is_some();
    let region = text_of(&map, &["awsRegion"]).map(str::to_string);
    let accounts: Vec<String> = [
        text_of(&map, &["recipientAccountId"]),
        text_of(&map, &["userIdentity", "accountId"]),
    ]
    .into_iter()
    .flatten()
    .filter(|a| a.len() == 12)
    .map(str::to_string)
    .collect();

    let mark = |s: &str| Value::String(s.to_string());
    map.insert("eventID".into(), mark("@@ID@@"));
    map.insert("eventTime".into(), mark("@@TIME@@"));
    map.insert("awsRegion".into(), mark("@@REGION@@"));
    map.insert("recipientAccountId".into(), mark("@@ACCT@@"));
    let has_caller = match map.get_mut("userIdentity") {
        Some(Value::Object(who)) => {
            who.insert("accessKeyId".into(), mark("@@KEY@@"));
            true
        }
        _ => false,
    };

    let mut text = String::from("{");
    let mut first = true;
    let mut member = |k: &str, v: &Value, text: &mut String| {
        if !first {
            text.push(',');
        }
        first = false;
        text.push_str(&Value::String(k.to_string()).to_string());
        text.push(':');
        text.push_str(&v.to_string());
    };
    for k in MEMBER_ORDER {
        if let Some(v) = map.get(k) {
            member(k, v, &mut text);
        }
    }
    for (k, v) in &map {
        if !MEMBER_ORDER.contains(&k.as_str()) {
            member(k, v, &mut text);
        }
    }
    text.push('}');

    // The anonymised region and account also appear in ARNs and host names: move them too.
    if let Some(r) = region.filter(|r| r.len() >= 6) {
        text = text.replace(&r, "@@REGION@@");
    }
    for a in accounts {
        text = text.replace(&a, "@@ACCT@@");
    }

    let mut pieces = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("@@") {
        let found = MARKERS.iter().find(|(m, _)| rest[at..].starts_with(m));
        match found {
            Some((m, slot)) => {
                pieces.push(Piece::Text(rest[..at].to_string()));
                pieces.push(Piece::Slot(*slot));
                rest = &rest[at + m.len()..];
            }
            None => {
                pieces.push(Piece::Text(rest[..at + 2].to_string()));
                rest = &rest[at + 2..];
            }
        }
    }
    pieces.push(Piece::Text(rest.to_string()));
    pieces.retain(|p| !matches!(p, Piece::Text(t) if t.is_empty()));
    Template {
        pieces,
        trackable: has_caller && !mints,
    }
}

/// What one object holds, decided before any is written so that workers need no coordination.
struct Plan {
    /// Cumulative record counts: object `i` holds records `ends[i-1]..ends[i]`.
    ends: Vec<u64>,
    span_secs: i64,
}

impl Plan {
    fn new(records: u64, seed: u64, days: u64) -> Plan {
        let mut rng = Rng(seed ^ 0x5EED_0F0B_1EC7_5123);
        let mut ends = Vec::new();
        let mut total = 0u64;
        while total < records {
            let size = OBJECT_MIN + rng.below(OBJECT_MAX - OBJECT_MIN + 1);
            total = (total + size).min(records);
            ends.push(total);
        }
        Plan {
            ends,
            span_secs: i64::try_from(days * 86_400).unwrap_or(i64::MAX),
        }
    }

    fn objects(&self) -> usize {
        self.ends.len()
    }

    fn size(&self, i: usize) -> u64 {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.ends[i] - start
    }

    /// The object's region and its delivery window (start, end), in Unix seconds. Regions take
    /// turns; each region's objects cover the whole span in equal windows.
    fn window(&self, i: usize) -> (usize, i64, i64) {
        let n = REGIONS.len();
        let region = i % n;
        let k = (i / n) as i64;
        let in_region = (self.objects().saturating_sub(region)).div_ceil(n).max(1) as i64;
        let start = START_UNIX + self.span_secs * k / in_region;
        let end = START_UNIX + self.span_secs * (k + 1) / in_region;
        (region, start, end.max(start + 1))
    }
}

struct Shared<'a> {
    args: &'a Args,
    templates: &'a [Template],
    trackable: Vec<usize>,
    others: Vec<String>,
    plan: Plan,
}

#[derive(Default)]
struct Totals {
    records: u64,
    tracked: u64,
    bytes: u64,
    raw_bytes: u64,
}

/// Counts raw bytes on their way into the gzip stream.
struct Counting<W> {
    inner: W,
    count: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn write_object(s: &Shared, i: usize, line: &mut String) -> Result<Totals, String> {
    let args = s.args;
    let mut rng = Rng::for_object(args.seed, i as u64);
    let (region_ix, start, end) = s.plan.window(i);
    let region = REGIONS[region_ix];
    // Delivered a few minutes after the window closes.
    let delivered = stamp(end + 60 + rng.below(240) as i64);
    let mut suffix = String::with_capacity(16);
    const NAME_CHARS: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    for _ in 0..16 {
        suffix.push(char::from(NAME_CHARS[rng.below(62) as usize]));
    }
    let dir = args
        .out
        .join("AWSLogs")
        .join(&args.account)
        .join("CloudTrail")
        .join(region)
        .join(format!("{:04}", delivered.year))
        .join(format!("{:02}", delivered.month))
        .join(format!("{:02}", delivered.day));
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let name = format!(
        "{acct}_CloudTrail_{region}_{y:04}{mo:02}{d:02}T{h:02}{mi:02}Z_{suffix}.json.gz",
        acct = args.account,
        y = delivered.year,
        mo = delivered.month,
        d = delivered.day,
        h = delivered.hour,
        mi = delivered.minute,
    );
    let path = dir.join(name);
    let file = fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let gz = GzEncoder::new(
        BufWriter::with_capacity(256 << 10, file),
        Compression::default(),
    );
    let mut out = Counting {
        inner: gz,
        count: 0,
    };

    let n = s.plan.size(i);
    // Event times within the window, oldest first, as a delivered file roughly is.
    let mut times: Vec<i64> = (0..n)
        .map(|_| start + rng.below((end - start) as u64) as i64)
        .collect();
    times.sort_unstable();

    let mut totals = Totals {
        records: n,
        ..Totals::default()
    };
    let io = |e: std::io::Error| format!("{}: {e}", path.display());
    out.write_all(b"{\"Records\":[").map_err(io)?;
    for (r, t) in times.into_iter().enumerate() {
        let tracked = rng.below(TRACKED_ONE_IN) == 0;
        let template = if tracked {
            totals.tracked += 1;
            &s.templates[s.trackable[rng.below(s.trackable.len() as u64) as usize]]
        } else {
            &s.templates[rng.below(s.templates.len() as u64) as usize]
        };
        let key = if tracked {
            args.key.as_str()
        } else {
            s.others[rng.below(s.others.len() as u64) as usize].as_str()
        };
        line.clear();
        if r > 0 {
            line.push(',');
        }
        for piece in &template.pieces {
            match piece {
                Piece::Text(text) => line.push_str(text),
                Piece::Slot(Slot::Id) => push_uuid(&mut rng, line),
                Piece::Slot(Slot::Time) => push_time(t, line),
                Piece::Slot(Slot::Region) => line.push_str(region),
                Piece::Slot(Slot::Key) => line.push_str(key),
                Piece::Slot(Slot::Account) => line.push_str(&args.account),
            }
        }
        out.write_all(line.as_bytes()).map_err(io)?;
    }
    out.write_all(b"]}").map_err(io)?;
    totals.raw_bytes = out.count;
    let mut buffered = out.inner.finish().map_err(io)?;
    buffered.flush().map_err(io)?;
    drop(buffered);
    totals.bytes = fs::metadata(&path).map_err(io)?.len();
    Ok(totals)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let data =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/cloudtrail/stratus-red-team");
    let templates = match load_templates(&data) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("gen_corpus: {e}");
            return ExitCode::FAILURE;
        }
    };
    if args.hostile {
        return match write_hostile(&args, &templates) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("gen_corpus: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let trail = args
        .out
        .join("AWSLogs")
        .join(&args.account)
        .join("CloudTrail");
    if fs::read_dir(&trail).is_ok_and(|mut d| d.next().is_some()) {
        eprintln!(
            "gen_corpus: {} already holds a corpus; remove it first (files would mix)",
            trail.display()
        );
        return ExitCode::FAILURE;
    }

    let mut key_rng = Rng(args.seed ^ 0x0A11_CE5E_ED00_0001);
    let others: Vec<String> = std::iter::repeat_with(|| access_key(&mut key_rng))
        .filter(|k| *k != args.key)
        .take(OTHER_KEYS)
        .collect();
    let shared = Shared {
        args: &args,
        templates: &templates,
        trackable: (0..templates.len())
            .filter(|&i| templates[i].trackable)
            .collect(),
        others,
        plan: Plan::new(args.records, args.seed, args.days),
    };

    let began = Instant::now();
    let done = AtomicU64::new(0);
    let objects = shared.plan.objects();
    let result: Result<Totals, String> = (0..objects)
        .into_par_iter()
        .map_init(
            || String::with_capacity(8 << 10),
            |line, i| {
                let t = write_object(&shared, i, line);
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_multiple_of(1000) {
                    eprintln!("  {n}/{objects} objects");
                }
                t
            },
        )
        .try_reduce(Totals::default, |a, b| {
            Ok(Totals {
                records: a.records + b.records,
                tracked: a.tracked + b.tracked,
                bytes: a.bytes + b.bytes,
                raw_bytes: a.raw_bytes + b.raw_bytes,
            })
        });
    let totals = match result {
        Ok(t) => t,
        Err(e) => {
            eprintln!("gen_corpus: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("dir              {}", args.out.display());
    println!("tracked key      {}", args.key);
    println!("records          {}", totals.records);
    println!("tracked records  {}", totals.tracked);
    println!("objects          {objects}");
    println!(
        "compressed bytes {} ({:.1} MiB)",
        totals.bytes,
        totals.bytes as f64 / f64::from(1u32 << 20)
    );
    println!(
        "raw bytes        {} ({:.1} MiB)",
        totals.raw_bytes,
        totals.raw_bytes as f64 / f64::from(1u32 << 20)
    );
    println!(
        "templates        {} ({} usable for the tracked key)",
        templates.len(),
        shared.trackable.len()
    );
    println!("seconds          {:.1}", began.elapsed().as_secs_f64());
    ExitCode::SUCCESS
}

/// The hostile files (see the module docs), each naming the tracked key.
fn write_hostile(args: &Args, templates: &[Template]) -> Result<(), String> {
    let dir = &args.out;
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let key = args.key.as_str();
    let create = |name: &str| {
        let path = dir.join(name);
        fs::File::create(&path)
            .map(|f| (BufWriter::with_capacity(1 << 20, f), path.clone()))
            .map_err(|e| format!("{}: {e}", path.display()))
    };
    let io = |path: &Path| {
        let shown = path.display().to_string();
        move |e: std::io::Error| format!("{shown}: {e}")
    };

    // 40 MB of `1,` in an array, then the key.
    let (mut w, path) = create("ones.json")?;
    w.write_all(b"[").map_err(io(&path))?;
    let chunk = "1,".repeat(1 << 16);
    for _ in 0..(40_000_000 / chunk.len()) {
        w.write_all(chunk.as_bytes()).map_err(io(&path))?;
    }
    write!(w, "\"{key}\"]").map_err(io(&path))?;
    w.flush().map_err(io(&path))?;

    // Gzip bomb: one member of 1 GiB of zeros after the key, written four times.
    let (mut w, path) = create("bomb.json.gz")?;
    let mut member = GzEncoder::new(Vec::new(), Compression::best());
    write!(member, "{{\"Records\":[\"{key}\"").map_err(io(&path))?;
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..1024 {
        member.write_all(&zeros).map_err(io(&path))?;
    }
    let member = member.finish().map_err(io(&path))?;
    for _ in 0..4 {
        w.write_all(&member).map_err(io(&path))?;
    }
    w.flush().map_err(io(&path))?;

    // One line of 300 MiB: a record whose one string is huge.
    let (w, path) = create("huge-line.json.gz")?;
    let mut gz = GzEncoder::new(w, Compression::fast());
    write!(
        gz,
        "{{\"Records\":[{{\"eventTime\":\"2026-03-01T00:00:00Z\",\"userIdentity\":{{\"accessKeyId\":\"{key}\"}},\"x\":\""
    )
    .map_err(io(&path))?;
    let letters = vec![b'A'; 1 << 20];
    for _ in 0..300 {
        gz.write_all(&letters).map_err(io(&path))?;
    }
    gz.write_all(b"\"}]}\n").map_err(io(&path))?;
    gz.finish().map_err(io(&path))?.flush().map_err(io(&path))?;

    // Nested a million deep, the key at the bottom.
    let (mut w, path) = create("nested.json")?;
    let depth = 1_000_000;
    w.write_all(b"{\"Records\":[").map_err(io(&path))?;
    w.write_all(&vec![b'['; depth]).map_err(io(&path))?;
    write!(w, "\"{key}\"").map_err(io(&path))?;
    w.write_all(&vec![b']'; depth]).map_err(io(&path))?;
    w.write_all(b"]}").map_err(io(&path))?;
    w.flush().map_err(io(&path))?;

    // A log object cut in half: its records are the tracked key's, from the templates.
    let mut rng = Rng(args.seed ^ 0x7E57_CA5E);
    let mut doc = String::from("{\"Records\":[");
    let usable: Vec<&Template> = templates.iter().filter(|t| t.trackable).collect();
    for r in 0..200 {
        if r > 0 {
            doc.push(',');
        }
        let t = usable[rng.below(usable.len() as u64) as usize];
        for piece in &t.pieces {
            match piece {
                Piece::Text(text) => doc.push_str(text),
                Piece::Slot(Slot::Id) => push_uuid(&mut rng, &mut doc),
                Piece::Slot(Slot::Time) => push_time(START_UNIX + r, &mut doc),
                Piece::Slot(Slot::Region) => doc.push_str("us-east-1"),
                Piece::Slot(Slot::Key) => doc.push_str(key),
                Piece::Slot(Slot::Account) => doc.push_str(&args.account),
            }
        }
    }
    doc.push_str("]}");
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(doc.as_bytes()).map_err(io(dir))?;
    let whole = gz.finish().map_err(io(dir))?;
    let (mut w, path) = create("truncated.json.gz")?;
    w.write_all(&whole[..whole.len() / 2]).map_err(io(&path))?;
    w.flush().map_err(io(&path))?;

    // Random bytes with a JSON name (and the key, so the byte filter finds it).
    let (mut w, path) = create("binary.json")?;
    let mut bytes: Vec<u8> = (0..(1 << 20)).map(|_| rng.next() as u8).collect();
    bytes.extend_from_slice(key.as_bytes());
    w.write_all(&bytes).map_err(io(&path))?;
    w.flush().map_err(io(&path))?;

    println!(
        "hostile files in {}: ones.json bomb.json.gz huge-line.json.gz nested.json truncated.json.gz binary.json",
        dir.display()
    );
    Ok(())
}
