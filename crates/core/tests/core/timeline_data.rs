//! The CloudTrail parser against the real records in `shared/data/cloudtrail`: every file and
//! its MANIFEST.json figures, then each data quirk the folder's README lists, one by one; the
//! local-files source over gzip'd logs; and property tests for the parser and the pre-filter.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use keyspill_core::timeline::files::{keeps, scan_bytes, scan_paths};
use keyspill_core::timeline::parse::{Parsed, decompress, parse_document, parse_record};
use keyspill_core::timeline::prefilter::{KeyFilter, ScanOutcome};
use keyspill_core::timeline::{Event, Origin};
use proptest::prelude::*;
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/cloudtrail")
}

fn read(rel: &str) -> Vec<u8> {
    let path = data_dir().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn origin(rel: &str) -> Origin {
    Origin::File { path: rel.into() }
}

fn parse(rel: &str) -> Parsed {
    parse_document(&read(rel), &origin(rel))
}

fn only(rel: &str) -> Event {
    let parsed = parse(rel);
    assert!(parsed.skipped.is_empty(), "{rel}: {:?}", parsed.skipped);
    assert_eq!(parsed.events.len(), 1, "{rel}");
    parsed.events.into_iter().next().expect("one event")
}

fn stamp(event: &Event) -> String {
    event.time.format(&Rfc3339).expect("formats")
}

fn manifest() -> Value {
    serde_json::from_slice(&read("MANIFEST.json")).expect("MANIFEST.json is JSON")
}

/// Every data file under the folder, relative to it: not the botocore API models, not the
/// manifest, not the prose.
fn data_files() -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("data folder is readable") {
            let path = entry.expect("entry").path();
            let rel = path
                .strip_prefix(root)
                .expect("under root")
                .to_string_lossy()
                .replace('\\', "/");
            if path.is_dir() {
                if rel != "botocore" {
                    walk(&path, root, out);
                }
            } else if rel != "MANIFEST.json" && !rel.ends_with(".md") {
                out.push(rel);
            }
        }
    }
    let root = data_dir();
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.sort();
    out
}

#[test]
fn every_file_matches_the_manifest() {
    let manifest = manifest();
    let entries = manifest["files"].as_array().expect("files[]");
    let listed: BTreeSet<String> = entries
        .iter()
        .map(|f| f["path"].as_str().expect("path").to_string())
        .collect();
    let found: BTreeSet<String> = data_files().into_iter().collect();
    assert_eq!(listed, found, "MANIFEST.json and the folder disagree");

    let (mut records, mut events, mut digests) = (0, 0, 0);
    for entry in entries {
        let rel = entry["path"].as_str().expect("path");
        let parsed = parse(rel);
        let want_records = entry["records"].as_u64().expect("records") as usize;
        let want_digests = entry["digest_files"].as_u64().expect("digest_files") as usize;

        // The manifest counts the two fragments (eventVersion + userIdentity, no eventTime)
        // as records, with eventName null. They are not events: each must be skipped with
        // that reason, and nothing else may be skipped.
        let mut want_names: BTreeMap<String, usize> = entry["eventNames"]
            .as_object()
            .expect("eventNames")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().expect("count") as usize))
            .collect();
        let fragments = want_names.remove("null").unwrap_or(0);
        let reasons: Vec<&str> = parsed.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert_eq!(
            reasons,
            vec!["record 1: no eventTime"; fragments],
            "{rel}: skipped"
        );
        for skipped in &parsed.skipped {
            assert_eq!(skipped.origin, origin(rel));
        }

        assert_eq!(
            parsed.events.len() + fragments,
            want_records,
            "{rel}: records"
        );
        assert_eq!(parsed.digests, want_digests, "{rel}: digests");

        let mut names: BTreeMap<String, usize> = BTreeMap::new();
        for e in &parsed.events {
            *names.entry(e.name.to_string()).or_default() += 1;
            assert_eq!(e.origin, origin(rel));
            assert!(!e.id.is_empty(), "{rel}: empty id");
            let raw: Value = serde_json::from_str(&e.raw).expect("raw is JSON");
            assert_eq!(
                parse_record(&raw, &e.origin).as_ref(),
                Ok(e),
                "{rel}: raw re-parses to the same event"
            );
        }
        assert_eq!(names, want_names, "{rel}: eventName counts");

        let first = parsed.events.iter().map(stamp).min();
        let last = parsed.events.iter().map(stamp).max();
        assert_eq!(
            first.as_deref(),
            entry["first_eventTime"].as_str(),
            "{rel}: first eventTime"
        );
        assert_eq!(
            last.as_deref(),
            entry["last_eventTime"].as_str(),
            "{rel}: last eventTime"
        );

        records += want_records;
        events += parsed.events.len();
        digests += parsed.digests;
    }
    assert_eq!(
        records,
        manifest["total_records"].as_u64().expect("total") as usize
    );
    assert_eq!((records, events, digests), (360, 358, 3));
}

