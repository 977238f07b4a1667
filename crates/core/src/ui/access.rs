//! The Access tab: every foothold the attacker holds or held, open first, each with its state
//! in words, why, how the model knows it is the attacker's, and what closes it.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use crate::access::{FootState, Foothold, Remedy, Verified};
use crate::app::state::State;
use crate::fmt;
use crate::ui::layout::wrap_hanging;
use crate::ui::{Theme, freshness, pane};

/// Where the why and the origin start, under the kind column.
const INDENT: &str = "         ";

fn state_style(s: FootState, theme: &Theme) -> Style {
    match s {
        FootState::Open => theme.danger,
        FootState::Reduced => theme.warn,
        FootState::Closed => theme.ok,
    }
}

/// What the row's keys do, in words. `elsewhere`: the foothold is in another account, where
/// `d` acts through that account's session and `x` (this account's sessions) does not reach.
fn remedy_words(f: &Foothold, elsewhere: bool) -> Option<&'static str> {
    if f.state == FootState::Closed {
        return None;
    }
    Some(match f.remedy.as_ref()? {
        Remedy::DisableKey { .. } if elsewhere => "d disables it there · D deletes it there",
        Remedy::DisableKey { .. } => "d disables it · D deletes it",
        Remedy::Revoke(_) if elsewhere => "d revokes on its chain there",
        Remedy::Revoke(_) => "d revokes on its chain · x revokes every open session",
        Remedy::DeletePassword { .. } if elsewhere => "d deletes the console password there",
        Remedy::DeletePassword { .. } => "d deletes the console password",
        Remedy::Untrust { .. } => "d takes the outside principal out of the trust policy",
        Remedy::Remove => "Enter shows it on the Resources tab, to remove it with its parts",
    })
}

fn summary(state: &State, theme: &Theme) -> Line<'static> {
    let a = &state.access.assessment;
    let count = |s: FootState| a.footholds.iter().filter(|f| f.state == s).count();
    let headline = a.headline();
    let style = if a.contained() {
        theme.ok
    } else {
        theme.danger
    };
    let mut spans = vec![
        Span::styled(format!(" {headline} "), style),
        Span::raw(format!(
            "  {} open · {} reduced · {} closed",
            count(FootState::Open),
            count(FootState::Reduced),
            count(FootState::Closed)
        )),
    ];
    match &a.verified {
        Verified::At(t) => spans.push(Span::raw(format!(
            " · verified from IAM {} ago",
            fmt::ago(state.now, *t)
        ))),
        Verified::No(why) => {
            spans.push(Span::styled(format!(" · not verified: {why}"), theme.warn))
        }
    }
    if a.dropped_acts > 0 {
        spans.push(Span::styled(
            format!(" · {} trail acts not kept (cap)", a.dropped_acts),
            theme.warn,
        ));
    }
    Line::from(spans)
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if let Some(v) = &state.access.perms {
        crate::ui::perms::render(frame, area, state, theme, v);
        return;
    }
    let mut title = vec![Span::styled(
        " Access: the attacker's footholds ",
        theme.title,
    )];
    title.push(Span::styled("· ", theme.base));
    title.extend(freshness(state, &state.access.data));
    title.push(Span::raw(" "));
    let Some(inner) = pane(frame, area, title, theme) else {
        return;
    };
    let [top, list] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(inner);
    frame.render_widget(Paragraph::new(summary(state, theme)), top);

    let rows = state.access.rows();
    if rows.is_empty() {
        let text = match &state.access.assessment.verified {
            Verified::At(_) => {
                "No foothold: nothing the leaked keys made or minted, and nothing \
                                new since the leak, can act in the account."
            }
            Verified::No(_) => "Reading IAM…",
        };
        frame.render_widget(
            Paragraph::new(Line::raw(format!(" {text}"))).wrap(Wrap { trim: true }),
            list,
        );
        return;
    }
    let cursor = state.access.cursor_index().unwrap_or(0);
    let mut lines: Vec<Line> = Vec::new();
    let mut cursor_end = 0usize;
    for (i, f) in rows.iter().enumerate() {
        let here = i == cursor;
        let style = state_style(f.state, theme);
        let mut first = vec![
            Span::styled(if here { "▶" } else { " " }, theme.cursor),
            Span::styled(format!("{:<8}", f.state.word()), style),
            Span::styled(
                format!("{:<18}", f.kind.label()),
                if here { theme.cursor } else { Style::default() },
            ),
            Span::styled(f.id.clone(), if here { theme.cursor } else { theme.title }),
        ];
        if !f.principal.is_empty() && !f.principal.ends_with(f.id.as_str()) {
            first.push(Span::raw(format!("  {}", f.principal)));
        }
        if let Some(t) = f.expires
            && f.state != FootState::Closed
        {
            let left = t - state.now;
            first.push(Span::styled(
                format!(
                    "  expires {} (in {})",
                    fmt::clock_time(t),
                    fmt::hours_minutes(left.whole_minutes().max(0))
                ),
                theme.warn,
            ));
        }
        lines.push(Line::from(first));
        // The why and the origin wrap under the id: on a narrow screen the end of the why
        // (what to revoke on) is what the room needs.
        let width = usize::from(list.width).saturating_sub(INDENT.len()).max(20);
        let why_style = if f.state == FootState::Open {
            theme.danger
        } else {
            Style::default()
        };
        for part in wrap_hanging(&f.why, width, width) {
            lines.push(Line::from(vec![
                Span::raw(INDENT),
                Span::styled(part, why_style),
            ]));
        }
        let mut origin = f.provenance.words();
        let elsewhere = crate::app::access::member_of(state, f).is_some();
        if here && let Some(r) = remedy_words(f, elsewhere) {
            origin.push_str(&format!("  ·  {r}"));
            if f.provenance.clearable() {
                origin.push_str("  ·  c clears it with a reason");
            }
        }
        for part in wrap_hanging(&origin, width, width) {
            lines.push(Line::from(vec![Span::raw(INDENT), Span::raw(part)]));
        }
        if here {
            cursor_end = lines.len();
        }
    }
    // Keep the cursor's three lines on screen.
    let height = usize::from(list.height);
    let scroll = cursor_end.saturating_sub(height);
    frame.render_widget(
        Paragraph::new(lines).scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0)),
        list,
    );
}
