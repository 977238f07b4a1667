//! Screen snapshots of the console, rendered into a `TestBackend` from a synthetic state that
//! is built by sending messages through `update`. Snapshots hold text only: colours and
//! emphasis are checked cell by cell at the end of this file.

use crate::fixture;
use crate::screen;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use keyspill_core::app::msg::JournalOpened;
use keyspill_core::app::state::{Dialog, Settings, State};
use keyspill_core::app::{Effect, Msg, update};
use keyspill_core::domain::{ErrorKind, Failure, NewKey, Secret, UserDetail};
use keyspill_core::journal::{Outcome, PastAction, Resumed};
use keyspill_core::ui::Theme;
use keyspill_core::ui::theme::ThemeName;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use time::Duration;
use time::macros::datetime;

// ---------------------------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------------------------

use screen::{draw, find, row_text, screen_text};

use fixture::*;

fn send(state: &mut State, msg: Msg) -> Vec<Effect> {
    update(state, msg)
}

/// Identity, regions, keys and a resumed journal, all through `update`.
fn load(state: &mut State) {
    send(
        state,
        Msg::Identity {
            seq: 1,
            at: NOW - Duration::seconds(6),
            result: Ok(identity()),
        },
    );
    send(
        state,
        Msg::Regions {
            seq: 1,
            at: NOW - Duration::seconds(6),
            result: Ok(regions()),
        },
    );
    send(
        state,
        Msg::FetchStarted(keyspill_core::app::state::Source::Keys),
    );
    let effects = send(
        state,
        Msg::Keys {
            seq: 1,
            at: NOW - Duration::seconds(4),
            result: Ok(snapshot(Some(false))),
        },
    );
    assert!(
        effects.is_empty(),
        "every leaked key is in IAM: {effects:?}"
    );
    let effects = send(
        state,
        Msg::JournalOpened(Ok(JournalOpened {
            dir: "~/.local/state/keyspill/incidents/123456789012-2026-11-22".into(),
            resumed: Resumed {
                entries: 9,
                opened_at: Some(datetime!(2026-11-22 13:30:00 UTC)),
                since: Some(SINCE),
                leaked_keys: vec![K_LEAKED.into()],
                actions: vec![
                    PastAction {
                        id: "a-0001".into(),
                        at: Some(datetime!(2026-11-22 13:41:07 UTC)),
                        operator: "ic@laptop".into(),
                        label: "revoke sessions of user ci-deploy".into(),
                        outcome: Outcome::Done("attached AWSRevokeOlderSessions; read back".into()),
                    },
                    PastAction {
                        id: "a-0002".into(),
                        at: Some(datetime!(2026-11-22 13:44:52 UTC)),
                        operator: "ic@laptop".into(),
                        label: "disable AKIA…Y4RT (reporting)".into(),
                        outcome: Outcome::Failed(
                            "AKIA…Y4RT: AccessDenied: iam:UpdateAccessKey".into(),
                        ),
                    },
                ],
                ..Resumed::default()
            },
        })),
    );
    assert!(effects.is_empty(), "nothing pending: {effects:?}");
}

pub(crate) fn fixture() -> State {
    let mut state = base(false);
    load(&mut state);
    state
}

fn fixture_read_only() -> State {
    let mut state = base(true);
    load(&mut state);
    state
}

/// Read-only without `--profile`: a header short enough for 80 columns.
fn fixture_read_only_no_profile() -> State {
    let mut state = State::new(
        Settings {
            profile: None,
            ..settings(true)
        },
        NOW,
    );
    state.leaked.insert(K_LEAKED.into());
    state.since_flag = Some(SINCE);
    load(&mut state);
    state
}

fn ev(code: KeyCode) -> Msg {
    let modifiers = match code {
        KeyCode::Char(c) if c.is_ascii_uppercase() => KeyModifiers::SHIFT,
        _ => KeyModifiers::NONE,
    };
    Msg::Key(KeyEvent::new(code, modifiers))
}

