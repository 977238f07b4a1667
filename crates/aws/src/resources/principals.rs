//! An IAM user's or role's parts (what must go before it can), read when it matters, and
//! their removal: one part at a time as plan steps, or all of them when the user or role
//! itself is deleted.

use super::ALREADY_GONE;
use super::remove::{counted, gone, settle};
use crate::{Aws, AwsError, FromSdk, Sent};
use keyspill_core::resources::{Action, Kind, Parts, RemovalRule, RoleParts, UserParts};

/// What an IAM user or role carries that must go before it can be deleted. Each list that
/// cannot be read goes into `unread` as "what: why"; the others are still filled in.
/// Other kinds have no parts.
pub async fn principal_parts(aws: &Aws, kind: Kind, name: &str) -> Parts {
    match kind.removal() {
        RemovalRule::User => Parts::User(user_parts(aws, name).await),
        RemovalRule::Role => Parts::Role(role_parts(aws, name).await),
        RemovalRule::Call(_)
        | RemovalRule::Instance
        | RemovalRule::SecurityGroup
        | RemovalRule::Unshare(_)
        | RemovalRule::Never(_) => Parts::None,
    }
}

fn keep<T>(unread: &mut Vec<String>, what: &str, got: Result<Vec<T>, AwsError>) -> Vec<T> {
    got.unwrap_or_else(|e| {
        unread.push(format!("{what}: {e}"));
        Vec::new()
    })
}

async fn user_parts(aws: &Aws, user: &str) -> UserParts {
    let (login, keys, certs, ssh, service, mfa, inline, attached, groups) = tokio::join!(
        login_profile(aws, user),
        user_access_keys(aws, user),
        signing_certificates(aws, user),
        ssh_keys(aws, user),
        service_credentials(aws, user),
        mfa_devices(aws, user),
        user_inline_policies(aws, user),
        user_attached_policies(aws, user),
        user_groups(aws, user),
    );
    let mut unread = Vec::new();
    let login_profile = login.unwrap_or_else(|e| {
        unread.push(format!("console password: {e}"));
        false
    });
    UserParts {
        login_profile,
        access_keys: keep(&mut unread, "access keys", keys),
        signing_certificates: keep(&mut unread, "signing certificates", certs),
        ssh_keys: keep(&mut unread, "SSH public keys", ssh),
        service_credentials: keep(&mut unread, "service-specific credentials", service),
        mfa_devices: keep(&mut unread, "MFA devices", mfa),
        inline_policies: keep(&mut unread, "inline policies", inline),
        attached_policies: keep(&mut unread, "attached policies", attached),
        groups: keep(&mut unread, "groups", groups),
        unread,
    }
}

async fn role_parts(aws: &Aws, role: &str) -> RoleParts {
    let (inline, attached, profiles) = tokio::join!(
        role_inline_policies(aws, role),
        role_attached_policies(aws, role),
        role_instance_profiles(aws, role),
    );
    let mut unread = Vec::new();
    RoleParts {
        inline_policies: keep(&mut unread, "inline policies", inline),
        attached_policies: keep(&mut unread, "attached policies", attached),
        instance_profiles: keep(&mut unread, "instance profiles", profiles),
        unread,
    }
}

async fn login_profile(aws: &Aws, user: &str) -> Result<bool, AwsError> {
    match aws.iam.get_login_profile().user_name(user).send().await {
        Ok(_) => Ok(true),
        Err(e) => {
            let err = AwsError::from_sdk("iam:GetLoginProfile", &e);
            if err.is_not_found() {
                Ok(false)
            } else {
                Err(err)
            }
        }
    }
}

async fn user_access_keys(aws: &Aws, user: &str) -> Result<Vec<String>, AwsError> {
    let keys = every!(
        aws.iam.list_access_keys().user_name(user),
        "iam:ListAccessKeys"
    )?;
    Ok(keys
        .iter()
        .filter_map(|k| k.access_key_id().map(str::to_string))
        .collect())
}

async fn signing_certificates(aws: &Aws, user: &str) -> Result<Vec<String>, AwsError> {
    let certs = every!(
        aws.iam.list_signing_certificates().user_name(user),
        "iam:ListSigningCertificates"
    )?;
    Ok(certs
        .iter()
        .map(|c| c.certificate_id().to_string())
        .collect())
}

