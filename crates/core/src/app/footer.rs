//! The footer's key hints, drawn from the key-binding table: each footer context picks which
//! bindings it offers, and the keys and words come from `keymap`, so the footer cannot show a
//! key the tab does not handle.

use crossterm::event::KeyCode;

use crate::app::keymap::{BINDINGS, Binding, Command, LineCommand, Scope, line_name};
use crate::app::state::{State, Tab};

/// What the footer offers: a tab, and on it the pane or the mode that changes its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Footer {
    Keys,
    KeysReadOnly,
    KeysDetail,
    Timeline,
    /// The Timeline narrowed by a text, a quick filter or a branch: Esc clears it.
    TimelineFiltered,
    TimelineRecord,
    Resources,
    ResourcesReadOnly,
    ResourcesDetail,
    RemovalRunning,
    RemovalDone,
    Cost,
    Checklist,
    Access,
    AccessReadOnly,
    Permissions,
}

pub const FOOTERS: &[Footer] = &[
    Footer::Keys,
    Footer::KeysReadOnly,
    Footer::KeysDetail,
    Footer::Timeline,
    Footer::TimelineFiltered,
    Footer::TimelineRecord,
    Footer::Resources,
    Footer::ResourcesReadOnly,
    Footer::ResourcesDetail,
    Footer::RemovalRunning,
    Footer::RemovalDone,
    Footer::Cost,
    Footer::Checklist,
    Footer::Access,
    Footer::AccessReadOnly,
    Footer::Permissions,
];

/// One footer entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hint {
    pub what: HintKey,
    /// The word when this context means the key differently from the binding's own word.
    pub word: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HintKey {
    /// A bound key.
    Key(Command),
    /// Two bound keys sharing a word (`j/k`, `PgUp/PgDn`).
    Pair(Command, Command),
    /// A `:` command.
    Line(LineCommand),
}

const fn key(c: Command) -> Hint {
    Hint {
        what: HintKey::Key(c),
        word: None,
    }
}

const fn pair(a: Command, b: Command) -> Hint {
    Hint {
        what: HintKey::Pair(a, b),
        word: None,
    }
}

const fn line(c: LineCommand, word: &'static str) -> Hint {
    Hint {
        what: HintKey::Line(c),
        word: Some(word),
    }
}

impl Hint {
    const fn says(self, word: &'static str) -> Hint {
        Hint {
            what: self.what,
            word: Some(word),
        }
    }
}

const MOVE: Hint = pair(Command::Down, Command::Up);
const PAGE: Hint = pair(Command::PageUp, Command::PageDown);

/// Help and quit: always shown, at the end, whatever else the width drops.
pub const ESSENTIAL: &[Hint] = &[key(Command::Help), key(Command::Quit)];

impl Footer {
    /// The footer for what is on screen.
    pub fn of(state: &State) -> Footer {
        let read_only = state.settings.read_only;
        match state.tab {
            Tab::Keys if state.keys.detail.is_some() => Footer::KeysDetail,
            Tab::Keys if read_only => Footer::KeysReadOnly,
            Tab::Keys => Footer::Keys,
            Tab::Timeline if state.timeline.detail.is_some() => Footer::TimelineRecord,
            Tab::Timeline if crate::app::timeline::filtered(&state.timeline) => {
                Footer::TimelineFiltered
            }
            Tab::Timeline => Footer::Timeline,
            Tab::Resources => {
                let removal = state.resources.removal.as_ref();
                if state.resources.detail.is_some() {
                    Footer::ResourcesDetail
                } else if removal.is_some_and(|r| r.finished) {
                    Footer::RemovalDone
                } else if removal.is_some() {
                    Footer::RemovalRunning
                } else if read_only {
                    Footer::ResourcesReadOnly
                } else {
                    Footer::Resources
                }
            }
            Tab::Cost => Footer::Cost,
            Tab::Checklist => Footer::Checklist,
            Tab::Access if state.access.perms.is_some() => Footer::Permissions,
            Tab::Access if read_only => Footer::AccessReadOnly,
            Tab::Access => Footer::Access,
        }
    }

