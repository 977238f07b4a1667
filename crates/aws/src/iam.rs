//! IAM: users, their access keys and policies; and the key actions.

use futures_util::StreamExt;
use futures_util::stream;

use aws_sdk_iam::types::{StatusType, SummaryKeyType};

use crate::{Aws, AwsError, FromSdk, Sent, to_ts};
use keyspill_core::domain::{
    AccessKey, KeyStatus, KeysSnapshot, LastUsed, NewKey, Secret, Timestamp, UserDetail,
    UserSummary,
};

/// How many users are read at once.
const USER_CONCURRENCY: usize = 8;

pub use keyspill_core::domain::QUARANTINE_PREFIX;

fn status_of(s: Option<&StatusType>) -> KeyStatus {
    match s {
        Some(StatusType::Active) => KeyStatus::Active,
        _ => KeyStatus::Inactive,
    }
}

/// One user as read: summary, keys (or why not), and warnings.
type UserRead = (UserSummary, Result<Vec<AccessKey>, AwsError>, Vec<String>);

/// Every user with keys, last use, quarantine state, and whether root has keys.
pub async fn fetch_keys(aws: &Aws) -> Result<KeysSnapshot, AwsError> {
    let users = list_users(aws).await?;
    let per_user: Vec<UserRead> = stream::iter(users)
        .map(|(name, arn, created)| async move {
            let mut warnings = Vec::new();
            let quarantined = match quarantine_attached(aws, &name).await {
                Ok(q) => Some(q),
                Err(e) => {
                    warnings.push(format!("quarantine state of {name}: {e}"));
                    None
                }
            };
            let keys = user_keys(aws, &name, quarantined, &mut warnings).await;
            (
                UserSummary {
                    name,
                    arn,
                    created,
                    quarantined,
                },
                keys,
                warnings,
            )
        })
        .buffer_unordered(USER_CONCURRENCY)
        .collect()
        .await;

    let mut snap = KeysSnapshot::default();
    for (user, keys, warnings) in per_user {
        match keys {
            Ok(k) => snap.keys.extend(k),
            // A user deleted between ListUsers and ListAccessKeys simply has no keys now.
            Err(e) if e.is_not_found() => {}
            Err(e) => snap.warnings.push(format!("keys of {}: {e}", user.name)),
        }
        snap.warnings.extend(warnings);
        snap.users.push(user);
    }
    snap.users.sort_by(|a, b| a.name.cmp(&b.name));
    snap.keys.sort_by(|a, b| a.key_id.cmp(&b.key_id));
    // Keep one copy of a repeated warning (last-used denied for every key, say).
    snap.warnings.sort();
    snap.warnings.dedup();

    match aws.iam.get_account_summary().send().await {
        Ok(out) => {
            snap.root_keys_present = out
                .summary_map()
                .and_then(|m| m.get(&SummaryKeyType::AccountAccessKeysPresent))
                .map(|n| *n > 0);
        }
        Err(e) => snap.warnings.push(format!(
            "root keys: {}",
            AwsError::from_sdk("iam:GetAccountSummary", &e)
        )),
    }
    Ok(snap)
}

async fn list_users(aws: &Aws) -> Result<Vec<(String, String, Timestamp)>, AwsError> {
    let mut pages = aws.iam.list_users().into_paginator().send();
    let mut users = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.sent("iam:ListUsers")?;
        for u in page.users() {
            users.push((
                u.user_name().to_string(),
                u.arn().to_string(),
                to_ts(u.create_date()),
            ));
        }
    }
    Ok(users)
}

async fn quarantine_attached(aws: &Aws, user: &str) -> Result<bool, AwsError> {
    Ok(attached_policies(aws, user)
        .await?
        .iter()
        .any(|p| p.starts_with(QUARANTINE_PREFIX)))
}

async fn attached_policies(aws: &Aws, user: &str) -> Result<Vec<String>, AwsError> {
    let mut pages = aws
        .iam
        .list_attached_user_policies()
        .user_name(user)
        .into_paginator()
        .send();
    let mut names = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.sent("iam:ListAttachedUserPolicies")?;
        names.extend(
            page.attached_policies()
                .iter()
                .filter_map(|p| p.policy_name().map(str::to_string)),
        );
    }
    Ok(names)
}

