//! The rotated secret on a shared screen: masked until revealed twice, written to a 0600 file
//! in the incident directory and never inside a git work tree, copied with OSC 52, and the
//! quarantine the new key inherits.

use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use keyspill_core::app::secret::{self, COPIED};
use keyspill_core::app::state::{Dialog, Reveal, SecretDialog, State};
use keyspill_core::app::{Effect, Msg, update};
use keyspill_core::domain::{NewKey, Secret};
use keyspill_core::journal::Event;
use keyspill_core::ui::Theme;
use keyspill_core::ui::theme::ThemeName;

use crate::fixture::*;
use crate::screen::{draw, screen_text};

const NEW_KEY_ID: &str = "AKIA2CIDEPLOYROTATED";

fn new_key(user: &str) -> NewKey {
    NewKey {
        user: user.into(),
        key_id: NEW_KEY_ID.into(),
        secret: Secret::new(FAKE_SECRET.into()),
    }
}

/// The dialog for a rotation of `user`'s key, with the incident directory `dir` (if any).
fn opened(user: &str, dir: Option<&Path>) -> State {
    let mut state = keys_answered(snapshot(Some(false)));
    state.journal_dir = dir.map(|d| d.display().to_string());
    let effects = update(
        &mut state,
        Msg::SecretCreated {
            new_key: new_key(user),
            old_key: K_LEAKED.into(),
        },
    );
    assert!(effects.is_empty(), "{effects:?}");
    state
}

fn dialog(state: &State) -> &SecretDialog {
    match &state.dialog {
        Some(Dialog::Secret(s)) => s,
        other => panic!("expected the secret dialog, got {other:?}"),
    }
}

fn press(state: &mut State, code: KeyCode) -> Vec<Effect> {
    update(state, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn type_text(state: &mut State, text: &str) {
    for c in text.chars() {
        assert!(press(state, KeyCode::Char(c)).is_empty());
    }
}

fn text(state: &State) -> String {
    let terminal = draw(state, &Theme::new(ThemeName::Default, false), 120, 40);
    screen_text(terminal.backend().buffer())
}

/// What the runtime does with a write effect, but without writing: resolve and check the
/// typed path, and answer with `Msg::SecretWritten`.
fn answer_as_the_runtime(state: &mut State, effects: &[Effect]) -> Vec<Effect> {
    let [Effect::WriteSecret { path, base, .. }] = effects else {
        panic!("not one write: {effects:?}");
    };
    let result =
        secret::check_path(path, base.as_deref().map(Path::new)).map(|p| p.display().to_string());
    update(state, Msg::SecretWritten(result))
}

fn handled(detail: &str) -> Effect {
    Effect::Journal(Event::SecretHandled {
        key_id: NEW_KEY_ID.into(),
        detail: detail.into(),
    })
}

#[test]
fn the_secret_is_masked_until_v_is_pressed_twice() {
    let mut state = opened("alice", None);
    assert_eq!(dialog(&state).reveal, Reveal::Masked);
    let screen = text(&state);
    assert!(!screen.contains(FAKE_SECRET), "{screen}");
    assert!(screen.contains(&secret::mask(FAKE_SECRET)), "{screen}");
    // The mask shows nothing of the secret: not its first characters, not its length.
    assert!(!screen.contains(&FAKE_SECRET[..4]), "{screen}");
    assert_eq!(
        secret::mask("abcdefghij"),
        secret::mask("ZYXWVUTSRQPONMLKJIHGFEDCBA")
    );

    // First v: a warning, still masked, nothing journaled.
    assert!(press(&mut state, KeyCode::Char('v')).is_empty());
    assert_eq!(dialog(&state).reveal, Reveal::Warned);
    let screen = text(&state);
    assert!(!screen.contains(FAKE_SECRET));
    assert!(screen.contains("visible to the whole room"), "{screen}");

    // Second v: shown, and the journal says so (without the secret).
    let effects = press(&mut state, KeyCode::Char('v'));
    assert_eq!(effects, vec![handled("shown on screen")]);
    assert!(!format!("{effects:?}").contains(FAKE_SECRET));
    assert!(text(&state).contains(FAKE_SECRET));

    // Third v: masked again.
    assert!(press(&mut state, KeyCode::Char('v')).is_empty());
    assert_eq!(dialog(&state).reveal, Reveal::Masked);
    assert!(!text(&state).contains(FAKE_SECRET));
}

#[test]
fn any_other_key_after_the_warning_keeps_the_secret_masked() {
    for code in [KeyCode::Esc, KeyCode::Char('x'), KeyCode::Char('w')] {
        let mut state = opened("alice", None);
        press(&mut state, KeyCode::Char('v'));
        press(&mut state, code);
        assert_eq!(dialog(&state).reveal, Reveal::Masked, "{code:?}");
        // And the next v warns again rather than showing it.
        press(&mut state, KeyCode::Esc);
        press(&mut state, KeyCode::Char('v'));
        assert_eq!(dialog(&state).reveal, Reveal::Warned, "{code:?}");
        assert!(!text(&state).contains(FAKE_SECRET));
    }
}

#[test]
fn closing_the_dialog_still_needs_enter() {
    let mut state = opened("alice", None);
    press(&mut state, KeyCode::Esc);
    update(
        &mut state,
        Msg::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
    );
    assert!(state.dialog.is_some());
    press(&mut state, KeyCode::Enter);
    assert!(state.dialog.is_none());
}

#[test]
fn the_file_goes_in_the_incident_directory_by_default_and_the_journal_says_where() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut state = opened("alice", Some(dir.path()));
    let expected = dir
        .path()
        .join(format!("alice-{NEW_KEY_ID}.credentials.csv"));
    assert_eq!(dialog(&state).path, expected.display().to_string());

    assert!(press(&mut state, KeyCode::Char('w')).is_empty());
    assert!(dialog(&state).editing_path);
    let effects = press(&mut state, KeyCode::Enter);
    assert_eq!(
        effects,
        vec![Effect::WriteSecret {
            path: expected.display().to_string(),
            base: Some(dir.path().display().to_string()),
            key: new_key("alice"),
        }]
    );
    assert!(!dialog(&state).editing_path);
    // The runtime resolves it to the directory as the file system names it (a temp dir may
    // sit behind a symlink).
    let real = std::fs::canonicalize(dir.path())
        .expect("canonical")
        .join(format!("alice-{NEW_KEY_ID}.credentials.csv"));
    assert_eq!(
        secret::check_path(&expected.display().to_string(), Some(dir.path())),
        Ok(real.clone())
    );

    let effects = update(
        &mut state,
        Msg::SecretWritten(Ok(real.display().to_string())),
    );
    assert_eq!(
        effects,
        vec![handled(&format!(
            "written to {} (mode 0600)",
            real.display()
        ))]
    );
    assert!(!format!("{effects:?}").contains(FAKE_SECRET));
    assert_eq!(dialog(&state).written, Some(Ok(real.display().to_string())));
    assert!(text(&state).contains("✓ written to"));

    // A failed write is shown and not journaled.
    let effects = update(&mut state, Msg::SecretWritten(Err("disk full".into())));
    assert!(effects.is_empty());
    assert!(text(&state).contains("not written: disk full"));
}

#[test]
fn a_relative_path_goes_under_the_incident_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut state = opened("alice", Some(dir.path()));
    press(&mut state, KeyCode::Char('w'));
    for _ in 0..dialog(&state).path.chars().count() {
        press(&mut state, KeyCode::Backspace);
    }
    type_text(&mut state, "mine.csv");
    let effects = press(&mut state, KeyCode::Enter);
    let [Effect::WriteSecret { path, base, .. }] = effects.as_slice() else {
        panic!("not one write: {effects:?}");
    };
    let real = std::fs::canonicalize(dir.path()).expect("canonical");
    assert_eq!(
        secret::check_path(path, base.as_deref().map(Path::new)),
        Ok(real.join("mine.csv"))
    );
}

