//! Carries out confirmed plans. Every AWS call is bracketed by journal lines: the intent is
//! flushed to disk before the call, the outcome (with what IAM says when read back) after it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc::UnboundedSender;

use keyspill_aws::poll::Backoff;
use keyspill_aws::{Aws, AwsError, ErrorKind, iam, resources};
use keyspill_core::app::msg::{ActionReport, Msg, ObservedKeys};
use keyspill_core::app::plan::{KeyRef, Plan, REVOKE_POLICY_NAME};
use keyspill_core::domain::{KeyStatus, Timestamp, key_short};
use keyspill_core::journal::{Event, Journal, PendingIntent, ResourceTarget, Target};
use keyspill_core::resources::plan::{self as removal, RemovalPlan, StepState};
use keyspill_core::resources::{Action, Kind, ResourceRef};

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
}

impl Run<'_> {
    fn intent(&mut self, call: &str, target: Target) -> u32 {
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

    async fn set_status(&mut self, k: &KeyRef, to: KeyStatus) {
        let call = format!("iam:UpdateAccessKey {to}");
        let step = self.intent(&call, key_target(k));
        let short = key_short(&k.key_id);
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
        self.outcome(step, ok, detail);
    }

    async fn delete(&mut self, k: &KeyRef) {
        let step = self.intent("iam:DeleteAccessKey", key_target(k));
        let short = key_short(&k.key_id);
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
        self.outcome(step, ok, detail);
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
        resource: None,
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

impl Run<'_> {
    /// Carries out a removal plan step by step, in its order. A step runs only when every
    /// step it needs succeeded; the others are reported as not attempted, with why.
    async fn remove(&mut self, plan: &RemovalPlan, tx: &UnboundedSender<Msg>) {
        let mut states = vec![StepState::Pending; plan.steps.len()];
        for (i, step) in plan.steps.iter().enumerate() {
            let label = format!("{} {}", step.target.kind, step.name);
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
            let result = perform_patiently(self.aws, &step.target, &step.action).await;
            let (ok, detail) = match result {
                Err(e) => (false, format!("{label}: {e}")),
                Ok(done) if step.action.removes_target() => {
                    match resources::exists(self.aws, &step.target).await {
                        Ok(false) => (true, format!("{done}; verified gone")),
                        Ok(true) => (false, format!("{done}, but it is still there")),
                        Err(e) => (true, format!("{done}; reading it back failed: {e}")),
                    }
                }
                Ok(done) => (true, done),
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

/// One line for the action log: how many steps went which way, naming what failed and what
/// was left untouched because of it.
fn removal_summary(plan: &RemovalPlan, states: &[StepState]) -> String {
    let mut done = 0;
    let mut failed = Vec::new();
    let mut skipped = Vec::new();
    for (step, s) in plan.steps.iter().zip(states) {
        let what = format!("{} {}", step.target.kind, step.target.id);
        match s {
            StepState::Done(_) => done += 1,
            StepState::Failed(_) => failed.push(what),
            StepState::Skipped(_) => skipped.push(what),
            StepState::Pending | StepState::Running => {}
        }
    }
    let mut out = format!("{done}/{} steps done", plan.steps.len());
    if !failed.is_empty() {
        out.push_str(&format!("; failed: {}", failed.join(", ")));
    }
    if !skipped.is_empty() {
        out.push_str(&format!("; not attempted: {}", skipped.join(", ")));
    }
    out
}

/// Runs a confirmed plan to the end, reporting progress to the console through `tx`.
pub async fn run_plan(aws: &Aws, journal: &SharedJournal, tx: &UnboundedSender<Msg>, plan: Plan) {
    let action_id = new_action_id();
    let label = plan.label();
    let _ = tx.send(Msg::ActionStarted {
        id: action_id.clone(),
        label: label.clone(),
        at: now(),
    });
    tracing::info!(action = %action_id, "{label}");
    let mut run = Run {
        aws,
        journal,
        action_id: action_id.clone(),
        step: 0,
        details: Vec::new(),
        ok: true,
        observed: Vec::new(),
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

    match &plan {
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
        Plan::RevokeSessions { user, cutoff } => {
            let step = run.intent(
                &format!("iam:PutUserPolicy {REVOKE_POLICY_NAME}"),
                Target {
                    user: Some(user.clone()),
                    ..Target::default()
                },
            );
            let doc = Plan::revoke_policy_document(cutoff);
            let put = iam::put_inline_policy(aws, user, REVOKE_POLICY_NAME, &doc).await;
            let (ok, detail) = match put {
                Err(e) if !unanswered(&e) => (false, e.to_string()),
                // Attached, or no answer (it may have been): what IAM holds now decides.
                put => {
                    let lost = put
                        .err()
                        .map(|e| format!("the reply was lost ({e}); read back: "));
                    let lost = lost.unwrap_or_default();
                    match iam::inline_policy(aws, user, REVOKE_POLICY_NAME).await {
                        Ok(Some(d)) if d.contains(cutoff.as_str()) => (
                            true,
                            format!(
                                "{lost}verified: {user} denies sessions issued before {cutoff}"
                            ),
                        ),
                        Ok(Some(_)) => (
                            false,
                            format!("{lost}{REVOKE_POLICY_NAME} on {user} has another cutoff"),
                        ),
                        Ok(None) => (
                            false,
                            format!("{lost}{REVOKE_POLICY_NAME} not found on {user}"),
                        ),
                        Err(e) if lost.is_empty() => {
                            (false, format!("attached, but reading it back failed: {e}"))
                        }
                        Err(e) => (false, format!("outcome unknown: {lost}failed: {e}")),
                    }
                }
            };
            run.outcome(step, ok, detail);
        }
    }

    let report = ActionReport {
        ok: run.ok,
        summary: run.details.join("; "),
        observed: run.observed,
    };
    let _ = tx.send(Msg::ActionFinished {
        id: action_id,
        at: now(),
        report,
    });
}

/// Checks intents left without an outcome by an earlier session against AWS, and records what
/// was found.
pub async fn reverify(
    aws: &Aws,
    journal: &SharedJournal,
    tx: &UnboundedSender<Msg>,
    pending: Vec<PendingIntent>,
) {
    for p in pending {
        let detail = match (&p.target.user, &p.target.key_id) {
            _ if p.target.resource.is_some() => match p.target.resource.as_ref().and_then(to_ref) {
                Some(r) => match resources::exists(aws, &r).await {
                    Ok(true) => format!("{r} is still there"),
                    Ok(false) => format!("{r} is gone"),
                    Err(e) => format!("could not read {r}: {e}"),
                },
                None => "a resource of a kind this version does not know".to_string(),
            },
            (Some(user), Some(key)) => match iam::key_statuses(aws, user).await {
                Ok(keys) => match keys.iter().find(|(id, _)| id == key) {
                    Some((_, s)) => format!("{} is {s}", key_short(key)),
                    None => format!("{} no longer exists", key_short(key)),
                },
                Err(e) => format!("could not read {}: {e}", key_short(key)),
            },
            (Some(user), None) if p.call.starts_with("iam:PutUserPolicy") => {
                match iam::inline_policy(aws, user, REVOKE_POLICY_NAME).await {
                    Ok(Some(_)) => format!("{REVOKE_POLICY_NAME} is on {user}"),
                    Ok(None) => format!("{REVOKE_POLICY_NAME} is NOT on {user}"),
                    Err(e) => format!("could not read {user}'s policies: {e}"),
                }
            }
            (Some(user), None) => match iam::key_statuses(aws, user).await {
                Ok(keys) => format!(
                    "{user} has {}",
                    if keys.is_empty() {
                        "no keys".to_string()
                    } else {
                        keys.iter()
                            .map(|(id, s)| format!("{} {s}", key_short(id)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ),
                Err(e) => format!("could not read {user}: {e}"),
            },
            _ => "nothing to check".to_string(),
        };
        let detail = format!("{} → {detail}", p.call);
        record(
            journal,
            Event::Reverified {
                action_id: p.action_id.clone(),
                step: p.step,
                detail: detail.clone(),
            },
        );
        let _ = tx.send(Msg::Reverified {
            action_id: p.action_id,
            detail,
        });
    }
}

/// The journal's resource back to the domain's reference.
fn to_ref(t: &ResourceTarget) -> Option<ResourceRef> {
    Some(ResourceRef {
        kind: Kind::from_label(&t.kind)?,
        region: t.region.clone(),
        id: t.id.clone(),
    })
}

/// Writes a rotated key's credentials for the operator: mode 0600, never over an existing file.
pub fn write_secret(path: &str, key: &keyspill_core::domain::NewKey) -> Result<String, String> {
    use std::io::Write;
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
