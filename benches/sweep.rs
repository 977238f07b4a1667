//! The Resources tab's inventory sweep over 17 regions when every request takes 100 ms, the
//! way a distant AWS endpoint does: all regions at once (`resources::sweep`) against the same
//! sweep done region by region (`sweep_region` for one region after the other, then
//! `sweep_iam`).
//!
//!   cargo bench --bench sweep            (SWEEP_ROUNDS=N to repeat; default 3)
//!
//! Target (DESIGN.md, Performance): "A 17-region inventory sweep at 100 ms per request: <= 1/12
//! of the sequential time", i.e. the sweep of all regions at once takes at most 1/12 of the
//! time of the one done region by region.
//!
//! The answers come from a moto server (the project's `.venv`, as the tests start it) seeded
//! with instances, key pairs, security groups, a launch template, an Auto Scaling group and a
//! Lambda function in several regions. Between the SDK and moto sits a small HTTP/1.1 proxy
//! made here. It reads each request whole (Content-Length or chunked body, several requests
//! per kept-alive connection, as AWS's front ends allow), holds it until 100 ms after its
//! first byte arrived, and then answers it in one of three ways:
//!
//! - record (the untimed warm-up sweep): forwards it to moto and keeps moto's answer, keyed by
//!   what identifies the request independent of signing: method, path and query, the
//!   `X-Amz-Target` header, the region and service of the SigV4 credential scope (each
//!   region's answers differ), and the body (stable form strings for EC2 and Auto Scaling,
//!   JSON for the rest). Dates, signatures, invocation ids and the retry counter are left out.
//! - replay (the first table): answers with the recorded response without touching moto. A
//!   request with no recording is forwarded to moto and counted ("forwarded N unrecorded
//!   requests"; there should be none).
//! - live (the second table): forwards every request to moto, as the warm-up does.
//!
//! Why replay: moto is one Python process. On a 2-core machine it needs 1.1-1.5 s of CPU to
//! work through the ~240 requests of one sweep, so with live answers the concurrent sweep is
//! bounded by moto's CPU, not by the 100 ms of latency nor by keyspill. The target is about
//! latency, so the first table models an AWS whose per-request time is the 100 ms; the second
//! shows what moto's CPU limits the same sweeps to on this machine, and a last line gives
//! moto's own time with no delay added.
//!
//! The replay table also shows the longest any replayed request took from its first byte in to
//! its answer written (the proxy's own overhead beyond the 100 ms), and each region's own time
//! in the last region-by-region sweep (its chain of dependent requests, in 100 ms steps).
//!
//! Every timed sweep, replayed or live, must find what the warm-up found (the seeded
//! instances, the same number of resources) with no failed cell, so a replay cannot hide a
//! broken sweep; otherwise the bench fails.

#[path = "../tests/it/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{
    InstanceType, RequestLaunchTemplateData, ResourceType, Tag, TagSpecification,
};
use keyspill_aws::resources;
use keyspill_aws::{Aws, ConnectOptions};
use keyspill_core::resources::{CellState, Kind, RegionSweep};

/// How the per-region breakdown names the IAM sweep.
const GLOBAL_NAME: &str = "IAM";
const DELAY: Duration = Duration::from_millis(100);
const TARGET_RATIO: f64 = 1.0 / 12.0;
const AMI: &str = "ami-03cf127a";

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

/// (region, instances launched there)
const SEEDED: [(&str, i32); 6] = [
    ("us-east-1", 3),
    ("eu-west-1", 2),
    ("ap-southeast-2", 2),
    ("sa-east-1", 1),
    ("eu-central-1", 2),
    ("ap-northeast-1", 1),
];

// ---- HTTP/1.1 messages on a stream ----

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn bad(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

fn cut_short() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "connection closed mid-message",
    )
}

/// A stream read message by message; bytes read past the current message stay buffered.
struct Wire<S> {
    stream: S,
    buf: Vec<u8>,
}

impl<S: Read> Wire<S> {
    fn new(stream: S) -> Wire<S> {
        Wire {
            stream,
            buf: Vec::new(),
        }
    }

    fn fill(&mut self) -> io::Result<usize> {
        let mut tmp = [0u8; 16 * 1024];
        let n = self.stream.read(&mut tmp)?;
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(n)
    }

