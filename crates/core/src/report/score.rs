//! The game day's score: a number out of 100, a grade and the misses in words, from the
//! incident's own times and what the attacker still held. One function, read by the report's
//! Game day section and by the game-over lines, so both give the same numbers.
//!
//! The formula (also in the README):
//!
//! | part | points | full marks | zero |
//! |---|---|---|---|
//! | contain (no open foothold) | 40 | within 15 min of detection | 2 h or more, or never |
//! | eradicate | 25 | within 1 h of detection | 8 h or more, or never |
//! | what the attacker still held | 20 | nothing | 10 points off per holding; 0 when never read |
//! | collateral damage | 10 | none | 5 points off per legitimate key disabled or deleted, or resource there before the leak removed |
//! | evidence preserved | 5 | evidence kept before removal (or events marked), no plan that skipped it | a plan skipped evidence, or nothing kept nor marked |
//!
//! Between full marks and zero the points slide in a straight line, rounded down.

use serde::{Deserialize, Serialize};

/// Contain within this of detection for full marks...
pub const CONTAIN_FULL_SECS: i64 = 15 * 60;
/// ...and no marks from this on.
pub const CONTAIN_ZERO_SECS: i64 = 2 * 3600;
pub const ERADICATE_FULL_SECS: i64 = 3600;
pub const ERADICATE_ZERO_SECS: i64 = 8 * 3600;

pub const CONTAIN_POINTS: u32 = 40;
pub const ERADICATE_POINTS: u32 = 25;
pub const HOLDS_POINTS: u32 = 20;
pub const HOLD_PENALTY: u32 = 10;
pub const COLLATERAL_POINTS: u32 = 10;
pub const COLLATERAL_PENALTY: u32 = 5;
pub const EVIDENCE_POINTS: u32 = 5;

/// What the score is computed from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Inputs {
    /// Seconds from detection to containment; `None` when not contained.
    pub contain_secs: Option<i64>,
    pub eradicate_secs: Option<i64>,
    /// What the attacker still held; `None` when it was never read.
    pub holds: Option<Vec<String>>,
    /// Legitimate users' keys disabled or deleted, and resources there before the leak
    /// removed, each in words.
    pub collateral: Vec<String>,
    /// Events marked as evidence.
    pub evidence: usize,
    /// Files and snapshots kept before removal.
    pub kept: usize,
    /// Plans run without keeping evidence, each in words.
    pub skipped: Vec<String>,
}

/// One part of the score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    pub name: String,
    pub points: u32,
    pub max: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    /// Out of 100.
    pub points: u32,
    /// `A` (90 and up), `B` (80), `C` (70), `D` (60), else `F`.
    pub grade: String,
    pub parts: Vec<Part>,
    /// What cost points, in words.
    pub misses: Vec<String>,
}

/// The grade for a number of points out of 100.
pub fn grade(points: u32) -> &'static str {
    match points {
        90.. => "A",
        80..=89 => "B",
        70..=79 => "C",
        60..=69 => "D",
        _ => "F",
    }
}

/// Points for a time: all of `max` up to `full`, none from `zero` on, a straight line between.
fn sliding(secs: Option<i64>, full: i64, zero: i64, max: u32) -> u32 {
    match secs {
        None => 0,
        Some(s) if s <= full => max,
        Some(s) if s >= zero => 0,
        Some(s) => {
            let left = (zero - s) as u64 * u64::from(max) / (zero - full) as u64;
            u32::try_from(left).unwrap_or(0)
        }
    }
}

fn mins(secs: i64) -> String {
    crate::fmt::duration_words(secs)
}

