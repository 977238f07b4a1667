//! Key routing: a key goes to the focused tab (under dialogs and edit lines), and a key a tab
//! does not handle never reaches another tab's action. The footer and the help are drawn
//! from the binding table, so a tab's keys show where it is.

use crate::fixture;
use crate::screen::{draw, row_text};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use keyspill_core::app::footer::Footer;
use keyspill_core::app::keymap::{BINDINGS, Command, Scope};
use keyspill_core::app::plan::Plan;
use keyspill_core::app::state::{Dialog, Mode, Source, State, TABS, Tab};
use keyspill_core::app::update::dispatch;
use keyspill_core::app::{Effect, Msg, update};
use keyspill_core::ui::dialogs::help_lines;
use keyspill_core::ui::theme::{Theme, ThemeName};
use time::Duration;

use fixture::*;

/// Identity and keys loaded (so a misrouted Keys action would find a key to act on), one
/// key selected, on `tab`.
fn on(tab: Tab) -> State {
    let mut state = base(false);
    update(
        &mut state,
        Msg::Identity {
            seq: 1,
            at: NOW - Duration::seconds(6),
            result: Ok(identity()),
        },
    );
    update(
        &mut state,
        Msg::Keys {
            seq: 1,
            at: NOW - Duration::seconds(4),
            result: Ok(snapshot(Some(false))),
        },
    );
    state.keys.selected.insert(K_ALICE.into());
    state.tab = tab;
    state
}

fn key(code: KeyCode) -> Msg {
    let modifiers = match code {
        KeyCode::Char(c) if c.is_ascii_uppercase() => KeyModifiers::SHIFT,
        _ => KeyModifiers::NONE,
    };
    Msg::Key(KeyEvent::new(code, modifiers))
}

fn key_plan(state: &State) -> bool {
    matches!(
        &state.dialog,
        Some(Dialog::Confirm(c)) if matches!(
            c.plan,
            Plan::DisableKeys(_)
                | Plan::EnableKeys(_)
                | Plan::DeleteKeys(_)
                | Plan::RotateKey(_)
                | Plan::RevokeSessions { .. }
        )
    )
}

/// Effects only the Keys tab asks for.
fn keys_effect(effects: &[Effect]) -> bool {
    let keys_refresh = effects.contains(&Effect::Refresh(Source::Keys))
        && !effects.contains(&Effect::Refresh(Source::Cost));
    keys_refresh
        || effects
            .iter()
            .any(|e| matches!(e, Effect::FetchUserDetail(_) | Effect::LookupKeyInfo(_)))
}

/// Every key that means something somewhere, and a few that mean nothing.
fn all_keys() -> Vec<KeyCode> {
    let mut codes: Vec<KeyCode> = BINDINGS
        .iter()
        .flat_map(|b| b.keys.iter().copied())
        .collect();
    codes.extend(('a'..='z').chain('A'..='Z').map(KeyCode::Char));
    codes.extend([KeyCode::Enter, KeyCode::Esc, KeyCode::Backspace]);
    codes.dedup();
    codes
}

#[test]
fn no_key_on_another_tab_reaches_the_keys_tab() {
    // The Access tab closes footholds, keys among them, with its own bindings (its flows are
    // tested in `access_flow`); every other tab must leave keys alone.
    for tab in TABS
        .iter()
        .copied()
        .filter(|t| !matches!(t, Tab::Keys | Tab::Access))
    {
        for code in all_keys() {
            let mut state = on(tab);
            let before = state.keys.clone();
            let effects = update(&mut state, key(code));
            let what = format!("{code:?} on the {} tab", tab.title());
            assert!(!key_plan(&state), "{what} opened a key action");
            assert!(!keys_effect(&effects), "{what} asked for {effects:?}");
            assert_eq!(state.keys, before, "{what} changed the Keys tab");
        }
    }
}

