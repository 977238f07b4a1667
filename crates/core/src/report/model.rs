//! The report's data: what `build` fills in and `markdown`/`json` render.

use serde::{Deserialize, Serialize};

use crate::journal::snapshot::RiskyEvent;
use crate::journal::{Milestone, Target};

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
    /// From the leak's start to detection.
    #[serde(default)]
    pub time_to_detect: Option<Span>,
    /// From detection to containment.
    pub time_to_contain: Option<Span>,
    /// From detection to eradication.
    pub time_to_eradicate: Option<Span>,
    /// From detection to the incident's closing.
    #[serde(default)]
    pub time_to_close: Option<Span>,
    pub keys: Vec<KeyRow>,
    /// The containment verdict at the last snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
    /// The attacker's footholds at the last snapshot, open first.
    #[serde(default)]
    pub footholds: Vec<crate::journal::snapshot::FootholdState>,
    pub high_risk: Vec<RiskyEvent>,
    /// High-risk events the snapshot left out (past its cap).
    #[serde(default)]
    pub high_risk_left_out: usize,
    /// The high-risk events by phase, oldest first, refused calls summed up.
    #[serde(default)]
    pub attacker: Vec<super::phases::PhaseRow>,
    /// The summary in sentences, for the top of a postmortem.
    #[serde(default)]
    pub story: String,
    /// Timeline totals from the last snapshot (events, regions, source IPs, …).
    pub timeline_totals: Vec<Total>,
    pub evidence: Vec<EvidenceRow>,
    /// The alerts the detection sources raised, once each, in the order they were journaled.
    #[serde(default)]
    pub detections: Vec<crate::detect::Alert>,
    /// What the plans kept before they changed anything (files and snapshots), and the plans
    /// that kept nothing by the operator's choice.
    #[serde(default)]
    pub kept: Kept,
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
    /// The score out of 100, its grade and its misses (`report::score`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<super::Score>,
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

/// Evidence kept before eradication.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Kept {
    /// The manifest's lines, as journaled, in the order they were kept.
    pub entries: Vec<crate::resources::evidence::ManifestEntry>,
    /// Plans the operator ran without keeping evidence.
    pub skipped: Vec<PreservationRow>,
    /// Plans that saved Lambda environment values in clear.
    pub environment_in_clear: Vec<PreservationRow>,
}

/// One plan's evidence choice, as journaled when it started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreservationRow {
    pub at: String,
    pub operator: String,
    pub action_id: String,
    /// `kind id (region)` for each target.
    pub targets: Vec<String>,
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
    /// The other account it is in (`--accounts`); absent: this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default)]
    pub name: String,
    /// The sweep's verdict (`LEAKED KEY`, `AFTER LEAK`, `TOUCHED`, `BEFORE`); `None` for a
    /// resource known only from the action log.
    pub verdict: Option<String>,
    /// Its state as last swept.
    pub state: Option<String>,
    pub created: Option<String>,
    /// Who made it (the creating event's key, its user, time and call), from the attribution
    /// in the last snapshot that listed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub made_by: Option<crate::journal::snapshot::Maker>,
    /// In the last snapshot (false: known from an earlier snapshot or the action log only).
    pub in_snapshot: bool,
    pub fate: Fate,
    /// What the deciding step said (or why nothing was done).
    #[serde(default)]
    pub detail: String,
    /// The calls made on it, in order.
    pub calls: Vec<String>,
}

impl ResourceRow {
    /// Where it is: its region, and the other account when it is not this one's.
    pub fn place(&self) -> String {
        match &self.account {
            Some(a) => format!("{}, account {a}", self.region),
            None => self.region.clone(),
        }
    }
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
    /// Cost Explorer requests the console made while it watched cost (billed, USD 0.01 each):
    /// `app::cost::Cost::requests`. Read as `lookup_requests` too, its old, wrong name.
    #[serde(alias = "lookup_requests")]
    pub cost_explorer_requests: u64,
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
