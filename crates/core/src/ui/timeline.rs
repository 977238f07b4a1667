//! The Timeline tab: everything the leaked keys (and what they minted) did, newest first.

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, TableState, Wrap};

use crate::app::resources::leak_start;
use crate::app::state::{SinceSource, State};
use crate::app::timeline::{SourceState, TimelineTab, View};
use crate::domain::{Timestamp, key_short};
use crate::fmt;
use crate::timeline::model::bare_code;
use crate::timeline::store::Seen;
use crate::timeline::{Event, Severity};
use crate::ui::{Theme, layout, spinner};

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let t = &state.timeline;
    let total = t.store.len();
    let shown = t.store.view_len();
    let mut title = vec![
        Span::styled(" Timeline ", theme.title),
        Span::raw(format!("· {total} events ")),
    ];
    if shown != total || !t.text.is_empty() {
        title.push(Span::styled(format!("· {shown} shown "), theme.accent));
    }
    if t.quick != crate::timeline::store::Quick::All {
        title.push(Span::styled(
            format!("· {} ", t.quick.label()),
            theme.accent,
        ));
    }
    if !t.text.is_empty() {
        title.push(Span::styled(
            format!("· filter \"{}\" ", t.text),
            theme.accent,
        ));
    }
    if let Some(k) = &t.branch {
        title.push(Span::styled(
            format!("· branch of {} ", key_short(k)),
            theme.accent,
        ));
    }
    if t.view == View::Sources {
        title.push(Span::styled("· source IPs and user agents ", theme.accent));
    } else if t.follow {
        title.push(Span::styled("· following newest ", theme.base));
    }
    match t.last_update {
        Some(at) => title.push(Span::raw(format!(
            "· updated {} ago",
            fmt::ago(state.now, at)
        ))),
        None => title.push(Span::raw("· nothing yet")),
    }
    if t.loading() {
        title.push(Span::raw(format!(" {}", spinner(state))));
    }
    title.push(Span::raw(" "));
    let Some(inner) = crate::ui::pane(frame, area, title, theme) else {
        return;
    };

    // The columns are planned first: the summary gives the key to region codes if the table
    // uses them.
    let plan = plan(
        inner.width,
        &wants(state, t, usize::from(inner.height)),
        region_codes(t.store.summary().regions.iter().map(|r| &**r)).is_some(),
    );
    let mut top: Vec<Line> = summary_lines(state, t, plan.codes, theme);
    top.extend(source_lines(state, t, theme));
    // The strips wrap rather than lose their ends, within half the pane.
    let top_height = crate::ui::wrapped_height(&top, inner.width).min((inner.height / 2).max(1));
    let [top_area, table_area] =
        ratatui::layout::Layout::vertical([Constraint::Length(top_height), Constraint::Min(0)])
            .areas(inner);
    frame.render_widget(Paragraph::new(top).wrap(Wrap { trim: false }), top_area);
    if table_area.height > 1 {
        match t.view {
            View::Events => table(frame, table_area, state, t, &plan, theme),
            View::Sources => sources(frame, table_area, state, t, theme),
        }
    }
    if let Some(scroll) = t.detail {
        record(frame, area, state, t, scroll, theme);
    }
}

fn summary_lines(state: &State, t: &TimelineTab, codes: bool, theme: &Theme) -> Vec<Line<'static>> {
    let s = t.store.summary();
    if s.events == 0 {
        return vec![Line::styled(
            " No events yet for the tracked keys.".to_string(),
            theme.base,
        )];
    }
    let when = |x: Option<Timestamp>| x.map_or("-".to_string(), |t| stamp(state, t, true));
    let derived = t.chains.len().saturating_sub(state.leaked.len());
    let (new_ips, new_agents) = (s.new_source_ips, s.new_user_agents);
    let new_word = |n: usize| {
        if n > 0 {
            Span::styled(format!(" ({n} new)"), theme.warn)
        } else {
            Span::raw("")
        }
    };
    let first = Line::from(vec![
        Span::styled(" first ", theme.dim),
        Span::raw(when(s.first)),
        Span::styled("  last ", theme.dim),
        Span::raw(when(s.last)),
        Span::styled(" · ", theme.dim),
        Span::raw(format!("{} events", s.events)),
        Span::styled(
            format!(" ({} failed)", s.errors),
            if s.errors > 0 { theme.warn } else { theme.base },
        ),
        Span::styled(" · ", theme.dim),
        Span::styled(
            fmt::plural(derived, "derived key", "derived keys"),
            if derived > 0 { theme.warn } else { theme.base },
        ),
        Span::styled(" · ", theme.dim),
        Span::raw(fmt::plural(s.source_ips.len(), "source IP", "source IPs")),
        new_word(new_ips),
        Span::styled(" · ", theme.dim),
        Span::raw(fmt::plural(
            s.user_agents.len(),
            "user agent",
            "user agents",
        )),
        new_word(new_agents),
    ]);
    // Tactics since the leak, in the colour of their worst event; before it, plain.
    let since = match s.leak {
        Some(l) => format!(" since leak {} ", stamp(state, l, true)),
        None => " tactics ".to_string(),
    };
    let mut tactics = vec![Span::styled(since, theme.title)];
    if s.tactics.is_empty() {
        tactics.push(Span::raw("none flagged  "));
    }
    for (tactic, n) in &s.tactics {
        let style = s
            .worst
            .get(tactic)
            .map_or(theme.base, |w| severity_style(theme, *w));
        let denied = match s.denied.get(tactic) {
            Some(d) if d == n => " (all denied)".to_string(),
            Some(d) => format!(" ({d} denied)"),
            None => String::new(),
        };
        tactics.push(Span::styled(
            format!("{} {n}{denied}", tactic.label()),
            style,
        ));
        tactics.push(Span::raw("  "));
    }
    let mut lines = vec![first, Line::from(tactics)];
    if s.before_leak > 0 {
        let mut before = format!(
            " before leak (the owner's own use): {} events",
            s.before_leak
        );
        if !s.tactics_before.is_empty() {
            let list: Vec<String> = s
                .tactics_before
                .iter()
                .map(|(t, n)| format!("{} {n}", t.label()))
                .collect();
            before.push_str(&format!(" · {}", list.join("  ")));
        }
        lines.push(Line::raw(before));
    }
    let regions: Vec<String> = s
        .regions
        .iter()
        .map(|r| {
            if codes {
                format!("{r}={}", region_code(r))
            } else {
                r.to_string()
            }
        })
        .collect();
    lines.push(Line::from(vec![
        Span::styled(
            format!(" {} ", fmt::plural(s.regions.len(), "region", "regions")),
            theme.base,
        ),
        Span::raw(regions.join(" ")),
    ]));
    lines
}

