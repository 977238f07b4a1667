//! Building the report from the journal's entries.

use std::collections::BTreeMap;

use crate::fmt;
use crate::journal::snapshot::ResourceState;
use crate::journal::{self, Entry, Event, Milestone, Snapshot, Target};
use crate::resources::action::Action;

use super::model::{
    ActionRow, Cost, EvidenceRow, Fate, Game, NoteRow, Report, Reverified, ServiceCost, Span,
    StepOutcome, StepRow, Total,
};
use super::score;
use super::sections::{checklist, keys, milestone_rows, resources};

/// The detail older journals wrote on a `Detected` milestone set at the leak's start.
pub(super) const OLD_DETECTED: &str = "the leak's start";

/// The journal's time, normalised to UTC RFC 3339 (kept as written when it does not parse).
pub(super) fn utc(ts: &str) -> String {
    journal::parse_ts(ts)
        .map(|t| journal::format_ts(t.to_offset(time::UtcOffset::UTC)))
        .unwrap_or_else(|| ts.to_string())
}

fn span(from: Option<&str>, to: Option<&str>) -> Option<Span> {
    let from = journal::parse_ts(from?)?;
    let to = journal::parse_ts(to?)?;
    let seconds = (to - from).whole_seconds();
    Some(Span {
        seconds,
        words: fmt::duration_words(seconds),
    })
}

/// The status a successful key call leaves its key in.
pub(super) fn key_status_after(call: &str) -> Option<&'static str> {
    match call {
        "iam:UpdateAccessKey Inactive" => Some("Inactive"),
        "iam:UpdateAccessKey Active" => Some("Active"),
        "iam:DeleteAccessKey" => Some("deleted"),
        _ => None,
    }
}

pub(super) fn contained(status: &str) -> bool {
    !status.eq_ignore_ascii_case("active") && !status.eq_ignore_ascii_case("unknown")
}

