//! Would AWS accept this call? The game's stand-in for AWS's own authentication and
//! authorisation, which moto does not do by default (and never does for inactive keys).
//!
//! Before each attacker call the engine asks, as moto's root:
//! - **authentication**: a user's key must still exist and be `Active` (`ListAccessKeys` for
//!   its owner); a role session must not have expired, and its role must still exist;
//! - **authorisation**: the caller's identity policies (a user's attached, inline and group
//!   policies; a role's attached and inline policies) must allow the action and must not deny
//!   it. An explicit Deny wins over any Allow, as in AWS. So the quarantine policy AWS attaches
//!   to a leaked key, a deny-all policy the responder adds, or removing the backdoor user's
//!   admin policy all take effect.
//!
//! Simplifications, on purpose: resources are not matched (every statement is taken to cover
//! the resource), permission boundaries, SCPs and resource policies are ignored, and of the
//! condition keys only `aws:TokenIssueTime` is evaluated (what AWS's "revoke active sessions"
//! policy uses). Any other condition is taken to hold, so a conditional Deny denies.

use std::collections::HashMap;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::clients::{As, Failure, Sent};

/// The verdict on one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Allowed,
    /// The key is inactive, deleted, or its user is gone.
    BadToken,
    /// The session's credentials have expired.
    Expired,
    /// Not authorised: `explicit` names the policy whose Deny matched; `None` when no policy
    /// allows the action.
    Denied {
        explicit: Option<String>,
        action: String,
    },
}

/// Who is calling.
#[derive(Debug, Clone)]
pub(crate) enum Caller<'a> {
    User {
        name: &'a str,
        key: &'a str,
    },
    Session {
        role: &'a str,
        issued: OffsetDateTime,
        expires: OffsetDateTime,
    },
}

/// Policy documents already read, by `(policy ARN, version)`: managed policy versions never
/// change once written.
#[derive(Debug, Default)]
pub(crate) struct Cache {
    managed: HashMap<(String, String), Vec<Statement>>,
}

/// One statement of a policy, reduced to what the evaluation reads.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Statement {
    pub allow: bool,
    pub actions: Vec<String>,
    /// `NotAction`: the statement covers every action except these.
    pub not_actions: Option<Vec<String>>,
    pub condition: Option<Value>,
}

/// A policy: its name (a managed policy's ARN, an inline policy's name; for messages) and
/// statements.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    pub name: String,
    pub statements: Vec<Statement>,
}

/// The verdict for `actions` (all must be allowed; the first refused one decides) made by
/// `caller` at `now`.
pub(crate) async fn check(
    root: &As,
    caller: &Caller<'_>,
    actions: &[&str],
    now: OffsetDateTime,
    cache: &mut Cache,
) -> Result<Verdict, Failure> {
    let (policies, token_issued) = match caller {
        Caller::User { name, key } => {
            if !key_is_active(root, name, key).await? {
                return Ok(Verdict::BadToken);
            }
            (user_policies(root, name, cache).await?, None)
        }
        Caller::Session {
            role,
            issued,
            expires,
        } => {
            if now >= *expires {
                return Ok(Verdict::Expired);
            }
            match role_policies(root, role, cache).await {
                Ok(p) => (p, Some(*issued)),
                // The role was deleted: its sessions are refused.
                Err(e) if e.is_not_found() => {
                    return Ok(Verdict::Denied {
                        explicit: None,
                        action: actions.first().copied().unwrap_or("*").to_string(),
                    });
                }
                Err(e) => return Err(e),
            }
        }
    };
    for action in actions {
        let verdict = evaluate(&policies, action, token_issued);
        if verdict != Verdict::Allowed {
            return Ok(verdict);
        }
    }
    Ok(Verdict::Allowed)
}

/// Whether `key` of `user` exists and is `Active`.
pub(crate) async fn key_is_active(root: &As, user: &str, key: &str) -> Result<bool, Failure> {
    match root.iam().list_access_keys().user_name(user).send().await {
        Ok(out) => Ok(out.access_key_metadata().iter().any(|m| {
            m.access_key_id() == Some(key)
                && m.status()
                    .is_some_and(|s| *s == aws_sdk_iam::types::StatusType::Active)
        })),
        Err(e) => {
            let f = keyspill_aws::error::failure("iam:ListAccessKeys", &e);
            if f.is_not_found() { Ok(false) } else { Err(f) }
        }
    }
}

