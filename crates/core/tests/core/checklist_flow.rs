//! The Checklist tab through the pure core: checks recomputed from live state as it changes,
//! ticks and notes into the journal, milestones recorded once, snapshots written on change.

use crate::fixture;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use keyspill_core::access::{AccessSnapshot, UserAccess};
use keyspill_core::app::checklist::{Status, evaluate, progress};
use keyspill_core::app::msg::{ActionReport, JournalOpened, ObservedKeys};
use keyspill_core::app::state::{Mode, State, Tab};
use keyspill_core::app::{Effect, Msg, update};
use keyspill_core::domain::KeyStatus;
use keyspill_core::journal::{self, Event, Milestone};
use keyspill_core::resources::{CellState, GLOBAL, Kind, RegionSweep, Resource};
use time::Duration;

use fixture::*;

fn press(state: &mut State, c: char) -> Vec<Effect> {
    update(
        state,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
    )
}

fn code(state: &mut State, code: KeyCode) -> Vec<Effect> {
    update(state, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn status_of(state: &State, id: &str) -> Status {
    evaluate(state)
        .into_iter()
        .find(|(s, _)| s.id == id)
        .map(|(_, st)| st)
        .unwrap_or_else(|| panic!("no step {id}"))
}

/// The fixture account, identity and keys loaded, the journal open.
fn loaded() -> State {
    let mut state = identified(false);
    update(
        &mut state,
        Msg::JournalOpened(Ok(JournalOpened {
            dir: "/tmp/incident".into(),
            resumed: journal::Resumed::default(),
        })),
    );
    state
}

/// An access poll in which the fixture's users exist, `user` denying tokens issued before
/// `cutoff`.
fn access_revoked_on(user: &str, cutoff: keyspill_core::domain::Timestamp) -> AccessSnapshot {
    AccessSnapshot {
        users: snapshot(None)
            .users
            .into_iter()
            .map(|u| UserAccess {
                revoked_before: (u.name == user).then_some(cutoff),
                name: u.name,
                arn: u.arn,
                created: u.created,
                password: None,
            })
            .collect(),
        ..AccessSnapshot::default()
    }
}

fn tick(state: &mut State, after: i64) -> Vec<Effect> {
    let now = state.now + Duration::seconds(after);
    update(state, Msg::Tick(now))
}

#[test]
fn checks_follow_live_state_and_milestones_are_recorded_once() {
    let mut state = loaded();
    assert!(matches!(
        status_of(&state, "know-yourself"),
        Status::Verified(_)
    ));
    assert!(matches!(
        status_of(&state, "contain-keys"),
        Status::Failing(ref why) if why.contains("still Active")
    ));
    assert!(matches!(
        status_of(&state, "root-keys"),
        Status::Verified(_)
    ));
    // Nothing swept yet: unknown, in words.
    assert!(matches!(
        status_of(&state, "attacker-compute"),
        Status::Unknown(ref why) if why.contains("not swept")
    ));
    assert!(matches!(status_of(&state, "stop-exposure"), Status::Open));

    // The first tick records detection (the incident's opening: with a new journal, the
    // console's start, not the leak's) and writes a snapshot.
    let effects = tick(&mut state, 1);
    let events = journaled(&effects);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Milestone { milestone: Milestone::Detected, at, detail }
            if at == &journal::format_ts(NOW) && detail == "incident opened"
    )));
    assert!(events.iter().any(|e| matches!(e, Event::Snapshot(_))));
    // Nothing changed: the next tick writes nothing.
    assert!(journaled(&tick(&mut state, 40)).is_empty());

    // The leaked key is disabled (what the executor reads back): contained.
    update(
        &mut state,
        Msg::ActionStarted {
            id: "a1".into(),
            label: "disable".into(),
            at: NOW,
        },
    );
    update(
        &mut state,
        Msg::ActionFinished {
            id: "a1".into(),
            at: NOW,
            report: ActionReport {
                account: None,
                ok: true,
                summary: "verified Inactive".into(),
                observed: vec![ObservedKeys {
                    user: "ci-deploy".into(),
                    keys: vec![(K_LEAKED.into(), KeyStatus::Inactive)],
                }],
            },
        },
    );
    assert!(matches!(
        status_of(&state, "contain-keys"),
        Status::Verified(_)
    ));
    // The leaked key is inactive (and its user's second key is gone from the read-back), but
    // that is not containment: the sessions the leaked key may have minted still work, and
    // IAM's users and roles have not been read.
    let effects = tick(&mut state, 41);
    assert!(!journaled(&effects).iter().any(|e| matches!(
        e,
        Event::Milestone {
            milestone: Milestone::Contained,
            ..
        }
    )));
    let contained = status_of(&state, "contained");
    assert!(
        matches!(contained, Status::Failing(ref why) if why.contains("session unseen:ci-deploy")),
        "{contained:?}"
    );
    // The access poll: ci-deploy denies every token issued before now.
    update(
        &mut state,
        Msg::Access {
            seq: 1,
            at: NOW,
            result: Ok(access_revoked_on("ci-deploy", NOW)),
        },
    );
    assert!(matches!(
        status_of(&state, "revoke-sessions"),
        Status::Verified(_)
    ));
    assert!(matches!(
        status_of(&state, "contained"),
        Status::Verified(_)
    ));
    let effects = tick(&mut state, 42);
    let events = journaled(&effects);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Milestone {
            milestone: Milestone::Contained,
            ..
        }
    )));
    // What changed is in the snapshot written with it; a second later nothing is written
    // again (the milestone once, snapshots at most every 30 s).
    let snap = events.iter().find_map(|e| match e {
        Event::Snapshot(s) => Some(s),
        _ => None,
    });
    assert!(snap.is_some_and(|s| {
        s.checklist
            .iter()
            .any(|c| c.id == "contain-keys" && c.status == "verified")
    }));
    let effects = tick(&mut state, 1);
    assert!(journaled(&effects).is_empty());

    // A sweep that finds nothing of the attacker's and no new principal: eradicated.
    update(
        &mut state,
        Msg::ResourcesStarted {
            seq: 3,
            at: NOW,
            regions: vec!["us-east-1".into()],
        },
    );
    for sweep in [
        RegionSweep {
            region: "us-east-1".into(),
            resources: vec![],
            cells: vec![("instance", CellState::Ok(0))],
        },
        RegionSweep {
            region: GLOBAL.into(),
            resources: vec![{
                let mut u = Resource::new(Kind::User, GLOBAL, "ci-deploy");
                u.created = Some(SINCE - Duration::days(300));
                u
            }],
            cells: vec![("iam-user", CellState::Ok(1))],
        },
    ] {
        update(
            &mut state,
            Msg::ResourcesRegion {
                seq: 3,
                at: NOW,
                sweep,
            },
        );
    }
    update(&mut state, Msg::ResourcesDone { seq: 3, at: NOW });
    assert!(matches!(
        status_of(&state, "attacker-compute"),
        Status::Verified(_)
    ));
    assert!(matches!(
        status_of(&state, "no-new-principals"),
        Status::Verified(_)
    ));
    let effects = tick(&mut state, 1);
    let events = journaled(&effects);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Milestone {
            milestone: Milestone::Eradicated,
            ..
        }
    )));
}

