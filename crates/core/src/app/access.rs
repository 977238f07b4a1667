//! The Access tab: the attacker's footholds, from the model in `crate::access`, with one action
//! per kind; and the containment verdict every tab's header shows, kept current after every
//! message so that a new foothold re-opens the incident at once.

use std::collections::{BTreeMap, BTreeSet};

use crate::access::{
    self, AccessSnapshot, Acts, Assessment, Cleared, FootState, Foothold, Inputs, Remedy, Verified,
    policy,
};
use crate::app::cursor;
use crate::app::keymap::Command;
use crate::app::msg::Effect;
use crate::app::plan::{KeyRef, Plan};
use crate::app::state::{Level, Loaded, Mode, Source, State, Tab};
use crate::domain::{Failure, Timestamp};
use crate::journal::{self, Event, Milestone};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTab {
    pub data: Loaded<AccessSnapshot>,
    /// The organisation's other accounts, as their last poll found them (`--accounts`).
    pub members: Option<Members>,
    /// `--accounts` was given: until the other accounts are looked into, and when that is
    /// too long ago, nothing can be said to be contained.
    pub members_expected: bool,
    /// What the trail says tracked credentials did to the account's access.
    pub acts: Acts,
    /// Footholds the operator cleared, by handle.
    pub cleared: BTreeMap<String, Cleared>,
    /// Accounts besides this one whose principals may be trusted (`--trust-account`).
    pub trusted_accounts: Vec<String>,
    /// The model's last answer (recomputed after every message).
    pub assessment: Assessment,
    /// The handle under the cursor; the cursor follows it as rows move.
    pub cursor: Option<String>,
    pub hide_closed: bool,
    /// Shown on every tab after a contained incident re-opened, until it is contained again.
    pub banner: Option<String>,
    /// The last verified answer was "contained", and the open footholds then.
    pub contained_before: bool,
    /// Every foothold seen this session, by handle: one that leaves IAM (a backdoor user
    /// deleted, a password removed) stays on the tab as closed rather than vanishing.
    pub seen: BTreeMap<String, Foothold>,
    /// When the model must run again with nothing else changed: the next expiry of a
    /// foothold that is not closed.
    pub next_change: Option<Timestamp>,
    /// The leaked keys as earlier polls saw them: whose, last used, first seen off.
    pub leaked_history: BTreeMap<String, access::LeakedKeyFacts>,
    /// Roles whose trust a poll found naming principals outside, with the last such poll.
    pub trust_outside: BTreeMap<String, Timestamp>,
    /// Roles whose trust stopped naming outsiders, with the latest moment it may still have
    /// (see [`access::Inputs::trust_closed`]).
    pub trust_closed: BTreeMap<String, Timestamp>,
    /// The attacker's address (`--source-ip`), for policies that condition on
    /// `aws:SourceIp`.
    pub source_ip: Option<std::net::IpAddr>,
    /// The permissions view (`w`, `:can`), when open.
    pub perms: Option<crate::app::perms::PermsView>,
}

/// What the console's own actions change among the model's inputs, cheaply compared: a key
/// marked leaked (`:key`), a clearance (`c`), a key found to be this response's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generation(usize, usize, usize);

impl Generation {
    pub fn of(state: &State) -> Generation {
        Generation(
            state.leaked.len(),
            state.access.cleared.len(),
            state.response_keys.len(),
        )
    }
}

impl Default for AccessTab {
    fn default() -> Self {
        AccessTab {
            data: Loaded::default(),
            members: None,
            members_expected: false,
            acts: Acts::default(),
            cleared: BTreeMap::new(),
            trusted_accounts: Vec::new(),
            assessment: Assessment {
                footholds: Vec::new(),
                verified: Verified::No("not read from IAM yet".into()),
                dropped_acts: 0,
            },
            cursor: None,
            hide_closed: false,
            banner: None,
            contained_before: false,
            seen: BTreeMap::new(),
            next_change: None,
            leaked_history: BTreeMap::new(),
            trust_outside: BTreeMap::new(),
            trust_closed: BTreeMap::new(),
            source_ip: None,
            perms: None,
        }
    }
}

impl AccessTab {
    /// The rows shown, in order.
    pub fn rows(&self) -> Vec<&Foothold> {
        self.assessment
            .footholds
            .iter()
            .filter(|f| !self.hide_closed || f.state != FootState::Closed)
            .collect()
    }

