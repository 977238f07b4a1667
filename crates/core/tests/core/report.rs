//! `keyspill report`: the incident report written from a journal directory alone.
//!
//! `fixtures/report/incident` is a whole incident: opened, a second key marked leaked,
//! evidence, a snapshot, three keys disabled, a removal with a failed step and a step whose
//! outcome was never written (the process died mid-write: a torn line, then a restart that
//! re-verified it), a key deleted, a rotation, ticks and unticks around a second snapshot,
//! notes, milestones, and a third snapshot cut off as the last line.
//! `fixtures/report/no-snapshot` is an older incident: no snapshot, milestone or tick.

use std::path::{Path, PathBuf};

use keyspill_core::report::{self, Fate, Format, Report, StateFrom, StepOutcome};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/report")
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
    report::load(&fixture("incident")).expect("the fixture reads")
}

fn resource<'a>(r: &'a Report, id: &str) -> &'a report::ResourceRow {
    r.resources
        .iter()
        .find(|x| x.id == id)
        .unwrap_or_else(|| panic!("no resource {id}"))
}

fn step<'a>(r: &'a Report, action: &str, step: u32) -> &'a report::StepRow {
    r.actions
        .iter()
        .find(|a| a.id == action)
        .and_then(|a| a.steps.iter().find(|s| s.step == step))
        .unwrap_or_else(|| panic!("no step {action}/{step}"))
}

#[test]
fn the_markdown_report() {
    insta::assert_snapshot!("incident_md", report::markdown(&incident()));
}

#[test]
fn summary_and_times_to_contain() {
    let r = incident();
    assert_eq!(r.summary.account.as_deref(), Some("123456789012"));
    assert_eq!(
        r.summary.caller.as_deref(),
        Some("arn:aws:iam::123456789012:user/ic-admin")
    );
    assert_eq!(
        r.summary.leaked_keys,
        ["AKIAQ3EGUYRLEAK01234", "AKIAQ3EGUYRLEAK05678"]
    );
    assert_eq!(
        r.summary.leak_start.as_deref(),
        Some("2026-11-22T09:14:00Z")
    );
    assert_eq!(r.summary.opened.as_deref(), Some("2026-11-22T09:58:12Z"));
    assert_eq!(r.summary.operators, ["ic@laptop", "bob@desk"]);

    // The journal is an older one: its `Detected` entry is the leak's start, so detection is
    // the incident's opening, 09:58:12; contained 10:26:30.
    let ttc = r.time_to_contain.as_ref().expect("contained");
    assert_eq!(ttc.seconds, 28 * 60 + 18);
    assert_eq!(ttc.words, "28 min");
    let ttd = r.time_to_detect.as_ref().expect("detected");
    assert_eq!(ttd.seconds, 44 * 60 + 12);
    assert!(r.time_to_eradicate.is_none(), "a resource removal failed");
    let reached: Vec<Option<&str>> = r.milestones.iter().map(|m| m.at.as_deref()).collect();
    assert_eq!(
        reached,
        [
            Some("2026-11-22T09:58:12Z"),
            Some("2026-11-22T10:26:30Z"),
            None,
            None
        ]
    );
    assert!(r.milestones[0].derived && !r.milestones[1].derived);
    let md = report::markdown(&r);
    assert!(md.contains("| Time to contain | 28 min |"), "{md}");
    assert!(md.contains("| Time to eradicate | not reached |"));
}

#[test]
fn the_later_snapshot_wins() {
    let r = incident();
    assert_eq!(
        r.journal.snapshots, 2,
        "the torn third one is not a snapshot"
    );
    assert_eq!(
        r.journal.snapshot_at.as_deref(),
        Some("2026-11-22T11:20:00Z")
    );
    let cost = r.cost.as_ref().expect("cost");
    assert_eq!(cost.since_leak_cents, 1_284_377);
    assert_eq!(cost.cost_explorer_requests, 1342);
    assert_eq!(r.high_risk.len(), 6);
    assert_eq!(r.high_risk[5].name, "StopLogging");
    assert_eq!(r.high_risk[5].error.as_deref(), Some("AccessDenied"));
    let k1 = r
        .keys
        .iter()
        .find(|k| k.key_id == "AKIAQ3EGUYRLEAK01234")
        .expect("k1");
    assert_eq!(
        (k1.status.as_str(), k1.status_from),
        ("Inactive", StateFrom::Snapshot)
    );
    let md = report::markdown(&r);
    assert!(
        md.contains("| Spent since the leak | USD 12,843.77 |"),
        "{md}"
    );
    assert!(md.contains("| Daily since the leak (average) | USD 6,421.88 (+USD 6,380.68 a day) |"));
    assert!(
        !md.contains("482.10"),
        "the first snapshot's cost is not used"
    );
    // The field counts Cost Explorer requests (`app::cost::Cost::requests`), and says so.
    assert!(md.contains("| Cost Explorer requests keyspill made (USD 0.01 each) | 1,342 |"));
    assert!(!md.contains("LookupEvents requests"));
}

