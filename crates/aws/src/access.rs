//! The foothold model's view of IAM, besides the keys: every user (its console password, the
//! revocation its inline policies carry), every role (its trust policy, its revocation, whether
//! it is service-linked) and the identity providers.
//!
//! One `GetAccountAuthorizationDetails` sweep returns users and roles with their inline policy
//! documents, so the poll costs a page or two plus one `GetLoginProfile` per user, not a
//! listing per principal. (moto implements it with the inline policies and trust documents;
//! the only difference is that it does not URL-encode the trust documents there, which
//! [`iam::decode_document`] takes either way.)
//!
//! The same sweep fills the authorisation model ([`Authz`]): users, groups and roles with
//! their inline policies, attached managed policies and boundaries, and the account's own
//! (customer managed) policies with every version. AWS managed policies are not swept (there
//! are more than a thousand); the ones something uses are read by version (`GetPolicy`, then
//! `GetPolicyVersion` for a version this process has not read before).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, OnceLock, PoisonError};

use futures_util::StreamExt;
use futures_util::stream;

use aws_sdk_iam::types::{
    AttachedPermissionsBoundary, AttachedPolicy, EntityType, ManagedPolicyDetail, PolicyDetail, Tag,
};

use crate::resources::DETAIL_CONCURRENCY;
use crate::{Aws, AwsError, FromSdk, Sent, iam, to_ts};
use keyspill_core::access::authz::{Authz, Entity, Inline, Managed, Policy};
use keyspill_core::access::{
    AccessSnapshot, Organization, Provider, RoleAccess, UserAccess, policy,
};
use keyspill_core::domain::Timestamp;

/// Where AWS puts the roles that only one of its services can assume.
const SERVICE_ROLE_PATH: &str = "/aws-service-role/";

