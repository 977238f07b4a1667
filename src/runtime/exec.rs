//! Carries out confirmed plans. Every AWS call is bracketed by journal lines: the intent is
//! flushed to disk before the call, the outcome (with what IAM says when read back) after it.

use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use futures_util::stream;
use tokio::sync::mpsc::UnboundedSender;

use keyspill_aws::poll::Backoff;
use keyspill_aws::{Aws, AwsError, ErrorKind, iam, resources};
use keyspill_core::access::{Principal, Trusted, policy};
use keyspill_core::app::msg::{ActionReport, Msg, ObservedKeys};
use keyspill_core::app::plan::{KeyRef, Plan, REVOKE_POLICY_NAME};
use keyspill_core::domain::{KeyStatus, Timestamp, key_short};
use keyspill_core::journal::{self, Event, Journal, PendingIntent, ResourceTarget, Target};
use keyspill_core::resources::evidence::{Keep, Kept, ManifestEntry};
use keyspill_core::resources::plan::{self as removal, RemovalPlan, StepState};
use keyspill_core::resources::{Action, GLOBAL, Kind, ResourceRef};

use crate::runtime::evidence::{self, Store};

/// The journal as the executor shares it; `None` when it could not be opened.
pub type SharedJournal = Option<Arc<Mutex<Journal>>>;

fn now() -> Timestamp {
    time::OffsetDateTime::now_utc()
}

/// Appends an entry; a failure is logged and reported in the outcome text, never fatal.
fn record(journal: &SharedJournal, event: Event) -> Option<String> {
    let j = journal.as_ref()?;
    let mut guard = match j.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    match guard.append(now(), event) {
        Ok(()) => None,
        Err(e) => {
            tracing::error!("journal write failed: {e}");
            Some(format!("journal write failed: {e}"))
        }
    }
}

pub fn new_action_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let ms = now().unix_timestamp_nanos() / 1_000_000;
    format!("{ms:x}-{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

struct Run<'a> {
    aws: &'a Aws,
    journal: &'a SharedJournal,
    action_id: String,
    step: u32,
    details: Vec<String>,
    ok: bool,
    observed: Vec<ObservedKeys>,
    /// The other account it acts in; `None`: the console's own.
    account: Option<String>,
}

