//! The permissions view: "what can it still do?" for one foothold or principal. The grid's
//! words are read from the back of the room: ALLOW in red capitals, deny in green, COND in
//! yellow, never a colour alone (the word says it too).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::access::authz::{self, Cell, Word, catalogue};
use crate::app::perms::{PermsView, Sim};
use crate::app::state::State;
use crate::fmt;
use crate::ui::layout::wrap_hanging;
use crate::ui::{Theme, pane};

/// The group heading's column.
const HEADING: usize = 15;

/// A cell's word, five columns wide.
fn word_text(w: Word) -> &'static str {
    match w {
        Word::Allowed => "ALLOW",
        Word::Denied => "deny ",
        Word::Conditional => "COND ",
    }
}

fn word_span(w: Word, theme: &Theme) -> Span<'static> {
    let style = match w {
        Word::Allowed => theme.danger,
        Word::Denied => theme.ok,
        Word::Conditional => theme.warn,
    };
    Span::styled(word_text(w), style)
}

fn counts(grid: &[Cell]) -> (usize, usize, usize) {
    let n = |w: Word| grid.iter().filter(|c| c.verdict.word() == w).count();
    (n(Word::Allowed), n(Word::Conditional), n(Word::Denied))
}

/// The grid, group by group: each cell is `WORD action`, flowed across the width; and the
/// line the cursor's cell is on.
fn grid_lines(v: &PermsView, width: usize, theme: &Theme) -> (Vec<Line<'static>>, usize) {
    let mut lines = Vec::new();
    let mut cursor_line = 0usize;
    let mut n = 0usize;
    for g in catalogue::GROUPS {
        let mut line: Vec<Span<'static>> = vec![Span::styled(
            format!(" {:<w$}", g.heading, w = HEADING - 1),
            theme.title,
        )];
        let mut used = HEADING;
        for _ in g.actions {
            let Some(c) = v.grid.get(n) else { break };
            let here = n == v.cell;
            n += 1;
            let text = format!(" {}", c.action);
            let cell_width = 5 + text.chars().count() + 2;
            if used + cell_width > width && used > HEADING {
                lines.push(Line::from(std::mem::take(&mut line)));
                line.push(Span::raw(" ".repeat(HEADING)));
                used = HEADING;
            }
            if here {
                cursor_line = lines.len();
            }
            line.push(if here {
                Span::styled(word_text(c.verdict.word()), theme.cursor)
            } else {
                word_span(c.verdict.word(), theme)
            });
            line.push(Span::styled(
                text,
                if here { theme.cursor } else { Style::default() },
            ));
            line.push(Span::raw("  "));
            used += cell_width;
        }
        lines.push(Line::from(line));
    }
    (lines, cursor_line)
}

