//! A stand-in for CloudTrail's LookupEvents, which moto lacks: an HTTP/1.1 server on a free
//! loopback port speaking the JSON 1.1 protocol the SDK uses (`POST /` with
//! `X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents`).
//!
//!   The Rust SDK sends the short form `CloudTrail_20131101.LookupEvents`; both are accepted.
//! - The region comes from the SigV4 credential scope in `Authorization`, the caller from its
//!   access key id. Signatures are not checked.
//! - Events are held per region and served newest first, 50 (or `MaxResults`) a page, filtered
//!   by the one lookup attribute and by `StartTime`/`EndTime` (both inclusive). `NextToken`s
//!   are opaque and bound to the query they came from.
//! - Each region has a token bucket (default: 2 per second, holding at most 2) shared by every
//!   caller; a request that finds it empty gets HTTP 400 `ThrottlingException`. A request the
//!   bucket admits takes a token; a throttled one does not.
//! - A caller can be denied: HTTP 403 `AccessDeniedException` naming `cloudtrail:LookupEvents`;
//!   so can everyone in a region, until the test allows it again (a permission granted).
//! - Every request is logged per region with its arrival time, caller and outcome.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::http::{Request as HttpRequest, Response, Server, credential_scope};

/// The target botocore sends (its model's `targetPrefix` plus the operation).
pub const TARGET: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents";
/// The target the Rust SDK sends: the Smithy service shape name without the namespace. AWS
/// accepts both, so the server does too.
pub const SHORT_TARGET: &str = "CloudTrail_20131101.LookupEvents";

/// What the server did with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered with a page of this many events.
    Served(usize),
    Throttled,
    Denied,
    /// Malformed or unsupported (HTTP 400 with another error code).
    Rejected,
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub at: Instant,
    pub caller: String,
    pub outcome: Outcome,
}

/// One stored event. `raw: None` models an event that comes back without `CloudTrailEvent`.
#[derive(Debug, Clone)]
struct Stored {
    id: String,
    time: f64,
    name: String,
    source: String,
    key: String,
    username: String,
    read_only: Option<bool>,
    raw: Option<String>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

#[derive(Debug, Clone)]
struct Cursor {
    query: String,
    time: f64,
    id: String,
}

#[derive(Debug)]
struct State {
    rate: f64,
    burst: f64,
    events: HashMap<String, Vec<Stored>>,
    buckets: HashMap<String, Bucket>,
    tokens: HashMap<String, Cursor>,
    token_seq: u64,
    log: HashMap<String, Vec<Request>>,
    denied: HashSet<String>,
    denied_regions: HashSet<String>,
}

/// The server; it stops accepting when dropped.
pub struct LookupServer {
    server: Server,
    state: Arc<Mutex<State>>,
    /// When the server started: request times are measured from here in reports.
    pub started: Instant,
}

impl LookupServer {
    /// At AWS's limit: 2 requests per second per region, at most 2 banked.
    pub fn start() -> LookupServer {
        LookupServer::start_with_limit(2.0, 2.0)
    }

    pub fn start_with_limit(rate: f64, burst: f64) -> LookupServer {
        let state = Arc::new(Mutex::new(State {
            rate,
            burst,
            events: HashMap::new(),
            buckets: HashMap::new(),
            tokens: HashMap::new(),
            token_seq: 0,
            log: HashMap::new(),
            denied: HashSet::new(),
            denied_regions: HashSet::new(),
        }));
        let shared = Arc::clone(&state);
        let server = Server::start(move |req| {
            let (status, body) = answer(req, &shared);
            Response::json(status, body)
        });
        LookupServer {
            server,
            state,
            started: Instant::now(),
        }
    }