#[test]
fn ticks_and_notes_go_to_the_journal_and_survive_a_restart() {
    let mut state = loaded();
    press(&mut state, '5');
    assert_eq!(state.tab, Tab::Checklist);
    let (before, total) = progress(&state);
    // The first step is manual: space ticks it, by name and time.
    let effects = press(&mut state, ' ');
    assert_eq!(
        effects,
        vec![Effect::Journal(Event::Tick {
            step: "stop-exposure".into(),
            done: true
        })]
    );
    assert!(matches!(
        status_of(&state, "stop-exposure"),
        Status::Ticked { ref by, .. } if by == "ic@laptop"
    ));
    assert_eq!(progress(&state), (before + 1, total));

    // A note on the step under the cursor.
    press(&mut state, 'n');
    assert_eq!(state.mode, Mode::Note(String::new()));
    for c in "repo made private".chars() {
        press(&mut state, c);
    }
    let effects = code(&mut state, KeyCode::Enter);
    assert_eq!(
        effects,
        vec![Effect::Journal(Event::Note {
            text: "repo made private".into(),
            step: Some("stop-exposure".into())
        })]
    );

    // A live check is not overridden by a tick: the leaked key is still Active.
    press(&mut state, 'j');
    press(&mut state, 'j');
    press(&mut state, ' ');
    assert!(matches!(
        status_of(&state, "contain-keys"),
        Status::Failing(_)
    ));

    // Restart: the journal gives the ticks, notes and milestones back.
    let mut resumed = journal::Resumed {
        ticks: state.checklist.ticks.clone(),
        notes: state.checklist.notes.clone(),
        ..Default::default()
    };
    resumed
        .milestones
        .insert(Milestone::Detected, "2026-11-22T09:00:00Z".into());
    let mut again = base(false);
    update(
        &mut again,
        Msg::JournalOpened(Ok(JournalOpened {
            dir: "/tmp/incident".into(),
            resumed,
        })),
    );
    assert!(matches!(
        status_of(&again, "stop-exposure"),
        Status::Ticked { .. }
    ));
    assert_eq!(again.checklist.notes.len(), 1);
    // Detection is not recorded a second time.
    let effects = tick(&mut again, 1);
    let events = journaled(&effects);
    assert!(!events.iter().any(|e| matches!(
        e,
        Event::Milestone {
            milestone: Milestone::Detected,
            ..
        }
    )));
}

