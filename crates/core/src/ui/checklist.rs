//! The Checklist tab: the response steps in order with their state, the incident's headline
//! times, and the notes.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::app::checklist::{Status, evaluate};
use crate::app::state::State;
use crate::app::times;
use crate::domain::Timestamp;
use crate::fmt;
use crate::journal::{Milestone, parse_ts};
use crate::ui::{Theme, pane};

fn mark(status: &Status, theme: &Theme) -> (&'static str, Style) {
    match status {
        Status::Verified(_) => ("✓", theme.ok),
        Status::Failing(_) => ("✗", theme.danger),
        Status::Unknown(_) => ("?", theme.warn),
        Status::Info(_) => ("i", theme.accent),
        Status::Ticked { .. } => ("✓", theme.accent),
        Status::Open => ("·", theme.dim),
    }
}

/// `1 h 12 min` from one time to another; `None` when either is unknown.
fn between(from: Option<Timestamp>, to: Option<Timestamp>) -> Option<String> {
    let d = to? - from?;
    Some(fmt::hours_minutes(d.whole_minutes()))
}

/// The incident's five times, then the intervals measured from them.
fn milestone_lines(state: &State, theme: &Theme) -> Vec<Line<'static>> {
    let ms = &state.checklist.milestones;
    let at = |m: Milestone| ms.get(&m).and_then(|t| parse_ts(t));
    let since = state.since();
    let detected = Some(times::detected(state));
    let mut times_line = vec![Span::styled("Times  ", theme.title)];
    let mut push = |label: &str, t: Option<Timestamp>, from: Option<&str>| {
        let (text, style) = match t {
            Some(t) => {
                let from = from.map(|f| format!(" ({f})")).unwrap_or_default();
                (format!("{label} {}{from}", fmt::minute(t)), theme.ok)
            }
            None => (format!("{label} —"), Style::default()),
        };
        times_line.push(Span::styled(text, style));
        times_line.push(Span::raw("   "));
    };
    push(
        "leak started",
        since.map(|(t, _)| t),
        since.map(|(_, s)| s.words()),
    );
    push("detected", detected, None);
    push("contained", at(Milestone::Contained), None);
    push("eradicated", at(Milestone::Eradicated), None);
    push("closed", at(Milestone::Closed), None);
    let interval = |label: &str, v: Option<String>| {
        let (text, style) = match v {
            Some(v) => (format!("{label} {v}"), theme.accent),
            None => (format!("{label} —"), Style::default()),
        };
        [Span::styled(text, style), Span::raw("   ")]
    };
    let mut intervals = vec![Span::styled("Took   ", theme.title)];
    intervals.extend(interval(
        "to detect",
        between(since.map(|(t, _)| t), detected),
    ));
    intervals.extend(interval(
        "to contain",
        between(detected, at(Milestone::Contained)),
    ));
    intervals.extend(interval(
        "to eradicate",
        between(detected, at(Milestone::Eradicated)),
    ));
    intervals.extend(interval(
        "to close",
        between(detected, at(Milestone::Closed)),
    ));
    vec![Line::from(times_line), Line::from(intervals)]
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let steps = evaluate(state);
    let done = steps.iter().filter(|(_, s)| s.done()).count();
    let failing = steps
        .iter()
        .filter(|(_, s)| matches!(s, Status::Failing(_)))
        .count();
    let title = vec![
        Span::styled(" Checklist ", theme.title),
        Span::styled(
            format!("· {done}/{} done · {failing} failing ", steps.len()),
            if failing > 0 {
                theme.danger
            } else {
                theme.base
            },
        ),
    ];
    let Some(inner) = pane(frame, area, title, theme) else {
        return;
    };
    let notes = &state.checklist.notes;
    let notes_height = if inner.height >= 18 {
        (notes.len().min(4) as u16) + u16::from(!notes.is_empty())
    } else {
        0
    };
    let head = milestone_lines(state, theme);
    let head_height = crate::ui::wrapped_height(&head, inner.width).min(inner.height / 3);
    let [times, list, notes_area] = Layout::vertical([
        Constraint::Length(head_height),
        Constraint::Min(1),
        Constraint::Length(notes_height),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(head).wrap(Wrap { trim: true }), times);

    // Each step is its title line plus a detail line (why, or what the check saw).
    let wide = list.width >= 100;
    let mut lines: Vec<Line> = Vec::new();
    let mut cursor_line = 0usize;
    for (i, (step, status)) in steps.iter().enumerate() {
        let (m, style) = mark(status, theme);
        let here = i == state.checklist.cursor;
        if here {
            cursor_line = lines.len();
        }
        let pointer = if here { "▶" } else { " " };
        let mut title = vec![
            Span::styled(format!("{pointer}{m} "), style),
            Span::styled(
                format!("{:>2}. {}", i + 1, step.title),
                if here { theme.cursor } else { Style::default() },
            ),
        ];
        if wide {
            title.push(Span::styled(format!("  [{}]", status.word()), style));
        }
        lines.push(Line::from(title));
        let detail = status.detail();
        let second = if detail.is_empty() {
            Span::styled(format!("       {}", step.why), theme.dim)
        } else {
            Span::styled(format!("       {detail}"), style)
        };
        lines.push(Line::from(second));
        let step_notes = state
            .checklist
            .notes
            .iter()
            .filter(|n| n.step.as_deref() == Some(step.id.as_str()));
        for n in step_notes {
            lines.push(Line::styled(
                format!(
                    "       ✎ {} ({}): {}",
                    n.operator,
                    n.at.get(11..16).unwrap_or(""),
                    n.text
                ),
                theme.accent,
            ));
        }
    }
    let height = list.height as usize;
    let offset = (cursor_line + 2).saturating_sub(height);
    let visible: Vec<Line> = lines.into_iter().skip(offset).take(height).collect();
    frame.render_widget(Paragraph::new(visible), list);

    if notes_height > 0 {
        let mut nl = vec![Line::styled("Notes", theme.title)];
        for n in notes.iter().rev().take(4) {
            let on = n
                .step
                .as_deref()
                .map_or(String::new(), |s| format!(" [{s}]"));
            nl.push(Line::from(vec![
                Span::styled(
                    format!(
                        "{} {}{on}: ",
                        n.at.get(..16).unwrap_or(&n.at).replace('T', " "),
                        n.operator
                    ),
                    theme.dim,
                ),
                Span::raw(n.text.clone()),
            ]));
        }
        frame.render_widget(Paragraph::new(nl), notes_area);
    }
}
