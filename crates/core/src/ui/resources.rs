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
use crate::resources::{CellState, GLOBAL, Kind, Parts, Resource, Sharing};
use crate::ui::{Theme, spinner, when, wrapped_height};

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

fn spans_width(spans: &[Span]) -> usize {
    spans.iter().map(Span::width).sum()
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
                    theme.dim
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

/// The name a region goes by in the strip: IAM lives in `global`.
fn strip_name(region: &str) -> &str {
    if region == GLOBAL { "IAM" } else { region }
}

/// Failed and unavailable kinds of one region, from its last sweep.
fn cell_problems(t: &ResourcesTab, region: &str) -> (usize, usize) {
    t.regions.get(region).map_or((0, 0), |s| {
        s.cells.iter().fold((0, 0), |(f, u), (_, c)| match c {
            CellState::Ok(_) => (f, u),
            CellState::Failed(_) => (f + 1, u),
            CellState::Unavailable(_) => (f, u + 1),
        })
    })
}

/// One region's cell in the strip.
fn strip_cell(state: &State, s: &RegionSummary, theme: &Theme) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    let name_style = if s.new_region {
        theme.danger
    } else if s.suspicious > 0 {
        theme.title
    } else {
        theme.dim
    };
    if s.new_region {
        spans.push(Span::styled("NEW ", theme.danger));
    }
    spans.push(Span::styled(strip_name(&s.region).to_string(), name_style));
    let count_style = if s.new_region {
        theme.danger
    } else if s.suspicious > 0 {
        theme.warn
    } else {
        theme.dim
    };
    spans.push(Span::styled(format!(" {}", s.suspicious), count_style));
    spans.push(Span::styled(format!("/{}", s.total), theme.dim));
    match s.state {
        SweepState::Running => {
            spans.push(Span::styled(format!(" {}", spinner(state)), theme.accent));
        }
        SweepState::Waiting => spans.push(Span::styled(" –", theme.dim)),
        SweepState::Done => {}
    }
    let (failed, unavailable) = cell_problems(&state.resources, &s.region);
    if failed > 0 {
        spans.push(Span::styled(format!(" ⚠{failed}"), theme.warn));
    } else if unavailable > 0 {
        spans.push(Span::styled(" n/a", theme.dim));
    }
    spans
}

/// How interesting a region is, for the strip's order: the attacker's new regions, then
/// regions with suspicious resources, those still sweeping or with failures, the rest.
fn strip_rank(state: &State, s: &RegionSummary) -> u8 {
    let (failed, _) = cell_problems(&state.resources, &s.region);
    if s.new_region {
        0
    } else if s.suspicious > 0 {
        1
    } else if s.state != SweepState::Done || failed > 0 {
        2
    } else {
        3
    }
}

/// The region strip, packed into lines of `area.width`, capped to a share of the pane's
/// height (what does not fit is counted in "+N more"), then the problems in words.
fn strip_lines(
    state: &State,
    summaries: &[RegionSummary],
    area: Rect,
    theme: &Theme,
) -> Vec<Line<'static>> {
    if summaries.is_empty() {
        return Vec::new();
    }
    let width = usize::from(area.width);
    let budget = usize::from((area.height / 4).max(1));
    let problems = problem_lines(state, width, theme);
    // Problems get at most half the budget, and at least a line when there are any.
    let problem_rows = problems.len().min((budget / 2).max(1));
    let cell_rows = budget.saturating_sub(problem_rows).max(1);

    let mut order: Vec<&RegionSummary> = summaries.iter().collect();
    // IAM leads its group: it is where backdoors live.
    order.sort_by_key(|s| (strip_rank(state, s), s.region != GLOBAL));
    let cells: Vec<(Vec<Span<'static>>, &RegionSummary)> = order
        .into_iter()
        .map(|s| (strip_cell(state, s, theme), s))
        .collect();

    let mut lines = pack(&cells, width, usize::MAX, theme);
    if lines.len() > cell_rows {
        lines = pack(&cells, width, cell_rows, theme);
    }
    lines.extend(problems.into_iter().take(problem_rows));
    lines
}

