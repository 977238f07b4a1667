//! Overlays: the confirmation dialog, the rotated secret, help, the user detail pane.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::app::keymap::{BINDINGS, Command, DIALOG_HELP, LINE_COMMANDS, Scope};
use crate::app::plan::Plan;
use crate::app::state::{ConfirmDialog, Dialog, Reveal, SecretDialog, State, TABS};
use crate::domain::LastUsed;
use crate::domain::QUARANTINE_PREFIX;
use crate::fmt;
use crate::ui::layout::wrap_hanging;
use crate::ui::{Theme, spinner, when, wrapped_height};

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    if state.tab == crate::app::state::Tab::Keys && state.keys.detail.is_some() {
        detail(frame, area, state, theme);
    }
    match &state.dialog {
        None => {}
        Some(Dialog::Help(scroll)) => help(frame, area, state, *scroll, theme),
        Some(Dialog::Confirm(c)) => confirm(frame, area, c, theme),
        Some(Dialog::Secret(s)) => secret(frame, area, s, theme),
        Some(Dialog::QuitWhileRunning) => {
            let lines = vec![
                Line::raw(""),
                Line::raw(" An action is still running. If keyspill quits now its outcome"),
                Line::raw(" is recorded as unknown and re-verified at the next start."),
                Line::raw(""),
                Line::from(vec![
                    Span::styled(" y", theme.title),
                    Span::raw(" quit anyway   "),
                    Span::styled("n / Esc", theme.title),
                    Span::raw(" stay"),
                ]),
            ];
            popup(
                frame,
                area,
                70,
                8,
                " Quit while an action runs? ",
                lines,
                theme,
                true,
            );
        }
    }
}

/// A centred box of at most `w`×`h`, clipped to the screen.
#[allow(clippy::too_many_arguments)]
fn popup(
    frame: &mut Frame,
    area: Rect,
    w: u16,
    h: u16,
    title: &str,
    lines: Vec<Line>,
    theme: &Theme,
    warning: bool,
) -> Rect {
    // Room for the lines as wrapped, so the prompt at the bottom is never cut off.
    let inner_width = w.min(area.width).saturating_sub(2).max(1);
    let h = h.max(wrapped_height(&lines, inner_width) + 2);
    let rect = centred(area, w, h);
    let border = if warning { theme.danger } else { theme.accent };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .style(theme.base)
        .title(Span::styled(title.to_string(), border));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
    rect
}

