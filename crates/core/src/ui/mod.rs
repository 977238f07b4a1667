//! Rendering: a pure function of `State`. Nothing here changes state or does I/O.

pub mod access;
pub mod checklist;
pub mod cost;
pub mod detect;
pub mod dialogs;
pub mod keys;
pub mod layout;
pub mod members;
pub mod perms;
pub mod resources;
pub mod theme;
pub mod timeline;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::app::footer::{self, Footer};
use crate::app::state::{Level, Loaded, Mode, State, TABS};
use crate::domain::Timestamp;
use crate::fmt;
use crate::journal::Outcome;
pub use theme::Theme;

const SPINNER: &[&str] = &["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

pub fn spinner(state: &State) -> &'static str {
    SPINNER[(state.frame as usize) % SPINNER.len()]
}

/// Draws the whole screen.
pub fn render(frame: &mut Frame, state: &State, theme: &Theme) {
    let area = frame.area();
    frame.render_widget(Block::default().style(theme.base), area);
    if area.width < 20 || area.height < 6 {
        frame.render_widget(
            Paragraph::new("keyspill: enlarge the terminal").style(theme.warn),
            area,
        );
        return;
    }
    let banner = banner_lines(state, theme);
    // Banners wrap rather than lose their end (the reason is usually there), up to a third of
    // the screen.
    let banner_height = wrapped_height(&banner, area.width).min(area.height / 3);
    let show_log = area.height >= 20 && !state.actions.is_empty();
    let log_height = if show_log {
        (state.actions.len().min(3) as u16) + 2
    } else {
        0
    };
    let [header, tabs, banner_area, main, log, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(banner_height),
        Constraint::Min(3),
        Constraint::Length(log_height),
        Constraint::Length(1),
    ])
    .areas(area);

    render_header(frame, header, state, theme);
    render_tabs(frame, tabs, state, theme);
    frame.render_widget(
        Paragraph::new(banner).wrap(Wrap { trim: false }),
        banner_area,
    );
    match state.tab {
        crate::app::state::Tab::Keys => {
            // The alerts that started the incident, under the keys, once a source answered.
            // Then the other accounts' keys (`--accounts`), between the two.
            let want = detect::height(state);
            let room = main.height.saturating_sub(8);
            let alerts_h = want.min(room);
            let others_h = members::height(state).min(room.saturating_sub(alerts_h));
            let [table, others, alerts] = Layout::vertical([
                Constraint::Min(3),
                Constraint::Length(others_h),
                Constraint::Length(alerts_h),
            ])
            .areas(main);
            keys::render(frame, table, state, theme);
            if others.height > 2 {
                members::render(frame, others, state, theme);
            }
            if alerts.height > 2 {
                detect::render(frame, alerts, state, theme);
            }
        }
        crate::app::state::Tab::Timeline => timeline::render(frame, main, state, theme),
        crate::app::state::Tab::Resources => resources::render(frame, main, state, theme),
        crate::app::state::Tab::Cost => cost::render(frame, main, state, theme),
        crate::app::state::Tab::Checklist => checklist::render(frame, main, state, theme),
        crate::app::state::Tab::Access => access::render(frame, main, state, theme),
    }
    if show_log {
        render_action_log(frame, log, state, theme);
    }
    render_footer(frame, footer, state, theme);
    dialogs::render(frame, area, state, theme);
}

/// One part of the header line: its forms, longest first, and the one shown (`None` when
/// dropped for room).
struct Part {
    forms: Vec<Vec<Span<'static>>>,
    shown: Option<usize>,
}

impl Part {
    fn new(forms: Vec<Vec<Span<'static>>>) -> Self {
        let shown = (!forms.is_empty()).then_some(0);
        Part { forms, shown }
    }
    fn spans(&self) -> Option<&Vec<Span<'static>>> {
        self.forms.get(self.shown?)
    }
}

/// How the header makes room, in order, until it fits: what is least needed in the room goes
/// first and whole; the incident's state (badge, clock, verdict, eradicated, progress) only
/// takes its shorter forms.
enum Room {
    Drop(usize),
    Shorten(usize),
}

const H_TITLE: usize = 0;
const H_BADGE: usize = 1;
const H_CLOCK: usize = 2;
const H_VERDICT: usize = 3;
const H_ERADICATED: usize = 4;
const H_PROGRESS: usize = 5;
const H_ACCOUNT: usize = 6;
const H_WHO: usize = 7;
const H_PROFILE: usize = 8;
const H_REGIONS: usize = 9;

const MAKE_ROOM: &[Room] = &[
    Room::Drop(H_REGIONS),
    Room::Drop(H_PROFILE),
    Room::Shorten(H_WHO),
    Room::Drop(H_WHO),
    Room::Drop(H_TITLE),
    Room::Shorten(H_PROGRESS),
    Room::Drop(H_ACCOUNT),
    Room::Shorten(H_VERDICT),
    Room::Shorten(H_CLOCK),
];