#[test]
fn close_note_and_export_commands() {
    let mut state = loaded();
    let run = |state: &mut State, line: &str| {
        press(state, ':');
        for c in line.chars() {
            press(state, c);
        }
        code(state, KeyCode::Enter)
    };
    let effects = run(&mut state, "note support case 1234 opened");
    assert_eq!(
        effects,
        vec![Effect::Journal(Event::Note {
            text: "support case 1234 opened".into(),
            step: None
        })]
    );
    let effects = run(&mut state, "close");
    assert!(matches!(
        effects.as_slice(),
        [Effect::Journal(Event::Milestone {
            milestone: Milestone::Closed,
            ..
        })]
    ));
    assert!(run(&mut state, "close").is_empty());
    let effects = run(&mut state, "export");
    let [Effect::Export(snap)] = effects.as_slice() else {
        panic!("expected an export, got {effects:?}");
    };
    assert_eq!(snap.account.as_deref(), Some("123456789012"));
    assert!(snap.keys.iter().any(|k| k.key_id == K_LEAKED && k.leaked));
    assert!(
        snap.checklist
            .iter()
            .any(|s| s.id == "contain-keys" && s.status == "failing")
    );
}

#[test]
fn a_trail_stopped_during_the_leak_fails_the_logging_step() {
    let mut state = loaded();
    let record = serde_json::json!({
        "eventVersion": "1.09",
        "eventID": "stop-1",
        "eventTime": "2026-11-22T10:00:00Z",
        "eventSource": "cloudtrail.amazonaws.com",
        "eventName": "StopLogging",
        "userIdentity": {"type": "IAMUser", "accessKeyId": K_LEAKED},
        "readOnly": false,
    });
    let events = keyspill_core::timeline::parse::parse_document(
        record.to_string().as_bytes(),
        &keyspill_core::timeline::Origin::File { path: "t".into() },
    )
    .events;
    update(&mut state, Msg::TimelineEvents { at: NOW, events });
    assert!(matches!(
        status_of(&state, "logging"),
        Status::Failing(ref why) if why.contains("StopLogging by AKIA")
    ));
}