#[test]
fn keys_tab_actions_still_work_on_the_keys_tab() {
    // The same check would be meaningless if the Keys tab itself did nothing.
    let mut state = on(Tab::Keys);
    update(&mut state, key(KeyCode::Char('d')));
    assert!(key_plan(&state), "{:?}", state.dialog);
    let mut state = on(Tab::Keys);
    let effects = update(&mut state, key(KeyCode::Enter));
    assert!(keys_effect(&effects), "{effects:?}");
    let mut state = on(Tab::Keys);
    update(&mut state, key(KeyCode::Esc));
    assert!(state.keys.selected.is_empty());
}

#[test]
fn filter_open_and_back_on_the_cost_and_checklist_tabs_do_nothing() {
    for tab in [Tab::Cost, Tab::Checklist] {
        for code in [KeyCode::Char('/'), KeyCode::Enter, KeyCode::Esc] {
            let mut state = on(tab);
            let effects = update(&mut state, key(code));
            assert!(effects.is_empty(), "{code:?} on {tab:?}: {effects:?}");
            assert_eq!(state.mode, Mode::Normal, "{code:?} on {tab:?}");
            assert!(state.dialog.is_none(), "{code:?} on {tab:?}");
            assert!(state.flash.is_none(), "{code:?} on {tab:?}");
        }
    }
}

#[test]
fn r_on_the_checklist_refreshes_every_source_it_checks() {
    let mut state = on(Tab::Checklist);
    let effects = update(&mut state, key(KeyCode::Char('r')));
    for source in [
        Source::Identity,
        Source::Keys,
        Source::Timeline,
        Source::Resources,
        Source::Cost,
    ] {
        assert!(effects.contains(&Effect::Refresh(source)), "{effects:?}");
    }
    assert_eq!(
        state.flash.as_ref().map(|f| f.text.as_str()),
        Some("refreshing every pane")
    );
}

#[test]
fn r_refreshes_the_focused_tab_s_own_source() {
    for (tab, source) in [
        (Tab::Keys, Source::Keys),
        (Tab::Timeline, Source::Timeline),
        (Tab::Resources, Source::Resources),
        (Tab::Cost, Source::Cost),
    ] {
        let mut state = on(tab);
        let effects = update(&mut state, key(KeyCode::Char('r')));
        assert_eq!(effects, vec![Effect::Refresh(source)], "r on {tab:?}");
    }
}

#[test]
fn a_command_a_tab_does_not_handle_says_not_here() {
    for tab in TABS.iter().copied().filter(|t| *t != Tab::Keys) {
        // The Access tab closes footholds with d; rotation is the Keys tab's alone.
        let (cmd, label) = if tab == Tab::Access {
            (Command::Rotate, "R")
        } else {
            (Command::Disable, "d")
        };
        let mut state = on(tab);
        let effects = dispatch(&mut state, cmd);
        assert!(effects.is_empty(), "{effects:?}");
        assert!(state.dialog.is_none(), "{tab:?}: {:?}", state.dialog);
        let flash = state.flash.as_ref().map(|f| f.text.clone());
        assert_eq!(
            flash.as_deref(),
            Some(format!("not here: {label} does nothing on the {} tab", tab.title()).as_str())
        );
    }
    // And the other way round: the Keys tab has no table to cycle.
    let mut state = on(Tab::Keys);
    assert!(dispatch(&mut state, Command::CycleFocus).is_empty());
    let flash = state.flash.as_ref().map(|f| f.text.clone());
    assert_eq!(
        flash.as_deref(),
        Some("not here: c does nothing on the Keys tab")
    );
}

#[test]
fn each_tab_s_own_keys_are_in_the_help() {
    let theme = Theme::new(ThemeName::Default, false);
    let state = on(Tab::Keys);
    let text: Vec<String> = help_lines(&state, &theme)
        .iter()
        .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        .collect();
    for scope in [
        Scope::Global,
        Scope::List,
        Scope::Keys,
        Scope::Timeline,
        Scope::Resources,
        Scope::Cost,
        Scope::Checklist,
        Scope::Access,
    ] {
        assert!(
            text.iter().any(|l| l.trim() == scope.title()),
            "{}",
            scope.title()
        );
        // A long entry wraps under itself: its words, joined again, are the binding's help.
        let joined = text.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
        for b in BINDINGS.iter().filter(|b| b.scope == scope) {
            assert!(
                joined.contains(b.help),
                "{:?} {} missing from help",
                scope,
                b.label
            );
        }
    }
}

