//! "What can it still do?" through `update`: `w` on a foothold and `:can` on any principal,
//! the grid turning to denied as the room closes the foothold, a foothold whose every
//! high-impact action is denied counted as closed, and IAM's simulator's disagreements.

use crate::fixture::*;
use crate::screen::{draw, screen_text};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use keyspill_core::access::authz::{Authz, Entity, Inline, Policy, Simulated, Word, catalogue};
use keyspill_core::access::{AccessSnapshot, FootState, Foothold, RoleAccess, UserAccess};
use keyspill_core::app::state::{State, Tab};
use keyspill_core::app::{Effect, Msg, update};
use keyspill_core::domain::{ErrorKind, Failure};
use keyspill_core::ui::Theme;
use time::Duration;

const ACCT: &str = "123456789012";
const ADMIN: &str = r#"{"Statement":[{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const DENY_ALL: &str =
    r#"{"Statement":[{"Sid":"DenyAll","Effect":"Deny","Action":"*","Resource":"*"}]}"#;

fn key(state: &mut State, code: KeyCode) -> Vec<Effect> {
    update(state, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn press(state: &mut State, c: char) -> Vec<Effect> {
    key(state, KeyCode::Char(c))
}

fn theme() -> Theme {
    Theme::new(keyspill_core::ui::theme::ThemeName::Default, false)
}

fn entity(arn: String, docs: &[&str]) -> Entity {
    Entity {
        arn,
        inline: docs
            .iter()
            .enumerate()
            .map(|(n, d)| Inline {
                name: format!("p{n}"),
                policy: Policy::parse(d),
            })
            .collect(),
        ..Default::default()
    }
}

/// The fixture's users, with `ci-deploy` holding `docs`; a role `deploy-role` that trusts
/// the account, with administrator rights.
fn access(ci_deploy: &[&str]) -> AccessSnapshot {
    let mut authz = Authz::default();
    let users: Vec<UserAccess> = snapshot(None)
        .users
        .into_iter()
        .map(|u| UserAccess {
            name: u.name,
            arn: u.arn,
            created: u.created,
            password: None,
            revoked_before: None,
        })
        .collect();
    for u in &users {
        let docs: &[&str] = if u.name == "ci-deploy" {
            ci_deploy
        } else {
            &[]
        };
        authz
            .users
            .insert(u.name.clone(), entity(u.arn.clone(), docs));
    }
    let trust = format!(
        r#"{{"Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCT}:root"}},"Action":"sts:AssumeRole"}}}}"#
    );
    let mut role = entity(format!("arn:aws:iam::{ACCT}:role/deploy-role"), &[ADMIN]);
    role.trust = Some(Policy::parse(&trust));
    authz.roles.insert("deploy-role".into(), role);
    AccessSnapshot {
        users,
        roles: vec![RoleAccess::new(
            "deploy-role".into(),
            format!("arn:aws:iam::{ACCT}:role/deploy-role"),
            SINCE - Duration::days(100),
            trust,
        )],
        authz: authz.into(),
        ..AccessSnapshot::default()
    }
}

/// The fixture account with IAM's keys and `snap` read.
fn with_access(snap: AccessSnapshot) -> State {
    let mut state = identified(false);
    update(
        &mut state,
        Msg::Access {
            seq: 1,
            at: NOW,
            result: Ok(snap),
        },
    );
    state
}

fn loaded(ci_deploy: &[&str]) -> State {
    let mut state = with_access(access(ci_deploy));
    press(&mut state, '6');
    assert_eq!(state.tab, Tab::Access);
    state
}

fn leaked_handle() -> String {
    format!("leaked-key:{K_LEAKED}")
}

/// The foothold of the leaked key's backdoor (`K_NEW`).
fn new_key(state: &State) -> &Foothold {
    state
        .access
        .assessment
        .footholds
        .iter()
        .find(|f| f.id == K_NEW)
        .expect("the new key is a foothold")
}

fn cell(state: &State, action: &str) -> Word {
    let v = state.access.perms.as_ref().expect("the view is open");
    v.grid
        .iter()
        .find(|c| c.action == action)
        .map(|c| c.verdict.word())
        .unwrap_or_else(|| panic!("no cell {action}"))
}

#[test]
fn w_shows_what_the_leaked_key_can_do_and_asks_the_simulator() {
    let mut state = loaded(&[ADMIN]);
    state.access.cursor = Some(leaked_handle());
    let effects = press(&mut state, 'w');
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Simulate { arn, actions }
            if arn.ends_with(":user/ci/ci-deploy") && actions.iter().any(|a| a == "iam:CreateUser"))),
        "{effects:?}"
    );
    assert_eq!(cell(&state, "iam:CreateUser"), Word::Allowed);
    assert_eq!(cell(&state, "cloudtrail:StopLogging"), Word::Allowed);
    let v = state.access.perms.as_ref().expect("open");
    // An administrator reaches the role that trusts the account, and other users' keys.
    assert!(
        v.reach
            .assumable
            .iter()
            .any(|h| h.role == "deploy-role" && h.admin)
    );
    assert!(
        v.reach
            .paths
            .iter()
            .any(|p| p.method.starts_with("CreateAccessKey on another user"))
    );
    let theme = theme();
    insta::assert_snapshot!("perms_120x40", draw(&state, &theme, 120, 40).backend());
    insta::assert_snapshot!("perms_80x24", draw(&state, &theme, 80, 24).backend());
    // The cursor walks the cells and the detail line names the deciding statement.
    key(&mut state, KeyCode::Down);
    let text = screen_text(draw(&state, &theme, 120, 40).backend().buffer());
    assert!(
        text.contains("iam:CreateAccessKey: allowed by inline user/ci-deploy:p0 All"),
        "{text}"
    );
    // Esc closes the view; the list is back.
    key(&mut state, KeyCode::Esc);
    assert!(state.access.perms.is_none());
}