/// The score for `i`.
pub fn score(i: &Inputs) -> Score {
    let mut misses = Vec::new();
    let contain = sliding(
        i.contain_secs,
        CONTAIN_FULL_SECS,
        CONTAIN_ZERO_SECS,
        CONTAIN_POINTS,
    );
    match i.contain_secs {
        None => misses.push("not contained: footholds were still open".to_string()),
        Some(s) if contain < CONTAIN_POINTS => misses.push(format!(
            "contained {} after detection (full marks within {})",
            mins(s),
            mins(CONTAIN_FULL_SECS)
        )),
        Some(_) => {}
    }
    let eradicate = sliding(
        i.eradicate_secs,
        ERADICATE_FULL_SECS,
        ERADICATE_ZERO_SECS,
        ERADICATE_POINTS,
    );
    match i.eradicate_secs {
        None => misses.push("not eradicated: something of the attacker's was left".to_string()),
        Some(s) if eradicate < ERADICATE_POINTS => misses.push(format!(
            "eradicated {} after detection (full marks within {})",
            mins(s),
            mins(ERADICATE_FULL_SECS)
        )),
        Some(_) => {}
    }
    let holds = match &i.holds {
        None => {
            misses.push("what the attacker held was never read (no export)".to_string());
            0
        }
        Some(h) => {
            for x in h {
                misses.push(format!("the attacker still held: {x}"));
            }
            let off = u32::try_from(h.len())
                .unwrap_or(u32::MAX)
                .saturating_mul(HOLD_PENALTY);
            HOLDS_POINTS.saturating_sub(off)
        }
    };
    for c in &i.collateral {
        misses.push(format!("collateral damage: {c}"));
    }
    let off = u32::try_from(i.collateral.len())
        .unwrap_or(u32::MAX)
        .saturating_mul(COLLATERAL_PENALTY);
    let collateral = COLLATERAL_POINTS.saturating_sub(off);
    let evidence = if !i.skipped.is_empty() {
        for s in &i.skipped {
            misses.push(format!("removed without keeping evidence: {s}"));
        }
        0
    } else if i.kept > 0 || i.evidence > 0 {
        EVIDENCE_POINTS
    } else {
        misses.push("no evidence kept and no event marked".to_string());
        0
    };
    let parts = vec![
        part("contain", contain, CONTAIN_POINTS),
        part("eradicate", eradicate, ERADICATE_POINTS),
        part("attacker's holdings", holds, HOLDS_POINTS),
        part("collateral damage", collateral, COLLATERAL_POINTS),
        part("evidence preserved", evidence, EVIDENCE_POINTS),
    ];
    let points = parts.iter().map(|p| p.points).sum();
    Score {
        points,
        grade: grade(points).to_string(),
        parts,
        misses,
    }
}

fn part(name: &str, points: u32, max: u32) -> Part {
    Part {
        name: name.to_string(),
        points,
        max,
    }
}

