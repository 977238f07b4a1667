//! What the console knew at a moment, written into the journal so that a report can be
//! written later, elsewhere, from the journal directory alone.

use serde::{Deserialize, Serialize};

/// The incident's milestones, in the order they normally happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Milestone {
    /// The incident started (the leak's start, or when the journal was opened).
    Detected,
    /// Every leaked key inactive or deleted.
    Contained,
    /// No resource or principal of the attacker's left.
    Eradicated,
    /// The commander closed the incident.
    Closed,
}

impl Milestone {
    pub const ALL: [Milestone; 4] = [
        Milestone::Detected,
        Milestone::Contained,
        Milestone::Eradicated,
        Milestone::Closed,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Milestone::Detected => "detected",
            Milestone::Contained => "contained",
            Milestone::Eradicated => "eradicated",
            Milestone::Closed => "closed",
        }
    }
}

/// An access key as last seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyState {
    pub user: String,
    pub key_id: String,
    /// `Active`, `Inactive`, or `deleted`/`not listed` for a leaked key IAM no longer has.
    pub status: String,
    pub leaked: bool,
    /// Created after the leak started (and not by this response).
    pub new: bool,
}

/// At most this many high-risk events in a snapshot.
pub const HIGH_RISK_CAP: usize = 400;

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A high-risk timeline event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskyEvent {
    pub time: String,
    pub name: String,
    pub service: String,
    pub region: String,
    pub key: String,
    pub source_ip: String,
    pub tactic: String,
    pub severity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A resource the sweep found that the leak made or touched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceState {
    pub verdict: String,
    pub kind: String,
    pub region: String,
    pub id: String,
    /// The other account it is in (`--accounts`); absent: this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Who made it, as the attribution said when this was written: the access key of the
    /// creating CloudTrail event, the IAM user that key belongs to when known, the event's
    /// time and name. Written at every snapshot, and in the one taken when a removal is
    /// confirmed, so the report still says who made a resource once it is gone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub made_by: Option<Maker>,
}

/// The creating event of a resource, from the attribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Maker {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    pub at: String,
    /// The creating call (`RunInstances`).
    pub via: String,
}

/// The cost picture. Amounts are in cents of `unit`, so journal entries compare exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostState {
    pub unit: String,
    /// Spent from the leak start to the last day with figures.
    pub since_leak_cents: i64,
    /// Median daily cost before the leak.
    pub baseline_daily_cents: i64,
    /// Average daily cost since the leak.
    pub since_daily_cents: i64,
    /// `(service, extra per day since the leak in cents)`, biggest first.
    pub top_services: Vec<(String, i64)>,
    pub new_regions: Vec<String>,
    pub anomalies: usize,
    /// Cost Explorer requests the console made this session (billed, USD 0.01 each); older
    /// journals called it `lookup_requests`.
    #[serde(alias = "lookup_requests")]
    pub cost_explorer_requests: u64,
}

/// One checklist step as last evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepState {
    pub id: String,
    pub title: String,
    /// `verified`, `failing`, `unknown`, `ticked` or `open`.
    pub status: String,
    #[serde(default)]
    pub detail: String,
    /// Who ticked it, and when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// Everything the report needs beyond the action log, as the console last knew it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Snapshot {
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub keys: Vec<KeyState>,
    #[serde(default)]
    pub high_risk: Vec<RiskyEvent>,
    /// High-risk events not in `high_risk` (it holds at most `HIGH_RISK_CAP`: the oldest half
    /// and the newest half, so both how it began and where it stands are kept).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub high_risk_left_out: usize,
    /// Timeline totals: events, regions, source IPs, derived credentials.
    #[serde(default)]
    pub timeline: Vec<(String, String)>,
    #[serde(default)]
    pub resources: Vec<ResourceState>,
    #[serde(default)]
    pub cost: Option<CostState>,
    #[serde(default)]
    pub checklist: Vec<StepState>,
    /// The containment verdict as the header showed it (`CONTAINED`, `NOT CONTAINED (2 open)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
    /// Every foothold the model knew, open first.
    #[serde(default)]
    pub footholds: Vec<FootholdState>,
}

/// One foothold as last assessed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FootholdState {
    pub kind: String,
    pub id: String,
    #[serde(default)]
    pub principal: String,
    /// `open`, `reduced` or `closed`.
    pub state: String,
    #[serde(default)]
    pub why: String,
    /// How the model knows it is the attacker's.
    #[serde(default)]
    pub origin: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}
