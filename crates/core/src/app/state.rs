//! Everything the console knows. Only `update` changes it; `ui::render` only reads it.

use std::collections::BTreeSet;

use crate::app::plan::{Plan, Stage};
use crate::domain::{
    AccessKey, Failure, ForeignKey, Identity, KeyStatus, KeysSnapshot, LastUsed, NewKey, Timestamp,
    UserDetail,
};
use crate::journal::Outcome;

/// A pane's data with its freshness: when it was fetched, whether a fetch is running, and the
/// last failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded<T> {
    pub data: Option<T>,
    pub fetched_at: Option<Timestamp>,
    pub in_flight: bool,
    pub error: Option<Failure>,
    pub error_at: Option<Timestamp>,
    /// The sequence number of the newest applied result; older results are dropped.
    pub seq: u64,
}

impl<T> Default for Loaded<T> {
    fn default() -> Self {
        Loaded {
            data: None,
            fetched_at: None,
            in_flight: false,
            error: None,
            error_at: None,
            seq: 0,
        }
    }
}

impl<T> Loaded<T> {
    /// Applies a fetch result unless a newer one was applied already. Returns whether it was.
    /// A failure keeps the last good data on screen, next to the error.
    pub fn apply(&mut self, seq: u64, at: Timestamp, result: Result<T, Failure>) -> bool {
        if seq < self.seq {
            return false;
        }
        self.seq = seq;
        self.in_flight = false;
        match result {
            Ok(data) => {
                self.data = Some(data);
                self.fetched_at = Some(at);
                self.error = None;
                self.error_at = None;
            }
            Err(e) => {
                self.error = Some(e);
                self.error_at = Some(at);
            }
        }
        true
    }
}

/// The tabs, in their number order. Only the built ones are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Keys,
    Timeline,
    Resources,
    Cost,
    Checklist,
    Access,
}

/// In number order. Access is the sixth so the first five keep the numbers the room knows.
pub const TABS: &[Tab] = &[
    Tab::Keys,
    Tab::Timeline,
    Tab::Resources,
    Tab::Cost,
    Tab::Checklist,
    Tab::Access,
];

impl Tab {
    pub fn title(self) -> &'static str {
        match self {
            Tab::Keys => "Keys",
            Tab::Timeline => "Timeline",
            Tab::Resources => "Resources",
            Tab::Cost => "Cost",
            Tab::Checklist => "Checklist",
            Tab::Access => "Access",
        }
    }

    /// The key map scope of this tab's own keys.
    pub fn scope(self) -> crate::app::keymap::Scope {
        match self {
            Tab::Keys => crate::app::keymap::Scope::Keys,
            Tab::Timeline => crate::app::keymap::Scope::Timeline,
            Tab::Resources => crate::app::keymap::Scope::Resources,
            Tab::Cost => crate::app::keymap::Scope::Cost,
            Tab::Checklist => crate::app::keymap::Scope::Checklist,
            Tab::Access => crate::app::keymap::Scope::Access,
        }
    }
}

/// A background source of facts, each with its own poller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    Identity,
    Keys,
    Timeline,
    Resources,
    Cost,
    /// IAM's users, passwords, roles and providers, for the foothold model.
    Access,
    /// GuardDuty, Security Hub and Health: the alerts that start the incident.
    Detections,
    /// The other accounts of the organisation (`--accounts`), looked into all at once.
    Members,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Typing in the `/` filter.
    Filter,
    /// Typing in the `:` command line.
    Command(String),
    /// Typing a note for the checklist step under the cursor (`n`).
    Note(String),
    /// Typing why a foothold of unknown origin is cleared (`c` on the Access tab).
    Clear(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfirmDialog {
    pub plan: Plan,
    pub stages: Vec<Stage>,
    pub stage: usize,
    pub typed: String,
    /// Lines scrolled off the top of a long plan (arrows and PgUp/PgDn; letters are typed).
    pub scroll: u16,
    /// A removal plan with its evidence steps, kept while the operator has turned evidence
    /// off (`Tab`), so `Tab` again brings them back.
    pub with_evidence: Option<Plan>,
}

impl ConfirmDialog {
    pub fn current(&self) -> Option<&Stage> {
        self.stages.get(self.stage)
    }
    pub fn matches(&self) -> bool {
        self.current().is_some_and(|s| s.expected == self.typed)
    }
}

/// Whether the rotated secret is on screen: masked until the operator asks twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reveal {
    #[default]
    Masked,
    /// `v` once: the room is warned; `v` again shows it.
    Warned,
    Shown,
}

