//! The Timeline tab holding a million events: one frame, one filter change, and the memory the
//! loaded console holds.
//!
//!   cargo bench --bench timeline_ui
//!
//! Targets (DESIGN.md, Performance): a frame renders in <= 2 ms (median, 200x50 terminal), a
//! filter change applies in <= 50 ms, <= 1 GiB resident with 1 M events.
//!
//! The events are synthetic but shaped like the real thing: a few dozen API calls, 17
//! regions, a handful of tracked keys with their ARNs, a few hundred source addresses, some
//! failed calls and some rated by the risk rules, times scattered over three days (so the
//! newest-first order is not the insertion order). Every event shares one small `raw` record,
//! so the memory figure measures the index and the normalized fields, not stored payloads.
//! Repeating fields are interned as the parser interns them.
//! They arrive in batches of 100,000, as sources deliver them.
//!
//! Criterion reports its own statistics; afterwards the bench times the same operations again
//! by hand and prints their medians next to the targets.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use keyspill_core::app::state::{Settings, State, Tab};
use keyspill_core::app::timeline::{RegionProgress, SourceState};
use keyspill_core::domain::Identity;
use keyspill_core::timeline::model::intern;
use keyspill_core::timeline::store::{Filter, Quick};
use keyspill_core::timeline::{Event, Origin, Risk, Severity, Tactic};
use keyspill_core::ui::theme::ThemeName;
use keyspill_core::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use time::macros::datetime;

const EVENTS: usize = 1_000_000;
const BATCH: usize = 100_000;
const WIDTH: u16 = 200;
const HEIGHT: u16 = 50;

const FRAME_TARGET: Duration = Duration::from_millis(2);
const FILTER_TARGET: Duration = Duration::from_millis(50);
const RSS_TARGET_KIB: u64 = 1 << 20;

const REGIONS: [&str; 17] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "sa-east-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
];

/// (service, call, read-only)
const CALLS: [(&str, &str, bool); 24] = [
    ("sts.amazonaws.com", "GetCallerIdentity", true),
    ("sts.amazonaws.com", "AssumeRole", false),
    ("ec2.amazonaws.com", "DescribeInstances", true),
    ("ec2.amazonaws.com", "DescribeRegions", true),
    ("ec2.amazonaws.com", "RunInstances", false),
    ("ec2.amazonaws.com", "DescribeSecurityGroups", true),
    ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", false),
    ("ec2.amazonaws.com", "GetPasswordData", true),
    ("iam.amazonaws.com", "ListUsers", true),
    ("iam.amazonaws.com", "ListRoles", true),
    ("iam.amazonaws.com", "CreateUser", false),
    ("iam.amazonaws.com", "CreateAccessKey", false),
    ("iam.amazonaws.com", "AttachUserPolicy", false),
    ("s3.amazonaws.com", "ListBuckets", true),
    ("s3.amazonaws.com", "GetObject", true),
    ("s3.amazonaws.com", "PutBucketPolicy", false),
    ("cloudtrail.amazonaws.com", "StopLogging", false),
    ("cloudtrail.amazonaws.com", "DescribeTrails", true),
    ("secretsmanager.amazonaws.com", "ListSecrets", true),
    ("secretsmanager.amazonaws.com", "GetSecretValue", true),
    ("ssm.amazonaws.com", "GetParameters", true),
    ("lambda.amazonaws.com", "ListFunctions20150331", true),
    ("organizations.amazonaws.com", "DescribeOrganization", true),
    ("guardduty.amazonaws.com", "ListDetectors", true),
];

const AGENTS: [&str; 8] = [
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22",
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.5.0 lang/python#3.11.8",
    "aws-sdk-go-v2/1.26.1 os/linux lang/go#1.22.1 md/GOOS#linux",
    "TruffleHog",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)",
    "S3Console/0.4",
    "aws-sdk-java/1.12.680 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.10",
    "terraform-provider-aws/5.40.0",
];

