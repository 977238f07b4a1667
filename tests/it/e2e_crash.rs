//! Crash safety end to end: keyspill is killed (SIGKILL) while an action's AWS call is in
//! flight, between the intent written to the journal and its outcome. The next start on the
//! same journal shows the step as having an unknown outcome, re-verifies it against AWS, and
//! every journal line is whole.

use crate::common;
use crate::http::{Server, forward, read_request};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::tmux::{Tmux, creds};
use common::{Moto, aws_root, key_status, user_with_keys};

/// A proxy in front of moto that never answers `iam:UpdateAccessKey` (the call hangs, as on
/// a network that went away) while `holding` is set, and forwards everything else. One
/// request per connection: moto closes after each answer anyway.
fn start_proxy(moto_port: u16, holding: Arc<AtomicBool>) -> Server {
    Server::start_raw(move |mut conn| {
        let Some(request) = read_request(&mut conn, &mut Vec::new()) else {
            return;
        };
        if holding.load(Ordering::SeqCst) && request.text().contains("Action=UpdateAccessKey") {
            // Hold the connection open and never answer.
            std::thread::sleep(Duration::from_secs(120));
            return;
        }
        let _ = conn.write_all(&forward(moto_port, &request));
    })
}

fn journal_lines(dir: &std::path::Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join("journal.jsonl")).expect("journal");
    assert!(text.ends_with('\n'), "the last line is whole");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kill_between_intent_and_outcome_is_reverified_on_the_next_start() {
    let moto = Moto::start();
    let root = aws_root(&moto).await;
    let (me, me_secret) = user_with_keys(&root, "ir-responder", 1).await.remove(0);
    let (leaked, _) = user_with_keys(&root, "dev-alice", 1).await.remove(0);
    let holding = Arc::new(AtomicBool::new(true));
    let proxy = start_proxy(moto.port, holding.clone());
    let journal = tempfile::tempdir().expect("journal dir");
    let jdir = journal.path().display().to_string();

    let mut env = creds(&moto, &me, &me_secret);
    for (k, v) in env.iter_mut() {
        if *k == "AWS_ENDPOINT_URL" {
            *v = proxy.endpoint();
        }
    }
    let args = [
        "--key",
        leaked.as_str(),
        "--regions",
        "us-east-1",
        "--journal",
        jdir.as_str(),
    ];
    let first = Tmux::start(&env, &args);
    first.wait_for(&leaked, Duration::from_secs(30));
    first.keys(&["d"]);
    first.wait_for("to confirm", Duration::from_secs(5));
    first.type_text(&leaked[16..]);
    first.keys(&["Enter"]);
    // Wait until the intent is on disk, then kill the process outright.
    let start = Instant::now();
    loop {
        let text =
            std::fs::read_to_string(journal.path().join("journal.jsonl")).unwrap_or_default();
        if text.contains("\"kind\":\"intent\"") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no intent written:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid = first.tmux(&["display-message", "-p", "-t", "main", "#{pane_pid}"]);
    let status = std::process::Command::new("kill")
        .args(["-KILL", pid.trim()])
        .status()
        .expect("kill");
    assert!(status.success());
    drop(first);

    let lines = journal_lines(journal.path());
    assert!(lines.iter().any(|l| l["kind"] == "intent"));
    assert!(!lines.iter().any(|l| l["kind"] == "outcome"));
    // The call never reached IAM: the key is still Active.
    assert!(
        key_status(&root, "dev-alice")
            .await
            .contains(&(leaked.clone(), "Active".into()))
    );

    // Start again on the same journal, the network back.
    holding.store(false, Ordering::SeqCst);
    let second = Tmux::start(&env, &args);
    let screen = second.wait_for("re-verified", Duration::from_secs(30));
    assert!(screen.contains("is Active"), "{screen}");
    let lines = journal_lines(journal.path());
    let reverified = lines
        .iter()
        .find(|l| l["kind"] == "reverified")
        .expect("a reverified entry");
    assert!(
        reverified["detail"]
            .as_str()
            .is_some_and(|d| d.contains("is Active")),
        "{reverified}"
    );
}