    pub fn endpoint(&self) -> String {
        self.server.endpoint()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Stores CloudTrail records (as they appear in a log file) for `region`; the lookup
    /// fields are read from the record itself.
    pub fn add_records(&self, region: &str, records: impl IntoIterator<Item = Value>) {
        let mut st = self.lock();
        let list = st.events.entry(region.to_string()).or_default();
        for r in records {
            let time = r["eventTime"]
                .as_str()
                .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())
                .map_or(0.0, |t| t.unix_timestamp() as f64);
            list.push(Stored {
                id: r["eventID"].as_str().unwrap_or_default().to_string(),
                time,
                name: r["eventName"].as_str().unwrap_or_default().to_string(),
                source: r["eventSource"].as_str().unwrap_or_default().to_string(),
                key: r["userIdentity"]["accessKeyId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                username: r["userIdentity"]["userName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                read_only: r["readOnly"].as_bool(),
                raw: Some(r.to_string()),
            });
        }
    }

    /// Stores an event whose answer carries every field but `CloudTrailEvent`.
    pub fn add_event_without_record(
        &self,
        region: &str,
        id: &str,
        key: &str,
        time: OffsetDateTime,
    ) {
        self.lock()
            .events
            .entry(region.to_string())
            .or_default()
            .push(Stored {
                id: id.to_string(),
                time: time.unix_timestamp() as f64,
                name: "DescribeInstances".into(),
                source: "ec2.amazonaws.com".into(),
                key: key.to_string(),
                username: String::new(),
                read_only: Some(true),
                raw: None,
            });
    }

    /// From now on, requests signed with `key_id` get AccessDeniedException.
    pub fn deny(&self, key_id: &str) {
        self.lock().denied.insert(key_id.to_string());
    }

    /// From now on, requests signed with `key_id` are answered again.
    pub fn allow(&self, key_id: &str) {
        self.lock().denied.remove(key_id);
    }

    /// From now on, every request in `region` gets AccessDeniedException.
    pub fn deny_region(&self, region: &str) {
        self.lock().denied_regions.insert(region.to_string());
    }

    /// From now on, `region` answers again.
    pub fn allow_region(&self, region: &str) {
        self.lock().denied_regions.remove(region);
    }

    /// Every request logged for `region`, in arrival order.
    pub fn requests(&self, region: &str) -> Vec<Request> {
        self.lock().log.get(region).cloned().unwrap_or_default()
    }

    /// Arrival times of `caller`'s requests in `region`, whatever the outcome.
    pub fn times_of(&self, region: &str, caller: &str) -> Vec<Instant> {
        self.requests(region)
            .into_iter()
            .filter(|r| r.caller == caller)
            .map(|r| r.at)
            .collect()
    }

    /// Throttled answers in `region`, to `caller` or (with `None`) to anyone.
    pub fn throttled(&self, region: &str, caller: Option<&str>) -> usize {
        self.requests(region)
            .iter()
            .filter(|r| r.outcome == Outcome::Throttled)
            .filter(|r| caller.is_none_or(|c| r.caller == c))
            .count()
    }

    /// Sends one LookupEvents request outside the SDK (an unpaced neighbour) and returns the
    /// HTTP status.
    pub fn raw_lookup(&self, region: &str, caller: &str, body: &str) -> u16 {
        let mut s = TcpStream::connect(("127.0.0.1", self.server.port()))
            .expect("connect to the lookup server");
        s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        let req = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nX-Amz-Target: {TARGET}\r\n\
             Content-Type: application/x-amz-json-1.1\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential={caller}/20250301/{region}/cloudtrail/aws4_request, SignedHeaders=host, Signature=00\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.server.endpoint().trim_start_matches("http://"),
            body.len()
        );
        s.write_all(req.as_bytes()).expect("send");
        let mut out = Vec::new();
        s.read_to_end(&mut out).ok();
        let text = String::from_utf8_lossy(&out);
        text.split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0)
    }
}

fn error(code: &str, message: &str) -> String {
    json!({"__type": code, "message": message}).to_string()
}

fn answer(req: &HttpRequest, state: &Mutex<State>) -> (u16, String) {
    let now = Instant::now();
    if req.method != "POST" || req.path != "/" {
        return (404, error("UnknownOperationException", "POST / only"));
    }
    let Some((caller, region, _)) = credential_scope(req) else {
        return (
            400,
            error(
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
            ),
        );
    };
    let mut st = state
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (status, body, outcome) = decide(req, &mut st, &caller, &region, now);
    st.log.entry(region).or_default().push(Request {
        at: now,
        caller,
        outcome,
    });
    (status, body)
}

