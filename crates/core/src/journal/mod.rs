//! The incident journal: one append-only JSON Lines file per incident directory. Every action
//! writes its intent before the AWS call and its outcome after, each line flushed to disk. A
//! restart reads it back to resume the incident; an intent without an outcome is reported as
//! "outcome unknown" and re-verified. Secrets never enter it: entries hold key ids, never
//! secret keys.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;

use crate::domain::Timestamp;

pub mod snapshot;

pub use snapshot::{Milestone, Snapshot};

pub const JOURNAL_FILE: &str = "journal.jsonl";

/// What an entry acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Target {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// A resource a removal step acts on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceTarget>,
    /// The other account of the organisation it is in; `None`: the console's own account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

/// A resource as the journal names it: kind (the Resources tab's word), region, id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceTarget {
    pub kind: String,
    pub region: String,
    pub id: String,
}

impl Target {
    pub fn describe(&self) -> String {
        let what = if let Some(r) = &self.resource {
            format!("{} {} ({})", r.kind, r.id, r.region)
        } else {
            match (&self.user, &self.key_id) {
                (Some(u), Some(k)) => format!("{k} ({u})"),
                (None, Some(k)) => k.clone(),
                (Some(u), None) => format!("user {u}"),
                (None, None) => "-".into(),
            }
        };
        match &self.account {
            Some(a) => format!("{what} in account {a}"),
            None => what,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// The first entry of an incident.
    Opened {
        #[serde(default)]
        account: Option<String>,
        #[serde(default)]
        caller: Option<String>,
        #[serde(default)]
        since: Option<String>,
        #[serde(default)]
        leaked_keys: Vec<String>,
    },
    /// A later start on the same journal.
    Resumed {
        #[serde(default)]
        leaked_keys: Vec<String>,
    },
    MarkedLeaked {
        key_id: String,
    },
    /// A removal, isolation or keep-only plan starts: whether its evidence is kept (the
    /// operator may skip it for the whole plan) and whether Lambda environment values are
    /// kept in clear (the operator's opt-in).
    Preservation {
        action_id: String,
        skipped: bool,
        #[serde(default)]
        environment_values: bool,
        targets: Vec<ResourceTarget>,
    },
    /// One file or snapshot kept as evidence: the manifest's line. (A field, not the entry's
    /// own fields: the manifest has a `kind` of its own.)
    Kept {
        entry: Box<crate::resources::evidence::ManifestEntry>,
    },
    /// An alert a detection source raised (GuardDuty, Security Hub, Health), written once.
    Alert {
        alert: Box<crate::detect::Alert>,
    },
    /// A timeline event the operator marked as evidence.
    Evidence {
        event_id: String,
        summary: String,
        origin: String,
    },
    /// The leak's start the console uses, written each time it moves (`--since`, the first
    /// attacker-looking use of a tracked key, or the leaked key's creation; `from` says
    /// which), so it survives the key's deletion and a restart. The last one counts.
    Since {
        since: String,
        from: String,
    },
    /// An operator-confirmed action begins; its steps follow.
    Action {
        action_id: String,
        label: String,
    },
    /// About to make one AWS call.
    Intent {
        action_id: String,
        step: u32,
        call: String,
        target: Target,
    },
    /// What that call did, and what reading the target back showed.
    Outcome {
        action_id: String,
        step: u32,
        ok: bool,
        detail: String,
        /// A key this step created (rotation), so a later start can tell it from the
        /// attacker's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        created_key: Option<String>,
    },
    /// An intent found without an outcome at start, checked against AWS.
    Reverified {
        action_id: String,
        step: u32,
        detail: String,
        /// A key the interrupted step turns out to have created (a rotation cut short by a
        /// crash): this incident's, not the attacker's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        created_key: Option<String>,
    },
    /// The operator cleared a foothold of unknown origin, with why.
    Cleared {
        foothold: String,
        reason: String,
    },
    /// What was done with a rotated key's secret: shown on screen, written to a file (its
    /// path), copied to the clipboard. Never the secret itself.
    SecretHandled {
        key_id: String,
        detail: String,
    },
    /// A new foothold opened after the incident was contained.
    Reopened {
        #[serde(default)]
        detail: String,
    },
    /// A note from the room, on the incident or on one checklist step.
    Note {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<String>,
    },
    /// A checklist step ticked (or unticked) by hand.
    Tick {
        step: String,
        done: bool,
    },
    /// The incident reached a milestone (`at` when it happened, which may be before the
    /// entry was written: detection is the leak's start).
    Milestone {
        milestone: Milestone,
        at: String,
        #[serde(default)]
        detail: String,
    },
    /// What the console knew: the last one is what a report is written from.
    Snapshot(Box<Snapshot>),
    /// A game-day exercise: its scenario and seed, and (written at each export) what the
    /// simulated attacker still held then.
    Game {
        scenario: String,
        seed: u64,
        #[serde(default)]
        attacker_holds: Vec<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub ts: String,
    pub operator: String,
    #[serde(flatten)]
    pub event: Event,
}

/// How an action ended, as the action log shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Running,
    Done(String),
    Failed(String),
    /// An intent was written but no outcome: the process stopped mid-call.
    Unknown,
    /// Outcome unknown, since checked against AWS.
    Reverified(String),
}

/// An intent without an outcome, found when reading a journal back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingIntent {
    pub action_id: String,
    pub step: u32,
    pub call: String,
    pub target: Target,
    /// When the intent was written (a key created after it is the step's own).
    pub at: Option<Timestamp>,
}

/// One action reconstructed from the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastAction {
    pub id: String,
    pub at: Option<Timestamp>,
    pub operator: String,
    pub label: String,
    pub outcome: Outcome,
}

