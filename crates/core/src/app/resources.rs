//! The Resources tab's state and its part of `update`: sweeps arriving region by region,
//! attribution against the timeline, the view, selection, and the removal run's progress.

use std::collections::{BTreeMap, BTreeSet};

use crossterm::event::{KeyCode, KeyEvent};

use crate::app::cursor;
use crate::app::keymap::Command;
use crate::app::msg::Effect;
use crate::app::plan::Plan;
use crate::app::state::{Level, Mode, Source, State};
use crate::app::update::propose;
use crate::domain::Timestamp;
use crate::resources::attribute::{Attribution, Verdict, attribute};
use crate::resources::evidence::{ManifestEntry, TargetFacts};
use crate::resources::plan::{self as removal, Protected, Purpose, RemovalPlan, StepState};
use crate::resources::{CellState, GLOBAL, Parts, RegionSweep, Resource, ResourceRef};

/// Where one region's sweep is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SweepState {
    #[default]
    Waiting,
    Running,
    Done,
}

/// One region in the strip.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegionStatus {
    pub state: SweepState,
    /// What each kind answered in the last sweep.
    pub cells: Vec<(&'static str, CellState)>,
    pub at: Option<Timestamp>,
}

/// The strip's figures for one region, derived from the inventory and attribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegionSummary {
    pub region: String,
    pub state: SweepState,
    pub total: usize,
    pub suspicious: usize,
    /// Suspicious resources in a region with nothing from before the leak and no activity of
    /// the tracked keys before it: the attacker's pick.
    pub new_region: bool,
    /// Kinds that failed or are unavailable, in words.
    pub problems: Vec<String>,
}

/// A removal plan being carried out (or just finished), as the tab shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub plan: RemovalPlan,
    pub states: Vec<StepState>,
    pub finished: bool,
    pub scroll: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResourcesTab {
    pub regions: BTreeMap<String, RegionStatus>,
    pub resources: Vec<Resource>,
    /// Parallel to `resources`.
    pub attribution: Vec<Attribution>,
    /// Indices into `resources` shown, in order.
    pub rows: Vec<usize>,
    /// `v`: everything, not only what the leak made or touched.
    pub show_all: bool,
    /// The resource under the cursor; the cursor follows it across sweeps.
    pub cursor: Option<ResourceRef>,
    pub selected: BTreeSet<ResourceRef>,
    pub filter: String,
    /// Detail pane open, with its scroll offset.
    pub detail: Option<u16>,
    pub seq: u64,
    pub in_flight: bool,
    pub started_at: Option<Timestamp>,
    pub fetched_at: Option<Timestamp>,
    /// Timeline events seen by the last attribution, to redo it when more arrive.
    pub attributed_events: usize,
    pub removal: Option<Removal>,
    /// Principals whose parts were asked for (once per sweep).
    pub parts_requested: BTreeSet<ResourceRef>,
    /// Evidence kept in this incident (files and snapshots), as the manifest lists it.
    pub evidence: Vec<ManifestEntry>,
}

impl ResourcesTab {
    pub fn row_resource(&self, row: usize) -> Option<(&Resource, Option<&Attribution>)> {
        let i = *self.rows.get(row)?;
        Some((self.resources.get(i)?, self.attribution.get(i)))
    }

    pub fn cursor_row(&self) -> Option<usize> {
        let c = self.cursor.as_ref()?;
        self.rows
            .iter()
            .position(|&i| self.resources.get(i).is_some_and(|r| &r.reference() == c))
    }

    pub fn current(&self) -> Option<(&Resource, Option<&Attribution>)> {
        self.row_resource(self.cursor_row()?)
    }

    pub fn verdict_of(&self, i: usize) -> Verdict {
        self.attribution
            .get(i)
            .map_or(Verdict::Before, |a| a.verdict)
    }

    pub fn sweeping(&self) -> bool {
        self.in_flight
    }

    pub fn counts(&self) -> BTreeMap<Verdict, usize> {
        let mut out = BTreeMap::new();
        for i in 0..self.resources.len() {
            *out.entry(self.verdict_of(i)).or_insert(0) += 1;
        }
        out
    }
}

