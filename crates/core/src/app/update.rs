//! `update(state, msg) -> effects`: the only place state changes, and the only place the
//! read-only rule is enforced.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::keymap::{self, Command, LineCommand};
use crate::app::msg::{ActionReport, Effect, JournalOpened, Msg};
use crate::app::plan::Plan;
use crate::app::state::{
    ActionRecord, ConfirmDialog, Dialog, FLASH_SECONDS, Level, Mode, Source, State, TABS, Tab,
};
use crate::app::{access, checklist, cost, keys, resources, secret, timeline};
use crate::domain::validate_key_id;
use crate::journal::{self, Outcome};
use crate::resources::plan::Purpose;

pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    // The foothold model follows every change of what it reads (a poll, an event, a chain, an
    // action's read-back, a key marked leaked, a clearance) and the clock when a session or
    // the leaked keys' unseen sessions expire, so the header never says "contained" on a
    // stale answer. Other messages (keys that move a cursor, the spinner's ticks) leave it.
    let due = match &msg {
        Msg::Tick(now) => state.access.next_change.is_some_and(|t| *now >= t),
        Msg::Key(_) | Msg::Resize { .. } | Msg::FetchStarted(_) | Msg::TimelineProgress(_) => false,
        _ => true,
    };
    let inputs = access::Generation::of(state);
    let mut effects = apply(state, msg);
    if due || access::Generation::of(state) != inputs {
        effects.extend(access::refresh(state));
    }
    effects
}

fn apply(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => on_key(state, key),
        Msg::Tick(now) => {
            crate::app::times::count_cost_review(state, now);
            state.now = now;
            state.frame = state.frame.wrapping_add(1);
            if state
                .flash
                .as_ref()
                .is_some_and(|f| (now - f.at).whole_seconds() >= FLASH_SECONDS)
            {
                state.flash = None;
            }
            cost::on_tick(state);
            checklist::on_tick(state)
        }
        Msg::Resize { height } => {
            // Header, tabs, borders, table header, action log and footer take about 12 rows.
            state.page_rows = usize::from(height.saturating_sub(12)).max(1);
            state.screen_rows = height;
            vec![]
        }
        Msg::FetchStarted(source) => {
            match source {
                Source::Identity => state.identity.in_flight = true,
                Source::Keys => state.keys.data.in_flight = true,
                Source::Access => state.access.data.in_flight = true,
                Source::Detections => state.detections.in_flight = true,
                Source::Timeline | Source::Resources | Source::Members => {}
                Source::Cost => {
                    state.cost.data.in_flight = true;
                    state.cost.anomalies.in_flight = true;
                }
            }
            vec![]
        }
        Msg::Identity { seq, at, result } => {
            state.identity.apply(seq, at, result);
            vec![]
        }
        Msg::Regions { seq, at, result } => {
            state.regions.apply(seq, at, result);
            vec![]
        }
        Msg::Keys { seq, at, result } => keys::on_keys(state, seq, at, result),
        Msg::Access { seq, at, result } => {
            access::on_access(state, seq, at, result);
            vec![]
        }
        Msg::Detections { seq, at, result } => on_detections(state, seq, at, result),
        Msg::Members(m) => {
            let effects = resources::on_members(state, &m);
            access::on_members(state, m);
            effects
        }
        Msg::Simulated { arn, at, result } => {
            crate::app::perms::on_simulated(state, &arn, at, result);
            vec![]
        }
        Msg::KeyInfo { key_id, result } => {
            keys::on_key_info(state, key_id, result);
            vec![]
        }
        Msg::UserDetail { user, at, result } => {
            keys::on_user_detail(state, user, at, result);
            vec![]
        }
        Msg::JournalOpened(result) => on_journal(state, result),
        Msg::ActionStarted { id, label, at } => {
            state.running.push(id.clone());
            state.actions.push(ActionRecord {
                id,
                at,
                operator: state.settings.operator.clone(),
                label,
                outcome: Outcome::Running,
            });
            vec![]
        }
        Msg::ActionFinished { id, at, report } => on_action_finished(state, id, at, report),
        Msg::SecretCreated { new_key, old_key } => secret::on_created(state, new_key, old_key),
        Msg::Exported(result) => {
            match result {
                Ok(path) => state.flash(Level::Ok, format!("report written: {path}")),
                Err(e) => state.flash(Level::Error, format!("report not written: {e}")),
            }
            vec![]
        }
        Msg::SecretWritten(result) => secret::on_written(state, result),
        Msg::TimelineEvents { at, events } => {
            access::on_events(state, &events);
            timeline::on_events(state, at, events);
            resources::on_timeline_grew(state);
            vec![]
        }
        Msg::ResourcesStarted { seq, at, regions } => {
            resources::on_started(state, seq, at, regions);
            vec![]
        }
        Msg::ResourcesRegion { seq, at, sweep } => resources::on_region(state, seq, at, sweep),
        Msg::ResourcesDone { seq, at } => {
            resources::on_done(state, seq, at);
            vec![]
        }
        Msg::ResourceParts { target, parts } => {
            resources::on_parts(state, target, parts);
            vec![]
        }
        Msg::CostFetched {
            seq,
            at,
            window,
            data,
            anomalies,
            requests,
        } => {
            cost::on_fetched(state, seq, at, window, data, anomalies, requests);
            vec![]
        }
        Msg::RemovalStep { index, state: step } => {
            resources::on_step(state, index, step);
            vec![]
        }
        Msg::EvidenceKept(entries) => {
            resources::on_evidence(state, entries);
            vec![]
        }
        Msg::TimelineChains(chains) => {
            timeline::on_chains(state, chains);
            vec![]
        }
        Msg::TimelineProgress(p) => {
            timeline::on_progress(state, p);
            vec![]
        }
        Msg::Reverified {
            action_id,
            detail,
            created_key,
        } => {
            state.response_keys.extend(created_key);
            if let Some(a) = state.actions.iter_mut().find(|a| a.id == action_id) {
                a.outcome = Outcome::Reverified(detail.clone());
            }
            state.flash(Level::Info, format!("re-verified: {detail}"));
            vec![]
        }
    }
}

