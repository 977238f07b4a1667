//! The benches' latency proxy: a loopback HTTP/1.1 proxy in front of moto that holds every
//! request by a delay and then records, replays or forwards it (see `benches/sweep.rs` for why
//! replay models AWS's latency and live mode moto's CPU). Requests are keyed by what
//! identifies them independent of signing, including the signing key id, so several accounts'
//! sessions each get their own answers.
//!
//! It answers on one thread, each connection a task: it stands for AWS, whose work is not
//! done on the client's cores, so it must cost as little of them as it can. (A thread per
//! connection cost the organisation sweep, which opens about a thousand connections at once,
//! a third of its time.)
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use keyspill_aws::{Aws, ConnectOptions};

/// The latency every request is given (a distant AWS endpoint).
pub const DELAY: Duration = Duration::from_millis(100);

/// The 17 regions an account has enabled by default, as the sweep benches sweep them.
pub const REGIONS: [&str; 17] = [
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

/// The SDK as the console builds it, with the console's own retry policy.
pub async fn connect(endpoint: String) -> Aws {
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

// ---- HTTP/1.1 messages on a stream ----

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

pub fn bad(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

pub fn cut_short() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "connection closed mid-message",
    )
}

/// A stream read message by message; bytes read past the current message stay buffered.
pub struct Wire<S> {
    stream: S,
    buf: Vec<u8>,
}

impl<S: Read> Wire<S> {
    pub fn new(stream: S) -> Wire<S> {
        Wire {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn fill(&mut self) -> io::Result<usize> {
        let mut tmp = [0u8; 16 * 1024];
        let n = self.stream.read(&mut tmp)?;
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(n)
    }

    /// The next head, through its blank line, and when its first byte was here; `None` when
    /// the peer closed between messages.
    pub fn head(&mut self) -> io::Result<Option<(Instant, Vec<u8>)>> {
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

    pub fn exact(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if self.fill()? == 0 {
                return Err(cut_short());
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    pub fn line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(i) = find(&self.buf, b"\r\n") {
                return Ok(self.buf.drain(..i + 2).collect());
            }
            if self.fill()? == 0 {
                return Err(cut_short());
            }
        }
    }

    pub fn rest(&mut self) -> io::Result<Vec<u8>> {
        let mut out = std::mem::take(&mut self.buf);
        self.stream.read_to_end(&mut out)?;
        Ok(out)
    }

    /// A chunked body: the bytes as sent (chunks, last chunk, trailers) and the data.
    pub fn chunked(&mut self) -> io::Result<(Vec<u8>, Vec<u8>)> {
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
    pub fn framed_body(&mut self, head: &Head) -> io::Result<Option<(Vec<u8>, Vec<u8>)>> {
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
pub struct Head {
    first: String,
    headers: Vec<(String, String)>,
}

impl Head {
    pub fn parse(bytes: &[u8]) -> io::Result<Head> {
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

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    pub fn is_chunked(&self) -> bool {
        self.has_token("transfer-encoding", "chunked")
    }

    /// The first line's second word: a request's target, a response's status code.
    pub fn word(&self, n: usize) -> &str {
        self.first.split(' ').nth(n).unwrap_or("")
    }
}

pub struct Request {
    head: Head,
    /// Head and body exactly as the client sent them.
    raw: Vec<u8>,
    /// The body's data (chunked coding removed).
    body: Vec<u8>,
    arrived: Instant,
}

impl Request {
    pub fn method(&self) -> &str {
        self.head.word(0)
    }
}

/// What identifies a request independent of its signing, retry count and time.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// The access key id the request was signed with: each account's session its own.
    caller: String,
    method: String,
    /// Path and query.
    target: String,
    amz_target: String,
    /// Region and service from the SigV4 credential scope (`region/service`), else the Host.
    scope: String,
    body: Vec<u8>,
}

impl Key {
    pub fn of(request: &Request) -> Key {
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
        let caller = head
            .header("authorization")
            .and_then(|a| a.split("Credential=").nth(1))
            .and_then(|c| c.split('/').next())
            .unwrap_or("")
            .to_string();
        Key {
            caller,
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
pub struct Response {
    bytes: Vec<u8>,
    /// The body ran to the end of the connection, so the client's connection ends with it.
    close: bool,
}

/// Sends `request` to moto on a connection of its own (moto's server closes every connection
/// after one answer) and reads the answer. Hop-by-hop `Connection`/`Keep-Alive` headers are
/// dropped, so the client may keep its connection to the proxy, as it would with AWS.
pub fn forward(upstream: u16, request: &Request) -> io::Result<Response> {
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
pub enum Mode {
    /// Forward to moto and keep the answer.
    Record = 0,
    /// Answer from the recordings; forward (and count) only what was never recorded.
    Replay = 1,
    /// Forward every request to moto.
    Live = 2,
}

#[derive(Default)]
pub struct Shared {
    pub mode: AtomicU8,
    pub delay_ms: AtomicU64,
    pub requests: AtomicUsize,
    /// Client connections accepted.
    pub connections: AtomicUsize,
    pub replayed: AtomicUsize,
    pub unrecorded: AtomicUsize,
    /// The longest a replayed request took from its first byte in to its answer written, µs.
    pub longest_replay_us: AtomicU64,
    /// The first few unrecorded keys, to show what made a key unstable.
    pub unrecorded_keys: Mutex<Vec<String>>,
    pub recordings: Mutex<HashMap<Key, Arc<Response>>>,
}

/// A loopback HTTP/1.1 proxy in front of moto that holds every request by a delay
/// ([`DELAY`] unless changed) and then records, replays or forwards it ([`Mode`]).
pub struct Proxy {
    pub port: u16,
    pub shared: Arc<Shared>,
}

impl Proxy {
    /// Serves on a loopback port from a thread of its own, on one core at most: the stand-in
    /// for AWS must not take CPU from the client beyond what answering costs. Connections are
    /// tasks, not threads, so a thousand at once cost what AWS's would: nothing of ours.
    pub fn start(upstream: u16) -> io::Result<Proxy> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared::default());
        shared
            .delay_ms
            .store(DELAY.as_millis() as u64, Ordering::SeqCst);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let serving = Arc::clone(&shared);
        thread::spawn(move || {
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => return eprintln!("proxy: {e}"),
                };
                loop {
                    let Ok((client, _)) = listener.accept().await else {
                        continue;
                    };
                    let shared = Arc::clone(&serving);
                    shared.connections.fetch_add(1, Ordering::SeqCst);
                    tokio::spawn(async move {
                        if let Err(e) = serve(client, upstream, shared).await {
                            eprintln!("proxy: {e}");
                        }
                    });
                }
            });
        });
        Ok(Proxy { port, shared })
    }

    pub fn set_mode(&self, mode: Mode) {
        self.shared.mode.store(mode as u8, Ordering::SeqCst);
    }

    pub fn set_delay(&self, d: Duration) {
        self.shared
            .delay_ms
            .store(d.as_millis() as u64, Ordering::SeqCst);
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    pub fn replayed(&self) -> usize {
        self.shared.replayed.load(Ordering::SeqCst)
    }

    pub fn unrecorded(&self) -> usize {
        self.shared.unrecorded.load(Ordering::SeqCst)
    }

    pub fn recordings(&self) -> usize {
        self.shared
            .recordings
            .lock()
            .map(|r| r.len())
            .unwrap_or_default()
    }
}

/// The request at the front of `buf`, when it is all there, and how many bytes it took.
/// `arrived` is when its first byte came.
fn complete_request(buf: &[u8], arrived: Instant) -> io::Result<Option<(Request, usize)>> {
    let mut wire = Wire::new(buf);
    let parsed = (|| -> io::Result<Option<Request>> {
        let Some((_, bytes)) = wire.head()? else {
            return Ok(None);
        };
        let head = Head::parse(&bytes)?;
        let (raw_body, body) = wire.framed_body(&head)?.unwrap_or_default();
        let mut raw = bytes;
        raw.extend_from_slice(&raw_body);
        Ok(Some(Request {
            head,
            raw,
            body,
            arrived,
        }))
    })();
    match parsed {
        Ok(Some(request)) => Ok(Some((
            request,
            buf.len() - wire.stream.len() - wire.buf.len(),
        ))),
        Ok(None) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e),
    }
}

/// One client connection: request after request until the client closes it.
pub async fn serve(
    mut client: tokio::net::TcpStream,
    upstream: u16,
    shared: Arc<Shared>,
) -> io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    client.set_nodelay(true)?;
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let mut arrived = (!buf.is_empty()).then(Instant::now);
        let mut continued = false;
        let request = loop {
            if let Some(at) = arrived {
                if let Some((request, used)) = complete_request(&buf, at)? {
                    buf.drain(..used);
                    break request;
                }
                // A client that waits for 100 Continue sends its body only after it.
                if !continued
                    && let Some(end) = find(&buf, b"\r\n\r\n")
                    && Head::parse(&buf[..end + 4])?.has_token("expect", "100-continue")
                {
                    client.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
                    continued = true;
                }
            }
            let n = client.read(&mut chunk).await?;
            if n == 0 {
                return if buf.is_empty() {
                    Ok(())
                } else {
                    Err(cut_short())
                };
            }
            arrived.get_or_insert_with(Instant::now);
            buf.extend_from_slice(&chunk[..n]);
        };
        shared.requests.fetch_add(1, Ordering::SeqCst);

        let delay = Duration::from_millis(shared.delay_ms.load(Ordering::SeqCst));
        if let Some(left) = delay.checked_sub(request.arrived.elapsed()) {
            tokio::time::sleep(left).await;
        }
        let request = Arc::new(request);
        let moto = |request: &Arc<Request>| {
            let request = Arc::clone(request);
            async move {
                tokio::task::spawn_blocking(move || forward(upstream, &request))
                    .await
                    .map_err(|e| bad(format!("forwarding stopped: {e}")))?
            }
        };
        let mode = shared.mode.load(Ordering::SeqCst);
        let response = if mode == Mode::Live as u8 {
            Arc::new(moto(&request).await?)
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
                    let fresh = Arc::new(moto(&request).await?);
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
        client.write_all(&response.bytes).await?;
        if mode == Mode::Replay as u8 {
            let held = request.arrived.elapsed().as_micros() as u64;
            shared.longest_replay_us.fetch_max(held, Ordering::SeqCst);
        }
        if response.close || request.head.has_token("connection", "close") {
            let _ = client.shutdown().await;
            return Ok(());
        }
    }
}

/// The project's moto, installed by its own script when missing; false (said) when that fails.
pub fn ensure_moto(bench: &str) -> bool {
    let root = crate::common::project_root();
    if root.join(".venv/bin/moto_server").exists() {
        return true;
    }
    let status = std::process::Command::new(root.join("scripts/setup-moto")).status();
    if status.is_ok_and(|s| s.success()) {
        return true;
    }
    eprintln!("{bench} bench: scripts/setup-moto failed; moto is needed");
    false
}

/// The median of hand-timed runs (at least one).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
