//! One table of key bindings: `update` dispatches through it and the help overlay is drawn
//! from it, so the two cannot disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Help,
    Quit,
    GoTab(usize),
    NextTab,
    PrevTab,
    Down,
    Up,
    Top,
    Bottom,
    PageDown,
    PageUp,
    Filter,
    Refresh,
    TogglePause,
    CommandLine,
    Open,
    Back,
    Select,
    SelectPreLeak,
    Disable,
    Enable,
    Delete,
    Rotate,
    Revoke,
    MarkEvidence,
    QuickFilter,
    Follow,
    Branch,
    LocalTime,
    ToggleView,
    SelectAttacker,
    Remove,
    Isolate,
    KeepEvidence,
    CycleFocus,
    Note,
    Clear,
    Permissions,
    Simulate,
    /// `y`: the cursor row's id or ARN to the clipboard.
    CopyId,
    /// `Y`: the cursor row as JSON to the clipboard.
    CopyJson,
}

/// Where a binding applies, which is also how the help overlay groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Global,
    List,
    Keys,
    Timeline,
    Resources,
    Cost,
    Checklist,
    Access,
}

impl Scope {
    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "Everywhere",
            Scope::List => "Lists",
            Scope::Keys => "Keys tab",
            Scope::Timeline => "Timeline tab",
            Scope::Resources => "Resources tab",
            Scope::Cost => "Cost tab",
            Scope::Checklist => "Checklist tab",
            Scope::Access => "Access tab",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub keys: &'static [KeyCode],
    /// How the keys are written in the help overlay.
    pub label: &'static str,
    pub command: Command,
    pub help: &'static str,
    pub scope: Scope,
    /// The word the footer shows after the key, for a binding the footer offers.
    pub hint: Option<&'static str>,
}

impl Binding {
    /// Whether the binding works on a tab with `scope`: everywhere, in every list, or there.
    pub fn applies(&self, scope: Scope) -> bool {
        matches!(self.scope, Scope::Global | Scope::List) || self.scope == scope
    }
}

macro_rules! bind {
    ($label:expr, [$($key:expr),+], $cmd:expr, $scope:expr, $help:expr) => {
        Binding {
            keys: &[$($key),+], label: $label, command: $cmd, help: $help, scope: $scope,
            hint: None,
        }
    };
    ($label:expr, [$($key:expr),+], $cmd:expr, $scope:expr, $help:expr, hint = $hint:expr) => {
        Binding {
            keys: &[$($key),+], label: $label, command: $cmd, help: $help, scope: $scope,
            hint: Some($hint),
        }
    };
}

