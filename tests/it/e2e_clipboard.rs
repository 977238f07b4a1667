//! `y`/`Y` in the real binary: the OSC 52 sequence reaches the terminal. tmux with
//! `set-clipboard on` takes an application's OSC 52 into its own paste buffer, which is what
//! this reads back. And `--operator` names the journal's entries.

use crate::common;
use std::time::{Duration, Instant};

use common::dead_endpoint;
use common::tmux::Tmux;

/// tmux's newest paste buffer, once it holds something other than `before`.
fn buffer_after(t: &Tmux, before: &str) -> String {
    let start = Instant::now();
    loop {
        let now = t.tmux(&["show-buffer"]);
        if !now.is_empty() && now != before {
            return now;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no OSC 52 reached tmux; the screen shows:\n{}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn y_and_shift_y_reach_the_terminal_clipboard_and_the_operator_names_the_journal() {
    let journal = tempfile::tempdir().expect("journal dir");
    let jdir = journal.path().display().to_string();
    let endpoint = dead_endpoint();
    let t = Tmux::start(
        &[
            ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "x".repeat(40)),
            ("AWS_REGION", "us-east-1".to_string()),
        ],
        &[
            "--endpoint-url",
            &endpoint,
            "--regions",
            "us-east-1",
            "--journal",
            &jdir,
            "--operator",
            "dana@ir-laptop",
        ],
    );
    t.tmux(&["set-option", "-s", "set-clipboard", "on"]);
    t.wait_for("Cannot tell who keyspill runs as", Duration::from_secs(20));

    // The Checklist has rows whatever AWS says: its first step.
    t.keys(&["5"]);
    t.wait_for("Stop the exposure", Duration::from_secs(5));
    t.keys(&["y"]);
    t.wait_for("copied to the clipboard", Duration::from_secs(5));
    let id = buffer_after(&t, "");
    assert_eq!(id, "stop-exposure");

    t.keys(&["Y"]);
    let json = buffer_after(&t, &id);
    let v: serde_json::Value =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("not JSON ({e}): {json}"));
    assert_eq!(v["id"], "stop-exposure");
    assert!(v["status"].is_string(), "{v}");

    t.keys(&["q"]);
    let start = Instant::now();
    while !t.exited() {
        assert!(start.elapsed() < Duration::from_secs(5), "q did not quit");
        std::thread::sleep(Duration::from_millis(100));
    }
    let text = std::fs::read_to_string(journal.path().join("journal.jsonl")).expect("journal");
    let first = text.lines().next().expect("an entry");
    assert!(first.contains("\"operator\":\"dana@ir-laptop\""), "{first}");
    assert!(
        text.lines()
            .all(|l| l.contains("\"operator\":\"dana@ir-laptop\"")),
        "{text}"
    );
}