fn state_word(state: &State, s: &SourceState) -> (String, bool) {
    match s {
        SourceState::Waiting => ("waiting".into(), false),
        SourceState::Loading => (format!("loading {}", spinner(state)), false),
        SourceState::Live => ("history loaded, polling".into(), false),
        SourceState::Done => ("done".into(), false),
        SourceState::Error(e) => (e.text.clone(), true),
    }
}

/// ` · retry in 40 s` for a source that failed and will be asked again; nothing otherwise.
fn retrying(state: &State, at: Option<Timestamp>) -> String {
    at.map_or(String::new(), |at| {
        format!(
            " · retry in {}",
            fmt::duration_words((at - state.now).whole_seconds().max(0))
        )
    })
}

fn source_lines(state: &State, t: &TimelineTab, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if !t.regions.is_empty() {
        let done = t
            .regions
            .values()
            .filter(|r| matches!(r.state, SourceState::Done | SourceState::Live))
            .count();
        let pages: u32 = t.regions.values().map(|r| r.pages).sum();
        let throttled: u32 = t.regions.values().map(|r| r.throttled).sum();
        let failed = t
            .regions
            .values()
            .filter(|r| matches!(r.state, SourceState::Error(_)))
            .count();
        let spans = vec![
            Span::styled(" LookupEvents ", theme.title),
            Span::raw(format!(
                "{done}/{} regions loaded · {pages} pages · {throttled} throttled (retried) · ",
                t.regions.len()
            )),
            Span::styled(
                format!("{failed} failed"),
                if failed > 0 { theme.danger } else { theme.base },
            ),
        ];
        lines.push(Line::from(spans));
        // Region by region: pages so far, and where it stands.
        let mut regions = vec![Span::raw(" ")];
        for (region, r) in &t.regions {
            let (mark, style) = match &r.state {
                SourceState::Waiting => ("·".to_string(), theme.dim),
                SourceState::Loading => (spinner(state).to_string(), theme.accent),
                SourceState::Live | SourceState::Done => ("✓".to_string(), theme.ok),
                SourceState::Error(_) => ("✗".to_string(), theme.danger),
            };
            regions.push(Span::styled(format!("{region} {mark}{} ", r.pages), style));
        }
        lines.push(Line::from(regions));
        // The same failure in many regions is said once.
        // Live, a failing region is asked again on its own: the soonest retry is said.
        let mut errors: BTreeMap<&str, (Vec<&str>, Option<Timestamp>)> = BTreeMap::new();
        for (region, r) in &t.regions {
            if let SourceState::Error(e) = &r.state {
                let (regions, retry) = errors.entry(e.text.as_str()).or_default();
                regions.push(region.as_str());
                *retry = match (*retry, r.retry_at) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
        }
        for (e, (regions, retry)) in errors {
            let which = if regions.len() > 3 {
                format!("{} regions", regions.len())
            } else {
                regions.join(", ")
            };
            lines.push(Line::styled(
                format!("   ✗ {which}: {e}{}", retrying(state, retry)),
                theme.danger,
            ));
        }
    }
    let tr = &t.trails;
    if tr.state != SourceState::Waiting || tr.trails > 0 {
        let (word, bad) = state_word(state, &tr.state);
        let mut spans = vec![
            Span::styled(" Trail logs ", theme.title),
            Span::raw(format!(
                "{} trails · {}/{} objects · {} events · {} skipped · ",
                tr.trails, tr.fetched, tr.objects, tr.events, tr.skipped
            )),
            Span::styled(
                format!("{word}{}", retrying(state, tr.retry_at)),
                if bad { theme.danger } else { theme.base },
            ),
        ];
        if let Some(p) = tr.problems.first() {
            spans.push(Span::styled(format!(" · {p}"), theme.warn));
        }
        lines.push(Line::from(spans));
    }
    let f = &t.files;
    if f.state != SourceState::Waiting || f.files > 0 {
        let (word, bad) = state_word(state, &f.state);
        let mut spans = vec![
            Span::styled(" Files ", theme.title),
            Span::raw(format!("{} files · {} events · ", f.files, f.events)),
            Span::styled(
                if f.skipped == 0 {
                    "0 skipped".to_string()
                } else {
                    format!("{} skipped in {} files", f.skipped, f.skipped_files)
                },
                if f.skipped == 0 {
                    theme.base
                } else {
                    theme.warn
                },
            ),
            Span::raw(" · "),
            Span::styled(word, if bad { theme.danger } else { theme.base }),
        ];
        if let Some(first) = f.reasons.first() {
            spans.push(Span::styled(format!(" · {first}"), theme.warn));
        }
        lines.push(Line::from(spans));
    }
    lines
}

/// How much of a time the table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeShape {
    /// `21:31:21Z`: every shown event on one day.
    Clock,
    /// `07-30 21:31:21Z`: several days of one year.
    MonthDay,
    /// `2024-07-30 21:31:21Z`: several years.
    Full,
}

