//! The normalized CloudTrail event: what every source (LookupEvents, trail logs in S3, local
//! files) produces and what the Timeline tab, the risk rules and the headless command consume.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::domain::Timestamp;

/// Text that repeats across events (services, regions, agents, ARNs, keys): one allocation
/// shared by every event that carries it, so a million events cost pointers, not copies.
pub type Text = Arc<str>;

/// Entries the per-thread cache of [`intern`] holds before it starts over. Real fields repeat
/// a lot (a few dozen calls, a handful of keys and agents); a source full of unique values
/// must not grow the cache without end.
const INTERN_CAP: usize = 16_384;

thread_local! {
    static INTERNED: std::cell::RefCell<std::collections::HashSet<Text>> =
        std::cell::RefCell::new(std::collections::HashSet::new());
}

/// The shared copy of `s`: the same allocation for the same text on this thread.
pub fn intern(s: &str) -> Text {
    INTERNED.with(|cell| {
        let mut set = cell.borrow_mut();
        if let Some(t) = set.get(s) {
            return Arc::clone(t);
        }
        if set.len() >= INTERN_CAP {
            set.clear();
        }
        let t: Text = Arc::from(s);
        set.insert(Arc::clone(&t));
        t
    })
}

/// Where an event was read from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    LookupEvents {
        region: Text,
    },
    S3 {
        bucket: Text,
        key: Text,
    },
    File {
        path: Text,
    },
    /// A row of an Athena query over the trail logs (its query execution id).
    Athena {
        query: Text,
    },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::LookupEvents { region } => write!(f, "LookupEvents {region}"),
            Origin::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
            Origin::File { path } => f.write_str(path),
            Origin::Athena { query } => write!(f, "Athena query {query}"),
        }
    }
}

/// Temporary credentials an event minted (`responseElements.credentials.accessKeyId` of an
/// STS token call made by a tracked key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Minted {
    /// The new key id (`ASIA…`).
    pub key_id: String,
    /// How, in words: `AssumeRole deploy-role`, `GetSessionToken`, `GetFederationToken bob`.
    pub via: String,
}

/// The attacker behaviour a rule names (the field guide's catalogue).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tactic {
    Recon,
    InitialAccess,
    Persistence,
    PrivilegeEscalation,
    CredentialAccess,
    Compute,
    DefenseEvasion,
    Organizations,
    Exfiltration,
    Fraud,
    /// New credentials minted from a tracked key (AssumeRole, GetSessionToken, a console
    /// session from keys): the attacker moving to another identity. Rule files written before
    /// this name may still say `session-chaining`.
    #[serde(alias = "session-chaining")]
    LateralMovement,
}

impl Tactic {
    pub const ALL: [Tactic; 11] = [
        Tactic::Recon,
        Tactic::InitialAccess,
        Tactic::Persistence,
        Tactic::PrivilegeEscalation,
        Tactic::CredentialAccess,
        Tactic::Compute,
        Tactic::DefenseEvasion,
        Tactic::Organizations,
        Tactic::Exfiltration,
        Tactic::Fraud,
        Tactic::LateralMovement,
    ];

