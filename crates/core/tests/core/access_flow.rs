//! The Access tab through `update`: one action per kind through the typed confirmation and the
//! read-only gate, one dialog for every session chain, clearances in the journal, the header's
//! verdict on every tab and the banner when a contained incident re-opens.

use crate::fixture;
use crate::screen::{draw, screen_text};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use keyspill_core::access::{AccessSnapshot, Principal, RoleAccess, UserAccess};
use keyspill_core::app::msg::JournalOpened;
use keyspill_core::app::plan::Plan;
use keyspill_core::app::state::{Dialog, Level, Mode, State, Tab};
use keyspill_core::app::{Effect, Msg, update};
use keyspill_core::domain::{KeyStatus, Timestamp};
use keyspill_core::journal::{self, Event, Milestone};
use keyspill_core::timeline::Origin;
use keyspill_core::timeline::parse::parse_record;
use keyspill_core::ui::Theme;
use serde_json::json;
use time::Duration;

use fixture::*;

const S1: &str = "ASIA2SESSIONONE00001";
const S2: &str = "ASIA2SESSIONTWO00002";

pub(crate) fn press(state: &mut State, c: char) -> Vec<Effect> {
    let m = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    update(state, Msg::Key(KeyEvent::new(KeyCode::Char(c), m)))
}

pub(crate) fn enter(state: &mut State) -> Vec<Effect> {
    update(
        state,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    )
}

pub(crate) fn type_text(state: &mut State, s: &str) {
    for c in s.chars() {
        press(state, c);
    }
}

fn role(name: &str, trusts: &[&str], revoked: Option<Timestamp>) -> RoleAccess {
    RoleAccess {
        revoked_before: revoked,
        ..RoleAccess::new(
            name.into(),
            format!("arn:aws:iam::123456789012:role/{name}"),
            SINCE - Duration::days(100),
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": trusts}, "Action": "sts:AssumeRole"}]})
            .to_string(),
        )
    }
}

fn access(revoked: Option<Timestamp>, outside: bool) -> AccessSnapshot {
    let mut trusts = vec!["arn:aws:iam::123456789012:root"];
    if outside {
        trusts.push("arn:aws:iam::999988887777:root");
    }
    AccessSnapshot {
        users: snapshot(None)
            .users
            .into_iter()
            .map(|u| UserAccess {
                revoked_before: (u.name == "ci-deploy").then_some(revoked).flatten(),
                name: u.name,
                arn: u.arn,
                created: u.created,
                password: None,
            })
            .collect(),
        roles: vec![
            role("deploy-role", &trusts, revoked),
            role(
                "prod-role",
                &["arn:aws:iam::123456789012:role/deploy-role"],
                revoked,
            ),
        ],
        ..AccessSnapshot::default()
    }
}

fn assume(
    id: &str,
    by: &str,
    role: &str,
    minted: &str,
    at: Timestamp,
) -> keyspill_core::timeline::Event {
    let r = json!({
        "eventID": id, "eventTime": journal::format_ts(at), "eventSource": "sts.amazonaws.com",
        "eventName": "AssumeRole", "awsRegion": "us-east-1",
        "userIdentity": {"type": "IAMUser", "accessKeyId": by,
            "arn": "arn:aws:iam::123456789012:user/ci/ci-deploy"},
        "requestParameters": {"roleArn": format!("arn:aws:iam::123456789012:role/{role}")},
        "responseElements": {"credentials": {"accessKeyId": minted,
            "expiration": journal::format_ts(at + Duration::hours(6))}},
    });
    parse_record(&r, &Origin::File { path: "t".into() }).expect("record")
}

/// The fixture account with IAM's keys and access read, on the Access tab.
pub(crate) fn loaded(read_only: bool) -> State {
    let mut state = identified(read_only);
    update(
        &mut state,
        Msg::Access {
            seq: 1,
            at: NOW,
            result: Ok(access(None, true)),
        },
    );
    press(&mut state, '6');
    assert_eq!(state.tab, Tab::Access);
    state
}

