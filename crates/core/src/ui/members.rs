//! The other accounts under the Keys table (`--accounts`): each account's answer, what it
//! runs that was made after the leak started, its keys (the ones made since marked), and the
//! accounts that could not be looked into with why. Read-only: acting in another account is
//! done from a console opened there.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::access::{MemberModel, closed_account};
use crate::app::state::State;
use crate::domain::{KeyStatus, LastUsed};
use crate::fmt;
use crate::ui::Theme;

/// Keys listed per account; more are counted.
const KEYS_PER_ACCOUNT: usize = 4;
/// Resources made after the leak listed per account; more are counted.
const RESOURCES_PER_ACCOUNT: usize = 3;

/// The pane's height: nothing without `--accounts` or before the first poll, else a line per
/// account and its keys, in a frame.
pub fn height(state: &State) -> u16 {
    let Some(m) = &state.access.members else {
        return 0;
    };
    let lines: usize = usize::from(m.listing.is_some())
        + m.accounts
            .iter()
            .map(|a| {
                1 + keys_shown(a).min(KEYS_PER_ACCOUNT)
                    + usize::from(keys_shown(a) > KEYS_PER_ACCOUNT)
                    + a.resources.len().min(RESOURCES_PER_ACCOUNT)
                    + usize::from(a.resources.len() > RESOURCES_PER_ACCOUNT)
            })
            .sum::<usize>();
    u16::try_from(lines.max(1) + 2).unwrap_or(u16::MAX)
}

fn keys_shown(a: &MemberModel) -> usize {
    a.keys.as_ref().map_or(0, |k| k.keys.len())
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(m) = &state.access.members else {
        return;
    };
    let keys: usize = m.accounts.iter().map(keys_shown).sum();
    let title = vec![
        Span::styled(" Other accounts ", theme.title),
        Span::raw(format!(
            "· {} · {} · updated {} ago · read-only: act in an account from a console opened there ",
            fmt::plural(m.accounts.len(), "account", "accounts"),
            fmt::plural(keys, "key", "keys"),
            fmt::ago(state.now, m.at)
        )),
    ];
    let Some(inner) = crate::ui::pane(frame, area, title, theme) else {
        return;
    };
    let since = state.since().map(|(t, _)| t);
    let mut lines: Vec<Line> = Vec::new();
    if let Some(e) = &m.listing {
        lines.push(Line::styled(
            format!(" ⚠ the organisation's accounts could not be listed: {e}"),
            theme.danger,
        ));
    }
    // What the room must see first: accounts not looked into, then the ones not contained.
    let mut accounts: Vec<&MemberModel> = m.accounts.iter().collect();
    accounts.sort_by_key(|a| match &a.outcome {
        Err(_) if !closed_account(&a.status) => 0,
        Ok(model) if !model.contained() => 1,
        Ok(_) => 2,
        Err(_) => 3,
    });
    for a in accounts {
        let name = a.named();
        match &a.outcome {
            Ok(model) => {
                let style = if model.contained() {
                    theme.ok
                } else {
                    theme.danger
                };
                lines.push(Line::from(vec![
                    Span::styled(format!(" {name}"), theme.title),
                    Span::raw("  "),
                    Span::styled(model.headline(), style),
                ]));
            }
            Err(why) if closed_account(&a.status) => {
                lines.push(Line::raw(format!(" {name}  {why}: nothing can act in it")));
            }
            Err(why) => {
                lines.push(Line::from(vec![
                    Span::styled(format!(" {name}"), theme.title),
                    Span::styled(format!("  not looked into: {why}"), theme.danger),
                ]));
            }
        }
        for r in a.resources.iter().take(RESOURCES_PER_ACCOUNT) {
            lines.push(Line::from(vec![
                Span::raw(format!("   {:<20} {:<14} ", r.id, r.kind.label())),
                Span::styled("made after the leak started · ", theme.danger),
                Span::raw(format!(
                    "{} · {} · created {}",
                    r.region,
                    r.state,
                    r.created.map(fmt::minute).unwrap_or_default()
                )),
            ]));
        }
        if a.resources.len() > RESOURCES_PER_ACCOUNT {
            lines.push(Line::raw(format!(
                "   and {} more made after the leak started",
                a.resources.len() - RESOURCES_PER_ACCOUNT
            )));
        }
        let Some(snap) = &a.keys else { continue };
        for k in snap.keys.iter().take(KEYS_PER_ACCOUNT) {
            let after = since.is_some_and(|s| k.created >= s);
            let leaked = state.leaked.contains(&k.key_id);
            let mut spans = vec![
                Span::raw(format!("   {:<20} {:<14} ", k.key_id, k.user)),
                Span::styled(
                    format!("{:<8} ", k.status.as_str()),
                    if k.status == KeyStatus::Active {
                        theme.warn
                    } else {
                        theme.ok
                    },
                ),
            ];
            // The mark first: a narrow screen cuts the end of the line.
            if leaked {
                spans.push(Span::styled("LEAKED · ", theme.danger));
            } else if after {
                spans.push(Span::styled("made after the leak started · ", theme.danger));
            }
            spans.push(Span::raw(format!(
                "created {} · {}",
                fmt::minute(k.created),
                match &k.last_used {
                    LastUsed::Never => "never used".to_string(),
                    LastUsed::At { when, .. } => format!("used {} ago", fmt::ago(state.now, *when)),
                    LastUsed::Unknown => "last use unknown".to_string(),
                }
            )));
            lines.push(Line::from(spans));
        }
        if snap.keys.len() > KEYS_PER_ACCOUNT {
            lines.push(Line::raw(format!(
                "   and {} more",
                snap.keys.len() - KEYS_PER_ACCOUNT
            )));
        }
    }
    // One row per line (cut at the edge, never wrapped): the height above holds.
    frame.render_widget(Paragraph::new(lines), inner);
}