impl TimeShape {
    fn width(self) -> u16 {
        match self {
            TimeShape::Clock => 9,
            TimeShape::MonthDay => 15,
            TimeShape::Full => 20,
        }
    }
}

/// A time as the operator chose: UTC, or local with its offset.
fn stamp(state: &State, t: Timestamp, with_date: bool) -> String {
    stamp_as(
        state,
        t,
        if with_date {
            TimeShape::Full
        } else {
            TimeShape::Clock
        },
    )
}

fn local(state: &State, t: Timestamp) -> Timestamp {
    if state.timeline.local_time {
        t.to_offset(state.settings.local_offset)
    } else {
        t
    }
}

fn stamp_as(state: &State, t: Timestamp, shape: TimeShape) -> String {
    let t = local(state, t);
    let zone = if state.timeline.local_time { "" } else { "Z" };
    match shape {
        TimeShape::Clock => format!("{}{zone}", fmt::clock_time(t)),
        TimeShape::MonthDay => format!("{} {}{zone}", fmt::month_day(t.date()), fmt::clock_time(t)),
        TimeShape::Full => format!("{} {}{zone}", fmt::date(t), fmt::clock_time(t)),
    }
}

/// Dates in the time column when the filtered events span more than one day (the newest and
/// the oldest of the view, so the column does not change width while scrolling).
fn time_shape(state: &State, t: &TimelineTab) -> TimeShape {
    let n = t.store.view_len();
    let (Some(newest), Some(oldest)) = (t.store.view_get(0), t.store.view_get(n.saturating_sub(1)))
    else {
        return TimeShape::Clock;
    };
    let (a, b) = (local(state, newest.time), local(state, oldest.time));
    if a.year() != b.year() {
        TimeShape::Full
    } else if a.date() != b.date() {
        TimeShape::MonthDay
    } else {
        TimeShape::Clock
    }
}

fn severity_style(theme: &Theme, s: Severity) -> Style {
    match s {
        Severity::Critical | Severity::High => theme.danger,
        Severity::Medium => theme.warn,
        Severity::Low => theme.accent,
        Severity::Info => theme.dim,
    }
}

/// A region's short code, in the style of AWS's zone ids: `use1` for us-east-1, `euw1`,
/// `apse2`, `cac1`, `usgw1` for us-gov-west-1. A name of another shape stays as it is.
pub fn region_code(region: &str) -> String {
    let parts: Vec<&str> = region.split('-').collect();
    let [geo, middle @ .., number] = parts.as_slice() else {
        return region.to_string();
    };
    if middle.is_empty() {
        return region.to_string();
    }
    let mut code = geo.to_string();
    for word in middle {
        let short = match *word {
            "east" => "e",
            "west" => "w",
            "north" => "n",
            "south" => "s",
            "central" => "c",
            "northeast" => "ne",
            "northwest" => "nw",
            "southeast" => "se",
            "southwest" => "sw",
            "gov" => "g",
            other => other.get(..1).unwrap_or(other),
        };
        code.push_str(short);
    }
    code.push_str(number);
    code
}

/// Codes for every region of the timeline, or `None` when two would share one (then the
/// table keeps the full names).
fn region_codes<'a>(regions: impl Iterator<Item = &'a str>) -> Option<BTreeMap<String, String>> {
    let mut codes = BTreeMap::new();
    let mut taken = std::collections::BTreeSet::new();
    for r in regions {
        let code = region_code(r);
        if !taken.insert(code.clone()) {
            return None;
        }
        codes.insert(r.to_string(), code);
    }
    Some(codes)
}

