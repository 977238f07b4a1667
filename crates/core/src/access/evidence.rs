//! What the trail says a tracked credential did to the account's access: keys it created,
//! sessions it minted (with their expiry), users, passwords, roles, trust policies and identity
//! providers it made or changed. Noted as events arrive, so the model never walks the
//! timeline's store.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

use crate::domain::Timestamp;
use crate::timeline::Event;

/// How many acts the model keeps. An attacker with admin rights can write a great many events;
/// past this, further acts are counted, not kept (and the model says so).
pub const MAX_ACTS: usize = 20_000;

/// The role or user a session acts as: what a revocation must be attached to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Principal {
    User(String),
    Role(String),
}

impl Principal {
    pub fn name(&self) -> &str {
        match self {
            Principal::User(n) | Principal::Role(n) => n,
        }
    }
    pub fn word(&self) -> &'static str {
        match self {
            Principal::User(_) => "user",
            Principal::Role(_) => "role",
        }
    }
}

impl std::fmt::Display for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.word(), self.name())
    }
}

/// One change to the account's access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    KeyCreated {
        user: String,
        key_id: String,
    },
    Session {
        key_id: String,
        principal: Principal,
        /// `AssumeRole deploy-role`, `GetSessionToken`.
        via: String,
        /// From the record; `None` when it does not say.
        expires: Option<Timestamp>,
        /// The account of the role assumed, from its ARN (`None` for a user's token): a role
        /// in another account is that account's to close.
        account: Option<String>,
    },
    UserCreated {
        user: String,
    },
    /// `CreateLoginProfile` or `UpdateLoginProfile`: a console password set.
    Password {
        user: String,
        call: String,
    },
    RoleCreated {
        role: String,
    },
    TrustChanged {
        role: String,
    },
    ProviderCreated {
        arn: String,
    },
    /// A Lambda function: it acts with its role's rights whenever it runs, no key needed.
    FunctionCreated {
        region: String,
        name: String,
        /// The execution role it was given.
        role: String,
    },
}

/// An act with the event that shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub event_id: String,
    pub time: Timestamp,
    /// The access key that made the call.
    pub by_key: String,
    pub act: Act,
}

/// The acts seen so far, by event id (a record read from two sources counts once), and the
/// last time each key was seen acting successfully.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acts {
    pub by_event: BTreeMap<String, Evidence>,
    pub last_seen: HashMap<String, Timestamp>,
    /// Acts (and keys' last activity) not kept because `MAX_ACTS` was reached.
    pub dropped: usize,
}

impl Acts {
    /// Notes what `events` did to the account's access.
    pub fn note(&mut self, events: &[Event]) {
        for e in events {
            // Only a call that worked shows the key could still act: a disabled key's refused
            // attempts (InvalidClientTokenId) are logged too, and mint nothing.
            if !e.access_key_id.is_empty() && !e.failed() {
                let full = self.last_seen.len() >= MAX_ACTS;
                match self.last_seen.get_mut(&*e.access_key_id) {
                    Some(seen) => *seen = (*seen).max(e.time),
                    // Planted records can name any number of keys: past the cap, a new one is
                    // counted, not kept.
                    None if full => self.dropped += 1,
                    None => {
                        self.last_seen.insert(e.access_key_id.to_string(), e.time);
                    }
                }
            }
            let Some(act) = act_of(e) else { continue };
            if self.by_event.contains_key(&*e.id) {
                continue;
            }
            if self.by_event.len() >= MAX_ACTS {
                self.dropped += 1;
                continue;
            }
            self.by_event.insert(
                e.id.to_string(),
                Evidence {
                    event_id: e.id.to_string(),
                    time: e.time,
                    by_key: e.access_key_id.to_string(),
                    act,
                },
            );
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Evidence> {
        self.by_event.values()
    }
}

const NAMES: [&str; 15] = [
    "CreateAccessKey",
    "AssumeRole",
    "GetSessionToken",
    "GetFederationToken",
    "CreateUser",
    "CreateLoginProfile",
    "UpdateLoginProfile",
    "CreateRole",
    "UpdateAssumeRolePolicy",
    "CreateOpenIDConnectProvider",
    "CreateSAMLProvider",
    "AssumeRoleWithSAML",
    "AssumeRoleWithWebIdentity",
    // Lambda's API is versioned in CloudTrail's event names.
    "CreateFunction20150331",
    "CreateFunction",
];

fn text<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(next) => cur = next,
            None => return "",
        }
    }
    cur.as_str().unwrap_or("")
}

/// The last path segment of an ARN's resource: `deploy-role` from `…:role/ops/deploy-role`.
pub fn arn_name(arn: &str) -> &str {
    let resource = arn.rsplit(':').next().unwrap_or(arn);
    resource.rsplit('/').next().unwrap_or(resource)
}

