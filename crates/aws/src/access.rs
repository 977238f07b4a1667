//! The foothold model's view of IAM, besides the keys: every user (its console password, the
//! revocation its inline policies carry), every role (its trust policy, its revocation, whether
//! it is service-linked) and the identity providers.
//!
//! One `GetAccountAuthorizationDetails` sweep returns users and roles with their inline policy
//! documents, so the poll costs a page or two plus one `GetLoginProfile` per user, not a
//! listing per principal. (moto implements it with the inline policies and trust documents;
//! the only difference is that it does not URL-encode the trust documents there, which
//! [`iam::decode_document`] takes either way.)

use futures_util::StreamExt;
use futures_util::stream;

use aws_sdk_iam::types::{EntityType, PolicyDetail};

use crate::resources::DETAIL_CONCURRENCY;
use crate::{Aws, AwsError, FromSdk, Sent, iam, to_ts};
use keyspill_core::access::{
    AccessSnapshot, Organization, Provider, RoleAccess, UserAccess, policy,
};
use keyspill_core::domain::Timestamp;

/// Where AWS puts the roles that only one of its services can assume.
const SERVICE_ROLE_PATH: &str = "/aws-service-role/";

/// Users, passwords, roles and providers, read now. Fails when the users and roles or the
/// providers cannot be listed (the model then says "unverified"); a password that cannot be
/// read is named in `password_unread` and the rest is still returned.
pub async fn inventory(aws: &Aws) -> Result<AccessSnapshot, AwsError> {
    let (details, oidc, saml, org) = tokio::join!(
        authorization_details(aws),
        oidc_providers(aws),
        saml_providers(aws),
        organization(aws)
    );
    let (mut users, roles) = details?;
    let (mut providers, mut warnings) = oidc?;
    providers.extend(saml?);

    // Owned names: a stream borrowing `users` would not be `Send` for the poller's task.
    let names: Vec<(usize, String)> = users.iter().map(|u| u.name.clone()).enumerate().collect();
    let passwords: Vec<(usize, Result<Option<Timestamp>, AwsError>)> = stream::iter(names)
        .map(|(i, name)| async move { (i, iam::login_profile(aws, &name).await) })
        .buffer_unordered(DETAIL_CONCURRENCY)
        .collect()
        .await;
    let mut password_unread = Vec::new();
    for (i, got) in passwords {
        match got {
            Ok(p) => users[i].password = p,
            Err(e) => {
                warnings.push(format!("console password of {}: {e}", users[i].name));
                password_unread.push(users[i].name.clone());
            }
        }
    }
    users.sort_by(|a, b| a.name.cmp(&b.name));
    password_unread.sort();
    providers.sort_by(|a, b| a.arn.cmp(&b.arn));
    let organization = match org {
        Ok(o) => o,
        Err(e) => {
            warnings.push(format!(
                "organisation: {e}; only this account (and --trust-account) is trusted"
            ));
            None
        }
    };
    Ok(AccessSnapshot {
        users,
        roles,
        providers,
        warnings,
        password_unread,
        organization,
        authz: Default::default(),
    })
}

/// The organisation the account is in, with its member accounts when this identity may list
/// them (the management account or a delegated administrator). `None` when the account is in
/// no organisation.
async fn organization(aws: &Aws) -> Result<Option<Organization>, AwsError> {
    let client = aws.organizations();
    let described = match client.describe_organization().send().await {
        Ok(d) => d,
        Err(e) => {
            let err = AwsError::from_sdk("organizations:DescribeOrganization", &e);
            if err.code.as_deref() == Some("AWSOrganizationsNotInUseException") {
                return Ok(None);
            }
            return Err(err);
        }
    };
    let Some(org) = described.organization() else {
        return Ok(None);
    };
    let mut out = Organization {
        id: org.id().unwrap_or_default().to_string(),
        management_account: org.master_account_id().unwrap_or_default().to_string(),
        accounts: Vec::new(),
        accounts_unread: None,
    };
    let mut pages = client.list_accounts().into_paginator().send();
    while let Some(page) = pages.next().await {
        match page.sent("organizations:ListAccounts") {
            Ok(p) => out.accounts.extend(
                p.accounts()
                    .iter()
                    .filter_map(|a| a.id().map(str::to_string)),
            ),
            Err(e) => {
                out.accounts.clear();
                out.accounts_unread = Some(e.to_string());
                break;
            }
        }
    }
    out.accounts.sort();
    Ok(Some(out))
}

/// Every user and role, with what their inline policies revoke; passwords not read yet.
async fn authorization_details(aws: &Aws) -> Result<(Vec<UserAccess>, Vec<RoleAccess>), AwsError> {
    let mut pages = aws
        .iam
        .get_account_authorization_details()
        .filter(EntityType::User)
        .filter(EntityType::Role)
        .into_paginator()
        .send();
    let mut users = Vec::new();
    let mut roles = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.sent("iam:GetAccountAuthorizationDetails")?;
        for u in page.user_detail_list() {
            let (Some(name), Some(arn)) = (u.user_name(), u.arn()) else {
                continue;
            };
            users.push(UserAccess {
                name: name.to_string(),
                arn: arn.to_string(),
                created: created(u.create_date()),
                password: None,
                revoked_before: cutoff(u.user_policy_list()),
            });
        }
        for r in page.role_detail_list() {
            let (Some(name), Some(arn)) = (r.role_name(), r.arn()) else {
                continue;
            };
            let trust = r
                .assume_role_policy_document()
                .map(iam::decode_document)
                .unwrap_or_default();
            roles.push(RoleAccess {
                revoked_before: cutoff(r.role_policy_list()),
                service_linked: r.path().is_some_and(|p| p.starts_with(SERVICE_ROLE_PATH)),
                ..RoleAccess::new(
                    name.to_string(),
                    arn.to_string(),
                    created(r.create_date()),
                    trust,
                )
            });
        }
    }
    roles.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((users, roles))
}

fn created(d: Option<&aws_smithy_types::DateTime>) -> Timestamp {
    d.map(to_ts).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The latest revocation cut-off over a principal's inline policies.
fn cutoff(policies: &[PolicyDetail]) -> Option<Timestamp> {
    policies
        .iter()
        .filter_map(|p| p.policy_document())
        .filter_map(|d| policy::revocation_cutoff(&iam::decode_document(d)))
        .max()
}

/// OIDC providers with their creation dates (each read in full: the listing gives only ARNs);
/// one that cannot be read keeps no date and is named in the warnings.
async fn oidc_providers(aws: &Aws) -> Result<(Vec<Provider>, Vec<String>), AwsError> {
    let mut warnings = Vec::new();
    let mut providers = Vec::new();
    for (arn, got) in crate::resources::iam::oidc_details(aws).await? {
        let created = match got {
            Ok(p) => p.create_date().map(to_ts),
            Err(e) => {
                warnings.push(format!("creation date of {arn}: {e}"));
                None
            }
        };
        providers.push(Provider {
            arn,
            kind: "oidc".into(),
            created,
        });
    }
    Ok((providers, warnings))
}

/// SAML providers, from the sweep's listing (it carries the creation dates).
async fn saml_providers(aws: &Aws) -> Result<Vec<Provider>, AwsError> {
    Ok(crate::resources::iam::saml_providers(aws)
        .await?
        .into_iter()
        .filter_map(|r| {
            Some(Provider {
                arn: r.arn?,
                kind: "saml".into(),
                created: r.created,
            })
        })
        .collect())
}