fn with_sessions(state: &mut State) {
    let t = SINCE + Duration::minutes(30);
    update(
        state,
        Msg::TimelineEvents {
            at: NOW,
            events: vec![
                assume("a1", K_LEAKED, "deploy-role", S1, t),
                assume("a2", S1, "prod-role", S2, t + Duration::minutes(1)),
            ],
        },
    );
    update(
        state,
        Msg::TimelineChains(vec![
            (
                K_LEAKED.into(),
                "leaked".into(),
                vec![K_LEAKED.into(), S1.into(), S2.into()],
            ),
            (
                S1.into(),
                "AssumeRole deploy-role".into(),
                vec![S1.into(), S2.into()],
            ),
            (S2.into(), "AssumeRole prod-role".into(), vec![S2.into()]),
        ]),
    );
}

fn point_at(state: &mut State, handle: &str) {
    assert!(
        state
            .access
            .assessment
            .footholds
            .iter()
            .any(|f| f.handle() == handle),
        "no {handle} in {}",
        state.access.assessment.text()
    );
    state.access.cursor = Some(handle.into());
}

fn confirm(state: &State) -> keyspill_core::app::state::ConfirmDialog {
    match &state.dialog {
        Some(Dialog::Confirm(c)) => c.clone(),
        other => panic!("no confirmation dialog: {other:?}"),
    }
}

#[test]
fn d_on_an_outside_trust_shows_the_policy_before_and_after_and_confirms_by_role_name() {
    let mut state = loaded(false);
    point_at(&mut state, "trust:deploy-role");
    press(&mut state, 'd');
    let c = confirm(&state);
    let Plan::Untrust {
        role,
        principals,
        before,
        after,
    } = &c.plan
    else {
        panic!("{:?}", c.plan);
    };
    assert_eq!(role, "deploy-role");
    assert_eq!(principals[0].value, "arn:aws:iam::999988887777:root");
    assert!(before.contains("999988887777") && !after.contains("999988887777"));
    assert!(after.contains("arn:aws:iam::123456789012:root"));
    let lines = c.stages[0].lines.join("\n");
    assert!(
        lines.contains("Trust policy now:") && lines.contains("Trust policy after:"),
        "{lines}"
    );
    assert_eq!(c.stages[0].expected, "deploy-role");
    type_text(&mut state, "deploy-role");
    assert_eq!(enter(&mut state), vec![Effect::Execute(c.plan.clone())]);
}

#[test]
fn x_revokes_every_user_and_role_of_the_open_chains_in_one_dialog_cut_off_at_confirmation() {
    let mut state = loaded(false);
    with_sessions(&mut state);
    press(&mut state, 'x');
    let c = confirm(&state);
    let Plan::RevokeSessions { principals, .. } = &c.plan else {
        panic!("{:?}", c.plan);
    };
    let mut got = principals.clone();
    got.sort();
    assert_eq!(
        got,
        vec![
            Principal::User("ci-deploy".into()),
            Principal::Role("deploy-role".into()),
            Principal::Role("prod-role".into()),
        ]
    );
    assert_eq!(c.stages[0].expected, "3");
    let lines = c.stages[0].lines.join("\n");
    assert!(
        lines.contains("role prod-role") && lines.contains("user ci-deploy"),
        "{lines}"
    );
    // The room reads the dialog for two minutes.
    update(&mut state, Msg::Tick(NOW + Duration::seconds(120)));
    type_text(&mut state, "3");
    let effects = enter(&mut state);
    let [Effect::Execute(Plan::RevokeSessions { cutoff, .. })] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(cutoff, &journal::format_ts(NOW + Duration::seconds(120)));
}

#[test]
fn read_only_refuses_every_access_action() {
    let mut state = loaded(true);
    with_sessions(&mut state);
    for (handle, key) in [
        ("trust:deploy-role", 'd'),
        (&format!("leaked-key:{K_LEAKED}") as &str, 'd'),
        (&format!("leaked-key:{K_LEAKED}") as &str, 'D'),
        (&format!("session:{S2}") as &str, 'd'),
        (&format!("session:{S2}") as &str, 'x'),
    ] {
        point_at(&mut state, handle);
        let effects = press(&mut state, key);
        assert!(effects.is_empty(), "{handle} {key}: {effects:?}");
        assert!(state.dialog.is_none(), "{handle} {key}");
        let flash = state.flash.as_ref().expect("said why");
        assert_eq!(flash.level, Level::Error);
        assert!(flash.text.starts_with("READ-ONLY"), "{}", flash.text);
    }
}

