//! The normalized CloudTrail event: what every source (LookupEvents, trail logs in S3, local
//! files) produces and what the Timeline tab, the risk rules and the headless command consume.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::domain::Timestamp;

/// Where an event was read from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    LookupEvents { region: String },
    S3 { bucket: String, key: String },
    File { path: String },
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::LookupEvents { region } => write!(f, "LookupEvents {region}"),
            Origin::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
            Origin::File { path } => f.write_str(path),
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
    SessionChaining,
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
        Tactic::SessionChaining,
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
            Tactic::SessionChaining => "session-chain",
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
    pub rule: String,
}

/// One CloudTrail event, normalized. Strings are empty when the record lacks the field; the
/// raw record is kept for the detail pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `eventID`, or `h:` and a stable hash of the record when it has none.
    pub id: String,
    pub time: Timestamp,
    /// `eventSource`, e.g. `ec2.amazonaws.com` (Insights: from `insightDetails`).
    pub service: String,
    pub name: String,
    pub region: String,
    /// As recorded: may be a host name, `AWS Internal`, or an IPv4 with leading zeros.
    pub source_ip: String,
    pub user_agent: String,
    pub identity_type: String,
    pub identity_arn: String,
    /// `userIdentity.accessKeyId`, empty when none.
    pub access_key_id: String,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub read_only: Option<bool>,
    /// `additionalEventData.MFAUsed` on console sign-ins.
    pub mfa_used: Option<bool>,
    pub minted: Option<Minted>,
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

    /// `ec2` from `ec2.amazonaws.com`.
    pub fn service_short(&self) -> &str {
        self.service
            .strip_suffix(".amazonaws.com")
            .unwrap_or(&self.service)
    }
}