/// The detail of a `Detected` milestone written at the leak's start, as journals did before
/// detection meant the incident's opening.
pub const OLD_DETECTED: &str = "the leak's start";

/// What a journal says, read back at start.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resumed {
    pub entries: usize,
    pub opened_at: Option<Timestamp>,
    /// The leak's start: the last `Since` entry, else the one given when the incident opened.
    pub since: Option<Timestamp>,
    /// Where that start came from, in words (`--since` for an operator's).
    pub since_from: Option<String>,
    pub leaked_keys: Vec<String>,
    pub actions: Vec<PastAction>,
    pub pending: Vec<PendingIntent>,
    /// Keys created by this incident's own actions (rotations).
    pub created_keys: Vec<String>,
    /// A last line cut off mid-write (a crash), reported and not parsed.
    pub torn_tail: Option<String>,
    /// Lines that are not journal entries, with the reason.
    pub bad_lines: Vec<String>,
    /// Checklist steps ticked by hand and not unticked since.
    pub ticks: BTreeMap<String, TickEntry>,
    pub notes: Vec<NoteEntry>,
    /// Evidence kept by this incident's plans (the manifest's lines, as journaled).
    pub kept: Vec<crate::resources::evidence::ManifestEntry>,
    /// Each milestone reached, with when (RFC 3339).
    pub milestones: BTreeMap<Milestone, String>,
    /// Footholds the operator cleared: handle → who, when and why.
    pub cleared: BTreeMap<String, crate::access::Cleared>,
    /// Alerts already journaled (by id), so a restart does not write them again.
    pub alerts: Vec<String>,
}

/// Who ticked a step by hand, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TickEntry {
    pub at: String,
    pub operator: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteEntry {
    pub at: String,
    pub operator: String,
    pub step: Option<String>,
    pub text: String,
}

pub fn format_ts(t: Timestamp) -> String {
    t.format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

pub fn parse_ts(s: &str) -> Option<Timestamp> {
    Timestamp::parse(s, &Rfc3339).ok()
}

/// The open journal. Writes are whole lines, each followed by `sync_data`.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    file: File,
    operator: String,
}

