//! The removal run's pane: each step as it runs, what it needs, and the first failure.

use super::*;
use crate::app::resources::kept_of;
use crate::resources::evidence::{EVIDENCE_DIR, ManifestEntry};
use crate::resources::plan::Purpose;

/// The removal run's lines at `width`, and the line of the step running now (if one is).
pub(super) fn removal_lines(
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
    let kept: Vec<&ManifestEntry> = state
        .resources
        .evidence
        .iter()
        .filter(|e| r.plan.steps.iter().any(|s| kept_of(e, &s.target)))
        .collect();
    if !kept.is_empty() {
        let files = kept.iter().filter(|e| e.file.is_some()).count();
        let snaps: Vec<&str> = kept
            .iter()
            .filter_map(|e| e.snapshot_id.as_deref())
            .collect();
        let mut text = format!(
            " Evidence kept: {files} file{} in {}/",
            if files == 1 { "" } else { "s" },
            EVIDENCE_DIR
        );
        if !snaps.is_empty() {
            text.push_str(&format!(", snapshots {}", snaps.join(", ")));
        }
        let w = usize::from(width).saturating_sub(2);
        for piece in wrap_hanging(&text, w, w.saturating_sub(3)) {
            lines.push(Line::styled(piece, theme.ok));
        }
    } else if r.plan.skipped_evidence {
        lines.push(Line::styled(
            " No evidence kept: the operator chose to skip it for this plan.",
            theme.warn,
        ));
    }
    (lines, running)
}

/// The pane's title word: what the plan is for.
fn title_word(r: &Removal) -> &'static str {
    match r.plan.purpose {
        Purpose::Remove => " Removal ",
        Purpose::Isolate => " Isolation ",
        Purpose::KeepOnly => " Evidence ",
    }
}

pub(super) fn removal_pane(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    r: &Removal,
    theme: &Theme,
) {
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
    let failed_style = if failed > 0 { theme.danger } else { theme.base };
    let full = |label: bool, hint: bool| {
        let mut spans = vec![Span::styled(title_word(r), theme.title)];
        if label {
            spans.push(Span::styled(format!("· {} ", r.plan.label()), theme.base));
        }
        spans.extend([
            Span::styled(format!("· {done} done "), theme.ok),
            Span::styled(format!("· {failed} failed "), failed_style),
            Span::styled(format!("· {skipped} skipped "), theme.base),
            Span::styled(format!("· {pending} pending "), theme.base),
            Span::styled(format!("· {state_word} "), theme.accent),
        ]);
        if hint && !r.finished {
            spans.push(Span::styled("· PgUp/PgDn scroll ", theme.base));
        }
        spans
    };
    // The longest title that fits; the counts in symbols as a last resort.
    let compact = vec![
        Span::styled(title_word(r), theme.title),
        Span::styled(format!("✓{done} "), theme.ok),
        Span::styled(format!("✗{failed} "), failed_style),
        Span::styled(format!("–{skipped} "), theme.base),
        Span::styled(format!("·{pending} "), theme.base),
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
pub(super) fn removal_offset(
    scroll: u16,
    total: usize,
    visible: usize,
    running: Option<usize>,
) -> usize {
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
pub(super) fn first_failure(r: &Removal, theme: &Theme) -> Option<(usize, Line<'static>)> {
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
