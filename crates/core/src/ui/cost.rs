//! The Cost tab: what the leak is costing, and since when. A headline (spent since the leak,
//! per day against the days before), a daily bar chart with the leak day, the spike days and
//! the estimated days marked, the services and regions that jumped, and AWS's own anomalies.
//! What looking has cost (Cost Explorer bills every request) stays on the pane's bottom edge.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, HighlightSpacing, Paragraph, Row, Table, TableState};
use time::{Date, Duration};

use crate::app::cost::{CostTab, Focus};
use crate::app::state::State;
use crate::cost::detect;
use crate::cost::model::{ANOMALY_WINDOW_DAYS, USD_PER_REQUEST};
use crate::cost::model::{Anomalies, Anomaly, CostData, RootCause};
use crate::fmt;
use crate::ui::resources::wrap_hanging;
use crate::ui::{Theme, spinner};

/// The services and regions tables go side by side from this inner width up.
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
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title(Line::from(title(
            state,
            area.width.saturating_sub(2),
            theme,
        )))
        .title_bottom(
            Line::from(lookup_spans(c, area.width.saturating_sub(2), theme)).right_aligned(),
        );
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

/// `1,234,567`
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An amount: cents under 100 (`4.70`), whole units with thousands separators above
/// (`4,160`); a minus sign for credits.
pub fn money(x: f64) -> String {
    if !x.is_finite() {
        return "?".into();
    }
    let a = x.abs();
    let s = if a < 99.995 {
        format!("{a:.2}")
    } else {
        grouped(a.round() as u64)
    };
    if x < 0.0 && s != "0.00" {
        format!("−{s}")
    } else {
        s
    }
}

/// An amount with its sign: `+4,155`, `−12.30`, `0.00`.
fn signed(x: f64) -> String {
    let s = money(x);
    if x > 0.0 && s != "0.00" {
        format!("+{s}")
    } else {
        s
    }
}

/// A short amount for the chart's scale: `6k`, `2.5k`, `1.2M`, `40`, `7.5`.
fn short_money(x: f64) -> String {
    let one = |v: f64| {
        let s = format!("{v:.1}");
        s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
    };
    if x >= 999_950.0 {
        format!("{}M", one(x / 1_000_000.0))
    } else if x >= 1_000.0 {
        format!("{}k", one(x / 1_000.0))
    } else if x >= 10.0 {
        format!("{}", x.round() as u64)
    } else {
        one(x)
    }
}

/// `11-19`
fn day(d: Date) -> String {
    format!("{:02}-{:02}", u8::from(d.month()), d.day())
}

/// `2026-11-19`
fn full_day(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn plural(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

fn spans_width(spans: &[Span]) -> usize {
    spans.iter().map(Span::width).sum()
}

/// Cuts `text` to `width` columns, ending with `…` when cut.
fn fit(text: &str, width: usize) -> String {
    if Span::raw(text).width() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = Span::raw(c.to_string()).width();
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

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
    fit(&short_service(name), width)
}

/// The days of the window: `(to - from)`, never negative.
fn window_days(window: (Date, Date)) -> u64 {
    u64::try_from((window.1 - window.0).whole_days()).unwrap_or(0)
}

/// The last day of a window whose `to` is excluded.
fn last_day(window: (Date, Date)) -> Date {
    window.1.previous_day().unwrap_or(window.1)
}

// ---------------------------------------------------------------------------------------------
// The frame: title and lookup cost
// ---------------------------------------------------------------------------------------------

/// "Cost Explorer: 5 requests this session · USD 0.05", on the pane's bottom edge; shorter
/// forms when `width` is small.
fn lookup_spans(c: &CostTab, width: u16, theme: &Theme) -> Vec<Span<'static>> {
    let usd = format!("USD {:.2}", c.lookup_cost());
    let requests = plural(c.requests, "request", "requests");
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
    vec![Span::styled(pick.0, theme.dim), Span::raw(pick.1.clone())]
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
            format!("last {}", plural(days, "day", "days"))
        } else {
            format!("{days} d")
        };
        if dates && let Some(w) = c.window {
            window.push_str(&format!(" ({} – {})", full_day(w.0), full_day(last_day(w))));
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
        if spans_width(&spans) <= width {
            return spans;
        }
    }
    build(false, false)
}

