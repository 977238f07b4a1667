//! The Resources tab's AWS adapter against a real moto server: inventory across regions and
//! IAM, every removal call read back, respawning compute, sharing, the tagging API's
//! duplicates, a service moto lacks (Lightsail) and an endpoint that does not answer.

use crate::common;
use crate::http::{Response, Server};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{
    AllocationStrategy, DefaultTargetCapacityType, FleetLaunchTemplateConfigRequest,
    FleetLaunchTemplateSpecificationRequest, FleetType, InstanceType, LaunchPermission,
    LaunchPermissionModifications, OperationType, RequestLaunchTemplateData,
    RequestSpotLaunchSpecification, ResourceType, SnapshotAttributeName,
    SpotFleetLaunchSpecification, SpotFleetRequestConfigData, TagSpecification,
    TargetCapacitySpecificationRequest,
};
use common::{Moto, aws_root, dead_endpoint};
use keyspill_aws::resources::{self, ALREADY_GONE};
use keyspill_aws::{Aws, ConnectOptions};
use keyspill_core::resources::{
    Action, CellState, GLOBAL, Kind, Parts, RegionSweep, Resource, ResourceRef, Sharing,
};

const AMI: &str = "ami-03cf127a";
const OTHER_ACCOUNT: &str = "111122223333";

// ---- seeding through the SDK ----

fn ec2_tag(key: &str, value: &str) -> aws_sdk_ec2::types::Tag {
    aws_sdk_ec2::types::Tag::builder()
        .key(key)
        .value(value)
        .build()
}

/// Launches one instance named `name`; returns its id.
async fn launch(
    aws: &Aws,
    region: &str,
    name: &str,
    key: Option<&str>,
    group: Option<&str>,
) -> String {
    let out = aws
        .ec2_in(region)
        .run_instances()
        .image_id(AMI)
        .instance_type(InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .set_key_name(key.map(str::to_string))
        .set_security_group_ids(group.map(|g| vec![g.to_string()]))
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::Instance)
                .tags(ec2_tag("Name", name))
                .build(),
        )
        .send()
        .await
        .expect("run instance");
    out.instances()[0]
        .instance_id()
        .expect("instance id")
        .to_string()
}

async fn key_pair(aws: &Aws, region: &str, name: &str) {
    aws.ec2_in(region)
        .create_key_pair()
        .key_name(name)
        .send()
        .await
        .expect("create key pair");
}

async fn security_group(aws: &Aws, region: &str, name: &str) -> String {
    aws.ec2_in(region)
        .create_security_group()
        .group_name(name)
        .description("opened by the attacker")
        .send()
        .await
        .expect("create security group")
        .group_id()
        .expect("group id")
        .to_string()
}

async fn launch_template(aws: &Aws, region: &str, name: &str) -> String {
    aws.ec2_in(region)
        .create_launch_template()
        .launch_template_name(name)
        .launch_template_data(
            RequestLaunchTemplateData::builder()
                .image_id(AMI)
                .instance_type(InstanceType::T3Micro)
                .build(),
        )
        .send()
        .await
        .expect("create launch template")
        .launch_template()
        .and_then(|t| t.launch_template_id())
        .expect("template id")
        .to_string()
}

fn regions(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

// ---- reading sweeps ----

fn of_kind(sweep: &RegionSweep, kind: Kind) -> Vec<&Resource> {
    sweep.resources.iter().filter(|r| r.kind == kind).collect()
}

fn find<'a>(sweep: &'a RegionSweep, kind: Kind, id: &str) -> &'a Resource {
    sweep
        .resources
        .iter()
        .find(|r| r.kind == kind && r.id == id)
        .unwrap_or_else(|| panic!("{kind} {id} not in the sweep of {}", sweep.region))
}

fn cell(sweep: &RegionSweep, kind: Kind) -> &CellState {
    sweep
        .cells
        .iter()
        .find(|(k, _)| *k == kind.label())
        .map(|(_, c)| c)
        .unwrap_or_else(|| panic!("no {kind} cell in {}", sweep.region))
}

fn r(kind: Kind, region: &str, id: &str) -> ResourceRef {
    ResourceRef {
        kind,
        region: region.to_string(),
        id: id.to_string(),
        account: None,
    }
}

fn detail<'a>(res: &'a Resource, key: &str) -> Option<&'a str> {
    res.details
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

async fn perform_ok(aws: &Aws, target: &ResourceRef, action: Action) -> String {
    resources::perform(aws, target, &action)
        .await
        .unwrap_or_else(|e| panic!("{action} on {target}: {e}"))
}

async fn exists(aws: &Aws, target: &ResourceRef) -> bool {
    resources::exists(aws, target)
        .await
        .unwrap_or_else(|e| panic!("read back {target}: {e}"))
}

// ---- inventory ----

