//! A user's or role's evidence: every policy document (inline; attached, at its default
//! version; a role's trust), its groups, its keys and their last use, in one JSON file with
//! the documents decoded. A part that cannot be read is said in the file (`unread`); the step
//! fails only when the principal itself cannot be read.

use serde_json::{Value, json};

use keyspill_core::resources::evidence::{Kept, KeptFile};

use crate::{Aws, AwsError, Sent};

/// A policy document as IAM returns it, decoded, as JSON; the text as it is when it is not
/// JSON.
fn document(encoded: &str) -> Value {
    let text = crate::iam::decode_document(encoded);
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

fn when(t: Option<&aws_smithy_types::DateTime>) -> Value {
    t.map_or(Value::Null, |t| Value::String(t.to_string()))
}

/// Records a part, or why it could not be read.
fn part(
    out: &mut serde_json::Map<String, Value>,
    unread: &mut Vec<String>,
    name: &str,
    got: Result<Value, AwsError>,
) {
    match got {
        Ok(v) => {
            out.insert(name.to_string(), v);
        }
        Err(e) => unread.push(format!("{name}: {e}")),
    }
}

fn kept(
    name: &str,
    what: &str,
    mut doc: serde_json::Map<String, Value>,
    unread: Vec<String>,
) -> Kept {
    doc.insert("unread".into(), json!(unread));
    let mut bytes = serde_json::to_vec_pretty(&Value::Object(doc)).unwrap_or_default();
    bytes.push(b'\n');
    Kept {
        files: vec![KeptFile {
            name: name.into(),
            what: what.into(),
            bytes,
        }],
        snapshots: Vec::new(),
        notes: Vec::new(),
    }
}

/// A managed policy's default version document.
async fn default_document(aws: &Aws, arn: &str) -> Result<Value, AwsError> {
    let p = aws
        .iam
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .sent("iam:GetPolicy")?;
    let version = p
        .policy()
        .and_then(|p| p.default_version_id())
        .unwrap_or("v1")
        .to_string();
    let v = aws
        .iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(&version)
        .send()
        .await
        .sent("iam:GetPolicyVersion")?;
    Ok(json!({
        "arn": arn,
        "default_version": version,
        "document": v.policy_version().and_then(|v| v.document()).map_or(Value::Null, document),
    }))
}

async fn attached(aws: &Aws, arns: Vec<String>) -> Value {
    let mut out = Vec::new();
    for arn in arns {
        out.push(match default_document(aws, &arn).await {
            Ok(v) => v,
            Err(e) => json!({"arn": arn, "unread": e.to_string()}),
        });
    }
    Value::Array(out)
}

pub(super) async fn user(aws: &Aws, name: &str) -> Result<Kept, AwsError> {
    let iam = &aws.iam;
    let u = iam
        .get_user()
        .user_name(name)
        .send()
        .await
        .sent("iam:GetUser")?;
    let mut doc = serde_json::Map::new();
    let mut unread = Vec::new();
    if let Some(u) = u.user() {
        doc.insert(
            "user".into(),
            json!({
                "name": u.user_name(),
                "arn": u.arn(),
                "id": u.user_id(),
                "path": u.path(),
                "created": when(Some(u.create_date())),
                "password_last_used": when(u.password_last_used()),
                "permissions_boundary": u.permissions_boundary().and_then(|b| b.permissions_boundary_arn()),
                "tags": u.tags().iter().map(|t| json!({"key": t.key(), "value": t.value()})).collect::<Vec<_>>(),
            }),
        );
    }
    let inline = async {
        let names = iam
            .list_user_policies()
            .user_name(name)
            .send()
            .await
            .sent("iam:ListUserPolicies")?;
        let mut out = serde_json::Map::new();
        for p in names.policy_names() {
            let d = iam
                .get_user_policy()
                .user_name(name)
                .policy_name(p)
                .send()
                .await
                .sent("iam:GetUserPolicy")?;
            out.insert(p.clone(), document(d.policy_document()));
        }
        Ok::<Value, AwsError>(Value::Object(out))
    };
    part(&mut doc, &mut unread, "inline_policies", inline.await);
    match iam
        .list_attached_user_policies()
        .user_name(name)
        .send()
        .await
        .sent("iam:ListAttachedUserPolicies")
    {
        Ok(a) => {
            let arns = a
                .attached_policies()
                .iter()
                .filter_map(|p| p.policy_arn().map(str::to_string))
                .collect();
            doc.insert("attached_policies".into(), attached(aws, arns).await);
        }
        Err(e) => unread.push(format!("attached_policies: {e}")),
    }
    let groups = async {
        let g = iam
            .list_groups_for_user()
            .user_name(name)
            .send()
            .await
            .sent("iam:ListGroupsForUser")?;
        let mut out = Vec::new();
        for group in g.groups() {
            let gname = group.group_name();
            let inline = iam
                .list_group_policies()
                .group_name(gname)
                .send()
                .await
                .sent("iam:ListGroupPolicies")
                .map(|o| o.policy_names().to_vec())
                .unwrap_or_default();
            let attached = iam
                .list_attached_group_policies()
                .group_name(gname)
                .send()
                .await
                .sent("iam:ListAttachedGroupPolicies")
                .map(|o| {
                    o.attached_policies()
                        .iter()
                        .filter_map(|p| p.policy_arn().map(str::to_string))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            out.push(json!({"name": gname, "arn": group.arn(), "inline_policies": inline, "attached_policies": attached}));
        }
        Ok::<Value, AwsError>(Value::Array(out))
    };
    part(&mut doc, &mut unread, "groups", groups.await);
    let keys = async {
        let k = iam
            .list_access_keys()
            .user_name(name)
            .send()
            .await
            .sent("iam:ListAccessKeys")?;
        let mut out = Vec::new();
        for key in k.access_key_metadata() {
            let id = key.access_key_id().unwrap_or_default();
            let used = iam
                .get_access_key_last_used()
                .access_key_id(id)
                .send()
                .await
                .sent("iam:GetAccessKeyLastUsed");
            let last = match used {
                Ok(u) => u.access_key_last_used().map_or(Value::Null, |l| {
                    json!({
                        "date": when(l.last_used_date()),
                        "service": l.service_name(),
                        "region": l.region(),
                    })
                }),
                Err(e) => json!({"unread": e.to_string()}),
            };
            out.push(json!({
                "id": id,
                "status": key.status().map(|s| s.as_str()),
                "created": when(key.create_date()),
                "last_used": last,
            }));
        }
        Ok::<Value, AwsError>(Value::Array(out))
    };
    part(&mut doc, &mut unread, "access_keys", keys.await);
    match iam
        .get_login_profile()
        .user_name(name)
        .send()
        .await
        .sent("iam:GetLoginProfile")
    {
        Ok(l) => {
            doc.insert(
                "login_profile".into(),
                json!({"created": when(l.login_profile().map(|p| p.create_date()))}),
            );
        }
        Err(e) if e.is_not_found() => {
            doc.insert("login_profile".into(), Value::Null);
        }
        Err(e) => unread.push(format!("login_profile: {e}")),
    }
    let mfa = iam.list_mfa_devices().user_name(name).send().await.sent("iam:ListMFADevices").map(|o| {
        json!(o.mfa_devices().iter().map(|d| json!({"serial": d.serial_number(), "enabled": when(Some(d.enable_date()))})).collect::<Vec<_>>())
    });
    part(&mut doc, &mut unread, "mfa_devices", mfa);
    let ssh = iam.list_ssh_public_keys().user_name(name).send().await.sent("iam:ListSSHPublicKeys").map(|o| {
        json!(o.ssh_public_keys().iter().map(|k| json!({"id": k.ssh_public_key_id(), "status": k.status().as_str(), "uploaded": when(Some(k.upload_date()))})).collect::<Vec<_>>())
    });
    part(&mut doc, &mut unread, "ssh_public_keys", ssh);
    let certs = iam.list_signing_certificates().user_name(name).send().await.sent("iam:ListSigningCertificates").map(|o| {
        json!(o.certificates().iter().map(|c| json!({"id": c.certificate_id(), "status": c.status().as_str(), "uploaded": when(c.upload_date())})).collect::<Vec<_>>())
    });
    part(&mut doc, &mut unread, "signing_certificates", certs);
    Ok(kept(
        "principal.json",
        "user: policies, groups, keys and their last use (iam:Get*, iam:List*)",
        doc,
        unread,
    ))
}

pub(super) async fn role(aws: &Aws, name: &str) -> Result<Kept, AwsError> {
    let iam = &aws.iam;
    let r = iam
        .get_role()
        .role_name(name)
        .send()
        .await
        .sent("iam:GetRole")?;
    let mut doc = serde_json::Map::new();
    let mut unread = Vec::new();
    if let Some(r) = r.role() {
        doc.insert(
            "role".into(),
            json!({
                "name": r.role_name(),
                "arn": r.arn(),
                "id": r.role_id(),
                "path": r.path(),
                "created": when(Some(r.create_date())),
                "max_session_seconds": r.max_session_duration(),
                "trust_policy": r.assume_role_policy_document().map_or(Value::Null, document),
                "last_used": r.role_last_used().map_or(Value::Null, |l| json!({
                    "date": when(l.last_used_date()),
                    "region": l.region(),
                })),
                "permissions_boundary": r.permissions_boundary().and_then(|b| b.permissions_boundary_arn()),
                "tags": r.tags().iter().map(|t| json!({"key": t.key(), "value": t.value()})).collect::<Vec<_>>(),
            }),
        );
    }
    let inline = async {
        let names = iam
            .list_role_policies()
            .role_name(name)
            .send()
            .await
            .sent("iam:ListRolePolicies")?;
        let mut out = serde_json::Map::new();
        for p in names.policy_names() {
            let d = iam
                .get_role_policy()
                .role_name(name)
                .policy_name(p)
                .send()
                .await
                .sent("iam:GetRolePolicy")?;
            out.insert(p.clone(), document(d.policy_document()));
        }
        Ok::<Value, AwsError>(Value::Object(out))
    };
    part(&mut doc, &mut unread, "inline_policies", inline.await);
    match iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .sent("iam:ListAttachedRolePolicies")
    {
        Ok(a) => {
            let arns = a
                .attached_policies()
                .iter()
                .filter_map(|p| p.policy_arn().map(str::to_string))
                .collect();
            doc.insert("attached_policies".into(), attached(aws, arns).await);
        }
        Err(e) => unread.push(format!("attached_policies: {e}")),
    }
    let profiles = iam
        .list_instance_profiles_for_role()
        .role_name(name)
        .send()
        .await
        .sent("iam:ListInstanceProfilesForRole")
        .map(|o| {
            json!(
                o.instance_profiles()
                    .iter()
                    .map(|p| json!({"name": p.instance_profile_name(), "arn": p.arn()}))
                    .collect::<Vec<_>>()
            )
        });
    part(&mut doc, &mut unread, "instance_profiles", profiles);
    Ok(kept(
        "principal.json",
        "role: trust policy, policies, last use (iam:Get*, iam:List*)",
        doc,
        unread,
    ))
}

/// A customer managed policy: every version's document.
pub(super) async fn policy(aws: &Aws, arn: &str) -> Result<Kept, AwsError> {
    let iam = &aws.iam;
    let p = iam
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .sent("iam:GetPolicy")?;
    let mut doc = serde_json::Map::new();
    let mut unread = Vec::new();
    if let Some(p) = p.policy() {
        doc.insert(
            "policy".into(),
            json!({
                "name": p.policy_name(),
                "arn": p.arn(),
                "default_version": p.default_version_id(),
                "attachments": p.attachment_count(),
                "created": when(p.create_date()),
                "updated": when(p.update_date()),
            }),
        );
    }
    let versions = async {
        let list = iam
            .list_policy_versions()
            .policy_arn(arn)
            .send()
            .await
            .sent("iam:ListPolicyVersions")?;
        let mut out = Vec::new();
        for v in list.versions() {
            let id = v.version_id().unwrap_or_default();
            let d = iam
                .get_policy_version()
                .policy_arn(arn)
                .version_id(id)
                .send()
                .await
                .sent("iam:GetPolicyVersion")?;
            out.push(json!({
                "version": id,
                "default": v.is_default_version(),
                "created": when(v.create_date()),
                "document": d.policy_version().and_then(|v| v.document()).map_or(Value::Null, document),
            }));
        }
        Ok::<Value, AwsError>(Value::Array(out))
    };
    part(&mut doc, &mut unread, "versions", versions.await);
    Ok(kept(
        "definition.json",
        "managed policy: every version (iam:GetPolicyVersion)",
        doc,
        unread,
    ))
}