/// The rotated key's secret, shown once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretDialog {
    pub new_key: NewKey,
    pub old_key: String,
    /// Where `w` writes the credentials, editable.
    pub path: String,
    pub editing_path: bool,
    /// The result of the last write: the path written, or the error.
    pub written: Option<Result<String, String>>,
    pub reveal: Reveal,
    /// The user carries AWS's quarantine policy, which the new key inherits.
    pub quarantined: bool,
    /// The incident directory a relative path is written under.
    pub base: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialog {
    /// The help overlay, with its scroll offset.
    Help(u16),
    Confirm(ConfirmDialog),
    Secret(SecretDialog),
    /// `q` while an action is running.
    QuitWhileRunning,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Ok,
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub text: String,
    pub level: Level,
    pub at: Timestamp,
}

/// How long a flash message stays on screen.
pub const FLASH_SECONDS: i64 = 8;

/// An action as the action log shows it: from this session or resumed from the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRecord {
    pub id: String,
    pub at: Timestamp,
    pub operator: String,
    pub label: String,
    pub outcome: Outcome,
}

/// Where the leak's start came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinceSource {
    /// The operator's `--since` (now, or when the incident was opened).
    Flag,
    /// A start only the journal still knows (its key deleted, the timeline not read yet).
    Journal,
    /// The earliest call of a tracked key the risk rules rate medium or worse.
    FirstUse,
    /// The leaked key's creation: the earliest it can have leaked.
    KeyCreation,
}

impl SinceSource {
    /// How the header and the journal name it.
    pub fn words(self) -> &'static str {
        match self {
            SinceSource::Flag => "--since",
            SinceSource::Journal => "journal",
            SinceSource::FirstUse => "first use of the leaked key",
            SinceSource::KeyCreation => "key created",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetailView {
    pub user: String,
    pub data: Loaded<UserDetail>,
    pub scroll: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeysTab {
    pub data: Loaded<KeysSnapshot>,
    /// The key id under the cursor; the cursor follows the key when rows move.
    pub cursor: Option<String>,
    pub selected: BTreeSet<String>,
    pub filter: String,
    pub detail: Option<DetailView>,
    /// Leaked key ids IAM does not list, with their owning account when known.
    pub foreign: Vec<ForeignKey>,
}

/// Settings fixed at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub read_only: bool,
    pub profile: Option<String>,
    pub endpoint: Option<String>,
    /// `None` means every region enabled for the account.
    pub regions: Option<Vec<String>>,
    pub operator: String,
    /// The local time zone's offset, read once at start (the Timeline can show local time).
    pub local_offset: time::UtcOffset,
}

#[derive(Debug)]
pub struct State {
    pub settings: Settings,
    pub now: Timestamp,
    /// Advances with every tick; drives the spinner.
    pub frame: u64,
    pub tab: Tab,
    pub mode: Mode,
    pub dialog: Option<Dialog>,
    pub paused: bool,
    pub quit: bool,
    pub identity: Loaded<Identity>,
    pub regions: Loaded<Vec<String>>,
    pub leaked: BTreeSet<String>,
    /// Keys this incident's own rotations created: not the attacker's, though new.
    pub response_keys: BTreeSet<String>,
    pub since_flag: Option<Timestamp>,
    /// The journal's leak start and where it came from.
    pub since_journal: Option<(Timestamp, SinceSource)>,
    /// The leak start last written to the journal.
    pub since_recorded: Option<(Timestamp, SinceSource)>,
    /// When the console started, and when the incident was opened (the journal's first
    /// entry): detection unless the operator says otherwise.
    pub started: Timestamp,
    pub opened_at: Option<Timestamp>,
    pub keys: KeysTab,
    pub timeline: crate::app::timeline::TimelineTab,
    pub resources: crate::app::resources::ResourcesTab,
    pub cost: crate::app::cost::CostTab,
    pub checklist: crate::app::checklist::ChecklistTab,
    pub access: crate::app::access::AccessTab,
    /// The detection sources' last answer.
    pub detections: Loaded<crate::detect::Detections>,
    /// Alerts already written to the journal (by id).
    pub alerts_journaled: std::collections::BTreeSet<String>,
    /// Actions running now (ids).
    pub running: Vec<String>,
    pub actions: Vec<ActionRecord>,
    pub journal_dir: Option<String>,
    pub journal_error: Option<String>,
    pub flash: Option<Flash>,
    /// Rows visible in the list last drawn, for PgUp/PgDn.
    pub page_rows: usize,
    /// The terminal's height, from the last resize (0 before the first): how far the help
    /// overlay can scroll.
    pub screen_rows: u16,
}

/// Flags shown against a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags {
    pub leaked: bool,
    /// Created after the leak started, and not by this response.
    pub new: bool,
    /// Created by this response's own rotation.
    pub rotated: bool,
    pub quarantined: bool,
    pub self_key: bool,
}

/// One row of the Keys table, derived from the snapshot and the incident facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRow {
    pub key_id: String,
    /// `None` for a leaked key IAM does not list.
    pub key: Option<AccessKey>,
    pub foreign_account: Option<String>,
    pub flags: Flags,
    /// The other account of the organisation whose key it is (`--accounts`); `None`: this
    /// account's.
    pub account: Option<String>,
}

