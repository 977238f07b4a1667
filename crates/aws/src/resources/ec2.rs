//! EC2's own resources: instances (with termination protection), spot requests, launch
//! templates, key pairs and security groups; their removal and read-back.

use aws_sdk_ec2::types::{Filter, InstanceAttributeName};

use super::remove::{gone, present};
use super::{detail, ec2_tags, ids, per_resource, reference, relate};
use crate::{Aws, AwsError, Sent, to_ts};
use keyspill_core::resources::{Kind, Resource};

/// Instance states worth listing: everything but `terminated`.
const LIVE_INSTANCE_STATES: [&str; 5] =
    ["pending", "running", "shutting-down", "stopping", "stopped"];

pub(super) async fn instances(
    ec2: &aws_sdk_ec2::Client,
    region: &str,
) -> Result<Vec<Resource>, AwsError> {
    let reservations = every!(
        ec2.describe_instances().filters(
            Filter::builder()
                .name("instance-state-name")
                .set_values(Some(
                    LIVE_INSTANCE_STATES.iter().map(|s| s.to_string()).collect(),
                ))
                .build(),
        ),
        "ec2:DescribeInstances"
    )?;
    let mut out = Vec::new();
    for r in &reservations {
        for i in r.instances() {
            let Some(id) = i.instance_id() else { continue };
            let state = i
                .state()
                .and_then(|s| s.name())
                .map(|n| n.as_str().to_string())
                .unwrap_or_default();
            if state == "terminated" {
                continue;
            }
            let mut res = Resource::new(Kind::Instance, region, id);
            res.tags = ec2_tags(i.tags());
            res.name = res.tag("Name").unwrap_or_default().to_string();
            res.created = i.launch_time().map(to_ts);
            res.state = state;
            detail(
                &mut res,
                "instance type",
                i.instance_type().map(|t| t.as_str()),
            );
            detail(&mut res, "image", i.image_id());
            detail(&mut res, "key pair", i.key_name());
            detail(&mut res, "public IP", i.public_ip_address());
            detail(&mut res, "private IP", i.private_ip_address());
            detail(
                &mut res,
                "lifecycle",
                Some(i.instance_lifecycle().map_or("on-demand", |l| l.as_str())),
            );
            detail(
                &mut res,
                "availability zone",
                i.placement().and_then(|p| p.availability_zone()),
            );
            detail(
                &mut res,
                "instance profile",
                i.iam_instance_profile().and_then(|p| p.arn()),
            );
            detail(&mut res, "account", r.owner_id());

            let tagged_link = |key: &str| res.tag(key).map(str::to_string);
            let links = [
                ("aws:autoscaling:groupName", Kind::AutoScalingGroup),
                ("aws:ec2spot:fleet-request-id", Kind::SpotFleet),
                ("aws:ec2:fleet-id", Kind::Ec2Fleet),
                ("aws:ec2launchtemplate:id", Kind::LaunchTemplate),
            ]
            .map(|(key, kind)| (kind, tagged_link(key)));
            for (kind, id) in links {
                if let Some(id) = id {
                    relate(&mut res, reference(kind, region, id));
                }
            }
            if let Some(sir) = i.spot_instance_request_id() {
                relate(&mut res, reference(Kind::SpotRequest, region, sir));
            }
            for g in i.security_groups() {
                if let Some(gid) = g.group_id() {
                    relate(&mut res, reference(Kind::SecurityGroup, region, gid));
                }
            }
            if let Some(k) = i.key_name() {
                relate(&mut res, reference(Kind::KeyPair, region, k));
            }
            out.push(res);
        }
    }

    // Termination protection is not in DescribeInstances: one attribute read per instance.
    let reads = per_resource(ids(&out), |id| async move {
        ec2.describe_instance_attribute()
            .instance_id(id)
            .attribute(InstanceAttributeName::DisableApiTermination)
            .send()
            .await
            .sent("ec2:DescribeInstanceAttribute")
            .map(|o| {
                o.disable_api_termination()
                    .and_then(|v| v.value())
                    .unwrap_or(false)
            })
    })
    .await;
    for (n, got) in reads {
        match got {
            Ok(p) => out[n].protected = p,
            // Gone between the two calls: nothing to protect.
            Err(e) if gone(&e) => {}
            Err(e) => out[n]
                .details
                .push(("termination protection".into(), format!("unknown: {e}"))),
        }
    }
    Ok(out)
}