pub const BINDINGS: &[Binding] = &[
    bind!(
        "?",
        [KeyCode::Char('?')],
        Command::Help,
        Scope::Global,
        "show or hide this help",
        hint = "help"
    ),
    bind!(
        "q",
        [KeyCode::Char('q')],
        Command::Quit,
        Scope::Global,
        "quit (asks while an action is running)",
        hint = "quit"
    ),
    bind!(
        "1-6",
        [KeyCode::Char('1')],
        Command::GoTab(0),
        Scope::Global,
        "go to a tab by its number"
    ),
    bind!(
        "Tab",
        [KeyCode::Tab],
        Command::NextTab,
        Scope::Global,
        "next tab"
    ),
    bind!(
        "Shift-Tab",
        [KeyCode::BackTab],
        Command::PrevTab,
        Scope::Global,
        "previous tab"
    ),
    bind!(
        "r",
        [KeyCode::Char('r')],
        Command::Refresh,
        Scope::Global,
        "refresh this pane now",
        hint = "refresh"
    ),
    bind!(
        "p",
        [KeyCode::Char('p')],
        Command::TogglePause,
        Scope::Global,
        "pause or resume background polling"
    ),
    bind!(
        ":",
        [KeyCode::Char(':')],
        Command::CommandLine,
        Scope::Global,
        "command line (:q, :refresh, :key AKIA…)",
        hint = "command"
    ),
    bind!(
        "Esc",
        [KeyCode::Esc],
        Command::Back,
        Scope::Global,
        "close, cancel; on the Timeline, clear one filter at a time: the text, the quick \
         filter, the branch",
        hint = "close"
    ),
    bind!(
        "j / ↓",
        [KeyCode::Char('j'), KeyCode::Down],
        Command::Down,
        Scope::List,
        "move down",
        hint = "move"
    ),
    bind!(
        "k / ↑",
        [KeyCode::Char('k'), KeyCode::Up],
        Command::Up,
        Scope::List,
        "move up"
    ),
    bind!(
        "g / Home",
        [KeyCode::Char('g'), KeyCode::Home],
        Command::Top,
        Scope::List,
        "first row",
        hint = "top"
    ),
    bind!(
        "G / End",
        [KeyCode::Char('G'), KeyCode::End],
        Command::Bottom,
        Scope::List,
        "last row"
    ),
    bind!(
        "PgDn",
        [KeyCode::PageDown],
        Command::PageDown,
        Scope::List,
        "page down"
    ),
    bind!(
        "PgUp",
        [KeyCode::PageUp],
        Command::PageUp,
        Scope::List,
        "page up",
        hint = "scroll"
    ),
    bind!(
        "/",
        [KeyCode::Char('/')],
        Command::Filter,
        Scope::List,
        "filter rows (Enter keeps it, Esc clears it)",
        hint = "filter"
    ),
    bind!(
        "Enter",
        [KeyCode::Enter],
        Command::Open,
        Scope::List,
        "details of the selected row",
        hint = "details"
    ),
    bind!(
        "space",
        [KeyCode::Char(' ')],
        Command::Select,
        Scope::Keys,
        "select or unselect a key",
        hint = "select"
    ),
    bind!(
        "a",
        [KeyCode::Char('a')],
        Command::SelectPreLeak,
        Scope::Keys,
        "select every active key created before the leak"
    ),
    bind!(
        "d",
        [KeyCode::Char('d')],
        Command::Disable,
        Scope::Keys,
        "disable (set Inactive) the key or selection",
        hint = "disable"
    ),
    bind!(
        "e",
        [KeyCode::Char('e')],
        Command::Enable,
        Scope::Keys,
        "re-enable the key or selection",
        hint = "enable"
    ),
    bind!(
        "D",
        [KeyCode::Char('D')],
        Command::Delete,
        Scope::Keys,
        "delete the key or selection",
        hint = "delete"
    ),
    bind!(
        "R",
        [KeyCode::Char('R')],
        Command::Rotate,
        Scope::Keys,
        "rotate: new key, secret shown once, old key disabled",
        hint = "rotate"
    ),
    bind!(
        "x",
        [KeyCode::Char('x')],
        Command::Revoke,
        Scope::Keys,
        "revoke sessions the key's user already minted",
        hint = "revoke"
    ),
    bind!(
        "f",
        [KeyCode::Char('f')],
        Command::QuickFilter,
        Scope::Timeline,
        "cycle: all, since the leak, high-risk, errors, each tactic (Esc: back to all)",
        hint = "quick filter"
    ),
    bind!(
        "t",
        [KeyCode::Char('t')],
        Command::Follow,
        Scope::Timeline,
        "follow the newest event on or off",
        hint = "follow"
    ),
    bind!(
        "b",
        [KeyCode::Char('b')],
        Command::Branch,
        Scope::Timeline,
        "narrow to the selected key's branch (and back)",
        hint = "branch"
    ),
    bind!(
        "m",
        [KeyCode::Char('m')],
        Command::MarkEvidence,
        Scope::Timeline,
        "mark the event as evidence in the journal",
        hint = "evidence"
    ),
    bind!(
        "v",
        [KeyCode::Char('v')],
        Command::ToggleView,
        Scope::Timeline,
        "source IPs and user agents, new since the leak flagged (and back)",
        hint = "IPs / agents"
    ),
    bind!(
        "L",
        [KeyCode::Char('L')],
        Command::LocalTime,
        Scope::Timeline,
        "times in UTC or local",
        hint = "local time"
    ),
    bind!(
        "space",
        [KeyCode::Char(' ')],
        Command::Select,
        Scope::Resources,
        "select or unselect a resource",
        hint = "select"
    ),
    bind!(
        "a",
        [KeyCode::Char('a')],
        Command::SelectAttacker,
        Scope::Resources,
        "select every resource made by the leaked key",
        hint = "select leaked key's"
    ),
    bind!(
        "t",
        [KeyCode::Char('t')],
        Command::Remove,
        Scope::Resources,
        "remove the selection (plan shown, typed confirmation)",
        hint = "remove"
    ),
    bind!(
        "i",
        [KeyCode::Char('i')],
        Command::Isolate,
        Scope::Resources,
        "isolate instances instead of terminating: evidence kept, then no network, no \
         instance profile, termination protection on (typed confirmation)",
        hint = "isolate"
    ),
    bind!(
        "e",
        [KeyCode::Char('e')],
        Command::KeepEvidence,
        Scope::Resources,
        "keep evidence only: snapshots, code, policy documents, definitions; nothing changed",
        hint = "keep evidence"
    ),
    bind!(
        "v",
        [KeyCode::Char('v')],
        Command::ToggleView,
        Scope::Resources,
        "show everything, or only what the leak made or touched",
        hint = "all / suspicious"
    ),
    bind!(
        "c",
        [KeyCode::Char('c')],
        Command::CycleFocus,
        Scope::Cost,
        "move between the service, region and anomaly tables",
        hint = "next table"
    ),
    bind!(
        "space",
        [KeyCode::Char(' ')],
        Command::Select,
        Scope::Checklist,
        "tick or untick the step (your name and the time go to the journal)",
        hint = "tick"
    ),
    bind!(
        "n",
        [KeyCode::Char('n')],
        Command::Note,
        Scope::Checklist,
        "add a note to the step, in the journal",
        hint = "note"
    ),
    bind!(
        "d",
        [KeyCode::Char('d')],
        Command::Disable,
        Scope::Access,
        "close the foothold: disable its key, revoke its chain's sessions, delete its console \
         password, or take the outside principal out of the role's trust",
        hint = "close it"
    ),
    bind!(
        "D",
        [KeyCode::Char('D')],
        Command::Delete,
        Scope::Access,
        "delete the access key",
        hint = "delete key"
    ),
    bind!(
        "x",
        [KeyCode::Char('x')],
        Command::Revoke,
        Scope::Access,
        "revoke every open session at once, on each user and role of their chains",
        hint = "revoke all sessions"
    ),
    bind!(
        "c",
        [KeyCode::Char('c')],
        Command::Clear,
        Scope::Access,
        "clear a foothold of unknown origin, with a reason (journaled)",
        hint = "clear"
    ),
    bind!(
        "v",
        [KeyCode::Char('v')],
        Command::ToggleView,
        Scope::Access,
        "hide or show the closed footholds",
        hint = "hide closed"
    ),
    bind!(
        "w",
        [KeyCode::Char('w')],
        Command::Permissions,
        Scope::Access,
        "what the foothold can still do: its high-impact actions, escalation paths and the \
         roles it can assume (w or Esc closes)",
        hint = "can do"
    ),
    bind!(
        "s",
        [KeyCode::Char('s')],
        Command::Simulate,
        Scope::Access,
        "in the w view: ask IAM's policy simulator again and show where it disagrees"
    ),
    bind!(
        "y",
        [KeyCode::Char('y')],
        Command::CopyId,
        Scope::Global,
        "copy the selected row's id or ARN to the clipboard (OSC 52)",
        hint = "copy id"
    ),
    bind!(
        "Y",
        [KeyCode::Char('Y')],
        Command::CopyJson,
        Scope::Global,
        "copy the selected row as JSON (credentials blanked)",
        hint = "copy JSON"
    ),
];

