//! Snapshots and AMIs the account owns: listed with who they are shared with, unshared
//! (they are kept as evidence), read back.

use aws_sdk_ec2::types::{
    Filter, ImageAttributeName, LaunchPermission, LaunchPermissionModifications, OperationType,
    PermissionGroup, SnapshotAttributeName,
};

use super::remove::present;
use super::{AccountId, detail, ec2_tags, ids, parse_time, per_resource, reference, relate};
use crate::{Aws, AwsError, Sent, to_ts};
use keyspill_core::resources::{Kind, Resource, Sharing};

/// What a permission list grants: to everyone (`group: all`), and to which accounts.
type Permissions = (bool, Vec<String>);

/// Who a snapshot's or image's permission list names: everyone (`group: all`), accounts, and
/// (images only) organizations or organizational units, listed with the accounts.
fn sharing_of(everyone: bool, accounts: Vec<String>) -> Sharing {
    if everyone {
        Sharing::Public { accounts }
    } else if accounts.is_empty() {
        Sharing::Private
    } else {
        Sharing::Accounts(accounts)
    }
}

pub(super) async fn snapshots(
    ec2: &aws_sdk_ec2::Client,
    region: &str,
    account: AccountId,
) -> Result<Vec<Resource>, AwsError> {
    let mut call = ec2.describe_snapshots().owner_ids("self");
    if let Some(account) = account.await {
        call = call.filters(Filter::builder().name("owner-id").values(account).build());
    }
    let snaps = every!(call, "ec2:DescribeSnapshots")?;
    let mut out = Vec::new();
    for s in &snaps {
        let Some(id) = s.snapshot_id() else { continue };
        let mut res = Resource::new(Kind::Snapshot, region, id);
        res.tags = ec2_tags(s.tags());
        res.name = res.tag("Name").unwrap_or_default().to_string();
        res.created = s.start_time().map(to_ts);
        res.state = s
            .state()
            .map(|x| x.as_str().to_string())
            .unwrap_or_default();
        detail(&mut res, "volume", s.volume_id());
        detail(
            &mut res,
            "size",
            s.volume_size().map(|n| format!("{n} GiB")),
        );
        detail(&mut res, "description", s.description());
        out.push(res);
    }
    let reads = per_resource(
        ids(&out),
        |id| async move { snapshot_sharing(ec2, &id).await },
    )
    .await;
    for (n, sharing) in reads {
        out[n].sharing = sharing;
    }
    Ok(out)
}

/// The accounts and groups a snapshot's `createVolumePermission` names.
async fn snapshot_permissions(
    ec2: &aws_sdk_ec2::Client,
    id: &str,
) -> Result<Permissions, AwsError> {
    let out = ec2
        .describe_snapshot_attribute()
        .snapshot_id(id)
        .attribute(SnapshotAttributeName::CreateVolumePermission)
        .send()
        .await
        .sent("ec2:DescribeSnapshotAttribute")?;
    let mut everyone = false;
    let mut accounts = Vec::new();
    for p in out.create_volume_permissions() {
        if p.group() == Some(&PermissionGroup::All) {
            everyone = true;
        }
        if let Some(u) = p.user_id() {
            accounts.push(u.to_string());
        }
    }
    Ok((everyone, accounts))
}

async fn snapshot_sharing(ec2: &aws_sdk_ec2::Client, id: &str) -> Sharing {
    match snapshot_permissions(ec2, id).await {
        Ok((everyone, accounts)) => sharing_of(everyone, accounts),
        Err(e) => Sharing::Unknown(e.text),
    }
}

pub(super) async fn images(
    ec2: &aws_sdk_ec2::Client,
    region: &str,
) -> Result<Vec<Resource>, AwsError> {
    let images = every!(ec2.describe_images().owners("self"), "ec2:DescribeImages")?;
    let mut out = Vec::new();
    let mut public_flag = Vec::new();
    for i in &images {
        let Some(id) = i.image_id() else { continue };
        let mut res = Resource::new(Kind::Image, region, id);
        res.tags = ec2_tags(i.tags());
        res.name = res.tag("Name").or(i.name()).unwrap_or_default().to_string();
        res.created = i.creation_date().and_then(parse_time);
        res.state = i
            .state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        detail(&mut res, "image name", i.name());
        detail(&mut res, "description", i.description());
        detail(&mut res, "source instance", i.source_instance_id());
        for b in i.block_device_mappings() {
            if let Some(snap) = b.ebs().and_then(|e| e.snapshot_id()) {
                relate(&mut res, reference(Kind::Snapshot, region, snap));
            }
        }
        public_flag.push(i.public().unwrap_or(false));
        out.push(res);
    }
    let reads = per_resource(
        ids(&out),
        |id| async move { image_permissions(ec2, &id).await },
    )
    .await;
    for (n, got) in reads {
        out[n].sharing = match got {
            Ok((everyone, accounts)) => sharing_of(everyone || public_flag[n], accounts),
            // The image's own flag still tells whether everyone can launch it.
            Err(_) if public_flag[n] => Sharing::Public {
                accounts: Vec::new(),
            },
            Err(e) => Sharing::Unknown(e.text),
        };
    }
    Ok(out)
}

