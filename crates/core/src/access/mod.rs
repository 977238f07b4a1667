//! The attacker's footholds: everything it can still use to act in the account, each open,
//! reduced or closed, with the reason in words. Built from live IAM (keys, users, passwords,
//! roles and their trust and revocation policies, identity providers) and from what the trail
//! says the tracked credentials did. Without trail evidence, anything of these kinds that
//! appeared after the leak started is a foothold of unknown origin: the model never depends on
//! the trail to see a backdoor, because attackers stop logging first.
//!
//! One function, [`assess`], is the model: the console's header, its Access tab, the checklist,
//! the milestones, the report and the headless `footholds` command all read its answer.

pub mod authz;
mod can;
pub mod evidence;
pub mod policy;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::domain::{AccessKey, KeyStatus, KeysSnapshot, LastUsed, Timestamp, key_short};
pub use authz::Subject;
pub use can::can;
pub use evidence::{Act, Acts, Evidence, Principal};
pub use policy::Trusted;

/// A user as the access poll read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAccess {
    pub name: String,
    pub arn: String,
    pub created: Timestamp,
    /// When its console password was created; `None` when it has none.
    pub password: Option<Timestamp>,
    /// The latest `aws:TokenIssueTime` cut-off its inline policies deny before.
    pub revoked_before: Option<Timestamp>,
}

/// A role as the access poll read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAccess {
    pub name: String,
    pub arn: String,
    pub created: Timestamp,
    /// The trust policy, decoded.
    pub trust: String,
    /// The principals it names, read once when the poll arrives (the model runs after every
    /// message; thousands of roles are not parsed each time).
    pub trusted: Vec<Trusted>,
    pub revoked_before: Option<Timestamp>,
    /// Under `/aws-service-role/`: only its AWS service can assume it.
    pub service_linked: bool,
}

impl RoleAccess {
    /// A role with its trust policy read; no revocation, not service-linked.
    pub fn new(name: String, arn: String, created: Timestamp, trust: String) -> RoleAccess {
        RoleAccess {
            trusted: policy::trusted(&trust),
            name,
            arn,
            created,
            trust,
            revoked_before: None,
            service_linked: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub arn: String,
    /// `oidc` or `saml`.
    pub kind: String,
    pub created: Option<Timestamp>,
}

/// One poll of the account's access (everything but the keys, which the Keys poll reads).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessSnapshot {
    pub users: Vec<UserAccess>,
    pub roles: Vec<RoleAccess>,
    pub providers: Vec<Provider>,
    /// Parts that could not be read, in words. The model treats what it could not read as
    /// unverified, never as absent.
    pub warnings: Vec<String>,
    /// Users whose password could not be read.
    pub password_unread: Vec<String>,
    /// The organisation the account is in; `None` when it is in none (or that could not be
    /// read: then only this account and `--trust-account` are trusted).
    pub organization: Option<Organization>,
    /// The identity policies of every user, group and role: what each can still do.
    pub authz: std::sync::Arc<authz::Authz>,
}

/// The account's organisation: its accounts are not "outside" for a trust policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Organization {
    pub id: String,
    pub management_account: String,
    /// Every member account, when they could be listed (the management account or a
    /// delegated administrator can; a member account cannot).
    pub accounts: Vec<String>,
    /// Why the member accounts could not be listed, if they could not.
    pub accounts_unread: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    LeakedKey,
    AccessKey,
    Session,
    User,
    LoginProfile,
    Role,
    Trust,
    IdentityProvider,
    /// A function a tracked credential made: it runs with its role's rights.
    Function,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::LeakedKey => "leaked-key",
            Kind::AccessKey => "access-key",
            Kind::Session => "session",
            Kind::User => "user",
            Kind::LoginProfile => "login-profile",
            Kind::Role => "role",
            Kind::Trust => "trust",
            Kind::IdentityProvider => "identity-provider",
            Kind::Function => "function",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FootState {
    Open,
    Reduced,
    Closed,
}

impl FootState {
    pub fn word(self) -> &'static str {
        match self {
            FootState::Open => "OPEN",
            FootState::Reduced => "REDUCED",
            FootState::Closed => "CLOSED",
        }
    }
}

/// How the model knows a foothold is the attacker's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provenance {
    /// One of the leaked keys.
    Leaked,
    /// A trail event made by a tracked credential.
    Trail {
        event_id: String,
        time: Timestamp,
        by_key: String,
    },
    /// Appeared after the leak started and no event of a tracked credential explains it (no
    /// trail, logging stopped, or logs not delivered yet).
    Unknown { appeared: Timestamp },
    /// There before the leak, and open to someone outside the account all the same (a role
    /// that trusts another account).
    Standing,
}

impl From<&Evidence> for Provenance {
    fn from(e: &Evidence) -> Provenance {
        Provenance::Trail {
            event_id: e.event_id.clone(),
            time: e.time,
            by_key: e.by_key.clone(),
        }
    }
}

impl Provenance {
    /// Footholds the operator may clear with a reason: only those no evidence ties to the
    /// attacker.
    pub fn clearable(&self) -> bool {
        matches!(self, Provenance::Unknown { .. } | Provenance::Standing)
    }

    pub fn words(&self) -> String {
        match self {
            Provenance::Leaked => "leaked".into(),
            Provenance::Trail { time, by_key, .. } => {
                format!("by {} at {}", key_short(by_key), crate::fmt::minute(*time))
            }
            Provenance::Unknown { appeared } => format!(
                "unknown origin: appeared {} after the leak started, no trail event explains it",
                crate::fmt::minute(*appeared)
            ),
            Provenance::Standing => "there before the leak".into(),
        }
    }
}

