//! The game day end to end: `keyspill gameday` under tmux (its own moto, the seeded account,
//! the attacker running), driven by keystrokes: contain on the Access tab (disabling the leaked
//! key is not enough: every open foothold is closed, the vendor trust cleared with a reason,
//! until the header says CONTAINED), eradicate (remove everything the leaked key made, backdoor
//! user included), export the report, and check its milestones and score.

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

/// The permissions view's count of allowed actions (`12 ALLOWED · …`).
fn allowed(screen: &str) -> usize {
    screen
        .lines()
        .find_map(|l| {
            let before = l.split(" ALLOWED").next()?;
            l.contains(" ALLOWED")
                .then(|| before.split_whitespace().last()?.parse().ok())
                .flatten()
        })
        .unwrap_or_else(|| panic!("no ALLOWED count:\n{screen}"))
}

/// The first row of the Access tab and the kind and id it shows, when it is open.
fn first_open(screen: &str) -> Option<(String, String)> {
    let row = screen
        .lines()
        .find(|l| l.contains("OPEN ") && !l.contains("NOT CONTAINED"))?;
    let mut words = row.split_whitespace().skip_while(|w| !w.ends_with("OPEN"));
    words.next()?;
    Some((words.next()?.to_string(), words.next()?.to_string()))
}

/// Closes every open foothold from the Access tab, each the way its kind is closed, until the
/// header says CONTAINED. The attacker keeps working meanwhile: a foothold may open again.
fn contain(t: &Tmux) {
    let start = Instant::now();
    loop {
        t.keys(&["6", "g"]);
        std::thread::sleep(Duration::from_millis(500));
        let screen = t.screen();
        let header = screen.lines().next().unwrap_or_default();
        if header.contains(" CONTAINED ") && !header.contains("NOT CONTAINED") {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "not contained after five minutes:\n{screen}"
        );
        let Some((kind, id)) = first_open(&screen) else {
            // Verified footholds not read yet, or an action still running.
            std::thread::sleep(Duration::from_secs(1));
            continue;
        };
        match kind.as_str() {
            "leaked-key" | "access-key" => {
                t.keys(&["d"]);
                t.wait_for("to confirm", Duration::from_secs(5));
                t.type_text(&id[id.len() - 4..]);
                t.keys(&["Enter"]);
            }
            "session" => {
                t.keys(&["x"]);
                let dialog = t.wait_for("to confirm", Duration::from_secs(5));
                let n = confirmation(&dialog).unwrap_or_else(|| panic!("no count:\n{dialog}"));
                t.type_text(&n);
                t.keys(&["Enter"]);
            }
            "trust" => {
                // The observability vendor's role: reviewed, and cleared with a reason.
                t.keys(&["c"]);
                t.type_text("the observability vendor's read-only role, under contract");
                t.keys(&["Enter"]);
            }
            other => panic!("no way to close a {other} from this test:\n{screen}"),
        }
        // The executor reads the result back; the polls follow.
        std::thread::sleep(Duration::from_secs(3));
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

    // Nothing on screen is an emulator gap: LookupEvents answers in every region (the game
    // serves what moto lacks), and Cost Explorer's anomalies are there, no HTTP 500.
    t.keys(&["2"]);
    let screen = wait_until(
        &t,
        "every LookupEvents region loaded",
        Duration::from_secs(60),
        |s| {
            s.lines().any(|l| {
                l.contains("LookupEvents")
                    && l.contains("regions loaded")
                    && l.contains(" 0 failed")
                    && l.split_whitespace()
                        .find(|w| w.contains('/'))
                        .and_then(|w| w.split_once('/'))
                        .is_some_and(|(a, b)| a == b)
            })
        },
    );
    assert!(!screen.contains('✗'), "{screen}");
    t.keys(&["4"]);
    let screen = wait_until(&t, "the cost anomalies", Duration::from_secs(60), |s| {
        s.contains("AWS anomalies:") && s.contains("BoxUsage:")
    });
    assert!(
        !screen.contains("HTTP 500") && !screen.contains("not available"),
        "{screen}"
    );
    t.keys(&["1"]);
    // The alerts that started it, under the keys: GuardDuty's findings and Health's
    // exposed-key event name the leaked key (the game serves both; moto has neither).
    let screen = wait_until(&t, "the detections", Duration::from_secs(60), |s| {
        s.contains("Detections") && s.contains("AWS_RISK_CREDENTIALS_EXPOSED")
    });
    assert!(screen.contains("PenTest:IAMUser/KaliLinux"), "{screen}");
    assert!(
        !screen.contains("exposed, not tracked"),
        "the only exposed key is the tracked one:\n{screen}"
    );

    // Disabling the leaked key is not containment: its backdoor key and the session it
    // minted still work, and the header says so.
    t.keys(&["g", "d"]);
    t.wait_for("to confirm", Duration::from_secs(5));
    t.type_text(&key[16..]);
    t.keys(&["Enter"]);
    t.wait_for("verified Inactive", Duration::from_secs(30));
    t.keys(&["6"]);
    let screen = wait_until(
        &t,
        "the Access tab after the access poll",
        Duration::from_secs(60),
        |s| s.contains("Access: the attacker's footholds") && s.contains("verified from IAM"),
    );
    let header = screen.lines().next().unwrap_or_default().to_string();
    assert!(header.contains("NOT CONTAINED ("), "{screen}");

    // What the first open foothold can still do: its grid, from the game's live policies;
    // moto has no policy simulator, and the view says so.
    t.keys(&["g", "w"]);
    let screen = wait_until(&t, "the permissions view", Duration::from_secs(20), |s| {
        s.contains("What it can still do") && s.contains("IAM's simulator: not available")
    });
    assert!(allowed(&screen) > 0, "{screen}");
    t.keys(&["Escape"]);

    contain(&t);

    // Contained: the same view on a closed foothold (the last rows) says it can do nothing.
    t.keys(&["6", "G", "w"]);
    let screen = wait_until(
        &t,
        "the closed foothold's grid",
        Duration::from_secs(20),
        |s| s.contains("What it can still do"),
    );
    assert_eq!(allowed(&screen), 0, "{screen}");
    assert!(screen.contains("0 conditional"), "{screen}");
    t.keys(&["Escape"]);

    // Eradicate: remove what the leaked key    // Eradicate: remove what the leaked key (and its backdoor) made, until the checklist
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
    // The footholds as the console last saw them: the vendor trust closed by a person, with
    // the reason, and the leaked key closed.
    let footholds = report
        .split("## Footholds")
        .nth(1)
        .unwrap_or_else(|| panic!("no footholds:\n{report}"));
    assert!(
        footholds.contains("cleared by") && footholds.contains("under contract"),
        "{footholds}"
    );
    assert!(
        footholds
            .lines()
            .any(|l| l.contains("CLOSED") && l.contains("leaked-key") && l.contains(&key)),
        "{footholds}"
    );
    let milestones = report
        .split("## Times")
        .nth(1)
        .unwrap_or_else(|| panic!("no times:\n{report}"));
    for m in ["detected", "contained", "eradicated"] {
        assert!(milestones.contains(m), "{m} missing:\n{milestones}");
    }

    // Quitting ends the game and prints the score.
    t.keys(&["q"]);
    let screen = wait_until(&t, "the score", Duration::from_secs(30), |s| {
        s.contains("game over")
    });
    assert!(screen.contains("contained"), "{screen}");
    assert!(screen.contains("/ 100, grade"), "{screen}");
}
