//! What moto lacks, served beside it for the game, so the console shows no emulator gap: a
//! local HTTP/1.1 server speaking the AWS JSON 1.1 protocol for CloudTrail's `LookupEvents`
//! and Cost Explorer's `GetAnomalyMonitors` and `GetAnomalies`. The console's CloudTrail and
//! Cost Explorer clients are pointed at it (per-service endpoints); every other operation of
//! those services (`DescribeTrails`, `GetTrailStatus`, `GetCostAndUsage`, …) is passed through
//! to moto unchanged.
//!
//! `LookupEvents` answers from what the game's CloudTrail delivered: the trail bucket is read
//! every couple of seconds and each management event of each new log object is kept, in its
//! region (data events never reach LookupEvents, as in AWS). Like AWS, each region admits 2
//! requests per second; one more is answered `ThrottlingException`.
//!
//! It also answers for the detection sources moto lacks: GuardDuty (`ListDetectors`,
//! `ListFindings`, `GetFindings`, REST JSON) with the findings the attacker's opening raises, and
//! AWS Health (`DescribeEvents`, `DescribeAffectedEntities`, JSON 1.1) with the
//! `AWS_RISK_CREDENTIALS_EXPOSED` event for the leaked key (see [`super::alerts`]).
//!
//! Bounded: a request over [`MAX_REQUEST`] bytes is refused, a page holds at most 50 events.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::Seeded;
use super::clients::As;

/// The largest request the server reads.
pub const MAX_REQUEST: usize = 1024 * 1024;
/// Requests per second each region admits (CloudTrail's LookupEvents quota).
pub const LOOKUPS_PER_SECOND: f64 = 2.0;
/// How often the trail bucket is read for newly delivered log objects.
const FEED_EVERY: Duration = Duration::from_secs(2);

/// One event as LookupEvents returns it.
#[derive(Debug, Clone)]
struct Stored {
    id: String,
    name: String,
    read_only: String,
    key: String,
    /// Seconds since the epoch.
    time: f64,
    source: String,
    username: String,
    raw: String,
}

#[derive(Debug, Default)]
struct Store {
    by_region: HashMap<String, Vec<Stored>>,
    seen_objects: BTreeSet<String>,
    buckets: HashMap<String, (f64, Instant)>,
}

/// The running server; it stops when dropped.
pub struct Gaps {
    /// Where to point the console's CloudTrail and Cost Explorer clients.
    pub endpoint: String,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Gaps {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Starts the server on a free loopback port, fed from the game's trail bucket in moto.
pub async fn serve(moto: &str, seeded: &Seeded) -> Result<Gaps, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("cannot listen for the emulator's gaps: {e}"))?;
    let port = listener
        .local_addr()
        .map_err(|e| format!("cannot listen for the emulator's gaps: {e}"))?
        .port();
    let store = Arc::new(Mutex::new(Store::default()));
    let anomalies = Arc::new(seeded.cost_anomalies.clone());
    let detected = seeded
        .history
        .iter()
        .map(|e| e.at)
        .max()
        .unwrap_or(seeded.leak_start);
    let sources = Arc::new(Sources {
        findings: super::alerts::findings(seeded),
        exposed: super::alerts::exposed(seeded, detected),
    });
    let feeder = {
        let (store, moto, bucket) = (store.clone(), moto.to_string(), seeded.trail_bucket.clone());
        tokio::spawn(async move {
            let root = As::root(&moto).await;
            loop {
                feed(&root, &bucket, &store).await;
                tokio::time::sleep(FEED_EVERY).await;
            }
        })
    };
    let server = {
        let moto = moto.to_string();
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let (store, anomalies, moto, sources) = (
                    store.clone(),
                    anomalies.clone(),
                    moto.clone(),
                    sources.clone(),
                );
                tokio::spawn(async move {
                    let _ = connection(conn, &store, &anomalies, &sources, &moto).await;
                });
            }
        })
    };
    Ok(Gaps {
        endpoint: format!("http://127.0.0.1:{port}"),
        tasks: vec![feeder, server],
    })
}

