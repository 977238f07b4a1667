//! The Resources tab: a strip of regions at the top, the inventory table under it, and below
//! (or beside, on a wide screen) the detail of the resource under the cursor and the progress
//! of a removal run.

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState, Wrap};

use crate::app::resources::{
    RegionSummary, Removal, ResourcesTab, SweepState, leak_start, region_summaries,
};
use crate::app::state::State;
use crate::domain::{Timestamp, key_short};
use crate::fmt;
use crate::resources::attribute::{Attribution, Verdict};
use crate::resources::plan::StepState;
use crate::resources::{CellState, GLOBAL, Parts, Resource, Sharing};
use crate::ui::layout::{spans_width, wrap_hanging};
use crate::ui::{Theme, spinner, when, wrapped_height};

mod detail;
mod removal;
mod strip;
mod table;

use detail::*;
use removal::*;
use strip::*;
use table::*;

/// The table shows ids, names and compact creation times from this width up.
const MEDIUM: u16 = 100;
/// The table adds the linked events and full dates from this width up.
const WIDE: u16 = 140;
/// The detail pane goes beside the table (rather than under it) from this width up.
const SIDE_BY_SIDE: u16 = 150;

const VERDICTS: [Verdict; 4] = [
    Verdict::LeakedKey,
    Verdict::AfterLeak,
    Verdict::Touched,
    Verdict::Before,
];

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let t = &state.resources;
    let summaries = region_summaries(state);
    let title = title(state, &summaries, area.width.saturating_sub(2), theme);
    let Some(inner) = crate::ui::pane(frame, area, title, theme) else {
        return;
    };

    let strip = strip_lines(state, &summaries, inner, theme);
    let strip_height = (strip.len() as u16).min(inner.height);
    let [strip_area, body] =
        Layout::vertical([Constraint::Length(strip_height), Constraint::Min(0)]).areas(inner);
    frame.render_widget(Paragraph::new(strip), strip_area);
    if body.height == 0 {
        return;
    }

    let detail = t.detail;
    let removal = t.removal.as_ref();
    if let Some(scroll) = detail
        && body.width >= SIDE_BY_SIDE
    {
        // Wide: the detail on the right, full height; the table (and a removal run) left.
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(body);
        let (table_area, removal_area) = split_for_removal(state, left, removal);
        table(frame, table_area, state, theme);
        if let (Some(r), Some(a)) = (removal, removal_area) {
            removal_pane(frame, a, state, r, theme);
        }
        detail_pane(frame, right, state, scroll, Borders::LEFT, theme);
        return;
    }

    // Stacked: table, then the detail, then the removal run.
    let detail_lines = detail.map(|_| detail_lines(state, theme));
    let detail_want = detail_lines
        .as_ref()
        .map_or(0, |l| wrapped_height(l, body.width).saturating_add(1));
    let removal_want = removal.map_or(0, |r| removal_height(state, r, body.width));
    // The table keeps its header and a few rows when there is room for them.
    let table_min = 4.min(body.height);
    let room = body.height - table_min;
    let (detail_h, removal_h) = match (detail.is_some(), removal.is_some()) {
        (true, true) => {
            let removal_h = removal_want.min(room / 2);
            (detail_want.min(room - removal_h), removal_h)
        }
        (true, false) => (detail_want.min(three_fifths(body.height)).min(room), 0),
        (false, true) => (0, removal_want.min(three_fifths(body.height)).min(room)),
        (false, false) => (0, 0),
    };
    let [table_area, detail_area, removal_area] = Layout::vertical([
        Constraint::Min(0),
        Constraint::Length(detail_h),
        Constraint::Length(removal_h),
    ])
    .areas(body);
    table(frame, table_area, state, theme);
    if let Some(scroll) = detail
        && detail_area.height > 0
    {
        detail_pane(frame, detail_area, state, scroll, Borders::TOP, theme);
    }
    if let Some(r) = removal
        && removal_area.height > 0
    {
        removal_pane(frame, removal_area, state, r, theme);
    }
}

/// Splits `area` between the table and a removal run (the run gets up to three fifths).
fn split_for_removal(state: &State, area: Rect, removal: Option<&Removal>) -> (Rect, Option<Rect>) {
    let Some(r) = removal else {
        return (area, None);
    };
    let table_min = 4.min(area.height);
    let h = removal_height(state, r, area.width)
        .min(three_fifths(area.height))
        .min(area.height - table_min);
    let [top, bottom] = Layout::vertical([Constraint::Min(0), Constraint::Length(h)]).areas(area);
    (top, (h > 0).then_some(bottom))
}

