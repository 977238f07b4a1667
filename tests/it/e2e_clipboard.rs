//! `y`/`Y` in the real binary: the OSC 52 sequence reaches the terminal. tmux with
//! `set-clipboard on` takes an application's OSC 52 into its own paste buffer, which is what
//! this reads back. And `--operator` names the journal's entries.

use crate::common;
use std::time::{Duration, Instant};

use common::tmux::{Tmux, start_offline};

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
    let t = start_offline(&[
        "--regions",
        "us-east-1",
        "--journal",
        &jdir,
        "--operator",
        "dana@ir-laptop",
    ]);
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
    t.wait_exit(Duration::from_secs(5));
    let text = std::fs::read_to_string(journal.path().join("journal.jsonl")).expect("journal");
    let first = text.lines().next().expect("an entry");
    assert!(first.contains("\"operator\":\"dana@ir-laptop\""), "{first}");
    assert!(
        text.lines()
            .all(|l| l.contains("\"operator\":\"dana@ir-laptop\"")),
        "{text}"
    );
}

/// Rotation in the real binary: the new secret is masked on screen until `v` twice, `w`
/// writes it 0600 into the incident directory, and the journal has the path, not the secret.
#[tokio::test(flavor = "multi_thread")]
async fn the_rotated_secret_stays_masked_until_revealed_and_is_written_0600_beside_the_journal() {
    use common::tmux::creds;
    use common::{Moto, aws_root, user_with_keys};
    use std::os::unix::fs::PermissionsExt;

    let moto = Moto::start();
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
            "--regions",
            "us-east-1",
            "--journal",
            &jdir,
        ],
    );
    t.wait_for(&leaked, Duration::from_secs(20));
    t.keys(&["R"]);
    t.wait_for("to confirm", Duration::from_secs(5));
    t.type_text(&leaked[16..]);
    t.keys(&["Enter"]);
    let masked = t.wait_for("store the secret now", Duration::from_secs(20));
    assert!(masked.contains("(masked)"), "{masked}");

    t.keys(&["v"]);
    t.wait_for("visible to the whole room", Duration::from_secs(5));
    t.keys(&["v"]);
    let shown = t.wait_for("(shown)", Duration::from_secs(5));
    let secret = shown
        .lines()
        .find_map(|l| {
            let rest = l.split("Secret access key").nth(1)?;
            rest.split_whitespace().next().map(str::to_string)
        })
        .expect("the secret's line");
    assert_eq!(secret.len(), 40, "{shown}");
    assert!(
        !masked.contains(&secret),
        "shown before the reveal:\n{masked}"
    );
    t.keys(&["v"]);
    let hidden = t.wait_for("(masked)", Duration::from_secs(5));
    assert!(!hidden.contains(&secret), "{hidden}");

    t.keys(&["w"]);
    t.wait_for("Write to", Duration::from_secs(5));
    t.keys(&["Enter"]);
    t.wait_for("written to", Duration::from_secs(5));
    let file = std::fs::read_dir(journal.path())
        .expect("incident dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".credentials.csv"))
        .expect("the credentials file beside the journal");
    let mode = std::fs::metadata(&file).expect("meta").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(
        std::fs::read_to_string(&file)
            .expect("read")
            .contains(&secret)
    );

    t.keys(&["Enter"]);
    // The secret is shown as soon as the key exists; the rotation then disables the old key
    // and reads it back. Quitting before that ends asks first (by design): wait for it.
    t.wait_for("verified Inactive", Duration::from_secs(20));
    t.keys(&["q"]);
    t.wait_exit(Duration::from_secs(10));
    let text = std::fs::read_to_string(journal.path().join("journal.jsonl")).expect("journal");
    assert!(!text.contains(&secret), "the secret is in the journal");
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
    assert!(
        text.lines()
            .any(|l| l.contains("\"kind\":\"secret_handled\"")
                && name.as_deref().is_some_and(|n| l.contains(n))),
        "{text}"
    );
    assert!(text.contains("shown on screen"), "{text}");
}