#[test]
fn zero_padded_ips_are_kept_verbatim() {
    let mut padded = Vec::new();
    for rel in data_files()
        .iter()
        .filter(|r| r.starts_with("stratus-red-team/"))
    {
        for e in parse(rel).events {
            if e.source_ip
                .split('.')
                .any(|octet| octet.len() > 1 && octet.starts_with('0'))
            {
                padded.push(e.source_ip);
            }
        }
    }
    assert_eq!(padded.len(), 107);
    let distinct: BTreeSet<&str> = padded.iter().map(|ip| &**ip).collect();
    assert_eq!(distinct.len(), 12);
    assert!(distinct.contains("075.050.255.67"));
    assert!(distinct.contains("225.01.00.16"));
}

#[test]
fn odd_account_id_lengths_do_not_matter() {
    for (rel, account) in [
        (
            "awsdocs/s3-user-guide/batch-ops-examples-event-bridge-cloud-trail.02.json",
            "11112223334444",
        ),
        (
            "awsdocs/s3-user-guide/batch-ops-examples-event-bridge-cloud-trail.03.json",
            "1111222233334444",
        ),
        (
            "elastic-integrations/test-run-instances-json.log",
            "1010101010101",
        ),
        ("elastic-integrations/test-put-object-json.log", "000000000"),
    ] {
        let e = only(rel);
        assert!(e.raw.contains(account), "{rel} keeps {account}");
    }
    let gov = only("elastic-integrations/test-us-gov-arn.log");
    assert!(gov.identity_arn.starts_with("arn:aws-us-gov:sts::"));
    assert_eq!(&*gov.region, "us-gov-east-1");
}

#[test]
fn records_without_event_id_get_stable_distinct_hash_ids() {
    let files: Vec<String> = (1..=5)
        .map(|n| format!("awsdocs/cloudtrail-user-guide/cloudtrail-log-file-examples.0{n}.json"))
        .collect();
    let ids = |_: ()| -> Vec<String> { files.iter().map(|rel| only(rel).id.into()).collect() };
    let first = ids(());
    assert!(
        first
            .iter()
            .all(|id| id.starts_with("h:") && id.len() == 18),
        "{first:?}"
    );
    assert_eq!(first.iter().collect::<HashSet<_>>().len(), 5, "{first:?}");
    assert_eq!(first, ids(()), "same ids on a second parse");

    // The id belongs to the record, not to its formatting: the compact form of the same
    // record, or the record alone rather than in a Records array, gives the same id.
    for (rel, id) in files.iter().zip(&first) {
        let e = only(rel);
        let again = parse_document(e.raw.as_bytes(), &origin("again"));
        assert_eq!(&*again.events[0].id, id.as_str());
        assert!(e.raw.contains("\"eventVersion\":\"1.0\""));
    }
}

#[test]
fn duplicate_event_ids_are_two_events() {
    let parsed = parse("elastic-integrations/test-console-login-json.log");
    let dup: Vec<&Event> = parsed
        .events
        .iter()
        .filter(|e| &*e.id == "11ea990b-4678-4bcd-8fbe-625EXAMPLE")
        .collect();
    assert_eq!(dup.len(), 2);
    assert_ne!(dup[0].raw, dup[1].raw);
    assert!(dup.iter().all(|e| e.failed() && e.error_code.is_none()));
}

#[test]
fn insights_take_service_and_name_from_insight_details() {
    let mut insights = Vec::new();
    for rel in [
        "awsdocs/cloudtrail-user-guide/view-insights-events-cli.01.json",
        "awsdocs/cloudtrail-user-guide/cloudtrail-event-reference.02.json",
        "awsdocs/cloudtrail-user-guide/cloudtrail-log-file-examples.08.json",
    ] {
        insights.extend(parse(rel).events);
    }
    assert_eq!(insights.len(), 5);
    for e in &insights {
        assert!(e.raw.contains("AwsCloudTrailInsight"));
        assert!(!e.service.is_empty(), "{}", e.raw);
        assert!(["CompleteLifecycleAction", "UpdateInstanceInformation"].contains(&&*e.name));
        assert!(e.identity_type.is_empty());
    }
    let lookup = parse("awsdocs/cloudtrail-user-guide/view-insights-events-cli.01.json");
    assert!(
        lookup
            .events
            .iter()
            .all(|e| &*e.service == "autoscaling.amazonaws.com")
    );
}