/// Users, passwords, roles, providers and every identity policy, read now. Fails when the
/// users and roles or the providers cannot be listed (the model then says "unverified"); a
/// password that cannot be read is named in `password_unread`, a managed policy in
/// `authz.unread` (both also in the warnings), and the rest is still returned.
pub async fn inventory(aws: &Aws) -> Result<AccessSnapshot, AwsError> {
    let (details, oidc, saml, org) = tokio::join!(
        authorization_details(aws),
        oidc_providers(aws),
        saml_providers(aws),
        organization(aws)
    );
    let Sweep {
        mut users,
        roles,
        mut authz,
        customer,
    } = details?;
    let (mut providers, mut warnings) = oidc?;
    providers.extend(saml?);

    let aws_managed = place_policies(&mut authz, customer);
    // Owned names: a stream borrowing `users` would not be `Send` for the poller's task.
    let names: Vec<(usize, String)> = users.iter().map(|u| u.name.clone()).enumerate().collect();
    let (passwords, managed) = tokio::join!(
        stream::iter(names)
            .map(|(i, name)| async move { (i, iam::login_profile(aws, &name).await) })
            .buffer_unordered(DETAIL_CONCURRENCY)
            .collect::<Vec<(usize, Result<Option<Timestamp>, AwsError>)>>(),
        stream::iter(aws_managed)
            .map(|arn| async move {
                let got = read_aws_managed(aws, &arn).await;
                (arn, got)
            })
            .buffer_unordered(DETAIL_CONCURRENCY)
            .collect::<Vec<(String, Result<Managed, AwsError>)>>()
    );
    for (arn, got) in managed {
        match got {
            Ok(m) => {
                authz.policies.insert(arn, m);
            }
            Err(e) => {
                authz.unread.insert(arn, e.to_string());
            }
        }
    }
    for (arn, why) in &authz.unread {
        warnings.push(format!("managed policy {arn}: {why}"));
    }
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
        authz: std::sync::Arc::new(authz),
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

/// What one `GetAccountAuthorizationDetails` sweep gives: users and roles for the foothold
/// model (passwords not read yet), the principals of the authorisation model, and every
/// customer managed policy's default version by ARN (or why it could not be read).
struct Sweep {
    users: Vec<UserAccess>,
    roles: Vec<RoleAccess>,
    /// Users, groups and roles filled; `policies` and `unread` empty.
    authz: Authz,
    customer: BTreeMap<String, Result<Managed, String>>,
}

/// Every user, group, role and customer managed policy, with what the principals' inline
/// policies revoke.
async fn authorization_details(aws: &Aws) -> Result<Sweep, AwsError> {
    let mut pages = aws
        .iam
        .get_account_authorization_details()
        .filter(EntityType::User)
        .filter(EntityType::Role)
        .filter(EntityType::Group)
        .filter(EntityType::LocalManagedPolicy)
        .into_paginator()
        .send();
    let mut users = Vec::new();
    let mut roles = Vec::new();
    let mut authz = Authz::default();
    let mut customer = BTreeMap::new();
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
            authz.users.insert(
                name.to_string(),
                Entity {
                    arn: arn.to_string(),
                    id: u.user_id().unwrap_or_default().to_string(),
                    inline: inline(u.user_policy_list()),
                    attached: attached(u.attached_managed_policies()),
                    boundary: boundary(u.permissions_boundary()),
                    groups: u.group_list().to_vec(),
                    tags: tags(u.tags()),
                    ..Entity::default()
                },
            );
        }
        for g in page.group_detail_list() {
            let (Some(name), Some(arn)) = (g.group_name(), g.arn()) else {
                continue;
            };
            authz.groups.insert(
                name.to_string(),
                Entity {
                    arn: arn.to_string(),
                    id: g.group_id().unwrap_or_default().to_string(),
                    inline: inline(g.group_policy_list()),
                    attached: attached(g.attached_managed_policies()),
                    ..Entity::default()
                },
            );
        }
        for r in page.role_detail_list() {
            let (Some(name), Some(arn)) = (r.role_name(), r.arn()) else {
                continue;
            };
            let trust = r
                .assume_role_policy_document()
                .map(iam::decode_document)
                .unwrap_or_default();
            authz.roles.insert(
                name.to_string(),
                Entity {
                    arn: arn.to_string(),
                    id: r.role_id().unwrap_or_default().to_string(),
                    inline: inline(r.role_policy_list()),
                    attached: attached(r.attached_managed_policies()),
                    boundary: boundary(r.permissions_boundary()),
                    tags: tags(r.tags()),
                    trust: r
                        .assume_role_policy_document()
                        .map(|_| Policy::parse(&trust)),
                    instance_profile: !r.instance_profile_list().is_empty(),
                    ..Entity::default()
                },
            );
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
        for p in page.policies() {
            if let Some(arn) = p.arn() {
                customer.insert(arn.to_string(), customer_managed(arn, p));
            }
        }
    }
    roles.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Sweep {
        users,
        roles,
        authz,
        customer,
    })
}

/// Inline policies, parsed. One IAM returned without a document is kept, as a policy that
/// could not be read (it may say anything).
fn inline(list: &[PolicyDetail]) -> Vec<Inline> {
    list.iter()
        .map(|p| Inline {
            name: p.policy_name().unwrap_or_default().to_string(),
            policy: p.policy_document().map_or_else(
                || Policy::broken("IAM returned no document".into()),
                |d| Policy::parse(&iam::decode_document(d)),
            ),
        })
        .collect()
}

fn attached(list: &[AttachedPolicy]) -> Vec<String> {
    list.iter()
        .filter_map(|a| a.policy_arn().map(str::to_string))
        .collect()
}

fn boundary(b: Option<&AttachedPermissionsBoundary>) -> Option<String> {
    b.and_then(|b| b.permissions_boundary_arn())
        .map(str::to_string)
}