fn on_journal(state: &mut State, result: Result<JournalOpened, String>) -> Vec<Effect> {
    let opened = match result {
        Ok(o) => o,
        Err(e) => {
            state.journal_error = Some(e.clone());
            state.flash(Level::Error, format!("journal unavailable: {e}"));
            return vec![];
        }
    };
    state.journal_dir = Some(opened.dir);
    let r = opened.resumed;
    checklist::restore(state, &r);
    access::restore(state, &r);
    state.since_journal = r.since.map(|t| {
        (
            t,
            crate::app::times::source_of(r.since_from.as_deref().unwrap_or("")),
        )
    });
    // A new journal's first entry (written by the runtime) carries `--since`.
    state.since_recorded = state.since_journal.or(if r.entries == 0 {
        state
            .since_flag
            .map(|t| (t, crate::app::state::SinceSource::Flag))
    } else {
        None
    });
    state.opened_at = r.opened_at;
    state.leaked.extend(r.leaked_keys);
    state.response_keys.extend(r.created_keys);
    resources::on_evidence(state, r.kept);
    state.alerts_journaled.extend(r.alerts);
    for a in r.actions {
        state.actions.push(ActionRecord {
            id: a.id,
            at: a.at.unwrap_or(state.now),
            operator: a.operator,
            label: a.label,
            outcome: a.outcome,
        });
    }
    let mut problems = Vec::new();
    if let Some(tail) = &r.torn_tail {
        problems.push(format!("last journal line was cut off mid-write ({tail}…)"));
    }
    if !r.bad_lines.is_empty() {
        problems.push(format!(
            "{} journal lines are not entries ({})",
            r.bad_lines.len(),
            r.bad_lines[0]
        ));
    }
    let mut effects = Vec::new();
    if !r.pending.is_empty() {
        problems.push(format!(
            "{} step(s) from the last session have an unknown outcome: re-verifying against AWS",
            r.pending.len()
        ));
        effects.push(Effect::Reverify(r.pending));
    }
    if !problems.is_empty() {
        state.flash(Level::Warn, problems.join("; "));
    }
    effects.extend(keys::record_since(state));
    effects
}