    pub fn cursor_index(&self) -> Option<usize> {
        let rows = self.rows();
        if rows.is_empty() {
            return None;
        }
        Some(
            self.cursor
                .as_ref()
                .and_then(|h| rows.iter().position(|f| &f.handle() == h))
                .unwrap_or(0),
        )
    }

    pub fn current(&self) -> Option<&Foothold> {
        let i = self.cursor_index()?;
        self.rows().get(i).copied()
    }
}

/// The organisation's other accounts as one poll found them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Members {
    pub at: Timestamp,
    /// The role keyspill enters each account with (`--role-name`): never part of a plan
    /// there.
    pub role: String,
    /// Why the organisation's accounts could not be listed (`--accounts all`).
    pub listing: Option<String>,
    pub accounts: Vec<MemberModel>,
}

/// One other account: its model, or why it could not be looked into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberModel {
    pub id: String,
    pub name: String,
    /// `ACTIVE`, `SUSPENDED`, … (empty when the organisation could not say).
    pub status: String,
    pub outcome: Result<Assessment, String>,
    /// Its access keys, when they could be read.
    pub keys: Option<crate::domain::KeysSnapshot>,
    /// What it runs that was made after the leak started, newest first.
    pub resources: Vec<crate::resources::Resource>,
}

impl MemberModel {
    /// `444455556666 (workloads)`, or the id alone when the organisation gave no name.
    pub fn named(&self) -> String {
        if self.name.is_empty() {
            self.id.clone()
        } else {
            format!("{} ({})", self.id, self.name)
        }
    }
}

/// `plan` as it runs in `account`: as it is for this one (`None`), bound to the other account
/// (named as the organisation names it) otherwise.
pub fn bound(state: &State, account: Option<&str>, plan: Plan) -> Plan {
    match account {
        None => plan,
        Some(id) => Plan::in_account(id, &member_named(state, id), plan),
    }
}

/// Another account as the room knows it: `444455556666 (workloads)`, or its id alone.
pub fn member_named(state: &State, id: &str) -> String {
    state
        .access
        .members
        .iter()
        .flat_map(|m| m.accounts.iter())
        .find(|m| m.id == id)
        .map_or_else(|| id.to_string(), |m| m.named())
}

/// The other account a foothold is in (its id is `ACCOUNT:id` there), with the id that
/// account knows it by; `None` for this account's own.
pub fn member_of<'a>(state: &'a State, f: &'a Foothold) -> Option<(&'a MemberModel, &'a str)> {
    let (account, id) = f.id.split_once(':')?;
    let m = state
        .access
        .members
        .as_ref()?
        .accounts
        .iter()
        .find(|m| m.id == account)?;
    Some((m, id))
}

/// An account nothing can act in: closed, or being closed.
pub fn closed_account(status: &str) -> bool {
    matches!(status, "SUSPENDED" | "PENDING_CLOSURE" | "CLOSED")
}

/// The other accounts' footholds join this account's, each named with its account, and an
/// account not looked into leaves the answer unverified: the header cannot say "contained"
/// while a member is open or unknown. Their footholds are closed from that account (no
/// remedy here), and their permission grids are that account's (none here).
pub fn merge_members(a: &mut Assessment, members: &Members) {
    let mut unknown: Vec<String> = Vec::new();
    if let Some(e) = &members.listing {
        unknown.push(format!(
            "the organisation's accounts could not be listed: {e}"
        ));
    }
    for m in &members.accounts {
        let named = m.named();
        match &m.outcome {
            Ok(theirs) => {
                if let Verified::No(why) = &theirs.verified {
                    unknown.push(format!("account {named}: {why}"));
                }
                for f in &theirs.footholds {
                    let mut f = f.clone();
                    f.id = format!("{}:{}", m.id, f.id);
                    f.principal = format!("{} · account {named}", f.principal);
                    // Keys, sessions and passwords are closed there from here (`d`, through
                    // the account's session), and what the attacker made is removed from the
                    // Resources tab (its rows name the account); a trust change needs that
                    // account's policies, which the console does not hold.
                    if matches!(f.remedy, Some(Remedy::Untrust { .. })) {
                        f.remedy = None;
                    }
                    f.subject = None;
                    a.footholds.push(f);
                }
            }
            Err(why) if !closed_account(&m.status) => {
                unknown.push(format!("account {named} not looked into: {why}"));
            }
            Err(_) => {}
        }
    }
    if let Some(first) = unknown.first()
        && matches!(a.verified, Verified::At(_))
    {
        let more = if unknown.len() > 1 {
            format!(" (and {} more)", unknown.len() - 1)
        } else {
            String::new()
        };
        a.verified = Verified::No(format!("{first}{more}"));
    }
}