#[test]
fn without_an_incident_directory_the_path_is_typed_never_the_current_directory() {
    let mut state = opened("alice", None);
    assert_eq!(dialog(&state).path, "");
    press(&mut state, KeyCode::Char('w'));
    assert!(press(&mut state, KeyCode::Enter).is_empty());
    assert!(dialog(&state).editing_path, "stays in the path field");
    type_text(&mut state, "creds.csv");
    assert!(press(&mut state, KeyCode::Enter).is_empty());
    let Some(Err(e)) = &dialog(&state).written else {
        panic!("a relative path with no incident directory was accepted");
    };
    assert!(e.contains("full path"), "{e}");
}

#[test]
fn a_path_inside_a_git_work_tree_is_refused() {
    let root = tempfile::tempdir().expect("tempdir");
    // A clone: `.git` is a directory. A linked worktree or submodule: `.git` is a file.
    let clone = root.path().join("clone");
    std::fs::create_dir_all(clone.join(".git")).expect("mkdir");
    std::fs::create_dir_all(clone.join("deploy/keys")).expect("mkdir");
    let worktree = root.path().join("worktree");
    std::fs::create_dir_all(&worktree).expect("mkdir");
    std::fs::write(
        worktree.join(".git"),
        "gitdir: /elsewhere/.git/worktrees/w\n",
    )
    .expect("w");
    let outside = root.path().join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");

    for (dir, tree) in [
        (clone.join("deploy/keys"), &clone),
        (clone.clone(), &clone),
        (worktree.clone(), &worktree),
    ] {
        let e = secret::check_path(&dir.join("k.csv").display().to_string(), None)
            .expect_err("inside a work tree");
        let tree = std::fs::canonicalize(tree).expect("canonical");
        assert!(e.contains("git work tree"), "{e}");
        assert!(e.contains(&tree.display().to_string()), "{e}");
    }
    assert!(secret::check_path(&outside.join("k.csv").display().to_string(), None).is_ok());

    // Through the dialog: the runtime refuses, nothing is journaled, the reason is on screen
    // and the path is back in the field for editing.
    let mut state = opened("alice", Some(&clone));
    press(&mut state, KeyCode::Char('w'));
    let effects = press(&mut state, KeyCode::Enter);
    assert!(answer_as_the_runtime(&mut state, &effects).is_empty());
    let s = dialog(&state);
    assert!(s.editing_path);
    assert!(matches!(&s.written, Some(Err(e)) if e.contains("git work tree")));
    assert!(text(&state).contains("git work tree"));
}

