//! Evidence before eradication, through the pure core: the plans keep evidence first, `Tab`
//! turns it off only behind a typed warning, `Ctrl-E` chooses how Lambda environment values
//! are saved, `i` isolates and `e` only keeps, read-only refuses every one of them, and what the
//! runtime kept shows in the tab, survives a restart and lands in the report.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use keyspill_core::app::plan::{Plan, SKIP_EVIDENCE_WORD};
use keyspill_core::app::state::{Dialog, State};
use keyspill_core::app::{Effect, Msg, update};
use keyspill_core::journal::{self, Event, ResourceTarget};
use keyspill_core::resources::attribute::{Attribution, Verdict};
use keyspill_core::resources::evidence::{Keep, ManifestEntry};
use keyspill_core::resources::plan::{Purpose, RemovalPlan};
use keyspill_core::resources::{Action, Kind, Resource};

use crate::resources_flow::swept;
use crate::screen::{draw, screen_text};
use keyspill_core::ui::Theme;
use keyspill_core::ui::theme::ThemeName;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn screen(state: &State, w: u16, h: u16) -> Terminal<TestBackend> {
    draw(state, &Theme::new(ThemeName::Default, false), w, h)
}

fn key(state: &mut State, code: KeyCode, modifiers: KeyModifiers) -> Vec<Effect> {
    update(state, Msg::Key(KeyEvent::new(code, modifiers)))
}

fn press(state: &mut State, c: char) -> Vec<Effect> {
    key(state, KeyCode::Char(c), KeyModifiers::NONE)
}

fn type_text(state: &mut State, text: &str) {
    for c in text.chars() {
        press(state, c);
    }
}

fn dialog_plan(state: &State) -> RemovalPlan {
    match &state.dialog {
        Some(Dialog::Confirm(c)) => match &c.plan {
            Plan::RemoveResources(p) => p.clone(),
            other => panic!("not a removal plan: {other:?}"),
        },
        other => panic!("no plan dialog: {other:?}"),
    }
}

fn stage_words(state: &State) -> (String, usize) {
    match &state.dialog {
        Some(Dialog::Confirm(c)) => (
            c.current().map(|s| s.expected.clone()).unwrap_or_default(),
            c.stages.len(),
        ),
        other => panic!("no plan dialog: {other:?}"),
    }
}

fn flash(state: &State) -> String {
    state
        .flash
        .as_ref()
        .map_or(String::new(), |f| f.text.clone())
}

/// The swept fixture with a function the leaked key made, selected with the rest.
fn with_function() -> State {
    let mut s = swept();
    let mut f = Resource::new(Kind::Function, "eu-north-1", "xmr-relay");
    f.state = "Active".into();
    s.resources.resources.push(f.clone());
    s.resources.attribution.push(Attribution {
        verdict: Verdict::LeakedKey,
        events: Vec::new(),
        launched_by: None,
    });
    s.resources.selected.insert(f.reference());
    s
}

#[test]
fn the_removal_plan_keeps_evidence_first_and_tab_turns_it_off_behind_typed_words() {
    let mut s = swept();
    press(&mut s, 'a');
    press(&mut s, 't');
    let plan = dialog_plan(&s);
    assert_eq!(plan.purpose, Purpose::Remove);
    assert!(plan.keeps_evidence() && !plan.skipped_evidence);
    // The group's own instance is kept although only what the key made was selected.
    assert!(
        plan.steps
            .iter()
            .any(|st| st.target.id == "i-0miner" && st.action == Action::Keep(Keep::Volumes))
    );
    // The manifest's facts: what made each target, per the attribution.
    let group = plan
        .facts
        .iter()
        .find(|(r, _)| r.id == "miners")
        .map(|(_, f)| f.clone())
        .expect("facts for the group");
    assert!(
        group
            .made_by
            .as_deref()
            .is_some_and(|m| m.contains("CreateAutoScalingGroup")),
        "{group:?}"
    );
    // The source ARN, made from the id where the listing gave none.
    let instance = plan
        .facts
        .iter()
        .find(|(r, _)| r.id == "i-0miner")
        .and_then(|(_, f)| f.arn.clone())
        .expect("the instance's ARN");
    assert!(
        instance.starts_with("arn:aws:ec2:eu-north-1:") && instance.ends_with(":instance/i-0miner"),
        "{instance}"
    );
    let (expected, stages) = stage_words(&s);
    assert_eq!((expected.as_str(), stages), ("3", 1));

    // Tab: evidence off — the keep steps go, and a warning stage asks for the words.
    key(&mut s, KeyCode::Tab, KeyModifiers::NONE);
    let bare = dialog_plan(&s);
    assert!(bare.skipped_evidence && !bare.keeps_evidence());
    assert!(flash(&s).contains("NO EVIDENCE"), "{}", flash(&s));
    assert_eq!(stage_words(&s).1, 2);
    type_text(&mut s, "3");
    assert!(key(&mut s, KeyCode::Enter, KeyModifiers::NONE).is_empty());
    assert_eq!(stage_words(&s).0, SKIP_EVIDENCE_WORD);
    let text = screen_text(screen(&s, 100, 30).backend().buffer());
    assert!(text.contains("no evidence is kept"), "{text}");
    insta::assert_snapshot!("evidence_off_warning_100x30", text);

    // Tab again: back on, from the first stage.
    key(&mut s, KeyCode::Tab, KeyModifiers::NONE);
    assert_eq!(dialog_plan(&s), plan);
    assert_eq!(stage_words(&s), ("3".into(), 1));

    // Off, both stages typed: the plan that runs keeps nothing, and says so.
    key(&mut s, KeyCode::Tab, KeyModifiers::NONE);
    type_text(&mut s, "3");
    key(&mut s, KeyCode::Enter, KeyModifiers::NONE);
    type_text(&mut s, SKIP_EVIDENCE_WORD);
    let effects = key(&mut s, KeyCode::Enter, KeyModifiers::NONE);
    let ran = effects
        .iter()
        .find_map(|e| match e {
            Effect::Execute(Plan::RemoveResources(p)) => Some(p.clone()),
            _ => None,
        })
        .expect("the plan runs");
    assert!(ran.skipped_evidence && !ran.keeps_evidence());
    assert!(ran.label().contains("no evidence kept"), "{}", ran.label());
}