/// The command a key means in normal mode on a tab with `scope`, if any. Number keys choose a
/// tab.
pub fn lookup(key: &KeyEvent, scope: Scope) -> Option<Command> {
    if let KeyCode::Char(c @ '1'..='9') = key.code {
        return Some(Command::GoTab(c as usize - '1' as usize));
    }
    // Shift is part of the character (`D`, `G`, Shift-Tab); Ctrl and Alt mean something else.
    if !(key.modifiers - KeyModifiers::SHIFT).is_empty() {
        return None;
    }
    BINDINGS
        .iter()
        .filter(|b| b.applies(scope))
        .find(|b| b.keys.contains(&key.code))
        .map(|b| b.command)
}

/// How the key for `cmd` is written: its binding on a tab with `scope`, else wherever it is
/// bound.
pub fn key_label(cmd: Command, scope: Scope) -> Option<&'static str> {
    BINDINGS
        .iter()
        .filter(|b| b.applies(scope))
        .chain(BINDINGS)
        .find(|b| b.command == cmd)
        .map(|b| b.label)
}

/// Keys that work inside dialogs and edit lines, for the help overlay.
pub const DIALOG_HELP: &[(&str, &str)] = &[
    ("type", "confirmation text goes straight into the field"),
    ("Enter", "act, only once the typed text matches"),
    ("↑ ↓ PgUp PgDn", "scroll a plan longer than the screen"),
    ("Esc", "cancel; nothing is changed"),
];