    /// The next head, through its blank line, and when its first byte was here; `None` when
    /// the peer closed between messages.
    fn head(&mut self) -> io::Result<Option<(Instant, Vec<u8>)>> {
        let mut since = (!self.buf.is_empty()).then(Instant::now);
        loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                let at = since.unwrap_or_else(Instant::now);
                return Ok(Some((at, self.buf.drain(..i + 4).collect())));
            }
            if self.fill()? == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(cut_short())
                };
            }
            since.get_or_insert_with(Instant::now);
        }
    }

    fn exact(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if self.fill()? == 0 {
                return Err(cut_short());
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    fn line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(i) = find(&self.buf, b"\r\n") {
                return Ok(self.buf.drain(..i + 2).collect());
            }
            if self.fill()? == 0 {
                return Err(cut_short());
            }
        }
    }

    fn rest(&mut self) -> io::Result<Vec<u8>> {
        let mut out = std::mem::take(&mut self.buf);
        self.stream.read_to_end(&mut out)?;
        Ok(out)
    }

    /// A chunked body: the bytes as sent (chunks, last chunk, trailers) and the data.
    fn chunked(&mut self) -> io::Result<(Vec<u8>, Vec<u8>)> {
        let mut raw = Vec::new();
        let mut data = Vec::new();
        loop {
            let line = self.line()?;
            raw.extend_from_slice(&line);
            let text = String::from_utf8_lossy(&line[..line.len() - 2]).into_owned();
            let size = text.split(';').next().unwrap_or("").trim();
            let size =
                usize::from_str_radix(size, 16).map_err(|_| bad(format!("chunk size {text:?}")))?;
            if size == 0 {
                loop {
                    let trailer = self.line()?;
                    raw.extend_from_slice(&trailer);
                    if trailer == b"\r\n" {
                        return Ok((raw, data));
                    }
                }
            }
            let chunk = self.exact(size + 2)?;
            data.extend_from_slice(&chunk[..size]);
            raw.extend_from_slice(&chunk);
        }
    }

    /// A body framed by Content-Length or chunked coding: (bytes as sent, data). `None` when
    /// the head frames no body this way.
    fn framed_body(&mut self, head: &Head) -> io::Result<Option<(Vec<u8>, Vec<u8>)>> {
        if head.is_chunked() {
            return self.chunked().map(Some);
        }
        match head.header("content-length") {
            Some(n) => {
                let n: usize = n
                    .trim()
                    .parse()
                    .map_err(|_| bad(format!("Content-Length {n:?}")))?;
                let body = self.exact(n)?;
                Ok(Some((body.clone(), body)))
            }
            None => Ok(None),
        }
    }
}

/// A request or status line and its headers (names in lower case).
struct Head {
    first: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn parse(bytes: &[u8]) -> io::Result<Head> {
        let text = std::str::from_utf8(bytes).map_err(|_| bad("head is not UTF-8"))?;
        let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
        let first = lines.next().ok_or_else(|| bad("empty head"))?.to_string();
        let headers = lines
            .map(|l| {
                let (name, value) = l
                    .split_once(':')
                    .ok_or_else(|| bad(format!("header {l:?}")))?;
                Ok((name.trim().to_ascii_lowercase(), value.trim().to_string()))
            })
            .collect::<io::Result<_>>()?;
        Ok(Head { first, headers })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    fn is_chunked(&self) -> bool {
        self.has_token("transfer-encoding", "chunked")
    }

    /// The first line's second word: a request's target, a response's status code.
    fn word(&self, n: usize) -> &str {
        self.first.split(' ').nth(n).unwrap_or("")
    }
}

struct Request {
    head: Head,
    /// Head and body exactly as the client sent them.
    raw: Vec<u8>,
    /// The body's data (chunked coding removed).
    body: Vec<u8>,
    arrived: Instant,
}

impl Request {
    fn method(&self) -> &str {
        self.head.word(0)
    }
}

/// What identifies a request independent of its signing, retry count and time.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    method: String,
    /// Path and query.
    target: String,
    amz_target: String,
    /// Region and service from the SigV4 credential scope (`region/service`), else the Host.
    scope: String,
    body: Vec<u8>,
}