fn decide(
    req: &HttpRequest,
    st: &mut State,
    caller: &str,
    region: &str,
    now: Instant,
) -> (u16, String, Outcome) {
    if !matches!(req.header("x-amz-target"), Some(TARGET | SHORT_TARGET)) {
        return (
            400,
            error(
                "UnknownOperationException",
                "only LookupEvents is served here",
            ),
            Outcome::Rejected,
        );
    }
    if st.denied.contains(caller) || st.denied_regions.contains(region) {
        let msg = format!(
            "User: arn:aws:iam::123456789012:user/denied is not authorized to perform: \
             cloudtrail:LookupEvents because no identity-based policy allows the \
             cloudtrail:LookupEvents action (key {caller})"
        );
        return (403, error("AccessDeniedException", &msg), Outcome::Denied);
    }

    // The region's token bucket.
    let (rate, burst) = (st.rate, st.burst);
    let bucket = st.buckets.entry(region.to_string()).or_insert(Bucket {
        tokens: burst,
        at: now,
    });
    let refill = now.saturating_duration_since(bucket.at).as_secs_f64() * rate;
    bucket.tokens = (bucket.tokens + refill).min(burst);
    bucket.at = now;
    if bucket.tokens < 1.0 {
        return (
            400,
            error("ThrottlingException", "Rate exceeded"),
            Outcome::Throttled,
        );
    }
    bucket.tokens -= 1.0;

    let input: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(_) => {
            return (
                400,
                error("SerializationException", "the body is not JSON"),
                Outcome::Rejected,
            );
        }
    };
    let attrs = input["LookupAttributes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if attrs.len() > 1 {
        return (
            400,
            error(
                "InvalidLookupAttributesException",
                "only one lookup attribute is allowed",
            ),
            Outcome::Rejected,
        );
    }
    let filter = attrs.first().map(|a| {
        (
            a["AttributeKey"].as_str().unwrap_or_default().to_string(),
            a["AttributeValue"].as_str().unwrap_or_default().to_string(),
        )
    });
    let start = input["StartTime"].as_f64();
    let end = input["EndTime"].as_f64();
    if let (Some(s), Some(e)) = (start, end)
        && s > e
    {
        return (
            400,
            error("InvalidTimeRangeException", "StartTime is after EndTime"),
            Outcome::Rejected,
        );
    }
    let max = match input["MaxResults"].as_i64() {
        None => 50,
        Some(n) if (1..=50).contains(&n) => n as usize,
        Some(_) => {
            return (
                400,
                error("InvalidMaxResultsException", "MaxResults must be 1 to 50"),
                Outcome::Rejected,
            );
        }
    };
    let query = format!("{filter:?}|{start:?}|{end:?}");
    let cursor = match input["NextToken"].as_str() {
        None => None,
        Some(t) => match st.tokens.get(t) {
            Some(c) if c.query == query => Some(c.clone()),
            _ => {
                return (
                    400,
                    error(
                        "InvalidNextTokenException",
                        "the token is not valid for this query",
                    ),
                    Outcome::Rejected,
                );
            }
        },
    };

    let mut hits: Vec<&Stored> = st
        .events
        .get(region)
        .map(|v| v.iter().collect())
        .unwrap_or_default();
    hits.retain(|e| {
        let by_attr = match &filter {
            None => true,
            Some((k, v)) => match k.as_str() {
                "AccessKeyId" => &e.key == v,
                "EventId" => &e.id == v,
                "EventName" => &e.name == v,
                "EventSource" => &e.source == v,
                "Username" => &e.username == v,
                "ReadOnly" => e.read_only.map(|r| r.to_string()).as_deref() == Some(v),
                _ => false,
            },
        };
        by_attr && start.is_none_or(|s| e.time >= s) && end.is_none_or(|x| e.time <= x)
    });
    // Newest first; the id breaks ties so pages are stable.
    hits.sort_by(|a, b| b.time.total_cmp(&a.time).then_with(|| b.id.cmp(&a.id)));
    if let Some(c) = &cursor {
        hits.retain(|e| e.time < c.time || (e.time == c.time && e.id < c.id));
    }
    let more = hits.len() > max;
    hits.truncate(max);
    let events: Vec<Value> = hits
        .iter()
        .map(|e| {
            let mut v = json!({
                "EventId": e.id,
                "EventName": e.name,
                "ReadOnly": e.read_only.map_or("false".to_string(), |r| r.to_string()),
                "AccessKeyId": e.key,
                "EventTime": e.time,
                "EventSource": e.source,
                "Username": e.username,
                "Resources": [],
            });
            if let Some(raw) = &e.raw {
                v["CloudTrailEvent"] = Value::String(raw.clone());
            }
            v
        })
        .collect();
    let served = events.len();
    let last = hits.last().map(|e| (e.time, e.id.clone()));
    let mut out = json!({ "Events": events });
    if more && let Some((time, id)) = last {
        st.token_seq += 1;
        let token = format!(
            "kT{:08x}{:016x}",
            st.token_seq,
            st.token_seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (time as u64)
        );
        st.tokens.insert(token.clone(), Cursor { query, time, id });
        out["NextToken"] = Value::String(token);
    }
    (200, out.to_string(), Outcome::Served(served))
}