#[test]
fn misspelt_console_signin_event_type() {
    let e = only("awsdocs/iam-user-guide/cloudtrail-integration.10.json");
    assert!(e.raw.contains("\"AwsConsoleSignin\""));
    assert_eq!(&*e.name, "ConsoleLogin");
    assert_eq!(&*e.service, "signin.amazonaws.com");
    assert!(e.failed());
    assert_eq!(
        e.error_message.as_deref(),
        Some("No username found in supplied account")
    );
    assert_eq!(e.mfa_used, Some(false));
    assert_eq!(&*e.access_key_id, "");
}

#[test]
fn console_login_mfa_flag() {
    let e = only("stratus-red-team/aws.initial-access.console-login-without-mfa.json");
    assert_eq!(e.mfa_used, Some(false));
    assert!(!e.failed());
    let others = only("awsdocs/cloudtrail-user-guide/cloudtrail-log-file-examples.07.json");
    assert_eq!(others.mfa_used, None);
}

#[test]
fn lookup_events_inner_event_time_wins() {
    let e = only("aws-cli-examples/lookup-events.output.json");
    assert_eq!(stamp(&e), "2016-01-26T21:42:12Z");
    assert_eq!(&*e.id, "654ccbc0-ba0d-486a-9076-dbf7274677a7");
    assert_eq!(&*e.name, "ConsoleLogin");
    assert_eq!(&*e.identity_type, "AssumedRole");
    assert_eq!(e.mfa_used, Some(false));
}

#[test]
fn plaso_json_lines_of_lookup_events_items() {
    let parsed = parse("plaso/aws_cloudtrail.jsonl");
    assert!(parsed.skipped.is_empty());
    assert_eq!(parsed.events.len(), 6);
    let text = String::from_utf8(read("plaso/aws_cloudtrail.jsonl")).expect("utf-8");
    for (line, e) in text.lines().zip(&parsed.events) {
        let wrapper: Value = serde_json::from_str(line).expect("line");
        assert_eq!(wrapper["EventId"].as_str(), Some(&*e.id));
        // The wrapper's ReadOnly is a string; the event takes the record's boolean.
        assert_eq!(
            wrapper["ReadOnly"].as_str().map(|s| s == "true"),
            e.read_only
        );
        // Wrapper time is local (+11:00); the event is the record's own UTC time.
        assert!(stamp(e).starts_with("2022-02-07T22:"), "{}", stamp(e));
    }
    let service_event = parsed
        .events
        .iter()
        .find(|e| &*e.name == "SharedSnapshotVolumeCreated")
        .expect("service event");
    assert_eq!(&*service_event.access_key_id, "");
    assert_eq!(&*service_event.identity_type, "");
}

#[test]
fn eventbridge_envelopes_yield_the_detail() {
    for (rel, name, id) in [
        (
            "awsdocs/s3-user-guide/batch-ops-examples-event-bridge-cloud-trail.02.json",
            "JobCreated",
            "7c38220f-f80b-4239-8b78-2ed867b7d3fa",
        ),
        (
            "awsdocs/s3-user-guide/batch-ops-examples-event-bridge-cloud-trail.03.json",
            "JobStatusChanged",
            "0238c1f7-c2b0-440b-8dbd-1ed5e5833afb",
        ),
    ] {
        let e = only(rel);
        assert_eq!((&*e.name, &*e.id), (name, id));
        assert!(
            !e.raw.contains("detail-type"),
            "raw is the record, not the envelope"
        );
    }
    // The API-call flavour, built here.
    let envelope = json!({
        "version": "0", "detail-type": "AWS API Call via CloudTrail", "source": "aws.iam",
        "detail": {"eventTime": "2024-01-02T03:04:05Z", "eventName": "CreateUser", "eventID": "x"},
    });
    let parsed = parse_document(envelope.to_string().as_bytes(), &origin("bridge"));
    assert_eq!(parsed.events.len(), 1);
    assert_eq!(&*parsed.events[0].name, "CreateUser");
}