/// The end of a chain that fits `width`: the key that acted always, then as many steps before
/// it as fit, the head abbreviated to `…→`. `AKIA…WXYZ → AssumeRole deploy → ASIA…1234` in
/// 26 columns is `…→ role/deploy → ASIA…1234`.
pub fn chain_tail(chain: &str, width: usize) -> String {
    if Span::raw(chain).width() <= width {
        return chain.to_string();
    }
    let parts: Vec<&str> = chain.split(" → ").collect();
    let Some((key, before)) = parts.split_last() else {
        return layout::fit(chain, width);
    };
    const HEAD: &str = "…→ ";
    let room = |s: &str| Span::raw(s).width();
    let mut tail = key.to_string();
    if room(HEAD) + room(&tail) > width {
        return layout::fit(key, width);
    }
    for (n, step) in before.iter().rev().enumerate() {
        let step = short_step(step);
        let whole = format!("{step} → {tail}");
        if room(HEAD) + room(&whole) <= width {
            tail = whole;
            continue;
        }
        // Part of the step that minted the key, if enough of it fits to mean something;
        // earlier steps are whole or left to the `…`.
        let left = width.saturating_sub(room(HEAD) + room(" → ") + room(&tail));
        if n == 0 && left >= 8 {
            tail = format!("{} → {tail}", layout::fit(&step, left));
        }
        break;
    }
    format!("{HEAD}{tail}")
}

/// A chain step in fewer words: `AssumeRole deploy` → `role/deploy`.
fn short_step(step: &str) -> String {
    for (long, short) in [
        ("AssumeRole ", "role/"),
        ("GetFederationToken ", "federation/"),
    ] {
        if let Some(rest) = step.strip_prefix(long) {
            return format!("{short}{rest}");
        }
    }
    step.to_string()
}

/// Who made the call: the chain for tracked keys, else the key or the ARN's tail.
fn identity(t: &TimelineTab, e: &Event) -> String {
    if let Some(chain) = t.chains.get(&*e.access_key_id) {
        return chain.clone();
    }
    if !e.access_key_id.is_empty() {
        return key_short(&e.access_key_id);
    }
    e.identity_arn
        .rsplit(':')
        .next()
        .unwrap_or(&e.identity_arn)
        .to_string()
}

fn short_agent(ua: &str) -> &str {
    // The first product token says most: `aws-cli/2.15.0`, `Boto3/1.34`, `TruffleHog`.
    ua.split_whitespace().next().unwrap_or(ua)
}

/// The tactic cell: the tactic, and `denied` when the call was refused and the table has no
/// error column to say it.
fn tactic_text(e: &Event, say_denied: bool) -> String {
    match (&e.risk, say_denied && e.denied()) {
        (Some(r), true) => format!("{} denied", r.tactic.label()),
        (Some(r), false) => r.tactic.label().to_string(),
        (None, true) => "denied".to_string(),
        (None, false) => String::new(),
    }
}

/// The error cell: `denied` for every refusal for lack of permission (the code itself is in
/// the record), else the code without EC2's prefix.
fn error_text(e: &Event) -> String {
    match &e.error_code {
        Some(_) if e.denied() => "denied".to_string(),
        Some(c) => bare_code(c).to_string(),
        None if e.error_message.is_some() => "failed".to_string(),
        None => String::new(),
    }
}

/// A column of the event table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Time,
    Region,
    Service,
    Event,
    Identity,
    SourceIp,
    Agent,
    Error,
    Tactic,
}

impl Col {
    fn header(self) -> &'static str {
        match self {
            Col::Time => "TIME",
            Col::Region => "REGION",
            Col::Service => "SERVICE",
            Col::Event => "EVENT",
            Col::Identity => "KEY (CHAIN)",
            Col::SourceIp => "SOURCE IP",
            Col::Agent => "USER AGENT",
            Col::Error => "ERROR",
            Col::Tactic => "TACTIC",
        }
    }
}

/// What the shown rows would need, column by column (widths in screen columns).
#[derive(Debug, Clone, Copy, Default)]
struct Wants {
    time: u16,
    region_full: u16,
    region_code: u16,
    service: u16,
    event: u16,
    identity: u16,
    ip: u16,
    agent: u16,
    error: u16,
    tactic: u16,
    /// The tactic with `denied` after it, for tables without an error column.
    tactic_denied: u16,
}

/// The columns and their widths for a table `width` columns wide.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Plan {
    cols: Vec<(Col, u16)>,
    /// Regions shown by their codes (the summary then gives the key).
    codes: bool,
}

/// Terminal width from which the error and source IP columns are shown: the table is the
/// terminal less the pane's two borders.
const ROOMY: u16 = 100 - 2;