/// The header's parts, each with its forms, in the order they are shown.
fn header_parts(state: &State, theme: &Theme) -> Vec<Part> {
    let one = |text: String, style: Style| vec![Span::styled(text, style)];
    let mut parts = Vec::new();
    parts.push(Part::new(vec![one(" keyspill ".into(), theme.title)]));
    parts.push(Part::new(vec![if state.settings.read_only {
        one(" READ-ONLY ".into(), theme.read_only)
    } else {
        one(" LIVE ".into(), theme.live)
    }]));
    // The clock counts since detection, and says so.
    let [long, short] = crate::app::times::clock_forms(state);
    parts.push(Part::new(vec![
        one(long, theme.title),
        one(short, theme.title),
    ]));
    // Containment, in words, on every tab: the foothold model's verdict.
    let verdict = &state.access.assessment;
    let vstyle = if verdict.contained() {
        theme.contained
    } else {
        theme.not_contained
    };
    let headline = verdict.headline();
    let short = headline.split(" (").next().unwrap_or(&headline).to_string();
    parts.push(Part::new(vec![
        one(format!(" {headline} "), vstyle),
        one(format!(" {short} "), vstyle),
    ]));
    let eradicated = state
        .checklist
        .milestones
        .contains_key(&crate::journal::Milestone::Eradicated);
    parts.push(Part::new(vec![if eradicated {
        one(" ERADICATED ".into(), theme.contained)
    } else {
        one("not eradicated".into(), theme.warn)
    }]));
    // The checklist's progress, on every tab.
    let (done, total) = crate::app::checklist::progress(state);
    let pstyle = if done == total {
        theme.ok
    } else {
        theme.accent
    };
    parts.push(Part::new(vec![
        one(format!("checklist {done}/{total} done"), pstyle),
        one(format!("{done}/{total} done"), pstyle),
    ]));
    match (&state.identity.data, &state.identity.error) {
        (Some(id), _) => {
            parts.push(Part::new(vec![one(
                format!("acct {}", id.account),
                theme.accent,
            )]));
            // The whole ARN where it fits, else its resource part (user/…, assumed-role/…).
            let resource = id.arn.rsplit(':').next().unwrap_or(&id.arn).to_string();
            parts.push(Part::new(vec![
                vec![Span::raw(id.arn.clone())],
                vec![Span::raw(resource)],
            ]));
        }
        (None, Some(_)) => {
            parts.push(Part::new(vec![one(
                "identity unknown".into(),
                theme.danger,
            )]));
            parts.push(Part::new(vec![]));
        }
        (None, None) => {
            parts.push(Part::new(vec![one(
                format!("identifying caller {}", spinner(state)),
                theme.dim,
            )]));
            parts.push(Part::new(vec![]));
        }
    }
    parts.push(Part::new(
        state
            .settings
            .profile
            .iter()
            .map(|p| vec![Span::raw(format!("profile {p}"))])
            .collect(),
    ));
    parts.push(Part::new(vec![vec![Span::raw(region_text(state))]]));
    parts
}

/// The shown parts as one line: the title and badge side by side, the rest between bars.
fn header_line(parts: &[Part], theme: &Theme) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    let mut first_after_badge = true;
    for (i, part) in parts.iter().enumerate() {
        let Some(p) = part.spans() else { continue };
        if i > H_BADGE {
            if first_after_badge {
                spans.push(Span::raw(" "));
                first_after_badge = false;
            } else {
                spans.push(Span::styled(" │ ", theme.dim));
            }
        }
        spans.extend(p.iter().cloned());
    }
    spans
}

/// The header: the incident's state first, then who and where, planned to the width so that
/// every part shows whole or not at all.
pub fn header_spans(state: &State, theme: &Theme, width: u16) -> Vec<Span<'static>> {
    let mut parts = header_parts(state, theme);
    let fits =
        |parts: &[Part]| layout::spans_width(&header_line(parts, theme)) <= usize::from(width);
    for step in MAKE_ROOM {
        if fits(&parts) {
            break;
        }
        match *step {
            Room::Drop(i) => {
                if let Some(p) = parts.get_mut(i) {
                    p.shown = None;
                }
            }
            Room::Shorten(i) => {
                if let Some(p) = parts.get_mut(i)
                    && let Some(s) = p.shown
                    && s + 1 < p.forms.len()
                {
                    p.shown = Some(s + 1);
                }
            }
        }
    }
    // Still too narrow: the incident's state goes from the end, the badge stays.
    for i in [H_PROGRESS, H_ERADICATED, H_VERDICT, H_CLOCK] {
        if fits(&parts) {
            break;
        }
        if let Some(p) = parts.get_mut(i) {
            p.shown = None;
        }
    }
    header_line(&parts, theme)
}

