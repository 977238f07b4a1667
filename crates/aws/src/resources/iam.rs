//! IAM's inventory: users, roles, customer managed policies, OIDC and SAML providers; the
//! removal of a policy and of the providers, and their read-back. (A user's or role's parts
//! and removal are in `principals`.)

use aws_sdk_iam::operation::get_open_id_connect_provider::GetOpenIdConnectProviderOutput;
use futures_util::stream::{self, StreamExt};

use super::remove::{counted, present, settle, unless_gone};
use super::{DETAIL_CONCURRENCY, detail};
use crate::{Aws, AwsError, FromSdk, Sent, to_ts};
use keyspill_core::resources::{GLOBAL, Kind, Resource};

pub(super) async fn users(aws: &Aws) -> Result<Vec<Resource>, AwsError> {
    let users = every!(aws.iam.list_users(), "iam:ListUsers")?;
    Ok(users
        .iter()
        .map(|u| {
            let mut res = Resource::new(Kind::User, GLOBAL, u.user_name());
            res.arn = Some(u.arn().to_string());
            res.created = Some(to_ts(u.create_date()));
            detail(&mut res, "path", Some(u.path()));
            detail(&mut res, "user id", Some(u.user_id()));
            detail(
                &mut res,
                "password last used",
                u.password_last_used()
                    .map(|d| keyspill_core::fmt::minute(to_ts(d))),
            );
            res
        })
        .collect())
}

pub(super) async fn roles(aws: &Aws) -> Result<Vec<Resource>, AwsError> {
    let roles = every!(aws.iam.list_roles(), "iam:ListRoles")?;
    Ok(roles
        .iter()
        .map(|r| {
            let mut res = Resource::new(Kind::Role, GLOBAL, r.role_name());
            res.arn = Some(r.arn().to_string());
            res.created = Some(to_ts(r.create_date()));
            detail(&mut res, "path", Some(r.path()));
            if r.path().starts_with("/aws-service-role/") {
                res.details.push(("service-linked".into(), "yes".into()));
            }
            detail(
                &mut res,
                "trusts",
                r.assume_role_policy_document().map(trusted_principals),
            );
            res
        })
        .collect())
}

/// The principals a trust policy names, comma-separated (`*`, account ARNs, services, IdPs).
fn trusted_principals(document: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(document).decode_utf8_lossy();
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(&decoded) else {
        return String::new();
    };
    let statements = match &doc["Statement"] {
        serde_json::Value::Array(a) => a.clone(),
        s @ serde_json::Value::Object(_) => vec![s.clone()],
        _ => Vec::new(),
    };
    let mut names: Vec<String> = Vec::new();
    let mut push = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => names.push(s.clone()),
        serde_json::Value::Array(a) => {
            names.extend(a.iter().filter_map(|x| x.as_str().map(str::to_string)))
        }
        _ => {}
    };
    for s in &statements {
        match &s["Principal"] {
            serde_json::Value::Object(m) => m.values().for_each(&mut push),
            other => push(other),
        }
    }
    names.sort();
    names.dedup();
    names.join(", ")
}

pub(super) async fn policies(aws: &Aws) -> Result<Vec<Resource>, AwsError> {
    let policies = every!(
        aws.iam
            .list_policies()
            .scope(aws_sdk_iam::types::PolicyScopeType::Local),
        "iam:ListPolicies"
    )?;
    Ok(policies
        .iter()
        .filter_map(|p| {
            let arn = p.arn()?;
            let mut res = Resource::new(Kind::Policy, GLOBAL, arn);
            res.arn = Some(arn.to_string());
            res.name = p.policy_name().unwrap_or_default().to_string();
            res.created = p.create_date().map(to_ts);
            detail(
                &mut res,
                "attachments",
                p.attachment_count().map(|n| n.to_string()),
            );
            detail(&mut res, "default version", p.default_version_id());
            detail(&mut res, "path", p.path());
            Some(res)
        })
        .collect())
}

/// What `GetOpenIDConnectProvider` answered for one provider.
pub(crate) type OidcRead = Result<GetOpenIdConnectProviderOutput, AwsError>;