fn centred(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn confirm(frame: &mut Frame, area: Rect, c: &ConfirmDialog, theme: &Theme) {
    let Some(stage) = c.current() else {
        return;
    };
    let mut body: Vec<Line> = vec![Line::raw("")];
    let body_style = if stage.warning {
        theme.warn
    } else {
        theme.base
    };
    // A resource removal plan lists many steps: it gets a wider box when there is room, and
    // its lines are wrapped here so a step's continuation lines up under its text.
    let removal = matches!(c.plan.inner(), Plan::RemoveResources(_));
    let w: u16 = if removal { 130 } else { 84 };
    let inner_width = w.min(area.width).saturating_sub(2).max(1);
    if removal {
        let width = usize::from(inner_width).saturating_sub(1);
        // With no keys to list, the stage opens with a blank line of its own: one is enough.
        let skip = usize::from(stage.lines.first().is_some_and(String::is_empty));
        for l in stage.lines.iter().skip(skip) {
            let indent = hanging_indent(l);
            let pieces = wrap_hanging(l, width, width.saturating_sub(indent));
            for (i, piece) in pieces.into_iter().enumerate() {
                let pad = if i == 0 { 0 } else { indent };
                body.push(Line::styled(
                    format!(" {}{piece}", " ".repeat(pad)),
                    body_style,
                ));
            }
        }
    } else {
        body.extend(
            stage
                .lines
                .iter()
                .map(|l| Line::styled(format!(" {l}"), body_style)),
        );
    }
    body.push(Line::raw(""));
    let prompt = Line::from(vec![
        Span::raw(" Type "),
        Span::styled(format!(" {} ", stage.expected), theme.title),
        Span::raw(" to confirm:"),
    ]);
    let typed_ok = stage.expected.starts_with(&c.typed);
    let field_style = if typed_ok { theme.input } else { theme.danger };
    let pad = stage
        .expected
        .chars()
        .count()
        .saturating_sub(c.typed.chars().count());
    let field = Line::from(vec![
        Span::raw(" > "),
        Span::styled(format!("{}▏{}", c.typed, " ".repeat(pad)), field_style),
    ]);
    let status = if c.matches() {
        Span::styled(" Enter to go ahead · Esc cancels", theme.ok)
    } else if !typed_ok {
        Span::styled(
            " does not match · Backspace to fix · Esc cancels",
            theme.danger,
        )
    } else {
        Span::styled(
            " Enter works once the text matches · Esc cancels",
            theme.base,
        )
    };
    let status = Line::from(status);
    let title = if c.stages.len() > 1 {
        format!(
            " {} (step {} of {}) ",
            stage.title,
            c.stage + 1,
            c.stages.len()
        )
    } else {
        format!(" {} ", stage.title)
    };
    let mut all = body.clone();
    all.extend([prompt.clone(), field.clone(), status.clone()]);
    let need = wrapped_height(&all, inner_width).saturating_add(2);
    if need <= area.height {
        let h = all.len() as u16 + 2;
        popup(frame, area, w, h, &title, all, theme, stage.warning);
        return;
    }
    scrolled_confirm(
        frame,
        area,
        w,
        &title,
        ScrolledParts {
            body,
            footer: [prompt, field, status],
            scroll: c.scroll,
        },
        theme,
        stage.warning,
    );
}

/// Where a wrapped line continues: under the text of a numbered step (`  12. text`), else
/// under the line's own start.
fn hanging_indent(line: &str) -> usize {
    let lead = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[lead..];
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && rest[digits..].starts_with(". ") {
        lead + digits + 2
    } else {
        lead
    }
}

/// A confirmation too tall for the screen, in pieces.
struct ScrolledParts<'a> {
    body: Vec<Line<'a>>,
    /// The prompt naming the expected text, the typed field and the status line.
    footer: [Line<'a>; 3],
    scroll: u16,
}

/// A confirmation whose text does not fit: the text scrolls by `scroll` rows between the
/// title and the prompt, which stay in place. When space is short the field goes last,
/// after the body, the scroll hint, the status line and the prompt.
fn scrolled_confirm(
    frame: &mut Frame,
    area: Rect,
    w: u16,
    title: &str,
    parts: ScrolledParts,
    theme: &Theme,
    warning: bool,
) {
    let rect = centred(area, w, area.height);
    let border = if warning { theme.danger } else { theme.accent };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .style(theme.base)
        .title(Span::styled(title.to_string(), border));
    let inner = block.inner(rect);
    frame.render_widget(Clear, rect);
    frame.render_widget(block, rect);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    let [prompt, field, status] = parts.footer;
    let mut left = inner.height;
    let mut take = |want: u16| {
        let got = want.min(left);
        left -= got;
        got
    };
    // Handed out in order of importance.
    let field_h = take(wrapped_height(std::slice::from_ref(&field), inner.width));
    let prompt_h = take(wrapped_height(std::slice::from_ref(&prompt), inner.width));
    let status_h = take(wrapped_height(std::slice::from_ref(&status), inner.width));
    let hint_h = take(1);
    let body_h = left;
    let total = wrapped_height(&parts.body, inner.width);
    let scroll = parts.scroll.min(total.saturating_sub(body_h));
    let [body_area, hint_area, prompt_area, field_area, status_area] = Layout::vertical([
        Constraint::Length(body_h),
        Constraint::Length(hint_h),
        Constraint::Length(prompt_h),
        Constraint::Length(field_h),
        Constraint::Length(status_h),
    ])
    .areas(inner);
    frame.render_widget(
        Paragraph::new(parts.body)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0)),
        body_area,
    );
    let shown = if body_h == 0 || total == 0 {
        "none shown".to_string()
    } else {
        format!(
            "lines {}–{} of {total}",
            scroll + 1,
            (scroll + body_h).min(total)
        )
    };
    let hint = Line::from(vec![
        Span::styled(" ↑/↓ PgUp/PgDn", theme.title),
        Span::styled(format!(" scroll · {shown}"), theme.base),
    ]);
    frame.render_widget(Paragraph::new(hint), hint_area);
    for (line, at) in [
        (prompt, prompt_area),
        (field, field_area),
        (status, status_area),
    ] {
        frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: false }), at);
    }
}