const KEYS: [&str; 6] = [
    "AKIA2CIDEPLOYLEAK7Q4",
    "ASIA2CIDEPLOYROLE001",
    "ASIA2CIDEPLOYROLE002",
    "ASIA2CIDEPLOYSESS003",
    "AKIA2CIDEPLOYNEWK9ZZ",
    "ASIA2ESCALATEDROLE04",
];

const ERRORS: [&str; 4] = [
    "AccessDenied",
    "Client.UnauthorizedOperation",
    "UnauthorizedOperation",
    "ThrottlingException",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn synthetic(rng: &mut Rng, n: usize, raw: &Arc<str>) -> Event {
    let (service, name, read_only) = CALLS[rng.below(CALLS.len())];
    let region = REGIONS[rng.below(REGIONS.len())];
    let k = rng.below(KEYS.len());
    let key = KEYS[k];
    let identity_arn = if key.starts_with("AKIA") {
        "arn:aws:iam::123456789012:user/ci/ci-deploy".to_string()
    } else {
        format!("arn:aws:sts::123456789012:assumed-role/deploy-role-{k}/session-{k}")
    };
    let failed = rng.below(20) == 0;
    let risk = (rng.below(30) == 0).then(|| {
        let tactic = Tactic::ALL[rng.below(Tactic::ALL.len())];
        let severity = [
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ][rng.below(4)];
        Risk {
            tactic,
            severity,
            rule: intern(&format!("{}-{}", tactic.label(), severity.label())),
        }
    });
    let ip = rng.next();
    let id = rng.next();
    let id_lo = rng.next();
    Event {
        id: format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            id >> 32,
            (id >> 16) & 0xFFFF,
            id & 0xFFF,
            n & 0xFFF,
            id_lo & 0xFFFF_FFFF_FFFF
        )
        .into_boxed_str(),
        time: datetime!(2026-11-20 00:00:00 UTC)
            + time::Duration::seconds(rng.below(3 * 86_400) as i64),
        service: intern(service),
        name: intern(name),
        region: intern(region),
        source_ip: intern(&format!("203.0.{}.{}", (ip >> 8) % 4, ip % 50 + 1)),
        user_agent: intern(AGENTS[rng.below(AGENTS.len())]),
        identity_type: intern(if key.starts_with("AKIA") {
            "IAMUser"
        } else {
            "AssumedRole"
        }),
        identity_arn: intern(&identity_arn),
        access_key_id: intern(key),
        error_code: failed.then(|| intern(ERRORS[rng.below(ERRORS.len())])),
        error_message: failed
            .then(|| intern(&format!("User is not authorized to perform: {name}"))),
        read_only: Some(read_only),
        mfa_used: None,
        minted: None,
        origin: Origin::LookupEvents {
            region: intern(region),
        },
        raw: Arc::clone(raw),
        risk,
    }
}

fn settings() -> Settings {
    Settings {
        read_only: false,
        profile: Some("incident".into()),
        endpoint: None,
        regions: None,
        operator: "ic@laptop".into(),
        local_offset: time::UtcOffset::UTC,
    }
}