/// The game-over lines the terminal prints, from the same report (and so the same score) as
/// `keyspill report` writes.
pub fn game_over_lines(r: &super::Report) -> Vec<String> {
    let mut out = vec!["game over".to_string()];
    let Some(g) = &r.game else {
        out.push("  the journal holds no game".into());
        return out;
    };
    let sc = g
        .score
        .clone()
        .unwrap_or_else(|| score(&super::score_inputs(r)));
    out.push(format!("  score {} / 100, grade {}", sc.points, sc.grade));
    out.push(format!(
        "    {}",
        sc.parts
            .iter()
            .map(|p| format!("{} {}/{}", p.name, p.points, p.max))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let time = |s: &Option<super::Span>, what: &str| match s {
        Some(s) => format!("  {what} {} after detection", s.words),
        None => format!("  not {what}"),
    };
    out.push(time(&r.time_to_contain, "contained"));
    out.push(time(&r.time_to_eradicate, "eradicated"));
    if sc.misses.is_empty() {
        out.push("  no misses".into());
    } else {
        out.push("  misses:".into());
        out.extend(sc.misses.iter().map(|m| format!("    - {m}")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perfect() -> Inputs {
        Inputs {
            contain_secs: Some(CONTAIN_FULL_SECS),
            eradicate_secs: Some(ERADICATE_FULL_SECS),
            holds: Some(Vec::new()),
            collateral: Vec::new(),
            evidence: 0,
            kept: 3,
            skipped: Vec::new(),
        }
    }

    #[test]
    fn game_over_says_what_the_report_says() {
        use crate::journal::{Entry, Event, Milestone};
        let e = |ts: &str, event| Entry {
            ts: ts.into(),
            operator: "ic".into(),
            event,
        };
        let game = |holds: Vec<String>| Event::Game {
            scenario: "github-leak".into(),
            seed: 7,
            attacker_holds: holds,
        };
        let r = crate::report::build(&[
            e("2026-11-22T10:00:00Z", game(vec![])),
            e(
                "2026-11-22T10:00:00Z",
                Event::Milestone {
                    milestone: Milestone::Detected,
                    at: "2026-11-22T10:00:00Z".into(),
                    detail: String::new(),
                },
            ),
            e(
                "2026-11-22T10:30:00Z",
                Event::Milestone {
                    milestone: Milestone::Contained,
                    at: "2026-11-22T10:30:00Z".into(),
                    detail: String::new(),
                },
            ),
            e("2026-11-22T10:31:00Z", game(vec![])),
        ]);
        let lines = game_over_lines(&r);
        // 30 min: 40 × (120 − 30) / (120 − 15) = 34; holdings 20, collateral 10, no
        // evidence: 64.
        assert_eq!(lines[1], "  score 64 / 100, grade D");
        assert!(crate::report::markdown(&r).contains("**64 / 100, grade D.**"));
        assert_eq!(lines[3], "  contained 30 min after detection");
        assert_eq!(lines[4], "  not eradicated");
        assert!(lines.contains(&"    - no evidence kept and no event marked".to_string()));
    }

    #[test]
    fn evidence_is_preserved_by_keeping_it_and_lost_by_skipping_it() {
        let s = score(&perfect());
        assert_eq!(s.points, 100);
        let marked_only = score(&Inputs {
            kept: 0,
            evidence: 2,
            ..perfect()
        });
        assert_eq!(marked_only.points, 100);
        let skipped = score(&Inputs {
            skipped: vec!["remove 3 resources at 10:20 by dana".into()],
            ..perfect()
        });
        assert_eq!(skipped.points, 100 - EVIDENCE_POINTS);
        assert!(
            skipped.misses.contains(
                &"removed without keeping evidence: remove 3 resources at 10:20 by dana"
                    .to_string()
            ),
            "{:?}",
            skipped.misses
        );
        let nothing = score(&Inputs {
            kept: 0,
            ..perfect()
        });
        assert_eq!(nothing.points, 100 - EVIDENCE_POINTS);
    }

    #[test]
    fn the_parts_add_up_to_100() {
        let s = score(&perfect());
        assert_eq!(s.parts.iter().map(|p| p.max).sum::<u32>(), 100);
        assert_eq!((s.points, s.grade.as_str()), (100, "A"));
        assert!(s.misses.is_empty(), "{:?}", s.misses);
    }

    #[test]
    fn grades_at_their_edges() {
        for (p, g) in [
            (100, "A"),
            (90, "A"),
            (89, "B"),
            (80, "B"),
            (79, "C"),
            (70, "C"),
            (69, "D"),
            (60, "D"),
            (59, "F"),
            (0, "F"),
        ] {
            assert_eq!(grade(p), g, "{p}");
        }
    }

    #[test]
    fn containing_slides_from_15_minutes_to_2_hours() {
        let at = |secs| {
            score(&Inputs {
                contain_secs: Some(secs),
                ..perfect()
            })
            .parts[0]
                .points
        };
        assert_eq!(at(0), 40);
        assert_eq!(at(CONTAIN_FULL_SECS), 40);
        assert_eq!(at(CONTAIN_FULL_SECS + 1), 39);
        // Half way between 15 min and 2 h: half the points.
        assert_eq!(at((CONTAIN_FULL_SECS + CONTAIN_ZERO_SECS) / 2), 20);
        assert_eq!(at(CONTAIN_ZERO_SECS - 1), 0);
        assert_eq!(at(CONTAIN_ZERO_SECS), 0);
        assert_eq!(at(10 * CONTAIN_ZERO_SECS), 0);
        let late = score(&Inputs {
            contain_secs: Some(3600),
            ..perfect()
        });
        assert_eq!(
            late.misses,
            ["contained 1 h after detection (full marks within 15 min)"]
        );
    }

    #[test]
    fn nothing_done_is_an_f_with_every_miss_said() {
        let s = score(&Inputs::default());
        assert_eq!((s.points, s.grade.as_str()), (10, "F"));
        assert_eq!(s.misses.len(), 4, "{:?}", s.misses);
        assert!(s.misses[0].starts_with("not contained"));
        assert!(s.misses[2].contains("never read"));
    }

    #[test]
    fn holdings_and_collateral_take_points_off_down_to_zero() {
        let s = score(&Inputs {
            holds: Some(vec!["backdoor user x".into()]),
            collateral: vec!["key AKIA…1111 of alice disabled".into()],
            ..perfect()
        });
        assert_eq!((s.parts[2].points, s.parts[3].points), (10, 5));
        assert_eq!((s.points, s.grade.as_str()), (85, "B"));
        assert!(
            s.misses
                .contains(&"the attacker still held: backdoor user x".to_string())
        );
        let s = score(&Inputs {
            holds: Some(vec!["a".into(), "b".into(), "c".into()]),
            collateral: vec!["1".into(), "2".into(), "3".into()],
            ..perfect()
        });
        assert_eq!((s.parts[2].points, s.parts[3].points), (0, 0));
        assert_eq!(s.points, 70);
    }
}