fn tags(list: &[Tag]) -> BTreeMap<String, String> {
    list.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

/// A customer managed policy's default version, from the sweep (which carries every version's
/// document).
fn customer_managed(arn: &str, p: &ManagedPolicyDetail) -> Result<Managed, String> {
    let versions = p.policy_version_list();
    let default = versions
        .iter()
        .find(|v| v.is_default_version())
        .ok_or("the sweep returned no default version")?;
    let document = default
        .document()
        .ok_or("the sweep returned the default version without its document")?;
    let version = default
        .version_id()
        .or(p.default_version_id())
        .unwrap_or_default();
    Ok(Managed {
        arn: arn.to_string(),
        name: p
            .policy_name()
            .map_or_else(|| policy_name(arn), str::to_string),
        version: version.to_string(),
        policy: Policy::parse(&iam::decode_document(document)),
        other_versions: versions.len().saturating_sub(1),
    })
}

/// `arn:aws:iam::aws:policy/job-function/ViewOnlyAccess` → `ViewOnlyAccess`.
fn policy_name(arn: &str) -> String {
    arn.rsplit('/').next().unwrap_or(arn).to_string()
}

/// Whether an ARN names an AWS managed policy (its account field is `aws`).
fn is_aws_managed(arn: &str) -> bool {
    arn.split(':').nth(4) == Some("aws")
}

/// Puts each policy something references (attached, or a boundary) into `authz.policies`
/// from the sweep's customer managed policies, or into `authz.unread` with why; returns the
/// AWS managed ones, still to be read.
fn place_policies(
    authz: &mut Authz,
    mut customer: BTreeMap<String, Result<Managed, String>>,
) -> Vec<String> {
    let referenced: BTreeSet<String> = authz
        .users
        .values()
        .chain(authz.groups.values())
        .chain(authz.roles.values())
        .flat_map(|e| e.attached.iter().chain(e.boundary.iter()).cloned())
        .collect();
    let mut aws_managed = Vec::new();
    for arn in referenced {
        match customer.remove(&arn) {
            Some(Ok(m)) => {
                authz.policies.insert(arn, m);
            }
            Some(Err(why)) => {
                authz.unread.insert(arn, why);
            }
            None if is_aws_managed(&arn) => aws_managed.push(arn),
            None => {
                authz.unread.insert(
                    arn,
                    "not among the account's managed policies in \
                     GetAccountAuthorizationDetails"
                        .into(),
                );
            }
        }
    }
    aws_managed
}

/// How many AWS managed policy versions the process keeps parsed.
const VERSION_CACHE_CAP: usize = 256;

type VersionCache = Mutex<HashMap<(String, String), Policy>>;

/// AWS managed policy documents by (ARN, version id): a version's content never changes, so
/// each is read once per process.
fn version_cache() -> &'static VersionCache {
    static CACHE: OnceLock<VersionCache> = OnceLock::new();
    CACHE.get_or_init(VersionCache::default)
}

fn cached(arn: &str, version: &str) -> Option<Policy> {
    version_cache()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&(arn.to_string(), version.to_string()))
        .cloned()
}

/// Keeps a version's parsed document; another version of the same policy (one it replaced as
/// the default) is dropped, and at the cap an arbitrary entry makes room.
fn remember(arn: &str, version: &str, policy: &Policy) {
    let mut cache = version_cache()
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    cache.retain(|(a, _), _| a != arn);
    if cache.len() >= VERSION_CACHE_CAP
        && let Some(k) = cache.keys().next().cloned()
    {
        cache.remove(&k);
    }
    cache.insert((arn.to_string(), version.to_string()), policy.clone());
}

