//! The Cost tab: what the leak is costing, and since when. A headline (spent since the leak,
//! per day against the days before), a daily bar chart with the leak day, the spike days and
//! the estimated days marked, the services and regions that jumped, and AWS's own anomalies.
//! What looking has cost (Cost Explorer bills every request) stays on the pane's bottom edge.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use time::Date;

use crate::app::cost::CostTab;
use crate::app::state::State;
use crate::cost::detect;
use crate::cost::model::CostData;
use crate::fmt;
use crate::ui::layout;
use crate::ui::{Theme, spinner};

mod anomalies;
mod chart;
mod empty;
mod tables;

use anomalies::{anomalies, anomaly_lines};
use chart::chart;
use empty::{empty, paragraphs};
use tables::{columns_cut, tables};

/// The anomalies are told in full (whole service names, the monitor, three root causes) from
/// this inner width up.
const SIDE_BY_SIDE: u16 = 120;
/// Width of the regions table when side by side (a region name is at most ~16 characters).
const REGIONS_WIDTH: u16 = 70;
/// Billed requests one refresh makes at least: three `GetCostAndUsage`, the monitors and the
/// anomalies (every further page is one more).
const REQUESTS_PER_REFRESH: u64 = 5;
/// The permissions the tab reads with.
const PERMISSIONS: &str = "ce:GetCostAndUsage, ce:GetAnomalyMonitors and ce:GetAnomalies";

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let c = &state.cost;
    let inner_w = area.width.saturating_sub(2);
    // A narrow terminal drops the tables' baseline and peak columns: the bottom edge says so,
    // beside what looking has cost (which shortens first to make room).
    const NOTE: &str = " columns cut: widen ";
    let note_w = NOTE.chars().count() as u16 + 1;
    let lookup = lookup_spans(c, inner_w.saturating_sub(note_w), theme);
    let note = c.total.is_some()
        && columns_cut(inner_w)
        && layout::spans_width(&lookup) + usize::from(note_w) <= usize::from(inner_w);
    let lookup = if note {
        lookup
    } else {
        lookup_spans(c, inner_w, theme)
    };
    let mut block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title_style(theme.base)
        .title(Line::from(title(state, inner_w, theme)))
        .title_bottom(Line::from(lookup).right_aligned());
    if note {
        block = block.title_bottom(Line::from(Span::styled(NOTE, theme.warn)).left_aligned());
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    match (&c.data.data, c.window, &c.total) {
        (Some(data), Some(window), Some(total)) => {
            body(frame, inner, state, data, window, total, theme);
        }
        _ => empty(frame, inner, state, theme),
    }
}

// ---------------------------------------------------------------------------------------------
// Words and numbers
// ---------------------------------------------------------------------------------------------

/// Cost Explorer's service names, as people say them.
const SHORT_SERVICES: &[(&str, &str)] = &[
    ("Amazon Elastic Compute Cloud - Compute", "EC2 - Compute"),
    ("Amazon Elastic Compute Cloud", "EC2"),
    ("Amazon Simple Storage Service", "S3"),
    ("Amazon Relational Database Service", "RDS"),
    ("Amazon Virtual Private Cloud", "VPC"),
    ("Amazon Elastic Load Balancing", "ELB"),
    ("Amazon Elastic Container Service", "ECS"),
    ("Amazon Elastic Container Service for Kubernetes", "EKS"),
    ("Amazon Elastic Kubernetes Service", "EKS"),
    ("Amazon EC2 Container Registry (ECR)", "ECR"),
    ("Amazon Elastic File System", "EFS"),
    ("Amazon Simple Notification Service", "SNS"),
    ("Amazon Simple Queue Service", "SQS"),
    ("Amazon Simple Email Service", "SES"),
    ("AWS Key Management Service", "KMS"),
    ("AWS Identity and Access Management", "IAM"),
    ("AWS Secrets Manager", "Secrets Manager"),
    ("AmazonCloudWatch", "CloudWatch"),
    ("Amazon CloudWatch", "CloudWatch"),
    ("Amazon Route 53", "Route 53"),
];

