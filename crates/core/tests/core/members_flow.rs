//! The other accounts (`--accounts`) through `update`: under the Keys table, each with its
//! account, what they run that was made after the leak started and their keys (the ones made
//! since marked); an account not looked into says why; the header stays NOT CONTAINED.

use crate::access_flow::press;
use crate::fixture::*;
use crate::screen::{draw, screen_text};
use keyspill_core::access::{Assessment, Verified};
use keyspill_core::app::access::{MemberModel, Members};
use keyspill_core::app::{Msg, update};
use keyspill_core::domain::{KeyStatus, KeysSnapshot, LastUsed};
use keyspill_core::resources::{Kind, Resource};
use keyspill_core::ui::Theme;
use time::Duration;

fn members() -> Members {
    let theirs = KeysSnapshot {
        keys: vec![
            key(
                "deploy",
                "AKIA2WORKLOADSOLD001",
                KeyStatus::Active,
                SINCE - Duration::days(200),
                used(NOW - Duration::hours(3), "s3", "eu-west-1"),
                Some(false),
            ),
            key(
                "ops-backup",
                "AKIA2WORKLOADSNEW002",
                KeyStatus::Active,
                SINCE + Duration::hours(1),
                LastUsed::Never,
                Some(false),
            ),
        ],
        ..KeysSnapshot::default()
    };
    // Their model as their own poll made it (its footholds are merged into this account's
    // answer; `access_model` tests that).
    let model = Assessment {
        footholds: Vec::new(),
        verified: Verified::At(NOW),
        dropped_acts: 0,
    };
    Members {
        role: "OrganizationAccountAccessRole".into(),
        at: NOW - Duration::seconds(40),
        listing: None,
        accounts: vec![
            MemberModel {
                id: "444455556666".into(),
                name: "workloads".into(),
                status: "ACTIVE".into(),
                outcome: Ok(model),
                keys: Some(theirs),
                resources: vec![{
                    let mut r = Resource::new(Kind::Instance, "ap-south-1", "i-0attacker000001");
                    r.created = Some(SINCE + Duration::hours(2));
                    r.state = "running".into();
                    r
                }],
            },
            MemberModel {
                id: "777788889999".into(),
                name: "sandbox".into(),
                status: "ACTIVE".into(),
                outcome: Err(
                    "cannot enter: AccessDenied: missing permission sts:AssumeRole".into(),
                ),
                keys: None,
                resources: Vec::new(),
            },
            MemberModel {
                id: "121212121212".into(),
                name: "closed-2024".into(),
                status: "SUSPENDED".into(),
                outcome: Err("the account is SUSPENDED".into()),
                keys: None,
                resources: Vec::new(),
            },
        ],
    }
}

#[test]
fn other_accounts_keys_show_under_the_table_and_an_account_not_looked_into_says_why() {
    let mut state = keys_answered(snapshot(Some(false)));
    let theme = Theme::new(keyspill_core::ui::theme::ThemeName::Default, false);
    let before = screen_text(draw(&state, &theme, 120, 40).backend().buffer());
    assert!(!before.contains("Other accounts"), "{before}");

    update(&mut state, Msg::Members(members()));
    // The organisation's accounts are trusted by this account's roles from now on.
    assert!(
        state
            .access
            .trusted_accounts
            .iter()
            .any(|a| a == "444455556666")
    );
    let screen = screen_text(draw(&state, &theme, 120, 40).backend().buffer());
    assert!(screen.contains("Other accounts"), "{screen}");
    // In the Keys table, with their account, the one made since the leak marked NEW.
    let row = |id: &str| {
        let rows: Vec<&str> = screen.lines().filter(|l| l.contains(id)).collect();
        assert_eq!(rows.len(), 1, "{id} once, in the table:\n{screen}");
        rows[0].to_string()
    };
    let new_row = row("AKIA2WORKLOADSNEW002");
    assert!(
        new_row.contains("444455556666") && new_row.contains("NEW"),
        "{new_row}"
    );
    let old_row = row("AKIA2WORKLOADSOLD001");
    assert!(
        old_row.contains("444455556666") && !old_row.contains("NEW"),
        "{old_row}"
    );
    // What it runs that was made since the leak is counted on its line: the rows are on the
    // Resources tab.
    let account = screen
        .lines()
        .find(|l| l.contains("444455556666 (workloads)"))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(
        account.contains("1 resource made since the leak started (Resources tab)"),
        "{account}"
    );
    assert!(!screen.contains("i-0attacker000001"), "{screen}");
    assert!(
        screen.contains("777788889999 (sandbox)  not looked into: cannot enter: AccessDenied"),
        "{screen}"
    );
    // The header cannot say contained (here IAM was not read yet either; merging an account
    // not looked into into a verified answer is `access_model`'s test).
    assert!(!state.access.assessment.contained());
    insta::assert_snapshot!("members_120x40", draw(&state, &theme, 120, 40).backend());
    insta::assert_snapshot!("members_80x24", draw(&state, &theme, 80, 24).backend());
}