/// An AWS managed policy's default version: `GetPolicy` names it, `GetPolicyVersion` reads it
/// unless this process has it already. `other_versions` is 0: the account cannot make another
/// version of an AWS managed policy the default.
async fn read_aws_managed(aws: &Aws, arn: &str) -> Result<Managed, AwsError> {
    let got = aws
        .iam
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .sent("iam:GetPolicy")?;
    let p = got
        .policy()
        .ok_or_else(|| AwsError::other("iam:GetPolicy: the answer has no policy"))?;
    let version = p
        .default_version_id()
        .ok_or_else(|| AwsError::other("iam:GetPolicy: the answer has no default version"))?;
    let name = p
        .policy_name()
        .map_or_else(|| policy_name(arn), str::to_string);
    let policy = match cached(arn, version) {
        Some(policy) => policy,
        None => {
            let v = aws
                .iam
                .get_policy_version()
                .policy_arn(arn)
                .version_id(version)
                .send()
                .await
                .sent("iam:GetPolicyVersion")?;
            let document = v
                .policy_version()
                .and_then(|v| v.document())
                .ok_or_else(|| {
                    AwsError::other(format!(
                        "iam:GetPolicyVersion: version {version} came without its document"
                    ))
                })?;
            let policy = Policy::parse(&iam::decode_document(document));
            // A document that did not parse is asked for again next time.
            if policy.error.is_none() {
                remember(arn, version, &policy);
            }
            policy
        }
    };
    Ok(Managed {
        arn: arn.to_string(),
        name,
        version: version.to_string(),
        policy,
        other_versions: 0,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_managed_policies_are_told_by_the_account_field_in_any_partition() {
        assert!(is_aws_managed(
            "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"
        ));
        assert!(is_aws_managed(
            "arn:aws-cn:iam::aws:policy/job-function/ViewOnlyAccess"
        ));
        assert!(!is_aws_managed("arn:aws:iam::123456789012:policy/aws"));
        assert!(!is_aws_managed("not an arn"));
        assert_eq!(
            policy_name("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"),
            "ViewOnlyAccess"
        );
    }

    #[test]
    fn a_referenced_policy_missing_from_the_sweep_is_unread_and_aws_ones_are_left_to_read() {
        let local = "arn:aws:iam::123456789012:policy/deploy";
        let gone = "arn:aws:iam::123456789012:policy/gone";
        let broken = "arn:aws:iam::123456789012:policy/broken";
        let spare = "arn:aws:iam::123456789012:policy/spare";
        let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
        let mut authz = Authz::default();
        authz.users.insert(
            "dev".into(),
            Entity {
                attached: vec![local.into(), admin.into()],
                boundary: Some(gone.into()),
                ..Entity::default()
            },
        );
        authz.groups.insert(
            "devs".into(),
            Entity {
                attached: vec![broken.into(), admin.into()],
                ..Entity::default()
            },
        );
        let managed = |arn: &str| Managed {
            arn: arn.into(),
            name: policy_name(arn),
            version: "v1".into(),
            policy: Policy::parse(r#"{"Statement":[]}"#),
            other_versions: 0,
        };
        let customer = BTreeMap::from([
            (local.to_string(), Ok(managed(local))),
            (spare.to_string(), Ok(managed(spare))),
            (broken.to_string(), Err("no default version".to_string())),
        ]);
        let to_read = place_policies(&mut authz, customer);
        assert_eq!(to_read, [admin]);
        assert_eq!(authz.policies.keys().collect::<Vec<_>>(), [local]);
        assert_eq!(authz.unread.keys().collect::<Vec<_>>(), [broken, gone]);
        assert_eq!(authz.unread[broken], "no default version");
    }

    #[test]
    fn the_version_cache_keeps_one_version_per_policy() {
        let arn = "arn:aws:iam::aws:policy/KeyspillUnitTestOnly";
        let v1 = Policy::parse(r#"{"Statement":{"Effect":"Allow","Action":"a:b","Resource":"*"}}"#);
        let v2 = Policy::parse(r#"{"Statement":{"Effect":"Deny","Action":"a:b","Resource":"*"}}"#);
        remember(arn, "v1", &v1);
        assert_eq!(cached(arn, "v1"), Some(v1));
        remember(arn, "v2", &v2);
        assert_eq!(cached(arn, "v2"), Some(v2));
        assert_eq!(cached(arn, "v1"), None, "the superseded version is dropped");
        assert_eq!(cached(arn, "v3"), None);
    }
}
