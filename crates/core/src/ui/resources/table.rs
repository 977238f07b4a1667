//! The inventory table: one row per resource, its verdict, flags and linked events.

use super::*;

/// `11-22 10:17` or, wide, `2026-11-22 10:17Z`.
pub(super) fn created_text(t: Option<Timestamp>, wide: bool) -> String {
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
pub(super) fn flags(r: &Resource, long: bool, theme: &Theme) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    if r.kind.has_termination_protection() && r.protected {
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
pub(super) fn events_text(a: Option<&Attribution>) -> String {
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

pub(super) fn table(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let t = &state.resources;
    if area.height == 0 || area.width == 0 {
        return;
    }
    let n = t.rows.len();
    if n == 0 {
        frame.render_widget(
            Paragraph::new(empty_text(state))
                .style(theme.base)
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

    // With other accounts (`--accounts`) each row says whose it is, third from the left.
    let accounts =
        state.access.members.is_some() || t.resources.iter().any(|r| r.account.is_some());
    let own = state
        .identity
        .data
        .as_ref()
        .map(|i| i.account.clone())
        .unwrap_or_default();
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
    // The ACCOUNT column takes the room of the table's last one (EVENTS wide, CREATED
    // medium), so that ids stay whole.
    let (created, events) = (medium && (wide || !accounts), wide && !accounts);
    let mut headers = headers.to_vec();
    if accounts {
        headers.insert(2, "ACCOUNT");
        if medium {
            headers.pop();
        }
    }
    let mut widths: Vec<Constraint> = if wide {
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
    if accounts {
        widths.insert(2, Constraint::Length(12));
        if medium {
            widths.pop();
        }
        // ID and NAME (indices 5 and 6, after ACCOUNT) share what is left as they do wide.
        if medium && !wide {
            widths[5] = Constraint::Fill(3);
            widths[6] = Constraint::Fill(2);
        }
    }
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
            ];
            if accounts {
                let account = r.account.clone().unwrap_or_else(|| own.clone());
                cells.push(Cell::from(account).style(plain));
            }
            cells.extend([
                Cell::from(r.region.clone()).style(plain),
                Cell::from(r.kind.label()).style(plain),
            ]);
            if medium {
                cells.push(Cell::from(r.id.clone()).style(plain));
            }
            cells.push(Cell::from(Line::from(name)));
            let state_text = if r.state.is_empty() { "-" } else { &r.state };
            cells.push(Cell::from(state_text.to_string()).style(plain));
            if created {
                cells.push(Cell::from(created_text(r.created, wide)).style(plain));
            }
            if events {
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
pub(super) fn empty_text(state: &State) -> String {
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
