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
//!
//! This file holds the sweep and the three per-kind tables: `list` (a kind's lister),
//! [`perform`] (an action's removal) and [`exists`] (a kind's read-back). Each is an
//! exhaustive `match`, so a new [`Kind`] or [`Action`] does not compile until it has all three.
//! The work itself is in one file per service: `ec2`, `fleets`, `images`, `autoscaling`,
//! `lambda`, `lightsail`, `iam` (listing and the policy and providers' removal), `principals`
//! (a user's or role's parts and their removal) and `tagging`; `remove` holds what every
//! removal shares.

use std::collections::{HashMap, HashSet};
use std::future::Future;

use futures_util::future::{self, BoxFuture, FutureExt, Shared};
use futures_util::stream::{self, FuturesUnordered, StreamExt};

use crate::{Aws, AwsError};
use keyspill_core::domain::Timestamp;
use keyspill_core::resources::{
    Action, CellState, GLOBAL, Kind, RegionSweep, Resource, ResourceRef,
};

/// Every item of a paginated listing, the error translated once:
/// `every!(client.describe_x().filters(..), "ec2:DescribeX")`.
macro_rules! every {
    ($request:expr, $call:expr) => {
        $request
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| $crate::error::failure($call, &e))
    };
}

mod autoscaling;
pub(crate) mod ec2;
mod fleets;
pub(crate) mod iam;
mod images;
mod isolate;
mod lambda;
mod lightsail;
mod principals;
mod remove;
mod tagging;

pub use isolate::ISOLATION_GROUP;
pub use principals::principal_parts;
use remove::settle;

/// How many per-resource reads (termination protection, sharing, fleet members) run at once
/// within one kind of one region.
pub const DETAIL_CONCURRENCY: usize = 8;

/// The detail a removal returns when the resource was not there any more.
pub const ALREADY_GONE: &str = "already gone";

/// The label of the cell that stands for a whole region whose sweep task died.
const SWEEP_CELL: &str = "sweep";

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
// The sweep
// ---------------------------------------------------------------------------------------------

/// Everything regional in one region: every kind fetched at once, each filling its cell. A
/// failure in one kind shows in its cell and never hides the others.
pub async fn sweep_region(aws: &Aws, region: &str) -> RegionSweep {
    sweep_region_with(aws, region, account_id(aws)).await
}

/// The Lambda functions of one region (the footholds command asks only this of a region).
pub async fn functions_in(aws: &Aws, region: &str) -> Result<Vec<Resource>, AwsError> {
    lambda::functions(aws, region).await
}

/// Lists `kinds` at `at`, all at once, in the order given.
async fn list_all(at: &Place, kinds: impl Iterator<Item = Kind>) -> Vec<(Kind, Found)> {
    future::join_all(kinds.map(|kind| list(kind, at).map(move |found| (kind, found)))).await
}