/// Allow, explicit Deny or implicit Deny for one action.
pub(crate) fn evaluate(
    policies: &[Policy],
    action: &str,
    token_issued: Option<OffsetDateTime>,
) -> Verdict {
    let mut allowed = false;
    for p in policies {
        for s in &p.statements {
            if !covers(s, action) || !conditions_hold(s.condition.as_ref(), token_issued) {
                continue;
            }
            if !s.allow {
                return Verdict::Denied {
                    explicit: Some(p.name.clone()),
                    action: action.to_string(),
                };
            }
            allowed = true;
        }
    }
    if allowed {
        Verdict::Allowed
    } else {
        Verdict::Denied {
            explicit: None,
            action: action.to_string(),
        }
    }
}

fn covers(s: &Statement, action: &str) -> bool {
    match &s.not_actions {
        Some(not) => !not.iter().any(|p| glob(p, action)),
        None => s.actions.iter().any(|p| glob(p, action)),
    }
}

/// IAM's action patterns: `*` any run of characters, `?` one character, case ignored.
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let t: Vec<char> = text.to_ascii_lowercase().chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == '?' || Some(c) == t.get(ti) => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

/// Conditions: only `aws:TokenIssueTime` with the date operators is evaluated; it is absent
/// for long-term keys, where such a condition fails (unless its operator ends in `IfExists`).
/// Every other condition is taken to hold.
fn conditions_hold(condition: Option<&Value>, token_issued: Option<OffsetDateTime>) -> bool {
    let Some(Value::Object(ops)) = condition else {
        return true;
    };
    for (op, tests) in ops {
        let Value::Object(tests) = tests else {
            continue;
        };
        for (key, wanted) in tests {
            if !key.eq_ignore_ascii_case("aws:TokenIssueTime") {
                continue;
            }
            let if_exists = op.ends_with("IfExists");
            let base = op.trim_end_matches("IfExists");
            let Some(issued) = token_issued else {
                if if_exists {
                    continue;
                }
                return false;
            };
            let values: Vec<&Value> = match wanted {
                Value::Array(a) => a.iter().collect(),
                v => vec![v],
            };
            let holds = values.iter().any(|v| {
                let Some(limit) = v
                    .as_str()
                    .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
                else {
                    return false;
                };
                match base {
                    "DateLessThan" => issued < limit,
                    "DateLessThanEquals" => issued <= limit,
                    "DateGreaterThan" => issued > limit,
                    "DateGreaterThanEquals" => issued >= limit,
                    "DateEquals" => issued == limit,
                    "DateNotEquals" => issued != limit,
                    _ => true,
                }
            });
            if !holds {
                return false;
            }
        }
    }
    true
}