fn on_action_finished(
    state: &mut State,
    id: String,
    at: crate::domain::Timestamp,
    report: ActionReport,
) -> Vec<Effect> {
    state.running.retain(|r| r != &id);
    if let Some(a) = state.actions.iter_mut().find(|a| a.id == id) {
        a.outcome = if report.ok {
            Outcome::Done(report.summary.clone())
        } else {
            Outcome::Failed(report.summary.clone())
        };
    }
    let level = if report.ok { Level::Ok } else { Level::Error };
    state.flash(level, report.summary.clone());
    let removal = state
        .resources
        .removal
        .as_ref()
        .is_some_and(|r| !r.finished);
    if removal {
        return resources::removal_finished(state, report.account.as_deref());
    }
    keys::on_action_finished(state, at, &report)
}

/// Keys, in layers: a dialog takes every key, then an edit line (filter, note, command line),
/// then `dispatch` routes the command the key means on the focused tab.
fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let ctrl_c = key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
    if state.dialog.is_some() {
        if ctrl_c {
            return cancel_dialog(state);
        }
        return on_dialog_key(state, key);
    }
    if ctrl_c {
        return request_quit(state);
    }
    match state.mode.clone() {
        Mode::Filter => return on_filter_key(state, key),
        Mode::Command(line) => return on_command_key(state, key, line),
        Mode::Note(text) => {
            return on_text_key(state, key, text, Mode::Note, |s, t| {
                checklist::add_note(s, t, true)
            });
        }
        Mode::Clear(text) => return on_text_key(state, key, text, Mode::Clear, access::clear),
        Mode::Normal => {}
    }
    match keymap::lookup(&key, state.tab.scope()) {
        Some(cmd) => dispatch(state, cmd),
        None => vec![],
    }
}

/// A normal-mode command: the focused tab's open pane first, then the commands that work
/// everywhere, then the focused tab, which either handles it or says it does nothing there.
pub fn dispatch(state: &mut State, cmd: Command) -> Vec<Effect> {
    // Copying reads the row under the cursor, with or without a pane open over it.
    if matches!(cmd, Command::CopyId | Command::CopyJson) {
        return crate::app::copy::on_copy(state, cmd);
    }
    let pane = match state.tab {
        Tab::Keys => keys::on_pane(state, cmd),
        Tab::Timeline => timeline::on_pane(state, cmd),
        Tab::Resources => resources::on_pane(state, cmd),
        Tab::Access => crate::app::perms::on_pane(state, cmd),
        Tab::Cost | Tab::Checklist => None,
    };
    if let Some(effects) = pane {
        return effects;
    }
    if let Some(effects) = on_global(state, cmd) {
        return effects;
    }
    let handled = match state.tab {
        Tab::Keys => keys::on_command(state, cmd),
        Tab::Timeline => timeline::on_command(state, cmd),
        Tab::Resources => resources::on_command(state, cmd),
        Tab::Cost => cost::on_command(state, cmd),
        Tab::Checklist => checklist::on_command(state, cmd),
        Tab::Access => access::on_command(state, cmd),
    };
    handled.unwrap_or_else(|| not_here(state, cmd))
}