    /// The word shown in the tactic column and used in exports.
    pub fn label(self) -> &'static str {
        match self {
            Tactic::Recon => "recon",
            Tactic::InitialAccess => "initial-access",
            Tactic::Persistence => "persistence",
            Tactic::PrivilegeEscalation => "priv-esc",
            Tactic::CredentialAccess => "cred-access",
            Tactic::Compute => "compute",
            Tactic::DefenseEvasion => "defense-evasion",
            Tactic::Organizations => "organizations",
            Tactic::Exfiltration => "exfiltration",
            Tactic::Fraud => "fraud",
            Tactic::LateralMovement => "lateral-move",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// A rule's verdict on an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Risk {
    pub tactic: Tactic,
    pub severity: Severity,
    /// The rule's id, for "why is this flagged".
    pub rule: Text,
}

/// Error codes that mean "not allowed" (a policy, the quarantine policy, an SCP), as the
/// services write them; EC2 prefixes its codes with `Client.`.
pub const DENIED_CODES: [&str; 8] = [
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
    "UnauthorizedException",
    "Forbidden",
    "AuthorizationError",
    "AuthFailure",
];

/// An error code without EC2's `Client.` or `Server.` prefix.
pub fn bare_code(code: &str) -> &str {
    code.strip_prefix("Client.")
        .or_else(|| code.strip_prefix("Server."))
        .unwrap_or(code)
}

/// One CloudTrail event, normalized. Strings are empty when the record lacks the field; the
/// raw record is kept for the detail pane. Repeating fields are [`Text`] from [`intern`]:
/// the console holds a million of these, so the struct is kept small.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `eventID`, or `h:` and a stable hash of the record when it has none.
    pub id: Box<str>,
    pub time: Timestamp,
    /// `eventSource`, e.g. `ec2.amazonaws.com` (Insights: from `insightDetails`).
    pub service: Text,
    pub name: Text,
    pub region: Text,
    /// As recorded: may be a host name, `AWS Internal`, or an IPv4 with leading zeros.
    pub source_ip: Text,
    pub user_agent: Text,
    pub identity_type: Text,
    pub identity_arn: Text,
    /// `userIdentity.accessKeyId`, empty when none.
    pub access_key_id: Text,
    pub error_code: Option<Text>,
    pub error_message: Option<Text>,
    pub read_only: Option<bool>,
    /// `additionalEventData.MFAUsed` on console sign-ins.
    pub mfa_used: Option<bool>,
    /// Rare (STS token calls only), so boxed to keep every other event small.
    pub minted: Option<Box<Minted>>,
    pub origin: Origin,
    /// The record as it was, for the detail pane and exports.
    pub raw: Arc<str>,
    /// Set by the risk rules after parsing.
    pub risk: Option<Risk>,
}

impl Event {
    /// The call failed (an error code, or a failed console sign-in without one).
    pub fn failed(&self) -> bool {
        self.error_code.is_some() || self.error_message.is_some()
    }

    /// The call was refused for lack of permission (one of [`DENIED_CODES`]): an attempt,
    /// which keeps its tactic but did not happen.
    pub fn denied(&self) -> bool {
        self.error_code
            .as_deref()
            .is_some_and(|c| DENIED_CODES.contains(&bare_code(c)))
    }

    /// `ec2` from `ec2.amazonaws.com`.
    pub fn service_short(&self) -> &str {
        self.service
            .strip_suffix(".amazonaws.com")
            .unwrap_or(&self.service)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interned_text_shares_one_allocation() {
        let a = intern("ec2.amazonaws.com");
        let b = intern(&String::from("ec2.amazonaws.com"));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &intern("s3.amazonaws.com")));
        assert_eq!(&*a, "ec2.amazonaws.com");
    }

    #[test]
    fn the_cache_stays_bounded() {
        let first = intern("kept-only-until-the-cache-fills");
        for n in 0..INTERN_CAP + 1 {
            intern(&format!("unique-{n}"));
        }
        INTERNED.with(|cell| assert!(cell.borrow().len() <= INTERN_CAP));
        // Values handed out before the reset stay valid; only sharing starts over.
        let again = intern("kept-only-until-the-cache-fills");
        assert_eq!(first, again);
        assert!(!Arc::ptr_eq(&first, &again));
    }

    #[test]
    fn denied_means_a_permission_refusal_only() {
        let mut e = crate::timeline::risk::fixtures::event("RunInstances", "ec2.amazonaws.com");
        assert!(!e.denied());
        e.error_code = Some("Client.UnauthorizedOperation".into());
        assert!(e.denied() && e.failed());
        e.error_code = Some("AccessDenied".into());
        assert!(e.denied());
        // Failing for another reason is not a refusal.
        e.error_code = Some("Client.VcpuLimitExceeded".into());
        assert!(!e.denied() && e.failed());
        e.error_code = None;
        e.error_message = Some("Failed authentication".into());
        assert!(!e.denied());
    }

    #[test]
    fn old_rule_files_still_name_session_chaining() {
        let t: Tactic = serde_json::from_str("\"session-chaining\"").expect("alias");
        assert_eq!(t, Tactic::LateralMovement);
        assert_eq!(
            serde_json::to_string(&Tactic::LateralMovement).expect("name"),
            "\"lateral-movement\""
        );
    }

    #[test]
    fn an_event_stays_small() {
        // A million of these are held by the console: growing it is a memory decision.
        assert!(
            std::mem::size_of::<Event>() <= 288,
            "{}",
            std::mem::size_of::<Event>()
        );
    }
}
