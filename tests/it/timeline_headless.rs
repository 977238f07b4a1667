//! `keyspill timeline` through the real binary, on the real CloudTrail records in shared/.

use std::path::PathBuf;
use std::process::Command;

fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/cloudtrail")
}

fn stratus(file: &str) -> PathBuf {
    data().join("stratus-red-team").join(file)
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_keyspill"))
        .arg("timeline")
        .args(args)
        .env_remove("AWS_PROFILE")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("keyspill runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn jsonl(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("every output line is JSON"))
        .collect()
}

#[test]
fn every_record_without_a_key_and_skipped_files_are_explained() {
    let dir = data();
    let (code, out, err) = run(&[
        "--no-api",
        "--logs",
        dir.to_str().expect("utf-8"),
        "--format",
        "jsonl",
    ]);
    assert_eq!(code, 0, "{err}");
    let rows = jsonl(&out);
    // 360 records in MANIFEST.json; 2 are fragments without an eventTime (skipped, with the
    // reason) and 5 repeat an eventID already seen (de-duplicated by id).
    assert_eq!(rows.len() + 2 + 5, 360, "{err}");
    assert!(err.contains("no eventTime"), "{err}");
    assert!(err.contains("5 duplicates dropped"), "{err}");
    // Oldest first, RFC 3339 UTC.
    let times: Vec<&str> = rows
        .iter()
        .filter_map(|r| r["eventTime"].as_str())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    assert!(times.iter().all(|t| t.ends_with('Z')));
    for field in [
        "eventID",
        "eventTime",
        "eventSource",
        "eventName",
        "awsRegion",
        "sourceIPAddress",
        "userAgent",
        "identityArn",
        "accessKeyId",
        "chain",
        "errorCode",
        "errorMessage",
        "tactic",
        "severity",
    ] {
        assert!(rows[0].get(field).is_some(), "missing {field}");
    }
    // Non-record JSON files are counted as skipped, with the reason, and did not stop the scan.
    assert!(
        err.contains("skipped") && err.contains("MANIFEST.json"),
        "{err}"
    );
}

#[test]
fn a_key_and_everything_it_minted() {
    let file = stratus("aws.credential-access.ec2-get-password-data.json");
    let (code, out, err) = run(&[
        "--no-api",
        "--logs",
        file.to_str().expect("utf-8"),
        "--key",
        "AKIAWOGXN38MFN92ING5",
        "--format",
        "jsonl",
    ]);
    assert_eq!(code, 0, "{err}");
    let rows = jsonl(&out);
    // Every record in the file: the user's own calls and those of the sessions it assumed.
    assert_eq!(rows.len(), 34, "{err}");
    let derived: Vec<&serde_json::Value> = rows
        .iter()
        .filter(|r| {
            r["accessKeyId"]
                .as_str()
                .is_some_and(|k| k.starts_with("ASIA"))
        })
        .collect();
    assert_eq!(derived.len(), 30);
    assert!(derived.iter().all(|r| {
        r["chain"]
            .as_str()
            .is_some_and(|c| c.starts_with("AKIA…ING5 → AssumeRole"))
    }));
    assert!(err.contains("derived credential"), "{err}");
    let denied = rows
        .iter()
        .filter(|r| r["errorCode"] == "Client.UnauthorizedOperation")
        .count();
    assert_eq!(denied, 30);
}

#[test]
fn tactics_on_the_detonations() {
    let cases = [
        (
            "aws.defense-evasion.cloudtrail-stop.json",
            "StopLogging",
            "defense-evasion",
        ),
        (
            "aws.defense-evasion.cloudtrail-delete.json",
            "DeleteTrail",
            "defense-evasion",
        ),
        (
            "aws.defense-evasion.cloudtrail-event-selectors.json",
            "PutEventSelectors",
            "defense-evasion",
        ),
        (
            "aws.persistence.iam-create-admin-user.json",
            "CreateAccessKey",
            "persistence",
        ),
        (
            "aws.execution.ec2-launch-unusual-instances.json",
            "RunInstances",
            "compute",
        ),
    ];
    for (file, name, tactic) in cases {
        let path = stratus(file);
        let (code, out, err) = run(&[
            "--no-api",
            "--logs",
            path.to_str().expect("utf-8"),
            "--format",
            "csv",
        ]);
        assert_eq!(code, 0, "{err}");
        let mut reader = csv::Reader::from_reader(out.as_bytes());
        let headers = reader.headers().expect("header row").clone();
        let name_at = headers
            .iter()
            .position(|h| h == "eventName")
            .expect("eventName");
        let tactic_at = headers.iter().position(|h| h == "tactic").expect("tactic");
        let row = reader
            .records()
            .map(|r| r.expect("csv row"))
            .find(|r| r.get(name_at) == Some(name))
            .unwrap_or_else(|| panic!("{name} in {file}"));
        assert_eq!(row.get(tactic_at), Some(tactic), "{name} in {file}");
    }
}

#[test]
fn malformed_input_is_counted_and_skipped_never_fatal() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("broken.json"), b"{\"Records\": [ {not json").expect("write");
    std::fs::write(dir.path().join("bad.json.gz"), b"\x1f\x8b\x08\x00garbage").expect("write");
    std::fs::copy(
        stratus("aws.defense-evasion.cloudtrail-stop.json"),
        dir.path().join("good.json"),
    )
    .expect("copy");
    let (code, out, err) = run(&[
        "--no-api",
        "--logs",
        dir.path().to_str().expect("utf-8"),
        "--format",
        "jsonl",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(jsonl(&out).len(), 1);
    assert!(
        err.contains("broken.json") && err.contains("bad.json.gz"),
        "{err}"
    );
    assert!(err.contains("2 skipped"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, err) = run(&["--no-api"]);
    assert_eq!(code, 2);
    assert!(err.contains("--logs"), "{err}");
    let (code, _, _) = run(&["--key", "nope"]);
    assert_eq!(code, 2);
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nid = \"x\"\ntactic = \"not-a-tactic\"\nseverity = \"high\"\nevents = [\"A\"]\n",
    )
    .expect("write");
    let (code, _, err) = run(&[
        "--no-api",
        "--logs",
        data().to_str().expect("utf-8"),
        "--rules",
        rules.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("rules.toml"), "{err}");
}
