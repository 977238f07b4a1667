//! Drawing the console into a `TestBackend` and reading the screen back as text, for the
//! screen tests.
#![allow(dead_code)]

use keyspill_core::app::state::State;
use keyspill_core::ui::theme::ThemeName;
use keyspill_core::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Style};

/// One frame of `state` at `w`×`h`, after checking that the same state meets its contrast
/// ratio in both coloured themes (`contrast::check`).
pub fn draw(state: &State, theme: &Theme, w: u16, h: u16) -> Terminal<TestBackend> {
    crate::contrast::check(state, w, h);
    draw_unchecked(state, theme, w, h)
}

/// One frame of `state` at `w`×`h`, without the contrast check: for the loops over hundreds of
/// sizes, which test the layout, not the colours.
pub fn draw_unchecked(state: &State, theme: &Theme, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    terminal
        .draw(|frame| ui::render(frame, state, theme))
        .expect("draw");
    terminal
}

/// Row `y`, one cell per char.
pub fn row_text(buf: &Buffer, y: u16) -> String {
    (buf.area.x..buf.area.x + buf.area.width)
        .map(|x| buf[(x, y)].symbol())
        .collect()
}

/// Every row, joined by newlines.
pub fn screen_text(buf: &Buffer) -> String {
    (buf.area.y..buf.area.y + buf.area.height)
        .map(|y| row_text(buf, y))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first (x, y) at which `needle` starts, one cell per char.
pub fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    let chars: Vec<String> = needle.chars().map(|c| c.to_string()).collect();
    for y in buf.area.y..buf.area.y + buf.area.height {
        for x in buf.area.x..buf.area.x + buf.area.width {
            let fits = chars.iter().enumerate().all(|(i, ch)| {
                let xi = x + i as u16;
                xi < buf.area.x + buf.area.width && buf[(xi, y)].symbol() == ch
            });
            if fits {
                return Some((x, y));
            }
        }
    }
    None
}

/// The foreground colour the default theme gives one of its styles, for the tests that check
/// a cell is drawn in, say, the danger style.
pub fn colour(pick: fn(&Theme) -> Style) -> Color {
    pick(&Theme::new(ThemeName::Default, false))
        .fg
        .unwrap_or(Color::Reset)
}
