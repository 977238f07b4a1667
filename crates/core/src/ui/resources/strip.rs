//! The region strip over the table: one cell per region, packed into lines, and the
//! failures and unavailable kinds in words.

use super::*;

/// The name a region goes by in the strip: IAM lives in `global`.
pub(super) fn strip_name(region: &str) -> &str {
    if region == GLOBAL { "IAM" } else { region }
}

/// Failed and unavailable kinds of one region, from its last sweep.
pub(super) fn cell_problems(t: &ResourcesTab, region: &str) -> (usize, usize) {
    t.regions.get(region).map_or((0, 0), |s| {
        s.cells.iter().fold((0, 0), |(f, u), (_, c)| match c {
            CellState::Ok(_) => (f, u),
            CellState::Failed(_) => (f + 1, u),
            CellState::Unavailable(_) => (f, u + 1),
        })
    })
}

/// One region's cell in the strip.
pub(super) fn strip_cell(state: &State, s: &RegionSummary, theme: &Theme) -> Vec<Span<'static>> {
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
        theme.base
    };
    spans.push(Span::styled(format!(" {}", s.suspicious), count_style));
    spans.push(Span::styled(format!("/{}", s.total), theme.base));
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
pub(super) fn strip_rank(state: &State, s: &RegionSummary) -> u8 {
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
pub(super) fn strip_lines(
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
pub(super) fn pack(
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
            current.push(Span::styled(text, theme.base));
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
pub(super) fn region_list(regions: &[&str]) -> String {
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
pub(super) fn problem_lines(state: &State, width: usize, theme: &Theme) -> Vec<Line<'static>> {
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
            theme.base,
        ));
    }
    lines
}