// ---------------------------------------------------------------------------------------------
// Before the figures: loading, or why there are none
// ---------------------------------------------------------------------------------------------

fn cost_note() -> String {
    format!(
        "Each refresh costs money: Cost Explorer bills USD {USD_PER_REQUEST:.2} a request, at least \
         {REQUESTS_PER_REFRESH} a refresh (USD {:.2}). keyspill asks hourly; r asks now.",
        REQUESTS_PER_REFRESH as f64 * USD_PER_REQUEST
    )
}

/// Paragraphs wrapped to `width`, one column in; a paragraph opening with a symbol (`⚠ `, the
/// spinner) goes on under its text.
fn paragraphs(items: Vec<(String, Style)>, width: u16) -> Vec<Line<'static>> {
    let w = usize::from(width).saturating_sub(1).max(1);
    let mut lines = Vec::new();
    for (text, style) in items {
        let indent = if text.chars().next().is_some_and(|c| !c.is_ascii()) {
            2
        } else {
            0
        };
        if text.is_empty() {
            lines.push(Line::raw(""));
            continue;
        }
        for (i, piece) in wrap_hanging(&text, w, w.saturating_sub(indent).max(1))
            .into_iter()
            .enumerate()
        {
            let pad = if i == 0 { 1 } else { 1 + indent };
            lines.push(Line::styled(format!("{}{piece}", " ".repeat(pad)), style));
        }
    }
    lines
}

