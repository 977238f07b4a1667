//! The services and regions that jumped, side by side when there is room.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, HighlightSpacing, Paragraph, Row, Table, TableState};

use crate::app::cost::{CostTab, Focus};
use crate::fmt;
use crate::ui::Theme;
use crate::ui::layout;

use super::{REGIONS_WIDTH, focus_heading, short_service};

/// The width a table needs for all its columns (name, before, since, delta, peak, flags).
const FULL_WIDTH: u16 = 14 + 3 * 9 + 12 + 10 + 5;

/// Whether the services and regions tables go side by side at inner width `width`: only when
/// both keep all their columns (two full tables and the gap), else one above the other.
pub(super) fn side_by_side(width: u16) -> bool {
    width >= 2 * FULL_WIDTH + 2
}

/// Whether the tables lose columns at inner width `width` (a narrow terminal): the pane's
/// bottom edge then says so.
pub(super) fn columns_cut(width: u16) -> bool {
    !side_by_side(width) && width < FULL_WIDTH
}

pub(super) fn tables(frame: &mut Frame, area: Rect, c: &CostTab, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    if side_by_side(area.width) {
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
    let full = w >= usize::from(FULL_WIDTH);
    let mid = w >= 12 + 2 * 9 + 10 + 3;
    let small = w >= 10 + 9 + 6 + 2;
    let mut widths: Vec<Constraint> = vec![Constraint::Min(1)];
    let mut header: Vec<Cell> = Vec::new();
    let (mark, head_style) = focus_heading(focused, theme, theme.base);
    let right = |t: &str| Cell::from(Line::from(t.to_string()).right_aligned());
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

    let fixed = layout::fixed_columns_width(&widths[1..]);
    let key_w = w.saturating_sub(fixed + 1).max(1);
    // The rows under the heading, and the first one shown: the cursor's row stays in view.
    let visible = usize::from(area.height.saturating_sub(1)).max(1);
    let selected = focused.then(|| c.scroll.min(rows.len().saturating_sub(1)));
    let offset = selected.map_or(0, |s| (s + 1).saturating_sub(visible));
    let shown = Shown {
        n: rows.len(),
        offset,
        visible,
    };
    header.insert(0, Cell::from(heading(mark, name, shown, focused, key_w)));

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
            let key = layout::fit(&key, key_w);
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
                cells.push(num(fmt::money(r.baseline), theme.dim));
            }
            if mid {
                cells.push(num(fmt::money(r.since), theme.base));
            }
            if small {
                cells.push(num(fmt::signed_money(r.delta), delta_style));
            }
            if full {
                let peak = match r.peak_day {
                    Some(d) => format!("{} {}", fmt::money(r.peak), fmt::month_day(d)),
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
                theme.base,
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
    let mut ts = TableState::default()
        .with_offset(offset)
        .with_selected(selected);
    frame.render_stateful_widget(table, area, &mut ts);
}

/// Which of a table's `n` rows are on screen: `visible` of them from `offset`.
#[derive(Debug, Clone, Copy)]
struct Shown {
    n: usize,
    offset: usize,
    visible: usize,
}

/// A table's heading: its name and count, and, when its rows do not all fit, which ones are
/// shown and how to reach the rest ("▸ Service 1–4 of 7 ↓ j": the cursor scrolls it; "Region
/// 1–3 of 6 ↓ c": `c` gives it the cursor first). The longest form that fits `width`.
fn heading(mark: &str, name: &str, shown: Shown, focused: bool, width: usize) -> String {
    let Shown { n, offset, visible } = shown;
    if n <= visible {
        return format!("{mark}{name} ({n})");
    }
    let (first, last) = (offset + 1, (offset + visible).min(n));
    let arrow = match (offset > 0, last < n) {
        (true, true) => "↕",
        (true, false) => "↑",
        _ => "↓",
    };
    let how = if focused { "j/k" } else { "c" };
    [
        format!("{mark}{name} {first}–{last} of {n} {arrow} {how}"),
        format!("{mark}{name} {first}–{last} of {n} {arrow}"),
        format!("{mark}{name} {first}–{last}/{n}{arrow}"),
        format!("{mark}{last}/{n}{arrow}"),
    ]
    .into_iter()
    .find(|t| Span::raw(t.as_str()).width() <= width)
    .unwrap_or_else(|| format!("{last}/{n}{arrow}"))
}
