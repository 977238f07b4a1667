//! The Timeline tab's state and its part of `update`.

use std::collections::{BTreeMap, BTreeSet};

use crossterm::event::{KeyCode, KeyEvent};

use crate::app::cursor;
use crate::app::keymap::Command;
use crate::app::msg::Effect;
use crate::app::state::{Level, Mode, Source, State};
use crate::domain::{Timestamp, key_short};
use crate::journal::Event as JournalEvent;
use crate::timeline::risk::RiskRules;
use crate::timeline::store::{Filter, Quick, Store};
use crate::timeline::{Event, Origin};

pub use crate::timeline::progress::{
    FileProgress, Progress, RegionProgress, SourceState, TrailProgress,
};

/// What the tab's table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    /// The events, newest first.
    #[default]
    Events,
    /// Source addresses and user agents with first and last seen, the new ones flagged.
    Sources,
}

#[derive(Debug, Default)]
pub struct TimelineTab {
    pub view: View,
    /// First row shown of the sources view.
    pub sources_scroll: usize,
    pub store: Store,
    /// Index into the filtered view.
    pub cursor: usize,
    /// Keep the cursor on the newest event as events arrive.
    pub follow: bool,
    pub text: String,
    pub quick: Quick,
    /// The key whose branch (it and everything it minted) narrows the view.
    pub branch: Option<String>,
    /// Raw-record pane open, with its scroll offset.
    pub detail: Option<u16>,
    pub local_time: bool,
    pub regions: BTreeMap<String, RegionProgress>,
    pub trails: TrailProgress,
    pub files: FileProgress,
    /// Every tracked key → its chain in words (`AKIA… → AssumeRole x → ASIA…`).
    pub chains: BTreeMap<String, String>,
    /// Tracked key → the keys of its branch (itself and all it minted).
    pub branches: BTreeMap<String, BTreeSet<String>>,
    /// Event ids marked as evidence.
    pub evidence: BTreeSet<String>,
    pub last_update: Option<Timestamp>,
    pub rules: std::sync::Arc<RiskRules>,
    /// Regions the tracked keys used before the leak started.
    pub baseline: std::collections::HashSet<String>,
    /// Successful calls that stop or change a trail, by event id: "StopLogging by AKIA…".
    pub trail_tampering: BTreeMap<String, String>,
}

/// The calls that blind or change CloudTrail.
pub const TRAIL_TAMPERING: [&str; 5] = [
    "StopLogging",
    "DeleteTrail",
    "UpdateTrail",
    "PutEventSelectors",
    "PutInsightSelectors",
];

impl TimelineTab {
    pub fn new() -> Self {
        TimelineTab {
            follow: true,
            rules: std::sync::Arc::new(RiskRules::builtin()),
            ..Default::default()
        }
    }

    pub fn selected(&self) -> Option<&Event> {
        self.store.view_get(self.cursor)
    }

    /// Whether any source is still working.
    pub fn loading(&self) -> bool {
        self.regions
            .values()
            .any(|r| r.state == SourceState::Loading)
            || self.trails.state == SourceState::Loading
            || self.files.state == SourceState::Loading
    }

    fn apply_filter(&mut self) {
        let keys = self.branch.as_ref().map(|k| {
            self.branches
                .get(k)
                .cloned()
                .unwrap_or_else(|| [k.clone()].into())
        });
        let selected = self.selected().map(|e| e.id.clone());
        self.store.set_filter(Filter {
            text: self.text.clone(),
            quick: self.quick,
            keys,
        });
        self.cursor = selected
            .and_then(|id| self.store.view_position(&id))
            .unwrap_or(0);
    }
}

pub fn set_text(state: &mut State, text: String) {
    state.timeline.text = text;
    state.timeline.apply_filter();
}

pub fn on_events(state: &mut State, at: Timestamp, events: Vec<Event>) {
    let since = state.since().map(|(t, _)| t);
    let t = &mut state.timeline;
    let selected = t.selected().map(|e| e.id.clone());
    let rules = t.rules.clone();
    // Noted as they arrive, so the checklist (drawn every frame) never walks the store.
    for e in events
        .iter()
        .filter(|e| !e.failed() && TRAIL_TAMPERING.contains(&&*e.name))
    {
        t.trail_tampering.insert(
            e.id.to_string(),
            format!("{} by {}", e.name, key_short(&e.access_key_id)),
        );
    }
    t.store.admit(events, &rules, &mut t.baseline, since);
    t.sources_scroll = t.sources_scroll.min(sources_len(t).saturating_sub(1));
    t.last_update = Some(at);
    t.cursor = if t.follow {
        0
    } else {
        selected
            .and_then(|id| t.store.view_position(&id))
            .unwrap_or(0)
    };
}