fn plan(width: u16, w: &Wants, codes_known: bool) -> Plan {
    // The selection mark takes one column; each column after the first a gap.
    let avail = width.saturating_sub(1);
    let roomy = width >= ROOMY;
    let cap = |x: u16, lo: u16, hi: u16| x.clamp(lo, hi.max(lo));
    let mut time = w.time;
    let mut region = if codes_known {
        cap(w.region_code, 6, 10)
    } else {
        cap(w.region_full, 6, 20)
    };
    let mut codes = codes_known;
    let mut event = cap(w.event, 5, 14);
    let mut ip = if roomy { cap(w.ip, 9, 15) } else { 0 };
    let mut error = if roomy { cap(w.error, 5, 10) } else { 0 };
    let tactic = if roomy {
        cap(w.tactic, 6, 16)
    } else {
        cap(w.tactic_denied, 6, 22)
    };
    let identity_min = 13;
    let mut service = 0;
    let mut agent = 0;
    let count = |service: u16, agent: u16| -> u16 {
        5 + u16::from(roomy) * 2 + u16::from(service > 0) + u16::from(agent > 0)
    };
    let used = |time, region, event, ip, error, service, agent| -> u16 {
        let n = count(service, agent);
        time + region + event + ip + error + tactic + service + agent + identity_min + n - 1
    };
    let left = |time, region, event, ip, error, service, agent| -> u16 {
        avail.saturating_sub(used(time, region, event, ip, error, service, agent))
    };
    // Hand out what is left, most useful first.
    let grow = |now: u16, want: u16, spare: u16| now + want.saturating_sub(now).min(spare);
    // Event names to 22 first (the rare longer one is cut), then the chain, then the rest.
    event = grow(
        event,
        cap(w.event, 5, 22),
        left(time, region, event, ip, error, 0, 0),
    );
    let identity_soon = cap(w.identity, identity_min, 40);
    let spare_for_identity = identity_soon - identity_min;
    let reserve = |spare: u16| spare.saturating_sub(spare_for_identity);
    if codes_known {
        let full = cap(w.region_full, 6, 20);
        if full.saturating_sub(region) <= reserve(left(time, region, event, ip, error, 0, 0)) {
            region = full;
            codes = false;
        }
    }
    error = grow(
        error,
        if roomy { cap(w.error, 5, 22) } else { 0 },
        reserve(left(time, region, event, ip, error, 0, 0)),
    );
    if roomy && w.service > 0 && w.service < reserve(left(time, region, event, ip, error, 0, 0)) {
        service = cap(w.service, 7, 14);
    }
    if roomy && w.agent > 0 {
        let want = cap(w.agent, 10, 24);
        if want < reserve(left(time, region, event, ip, error, service, 0)) {
            agent = want;
        }
    }
    ip = grow(
        ip,
        if roomy { cap(w.ip, 9, 39) } else { 0 },
        reserve(left(time, region, event, ip, error, service, agent)),
    );
    event = grow(
        event,
        cap(w.event, 5, 32),
        reserve(left(time, region, event, ip, error, service, agent)),
    );
    // Still too wide: narrow what can be narrowed, the least needed first.
    let mut over = used(time, region, event, ip, error, service, agent).saturating_sub(avail);
    let mut take = |x: &mut u16, floor: u16| {
        let d = x.saturating_sub(floor).min(over);
        *x -= d;
        over -= d;
    };
    if !codes {
        take(&mut region, 6);
    }
    take(&mut event, 8);
    if over > 0 && time > TimeShape::Clock.width() {
        over = over.saturating_sub(time - TimeShape::Clock.width());
        time = TimeShape::Clock.width();
    }
    let tactic = tactic - tactic.saturating_sub(6).min(over);
    // The chain takes the rest.
    let gaps = count(service, agent) - 1;
    let identity =
        avail.saturating_sub(time + region + event + ip + error + tactic + service + agent + gaps);
    let mut cols = vec![(Col::Time, time), (Col::Region, region)];
    if service > 0 {
        cols.push((Col::Service, service));
    }
    cols.push((Col::Event, event));
    cols.push((Col::Identity, identity));
    if roomy {
        cols.push((Col::SourceIp, ip));
    }
    if agent > 0 {
        cols.push((Col::Agent, agent));
    }
    if roomy {
        cols.push((Col::Error, error));
    }
    cols.push((Col::Tactic, tactic));
    Plan { cols, codes }
}

fn width_of(s: &str) -> u16 {
    u16::try_from(Span::raw(s).width()).unwrap_or(u16::MAX)
}

/// The rows the table may show: the lines around the cursor, as many as the pane is high
/// on either side (the plan is made before the strips above the table take their height).
fn wants(state: &State, t: &TimelineTab, rows: usize) -> Wants {
    let n = t.store.view_len();
    let cursor = t.cursor.min(n.saturating_sub(1));
    let from = cursor.saturating_sub(rows);
    let to = (cursor + rows + 1).min(n);
    let mut w = Wants {
        time: time_shape(state, t).width(),
        ..Wants::default()
    };
    for r in t.store.summary().regions.iter() {
        w.region_full = w.region_full.max(width_of(r));
        w.region_code = w.region_code.max(width_of(&region_code(r)));
    }
    let max = |now: &mut u16, s: &str| *now = (*now).max(width_of(s));
    for e in (from..to).filter_map(|i| t.store.view_get(i)) {
        max(&mut w.service, e.service_short());
        let star = if t.evidence.contains(&*e.id) { 2 } else { 0 };
        w.event = w.event.max(width_of(&e.name) + star);
        max(&mut w.identity, &identity(t, e));
        max(&mut w.ip, &e.source_ip);
        max(&mut w.agent, short_agent(&e.user_agent));
        max(&mut w.error, &error_text(e));
        max(&mut w.tactic, &tactic_text(e, false));
        max(&mut w.tactic_denied, &tactic_text(e, true));
    }
    w
}