/// One thing the attacker can (or could) use to act in the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Foothold {
    pub kind: Kind,
    /// The key id, session key id, user or role name, or provider ARN.
    pub id: String,
    /// The user or role it acts as (`user dev`, `role deploy-role`).
    pub principal: String,
    pub state: FootState,
    pub why: String,
    /// Sessions: when they stop working on their own.
    pub expires: Option<Timestamp>,
    pub provenance: Provenance,
    /// What closes it, when the console can do it.
    pub remedy: Option<Remedy>,
    /// What it acts as, with its request context (`None` for an identity provider): what
    /// `access::can`, the permissions view and the grid evaluate.
    /// Shared: the model copies its footholds around after every message.
    pub subject: Option<std::sync::Arc<Subject>>,
}

impl Foothold {
    /// The key that identifies it across polls and in the journal: `kind:id`.
    pub fn handle(&self) -> String {
        format!("{}:{}", self.kind.label(), self.id)
    }
}

/// The console action that closes a foothold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    DisableKey {
        user: String,
        key_id: String,
    },
    /// Attach the revocation to every user and role in its chain.
    Revoke(Vec<Principal>),
    DeletePassword {
        user: String,
    },
    /// Take these principals out of the role's trust policy.
    Untrust {
        role: String,
        principals: Vec<Trusted>,
    },
    /// Remove it with its parts (users, roles, providers): a Resources tab plan.
    Remove,
}

/// Why the model cannot say "contained" yet, when that is so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// Read from live IAM at this time (the older of the two polls).
    At(Timestamp),
    /// Not read yet, or the last read failed: nothing can be said to be closed.
    No(String),
}

/// The model's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// Open first, then reduced, then closed; within each, by kind.
    pub footholds: Vec<Foothold>,
    pub verified: Verified,
    /// Acts the evidence cap did not keep.
    pub dropped_acts: usize,
}

impl Assessment {
    pub fn open(&self) -> usize {
        self.footholds
            .iter()
            .filter(|f| f.state == FootState::Open)
            .count()
    }

    /// Zero open footholds, verified from live state.
    pub fn contained(&self) -> bool {
        matches!(self.verified, Verified::At(_)) && self.open() == 0
    }

    /// `CONTAINED`, `NOT CONTAINED (3 open)`, or `NOT CONTAINED (unverified)`: the header's
    /// words, the same on every tab. An open foothold is open whether or not the last poll
    /// could be read; only "contained" needs the verification.
    pub fn headline(&self) -> String {
        match (&self.verified, self.open()) {
            (Verified::At(_), 0) => "CONTAINED".into(),
            (Verified::No(_), 0) => "NOT CONTAINED (unverified)".into(),
            (_, n) => format!("NOT CONTAINED ({n} open)"),
        }
    }

    /// The open footholds' handles.
    pub fn open_handles(&self) -> BTreeSet<String> {
        self.footholds
            .iter()
            .filter(|f| f.state == FootState::Open)
            .map(Foothold::handle)
            .collect()
    }
}

/// A foothold the operator cleared, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleared {
    pub by: String,
    pub at: String,
    pub reason: String,
}

/// Everything the model reads.
pub struct Inputs<'a> {
    pub now: Timestamp,
    /// When the leak started, if known.
    pub since: Option<Timestamp>,
    pub leaked: &'a BTreeSet<String>,
    /// Keys this response created (rotations).
    pub response_keys: &'a BTreeSet<String>,
    /// The key keyspill signs with, and the user it runs as.
    pub self_key: Option<&'a str>,
    pub self_user: Option<&'a str>,
    /// This account first (when known), then any other the operator trusts (its
    /// organisation's accounts).
    pub trusted_accounts: Vec<&'a str>,
    /// Leaked keys IAM does not list, with their owning account when known.
    pub foreign: &'a [(String, Option<String>)],
    /// The last good keys poll, and the failure of the latest one if it failed.
    pub keys: Option<&'a KeysSnapshot>,
    pub keys_error: Option<&'a str>,
    pub keys_at: Option<Timestamp>,
    /// The same for the access poll.
    pub access: Option<&'a AccessSnapshot>,
    pub access_error: Option<&'a str>,
    pub access_at: Option<Timestamp>,
    pub acts: &'a Acts,
    /// Every tracked key (the leaked keys and everything minted or created from them).
    pub tracked: &'a dyn Fn(&str) -> bool,
    pub cleared: &'a BTreeMap<String, Cleared>,
    /// What the console remembers of the leaked keys from earlier polls (the headless command
    /// passes none): whose they were and when they were first seen unusable.
    pub leaked_history: &'a BTreeMap<String, LeakedKeyFacts>,
    /// Roles whose trust named principals outside the account earlier in this incident and
    /// no longer does, with the latest moment it may still have: a session minted through the
    /// trust before then is still valid (the console notes this poll after poll, and from its
    /// own trust changes; a role not listed is bounded by when IAM was read).
    pub trust_closed: &'a BTreeMap<String, Timestamp>,
    /// The account's Lambda functions as the last sweep found them; `None` before one.
    pub functions: Option<&'a Functions>,
    /// `aws:SourceIp` for the grid's conditions, when the operator gives the attacker's
    /// address; unknown otherwise.
    pub source_ip: Option<std::net::IpAddr>,
}