#[test]
fn c_clears_a_foothold_of_unknown_origin_with_a_reason_in_the_journal() {
    let mut state = loaded(false);
    let handle = format!("access-key:{K_NEW}");
    point_at(&mut state, &handle);
    press(&mut state, 'c');
    assert_eq!(state.mode, Mode::Clear(String::new()));
    type_text(&mut state, "CI's own rotation");
    let effects = enter(&mut state);
    assert_eq!(
        effects,
        vec![Effect::Journal(Event::Cleared {
            foothold: handle.clone(),
            reason: "CI's own rotation".into()
        })]
    );
    let f = state
        .access
        .assessment
        .footholds
        .iter()
        .find(|f| f.handle() == handle)
        .expect("still listed");
    assert!(f.why.starts_with("cleared by ic@laptop"), "{}", f.why);
    // The leaked key is the attacker's by definition: it cannot be cleared.
    point_at(&mut state, &format!("leaked-key:{K_LEAKED}"));
    press(&mut state, 'c');
    assert_eq!(state.mode, Mode::Normal);
}

/// Everything closed: the leaked key and the new one inactive, every principal revoked, no
/// outside trust.
fn contained(state: &mut State) {
    let keys = with_inactive(&[K_LEAKED, K_NEW]);
    update(
        state,
        Msg::Keys {
            seq: 2,
            at: NOW,
            result: Ok(keys),
        },
    );
    update(
        state,
        Msg::Access {
            seq: 2,
            at: NOW,
            result: Ok(access(Some(NOW), false)),
        },
    );
}

#[test]
fn a_new_backdoor_after_containment_reopens_the_incident_with_a_banner_on_every_tab() {
    let mut state = loaded(false);
    update(
        &mut state,
        Msg::JournalOpened(Ok(JournalOpened {
            dir: "/tmp/incident".into(),
            resumed: journal::Resumed::default(),
        })),
    );
    with_sessions(&mut state);
    contained(&mut state);
    assert!(
        state.access.assessment.contained(),
        "{}",
        state.access.assessment.text()
    );
    update(&mut state, Msg::Tick(NOW + Duration::seconds(1)));
    assert!(
        state
            .checklist
            .milestones
            .contains_key(&Milestone::Contained)
    );
    let theme = Theme::new(keyspill_core::ui::theme::ThemeName::Default, false);
    let screen = screen_text(draw(&state, &theme, 120, 30).backend().buffer());
    assert!(
        screen
            .lines()
            .next()
            .is_some_and(|l| l.contains(" CONTAINED ")),
        "{screen}"
    );

    // A key on alice, made a minute ago: no trail event explains it.
    let mut keys = with_inactive(&[K_LEAKED, K_NEW]);
    let mut backdoor = keys.keys[0].clone();
    backdoor.key_id = "AKIA2ALICEBACKDOOR99".into();
    backdoor.created = NOW - Duration::minutes(1);
    backdoor.status = KeyStatus::Active;
    keys.keys.push(backdoor);
    let effects = update(
        &mut state,
        Msg::Keys {
            seq: 3,
            at: NOW,
            result: Ok(keys),
        },
    );
    assert!(
        effects.iter().any(|e| matches!(e, Effect::Journal(Event::Reopened { detail }) if detail.contains("AKIA2ALICEBACKDOOR99"))),
        "{effects:?}"
    );
    assert!(
        !state
            .checklist
            .milestones
            .contains_key(&Milestone::Contained)
    );
    for tab in ['1', '3', '6'] {
        press(&mut state, tab);
        let screen = screen_text(draw(&state, &theme, 120, 30).backend().buffer());
        let mut lines = screen.lines();
        assert!(
            lines
                .next()
                .is_some_and(|l| l.contains("NOT CONTAINED (1 open)")),
            "{screen}"
        );
        assert!(screen.contains("RE-OPENED at"), "{screen}");
    }
    // Disabling it contains the incident again, and the banner goes.
    let keys = with_inactive(&[K_LEAKED, K_NEW]);
    update(
        &mut state,
        Msg::Keys {
            seq: 4,
            at: NOW,
            result: Ok(keys),
        },
    );
    assert!(state.access.banner.is_none());
    assert!(state.access.assessment.contained());
}