/// The leak start used for "after the leak".
pub fn leak_start(state: &State) -> Option<Timestamp> {
    state.since().map(|(t, _)| t)
}

/// Every key whose events count as the attacker's: the leaked keys and what they minted.
fn tracked_keys(state: &State) -> BTreeSet<String> {
    let mut keys: BTreeSet<String> = state.leaked.clone();
    keys.extend(state.timeline.chains.keys().cloned());
    keys
}

/// Redoes attribution and the view. Cheap enough to call on every sweep message: attribution
/// reads only the timeline's write calls.
pub fn reattribute(state: &mut State) {
    let since = leak_start(state);
    let tracked = tracked_keys(state);
    let events = state.timeline.store.iter_newest_first();
    let attribution = attribute(&state.resources.resources, events, since, &tracked);
    state.resources.attribution = attribution;
    state.resources.attributed_events = state.timeline.store.len();
    rebuild_rows(state);
}

/// Recomputes the visible rows from the view mode and the filter.
pub fn rebuild_rows(state: &mut State) {
    let t = &mut state.resources;
    let needle = t.filter.to_lowercase();
    let mut rows: Vec<usize> = (0..t.resources.len())
        .filter(|&i| t.show_all || t.verdict_of(i).suspicious())
        .filter(|&i| needle.is_empty() || matches_filter(&t.resources[i], t.verdict_of(i), &needle))
        .collect();
    rows.sort_by(|&a, &b| {
        let (ra, rb) = (&t.resources[a], &t.resources[b]);
        t.verdict_of(a)
            .cmp(&t.verdict_of(b))
            .then_with(|| ra.account.cmp(&rb.account))
            .then_with(|| ra.region.cmp(&rb.region))
            .then_with(|| ra.kind.cmp(&rb.kind))
            .then_with(|| rb.created.cmp(&ra.created))
            .then_with(|| ra.id.cmp(&rb.id))
    });
    t.rows = rows;
    if t.cursor_row().is_none() {
        t.cursor = t
            .rows
            .first()
            .and_then(|&i| t.resources.get(i))
            .map(Resource::reference);
    }
}

fn matches_filter(r: &Resource, v: Verdict, needle: &str) -> bool {
    let hay = [
        r.account.as_deref().unwrap_or(""),
        r.region.as_str(),
        r.kind.label(),
        r.id.as_str(),
        r.name.as_str(),
        r.state.as_str(),
        r.arn.as_deref().unwrap_or(""),
        v.label(),
    ];
    hay.iter().any(|h| h.to_lowercase().contains(needle))
        || r.tags.iter().any(|(k, val)| {
            k.to_lowercase().contains(needle) || val.to_lowercase().contains(needle)
        })
}

/// The strip: every region known, suspicious counts, and which were never used before.
pub fn region_summaries(state: &State) -> Vec<RegionSummary> {
    let t = &state.resources;
    let since = leak_start(state);
    let mut names: BTreeSet<String> = t.regions.keys().cloned().collect();
    names.extend(t.resources.iter().map(|r| r.region.clone()));
    names
        .into_iter()
        .map(|region| {
            let status = t.regions.get(&region).cloned().unwrap_or_default();
            let mut total = 0;
            let mut suspicious = 0;
            let mut before = false;
            for (i, r) in t
                .resources
                .iter()
                .enumerate()
                .filter(|(_, r)| r.region == region)
            {
                total += 1;
                if t.verdict_of(i).suspicious() {
                    suspicious += 1;
                }
                if let (Some(c), Some(s)) = (r.created, since)
                    && c < s
                {
                    before = true;
                }
            }
            let used_before = before || state.timeline.baseline.contains(&region);
            let problems = status
                .cells
                .iter()
                .filter_map(|(kind, c)| match c {
                    CellState::Ok(_) => None,
                    CellState::Unavailable(_) => Some(format!("{kind}: n/a")),
                    CellState::Failed(e) => Some(format!("{kind}: {e}")),
                })
                .collect();
            RegionSummary {
                new_region: region != GLOBAL && suspicious > 0 && !used_before,
                region,
                state: status.state,
                total,
                suspicious,
                problems,
            }
        })
        .collect()
}