/// The model, fed from the console's state.
pub fn assess(state: &State) -> Assessment {
    let foreign: Vec<(String, Option<String>)> = state
        .keys
        .foreign
        .iter()
        .map(|f| (f.key_id.clone(), f.account.clone()))
        .collect();
    let account = state.identity.data.as_ref().map(|i| i.account.as_str());
    let mut trusted_accounts: Vec<&str> = account.into_iter().collect();
    trusted_accounts.extend(state.access.trusted_accounts.iter().map(String::as_str));
    let tracked = |k: &str| state.leaked.contains(k) || state.timeline.chains.contains_key(k);
    let own_user = state.identity.data.as_ref().and_then(|i| i.iam_user_name());
    let functions = swept_functions(state);
    let inputs = Inputs {
        now: state.now,
        since: state.since().map(|(t, _)| t),
        leaked: &state.leaked,
        response_keys: &state.response_keys,
        self_key: state.self_key_id(),
        self_user: own_user,
        trusted_accounts,
        foreign: &foreign,
        keys: state.keys.data.data.as_ref(),
        keys_error: state.keys.data.error.as_ref().map(|e| e.text.as_str()),
        keys_at: state.keys.data.fetched_at,
        access: state.access.data.data.as_ref(),
        access_error: state.access.data.error.as_ref().map(|e| e.text.as_str()),
        access_at: state.access.data.fetched_at,
        acts: &state.access.acts,
        tracked: &tracked,
        cleared: &state.access.cleared,
        leaked_history: &state.access.leaked_history,
        trust_closed: &state.access.trust_closed,
        functions: functions.as_ref(),
        source_ip: state.access.source_ip,
    };
    let mut a = access::assess(&inputs);
    if let Some(m) = &state.access.members {
        merge_members(&mut a, m);
    }
    if let Some(why) = members_unverified(state)
        && matches!(a.verified, Verified::At(_))
    {
        a.verified = Verified::No(why);
    }
    a
}

/// The other accounts' answer is too old to stand on: three missed polls of theirs.
pub const MEMBERS_STALE: time::Duration = time::Duration::minutes(10);

/// Why the other accounts (`--accounts`) cannot back a "contained" now: not looked into
/// yet, or last looked into too long ago.
fn members_unverified(state: &State) -> Option<String> {
    if !state.access.members_expected {
        return None;
    }
    match &state.access.members {
        None => Some("the other accounts (--accounts) are not looked into yet".into()),
        Some(m) if state.now - m.at > MEMBERS_STALE => Some(format!(
            "the other accounts were last looked into {} ago",
            crate::fmt::ago(state.now, m.at)
        )),
        Some(_) => None,
    }
}

/// The functions the Resources tab's last sweep found, and the regions whose functions it
/// read; `None` before any sweep finished.
fn swept_functions(state: &State) -> Option<access::Functions> {
    let r = &state.resources;
    r.fetched_at?;
    let swept = r
        .regions
        .iter()
        .filter(|(_, s)| {
            s.at.is_some()
                && s.cells.iter().any(|(name, cell)| {
                    *name == crate::resources::Kind::Function.label()
                        && matches!(cell, crate::resources::CellState::Ok(_))
                })
        })
        .map(|(region, _)| region.clone())
        .collect();
    let present = r
        .resources
        .iter()
        .filter(|x| x.kind == crate::resources::Kind::Function)
        .map(|x| (x.region.clone(), x.id.clone()))
        .collect();
    Some(access::Functions { swept, present })
}

