//! The incident report, written from the journal directory alone: no AWS call, so it can be
//! written later, on another machine, from a copied directory. `build` turns the journal's
//! entries into a `Report`; `markdown` and `json` render it; `write` puts it next to the
//! journal; the binary's `keyspill report` prints it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::journal::snapshot::{KeyState, ResourceState, RiskyEvent};
use crate::journal::{self, Entry, Event, JOURNAL_FILE, Milestone, Snapshot, Target};
use crate::resources::action::Action;

mod markdown;

pub use markdown::markdown;

/// What `keyspill report` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Markdown: the start of a postmortem.
    #[default]
    #[value(alias = "markdown")]
    Md,
    /// JSON, for other tools.
    Json,
}

impl Format {
    /// The file `write` puts into the journal directory.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Md => "report.md",
            Format::Json => "report.json",
        }
    }
}

/// Everything the report says. Field names are stable: they are the JSON format.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Report {
    pub summary: Summary,
    /// Detected, contained, eradicated, closed: always all four, in that order.
    pub milestones: Vec<MilestoneRow>,
    /// From detection to containment.
    pub time_to_contain: Option<Span>,
    /// From detection to eradication.
    pub time_to_eradicate: Option<Span>,
    pub keys: Vec<KeyRow>,
    pub high_risk: Vec<RiskyEvent>,
    /// Timeline totals from the last snapshot (events, regions, source IPs, …).
    pub timeline_totals: Vec<Total>,
    pub evidence: Vec<EvidenceRow>,
    pub resources: Vec<ResourceRow>,
    pub cost: Option<Cost>,
    pub checklist: Vec<ChecklistRow>,
    pub actions: Vec<ActionRow>,
    pub notes: Vec<NoteRow>,
    pub journal: JournalFacts,
    /// A game-day exercise's score, when the journal is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub game: Option<Game>,
}

/// The game day's score: the times are the incident's own; what the attacker still held is
/// what the emulator said at the last export.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Game {
    pub scenario: String,
    pub seed: u64,
    pub time_to_contain: Option<String>,
    pub time_to_eradicate: Option<String>,
    pub attacker_holds: Vec<String>,
    /// When that was read (RFC 3339), absent before the first export.
    pub holds_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Summary {
    pub account: Option<String>,
    /// Who keyspill ran as (never the leaked principal).
    pub caller: Option<String>,
    pub leaked_keys: Vec<String>,
    /// When the leak started (RFC 3339, UTC).
    pub leak_start: Option<String>,
    /// How the leak start was found.
    pub leak_start_from: Option<String>,
    /// When the journal was opened.
    pub opened: Option<String>,
    pub opened_by: Option<String>,
    /// Everyone who wrote to the journal, in order of their first entry.
    pub operators: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MilestoneRow {
    pub milestone: Milestone,
    /// When it was reached, or `None` when it was not.
    pub at: Option<String>,
    #[serde(default)]
    pub detail: String,
    /// Worked out from other entries (an older journal without milestone entries).
    #[serde(default)]
    pub derived: bool,
}

/// A duration, in seconds and in words (`1 h 12 min`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub seconds: i64,
    pub words: String,
}

/// Where a key's final state comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateFrom {
    /// The last snapshot.
    Snapshot,
    /// A verified action after the last snapshot, or the action log when there is none.
    ActionLog,
    /// Nothing in the journal says.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRow {
    pub key_id: String,
    pub user: Option<String>,
    /// `Active`, `Inactive`, `deleted`, … or `unknown`.
    pub status: String,
    pub status_from: StateFrom,
    pub leaked: bool,
    /// Created after the leak started, not by this response (the attacker's, most likely).
    pub new_after_leak: bool,
    /// Created by this response (a rotation).
    pub created_by_response: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Total {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRow {
    /// When it was marked.
    pub at: String,
    pub operator: String,
    pub event_id: String,
    pub summary: String,
    pub origin: String,
}

/// What became of a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    /// A removing call succeeded.
    Removed,
    /// Calls on it succeeded, none of them removing it (unshared, a spot request cancelled,
    /// termination protection lifted).
    Changed,
    /// The last call on it failed.
    Failed,
    /// A call was made and its outcome never written (the process stopped mid-call).
    OutcomeUnknown,
    /// Suspicious, and no call was made on it.
    NotAttempted,
    /// Not the attacker's (there before the leak): left in place.
    Left,
}