impl KeyRow {
    pub fn user(&self) -> &str {
        self.key.as_ref().map_or("", |k| k.user.as_str())
    }
    pub fn status(&self) -> Option<KeyStatus> {
        self.key.as_ref().map(|k| k.status)
    }

    /// The words the `/` filter searches.
    fn haystack(&self) -> String {
        let mut s = format!("{} {}", self.key_id, self.user());
        if let Some(a) = &self.account {
            s.push(' ');
            s.push_str(a);
        }
        if let Some(k) = &self.key {
            s.push(' ');
            s.push_str(k.status.as_str());
            if let LastUsed::At {
                service, region, ..
            } = &k.last_used
            {
                s.push_str(&format!(" {service} {region}"));
            }
        } else {
            s.push_str(" not in iam");
        }
        let f = self.flags;
        for (on, word) in [
            (f.leaked, " leaked"),
            (f.new, " new"),
            (f.rotated, " rotated"),
            (f.quarantined, " quarantined"),
            (f.self_key, " self"),
        ] {
            if on {
                s.push_str(word);
            }
        }
        s.to_lowercase()
    }
}

impl State {
    pub fn new(settings: Settings, now: Timestamp) -> Self {
        State {
            settings,
            now,
            frame: 0,
            tab: Tab::Keys,
            mode: Mode::Normal,
            dialog: None,
            paused: false,
            quit: false,
            identity: Loaded::default(),
            regions: Loaded::default(),
            leaked: BTreeSet::new(),
            response_keys: BTreeSet::new(),
            since_flag: None,
            since_journal: None,
            since_recorded: None,
            started: now,
            opened_at: None,
            keys: KeysTab::default(),
            timeline: crate::app::timeline::TimelineTab::new(),
            resources: crate::app::resources::ResourcesTab::default(),
            cost: crate::app::cost::CostTab::default(),
            checklist: crate::app::checklist::ChecklistTab::default(),
            access: crate::app::access::AccessTab::default(),
            detections: Loaded::default(),
            alerts_journaled: Default::default(),
            running: Vec::new(),
            actions: Vec::new(),
            journal_dir: None,
            journal_error: None,
            flash: None,
            page_rows: 10,
            screen_rows: 0,
        }
    }

    /// When the leak started: the first exposure the operator gave (`--since`, now or when
    /// the incident opened), else the first attacker-looking use of a tracked key the
    /// timeline shows, else what the journal recorded, else the earliest creation of a
    /// leaked key IAM knows.
    pub fn since(&self) -> Option<(Timestamp, SinceSource)> {
        if let Some(t) = self.since_flag {
            return Some((t, SinceSource::Flag));
        }
        if let Some((t, SinceSource::Flag)) = self.since_journal {
            return Some((t, SinceSource::Flag));
        }
        // First attacker-looking use marks the start only when it came before detection: a key
        // reported before anyone used it leaked earlier than its first use, so the earlier
        // sources stand (and time to detect is never negative).
        if let Some(t) = self.timeline.store.summary().first_flagged
            && t <= crate::app::times::detected(self)
        {
            return Some((t, SinceSource::FirstUse));
        }
        if let Some((t, _)) = self.since_journal {
            return Some((t, SinceSource::Journal));
        }
        let snap = self.keys.data.data.as_ref()?;
        snap.keys
            .iter()
            .filter(|k| self.leaked.contains(&k.key_id))
            .map(|k| k.created)
            .min()
            .map(|t| (t, SinceSource::KeyCreation))
    }

    pub fn self_key_id(&self) -> Option<&str> {
        self.identity.data.as_ref()?.access_key_id.as_deref()
    }