/// What a `:` line asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineCommand {
    Quit,
    Refresh,
    Key,
    Note,
    Export,
    Close,
    Help,
    Can,
    Detected,
}

/// One `:` command: the parser reads `verbs`, the help overlay shows `usage` and `help`.
#[derive(Debug, Clone, Copy)]
pub struct LineBinding {
    pub verbs: &'static [&'static str],
    pub usage: &'static str,
    pub help: &'static str,
    pub command: LineCommand,
    /// Suggested when a `:` line is not understood.
    pub suggest: bool,
}

/// The `:` commands: the one table the parser, the help overlay and the unknown-command
/// message read.
pub const LINE_COMMANDS: &[LineBinding] = &[
    LineBinding {
        verbs: &["q", "quit"],
        usage: ":q",
        help: "quit",
        command: LineCommand::Quit,
        suggest: true,
    },
    LineBinding {
        verbs: &["refresh"],
        usage: ":refresh",
        help: "refresh every pane now",
        command: LineCommand::Refresh,
        suggest: true,
    },
    LineBinding {
        verbs: &["key"],
        usage: ":key AKIA…",
        help: "mark another key as leaked",
        command: LineCommand::Key,
        suggest: true,
    },
    LineBinding {
        verbs: &["note"],
        usage: ":note TEXT",
        help: "a note on the incident, in the journal",
        command: LineCommand::Note,
        suggest: false,
    },
    LineBinding {
        verbs: &["export"],
        usage: ":export",
        help: "write the incident report (report.md) into the incident directory",
        command: LineCommand::Export,
        suggest: false,
    },
    LineBinding {
        verbs: &["close"],
        usage: ":close",
        help: "close the incident (a milestone in the journal)",
        command: LineCommand::Close,
        suggest: false,
    },
    LineBinding {
        verbs: &["detected"],
        usage: ":detected TIME",
        help: "when the incident was detected (2026-11-22T08:40:00Z, 08:40 UTC, -20m): the clock counts from it",
        command: LineCommand::Detected,
        suggest: false,
    },
    LineBinding {
        verbs: &["can"],
        usage: ":can user NAME | :can role NAME",
        help: "what any user or role can do: its grid, escalation paths and roles it can assume",
        command: LineCommand::Can,
        suggest: false,
    },
    LineBinding {
        verbs: &["help"],
        usage: ":help",
        help: "this help",
        command: LineCommand::Help,
        suggest: true,
    },
];

