//! The Keys tab's part of `update`: the key list arriving, the cursor and selection, the
//! user detail pane, and the key actions (disable, enable, delete, rotate, revoke) proposed
//! from it.

use crossterm::event::{KeyCode, KeyEvent};

use crate::app::cursor;
use crate::app::keymap::Command;
use crate::app::msg::{ActionReport, Effect};
use crate::app::plan::{KeyRef, Plan};
use std::collections::BTreeSet;

use crate::app::state::{DetailView, KeyRow, Level, Loaded, Mode, Source, State};
use crate::app::update::propose;
use crate::domain::{Failure, ForeignKey, KeyStatus, KeysSnapshot, Timestamp, key_short};
use crate::journal::{self, Event};

/// A poll of the key list arrived.
pub fn on_keys(
    state: &mut State,
    seq: u64,
    at: Timestamp,
    result: Result<KeysSnapshot, Failure>,
) -> Vec<Effect> {
    if !state.keys.data.apply(seq, at, result) {
        return vec![];
    }
    keys_changed(state)
}

/// STS answered which account owns a leaked key IAM does not list.
pub fn on_key_info(state: &mut State, key_id: String, result: Result<String, Failure>) {
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
}

/// A user's detail arrived; shown only if that user's pane is still open.
pub fn on_user_detail(
    state: &mut State,
    user: String,
    at: Timestamp,
    result: Result<crate::domain::UserDetail, Failure>,
) {
    if let Some(d) = state.keys.detail.as_mut().filter(|d| d.user == user) {
        let seq = d.data.seq;
        d.data.apply(seq, at, result);
    }
}

/// A key action finished: show what IAM says now, not what the action assumed.
pub fn on_action_finished(state: &mut State, at: Timestamp, report: &ActionReport) -> Vec<Effect> {
    if report.account.is_some() {
        // Another account's: its model is read again there; this account's tables stand.
        state.keys.selected.clear();
        return vec![Effect::Refresh(Source::Members)];
    }
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
    state.keys.selected.clear();
    // The foothold model reads both polls: what the action changed shows in both.
    vec![
        Effect::Refresh(Source::Keys),
        Effect::Refresh(Source::Access),
    ]
}

/// `:key AKIA…` after validation: mark the key leaked and put the cursor on it.
pub fn mark_leaked(state: &mut State, id: String) -> Vec<Effect> {
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
    }
    // Drop selections of keys that are gone, here or in another account.
    if state.keys.data.data.is_some() {
        let ids: BTreeSet<String> = state
            .all_key_rows()
            .into_iter()
            .filter(|r| r.key.is_some())
            .map(|r| r.key_id)
            .collect();
        state.keys.selected.retain(|s| ids.contains(s));
    }
    if state.keys.cursor.is_none() {
        state.keys.cursor = state.key_rows().first().map(|r| r.key_id.clone());
    }
    effects.extend(record_since(state));
    effects
}

/// The leak's start, written to the journal when it changes (`app::times::record_since`).
pub fn record_since(state: &mut State) -> Vec<Effect> {
    crate::app::times::record_since(state)
}

/// Commands while the user detail pane is open: it scrolls, refreshes and closes; list and
/// action keys do nothing under it. `None` lets help and quit through.
pub fn on_pane(state: &mut State, cmd: Command) -> Option<Vec<Effect>> {
    let detail = state.keys.detail.as_mut()?;
    match cmd {
        Command::Back => state.keys.detail = None,
        Command::Down | Command::Up => {
            detail.scroll = cursor::scroll(detail.scroll, cmd).unwrap_or(detail.scroll);
        }
        Command::Refresh => {
            detail.data.in_flight = true;
            detail.data.seq += 1;
            return Some(vec![Effect::FetchUserDetail(detail.user.clone())]);
        }
        Command::Quit | Command::Help => return None,
        _ => {}
    }
    Some(vec![])
}

