//! The Resources tab's AWS side: an inventory of what exists in each region and in IAM, the
//! parts an IAM principal carries, and the removal calls a plan is made of.
//!
//! Inventory never fails as a whole. Each kind of resource in a region is one cell: a count,
//! "not offered here" (Lightsail), or the error in words. The kinds of one region are fetched
//! at the same time, and all regions are swept at the same time, so a sweep of the whole
//! account costs about as long as the slowest region's longest chain of dependent requests.
//!
//! Two kinds of duplicates are settled here:
//! - The tagging API (`GetResources`) returns resources the direct listings also find. A tagged
//!   entry that names the same thing as a direct one is folded into it (its tags and ARN are
//!   kept), so every resource is listed once, under its own kind.
//! - Resources whose ARN carries no region (S3 buckets, `arn:aws:s3:::name`) are given the
//!   region [`GLOBAL`]. Every region's `GetResources` may return them (moto does), so
//!   [`sweep`] and [`sweep_each`] keep the first copy by ARN and drop the rest. A caller that
//!   combines separate [`sweep_region`] results itself must do the same.

use std::collections::{HashMap, HashSet};

use aws_config::retry::RetryConfig;
use aws_sdk_ec2::types::{
    Filter, ImageAttributeName, InstanceAttributeName, LaunchPermission,
    LaunchPermissionModifications, OperationType, PermissionGroup, SnapshotAttributeName,
};
use futures_util::future::{BoxFuture, FutureExt, Shared};
use futures_util::stream::{self, FuturesUnordered, StreamExt};

use crate::{Aws, AwsError, ErrorKind, FromSdk, to_ts};
use keyspill_core::domain::Timestamp;
use keyspill_core::resources::{
    Action, CellState, GLOBAL, Kind, Parts, RegionSweep, Resource, ResourceRef, RoleParts, Sharing,
    UserParts,
};

/// How many per-resource reads (termination protection, sharing, fleet members) run at once
/// within one kind of one region.
pub const DETAIL_CONCURRENCY: usize = 8;

/// The detail a removal returns when the resource was not there any more.
pub const ALREADY_GONE: &str = "already gone";

/// The label of the cell that stands for a whole region whose sweep task died.
const SWEEP_CELL: &str = "sweep";

/// Instance states worth listing: everything but `terminated`.
const LIVE_INSTANCE_STATES: [&str; 5] =
    ["pending", "running", "shutting-down", "stopping", "stopped"];

/// Kinds that launch instances and may launch them again: an instance and its launcher point
/// at each other in `related`.
const LAUNCHERS: [Kind; 4] = [
    Kind::AutoScalingGroup,
    Kind::SpotFleet,
    Kind::Ec2Fleet,
    Kind::SpotRequest,
];

/// The caller's account id, read once and shared by every region of a sweep (moto ignores
/// `OwnerIds=self` for snapshots; an `owner-id` filter with the account works everywhere).
type AccountId = Shared<BoxFuture<'static, Option<String>>>;

fn account_id(aws: &Aws) -> AccountId {
    let aws = aws.clone();
    async move {
        aws.sts
            .get_caller_identity()
            .send()
            .await
            .ok()
            .and_then(|o| o.account().map(str::to_string))
    }
    .boxed()
    .shared()
}

// ---------------------------------------------------------------------------------------------
// Inventory
// ---------------------------------------------------------------------------------------------

/// Everything regional in one region: every kind fetched at once, each filling its cell. A
/// failure in one kind shows in its cell and never hides the others.
pub async fn sweep_region(aws: &Aws, region: &str) -> RegionSweep {
    sweep_region_with(aws, region, account_id(aws)).await
}

async fn sweep_region_with(aws: &Aws, region: &str, account: AccountId) -> RegionSweep {
    let ec2 = aws.ec2_in(region);
    let (
        groups_found,
        spot_fleets_found,
        fleets_found,
        spot_requests_found,
        instances_found,
        templates_found,
        functions_found,
        lightsail_found,
        key_pairs_found,
        security_groups_found,
        snapshots_found,
        images_found,
        tagged_found,
    ) = tokio::join!(
        auto_scaling_groups(aws, region),
        spot_fleets(&ec2, region),
        ec2_fleets(&ec2, region),
        spot_requests(&ec2, region),
        instances(&ec2, region),
        launch_templates(&ec2, region),
        functions(aws, region),
        lightsail_instances(aws, region),
        key_pairs(&ec2, region),
        security_groups(&ec2, region),
        snapshots(&ec2, region, account),
        images(&ec2, region),
        tagged(aws, region),
    );

    let mut sweep = RegionSweep {
        region: region.to_string(),
        ..RegionSweep::default()
    };
    let failed = |found: Result<Vec<Resource>, AwsError>| found.map_err(CellState::Failed);
    let cells = [
        (Kind::AutoScalingGroup, failed(groups_found)),
        (Kind::SpotFleet, failed(spot_fleets_found)),
        (Kind::Ec2Fleet, failed(fleets_found)),
        (Kind::SpotRequest, failed(spot_requests_found)),
        (Kind::Instance, failed(instances_found)),
        (Kind::LaunchTemplate, failed(templates_found)),
        (Kind::Function, failed(functions_found)),
        (Kind::Lightsail, lightsail_found),
        (Kind::KeyPair, failed(key_pairs_found)),
        (Kind::SecurityGroup, failed(security_groups_found)),
        (Kind::Snapshot, failed(snapshots_found)),
        (Kind::Image, failed(images_found)),
    ];
    // Kinds listed directly and completely in this sweep: a tagged entry of such a kind
    // that matches nothing listed is a resource that no longer exists (the tagging API keeps
    // returning terminated instances for a while), not one keyspill missed.
    let covered: HashSet<&'static str> = cells
        .iter()
        .filter(|(_, found)| found.is_ok())
        .filter_map(|(kind, _)| tagging_type(*kind))
        .collect();
    for (kind, found) in cells {
        record(&mut sweep, kind, found);
    }
    link(&mut sweep.resources);
    match tagged_found {
        Ok(tagged) => {
            let kept = merge_tagged(&mut sweep.resources, tagged, &covered);
            sweep
                .cells
                .push((Kind::Tagged.label(), CellState::Ok(kept)));
        }
        Err(e) => sweep
            .cells
            .push((Kind::Tagged.label(), CellState::Failed(e))),
    }
    sweep
}

fn record(sweep: &mut RegionSweep, kind: Kind, found: Result<Vec<Resource>, CellState>) {
    match found {
        Ok(list) => {
            sweep.cells.push((kind.label(), CellState::Ok(list.len())));
            sweep.resources.extend(list);
        }
        Err(cell) => sweep.cells.push((kind.label(), cell)),
    }
}

/// IAM, once for the account (region [`GLOBAL`]): users, roles, customer managed policies,
/// OIDC and SAML providers. A principal's parts are read separately ([`principal_parts`]).
pub async fn sweep_iam(aws: &Aws) -> RegionSweep {
    let (users_found, roles_found, policies_found, oidc_found, saml_found) = tokio::join!(
        iam_users(aws),
        iam_roles(aws),
        iam_policies(aws),
        oidc_providers(aws),
        saml_providers(aws),
    );
    let mut sweep = RegionSweep {
        region: GLOBAL.to_string(),
        ..RegionSweep::default()
    };
    let all = [
        (Kind::User, users_found),
        (Kind::Role, roles_found),
        (Kind::Policy, policies_found),
        (Kind::OidcProvider, oidc_found),
        (Kind::SamlProvider, saml_found),
    ];
    for (kind, found) in all {
        record(&mut sweep, kind, found.map_err(CellState::Failed));
    }
    sweep
}

