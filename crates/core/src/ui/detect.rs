//! The detections pane under the Keys table: what GuardDuty, Security Hub and Health say about
//! access keys, each source's state in words, and the exposed keys nobody tracks yet.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::state::State;
use crate::detect::{Alert, Detections};
use crate::domain::key_short;
use crate::fmt;
use crate::ui::{Theme, freshness};

/// The pane's height for `width`: nothing before the sources were first read, else the
/// summary lines, the proposals and up to five alerts, in a frame.
pub fn height(state: &State) -> u16 {
    let d = &state.detections;
    if d.data.is_none() && d.error.is_none() {
        return 0;
    }
    let Some(data) = d.data.as_ref() else {
        return 3;
    };
    let leaked = &state.leaked;
    let lines = data.summary().len()
        + usize::from(!data.proposed(&|k| leaked.contains(k)).is_empty())
        + data.alerts.len().min(MAX_ROWS)
        + usize::from(data.alerts.len() > MAX_ROWS)
        + usize::from(d.error.is_some());
    u16::try_from(lines.max(1) + 2).unwrap_or(u16::MAX)
}

const MAX_ROWS: usize = 5;

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let d = &state.detections;
    let mut title = vec![Span::styled(" Detections ", theme.title)];
    if let Some(data) = &d.data {
        title.push(Span::raw(format!(
            "· {} · ",
            fmt::plural(data.alerts.len(), "alert", "alerts")
        )));
    }
    title.extend(freshness(state, d));
    title.push(Span::raw(" "));
    let Some(inner) = crate::ui::pane(frame, area, title, theme) else {
        return;
    };
    let mut lines: Vec<Line> = Vec::new();
    if let Some(e) = &d.error {
        lines.push(Line::styled(format!(" ⚠ {e}"), theme.danger));
    }
    if let Some(data) = &d.data {
        lines.extend(body(state, data, theme, inner.width));
    }
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

fn body(state: &State, d: &Detections, theme: &Theme, width: u16) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for (source, words) in d.summary() {
        lines.push(Line::from(vec![
            Span::styled(format!(" {}: ", source.name()), theme.title),
            Span::raw(words),
        ]));
    }
    let leaked = &state.leaked;
    let proposed = d.proposed(&|k| leaked.contains(k));
    if !proposed.is_empty() {
        let keys: Vec<String> = proposed
            .iter()
            .map(|(k, s)| {
                let names: Vec<&str> = s.iter().map(|s| s.name()).collect();
                format!("{k} ({})", names.join(", "))
            })
            .collect();
        lines.push(Line::styled(
            format!(
                " ⚑ exposed, not tracked: {} — :key ID tracks one",
                keys.join("; ")
            ),
            theme.warn,
        ));
    }
    let alerts = d.sorted();
    for a in alerts.iter().take(MAX_ROWS) {
        lines.push(row(state, a, theme, width));
    }
    if alerts.len() > MAX_ROWS {
        lines.push(Line::styled(
            format!(
                " … {} more (the report lists them all)",
                alerts.len() - MAX_ROWS
            ),
            theme.dim,
        ));
    }
    lines
}

fn row(state: &State, a: &Alert, theme: &Theme, width: u16) -> Line<'static> {
    let style = match a.rank {
        3 => theme.danger,
        2 => theme.warn,
        _ => theme.accent,
    };
    let when = a
        .last_seen
        .as_deref()
        .or(a.first_seen.as_deref())
        .and_then(crate::journal::parse_ts)
        .map(|t| format!("{} ago", fmt::ago(state.now, t)))
        .unwrap_or_default();
    let keys: Vec<String> = a.keys.iter().map(|k| key_short(k)).collect();
    let mut spans = vec![
        Span::styled(format!(" {:<8}", a.severity), style),
        Span::raw(format!(" {:<12} ", a.source.name())),
        Span::raw(a.kind.clone()),
    ];
    if width >= 120 && !a.title.is_empty() && a.title != a.kind {
        spans.push(Span::styled(format!(" — {}", a.title), theme.dim));
    }
    spans.push(Span::raw(format!(
        "  {}  {}  {when}",
        keys.join(", "),
        a.region
    )));
    Line::from(spans)
}
