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

/// A multi-region trail named `name` writing to a new bucket `trail-logs`.
pub(crate) async fn trail_to_bucket(root: &Aws, name: &str) {
    root.s3
        .create_bucket()
        .bucket("trail-logs")
        .send()
        .await
        .expect("bucket");
    root.cloudtrail
        .create_trail()
        .name(name)
        .s3_bucket_name("trail-logs")
        .is_multi_region_trail(true)
        .send()
        .await
        .expect("trail");
}

pub(crate) fn log_object(records: Vec<Value>) -> Vec<u8> {
    gzip(json!({ "Records": records }).to_string().as_bytes())
}

#[tokio::test(flavor = "multi_thread")]
async fn trail_logs_in_s3_are_read_for_the_window_and_minted_keys() {
    let moto = common::Moto::start();
    let root = common::aws_root(&moto).await;
    trail_to_bucket(&root, "org-audit").await;
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

// ---- Live: every source keeps polling on its own ----

const EAST: &str = "us-east-1";
const PARIS: &str = "eu-west-3";
/// Every wait in these tests gives up after this long; each condition comes far sooner.
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(20);

/// A live collector running in the background; it is stopped when dropped.
struct Live {
    updates: Updates,
    poke: Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Live {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Live {
    fn start(aws: Option<Aws>, mut req: collect::Request) -> Live {
        let updates: Updates = Arc::default();
        let sink = updates.clone();
        req.live = true;
        let poke = req.poke.clone();
        let task = tokio::spawn(collect::run(
            aws,
            req,
            Arc::new(move |u| sink.lock().expect("lock").push(u)),
        ));
        Live {
            updates,
            poke,
            task,
        }
    }

    fn snapshot(&self) -> Vec<Update> {
        self.updates.lock().expect("lock").clone()
    }

    /// Waits until `done` holds for the updates so far; fails the test after [`PATIENCE`].
    async fn until(&self, what: &str, done: impl Fn(&[Update]) -> bool) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            if done(&self.snapshot()) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "gave up waiting for {what}; last region states: {:?}",
                region_states(&self.snapshot())
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

/// The last progress of each region.
fn region_states(
    updates: &[Update],
) -> std::collections::BTreeMap<String, collect::RegionProgress> {
    updates
        .iter()
        .filter_map(|u| match u {
            Update::Progress(Progress::Region(r, p)) => Some((r.clone(), p.clone())),
            _ => None,
        })
        .collect()
}

/// The states `region` went through, repeats folded.
fn history_of(updates: &[Update], region: &str) -> Vec<SourceState> {
    let mut out: Vec<SourceState> = Vec::new();
    for u in updates {
        if let Update::Progress(Progress::Region(r, p)) = u
            && r == region
            && out.last() != Some(&p.state)
        {
            out.push(p.state.clone());
        }
    }
    out
}

fn is_live(updates: &[Update], region: &str) -> bool {
    region_states(updates).get(region).map(|p| &p.state) == Some(&SourceState::Live)
}

fn is_failing(updates: &[Update], region: &str) -> bool {
    region_states(updates)
        .get(region)
        .is_some_and(|p| matches!(p.state, SourceState::Error(_)))
}

fn has_event(updates: &[Update], id: &str) -> bool {
    event_ids(updates).iter().any(|e| e == id)
}

/// LookupEvents requests `region` received (the trail source's other calls left out).
fn lookups(server: &lookup_server::LookupServer, region: &str) -> usize {
    server
        .requests(region)
        .iter()
        .filter(|r| r.outcome != lookup_server::Outcome::Rejected)
        .count()
}

fn id_of(region: &str, key: &str, minute: u32, name: &str) -> String {
    format!("ev-{region}-{key}-{minute}-{name}")
}

fn intervals(lookup_ms: u64) -> collect::Intervals {
    let ms = std::time::Duration::from_millis;
    collect::Intervals {
        lookup: ms(lookup_ms),
        trails: ms(lookup_ms),
        files: ms(lookup_ms),
    }
}

fn live_request(regions: &[&str], lookup_ms: u64) -> collect::Request {
    collect::Request {
        keys: vec![LEAKED.into()],
        regions: regions.iter().map(|r| r.to_string()).collect(),
        intervals: intervals(lookup_ms),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_trail_bucket_live_polling_delivers_newer_events() {
    let server = lookup_server::LookupServer::start();
    server.add_records(
        EAST,
        [1, 2].map(|m| record(EAST, LEAKED, m, "ListBuckets", json!({}))),
    );
    // No account, no trail: the trail source gives up at once; LookupEvents must not care.
    let live = Live::start(
        Some(aws(&server.endpoint()).await),
        live_request(&[EAST], 300),
    );
    live.until("the history", |u| {
        is_live(u, EAST) && has_event(u, &id_of(EAST, LEAKED, 2, "ListBuckets"))
    })
    .await;
    let newer = id_of(EAST, LEAKED, 30, "RunInstances");
    assert!(!has_event(&live.snapshot(), &newer));
    server.add_records(EAST, [record(EAST, LEAKED, 30, "RunInstances", json!({}))]);
    live.until("the newer event", |u| has_event(u, &newer))
        .await;
    let before = lookups(&server, EAST);
    live.until("another poll on the interval", |_| {
        lookups(&server, EAST) > before
    })
    .await;
    assert!(is_live(&live.snapshot(), EAST));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_region_denied_at_first_recovers_on_its_own_and_delivers_its_history() {
    let server = lookup_server::LookupServer::start();
    server.add_records(EAST, [record(EAST, LEAKED, 1, "ListBuckets", json!({}))]);
    server.add_records(PARIS, [record(PARIS, LEAKED, 3, "ListUsers", json!({}))]);
    server.deny_region(PARIS);
    let live = Live::start(
        Some(aws(&server.endpoint()).await),
        live_request(&[EAST, PARIS], 200),
    );
    live.until("Paris failing and the east live", |u| {
        is_failing(u, PARIS) && is_live(u, EAST)
    })
    .await;
    let failing = region_states(&live.snapshot())
        .remove(PARIS)
        .expect("Paris reported");
    match &failing.state {
        SourceState::Error(f) => assert_eq!(
            f.permission.as_deref(),
            Some("cloudtrail:LookupEvents"),
            "{f:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert!(failing.retry_at.is_some(), "says when it tries again");
    assert!(failing.failures >= 1);
    // The denied region keeps retrying, with its own backoff, while the other one is live.
    live.until("a second attempt", |u| {
        region_states(u).get(PARIS).is_some_and(|p| p.failures >= 2)
    })
    .await;
    let paris_history = id_of(PARIS, LEAKED, 3, "ListUsers");
    assert!(!has_event(&live.snapshot(), &paris_history));

    server.allow_region(PARIS);
    live.until("Paris live with its history", |u| {
        is_live(u, PARIS) && has_event(u, &paris_history)
    })
    .await;
    let recovered = region_states(&live.snapshot())
        .remove(PARIS)
        .expect("Paris reported");
    assert_eq!(recovered.failures, 0);
    assert_eq!(recovered.retry_at, None);
    let states = history_of(&live.snapshot(), PARIS);
    let error_at = states
        .iter()
        .position(|s| matches!(s, SourceState::Error(_)))
        .expect("an error was shown");
    assert!(
        states[error_at..].contains(&SourceState::Live),
        "Error, then Live: {states:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_newer_poll_error_shows_in_its_region_and_clears_on_recovery() {
    let server = lookup_server::LookupServer::start();
    server.add_records(EAST, [record(EAST, LEAKED, 1, "ListBuckets", json!({}))]);
    server.add_records(PARIS, [record(PARIS, LEAKED, 2, "ListUsers", json!({}))]);
    let live = Live::start(
        Some(aws(&server.endpoint()).await),
        live_request(&[EAST, PARIS], 200),
    );
    live.until("both histories", |u| is_live(u, EAST) && is_live(u, PARIS))
        .await;
    server.deny_region(PARIS);
    live.until("the newer poll's error in Paris", |u| is_failing(u, PARIS))
        .await;
    let snap = live.snapshot();
    assert!(is_live(&snap, EAST), "the other region is not affected");
    assert!(region_states(&snap)[PARIS].pages >= 1, "after its history");
    // Events that arrive while the region fails come once it recovers.
    server.add_records(PARIS, [record(PARIS, LEAKED, 40, "CreateUser", json!({}))]);
    server.allow_region(PARIS);
    let late = id_of(PARIS, LEAKED, 40, "CreateUser");
    live.until("Paris live again, with the newer event", |u| {
        is_live(u, PARIS) && has_event(u, &late)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn poke_polls_every_region_at_once() {
    let server = lookup_server::LookupServer::start();
    server.add_records(EAST, [record(EAST, LEAKED, 1, "ListBuckets", json!({}))]);
    server.add_records(PARIS, [record(PARIS, LEAKED, 2, "ListUsers", json!({}))]);
    // An interval far longer than the test: only `r` can make a poll.
    let live = Live::start(
        Some(aws(&server.endpoint()).await),
        live_request(&[EAST, PARIS], 3_600_000),
    );
    live.until("both histories", |u| is_live(u, EAST) && is_live(u, PARIS))
        .await;
    let counts = || (lookups(&server, EAST), lookups(&server, PARIS));
    let before = counts();
    server.add_records(EAST, [record(EAST, LEAKED, 50, "RunInstances", json!({}))]);
    // What the runtime does on `r`.
    live.poke.notify_waiters();
    let newer = id_of(EAST, LEAKED, 50, "RunInstances");
    live.until("a poll in each region and the newer event", |u| {
        let now = counts();
        now.0 > before.0 && now.1 > before.1 && has_event(u, &newer)
    })
    .await;
    // Once: a second poke is needed for a second poll.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let after = counts();
    assert_eq!(after, (before.0 + 1, before.1 + 1), "one poll each");
    live.poke.notify_waiters();
    live.until("a second poll", |_| {
        counts().0 > after.0 && counts().1 > after.1
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_minted_while_live_gets_its_history_looked_up_everywhere() {
    let server = lookup_server::LookupServer::start();
    server.add_records(
        EAST,
        [record(EAST, LEAKED, 1, "GetCallerIdentity", json!({}))],
    );
    // The session's work in Paris predates the poll that finds its minting.
    server.add_records(PARIS, (10..12).map(|m| session_record(PARIS, m)));
    let live = Live::start(
        Some(aws(&server.endpoint()).await),
        live_request(&[EAST, PARIS], 200),
    );
    live.until("the histories", |u| is_live(u, EAST) && is_live(u, PARIS))
        .await;
    assert!(!has_event(
        &live.snapshot(),
        &id_of(PARIS, SESSION, 10, "RunInstances")
    ));
    server.add_records(EAST, [assume_role(EAST)]);
    live.until("the session's history in Paris", |u| {
        (10..12).all(|m| has_event(u, &id_of(PARIS, SESSION, m, "RunInstances")))
    })
    .await;
    let chains = final_chains(&live.snapshot());
    assert!(chains.iter().any(|(k, _, _)| k == SESSION), "{chains:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn live_logs_folders_read_only_files_that_appeared_or_changed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, records: Vec<Value>| {
        std::fs::write(
            dir.path().join(name),
            json!({ "Records": records }).to_string(),
        )
        .expect("write");
    };
    write(
        "a.json",
        vec![record(EAST, LEAKED, 1, "ListBuckets", json!({}))],
    );
    let live = Live::start(
        None,
        collect::Request {
            logs: vec![dir.path().to_path_buf()],
            ..live_request(&[], 100)
        },
    );
    let first = id_of(EAST, LEAKED, 1, "ListBuckets");
    live.until("the first file", |u| has_event(u, &first)).await;
    // A responder syncs another object into the folder, with one damaged record in it.
    write(
        "b.json",
        vec![
            record(EAST, LEAKED, 7, "CreateUser", json!({})),
            json!({"eventName": "NoTimeAtAll", "userIdentity": {"accessKeyId": LEAKED}}),
        ],
    );
    let second = id_of(EAST, LEAKED, 7, "CreateUser");
    live.until("the new file", |u| has_event(u, &second)).await;
    // Several looks later, still nothing read twice.
    let files = |u: &[Update]| {
        u.iter()
            .rev()
            .find_map(|u| match u {
                Update::Progress(Progress::Files(p)) => Some(p.clone()),
                _ => None,
            })
            .expect("files progress")
    };
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let snap = live.snapshot();
    let ids = event_ids(&snap);
    assert_eq!(ids.iter().filter(|i| **i == first).count(), 1, "{ids:?}");
    assert_eq!(ids.iter().filter(|i| **i == second).count(), 1, "{ids:?}");
    let p = files(&snap);
    assert_eq!((p.files, p.events, &p.state), (2, 2, &SourceState::Live));
    // The damaged record is counted once, with its file, however often the folder is looked at.
    assert_eq!((p.skipped, p.skipped_files), (1, 1), "{:?}", p.reasons);
    assert!(
        p.reasons
            .iter()
            .any(|r| r.contains("b.json") && r.contains("eventTime")),
        "{:?}",
        p.reasons
    );
}

/// `--logs` naming a path that is not there is a usage error, said before anything is read.
#[test]
fn a_missing_logs_path_exits_2_naming_it() {
    let missing = std::env::temp_dir().join("keyspill-no-such-dir/for-sure");
    let path = missing.to_str().expect("utf-8");
    for args in [
        vec!["timeline", "--no-api", "--logs", path],
        vec!["timeline", "--key", LEAKED, "--logs", path],
        vec!["--logs", path],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_keyspill"))
            .args(&args)
            .env_remove("AWS_PROFILE")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("keyspill runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(path), "{args:?}: {err}");
        assert!(err.contains("no such file or directory"), "{err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pause_holds_live_polling_r_still_polls_and_resuming_polls_at_once() {
    let server = lookup_server::LookupServer::start();
    server.add_records(EAST, [record(EAST, LEAKED, 1, "ListBuckets", json!({}))]);
    let (switch, paused) = tokio::sync::watch::channel(false);
    let live = Live::start(
        Some(aws(&server.endpoint()).await),
        collect::Request {
            paused: Some(paused),
            ..live_request(&[EAST], 300)
        },
    );
    live.until("the history", |u| is_live(u, EAST)).await;
    assert!(switch.send(true).is_ok());
    // A poll under way when `p` was pressed ends (the region's pacer spaces requests 500 ms).
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let held = lookups(&server, EAST);
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    assert_eq!(
        lookups(&server, EAST),
        held,
        "four intervals, no poll while paused"
    );
    live.poke.notify_waiters();
    live.until("the poll `r` asks for", |_| lookups(&server, EAST) > held)
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(900)).await;
    let after_r = lookups(&server, EAST);
    assert_eq!(
        after_r,
        held + 1,
        "`r` polls once, then the pause holds again"
    );
    assert!(switch.send(false).is_ok());
    live.until("the poll on resuming", |_| lookups(&server, EAST) > after_r)
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trail_bucket_that_cannot_be_listed_shows_failed_then_recovers_and_reads_its_window() {
    let moto = common::Moto::start();
    let root = common::aws_root(&moto).await;
    trail_to_bucket(&root, "audit").await;
    // The bucket goes away (a responder's mistake, or the attacker's): listing fails.
    root.s3
        .delete_bucket()
        .bucket("trail-logs")
        .send()
        .await
        .expect("delete bucket");
    let live = Live::start(
        Some(common::aws_root(&moto).await),
        collect::Request {
            from: Some(time::macros::datetime!(2026-11-19 00:00:00 UTC)),
            account: Some(ACCOUNT.into()),
            ..live_request(&[EAST], 200)
        },
    );
    let trails = |u: &[Update]| {
        u.iter().rev().find_map(|u| match u {
            Update::Progress(Progress::Trails(p)) => Some(p.clone()),
            _ => None,
        })
    };
    live.until("the trail source failing", |u| {
        trails(u).is_some_and(|p| matches!(p.state, SourceState::Error(_)))
    })
    .await;
    let failing = trails(&live.snapshot()).expect("trail progress");
    assert!(failing.retry_at.is_some(), "{failing:?}");
    // The bucket is back, with a log object from the start of the window.
    root.s3
        .create_bucket()
        .bucket("trail-logs")
        .send()
        .await
        .expect("bucket again");
    let object = format!(
        "AWSLogs/{ACCOUNT}/CloudTrail/{EAST}/2026/11/20/{ACCOUNT}_CloudTrail_{EAST}_20261120T1005Z_abcdefgh12345678.json.gz"
    );
    root.s3
        .put_object()
        .bucket("trail-logs")
        .key(object)
        .body(log_object(vec![record(EAST, LEAKED, 9, "CreateUser", json!({}))]).into())
        .send()
        .await
        .expect("put");
    let old = id_of(EAST, LEAKED, 9, "CreateUser");
    live.until(
        "the trail source live, with the window's object read",
        |u| {
            trails(u).is_some_and(|p| p.state == SourceState::Live && p.retry_at.is_none())
                && has_event(u, &old)
        },
    )
    .await;
}

/// A key first learnt from another source (here a log file synced in while live) is looked for
/// in the trail objects already read, not only in those delivered afterwards: a session's calls
/// can sit in an object read before the call that minted it turned up.
#[tokio::test(flavor = "multi_thread")]
async fn trail_objects_already_read_are_searched_again_for_a_key_learnt_elsewhere() {
    let moto = common::Moto::start();
    let root = common::aws_root(&moto).await;
    trail_to_bucket(&root, "audit").await;
    // The session's call is in the bucket; the call that minted the session is not.
    let object = format!(
        "AWSLogs/{ACCOUNT}/CloudTrail/{EAST}/2026/11/20/{ACCOUNT}_CloudTrail_{EAST}_20261120T1010Z_abcdefgh12345678.json.gz"
    );
    root.s3
        .put_object()
        .bucket("trail-logs")
        .key(object)
        .body(log_object(vec![session_record(EAST, 8)]).into())
        .send()
        .await
        .expect("put");
    let dir = tempfile::tempdir().expect("temp dir");
    let live = Live::start(
        Some(common::aws_root(&moto).await),
        collect::Request {
            from: Some(time::macros::datetime!(2026-11-19 00:00:00 UTC)),
            account: Some(ACCOUNT.into()),
            logs: vec![dir.path().to_path_buf()],
            ..live_request(&[EAST], 200)
        },
    );
    live.until("the trail object read", |u| {
        u.iter().any(|u| {
            matches!(u, Update::Progress(Progress::Trails(p)) if p.fetched == 1 && p.state == SourceState::Live)
        })
    })
    .await;
    let session_call = id_of(EAST, SESSION, 8, "RunInstances");
    assert!(!has_event(&live.snapshot(), &session_call));
    // The AssumeRole turns up in a file synced into the --logs folder.
    std::fs::write(
        dir.path().join("assume.json"),
        json!({ "Records": [assume_role(EAST)] }).to_string(),
    )
    .expect("write");
    live.until("the session's call found in the object read before", |u| {
        has_event(u, &session_call)
    })
    .await;
    let ids = event_ids(&live.snapshot());
    assert_eq!(
        ids.iter().filter(|i| **i == session_call).count(),
        1,
        "{ids:?}"
    );
}