#[test]
fn json_lines_trailing_blank_line_and_bad_lines() {
    let rel = "elastic-integrations/test-run-instances-json.log";
    assert!(read(rel).ends_with(b"\n\n") || read(rel).ends_with(b"\r\n\r\n"));
    let e = only(rel);
    assert_eq!(&*e.name, "RunInstances");

    let good =
        String::from_utf8(read("elastic-integrations/test-console-login-json.log")).expect("utf-8");
    let lines: Vec<&str> = good.lines().collect();
    let mixed = format!(
        "\n{}\n   \n{{\"eventVersion\": oops\n{}\r\n{}\n\n",
        lines[0], lines[1], lines[2]
    );
    let parsed = parse_document(mixed.as_bytes(), &origin("mixed.log"));
    assert_eq!(parsed.events.len(), 3);
    assert_eq!(parsed.skipped.len(), 1);
    assert!(
        parsed.skipped[0].reason.starts_with("line 4: not JSON ("),
        "{}",
        parsed.skipped[0].reason
    );
}

#[test]
fn digest_files_are_counted_not_parsed() {
    for rel in [
        "awsdocs/cloudtrail-user-guide/cloudtrail-log-file-validation-digest-file-structure.01.json",
        "awsdocs/cloudtrail-user-guide/cloudtrail-log-file-validation-digest-file-structure.02.json",
        "elastic-integrations/test-cloudtrail-digest-json.log",
    ] {
        let parsed = parse(rel);
        assert_eq!(
            (parsed.events.len(), parsed.digests, parsed.skipped.len()),
            (0, 1, 0),
            "{rel}"
        );
    }
}

#[test]
fn fragments_are_skipped_with_a_reason() {
    for rel in [
        "awsdocs/cloudtrail-user-guide/cloudtrail-event-reference-user-identity.02.json",
        "awsdocs/iam-user-guide/id_credentials_temp_control-access_monitor.02.json",
    ] {
        let parsed = parse(rel);
        assert!(parsed.events.is_empty());
        assert_eq!(parsed.skipped.len(), 1);
        assert_eq!(parsed.skipped[0].reason, "record 1: no eventTime");
        assert_eq!(
            parsed.skipped[0].to_string(),
            format!("{rel}: record 1: no eventTime")
        );
    }
}

fn unicode_record() -> Value {
    json!({
        "eventVersion": "1.09",
        "eventTime": "2024-08-01T12:00:00.123456Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "PutObject",
        "awsRegion": "eu-west-3",
        "sourceIPAddress": "2001:db8::1",
        "userAgent": "Mozilla/5.0 (café) 🚀 \u{00e9}t\u{00e9}",
        "userIdentity": {"type": "IAMUser", "userName": "zoë", "accessKeyId": "AKIAUNICODE000000001"},
        "requestParameters": {"key": "rapports/été/名前.pdf", "note": "quote \" brace } bracket ] backslash \\"},
        "eventID": "0e1f-unicode",
    })
}

#[test]
fn non_ascii_text_round_trips() {
    let record = unicode_record();
    let agent = record["userAgent"].as_str().expect("agent").to_string();
    let pretty = serde_json::to_string_pretty(&json!({"Records": [record.clone()]})).expect("json");
    // The same record with its non-ASCII written as \u escapes, as some exporters do.
    let escaped: String = record
        .to_string()
        .chars()
        .flat_map(|c| {
            if c.is_ascii() {
                vec![c.to_string()]
            } else {
                let mut units = [0u16; 2];
                c.encode_utf16(&mut units)
                    .iter()
                    .map(|u| format!("\\u{u:04x}"))
                    .collect()
            }
        })
        .collect();
    for text in [record.to_string(), pretty, escaped] {
        let parsed = parse_document(text.as_bytes(), &origin("unicode.json"));
        assert!(parsed.skipped.is_empty(), "{:?}", parsed.skipped);
        let e = &parsed.events[0];
        assert_eq!(*e.user_agent, *agent);
        assert_eq!(&*e.source_ip, "2001:db8::1");
        let raw: Value = serde_json::from_str(&e.raw).expect("raw");
        assert_eq!(raw, record);
        assert!(e.raw.contains("名前") && e.raw.contains('🚀'));
    }
}

#[test]
fn fractional_second_event_time() {
    let e = parse_record(&unicode_record(), &origin("frac")).expect("parses");
    assert_eq!(e.time.nanosecond(), 123_456_000);
    assert_eq!(stamp(&e), "2024-08-01T12:00:00.123456Z");
    let offset = json!({"eventTime": "2024-08-01T14:00:00.5+02:00"});
    let e = parse_record(&offset, &origin("frac")).expect("parses");
    assert_eq!(stamp(&e), "2024-08-01T12:00:00.5Z");
}

