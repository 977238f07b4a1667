//! The Timeline tab: everything the leaked keys (and what they minted) did, newest first.

use std::collections::BTreeMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, TableState, Wrap};

use crate::app::state::State;
use crate::app::timeline::{SourceState, TimelineTab};
use crate::domain::{Timestamp, key_short};
use crate::fmt;
use crate::timeline::{Event, Severity};
use crate::ui::{Theme, spinner};

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let t = &state.timeline;
    let total = t.store.len();
    let shown = t.store.view_len();
    let mut title = vec![
        Span::styled(" Timeline ", theme.title),
        Span::raw(format!("· {total} events ")),
    ];
    if shown != total || !t.text.is_empty() {
        title.push(Span::styled(format!("· {shown} shown "), theme.accent));
    }
    if t.quick != crate::timeline::store::Quick::All {
        title.push(Span::styled(
            format!("· {} ", t.quick.label()),
            theme.accent,
        ));
    }
    if !t.text.is_empty() {
        title.push(Span::styled(
            format!("· filter \"{}\" ", t.text),
            theme.accent,
        ));
    }
    if let Some(k) = &t.branch {
        title.push(Span::styled(
            format!("· branch of {} ", key_short(k)),
            theme.accent,
        ));
    }
    if t.follow {
        title.push(Span::styled("· following newest ", theme.dim));
    }
    match t.last_update {
        Some(at) => title.push(Span::raw(format!(
            "· updated {} ago",
            fmt::ago(state.now, at)
        ))),
        None => title.push(Span::raw("· nothing yet")),
    }
    if t.loading() {
        title.push(Span::raw(format!(" {}", spinner(state))));
    }
    title.push(Span::raw(" "));
    let Some(inner) = crate::ui::pane(frame, area, title, theme) else {
        return;
    };

    let mut top: Vec<Line> = summary_lines(state, t, theme);
    top.extend(source_lines(state, t, theme));
    // The strips wrap rather than lose their ends, within half the pane.
    let top_height = crate::ui::wrapped_height(&top, inner.width).min((inner.height / 2).max(1));
    let [top_area, table_area] =
        ratatui::layout::Layout::vertical([Constraint::Length(top_height), Constraint::Min(0)])
            .areas(inner);
    frame.render_widget(Paragraph::new(top).wrap(Wrap { trim: false }), top_area);
    if table_area.height > 1 {
        table(frame, table_area, state, t, theme);
    }
    if let Some(scroll) = t.detail {
        record(frame, area, state, t, scroll, theme);
    }
}

fn summary_lines(state: &State, t: &TimelineTab, theme: &Theme) -> Vec<Line<'static>> {
    let s = t.store.summary();
    if s.events == 0 {
        return vec![Line::styled(
            " No events yet for the tracked keys.".to_string(),
            theme.dim,
        )];
    }
    let when = |x: Option<Timestamp>| x.map_or("-".to_string(), |t| stamp(state, t, true));
    let derived = t.chains.len().saturating_sub(state.leaked.len());
    let first = Line::from(vec![
        Span::styled(" first ", theme.dim),
        Span::raw(when(s.first)),
        Span::styled("  last ", theme.dim),
        Span::raw(when(s.last)),
        Span::styled("  · ", theme.dim),
        Span::raw(format!("{} events", s.events)),
        Span::styled(
            format!(" ({} failed)", s.errors),
            if s.errors > 0 { theme.warn } else { theme.dim },
        ),
        Span::styled("  · ", theme.dim),
        Span::styled(
            format!("{derived} derived keys"),
            if derived > 0 { theme.warn } else { theme.dim },
        ),
        Span::styled("  · ", theme.dim),
        Span::raw(format!("{} regions", s.regions.len())),
        Span::styled("  · ", theme.dim),
        Span::raw(format!("{} source IPs", s.source_ips.len())),
        Span::styled("  · ", theme.dim),
        Span::raw(format!("{} user agents", s.user_agents.len())),
    ]);
    let mut tactics = vec![Span::styled(" tactics ", theme.dim)];
    if s.tactics.is_empty() {
        tactics.push(Span::styled("none flagged", theme.dim));
    }
    for (tactic, n) in &s.tactics {
        tactics.push(Span::styled(
            format!("{} {n}", tactic.label()),
            theme.danger,
        ));
        tactics.push(Span::raw("  "));
    }
    let regions: Vec<&str> = s.regions.iter().map(|r| &**r).collect();
    let regions = Line::from(vec![
        Span::styled(" regions ", theme.dim),
        Span::raw(regions.join(" ")),
    ]);
    vec![first, Line::from(tactics), regions]
}