/// Rows of the sources view: its longer table.
pub fn sources_len(t: &TimelineTab) -> usize {
    let s = t.store.summary();
    s.source_ips.len().max(s.user_agents.len())
}

/// Splits the summary at the leak start again when it moved (the keys poll or the journal
/// can set it after events arrived).
pub fn sync_leak(state: &mut State) {
    let since = state.since().map(|(t, _)| t);
    state.timeline.store.set_leak(since);
}

/// `v`: the events, or the table of source addresses and user agents.
pub fn toggle_view(state: &mut State) {
    sync_leak(state);
    let t = &mut state.timeline;
    t.view = match t.view {
        View::Events => View::Sources,
        View::Sources => View::Events,
    };
    let s = t.store.summary();
    let (ips, agents) = (s.source_ips.len(), s.user_agents.len());
    match t.view {
        View::Sources => state.flash(
            Level::Info,
            format!("{ips} source IPs and {agents} user agents (v returns to the events)"),
        ),
        View::Events => state.flash(Level::Info, "showing the events"),
    }
}

pub fn on_chains(state: &mut State, chains: Vec<(String, String, Vec<String>)>) {
    sync_leak(state);
    let t = &mut state.timeline;
    for (key, text, branch) in chains {
        t.chains.insert(key.clone(), text);
        t.branches.insert(key, branch.into_iter().collect());
    }
    if t.branch.is_some() {
        t.apply_filter();
    }
}

pub fn on_progress(state: &mut State, p: Progress) {
    sync_leak(state);
    let t = &mut state.timeline;
    match p {
        Progress::Region(r, prog) => {
            t.regions.insert(r, prog);
        }
        Progress::Trails(prog) => t.trails = prog,
        Progress::Files(prog) => t.files = prog,
    }
}

pub fn move_cursor(state: &mut State, delta: isize) {
    let t = &mut state.timeline;
    t.cursor = cursor::step(t.cursor, t.store.view_len(), delta).unwrap_or(0);
    // Moving away from the top stops following; going back to it resumes.
    t.follow = t.cursor == 0 && t.follow;
}

pub fn cycle_quick(state: &mut State) {
    let t = &mut state.timeline;
    t.quick = t.quick.next();
    t.apply_filter();
    let label = t.quick.label();
    let n = t.store.view_len();
    state.flash(Level::Info, format!("showing {label}: {n} events"));
}

/// Esc: back to every event, from whichever quick filter `f` had reached.
pub fn clear_quick(state: &mut State) {
    let t = &mut state.timeline;
    t.quick = Quick::All;
    t.apply_filter();
    let n = t.store.view_len();
    state.flash(Level::Info, format!("quick filter cleared: {n} events"));
}

/// Whether the view is narrowed by anything Esc clears: the text, a quick filter, a branch.
pub fn filtered(t: &TimelineTab) -> bool {
    !t.text.is_empty() || t.quick != Quick::All || t.branch.is_some()
}

pub fn toggle_follow(state: &mut State) {
    let t = &mut state.timeline;
    t.follow = !t.follow;
    if t.follow {
        t.cursor = 0;
    }
    let word = if t.follow { "on" } else { "off" };
    state.flash(Level::Info, format!("follow newest: {word}"));
}

/// Narrows the view to the selected event's key and everything it minted, or widens it again.
pub fn toggle_branch(state: &mut State) {
    let t = &mut state.timeline;
    if t.branch.take().is_some() {
        t.apply_filter();
        state.flash(Level::Info, "showing every tracked key");
        return;
    }
    let Some(key) = t
        .selected()
        .map(|e| e.access_key_id.clone())
        .filter(|k| !k.is_empty())
    else {
        state.flash(
            Level::Info,
            "the selected event has no access key to follow",
        );
        return;
    };
    t.branch = Some(key.to_string());
    t.apply_filter();
    let n = t.store.view_len();
    state.flash(
        Level::Info,
        format!("branch of {}: {n} events (b again widens)", key_short(&key)),
    );
}