#[test]
fn minted_keys_on_stratus_records() {
    let mut minted = BTreeMap::new();
    for rel in data_files()
        .iter()
        .filter(|r| r.starts_with("stratus-red-team/"))
    {
        for e in parse(rel).events {
            if let Some(m) = e.minted {
                assert!(
                    &*e.service == "sts.amazonaws.com"
                        || (&*e.service == "iam.amazonaws.com" && &*e.name == "CreateAccessKey"),
                    "{} {}",
                    e.service,
                    e.name
                );
                assert!(e.error_code.is_none());
                minted.insert(m.key_id, m.via);
            }
        }
    }
    // Nine STS sessions, and two long-term keys made for backdoor users.
    assert_eq!(minted.len(), 11, "{minted:?}");
    assert_eq!(
        minted.get("AKIAL80DWDVKKM0UXEER").map(String::as_str),
        Some("CreateAccessKey stratus-red-team-backdoor-u-user")
    );
    assert_eq!(
        minted.get("AKIAXAFZN8JEPF6L682H").map(String::as_str),
        Some("CreateAccessKey malicious-iam-user")
    );
    assert_eq!(
        minted.get("ASIANQQHHS551LWULIWD").map(String::as_str),
        Some("AssumeRole stratus-red-team-ec2-get-password-data-role")
    );
    assert_eq!(
        minted.get("ASIASTJKC5GCM7ZE6LUP").map(String::as_str),
        Some("GetFederationToken stratus_red_team")
    );
    let assume_roles = minted
        .values()
        .filter(|via| via.starts_with("AssumeRole stratus-red-team-"))
        .count();
    assert_eq!(assume_roles, 8);
}

// ---------------------------------------------------------------------------------------------
// Local files: gzip'd trail logs through scan_paths.

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

fn stratus_records(name: &str) -> Vec<Value> {
    serde_json::from_slice(&read(&format!("stratus-red-team/{name}.json"))).expect("array")
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, bytes).expect("write");
}

