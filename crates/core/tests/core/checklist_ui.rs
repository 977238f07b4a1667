//! Screen snapshots of the Checklist tab: steps verified, failing, unknown and ticked, a note,
//! the milestones with their times; and a sweep of terminal sizes that must not panic.

use crate::fixture;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use keyspill_core::app::msg::JournalOpened;
use keyspill_core::app::state::State;
use keyspill_core::app::{Msg, update};
use keyspill_core::journal::{self, Milestone};
use keyspill_core::ui::Theme;
use keyspill_core::ui::theme::ThemeName;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use time::Duration;

use fixture::*;

fn press(state: &mut State, c: char) {
    update(
        state,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
    );
}

/// The fixture incident on the Checklist tab: identity and keys loaded (the leaked key still
/// Active), the journal opened with an earlier tick, a note typed now, detection recorded.
fn checklist() -> State {
    let mut state = identified(false);
    let mut resumed = journal::Resumed {
        ticks: [(
            "support-case".to_string(),
            journal::TickEntry {
                at: "2026-11-22T13:40:00Z".into(),
                operator: "sam@ir-laptop".into(),
            },
        )]
        .into(),
        ..Default::default()
    };
    resumed
        .milestones
        .insert(Milestone::Detected, "2026-11-22T09:00:00Z".into());
    update(
        &mut state,
        Msg::JournalOpened(Ok(JournalOpened {
            dir: "/tmp/incident".into(),
            resumed,
        })),
    );
    press(&mut state, '5');
    press(&mut state, ' ');
    press(&mut state, 'n');
    for c in "repo made private by dev lead".chars() {
        press(&mut state, c);
    }
    update(
        &mut state,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    update(&mut state, Msg::Tick(NOW + Duration::seconds(9)));
    state.flash = None;
    state
}

fn draw(state: &State, width: u16, height: u16) -> Terminal<TestBackend> {
    crate::screen::draw(state, &Theme::new(ThemeName::Default, false), width, height)
}

fn text(terminal: &Terminal<TestBackend>) -> String {
    let buf = terminal.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn checklist_screens() {
    let state = checklist();
    let wide = draw(&state, 160, 45);
    let screen = text(&wide);
    assert!(
        screen.contains("✗  3. Leaked keys inactive or deleted"),
        "{screen}"
    );
    assert!(screen.contains("still Active: AKIA…K7Q4"), "{screen}");
    assert!(screen.contains("ticked by sam@ir-laptop"), "{screen}");
    assert!(screen.contains("repo made private by dev lead"), "{screen}");
    assert!(screen.contains("detected 2026-11-22 09:00Z"), "{screen}");
    insta::assert_snapshot!("checklist_160x45", wide.backend());
    insta::assert_snapshot!("checklist_80x24", draw(&state, 80, 24).backend());
}

#[test]
fn never_panics_at_any_size() {
    let state = checklist();
    for w in (1..=200).step_by(13) {
        for h in (1..=60).step_by(7) {
            draw(&state, w, h);
        }
    }
}
