//! The program's own picture of an AWS account. Adapters in `keyspill-aws` translate SDK types
//! into these; nothing above the adapters sees an SDK type.

use std::fmt;

pub use crate::failure::{ErrorKind, Failure};

/// The policy AWS attaches to a user whose key it found in public.
pub const QUARANTINE_PREFIX: &str = "AWSCompromisedKeyQuarantine";

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Every time in keyspill is UTC.
pub type Timestamp = OffsetDateTime;

/// Who keyspill itself runs as (`sts:GetCallerIdentity` plus the key id of the credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account: String,
    pub arn: String,
    pub user_id: String,
    /// The access key id keyspill signs with, when the credentials have one.
    pub access_key_id: Option<String>,
}

impl Identity {
    /// The IAM user name when keyspill runs as an IAM user (`arn:…:user/path/name`).
    pub fn iam_user_name(&self) -> Option<&str> {
        let (_, resource) = self.arn.split_once(":user/")?;
        resource.rsplit('/').next()
    }

    /// The ARN partition (`aws`, `aws-cn`, `aws-us-gov`).
    pub fn partition(&self) -> &str {
        self.arn.split(':').nth(1).unwrap_or("aws")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyStatus {
    Active,
    Inactive,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Inactive => "Inactive",
        }
    }
}

impl fmt::Display for KeyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// What `iam:GetAccessKeyLastUsed` says about a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LastUsed {
    Never,
    At {
        when: Timestamp,
        service: String,
        region: String,
    },
    /// The call failed (for example AccessDenied); the reason is in the pane's warnings.
    Unknown,
}

/// One IAM access key with what the console needs to judge it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    pub user: String,
    pub key_id: String,
    pub status: KeyStatus,
    pub created: Timestamp,
    pub last_used: LastUsed,
    /// An `AWSCompromisedKeyQuarantine*` managed policy is attached to the owning user;
    /// `None` when that could not be read.
    pub quarantined: Option<bool>,
}

/// A key id that `--key` or `:key` names but that IAM in this account does not list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub key_id: String,
    /// The owning account according to `sts:GetAccessKeyInfo`, once known.
    pub account: Option<String>,
}

/// One poll of the Keys tab.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeysSnapshot {
    pub keys: Vec<AccessKey>,
    /// Users seen, with their quarantine state, including users without keys.
    pub users: Vec<UserSummary>,
    /// `GetAccountSummary.AccountAccessKeysPresent`; `None` when it could not be read.
    pub root_keys_present: Option<bool>,
    /// Per-call failures that did not stop the poll, in words.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    pub name: String,
    pub arn: String,
    pub created: Timestamp,
    pub quarantined: Option<bool>,
}

/// Everything the detail pane shows about one IAM user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDetail {
    pub name: String,
    pub arn: String,
    pub created: Timestamp,
    pub keys: Vec<AccessKey>,
    pub attached_policies: Vec<String>,
    pub inline_policies: Vec<String>,
    pub groups: Vec<String>,
    /// `Some(created)` when the user can sign in to the console.
    pub login_profile: Option<Timestamp>,
    pub mfa_devices: Vec<String>,
    /// Parts of the detail that could not be read, in words.
    pub warnings: Vec<String>,
}

/// A key id is shown and confirmed by its last four characters.
pub fn key_tail(key_id: &str) -> &str {
    let start = key_id.char_indices().rev().nth(3).map_or(0, |(i, _)| i);
    &key_id[start..]
}

/// `AKIA…WXYZ`: enough to tell keys apart on a shared screen. Ids can come from a journal
/// file, so nothing here assumes ASCII.
pub fn key_short(key_id: &str) -> String {
    if key_id.chars().count() <= 8 {
        return key_id.to_string();
    }
    let head: String = key_id.chars().take(4).collect();
    format!("{head}…{}", key_tail(key_id))
}

/// Access key ids as AWS issues them: a four-letter kind prefix and 16 upper-case
/// alphanumerics. `AKIA` is a long-term user key, `ASIA` a temporary one.
pub fn validate_key_id(key_id: &str) -> Result<(), String> {
    let ok_prefix = key_id.starts_with("AKIA") || key_id.starts_with("ASIA");
    let ok_len = key_id.len() == 20;
    let ok_chars = key_id
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if ok_prefix && ok_len && ok_chars {
        Ok(())
    } else {
        Err(format!(
            "'{key_id}' is not an access key id: expected AKIA or ASIA followed by 16 \
             upper-case letters or digits (20 characters)"
        ))
    }
}

/// A secret that must never be logged, journalled or shown except in the one dialog that
/// exists to show it. `Debug` is redacted so it cannot leak through a `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }
    /// The secret itself. Call sites are the secret dialog and the 0600 file writer only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// A freshly created access key: shown once, then forgotten.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    pub user: String,
    pub key_id: String,
    pub secret: Secret,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_are_validated() {
        assert!(validate_key_id("AKIAIOSFODNN7EXAMPLE").is_ok());
        assert!(validate_key_id("ASIAIOSFODNN7EXAMPLE").is_ok());
        assert!(validate_key_id("AKIAIOSFODNN7EXAMPL").is_err());
        assert!(validate_key_id("akiaiosfodnn7example").is_err());
        assert!(validate_key_id("AIDAIOSFODNN7EXAMPLE").is_err());
        assert!(validate_key_id("AKIAIOSFODNN7EXAMPL!").is_err());
        assert!(validate_key_id("").is_err());
    }

    #[test]
    fn keys_shorten_to_prefix_and_tail() {
        assert_eq!(key_tail("AKIAIOSFODNN7EXAMPLE"), "MPLE");
        assert_eq!(key_short("AKIAIOSFODNN7EXAMPLE"), "AKIA…MPLE");
        assert_eq!(key_tail("AB"), "AB");
        assert_eq!(key_short("ÄKIA€€€€€€€€ÖÖÖÖ"), "ÄKIA…ÖÖÖÖ");
        assert_eq!(key_tail("€€€€€"), "€€€€");
    }

    #[test]
    fn secrets_do_not_debug_print() {
        let s = Secret::new("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into());
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        let k = NewKey {
            user: "u".into(),
            key_id: "AKIA".into(),
            secret: s,
        };
        assert!(!format!("{k:?}").contains("wJalr"));
    }

    #[test]
    fn identity_user_name_and_partition() {
        let id = Identity {
            account: "123456789012".into(),
            arn: "arn:aws-us-gov:iam::123456789012:user/ops/responder".into(),
            user_id: "AIDA".into(),
            access_key_id: None,
        };
        assert_eq!(id.iam_user_name(), Some("responder"));
        assert_eq!(id.partition(), "aws-us-gov");
        let role = Identity {
            arn: "arn:aws:sts::123456789012:assumed-role/ir/me".into(),
            ..id
        };
        assert_eq!(role.iam_user_name(), None);
    }
}