struct Corpus {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

/// A bucket copy: two gzip'd log files (one compact, one pretty), a gzip'd digest, a broken
/// gzip, a file that is not JSON, a JSON Lines export deeper down, and a README to ignore.
fn corpus() -> Corpus {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_path_buf();
    let logs = root.join("AWSLogs/111122223333/CloudTrail/us-east-1/2024");
    let compact =
        json!({"Records": stratus_records("aws.credential-access.ec2-get-password-data")});
    write(
        &logs.join("07/30/111122223333_CloudTrail_us-east-1_20240730T2135Z_a1.json.gz"),
        &gzip(compact.to_string().as_bytes()),
    );
    let pretty = json!({"Records": stratus_records("aws.persistence.sts-federation-token")});
    write(
        &logs.join("11/30/111122223333_CloudTrail_us-east-1_20241130T0845Z_b2.json.gz"),
        &gzip(
            serde_json::to_string_pretty(&pretty)
                .expect("json")
                .as_bytes(),
        ),
    );
    write(
        &root.join("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2015/digest.json.gz"),
        &gzip(&read(
            "awsdocs/cloudtrail-user-guide/cloudtrail-log-file-validation-digest-file-structure.01.json",
        )),
    );
    let good = gzip(compact.to_string().as_bytes());
    write(
        &root.join("broken/corrupt.json.gz"),
        &good[..good.len() / 2],
    );
    write(&root.join("broken/notes.json"), b"this is not JSON\n");
    write(&root.join("README.md"), b"# not a log\n");
    write(
        &root.join("exports/nested/plaso.jsonl"),
        &read("plaso/aws_cloudtrail.jsonl"),
    );
    Corpus { _dir: dir, root }
}

fn assert_bad_files_skipped(scan: &keyspill_core::timeline::files::FileScan) {
    let mut paths: Vec<String> = scan
        .skipped
        .iter()
        .map(|s| match &s.origin {
            Origin::File { path } => path.to_string(),
            other => panic!("unexpected origin {other}"),
        })
        .collect();
    paths.sort();
    assert_eq!(paths.len(), 2, "{:?}", scan.skipped);
    assert!(paths[0].ends_with("broken/corrupt.json.gz"), "{paths:?}");
    assert!(paths[1].ends_with("broken/notes.json"), "{paths:?}");
    let reasons: Vec<&str> = scan.skipped.iter().map(|s| s.reason.as_str()).collect();
    assert!(reasons.iter().any(|r| r.contains("gzip")), "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.starts_with("not JSON")),
        "{reasons:?}"
    );
}

fn ids(events: &[Event]) -> Vec<String> {
    let mut ids: Vec<String> = events.iter().map(|e| e.id.to_string()).collect();
    ids.sort();
    ids
}

#[test]
fn scan_paths_reads_gzip_logs_and_survives_bad_files() {
    let corpus = corpus();
    let all = scan_paths(std::slice::from_ref(&corpus.root), None);
    assert_eq!(all.files, 6, "README.md is not a log file");
    assert_eq!(all.events.len(), 34 + 2 + 6);
    assert_eq!(all.digests, 1);
    assert_bad_files_skipped(&all);

    for keys in [
        vec!["AKIAWOGXN38MFN92ING5"],
        vec!["ASIANQQHHS551LWULIWD"],
        vec!["ASIASTJKC5GCM7ZE6LUP"],
        vec![
            "AKIAWOGXN38MFN92ING5",
            "ASIANQQHHS551LWULIWD",
            "0123456789ABCDEFGHIJ",
        ],
        vec!["AKIANOBODYUSESTHIS00"],
        vec![],
    ] {
        let filter = KeyFilter::new(keys.iter().map(|k| k.to_string()));
        let some = scan_paths(std::slice::from_ref(&corpus.root), Some(&filter));
        let expected: Vec<Event> = all
            .events
            .iter()
            .filter(|e| keeps(&filter, e))
            .cloned()
            .collect();
        assert_eq!(ids(&some.events), ids(&expected), "{keys:?}");
        assert_eq!(some.events.len(), expected.len());
        for e in &some.events {
            let twin = all.events.iter().find(|a| a.id == e.id).expect("twin");
            assert_eq!(e, twin, "same event through the pre-filter");
        }
        assert_eq!(some.files, 6);
        assert_eq!(some.digests, 1);
        assert_bad_files_skipped(&some);
    }

    let count = |key: &str| {
        let filter = KeyFilter::new([key.to_string()]);
        scan_paths(std::slice::from_ref(&corpus.root), Some(&filter))
            .events
            .len()
    };
    // The IAM user's own calls: four AssumeRole, two denied.
    assert_eq!(count("AKIAWOGXN38MFN92ING5"), 4);
    // A minted key: the AssumeRole that minted it, and the 30 calls made with it.
    assert_eq!(count("ASIANQQHHS551LWULIWD"), 31);
    // GetFederationToken and the federated user's one call.
    assert_eq!(count("ASIASTJKC5GCM7ZE6LUP"), 2);
}

#[test]
fn single_files_and_s3_bytes() {
    let corpus = corpus();
    let notes = corpus.root.join("broken/notes.json");
    let jsonl = corpus.root.join("exports/nested/plaso.jsonl");
    let scan = scan_paths(&[jsonl, notes], None);
    assert_eq!(
        (scan.files, scan.events.len(), scan.skipped.len()),
        (2, 6, 1)
    );

    let log = gzip(
        json!({"Records": stratus_records("aws.persistence.sts-federation-token")})
            .to_string()
            .as_bytes(),
    );
    let s3 = Origin::S3 {
        bucket: "trail-bucket".into(),
        key: "AWSLogs/1/CloudTrail/x.json.gz".into(),
    };
    let filter = KeyFilter::new(["ASIASTJKC5GCM7ZE6LUP".to_string()]);
    let parsed = scan_bytes(&log, &s3, Some(&filter));
    assert_eq!(parsed.events.len(), 2);
    assert!(parsed.events.iter().all(|e| e.origin == s3));
    assert_eq!(scan_bytes(&log, &s3, None).events.len(), 2);
    let broken = scan_bytes(&log[..20], &s3, None);
    assert_eq!((broken.events.len(), broken.skipped.len()), (0, 1));
    assert_eq!(
        decompress(&log).expect("gunzip").as_ref(),
        json!({"Records": stratus_records("aws.persistence.sts-federation-token")})
            .to_string()
            .as_bytes()
    );
}

// ---------------------------------------------------------------------------------------------
// Properties.

/// Every data file's bytes, for mutation.
static FILES: LazyLock<Vec<Vec<u8>>> =
    LazyLock::new(|| data_files().iter().map(|rel| read(rel)).collect());

/// Every event record in the folder, as JSON values, for building documents.
static RECORDS: LazyLock<Vec<Value>> = LazyLock::new(|| {
    data_files()
        .iter()
        .flat_map(|rel| parse(rel).events)
        .map(|e| serde_json::from_str(&e.raw).expect("raw"))
        .collect()
});

const KEYS: [&str; 4] = [
    "AKIAPROPTEST0000000A",
    "ASIAPROPTEST0000000B",
    "AKIAPROPTEST0000000C",
    "ASIAPROPTEST0000000D",
];

#[derive(Debug, Clone)]
pub(crate) enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
}

