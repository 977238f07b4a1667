//! The real binary in a real terminal (tmux), driven by keystrokes, against moto.

use crate::common;
use std::process::Command;
use std::time::Duration;

use common::tmux::{Tmux, creds, start_offline};
use common::{Moto, MotoOptions, aws_root, dead_endpoint, key_status, user_with_keys};

#[tokio::test(flavor = "multi_thread")]
async fn disables_the_leaked_key_by_keystrokes_and_quits() {
    let moto = Moto::start();
    let root = aws_root(&moto).await;
    let (me, me_secret) = user_with_keys(&root, "ir-responder", 1).await.remove(0);
    let (leaked, _) = user_with_keys(&root, "dev-alice", 1).await.remove(0);
    user_with_keys(&root, "ci-deploy", 1).await;
    let journal = tempfile::tempdir().expect("journal dir");
    let jdir = journal.path().display().to_string();

    let t = Tmux::start(
        &creds(&moto, &me, &me_secret),
        &[
            "--key",
            &leaked,
            "--regions",
            "us-east-1",
            "--journal",
            &jdir,
        ],
    );
    // The header names the caller before the keys arrive: wait for the key row itself.
    let screen = t.wait_for(&leaked, Duration::from_secs(20));
    let screen = if screen.contains("acct 123456789012") {
        screen
    } else {
        t.wait_for("acct 123456789012", Duration::from_secs(20))
    };
    assert!(screen.contains("LIVE"), "{screen}");
    // The row can be drawn a frame before its status is (a loaded machine): wait for it.
    let screen = if screen.contains("Active") {
        screen
    } else {
        t.wait_for("Active", Duration::from_secs(20))
    };
    let row = screen
        .lines()
        .find(|l| l.contains(&leaked))
        .expect("leaked key row");
    assert!(
        row.contains('▶') && row.contains("LEAKED") && row.contains("Active"),
        "{row}"
    );

    t.keys(&["d"]);
    t.wait_for("to confirm", Duration::from_secs(5));
    t.type_text(&leaked[16..]);
    t.keys(&["Enter"]);
    let screen = t.wait_for("verified Inactive", Duration::from_secs(20));
    let row = screen
        .lines()
        .find(|l| l.contains(&leaked))
        .unwrap_or_else(|| panic!("no row for {leaked}:\n{screen}"));
    assert!(row.contains("Inactive"), "{row}");
    assert!(
        key_status(&root, "dev-alice")
            .await
            .contains(&(leaked.clone(), "Inactive".into()))
    );
    // The checklist verifies containment from what IAM says now.
    t.keys(&["5"]);
    // Not "Checklist": the header's "checklist 8/17 done" matches before the tab is drawn.
    let screen = t.wait_for("Leaked keys inactive or deleted", Duration::from_secs(5));
    assert!(
        screen
            .lines()
            .any(|l| l.contains('✓') && l.contains("Leaked keys inactive or deleted")),
        "{screen}"
    );
    t.keys(&["1"]);

    t.keys(&["q"]);
    t.wait_exit(Duration::from_secs(5));
    let text = std::fs::read_to_string(journal.path().join("journal.jsonl")).expect("journal");
    assert!(text.contains("\"kind\":\"intent\"") && text.contains("verified Inactive"));
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_sends_no_mutating_request() {
    let moto = Moto::start_with(MotoOptions {
        record: true,
        ..Default::default()
    });
    let root = aws_root(&moto).await;
    let (me, me_secret) = user_with_keys(&root, "ir-responder", 1).await.remove(0);
    let (leaked, _) = user_with_keys(&root, "dev-alice", 1).await.remove(0);
    let journal = tempfile::tempdir().expect("journal dir");
    let jdir = journal.path().display().to_string();
    let t = Tmux::start(
        &creds(&moto, &me, &me_secret),
        &[
            "--key",
            &leaked,
            "--read-only",
            "--regions",
            "us-east-1",
            "--journal",
            &jdir,
        ],
    );
    let screen = t.wait_for(&leaked, Duration::from_secs(20));
    assert!(screen.contains("READ-ONLY"), "{screen}");
    // Every destructive key, each followed by what would confirm it.
    // Back on the Keys tab before each: with no dialog open, a digit in the typed key id moves
    // to another tab.
    for k in ["d", "e", "D", "R", "x"] {
        t.keys(&["1", k]);
        t.type_text(&leaked[16..]);
        t.keys(&["Enter", "Escape"]);
    }
    t.keys(&["1", "d"]);
    let screen = t.wait_for(
        "READ-ONLY: keyspill was started with --read-only",
        Duration::from_secs(5),
    );
    assert!(!screen.contains("to confirm"), "no dialog opens: {screen}");
    t.keys(&["r"]);
    std::thread::sleep(Duration::from_millis(1500));
    let requests = moto.recorded_requests();
    assert!(
        requests.iter().any(|r| r.contains("Action=ListUsers")),
        "it did read: {requests:?}"
    );
    for mutating in [
        "UpdateAccessKey",
        "DeleteAccessKey",
        "CreateAccessKey",
        "PutUserPolicy",
    ] {
        let sent: Vec<&String> = requests
            .iter()
            .filter(|r| r.contains(&format!("Action={mutating}")))
            .collect();
        // The seeding above created keys itself, before the console started.
        let allowed = if mutating == "CreateAccessKey" { 2 } else { 0 };
        assert_eq!(sent.len(), allowed, "{mutating} was sent: {sent:?}");
    }
    assert_eq!(
        key_status(&root, "dev-alice").await,
        vec![(leaked, "Active".to_string())]
    );
}

#[test]
fn the_first_frame_explains_an_unreachable_endpoint() {
    let t = start_offline(&["--key", "AKIAIOSFODNN7EXAMPLE"]);
    let screen = t.wait_for("Cannot tell who keyspill runs as", Duration::from_secs(20));
    assert!(screen.contains("cannot reach the AWS endpoint"), "{screen}");
    assert!(screen.contains("LIVE"), "{screen}");
    t.keys(&["q"]);
}

#[test]
fn the_first_frame_explains_missing_credentials() {
    let endpoint = dead_endpoint();
    let t = Tmux::start(
        &[("AWS_REGION", "us-east-1".to_string())],
        &["--endpoint-url", &endpoint],
    );
    let screen = t.wait_for("no AWS credentials found", Duration::from_secs(20));
    assert!(
        screen.contains("Cannot tell who keyspill runs as"),
        "{screen}"
    );
    t.keys(&["q"]);
}

#[test]
fn bad_flags_exit_with_code_2_and_say_why() {
    let out = Command::new(env!("CARGO_BIN_EXE_keyspill"))
        .args(["--key", "AKIA-not-a-key"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not an access key id"), "{err}");
    // An unknown game-day scenario is a usage error too, and names the built-in ones.
    let out = Command::new(env!("CARGO_BIN_EXE_keyspill"))
        .args(["gameday", "--scenario", "nope"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nope"), "{err}");
    // `--list` names the four scenarios, one line each with what it is about.
    let list = Command::new(env!("CARGO_BIN_EXE_keyspill"))
        .args(["gameday", "--list"])
        .output()
        .expect("runs");
    assert_eq!(list.status.code(), Some(0));
    let list = String::from_utf8_lossy(&list.stdout);
    for name in [
        "github-leak",
        "role-trust-backdoor",
        "data-theft",
        "lambda-persistence",
    ] {
        assert!(err.contains(name), "{err}");
        assert!(
            list.lines()
                .any(|l| l.starts_with(name) && l.len() > name.len() + 10),
            "{list}"
        );
    }
    let out = Command::new(env!("CARGO_BIN_EXE_keyspill"))
        .arg("--help")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--profile",
        "--region",
        "--regions",
        "--endpoint-url",
        "--key",
        "--since",
        "--read-only",
        "--theme",
        "--journal",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn the_timeline_tab_shows_what_the_key_and_its_sessions_did() {
    let logs = common::project_root().join("../shared/data/cloudtrail/stratus-red-team");
    let journal = tempfile::tempdir().expect("journal dir");
    let jdir = journal.path().display().to_string();
    let t = start_offline(&[
        "--key",
        "AKIAWOGXN38MFN92ING5",
        "--logs",
        logs.to_str().expect("utf-8 path"),
        "--journal",
        &jdir,
    ]);
    t.keys(&["2"]);
    // The first pass finds the AssumeRole calls (and so the sessions); the sessions' own
    // calls arrive with the second pass, for the new keys.
    let screen = t.wait_for("GetPasswordData", Duration::from_secs(20));
    assert!(screen.contains("2 derived keys"), "{screen}");
    assert!(screen.contains("cred-access"), "{screen}");
    // The errors quick filter (after "since the leak" and "high-risk"), then the raw record
    // of the selected event.
    t.keys(&["f", "f", "f"]);
    t.wait_for("errors", Duration::from_secs(5));
    t.keys(&["Enter"]);
    let screen = t.wait_for("\"eventName\": \"GetPasswordData\"", Duration::from_secs(5));
    assert!(
        screen.contains("AKIA…ING5 → AssumeRole"),
        "the chain: {screen}"
    );
    t.keys(&["m"]);
    t.wait_for("marked as evidence", Duration::from_secs(5));
    t.keys(&["Escape", "q"]);
    t.wait_exit(Duration::from_secs(5));
    let text = std::fs::read_to_string(journal.path().join("journal.jsonl")).expect("journal");
    assert!(text.contains("\"kind\":\"evidence\""), "{text}");
    assert!(text.contains("GetPasswordData"), "{text}");
}