#[tokio::test(flavor = "multi_thread")]
async fn one_sweep_finds_instances_in_every_region_with_their_links() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    let names = ["us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"];
    let mut launched = Vec::new();
    for (n, region) in names.iter().enumerate() {
        key_pair(&aws, region, "attacker-key").await;
        let sg = security_group(&aws, region, "open-22").await;
        let id = launch(
            &aws,
            region,
            &format!("miner-{n}"),
            Some("attacker-key"),
            Some(&sg),
        )
        .await;
        launched.push((region.to_string(), id, sg));
    }
    // A terminated instance is history, not something to remove.
    let dead = launch(&aws, "us-east-1", "old", None, None).await;
    aws.ec2_in("us-east-1")
        .terminate_instances()
        .instance_ids(&dead)
        .send()
        .await
        .expect("terminate");

    // The streaming form hands over every region and IAM exactly once.
    let mut arrived = Vec::new();
    resources::sweep_each(&aws, &regions(&names), |s| arrived.push(s.region.clone())).await;
    arrived.sort();
    let mut want: Vec<String> = regions(&names);
    want.push(GLOBAL.to_string());
    want.sort();
    assert_eq!(arrived, want);

    let sweeps = resources::sweep(&aws, &regions(&names)).await;
    let order: Vec<&str> = sweeps.iter().map(|s| s.region.as_str()).collect();
    assert_eq!(
        order,
        [
            "us-east-1",
            "eu-west-1",
            "ap-southeast-2",
            "sa-east-1",
            GLOBAL
        ],
        "regions in the order asked, IAM last"
    );
    for (n, (region, id, sg)) in launched.iter().enumerate() {
        let sweep = &sweeps[n];
        assert_eq!(&sweep.region, region);
        assert_eq!(cell(sweep, Kind::Instance), &CellState::Ok(1), "{region}");
        let inst = find(sweep, Kind::Instance, id);
        assert_eq!(inst.name, format!("miner-{n}"));
        assert_eq!(inst.region, *region);
        assert!(
            inst.state == "running" || inst.state == "pending",
            "{}",
            inst.state
        );
        assert!(inst.created.is_some());
        assert!(!inst.protected);
        assert_eq!(detail(inst, "instance type"), Some("t3.micro"));
        assert_eq!(detail(inst, "image"), Some(AMI));
        assert_eq!(detail(inst, "key pair"), Some("attacker-key"));
        assert_eq!(detail(inst, "lifecycle"), Some("on-demand"));
        assert!(detail(inst, "private IP").is_some());
        assert!(inst.related.contains(&r(Kind::SecurityGroup, region, sg)));
        assert!(
            inst.related
                .contains(&r(Kind::KeyPair, region, "attacker-key"))
        );
        // The instance is tagged, so the tagging API returns it too: still listed once.
        assert_eq!(
            sweep.resources.iter().filter(|x| x.id == *id).count(),
            1,
            "{id} listed once"
        );
        assert!(
            inst.arn
                .as_deref()
                .is_some_and(|a| a.ends_with(&format!(":instance/{id}"))),
            "ARN taken from the tagging API: {:?}",
            inst.arn
        );

        let kp = find(sweep, Kind::KeyPair, "attacker-key");
        assert_eq!(kp.name, "attacker-key");
        assert!(
            detail(kp, "key pair id").is_some_and(|k| k.starts_with("key-")),
            "{:?}",
            kp.details
        );
        let group = find(sweep, Kind::SecurityGroup, sg);
        assert_eq!(group.name, "open-22");
        assert_eq!(detail(group, "description"), Some("opened by the attacker"));
        assert!(detail(group, "vpc").is_some());
        assert!(
            of_kind(sweep, Kind::SecurityGroup)
                .iter()
                .any(|g| g.name == "default"),
            "the VPC's default group is listed as `default`"
        );
        assert!(sweep.errors().next().is_none(), "{:?}", sweep.cells);
    }
    assert!(
        sweeps
            .iter()
            .flat_map(|s| &s.resources)
            .all(|x| x.id != dead),
        "terminated instances are left out"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn termination_protection_is_read_and_must_go_first() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    let region = "eu-central-1";
    let guarded = launch(&aws, region, "guarded", None, None).await;
    let plain = launch(&aws, region, "plain", None, None).await;
    aws.ec2_in(region)
        .modify_instance_attribute()
        .instance_id(&guarded)
        .disable_api_termination(
            aws_sdk_ec2::types::AttributeBooleanValue::builder()
                .value(true)
                .build(),
        )
        .send()
        .await
        .expect("protect");

    let sweep = resources::sweep_region(&aws, region).await;
    assert!(find(&sweep, Kind::Instance, &guarded).protected);
    assert!(!find(&sweep, Kind::Instance, &plain).protected);

    let target = r(Kind::Instance, region, &guarded);
    let refused = resources::perform(&aws, &target, &Action::TerminateInstance)
        .await
        .expect_err("a protected instance cannot be terminated");
    assert_eq!(refused.code.as_deref(), Some("OperationNotPermitted"));
    assert!(exists(&aws, &target).await, "still there after the refusal");

    let off = perform_ok(&aws, &target, Action::DisableTerminationProtection).await;
    assert!(off.contains(&guarded), "{off}");
    let sweep = resources::sweep_region(&aws, region).await;
    assert!(!find(&sweep, Kind::Instance, &guarded).protected);

    let done = perform_ok(&aws, &target, Action::TerminateInstance).await;
    assert!(
        done.starts_with(&format!("terminated {guarded} (")),
        "{done}"
    );
    assert!(!exists(&aws, &target).await, "shutting down counts as gone");
    let sweep = resources::sweep_region(&aws, region).await;
    assert!(sweep.resources.iter().all(|x| x.id != guarded));

    // Unknown instance: nothing to do, and said so.
    let ghost = r(Kind::Instance, region, "i-0123456789abcdef0");
    assert_eq!(
        perform_ok(&aws, &ghost, Action::TerminateInstance).await,
        ALREADY_GONE
    );
    assert!(!exists(&aws, &ghost).await);

    // An action meant for another kind is refused before anything is sent.
    let wrong = resources::perform(
        &aws,
        &r(Kind::Instance, region, &plain),
        &Action::DeleteUser,
    )
    .await
    .expect_err("refused");
    assert!(wrong.text.contains("refused"), "{wrong}");
    assert!(exists(&aws, &r(Kind::Instance, region, &plain)).await);
}

