//! The report as Markdown: the first draft of a postmortem.

use std::fmt::Write as _;

use super::{Fate, Report, StateFrom, StepOutcome};
use crate::domain::key_short;
use crate::fmt;
use crate::journal;

/// The report as a Markdown document.
pub fn markdown(r: &Report) -> String {
    let mut out = String::new();
    header(&mut out, r);
    summary(&mut out, r);
    game(&mut out, r);
    milestones(&mut out, r);
    detection(&mut out, r);
    keys(&mut out, r);
    footholds(&mut out, r);
    attacker(&mut out, r);
    evidence(&mut out, r);
    kept(&mut out, r);
    resources(&mut out, r);
    cost(&mut out, r);
    checklist(&mut out, r);
    actions(&mut out, r);
    notes(&mut out, r);
    journal_facts(&mut out, r);
    out
}

/// `2026-11-22T10:26Z`: RFC 3339 to the minute, UTC.
fn minute(ts: &str) -> String {
    match journal::parse_ts(ts) {
        Some(t) => fmt::iso_minute(t),
        None => ts.to_string(),
    }
}

fn opt_minute(ts: Option<&str>) -> String {
    ts.map(minute).unwrap_or_else(|| "—".into())
}

/// Text made safe for a table cell.
fn cell(s: &str) -> String {
    let s = s.trim();
    if s.is_empty() {
        return "—".into();
    }
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\r', '\n'], " ")
}

/// Inline code in a table cell, whatever the text holds.
fn code(s: &str) -> String {
    inline_code(&s.replace('|', "\\|"))
}

