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
pub(crate) fn loaded() -> State {
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
    press(&mut state, 'f'); // since the leak: every event of the detonation is after it
    assert_eq!(state.timeline.store.view_len(), 34);
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
                ..Default::default()
            },
        ),
        (
            "ap-south-1",
            progress::RegionProgress {
                state: progress::SourceState::Loading,
                pages: 1,
                events: 50,
                throttled: 0,
                ..Default::default()
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
                ..Default::default()
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

/// A failing source that the collector will ask again says when, and stops saying it once it
/// recovers.
#[test]
fn failing_sources_say_when_they_are_retried() {
    let mut state = loaded();
    let failing = progress::RegionProgress {
        state: progress::SourceState::Error(Failure::access_denied("cloudtrail:LookupEvents")),
        failures: 2,
        retry_at: Some(NOW + time::Duration::seconds(40)),
        ..Default::default()
    };
    update(
        &mut state,
        Msg::TimelineProgress(progress::Progress::Region("eu-west-3".into(), failing)),
    );
    update(
        &mut state,
        Msg::TimelineProgress(progress::Progress::Trails(progress::TrailProgress {
            state: progress::SourceState::Error(Failure::other("trail-logs: NoSuchBucket")),
            trails: 1,
            retry_at: Some(NOW + time::Duration::seconds(90)),
            ..Default::default()
        })),
    );
    let screen = draw(&state, 160, 30).backend().to_string();
    assert!(screen.contains("eu-west-3: "), "{screen}");
    assert!(screen.contains("retry in 40 s"), "{screen}");
    assert!(screen.contains("NoSuchBucket · retry in 1 min"), "{screen}");
    update(
        &mut state,
        Msg::TimelineProgress(progress::Progress::Region(
            "eu-west-3".into(),
            progress::RegionProgress {
                state: progress::SourceState::Live,
                pages: 1,
                ..Default::default()
            },
        )),
    );
    let screen = draw(&state, 160, 30).backend().to_string();
    assert!(!screen.contains("retry in 40 s"), "{screen}");
}

const OWNER_KEY: &str = "AKIAQ3EGUYRLEAK01234";
const SESSION_1: &str = "ASIAQ3EGUYRSESSN7Q2X";
const SESSION_2: &str = "ASIAQ3EGUYRSESSN9KPZ";
const OFFICE_IP: &str = "198.51.100.20";
const OWNER_AGENT: &str = "aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0 exe/x86_64.ubuntu.22";
const ATTACKER_IP: &str = "185.220.101.7";
const ATTACKER_AGENT: &str = "Boto3/1.34.2 md/Botocore#1.34.2 ua/2.0 os/linux#6.1.0-kali7-amd64";

/// One event of the war-room day: `at` as `(day of November, hour, minute)`.
#[allow(clippy::too_many_arguments)]
fn call(
    id: &str,
    (day, hour, minute): (u8, u8, u8),
    region: &str,
    service: &str,
    name: &str,
    key: &str,
    ip: &str,
    agent: &str,
    error: Option<&str>,
) -> Event {
    let time = time::macros::datetime!(2026-11-01 00:00:00 UTC)
        + time::Duration::days(i64::from(day) - 1)
        + time::Duration::hours(i64::from(hour))
        + time::Duration::minutes(i64::from(minute));
    let arn = if key.starts_with("ASIA") {
        "arn:aws:sts::123456789012:assumed-role/deploy-role/botocore-session-1732"
    } else {
        "arn:aws:iam::123456789012:user/ci-deploy"
    };
    Event {
        id: format!("war-{id}").into(),
        time,
        service: format!("{service}.amazonaws.com").into(),
        name: name.into(),
        region: region.into(),
        source_ip: ip.into(),
        user_agent: agent.into(),
        identity_type: if key.starts_with("ASIA") {
            "AssumedRole".into()
        } else {
            "IAMUser".into()
        },
        identity_arn: arn.into(),
        access_key_id: key.into(),
        error_code: error.map(Into::into),
        error_message: None,
        read_only: None,
        mfa_used: None,
        minted: None,
        origin: Origin::File {
            path: "war-room.json".into(),
        },
        raw: std::sync::Arc::from(format!(
            r#"{{"eventName":"{name}","requestParameters":{{"userName":"backup-svc"}}}}"#
        )),
        risk: None,
    }
}

fn minting(mut e: Event, key: &str, role: &str) -> Event {
    e.minted = Some(Box::new(keyspill_core::timeline::Minted {
        key_id: key.into(),
        via: format!("AssumeRole {role}"),
    }));
    e
}

/// Four days of one account: the owner's ordinary use from the office, then the leaked key
/// from an anonymising exit, two sessions it assumed, refusals by the quarantine policy, and
/// compute in regions the owner never used.
fn war_room_events() -> Vec<Event> {
    use self::call as c;
    let (o, a) = ((OFFICE_IP, OWNER_AGENT), (ATTACKER_IP, ATTACKER_AGENT));
    let k = OWNER_KEY;
    let mut v = vec![
        c(
            "o1",
            (19, 8, 2),
            "us-east-1",
            "sts",
            "GetCallerIdentity",
            k,
            o.0,
            o.1,
            None,
        ),
        c(
            "o2",
            (19, 8, 3),
            "us-east-1",
            "ec2",
            "DescribeInstances",
            k,
            o.0,
            o.1,
            None,
        ),
        c(
            "o3",
            (19, 16, 40),
            "eu-west-1",
            "s3",
            "ListBuckets",
            k,
            o.0,
            o.1,
            None,
        ),
        c(
            "o4",
            (20, 9, 12),
            "eu-west-1",
            "ec2",
            "DescribeInstances",
            k,
            o.0,
            o.1,
            None,
        ),
        c(
            "o5",
            (20, 9, 13),
            "eu-west-1",
            "ec2",
            "DescribeVpcs",
            k,
            o.0,
            o.1,
            None,
        ),
        c(
            "o6",
            (21, 7, 55),
            "us-east-1",
            "iam",
            "ListUsers",
            k,
            o.0,
            o.1,
            None,
        ),
        // The leak: the key is found and tried.
        c(
            "a1",
            (21, 8, 41),
            "us-east-1",
            "sts",
            "GetCallerIdentity",
            k,
            a.0,
            a.1,
            None,
        ),
        c(
            "a2",
            (21, 8, 43),
            "us-east-1",
            "iam",
            "ListUsers",
            k,
            a.0,
            a.1,
            None,
        ),
        c(
            "a3",
            (21, 8, 44),
            "us-east-1",
            "iam",
            "CreateUser",
            k,
            a.0,
            a.1,
            Some("AccessDenied"),
        ),
        c(
            "a4",
            (21, 8, 47),
            "us-east-1",
            "iam",
            "CreateAccessKey",
            k,
            a.0,
            a.1,
            None,
        ),
        c(
            "a5",
            (21, 8, 52),
            "us-east-1",
            "cloudtrail",
            "StopLogging",
            k,
            a.0,
            a.1,
            Some("AccessDenied"),
        ),
        c(
            "a6",
            (21, 9, 3),
            "us-east-1",
            "secretsmanager",
            "GetSecretValue",
            k,
            a.0,
            a.1,
            Some("AccessDeniedException"),
        ),
        c(
            "a7",
            (21, 9, 20),
            "us-east-1",
            "s3",
            "DeleteBucket",
            k,
            a.0,
            a.1,
            Some("AccessDenied"),
        ),
    ];
    v.push(minting(
        c(
            "a8",
            (21, 9, 31),
            "us-east-1",
            "sts",
            "AssumeRole",
            k,
            a.0,
            a.1,
            None,
        ),
        SESSION_1,
        "deploy-role",
    ));
    let s = SESSION_1;
    v.extend([
        c(
            "s1",
            (21, 9, 40),
            "ap-southeast-2",
            "ec2",
            "RunInstances",
            s,
            a.0,
            a.1,
            None,
        ),
        c(
            "s2",
            (21, 9, 41),
            "sa-east-1",
            "ec2",
            "RunInstances",
            s,
            a.0,
            a.1,
            Some("Client.VcpuLimitExceeded"),
        ),
        c(
            "s3",
            (21, 9, 42),
            "eu-west-2",
            "ec2",
            "RunInstances",
            s,
            a.0,
            a.1,
            Some("Client.UnauthorizedOperation"),
        ),
        c(
            "s4",
            (21, 9, 44),
            "ap-southeast-2",
            "ec2",
            "AuthorizeSecurityGroupIngress",
            s,
            a.0,
            a.1,
            None,
        ),
        c(
            "s5",
            (22, 2, 10),
            "ap-southeast-2",
            "ec2",
            "DescribeInstances",
            s,
            a.0,
            a.1,
            None,
        ),
    ]);
    v.push(minting(
        c(
            "s6",
            (22, 2, 15),
            "us-east-1",
            "sts",
            "AssumeRole",
            s,
            a.0,
            a.1,
            None,
        ),
        SESSION_2,
        "admin-maintenance",
    ));
    v.push(c(
        "s7",
        (22, 2, 16),
        "us-east-1",
        "sts",
        "AssumeRole",
        s,
        a.0,
        a.1,
        Some("AccessDenied"),
    ));
    let s2 = SESSION_2;
    v.extend([
        c(
            "t1",
            (22, 2, 20),
            "eu-west-2",
            "s3",
            "PutBucketPolicy",
            s2,
            a.0,
            a.1,
            None,
        ),
        c(
            "t2",
            (22, 2, 22),
            "us-east-1",
            "guardduty",
            "DeleteDetector",
            s2,
            a.0,
            a.1,
            None,
        ),
        c(
            "t3",
            (22, 13, 58),
            "ap-southeast-2",
            "ec2",
            "DescribeInstances",
            s2,
            a.0,
            a.1,
            None,
        ),
    ]);
    v
}

/// The console with the war-room events, the leak start given by `--since`.
fn war_room() -> State {
    let mut state = State::new(settings(false), NOW);
    state.leaked.insert(OWNER_KEY.into());
    state.since_flag = Some(time::macros::datetime!(2026-11-21 08:40:00 UTC));
    let events = war_room_events();
    let mut tracker = Tracker::new([OWNER_KEY.to_string()]);
    tracker.observe_all(&events);
    update(&mut state, Msg::TimelineEvents { at: NOW, events });
    update(&mut state, Msg::TimelineChains(progress::chains(&tracker)));
    press(&mut state, '2');
    state
}

#[test]
fn war_room_screens() {
    let state = war_room();
    for (w, h) in [(80, 24), (100, 40), (120, 40), (160, 40), (200, 40)] {
        insta::assert_snapshot!(format!("war_room_{w}x{h}"), draw(&state, w, h).backend());
    }
    let mut sources = war_room();
    press(&mut sources, 'v');
    insta::assert_snapshot!("war_room_sources_120x40", draw(&sources, 120, 40).backend());
    insta::assert_snapshot!("war_room_sources_200x40", draw(&sources, 200, 40).backend());
}

/// The screen's lines as text.
fn lines(t: &Terminal<TestBackend>) -> Vec<String> {
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .collect()
}

/// The table's header line and the lines below it.
fn table_lines(t: &Terminal<TestBackend>) -> (String, Vec<String>) {
    let all = lines(t);
    let at = all
        .iter()
        .position(|l| l.contains(" TIME "))
        .expect("the table's header");
    (all[at].clone(), all[at + 1..].to_vec())
}

#[test]
fn at_war_room_size_the_table_has_dates_errors_addresses_and_the_acting_key() {
    let state = war_room();
    let t = draw(&state, 120, 40);
    let (header, rows) = table_lines(&t);
    for col in [
        "TIME",
        "REGION",
        "EVENT",
        "KEY (CHAIN)",
        "SOURCE IP",
        "ERROR",
        "TACTIC",
    ] {
        assert!(header.contains(col), "{col} in {header}");
    }
    // The events span four days: every row carries its day.
    let stop = rows
        .iter()
        .find(|r| r.contains("StopLogging"))
        .expect("StopLogging row");
    assert!(stop.contains("11-21 08:52:00Z"), "{stop}");
    // Refused calls keep their tactic and say so in words.
    assert!(
        stop.contains("defense-evasion") && stop.contains("denied"),
        "{stop}"
    );
    let secret = rows
        .iter()
        .find(|r| r.contains("GetSecretValue"))
        .expect("row");
    assert!(
        secret.contains("cred-access") && secret.contains("denied"),
        "{secret}"
    );
    // A failure that is not a refusal shows its code, not "denied".
    let vcpu = rows
        .iter()
        .find(|r| r.contains("sae1") && r.contains("RunInstances"))
        .expect("row");
    assert!(
        vcpu.contains("VcpuLimit") && !vcpu.contains("denied"),
        "{vcpu}"
    );
    // The key that acted ends the chain; the head is abbreviated, the role named.
    let deleted = rows
        .iter()
        .find(|r| r.contains("DeleteDetector"))
        .expect("row");
    assert!(deleted.contains("…→ role/admin-"), "{deleted}");
    assert!(deleted.contains("→ ASIA…9KPZ"), "{deleted}");
    // Credential minting is lateral movement, never recon.
    for r in rows.iter().filter(|r| r.contains("AssumeRole")) {
        assert!(r.contains("lateral-move") && !r.contains("recon"), "{r}");
    }
    // Regions are codes the summary explains, never a cut name.
    let screen = lines(&t).join("\n");
    assert!(screen.contains("eu-west-2=euw2") && screen.contains("ap-southeast-2=apse2"));
    assert!(rows.iter().all(|r| !r.contains("ap-south…")));
}

#[test]
fn error_and_source_ip_columns_start_at_100_columns_and_names_stay_whole_when_wide() {
    let state = war_room();
    let (narrow, _) = table_lines(&draw(&state, 99, 40));
    assert!(
        !narrow.contains("SOURCE IP") && !narrow.contains("ERROR"),
        "{narrow}"
    );
    let (at100, _) = table_lines(&draw(&state, 100, 40));
    assert!(
        at100.contains("SOURCE IP") && at100.contains("ERROR"),
        "{at100}"
    );
    let (_, rows) = table_lines(&draw(&state, 200, 40));
    let first = &rows[0];
    assert!(first.contains("ap-southeast-2"), "{first}");
    // Wide enough for the whole chain of the first session.
    let stop = rows
        .iter()
        .find(|r| r.contains("RunInstances"))
        .expect("row");
    assert!(
        stop.contains("AKIA…1234 → AssumeRole deploy-role → ASIA…7Q2X"),
        "{stop}"
    );
    // On one day the time column keeps to the clock.
    let (_, one_day) = table_lines(&draw(&loaded(), 120, 30));
    assert!(
        one_day[0].contains("▶21:31:21Z ") && !one_day[0].contains("07-30"),
        "{}",
        one_day[0]
    );
}

#[test]
fn the_leak_line_sits_between_the_owners_use_and_the_attackers() {
    let state = war_room();
    let (_, rows) = table_lines(&draw(&state, 120, 40));
    let at = rows
        .iter()
        .position(|r| r.contains("leak start 2026-11-21 08:40:00Z"))
        .expect("the leak line");
    assert!(rows[at].contains("--since"), "{}", rows[at]);
    assert!(rows[at - 1].contains("11-21 08:41:00Z"), "{}", rows[at - 1]);
    assert!(rows[at + 1].contains("11-21 07:55:00Z"), "{}", rows[at + 1]);
    // The cursor moves over events only: the line is never selected.
    let mut s = war_room();
    for _ in 0..18 {
        press(&mut s, 'j');
    }
    let selected = s.timeline.selected().expect("event");
    assert_eq!(&*selected.id, "war-o6", "the first event under the line");
    let (_, rows) = table_lines(&draw(&s, 120, 40));
    let cursor = rows.iter().position(|r| r.contains('▶')).expect("cursor");
    assert!(
        rows[cursor - 1].contains("leak start"),
        "{}",
        rows[cursor - 1]
    );
    // Only the owner's events shown: the line heads the list.
    let mut owner = war_room();
    press(&mut owner, '/');
    for c in "198.51.100.20".chars() {
        press(&mut owner, c);
    }
    let (_, rows) = table_lines(&draw(&owner, 120, 40));
    assert!(rows[0].contains("leak start"), "{}", rows[0]);
    assert!(rows[0].contains("0 since"), "{}", rows[0]);
}

#[test]
fn before_the_leak_rows_are_plain_and_the_summary_counts_since_the_leak() {
    use ratatui::style::Color;
    let state = war_room();
    let s = state.timeline.store.summary();
    assert_eq!(s.tactics.get(&Tactic::Recon), Some(&5));
    assert_eq!(s.tactics_before.get(&Tactic::Recon), Some(&5));
    assert_eq!(s.before_leak, 6);
    assert_eq!(s.denied.get(&Tactic::DefenseEvasion), Some(&1));
    assert_eq!(s.tactics.get(&Tactic::LateralMovement), Some(&3));
    let t = draw(&state, 120, 40);
    let buf = t.backend().buffer();
    let all = lines(&t);
    let style_of = |needle: &str, after: &str| {
        let y = all
            .iter()
            .position(|l| l.contains(needle) && l.contains(after))
            .unwrap_or_else(|| panic!("{needle} {after}"));
        let x = all[y][..all[y].rfind(after).expect("cell")].chars().count();
        buf[(u16::try_from(x).expect("x"), u16::try_from(y).expect("y"))].clone()
    };
    // After the leak, a critical tactic is red; before it, the owner's recon is in the
    // ordinary colour, not an alarm and not a dim grey.
    assert_eq!(style_of("DeleteDetector", "defense-evasion").fg, Color::Red);
    let owner = style_of("11-19 16:40:00Z", "recon");
    assert!(
        !matches!(owner.fg, Color::Red | Color::Cyan | Color::DarkGray),
        "{owner:?}"
    );
    let summary = all.join("\n");
    assert!(
        summary.contains("before leak (the owner's own use): 6 events"),
        "{summary}"
    );
}

#[test]
fn f_can_leave_out_the_owners_use_before_the_leak() {
    let mut state = war_room();
    press(&mut state, 'f');
    assert_eq!(state.timeline.quick.label(), "since the leak");
    assert_eq!(state.timeline.store.view_len(), 18);
    let (_, rows) = table_lines(&draw(&state, 120, 40));
    assert!(rows.iter().all(|r| !r.contains("198.51.100.20")));
    // The line closes the list: everything shown is after it.
    let at = rows
        .iter()
        .position(|r| r.contains("leak start"))
        .expect("the leak line");
    assert!(
        rows[at].contains("18 since") && rows[at].contains("0 before"),
        "{}",
        rows[at]
    );
    assert!(
        rows[at - 1].contains("GetCallerIdentity"),
        "{}",
        rows[at - 1]
    );
}

#[test]
fn v_lists_source_addresses_and_agents_with_the_new_ones_flagged() {
    let mut state = war_room();
    press(&mut state, 'v');
    let screen = lines(&draw(&state, 120, 40)).join("\n");
    assert!(screen.contains("NEW 185.220.101.7"), "{screen}");
    assert!(!screen.contains("NEW 198.51.100.20"), "{screen}");
    assert!(screen.contains("NEW Boto3/1.34.2"), "{screen}");
    assert!(
        screen.contains("2026-11-19 08:02:00Z 2026-11-21 07:55:00Z 6"),
        "{screen}"
    );
    // The events' keys wait: Enter opens nothing; Esc (or v) goes back.
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(state.timeline.detail, None);
    update(&mut state, key(KeyCode::Esc));
    assert_eq!(
        state.timeline.view,
        keyspill_core::app::timeline::View::Events
    );
    press(&mut state, 'v');
    press(&mut state, 'v');
    assert_eq!(
        state.timeline.view,
        keyspill_core::app::timeline::View::Events
    );
}