#[test]
fn a_key_of_another_account_is_acted_on_there_and_keys_of_two_accounts_are_not_mixed() {
    use keyspill_core::app::Effect;
    use keyspill_core::app::plan::{KeyRef, Plan};
    use keyspill_core::app::state::Dialog;
    let mut state = keys_answered(snapshot(Some(false)));
    update(&mut state, Msg::Members(members()));
    state.keys.cursor = Some("AKIA2WORKLOADSNEW002".into());

    press(&mut state, 'd');
    let Some(Dialog::Confirm(c)) = &state.dialog else {
        panic!("no dialog: {:?}", state.flash);
    };
    assert_eq!(
        c.plan,
        Plan::InAccount {
            account: "444455556666".into(),
            named: "444455556666 (workloads)".into(),
            plan: Box::new(Plan::DisableKeys(vec![KeyRef {
                user: "ops-backup".into(),
                key_id: "AKIA2WORKLOADSNEW002".into(),
                status: KeyStatus::Active,
                self_key: false,
            }])),
        }
    );
    state.dialog = None;

    // Its user's detail is that account's: not read from this one.
    let effects = update(
        &mut state,
        Msg::Key(crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Enter,
            crossterm::event::KeyModifiers::NONE,
        )),
    );
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::FetchUserDetail(_))),
        "{effects:?}"
    );
    assert!(state.keys.detail.is_none());

    // A selection across two accounts is refused: each account's action is its own.
    press(&mut state, ' ');
    state.keys.cursor = Some("AKIA2CIDEPLOYLEAK7Q4".into());
    press(&mut state, ' ');
    assert_eq!(state.keys.selected.len(), 2);
    press(&mut state, 'd');
    assert!(state.dialog.is_none());
    let flash = flash_text(&state);
    assert!(flash.contains("in 2 accounts"), "{flash}");
}

/// Types each stage's words and Enter until the dialog closes; the effects of the last Enter.
fn confirm_every_stage(
    state: &mut keyspill_core::app::state::State,
) -> Vec<keyspill_core::app::Effect> {
    use keyspill_core::app::state::Dialog;
    let mut effects = Vec::new();
    while let Some(Dialog::Confirm(c)) = &state.dialog {
        let expected = c.current().map(|s| s.expected.clone()).unwrap_or_default();
        crate::access_flow::type_text(state, &expected);
        effects = crate::access_flow::enter(state);
    }
    effects
}

