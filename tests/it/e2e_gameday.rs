//! The game day end to end: `keyspill gameday` under tmux (its own moto, the seeded account,
//! the attacker running), driven by keystrokes: contain (disable the leaked key), eradicate
//! (remove everything the leaked key made, backdoor user included), export the report, and
//! check its milestones and score.

use crate::common;
use std::time::{Duration, Instant};

use common::moto_binary;
use common::tmux::Tmux;

/// The number the plan dialog asks to type.
fn confirmation(screen: &str) -> Option<String> {
    let line = screen.lines().find(|l| l.contains("to confirm:"))?;
    let after = line.split("Type").nth(1)?;
    after.split_whitespace().next().map(str::to_string)
}

fn wait_until(t: &Tmux, what: &str, limit: Duration, ok: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let screen = t.screen();
        if ok(&screen) {
            return screen;
        }
        assert!(
            start.elapsed() < limit,
            "waited {limit:?} for {what}; the screen shows:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Selects what the leaked key made and removes it; returns once the run finished.
fn remove_attacker_resources(t: &Tmux) {
    t.keys(&["3"]);
    wait_until(t, "a finished sweep", Duration::from_secs(60), |s| {
        s.contains("updated") && !s.contains("sweeping")
    });
    t.keys(&["a", "t"]);
    let dialog = t.wait_for("to confirm", Duration::from_secs(10));
    let n = confirmation(&dialog).unwrap_or_else(|| panic!("no count to type:\n{dialog}"));
    t.type_text(&n);
    t.keys(&["Enter"]);
    t.wait_for("finished", Duration::from_secs(90));
    t.keys(&["Escape"]);
}

#[test]
fn contain_eradicate_and_export_the_score() {
    let journal = tempfile::tempdir().expect("journal dir");
    let jdir = journal.path().display().to_string();
    let moto = moto_binary().display().to_string();
    let t = Tmux::start(
        &[],
        &[
            "gameday",
            "--seed",
            "7",
            "--speed",
            "2",
            "--moto",
            &moto,
            "--journal",
            &jdir,
        ],
    );
    // Seeding takes a while (it waits for the attacker's scripted opening).
    let screen = t.wait_for("LEAKED", Duration::from_secs(120));
    let row = screen
        .lines()
        .find(|l| l.contains("LEAKED") && l.contains("Active"))
        .unwrap_or_else(|| panic!("no active leaked key row:\n{screen}"));
    let key = row
        .split_whitespace()
        .find(|w| w.starts_with("AKIA") && w.len() == 20)
        .unwrap_or_else(|| panic!("no key id in {row}"))
        .to_string();

    // Contain: disable the leaked key.
    t.keys(&["g", "d"]);
    t.wait_for("to confirm", Duration::from_secs(5));
    t.type_text(&key[16..]);
    t.keys(&["Enter"]);
    t.wait_for("verified Inactive", Duration::from_secs(30));

    // Eradicate: remove what the leaked key (and its backdoor) made, until the checklist
    // records the milestone (the attacker may add something between two sweeps).
    let start = Instant::now();
    loop {
        remove_attacker_resources(&t);
        t.keys(&["5"]);
        std::thread::sleep(Duration::from_secs(2));
        let screen = t.screen();
        if screen.contains("eradicated 20") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "not eradicated after repeated removals:\n{screen}"
        );
    }

    // Export the report and read its score.
    t.keys(&[":"]);
    t.type_text("export");
    t.keys(&["Enter"]);
    t.wait_for("report written", Duration::from_secs(30));
    let report =
        std::fs::read_to_string(journal.path().join("report.md")).expect("report.md written");
    assert!(report.contains("## Game day score"), "{report}");
    assert!(
        report.contains("Scenario `github-leak`, seed 7"),
        "{report}"
    );
    assert!(
        !report.contains("Time to contain: not contained"),
        "{report}"
    );
    assert!(
        !report.contains("Time to eradicate: not eradicated"),
        "{report}"
    );
    assert!(report.contains(&key), "{report}");
    let milestones = report
        .split("## Milestones")
        .nth(1)
        .unwrap_or_else(|| panic!("no milestones:\n{report}"));
    for m in ["detected", "contained", "eradicated"] {
        assert!(milestones.contains(m), "{m} missing:\n{milestones}");
    }

    // Quitting ends the game and prints the score.
    t.keys(&["q"]);
    let screen = wait_until(&t, "the score", Duration::from_secs(30), |s| {
        s.contains("game over")
    });
    assert!(screen.contains("contained"), "{screen}");
}