async fn sweep_region_with(aws: &Aws, region: &str, account: AccountId) -> RegionSweep {
    let at = Place {
        aws: aws.clone(),
        region: region.to_string(),
        ec2: aws.ec2_in(region),
        account,
    };
    let found = list_all(&at, Kind::ALL.into_iter().filter(|k| !k.is_global())).await;

    let mut sweep = RegionSweep {
        region: region.to_string(),
        ..RegionSweep::default()
    };
    // Kinds listed directly and completely in this sweep: a tagged entry of such a kind
    // that matches nothing listed is a resource that no longer exists (the tagging API keeps
    // returning terminated instances for a while), not one keyspill missed.
    let covered: HashSet<&'static str> = found
        .iter()
        .filter(|(_, found)| found.is_ok())
        .filter_map(|(kind, _)| kind.tagging_type())
        .collect();
    let mut tagged_found = None;
    for (kind, found) in found {
        if kind == Kind::Tagged {
            tagged_found = Some(found);
        } else {
            record(&mut sweep, kind, found);
        }
    }
    link(&mut sweep.resources);
    match tagged_found {
        Some(Ok(tagged)) => {
            let kept = tagging::merge_tagged(&mut sweep.resources, tagged, &covered);
            sweep
                .cells
                .push((Kind::Tagged.label(), CellState::Ok(kept)));
        }
        Some(Err(e)) => sweep.cells.push((Kind::Tagged.label(), e)),
        None => {}
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
    let at = Place {
        aws: aws.clone(),
        region: GLOBAL.to_string(),
        ec2: aws.ec2_in(&aws.region()),
        account: future::ready(None).boxed().shared(),
    };
    let mut sweep = RegionSweep {
        region: GLOBAL.to_string(),
        ..RegionSweep::default()
    };
    for (kind, found) in list_all(&at, Kind::ALL.into_iter().filter(|k| k.is_global())).await {
        record(&mut sweep, kind, found);
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

// ---------------------------------------------------------------------------------------------
// What the listings share
// ---------------------------------------------------------------------------------------------

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
        .filter(|(_, r)| r.kind.launches_instances())
        .map(|(n, r)| (r.reference(), n))
        .collect();
    let mut add: Vec<(usize, ResourceRef)> = Vec::new();
    for r in resources.iter() {
        if r.kind.launches_instances() {
            for rel in r.related.iter().filter(|x| x.kind == Kind::Instance) {
                if let Some(&n) = instances.get(&rel.id) {
                    add.push((n, r.reference()));
                }
            }
        } else if r.kind == Kind::Instance {
            for rel in r.related.iter().filter(|x| x.kind.launches_instances()) {
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
        account: None,
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

/// Runs `read` on each `(position, id)`, [`DETAIL_CONCURRENCY`] at a time, and hands back each
/// answer with its position (in no particular order).
async fn per_resource<T, F, Fut>(ids: Vec<(usize, String)>, read: F) -> Vec<(usize, T)>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = T>,
{
    stream::iter(ids)
        .map(|(n, id)| read(id).map(move |got| (n, got)))
        .buffer_unordered(DETAIL_CONCURRENCY)
        .collect()
        .await
}

/// Each resource's position and id, for [`per_resource`].
fn ids(resources: &[Resource]) -> Vec<(usize, String)> {
    resources
        .iter()
        .enumerate()
        .map(|(n, r)| (n, r.id.clone()))
        .collect()
}

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

// ---------------------------------------------------------------------------------------------
// The per-kind tables
// ---------------------------------------------------------------------------------------------

/// Where a sweep is listing: a region (or [`GLOBAL`] for IAM).
struct Place {
    aws: Aws,
    region: String,
    ec2: aws_sdk_ec2::Client,
    account: AccountId,
}

/// What one kind's listing found, or its cell's state when it found nothing.
type Found = Result<Vec<Resource>, CellState>;

/// A listing whose failure is said in its cell.
fn cell<'a>(
    listing: impl Future<Output = Result<Vec<Resource>, AwsError>> + Send + 'a,
) -> BoxFuture<'a, Found> {
    listing
        .map(|found| found.map_err(CellState::Failed))
        .boxed()
}

/// Lists one kind at `at`. Regional kinds are listed in each region, IAM's once (region
/// [`GLOBAL`]); [`Kind::Tagged`] is the tagging API's whole answer, folded into the direct
/// listings by [`sweep_region`].
fn list(kind: Kind, at: &Place) -> BoxFuture<'_, Found> {
    let (aws, region, client) = (&at.aws, at.region.as_str(), &at.ec2);
    match kind {
        Kind::AutoScalingGroup => cell(autoscaling::groups(aws, region)),
        Kind::SpotFleet => cell(fleets::spot_fleets(client, region)),
        Kind::Ec2Fleet => cell(fleets::ec2_fleets(client, region)),
        Kind::SpotRequest => cell(ec2::spot_requests(client, region)),
        Kind::Instance => cell(ec2::instances(client, region)),
        Kind::LaunchTemplate => cell(ec2::launch_templates(client, region)),
        Kind::Function => cell(lambda::functions(aws, region)),
        Kind::Lightsail => lightsail::instances(aws, region).boxed(),
        Kind::KeyPair => cell(ec2::key_pairs(client, region)),
        Kind::SecurityGroup => cell(ec2::security_groups(client, region)),
        Kind::Snapshot => cell(images::snapshots(client, region, at.account.clone())),
        Kind::Image => cell(images::images(client, region)),
        Kind::User => cell(iam::users(aws)),
        Kind::Role => cell(iam::roles(aws)),
        Kind::Policy => cell(iam::policies(aws)),
        Kind::OidcProvider => cell(iam::oidc_providers(aws)),
        Kind::SamlProvider => cell(iam::saml_providers(aws)),
        Kind::Tagged => cell(tagging::tagged(aws, region)),
    }
}

/// Carries out one removal call on its target (in the target's region) and says in a few
/// past-tense words what happened. A target that is already gone counts as done
/// ([`ALREADY_GONE`]). An action meant for another kind of resource is refused unsent.
pub async fn perform(aws: &Aws, target: &ResourceRef, action: &Action) -> Result<String, AwsError> {
    if !action.fits(target.kind) {
        return Err(AwsError::other(format!(
            "refused: \"{action}\" does not apply to {target}"
        )));
    }
    let region = target.region.as_str();
    let id = target.id.as_str();
    match action {
        Action::DeleteAutoScalingGroup => settle(autoscaling::delete_group(aws, region, id).await),
        Action::CancelSpotFleet => fleets::cancel_spot_fleet(aws, region, id).await,
        Action::DeleteEc2Fleet => fleets::delete_ec2_fleet(aws, region, id).await,
        Action::CancelSpotRequest => settle(ec2::cancel_spot_request(aws, region, id).await),
        Action::DisableTerminationProtection => {
            settle(ec2::termination_protection(aws, region, id, false).await)
        }
        Action::TerminateInstance => settle(ec2::terminate(aws, region, id).await),
        Action::DeleteLaunchTemplate => settle(ec2::delete_launch_template(aws, region, id).await),
        Action::DeleteFunction => settle(lambda::delete_function(aws, region, id).await),
        Action::DeleteLightsailInstance => {
            settle(lightsail::delete_instance(aws, region, id).await)
        }
        Action::DeleteKeyPair => settle(ec2::delete_key_pair(aws, region, id).await),
        Action::DeleteSecurityGroup => settle(ec2::delete_security_group(aws, region, id).await),
        Action::UnshareSnapshot => settle(images::unshare_snapshot(aws, region, id).await),
        Action::UnshareImage => settle(images::unshare_image(aws, region, id).await),
        Action::DeleteUser => principals::delete_user(aws, id).await,
        Action::DeleteRole => principals::delete_role(aws, id).await,
        Action::DeletePolicy => iam::delete_policy(aws, id).await,
        Action::DeleteOidcProvider => settle(iam::delete_oidc_provider(aws, id).await),
        Action::DeleteSamlProvider => settle(iam::delete_saml_provider(aws, id).await),
        Action::Keep(_) => Err(AwsError::other(format!(
            "refused: \"{action}\" is carried out by keyspill_aws::evidence::keep"
        ))),
        Action::DetachFromAutoScalingGroup => isolate::detach_from_group(aws, region, id).await,
        Action::IsolateNetwork => isolate::isolate_network(aws, region, id).await,
        Action::DetachInstanceProfile => isolate::detach_instance_profile(aws, region, id).await,
        Action::EnableTerminationProtection => {
            ec2::termination_protection(aws, region, id, true).await
        }
        Action::DeleteLoginProfile
        | Action::DeleteAccessKey(_)
        | Action::DeleteSigningCertificate(_)
        | Action::DeleteSshPublicKey(_)
        | Action::DeleteServiceSpecificCredential(_)
        | Action::RemoveMfaDevice(_)
        | Action::DeleteUserPolicy(_)
        | Action::DetachUserPolicy(_)
        | Action::RemoveUserFromGroup(_)
        | Action::DeleteRolePolicy(_)
        | Action::DetachRolePolicy(_)
        | Action::RemoveRoleFromInstanceProfile(_) => {
            settle(principals::remove_part(aws, id, action).await)
        }
    }
}

/// Whether the target is still there, read back after a removal. An instance that is
/// shutting down or terminated, a group being deleted, a cancelled request or fleet, and a
/// deregistered image all count as gone.
pub async fn exists(aws: &Aws, target: &ResourceRef) -> Result<bool, AwsError> {
    let region = target.region.as_str();
    let id = target.id.as_str();
    match target.kind {
        Kind::Instance => ec2::instance_exists(aws, region, id).await,
        Kind::AutoScalingGroup => autoscaling::group_exists(aws, region, id).await,
        Kind::SpotFleet => fleets::spot_fleet_exists(aws, region, id).await,
        Kind::Ec2Fleet => fleets::ec2_fleet_exists(aws, region, id).await,
        Kind::SpotRequest => ec2::spot_request_exists(aws, region, id).await,
        Kind::LaunchTemplate => ec2::launch_template_exists(aws, region, id).await,
        Kind::Function => lambda::function_exists(aws, region, id).await,
        Kind::Lightsail => lightsail::instance_exists(aws, region, id).await,
        Kind::KeyPair => ec2::key_pair_exists(aws, region, id).await,
        Kind::SecurityGroup => ec2::security_group_exists(aws, region, id).await,
        Kind::Snapshot => images::snapshot_exists(aws, region, id).await,
        Kind::Image => images::image_exists(aws, region, id).await,
        Kind::User => iam::user_exists(aws, id).await,
        Kind::Role => iam::role_exists(aws, id).await,
        Kind::Policy => iam::policy_exists(aws, id).await,
        Kind::OidcProvider => iam::oidc_provider_exists(aws, id).await,
        Kind::SamlProvider => iam::saml_provider_exists(aws, id).await,
        Kind::Tagged => tagging::tagged_exists(aws, region, id).await,
    }
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

    fn res(kind: Kind, id: &str) -> Resource {
        Resource::new(kind, "us-east-1", id)
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
        assert_eq!(
            Action::TerminateInstance.target_kind(),
            Some(Kind::Instance)
        );
        assert_eq!(
            Action::DeleteAccessKey("k".into()).target_kind(),
            Some(Kind::User)
        );
        assert_eq!(
            Action::DetachRolePolicy("p".into()).target_kind(),
            Some(Kind::Role)
        );
    }
}