/// Kilobytes of a `/proc/self/status` line (`VmRSS`, `VmHWM`).
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn loaded() -> State {
    let rss_before = status_kib("VmRSS").unwrap_or(0);
    let began = Instant::now();
    let now = datetime!(2026-11-23 00:10:00 UTC);
    let mut state = State::new(settings(), now);
    // Mid-way through the three days: the leak-start line is among the events and the strip
    // counts before and after it.
    state.since_flag = Some(datetime!(2026-11-21 06:00:00 UTC));
    state.identity.data = Some(Identity {
        account: "123456789012".into(),
        arn: "arn:aws:iam::123456789012:user/ops/responder".into(),
        user_id: "AIDA2RESPONDERUSER01".into(),
        access_key_id: Some("AKIA2RESPONDERSELF5X".into()),
    });
    state.leaked.insert(KEYS[0].into());
    state.tab = Tab::Timeline;
    let raw: Arc<str> = Arc::from(
        r#"{"eventVersion":"1.09","eventName":"DescribeInstances","awsRegion":"us-east-1"}"#,
    );
    let mut rng = Rng(0x7131_E11E);
    let batches: Vec<Vec<Event>> = (0..EVENTS)
        .step_by(BATCH)
        .map(|start| {
            (start..(start + BATCH).min(EVENTS))
                .map(|n| synthetic(&mut rng, n, &raw))
                .collect()
        })
        .collect();
    let rss_events = status_kib("VmRSS").unwrap_or(0);
    let made = began.elapsed();
    let t = &mut state.timeline;
    t.store.set_leak(Some(datetime!(2026-11-21 06:00:00 UTC)));
    for batch in batches {
        t.store.insert(batch);
    }
    t.last_update = Some(now);
    for (i, k) in KEYS.iter().enumerate() {
        let text = if i == 0 {
            (*k).to_string()
        } else {
            format!("{} → AssumeRole deploy-role-{i} → {k}", KEYS[0])
        };
        t.chains.insert((*k).to_string(), text);
    }
    for r in REGIONS {
        t.regions.insert(
            r.to_string(),
            RegionProgress {
                state: SourceState::Live,
                pages: 1_000_000 / 50 / 17,
                events: EVENTS / 17,
                throttled: 0,
                ..Default::default()
            },
        );
    }
    let rss = status_kib("VmRSS").unwrap_or(0);
    let verdict = if rss <= RSS_TARGET_KIB { "ok" } else { "MISS" };
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "loaded {} events: made in {:.2} s, inserted in {:.2} s",
        t.store.len(),
        made.as_secs_f64(),
        (began.elapsed() - made).as_secs_f64()
    );
    println!(
        "VmRSS {:.0} MiB (target <= 1024 MiB: {verdict}); of which the events as built {:.0} MiB \
         ({} B inline each plus their strings), the store's own index {:.0} MiB; peak {:.0} MiB",
        mib(rss),
        mib(rss_events.saturating_sub(rss_before)),
        std::mem::size_of::<Event>(),
        mib(rss.saturating_sub(rss_events)),
        mib(status_kib("VmHWM").unwrap_or(0)),
    );
    state
}

fn terminal() -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(WIDTH, HEIGHT)).expect("terminal")
}

/// One frame, the cursor one row further than in the previous one (what `j` costs).
fn frame(term: &mut Terminal<TestBackend>, state: &mut State, theme: &Theme, step: usize) {
    let n = state.timeline.store.view_len().max(1);
    state.timeline.cursor = (state.timeline.cursor + step) % n;
    state.frame += 1;
    term.draw(|f| ui::render(f, state, theme)).expect("draw");
}

/// Two filters taken in turn, so that every call is a real change.
fn flip(state: &mut State, a: &Filter, b: &Filter, toggle: &mut bool) {
    *toggle = !*toggle;
    let f = if *toggle { a } else { b };
    state.timeline.store.set_filter(f.clone());
    black_box(state.timeline.store.view_len());
}

fn text(s: &str) -> Filter {
    Filter {
        text: s.into(),
        ..Filter::default()
    }
}