impl Key {
    fn of(request: &Request) -> Key {
        let head = &request.head;
        // "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ec2/aws4_request, ..."
        let scope = head
            .header("authorization")
            .and_then(|a| a.split("Credential=").nth(1))
            .and_then(|c| {
                let credential = c.split([',', ' ']).next().unwrap_or("");
                let parts: Vec<&str> = credential.split('/').collect();
                Some(format!("{}/{}", parts.get(2)?, parts.get(3)?))
            })
            .unwrap_or_else(|| head.header("host").unwrap_or("").to_string());
        Key {
            method: request.method().to_string(),
            target: head.word(1).to_string(),
            amz_target: head.header("x-amz-target").unwrap_or("").to_string(),
            scope,
            body: request.body.clone(),
        }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let body = String::from_utf8_lossy(&self.body);
        let body: String = body.chars().take(160).collect();
        write!(
            f,
            "{} {} {} [{}] {body}",
            self.method, self.target, self.scope, self.amz_target
        )
    }
}

/// An answer as the proxy gives it to the client.
struct Response {
    bytes: Vec<u8>,
    /// The body ran to the end of the connection, so the client's connection ends with it.
    close: bool,
}

/// Sends `request` to moto on a connection of its own (moto's server closes every connection
/// after one answer) and reads the answer. Hop-by-hop `Connection`/`Keep-Alive` headers are
/// dropped, so the client may keep its connection to the proxy, as it would with AWS.
fn forward(upstream: u16, request: &Request) -> io::Result<Response> {
    let server = TcpStream::connect(("127.0.0.1", upstream))?;
    server.set_nodelay(true)?;
    (&server).write_all(&request.raw)?;
    let mut wire = Wire::new(&server);
    loop {
        let bytes = wire.head()?.ok_or_else(cut_short)?.1;
        let head = Head::parse(&bytes)?;
        let status: u16 = head
            .word(1)
            .parse()
            .map_err(|_| bad(format!("status line {:?}", head.first)))?;
        if (100..200).contains(&status) {
            continue; // 100 Continue: the client had its own from the proxy
        }
        let no_body = request.method() == "HEAD" || status == 204 || status == 304;
        let (body, close) = if no_body {
            (Vec::new(), false)
        } else {
            match wire.framed_body(&head)? {
                Some((raw, _)) => (raw, false),
                None => (wire.rest()?, true),
            }
        };
        let mut out = Vec::with_capacity(bytes.len() + body.len());
        out.extend_from_slice(head.first.as_bytes());
        out.extend_from_slice(b"\r\n");
        for (name, value) in &head.headers {
            if name == "connection" || name == "keep-alive" {
                continue;
            }
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        if close {
            out.extend_from_slice(b"connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&body);
        return Ok(Response { bytes: out, close });
    }
}

// ---- the proxy ----

#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Mode {
    /// Forward to moto and keep the answer.
    Record = 0,
    /// Answer from the recordings; forward (and count) only what was never recorded.
    Replay = 1,
    /// Forward every request to moto.
    Live = 2,
}

#[derive(Default)]
struct Shared {
    mode: AtomicU8,
    delay_ms: AtomicU64,
    requests: AtomicUsize,
    replayed: AtomicUsize,
    unrecorded: AtomicUsize,
    /// The longest a replayed request took from its first byte in to its answer written, µs.
    longest_replay_us: AtomicU64,
    /// The first few unrecorded keys, to show what made a key unstable.
    unrecorded_keys: Mutex<Vec<String>>,
    recordings: Mutex<HashMap<Key, Arc<Response>>>,
}

/// A loopback HTTP/1.1 proxy in front of moto that holds every request by a delay
/// ([`DELAY`] unless changed) and then records, replays or forwards it ([`Mode`]).
struct Proxy {
    port: u16,
    shared: Arc<Shared>,
}

impl Proxy {
    fn start(upstream: u16) -> io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared::default());
        shared
            .delay_ms
            .store(DELAY.as_millis() as u64, Ordering::SeqCst);
        let serving = Arc::clone(&shared);
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let shared = Arc::clone(&serving);
                thread::spawn(move || {
                    if let Err(e) = serve(client, upstream, &shared) {
                        eprintln!("proxy: {e}");
                    }
                });
            }
        });
        Ok(Proxy { port, shared })
    }

    fn set_mode(&self, mode: Mode) {
        self.shared.mode.store(mode as u8, Ordering::SeqCst);
    }

    fn set_delay(&self, d: Duration) {
        self.shared
            .delay_ms
            .store(d.as_millis() as u64, Ordering::SeqCst);
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    fn replayed(&self) -> usize {
        self.shared.replayed.load(Ordering::SeqCst)
    }

    fn unrecorded(&self) -> usize {
        self.shared.unrecorded.load(Ordering::SeqCst)
    }

    fn recordings(&self) -> usize {
        self.shared
            .recordings
            .lock()
            .map(|r| r.len())
            .unwrap_or_default()
    }
}