#[test]
fn access_tab_screens() {
    let mut state = loaded(false);
    with_sessions(&mut state);
    let theme = Theme::new(keyspill_core::ui::theme::ThemeName::Default, false);
    insta::assert_snapshot!("access_120x40", draw(&state, &theme, 120, 40).backend());
    insta::assert_snapshot!("access_80x24", draw(&state, &theme, 80, 24).backend());
    press(&mut state, 'x');
    insta::assert_snapshot!(
        "access_revoke_dialog_120x40",
        draw(&state, &theme, 120, 40).backend()
    );
}

#[test]
fn a_key_an_interrupted_rotation_made_is_named_on_restart_and_is_no_foothold() {
    let mut state = loaded(false);
    let handle = format!("access-key:{K_NEW}");
    assert!(
        state
            .access
            .assessment
            .footholds
            .iter()
            .any(|f| f.handle() == handle)
    );
    // The journal had a CreateAccessKey intent without an outcome; reading IAM back found
    // the key it made.
    update(
        &mut state,
        Msg::Reverified {
            action_id: "a-9".into(),
            detail: format!("rotation interrupted: new key {K_NEW} is this incident's"),
            created_key: Some(K_NEW.into()),
        },
    );
    assert!(state.response_keys.contains(K_NEW));
    assert!(
        !state
            .access
            .assessment
            .footholds
            .iter()
            .any(|f| f.handle() == handle)
    );
}

#[test]
fn a_foothold_that_leaves_iam_stays_on_the_tab_as_closed() {
    let mut state = loaded(false);
    let handle = format!("access-key:{K_NEW}");
    assert!(
        state
            .access
            .assessment
            .footholds
            .iter()
            .any(|f| f.handle() == handle && f.state == keyspill_core::access::FootState::Open)
    );
    // The key is deleted: IAM no longer lists it, and no trail event ever named it.
    let mut keys = snapshot(Some(false));
    keys.keys.retain(|k| k.key_id != K_NEW);
    update(
        &mut state,
        Msg::Keys {
            seq: 2,
            at: NOW,
            result: Ok(keys),
        },
    );
    let f = state
        .access
        .assessment
        .footholds
        .iter()
        .find(|f| f.handle() == handle)
        .expect("still listed");
    assert_eq!(f.state, keyspill_core::access::FootState::Closed);
    assert_eq!(f.why, "deleted: IAM no longer lists it");
}

#[test]
fn closing_the_foothold_under_the_cursor_moves_the_cursor_to_the_next_open_one() {
    let mut state = loaded(false);
    point_at(&mut state, &format!("leaked-key:{K_LEAKED}"));
    let keys = with_inactive(&[K_LEAKED]);
    update(
        &mut state,
        Msg::Keys {
            seq: 2,
            at: NOW,
            result: Ok(keys),
        },
    );
    let here = state.access.current().expect("a row");
    assert_eq!(
        here.state,
        keyspill_core::access::FootState::Open,
        "{here:?}"
    );
    assert_ne!(here.id, K_LEAKED);
}

#[test]
fn the_clock_closes_a_session_when_it_expires() {
    let mut state = loaded(false);
    with_sessions(&mut state);
    let handle = format!("session:{S1}");
    let open = |s: &State| {
        s.access
            .assessment
            .footholds
            .iter()
            .any(|f| f.handle() == handle && f.state == keyspill_core::access::FootState::Open)
    };
    assert!(open(&state));
    let expiry = SINCE + Duration::minutes(30) + Duration::hours(6);
    // The first expiry ahead is the model's next appointment with the clock.
    assert!(state.access.next_change.is_some_and(|t| t <= expiry));
    update(&mut state, Msg::Tick(expiry - Duration::seconds(1)));
    assert!(open(&state));
    update(&mut state, Msg::Tick(expiry + Duration::seconds(1)));
    assert!(!open(&state), "{}", state.access.assessment.text());
}

fn unseen(state: &State) -> keyspill_core::access::FootState {
    state
        .access
        .assessment
        .footholds
        .iter()
        .find(|f| f.id == "unseen:ci-deploy")
        .map(|f| f.state)
        .unwrap_or_else(|| panic!("no unseen sessions in {}", state.access.assessment.text()))
}