/// A leaked key as earlier polls saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeakedKeyFacts {
    pub user: String,
    /// Its last use, as IAM last reported it.
    pub last_used: Option<Timestamp>,
    /// When a poll first found it Inactive or gone: no use can be later than that.
    pub off_since: Option<Timestamp>,
}

/// The footholds, from live state and the trail.
pub fn assess(i: &Inputs<'_>) -> Assessment {
    let mut out: Vec<Foothold> = Vec::new();
    let acts: Vec<&Evidence> = i.acts.iter().filter(|e| (i.tracked)(&e.by_key)).collect();
    // What the trail says, indexed by what each act made or changed: the earliest act counts.
    let mut index: HashMap<(Target, String), &Evidence> = HashMap::new();
    for e in &acts {
        if let Some(key) = target(&e.act) {
            index
                .entry(key)
                .and_modify(|x| {
                    if e.time < x.time {
                        *x = e;
                    }
                })
                .or_insert(e);
        }
    }
    let trail = |t: Target, name: &str| -> Option<Provenance> {
        index
            .get(&(t, name.to_string()))
            .map(|e| Provenance::from(*e))
    };
    let after_leak = |t: Timestamp| i.since.is_some_and(|s| t > s);
    let keys = i.keys;
    let access = i.access;

    // Keys: the leaked ones, then every key a tracked credential created or that appeared
    // after the leak.
    for id in i.leaked {
        let key = keys.and_then(|k| k.keys.iter().find(|x| &x.key_id == id));
        let (state, why, remedy) = match (keys, key) {
            (None, _) => (
                FootState::Open,
                "not verified: IAM's keys could not be read".to_string(),
                None,
            ),
            (Some(_), Some(k)) => key_state(k),
            (Some(_), None) => match i.foreign.iter().find(|(f, _)| f == id) {
                Some((_, Some(acct))) if !i.trusted_accounts.contains(&acct.as_str()) => (
                    FootState::Open,
                    format!("belongs to account {acct}: only that account can disable it"),
                    None,
                ),
                _ => (
                    FootState::Closed,
                    "deleted: IAM no longer lists it".into(),
                    None,
                ),
            },
        };
        out.push(Foothold {
            subject: None,
            kind: Kind::LeakedKey,
            id: id.clone(),
            principal: key.map(|k| format!("user {}", k.user)).unwrap_or_default(),
            state,
            why,
            expires: None,
            provenance: Provenance::Leaked,
            remedy,
        });
    }
    if let Some(snap) = keys {
        for k in &snap.keys {
            if i.leaked.contains(&k.key_id)
                || i.response_keys.contains(&k.key_id)
                || i.self_key == Some(k.key_id.as_str())
            {
                continue;
            }
            let provenance = trail(Target::Key, &k.key_id).or_else(|| {
                after_leak(k.created).then_some(Provenance::Unknown {
                    appeared: k.created,
                })
            });
            let Some(provenance) = provenance else {
                continue;
            };
            let (state, why, remedy) = key_state(k);
            out.push(Foothold {
                subject: None,
                kind: Kind::AccessKey,
                id: k.key_id.clone(),
                principal: format!("user {}", k.user),
                state,
                why,
                expires: None,
                provenance,
                remedy,
            });
        }
    }
    // Keys the trail shows a tracked credential created and IAM no longer lists.
    let listed: BTreeSet<&str> = keys
        .iter()
        .flat_map(|k| &k.keys)
        .map(|k| k.key_id.as_str())
        .collect();
    for e in &acts {
        if let Act::KeyCreated { user, key_id } = &e.act
            && keys.is_some()
            && !listed.contains(key_id.as_str())
            && !i.leaked.contains(key_id)
        {
            out.push(Foothold {
                subject: None,
                kind: Kind::AccessKey,
                id: key_id.clone(),
                principal: format!("user {user}"),
                state: FootState::Closed,
                why: "deleted: IAM no longer lists it".into(),
                expires: None,
                provenance: trail(Target::Key, key_id).unwrap_or(Provenance::Leaked),
                remedy: None,
            });
        }
    }

    sessions(i, &acts, access, keys, &mut out);

    // Users, their passwords, roles, trust and providers: only with the access poll.
    if let Some(a) = access {
        principals(i, a, keys, &trail, &after_leak, &mut out);
    }

    functions(i, &acts, &mut out);

    if let Some(a) = access {
        can::grids(i, a, &mut out);
    }

    // The operator's clearances: an unknown-origin foothold, reviewed, is closed by a person.
    for f in &mut out {
        if f.state == FootState::Closed || !f.provenance.clearable() {
            continue;
        }
        if let Some(c) = i.cleared.get(&f.handle()) {
            f.state = FootState::Closed;
            f.why = format!("cleared by {} at {}: {}", c.by, c.at, c.reason);
            f.remedy = None;
        }
    }

    out.sort_by(|a, b| {
        a.state
            .cmp(&b.state)
            .then(a.kind.cmp(&b.kind))
            .then_with(|| a.id.cmp(&b.id))
    });
    out.dedup_by(|a, b| a.handle() == b.handle());
    let unread = access.map_or(0, |a| a.password_unread.len());
    let verified = match (i.keys_error, i.access_error, i.keys_at, i.access_at) {
        (Some(e), _, _, _) => Verified::No(format!("the last keys poll failed: {e}")),
        (_, Some(e), _, _) => Verified::No(format!("the last access poll failed: {e}")),
        _ if unread > 0 => Verified::No(format!(
            "the console passwords of {unread} user(s) could not be read"
        )),
        (None, None, Some(k), Some(a)) if keys.is_some() && access.is_some() => {
            Verified::At(k.min(a))
        }
        _ => Verified::No("not read from IAM yet".into()),
    };
    Assessment {
        footholds: out,
        verified,
        dropped_acts: i.acts.dropped,
    }
}