fn empty(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let c = &state.cost;
    let mut items: Vec<(String, Style)> = Vec::new();
    match &c.data.error {
        Some(e) => {
            items.push((format!("⚠ No cost figures: {e}"), theme.danger));
            items.push((String::new(), theme.base));
            if e.is_access_denied() {
                let perm = e
                    .permission
                    .as_deref()
                    .filter(|p| p.starts_with("ce:"))
                    .unwrap_or("ce:GetCostAndUsage");
                let who = state
                    .identity
                    .data
                    .as_ref()
                    .map_or("the identity keyspill runs as".to_string(), |i| {
                        i.arn.clone()
                    });
                items.push((format!("To fix: allow {perm} for {who}."), theme.base));
                items.push((
                    format!(
                        "The tab reads with {PERMISSIONS} (read-only; Cost Explorer takes \
                         Resource \"*\")."
                    ),
                    theme.base,
                ));
            } else {
                items.push((
                    "To fix: check that Cost Explorer is enabled for this account (it is off \
                     in a new account until someone opens it in the Billing console) and \
                     reachable from here."
                        .into(),
                    theme.base,
                ));
            }
            items.push((
                format!(
                    "r retries (at least {REQUESTS_PER_REFRESH} billed requests, USD {USD_PER_REQUEST:.2} each)."
                ),
                theme.title,
            ));
            if let Some(a) = &c.anomalies.error
                && a != e
            {
                items.push((String::new(), theme.base));
                items.push((format!("AWS anomalies failed too: {a}"), theme.warn));
            }
        }
        None => {
            let text = if c.data.in_flight {
                format!(
                    "{} asking Cost Explorer… daily spend of the last {}, in total, by \
                     service and by region; then AWS's anomalies",
                    spinner(state),
                    plural(c.days, "day", "days")
                )
            } else if state.paused {
                "Cost Explorer not asked yet: polling is paused (p resumes, r asks now)".into()
            } else {
                "Cost Explorer not asked yet: r asks now".into()
            };
            items.push((text, theme.accent));
            items.push((String::new(), theme.base));
            items.push((cost_note(), theme.dim));
        }
    }
    frame.render_widget(Paragraph::new(paragraphs(items, area.width)), area);
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
    let wide = width >= SIDE_BY_SIDE;
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
    anomalies(frame, anomaly_area, anomaly_lines, cursor_line);
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
                day(c.analysed_leak.unwrap_or(window.0)),
                plural(recent, "day", "days")
            ),
            (Leak::At(_), _) => {
                format!("Since leak {}: ", day(c.analysed_leak.unwrap_or(window.0)))
            }
            (Leak::Before(d), 0 | 1) => format!(
                "Leak start {} is before the window; all {}: ",
                full_day(d),
                plural(recent, "day", "days")
            ),
            (Leak::Before(_), _) => "Whole window (leak before it): ".into(),
            (Leak::After(d), _) => format!("Leak start {} is after the window: ", day(d)),
            (Leak::Unknown, 0 | 1) => format!(
                "No leak start known (--since sets it); last {}: ",
                plural(recent, "day", "days")
            ),
            (Leak::Unknown, _) => format!("Last {recent} days (no leak start): "),
        };
        spans.push(Span::styled(what, theme.title));
        spans.push(Span::styled(
            format!("{unit} {}", money(r.total_since)),
            hot,
        ));
        if level < 3 {
            spans.push(Span::styled(" · ", theme.dim));
            spans.push(Span::raw(format!("{}/day", money(r.since))));
            let before = if level < 2 { "/day before" } else { " before" };
            spans.push(Span::styled(
                format!(" vs {}{before}", money(r.baseline)),
                theme.dim,
            ));
        }
        spans.push(Span::styled(" · ", theme.dim));
        spans.push(Span::styled(format!("{}/day", signed(r.delta)), hot));
        if spikes > 0 && level == 0 {
            spans.push(Span::styled(" · ", theme.dim));
            spans.push(Span::styled(
                format!("spike on {spikes} of {}", plural(recent, "day", "days")),
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
        if spans_width(&spans) <= width {
            return Line::from(spans);
        }
    }
    Line::from(build(3))
}

// ---------------------------------------------------------------------------------------------
// The chart
// ---------------------------------------------------------------------------------------------

const EIGHTHS: [char; 8] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇'];

/// A round number at or above `x` for the top of the scale: 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10ⁿ.
fn nice_top(x: f64) -> f64 {
    if !x.is_finite() || x <= 0.0 {
        return 1.0;
    }
    let base = 10f64.powf(x.log10().floor());
    [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .into_iter()
        .map(|f| f * base)
        .find(|v| *v >= x * 0.999_999)
        .unwrap_or(10.0 * base)
}

/// One line of cells, where labels are placed only on free cells.
struct Cells {
    cells: Vec<(char, Style)>,
    taken: Vec<bool>,
}

impl Cells {
    fn new(width: usize, style: Style) -> Self {
        Cells {
            cells: vec![(' ', style); width],
            taken: vec![false; width],
        }
    }

    fn set(&mut self, x: usize, c: char, style: Style) {
        if let Some(cell) = self.cells.get_mut(x) {
            *cell = (c, style);
        }
    }

    /// Writes `text` at `x` if it fits and its cells (with `margin` free cells either side)
    /// are free.
    fn place(&mut self, x: usize, text: &str, style: Style, margin: usize) -> bool {
        let n = text.chars().count();
        if x + n > self.cells.len() {
            return false;
        }
        let lo = x.saturating_sub(margin);
        let hi = (x + n + margin).min(self.taken.len());
        if self.taken[lo..hi].iter().any(|t| *t) {
            return false;
        }
        for (i, ch) in text.chars().enumerate() {
            self.cells[x + i] = (ch, style);
            self.taken[x + i] = true;
        }
        true
    }

    fn line(self) -> Line<'static> {
        let mut spans: Vec<Span<'static>> = Vec::new();
        let mut text = String::new();
        let mut style = None;
        for (c, s) in self.cells {
            if style != Some(s) && !text.is_empty() {
                spans.push(Span::styled(std::mem::take(&mut text), style.unwrap_or(s)));
            }
            style = Some(s);
            text.push(c);
        }
        if let Some(s) = style
            && !text.is_empty()
        {
            spans.push(Span::styled(text, s));
        }
        Line::from(spans)
    }
}

fn chart(
    frame: &mut Frame,
    area: Rect,
    data: &CostData,
    window: (Date, Date),
    total: &detect::Row,
    leak: Leak,
    theme: &Theme,
) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let width = usize::from(area.width);
    let n = usize::try_from(window_days(window)).unwrap_or(0);
    if n == 0 {
        frame.render_widget(
            Paragraph::new(" no day in the window").style(theme.dim),
            area,
        );
        return;
    }
    // Day by day over the window.
    let mut amounts = vec![0.0f64; n];
    let mut estimated = vec![false; n];
    for d in &data.total {
        if let Ok(i) = usize::try_from((d.date - window.0).whole_days())
            && i < n
        {
            if d.amount.is_finite() {
                amounts[i] += d.amount;
            }
            estimated[i] |= d.estimated;
        }
    }
    let spike: Vec<bool> = (0..n)
        .map(|i| {
            let d = window.0.checked_add(Duration::days(i as i64));
            d.is_some_and(|d| total.spike_days.contains(&d))
        })
        .collect();
    let leak_at = match leak {
        Leak::At(i) => Some(i),
        _ => None,
    };

    // Rows: the bars, then the dates, then the legend (when there is room).
    let (bars, legend) = match area.height {
        1 => (1, false),
        2 => (1, false),
        3 => (2, false),
        h => (usize::from(h) - 2, true),
    };
    let max = amounts.iter().copied().fold(0.0f64, f64::max);
    let threshold = total.threshold;
    let scale_for = if threshold.is_finite() && threshold > 0.0 && threshold <= max.max(1.0) * 4.0 {
        max.max(threshold)
    } else {
        max
    };
    let top = nice_top(scale_for);
    let unit = if data.unit.is_empty() {
        "USD"
    } else {
        data.unit.as_str()
    };
    let mut labels: Vec<(usize, String)> = vec![(0, format!("{unit} {}", short_money(top)))];
    if bars >= 4 {
        labels.push((
            bars / 2,
            short_money(top * (bars - bars / 2) as f64 / bars as f64),
        ));
    }
    if bars >= 2 {
        labels.push((bars - 1, "0".into()));
    }
    let label_w = labels
        .iter()
        .map(|(_, l)| l.chars().count())
        .max()
        .unwrap_or(0);
    // Too narrow for the scale: bars only.
    let label_w = if label_w + 1 + 10 > width { 0 } else { label_w };
    let x0 = if label_w > 0 { label_w + 1 } else { 0 };
    let avail = width.saturating_sub(x0);
    if avail == 0 {
        return;
    }

    // Bar width and gap: as wide as fits; too many days for one column each shows the latest.
    let (bw, gap, first) = [(5, 1), (4, 1), (3, 1), (2, 1), (1, 1), (1, 0)]
        .into_iter()
        .find(|(bw, g)| n * (bw + g) - g <= avail)
        .map_or((1, 0, n.saturating_sub(avail)), |(bw, g)| (bw, g, 0));
    let shown = n - first;
    let col = |i: usize| x0 + (i - first) * (bw + gap);

    let steps = bars * 8;
    let height_of = |x: f64| -> usize {
        if x <= 0.0 || !x.is_finite() {
            return 0;
        }
        let e = (x / top * steps as f64).round() as usize;
        e.clamp(1, steps)
    };
    // The threshold line: in the row holding the threshold, when that is inside the scale and
    // above the bottom row (where every day's bar would hide it).
    let threshold_row = (threshold.is_finite() && threshold > 0.0 && threshold <= top)
        .then(|| ((threshold / top * steps as f64) / 8.0).ceil() as usize)
        .and_then(|r| r.checked_sub(1))
        .filter(|r| *r >= 1 && *r < bars);

    let style_of = |i: usize| {
        if spike[i] {
            theme.danger
        } else if leak_at.is_some_and(|l| i >= l) {
            theme.warn
        } else {
            theme.accent
        }
    };
    let mut lines: Vec<Line<'static>> = Vec::new();
    for row in 0..bars {
        // `level`: this row's eighths start at `level * 8` from the bottom.
        let level = bars - 1 - row;
        let mut cells = Cells::new(width, theme.base);
        if label_w > 0 {
            if let Some((_, l)) = labels.iter().find(|(r, _)| *r == row) {
                let pad = label_w - l.chars().count();
                for (k, ch) in l.chars().enumerate() {
                    cells.set(pad + k, ch, theme.dim);
                }
                cells.set(label_w, '┤', theme.dim);
            } else {
                cells.set(label_w, '│', theme.dim);
            }
        }
        if threshold_row == Some(level) {
            for x in x0..x0 + (shown * (bw + gap)).saturating_sub(gap) {
                cells.set(x, '╌', theme.warn);
            }
        }
        for i in first..n {
            let e = height_of(amounts[i]);
            let glyph = if e >= (level + 1) * 8 {
                if estimated[i] { '▒' } else { '█' }
            } else if e > level * 8 {
                EIGHTHS[e - level * 8]
            } else {
                continue;
            };
            for k in 0..bw {
                cells.set(col(i) + k, glyph, style_of(i));
            }
        }
        lines.push(cells.line());
    }
    if area.height >= 2 {
        lines.push(date_row(width, window, n, first, bw, col, leak, theme));
    }
    if legend {
        lines.push(legend_line(
            width,
            threshold,
            threshold_row.is_some(),
            spike.iter().any(|s| *s),
            estimated[first..].iter().any(|e| *e),
            leak_at.is_some(),
            first,
            n,
            theme,
        ));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// Dates under the bars: the leak day (marked), the first and the last day, then weekly.
#[allow(clippy::too_many_arguments)]
fn date_row(
    width: usize,
    window: (Date, Date),
    n: usize,
    first: usize,
    bw: usize,
    col: impl Fn(usize) -> usize,
    leak: Leak,
    theme: &Theme,
) -> Line<'static> {
    let date = |i: usize| window.0.checked_add(Duration::days(i as i64));
    let centre = |i: usize| col(i) + (bw - 1) / 2;
    // The last day's date, under the end of its bar.
    let last = |cells: &mut Cells| {
        if let Some(d) = date(n - 1) {
            let end = col(n - 1) + bw;
            cells.place(end.saturating_sub(5), &day(d), theme.dim, 1);
        }
    };
    let mut cells = Cells::new(width, theme.base);
    match leak {
        Leak::At(i) if i >= first => {
            let x = centre(i);
            let label = format!("leak {}", date(i).map(day).unwrap_or_default());
            let after = format!("▲ {label}");
            let before = format!("{label} ▲");
            let len = before.chars().count();
            let place = |cells: &mut Cells, margin_after: usize| {
                cells.place(x, &after, theme.leaked, margin_after)
                    || (x + 1 >= len && cells.place(x + 1 - len, &before, theme.leaked, 1))
            };
            // The label after the marker or before it, and the last date; else the label
            // without the last date; else the marker alone, and the last date if it fits.
            last(&mut cells);
            if !place(&mut cells, 2) {
                cells = Cells::new(width, theme.base);
                if !place(&mut cells, 1) {
                    cells.place(x, "▲", theme.leaked, 0);
                    last(&mut cells);
                }
            }
        }
        Leak::At(_) | Leak::Before(_) => {
            let text = match leak {
                Leak::Before(d) => format!("◀ leak {}", full_day(d)),
                _ => "◀ leak".into(),
            };
            cells.place(0, &text, theme.leaked, 1);
            last(&mut cells);
        }
        Leak::After(_) | Leak::Unknown => last(&mut cells),
    }
    if let Some(d) = date(first) {
        cells.place(col(first), &day(d), theme.dim, 1);
    }
    // Weekly dates back from the last day, where they fit.
    let mut i = n - 1;
    while i >= first + 7 {
        i -= 7;
        if let Some(d) = date(i) {
            let x = centre(i).saturating_sub(2);
            cells.place(x, &day(d), theme.dim, 1);
        }
    }
    cells.line()
}

#[allow(clippy::too_many_arguments)]
fn legend_line(
    width: usize,
    threshold: f64,
    line_drawn: bool,
    any_spike: bool,
    estimated: bool,
    leak: bool,
    first: usize,
    n: usize,
    theme: &Theme,
) -> Line<'static> {
    let rule = if threshold.is_finite() {
        format!("USD {}/day", money(threshold))
    } else {
        "the rule".into()
    };
    let mut items: Vec<Vec<Span<'static>>> = Vec::new();
    let item = |mark: &str, style: Style, text: String| {
        vec![
            Span::styled(mark.to_string(), style),
            Span::styled(format!(" {text}"), theme.dim),
        ]
    };
    if line_drawn {
        items.push(item("╌", theme.warn, format!("spike threshold {rule}")));
        // The line says the rule; the spike colour needs saying only when a day has it.
        if any_spike {
            items.push(item("█", theme.danger, "spike".into()));
        }
    } else {
        items.push(item("█", theme.danger, format!("spike (> {rule})")));
    }
    if first > 0 {
        items.push(vec![Span::styled(
            format!("latest {} of {n} days", n - first),
            theme.warn,
        )]);
    }
    if leak {
        items.push(item("█", theme.warn, "since leak".into()));
        items.push(item("█", theme.accent, "before".into()));
    }
    if estimated {
        items.push(item("▒", theme.dim, "estimated".into()));
    }
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1;
    for it in items {
        let w = spans_width(&it) + 3;
        if used + w > width {
            break;
        }
        used += w;
        spans.extend(it);
        spans.push(Span::raw("   "));
    }
    Line::from(spans)
}

