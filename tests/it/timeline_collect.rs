//! The collector end to end: every source, derived keys followed across regions and objects,
//! progress reported, through the real SDK against the in-test LookupEvents server and moto.

use crate::common;
use crate::lookup_server;
use std::collections::BTreeSet;
use std::io::Write;
use std::sync::{Arc, Mutex};

use keyspill_aws::collect::{self, Progress, SourceState, Update};
use keyspill_aws::{Aws, ConnectOptions};
use serde_json::{Value, json};

const LEAKED: &str = "AKIA2CIDEPLOYLEAK7Q4";
const SESSION: &str = "ASIA2SESSIONMINTED01";
const ACCOUNT: &str = "123456789012";

fn record(region: &str, key: &str, minute: u32, name: &str, extra: Value) -> Value {
    let mut r = json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::{ACCOUNT}:user/ci-deploy"),
                         "accountId": ACCOUNT, "accessKeyId": key, "userName": "ci-deploy"},
        "eventTime": format!("2026-11-20T10:{minute:02}:00Z"),
        "eventSource": "ec2.amazonaws.com",
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": null,
        "responseElements": null,
        "eventID": format!("ev-{region}-{key}-{minute}-{name}"),
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCOUNT
    });
    if let (Some(obj), Some(more)) = (r.as_object_mut(), extra.as_object()) {
        for (k, v) in more {
            obj.insert(k.clone(), v.clone());
        }
    }
    r
}

/// The leaked key assumes a role; the session it gets runs instances elsewhere.
fn assume_role(region: &str) -> Value {
    record(
        region,
        LEAKED,
        5,
        "AssumeRole",
        json!({
            "eventSource": "sts.amazonaws.com",
            "requestParameters": {"roleArn": format!("arn:aws:iam::{ACCOUNT}:role/deploy-role"),
                                  "roleSessionName": "x"},
            "responseElements": {"credentials": {"accessKeyId": SESSION,
                                  "expiration": "Nov 20, 2026 11:05:00 AM"}}
        }),
    )
}

fn session_record(region: &str, minute: u32) -> Value {
    record(
        region,
        SESSION,
        minute,
        "RunInstances",
        json!({"userIdentity": {"type": "AssumedRole", "accessKeyId": SESSION,
               "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/deploy-role/x"),
               "accountId": ACCOUNT}}),
    )
}

async fn aws(endpoint: &str) -> Aws {
    Aws::connect(&ConnectOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint.into()),
        static_credentials: Some(("AKIAIOSFODNN7EXAMPLE".into(), "x".repeat(40))),
        max_attempts: 1,
        ..Default::default()
    })
    .await
}

type Updates = Arc<Mutex<Vec<Update>>>;

async fn collect_all(aws: Option<Aws>, req: collect::Request) -> Vec<Update> {
    let updates: Updates = Arc::default();
    let sink = updates.clone();
    collect::run(
        aws,
        req,
        Arc::new(move |u| sink.lock().expect("lock").push(u)),
    )
    .await;
    updates.lock().expect("lock").clone()
}