/// A user's key ids, statuses and creation dates, straight from IAM (`ListAccessKeys`).
pub async fn key_metadata(
    aws: &Aws,
    user: &str,
) -> Result<Vec<(String, KeyStatus, Timestamp)>, AwsError> {
    let mut pages = aws
        .iam
        .list_access_keys()
        .user_name(user)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.sent("iam:ListAccessKeys")?;
        for m in page.access_key_metadata() {
            if let Some(id) = m.access_key_id() {
                let created = m
                    .create_date()
                    .map(to_ts)
                    .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
                out.push((id.to_string(), status_of(m.status()), created));
            }
        }
    }
    Ok(out)
}

/// Key ids and statuses of a user, straight from IAM.
pub async fn key_statuses(aws: &Aws, user: &str) -> Result<Vec<(String, KeyStatus)>, AwsError> {
    Ok(key_metadata(aws, user)
        .await?
        .into_iter()
        .map(|(id, status, _)| (id, status))
        .collect())
}

async fn user_keys(
    aws: &Aws,
    user: &str,
    quarantined: Option<bool>,
    warnings: &mut Vec<String>,
) -> Result<Vec<AccessKey>, AwsError> {
    let mut keys = Vec::new();
    for (key_id, status, created) in key_metadata(aws, user).await? {
        let last_used = match last_used(aws, &key_id).await {
            Ok(l) => l,
            Err(e) => {
                warnings.push(format!("last use: {e}"));
                LastUsed::Unknown
            }
        };
        keys.push(AccessKey {
            user: user.to_string(),
            key_id,
            status,
            created,
            last_used,
            quarantined,
        });
    }
    Ok(keys)
}

async fn last_used(aws: &Aws, key_id: &str) -> Result<LastUsed, AwsError> {
    let out = aws
        .iam
        .get_access_key_last_used()
        .access_key_id(key_id)
        .send()
        .await
        .sent("iam:GetAccessKeyLastUsed")?;
    let Some(lu) = out.access_key_last_used() else {
        return Ok(LastUsed::Never);
    };
    Ok(match lu.last_used_date() {
        Some(d) => LastUsed::At {
            when: to_ts(d),
            service: lu.service_name().to_string(),
            region: lu.region().to_string(),
        },
        None => LastUsed::Never,
    })
}

/// Everything the detail pane shows for one user. Parts that fail become warnings.
pub async fn user_detail(aws: &Aws, user: &str) -> Result<UserDetail, AwsError> {
    let out = aws
        .iam
        .get_user()
        .user_name(user)
        .send()
        .await
        .sent("iam:GetUser")?;
    let u = out
        .user()
        .ok_or_else(|| AwsError::other(format!("iam:GetUser returned no user for {user}")))?;
    let mut warnings = Vec::new();
    let attached = attached_policies(aws, user).await.unwrap_or_else(|e| {
        warnings.push(format!("attached policies: {e}"));
        Vec::new()
    });
    let quarantined = Some(attached.iter().any(|p| p.starts_with(QUARANTINE_PREFIX)));
    let keys = user_keys(aws, user, quarantined, &mut warnings)
        .await
        .unwrap_or_else(|e| {
            warnings.push(format!("access keys: {e}"));
            Vec::new()
        });

    let mut inline = Vec::new();
    let mut pages = aws
        .iam
        .list_user_policies()
        .user_name(user)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => inline.extend(p.policy_names().iter().cloned()),
            Err(e) => {
                warnings.push(format!(
                    "inline policies: {}",
                    AwsError::from_sdk("iam:ListUserPolicies", &e)
                ));
                break;
            }
        }
    }

    let mut groups = Vec::new();
    let mut pages = aws
        .iam
        .list_groups_for_user()
        .user_name(user)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => groups.extend(p.groups().iter().map(|g| g.group_name().to_string())),
            Err(e) => {
                warnings.push(format!(
                    "groups: {}",
                    AwsError::from_sdk("iam:ListGroupsForUser", &e)
                ));
                break;
            }
        }
    }

    let login_profile = match aws.iam.get_login_profile().user_name(user).send().await {
        Ok(o) => o.login_profile().map(|p| to_ts(p.create_date())),
        Err(e) => {
            let err = AwsError::from_sdk("iam:GetLoginProfile", &e);
            if !err.is_not_found() {
                warnings.push(format!("console password: {err}"));
            }
            None
        }
    };

    let mut mfa = Vec::new();
    let mut pages = aws
        .iam
        .list_mfa_devices()
        .user_name(user)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(p) => mfa.extend(
                p.mfa_devices()
                    .iter()
                    .map(|d| d.serial_number().to_string()),
            ),
            Err(e) => {
                warnings.push(format!(
                    "MFA devices: {}",
                    AwsError::from_sdk("iam:ListMFADevices", &e)
                ));
                break;
            }
        }
    }

    Ok(UserDetail {
        name: u.user_name().to_string(),
        arn: u.arn().to_string(),
        created: to_ts(u.create_date()),
        keys,
        attached_policies: attached,
        inline_policies: inline,
        groups,
        login_profile,
        mfa_devices: mfa,
        warnings,
    })
}