/// `m`: records the selected event as evidence in the journal.
pub fn mark_evidence(state: &mut State) -> Vec<Effect> {
    let Some(e) = state.timeline.selected() else {
        return vec![];
    };
    let id = e.id.clone();
    let summary = format!(
        "{} {} {} by {}",
        crate::journal::format_ts(e.time),
        e.region,
        e.name,
        if e.access_key_id.is_empty() {
            &e.identity_arn
        } else {
            &e.access_key_id
        }
    );
    let origin = match &e.origin {
        Origin::File { path } => path.to_string(),
        other => other.to_string(),
    };
    if !state.timeline.evidence.insert(id.to_string()) {
        state.flash(Level::Info, "already marked as evidence");
        return vec![];
    }
    state.flash(Level::Ok, format!("marked as evidence: {summary}"));
    vec![Effect::Journal(JournalEvent::Evidence {
        event_id: id.into(),
        summary,
        origin,
    })]
}

/// Commands while an event's raw record is open: it scrolls and closes, and `m` still marks
/// the event; other keys do nothing under it. `None` lets help and quit through.
pub fn on_pane(state: &mut State, cmd: Command) -> Option<Vec<Effect>> {
    let scroll = state.timeline.detail.as_mut()?;
    match cmd {
        Command::Back | Command::Open => state.timeline.detail = None,
        Command::MarkEvidence => return Some(mark_evidence(state)),
        Command::Quit | Command::Help => return None,
        _ => *scroll = cursor::scroll(*scroll, cmd).unwrap_or(*scroll),
    }
    Some(vec![])
}

/// The Timeline tab's commands; `None` for a command that means nothing here.
pub fn on_command(state: &mut State, cmd: Command) -> Option<Vec<Effect>> {
    let effects = match cmd {
        Command::Down
        | Command::Up
        | Command::PageDown
        | Command::PageUp
        | Command::Top
        | Command::Bottom => {
            let delta = cursor::delta(cmd, state.page_rows)?;
            if state.timeline.view == View::Sources {
                let t = &mut state.timeline;
                t.sources_scroll =
                    cursor::step(t.sources_scroll, sources_len(t), delta).unwrap_or(0);
            } else {
                move_cursor(state, delta);
            }
            vec![]
        }
        Command::ToggleView => {
            toggle_view(state);
            vec![]
        }
        Command::Filter => {
            state.mode = Mode::Filter;
            vec![]
        }
        Command::Refresh => vec![Effect::Refresh(Source::Timeline)],
        Command::Open => {
            if state.timeline.view == View::Events && state.timeline.selected().is_some() {
                state.timeline.detail = Some(0);
            }
            vec![]
        }
        Command::Back => {
            if state.timeline.view == View::Sources {
                toggle_view(state);
            } else if !state.timeline.text.is_empty() {
                set_text(state, String::new());
            } else if state.timeline.quick != Quick::All {
                clear_quick(state);
            } else if state.timeline.branch.is_some() {
                toggle_branch(state);
            }
            vec![]
        }
        Command::QuickFilter => {
            cycle_quick(state);
            vec![]
        }
        Command::Follow => {
            toggle_follow(state);
            vec![]
        }
        Command::Branch => {
            toggle_branch(state);
            vec![]
        }
        Command::LocalTime => {
            state.timeline.local_time = !state.timeline.local_time;
            vec![]
        }
        Command::MarkEvidence => mark_evidence(state),
        // Handled before the tab (everywhere), or another tab's.
        Command::Help
        | Command::Quit
        | Command::CopyId
        | Command::CopyJson
        | Command::GoTab(_)
        | Command::NextTab
        | Command::PrevTab
        | Command::TogglePause
        | Command::CommandLine
        | Command::Select
        | Command::SelectPreLeak
        | Command::Disable
        | Command::Enable
        | Command::Delete
        | Command::Rotate
        | Command::Revoke
        | Command::SelectAttacker
        | Command::Remove
        | Command::Isolate
        | Command::KeepEvidence
        | Command::CycleFocus
        | Command::Note
        | Command::Clear
        | Command::Permissions
        | Command::Simulate => return None,
    };
    Some(effects)
}

/// Keys typed while filtering the timeline by text.
pub fn on_filter_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let mut text = state.timeline.text.clone();
    match key.code {
        KeyCode::Esc => {
            text.clear();
            state.mode = Mode::Normal;
        }
        KeyCode::Enter => {
            state.mode = Mode::Normal;
            state.timeline.cursor = 0;
            return vec![];
        }
        KeyCode::Backspace => {
            text.pop();
        }
        KeyCode::Char(c) => text.push(c),
        _ => return vec![],
    }
    set_text(state, text);
    vec![]
}