fn press(state: &mut State, c: char) -> Vec<Effect> {
    update(state, ev(KeyCode::Char(c)))
}

fn press_code(state: &mut State, code: KeyCode) -> Vec<Effect> {
    update(state, ev(code))
}

fn type_text(state: &mut State, text: &str) {
    for c in text.chars() {
        let effects = press(state, c);
        assert!(effects.is_empty(), "typing {c:?} had effects {effects:?}");
    }
}

fn default_theme() -> Theme {
    Theme::new(ThemeName::Default, false)
}

fn screen(state: &State, width: u16, height: u16) -> Terminal<TestBackend> {
    draw(state, &default_theme(), width, height)
}

// ---------------------------------------------------------------------------------------------
// Dialog states
// ---------------------------------------------------------------------------------------------

fn help_open() -> State {
    let mut s = fixture();
    press(&mut s, '?');
    assert!(matches!(s.dialog, Some(Dialog::Help(0))));
    s
}

fn confirm_disable_leaked() -> State {
    let mut s = fixture();
    assert_eq!(s.keys.cursor.as_deref(), Some(K_LEAKED));
    assert!(press(&mut s, 'd').is_empty());
    assert!(matches!(s.dialog, Some(Dialog::Confirm(_))));
    s
}

fn confirm_wrong_char() -> State {
    let mut s = confirm_disable_leaked();
    type_text(&mut s, "X");
    s
}

/// `D` on the leaked (Active) key, its last four typed: the second, warning stage.
fn delete_active_second_stage() -> State {
    let mut s = fixture();
    press(&mut s, 'D');
    type_text(&mut s, "K7Q4");
    assert!(press_code(&mut s, KeyCode::Enter).is_empty());
    match &s.dialog {
        Some(Dialog::Confirm(c)) => assert_eq!(c.stage, 1),
        other => panic!("expected the second stage, got {other:?}"),
    }
    s
}

fn delete_active_first_stage() -> State {
    let mut s = fixture();
    press(&mut s, 'D');
    s
}

/// `d` on keyspill's own key after its last four: the LOCKOUT stage.
fn lockout_stage() -> State {
    let mut s = fixture();
    press(&mut s, 'j');
    press(&mut s, 'j');
    assert_eq!(s.keys.cursor.as_deref(), Some(K_SELF));
    press(&mut s, 'd');
    type_text(&mut s, "LF5X");
    press_code(&mut s, KeyCode::Enter);
    s
}

/// `x` on the leaked key: revoke the user's sessions.
fn confirm_revoke() -> State {
    let mut s = fixture();
    press(&mut s, 'x');
    assert!(matches!(s.dialog, Some(Dialog::Confirm(_))));
    s
}

/// `a` then `d`: five keys, one of them keyspill's own.
fn confirm_disable_pre_leak_selection() -> State {
    let mut s = fixture();
    press(&mut s, 'a');
    press(&mut s, 'd');
    match &s.dialog {
        Some(Dialog::Confirm(c)) => assert_eq!(c.stages[0].expected, "5"),
        other => panic!("expected a confirmation, got {other:?}"),
    }
    s
}

fn new_key() -> NewKey {
    NewKey {
        user: "ci-deploy".into(),
        key_id: "AKIA2CIDEPLOYROTATED".into(),
        secret: Secret::new(FAKE_SECRET.into()),
    }
}

fn secret_open() -> State {
    let mut s = fixture();
    send(
        &mut s,
        Msg::SecretCreated {
            new_key: new_key(),
            old_key: K_LEAKED.into(),
        },
    );
    s
}

fn quit_while_running() -> State {
    let mut s = fixture();
    send(
        &mut s,
        Msg::ActionStarted {
            id: "a-0003".into(),
            label: "disable AKIA…K7Q4 (ci-deploy)".into(),
            at: NOW - Duration::seconds(2),
        },
    );
    press(&mut s, 'q');
    assert_eq!(s.dialog, Some(Dialog::QuitWhileRunning));
    s
}

