//! Isolating an instance instead of terminating it: out of its Auto Scaling group, off the
//! network (the VPC's isolation group: no rule in, no rule out), its instance profile detached,
//! termination protection on. It keeps running for the room to examine.

use aws_sdk_ec2::types::Filter;

use super::remove::unless_gone;
use crate::{Aws, AwsError, Sent};

/// The security group every isolated instance of a VPC is moved to.
pub const ISOLATION_GROUP: &str = "keyspill-isolation";
const ISOLATION_DESCRIPTION: &str = "keyspill isolation: no inbound, no outbound";

pub(super) async fn detach_from_group(
    aws: &Aws,
    region: &str,
    id: &str,
) -> Result<String, AwsError> {
    let asg = aws.autoscaling_in(region);
    let found = asg
        .describe_auto_scaling_instances()
        .instance_ids(id)
        .send()
        .await
        .sent("autoscaling:DescribeAutoScalingInstances")?;
    let Some(group) = found
        .auto_scaling_instances()
        .iter()
        .find(|i| i.instance_id() == Some(id))
        .and_then(|i| i.auto_scaling_group_name().map(str::to_string))
    else {
        return Ok(format!("{id} is in no Auto Scaling group"));
    };
    asg.detach_instances()
        .auto_scaling_group_name(&group)
        .instance_ids(id)
        .should_decrement_desired_capacity(true)
        .send()
        .await
        .sent("autoscaling:DetachInstances")?;
    Ok(format!(
        "detached {id} from group {group} (desired capacity lowered)"
    ))
}

/// The VPC's isolation group, made when missing, with every rule it has revoked.
async fn isolation_group(ec2: &aws_sdk_ec2::Client, vpc: &str) -> Result<String, AwsError> {
    let found = ec2
        .describe_security_groups()
        .filters(Filter::builder().name("vpc-id").values(vpc).build())
        .filters(
            Filter::builder()
                .name("group-name")
                .values(ISOLATION_GROUP)
                .build(),
        )
        .send()
        .await
        .sent("ec2:DescribeSecurityGroups")?;
    let group = match found.security_groups().first() {
        Some(g) => g.clone(),
        None => {
            let made = ec2
                .create_security_group()
                .group_name(ISOLATION_GROUP)
                .description(ISOLATION_DESCRIPTION)
                .vpc_id(vpc)
                .send()
                .await
                .sent("ec2:CreateSecurityGroup")?;
            let gid = made.group_id().unwrap_or_default().to_string();
            let read = ec2
                .describe_security_groups()
                .group_ids(&gid)
                .send()
                .await
                .sent("ec2:DescribeSecurityGroups")?;
            read.security_groups()
                .first()
                .cloned()
                .ok_or_else(|| AwsError::other(format!("isolation group {gid} not readable")))?
        }
    };
    let gid = group.group_id().unwrap_or_default().to_string();
    // A new group allows all traffic out; a group someone changed may allow more. Nothing stays.
    if !group.ip_permissions_egress().is_empty() {
        ec2.revoke_security_group_egress()
            .group_id(&gid)
            .set_ip_permissions(Some(group.ip_permissions_egress().to_vec()))
            .send()
            .await
            .sent("ec2:RevokeSecurityGroupEgress")?;
    }
    if !group.ip_permissions().is_empty() {
        ec2.revoke_security_group_ingress()
            .group_id(&gid)
            .set_ip_permissions(Some(group.ip_permissions().to_vec()))
            .send()
            .await
            .sent("ec2:RevokeSecurityGroupIngress")?;
    }
    Ok(gid)
}

pub(super) async fn isolate_network(aws: &Aws, region: &str, id: &str) -> Result<String, AwsError> {
    let ec2 = aws.ec2_in(region);
    let inst = super::ec2::describe_one(aws, region, id).await?;
    let vpc = inst
        .vpc_id()
        .ok_or_else(|| AwsError::other(format!("instance {id} is in no VPC: cannot isolate it")))?;
    let before: Vec<String> = inst
        .security_groups()
        .iter()
        .filter_map(|g| g.group_id().map(str::to_string))
        .collect();
    let gid = isolation_group(&ec2, vpc).await?;
    ec2.modify_instance_attribute()
        .instance_id(id)
        .groups(&gid)
        .send()
        .await
        .sent("ec2:ModifyInstanceAttribute")?;
    let was = if before.is_empty() {
        "no group".to_string()
    } else {
        before.join(", ")
    };
    Ok(format!("moved {id} to isolation group {gid} (was {was})"))
}

pub(super) async fn detach_instance_profile(
    aws: &Aws,
    region: &str,
    id: &str,
) -> Result<String, AwsError> {
    let ec2 = aws.ec2_in(region);
    let found = ec2
        .describe_iam_instance_profile_associations()
        .filters(Filter::builder().name("instance-id").values(id).build())
        .send()
        .await
        .sent("ec2:DescribeIamInstanceProfileAssociations")?;
    let live: Vec<(String, String)> = found
        .iam_instance_profile_associations()
        .iter()
        .filter(|a| {
            a.state()
                .is_none_or(|s| matches!(s.as_str(), "associated" | "associating"))
        })
        .filter_map(|a| {
            Some((
                a.association_id()?.to_string(),
                a.iam_instance_profile()
                    .and_then(|p| p.arn())
                    .unwrap_or("?")
                    .to_string(),
            ))
        })
        .collect();
    if live.is_empty() {
        return Ok(format!("{id} has no instance profile"));
    }
    let mut detached = Vec::new();
    for (assoc, arn) in live {
        unless_gone(
            ec2.disassociate_iam_instance_profile()
                .association_id(&assoc)
                .send()
                .await
                .sent("ec2:DisassociateIamInstanceProfile")
                .map(|_| ()),
        )?;
        detached.push(arn);
    }
    Ok(format!(
        "detached instance profile {} from {id} (its role's credentials stop being issued; \
         those already issued last until they expire)",
        detached.join(", ")
    ))
}
