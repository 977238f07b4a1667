//! The war room's times in the real binary: the header says what the clock counts from and
//! the incident's state in words, `:detected` moves detection (and is refused before the
//! leak started), and the exported report gives the times and the intervals.

use crate::common;
use std::time::{Duration, Instant};

use common::tmux::start_offline;

#[test]
fn the_clock_counts_from_detection_and_detected_can_be_set_and_reported() {
    let journal = tempfile::tempdir().expect("journal dir");
    let jdir = journal.path().display().to_string();
    let t = start_offline(&[
        "--regions",
        "us-east-1",
        "--journal",
        &jdir,
        "--since",
        "2h",
    ]);
    let screen = t.wait_for("since detection", Duration::from_secs(20));
    let header = screen.lines().next().unwrap_or_default().to_string();
    // Detection is the incident's opening: the clock starts near zero, not two hours back.
    assert!(header.contains("T+0m"), "{header}");
    for part in ["NOT CONTAINED", "not eradicated"] {
        assert!(header.contains(part), "{header}");
    }
    assert!(screen.contains("leak started"), "{screen}");

    // Before the leak started: refused, the clock unchanged.
    t.keys(&[":"]);
    t.type_text("detected -3h");
    t.keys(&["Enter"]);
    t.wait_for("before the leak started", Duration::from_secs(5));
    // Forty minutes ago: the clock counts from it.
    t.keys(&[":"]);
    t.type_text("detected -40m");
    t.keys(&["Enter"]);
    let screen = t.wait_for("T+40m", Duration::from_secs(5));
    assert!(
        screen
            .lines()
            .next()
            .unwrap_or_default()
            .contains("since detection"),
        "{screen}"
    );

    t.keys(&[":"]);
    t.type_text("export");
    t.keys(&["Enter"]);
    let report = journal.path().join("report.md");
    let start = Instant::now();
    while !report.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no report written; the screen shows:\n{}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    t.keys(&["q"]);
    t.wait_exit(Duration::from_secs(5));

    let journal_text =
        std::fs::read_to_string(journal.path().join("journal.jsonl")).expect("journal");
    let set: Vec<&str> = journal_text
        .lines()
        .filter(|l| l.contains("\"milestone\":\"detected\"") && l.contains("set by"))
        .collect();
    assert_eq!(set.len(), 1, "{journal_text}");
    let md = std::fs::read_to_string(&report).expect("report");
    assert!(md.contains("## Times"), "{md}");
    // Leak two hours ago, detected forty minutes ago: an hour and twenty minutes to detect.
    assert!(
        md.contains("Time to detect (leak started → detected): 1 h 20 min"),
        "{md}"
    );
    assert!(md.contains("set by"), "{md}");
}
