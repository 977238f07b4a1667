//! The console with `--accounts`, the real binary under tmux against moto: a backdoor the
//! leaked key left in a member account shows under the Keys table and on the Access tab with
//! its account, and the header says NOT CONTAINED while it stands and while an account cannot
//! be looked into.

use std::time::Duration;

use crate::common::tmux::{Tmux, creds};
use crate::footholds_accounts::{OrgIncident, org_incident};

#[tokio::test(flavor = "multi_thread")]
async fn a_member_account_s_backdoor_and_an_account_not_entered_keep_the_console_not_contained() {
    let OrgIncident {
        moto,
        responder,
        leaked,
        workloads,
        sandbox,
        backdoor_key,
        instance,
        trail,
        since,
        // Bound, so that the trail's directory lives as long as the test.
        logs: _logs,
        ..
    } = org_incident().await;
    let journal = tempfile::tempdir().expect("journal dir");
    let path = trail.to_string_lossy().into_owned();
    let jdir = journal.path().display().to_string();
    let t = Tmux::start(
        &creds(&moto, &responder.0, &responder.1),
        &[
            "--key",
            &leaked,
            "--since",
            &since,
            "--regions",
            "us-east-1",
            "--logs",
            &path,
            "--accounts",
            "all",
            "--journal",
            &jdir,
        ],
    );
    t.wait_for(&leaked, Duration::from_secs(20));
    // Under the Keys table: the backdoor's key in its account, marked.
    let screen = t.wait_for(&backdoor_key, Duration::from_secs(60));
    assert!(screen.contains("Other accounts"), "{screen}");
    let row = screen
        .lines()
        .find(|l| l.contains(&backdoor_key))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(
        row.contains("ops-backup") && row.contains("made after the leak started"),
        "{row}"
    );
    assert!(
        screen.contains(&format!(
            "{sandbox} (sandbox)  not looked into: cannot enter"
        )),
        "{screen}"
    );
    // And what it runs in that account since the leak started.
    let row = screen
        .lines()
        .find(|l| l.contains(&instance))
        .unwrap_or_else(|| panic!("no {instance}:\n{screen}"));
    assert!(
        row.contains("made after the leak started") && row.contains("us-east-1"),
        "{row}"
    );
    t.keys(&["6"]);
    let screen = t.wait_for(&format!("{workloads}:ops-backup"), Duration::from_secs(60));
    assert!(screen.contains("NOT CONTAINED"), "{screen}");
    let row = screen
        .lines()
        .find(|l| l.contains(&format!("{workloads}:ops-backup")))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(row.contains("OPEN") && row.contains("(workloads)"), "{row}");
    assert!(
        screen.contains(&format!(
            "not verified: account {sandbox} (sandbox) not looked into"
        )),
        "{screen}"
    );
    t.keys(&["q"]);
}