#[test]
fn deleting_the_leaked_key_does_not_end_the_sessions_it_minted() {
    let mut state = loaded(false);
    // The key is deleted straight away, nothing revoked.
    let mut keys = snapshot(Some(false));
    keys.keys
        .retain(|k| k.key_id != K_LEAKED && k.key_id != K_NEW);
    update(
        &mut state,
        Msg::Keys {
            seq: 2,
            at: NOW,
            result: Ok(keys.clone()),
        },
    );
    update(
        &mut state,
        Msg::Access {
            seq: 2,
            at: NOW,
            result: Ok(access(None, false)),
        },
    );
    assert_eq!(unseen(&state), keyspill_core::access::FootState::Open);
    assert!(!state.access.assessment.contained());
    // Revoked on its user: closed, and it stays closed as the clock runs.
    let later = NOW + Duration::minutes(5);
    update(
        &mut state,
        Msg::Access {
            seq: 3,
            at: later,
            result: Ok(access(Some(later), false)),
        },
    );
    update(&mut state, Msg::Tick(later + Duration::hours(1)));
    update(
        &mut state,
        Msg::Keys {
            seq: 3,
            at: later + Duration::hours(1),
            result: Ok(keys),
        },
    );
    assert_eq!(unseen(&state), keyspill_core::access::FootState::Closed);
}

#[test]
fn an_unknown_last_use_is_bounded_by_when_the_key_was_seen_off() {
    let mut state = loaded(false);
    let mut keys = snapshot(Some(false));
    for k in &mut keys.keys {
        if k.key_id == K_LEAKED || k.key_id == K_NEW {
            k.status = KeyStatus::Inactive;
            k.last_used = keyspill_core::domain::LastUsed::Unknown;
        }
    }
    update(
        &mut state,
        Msg::Keys {
            seq: 2,
            at: NOW,
            result: Ok(keys.clone()),
        },
    );
    let cut = NOW + Duration::minutes(1);
    update(
        &mut state,
        Msg::Access {
            seq: 2,
            at: cut,
            result: Ok(access(Some(cut), false)),
        },
    );
    assert_eq!(unseen(&state), keyspill_core::access::FootState::Closed);
    // Later polls do not move the bound: the key was off before the cut-off.
    let later = NOW + Duration::hours(2);
    update(
        &mut state,
        Msg::Keys {
            seq: 3,
            at: later,
            result: Ok(keys),
        },
    );
    assert_eq!(unseen(&state), keyspill_core::access::FootState::Closed);
}

#[test]
fn a_role_that_trusts_only_outside_principals_is_removed_not_emptied() {
    let mut state = loaded(false);
    let mut snapshot = access(None, true);
    snapshot.roles.push(role(
        "vendor-only",
        &["arn:aws:iam::999988887777:root"],
        None,
    ));
    update(
        &mut state,
        Msg::Access {
            seq: 2,
            at: NOW,
            result: Ok(snapshot),
        },
    );
    point_at(&mut state, "trust:vendor-only");
    press(&mut state, 'd');
    assert!(state.dialog.is_none());
    let flash = flash_text(&state);
    assert!(flash.contains("remove the role"), "{flash}");
}

fn trust_sessions(state: &State) -> Option<keyspill_core::access::Foothold> {
    state
        .access
        .assessment
        .footholds
        .iter()
        .find(|f| f.id == "trust:deploy-role")
        .cloned()
}

fn access_at(state: &mut State, seq: u64, at: Timestamp, snap: AccessSnapshot) {
    state.now = at;
    update(
        state,
        Msg::Access {
            seq,
            at,
            result: Ok(snap),
        },
    );
}