/// The removal calls that leave their target in place (`Action::removes_target`).
pub(super) fn non_removing_calls() -> Vec<&'static str> {
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
        Action::DetachFromAutoScalingGroup,
        Action::IsolateNetwork,
        Action::DetachInstanceProfile,
        Action::EnableTerminationProtection,
    ]
    .iter()
    .filter(|a| !a.removes_target())
    .map(Action::call)
    // Closing a foothold changes a user or role without removing it: the session revocation
    // (`iam:PutUserPolicy`/`iam:PutRolePolicy` with the revocation policy) and a trust policy
    // rewritten.
    .chain([
        "iam:PutUserPolicy",
        "iam:PutRolePolicy",
        "iam:UpdateAssumeRolePolicy",
    ])
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
            Event::Alert { alert } => {
                if !r.detections.iter().any(|a| a.id == alert.id) {
                    r.detections.push((**alert).clone());
                }
            }
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
                // The last one wins: a later `since` corrects an earlier guess.
                since_event = Some((utc(since), from.clone()));
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
                ..
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
                // The first time a milestone was reached is the one that counts (a reopened
                // incident is contained again later: see `Reopened`), except detection: the
                // last `Detected` wins, since `:detected` corrects it.
                if *milestone == Milestone::Detected {
                    milestones.insert(*milestone, (utc(at), detail.clone()));
                } else {
                    milestones
                        .entry(*milestone)
                        .or_insert_with(|| (utc(at), detail.clone()));
                }
            }
            Event::Reopened { .. } => {
                // Containment that did not hold does not count: the time to contain runs to
                // when the incident was contained for good.
                milestones.remove(&Milestone::Contained);
                milestones.remove(&Milestone::Eradicated);
            }
            // Where a rotated key's secret went (shown, copied, written to a file) is part of
            // the postmortem: the notes say it, by whom and when.
            Event::SecretHandled { key_id, detail } => r.notes.push(NoteRow {
                at: ts,
                operator: entry.operator.clone(),
                step: None,
                step_title: None,
                text: format!("secret of the new key {key_id}: {detail}"),
            }),
            Event::Cleared { .. } => {}
            Event::Kept { entry } => r.kept.entries.push((**entry).clone()),
            Event::Preservation {
                action_id,
                skipped,
                environment_values,
                targets,
            } => {
                let row = super::model::PreservationRow {
                    at: ts.clone(),
                    operator: entry.operator.clone(),
                    action_id: action_id.clone(),
                    targets: targets
                        .iter()
                        .map(|t| format!("{} {} ({})", t.kind, t.id, t.region))
                        .collect(),
                };
                if *environment_values {
                    r.kept.environment_in_clear.push(row.clone());
                }
                if *skipped {
                    r.kept.skipped.push(row);
                }
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
    // The leak's start: the last `Since` entry, else what the incident was opened with.
    match (since_event, since_opened) {
        (Some((s, from)), _) => {
            r.summary.leak_start = Some(s);
            r.summary.leak_start_from = Some(from);
        }
        (None, Some(s)) => {
            r.summary.leak_start = Some(s);
            r.summary.leak_start_from = Some("given when the incident was opened".into());
        }
        (None, None) => {}
    }
    // An older journal wrote `Detected` at the leak's start; that is not when the incident
    // was detected, so the opening is taken instead (`milestone_rows`).
    if let Some((at, detail)) = milestones.get(&Milestone::Detected)
        && detail.starts_with(OLD_DETECTED)
        && r.summary.leak_start.as_deref() == Some(at.as_str())
        && r.summary.opened.is_some()
    {
        milestones.remove(&Milestone::Detected);
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
    r.time_to_detect = span(r.summary.leak_start.as_deref(), detected.as_deref());
    r.time_to_close = span(detected.as_deref(), at(Milestone::Closed).as_deref());
    r.time_to_contain = span(detected.as_deref(), at(Milestone::Contained).as_deref());
    r.time_to_eradicate = span(detected.as_deref(), at(Milestone::Eradicated).as_deref());
    if let Some(g) = r.game.as_mut() {
        g.time_to_contain = r.time_to_contain.as_ref().map(|s| s.words.clone());
        g.time_to_eradicate = r.time_to_eradicate.as_ref().map(|s| s.words.clone());
    }

    for a in &mut r.actions {
        a.result = action_result(a);
    }
    let earlier: Vec<&ResourceState> = entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::Snapshot(s) => Some(s.resources.iter()),
            _ => None,
        })
        .flatten()
        .collect();
    r.resources = resources(
        snap.map(|s| s.resources.as_slice()).unwrap_or(&[]),
        &earlier,
        &r.actions,
    );
    if let Some(s) = snap {
        r.verdict = s.verdict.clone();
        r.footholds = s.footholds.clone();
        r.high_risk = s.high_risk.clone();
        r.high_risk_left_out = s.high_risk_left_out;
        r.attacker = super::phases::by_phase(&s.high_risk);
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
            cost_explorer_requests: c.cost_explorer_requests,
        });
    }
    r.checklist = checklist(snap, &ticks);
    r.story = story(&r);
    if r.game.is_some() {
        let inputs = score_inputs(&r);
        if let Some(g) = r.game.as_mut() {
            g.score = Some(score::score(&inputs));
        }
    }
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

/// `2026-11-22T09:14Z`, or the text as written when it is not a time.
fn at_minute(ts: &str) -> String {
    journal::parse_ts(ts).map_or_else(|| ts.to_string(), fmt::iso_minute)
}