/// Instances of the group still alive (not shutting down or terminated) per a fresh sweep.
async fn live_group_members(aws: &Aws, region: &str, group: &str) -> Vec<String> {
    let sweep = resources::sweep_region(aws, region).await;
    of_kind(&sweep, Kind::Instance)
        .into_iter()
        .filter(|i| {
            i.related
                .contains(&r(Kind::AutoScalingGroup, region, group))
                && i.state != "shutting-down"
        })
        .map(|i| i.id.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_auto_scaling_group_respawns_until_it_is_deleted() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    let region = "us-east-1";
    let template = launch_template(&aws, region, "miner-template").await;
    aws.autoscaling_in(region)
        .create_auto_scaling_group()
        .auto_scaling_group_name("miners")
        .launch_template(
            aws_sdk_autoscaling::types::LaunchTemplateSpecification::builder()
                .launch_template_id(&template)
                .version("$Latest")
                .build(),
        )
        .min_size(1)
        .max_size(3)
        .desired_capacity(2)
        .availability_zones("us-east-1a")
        .send()
        .await
        .expect("create group");

    let sweep = resources::sweep_region(&aws, region).await;
    let group = find(&sweep, Kind::AutoScalingGroup, "miners");
    assert_eq!(group.state, "InService");
    assert!(
        group
            .arn
            .as_deref()
            .is_some_and(|a| a.contains("autoScalingGroupName/miners"))
    );
    assert_eq!(detail(group, "desired"), Some("2"));
    assert_eq!(detail(group, "min"), Some("1"));
    assert_eq!(detail(group, "max"), Some("3"));
    assert!(
        group
            .related
            .contains(&r(Kind::LaunchTemplate, region, &template))
    );
    let members = live_group_members(&aws, region, "miners").await;
    assert_eq!(members.len(), 2, "{members:?}");
    for m in &members {
        assert!(group.related.contains(&r(Kind::Instance, region, m)));
        let inst = find(&sweep, Kind::Instance, m);
        assert!(
            inst.related
                .contains(&r(Kind::LaunchTemplate, region, &template))
        );
    }

    // Terminating an instance of a live group only makes room for a new one.
    perform_ok(
        &aws,
        &r(Kind::Instance, region, &members[0]),
        Action::TerminateInstance,
    )
    .await;
    let after = live_group_members(&aws, region, "miners").await;
    assert_eq!(after.len(), 2, "the group replaced it: {after:?}");
    assert!(!after.contains(&members[0]));

    // The right order: the group (forced), then whatever instances are left.
    let target = r(Kind::AutoScalingGroup, region, "miners");
    let done = perform_ok(&aws, &target, Action::DeleteAutoScalingGroup).await;
    assert!(done.contains("miners"), "{done}");
    assert!(!exists(&aws, &target).await);
    for m in &after {
        perform_ok(
            &aws,
            &r(Kind::Instance, region, m),
            Action::TerminateInstance,
        )
        .await;
    }
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let left = live_group_members(&aws, region, "miners").await;
        assert!(left.is_empty(), "nothing comes back: {left:?}");
    }
    let sweep = resources::sweep_region(&aws, region).await;
    assert!(of_kind(&sweep, Kind::AutoScalingGroup).is_empty());
    assert_eq!(
        perform_ok(&aws, &target, Action::DeleteAutoScalingGroup).await,
        ALREADY_GONE
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn spot_requests_spot_fleets_and_ec2_fleets_are_tied_to_their_instances() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    let region = "us-west-2";
    let ec2 = aws.ec2_in(region);

    let spot = ec2
        .request_spot_instances()
        .instance_count(1)
        .launch_specification(
            RequestSpotLaunchSpecification::builder()
                .image_id(AMI)
                .instance_type(InstanceType::T3Micro)
                .build(),
        )
        .send()
        .await
        .expect("request spot");
    let spot_id = spot.spot_instance_requests()[0]
        .spot_instance_request_id()
        .expect("request id")
        .to_string();

    let fleet = ec2
        .request_spot_fleet()
        .spot_fleet_request_config(
            SpotFleetRequestConfigData::builder()
                .allocation_strategy(AllocationStrategy::LowestPrice)
                .iam_fleet_role("arn:aws:iam::123456789012:role/fleet")
                .target_capacity(2)
                .launch_specifications(
                    SpotFleetLaunchSpecification::builder()
                        .image_id(AMI)
                        .instance_type(InstanceType::T3Micro)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("request spot fleet");
    let fleet_id = fleet.spot_fleet_request_id().expect("fleet id").to_string();

    let template = launch_template(&aws, region, "fleet-template").await;
    let ec2_fleet = ec2
        .create_fleet()
        .r#type(FleetType::Maintain)
        .target_capacity_specification(
            TargetCapacitySpecificationRequest::builder()
                .total_target_capacity(1)
                .default_target_capacity_type(DefaultTargetCapacityType::Spot)
                .build(),
        )
        .launch_template_configs(
            FleetLaunchTemplateConfigRequest::builder()
                .launch_template_specification(
                    FleetLaunchTemplateSpecificationRequest::builder()
                        .launch_template_id(&template)
                        .version("$Latest")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("create fleet");
    let ec2_fleet_id = ec2_fleet.fleet_id().expect("fleet id").to_string();

    let sweep = resources::sweep_region(&aws, region).await;
    assert!(sweep.errors().next().is_none(), "{:?}", sweep.cells);

    let request = find(&sweep, Kind::SpotRequest, &spot_id);
    assert_eq!(request.state, "active");
    assert!(request.created.is_some());
    let spot_instance = request
        .related
        .iter()
        .find(|x| x.kind == Kind::Instance)
        .expect("the request's instance")
        .id
        .clone();
    let inst = find(&sweep, Kind::Instance, &spot_instance);
    assert_eq!(detail(inst, "lifecycle"), Some("spot"));
    assert!(
        inst.related
            .contains(&r(Kind::SpotRequest, region, &spot_id)),
        "the instance points back at its request: {:?}",
        inst.related
    );

    let sf = find(&sweep, Kind::SpotFleet, &fleet_id);
    assert_eq!(sf.state, "active");
    let fleet_members: Vec<String> = sf
        .related
        .iter()
        .filter(|x| x.kind == Kind::Instance)
        .map(|x| x.id.clone())
        .collect();
    assert_eq!(fleet_members.len(), 2, "{:?}", sf.related);
    for m in &fleet_members {
        assert!(find(&sweep, Kind::Instance, m).related.contains(&r(
            Kind::SpotFleet,
            region,
            &fleet_id
        )));
    }

    let ef = find(&sweep, Kind::Ec2Fleet, &ec2_fleet_id);
    assert_eq!(ef.state, "active");
    assert_eq!(detail(ef, "type"), Some("maintain"));
    assert!(
        ef.related
            .contains(&r(Kind::LaunchTemplate, region, &template))
    );
    let ef_members: Vec<String> = ef
        .related
        .iter()
        .filter(|x| x.kind == Kind::Instance)
        .map(|x| x.id.clone())
        .collect();
    assert_eq!(ef_members.len(), 1, "{:?}", ef.related);
    assert!(
        find(&sweep, Kind::Instance, &ef_members[0])
            .related
            .contains(&r(Kind::Ec2Fleet, region, &ec2_fleet_id))
    );
    let lt = find(&sweep, Kind::LaunchTemplate, &template);
    assert_eq!(lt.name, "fleet-template");
    assert!(lt.created.is_some());

    // Cancel the fleet with its instances; delete the EC2 fleet with its instances.
    let target = r(Kind::SpotFleet, region, &fleet_id);
    let done = perform_ok(&aws, &target, Action::CancelSpotFleet).await;
    assert!(done.contains("cancelled spot fleet"), "{done}");
    assert!(!exists(&aws, &target).await);
    let target = r(Kind::Ec2Fleet, region, &ec2_fleet_id);
    let done = perform_ok(&aws, &target, Action::DeleteEc2Fleet).await;
    assert!(done.contains("deleted EC2 fleet"), "{done}");
    assert!(!exists(&aws, &target).await);

    let sweep = resources::sweep_region(&aws, region).await;
    for m in fleet_members.iter().chain(&ef_members) {
        assert!(
            sweep
                .resources
                .iter()
                .filter(|x| x.kind == Kind::Instance && x.id == *m)
                .all(|x| x.state == "shutting-down"),
            "{m} went with its fleet"
        );
    }
    assert!(of_kind(&sweep, Kind::SpotFleet).is_empty());
    assert!(of_kind(&sweep, Kind::Ec2Fleet).is_empty());

    // The spot request: cancelled, then its instance terminated by its own step.
    let target = r(Kind::SpotRequest, region, &spot_id);
    let done = perform_ok(&aws, &target, Action::CancelSpotRequest).await;
    assert!(done.contains(&spot_id), "{done}");
    assert!(!exists(&aws, &target).await);
    perform_ok(
        &aws,
        &r(Kind::Instance, region, &spot_instance),
        Action::TerminateInstance,
    )
    .await;
    assert!(!exists(&aws, &r(Kind::Instance, region, &spot_instance)).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn key_pairs_groups_templates_and_functions_are_listed_and_removed() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    let region = "ap-northeast-1";
    key_pair(&aws, region, "drop-key").await;
    let sg = security_group(&aws, region, "c2-out").await;
    let template = launch_template(&aws, region, "drop-template").await;
    let role_arn = aws
        .iam
        .create_role()
        .role_name("lambda-exec")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .expect("role")
        .role()
        .map(|r| r.arn().to_string())
        .expect("role arn");
    aws.lambda_in(region)
        .create_function()
        .function_name("exfil")
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .role(&role_arn)
        .handler("main.handler")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(
                    b"not really a zip".to_vec(),
                ))
                .build(),
        )
        .send()
        .await
        .expect("create function");

    let sweep = resources::sweep_region(&aws, region).await;
    let kp = find(&sweep, Kind::KeyPair, "drop-key");
    assert!(kp.created.is_some());
    let group = find(&sweep, Kind::SecurityGroup, &sg);
    assert_eq!(group.name, "c2-out");
    let lt = find(&sweep, Kind::LaunchTemplate, &template);
    assert_eq!(lt.name, "drop-template");
    let f = find(&sweep, Kind::Function, "exfil");
    assert!(
        f.arn
            .as_deref()
            .is_some_and(|a| a.ends_with(":function:exfil"))
    );
    assert!(f.created.is_some(), "LastModified parsed");
    assert_eq!(detail(f, "runtime"), Some("python3.12"));
    assert_eq!(detail(f, "handler"), Some("main.handler"));
    assert_eq!(detail(f, "role"), Some(role_arn.as_str()));
    assert!(f.related.contains(&r(Kind::Role, GLOBAL, "lambda-exec")));
    assert_eq!(cell(&sweep, Kind::Function), &CellState::Ok(1));

    let removals = [
        (r(Kind::Function, region, "exfil"), Action::DeleteFunction),
        (
            r(Kind::LaunchTemplate, region, &template),
            Action::DeleteLaunchTemplate,
        ),
        (
            r(Kind::SecurityGroup, region, &sg),
            Action::DeleteSecurityGroup,
        ),
        (r(Kind::KeyPair, region, "drop-key"), Action::DeleteKeyPair),
    ];
    for (target, action) in &removals {
        assert!(exists(&aws, target).await, "{target} there before");
        let done = perform_ok(&aws, target, action.clone()).await;
        assert!(done.contains(&target.id), "{done}");
        assert!(!exists(&aws, target).await, "{target} gone after");
    }
    // A second time finds nothing to remove and says so (EC2 accepts a repeated key pair
    // deletion silently, as AWS does).
    for (target, action) in &removals[..3] {
        assert_eq!(perform_ok(&aws, target, action.clone()).await, ALREADY_GONE);
    }
    let sweep = resources::sweep_region(&aws, region).await;
    assert!(of_kind(&sweep, Kind::Function).is_empty());
    assert!(of_kind(&sweep, Kind::KeyPair).is_empty());
    assert!(of_kind(&sweep, Kind::LaunchTemplate).is_empty());
    assert!(sweep.resources.iter().all(|x| x.id != sg));
}

#[tokio::test(flavor = "multi_thread")]
async fn snapshot_and_image_sharing_is_read_and_revoked() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    let region = "us-east-1";
    let ec2 = aws.ec2_in(region);
    let volume = ec2
        .create_volume()
        .availability_zone("us-east-1a")
        .size(8)
        .send()
        .await
        .expect("volume");
    let snap = ec2
        .create_snapshot()
        .volume_id(volume.volume_id().expect("volume id"))
        .send()
        .await
        .expect("snapshot")
        .snapshot_id()
        .expect("snapshot id")
        .to_string();
    let share_snapshot = |op: OperationType, everyone: bool| {
        let mut call = ec2
            .modify_snapshot_attribute()
            .snapshot_id(&snap)
            .attribute(SnapshotAttributeName::CreateVolumePermission)
            .operation_type(op);
        call = if everyone {
            call.group_names("all")
        } else {
            call.user_ids(OTHER_ACCOUNT)
        };
        call.send()
    };

    let sweep = resources::sweep_region(&aws, region).await;
    let listed = find(&sweep, Kind::Snapshot, &snap);
    assert_eq!(listed.sharing, Sharing::Private);
    assert_eq!(detail(listed, "size"), Some("8 GiB"));
    assert!(listed.created.is_some());
    // Only the account's own snapshots: not the ~1,300 behind moto's public AMIs.
    let own = ec2
        .describe_snapshots()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("owner-id")
                .values("123456789012")
                .build(),
        )
        .send()
        .await
        .expect("own snapshots")
        .snapshots()
        .len();
    assert_eq!(cell(&sweep, Kind::Snapshot), &CellState::Ok(own));

    share_snapshot(OperationType::Add, false)
        .await
        .expect("share with an account");
    let sweep = resources::sweep_region(&aws, region).await;
    assert_eq!(
        find(&sweep, Kind::Snapshot, &snap).sharing,
        Sharing::Accounts(vec![OTHER_ACCOUNT.into()])
    );
    share_snapshot(OperationType::Add, true)
        .await
        .expect("share with everyone");
    let sweep = resources::sweep_region(&aws, region).await;
    assert_eq!(
        find(&sweep, Kind::Snapshot, &snap).sharing,
        Sharing::Public {
            accounts: vec![OTHER_ACCOUNT.into()]
        }
    );
    let target = r(Kind::Snapshot, region, &snap);
    let done = perform_ok(&aws, &target, Action::UnshareSnapshot).await;
    assert!(
        done.contains("everyone") && done.contains(OTHER_ACCOUNT),
        "{done}"
    );
    let sweep = resources::sweep_region(&aws, region).await;
    assert_eq!(
        find(&sweep, Kind::Snapshot, &snap).sharing,
        Sharing::Private
    );
    assert!(exists(&aws, &target).await, "unsharing keeps the snapshot");
    let again = perform_ok(&aws, &target, Action::UnshareSnapshot).await;
    assert!(again.contains("was not shared"), "{again}");

    // An image of an instance, shared with an account and made public.
    let source = launch(&aws, region, "golden", None, None).await;
    let image = ec2
        .create_image()
        .instance_id(&source)
        .name("backdoored-golden")
        .send()
        .await
        .expect("image")
        .image_id()
        .expect("image id")
        .to_string();
    let sweep = resources::sweep_region(&aws, region).await;
    let ami = find(&sweep, Kind::Image, &image);
    assert_eq!(ami.sharing, Sharing::Private);
    assert_eq!(ami.name, "backdoored-golden");
    assert!(ami.created.is_some(), "CreationDate parsed");
    ec2.modify_image_attribute()
        .image_id(&image)
        .launch_permission(
            LaunchPermissionModifications::builder()
                .add(
                    LaunchPermission::builder()
                        .group(aws_sdk_ec2::types::PermissionGroup::All)
                        .build(),
                )
                .add(LaunchPermission::builder().user_id(OTHER_ACCOUNT).build())
                .build(),
        )
        .send()
        .await
        .expect("share image");
    let sweep = resources::sweep_region(&aws, region).await;
    assert_eq!(
        find(&sweep, Kind::Image, &image).sharing,
        Sharing::Public {
            accounts: vec![OTHER_ACCOUNT.into()]
        }
    );
    let target = r(Kind::Image, region, &image);
    perform_ok(&aws, &target, Action::UnshareImage).await;
    let sweep = resources::sweep_region(&aws, region).await;
    assert_eq!(find(&sweep, Kind::Image, &image).sharing, Sharing::Private);
    assert!(exists(&aws, &target).await);
}

// ---- IAM ----

const POLICY_DOC: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const SSH_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDummyKeyForTestsOnly000000000000000000000 mallory@box";

/// A user as an attacker leaves it: two keys, a console password, a group, an inline and an
/// attached customer managed policy, an SSH key and an enabled virtual MFA device. Returns
/// (key ids, MFA serial).
async fn backdoor_user(aws: &Aws, name: &str, policy_arn: &str) -> (Vec<String>, String) {
    let keys = common::user_with_keys(aws, name, 2)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    aws.iam
        .create_login_profile()
        .user_name(name)
        .password("Hunter2-Hunter2!")
        .send()
        .await
        .expect("login profile");
    aws.iam
        .add_user_to_group()
        .user_name(name)
        .group_name("ops")
        .send()
        .await
        .expect("group membership");
    aws.iam
        .put_user_policy()
        .user_name(name)
        .policy_name("inline-admin")
        .policy_document(POLICY_DOC)
        .send()
        .await
        .expect("inline policy");
    aws.iam
        .attach_user_policy()
        .user_name(name)
        .policy_arn(policy_arn)
        .send()
        .await
        .expect("attach policy");
    aws.iam
        .upload_ssh_public_key()
        .user_name(name)
        .ssh_public_key_body(SSH_KEY)
        .send()
        .await
        .expect("ssh key");
    let serial = aws
        .iam
        .create_virtual_mfa_device()
        .virtual_mfa_device_name(format!("{name}-mfa"))
        .send()
        .await
        .expect("virtual mfa")
        .virtual_mfa_device()
        .map(|d| d.serial_number().to_string())
        .expect("serial");
    aws.iam
        .enable_mfa_device()
        .user_name(name)
        .serial_number(&serial)
        .authentication_code1("123456")
        .authentication_code2("654321")
        .send()
        .await
        .expect("enable mfa");
    (keys, serial)
}

async fn customer_policy(aws: &Aws, name: &str) -> String {
    aws.iam
        .create_policy()
        .policy_name(name)
        .policy_document(POLICY_DOC)
        .send()
        .await
        .expect("create policy")
        .policy()
        .and_then(|p| p.arn())
        .expect("policy arn")
        .to_string()
}

async fn virtual_mfa_serials(aws: &Aws) -> Vec<String> {
    aws.iam
        .list_virtual_mfa_devices()
        .send()
        .await
        .expect("virtual mfa devices")
        .virtual_mfa_devices()
        .iter()
        .map(|d| d.serial_number().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backdoor_user_is_read_whole_and_deleted_with_everything_on_it() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    aws.iam
        .create_group()
        .group_name("ops")
        .send()
        .await
        .expect("group");
    let policy = customer_policy(&aws, "backdoor-admin").await;
    let (keys, serial) = backdoor_user(&aws, "backup-svc", &policy).await;

    let iam = resources::sweep_iam(&aws).await;
    assert_eq!(iam.region, GLOBAL);
    let user = find(&iam, Kind::User, "backup-svc");
    assert!(
        user.arn
            .as_deref()
            .is_some_and(|a| a.ends_with(":user/backup-svc"))
    );
    assert!(user.created.is_some());
    let p = find(&iam, Kind::Policy, &policy);
    assert_eq!(p.name, "backdoor-admin");
    assert!(p.created.is_some());
    assert_eq!(
        of_kind(&iam, Kind::Policy).len(),
        1,
        "customer managed policies only"
    );

    let Parts::User(parts) = resources::principal_parts(&aws, Kind::User, "backup-svc").await
    else {
        panic!("a user has user parts");
    };
    assert!(parts.login_profile);
    let mut listed = parts.access_keys.clone();
    listed.sort();
    let mut want = keys.clone();
    want.sort();
    assert_eq!(listed, want);
    assert_eq!(parts.ssh_keys.len(), 1);
    assert!(parts.signing_certificates.is_empty());
    assert_eq!(parts.mfa_devices, vec![serial.clone()]);
    assert_eq!(parts.inline_policies, vec!["inline-admin".to_string()]);
    assert_eq!(parts.attached_policies, vec![policy.clone()]);
    assert_eq!(parts.groups, vec!["ops".to_string()]);
    // moto has no service-specific credentials: that list is unread, the rest is whole.
    assert_eq!(parts.unread.len(), 1, "{:?}", parts.unread);
    assert!(
        parts.unread[0].starts_with("service-specific credentials: "),
        "{:?}",
        parts.unread
    );

    // One action, relying on its own cleanup.
    let target = r(Kind::User, GLOBAL, "backup-svc");
    let done = perform_ok(&aws, &target, Action::DeleteUser).await;
    for part in [
        "console password",
        "2 access keys",
        "1 SSH key",
        "1 MFA device",
        "1 inline policy",
        "1 attached policy",
        "1 group membership",
        "could not list: service-specific credentials",
    ] {
        assert!(done.contains(part), "{part:?} missing from {done:?}");
    }
    let gone = aws
        .iam
        .get_user()
        .user_name("backup-svc")
        .send()
        .await
        .expect_err("the user is gone");
    assert_eq!(
        aws_smithy_types::error::metadata::ProvideErrorMetadata::code(&gone),
        Some("NoSuchEntity")
    );
    assert!(!exists(&aws, &target).await);
    assert!(
        !virtual_mfa_serials(&aws).await.contains(&serial),
        "the virtual MFA device was deleted too"
    );
    let members = aws
        .iam
        .get_group()
        .group_name("ops")
        .send()
        .await
        .expect("group");
    assert!(members.users().is_empty());
    let attachments = aws
        .iam
        .get_policy()
        .policy_arn(&policy)
        .send()
        .await
        .expect("policy")
        .policy()
        .and_then(|p| p.attachment_count());
    assert_eq!(attachments, Some(0));
    assert_eq!(
        perform_ok(&aws, &target, Action::DeleteUser).await,
        ALREADY_GONE
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_can_be_taken_apart_step_by_step() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    aws.iam
        .create_group()
        .group_name("ops")
        .send()
        .await
        .expect("group");
    let policy = customer_policy(&aws, "backdoor-admin").await;
    let (keys, serial) = backdoor_user(&aws, "svc-2", &policy).await;
    let target = r(Kind::User, GLOBAL, "svc-2");
    let Parts::User(parts) = resources::principal_parts(&aws, Kind::User, "svc-2").await else {
        panic!("user parts");
    };

    let mut steps = vec![Action::DeleteLoginProfile];
    steps.extend(keys.iter().cloned().map(Action::DeleteAccessKey));
    steps.extend(
        parts
            .ssh_keys
            .iter()
            .cloned()
            .map(Action::DeleteSshPublicKey),
    );
    steps.push(Action::RemoveMfaDevice(serial.clone()));
    steps.push(Action::DeleteUserPolicy("inline-admin".into()));
    steps.push(Action::DetachUserPolicy(policy.clone()));
    steps.push(Action::RemoveUserFromGroup("ops".into()));
    for step in &steps {
        let done = perform_ok(&aws, &target, step.clone()).await;
        assert_ne!(done, ALREADY_GONE, "{step}");
        // Each step removes something that is then not there to remove.
        assert_eq!(
            perform_ok(&aws, &target, step.clone()).await,
            ALREADY_GONE,
            "{step} twice"
        );
    }
    assert!(!virtual_mfa_serials(&aws).await.contains(&serial));

    let Parts::User(left) = resources::principal_parts(&aws, Kind::User, "svc-2").await else {
        panic!("user parts");
    };
    assert!(!left.login_profile);
    assert!(left.access_keys.is_empty());
    assert!(left.ssh_keys.is_empty());
    assert!(left.mfa_devices.is_empty());
    assert!(left.inline_policies.is_empty());
    assert!(left.attached_policies.is_empty());
    assert!(left.groups.is_empty());
    assert!(
        exists(&aws, &target).await,
        "the user itself is still there"
    );

    let done = perform_ok(&aws, &target, Action::DeleteUser).await;
    assert!(done.starts_with("deleted user svc-2"), "{done}");
    assert!(!done.contains("after removing"), "nothing was left: {done}");
    assert!(!exists(&aws, &target).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn roles_policies_and_identity_providers_are_listed_and_deleted() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"sts:AssumeRole"}]}"#;
    aws.iam
        .create_role()
        .role_name("cross-account-admin")
        .assume_role_policy_document(trust)
        .send()
        .await
        .expect("role");
    aws.iam
        .create_role()
        .role_name("AWSServiceRoleForSupport")
        .path("/aws-service-role/support.amazonaws.com/")
        .assume_role_policy_document(trust)
        .send()
        .await
        .expect("service-linked role");
    let policy = customer_policy(&aws, "persist").await;
    aws.iam
        .put_role_policy()
        .role_name("cross-account-admin")
        .policy_name("inline-admin")
        .policy_document(POLICY_DOC)
        .send()
        .await
        .expect("inline");
    aws.iam
        .attach_role_policy()
        .role_name("cross-account-admin")
        .policy_arn(&policy)
        .send()
        .await
        .expect("attach");
    aws.iam
        .create_instance_profile()
        .instance_profile_name("admin-profile")
        .send()
        .await
        .expect("profile");
    aws.iam
        .add_role_to_instance_profile()
        .instance_profile_name("admin-profile")
        .role_name("cross-account-admin")
        .send()
        .await
        .expect("add to profile");
    let oidc = aws
        .iam
        .create_open_id_connect_provider()
        .url("https://token.actions.example.com")
        .thumbprint_list("a".repeat(40))
        .client_id_list("sts.amazonaws.com")
        .send()
        .await
        .expect("oidc")
        .open_id_connect_provider_arn()
        .expect("oidc arn")
        .to_string();
    let saml = aws
        .iam
        .create_saml_provider()
        .name("rogue-idp")
        .saml_metadata_document("x".repeat(1200))
        .send()
        .await
        .expect("saml")
        .saml_provider_arn()
        .expect("saml arn")
        .to_string();

    let iam = resources::sweep_iam(&aws).await;
    assert!(iam.errors().next().is_none(), "{:?}", iam.cells);
    let role = find(&iam, Kind::Role, "cross-account-admin");
    assert!(detail(role, "trusts").is_some_and(|t| t.contains("999988887777")));
    assert!(detail(role, "service-linked").is_none());
    let linked = find(&iam, Kind::Role, "AWSServiceRoleForSupport");
    assert_eq!(detail(linked, "service-linked"), Some("yes"));
    let provider = find(&iam, Kind::OidcProvider, &oidc);
    assert!(
        provider.created.is_some(),
        "read by GetOpenIDConnectProvider"
    );
    assert_eq!(provider.arn.as_deref(), Some(oidc.as_str()));
    let idp = find(&iam, Kind::SamlProvider, &saml);
    assert_eq!(idp.name, "rogue-idp");
    assert!(idp.created.is_some());

    let Parts::Role(parts) =
        resources::principal_parts(&aws, Kind::Role, "cross-account-admin").await
    else {
        panic!("role parts");
    };
    assert_eq!(parts.inline_policies, vec!["inline-admin".to_string()]);
    assert_eq!(parts.attached_policies, vec![policy.clone()]);
    assert_eq!(parts.instance_profiles, vec!["admin-profile".to_string()]);
    assert!(parts.unread.is_empty(), "{:?}", parts.unread);
    assert_eq!(
        resources::principal_parts(&aws, Kind::Instance, "i-1").await,
        Parts::None
    );

    let target = r(Kind::Role, GLOBAL, "cross-account-admin");
    let done = perform_ok(&aws, &target, Action::DeleteRole).await;
    for part in [
        "1 inline policy",
        "1 attached policy",
        "1 instance profile membership",
    ] {
        assert!(done.contains(part), "{part:?} missing from {done:?}");
    }
    assert!(!exists(&aws, &target).await);

    for (target, action) in [
        (
            r(Kind::OidcProvider, GLOBAL, &oidc),
            Action::DeleteOidcProvider,
        ),
        (
            r(Kind::SamlProvider, GLOBAL, &saml),
            Action::DeleteSamlProvider,
        ),
    ] {
        assert!(exists(&aws, &target).await);
        perform_ok(&aws, &target, action.clone()).await;
        assert!(!exists(&aws, &target).await, "{target}");
        // Again: nothing to do. (moto answers a repeated deletion of a provider with
        // success where AWS says NoSuchEntity; either way it must not fail.)
        perform_ok(&aws, &target, action).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_policy_detaches_it_everywhere_and_drops_old_versions() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    let policy = customer_policy(&aws, "spread").await;
    aws.iam
        .create_policy_version()
        .policy_arn(&policy)
        .policy_document(POLICY_DOC)
        .set_as_default(true)
        .send()
        .await
        .expect("second version");
    common::user_with_keys(&aws, "holder", 0).await;
    aws.iam
        .create_group()
        .group_name("holders")
        .send()
        .await
        .expect("group");
    aws.iam
        .create_role()
        .role_name("holder-role")
        .assume_role_policy_document("{}")
        .send()
        .await
        .expect("role");
    aws.iam
        .attach_user_policy()
        .user_name("holder")
        .policy_arn(&policy)
        .send()
        .await
        .expect("attach user");
    aws.iam
        .attach_group_policy()
        .group_name("holders")
        .policy_arn(&policy)
        .send()
        .await
        .expect("attach group");
    aws.iam
        .attach_role_policy()
        .role_name("holder-role")
        .policy_arn(&policy)
        .send()
        .await
        .expect("attach role");

    let target = r(Kind::Policy, GLOBAL, &policy);
    let done = perform_ok(&aws, &target, Action::DeletePolicy).await;
    assert!(
        done.contains("1 user, 1 group, 1 role") && done.contains("1 old version"),
        "{done}"
    );
    assert!(!exists(&aws, &target).await);
    assert!(
        aws.iam
            .get_policy()
            .policy_arn(&policy)
            .send()
            .await
            .is_err()
    );
    let attached = aws
        .iam
        .list_attached_role_policies()
        .role_name("holder-role")
        .send()
        .await
        .expect("role policies");
    assert!(attached.attached_policies().is_empty());
    assert_eq!(
        perform_ok(&aws, &target, Action::DeletePolicy).await,
        ALREADY_GONE
    );
}

// ---- the tagging API, missing services, dead endpoints ----

#[tokio::test(flavor = "multi_thread")]
async fn the_tagging_api_adds_only_what_direct_listings_miss() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    let names = ["us-east-1", "eu-west-1", "ap-south-1"];
    let instance = launch(&aws, "eu-west-1", "tagged-box", None, None).await;
    aws.ec2_in("eu-west-1")
        .create_tags()
        .resources(&instance)
        .tags(ec2_tag("campaign", "xmr"))
        .send()
        .await
        .expect("tag instance");
    aws.iam
        .create_role()
        .role_name("fn-role")
        .assume_role_policy_document("{}")
        .send()
        .await
        .expect("role");
    let function_arn = aws
        .lambda_in("eu-west-1")
        .create_function()
        .function_name("tagged-fn")
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .role("arn:aws:iam::123456789012:role/fn-role")
        .handler("h.h")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(b"zz".to_vec()))
                .build(),
        )
        .send()
        .await
        .expect("function")
        .function_arn()
        .expect("function arn")
        .to_string();
    // ListFunctions carries no tags: this one can only come from the tagging API.
    aws.lambda_in("eu-west-1")
        .tag_resource()
        .resource(&function_arn)
        .tags("campaign", "xmr")
        .send()
        .await
        .expect("tag function");
    aws.s3
        .create_bucket()
        .bucket("exfil-drop-7731")
        .send()
        .await
        .expect("bucket");
    aws.s3
        .put_bucket_tagging()
        .bucket("exfil-drop-7731")
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .tag_set(
                    aws_sdk_s3::types::Tag::builder()
                        .key("campaign")
                        .value("xmr")
                        .build()
                        .expect("tag"),
                )
                .build()
                .expect("tagging"),
        )
        .send()
        .await
        .expect("tag bucket");

    let sweeps = resources::sweep(&aws, &regions(&names)).await;
    let all: Vec<&Resource> = sweeps.iter().flat_map(|s| &s.resources).collect();

    let boxes: Vec<&&Resource> = all.iter().filter(|x| x.id.contains(&instance)).collect();
    assert_eq!(boxes.len(), 1, "{boxes:?}");
    assert_eq!(boxes[0].kind, Kind::Instance);
    assert_eq!(boxes[0].tag("campaign"), Some("xmr"));
    assert_eq!(boxes[0].tag("Name"), Some("tagged-box"));

    let fns: Vec<&&Resource> = all
        .iter()
        .filter(|x| x.arn.as_deref() == Some(function_arn.as_str()))
        .collect();
    assert_eq!(fns.len(), 1, "{fns:?}");
    assert_eq!(fns[0].kind, Kind::Function);
    assert_eq!(
        fns[0].tag("campaign"),
        Some("xmr"),
        "tags merged from GetResources"
    );

    let buckets: Vec<&&Resource> = all
        .iter()
        .filter(|x| x.arn.as_deref() == Some("arn:aws:s3:::exfil-drop-7731"))
        .collect();
    assert_eq!(
        buckets.len(),
        1,
        "one bucket across all regions: {buckets:?}"
    );
    let bucket = buckets[0];
    assert_eq!(bucket.kind, Kind::Tagged);
    assert_eq!(bucket.region, GLOBAL);
    assert_eq!(bucket.id, "exfil-drop-7731");
    assert_eq!(detail(bucket, "type"), Some("s3:bucket"));
    assert_eq!(bucket.tag("campaign"), Some("xmr"));
    // The tagged cells add up to what is listed as tagged.
    let counted: usize = sweeps
        .iter()
        .flat_map(|s| &s.cells)
        .filter(|(k, _)| *k == Kind::Tagged.label())
        .map(|(_, c)| match c {
            CellState::Ok(n) => *n,
            other => panic!("tagging cell: {other:?}"),
        })
        .sum();
    assert_eq!(
        counted,
        all.iter().filter(|x| x.kind == Kind::Tagged).count()
    );
    assert!(exists(&aws, &r(Kind::Tagged, GLOBAL, "exfil-drop-7731")).await);

    // A single region's own sweep reports the bucket too, as region-less.
    let one = resources::sweep_region(&aws, "ap-south-1").await;
    assert!(
        one.resources
            .iter()
            .any(|x| x.kind == Kind::Tagged && x.region == GLOBAL)
    );
}