// ---------------------------------------------------------------------------------------------
// Services and regions
// ---------------------------------------------------------------------------------------------

fn tables(frame: &mut Frame, area: Rect, c: &CostTab, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    if area.width >= SIDE_BY_SIDE {
        let regions_w = REGIONS_WIDTH.min(area.width / 2);
        let [left, _, right] = Layout::horizontal([
            Constraint::Min(0),
            Constraint::Length(2),
            Constraint::Length(regions_w),
        ])
        .areas(area);
        table(frame, left, c, Focus::Services, theme);
        table(frame, right, c, Focus::Regions, theme);
    } else {
        // Stacked: the focused table gets the odd row.
        let half = area.height / 2;
        let (s, r) = if c.focus == Focus::Regions {
            (half, area.height - half)
        } else {
            (area.height - half, half)
        };
        let [top, bottom] =
            Layout::vertical([Constraint::Length(s), Constraint::Length(r)]).areas(area);
        table(frame, top, c, Focus::Services, theme);
        table(frame, bottom, c, Focus::Regions, theme);
    }
}

fn table(frame: &mut Frame, area: Rect, c: &CostTab, which: Focus, theme: &Theme) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let (rows, name) = match which {
        Focus::Regions => (&c.regions, "Region"),
        _ => (&c.services, "Service"),
    };
    let focused = c.focus == which;
    let w = usize::from(area.width);
    // Which columns fit: all of them; without baseline and peak; the delta only.
    const NUM: u16 = 9;
    const PEAK: u16 = 12;
    const FLAGS: u16 = 10;
    let full = w >= 14 + 3 * 9 + 12 + 10 + 5;
    let mid = w >= 12 + 2 * 9 + 10 + 3;
    let small = w >= 10 + 9 + 6 + 2;
    let mut widths: Vec<Constraint> = vec![Constraint::Min(1)];
    let mut header: Vec<Cell> = Vec::new();
    let mark = if focused { "▸ " } else { "" };
    let head_style = if focused {
        theme.accent.add_modifier(Modifier::BOLD)
    } else {
        theme.dim
    };
    let right = |t: &str| Cell::from(Line::from(t.to_string()).right_aligned());
    header.push(Cell::from(format!("{mark}{name} ({})", rows.len())));
    if full {
        widths.push(Constraint::Length(NUM));
        header.push(right("before/d"));
    }
    if mid {
        widths.push(Constraint::Length(NUM));
        header.push(right("since/d"));
    }
    if small {
        widths.push(Constraint::Length(NUM));
        header.push(right("Δ/day"));
    }
    if full {
        widths.push(Constraint::Length(PEAK));
        header.push(right("peak (day)"));
    }
    widths.push(Constraint::Length(if small { FLAGS } else { 5 }));
    header.push(Cell::from("flags"));

    let fixed: usize = widths
        .iter()
        .skip(1)
        .map(|c| match c {
            Constraint::Length(n) => usize::from(*n) + 1,
            _ => 0,
        })
        .sum();
    let key_w = w.saturating_sub(fixed + 1).max(1);

    // Whole service names when they all fit, else every one short: one naming per table.
    let all_fit = rows
        .iter()
        .all(|r| Span::raw(r.key.as_str()).width() <= key_w);
    let body: Vec<Row> = rows
        .iter()
        .map(|r| {
            let key = match which {
                Focus::Services if !all_fit => short_service(&r.key),
                _ => r.key.clone(),
            };
            let key = fit(&key, key_w);
            let key_style = if r.new_spend {
                theme.new.add_modifier(Modifier::BOLD)
            } else if r.spike {
                theme.title
            } else {
                theme.base
            };
            let num = |t: String, s: Style| Cell::from(Line::styled(t, s).right_aligned());
            let delta_style = if r.spike {
                theme.danger
            } else if r.delta < 0.0 {
                theme.dim
            } else {
                theme.base
            };
            let mut cells = vec![Cell::from(Span::styled(key, key_style))];
            if full {
                cells.push(num(money(r.baseline), theme.dim));
            }
            if mid {
                cells.push(num(money(r.since), theme.base));
            }
            if small {
                cells.push(num(signed(r.delta), delta_style));
            }
            if full {
                let peak = match r.peak_day {
                    Some(d) => format!("{} {}", money(r.peak), day(d)),
                    None => "–".into(),
                };
                cells.push(num(peak, theme.base));
            }
            let mut flags: Vec<Span> = Vec::new();
            let mut flag = |word: &str, style: Style| {
                if !flags.is_empty() {
                    flags.push(Span::raw(" "));
                }
                flags.push(Span::styled(word.to_string(), style));
            };
            if r.spike {
                flag("SPIKE", theme.danger);
            }
            if r.new_spend {
                flag("NEW", theme.new.add_modifier(Modifier::BOLD));
            }
            if r.thin_baseline {
                flag("thin", theme.dim);
            }
            cells.push(Cell::from(Line::from(flags)));
            Row::new(cells)
        })
        .collect();

    if body.is_empty() {
        let lines = vec![
            Line::styled(format!("{mark}{name}"), head_style),
            Line::styled(
                format!(" no spend by {} in the window", name.to_lowercase()),
                theme.dim,
            ),
        ];
        frame.render_widget(Paragraph::new(lines), area);
        return;
    }
    let table = Table::new(body, widths)
        .header(Row::new(header).style(head_style))
        .column_spacing(1)
        .row_highlight_style(theme.cursor)
        .highlight_symbol("▶")
        .highlight_spacing(HighlightSpacing::Always);
    let mut ts = TableState::default();
    if focused {
        ts.select(Some(c.scroll.min(rows.len() - 1)));
    }
    frame.render_stateful_widget(table, area, &mut ts);
}