#[test]
fn a_trust_seen_outside_then_closed_leaves_its_sessions_open_until_revoked_after_it_closed() {
    let mut state = loaded(false);
    // A vendor-looking outside trust, standing: the trust foothold alone.
    assert!(trust_sessions(&state).is_none());
    // The next poll finds it closed (someone else changed it): the sessions minted through it
    // count from then.
    let closed_seen = NOW + Duration::minutes(2);
    access_at(&mut state, 2, closed_seen, access(None, false));
    let f = trust_sessions(&state).expect("sessions through the trust");
    assert_eq!(f.state, keyspill_core::access::FootState::Open);
    assert_eq!(f.expires, Some(closed_seen + Duration::hours(12)));
    // A revocation older than the poll that saw it closed is not enough …
    access_at(
        &mut state,
        3,
        NOW + Duration::minutes(3),
        access(Some(NOW + Duration::minutes(1)), false),
    );
    assert_eq!(
        trust_sessions(&state).map(|f| f.state),
        Some(keyspill_core::access::FootState::Open)
    );
    // … one from after it is.
    access_at(
        &mut state,
        4,
        NOW + Duration::minutes(4),
        access(Some(closed_seen), false),
    );
    assert_eq!(
        trust_sessions(&state).map(|f| f.state),
        Some(keyspill_core::access::FootState::Closed)
    );
    // Outside again: minting at will, and the revocation no longer closes it.
    access_at(
        &mut state,
        5,
        NOW + Duration::minutes(5),
        access(Some(closed_seen), true),
    );
    assert!(state.access.trust_closed.is_empty());
    // An untrust of this response from before the trust was opened again does not bound the
    // sessions minted since: closed again at NOW+7m, the bound is that poll.
    state.actions.push(keyspill_core::app::state::ActionRecord {
        id: "a1".into(),
        at: NOW + Duration::minutes(1),
        operator: "ic".into(),
        label: "remove account 999988887777 from the trust of role deploy-role".into(),
        outcome: journal::Outcome::Done("ok".into()),
    });
    access_at(
        &mut state,
        6,
        NOW + Duration::minutes(7),
        access(Some(NOW + Duration::minutes(6)), false),
    );
    assert_eq!(
        state.access.trust_closed.get("deploy-role"),
        Some(&(NOW + Duration::minutes(7)))
    );
    assert_eq!(
        trust_sessions(&state).map(|f| f.state),
        Some(keyspill_core::access::FootState::Open)
    );
}

#[test]
fn the_console_s_own_untrust_bounds_the_sessions_and_survives_a_restart() {
    let mut state = loaded(false);
    // This response took the outside account out of the trust at NOW+1m (as the journal
    // would give it back on a restart); the first poll to see it closed comes much later.
    state.actions.push(keyspill_core::app::state::ActionRecord {
        id: "a1".into(),
        at: NOW + Duration::minutes(1),
        operator: "ic".into(),
        label: "remove account 999988887777 from the trust of role deploy-role".into(),
        outcome: journal::Outcome::Done("ok".into()),
    });
    access_at(
        &mut state,
        2,
        NOW + Duration::minutes(9),
        access(Some(NOW + Duration::minutes(2)), false),
    );
    let f = trust_sessions(&state).expect("sessions through the trust");
    assert_eq!(
        f.state,
        keyspill_core::access::FootState::Closed,
        "{}",
        f.why
    );
    assert_eq!(
        keyspill_core::app::plan::untrusted_role(
            "remove account 999988887777 from the trust of role deploy-role"
        ),
        Some("deploy-role")
    );
    assert_eq!(
        keyspill_core::app::plan::untrusted_role("revoke sessions of role deploy-role"),
        None
    );
}

#[test]
fn with_accounts_nothing_is_contained_until_the_other_accounts_are_looked_into_and_while_that_is_fresh()
 {
    use keyspill_core::app::access::{MEMBERS_STALE, Members};
    let mut state = loaded(false);
    state.access.members_expected = true;
    with_sessions(&mut state);
    contained(&mut state);
    assert!(!state.access.assessment.contained());
    assert!(
        state
            .access
            .assessment
            .text()
            .contains("the other accounts (--accounts) are not looked into yet"),
        "{}",
        state.access.assessment.text()
    );
    // Looked into, nothing open there: contained.
    update(
        &mut state,
        Msg::Members(Members {
            role: "OrganizationAccountAccessRole".into(),
            at: NOW,
            listing: None,
            accounts: Vec::new(),
        }),
    );
    assert!(
        state.access.assessment.contained(),
        "{}",
        state.access.assessment.text()
    );
    // Their answer goes stale when their polls stop arriving.
    update(
        &mut state,
        Msg::Tick(NOW + MEMBERS_STALE + Duration::minutes(1)),
    );
    contained(&mut state);
    assert!(!state.access.assessment.contained());
    assert!(
        state
            .access
            .assessment
            .text()
            .contains("the other accounts were last looked into 11 min ago"),
        "{}",
        state.access.assessment.text()
    );
}

const MEMBER: &str = "444455556666";
const MEMBER_KEY: &str = "AKIA2WORKLOADSNEW002";

