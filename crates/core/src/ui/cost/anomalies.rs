//! AWS's own anomalies.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::cost::Focus;
use crate::app::state::State;
use crate::cost::model::ANOMALY_WINDOW_DAYS;
use crate::cost::model::{Anomalies, Anomaly, RootCause};
use crate::fmt;
use crate::ui::layout::wrap_hanging;
use crate::ui::{Theme, spinner};

use super::{SIDE_BY_SIDE, focus_heading, short_service};

fn dates(a: &Anomaly) -> String {
    match (a.start, a.end) {
        (Some(s), Some(e)) if s == e => fmt::iso_day(s),
        (Some(s), Some(e)) => format!("{} – {}", fmt::iso_day(s), fmt::month_day(e)),
        (Some(s), None) => format!("{} – ongoing", fmt::iso_day(s)),
        (None, Some(e)) => format!("until {}", fmt::iso_day(e)),
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
pub(super) fn anomaly_lines(
    state: &State,
    width: u16,
    theme: &Theme,
) -> (Vec<Line<'static>>, Option<usize>) {
    let c = &state.cost;
    let w = usize::from(width);
    let wide = width >= SIDE_BY_SIDE;
    let focused = c.focus == Focus::Anomalies;
    let (mark, head_style) = focus_heading(focused, theme, theme.title);
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
            message(&mut lines, text, theme.base);
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
                fmt::plural(monitors.len() as u64, "monitor", "monitors")
            ),
            theme.base,
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
                        fmt::plural(anomalies.len() as u64, "anomaly", "anomalies"),
                        fmt::plural(monitors.len() as u64, "monitor", "monitors")
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
                    Span::styled(
                        format!("impact USD {}", fmt::money(an.impact)),
                        theme.danger,
                    ),
                    Span::raw(format!(" (max {})", fmt::money(an.max_impact))),
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

pub(super) fn anomalies(
    frame: &mut Frame,
    area: Rect,
    lines: Vec<Line<'static>>,
    cursor: Option<usize>,
    warn: Style,
) {
    if area.height == 0 || lines.is_empty() {
        return;
    }
    let h = usize::from(area.height);
    let total = lines.len();
    if total <= h {
        frame.render_widget(Paragraph::new(lines), area);
        return;
    }
    // Cut: the first line stays, then a window that keeps the cursor's line in sight, then
    // one line saying how much is out of sight and how to reach it.
    let window = h.saturating_sub(2);
    let offset = cursor.map_or(0, |i| i.saturating_sub(window));
    let mut shown: Vec<Line<'static>> = match cursor {
        // No room beside the first line: the cursor's line instead of it.
        Some(i) if window == 0 => lines.into_iter().skip(i).take(1).collect(),
        _ => {
            let mut v: Vec<Line<'static>> = lines.iter().take(1).cloned().collect();
            v.extend(lines.into_iter().skip(1 + offset).take(window));
            v
        }
    };
    if h >= 2 {
        let hidden = total - shown.len();
        let how = if cursor.is_some() { "j/k" } else { "c, then j" };
        let word = if hidden == 1 { "line" } else { "lines" };
        shown.push(Line::styled(
            format!("   … {hidden} more {word} ({how})"),
            warn,
        ));
    }
    frame.render_widget(Paragraph::new(shown), area);
}