/// A policy document's statements. IAM hands documents back URL-encoded; plain JSON is
/// accepted too. A document that cannot be read gives no statements.
pub(crate) fn statements(document: &str) -> Vec<Statement> {
    let text = if document.trim_start().starts_with('{') {
        document.to_string()
    } else {
        percent_encoding::percent_decode_str(document)
            .decode_utf8_lossy()
            .into_owned()
    };
    let Ok(v) = serde_json::from_str::<Value>(&text) else {
        return Vec::new();
    };
    let list: Vec<&Value> = match v.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    list.into_iter()
        .map(|s| Statement {
            allow: s
                .get("Effect")
                .and_then(Value::as_str)
                .is_some_and(|e| e.eq_ignore_ascii_case("Allow")),
            actions: strings(s.get("Action")),
            not_actions: s.get("NotAction").map(|v| strings(Some(v))),
            condition: s.get("Condition").cloned(),
        })
        .collect()
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// A managed policy's default version, from the cache when it was read before.
async fn managed(root: &As, arn: &str, cache: &mut Cache) -> Result<Policy, Failure> {
    let iam = root.iam();
    let policy = iam
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .sent("iam:GetPolicy")?;
    let version = policy
        .policy()
        .and_then(|p| p.default_version_id())
        .unwrap_or("v1")
        .to_string();
    let name = arn.to_string();
    let cache_key = (arn.to_string(), version.clone());
    if let Some(statements) = cache.managed.get(&cache_key) {
        return Ok(Policy {
            name,
            statements: statements.clone(),
        });
    }
    let doc = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(&version)
        .send()
        .await
        .sent("iam:GetPolicyVersion")?;
    let found = statements(
        doc.policy_version()
            .and_then(|v| v.document())
            .unwrap_or_default(),
    );
    cache.managed.insert(cache_key, found.clone());
    Ok(Policy {
        name,
        statements: found,
    })
}

/// Every policy that applies to a user: attached, inline, and those of its groups.
pub(crate) async fn user_policies(
    root: &As,
    user: &str,
    cache: &mut Cache,
) -> Result<Vec<Policy>, Failure> {
    let iam = root.iam();
    let mut out = Vec::new();
    let attached = iam
        .list_attached_user_policies()
        .user_name(user)
        .send()
        .await
        .sent("iam:ListAttachedUserPolicies")?;
    for p in attached.attached_policies() {
        if let Some(arn) = p.policy_arn() {
            out.push(managed(root, arn, cache).await?);
        }
    }
    let inline = iam
        .list_user_policies()
        .user_name(user)
        .send()
        .await
        .sent("iam:ListUserPolicies")?;
    for name in inline.policy_names() {
        let doc = iam
            .get_user_policy()
            .user_name(user)
            .policy_name(name)
            .send()
            .await
            .sent("iam:GetUserPolicy")?;
        out.push(Policy {
            name: name.clone(),
            statements: statements(doc.policy_document()),
        });
    }
    let groups = iam
        .list_groups_for_user()
        .user_name(user)
        .send()
        .await
        .sent("iam:ListGroupsForUser")?;
    for g in groups.groups() {
        let group = g.group_name();
        let attached = iam
            .list_attached_group_policies()
            .group_name(group)
            .send()
            .await
            .sent("iam:ListAttachedGroupPolicies")?;
        for p in attached.attached_policies() {
            if let Some(arn) = p.policy_arn() {
                out.push(managed(root, arn, cache).await?);
            }
        }
        let inline = iam
            .list_group_policies()
            .group_name(group)
            .send()
            .await
            .sent("iam:ListGroupPolicies")?;
        for name in inline.policy_names() {
            let doc = iam
                .get_group_policy()
                .group_name(group)
                .policy_name(name)
                .send()
                .await
                .sent("iam:GetGroupPolicy")?;
            out.push(Policy {
                name: name.clone(),
                statements: statements(doc.policy_document()),
            });
        }
    }
    Ok(out)
}

/// Every policy of a role: attached and inline. Fails with NoSuchEntity when the role is gone.
pub(crate) async fn role_policies(
    root: &As,
    role: &str,
    cache: &mut Cache,
) -> Result<Vec<Policy>, Failure> {
    let iam = root.iam();
    iam.get_role()
        .role_name(role)
        .send()
        .await
        .sent("iam:GetRole")?;
    let mut out = Vec::new();
    let attached = iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .sent("iam:ListAttachedRolePolicies")?;
    for p in attached.attached_policies() {
        if let Some(arn) = p.policy_arn() {
            out.push(managed(root, arn, cache).await?);
        }
    }
    let inline = iam
        .list_role_policies()
        .role_name(role)
        .send()
        .await
        .sent("iam:ListRolePolicies")?;
    for name in inline.policy_names() {
        let doc = iam
            .get_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .sent("iam:GetRolePolicy")?;
        out.push(Policy {
            name: name.clone(),
            statements: statements(doc.policy_document()),
        });
    }
    Ok(out)
}

/// Whether a role's trust policy lets `principal_arn` assume it (an `AWS` principal naming
/// that ARN, its account's root, or `*`).
pub(crate) async fn trusts(root: &As, role: &str, principal_arn: &str) -> Result<bool, Failure> {
    let text = trust_document(root, role).await?;
    let account_root = principal_arn
        .split(':')
        .nth(4)
        .map(|a| format!("arn:aws:iam::{a}:root"));
    let Ok(v) = serde_json::from_str::<Value>(&text) else {
        return Ok(false);
    };
    let list: Vec<&Value> = match v.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    Ok(list.into_iter().any(|s| {
        let allow = s
            .get("Effect")
            .and_then(Value::as_str)
            .is_some_and(|e| e.eq_ignore_ascii_case("Allow"));
        let principals = strings(s.get("Principal").and_then(|p| p.get("AWS")));
        allow
            && principals.iter().any(|p| {
                p == "*" || p == principal_arn || account_root.as_deref() == Some(p.as_str())
            })
    }))
}

/// A role's trust policy as it is now, decoded (IAM answers it URL-encoded).
pub(crate) async fn trust_document(root: &As, role: &str) -> Result<String, Failure> {
    let out = root
        .iam()
        .get_role()
        .role_name(role)
        .send()
        .await
        .sent("iam:GetRole")?;
    Ok(keyspill_aws::iam::decode_document(
        out.role()
            .and_then(|r| r.assume_role_policy_document())
            .unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    fn policy(name: &str, doc: Value) -> Policy {
        Policy {
            name: name.into(),
            statements: statements(&doc.to_string()),
        }
    }

    #[test]
    fn globs_match_iam_action_patterns() {
        assert!(glob("*", "ec2:RunInstances"));
        assert!(glob("ec2:*", "EC2:RunInstances"));
        assert!(glob("iam:*User*", "iam:CreateUser"));
        assert!(glob("iam:*AccessKey*", "iam:CreateAccessKey"));
        assert!(!glob("iam:*User*", "iam:CreateRole"));
        assert!(glob("ec2:Run?nstances", "ec2:RunInstances"));
        assert!(!glob("ec2:Run", "ec2:RunInstances"));
    }

    #[test]
    fn an_explicit_deny_beats_an_allow_and_nothing_allowed_is_denied() {
        let admin = policy(
            "AdministratorAccess",
            json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        );
        let quarantine = policy(
            "AWSCompromisedKeyQuarantineV3",
            json!({"Statement": [{"Effect": "Deny", "Action": ["ec2:RunInstances", "iam:CreateUser"], "Resource": ["*"]}]}),
        );
        let both = [admin.clone(), quarantine];
        assert_eq!(
            evaluate(&both, "ec2:RunInstances", None),
            Verdict::Denied {
                explicit: Some("AWSCompromisedKeyQuarantineV3".into()),
                action: "ec2:RunInstances".into(),
            }
        );
        assert_eq!(
            evaluate(&both, "autoscaling:CreateAutoScalingGroup", None),
            Verdict::Allowed
        );
        assert_eq!(
            evaluate(&[], "ec2:RunInstances", None),
            Verdict::Denied {
                explicit: None,
                action: "ec2:RunInstances".into(),
            }
        );
        let power = policy(
            "PowerUserAccess",
            json!({"Statement": [{"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}]}),
        );
        assert_eq!(
            evaluate(std::slice::from_ref(&power), "ec2:RunInstances", None),
            Verdict::Allowed
        );
        assert_eq!(
            evaluate(&[power], "iam:CreateUser", None),
            Verdict::Denied {
                explicit: None,
                action: "iam:CreateUser".into(),
            }
        );
    }

    #[test]
    fn a_revoke_sessions_policy_denies_sessions_issued_before_its_time_only() {
        let admin = policy(
            "admin",
            json!({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}),
        );
        let revoke = policy(
            "AWSRevokeOlderSessions",
            json!({"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*",
                "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2025-03-02T12:00:00Z"}}}]}),
        );
        let both = [admin, revoke];
        let early = Some(datetime!(2025-03-02 11:00 UTC));
        let late = Some(datetime!(2025-03-02 13:00 UTC));
        assert!(matches!(
            evaluate(&both, "ec2:RunInstances", early),
            Verdict::Denied { .. }
        ));
        assert_eq!(evaluate(&both, "ec2:RunInstances", late), Verdict::Allowed);
        // Long-term keys have no token issue time: the condition does not hold for them.
        assert_eq!(evaluate(&both, "ec2:RunInstances", None), Verdict::Allowed);
    }

    #[test]
    fn url_encoded_documents_are_read() {
        let doc = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A%2A%22%7D%5D%7D";
        let s = statements(doc);
        assert_eq!(s.len(), 1);
        assert!(s[0].allow);
        assert_eq!(s[0].actions, vec!["s3:*".to_string()]);
        assert!(statements("not a policy").is_empty());
    }
}