/// A stand-in for an endpoint that knows no AWS service: every request gets moto's answer
/// for a service it lacks (HTTP 500 with an HTML body). Each request is kept (head and
/// body) so a test can count what was sent.
struct Html500 {
    server: Server,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Html500 {
    fn start() -> Html500 {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let server = Server::start(move |req| {
            if let Ok(mut l) = log.lock() {
                l.push(req.text());
            }
            Response::html_500()
        });
        Html500 { server, seen }
    }

    fn endpoint(&self) -> String {
        self.server.endpoint()
    }

    fn count(&self, needle: &str) -> usize {
        self.seen
            .lock()
            .map(|s| s.iter().filter(|r| r.contains(needle)).count())
            .unwrap_or(0)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn lightsail_is_unavailable_and_costs_one_request() {
    // Against moto: the Lightsail cell says "not here", every other cell works.
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    let id = launch(&aws, "eu-north-1", "still-found", None, None).await;
    let sweep = resources::sweep_region(&aws, "eu-north-1").await;
    match cell(&sweep, Kind::Lightsail) {
        CellState::Unavailable(why) => {
            assert!(why.starts_with("Lightsail does not answer here: "), "{why}")
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(sweep.errors().next().is_none(), "{:?}", sweep.cells);
    assert_eq!(find(&sweep, Kind::Instance, &id).name, "still-found");

    // With the console's own retry policy (3 attempts) against an endpoint that answers
    // everything like that: Lightsail is asked once, other calls are retried.
    let server = Html500::start();
    let aws = Aws::connect(&ConnectOptions {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(server.endpoint()),
        static_credentials: Some(("AKIAIOSFODNN7EXAMPLE".into(), "secret".into())),
        max_attempts: 3,
        session_token: None,
        service_endpoints: Default::default(),
    })
    .await;
    let sweep = resources::sweep_region(&aws, "eu-north-1").await;
    assert!(
        matches!(cell(&sweep, Kind::Lightsail), CellState::Unavailable(_)),
        "{:?}",
        sweep.cells
    );
    assert!(matches!(cell(&sweep, Kind::Instance), CellState::Failed(_)));
    assert_eq!(server.count("Lightsail_20161128.GetInstances"), 1);
    assert_eq!(server.count("Action=DescribeInstances&"), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_endpoint_fails_every_cell_quickly() {
    let aws = Aws::connect(&ConnectOptions {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(dead_endpoint()),
        static_credentials: Some(("AKIAIOSFODNN7EXAMPLE".into(), "secret".into())),
        max_attempts: 3,
        session_token: None,
        service_endpoints: Default::default(),
    })
    .await;
    let names = regions(&["us-east-1", "eu-west-1", "ap-southeast-1"]);
    let began = Instant::now();
    let sweeps = tokio::time::timeout(Duration::from_secs(60), resources::sweep(&aws, &names))
        .await
        .expect("the sweep returns");
    let took = began.elapsed();
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_eq!(sweeps.len(), 4);
    for s in &sweeps {
        assert!(s.resources.is_empty());
        assert!(s.cells.len() >= 5, "{:?}", s.cells);
        for (kind, c) in &s.cells {
            match (*kind, c) {
                // Where Lightsail cannot be reached, it is said to be not offered.
                ("lightsail", CellState::Unavailable(_)) => {}
                (_, CellState::Failed(why)) => {
                    assert!(why.text.contains("cannot reach"), "{kind}: {why}")
                }
                other => panic!("{}: {other:?}", s.region),
            }
        }
    }
    let target = r(Kind::Instance, "us-east-1", "i-0123456789abcdef0");
    assert!(resources::exists(&aws, &target).await.is_err());
    assert!(
        resources::perform(&aws, &target, &Action::TerminateInstance)
            .await
            .is_err()
    );
}