async fn ssh_keys(aws: &Aws, user: &str) -> Result<Vec<String>, AwsError> {
    let keys = every!(
        aws.iam.list_ssh_public_keys().user_name(user),
        "iam:ListSSHPublicKeys"
    )?;
    Ok(keys
        .iter()
        .map(|k| k.ssh_public_key_id().to_string())
        .collect())
}

async fn service_credentials(aws: &Aws, user: &str) -> Result<Vec<(String, String)>, AwsError> {
    let out = aws
        .iam
        .list_service_specific_credentials()
        .user_name(user)
        .send()
        .await
        .sent("iam:ListServiceSpecificCredentials")?;
    Ok(out
        .service_specific_credentials()
        .iter()
        .map(|c| {
            (
                c.service_name().to_string(),
                c.service_specific_credential_id().to_string(),
            )
        })
        .collect())
}

async fn mfa_devices(aws: &Aws, user: &str) -> Result<Vec<String>, AwsError> {
    let devices = every!(
        aws.iam.list_mfa_devices().user_name(user),
        "iam:ListMFADevices"
    )?;
    Ok(devices
        .iter()
        .map(|d| d.serial_number().to_string())
        .collect())
}

async fn user_inline_policies(aws: &Aws, user: &str) -> Result<Vec<String>, AwsError> {
    every!(
        aws.iam.list_user_policies().user_name(user),
        "iam:ListUserPolicies"
    )
}

async fn user_attached_policies(aws: &Aws, user: &str) -> Result<Vec<String>, AwsError> {
    let policies = every!(
        aws.iam.list_attached_user_policies().user_name(user),
        "iam:ListAttachedUserPolicies"
    )?;
    Ok(policies
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect())
}

async fn user_groups(aws: &Aws, user: &str) -> Result<Vec<String>, AwsError> {
    let groups = every!(
        aws.iam.list_groups_for_user().user_name(user),
        "iam:ListGroupsForUser"
    )?;
    Ok(groups.iter().map(|g| g.group_name().to_string()).collect())
}

async fn role_inline_policies(aws: &Aws, role: &str) -> Result<Vec<String>, AwsError> {
    every!(
        aws.iam.list_role_policies().role_name(role),
        "iam:ListRolePolicies"
    )
}

async fn role_attached_policies(aws: &Aws, role: &str) -> Result<Vec<String>, AwsError> {
    let policies = every!(
        aws.iam.list_attached_role_policies().role_name(role),
        "iam:ListAttachedRolePolicies"
    )?;
    Ok(policies
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect())
}

async fn role_instance_profiles(aws: &Aws, role: &str) -> Result<Vec<String>, AwsError> {
    let profiles = every!(
        aws.iam.list_instance_profiles_for_role().role_name(role),
        "iam:ListInstanceProfilesForRole"
    )?;
    Ok(profiles
        .iter()
        .map(|p| p.instance_profile_name().to_string())
        .collect())
}

// ---- removal ----

/// One removal step on a user or role (`principal` is its name).
pub(super) async fn remove_part(
    aws: &Aws,
    principal: &str,
    step: &Action,
) -> Result<String, AwsError> {
    let iam = &aws.iam;
    let call = step.call();
    let user = principal;
    match step {
        Action::DeleteLoginProfile => iam
            .delete_login_profile()
            .user_name(user)
            .send()
            .await
            .sent(call)
            .map(|_| format!("deleted the console password of {user}")),
        Action::DeleteAccessKey(k) => iam
            .delete_access_key()
            .user_name(user)
            .access_key_id(k)
            .send()
            .await
            .sent(call)
            .map(|_| format!("deleted access key {k}")),
        Action::DeleteSigningCertificate(c) => iam
            .delete_signing_certificate()
            .user_name(user)
            .certificate_id(c)
            .send()
            .await
            .sent(call)
            .map(|_| format!("deleted signing certificate {c}")),
        Action::DeleteSshPublicKey(k) => iam
            .delete_ssh_public_key()
            .user_name(user)
            .ssh_public_key_id(k)
            .send()
            .await
            .sent(call)
            .map(|_| format!("deleted SSH public key {k}")),
        Action::DeleteServiceSpecificCredential(c) => {
            let id = credential_id(c);
            iam.delete_service_specific_credential()
                .user_name(user)
                .service_specific_credential_id(id)
                .send()
                .await
                .sent(call)
                .map(|_| format!("deleted service-specific credential {id}"))
        }
        Action::RemoveMfaDevice(serial) => remove_mfa_device(aws, user, serial).await,
        Action::DeleteUserPolicy(p) => iam
            .delete_user_policy()
            .user_name(user)
            .policy_name(p)
            .send()
            .await
            .sent(call)
            .map(|_| format!("deleted inline policy {p}")),
        Action::DetachUserPolicy(p) => iam
            .detach_user_policy()
            .user_name(user)
            .policy_arn(p)
            .send()
            .await
            .sent(call)
            .map(|_| format!("detached policy {p}")),
        Action::RemoveUserFromGroup(g) => iam
            .remove_user_from_group()
            .user_name(user)
            .group_name(g)
            .send()
            .await
            .sent(call)
            .map(|_| format!("removed {user} from group {g}")),
        Action::DeleteRolePolicy(p) => iam
            .delete_role_policy()
            .role_name(principal)
            .policy_name(p)
            .send()
            .await
            .sent(call)
            .map(|_| format!("deleted inline policy {p}")),
        Action::DetachRolePolicy(p) => iam
            .detach_role_policy()
            .role_name(principal)
            .policy_arn(p)
            .send()
            .await
            .sent(call)
            .map(|_| format!("detached policy {p}")),
        Action::RemoveRoleFromInstanceProfile(p) => iam
            .remove_role_from_instance_profile()
            .role_name(principal)
            .instance_profile_name(p)
            .send()
            .await
            .sent(call)
            .map(|_| format!("removed {principal} from instance profile {p}")),
        other => Err(AwsError::other(format!(
            "\"{other}\" is not a step on an IAM principal"
        ))),
    }
}