/// Commands that mean the same on every tab; `None` for the rest.
fn on_global(state: &mut State, cmd: Command) -> Option<Vec<Effect>> {
    match cmd {
        Command::Help => state.dialog = Some(Dialog::Help(0)),
        Command::Quit => return Some(request_quit(state)),
        Command::GoTab(i) => {
            if let Some(t) = TABS.get(i) {
                state.tab = *t;
            }
        }
        Command::NextTab | Command::PrevTab => {
            let i = TABS.iter().position(|t| *t == state.tab).unwrap_or(0);
            let n = TABS.len();
            let j = if cmd == Command::NextTab {
                (i + 1) % n
            } else {
                (i + n - 1) % n
            };
            state.tab = TABS[j];
        }
        Command::TogglePause => {
            state.paused = !state.paused;
            let word = if state.paused { "paused" } else { "resumed" };
            state.flash(Level::Info, format!("background polling {word}"));
            return Some(vec![Effect::SetPaused(state.paused)]);
        }
        Command::CommandLine => state.mode = Mode::Command(String::new()),
        _ => return None,
    }
    Some(vec![])
}

/// A command the focused tab has no use for: said, never passed to another tab.
fn not_here(state: &mut State, cmd: Command) -> Vec<Effect> {
    let key = keymap::key_label(cmd, state.tab.scope()).unwrap_or("that key");
    let tab = state.tab.title();
    state.flash(
        Level::Info,
        format!("not here: {key} does nothing on the {tab} tab"),
    );
    vec![]
}

fn cancel_dialog(state: &mut State) -> Vec<Effect> {
    match state.dialog.take() {
        Some(Dialog::Confirm(c)) => {
            state.flash(
                Level::Info,
                format!("cancelled: {} (nothing changed)", c.plan.label()),
            );
        }
        // The secret is shown once: closing it needs a deliberate Enter.
        Some(d @ Dialog::Secret(_)) => state.dialog = Some(d),
        _ => {}
    }
    vec![]
}

fn on_dialog_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    // The help's end on this screen, known before the dialog is borrowed (before the first
    // resize, the height is 0 and the end is its last line; the render clamps to the box).
    let help_end = match &state.dialog {
        Some(Dialog::Help(_)) => crate::ui::dialogs::help_max_scroll(state, state.screen_rows),
        _ => 0,
    };
    let Some(dialog) = state.dialog.as_mut() else {
        return vec![];
    };
    match dialog {
        Dialog::Help(scroll) => {
            let page = u16::try_from(state.page_rows).unwrap_or(10).max(1);
            match key.code {
                KeyCode::Char('j') | KeyCode::Down => *scroll = scroll.saturating_add(1),
                KeyCode::Char('k') | KeyCode::Up => *scroll = scroll.saturating_sub(1),
                KeyCode::PageDown => *scroll = scroll.saturating_add(page),
                KeyCode::PageUp => *scroll = scroll.saturating_sub(page),
                KeyCode::Char('g') | KeyCode::Home => *scroll = 0,
                KeyCode::Char('G') | KeyCode::End => *scroll = help_end,
                KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter => {
                    state.dialog = None
                }
                _ => {}
            }
            if let Some(Dialog::Help(scroll)) = state.dialog.as_mut() {
                *scroll = (*scroll).min(help_end);
            }
            vec![]
        }
        Dialog::QuitWhileRunning => {
            match key.code {
                KeyCode::Char('y') => state.quit = true,
                KeyCode::Char('n') | KeyCode::Esc => state.dialog = None,
                _ => {}
            }
            vec![]
        }
        Dialog::Confirm(c) => match key.code {
            KeyCode::Esc => cancel_dialog(state),
            KeyCode::Down => {
                c.scroll = c.scroll.saturating_add(1);
                vec![]
            }
            KeyCode::Up => {
                c.scroll = c.scroll.saturating_sub(1);
                vec![]
            }
            KeyCode::PageDown => {
                c.scroll = c.scroll.saturating_add(10);
                vec![]
            }
            KeyCode::PageUp => {
                c.scroll = c.scroll.saturating_sub(10);
                vec![]
            }
            KeyCode::Backspace => {
                c.typed.pop();
                vec![]
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                c.typed.clear();
                vec![]
            }
            KeyCode::Tab => {
                let word = toggle_evidence(c);
                if let Some(word) = word {
                    state.flash(Level::Warn, word);
                }
                vec![]
            }
            KeyCode::Char('e') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                let word = toggle_environment(c);
                state.flash(Level::Warn, word);
                vec![]
            }
            KeyCode::Char(ch) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                c.typed.push(ch);
                vec![]
            }
            KeyCode::Enter if c.matches() => {
                c.stage += 1;
                c.typed.clear();
                c.scroll = 0;
                if c.current().is_some() {
                    return vec![];
                }
                let plan = c.plan.clone();
                state.dialog = None;
                execute(state, plan)
            }
            _ => vec![],
        },
        Dialog::Secret(_) => secret::on_key(state, key),
    }
}