pub(crate) fn mutate(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for edit in edits {
        let len = bytes.len().max(1);
        match *edit {
            Edit::Flip(at, mask) if !bytes.is_empty() => bytes[at % len] ^= mask,
            Edit::Insert(at, b) => bytes.insert(at % (bytes.len() + 1), b),
            Edit::Delete(at) if !bytes.is_empty() => {
                bytes.remove(at % len);
            }
            _ => {}
        }
    }
    bytes
}

fn edit() -> impl Strategy<Value = Edit> {
    // Bytes that matter to the scanner and the parser are drawn more often.
    let byte = prop_oneof![any::<u8>(), prop::sample::select(b"{}[]\",:\\ \n".to_vec()),];
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(at, m)| Edit::Flip(at, m)),
        (any::<usize>(), byte).prop_map(|(at, b)| Edit::Insert(at, b)),
        any::<usize>().prop_map(Edit::Delete),
    ]
}

/// A record from the folder, made by one of the test keys (or left alone), with a note
/// full of characters that look structural inside a string.
fn doc_record() -> impl Strategy<Value = Value> {
    (
        0..RECORDS.len(),
        0..=KEYS.len(),
        "[a-z{}\\[\\]\",:\\\\ é🚀]{0,12}",
        0..=KEYS.len(),
    )
        .prop_map(|(i, key, note, minted)| {
            let mut r = RECORDS[i].clone();
            if let Some(k) = KEYS.get(key) {
                r["userIdentity"] = json!({"type": "IAMUser", "accessKeyId": k});
            }
            if let Some(k) = KEYS.get(minted) {
                r["eventSource"] = json!("sts.amazonaws.com");
                r["eventName"] = json!("GetSessionToken");
                r["responseElements"] = json!({"credentials": {"accessKeyId": k}});
            }
            r["note"] = json!(note);
            r
        })
}

