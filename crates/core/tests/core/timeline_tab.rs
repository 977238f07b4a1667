//! The Timeline tab through the pure core: real detonation records go in as messages; keys
//! filter, narrow, follow and mark evidence; screens are snapshotted.

use crate::fixture;
use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fixture::*;
use keyspill_core::app::state::{Mode, State, Tab};
use keyspill_core::app::{Effect, Msg, update};
use keyspill_core::domain::Failure;
use keyspill_core::timeline::chain::Tracker;
use keyspill_core::timeline::parse::parse_document;
use keyspill_core::timeline::progress;
use keyspill_core::timeline::{Event, Origin, Tactic};
use keyspill_core::ui::theme::ThemeName;
use keyspill_core::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const USER_KEY: &str = "AKIAWOGXN38MFN92ING5";

fn detonation(file: &str) -> Vec<Event> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/cloudtrail/stratus-red-team")
        .join(file);
    let bytes = std::fs::read(&path).expect("data file");
    let parsed = parse_document(
        &bytes,
        &Origin::File {
            path: format!("stratus-red-team/{file}").into(),
        },
    );
    assert!(parsed.skipped.is_empty(), "{:?}", parsed.skipped);
    parsed.events
}

fn key(code: KeyCode) -> Msg {
    let modifiers = match code {
        KeyCode::Char(c) if c.is_ascii_uppercase() => KeyModifiers::SHIFT,
        _ => KeyModifiers::NONE,
    };
    Msg::Key(KeyEvent::new(code, modifiers))
}

fn press(state: &mut State, c: char) -> Vec<Effect> {
    update(state, key(KeyCode::Char(c)))
}

/// The console on the Timeline tab with the get-password-data detonation loaded, as the
/// collector would deliver it: events, then the chains its tracker found.
fn loaded() -> State {
    let mut state = State::new(settings(false), NOW);
    state.leaked.insert(USER_KEY.into());
    state.since_flag = Some(time::macros::datetime!(2024-07-30 21:00:00 UTC));
    let events = detonation("aws.credential-access.ec2-get-password-data.json");
    let mut tracker = Tracker::new([USER_KEY.to_string()]);
    tracker.observe_all(&events);
    update(&mut state, Msg::TimelineEvents { at: NOW, events });
    update(&mut state, Msg::TimelineChains(progress::chains(&tracker)));
    update(
        &mut state,
        Msg::TimelineProgress(progress::Progress::Files(progress::FileProgress {
            state: progress::SourceState::Done,
            files: 1,
            events: 34,
            ..Default::default()
        })),
    );
    press(&mut state, '2');
    assert_eq!(state.tab, Tab::Timeline);
    state
}

fn draw(state: &State, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    let theme = Theme::new(ThemeName::Default, false);
    t.draw(|f| ui::render(f, state, &theme)).expect("draw");
    t
}

#[test]
fn events_arrive_newest_first_rated_and_chained() {
    let state = loaded();
    let t = &state.timeline;
    assert_eq!(t.store.len(), 34);
    let first = t.store.view_get(0).expect("an event");
    let last = t.store.view_get(33).expect("an event");
    assert!(first.time >= last.time);
    assert_eq!(
        t.chains.len(),
        3,
        "the user key and the two sessions it assumed"
    );
    let derived = t
        .chains
        .values()
        .filter(|c| c.contains("→ AssumeRole"))
        .count();
    assert_eq!(derived, 2);
    let s = t.store.summary();
    assert_eq!(s.errors, 32);
    assert_eq!(s.tactics.get(&Tactic::CredentialAccess), Some(&30));
}

#[test]
fn quick_filters_cycle_and_text_filter_narrows() {
    let mut state = loaded();
    press(&mut state, 'f'); // high-risk
    press(&mut state, 'f'); // errors
    assert_eq!(state.timeline.store.view_len(), 32);
    for _ in 0..20 {
        press(&mut state, 'f');
        if state.timeline.quick == keyspill_core::timeline::store::Quick::All {
            break;
        }
    }
    assert_eq!(state.timeline.store.view_len(), 34);
    press(&mut state, '/');
    assert_eq!(state.mode, Mode::Filter);
    for c in "assumerole".chars() {
        press(&mut state, c);
    }
    assert_eq!(
        state.timeline.store.view_len(),
        4,
        "filter applies while typing"
    );
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(state.mode, Mode::Normal);
    assert_eq!(state.timeline.store.view_len(), 4, "Enter keeps it");
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.timeline.store.view_len(), 34, "Esc clears it");
}