/// `Tab` in a removal or isolation plan's dialog: evidence off (the keep steps dropped, a
/// warning stage added) or back on. The typed text and the stage start over.
fn toggle_evidence(c: &mut ConfirmDialog) -> Option<String> {
    let Plan::RemoveResources(p) = c.plan.inner() else {
        return None;
    };
    if p.purpose == Purpose::KeepOnly {
        return Some("this plan only keeps evidence".into());
    }
    let word = if let Some(full) = c.with_evidence.take() {
        // Back on; Ctrl-E kept this copy's environment choice up to date.
        c.plan = full;
        "evidence will be kept first"
    } else if p.keeps_evidence() {
        let without = Plan::RemoveResources(p.without_evidence());
        c.with_evidence = Some(c.plan.clone());
        c.plan = c.plan.clone().map_inner(|_| without);
        "NO EVIDENCE will be kept: confirm with the words asked"
    } else {
        return Some("nothing in this plan can be kept".into());
    };
    c.stages = c.plan.stages();
    c.stage = 0;
    c.typed.clear();
    c.scroll = 0;
    Some(word.into())
}

/// `Ctrl-E`: Lambda environment values saved in clear, or masked again (in the plan shown and
/// in the one `Tab` would bring back).
fn toggle_environment(c: &mut ConfirmDialog) -> String {
    let plans = || {
        [Some(&c.plan), c.with_evidence.as_ref()]
            .into_iter()
            .flatten()
    };
    let removal = |plan: &Plan| match plan.inner() {
        Plan::RemoveResources(p) => Some(p.clone()),
        _ => None,
    };
    if !plans().filter_map(removal).any(|p| p.has_function_keep()) {
        return "no function's configuration is kept in this plan".into();
    }
    let clear = !plans().filter_map(removal).any(|p| p.environment_values());
    c.with_evidence = c.with_evidence.as_ref().map(|p| with_environment(p, clear));
    c.plan = with_environment(&c.plan, clear);
    c.stages = c.plan.stages();
    c.stage = 0;
    c.typed.clear();
    if clear {
        "Lambda environment values will be saved IN CLEAR (journaled)".into()
    } else {
        "Lambda environment values will be masked".into()
    }
}

/// A removal plan with Lambda environment values saved in clear or masked; any other plan as
/// it is.
fn with_environment(plan: &Plan, clear: bool) -> Plan {
    plan.clone().map_inner(|plan| match plan {
        Plan::RemoveResources(p) => Plan::RemoveResources(p.with_environment_values(clear)),
        other => other,
    })
}

fn on_filter_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    match state.tab {
        Tab::Keys => keys::on_filter_key(state, key),
        Tab::Timeline => timeline::on_filter_key(state, key),
        Tab::Resources => resources::on_filter_key(state, key),
        // Nothing to filter there: leave the edit line.
        Tab::Cost | Tab::Checklist | Tab::Access => {
            state.mode = Mode::Normal;
            vec![]
        }
    }
}