#[test]
fn the_grid_turns_to_denied_when_the_room_disables_the_key() {
    let mut state = loaded(&[ADMIN]);
    state.access.cursor = Some(leaked_handle());
    press(&mut state, 'w');
    assert_eq!(cell(&state, "ec2:RunInstances"), Word::Allowed);
    // The key is disabled; the next keys poll says so.
    let snap = with_inactive(&[K_LEAKED]);
    update(
        &mut state,
        Msg::Keys {
            seq: 2,
            at: NOW + Duration::seconds(20),
            result: Ok(snap),
        },
    );
    let v = state.access.perms.as_ref().expect("still open");
    assert!(v.grid.iter().all(|c| c.verdict.word() == Word::Denied));
    assert!(v.reach.paths.is_empty());
    let text = screen_text(draw(&state, &theme(), 120, 40).backend().buffer());
    assert!(text.contains("0 ALLOWED"), "{text}");
    assert!(text.contains("the foothold is closed: Inactive"), "{text}");
}

#[test]
fn a_foothold_whose_every_action_is_denied_is_closed() {
    let state = loaded(&[ADMIN, DENY_ALL]);
    let f = new_key(&state);
    assert_eq!(
        f.state,
        FootState::Closed,
        "{}",
        state.access.assessment.text()
    );
    assert!(
        f.why
            .starts_with("every high-impact action is denied, inline user/ci-deploy:p1 DenyAll"),
        "{}",
        f.why
    );
    // With the administrator rights alone it is open, and its grid says why.
    let open = loaded(&[ADMIN]);
    let f = new_key(&open);
    assert_eq!(f.state, FootState::Open);
    let authz = &open.access.data.data.as_ref().expect("access").authz;
    let actions: Vec<String> = catalogue::actions().iter().map(|a| a.to_string()).collect();
    let can = keyspill_core::access::can(f, Some(authz), &actions, NOW);
    assert_eq!(can.len(), actions.len());
    assert!(can.values().all(|w| *w == Word::Allowed), "{can:?}");
}

#[test]
fn can_opens_any_role_and_the_simulator_disagreement_is_shown() {
    let mut state = loaded(&[ADMIN]);
    press(&mut state, '1');
    press(&mut state, ':');
    for c in "can role deploy-role".chars() {
        press(&mut state, c);
    }
    let effects = key(&mut state, KeyCode::Enter);
    assert_eq!(state.tab, Tab::Access);
    let arn = format!("arn:aws:iam::{ACCT}:role/deploy-role");
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Simulate { arn: a, .. } if *a == arn)),
        "{effects:?}"
    );
    assert_eq!(cell(&state, "iam:PassRole"), Word::Allowed);
    update(
        &mut state,
        Msg::Simulated {
            arn: arn.clone(),
            at: NOW,
            result: Ok(vec![
                ("iam:CreateUser".into(), Simulated::Allowed),
                ("iam:PassRole".into(), Simulated::ImplicitDeny),
            ]),
        },
    );
    let text = screen_text(draw(&state, &theme(), 120, 40).backend().buffer());
    assert!(
        text.contains("IAM's simulator DISAGREES on 1 action(s) for role deploy-role: iam:PassRole: here allowed, simulator implicit deny"),
        "{text}"
    );
    // A failed simulation says so, and the grid stays keyspill's own.
    press(&mut state, 's');
    update(
        &mut state,
        Msg::Simulated {
            arn,
            at: NOW,
            result: Err(Failure {
                kind: ErrorKind::NotImplemented,
                code: Some("NotImplemented".into()),
                text: "the endpoint does not implement SimulatePrincipalPolicy".into(),
                permission: None,
            }),
        },
    );
    let text = screen_text(draw(&state, &theme(), 120, 40).backend().buffer());
    assert!(text.contains("IAM's simulator: not available"), "{text}");
    // A user or role IAM does not list is named.
    press(&mut state, ':');
    for c in "can user nobody".chars() {
        press(&mut state, c);
    }
    key(&mut state, KeyCode::Enter);
    let text = screen_text(draw(&state, &theme(), 120, 40).backend().buffer());
    assert!(
        text.contains("user nobody is not in the last IAM poll"),
        "{text}"
    );
}