#[test]
fn removed_resources_say_who_made_them_and_legitimate_ones_are_listed_plainly() {
    let r = incident();
    // The group is gone from the last snapshot; the one taken before it still names its maker.
    let asg = r
        .resources
        .iter()
        .find(|x| x.id == "xmr-workers")
        .expect("asg");
    assert!(!asg.in_snapshot);
    assert_eq!(asg.fate, Fate::Removed);
    assert_eq!(asg.verdict.as_deref(), Some("LEAKED KEY"));
    let m = asg.made_by.as_ref().expect("its maker");
    assert_eq!(
        (m.key.as_str(), m.principal.as_deref(), m.via.as_str()),
        (
            "AKIAQ3EGUYRATTCK9999",
            Some("backup-svc"),
            "CreateAutoScalingGroup"
        )
    );
    let md = report::markdown(&r);
    assert!(
        md.contains("by AKIA…9999 (backup-svc) at 2026-11-22T09:41Z via `CreateAutoScalingGroup`"),
        "{md}"
    );
    // The launch template was there before the leak: a plain line, not a bold failure.
    let left = md
        .split("Left in place (there before the leak: the organisation's own):\n\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no left-in-place list:\n{md}"));
    assert!(
        left.lines()
            .any(|l| l == "- launch-template `lt-07f5e4d3c2b1a0987` web-lt (eu-west-1)"),
        "{left}"
    );
    // The AMI is the organisation's too, shared out by the attacker: left, with what to review.
    let ami = r
        .resources
        .iter()
        .find(|x| x.id == "ami-0d1e2f3a4b5c6d7e8")
        .expect("ami");
    assert_eq!(ami.fate, Fate::Left);
    assert!(
        left.lines().any(|l| l
            == "- ami `ami-0d1e2f3a4b5c6d7e8` golden-web-2026-10 (eu-west-1): there before the \
                leak, touched by the attacker (shared with 999988887777): review what changed"),
        "{left}"
    );
    assert!(!md.contains("lt-07f5e4d3c2b1a0987` | eu-west-1"));
    assert!(
        md.contains("**not attempted**"),
        "the attacker's group not dealt with stays bold"
    );
    // No collateral: the keys disabled were leaked or the attacker's, the template was left.
    assert!(
        report::collateral(&r).is_empty(),
        "{:?}",
        report::collateral(&r)
    );
}

#[test]
fn keys_and_their_final_state() {
    let r = incident();
    let find = |id: &str| r.keys.iter().find(|k| k.key_id == id).expect(id);
    let attacker = find("AKIAQ3EGUYRATTCK9999");
    assert_eq!(attacker.status, "deleted");
    assert!(attacker.new_after_leak && !attacker.leaked);
    let rotated = find("AKIAQ3EGUYRNEWKEY001");
    assert!(rotated.created_by_response);
    assert_eq!(rotated.status, "Active");
    assert_eq!(r.keys.len(), 4);
}

#[test]
fn failed_and_unknown_steps_are_shown() {
    let r = incident();
    let removal = "19a4f3a6b20-1";
    assert_eq!(step(&r, removal, 3).outcome, StepOutcome::Failed);
    let crashed = step(&r, removal, 4);
    assert_eq!(crashed.outcome, StepOutcome::Unknown);
    assert!(crashed.outcome_at.is_none());
    assert!(
        crashed
            .reverified
            .as_ref()
            .is_some_and(|v| v.detail.ends_with("is gone"))
    );
    let a = r.actions.iter().find(|a| a.id == removal).expect("removal");
    assert_eq!(a.steps.len(), 5);
    assert_eq!(a.result, "1 outcome unknown, 1 failed, 3 ok");
    assert_eq!(r.actions.len(), 4);
    assert!(
        r.actions
            .iter()
            .filter(|a| a.id != removal)
            .all(|a| a.result == "done")
    );

    let md = report::markdown(&r);
    assert!(md.contains(
        "| 3 | 2026-11-22T10:41Z | `lambda:DeleteFunction` | lambda sys-update (us-east-1) | **failed** |"
    ));
    assert!(md.contains(
        "| 4 | 2026-11-22T10:41Z | `ec2:DeleteKeyPair` | key-pair key-0a1b2c3d4e5f60718 (eu-west-1) | **outcome unknown** | re-verified 2026-11-22T10:44Z: ec2:DeleteKeyPair → key-pair key-0a1b2c3d4e5f60718 (eu-west-1) is gone |"
    ));
}