/// Places cells left to right, two spaces apart, never splitting one. With `max_lines`
/// reached, the last line ends with how many cells were left out.
fn pack(
    cells: &[(Vec<Span<'static>>, &RegionSummary)],
    width: usize,
    max_lines: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let short_note = |hidden: usize| format!("+{hidden} more");
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut current: Vec<Span<'static>> = vec![Span::raw(" ")];
    let mut used = 1;
    let mut i = 0;
    while i < cells.len() {
        let cell = &cells[i].0;
        let w = spans_width(cell);
        let gap = if used > 1 { 2 } else { 0 };
        let on_last = lines.len() + 1 >= max_lines;
        let after = cells.len() - i - 1;
        // On the last allowed line, room must stay for the note on what is left out.
        let reserve = if on_last && after > 0 {
            2 + short_note(after).chars().count()
        } else {
            0
        };
        if used + gap + w + reserve <= width {
            if gap > 0 {
                current.push(Span::raw("  "));
            }
            current.extend(cell.iter().cloned());
            used += gap + w;
            i += 1;
            continue;
        }
        if on_last {
            let hidden = &cells[i..];
            let quiet = hidden
                .iter()
                .all(|(_, s)| s.suspicious == 0 && s.state == SweepState::Done);
            let long = format!("+{} more, nothing suspicious", hidden.len());
            let text = if quiet && used + gap + long.chars().count() <= width {
                long
            } else {
                short_note(hidden.len())
            };
            if gap > 0 {
                current.push(Span::raw("  "));
            }
            current.push(Span::styled(text, theme.dim));
            break;
        }
        if used == 1 {
            // Wider than a whole line: shown cut rather than not at all.
            current.extend(cell.iter().cloned());
            i += 1;
        }
        lines.push(Line::from(std::mem::replace(
            &mut current,
            vec![Span::raw(" ")],
        )));
        used = 1;
    }
    if used > 1 || current.len() > 1 {
        lines.push(Line::from(current));
    }
    lines
}

/// The regions listed in a problem line: by name when few, else how many.
fn region_list(regions: &[&str]) -> String {
    if regions.len() > 3 {
        format!("{} regions", regions.len())
    } else {
        regions
            .iter()
            .map(|r| strip_name(r))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Failures in words, the same failure in several regions said once; then the kinds a
/// region does not offer, on one quiet line.
fn problem_lines(state: &State, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let mut failed: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut unavailable: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (region, status) in &state.resources.regions {
        for (kind, c) in &status.cells {
            match c {
                CellState::Ok(_) => {}
                CellState::Failed(e) => failed
                    .entry(format!("{kind}: {e}"))
                    .or_default()
                    .push(region),
                CellState::Unavailable(_) => unavailable.entry(kind).or_default().push(region),
            }
        }
    }
    let mut lines: Vec<Line<'static>> = Vec::new();
    for (what, regions) in failed {
        let text = format!("⚠ {} — {what}", region_list(&regions));
        let pieces = wrap_hanging(&text, width.saturating_sub(1), width.saturating_sub(3));
        for (i, piece) in pieces.into_iter().enumerate() {
            let indent = if i == 0 { " " } else { "   " };
            lines.push(Line::styled(format!("{indent}{piece}"), theme.warn));
        }
    }
    if !unavailable.is_empty() {
        let parts: Vec<String> = unavailable
            .into_iter()
            .map(|(kind, regions)| format!("{kind} in {}", region_list(&regions)))
            .collect();
        lines.push(Line::styled(
            format!(" n/a (not offered there): {}", parts.join(" · ")),
            theme.dim,
        ));
    }
    lines
}

/// `11-22 10:17` or, wide, `2026-11-22 10:17Z`.
fn created_text(t: Option<Timestamp>, wide: bool) -> String {
    match t {
        None => "-".into(),
        Some(t) if wide => fmt::minute(t),
        Some(t) => format!(
            "{:02}-{:02} {:02}:{:02}",
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        ),
    }
}

/// Marks that must catch the eye: termination protection, public or shared snapshots and
/// images.
fn flags(r: &Resource, long: bool, theme: &Theme) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    if r.kind == Kind::Instance && r.protected {
        out.push(Span::styled(
            if long { "PROTECTED" } else { "PROT" },
            theme.warn,
        ));
    }
    match &r.sharing {
        Sharing::Public { .. } => out.push(Span::styled("PUBLIC", theme.danger)),
        Sharing::Accounts(a) if long => {
            out.push(Span::styled(format!("SHARED×{}", a.len()), theme.warn));
        }
        Sharing::Accounts(_) => out.push(Span::styled("SHARED", theme.warn)),
        Sharing::Unknown(_) if long => out.push(Span::styled("SHARING?", theme.dim)),
        _ => {}
    }
    out
}

/// The events column: the creating call (and how many more), what launched it, or how many
/// events.
fn events_text(a: Option<&Attribution>) -> String {
    let Some(a) = a else {
        return String::new();
    };
    let n = a.events.len();
    match a.events.iter().find(|l| l.creates) {
        None if a.launched_by.is_some() => a
            .launched_by
            .as_ref()
            .map_or_else(String::new, |l| format!("via {} {}", l.kind, l.id)),
        Some(c) if n > 1 => format!("{} +{}", c.name, n - 1),
        Some(c) => c.name.clone(),
        None if n == 1 => "1 event".into(),
        None if n > 1 => format!("{n} events"),
        None => String::new(),
    }
}

fn table(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let t = &state.resources;
    if area.height == 0 || area.width == 0 {
        return;
    }
    let n = t.rows.len();
    if n == 0 {
        frame.render_widget(
            Paragraph::new(empty_text(state))
                .style(theme.dim)
                .wrap(Wrap { trim: false }),
            area,
        );
        return;
    }
    let rows_visible = usize::from(area.height.saturating_sub(1)).max(1);
    let cursor = t.cursor_row().unwrap_or(0).min(n - 1);
    let offset = cursor.saturating_sub(rows_visible - 1);
    let wide = area.width >= WIDE;
    let medium = area.width >= MEDIUM;

    let headers: &[&str] = if wide {
        &[
            "", "VERDICT", "REGION", "KIND", "ID", "NAME", "STATE", "CREATED", "EVENTS",
        ]
    } else if medium {
        &[
            "", "VERDICT", "REGION", "KIND", "ID", "NAME", "STATE", "CREATED",
        ]
    } else {
        &["", "VERDICT", "REGION", "KIND", "NAME", "STATE"]
    };
    let widths: Vec<Constraint> = if wide {
        vec![
            Constraint::Length(2),
            Constraint::Length(10),
            Constraint::Length(14),
            Constraint::Length(15),
            Constraint::Fill(3),
            Constraint::Fill(2),
            Constraint::Length(12),
            Constraint::Length(17),
            Constraint::Length(24),
        ]
    } else if medium {
        vec![
            Constraint::Length(2),
            Constraint::Length(10),
            Constraint::Length(14),
            Constraint::Length(15),
            Constraint::Fill(1),
            Constraint::Fill(1),
            Constraint::Length(10),
            Constraint::Length(11),
        ]
    } else {
        vec![
            Constraint::Length(2),
            Constraint::Length(10),
            Constraint::Length(14),
            Constraint::Length(15),
            Constraint::Fill(1),
            Constraint::Length(9),
        ]
    };
    let rows: Vec<Row> = (offset..(offset + rows_visible).min(n))
        .filter_map(|i| t.row_resource(i).map(|x| (i, x)))
        .map(|(i, (r, a))| {
            let verdict = a.map_or(Verdict::Before, |a| a.verdict);
            let selected = t.selected.contains(&r.reference());
            let mark = match (i == cursor, selected) {
                (true, true) => "▶●",
                (true, false) => "▶ ",
                (false, true) => " ●",
                (false, false) => "  ",
            };
            let plain = if verdict == Verdict::Before {
                theme.dim
            } else {
                Style::default()
            };
            let mut name = flags(r, wide, theme);
            for s in name.iter_mut() {
                s.content = format!("{} ", s.content).into();
            }
            // With an id column the name column holds only a real name.
            let shown = if !medium {
                r.display_name()
            } else if r.name == r.id {
                ""
            } else {
                &r.name
            };
            name.push(Span::styled(shown.to_string(), plain));
            let mut cells = vec![
                Cell::from(mark).style(theme.accent),
                Cell::from(verdict.label()).style(verdict_style(theme, verdict)),
                Cell::from(r.region.clone()).style(plain),
                Cell::from(r.kind.label()).style(plain),
            ];
            if medium {
                cells.push(Cell::from(r.id.clone()).style(plain));
            }
            cells.push(Cell::from(Line::from(name)));
            let state_text = if r.state.is_empty() { "-" } else { &r.state };
            cells.push(Cell::from(state_text.to_string()).style(plain));
            if medium {
                cells.push(Cell::from(created_text(r.created, wide)).style(plain));
            }
            if wide {
                cells.push(Cell::from(events_text(a)).style(plain));
            }
            Row::new(cells)
        })
        .collect();
    let header = Row::new(headers.iter().map(|h| Cell::from(*h).style(theme.title)));
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .row_highlight_style(theme.cursor);
    let mut ts = TableState::default().with_selected(Some(cursor - offset));
    frame.render_stateful_widget(table, area, &mut ts);
}

/// What the table says when it has no rows.
fn empty_text(state: &State) -> String {
    let t = &state.resources;
    let total = t.resources.len();
    if total == 0 {
        if t.in_flight {
            return format!(
                " {} sweeping… resources appear region by region as each answers.",
                spinner(state)
            );
        }
        if t.fetched_at.is_none() && t.regions.is_empty() {
            return " Nothing swept yet: press r to sweep the account's regions.".into();
        }
        return " The sweep found no resources in this account. r sweeps again.".into();
    }
    if !t.filter.is_empty() {
        return format!(
            " No resource matches the filter \"{}\". Esc clears it.",
            t.filter
        );
    }
    let so_far = if t.in_flight { " so far" } else { "" };
    format!(
        " Nothing the leak made or touched{so_far} — v shows all {total} resource{}.",
        if total == 1 { "" } else { "s" }
    )
}

/// A key as the detail shows it, with what it is to this incident.
fn key_words(state: &State, key: &str) -> String {
    let short = key_short(key);
    if key.is_empty() {
        "no key".into()
    } else if state.leaked.contains(key) {
        format!("{short} (leaked)")
    } else if state.timeline.chains.contains_key(key) {
        format!("{short} (minted from a leaked key)")
    } else {
        short
    }
}

/// Why the resource has its verdict, in a sentence.
fn why(state: &State, r: &Resource, a: Option<&Attribution>) -> String {
    let since = leak_start(state);
    let verdict = a.map_or(Verdict::Before, |a| a.verdict);
    let created = r.created.map_or_else(
        || "of unknown age".to_string(),
        |c| format!("created {}", fmt::minute(c)),
    );
    let n = a.map_or(0, |a| a.events.len());
    match verdict {
        Verdict::LeakedKey => {
            let made = a.and_then(|a| a.events.iter().find(|l| l.creates));
            let launcher = a.and_then(|a| a.launched_by.as_ref());
            match (made, launcher) {
                (Some(l), _) => format!(
                    "made by {} at {} with key {}",
                    l.name,
                    fmt::minute(l.time),
                    key_words(state, &l.key)
                ),
                (None, Some(l)) => format!(
                    "launched by {} {} ({}), which the leaked key made",
                    l.kind, l.id, l.region
                ),
                (None, None) => "made by a tracked key".into(),
            }
        }
        Verdict::AfterLeak => format!(
            "{created}, after the leak started{}; no event of a tracked key names it (yet)",
            since.map_or_else(String::new, |s| format!(" ({})", fmt::minute(s)))
        ),
        Verdict::Touched => format!(
            "there before the leak ({created}), changed by a tracked key: {n} event{}",
            if n == 1 { "" } else { "s" }
        ),
        Verdict::Before => format!("{created}; no tracked key made or changed it"),
    }
}

/// Everything about the resource under the cursor.
fn detail_lines(state: &State, theme: &Theme) -> Vec<Line<'static>> {
    let Some((r, a)) = state.resources.current() else {
        return vec![Line::styled(
            " No resource under the cursor.".to_string(),
            theme.dim,
        )];
    };
    let kv = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!(" {k:<11}"), theme.dim),
            Span::raw(v),
        ])
    };
    let heading = |s: &str| Line::styled(format!(" {s}"), theme.title);
    let verdict = a.map_or(Verdict::Before, |a| a.verdict);
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!(" {} ", verdict.label()),
            verdict_style(theme, verdict),
        ),
        Span::raw(why(state, r, a)),
    ])];
    lines.push(kv("id", r.id.clone()));
    if !r.name.is_empty() && r.name != r.id {
        lines.push(kv("name", r.name.clone()));
    }
    if let Some(arn) = &r.arn {
        lines.push(kv("ARN", arn.clone()));
    }
    let region = if r.region == GLOBAL {
        "global (IAM)".to_string()
    } else {
        r.region.clone()
    };
    lines.push(kv("region", region));
    lines.push(kv("kind", r.kind.label().to_string()));
    if !r.state.is_empty() {
        lines.push(kv("state", r.state.clone()));
    }
    lines.push(kv(
        "created",
        r.created
            .map_or_else(|| "unknown".into(), |c| when(state, c)),
    ));
    if r.kind == Kind::Instance {
        lines.push(if r.protected {
            Line::from(vec![
                Span::styled(format!(" {:<11}", "protection"), theme.dim),
                Span::styled(
                    "termination protection ON (the plan turns it off first)",
                    theme.warn,
                ),
            ])
        } else {
            kv("protection", "none".into())
        });
    }
    if matches!(r.kind, Kind::Snapshot | Kind::Image) {
        let (text, style) = match &r.sharing {
            Sharing::Private => ("private".to_string(), Style::default()),
            Sharing::Public { accounts } if accounts.is_empty() => {
                ("PUBLIC: anyone can use it".to_string(), theme.danger)
            }
            Sharing::Public { accounts } => (
                format!("PUBLIC, and accounts {}", accounts.join(", ")),
                theme.danger,
            ),
            Sharing::Accounts(a) => (format!("shared with {}", a.join(", ")), theme.warn),
            Sharing::Unknown(e) => (format!("unknown: {e}"), theme.dim),
        };
        lines.push(Line::from(vec![
            Span::styled(format!(" {:<11}", "sharing"), theme.dim),
            Span::styled(text, style),
        ]));
    }
    for (i, (k, v)) in r.tags.iter().enumerate() {
        lines.push(kv(if i == 0 { "tags" } else { "" }, format!("{k} = {v}")));
    }
    for (k, v) in &r.details {
        lines.push(kv(k, v.clone()));
    }
    if !r.related.is_empty() {
        lines.push(heading("Related"));
        let t = &state.resources;
        for rel in &r.related {
            let known = t
                .resources
                .iter()
                .position(|x| x.kind == rel.kind && x.region == rel.region && x.id == rel.id);
            let mut spans = vec![Span::raw(format!("   {rel}"))];
            match known {
                Some(i) => {
                    let v = t.verdict_of(i);
                    spans.push(Span::raw("  "));
                    spans.push(Span::styled(v.label(), verdict_style(theme, v)));
                }
                None => spans.push(Span::styled("  (not in the inventory)", theme.dim)),
            }
            lines.push(Line::from(spans));
        }
    }
    match &r.parts {
        Parts::None if r.kind.has_parts() => {
            lines.push(heading("Parts"));
            lines.push(Line::styled(
                "   not read yet (read for suspicious users and roles)".to_string(),
                theme.dim,
            ));
        }
        Parts::None => {}
        Parts::User(p) => {
            lines.push(heading("Parts, in deletion order"));
            let mut items: Vec<String> = Vec::new();
            if p.login_profile {
                items.push("console password".into());
            }
            items.extend(p.access_keys.iter().map(|k| {
                let mark = if state.leaked.contains(k) {
                    "  (leaked)"
                } else {
                    ""
                };
                format!("access key {k}{mark}")
            }));
            items.extend(
                p.signing_certificates
                    .iter()
                    .map(|c| format!("signing certificate {c}")),
            );
            items.extend(p.ssh_keys.iter().map(|k| format!("SSH key {k}")));
            items.extend(
                p.service_credentials
                    .iter()
                    .map(|(s, id)| format!("service credential {id} ({s})")),
            );
            items.extend(p.mfa_devices.iter().map(|d| format!("MFA device {d}")));
            items.extend(
                p.inline_policies
                    .iter()
                    .map(|x| format!("inline policy {x}")),
            );
            items.extend(
                p.attached_policies
                    .iter()
                    .map(|x| format!("attached policy {x}")),
            );
            items.extend(p.groups.iter().map(|g| format!("member of group {g}")));
            parts_lines(&mut lines, items, &p.unread, theme);
        }
        Parts::Role(p) => {
            lines.push(heading("Parts, in deletion order"));
            let mut items: Vec<String> = Vec::new();
            items.extend(
                p.inline_policies
                    .iter()
                    .map(|x| format!("inline policy {x}")),
            );
            items.extend(
                p.attached_policies
                    .iter()
                    .map(|x| format!("attached policy {x}")),
            );
            items.extend(
                p.instance_profiles
                    .iter()
                    .map(|x| format!("in instance profile {x}")),
            );
            parts_lines(&mut lines, items, &p.unread, theme);
        }
    }
    let events = a.map_or(&[][..], |a| a.events.as_slice());
    lines.push(heading(&format!(
        "CloudTrail events of tracked keys naming it ({}, newest first)",
        events.len()
    )));
    if events.is_empty() {
        lines.push(Line::styled("   none".to_string(), theme.dim));
    }
    let name_width = events
        .iter()
        .map(|l| l.name.chars().count())
        .max()
        .unwrap_or(0);
    for l in events {
        lines.push(Line::from(vec![
            Span::styled(
                format!("   {} {}Z  ", fmt::date(l.time), fmt::clock_time(l.time)),
                theme.dim,
            ),
            Span::raw(format!("{:<name_width$} ", l.name)),
            Span::styled(
                if l.creates { "creates " } else { "        " },
                theme.danger,
            ),
            Span::raw(key_words(state, &l.key)),
        ]));
    }
    lines
}