/// Every OIDC provider, each read in full (the listing gives only ARNs): the ARN with what
/// `GetOpenIDConnectProvider` answered. Shared by the sweep and the access poll.
pub(crate) async fn oidc_details(aws: &Aws) -> Result<Vec<(String, OidcRead)>, AwsError> {
    let out = aws
        .iam
        .list_open_id_connect_providers()
        .send()
        .await
        .sent("iam:ListOpenIDConnectProviders")?;
    let arns: Vec<String> = out
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn().map(str::to_string))
        .collect();
    Ok(stream::iter(arns)
        .map(|arn| async move {
            let got = aws
                .iam
                .get_open_id_connect_provider()
                .open_id_connect_provider_arn(&arn)
                .send()
                .await
                .sent("iam:GetOpenIDConnectProvider");
            (arn, got)
        })
        .buffer_unordered(DETAIL_CONCURRENCY)
        .collect()
        .await)
}

pub(super) async fn oidc_providers(aws: &Aws) -> Result<Vec<Resource>, AwsError> {
    Ok(oidc_details(aws)
        .await?
        .into_iter()
        .map(|(arn, got)| {
            let mut res = Resource::new(Kind::OidcProvider, GLOBAL, arn.as_str());
            res.arn = Some(arn.clone());
            res.name = arn
                .rsplit_once(":oidc-provider/")
                .map_or("", |(_, n)| n)
                .to_string();
            match got {
                Ok(p) => {
                    res.created = p.create_date().map(to_ts);
                    detail(&mut res, "url", p.url());
                    detail(&mut res, "client ids", Some(p.client_id_list().join(", ")));
                    res.tags = p
                        .tags()
                        .iter()
                        .map(|t| (t.key().to_string(), t.value().to_string()))
                        .collect();
                }
                Err(e) => res
                    .details
                    .push(("details".into(), format!("unreadable: {e}"))),
            }
            res
        })
        .collect())
}

pub(crate) async fn saml_providers(aws: &Aws) -> Result<Vec<Resource>, AwsError> {
    let out = aws
        .iam
        .list_saml_providers()
        .send()
        .await
        .sent("iam:ListSAMLProviders")?;
    Ok(out
        .saml_provider_list()
        .iter()
        .filter_map(|p| {
            let arn = p.arn()?;
            let mut res = Resource::new(Kind::SamlProvider, GLOBAL, arn);
            res.arn = Some(arn.to_string());
            res.name = arn.rsplit('/').next().unwrap_or_default().to_string();
            res.created = p.create_date().map(to_ts);
            detail(
                &mut res,
                "valid until",
                p.valid_until()
                    .map(|d| keyspill_core::fmt::minute(to_ts(d))),
            );
            Some(res)
        })
        .collect())
}

// ---- removal ----