/// Recomputes the model and reacts to what changed: a contained incident that has an open
/// foothold again is re-opened (banner, journal, milestones).
pub fn refresh(state: &mut State) -> Vec<Effect> {
    remember_leaked(state);
    remember_trusts(state);
    let mut a = assess(state);
    let mut effects = Vec::new();
    if matches!(a.verified, Verified::At(_)) {
        // What was a foothold and is no longer in IAM at all is closed, and says so.
        let now: BTreeSet<String> = a.footholds.iter().map(Foothold::handle).collect();
        for (handle, f) in &state.access.seen {
            if now.contains(handle) {
                continue;
            }
            let Some(why) = left(state, f) else { continue };
            let mut gone = f.clone();
            if gone.state != FootState::Closed {
                gone.state = FootState::Closed;
                gone.why = why;
                gone.remedy = None;
                gone.expires = None;
            }
            a.footholds.push(gone);
        }
        a.footholds.sort_by(|x, y| {
            x.state
                .cmp(&y.state)
                .then(x.kind.cmp(&y.kind))
                .then_with(|| x.id.cmp(&y.id))
        });
        for f in &a.footholds {
            state.access.seen.insert(f.handle(), f.clone());
        }
        let contained = a.contained();
        let was = state.access.contained_before
            || state
                .checklist
                .milestones
                .contains_key(&Milestone::Contained);
        if was && !contained {
            let new: Vec<String> = a
                .footholds
                .iter()
                .filter(|f| f.state == FootState::Open)
                .take(3)
                .map(|f| format!("{} {}", f.kind.label(), f.id))
                .collect();
            let detail = format!("open again: {}", new.join(", "));
            state.access.banner = Some(format!(
                "RE-OPENED at {}: a new foothold appeared after containment: {}",
                crate::fmt::clock_time(state.now),
                new.join(", ")
            ));
            if state
                .checklist
                .milestones
                .remove(&Milestone::Contained)
                .is_some()
            {
                state.checklist.milestones.remove(&Milestone::Eradicated);
                effects.push(Effect::Journal(Event::Reopened { detail }));
            }
        }
        if contained {
            state.access.banner = None;
        }
        state.access.contained_before = contained;
    }
    // The row the room just closed moves down among the closed ones: the cursor goes to the
    // next open foothold instead of following it.
    let was_open = |h: &String| {
        state
            .access
            .assessment
            .footholds
            .iter()
            .any(|f| &f.handle() == h && f.state == FootState::Open)
    };
    if let Some(h) = state.access.cursor.clone()
        && was_open(&h)
        && !a
            .footholds
            .iter()
            .any(|f| f.handle() == h && f.state == FootState::Open)
    {
        state.access.cursor = a
            .footholds
            .iter()
            .find(|f| f.state == FootState::Open)
            .map(Foothold::handle)
            .or(Some(h));
    }
    state.access.next_change = a
        .footholds
        .iter()
        .filter(|f| f.state != FootState::Closed)
        .filter_map(|f| f.expires)
        .filter(|t| *t > state.now)
        .min();
    state.access.assessment = a;
    crate::app::perms::recompute(state);
    effects
}

/// Notes, poll after poll, whose each leaked key is, its last use, and when it was first seen
/// Inactive or gone: a deleted key's sessions outlive it, and an unknown last use is bounded
/// by the moment the key stopped working.
fn remember_leaked(state: &mut State) {
    let Some(snap) = state.keys.data.data.as_ref() else {
        return;
    };
    let seen_at = state.keys.data.fetched_at.unwrap_or(state.now);
    for id in &state.leaked {
        let listed = snap.keys.iter().find(|k| &k.key_id == id);
        let facts = state.access.leaked_history.get_mut(id);
        match (listed, facts) {
            (Some(k), facts) => {
                let off = k.status != crate::domain::KeyStatus::Active;
                let used = match &k.last_used {
                    crate::domain::LastUsed::At { when, .. } => Some(*when),
                    _ => None,
                };
                let entry = facts.map(|f| f.clone()).unwrap_or(access::LeakedKeyFacts {
                    user: k.user.clone(),
                    last_used: None,
                    off_since: None,
                });
                let entry = access::LeakedKeyFacts {
                    user: k.user.clone(),
                    last_used: used.or(entry.last_used),
                    off_since: match (off, entry.off_since) {
                        (false, _) => None,
                        (true, Some(t)) => Some(t),
                        (true, None) => Some(seen_at),
                    },
                };
                state.access.leaked_history.insert(id.clone(), entry);
            }
            (None, Some(f)) => {
                f.off_since.get_or_insert(seen_at);
            }
            (None, None) => {}
        }
    }
}