/// Another account (`--accounts`) where the attacker left a key and a session of its own.
fn member_with_backdoor() -> keyspill_core::app::access::Members {
    use keyspill_core::access::{Assessment, FootState, Foothold, Kind, Provenance, Remedy};
    use keyspill_core::access::{Verified, evidence::Principal as P};
    use keyspill_core::app::access::{MemberModel, Members};
    use keyspill_core::domain::{KeysSnapshot, LastUsed};
    let open = |kind, id: &str, principal: &str, remedy| Foothold {
        kind,
        id: id.into(),
        principal: principal.into(),
        state: FootState::Open,
        why: "made after the leak started".into(),
        expires: None,
        provenance: Provenance::Unknown {
            appeared: SINCE + Duration::hours(1),
        },
        remedy: Some(remedy),
        subject: None,
    };
    let footholds = vec![
        open(
            Kind::AccessKey,
            MEMBER_KEY,
            "user ops-backup",
            Remedy::DisableKey {
                user: "ops-backup".into(),
                key_id: MEMBER_KEY.into(),
            },
        ),
        open(
            Kind::Session,
            "ASIA2MEMBERSESSION01",
            "role admin",
            Remedy::Revoke(vec![P::Role("admin".into())]),
        ),
    ];
    Members {
        role: "OrganizationAccountAccessRole".into(),
        at: NOW,
        listing: None,
        accounts: vec![MemberModel {
            id: MEMBER.into(),
            name: "workloads".into(),
            status: "ACTIVE".into(),
            outcome: Ok(Assessment {
                footholds,
                verified: Verified::At(NOW),
                dropped_acts: 0,
            }),
            keys: Some(KeysSnapshot {
                keys: vec![key(
                    "ops-backup",
                    MEMBER_KEY,
                    KeyStatus::Active,
                    SINCE + Duration::hours(1),
                    LastUsed::Never,
                    Some(false),
                )],
                ..KeysSnapshot::default()
            }),
            resources: Vec::new(),
        }],
    }
}

#[test]
fn d_on_another_account_s_key_disables_it_there_and_x_leaves_that_account_s_sessions_alone() {
    use keyspill_core::app::msg::ActionReport;
    use keyspill_core::app::plan::KeyRef;
    use keyspill_core::app::state::Source;
    let mut state = loaded(false);
    update(&mut state, Msg::Members(member_with_backdoor()));
    let handle = format!("access-key:{MEMBER}:{MEMBER_KEY}");
    point_at(&mut state, &handle);
    let theme = Theme::new(keyspill_core::ui::theme::ThemeName::Default, false);
    let screen = screen_text(draw(&state, &theme, 160, 40).backend().buffer());
    assert!(
        screen.contains("d disables it there · D deletes it there"),
        "{screen}"
    );

    press(&mut state, 'd');
    let c = confirm(&state);
    let want = Plan::InAccount {
        account: MEMBER.into(),
        named: format!("{MEMBER} (workloads)"),
        plan: Box::new(Plan::DisableKeys(vec![KeyRef {
            user: "ops-backup".into(),
            key_id: MEMBER_KEY.into(),
            status: KeyStatus::Active,
            self_key: false,
        }])),
    };
    assert_eq!(c.plan, want);
    assert!(
        c.stages[0]
            .lines
            .iter()
            .any(|l| l.ends_with("revoke each there (d on its row).")),
        "{:?}",
        c.stages[0].lines
    );
    assert!(
        c.stages[0]
            .title
            .starts_with("In account 444455556666 (workloads): disable"),
        "{}",
        c.stages[0].title
    );
    assert!(
        c.stages[0].lines[0]
            == "Runs in account 444455556666 (workloads), as the role keyspill entered it with.",
        "{:?}",
        c.stages[0].lines
    );
    insta::assert_snapshot!(
        "access_member_disable_100x30",
        draw(&state, &theme, 100, 30).backend()
    );
    type_text(&mut state, "W002");
    assert_eq!(enter(&mut state), vec![Effect::Execute(want.clone())]);

    // Its outcome reads that account again, and leaves this account's keys as they were.
    let keys_before = state.keys.data.data.clone();
    update(
        &mut state,
        Msg::ActionStarted {
            id: "m1".into(),
            label: want.label(),
            at: NOW,
        },
    );
    let effects = update(
        &mut state,
        Msg::ActionFinished {
            id: "m1".into(),
            at: NOW,
            report: ActionReport {
                ok: true,
                summary: format!("{MEMBER_KEY} is now Inactive"),
                observed: Vec::new(),
                account: Some(MEMBER.into()),
            },
        },
    );
    assert_eq!(effects, vec![Effect::Refresh(Source::Members)]);
    assert_eq!(state.keys.data.data, keys_before);

    // x revokes this account's open sessions only: the other account's is closed there, by d.
    press(&mut state, 'x');
    if let Some(Dialog::Confirm(c)) = &state.dialog {
        let Plan::RevokeSessions { principals, .. } = &c.plan else {
            panic!("{:?}", c.plan);
        };
        assert!(
            !principals.contains(&Principal::Role("admin".into())),
            "{principals:?}"
        );
    }
    state.dialog = None;
    point_at(
        &mut state,
        &format!("session:{MEMBER}:ASIA2MEMBERSESSION01"),
    );
    press(&mut state, 'd');
    let Plan::InAccount { account, plan, .. } = confirm(&state).plan else {
        panic!("not bound to the other account");
    };
    assert_eq!(account, MEMBER);
    assert!(
        matches!(&*plan, Plan::RevokeSessions { principals, .. }
            if principals == &vec![Principal::Role("admin".into())]),
        "{plan:?}"
    );
}