/// One client connection: request after request until the client closes it.
fn serve(client: TcpStream, upstream: u16, shared: &Shared) -> io::Result<()> {
    client.set_nodelay(true)?;
    let mut out = client.try_clone()?;
    let mut wire = Wire::new(client);
    while let Some((arrived, bytes)) = wire.head()? {
        let head = Head::parse(&bytes)?;
        if head.has_token("expect", "100-continue") {
            out.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        let (raw_body, body) = wire.framed_body(&head)?.unwrap_or_default();
        let mut raw = bytes;
        raw.extend_from_slice(&raw_body);
        let request = Request {
            head,
            raw,
            body,
            arrived,
        };
        shared.requests.fetch_add(1, Ordering::SeqCst);

        let delay = Duration::from_millis(shared.delay_ms.load(Ordering::SeqCst));
        if let Some(left) = delay.checked_sub(request.arrived.elapsed()) {
            thread::sleep(left);
        }
        let mode = shared.mode.load(Ordering::SeqCst);
        let response = if mode == Mode::Live as u8 {
            Arc::new(forward(upstream, &request)?)
        } else {
            let key = Key::of(&request);
            let recorded = shared
                .recordings
                .lock()
                .ok()
                .and_then(|r| r.get(&key).cloned());
            match recorded {
                Some(r) if mode == Mode::Replay as u8 => {
                    shared.replayed.fetch_add(1, Ordering::SeqCst);
                    r
                }
                _ => {
                    let fresh = Arc::new(forward(upstream, &request)?);
                    if mode == Mode::Record as u8 {
                        if let Ok(mut r) = shared.recordings.lock() {
                            r.entry(key).or_insert_with(|| Arc::clone(&fresh));
                        }
                    } else {
                        shared.unrecorded.fetch_add(1, Ordering::SeqCst);
                        if let Ok(mut keys) = shared.unrecorded_keys.lock()
                            && keys.len() < 10
                        {
                            keys.push(key.to_string());
                        }
                    }
                    fresh
                }
            }
        };
        out.write_all(&response.bytes)?;
        if mode == Mode::Replay as u8 {
            let held = request.arrived.elapsed().as_micros() as u64;
            shared.longest_replay_us.fetch_max(held, Ordering::SeqCst);
        }
        if response.close || request.head.has_token("connection", "close") {
            let _ = out.shutdown(Shutdown::Both);
            break;
        }
    }
    Ok(())
}

// ---- seeding (straight to moto, not through the proxy) ----

async fn seed(aws: &Aws) -> Result<usize, String> {
    let mut launched = 0;
    for (n, (region, count)) in SEEDED.iter().enumerate() {
        let ec2 = aws.ec2_in(region);
        ec2.create_key_pair()
            .key_name("bench-key")
            .send()
            .await
            .map_err(|e| format!("key pair in {region}: {e}"))?;
        let sg = ec2
            .create_security_group()
            .group_name("bench-open")
            .description("bench")
            .send()
            .await
            .map_err(|e| format!("security group in {region}: {e}"))?
            .group_id()
            .unwrap_or_default()
            .to_string();
        ec2.run_instances()
            .image_id(AMI)
            .instance_type(InstanceType::T3Micro)
            .min_count(*count)
            .max_count(*count)
            .key_name("bench-key")
            .security_group_ids(sg)
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::Instance)
                    .tags(
                        Tag::builder()
                            .key("Name")
                            .value(format!("miner-{n}"))
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .map_err(|e| format!("instances in {region}: {e}"))?;
        launched += *count as usize;
    }

    // An Auto Scaling group (two more instances) and a function, in us-east-1.
    let region = "us-east-1";
    let template = aws
        .ec2_in(region)
        .create_launch_template()
        .launch_template_name("bench-template")
        .launch_template_data(
            RequestLaunchTemplateData::builder()
                .image_id(AMI)
                .instance_type(InstanceType::T3Micro)
                .build(),
        )
        .send()
        .await
        .map_err(|e| format!("launch template: {e}"))?
        .launch_template()
        .and_then(|t| t.launch_template_id())
        .unwrap_or_default()
        .to_string();
    aws.autoscaling_in(region)
        .create_auto_scaling_group()
        .auto_scaling_group_name("bench-miners")
        .launch_template(
            aws_sdk_autoscaling::types::LaunchTemplateSpecification::builder()
                .launch_template_id(template)
                .version("$Latest")
                .build(),
        )
        .min_size(1)
        .max_size(4)
        .desired_capacity(2)
        .availability_zones("us-east-1a")
        .send()
        .await
        .map_err(|e| format!("auto scaling group: {e}"))?;
    launched += 2;
    let role = aws
        .iam
        .create_role()
        .role_name("bench-fn")
        .assume_role_policy_document("{}")
        .send()
        .await
        .map_err(|e| format!("role: {e}"))?
        .role()
        .map(|r| r.arn().to_string())
        .unwrap_or_default();
    aws.lambda_in(region)
        .create_function()
        .function_name("bench-fn")
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .role(role)
        .handler("h.h")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(b"zz".to_vec()))
                .build(),
        )
        .send()
        .await
        .map_err(|e| format!("function: {e}"))?;
    Ok(launched)
}