/// A one-line text being typed (a note, a clearance's reason): Esc drops it, Enter hands it
/// to `done`, anything else edits it and stays in the mode `wrap` makes.
fn on_text_key(
    state: &mut State,
    key: KeyEvent,
    mut text: String,
    wrap: fn(String) -> Mode,
    done: fn(&mut State, String) -> Vec<Effect>,
) -> Vec<Effect> {
    match key.code {
        KeyCode::Esc => state.mode = Mode::Normal,
        KeyCode::Backspace => {
            text.pop();
            state.mode = wrap(text);
        }
        KeyCode::Char(c) => {
            text.push(c);
            state.mode = wrap(text);
        }
        KeyCode::Enter => {
            state.mode = Mode::Normal;
            return done(state, text);
        }
        _ => {}
    }
    vec![]
}

fn on_command_key(state: &mut State, key: KeyEvent, mut line: String) -> Vec<Effect> {
    match key.code {
        KeyCode::Esc => {
            state.mode = Mode::Normal;
            vec![]
        }
        KeyCode::Backspace => {
            if line.pop().is_none() {
                state.mode = Mode::Normal;
            } else {
                state.mode = Mode::Command(line);
            }
            vec![]
        }
        KeyCode::Char(c) => {
            line.push(c);
            state.mode = Mode::Command(line);
            vec![]
        }
        KeyCode::Enter => {
            state.mode = Mode::Normal;
            run_command_line(state, line.trim())
        }
        _ => vec![],
    }
}

fn run_command_line(state: &mut State, line: &str) -> Vec<Effect> {
    let mut words = line.split_whitespace();
    let verb = words.next().unwrap_or("");
    if verb.is_empty() {
        return vec![];
    }
    let Some(cmd) = keymap::parse_line(verb) else {
        state.flash(Level::Error, keymap::unknown_line(verb));
        return vec![];
    };
    match cmd {
        LineCommand::Quit => request_quit(state),
        LineCommand::Refresh => refresh_all(state),
        LineCommand::Help => {
            state.dialog = Some(Dialog::Help(0));
            vec![]
        }
        LineCommand::Note => {
            let text = line.strip_prefix(verb).unwrap_or("").trim().to_string();
            if text.is_empty() {
                state.flash(
                    Level::Error,
                    ":note needs text, e.g. :note support case 123 opened",
                );
                return vec![];
            }
            checklist::add_note(state, text, false)
        }
        LineCommand::Close => checklist::close(state),
        LineCommand::Detected => {
            let arg = line.strip_prefix(verb).unwrap_or("");
            crate::app::times::set_detected(state, arg)
        }
        LineCommand::Can => {
            let args = line.strip_prefix(verb).unwrap_or("").to_string();
            crate::app::perms::open_on(state, &args)
        }
        LineCommand::Export => {
            let snap = checklist::snapshot(state);
            state.checklist.last_snapshot = Some(snap.clone());
            state.checklist.snapshot_at = Some(state.now);
            vec![Effect::Export(Box::new(snap))]
        }
        LineCommand::Key => {
            let Some(id) = words.next() else {
                state.flash(
                    Level::Error,
                    ":key needs a key id, e.g. :key AKIAIOSFODNN7EXAMPLE",
                );
                return vec![];
            };
            let id = id.trim().to_string();
            if let Err(e) = validate_key_id(&id) {
                state.flash(Level::Error, e);
                return vec![];
            }
            keys::mark_leaked(state, id)
        }
    }
}

fn request_quit(state: &mut State) -> Vec<Effect> {
    if state.action_running() {
        state.dialog = Some(Dialog::QuitWhileRunning);
    } else {
        state.quit = true;
    }
    vec![]
}

pub(crate) fn refresh_all(state: &mut State) -> Vec<Effect> {
    state.flash(Level::Info, "refreshing every pane");
    vec![
        Effect::Refresh(Source::Identity),
        Effect::Refresh(Source::Keys),
        Effect::Refresh(Source::Timeline),
        Effect::Refresh(Source::Resources),
        Effect::Refresh(Source::Cost),
        Effect::Refresh(Source::Access),
        Effect::Refresh(Source::Detections),
    ]
}

