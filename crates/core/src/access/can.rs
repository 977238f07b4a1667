//! What footholds can still do: the model closes one that can do none of the grid's actions,
//! and `keyspill footholds --action` asks about any action.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

use super::{AccessSnapshot, FootState, Foothold, Inputs, Kind, Subject, authz};
use crate::domain::Timestamp;

/// What each foothold acts as, and, for those not closed, what it can still do: a foothold
/// that can do none of the grid's actions is closed (its permissions are gone, or a deny
/// stops it). Footholds acting as the same principal in the same context share one decision.
pub(super) fn grids(i: &Inputs<'_>, a: &AccessSnapshot, out: &mut [Foothold]) {
    let authz = &a.authz;
    let actions = authz::catalogue::actions();
    // A role's footholds are whoever assumes it from now on: a session issued after any
    // revocation on it (a revocation catches the sessions before it, never the next one).
    let cuts: HashMap<&str, Timestamp> = a
        .roles
        .iter()
        .filter_map(|r| Some((r.name.as_str(), r.revoked_before?)))
        .collect();
    let next_session = |role: &str| -> Timestamp {
        let cut = cuts.get(role).copied();
        match cut {
            Some(c) if c >= i.now => c + time::Duration::seconds(1),
            _ => i.now,
        }
    };
    for f in out.iter_mut() {
        if f.subject.is_none() {
            let (word, name) = f.principal.split_once(' ').unwrap_or_default();
            let who_ctx = match (f.kind, word) {
                // A function's role acts with a session minted for each run.
                (Kind::Role | Kind::Trust | Kind::Function, "role") => Some((
                    authz::Who::Role(name.to_string()),
                    authz::Context::session(
                        i.now,
                        authz::SessionKind::AssumedRole,
                        next_session(name),
                    ),
                )),
                (Kind::LeakedKey | Kind::AccessKey | Kind::User | Kind::LoginProfile, "user") => {
                    Some((
                        authz::Who::User(name.to_string()),
                        authz::Context::long_term(i.now),
                    ))
                }
                _ => None,
            };
            f.subject = who_ctx.map(|(who, ctx)| {
                std::sync::Arc::new(Subject {
                    who,
                    ctx: authz::Context {
                        source_ip: i.source_ip,
                        ..ctx
                    },
                })
            });
        }
    }

    // Decided once per principal, kind of credential and side of each revocation cut-off
    // its policies name (sessions differ only in their issue time); the principals in
    // parallel, each bound once: an account can have thousands of open footholds.
    let mut by_who: HashMap<&authz::Who, Vec<(usize, &Subject)>> = HashMap::new();
    for (n, f) in out.iter().enumerate() {
        if f.state != FootState::Closed
            && let Some(s) = f.subject.as_deref()
        {
            by_who.entry(&s.who).or_default().push((n, s));
        }
    }
    let closed: Vec<(usize, String)> = by_who
        .into_par_iter()
        .flat_map_iter(|(who, footholds)| {
            let mut out: Vec<(usize, String)> = Vec::new();
            let Some(b) = authz.bind(who) else {
                return out;
            };
            let cuts = b.token_cuts();
            type Key = (authz::SessionKind, Option<Vec<std::cmp::Ordering>>);
            let mut decided: HashMap<Key, Option<String>> = HashMap::new();
            for (n, subject) in footholds {
                let sides = subject
                    .ctx
                    .issued
                    .map(|t| cuts.iter().map(|c| t.unix_timestamp().cmp(c)).collect());
                let denied = decided.entry((subject.ctx.kind, sides)).or_insert_with(|| {
                    if b.can_act(&subject.ctx) {
                        return None;
                    }
                    // A trust policy that names the principal lets it assume the role with no
                    // permission of its own: it can still act, as that role.
                    if authz.roles.iter().any(|(name, role)| {
                        !matches!(who, authz::Who::Role(r) if r == name)
                            && authz::escalate::can_assume(&b, &subject.ctx, role)
                                != authz::Word::Denied
                    }) {
                        return None;
                    }
                    let by = b
                        .grid(&actions, &subject.ctx)
                        .iter()
                        .find_map(|c| match &c.verdict {
                            authz::Verdict::Denied { by: Some(by), .. } => Some(format!(", {by}")),
                            _ => None,
                        });
                    Some(by.unwrap_or_default())
                });
                if let Some(by) = denied {
                    out.push((n, by.clone()));
                }
            }
            out
        })
        .collect();
    for (n, by) in closed {
        if let Some(f) = out.get_mut(n) {
            f.state = FootState::Closed;
            f.why = format!("every high-impact action is denied{by} (was: {})", f.why);
        }
    }
}

/// What a foothold can do, action by action: `denied` everywhere once it is closed (the
/// credential no longer works, or it was reviewed and cleared); its principal's evaluation
/// otherwise; for an identity provider, the most any role that trusts it allows; and
/// `conditional` where the account's policies are not known.
pub fn can(
    f: &Foothold,
    authz: Option<&authz::Authz>,
    actions: &[String],
    now: Timestamp,
) -> BTreeMap<String, authz::Word> {
    use authz::Word;
    let all = |w: Word| actions.iter().map(|a| (a.clone(), w)).collect();
    if f.state == FootState::Closed {
        return all(Word::Denied);
    }
    let Some(authz) = authz else {
        return all(Word::Conditional);
    };
    let names: Vec<&str> = actions.iter().map(String::as_str).collect();
    if f.kind == Kind::IdentityProvider {
        let fresh = authz::Context::session(now, authz::SessionKind::AssumedRole, now);
        let mut out: BTreeMap<String, Word> = all(Word::Denied);
        for (name, role) in &authz.roles {
            if !authz::escalate::trusts(role, "Federated", &f.id) {
                continue;
            }
            if let Some(b) = authz.bind(&authz::Who::Role(name.clone())) {
                for c in b.grid(&names, &fresh) {
                    let w = out.entry(c.action).or_insert(Word::Denied);
                    *w = (*w).max(c.verdict.word());
                }
            }
        }
        return out;
    }
    match f
        .subject
        .as_ref()
        .and_then(|s| Some((authz.bind(&s.who)?, s)))
    {
        Some((b, s)) => b
            .grid(&names, &s.ctx)
            .into_iter()
            .map(|c| (c.action, c.verdict.word()))
            .collect(),
        None => all(Word::Conditional),
    }
}