fn state_word(state: &State, s: &SourceState) -> (String, bool) {
    match s {
        SourceState::Waiting => ("waiting".into(), false),
        SourceState::Loading => (format!("loading {}", spinner(state)), false),
        SourceState::Live => ("history loaded, polling".into(), false),
        SourceState::Done => ("done".into(), false),
        SourceState::Error(e) => (e.text.clone(), true),
    }
}

fn source_lines(state: &State, t: &TimelineTab, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if !t.regions.is_empty() {
        let done = t
            .regions
            .values()
            .filter(|r| matches!(r.state, SourceState::Done | SourceState::Live))
            .count();
        let pages: u32 = t.regions.values().map(|r| r.pages).sum();
        let throttled: u32 = t.regions.values().map(|r| r.throttled).sum();
        let failed = t
            .regions
            .values()
            .filter(|r| matches!(r.state, SourceState::Error(_)))
            .count();
        let spans = vec![
            Span::styled(" LookupEvents ", theme.title),
            Span::raw(format!(
                "{done}/{} regions loaded · {pages} pages · {throttled} throttled (retried) · ",
                t.regions.len()
            )),
            Span::styled(
                format!("{failed} failed"),
                if failed > 0 { theme.danger } else { theme.dim },
            ),
        ];
        lines.push(Line::from(spans));
        // Region by region: pages so far, and where it stands.
        let mut regions = vec![Span::raw(" ")];
        for (region, r) in &t.regions {
            let (mark, style) = match &r.state {
                SourceState::Waiting => ("·".to_string(), theme.dim),
                SourceState::Loading => (spinner(state).to_string(), theme.accent),
                SourceState::Live | SourceState::Done => ("✓".to_string(), theme.ok),
                SourceState::Error(_) => ("✗".to_string(), theme.danger),
            };
            regions.push(Span::styled(format!("{region} {mark}{} ", r.pages), style));
        }
        lines.push(Line::from(regions));
        // The same failure in many regions is said once.
        let mut errors: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (region, r) in &t.regions {
            if let SourceState::Error(e) = &r.state {
                errors
                    .entry(e.text.as_str())
                    .or_default()
                    .push(region.as_str());
            }
        }
        for (e, regions) in errors {
            let which = if regions.len() > 3 {
                format!("{} regions", regions.len())
            } else {
                regions.join(", ")
            };
            lines.push(Line::styled(format!("   ✗ {which}: {e}"), theme.danger));
        }
    }
    let tr = &t.trails;
    if tr.state != SourceState::Waiting || tr.trails > 0 {
        let (word, bad) = state_word(state, &tr.state);
        let mut spans = vec![
            Span::styled(" Trail logs ", theme.title),
            Span::raw(format!(
                "{} trails · {}/{} objects · {} events · {} skipped · ",
                tr.trails, tr.fetched, tr.objects, tr.events, tr.skipped
            )),
            Span::styled(word, if bad { theme.danger } else { theme.dim }),
        ];
        if let Some(p) = tr.problems.first() {
            spans.push(Span::styled(format!(" · {p}"), theme.warn));
        }
        lines.push(Line::from(spans));
    }
    let f = &t.files;
    if f.state != SourceState::Waiting || f.files > 0 {
        let (word, bad) = state_word(state, &f.state);
        let mut spans = vec![
            Span::styled(" Files ", theme.title),
            Span::raw(format!("{} files · {} events · ", f.files, f.events)),
            Span::styled(
                if f.skipped == 0 {
                    "0 skipped".to_string()
                } else {
                    format!("{} skipped in {} files", f.skipped, f.skipped_files)
                },
                if f.skipped == 0 {
                    theme.dim
                } else {
                    theme.warn
                },
            ),
            Span::raw(" · "),
            Span::styled(word, if bad { theme.danger } else { theme.dim }),
        ];
        if let Some(first) = f.reasons.first() {
            spans.push(Span::styled(format!(" · {first}"), theme.warn));
        }
        lines.push(Line::from(spans));
    }
    lines
}