#[test]
fn resources_are_joined_with_what_was_done() {
    let r = incident();
    let fates: Vec<(&str, Fate, bool)> = r
        .resources
        .iter()
        .map(|x| (x.id.as_str(), x.fate, x.in_snapshot))
        .collect();
    assert_eq!(
        fates,
        [
            ("i-0f3a9c2e7b1d4a5c6", Fate::Removed, true),
            ("sys-update", Fate::Failed, true),
            ("sg-0badc0ffee1234567", Fate::NotAttempted, true),
            ("ami-0d1e2f3a4b5c6d7e8", Fate::Left, true),
            (
                "arn:aws:sagemaker:us-west-2:123456789012:notebook-instance/nb-x",
                Fate::NotAttempted,
                true
            ),
            ("lt-07f5e4d3c2b1a0987", Fate::Left, true),
            // Gone before the last sweep: known from the action log only.
            ("xmr-workers", Fate::Removed, false),
            ("key-0a1b2c3d4e5f60718", Fate::OutcomeUnknown, false),
        ]
    );
    assert_eq!(
        resource(&r, "i-0f3a9c2e7b1d4a5c6").calls,
        ["ec2:ModifyInstanceAttribute", "ec2:TerminateInstances"]
    );
    assert!(resource(&r, "sys-update").detail.contains("AccessDenied"));
    assert!(
        resource(&r, "key-0a1b2c3d4e5f60718")
            .detail
            .contains("re-verified")
    );
    let md = report::markdown(&r);
    assert!(
        md.contains(
            "8 resources: 2 removed, 1 failed, 1 outcome unknown, 2 not attempted, 2 left."
        )
    );
}

#[test]
fn ticks_after_the_snapshot_override_it() {
    let r = incident();
    let find = |id: &str| r.checklist.iter().find(|c| c.id == id).expect(id);
    assert_eq!(r.checklist.len(), 16);
    let prevent = find("prevent");
    assert_eq!(prevent.status, "ticked");
    assert_eq!(prevent.by.as_deref(), Some("bob@desk"));
    assert_eq!(prevent.at.as_deref(), Some("2026-11-22T11:30:00Z"));
    let support = find("support-case");
    assert_eq!(support.status, "open", "unticked after the snapshot");
    assert!(support.by.is_none());
    assert_eq!(find("stop-exposure").by.as_deref(), Some("bob@desk"));
    assert_eq!(find("attacker-compute").status, "failing");
    assert_eq!(r.notes.len(), 3);
    assert_eq!(r.notes[0].step_title.as_deref(), Some("Stop the exposure"));
    assert!(r.notes[1].step.is_none());
}

#[test]
fn unreadable_lines_are_counted() {
    let r = incident();
    assert_eq!(r.journal.entries, 40);
    assert_eq!(r.journal.unreadable.len(), 2, "{:?}", r.journal.unreadable);
    assert!(r.journal.unreadable[0].starts_with("line 27:"));
    assert!(r.journal.unreadable[1].starts_with("last line, cut off mid-write:"));
    let md = report::markdown(&r);
    assert!(md.contains("**2 lines of the journal could not be read**"));
}

#[test]
fn the_json_parses_back_with_its_fields() {
    let r = incident();
    let text = report::json(&r);
    let back: Report = serde_json::from_str(&text).expect("parses back");
    assert_eq!(back, r);
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["summary"]["account"], "123456789012");
    assert_eq!(v["time_to_contain"]["seconds"], 28 * 60 + 18);
    assert_eq!(v["time_to_contain"]["words"], "28 min");
    assert_eq!(v["time_to_detect"]["seconds"], 44 * 60 + 12);
    assert_eq!(v["cost"]["cost_explorer_requests"], 1342);
    // The new parts, in the JSON too.
    assert!(
        v["story"]
            .as_str()
            .is_some_and(|t| t.contains("It was detected at"))
    );
    assert_eq!(v["attacker"][2]["phase"], "impact");
    assert_eq!(v["attacker"][2]["refused"][0]["name"], "RunInstances");
    assert_eq!(
        v["resources"][6]["made_by"]["via"],
        "CreateAutoScalingGroup"
    );
    assert_eq!(v["milestones"][1]["milestone"], "contained");
    assert_eq!(v["keys"][0]["status_from"], "snapshot");
    assert_eq!(v["resources"][1]["fate"], "failed");
    assert_eq!(v["resources"][7]["fate"], "outcome_unknown");
    assert_eq!(v["cost"]["since_leak_cents"], 1_284_377);
    assert_eq!(
        v["cost"]["top_services"][0]["service"],
        "Amazon Elastic Compute Cloud - Compute"
    );
    assert_eq!(v["actions"][1]["steps"][4]["outcome"], "unknown");
    assert_eq!(v["checklist"][15]["status"], "ticked");
    assert_eq!(v["journal"]["unreadable"].as_array().map(Vec::len), Some(2));
    for field in [
        "summary",
        "milestones",
        "time_to_contain",
        "time_to_eradicate",
        "keys",
        "high_risk",
        "timeline_totals",
        "evidence",
        "resources",
        "cost",
        "checklist",
        "actions",
        "notes",
        "journal",
    ] {
        assert!(v.get(field).is_some(), "no {field}");
    }
}