/// Notes, poll after poll, which roles trust principals outside the account and when a
/// trust stopped doing so. The moment it closed is bounded by the first poll that saw it
/// closed, or earlier by this incident's own change to it (journaled, so it survives a
/// restart). A role whose trust a tracked credential changed is bounded the same way even when
/// no poll saw it outside: it may have been, before the console started.
fn remember_trusts(state: &mut State) {
    let Some(snap) = state.access.data.data.as_ref() else {
        return;
    };
    let seen_at = state.access.data.fetched_at.unwrap_or(state.now);
    let account = state.identity.data.as_ref().map(|i| i.account.as_str());
    let mut trusted: Vec<&str> = account.into_iter().collect();
    trusted.extend(state.access.trusted_accounts.iter().map(String::as_str));
    if let Some(org) = &snap.organization {
        trusted.push(&org.management_account);
        trusted.extend(org.accounts.iter().map(String::as_str));
    }
    let tracked = |k: &str| state.leaked.contains(k) || state.timeline.chains.contains_key(k);
    let changed: BTreeSet<&str> = state
        .access
        .acts
        .iter()
        .filter(|e| tracked(&e.by_key))
        .filter_map(|e| match &e.act {
            access::Act::TrustChanged { role } => Some(role.as_str()),
            _ => None,
        })
        .collect();
    let untrusted = untrusted_at(state);
    let mut outside_now = BTreeSet::new();
    let mut closed_now = Vec::new();
    for r in &snap.roles {
        if r.trusted.iter().any(|p| p.is_outside(&trusted)) {
            outside_now.insert(r.name.clone());
        } else if state.access.trust_outside.contains_key(&r.name)
            || changed.contains(r.name.as_str())
        {
            closed_now.push(r.name.clone());
        }
    }
    for role in outside_now {
        state.access.trust_closed.remove(&role);
        state.access.trust_outside.insert(role, seen_at);
    }
    for role in closed_now {
        // This response's own change counts only when it came after the last poll that saw
        // outsiders in the trust: one from before the trust was opened again says nothing.
        let last_outside = state.access.trust_outside.get(&role).copied();
        let own = untrusted
            .get(&role)
            .copied()
            .filter(|t| last_outside.is_none_or(|seen| *t >= seen));
        let entry = state.access.trust_closed.entry(role).or_insert(seen_at);
        if let Some(t) = own {
            *entry = (*entry).min(t);
        }
    }
}

fn untrusted_at(state: &State) -> BTreeMap<String, Timestamp> {
    untrusted(
        state
            .actions
            .iter()
            .map(|a| (a.label.as_str(), Some(a.at), &a.outcome)),
    )
}

/// When this incident's own actions took principals out of each role's trust (the latest),
/// from its actions' labels, times and outcomes (the console's, or a journal's read back).
pub fn untrusted<'a>(
    actions: impl IntoIterator<Item = (&'a str, Option<Timestamp>, &'a journal::Outcome)>,
) -> BTreeMap<String, Timestamp> {
    let mut out = BTreeMap::new();
    for (label, at, outcome) in actions {
        let applied = matches!(
            outcome,
            journal::Outcome::Done(_) | journal::Outcome::Reverified(_)
        );
        if let (true, Some(role), Some(at)) = (applied, crate::app::plan::untrusted_role(label), at)
        {
            let latest = out.entry(role.to_string()).or_insert(at);
            *latest = (*latest).max(at);
        }
    }
    out
}

/// Why a foothold the model no longer lists is closed, from live state; `None` when it is
/// still there and simply no longer counts (a key found to be this response's own).
fn left(state: &State, f: &Foothold) -> Option<String> {
    let keys = state.keys.data.data.as_ref()?;
    let iam = state.access.data.data.as_ref()?;
    let user = |n: &str| iam.users.iter().find(|u| u.name == n);
    match f.kind {
        access::Kind::LeakedKey | access::Kind::AccessKey => {
            (!keys.keys.iter().any(|k| k.key_id == f.id))
                .then(|| "deleted: IAM no longer lists it".to_string())
        }
        access::Kind::User => user(&f.id).is_none().then(|| "deleted".to_string()),
        access::Kind::LoginProfile => match user(&f.id) {
            None => Some("deleted with its user".into()),
            Some(u) if u.password.is_none() => Some("no password: deleted".into()),
            Some(_) => None,
        },
        access::Kind::Role => {
            (!iam.roles.iter().any(|r| r.name == f.id)).then(|| "deleted".to_string())
        }
        access::Kind::Trust => Some(
            if iam.roles.iter().any(|r| r.name == f.id) {
                "trusts no one outside any more"
            } else {
                "the role is deleted"
            }
            .to_string(),
        ),
        access::Kind::IdentityProvider => {
            (!iam.providers.iter().any(|p| p.arn == f.id)).then(|| "deleted".to_string())
        }
        // The model lists a function for as long as the trail shows it was made; one that is
        // gone from a sweep is closed there.
        access::Kind::Session | access::Kind::Function => None,
    }
}

/// A poll of the other accounts.
pub fn on_members(state: &mut State, members: Members) {
    // The organisation's accounts are trusted by this account's roles, as by one another's.
    for m in &members.accounts {
        if !state.access.trusted_accounts.contains(&m.id) {
            state.access.trusted_accounts.push(m.id.clone());
        }
    }
    state.access.members = Some(members);
}

