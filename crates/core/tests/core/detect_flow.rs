//! The detections pane through `update`: what the sources answered, the keys they name that
//! nobody tracks (proposed, with the command that tracks one), each alert journaled once for
//! the report, and a source's state in words.

use crate::fixture::*;
use crate::screen::{draw, screen_text};
use keyspill_core::app::{Effect, Msg, update};
use keyspill_core::detect::{Alert, Detections, Source, SourceState};
use keyspill_core::journal::{self, Event};
use keyspill_core::ui::Theme;
use time::Duration;

const EXPOSED_KEY: &str = "AKIA2SOMEONEELSE77QZ";

fn alert(source: Source, id: &str, kind: &str, rank: u8, key: &str) -> Alert {
    Alert {
        source,
        id: id.into(),
        kind: kind.into(),
        title: format!("{kind} about {key}"),
        severity: ["LOW", "LOW", "MEDIUM", "HIGH"][usize::from(rank)].into(),
        rank,
        keys: vec![key.into()],
        region: "us-east-1".into(),
        account: "123456789012".into(),
        first_seen: Some(journal::format_ts(NOW - Duration::minutes(40))),
        last_seen: Some(journal::format_ts(NOW - Duration::minutes(5))),
    }
}

fn detections() -> Detections {
    let mut d = Detections {
        alerts: vec![
            alert(
                Source::GuardDuty,
                "gd-1",
                "PenTest:IAMUser/KaliLinux",
                2,
                K_LEAKED,
            ),
            alert(
                Source::Health,
                "arn:aws:health:global::event/IAM/AWS_RISK_CREDENTIALS_EXPOSED/1",
                "AWS_RISK_CREDENTIALS_EXPOSED",
                3,
                EXPOSED_KEY,
            ),
        ],
        ..Detections::default()
    };
    d.sources.insert(
        (Source::GuardDuty, "us-east-1".into()),
        SourceState::Read(1),
    );
    d.sources.insert(
        (Source::GuardDuty, "eu-west-1".into()),
        SourceState::Off("off (no detector)".into()),
    );
    d.sources.insert(
        (Source::SecurityHub, "us-east-1".into()),
        SourceState::Off("not enabled".into()),
    );
    d.sources
        .insert((Source::Health, "global".into()), SourceState::Read(1));
    d
}

fn alerts_journaled(effects: &[Effect]) -> Vec<String> {
    journaled(effects)
        .into_iter()
        .filter_map(|e| match e {
            Event::Alert { alert } => Some(alert.id.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn alerts_show_under_the_keys_are_journaled_once_and_an_untracked_exposed_key_is_proposed() {
    let mut state = keys_answered(snapshot(Some(false)));
    let theme = Theme::new(keyspill_core::ui::theme::ThemeName::Default, false);
    // Before any source answered, the Keys tab is as it was.
    let before = screen_text(draw(&state, &theme, 120, 40).backend().buffer());
    assert!(!before.contains("Detections"), "{before}");

    let effects = update(
        &mut state,
        Msg::Detections {
            seq: 1,
            at: NOW,
            result: Ok(detections()),
        },
    );
    // Highest rank first: Health, then GuardDuty.
    assert_eq!(
        alerts_journaled(&effects),
        [
            "arn:aws:health:global::event/IAM/AWS_RISK_CREDENTIALS_EXPOSED/1",
            "gd-1"
        ]
    );
    let flash = flash_text(&state);
    assert!(
        flash.contains(EXPOSED_KEY) && flash.contains(&format!(":key {EXPOSED_KEY}")),
        "{flash}"
    );
    let screen = screen_text(draw(&state, &theme, 120, 40).backend().buffer());
    for needle in [
        "Detections",
        "GuardDuty: 1 finding (1 region); off (no detector) in eu-west-1",
        "Security Hub: not enabled in us-east-1",
        "exposed, not tracked: AKIA2SOMEONEELSE77QZ (Health)",
        "PenTest:IAMUser/KaliLinux",
        "AWS_RISK_CREDENTIALS_EXPOSED",
    ] {
        assert!(screen.contains(needle), "{needle}:\n{screen}");
    }
    insta::assert_snapshot!("detections_120x40", draw(&state, &theme, 120, 40).backend());
    insta::assert_snapshot!("detections_80x24", draw(&state, &theme, 80, 24).backend());

    // The next read: nothing new to journal, and the proposal is not flashed again.
    state.flash = None;
    let effects = update(
        &mut state,
        Msg::Detections {
            seq: 2,
            at: NOW + Duration::minutes(2),
            result: Ok(detections()),
        },
    );
    assert!(alerts_journaled(&effects).is_empty());
    assert!(state.flash.is_none(), "{:?}", state.flash);
}

#[test]
fn the_report_lists_the_alerts_once_each() {
    let d = detections();
    let mut lines = vec![
        r#"{"ts":"2026-11-22T10:00:00Z","operator":"ic","kind":"opened","leaked_keys":["AKIA2CIDEPLOYLEAK7Q4"]}"#.to_string(),
    ];
    for a in d.alerts.iter().chain(d.alerts.iter()) {
        let entry = serde_json::json!({
            "ts": "2026-11-22T10:01:00Z",
            "operator": "ic",
            "kind": "alert",
            "alert": a,
        });
        lines.push(entry.to_string());
    }
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join(journal::JOURNAL_FILE),
        lines.join("\n") + "\n",
    )
    .expect("journal");
    let r = keyspill_core::report::load(dir.path()).expect("report");
    assert_eq!(r.detections.len(), 2);
    let md = keyspill_core::report::markdown(&r);
    let section = md
        .split("## Detection\n")
        .nth(1)
        .expect("a Detection section");
    assert!(section.contains("PenTest:IAMUser/KaliLinux"), "{section}");
    assert!(
        section.contains("AWS_RISK_CREDENTIALS_EXPOSED"),
        "{section}"
    );
    // Read back, the journaled alerts are not written again after a restart.
    let raw = std::fs::read(dir.path().join(journal::JOURNAL_FILE)).expect("read");
    assert_eq!(journal::read_back(&raw).alerts.len(), 4);
}