/// A time as the operator chose: UTC, or local with its offset.
fn stamp(state: &State, t: Timestamp, with_date: bool) -> String {
    let t = if state.timeline.local_time {
        t.to_offset(state.settings.local_offset)
    } else {
        t
    };
    let zone = if state.timeline.local_time { "" } else { "Z" };
    if with_date {
        format!("{} {}{zone}", fmt::date(t), fmt::clock_time(t))
    } else {
        format!("{}{zone}", fmt::clock_time(t))
    }
}

fn severity_style(theme: &Theme, s: Severity) -> Style {
    match s {
        Severity::Critical | Severity::High => theme.danger,
        Severity::Medium => theme.warn,
        Severity::Low => theme.accent,
        Severity::Info => theme.dim,
    }
}

/// Who made the call: the chain for tracked keys, else the key or the ARN's tail.
fn identity(t: &TimelineTab, e: &Event, wide: bool) -> String {
    if wide && let Some(chain) = t.chains.get(&*e.access_key_id) {
        return chain.clone();
    }
    if !e.access_key_id.is_empty() {
        return key_short(&e.access_key_id);
    }
    e.identity_arn
        .rsplit(':')
        .next()
        .unwrap_or(&e.identity_arn)
        .to_string()
}

fn short_agent(ua: &str) -> &str {
    // The first product token says most: `aws-cli/2.15.0`, `Boto3/1.34`, `TruffleHog`.
    ua.split_whitespace().next().unwrap_or(ua)
}