impl Journal {
    /// Opens (creating if needed) the journal in `dir` and reads back what it holds.
    pub fn open(dir: &Path, operator: &str) -> std::io::Result<(Journal, Resumed)> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(JOURNAL_FILE);
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)?;
        let mut raw = Vec::new();
        file.read_to_end(&mut raw)?;
        let resumed = read_back(&raw);
        if !raw.is_empty() && !raw.ends_with(b"\n") {
            // Keep the torn fragment as it is (it is evidence) and start a fresh line after it.
            file.write_all(b"\n")?;
            file.sync_data()?;
        }
        Ok((
            Journal {
                dir: dir.to_path_buf(),
                file,
                operator: operator.to_string(),
            },
            resumed,
        ))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends one entry and flushes it to disk before returning.
    pub fn append(&mut self, at: Timestamp, event: Event) -> std::io::Result<()> {
        let entry = Entry {
            ts: format_ts(at),
            operator: self.operator.clone(),
            event,
        };
        let mut line = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.sync_data()
    }
}

/// The default incident directory: one per account and UTC day under the state directory.
pub fn default_dir(account: Option<&str>, day: Timestamp) -> PathBuf {
    let base = dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .unwrap_or_else(std::env::temp_dir);
    base.join("keyspill").join("incidents").join(format!(
        "{}-{}",
        account.unwrap_or("unknown-account"),
        crate::fmt::iso_day(day.date())
    ))
}

