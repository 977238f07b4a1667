//! The evaluation of identity-based policies for one principal and one action, following
//! AWS's documented logic: an explicit `Deny` wins; otherwise an `Allow` is needed; a
//! permissions boundary must allow too; a session's own limits apply last. Statements match
//! on `Action`/`NotAction` (no case), `Resource`/`NotResource` (with case and policy
//! variables) and their conditions, decided in three values.

use std::net::IpAddr;

use time::format_description::well_known::Rfc3339;

use super::cond::{Lookup, Tri};
use super::parse::{Effect, Matcher, Policy, Statement, covers, glob};
use super::{Authz, Cell, Decider, Entity, Verdict};
use crate::domain::Timestamp;

/// A user or a role.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Who {
    User(String),
    Role(String),
}

impl std::fmt::Display for Who {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Who::User(n) => write!(f, "user {n}"),
            Who::Role(n) => write!(f, "role {n}"),
        }
    }
}

/// What kind of credential makes the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionKind {
    /// A user's access key or console password.
    LongTerm,
    /// A role session (`AssumeRole…`).
    AssumedRole,
    /// A user's `GetSessionToken` session.
    SessionToken,
    /// A `GetFederationToken` session.
    Federation,
}

/// The request context the console knows. The attacker holds no MFA device: sessions minted
/// from a leaked key carry `aws:MultiFactorAuthPresent` false, long-term keys carry none.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Context {
    pub now: Timestamp,
    pub kind: SessionKind,
    /// `aws:TokenIssueTime`: when the session was issued (the latest it can have been, when
    /// only a bound is known).
    pub issued: Option<Timestamp>,
    /// `aws:SourceIp`, when the caller gives one.
    pub source_ip: Option<IpAddr>,
    /// `iam:PassedToService`, for a `PassRole` asked on a service's behalf.
    pub passed_to: Option<String>,
}

impl Context {
    pub fn long_term(now: Timestamp) -> Context {
        Context {
            now,
            kind: SessionKind::LongTerm,
            issued: None,
            source_ip: None,
            passed_to: None,
        }
    }

    pub fn session(now: Timestamp, kind: SessionKind, issued: Timestamp) -> Context {
        Context {
            now,
            kind,
            issued: Some(issued),
            source_ip: None,
            passed_to: None,
        }
    }
}

/// What a foothold acts as: a principal, with the context its requests carry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Subject {
    pub who: Who,
    pub ctx: Context,
}

/// A resource asked about: one ARN, or "some resource" (the grid's question).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Res<'a> {
    Any,
    Arn(&'a str),
}

/// A policy with the name the screen gives it.
#[derive(Debug, Clone, Copy)]
struct Source<'a> {
    name: &'a str,
    /// For inline policies, the owner's index in [`Bound::owners`]; `None` for managed ones.
    owner: Option<usize>,
    policy: &'a Policy,
}

impl Source<'_> {
    fn decider(&self, owners: &[String], s: &Statement) -> Decider {
        Decider {
            policy: match self.owner.and_then(|n| owners.get(n)) {
                Some(o) => format!("inline {o}:{}", self.name),
                None => self.name.to_string(),
            },
            statement: s.label.clone(),
        }
    }
}

/// A principal with its policies gathered, ready to answer many questions.
pub struct Bound<'a> {
    pub who: Who,
    entity: &'a Entity,
    owners: Vec<String>,
    identity: Vec<Source<'a>>,
    boundary: Option<(String, Option<Source<'a>>)>,
    /// Identity policies that could not be read, by name.
    unread: Vec<String>,
}

