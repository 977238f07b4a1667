//! The console with `--accounts`, the real binary under tmux against moto: a backdoor the
//! leaked key left in a member account shows in the Keys table, on the Resources tab and on
//! the Access tab with its account and is closed or removed there from here; the header says
//! NOT CONTAINED while it stands and while an account cannot be looked into.

use std::time::Duration;

use crate::common::aws_as;
use crate::common::tmux::{Tmux, creds};
use crate::footholds_accounts::{OrgIncident, org_incident};
use keyspill_aws::accounts;

/// The organisation's incident with the console open on it, every account, the leaked key on
/// screen, and the journal's directory.
async fn console() -> (OrgIncident, tempfile::TempDir, Tmux) {
    let incident = org_incident().await;
    let journal = tempfile::tempdir().expect("journal dir");
    let path = incident.trail.to_string_lossy().into_owned();
    let jdir = journal.path().display().to_string();
    let t = Tmux::start(
        &creds(&incident.moto, &incident.responder.0, &incident.responder.1),
        &[
            "--key",
            &incident.leaked,
            "--since",
            &incident.since,
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
    t.wait_for(&incident.leaked, Duration::from_secs(20));
    (incident, journal, t)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_member_account_s_backdoor_and_an_account_not_entered_keep_the_console_not_contained() {
    let (
        OrgIncident {
            moto: _moto,
            workloads,
            sandbox,
            backdoor_key,
            instance,
            // Bound, so that the trail's directory lives as long as the test.
            logs: _logs,
            ..
        },
        _journal,
        t,
    ) = console().await;
    // In the Keys table: the backdoor's key with its account, marked NEW.
    let screen = t.wait_for(&backdoor_key, Duration::from_secs(60));
    assert!(screen.contains("Other accounts"), "{screen}");
    let row = screen
        .lines()
        .find(|l| l.contains(&backdoor_key))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(
        row.contains("ops-backup") && row.contains(&workloads) && row.contains("NEW"),
        "{row}"
    );
    assert!(
        screen.contains(&format!(
            "{sandbox} (sandbox)  not looked into: cannot enter"
        )),
        "{screen}"
    );
    // And how much was made there since the leak started, as rows of the Resources tab.
    let line = screen
        .lines()
        .find(|l| l.contains(&format!("{workloads} (workloads)")))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(
        line.contains("made since the leak started (Resources tab)"),
        "{line}"
    );
    t.keys(&["3"]);
    let screen = t.wait_for(&instance, Duration::from_secs(30));
    let row = screen
        .lines()
        .find(|l| l.contains(&instance))
        .unwrap_or_else(|| panic!("no {instance}:\n{screen}"));
    assert!(
        row.contains(&workloads) && row.contains("us-east-1"),
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

/// The row under the cursor (`▶`) is the one holding `what`; `j` until it is.
fn cursor_to(t: &Tmux, what: &str) {
    for _ in 0..40 {
        let screen = t.screen();
        if screen.lines().any(|l| l.contains('▶') && l.contains(what)) {
            return;
        }
        t.keys(&["j"]);
        std::thread::sleep(Duration::from_millis(150));
    }
    panic!("the cursor never reached {what}:\n{}", t.screen());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_member_account_s_backdoor_key_is_disabled_then_deleted_there_from_this_console() {
    let (
        OrgIncident {
            moto,
            responder,
            workloads,
            backdoor_key,
            // Bound, so that the trail's directory lives as long as the test.
            logs: _logs,
            ..
        },
        journal,
        t,
    ) = console().await;
    t.keys(&["6"]);
    let row = format!("{workloads}:{backdoor_key}");
    t.wait_for(&row, Duration::from_secs(60));
    cursor_to(&t, &row);
    t.keys(&["d"]);
    let screen = t.wait_for("Runs in account", Duration::from_secs(10));
    assert!(
        screen.contains(&format!("In account {workloads} (workloads): disable")),
        "{screen}"
    );
    t.type_text(&backdoor_key[backdoor_key.len() - 4..]);
    t.keys(&["Enter"]);

    // Disabled in that account, as IAM there says.
    let me = aws_as(&moto, &responder.0, &responder.1).await;
    let inside = accounts::enter(&me, None, &workloads, accounts::DEFAULT_ROLE, "aws")
        .await
        .expect("enter the member");
    let mut status = String::new();
    for _ in 0..100 {
        let listed = inside
            .iam
            .list_access_keys()
            .user_name("ops-backup")
            .send()
            .await
            .expect("list the backdoor's keys");
        status = listed
            .access_key_metadata()
            .iter()
            .find(|k| k.access_key_id() == Some(backdoor_key.as_str()))
            .and_then(|k| k.status())
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        if status == "Inactive" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(status, "Inactive", "{}", t.screen());
    // The other accounts are read again at once: the row closes.
    let closed = |s: &str| s.lines().any(|l| l.contains(&row) && l.contains("CLOSED"));
    let mut screen = t.screen();
    for _ in 0..600 {
        if closed(&screen) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
        screen = t.screen();
    }
    assert!(closed(&screen), "{screen}");

    // The journal names the account of the step, and the action's label says it.
    let text = std::fs::read_to_string(journal.path().join("journal.jsonl")).expect("journal");
    let entries: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(
        entries.iter().any(|e| e["kind"] == "intent"
            && e["call"] == "iam:UpdateAccessKey Inactive"
            && e["target"]["account"] == workloads.as_str()
            && e["target"]["key_id"] == backdoor_key.as_str()),
        "{text}"
    );
    assert!(
        entries.iter().any(|e| e["kind"] == "action"
            && e["label"]
                .as_str()
                .is_some_and(|l| l.starts_with(&format!("in account {workloads} (workloads)")))),
        "{text}"
    );

    // And from the Keys table: D on its row deletes it in that account.
    t.keys(&["1"]);
    t.wait_for("ACCOUNT", Duration::from_secs(10));
    cursor_to(&t, &backdoor_key);
    t.keys(&["D"]);
    t.wait_for("Runs in account", Duration::from_secs(10));
    t.type_text(&backdoor_key[backdoor_key.len() - 4..]);
    t.keys(&["Enter"]);
    let mut listed = true;
    for _ in 0..100 {
        listed = inside
            .iam
            .list_access_keys()
            .user_name("ops-backup")
            .send()
            .await
            .expect("list the backdoor's keys")
            .access_key_metadata()
            .iter()
            .any(|k| k.access_key_id() == Some(backdoor_key.as_str()));
        if !listed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(!listed, "{}", t.screen());
    t.keys(&["q"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_member_account_s_instance_is_removed_there_from_the_resources_tab_with_its_evidence() {
    let (
        OrgIncident {
            moto,
            responder,
            workloads,
            instance,
            // Bound, so that the trail's directory lives as long as the test.
            logs: _logs,
            ..
        },
        journal,
        t,
    ) = console().await;
    t.keys(&["3"]);
    t.wait_for(&instance, Duration::from_secs(60));
    // The plan's snapshot has a description with spaces, which moto's checking of signatures
    // rejects (see `relax_auth`); AWS does not.
    moto.relax_auth();
    cursor_to(&t, &instance);
    t.keys(&["t"]);
    let screen = t.wait_for("Runs in account", Duration::from_secs(10));
    assert!(
        screen.contains(&format!(
            "In account {workloads} (workloads): remove 1 resource"
        )),
        "{screen}"
    );
    t.type_text("1");
    t.keys(&["Enter"]);

    // Terminated in that account, as EC2 there says.
    let me = aws_as(&moto, &responder.0, &responder.1).await;
    let inside = accounts::enter(&me, None, &workloads, accounts::DEFAULT_ROLE, "aws")
        .await
        .expect("enter the member");
    let mut state = String::new();
    for _ in 0..150 {
        state = inside
            .ec2_in("us-east-1")
            .describe_instances()
            .instance_ids(&instance)
            .send()
            .await
            .expect("describe the instance")
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter_map(|i| i.state().and_then(|s| s.name()))
            .map(|s| s.as_str().to_string())
            .next()
            .unwrap_or_default();
        if state == "terminated" || state == "shutting-down" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        state == "terminated" || state == "shutting-down",
        "{state}: {}",
        t.screen()
    );
    t.wait_for("steps done", Duration::from_secs(30));

    // Its evidence was kept first, under that account, and the journal says where it ran.
    let manifest = std::fs::read_to_string(journal.path().join("evidence/manifest.jsonl"))
        .expect("the evidence manifest");
    let kept: Vec<serde_json::Value> = manifest
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(
        kept.iter().any(|e| e["id"] == instance.as_str()
            && e["account"] == workloads.as_str()
            && e["file"]
                .as_str()
                .is_some_and(|f| f.starts_with(&format!("account-{workloads}/us-east-1/")))),
        "{manifest}"
    );
    let text = std::fs::read_to_string(journal.path().join("journal.jsonl")).expect("journal");
    assert!(
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .any(|e| e["kind"] == "intent"
                && e["call"] == "ec2:TerminateInstances"
                && e["target"]["account"] == workloads.as_str()
                && e["target"]["resource"]["id"] == instance.as_str()),
        "{text}"
    );
    t.keys(&["q"]);
}
