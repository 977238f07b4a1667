//! The Keys tab: every access key, the leaked ones first.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};

use crate::app::state::{KeyRow, State};
use crate::domain::{KeyStatus, LastUsed};
use crate::fmt;
use crate::ui::{Theme, freshness, spinner};

/// At this width and up the table shows full words and dates.
const WIDE: u16 = 120;

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let rows = state.key_rows();
    let data = &state.keys.data;
    let snap = data.data.as_ref();

    let mut title = vec![Span::styled(" Keys ", theme.title)];
    if let Some(s) = snap {
        let leaked = state.leaked.len();
        let active = s
            .keys
            .iter()
            .filter(|k| k.status == KeyStatus::Active)
            .count();
        title.push(Span::raw(format!(
            "· {} keys · {} users · {active} active · ",
            s.keys.len(),
            s.users.len()
        )));
        if leaked > 0 {
            title.push(Span::styled(format!("{leaked} leaked"), theme.leaked));
            title.push(Span::raw(" · "));
        }
    }
    if !state.keys.filter.is_empty() {
        title.push(Span::styled(
            format!("filter \"{}\": {} rows · ", state.keys.filter, rows.len()),
            theme.accent,
        ));
    }
    if !state.keys.selected.is_empty() {
        title.push(Span::styled(
            format!("{} selected · ", state.keys.selected.len()),
            theme.accent,
        ));
    }
    title.extend(freshness(state, data));
    title.push(Span::raw(" "));

    let Some(inner) = crate::ui::pane(frame, area, title, theme) else {
        return;
    };

    // Problems first, in words, above the table.
    let mut notes: Vec<Line> = Vec::new();
    if let Some(e) = &data.error {
        let age = data
            .error_at
            .map(|t| format!(" ({} ago)", fmt::ago(state.now, t)))
            .unwrap_or_default();
        let stale = if snap.is_some() {
            "; showing the last good data"
        } else {
            ""
        };
        notes.push(Line::styled(format!(" ⚠ {e}{age}{stale}"), theme.danger));
    }
    if let Some(s) = snap
        && let Some(first) = s.warnings.first()
    {
        let more = if s.warnings.len() > 1 {
            format!(" (+{} more)", s.warnings.len() - 1)
        } else {
            String::new()
        };
        notes.push(Line::styled(format!(" ⚠ {first}{more}"), theme.warn));
    }
    let notes_height = (notes.len() as u16).min(inner.height);
    let notes_area = Rect {
        height: notes_height,
        ..inner
    };
    frame.render_widget(Paragraph::new(notes), notes_area);
    let table_area = Rect {
        y: inner.y + notes_height,
        height: inner.height - notes_height,
        ..inner
    };
    if table_area.height == 0 {
        return;
    }

    if snap.is_none() {
        let text = if data.in_flight {
            format!(
                " {} reading users and access keys from IAM…",
                spinner(state)
            )
        } else if data.error.is_some() {
            " No key data yet. r retries.".to_string()
        } else {
            format!(" {} waiting for AWS…", spinner(state))
        };
        frame.render_widget(Paragraph::new(text).style(theme.base), table_area);
        return;
    }
    if rows.is_empty() {
        let text = if state.keys.filter.is_empty() {
            " This account has no IAM access keys."
        } else {
            " No key matches the filter. Esc clears it."
        };
        frame.render_widget(Paragraph::new(text).style(theme.base), table_area);
        return;
    }

    let wide = area.width >= WIDE;
    // With other accounts (`--accounts`) each key says whose it is; on a narrow screen the
    // creation date gives way to it.
    let accounts = state.access.members.is_some() || rows.iter().any(|r| r.account.is_some());
    let columns = Columns { wide, accounts };
    let header = Row::new(
        columns.keep(
            [
                "",
                "FLAGS",
                "ACCOUNT",
                "USER",
                "ACCESS KEY ID",
                "STATUS",
                "CREATED",
                "LAST USED",
            ]
            .map(|h| Cell::from(h).style(theme.title)),
        ),
    );
    let cursor = state.cursor_index(&rows);
    let table_rows: Vec<Row> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| Row::new(columns.keep(key_row(state, r, cursor == Some(i), wide, theme))))
        .collect();
    let widths = columns.keep(if wide {
        [
            Constraint::Length(2),
            Constraint::Length(24),
            Constraint::Length(12),
            Constraint::Fill(1),
            Constraint::Length(20),
            Constraint::Length(10),
            Constraint::Length(10),
            Constraint::Fill(2),
        ]
    } else {
        [
            Constraint::Length(2),
            Constraint::Length(11),
            Constraint::Length(12),
            Constraint::Fill(1),
            Constraint::Length(20),
            Constraint::Length(8),
            Constraint::Length(10),
            Constraint::Length(9),
        ]
    });
    let table = Table::new(table_rows, widths)
        .header(header)
        .column_spacing(1)
        .row_highlight_style(theme.cursor);
    let mut ts = TableState::default().with_selected(cursor);
    frame.render_stateful_widget(table, table_area, &mut ts);
}