fn event_ids(updates: &[Update]) -> Vec<String> {
    updates
        .iter()
        .filter_map(|u| match u {
            Update::Events(e) => Some(e.iter().map(|e| e.id.to_string()).collect::<Vec<_>>()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn final_chains(updates: &[Update]) -> Vec<(String, String, Vec<String>)> {
    updates
        .iter()
        .rev()
        .find_map(|u| match u {
            Update::Chains(c) => Some(c.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn lookup_events_follows_a_minted_session_into_other_regions() {
    let server = lookup_server::LookupServer::start();
    server.add_records(
        "us-east-1",
        [
            record("us-east-1", LEAKED, 1, "GetCallerIdentity", json!({})),
            assume_role("us-east-1"),
        ],
    );
    server.add_records(
        "eu-west-3",
        (10..14).map(|m| session_record("eu-west-3", m)),
    );
    server.add_records("ap-south-1", [session_record("ap-south-1", 20)]);
    let regions: Vec<String> = ["us-east-1", "eu-west-3", "ap-south-1"]
        .map(String::from)
        .to_vec();
    let updates = collect_all(
        Some(aws(&server.endpoint()).await),
        collect::Request {
            keys: vec![LEAKED.into()],
            regions,
            ..Default::default()
        },
    )
    .await;
    let ids: BTreeSet<String> = event_ids(&updates).into_iter().collect();
    assert_eq!(ids.len(), 2 + 4 + 1, "{ids:?}");
    let chains = final_chains(&updates);
    let session = chains
        .iter()
        .find(|(k, _, _)| k == SESSION)
        .expect("the minted session is tracked");
    assert!(
        session.1.contains("AssumeRole deploy-role"),
        "{}",
        session.1
    );
    let root = chains.iter().find(|(k, _, _)| k == LEAKED).expect("root");
    assert!(
        root.2.contains(&SESSION.to_string()),
        "the branch holds the session"
    );
    // Every region reached the end of its history; none failed.
    let last: std::collections::BTreeMap<String, SourceState> = updates
        .iter()
        .filter_map(|u| match u {
            Update::Progress(Progress::Region(r, p)) => Some((r.clone(), p.state.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(last.len(), 3);
    assert!(last.values().all(|s| *s == SourceState::Done), "{last:?}");
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

fn log_object(records: Vec<Value>) -> Vec<u8> {
    gzip(json!({ "Records": records }).to_string().as_bytes())
}

#[tokio::test(flavor = "multi_thread")]
async fn trail_logs_in_s3_are_read_for_the_window_and_minted_keys() {
    let moto = common::Moto::start();
    let root = common::aws_root(&moto).await;
    root.s3
        .create_bucket()
        .bucket("trail-logs")
        .send()
        .await
        .expect("bucket");
    root.cloudtrail
        .create_trail()
        .name("org-audit")
        .s3_bucket_name("trail-logs")
        .is_multi_region_trail(true)
        .send()
        .await
        .expect("trail");
    let key = |region: &str, day: u32, n: u32| {
        format!(
            "AWSLogs/{ACCOUNT}/CloudTrail/{region}/2026/11/{day:02}/{ACCOUNT}_CloudTrail_{region}_202611{day:02}T1005Z_abcdefgh1234567{n}.json.gz"
        )
    };
    let noise = |region: &str, m: u32| {
        record(
            region,
            "AKIAOTHERKEY00000001",
            m,
            "DescribeInstances",
            json!({}),
        )
    };
    let objects = vec![
        // The leaked key assumes a role on the 20th; an unrelated key is in the same file.
        (
            key("us-east-1", 20, 1),
            log_object(vec![noise("us-east-1", 1), assume_role("us-east-1")]),
        ),
        // The session works in another region, in a file scanned before the minting one.
        (
            key("ap-south-1", 20, 2),
            log_object(vec![
                session_record("ap-south-1", 30),
                noise("ap-south-1", 31),
            ]),
        ),
        // Outside the window: must not be read.
        (
            key("us-east-1", 2, 3),
            log_object(vec![record(
                "us-east-1",
                LEAKED,
                1,
                "ListBuckets",
                json!({}),
            )]),
        ),
        // A damaged object is counted, not fatal.
        (key("us-east-1", 21, 4), b"\x1f\x8bnot really gzip".to_vec()),
    ];
    for (k, body) in objects {
        root.s3
            .put_object()
            .bucket("trail-logs")
            .key(k)
            .body(body.into())
            .send()
            .await
            .expect("put");
    }
    let updates = collect_all(
        Some(common::aws_root(&moto).await),
        collect::Request {
            keys: vec![LEAKED.into()],
            from: Some(time::macros::datetime!(2026-11-19 00:00:00 UTC)),
            until: Some(time::macros::datetime!(2026-11-22 00:00:00 UTC)),
            regions: vec!["us-east-1".into(), "ap-south-1".into()],
            account: Some(ACCOUNT.into()),
            ..Default::default()
        },
    )
    .await;
    let ids: BTreeSet<String> = event_ids(&updates).into_iter().collect();
    let expected: BTreeSet<String> = [
        "ev-us-east-1-AKIA2CIDEPLOYLEAK7Q4-5-AssumeRole",
        "ev-ap-south-1-ASIA2SESSIONMINTED01-30-RunInstances",
    ]
    .map(String::from)
    .into();
    assert_eq!(ids, expected);
    let trails = updates
        .iter()
        .rev()
        .find_map(|u| match u {
            Update::Progress(Progress::Trails(p)) => Some(p.clone()),
            _ => None,
        })
        .expect("trail progress");
    assert_eq!(trails.state, SourceState::Done);
    assert_eq!(trails.trails, 1);
    assert_eq!(trails.objects, 3, "three objects in the window");
    assert_eq!(trails.skipped, 1, "the damaged object");
    // moto has no LookupEvents: every region says so, and nothing else broke.
    let failed = updates
        .iter()
        .filter(|u| matches!(u, Update::Progress(Progress::Region(_, p)) if matches!(p.state, SourceState::Error(_))))
        .count();
    assert!(failed >= 2);
}