pub fn on_access(
    state: &mut State,
    seq: u64,
    at: Timestamp,
    result: Result<AccessSnapshot, Failure>,
) {
    state.access.data.apply(seq, at, result);
}

/// New timeline events: what they did to the account's access is noted.
pub fn on_events(state: &mut State, events: &[crate::timeline::Event]) {
    state.access.acts.note(events);
}

/// The journal was read back: clearances from earlier sessions.
pub fn restore(state: &mut State, r: &journal::Resumed) {
    state.access.cleared = r.cleared.clone();
}

fn move_cursor(state: &mut State, delta: isize) {
    let rows = state.access.rows();
    let Some(i) = state.access.cursor_index() else {
        return;
    };
    if let Some(j) = cursor::step(i, rows.len(), delta) {
        state.access.cursor = rows.get(j).map(|f| f.handle());
    }
}

fn jump(state: &mut State, to_last: bool) {
    let rows = state.access.rows();
    let f = if to_last { rows.last() } else { rows.first() };
    state.access.cursor = f.map(|f| f.handle());
}

/// Every user and role in the chains of the open sessions: what `x` revokes on, at once.
fn open_session_principals(state: &State) -> Vec<access::Principal> {
    let mut out: Vec<access::Principal> = Vec::new();
    for f in &state.access.assessment.footholds {
        // Another account's principals are revoked there, one foothold at a time (`d`).
        if f.state != FootState::Open || member_of(state, f).is_some() {
            continue;
        }
        if let Some(Remedy::Revoke(chain)) = &f.remedy {
            for p in chain {
                if !out.contains(p) {
                    out.push(p.clone());
                }
            }
        }
    }
    out
}

fn key_ref(state: &State, user: &str, key_id: &str) -> Option<KeyRef> {
    let k = state
        .keys
        .data
        .data
        .as_ref()?
        .keys
        .iter()
        .find(|k| k.key_id == key_id && k.user == user)?;
    Some(KeyRef {
        user: k.user.clone(),
        key_id: k.key_id.clone(),
        status: k.status,
        self_key: state.self_key_id() == Some(key_id),
    })
}

/// The plan that closes the foothold under the cursor, or why there is none.
fn close_plan(state: &State, f: &Foothold) -> Result<Plan, String> {
    if f.state == FootState::Closed {
        return Err(format!("{} {} is already closed", f.kind.label(), f.id));
    }
    if let Some((m, _)) = member_of(state, f) {
        return member_close_plan(m, f);
    }
    match &f.remedy {
        Some(Remedy::DisableKey { user, key_id }) => key_ref(state, user, key_id)
            .map(|k| Plan::DisableKeys(vec![k]))
            .ok_or_else(|| "the key is not in the last IAM poll".to_string()),
        Some(Remedy::Revoke(chain)) if !chain.is_empty() => Ok(Plan::RevokeSessions {
            principals: chain.clone(),
            cutoff: journal::format_ts(state.now),
        }),
        Some(Remedy::DeletePassword { user }) => Ok(Plan::DeletePassword { user: user.clone() }),
        Some(Remedy::Untrust { role, principals }) => {
            let doc = state
                .access
                .data
                .data
                .as_ref()
                .and_then(|a| a.roles.iter().find(|r| &r.name == role))
                .map(|r| r.trust.clone())
                .ok_or_else(|| format!("role {role} is not in the last IAM poll"))?;
            let after = policy::without(&doc, principals)?;
            // IAM refuses a trust policy with no statement: a role that trusts only outside
            // principals is removed, not emptied.
            if policy::trusted(&after).is_empty() {
                return Err(format!(
                    "role {role} trusts only principals outside: remove the role on the \
                     Resources tab (Enter shows it there)"
                ));
            }
            Ok(Plan::Untrust {
                role: role.clone(),
                principals: principals.clone(),
                before: policy::pretty(&doc),
                after,
            })
        }
        Some(Remedy::Remove) => Err(format!(
            "{} {} is removed with its parts on the Resources tab: Enter shows it there",
            f.kind.label(),
            f.id
        )),
        Some(Remedy::Revoke(_)) | None => Err(format!(
            "keyspill has no action for this {}: {}",
            f.kind.label(),
            f.why
        )),
    }
}

/// A key as another account's last poll listed it.
fn member_key_ref(m: &MemberModel, user: Option<&str>, key_id: &str) -> Option<KeyRef> {
    let k = m
        .keys
        .as_ref()?
        .keys
        .iter()
        .find(|k| k.key_id == key_id && user.is_none_or(|u| k.user == u))?;
    Some(KeyRef {
        user: k.user.clone(),
        key_id: k.key_id.clone(),
        status: k.status,
        // keyspill signs there with the role it entered the account with, never a key.
        self_key: false,
    })
}