fn render_header(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let spans = header_spans(state, theme, area.width);
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn region_text(state: &State) -> String {
    match (
        &state.settings.regions,
        &state.regions.data,
        &state.regions.error,
    ) {
        (Some(list), _, _) => format!("{} regions", list.len()),
        (None, Some(list), _) => format!("{} regions", list.len()),
        (None, None, Some(_)) => "regions ?".into(),
        (None, None, None) => "regions …".into(),
    }
}

fn render_tabs(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let mut spans = vec![Span::raw(" ")];
    for (i, t) in TABS.iter().enumerate() {
        let label = format!(" {} {} ", i + 1, t.title());
        if *t == state.tab {
            spans.push(Span::styled(format!("[{}]", label.trim()), theme.cursor));
        } else {
            spans.push(Span::styled(label, theme.base));
        }
        spans.push(Span::raw(" "));
    }
    let mut right = Vec::new();
    if state.paused {
        right.push(Span::styled(" POLLING PAUSED (p resumes) ", theme.warn));
    }
    if let Some((since, src)) = state.since() {
        let from = src.words();
        // The tabs come first: the leak start shortens, then goes, when they need the room.
        let room = area
            .width
            .saturating_sub(width_of(&spans) + width_of(&right)) as usize;
        let minute = fmt::minute(since);
        let text = [
            format!(" leak started {minute} ({from}) "),
            format!(" leak started {minute} "),
            format!(" leak {} ", minute.get(5..).unwrap_or(&minute)),
        ]
        .into_iter()
        .find(|t| t.chars().count() <= room);
        if let Some(text) = text {
            right.push(Span::styled(text, theme.base));
        }
    }
    let [left_area, right_area] =
        Layout::horizontal([Constraint::Min(10), Constraint::Length(width_of(&right))]).areas(area);
    frame.render_widget(Paragraph::new(Line::from(spans)), left_area);
    frame.render_widget(Paragraph::new(Line::from(right)), right_area);
}

fn width_of(spans: &[Span]) -> u16 {
    layout::spans_width(spans) as u16
}

/// Lines that must not be missed: identity failure, root keys, running on a leaked key.
fn banner_lines(state: &State, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if let Some(b) = &state.access.banner {
        lines.push(Line::styled(format!(" ⚠ {b} (6 Access)"), theme.danger));
    }
    if let Some(e) = &state.identity.error {
        lines.push(Line::styled(
            format!(" ⚠ Cannot tell who keyspill runs as: {e}"),
            theme.danger,
        ));
    }
    if let Some(id) = state.self_key_id()
        && state.leaked.contains(id)
    {
        lines.push(Line::styled(
            " ⚠ keyspill is running on a LEAKED key: switch to a responder identity first"
                .to_string(),
            theme.danger,
        ));
    }
    if state
        .keys
        .data
        .data
        .as_ref()
        .and_then(|s| s.root_keys_present)
        == Some(true)
    {
        lines.push(Line::styled(
            " ⚠ ROOT ACCESS KEYS EXIST in this account: delete them (root sign-in, Security \
             credentials)"
                .to_string(),
            theme.danger,
        ));
    }
    if let Some(e) = &state.journal_error {
        lines.push(Line::styled(
            format!(" ⚠ Journal unavailable, actions are not recorded: {e}"),
            theme.warn,
        ));
    }
    lines
}

/// Rows `lines` take when wrapped at `width` (word wrapping never needs fewer).
pub fn wrapped_height(lines: &[Line], width: u16) -> u16 {
    Paragraph::new(lines.to_vec())
        .wrap(Wrap { trim: false })
        .line_count(width)
        .try_into()
        .unwrap_or(u16::MAX)
}

/// A tab's bordered pane with its title line; returns the inside, or `None` when there is
/// no room to draw in it.
pub fn pane(
    frame: &mut Frame,
    area: Rect,
    title: Vec<Span<'static>>,
    theme: &Theme,
) -> Option<Rect> {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border)
        .title_style(theme.base)
        .title(Line::from(title));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    (inner.height > 0 && inner.width > 0).then_some(inner)
}

/// "updated 12 s ago", a spinner while fetching, and how stale an error left the data.
pub fn freshness<T>(state: &State, loaded: &Loaded<T>) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    match loaded.fetched_at {
        Some(t) => spans.push(Span::raw(format!("updated {} ago", fmt::ago(state.now, t)))),
        None if loaded.error.is_some() => spans.push(Span::raw("never loaded")),
        None => spans.push(Span::raw("loading")),
    }
    if loaded.in_flight {
        spans.push(Span::raw(format!(" {}", spinner(state))));
    }
    if state.paused {
        spans.push(Span::raw(" · paused"));
    }
    spans
}