/// The `:` command a line's first word names, if any.
pub fn parse_line(verb: &str) -> Option<LineCommand> {
    LINE_COMMANDS
        .iter()
        .find(|c| c.verbs.contains(&verb))
        .map(|c| c.command)
}

/// How a `:` command is typed, at its shortest (`:export`).
pub fn line_name(cmd: LineCommand) -> &'static str {
    LINE_COMMANDS
        .iter()
        .find(|c| c.command == cmd)
        .map_or("", |c| c.usage.split(' ').next().unwrap_or(c.usage))
}

/// The message for a `:` line that names no command.
pub fn unknown_line(verb: &str) -> String {
    let tries: Vec<&str> = LINE_COMMANDS
        .iter()
        .filter(|c| c.suggest)
        .map(|c| c.usage)
        .collect();
    format!("unknown command :{verb} (try {})", tries.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn every_listed_key_dispatches_to_its_command() {
        for b in BINDINGS {
            let scope = match b.scope {
                Scope::Global | Scope::List => Scope::Keys,
                s => s,
            };
            for code in b.keys {
                let got = lookup(&k(*code), scope);
                match b.command {
                    Command::GoTab(_) => assert!(matches!(got, Some(Command::GoTab(_)))),
                    c => assert_eq!(got, Some(c), "binding {}", b.label),
                }
            }
        }
    }

    #[test]
    fn tabs_by_number_and_unknown_keys() {
        assert_eq!(
            lookup(&k(KeyCode::Char('3')), Scope::Keys),
            Some(Command::GoTab(2))
        );
        assert_eq!(lookup(&k(KeyCode::Char('z')), Scope::Keys), None);
        assert_eq!(
            lookup(
                &KeyEvent::new(KeyCode::Char('d'), KeyModifiers::CONTROL),
                Scope::Keys
            ),
            None
        );
    }

    #[test]
    fn upper_case_letters_arrive_with_or_without_shift() {
        assert_eq!(
            lookup(&k(KeyCode::Char('D')), Scope::Keys),
            Some(Command::Delete)
        );
        assert_eq!(
            lookup(
                &KeyEvent::new(KeyCode::Char('D'), KeyModifiers::SHIFT),
                Scope::Keys
            ),
            Some(Command::Delete)
        );
        assert_eq!(
            lookup(&k(KeyCode::Char('d')), Scope::Keys),
            Some(Command::Disable)
        );
        // A tab's own keys do nothing on another tab.
        assert_eq!(lookup(&k(KeyCode::Char('d')), Scope::Timeline), None);
        assert_eq!(
            lookup(&k(KeyCode::Char('m')), Scope::Timeline),
            Some(Command::MarkEvidence)
        );
        assert_eq!(lookup(&k(KeyCode::Char('m')), Scope::Keys), None);
    }

    #[test]
    fn every_line_command_parses_by_each_of_its_verbs() {
        for c in LINE_COMMANDS {
            for v in c.verbs {
                assert_eq!(parse_line(v), Some(c.command), "{v}");
            }
            assert!(
                c.usage.starts_with(&format!(":{}", c.verbs[0])),
                "{}",
                c.usage
            );
        }
        assert_eq!(parse_line("frobnicate"), None);
        assert_eq!(
            unknown_line("frob"),
            "unknown command :frob (try :q, :refresh, :key AKIA…, :help)"
        );
        assert_eq!(line_name(LineCommand::Key), ":key");
    }

    #[test]
    fn the_command_line_binding_names_only_real_commands() {
        let b = BINDINGS
            .iter()
            .find(|b| b.command == Command::CommandLine)
            .expect(": is bound");
        let listed = b.help.split('(').nth(1).expect("a list in parentheses");
        for usage in listed.trim_end_matches(')').split(", ") {
            let verb = usage
                .trim_start_matches(':')
                .split(' ')
                .next()
                .unwrap_or("");
            assert!(parse_line(verb).is_some(), "{usage} in {:?}", b.help);
        }
    }
}