fn secret(frame: &mut Frame, area: Rect, s: &SecretDialog, theme: &Theme) {
    let shown = s.reveal == Reveal::Shown;
    let secret_text = if shown {
        s.new_key.secret.expose().to_string()
    } else {
        crate::app::secret::mask(s.new_key.secret.expose())
    };
    let mut lines = vec![
        Line::raw(""),
        Line::from(vec![
            Span::raw(" User               "),
            Span::styled(s.new_key.user.clone(), theme.title),
        ]),
        Line::from(vec![
            Span::raw(" Access key id      "),
            Span::styled(s.new_key.key_id.clone(), theme.title),
        ]),
        Line::from(vec![
            Span::raw(" Secret access key  "),
            Span::styled(secret_text, theme.warn),
            Span::raw(if shown { "   (shown)" } else { "   (masked)" }),
        ]),
        Line::raw(""),
        Line::styled(
            format!(" Old key {} is being disabled. Shown once only.", s.old_key),
            theme.base,
        ),
    ];
    if s.quarantined {
        lines.push(Line::raw(""));
        let text = format!(
            "⚠ {} carries AWS's {QUARANTINE_PREFIX}* policy and the new key inherits it: it is \
             denied most actions until the policy is detached (AWS Support may ask you to keep \
             it while the case is open).",
            s.new_key.user
        );
        for (i, piece) in wrap_hanging(&text, 80, 78).into_iter().enumerate() {
            let pad = if i == 0 { " " } else { "   " };
            lines.push(Line::styled(format!("{pad}{piece}"), theme.warn));
        }
    }
    lines.push(Line::raw(""));
    if s.reveal == Reveal::Warned {
        lines.push(Line::styled(
            " ⚠ The secret will be visible to the whole room. Press v again to show it;",
            theme.danger,
        ));
        lines.push(Line::styled(
            "   any other key keeps it masked.",
            theme.danger,
        ));
    }
    if s.editing_path {
        lines.push(Line::from(vec![
            Span::raw(" Write to "),
            Span::styled(format!("{}▏", s.path), theme.input),
        ]));
        lines.push(Line::styled(
            " Enter writes (mode 0600, no overwrite, never in a git work tree) · Esc back",
            theme.base,
        ));
    } else {
        lines.push(Line::from(vec![
            Span::styled(" v", theme.title),
            Span::raw(if shown { " hide   " } else { " show   " }),
            Span::styled("c", theme.title),
            Span::raw(" copy (OSC 52)   "),
            Span::styled("w", theme.title),
            Span::raw(" write to a file   "),
            Span::styled("Enter", theme.title),
            Span::raw(" I have stored it: close"),
        ]));
    }
    match &s.written {
        Some(Ok(p)) => lines.push(Line::styled(format!(" ✓ written to {p}"), theme.ok)),
        Some(Err(e)) => lines.push(Line::styled(format!(" ✗ not written: {e}"), theme.danger)),
        None => {}
    }
    let h = lines.len() as u16 + 2;
    popup(
        frame,
        area,
        84,
        h,
        " New access key: store the secret now ",
        lines,
        theme,
        false,
    );
}