/// Reads the log objects delivered since the last look.
async fn feed(root: &As, bucket: &str, store: &Mutex<Store>) {
    let s3 = root.s3();
    let mut listed = Vec::new();
    let mut pages = s3.list_objects_v2().bucket(bucket).into_paginator().send();
    while let Some(page) = pages.next().await {
        let Ok(page) = page else { return };
        listed.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string)),
        );
    }
    let new: Vec<String> = {
        let Ok(st) = store.lock() else { return };
        listed
            .iter()
            .map(String::as_str)
            .filter(|k| k.ends_with(".json.gz") && !st.seen_objects.contains(*k))
            .map(str::to_string)
            .collect()
    };
    for key in new {
        let Ok(obj) = s3.get_object().bucket(bucket).key(&key).send().await else {
            continue;
        };
        let Ok(body) = obj.body.collect().await else {
            continue;
        };
        let events = records(&body.into_bytes());
        let Ok(mut st) = store.lock() else { return };
        st.seen_objects.insert(key);
        for (region, e) in events {
            st.by_region.entry(region).or_default().push(e);
        }
    }
}

/// The management events of one delivered log object, with their regions.
fn records(gz: &[u8]) -> Vec<(String, Stored)> {
    let mut text = Vec::new();
    let mut d = flate2::read::GzDecoder::new(gz);
    if std::io::Read::read_to_end(&mut d, &mut text).is_err() {
        return Vec::new();
    }
    let Ok(doc) = serde_json::from_slice::<Value>(&text) else {
        return Vec::new();
    };
    let s = |r: &Value, k: &str| r[k].as_str().unwrap_or_default().to_string();
    doc["Records"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| {
            r["eventCategory"]
                .as_str()
                .is_none_or(|c| c == "Management")
        })
        .filter(|r| r["managementEvent"].as_bool() != Some(false))
        .filter_map(|r| {
            let time = time::OffsetDateTime::parse(
                r["eventTime"].as_str()?,
                &time::format_description::well_known::Rfc3339,
            )
            .ok()?;
            let who = &r["userIdentity"];
            let username = who["userName"]
                .as_str()
                .or_else(|| who["sessionContext"]["sessionIssuer"]["userName"].as_str())
                .unwrap_or_default();
            Some((
                s(r, "awsRegion"),
                Stored {
                    id: s(r, "eventID"),
                    name: s(r, "eventName"),
                    read_only: r["readOnly"]
                        .as_bool()
                        .map_or_else(|| "false".into(), |b| b.to_string()),
                    key: who["accessKeyId"].as_str().unwrap_or_default().to_string(),
                    time: time.unix_timestamp() as f64,
                    source: s(r, "eventSource"),
                    username: username.to_string(),
                    raw: r.to_string(),
                },
            ))
        })
        .collect()
}

/// One request, read from the connection.
struct Request {
    head: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The region of the SigV4 credential scope (`Credential=AKID/date/REGION/service/…`).
    fn region(&self) -> String {
        self.header("authorization")
            .and_then(|a| a.split("Credential=").nth(1))
            .and_then(|c| c.split('/').nth(2))
            .unwrap_or("us-east-1")
            .to_string()
    }
}

