//! `update(state, msg) -> effects`: the only place state changes, and the only place the
//! read-only rule is enforced.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::app::keymap::{self, Command, Scope};
use crate::app::msg::{ActionReport, Effect, JournalOpened, Msg};
use crate::app::plan::{KeyRef, Plan};
use crate::app::state::{
    ActionRecord, ConfirmDialog, DetailView, Dialog, FLASH_SECONDS, Level, Loaded, Mode,
    SecretDialog, SinceSource, Source, State, TABS, Tab,
};
use crate::app::{checklist, cost, resources, timeline};
use crate::domain::{ForeignKey, KeyStatus, key_short, validate_key_id};
use crate::journal::{self, Event, Outcome};

pub fn update(state: &mut State, msg: Msg) -> Vec<Effect> {
    let effects = apply(state, msg);
    // The cost figures have been on screen: the checklist counts them as reviewed.
    if state.tab == Tab::Cost && state.cost.data.data.is_some() {
        state.checklist.cost_seen = true;
    }
    effects
}

fn apply(state: &mut State, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Key(key) => on_key(state, key),
        Msg::Tick(now) => {
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
            vec![]
        }
        Msg::FetchStarted(source) => {
            match source {
                Source::Identity => state.identity.in_flight = true,
                Source::Keys => state.keys.data.in_flight = true,
                Source::Timeline | Source::Resources => {}
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
        Msg::Keys { seq, at, result } => on_keys(state, seq, at, result),
        Msg::KeyInfo { key_id, result } => {
            let account = match result {
                Ok(a) => Some(a),
                Err(e) => {
                    state.flash(
                        Level::Warn,
                        format!("owner of {} unknown: {e}", key_short(&key_id)),
                    );
                    None
                }
            };
            if let Some(f) = state.keys.foreign.iter_mut().find(|f| f.key_id == key_id) {
                f.account = account;
            }
            vec![]
        }
        Msg::UserDetail { user, at, result } => {
            if let Some(d) = state.keys.detail.as_mut().filter(|d| d.user == user) {
                let seq = d.data.seq;
                d.data.apply(seq, at, result);
            }
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
        Msg::SecretCreated { new_key, old_key } => {
            state.response_keys.insert(new_key.key_id.clone());
            let path = format!("./{}-{}.secret.csv", new_key.user, new_key.key_id);
            state.dialog = Some(Dialog::Secret(SecretDialog {
                new_key,
                old_key,
                path,
                editing_path: false,
                written: None,
            }));
            vec![]
        }
        Msg::Exported(result) => {
            match result {
                Ok(path) => state.flash(Level::Ok, format!("report written: {path}")),
                Err(e) => state.flash(Level::Error, format!("report not written: {e}")),
            }
            vec![]
        }
        Msg::SecretWritten(result) => {
            if let Some(Dialog::Secret(d)) = state.dialog.as_mut() {
                d.written = Some(result);
            }
            vec![]
        }
        Msg::TimelineEvents { at, events } => {
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
        Msg::TimelineChains(chains) => {
            timeline::on_chains(state, chains);
            vec![]
        }
        Msg::TimelineProgress(p) => {
            timeline::on_progress(state, p);
            vec![]
        }
        Msg::Reverified { action_id, detail } => {
            if let Some(a) = state.actions.iter_mut().find(|a| a.id == action_id) {
                a.outcome = Outcome::Reverified(detail.clone());
            }
            state.flash(Level::Info, format!("re-verified: {detail}"));
            vec![]
        }
    }
}

fn on_keys(
    state: &mut State,
    seq: u64,
    at: crate::domain::Timestamp,
    result: Result<crate::domain::KeysSnapshot, crate::domain::Failure>,
) -> Vec<Effect> {
    if !state.keys.data.apply(seq, at, result) {
        return vec![];
    }
    keys_changed(state)
}

/// After the key list or the set of leaked keys changed: look up owners of leaked keys IAM
/// does not list, drop selections of vanished keys, and place the cursor if it has no key.
fn keys_changed(state: &mut State) -> Vec<Effect> {
    let mut effects = Vec::new();
    if let Some(snap) = &state.keys.data.data {
        // Leaked keys IAM does not list: ask STS which account owns them, once.
        for id in &state.leaked {
            let known = snap.keys.iter().any(|k| &k.key_id == id);
            let asked = state.keys.foreign.iter().any(|f| &f.key_id == id);
            if !known && !asked {
                state.keys.foreign.push(ForeignKey {
                    key_id: id.clone(),
                    account: None,
                });
                effects.push(Effect::LookupKeyInfo(id.clone()));
            }
        }
        // Drop selections of keys that are gone.
        let ids: Vec<&str> = snap.keys.iter().map(|k| k.key_id.as_str()).collect();
        state.keys.selected.retain(|s| ids.contains(&s.as_str()));
    }
    if state.keys.cursor.is_none() {
        state.keys.cursor = state.key_rows().first().map(|r| r.key_id.clone());
    }
    effects.extend(record_since(state));
    effects
}

/// Once the leak's start is first derived from a key's creation, write it to the journal so
/// the clock survives a restart after the key is gone.
fn record_since(state: &mut State) -> Vec<Effect> {
    if state.journal_dir.is_none() || state.since_recorded {
        return vec![];
    }
    match state.since() {
        Some((t, SinceSource::KeyCreation)) => {
            state.since_recorded = true;
            vec![Effect::Journal(Event::Since {
                since: journal::format_ts(t),
                from: "leaked key created".into(),
            })]
        }
        _ => vec![],
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
    state.since_journal = r.since;
    state.leaked.extend(r.leaked_keys);
    state.response_keys.extend(r.created_keys);
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
    effects.extend(record_since(state));
    effects
}

fn on_action_finished(
    state: &mut State,
    id: String,
    at: crate::domain::Timestamp,
    report: ActionReport,
) -> Vec<Effect> {
    state.running.retain(|r| r != &id);
    let removal = state
        .resources
        .removal
        .as_ref()
        .is_some_and(|r| !r.finished);
    if removal {
        if let Some(a) = state.actions.iter_mut().find(|a| a.id == id) {
            a.outcome = if report.ok {
                Outcome::Done(report.summary.clone())
            } else {
                Outcome::Failed(report.summary.clone())
            };
        }
        let level = if report.ok { Level::Ok } else { Level::Error };
        state.flash(level, report.summary);
        return resources::removal_finished(state);
    }
    if let Some(a) = state.actions.iter_mut().find(|a| a.id == id) {
        a.outcome = if report.ok {
            Outcome::Done(report.summary.clone())
        } else {
            Outcome::Failed(report.summary.clone())
        };
    }
    // Show what IAM says now, not what the action assumed.
    if let Some(snap) = state.keys.data.data.as_mut() {
        for obs in &report.observed {
            snap.keys
                .retain(|k| k.user != obs.user || obs.keys.iter().any(|(id, _)| id == &k.key_id));
            for k in snap.keys.iter_mut().filter(|k| k.user == obs.user) {
                if let Some((_, status)) = obs.keys.iter().find(|(id, _)| id == &k.key_id) {
                    k.status = *status;
                }
            }
        }
        state.keys.data.fetched_at = Some(at);
    }
    let level = if report.ok { Level::Ok } else { Level::Error };
    state.flash(level, report.summary);
    state.keys.selected.clear();
    vec![Effect::Refresh(Source::Keys)]
}

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
        Mode::Note(text) => return on_note_key(state, key, text),
        Mode::Normal => {}
    }
    if state.tab == Tab::Keys && state.keys.detail.is_some() {
        return on_detail_key(state, key);
    }
    if state.tab == Tab::Timeline && state.timeline.detail.is_some() {
        return on_record_key(state, key);
    }
    if state.tab == Tab::Resources
        && (state.resources.detail.is_some() || state.resources.removal.is_some())
        && let Some(effects) = on_resource_pane_key(state, key)
    {
        return effects;
    }
    match keymap::lookup(&key, state.tab.scope()) {
        Some(cmd) => on_command(state, cmd),
        None => vec![],
    }
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
    let Some(dialog) = state.dialog.as_mut() else {
        return vec![];
    };
    match dialog {
        Dialog::Help(scroll) => {
            match key.code {
                KeyCode::Char('j') | KeyCode::Down => *scroll = scroll.saturating_add(1),
                KeyCode::Char('k') | KeyCode::Up => *scroll = scroll.saturating_sub(1),
                KeyCode::PageDown => *scroll = scroll.saturating_add(10),
                KeyCode::PageUp => *scroll = scroll.saturating_sub(10),
                KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter => {
                    state.dialog = None
                }
                _ => {}
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
        Dialog::Secret(s) => {
            if s.editing_path {
                match key.code {
                    KeyCode::Esc => s.editing_path = false,
                    KeyCode::Backspace => {
                        s.path.pop();
                    }
                    KeyCode::Enter => {
                        s.editing_path = false;
                        return vec![Effect::WriteSecret {
                            path: s.path.clone(),
                            key: s.new_key.clone(),
                        }];
                    }
                    KeyCode::Char(ch) => s.path.push(ch),
                    _ => {}
                }
                return vec![];
            }
            match key.code {
                KeyCode::Char('w') => s.editing_path = true,
                KeyCode::Enter => {
                    let id = key_short(&s.new_key.key_id);
                    state.dialog = None;
                    state.flash(
                        Level::Info,
                        format!("secret of {id} closed; it cannot be shown again"),
                    );
                }
                _ => {}
            }
            vec![]
        }
    }
}

fn on_filter_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    if state.tab == Tab::Resources {
        let mut text = state.resources.filter.clone();
        match key.code {
            KeyCode::Esc => {
                text.clear();
                state.mode = Mode::Normal;
            }
            KeyCode::Enter => {
                state.mode = Mode::Normal;
                return vec![];
            }
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char(c) => text.push(c),
            _ => return vec![],
        }
        resources::set_filter(state, text);
        return vec![];
    }
    if state.tab == Tab::Timeline {
        let mut text = state.timeline.text.clone();
        match key.code {
            KeyCode::Esc => {
                text.clear();
                state.mode = Mode::Normal;
            }
            KeyCode::Enter => {
                state.mode = Mode::Normal;
                state.timeline.cursor = 0;
                return vec![];
            }
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char(c) => text.push(c),
            _ => return vec![],
        }
        timeline::set_text(state, text);
        return vec![];
    }
    match key.code {
        KeyCode::Esc => {
            state.keys.filter.clear();
            state.mode = Mode::Normal;
        }
        KeyCode::Enter => {
            state.mode = Mode::Normal;
            state.keys.cursor = state.key_rows().first().map(|r| r.key_id.clone());
        }
        KeyCode::Backspace => {
            state.keys.filter.pop();
        }
        KeyCode::Char(c) => state.keys.filter.push(c),
        _ => {}
    }
    vec![]
}

fn on_note_key(state: &mut State, key: KeyEvent, mut text: String) -> Vec<Effect> {
    match key.code {
        KeyCode::Esc => {
            state.mode = Mode::Normal;
            vec![]
        }
        KeyCode::Backspace => {
            text.pop();
            state.mode = Mode::Note(text);
            vec![]
        }
        KeyCode::Char(c) => {
            text.push(c);
            state.mode = Mode::Note(text);
            vec![]
        }
        KeyCode::Enter => {
            state.mode = Mode::Normal;
            checklist::add_note(state, text, true)
        }
        _ => vec![],
    }
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
    match verb {
        "" => vec![],
        "q" | "quit" => request_quit(state),
        "refresh" => refresh_all(state),
        "help" => {
            state.dialog = Some(Dialog::Help(0));
            vec![]
        }
        "note" => {
            let text = line.strip_prefix("note").unwrap_or("").trim().to_string();
            if text.is_empty() {
                state.flash(
                    Level::Error,
                    ":note needs text, e.g. :note support case 123 opened",
                );
                return vec![];
            }
            checklist::add_note(state, text, false)
        }
        "close" => checklist::close(state),
        "export" => {
            let snap = checklist::snapshot(state);
            state.checklist.last_snapshot = Some(snap.clone());
            state.checklist.snapshot_at = Some(state.now);
            vec![Effect::Export(Box::new(snap))]
        }
        "key" => {
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
            if !state.leaked.insert(id.clone()) {
                state.flash(
                    Level::Info,
                    format!("{} is already marked leaked", key_short(&id)),
                );
                return vec![];
            }
            state.keys.cursor = Some(id.clone());
            state.flash(Level::Warn, format!("{} marked as LEAKED", key_short(&id)));
            // Re-derive rows (and look up a key IAM does not list) at once.
            let mut effects = vec![
                Effect::Journal(Event::MarkedLeaked { key_id: id.clone() }),
                Effect::Track(id),
            ];
            effects.extend(keys_changed(state));
            effects
        }
        other => {
            state.flash(
                Level::Error,
                format!("unknown command :{other} (try :q, :refresh, :key AKIA…, :help)"),
            );
            vec![]
        }
    }
}

fn on_detail_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Some(detail) = state.keys.detail.as_mut() else {
        return vec![];
    };
    match keymap::lookup(&key, Scope::Keys) {
        Some(Command::Back) => state.keys.detail = None,
        Some(Command::Down) => detail.scroll = detail.scroll.saturating_add(1),
        Some(Command::Up) => detail.scroll = detail.scroll.saturating_sub(1),
        Some(Command::Refresh) => {
            detail.data.in_flight = true;
            detail.data.seq += 1;
            return vec![Effect::FetchUserDetail(detail.user.clone())];
        }
        Some(Command::Quit) => return request_quit(state),
        Some(Command::Help) => state.dialog = Some(Dialog::Help(0)),
        _ => {}
    }
    vec![]
}

/// Keys while the raw record of a timeline event is open.
fn on_record_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let cmd = keymap::lookup(&key, Scope::Timeline);
    let Some(scroll) = state.timeline.detail.as_mut() else {
        return vec![];
    };
    match cmd {
        Some(Command::Back) | Some(Command::Open) => state.timeline.detail = None,
        Some(Command::Down) => *scroll = scroll.saturating_add(1),
        Some(Command::Up) => *scroll = scroll.saturating_sub(1),
        Some(Command::PageDown) => *scroll = scroll.saturating_add(20),
        Some(Command::PageUp) => *scroll = scroll.saturating_sub(20),
        Some(Command::Top) => *scroll = 0,
        Some(Command::MarkEvidence) => return timeline::mark_evidence(state),
        Some(Command::Quit) => return request_quit(state),
        Some(Command::Help) => state.dialog = Some(Dialog::Help(0)),
        _ => {}
    }
    vec![]
}

/// Keys while the detail or the removal pane is open on the Resources tab. `None` lets the
/// key through to the tab (moving the cursor keeps working under the removal pane).
fn on_resource_pane_key(state: &mut State, key: KeyEvent) -> Option<Vec<Effect>> {
    let cmd = keymap::lookup(&key, Scope::Resources);
    let t = &mut state.resources;
    if let Some(scroll) = t.detail.as_mut() {
        match cmd {
            Some(Command::Back) | Some(Command::Open) => t.detail = None,
            Some(Command::Down) => *scroll = scroll.saturating_add(1),
            Some(Command::Up) => *scroll = scroll.saturating_sub(1),
            Some(Command::PageDown) => *scroll = scroll.saturating_add(20),
            Some(Command::PageUp) => *scroll = scroll.saturating_sub(20),
            Some(Command::Top) => *scroll = 0,
            Some(Command::Quit) => return Some(request_quit(state)),
            Some(Command::Help) => state.dialog = Some(Dialog::Help(0)),
            _ => {}
        }
        return Some(vec![]);
    }
    let removal = t.removal.as_mut()?;
    match cmd {
        Some(Command::PageDown) => removal.scroll = removal.scroll.saturating_add(10),
        Some(Command::PageUp) => removal.scroll = removal.scroll.saturating_sub(10),
        Some(Command::Back) if removal.finished => t.removal = None,
        Some(Command::Back) => {
            state.flash(
                Level::Info,
                "the removal is still running; Esc closes it once done",
            );
        }
        _ => return None,
    }
    Some(vec![])
}

fn request_quit(state: &mut State) -> Vec<Effect> {
    if state.action_running() {
        state.dialog = Some(Dialog::QuitWhileRunning);
    } else {
        state.quit = true;
    }
    vec![]
}

fn refresh_all(state: &mut State) -> Vec<Effect> {
    state.flash(Level::Info, "refreshing every pane");
    vec![
        Effect::Refresh(Source::Identity),
        Effect::Refresh(Source::Keys),
        Effect::Refresh(Source::Timeline),
        Effect::Refresh(Source::Resources),
        Effect::Refresh(Source::Cost),
    ]
}

fn on_command(state: &mut State, cmd: Command) -> Vec<Effect> {
    match cmd {
        Command::Help => {
            state.dialog = Some(Dialog::Help(0));
            vec![]
        }
        Command::Quit => request_quit(state),
        Command::GoTab(i) => {
            if let Some(t) = TABS.get(i) {
                state.tab = *t;
            }
            vec![]
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
            vec![]
        }
        Command::Down => move_any(state, 1),
        Command::Up => move_any(state, -1),
        Command::PageDown => move_any(state, state.page_rows.max(1) as isize),
        Command::PageUp => move_any(state, -(state.page_rows.max(1) as isize)),
        Command::Top => move_any(state, isize::MIN / 2),
        Command::Bottom => move_any(state, isize::MAX / 2),
        Command::QuickFilter => {
            timeline::cycle_quick(state);
            vec![]
        }
        Command::Follow => {
            timeline::toggle_follow(state);
            vec![]
        }
        Command::Branch => {
            timeline::toggle_branch(state);
            vec![]
        }
        Command::LocalTime => {
            state.timeline.local_time = !state.timeline.local_time;
            vec![]
        }
        Command::MarkEvidence => timeline::mark_evidence(state),
        // The Cost tab's tables are short and fixed: nothing to filter or open.
        Command::Filter | Command::Open | Command::Back
            if matches!(state.tab, Tab::Cost | Tab::Checklist) =>
        {
            vec![]
        }
        Command::Select if state.tab == Tab::Checklist => checklist::toggle_tick(state),
        Command::Note => {
            state.mode = Mode::Note(String::new());
            vec![]
        }
        Command::Filter => {
            state.mode = Mode::Filter;
            vec![]
        }
        Command::Refresh if state.tab == Tab::Timeline => vec![Effect::Refresh(Source::Timeline)],
        Command::Refresh if state.tab == Tab::Resources => {
            vec![Effect::Refresh(Source::Resources)]
        }
        Command::Refresh if state.tab == Tab::Cost => {
            if state.cost.data.in_flight {
                state.flash(
                    Level::Info,
                    "a Cost Explorer refresh is already running (one at a time: each request costs USD 0.01)",
                );
                return vec![];
            }
            vec![Effect::Refresh(Source::Cost)]
        }
        Command::Refresh => {
            let mut effects = vec![Effect::Refresh(Source::Keys)];
            if state.identity.data.is_none() {
                effects.push(Effect::Refresh(Source::Identity));
            }
            effects
        }
        Command::TogglePause => {
            state.paused = !state.paused;
            let word = if state.paused { "paused" } else { "resumed" };
            state.flash(Level::Info, format!("background polling {word}"));
            vec![Effect::SetPaused(state.paused)]
        }
        Command::CommandLine => {
            state.mode = Mode::Command(String::new());
            vec![]
        }
        Command::Open if state.tab == Tab::Timeline => {
            if state.timeline.selected().is_some() {
                state.timeline.detail = Some(0);
            }
            vec![]
        }
        Command::Open if state.tab == Tab::Resources => {
            if state.resources.current().is_some() {
                state.resources.detail = Some(0);
            }
            vec![]
        }
        Command::Open => open_detail(state),
        Command::Back if state.tab == Tab::Resources => {
            resources::back(state);
            vec![]
        }
        Command::Back if state.tab == Tab::Timeline => {
            if !state.timeline.text.is_empty() {
                timeline::set_text(state, String::new());
            } else if state.timeline.branch.is_some() {
                timeline::toggle_branch(state);
            }
            vec![]
        }
        Command::Back => {
            if !state.keys.filter.is_empty() {
                state.keys.filter.clear();
            } else {
                state.keys.selected.clear();
            }
            vec![]
        }
        Command::Select if state.tab == Tab::Resources => {
            resources::toggle_select(state);
            vec![]
        }
        Command::SelectAttacker => {
            resources::select_attacker(state);
            vec![]
        }
        Command::ToggleView => {
            resources::toggle_view(state);
            vec![]
        }
        Command::CycleFocus => {
            cost::cycle_focus(state);
            vec![]
        }
        Command::Remove => match resources::plan_removal(state) {
            Some(plan) => propose(state, plan),
            None => vec![],
        },
        Command::Select => {
            let rows = state.key_rows();
            if let Some(row) = state.cursor_index(&rows).and_then(|i| rows.get(i))
                && row.key.is_some()
                && !state.keys.selected.remove(&row.key_id)
            {
                state.keys.selected.insert(row.key_id.clone());
            }
            move_cursor(state, 1)
        }
        Command::SelectPreLeak => select_pre_leak(state),
        Command::Disable => key_action(state, KeyStatus::Active, Plan::DisableKeys, "disable"),
        Command::Enable => key_action(state, KeyStatus::Inactive, Plan::EnableKeys, "re-enable"),
        Command::Delete => delete_action(state),
        Command::Rotate => {
            let Some(k) = cursor_key(state) else {
                return vec![];
            };
            propose(state, Plan::RotateKey(k))
        }
        Command::Revoke => {
            let Some(k) = cursor_key(state) else {
                return vec![];
            };
            let cutoff = journal::format_ts(state.now);
            propose(
                state,
                Plan::RevokeSessions {
                    user: k.user,
                    cutoff,
                },
            )
        }
    }
}

fn move_any(state: &mut State, delta: isize) -> Vec<Effect> {
    match state.tab {
        Tab::Keys => move_cursor(state, delta),
        Tab::Timeline => {
            timeline::move_cursor(state, delta);
            vec![]
        }
        Tab::Resources => {
            resources::move_cursor(state, delta);
            vec![]
        }
        Tab::Cost => {
            cost::move_cursor(state, delta);
            vec![]
        }
        Tab::Checklist => {
            checklist::move_cursor(state, delta);
            vec![]
        }
    }
}

fn move_cursor(state: &mut State, delta: isize) -> Vec<Effect> {
    let rows = state.key_rows();
    if let Some(i) = state.cursor_index(&rows) {
        let j = (i as isize)
            .saturating_add(delta)
            .clamp(0, rows.len() as isize - 1) as usize;
        state.keys.cursor = Some(rows[j].key_id.clone());
    }
    vec![]
}

fn open_detail(state: &mut State) -> Vec<Effect> {
    let Some(k) = cursor_key(state) else {
        return vec![];
    };
    state.keys.detail = Some(DetailView {
        user: k.user.clone(),
        data: Loaded {
            in_flight: true,
            ..Loaded::default()
        },
        scroll: 0,
    });
    vec![Effect::FetchUserDetail(k.user)]
}

/// The key under the cursor as an action target; explains in a flash when there is none.
fn cursor_key(state: &mut State) -> Option<KeyRef> {
    let rows = state.key_rows();
    let self_key = state.self_key_id().map(str::to_string);
    let Some(row) = state.cursor_index(&rows).and_then(|i| rows.get(i)) else {
        state.flash(Level::Info, "no key selected");
        return None;
    };
    match &row.key {
        Some(k) => Some(KeyRef {
            user: k.user.clone(),
            key_id: k.key_id.clone(),
            status: k.status,
            self_key: self_key.as_deref() == Some(k.key_id.as_str()),
        }),
        None => {
            state.flash(
                Level::Warn,
                format!(
                    "{} is not in this account's IAM: nothing to act on here",
                    key_short(&row.key_id)
                ),
            );
            None
        }
    }
}

/// The targets of a key action: the selection when there is one, else the cursor's key.
fn targets(state: &mut State) -> Vec<KeyRef> {
    if state.keys.selected.is_empty() {
        return cursor_key(state).into_iter().collect();
    }
    let self_key = state.self_key_id().map(str::to_string);
    state
        .keys
        .data
        .data
        .as_ref()
        .map(|snap| {
            snap.keys
                .iter()
                .filter(|k| state.keys.selected.contains(&k.key_id))
                .map(|k| KeyRef {
                    user: k.user.clone(),
                    key_id: k.key_id.clone(),
                    status: k.status,
                    self_key: self_key.as_deref() == Some(k.key_id.as_str()),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn key_action(
    state: &mut State,
    from: KeyStatus,
    make: fn(Vec<KeyRef>) -> Plan,
    verb: &str,
) -> Vec<Effect> {
    let all = targets(state);
    if all.is_empty() {
        return vec![];
    }
    let keys: Vec<KeyRef> = all.into_iter().filter(|k| k.status == from).collect();
    if keys.is_empty() {
        state.flash(
            Level::Info,
            format!("nothing to {verb}: the chosen keys are not {from}"),
        );
        return vec![];
    }
    propose(state, make(keys))
}

fn delete_action(state: &mut State) -> Vec<Effect> {
    let keys = targets(state);
    if keys.is_empty() {
        return vec![];
    }
    propose(state, Plan::DeleteKeys(keys))
}

fn select_pre_leak(state: &mut State) -> Vec<Effect> {
    let Some((since, _)) = state.since() else {
        state.flash(
            Level::Warn,
            "the leak's start is unknown: start keyspill with --since to use this",
        );
        return vec![];
    };
    let ids: Vec<String> = state
        .keys
        .data
        .data
        .as_ref()
        .map(|s| {
            s.keys
                .iter()
                .filter(|k| k.status == KeyStatus::Active && k.created < since)
                .map(|k| k.key_id.clone())
                .collect()
        })
        .unwrap_or_default();
    let n = ids.len();
    state.keys.selected.extend(ids);
    state.flash(
        Level::Info,
        format!(
            "selected {n} active key(s) created before {} — AWS advises rotating every one",
            crate::fmt::minute(since)
        ),
    );
    vec![]
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
fn propose(state: &mut State, plan: Plan) -> Vec<Effect> {
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
    }));
    vec![]
}

/// The read-only gate: the one place a confirmed plan becomes an effect.
fn execute(state: &mut State, plan: Plan) -> Vec<Effect> {
    if let Some(reason) = refusal(state) {
        state.flash(Level::Error, reason);
        return vec![];
    }
    state.flash(Level::Info, format!("running: {}", plan.label()));
    if let Plan::RemoveResources(p) = &plan {
        resources::removal_started(state, p);
    }
    vec![Effect::Execute(plan)]
}
