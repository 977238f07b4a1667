//! The Timeline tab's state and its part of `update`.

use std::collections::{BTreeMap, BTreeSet};

use crate::app::cursor;
use crate::app::msg::Effect;
use crate::app::state::{Level, State};
use crate::domain::{Timestamp, key_short};
use crate::journal::Event as JournalEvent;
use crate::timeline::risk::RiskRules;
use crate::timeline::store::{Filter, Quick, Store};
use crate::timeline::{Event, Origin};

pub use crate::timeline::progress::{
    FileProgress, Progress, RegionProgress, SourceState, TrailProgress,
};

#[derive(Debug, Default)]
pub struct TimelineTab {
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
    t.last_update = Some(at);
    t.cursor = if t.follow {
        0
    } else {
        selected
            .and_then(|id| t.store.view_position(&id))
            .unwrap_or(0)
    };
}

pub fn on_chains(state: &mut State, chains: Vec<(String, String, Vec<String>)>) {
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
    let n = t.store.view_len();
    t.cursor = cursor::moved(t.cursor, delta, n);
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