// ---------------------------------------------------------------------------------------------
// AWS's anomalies
// ---------------------------------------------------------------------------------------------

fn dates(a: &Anomaly) -> String {
    match (a.start, a.end) {
        (Some(s), Some(e)) if s == e => full_day(s),
        (Some(s), Some(e)) => format!("{} – {}", full_day(s), day(e)),
        (Some(s), None) => format!("{} – ongoing", full_day(s)),
        (None, Some(e)) => format!("until {}", full_day(e)),
        (None, None) => "dates unknown".into(),
    }
}

/// "EC2 - Compute · ap-south-1 · APS3-BoxUsage:c5.24xlarge", with the whole service name
/// and the account when `wide`.
fn cause_text(cause: &RootCause, wide: bool) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(s) = &cause.service {
        parts.push(if wide { s.clone() } else { short_service(s) });
    }
    let account = if wide { cause.account.as_ref() } else { None };
    for p in [cause.region.as_ref(), cause.usage_type.as_ref(), account]
        .into_iter()
        .flatten()
    {
        parts.push(p.clone());
    }
    if parts.is_empty() {
        "cause not given".into()
    } else {
        parts.join(" · ")
    }
}

fn score(s: Option<f64>) -> String {
    match s {
        Some(s) if s.is_finite() => {
            let t = format!("{s:.2}");
            let t = t.trim_end_matches('0').trim_end_matches('.');
            format!("score {t}")
        }
        _ => "score ?".into(),
    }
}