/// The help overlay, drawn from the keymap table.
pub fn help_lines(state: &State, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for scope in [
        Scope::Global,
        Scope::List,
        Scope::Keys,
        Scope::Timeline,
        Scope::Resources,
        Scope::Cost,
        Scope::Checklist,
        Scope::Access,
    ] {
        scope_lines(&mut lines, scope, theme);
    }
    lines.push(Line::styled(" Cost spike rule", theme.title));
    for l in crate::cost::detect::describe(&state.cost.rule) {
        // The box is 74 columns inside; a wrapped line goes on under its own text.
        let indent = 3 + l.len() - l.trim_start().len() + 2;
        for (i, piece) in wrap_hanging(&l, 71, 73usize.saturating_sub(indent))
            .into_iter()
            .enumerate()
        {
            let pad = if i == 0 { 3 } else { indent };
            lines.push(Line::raw(format!("{}{piece}", " ".repeat(pad))));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(" Commands (:)", theme.title));
    for c in LINE_COMMANDS {
        entry(&mut lines, format!("   {:<11}", c.usage), c.help, theme);
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(" Confirmation dialogs", theme.title));
    for (k, what) in DIALOG_HELP {
        entry(&mut lines, format!("   {k:<11}"), what, theme);
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(" Flags", theme.title));
    for (f, what) in [
        ("LEAKED", "named by --key or :key"),
        (
            "NEW",
            "created after the leak started (not by this response)",
        ),
        ("ROTATED", "created by this response's rotation"),
        (
            "QUAR(ANTINED)",
            "AWS attached an AWSCompromisedKeyQuarantine policy",
        ),
        ("SELF", "the key keyspill itself signs with"),
    ] {
        entry(&mut lines, format!("   {f:<14}"), what, theme);
    }
    lines
}

/// The help box's width inside its border.
const HELP_INSIDE: usize = 74;

/// One help entry: the key column, then its text wrapped under itself so nothing is cut at
/// the box's edge.
fn entry(lines: &mut Vec<Line<'static>>, key: String, text: &str, theme: &Theme) {
    let indent = key.chars().count();
    let room = HELP_INSIDE.saturating_sub(indent).max(20);
    for (i, piece) in wrap_hanging(text, room, room).into_iter().enumerate() {
        let lead = if i == 0 {
            Span::styled(key.clone(), theme.accent)
        } else {
            Span::raw(" ".repeat(indent))
        };
        lines.push(Line::from(vec![lead, Span::raw(piece)]));
    }
}

/// One scope's bindings under its title, then a blank line.
fn scope_lines(lines: &mut Vec<Line<'static>>, scope: Scope, theme: &Theme) {
    lines.push(Line::styled(format!(" {}", scope.title()), theme.title));
    for b in BINDINGS.iter().filter(|b| b.scope == scope) {
        // The tab keys go as far as there are tabs.
        let label = match b.command {
            Command::GoTab(_) if TABS.len() == 1 => "1".to_string(),
            Command::GoTab(_) => format!("1-{}", TABS.len()),
            _ => b.label.to_string(),
        };
        entry(lines, format!("   {label:<11}"), b.help, theme);
    }
    lines.push(Line::raw(""));
}

/// How far the help can scroll on a screen `height` rows high: until its last line is at the
/// bottom of the box, never into blank. The key handler and the render both clamp to it.
pub fn help_max_scroll(state: &State, height: u16) -> u16 {
    let total = help_total(state);
    total.saturating_sub(help_box_height(total, height).saturating_sub(2))
}

fn help_total(state: &State) -> u16 {
    u16::try_from(help_lines(state, &Theme::monochrome()).len()).unwrap_or(u16::MAX)
}

fn help_box_height(total: u16, height: u16) -> u16 {
    total.saturating_add(2).min(height)
}

fn help(frame: &mut Frame, area: Rect, state: &State, scroll: u16, theme: &Theme) {
    let lines = help_lines(state, theme);
    let total = u16::try_from(lines.len()).unwrap_or(u16::MAX);
    let rect = centred(
        area,
        HELP_INSIDE as u16 + 2,
        help_box_height(total, area.height),
    );
    let scroll = scroll.min(help_max_scroll(state, area.height));
    let inside = rect.height.saturating_sub(2);
    // Where the reader is, so the end of the help is plain to see.
    let place = if inside >= total {
        String::new()
    } else {
        format!(
            "{}–{} of {total} · ",
            scroll + 1,
            scroll.saturating_add(inside).min(total)
        )
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.accent)
        .style(theme.base)
        .title(Span::styled(
            format!(" Help · {place}j/k PgUp/PgDn g/G scroll · Esc closes "),
            theme.accent,
        ));
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), rect);
}