#[test]
fn ctrl_e_saves_lambda_environment_values_in_clear_only_when_asked() {
    let mut s = with_function();
    press(&mut s, 't');
    assert!(dialog_plan(&s).has_function_keep());
    assert!(!dialog_plan(&s).environment_values());
    key(&mut s, KeyCode::Char('e'), KeyModifiers::CONTROL);
    assert!(dialog_plan(&s).environment_values());
    assert!(flash(&s).contains("IN CLEAR"), "{}", flash(&s));
    // Ctrl-E is a choice, not typed text.
    match &s.dialog {
        Some(Dialog::Confirm(c)) => assert!(c.typed.is_empty()),
        other => panic!("{other:?}"),
    }
    // The choice survives evidence going off and back on.
    key(&mut s, KeyCode::Tab, KeyModifiers::NONE);
    key(&mut s, KeyCode::Tab, KeyModifiers::NONE);
    assert!(dialog_plan(&s).environment_values());
    key(&mut s, KeyCode::Char('e'), KeyModifiers::CONTROL);
    assert!(!dialog_plan(&s).environment_values());

    // No function in the plan: nothing to choose.
    let mut plain = swept();
    press(&mut plain, 'a');
    press(&mut plain, 't');
    key(&mut plain, KeyCode::Char('e'), KeyModifiers::CONTROL);
    assert!(flash(&plain).contains("no function"), "{}", flash(&plain));
}

#[test]
fn i_isolates_instances_only_and_e_keeps_without_changing_anything() {
    let mut s = swept();
    press(&mut s, 'a');
    press(&mut s, 'i');
    let iso = dialog_plan(&s);
    assert_eq!(iso.purpose, Purpose::Isolate);
    assert_eq!(iso.targets, 1, "only the instance: {:?}", iso.excluded);
    assert!(
        iso.steps
            .iter()
            .any(|st| st.action == Action::IsolateNetwork)
    );
    assert!(
        iso.steps
            .iter()
            .any(|st| st.action == Action::DetachFromAutoScalingGroup),
        "the instance belongs to a group"
    );
    assert!(iso.steps.iter().all(|st| !st.action.removes_target()));
    let text = screen_text(screen(&s, 120, 40).backend().buffer());
    assert!(text.contains("Isolate 1 instance"), "{text}");
    assert!(text.contains("keep running"), "{text}");
    insta::assert_snapshot!("isolation_dialog_120x40", text);
    key(&mut s, KeyCode::Esc, KeyModifiers::NONE);

    press(&mut s, 'e');
    let keep = dialog_plan(&s);
    assert_eq!(keep.purpose, Purpose::KeepOnly);
    assert!(keep.steps.iter().all(|st| st.action.keeps()));
    // Tab does not turn evidence off in a plan that only keeps evidence.
    key(&mut s, KeyCode::Tab, KeyModifiers::NONE);
    assert_eq!(dialog_plan(&s), keep);
    type_text(&mut s, &keep.targets.to_string());
    let effects = key(&mut s, KeyCode::Enter, KeyModifiers::NONE);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Execute(Plan::RemoveResources(p)) if p.purpose == Purpose::KeepOnly)),
        "{effects:?}"
    );
}

#[test]
fn read_only_refuses_removal_isolation_and_keeping_alike() {
    for k in ['t', 'i', 'e'] {
        let mut s = swept();
        press(&mut s, 'a');
        press(&mut s, k);
        let plan = dialog_plan(&s);
        // The room switched to read-only while the dialog was open: the gate still holds.
        s.settings.read_only = true;
        type_text(&mut s, &plan.targets.to_string());
        let effects = key(&mut s, KeyCode::Enter, KeyModifiers::NONE);
        assert!(
            !effects.iter().any(|e| matches!(e, Effect::Execute(_))),
            "{k}: {effects:?}"
        );
        assert!(flash(&s).contains("READ-ONLY"), "{k}: {}", flash(&s));
        // And from the start, no dialog opens.
        let mut ro = swept();
        ro.settings.read_only = true;
        press(&mut ro, 'a');
        assert!(press(&mut ro, k).is_empty());
        assert!(ro.dialog.is_none(), "{k}");
    }
}

