//! Screens of the Cost tab, rendered into a `TestBackend` from a state built the way the
//! runtime builds it: Cost Explorer's answers arrive as `Msg::CostFetched`, keys are pressed.
//! The account is a quiet one (USD 3–6 a day) until the leak on 2026-11-19, when the
//! attacker starts EC2 instances for thousands a day in three regions it never used.
//! Snapshots hold text only; styles are checked cell by cell further down.

use crate::fixture;
use crate::screen;
use screen::{draw, find, row_text, screen_text};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fixture::*;
use keyspill_core::app::cost::Focus;
use keyspill_core::app::state::{Source, State, Tab};
use keyspill_core::app::{Msg, update};
use keyspill_core::cost::model::{Anomalies, Anomaly, CostData, Day, RootCause, Series};
use keyspill_core::domain::Failure;
use keyspill_core::ui::Theme;
use keyspill_core::ui::theme::ThemeName;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use time::macros::{date, datetime};
use time::{Date, Duration};

// ---------------------------------------------------------------------------------------------
// The account's spend
// ---------------------------------------------------------------------------------------------

/// The window the poller asks for at `NOW` with `--cost-days 30`: 2026-10-24 up to 11-23.
const FROM: Date = date!(2026 - 10 - 24);
const TO: Date = date!(2026 - 11 - 23);
const DAYS: i64 = 30;
/// The leak start (`--since`): its day is the 27th of the window.
const LEAK: time::OffsetDateTime = datetime!(2026-11-19 09:12:00 UTC);
const LEAK_DAY: i64 = 26;

const EC2: &str = "Amazon Elastic Compute Cloud - Compute";
const EC2_OTHER: &str = "EC2 - Other";
const S3: &str = "Amazon Simple Storage Service";
const CLOUDWATCH: &str = "AmazonCloudWatch";
const LAMBDA: &str = "AWS Lambda";
const ROUTE53: &str = "Amazon Route 53";
const KMS: &str = "AWS Key Management Service";

/// The attacker's regions, and their share of its EC2 spend.
const NEW_REGIONS: [(&str, f64); 3] = [
    ("ap-south-1", 0.45),
    ("ap-southeast-1", 0.35),
    ("sa-east-1", 0.20),
];

fn the_day(i: i64) -> Date {
    FROM + Duration::days(i)
}

/// A small deterministic wobble in −1..1, different for every (day, salt).
fn wobble(i: i64, salt: u64) -> f64 {
    let mut x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xBF58_476D);
    x ^= x >> 29;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 32;
    (x % 2001) as f64 / 1000.0 - 1.0
}

fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The attacker's EC2 spend a day: from 09:12 on the leak day, and today up to now (14:03).
fn attack(i: i64) -> f64 {
    match i - LEAK_DAY {
        0 => 1_618.40,
        1 => 4_187.95,
        2 => 4_402.10,
        3 => 2_371.62,
        _ => 0.0,
    }
}

/// Cost Explorer's daily figures: a quiet account (S3, a little CloudWatch, Lambda, Route 53,
/// KMS and one t4g.nano) until the leak, then the miners. Days of November are estimated (the
/// month is not closed).
pub(crate) fn cost_data() -> CostData {
    spend_data(true)
}