/// A sweep is starting over these regions.
pub fn on_started(state: &mut State, seq: u64, at: Timestamp, regions: Vec<String>) {
    let t = &mut state.resources;
    if seq < t.seq {
        return;
    }
    t.seq = seq;
    t.in_flight = true;
    t.started_at = Some(at);
    t.parts_requested.clear();
    for r in regions.into_iter().chain([GLOBAL.to_string()]) {
        t.regions.entry(r).or_default().state = SweepState::Running;
    }
}

/// One region's inventory arrived: it replaces what was known of that region.
pub fn on_region(state: &mut State, seq: u64, at: Timestamp, sweep: RegionSweep) -> Vec<Effect> {
    if seq < state.resources.seq {
        return vec![];
    }
    let t = &mut state.resources;
    // Parts read earlier stay until the principal is read again.
    let mut old_parts: BTreeMap<ResourceRef, Parts> = BTreeMap::new();
    t.resources.retain(|r| {
        // Another account's resources come with that account's answer (`on_members`).
        if r.region == sweep.region && r.account.is_none() {
            if r.parts != Parts::None {
                old_parts.insert(r.reference(), r.parts.clone());
            }
            false
        } else {
            true
        }
    });
    for mut r in sweep.resources {
        if r.parts == Parts::None
            && let Some(p) = old_parts.remove(&r.reference())
        {
            r.parts = p;
        }
        t.resources.push(r);
    }
    let status = t.regions.entry(sweep.region.clone()).or_default();
    status.state = SweepState::Done;
    status.cells = sweep.cells;
    status.at = Some(at);
    reattribute(state);
    parts_wanted(state)
}

/// The other accounts answered (`--accounts`): what each runs that was made after the leak
/// started replaces what was known of that account. An account that could not be looked into
/// this time keeps its rows from the last answer (its reason is on the Access tab): a failed
/// poll never reads as "nothing running there". An account the organisation no longer lists
/// loses its rows; when the organisation could not be listed, every account keeps them.
pub fn on_members(state: &mut State, members: &crate::app::access::Members) -> Vec<Effect> {
    let answered: BTreeSet<&str> = members
        .accounts
        .iter()
        .filter(|m| m.outcome.is_ok())
        .map(|m| m.id.as_str())
        .collect();
    let listed: BTreeSet<&str> = members.accounts.iter().map(|m| m.id.as_str()).collect();
    let gone = |a: &str| members.listing.is_none() && !listed.contains(a);
    let t = &mut state.resources;
    let mut old_parts: BTreeMap<ResourceRef, Parts> = BTreeMap::new();
    t.resources.retain(|r| match r.account.as_deref() {
        Some(a) if answered.contains(a) || gone(a) => {
            if r.parts != Parts::None {
                old_parts.insert(r.reference(), r.parts.clone());
            }
            false
        }
        _ => true,
    });
    // Parts not read yet are asked for again with each answer (the account may not have been
    // entered when they were first asked for).
    t.parts_requested
        .retain(|r| r.account.as_deref().is_none_or(|a| !answered.contains(a)));
    for m in members.accounts.iter().filter(|m| m.outcome.is_ok()) {
        for r in &m.resources {
            let mut r = r.clone().in_account(&m.id);
            if r.parts == Parts::None
                && let Some(p) = old_parts.remove(&r.reference())
            {
                r.parts = p;
            }
            t.resources.push(r);
        }
    }
    reattribute(state);
    parts_wanted(state)
}

/// The sweep is over.
pub fn on_done(state: &mut State, seq: u64, at: Timestamp) {
    let t = &mut state.resources;
    if seq < t.seq {
        return;
    }
    t.in_flight = false;
    t.fetched_at = Some(at);
    for s in t.regions.values_mut() {
        if s.state == SweepState::Running {
            s.state = SweepState::Waiting;
        }
    }
}