/// Where the leak-start line goes: before the `n`-th event of the view (`None` without a
/// known leak start).
fn leak_line(state: &State, t: &TimelineTab) -> Option<(usize, Timestamp)> {
    let leak = leak_start(state)?;
    Some((t.store.view_since(leak), leak))
}

fn table(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    t: &TimelineTab,
    plan: &Plan,
    theme: &Theme,
) {
    let n = t.store.view_len();
    if n == 0 {
        let text = if t.store.is_empty() {
            " Events appear here as the sources deliver them."
        } else {
            " No event matches. Esc clears the filter, f cycles the quick filters."
        };
        frame.render_widget(Paragraph::new(text).style(theme.base), area);
        return;
    }
    let mut shape = time_shape(state, t);
    if plan
        .cols
        .iter()
        .any(|(c, w)| *c == Col::Time && *w < shape.width())
    {
        shape = TimeShape::Clock;
    }
    let say_error = plan.cols.iter().any(|(c, _)| *c == Col::Error);
    let codes = if plan.codes {
        region_codes(t.store.summary().regions.iter().map(|r| &**r))
    } else {
        None
    };
    // The lines: the events with the leak-start line among them, at `mark`.
    let marker = leak_line(state, t);
    let mark = marker.map(|(at, _)| at);
    let lines = n + usize::from(mark.is_some());
    let line_of = |i: usize| i + usize::from(mark.is_some_and(|m| i >= m));
    let rows_visible = usize::from(area.height.saturating_sub(1)).max(1);
    let cursor = line_of(t.cursor.min(n - 1));
    let offset = cursor.saturating_sub(rows_visible - 1);
    let mut marker_y = None;
    let leak = marker.map(|(_, at)| at);
    let mut rows: Vec<Row> = Vec::with_capacity(rows_visible);
    for line in offset..(offset + rows_visible).min(lines) {
        let event_index = match mark {
            Some(m) if line == m => {
                marker_y = Some(line - offset);
                rows.push(Row::new(Vec::<Cell>::new()));
                continue;
            }
            Some(m) if line > m => line - 1,
            _ => line,
        };
        let Some(e) = t.store.view_get(event_index) else {
            continue;
        };
        // Before the leak it is the owner's own use: plain, readable, no alarm colours.
        let before = leak.is_some_and(|l| e.time < l);
        let rated = |style: Style| if before { theme.base } else { style };
        let sev = e
            .risk
            .as_ref()
            .map_or(theme.base, |r| severity_style(theme, r.severity));
        let cells: Vec<Cell> =
            plan.cols
                .iter()
                .map(|(col, w)| {
                    let w = usize::from(*w);
                    match col {
                        Col::Time => Cell::from(stamp_as(state, e.time, shape)),
                        Col::Region => {
                            let r = codes
                                .as_ref()
                                .and_then(|c| c.get(&*e.region).cloned())
                                .unwrap_or_else(|| e.region.to_string());
                            Cell::from(layout::fit(&r, w))
                        }
                        Col::Service => Cell::from(layout::fit(e.service_short(), w)),
                        Col::Event => {
                            let name = if t.evidence.contains(&*e.id) {
                                format!("★ {}", e.name)
                            } else {
                                e.name.to_string()
                            };
                            Cell::from(layout::fit(&name, w)).style(rated(sev))
                        }
                        Col::Identity => Cell::from(chain_tail(&identity(t, e), w)),
                        Col::SourceIp => Cell::from(layout::fit(&e.source_ip, w)),
                        Col::Agent => Cell::from(layout::fit(short_agent(&e.user_agent), w)),
                        Col::Error => {
                            Cell::from(layout::fit(&error_text(e), w)).style(rated(theme.warn))
                        }
                        Col::Tactic => Cell::from(layout::fit(&tactic_text(e, !say_error), w))
                            .style(rated(sev)),
                    }
                })
                .collect();
        rows.push(Row::new(cells));
    }
    let header = Row::new(
        plan.cols
            .iter()
            .map(|(c, _)| Cell::from(c.header()).style(theme.title)),
    );
    let widths: Vec<Constraint> = plan
        .cols
        .iter()
        .map(|(_, w)| Constraint::Length(*w))
        .collect();
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .row_highlight_style(theme.cursor)
        .highlight_symbol("▶");
    let mut ts = TableState::default().with_selected(Some(cursor - offset));
    frame.render_stateful_widget(table, area, &mut ts);
    if let (Some(y), Some((at, leak))) = (marker_y, marker) {
        let y = area.y + 1 + u16::try_from(y).unwrap_or(u16::MAX);
        if y < area.y + area.height {
            let why = match state.since() {
                Some((_, SinceSource::Flag)) => "from --since",
                Some((_, SinceSource::Journal)) => "from the journal",
                Some((_, SinceSource::KeyCreation)) => "the leaked key's creation",
                Some((_, SinceSource::FirstUse)) => "first use of the leaked key",
                None => "",
            };
            let text = format!(
                "── leak start {} ({why}) · {at} since, above · {} before, below ",
                stamp_as(state, leak, TimeShape::Full),
                n - at
            );
            let rule = "─".repeat(usize::from(area.width).saturating_sub(Span::raw(&text).width()));
            let line = Rect {
                x: area.x,
                y,
                width: area.width,
                height: 1,
            };
            frame.render_widget(
                Paragraph::new(layout::fit(
                    &format!("{text}{rule}"),
                    usize::from(area.width),
                ))
                .style(theme.warn),
                line,
            );
        }
    }
}