fn outcome_span(state: &State, o: &Outcome, theme: &Theme) -> Span<'static> {
    match o {
        Outcome::Running => Span::styled(format!("{} running", spinner(state)), theme.accent),
        Outcome::Done(d) => Span::styled(format!("✓ {d}"), theme.ok),
        Outcome::Failed(d) => Span::styled(format!("✗ {d}"), theme.danger),
        Outcome::Unknown => Span::styled("? outcome unknown: re-verifying".to_string(), theme.warn),
        Outcome::Reverified(d) => Span::styled(
            format!("? outcome was unknown; re-verified: {d}"),
            theme.warn,
        ),
    }
}

fn render_action_log(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let title = match &state.journal_dir {
        Some(d) => format!(" Actions · journal {d} "),
        None => " Actions ".to_string(),
    };
    let block = Block::default()
        .borders(Borders::TOP | Borders::BOTTOM)
        .border_style(theme.border)
        .title_style(theme.base)
        .title(Span::styled(title, theme.base));
    let lines: Vec<Line> = state
        .actions
        .iter()
        .rev()
        .take(3)
        .map(|a| {
            Line::from(vec![
                Span::styled(format!(" {} ", fmt::clock_time(a.at)), theme.dim),
                Span::styled(format!("{} ", a.operator), theme.dim),
                Span::raw(format!("{}  ", a.label)),
                outcome_span(state, &a.outcome, theme),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn render_footer(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let line = match &state.mode {
        Mode::Filter => Line::from(vec![
            Span::styled(
                format!(
                    "/{}▏",
                    match state.tab {
                        crate::app::state::Tab::Keys => &state.keys.filter,
                        crate::app::state::Tab::Timeline => &state.timeline.text,
                        crate::app::state::Tab::Resources => &state.resources.filter,
                        crate::app::state::Tab::Cost
                        | crate::app::state::Tab::Checklist
                        | crate::app::state::Tab::Access => "",
                    }
                ),
                theme.input,
            ),
            Span::styled("  Enter keeps the filter · Esc clears it", theme.base),
        ]),
        Mode::Command(text) => Line::from(vec![
            Span::styled(format!(":{text}▏"), theme.input),
            Span::styled("  Enter runs · Esc cancels", theme.base),
        ]),
        Mode::Note(text) => Line::from(vec![
            Span::styled(format!("note: {text}▏"), theme.input),
            Span::styled("  Enter adds it to the journal · Esc cancels", theme.base),
        ]),
        Mode::Clear(text) => Line::from(vec![
            Span::styled(format!("cleared because: {text}▏"), theme.input),
            Span::styled("  Enter clears it (journaled) · Esc cancels", theme.base),
        ]),
        Mode::Normal => match &state.flash {
            Some(f) => Line::styled(format!(" {}", f.text), level_style(theme, f.level)),
            None => hints(state, theme, area.width),
        },
    };
    frame.render_widget(Paragraph::new(line), area);
}

pub fn level_style(theme: &Theme, level: Level) -> Style {
    match level {
        Level::Info => theme.accent,
        Level::Ok => theme.ok,
        Level::Warn => theme.warn,
        Level::Error => theme.danger,
    }
}

/// The footer's key hints for what is on screen, from the key-binding table.
fn hints(state: &State, theme: &Theme, width: u16) -> Line<'static> {
    let footer = Footer::of(state);
    let pairs = footer.pairs();
    // `?` and `q` always fit; the rest are dropped from the end when the line is narrow.
    let essential: Vec<(String, &str)> = footer::ESSENTIAL
        .iter()
        .filter_map(|h| footer::resolve(*h, footer.scope()))
        .collect();
    let cost = |(k, w): &(String, &str)| k.chars().count() + w.chars().count() + 3;
    let mut budget =
        usize::from(width).saturating_sub(1 + essential.iter().map(cost).sum::<usize>());
    let mut shown: Vec<(String, &str)> = Vec::new();
    for p in pairs.into_iter().filter(|p| !essential.contains(p)) {
        if cost(&p) > budget {
            break;
        }
        budget -= cost(&p);
        shown.push(p);
    }
    shown.extend(essential);
    let mut spans = vec![Span::raw(" ")];
    for (k, what) in shown {
        spans.push(Span::styled(k, theme.title));
        spans.push(Span::styled(format!(" {what}  "), theme.base));
    }
    Line::from(spans)
}

/// A timestamp as "2026-11-22 14:03Z (3 h ago)".
pub fn when(state: &State, t: Timestamp) -> String {
    format!("{} ({} ago)", fmt::minute(t), fmt::ago(state.now, t))
}