    /// The tab whose bindings this footer offers.
    pub fn scope(self) -> Scope {
        match self {
            Footer::Keys | Footer::KeysReadOnly | Footer::KeysDetail => Scope::Keys,
            Footer::Timeline | Footer::TimelineFiltered | Footer::TimelineRecord => Scope::Timeline,
            Footer::Resources
            | Footer::ResourcesReadOnly
            | Footer::ResourcesDetail
            | Footer::RemovalRunning
            | Footer::RemovalDone => Scope::Resources,
            Footer::Cost => Scope::Cost,
            Footer::Checklist => Scope::Checklist,
            Footer::Access | Footer::AccessReadOnly | Footer::Permissions => Scope::Access,
        }
    }

    /// Which bindings the footer offers here, most useful first.
    pub fn hints(self) -> &'static [Hint] {
        use Command as C;
        match self {
            Footer::Keys => {
                const {
                    &[
                        key(C::Disable),
                        key(C::Enable),
                        key(C::Delete),
                        key(C::Rotate),
                        key(C::Revoke),
                        key(C::Select),
                        key(C::Filter),
                        pair(C::CopyId, C::CopyJson).says("copy id/JSON"),
                        key(C::Help),
                        key(C::Quit),
                    ]
                }
            }
            Footer::KeysReadOnly => {
                const {
                    &[
                        key(C::Open),
                        key(C::Filter),
                        key(C::Refresh),
                        key(C::CommandLine),
                        pair(C::CopyId, C::CopyJson).says("copy id/JSON"),
                        key(C::Help),
                        key(C::Quit),
                    ]
                }
            }
            Footer::KeysDetail => {
                const {
                    &[
                        key(C::Back),
                        MOVE.says("scroll"),
                        key(C::Refresh),
                        key(C::Help),
                    ]
                }
            }
            Footer::Timeline => {
                const {
                    &[
                        key(C::Open).says("record"),
                        key(C::QuickFilter),
                        key(C::Filter),
                        key(C::Branch),
                        key(C::ToggleView),
                        key(C::Follow),
                        key(C::MarkEvidence),
                        key(C::LocalTime),
                        pair(C::CopyId, C::CopyJson).says("copy id/JSON"),
                    ]
                }
            }
            Footer::TimelineFiltered => {
                const {
                    &[
                        key(C::Back).says("clear filter"),
                        key(C::Open).says("record"),
                        key(C::QuickFilter),
                        key(C::Filter),
                        key(C::Branch),
                        key(C::ToggleView),
                        key(C::Follow),
                        key(C::MarkEvidence),
                        key(C::LocalTime),
                        pair(C::CopyId, C::CopyJson).says("copy id/JSON"),
                    ]
                }
            }
            Footer::TimelineRecord => {
                const {
                    &[
                        key(C::Back),
                        MOVE.says("scroll"),
                        key(C::MarkEvidence),
                        pair(C::CopyId, C::CopyJson).says("copy id/JSON"),
                    ]
                }
            }
            Footer::Resources => {
                const {
                    &[
                        key(C::Select),
                        key(C::SelectAttacker),
                        key(C::Remove),
                        key(C::Open),
                        key(C::ToggleView),
                        key(C::Filter),
                        key(C::Isolate),
                        key(C::KeepEvidence),
                        key(C::Refresh).says("sweep again"),
                        pair(C::CopyId, C::CopyJson).says("copy id/JSON"),
                    ]
                }
            }
            Footer::ResourcesReadOnly => {
                const {
                    &[
                        key(C::Open),
                        key(C::ToggleView),
                        key(C::Filter),
                        key(C::Refresh).says("sweep again"),
                        pair(C::CopyId, C::CopyJson).says("copy id/JSON"),
                    ]
                }
            }
            Footer::ResourcesDetail => const { &[key(C::Back), MOVE.says("scroll"), key(C::Top)] },
            Footer::RemovalRunning => const { &[PAGE.says("scroll progress"), MOVE, key(C::Open)] },
            Footer::RemovalDone => const { &[key(C::Back).says("close progress"), PAGE, MOVE] },
            Footer::Checklist => {
                const {
                    &[
                        key(C::Select),
                        key(C::Note),
                        MOVE,
                        line(LineCommand::Export, "report"),
                        line(LineCommand::Close, "close incident"),
                        pair(C::CopyId, C::CopyJson).says("copy id/JSON"),
                    ]
                }
            }
            Footer::Cost => {
                const {
                    &[
                        key(C::CycleFocus),
                        MOVE,
                        key(C::Refresh).says("refresh (billed)"),
                        pair(C::CopyId, C::CopyJson).says("copy id/JSON"),
                    ]
                }
            }
            Footer::Access => {
                const {
                    &[
                        key(C::Disable),
                        key(C::Revoke),
                        key(C::Delete),
                        key(C::Permissions),
                        key(C::Clear),
                        key(C::Open).says("where"),
                        key(C::ToggleView),
                        MOVE,
                        pair(C::CopyId, C::CopyJson).says("copy id/JSON"),
                    ]
                }
            }
            Footer::Permissions => {
                const {
                    &[
                        key(C::Back).says("close"),
                        MOVE.says("cell"),
                        PAGE.says("scroll"),
                        key(C::Simulate).says("ask the simulator"),
                        key(C::Disable),
                    ]
                }
            }
            Footer::AccessReadOnly => {
                const {
                    &[
                        key(C::Open).says("where"),
                        key(C::Permissions),
                        key(C::Clear),
                        key(C::ToggleView),
                        key(C::Refresh),
                        MOVE,
                        pair(C::CopyId, C::CopyJson).says("copy id/JSON"),
                    ]
                }
            }
        }
    }

    /// The footer's (key, word) pairs, from the binding table; an entry the table does not
    /// bind here is left out (and a test says so).
    pub fn pairs(self) -> Vec<(String, &'static str)> {
        self.hints()
            .iter()
            .filter_map(|h| resolve(*h, self.scope()))
            .collect()
    }
}

