//! The Resources tab driven through the pure core: sweep messages and synthetic key presses go
//! into `update`; the tests check the view, the selection, the plan the operator confirms, the
//! read-only gate and the removal run's progress.

use crate::fixture;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use keyspill_core::app::msg::ActionReport;
use keyspill_core::app::plan::Plan;
use keyspill_core::app::state::{Dialog, Source, State, Tab};
use keyspill_core::app::{Effect, Msg, update};
use keyspill_core::resources::plan::StepState;
use keyspill_core::resources::{CellState, GLOBAL, Kind, Parts, RegionSweep, Resource, UserParts};
use keyspill_core::timeline::{Event, Origin};
use std::collections::BTreeSet;
use std::sync::Arc;
use time::Duration;

use fixture::*;

fn press(state: &mut State, c: char) -> Vec<Effect> {
    let modifiers = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    update(state, Msg::Key(KeyEvent::new(KeyCode::Char(c), modifiers)))
}

fn code(state: &mut State, code: KeyCode) -> Vec<Effect> {
    update(state, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn type_text(state: &mut State, text: &str) {
    for c in text.chars() {
        assert!(press(state, c).is_empty());
    }
}

fn flash(state: &State) -> &str {
    state.flash.as_ref().map_or("", |f| f.text.as_str())
}

fn res(kind: Kind, region: &str, id: &str, created: time::OffsetDateTime) -> Resource {
    let mut r = Resource::new(kind, region, id);
    r.created = Some(created);
    r.state = "running".into();
    r
}

/// A CloudTrail event made with the leaked key that created `id`.
fn created_by_leak(name: &str, field: &str, id: &str, at: time::OffsetDateTime) -> Event {
    let raw = serde_json::json!({
        "eventVersion": "1.09",
        "eventID": format!("ev-{id}"),
        "eventTime": at.format(&time::format_description::well_known::Rfc3339).expect("time"),
        "eventName": name,
        "readOnly": false,
        "userIdentity": {"type": "IAMUser", "accessKeyId": K_LEAKED},
        "responseElements": {field: id},
    });
    let mut origin_events = keyspill_core::timeline::parse::parse_document(
        raw.to_string().as_bytes(),
        &Origin::File { path: "t".into() },
    )
    .events;
    assert_eq!(origin_events.len(), 1);
    origin_events.remove(0)
}

/// The fixture account after one sweep: a backdoor user and a mining group made by the
/// leaked key, an instance that merely appeared after the leak, and what was there before.
pub(crate) fn swept() -> State {
    let mut state = base(false);
    update(
        &mut state,
        Msg::Identity {
            seq: 1,
            at: NOW,
            result: Ok(identity()),
        },
    );
    state.leaked.insert(K_LEAKED.into());
    let after = SINCE + Duration::hours(1);
    let before = SINCE - Duration::days(200);
    update(
        &mut state,
        Msg::TimelineEvents {
            at: NOW,
            events: vec![
                created_by_leak("CreateUser", "userName", "backdoor", after),
                created_by_leak(
                    "CreateAutoScalingGroup",
                    "autoScalingGroupName",
                    "miners",
                    after,
                ),
            ],
        },
    );
    update(
        &mut state,
        Msg::ResourcesStarted {
            seq: 5,
            at: NOW,
            regions: vec!["eu-north-1".into(), "us-east-1".into()],
        },
    );
    let mut in_group = res(Kind::Instance, "eu-north-1", "i-0miner", after);
    in_group.related = vec![keyspill_core::resources::ResourceRef {
        kind: Kind::AutoScalingGroup,
        region: "eu-north-1".into(),
        id: "miners".into(),
        account: None,
    }];
    let regional = RegionSweep {
        region: "eu-north-1".into(),
        resources: vec![
            res(Kind::AutoScalingGroup, "eu-north-1", "miners", after),
            in_group,
            res(Kind::Instance, "eu-north-1", "i-0stray", after),
        ],
        cells: vec![("instance", CellState::Ok(2))],
    };
    let home = RegionSweep {
        region: "us-east-1".into(),
        resources: vec![res(Kind::Instance, "us-east-1", "i-0web", before)],
        cells: vec![
            ("instance", CellState::Ok(1)),
            (
                "lightsail",
                CellState::Unavailable("no Lightsail here".into()),
            ),
        ],
    };
    let iam = RegionSweep {
        region: GLOBAL.into(),
        resources: vec![
            res(Kind::User, GLOBAL, "backdoor", after),
            res(Kind::User, GLOBAL, "responder", before),
        ],
        cells: vec![("iam-user", CellState::Ok(2))],
    };
    for sweep in [regional, home] {
        let effects = update(
            &mut state,
            Msg::ResourcesRegion {
                seq: 5,
                at: NOW,
                sweep,
            },
        );
        assert!(effects.is_empty(), "{effects:?}");
    }
    let effects = update(
        &mut state,
        Msg::ResourcesRegion {
            seq: 5,
            at: NOW,
            sweep: iam,
        },
    );
    // The backdoor's parts are read for the plan; the responder's are not needed.
    match effects.as_slice() {
        [Effect::FetchParts(targets)] => {
            let ids: Vec<&str> = targets.iter().map(|t| t.id.as_str()).collect();
            assert_eq!(ids, ["backdoor"]);
        }
        other => panic!("expected one FetchParts, got {other:?}"),
    }
    update(
        &mut state,
        Msg::ResourceParts {
            target: keyspill_core::resources::ResourceRef {
                kind: Kind::User,
                region: GLOBAL.into(),
                id: "backdoor".into(),
                account: None,
            },
            parts: Parts::User(UserParts {
                access_keys: vec!["AKIABACKDOOR00000001".into()],
                attached_policies: vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()],
                ..UserParts::default()
            }),
        },
    );
    update(&mut state, Msg::ResourcesDone { seq: 5, at: NOW });
    press(&mut state, '3');
    assert_eq!(state.tab, Tab::Resources);
    state
}

fn shown(state: &State) -> Vec<String> {
    (0..state.resources.rows.len())
        .filter_map(|i| state.resources.row_resource(i))
        .map(|(r, a)| format!("{} {}", a.map_or("-", |a| a.verdict.label()), r.id))
        .collect()
}

#[test]
fn the_default_view_is_what_the_leak_made_and_v_shows_everything() {
    let mut state = swept();
    assert_eq!(
        shown(&state),
        [
            "LEAKED KEY miners",
            "LEAKED KEY i-0miner",
            "LEAKED KEY backdoor",
            "AFTER LEAK i-0stray",
        ]
    );
    press(&mut state, 'v');
    assert_eq!(state.resources.rows.len(), 6);
    press(&mut state, 'v');
    assert_eq!(state.resources.rows.len(), 4);

    // The filter narrows what is shown.
    press(&mut state, '/');
    type_text(&mut state, "stray");
    code(&mut state, KeyCode::Enter);
    assert_eq!(shown(&state), ["AFTER LEAK i-0stray"]);
    code(&mut state, KeyCode::Esc);
    assert_eq!(state.resources.rows.len(), 4);

    let strip = keyspill_core::app::resources::region_summaries(&state);
    let north = strip
        .iter()
        .find(|r| r.region == "eu-north-1")
        .expect("north");
    assert!(north.new_region);
    assert_eq!(north.suspicious, 3);
    let home = strip
        .iter()
        .find(|r| r.region == "us-east-1")
        .expect("home");
    assert!(!home.new_region);
    assert_eq!(home.problems, ["lightsail: n/a"]);
}

#[test]
fn a_selects_what_the_key_made_and_t_plans_it_in_order() {
    let mut state = swept();
    // The group, the instance it launched and the backdoor user; not the stray instance,
    // whose maker is unknown.
    press(&mut state, 'a');
    assert_eq!(state.resources.selected.len(), 3);
    assert!(flash(&state).contains("selected 3"));
    // Space toggles the row under the cursor: the stray one in, then out again.
    for _ in 0..3 {
        press(&mut state, 'j');
    }
    press(&mut state, ' ');
    assert_eq!(state.resources.selected.len(), 4);
    // The cursor stays on the last row, so a second space takes it out again.
    press(&mut state, ' ');
    assert_eq!(state.resources.selected.len(), 3);

    assert!(press(&mut state, 't').is_empty());
    let Some(Dialog::Confirm(c)) = &state.dialog else {
        panic!("expected the plan dialog, got {:?}", state.dialog);
    };
    let Plan::RemoveResources(plan) = &c.plan else {
        panic!("expected a removal plan");
    };
    // Evidence first: every keep step comes before the first change.
    let first_change = plan
        .steps
        .iter()
        .position(|s| !s.action.keeps())
        .expect("a change");
    assert!(plan.steps[..first_change].iter().all(|s| s.action.keeps()));
    assert!(plan.steps[first_change..].iter().all(|s| !s.action.keeps()));
    let kept: BTreeSet<&str> = plan.steps[..first_change]
        .iter()
        .map(|s| s.target.id.as_str())
        .collect();
    assert_eq!(kept, BTreeSet::from(["miners", "i-0miner", "backdoor"]));
    let order: Vec<String> = plan.steps[first_change..]
        .iter()
        .map(|s| format!("{} {}", s.target.id, s.action.call()))
        .collect();
    assert_eq!(
        order,
        [
            "miners autoscaling:DeleteAutoScalingGroup",
            "i-0miner ec2:TerminateInstances",
            "backdoor iam:DeleteAccessKey",
            "backdoor iam:DetachUserPolicy",
            "backdoor iam:DeleteUser",
        ]
    );
    assert_eq!(c.current().map(|s| s.expected.as_str()), Some("3"));

    // A wrong count does nothing; the right one executes the plan.
    type_text(&mut state, "2");
    assert!(code(&mut state, KeyCode::Enter).is_empty());
    code(&mut state, KeyCode::Backspace);
    type_text(&mut state, "3");
    let effects = code(&mut state, KeyCode::Enter);
    let [Effect::Execute(Plan::RemoveResources(run))] = effects.as_slice() else {
        panic!("expected the plan to execute, got {effects:?}");
    };
    assert_eq!(run.targets, 3);
    let removal = state.resources.removal.as_ref().expect("progress pane");
    assert_eq!(removal.states.len(), first_change + 5);

    // Progress arrives; the group fails, so its instance is not attempted.
    update(
        &mut state,
        Msg::ActionStarted {
            id: "r1".into(),
            label: run.label(),
            at: NOW,
        },
    );
    update(
        &mut state,
        Msg::RemovalStep {
            index: first_change,
            state: StepState::Failed("AccessDenied".into()),
        },
    );
    update(
        &mut state,
        Msg::RemovalStep {
            index: first_change + 1,
            state: StepState::Skipped("step 5 did not succeed".into()),
        },
    );
    // Esc does not close the pane while the run is going.
    code(&mut state, KeyCode::Esc);
    assert!(state.resources.removal.is_some());
    let effects = update(
        &mut state,
        Msg::ActionFinished {
            id: "r1".into(),
            at: NOW,
            report: ActionReport {
                account: None,
                ok: false,
                summary: "3/5 steps done; failed: asg miners".into(),
                observed: vec![],
            },
        },
    );
    assert_eq!(effects, vec![Effect::Refresh(Source::Resources)]);
    assert!(state.resources.selected.is_empty());
    let removal = state.resources.removal.as_ref().expect("pane stays");
    assert!(removal.finished);
    assert!(matches!(
        removal.states[first_change + 1],
        StepState::Skipped(_)
    ));
    code(&mut state, KeyCode::Esc);
    assert!(state.resources.removal.is_none());
}

#[test]
fn keyspill_s_own_user_is_never_planned() {
    let mut state = swept();
    press(&mut state, 'v');
    // Walk to the responder's row and ask to remove it.
    for _ in 0..10 {
        if state.resources.current().map(|(r, _)| r.id.as_str()) == Some("responder") {
            break;
        }
        press(&mut state, 'j');
    }
    assert_eq!(
        state.resources.current().map(|(r, _)| r.id.as_str()),
        Some("responder")
    );
    assert!(press(&mut state, 't').is_empty());
    assert!(state.dialog.is_none());
    assert!(
        flash(&state).contains("keyspill runs as this user"),
        "{}",
        flash(&state)
    );
}

#[test]
fn read_only_refuses_before_any_plan_runs() {
    let mut state = swept();
    state.settings.read_only = true;
    press(&mut state, 'a');
    let effects = press(&mut state, 't');
    assert!(effects.is_empty());
    assert!(state.dialog.is_none());
    assert!(flash(&state).contains("READ-ONLY"), "{}", flash(&state));
    assert!(state.resources.removal.is_none());
}

#[test]
fn enter_opens_the_detail_and_r_sweeps_again() {
    let mut state = swept();
    code(&mut state, KeyCode::Enter);
    assert_eq!(state.resources.detail, Some(0));
    press(&mut state, 'j');
    assert_eq!(state.resources.detail, Some(1));
    code(&mut state, KeyCode::Esc);
    assert_eq!(state.resources.detail, None);
    assert_eq!(
        press(&mut state, 'r'),
        vec![Effect::Refresh(Source::Resources)]
    );
    // Raw events keep arriving: attribution follows.
    let later = created_by_leak(
        "RunInstances",
        "instanceId",
        "i-0stray",
        SINCE + Duration::hours(2),
    );
    let mut e = later;
    e.raw = Arc::from(e.raw.replace("\"instanceId\"", "\"instancesSet\""));
    update(
        &mut state,
        Msg::TimelineEvents {
            at: NOW,
            events: vec![e],
        },
    );
    assert!(shown(&state).contains(&"LEAKED KEY i-0stray".to_string()));
}

#[test]
fn confirming_a_removal_journals_who_made_each_resource_first() {
    let mut state = swept();
    state.journal_dir = Some("/tmp/incident".into());
    press(&mut state, 'a');
    press(&mut state, 't');
    type_text(&mut state, "3");
    let effects = code(&mut state, KeyCode::Enter);
    let [
        Effect::Journal(keyspill_core::journal::Event::Snapshot(snap)),
        Effect::Execute(Plan::RemoveResources(_)),
    ] = effects.as_slice()
    else {
        panic!("expected a snapshot, then the plan, got {effects:?}");
    };
    let group = snap
        .resources
        .iter()
        .find(|r| r.id == "miners")
        .expect("the group in the snapshot");
    let maker = group
        .made_by
        .as_ref()
        .expect("its maker, from the attribution");
    assert!(maker.via.starts_with("Create"), "{maker:?}");
    assert!(!maker.key.is_empty() && !maker.at.is_empty(), "{maker:?}");
}