/// Inline code outside a table.
fn inline_code(s: &str) -> String {
    let s = s.replace(['\r', '\n'], " ");
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

fn table(out: &mut String, head: &[&str], rows: impl IntoIterator<Item = Vec<String>>) {
    let _ = writeln!(out, "| {} |", head.join(" | "));
    let _ = writeln!(out, "|{}", head.iter().map(|_| "---|").collect::<String>());
    for row in rows {
        let _ = writeln!(out, "| {} |", row.join(" | "));
    }
    out.push('\n');
}

fn header(out: &mut String, r: &Report) {
    let account = r.summary.account.as_deref().unwrap_or("unknown account");
    let _ = writeln!(out, "# Incident report: account {account}\n");
    let span = match (&r.journal.first, &r.journal.last) {
        (Some(f), Some(l)) => format!(", {} to {}", minute(f), minute(l)),
        _ => String::new(),
    };
    let _ = writeln!(
        out,
        "Written by `keyspill report` from the incident journal alone ({}{span}). \
         All times are UTC.\n",
        fmt::plural(r.journal.entries, "entry", "entries")
    );
    let n = r.journal.unreadable.len();
    if n > 0 {
        let _ = writeln!(
            out,
            "> **{} of the journal could not be read** and {} left out; see [Journal](#journal).\n",
            fmt::plural(n, "line", "lines"),
            if n == 1 { "is" } else { "are" }
        );
    }
    if r.journal.snapshots == 0 {
        let _ = writeln!(
            out,
            "> The journal holds no snapshot of what the console knew (an older incident): \
             keys come from the action log, and the attacker's events, resources found, cost \
             and checklist are not known.\n"
        );
    }
}

fn summary(out: &mut String, r: &Report) {
    let s = &r.summary;
    out.push_str("## Summary\n\n");
    if !r.story.is_empty() {
        let _ = writeln!(out, "{}\n", r.story.replace('\n', " "));
    }
    let user_of = |k: &str| {
        r.keys
            .iter()
            .find(|row| row.key_id == k)
            .and_then(|row| row.user.clone())
    };
    let leaked = if s.leaked_keys.is_empty() {
        "—".to_string()
    } else {
        s.leaked_keys
            .iter()
            .map(|k| match user_of(k) {
                Some(u) => format!("{} ({})", code(k), cell(&u)),
                None => code(k),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let leak_start = match (&s.leak_start, &s.leak_start_from) {
        (Some(t), Some(from)) => format!("{} ({})", minute(t), cell(from)),
        (Some(t), None) => minute(t),
        _ => "unknown".into(),
    };
    let opened = match (&s.opened, &s.opened_by) {
        (Some(t), Some(by)) => format!("{} by {}", minute(t), cell(by)),
        (Some(t), None) => minute(t),
        _ => "—".into(),
    };
    let span = |x: &Option<super::Span>| {
        x.as_ref()
            .map(|s| s.words.clone())
            .unwrap_or_else(|| "not reached".into())
    };
    table(
        out,
        &["", ""],
        [
            vec!["Account".into(), cell(s.account.as_deref().unwrap_or(""))],
            vec![
                "keyspill ran as".into(),
                cell(s.caller.as_deref().unwrap_or("")),
            ],
            vec!["Leaked keys".into(), leaked],
            vec!["Leak started".into(), leak_start],
            vec!["Incident opened".into(), opened],
            vec!["Operators".into(), cell(&s.operators.join(", "))],
            vec!["Time to detect".into(), span(&r.time_to_detect)],
            vec!["Time to contain".into(), span(&r.time_to_contain)],
            vec!["Time to eradicate".into(), span(&r.time_to_eradicate)],
        ],
    );
}

/// How the score is made, under the game day's score.
const SCORE_FORMULA: &str = "How it is scored: containing (no open foothold) is worth 40 points, \
full within 15 min of detection and sliding in a straight line to none at 2 h; eradicating \
is worth 25, full within 1 h and none at 8 h; what the attacker still held at the last \
export is worth 20, 10 off per holding (none when never read); collateral damage is worth \
10, 5 off per legitimate key disabled or deleted or resource there before the leak removed; \
preserving evidence is worth 5 (evidence kept before removal, or events marked, and no plan run \
with evidence skipped). Grades: A from 90, B from 80, C from 70, D from 60, else F.\n\n";

fn phase_title(p: super::phases::Phase) -> &'static str {
    use super::phases::Phase;
    match p {
        Phase::Access => "Access (recon, initial access, credential access)",
        Phase::Persistence => "Persistence",
        Phase::Escalation => "Escalation (privilege escalation, lateral movement)",
        Phase::Impact => "Impact (compute, exfiltration, defense evasion, organizations, fraud)",
        Phase::Other => "Other (a tactic this version does not know)",
    }
}

/// The game day's score, first thing after the summary when the journal is a game.
fn game(out: &mut String, r: &Report) {
    let Some(g) = &r.game else {
        return;
    };
    out.push_str(
        "## Game day score

",
    );
    if let Some(sc) = &g.score {
        let _ = writeln!(out, "**{} / 100, grade {}.**\n", sc.points, sc.grade);
        let parts = sc
            .parts
            .iter()
            .map(|p| format!("{} {}/{}", p.name, p.points, p.max))
            .collect::<Vec<_>>()
            .join(", ");
        let _ = writeln!(out, "Points: {parts}.\n");
        if sc.misses.is_empty() {
            out.push_str("Misses: none.\n\n");
        } else {
            out.push_str("Misses:\n\n");
            for m in &sc.misses {
                let _ = writeln!(out, "- {}", m.replace('\n', " "));
            }
            out.push('\n');
        }
        out.push_str(SCORE_FORMULA);
    }
    out.push_str(&format!(
        "Scenario `{}`, seed {}.

",
        g.scenario, g.seed
    ));
    let or_not =
        |s: &Option<String>, what: &str| s.clone().unwrap_or_else(|| format!("not {what}"));
    out.push_str(&format!(
        "- Time to contain: {}
- Time to eradicate: {}
",
        or_not(&g.time_to_contain, "contained"),
        or_not(&g.time_to_eradicate, "eradicated")
    ));
    match &g.holds_at {
        None => out.push_str(
            "- What the attacker still held: not read yet (export from the console)
",
        ),
        Some(at) if g.attacker_holds.is_empty() => out.push_str(&format!(
            "- What the attacker still held at {}: nothing
",
            minute(at)
        )),
        Some(at) => {
            out.push_str(&format!(
                "- What the attacker still held at {}:
",
                minute(at)
            ));
            for h in &g.attacker_holds {
                out.push_str(&format!(
                    "  - {h}
"
                ));
            }
        }
    }
    out.push('\n');
}

fn milestones(out: &mut String, r: &Report) {
    out.push_str("## Times\n\n");
    let at = |m: journal::Milestone| r.milestones.iter().find(|row| row.milestone == m);
    let mut rows = vec![vec![
        "leak started".to_string(),
        opt_minute(r.summary.leak_start.as_deref()),
        cell(r.summary.leak_start_from.as_deref().unwrap_or("")),
    ]];
    for m in &r.milestones {
        let when = match &m.at {
            Some(t) if m.derived => format!("{} \\*", minute(t)),
            Some(t) => minute(t),
            None => "not reached".into(),
        };
        rows.push(vec![m.milestone.label().into(), when, cell(&m.detail)]);
    }
    table(out, &["", "when", "how it is known"], rows);
    if r.milestones.iter().any(|m| m.derived) {
        out.push_str(
            "\\* worked out from other entries: the journal holds no milestone entry for it.\n\n",
        );
    }
    let words = |s: &Option<super::Span>, what: &str| match s {
        Some(s) => s.words.clone(),
        None => what.to_string(),
    };
    let detected = at(journal::Milestone::Detected).is_some_and(|m| m.at.is_some());
    let from = if detected {
        "not reached"
    } else {
        "not known (no detection time)"
    };
    let detect = if r.summary.leak_start.is_none() {
        "not known (no leak start)"
    } else {
        from
    };
    let _ = writeln!(
        out,
        "- Time to detect (leak started → detected): {}\n\
         - Time to contain (detected → contained): {}\n\
         - Time to eradicate (detected → eradicated): {}\n\
         - Time to close (detected → closed): {}\n",
        words(&r.time_to_detect, detect),
        words(&r.time_to_contain, from),
        words(&r.time_to_eradicate, from),
        words(&r.time_to_close, from),
    );
}

fn keys(out: &mut String, r: &Report) {
    out.push_str("## Access keys\n\n");
    if r.keys.is_empty() {
        out.push_str("No key is named in the journal.\n\n");
        return;
    }
    let rows = r.keys.iter().map(|k| {
        let mut notes = Vec::new();
        if k.leaked {
            notes.push("leaked");
        }
        if k.new_after_leak {
            notes.push("created after the leak");
        }
        if k.created_by_response {
            notes.push("created by this response");
        }
        let from = match k.status_from {
            StateFrom::Snapshot => "last snapshot",
            StateFrom::ActionLog => "action log",
            StateFrom::Unknown => "—",
        };
        vec![
            code(&k.key_id),
            cell(k.user.as_deref().unwrap_or("")),
            cell(&k.status),
            from.into(),
            cell(&notes.join(", ")),
        ]
    });
    table(out, &["key", "user", "final state", "from", "notes"], rows);
}

fn footholds(out: &mut String, r: &Report) {
    out.push_str("## Footholds\n\n");
    if r.footholds.is_empty() && r.verdict.is_none() {
        out.push_str("No snapshot recorded the attacker's footholds.\n\n");
        return;
    }
    if let Some(v) = &r.verdict {
        out.push_str(&format!("At the last snapshot: **{}**.\n\n", cell(v)));
    }
    let rows = r.footholds.iter().map(|f| {
        vec![
            f.state.to_uppercase(),
            cell(&f.kind),
            code(&f.id),
            cell(&f.principal),
            cell(&f.why),
            cell(&f.origin),
        ]
    });
    table(
        out,
        &["state", "kind", "id", "principal", "why", "origin"],
        rows,
    );
}

fn attacker(out: &mut String, r: &Report) {
    out.push_str("## What the attacker did\n\n");
    if r.journal.snapshots == 0 {
        out.push_str("Not known: the journal holds no snapshot.\n\n");
        return;
    }
    if r.high_risk.is_empty() {
        out.push_str("No high-risk event in the timeline.\n\n");
    } else {
        let refused: usize = r
            .attacker
            .iter()
            .flat_map(|p| &p.refused)
            .map(|x| x.count)
            .sum();
        let _ = writeln!(
            out,
            "{} in the timeline ({} refused), by phase, oldest first.\n",
            fmt::plural(r.high_risk.len(), "high-risk event", "high-risk events"),
            refused
        );
        if r.high_risk_left_out > 0 {
            let _ = writeln!(
                out,
                "> {} more left out of the snapshot (it keeps the oldest and the newest).\n",
                fmt::plural(r.high_risk_left_out, "high-risk event", "high-risk events")
            );
        }
        for p in &r.attacker {
            let _ = writeln!(out, "### {}\n", phase_title(p.phase));
            if !p.events.is_empty() {
                let rows = p.events.iter().map(|e| {
                    vec![
                        minute(&e.time),
                        code(&e.name),
                        cell(&e.region),
                        cell(&key_short(&e.key)),
                        cell(&e.source_ip),
                        cell(&e.tactic),
                        cell(&e.severity),
                    ]
                });
                table(
                    out,
                    &[
                        "time",
                        "event",
                        "region",
                        "key",
                        "source IP",
                        "tactic",
                        "severity",
                    ],
                    rows,
                );
            }
            for x in &p.refused {
                let when = if x.first == x.last {
                    format!("at {}", minute(&x.first))
                } else {
                    format!("first {} last {}", minute(&x.first), minute(&x.last))
                };
                let _ = writeln!(
                    out,
                    "- {} refused {}× ({}), {when}",
                    code(&x.name),
                    x.count,
                    cell(&x.why.join(", "))
                );
            }
            if !p.refused.is_empty() {
                out.push('\n');
            }
        }
    }
    if !r.timeline_totals.is_empty() {
        out.push_str("Timeline totals:\n\n");
        for t in &r.timeline_totals {
            let _ = writeln!(out, "- {}: {}", t.name, t.value);
        }
        out.push('\n');
    }
}

fn evidence(out: &mut String, r: &Report) {
    out.push_str("## Evidence marked\n\n");
    if r.evidence.is_empty() {
        out.push_str("None marked.\n\n");
        return;
    }
    let rows = r.evidence.iter().map(|e| {
        vec![
            minute(&e.at),
            cell(&e.operator),
            code(&e.event_id),
            cell(&e.summary),
            cell(&e.origin),
        ]
    });
    table(
        out,
        &["marked", "by", "event id", "summary", "origin"],
        rows,
    );
}

fn kept(out: &mut String, r: &Report) {
    use crate::resources::evidence::{EVIDENCE_DIR, MANIFEST_FILE};
    out.push_str("## Evidence kept\n\n");
    let k = &r.kept;
    for s in &k.skipped {
        let _ = writeln!(
            out,
            "- **No evidence kept** by the operator's choice: {} at {} for {}.",
            cell(&s.operator),
            minute(&s.at),
            cell(&s.targets.join(", "))
        );
    }
    for s in &k.environment_in_clear {
        let _ = writeln!(
            out,
            "- Lambda environment values saved **in clear** ({} at {}): treat the evidence \
             directory as holding secrets.",
            cell(&s.operator),
            minute(&s.at)
        );
    }
    if !k.skipped.is_empty() || !k.environment_in_clear.is_empty() {
        out.push('\n');
    }
    if k.entries.is_empty() {
        out.push_str("Nothing kept.\n\n");
        return;
    }
    let _ = writeln!(
        out,
        "Files are under `{EVIDENCE_DIR}/` in the incident directory, listed with their SHA-256 \
         in `{EVIDENCE_DIR}/{MANIFEST_FILE}`; `keyspill evidence verify DIR` checks them.\n"
    );
    let rows = k.entries.iter().map(|e| {
        let kept = match (&e.file, &e.snapshot_id) {
            (Some(f), _) => code(f),
            (None, Some(s)) => format!(
                "snapshot {} of {}",
                code(s),
                code(e.volume_id.as_deref().unwrap_or("?"))
            ),
            (None, None) => String::new(),
        };
        vec![
            minute(&e.time),
            cell(&match &e.account {
                Some(a) => format!("{} {} ({}, account {a})", e.kind, e.id, e.region),
                None => format!("{} {} ({})", e.kind, e.id, e.region),
            }),
            cell(&e.what),
            kept,
            e.sha256.as_deref().map(code).unwrap_or_default(),
            cell(e.made_by.as_deref().unwrap_or("")),
        ]
    });
    table(
        out,
        &[
            "kept",
            "resource",
            "what",
            "file or snapshot",
            "SHA-256",
            "made by",
        ],
        rows,
    );
}

fn resources(out: &mut String, r: &Report) {
    out.push_str("## Resources\n\n");
    if r.resources.is_empty() {
        out.push_str(if r.journal.snapshots == 0 {
            "Not known: the journal holds no snapshot, and no action named a resource.\n\n"
        } else {
            "The sweep found no resource the leak made or touched.\n\n"
        });
        return;
    }
    let fates = [
        Fate::Removed,
        Fate::Changed,
        Fate::Failed,
        Fate::OutcomeUnknown,
        Fate::NotAttempted,
        Fate::Left,
    ];
    let counts: Vec<String> = fates
        .iter()
        .filter_map(|f| {
            let n = r.resources.iter().filter(|x| x.fate == *f).count();
            (n > 0).then(|| format!("{n} {}", f.label()))
        })
        .collect();
    let _ = writeln!(
        out,
        "{}: {}.\n",
        fmt::plural(r.resources.len(), "resource", "resources"),
        counts.join(", ")
    );
    let rows = r
        .resources
        .iter()
        .filter(|x| x.fate != Fate::Left)
        .map(|x| {
            // Bold only what still needs someone: a failure, an unknown outcome, or something
            // of the attacker's nobody dealt with.
            let fate = match x.fate {
                Fate::Failed | Fate::OutcomeUnknown | Fate::NotAttempted => {
                    format!("**{}**", x.fate.label())
                }
                _ => x.fate.label().to_string(),
            };
            vec![
                format!("{} {}", cell(&x.kind), code(&x.id)),
                cell(&x.place()),
                cell(&x.name),
                cell(x.verdict.as_deref().unwrap_or("not in any snapshot")),
                made_by(x),
                fate,
                cell(&x.detail),
            ]
        })
        .collect::<Vec<_>>();
    if !rows.is_empty() {
        table(
            out,
            &[
                "resource", "region", "name", "verdict", "made", "outcome", "detail",
            ],
            rows,
        );
    }
    let left: Vec<_> = r
        .resources
        .iter()
        .filter(|x| x.fate == Fate::Left)
        .collect();
    if !left.is_empty() {
        out.push_str("Left in place (there before the leak: the organisation's own):\n\n");
        for x in left {
            let name = if x.name.trim().is_empty() {
                String::new()
            } else {
                format!(" {}", cell(&x.name))
            };
            // A touched one says what to review; an untouched one needs nothing more.
            let review = if x.detail.contains("touched") {
                format!(": {}", cell(&x.detail))
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "- {} {}{name} ({}){review}",
                cell(&x.kind),
                code(&x.id),
                cell(&x.place())
            );
        }
        out.push('\n');
    }
}

/// "by AKIA…9999 (backup-svc) at 2026-11-22T09:41Z via RunInstances", or when it was created
/// when that is all the sweep knew.
fn made_by(x: &super::ResourceRow) -> String {
    match (&x.made_by, &x.created) {
        (Some(m), _) => {
            let who = match &m.principal {
                Some(p) if !p.is_empty() => format!("{} ({})", key_short(&m.key), cell(p)),
                _ => key_short(&m.key),
            };
            format!("by {who} at {} via {}", minute(&m.at), code(&m.via))
        }
        (None, Some(c)) => format!("at {}, maker not known", minute(c)),
        (None, None) => "not known".into(),
    }
}

fn cost(out: &mut String, r: &Report) {
    out.push_str("## Cost impact\n\n");
    let Some(c) = &r.cost else {
        out.push_str("Not known: no cost figures in the journal.\n\n");
        return;
    };
    let u = c.unit.as_str();
    let extra = c.since_daily_cents - c.baseline_daily_cents;
    table(
        out,
        &["", ""],
        [
            vec![
                "Spent since the leak".into(),
                fmt::money_cents(c.since_leak_cents, u),
            ],
            vec![
                "Daily before the leak (median)".into(),
                fmt::money_cents(c.baseline_daily_cents, u),
            ],
            vec![
                "Daily since the leak (average)".into(),
                format!(
                    "{} ({}{} a day)",
                    fmt::money_cents(c.since_daily_cents, u),
                    if extra >= 0 { "+" } else { "" },
                    fmt::money_cents(extra, u)
                ),
            ],
            vec!["Anomalies".into(), c.anomalies.to_string()],
            vec![
                "Regions new since the leak".into(),
                cell(&c.new_regions.join(", ")),
            ],
            vec![
                "Cost Explorer requests keyspill made (USD 0.01 each)".into(),
                fmt::grouped(c.cost_explorer_requests),
            ],
        ],
    );
    if !c.top_services.is_empty() {
        let rows = c
            .top_services
            .iter()
            .map(|s| vec![cell(&s.service), fmt::money_cents(s.extra_daily_cents, u)]);
        table(out, &["service", "extra per day"], rows);
    }
}

fn checklist(out: &mut String, r: &Report) {
    out.push_str("## Checklist\n\n");
    if r.checklist.is_empty() {
        out.push_str("Not known: no checklist in the journal.\n\n");
        return;
    }
    let rows = r.checklist.iter().map(|s| {
        vec![
            cell(&s.title),
            cell(&s.status),
            cell(s.by.as_deref().unwrap_or("")),
            opt_minute(s.at.as_deref()),
            cell(&s.detail),
        ]
    });
    table(out, &["step", "status", "ticked by", "at", "detail"], rows);
}

fn actions(out: &mut String, r: &Report) {
    out.push_str("## Action log\n\n");
    if r.actions.is_empty() {
        out.push_str("No action was taken.\n\n");
        return;
    }
    for a in &r.actions {
        let _ = writeln!(
            out,
            "### {} {} — {}\n",
            opt_minute(a.at.as_deref()),
            a.label,
            a.result
        );
        let _ = writeln!(
            out,
            "Confirmed by {}; action id {}.\n",
            cell(&a.operator),
            code(&a.id)
        );
        if a.steps.is_empty() {
            out.push_str("No call was made.\n\n");
            continue;
        }
        let rows = a.steps.iter().map(|s| {
            let outcome = match s.outcome {
                StepOutcome::Ok => "ok".to_string(),
                o => format!("**{}**", o.label()),
            };
            let mut detail = cell(&s.detail);
            if let Some(v) = &s.reverified {
                detail = format!("re-verified {}: {}", minute(&v.at), cell(&v.detail));
            } else if s.outcome == StepOutcome::Unknown {
                detail = "the process stopped before the outcome was written".into();
            }
            if let Some(k) = s
                .created_key
                .as_ref()
                .filter(|k| !s.detail.contains(k.as_str()))
            {
                detail = format!("{detail} (created {})", code(k));
            }
            vec![
                s.step.to_string(),
                opt_minute(s.intent_at.as_deref().or(s.outcome_at.as_deref())),
                if s.call.is_empty() {
                    "—".into()
                } else {
                    code(&s.call)
                },
                cell(&s.target_text),
                outcome,
                detail,
            ]
        });
        table(
            out,
            &["step", "time", "call", "target", "outcome", "detail"],
            rows,
        );
    }
}

fn notes(out: &mut String, r: &Report) {
    out.push_str("## Notes\n\n");
    if r.notes.is_empty() {
        out.push_str("None.\n\n");
        return;
    }
    for n in &r.notes {
        let on = match (&n.step_title, &n.step) {
            (Some(t), _) => format!(", on *{}*", t.replace(['*', '\n'], " ")),
            (None, Some(id)) => format!(", on step {}", inline_code(id)),
            (None, None) => String::new(),
        };
        let _ = writeln!(
            out,
            "- **{}** {}{on}: {}",
            minute(&n.at),
            n.operator,
            n.text.replace('\n', " ")
        );
    }
    out.push('\n');
}

fn journal_facts(out: &mut String, r: &Report) {
    out.push_str("## Journal\n\n");
    let j = &r.journal;
    let _ = writeln!(
        out,
        "- {} read.",
        fmt::plural(j.entries, "entry", "entries")
    );
    match (&j.snapshot_at, j.snapshots) {
        (Some(at), n) => {
            let _ = writeln!(
                out,
                "- {}; the report uses the last, written {}.",
                fmt::plural(n, "snapshot", "snapshots"),
                minute(at)
            );
        }
        (None, _) => out.push_str("- No snapshot.\n"),
    }
    if j.unreadable.is_empty() {
        out.push_str("- Every line could be read.\n");
    } else {
        let _ = writeln!(
            out,
            "- {} could not be read:",
            fmt::plural(j.unreadable.len(), "line", "lines")
        );
        for u in &j.unreadable {
            let _ = writeln!(out, "  - {}", inline_code(u));
        }
    }
}

/// The alerts that started (or joined) the incident, when any source raised one.
fn detection(out: &mut String, r: &Report) {
    if r.detections.is_empty() {
        return;
    }
    out.push_str("## Detection\n\n");
    let rows = r.detections.iter().map(|a| {
        vec![
            cell(a.source.name()),
            cell(&a.severity),
            cell(&a.kind),
            cell(&a.title),
            cell(&a.keys.join(", ")),
            cell(&a.region),
            a.first_seen.as_deref().map(minute).unwrap_or_default(),
        ]
    });
    table(
        out,
        &[
            "source",
            "severity",
            "type",
            "title",
            "keys",
            "region",
            "first seen",
        ],
        rows,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_code_survive_pipes_and_backticks() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
        assert_eq!(cell("  "), "—");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(minute("2026-11-22T10:26:59.5+01:00"), "2026-11-22T09:26Z");
        assert_eq!(minute("yesterday"), "yesterday");
    }
}
