//! The Timeline tab's AWS sources: LookupEvents against an in-test server that enforces the
//! real 2-per-second limit (moto has no LookupEvents), and trails plus their S3 log objects
//! against moto.

use crate::common;
use crate::lookup_server;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use common::{Moto, MotoOptions, aws_root};
use keyspill_aws::cloudtrail::{self, LookupRecords, LookupSummary, Pacer};
use keyspill_aws::trails::{self, Trail};
use keyspill_aws::{Aws, ConnectOptions, ErrorKind, sts};
use lookup_server::{LookupServer, Outcome};
use serde_json::{Value, json};
use time::macros::{date, datetime};
use time::{Date, Duration as TimeDelta, OffsetDateTime};

/// The leaked key whose history is looked up.
const LEAKED: &str = "AKIA2CIDEPLOYLEAK7Q4";
/// Another key with events in the same regions, which must never come back.
const BYSTANDER: &str = "AKIA2ALICEPRIMARY3K8";
/// The responder's key, the one requests are signed with.
const RESPONDER: &str = "AKIA2RESPONDERSELF5X";
const NEIGHBOUR: &str = "AKIA2NOISYNEIGHBOUR1";

/// How much earlier than its slot a request may seem to arrive: the first request of a
/// connection pays for connection set-up, so its successor's gap looks shorter, and a loaded
/// machine adds scheduling delay. Far below the 500 ms spacing under test.
const SLACK: Duration = Duration::from_millis(100);

const T0: OffsetDateTime = datetime!(2026-11-22 09:00:00 UTC);

/// A management-event record as a trail would write it, for `key` in `region`, `i` minutes
/// after `T0`.
fn record(region: &str, key: &str, i: i64) -> Value {
    let names = [
        ("GetCallerIdentity", "sts.amazonaws.com", true),
        ("DescribeInstances", "ec2.amazonaws.com", true),
        ("RunInstances", "ec2.amazonaws.com", false),
        ("ListUsers", "iam.amazonaws.com", true),
        ("CreateAccessKey", "iam.amazonaws.com", false),
    ];
    let (name, source, read_only) = names[(i as usize) % names.len()];
    let t = T0 + TimeDelta::minutes(i);
    let time = t
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format time");
    json!({
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDA2CIDEPLOYUSER001",
            "arn": "arn:aws:iam::123456789012:user/ci-deploy",
            "accountId": "123456789012",
            "accessKeyId": key,
            "userName": "ci-deploy"
        },
        "eventTime": time,
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": null,
        "responseElements": null,
        "requestID": format!("req-{region}-{key}-{i}"),
        "eventID": format!("ev-{region}-{key}-{i:05}"),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": "123456789012",
        "eventCategory": "Management"
    })
}

fn records(region: &str, key: &str, range: std::ops::Range<i64>) -> Vec<Value> {
    range.map(|i| record(region, key, i)).collect()
}

/// The SDK as keyspill builds it, pointed at the lookup server. `max_attempts` is the
/// program-wide retry setting; LookupEvents must ignore it and pace by itself.
async fn aws_at(endpoint: &str, key: &str, max_attempts: u32) -> Aws {
    Aws::connect(&ConnectOptions {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint.to_string()),
        static_credentials: Some((
            key.into(),
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        )),
        session_token: None,
        max_attempts,
        service_endpoints: Default::default(),
    })
    .await
}

/// Runs one region's lookup in its own task, keeping every page handed to the callback.
fn spawn_lookup(
    aws: &Aws,
    region: &str,
    pacer: &Arc<Pacer>,
    start: Option<OffsetDateTime>,
) -> tokio::task::JoinHandle<(
    Result<LookupSummary, keyspill_aws::AwsError>,
    Vec<LookupRecords>,
)> {
    let aws = aws.clone();
    let region = region.to_string();
    let pacer = Arc::clone(pacer);
    tokio::spawn(async move {
        let mut pages = Vec::new();
        let got = cloudtrail::lookup_key(&aws, &region, LEAKED, start, None, &pacer, |p| {
            pages.push(p)
        })
        .await;
        (got, pages)
    })
}