async fn read_request(conn: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Request> {
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_REQUEST {
            return None;
        }
        let mut chunk = [0u8; 8192];
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head_text = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head_text.split("\r\n");
    let head = lines.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    if length > MAX_REQUEST {
        return None;
    }
    let start = end + 4;
    while buf.len() < start + length {
        let mut chunk = [0u8; 8192];
        let n = conn.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[start..start + length].to_vec();
    buf.drain(..start + length);
    Some(Request {
        head,
        headers,
        body,
    })
}

/// The detection sources' answers.
struct Sources {
    findings: Vec<Value>,
    exposed: super::alerts::Exposed,
}

/// Health's routes (Smithy RPC v2 CBOR): `POST /service/AWSHealth_20160804/operation/OP`.
fn health(sources: &Sources, req: &Request) -> Option<Vec<u8>> {
    let path = req.head.split(' ').nth(1)?;
    let op = path.strip_prefix("/service/AWSHealth_20160804/operation/")?;
    Some(match op {
        "DescribeEvents" => super::alerts::describe_events(&sources.exposed),
        "DescribeAffectedEntities" => super::alerts::describe_affected_entities(&sources.exposed),
        _ => return None,
    })
}

/// GuardDuty's REST routes: `GET /detector`, `POST /detector/{id}/findings`,
/// `POST /detector/{id}/findings/get`. `None` for any other path.
fn guardduty(sources: &Sources, req: &Request) -> Option<(u16, String)> {
    let mut parts = req.head.split(' ');
    let (method, path) = (parts.next()?, parts.next()?);
    let path = path.split('?').next().unwrap_or(path);
    let region = req.region();
    let here: Vec<&Value> = sources
        .findings
        .iter()
        .filter(|f| f["region"] == region.as_str())
        .collect();
    match (method, path.trim_end_matches('/')) {
        ("GET", "/detector") => Some((
            200,
            json!({"detectorIds": [super::alerts::DETECTOR]}).to_string(),
        )),
        ("POST", p) if p.starts_with("/detector/") && p.ends_with("/findings/get") => {
            let wanted: Vec<String> = serde_json::from_slice::<Value>(&req.body)
                .ok()
                .and_then(|b| b["findingIds"].as_array().cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            let found: Vec<&Value> = here
                .iter()
                .copied()
                .filter(|f| {
                    f["id"]
                        .as_str()
                        .is_some_and(|id| wanted.iter().any(|w| w == id))
                })
                .collect();
            Some((200, json!({ "findings": found }).to_string()))
        }
        ("POST", p) if p.starts_with("/detector/") && p.ends_with("/findings") => {
            let ids: Vec<&Value> = here.iter().map(|f| &f["id"]).collect();
            Some((200, json!({ "findingIds": ids }).to_string()))
        }
        _ => None,
    }
}

async fn connection(
    mut conn: TcpStream,
    store: &Mutex<Store>,
    anomalies: &[Value],
    sources: &Sources,
    moto: &str,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut conn, &mut buf).await {
        if let Some(body) = health(sources, &req) {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/cbor\r\nsmithy-protocol: rpc-v2-cbor\r\n\
                 Content-Length: {}\r\nx-amzn-RequestId: keyspill-game\r\n\r\n",
                body.len()
            );
            conn.write_all(head.as_bytes()).await?;
            conn.write_all(&body).await?;
            continue;
        }
        let target = req.header("x-amz-target").unwrap_or_default().to_string();
        let op = target.rsplit('.').next().unwrap_or_default();
        let answer = match op {
            "" => guardduty(sources, &req),
            "LookupEvents" => Some(lookup(store, &req)),
            "GetAnomalyMonitors" => Some((
                200,
                json!({"AnomalyMonitors": [{
                    "MonitorArn": super::cost::MONITOR_ARN,
                    "MonitorName": "Default-Services-Monitor",
                    "MonitorType": "DIMENSIONAL",
                    "MonitorDimension": "SERVICE",
                }]})
                .to_string(),
            )),
            "GetAnomalies" => Some((200, json!({ "Anomalies": anomalies }).to_string())),
            _ => None,
        };
        match answer {
            Some((status, body)) => {
                let reason = if status == 200 { "OK" } else { "Bad Request" };
                let out = format!(
                    "HTTP/1.1 {status} {reason}\r\nContent-Type: application/x-amz-json-1.1\r\n\
                     Content-Length: {}\r\nx-amzn-RequestId: keyspill-game\r\n\r\n{body}",
                    body.len()
                );
                conn.write_all(out.as_bytes()).await?;
            }
            None => {
                // Everything else goes to moto as it came, and its answer back as it went.
                let answer = pass_through(moto, &req).await;
                conn.write_all(&answer).await?;
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Sends the request to moto on a connection of its own and returns moto's whole answer.
async fn pass_through(moto: &str, req: &Request) -> Vec<u8> {
    let addr = moto.trim_start_matches("http://").trim_end_matches('/');
    let failed = |why: String| {
        let body = json!({"__type": "ServiceUnavailableException", "message": why}).to_string();
        format!(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/x-amz-json-1.1\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    let Ok(mut up) = TcpStream::connect(addr).await else {
        return failed(format!("the emulator at {moto} does not answer"));
    };
    let mut out = format!("{}\r\n", req.head);
    for (k, v) in &req.headers {
        if !k.eq_ignore_ascii_case("connection") {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&req.body);
    if up.write_all(&bytes).await.is_err() {
        return failed(format!("the emulator at {moto} closed the connection"));
    }
    let mut answer = Vec::new();
    match up.read_to_end(&mut answer).await {
        Ok(_) => answer,
        Err(e) => failed(format!("the emulator at {moto}: {e}")),
    }
}

fn error(code: &str, message: &str) -> (u16, String) {
    (400, json!({"__type": code, "message": message}).to_string())
}

/// One LookupEvents page: newest first, filtered by the lookup attribute and the times.
fn lookup(store: &Mutex<Store>, req: &Request) -> (u16, String) {
    let Ok(input) = serde_json::from_slice::<Value>(&req.body) else {
        return error("InvalidParameterException", "the body is not JSON");
    };
    let region = req.region();
    let Ok(mut st) = store.lock() else {
        return error("InternalFailure", "the store is unavailable");
    };
    // Two requests per second per region, at most two at once.
    let now = Instant::now();
    let (tokens, last) = st
        .buckets
        .get(&region)
        .copied()
        .unwrap_or((LOOKUPS_PER_SECOND, now));
    let tokens = (tokens + now.duration_since(last).as_secs_f64() * LOOKUPS_PER_SECOND)
        .min(LOOKUPS_PER_SECOND);
    if tokens < 1.0 {
        st.buckets.insert(region, (tokens, now));
        return error("ThrottlingException", "Rate exceeded");
    }
    st.buckets.insert(region.clone(), (tokens - 1.0, now));

    let attr = input["LookupAttributes"][0].clone();
    let key = attr["AttributeKey"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let value = attr["AttributeValue"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let start = input["StartTime"].as_f64();
    let end = input["EndTime"].as_f64();
    let max = input["MaxResults"].as_u64().unwrap_or(50).clamp(1, 50) as usize;
    let offset: usize = input["NextToken"]
        .as_str()
        .and_then(|t| t.strip_prefix("page-"))
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let events = st.by_region.get(&region).map(Vec::as_slice).unwrap_or(&[]);
    let mut hits: Vec<&Stored> = events
        .iter()
        .filter(|e| match key.as_str() {
            "" => true,
            "AccessKeyId" => e.key == value,
            "Username" => e.username == value,
            "EventName" => e.name == value,
            "EventId" => e.id == value,
            "EventSource" => e.source == value,
            "ReadOnly" => e.read_only == value,
            _ => e.raw.contains(&value),
        })
        .filter(|e| start.is_none_or(|s| e.time >= s) && end.is_none_or(|x| e.time <= x))
        .collect();
    hits.sort_by(|a, b| b.time.total_cmp(&a.time).then_with(|| b.id.cmp(&a.id)));
    let page: Vec<Value> = hits
        .iter()
        .skip(offset)
        .take(max)
        .map(|e| {
            json!({
                "EventId": e.id,
                "EventName": e.name,
                "ReadOnly": e.read_only,
                "AccessKeyId": e.key,
                "EventTime": e.time,
                "EventSource": e.source,
                "Username": e.username,
                "Resources": [],
                "CloudTrailEvent": e.raw,
            })
        })
        .collect();
    let mut out = json!({ "Events": page });
    if offset + max < hits.len() {
        out["NextToken"] = Value::String(format!("page-{}", offset + max));
    }
    (200, out.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gz(doc: &Value) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(doc.to_string().as_bytes()).expect("gzip");
        e.finish().expect("gzip")
    }

    #[test]
    fn management_events_are_kept_in_their_region_and_data_events_never() {
        let doc = json!({"Records": [
            {"eventID": "a", "eventName": "RunInstances", "eventTime": "2026-12-05T01:00:00Z",
             "awsRegion": "sa-east-1", "eventSource": "ec2.amazonaws.com", "readOnly": false,
             "userIdentity": {"accessKeyId": "AKIALEAK", "userName": "dev"}},
            {"eventID": "b", "eventName": "GetObject", "eventTime": "2026-12-05T01:00:01Z",
             "awsRegion": "us-east-1", "eventSource": "s3.amazonaws.com", "readOnly": true,
             "eventCategory": "Data", "managementEvent": false,
             "userIdentity": {"accessKeyId": "AKIALEAK"}},
        ]});
        let got = records(&gz(&doc));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, "sa-east-1");
        assert_eq!(got[0].1.key, "AKIALEAK");
        assert_eq!(got[0].1.username, "dev");
        assert!(got[0].1.raw.contains("RunInstances"));
        assert!(records(b"not gzip").is_empty());
    }

    fn request(region: &str, body: Value) -> Request {
        Request {
            head: "POST / HTTP/1.1".into(),
            headers: vec![(
                "Authorization".into(),
                format!(
                    "AWS4-HMAC-SHA256 Credential=AKID/20261205/{region}/cloudtrail/aws4_request"
                ),
            )],
            body: body.to_string().into_bytes(),
        }
    }

    #[test]
    fn pages_are_newest_first_filtered_by_key_and_throttled_at_two_a_second() {
        let store = Mutex::new(Store::default());
        {
            let mut st = store.lock().expect("lock");
            let v = st.by_region.entry("sa-east-1".into()).or_default();
            for i in 0..3 {
                v.push(Stored {
                    id: format!("e{i}"),
                    name: "RunInstances".into(),
                    read_only: "false".into(),
                    key: if i == 1 {
                        "AKIAOTHER".into()
                    } else {
                        "AKIALEAK".into()
                    },
                    time: 1_000.0 + f64::from(i),
                    source: "ec2.amazonaws.com".into(),
                    username: "dev".into(),
                    raw: "{}".into(),
                });
            }
        }
        let body = json!({"LookupAttributes": [{"AttributeKey": "AccessKeyId", "AttributeValue": "AKIALEAK"}], "MaxResults": 1});
        let (status, first) = lookup(&store, &request("sa-east-1", body.clone()));
        assert_eq!(status, 200, "{first}");
        let first: Value = serde_json::from_str(&first).expect("json");
        assert_eq!(first["Events"][0]["EventId"], "e2");
        let token = first["NextToken"].as_str().expect("more").to_string();
        let mut next = body.clone();
        next["NextToken"] = Value::String(token);
        let (_, second) = lookup(&store, &request("sa-east-1", next));
        let second: Value = serde_json::from_str(&second).expect("json");
        assert_eq!(second["Events"][0]["EventId"], "e0");
        assert!(second.get("NextToken").is_none());
        // A third request within the same second: throttled; another region is not.
        let (status, text) = lookup(&store, &request("sa-east-1", body.clone()));
        assert_eq!(status, 400);
        assert!(text.contains("ThrottlingException"), "{text}");
        let (status, _) = lookup(&store, &request("eu-west-1", body));
        assert_eq!(status, 200);
    }
}
