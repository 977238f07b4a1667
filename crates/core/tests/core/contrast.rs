//! Readable from the back of the room: the contrast of every character the screens draw.
//!
//! The ratio is WCAG 2's (relative luminance of sRGB, `(L1 + 0.05) / (L2 + 0.05)`). Every
//! screen the suite draws through `screen::draw` is checked here too, in both coloured themes
//! (`check`), so a new screen or a new style is measured by the tests that already draw it;
//! the tests below add the states no other test draws (each flash level, the banners, the
//! edit lines) and test the ratio itself.
//!
//! Exempt, as the only truly secondary marks: the box-drawing characters (U+2500–U+257F), i.e.
//! pane borders, the chart's axis and the header's separators. They are lines, not text.

use keyspill_core::app::state::{Flash, Level, Mode, State};
use keyspill_core::ui::theme::{Theme, ThemeName};
use keyspill_core::ui::{self};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::{Buffer, Cell};
use ratatui::style::{Color, Modifier};

use crate::ui_snapshots::fixture;

/// The minimum ratio each coloured theme promises.
const THEMES: [(ThemeName, f64); 2] = [(ThemeName::Default, 4.5), (ThemeName::HighContrast, 7.0)];

/// The sRGB value of a colour whose value every 256-colour terminal agrees on: `Rgb`, and the
/// xterm palette from 16 (the 6×6×6 cube, then the grey ramp). The 16 ANSI colours (named, or
/// `Indexed(0..=15)`) are each terminal's own choice, so they have none.
pub fn rgb(color: Color) -> Option<(u8, u8, u8)> {
    match color {
        Color::Rgb(r, g, b) => Some((r, g, b)),
        Color::Indexed(n @ 16..=231) => {
            let level = |v: u8| if v == 0 { 0 } else { 55 + 40 * v };
            let n = n - 16;
            Some((level(n / 36), level((n / 6) % 6), level(n % 6)))
        }
        Color::Indexed(n @ 232..=255) => {
            let v = 8 + 10 * (n - 232);
            Some((v, v, v))
        }
        _ => None,
    }
}

/// WCAG relative luminance of an sRGB colour, 0 (black) to 1 (white).
pub fn luminance((r, g, b): (u8, u8, u8)) -> f64 {
    let channel = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
}

