//! Before the figures: loading, or why there are none.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use crate::app::state::State;
use crate::cost::model::USD_PER_REQUEST;
use crate::fmt;
use crate::ui::layout::wrap_hanging;
use crate::ui::{Theme, spinner};

use super::{PERMISSIONS, REQUESTS_PER_REFRESH};

fn cost_note() -> String {
    format!(
        "Each refresh costs money: Cost Explorer bills USD {USD_PER_REQUEST:.2} a request, at least \
         {REQUESTS_PER_REFRESH} a refresh (USD {:.2}). keyspill asks hourly; r asks now.",
        REQUESTS_PER_REFRESH as f64 * USD_PER_REQUEST
    )
}

/// Paragraphs wrapped to `width`, one column in; a paragraph opening with a symbol (`⚠ `, the
/// spinner) goes on under its text.
pub(super) fn paragraphs(items: Vec<(String, Style)>, width: u16) -> Vec<Line<'static>> {
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

pub(super) fn empty(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
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
                    fmt::plural(c.days, "day", "days")
                )
            } else if state.paused {
                "Cost Explorer not asked yet: polling is paused (p resumes, r asks now)".into()
            } else {
                "Cost Explorer not asked yet: r asks now".into()
            };
            items.push((text, theme.accent));
            items.push((String::new(), theme.base));
            items.push((cost_note(), theme.base));
        }
    }
    frame.render_widget(Paragraph::new(paragraphs(items, area.width)), area);
}
