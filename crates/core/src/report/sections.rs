//! The report's sections that take more than a line of `build`: the keys' final state, the
//! milestones, the resources' fates and the checklist.

use std::collections::BTreeMap;

use crate::journal::snapshot::{KeyState, ResourceState};
use crate::journal::{Entry, Event, Milestone, Snapshot, Target};

use super::build::{contained, key_status_after, non_removing_calls, utc};
use super::model::{
    ActionRow, ChecklistRow, Fate, KeyRow, MilestoneRow, Report, ResourceRow, StateFrom,
    StepOutcome, StepRow,
};
use crate::resources::evidence::KEEP_CALL_PREFIX;

/// The keys and their final state: the last snapshot's, updated by verified key calls made
/// after it; without a snapshot, what the action log says.
pub(super) fn keys(
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

pub(super) fn milestone_rows(
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
                // Detection is when the incident was opened, unless `:detected` said otherwise.
                Milestone::Detected => r
                    .summary
                    .opened
                    .as_ref()
                    .map(|o| (o.clone(), "the incident was opened".to_string())),
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
/// `earlier` holds every resource an earlier snapshot listed (the last listing of each): a
/// resource removed since is gone from the last snapshot, but what was known of it, who made
/// it included, is not.
pub(super) fn resources(
    swept: &[ResourceState],
    earlier: &[&ResourceState],
    actions: &[ActionRow],
) -> Vec<ResourceRow> {
    let mut rows: Vec<ResourceRow> = swept
        .iter()
        .map(|s| ResourceRow {
            kind: s.kind.clone(),
            region: s.region.clone(),
            id: s.id.clone(),
            account: s.account.clone(),
            name: s.name.clone(),
            verdict: Some(s.verdict.clone()),
            state: (!s.state.is_empty()).then(|| s.state.clone()),
            created: s.created.as_deref().map(utc),
            made_by: s.made_by.clone(),
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
        let account = &s.target.account;
        let i = match rows.iter().position(|r| {
            r.kind == t.kind && r.region == t.region && r.id == t.id && &r.account == account
        }) {
            Some(i) => i,
            None => {
                let known = earlier.iter().rev().find(|r| {
                    r.kind == t.kind
                        && r.region == t.region
                        && r.id == t.id
                        && &r.account == account
                });
                rows.push(ResourceRow {
                    kind: t.kind.clone(),
                    region: t.region.clone(),
                    id: t.id.clone(),
                    account: account.clone(),
                    name: known.map(|k| k.name.clone()).unwrap_or_default(),
                    verdict: known.map(|k| k.verdict.clone()),
                    state: None,
                    created: known.and_then(|k| k.created.as_deref().map(utc)),
                    made_by: known.and_then(|k| k.made_by.clone()),
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
        // Keeping evidence changes nothing: it is listed under "Evidence kept", not here.
        let steps: Vec<&StepRow> = steps
            .into_iter()
            .filter(|s| !s.call.starts_with(KEEP_CALL_PREFIX))
            .collect();
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
        } else if row
            .verdict
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case("touched"))
        {
            // The organisation's own, changed or used by the attacker: removing it would be
            // collateral damage, so leaving it is right; what the attacker changed is to review.
            row.fate = Fate::Left;
            row.detail = match row.state.as_deref().filter(|s| !s.trim().is_empty()) {
                Some(state) => format!(
                    "there before the leak, touched by the attacker ({state}): review what changed"
                ),
                None => {
                    "there before the leak, touched by the attacker: review what changed".into()
                }
            };
        } else if row.kind == "tagged" {
            row.detail = "keyspill does not remove what only the tagging API finds".into();
        }
    }
    rows
}

/// What a resource's calls, in order, add up to; `None` when there were none. A call is
/// known by its whole text or its first word (`iam:PutRolePolicy AWSRevokeOlderSessions`).
fn fate(steps: &[&StepRow], non_removing: &[&str]) -> (Option<Fate>, String) {
    let keeps = |call: &str| {
        non_removing.contains(&call)
            || call
                .split_whitespace()
                .next()
                .is_some_and(|verb| non_removing.contains(&verb))
    };
    let removed = steps
        .iter()
        .rev()
        .find(|s| s.outcome == StepOutcome::Ok && !keeps(&s.call));
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
pub(super) fn checklist(
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
    use crate::journal::ResourceTarget;

    fn user(account: Option<&str>) -> ResourceState {
        ResourceState {
            verdict: "AFTER LEAK".into(),
            kind: "iam-user".into(),
            region: "global".into(),
            id: "backup-svc".into(),
            account: account.map(str::to_string),
            name: String::new(),
            state: String::new(),
            created: None,
            made_by: None,
        }
    }

    #[test]
    fn a_step_in_another_account_is_that_account_s_resource_s_outcome_never_this_one_s() {
        let member = "444455556666";
        let step = StepRow {
            step: 0,
            call: "iam:DeleteUser".into(),
            target: Target {
                resource: Some(ResourceTarget {
                    kind: "iam-user".into(),
                    region: "global".into(),
                    id: "backup-svc".into(),
                }),
                account: Some(member.into()),
                ..Target::default()
            },
            target_text: String::new(),
            intent_at: None,
            outcome: StepOutcome::Ok,
            detail: "deleted; verified gone".into(),
            outcome_at: None,
            reverified: None,
            created_key: None,
        };
        let actions = [ActionRow {
            id: "a1".into(),
            label: format!("in account {member}: remove 1 resource"),
            at: None,
            operator: "ic".into(),
            steps: vec![step],
            result: "done".into(),
        }];
        let rows = resources(&[user(None), user(Some(member))], &[], &actions);
        assert_eq!(rows.len(), 2, "{rows:#?}");
        let here = rows
            .iter()
            .find(|r| r.account.is_none())
            .expect("this account's");
        let there = rows
            .iter()
            .find(|r| r.account.as_deref() == Some(member))
            .expect("the member's");
        assert_eq!(here.fate, Fate::NotAttempted);
        assert_eq!(there.fate, Fate::Removed);
        assert_eq!(there.place(), format!("global, account {member}"));
        assert_eq!(here.place(), "global");
    }
}