impl Run<'_> {
    fn intent(&mut self, call: &str, mut target: Target) -> u32 {
        target.account.clone_from(&self.account);
        let step = self.step;
        self.step += 1;
        if let Some(e) = record(
            self.journal,
            Event::Intent {
                action_id: self.action_id.clone(),
                step,
                call: call.to_string(),
                target,
            },
        ) {
            self.details.push(e);
        }
        step
    }

    fn outcome(&mut self, step: u32, ok: bool, detail: String) {
        self.outcome_with_key(step, ok, detail, None);
    }

    fn outcome_with_key(&mut self, step: u32, ok: bool, detail: String, created: Option<String>) {
        if let Some(e) = record(
            self.journal,
            Event::Outcome {
                action_id: self.action_id.clone(),
                step,
                ok,
                detail: detail.clone(),
                created_key: created,
            },
        ) {
            self.details.push(e);
        }
        self.ok &= ok;
        self.details.push(detail);
    }

    /// Reads a user's keys back and remembers them for the screen.
    async fn read_back(&mut self, user: &str) -> Result<Vec<(String, KeyStatus)>, AwsError> {
        let keys = iam::key_statuses(self.aws, user).await?;
        self.observed.retain(|o| o.user != user);
        self.observed.push(ObservedKeys {
            user: user.to_string(),
            keys: keys.clone(),
        });
        Ok(keys)
    }

    /// What IAM says about the key now, before acting on it: the dialog may have been open a
    /// while, and someone (a colleague, the attacker) may have changed the key meanwhile.
    async fn reread(&mut self, k: &KeyRef) -> Reread {
        match self.read_back(&k.user).await {
            Ok(keys) => match keys.iter().find(|(id, _)| id == &k.key_id) {
                Some((_, s)) => Reread::Listed(*s),
                None => Reread::Gone,
            },
            Err(e) => Reread::Unread(e),
        }
    }

    async fn set_status(&mut self, k: &KeyRef, to: KeyStatus) {
        let call = format!("iam:UpdateAccessKey {to}");
        let step = self.intent(&call, key_target(k));
        let short = key_short(&k.key_id);
        let mut note = String::new();
        match self.reread(k).await {
            Reread::Gone => {
                let detail = format!("{short}: no longer listed by IAM; nothing sent");
                self.outcome(step, false, detail);
                return;
            }
            Reread::Listed(now) if now == to => {
                let why = if now == k.status {
                    String::new()
                } else {
                    ": changed since the dialog opened".to_string()
                };
                self.outcome(step, true, format!("{short}: already {now}{why}"));
                return;
            }
            Reread::Listed(now) if now != k.status => {
                note = format!(
                    "changed since the dialog opened: was {}, now {now}; ",
                    k.status
                );
            }
            Reread::Listed(_) => {}
            Reread::Unread(e) => note = format!("could not re-read it first ({e}); "),
        }
        let result = iam::set_key_status(self.aws, &k.user, &k.key_id, to).await;
        let (ok, detail) = match result {
            // No answer: IAM may have applied it. What IAM says now is the outcome.
            Err(e) if unanswered(&e) => match self.read_back(&k.user).await {
                Ok(keys) => match keys.iter().find(|(id, _)| id == &k.key_id) {
                    Some((_, s)) if *s == to => (
                        true,
                        format!("{short}: the reply was lost ({e}); read back: verified {s}"),
                    ),
                    Some((_, s)) => (false, format!("{short}: {e}; IAM still says {s}")),
                    None => (false, format!("{short}: {e}; no longer listed by IAM")),
                },
                Err(r) => (
                    false,
                    format!("{short}: outcome unknown: {e}; reading it back failed: {r}"),
                ),
            },
            Err(e) => (false, format!("{short}: {e}")),
            Ok(()) => match self.read_back(&k.user).await {
                Ok(keys) => match keys.iter().find(|(id, _)| id == &k.key_id) {
                    Some((_, s)) if *s == to => (true, format!("{short} verified {s}")),
                    Some((_, s)) => (false, format!("{short}: IAM still says {s}")),
                    None => (false, format!("{short}: no longer listed by IAM")),
                },
                Err(e) => (
                    false,
                    format!("{short}: changed, but reading it back failed: {e}"),
                ),
            },
        };
        self.outcome(step, ok, format!("{note}{detail}"));
    }

    async fn delete(&mut self, k: &KeyRef) {
        let step = self.intent("iam:DeleteAccessKey", key_target(k));
        let short = key_short(&k.key_id);
        let mut note = String::new();
        match self.reread(k).await {
            Reread::Gone => {
                self.outcome(
                    step,
                    true,
                    format!("{short}: already deleted; nothing sent"),
                );
                return;
            }
            Reread::Listed(now) if now != k.status => {
                note = format!(
                    "changed since the dialog opened: was {}, now {now}; ",
                    k.status
                );
            }
            Reread::Listed(_) => {}
            Reread::Unread(e) => note = format!("could not re-read it first ({e}); "),
        }
        let (ok, detail) = match iam::delete_key(self.aws, &k.user, &k.key_id).await {
            Err(e) if unanswered(&e) => match self.read_back(&k.user).await {
                Ok(keys) if keys.iter().any(|(id, _)| id == &k.key_id) => {
                    (false, format!("{short}: {e}; still listed by IAM"))
                }
                Ok(_) => (
                    true,
                    format!("{short}: the reply was lost ({e}); read back: verified deleted"),
                ),
                Err(r) => (
                    false,
                    format!("{short}: outcome unknown: {e}; reading it back failed: {r}"),
                ),
            },
            Err(e) => (false, format!("{short}: {e}")),
            Ok(()) => match self.read_back(&k.user).await {
                Ok(keys) if keys.iter().any(|(id, _)| id == &k.key_id) => {
                    (false, format!("{short}: still listed by IAM"))
                }
                Ok(_) => (true, format!("{short} verified deleted")),
                Err(e) => (
                    false,
                    format!("{short}: deleted, but reading back failed: {e}"),
                ),
            },
        };
        self.outcome(step, ok, format!("{note}{detail}"));
    }

    /// Attaches the revocation to one user or role, then reads it back.
    async fn revoke(&mut self, principal: &Principal, cutoff: &str) {
        let call = match principal {
            Principal::User(_) => "iam:PutUserPolicy",
            Principal::Role(_) => "iam:PutRolePolicy",
        };
        let step = self.intent(
            &format!("{call} {REVOKE_POLICY_NAME}"),
            principal_target(principal),
        );
        let doc = Plan::revoke_policy_document(cutoff);
        let put = match principal {
            Principal::User(u) => {
                iam::put_inline_policy(self.aws, u, REVOKE_POLICY_NAME, &doc).await
            }
            Principal::Role(r) => iam::put_role_policy(self.aws, r, REVOKE_POLICY_NAME, &doc).await,
        };
        let (ok, detail) = match put {
            Err(e) if !unanswered(&e) => (false, format!("{principal}: {e}")),
            // Attached, or no answer (it may have been): what IAM holds now decides.
            put => {
                let lost = put
                    .err()
                    .map(|e| format!("the reply was lost ({e}); read back: "))
                    .unwrap_or_default();
                let held = match principal {
                    Principal::User(u) => iam::inline_policy(self.aws, u, REVOKE_POLICY_NAME).await,
                    Principal::Role(r) => {
                        iam::role_inline_policy(self.aws, r, REVOKE_POLICY_NAME).await
                    }
                };
                match held {
                    Ok(Some(d)) if denies_before(&d, cutoff) => (
                        true,
                        format!(
                            "{lost}verified: {principal} denies sessions issued before {cutoff}"
                        ),
                    ),
                    Ok(Some(_)) => (
                        false,
                        format!("{lost}{REVOKE_POLICY_NAME} on {principal} has another cutoff"),
                    ),
                    Ok(None) => (
                        false,
                        format!("{lost}{REVOKE_POLICY_NAME} not found on {principal}"),
                    ),
                    Err(e) if lost.is_empty() => (
                        false,
                        format!("{principal}: attached, but reading it back failed: {e}"),
                    ),
                    Err(e) => (
                        false,
                        format!("{principal}: outcome unknown: {lost}failed: {e}"),
                    ),
                }
            }
        };
        self.outcome(step, ok, detail);
    }

    /// Deletes a user's console password, then reads it back.
    async fn delete_password(&mut self, user: &str) {
        let step = self.intent(
            "iam:DeleteLoginProfile",
            Target {
                user: Some(user.to_string()),
                ..Target::default()
            },
        );
        let (ok, detail) = match iam::delete_login_profile(self.aws, user).await {
            // IAM says there is none: nobody can sign in with it, which is what was asked.
            Err(e) if e.is_not_found() => (
                true,
                format!("user {user} has no console password (already gone)"),
            ),
            Err(e) if !unanswered(&e) => (false, format!("user {user}: {e}")),
            deleted => {
                let lost = deleted
                    .err()
                    .map(|e| format!("the reply was lost ({e}); read back: "))
                    .unwrap_or_default();
                match iam::login_profile(self.aws, user).await {
                    Ok(None) => (
                        true,
                        format!("{lost}verified: user {user} has no console password"),
                    ),
                    Ok(Some(_)) => (
                        false,
                        format!("{lost}user {user} still has a console password"),
                    ),
                    Err(e) if lost.is_empty() => (
                        false,
                        format!("user {user}: deleted, but reading it back failed: {e}"),
                    ),
                    Err(e) => (
                        false,
                        format!("user {user}: outcome unknown: {lost}failed: {e}"),
                    ),
                }
            }
        };
        self.outcome(step, ok, detail);
    }

    /// Replaces a role's trust policy with `after`, but only while it is still `before` (what
    /// the operator saw in the dialog); then reads it back.
    async fn untrust(&mut self, role: &str, before: &str, after: &str) {
        let step = self.intent("iam:UpdateAssumeRolePolicy", role_target(role));
        let now = match iam::role_trust(self.aws, role).await {
            Ok(d) => d,
            Err(e) => {
                let detail =
                    format!("could not read the trust policy of role {role}: {e}; nothing written");
                self.outcome(step, false, detail);
                return;
            }
        };
        if !iam::same_document(&now, before) {
            let detail = format!(
                "the trust policy of role {role} changed since the dialog opened; nothing \
                 written; it now trusts {}",
                trusted_words(&now)
            );
            self.outcome(step, false, detail);
            return;
        }
        let (ok, detail) = match iam::update_trust(self.aws, role, after).await {
            Err(e) if !unanswered(&e) => (false, format!("role {role}: {e}")),
            written => {
                let lost = written
                    .err()
                    .map(|e| format!("the reply was lost ({e}); read back: "))
                    .unwrap_or_default();
                match iam::role_trust(self.aws, role).await {
                    Ok(d) if iam::same_document(&d, after) => (
                        true,
                        format!(
                            "{lost}verified: role {role} now trusts {}",
                            trusted_words(&d)
                        ),
                    ),
                    Ok(d) => (
                        false,
                        format!(
                            "{lost}the trust policy of role {role} is not the one written; it \
                             trusts {}",
                            trusted_words(&d)
                        ),
                    ),
                    Err(e) if lost.is_empty() => (
                        false,
                        format!("role {role}: written, but reading it back failed: {e}"),
                    ),
                    Err(e) => (
                        false,
                        format!("role {role}: outcome unknown: {lost}failed: {e}"),
                    ),
                }
            }
        };
        self.outcome(step, ok, detail);
    }
}