#[test]
fn a_revocation_on_a_role_does_not_close_what_its_next_session_can_do() {
    // The role trusts an outside account and carries a revocation whose cut-off is not yet
    // past: sessions issued before it are denied, the next one the outsider mints is not.
    let cut = NOW + Duration::seconds(30);
    let revoke = format!(
        r#"{{"Statement":{{"Effect":"Deny","Action":"*","Resource":"*","Condition":{{"DateLessThan":{{"aws:TokenIssueTime":"{}"}}}}}}}}"#,
        keyspill_core::journal::format_ts(cut)
    );
    let mut snap = access(&[ADMIN]);
    let trust = r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"sts:AssumeRole"}}"#;
    snap.roles = vec![RoleAccess {
        revoked_before: Some(cut),
        ..RoleAccess::new(
            "deploy-role".into(),
            format!("arn:aws:iam::{ACCT}:role/deploy-role"),
            SINCE - Duration::days(100),
            trust.into(),
        )
    }];
    let role = std::sync::Arc::make_mut(&mut snap.authz)
        .roles
        .get_mut("deploy-role")
        .expect("role");
    role.trust = Some(Policy::parse(trust));
    role.inline.push(Inline {
        name: "AWSRevokeOlderSessions".into(),
        policy: Policy::parse(&revoke),
    });
    let state = with_access(snap);
    let f = state
        .access
        .assessment
        .footholds
        .iter()
        .find(|f| f.handle() == "trust:deploy-role")
        .expect("the outside trust");
    assert_eq!(f.state, FootState::Open, "{}", f.why);
    let issued = f
        .subject
        .as_ref()
        .and_then(|s| s.ctx.issued)
        .expect("a session");
    assert!(issued > cut, "{issued} is not after {cut}");
}

#[test]
fn escalation_follows_a_new_poll_of_the_policies() {
    let mut state = loaded(&[ADMIN]);
    state.access.cursor = Some(leaked_handle());
    press(&mut state, 'w');
    let before = state.access.perms.as_ref().expect("open").reach.clone();
    assert!(!before.paths.is_empty() && !before.assumable.is_empty());
    // Another keys poll: same policies, the same paths.
    update(
        &mut state,
        Msg::Keys {
            seq: 2,
            at: NOW + Duration::seconds(5),
            result: Ok(snapshot(Some(false))),
        },
    );
    assert_eq!(state.access.perms.as_ref().expect("open").reach, before);
    // The administrator's policy is replaced by a read-only one: no path, no role.
    update(
        &mut state,
        Msg::Access {
            seq: 2,
            at: NOW + Duration::seconds(10),
            result: Ok(access(&[
                r#"{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
            ])),
        },
    );
    let v = state.access.perms.as_ref().expect("open");
    assert!(v.reach.paths.is_empty(), "{:?}", v.reach);
    assert!(v.reach.assumable.is_empty(), "{:?}", v.reach);
    assert_eq!(cell(&state, "s3:GetObject"), Word::Allowed);
    assert_eq!(cell(&state, "iam:CreateUser"), Word::Denied);
}

#[test]
fn a_principal_a_role_trusts_by_name_can_still_act_without_permissions_of_its_own() {
    // ci-deploy has no policy at all: every action of the grid is denied to it.
    let closed = with_access(access(&[]));
    let f = new_key(&closed);
    assert_eq!(f.state, FootState::Closed, "{}", f.why);
    // A role that names it in its trust lets it act as that role: the key stays open.
    let mut snap = access(&[]);
    let ci_deploy = snap
        .authz
        .users
        .get("ci-deploy")
        .map(|u| u.arn.clone())
        .expect("ci-deploy");
    let trust = format!(
        r#"{{"Statement":{{"Effect":"Allow","Principal":{{"AWS":"{ci_deploy}"}},"Action":"sts:AssumeRole"}}}}"#
    );
    std::sync::Arc::make_mut(&mut snap.authz)
        .roles
        .get_mut("deploy-role")
        .expect("role")
        .trust = Some(Policy::parse(&trust));
    let open = with_access(snap);
    let f = new_key(&open);
    assert_eq!(f.state, FootState::Open, "{}", f.why);
}