/// Why no destructive action may start now, if that is so.
fn refusal(state: &State) -> Option<String> {
    if state.settings.read_only {
        return Some(
            "READ-ONLY: keyspill was started with --read-only; nothing is changed in AWS".into(),
        );
    }
    if state.action_running() {
        return Some("an action is still running: wait for its outcome first".into());
    }
    None
}

/// Opens the confirmation dialog for a plan, unless actions are refused.
pub(crate) fn propose(state: &mut State, plan: Plan) -> Vec<Effect> {
    if let Some(reason) = refusal(state) {
        state.flash(Level::Error, reason);
        return vec![];
    }
    state.dialog = Some(Dialog::Confirm(ConfirmDialog {
        stages: plan.stages(),
        plan,
        stage: 0,
        typed: String::new(),
        scroll: 0,
        with_evidence: None,
    }));
    vec![]
}

/// The read-only gate: the one place a confirmed plan becomes an effect.
fn execute(state: &mut State, plan: Plan) -> Vec<Effect> {
    if let Some(reason) = refusal(state) {
        state.flash(Level::Error, reason);
        return vec![];
    }
    // The revocation's cut-off is the moment the operator confirms, not the moment the dialog
    // opened: a session minted while the room read the dialog is revoked too.
    let stamp = |plan: Plan| match plan {
        Plan::RevokeSessions { principals, .. } => Plan::RevokeSessions {
            principals,
            cutoff: journal::format_ts(state.now),
        },
        other => other,
    };
    let plan = plan.map_inner(stamp);
    state.flash(Level::Info, format!("running: {}", plan.label()));
    let mut effects = Vec::new();
    if let Plan::RemoveResources(p) = plan.inner() {
        resources::removal_started(state, p);
        // What the console knows now, who made each resource included, goes into the journal
        // before the first call: the report names the makers of what is then removed.
        if state.journal_dir.is_some() {
            let snap = checklist::snapshot(state);
            state.checklist.last_snapshot = Some(snap.clone());
            state.checklist.snapshot_at = Some(state.now);
            effects.push(Effect::Journal(journal::Event::Snapshot(Box::new(snap))));
        }
    }
    effects.push(Effect::Execute(plan));
    effects
}

/// The detection sources answered: new alerts go to the journal (once each, for the report);
/// exposed keys nobody tracks yet are proposed.
fn on_detections(
    state: &mut State,
    seq: u64,
    at: crate::domain::Timestamp,
    result: Result<crate::detect::Detections, crate::domain::Failure>,
) -> Vec<Effect> {
    let leaked = &state.leaked;
    let before: Vec<String> = state
        .detections
        .data
        .as_ref()
        .map(|d| d.proposed(&|k| leaked.contains(k)))
        .unwrap_or_default()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    if !state.detections.apply(seq, at, result) {
        return vec![];
    }
    let Some(d) = state.detections.data.as_ref() else {
        return vec![];
    };
    let mut effects = Vec::new();
    for a in d.sorted() {
        if state.alerts_journaled.insert(a.id.clone()) {
            effects.push(Effect::Journal(journal::Event::Alert {
                alert: Box::new(a.clone()),
            }));
        }
    }
    let leaked = &state.leaked;
    let proposed = d.proposed(&|k| leaked.contains(k));
    // Said once per newly exposed key, not at every read.
    if let Some((key, sources)) = proposed.iter().find(|(k, _)| !before.contains(k)) {
        let names: Vec<&str> = sources.iter().map(|s| s.name()).collect();
        state.flash(
            Level::Warn,
            format!(
                "{} names {key} as exposed: :key {key} tracks it{}",
                names.join(" and "),
                if proposed.len() > 1 {
                    format!(" ({} more on the Keys tab)", proposed.len() - 1)
                } else {
                    String::new()
                }
            ),
        );
    }
    effects
}