/// An access key's state: usable while Active.
fn key_state(k: &AccessKey) -> (FootState, String, Option<Remedy>) {
    match k.status {
        KeyStatus::Active => {
            let mut why = format!("Active access key of user {}", k.user);
            if k.quarantined == Some(true) {
                // The quarantine policy denies the worst calls, not all of them (reads, Auto
                // Scaling, launch templates): the key can still act.
                why.push_str("; the AWS quarantine policy limits it but does not stop it");
            }
            (
                FootState::Open,
                why,
                Some(Remedy::DisableKey {
                    user: k.user.clone(),
                    key_id: k.key_id.clone(),
                }),
            )
        }
        KeyStatus::Inactive => (FootState::Closed, "Inactive".into(), None),
    }
}

/// Sessions the trail shows a tracked key minted, and the sessions a leaked key may have
/// minted out of the trail's sight (a user's own sessions last up to 36 hours).
fn sessions(
    i: &Inputs<'_>,
    acts: &[&Evidence],
    access: Option<&AccessSnapshot>,
    keys: Option<&KeysSnapshot>,
    out: &mut Vec<Foothold>,
) {
    // By name, once: the model runs after every message, on accounts with thousands of both.
    let users: HashMap<&str, &UserAccess> = access
        .map(|a| a.users.iter().map(|u| (u.name.as_str(), u)).collect())
        .unwrap_or_default();
    let roles: HashMap<&str, &RoleAccess> = access
        .map(|a| a.roles.iter().map(|r| (r.name.as_str(), r)).collect())
        .unwrap_or_default();
    // `None` when IAM's users and roles are not known; `Some(None)` when the principal
    // carries no revocation (or is gone: `exists` says so first).
    let revoked_before = |p: &Principal| -> Option<Option<Timestamp>> {
        access?;
        Some(match p {
            Principal::User(n) => users.get(n.as_str()).and_then(|u| u.revoked_before),
            Principal::Role(n) => roles.get(n.as_str()).and_then(|r| r.revoked_before),
        })
    };
    let exists = |p: &Principal| -> Option<bool> {
        access?;
        Some(match p {
            Principal::User(n) => users.contains_key(n.as_str()),
            Principal::Role(n) => roles.contains_key(n.as_str()),
        })
    };
    // Every user and role in a session's chain: its own principal and those of the sessions
    // it was minted from.
    let minted_by: BTreeMap<&str, &Evidence> = acts
        .iter()
        .filter_map(|e| match &e.act {
            Act::Session { key_id, .. } => Some((key_id.as_str(), *e)),
            _ => None,
        })
        .collect();
    let chain_of = |start: &Evidence| -> Vec<Principal> {
        let mut chain = Vec::new();
        let mut cur = Some(start);
        let mut hops = 0;
        while let Some(e) = cur {
            if let Act::Session { principal, .. } = &e.act
                && !chain.contains(principal)
            {
                chain.push(principal.clone());
            }
            hops += 1;
            if hops > crate::timeline::chain::MAX_DEPTH {
                break;
            }
            cur = minted_by.get(e.by_key.as_str()).copied();
        }
        chain
    };
    for e in acts {
        let Act::Session {
            key_id,
            principal,
            via,
            expires,
            account,
        } = &e.act
        else {
            continue;
        };
        // A role in another account: this account's IAM says nothing of it.
        let elsewhere = account
            .as_deref()
            .filter(|a| i.trusted_accounts.first().is_some_and(|own| own != a));
        let (expires, assumed) = match expires {
            Some(t) => (*t, false),
            None => (e.time + evidence::longest_life(via), true),
        };
        // A session that was over before the leak started is history (the key's owner at
        // work), not a foothold.
        if i.since.is_some_and(|s| expires <= s) {
            continue;
        }
        let chain = chain_of(e);
        let (state, why) = if expires <= i.now {
            (
                FootState::Closed,
                format!("expired at {}", crate::fmt::minute(expires)),
            )
        } else if let Some(other) = elsewhere {
            (
                FootState::Open,
                format!(
                    "{principal} is in account {other}: revoke it there \
                     (keyspill footholds --accounts {other})"
                ),
            )
        } else if exists(principal) == Some(false) {
            (FootState::Closed, format!("{principal} no longer exists"))
        } else {
            match revoked_before(principal) {
                Some(Some(cut)) if cut >= e.time => (
                    FootState::Closed,
                    format!(
                        "revoked: {principal} denies tokens issued before {}",
                        crate::fmt::minute(cut)
                    ),
                ),
                None => (
                    FootState::Open,
                    "not verified: IAM's users and roles could not be read".into(),
                ),
                _ => (
                    FootState::Open,
                    format!(
                        "{via}: valid until {}{}; revoke on {}",
                        crate::fmt::minute(expires),
                        if assumed {
                            " (the longest AWS allows: the record gives no expiry)"
                        } else {
                            ""
                        },
                        chain
                            .iter()
                            .map(Principal::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
            }
        };
        // Another account's role: neither its rights nor its revocation are this account's
        // (a role of the same name here is another role).
        let here = elsewhere.is_none();
        out.push(Foothold {
            subject: here.then(|| {
                std::sync::Arc::new(Subject {
                    who: who_of(principal),
                    ctx: authz::Context {
                        source_ip: i.source_ip,
                        ..authz::Context::session(i.now, session_kind(via), e.time)
                    },
                })
            }),
            kind: Kind::Session,
            id: key_id.clone(),
            principal: match elsewhere {
                Some(other) => format!("{principal} in {other}"),
                None => principal.to_string(),
            },
            state,
            why,
            expires: Some(expires),
            provenance: Provenance::from(*e),
            remedy: here.then_some(Remedy::Revoke(chain)),
        });
    }

    // A leaked key can mint sessions the trail never shows (no trail, logging stopped, logs
    // late): the leaked key's user must deny every token issued while the key could be used.
    let Some(snap) = keys else { return };
    // Per user of a leaked key: whether one is still Active, and the last moment one can have
    // acted. A key IAM no longer lists (deleted) still counts, through what earlier polls saw:
    // the sessions it minted outlive it.
    let mut by_user: BTreeMap<String, (bool, Option<Timestamp>)> = BTreeMap::new();
    for id in i.leaked {
        let listed = snap.keys.iter().find(|k| &k.key_id == id);
        let history = i.leaked_history.get(id);
        let Some(user) = listed
            .map(|k| k.user.clone())
            .or_else(|| history.map(|h| h.user.clone()))
        else {
            continue;
        };
        let active = listed.is_some_and(|k| k.status == KeyStatus::Active);
        // An unknown last use is bounded by when the key was first seen off; while that is
        // not known either, it may be now.
        let bound = history.and_then(|h| h.off_since).unwrap_or(i.now);
        let used = match listed.map(|k| &k.last_used) {
            Some(LastUsed::At { when, .. }) => Some(*when),
            Some(LastUsed::Never) => None,
            Some(LastUsed::Unknown) => Some(bound),
            None => history.and_then(|h| h.last_used).or(Some(bound)),
        };
        let seen = i.acts.last_seen.get(id).copied();
        let entry = by_user.entry(user).or_insert((false, None));
        entry.0 |= active;
        entry.1 = entry.1.max(used.max(seen));
    }
    for (user, (active, last)) in by_user {
        let user = user.as_str();
        let principal = Principal::User(user.to_string());
        let id = format!("unseen:{user}");
        let (state, why, expires) = if active {
            (
                FootState::Open,
                format!(
                    "a leaked key of {user} is still Active and can mint sessions the trail \
                     may not show; disable it, then revoke on user {user}"
                ),
                None,
            )
        } else if let Some(last) = last {
            let expires = last + time::Duration::hours(36);
            match revoked_before(&principal) {
                _ if exists(&principal) == Some(false) => (
                    FootState::Closed,
                    format!("user {user} is deleted: its sessions went with it"),
                    Some(expires),
                ),
                _ if expires <= i.now => (
                    FootState::Closed,
                    "any session it minted has expired (36 hours after its last use)".into(),
                    Some(expires),
                ),
                Some(Some(cut)) if cut >= last => (
                    FootState::Closed,
                    format!(
                        "revoked: user {user} denies tokens issued before {}",
                        crate::fmt::minute(cut)
                    ),
                    Some(expires),
                ),
                None => (
                    FootState::Open,
                    "not verified: IAM's users could not be read".into(),
                    Some(expires),
                ),
                _ => (
                    FootState::Open,
                    format!(
                        "sessions the leaked key may have minted, unseen by the trail, last \
                         until {}; revoke on user {user}",
                        crate::fmt::minute(expires)
                    ),
                    Some(expires),
                ),
            }
        } else {
            (
                FootState::Closed,
                "the leaked key was never used".into(),
                None,
            )
        };
        out.push(Foothold {
            // Sessions a user's key mints on its own (GetSessionToken, GetFederationToken),
            // issued at the latest when the key last acted.
            subject: Some(std::sync::Arc::new(Subject {
                who: who_of(&principal),
                ctx: authz::Context {
                    source_ip: i.source_ip,
                    ..authz::Context::session(
                        i.now,
                        authz::SessionKind::SessionToken,
                        if active { i.now } else { last.unwrap_or(i.now) },
                    )
                },
            })),
            kind: Kind::Session,
            id,
            principal: principal.to_string(),
            state,
            why,
            expires,
            provenance: Provenance::Leaked,
            remedy: Some(Remedy::Revoke(vec![principal])),
        });
    }
}

/// The functions a sweep found, and the regions whose functions it could read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Functions {
    pub swept: BTreeSet<String>,
    /// (region, name).
    pub present: BTreeSet<(String, String)>,
}

/// Functions a tracked credential made. A function acts with its execution role's rights each
/// time it runs, and nothing of the incident's keys is needed for that: a schedule (or any
/// trigger the attacker set) remakes users and keys as fast as they are removed. Open while
/// it exists; the grid then closes one whose role can do none of the grid's actions (a
/// miner's logging role is eradication work, not a way back in). Revoking the role's sessions
/// does not help: each run gets a fresh one.
fn functions(i: &Inputs<'_>, acts: &[&Evidence], out: &mut Vec<Foothold>) {
    let mut seen = BTreeSet::new();
    for e in acts {
        let Act::FunctionCreated { region, name, role } = &e.act else {
            continue;
        };
        let id = format!("{region}/{name}");
        if !seen.insert(id.clone()) {
            continue;
        }
        let (state, why, remedy) = match i.functions {
            None => (
                FootState::Open,
                "not verified: the account's functions have not been swept yet".to_string(),
                Some(Remedy::Remove),
            ),
            Some(f) if !f.swept.contains(region) => (
                FootState::Open,
                format!("not verified: the functions of {region} could not be read"),
                Some(Remedy::Remove),
            ),
            Some(f) if f.present.contains(&(region.clone(), name.clone())) => (
                FootState::Open,
                format!(
                    "runs as role {role} whenever it is invoked or scheduled, with no key of \
                     this incident; a fresh session each run, so revoking does not stop it: \
                     remove it"
                ),
                Some(Remedy::Remove),
            ),
            Some(_) => (FootState::Closed, "deleted".to_string(), None),
        };
        out.push(Foothold {
            subject: None,
            kind: Kind::Function,
            id,
            principal: format!("role {role}"),
            state,
            why,
            expires: None,
            provenance: Provenance::from(*e),
            remedy,
        });
    }
}

/// The id prefix of the sessions minted through a role's trust by principals outside the
/// account: `trust:deploy-role`.
pub const TRUST_SESSIONS: &str = "trust:";

/// The longest a role session can last (a role's `MaxSessionDuration` is at most 12 hours).
pub const LONGEST_ROLE_SESSION: time::Duration = time::Duration::hours(12);

/// The sessions principals outside the account could mint through a role's trust: their
/// AssumeRole calls are logged with no key of this incident, so the trail cannot list them,
/// and removing the trust does not end them. While the trust still names them (and a tracked
/// credential put them there) they can mint at will; once it no longer does, what they minted
/// before lasts up to 12 hours unless the role denies tokens issued before the trust closed.
/// A trust that named outsiders from before the leak and still does is the trust foothold's
/// business alone (a vendor's, cleared by the operator), not a session foothold.
fn through_trust(
    i: &Inputs<'_>,
    r: &RoleAccess,
    outside: &[Trusted],
    changed: Option<&Provenance>,
) -> Option<Foothold> {
    let closed = i.trust_closed.get(&r.name).copied();
    if changed.is_none() && closed.is_none() {
        return None;
    }
    let principal = Principal::Role(r.name.clone());
    let minute = crate::fmt::minute;
    let (state, why, expires, issued, remedy) = if !outside.is_empty() {
        (
            FootState::Open,
            format!(
                "{} can mint sessions of role {} at will: remove them from its trust first, \
                 then revoke on role {}",
                outside
                    .iter()
                    .map(Trusted::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                r.name,
                r.name
            ),
            None,
            i.now,
            None,
        )
    } else {
        // Not seen outside by this console: bounded by when IAM was read.
        let bound = closed.unwrap_or(i.access_at.unwrap_or(i.now));
        let expires = bound + LONGEST_ROLE_SESSION;
        let (state, why) = match r.revoked_before {
            _ if expires <= i.now => (
                FootState::Closed,
                format!(
                    "any session minted through the trust expired at {}",
                    minute(expires)
                ),
            ),
            Some(cut) if cut >= bound => (
                FootState::Closed,
                format!(
                    "revoked: role {} denies tokens issued before {}",
                    r.name,
                    minute(cut)
                ),
            ),
            _ => (
                FootState::Open,
                format!(
                    "sessions minted through the trust before it closed ({} at the latest) \
                     last until {}, unseen by the trail; revoke on role {}",
                    minute(bound),
                    minute(expires),
                    r.name
                ),
            ),
        };
        let remedy = (state == FootState::Open).then(|| Remedy::Revoke(vec![principal.clone()]));
        (state, why, Some(expires), bound, remedy)
    };
    Some(Foothold {
        subject: Some(std::sync::Arc::new(Subject {
            who: who_of(&principal),
            ctx: authz::Context {
                source_ip: i.source_ip,
                ..authz::Context::session(i.now, authz::SessionKind::AssumedRole, issued)
            },
        })),
        kind: Kind::Session,
        id: format!("{TRUST_SESSIONS}{}", r.name),
        principal: principal.to_string(),
        state,
        why,
        expires,
        provenance: changed.cloned().unwrap_or(Provenance::Standing),
        remedy,
    })
}

/// The principal a session or credential acts as.
fn who_of(p: &Principal) -> authz::Who {
    match p {
        Principal::User(n) => authz::Who::User(n.clone()),
        Principal::Role(n) => authz::Who::Role(n.clone()),
    }
}

/// The kind of session a minting call makes (`AssumeRole deploy-role`, `GetSessionToken`).
fn session_kind(via: &str) -> authz::SessionKind {
    if via.starts_with("GetSessionToken") {
        authz::SessionKind::SessionToken
    } else if via.starts_with("GetFederationToken") {
        authz::SessionKind::Federation
    } else {
        authz::SessionKind::AssumedRole
    }
}

type TrailFn<'a> = dyn Fn(Target, &str) -> Option<Provenance> + 'a;

/// What an act made or changed, for looking its evidence up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Target {
    Key,
    User,
    Password,
    Role,
    Trust,
    Provider,
}

fn target(act: &Act) -> Option<(Target, String)> {
    Some(match act {
        Act::KeyCreated { key_id, .. } => (Target::Key, key_id.clone()),
        Act::UserCreated { user } => (Target::User, user.clone()),
        Act::Password { user, .. } => (Target::Password, user.clone()),
        Act::RoleCreated { role } => (Target::Role, role.clone()),
        Act::TrustChanged { role } => (Target::Trust, role.clone()),
        Act::ProviderCreated { arn } => (Target::Provider, arn.clone()),
        Act::Session { .. } | Act::FunctionCreated { .. } => return None,
    })
}

fn principals(
    i: &Inputs<'_>,
    a: &AccessSnapshot,
    keys: Option<&KeysSnapshot>,
    trail: &TrailFn<'_>,
    after_leak: &dyn Fn(Timestamp) -> bool,
    out: &mut Vec<Foothold>,
) {
    let mine = |user: &str| i.self_user == Some(user);
    let mut active_keys: HashMap<&str, Vec<&AccessKey>> = HashMap::new();
    for k in keys.iter().flat_map(|k| &k.keys) {
        if k.status == KeyStatus::Active {
            active_keys.entry(k.user.as_str()).or_default().push(k);
        }
    }
    let user_names: BTreeSet<&str> = a.users.iter().map(|u| u.name.as_str()).collect();
    let role_names: BTreeSet<&str> = a.roles.iter().map(|r| r.name.as_str()).collect();
    let provider_arns: BTreeSet<&str> = a.providers.iter().map(|p| p.arn.as_str()).collect();
    for u in &a.users {
        if mine(&u.name) {
            continue;
        }
        let provenance = trail(Target::User, &u.name).or_else(|| {
            after_leak(u.created).then_some(Provenance::Unknown {
                appeared: u.created,
            })
        });
        if let Some(provenance) = provenance {
            let active = active_keys
                .get(u.name.as_str())
                .cloned()
                .unwrap_or_default();
            let mut can = Vec::new();
            if u.password.is_some() {
                can.push("signs in with a password".to_string());
            }
            if !active.is_empty() {
                can.push(format!(
                    "has Active key(s) {}",
                    active
                        .iter()
                        .map(|k| key_short(&k.key_id))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            let (state, why) = if can.is_empty() {
                (
                    FootState::Reduced,
                    "exists with no password and no Active key; anyone who can give it one \
                     can use it: remove it"
                        .to_string(),
                )
            } else {
                (FootState::Open, format!("exists and {}", can.join(" and ")))
            };
            out.push(Foothold {
                subject: None,
                kind: Kind::User,
                id: u.name.clone(),
                principal: format!("user {}", u.name),
                state,
                why,
                expires: None,
                provenance,
                remedy: Some(Remedy::Remove),
            });
        }
        // A password the attacker set, on any user: its own or one that had none.
        let set = trail(Target::Password, &u.name);
        let provenance = set.or_else(|| {
            u.password
                .filter(|t| after_leak(*t))
                .map(|t| Provenance::Unknown { appeared: t })
        });
        if let Some(provenance) = provenance {
            let (state, why, remedy) = match u.password {
                Some(_) => (
                    FootState::Open,
                    format!(
                        "user {} can sign in to the console with this password",
                        u.name
                    ),
                    Some(Remedy::DeletePassword {
                        user: u.name.clone(),
                    }),
                ),
                None => (FootState::Closed, "no password: deleted".into(), None),
            };
            out.push(Foothold {
                subject: None,
                kind: Kind::LoginProfile,
                id: u.name.clone(),
                principal: format!("user {}", u.name),
                state,
                why,
                expires: None,
                provenance,
                remedy,
            });
        }
    }
    // Users the trail shows were made or given a password, and are gone now.
    for e in i.acts.iter().filter(|e| (i.tracked)(&e.by_key)) {
        let (kind, name) = match &e.act {
            Act::UserCreated { user } => (Kind::User, user),
            Act::Password { user, .. } => (Kind::LoginProfile, user),
            Act::RoleCreated { role } => (Kind::Role, role),
            Act::ProviderCreated { arn } => (Kind::IdentityProvider, arn),
            _ => continue,
        };
        let present = match kind {
            Kind::User | Kind::LoginProfile => user_names.contains(name.as_str()),
            Kind::Role => role_names.contains(name.as_str()),
            _ => provider_arns.contains(name.as_str()),
        };
        if !present {
            out.push(Foothold {
                subject: None,
                kind,
                id: name.clone(),
                principal: match kind {
                    Kind::Role => format!("role {name}"),
                    Kind::IdentityProvider => String::new(),
                    _ => format!("user {name}"),
                },
                state: FootState::Closed,
                why: "deleted".into(),
                expires: None,
                provenance: Provenance::from(e),
                remedy: None,
            });
        }
    }

    // Who may be trusted: this account, the operator's list, and the organisation's accounts
    // when they could be read.
    let mut trusted_accounts: Vec<&str> = i.trusted_accounts.clone();
    let mut outside_of = "the account".to_string();
    if let Some(org) = &a.organization {
        trusted_accounts.push(&org.management_account);
        trusted_accounts.extend(org.accounts.iter().map(String::as_str));
        outside_of = match &org.accounts_unread {
            None => format!("the organisation {}", org.id),
            Some(_) => "the account and the organisation's management account (the member \
                        accounts could not be listed: --trust-account names them)"
                .to_string(),
        };
    }
    for r in &a.roles {
        let trusted = &r.trusted;
        let named = trusted
            .iter()
            .map(Trusted::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let outside: Vec<Trusted> = trusted
            .iter()
            .filter(|p| p.is_outside(&trusted_accounts))
            .cloned()
            .collect();
        if !r.service_linked {
            let made = trail(Target::Role, &r.name).or_else(|| {
                after_leak(r.created).then_some(Provenance::Unknown {
                    appeared: r.created,
                })
            });
            if let Some(provenance) = made {
                out.push(Foothold {
                    subject: None,
                    kind: Kind::Role,
                    id: r.name.clone(),
                    principal: format!("role {}", r.name),
                    state: FootState::Open,
                    why: format!(
                        "exists; whoever it trusts can assume it: {}",
                        if named.is_empty() {
                            "nobody named"
                        } else {
                            &named
                        }
                    ),
                    expires: None,
                    provenance,
                    remedy: Some(Remedy::Remove),
                });
            }
        }
        let changed = trail(Target::Trust, &r.name);
        if !outside.is_empty() {
            let who = outside
                .iter()
                .map(Trusted::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            let mut why = format!("trusts {who}, outside {outside_of}");
            if let Some(Provenance::Trail { time, by_key, .. }) = &changed {
                why.push_str(&format!(
                    "; trust changed by {} at {}",
                    key_short(by_key),
                    crate::fmt::minute(*time)
                ));
            }
            out.push(Foothold {
                subject: None,
                kind: Kind::Trust,
                id: r.name.clone(),
                principal: format!("role {}", r.name),
                state: FootState::Open,
                why,
                expires: None,
                provenance: changed.clone().unwrap_or(Provenance::Standing),
                remedy: Some(Remedy::Untrust {
                    role: r.name.clone(),
                    principals: outside.clone(),
                }),
            });
        } else if let Some(provenance) = changed.clone() {
            out.push(Foothold {
                subject: None,
                kind: Kind::Trust,
                id: r.name.clone(),
                principal: format!("role {}", r.name),
                state: FootState::Reduced,
                why: format!(
                    "trust changed by a tracked credential; now trusts only this account's \
                     principals and services: {}",
                    if named.is_empty() { "nobody" } else { &named }
                ),
                expires: None,
                provenance,
                remedy: None,
            });
        }
        if let Some(f) = through_trust(i, r, &outside, changed.as_ref()) {
            out.push(f);
        }
    }
    // A role gone with its trust: its sessions went with it.
    for (role, _) in i
        .trust_closed
        .iter()
        .filter(|(n, _)| !role_names.contains(n.as_str()))
    {
        out.push(Foothold {
            subject: None,
            kind: Kind::Session,
            id: format!("{TRUST_SESSIONS}{role}"),
            principal: format!("role {role}"),
            state: FootState::Closed,
            why: format!(
                "role {role} is deleted: the sessions minted through its trust went with it"
            ),
            expires: None,
            provenance: Provenance::Standing,
            remedy: None,
        });
    }

    for p in &a.providers {
        let made = trail(Target::Provider, &p.arn).or_else(|| {
            p.created
                .filter(|t| after_leak(*t))
                .map(|t| Provenance::Unknown { appeared: t })
        });
        if let Some(provenance) = made {
            out.push(Foothold {
                subject: None,
                kind: Kind::IdentityProvider,
                id: p.arn.clone(),
                principal: String::new(),
                state: FootState::Open,
                why: format!(
                    "{} provider: roles that trust it can be assumed with its tokens",
                    p.kind.to_uppercase()
                ),
                expires: None,
                provenance,
                remedy: Some(Remedy::Remove),
            });
        }
    }
}

/// The footholds as the headless command prints them (`--format json`).
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    pub contained: bool,
    pub verified: Option<String>,
    pub unverified: Option<&'a str>,
    pub footholds: Vec<ReportRow<'a>>,
}

#[derive(Debug, Serialize)]
pub struct ReportRow<'a> {
    pub kind: &'static str,
    pub id: &'a str,
    pub principal: &'a str,
    pub state: FootState,
    pub why: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    pub origin: String,
    /// What it can do, for the actions asked about (`--action`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub can: Option<BTreeMap<String, authz::Word>>,
}

impl Assessment {
    pub fn report(&self) -> Report<'_> {
        Report {
            contained: self.contained(),
            verified: match &self.verified {
                Verified::At(t) => Some(crate::journal::format_ts(*t)),
                Verified::No(_) => None,
            },
            unverified: match &self.verified {
                Verified::No(why) => Some(why),
                Verified::At(_) => None,
            },
            footholds: self
                .footholds
                .iter()
                .map(|f| ReportRow {
                    kind: f.kind.label(),
                    id: &f.id,
                    principal: &f.principal,
                    state: f.state,
                    why: &f.why,
                    expires: f.expires.map(crate::journal::format_ts),
                    origin: f.provenance.words(),
                    can: None,
                })
                .collect(),
        }
    }

    /// The report with each foothold's verdict on `actions` (see [`can`]).
    pub fn report_can(
        &self,
        authz: Option<&authz::Authz>,
        actions: &[String],
        now: Timestamp,
    ) -> Report<'_> {
        let mut r = self.report();
        for (row, f) in r.footholds.iter_mut().zip(&self.footholds) {
            row.can = Some(can(f, authz, actions, now));
        }
        r
    }

    /// One line per foothold, for a ticket: `OPEN  session  ASIA…  role deploy  why`.
    pub fn text(&self) -> String {
        let mut s = format!("{}\n", self.headline());
        if let Verified::No(why) = &self.verified {
            s.push_str(&format!("not verified: {why}\n"));
        }
        for f in &self.footholds {
            s.push_str(&format!(
                "{:<8} {:<17} {:<24} {:<28} {}",
                f.state.word(),
                f.kind.label(),
                f.id,
                f.principal,
                f.why
            ));
            s.push_str(&format!(" [{}]\n", f.provenance.words()));
        }
        s
    }
}