/// Reads a journal's bytes back into what the console needs to resume.
pub fn read_back(raw: &[u8]) -> Resumed {
    let mut out = Resumed::default();
    let text = String::from_utf8_lossy(raw);
    let mut lines: Vec<&str> = text.split('\n').collect();
    // The piece after the last newline is either empty or a line cut off mid-write.
    if let Some(last) = lines.pop()
        && !last.trim().is_empty()
    {
        out.torn_tail = Some(last.chars().take(120).collect());
    }

    let mut actions: BTreeMap<String, PastAction> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut intents: BTreeMap<(String, u32), PendingIntent> = BTreeMap::new();
    let mut step_results: BTreeMap<String, Vec<(bool, String)>> = BTreeMap::new();
    let mut reverified: BTreeMap<String, Vec<String>> = BTreeMap::new();

    for (n, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let entry: Entry = match serde_json::from_str(line) {
            Ok(e) => e,
            Err(e) => {
                out.bad_lines.push(format!("line {}: {e}", n + 1));
                continue;
            }
        };
        out.entries += 1;
        let at = parse_ts(&entry.ts);
        match entry.event {
            Event::Opened {
                since, leaked_keys, ..
            } => {
                out.opened_at = out.opened_at.or(at);
                if let Some(s) = since.as_deref().and_then(parse_ts)
                    && out.since_from.as_deref().is_none_or(|f| f == "--since")
                {
                    out.since = Some(s);
                    out.since_from = Some("--since".into());
                }
                push_unique(&mut out.leaked_keys, leaked_keys);
            }
            Event::Resumed { leaked_keys } => push_unique(&mut out.leaked_keys, leaked_keys),
            Event::MarkedLeaked { key_id } => push_unique(&mut out.leaked_keys, vec![key_id]),
            Event::Kept { entry } => out.kept.push(*entry),
            Event::Evidence { .. } | Event::Preservation { .. } => {}
            Event::Alert { alert } => out.alerts.push(alert.id.clone()),
            Event::Since { since, from } => {
                // The last one counts: the console records the start again when it moves.
                if let Some(s) = parse_ts(&since) {
                    out.since = Some(s);
                    out.since_from = Some(from);
                }
            }
            Event::Action { action_id, label } => {
                order.push(action_id.clone());
                actions.insert(
                    action_id.clone(),
                    PastAction {
                        id: action_id,
                        at,
                        operator: entry.operator,
                        label,
                        outcome: Outcome::Running,
                    },
                );
            }
            Event::Intent {
                action_id,
                step,
                call,
                target,
            } => {
                intents.insert(
                    (action_id.clone(), step),
                    PendingIntent {
                        action_id,
                        step,
                        call,
                        target,
                        at,
                    },
                );
            }
            Event::Outcome {
                action_id,
                step,
                ok,
                detail,
                created_key,
            } => {
                intents.remove(&(action_id.clone(), step));
                push_unique(&mut out.created_keys, created_key.into_iter().collect());
                step_results
                    .entry(action_id)
                    .or_default()
                    .push((ok, detail));
            }
            Event::Reverified {
                action_id,
                step,
                detail,
                created_key,
            } => {
                push_unique(&mut out.created_keys, created_key.into_iter().collect());
                intents.remove(&(action_id.clone(), step));
                reverified.entry(action_id).or_default().push(detail);
            }
            Event::Note { text, step } => out.notes.push(NoteEntry {
                at: entry.ts,
                operator: entry.operator,
                step,
                text,
            }),
            Event::Tick { step, done } => {
                if done {
                    out.ticks.insert(
                        step,
                        TickEntry {
                            at: entry.ts,
                            operator: entry.operator,
                        },
                    );
                } else {
                    out.ticks.remove(&step);
                }
            }
            Event::Milestone {
                milestone: Milestone::Detected,
                at,
                detail,
            } => {
                // Detection is set again with `:detected`: the last entry counts. An entry
                // at the leak's start is the old meaning of the milestone, not a detection.
                if detail != OLD_DETECTED {
                    out.milestones.insert(Milestone::Detected, at);
                }
            }
            Event::Milestone { milestone, at, .. } => {
                // The first time a milestone was reached is the one that counts.
                out.milestones.entry(milestone).or_insert(at);
            }
            Event::Reopened { .. } => {
                out.milestones.remove(&Milestone::Contained);
                out.milestones.remove(&Milestone::Eradicated);
            }
            Event::Cleared { foothold, reason } => {
                out.cleared.insert(
                    foothold,
                    crate::access::Cleared {
                        by: entry.operator,
                        at: entry.ts,
                        reason,
                    },
                );
            }
            Event::Snapshot(_) | Event::Game { .. } | Event::SecretHandled { .. } => {}
        }
    }

    for id in &order {
        let Some(mut action) = actions.remove(id) else {
            continue;
        };
        let pending = intents.keys().any(|(a, _)| a == id);
        let results = step_results.remove(id).unwrap_or_default();
        action.outcome = if pending {
            Outcome::Unknown
        } else if let Some(details) = reverified.remove(id) {
            Outcome::Reverified(details.join("; "))
        } else if let Some((_, detail)) = results.iter().find(|(ok, _)| !ok) {
            Outcome::Failed(detail.clone())
        } else if results.is_empty() {
            // Planned, but the process stopped before the first call.
            Outcome::Failed("stopped before any call was made".into())
        } else {
            Outcome::Done(
                results
                    .iter()
                    .map(|(_, d)| d.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        };
        out.actions.push(action);
    }
    out.pending = intents.into_values().collect();
    out
}

/// A journal's bytes as entries, leniently, for readers that want every entry (the report):
/// `(entries, torn last line, bad lines with the reason)`, split the way `read_back` splits.
pub fn entries(raw: &[u8]) -> (Vec<Entry>, Option<String>, Vec<String>) {
    let text = String::from_utf8_lossy(raw);
    let mut lines: Vec<&str> = text.split('\n').collect();
    let torn = lines
        .pop()
        .filter(|last| !last.trim().is_empty())
        .map(|last| last.chars().take(120).collect());
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Entry>(line) {
            Ok(e) => out.push(e),
            Err(e) => bad.push(format!("line {}: {e}", n + 1)),
        }
    }
    (out, torn, bad)
}

fn push_unique(into: &mut Vec<String>, items: Vec<String>) {
    for i in items {
        if !into.contains(&i) {
            into.push(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn t() -> Timestamp {
        datetime!(2026-11-22 10:00:00 UTC)
    }

    #[test]
    fn writes_and_reads_back_a_complete_action() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut j, resumed) = Journal::open(dir.path(), "ic@host").expect("open");
        assert_eq!(resumed, Resumed::default());
        j.append(
            t(),
            Event::Opened {
                account: Some("123456789012".into()),
                caller: None,
                since: Some("2026-11-21T08:00:00Z".into()),
                leaked_keys: vec!["AKIAAAAAAAAAAAAA1234".into()],
            },
        )
        .expect("append");
        j.append(
            t(),
            Event::Action {
                action_id: "a1".into(),
                label: "disable AKIA…1234 (alice)".into(),
            },
        )
        .expect("append");
        j.append(
            t(),
            Event::Intent {
                action_id: "a1".into(),
                step: 0,
                call: "iam:UpdateAccessKey Inactive".into(),
                target: Target {
                    user: Some("alice".into()),
                    key_id: Some("AKIAAAAAAAAAAAAA1234".into()),
                    resource: None,
                    account: None,
                },
            },
        )
        .expect("append");
        j.append(
            t(),
            Event::Outcome {
                action_id: "a1".into(),
                step: 0,
                ok: true,
                detail: "verified Inactive".into(),
                created_key: None,
            },
        )
        .expect("append");
        drop(j);

        let (_j, r) = Journal::open(dir.path(), "ic@host").expect("reopen");
        assert_eq!(r.entries, 4);
        assert_eq!(r.since, Some(datetime!(2026-11-21 08:00:00 UTC)));
        assert_eq!(r.leaked_keys, vec!["AKIAAAAAAAAAAAAA1234".to_string()]);
        assert_eq!(r.actions.len(), 1);
        assert_eq!(
            r.actions[0].outcome,
            Outcome::Done("verified Inactive".into())
        );
        assert!(r.pending.is_empty());
        assert!(r.torn_tail.is_none());
    }

    #[test]
    fn an_intent_without_outcome_is_pending() {
        let raw = concat!(
            r#"{"ts":"2026-11-22T10:00:00Z","operator":"x","kind":"action","action_id":"a1","label":"disable"}"#,
            "\n",
            r#"{"ts":"2026-11-22T10:00:00Z","operator":"x","kind":"intent","action_id":"a1","step":0,"call":"iam:UpdateAccessKey Inactive","target":{"user":"alice","key_id":"AKIAAAAAAAAAAAAA1234"}}"#,
            "\n"
        );
        let r = read_back(raw.as_bytes());
        assert_eq!(r.actions[0].outcome, Outcome::Unknown);
        assert_eq!(r.pending.len(), 1);
        assert_eq!(
            r.pending[0].target.key_id.as_deref(),
            Some("AKIAAAAAAAAAAAAA1234")
        );
    }

    #[test]
    fn the_last_recorded_leak_start_is_read_back_else_the_one_given_at_opening() {
        let since = concat!(
            r#"{"ts":"2026-11-22T10:00:00Z","operator":"x","kind":"since","since":"2026-11-21T08:00:00Z","from":"leaked key created"}"#,
            "\n"
        );
        let r = read_back(since.as_bytes());
        assert_eq!(r.since, Some(datetime!(2026-11-21 08:00:00 UTC)));
        let both = format!(
            "{}\n{since}",
            r#"{"ts":"2026-11-22T09:00:00Z","operator":"x","kind":"opened","since":"2026-11-20T00:00:00Z"}"#
        );
        let r = read_back(both.as_bytes());
        assert_eq!(r.since, Some(datetime!(2026-11-21 08:00:00 UTC)));
        assert_eq!(r.since_from.as_deref(), Some("leaked key created"));
        let opened_only = concat!(
            r#"{"ts":"2026-11-22T09:00:00Z","operator":"x","kind":"opened","since":"2026-11-20T00:00:00Z"}"#,
            "\n"
        );
        let r = read_back(opened_only.as_bytes());
        assert_eq!(r.since, Some(datetime!(2026-11-20 00:00:00 UTC)));
        assert_eq!(r.since_from.as_deref(), Some("--since"));
    }

    #[test]
    fn the_last_detection_counts_and_the_old_meaning_is_ignored() {
        let raw = concat!(
            r#"{"ts":"2026-11-22T09:00:00Z","operator":"x","kind":"milestone","milestone":"detected","at":"2026-11-21T08:00:00Z","detail":"the leak's start"}"#,
            "\n",
        );
        assert!(read_back(raw.as_bytes()).milestones.is_empty());
        let two = format!(
            "{raw}{}\n{}\n",
            r#"{"ts":"2026-11-22T09:00:01Z","operator":"x","kind":"milestone","milestone":"detected","at":"2026-11-22T09:00:00Z","detail":"incident opened"}"#,
            r#"{"ts":"2026-11-22T09:30:00Z","operator":"x","kind":"milestone","milestone":"detected","at":"2026-11-22T08:40:00Z","detail":"set by x"}"#
        );
        assert_eq!(
            read_back(two.as_bytes())
                .milestones
                .get(&Milestone::Detected)
                .map(String::as_str),
            Some("2026-11-22T08:40:00Z")
        );
    }

    #[test]
    fn a_torn_last_line_is_reported_not_parsed() {
        let raw = concat!(
            r#"{"ts":"2026-11-22T10:00:00Z","operator":"x","kind":"marked_leaked","key_id":"AKIAAAAAAAAAAAAA1234"}"#,
            "\n",
            r#"{"ts":"2026-11-22T10:00:01Z","operator":"x","kind":"marked_le"#
        );
        let r = read_back(raw.as_bytes());
        assert_eq!(r.entries, 1);
        assert!(r.torn_tail.is_some());
        assert!(r.bad_lines.is_empty());
    }

    #[test]
    fn reopening_after_a_torn_line_keeps_it_and_appends_cleanly() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(JOURNAL_FILE), b"{\"ts\":\"2026").expect("write");
        let (mut j, r) = Journal::open(dir.path(), "x").expect("open");
        assert!(r.torn_tail.is_some());
        j.append(
            t(),
            Event::MarkedLeaked {
                key_id: "AKIAAAAAAAAAAAAA1234".into(),
            },
        )
        .expect("append");
        drop(j);
        let raw = std::fs::read(dir.path().join(JOURNAL_FILE)).expect("read");
        let r = read_back(&raw);
        assert_eq!(r.entries, 1);
        assert_eq!(r.bad_lines.len(), 1, "the old fragment is kept and counted");
        assert!(r.torn_tail.is_none());
    }

    #[test]
    fn reverified_intents_are_no_longer_pending() {
        let raw = concat!(
            r#"{"ts":"2026-11-22T10:00:00Z","operator":"x","kind":"action","action_id":"a1","label":"disable"}"#,
            "\n",
            r#"{"ts":"2026-11-22T10:00:00Z","operator":"x","kind":"intent","action_id":"a1","step":0,"call":"c","target":{}}"#,
            "\n",
            r#"{"ts":"2026-11-22T10:05:00Z","operator":"x","kind":"reverified","action_id":"a1","step":0,"detail":"key is Inactive"}"#,
            "\n"
        );
        let r = read_back(raw.as_bytes());
        assert!(r.pending.is_empty());
        assert_eq!(
            r.actions[0].outcome,
            Outcome::Reverified("key is Inactive".into())
        );
    }
}