#[test]
fn a_branch_narrows_to_one_session_and_back() {
    let mut state = loaded();
    // The newest events were made by an assumed-role session.
    let session = state
        .timeline
        .selected()
        .expect("event")
        .access_key_id
        .clone();
    assert!(session.starts_with("ASIA"));
    press(&mut state, 'b');
    let n = state.timeline.store.view_len();
    assert!(n > 0 && n < 34);
    for i in 0..n {
        assert_eq!(
            state.timeline.store.view_get(i).map(|e| &*e.access_key_id),
            Some(&*session)
        );
    }
    press(&mut state, 'b');
    assert_eq!(state.timeline.store.view_len(), 34);
}

#[test]
fn follow_evidence_and_the_raw_record() {
    let mut state = loaded();
    assert!(state.timeline.follow);
    press(&mut state, 'j');
    assert!(!state.timeline.follow, "moving away stops following");
    press(&mut state, 't');
    assert!(state.timeline.follow);
    assert_eq!(state.timeline.cursor, 0);
    let id = state.timeline.selected().expect("event").id.clone();
    let effects = press(&mut state, 'm');
    assert!(
        matches!(&effects[..], [Effect::Journal(keyspill_core::journal::Event::Evidence { event_id, .. })] if **event_id == *id),
        "{effects:?}"
    );
    assert!(press(&mut state, 'm').is_empty(), "marked once");
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(state.timeline.detail, Some(0));
    press(&mut state, 'j');
    assert_eq!(state.timeline.detail, Some(1));
    // Keys-tab actions do nothing here.
    assert!(press(&mut state, 'd').is_empty());
    assert!(state.dialog.is_none());
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(state.timeline.detail, None);
}

#[test]
fn newer_events_keep_the_cursor_on_its_event_unless_following() {
    let mut state = loaded();
    press(&mut state, 'j');
    press(&mut state, 'j');
    let held = state.timeline.selected().expect("event").id.clone();
    let mut newer = detonation("aws.defense-evasion.cloudtrail-stop.json");
    newer[0].access_key_id = USER_KEY.into();
    newer[0].time = time::macros::datetime!(2024-07-30 22:00:00 UTC);
    update(
        &mut state,
        Msg::TimelineEvents {
            at: NOW,
            events: newer,
        },
    );
    assert_eq!(
        state.timeline.selected().map(|e| e.id.to_string()),
        Some(held.to_string())
    );
    press(&mut state, 't');
    assert_eq!(
        state.timeline.selected().map(|e| &*e.name),
        Some("StopLogging")
    );
}

#[test]
fn timeline_screens() {
    let state = loaded();
    insta::assert_snapshot!("timeline_180x30", draw(&state, 180, 30).backend());
    insta::assert_snapshot!("timeline_80x24", draw(&state, 80, 24).backend());
    let mut detail = loaded();
    update(&mut detail, key(KeyCode::Enter));
    insta::assert_snapshot!("timeline_record_120x30", draw(&detail, 120, 30).backend());
    let mut progress = loaded();
    for (region, p) in [
        (
            "us-east-1",
            progress::RegionProgress {
                state: progress::SourceState::Live,
                pages: 3,
                events: 120,
                throttled: 2,
            },
        ),
        (
            "ap-south-1",
            progress::RegionProgress {
                state: progress::SourceState::Loading,
                pages: 1,
                events: 50,
                throttled: 0,
            },
        ),
        (
            "eu-west-3",
            progress::RegionProgress {
                state: progress::SourceState::Error(Failure::access_denied(
                    "cloudtrail:LookupEvents",
                )),
                pages: 0,
                events: 0,
                throttled: 0,
            },
        ),
    ] {
        update(
            &mut progress,
            Msg::TimelineProgress(progress::Progress::Region(region.into(), p)),
        );
    }
    insta::assert_snapshot!(
        "timeline_sources_160x30",
        draw(&progress, 160, 30).backend()
    );
}

#[test]
fn never_panics_at_any_size() {
    let mut state = loaded();
    for (w, h) in [(1, 1), (10, 3), (20, 6), (40, 10), (80, 24), (200, 60)] {
        draw(&state, w, h);
    }
    update(&mut state, key(KeyCode::Enter));
    for (w, h) in [(1, 1), (20, 6), (79, 23), (200, 60)] {
        draw(&state, w, h);
    }
}
