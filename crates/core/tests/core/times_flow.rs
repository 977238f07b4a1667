//! The incident's times through the pure core: where the leak's start comes from, `:detected`,
//! the clock since detection in the header (planned to the width), the Checklist's times and
//! intervals, and "Cost reviewed" needing time on the tab or a tick.

use crate::fixture::*;
use crate::screen::{draw, row_text};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use keyspill_core::app::checklist::{Status, evaluate};
use keyspill_core::app::msg::JournalOpened;
use keyspill_core::app::state::{SinceSource, State, Tab};
use keyspill_core::app::{Effect, Msg, update};
use keyspill_core::cost::model::{Anomalies, CostData, Day};
use keyspill_core::journal::{self, Event, Milestone};
use keyspill_core::ui::Theme;
use keyspill_core::ui::theme::ThemeName;
use time::Duration;
use time::macros::{date, datetime};

fn press(state: &mut State, c: char) -> Vec<Effect> {
    update(
        state,
        Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
    )
}

fn run(state: &mut State, line: &str) -> Vec<Effect> {
    press(state, ':');
    for c in line.chars() {
        press(state, c);
    }
    update(
        state,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    )
}

/// Identity and keys loaded, a journal opened at 13:30 (detection), `--since` 09:00.
fn loaded() -> State {
    let mut state = identified(false);
    update(
        &mut state,
        Msg::JournalOpened(Ok(JournalOpened {
            dir: "/tmp/incident".into(),
            resumed: journal::Resumed {
                entries: 1,
                opened_at: Some(datetime!(2026-11-22 13:30:00 UTC)),
                ..Default::default()
            },
        })),
    );
    state
}

/// One CloudTrail call by the leaked key, parsed and rated as the console does.
fn call(id: &str, at: &str, name: &str, source: &str, agent: &str) -> Msg {
    let record = serde_json::json!({
        "eventVersion": "1.09",
        "eventID": id,
        "eventTime": at,
        "eventSource": source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.9",
        "userAgent": agent,
        "userIdentity": {"type": "IAMUser", "accessKeyId": K_LEAKED},
        "readOnly": true,
    });
    let events = keyspill_core::timeline::parse::parse_document(
        record.to_string().as_bytes(),
        &keyspill_core::timeline::Origin::File { path: "t".into() },
    )
    .events;
    Msg::TimelineEvents { at: NOW, events }
}

#[test]
fn a_first_use_after_detection_does_not_move_the_leak_start_past_it() {
    let mut state = loaded();
    state.since_flag = None;
    // Reported at 13:30 before anyone used it; the scanner comes at 14:00.
    update(
        &mut state,
        call(
            "late",
            "2026-11-22T14:00:00Z",
            "GetCallerIdentity",
            "sts.amazonaws.com",
            "TruffleHog",
        ),
    );
    assert_eq!(
        state.since(),
        Some((datetime!(2025-03-10 10:00:00 UTC), SinceSource::KeyCreation))
    );
    // The same use before detection is the start.
    update(
        &mut state,
        call(
            "early",
            "2026-11-22T13:10:00Z",
            "GetCallerIdentity",
            "sts.amazonaws.com",
            "TruffleHog",
        ),
    );
    assert_eq!(
        state.since(),
        Some((datetime!(2026-11-22 13:10:00 UTC), SinceSource::FirstUse))
    );
    // AWS's mail came at 13:00, before that first use: allowed, and the start falls back.
    let effects = run(&mut state, "detected 2026-11-22T13:00:00Z");
    assert!(
        journaled(&effects).iter().any(|e| matches!(
            e,
            Event::Milestone {
                milestone: Milestone::Detected,
                ..
            }
        )),
        "{:?}",
        state.flash
    );
    assert_eq!(
        state.since(),
        Some((datetime!(2025-03-10 10:00:00 UTC), SinceSource::KeyCreation))
    );
    // Before the key existed: refused, detection unchanged.
    let effects = run(&mut state, "detected 2025-01-01T00:00:00Z");
    assert!(journaled(&effects).is_empty());
    assert_eq!(
        keyspill_core::app::times::detected(&state),
        datetime!(2026-11-22 13:00:00 UTC)
    );
}

