//! Operator flows driven through the pure core: synthetic key events and runtime messages go
//! into `update`, and the tests check the state and the effects that come back.

use crate::fixture;
use std::collections::BTreeSet;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use keyspill_core::access::Principal;
use keyspill_core::app::msg::{ActionReport, JournalOpened, ObservedKeys};
use keyspill_core::app::plan::{DELETE_ACTIVE_WORD, KeyRef, LOCKOUT_WORD, Plan};
use keyspill_core::app::state::{Dialog, Level, Mode, Source, State};
use keyspill_core::app::{Effect, Msg, update};
use keyspill_core::domain::{
    AccessKey, ErrorKind, Failure, KeyStatus, KeysSnapshot, LastUsed, NewKey, Secret,
};
use keyspill_core::journal::{self, Event, Outcome};
use time::Duration;
use time::macros::datetime;

// ---------------------------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------------------------

use fixture::*;

fn keys_msg(seq: u64, snap: KeysSnapshot) -> Msg {
    Msg::Keys {
        seq,
        at: NOW - Duration::seconds(4),
        result: Ok(snap),
    }
}

/// Identity and the first keys poll, through `update`.
fn load(state: &mut State) {
    let effects = update(
        state,
        Msg::Identity {
            seq: 1,
            at: NOW - Duration::seconds(6),
            result: Ok(identity()),
        },
    );
    assert!(effects.is_empty());
    let effects = update(state, keys_msg(1, snapshot(Some(false))));
    assert!(effects.is_empty(), "{effects:?}");
}

fn fixture() -> State {
    let mut state = base(false);
    load(&mut state);
    state
}

fn fixture_read_only() -> State {
    let mut state = base(true);
    load(&mut state);
    state
}

fn key_event(code: KeyCode) -> KeyEvent {
    let modifiers = match code {
        KeyCode::Char(c) if c.is_ascii_uppercase() => KeyModifiers::SHIFT,
        _ => KeyModifiers::NONE,
    };
    KeyEvent::new(code, modifiers)
}

fn press(state: &mut State, c: char) -> Vec<Effect> {
    update(state, Msg::Key(key_event(KeyCode::Char(c))))
}

fn press_code(state: &mut State, code: KeyCode) -> Vec<Effect> {
    update(state, Msg::Key(key_event(code)))
}

fn ctrl(state: &mut State, c: char) -> Vec<Effect> {
    update(
        state,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
    )
}

fn enter(state: &mut State) -> Vec<Effect> {
    press_code(state, KeyCode::Enter)
}

fn esc(state: &mut State) -> Vec<Effect> {
    press_code(state, KeyCode::Esc)
}

/// Types text into whatever has the focus; typing never has effects.
fn type_text(state: &mut State, text: &str) {
    for c in text.chars() {
        let effects = press(state, c);
        assert!(effects.is_empty(), "typing {c:?} had effects {effects:?}");
    }
}

fn key_ref(user: &str, key_id: &str, status: KeyStatus, self_key: bool) -> KeyRef {
    KeyRef {
        user: user.into(),
        key_id: key_id.into(),
        status,
        self_key,
    }
}

fn leaked_ref() -> KeyRef {
    key_ref("ci-deploy", K_LEAKED, KeyStatus::Active, false)
}

fn confirm(state: &State) -> &keyspill_core::app::state::ConfirmDialog {
    match &state.dialog {
        Some(Dialog::Confirm(c)) => c,
        other => panic!("expected a confirmation dialog, got {other:?}"),
    }
}

fn row_ids(state: &State) -> Vec<String> {
    state.key_rows().into_iter().map(|r| r.key_id).collect()
}

fn flash_text(state: &State) -> &str {
    state.flash.as_ref().map_or("", |f| f.text.as_str())
}

/// Moves the cursor down until it is on `key_id`.
fn cursor_to(state: &mut State, key_id: &str) {
    for _ in 0..20 {
        if state.keys.cursor.as_deref() == Some(key_id) {
            return;
        }
        press(state, 'j');
    }
    panic!("{key_id} is not reachable with j");
}

fn is_execute(e: &Effect) -> bool {
    matches!(e, Effect::Execute(_))
}

// ---------------------------------------------------------------------------------------------
// (a) ordering and the first cursor
// ---------------------------------------------------------------------------------------------

#[test]
fn leaked_key_is_the_cursor_after_the_first_keys_poll() {
    let state = fixture();
    assert_eq!(state.keys.cursor.as_deref(), Some(K_LEAKED));
    // Leaked first, then new, then most recently used; never used and unknown last.
    assert_eq!(
        row_ids(&state),
        [
            K_LEAKED,
            K_NEW,
            K_SELF,
            K_ALICE,
            K_ALICE_OLD,
            K_BACKUP,
            K_REPORT
        ]
    );
    let rows = state.key_rows();
    assert!(rows[0].flags.leaked && !rows[0].flags.new);
    assert!(rows[1].flags.new && !rows[1].flags.leaked);
    assert!(rows[2].flags.self_key);
    assert!(rows[0].flags.quarantined && !rows[3].flags.quarantined);
}