fn agree(doc: &[u8], filter: &KeyFilter) {
    let o = origin("prop.json");
    let expected: Vec<Event> = parse_document(doc, &o)
        .events
        .into_iter()
        .filter(|e| keeps(filter, e))
        .collect();
    // The same answer straight from a JSON tree of the whole document.
    let tree: Value = serde_json::from_slice(doc).expect("valid JSON");
    let reference: Vec<Event> = tree["Records"]
        .as_array()
        .expect("Records")
        .iter()
        .map(|r| parse_record(r, &o).expect("record"))
        .filter(|e| keeps(filter, e))
        .collect();
    assert_eq!(expected, reference);
    let spans = match filter.scan_records(doc) {
        ScanOutcome::Records(spans) => spans,
        ScanOutcome::ParseWhole => panic!("a valid Records document fell back"),
    };
    let mut got = Vec::new();
    for span in spans {
        let value: Value = serde_json::from_slice(span.bytes).expect("each span is one JSON value");
        let event = parse_record(&value, &o).expect("each span is a record");
        assert!(filter.hits(span.bytes));
        if keeps(filter, &event) {
            got.push(event);
        }
    }
    assert_eq!(got, expected);
    // Whatever the filter keeps, scan_bytes gives the same answer, gzip'd or not.
    assert_eq!(scan_bytes(doc, &o, Some(filter)).events, expected);
    assert_eq!(scan_bytes(&gzip(doc), &o, Some(filter)).events, expected);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
        records_prefix in any::<bool>(),
    ) {
        let mut doc = if records_prefix { b"{\"Records\":[".to_vec() } else { Vec::new() };
        doc.extend(&bytes);
        let filter = KeyFilter::new(KEYS.iter().map(|k| k.to_string()));
        let _ = parse_document(&doc, &origin("fuzz"));
        let _ = filter.scan_records(&doc);
        let _ = decompress(&doc);
        let _ = scan_bytes(&doc, &origin("fuzz"), Some(&filter));
    }

    #[test]
    fn mutated_real_files_never_panic(
        file in 0..FILES.len(),
        edits in prop::collection::vec(edit(), 1..8),
        key_at in any::<usize>(),
        as_log in any::<bool>(),
        gzipped in any::<bool>(),
    ) {
        let mut original = FILES[file].clone();
        if as_log {
            // Wrap the file's records in a Records array so the scanner walks them.
            let parsed = parse_document(&original, &origin("real"));
            let records: Vec<Value> = parsed
                .events
                .iter()
                .map(|e| serde_json::from_str(&e.raw).expect("raw"))
                .collect();
            original = json!({"Records": records}).to_string().into_bytes();
        }
        // Plant a key somewhere so the scanner does real work.
        let at = key_at % (original.len() + 1);
        original.splice(at..at, KEYS[0].bytes());
        let mut bytes = mutate(original, &edits);
        if gzipped {
            let gz = gzip(&bytes);
            bytes = mutate(gz, &edits[..1]);
        }
        let filter = KeyFilter::new([KEYS[0].to_string()]);
        let o = origin("mutated");
        if let Ok(doc) = decompress(&bytes) {
            let _ = parse_document(&doc, &o);
            if let ScanOutcome::Records(spans) = filter.scan_records(&doc) {
                for span in spans {
                    prop_assert!(filter.hits(span.bytes));
                }
            }
        }
        let _ = scan_bytes(&bytes, &o, Some(&filter));
        let _ = scan_bytes(&bytes, &o, None);
    }

    #[test]
    fn gzip_members_concatenate(
        parts in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..3000), 1..4),
    ) {
        let mut gz = Vec::new();
        for part in &parts {
            gz.extend(gzip(part));
        }
        let joined: Vec<u8> = parts.concat();
        let out = decompress(&gz).expect("gunzip");
        prop_assert_eq!(out.as_ref(), &joined[..]);
    }

    #[test]
    fn scan_records_agrees_with_parsing_then_filtering(
        records in prop::collection::vec(doc_record(), 0..24),
        pretty in any::<bool>(),
        chosen in prop::sample::subsequence(KEYS.to_vec(), 0..=KEYS.len()),
        many in any::<bool>(),
    ) {
        let doc = json!({"Records": records});
        let text = if pretty {
            serde_json::to_string_pretty(&doc).expect("json")
        } else {
            doc.to_string()
        };
        agree(text.as_bytes(), &filter_for(&chosen, many));
    }

    #[test]
    fn json_lines_filtering_agrees_with_parsing_then_filtering(
        records in prop::collection::vec((doc_record(), 0..3usize), 0..24),
        chosen in prop::sample::subsequence(KEYS.to_vec(), 0..=KEYS.len()),
        many in any::<bool>(),
    ) {
        let mut text = String::new();
        for (record, blanks) in &records {
            text.push_str(&record.to_string());
            text.push_str(&"\n".repeat(blanks + 1));
        }
        let filter = filter_for(&chosen, many);
        let o = origin("prop.jsonl");
        let expected: Vec<Event> = parse_document(text.as_bytes(), &o)
            .events
            .into_iter()
            .filter(|e| keeps(&filter, e))
            .collect();
        prop_assert_eq!(scan_bytes(text.as_bytes(), &o, Some(&filter)).events, expected);
    }
}

/// The chosen keys; with `many`, also enough keys that occur nowhere to make the filter
/// search by prefix rather than key by key.
fn filter_for(chosen: &[&str], many: bool) -> KeyFilter {
    let decoys = (0..if many { 12 } else { 0 }).map(|i| format!("ASIADECOY{i:011}"));
    let filter = KeyFilter::new(chosen.iter().map(|k| k.to_string()).chain(decoys));
    assert_eq!(filter.len(), chosen.len() + if many { 12 } else { 0 });
    filter
}

#[test]
fn scan_records_agrees_on_every_real_file_as_a_log() {
    for rel in data_files() {
        let parsed = parse(&rel);
        let records: Vec<Value> = parsed
            .events
            .iter()
            .map(|e| serde_json::from_str(&e.raw).expect("raw"))
            .collect();
        let doc = json!({"Records": records}).to_string();
        let mut keys: Vec<String> = parsed
            .events
            .iter()
            .map(|e| e.access_key_id.to_string())
            .filter(|k| !k.is_empty())
            .collect();
        keys.truncate(2);
        keys.push("ASIANQQHHS551LWULIWD".into());
        agree(doc.as_bytes(), &KeyFilter::new(keys));
    }
}