/// The name people use for a service ("EC2 - Compute"), else the name without its
/// "Amazon "/"AWS " prefix.
pub fn short_service(name: &str) -> String {
    SHORT_SERVICES
        .iter()
        .find(|(long, _)| *long == name)
        .map(|(_, short)| (*short).to_string())
        .unwrap_or_else(|| {
            name.strip_prefix("Amazon ")
                .or_else(|| name.strip_prefix("AWS "))
                .unwrap_or(name)
                .to_string()
        })
}

/// A service name for `width` columns: the whole name when it fits, else the short one, cut
/// with `…` when even that is too long.
pub fn service_name(name: &str, width: usize) -> String {
    if Span::raw(name).width() <= width {
        return name.to_string();
    }
    layout::fit(&short_service(name), width)
}

/// The days of the window: `(to - from)`, never negative.
fn window_days(window: (Date, Date)) -> u64 {
    u64::try_from((window.1 - window.0).whole_days()).unwrap_or(0)
}

/// The last day of a window whose `to` is excluded.
fn last_day(window: (Date, Date)) -> Date {
    window.1.previous_day().unwrap_or(window.1)
}

/// A focusable section's heading: the `▸ ` mark and the accent in bold when it has the focus,
/// else no mark and `unfocused`.
fn focus_heading(focused: bool, theme: &Theme, unfocused: Style) -> (&'static str, Style) {
    if focused {
        ("▸ ", theme.accent.add_modifier(Modifier::BOLD))
    } else {
        ("", unfocused)
    }
}

// ---------------------------------------------------------------------------------------------
// The frame: title and lookup cost
// ---------------------------------------------------------------------------------------------

/// "Cost Explorer: 5 requests this session · USD 0.05", on the pane's bottom edge; shorter
/// forms when `width` is small.
fn lookup_spans(c: &CostTab, width: u16, theme: &Theme) -> Vec<Span<'static>> {
    let usd = format!("USD {:.2}", c.lookup_cost());
    let requests = fmt::plural(c.requests, "request", "requests");
    let forms = [
        (
            " Cost Explorer: ",
            format!("{requests} this session · {usd} "),
        ),
        (" Cost Explorer: ", format!("{requests} · {usd} ")),
        (" CE: ", format!("{} req · {usd} ", c.requests)),
    ];
    let width = usize::from(width);
    let pick = forms
        .iter()
        .find(|(a, b)| a.chars().count() + b.chars().count() <= width)
        .unwrap_or(&forms[2]);
    vec![Span::styled(pick.0, theme.base), Span::raw(pick.1.clone())]
}

/// " Cost · last 30 days (…) · updated 3 min ago ⠋ · ⚠ last refresh failed ", the longest
/// form that fits `width`.
fn title(state: &State, width: u16, theme: &Theme) -> Vec<Span<'static>> {
    let c = &state.cost;
    let days = c.window.map_or(u64::from(c.days), window_days);
    let build = |dates: bool, long: bool| {
        let dot = || Span::styled(" · ", theme.dim);
        let mut spans = vec![Span::styled(" Cost", theme.title), dot()];
        let mut window = if long {
            format!("last {}", fmt::plural(days, "day", "days"))
        } else {
            format!("{days} d")
        };
        if dates && let Some(w) = c.window {
            window.push_str(&format!(
                " ({} – {})",
                fmt::iso_day(w.0),
                fmt::iso_day(last_day(w))
            ));
        }
        spans.push(Span::raw(window));
        spans.push(dot());
        if long {
            spans.extend(crate::ui::freshness(state, &c.data));
        } else {
            match c.data.fetched_at {
                Some(t) => spans.push(Span::raw(format!("{} ago", fmt::ago(state.now, t)))),
                None => spans.push(Span::raw("–")),
            }
            if c.data.in_flight {
                spans.push(Span::raw(format!(" {}", spinner(state))));
            }
        }
        if c.data.error.is_some() && c.data.data.is_some() {
            spans.push(dot());
            let word = if long {
                "⚠ last refresh failed"
            } else {
                "⚠ failed"
            };
            spans.push(Span::styled(word, theme.danger));
        }
        spans.push(Span::raw(" "));
        spans
    };
    let width = usize::from(width);
    for (dates, long) in [(true, true), (false, true)] {
        let spans = build(dates, long);
        if layout::spans_width(&spans) <= width {
            return spans;
        }
    }
    build(false, false)
}