/// The anomalies panel's lines, and the line of the anomaly under the cursor (when the panel
/// has focus).
fn anomaly_lines(state: &State, width: u16, theme: &Theme) -> (Vec<Line<'static>>, Option<usize>) {
    let c = &state.cost;
    let w = usize::from(width);
    let wide = width >= SIDE_BY_SIDE;
    let focused = c.focus == Focus::Anomalies;
    let mark = if focused { "▸ " } else { "" };
    let head_style = if focused {
        theme.accent.add_modifier(Modifier::BOLD)
    } else {
        theme.title
    };
    let head = Span::styled(format!(" {mark}AWS anomalies: "), head_style);
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut cursor = None;
    let a = &c.anomalies;
    // A message in words, wrapped here so the panel's height is exact.
    let head_text = head.content.to_string();
    let message = |lines: &mut Vec<Line<'static>>, text: String, style: Style| {
        let whole = format!("{head_text}{text}");
        let pieces = wrap_hanging(&whole, w.max(1), w.saturating_sub(3).max(1));
        for (i, piece) in pieces.into_iter().enumerate() {
            if i == 0
                && let Some(rest) = piece.strip_prefix(head_text.as_str())
            {
                lines.push(Line::from(vec![
                    head.clone(),
                    Span::styled(rest.to_string(), style),
                ]));
            } else if i == 0 {
                lines.push(Line::styled(piece, style));
            } else {
                lines.push(Line::styled(format!("   {piece}"), style));
            }
        }
    };
    if let Some(e) = &a.error {
        let kept = match a.fetched_at {
            Some(t) if a.data.is_some() => {
                format!("; list below from {} ago", fmt::ago(state.now, t))
            }
            _ => String::new(),
        };
        message(
            &mut lines,
            format!("⚠ {e} (daily figures above unaffected{kept})"),
            theme.warn,
        );
    }
    match &a.data {
        None if a.error.is_none() => {
            let text = if a.in_flight {
                format!("asking {}", spinner(state))
            } else {
                "not asked yet".into()
            };
            message(&mut lines, text, theme.dim);
        }
        None => {}
        Some(Anomalies::NoMonitor) => message(
            &mut lines,
            "No anomaly monitor in this account: AWS's own anomaly detection is off; \
             keyspill's spike detection above still applies."
                .into(),
            theme.warn,
        ),
        Some(Anomalies::Found {
            monitors,
            anomalies,
        }) if anomalies.is_empty() => message(
            &mut lines,
            format!(
                "no anomalies in the last {ANOMALY_WINDOW_DAYS} days ({})",
                plural(monitors.len() as u64, "monitor", "monitors")
            ),
            theme.dim,
        ),
        Some(Anomalies::Found {
            monitors,
            anomalies,
        }) => {
            let mut list: Vec<(usize, &Anomaly)> = anomalies.iter().enumerate().collect();
            // The newest first.
            list.sort_by_key(|(_, a)| std::cmp::Reverse(a.start));
            if lines.is_empty() || !wide {
                lines.push(Line::from(vec![
                    head.clone(),
                    Span::raw(format!(
                        "{} in the last {ANOMALY_WINDOW_DAYS} days ({})",
                        plural(anomalies.len() as u64, "anomaly", "anomalies"),
                        plural(monitors.len() as u64, "monitor", "monitors")
                    )),
                ]));
            }
            let sel = focused.then(|| c.scroll.min(anomalies.len().saturating_sub(1)));
            for (pos, (_, an)) in list.iter().enumerate() {
                let here = sel == Some(pos);
                if here {
                    cursor = Some(lines.len());
                }
                let mut spans = vec![
                    Span::raw(if here { "  ▶ " } else { "  • " }),
                    Span::styled(dates(an), theme.title),
                    Span::styled(" · ", theme.dim),
                    Span::styled(format!("impact USD {}", money(an.impact)), theme.danger),
                    Span::raw(format!(" (max {})", money(an.max_impact))),
                    Span::styled(" · ", theme.dim),
                    Span::raw(score(an.score)),
                ];
                if wide {
                    spans.push(Span::styled(
                        format!(" · monitor {}", an.monitor),
                        theme.dim,
                    ));
                }
                lines.push(Line::from(spans));
                // The root causes under it: up to three when wide, the first one else.
                let shown = an.causes.len().min(if wide { 3 } else { 1 });
                for (k, cause) in an.causes.iter().take(shown).enumerate() {
                    let lead = if k == 0 { "root cause" } else { "" };
                    let mut text = if wide {
                        format!("      {lead:<11} {}", cause_text(cause, true))
                    } else {
                        format!("      {}", cause_text(cause, false))
                    };
                    if k + 1 == shown && an.causes.len() > shown {
                        text.push_str(&format!(" (+{} more)", an.causes.len() - shown));
                    }
                    lines.push(Line::raw(text));
                }
            }
        }
    }
    (lines, cursor)
}

fn anomalies(frame: &mut Frame, area: Rect, lines: Vec<Line<'static>>, cursor: Option<usize>) {
    if area.height == 0 || lines.is_empty() {
        return;
    }
    let h = usize::from(area.height);
    // Keep the cursor's line on screen; the heading stays when the list scrolls.
    let offset = cursor.map_or(0, |i| (i + 1).saturating_sub(h));
    let shown: Vec<Line<'static>> = if offset > 0 && h > 1 {
        let mut v = vec![lines[0].clone()];
        v.extend(lines.into_iter().skip(offset + 1).take(h - 1));
        v
    } else {
        lines
    };
    frame.render_widget(Paragraph::new(shown), area);
}