#[test]
fn the_cursor_follows_its_key_across_polls() {
    let mut state = fixture();
    cursor_to(&mut state, K_ALICE);
    update(&mut state, keys_msg(2, snapshot(Some(false))));
    assert_eq!(state.keys.cursor.as_deref(), Some(K_ALICE));
}

// ---------------------------------------------------------------------------------------------
// (b) (c) (d) disable, cancel, read-only
// ---------------------------------------------------------------------------------------------

#[test]
fn disable_runs_only_after_the_right_last_four() {
    let mut state = fixture();
    assert!(press(&mut state, 'd').is_empty());
    let c = confirm(&state);
    assert_eq!(c.plan, Plan::DisableKeys(vec![leaked_ref()]));
    assert_eq!(c.stages.len(), 1);
    assert_eq!(c.stages[0].expected, "K7Q4");

    // Wrong text: Enter does nothing and the dialog stays.
    type_text(&mut state, "K7Q5");
    assert!(enter(&mut state).is_empty());
    assert_eq!(confirm(&state).typed, "K7Q5");
    assert_eq!(confirm(&state).stage, 0);

    // A prefix of the right text is not enough either.
    assert!(press_code(&mut state, KeyCode::Backspace).is_empty());
    assert_eq!(confirm(&state).typed, "K7Q");
    assert!(enter(&mut state).is_empty());
    assert!(state.dialog.is_some());

    type_text(&mut state, "4");
    let effects = enter(&mut state);
    assert_eq!(
        effects,
        vec![Effect::Execute(Plan::DisableKeys(vec![leaked_ref()]))]
    );
    assert!(state.dialog.is_none());
}

#[test]
fn confirmation_is_case_sensitive_and_ctrl_u_clears_it() {
    let mut state = fixture();
    press(&mut state, 'd');
    type_text(&mut state, "k7q4");
    assert!(enter(&mut state).is_empty());
    assert!(ctrl(&mut state, 'u').is_empty());
    assert_eq!(confirm(&state).typed, "");
    type_text(&mut state, "K7Q4");
    assert_eq!(enter(&mut state).len(), 1);
}

#[test]
fn esc_cancels_with_no_effect() {
    let mut state = fixture();
    press(&mut state, 'd');
    type_text(&mut state, "K7Q4");
    assert!(esc(&mut state).is_empty());
    assert!(state.dialog.is_none());
    assert!(
        flash_text(&state).contains("cancelled"),
        "{:?}",
        state.flash
    );
    // A later Enter is an ordinary key again (it opens the detail pane), not a confirmation.
    let effects = enter(&mut state);
    assert!(!effects.iter().any(is_execute), "{effects:?}");
}

#[test]
fn ctrl_c_cancels_a_confirmation_without_quitting() {
    let mut state = fixture();
    press(&mut state, 'd');
    type_text(&mut state, "K7Q4");
    assert!(ctrl(&mut state, 'c').is_empty());
    assert!(state.dialog.is_none());
    assert!(!state.quit);
}

#[test]
fn read_only_opens_no_dialog_and_says_so() {
    let mut state = fixture_read_only();
    for c in ['d', 'D', 'R', 'x'] {
        state.flash = None;
        let effects = press(&mut state, c);
        assert!(effects.is_empty(), "{c}: {effects:?}");
        assert!(state.dialog.is_none(), "{c} opened {:?}", state.dialog);
        let flash = state.flash.as_ref().expect("a flash explains the refusal");
        assert!(flash.text.contains("READ-ONLY"), "{c}: {}", flash.text);
        assert_eq!(flash.level, Level::Error);
    }
    // Looking is still allowed.
    assert_eq!(
        enter(&mut state),
        vec![Effect::FetchUserDetail("ci-deploy".into())]
    );
}

#[test]
fn no_second_action_starts_while_one_runs() {
    let mut state = fixture();
    update(
        &mut state,
        Msg::ActionStarted {
            id: "a-1".into(),
            label: "disable AKIA…K7Q4 (ci-deploy)".into(),
            at: NOW,
        },
    );
    assert!(press(&mut state, 'd').is_empty());
    assert!(state.dialog.is_none());
    assert!(flash_text(&state).contains("still running"));
}

// ---------------------------------------------------------------------------------------------
// (e) (f) extra stages
// ---------------------------------------------------------------------------------------------

#[test]
fn deleting_an_active_key_needs_the_last_four_then_delete() {
    let mut state = fixture();
    press(&mut state, 'D');
    let c = confirm(&state);
    assert_eq!(c.plan, Plan::DeleteKeys(vec![leaked_ref()]));
    assert_eq!(c.stages.len(), 2);

    type_text(&mut state, "K7Q4");
    assert!(enter(&mut state).is_empty(), "stage one alone must not act");
    let c = confirm(&state);
    assert_eq!(c.stage, 1);
    assert_eq!(c.typed, "");
    assert_eq!(c.stages[1].expected, DELETE_ACTIVE_WORD);
    assert!(c.stages[1].warning);

    // The first stage's text does not pass the second.
    type_text(&mut state, "K7Q4");
    assert!(enter(&mut state).is_empty());
    ctrl(&mut state, 'u');

    type_text(&mut state, "DELETE");
    assert_eq!(
        enter(&mut state),
        vec![Effect::Execute(Plan::DeleteKeys(vec![leaked_ref()]))]
    );
    assert!(state.dialog.is_none());
}