#[test]
fn the_leak_start_comes_from_since_else_first_attacker_use_else_the_key_creation() {
    let mut state = loaded();
    assert_eq!(state.since(), Some((SINCE, SinceSource::Flag)));

    state.since_flag = None;
    // The leaked key's creation (2025-03-10), the earliest it can have leaked.
    assert_eq!(
        state.since(),
        Some((datetime!(2025-03-10 10:00:00 UTC), SinceSource::KeyCreation))
    );
    let recorded = journaled(&update(&mut state, Msg::Tick(NOW)))
        .into_iter()
        .filter_map(|e| match e {
            Event::Since { since, from } => Some((since.clone(), from.clone())),
            _ => None,
        })
        .collect::<Vec<_>>();
    assert_eq!(
        recorded,
        vec![(
            "2025-03-10T10:00:00Z".to_string(),
            "key created".to_string()
        )]
    );

    // The owner's routine use is not the attacker's: a plain whoami does not move it.
    update(
        &mut state,
        call(
            "e1",
            "2026-11-22T08:00:00Z",
            "GetCallerIdentity",
            "sts.amazonaws.com",
            "aws-cli/2.15",
        ),
    );
    assert_eq!(
        state.since().map(|(_, s)| s),
        Some(SinceSource::KeyCreation)
    );
    // A secret scanner checking the key is the first attacker-looking use.
    update(
        &mut state,
        call(
            "e2",
            "2026-11-22T08:20:00Z",
            "GetCallerIdentity",
            "sts.amazonaws.com",
            "TruffleHog",
        ),
    );
    assert_eq!(
        state.since(),
        Some((datetime!(2026-11-22 08:20:00 UTC), SinceSource::FirstUse))
    );
    let effects = update(&mut state, Msg::Tick(NOW + Duration::seconds(1)));
    assert!(journaled(&effects).iter().any(|e| matches!(
        e,
        Event::Since { since, from }
            if since == "2026-11-22T08:20:00Z" && from == "first use of the leaked key"
    )));
    // Recorded once.
    let effects = update(&mut state, Msg::Tick(NOW + Duration::seconds(2)));
    assert!(
        !journaled(&effects)
            .iter()
            .any(|e| matches!(e, Event::Since { .. }))
    );

    // An operator's `--since` from when the incident was opened beats the timeline.
    let mut again = base(false);
    again.since_flag = None;
    update(
        &mut again,
        Msg::JournalOpened(Ok(JournalOpened {
            dir: "/tmp/incident".into(),
            resumed: journal::Resumed {
                entries: 3,
                since: Some(SINCE),
                since_from: Some("--since".into()),
                ..Default::default()
            },
        })),
    );
    update(
        &mut again,
        call(
            "e2",
            "2026-11-22T08:20:00Z",
            "GetCallerIdentity",
            "sts.amazonaws.com",
            "TruffleHog",
        ),
    );
    assert_eq!(again.since(), Some((SINCE, SinceSource::Flag)));
}

#[test]
fn detected_typed_before_the_journal_opens_is_journaled_and_stands() {
    let mut state = identified(false);
    let effects = run(&mut state, "detected 2026-11-22T12:00:00Z");
    assert!(journaled(&effects).iter().any(|e| matches!(
        e,
        Event::Milestone { milestone: Milestone::Detected, at, .. } if at == "2026-11-22T12:00:00Z"
    )));
    // The journal opens on an earlier incident whose detection was its opening.
    let mut resumed = journal::Resumed {
        entries: 2,
        opened_at: Some(datetime!(2026-11-22 13:30:00 UTC)),
        ..Default::default()
    };
    resumed
        .milestones
        .insert(Milestone::Detected, "2026-11-22T13:30:00Z".into());
    update(
        &mut state,
        Msg::JournalOpened(Ok(JournalOpened {
            dir: "/tmp/incident".into(),
            resumed,
        })),
    );
    assert_eq!(
        keyspill_core::app::times::detected(&state),
        datetime!(2026-11-22 12:00:00 UTC)
    );
    let effects = update(&mut state, Msg::Tick(NOW));
    assert!(
        !journaled(&effects).iter().any(|e| matches!(
            e,
            Event::Milestone {
                milestone: Milestone::Detected,
                ..
            }
        )),
        "the opening must not be journaled over the operator's detection"
    );
}