fn parts_lines(
    lines: &mut Vec<Line<'static>>,
    items: Vec<String>,
    unread: &[String],
    theme: &Theme,
) {
    if items.is_empty() && unread.is_empty() {
        lines.push(Line::raw("   none"));
    }
    for (i, item) in items.into_iter().enumerate() {
        lines.push(Line::raw(format!("   {:>2}. {item}", i + 1)));
    }
    for u in unread {
        lines.push(Line::styled(
            format!("   ⚠ could not list: {u}"),
            theme.warn,
        ));
    }
}

fn detail_pane(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    scroll: u16,
    borders: Borders,
    theme: &Theme,
) {
    let name = state
        .resources
        .current()
        .map_or_else(String::new, |(r, _)| {
            format!("{} {} · ", r.kind.label(), r.display_name())
        });
    let block = Block::default()
        .borders(borders | Borders::TOP)
        .border_style(theme.accent)
        .title(Span::styled(
            format!(" {name}j/k scroll · Esc closes "),
            theme.accent,
        ));
    let inner = block.inner(area);
    let lines = detail_lines(state, theme);
    // Never scrolled past the end.
    let total = wrapped_height(&lines, inner.width.max(1));
    let scroll = scroll.min(total.saturating_sub(inner.height));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        area,
    );
}