fn identity_failed() -> State {
    let mut s = base(false);
    send(
        &mut s,
        Msg::Identity {
            seq: 1,
            at: NOW - Duration::seconds(3),
            result: Err(Failure::new(
                ErrorKind::Unreachable,
                "sts:GetCallerIdentity: cannot reach the AWS endpoint (Connection refused)",
            )),
        },
    );
    s
}

const ACCESS_DENIED: &str = "iam:ListUsers";

/// The keys poll failing from the start: nothing to show yet.
fn keys_denied_never_loaded() -> State {
    let mut s = base(false);
    send(
        &mut s,
        Msg::Identity {
            seq: 1,
            at: NOW - Duration::seconds(6),
            result: Ok(identity()),
        },
    );
    send(
        &mut s,
        Msg::Keys {
            seq: 1,
            at: NOW - Duration::seconds(2),
            result: Err(Failure::access_denied(ACCESS_DENIED)),
        },
    );
    s
}

/// A later keys poll failing: the last good data stays, next to the error.
fn keys_denied_after_good_data() -> State {
    let mut s = fixture();
    send(
        &mut s,
        Msg::Keys {
            seq: 2,
            at: NOW - Duration::seconds(1),
            result: Err(Failure::access_denied(ACCESS_DENIED)),
        },
    );
    s
}

fn user_detail() -> UserDetail {
    let snap = snapshot(None);
    UserDetail {
        name: "ci-deploy".into(),
        arn: "arn:aws:iam::123456789012:user/ci/ci-deploy".into(),
        created: datetime!(2025-03-10 09:59:00 UTC),
        keys: snap
            .keys
            .into_iter()
            .filter(|k| k.user == "ci-deploy")
            .collect(),
        attached_policies: vec![
            "AWSCompromisedKeyQuarantineV3".into(),
            "AmazonS3FullAccess".into(),
        ],
        inline_policies: vec!["AWSRevokeOlderSessions".into(), "deploy-artifacts".into()],
        groups: vec!["deployers".into()],
        login_profile: None,
        mfa_devices: vec![],
        warnings: vec!["iam:ListSigningCertificates: AccessDenied".into()],
    }
}

fn detail_open() -> State {
    let mut s = fixture();
    let effects = press_code(&mut s, KeyCode::Enter);
    assert_eq!(effects, vec![Effect::FetchUserDetail("ci-deploy".into())]);
    send(
        &mut s,
        Msg::UserDetail {
            user: "ci-deploy".into(),
            at: NOW - Duration::seconds(1),
            result: Ok(user_detail()),
        },
    );
    s
}

fn filter_typing() -> State {
    let mut s = fixture();
    press(&mut s, '/');
    type_text(&mut s, "alice");
    s
}

fn command_typing() -> State {
    let mut s = fixture();
    press(&mut s, ':');
    type_text(&mut s, "key AKIAEXTERNALACCT0042");
    s
}

// ---------------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------------

#[test]
fn fixture_key_ids_are_valid_and_distinct() {
    let ids = [
        K_LEAKED,
        K_NEW,
        K_SELF,
        K_ALICE,
        K_ALICE_OLD,
        K_BACKUP,
        K_REPORT,
    ];
    for id in ids {
        keyspill_core::domain::validate_key_id(id).expect("fixture key id");
    }
    let tails: std::collections::BTreeSet<&str> = ids
        .iter()
        .map(|id| keyspill_core::domain::key_tail(id))
        .collect();
    assert_eq!(tails.len(), ids.len(), "last-4s must tell the keys apart");
}

#[test]
fn keys_tab_80x24() {
    let terminal = screen(&fixture(), 80, 24);
    insta::assert_snapshot!("keys_80x24", terminal.backend());
}

#[test]
fn keys_tab_160x45_with_root_keys_banner() {
    let mut s = fixture();
    // A later poll finds root access keys: the banner appears.
    send(
        &mut s,
        Msg::Keys {
            seq: 2,
            at: NOW - Duration::seconds(3),
            result: Ok(snapshot(Some(true))),
        },
    );
    let terminal = screen(&s, 160, 45);
    insta::assert_snapshot!("keys_160x45_root_banner", terminal.backend());
}