#[test]
fn an_older_journal_without_a_snapshot() {
    let r = report::load(&fixture("no-snapshot")).expect("reads");
    assert_eq!(r.journal.snapshots, 0);
    assert!(r.journal.unreadable.is_empty());
    assert_eq!(
        r.summary.leak_start_from.as_deref(),
        Some("leaked key created")
    );
    // No milestone entries: detection is the incident's opening, containment the disable.
    assert!(r.milestones[0].derived && r.milestones[1].derived);
    assert_eq!(r.milestones[0].at.as_deref(), Some("2026-10-03T14:02:00Z"));
    assert_eq!(r.milestones[1].at.as_deref(), Some("2026-10-03T14:09:32Z"));
    assert_eq!(
        r.time_to_detect.as_ref().map(|s| s.words.as_str()),
        Some("7 h 32 min")
    );
    assert_eq!(
        r.time_to_contain.as_ref().map(|s| s.words.as_str()),
        Some("7 min")
    );
    assert_eq!(r.keys.len(), 1);
    assert_eq!(r.keys[0].status, "Inactive");
    assert_eq!(r.keys[0].status_from, StateFrom::ActionLog);
    assert!(r.resources.is_empty() && r.checklist.is_empty() && r.cost.is_none());
    insta::assert_snapshot!("no_snapshot_md", report::markdown(&r));
}

#[test]
fn write_puts_the_report_into_the_journal_directory() {
    let dir = copy("incident");
    let md = report::write(dir.path(), Format::Md).expect("writes");
    assert_eq!(md, dir.path().join("report.md"));
    let text = std::fs::read_to_string(&md).expect("read");
    assert_eq!(text, report::markdown(&incident()));
    let json = report::write(dir.path(), Format::Json).expect("writes");
    assert_eq!(json, dir.path().join("report.json"));
    let back: Report =
        serde_json::from_str(&std::fs::read_to_string(json).expect("read")).expect("parses");
    assert_eq!(back, incident());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("ls")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert!(report::write(tempfile::tempdir().expect("tmp").path(), Format::Md).is_err());
}

/// The report reads a journal the way a restart does: same entries, same lines skipped.
#[test]
fn entries_agree_with_read_back() {
    for name in ["incident", "no-snapshot"] {
        let raw = std::fs::read(fixture(name).join("journal.jsonl")).expect("read");
        let (entries, torn, bad) = keyspill_core::journal::entries(&raw);
        let resumed = keyspill_core::journal::read_back(&raw);
        assert_eq!(entries.len(), resumed.entries, "{name}");
        assert_eq!(torn, resumed.torn_tail, "{name}");
        assert_eq!(bad, resumed.bad_lines, "{name}");
    }
}

/// The README's sample report, between its markers, as the fixture gives it now. With
/// `KEYSPILL_WRITE_README=1` the test writes the sample instead of comparing.
#[test]
fn the_readme_sample_report_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let (start, end) = (
        "<!-- sample-report:start -->\n",
        "<!-- sample-report:end -->",
    );
    let a = readme.find(start).expect("start marker") + start.len();
    let b = readme.find(end).expect("end marker");
    let sample = format!("````markdown\n{}````\n", report::markdown(&incident()));
    if std::env::var_os("KEYSPILL_WRITE_README").is_some() {
        let text = format!("{}{sample}{}", &readme[..a], &readme[b..]);
        std::fs::write(&path, text).expect("write README.md");
        return;
    }
    assert!(
        readme[a..b] == sample,
        "the README's sample report differs from what the fixture gives; \
         rerun with KEYSPILL_WRITE_README=1 and review the diff"
    );
}