/// The sources view: every source address and user agent, newest first seen first, with
/// those first seen after the leak start flagged NEW.
fn sources(frame: &mut Frame, area: Rect, state: &State, t: &TimelineTab, theme: &Theme) {
    let s = t.store.summary();
    let leak = s.leak;
    let side_by_side = area.width >= 150;
    let [ips_area, agents_area] = if side_by_side {
        ratatui::layout::Layout::horizontal([Constraint::Percentage(40), Constraint::Fill(1)])
            .spacing(1)
            .areas(area)
    } else {
        // Addresses take the lines they need, up to half; agents the rest.
        let ips = u16::try_from(s.source_ips.len() + 2).unwrap_or(u16::MAX);
        ratatui::layout::Layout::vertical([
            Constraint::Length(ips.min(area.height / 2)),
            Constraint::Fill(1),
        ])
        .areas(area)
    };
    seen_table(
        frame,
        ips_area,
        state,
        &s.source_ips,
        "SOURCE IP",
        leak,
        t.sources_scroll,
        theme,
    );
    seen_table(
        frame,
        agents_area,
        state,
        &s.user_agents,
        "USER AGENT",
        leak,
        t.sources_scroll,
        theme,
    );
}

#[allow(clippy::too_many_arguments)]
fn seen_table(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    seen: &BTreeMap<crate::timeline::model::Text, Seen>,
    what: &str,
    leak: Option<Timestamp>,
    scroll: usize,
    theme: &Theme,
) {
    let mut all: Vec<(&str, &Seen)> = seen.iter().map(|(k, v)| (&**k, v)).collect();
    // Newest arrivals first: what the attacker brought sits at the top.
    all.sort_unstable_by(|a, b| b.1.first.cmp(&a.1.first).then_with(|| a.0.cmp(b.0)));
    let rows_visible = usize::from(area.height.saturating_sub(1));
    let from = scroll.min(all.len().saturating_sub(rows_visible.max(1)));
    let fixed = [3u16, 20, 20, 6, 10];
    let widest = all
        .iter()
        .map(|(v, _)| width_of(v))
        .max()
        .unwrap_or(0)
        .max(width_of(what));
    let value_w = area
        .width
        .saturating_sub(fixed.iter().sum::<u16>() + u16::try_from(fixed.len()).unwrap_or(0))
        .min(widest);
    let rows: Vec<Row> = all
        .iter()
        .skip(from)
        .take(rows_visible)
        .map(|(value, s)| {
            let new = s.new_since(leak);
            let style = if new { theme.warn } else { theme.base };
            Row::new(vec![
                Cell::from(if new { "NEW" } else { "" }).style(theme.new),
                Cell::from(layout::fit(value, usize::from(value_w))).style(style),
                Cell::from(stamp_as(state, s.first, TimeShape::Full)),
                Cell::from(stamp_as(state, s.last, TimeShape::Full)),
                Cell::from(s.events.to_string()),
                Cell::from(s.since_leak.to_string()),
            ])
        })
        .collect();
    let header = Row::new(
        ["", what, "FIRST SEEN", "LAST SEEN", "EVENTS", "SINCE LEAK"]
            .into_iter()
            .map(|h| Cell::from(h).style(theme.title)),
    );
    let widths = [
        Constraint::Length(fixed[0]),
        Constraint::Length(value_w),
        Constraint::Length(fixed[1]),
        Constraint::Length(fixed[2]),
        Constraint::Length(fixed[3]),
        Constraint::Length(fixed[4]),
    ];
    frame.render_widget(
        Table::new(rows, widths).header(header).column_spacing(1),
        area,
    );
}