/// The SDK as the console builds it, with the console's own retry policy.
async fn connect(endpoint: String) -> Aws {
    Aws::connect(&ConnectOptions {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint),
        static_credentials: Some((
            "AKIAIOSFODNN7EXAMPLE".into(),
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        )),
        session_token: None,
        max_attempts: 3,
        service_endpoints: Default::default(),
    })
    .await
}

// ---- the two ways to sweep ----

fn all_regions() -> Vec<String> {
    REGIONS.iter().map(|r| r.to_string()).collect()
}

async fn at_once(aws: &Aws) -> Vec<RegionSweep> {
    resources::sweep(aws, &all_regions()).await
}

/// Each region in turn, then IAM; with each one's (name, seconds, requests through `proxy`).
async fn one_by_one(aws: &Aws, proxy: &Proxy) -> (Vec<RegionSweep>, Vec<(String, f64, usize)>) {
    let mut out = Vec::new();
    let mut each = Vec::new();
    for region in REGIONS.iter().copied().chain([GLOBAL_NAME]) {
        let (before, began) = (proxy.requests(), Instant::now());
        out.push(if region == GLOBAL_NAME {
            resources::sweep_iam(aws).await
        } else {
            resources::sweep_region(aws, region).await
        });
        each.push((
            region.to_string(),
            began.elapsed().as_secs_f64(),
            proxy.requests() - before,
        ));
    }
    (out, each)
}

/// What a sweep found.
struct Found {
    instances: usize,
    resources: usize,
    /// Cells that failed (Lightsail's "not here" is not a failure).
    failed: Vec<String>,
}

fn found(sweeps: &[RegionSweep]) -> Found {
    let instances = sweeps
        .iter()
        .flat_map(|s| &s.resources)
        .filter(|r| r.kind == Kind::Instance)
        .count();
    let resources = sweeps.iter().map(|s| s.resources.len()).sum();
    let failed = sweeps
        .iter()
        .flat_map(|s| {
            s.cells.iter().filter_map(move |(k, c)| match c {
                CellState::Failed(e) => Some(format!("{} {k}: {e}", s.region)),
                _ => None,
            })
        })
        .collect();
    Found {
        instances,
        resources,
        failed,
    }
}