/// Which of the table's columns are drawn.
#[derive(Clone, Copy)]
struct Columns {
    wide: bool,
    /// The ACCOUNT column (the third).
    accounts: bool,
}

impl Columns {
    const ACCOUNT: usize = 2;
    const CREATED: usize = 6;

    fn keep<T>(self, all: [T; 8]) -> Vec<T> {
        all.into_iter()
            .enumerate()
            .filter(|(i, _)| match *i {
                Self::ACCOUNT => self.accounts,
                Self::CREATED => self.wide || !self.accounts,
                _ => true,
            })
            .map(|(_, c)| c)
            .collect()
    }
}

/// Every column's cell for one key, ACCOUNT and CREATED included.
fn key_row<'a>(
    state: &State,
    r: &KeyRow,
    at_cursor: bool,
    wide: bool,
    theme: &Theme,
) -> [Cell<'a>; 8] {
    let selected = state.keys.selected.contains(&r.key_id);
    let mark = match (at_cursor, selected) {
        (true, true) => "▶●",
        (true, false) => "▶ ",
        (false, true) => " ●",
        (false, false) => "  ",
    };
    let f = r.flags;
    let mut flags: Vec<Span> = Vec::new();
    let quar = if wide { "QUARANTINED" } else { "QUAR" };
    for (on, word, style) in [
        (f.leaked, "LEAKED", theme.leaked),
        (f.new, "NEW", theme.new),
        (f.rotated, "ROTATED", theme.ok),
        (f.quarantined, quar, theme.quarantined),
        (f.self_key, "SELF", theme.self_key),
    ] {
        if on {
            flags.push(Span::styled(word, style));
            flags.push(Span::raw(" "));
        }
    }
    let row_style = if f.leaked {
        theme.leaked
    } else {
        Style::default()
    };
    // This account's id, or the other account's the key is in.
    let account = r
        .account
        .clone()
        .or_else(|| state.identity.data.as_ref().map(|i| i.account.clone()))
        .unwrap_or_default();

    let Some(k) = &r.key else {
        let owner = match &r.foreign_account {
            Some(a) if wide => format!("owned by account {a}"),
            Some(a) => format!("acct {a}"),
            None => "owner: looking up".to_string(),
        };
        return [
            Cell::from(mark),
            Cell::from(Line::from(flags)),
            Cell::from(account),
            Cell::from("(not in IAM)").style(theme.warn),
            Cell::from(r.key_id.clone()).style(row_style),
            Cell::from(if wide { "not listed" } else { "unknown" }).style(theme.warn),
            Cell::from("-"),
            Cell::from(owner).style(theme.warn),
        ];
    };
    let status_style = match k.status {
        KeyStatus::Active if f.leaked => theme.danger,
        KeyStatus::Active => theme.ok,
        KeyStatus::Inactive => theme.base,
    };
    let last_used = match &k.last_used {
        LastUsed::Never => "never".to_string(),
        LastUsed::Unknown => "?".to_string(),
        LastUsed::At {
            when,
            service,
            region,
        } => {
            if wide {
                format!("{} ago · {service} · {region}", fmt::ago(state.now, *when))
            } else {
                format!("{} ago", fmt::ago(state.now, *when))
            }
        }
    };
    [
        Cell::from(mark),
        Cell::from(Line::from(flags)),
        Cell::from(account),
        Cell::from(k.user.clone()),
        Cell::from(k.key_id.clone()).style(row_style),
        Cell::from(k.status.as_str()).style(status_style),
        Cell::from(fmt::date(k.created)),
        Cell::from(last_used),
    ]
}
