//! Spot fleets and EC2 fleets: listed with their members, cancelled or deleted with their
//! instances, read back.

use super::remove::{present, settle};
use super::{ALREADY_GONE, detail, ec2_tags, ids, per_resource, reference, relate};
use crate::{Aws, AwsError, Sent, to_ts};
use keyspill_core::resources::{Kind, Resource};

pub(super) async fn spot_fleets(
    ec2: &aws_sdk_ec2::Client,
    region: &str,
) -> Result<Vec<Resource>, AwsError> {
    let configs = every!(
        ec2.describe_spot_fleet_requests(),
        "ec2:DescribeSpotFleetRequests"
    )?;
    let mut out = Vec::new();
    for c in &configs {
        let Some(id) = c.spot_fleet_request_id() else {
            continue;
        };
        let state = c
            .spot_fleet_request_state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        // Cancelled or failed fleets launch nothing more (a `cancelled_running` one still
        // has instances, so it stays).
        if matches!(
            state.as_str(),
            "cancelled" | "cancelled_terminating" | "failed"
        ) {
            continue;
        }
        let mut res = Resource::new(Kind::SpotFleet, region, id);
        res.tags = ec2_tags(c.tags());
        res.name = res.tag("Name").unwrap_or_default().to_string();
        res.created = c.create_time().map(to_ts);
        res.state = state;
        if let Some(cfg) = c.spot_fleet_request_config() {
            detail(
                &mut res,
                "target capacity",
                cfg.target_capacity().map(|n| n.to_string()),
            );
            detail(&mut res, "fleet role", cfg.iam_fleet_role());
            detail(
                &mut res,
                "allocation",
                cfg.allocation_strategy().map(|a| a.as_str()),
            );
        }
        detail(
            &mut res,
            "activity",
            c.activity_status().map(|a| a.as_str()),
        );
        out.push(res);
    }
    let members = per_resource(
        ids(&out),
        |id| async move { spot_fleet_members(ec2, &id).await },
    )
    .await;
    relate_members(&mut out, region, members);
    Ok(out)
}

async fn spot_fleet_members(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<Vec<String>, AwsError> {
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = ec2
            .describe_spot_fleet_instances()
            .spot_fleet_request_id(id)
            .set_next_token(token.take())
            .send()
            .await
            .sent("ec2:DescribeSpotFleetInstances")?;
        ids.extend(
            page.active_instances()
                .iter()
                .filter_map(|a| a.instance_id().map(str::to_string)),
        );
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(ids),
        }
    }
}

pub(super) async fn ec2_fleets(
    ec2: &aws_sdk_ec2::Client,
    region: &str,
) -> Result<Vec<Resource>, AwsError> {
    let fleets = every!(ec2.describe_fleets(), "ec2:DescribeFleets")?;
    let mut out = Vec::new();
    // Fleets whose members must be asked for separately (`instant` fleets list them inline).
    let mut ask = Vec::new();
    for f in &fleets {
        let Some(id) = f.fleet_id() else { continue };
        let state = f
            .fleet_state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        if matches!(state.as_str(), "deleted" | "deleted_terminating" | "failed") {
            continue;
        }
        let mut res = Resource::new(Kind::Ec2Fleet, region, id);
        res.tags = ec2_tags(f.tags());
        res.name = res.tag("Name").unwrap_or_default().to_string();
        res.created = f.create_time().map(to_ts);
        res.state = state;
        let kind = f.r#type().map(|t| t.as_str().to_string());
        detail(&mut res, "type", kind.as_deref());
        detail(
            &mut res,
            "target capacity",
            f.target_capacity_specification()
                .and_then(|t| t.total_target_capacity())
                .map(|n| n.to_string()),
        );
        for group in f.instances() {
            for i in group.instance_ids() {
                relate(&mut res, reference(Kind::Instance, region, i));
            }
        }
        for c in f.launch_template_configs() {
            if let Some(lt) = c
                .launch_template_specification()
                .and_then(|s| s.launch_template_id())
            {
                relate(&mut res, reference(Kind::LaunchTemplate, region, lt));
            }
        }
        if kind.as_deref() != Some("instant") {
            ask.push(out.len());
        }
        out.push(res);
    }
    let asked = ask.into_iter().map(|n| (n, out[n].id.clone())).collect();
    let members = per_resource(asked, |id| async move { ec2_fleet_members(ec2, &id).await }).await;
    relate_members(&mut out, region, members);
    Ok(out)
}