/// Three fifths of `h`, the most a detail or removal pane takes from the table.
fn three_fifths(h: u16) -> u16 {
    u16::try_from(u32::from(h) * 3 / 5).unwrap_or(h)
}

/// Rows the removal pane would fill at `width`: its title and its lines.
fn removal_height(state: &State, r: &Removal, width: u16) -> u16 {
    // The theme does not change how many lines there are.
    let lines = removal_lines(state, r, width, &Theme::monochrome()).0.len();
    u16::try_from(lines).unwrap_or(u16::MAX).saturating_add(1)
}

pub fn verdict_style(theme: &Theme, v: Verdict) -> Style {
    match v {
        Verdict::LeakedKey => theme.danger,
        Verdict::AfterLeak => theme.warn.add_modifier(Modifier::BOLD),
        Verdict::Touched => theme.warn,
        Verdict::Before => theme.dim,
    }
}

/// The short form of a verdict for narrow titles.
fn verdict_short(v: Verdict) -> &'static str {
    match v {
        Verdict::LeakedKey => "LEAKED",
        Verdict::AfterLeak => "AFTER",
        Verdict::Touched => "TOUCHED",
        Verdict::Before => "BEFORE",
    }
}

/// The pane's title: counts per verdict, view mode, filter, selection and freshness. The
/// longest form that fits `width` is used; the counts and the freshness come first.
fn title(
    state: &State,
    summaries: &[RegionSummary],
    width: u16,
    theme: &Theme,
) -> Vec<Span<'static>> {
    let t = &state.resources;
    let counts = t.counts();
    // `short`: short verdict words; `view`: 0 none, 1 short, 2 long; `words`: long freshness.
    let build = |short: bool, view: u8, words: bool| {
        let dot = || Span::styled(" · ", theme.dim);
        let mut spans = vec![Span::styled(" Resources", theme.title)];
        // Counts mean something only once something was found.
        if !t.resources.is_empty() {
            for v in VERDICTS {
                let n = counts.get(&v).copied().unwrap_or(0);
                spans.push(if short { Span::raw(" ") } else { dot() });
                let label = if short { verdict_short(v) } else { v.label() };
                let style = if n > 0 {
                    verdict_style(theme, v)
                } else {
                    theme.base
                };
                spans.push(Span::styled(format!("{label} {n}"), style));
            }
        }
        let view_word = match (t.show_all, view) {
            (_, 0) => None,
            (false, 1) => Some("suspicious"),
            (true, 1) => Some("all"),
            (false, _) => Some("suspicious only (v: all)"),
            (true, _) => Some("showing all (v: suspicious)"),
        };
        if let Some(word) = view_word {
            spans.push(dot());
            spans.push(Span::styled(word, theme.accent));
        }
        if !t.filter.is_empty() {
            spans.push(dot());
            spans.push(Span::styled(
                format!("filter \"{}\": {} rows", t.filter, t.rows.len()),
                theme.accent,
            ));
        }
        if !t.selected.is_empty() {
            spans.push(dot());
            let word = if words { " selected" } else { " sel" };
            spans.push(Span::styled(
                format!("{}{word}", t.selected.len()),
                theme.accent,
            ));
        }
        spans.push(dot());
        spans.extend(freshness(state, summaries, words));
        spans.push(Span::raw(" "));
        spans
    };
    let width = usize::from(width);
    let candidates = [
        (false, 2, true),
        (false, 1, true),
        (false, 1, false),
        (true, 1, false),
        (true, 0, false),
    ];
    for (short, view, words) in candidates {
        let spans = build(short, view, words);
        if spans_width(&spans) <= width {
            return spans;
        }
    }
    build(true, 0, false)
}

/// "sweeping 12/18 regions ⠋" while a sweep runs, else "updated 12 s ago".
fn freshness(state: &State, summaries: &[RegionSummary], words: bool) -> Vec<Span<'static>> {
    let t = &state.resources;
    let mut spans = Vec::new();
    if t.in_flight {
        let done = summaries
            .iter()
            .filter(|s| s.state == SweepState::Done)
            .count();
        let text = if words {
            format!(
                "sweeping {done}/{} regions {}",
                summaries.len(),
                spinner(state)
            )
        } else {
            format!("{done}/{} {}", summaries.len(), spinner(state))
        };
        spans.push(Span::raw(text));
    } else if let Some(at) = t.fetched_at {
        let ago = fmt::ago(state.now, at);
        spans.push(Span::raw(if words {
            format!("updated {ago} ago")
        } else {
            format!("{ago} ago")
        }));
    } else {
        spans.push(Span::raw("not swept yet"));
    }
    if state.paused {
        spans.push(Span::raw(" · paused"));
    }
    spans
}