#[test]
fn a_plan_for_another_account_is_stamped_at_confirmation_and_refused_when_read_only() {
    let mut state = loaded(false);
    update(&mut state, Msg::Members(member_with_backdoor()));
    point_at(
        &mut state,
        &format!("session:{MEMBER}:ASIA2MEMBERSESSION01"),
    );
    press(&mut state, 'd');
    type_text(&mut state, "admin");
    let later = NOW + Duration::minutes(3);
    update(&mut state, Msg::Tick(later));
    let effects = enter(&mut state);
    let [Effect::Execute(Plan::InAccount { plan, .. })] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    let Plan::RevokeSessions { cutoff, .. } = &**plan else {
        panic!("{plan:?}");
    };
    assert_eq!(cutoff, &journal::format_ts(later));

    let mut state = loaded(true);
    update(&mut state, Msg::Members(member_with_backdoor()));
    point_at(&mut state, &format!("access-key:{MEMBER}:{MEMBER_KEY}"));
    press(&mut state, 'd');
    assert!(state.dialog.is_none());
}

#[test]
fn enter_on_a_user_the_attacker_made_in_another_account_shows_its_row_on_the_resources_tab() {
    use keyspill_core::access::{FootState, Foothold, Kind, Provenance, Remedy};
    use keyspill_core::resources::{GLOBAL, Kind as ResourceKind, Resource};
    let mut state = loaded(false);
    let mut members = member_with_backdoor();
    let m = &mut members.accounts[0];
    if let Ok(model) = m.outcome.as_mut() {
        model.footholds.push(Foothold {
            kind: Kind::User,
            id: "ops-backup".into(),
            principal: "user ops-backup".into(),
            state: FootState::Open,
            why: "made after the leak started".into(),
            expires: None,
            provenance: Provenance::Unknown {
                appeared: SINCE + Duration::hours(1),
            },
            remedy: Some(Remedy::Remove),
            subject: None,
        });
    }
    let mut user = Resource::new(ResourceKind::User, GLOBAL, "ops-backup");
    user.created = Some(SINCE + Duration::hours(1));
    m.resources.push(user);
    update(&mut state, Msg::Members(members));
    let handle = format!("{}:{MEMBER}:ops-backup", Kind::User.label());
    point_at(&mut state, &handle);

    // `d` says where it is removed.
    press(&mut state, 'd');
    assert!(state.dialog.is_none());
    let flash = flash_text(&state);
    assert!(
        flash.contains(
            "in account 444455556666 (workloads) is removed with its parts on the \
                        Resources tab"
        ),
        "{flash}"
    );
    // Enter goes there, to that account's row.
    enter(&mut state);
    assert_eq!(state.tab, Tab::Resources);
    assert_eq!(state.resources.filter, "ops-backup");
    let (row, _) = state.resources.current().expect("a row under the cursor");
    assert_eq!(
        (row.id.as_str(), row.account.as_deref()),
        ("ops-backup", Some(MEMBER))
    );
}