async fn ec2_fleet_members(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<Vec<String>, AwsError> {
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = ec2
            .describe_fleet_instances()
            .fleet_id(id)
            .set_next_token(token.take())
            .send()
            .await
            .sent("ec2:DescribeFleetInstances")?;
        ids.extend(
            page.active_instances()
                .iter()
                .filter_map(|a| a.instance_id().map(str::to_string)),
        );
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(ids),
        }
    }
}

/// Relates each fleet to the instances it runs (or says why they could not be read).
fn relate_members(
    out: &mut [Resource],
    region: &str,
    members: Vec<(usize, Result<Vec<String>, AwsError>)>,
) {
    for (n, got) in members {
        match got {
            Ok(ids) => {
                for i in ids {
                    relate(&mut out[n], reference(Kind::Instance, region, i));
                }
            }
            Err(e) => out[n]
                .details
                .push(("instances".into(), format!("unreadable: {e}"))),
        }
    }
}

/// A fleet call's per-fleet failure: gone already, or the error in words.
fn fleet_failure(call: &str, code: String, message: &str) -> Result<String, AwsError> {
    if code.contains("DoesNotExist") {
        return Ok(ALREADY_GONE.to_string());
    }
    Err(AwsError::other(format!("{call}: {code}: {message}").trim_end()).with_code(code.clone()))
}

// ---- removal ----

pub(super) async fn cancel_spot_fleet(
    aws: &Aws,
    region: &str,
    id: &str,
) -> Result<String, AwsError> {
    let call = "ec2:CancelSpotFleetRequests";
    let out = aws
        .ec2_in(region)
        .cancel_spot_fleet_requests()
        .spot_fleet_request_ids(id)
        .terminate_instances(true)
        .send()
        .await
        .sent(call);
    let out = match out {
        Ok(o) => o,
        Err(e) => return settle(Err(e)),
    };
    if let Some(fail) = out.unsuccessful_fleet_requests().first() {
        let code = fail
            .error()
            .and_then(|e| e.code())
            .map(|c| c.as_str().to_string())
            .unwrap_or_default();
        let message = fail.error().and_then(|e| e.message()).unwrap_or_default();
        return fleet_failure(call, code, message);
    }
    let state = out
        .successful_fleet_requests()
        .iter()
        .find_map(|s| s.current_spot_fleet_request_state())
        .map_or("cancelled", |s| s.as_str());
    Ok(format!(
        "cancelled spot fleet {id} ({state}), terminating its instances"
    ))
}

pub(super) async fn delete_ec2_fleet(
    aws: &Aws,
    region: &str,
    id: &str,
) -> Result<String, AwsError> {
    let call = "ec2:DeleteFleets";
    let out = aws
        .ec2_in(region)
        .delete_fleets()
        .fleet_ids(id)
        .terminate_instances(true)
        .send()
        .await
        .sent(call);
    let out = match out {
        Ok(o) => o,
        Err(e) => return settle(Err(e)),
    };
    if let Some(fail) = out.unsuccessful_fleet_deletions().first() {
        let code = fail
            .error()
            .and_then(|e| e.code())
            .map(|c| c.as_str().to_string())
            .unwrap_or_default();
        let message = fail.error().and_then(|e| e.message()).unwrap_or_default();
        return fleet_failure(call, code, message);
    }
    let state = out
        .successful_fleet_deletions()
        .iter()
        .find_map(|s| s.current_fleet_state())
        .map_or("deleted", |s| s.as_str());
    Ok(format!(
        "deleted EC2 fleet {id} ({state}), terminating its instances"
    ))
}

// ---- read-back ----

pub(super) async fn spot_fleet_exists(aws: &Aws, region: &str, id: &str) -> Result<bool, AwsError> {
    present(
        aws.ec2_in(region)
            .describe_spot_fleet_requests()
            .spot_fleet_request_ids(id)
            .send()
            .await
            .sent("ec2:DescribeSpotFleetRequests"),
        |o| {
            o.spot_fleet_request_configs().iter().any(|c| {
                c.spot_fleet_request_id() == Some(id)
                    && !c.spot_fleet_request_state().is_some_and(|s| {
                        s.as_str().starts_with("cancelled") || s.as_str() == "failed"
                    })
            })
        },
    )
}

pub(super) async fn ec2_fleet_exists(aws: &Aws, region: &str, id: &str) -> Result<bool, AwsError> {
    present(
        aws.ec2_in(region)
            .describe_fleets()
            .fleet_ids(id)
            .send()
            .await
            .sent("ec2:DescribeFleets"),
        |o| {
            o.fleets().iter().any(|f| {
                f.fleet_id() == Some(id)
                    && !f.fleet_state().is_some_and(|s| {
                        s.as_str().starts_with("deleted") || s.as_str() == "failed"
                    })
            })
        },
    )
}