/// The Keys tab's commands; `None` for a command that means nothing here.
pub fn on_command(state: &mut State, cmd: Command) -> Option<Vec<Effect>> {
    let effects = match cmd {
        Command::Down
        | Command::Up
        | Command::PageDown
        | Command::PageUp
        | Command::Top
        | Command::Bottom => {
            let delta = cursor::delta(cmd, state.page_rows)?;
            move_cursor(state, delta);
            vec![]
        }
        Command::Filter => {
            state.mode = Mode::Filter;
            vec![]
        }
        Command::Refresh => {
            let mut effects = vec![Effect::Refresh(Source::Keys)];
            if state.identity.data.is_none() {
                effects.push(Effect::Refresh(Source::Identity));
            }
            effects
        }
        Command::Open => open_detail(state),
        Command::Back => {
            if !state.keys.filter.is_empty() {
                state.keys.filter.clear();
            } else {
                state.keys.selected.clear();
            }
            vec![]
        }
        Command::Select => {
            let rows = state.key_rows();
            if let Some(row) = state.cursor_index(&rows).and_then(|i| rows.get(i))
                && row.key.is_some()
                && !state.keys.selected.remove(&row.key_id)
            {
                state.keys.selected.insert(row.key_id.clone());
            }
            // Only what the help says: the cursor stays on the row (j moves on).
            vec![]
        }
        Command::SelectPreLeak => select_pre_leak(state),
        Command::Disable => key_action(state, KeyStatus::Active, Plan::DisableKeys, "disable"),
        Command::Enable => key_action(state, KeyStatus::Inactive, Plan::EnableKeys, "re-enable"),
        Command::Delete => {
            let keys = targets(state);
            match bind(state, keys, Plan::DeleteKeys) {
                Some(plan) => propose(state, plan),
                None => vec![],
            }
        }
        Command::Rotate => {
            let key = cursor_key(state).into_iter().collect();
            match bind(state, key, |mut k| Plan::RotateKey(k.remove(0))) {
                Some(plan) => propose(state, plan),
                None => vec![],
            }
        }
        Command::Revoke => {
            let key = cursor_key(state).into_iter().collect();
            let cutoff = journal::format_ts(state.now);
            let plan = bind(state, key, |k| Plan::RevokeSessions {
                principals: k
                    .into_iter()
                    .map(|k| crate::access::Principal::User(k.user))
                    .collect(),
                cutoff,
            });
            match plan {
                Some(plan) => propose(state, plan),
                None => vec![],
            }
        }
        // Handled before the tab (everywhere), or another tab's.
        Command::Help
        | Command::Quit
        | Command::CopyId
        | Command::CopyJson
        | Command::GoTab(_)
        | Command::NextTab
        | Command::PrevTab
        | Command::TogglePause
        | Command::CommandLine
        | Command::MarkEvidence
        | Command::QuickFilter
        | Command::Follow
        | Command::Branch
        | Command::LocalTime
        | Command::ToggleView
        | Command::SelectAttacker
        | Command::Remove
        | Command::Isolate
        | Command::KeepEvidence
        | Command::CycleFocus
        | Command::Note
        | Command::Clear
        | Command::Permissions
        | Command::Simulate => return None,
    };
    Some(effects)
}

/// Keys typed while filtering the key list.
pub fn on_filter_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
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

fn move_cursor(state: &mut State, delta: isize) {
    let rows = state.key_rows();
    if let Some(i) = state.cursor_index(&rows)
        && let Some(j) = cursor::step(i, rows.len(), delta)
    {
        state.keys.cursor = Some(rows[j].key_id.clone());
    }
}

fn open_detail(state: &mut State) -> Vec<Effect> {
    let Some((account, k)) = cursor_key(state) else {
        return vec![];
    };
    if let Some(account) = account {
        state.flash(
            Level::Info,
            format!(
                "user {} is in account {account}: its detail is read there (keyspill on that \
                 account); d, e, D, r and x act there from here",
                k.user
            ),
        );
        return vec![];
    }
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

/// A key chosen for an action: the other account it is in (`None`: this one), and the key.
type Chosen = (Option<String>, KeyRef);

fn chosen(row: &KeyRow, self_key: Option<&str>) -> Option<Chosen> {
    let k = row.key.as_ref()?;
    Some((
        row.account.clone(),
        KeyRef {
            user: k.user.clone(),
            key_id: k.key_id.clone(),
            status: k.status,
            // keyspill signs in another account with the role it entered, never a key there.
            self_key: row.account.is_none() && self_key == Some(k.key_id.as_str()),
        },
    ))
}

/// The key under the cursor as an action target; explains in a flash when there is none.
fn cursor_key(state: &mut State) -> Option<Chosen> {
    let rows = state.key_rows();
    let self_key = state.self_key_id().map(str::to_string);
    let Some(row) = state.cursor_index(&rows).and_then(|i| rows.get(i)) else {
        state.flash(Level::Info, "no key selected");
        return None;
    };
    let found = chosen(row, self_key.as_deref());
    if found.is_none() {
        state.flash(
            Level::Warn,
            format!(
                "{} is not in this account's IAM: nothing to act on here",
                key_short(&row.key_id)
            ),
        );
    }
    found
}

/// The targets of a key action: the selection when there is one, else the cursor's key.
fn targets(state: &mut State) -> Vec<Chosen> {
    if state.keys.selected.is_empty() {
        return cursor_key(state).into_iter().collect();
    }
    let self_key = state.self_key_id().map(str::to_string);
    state
        .all_key_rows()
        .iter()
        .filter(|r| state.keys.selected.contains(&r.key_id))
        .filter_map(|r| chosen(r, self_key.as_deref()))
        .collect()
}

/// The plan for keys of one account: this one's, or bound to the other account they are in.
/// Keys of several accounts are refused: each account's action is confirmed on its own.
fn bind(
    state: &mut State,
    keys: Vec<Chosen>,
    make: impl FnOnce(Vec<KeyRef>) -> Plan,
) -> Option<Plan> {
    let account = keys.first()?.0.clone();
    if keys.iter().any(|(a, _)| *a != account) {
        let n: BTreeSet<&Option<String>> = keys.iter().map(|(a, _)| a).collect();
        state.flash(
            Level::Warn,
            format!(
                "the chosen keys are in {} accounts: act on one account's keys at a time",
                n.len()
            ),
        );
        return None;
    }
    let plan = make(keys.into_iter().map(|(_, k)| k).collect());
    Some(crate::app::access::bound(state, account.as_deref(), plan))
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
    let keys: Vec<Chosen> = all.into_iter().filter(|(_, k)| k.status == from).collect();
    if keys.is_empty() {
        state.flash(
            Level::Info,
            format!("nothing to {verb}: the chosen keys are not {from}"),
        );
        return vec![];
    }
    match bind(state, keys, make) {
        Some(plan) => propose(state, plan),
        None => vec![],
    }
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
