//! The attacker's actions grouped by phase, oldest first, with refused calls summarised.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::journal::snapshot::RiskyEvent;
use crate::timeline::Tactic;

/// The four phases a postmortem tells the attack in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Looking around and getting in: recon, initial access, credential access.
    Access,
    Persistence,
    /// Privilege escalation and lateral movement.
    Escalation,
    /// Compute, exfiltration, defense evasion, organizations, fraud (cost).
    Impact,
    /// A tactic this version does not know (a journal written by a newer one).
    Other,
}

impl Phase {
    pub const ALL: [Phase; 5] = [
        Phase::Access,
        Phase::Persistence,
        Phase::Escalation,
        Phase::Impact,
        Phase::Other,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Phase::Access => "access",
            Phase::Persistence => "persistence",
            Phase::Escalation => "escalation",
            Phase::Impact => "impact",
            Phase::Other => "other",
        }
    }

    /// Every tactic in exactly one phase.
    pub fn of(t: Tactic) -> Phase {
        match t {
            Tactic::Recon | Tactic::InitialAccess | Tactic::CredentialAccess => Phase::Access,
            Tactic::Persistence => Phase::Persistence,
            Tactic::PrivilegeEscalation | Tactic::LateralMovement => Phase::Escalation,
            Tactic::Compute
            | Tactic::DefenseEvasion
            | Tactic::Organizations
            | Tactic::Exfiltration
            | Tactic::Fraud => Phase::Impact,
        }
    }

    /// The phase of a tactic as the snapshot writes it (`Tactic::label`).
    pub fn of_label(label: &str) -> Phase {
        Tactic::ALL
            .into_iter()
            .find(|t| t.label() == label)
            .map_or(Phase::Other, Phase::of)
    }
}

/// Calls of one name that AWS refused, summed up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refused {
    pub name: String,
    pub count: usize,
    /// `region: error code`, each once, in order of first appearance.
    pub why: Vec<String>,
    pub first: String,
    pub last: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseRow {
    pub phase: Phase,
    /// What went through, oldest first.
    pub events: Vec<RiskyEvent>,
    /// What AWS refused, by call name, in order of the first refusal.
    pub refused: Vec<Refused>,
}

/// The snapshot's high-risk events by phase (phases with nothing left out).
pub fn by_phase(events: &[RiskyEvent]) -> Vec<PhaseRow> {
    let mut sorted: Vec<&RiskyEvent> = events.iter().collect();
    // RFC 3339 in UTC sorts as text; the snapshot writes them so.
    sorted.sort_by(|a, b| a.time.cmp(&b.time));
    let mut rows: BTreeMap<Phase, PhaseRow> = BTreeMap::new();
    for e in sorted {
        let phase = Phase::of_label(&e.tactic);
        let row = rows.entry(phase).or_insert_with(|| PhaseRow {
            phase,
            events: Vec::new(),
            refused: Vec::new(),
        });
        let Some(code) = e.error.as_deref().filter(|c| !c.is_empty()) else {
            row.events.push(e.clone());
            continue;
        };
        let why = format!("{}: {code}", e.region);
        match row.refused.iter_mut().find(|r| r.name == e.name) {
            Some(r) => {
                r.count += 1;
                r.last = e.time.clone();
                if !r.why.contains(&why) {
                    r.why.push(why);
                }
            }
            None => row.refused.push(Refused {
                name: e.name.clone(),
                count: 1,
                why: vec![why],
                first: e.time.clone(),
                last: e.time.clone(),
            }),
        }
    }
    rows.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(time: &str, name: &str, tactic: &str, error: Option<&str>) -> RiskyEvent {
        RiskyEvent {
            time: time.into(),
            name: name.into(),
            service: "ec2".into(),
            region: "eu-west-1".into(),
            key: "AKIAQ3EGUYRLEAK01234".into(),
            source_ip: "203.0.113.9".into(),
            tactic: tactic.into(),
            severity: "high".into(),
            error: error.map(String::from),
        }
    }

    #[test]
    fn every_tactic_has_one_phase_by_its_label() {
        for t in Tactic::ALL {
            assert_eq!(Phase::of_label(t.label()), Phase::of(t), "{t:?}");
            assert_ne!(Phase::of(t), Phase::Other);
        }
        assert_eq!(Phase::of_label("time-travel"), Phase::Other);
    }

    #[test]
    fn phases_run_oldest_first_and_refusals_are_summed() {
        let mut events = vec![
            ev(
                "2026-11-22T09:52:00Z",
                "RunInstances",
                "compute",
                Some("VcpuLimitExceeded"),
            ),
            ev("2026-11-22T09:41:00Z", "CreateUser", "persistence", None),
            ev("2026-11-22T09:30:00Z", "GetCallerIdentity", "recon", None),
        ];
        for m in 40..47 {
            events.push(ev(
                &format!("2026-11-22T09:{m}:00Z"),
                "RunInstances",
                "compute",
                Some("VcpuLimitExceeded"),
            ));
        }
        events.push(ev("2026-11-22T09:45:30Z", "RunInstances", "compute", None));
        let rows = by_phase(&events);
        let phases: Vec<Phase> = rows.iter().map(|r| r.phase).collect();
        assert_eq!(phases, [Phase::Access, Phase::Persistence, Phase::Impact]);
        let impact = &rows[2];
        assert_eq!(impact.events.len(), 1);
        assert_eq!(impact.refused.len(), 1);
        let r = &impact.refused[0];
        assert_eq!(r.count, 8);
        assert_eq!(r.why, ["eu-west-1: VcpuLimitExceeded"]);
        assert_eq!(
            (r.first.as_str(), r.last.as_str()),
            ("2026-11-22T09:40:00Z", "2026-11-22T09:52:00Z")
        );
    }
}