fn quick(q: Quick) -> Filter {
    Filter {
        quick: q,
        ..Filter::default()
    }
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

fn report(label: &str, xs: Vec<Duration>, target: Duration) {
    let worst = xs.iter().max().copied().unwrap_or_default();
    let m = median(xs);
    let verdict = if m <= target { "ok" } else { "MISS" };
    println!(
        "{label:<48} median {:>8.3} ms  worst {:>8.3} ms  target <= {:>4} ms: {verdict}",
        m.as_secs_f64() * 1e3,
        worst.as_secs_f64() * 1e3,
        target.as_millis()
    );
}

fn timeline(c: &mut Criterion) {
    let mut state = loaded();
    let theme = Theme::new(ThemeName::Default, false);
    let mut term = terminal();

    let mut g = c.benchmark_group("timeline_1m");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    g.bench_function("frame 200x50, newest", |b| {
        state.timeline.cursor = 0;
        b.iter(|| frame(&mut term, &mut state, &theme, 1));
    });
    g.bench_function("frame 200x50, deep in the view", |b| {
        state.timeline.cursor = EVENTS / 2;
        b.iter(|| frame(&mut term, &mut state, &theme, 1));
    });
    g.finish();

    let mut g = c.benchmark_group("timeline_1m_filter");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(4));
    let pairs = [
        (
            "text: stoplogging <-> eu-west-3",
            text("stoplogging"),
            text("eu-west-3"),
        ),
        (
            "text: accessdenied <-> (cleared)",
            text("accessdenied"),
            Filter::default(),
        ),
        (
            "text: amazonaws (every event) <-> eu-west-3",
            text("amazonaws"),
            text("eu-west-3"),
        ),
        (
            "quick: high-risk <-> errors",
            quick(Quick::HighRisk),
            quick(Quick::Errors),
        ),
    ];
    for (label, a, b) in &pairs {
        let mut toggle = false;
        g.bench_function(*label, |bench| {
            bench.iter(|| flip(&mut state, a, b, &mut toggle));
        });
    }
    g.finish();
    state.timeline.store.set_filter(Filter::default());

    // The same operations timed one by one, for medians to hold against the targets.
    println!();
    println!(
        "{} events, {WIDTH}x{HEIGHT} TestBackend",
        state.timeline.store.len()
    );
    for (label, start) in [
        ("frame, newest", 0),
        ("frame, deep in the view", EVENTS / 2),
    ] {
        state.timeline.cursor = start;
        let xs: Vec<Duration> = (0..201)
            .map(|_| {
                let t0 = Instant::now();
                frame(&mut term, &mut state, &theme, 1);
                t0.elapsed()
            })
            .collect();
        report(label, xs, FRAME_TARGET);
    }
    state.timeline.store.set_filter(text("runinstances"));
    state.timeline.text = "runinstances".into();
    state.timeline.cursor = 0;
    let xs: Vec<Duration> = (0..201)
        .map(|_| {
            let t0 = Instant::now();
            frame(&mut term, &mut state, &theme, 1);
            t0.elapsed()
        })
        .collect();
    report("frame, text filter on", xs, FRAME_TARGET);
    state.timeline.text.clear();
    state.timeline.store.set_filter(Filter::default());
    for (label, a, b) in &pairs {
        let mut toggle = false;
        let (mut to_a, mut to_b) = (Vec::new(), Vec::new());
        for _ in 0..30 {
            let t0 = Instant::now();
            flip(&mut state, a, b, &mut toggle);
            let took = t0.elapsed();
            if toggle {
                to_a.push(took)
            } else {
                to_b.push(took)
            }
        }
        let (first, second) = label.split_once(" <-> ").unwrap_or((label, ""));
        let kind = first.split_once(": ").map_or("", |(k, _)| k);
        let second = second.trim_start_matches(&format!("{kind}: ")[..]);
        report(&format!("filter change to {first}"), to_a, FILTER_TARGET);
        report(
            &format!("filter change to {kind}: {second}"),
            to_b,
            FILTER_TARGET,
        );
        state.timeline.store.set_filter(Filter::default());
    }
    println!(
        "VmRSS at the end {:.0} MiB, peak {:.0} MiB (target <= 1024 MiB)",
        status_kib("VmRSS").unwrap_or(0) as f64 / 1024.0,
        status_kib("VmHWM").unwrap_or(0) as f64 / 1024.0
    );
}

criterion_group!(benches, timeline);
criterion_main!(benches);