/// Every region in `regions` and IAM, all at once: regions in the order given, IAM last.
pub async fn sweep(aws: &Aws, regions: &[String]) -> Vec<RegionSweep> {
    let mut out = Vec::with_capacity(regions.len() + 1);
    sweep_each(aws, regions, |s| out.push(s)).await;
    let position = |s: &RegionSweep| {
        regions
            .iter()
            .position(|r| *r == s.region)
            .unwrap_or(regions.len())
    };
    out.sort_by_key(position);
    out
}

/// Like [`sweep`], handing each region (and IAM) to `on_done` as soon as it is complete, so a
/// screen can fill in while slower regions are still answering. Every region is its own tokio
/// task; all run at once. Region-less tagged resources (S3 buckets) are handed over once, with
/// the first region that reports them.
pub async fn sweep_each(aws: &Aws, regions: &[String], mut on_done: impl FnMut(RegionSweep)) {
    let account = account_id(aws);
    let mut tasks: FuturesUnordered<BoxFuture<'static, RegionSweep>> = FuturesUnordered::new();
    for region in regions {
        let aws = aws.clone();
        let account = account.clone();
        let name = region.clone();
        let task = tokio::spawn(async move { sweep_region_with(&aws, &name, account).await });
        tasks.push(joined(region.clone(), task).boxed());
    }
    let iam_aws = aws.clone();
    let task = tokio::spawn(async move { sweep_iam(&iam_aws).await });
    tasks.push(joined(GLOBAL.to_string(), task).boxed());

    let mut seen = HashSet::new();
    while let Some(mut done) = tasks.next().await {
        drop_repeated_globals(&mut done, &mut seen);
        on_done(done);
    }
}

/// A spawned sweep's result; a task that died (a panic) becomes a sweep with one failed cell.
async fn joined(region: String, task: tokio::task::JoinHandle<RegionSweep>) -> RegionSweep {
    match task.await {
        Ok(s) => s,
        Err(e) => RegionSweep {
            region,
            resources: Vec::new(),
            cells: vec![(
                SWEEP_CELL,
                CellState::Failed(AwsError::other(format!(
                    "the sweep of this region stopped: {e}"
                ))),
            )],
        },
    }
}

/// Keeps the first copy of each region-less tagged resource across sweeps.
fn drop_repeated_globals(sweep: &mut RegionSweep, seen: &mut HashSet<String>) {
    if sweep.region == GLOBAL {
        return;
    }
    let before = sweep.resources.len();
    sweep.resources.retain(|r| {
        if r.kind != Kind::Tagged || r.region != GLOBAL {
            return true;
        }
        let key = r.arn.clone().unwrap_or_else(|| r.id.clone());
        seen.insert(key)
    });
    let dropped = before - sweep.resources.len();
    if dropped > 0 {
        for (label, cell) in &mut sweep.cells {
            if *label == Kind::Tagged.label()
                && let CellState::Ok(n) = cell
            {
                *n = n.saturating_sub(dropped);
            }
        }
    }
}

// ---- EC2 ----

fn ec2_tags(tags: &[aws_sdk_ec2::types::Tag]) -> Vec<(String, String)> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

fn reference(kind: Kind, region: &str, id: impl Into<String>) -> ResourceRef {
    ResourceRef {
        kind,
        region: region.to_string(),
        id: id.into(),
    }
}

/// Adds a detail line when there is something to say.
fn detail(res: &mut Resource, key: &str, value: Option<impl AsRef<str>>) {
    if let Some(v) = value {
        let v = v.as_ref().trim();
        if !v.is_empty() {
            res.details.push((key.to_string(), v.to_string()));
        }
    }
}

fn relate(res: &mut Resource, r: ResourceRef) {
    if !res.related.contains(&r) {
        res.related.push(r);
    }
}