impl Authz {
    /// The principal's policies: its inline and attached ones, its groups' for a user, and
    /// its boundary. `None` when IAM does not list it.
    pub fn bind(&self, who: &Who) -> Option<Bound<'_>> {
        let (entity, kind) = match who {
            Who::User(n) => (self.users.get(n)?, "user"),
            Who::Role(n) => (self.roles.get(n)?, "role"),
        };
        let mut owners = vec![format!("{kind}/{}", who_name(who))];
        let mut groups: Vec<(&str, &Entity)> = Vec::new();
        for g in &entity.groups {
            if let Some(e) = self.groups.get(g) {
                owners.push(format!("group/{g}"));
                groups.push((g, e));
            }
        }
        let mut b = Bound {
            who: who.clone(),
            entity,
            owners,
            identity: Vec::new(),
            boundary: None,
            unread: Vec::new(),
        };
        // Owners are indexed: the principal first, then its groups in order.
        let mut holders: Vec<&Entity> = vec![entity];
        holders.extend(groups.iter().map(|(_, e)| *e));
        for (n, holder) in holders.into_iter().enumerate() {
            for p in &holder.inline {
                b.identity.push(Source {
                    name: &p.name,
                    owner: Some(n),
                    policy: &p.policy,
                });
            }
            for arn in &holder.attached {
                match self.policies.get(arn) {
                    Some(m) => b.identity.push(Source {
                        name: &m.name,
                        owner: None,
                        policy: &m.policy,
                    }),
                    None => b.unread.push(policy_name(arn).to_string()),
                }
            }
        }
        b.identity.retain(|s| match &s.policy.error {
            Some(_) => {
                b.unread.push(s.name.to_string());
                false
            }
            None => true,
        });
        if let Some(arn) = &entity.boundary {
            let src = self
                .policies
                .get(arn)
                .filter(|m| m.policy.error.is_none())
                .map(|m| Source {
                    name: &m.name,
                    owner: None,
                    policy: &m.policy,
                });
            b.boundary = Some((policy_name(arn).to_string(), src));
        }
        Some(b)
    }
}

fn who_name(w: &Who) -> &str {
    match w {
        Who::User(n) | Who::Role(n) => n,
    }
}

/// The policy's name from its ARN (`arn:aws:iam::aws:policy/AdministratorAccess`).
pub fn policy_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// How one statement applies to a request.
struct Hit<'s> {
    tri: Tri,
    statement: &'s Statement,
    source: usize,
    /// For `Res::Any`: the resources it is limited to, `None` for every resource.
    scope: Option<Vec<String>>,
}

impl<'a> Bound<'a> {
    /// Every answer for these actions on some resource.
    pub fn grid(&self, actions: &[&str], ctx: &Context) -> Vec<Cell> {
        actions
            .iter()
            .map(|a| Cell {
                action: (*a).to_string(),
                verdict: self.evaluate(a, Res::Any, ctx),
            })
            .collect()
    }

    /// Whether some action of the grid is not denied (allowed, or conditional). Tries first
    /// the action each unconditional `Allow` names (found when its document was parsed), so a
    /// principal that can act is usually decided by one evaluation; each action is evaluated
    /// at most once.
    pub fn can_act(&self, ctx: &Context) -> bool {
        let lower = super::catalogue::lower();
        let mut tried = vec![false; lower.len()];
        let try_one = |n: usize, tried: &mut Vec<bool>| -> bool {
            if tried[n] {
                return false;
            }
            tried[n] = true;
            !matches!(
                self.evaluate(&lower[n], Res::Any, ctx),
                Verdict::Denied { .. }
            )
        };
        for src in &self.identity {
            for s in &src.policy.statements {
                if s.effect == Effect::Allow
                    && s.conditions.is_empty()
                    && let Some(n) = s.grid_hint
                    && try_one(n, &mut tried)
                {
                    return true;
                }
            }
        }
        (0..lower.len()).any(|n| try_one(n, &mut tried))
    }

