//! Colours and emphasis. Every meaning also has a word or a symbol, so `NO_COLOR` and
//! colour-blind readers lose nothing.

use ratatui::style::{Color, Modifier, Style};

// Every colour is an entry of the xterm 256-colour palette from 16 up: the 6×6×6 cube and the
// grey ramp have fixed RGB values (unlike 0–15, which each terminal paints its own way), so
// the contrast of every pair below is known and tested (tests/core/contrast.rs). Numbers used:
// 16 #000000, 124 #af0000, 203 #ff5f5f, 114 #87d787, 120 #87ff87, 117 #87d7ff, 123 #87ffff,
// 213 #ff87ff, 221 #ffd75f, 228 #ffff87, 231 #ffffff, 234 #1c1c1c, 238 #444444,
// 242 #6c6c6c, 246 #949494, 250 #bcbcbc, 252 #d0d0d0.

/// The default theme's background: painted under everything, so the ratio does not depend on
/// the terminal's own background.
const DARK: Color = Color::Indexed(234);
/// The high-contrast theme's background.
const BLACK: Color = Color::Indexed(16);

/// A solid badge: bold palette colour `fg` on palette colour `bg`.
fn badge(fg: u8, bg: u8) -> Style {
    Style::default()
        .fg(Color::Indexed(fg))
        .bg(Color::Indexed(bg))
        .add_modifier(Modifier::BOLD)
}

/// `--theme`: the colours to draw with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum ThemeName {
    #[default]
    Default,
    HighContrast,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    /// Ordinary text, and the background painted under the whole screen.
    pub base: Style,
    /// Only what is truly secondary (separators, a step not yet reached, an estimate's mark):
    /// still legible, but never a name, a count, a title or a key hint the room must read.
    pub dim: Style,
    pub title: Style,
    pub accent: Style,
    pub ok: Style,
    pub warn: Style,
    pub danger: Style,
    pub leaked: Style,
    pub new: Style,
    pub quarantined: Style,
    pub self_key: Style,
    pub cursor: Style,
    pub live: Style,
    pub read_only: Style,
    /// The header's containment verdict: read from across the room, so a solid badge.
    pub contained: Style,
    pub not_contained: Style,
    pub border: Style,
    pub input: Style,
}

impl Theme {
    pub fn new(name: ThemeName, no_color: bool) -> Theme {
        if no_color {
            return Theme::monochrome();
        }
        match name {
            ThemeName::Default => {
                let on = |fg: u8| Style::default().fg(Color::Indexed(fg)).bg(DARK);
                Theme {
                    base: on(252),
                    dim: on(246),
                    title: on(231).add_modifier(Modifier::BOLD),
                    accent: on(117),
                    ok: on(114),
                    warn: on(221),
                    danger: on(203).add_modifier(Modifier::BOLD),
                    leaked: on(203).add_modifier(Modifier::BOLD),
                    new: on(221),
                    quarantined: on(213),
                    self_key: on(117),
                    cursor: Style::default().add_modifier(Modifier::REVERSED),
                    live: badge(16, 114),
                    read_only: badge(16, 221),
                    contained: badge(16, 114),
                    not_contained: badge(231, 124),
                    border: on(242),
                    input: badge(231, 238),
                }
            }
            ThemeName::HighContrast => {
                let on = |fg: u8| Style::default().fg(Color::Indexed(fg)).bg(BLACK);
                Theme {
                    base: on(231),
                    dim: on(250),
                    title: on(231).add_modifier(Modifier::BOLD),
                    accent: on(123),
                    ok: on(120).add_modifier(Modifier::BOLD),
                    warn: on(228).add_modifier(Modifier::BOLD),
                    danger: badge(231, 124),
                    leaked: badge(231, 124),
                    new: badge(16, 228),
                    quarantined: badge(16, 213),
                    self_key: badge(16, 123),
                    cursor: badge(16, 231),
                    live: badge(16, 120),
                    read_only: badge(16, 228),
                    contained: badge(16, 120),
                    not_contained: badge(231, 124),
                    border: on(231),
                    input: badge(16, 231),
                }
            }
        }
    }

    /// No colour at all: emphasis by bold, underline and reverse only.
    pub fn monochrome() -> Theme {
        let plain = Style::default();
        let bold = plain.add_modifier(Modifier::BOLD);
        Theme {
            base: plain,
            dim: plain,
            title: bold,
            accent: plain,
            ok: plain,
            warn: bold,
            danger: bold.add_modifier(Modifier::UNDERLINED),
            leaked: bold,
            new: plain.add_modifier(Modifier::UNDERLINED),
            quarantined: plain,
            self_key: plain,
            cursor: bold.add_modifier(Modifier::REVERSED),
            live: bold.add_modifier(Modifier::REVERSED),
            read_only: bold.add_modifier(Modifier::REVERSED),
            contained: bold.add_modifier(Modifier::REVERSED),
            not_contained: bold.add_modifier(Modifier::REVERSED),
            border: plain,
            input: bold.add_modifier(Modifier::UNDERLINED),
        }
    }

    /// `NO_COLOR` set to anything non-empty turns colour off (no-color.org).
    pub fn no_color_from_env() -> bool {
        std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
    }
}