#[test]
fn another_account_s_resources_are_rows_of_the_resources_tab_and_removed_there() {
    use keyspill_core::app::Effect;
    use keyspill_core::app::msg::ActionReport;
    use keyspill_core::app::plan::Plan;
    use keyspill_core::app::state::{Dialog, Tab};
    use keyspill_core::resources::{GLOBAL, RegionSweep, ResourceRef};
    const MEMBER: &str = "444455556666";
    let mut state = identified(false);
    // This account and the member each have a user called backup-svc, both made since the
    // leak: two resources, never one.
    let user = |account: Option<&str>| {
        let mut r = Resource::new(Kind::User, GLOBAL, "backup-svc");
        r.created = Some(SINCE + Duration::hours(3));
        r.account = account.map(str::to_string);
        r
    };
    update(
        &mut state,
        Msg::ResourcesRegion {
            seq: 0,
            at: NOW,
            sweep: RegionSweep {
                region: GLOBAL.into(),
                resources: vec![user(None)],
                cells: Vec::new(),
            },
        },
    );
    let mut answer = members();
    answer.accounts[0].resources.push(user(None));
    let effects = update(&mut state, Msg::Members(answer.clone()));
    // The member's user's parts are read there (through that account's session).
    assert_eq!(
        effects,
        vec![Effect::FetchParts(vec![user(Some(MEMBER)).reference()])]
    );
    press(&mut state, '3');
    assert_eq!(state.tab, Tab::Resources);
    assert_eq!(state.resources.rows.len(), 3, "{:?}", state.resources.rows);
    let theme = Theme::new(keyspill_core::ui::theme::ThemeName::Default, false);
    let screen = screen_text(draw(&state, &theme, 120, 30).backend().buffer());
    assert!(screen.contains("ACCOUNT"), "{screen}");
    let instance_row = screen
        .lines()
        .find(|l| l.contains("i-0attacker000001"))
        .unwrap_or_else(|| panic!("{screen}"));
    assert!(instance_row.contains(MEMBER), "{instance_row}");
    let own = identity().account;
    assert_eq!(
        screen
            .lines()
            .filter(|l| l.contains("backup-svc") && (l.contains(MEMBER) || l.contains(&own)))
            .count(),
        2,
        "{screen}"
    );
    insta::assert_snapshot!(
        "resources_members_120x30",
        draw(&state, &theme, 120, 30).backend()
    );
    // Wide, the ACCOUNT column takes EVENTS' room: ids stay whole.
    let wide = screen_text(draw(&state, &theme, 150, 20).backend().buffer());
    assert!(
        wide.contains("i-0attacker000001") && !wide.contains("EVENTS"),
        "{wide}"
    );
    insta::assert_snapshot!(
        "resources_members_150x20",
        draw(&state, &theme, 150, 20).backend()
    );

    // A selection across the two accounts is refused.
    let instance = ResourceRef {
        kind: Kind::Instance,
        region: "ap-south-1".into(),
        id: "i-0attacker000001".into(),
        account: Some(MEMBER.into()),
    };
    state.resources.cursor = Some(instance.clone());
    press(&mut state, ' ');
    state.resources.cursor = Some(user(None).reference());
    press(&mut state, ' ');
    press(&mut state, 't');
    assert!(state.dialog.is_none());
    let flash = flash_text(&state);
    assert!(flash.contains("in 2 accounts"), "{flash}");
    state.resources.selected.clear();

    // `t` on the member's instance: the plan runs there, its steps name that account, and Tab
    // (no evidence) keeps it bound there.
    state.resources.cursor = Some(instance.clone());
    press(&mut state, 't');
    let Some(Dialog::Confirm(c)) = &state.dialog else {
        panic!("no dialog: {:?}", state.flash);
    };
    let Plan::InAccount {
        account,
        named,
        plan,
    } = &c.plan
    else {
        panic!("{:?}", c.plan);
    };
    assert_eq!(
        (account.as_str(), named.as_str()),
        (MEMBER, "444455556666 (workloads)")
    );
    let Plan::RemoveResources(p) = plan.as_ref() else {
        panic!("{plan:?}");
    };
    assert!(!p.steps.is_empty());
    assert!(
        p.steps.iter().all(|s| s.target == instance),
        "{:?}",
        p.steps
    );
    assert!(
        c.stages[0].title.contains("444455556666 (workloads)"),
        "{:?}",
        c.stages[0]
    );
    update(
        &mut state,
        Msg::Key(crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Tab,
            crossterm::event::KeyModifiers::NONE,
        )),
    );
    let Some(Dialog::Confirm(c)) = &state.dialog else {
        panic!("the dialog closed");
    };
    assert!(
        matches!(c.plan.inner(), Plan::RemoveResources(p) if p.skipped_evidence),
        "{:?}",
        c.plan
    );
    assert_eq!(c.plan.account().0, Some(MEMBER));
    update(
        &mut state,
        Msg::Key(crossterm::event::KeyEvent::new(
            crossterm::event::KeyCode::Tab,
            crossterm::event::KeyModifiers::NONE,
        )),
    );
    let effects = confirm_every_stage(&mut state);
    let executed = effects
        .iter()
        .find_map(|e| match e {
            Effect::Execute(p) => Some(p.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{effects:?}"));
    assert_eq!(executed.account().0, Some(MEMBER));
    assert!(matches!(executed.inner(), Plan::RemoveResources(p) if !p.skipped_evidence));
    assert!(state.resources.removal.is_some());

    // When it ends, the other accounts are read again, not this account's regions.
    update(
        &mut state,
        Msg::ActionStarted {
            id: "a1".into(),
            label: executed.label(),
            at: NOW,
        },
    );
    let effects = update(
        &mut state,
        Msg::ActionFinished {
            id: "a1".into(),
            at: NOW,
            report: ActionReport {
                ok: true,
                summary: "2/2 steps done".into(),
                observed: Vec::new(),
                account: Some(MEMBER.into()),
            },
        },
    );
    assert_eq!(
        effects,
        vec![Effect::Refresh(keyspill_core::app::state::Source::Members)]
    );

    // An answer that could not look into the account keeps its rows (never "nothing there");
    // the next one that did replaces them.
    let mut failed = answer.clone();
    failed.accounts[0].outcome = Err("cannot enter: ExpiredToken".into());
    failed.accounts[0].resources.clear();
    update(&mut state, Msg::Members(failed));
    let there = |state: &keyspill_core::app::state::State| {
        state
            .resources
            .resources
            .iter()
            .filter(|r| r.account.as_deref() == Some(MEMBER))
            .count()
    };
    assert_eq!(there(&state), 2);
    let mut gone = answer.clone();
    gone.accounts[0]
        .resources
        .retain(|r| r.kind != Kind::Instance);
    update(&mut state, Msg::Members(gone));
    assert_eq!(there(&state), 1);
    // When the organisation cannot be listed, every account keeps its rows; an account it no
    // longer lists loses them.
    let mut unlisted = answer;
    unlisted.accounts.clear();
    unlisted.listing = Some("AccessDenied: organizations:ListAccounts".into());
    update(&mut state, Msg::Members(unlisted.clone()));
    assert_eq!(there(&state), 1);
    unlisted.listing = None;
    update(&mut state, Msg::Members(unlisted));
    assert_eq!(there(&state), 0);
}