async fn instances(ec2: &aws_sdk_ec2::Client, region: &str) -> Result<Vec<Resource>, AwsError> {
    let reservations = ec2
        .describe_instances()
        .filters(
            Filter::builder()
                .name("instance-state-name")
                .set_values(Some(
                    LIVE_INSTANCE_STATES.iter().map(|s| s.to_string()).collect(),
                ))
                .build(),
        )
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:DescribeInstances", &e))?;
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
    let reads: Vec<(usize, Result<bool, AwsError>)> = stream::iter(
        out.iter()
            .enumerate()
            .map(|(n, r)| (n, r.id.clone()))
            .collect::<Vec<_>>(),
    )
    .map(|(n, id)| async move {
        let got = ec2
            .describe_instance_attribute()
            .instance_id(id)
            .attribute(InstanceAttributeName::DisableApiTermination)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ec2:DescribeInstanceAttribute", &e))
            .map(|o| {
                o.disable_api_termination()
                    .and_then(|v| v.value())
                    .unwrap_or(false)
            });
        (n, got)
    })
    .buffer_unordered(DETAIL_CONCURRENCY)
    .collect()
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

async fn spot_requests(ec2: &aws_sdk_ec2::Client, region: &str) -> Result<Vec<Resource>, AwsError> {
    let requests = ec2
        .describe_spot_instance_requests()
        .filters(
            Filter::builder()
                .name("state")
                .values("open")
                .values("active")
                .build(),
        )
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:DescribeSpotInstanceRequests", &e))?;
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

async fn spot_fleets(ec2: &aws_sdk_ec2::Client, region: &str) -> Result<Vec<Resource>, AwsError> {
    let configs = ec2
        .describe_spot_fleet_requests()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:DescribeSpotFleetRequests", &e))?;
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
    let members: Vec<(usize, Result<Vec<String>, AwsError>)> = stream::iter(
        out.iter()
            .enumerate()
            .map(|(n, r)| (n, r.id.clone()))
            .collect::<Vec<_>>(),
    )
    .map(|(n, id)| async move { (n, spot_fleet_members(ec2, &id).await) })
    .buffer_unordered(DETAIL_CONCURRENCY)
    .collect()
    .await;
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
            .map_err(|e| AwsError::from_sdk("ec2:DescribeSpotFleetInstances", &e))?;
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

async fn ec2_fleets(ec2: &aws_sdk_ec2::Client, region: &str) -> Result<Vec<Resource>, AwsError> {
    let fleets = ec2
        .describe_fleets()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:DescribeFleets", &e))?;
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
    let members: Vec<(usize, Result<Vec<String>, AwsError>)> = stream::iter(
        ask.into_iter()
            .map(|n| (n, out[n].id.clone()))
            .collect::<Vec<_>>(),
    )
    .map(|(n, id)| async move { (n, ec2_fleet_members(ec2, &id).await) })
    .buffer_unordered(DETAIL_CONCURRENCY)
    .collect()
    .await;
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
            .map_err(|e| AwsError::from_sdk("ec2:DescribeFleetInstances", &e))?;
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

async fn launch_templates(
    ec2: &aws_sdk_ec2::Client,
    region: &str,
) -> Result<Vec<Resource>, AwsError> {
    let templates = ec2
        .describe_launch_templates()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:DescribeLaunchTemplates", &e))?;
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

async fn key_pairs(ec2: &aws_sdk_ec2::Client, region: &str) -> Result<Vec<Resource>, AwsError> {
    let out = ec2
        .describe_key_pairs()
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:DescribeKeyPairs", &e))?;
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

async fn security_groups(
    ec2: &aws_sdk_ec2::Client,
    region: &str,
) -> Result<Vec<Resource>, AwsError> {
    let groups = ec2
        .describe_security_groups()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:DescribeSecurityGroups", &e))?;
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

async fn snapshots(
    ec2: &aws_sdk_ec2::Client,
    region: &str,
    account: AccountId,
) -> Result<Vec<Resource>, AwsError> {
    let mut call = ec2.describe_snapshots().owner_ids("self");
    if let Some(account) = account.await {
        call = call.filters(Filter::builder().name("owner-id").values(account).build());
    }
    let snaps = call
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:DescribeSnapshots", &e))?;
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
    let reads: Vec<(usize, Sharing)> = stream::iter(
        out.iter()
            .enumerate()
            .map(|(n, r)| (n, r.id.clone()))
            .collect::<Vec<_>>(),
    )
    .map(|(n, id)| async move { (n, snapshot_sharing(ec2, &id).await) })
    .buffer_unordered(DETAIL_CONCURRENCY)
    .collect()
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
        .map_err(|e| AwsError::from_sdk("ec2:DescribeSnapshotAttribute", &e))?;
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

async fn images(ec2: &aws_sdk_ec2::Client, region: &str) -> Result<Vec<Resource>, AwsError> {
    let images = ec2
        .describe_images()
        .owners("self")
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:DescribeImages", &e))?;
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
    let reads: Vec<(usize, Result<Permissions, AwsError>)> = stream::iter(
        out.iter()
            .enumerate()
            .map(|(n, r)| (n, r.id.clone()))
            .collect::<Vec<_>>(),
    )
    .map(|(n, id)| async move { (n, image_permissions(ec2, &id).await) })
    .buffer_unordered(DETAIL_CONCURRENCY)
    .collect()
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
        .map_err(|e| AwsError::from_sdk("ec2:DescribeImageAttribute", &e))?;
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

// ---- Auto Scaling, Lambda, Lightsail ----

async fn auto_scaling_groups(aws: &Aws, region: &str) -> Result<Vec<Resource>, AwsError> {
    let groups = aws
        .autoscaling_in(region)
        .describe_auto_scaling_groups()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("autoscaling:DescribeAutoScalingGroups", &e))?;
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

async fn functions(aws: &Aws, region: &str) -> Result<Vec<Resource>, AwsError> {
    let functions = aws
        .lambda_in(region)
        .list_functions()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("lambda:ListFunctions", &e))?;
    let mut out = Vec::new();
    for f in &functions {
        let Some(name) = f.function_name() else {
            continue;
        };
        let mut res = Resource::new(Kind::Function, region, name);
        res.arn = f.function_arn().map(str::to_string);
        res.created = f.last_modified().and_then(parse_time);
        res.state = f
            .state()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        detail(&mut res, "runtime", f.runtime().map(|r| r.as_str()));
        detail(&mut res, "role", f.role());
        detail(&mut res, "handler", f.handler());
        detail(&mut res, "last modified", f.last_modified());
        if let Some(role) = f.role().and_then(|r| r.rsplit('/').next()) {
            relate(&mut res, reference(Kind::Role, GLOBAL, role));
        }
        out.push(res);
    }
    Ok(out)
}

/// Lightsail, with retries off: where it is not offered (most regions, and emulators) the
/// call fails, and one attempt is enough to know that.
async fn lightsail_instances(aws: &Aws, region: &str) -> Result<Vec<Resource>, CellState> {
    let client = aws.lightsail_in(region);
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .get_instances()
            .set_page_token(token.take())
            .customize()
            .config_override(
                aws_sdk_lightsail::config::Builder::default().retry_config(RetryConfig::disabled()),
            )
            .send()
            .await
            .map_err(|e| {
                let status = e.raw_response().map(|r| r.status().as_u16());
                let err = AwsError::from_sdk("lightsail:GetInstances", &e);
                // An endpoint that does not exist (no such host), or one that answers
                // without an AWS error at all (an emulator's HTML 500, which the JSON
                // protocol cannot even parse), means the service is not offered there.
                let not_offered =
                    matches!(err.kind, ErrorKind::NotImplemented | ErrorKind::Unreachable)
                        || (err.code.is_none() && matches!(status, Some(404 | 500 | 501)));
                if not_offered {
                    CellState::Unavailable(format!("Lightsail does not answer here: {}", err.text))
                } else {
                    CellState::Failed(err)
                }
            })?;
        for i in page.instances() {
            let Some(name) = i.name() else { continue };
            let mut res = Resource::new(Kind::Lightsail, region, name);
            res.arn = i.arn().map(str::to_string);
            res.created = i.created_at().map(to_ts);
            res.state = i
                .state()
                .and_then(|s| s.name())
                .unwrap_or_default()
                .to_string();
            res.tags = i
                .tags()
                .iter()
                .filter_map(|t| {
                    Some((
                        t.key()?.to_string(),
                        t.value().unwrap_or_default().to_string(),
                    ))
                })
                .collect();
            detail(&mut res, "blueprint", i.blueprint_id());
            detail(&mut res, "bundle", i.bundle_id());
            detail(&mut res, "public IP", i.public_ip_address());
            out.push(res);
        }
        match page.next_page_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

// ---- the tagging API ----

/// An ARN's parts: (service, region, resource part).
fn arn_parts(arn: &str) -> Option<(&str, &str, &str)> {
    let mut it = arn.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some(service), Some(region), Some(_account), Some(res)) = (
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
    ) else {
        return None;
    };
    Some((service, region, res))
}

/// The identifier at the end of an ARN's resource part: `instance/i-1` → `i-1`,
/// `function:name` → `name`, `bucket` → `bucket`.
fn resource_tail(resource: &str) -> &str {
    if let Some((_, tail)) = resource.rsplit_once('/') {
        tail
    } else if let Some((_, tail)) = resource.split_once(':') {
        tail
    } else {
        resource
    }
}

/// `service:resource-type`, as the tagging API's type filters name it.
fn resource_type(service: &str, resource: &str) -> String {
    let kind = resource.split(['/', ':']).next().filter(|k| *k != resource);
    match (service, kind) {
        (_, Some(k)) => format!("{service}:{k}"),
        ("s3", None) => "s3:bucket".to_string(),
        (_, None) => service.to_string(),
    }
}

/// The tagging API's resource type (`service:type`) of a kind keyspill lists directly.
fn tagging_type(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::Instance => "ec2:instance",
        Kind::SecurityGroup => "ec2:security-group",
        Kind::KeyPair => "ec2:key-pair",
        Kind::LaunchTemplate => "ec2:launch-template",
        Kind::Snapshot => "ec2:snapshot",
        Kind::Image => "ec2:image",
        Kind::SpotRequest => "ec2:spot-instances-request",
        Kind::SpotFleet => "ec2:spot-fleet-request",
        Kind::Ec2Fleet => "ec2:fleet",
        Kind::Function => "lambda:function",
        Kind::AutoScalingGroup => "autoscaling:autoScalingGroup",
        _ => return None,
    })
}

/// The service whose ARNs name resources of this kind (for matching tagged entries).
fn service_of(kind: Kind) -> &'static str {
    match kind {
        Kind::Instance
        | Kind::SpotRequest
        | Kind::SpotFleet
        | Kind::Ec2Fleet
        | Kind::LaunchTemplate
        | Kind::KeyPair
        | Kind::SecurityGroup
        | Kind::Snapshot
        | Kind::Image => "ec2",
        Kind::AutoScalingGroup => "autoscaling",
        Kind::Function => "lambda",
        Kind::Lightsail => "lightsail",
        Kind::User | Kind::Role | Kind::Policy | Kind::OidcProvider | Kind::SamlProvider => "iam",
        Kind::Tagged => "",
    }
}

async fn tagged(aws: &Aws, region: &str) -> Result<Vec<Resource>, AwsError> {
    let mappings = aws
        .tagging_in(region)
        .get_resources()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("tag:GetResources", &e))?;
    let mut out = Vec::new();
    for m in &mappings {
        let Some(arn) = m.resource_arn() else {
            continue;
        };
        let Some((service, arn_region, resource)) = arn_parts(arn) else {
            continue;
        };
        let home = if arn_region.is_empty() {
            GLOBAL
        } else {
            arn_region
        };
        let mut res = Resource::new(Kind::Tagged, home, resource);
        res.arn = Some(arn.to_string());
        res.tags = m
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
        res.name = res.tag("Name").unwrap_or_default().to_string();
        res.details
            .push(("type".into(), resource_type(service, resource)));
        out.push(res);
    }
    Ok(out)
}

/// Folds tagged entries into the direct resources they name (by ARN, else by the id at the
/// end of the ARN within the same service and region) and adds the rest. Returns how many
/// tagged entries were added as [`Kind::Tagged`].
fn merge_tagged(
    resources: &mut Vec<Resource>,
    tagged: Vec<Resource>,
    covered: &HashSet<&'static str>,
) -> usize {
    let mut by_arn: HashMap<String, usize> = HashMap::new();
    let mut by_id: HashMap<(&'static str, String, String), usize> = HashMap::new();
    for (n, r) in resources.iter().enumerate() {
        if let Some(a) = &r.arn {
            by_arn.insert(a.clone(), n);
        }
        let service = service_of(r.kind);
        by_id.insert((service, r.region.clone(), r.id.clone()), n);
        if r.kind == Kind::KeyPair
            && let Some((_, kp)) = r.details.iter().find(|(k, _)| k == "key pair id")
        {
            by_id.insert((service, r.region.clone(), kp.clone()), n);
        }
    }
    let mut kept = 0;
    for t in tagged {
        let arn = t.arn.clone().unwrap_or_default();
        let found = by_arn.get(&arn).copied().or_else(|| {
            let (service, _, resource) = arn_parts(&arn)?;
            by_id
                .iter()
                .find(|((s, region, id), _)| {
                    *s == service && *region == t.region && id == resource_tail(resource)
                })
                .map(|(_, n)| *n)
        });
        match found {
            Some(n) => {
                let r = &mut resources[n];
                if r.arn.is_none() {
                    r.arn = Some(arn);
                }
                for (k, v) in t.tags {
                    if !r.tags.iter().any(|(rk, _)| *rk == k) {
                        r.tags.push((k, v));
                    }
                }
                if r.name.is_empty()
                    && let Some(name) = r.tag("Name").map(str::to_string)
                {
                    r.name = name;
                }
            }
            // Of a kind listed in full, yet not listed: gone since it was tagged.
            None if t
                .details
                .iter()
                .any(|(k, v)| k == "type" && covered.contains(v.as_str())) => {}
            None => {
                kept += 1;
                resources.push(t);
            }
        }
    }
    kept
}

/// Makes an instance and whatever launched it point at each other, and replaces a launch
/// template's name by its id where the template is in the sweep.
fn link(resources: &mut [Resource]) {
    let instances: HashMap<String, usize> = resources
        .iter()
        .enumerate()
        .filter(|(_, r)| r.kind == Kind::Instance)
        .map(|(n, r)| (r.id.clone(), n))
        .collect();
    let launchers: HashMap<ResourceRef, usize> = resources
        .iter()
        .enumerate()
        .filter(|(_, r)| LAUNCHERS.contains(&r.kind))
        .map(|(n, r)| (r.reference(), n))
        .collect();
    let mut add: Vec<(usize, ResourceRef)> = Vec::new();
    for r in resources.iter() {
        if LAUNCHERS.contains(&r.kind) {
            for rel in r.related.iter().filter(|x| x.kind == Kind::Instance) {
                if let Some(&n) = instances.get(&rel.id) {
                    add.push((n, r.reference()));
                }
            }
        } else if r.kind == Kind::Instance {
            for rel in r.related.iter().filter(|x| LAUNCHERS.contains(&x.kind)) {
                if let Some(&n) = launchers.get(rel) {
                    add.push((n, r.reference()));
                }
            }
        }
    }
    for (n, r) in add {
        relate(&mut resources[n], r);
    }

    let template_ids: HashSet<String> = resources
        .iter()
        .filter(|r| r.kind == Kind::LaunchTemplate)
        .map(|r| r.id.clone())
        .collect();
    let template_names: HashMap<String, String> = resources
        .iter()
        .filter(|r| r.kind == Kind::LaunchTemplate && !r.name.is_empty())
        .map(|r| (r.name.clone(), r.id.clone()))
        .collect();
    for r in resources.iter_mut() {
        for rel in r.related.iter_mut() {
            if rel.kind == Kind::LaunchTemplate
                && !template_ids.contains(&rel.id)
                && let Some(id) = template_names.get(&rel.id)
            {
                rel.id = id.clone();
            }
        }
    }
}

// ---- IAM ----

async fn iam_users(aws: &Aws) -> Result<Vec<Resource>, AwsError> {
    let users = aws
        .iam
        .list_users()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("iam:ListUsers", &e))?;
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

async fn iam_roles(aws: &Aws) -> Result<Vec<Resource>, AwsError> {
    let roles = aws
        .iam
        .list_roles()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("iam:ListRoles", &e))?;
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

async fn iam_policies(aws: &Aws) -> Result<Vec<Resource>, AwsError> {
    let policies = aws
        .iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("iam:ListPolicies", &e))?;
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

async fn oidc_providers(aws: &Aws) -> Result<Vec<Resource>, AwsError> {
    let out = aws
        .iam
        .list_open_id_connect_providers()
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("iam:ListOpenIDConnectProviders", &e))?;
    let arns: Vec<String> = out
        .open_id_connect_provider_list()
        .iter()
        .filter_map(|p| p.arn().map(str::to_string))
        .collect();
    let found: Vec<Resource> = stream::iter(arns)
        .map(|arn| async move {
            let mut res = Resource::new(Kind::OidcProvider, GLOBAL, arn.as_str());
            res.arn = Some(arn.clone());
            res.name = arn
                .rsplit_once(":oidc-provider/")
                .map_or("", |(_, n)| n)
                .to_string();
            match aws
                .iam
                .get_open_id_connect_provider()
                .open_id_connect_provider_arn(&arn)
                .send()
                .await
            {
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
                Err(e) => res.details.push((
                    "details".into(),
                    format!(
                        "unreadable: {}",
                        AwsError::from_sdk("iam:GetOpenIDConnectProvider", &e)
                    ),
                )),
            }
            res
        })
        .buffer_unordered(DETAIL_CONCURRENCY)
        .collect()
        .await;
    Ok(found)
}

async fn saml_providers(aws: &Aws) -> Result<Vec<Resource>, AwsError> {
    let out = aws
        .iam
        .list_saml_providers()
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("iam:ListSAMLProviders", &e))?;
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

/// What an IAM user or role carries that must go before it can be deleted. Each list that
/// cannot be read goes into `unread` as "what: why"; the others are still filled in.
/// Other kinds have no parts.
pub async fn principal_parts(aws: &Aws, kind: Kind, name: &str) -> Parts {
    match kind {
        Kind::User => Parts::User(user_parts(aws, name).await),
        Kind::Role => Parts::Role(role_parts(aws, name).await),
        _ => Parts::None,
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
    let keys = aws
        .iam
        .list_access_keys()
        .user_name(user)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("iam:ListAccessKeys", &e))?;
    Ok(keys
        .iter()
        .filter_map(|k| k.access_key_id().map(str::to_string))
        .collect())
}

async fn signing_certificates(aws: &Aws, user: &str) -> Result<Vec<String>, AwsError> {
    let certs = aws
        .iam
        .list_signing_certificates()
        .user_name(user)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("iam:ListSigningCertificates", &e))?;
    Ok(certs
        .iter()
        .map(|c| c.certificate_id().to_string())
        .collect())
}

async fn ssh_keys(aws: &Aws, user: &str) -> Result<Vec<String>, AwsError> {
    let keys = aws
        .iam
        .list_ssh_public_keys()
        .user_name(user)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("iam:ListSSHPublicKeys", &e))?;
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
        .map_err(|e| AwsError::from_sdk("iam:ListServiceSpecificCredentials", &e))?;
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
    let devices = aws
        .iam
        .list_mfa_devices()
        .user_name(user)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("iam:ListMFADevices", &e))?;
    Ok(devices
        .iter()
        .map(|d| d.serial_number().to_string())
        .collect())
}

async fn user_inline_policies(aws: &Aws, user: &str) -> Result<Vec<String>, AwsError> {
    aws.iam
        .list_user_policies()
        .user_name(user)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("iam:ListUserPolicies", &e))
}