#[test]
fn deleting_an_inactive_key_needs_one_stage() {
    let mut state = fixture();
    cursor_to(&mut state, K_ALICE_OLD);
    press(&mut state, 'D');
    assert_eq!(confirm(&state).stages.len(), 1);
    type_text(&mut state, "06HJ");
    assert_eq!(
        enter(&mut state),
        vec![Effect::Execute(Plan::DeleteKeys(vec![key_ref(
            "alice",
            K_ALICE_OLD,
            KeyStatus::Inactive,
            false
        )]))]
    );
}

#[test]
fn disabling_the_self_key_needs_the_lockout_word() {
    let mut state = fixture();
    cursor_to(&mut state, K_SELF);
    press(&mut state, 'd');
    let self_ref = key_ref("responder", K_SELF, KeyStatus::Active, true);
    let c = confirm(&state);
    assert_eq!(c.plan, Plan::DisableKeys(vec![self_ref.clone()]));
    assert_eq!(c.stages.len(), 2);
    assert_eq!(c.stages[0].expected, "LF5X");
    assert_eq!(c.stages[1].expected, LOCKOUT_WORD);

    type_text(&mut state, "LF5X");
    assert!(enter(&mut state).is_empty());
    assert_eq!(confirm(&state).stage, 1);
    type_text(&mut state, "LOCKOUT");
    assert_eq!(
        enter(&mut state),
        vec![Effect::Execute(Plan::DisableKeys(vec![self_ref]))]
    );
}