fn sim_lines(v: &PermsView, state: &State, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let text: (String, Style) = match &v.sim {
        Sim::NotAsked => (
            "IAM's simulator: not asked (the principal is not in the last IAM poll)".into(),
            Style::default(),
        ),
        Sim::Asking => ("IAM's simulator: asking…".into(), Style::default()),
        Sim::Failed(f) => (
            format!(
                "IAM's simulator: not available ({}): the grid is keyspill's own evaluation",
                f.text
            ),
            theme.warn,
        ),
        Sim::Got { at, results } => {
            let differ = authz::disagreements(&v.principal_grid, results);
            if differ.is_empty() {
                (
                    format!(
                        "IAM's simulator agrees on {} action(s) for {} ({} ago; conditional \
                         cells are not compared)",
                        results.len(),
                        v.subject.who,
                        fmt::ago(state.now, *at)
                    ),
                    theme.ok,
                )
            } else {
                let list: Vec<String> = differ
                    .iter()
                    .map(|(c, s)| {
                        format!(
                            "{}: here {}, simulator {}",
                            c.action,
                            c.verdict.word().as_str(),
                            s.as_str()
                        )
                    })
                    .collect();
                (
                    format!(
                        "IAM's simulator DISAGREES on {} action(s) for {}: {}",
                        differ.len(),
                        v.subject.who,
                        authz::list(&list, 4)
                    ),
                    theme.danger,
                )
            }
        }
    };
    wrap_hanging(&text.0, width, width.saturating_sub(2))
        .into_iter()
        .map(|l| Line::from(Span::styled(format!(" {l}"), text.1)))
        .collect()
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme, v: &PermsView) {
    let title = vec![
        Span::styled(" What it can still do: ", theme.title),
        Span::styled(format!("{} ", v.title), theme.title),
    ];
    let Some(inner) = pane(frame, area, title, theme) else {
        return;
    };
    let width = usize::from(inner.width).max(40);
    let mut lines: Vec<Line<'static>> = Vec::new();
    if let Some(why) = &v.missing {
        lines.push(Line::from(Span::styled(format!(" {why}"), theme.warn)));
        frame.render_widget(Paragraph::new(lines), inner);
        return;
    }
    let (allowed, conditional, denied) = counts(&v.grid);
    lines.push(Line::from(vec![
        Span::raw(" "),
        Span::styled(format!("{allowed} ALLOWED"), theme.danger),
        Span::raw(" · "),
        Span::styled(format!("{conditional} conditional"), theme.warn),
        Span::raw(" · "),
        Span::styled(format!("{denied} denied"), theme.ok),
        Span::raw("   identity policies only (not SCPs, resource or session policies)"),
    ]));
    if let Some(c) = v.grid.get(v.cell) {
        let text = format!("{}: {}", c.action, c.verdict.detail());
        for (i, part) in wrap_hanging(&text, width.saturating_sub(3), width.saturating_sub(5))
            .into_iter()
            .enumerate()
        {
            lines.push(Line::from(vec![
                Span::raw(if i == 0 { " ▶ " } else { "   " }),
                Span::styled(part, theme.title),
            ]));
        }
    }
    lines.extend(sim_lines(v, state, width.saturating_sub(1), theme));

    // Below the fixed part (counts, the cell under the cursor, the simulator): the grid,
    // escalation, then roles; this part scrolls.
    let (mut more, cursor_line) = grid_lines(v, width, theme);
    more.push(Line::from(Span::styled(
        format!(" Escalation paths ({})", v.reach.paths.len()),
        theme.title,
    )));
    if v.reach.paths.is_empty() {
        more.push(Line::raw("   none of the known paths is open"));
    }
    for p in &v.reach.paths {
        let targets: Vec<String> = p
            .targets
            .iter()
            .map(|t| {
                if t.admin {
                    format!("{} (ADMIN)", t.name)
                } else {
                    t.name.clone()
                }
            })
            .collect();
        let mut reach = targets.join(", ");
        if p.more > 0 {
            reach.push_str(&format!(" and {} more", p.more));
        }
        let needs: Vec<String> = p
            .needs
            .iter()
            .map(|(a, w)| format!("{a} {}", w.as_str()))
            .collect();
        let text = format!("{} → {reach}; needs {}", p.method, needs.join(", "));
        for (i, part) in wrap_hanging(&text, width.saturating_sub(9), width.saturating_sub(11))
            .into_iter()
            .enumerate()
        {
            let head = if i == 0 {
                vec![Span::raw("   "), word_span(p.word, theme), Span::raw(" ")]
            } else {
                vec![Span::raw("         ")]
            };
            let mut spans = head;
            spans.push(Span::raw(part));
            more.push(Line::from(spans));
        }
    }
    more.push(Line::from(Span::styled(
        format!(" Roles it can assume ({})", v.reach.assumable.len()),
        theme.title,
    )));
    if v.reach.assumable.is_empty() {
        more.push(Line::raw("   none"));
    }
    for h in &v.reach.assumable {
        let mut spans = vec![Span::raw("   "), word_span(h.word, theme), Span::raw(" ")];
        spans.push(Span::raw(h.role.clone()));
        if h.admin {
            spans.push(Span::styled(" (ADMIN)", theme.danger));
        }
        if let Some(via) = &h.via {
            spans.push(Span::raw(format!("  via {via}")));
        }
        more.push(Line::from(spans));
    }
    let room = usize::from(inner.height).saturating_sub(lines.len());
    let max_scroll = more.len().saturating_sub(room);
    // The operator's scroll, moved as little as needed to keep the cursor's cell in sight.
    let mut scroll = usize::from(v.scroll);
    if cursor_line < scroll {
        scroll = cursor_line;
    } else if room > 0 && cursor_line >= scroll + room {
        scroll = cursor_line + 1 - room;
    }
    let scroll = scroll.min(max_scroll);
    lines.extend(more.into_iter().skip(scroll));
    frame.render_widget(Paragraph::new(lines), inner);
}
