//! Messages into `update` and the effects it asks the runtime to carry out.

use crossterm::event::KeyEvent;

use crate::app::plan::Plan;
use crate::app::state::Source;
use crate::domain::{Failure, Identity, KeyStatus, KeysSnapshot, NewKey, Timestamp, UserDetail};
use crate::journal::{Event, PendingIntent, Resumed};

#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Key(KeyEvent),
    /// The clock moved on; also advances the spinner.
    Tick(Timestamp),
    /// The terminal changed size: draw again (and page by the new height).
    Resize {
        height: u16,
    },
    FetchStarted(Source),
    Identity {
        seq: u64,
        at: Timestamp,
        result: Result<Identity, Failure>,
    },
    Regions {
        seq: u64,
        at: Timestamp,
        result: Result<Vec<String>, Failure>,
    },
    Keys {
        seq: u64,
        at: Timestamp,
        result: Result<KeysSnapshot, Failure>,
    },
    /// One read of the detection sources (GuardDuty, Security Hub, Health).
    Detections {
        seq: u64,
        at: Timestamp,
        result: Result<crate::detect::Detections, Failure>,
    },
    /// One poll of IAM's users, passwords, roles and providers (the foothold model's input).
    Access {
        seq: u64,
        at: Timestamp,
        result: Result<crate::access::AccessSnapshot, Failure>,
    },
    /// A poll of the organisation's other accounts (`--accounts`).
    Members(crate::app::access::Members),
    /// `sts:GetAccessKeyInfo` for a leaked key IAM does not list: the owning account.
    KeyInfo {
        key_id: String,
        result: Result<String, Failure>,
    },
    UserDetail {
        user: String,
        at: Timestamp,
        result: Result<UserDetail, Failure>,
    },
    JournalOpened(Result<JournalOpened, String>),
    ActionStarted {
        id: String,
        label: String,
        at: Timestamp,
    },
    ActionFinished {
        id: String,
        at: Timestamp,
        report: ActionReport,
    },
    /// A rotation created a key: its secret is shown once.
    SecretCreated {
        new_key: NewKey,
        old_key: String,
    },
    SecretWritten(Result<String, String>),
    /// `:export` finished: the report's path, or why not.
    Exported(Result<String, String>),
    /// Newly found timeline events (parsed, risk-rated).
    TimelineEvents {
        at: Timestamp,
        events: Vec<crate::timeline::Event>,
    },
    /// The tracked keys as the chain tracker knows them: key, chain in words, its branch.
    TimelineChains(Vec<(String, String, Vec<String>)>),
    TimelineProgress(crate::app::timeline::Progress),
    /// A resource sweep is starting over these regions (IAM is swept too).
    ResourcesStarted {
        seq: u64,
        at: Timestamp,
        regions: Vec<String>,
    },
    /// One region's inventory (or IAM's, region `global`).
    ResourcesRegion {
        seq: u64,
        at: Timestamp,
        sweep: crate::resources::RegionSweep,
    },
    ResourcesDone {
        seq: u64,
        at: Timestamp,
    },
    /// What an IAM user or role carries (read for the removal plan).
    ResourceParts {
        target: crate::resources::ResourceRef,
        parts: crate::resources::Parts,
    },
    /// A removal step changed state.
    RemovalStep {
        index: usize,
        state: crate::resources::plan::StepState,
    },
    /// A preservation step kept these files and snapshots (as written to the manifest and
    /// the journal).
    EvidenceKept(Vec<crate::resources::evidence::ManifestEntry>),
    /// A Cost Explorer refresh finished: the daily figures and the anomalies.
    CostFetched {
        seq: u64,
        at: Timestamp,
        window: (time::Date, time::Date),
        data: Result<crate::cost::model::CostData, Failure>,
        anomalies: Result<crate::cost::model::Anomalies, Failure>,
        /// Cost Explorer requests made this session so far.
        requests: u64,
    },
    /// IAM's policy simulator answered for a principal (or could not).
    Simulated {
        arn: String,
        at: Timestamp,
        result: Result<Vec<(String, crate::access::authz::Simulated)>, Failure>,
    },
    /// An intent found without outcome at start has been checked against AWS.
    Reverified {
        action_id: String,
        detail: String,
        /// A key the interrupted step turns out to have created (a rotation cut short): the
        /// response's own, never to be taken for the attacker's.
        created_key: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalOpened {
    pub dir: String,
    pub resumed: Resumed,
}

/// What an action did, and what IAM said when read back afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionReport {
    pub ok: bool,
    pub summary: String,
    /// The keys read back: the console's own account's, never another's.
    pub observed: Vec<ObservedKeys>,
    /// The other account the action ran in (`Plan::InAccount`); `None`: this one.
    pub account: Option<String>,
}

/// A user's keys as read back after an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedKeys {
    pub user: String,
    pub keys: Vec<(String, KeyStatus)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Refresh(Source),
    SetPaused(bool),
    FetchUserDetail(String),
    LookupKeyInfo(String),
    /// Run a confirmed plan. Only `update::execute` creates this, behind the read-only gate.
    Execute(Plan),
    /// Write a rotated key's credentials to a new 0600 file. `path` is as the operator typed
    /// it (relative to `base`, the incident directory, or `~/…`); the runtime resolves and
    /// checks it (`secret::check_path`) before writing, and answers with `Msg::SecretWritten`.
    WriteSecret {
        path: String,
        base: Option<String>,
        key: NewKey,
    },
    Journal(Event),
    /// Put this text on the operator's clipboard (OSC 52, written to the terminal). Held as a
    /// `Secret` so that a `{:?}` of the effect never prints it, whatever it is.
    Copy {
        /// What is copied, in words, for the log.
        what: String,
        text: crate::domain::Secret,
    },
    /// Follow one more leaked key in the timeline.
    Track(String),
    Reverify(Vec<PendingIntent>),
    /// Read the parts of these IAM principals.
    FetchParts(Vec<crate::resources::ResourceRef>),
    /// Write this snapshot to the journal, then the report into the incident directory.
    Export(Box<crate::journal::Snapshot>),
    /// Ask IAM's policy simulator what this principal may do.
    Simulate {
        arn: String,
        actions: Vec<String>,
    },
}