/// Splits `text` into pieces: the first at most `first` columns wide, the others at most
/// `rest`, broken at spaces where possible (a word longer than a line is cut). Leading spaces
/// stay on the first piece; runs of spaces inside are kept.
pub(crate) fn wrap_hanging(text: &str, first: usize, rest: usize) -> Vec<String> {
    let lead = text.len() - text.trim_start_matches(' ').len();
    let mut out = Vec::new();
    let mut line = " ".repeat(lead);
    let mut used = lead;
    let limit = |out: &Vec<String>| if out.is_empty() { first } else { rest }.max(1);
    for (n, word) in text[lead..].split(' ').enumerate() {
        let w = Span::raw(word).width();
        if n > 0 {
            if used > 0 && used + 1 + w > limit(&out) {
                out.push(std::mem::take(&mut line));
                used = 0;
            } else {
                line.push(' ');
                used += 1;
            }
        }
        for c in word.chars() {
            let cw = Span::raw(c.to_string()).width();
            if used > 0 && used + cw > limit(&out) {
                out.push(std::mem::take(&mut line));
                used = 0;
            }
            line.push(c);
            used += cw;
        }
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

/// The removal run's lines at `width`, and the line of the step running now (if one is).
fn removal_lines(
    state: &State,
    r: &Removal,
    width: u16,
    theme: &Theme,
) -> (Vec<Line<'static>>, Option<usize>) {
    let mut lines = Vec::new();
    let mut running = None;
    for (i, step) in r.plan.steps.iter().enumerate() {
        let st = r.states.get(i).unwrap_or(&StepState::Pending);
        let (mark, style) = match st {
            StepState::Pending => ("·".to_string(), theme.dim),
            StepState::Running => (spinner(state).to_string(), theme.accent),
            StepState::Done(_) => ("✓".to_string(), theme.ok),
            StepState::Failed(_) => ("✗".to_string(), theme.danger),
            StepState::Skipped(_) => ("–".to_string(), theme.dim),
        };
        if *st == StepState::Running && running.is_none() {
            running = Some(lines.len());
        }
        let text_style = match st {
            StepState::Pending | StepState::Skipped(_) => theme.dim,
            StepState::Failed(_) => theme.danger,
            _ => Style::default(),
        };
        let region = &step.target.region;
        let mut spans = vec![
            Span::styled(format!(" {mark} "), style),
            Span::styled(
                format!(
                    "{:>2}. {region:<14} {} {} — {}",
                    i + 1,
                    step.target.kind,
                    step.name,
                    step.action
                ),
                text_style,
            ),
        ];
        match st {
            StepState::Done(d) if !d.is_empty() => {
                spans.push(Span::styled(format!("  {d}"), theme.dim));
            }
            StepState::Skipped(why) => {
                spans.push(Span::styled(format!("  skipped: {why}"), theme.dim));
            }
            StepState::Running => spans.push(Span::styled("  running…", theme.accent)),
            _ => {}
        }
        lines.push(Line::from(spans));
        // A failure's reason gets lines of its own: it is what the operator acts on next.
        if let StepState::Failed(reason) = st {
            let w = usize::from(width).saturating_sub(8);
            for piece in wrap_hanging(reason, w, w) {
                lines.push(Line::styled(format!("       {piece}"), theme.danger));
            }
        }
    }
    (lines, running)
}

fn removal_pane(frame: &mut Frame, area: Rect, state: &State, r: &Removal, theme: &Theme) {
    let mut done = 0;
    let mut failed = 0;
    let mut skipped = 0;
    let mut pending = 0;
    for i in 0..r.plan.steps.len() {
        match r.states.get(i).unwrap_or(&StepState::Pending) {
            StepState::Done(_) => done += 1,
            StepState::Failed(_) => failed += 1,
            StepState::Skipped(_) => skipped += 1,
            StepState::Pending | StepState::Running => pending += 1,
        }
    }
    let state_word = if r.finished {
        "finished — Esc closes".to_string()
    } else {
        format!("running {}", spinner(state))
    };
    let failed_style = if failed > 0 { theme.danger } else { theme.dim };
    let full = |label: bool, hint: bool| {
        let mut spans = vec![Span::styled(" Removal ", theme.title)];
        if label {
            spans.push(Span::styled(format!("· {} ", r.plan.label()), theme.dim));
        }
        spans.extend([
            Span::styled(format!("· {done} done "), theme.ok),
            Span::styled(format!("· {failed} failed "), failed_style),
            Span::styled(format!("· {skipped} skipped "), theme.dim),
            Span::styled(format!("· {pending} pending "), theme.dim),
            Span::styled(format!("· {state_word} "), theme.accent),
        ]);
        if hint && !r.finished {
            spans.push(Span::styled("· PgUp/PgDn scroll ", theme.dim));
        }
        spans
    };
    // The longest title that fits; the counts in symbols as a last resort.
    let compact = vec![
        Span::styled(" Removal ", theme.title),
        Span::styled(format!("✓{done} "), theme.ok),
        Span::styled(format!("✗{failed} "), failed_style),
        Span::styled(format!("–{skipped} "), theme.dim),
        Span::styled(format!("·{pending} "), theme.dim),
        Span::styled(format!("{state_word} "), theme.accent),
    ];
    let title = [full(true, true), full(true, false), full(false, false)]
        .into_iter()
        .find(|t| spans_width(t) <= usize::from(area.width))
        .unwrap_or(compact);
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.accent)
        .title(Line::from(title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let (lines, running) = removal_lines(state, r, inner.width, theme);
    let mut visible = usize::from(inner.height);
    let mut offset = removal_offset(r.scroll, lines.len(), visible, running);
    // While the run follows its running step, a failure above may leave the window: its
    // step stays pinned on the first line, since it is what the operator acts on next.
    let pinned = first_failure(r, theme).filter(|(line, _)| {
        let out = *line < offset || *line >= offset + visible;
        out && visible >= 3
    });
    let mut body = inner;
    if let Some((_, pin)) = pinned {
        visible -= 1;
        offset = removal_offset(r.scroll, lines.len(), visible, running);
        let [top, rest] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
        frame.render_widget(Paragraph::new(pin), top);
        body = rest;
    }
    let offset = u16::try_from(offset).unwrap_or(u16::MAX);
    frame.render_widget(Paragraph::new(lines).scroll((offset, 0)), body);
}

/// The first line shown: the operator's scroll, within the lines, moved only as much as
/// needed to keep the running step in view.
fn removal_offset(scroll: u16, total: usize, visible: usize, running: Option<usize>) -> usize {
    let visible = visible.max(1);
    let mut offset = usize::from(scroll).min(total.saturating_sub(visible));
    if let Some(run) = running {
        if run < offset {
            offset = run;
        } else if run >= offset + visible {
            offset = run + 1 - visible;
        }
    }
    offset
}

/// The first failed step: the line it starts on in the run's lines, and itself on one line
/// with its reason.
fn first_failure(r: &Removal, theme: &Theme) -> Option<(usize, Line<'static>)> {
    let i = r
        .states
        .iter()
        .position(|s| matches!(s, StepState::Failed(_)))?;
    let StepState::Failed(reason) = r.states.get(i)? else {
        return None;
    };
    // Only failures take more than one line, so the first one starts on line `i`.
    Some((
        i,
        Line::styled(format!(" ✗ step {} failed: {reason}", i + 1), theme.danger),
    ))
}