// ---- actions: called only by the runtime's executor for a confirmed plan ----

pub async fn set_key_status(
    aws: &Aws,
    user: &str,
    key_id: &str,
    status: KeyStatus,
) -> Result<(), AwsError> {
    let st = match status {
        KeyStatus::Active => StatusType::Active,
        KeyStatus::Inactive => StatusType::Inactive,
    };
    aws.iam
        .update_access_key()
        .user_name(user)
        .access_key_id(key_id)
        .status(st)
        .send()
        .await
        .map(|_| ())
        .sent("iam:UpdateAccessKey")
}

pub async fn delete_key(aws: &Aws, user: &str, key_id: &str) -> Result<(), AwsError> {
    aws.iam
        .delete_access_key()
        .user_name(user)
        .access_key_id(key_id)
        .send()
        .await
        .map(|_| ())
        .sent("iam:DeleteAccessKey")
}

pub async fn create_key(aws: &Aws, user: &str) -> Result<NewKey, AwsError> {
    let out = aws
        .iam
        .create_access_key()
        .user_name(user)
        .send()
        .await
        .map_err(|e| {
            let err = AwsError::from_sdk("iam:CreateAccessKey", &e);
            if err.code.as_deref() == Some("LimitExceeded") {
                AwsError {
                    text: format!(
                        "{user} already has two access keys, the most IAM allows: delete the \
                         inactive one first, then rotate"
                    ),
                    ..err
                }
            } else {
                err
            }
        })?;
    let k = out
        .access_key()
        .ok_or_else(|| AwsError::other("iam:CreateAccessKey returned no key"))?;
    Ok(NewKey {
        user: k.user_name().to_string(),
        key_id: k.access_key_id().to_string(),
        secret: Secret::new(k.secret_access_key().to_string()),
    })
}

pub async fn put_inline_policy(
    aws: &Aws,
    user: &str,
    name: &str,
    document: &str,
) -> Result<(), AwsError> {
    aws.iam
        .put_user_policy()
        .user_name(user)
        .policy_name(name)
        .policy_document(document)
        .send()
        .await
        .map(|_| ())
        .sent("iam:PutUserPolicy")
}