#[test]
fn deleting_the_active_self_key_needs_all_three_stages() {
    let mut state = fixture();
    cursor_to(&mut state, K_SELF);
    press(&mut state, 'D');
    let expected: Vec<String> = confirm(&state)
        .stages
        .iter()
        .map(|s| s.expected.clone())
        .collect();
    assert_eq!(expected, ["LF5X", DELETE_ACTIVE_WORD, LOCKOUT_WORD]);
    for (i, word) in expected.iter().enumerate() {
        type_text(&mut state, word);
        let effects = enter(&mut state);
        if i + 1 < expected.len() {
            assert!(effects.is_empty(), "stage {i}");
        } else {
            assert_eq!(effects.len(), 1);
            assert!(is_execute(&effects[0]));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// (g) (h) selection
// ---------------------------------------------------------------------------------------------

#[test]
fn two_selected_keys_confirm_with_their_count() {
    let mut state = fixture();
    assert!(press(&mut state, ' ').is_empty());
    assert_eq!(
        state.keys.cursor.as_deref(),
        Some(K_LEAKED),
        "space selects and stays on the row"
    );
    press(&mut state, 'j');
    press(&mut state, ' ');
    assert_eq!(
        state.keys.selected,
        BTreeSet::from([K_LEAKED.to_string(), K_NEW.to_string()])
    );

    press(&mut state, 'd');
    let c = confirm(&state);
    assert_eq!(c.stages.len(), 1);
    assert_eq!(c.stages[0].expected, "2");
    let Plan::DisableKeys(keys) = &c.plan else {
        panic!("expected a disable plan, got {:?}", c.plan);
    };
    let ids: BTreeSet<&str> = keys.iter().map(|k| k.key_id.as_str()).collect();
    assert_eq!(ids, BTreeSet::from([K_LEAKED, K_NEW]));
    assert_eq!(keys.len(), 2);

    // The last four of either key is not the confirmation.
    type_text(&mut state, "K7Q4");
    assert!(enter(&mut state).is_empty());
    ctrl(&mut state, 'u');
    type_text(&mut state, "2");
    let effects = enter(&mut state);
    assert_eq!(effects.len(), 1);
    let Effect::Execute(Plan::DisableKeys(keys)) = &effects[0] else {
        panic!("expected Execute(DisableKeys), got {effects:?}");
    };
    assert_eq!(keys.len(), 2);
}

#[test]
fn space_twice_unselects() {
    let mut state = fixture();
    press(&mut state, ' ');
    press(&mut state, 'k');
    press(&mut state, ' ');
    assert!(state.keys.selected.is_empty());
}

#[test]
fn a_selects_exactly_the_active_keys_created_before_the_leak() {
    let mut state = fixture();
    assert!(press(&mut state, 'a').is_empty());
    assert_eq!(
        state.keys.selected,
        [K_LEAKED, K_SELF, K_ALICE, K_BACKUP, K_REPORT]
            .into_iter()
            .map(String::from)
            .collect::<BTreeSet<_>>(),
        "not the NEW key (after --since), not the Inactive one"
    );
    assert!(
        flash_text(&state).contains("selected 5"),
        "{:?}",
        state.flash
    );
}

#[test]
fn a_falls_back_to_the_leaked_keys_creation_without_since() {
    let mut state = base(false);
    state.since_flag = None;
    load(&mut state);
    press(&mut state, 'a');
    // The leaked key was created 2025-03-10: only alice's Active key is older.
    assert_eq!(state.keys.selected, BTreeSet::from([K_ALICE.to_string()]));
}

// ---------------------------------------------------------------------------------------------
// (i) filter
// ---------------------------------------------------------------------------------------------

#[test]
fn filter_narrows_enter_keeps_it_esc_clears_it() {
    let mut state = fixture();
    assert!(press(&mut state, '/').is_empty());
    assert_eq!(state.mode, Mode::Filter);
    type_text(&mut state, "alice");
    assert_eq!(row_ids(&state), [K_ALICE, K_ALICE_OLD]);
    // Typing `d` into the filter is text, not the disable command.
    assert!(state.dialog.is_none());

    assert!(enter(&mut state).is_empty());
    assert_eq!(state.mode, Mode::Normal);
    assert_eq!(state.keys.filter, "alice");
    assert_eq!(row_ids(&state), [K_ALICE, K_ALICE_OLD]);
    assert_eq!(state.keys.cursor.as_deref(), Some(K_ALICE));

    // Acting now targets the filtered cursor row.
    press(&mut state, 'd');
    assert_eq!(
        confirm(&state).plan,
        Plan::DisableKeys(vec![key_ref("alice", K_ALICE, KeyStatus::Active, false)])
    );
    esc(&mut state);

    press(&mut state, '/');
    assert!(esc(&mut state).is_empty());
    assert_eq!(state.mode, Mode::Normal);
    assert_eq!(state.keys.filter, "");
    assert_eq!(state.key_rows().len(), 7);
}

#[test]
fn filter_matches_flags_and_is_case_insensitive() {
    let mut state = fixture();
    press(&mut state, '/');
    type_text(&mut state, "NEW");
    assert_eq!(row_ids(&state), [K_NEW]);
    for _ in 0..3 {
        press_code(&mut state, KeyCode::Backspace);
    }
    type_text(&mut state, "inactive");
    assert_eq!(row_ids(&state), [K_ALICE_OLD]);
}

// ---------------------------------------------------------------------------------------------
// (j) command line
// ---------------------------------------------------------------------------------------------

fn command(state: &mut State, line: &str) -> Vec<Effect> {
    assert!(press(state, ':').is_empty());
    assert_eq!(state.mode, Mode::Command(String::new()));
    type_text(state, line);
    enter(state)
}

#[test]
fn colon_key_marks_a_key_leaked_and_looks_up_its_owner() {
    let mut state = fixture();
    let effects = command(&mut state, &format!("key {K_FOREIGN}"));
    assert_eq!(
        effects,
        vec![
            Effect::Journal(Event::MarkedLeaked {
                key_id: K_FOREIGN.into()
            }),
            Effect::Track(K_FOREIGN.into()),
            Effect::LookupKeyInfo(K_FOREIGN.into()),
        ]
    );
    assert_eq!(state.mode, Mode::Normal);
    assert!(state.leaked.contains(K_FOREIGN));
    assert_eq!(state.keys.cursor.as_deref(), Some(K_FOREIGN));
    let row = state
        .key_rows()
        .into_iter()
        .find(|r| r.key_id == K_FOREIGN)
        .expect("a row for the foreign key");
    assert!(row.key.is_none());
    assert!(row.flags.leaked);
    assert_eq!(row.foreign_account, None);

    update(
        &mut state,
        Msg::KeyInfo {
            key_id: K_FOREIGN.into(),
            result: Ok("210987654321".into()),
        },
    );
    let row = state
        .key_rows()
        .into_iter()
        .find(|r| r.key_id == K_FOREIGN)
        .expect("still there");
    assert_eq!(row.foreign_account.as_deref(), Some("210987654321"));

    // Nothing in IAM to act on.
    assert!(press(&mut state, 'd').is_empty());
    assert!(state.dialog.is_none());
    assert!(flash_text(&state).contains("not in this account's IAM"));

    // The next poll asks STS only once per key.
    assert!(update(&mut state, keys_msg(2, snapshot(Some(false)))).is_empty());
}

#[test]
fn colon_key_on_a_listed_key_flags_it_without_a_lookup() {
    let mut state = fixture();
    let effects = command(&mut state, &format!("key {K_ALICE}"));
    assert_eq!(
        effects,
        vec![
            Effect::Journal(Event::MarkedLeaked {
                key_id: K_ALICE.into()
            }),
            Effect::Track(K_ALICE.into()),
        ]
    );
    assert_eq!(row_ids(&state)[..2], [K_LEAKED, K_ALICE]);
    // Again: nothing new.
    assert!(command(&mut state, &format!("key {K_ALICE}")).is_empty());
    assert!(flash_text(&state).contains("already marked"));
}

#[test]
fn colon_key_junk_flashes_an_error() {
    let mut state = fixture();
    let before = state.leaked.clone();
    assert!(command(&mut state, "key junk").is_empty());
    assert_eq!(state.leaked, before);
    let flash = state.flash.as_ref().expect("an error flash");
    assert_eq!(flash.level, Level::Error);
    assert!(
        flash.text.contains("'junk' is not an access key id"),
        "{}",
        flash.text
    );

    assert!(command(&mut state, "key").is_empty());
    assert_eq!(state.flash.as_ref().map(|f| f.level), Some(Level::Error));
    assert!(command(&mut state, "frobnicate").is_empty());
    assert!(flash_text(&state).contains("unknown command"));
}

#[test]
fn marking_a_key_leaked_keeps_the_last_poll_error_and_spinner() {
    // `:key` re-derives the rows from the snapshot on hand; it is not a successful poll.
    let mut state = fixture();
    update(
        &mut state,
        Msg::Keys {
            seq: 2,
            at: NOW - Duration::seconds(1),
            result: Err(Failure::access_denied("iam:ListUsers")),
        },
    );
    update(&mut state, Msg::FetchStarted(Source::Keys));
    command(&mut state, &format!("key {K_FOREIGN}"));
    assert_eq!(
        state.keys.data.error.as_ref().map(|e| e.text.as_str()),
        Some("AccessDenied: missing permission iam:ListUsers"),
        "the failed poll's error must stay on screen"
    );
    assert!(
        state.keys.data.in_flight,
        "the running poll is still running"
    );
}

#[test]
fn colon_q_and_refresh() {
    let mut state = fixture();
    assert_eq!(
        command(&mut state, "refresh"),
        vec![
            Effect::Refresh(Source::Identity),
            Effect::Refresh(Source::Keys),
            Effect::Refresh(Source::Timeline),
            Effect::Refresh(Source::Resources),
            Effect::Refresh(Source::Cost),
            Effect::Refresh(Source::Access),
            Effect::Refresh(Source::Detections),
        ]
    );
    press(&mut state, ':');
    type_text(&mut state, "q");
    assert!(esc(&mut state).is_empty());
    assert!(!state.quit, "Esc abandons the command line");
    assert!(command(&mut state, "q").is_empty());
    assert!(state.quit);
}

// ---------------------------------------------------------------------------------------------
// (k) quitting
// ---------------------------------------------------------------------------------------------

#[test]
fn q_quits_at_once_when_nothing_runs() {
    let mut state = fixture();
    assert!(press(&mut state, 'q').is_empty());
    assert!(state.quit);
    assert!(state.dialog.is_none());
}

#[test]
fn q_asks_while_an_action_runs() {
    let mut state = fixture();
    update(
        &mut state,
        Msg::ActionStarted {
            id: "a-1".into(),
            label: "disable AKIA…K7Q4 (ci-deploy)".into(),
            at: NOW,
        },
    );
    assert!(press(&mut state, 'q').is_empty());
    assert!(!state.quit);
    assert_eq!(state.dialog, Some(Dialog::QuitWhileRunning));
    // `n` stays.
    press(&mut state, 'n');
    assert!(state.dialog.is_none());
    assert!(!state.quit);
    // Ctrl-C asks too.
    ctrl(&mut state, 'c');
    assert_eq!(state.dialog, Some(Dialog::QuitWhileRunning));
    press(&mut state, 'y');
    assert!(state.quit);
}

#[test]
fn q_quits_at_once_again_after_the_action_finished() {
    let mut state = fixture();
    update(
        &mut state,
        Msg::ActionStarted {
            id: "a-1".into(),
            label: "x".into(),
            at: NOW,
        },
    );
    update(
        &mut state,
        Msg::ActionFinished {
            id: "a-1".into(),
            at: NOW,
            report: ActionReport {
                account: None,
                ok: true,
                summary: "done".into(),
                observed: vec![],
            },
        },
    );
    press(&mut state, 'q');
    assert!(state.quit);
}

// ---------------------------------------------------------------------------------------------
// (l) action outcomes show what IAM says
// ---------------------------------------------------------------------------------------------

fn status_of(state: &State, key_id: &str) -> Option<KeyStatus> {
    state
        .key_rows()
        .into_iter()
        .find(|r| r.key_id == key_id)
        .and_then(|r| r.status())
}

#[test]
fn action_finished_shows_the_observed_state() {
    let mut state = fixture();
    // A selection of one key confirms with its last four, like the cursor's key.
    press(&mut state, ' ');
    press(&mut state, 'j');
    assert_eq!(state.keys.cursor.as_deref(), Some(K_NEW));
    press(&mut state, 'd');
    type_text(&mut state, "K7Q4");
    let effects = enter(&mut state);
    assert!(matches!(effects.as_slice(), [Effect::Execute(_)]));

    update(
        &mut state,
        Msg::ActionStarted {
            id: "a-7".into(),
            label: "disable AKIA…K7Q4 (ci-deploy)".into(),
            at: NOW,
        },
    );
    assert_eq!(
        state.actions.last().map(|a| &a.outcome),
        Some(&Outcome::Running)
    );
    // IAM read back: the leaked key is Inactive, and someone also disabled the NEW key.
    let effects = update(
        &mut state,
        Msg::ActionFinished {
            id: "a-7".into(),
            at: NOW + Duration::seconds(2),
            report: ActionReport {
                account: None,
                ok: true,
                summary: "disabled AKIA…K7Q4; read back Inactive".into(),
                observed: vec![ObservedKeys {
                    user: "ci-deploy".into(),
                    keys: vec![
                        (K_LEAKED.into(), KeyStatus::Inactive),
                        (K_NEW.into(), KeyStatus::Inactive),
                    ],
                }],
            },
        },
    );
    assert_eq!(
        effects,
        vec![
            Effect::Refresh(Source::Keys),
            Effect::Refresh(Source::Access)
        ]
    );
    assert_eq!(status_of(&state, K_LEAKED), Some(KeyStatus::Inactive));
    assert_eq!(status_of(&state, K_NEW), Some(KeyStatus::Inactive));
    assert_eq!(status_of(&state, K_ALICE), Some(KeyStatus::Active));
    assert!(state.running.is_empty());
    assert!(state.keys.selected.is_empty());
    assert_eq!(
        state.actions.last().map(|a| &a.outcome),
        Some(&Outcome::Done(
            "disabled AKIA…K7Q4; read back Inactive".into()
        ))
    );
    assert_eq!(state.flash.as_ref().map(|f| f.level), Some(Level::Ok));
}

#[test]
fn a_failed_action_keeps_the_status_iam_reports() {
    let mut state = fixture();
    update(
        &mut state,
        Msg::ActionStarted {
            id: "a-8".into(),
            label: "delete AKIA…K7Q4 (ci-deploy)".into(),
            at: NOW,
        },
    );
    let effects = update(
        &mut state,
        Msg::ActionFinished {
            id: "a-8".into(),
            at: NOW,
            report: ActionReport {
                account: None,
                ok: false,
                summary: "AKIA…K7Q4: AccessDenied".into(),
                observed: vec![ObservedKeys {
                    user: "ci-deploy".into(),
                    // The NEW key is gone (deleted elsewhere); the leaked key is still Active.
                    keys: vec![(K_LEAKED.into(), KeyStatus::Active)],
                }],
            },
        },
    );
    assert_eq!(
        effects,
        vec![
            Effect::Refresh(Source::Keys),
            Effect::Refresh(Source::Access)
        ]
    );
    assert_eq!(status_of(&state, K_LEAKED), Some(KeyStatus::Active));
    assert!(!row_ids(&state).contains(&K_NEW.to_string()));
    assert_eq!(
        state.actions.last().map(|a| &a.outcome),
        Some(&Outcome::Failed("AKIA…K7Q4: AccessDenied".into()))
    );
    assert_eq!(state.flash.as_ref().map(|f| f.level), Some(Level::Error));
}

// ---------------------------------------------------------------------------------------------
// (m) (n) (o) polling
// ---------------------------------------------------------------------------------------------

#[test]
fn p_toggles_pause() {
    let mut state = fixture();
    assert_eq!(press(&mut state, 'p'), vec![Effect::SetPaused(true)]);
    assert!(state.paused);
    assert_eq!(press(&mut state, 'p'), vec![Effect::SetPaused(false)]);
    assert!(!state.paused);
}

#[test]
fn r_refreshes_the_keys() {
    let mut state = fixture();
    assert_eq!(press(&mut state, 'r'), vec![Effect::Refresh(Source::Keys)]);
    // Without an identity yet, it is asked for again too.
    let mut fresh = base(false);
    assert_eq!(
        press(&mut fresh, 'r'),
        vec![
            Effect::Refresh(Source::Keys),
            Effect::Refresh(Source::Identity)
        ]
    );
}

#[test]
fn a_stale_keys_poll_is_ignored() {
    let mut state = fixture();
    let mut newer = snapshot(Some(false));
    newer.keys.retain(|k| k.key_id != K_BACKUP);
    update(&mut state, keys_msg(5, newer.clone()));
    assert_eq!(state.keys.data.seq, 5);

    // An older answer arriving late changes nothing, success or failure.
    assert!(update(&mut state, keys_msg(4, snapshot(Some(false)))).is_empty());
    assert_eq!(state.keys.data.data.as_ref(), Some(&newer));
    update(
        &mut state,
        Msg::Keys {
            seq: 3,
            at: NOW,
            result: Err(Failure::new(ErrorKind::Throttled, "throttled")),
        },
    );
    assert_eq!(state.keys.data.error, None);
    assert_eq!(state.keys.data.seq, 5);
    assert!(!row_ids(&state).contains(&K_BACKUP.to_string()));
}

#[test]
fn a_failed_poll_keeps_the_last_good_data() {
    let mut state = fixture();
    update(
        &mut state,
        Msg::Keys {
            seq: 2,
            at: NOW,
            result: Err(Failure::other("AccessDenied")),
        },
    );
    assert_eq!(
        state.keys.data.error.as_ref().map(|e| e.text.as_str()),
        Some("AccessDenied")
    );
    assert_eq!(state.key_rows().len(), 7);
    assert_eq!(state.keys.data.fetched_at, Some(NOW - Duration::seconds(4)));
}

// ---------------------------------------------------------------------------------------------
// (p) resuming a journal
// ---------------------------------------------------------------------------------------------

#[test]
fn a_pending_intent_in_the_journal_is_reverified() {
    let raw = concat!(
        r#"{"ts":"2026-11-22T13:30:00Z","operator":"ic@laptop","kind":"opened","since":"2026-11-22T09:00:00Z","leaked_keys":["AKIA2CIDEPLOYLEAK7Q4"]}"#,
        "\n",
        r#"{"ts":"2026-11-22T13:50:00Z","operator":"ic@laptop","kind":"action","action_id":"a-3","label":"disable AKIA…K7Q4 (ci-deploy)"}"#,
        "\n",
        r#"{"ts":"2026-11-22T13:50:01Z","operator":"ic@laptop","kind":"intent","action_id":"a-3","step":0,"call":"iam:UpdateAccessKey Inactive","target":{"user":"ci-deploy","key_id":"AKIA2CIDEPLOYLEAK7Q4"}}"#,
        "\n"
    );
    let resumed = journal::read_back(raw.as_bytes());
    assert_eq!(resumed.pending.len(), 1);
    let pending = resumed.pending.clone();

    let mut state = State::new(settings(false), NOW);
    load(&mut state);
    let effects = update(
        &mut state,
        Msg::JournalOpened(Ok(JournalOpened {
            dir: "/tmp/incident".into(),
            resumed,
        })),
    );
    assert_eq!(effects, vec![Effect::Reverify(pending)]);
    let record = state
        .actions
        .iter()
        .find(|a| a.id == "a-3")
        .expect("the resumed action");
    assert_eq!(record.outcome, Outcome::Unknown);
    assert_eq!(record.at, datetime!(2026-11-22 13:50:00 UTC));
    assert!(state.leaked.contains(K_LEAKED), "leaked keys come back");
    assert_eq!(state.since_journal.map(|(t, _)| t), Some(SINCE));
    assert_eq!(state.journal_dir.as_deref(), Some("/tmp/incident"));
    assert_eq!(state.flash.as_ref().map(|f| f.level), Some(Level::Warn));

    update(
        &mut state,
        Msg::Reverified {
            action_id: "a-3".into(),
            detail: "key is Inactive".into(),
            created_key: None,
        },
    );
    assert_eq!(
        state
            .actions
            .iter()
            .find(|a| a.id == "a-3")
            .map(|a| &a.outcome),
        Some(&Outcome::Reverified("key is Inactive".into()))
    );
}

#[test]
fn a_journal_that_cannot_open_is_reported() {
    let mut state = fixture();
    let effects = update(
        &mut state,
        Msg::JournalOpened(Err("read-only file system".into())),
    );
    assert!(effects.is_empty());
    assert_eq!(
        state.journal_error.as_deref(),
        Some("read-only file system")
    );
    assert_eq!(state.flash.as_ref().map(|f| f.level), Some(Level::Error));
}

// ---------------------------------------------------------------------------------------------
// (q) the secret dialog
// ---------------------------------------------------------------------------------------------

const NEW_KEY_ID: &str = "AKIA2CIDEPLOYROTATED";

fn new_key() -> NewKey {
    NewKey {
        user: "ci-deploy".into(),
        key_id: NEW_KEY_ID.into(),
        secret: Secret::new("FAKEfakeFAKEfake0123/NOT+A+REAL+SECRET+x".into()),
    }
}

fn with_secret() -> State {
    let mut state = fixture();
    let effects = update(
        &mut state,
        Msg::SecretCreated {
            new_key: new_key(),
            old_key: K_LEAKED.into(),
        },
    );
    assert!(effects.is_empty());
    assert!(matches!(state.dialog, Some(Dialog::Secret(_))));
    state
}

#[test]
fn the_secret_closes_only_with_enter() {
    let mut state = with_secret();
    assert!(esc(&mut state).is_empty());
    assert!(matches!(state.dialog, Some(Dialog::Secret(_))), "Esc");
    assert!(ctrl(&mut state, 'c').is_empty());
    assert!(matches!(state.dialog, Some(Dialog::Secret(_))), "Ctrl-C");
    assert!(press(&mut state, 'q').is_empty());
    assert!(matches!(state.dialog, Some(Dialog::Secret(_))), "q");
    assert!(!state.quit);

    assert!(enter(&mut state).is_empty());
    assert!(state.dialog.is_none());
    assert!(flash_text(&state).contains("cannot be shown again"));
}

#[test]
fn the_rotated_key_is_not_flagged_new() {
    let mut state = with_secret();
    enter(&mut state);
    let mut snap = snapshot(Some(false));
    snap.keys.push(AccessKey {
        user: "ci-deploy".into(),
        key_id: NEW_KEY_ID.into(),
        status: KeyStatus::Active,
        created: NOW,
        last_used: LastUsed::Never,
        quarantined: Some(true),
    });
    update(&mut state, keys_msg(2, snap));
    let row = state
        .key_rows()
        .into_iter()
        .find(|r| r.key_id == NEW_KEY_ID)
        .expect("the rotated key is listed");
    assert!(row.flags.rotated);
    assert!(!row.flags.new);
}

// ---------------------------------------------------------------------------------------------
// (r) rotate and revoke
// ---------------------------------------------------------------------------------------------

#[test]
fn r_upper_rotates_after_the_last_four() {
    let mut state = fixture();
    assert!(press(&mut state, 'R').is_empty());
    assert_eq!(confirm(&state).plan, Plan::RotateKey(leaked_ref()));
    assert_eq!(confirm(&state).stages.len(), 1);
    type_text(&mut state, "K7Q4");
    assert_eq!(
        enter(&mut state),
        vec![Effect::Execute(Plan::RotateKey(leaked_ref()))]
    );
}

#[test]
fn x_revokes_sessions_confirmed_by_the_user_name() {
    let mut state = fixture();
    assert!(press(&mut state, 'x').is_empty());
    let plan = Plan::RevokeSessions {
        principals: vec![Principal::User("ci-deploy".into())],
        cutoff: "2026-11-22T14:03:09Z".into(),
    };
    let c = confirm(&state);
    assert_eq!(c.plan, plan);
    assert_eq!(c.stages.len(), 1);
    assert_eq!(c.stages[0].expected, "ci-deploy");

    type_text(&mut state, "K7Q4");
    assert!(enter(&mut state).is_empty());
    ctrl(&mut state, 'u');
    type_text(&mut state, "ci-deploy");
    assert_eq!(enter(&mut state), vec![Effect::Execute(plan)]);
}

#[test]
fn the_revocation_cut_off_is_when_the_operator_confirms_not_when_the_dialog_opened() {
    let mut state = fixture();
    press(&mut state, 'x');
    // The room reads the dialog for a minute and a half; the attacker mints a session.
    update(&mut state, Msg::Tick(NOW + Duration::seconds(90)));
    type_text(&mut state, "ci-deploy");
    assert_eq!(
        enter(&mut state),
        vec![Effect::Execute(Plan::RevokeSessions {
            principals: vec![Principal::User("ci-deploy".into())],
            cutoff: "2026-11-22T14:04:39Z".into(),
        })]
    );
}

// ---------------------------------------------------------------------------------------------
// Detail pane, help, flash
// ---------------------------------------------------------------------------------------------

#[test]
fn detail_pane_opens_ignores_actions_and_closes() {
    let mut state = fixture();
    assert_eq!(
        enter(&mut state),
        vec![Effect::FetchUserDetail("ci-deploy".into())]
    );
    assert!(state.keys.detail.as_ref().is_some_and(|d| d.data.in_flight));
    // Destructive keys do nothing while the pane is open.
    assert!(press(&mut state, 'd').is_empty());
    assert!(state.dialog.is_none());
    // r refreshes the user, not the keys.
    assert_eq!(
        press(&mut state, 'r'),
        vec![Effect::FetchUserDetail("ci-deploy".into())]
    );
    // An answer for another user is not shown here.
    update(
        &mut state,
        Msg::UserDetail {
            user: "alice".into(),
            at: NOW,
            result: Err(Failure::other("nope")),
        },
    );
    assert_eq!(
        state
            .keys
            .detail
            .as_ref()
            .and_then(|d| d.data.error.clone()),
        None
    );
    assert!(esc(&mut state).is_empty());
    assert!(state.keys.detail.is_none());
}

#[test]
fn help_opens_and_closes() {
    let mut state = fixture();
    press(&mut state, '?');
    assert_eq!(state.dialog, Some(Dialog::Help(0)));
    press(&mut state, 'j');
    assert_eq!(state.dialog, Some(Dialog::Help(1)));
    // `d` in help is not disable.
    assert!(press(&mut state, 'd').is_empty());
    assert_eq!(state.dialog, Some(Dialog::Help(1)));
    press(&mut state, '?');
    assert!(state.dialog.is_none());
}

#[test]
fn flash_expires_after_its_time() {
    let mut state = fixture();
    press(&mut state, 'p');
    assert!(state.flash.is_some());
    update(&mut state, Msg::Tick(NOW + Duration::seconds(7)));
    assert!(state.flash.is_some());
    update(&mut state, Msg::Tick(NOW + Duration::seconds(8)));
    assert!(state.flash.is_none());
}

#[test]
fn a_derived_leak_start_is_recorded_once_so_the_clock_survives_a_restart() {
    use keyspill_core::app::state::SinceSource;
    let mut state = fixture();
    state.since_flag = None;
    // No journal yet: nothing to record into.
    assert_eq!(
        state.since().map(|(_, s)| s),
        Some(SinceSource::KeyCreation)
    );
    let effects = update(
        &mut state,
        Msg::JournalOpened(Ok(keyspill_core::app::msg::JournalOpened {
            dir: "/tmp/j".into(),
            resumed: Default::default(),
        })),
    );
    let recorded: Vec<&Effect> = effects
        .iter()
        .filter(|e| {
            matches!(
                e,
                Effect::Journal(keyspill_core::journal::Event::Since { .. })
            )
        })
        .collect();
    assert_eq!(recorded.len(), 1, "{effects:?}");
    assert_eq!(
        state.since_recorded.map(|(_, s)| s),
        Some(SinceSource::KeyCreation)
    );
    assert_eq!(
        state.since().map(|(_, s)| s),
        Some(SinceSource::KeyCreation),
        "still shown as where it came from"
    );
    // The next poll does not record it again.
    let snap = state.keys.data.data.clone();
    let effects = update(
        &mut state,
        Msg::Keys {
            seq: 99,
            at: NOW,
            result: Ok(snap.expect("fixture has keys")),
        },
    );
    assert!(
        !effects.iter().any(|e| matches!(
            e,
            Effect::Journal(keyspill_core::journal::Event::Since { .. })
        )),
        "{effects:?}"
    );
}
