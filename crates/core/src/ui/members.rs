//! The other accounts under the Keys table (`--accounts`): each account's answer, what it
//! runs that was made after the leak started, and the accounts that could not be looked into
//! with why. Their keys are rows of the Keys table itself, with their account, acted on there;
//! what they run is listed here, and removed from a console opened in that account.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::access::{MemberModel, closed_account};
use crate::app::state::State;
use crate::fmt;
use crate::ui::Theme;

/// Resources made after the leak listed per account; more are counted.
const RESOURCES_PER_ACCOUNT: usize = 3;

/// The pane's height: nothing without `--accounts` or before the first poll, else a line per
/// account and what it runs that was made after the leak started, in a frame.
pub fn height(state: &State) -> u16 {
    let Some(m) = &state.access.members else {
        return 0;
    };
    let lines: usize = usize::from(m.listing.is_some())
        + m.accounts
            .iter()
            .map(|a| {
                1 + a.resources.len().min(RESOURCES_PER_ACCOUNT)
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
            "· {} · updated {} ago · their {} are in the table above, acted on there ",
            fmt::plural(m.accounts.len(), "account", "accounts"),
            fmt::ago(state.now, m.at),
            fmt::plural(keys, "key", "keys"),
        )),
    ];
    let Some(inner) = crate::ui::pane(frame, area, title, theme) else {
        return;
    };
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
    }
    // One row per line (cut at the edge, never wrapped): the height above holds.
    frame.render_widget(Paragraph::new(lines), inner);
}