/// The summary in plain sentences: what leaked, when and how it was found, what the attacker
/// did, the footholds, what was removed, the cost, and where the incident stands.
pub fn story(r: &Report) -> String {
    let mut out: Vec<String> = Vec::new();
    let account = r
        .summary
        .account
        .as_deref()
        .map(|a| format!(" of account {a}"))
        .unwrap_or_default();
    let keys: Vec<String> = r
        .summary
        .leaked_keys
        .iter()
        .map(|k| {
            let user = r
                .keys
                .iter()
                .find(|row| &row.key_id == k)
                .and_then(|row| row.user.clone())
                .filter(|u| !u.is_empty());
            match user {
                Some(u) => format!("{} ({u})", crate::domain::key_short(k)),
                None => crate::domain::key_short(k),
            }
        })
        .collect();
    out.push(match keys.len() {
        0 => format!("No leaked key is named in the journal{account}."),
        1 => format!("Access key {}{account} leaked.", keys[0]),
        _ => format!("Access keys {}{account} leaked.", keys.join(", ")),
    });
    let detected = r
        .milestones
        .iter()
        .find(|m| m.milestone == Milestone::Detected);
    match (&r.summary.leak_start, &r.summary.leak_start_from) {
        (Some(t), from) => out.push(format!(
            "The leak started at {}{}.",
            at_minute(t),
            from.as_deref()
                .map(|f| format!(" ({f})"))
                .unwrap_or_default()
        )),
        (None, _) => out.push("When the leak started is not known.".into()),
    }
    if let Some((at, detail)) = detected.and_then(|d| d.at.as_ref().map(|a| (a, &d.detail))) {
        let after = r
            .time_to_detect
            .as_ref()
            .map(|s| format!(", {} after it started", s.words))
            .unwrap_or_default();
        let how = if detail.is_empty() {
            String::new()
        } else {
            format!(" ({detail})")
        };
        out.push(format!("It was detected at {}{how}{after}.", at_minute(at)));
    }
    if r.journal.snapshots > 0 {
        let phases: Vec<String> = r
            .attacker
            .iter()
            .map(|p| {
                let refused: usize = p.refused.iter().map(|x| x.count).sum();
                if refused > 0 {
                    format!(
                        "{} ({}, {refused} refused)",
                        p.phase.label(),
                        fmt::plural(p.events.len(), "call", "calls")
                    )
                } else {
                    format!(
                        "{} ({})",
                        p.phase.label(),
                        fmt::plural(p.events.len(), "call", "calls")
                    )
                }
            })
            .collect();
        out.push(if phases.is_empty() {
            "The timeline shows no high-risk call.".into()
        } else {
            format!(
                "The attacker's high-risk calls reached {}: {}.",
                fmt::plural(phases.len(), "phase", "phases"),
                phases.join(", ")
            )
        });
    }
    let open = r.footholds.iter().filter(|f| f.state == "open").count();
    if let Some(v) = &r.verdict {
        out.push(format!(
            "At the last snapshot the footholds read {v}: {open} of {} open.",
            r.footholds.len()
        ));
    }
    let count = |f: Fate| r.resources.iter().filter(|x| x.fate == f).count();
    let (removed, failed, untouched, left) = (
        count(Fate::Removed),
        count(Fate::Failed) + count(Fate::OutcomeUnknown),
        count(Fate::NotAttempted),
        count(Fate::Left),
    );
    if !r.resources.is_empty() {
        let mut parts = vec![format!(
            "removed {}",
            fmt::plural(removed, "resource", "resources")
        )];
        if failed > 0 {
            parts.push(format!(
                "{} failed or unconfirmed",
                fmt::plural(failed, "removal", "removals")
            ));
        }
        if untouched > 0 {
            parts.push(format!("{untouched} suspicious not dealt with"));
        }
        if left > 0 {
            parts.push(format!("{left} there before the leak left in place"));
        }
        out.push(format!("The response {}.", parts.join(", ")));
    }
    if let Some(c) = &r.cost {
        out.push(format!(
            "Spent since the leak: {} ({} a day against {} before).",
            fmt::money_cents(c.since_leak_cents, &c.unit),
            fmt::money_cents(c.since_daily_cents, &c.unit),
            fmt::money_cents(c.baseline_daily_cents, &c.unit)
        ));
    }
    let reached = |m: Milestone| {
        r.milestones
            .iter()
            .find(|x| x.milestone == m)
            .and_then(|x| x.at.clone())
    };
    let state = |m: Milestone, span: &Option<Span>| match (reached(m), span) {
        (Some(t), Some(s)) => format!(
            "{} at {} ({} after detection)",
            m.label(),
            at_minute(&t),
            s.words
        ),
        (Some(t), None) => format!("{} at {}", m.label(), at_minute(&t)),
        (None, _) => format!("not {}", m.label()),
    };
    // A containment the last snapshot contradicts is not where the incident stands: the report
    // never says contained while a foothold was open after it.
    let mut contained = state(Milestone::Contained, &r.time_to_contain);
    if let (Some(at), Some(v), Some(snap)) = (
        reached(Milestone::Contained),
        &r.verdict,
        &r.journal.snapshot_at,
    ) && !v.starts_with("CONTAINED")
        && journal::parse_ts(snap) >= journal::parse_ts(&at)
    {
        contained = format!(
            "{contained}, but NOT CONTAINED at the last snapshot ({}: {open} open)",
            at_minute(snap)
        );
    }
    out.push(format!(
        "Where it stands: {}; {}; {}.",
        contained,
        state(Milestone::Eradicated, &r.time_to_eradicate),
        state(Milestone::Closed, &r.time_to_close)
    ));
    out.join(" ")
}