fn entry(id: &str, file: Option<&str>, snapshot: Option<&str>) -> ManifestEntry {
    ManifestEntry {
        time: "2026-11-22T10:05:00Z".into(),
        action_id: "a-1".into(),
        kind: "instance".into(),
        region: "eu-north-1".into(),
        id: id.into(),
        account: None,
        source_arn: Some(format!("arn:aws:ec2:eu-north-1:123456789012:instance/{id}")),
        made_by: Some("AKIA…LEAK, RunInstances at 2026-11-22T09:10:00Z".into()),
        what: if snapshot.is_some() {
            "EBS snapshot of /dev/xvda".into()
        } else {
            "instance description".into()
        },
        file: file.map(str::to_string),
        sha256: file.map(|_| "ab".repeat(32)),
        bytes: file.map(|_| 1234),
        snapshot_id: snapshot.map(str::to_string),
        volume_id: snapshot.map(|_| "vol-1".to_string()),
    }
}

#[test]
fn kept_evidence_shows_in_the_detail_and_survives_a_restart() {
    let mut s = swept();
    let kept = vec![
        entry(
            "i-0miner",
            Some("eu-north-1/instance-i-0miner/description.json"),
            None,
        ),
        entry("i-0miner", None, Some("snap-0abc")),
    ];
    update(&mut s, Msg::EvidenceKept(kept.clone()));
    assert_eq!(s.resources.evidence, kept);
    // The detail of the instance lists both.
    let row = s
        .resources
        .rows
        .iter()
        .position(|&i| s.resources.resources[i].id == "i-0miner")
        .expect("the instance is shown");
    for _ in 0..row {
        press(&mut s, 'j');
    }
    key(&mut s, KeyCode::Enter, KeyModifiers::NONE);
    let text = screen_text(screen(&s, 140, 45).backend().buffer());
    assert!(text.contains("Evidence kept (2)"), "{text}");
    assert!(text.contains("snapshot snap-0abc of vol-1"), "{text}");

    // The journal's Kept lines come back on a restart.
    let lines: Vec<String> = kept
        .iter()
        .map(|e| {
            serde_json::to_string(&journal::Entry {
                ts: "2026-11-22T10:05:01Z".into(),
                operator: "ic".into(),
                event: Event::Kept {
                    entry: Box::new(e.clone()),
                },
            })
            .expect("json")
        })
        .collect();
    let resumed = journal::read_back((lines.join("\n") + "\n").as_bytes());
    assert_eq!(resumed.kept, kept);
}

#[test]
fn the_report_lists_what_was_kept_and_the_plans_that_kept_nothing() {
    let target = ResourceTarget {
        kind: "iam-user".into(),
        region: "global".into(),
        id: "backdoor".into(),
    };
    let entries = vec![
        journal::Entry {
            ts: "2026-11-22T10:00:00Z".into(),
            operator: "dana".into(),
            event: Event::Preservation {
                action_id: "a-1".into(),
                skipped: false,
                environment_values: true,
                targets: vec![target.clone()],
            },
        },
        journal::Entry {
            ts: "2026-11-22T10:00:02Z".into(),
            operator: "dana".into(),
            event: Event::Kept {
                entry: Box::new(entry(
                    "i-0miner",
                    Some("eu-north-1/instance-i-0miner/description.json"),
                    None,
                )),
            },
        },
        journal::Entry {
            ts: "2026-11-22T10:00:03Z".into(),
            operator: "dana".into(),
            event: Event::Kept {
                entry: Box::new(entry("i-0miner", None, Some("snap-0abc"))),
            },
        },
        journal::Entry {
            ts: "2026-11-22T10:30:00Z".into(),
            operator: "eli".into(),
            event: Event::Preservation {
                action_id: "a-2".into(),
                skipped: true,
                environment_values: false,
                targets: vec![target],
            },
        },
    ];
    let r = keyspill_core::report::build(&entries);
    assert_eq!(r.kept.entries.len(), 2);
    assert_eq!(r.kept.skipped.len(), 1);
    assert_eq!(r.kept.environment_in_clear.len(), 1);
    let md = keyspill_core::report::markdown(&r);
    let section = md
        .split("## Evidence kept")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("the section");
    assert!(
        section.contains("**No evidence kept** by the operator's choice: eli"),
        "{section}"
    );
    assert!(section.contains("iam-user backdoor (global)"), "{section}");
    assert!(section.contains("**in clear**"), "{section}");
    assert!(section.contains("`snap-0abc`"), "{section}");
    assert!(section.contains(&"ab".repeat(32)), "{section}");
    assert!(section.contains("keyspill evidence verify"), "{section}");
    // Keeping evidence is not a change to the resource: its fate stays what the changes say.
    assert!(
        r.resources
            .iter()
            .all(|row| row.calls.iter().all(|c| !c.starts_with("keep ")))
    );
}