#[test]
fn help_overlay_100x50() {
    let terminal = screen(&help_open(), 100, 50);
    insta::assert_snapshot!("help_100x50", terminal.backend());
}

#[test]
fn confirm_dialog_empty_120x40() {
    let terminal = screen(&confirm_disable_leaked(), 120, 40);
    insta::assert_snapshot!("confirm_disable_empty_120x40", terminal.backend());
}

#[test]
fn confirm_dialog_wrong_char_120x40() {
    let terminal = screen(&confirm_wrong_char(), 120, 40);
    insta::assert_snapshot!("confirm_disable_wrong_char_120x40", terminal.backend());
}

#[test]
fn delete_active_first_stage_120x40() {
    let terminal = screen(&delete_active_first_stage(), 120, 40);
    insta::assert_snapshot!("delete_active_stage1_120x40", terminal.backend());
}

#[test]
fn delete_active_second_stage_120x40() {
    let terminal = screen(&delete_active_second_stage(), 120, 40);
    insta::assert_snapshot!("delete_active_stage2_120x40", terminal.backend());
}

#[test]
fn lockout_stage_120x40() {
    let terminal = screen(&lockout_stage(), 120, 40);
    insta::assert_snapshot!("lockout_stage_120x40", terminal.backend());
}

#[test]
fn secret_dialog_120x40() {
    let terminal = screen(&secret_open(), 120, 40);
    insta::assert_snapshot!("secret_120x40", terminal.backend());
}

#[test]
fn read_only_80x24() {
    let terminal = screen(&fixture_read_only(), 80, 24);
    insta::assert_snapshot!("read_only_80x24", terminal.backend());
}

#[test]
fn read_only_without_profile_80x24() {
    let mut s = fixture_read_only_no_profile();
    // The refusal, as the operator sees it.
    assert!(press(&mut s, 'd').is_empty());
    let terminal = screen(&s, 80, 24);
    insta::assert_snapshot!("read_only_no_profile_80x24", terminal.backend());
}

#[test]
fn identity_failed_keys_never_loaded_80x24() {
    let terminal = screen(&identity_failed(), 80, 24);
    insta::assert_snapshot!("identity_failed_80x24", terminal.backend());
}

#[test]
fn keys_access_denied_never_loaded_80x24() {
    let terminal = screen(&keys_denied_never_loaded(), 80, 24);
    insta::assert_snapshot!("keys_access_denied_never_loaded_80x24", terminal.backend());
}

#[test]
fn keys_access_denied_after_good_data_120x30() {
    let terminal = screen(&keys_denied_after_good_data(), 120, 30);
    insta::assert_snapshot!("keys_access_denied_stale_120x30", terminal.backend());
}

#[test]
fn user_detail_pane_120x40() {
    let terminal = screen(&detail_open(), 120, 40);
    insta::assert_snapshot!("user_detail_120x40", terminal.backend());
}

#[test]
fn quit_while_running_100x30() {
    let terminal = screen(&quit_while_running(), 100, 30);
    insta::assert_snapshot!("quit_while_running_100x30", terminal.backend());
}

// ---------------------------------------------------------------------------------------------
// Content checks that do not depend on the reviewed snapshots
// ---------------------------------------------------------------------------------------------

#[test]
fn read_only_badge_is_on_screen_at_80x24() {
    let terminal = screen(&fixture_read_only(), 80, 24);
    let buf = terminal.backend().buffer();
    assert!(
        find(buf, "READ-ONLY").is_some(),
        "the READ-ONLY badge must be visible at 80x24:\n{}",
        screen_text(buf)
    );
    let live = screen(&fixture(), 80, 24);
    assert!(
        find(live.backend().buffer(), "LIVE").is_some(),
        "the LIVE badge must be visible at 80x24:\n{}",
        screen_text(live.backend().buffer())
    );
}