    /// The answer for one action on a resource.
    pub fn evaluate(&self, action: &str, res: Res<'_>, ctx: &Context) -> Verdict {
        let action: std::borrow::Cow<'_, str> = if action.bytes().any(|b| b.is_ascii_uppercase()) {
            action.to_ascii_lowercase().into()
        } else {
            action.into()
        };
        let look = |k: &str| self.lookup(k, ctx);
        let identity = decide(
            &self.identity,
            &self.owners,
            &self.unread,
            &action,
            res,
            &look,
        );
        let verdict = match &self.boundary {
            None => identity,
            Some((name, src)) => {
                let bound = match src {
                    Some(s) => decide(
                        std::slice::from_ref(s),
                        &self.owners,
                        &[],
                        &action,
                        res,
                        &look,
                    ),
                    None => Verdict::Conditional {
                        on: vec![format!("boundary {name} (not readable)")],
                        by: None,
                    },
                };
                combine(identity, bound, name)
            }
        };
        session_limits(verdict, &action, ctx.kind)
    }

    /// What the request context holds for a key (lower-cased).
    pub(super) fn lookup(&self, key: &str, ctx: &Context) -> Lookup {
        let one = |s: String| Lookup::Values(vec![s]);
        let is_user = matches!(self.who, Who::User(_));
        match key {
            "aws:tokenissuetime" => match ctx.issued {
                Some(t) => t.format(&Rfc3339).map_or(Lookup::Unknown, one),
                None => Lookup::Absent,
            },
            "aws:multifactorauthpresent" => match ctx.kind {
                SessionKind::LongTerm => Lookup::Absent,
                _ => one("false".into()),
            },
            "aws:multifactorauthage" => Lookup::Absent,
            "aws:sourceip" => ctx
                .source_ip
                .map_or(Lookup::Unknown, |ip| one(ip.to_string())),
            "aws:currenttime" => ctx.now.format(&Rfc3339).map_or(Lookup::Unknown, one),
            "aws:epochtime" => one(ctx.now.unix_timestamp().to_string()),
            "aws:principalarn" => one(self.entity.arn.clone()),
            "aws:principalaccount" => self
                .entity
                .arn
                .split(':')
                .nth(4)
                .map_or(Lookup::Unknown, |a| one(a.to_string())),
            "aws:principaltype" => one(match ctx.kind {
                SessionKind::AssumedRole => "AssumedRole",
                SessionKind::Federation => "FederatedUser",
                _ if is_user => "User",
                _ => "AssumedRole",
            }
            .into()),
            "aws:username" if is_user => one(who_name(&self.who).to_string()),
            "aws:username" => Lookup::Absent,
            "aws:userid" if is_user && !self.entity.id.is_empty() => one(self.entity.id.clone()),
            "aws:principalisawsservice" => one("false".into()),
            // The attacker calls AWS directly, over HTTPS (the APIs refuse anything else).
            "aws:viaawsservice" => one("false".into()),
            "aws:securetransport" => one("true".into()),
            "iam:passedtoservice" => ctx.passed_to.clone().map_or(Lookup::Unknown, one),
            k => match k.strip_prefix("aws:principaltag/") {
                Some(tag) => self
                    .entity
                    .tags
                    .iter()
                    .find(|(t, _)| t.eq_ignore_ascii_case(tag))
                    .map_or(Lookup::Absent, |(_, v)| one(v.clone())),
                None => Lookup::Unknown,
            },
        }
    }

    /// Every `aws:TokenIssueTime` its conditions compare with, in seconds: two sessions that
    /// fall the same way of each get the same answers (the grid of thousands of sessions is
    /// computed once per principal and side of its revocations).
    pub fn token_cuts(&self) -> Vec<i64> {
        let mut cuts: Vec<i64> = self
            .identity
            .iter()
            .chain(self.boundary.iter().filter_map(|(_, s)| s.as_ref()))
            .flat_map(|s| &s.policy.statements)
            .flat_map(|s| &s.conditions)
            .filter(|c| c.key == "aws:tokenissuetime")
            .flat_map(|c| c.values.iter().filter_map(|v| super::cond::epoch(v)))
            .collect();
        cuts.sort_unstable();
        cuts.dedup();
        cuts
    }

    /// The principal's ARN.
    pub fn arn(&self) -> &str {
        &self.entity.arn
    }

    /// The principal as IAM lists it.
    pub fn entity(&self) -> &Entity {
        self.entity
    }
}

/// Does the statement's action element match?
pub(super) fn action_matches(s: &Statement, action: &str) -> bool {
    if let Some(svcs) = &s.services {
        let service = action.split_once(':').map_or(action, |(svc, _)| svc);
        if !svcs.iter().any(|s| s == service) {
            return false;
        }
    }
    match &s.actions {
        Matcher::Is(p) => p.iter().any(|p| glob(p, action)),
        Matcher::Not(p) => !p.iter().any(|p| glob(p, action)),
    }
}