/// Everyone, and the accounts, organizations and OUs an image's `launchPermission` names.
async fn image_permissions(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<Permissions, AwsError> {
    let out = ec2
        .describe_image_attribute()
        .image_id(id)
        .attribute(ImageAttributeName::LaunchPermission)
        .send()
        .await
        .sent("ec2:DescribeImageAttribute")?;
    let mut everyone = false;
    let mut accounts = Vec::new();
    for p in out.launch_permissions() {
        if p.group() == Some(&PermissionGroup::All) {
            everyone = true;
        }
        for who in [
            p.user_id(),
            p.organization_arn(),
            p.organizational_unit_arn(),
        ]
        .into_iter()
        .flatten()
        {
            accounts.push(who.to_string());
        }
    }
    Ok((everyone, accounts))
}

// ---- removal ----

/// Words for who a permission list named: "everyone and 2 accounts (111…, 222…)".
fn audience(everyone: bool, accounts: &[String]) -> String {
    let mut parts = Vec::new();
    if everyone {
        parts.push("everyone".to_string());
    }
    if !accounts.is_empty() {
        let noun = if accounts.len() == 1 {
            "account"
        } else {
            "accounts"
        };
        parts.push(format!(
            "{} {noun} ({})",
            accounts.len(),
            accounts.join(", ")
        ));
    }
    parts.join(" and ")
}

/// Removes every `createVolumePermission` entry. Uses ModifySnapshotAttribute with
/// `OperationType=remove` (moto does not implement ResetSnapshotAttribute).
pub(super) async fn unshare_snapshot(
    aws: &Aws,
    region: &str,
    id: &str,
) -> Result<String, AwsError> {
    let ec2 = aws.ec2_in(region);
    let (everyone, accounts) = snapshot_permissions(&ec2, id).await?;
    if !everyone && accounts.is_empty() {
        return Ok(format!("snapshot {id} was not shared"));
    }
    let mut call = ec2
        .modify_snapshot_attribute()
        .snapshot_id(id)
        .attribute(SnapshotAttributeName::CreateVolumePermission)
        .operation_type(OperationType::Remove)
        .set_user_ids((!accounts.is_empty()).then(|| accounts.clone()));
    if everyone {
        call = call.group_names("all");
    }
    call.send().await.sent("ec2:ModifySnapshotAttribute")?;
    Ok(format!(
        "stopped sharing snapshot {id} with {}",
        audience(everyone, &accounts)
    ))
}

/// Removes every `launchPermission` entry (everyone, accounts, organizations, OUs).
pub(super) async fn unshare_image(aws: &Aws, region: &str, id: &str) -> Result<String, AwsError> {
    let ec2 = aws.ec2_in(region);
    let (mut everyone, accounts) = image_permissions(&ec2, id).await?;
    let public = ec2
        .describe_images()
        .image_ids(id)
        .send()
        .await
        .sent("ec2:DescribeImages")?
        .images()
        .iter()
        .any(|i| i.public() == Some(true));
    everyone |= public;
    if !everyone && accounts.is_empty() {
        return Ok(format!("image {id} was not shared"));
    }
    let mut remove = Vec::new();
    if everyone {
        remove.push(
            LaunchPermission::builder()
                .group(PermissionGroup::All)
                .build(),
        );
    }
    for who in &accounts {
        let p = if who.contains(":organization/") {
            LaunchPermission::builder().organization_arn(who)
        } else if who.contains(":ou/") {
            LaunchPermission::builder().organizational_unit_arn(who)
        } else {
            LaunchPermission::builder().user_id(who)
        };
        remove.push(p.build());
    }
    ec2.modify_image_attribute()
        .image_id(id)
        .launch_permission(
            LaunchPermissionModifications::builder()
                .set_remove(Some(remove))
                .build(),
        )
        .send()
        .await
        .sent("ec2:ModifyImageAttribute")?;
    Ok(format!(
        "stopped sharing image {id} with {}",
        audience(everyone, &accounts)
    ))
}

// ---- read-back ----

pub(super) async fn snapshot_exists(aws: &Aws, region: &str, id: &str) -> Result<bool, AwsError> {
    present(
        aws.ec2_in(region)
            .describe_snapshots()
            .snapshot_ids(id)
            .send()
            .await
            .sent("ec2:DescribeSnapshots"),
        |o| o.snapshots().iter().any(|s| s.snapshot_id() == Some(id)),
    )
}

pub(super) async fn image_exists(aws: &Aws, region: &str, id: &str) -> Result<bool, AwsError> {
    present(
        aws.ec2_in(region)
            .describe_images()
            .image_ids(id)
            .send()
            .await
            .sent("ec2:DescribeImages"),
        |o| {
            o.images().iter().any(|i| {
                i.image_id() == Some(id) && i.state().map(|s| s.as_str()) != Some("deregistered")
            })
        },
    )
}