#[test]
fn detected_is_the_opening_unless_set_and_refused_out_of_range() {
    let mut state = loaded();
    let opened = datetime!(2026-11-22 13:30:00 UTC);
    assert_eq!(keyspill_core::app::times::detected(&state), opened);
    let effects = update(&mut state, Msg::Tick(NOW));
    assert!(journaled(&effects).iter().any(|e| matches!(
        e,
        Event::Milestone { milestone: Milestone::Detected, at, detail }
            if at == "2026-11-22T13:30:00Z" && detail == "incident opened"
    )));

    // Bad syntax, before the leak, in the future: refused, nothing journaled or changed.
    for (line, words) in [
        ("detected", "needs a time"),
        ("detected soon", "is not a time"),
        ("detected 2026-11-22T08:00:00Z", "before the leak started"),
        ("detected 2026-11-22T15:00:00Z", "in the future"),
        ("detected -1m", ""),
    ] {
        let effects = run(&mut state, line);
        if words.is_empty() {
            // A minute ago is fine: the last value wins.
            assert_eq!(journaled(&effects).len(), 1, "{line}");
            continue;
        }
        assert!(journaled(&effects).is_empty(), "{line}: {effects:?}");
        let flash = flash_text(&state);
        assert!(flash.contains(words), "{line}: {flash}");
        assert_eq!(keyspill_core::app::times::detected(&state), opened);
    }
    assert_eq!(
        keyspill_core::app::times::detected(&state),
        NOW - Duration::minutes(1)
    );

    // HH:MM is today, UTC; the entry says who set it.
    let effects = run(&mut state, "detected 11:45");
    assert_eq!(
        journaled(&effects),
        vec![&Event::Milestone {
            milestone: Milestone::Detected,
            at: "2026-11-22T11:45:00Z".into(),
            detail: "set by ic@laptop".into(),
        }]
    );
    assert_eq!(
        keyspill_core::app::times::detected(&state),
        datetime!(2026-11-22 11:45:00 UTC)
    );
    // The opening is not written again over it.
    let effects = update(&mut state, Msg::Tick(NOW + Duration::seconds(1)));
    assert!(!journaled(&effects).iter().any(|e| matches!(
        e,
        Event::Milestone {
            milestone: Milestone::Detected,
            ..
        }
    )));
}

fn header(state: &State, width: u16) -> String {
    let terminal = draw(state, &Theme::new(ThemeName::Default, false), width, 24);
    row_text(terminal.backend().buffer(), 0)
}

#[test]
fn the_clock_counts_since_detection_and_says_so() {
    let mut state = loaded();
    update(&mut state, Msg::Tick(NOW));
    // Opened 13:30, now 14:03:09; the leak started at 09:00 (five hours earlier).
    let top = header(&state, 120);
    assert!(top.contains("T+33m09s since detection"), "{top}");
    run(&mut state, "detected 12:00");
    let top = header(&state, 120);
    assert!(top.contains("T+2h03m since detection"), "{top}");
    assert_eq!(
        keyspill_core::app::times::clock(NOW, datetime!(2026-11-20 11:00:00 UTC)),
        "T+2d03h"
    );
}

#[test]
fn the_header_keeps_the_incident_state_whole_at_every_width() {
    let mut state = loaded();
    update(&mut state, Msg::Tick(NOW));
    for width in [40u16, 60, 80, 100, 120, 160, 200] {
        let top = header(&state, width);
        let text = top.trim_end();
        assert!(text.chars().count() <= usize::from(width));
        assert!(text.starts_with(" keyspill  LIVE ") || text.starts_with(" LIVE "));
        // Whatever shows is whole: each part between bars is one of its own forms.
        for part in text.split(" │ ").map(str::trim) {
            let whole = [
                "keyspill  LIVE",
                "LIVE",
                "T+33m09s since detection",
                "detected T+33m09s",
                "NOT CONTAINED (3 open)",
                "NOT CONTAINED",
                "not eradicated",
                "checklist 3/17 done",
                "3/17 done",
                "acct 123456789012",
                "arn:aws:iam::123456789012:user/ops/responder",
                "user/ops/responder",
                "regions …",
                "profile incident",
            ];
            let ok = part.ends_with(" regions")
                || whole
                    .iter()
                    .any(|w| part == *w || part.ends_with(&format!(" {w}")));
            assert!(ok, "at {width}: '{part}' is cut in {text:?}");
        }
        if width >= 80 {
            for needed in [
                "since detection",
                "NOT CONTAINED",
                "not eradicated",
                "3/17 done",
            ] {
                assert!(text.contains(needed), "at {width}: no {needed} in {text:?}");
            }
        }
    }
}