// ---------------------------------------------------------------------------------------------
// With figures
// ---------------------------------------------------------------------------------------------

/// Where the leak start falls in the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leak {
    /// Unknown: the last 7 days were checked against the rest.
    Unknown,
    /// The index of the leak day in the window.
    At(usize),
    Before(Date),
    After(Date),
}

fn leak(c: &CostTab, window: (Date, Date)) -> Leak {
    match c.analysed_leak {
        None => Leak::Unknown,
        Some(d) if d < window.0 => Leak::Before(d),
        Some(d) if d >= window.1 => Leak::After(d),
        Some(d) => Leak::At(usize::try_from((d - window.0).whole_days()).unwrap_or(0)),
    }
}

fn body(
    frame: &mut Frame,
    inner: Rect,
    state: &State,
    data: &CostData,
    window: (Date, Date),
    total: &detect::Row,
    theme: &Theme,
) {
    let c = &state.cost;
    let width = inner.width;
    let wide = tables::side_by_side(width);
    let leak = leak(c, window);

    let mut top = Vec::new();
    if let Some(e) = &c.data.error {
        let when = c
            .data
            .error_at
            .map(|t| format!(" {} ago", fmt::ago(state.now, t)))
            .unwrap_or_default();
        let kept = c
            .data
            .fetched_at
            .map(|t| format!(" · figures below from {} ago", fmt::ago(state.now, t)))
            .unwrap_or_default();
        let text = format!("⚠ refresh failed{when}: {e}{kept} · r retries");
        // At most two lines: the figures matter more than the end of the message.
        top.extend(
            paragraphs(vec![(text, theme.danger)], width)
                .into_iter()
                .take(2),
        );
    }
    top.push(headline(
        c,
        data,
        window,
        total,
        leak,
        usize::from(width),
        theme,
    ));

    let (anomaly_lines, cursor_line) = anomaly_lines(state, width, theme);
    let anomaly_want = u16::try_from(anomaly_lines.len()).unwrap_or(u16::MAX);

    // Heights: the headline first, then the anomalies' few lines, the chart, the tables; room
    // the tables do not need makes the chart taller.
    let h = inner.height;
    let top_h = (top.len() as u16).min(h);
    let mut rest = h - top_h;
    let gap = u16::from(rest >= 28);
    rest -= gap * 3;
    let anomaly_cap = match rest {
        28.. => 8,
        16.. => 3,
        11.. => 2,
        _ => 1,
    };
    let anomaly_h = anomaly_want.min(anomaly_cap).min(rest);
    rest -= anomaly_h;
    let table_min: u16 = if wide { 3 } else { 4 };
    let bars = (h / 4).clamp(2, 10);
    let mut chart_h = (bars + 2)
        .min(rest.saturating_sub(table_min))
        .max(rest.min(3));
    rest -= chart_h;
    let (s, r) = (c.services.len().max(1), c.regions.len().max(1));
    let need = if wide { 1 + s.max(r) } else { 2 + s + r };
    let tables_h = rest.min(u16::try_from(need).unwrap_or(u16::MAX));
    rest -= tables_h;
    let grow = rest.min((16 + 2u16).saturating_sub(chart_h));
    chart_h += grow;

    let [top_area, _, chart_area, _, tables_area, _, anomaly_area] = Layout::vertical([
        Constraint::Length(top_h),
        Constraint::Length(gap),
        Constraint::Length(chart_h),
        Constraint::Length(gap),
        Constraint::Length(tables_h),
        Constraint::Length(gap),
        Constraint::Length(anomaly_h),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(top), top_area);
    chart(frame, chart_area, data, window, total, leak, theme);
    tables(frame, tables_area, c, theme);
    anomalies(frame, anomaly_area, anomaly_lines, cursor_line, theme.warn);
}

/// "Since the leak (11-19, 4 days): USD 16,640 · 4,160/day vs 4.70/day before · +4,155/day".
fn headline(
    c: &CostTab,
    data: &CostData,
    window: (Date, Date),
    r: &detect::Row,
    leak: Leak,
    width: usize,
    theme: &Theme,
) -> Line<'static> {
    let unit = if data.unit.is_empty() {
        "USD".to_string()
    } else {
        data.unit.clone()
    };
    let hot = if r.spike { theme.danger } else { theme.title };
    let recent = match leak {
        Leak::At(i) => window_days(window).saturating_sub(i as u64),
        Leak::Before(_) => window_days(window),
        Leak::After(_) => 0,
        Leak::Unknown => window_days(window).min(detect::RECENT_DAYS as u64),
    };
    let spikes = r.spike_days.len() as u64;
    // `level`: 0 the longest, 3 the shortest.
    let build = |level: u8| {
        let mut spans = vec![Span::raw(" ")];
        let what = match (leak, level) {
            (Leak::At(_), 0 | 1) => format!(
                "Since the leak ({}, {}): ",
                fmt::month_day(c.analysed_leak.unwrap_or(window.0)),
                fmt::plural(recent, "day", "days")
            ),
            (Leak::At(_), _) => {
                format!(
                    "Since leak {}: ",
                    fmt::month_day(c.analysed_leak.unwrap_or(window.0))
                )
            }
            (Leak::Before(d), 0 | 1) => format!(
                "Leak start {} is before the window; all {}: ",
                fmt::iso_day(d),
                fmt::plural(recent, "day", "days")
            ),
            (Leak::Before(_), _) => "Whole window (leak before it): ".into(),
            (Leak::After(d), _) => {
                format!("Leak start {} is after the window: ", fmt::month_day(d))
            }
            (Leak::Unknown, 0 | 1) => format!(
                "No leak start known (--since sets it); last {}: ",
                fmt::plural(recent, "day", "days")
            ),
            (Leak::Unknown, _) => format!("Last {recent} days (no leak start): "),
        };
        spans.push(Span::styled(what, theme.title));
        spans.push(Span::styled(
            format!("{unit} {}", fmt::money(r.total_since)),
            hot,
        ));
        if level < 3 {
            spans.push(Span::styled(" · ", theme.dim));
            spans.push(Span::raw(format!("{}/day", fmt::money(r.since))));
            let before = if level < 2 { "/day before" } else { " before" };
            spans.push(Span::styled(
                format!(" vs {}{before}", fmt::money(r.baseline)),
                theme.dim,
            ));
        }
        spans.push(Span::styled(" · ", theme.dim));
        spans.push(Span::styled(
            format!("{}/day", fmt::signed_money(r.delta)),
            hot,
        ));
        if spikes > 0 && level == 0 {
            spans.push(Span::styled(" · ", theme.dim));
            spans.push(Span::styled(
                format!(
                    "spike on {spikes} of {}",
                    fmt::plural(recent, "day", "days")
                ),
                theme.danger,
            ));
        }
        if r.thin_baseline && level == 0 {
            spans.push(Span::styled(" · thin baseline", theme.warn));
        }
        spans
    };
    for level in 0..3 {
        let spans = build(level);
        if layout::spans_width(&spans) <= width {
            return Line::from(spans);
        }
    }
    Line::from(build(3))
}