/// The event ids of a lookup's pages, in delivery order.
fn ids(pages: &[LookupRecords]) -> Vec<String> {
    pages
        .iter()
        .flat_map(|p| &p.records)
        .map(|r| {
            let v: Value = serde_json::from_str(r).expect("CloudTrailEvent is JSON");
            assert_eq!(
                v["userIdentity"]["accessKeyId"], LEAKED,
                "only the leaked key"
            );
            v["eventID"].as_str().expect("eventID").to_string()
        })
        .collect()
}

/// Checks arrival times against a token bucket of `rate` per second holding one token:
/// any run of n+1 requests spans at least n / rate seconds (minus `slack` for the loopback
/// trip). Returns the smallest gap (when there are two requests or more) and the most
/// requests seen in any one-second window.
fn assert_paced(
    label: &str,
    times: &[Instant],
    rate: f64,
    slack: Duration,
) -> (Option<Duration>, usize) {
    for i in 0..times.len() {
        for j in i + 1..times.len() {
            let span = times[j].duration_since(times[i]) + slack;
            assert!(
                (j - i) as f64 <= rate * span.as_secs_f64(),
                "{label}: requests {i}..={j} arrived within {:?}",
                times[j].duration_since(times[i])
            );
        }
    }
    let min_gap = times.windows(2).map(|w| w[1].duration_since(w[0])).min();
    let max_per_second = (0..times.len())
        .map(|i| {
            times[i..]
                .iter()
                .take_while(|t| t.duration_since(times[i]) < Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0);
    (min_gap, max_per_second)
}

fn gap_text(gap: Option<Duration>) -> String {
    gap.map_or_else(|| "-".to_string(), |g| format!("{} ms", g.as_millis()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lookup_events_across_regions_is_paced_complete_and_paged() {
    let server = LookupServer::start();
    // Region → events of the leaked key (pages of 50: 4, 3, 2, 1 and an empty region).
    let plan: [(&str, i64); 5] = [
        ("us-east-1", 160),
        ("eu-west-1", 101),
        ("ap-southeast-2", 75),
        ("sa-east-1", 50),
        ("ca-central-1", 0),
    ];
    for (region, n) in plan {
        server.add_records(region, records(region, LEAKED, 0..n));
        server.add_records(region, records(region, BYSTANDER, 0..30));
    }
    // An answer without CloudTrailEvent: left out and counted.
    server.add_event_without_record("eu-west-1", "ev-bare", LEAKED, T0 + TimeDelta::minutes(7));

    let aws = aws_at(&server.endpoint(), RESPONDER, 3).await;
    let pacers: BTreeMap<&str, Arc<Pacer>> = plan
        .iter()
        .map(|(r, _)| (*r, Arc::new(Pacer::lookup_events())))
        .collect();
    let began = Instant::now();
    let tasks: Vec<_> = plan
        .iter()
        .map(|(r, _)| (*r, spawn_lookup(&aws, r, &pacers[r], None)))
        .collect();
    let mut summaries = BTreeMap::new();
    for (region, task) in tasks {
        let (got, pages) = task.await.expect("task");
        summaries.insert(region, (got.expect("lookup succeeds"), pages));
    }
    let wall = began.elapsed();

    let mut slowest_minimum = Duration::ZERO;
    for (region, n) in plan {
        let (summary, pages) = &summaries[region];
        let n = n as usize;
        let extra = usize::from(region == "eu-west-1");
        let want_pages = (n + extra).div_ceil(50).max(1);
        assert_eq!(summary.pages as usize, want_pages, "{region}: pages");
        assert_eq!(pages.len(), want_pages, "{region}: one callback per page");
        for (i, p) in pages.iter().enumerate() {
            assert_eq!(p.region, region);
            assert_eq!(p.pages as usize, i + 1, "{region}: running page count");
            assert_eq!(
                p.done,
                i + 1 == want_pages,
                "{region}: done only on the last"
            );
        }
        assert_eq!(
            summary.throttled, 0,
            "{region}: a paced client is never throttled"
        );
        assert_eq!(summary.skipped as usize, extra, "{region}: skipped");
        assert_eq!(summary.records, n, "{region}: records");

        // Every record exactly once, newest first.
        let got = ids(pages);
        let want: Vec<String> = (0..n as i64)
            .rev()
            .map(|i| format!("ev-{region}-{LEAKED}-{i:05}"))
            .collect();
        assert_eq!(got, want, "{region}: every record once, newest first");
        if n > 0 {
            assert_eq!(summary.newest, Some(T0 + TimeDelta::minutes(n as i64 - 1)));
        } else {
            assert_eq!(summary.newest, None);
        }

        // What the server saw: only our requests, none throttled, paced at 2 per second.
        let reqs = server.requests(region);
        assert!(reqs.iter().all(|r| r.caller == RESPONDER));
        assert_eq!(reqs.len(), want_pages, "{region}: one request per page");
        assert_eq!(server.throttled(region, None), 0);
        let times = server.times_of(region, RESPONDER);
        let (min_gap, per_sec) = assert_paced(region, &times, 2.0, SLACK);
        let minimum = Duration::from_millis(500) * (want_pages as u32 - 1);
        slowest_minimum = slowest_minimum.max(minimum);
        println!(
            "{region}: {n} records, {want_pages} pages in {:?} (minimum {minimum:?}), \
             smallest gap {}, at most {per_sec} requests in any 1 s",
            summary.elapsed,
            gap_text(min_gap)
        );
    }
    println!(
        "all regions: wall {wall:?}, theoretical minimum {slowest_minimum:?} ({:.1} %)",
        100.0 * wall.as_secs_f64() / slowest_minimum.as_secs_f64().max(1e-9)
    );

    // The regions ran at once: every region's first request came before the busiest
    // region's second.
    let first_of = |r: &str| server.times_of(r, RESPONDER)[0];
    let busiest_second = server.times_of("us-east-1", RESPONDER)[1];
    for (region, _) in plan {
        assert!(first_of(region) < busiest_second, "{region} started late");
    }

    // Follow-up polling: new events arrive in us-east-1 after the history was read.
    let (summary, _) = &summaries["us-east-1"];
    let since = summary.newest.expect("newest");
    server.add_records("us-east-1", records("us-east-1", LEAKED, 160..163));
    let mut newer = Vec::new();
    let polled = cloudtrail::lookup_newer(
        &aws,
        "us-east-1",
        LEAKED,
        since,
        &pacers["us-east-1"],
        |p| newer.push(p),
    )
    .await
    .expect("poll");
    let got = ids(&newer);
    assert_eq!(
        got,
        (159..163)
            .rev()
            .map(|i| format!("ev-us-east-1-{LEAKED}-{i:05}"))
            .collect::<Vec<_>>(),
        "the new events plus the boundary one (StartTime is inclusive)"
    );
    assert_eq!(polled.newest, Some(T0 + TimeDelta::minutes(162)));
    assert!(newer.last().is_some_and(|p| p.done));
    // The poll went through the same pacer as the history.
    assert_paced(
        "us-east-1 with poll",
        &server.times_of("us-east-1", RESPONDER),
        2.0,
        SLACK,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn throttles_from_a_burst_are_absorbed_and_counted() {
    let server = LookupServer::start();
    let region = "eu-central-1";
    server.add_records(region, records(region, LEAKED, 0..120));
    server.add_records(region, records(region, BYSTANDER, 0..10));
    let body = json!({
        "LookupAttributes": [{"AttributeKey": "AccessKeyId", "AttributeValue": BYSTANDER}],
        "MaxResults": 50
    })
    .to_string();

    // SDK retries on in the program-wide settings: this path must not use them.
    let aws = aws_at(&server.endpoint(), RESPONDER, 3).await;
    // Someone else empties the region's budget just before we start...
    let burst: Vec<u16> = (0..4)
        .map(|_| server.raw_lookup(region, NEIGHBOUR, &body))
        .collect();
    assert_eq!(
        burst,
        [200, 200, 400, 400],
        "the server enforces 2 per second"
    );
    // ...and keeps asking, unpaced, for the next second.
    let server = Arc::new(server);
    let neighbour = {
        let server = Arc::clone(&server);
        let body = body.clone();
        std::thread::spawn(move || {
            let until = Instant::now() + Duration::from_millis(1200);
            while Instant::now() < until {
                server.raw_lookup(region, NEIGHBOUR, &body);
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };

    let pacer = Arc::new(Pacer::lookup_events());
    let (got, pages) = spawn_lookup(&aws, region, &pacer, None)
        .await
        .expect("task");
    neighbour.join().expect("neighbour");
    let summary = got.expect("throttling never surfaces as an error");

    let got = ids(&pages);
    let want: Vec<String> = (0..120)
        .rev()
        .map(|i| format!("ev-{region}-{LEAKED}-{i:05}"))
        .collect();
    assert_eq!(got, want, "every record exactly once");
    assert_eq!(summary.pages, 3);
    assert_eq!(pages.len(), 3);

    let ours: Vec<_> = server
        .requests(region)
        .into_iter()
        .filter(|r| r.caller == RESPONDER)
        .collect();
    let throttled = server.throttled(region, Some(RESPONDER));
    assert!(throttled > 0, "the burst must have throttled us");
    assert_eq!(
        summary.throttled as usize, throttled,
        "each throttle counted"
    );
    assert_eq!(
        pages.last().map(|p| p.throttled),
        Some(summary.throttled),
        "the pages carry the running count"
    );
    assert_eq!(
        ours.len(),
        3 + throttled,
        "one retry per throttle, no SDK retries"
    );
    assert_eq!(
        ours.iter()
            .filter(|r| matches!(r.outcome, Outcome::Served(_)))
            .count(),
        3
    );
    // Retries were paced too: the back-off only ever widens the gaps.
    let times: Vec<Instant> = ours.iter().map(|r| r.at).collect();
    let (min_gap, per_sec) = assert_paced(region, &times, 2.0, SLACK);
    println!(
        "{region}: 120 records, 3 pages, {throttled} throttled answers absorbed \
         (neighbour throttled {}), {:?} elapsed, smallest gap {}, at most {per_sec} \
         requests in any 1 s",
        server.throttled(region, Some(NEIGHBOUR)),
        summary.elapsed,
        gap_text(min_gap)
    );
}

#[tokio::test]
async fn access_denied_names_the_permission() {
    let server = LookupServer::start();
    server.add_records("us-east-1", records("us-east-1", LEAKED, 0..3));
    server.deny(RESPONDER);
    let aws = aws_at(&server.endpoint(), RESPONDER, 1).await;
    let pacer = Pacer::lookup_events();
    let mut calls = 0;
    let err = cloudtrail::lookup_key(&aws, "us-east-1", LEAKED, None, None, &pacer, |_| {
        calls += 1
    })
    .await
    .expect_err("denied");
    assert_eq!(err.kind, ErrorKind::AccessDenied);
    assert!(err.text.contains("cloudtrail:LookupEvents"), "{}", err.text);
    assert_eq!(calls, 0);
    assert_eq!(
        server.requests("us-east-1").len(),
        1,
        "no retry of a denial"
    );
    assert_eq!(server.requests("us-east-1")[0].outcome, Outcome::Denied);
}

#[tokio::test]
async fn moto_without_lookup_events_fails_once_in_words() {
    let moto = Moto::start_with(MotoOptions {
        record: true,
        ..MotoOptions::default()
    });
    // Program-wide retries on: moto's HTML 500 would be retried by the SDK three times.
    let aws = aws_at(&moto.endpoint(), RESPONDER, 3).await;
    let pacer = Pacer::lookup_events();
    let err = cloudtrail::lookup_key(&aws, "us-east-1", LEAKED, None, None, &pacer, |_| {})
        .await
        .expect_err("moto has no LookupEvents");
    assert_eq!(err.kind, ErrorKind::NotImplemented, "{}", err.text);
    assert!(err.text.contains("cloudtrail:LookupEvents"), "{}", err.text);
    // One request: neither the SDK nor the back-off asked again.
    let sent = moto
        .recorded_requests()
        .into_iter()
        .filter(|r| r.contains("LookupAttributes"))
        .count();
    assert_eq!(sent, 1);
}

// ---- trails and log objects (moto) ----

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

/// `[root]<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16>.json.gz`
fn log_key(root: &str, acct: &str, region: &str, day: Date, hhmm: &str, unique: &str) -> String {
    let (y, m, d) = (day.year(), u8::from(day.month()), day.day());
    assert_eq!(unique.len(), 16);
    format!(
        "{root}{acct}/CloudTrail/{region}/{y:04}/{m:02}/{d:02}/\
         {acct}_CloudTrail_{region}_{y:04}{m:02}{d:02}T{hhmm}Z_{unique}.json.gz"
    )
}

/// A log object's JSON: a few records of that day.
fn log_body(region: &str, day: Date, n: i64) -> Vec<u8> {
    let recs: Vec<Value> = (0..n)
        .map(|i| {
            let mut r = record(region, LEAKED, i);
            r["eventTime"] = json!(format!(
                "{:04}-{:02}-{:02}T10:{:02}:00Z",
                day.year(),
                u8::from(day.month()),
                day.day(),
                i
            ));
            r
        })
        .collect();
    serde_json::to_vec(&json!({ "Records": recs })).expect("json")
}

async fn put(
    aws: &Aws,
    client: Option<&aws_sdk_s3::Client>,
    bucket: &str,
    key: &str,
    body: &[u8],
    gzip_header: bool,
) {
    let client = client.unwrap_or(&aws.s3);
    let mut req = client
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/json")
        .body(ByteStream::from(body.to_vec()));
    if gzip_header {
        req = req.content_encoding("gzip");
    }
    req.send().await.expect("put object");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trails_and_their_log_objects_in_moto() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    let acct = sts::identity(&aws).await.expect("identity").account;

    // Two buckets: one in us-east-1, one in eu-west-1 (read through its own region).
    aws.s3
        .create_bucket()
        .bucket("trail-logs-main")
        .send()
        .await
        .expect("bucket");
    let s3_eu = aws.s3_in("eu-west-1");
    s3_eu
        .create_bucket()
        .bucket("eu-audit-logs")
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .expect("eu bucket");
    aws.cloudtrail_in("us-east-1")
        .create_trail()
        .name("main-trail")
        .s3_bucket_name("trail-logs-main")
        .is_multi_region_trail(true)
        .send()
        .await
        .expect("main trail");
    aws.cloudtrail_in("us-east-1")
        .start_logging()
        .name("main-trail")
        .send()
        .await
        .expect("start logging");
    aws.cloudtrail_in("eu-west-1")
        .create_trail()
        .name("eu-audit")
        .s3_bucket_name("eu-audit-logs")
        .s3_key_prefix("audit/")
        .send()
        .await
        .expect("eu trail");

    // discover(): both trails once, from three regions, with bucket, prefix and status.
    let regions: Vec<String> = ["us-east-1", "eu-west-1", "ap-southeast-2"]
        .map(String::from)
        .to_vec();
    // Spawned, as the timeline's collector runs it: the future must be Send.
    let (found, errors) = {
        let (aws, regions) = (aws.clone(), regions.clone());
        tokio::spawn(async move { trails::discover(&aws, &regions).await })
            .await
            .expect("task")
    };
    assert!(errors.is_empty(), "{errors:?}");
    let by_name: BTreeMap<&str, &Trail> = found.iter().map(|t| (t.name.as_str(), t)).collect();
    assert_eq!(found.len(), 2, "{found:#?}");
    let main = by_name["main-trail"];
    assert_eq!(main.home_region, "us-east-1");
    assert_eq!(main.bucket.as_deref(), Some("trail-logs-main"));
    assert_eq!(main.prefix, None);
    assert!(main.multi_region);
    assert!(!main.organization);
    assert_eq!(main.logging, Some(true));
    assert_eq!(main.owner_account(), Some(acct.as_str()));
    assert!(main.arn.ends_with(":trail/main-trail"), "{}", main.arn);
    let eu = by_name["eu-audit"];
    assert_eq!(eu.home_region, "eu-west-1");
    assert_eq!(eu.bucket.as_deref(), Some("eu-audit-logs"));
    assert_eq!(eu.prefix.as_deref(), Some("audit"));
    assert!(!eu.multi_region);
    assert_eq!(eu.logging, Some(false));

    // Plant log objects around an incident window that crosses a month end.
    let (from, to) = (date!(2026 - 02 - 27), date!(2026 - 03 - 02));
    let root = "AWSLogs/";
    let planted_in: Vec<(String, Vec<u8>)> = [
        (
            "us-east-1",
            date!(2026 - 02 - 27),
            "0005",
            "Mu0KsOhtH1ar15ZZ",
            3,
        ),
        (
            "us-east-1",
            date!(2026 - 03 - 01),
            "0010",
            "a1B2c3D4e5F6g7H8",
            5,
        ),
        (
            "us-east-1",
            date!(2026 - 03 - 01),
            "0015",
            "Zz9Yy8Xx7Ww6Vv5U",
            1,
        ),
        (
            "us-east-1",
            date!(2026 - 03 - 01),
            "2355",
            "Q1w2E3r4T5y6U7i8",
            2,
        ),
        (
            "eu-west-1",
            date!(2026 - 02 - 28),
            "1200",
            "pL0kM9nJ8hB7gV6f",
            4,
        ),
        (
            "eu-west-1",
            date!(2026 - 03 - 02),
            "2359",
            "cX5zA4sD3fG2hJ1k",
            1,
        ),
    ]
    .into_iter()
    .map(|(region, day, hhmm, unique, n)| {
        (
            log_key(root, &acct, region, day, hhmm, unique),
            gzip(&log_body(region, day, n)),
        )
    })
    .collect();
    let planted_out: Vec<(String, Vec<u8>)> = vec![
        // The day before and the day after the window.
        (
            log_key(
                root,
                &acct,
                "us-east-1",
                date!(2026 - 02 - 26),
                "2355",
                "OuTsIdE0000000aa",
            ),
            gzip(&log_body("us-east-1", date!(2026 - 02 - 26), 2)),
        ),
        (
            log_key(
                root,
                &acct,
                "eu-west-1",
                date!(2026 - 03 - 03),
                "0000",
                "OuTsIdE0000000bb",
            ),
            gzip(&log_body("eu-west-1", date!(2026 - 03 - 03), 2)),
        ),
        // A region the window does not ask for.
        (
            log_key(
                root,
                &acct,
                "ap-south-1",
                date!(2026 - 03 - 01),
                "0800",
                "OtHeRrEgIoN00000",
            ),
            gzip(&log_body("ap-south-1", date!(2026 - 03 - 01), 2)),
        ),
        // A digest: a sibling folder, not an event file.
        (
            format!(
                "AWSLogs/{acct}/CloudTrail-Digest/us-east-1/2026/03/01/\
                 {acct}_CloudTrail-Digest_us-east-1_main-trail_us-east-1_20260301T010000Z.json.gz"
            ),
            gzip(
                json!({"awsAccountId": acct, "digestStartTime": "2026-03-01T00:00:00Z",
                       "logFiles": []})
                .to_string()
                .as_bytes(),
            ),
        ),
    ];
    for (i, (key, body)) in planted_in.iter().chain(&planted_out).enumerate() {
        // Some objects carry Content-Encoding: gzip; their bytes must still arrive compressed.
        put(&aws, None, "trail-logs-main", key, body, i % 2 == 0).await;
    }

    let window_regions = ["us-east-1", "eu-west-1"];
    let prefixes: Vec<String> = window_regions
        .iter()
        .flat_map(|r| trails::day_prefixes(main.prefix.as_deref(), &acct, None, r, from, to))
        .collect();
    assert_eq!(prefixes.len(), 8);
    let listed = {
        let (aws, prefixes) = (aws.clone(), prefixes.clone());
        tokio::spawn(async move { trails::list_objects(&aws, "trail-logs-main", &prefixes).await })
            .await
            .expect("task")
            .expect("list")
    };
    let mut want: Vec<(String, i64)> = planted_in
        .iter()
        .map(|(k, b)| (k.clone(), b.len() as i64))
        .collect();
    want.sort();
    assert_eq!(listed, want, "exactly the objects in the window");
    // The same through small pages (three objects on 2026-03-01 span two pages of two).
    let paged = trails::list_objects_paged(&aws, "trail-logs-main", &prefixes, Some(2))
        .await
        .expect("list paged");
    assert_eq!(paged, want);

    // Downloads: bytes as stored, each once; decompressed, the records are the planted ones.
    let keys: Vec<String> = listed.iter().map(|(k, _)| k.clone()).collect();
    let mut fetched: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut missing_key = keys.clone();
    missing_key.push(format!(
        "{root}{acct}/CloudTrail/us-east-1/2026/03/01/gone.json.gz"
    ));
    let mut failures = Vec::new();
    // In a spawned task too, handing results over a channel as the collector does.
    let (fetched_tx, fetched_rx) = std::sync::mpsc::channel();
    {
        let aws = aws.clone();
        tokio::spawn(async move {
            trails::fetch_objects(&aws, "trail-logs-main", missing_key, 4, |key, got| {
                let _ = fetched_tx.send((key, got));
            })
            .await;
        })
        .await
        .expect("task");
    }
    for (key, got) in fetched_rx.try_iter() {
        match got {
            Ok(bytes) => assert!(fetched.insert(key, bytes).is_none(), "fetched twice"),
            Err(e) => failures.push((key, e)),
        }
    }
    assert_eq!(fetched.len(), planted_in.len());
    for (key, body) in &planted_in {
        let got = &fetched[key];
        assert_eq!(got, body, "{key}: bytes intact");
        let doc: Value = serde_json::from_slice(&gunzip(got)).expect("json");
        let region = key.split('/').nth(3).expect("region");
        let day = key.split('/').skip(4).take(3).collect::<Vec<_>>().join("-");
        let day = Date::parse(
            &day,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .expect("day");
        let planted: Value = serde_json::from_slice(&log_body(
            region,
            day,
            doc["Records"].as_array().map_or(0, |a| a.len() as i64),
        ))
        .expect("json");
        assert_eq!(doc, planted, "{key}: records intact");
    }
    assert_eq!(failures.len(), 1, "one missing object, reported alone");
    assert!(failures[0].0.ends_with("gone.json.gz"));
    assert!(
        failures[0].1.text.contains("gone.json.gz"),
        "{}",
        failures[0].1.text
    );

    // The eu-west-1 bucket: an organization layout under the trail's prefix.
    let org = "o-a1b2c3d4e5";
    let org_key = log_key(
        &format!("audit/AWSLogs/{org}/"),
        &acct,
        "eu-west-1",
        date!(2026 - 03 - 01),
        "0930",
        "OrGtRaIl00000001",
    );
    let org_body = gzip(&log_body("eu-west-1", date!(2026 - 03 - 01), 2));
    put(
        &aws,
        Some(&s3_eu),
        "eu-audit-logs",
        &org_key,
        &org_body,
        false,
    )
    .await;
    // A member account's own folder and a stray folder that is not an org id.
    let member_key = log_key(
        &format!("audit/AWSLogs/{org}/"),
        "210987654321",
        "eu-west-1",
        date!(2026 - 03 - 01),
        "0930",
        "MeMbEr0000000001",
    );
    put(
        &aws,
        Some(&s3_eu),
        "eu-audit-logs",
        &member_key,
        &org_body,
        false,
    )
    .await;
    put(
        &aws,
        Some(&s3_eu),
        "eu-audit-logs",
        "audit/AWSLogs/notes.txt",
        b"x",
        false,
    )
    .await;
    assert_eq!(
        trails::organization_ids(&aws, "eu-audit-logs", eu.prefix.as_deref())
            .await
            .expect("org ids"),
        [org]
    );
    assert!(
        trails::organization_ids(&aws, "trail-logs-main", None)
            .await
            .expect("no org ids")
            .is_empty()
    );
    let org_prefixes = trails::day_prefixes(
        eu.prefix.as_deref(),
        &acct,
        Some(org),
        "eu-west-1",
        from,
        to,
    );
    let listed = trails::list_objects(&aws, "eu-audit-logs", &org_prefixes)
        .await
        .expect("list org");
    assert_eq!(listed, [(org_key.clone(), org_body.len() as i64)]);
    let mut got = Vec::new();
    trails::fetch_objects(&aws, "eu-audit-logs", vec![org_key.clone()], 2, |_, b| {
        got.push(b)
    })
    .await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].as_ref().expect("org object"), &org_body);

    // Listed larger than the cap: named, counted, never downloaded. The channel holds one
    // object and the room one cap's worth: downloads wait for the parser.
    let room = trails::download_room();
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let listed_big = vec![
        (org_key.clone(), org_body.len() as i64),
        (
            format!("{org_key}.planted"),
            (trails::MAX_OBJECT + 1) as i64,
        ),
        (org_key.clone(), org_body.len() as i64),
    ];
    let fetch = {
        let (aws, room) = (aws.clone(), room.clone());
        tokio::spawn(async move {
            trails::fetch_listed(&aws, "eu-audit-logs", listed_big, 4, room, tx).await;
        })
    };
    let mut fetched = Vec::new();
    while let Some(f) = rx.recv().await {
        // While an object is held, its room is taken.
        if f.body.is_ok() {
            assert!(room.available_permits() < (trails::DOWNLOAD_ROOM >> 10) as usize);
        }
        fetched.push((f.key.clone(), f.too_large, f.body.is_ok()));
        if let Ok(body) = &f.body {
            assert_eq!(body, &org_body);
        } else {
            let e = f.body.as_ref().expect_err("too large");
            assert!(e.text.contains("larger than 32 MiB"), "{}", e.text);
        }
    }
    fetch.await.expect("task");
    assert_eq!(fetched.len(), 3);
    let big: Vec<_> = fetched.iter().filter(|f| f.1.is_some()).collect();
    assert_eq!(big.len(), 1);
    assert!(big[0].0.ends_with(".planted") && !big[0].2);
    assert_eq!(
        room.available_permits(),
        (trails::DOWNLOAD_ROOM >> 10) as usize,
        "every object's room given back"
    );

    // A bucket that does not exist: an error in words, naming the bucket.
    let err = trails::list_objects(&aws, "no-such-trail-bucket", &prefixes)
        .await
        .expect_err("missing bucket");
    assert!(err.text.contains("no-such-trail-bucket"), "{}", err.text);
}

// ---- day_prefixes ----

#[test]
fn day_prefixes_plain_account_one_day() {
    assert_eq!(
        trails::day_prefixes(
            None,
            "111122223333",
            None,
            "us-east-2",
            date!(2015 - 08 - 01),
            date!(2015 - 08 - 01)
        ),
        ["AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/"]
    );
}

#[test]
fn day_prefixes_with_org_id_and_custom_prefix() {
    let got = trails::day_prefixes(
        Some("/security/trails/"),
        "111122223333",
        Some("o-exampleorgid"),
        "eu-west-1",
        date!(2026 - 11 - 21),
        date!(2026 - 11 - 22),
    );
    assert_eq!(
        got,
        [
            "security/trails/AWSLogs/o-exampleorgid/111122223333/CloudTrail/eu-west-1/2026/11/21/",
            "security/trails/AWSLogs/o-exampleorgid/111122223333/CloudTrail/eu-west-1/2026/11/22/",
        ]
    );
    // An empty prefix or org id is the same as none.
    assert_eq!(
        trails::day_prefixes(
            Some(""),
            "111122223333",
            Some(""),
            "eu-west-1",
            date!(2026 - 11 - 21),
            date!(2026 - 11 - 21)
        ),
        ["AWSLogs/111122223333/CloudTrail/eu-west-1/2026/11/21/"]
    );
}

#[test]
fn day_prefixes_cross_month_and_year_ends() {
    let got = trails::day_prefixes(
        None,
        "123456789012",
        None,
        "ap-southeast-2",
        date!(2025 - 12 - 30),
        date!(2026 - 01 - 02),
    );
    let days: Vec<&str> = got
        .iter()
        .map(|p| {
            p.strip_prefix("AWSLogs/123456789012/CloudTrail/ap-southeast-2/")
                .expect("layout")
        })
        .collect();
    assert_eq!(
        days,
        ["2025/12/30/", "2025/12/31/", "2026/01/01/", "2026/01/02/"]
    );

    // A leap year's February, and a month of 30 days.
    let feb = trails::day_prefixes(
        None,
        "1",
        None,
        "r",
        date!(2024 - 02 - 28),
        date!(2024 - 03 - 01),
    );
    assert_eq!(
        feb.iter().map(|p| &p[p.len() - 11..]).collect::<Vec<_>>(),
        ["2024/02/28/", "2024/02/29/", "2024/03/01/"]
    );
    let feb = trails::day_prefixes(
        None,
        "1",
        None,
        "r",
        date!(2026 - 02 - 28),
        date!(2026 - 03 - 01),
    );
    assert_eq!(feb.len(), 2);
    let apr = trails::day_prefixes(
        None,
        "1",
        None,
        "r",
        date!(2026 - 04 - 30),
        date!(2026 - 05 - 01),
    );
    assert!(apr[1].ends_with("2026/05/01/"));

    // 1 January to 1 April, both included: 91 folders, distinct and in order.
    let long = trails::day_prefixes(
        None,
        "1",
        None,
        "r",
        date!(2026 - 01 - 01),
        date!(2026 - 04 - 01),
    );
    assert_eq!(long.len(), 91);
    let set: BTreeSet<&String> = long.iter().collect();
    assert_eq!(set.len(), long.len());
    assert!(long.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn day_prefixes_empty_when_reversed() {
    assert!(
        trails::day_prefixes(
            None,
            "1",
            None,
            "r",
            date!(2026 - 03 - 02),
            date!(2026 - 03 - 01)
        )
        .is_empty()
    );
}