/// What one successful event did to the account's access, if anything.
pub fn act_of(e: &Event) -> Option<Act> {
    if e.failed() || !NAMES.contains(&&*e.name) {
        return None;
    }
    let v: Value = serde_json::from_str(&e.raw).ok()?;
    let req = |field: &str| text(&v, &["requestParameters", field]).to_string();
    let nonempty = |s: String| (!s.is_empty()).then_some(s);
    let service = e.service_short();
    let act = match (service, &*e.name) {
        ("iam", "CreateAccessKey") => Act::KeyCreated {
            key_id: nonempty(text(&v, &["responseElements", "accessKey", "accessKeyId"]).into())?,
            user: nonempty(text(&v, &["responseElements", "accessKey", "userName"]).into())
                .or_else(|| nonempty(req("userName")))
                // Without a user name the key is the caller's own.
                .unwrap_or_else(|| arn_name(&e.identity_arn).to_string()),
        },
        ("iam", "CreateUser") => Act::UserCreated {
            user: nonempty(req("userName"))?,
        },
        ("iam", "CreateLoginProfile" | "UpdateLoginProfile") => Act::Password {
            user: nonempty(req("userName"))
                .unwrap_or_else(|| arn_name(&e.identity_arn).to_string()),
            call: e.name.to_string(),
        },
        ("iam", "CreateRole") => Act::RoleCreated {
            role: nonempty(req("roleName"))?,
        },
        ("iam", "UpdateAssumeRolePolicy") => Act::TrustChanged {
            role: nonempty(req("roleName"))?,
        },
        ("iam", "CreateOpenIDConnectProvider") => Act::ProviderCreated {
            arn: nonempty(text(&v, &["responseElements", "openIDConnectProviderArn"]).to_string())
                .or_else(|| nonempty(req("url")))?,
        },
        ("iam", "CreateSAMLProvider") => Act::ProviderCreated {
            arn: nonempty(text(&v, &["responseElements", "sAMLProviderArn"]).to_string())
                .or_else(|| nonempty(req("name")))?,
        },
        ("lambda", _) => Act::FunctionCreated {
            region: e.region.to_string(),
            name: nonempty(req("functionName"))
                .or_else(|| nonempty(text(&v, &["responseElements", "functionName"]).into()))
                .map(|n| arn_name(&n).to_string())?,
            role: arn_name(&nonempty(req("role"))?).to_string(),
        },
        ("sts", name) => {
            let key_id =
                nonempty(text(&v, &["responseElements", "credentials", "accessKeyId"]).into())?;
            let expires =
                parse_expiry(text(&v, &["responseElements", "credentials", "expiration"]));
            let role_arn = req("roleArn");
            let (principal, via) = match name {
                "GetSessionToken" => (
                    Principal::User(arn_name(&e.identity_arn).to_string()),
                    name.to_string(),
                ),
                "GetFederationToken" => (
                    // A federation token's rights are cut from its user's: revoked there.
                    Principal::User(arn_name(&e.identity_arn).to_string()),
                    format!("{name} {}", req("name")),
                ),
                _ => {
                    let role = arn_name(&role_arn).to_string();
                    (Principal::Role(role.clone()), format!("{name} {role}"))
                }
            };
            if principal.name().is_empty() {
                return None;
            }
            // arn:PARTITION:iam::ACCOUNT:role/NAME
            let account = role_arn
                .split(':')
                .nth(4)
                .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
                .map(str::to_string);
            Act::Session {
                key_id,
                principal,
                via: via.trim().to_string(),
                expires,
                account,
            }
        }
        _ => return None,
    };
    Some(act)
}

const JAVA_DATE: &[BorrowedFormatItem<'static>] = format_description!(
    "[month repr:short] [day padding:none], [year], [hour repr:12 padding:none]:[minute]:[second] [period]"
);

/// `expiration` as CloudTrail writes it: `Jul 31, 2024, 8:07:33 PM` (UTC), or an RFC 3339
/// time, or epoch milliseconds.
pub fn parse_expiry(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(t) = crate::journal::parse_ts(s) {
        return Some(t);
    }
    if let Ok(t) = PrimitiveDateTime::parse(s, JAVA_DATE) {
        return Some(t.assume_utc());
    }
    let ms: i64 = s.parse().ok()?;
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

/// The longest a session can live when its record does not say: 36 hours for a user's own
/// session or federation token, 12 hours for a role's.
pub fn longest_life(via: &str) -> Duration {
    if via.starts_with("GetSessionToken") || via.starts_with("GetFederationToken") {
        Duration::hours(36)
    } else {
        Duration::hours(12)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudtrail_expiry_formats_are_read() {
        let t = parse_expiry("Jul 31, 2024, 8:07:33 PM").expect("java date");
        assert_eq!(crate::journal::format_ts(t), "2024-07-31T20:07:33Z");
        let t = parse_expiry("Aug 2, 2024, 12:05:00 AM").expect("midnight");
        assert_eq!(crate::journal::format_ts(t), "2024-08-02T00:05:00Z");
        assert!(parse_expiry("2024-07-31T20:07:33Z").is_some());
        assert!(parse_expiry("1722456453000").is_some());
        assert_eq!(parse_expiry("soon"), None);
        assert_eq!(parse_expiry(""), None);
    }

    #[test]
    fn arn_names() {
        assert_eq!(arn_name("arn:aws:iam::1:role/ops/deploy"), "deploy");
        assert_eq!(arn_name("arn:aws:iam::1:user/dev"), "dev");
        assert_eq!(arn_name(""), "");
    }
}