/// A principal's parts arrived.
pub fn on_parts(state: &mut State, target: ResourceRef, parts: Parts) {
    if let Some(r) = state
        .resources
        .resources
        .iter_mut()
        .find(|r| r.reference() == target)
    {
        r.parts = parts;
    }
}

/// Suspicious users and roles whose parts are not known yet: read them, so the plan can list
/// every step before anything runs.
fn parts_wanted(state: &mut State) -> Vec<Effect> {
    let t = &mut state.resources;
    let mut wanted = Vec::new();
    for (i, r) in t.resources.iter().enumerate() {
        if r.kind.has_parts()
            && r.parts == Parts::None
            && t.verdict_of(i).suspicious()
            && !t.parts_requested.contains(&r.reference())
        {
            wanted.push(r.reference());
        }
    }
    if wanted.is_empty() {
        return vec![];
    }
    t.parts_requested.extend(wanted.iter().cloned());
    vec![Effect::FetchParts(wanted)]
}

/// New timeline events may change who made what.
pub fn on_timeline_grew(state: &mut State) {
    if !state.resources.resources.is_empty()
        && state.timeline.store.len() != state.resources.attributed_events
    {
        reattribute(state);
    }
}

pub fn move_cursor(state: &mut State, delta: isize) {
    let t = &mut state.resources;
    let Some(j) = cursor::step(t.cursor_row().unwrap_or(0), t.rows.len(), delta) else {
        return;
    };
    t.cursor = t
        .rows
        .get(j)
        .and_then(|&k| t.resources.get(k))
        .map(Resource::reference);
}

pub fn toggle_select(state: &mut State) {
    let t = &mut state.resources;
    if let Some(c) = t.cursor.clone()
        && t.cursor_row().is_some()
        && !t.selected.remove(&c)
    {
        t.selected.insert(c);
    }
    // Only what the help says: the cursor stays on the row (j moves on).
}

/// `a`: every resource the leaked key made (and nothing else) among the rows shown, so that a
/// filter (an account's id, a region) narrows it.
pub fn select_attacker(state: &mut State) {
    let t = &mut state.resources;
    let picked: Vec<ResourceRef> = t
        .rows
        .iter()
        .filter(|&&i| t.verdict_of(i) == Verdict::LeakedKey)
        .filter_map(|&i| t.resources.get(i).map(Resource::reference))
        .collect();
    let n = picked.len();
    t.selected.extend(picked);
    if n == 0 {
        state.flash(
            Level::Info,
            "no resource is attributed to the leaked key (yet): select by hand with space",
        );
    } else {
        state.flash(
            Level::Info,
            format!("selected {n} resources made by the leaked key"),
        );
    }
}

pub fn toggle_view(state: &mut State) {
    state.resources.show_all = !state.resources.show_all;
    rebuild_rows(state);
    let word = if state.resources.show_all {
        "showing everything"
    } else {
        "showing what the leak made or touched"
    };
    state.flash(Level::Info, word);
}

pub fn set_filter(state: &mut State, text: String) {
    state.resources.filter = text;
    rebuild_rows(state);
}

/// What keyspill itself runs as, so it is never in a plan.
fn protected(state: &State) -> Protected {
    let Some(id) = state.identity.data.as_ref() else {
        return Protected::default();
    };
    let resource = id.arn.rsplit(':').next().unwrap_or("");
    let mut p = Protected {
        key: id.access_key_id.clone(),
        ..Protected::default()
    };
    if let Some(user) = resource.strip_prefix("user/") {
        p.user = user.rsplit('/').next().map(str::to_string);
    } else if let Some(rest) = resource.strip_prefix("assumed-role/") {
        p.role = rest.split('/').next().map(str::to_string);
    }
    p
}