pub(super) async fn spot_requests(
    ec2: &aws_sdk_ec2::Client,
    region: &str,
) -> Result<Vec<Resource>, AwsError> {
    let requests = every!(
        ec2.describe_spot_instance_requests().filters(
            Filter::builder()
                .name("state")
                .values("open")
                .values("active")
                .build(),
        ),
        "ec2:DescribeSpotInstanceRequests"
    )?;
    let mut out = Vec::new();
    for r in &requests {
        let Some(id) = r.spot_instance_request_id() else {
            continue;
        };
        let mut res = Resource::new(Kind::SpotRequest, region, id);
        res.tags = ec2_tags(r.tags());
        res.name = res.tag("Name").unwrap_or_default().to_string();
        res.created = r.create_time().map(to_ts);
        res.state = r
            .state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        detail(&mut res, "type", r.r#type().map(|t| t.as_str()));
        detail(&mut res, "status", r.status().and_then(|s| s.code()));
        detail(
            &mut res,
            "instance type",
            r.launch_specification()
                .and_then(|l| l.instance_type())
                .map(|t| t.as_str()),
        );
        if let Some(i) = r.instance_id() {
            relate(&mut res, reference(Kind::Instance, region, i));
        }
        out.push(res);
    }
    Ok(out)
}

pub(super) async fn launch_templates(
    ec2: &aws_sdk_ec2::Client,
    region: &str,
) -> Result<Vec<Resource>, AwsError> {
    let templates = every!(
        ec2.describe_launch_templates(),
        "ec2:DescribeLaunchTemplates"
    )?;
    let mut out = Vec::new();
    for t in &templates {
        let Some(id) = t.launch_template_id() else {
            continue;
        };
        let mut res = Resource::new(Kind::LaunchTemplate, region, id);
        res.tags = ec2_tags(t.tags());
        res.name = t.launch_template_name().unwrap_or_default().to_string();
        res.created = t.create_time().map(to_ts);
        detail(&mut res, "created by", t.created_by());
        detail(
            &mut res,
            "latest version",
            t.latest_version_number().map(|n| n.to_string()),
        );
        out.push(res);
    }
    Ok(out)
}

pub(super) async fn key_pairs(
    ec2: &aws_sdk_ec2::Client,
    region: &str,
) -> Result<Vec<Resource>, AwsError> {
    let out = ec2
        .describe_key_pairs()
        .send()
        .await
        .sent("ec2:DescribeKeyPairs")?;
    Ok(out
        .key_pairs()
        .iter()
        .filter_map(|k| {
            let name = k.key_name()?;
            let mut res = Resource::new(Kind::KeyPair, region, name);
            res.name = name.to_string();
            res.tags = ec2_tags(k.tags());
            res.created = k.create_time().map(to_ts);
            detail(&mut res, "key pair id", k.key_pair_id());
            detail(&mut res, "type", k.key_type().map(|t| t.as_str()));
            detail(&mut res, "fingerprint", k.key_fingerprint());
            Some(res)
        })
        .collect())
}

pub(super) async fn security_groups(
    ec2: &aws_sdk_ec2::Client,
    region: &str,
) -> Result<Vec<Resource>, AwsError> {
    let groups = every!(ec2.describe_security_groups(), "ec2:DescribeSecurityGroups")?;
    let mut out = Vec::new();
    for g in &groups {
        let Some(id) = g.group_id() else { continue };
        let mut res = Resource::new(Kind::SecurityGroup, region, id);
        res.tags = ec2_tags(g.tags());
        res.name = g.group_name().unwrap_or_default().to_string();
        detail(&mut res, "vpc", g.vpc_id());
        detail(&mut res, "description", g.description());
        out.push(res);
    }
    Ok(out)
}

// ---- removal ----

pub(super) async fn cancel_spot_request(
    aws: &Aws,
    region: &str,
    id: &str,
) -> Result<String, AwsError> {
    let o = aws
        .ec2_in(region)
        .cancel_spot_instance_requests()
        .spot_instance_request_ids(id)
        .send()
        .await
        .sent("ec2:CancelSpotInstanceRequests")?;
    let state = o
        .cancelled_spot_instance_requests()
        .iter()
        .find_map(|c| c.state())
        .map_or("cancelled", |s| s.as_str());
    Ok(format!("cancelled spot request {id} ({state})"))
}

/// Termination protection (`disableApiTermination`) on or off.
pub(super) async fn termination_protection(
    aws: &Aws,
    region: &str,
    id: &str,
    on: bool,
) -> Result<String, AwsError> {
    aws.ec2_in(region)
        .modify_instance_attribute()
        .instance_id(id)
        .disable_api_termination(
            aws_sdk_ec2::types::AttributeBooleanValue::builder()
                .value(on)
                .build(),
        )
        .send()
        .await
        .sent("ec2:ModifyInstanceAttribute")?;
    let word = if on { "on" } else { "off" };
    Ok(format!("turned termination protection {word} for {id}"))
}

/// One instance as `DescribeInstances` gives it; an error naming it when it is not there.
pub(crate) async fn describe_one(
    aws: &Aws,
    region: &str,
    id: &str,
) -> Result<aws_sdk_ec2::types::Instance, AwsError> {
    let out = aws
        .ec2_in(region)
        .describe_instances()
        .instance_ids(id)
        .send()
        .await
        .sent("ec2:DescribeInstances")?;
    out.reservations()
        .iter()
        .flat_map(|r| r.instances())
        .find(|i| i.instance_id() == Some(id))
        .cloned()
        .ok_or_else(|| {
            AwsError::new(
                crate::ErrorKind::NotFound,
                format!("instance {id} is not there"),
            )
        })
}

pub(super) async fn terminate(aws: &Aws, region: &str, id: &str) -> Result<String, AwsError> {
    let o = aws
        .ec2_in(region)
        .terminate_instances()
        .instance_ids(id)
        .send()
        .await
        .sent("ec2:TerminateInstances")?;
    let state = o
        .terminating_instances()
        .iter()
        .find_map(|c| c.current_state().and_then(|s| s.name()))
        .map_or("shutting-down", |s| s.as_str());
    Ok(format!("terminated {id} ({state})"))
}

pub(super) async fn delete_launch_template(
    aws: &Aws,
    region: &str,
    id: &str,
) -> Result<String, AwsError> {
    aws.ec2_in(region)
        .delete_launch_template()
        .launch_template_id(id)
        .send()
        .await
        .sent("ec2:DeleteLaunchTemplate")?;
    Ok(format!("deleted launch template {id}"))
}

pub(super) async fn delete_key_pair(aws: &Aws, region: &str, id: &str) -> Result<String, AwsError> {
    aws.ec2_in(region)
        .delete_key_pair()
        .key_name(id)
        .send()
        .await
        .sent("ec2:DeleteKeyPair")?;
    Ok(format!("deleted key pair {id}"))
}

pub(super) async fn delete_security_group(
    aws: &Aws,
    region: &str,
    id: &str,
) -> Result<String, AwsError> {
    aws.ec2_in(region)
        .delete_security_group()
        .group_id(id)
        .send()
        .await
        .sent("ec2:DeleteSecurityGroup")?;
    Ok(format!("deleted security group {id}"))
}

// ---- read-back ----

pub(super) async fn instance_exists(aws: &Aws, region: &str, id: &str) -> Result<bool, AwsError> {
    present(
        aws.ec2_in(region)
            .describe_instances()
            .instance_ids(id)
            .send()
            .await
            .sent("ec2:DescribeInstances"),
        |o| {
            o.reservations()
                .iter()
                .flat_map(|r| r.instances())
                .any(|i| {
                    i.instance_id() == Some(id)
                        && !matches!(
                            i.state().and_then(|s| s.name()).map(|n| n.as_str()),
                            Some("shutting-down" | "terminated")
                        )
                })
        },
    )
}

pub(super) async fn spot_request_exists(
    aws: &Aws,
    region: &str,
    id: &str,
) -> Result<bool, AwsError> {
    present(
        aws.ec2_in(region)
            .describe_spot_instance_requests()
            .spot_instance_request_ids(id)
            .send()
            .await
            .sent("ec2:DescribeSpotInstanceRequests"),
        |o| {
            o.spot_instance_requests().iter().any(|r| {
                r.spot_instance_request_id() == Some(id)
                    && matches!(r.state().map(|s| s.as_str()), Some("open" | "active"))
            })
        },
    )
}

pub(super) async fn launch_template_exists(
    aws: &Aws,
    region: &str,
    id: &str,
) -> Result<bool, AwsError> {
    present(
        aws.ec2_in(region)
            .describe_launch_templates()
            .launch_template_ids(id)
            .send()
            .await
            .sent("ec2:DescribeLaunchTemplates"),
        |o| {
            o.launch_templates()
                .iter()
                .any(|t| t.launch_template_id() == Some(id))
        },
    )
}

pub(super) async fn key_pair_exists(aws: &Aws, region: &str, id: &str) -> Result<bool, AwsError> {
    present(
        aws.ec2_in(region)
            .describe_key_pairs()
            .key_names(id)
            .send()
            .await
            .sent("ec2:DescribeKeyPairs"),
        |o| o.key_pairs().iter().any(|k| k.key_name() == Some(id)),
    )
}

pub(super) async fn security_group_exists(
    aws: &Aws,
    region: &str,
    id: &str,
) -> Result<bool, AwsError> {
    present(
        aws.ec2_in(region)
            .describe_security_groups()
            .group_ids(id)
            .send()
            .await
            .sent("ec2:DescribeSecurityGroups"),
        |o| o.security_groups().iter().any(|g| g.group_id() == Some(id)),
    )
}