fn table(frame: &mut Frame, area: Rect, state: &State, t: &TimelineTab, theme: &Theme) {
    let n = t.store.view_len();
    if n == 0 {
        let text = if t.store.is_empty() {
            " Events appear here as the sources deliver them."
        } else {
            " No event matches. Esc clears the filter, f cycles the quick filters."
        };
        frame.render_widget(Paragraph::new(text).style(theme.dim), area);
        return;
    }
    let rows_visible = usize::from(area.height.saturating_sub(1)).max(1);
    let cursor = t.cursor.min(n - 1);
    let offset = cursor.saturating_sub(rows_visible - 1);
    let width = area.width;
    let wide = width >= 170;
    let medium = width >= 120;

    let headers: &[&str] = if wide {
        &[
            "TIME",
            "REGION",
            "SERVICE",
            "EVENT",
            "IDENTITY",
            "SOURCE IP",
            "USER AGENT",
            "ERROR",
            "TACTIC",
        ]
    } else if medium {
        &[
            "TIME",
            "REGION",
            "SERVICE",
            "EVENT",
            "IDENTITY",
            "SOURCE IP",
            "ERROR",
            "TACTIC",
        ]
    } else {
        &["TIME", "REGION", "EVENT", "IDENTITY", "TACTIC"]
    };
    let widths: Vec<Constraint> = if wide {
        vec![
            Constraint::Length(20),
            Constraint::Length(14),
            Constraint::Length(10),
            Constraint::Length(26),
            Constraint::Fill(2),
            Constraint::Length(15),
            Constraint::Length(18),
            Constraint::Length(16),
            Constraint::Length(15),
        ]
    } else if medium {
        vec![
            Constraint::Length(20),
            Constraint::Length(14),
            Constraint::Length(10),
            Constraint::Length(24),
            Constraint::Fill(1),
            Constraint::Length(15),
            Constraint::Length(14),
            Constraint::Length(15),
        ]
    } else {
        vec![
            Constraint::Length(9),
            Constraint::Length(12),
            Constraint::Length(20),
            Constraint::Fill(1),
            Constraint::Length(12),
        ]
    };
    let rows: Vec<Row> = (offset..(offset + rows_visible).min(n))
        .filter_map(|i| t.store.view_get(i))
        .map(|e| {
            let tactic = match &e.risk {
                Some(r) => Cell::from(r.tactic.label()).style(severity_style(theme, r.severity)),
                None => Cell::from(""),
            };
            let error = match &e.error_code {
                Some(c) => Cell::from(&**c).style(theme.warn),
                None if e.error_message.is_some() => Cell::from("failed").style(theme.warn),
                None => Cell::from(""),
            };
            let name = if t.evidence.contains(&*e.id) {
                format!("★ {}", e.name)
            } else {
                e.name.to_string()
            };
            let name_style = e
                .risk
                .as_ref()
                .map_or(Style::default(), |r| severity_style(theme, r.severity));
            let mut cells = vec![
                Cell::from(stamp(state, e.time, medium)),
                Cell::from(&*e.region),
            ];
            if medium {
                cells.push(Cell::from(e.service_short().to_string()));
            }
            cells.push(Cell::from(name).style(name_style));
            cells.push(Cell::from(identity(t, e, medium)));
            if medium {
                cells.push(Cell::from(&*e.source_ip));
            }
            if wide {
                cells.push(Cell::from(short_agent(&e.user_agent).to_string()));
            }
            if medium {
                cells.push(error);
            }
            cells.push(tactic);
            Row::new(cells)
        })
        .collect();
    let header = Row::new(headers.iter().map(|h| Cell::from(*h).style(theme.title)));
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .row_highlight_style(theme.cursor)
        .highlight_symbol("▶");
    let mut ts = TableState::default().with_selected(Some(cursor - offset));
    frame.render_stateful_widget(table, area, &mut ts);
}

/// The raw record, pretty-printed and scrollable.
fn record(
    frame: &mut Frame,
    area: Rect,
    state: &State,
    t: &TimelineTab,
    scroll: u16,
    theme: &Theme,
) {
    let Some(e) = t.selected() else {
        return;
    };
    let rect = Rect {
        x: area.x + 2.min(area.width / 4),
        y: area.y + 1.min(area.height / 4),
        width: area.width.saturating_sub(4).max(1),
        height: area.height.saturating_sub(2).max(1),
    };
    let pretty = serde_json::from_str::<serde_json::Value>(&e.raw)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| e.raw.to_string());
    let mut lines = vec![
        Line::from(vec![
            Span::styled(" chain  ", theme.dim),
            Span::raw(
                t.chains
                    .get(&*e.access_key_id)
                    .cloned()
                    .unwrap_or_else(|| e.access_key_id.to_string()),
            ),
        ]),
        Line::from(vec![
            Span::styled(" from   ", theme.dim),
            Span::raw(e.origin.to_string()),
        ]),
    ];
    if let Some(r) = &e.risk {
        lines.push(Line::from(vec![
            Span::styled(" risk   ", theme.dim),
            Span::styled(
                format!(
                    "{} {} (rule {})",
                    r.severity.label(),
                    r.tactic.label(),
                    r.rule
                ),
                severity_style(theme, r.severity),
            ),
        ]));
    }
    lines.push(Line::raw(""));
    lines.extend(pretty.lines().map(|l| Line::raw(format!(" {l}"))));
    let title = format!(
        " {} {} · {} · j/k scroll · m evidence · Esc closes ",
        e.name,
        stamp(state, e.time, true),
        e.id
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.accent)
        .style(theme.base)
        .title(Span::styled(title, theme.accent));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        rect,
    );
}