/// WCAG contrast ratio of two colours, 1 to 21, whichever is lighter.
pub fn ratio(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

fn exempt(symbol: &str) -> bool {
    symbol
        .chars()
        .all(|c| c.is_whitespace() || ('\u{2500}'..='\u{257F}').contains(&c))
}

/// What is wrong with one cell drawn in `theme`, if anything: a colour with no known value,
/// a faint modifier, or a ratio under `min`. A colour left at `Reset` would be the
/// terminal's own (a light terminal's white, say): it resolves to the theme's base colour, and
/// the coloured themes have one for both sides, so every cell of theirs gets a known pair.
fn judge(cell: &Cell, theme: &Theme, min: f64) -> Option<String> {
    if exempt(cell.symbol()) || cell.modifier.contains(Modifier::HIDDEN) {
        return None;
    }
    if cell.modifier.contains(Modifier::DIM) {
        return Some("DIM modifier: the terminal decides how faint".into());
    }
    let resolve = |c: Color, base: Option<Color>| match c {
        Color::Reset => base.unwrap_or(Color::Reset),
        c => c,
    };
    let mut fg = resolve(cell.fg, theme.base.fg);
    let mut bg = resolve(cell.bg, theme.base.bg);
    if cell.modifier.contains(Modifier::REVERSED) {
        std::mem::swap(&mut fg, &mut bg);
    }
    match (rgb(fg), rgb(bg)) {
        (Some(f), Some(b)) => {
            let r = ratio(f, b);
            (r < min).then(|| format!("ratio {r:.2} < {min}"))
        }
        _ => Some(format!("no fixed RGB for fg {fg:?} / bg {bg:?}")),
    }
}

/// Every failing cell of `buf`, one line each: where, which character, which style, why.
fn failures(buf: &Buffer, theme: &Theme, min: f64) -> Vec<String> {
    let mut out = Vec::new();
    for y in buf.area.top()..buf.area.bottom() {
        for x in buf.area.left()..buf.area.right() {
            let cell = &buf[(x, y)];
            if let Some(why) = judge(cell, theme, min) {
                out.push(format!(
                    "({x}, {y}) {:?} fg {:?} bg {:?} {:?}: {why}",
                    cell.symbol(),
                    cell.fg,
                    cell.bg,
                    cell.modifier
                ));
            }
        }
    }
    out
}

/// Draws `state` at `w`×`h` in each coloured theme and fails, naming the screen (the running
/// test), the theme and the first failing cells, if any visible character is under its ratio.
pub fn check(state: &State, w: u16, h: u16) {
    let screen = std::thread::current()
        .name()
        .unwrap_or("unnamed screen")
        .to_string();
    for (name, min) in THEMES {
        let theme = Theme::new(name, false);
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
        terminal
            .draw(|frame| ui::render(frame, state, &theme))
            .expect("draw");
        let bad = failures(terminal.backend().buffer(), &theme, min);
        assert!(
            bad.is_empty(),
            "{screen} at {w}x{h} in {name:?}: {} cells under {min}:1, first:\n{}",
            bad.len(),
            bad.iter().take(12).cloned().collect::<Vec<_>>().join("\n")
        );
    }
}

#[test]
fn ratio_matches_known_values() {
    let white = (255, 255, 255);
    let black = (0, 0, 0);
    assert!((ratio(white, black) - 21.0).abs() < 1e-9);
    assert!((ratio(black, white) - 21.0).abs() < 1e-9);
    assert!((ratio(white, white) - 1.0).abs() < 1e-9);
    // #777 on white is the classic "just under AA" grey: 4.48:1.
    let r = ratio((0x77, 0x77, 0x77), white);
    assert!((r - 4.48).abs() < 0.005, "{r}");
    // Pure red on white, 4.00:1.
    let r = ratio((255, 0, 0), white);
    assert!((r - 4.0).abs() < 0.005, "{r}");
}

#[test]
fn palette_values_follow_the_xterm_formula() {
    assert_eq!(rgb(Color::Indexed(16)), Some((0, 0, 0)));
    assert_eq!(rgb(Color::Indexed(231)), Some((255, 255, 255)));
    assert_eq!(rgb(Color::Indexed(124)), Some((0xaf, 0, 0)));
    assert_eq!(rgb(Color::Indexed(117)), Some((0x87, 0xd7, 0xff)));
    assert_eq!(rgb(Color::Indexed(232)), Some((8, 8, 8)));
    assert_eq!(rgb(Color::Indexed(255)), Some((0xee, 0xee, 0xee)));
    // The terminal's own sixteen have no value to compute with.
    assert_eq!(rgb(Color::Indexed(8)), None);
    assert_eq!(rgb(Color::DarkGray), None);
    assert_eq!(rgb(Color::Reset), None);
}

#[test]
fn the_check_catches_a_grey_on_grey_cell_and_a_reversed_pair() {
    let theme = Theme::new(ThemeName::Default, false);
    let mut cell = Cell::new("x");
    cell.set_fg(Color::Indexed(240)).set_bg(Color::Indexed(236));
    assert!(judge(&cell, &theme, 4.5).is_some(), "grey on grey passes");
    // A terminal colour fails, whatever it looks like here.
    cell.set_fg(Color::DarkGray).set_bg(Color::Indexed(16));
    assert!(judge(&cell, &theme, 4.5).is_some());
    // Reversed swaps, and reset falls back to the theme's base.
    let mut cell = Cell::new("x");
    cell.set_fg(Color::Indexed(16))
        .set_bg(Color::Indexed(231))
        .modifier = Modifier::REVERSED;
    assert_eq!(judge(&cell, &theme, 7.0), None);
    let cell = Cell::new("x");
    assert_eq!(judge(&cell, &theme, 4.5), None, "base on base");
    // Monochrome has no base colour: a reset cell there has no known ratio.
    assert!(judge(&cell, &Theme::monochrome(), 4.5).is_some());
    // Borders are exempt.
    let mut cell = Cell::new("─");
    cell.set_fg(Color::Indexed(235)).set_bg(Color::Indexed(234));
    assert_eq!(judge(&cell, &theme, 4.5), None);
}

#[test]
fn every_theme_style_meets_its_ratio_on_its_own_background() {
    for (name, min) in THEMES {
        let t = Theme::new(name, false);
        let styles = [
            ("base", t.base),
            ("dim", t.dim),
            ("title", t.title),
            ("accent", t.accent),
            ("ok", t.ok),
            ("warn", t.warn),
            ("danger", t.danger),
            ("leaked", t.leaked),
            ("new", t.new),
            ("quarantined", t.quarantined),
            ("self_key", t.self_key),
            ("cursor", t.cursor),
            ("live", t.live),
            ("read_only", t.read_only),
            ("contained", t.contained),
            ("not_contained", t.not_contained),
            ("input", t.input),
        ];
        // `border` is left out: it draws only box-drawing lines, exempt above.
        for (what, style) in styles {
            let mut cell = Cell::new("x");
            cell.set_style(t.base);
            cell.set_style(style);
            assert_eq!(judge(&cell, &t, min), None, "{name:?} {what}");
        }
    }
}

fn with_flash(level: Level) -> State {
    let mut s = fixture();
    s.flash = Some(Flash {
        text: format!("a {level:?} message the room reads"),
        level,
        at: s.now,
    });
    s
}

#[test]
fn flashes_of_every_level() {
    for level in [Level::Info, Level::Ok, Level::Warn, Level::Error] {
        check(&with_flash(level), 120, 30);
    }
}

#[test]
fn banners_and_edit_lines() {
    let mut s = fixture();
    s.journal_error = Some("disk full".into());
    s.access.banner = Some("a foothold is open".into());
    check(&s, 120, 30);
    for mode in [
        Mode::Filter,
        Mode::Command("detected".into()),
        Mode::Note("note".into()),
        Mode::Clear("why".into()),
    ] {
        let mut s = fixture();
        s.mode = mode;
        check(&s, 100, 24);
    }
}