/// `t`, `i`, `e`: the plan for the selection (or the resource under the cursor): removal,
/// isolation or evidence only, each keeping evidence first.
pub fn plan_for(state: &mut State, purpose: Purpose) -> Option<Plan> {
    let t = &state.resources;
    let mut targets: Vec<&Resource> = t
        .resources
        .iter()
        .filter(|r| t.selected.contains(&r.reference()))
        .collect();
    if targets.is_empty()
        && let Some((r, _)) = t.current()
    {
        targets.push(r);
    }
    if targets.is_empty() {
        return None;
    }
    // One account per plan: its dialog names the account, and the plan runs there.
    let account = targets[0].account.clone();
    let accounts: BTreeSet<Option<&str>> = targets.iter().map(|r| r.account.as_deref()).collect();
    if accounts.len() > 1 {
        state.flash(
            Level::Warn,
            format!(
                "the selection is in {} accounts: act on one account's resources at a time \
                 (/ and its id narrow the rows, then a)",
                accounts.len()
            ),
        );
        return None;
    }
    let own = match &account {
        None => protected(state),
        // There keyspill runs as the role it entered the account with.
        Some(_) => Protected {
            role: state.access.members.as_ref().map(|m| m.role.clone()),
            ..Protected::default()
        },
    };
    let mut plan = match purpose {
        Purpose::Remove => {
            let inventory: Vec<&Resource> = t
                .resources
                .iter()
                .filter(|r| r.account == account)
                .collect();
            removal::build(&targets, &own, &inventory)
        }
        Purpose::Isolate => removal::isolation(&targets, &own),
        Purpose::KeepOnly => removal::keep_only(&targets),
    };
    if plan.steps.is_empty() {
        let why = plan
            .excluded
            .first()
            .map_or_else(String::new, |e| format!(": {} {}", e.target.id, e.reason));
        let what = match purpose {
            Purpose::Remove => "nothing to remove",
            Purpose::Isolate => "nothing to isolate",
            Purpose::KeepOnly => "nothing to keep",
        };
        state.flash(Level::Warn, format!("{what}{why}"));
        return None;
    }
    plan.facts = facts(state, &plan);
    Some(crate::app::access::bound(
        state,
        account.as_deref(),
        Plan::RemoveResources(plan),
    ))
}

/// What the console knows of each target of a plan, for the evidence manifest: its ARN and
/// what made it.
fn facts(state: &State, plan: &RemovalPlan) -> BTreeMap<ResourceRef, TargetFacts> {
    let t = &state.resources;
    let mut out = BTreeMap::new();
    for target in plan.steps.iter().map(|s| &s.target) {
        if out.contains_key(target) {
            continue;
        }
        let Some(i) = t.resources.iter().position(|r| r.reference() == *target) else {
            continue;
        };
        let made_by = crate::app::checklist::maker(state, i).map(|m| {
            let who = m.principal.map(|p| format!(" ({p})")).unwrap_or_default();
            format!("{}{who}, {} at {}", m.key, m.via, m.at)
        });
        let r = &t.resources[i];
        let account = r
            .account
            .as_deref()
            .or_else(|| state.identity.data.as_ref().map(|id| id.account.as_str()));
        out.insert(
            target.clone(),
            TargetFacts {
                arn: r.arn.clone().or_else(|| derived_arn(r, account?)),
                made_by,
            },
        );
    }
    out
}

/// The ARN of a resource whose listing gave none, where its id alone makes it: instances,
/// functions, security groups, spot requests, launch templates by id, snapshots and images.
fn derived_arn(r: &Resource, account: &str) -> Option<String> {
    use crate::resources::Kind;
    let (region, id) = (&r.region, &r.id);
    Some(match r.kind {
        Kind::Instance => format!("arn:aws:ec2:{region}:{account}:instance/{id}"),
        Kind::Function => format!("arn:aws:lambda:{region}:{account}:function:{id}"),
        Kind::SecurityGroup => format!("arn:aws:ec2:{region}:{account}:security-group/{id}"),
        Kind::SpotRequest => {
            format!("arn:aws:ec2:{region}:{account}:spot-instances-request/{id}")
        }
        Kind::LaunchTemplate if id.starts_with("lt-") => {
            format!("arn:aws:ec2:{region}:{account}:launch-template/{id}")
        }
        Kind::Snapshot => format!("arn:aws:ec2:{region}::snapshot/{id}"),
        Kind::Image => format!("arn:aws:ec2:{region}::image/{id}"),
        _ => return None,
    })
}