#[test]
fn an_existing_file_or_a_missing_directory_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let there = dir.path().join("already.csv");
    std::fs::write(&there, "x").expect("write");
    let e = secret::check_path(&there.display().to_string(), None).expect_err("exists");
    assert!(e.contains("already exists"), "{e}");
    let e = secret::check_path(
        &dir.path().join("no/such/dir/k.csv").display().to_string(),
        None,
    )
    .expect_err("missing dir");
    assert!(e.contains("no/such/dir"), "{e}");
    assert!(secret::check_path("   ", Some(dir.path())).is_err());
}

#[test]
fn a_quarantined_user_gets_the_inherited_policy_warning() {
    // ci-deploy carries the quarantine policy in the fixture; alice does not.
    let state = opened("ci-deploy", None);
    assert!(dialog(&state).quarantined);
    let screen = text(&state);
    assert!(screen.contains("AWSCompromisedKeyQuarantine"), "{screen}");
    assert!(screen.contains("inherits"), "{screen}");

    let state = opened("alice", None);
    assert!(!dialog(&state).quarantined);
    assert!(!text(&state).contains("AWSCompromisedKeyQuarantine"));

    // Known from the users list alone (a user whose keys are all gone).
    let mut snap = snapshot(Some(false));
    snap.keys.retain(|k| k.user != "ci-deploy");
    let mut state = keys_answered(snap);
    update(
        &mut state,
        Msg::SecretCreated {
            new_key: new_key("ci-deploy"),
            old_key: K_LEAKED.into(),
        },
    );
    assert!(dialog(&state).quarantined);
}

#[test]
fn c_copies_the_secret_with_osc52_and_the_journal_says_so() {
    for key in ['c', 'y'] {
        let mut state = opened("alice", None);
        let effects = press(&mut state, KeyCode::Char(key));
        let [Effect::Copy { what, text: copied }, journal] = effects.as_slice() else {
            panic!("expected a copy and a journal entry, got {effects:?}");
        };
        assert_eq!(copied.expose(), FAKE_SECRET);
        assert!(what.contains("AKIA…ATED"), "{what}");
        assert_eq!(journal, &handled("copied to the clipboard (OSC 52)"));
        // Neither the effects' debug form nor the screen shows it.
        assert!(!format!("{effects:?}").contains(FAKE_SECRET));
        assert!(!text(&state).contains(FAKE_SECRET));
        let flash = flash_text(&state);
        assert!(flash.contains(COPIED), "{flash}");
        assert_eq!(dialog(&state).reveal, Reveal::Masked);
    }
}

#[test]
fn the_default_file_name_keeps_to_safe_characters() {
    let k = NewKey {
        user: "../../etc/x y".into(),
        key_id: NEW_KEY_ID.into(),
        secret: Secret::new(FAKE_SECRET.into()),
    };
    let name = secret::default_file_name(&k);
    assert!(!name.contains('/') && !name.contains(' '), "{name}");
    assert!(name.ends_with(&format!("{NEW_KEY_ID}.credentials.csv")));
}

#[test]
fn secret_dialog_screens() {
    let theme = Theme::new(ThemeName::Default, false);
    // The warning before the reveal, with the quarantine warning, on the smallest terminal.
    let mut state = opened("ci-deploy", None);
    press(&mut state, KeyCode::Char('v'));
    let terminal = draw(&state, &theme, 80, 24);
    insta::assert_snapshot!("secret_warned_quarantined_80x24", terminal.backend());

    // A refused path (a directory that does not exist, so that the screen is the same on
    // every machine): the reason under the field, the field still open.
    let mut state = opened("alice", None);
    press(&mut state, KeyCode::Char('w'));
    type_text(&mut state, "/nonexistent-keyspill-dir/creds.csv");
    let effects = press(&mut state, KeyCode::Enter);
    answer_as_the_runtime(&mut state, &effects);
    let terminal = draw(&state, &theme, 100, 30);
    insta::assert_snapshot!("secret_path_refused_100x30", terminal.backend());
}