/// Fills policy variables (`${aws:username}`); `None` when one is not known, so the pattern
/// matches nothing, as AWS treats a variable missing from the request.
fn substitute(pattern: &str, look: &dyn Fn(&str) -> Lookup) -> Option<String> {
    if !pattern.contains("${") {
        return Some(pattern.to_string());
    }
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}')?;
        let var = &after[..end];
        match var {
            "*" => out.push('*'),
            "?" => out.push('?'),
            "$" => out.push('$'),
            v => {
                // `${key, 'default'}` keeps its default when the key is missing.
                let (key, default) = match v.split_once(',') {
                    Some((k, d)) => (k.trim(), Some(d.trim().trim_matches('\''))),
                    None => (v.trim(), None),
                };
                match look(&key.to_ascii_lowercase()) {
                    Lookup::Values(vs) => out.push_str(vs.first()?),
                    _ => out.push_str(default?),
                }
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Does the statement's resource element match? `Some(scope)` when it does (the scope is
/// for `Res::Any`: `None` = every resource).
fn resource_matches(
    s: &Statement,
    res: Res<'_>,
    look: &dyn Fn(&str) -> Lookup,
) -> Option<Option<Vec<String>>> {
    let Some(m) = &s.resources else {
        return Some(None);
    };
    let patterns =
        |p: &[String]| -> Vec<String> { p.iter().filter_map(|p| substitute(p, look)).collect() };
    match (m, res) {
        (Matcher::Is(p), Res::Arn(arn)) => patterns(p).iter().any(|p| glob(p, arn)).then_some(None),
        (Matcher::Not(p), Res::Arn(arn)) => {
            (!patterns(p).iter().any(|p| glob(p, arn))).then_some(None)
        }
        // Every resource, the common case, without building the list.
        (Matcher::Is(p), Res::Any) if p.iter().any(|p| p == "*") => Some(None),
        (Matcher::Is(p), Res::Any) => {
            let ps = patterns(p);
            if ps.is_empty() {
                None
            } else if ps.iter().any(|p| p == "*") {
                Some(None)
            } else {
                Some(Some(ps))
            }
        }
        // Everything but some resources: for "some resource", that is every resource but a
        // few (unless it excludes everything).
        (Matcher::Not(p), Res::Any) => (!patterns(p).iter().any(|p| p == "*")).then_some(None),
    }
}

pub(super) fn conditions(s: &Statement, look: &dyn Fn(&str) -> Lookup) -> Tri {
    let mut unknown = Vec::new();
    for c in &s.conditions {
        match c.eval(look) {
            Tri::True => {}
            Tri::False => return Tri::False,
            Tri::Unknown(k) => unknown.extend(k),
        }
    }
    if unknown.is_empty() {
        Tri::True
    } else {
        unknown.sort();
        unknown.dedup();
        Tri::Unknown(unknown)
    }
}

/// The decision of one set of policies (the identity's, or a boundary alone).
fn decide(
    sources: &[Source<'_>],
    owners: &[String],
    unread: &[String],
    action: &str,
    res: Res<'_>,
    look: &dyn Fn(&str) -> Lookup,
) -> Verdict {
    let mut allows: Vec<Hit<'_>> = Vec::new();
    let mut denies: Vec<Hit<'_>> = Vec::new();
    for (n, src) in sources.iter().enumerate() {
        for s in &src.policy.statements {
            if !action_matches(s, action) {
                continue;
            }
            let Some(scope) = resource_matches(s, res, look) else {
                continue;
            };
            let tri = conditions(s, look);
            if tri == Tri::False {
                continue;
            }
            let hit = Hit {
                tri,
                statement: s,
                source: n,
                scope,
            };
            match s.effect {
                Effect::Allow => allows.push(hit),
                Effect::Deny => denies.push(hit),
            }
        }
    }
    let decider = |h: &Hit<'_>| sources[h.source].decider(owners, h.statement);

    // An explicit deny of every resource asked about wins.
    if let Some(d) = denies
        .iter()
        .find(|d| d.tri == Tri::True && d.scope.is_none())
    {
        return Verdict::Denied {
            by: Some(decider(d)),
            why: "explicit deny".into(),
        };
    }
    // What the certain allows reach, less what certain denies of some resources take away.
    let certain: Vec<&Hit<'_>> = allows.iter().filter(|h| h.tri == Tri::True).collect();
    let mut allowed: Option<(Decider, Option<Vec<String>>)> = None;
    if !certain.is_empty() {
        let every = certain.iter().find(|h| h.scope.is_none());
        let mut scope: Option<Vec<String>> = match every {
            Some(_) => None,
            None => Some(
                certain
                    .iter()
                    .flat_map(|h| h.scope.iter().flatten().cloned())
                    .collect(),
            ),
        };
        let mut took: Option<&Hit<'_>> = None;
        if let Some(ps) = &mut scope {
            for d in denies.iter().filter(|d| d.tri == Tri::True) {
                let dp = d.scope.as_deref().unwrap_or_default();
                let before = ps.len();
                ps.retain(|p| !dp.iter().any(|q| covers(q, p)));
                if ps.len() < before {
                    took = Some(d);
                }
            }
            ps.sort();
            ps.dedup();
        }
        match (&scope, took) {
            (Some(ps), Some(d)) if ps.is_empty() => {
                return Verdict::Denied {
                    by: Some(decider(d)),
                    why: "explicit deny of every resource it is allowed on".into(),
                };
            }
            _ => {
                let h = every.copied().unwrap_or(certain[0]);
                allowed = Some((decider(h), scope));
            }
        }
    }
    let unsure_deny: Vec<&Hit<'_>> = denies
        .iter()
        .filter(|d| matches!(d.tri, Tri::Unknown(_)))
        .collect();
    let keys_of = |hits: &[&Hit<'_>]| -> Vec<String> {
        let mut ks: Vec<String> = hits
            .iter()
            .flat_map(|h| match &h.tri {
                Tri::Unknown(k) => k.clone(),
                _ => Vec::new(),
            })
            .collect();
        ks.sort();
        ks.dedup();
        ks
    };
    let unread_words = || -> Vec<String> {
        unread
            .iter()
            .map(|n| format!("policy {n} (not readable)"))
            .collect()
    };
    if let Some((by, on)) = allowed {
        if !unsure_deny.is_empty() {
            return Verdict::Conditional {
                on: keys_of(&unsure_deny),
                by: Some(decider(unsure_deny[0])),
            };
        }
        if !unread.is_empty() {
            return Verdict::Conditional {
                on: unread_words(),
                by: Some(by),
            };
        }
        return Verdict::Allowed { by, on };
    }
    let unsure_allow: Vec<&Hit<'_>> = allows
        .iter()
        .filter(|h| matches!(h.tri, Tri::Unknown(_)))
        .collect();
    if !unsure_allow.is_empty() {
        let mut on = keys_of(&unsure_allow);
        on.extend(keys_of(&unsure_deny));
        on.sort();
        on.dedup();
        return Verdict::Conditional {
            on,
            by: Some(decider(unsure_allow[0])),
        };
    }
    if !unread.is_empty() {
        return Verdict::Conditional {
            on: unread_words(),
            by: None,
        };
    }
    Verdict::Denied {
        by: None,
        why: "no statement allows it".into(),
    }
}

/// Identity and boundary: both must allow.
fn combine(identity: Verdict, boundary: Verdict, name: &str) -> Verdict {
    match (identity, boundary) {
        (d @ Verdict::Denied { .. }, _) => d,
        (_, Verdict::Denied { by: Some(by), .. }) => Verdict::Denied {
            by: Some(by),
            why: format!("explicit deny in the permissions boundary {name}").into(),
        },
        (_, Verdict::Denied { by: None, .. }) => Verdict::Denied {
            by: None,
            why: format!("outside the permissions boundary {name}").into(),
        },
        (Verdict::Conditional { mut on, by }, Verdict::Conditional { on: more, .. }) => {
            on.extend(more);
            on.sort();
            on.dedup();
            Verdict::Conditional { on, by }
        }
        (c @ Verdict::Conditional { .. }, Verdict::Allowed { .. }) => c,
        (Verdict::Allowed { by, .. }, Verdict::Conditional { on, .. }) => Verdict::Conditional {
            on: on
                .into_iter()
                .map(|k| format!("{k} in the boundary {name}"))
                .collect(),
            by: Some(by),
        },
        (a @ Verdict::Allowed { .. }, Verdict::Allowed { .. }) => a,
    }
}

/// What a session cannot do whatever its policies say (AWS documents these limits for
/// `GetSessionToken` without MFA and for `GetFederationToken`), and what an unknown session
/// policy may take away.
fn session_limits(v: Verdict, action: &str, kind: SessionKind) -> Verdict {
    if matches!(v, Verdict::Denied { .. }) {
        return v;
    }
    let sts_ok = |a: &str| a == "sts:getcalleridentity";
    match kind {
        SessionKind::SessionToken => {
            if action.starts_with("iam:") {
                return Verdict::Denied {
                    by: None,
                    why: "a GetSessionToken session without MFA cannot call IAM".into(),
                };
            }
            if action.starts_with("sts:") && !sts_ok(action) && action != "sts:assumerole" {
                return Verdict::Denied {
                    by: None,
                    why: "a GetSessionToken session calls only AssumeRole and \
                          GetCallerIdentity of STS"
                        .into(),
                };
            }
            v
        }
        SessionKind::Federation => {
            if action.starts_with("iam:") || (action.starts_with("sts:") && !sts_ok(action)) {
                return Verdict::Denied {
                    by: None,
                    why: "a GetFederationToken session cannot call IAM or STS".into(),
                };
            }
            match v {
                Verdict::Allowed { by, .. } => Verdict::Conditional {
                    on: vec!["the session policy passed to GetFederationToken".into()],
                    by: Some(by),
                },
                other => other,
            }
        }
        SessionKind::LongTerm | SessionKind::AssumedRole => v,
    }
}