impl Fate {
    pub fn label(self) -> &'static str {
        match self {
            Fate::Removed => "removed",
            Fate::Changed => "changed, not removed",
            Fate::Failed => "failed",
            Fate::OutcomeUnknown => "outcome unknown",
            Fate::NotAttempted => "not attempted",
            Fate::Left => "left",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRow {
    pub kind: String,
    pub region: String,
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// The sweep's verdict (`LEAKED KEY`, `AFTER LEAK`, `TOUCHED`, `BEFORE`); `None` for a
    /// resource known only from the action log.
    pub verdict: Option<String>,
    /// Its state as last swept.
    pub state: Option<String>,
    pub created: Option<String>,
    /// In the last snapshot (false: known only from the action log).
    pub in_snapshot: bool,
    pub fate: Fate,
    /// What the deciding step said (or why nothing was done).
    #[serde(default)]
    pub detail: String,
    /// The calls made on it, in order.
    pub calls: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cost {
    pub unit: String,
    pub since_leak_cents: i64,
    pub baseline_daily_cents: i64,
    pub since_daily_cents: i64,
    pub top_services: Vec<ServiceCost>,
    pub new_regions: Vec<String>,
    pub anomalies: usize,
    /// CloudTrail LookupEvents requests the console made.
    pub lookup_requests: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceCost {
    pub service: String,
    /// Extra per day since the leak.
    pub extra_daily_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistRow {
    pub id: String,
    pub title: String,
    /// `verified`, `failing`, `unknown`, `ticked` or `open`.
    pub status: String,
    #[serde(default)]
    pub detail: String,
    /// Who ticked it by hand, and when.
    pub by: Option<String>,
    pub at: Option<String>,
}

/// How one call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    Ok,
    Failed,
    /// An intent without an outcome.
    Unknown,
}

impl StepOutcome {
    pub fn label(self) -> &'static str {
        match self {
            StepOutcome::Ok => "ok",
            StepOutcome::Failed => "failed",
            StepOutcome::Unknown => "outcome unknown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRow {
    pub step: u32,
    /// The AWS call, as IAM policies name it (empty when only an outcome was written).
    pub call: String,
    pub target: Target,
    /// The target in words.
    pub target_text: String,
    pub intent_at: Option<String>,
    pub outcome: StepOutcome,
    #[serde(default)]
    pub detail: String,
    pub outcome_at: Option<String>,
    /// For an unknown outcome: what checking AWS later found.
    pub reverified: Option<Reverified>,
    pub created_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reverified {
    pub at: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRow {
    pub id: String,
    pub label: String,
    /// When it was confirmed (`None` when the journal holds steps but no action entry).
    pub at: Option<String>,
    pub operator: String,
    pub steps: Vec<StepRow>,
    /// `done`, `failed`, `outcome unknown` or `stopped before any call`.
    pub result: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteRow {
    pub at: String,
    pub operator: String,
    /// The checklist step it is on, if any.
    pub step: Option<String>,
    pub step_title: Option<String>,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JournalFacts {
    pub entries: usize,
    pub first: Option<String>,
    pub last: Option<String>,
    pub snapshots: usize,
    /// When the snapshot the report uses was written.
    pub snapshot_at: Option<String>,
    /// Lines that could not be read, with why (a torn last line is what a crash mid-write
    /// leaves).
    pub unreadable: Vec<String>,
}

/// A journal read leniently.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Loaded {
    pub entries: Vec<Entry>,
    /// Lines skipped, with why: a torn last line, lines that are not entries.
    pub unreadable: Vec<String>,
}

/// Reads `dir/journal.jsonl`, skipping (and listing) what cannot be read.
pub fn read(dir: &Path) -> Result<Loaded, String> {
    let path = dir.join(JOURNAL_FILE);
    let raw = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (entries, torn, bad) = journal::entries(&raw);
    let mut unreadable = bad;
    if let Some(t) = torn {
        unreadable.push(format!("last line, cut off mid-write: {t}"));
    }
    Ok(Loaded {
        entries,
        unreadable,
    })
}

/// Reads the journal in `dir` and builds its report.
pub fn load(dir: &Path) -> Result<Report, String> {
    let loaded = read(dir)?;
    let mut report = build(&loaded.entries);
    report.journal.unreadable = loaded.unreadable;
    Ok(report)
}

/// The report as pretty JSON.
pub fn json(r: &Report) -> String {
    let mut s =
        serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

pub fn render(r: &Report, format: Format) -> String {
    match format {
        Format::Md => markdown(r),
        Format::Json => json(r),
    }
}

/// Writes `report.md` or `report.json` into the journal directory `dir`; returns its path.
pub fn write(dir: &Path, format: Format) -> Result<PathBuf, String> {
    let report = load(dir)?;
    let path = dir.join(format.file_name());
    let tmp = dir.join(format!(".{}.tmp", format.file_name()));
    std::fs::write(&tmp, render(&report, format))
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// Where the console keeps incident directories by default.
pub fn incidents_root() -> PathBuf {
    let one = journal::default_dir(None, time::OffsetDateTime::now_utc());
    one.parent().map(Path::to_path_buf).unwrap_or(one)
}

/// The incident directory under `root` whose journal was written last.
pub fn newest_incident(root: &Path) -> Option<PathBuf> {
    let dirs = std::fs::read_dir(root).ok()?;
    dirs.filter_map(Result::ok)
        .filter_map(|d| {
            let path = d.path();
            let modified = std::fs::metadata(path.join(JOURNAL_FILE))
                .ok()
                .filter(std::fs::Metadata::is_file)?
                .modified()
                .ok()?;
            Some((modified, path))
        })
        .max()
        .map(|(_, p)| p)
}

/// The journal's time, normalised to UTC RFC 3339 (kept as written when it does not parse).
fn utc(ts: &str) -> String {
    journal::parse_ts(ts)
        .map(|t| journal::format_ts(t.to_offset(time::UtcOffset::UTC)))
        .unwrap_or_else(|| ts.to_string())
}

/// `1 h 12 min`, `45 s`, `2 d 3 h`.
pub fn duration_words(seconds: i64) -> String {
    let s = seconds.unsigned_abs();
    let sign = if seconds < 0 { "-" } else { "" };
    if s < 60 {
        return format!("{sign}{s} s");
    }
    let parts: Vec<String> = [
        (s / 86_400, "d"),
        (s % 86_400 / 3600, "h"),
        (s % 3600 / 60, "min"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, u)| format!("{n} {u}"))
    .collect();
    format!("{sign}{}", parts.join(" "))
}

fn span(from: Option<&str>, to: Option<&str>) -> Option<Span> {
    let from = journal::parse_ts(from?)?;
    let to = journal::parse_ts(to?)?;
    let seconds = (to - from).whole_seconds();
    Some(Span {
        seconds,
        words: duration_words(seconds),
    })
}

/// The status a successful key call leaves its key in.
fn key_status_after(call: &str) -> Option<&'static str> {
    match call {
        "iam:UpdateAccessKey Inactive" => Some("Inactive"),
        "iam:UpdateAccessKey Active" => Some("Active"),
        "iam:DeleteAccessKey" => Some("deleted"),
        _ => None,
    }
}

fn contained(status: &str) -> bool {
    !status.eq_ignore_ascii_case("active") && !status.eq_ignore_ascii_case("unknown")
}

/// The removal calls that leave their target in place (`Action::removes_target`).
fn non_removing_calls() -> Vec<&'static str> {
    let s = String::new;
    [
        Action::DisableTerminationProtection,
        Action::CancelSpotRequest,
        Action::UnshareSnapshot,
        Action::UnshareImage,
        Action::DeleteLoginProfile,
        Action::DeleteAccessKey(s()),
        Action::DeleteSigningCertificate(s()),
        Action::DeleteSshPublicKey(s()),
        Action::DeleteServiceSpecificCredential(s()),
        Action::RemoveMfaDevice(s()),
        Action::DeleteUserPolicy(s()),
        Action::DetachUserPolicy(s()),
        Action::RemoveUserFromGroup(s()),
        Action::DeleteRolePolicy(s()),
        Action::DetachRolePolicy(s()),
        Action::RemoveRoleFromInstanceProfile(s()),
    ]
    .iter()
    .filter(|a| !a.removes_target())
    .map(Action::call)
    .collect()
}

fn push_unique(into: &mut Vec<String>, item: &str) {
    if !into.iter().any(|i| i == item) {
        into.push(item.to_string());
    }
}

/// Builds the report from a journal's entries, in the order they were written. Pure: the
/// entries are all it knows.
pub fn build(entries: &[Entry]) -> Report {
    let mut r = Report::default();
    let mut since_opened: Option<String> = None;
    let mut since_event: Option<(String, String)> = None;
    let mut milestones: BTreeMap<Milestone, (String, String)> = BTreeMap::new();
    let mut snapshot: Option<(usize, &Snapshot)> = None;
    let mut ticks: BTreeMap<String, Option<(String, String)>> = BTreeMap::new();
    let mut created_keys: BTreeMap<String, Option<String>> = BTreeMap::new();

    for (i, entry) in entries.iter().enumerate() {
        let ts = utc(&entry.ts);
        push_unique(&mut r.summary.operators, &entry.operator);
        match &entry.event {
            Event::Opened {
                account,
                caller,
                since,
                leaked_keys,
            } => {
                if r.summary.opened.is_none() {
                    r.summary.opened = Some(ts.clone());
                    r.summary.opened_by = Some(entry.operator.clone());
                }
                r.summary.account = r.summary.account.take().or_else(|| account.clone());
                r.summary.caller = r.summary.caller.take().or_else(|| caller.clone());
                if since_opened.is_none() {
                    since_opened = since.as_deref().map(utc);
                }
                for k in leaked_keys {
                    push_unique(&mut r.summary.leaked_keys, k);
                }
            }
            Event::Resumed { leaked_keys } => {
                for k in leaked_keys {
                    push_unique(&mut r.summary.leaked_keys, k);
                }
            }
            Event::MarkedLeaked { key_id } => push_unique(&mut r.summary.leaked_keys, key_id),
            Event::Evidence {
                event_id,
                summary,
                origin,
            } => r.evidence.push(EvidenceRow {
                at: ts,
                operator: entry.operator.clone(),
                event_id: event_id.clone(),
                summary: summary.clone(),
                origin: origin.clone(),
            }),
            Event::Since { since, from } => {
                if since_event.is_none() {
                    since_event = Some((utc(since), from.clone()));
                }
            }
            Event::Action { action_id, label } => {
                let a = action_row(&mut r.actions, action_id);
                a.label = label.clone();
                a.at = Some(ts);
                a.operator = entry.operator.clone();
            }
            Event::Intent {
                action_id,
                step,
                call,
                target,
            } => {
                let a = action_row(&mut r.actions, action_id);
                if a.operator.is_empty() {
                    a.operator = entry.operator.clone();
                }
                a.steps.push(StepRow {
                    step: *step,
                    call: call.clone(),
                    target: target.clone(),
                    target_text: target.describe(),
                    intent_at: Some(ts),
                    outcome: StepOutcome::Unknown,
                    detail: String::new(),
                    outcome_at: None,
                    reverified: None,
                    created_key: None,
                });
            }
            Event::Outcome {
                action_id,
                step,
                ok,
                detail,
                created_key,
            } => {
                let a = action_row(&mut r.actions, action_id);
                let s = step_row(a, *step);
                s.outcome = if *ok {
                    StepOutcome::Ok
                } else {
                    StepOutcome::Failed
                };
                s.detail = detail.clone();
                s.outcome_at = Some(ts);
                s.created_key = created_key.clone();
                if let Some(k) = created_key {
                    created_keys.insert(k.clone(), s.target.user.clone());
                }
            }
            Event::Reverified {
                action_id,
                step,
                detail,
            } => {
                let a = action_row(&mut r.actions, action_id);
                step_row(a, *step).reverified = Some(Reverified {
                    at: ts,
                    detail: detail.clone(),
                });
            }
            Event::Note { text, step } => r.notes.push(NoteRow {
                at: ts,
                operator: entry.operator.clone(),
                step: step.clone(),
                step_title: None,
                text: text.clone(),
            }),
            Event::Tick { step, done } => {
                ticks.insert(
                    step.clone(),
                    done.then(|| (entry.operator.clone(), ts.clone())),
                );
            }
            Event::Milestone {
                milestone,
                at,
                detail,
            } => {
                // The first time a milestone was reached is the one that counts.
                milestones
                    .entry(*milestone)
                    .or_insert_with(|| (utc(at), detail.clone()));
            }
            Event::Snapshot(s) => {
                r.journal.snapshots += 1;
                r.journal.snapshot_at = Some(ts);
                snapshot = Some((i, s));
            }
            Event::Game {
                scenario,
                seed,
                attacker_holds,
            } => {
                // The first entry starts the game; each export's entry after it says what
                // the attacker held then, the last one winning.
                let started = r.game.is_some();
                let g = r.game.get_or_insert_with(Game::default);
                g.scenario = scenario.clone();
                g.seed = *seed;
                if started {
                    g.attacker_holds = attacker_holds.clone();
                    g.holds_at = Some(ts.clone());
                }
            }
        }
    }

    r.journal.entries = entries.len();
    r.journal.first = entries.first().map(|e| utc(&e.ts));
    r.journal.last = entries.last().map(|e| utc(&e.ts));
    match (since_opened, since_event) {
        (Some(s), _) => {
            r.summary.leak_start = Some(s);
            r.summary.leak_start_from = Some("given when the incident was opened".into());
        }
        (None, Some((s, from))) => {
            r.summary.leak_start = Some(s);
            r.summary.leak_start_from = Some(from);
        }
        (None, None) => {}
    }
    let snap = snapshot.map(|(_, s)| s);
    if let Some(s) = snap {
        if r.summary.account.is_none() {
            r.summary.account = s.account.clone();
        }
        for k in s.keys.iter().filter(|k| k.leaked) {
            push_unique(&mut r.summary.leaked_keys, &k.key_id);
        }
    }

    r.keys = keys(&r, entries, snapshot, &created_keys);
    r.milestones = milestone_rows(&r, &milestones, entries);
    let at = |m: Milestone| {
        r.milestones
            .iter()
            .find(|row| row.milestone == m)
            .and_then(|row| row.at.clone())
    };
    let detected = at(Milestone::Detected);
    r.time_to_contain = span(detected.as_deref(), at(Milestone::Contained).as_deref());
    r.time_to_eradicate = span(detected.as_deref(), at(Milestone::Eradicated).as_deref());
    if let Some(g) = r.game.as_mut() {
        g.time_to_contain = r.time_to_contain.as_ref().map(|s| s.words.clone());
        g.time_to_eradicate = r.time_to_eradicate.as_ref().map(|s| s.words.clone());
    }

    for a in &mut r.actions {
        a.result = action_result(a);
    }
    r.resources = resources(
        snap.map(|s| s.resources.as_slice()).unwrap_or(&[]),
        &r.actions,
    );
    if let Some(s) = snap {
        r.high_risk = s.high_risk.clone();
        r.timeline_totals = s
            .timeline
            .iter()
            .map(|(name, value)| Total {
                name: name.clone(),
                value: value.clone(),
            })
            .collect();
        r.cost = s.cost.as_ref().map(|c| Cost {
            unit: c.unit.clone(),
            since_leak_cents: c.since_leak_cents,
            baseline_daily_cents: c.baseline_daily_cents,
            since_daily_cents: c.since_daily_cents,
            top_services: c
                .top_services
                .iter()
                .map(|(service, cents)| ServiceCost {
                    service: service.clone(),
                    extra_daily_cents: *cents,
                })
                .collect(),
            new_regions: c.new_regions.clone(),
            anomalies: c.anomalies,
            lookup_requests: c.lookup_requests,
        });
    }
    r.checklist = checklist(snap, &ticks);
    for n in &mut r.notes {
        n.step_title = n.step.as_ref().and_then(|id| {
            r.checklist
                .iter()
                .find(|c| &c.id == id && c.title != *id)
                .map(|c| c.title.clone())
        });
    }
    r
}

fn action_row<'a>(actions: &'a mut Vec<ActionRow>, id: &str) -> &'a mut ActionRow {
    let i = match actions.iter().position(|a| a.id == id) {
        Some(i) => i,
        None => {
            actions.push(ActionRow {
                id: id.to_string(),
                label: "(no action entry in the journal)".into(),
                at: None,
                operator: String::new(),
                steps: Vec::new(),
                result: String::new(),
            });
            actions.len() - 1
        }
    };
    &mut actions[i]
}

/// The step's row: the latest with that number, or a new one when no intent was written.
fn step_row(a: &mut ActionRow, step: u32) -> &mut StepRow {
    let i = match a.steps.iter().rposition(|s| s.step == step) {
        Some(i) => i,
        None => {
            a.steps.push(StepRow {
                step,
                call: String::new(),
                target: Target::default(),
                target_text: "(no intent in the journal)".into(),
                intent_at: None,
                outcome: StepOutcome::Unknown,
                detail: String::new(),
                outcome_at: None,
                reverified: None,
                created_key: None,
            });
            a.steps.len() - 1
        }
    };
    &mut a.steps[i]
}

fn action_result(a: &ActionRow) -> String {
    let count = |o: StepOutcome| a.steps.iter().filter(|s| s.outcome == o).count();
    let (ok, failed, unknown) = (
        count(StepOutcome::Ok),
        count(StepOutcome::Failed),
        count(StepOutcome::Unknown),
    );
    if a.steps.is_empty() {
        return "stopped before any call".into();
    }
    let mut parts = Vec::new();
    if unknown > 0 {
        parts.push(format!("{unknown} outcome unknown"));
    }
    if failed > 0 {
        parts.push(format!("{failed} failed"));
    }
    if parts.is_empty() {
        return "done".into();
    }
    parts.push(format!("{ok} ok"));
    parts.join(", ")
}

/// The keys and their final state: the last snapshot's, updated by verified key calls made
/// after it; without a snapshot, what the action log says.
fn keys(
    r: &Report,
    entries: &[Entry],
    snapshot: Option<(usize, &Snapshot)>,
    created: &BTreeMap<String, Option<String>>,
) -> Vec<KeyRow> {
    let mut rows: Vec<KeyRow> = Vec::new();
    let snap_index = snapshot.map(|(i, _)| i);
    let snap_keys: &[KeyState] = snapshot.map(|(_, s)| s.keys.as_slice()).unwrap_or(&[]);
    for k in snap_keys {
        rows.push(KeyRow {
            key_id: k.key_id.clone(),
            user: Some(k.user.clone()),
            status: k.status.clone(),
            status_from: StateFrom::Snapshot,
            leaked: k.leaked,
            new_after_leak: k.new,
            created_by_response: created.contains_key(&k.key_id),
        });
    }
    let row = |rows: &mut Vec<KeyRow>, key: &str, user: Option<&String>| -> usize {
        match rows.iter().position(|k| k.key_id == key) {
            Some(i) => i,
            None => {
                rows.push(KeyRow {
                    key_id: key.to_string(),
                    user: user.cloned(),
                    status: "unknown".into(),
                    status_from: StateFrom::Unknown,
                    leaked: false,
                    new_after_leak: false,
                    created_by_response: created.contains_key(key),
                });
                rows.len() - 1
            }
        }
    };
    for k in &r.summary.leaked_keys {
        let i = row(&mut rows, k, None);
        rows[i].leaked = true;
    }
    // Verified key calls, in journal order; those before the snapshot are already in it.
    let mut calls: BTreeMap<(String, u32), (String, Target)> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        match &e.event {
            Event::Intent {
                action_id,
                step,
                call,
                target,
            } => {
                calls.insert((action_id.clone(), *step), (call.clone(), target.clone()));
            }
            Event::Outcome {
                action_id,
                step,
                ok: true,
                created_key,
                ..
            } => {
                let after_snapshot = snap_index.is_none_or(|s| i > s);
                let Some((call, target)) = calls.get(&(action_id.clone(), *step)) else {
                    continue;
                };
                if let Some(k) = created_key {
                    let n = row(&mut rows, k, target.user.as_ref());
                    if after_snapshot {
                        rows[n].status = "Active".into();
                        rows[n].status_from = StateFrom::ActionLog;
                    }
                }
                let (Some(key), Some(status)) = (&target.key_id, key_status_after(call)) else {
                    continue;
                };
                let n = row(&mut rows, key, target.user.as_ref());
                if rows[n].user.is_none() {
                    rows[n].user = target.user.clone();
                }
                if after_snapshot || rows[n].status_from == StateFrom::Unknown {
                    rows[n].status = status.into();
                    rows[n].status_from = StateFrom::ActionLog;
                }
            }
            _ => {}
        }
    }
    rows
}

/// The first time every leaked key was inactive or deleted, by the action log.
fn derived_containment(leaked: &[String], entries: &[Entry]) -> Option<(String, String)> {
    if leaked.is_empty() {
        return None;
    }
    let mut calls: BTreeMap<(&str, u32), (&str, &Target)> = BTreeMap::new();
    let mut status: BTreeMap<&str, &str> = BTreeMap::new();
    for e in entries {
        match &e.event {
            Event::Intent {
                action_id,
                step,
                call,
                target,
            } => {
                calls.insert((action_id, *step), (call, target));
            }
            Event::Outcome {
                action_id,
                step,
                ok: true,
                ..
            } => {
                let Some((call, target)) = calls.get(&(action_id.as_str(), *step)) else {
                    continue;
                };
                let (Some(key), Some(s)) = (&target.key_id, key_status_after(call)) else {
                    continue;
                };
                status.insert(key, s);
                if leaked
                    .iter()
                    .all(|k| status.get(k.as_str()).is_some_and(|s| contained(s)))
                {
                    return Some((
                        utc(&e.ts),
                        "every leaked key inactive or deleted (from the action log)".into(),
                    ));
                }
            }
            _ => {}
        }
    }
    None
}

fn milestone_rows(
    r: &Report,
    recorded: &BTreeMap<Milestone, (String, String)>,
    entries: &[Entry],
) -> Vec<MilestoneRow> {
    Milestone::ALL
        .into_iter()
        .map(|m| {
            if let Some((at, detail)) = recorded.get(&m) {
                return MilestoneRow {
                    milestone: m,
                    at: Some(at.clone()),
                    detail: detail.clone(),
                    derived: false,
                };
            }
            let derived = match m {
                Milestone::Detected => match (&r.summary.leak_start, &r.summary.opened) {
                    (Some(s), _) => Some((s.clone(), "the leak's start".to_string())),
                    (None, Some(o)) => Some((o.clone(), "the journal was opened".to_string())),
                    (None, None) => None,
                },
                Milestone::Contained => derived_containment(&r.summary.leaked_keys, entries),
                Milestone::Eradicated | Milestone::Closed => None,
            };
            MilestoneRow {
                milestone: m,
                derived: derived.is_some(),
                at: derived.as_ref().map(|(at, _)| at.clone()),
                detail: derived.map(|(_, d)| d).unwrap_or_default(),
            }
        })
        .collect()
}

/// The last snapshot's resources joined with the action log's calls on them, then the
/// resources the action log names that the snapshot does not (removed before it was taken).
fn resources(swept: &[ResourceState], actions: &[ActionRow]) -> Vec<ResourceRow> {
    let mut rows: Vec<ResourceRow> = swept
        .iter()
        .map(|s| ResourceRow {
            kind: s.kind.clone(),
            region: s.region.clone(),
            id: s.id.clone(),
            name: s.name.clone(),
            verdict: Some(s.verdict.clone()),
            state: (!s.state.is_empty()).then(|| s.state.clone()),
            created: s.created.as_deref().map(utc),
            in_snapshot: true,
            fate: Fate::NotAttempted,
            detail: String::new(),
            calls: Vec::new(),
        })
        .collect();
    let mut steps: Vec<Vec<&StepRow>> = vec![Vec::new(); rows.len()];
    for s in actions.iter().flat_map(|a| &a.steps) {
        let Some(t) = &s.target.resource else {
            continue;
        };
        let i = match rows
            .iter()
            .position(|r| r.kind == t.kind && r.region == t.region && r.id == t.id)
        {
            Some(i) => i,
            None => {
                rows.push(ResourceRow {
                    kind: t.kind.clone(),
                    region: t.region.clone(),
                    id: t.id.clone(),
                    name: String::new(),
                    verdict: None,
                    state: None,
                    created: None,
                    in_snapshot: false,
                    fate: Fate::NotAttempted,
                    detail: String::new(),
                    calls: Vec::new(),
                });
                steps.push(Vec::new());
                rows.len() - 1
            }
        };
        steps[i].push(s);
    }
    let keep = non_removing_calls();
    for (row, steps) in rows.iter_mut().zip(steps) {
        row.calls = steps.iter().map(|s| s.call.clone()).collect();
        let (fate, detail) = fate(&steps, &keep);
        if let Some(f) = fate {
            row.fate = f;
            row.detail = detail;
        } else if row
            .verdict
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case("before"))
        {
            row.fate = Fate::Left;
            row.detail = "there before the leak".into();
        } else if row.kind == "tagged" {
            row.detail = "keyspill does not remove what only the tagging API finds".into();
        }
    }
    rows
}

/// What a resource's calls, in order, add up to; `None` when there were none.
fn fate(steps: &[&StepRow], non_removing: &[&str]) -> (Option<Fate>, String) {
    let removed = steps
        .iter()
        .rev()
        .find(|s| s.outcome == StepOutcome::Ok && !non_removing.contains(&s.call.as_str()));
    if let Some(s) = removed {
        return (Some(Fate::Removed), s.detail.clone());
    }
    let problem = steps.iter().rev().find(|s| s.outcome != StepOutcome::Ok);
    match (problem, steps.last()) {
        (Some(s), _) if s.outcome == StepOutcome::Failed => (Some(Fate::Failed), s.detail.clone()),
        (Some(s), _) => {
            let detail = match &s.reverified {
                Some(v) => format!("re-verified: {}", v.detail),
                None => format!(
                    "{}: the process stopped before its outcome was written",
                    s.call
                ),
            };
            (Some(Fate::OutcomeUnknown), detail)
        }
        (None, Some(s)) => (Some(Fate::Changed), s.detail.clone()),
        (None, None) => (None, String::new()),
    }
}

/// The last snapshot's checklist with the hand ticks laid over it: a tick or an untick
/// written after the snapshot is newer than what it says.
fn checklist(
    snap: Option<&Snapshot>,
    ticks: &BTreeMap<String, Option<(String, String)>>,
) -> Vec<ChecklistRow> {
    let mut rows: Vec<ChecklistRow> = snap
        .map(|s| s.checklist.as_slice())
        .unwrap_or(&[])
        .iter()
        .map(|s| ChecklistRow {
            id: s.id.clone(),
            title: s.title.clone(),
            status: s.status.clone(),
            detail: s.detail.clone(),
            by: s.by.clone(),
            at: s.at.as_deref().map(utc),
        })
        .collect();
    for (id, tick) in ticks {
        let i = match rows.iter().position(|r| &r.id == id) {
            Some(i) => i,
            None if tick.is_none() => continue,
            None => {
                rows.push(ChecklistRow {
                    id: id.clone(),
                    title: id.clone(),
                    status: "open".into(),
                    detail: String::new(),
                    by: None,
                    at: None,
                });
                rows.len() - 1
            }
        };
        let row = &mut rows[i];
        match tick {
            Some((by, at)) => {
                // A verified step stays verified; the tick says who also confirmed it.
                if row.status != "verified" {
                    row.status = "ticked".into();
                }
                row.by = Some(by.clone());
                row.at = Some(at.clone());
            }
            None => {
                if row.status == "ticked" {
                    row.status = "open".into();
                }
                row.by = None;
                row.at = None;
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(ts: &str, event: Event) -> Entry {
        Entry {
            ts: ts.into(),
            operator: "ic@host".into(),
            event,
        }
    }

    #[test]
    fn a_game_journal_gets_its_score() {
        let game = |holds: Vec<&str>| Event::Game {
            scenario: "github-leak".into(),
            seed: 7,
            attacker_holds: holds.into_iter().map(String::from).collect(),
        };
        let milestone = |m: Milestone, at: &str| Event::Milestone {
            milestone: m,
            at: at.into(),
            detail: String::new(),
        };
        let entries = vec![
            entry("2026-11-22T10:00:00Z", game(vec![])),
            entry(
                "2026-11-22T10:00:01Z",
                milestone(Milestone::Detected, "2026-11-22T10:00:00Z"),
            ),
            entry(
                "2026-11-22T10:09:00Z",
                milestone(Milestone::Contained, "2026-11-22T10:09:00Z"),
            ),
            entry(
                "2026-11-22T10:12:00Z",
                game(vec!["backdoor user backup-svc-2 with 1 active key"]),
            ),
        ];
        let r = build(&entries);
        let g = r.game.as_ref().expect("a game section");
        assert_eq!((g.scenario.as_str(), g.seed), ("github-leak", 7));
        assert_eq!(g.time_to_contain.as_deref(), Some("9 min"));
        assert_eq!(g.time_to_eradicate, None);
        assert_eq!(
            g.attacker_holds,
            ["backdoor user backup-svc-2 with 1 active key"]
        );
        let md = markdown(&r);
        assert!(md.contains("## Game day score"), "{md}");
        assert!(md.contains("Time to eradicate: not eradicated"), "{md}");
        assert!(md.contains("  - backdoor user backup-svc-2"), "{md}");
        // The start entry alone: the holdings have not been read yet.
        let r = build(&entries[..1]);
        assert!(markdown(&r).contains("not read yet"));
        // Not a game: no section.
        assert!(build(&entries[1..3]).game.is_none());
    }

    #[test]
    fn durations_read_as_words() {
        assert_eq!(duration_words(45), "45 s");
        assert_eq!(duration_words(60), "1 min");
        assert_eq!(duration_words(72 * 60), "1 h 12 min");
        assert_eq!(duration_words(2 * 3600), "2 h");
        assert_eq!(duration_words(86_400 + 3 * 3600 + 60), "1 d 3 h 1 min");
        assert_eq!(duration_words(-300), "-5 min");
    }

    #[test]
    fn times_to_contain_and_eradicate_count_from_detection() {
        let m = |milestone, at: &str| {
            entry(
                "2026-11-22T12:00:00Z",
                Event::Milestone {
                    milestone,
                    at: at.into(),
                    detail: String::new(),
                },
            )
        };
        let r = build(&[
            m(Milestone::Detected, "2026-11-22T09:14:00Z"),
            m(Milestone::Contained, "2026-11-22T10:26:30Z"),
            m(Milestone::Eradicated, "2026-11-23T11:14:00+01:00"),
            // A later entry for a milestone already reached does not move it.
            m(Milestone::Contained, "2026-11-22T11:00:00Z"),
        ]);
        assert_eq!(
            r.time_to_contain.as_ref().map(|s| s.words.as_str()),
            Some("1 h 12 min")
        );
        assert_eq!(
            r.time_to_contain.as_ref().map(|s| s.seconds),
            Some(72 * 60 + 30)
        );
        assert_eq!(
            r.time_to_eradicate.map(|s| s.words),
            Some("1 d 1 h".to_string())
        );
        assert_eq!(r.milestones.len(), 4);
        assert_eq!(r.milestones[3].at, None);
        assert!(r.milestones.iter().all(|m| !m.derived));
    }

    #[test]
    fn without_milestones_detection_and_containment_are_derived() {
        let r = build(&[
            entry(
                "2026-11-22T10:00:00Z",
                Event::Opened {
                    account: Some("123456789012".into()),
                    caller: None,
                    since: Some("2026-11-22T09:00:00Z".into()),
                    leaked_keys: vec!["AKIAAAAAAAAAAAAA1234".into()],
                },
            ),
            entry(
                "2026-11-22T10:10:00Z",
                Event::Intent {
                    action_id: "a1".into(),
                    step: 0,
                    call: "iam:UpdateAccessKey Inactive".into(),
                    target: Target {
                        user: Some("alice".into()),
                        key_id: Some("AKIAAAAAAAAAAAAA1234".into()),
                        resource: None,
                    },
                },
            ),
            entry(
                "2026-11-22T10:10:02Z",
                Event::Outcome {
                    action_id: "a1".into(),
                    step: 0,
                    ok: true,
                    detail: "verified Inactive".into(),
                    created_key: None,
                },
            ),
        ]);
        assert_eq!(r.milestones[0].at.as_deref(), Some("2026-11-22T09:00:00Z"));
        assert!(r.milestones[0].derived);
        assert_eq!(r.milestones[1].at.as_deref(), Some("2026-11-22T10:10:02Z"));
        assert!(r.milestones[1].derived);
        assert!(!r.milestones[2].derived);
        assert_eq!(
            r.time_to_contain.map(|s| s.words),
            Some("1 h 10 min".into())
        );
        assert_eq!(r.keys.len(), 1);
        assert_eq!(r.keys[0].status, "Inactive");
        assert_eq!(r.keys[0].user.as_deref(), Some("alice"));
        assert_eq!(r.actions[0].label, "(no action entry in the journal)");
        assert_eq!(r.actions[0].result, "done");
    }

    #[test]
    fn non_removing_calls_follow_the_actions() {
        let calls = non_removing_calls();
        assert!(calls.contains(&"ec2:ModifyInstanceAttribute"));
        assert!(!calls.contains(&"ec2:TerminateInstances"));
        assert!(!calls.contains(&"iam:DeleteUser"));
    }

    #[test]
    fn the_newest_incident_is_the_one_written_last() {
        let root = tempfile::tempdir().expect("tempdir");
        assert_eq!(newest_incident(root.path()), None);
        let old = root.path().join("111111111111-2026-11-20");
        let new = root.path().join("222222222222-2026-11-01");
        let empty = root.path().join("333333333333-2026-12-01");
        for d in [&old, &new, &empty] {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        std::fs::write(old.join(JOURNAL_FILE), "").expect("write");
        std::fs::write(new.join(JOURNAL_FILE), "").expect("write");
        let past = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(old.join(JOURNAL_FILE))
            .and_then(|f| f.set_modified(past))
            .expect("set mtime");
        assert_eq!(newest_incident(root.path()), Some(new));
    }
}