/// The footer row, drawn wide enough for every hint.
fn footer(state: &State) -> String {
    let theme = Theme::new(ThemeName::Default, false);
    let terminal = draw(state, &theme, 220, 40);
    row_text(terminal.backend().buffer(), 39)
}

#[test]
fn each_tab_s_footer_offers_its_own_keys_from_the_table() {
    for tab in TABS.iter().copied() {
        let state = on(tab);
        let row = footer(&state);
        // Every key of the tab's own that has a footer word shows, as the table writes it.
        for b in BINDINGS
            .iter()
            .filter(|b| b.scope == tab.scope() && b.hint.is_some())
        {
            let hint = b.hint.unwrap_or_default();
            assert!(
                row.contains(&format!(" {hint}  ")),
                "{tab:?}: {} ({hint}) not in {row:?}",
                b.label
            );
        }
        for (k, word) in Footer::of(&state).pairs() {
            assert!(row.contains(&format!("{k} {word}")), "{tab:?}: {row:?}");
        }
        assert!(row.contains("? help") && row.contains("q quit"), "{row:?}");
    }
}

#[test]
fn a_footer_key_does_what_the_footer_says_on_that_tab() {
    // `t` is "follow" on the Timeline and "remove" on Resources: each footer shows its own.
    let timeline = footer(&on(Tab::Timeline));
    assert!(timeline.contains("t follow") && !timeline.contains("t remove"));
    let resources = footer(&on(Tab::Resources));
    assert!(resources.contains("t remove") && !resources.contains("t follow"));
    // Keys actions are offered on the Keys tab only.
    for tab in [Tab::Timeline, Tab::Resources, Tab::Cost, Tab::Checklist] {
        let row = footer(&on(tab));
        for hint in ["d disable", "D delete", "R rotate", "x revoke"] {
            assert!(!row.contains(hint), "{tab:?} footer offers {hint}: {row:?}");
        }
    }
}

#[test]
fn an_open_pane_holds_the_tab_but_help_and_quit_still_work() {
    fn opened(tab: Tab) -> State {
        let mut state = on(tab);
        match tab {
            Tab::Keys => {
                update(&mut state, key(KeyCode::Enter));
                assert!(state.keys.detail.is_some());
            }
            Tab::Timeline => state.timeline.detail = Some(0),
            Tab::Resources => state.resources.detail = Some(0),
            Tab::Cost | Tab::Checklist | Tab::Access => unreachable!("no pane"),
        }
        state
    }
    for tab in [Tab::Keys, Tab::Timeline, Tab::Resources] {
        for code in [KeyCode::Tab, KeyCode::Char('4'), KeyCode::Char('p')] {
            let mut state = opened(tab);
            assert!(update(&mut state, key(code)).is_empty(), "{code:?}");
            assert_eq!(state.tab, tab, "{code:?} under the {tab:?} pane");
            assert!(!state.paused, "{code:?} under the {tab:?} pane");
        }
        let mut state = opened(tab);
        update(&mut state, key(KeyCode::Char('?')));
        assert_eq!(
            state.dialog,
            Some(Dialog::Help(0)),
            "? under the {tab:?} pane"
        );
        let mut state = opened(tab);
        update(&mut state, key(KeyCode::Char('q')));
        assert!(state.quit, "q under the {tab:?} pane");
        // Esc closes the pane and nothing else.
        let mut state = opened(tab);
        update(&mut state, key(KeyCode::Esc));
        let open = match tab {
            Tab::Keys => state.keys.detail.is_some(),
            Tab::Timeline => state.timeline.detail.is_some(),
            _ => state.resources.detail.is_some(),
        };
        assert!(!open, "Esc leaves the {tab:?} pane open");
        assert_eq!(state.keys.selected.len(), 1, "Esc under the {tab:?} pane");
    }
}