/// What the game-day score is computed from, all of it from the report itself.
pub fn score_inputs(r: &Report) -> score::Inputs {
    score::Inputs {
        contain_secs: r.time_to_contain.as_ref().map(|s| s.seconds),
        eradicate_secs: r.time_to_eradicate.as_ref().map(|s| s.seconds),
        holds: r
            .game
            .as_ref()
            .filter(|g| g.holds_at.is_some())
            .map(|g| g.attacker_holds.clone()),
        collateral: collateral(r),
        evidence: r.evidence.len(),
        kept: r.kept.entries.len(),
        skipped: r
            .kept
            .skipped
            .iter()
            .map(|p| format!("{} at {} by {}", p.targets.join(", "), p.at, p.operator))
            .collect(),
    }
}

/// What the response removed that was not the attacker's: keys of legitimate users disabled
/// or deleted (not leaked, not made after the leak, not this response's own, not a foothold),
/// and resources there before the leak removed.
pub fn collateral(r: &Report) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for s in r.actions.iter().flat_map(|a| &a.steps) {
        let (Some(key), Some(status)) = (&s.target.key_id, key_status_after(&s.call)) else {
            continue;
        };
        if s.outcome != StepOutcome::Ok || !contained(status) || seen.contains(&key.as_str()) {
            continue;
        }
        let row = r.keys.iter().find(|k| &k.key_id == key);
        let attackers = row.is_some_and(|k| k.leaked || k.new_after_leak || k.created_by_response)
            || r.summary.leaked_keys.contains(key)
            || r.footholds.iter().any(|f| &f.id == key);
        if attackers {
            continue;
        }
        seen.push(key);
        let user = s
            .target
            .user
            .as_deref()
            .map(|u| format!(" of {u}"))
            .unwrap_or_default();
        let done = if status == "deleted" {
            "deleted"
        } else {
            "disabled"
        };
        out.push(format!("key {key}{user} {done}"));
    }
    for x in &r.resources {
        // The organisation's own, touched by the attacker or not: what it changed was to be
        // undone, the resource kept.
        let before = x
            .verdict
            .as_deref()
            .is_some_and(|v| v.eq_ignore_ascii_case("before") || v.eq_ignore_ascii_case("touched"));
        if before && x.fate == Fate::Removed {
            out.push(format!(
                "{} {} ({}) removed, there before the leak",
                x.kind,
                x.id,
                x.place()
            ));
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::markdown;

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
        // 40 for containing in 9 min, none for eradicating, 10 of 20 for the one holding,
        // 10 for no collateral, none for evidence.
        let sc = g.score.as_ref().expect("a score");
        assert_eq!((sc.points, sc.grade.as_str()), (60, "D"));
        assert_eq!(sc.misses.len(), 3, "{:?}", sc.misses);
        let md = markdown(&r);
        assert!(md.contains("**60 / 100, grade D.**"), "{md}");
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
    fn containment_that_did_not_hold_does_not_count() {
        let m = |milestone, at: &str| {
            entry(
                at,
                Event::Milestone {
                    milestone,
                    at: at.into(),
                    detail: String::new(),
                },
            )
        };
        let r = build(&[
            m(Milestone::Detected, "2026-11-22T09:00:00Z"),
            m(Milestone::Contained, "2026-11-22T09:30:00Z"),
            entry(
                "2026-11-22T09:40:00Z",
                Event::Reopened {
                    detail: "open again: access-key AKIA…".into(),
                },
            ),
            m(Milestone::Contained, "2026-11-22T10:15:00Z"),
        ]);
        assert_eq!(
            r.time_to_contain.as_ref().map(|s| s.words.as_str()),
            Some("1 h 15 min")
        );
        // And the resumed console agrees: the milestone is the later one.
        let text: String = [
            m(Milestone::Contained, "2026-11-22T09:30:00Z"),
            entry(
                "2026-11-22T09:40:00Z",
                Event::Reopened {
                    detail: String::new(),
                },
            ),
        ]
        .iter()
        .map(|e| serde_json::to_string(e).expect("json") + "\n")
        .collect();
        let resumed = crate::journal::read_back(text.as_bytes());
        assert!(!resumed.milestones.contains_key(&Milestone::Contained));
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
    fn a_containment_the_last_snapshot_contradicts_is_not_where_it_stands() {
        let contained = entry(
            "2026-11-22T10:30:00Z",
            Event::Milestone {
                milestone: Milestone::Contained,
                at: "2026-11-22T10:30:00Z".into(),
                detail: String::new(),
            },
        );
        let snap = |ts: &str, verdict: &str| {
            entry(
                ts,
                Event::Snapshot(Box::new(Snapshot {
                    verdict: Some(verdict.into()),
                    ..Snapshot::default()
                })),
            )
        };
        let held = build(&[contained.clone(), snap("2026-11-22T11:00:00Z", "CONTAINED")]);
        let text = story(&held);
        assert!(text.contains("contained at 2026-11-22T10:30Z"), "{text}");
        assert!(!text.contains("NOT CONTAINED"), "{text}");
        let broken = build(&[
            contained,
            snap("2026-11-22T11:00:00Z", "NOT CONTAINED (1 open)"),
        ]);
        let text = story(&broken);
        assert!(
            text.contains("but NOT CONTAINED at the last snapshot (2026-11-22T11:00Z"),
            "{text}"
        );
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
                        account: None,
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
        // Detected when the incident was opened; the leak started an hour before.
        assert_eq!(r.milestones[0].at.as_deref(), Some("2026-11-22T10:00:00Z"));
        assert!(r.milestones[0].derived);
        assert_eq!(r.milestones[1].at.as_deref(), Some("2026-11-22T10:10:02Z"));
        assert!(r.milestones[1].derived);
        assert!(!r.milestones[2].derived);
        assert_eq!(r.time_to_detect.map(|s| s.words), Some("1 h".into()));
        assert_eq!(r.time_to_contain.map(|s| s.words), Some("10 min".into()));
        assert_eq!(r.keys.len(), 1);
        assert_eq!(r.keys[0].status, "Inactive");
        assert_eq!(r.keys[0].user.as_deref(), Some("alice"));
        assert_eq!(r.actions[0].label, "(no action entry in the journal)");
        assert_eq!(r.actions[0].result, "done");
    }

    fn opened(ts: &str, since: &str) -> Entry {
        entry(
            ts,
            Event::Opened {
                account: None,
                caller: None,
                since: Some(since.into()),
                leaked_keys: vec![],
            },
        )
    }

    fn detected(at: &str, detail: &str) -> Entry {
        entry(
            at,
            Event::Milestone {
                milestone: Milestone::Detected,
                at: at.into(),
                detail: detail.into(),
            },
        )
    }

    #[test]
    fn the_last_detected_and_the_last_since_win() {
        let r = build(&[
            opened("2026-11-22T10:00:00Z", "2026-11-22T08:00:00Z"),
            detected("2026-11-22T10:00:00Z", "the incident was opened"),
            entry(
                "2026-11-22T10:01:00Z",
                Event::Since {
                    since: "2026-11-22T07:30:00Z".into(),
                    from: "first use of the key".into(),
                },
            ),
            // `:detected` corrects detection to the alert's time.
            detected("2026-11-22T09:40:00Z", "set with :detected"),
            entry(
                "2026-11-22T10:20:00Z",
                Event::Milestone {
                    milestone: Milestone::Contained,
                    at: "2026-11-22T10:20:00Z".into(),
                    detail: String::new(),
                },
            ),
        ]);
        assert_eq!(
            r.summary.leak_start.as_deref(),
            Some("2026-11-22T07:30:00Z")
        );
        assert_eq!(
            r.summary.leak_start_from.as_deref(),
            Some("first use of the key")
        );
        assert_eq!(r.milestones[0].at.as_deref(), Some("2026-11-22T09:40:00Z"));
        assert_eq!(r.milestones[0].detail, "set with :detected");
        assert_eq!(r.time_to_detect.map(|s| s.words), Some("2 h 10 min".into()));
        assert_eq!(r.time_to_contain.map(|s| s.words), Some("40 min".into()));
        let md = markdown(&build(&[opened(
            "2026-11-22T10:00:00Z",
            "2026-11-22T08:00:00Z",
        )]));
        assert!(
            md.contains("- Time to detect (leak started → detected): 2 h\n"),
            "{md}"
        );
        assert!(md.contains("- Time to contain (detected → contained): not reached"));
    }

    #[test]
    fn an_old_journal_detected_at_the_leak_start_counts_from_the_opening() {
        // Before detection meant detection, the console wrote it at the leak's start.
        let old = [
            opened("2026-11-22T10:00:00Z", "2026-11-22T08:00:00Z"),
            detected("2026-11-22T08:00:00Z", OLD_DETECTED),
        ];
        let r = build(&old);
        assert_eq!(r.milestones[0].at.as_deref(), Some("2026-11-22T10:00:00Z"));
        assert!(r.milestones[0].derived);
        assert_eq!(r.time_to_detect.map(|s| s.seconds), Some(2 * 3600));
        // The same words at another time are an operator's choice, kept as written.
        let r = build(&[
            opened("2026-11-22T10:00:00Z", "2026-11-22T08:00:00Z"),
            detected("2026-11-22T09:00:00Z", OLD_DETECTED),
        ]);
        assert_eq!(r.milestones[0].at.as_deref(), Some("2026-11-22T09:00:00Z"));
        // Without an opening there is nothing better than what was written.
        let r = build(&old[1..]);
        assert_eq!(r.milestones[0].at.as_deref(), Some("2026-11-22T08:00:00Z"));
    }

    #[test]
    fn revoking_a_roles_sessions_changes_the_role_and_does_not_remove_it() {
        let role = Target {
            resource: Some(journal::ResourceTarget {
                kind: "iam-role".into(),
                region: "global".into(),
                id: "deploy-role".into(),
            }),
            ..Target::default()
        };
        let r = build(&[
            entry(
                "2026-11-22T10:40:00Z",
                Event::Action {
                    action_id: "a1".into(),
                    label: "revoke sessions".into(),
                },
            ),
            entry(
                "2026-11-22T10:40:00Z",
                Event::Intent {
                    action_id: "a1".into(),
                    step: 0,
                    call: "iam:PutRolePolicy AWSRevokeOlderSessions".into(),
                    target: role,
                },
            ),
            entry(
                "2026-11-22T10:40:01Z",
                Event::Outcome {
                    action_id: "a1".into(),
                    step: 0,
                    ok: true,
                    detail: "verified: role deploy-role denies sessions issued before …".into(),
                    created_key: None,
                },
            ),
        ]);
        let row = r
            .resources
            .iter()
            .find(|x| x.id == "deploy-role")
            .expect("the role");
        assert_eq!(row.fate, Fate::Changed);
        assert!(!story(&r).contains("removed 1"), "{}", story(&r));
    }

    #[test]
    fn removing_the_organisations_own_resources_is_collateral_touched_or_not() {
        let row = |id: &str, verdict: &str, fate: Fate| crate::report::model::ResourceRow {
            kind: "iam-role".into(),
            region: "global".into(),
            id: id.into(),
            account: None,
            name: String::new(),
            verdict: Some(verdict.into()),
            state: None,
            created: None,
            made_by: None,
            in_snapshot: true,
            fate,
            detail: String::new(),
            calls: Vec::new(),
        };
        let r = Report {
            resources: vec![
                row("old-role", "BEFORE", Fate::Removed),
                row("touched-role", "TOUCHED", Fate::Removed),
                row("kept-role", "TOUCHED", Fate::Left),
                row("backdoor", "LEAKED KEY", Fate::Removed),
            ],
            ..Report::default()
        };
        let c = collateral(&r);
        assert_eq!(c.len(), 2, "{c:?}");
        assert!(c.iter().any(|x| x.contains("old-role")));
        assert!(c.iter().any(|x| x.contains("touched-role")));
    }

    #[test]
    fn where_a_rotated_secret_went_is_in_the_notes() {
        let r = build(&[entry(
            "2026-11-22T11:03:00Z",
            Event::SecretHandled {
                key_id: "AKIAQ3EGUYRNEWKEY001".into(),
                detail: "written to /srv/incident/ci-deploy.credentials.csv (mode 0600)".into(),
            },
        )]);
        assert_eq!(r.notes.len(), 1);
        assert!(
            r.notes[0].text.contains("AKIAQ3EGUYRNEWKEY001")
                && r.notes[0].text.contains("ci-deploy.credentials.csv"),
            "{:?}",
            r.notes
        );
        assert!(markdown::markdown(&r).contains("ci-deploy.credentials.csv"));
    }

    #[test]
    fn non_removing_calls_follow_the_actions() {
        let calls = non_removing_calls();
        assert!(calls.contains(&"ec2:ModifyInstanceAttribute"));
        assert!(!calls.contains(&"ec2:TerminateInstances"));
        assert!(!calls.contains(&"iam:DeleteUser"));
    }
}