#[test]
fn header_snapshots_on_two_tabs() {
    let mut state = loaded();
    update(&mut state, Msg::Tick(NOW));
    for tab in ['1', '5'] {
        press(&mut state, tab);
        for (w, h) in [(80u16, 24u16), (120, 40), (160, 40)] {
            let terminal = draw(&state, &Theme::new(ThemeName::Default, false), w, h);
            let buf = terminal.backend().buffer();
            let top = format!("{}\n{}", row_text(buf, 0), row_text(buf, 1));
            insta::assert_snapshot!(format!("header_tab{tab}_{w}x{h}"), top);
        }
    }
}

#[test]
fn the_checklist_shows_the_five_times_and_the_intervals() {
    let mut state = loaded();
    update(&mut state, Msg::Tick(NOW));
    state
        .checklist
        .milestones
        .insert(Milestone::Contained, "2026-11-22T13:52:00Z".into());
    press(&mut state, '5');
    assert_eq!(state.tab, Tab::Checklist);
    let terminal = draw(&state, &Theme::new(ThemeName::Default, false), 160, 40);
    let buf = terminal.backend().buffer();
    let text = (0..6)
        .map(|y| row_text(buf, y))
        .collect::<Vec<_>>()
        .join("\n");
    for needed in [
        "leak started 2026-11-22 09:00Z (--since)",
        "detected 2026-11-22 13:30Z",
        "contained 2026-11-22 13:52Z",
        "eradicated —",
        "closed —",
        "to detect 4 h 30 min",
        "to contain 22 min",
        "to eradicate —",
    ] {
        assert!(text.contains(needed), "no '{needed}' in\n{text}");
    }
}

fn cost_loaded(state: &mut State) {
    let day = |d, amount| Day {
        date: d,
        amount,
        estimated: false,
    };
    let effects = update(
        state,
        Msg::CostFetched {
            seq: 1,
            at: NOW,
            window: (date!(2026 - 11 - 20), date!(2026 - 11 - 23)),
            data: Ok(CostData {
                total: vec![
                    day(date!(2026 - 11 - 20), 1.0),
                    day(date!(2026 - 11 - 21), 1.0),
                    day(date!(2026 - 11 - 22), 40.0),
                ],
                by_service: vec![],
                by_region: vec![],
                unit: "USD".into(),
            }),
            anomalies: Ok(Anomalies::NoMonitor),
            requests: 1,
        },
    );
    let _ = effects;
}

fn cost_status(state: &State) -> Status {
    evaluate(state)
        .into_iter()
        .find(|(s, _)| s.id == "cost")
        .map(|(_, st)| st)
        .unwrap_or(Status::Open)
}

#[test]
fn cost_reviewed_needs_a_minute_on_the_tab_or_a_tick() {
    let mut state = loaded();
    cost_loaded(&mut state);
    let tick = |state: &mut State, secs: i64| {
        for _ in 0..secs {
            let now = state.now + Duration::seconds(1);
            update(state, Msg::Tick(now));
        }
    };
    // Elsewhere, time does not count.
    tick(&mut state, 90);
    assert!(
        matches!(cost_status(&state), Status::Unknown(ref d) if d.contains("open the Cost tab"))
    );

    press(&mut state, '4');
    tick(&mut state, 3);
    assert!(matches!(
        cost_status(&state),
        Status::Unknown(ref d) if d.contains("reviewed 3 s of 60 s")
    ));
    tick(&mut state, 42);
    assert!(matches!(
        cost_status(&state),
        Status::Unknown(ref d) if d.contains("reviewed 45 s of 60 s") && d.contains("tick it")
    ));
    // Leaving the tab stops the count; coming back goes on from it.
    press(&mut state, '1');
    tick(&mut state, 30);
    assert!(matches!(cost_status(&state), Status::Unknown(ref d) if d.contains("45 s")));
    press(&mut state, '4');
    // A long pause between two ticks (a suspended terminal) counts as five seconds at most.
    let later = state.now + Duration::minutes(10);
    update(&mut state, Msg::Tick(later));
    assert!(matches!(cost_status(&state), Status::Unknown(ref d) if d.contains("50 s")));
    tick(&mut state, 10);
    assert!(matches!(cost_status(&state), Status::Verified(_)));

    // Or the operator ticks it on the Checklist.
    let mut other = loaded();
    cost_loaded(&mut other);
    press(&mut other, '5');
    let at = other
        .checklist
        .steps
        .iter()
        .position(|s| s.id == "cost")
        .expect("the cost step");
    other.checklist.cursor = at;
    press(&mut other, ' ');
    assert!(matches!(cost_status(&other), Status::Ticked { .. }));
}
