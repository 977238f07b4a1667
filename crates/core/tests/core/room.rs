//! The rough edges the war room met: the help overlay's scroll and sections, Esc on the
//! Timeline's quick filter, and `space` doing only what the help says.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use keyspill_core::app::footer::Footer;
use keyspill_core::app::state::{Dialog, State};
use keyspill_core::app::{Msg, update};
use keyspill_core::timeline::store::Quick;
use keyspill_core::ui::dialogs::{help_lines, help_max_scroll};
use keyspill_core::ui::theme::{Theme, ThemeName};

use crate::screen::{draw, row_text, screen_text};

fn key(state: &mut State, code: KeyCode) {
    update(state, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn press(state: &mut State, c: char) {
    key(state, KeyCode::Char(c));
}

fn theme() -> Theme {
    Theme::new(ThemeName::Default, false)
}

fn help_scroll(state: &State) -> u16 {
    match state.dialog {
        Some(Dialog::Help(s)) => s,
        ref other => panic!("help is not open: {other:?}"),
    }
}

fn help_text(state: &State) -> Vec<String> {
    help_lines(state, &theme())
        .iter()
        .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        .collect()
}

/// The help on a 100×30 screen, opened.
fn help_at_30_rows() -> State {
    let mut s = crate::ui_snapshots::fixture();
    update(&mut s, Msg::Resize { height: 30 });
    press(&mut s, '?');
    assert_eq!(help_scroll(&s), 0);
    s
}

#[test]
fn help_scrolls_to_its_last_line_and_no_further() {
    let mut s = help_at_30_rows();
    let total = help_text(&s).len() as u16;
    // 30 rows, less the box's two borders.
    let end = help_max_scroll(&s, 30);
    assert_eq!(end, total - 28);
    for _ in 0..total + 20 {
        press(&mut s, 'j');
    }
    assert_eq!(help_scroll(&s), end, "j stops at the end");
    key(&mut s, KeyCode::PageDown);
    assert_eq!(help_scroll(&s), end, "PgDn stops at the end");
    // No dead keys on the way back: one k is one line up.
    press(&mut s, 'k');
    assert_eq!(help_scroll(&s), end - 1);
    press(&mut s, 'G');
    assert_eq!(help_scroll(&s), end);
    press(&mut s, 'g');
    assert_eq!(help_scroll(&s), 0);

    // At the end, the last line of the help sits on the box's last row, with no blank under it.
    press(&mut s, 'G');
    let terminal = draw(&s, &theme(), 100, 30);
    let buf = terminal.backend().buffer();
    let last = help_text(&s).last().cloned().expect("help has lines");
    let bottom_inside = row_text(buf, 28);
    assert!(
        bottom_inside.contains(last.trim()),
        "last help line not at the bottom:\n{}",
        screen_text(buf)
    );
    assert!(
        row_text(buf, 0).contains(&format!("of {total}")),
        "the title says where the reader is: {}",
        row_text(buf, 0)
    );
}

#[test]
fn help_drawn_on_a_taller_screen_than_it_was_scrolled_for_still_ends_at_its_last_line() {
    // Scrolled to the end at 30 rows, then the screen grows: the render clamps on its own.
    let mut s = help_at_30_rows();
    press(&mut s, 'G');
    let terminal = draw(&s, &theme(), 100, 50);
    let buf = terminal.backend().buffer();
    let text = screen_text(buf);
    let last = help_text(&s).last().cloned().expect("help has lines");
    assert!(text.contains(last.trim()), "{text}");
    // The box's inside has no blank row at its bottom: under the last line, its border.
    let indent = (last.len() - last.trim_start().len()) as u16;
    let (x, y) = crate::screen::find(buf, last.trim()).expect("last line shown");
    assert_eq!(buf[(x - indent - 1, y + 1)].symbol(), "└", "{text}");
}

#[test]
fn help_has_a_section_for_each_tab_the_checklist_and_access_included() {
    let s = help_at_30_rows();
    let text = help_text(&s);
    for title in ["Checklist tab", "Access tab"] {
        assert!(text.iter().any(|l| l.trim() == title), "{title}");
    }
    let joined = text.join("\n");
    assert!(joined.contains("tick or untick the step"), "{joined}");
    assert!(joined.contains("add a note to the step"), "{joined}");
}

#[test]
fn esc_clears_the_timeline_quick_filter_and_the_footer_says_it_will() {
    let mut s = crate::timeline_tab::loaded();
    let all = s.timeline.store.view_len();
    assert_eq!(Footer::of(&s), Footer::Timeline);
    // The first quick filter that leaves some events out.
    for _ in 0..20 {
        press(&mut s, 'f');
        if s.timeline.store.view_len() < all {
            break;
        }
    }
    assert_ne!(s.timeline.quick, Quick::All);
    assert!(s.timeline.store.view_len() < all, "a quick filter narrows");
    assert_eq!(Footer::of(&s), Footer::TimelineFiltered);
    // The flash ("showing …") takes the footer's line while it lasts; the hints are under it.
    let flash = s.flash.take();
    let terminal = draw(&s, &theme(), 120, 30);
    let footer = row_text(terminal.backend().buffer(), 29);
    assert!(footer.contains("Esc clear filter"), "{footer}");
    s.flash = flash;

    key(&mut s, KeyCode::Esc);
    assert_eq!(s.timeline.quick, Quick::All);
    assert_eq!(s.timeline.store.view_len(), all);
    assert_eq!(Footer::of(&s), Footer::Timeline);
    let flash = s.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
    assert!(flash.contains("quick filter cleared"), "{flash}");
}

#[test]
fn esc_clears_the_text_first_then_the_quick_filter() {
    let mut s = crate::timeline_tab::loaded();
    press(&mut s, 'f');
    press(&mut s, '/');
    press(&mut s, 'x');
    key(&mut s, KeyCode::Enter);
    assert_eq!(s.timeline.text, "x");
    key(&mut s, KeyCode::Esc);
    assert_eq!(s.timeline.text, "");
    assert_eq!(s.timeline.quick, Quick::SinceLeak, "one layer per Esc");
    key(&mut s, KeyCode::Esc);
    assert_eq!(s.timeline.quick, Quick::All);
}

#[test]
fn esc_in_the_raw_record_closes_it_and_keeps_the_quick_filter() {
    let mut s = crate::timeline_tab::loaded();
    press(&mut s, 'f');
    key(&mut s, KeyCode::Enter);
    assert!(s.timeline.detail.is_some());
    key(&mut s, KeyCode::Esc);
    assert!(s.timeline.detail.is_none());
    assert_eq!(s.timeline.quick, Quick::SinceLeak);
}

#[test]
fn space_selects_a_key_and_the_cursor_stays() {
    let mut s = crate::ui_snapshots::fixture();
    let at = s.keys.cursor.clone().expect("a cursor");
    press(&mut s, ' ');
    assert!(s.keys.selected.contains(&at));
    assert_eq!(s.keys.cursor.as_ref(), Some(&at));
    press(&mut s, ' ');
    assert!(s.keys.selected.is_empty(), "a second space unselects it");
    assert_eq!(s.keys.cursor.as_ref(), Some(&at));
}

#[test]
fn space_selects_a_resource_and_the_cursor_stays() {
    let mut s = crate::resources_flow::swept();
    press(&mut s, 'j');
    let at = s.resources.cursor.clone().expect("a cursor");
    press(&mut s, ' ');
    assert!(s.resources.selected.contains(&at));
    assert_eq!(s.resources.cursor.as_ref(), Some(&at));
}

#[test]
fn space_ticks_a_checklist_step_and_the_cursor_stays() {
    let mut s = crate::ui_snapshots::fixture();
    press(&mut s, '5');
    press(&mut s, 'j');
    let at = s.checklist.cursor;
    press(&mut s, ' ');
    assert_eq!(s.checklist.cursor, at);
    let step = &s.checklist.steps[at].id;
    assert!(s.checklist.ticks.contains_key(step), "space ticked {step}");
}
