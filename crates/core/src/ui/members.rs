//! The other accounts under the Keys table (`--accounts`): each account's answer, how much it
//! runs that was made after the leak started, and the accounts that could not be looked into
//! with why. Their keys are rows of the Keys table itself, and what they run rows of the
//! Resources tab, each with its account, acted on there.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::access::{MemberModel, closed_account};
use crate::app::state::State;
use crate::fmt;
use crate::ui::Theme;

/// The pane's height: nothing without `--accounts` or before the first poll, else a line per
/// account, in a frame.
pub fn height(state: &State) -> u16 {
    let Some(m) = &state.access.members else {
        return 0;
    };
    let lines = usize::from(m.listing.is_some()) + m.accounts.len();
    u16::try_from(lines.max(1) + 2).unwrap_or(u16::MAX)
}

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(m) = &state.access.members else {
        return;
    };
    let keys = state.member_keys().count();
    let title = vec![
        Span::styled(" Other accounts ", theme.title),
        Span::raw(format!(
            "· {} · updated {} ago · their {} are in the table above, what they run on tab 3 ",
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
                let mut line = vec![
                    Span::styled(format!(" {name}"), theme.title),
                    Span::raw("  "),
                    Span::styled(model.headline(), style),
                ];
                if !a.resources.is_empty() {
                    line.push(Span::raw(" · "));
                    line.push(Span::styled(
                        format!(
                            "{} made since the leak started (Resources tab)",
                            fmt::plural(a.resources.len(), "resource", "resources")
                        ),
                        theme.danger,
                    ));
                }
                lines.push(Line::from(line));
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
    }
    // One row per line (cut at the edge, never wrapped): the height above holds.
    frame.render_widget(Paragraph::new(lines), inner);
}