/// Whether a timed sweep found what the warm-up found, with no failed cell; says why not.
fn complete(what: &str, sweeps: &[RegionSweep], warm: &Found) -> bool {
    let f = found(sweeps);
    let same = f.instances == warm.instances && f.resources == warm.resources;
    if !same {
        println!(
            "  {what}: found {} instances and {} resources; the warm-up found {} and {}",
            f.instances, f.resources, warm.instances, warm.resources
        );
    }
    for e in &f.failed {
        println!("  {what}: failed cell: {e}");
    }
    same && f.failed.is_empty()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Medians of one table: (all at once s, its requests, region by region s, its requests).
struct Medians {
    at_once: f64,
    at_once_requests: usize,
    one_by_one: f64,
    one_by_one_requests: usize,
    /// The last round's region-by-region sweep, one region (or IAM) at a time: (name, s,
    /// requests).
    each: Vec<(String, f64, usize)>,
}

impl Medians {
    fn ratio(&self) -> f64 {
        self.at_once / self.one_by_one
    }
}

/// `rounds` rounds of (all at once, then region by region), printed one row per round.
fn timed(
    runtime: &tokio::runtime::Runtime,
    aws: &Aws,
    proxy: &Proxy,
    rounds: usize,
    warm: &Found,
    correct: &mut bool,
) -> Medians {
    println!(
        "{:>5} {:>12} {:>10} {:>12} {:>10} {:>8}",
        "round", "at_once_s", "requests", "one_by_one_s", "requests", "ratio"
    );
    let (mut t_a, mut t_b, mut n_a, mut n_b) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut last = Vec::new();
    for round in 1..=rounds {
        let before = proxy.requests();
        let began = Instant::now();
        let a = runtime.block_on(at_once(aws));
        let secs_a = began.elapsed().as_secs_f64();
        let req_a = proxy.requests() - before;

        let before = proxy.requests();
        let began = Instant::now();
        let (b, each) = runtime.block_on(one_by_one(aws, proxy));
        let secs_b = began.elapsed().as_secs_f64();
        let req_b = proxy.requests() - before;

        println!(
            "{round:>5} {secs_a:>12.3} {req_a:>10} {secs_b:>12.3} {req_b:>10} {:>8.4}",
            secs_a / secs_b
        );
        *correct &= complete("all at once", &a, warm);
        *correct &= complete("region by region", &b, warm);
        t_a.push(secs_a);
        t_b.push(secs_b);
        n_a.push(req_a as f64);
        n_b.push(req_b as f64);
        last = each;
    }
    Medians {
        at_once: median(t_a),
        at_once_requests: median(n_a) as usize,
        one_by_one: median(t_b),
        one_by_one_requests: median(n_b) as usize,
        each: last,
    }
}

fn verdict(m: &Medians) -> String {
    let ratio = m.ratio();
    format!(
        "median: all at once {:.3} s ({} requests), region by region {:.3} s ({} requests), \
         ratio {ratio:.4} (1/{:.1}); target <= {TARGET_RATIO:.4}: {}",
        m.at_once,
        m.at_once_requests,
        m.one_by_one,
        m.one_by_one_requests,
        1.0 / ratio,
        if ratio <= TARGET_RATIO { "ok" } else { "MISS" }
    )
}

fn main() -> ExitCode {
    let rounds: usize = std::env::var("SWEEP_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    if !common::project_root()
        .join(".venv/bin/moto_server")
        .exists()
    {
        let status =
            std::process::Command::new(common::project_root().join("scripts/setup-moto")).status();
        if !status.is_ok_and(|s| s.success()) {
            eprintln!("sweep bench: scripts/setup-moto failed; moto is needed");
            return ExitCode::FAILURE;
        }
    }
    let moto = common::Moto::start();
    let proxy = match Proxy::start(moto.port) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("sweep bench: proxy: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sweep bench: no tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let direct = runtime.block_on(connect(moto.endpoint()));
    let launched = match runtime.block_on(seed(&direct)) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("sweep bench: seeding moto failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let aws = runtime.block_on(connect(proxy.endpoint()));

    // Untimed: moto builds each region's state on first use, and the proxy records every
    // answer.
    proxy.set_mode(Mode::Record);
    let before = proxy.requests();
    let warm = found(&runtime.block_on(at_once(&aws)));
    let warm_requests = proxy.requests() - before;
    println!(
        "inventory sweep, {} regions + IAM, {} ms per request; {launched} instances seeded in \
         {} regions, {} found ({} resources in all)",
        REGIONS.len(),
        DELAY.as_millis(),
        SEEDED.len(),
        warm.instances,
        warm.resources,
    );
    println!(
        "warm-up (untimed, live moto): {warm_requests} requests, {} distinct answers recorded",
        proxy.recordings()
    );
    let mut correct = warm.instances == launched && warm.failed.is_empty();
    for f in &warm.failed {
        println!("  warm-up: failed cell: {f}");
    }
    println!("target: all at once <= 1/12 ({TARGET_RATIO:.4}) of region by region");

    println!();
    println!(
        "== AWS-like: every request answered {} ms after it arrives, from the answers recorded \
         in the warm-up (moto not involved) ==",
        DELAY.as_millis()
    );
    proxy.set_mode(Mode::Replay);
    let (replayed_before, unrecorded_before) = (proxy.replayed(), proxy.unrecorded());
    let replay = timed(&runtime, &aws, &proxy, rounds, &warm, &mut correct);
    let unrecorded = proxy.unrecorded() - unrecorded_before;
    println!("{}", verdict(&replay));
    println!(
        "replayed {} answers, the longest {:.1} ms from the request's first byte to its \
         answer written; forwarded {unrecorded} unrecorded requests",
        proxy.replayed() - replayed_before,
        proxy.shared.longest_replay_us.load(Ordering::SeqCst) as f64 / 1000.0
    );
    println!("region by region, last round, each region's own time (requests):");
    for row in replay.each.chunks(6) {
        let cells: Vec<String> = row
            .iter()
            .map(|(name, secs, n)| format!("{name} {secs:.3} s ({n})"))
            .collect();
        println!("  {}", cells.join(", "));
    }
    if let Ok(keys) = proxy.shared.unrecorded_keys.lock() {
        for k in keys.iter() {
            println!("  unrecorded: {k}");
        }
    }

    println!();
    println!(
        "== live moto: every request held {} ms, then forwarded to moto (one Python process; \
         its CPU bounds the concurrent sweep on this machine) ==",
        DELAY.as_millis()
    );
    proxy.set_mode(Mode::Live);
    let live = timed(&runtime, &aws, &proxy, rounds, &warm, &mut correct);
    println!("{}", verdict(&live));

    // The same sweeps with nothing added: what the emulator itself costs. All at once, that
    // is moto working through every request of every region, a floor no client-side
    // concurrency can go below while moto answers.
    proxy.set_delay(Duration::ZERO);
    let mut bare_together = Vec::new();
    let mut bare_apart = Vec::new();
    for _ in 0..rounds {
        let began = Instant::now();
        let a = runtime.block_on(at_once(&aws));
        bare_together.push(began.elapsed().as_secs_f64());
        let began = Instant::now();
        let (b, _) = runtime.block_on(one_by_one(&aws, &proxy));
        bare_apart.push(began.elapsed().as_secs_f64());
        correct &= complete("all at once, no delay", &a, &warm);
        correct &= complete("region by region, no delay", &b, &warm);
    }
    let (z_a, z_b) = (median(bare_together), median(bare_apart));
    println!(
        "live moto, no delay added (moto's own time): all at once {z_a:.3} s, region by region \
         {z_b:.3} s"
    );

    println!();
    println!(
        "summary: AWS-like (replayed) ratio {:.4}, {}; live moto ratio {:.4}, {}; forwarded \
         {unrecorded} unrecorded requests",
        replay.ratio(),
        if replay.ratio() <= TARGET_RATIO {
            "ok"
        } else {
            "MISS"
        },
        live.ratio(),
        if live.ratio() <= TARGET_RATIO {
            "ok"
        } else {
            "MISS (moto's CPU)"
        },
    );
    println!(
        "every sweep found what the warm-up found and no cell failed: {}",
        if correct { "yes" } else { "NO" }
    );
    drop(moto);
    if correct {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