fn detail(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(d) = &state.keys.detail else {
        return;
    };
    let rect = centred(
        area,
        area.width.saturating_sub(4).max(1),
        area.height.saturating_sub(2).max(1),
    );
    let mut title = vec![Span::styled(format!(" User {} · ", d.user), theme.title)];
    title.extend(crate::ui::freshness(state, &d.data));
    title.push(Span::raw(" · Esc closes "));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.accent)
        .style(theme.base)
        .title(Line::from(title));
    let mut lines: Vec<Line> = Vec::new();
    if let Some(e) = &d.data.error {
        lines.push(Line::styled(format!(" ⚠ {e}"), theme.danger));
    }
    match &d.data.data {
        None if d.data.in_flight => lines.push(Line::styled(
            format!(" {} reading the user from IAM…", spinner(state)),
            theme.dim,
        )),
        None => {}
        Some(u) => {
            let kv = |k: &str, v: String| {
                Line::from(vec![
                    Span::styled(format!(" {k:<18}"), theme.dim),
                    Span::raw(v),
                ])
            };
            lines.push(kv("ARN", u.arn.clone()));
            lines.push(kv("Created", when(state, u.created)));
            lines.push(kv(
                "Console password",
                match u.login_profile {
                    Some(t) => format!("yes, since {}", fmt::minute(t)),
                    None => "no".into(),
                },
            ));
            lines.push(kv(
                "MFA devices",
                if u.mfa_devices.is_empty() {
                    "none".into()
                } else {
                    u.mfa_devices.join(", ")
                },
            ));
            lines.push(kv(
                "Groups",
                if u.groups.is_empty() {
                    "none".into()
                } else {
                    u.groups.join(", ")
                },
            ));
            lines.push(Line::raw(""));
            lines.push(Line::styled(" Access keys", theme.title));
            if u.keys.is_empty() {
                lines.push(Line::raw("   none"));
            }
            for k in &u.keys {
                let used = match &k.last_used {
                    LastUsed::Never => "never used".to_string(),
                    LastUsed::Unknown => "last use unknown".to_string(),
                    LastUsed::At {
                        when: t,
                        service,
                        region,
                    } => format!("last used {} · {service} · {region}", when(state, *t)),
                };
                let tag = if state.leaked.contains(&k.key_id) {
                    Span::styled("LEAKED ", theme.leaked)
                } else {
                    Span::raw("       ")
                };
                lines.push(Line::from(vec![
                    Span::raw("   "),
                    tag,
                    Span::raw(format!(
                        "{}  {:<8}  created {}  {used}",
                        k.key_id,
                        k.status,
                        fmt::date(k.created)
                    )),
                ]));
            }
            lines.push(Line::raw(""));
            lines.push(Line::styled(" Attached policies", theme.title));
            if u.attached_policies.is_empty() {
                lines.push(Line::raw("   none"));
            }
            for p in &u.attached_policies {
                if p.starts_with(QUARANTINE_PREFIX) {
                    lines.push(Line::styled(
                        format!("   {p}  ← attached by AWS: leave it until the support case says otherwise"),
                        theme.quarantined,
                    ));
                } else {
                    lines.push(Line::raw(format!("   {p}")));
                }
            }
            lines.push(Line::raw(""));
            lines.push(Line::styled(" Inline policies", theme.title));
            if u.inline_policies.is_empty() {
                lines.push(Line::raw("   none"));
            }
            for p in &u.inline_policies {
                lines.push(Line::raw(format!("   {p}")));
            }
            for w in &u.warnings {
                lines.push(Line::styled(format!(" ⚠ {w}"), theme.warn));
            }
        }
    }
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(block).scroll((d.scroll, 0)),
        rect,
    );
}
