//! `keyspill report` through the binary: the report from a journal directory alone, on
//! stdout or to a file, and the incident it picks without `--journal`.

use std::path::{Path, PathBuf};
use std::process::Command;

use keyspill_core::report::{self, Report};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/core/tests/fixtures/report")
        .join(name)
}

/// A copy of a fixture's directory, as someone would copy an incident to another machine.
fn copy(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        fixture(name).join("journal.jsonl"),
        dir.path().join("journal.jsonl"),
    )
    .expect("copy the journal");
    dir
}

fn incident() -> Report {
    report::load(&fixture("incident")).expect("the fixture loads")
}

fn keyspill() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_keyspill"));
    // No AWS anywhere: a report needs none.
    c.env_remove("AWS_PROFILE")
        .env("AWS_ACCESS_KEY_ID", "")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
    c
}

#[test]
fn the_cli_writes_markdown_to_stdout() {
    let dir = copy("incident");
    let out = keyspill()
        .args(["report", "--journal"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        report::markdown(&incident())
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("2 lines of the journal could not be read"),
        "{err}"
    );

    // The journal file itself names its directory.
    let out = keyspill()
        .args(["report", "--journal"])
        .arg(dir.path().join("journal.jsonl"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("# Incident report: account 123456789012")
    );
}

#[test]
fn the_cli_writes_json_to_a_file() {
    let dir = copy("incident");
    let file = dir.path().join("out.json");
    let out = keyspill()
        .args(["report", "--format", "json", "--journal"])
        .arg(dir.path())
        .arg("--out")
        .arg(&file)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrote"));
    let back: Report =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("written")).expect("json");
    assert_eq!(back, incident());
}

#[test]
fn the_cli_refuses_a_directory_without_a_journal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = keyspill()
        .args(["report", "--journal"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("holds no incident journal (journal.jsonl)"),
        "{err}"
    );
    assert!(err.contains("--journal DIR"), "{err}");
}

/// Without --journal: the newest incident under the state directory, named on stderr.
#[cfg(target_os = "linux")]
#[test]
fn the_cli_picks_the_newest_incident() {
    let state = tempfile::tempdir().expect("tempdir");
    let incidents = state.path().join("keyspill/incidents");
    let old = incidents.join("210987654321-2026-10-03");
    let new = incidents.join("123456789012-2026-11-22");
    for (dir, name) in [(&old, "no-snapshot"), (&new, "incident")] {
        std::fs::create_dir_all(dir).expect("mkdir");
        std::fs::copy(
            fixture(name).join("journal.jsonl"),
            dir.join("journal.jsonl"),
        )
        .expect("copy");
    }
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(86_400);
    std::fs::File::options()
        .write(true)
        .open(old.join("journal.jsonl"))
        .and_then(|f| f.set_modified(past))
        .expect("age the old journal");
    let out = keyspill()
        .arg("report")
        .env("XDG_STATE_HOME", state.path())
        .env("HOME", state.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("using {}", new.display())), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("account 123456789012"));

    let empty = tempfile::tempdir().expect("tempdir");
    let out = keyspill()
        .arg("report")
        .env("XDG_STATE_HOME", empty.path())
        .env("HOME", empty.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no incident journal under"));
}