/// Evidence a step kept.
pub fn on_evidence(state: &mut State, entries: Vec<ManifestEntry>) {
    state.resources.evidence.extend(entries);
}

/// Whether a manifest entry was kept of `target`.
pub fn kept_of(e: &ManifestEntry, target: &ResourceRef) -> bool {
    e.kind == target.kind.label()
        && e.region == target.region
        && e.id == target.id
        && e.account == target.account
}

/// The plan was confirmed and sent to the executor.
pub fn removal_started(state: &mut State, plan: &RemovalPlan) {
    state.resources.removal = Some(Removal {
        states: vec![StepState::Pending; plan.steps.len()],
        plan: plan.clone(),
        finished: false,
        scroll: 0,
    });
}

pub fn on_step(state: &mut State, index: usize, step: StepState) {
    if let Some(r) = state.resources.removal.as_mut()
        && let Some(s) = r.states.get_mut(index)
    {
        *s = step;
    }
}

/// The run ended: forget the selection and read the inventory again where it ran (this
/// account's sweep, or the other accounts' poll for a plan run in one of them).
pub fn removal_finished(state: &mut State, account: Option<&str>) -> Vec<Effect> {
    let Some(r) = state.resources.removal.as_mut() else {
        return vec![];
    };
    r.finished = true;
    state.resources.selected.clear();
    let source = if account.is_some() {
        Source::Members
    } else {
        Source::Resources
    };
    vec![Effect::Refresh(source)]
}

/// Esc on the tab: close the finished removal pane, the detail, the filter, the selection.
pub fn back(state: &mut State) {
    let t = &mut state.resources;
    if t.removal.as_ref().is_some_and(|r| r.finished) {
        t.removal = None;
    } else if t.detail.is_some() {
        t.detail = None;
    } else if !t.filter.is_empty() {
        set_filter(state, String::new());
    } else {
        t.selected.clear();
    }
}

/// Commands while the detail or the removal pane is open. The detail scrolls and closes and
/// nothing else works under it; under the removal pane PgUp/PgDn scroll the progress and
/// `None` lets the other keys through to the tab (moving the cursor keeps working), as it
/// does help and quit.
pub fn on_pane(state: &mut State, cmd: Command) -> Option<Vec<Effect>> {
    let t = &mut state.resources;
    if let Some(scroll) = t.detail.as_mut() {
        match cmd {
            Command::Back | Command::Open => t.detail = None,
            Command::Quit | Command::Help => return None,
            _ => *scroll = cursor::scroll(*scroll, cmd).unwrap_or(*scroll),
        }
        return Some(vec![]);
    }
    let removal = t.removal.as_mut()?;
    match cmd {
        Command::PageDown => removal.scroll = removal.scroll.saturating_add(10),
        Command::PageUp => removal.scroll = removal.scroll.saturating_sub(10),
        Command::Back if removal.finished => t.removal = None,
        Command::Back => {
            state.flash(
                Level::Info,
                "the removal is still running; Esc closes it once done",
            );
        }
        _ => return None,
    }
    Some(vec![])
}

/// The Resources tab's commands; `None` for a command that means nothing here.
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
        Command::Filter => {
            state.mode = Mode::Filter;
            vec![]
        }
        Command::Refresh => vec![Effect::Refresh(Source::Resources)],
        Command::Open => {
            if state.resources.current().is_some() {
                state.resources.detail = Some(0);
            }
            vec![]
        }
        Command::Back => {
            back(state);
            vec![]
        }
        Command::Select => {
            toggle_select(state);
            vec![]
        }
        Command::SelectAttacker => {
            select_attacker(state);
            vec![]
        }
        Command::ToggleView => {
            toggle_view(state);
            vec![]
        }
        Command::Remove | Command::Isolate | Command::KeepEvidence => {
            let purpose = match cmd {
                Command::Isolate => Purpose::Isolate,
                Command::KeepEvidence => Purpose::KeepOnly,
                _ => Purpose::Remove,
            };
            match plan_for(state, purpose) {
                Some(plan) => propose(state, plan),
                None => vec![],
            }
        }
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
        | Command::CycleFocus
        | Command::Note
        | Command::Clear
        | Command::Permissions
        | Command::Simulate => return None,
    };
    Some(effects)
}