/// The credential id in a service-specific credential reference, which may be written as
/// `service:id` or `service/id`.
fn credential_id(reference: &str) -> &str {
    reference
        .rsplit([':', '/', ' '])
        .next()
        .unwrap_or(reference)
        .trim()
}

/// Deactivates the device and, when it is a virtual one (its serial is an ARN), deletes it.
async fn remove_mfa_device(aws: &Aws, user: &str, serial: &str) -> Result<String, AwsError> {
    let deactivated = aws
        .iam
        .deactivate_mfa_device()
        .user_name(user)
        .serial_number(serial)
        .send()
        .await
        .sent("iam:DeactivateMFADevice");
    let was_active = match deactivated {
        Ok(_) => true,
        Err(e) if gone(&e) => false,
        Err(e) => return Err(e),
    };
    if !serial.starts_with("arn:") {
        return if was_active {
            Ok(format!("deactivated MFA device {serial}"))
        } else {
            Ok(ALREADY_GONE.to_string())
        };
    }
    match aws
        .iam
        .delete_virtual_mfa_device()
        .serial_number(serial)
        .send()
        .await
        .sent("iam:DeleteVirtualMFADevice")
    {
        Ok(_) if was_active => Ok(format!(
            "deactivated and deleted virtual MFA device {serial}"
        )),
        Ok(_) => Ok(format!("deleted virtual MFA device {serial}")),
        Err(e) if gone(&e) && was_active => Ok(format!("deactivated MFA device {serial}")),
        Err(e) => Err(e),
    }
}

/// Runs cleanup steps in order; the first failure stops, saying what was already removed.
async fn run_steps(
    aws: &Aws,
    principal: &str,
    what: &str,
    steps: &[Action],
) -> Result<(), AwsError> {
    for (n, step) in steps.iter().enumerate() {
        let result = match step {
            Action::RemoveMfaDevice(serial) => remove_mfa_device(aws, principal, serial).await,
            other => remove_part(aws, principal, other).await,
        };
        if let Err(e) = settle(result) {
            return Err(AwsError {
                text: format!(
                    "deleting {what} {principal}: could not {step} ({} of {} cleanup steps done): {}",
                    n,
                    steps.len(),
                    e.text
                ),
                ..e
            });
        }
    }
    Ok(())
}