#[test]
fn every_confirmation_dialog_shows_its_prompt_and_status_line() {
    // Whatever a stage's text, the field and the line saying what Enter does must be drawn
    // (the popup must be tall enough for its wrapped lines).
    let mut missing = Vec::new();
    for (name, state) in [
        ("disable", confirm_disable_leaked()),
        ("delete stage 1", delete_active_first_stage()),
        ("delete stage 2", delete_active_second_stage()),
        ("lockout", lockout_stage()),
        ("revoke", confirm_revoke()),
        ("five keys", confirm_disable_pre_leak_selection()),
    ] {
        for (w, h) in [(120, 40), (80, 24)] {
            let terminal = screen(&state, w, h);
            let buf = terminal.backend().buffer();
            for needle in ["to confirm:", "> ▏", "Esc cancels"] {
                if find(buf, needle).is_none() {
                    missing.push(format!("{name} at {w}x{h}: {needle:?}"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "cut off:\n{}", missing.join("\n"));
}

#[test]
fn revoke_and_multi_key_dialogs_120x40() {
    let terminal = screen(&confirm_revoke(), 120, 40);
    insta::assert_snapshot!("confirm_revoke_120x40", terminal.backend());
    let terminal = screen(&confirm_disable_pre_leak_selection(), 120, 40);
    insta::assert_snapshot!("confirm_disable_five_keys_120x40", terminal.backend());
}

#[test]
fn footer_shows_the_filter_and_command_being_typed() {
    let terminal = screen(&filter_typing(), 100, 30);
    let buf = terminal.backend().buffer();
    let footer = row_text(buf, 29);
    assert!(footer.starts_with("/alice▏"), "{footer:?}");
    // The table already shows only the matches, with the count in its title.
    assert!(find(buf, "filter \"alice\": 2 rows").is_some());
    assert!(find(buf, K_LEAKED).is_none());

    let terminal = screen(&command_typing(), 100, 30);
    let footer = row_text(terminal.backend().buffer(), 29);
    assert!(
        footer.starts_with(":key AKIAEXTERNALACCT0042▏"),
        "{footer:?}"
    );
}

/// The x of `needle` in row `y`, searching from `from`.
fn find_in_row(buf: &Buffer, y: u16, from: u16, needle: &str) -> Option<u16> {
    let chars: Vec<String> = needle.chars().map(|c| c.to_string()).collect();
    let end = buf.area.x + buf.area.width;
    (from..end).find(|&x| {
        chars.iter().enumerate().all(|(i, ch)| {
            let xi = x + i as u16;
            xi < end && buf[(xi, y)].symbol() == ch
        })
    })
}

#[test]
fn detail_key_columns_line_up_for_active_and_inactive_keys() {
    let mut s = fixture();
    for _ in 0..3 {
        press(&mut s, 'j');
    }
    assert_eq!(s.keys.cursor.as_deref(), Some(K_ALICE));
    assert_eq!(
        press_code(&mut s, KeyCode::Enter),
        vec![Effect::FetchUserDetail("alice".into())]
    );
    let snap = snapshot(None);
    send(
        &mut s,
        Msg::UserDetail {
            user: "alice".into(),
            at: NOW,
            result: Ok(UserDetail {
                name: "alice".into(),
                arn: "arn:aws:iam::123456789012:user/alice".into(),
                created: datetime!(2024-06-11 08:29:00 UTC),
                keys: snap
                    .keys
                    .into_iter()
                    .filter(|k| k.user == "alice")
                    .collect(),
                attached_policies: vec![],
                inline_policies: vec![],
                groups: vec![],
                login_profile: Some(datetime!(2024-06-11 08:35:00 UTC)),
                mfa_devices: vec!["arn:aws:iam::123456789012:mfa/alice".into()],
                warnings: vec![],
            }),
        },
    );
    let terminal = screen(&s, 160, 40);
    let buf = terminal.backend().buffer();
    let (ax, ay) = find(buf, K_ALICE).expect("active key line");
    let (ox, oy) = find(buf, K_ALICE_OLD).expect("inactive key line");
    assert_eq!(ax, ox);
    let a_created = find_in_row(buf, ay, ax, "created").expect("created on the active line");
    let o_created = find_in_row(buf, oy, ox, "created").expect("created on the inactive line");
    assert_eq!(
        a_created,
        o_created,
        "the {{:<8}} status column must pad `Active` like `Inactive`:\n{}\n{}",
        row_text(buf, ay),
        row_text(buf, oy)
    );
}

#[test]
fn secret_dialog_shows_the_secret_only_when_revealed() {
    let terminal = screen(&secret_open(), 120, 40);
    assert!(find(terminal.backend().buffer(), FAKE_SECRET).is_none());
    let mut s = secret_open();
    press(&mut s, 'v');
    press(&mut s, 'v');
    let terminal = screen(&s, 120, 40);
    assert!(find(terminal.backend().buffer(), FAKE_SECRET).is_some());
    // Once closed, it is gone from the screen.
    press_code(&mut s, KeyCode::Enter);
    let terminal = screen(&s, 120, 40);
    assert!(find(terminal.backend().buffer(), FAKE_SECRET).is_none());
}

// ---------------------------------------------------------------------------------------------
// No size panics
// ---------------------------------------------------------------------------------------------

/// Widths 1..=200 in steps of 9, heights 1..=60 in steps of 4 (a debug build draws a large
/// screen in several milliseconds), and the sizes where the layout changes: the too-small
/// fallback, the action log, the wide table, the popup widths.
fn sizes() -> Vec<(u16, u16)> {
    let mut sizes: Vec<(u16, u16)> = Vec::new();
    for w in (1..=200).step_by(9) {
        for h in (1..=60).step_by(4) {
            sizes.push((w, h));
        }
    }
    sizes.extend([
        (1, 1),
        (80, 24),
        (200, 60),
        (19, 6),
        (20, 5),
        (20, 6),
        (21, 7),
        (70, 8),
        (76, 20),
        (84, 12),
        (119, 19),
        (120, 20),
        (120, 40),
    ]);
    sizes
}

/// Draws `state` at every size of `sizes()`; fails naming the size that panicked.
fn render_every_size(name: &str, state: &State) {
    let theme = default_theme();
    let fallback = "keyspill: enlarge the terminal";
    for (w, h) in sizes() {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            screen::draw_unchecked(state, &theme, w, h)
        }));
        let terminal = result.unwrap_or_else(|_| panic!("{name} panicked at {w}x{h}"));
        let buf = terminal.backend().buffer();
        assert_eq!((buf.area.width, buf.area.height), (w, h));
        if w < 20 || h < 6 {
            let expect: String = fallback.chars().take(usize::from(w)).collect();
            assert_eq!(
                row_text(buf, 0),
                format!("{expect:<w$}", w = usize::from(w)),
                "{name} at {w}x{h}"
            );
        } else if state.dialog.is_none() {
            // Overlays may cover the header; without one it is always there, its badge
            // last to go.
            let top = row_text(buf, 0);
            assert!(
                top.starts_with(" keyspill")
                    || top.starts_with(" LIVE ")
                    || top.starts_with(" READ-ONLY "),
                "{name} at {w}x{h}: no header"
            );
        }
    }
}

/// One test per state, so the harness runs them in parallel.
macro_rules! every_size {
    ($($test:ident => $state:expr),+ $(,)?) => {
        $(
            #[test]
            fn $test() {
                render_every_size(stringify!($test), &$state);
            }
        )+
    };
}

every_size! {
    sizes_keys => fixture(),
    sizes_help => help_open(),
    sizes_confirm_empty => confirm_disable_leaked(),
    sizes_confirm_wrong_char => confirm_wrong_char(),
    sizes_delete_active_stage2 => delete_active_second_stage(),
    sizes_lockout_stage => lockout_stage(),
    sizes_confirm_five_keys => confirm_disable_pre_leak_selection(),
    sizes_secret => secret_open(),
    sizes_quit_while_running => quit_while_running(),
    sizes_read_only => fixture_read_only(),
    sizes_identity_failed => identity_failed(),
    sizes_keys_denied_never_loaded => keys_denied_never_loaded(),
    sizes_keys_denied_stale => keys_denied_after_good_data(),
    sizes_user_detail => detail_open(),
}

// ---------------------------------------------------------------------------------------------
// Styles (the snapshots ignore them)
// ---------------------------------------------------------------------------------------------

#[test]
fn leaked_flag_is_red_and_bold_in_the_default_theme() {
    let mut s = fixture();
    // Move the cursor off the leaked row so only its own style applies.
    press(&mut s, 'j');
    let terminal = screen(&s, 120, 30);
    let buf = terminal.backend().buffer();
    let (x, y) = find(buf, "LEAKED").expect("LEAKED flag on screen");
    for i in 0..6 {
        let cell = &buf[(x + i, y)];
        assert_eq!(
            cell.fg,
            crate::screen::colour(|t| t.leaked),
            "LEAKED cell {i}"
        );
        assert!(cell.modifier.contains(Modifier::BOLD), "LEAKED cell {i}");
    }
    // The leaked key's id is red as well; another key's id is not.
    let (kx, ky) = find(buf, K_LEAKED).expect("leaked key id");
    assert_eq!(ky, y);
    assert_eq!(buf[(kx, ky)].fg, crate::screen::colour(|t| t.leaked));
    let (ax, ay) = find(buf, K_ALICE).expect("alice's key id");
    assert_ne!(buf[(ax, ay)].fg, crate::screen::colour(|t| t.leaked));
    assert!(!buf[(ax, ay)].modifier.contains(Modifier::BOLD));
}

#[test]
fn cursor_row_is_reversed_and_only_it() {
    let mut s = fixture();
    press(&mut s, 'j');
    press(&mut s, 'j');
    assert_eq!(s.keys.cursor.as_deref(), Some(K_SELF));
    let terminal = screen(&s, 120, 30);
    let buf = terminal.backend().buffer();
    let (_, cy) = find(buf, K_SELF).expect("cursor key on screen");
    let (_, ly) = find(buf, K_LEAKED).expect("leaked key on screen");
    // Inside the table's borders, every cell of the cursor row is reversed.
    for x in 1..buf.area.width - 1 {
        assert!(
            buf[(x, cy)].modifier.contains(Modifier::REVERSED),
            "cursor row cell {x} not reversed"
        );
        assert!(
            !buf[(x, ly)].modifier.contains(Modifier::REVERSED),
            "non-cursor row cell {x} reversed"
        );
    }
    assert_eq!(buf[(1, cy)].symbol(), "▶");
    assert_eq!(buf[(1, ly)].symbol(), " ");
}

#[test]
fn monochrome_theme_uses_no_colour() {
    let theme = Theme::monochrome();
    let states = [
        fixture(),
        help_open(),
        confirm_wrong_char(),
        delete_active_second_stage(),
        lockout_stage(),
        secret_open(),
        quit_while_running(),
        fixture_read_only(),
        identity_failed(),
        keys_denied_after_good_data(),
        detail_open(),
        filter_typing(),
        command_typing(),
        confirm_revoke(),
    ];
    for (i, state) in states.iter().enumerate() {
        let terminal = draw(state, &theme, 120, 40);
        let buf = terminal.backend().buffer();
        for cell in &buf.content {
            assert_eq!(
                cell.fg,
                Color::Reset,
                "state {i}: fg on {:?}",
                cell.symbol()
            );
            assert_eq!(
                cell.bg,
                Color::Reset,
                "state {i}: bg on {:?}",
                cell.symbol()
            );
        }
    }
    // The same screens in the default theme do have colour, so the check above means something.
    let terminal = draw(&fixture(), &default_theme(), 120, 40);
    assert!(
        terminal
            .backend()
            .buffer()
            .content
            .iter()
            .any(|c| c.fg != Color::Reset)
    );
}