async fn user_attached_policies(aws: &Aws, user: &str) -> Result<Vec<String>, AwsError> {
    let policies = aws
        .iam
        .list_attached_user_policies()
        .user_name(user)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("iam:ListAttachedUserPolicies", &e))?;
    Ok(policies
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect())
}

async fn user_groups(aws: &Aws, user: &str) -> Result<Vec<String>, AwsError> {
    let groups = aws
        .iam
        .list_groups_for_user()
        .user_name(user)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("iam:ListGroupsForUser", &e))?;
    Ok(groups.iter().map(|g| g.group_name().to_string()).collect())
}

async fn role_inline_policies(aws: &Aws, role: &str) -> Result<Vec<String>, AwsError> {
    aws.iam
        .list_role_policies()
        .role_name(role)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("iam:ListRolePolicies", &e))
}

async fn role_attached_policies(aws: &Aws, role: &str) -> Result<Vec<String>, AwsError> {
    let policies = aws
        .iam
        .list_attached_role_policies()
        .role_name(role)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("iam:ListAttachedRolePolicies", &e))?;
    Ok(policies
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect())
}

async fn role_instance_profiles(aws: &Aws, role: &str) -> Result<Vec<String>, AwsError> {
    let profiles = aws
        .iam
        .list_instance_profiles_for_role()
        .role_name(role)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| AwsError::from_sdk("iam:ListInstanceProfilesForRole", &e))?;
    Ok(profiles
        .iter()
        .map(|p| p.instance_profile_name().to_string())
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Removal
// ---------------------------------------------------------------------------------------------

/// Whether an error says the thing is not there (any more).
fn gone(e: &AwsError) -> bool {
    if e.is_not_found() {
        return true;
    }
    let code = e.code.as_deref().unwrap_or("");
    code.contains("NotFound")
        || (code == "ValidationError" && e.text.to_ascii_lowercase().contains("not found"))
}

/// A removal that found nothing to remove succeeded.
fn settle(r: Result<String, AwsError>) -> Result<String, AwsError> {
    match r {
        Err(e) if gone(&e) => Ok(ALREADY_GONE.to_string()),
        other => other,
    }
}

/// A step whose object turned out to be gone already did its job.
fn unless_gone(r: Result<(), AwsError>) -> Result<(), AwsError> {
    match r {
        Err(e) if gone(&e) => Ok(()),
        other => other,
    }
}

/// Which kind of target an action is meant for.
fn target_kind(action: &Action) -> Kind {
    match action {
        Action::DeleteAutoScalingGroup => Kind::AutoScalingGroup,
        Action::CancelSpotFleet => Kind::SpotFleet,
        Action::DeleteEc2Fleet => Kind::Ec2Fleet,
        Action::CancelSpotRequest => Kind::SpotRequest,
        Action::DisableTerminationProtection | Action::TerminateInstance => Kind::Instance,
        Action::DeleteLaunchTemplate => Kind::LaunchTemplate,
        Action::DeleteFunction => Kind::Function,
        Action::DeleteLightsailInstance => Kind::Lightsail,
        Action::DeleteKeyPair => Kind::KeyPair,
        Action::DeleteSecurityGroup => Kind::SecurityGroup,
        Action::UnshareSnapshot => Kind::Snapshot,
        Action::UnshareImage => Kind::Image,
        Action::DeleteLoginProfile
        | Action::DeleteAccessKey(_)
        | Action::DeleteSigningCertificate(_)
        | Action::DeleteSshPublicKey(_)
        | Action::DeleteServiceSpecificCredential(_)
        | Action::RemoveMfaDevice(_)
        | Action::DeleteUserPolicy(_)
        | Action::DetachUserPolicy(_)
        | Action::RemoveUserFromGroup(_)
        | Action::DeleteUser => Kind::User,
        Action::DeleteRolePolicy(_)
        | Action::DetachRolePolicy(_)
        | Action::RemoveRoleFromInstanceProfile(_)
        | Action::DeleteRole => Kind::Role,
        Action::DeletePolicy => Kind::Policy,
        Action::DeleteOidcProvider => Kind::OidcProvider,
        Action::DeleteSamlProvider => Kind::SamlProvider,
    }
}

/// Carries out one removal call on its target (in the target's region) and says in a few
/// past-tense words what happened. A target that is already gone counts as done
/// ([`ALREADY_GONE`]). An action meant for another kind of resource is refused unsent.
pub async fn perform(aws: &Aws, target: &ResourceRef, action: &Action) -> Result<String, AwsError> {
    let expected = target_kind(action);
    if target.kind != expected {
        return Err(AwsError::other(format!(
            "refused: \"{action}\" applies to a {expected}, not to {target}"
        )));
    }
    let region = target.region.as_str();
    let id = target.id.as_str();
    match action {
        Action::DeleteAutoScalingGroup => settle(
            aws.autoscaling_in(region)
                .delete_auto_scaling_group()
                .auto_scaling_group_name(id)
                .force_delete(true)
                .send()
                .await
                .map(|_| format!("force-deleted group {id} (its instances are terminating)"))
                .map_err(|e| AwsError::from_sdk(action.call(), &e)),
        ),
        Action::CancelSpotFleet => cancel_spot_fleet(aws, region, id).await,
        Action::DeleteEc2Fleet => delete_ec2_fleet(aws, region, id).await,
        Action::CancelSpotRequest => settle(
            aws.ec2_in(region)
                .cancel_spot_instance_requests()
                .spot_instance_request_ids(id)
                .send()
                .await
                .map(|o| {
                    let state = o
                        .cancelled_spot_instance_requests()
                        .iter()
                        .find_map(|c| c.state())
                        .map_or("cancelled", |s| s.as_str());
                    format!("cancelled spot request {id} ({state})")
                })
                .map_err(|e| AwsError::from_sdk(action.call(), &e)),
        ),
        Action::DisableTerminationProtection => settle(
            aws.ec2_in(region)
                .modify_instance_attribute()
                .instance_id(id)
                .disable_api_termination(
                    aws_sdk_ec2::types::AttributeBooleanValue::builder()
                        .value(false)
                        .build(),
                )
                .send()
                .await
                .map(|_| format!("turned termination protection off for {id}"))
                .map_err(|e| AwsError::from_sdk(action.call(), &e)),
        ),
        Action::TerminateInstance => settle(
            aws.ec2_in(region)
                .terminate_instances()
                .instance_ids(id)
                .send()
                .await
                .map(|o| {
                    let state = o
                        .terminating_instances()
                        .iter()
                        .find_map(|c| c.current_state().and_then(|s| s.name()))
                        .map_or("shutting-down", |s| s.as_str());
                    format!("terminated {id} ({state})")
                })
                .map_err(|e| AwsError::from_sdk(action.call(), &e)),
        ),
        Action::DeleteLaunchTemplate => settle(
            aws.ec2_in(region)
                .delete_launch_template()
                .launch_template_id(id)
                .send()
                .await
                .map(|_| format!("deleted launch template {id}"))
                .map_err(|e| AwsError::from_sdk(action.call(), &e)),
        ),
        Action::DeleteFunction => settle(
            aws.lambda_in(region)
                .delete_function()
                .function_name(id)
                .send()
                .await
                .map(|_| format!("deleted function {id}"))
                .map_err(|e| AwsError::from_sdk(action.call(), &e)),
        ),
        Action::DeleteLightsailInstance => settle(
            aws.lightsail_in(region)
                .delete_instance()
                .instance_name(id)
                .send()
                .await
                .map(|_| format!("deleted Lightsail instance {id}"))
                .map_err(|e| AwsError::from_sdk(action.call(), &e)),
        ),
        Action::DeleteKeyPair => settle(
            aws.ec2_in(region)
                .delete_key_pair()
                .key_name(id)
                .send()
                .await
                .map(|_| format!("deleted key pair {id}"))
                .map_err(|e| AwsError::from_sdk(action.call(), &e)),
        ),
        Action::DeleteSecurityGroup => settle(
            aws.ec2_in(region)
                .delete_security_group()
                .group_id(id)
                .send()
                .await
                .map(|_| format!("deleted security group {id}"))
                .map_err(|e| AwsError::from_sdk(action.call(), &e)),
        ),
        Action::UnshareSnapshot => settle(unshare_snapshot(aws, region, id).await),
        Action::UnshareImage => settle(unshare_image(aws, region, id).await),
        Action::DeleteUser => delete_user(aws, id).await,
        Action::DeleteRole => delete_role(aws, id).await,
        Action::DeletePolicy => delete_policy(aws, id).await,
        Action::DeleteOidcProvider => settle(
            aws.iam
                .delete_open_id_connect_provider()
                .open_id_connect_provider_arn(id)
                .send()
                .await
                .map(|_| format!("deleted OIDC provider {id}"))
                .map_err(|e| AwsError::from_sdk(action.call(), &e)),
        ),
        Action::DeleteSamlProvider => settle(
            aws.iam
                .delete_saml_provider()
                .saml_provider_arn(id)
                .send()
                .await
                .map(|_| format!("deleted SAML provider {id}"))
                .map_err(|e| AwsError::from_sdk(action.call(), &e)),
        ),
        step => settle(principal_step(aws, id, step).await),
    }
}

async fn cancel_spot_fleet(aws: &Aws, region: &str, id: &str) -> Result<String, AwsError> {
    let call = "ec2:CancelSpotFleetRequests";
    let out = aws
        .ec2_in(region)
        .cancel_spot_fleet_requests()
        .spot_fleet_request_ids(id)
        .terminate_instances(true)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(call, &e));
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
        if code.contains("DoesNotExist") {
            return Ok(ALREADY_GONE.to_string());
        }
        let message = fail.error().and_then(|e| e.message()).unwrap_or_default();
        return Err(
            AwsError::other(format!("{call}: {code}: {message}").trim_end())
                .with_code(code.clone()),
        );
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

async fn delete_ec2_fleet(aws: &Aws, region: &str, id: &str) -> Result<String, AwsError> {
    let call = "ec2:DeleteFleets";
    let out = aws
        .ec2_in(region)
        .delete_fleets()
        .fleet_ids(id)
        .terminate_instances(true)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk(call, &e));
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
        if code.contains("DoesNotExist") {
            return Ok(ALREADY_GONE.to_string());
        }
        let message = fail.error().and_then(|e| e.message()).unwrap_or_default();
        return Err(
            AwsError::other(format!("{call}: {code}: {message}").trim_end())
                .with_code(code.clone()),
        );
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
async fn unshare_snapshot(aws: &Aws, region: &str, id: &str) -> Result<String, AwsError> {
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
    call.send()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:ModifySnapshotAttribute", &e))?;
    Ok(format!(
        "stopped sharing snapshot {id} with {}",
        audience(everyone, &accounts)
    ))
}

/// Removes every `launchPermission` entry (everyone, accounts, organizations, OUs).
async fn unshare_image(aws: &Aws, region: &str, id: &str) -> Result<String, AwsError> {
    let ec2 = aws.ec2_in(region);
    let (mut everyone, accounts) = image_permissions(&ec2, id).await?;
    let public = ec2
        .describe_images()
        .image_ids(id)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ec2:DescribeImages", &e))?
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
        .map_err(|e| AwsError::from_sdk("ec2:ModifyImageAttribute", &e))?;
    Ok(format!(
        "stopped sharing image {id} with {}",
        audience(everyone, &accounts)
    ))
}

/// One removal step on a user or role (`principal` is its name).
async fn principal_step(aws: &Aws, principal: &str, step: &Action) -> Result<String, AwsError> {
    let iam = &aws.iam;
    let call = step.call();
    let user = principal;
    match step {
        Action::DeleteLoginProfile => iam
            .delete_login_profile()
            .user_name(user)
            .send()
            .await
            .map(|_| format!("deleted the console password of {user}"))
            .map_err(|e| AwsError::from_sdk(call, &e)),
        Action::DeleteAccessKey(k) => iam
            .delete_access_key()
            .user_name(user)
            .access_key_id(k)
            .send()
            .await
            .map(|_| format!("deleted access key {k}"))
            .map_err(|e| AwsError::from_sdk(call, &e)),
        Action::DeleteSigningCertificate(c) => iam
            .delete_signing_certificate()
            .user_name(user)
            .certificate_id(c)
            .send()
            .await
            .map(|_| format!("deleted signing certificate {c}"))
            .map_err(|e| AwsError::from_sdk(call, &e)),
        Action::DeleteSshPublicKey(k) => iam
            .delete_ssh_public_key()
            .user_name(user)
            .ssh_public_key_id(k)
            .send()
            .await
            .map(|_| format!("deleted SSH public key {k}"))
            .map_err(|e| AwsError::from_sdk(call, &e)),
        Action::DeleteServiceSpecificCredential(c) => {
            let id = credential_id(c);
            iam.delete_service_specific_credential()
                .user_name(user)
                .service_specific_credential_id(id)
                .send()
                .await
                .map(|_| format!("deleted service-specific credential {id}"))
                .map_err(|e| AwsError::from_sdk(call, &e))
        }
        Action::RemoveMfaDevice(serial) => remove_mfa_device(aws, user, serial).await,
        Action::DeleteUserPolicy(p) => iam
            .delete_user_policy()
            .user_name(user)
            .policy_name(p)
            .send()
            .await
            .map(|_| format!("deleted inline policy {p}"))
            .map_err(|e| AwsError::from_sdk(call, &e)),
        Action::DetachUserPolicy(p) => iam
            .detach_user_policy()
            .user_name(user)
            .policy_arn(p)
            .send()
            .await
            .map(|_| format!("detached policy {p}"))
            .map_err(|e| AwsError::from_sdk(call, &e)),
        Action::RemoveUserFromGroup(g) => iam
            .remove_user_from_group()
            .user_name(user)
            .group_name(g)
            .send()
            .await
            .map(|_| format!("removed {user} from group {g}"))
            .map_err(|e| AwsError::from_sdk(call, &e)),
        Action::DeleteRolePolicy(p) => iam
            .delete_role_policy()
            .role_name(principal)
            .policy_name(p)
            .send()
            .await
            .map(|_| format!("deleted inline policy {p}"))
            .map_err(|e| AwsError::from_sdk(call, &e)),
        Action::DetachRolePolicy(p) => iam
            .detach_role_policy()
            .role_name(principal)
            .policy_arn(p)
            .send()
            .await
            .map(|_| format!("detached policy {p}"))
            .map_err(|e| AwsError::from_sdk(call, &e)),
        Action::RemoveRoleFromInstanceProfile(p) => iam
            .remove_role_from_instance_profile()
            .role_name(principal)
            .instance_profile_name(p)
            .send()
            .await
            .map(|_| format!("removed {principal} from instance profile {p}"))
            .map_err(|e| AwsError::from_sdk(call, &e)),
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
        .map_err(|e| AwsError::from_sdk("iam:DeactivateMFADevice", &e));
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
        .map_err(|e| AwsError::from_sdk("iam:DeleteVirtualMFADevice", &e))
    {
        Ok(_) if was_active => Ok(format!(
            "deactivated and deleted virtual MFA device {serial}"
        )),
        Ok(_) => Ok(format!("deleted virtual MFA device {serial}")),
        Err(e) if gone(&e) && was_active => Ok(format!("deactivated MFA device {serial}")),
        Err(e) => Err(e),
    }
}

/// "2 access keys", "1 group membership".
fn counted(n: usize, one: &str, many: &str) -> Option<String> {
    match n {
        0 => None,
        1 => Some(format!("1 {one}")),
        _ => Some(format!("{n} {many}")),
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
            other => principal_step(aws, principal, other).await,
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
async fn delete_user(aws: &Aws, user: &str) -> Result<String, AwsError> {
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
async fn delete_role(aws: &Aws, role: &str) -> Result<String, AwsError> {
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
        .map_err(|e| AwsError::from_sdk("iam:DeleteRole", &e))?;
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

/// Detaches a customer managed policy from every user, group and role, deletes its
/// non-default versions, then the policy.
async fn delete_policy(aws: &Aws, arn: &str) -> Result<String, AwsError> {
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
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("iam:DetachUserPolicy", &e));
        unless_gone(r).map_err(|e| fail(format!("detach it from user {u}"), e))?;
    }
    for g in &groups {
        let r = iam
            .detach_group_policy()
            .group_name(g)
            .policy_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("iam:DetachGroupPolicy", &e));
        unless_gone(r).map_err(|e| fail(format!("detach it from group {g}"), e))?;
    }
    for ro in &roles {
        let r = iam
            .detach_role_policy()
            .role_name(ro)
            .policy_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("iam:DetachRolePolicy", &e));
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
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("iam:DeletePolicyVersion", &e));
        unless_gone(r).map_err(|e| fail(format!("delete version {v}"), e))?;
    }
    unless_gone(
        iam.delete_policy()
            .policy_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("iam:DeletePolicy", &e)),
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

// ---------------------------------------------------------------------------------------------
// Read-back
// ---------------------------------------------------------------------------------------------

/// `Ok(answer)` for a read that worked, `Ok(false)` when the read says it is not there.
fn present<T>(got: Result<T, AwsError>, still: impl FnOnce(T) -> bool) -> Result<bool, AwsError> {
    match got {
        Ok(v) => Ok(still(v)),
        Err(e) if gone(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether the target is still there, read back after a removal. An instance that is
/// shutting down or terminated, a group being deleted, a cancelled request or fleet, and a
/// deregistered image all count as gone.
pub async fn exists(aws: &Aws, target: &ResourceRef) -> Result<bool, AwsError> {
    let region = target.region.as_str();
    let id = target.id.as_str();
    match target.kind {
        Kind::Instance => present(
            aws.ec2_in(region)
                .describe_instances()
                .instance_ids(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ec2:DescribeInstances", &e)),
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
        ),
        Kind::AutoScalingGroup => present(
            aws.autoscaling_in(region)
                .describe_auto_scaling_groups()
                .auto_scaling_group_names(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("autoscaling:DescribeAutoScalingGroups", &e)),
            |o| {
                o.auto_scaling_groups().iter().any(|g| {
                    g.auto_scaling_group_name() == Some(id)
                        && !g.status().is_some_and(|s| s.starts_with("Delete"))
                })
            },
        ),
        Kind::SpotFleet => present(
            aws.ec2_in(region)
                .describe_spot_fleet_requests()
                .spot_fleet_request_ids(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ec2:DescribeSpotFleetRequests", &e)),
            |o| {
                o.spot_fleet_request_configs().iter().any(|c| {
                    c.spot_fleet_request_id() == Some(id)
                        && !c.spot_fleet_request_state().is_some_and(|s| {
                            s.as_str().starts_with("cancelled") || s.as_str() == "failed"
                        })
                })
            },
        ),
        Kind::Ec2Fleet => present(
            aws.ec2_in(region)
                .describe_fleets()
                .fleet_ids(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ec2:DescribeFleets", &e)),
            |o| {
                o.fleets().iter().any(|f| {
                    f.fleet_id() == Some(id)
                        && !f.fleet_state().is_some_and(|s| {
                            s.as_str().starts_with("deleted") || s.as_str() == "failed"
                        })
                })
            },
        ),
        Kind::SpotRequest => present(
            aws.ec2_in(region)
                .describe_spot_instance_requests()
                .spot_instance_request_ids(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ec2:DescribeSpotInstanceRequests", &e)),
            |o| {
                o.spot_instance_requests().iter().any(|r| {
                    r.spot_instance_request_id() == Some(id)
                        && matches!(r.state().map(|s| s.as_str()), Some("open" | "active"))
                })
            },
        ),
        Kind::LaunchTemplate => present(
            aws.ec2_in(region)
                .describe_launch_templates()
                .launch_template_ids(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ec2:DescribeLaunchTemplates", &e)),
            |o| {
                o.launch_templates()
                    .iter()
                    .any(|t| t.launch_template_id() == Some(id))
            },
        ),
        Kind::Function => present(
            aws.lambda_in(region)
                .get_function()
                .function_name(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("lambda:GetFunction", &e)),
            |_| true,
        ),
        Kind::Lightsail => present(
            aws.lightsail_in(region)
                .get_instance()
                .instance_name(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("lightsail:GetInstance", &e)),
            |_| true,
        ),
        Kind::KeyPair => present(
            aws.ec2_in(region)
                .describe_key_pairs()
                .key_names(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ec2:DescribeKeyPairs", &e)),
            |o| o.key_pairs().iter().any(|k| k.key_name() == Some(id)),
        ),
        Kind::SecurityGroup => present(
            aws.ec2_in(region)
                .describe_security_groups()
                .group_ids(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ec2:DescribeSecurityGroups", &e)),
            |o| o.security_groups().iter().any(|g| g.group_id() == Some(id)),
        ),
        Kind::Snapshot => present(
            aws.ec2_in(region)
                .describe_snapshots()
                .snapshot_ids(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ec2:DescribeSnapshots", &e)),
            |o| o.snapshots().iter().any(|s| s.snapshot_id() == Some(id)),
        ),
        Kind::Image => present(
            aws.ec2_in(region)
                .describe_images()
                .image_ids(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("ec2:DescribeImages", &e)),
            |o| {
                o.images().iter().any(|i| {
                    i.image_id() == Some(id)
                        && i.state().map(|s| s.as_str()) != Some("deregistered")
                })
            },
        ),
        Kind::User => present(
            aws.iam
                .get_user()
                .user_name(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("iam:GetUser", &e)),
            |_| true,
        ),
        Kind::Role => present(
            aws.iam
                .get_role()
                .role_name(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("iam:GetRole", &e)),
            |_| true,
        ),
        Kind::Policy => present(
            aws.iam
                .get_policy()
                .policy_arn(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("iam:GetPolicy", &e)),
            |_| true,
        ),
        Kind::OidcProvider => present(
            aws.iam
                .get_open_id_connect_provider()
                .open_id_connect_provider_arn(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("iam:GetOpenIDConnectProvider", &e)),
            |_| true,
        ),
        Kind::SamlProvider => present(
            aws.iam
                .get_saml_provider()
                .saml_provider_arn(id)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("iam:GetSAMLProvider", &e)),
            |_| true,
        ),
        Kind::Tagged => {
            // Only the ARN's resource part is known: look for it among the region's tagged
            // resources.
            let home = if region == GLOBAL {
                aws.region()
            } else {
                region.to_string()
            };
            let all = aws
                .tagging_in(&home)
                .get_resources()
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| AwsError::from_sdk("tag:GetResources", &e))?;
            Ok(all.iter().any(|m| {
                m.resource_arn()
                    .and_then(arn_parts)
                    .is_some_and(|(_, _, res)| res == id)
            }))
        }
    }
}

// ---------------------------------------------------------------------------------------------

/// Times as AWS writes them in strings: RFC 3339 (`2024-05-01T10:00:00.000Z`), or with an
/// offset without a colon (`2024-05-01T10:00:00.000+0000`, Lambda's `LastModified`).
fn parse_time(s: &str) -> Option<Timestamp> {
    use time::format_description::well_known::Rfc3339;
    let s = s.trim();
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.to_offset(time::UtcOffset::UTC));
    }
    let n = s.len();
    let b = s.as_bytes();
    if n > 5 && matches!(b[n - 5], b'+' | b'-') && b[n - 4..].iter().all(u8::is_ascii_digit) {
        let fixed = format!("{}:{}", &s[..n - 2], &s[n - 2..]);
        return time::OffsetDateTime::parse(&fixed, &Rfc3339)
            .ok()
            .map(|t| t.to_offset(time::UtcOffset::UTC));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_both_aws_spellings() {
        let a = parse_time("2019-10-24T17:46:18.154+0000").map(|t| t.unix_timestamp());
        let b = parse_time("2019-10-24T17:46:18.154Z").map(|t| t.unix_timestamp());
        assert_eq!(a, Some(1_571_939_178));
        assert_eq!(a, b);
        assert_eq!(
            parse_time("2026-11-22T22:23:14.100672000Z").map(|t| t.unix_timestamp()),
            Some(1_795_386_194)
        );
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn arns_split_into_service_region_and_resource() {
        assert_eq!(
            arn_parts("arn:aws:ec2:us-east-1:123456789012:instance/i-0abc"),
            Some(("ec2", "us-east-1", "instance/i-0abc"))
        );
        assert_eq!(arn_parts("arn:aws:s3:::loot"), Some(("s3", "", "loot")));
        assert_eq!(arn_parts("not-an-arn"), None);
        assert_eq!(resource_tail("instance/i-0abc"), "i-0abc");
        assert_eq!(resource_tail("function:steal"), "steal");
        assert_eq!(
            resource_tail("autoScalingGroup:uuid:autoScalingGroupName/miner"),
            "miner"
        );
        assert_eq!(resource_type("ec2", "instance/i-0abc"), "ec2:instance");
        assert_eq!(resource_type("lambda", "function:steal"), "lambda:function");
        assert_eq!(resource_type("s3", "loot"), "s3:bucket");
    }

    #[test]
    fn not_found_codes_count_as_gone() {
        let e = |code: &str, text: &str| AwsError::other(text).with_code(code);
        assert!(gone(&e("InvalidInstanceID.NotFound", "x")));
        assert!(gone(&e("InvalidLaunchTemplateName.NotFoundException", "x")));
        assert!(gone(&e(
            "ValidationError",
            "autoscaling:DeleteAutoScalingGroup: ValidationError: AutoScalingGroup name not found"
        )));
        assert!(!gone(&e("ValidationError", "bad parameter")));
        assert!(!gone(&e("OperationNotPermitted", "protected")));
        assert!(gone(
            &AwsError::new(ErrorKind::NotFound, String::new()).with_code("NoSuchEntity")
        ));
    }

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

    fn res(kind: Kind, id: &str) -> Resource {
        Resource::new(kind, "us-east-1", id)
    }

    #[test]
    fn tagged_entries_fold_into_direct_resources() {
        let mut direct = vec![res(Kind::Instance, "i-1"), {
            let mut f = res(Kind::Function, "steal");
            f.arn = Some("arn:aws:lambda:us-east-1:1:function:steal".into());
            f
        }];
        direct[0].tags.push(("Name".into(), "web".into()));
        let tagged = |arn: &str, region: &str| {
            let (service, _, r) = arn_parts(arn).unwrap_or(("", "", ""));
            let mut t = Resource::new(Kind::Tagged, region, r);
            t.arn = Some(arn.into());
            t.tags.push(("owner".into(), "mallory".into()));
            t.details.push(("type".into(), resource_type(service, r)));
            t
        };
        let covered: HashSet<&'static str> = [Kind::Instance, Kind::Function]
            .into_iter()
            .filter_map(tagging_type)
            .collect();
        let kept = merge_tagged(
            &mut direct,
            vec![
                tagged("arn:aws:ec2:us-east-1:1:instance/i-1", "us-east-1"),
                tagged("arn:aws:lambda:us-east-1:1:function:steal", "us-east-1"),
                tagged("arn:aws:s3:::loot", GLOBAL),
                // Same id, another service: not the instance.
                tagged("arn:aws:sqs:us-east-1:1:i-1", "us-east-1"),
                // An instance the direct listing no longer has (terminated): dropped.
                tagged("arn:aws:ec2:us-east-1:1:instance/i-gone", "us-east-1"),
            ],
            &covered,
        );
        assert_eq!(kept, 2);
        assert_eq!(direct.len(), 4);
        assert!(direct.iter().all(|r| !r.id.contains("i-gone")));
        // When instances could not be listed, the tagging API's word is all there is.
        let mut alone = Vec::new();
        let kept = merge_tagged(
            &mut alone,
            vec![tagged(
                "arn:aws:ec2:us-east-1:1:instance/i-gone",
                "us-east-1",
            )],
            &HashSet::new(),
        );
        assert_eq!(kept, 1);
        assert_eq!(direct[0].tag("owner"), Some("mallory"));
        assert_eq!(direct[0].tag("Name"), Some("web"));
        assert_eq!(
            direct[0].arn.as_deref(),
            Some("arn:aws:ec2:us-east-1:1:instance/i-1")
        );
        assert_eq!(direct[1].tag("owner"), Some("mallory"));
        assert!(direct[2..].iter().all(|r| r.kind == Kind::Tagged));
    }

    #[test]
    fn launchers_and_instances_point_at_each_other() {
        let mut spot = res(Kind::SpotRequest, "sir-1");
        spot.related
            .push(reference(Kind::Instance, "us-east-1", "i-1"));
        let mut group = res(Kind::AutoScalingGroup, "miners");
        group.related.push(reference(
            Kind::LaunchTemplate,
            "us-east-1",
            "miner-template",
        ));
        let mut inst = res(Kind::Instance, "i-2");
        inst.related
            .push(reference(Kind::AutoScalingGroup, "us-east-1", "miners"));
        let mut lt = res(Kind::LaunchTemplate, "lt-9");
        lt.name = "miner-template".into();
        let mut all = vec![spot, group, res(Kind::Instance, "i-1"), inst, lt];
        link(&mut all);
        assert!(
            all[2]
                .related
                .contains(&reference(Kind::SpotRequest, "us-east-1", "sir-1"))
        );
        assert!(
            all[1]
                .related
                .contains(&reference(Kind::Instance, "us-east-1", "i-2"))
        );
        assert!(
            all[1]
                .related
                .contains(&reference(Kind::LaunchTemplate, "us-east-1", "lt-9"))
        );
    }

    #[test]
    fn region_less_tagged_resources_are_kept_once() {
        let bucket = || {
            let mut b = Resource::new(Kind::Tagged, GLOBAL, "loot");
            b.arn = Some("arn:aws:s3:::loot".into());
            b
        };
        let mut seen = HashSet::new();
        let mut a = RegionSweep {
            region: "us-east-1".into(),
            resources: vec![bucket()],
            cells: vec![(Kind::Tagged.label(), CellState::Ok(1))],
        };
        let mut b = RegionSweep {
            region: "eu-west-1".into(),
            resources: vec![bucket()],
            cells: vec![(Kind::Tagged.label(), CellState::Ok(1))],
        };
        drop_repeated_globals(&mut a, &mut seen);
        drop_repeated_globals(&mut b, &mut seen);
        assert_eq!(a.resources.len(), 1);
        assert!(b.resources.is_empty());
        assert_eq!(b.cells[0].1, CellState::Ok(0));
    }

    #[test]
    fn actions_are_refused_on_the_wrong_kind() {
        assert_eq!(target_kind(&Action::TerminateInstance), Kind::Instance);
        assert_eq!(
            target_kind(&Action::DeleteAccessKey("k".into())),
            Kind::User
        );
        assert_eq!(
            target_kind(&Action::DetachRolePolicy("p".into())),
            Kind::Role
        );
        assert_eq!(credential_id("codecommit.amazonaws.com:ACCA1"), "ACCA1");
        assert_eq!(credential_id("ACCA1"), "ACCA1");
    }
}