    /// The other accounts' access keys (`--accounts`), with their account's id.
    pub fn member_keys(&self) -> impl Iterator<Item = (&str, &AccessKey)> {
        self.access
            .members
            .iter()
            .flat_map(|m| m.accounts.iter())
            .filter_map(|m| Some((m.id.as_str(), &m.keys.as_ref()?.keys)))
            .flat_map(|(id, keys)| keys.iter().map(move |k| (id, k)))
    }

    /// Every row, sorted: leaked first, then new, then most recently used. The other
    /// accounts' keys (`--accounts`) are rows too, with their account.
    pub fn all_key_rows(&self) -> Vec<KeyRow> {
        let since = self.since().map(|(t, _)| t);
        let self_key = self.self_key_id();
        let theirs: BTreeSet<&str> = self.member_keys().map(|(_, k)| k.key_id.as_str()).collect();
        let mut rows: Vec<KeyRow> = Vec::new();
        if let Some(snap) = &self.keys.data.data {
            for k in &snap.keys {
                rows.push(KeyRow {
                    key_id: k.key_id.clone(),
                    flags: Flags {
                        leaked: self.leaked.contains(&k.key_id),
                        new: since.is_some_and(|s| k.created > s)
                            && !self.response_keys.contains(&k.key_id),
                        rotated: self.response_keys.contains(&k.key_id),
                        quarantined: k.quarantined == Some(true),
                        self_key: self_key == Some(k.key_id.as_str()),
                    },
                    key: Some(k.clone()),
                    foreign_account: None,
                    account: None,
                });
            }
            // Only once IAM has answered can a leaked key be said to be missing from it; a
            // leaked key another account lists is that account's row.
            for id in &self.leaked {
                if !snap.keys.iter().any(|k| &k.key_id == id) && !theirs.contains(id.as_str()) {
                    let account = self
                        .keys
                        .foreign
                        .iter()
                        .find(|f| &f.key_id == id)
                        .and_then(|f| f.account.clone());
                    rows.push(KeyRow {
                        key_id: id.clone(),
                        key: None,
                        foreign_account: account,
                        flags: Flags {
                            leaked: true,
                            ..Flags::default()
                        },
                        account: None,
                    });
                }
            }
        }
        // The other accounts' keys, as their last poll listed them.
        for (account, k) in self.member_keys() {
            rows.push(KeyRow {
                key_id: k.key_id.clone(),
                flags: Flags {
                    leaked: self.leaked.contains(&k.key_id),
                    new: since.is_some_and(|s| k.created > s),
                    quarantined: k.quarantined == Some(true),
                    ..Flags::default()
                },
                key: Some(k.clone()),
                foreign_account: None,
                account: Some(account.to_string()),
            });
        }
        rows.sort_by(|a, b| {
            b.flags
                .leaked
                .cmp(&a.flags.leaked)
                .then(b.flags.new.cmp(&a.flags.new))
                .then_with(|| last_used_key(b).cmp(&last_used_key(a)))
                .then_with(|| a.user().cmp(b.user()))
                .then_with(|| a.key_id.cmp(&b.key_id))
        });
        rows
    }

    /// The rows the filter lets through.
    pub fn key_rows(&self) -> Vec<KeyRow> {
        let needle = self.keys.filter.to_lowercase();
        let rows = self.all_key_rows();
        if needle.is_empty() {
            return rows;
        }
        rows.into_iter()
            .filter(|r| r.haystack().contains(&needle))
            .collect()
    }

    /// The index of the cursor in `rows`, falling back to the first row.
    pub fn cursor_index(&self, rows: &[KeyRow]) -> Option<usize> {
        if rows.is_empty() {
            return None;
        }
        let idx = self
            .keys
            .cursor
            .as_ref()
            .and_then(|id| rows.iter().position(|r| &r.key_id == id));
        Some(idx.unwrap_or(0))
    }

    pub fn action_running(&self) -> bool {
        !self.running.is_empty()
    }

    pub fn flash(&mut self, level: Level, text: impl Into<String>) {
        self.flash = Some(Flash {
            text: text.into(),
            level,
            at: self.now,
        });
    }
}

/// Sort key for "most recently used first": never-used and unknown keys sort last.
fn last_used_key(r: &KeyRow) -> Option<Timestamp> {
    match r.key.as_ref().map(|k| &k.last_used) {
        Some(LastUsed::At { when, .. }) => Some(*when),
        _ => None,
    }
}