/// Keys typed while filtering the resource table.
pub fn on_filter_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let mut text = state.resources.filter.clone();
    match key.code {
        KeyCode::Esc => {
            text.clear();
            state.mode = Mode::Normal;
        }
        KeyCode::Enter => {
            state.mode = Mode::Normal;
            return vec![];
        }
        KeyCode::Backspace => {
            text.pop();
        }
        KeyCode::Char(c) => text.push(c),
        _ => return vec![],
    }
    set_filter(state, text);
    vec![]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::state::Settings;
    use crate::resources::Kind;
    use time::macros::datetime;

    fn state() -> State {
        let settings = Settings {
            read_only: false,
            profile: None,
            endpoint: None,
            regions: None,
            operator: "ic".into(),
            local_offset: time::UtcOffset::UTC,
        };
        let mut s = State::new(settings, datetime!(2026-11-22 12:00 UTC));
        s.since_flag = Some(datetime!(2026-11-20 00:00 UTC));
        s
    }

    fn res(kind: Kind, region: &str, id: &str, created: Timestamp) -> Resource {
        let mut r = Resource::new(kind, region, id);
        r.created = Some(created);
        r.state = "running".into();
        r
    }

    fn sweep(region: &str, resources: Vec<Resource>) -> RegionSweep {
        RegionSweep {
            region: region.into(),
            resources,
            cells: vec![("instance", CellState::Ok(1))],
        }
    }

    #[test]
    fn regions_arrive_one_by_one_and_replace_their_own_part() {
        let mut s = state();
        let at = datetime!(2026-11-22 12:00 UTC);
        on_started(&mut s, 1, at, vec!["eu-west-1".into(), "ap-south-1".into()]);
        assert!(s.resources.sweeping());
        let old = datetime!(2025-01-01 00:00 UTC);
        let new = datetime!(2026-11-21 00:00 UTC);
        on_region(
            &mut s,
            1,
            at,
            sweep(
                "eu-west-1",
                vec![res(Kind::Instance, "eu-west-1", "i-old", old)],
            ),
        );
        on_region(
            &mut s,
            1,
            at,
            sweep(
                "ap-south-1",
                vec![res(Kind::Instance, "ap-south-1", "i-new", new)],
            ),
        );
        // Only the one created after the leak is shown by default.
        assert_eq!(s.resources.rows.len(), 1);
        assert_eq!(
            s.resources.current().map(|(r, _)| r.id.as_str()),
            Some("i-new")
        );
        toggle_view(&mut s);
        assert_eq!(s.resources.rows.len(), 2);

        let strip = region_summaries(&s);
        let south = strip
            .iter()
            .find(|r| r.region == "ap-south-1")
            .expect("row");
        assert_eq!(
            (south.total, south.suspicious, south.new_region),
            (1, 1, true)
        );
        let west = strip.iter().find(|r| r.region == "eu-west-1").expect("row");
        assert_eq!((west.suspicious, west.new_region), (0, false));
        let global = strip.iter().find(|r| r.region == GLOBAL).expect("row");
        assert_eq!(global.state, SweepState::Running);

        // A second sweep of a region replaces its resources; a stale sweep is ignored.
        on_region(&mut s, 1, at, sweep("ap-south-1", vec![]));
        assert_eq!(s.resources.resources.len(), 1);
        on_region(&mut s, 0, at, sweep("eu-west-1", vec![]));
        assert_eq!(s.resources.resources.len(), 1);
        on_done(&mut s, 1, at);
        assert!(!s.resources.sweeping());
    }

    #[test]
    fn suspicious_principals_get_their_parts_read_once() {
        let mut s = state();
        let at = datetime!(2026-11-22 12:00 UTC);
        on_started(&mut s, 1, at, vec![]);
        let user = res(
            Kind::User,
            GLOBAL,
            "backdoor",
            datetime!(2026-11-21 00:00 UTC),
        );
        let old = res(Kind::User, GLOBAL, "alice", datetime!(2024-01-01 00:00 UTC));
        let effects = on_region(&mut s, 1, at, sweep(GLOBAL, vec![user.clone(), old]));
        assert_eq!(effects, vec![Effect::FetchParts(vec![user.reference()])]);
        // The same sweep message again asks for nothing more.
        let again = on_region(&mut s, 1, at, sweep(GLOBAL, vec![user.clone()]));
        assert!(again.is_empty());
        on_parts(
            &mut s,
            user.reference(),
            Parts::User(crate::resources::UserParts {
                login_profile: true,
                ..Default::default()
            }),
        );
        // Parts survive the next sweep of the region.
        on_region(&mut s, 1, at, sweep(GLOBAL, vec![user.clone()]));
        assert!(matches!(
            &s.resources.resources[0].parts,
            Parts::User(p) if p.login_profile
        ));
    }

    #[test]
    fn a_selects_what_the_leaked_key_made_among_the_rows_shown() {
        let mut s = state();
        let at = datetime!(2026-11-22 12:00 UTC);
        let after = datetime!(2026-11-21 00:00 UTC);
        let here = res(Kind::Instance, "eu-west-1", "i-here", after);
        let there = res(Kind::Instance, "eu-west-1", "i-there", after).in_account("444455556666");
        on_region(&mut s, 0, at, sweep("eu-west-1", vec![here, there]));
        let there_ref = s.resources.resources[1].reference();
        // Both made by the leaked key, as a trail would say.
        for a in s.resources.attribution.iter_mut() {
            a.verdict = Verdict::LeakedKey;
        }
        rebuild_rows(&mut s);
        set_filter(&mut s, "444455556666".into());
        select_attacker(&mut s);
        assert_eq!(
            s.resources.selected.iter().collect::<Vec<_>>(),
            vec![&there_ref]
        );
        // Without the filter, both: a plan across the two accounts is refused with how to
        // narrow it.
        set_filter(&mut s, String::new());
        select_attacker(&mut s);
        assert_eq!(s.resources.selected.len(), 2);
        assert!(plan_for(&mut s, Purpose::Remove).is_none());
        let flash = s.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
        assert!(
            flash.contains("in 2 accounts") && flash.contains("then a"),
            "{flash}"
        );
    }

    #[test]
    fn selection_plan_and_own_identity() {
        let mut s = state();
        s.identity.data = Some(crate::domain::Identity {
            account: "123456789012".into(),
            arn: "arn:aws:iam::123456789012:user/ops/responder".into(),
            user_id: "AIDA".into(),
            access_key_id: Some("AKIARESPONDER".into()),
        });
        let at = datetime!(2026-11-22 12:00 UTC);
        let after = datetime!(2026-11-21 00:00 UTC);
        on_region(
            &mut s,
            0,
            at,
            sweep(
                GLOBAL,
                vec![
                    res(Kind::User, GLOBAL, "responder", after),
                    res(Kind::User, GLOBAL, "backdoor", after),
                ],
            ),
        );
        assert_eq!(s.resources.rows.len(), 2);
        toggle_select(&mut s);
        move_cursor(&mut s, 1);
        toggle_select(&mut s);
        assert_eq!(s.resources.selected.len(), 2);
        let Some(Plan::RemoveResources(plan)) = plan_for(&mut s, Purpose::Remove) else {
            panic!("a plan");
        };
        assert_eq!(plan.targets, 1);
        assert!(plan.steps.iter().all(|st| st.target.id == "backdoor"));
        assert_eq!(plan.excluded[0].target.id, "responder");

        removal_started(&mut s, &plan);
        on_step(&mut s, 0, StepState::Done("gone".into()));
        let effects = removal_finished(&mut s, None);
        assert_eq!(effects, vec![Effect::Refresh(Source::Resources)]);
        assert!(s.resources.selected.is_empty());
        back(&mut s);
        assert!(s.resources.removal.is_none());
    }
}
