//! Colours and emphasis. Every meaning also has a word or a symbol, so `NO_COLOR` and
//! colour-blind readers lose nothing.

use ratatui::style::{Color, Modifier, Style};

/// `--theme`: the colours to draw with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum ThemeName {
    #[default]
    Default,
    HighContrast,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub base: Style,
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
            ThemeName::Default => Theme {
                base: Style::default(),
                dim: Style::default().fg(Color::DarkGray),
                title: Style::default().add_modifier(Modifier::BOLD),
                accent: Style::default().fg(Color::Cyan),
                ok: Style::default().fg(Color::Green),
                warn: Style::default().fg(Color::Yellow),
                danger: Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
                leaked: Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
                new: Style::default().fg(Color::Yellow),
                quarantined: Style::default().fg(Color::Magenta),
                self_key: Style::default().fg(Color::Cyan),
                cursor: Style::default().add_modifier(Modifier::REVERSED),
                live: Style::default()
                    .fg(Color::Black)
                    .bg(Color::Green)
                    .add_modifier(Modifier::BOLD),
                read_only: Style::default()
                    .fg(Color::Black)
                    .bg(Color::Yellow)
                    .add_modifier(Modifier::BOLD),
                contained: Style::default()
                    .fg(Color::Black)
                    .bg(Color::Green)
                    .add_modifier(Modifier::BOLD),
                not_contained: Style::default()
                    .fg(Color::White)
                    .bg(Color::Red)
                    .add_modifier(Modifier::BOLD),
                border: Style::default().fg(Color::DarkGray),
                input: Style::default()
                    .fg(Color::White)
                    .bg(Color::DarkGray)
                    .add_modifier(Modifier::BOLD),
            },
            ThemeName::HighContrast => Theme {
                base: Style::default().fg(Color::White).bg(Color::Black),
                dim: Style::default().fg(Color::Gray).bg(Color::Black),
                title: Style::default()
                    .fg(Color::White)
                    .bg(Color::Black)
                    .add_modifier(Modifier::BOLD),
                accent: Style::default().fg(Color::LightCyan).bg(Color::Black),
                ok: Style::default()
                    .fg(Color::LightGreen)
                    .bg(Color::Black)
                    .add_modifier(Modifier::BOLD),
                warn: Style::default()
                    .fg(Color::LightYellow)
                    .bg(Color::Black)
                    .add_modifier(Modifier::BOLD),
                danger: Style::default()
                    .fg(Color::White)
                    .bg(Color::Red)
                    .add_modifier(Modifier::BOLD),
                leaked: Style::default()
                    .fg(Color::White)
                    .bg(Color::Red)
                    .add_modifier(Modifier::BOLD),
                new: Style::default()
                    .fg(Color::Black)
                    .bg(Color::LightYellow)
                    .add_modifier(Modifier::BOLD),
                quarantined: Style::default()
                    .fg(Color::Black)
                    .bg(Color::LightMagenta)
                    .add_modifier(Modifier::BOLD),
                self_key: Style::default()
                    .fg(Color::Black)
                    .bg(Color::LightCyan)
                    .add_modifier(Modifier::BOLD),
                cursor: Style::default()
                    .fg(Color::Black)
                    .bg(Color::White)
                    .add_modifier(Modifier::BOLD),
                live: Style::default()
                    .fg(Color::Black)
                    .bg(Color::LightGreen)
                    .add_modifier(Modifier::BOLD),
                read_only: Style::default()
                    .fg(Color::Black)
                    .bg(Color::LightYellow)
                    .add_modifier(Modifier::BOLD),
                contained: Style::default()
                    .fg(Color::Black)
                    .bg(Color::LightGreen)
                    .add_modifier(Modifier::BOLD),
                not_contained: Style::default()
                    .fg(Color::White)
                    .bg(Color::Red)
                    .add_modifier(Modifier::BOLD),
                border: Style::default().fg(Color::White).bg(Color::Black),
                input: Style::default()
                    .fg(Color::Black)
                    .bg(Color::White)
                    .add_modifier(Modifier::BOLD),
            },
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
