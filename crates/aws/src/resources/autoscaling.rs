//! Auto Scaling groups: listed with their instances and launch template, force-deleted
//! (their instances go with them), read back.

use super::remove::present;
use super::{detail, reference, relate};
use crate::{Aws, AwsError, Sent, to_ts};
use keyspill_core::resources::{Kind, Resource};

pub(super) async fn groups(aws: &Aws, region: &str) -> Result<Vec<Resource>, AwsError> {
    let groups = every!(
        aws.autoscaling_in(region).describe_auto_scaling_groups(),
        "autoscaling:DescribeAutoScalingGroups"
    )?;
    let mut out = Vec::new();
    for g in &groups {
        let Some(name) = g.auto_scaling_group_name() else {
            continue;
        };
        let mut res = Resource::new(Kind::AutoScalingGroup, region, name);
        res.arn = g.auto_scaling_group_arn().map(str::to_string);
        res.created = g.created_time().map(to_ts);
        res.state = g.status().unwrap_or("InService").to_string();
        res.tags = g
            .tags()
            .iter()
            .filter_map(|t| {
                Some((
                    t.key()?.to_string(),
                    t.value().unwrap_or_default().to_string(),
                ))
            })
            .collect();
        res.name = res.tag("Name").unwrap_or_default().to_string();
        detail(
            &mut res,
            "desired",
            g.desired_capacity().map(|n| n.to_string()),
        );
        detail(&mut res, "min", g.min_size().map(|n| n.to_string()));
        detail(&mut res, "max", g.max_size().map(|n| n.to_string()));
        detail(
            &mut res,
            "launch configuration",
            g.launch_configuration_name(),
        );
        for i in g.instances() {
            if let Some(id) = i.instance_id() {
                relate(&mut res, reference(Kind::Instance, region, id));
            }
        }
        let template = g.launch_template().or_else(|| {
            g.mixed_instances_policy()
                .and_then(|m| m.launch_template())
                .and_then(|t| t.launch_template_specification())
        });
        if let Some(t) = template {
            // Named only by name: `link` swaps in the id when the template is in the sweep.
            if let Some(id) = t.launch_template_id().or(t.launch_template_name()) {
                relate(&mut res, reference(Kind::LaunchTemplate, region, id));
            }
        }
        out.push(res);
    }
    Ok(out)
}

pub(super) async fn delete_group(aws: &Aws, region: &str, id: &str) -> Result<String, AwsError> {
    aws.autoscaling_in(region)
        .delete_auto_scaling_group()
        .auto_scaling_group_name(id)
        .force_delete(true)
        .send()
        .await
        .sent("autoscaling:DeleteAutoScalingGroup")?;
    Ok(format!(
        "force-deleted group {id} (its instances are terminating)"
    ))
}

pub(super) async fn group_exists(aws: &Aws, region: &str, id: &str) -> Result<bool, AwsError> {
    present(
        aws.autoscaling_in(region)
            .describe_auto_scaling_groups()
            .auto_scaling_group_names(id)
            .send()
            .await
            .sent("autoscaling:DescribeAutoScalingGroups"),
        |o| {
            o.auto_scaling_groups().iter().any(|g| {
                g.auto_scaling_group_name() == Some(id)
                    && !g.status().is_some_and(|s| s.starts_with("Delete"))
            })
        },
    )
}