/// The same account, with or without the attacker's spend.
fn spend_data(attacked: bool) -> CostData {
    let estimated = |i: i64| the_day(i) >= date!(2026 - 11 - 01);
    // (service, region, amount on day i)
    type Spend = (&'static str, &'static str, f64);
    let spend = |i: i64| -> Vec<Spend> {
        let mut v: Vec<Spend> = vec![
            (S3, "us-east-1", cents(1.90 + 0.35 * wobble(i, 1))),
            (S3, "eu-west-1", cents(0.74 + 0.10 * wobble(i, 2))),
            (CLOUDWATCH, "us-east-1", cents(0.62 + 0.20 * wobble(i, 3))),
            (LAMBDA, "us-east-1", cents(0.31 + 0.25 * wobble(i, 4))),
            (KMS, "us-east-1", 0.13),
            (EC2, "us-east-1", 0.10),
            (EC2_OTHER, "us-east-1", cents(0.28 + 0.02 * wobble(i, 5))),
        ];
        // Route 53's hosted zones are billed on the first of the month.
        if the_day(i).day() == 1 {
            v.push((ROUTE53, "global", 1.50));
        }
        let a = if attacked { attack(i) } else { 0.0 };
        if a > 0.0 {
            for (region, share) in NEW_REGIONS {
                v.push((EC2, region, cents(a * share)));
                // EBS volumes and data transfer of the miners.
                v.push((EC2_OTHER, region, cents(a * share * 0.031)));
            }
        }
        v
    };
    let mut total = Vec::new();
    let mut by_service: Vec<Series> = Vec::new();
    let mut by_region: Vec<Series> = Vec::new();
    let add =
        |list: &mut Vec<Series>, key: &str, d: Day| match list.iter_mut().find(|s| s.key == key) {
            Some(s) => match s.days.iter_mut().find(|x| x.date == d.date) {
                Some(x) => x.amount = cents(x.amount + d.amount),
                None => s.days.push(d),
            },
            None => list.push(Series {
                key: key.to_string(),
                days: vec![d],
            }),
        };
    for i in 0..DAYS {
        let day = |amount: f64| Day {
            date: the_day(i),
            amount,
            estimated: estimated(i),
        };
        let items = spend(i);
        total.push(day(cents(items.iter().map(|(_, _, a)| a).sum())));
        for (service, region, amount) in items {
            add(&mut by_service, service, day(amount));
            add(&mut by_region, region, day(amount));
        }
    }
    CostData {
        total,
        by_service,
        by_region,
        unit: "USD".into(),
    }
}

pub(crate) fn anomalies_found() -> Anomalies {
    let cause = |region: &str, usage: &str| RootCause {
        service: Some(EC2.into()),
        region: Some(region.into()),
        usage_type: Some(usage.into()),
        account: Some("123456789012".into()),
    };
    Anomalies::Found {
        monitors: vec!["Default-Services-Monitor".into()],
        anomalies: vec![Anomaly {
            id: "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111".into(),
            start: Some(date!(2026 - 11 - 20)),
            end: None,
            impact: 8_566.31,
            max_impact: 4_388.47,
            score: Some(0.93),
            monitor: "Default-Services-Monitor".into(),
            causes: vec![
                cause("ap-south-1", "APS3-BoxUsage:c5.24xlarge"),
                cause("ap-southeast-1", "APS1-BoxUsage:c5.24xlarge"),
                cause("sa-east-1", "SAE1-BoxUsage:c5.24xlarge"),
            ],
        }],
    }
}

// ---------------------------------------------------------------------------------------------
// States, through `update`
// ---------------------------------------------------------------------------------------------