/// The raw record, pretty-printed and scrollable.
fn record(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    t: &TimelineTab,
    scroll: u16,
    theme: &Theme,
) {
    let Some(e) = t.selected() else {
        return;
    };
    let rect = Rect {
        x: area.x + 2.min(area.width / 4),
        y: area.y + 1.min(area.height / 4),
        width: area.width.saturating_sub(4).max(1),
        height: area.height.saturating_sub(2).max(1),
    };
    let pretty = serde_json::from_str::<serde_json::Value>(&e.raw)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| e.raw.to_string());
    let mut lines = vec![
        Line::from(vec![
            Span::styled(" chain  ", theme.dim),
            Span::raw(
                t.chains
                    .get(&*e.access_key_id)
                    .cloned()
                    .unwrap_or_else(|| e.access_key_id.to_string()),
            ),
        ]),
        Line::from(vec![
            Span::styled(" from   ", theme.dim),
            Span::raw(e.origin.to_string()),
        ]),
    ];
    if let Some(r) = &e.risk {
        lines.push(Line::from(vec![
            Span::styled(" risk   ", theme.dim),
            Span::styled(
                format!(
                    "{} {}{} (rule {})",
                    r.severity.label(),
                    r.tactic.label(),
                    if e.denied() {
                        ", denied: the call was refused"
                    } else {
                        ""
                    },
                    r.rule
                ),
                severity_style(theme, r.severity),
            ),
        ]));
    }
    lines.push(Line::raw(""));
    lines.extend(pretty.lines().map(|l| Line::raw(format!(" {l}"))));
    let title = format!(
        " {} {} · {} · j/k scroll · m evidence · Esc closes ",
        e.name,
        stamp(state, e.time, true),
        e.id
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.accent)
        .style(theme.base)
        .title(Span::styled(title, theme.accent));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        rect,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_codes_follow_the_zone_id_style_and_stay_distinct() {
        let cases = [
            ("us-east-1", "use1"),
            ("us-west-2", "usw2"),
            ("eu-west-1", "euw1"),
            ("eu-central-2", "euc2"),
            ("ap-southeast-2", "apse2"),
            ("ap-northeast-3", "apne3"),
            ("ca-central-1", "cac1"),
            ("sa-east-1", "sae1"),
            ("us-gov-west-1", "usgw1"),
            ("il-central-1", "ilc1"),
            ("local", "local"),
        ];
        for (region, code) in cases {
            assert_eq!(region_code(region), code, "{region}");
        }
        // Every region AWS lists today has a code of its own.
        let all = [
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
            "af-south-1",
            "ap-east-1",
            "ap-south-1",
            "ap-south-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-3",
            "ap-southeast-4",
            "ap-southeast-5",
            "ap-southeast-7",
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ca-central-1",
            "ca-west-1",
            "eu-central-1",
            "eu-central-2",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "eu-south-1",
            "eu-south-2",
            "eu-north-1",
            "il-central-1",
            "me-south-1",
            "me-central-1",
            "mx-central-1",
            "sa-east-1",
            "us-gov-east-1",
            "us-gov-west-1",
        ];
        let codes = region_codes(all.iter().copied()).expect("distinct");
        assert_eq!(codes.len(), all.len());
        // Two names sharing a code: no codes at all, the full names are kept.
        assert!(region_codes(["x-east-1", "x-e-1"].into_iter()).is_none());
    }

    #[test]
    fn the_chain_keeps_its_tail() {
        let chain = "AKIA…WXYZ → AssumeRole deploy → ASIA…1234 → AssumeRole admin → ASIA…5678";
        assert_eq!(chain_tail(chain, 200), chain);
        assert_eq!(
            chain_tail(chain, 40),
            "…→ ASIA…1234 → role/admin → ASIA…5678"
        );
        assert_eq!(chain_tail(chain, 26), "…→ role/admin → ASIA…5678");
        // The minting step cut, the key whole.
        assert_eq!(chain_tail(chain, 24), "…→ role/adm… → ASIA…5678");
        assert_eq!(chain_tail(chain, 14), "…→ ASIA…5678");
        assert_eq!(chain_tail(chain, 9), "ASIA…5678");
        assert_eq!(chain_tail(chain, 5), "ASIA…");
        assert_eq!(chain_tail("AKIA…WXYZ", 9), "AKIA…WXYZ");
        for w in 0..90 {
            assert!(Span::raw(chain_tail(chain, w)).width() <= w, "{w}");
        }
    }

    #[test]
    fn the_plan_fits_any_width() {
        let wants = Wants {
            time: 20,
            region_full: 19,
            region_code: 8,
            service: 14,
            event: 40,
            identity: 90,
            ip: 39,
            agent: 60,
            error: 30,
            tactic: 16,
            tactic_denied: 22,
        };
        for width in 0..300u16 {
            for codes in [true, false] {
                let p = plan(width, &wants, codes);
                let used: u16 = p.cols.iter().map(|(_, w)| w).sum::<u16>()
                    + u16::try_from(p.cols.len()).expect("few")
                    - 1
                    + 1;
                let has = |c| p.cols.iter().any(|(x, _)| *x == c);
                if width >= 80 {
                    assert!(used <= width, "{width}: {p:?}");
                }
                assert_eq!(has(Col::SourceIp), width >= ROOMY, "{width}");
                assert_eq!(has(Col::Error), width >= ROOMY, "{width}");
            }
        }
    }
}