/// Removes what is still on the user (in the documented order), then the user.
pub(super) async fn delete_user(aws: &Aws, user: &str) -> Result<String, AwsError> {
    if let Err(e) = aws.iam.get_user().user_name(user).send().await {
        return settle(Err(AwsError::from_sdk("iam:GetUser", &e)));
    }
    let parts = user_parts(aws, user).await;
    let mut steps = Vec::new();
    if parts.login_profile {
        steps.push(Action::DeleteLoginProfile);
    }
    steps.extend(
        parts
            .access_keys
            .iter()
            .cloned()
            .map(Action::DeleteAccessKey),
    );
    steps.extend(
        parts
            .signing_certificates
            .iter()
            .cloned()
            .map(Action::DeleteSigningCertificate),
    );
    steps.extend(
        parts
            .ssh_keys
            .iter()
            .cloned()
            .map(Action::DeleteSshPublicKey),
    );
    steps.extend(
        parts
            .service_credentials
            .iter()
            .map(|(_, id)| Action::DeleteServiceSpecificCredential(id.clone())),
    );
    steps.extend(
        parts
            .mfa_devices
            .iter()
            .cloned()
            .map(Action::RemoveMfaDevice),
    );
    steps.extend(
        parts
            .inline_policies
            .iter()
            .cloned()
            .map(Action::DeleteUserPolicy),
    );
    steps.extend(
        parts
            .attached_policies
            .iter()
            .cloned()
            .map(Action::DetachUserPolicy),
    );
    steps.extend(
        parts
            .groups
            .iter()
            .cloned()
            .map(Action::RemoveUserFromGroup),
    );
    run_steps(aws, user, "user", &steps).await?;

    let removed: Vec<String> = [
        parts.login_profile.then(|| "console password".to_string()),
        counted(parts.access_keys.len(), "access key", "access keys"),
        counted(
            parts.signing_certificates.len(),
            "signing certificate",
            "signing certificates",
        ),
        counted(parts.ssh_keys.len(), "SSH key", "SSH keys"),
        counted(
            parts.service_credentials.len(),
            "service-specific credential",
            "service-specific credentials",
        ),
        counted(parts.mfa_devices.len(), "MFA device", "MFA devices"),
        counted(
            parts.inline_policies.len(),
            "inline policy",
            "inline policies",
        ),
        counted(
            parts.attached_policies.len(),
            "attached policy",
            "attached policies",
        ),
        counted(parts.groups.len(), "group membership", "group memberships"),
    ]
    .into_iter()
    .flatten()
    .collect();

    aws.iam
        .delete_user()
        .user_name(user)
        .send()
        .await
        .map_err(|e| {
            let err = AwsError::from_sdk("iam:DeleteUser", &e);
            if parts.unread.is_empty() {
                err
            } else {
                AwsError {
                    text: format!("{} (not listed: {})", err.text, parts.unread.join("; ")),
                    ..err
                }
            }
        })?;
    Ok(done_detail(
        &format!("deleted user {user}"),
        &removed,
        &parts.unread,
    ))
}

fn done_detail(head: &str, removed: &[String], unread: &[String]) -> String {
    let mut out = head.to_string();
    if !removed.is_empty() {
        out.push_str(&format!(" after removing {}", removed.join(", ")));
    }
    if !unread.is_empty() {
        let what: Vec<&str> = unread
            .iter()
            .map(|u| u.split_once(':').map_or(u.as_str(), |(w, _)| w))
            .collect();
        out.push_str(&format!(" (could not list: {})", what.join(", ")));
    }
    out
}

/// Removes the role's policies and instance profile memberships, then the role.
pub(super) async fn delete_role(aws: &Aws, role: &str) -> Result<String, AwsError> {
    if let Err(e) = aws.iam.get_role().role_name(role).send().await {
        return settle(Err(AwsError::from_sdk("iam:GetRole", &e)));
    }
    let parts = role_parts(aws, role).await;
    let mut steps = Vec::new();
    steps.extend(
        parts
            .inline_policies
            .iter()
            .cloned()
            .map(Action::DeleteRolePolicy),
    );
    steps.extend(
        parts
            .attached_policies
            .iter()
            .cloned()
            .map(Action::DetachRolePolicy),
    );
    steps.extend(
        parts
            .instance_profiles
            .iter()
            .cloned()
            .map(Action::RemoveRoleFromInstanceProfile),
    );
    run_steps(aws, role, "role", &steps).await?;
    aws.iam
        .delete_role()
        .role_name(role)
        .send()
        .await
        .sent("iam:DeleteRole")?;
    let removed: Vec<String> = [
        counted(
            parts.inline_policies.len(),
            "inline policy",
            "inline policies",
        ),
        counted(
            parts.attached_policies.len(),
            "attached policy",
            "attached policies",
        ),
        counted(
            parts.instance_profiles.len(),
            "instance profile membership",
            "instance profile memberships",
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    Ok(done_detail(
        &format!("deleted role {role}"),
        &removed,
        &parts.unread,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_credentials_are_named_by_their_id() {
        assert_eq!(credential_id("codecommit.amazonaws.com:ACCA1"), "ACCA1");
        assert_eq!(credential_id("ACCA1"), "ACCA1");
    }
}