fn ev(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn press(state: &mut State, keys: &str) {
    for c in keys.chars() {
        let effects = update(state, ev(c));
        assert!(effects.is_empty(), "{c:?} had effects {effects:?}");
    }
}

/// Identity and regions known, the leak start given, the Cost tab open, nothing asked yet.
pub(crate) fn started() -> State {
    let mut state = State::new(settings(false), NOW);
    state.leaked.insert(K_LEAKED.into());
    state.since_flag = Some(LEAK);
    update(
        &mut state,
        Msg::Identity {
            seq: 1,
            at: NOW - Duration::minutes(12),
            result: Ok(identity()),
        },
    );
    update(
        &mut state,
        Msg::Regions {
            seq: 1,
            at: NOW - Duration::minutes(12),
            result: Ok(regions()),
        },
    );
    press(&mut state, "4");
    assert_eq!(state.tab, Tab::Cost);
    update(&mut state, Msg::FetchStarted(Source::Cost));
    state
}

pub(crate) fn fetched(
    state: &mut State,
    seq: u64,
    ago: Duration,
    data: Result<CostData, Failure>,
    anomalies: Result<Anomalies, Failure>,
    requests: u64,
) {
    let effects = update(
        state,
        Msg::CostFetched {
            seq,
            at: NOW - ago,
            window: (FROM, TO),
            data,
            anomalies,
            requests,
        },
    );
    assert!(effects.is_empty(), "{effects:?}");
}

/// (a) The figures and an anomaly, 3 minutes ago: 5 requests.
fn leak_found() -> State {
    let mut s = started();
    fetched(
        &mut s,
        1,
        Duration::minutes(3),
        Ok(cost_data()),
        Ok(anomalies_found()),
        5,
    );
    s
}

/// (b) The account has no anomaly monitor: 4 requests (no `GetAnomalies`).
fn no_monitor() -> State {
    let mut s = started();
    fetched(
        &mut s,
        1,
        Duration::minutes(3),
        Ok(cost_data()),
        Ok(Anomalies::NoMonitor),
        4,
    );
    s
}

const DENIED_DAILY: &str = "ce:GetCostAndUsage";
const DENIED_MONITORS: &str = "ce:GetAnomalyMonitors";
const DENIED_ANOMALIES: &str = "ce:GetAnomalies";

/// (c) Both calls refused, nothing ever loaded.
fn denied() -> State {
    let mut s = started();
    fetched(
        &mut s,
        1,
        Duration::seconds(40),
        Err(Failure::access_denied(DENIED_DAILY)),
        Err(Failure::access_denied(DENIED_MONITORS)),
        2,
    );
    s
}

/// (d) The figures, but `GetAnomalies` refused.
fn anomalies_denied() -> State {
    let mut s = started();
    fetched(
        &mut s,
        1,
        Duration::minutes(3),
        Ok(cost_data()),
        Err(Failure::access_denied(DENIED_ANOMALIES)),
        5,
    );
    s
}

/// (e) The figures of an hour ago on screen, a refresh (`r`) running.
fn refreshing() -> State {
    let mut s = started();
    fetched(
        &mut s,
        1,
        Duration::minutes(64),
        Ok(cost_data()),
        Ok(anomalies_found()),
        5,
    );
    let effects = update(&mut s, ev('r'));
    assert_eq!(
        effects,
        vec![keyspill_core::app::Effect::Refresh(Source::Cost)],
        "r asks Cost Explorer"
    );
    update(&mut s, Msg::FetchStarted(Source::Cost));
    s
}

/// (f) `c` moves to the regions table, `j` twice down it.
fn regions_scrolled() -> State {
    let mut s = leak_found();
    press(&mut s, "cjj");
    assert_eq!((s.cost.focus, s.cost.scroll), (Focus::Regions, 2));
    s
}

/// Before the first answer.
fn asking() -> State {
    started()
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

fn default_theme() -> Theme {
    Theme::new(ThemeName::Default, false)
}

fn screen(state: &State, w: u16, h: u16) -> Terminal<TestBackend> {
    draw(state, &default_theme(), w, h)
}

/// The screen line holding `needle`.
fn line_with(buf: &Buffer, needle: &str) -> String {
    let (_, y) = find(buf, needle).unwrap_or_else(|| panic!("{needle:?} in\n{}", screen_text(buf)));
    row_text(buf, y)
}

// ---------------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------------

#[test]
fn leak_80x24() {
    let terminal = screen(&leak_found(), 80, 24);
    insta::assert_snapshot!("cost_leak_80x24", terminal.backend());
}

#[test]
fn leak_160x45() {
    let terminal = screen(&leak_found(), 160, 45);
    insta::assert_snapshot!("cost_leak_160x45", terminal.backend());
}

#[test]
fn no_monitor_80x24() {
    let terminal = screen(&no_monitor(), 80, 24);
    insta::assert_snapshot!("cost_no_monitor_80x24", terminal.backend());
}

#[test]
fn access_denied_never_loaded_80x24() {
    let terminal = screen(&denied(), 80, 24);
    insta::assert_snapshot!("cost_access_denied_80x24", terminal.backend());
}

#[test]
fn anomalies_denied_80x24() {
    let terminal = screen(&anomalies_denied(), 80, 24);
    insta::assert_snapshot!("cost_anomalies_denied_80x24", terminal.backend());
}

#[test]
fn refreshing_80x24() {
    let terminal = screen(&refreshing(), 80, 24);
    insta::assert_snapshot!("cost_refreshing_80x24", terminal.backend());
}

#[test]
fn regions_scrolled_80x24() {
    let terminal = screen(&regions_scrolled(), 80, 24);
    insta::assert_snapshot!("cost_regions_scrolled_80x24", terminal.backend());
}

#[test]
fn asking_80x24() {
    let terminal = screen(&asking(), 80, 24);
    insta::assert_snapshot!("cost_asking_80x24", terminal.backend());
}

// ---------------------------------------------------------------------------------------------
// What the screen must say
// ---------------------------------------------------------------------------------------------

#[test]
fn the_leak_day_is_marked_under_its_bar() {
    for (w, h) in [(80, 24), (160, 45), (120, 30)] {
        let terminal = screen(&leak_found(), w, h);
        let buf = terminal.backend().buffer();
        let (x, y) = find(buf, "▲").unwrap_or_else(|| panic!("no leak marker at {w}x{h}"));
        let row = row_text(buf, y);
        assert!(row.contains("leak 11-19"), "{w}x{h}: {row}");
        assert_eq!(
            buf[(x, y)].fg,
            crate::screen::colour(|t| t.leaked),
            "{w}x{h}: the marker in the leaked style"
        );
        // The leak day's bar is right above the marker, drawn in the spike style.
        assert_ne!(
            buf[(x, y - 1)].symbol(),
            " ",
            "{w}x{h}: a bar above the marker"
        );
        assert_eq!(
            buf[(x, y - 1)].fg,
            crate::screen::colour(|t| t.danger),
            "{w}x{h}: the leak day spiked"
        );
        // A day before the leak (two bars left) is a quiet, non-spike bar.
        let before = (0..x).rev().find(|&bx| buf[(bx, y - 1)].symbol() == "▁");
        let bx = before.unwrap_or_else(|| panic!("{w}x{h}: a quiet bar before the leak"));
        assert_eq!(
            buf[(bx, y - 1)].fg,
            crate::screen::colour(|t| t.accent),
            "{w}x{h}: before the leak"
        );
    }
}

#[test]
fn headline_says_what_the_leak_costs_since_when() {
    let terminal = screen(&leak_found(), 160, 45);
    let buf = terminal.backend().buffer();
    let line = line_with(buf, "Since the leak");
    for part in [
        "Since the leak (11-19, 4 days): USD 12,987",
        "3,247/day vs 4.06/day before",
        "+3,243/day",
        "spike on 4 of 4 days",
    ] {
        assert!(line.contains(part), "{part:?} in {line}");
    }
    let terminal = screen(&leak_found(), 80, 24);
    let line = line_with(terminal.backend().buffer(), "Since leak 11-19");
    assert!(
        line.contains("USD 12,987") && line.contains("+3,243/day"),
        "{line}"
    );
}

#[test]
fn spike_and_new_flags_sit_on_the_right_rows() {
    for (w, h) in [(80, 24), (160, 45)] {
        let terminal = screen(&leak_found(), w, h);
        let buf = terminal.backend().buffer();
        // Services: EC2 spiked but the account always ran a t4g.nano, so it is not new.
        let ec2 = line_with(buf, "EC2 - Compute ");
        assert!(ec2.contains("SPIKE"), "{w}x{h}: {ec2}");
        let (x, y) = find(buf, "EC2 - Compute ").expect("EC2 row");
        let flags: String = (x..buf.area.width)
            .map(|x| buf[(x, y)].symbol())
            .collect::<String>();
        // Side by side, the regions table follows on the same line.
        let flags = flags.split("ap-").next().unwrap_or_default().to_string();
        assert!(!flags.contains("NEW"), "{w}x{h}: {flags}");
        let (sx, _) = find(buf, "SPIKE").expect("a SPIKE flag");
        let (_, sy) = find(buf, "SPIKE").expect("a SPIKE flag");
        assert_eq!(
            buf[(sx, sy)].fg,
            crate::screen::colour(|t| t.danger),
            "SPIKE in the danger style"
        );
        // The attacker's regions: spend where there was none.
        for region in ["ap-south-1 ", "ap-southeast-1 ", "sa-east-1 "] {
            let (rx, ry) = find(buf, region).unwrap_or_else(|| panic!("{region} at {w}x{h}"));
            let row: String = (rx..buf.area.width)
                .map(|x| buf[(x, ry)].symbol())
                .collect();
            assert!(row.contains("SPIKE NEW"), "{w}x{h}: {row}");
            assert_eq!(
                buf[(rx, ry)].fg,
                crate::screen::colour(|t| t.new),
                "{region}: highlighted as new"
            );
        }
        // S3 is neither.
        let (s3x, s3y) = find(buf, "S3 ").expect("S3 row");
        let row: String = (s3x..s3x + 76).map(|x| buf[(x, s3y)].symbol()).collect();
        assert!(!row.contains("SPIKE") && !row.contains("NEW"), "{row}");
    }
}

#[test]
fn the_lookup_cost_is_always_on_screen() {
    for (state, text) in [
        (
            leak_found(),
            "Cost Explorer: 5 requests this session · USD 0.05",
        ),
        (
            no_monitor(),
            "Cost Explorer: 4 requests this session · USD 0.04",
        ),
        (
            denied(),
            "Cost Explorer: 2 requests this session · USD 0.02",
        ),
        (
            asking(),
            "Cost Explorer: 0 requests this session · USD 0.00",
        ),
    ] {
        for (w, h) in [(80, 24), (160, 45), (100, 12)] {
            let terminal = screen(&state, w, h);
            let buf = terminal.backend().buffer();
            assert!(
                find(buf, text).is_some(),
                "{text:?} at {w}x{h}:\n{}",
                screen_text(buf)
            );
        }
    }
}

#[test]
fn access_denied_names_the_permission_and_how_to_retry() {
    let terminal = screen(&denied(), 80, 24);
    let text = screen_text(terminal.backend().buffer());
    for part in [
        "AccessDenied: missing permission",
        "ce:GetCostAndUsage",
        "arn:aws:iam::123456789012:user/ops/responder",
        "r retries",
        "ce:GetAnomalyMonitors",
    ] {
        assert!(text.contains(part), "{part:?} in\n{text}");
    }
    assert!(!text.contains("Since"), "no figures to show:\n{text}");

    // Only the anomalies refused: the daily figures stay, the panel says why.
    let terminal = screen(&anomalies_denied(), 80, 24);
    let text = screen_text(terminal.backend().buffer());
    assert!(text.contains("Since leak 11-19"), "{text}");
    assert!(text.contains("SPIKE NEW"), "{text}");
    assert!(
        text.contains("AccessDenied: missing permission ce:GetAnomalies"),
        "{text}"
    );
}

#[test]
fn a_failed_refresh_keeps_the_figures_and_says_so() {
    let mut s = leak_found();
    fetched(
        &mut s,
        2,
        Duration::seconds(20),
        Err(Failure::access_denied(DENIED_DAILY)),
        Err(Failure::access_denied(DENIED_MONITORS)),
        7,
    );
    for (w, h) in [(80, 24), (160, 45)] {
        let terminal = screen(&s, w, h);
        let text = screen_text(terminal.backend().buffer());
        assert!(text.contains("⚠ refresh failed 20 s ago"), "{text}");
        assert!(text.contains("ce:GetCostAndUsage"), "{text}");
        assert!(text.contains("figures below from 3 min ago"), "{text}");
        assert!(text.contains("Since"), "{text}");
        assert!(text.contains("ce:GetAnomalyMonitors"), "{text}");
        assert!(text.contains("USD 0.07"), "{text}");
    }
    // At 80×24 the anomalies' panel is cut, and says by how much and how to reach the rest.
    let terminal = screen(&s, 80, 24);
    let text = screen_text(terminal.backend().buffer());
    assert!(text.contains("… 3 more lines (c, then j)"), "{text}");
    insta::assert_snapshot!("cost_refresh_failed_80x24", terminal.backend());
    // Focused, the cursor's anomaly is in sight however little room there is.
    press(&mut s, "cc");
    let text = screen_text(screen(&s, 80, 24).backend().buffer());
    assert!(text.contains("▶ 2026-11-20"), "{text}");
    assert!(text.contains("more lines (j/k)"), "{text}");
}

#[test]
fn anomalies_panel_in_words() {
    let text = screen_text(screen(&no_monitor(), 80, 24).backend().buffer());
    assert!(
        text.contains("No anomaly monitor in this account: AWS's own anomaly"),
        "{text}"
    );
    assert!(
        text.contains("spike detection above still applies"),
        "{text}"
    );

    let mut s = started();
    fetched(
        &mut s,
        1,
        Duration::minutes(1),
        Ok(cost_data()),
        Ok(Anomalies::Found {
            monitors: vec!["Default-Services-Monitor".into(), "ops-team".into()],
            anomalies: vec![],
        }),
        5,
    );
    let text = screen_text(screen(&s, 80, 24).backend().buffer());
    assert!(
        text.contains("no anomalies in the last 90 days (2 monitors)"),
        "{text}"
    );

    let text = screen_text(screen(&leak_found(), 160, 45).backend().buffer());
    for part in [
        "2026-11-20 – ongoing",
        "impact USD 8,566 (max 4,388)",
        "score 0.93",
        "Amazon Elastic Compute Cloud - Compute · ap-south-1 · APS3-BoxUsage:c5.24xlarge",
        "sa-east-1 · SAE1-BoxUsage:c5.24xlarge",
    ] {
        assert!(text.contains(part), "{part:?} in\n{text}");
    }
}

#[test]
fn a_quiet_account_shows_the_threshold_line_above_its_days() {
    let mut s = started();
    fetched(
        &mut s,
        1,
        Duration::minutes(3),
        Ok(spend_data(false)),
        Ok(Anomalies::NoMonitor),
        4,
    );
    let total = s.cost.total.clone().expect("analysed");
    assert!(!total.spike && total.threshold == 10.0, "{total:?}");
    let terminal = screen(&s, 80, 24);
    let buf = terminal.backend().buffer();
    let text = screen_text(buf);
    // The scale reaches the threshold, drawn as a line over the bars.
    let line = line_with(buf, "USD 10┤");
    assert!(line.contains("╌╌╌"), "{text}");
    assert!(text.contains("╌ spike threshold USD 10.00/day"), "{text}");
    assert!(!text.contains("SPIKE"), "{text}");
    assert!(text.contains("Since leak 11-19: USD 16.71"), "{text}");
    assert!(!text.contains("█ spike"), "no spike to explain: {text}");
}

#[test]
fn more_days_than_columns_shows_the_latest_and_says_so() {
    let s = ninety_days();
    let text = screen_text(screen(&s, 80, 24).backend().buffer());
    assert!(text.contains("latest 71 of 90 days"), "{text}");
    assert!(text.contains("leak 11-19 ▲"), "{text}");
    let text = screen_text(screen(&s, 160, 45).backend().buffer());
    assert!(!text.contains("latest"), "all 90 fit at 160:\n{text}");
}

#[test]
fn without_a_leak_start_the_last_seven_days_are_compared() {
    let text = screen_text(screen(&no_leak_start(), 80, 24).backend().buffer());
    assert!(
        text.contains("Last 7 days (no leak start): USD 12,999"),
        "{text}"
    );
    assert!(!text.contains("▲"), "no leak to mark: {text}");
    let text = screen_text(screen(&no_leak_start(), 160, 45).backend().buffer());
    assert!(
        text.contains("No leak start known (--since sets it); last 7 days: USD 12,999"),
        "{text}"
    );
}

#[test]
fn before_the_first_answer_it_says_it_is_asking_and_what_that_costs() {
    let text = screen_text(screen(&asking(), 80, 24).backend().buffer());
    assert!(text.contains("⠋ asking Cost Explorer…"), "{text}");
    assert!(text.contains("Each refresh costs money"), "{text}");
}

#[test]
fn focus_moves_the_cursor_through_the_tables() {
    let s = regions_scrolled();
    let terminal = screen(&s, 80, 24);
    let buf = terminal.backend().buffer();
    let line = line_with(buf, "▶");
    assert!(
        line.contains("sa-east-1"),
        "the cursor on the third region: {line}"
    );
    assert!(
        line_with(buf, "▸ Region").contains("before/d"),
        "the focused table"
    );
    assert!(!line_with(buf, "Service 1–").contains('▸'));

    // Down to the anomalies: the cursor is on the anomaly.
    let mut s = leak_found();
    press(&mut s, "cc");
    assert_eq!(s.cost.focus, Focus::Anomalies);
    let terminal = screen(&s, 80, 24);
    let buf = terminal.backend().buffer();
    assert!(line_with(buf, "▶").contains("2026-11-20 – ongoing"));
    assert!(find(buf, "▸ AWS anomalies").is_some());
}

#[test]
fn cut_tables_say_which_rows_they_show_and_scroll_to_the_last() {
    let mut s = leak_found();
    let (services, regions) = (s.cost.services.len(), s.cost.regions.len());
    let terminal = screen(&s, 80, 24);
    let buf = terminal.backend().buffer();
    // Seven services in four rows, six regions in three: each heading says so, and how to
    // reach the rest (the cursor's j/k, or c to move the cursor to the other table).
    let head = line_with(buf, "▸ Service");
    assert!(head.contains(&format!("1–4 of {services} ↓")), "{head}");
    let head = line_with(buf, " Region ");
    assert!(head.contains(&format!("1–3 of {regions} ↓ c")), "{head}");
    // A table whose rows all fit says only its count.
    let wide = screen(&s, 160, 45);
    let text = screen_text(wide.backend().buffer());
    assert!(text.contains(&format!("Service ({services})")), "{text}");

    // The regions' last row is reachable: c, then j to the end.
    press(&mut s, "c");
    for _ in 0..regions {
        press(&mut s, "j");
    }
    assert_eq!(s.cost.scroll, regions - 1);
    let last = s.cost.regions[regions - 1].key.clone();
    let terminal = screen(&s, 80, 24);
    let buf = terminal.backend().buffer();
    let row = line_with(buf, "▶");
    assert!(row.contains(&last), "cursor on {last}: {row}");
    let head = line_with(buf, "▸ Region");
    // The focused table has the odd row: four of six, the last three plus one.
    assert!(
        head.contains(&format!("{}–{regions} of {regions} ↑", regions - 3)),
        "{head}"
    );
}

#[test]
fn the_cost_tab_footer_and_help() {
    let terminal = screen(&leak_found(), 80, 24);
    let buf = terminal.backend().buffer();
    let footer = row_text(buf, 23);
    for part in ["c next table", "j/k move", "r refresh (billed)", "? help"] {
        assert!(footer.contains(part), "{part:?} in {footer}");
    }
    let mut s = leak_found();
    press(&mut s, "?");
    // Scroll the help down to the spike rule.
    press(&mut s, &"j".repeat(40));
    let text = screen_text(screen(&s, 100, 50).backend().buffer());
    assert!(text.contains("Cost spike rule"), "{text}");
    assert!(text.contains("USD 10.00 a day (the floor)"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// No size panics
// ---------------------------------------------------------------------------------------------

/// Every width and height at the edges and around the layout's breakpoints, and a grid over
/// the rest of 1×1…200×60.
fn sizes() -> Vec<(u16, u16)> {
    let widths: &[u16] = &[
        1, 2, 3, 5, 8, 11, 14, 18, 20, 21, 28, 43, 50, 66, 70, 79, 80, 81, 119, 120, 121,
    ];
    let heights: &[u16] = &[
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 20, 24, 28, 30, 31, 33, 45, 60,
    ];
    let mut sizes: Vec<(u16, u16)> = Vec::new();
    for &w in widths {
        for &h in heights {
            sizes.push((w, h));
        }
    }
    for w in (1..=200).step_by(13) {
        for h in (1..=60).step_by(7) {
            sizes.push((w, h));
        }
    }
    sizes.extend([(200, 60), (160, 45), (200, 1), (1, 60)]);
    sizes
}

fn render_every_size(name: &str, state: &State) {
    let theme = default_theme();
    for (w, h) in sizes() {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            screen::draw_unchecked(state, &theme, w, h)
        }));
        let terminal = result.unwrap_or_else(|_| panic!("{name} panicked at {w}x{h}"));
        let buf = terminal.backend().buffer();
        assert_eq!((buf.area.width, buf.area.height), (w, h));
    }
}

fn anomalies_focused() -> State {
    let mut s = leak_found();
    press(&mut s, "cc");
    s
}

/// Ninety days (`--cost-days 90`): more days than columns at 80.
fn ninety_days() -> State {
    let mut s = started();
    s.cost.days = 90;
    let from = TO - Duration::days(90);
    let mut data = cost_data();
    let mut early: Vec<Day> = (0..60)
        .map(|i| Day {
            date: from + Duration::days(i),
            amount: 4.0,
            estimated: false,
        })
        .collect();
    early.append(&mut data.total);
    data.total = early;
    let effects = update(
        &mut s,
        Msg::CostFetched {
            seq: 1,
            at: NOW,
            window: (from, TO),
            data: Ok(data),
            anomalies: Ok(anomalies_found()),
            requests: 9,
        },
    );
    assert!(effects.is_empty());
    s
}

/// The figures, then the leak start forgotten: the last 7 days against the rest.
fn no_leak_start() -> State {
    let mut s = leak_found();
    s.since_flag = None;
    s.leaked.clear();
    update(&mut s, Msg::Tick(NOW));
    assert_eq!(s.cost.analysed_leak, None);
    s
}

macro_rules! every_size {
    ($($test:ident => $state:expr),+ $(,)?) => {
        $(
            #[test]
            fn $test() {
                render_every_size(stringify!($test), &$state);
            }
        )+
    };
}

every_size! {
    sizes_leak => leak_found(),
    sizes_no_monitor => no_monitor(),
    sizes_denied => denied(),
    sizes_anomalies_denied => anomalies_denied(),
    sizes_refreshing => refreshing(),
    sizes_regions_scrolled => regions_scrolled(),
    sizes_asking => asking(),
    sizes_anomalies_focused => anomalies_focused(),
    sizes_ninety_days => ninety_days(),
    sizes_no_leak_start => no_leak_start(),
}

#[test]
fn tables_keep_their_columns_or_say_they_lost_them() {
    let s = leak_found();
    // From 120 up to where two full tables fit side by side, they go one above the other
    // rather than lose their baseline and peak.
    for w in [80, 125, 139, 160] {
        let text = screen_text(screen(&s, w, 40).backend().buffer());
        assert!(text.contains("before/d"), "{w}: {text}");
        assert!(text.contains("peak (day)"), "{w}: {text}");
        assert!(!text.contains("columns cut"), "{w}: {text}");
    }
    let side = |w: u16| {
        let terminal = screen(&s, w, 40);
        let buf = terminal.backend().buffer();
        line_with(buf, "▸ Service").contains("Region (")
    };
    assert!(!side(139), "one above the other at 139");
    assert!(side(140), "side by side from 140");
    // Narrower than a full table: the columns go, and the pane's bottom edge says so beside
    // the lookup cost, which is still there.
    for w in [50, 60] {
        let terminal = screen(&s, w, 30);
        let buf = terminal.backend().buffer();
        let text = screen_text(buf);
        assert!(!text.contains("before/d"), "{w}: {text}");
        let bottom = row_text(buf, 28);
        assert!(bottom.contains("columns cut: widen"), "{w}: {bottom}");
        assert!(bottom.contains("USD 0.05"), "{w}: {bottom}");
    }
}