/// A key as IAM listed it just before the executor acted on it.
enum Reread {
    Listed(KeyStatus),
    Gone,
    Unread(AwsError),
}

/// Whether a revocation policy IAM holds denies what this plan asked for: the cut-off it
/// carries is the one written (compared as times, not as text).
fn denies_before(document: &str, cutoff: &str) -> bool {
    match journal::parse_ts(cutoff) {
        Some(want) => policy::revocation_cutoff(document) == Some(want),
        None => document.contains(cutoff),
    }
}

/// What a trust policy lets assume the role, in words.
fn trusted_words(document: &str) -> String {
    let t = policy::trusted(document);
    if t.is_empty() {
        "nobody".into()
    } else {
        t.iter()
            .map(Trusted::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A call that got no answer from AWS (the connection dropped, timed out, or the answer was
/// not AWS's): it may or may not have been applied, so the outcome is read back before it is
/// journaled. An answer with an AWS error code is a refusal, and nothing was applied.
fn unanswered(e: &AwsError) -> bool {
    e.code.is_none()
        && matches!(
            e.kind,
            ErrorKind::Unreachable | ErrorKind::Timeout | ErrorKind::Other
        )
}

fn key_target(k: &KeyRef) -> Target {
    Target {
        user: Some(k.user.clone()),
        key_id: Some(k.key_id.clone()),
        ..Target::default()
    }
}

fn role_target(role: &str) -> Target {
    Target {
        resource: Some(ResourceTarget {
            kind: Kind::Role.label().to_string(),
            region: GLOBAL.to_string(),
            id: role.to_string(),
        }),
        ..Target::default()
    }
}

fn principal_target(p: &Principal) -> Target {
    match p {
        Principal::User(u) => Target {
            user: Some(u.clone()),
            ..Target::default()
        },
        Principal::Role(r) => role_target(r),
    }
}

fn resource_target(r: &ResourceRef) -> Target {
    Target {
        resource: Some(ResourceTarget {
            kind: r.kind.label().to_string(),
            region: r.region.clone(),
            id: r.id.clone(),
        }),
        ..Target::default()
    }
}

/// How often a throttled removal call is tried again, after the SDK's own retries.
const THROTTLE_RETRIES: u32 = 4;

/// One removal call, backing off when AWS throttles it.
async fn perform_patiently(
    aws: &Aws,
    target: &ResourceRef,
    action: &Action,
) -> Result<String, AwsError> {
    let mut backoff = Backoff::new(
        std::time::Duration::from_millis(500),
        std::time::Duration::from_secs(8),
    );
    let mut tries = 0;
    loop {
        match resources::perform(aws, target, action).await {
            Err(e) if e.kind == ErrorKind::Throttled && tries < THROTTLE_RETRIES => {
                tries += 1;
                tokio::time::sleep(backoff.failed()).await;
            }
            other => return other,
        }
    }
}

/// How often a throttled keep call is tried again, after the SDK's own retries.
const KEEP_THROTTLE_RETRIES: u32 = THROTTLE_RETRIES;

/// One preservation step's reading, backing off when AWS throttles it.
async fn keep_patiently(
    aws: &Aws,
    target: &ResourceRef,
    what: &Keep,
    incident: &str,
) -> Result<Kept, AwsError> {
    let mut backoff = Backoff::new(
        std::time::Duration::from_millis(500),
        std::time::Duration::from_secs(8),
    );
    let mut tries = 0;
    loop {
        match keyspill_aws::evidence::keep(aws, target, what, incident).await {
            Err(e) if e.kind == ErrorKind::Throttled && tries < KEEP_THROTTLE_RETRIES => {
                tries += 1;
                tokio::time::sleep(backoff.failed()).await;
            }
            other => return other,
        }
    }
}

/// Where a plan's evidence goes: the store in the journal's directory, and that directory's
/// name as the incident's id (the snapshots' tag). Without a journal there is no store, and
/// the snapshots are tagged with the action instead (`action-<id>`), so they can still be
/// found.
struct Incident {
    store: Option<Store>,
    id: String,
}

fn incident_of(journal: &SharedJournal, action_id: &str) -> Incident {
    let dir = journal.as_ref().map(|j| match j.lock() {
        Ok(g) => g.dir().to_path_buf(),
        Err(poisoned) => poisoned.into_inner().dir().to_path_buf(),
    });
    let id = dir
        .as_deref()
        .and_then(|d| d.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| format!("action-{action_id}"));
    Incident {
        store: dir.as_deref().map(Store::new),
        id,
    }
}

/// What a keep step kept, in words: `kept 3 files, 2 snapshots: snap-…, snap-…`.
fn kept_words(files: usize, snapshots: &[&str]) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let snaps = || {
        format!(
            "{}: {}",
            plural(snapshots.len(), "snapshot", "snapshots"),
            snapshots.join(", ")
        )
    };
    match (files, snapshots.len()) {
        (0, 0) => "nothing to keep".to_string(),
        (f, 0) => format!("kept {}", plural(f, "file", "files")),
        (0, _) => format!("kept {}", snaps()),
        (f, _) => format!("kept {}, {}", plural(f, "file", "files"), snaps()),
    }
}

/// The `Event::Preservation` of a plan: whether its evidence is kept, whether Lambda
/// environment values are kept in clear, and every resource it touches.
fn preservation(action_id: &str, plan: &RemovalPlan) -> Event {
    let mut seen = HashSet::new();
    let targets = plan
        .steps
        .iter()
        .filter(|s| seen.insert(s.target.clone()))
        .map(|s| resource_target(&s.target).resource)
        .collect::<Option<Vec<_>>>()
        .unwrap_or_default();
    Event::Preservation {
        action_id: action_id.to_string(),
        skipped: plan.skipped_evidence,
        environment_values: plan.steps.iter().any(|s| {
            matches!(
                s.action,
                Action::Keep(Keep::Function {
                    environment_values: true
                })
            )
        }),
        targets,
    }
}

impl Run<'_> {
    /// Carries out one keep step: reads what AWS holds of the target, writes it to the
    /// incident's evidence directory with its manifest lines, journals each line as
    /// `Event::Kept` and tells the console. Returns the step's outcome.
    async fn keep(
        &mut self,
        plan: &RemovalPlan,
        target: &ResourceRef,
        what: &Keep,
        label: &str,
        incident: &Incident,
        tx: &UnboundedSender<Msg>,
    ) -> (bool, String) {
        let kept = match keep_patiently(self.aws, target, what, &incident.id).await {
            Ok(k) => k,
            Err(e) => return (false, format!("{label}: {e}")),
        };
        let at = now();
        let facts = plan.facts.get(target);
        let snapshot_ids: Vec<&str> = kept
            .snapshots
            .iter()
            .map(|s| s.snapshot_id.as_str())
            .collect();
        let (entries, failure, in_manifest) = match &incident.store {
            Some(store) => match store.save(target, facts, &kept, &self.action_id, at) {
                Ok(entries) => (entries, None, true),
                Err(p) => (p.entries, Some(p.error), true),
            },
            None => {
                let entries: Vec<ManifestEntry> = kept
                    .snapshots
                    .iter()
                    .map(|s| evidence::snapshot_entry(target, facts, s, &self.action_id, at))
                    .collect();
                let failure = (!kept.files.is_empty())
                    .then(|| "no incident directory to keep evidence in".to_string());
                (entries, failure, false)
            }
        };
        if in_manifest {
            for e in &entries {
                if let Some(err) = record(
                    self.journal,
                    Event::Kept {
                        entry: Box::new(e.clone()),
                    },
                ) {
                    self.details.push(err);
                }
            }
        }
        if !entries.is_empty() {
            let _ = tx.send(Msg::EvidenceKept(entries.clone()));
        }
        let files_written = entries.iter().filter(|e| e.file.is_some()).count();
        let notes = if kept.notes.is_empty() {
            String::new()
        } else {
            format!("; {}", kept.notes.join("; "))
        };
        match failure {
            None if in_manifest => (
                true,
                format!(
                    "{label}: {}{notes}",
                    kept_words(files_written, &snapshot_ids)
                ),
            ),
            None => (
                true,
                format!(
                    "{label}: {}, not in a manifest (no incident directory){notes}",
                    kept_words(0, &snapshot_ids)
                ),
            ),
            Some(why) => {
                let mut detail = format!("{label}: {why}");
                if files_written > 0 || !snapshot_ids.is_empty() {
                    let manifest = if in_manifest {
                        ""
                    } else {
                        ", not in a manifest"
                    };
                    detail.push_str(&format!(
                        "; {} before that{manifest}",
                        kept_words(files_written, &snapshot_ids)
                    ));
                }
                (false, format!("{detail}{notes}"))
            }
        }
    }

    /// Carries out a removal plan step by step, in its order. A step runs only when every
    /// step it needs succeeded; the others are reported as not attempted, with why.
    async fn remove(&mut self, plan: &RemovalPlan, tx: &UnboundedSender<Msg>) {
        if let Some(e) = record(self.journal, preservation(&self.action_id, plan)) {
            self.details.push(e);
        }
        let incident = incident_of(self.journal, &self.action_id);
        let mut states = vec![StepState::Pending; plan.steps.len()];
        let gone = gone_since_drawn(self.aws, plan).await;
        for (i, step) in plan.steps.iter().enumerate() {
            let label = format!("{} {}", step.target.kind, step.name);
            if gone.contains(&step.target) {
                // Removed by someone else (or by an earlier plan) since this one was drawn:
                // nothing to send. A change to it is moot (done, and the steps that need it
                // may go ahead); its evidence, though, was not kept.
                let (ok, detail) = if step.action.keeps() {
                    (false, format!("{label}: gone before its evidence was kept"))
                } else {
                    (
                        true,
                        format!("{label}: already gone since the plan was drawn"),
                    )
                };
                states[i] = if ok {
                    StepState::Done(detail.clone())
                } else {
                    StepState::Failed(detail.clone())
                };
                let _ = tx.send(Msg::RemovalStep {
                    index: i,
                    state: states[i].clone(),
                });
                let n = self.step;
                self.step += 1;
                if let Some(e) = record(
                    self.journal,
                    Event::Outcome {
                        action_id: self.action_id.clone(),
                        step: n,
                        ok,
                        detail,
                        created_key: None,
                    },
                ) {
                    self.details.push(e);
                }
                continue;
            }
            if let Err(why) = removal::ready(plan, &states, i) {
                states[i] = StepState::Skipped(why);
                let _ = tx.send(Msg::RemovalStep {
                    index: i,
                    state: states[i].clone(),
                });
                continue;
            }
            let _ = tx.send(Msg::RemovalStep {
                index: i,
                state: StepState::Running,
            });
            let n = self.intent(step.action.call(), resource_target(&step.target));
            let (ok, detail) = if let Action::Keep(what) = &step.action {
                self.keep(plan, &step.target, what, &label, &incident, tx)
                    .await
            } else {
                match perform_patiently(self.aws, &step.target, &step.action).await {
                    Err(e) => (false, format!("{label}: {e}")),
                    Ok(done) if step.action.removes_target() => {
                        match resources::exists(self.aws, &step.target).await {
                            Ok(false) => (true, format!("{done}; verified gone")),
                            Ok(true) => (false, format!("{done}, but it is still there")),
                            Err(e) => (true, format!("{done}; reading it back failed: {e}")),
                        }
                    }
                    Ok(done) => (true, done),
                }
            };
            states[i] = if ok {
                StepState::Done(detail.clone())
            } else {
                StepState::Failed(detail.clone())
            };
            let _ = tx.send(Msg::RemovalStep {
                index: i,
                state: states[i].clone(),
            });
            if let Some(e) = record(
                self.journal,
                Event::Outcome {
                    action_id: self.action_id.clone(),
                    step: n,
                    ok,
                    detail,
                    created_key: None,
                },
            ) {
                self.details.push(e);
            }
        }
        self.ok = states.iter().all(|s| matches!(s, StepState::Done(_)));
        self.details.push(removal_summary(plan, &states));
    }
}

/// The targets of a plan's removing and keeping steps that no longer exist: one read per
/// target, a few at a time. A target that cannot be read is taken to be there (its steps run
/// as planned).
async fn gone_since_drawn(aws: &Aws, plan: &RemovalPlan) -> HashSet<ResourceRef> {
    // Owned targets: a stream borrowing the plan would not be `Send` for the action's task.
    let targets: BTreeSet<ResourceRef> = plan
        .steps
        .iter()
        .filter(|s| s.action.removes_target() || s.action.keeps())
        .map(|s| s.target.clone())
        .collect();
    stream::iter(targets)
        .map(|t| async move {
            let exists = resources::exists(aws, &t).await;
            (t, exists)
        })
        .buffer_unordered(resources::DETAIL_CONCURRENCY)
        .filter_map(|(t, exists)| async move { matches!(exists, Ok(false)).then_some(t) })
        .collect()
        .await
}

/// One line for the action log: how many steps went which way (the keep steps counted apart),
/// naming what failed and what was left untouched because of it.
fn removal_summary(plan: &RemovalPlan, states: &[StepState]) -> String {
    let mut done = 0;
    let (mut keeps, mut kept) = (0, 0);
    let mut failed: Vec<String> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    let add = |list: &mut Vec<String>, what: String| {
        if !list.contains(&what) {
            list.push(what);
        }
    };
    for (step, s) in plan.steps.iter().zip(states) {
        let keep = step.action.keeps();
        keeps += usize::from(keep);
        let what = if keep {
            format!("evidence of {} {}", step.target.kind, step.target.id)
        } else {
            format!("{} {}", step.target.kind, step.target.id)
        };
        match s {
            StepState::Done(_) => {
                done += 1;
                kept += usize::from(keep);
            }
            StepState::Failed(_) => add(&mut failed, what),
            StepState::Skipped(_) => add(&mut skipped, what),
            StepState::Pending | StepState::Running => {}
        }
    }
    let mut out = format!("{done}/{} steps done", plan.steps.len());
    if plan.skipped_evidence {
        out.push_str(" (no evidence kept: skipped by the operator)");
    } else if keeps > 0 {
        out.push_str(&format!(" (evidence: {kept}/{keeps} keep steps)"));
    }
    if !failed.is_empty() {
        out.push_str(&format!("; failed: {}", failed.join(", ")));
    }
    if !skipped.is_empty() {
        out.push_str(&format!("; not attempted: {}", skipped.join(", ")));
    }
    out
}

/// A confirmed plan that cannot start, said as an action that failed, so the room sees it in
/// the action log like any other outcome.
pub fn refuse(tx: &UnboundedSender<Msg>, plan: &Plan, why: String) {
    let id = new_action_id();
    let _ = tx.send(Msg::ActionStarted {
        id: id.clone(),
        label: plan.label(),
        at: now(),
    });
    let _ = tx.send(Msg::ActionFinished {
        id,
        at: now(),
        report: ActionReport {
            ok: false,
            summary: why,
            observed: Vec::new(),
            account: plan.account().0.map(str::to_string),
        },
    });
}

/// Runs a confirmed plan to the end with `aws`, reporting progress to the console through
/// `tx`: the console's own session, or for a plan bound to another account
/// (`Plan::InAccount`), that account's session, which the caller picks.
pub async fn run_plan(aws: &Aws, journal: &SharedJournal, tx: &UnboundedSender<Msg>, plan: Plan) {
    let action_id = new_action_id();
    let label = plan.label();
    let _ = tx.send(Msg::ActionStarted {
        id: action_id.clone(),
        label: label.clone(),
        at: now(),
    });
    tracing::info!(action = %action_id, "{label}");
    let (account, inner) = plan.account();
    let mut run = Run {
        aws,
        journal,
        action_id: action_id.clone(),
        step: 0,
        details: Vec::new(),
        ok: true,
        observed: Vec::new(),
        account: account.map(str::to_string),
    };
    if let Some(e) = record(
        journal,
        Event::Action {
            action_id: action_id.clone(),
            label,
        },
    ) {
        run.details.push(e);
    }

    match inner {
        Plan::DisableKeys(keys) => {
            for k in keys {
                run.set_status(k, KeyStatus::Inactive).await;
            }
        }
        Plan::EnableKeys(keys) => {
            for k in keys {
                run.set_status(k, KeyStatus::Active).await;
            }
        }
        Plan::DeleteKeys(keys) => {
            for k in keys {
                run.delete(k).await;
            }
        }
        Plan::RotateKey(old) => {
            let step = run.intent(
                "iam:CreateAccessKey",
                Target {
                    user: Some(old.user.clone()),
                    ..Target::default()
                },
            );
            match iam::create_key(aws, &old.user).await {
                Ok(new_key) => {
                    run.outcome_with_key(
                        step,
                        true,
                        format!("created {}", new_key.key_id),
                        Some(new_key.key_id.clone()),
                    );
                    let _ = tx.send(Msg::SecretCreated {
                        new_key,
                        old_key: old.key_id.clone(),
                    });
                    if old.status == KeyStatus::Active {
                        run.set_status(old, KeyStatus::Inactive).await;
                    } else {
                        // Still read the user back so the new key shows at once.
                        let _ = run.read_back(&old.user).await;
                    }
                }
                Err(e) => {
                    run.outcome(step, false, e.to_string());
                    run.details
                        .push(format!("{} left as it was", key_short(&old.key_id)));
                }
            }
        }
        Plan::RemoveResources(p) => run.remove(p, tx).await,
        Plan::RevokeSessions { principals, cutoff } => {
            for p in principals {
                run.revoke(p, cutoff).await;
            }
        }
        Plan::DeletePassword { user } => run.delete_password(user).await,
        Plan::Untrust {
            role,
            before,
            after,
            ..
        } => run.untrust(role, before, after).await,
        // `Plan::in_account` never nests; were it to, nothing runs in an unknown account.
        Plan::InAccount { .. } => {
            run.ok = false;
            run.details
                .push("a plan for another account inside another: nothing was run".into());
        }
    }

    // Keys read back in another account are that account's: the Keys table is this one's.
    let observed = if run.account.is_some() {
        Vec::new()
    } else {
        run.observed
    };
    let report = ActionReport {
        ok: run.ok,
        summary: run.details.join("; "),
        observed,
        account: run.account,
    };
    let _ = tx.send(Msg::ActionFinished {
        id: action_id,
        at: now(),
        report,
    });
}

/// How long before its intent was written a key may be dated and still be taken for the one an
/// interrupted rotation created: IAM dates keys to the second, and the journal's clock and
/// AWS's may differ a little.
const ROTATION_SLACK: time::Duration = time::Duration::seconds(60);

/// Checks intents left without an outcome by an earlier session against AWS, and records what
/// was found.
pub async fn reverify(
    aws: &Aws,
    journal: &SharedJournal,
    tx: &UnboundedSender<Msg>,
    pending: Vec<PendingIntent>,
) {
    for p in pending {
        let (detail, created_key) = check(aws, &p).await;
        let detail = format!("{} → {detail}", p.call);
        reverified(journal, tx, p, detail, created_key);
    }
}

/// What re-checking one step found, in the journal and on the screen.
fn reverified(
    journal: &SharedJournal,
    tx: &UnboundedSender<Msg>,
    p: PendingIntent,
    detail: String,
    created_key: Option<String>,
) {
    record(
        journal,
        Event::Reverified {
            action_id: p.action_id.clone(),
            step: p.step,
            detail: detail.clone(),
            created_key: created_key.clone(),
        },
    );
    let _ = tx.send(Msg::Reverified {
        action_id: p.action_id,
        detail,
        created_key,
    });
}

/// Steps left without an outcome that cannot be checked now: recorded as such, with `why`.
pub fn not_reverified(
    journal: &SharedJournal,
    tx: &UnboundedSender<Msg>,
    pending: Vec<PendingIntent>,
    why: &str,
) {
    for p in pending {
        let detail = format!("{} → {why}: check it there", p.call);
        reverified(journal, tx, p, detail, None);
    }
}

/// What AWS says now about one interrupted step, and the key it turns out to have created.
async fn check(aws: &Aws, p: &PendingIntent) -> (String, Option<String>) {
    let user = p.target.user.as_deref();
    let role = p
        .target
        .resource
        .as_ref()
        .filter(|r| r.kind == Kind::Role.label())
        .map(|r| r.id.as_str());
    let call = p.call.as_str();
    let detail = match (user, role) {
        (Some(user), None) if call == "iam:CreateAccessKey" && p.target.key_id.is_none() => {
            return interrupted_rotation(aws, user, p.at).await;
        }
        (_, Some(role)) if call.starts_with("iam:PutRolePolicy") => {
            match iam::role_inline_policy(aws, role, REVOKE_POLICY_NAME).await {
                Ok(Some(d)) => match policy::revocation_cutoff(&d) {
                    Some(t) => format!(
                        "{REVOKE_POLICY_NAME} is on role {role}: it denies sessions issued \
                         before {}",
                        journal::format_ts(t)
                    ),
                    None => format!("{REVOKE_POLICY_NAME} is on role {role}"),
                },
                Ok(None) => format!("{REVOKE_POLICY_NAME} is NOT on role {role}"),
                Err(e) if e.is_not_found() => format!("role {role} no longer exists"),
                Err(e) => format!("could not read role {role}'s policies: {e}"),
            }
        }
        (_, Some(role)) if call.starts_with("iam:UpdateAssumeRolePolicy") => {
            match iam::role_trust(aws, role).await {
                Ok(d) => format!("role {role} trusts {}", trusted_words(&d)),
                Err(e) if e.is_not_found() => format!("role {role} no longer exists"),
                Err(e) => format!("could not read the trust policy of role {role}: {e}"),
            }
        }
        (Some(user), None) if call.starts_with("iam:DeleteLoginProfile") => {
            match iam::login_profile(aws, user).await {
                Ok(None) => format!("user {user} has no console password"),
                Ok(Some(_)) => format!("user {user} still has a console password"),
                Err(e) => format!("could not read {user}'s console password: {e}"),
            }
        }
        _ if p.target.resource.is_some() => match p
            .target
            .resource
            .as_ref()
            .and_then(|r| to_ref(r, p.target.account.clone()))
        {
            Some(r) => match resources::exists(aws, &r).await {
                Ok(true) => format!("{r} is still there"),
                Ok(false) => format!("{r} is gone"),
                Err(e) => format!("could not read {r}: {e}"),
            },
            None => "a resource of a kind this version does not know".to_string(),
        },
        (Some(user), None) => match p.target.key_id.as_deref() {
            Some(key) => match iam::key_statuses(aws, user).await {
                Ok(keys) => match keys.iter().find(|(id, _)| id == key) {
                    Some((_, s)) => format!("{} is {s}", key_short(key)),
                    None => format!("{} no longer exists", key_short(key)),
                },
                Err(e) => format!("could not read {}: {e}", key_short(key)),
            },
            None if call.starts_with("iam:PutUserPolicy") => {
                match iam::inline_policy(aws, user, REVOKE_POLICY_NAME).await {
                    Ok(Some(_)) => format!("{REVOKE_POLICY_NAME} is on {user}"),
                    Ok(None) => format!("{REVOKE_POLICY_NAME} is NOT on {user}"),
                    Err(e) => format!("could not read {user}'s policies: {e}"),
                }
            }
            None => match iam::key_statuses(aws, user).await {
                Ok(keys) => format!("{user} has {}", key_list(&keys)),
                Err(e) => format!("could not read {user}: {e}"),
            },
        },
        _ => "nothing to check".to_string(),
    };
    (detail, None)
}

/// A rotation cut short between `CreateAccessKey` and its outcome: the key created since the
/// intent, if exactly one was, is this incident's own (its secret was never shown, so it is
/// useless to the room, but it must not be taken for the attacker's). Two new keys cannot be
/// told apart, so neither is claimed.
async fn interrupted_rotation(
    aws: &Aws,
    user: &str,
    at: Option<Timestamp>,
) -> (String, Option<String>) {
    let keys = match iam::key_metadata(aws, user).await {
        Ok(k) => k,
        Err(e) => return (format!("could not read {user}'s keys: {e}"), None),
    };
    let Some(at) = at else {
        let statuses: Vec<(String, KeyStatus)> =
            keys.into_iter().map(|(id, s, _)| (id, s)).collect();
        return (
            format!(
                "{user} has {} (the journal does not say when the rotation began)",
                key_list(&statuses)
            ),
            None,
        );
    };
    let new: Vec<&(String, KeyStatus, Timestamp)> = keys
        .iter()
        .filter(|(_, _, created)| *created >= at - ROTATION_SLACK)
        .collect();
    match new.as_slice() {
        [] => (
            format!(
                "rotation interrupted before a key was created: {user} has no key newer \
                 than the intent"
            ),
            None,
        ),
        [(id, _, created)] => (
            format!(
                "rotation interrupted: new key {id} (created {}) is this incident's",
                journal::format_ts(*created)
            ),
            Some(id.clone()),
        ),
        several => (
            format!(
                "rotation interrupted: {} keys of {user} were created since it began ({}); \
                 which one is this incident's cannot be told",
                several.len(),
                several
                    .iter()
                    .map(|(id, _, _)| id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None,
        ),
    }
}

/// `AKIA…1234 Active, AKIA…5678 Inactive`, or `no keys`.
fn key_list(keys: &[(String, KeyStatus)]) -> String {
    if keys.is_empty() {
        "no keys".to_string()
    } else {
        keys.iter()
            .map(|(id, s)| format!("{} {s}", key_short(id)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The journal's resource back to the domain's reference, in the account the step ran in.
fn to_ref(t: &ResourceTarget, account: Option<String>) -> Option<ResourceRef> {
    Some(ResourceRef {
        kind: Kind::from_label(&t.kind)?,
        region: t.region.clone(),
        id: t.id.clone(),
        account,
    })
}

/// Writes a rotated key's credentials for the operator: mode 0600, never over an existing file.
pub fn write_secret(
    path: &str,
    base: Option<&str>,
    key: &keyspill_core::domain::NewKey,
) -> Result<String, String> {
    use std::io::Write;
    // Resolved and checked here, just before writing: no git work tree, no existing file.
    let path = keyspill_core::app::secret::check_path(path, base.map(std::path::Path::new))?;
    let path = path.display().to_string();
    let path = path.as_str();
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| format!("{path}: {e}"))?;
    let body = format!(
        "Access key ID,Secret access key\n{},{}\n",
        key.key_id,
        key.secret.expose()
    );
    f.write_all(body.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("{path}: {e}"))?;
    Ok(path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyspill_core::resources::plan::{Purpose, Step};

    fn step(kind: Kind, id: &str, action: Action, needs: Vec<usize>) -> Step {
        Step {
            target: ResourceRef {
                kind,
                region: "eu-west-1".into(),
                id: id.into(),
                account: None,
            },
            name: id.into(),
            action,
            needs,
        }
    }

    fn plan() -> RemovalPlan {
        RemovalPlan {
            purpose: Purpose::Remove,
            steps: vec![
                step(Kind::Instance, "i-1", Action::Keep(Keep::Instance), vec![]),
                step(Kind::Instance, "i-1", Action::Keep(Keep::Volumes), vec![]),
                step(
                    Kind::Function,
                    "miner",
                    Action::Keep(Keep::Function {
                        environment_values: true,
                    }),
                    vec![],
                ),
                step(Kind::Instance, "i-1", Action::TerminateInstance, vec![0, 1]),
                step(Kind::Function, "miner", Action::DeleteFunction, vec![2]),
            ],
            targets: 2,
            ..RemovalPlan::default()
        }
    }

    #[test]
    fn kept_words_name_files_and_snapshots() {
        assert_eq!(kept_words(0, &[]), "nothing to keep");
        assert_eq!(kept_words(1, &[]), "kept 1 file");
        assert_eq!(
            kept_words(3, &["snap-a", "snap-b"]),
            "kept 3 files, 2 snapshots: snap-a, snap-b"
        );
        assert_eq!(kept_words(0, &["snap-a"]), "kept 1 snapshot: snap-a");
    }

    #[test]
    fn the_summary_counts_keep_steps_apart_and_names_what_failed() {
        let p = plan();
        let states = vec![
            StepState::Done("kept".into()),
            StepState::Failed("denied".into()),
            StepState::Done("kept".into()),
            StepState::Skipped("step 2 did not succeed".into()),
            StepState::Done("gone".into()),
        ];
        assert_eq!(
            removal_summary(&p, &states),
            "3/5 steps done (evidence: 2/3 keep steps); failed: evidence of instance i-1; \
             not attempted: instance i-1"
        );
        let skipped = RemovalPlan {
            steps: p.steps[3..].to_vec(),
            skipped_evidence: true,
            ..p
        };
        assert_eq!(
            removal_summary(
                &skipped,
                &[StepState::Done("a".into()), StepState::Done("b".into())]
            ),
            "2/2 steps done (no evidence kept: skipped by the operator)"
        );
    }

    #[test]
    fn preservation_names_each_target_once_and_the_operators_choices() {
        let Event::Preservation {
            action_id,
            skipped,
            environment_values,
            targets,
        } = preservation("act", &plan())
        else {
            panic!("a Preservation event");
        };
        assert_eq!(action_id, "act");
        assert!(!skipped);
        assert!(environment_values);
        let ids: Vec<&str> = targets.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["i-1", "miner"]);

        let mut masked = plan();
        masked.steps[2].action = Action::Keep(Keep::Function {
            environment_values: false,
        });
        masked.skipped_evidence = true;
        let Event::Preservation {
            skipped,
            environment_values,
            ..
        } = preservation("act", &masked)
        else {
            panic!("a Preservation event");
        };
        assert!(skipped);
        assert!(!environment_values);
    }

    #[test]
    fn the_incident_is_the_journals_directory() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("123456789012-2026-12-05");
        let (j, _) = Journal::open(&dir, "op").expect("journal");
        let shared: SharedJournal = Some(Arc::new(Mutex::new(j)));
        let i = incident_of(&shared, "act");
        assert_eq!(i.id, "123456789012-2026-12-05");
        assert_eq!(
            i.store.as_ref().map(|s| s.dir().to_path_buf()),
            Some(dir.join("evidence"))
        );
        let none = incident_of(&None, "act");
        assert_eq!(none.id, "action-act");
        assert!(none.store.is_none());
    }
}