/// Detaches a customer managed policy from every user, group and role, deletes its
/// non-default versions, then the policy.
pub(super) async fn delete_policy(aws: &Aws, arn: &str) -> Result<String, AwsError> {
    let iam = &aws.iam;
    if let Err(e) = iam.get_policy().policy_arn(arn).send().await {
        return settle(Err(AwsError::from_sdk("iam:GetPolicy", &e)));
    }
    let entities = match iam
        .list_entities_for_policy()
        .policy_arn(arn)
        .into_paginator()
        .send()
        .try_collect()
        .await
    {
        Ok(pages) => pages,
        Err(e) => return settle(Err(AwsError::from_sdk("iam:ListEntitiesForPolicy", &e))),
    };
    let (mut users, mut groups, mut roles) = (Vec::new(), Vec::new(), Vec::new());
    for page in &entities {
        users.extend(
            page.policy_users()
                .iter()
                .filter_map(|u| u.user_name().map(str::to_string)),
        );
        groups.extend(
            page.policy_groups()
                .iter()
                .filter_map(|g| g.group_name().map(str::to_string)),
        );
        roles.extend(
            page.policy_roles()
                .iter()
                .filter_map(|r| r.role_name().map(str::to_string)),
        );
    }
    let fail = |what: String, e: AwsError| AwsError {
        text: format!("deleting policy {arn}: could not {what}: {}", e.text),
        ..e
    };
    for u in &users {
        let r = iam
            .detach_user_policy()
            .user_name(u)
            .policy_arn(arn)
            .send()
            .await
            .sent("iam:DetachUserPolicy")
            .map(|_| ());
        unless_gone(r).map_err(|e| fail(format!("detach it from user {u}"), e))?;
    }
    for g in &groups {
        let r = iam
            .detach_group_policy()
            .group_name(g)
            .policy_arn(arn)
            .send()
            .await
            .sent("iam:DetachGroupPolicy")
            .map(|_| ());
        unless_gone(r).map_err(|e| fail(format!("detach it from group {g}"), e))?;
    }
    for ro in &roles {
        let r = iam
            .detach_role_policy()
            .role_name(ro)
            .policy_arn(arn)
            .send()
            .await
            .sent("iam:DetachRolePolicy")
            .map(|_| ());
        unless_gone(r).map_err(|e| fail(format!("detach it from role {ro}"), e))?;
    }
    let versions = iam
        .list_policy_versions()
        .policy_arn(arn)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| {
            fail(
                "list its versions".into(),
                AwsError::from_sdk("iam:ListPolicyVersions", &e),
            )
        })?;
    let old: Vec<String> = versions
        .iter()
        .filter(|v| !v.is_default_version())
        .filter_map(|v| v.version_id().map(str::to_string))
        .collect();
    for v in &old {
        let r = iam
            .delete_policy_version()
            .policy_arn(arn)
            .version_id(v)
            .send()
            .await
            .sent("iam:DeletePolicyVersion")
            .map(|_| ());
        unless_gone(r).map_err(|e| fail(format!("delete version {v}"), e))?;
    }
    unless_gone(
        iam.delete_policy()
            .policy_arn(arn)
            .send()
            .await
            .sent("iam:DeletePolicy")
            .map(|_| ()),
    )?;
    let removed: Vec<String> = [
        counted(users.len(), "user", "users"),
        counted(groups.len(), "group", "groups"),
        counted(roles.len(), "role", "roles"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut out = format!("deleted policy {arn}");
    if !removed.is_empty() {
        out.push_str(&format!(" after detaching it from {}", removed.join(", ")));
    }
    if let Some(v) = counted(old.len(), "old version", "old versions") {
        out.push_str(&format!(" and deleting {v}"));
    }
    Ok(out)
}

pub(super) async fn delete_oidc_provider(aws: &Aws, id: &str) -> Result<String, AwsError> {
    aws.iam
        .delete_open_id_connect_provider()
        .open_id_connect_provider_arn(id)
        .send()
        .await
        .sent("iam:DeleteOpenIDConnectProvider")?;
    Ok(format!("deleted OIDC provider {id}"))
}

pub(super) async fn delete_saml_provider(aws: &Aws, id: &str) -> Result<String, AwsError> {
    aws.iam
        .delete_saml_provider()
        .saml_provider_arn(id)
        .send()
        .await
        .sent("iam:DeleteSAMLProvider")?;
    Ok(format!("deleted SAML provider {id}"))
}

// ---- read-back ----

pub(super) async fn user_exists(aws: &Aws, id: &str) -> Result<bool, AwsError> {
    present(
        aws.iam
            .get_user()
            .user_name(id)
            .send()
            .await
            .sent("iam:GetUser"),
        |_| true,
    )
}

pub(super) async fn role_exists(aws: &Aws, id: &str) -> Result<bool, AwsError> {
    present(
        aws.iam
            .get_role()
            .role_name(id)
            .send()
            .await
            .sent("iam:GetRole"),
        |_| true,
    )
}

pub(super) async fn policy_exists(aws: &Aws, id: &str) -> Result<bool, AwsError> {
    present(
        aws.iam
            .get_policy()
            .policy_arn(id)
            .send()
            .await
            .sent("iam:GetPolicy"),
        |_| true,
    )
}

pub(super) async fn oidc_provider_exists(aws: &Aws, id: &str) -> Result<bool, AwsError> {
    present(
        aws.iam
            .get_open_id_connect_provider()
            .open_id_connect_provider_arn(id)
            .send()
            .await
            .sent("iam:GetOpenIDConnectProvider"),
        |_| true,
    )
}

pub(super) async fn saml_provider_exists(aws: &Aws, id: &str) -> Result<bool, AwsError> {
    present(
        aws.iam
            .get_saml_provider()
            .saml_provider_arn(id)
            .send()
            .await
            .sent("iam:GetSAMLProvider"),
        |_| true,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_policies_name_their_principals() {
        let doc = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22arn%3Aaws%3Aiam%3A%3A999999999999%3Aroot%22%7D%7D%5D%7D";
        assert_eq!(trusted_principals(doc), "arn:aws:iam::999999999999:root");
        let doc = r#"{"Statement":{"Principal":{"Service":["ec2.amazonaws.com","lambda.amazonaws.com"]}}}"#;
        assert_eq!(
            trusted_principals(doc),
            "ec2.amazonaws.com, lambda.amazonaws.com"
        );
        assert_eq!(
            trusted_principals(r#"{"Statement":[{"Principal":"*"}]}"#),
            "*"
        );
    }
}
