//! The Checklist tab: each response step verified from live state where keyspill can, ticked
//! by hand where only a person can say; the incident's milestones; and the snapshots of what
//! the console knows that the report is written from.

use std::collections::BTreeMap;

use crate::app::cursor;
use crate::app::keymap::Command;
use crate::app::msg::Effect;
use crate::app::resources::leak_start;
use crate::app::state::{Level, Mode, State};
use crate::checklist::{Check, Step};
use crate::domain::{KeyStatus, Timestamp, key_short};
use crate::journal::snapshot::{
    CostState, KeyState, ResourceState, RiskyEvent, StepState as SnapStep,
};
use crate::journal::{self, Event, Milestone, NoteEntry, Snapshot, TickEntry};
use crate::resources::Kind;
use crate::resources::attribute::Verdict;
use crate::timeline::Severity;

/// How often, at most, a changed snapshot is written to the journal.
pub const SNAPSHOT_SECONDS: i64 = 30;

/// A step's state as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Verified(String),
    Failing(String),
    /// The data is not loaded, or could not be read.
    Unknown(String),
    /// An informational check: what it sees, never a failure.
    Info(String),
    Ticked {
        by: String,
        at: String,
    },
    Open,
}

impl Status {
    pub fn word(&self) -> &'static str {
        match self {
            Status::Verified(_) => "verified",
            Status::Failing(_) => "failing",
            Status::Unknown(_) => "unknown",
            Status::Info(_) => "info",
            Status::Ticked { .. } => "ticked",
            Status::Open => "open",
        }
    }

    /// Counts towards "N/M done" in the header.
    pub fn done(&self) -> bool {
        matches!(
            self,
            Status::Verified(_) | Status::Ticked { .. } | Status::Info(_)
        )
    }

    pub fn detail(&self) -> String {
        match self {
            Status::Verified(d) | Status::Failing(d) | Status::Unknown(d) | Status::Info(d) => {
                d.clone()
            }
            Status::Ticked { by, at } => format!("ticked by {by} at {at}"),
            Status::Open => String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistTab {
    pub steps: Vec<Step>,
    pub ticks: BTreeMap<String, TickEntry>,
    pub notes: Vec<NoteEntry>,
    pub milestones: BTreeMap<Milestone, String>,
    pub cursor: usize,
    /// Time on the Cost tab with its figures loaded, in milliseconds
    /// (`app::times::count_cost_review`).
    pub cost_review_ms: i64,
    /// The last snapshot written, and when, to write only changes.
    pub last_snapshot: Option<Snapshot>,
    pub snapshot_at: Option<Timestamp>,
}

impl Default for ChecklistTab {
    fn default() -> Self {
        ChecklistTab {
            steps: crate::checklist::builtin(),
            ticks: BTreeMap::new(),
            notes: Vec::new(),
            milestones: BTreeMap::new(),
            cursor: 0,
            cost_review_ms: 0,
            last_snapshot: None,
            snapshot_at: None,
        }
    }
}

/// Every step with its status, in order.
pub fn evaluate(state: &State) -> Vec<(Step, Status)> {
    state
        .checklist
        .steps
        .iter()
        .map(|s| {
            let live = check(state, s.check);
            let status = match live {
                // Live state wins over a tick: a failing check stays failing.
                Some(st @ (Status::Verified(_) | Status::Failing(_) | Status::Info(_))) => st,
                other => match state.checklist.ticks.get(&s.id) {
                    Some(t) => Status::Ticked {
                        by: t.operator.clone(),
                        at: t.at.get(..16).unwrap_or(&t.at).replace('T', " "),
                    },
                    None => other.unwrap_or(Status::Open),
                },
            };
            (s.clone(), status)
        })
        .collect()
}

/// `(done, total)` for the header.
pub fn progress(state: &State) -> (usize, usize) {
    let all = evaluate(state);
    (all.iter().filter(|(_, s)| s.done()).count(), all.len())
}

/// The automatic check; `None` for manual steps.
fn check(state: &State, c: Check) -> Option<Status> {
    let unknown = |why: &str| Some(Status::Unknown(why.to_string()));
    match c {
        Check::Manual => None,
        Check::SelfIdentity => match (&state.identity.data, &state.identity.error) {
            (Some(id), _) => match &id.access_key_id {
                Some(k) if state.leaked.contains(k) => Some(Status::Failing(format!(
                    "keyspill signs with the leaked key {}",
                    key_short(k)
                ))),
                _ => Some(Status::Verified(format!("responding as {}", id.arn))),
            },
            (None, Some(e)) => unknown(&e.text),
            (None, None) => unknown("identity not loaded yet"),
        },
        Check::LeakedKeysInactive => {
            if state.leaked.is_empty() {
                return unknown("no leaked key named (--key or :key)");
            }
            let Some(snap) = &state.keys.data.data else {
                return unknown(
                    state
                        .keys
                        .data
                        .error
                        .as_ref()
                        .map(|e| e.text.as_str())
                        .unwrap_or("keys not loaded yet"),
                );
            };
            let active: Vec<String> = state
                .leaked
                .iter()
                .filter(|k| {
                    snap.keys
                        .iter()
                        .any(|a| &a.key_id == *k && a.status == KeyStatus::Active)
                })
                .map(|k| key_short(k))
                .collect();
            if active.is_empty() {
                Some(Status::Verified(format!(
                    "{} leaked key(s) inactive or deleted",
                    state.leaked.len()
                )))
            } else {
                Some(Status::Failing(format!(
                    "still Active: {}",
                    active.join(", ")
                )))
            }
        }
        Check::SessionsRevoked => {
            // From the foothold model: every session a tracked key minted (on every user and
            // role of its chain), and those a leaked key may have minted out of sight.
            let a = &state.access.assessment;
            let sessions: Vec<&crate::access::Foothold> = a
                .footholds
                .iter()
                .filter(|f| f.kind == crate::access::Kind::Session)
                .collect();
            let open: Vec<String> = sessions
                .iter()
                .filter(|f| f.state == crate::access::FootState::Open)
                .map(|f| session_words(f))
                .collect();
            if let crate::access::Verified::No(why) = &a.verified
                && open.is_empty()
            {
                return unknown(why);
            }
            if sessions.is_empty() {
                return unknown("no session seen, and no leaked key in IAM to revoke on");
            }
            if open.is_empty() {
                Some(Status::Verified(format!(
                    "{} session foothold(s) closed: revoked or expired",
                    sessions.len()
                )))
            } else {
                Some(Status::Failing(format!(
                    "still valid: {} (x on the Access tab revokes them all)",
                    open.join(", ")
                )))
            }
        }
        Check::NoOpenFootholds => {
            let a = &state.access.assessment;
            match &a.verified {
                crate::access::Verified::No(why) if a.open() == 0 => unknown(why),
                _ if a.contained() => Some(Status::Verified(format!(
                    "CONTAINED: {} foothold(s), none open",
                    a.footholds.len()
                ))),
                _ => {
                    let open: Vec<String> = a
                        .footholds
                        .iter()
                        .filter(|f| f.state == crate::access::FootState::Open)
                        .take(4)
                        .map(|f| format!("{} {}", f.kind.label(), short_id(&f.id)))
                        .collect();
                    Some(Status::Failing(format!(
                        "{} open: {}{}",
                        a.open(),
                        open.join(", "),
                        if a.open() > open.len() { ", …" } else { "" }
                    )))
                }
            }
        }
        Check::QuarantinePresent => {
            let snap = state.keys.data.data.as_ref()?;
            let users = leaked_users(state);
            let on: Vec<&String> = users
                .iter()
                .filter(|u| {
                    snap.users
                        .iter()
                        .any(|x| &x.name == *u && x.quarantined == Some(true))
                })
                .collect();
            Some(Status::Info(if on.is_empty() {
                "no quarantine policy attached (AWS attaches one when it finds the key)".into()
            } else {
                format!(
                    "attached to {}: leave it until the support case says otherwise",
                    on.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                )
            }))
        }
        Check::NoNewActiveKeys => {
            let snap = state.keys.data.data.as_ref()?;
            let since = leak_start(state)?;
            let new: Vec<String> = snap
                .keys
                .iter()
                .filter(|k| {
                    k.created > since
                        && k.status == KeyStatus::Active
                        && !state.response_keys.contains(&k.key_id)
                        && !state.leaked.contains(&k.key_id)
                        // keyspill's own key: the responder's, not the attacker's.
                        && state.self_key_id() != Some(k.key_id.as_str())
                })
                .map(|k| format!("{} ({})", key_short(&k.key_id), k.user))
                .collect();
            if new.is_empty() {
                Some(Status::Verified(
                    "no active key created since the leak".into(),
                ))
            } else {
                Some(Status::Failing(format!(
                    "active since the leak: {}",
                    new.join(", ")
                )))
            }
        }
        Check::NoNewPrincipals => {
            let r = &state.resources;
            if !r.regions.contains_key(crate::resources::GLOBAL)
                || r.regions
                    .get(crate::resources::GLOBAL)
                    .is_some_and(|s| s.at.is_none())
            {
                return unknown("IAM not swept yet");
            }
            let left: Vec<String> = r
                .resources
                .iter()
                .enumerate()
                .filter(|(_, x)| x.kind.is_identity())
                .filter(|(i, _)| {
                    matches!(r.verdict_of(*i), Verdict::LeakedKey | Verdict::AfterLeak)
                })
                // The responder's own user is part of the response, not of the attack.
                .filter(|(_, x)| Some(x.id.as_str()) != own_user(state).as_deref())
                .map(|(_, x)| format!("{} {}", x.kind, x.display_name()))
                .collect();
            if left.is_empty() {
                Some(Status::Verified(
                    "none created since the leak remains".into(),
                ))
            } else {
                Some(Status::Failing(format!("still there: {}", left.join(", "))))
            }
        }
        Check::NoRootKeys => match state.keys.data.data.as_ref()?.root_keys_present {
            Some(false) => Some(Status::Verified("the root user has no access keys".into())),
            Some(true) => Some(Status::Failing("the root user has access keys".into())),
            None => unknown("iam:GetAccountSummary could not be read"),
        },
        Check::NoAttackerResources => {
            let r = &state.resources;
            if r.fetched_at.is_none() {
                return unknown("regions not swept yet");
            }
            let mut per_region: BTreeMap<&str, usize> = BTreeMap::new();
            for (i, x) in r.resources.iter().enumerate() {
                if !x.kind.is_global()
                    && x.kind != Kind::Tagged
                    && r.verdict_of(i) == Verdict::LeakedKey
                    && !matches!(x.state.as_str(), "terminated" | "shutting-down")
                {
                    *per_region.entry(x.region.as_str()).or_default() += 1;
                }
            }
            if per_region.is_empty() {
                Some(Status::Verified(format!(
                    "none in {} regions swept",
                    r.regions.len().saturating_sub(1)
                )))
            } else {
                Some(Status::Failing(
                    per_region
                        .iter()
                        .map(|(reg, n)| format!("{n} left in {reg}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                ))
            }
        }
        Check::TrailsLogging => {
            let t = &state.timeline.trails;
            let tampering: Vec<&str> = state
                .timeline
                .trail_tampering
                .values()
                .take(3)
                .map(String::as_str)
                .collect();
            if !tampering.is_empty() {
                return Some(Status::Failing(format!(
                    "changed during the leak: {}",
                    tampering.join(", ")
                )));
            }
            if !t.discovered {
                return unknown("trails not read yet");
            }
            if t.logging.is_empty() {
                return Some(Status::Failing("no CloudTrail trail in the account".into()));
            }
            let off: Vec<&str> = t
                .logging
                .iter()
                .filter(|(_, l)| *l == Some(false))
                .map(|(n, _)| n.as_str())
                .collect();
            let unread = t.logging.iter().filter(|(_, l)| l.is_none()).count();
            if !off.is_empty() {
                Some(Status::Failing(format!("not logging: {}", off.join(", "))))
            } else if unread > 0 {
                unknown("some trails' status could not be read")
            } else {
                Some(Status::Verified(format!(
                    "{} trail(s) logging",
                    t.logging.len()
                )))
            }
        }
        Check::CostReviewed => {
            if state.cost.data.data.is_none() {
                return unknown(
                    state
                        .cost
                        .data
                        .error
                        .as_ref()
                        .map(|e| e.text.as_str())
                        .unwrap_or("cost not loaded yet"),
                );
            }
            let need = crate::app::times::COST_REVIEW_SECONDS;
            let seen = crate::app::times::cost_reviewed_seconds(state);
            if seen >= need {
                Some(Status::Verified(format!(
                    "reviewed: {need} s on the Cost tab with its figures"
                )))
            } else if seen == 0 {
                unknown(&format!(
                    "open the Cost tab (4): reviewed after {need} s there, or tick it (space)"
                ))
            } else {
                unknown(&format!(
                    "reviewed {seen} s of {need} s on the Cost tab (4), or tick it (space)"
                ))
            }
        }
    }
}

/// A key id shortened, anything else as it is.
fn short_id(id: &str) -> String {
    if crate::domain::validate_key_id(id).is_ok() {
        key_short(id)
    } else {
        id.to_string()
    }
}

/// `ASIA…WXYZ (role deploy)` for a session foothold.
fn session_words(f: &crate::access::Foothold) -> String {
    match f.id.strip_prefix("unseen:") {
        Some(user) => format!("unseen sessions of user {user}"),
        None => format!("{} ({})", short_id(&f.id), f.principal),
    }
}

/// The IAM user keyspill runs as, if it runs as one.
fn own_user(state: &State) -> Option<String> {
    let arn = &state.identity.data.as_ref()?.arn;
    let resource = arn.rsplit(':').next()?;
    resource
        .strip_prefix("user/")
        .and_then(|u| u.rsplit('/').next())
        .map(str::to_string)
}

/// Users owning the leaked keys, as IAM lists them.
fn leaked_users(state: &State) -> Vec<String> {
    let Some(snap) = &state.keys.data.data else {
        return Vec::new();
    };
    let mut users: Vec<String> = snap
        .keys
        .iter()
        .filter(|k| state.leaked.contains(&k.key_id))
        .map(|k| k.user.clone())
        .collect();
    users.sort();
    users.dedup();
    users
}

/// The journal was read back: ticks, notes and milestones from earlier sessions.
pub fn restore(state: &mut State, r: &journal::Resumed) {
    let c = &mut state.checklist;
    c.ticks = r.ticks.clone();
    c.notes = r.notes.clone();
    // Before the journal opens no milestone is reached but by `:detected`: the operator's
    // detection, typed meanwhile and journaled after the read-back, stands.
    let typed = c.milestones.get(&Milestone::Detected).cloned();
    c.milestones = r.milestones.clone();
    if let Some(at) = typed {
        c.milestones.insert(Milestone::Detected, at);
    }
}

/// Milestones reached now and not recorded yet, as journal effects.
pub fn milestones(state: &mut State) -> Vec<Effect> {
    if state.journal_dir.is_none() {
        return vec![];
    }
    let mut effects = Vec::new();
    let now = journal::format_ts(state.now);
    let mut reach = |state: &mut State, m: Milestone, at: String, detail: String| {
        if let std::collections::btree_map::Entry::Vacant(slot) =
            state.checklist.milestones.entry(m)
        {
            slot.insert(at.clone());
            effects.push(Effect::Journal(Event::Milestone {
                milestone: m,
                at,
                detail,
            }));
        }
    };
    // Detection is the incident's opening unless `:detected` said otherwise.
    let opened = journal::format_ts(state.opened_at.unwrap_or(state.started));
    reach(state, Milestone::Detected, opened, "incident opened".into());
    let statuses: Vec<(Check, Status)> = state
        .checklist
        .steps
        .iter()
        .filter_map(|s| check(state, s.check).map(|st| (s.check, st)))
        .collect();
    let verified = |c: Check| {
        statuses
            .iter()
            .any(|(x, s)| *x == c && matches!(s, Status::Verified(_)))
    };
    // Contained is the foothold model's verdict, verified from live IAM: the leaked keys
    // inactive is not enough while a key it made or a session it minted still works.
    if state.access.assessment.contained() {
        let n = state.access.assessment.footholds.len();
        reach(
            state,
            Milestone::Contained,
            now.clone(),
            format!("no open foothold ({n} closed or reduced), verified from IAM"),
        );
    }
    if state
        .checklist
        .milestones
        .contains_key(&Milestone::Contained)
        && verified(Check::NoAttackerResources)
        && verified(Check::NoNewPrincipals)
    {
        reach(
            state,
            Milestone::Eradicated,
            now,
            "no attacker resource or principal left".into(),
        );
    }
    effects
}

/// `:close`: the commander closes the incident.
pub fn close(state: &mut State) -> Vec<Effect> {
    if state.checklist.milestones.contains_key(&Milestone::Closed) {
        state.flash(Level::Info, "the incident is already closed");
        return vec![];
    }
    let at = journal::format_ts(state.now);
    state
        .checklist
        .milestones
        .insert(Milestone::Closed, at.clone());
    state.flash(Level::Ok, "incident closed: :export writes the report");
    vec![Effect::Journal(Event::Milestone {
        milestone: Milestone::Closed,
        at,
        detail: format!("closed by {}", state.settings.operator),
    })]
}

/// `space` on a step: tick or untick it, by name and time, in the journal.
pub fn toggle_tick(state: &mut State) -> Vec<Effect> {
    let Some(step) = state.checklist.steps.get(state.checklist.cursor).cloned() else {
        return vec![];
    };
    let done = !state.checklist.ticks.contains_key(&step.id);
    if done {
        state.checklist.ticks.insert(
            step.id.clone(),
            TickEntry {
                at: journal::format_ts(state.now),
                operator: state.settings.operator.clone(),
            },
        );
        state.flash(Level::Ok, format!("ticked: {}", step.title));
    } else {
        state.checklist.ticks.remove(&step.id);
        state.flash(Level::Info, format!("unticked: {}", step.title));
    }
    vec![Effect::Journal(Event::Tick {
        step: step.id,
        done,
    })]
}

/// A note typed with `n` (on the step under the cursor) or `:note` (on the incident).
pub fn add_note(state: &mut State, text: String, on_step: bool) -> Vec<Effect> {
    let text = text.trim().to_string();
    if text.is_empty() {
        return vec![];
    }
    let step = on_step
        .then(|| state.checklist.steps.get(state.checklist.cursor))
        .flatten()
        .map(|s| s.id.clone());
    state.checklist.notes.push(NoteEntry {
        at: journal::format_ts(state.now),
        operator: state.settings.operator.clone(),
        step: step.clone(),
        text: text.clone(),
    });
    state.flash(Level::Ok, "note added to the journal");
    vec![Effect::Journal(Event::Note { text, step })]
}

pub fn move_cursor(state: &mut State, delta: isize) {
    let c = &mut state.checklist;
    if let Some(j) = cursor::step(c.cursor, c.steps.len(), delta) {
        c.cursor = j;
    }
}

/// The Checklist tab's commands; `None` for a command that means nothing here. `r` refreshes
/// every source: the steps are verified against all of them.
pub fn on_command(state: &mut State, cmd: Command) -> Option<Vec<Effect>> {
    let effects = match cmd {
        Command::Down
        | Command::Up
        | Command::PageDown
        | Command::PageUp
        | Command::Top
        | Command::Bottom => {
            move_cursor(state, cursor::delta(cmd, state.page_rows)?);
            vec![]
        }
        Command::Select => toggle_tick(state),
        Command::Note => {
            state.mode = Mode::Note(String::new());
            vec![]
        }
        Command::Refresh => crate::app::update::refresh_all(state),
        // A short fixed list: nothing to filter or open, nothing to close.
        Command::Filter | Command::Open | Command::Back => vec![],
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
        | Command::SelectPreLeak
        | Command::Disable
        | Command::Enable
        | Command::Delete
        | Command::Rotate
        | Command::Revoke
        | Command::MarkEvidence
        | Command::QuickFilter
        | Command::Follow
        | Command::Branch
        | Command::LocalTime
        | Command::ToggleView
        | Command::SelectAttacker
        | Command::Remove
        | Command::Isolate
        | Command::KeepEvidence
        | Command::CycleFocus
        | Command::Clear
        | Command::Permissions
        | Command::Simulate => return None,
    };
    Some(effects)
}

/// Cents, rounded.
fn cents(x: f64) -> i64 {
    if x.is_finite() {
        (x * 100.0).round() as i64
    } else {
        0
    }
}

/// What the console knows now, for the journal (and so for the report).
/// Who made resource `i`, by its attribution's creating event (the oldest, when several).
pub(crate) fn maker(state: &State, i: usize) -> Option<crate::journal::snapshot::Maker> {
    let link = state
        .resources
        .attribution
        .get(i)?
        .events
        .iter()
        .rev()
        .find(|e| e.creates)?;
    let principal = state.keys.data.data.as_ref().and_then(|k| {
        k.keys
            .iter()
            .find(|k| k.key_id == link.key)
            .map(|k| k.user.clone())
    });
    Some(crate::journal::snapshot::Maker {
        key: link.key.clone(),
        principal,
        at: journal::format_ts(link.time),
        via: link.name.clone(),
    })
}

pub fn snapshot(state: &State) -> Snapshot {
    let since = leak_start(state);
    let keys = state
        .keys
        .data
        .data
        .as_ref()
        .map(|snap| {
            let mut out: Vec<KeyState> = snap
                .keys
                .iter()
                .filter(|k| {
                    state.leaked.contains(&k.key_id)
                        || since.is_some_and(|s| k.created > s)
                        || state.response_keys.contains(&k.key_id)
                })
                .map(|k| KeyState {
                    user: k.user.clone(),
                    key_id: k.key_id.clone(),
                    status: k.status.to_string(),
                    leaked: state.leaked.contains(&k.key_id),
                    new: since.is_some_and(|s| k.created > s)
                        && !state.response_keys.contains(&k.key_id),
                })
                .collect();
            for l in &state.leaked {
                if !snap.keys.iter().any(|k| &k.key_id == l) {
                    out.push(KeyState {
                        user: String::new(),
                        key_id: l.clone(),
                        status: "not listed (deleted, or another account's)".into(),
                        leaked: true,
                        new: false,
                    });
                }
            }
            out
        })
        .unwrap_or_default();
    let risky: Vec<&crate::timeline::Event> = state
        .timeline
        .store
        .iter_newest_first()
        .filter(|e| {
            e.risk
                .as_ref()
                .is_some_and(|r| r.severity >= Severity::High)
        })
        .collect();
    // The newest half and the oldest half of the cap: how it began and where it stands.
    let cap = crate::journal::snapshot::HIGH_RISK_CAP;
    let high_risk_left_out = risky.len().saturating_sub(cap);
    let kept: Vec<&crate::timeline::Event> = if high_risk_left_out == 0 {
        risky
    } else {
        let (newest, rest) = risky.split_at(cap / 2);
        let oldest = &rest[rest.len().saturating_sub(cap - cap / 2)..];
        newest.iter().chain(oldest).copied().collect()
    };
    let high_risk = kept
        .into_iter()
        .map(|e| RiskyEvent {
            time: journal::format_ts(e.time),
            name: e.name.to_string(),
            service: e.service_short().to_string(),
            region: e.region.to_string(),
            key: e.access_key_id.to_string(),
            source_ip: e.source_ip.to_string(),
            tactic: e.risk.as_ref().map_or("", |r| r.tactic.label()).to_string(),
            severity: e
                .risk
                .as_ref()
                .map_or("", |r| r.severity.label())
                .to_string(),
            error: e.error_code.as_deref().map(str::to_string),
        })
        .collect();
    let sum = state.timeline.store.summary();
    let timeline = vec![
        ("events".to_string(), sum.events.to_string()),
        ("errors".to_string(), sum.errors.to_string()),
        ("regions".to_string(), sum.regions.len().to_string()),
        ("source IPs".to_string(), sum.source_ips.len().to_string()),
        (
            "derived credentials".to_string(),
            state
                .timeline
                .chains
                .len()
                .saturating_sub(state.leaked.len())
                .to_string(),
        ),
        (
            "first seen".to_string(),
            sum.first.map(journal::format_ts).unwrap_or_default(),
        ),
        (
            "last seen".to_string(),
            sum.last.map(journal::format_ts).unwrap_or_default(),
        ),
    ];
    let r = &state.resources;
    let resources = r
        .resources
        .iter()
        .enumerate()
        .filter(|(i, _)| r.verdict_of(*i).suspicious())
        .map(|(i, x)| ResourceState {
            verdict: r.verdict_of(i).label().to_string(),
            kind: x.kind.label().to_string(),
            region: x.region.clone(),
            id: x.id.clone(),
            account: x.account.clone(),
            name: x.name.clone(),
            state: x.state.clone(),
            created: x.created.map(journal::format_ts),
            made_by: maker(state, i),
        })
        .collect();
    let c = &state.cost;
    let cost = c.total.as_ref().map(|t| CostState {
        unit: c
            .data
            .data
            .as_ref()
            .map_or_else(|| "USD".to_string(), |d| d.unit.clone()),
        since_leak_cents: cents(t.total_since),
        baseline_daily_cents: cents(t.baseline),
        since_daily_cents: cents(t.since),
        top_services: c
            .services
            .iter()
            .filter(|s| s.delta > 0.0)
            .take(5)
            .map(|s| (s.key.clone(), cents(s.delta)))
            .collect(),
        new_regions: c
            .regions
            .iter()
            .filter(|s| s.new_spend)
            .map(|s| s.key.clone())
            .collect(),
        anomalies: match &c.anomalies.data {
            Some(crate::cost::model::Anomalies::Found { anomalies, .. }) => anomalies.len(),
            _ => 0,
        },
        cost_explorer_requests: c.requests,
    });
    let checklist = evaluate(state)
        .into_iter()
        .map(|(step, status)| {
            let tick = state.checklist.ticks.get(&step.id);
            SnapStep {
                id: step.id,
                title: step.title,
                status: status.word().to_string(),
                detail: status.detail(),
                by: tick.map(|t| t.operator.clone()),
                at: tick.map(|t| t.at.clone()),
            }
        })
        .collect();
    let a = &state.access.assessment;
    let footholds = a
        .footholds
        .iter()
        .map(|f| crate::journal::snapshot::FootholdState {
            kind: f.kind.label().to_string(),
            id: f.id.clone(),
            principal: f.principal.clone(),
            state: f.state.word().to_lowercase(),
            why: f.why.clone(),
            origin: f.provenance.words(),
            expires: f.expires.map(journal::format_ts),
        })
        .collect();
    Snapshot {
        account: state.identity.data.as_ref().map(|i| i.account.clone()),
        keys,
        high_risk,
        high_risk_left_out,
        timeline,
        resources,
        cost,
        checklist,
        verdict: Some(a.headline()),
        footholds,
    }
}

/// On the clock: record milestones, and write a snapshot when what the console knows changed
/// (at most every `SNAPSHOT_SECONDS`).
pub fn on_tick(state: &mut State) -> Vec<Effect> {
    let mut effects = crate::app::times::record_since(state);
    effects.extend(milestones(state));
    if state.journal_dir.is_none() {
        return effects;
    }
    let due = state
        .checklist
        .snapshot_at
        .is_none_or(|t| (state.now - t).whole_seconds() >= SNAPSHOT_SECONDS);
    if due {
        let snap = snapshot(state);
        if state.checklist.last_snapshot.as_ref() != Some(&snap) {
            state.checklist.last_snapshot = Some(snap.clone());
            state.checklist.snapshot_at = Some(state.now);
            effects.push(Effect::Journal(Event::Snapshot(Box::new(snap))));
        }
    }
    effects
}