/// The inline policy's document if the user has it, URL-decoded.
pub async fn inline_policy(aws: &Aws, user: &str, name: &str) -> Result<Option<String>, AwsError> {
    match aws
        .iam
        .get_user_policy()
        .user_name(user)
        .policy_name(name)
        .send()
        .await
    {
        Ok(o) => Ok(Some(decode_document(o.policy_document()))),
        Err(e) => {
            let err = AwsError::from_sdk("iam:GetUserPolicy", &e);
            if err.is_not_found() {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}

/// A role inline policy's document if the role has it, decoded.
pub async fn role_inline_policy(
    aws: &Aws,
    role: &str,
    name: &str,
) -> Result<Option<String>, AwsError> {
    match aws
        .iam
        .get_role_policy()
        .role_name(role)
        .policy_name(name)
        .send()
        .await
    {
        Ok(o) => Ok(Some(decode_document(o.policy_document()))),
        Err(e) => {
            let err = AwsError::from_sdk("iam:GetRolePolicy", &e);
            if err.is_not_found() {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}

pub async fn put_role_policy(
    aws: &Aws,
    role: &str,
    name: &str,
    document: &str,
) -> Result<(), AwsError> {
    aws.iam
        .put_role_policy()
        .role_name(role)
        .policy_name(name)
        .policy_document(document)
        .send()
        .await
        .map(|_| ())
        .sent("iam:PutRolePolicy")
}

/// When the user's console password was created; `None` when it has none (or the user is
/// gone: either way nobody signs in with it).
pub async fn login_profile(aws: &Aws, user: &str) -> Result<Option<Timestamp>, AwsError> {
    match aws.iam.get_login_profile().user_name(user).send().await {
        Ok(o) => Ok(o.login_profile().map(|p| to_ts(p.create_date()))),
        Err(e) => {
            let err = AwsError::from_sdk("iam:GetLoginProfile", &e);
            if err.is_not_found() {
                Ok(None)
            } else {
                Err(err)
            }
        }
    }
}

pub async fn delete_login_profile(aws: &Aws, user: &str) -> Result<(), AwsError> {
    aws.iam
        .delete_login_profile()
        .user_name(user)
        .send()
        .await
        .map(|_| ())
        .sent("iam:DeleteLoginProfile")
}

/// A role's trust policy, decoded. A role that does not exist is an error (`is_not_found`).
pub async fn role_trust(aws: &Aws, role: &str) -> Result<String, AwsError> {
    let out = aws
        .iam
        .get_role()
        .role_name(role)
        .send()
        .await
        .sent("iam:GetRole")?;
    let doc = out
        .role()
        .and_then(|r| r.assume_role_policy_document())
        .ok_or_else(|| {
            AwsError::other(format!("iam:GetRole returned no trust policy for {role}"))
        })?;
    Ok(decode_document(doc))
}

/// Replaces a role's trust policy. The document is sent compact when it is JSON (the dialog
/// shows it pretty-printed; the whitespace only costs policy size, which IAM limits).
pub async fn update_trust(aws: &Aws, role: &str, document: &str) -> Result<(), AwsError> {
    let compact = serde_json::from_str::<serde_json::Value>(document)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| document.to_string());
    aws.iam
        .update_assume_role_policy()
        .role_name(role)
        .policy_document(compact)
        .send()
        .await
        .map(|_| ())
        .sent("iam:UpdateAssumeRolePolicy")
}

/// A policy document as IAM returned it, decoded. Real IAM URL-encodes documents; moto
/// encodes some answers and not others (a trust policy in GetAccountAuthorizationDetails is
/// plain JSON). A document that is JSON already is kept as it is, so a `%` inside a plain
/// document is never mangled.
pub fn decode_document(s: &str) -> String {
    if serde_json::from_str::<serde_json::Value>(s).is_ok() {
        s.to_string()
    } else {
        percent_decode(s)
    }
}

/// Whether two policy documents say the same: equal as JSON (IAM reformats what it is
/// given), or, when either is not JSON, equal as text.
pub fn same_document(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a.trim() == b.trim(),
    }
}

/// IAM returns policy documents URL-encoded (RFC 3986).
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_policy_documents() {
        assert_eq!(percent_decode("%7B%22a%22%3A1%7D"), "{\"a\":1}");
        assert_eq!(percent_decode("{\"a\":1}"), "{\"a\":1}");
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[test]
    fn plain_documents_are_kept_and_encoded_ones_decoded() {
        // A plain document whose text holds something that looks like an escape.
        let plain = r#"{"Sid":"50%25off"}"#;
        assert_eq!(decode_document(plain), plain);
        assert_eq!(decode_document("%7B%22a%22%3A1%7D"), r#"{"a":1}"#);
    }

    #[test]
    fn documents_compare_as_json() {
        assert!(same_document(r#"{"a": [1, 2]}"#, "{\n  \"a\": [1,2]\n}"));
        assert!(!same_document(r#"{"a":[1,2]}"#, r#"{"a":[2,1]}"#));
        assert!(same_document("not json ", "not json"));
        assert!(!same_document("not json", r#"{"a":1}"#));
    }
}