/// The plan that closes another account's foothold, run there (`Plan::InAccount`).
fn member_close_plan(m: &MemberModel, f: &Foothold) -> Result<Plan, String> {
    let named = m.named();
    let inner = match &f.remedy {
        Some(Remedy::DisableKey { user, key_id }) => member_key_ref(m, Some(user), key_id)
            .map(|k| Plan::DisableKeys(vec![k]))
            .ok_or_else(|| format!("the key is not in account {named}'s last poll"))?,
        Some(Remedy::Revoke(chain)) if !chain.is_empty() => Plan::RevokeSessions {
            principals: chain.clone(),
            cutoff: String::new(),
        },
        Some(Remedy::DeletePassword { user }) => Plan::DeletePassword { user: user.clone() },
        Some(Remedy::Remove) => {
            return Err(format!(
                "{} {} in account {named} is removed with its parts on the Resources tab: \
                 Enter shows it there",
                f.kind.label(),
                f.id
            ));
        }
        _ => {
            return Err(format!(
                "{} {} is in account {named}: keyspill closes keys, sessions and console \
                 passwords there; for this one open keyspill on that account",
                f.kind.label(),
                f.id
            ));
        }
    };
    Ok(Plan::in_account(&m.id, &named, inner))
}

/// Enter: the foothold where it is handled in depth (Resources for users, roles and
/// providers; the Timeline for keys and sessions).
fn open(state: &mut State) -> Vec<Effect> {
    let Some(f) = state.access.current().cloned() else {
        return vec![];
    };
    if let Some((m, id)) = member_of(state, &f) {
        // A principal the attacker made there is a row of the Resources tab, with its account.
        let name = id.rsplit_once('/').map_or(id, |(_, n)| n).to_string();
        let listed = state
            .resources
            .resources
            .iter()
            .any(|r| r.account.as_deref() == Some(m.id.as_str()) && r.id == name);
        if listed {
            state.tab = Tab::Resources;
            crate::app::resources::set_filter(state, name);
            return vec![];
        }
        let named = m.named();
        state.flash(
            Level::Info,
            format!(
                "{} {} is in account {named}: its keys are rows of the Keys table and what \
                 was made there since the leak is on the Resources tab, each with its account",
                f.kind.label(),
                f.id
            ),
        );
        return vec![];
    }
    match f.kind {
        access::Kind::User
        | access::Kind::Role
        | access::Kind::Trust
        | access::Kind::LoginProfile
        | access::Kind::IdentityProvider
        | access::Kind::Function => {
            state.tab = Tab::Resources;
            let name =
                f.id.rsplit_once('/')
                    .map_or(f.id.as_str(), |(_, n)| n)
                    .to_string();
            crate::app::resources::set_filter(state, name);
            vec![]
        }
        // Sessions minted through a trust are nowhere in the trail: the role is where to look.
        access::Kind::Session if f.id.starts_with(access::TRUST_SESSIONS) => {
            state.tab = Tab::Resources;
            let role = f.id.trim_start_matches(access::TRUST_SESSIONS).to_string();
            crate::app::resources::set_filter(state, role);
            vec![]
        }
        access::Kind::LeakedKey | access::Kind::AccessKey | access::Kind::Session => {
            state.tab = Tab::Timeline;
            let text = f.id.strip_prefix("unseen:").unwrap_or(&f.id).to_string();
            crate::app::timeline::set_text(state, text);
            vec![]
        }
    }
}

/// `c` then a reason: clear a foothold of unknown origin (the reason goes to the journal).
fn start_clear(state: &mut State) -> Vec<Effect> {
    let Some(f) = state.access.current() else {
        return vec![];
    };
    if f.state == FootState::Closed {
        state.flash(Level::Info, "already closed: nothing to clear");
    } else if !f.provenance.clearable() {
        state.flash(
            Level::Warn,
            format!(
                "{} {} is the attacker's by evidence ({}): close it, it cannot be cleared",
                f.kind.label(),
                f.id,
                f.provenance.words()
            ),
        );
    } else {
        state.mode = Mode::Clear(String::new());
    }
    vec![]
}