/// The binding for `cmd` on a tab with `scope`.
pub fn binding(cmd: Command, scope: Scope) -> Option<&'static Binding> {
    BINDINGS
        .iter()
        .filter(|b| b.applies(scope))
        .find(|b| b.command == cmd)
}

/// A hint's key as the footer writes it and its word, if the table binds it on `scope`.
pub fn resolve(h: Hint, scope: Scope) -> Option<(String, &'static str)> {
    match h.what {
        HintKey::Key(c) => {
            let b = binding(c, scope)?;
            Some((key_text(b.keys[0]), h.word.or(b.hint)?))
        }
        HintKey::Pair(a, c) => {
            let (a, c) = (binding(a, scope)?, binding(c, scope)?);
            let keys = format!("{}/{}", key_text(a.keys[0]), key_text(c.keys[0]));
            Some((keys, h.word.or(a.hint)?))
        }
        HintKey::Line(c) => Some((line_name(c).to_string(), h.word?)),
    }
}

/// A key as the footer writes it: `d`, `space`, `Enter`, `PgUp`.
pub fn key_text(code: KeyCode) -> String {
    match code {
        KeyCode::Char(' ') => "space".into(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Esc => "Esc".into(),
        KeyCode::Tab => "Tab".into(),
        KeyCode::BackTab => "Shift-Tab".into(),
        KeyCode::PageUp => "PgUp".into(),
        KeyCode::PageDown => "PgDn".into(),
        KeyCode::Home => "Home".into(),
        KeyCode::End => "End".into(),
        KeyCode::Up => "↑".into(),
        KeyCode::Down => "↓".into(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_footer_hint_is_bound_where_it_is_offered() {
        for f in FOOTERS.iter().copied() {
            for h in f.hints().iter().chain(ESSENTIAL) {
                assert!(resolve(*h, f.scope()).is_some(), "{h:?} in {f:?}");
            }
        }
    }

    #[test]
    fn keys_are_written_as_the_footer_always_wrote_them() {
        assert_eq!(
            Footer::RemovalDone.pairs(),
            vec![
                ("Esc".to_string(), "close progress"),
                ("PgUp/PgDn".to_string(), "scroll"),
                ("j/k".to_string(), "move"),
            ]
        );
        assert_eq!(
            Footer::Checklist.pairs()[3],
            (":export".to_string(), "report")
        );
    }
}