pub fn clear(state: &mut State, reason: String) -> Vec<Effect> {
    let reason = reason.trim().to_string();
    if reason.is_empty() {
        state.flash(Level::Warn, "not cleared: a reason is needed");
        return vec![];
    }
    let Some(f) = state.access.current().cloned() else {
        return vec![];
    };
    let handle = f.handle();
    state.access.cleared.insert(
        handle.clone(),
        Cleared {
            by: state.settings.operator.clone(),
            at: journal::format_ts(state.now),
            reason: reason.clone(),
        },
    );
    state.flash(
        Level::Ok,
        format!("cleared {} {}: {reason}", f.kind.label(), f.id),
    );
    vec![Effect::Journal(Event::Cleared {
        foothold: handle,
        reason,
    })]
}

/// The Access tab's commands; `None` for a command that means nothing here.
pub fn on_command(state: &mut State, cmd: Command) -> Option<Vec<Effect>> {
    use crate::app::update::propose;
    let effects = match cmd {
        Command::Down => {
            move_cursor(state, 1);
            vec![]
        }
        Command::Up => {
            move_cursor(state, -1);
            vec![]
        }
        Command::PageDown => {
            move_cursor(state, state.page_rows as isize);
            vec![]
        }
        Command::PageUp => {
            move_cursor(state, -(state.page_rows as isize));
            vec![]
        }
        Command::Top => {
            jump(state, false);
            vec![]
        }
        Command::Bottom => {
            jump(state, true);
            vec![]
        }
        Command::Refresh => vec![
            Effect::Refresh(Source::Keys),
            Effect::Refresh(Source::Access),
        ],
        Command::Open => open(state),
        Command::ToggleView => {
            state.access.hide_closed = !state.access.hide_closed;
            let word = if state.access.hide_closed {
                "open and reduced only"
            } else {
                "every foothold, closed ones too"
            };
            state.flash(Level::Info, format!("showing {word}"));
            vec![]
        }
        Command::Disable => {
            let Some(f) = state.access.current().cloned() else {
                return Some(vec![]);
            };
            match close_plan(state, &f) {
                Ok(plan) => propose(state, plan),
                Err(why) => {
                    state.flash(Level::Warn, why);
                    vec![]
                }
            }
        }
        Command::Delete => {
            let Some(f) = state.access.current().cloned() else {
                return Some(vec![]);
            };
            if let Some((m, id)) = member_of(state, &f) {
                let key = matches!(f.kind, access::Kind::LeakedKey | access::Kind::AccessKey)
                    .then(|| member_key_ref(m, None, id))
                    .flatten();
                let named = m.named();
                let id = m.id.clone();
                return Some(match key {
                    Some(k) => propose(
                        state,
                        Plan::in_account(&id, &named, Plan::DeleteKeys(vec![k])),
                    ),
                    None => {
                        state.flash(
                            Level::Warn,
                            format!(
                                "D deletes an access key: this row is not one account \
                                 {named} lists"
                            ),
                        );
                        vec![]
                    }
                });
            }
            let key = match (&f.kind, state.keys.data.data.as_ref()) {
                (access::Kind::LeakedKey | access::Kind::AccessKey, Some(snap)) => snap
                    .keys
                    .iter()
                    .find(|k| k.key_id == f.id)
                    .and_then(|k| key_ref(state, &k.user, &k.key_id)),
                _ => None,
            };
            match key {
                Some(k) => propose(state, Plan::DeleteKeys(vec![k])),
                None => {
                    state.flash(
                        Level::Warn,
                        "D deletes an access key: this row is not one IAM lists",
                    );
                    vec![]
                }
            }
        }
        Command::Revoke => {
            let principals = open_session_principals(state);
            if principals.is_empty() {
                state.flash(Level::Info, "no open session to revoke");
                vec![]
            } else {
                let cutoff = journal::format_ts(state.now);
                propose(state, Plan::RevokeSessions { principals, cutoff })
            }
        }
        Command::Clear => start_clear(state),
        Command::Permissions => crate::app::perms::open_on_foothold(state),
        Command::Simulate => {
            state.flash(
                Level::Info,
                "s asks IAM's simulator from the w view: press w on a foothold first",
            );
            vec![]
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
        | Command::Filter
        | Command::Back
        | Command::Select
        | Command::SelectPreLeak
        | Command::Enable
        | Command::Rotate
        | Command::MarkEvidence
        | Command::QuickFilter
        | Command::Follow
        | Command::Branch
        | Command::LocalTime
        | Command::SelectAttacker
        | Command::Remove
        | Command::Isolate
        | Command::KeepEvidence
        | Command::CycleFocus
        | Command::Note => return None,
    };
    Some(effects)
}
