//! The Resources tab end to end: the real binary under tmux against moto, with the attacker's
//! resources planted in three regions and its CloudTrail records planted in the trail bucket.
//! The operator selects what the leaked key made, confirms the plan by typing its size, and
//! the test checks AWS (moto) afterwards: nothing of the attacker's is left, nothing else is
//! touched, and the journal holds every intent and outcome.

use crate::common;
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{InstanceType, RequestLaunchTemplateData};
use aws_sdk_s3::primitives::ByteStream;
use common::tmux::{Tmux, creds};
use common::{Moto, aws_root, user_with_keys};
use keyspill_aws::Aws;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const AMI: &str = "ami-03cf127a";
const BUCKET: &str = "org-trail-logs";

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).expect("time")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

/// A CloudTrail record of a write call made with the leaked key.
fn record(
    n: usize,
    at: OffsetDateTime,
    key: &str,
    region: &str,
    name: &str,
    elements: Value,
) -> Value {
    json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "arn": "arn:aws:iam::123456789012:user/dev-alice",
            "accountId": "123456789012",
            "accessKeyId": key,
            "userName": "dev-alice"
        },
        "eventTime": rfc3339(at),
        "eventSource": "ec2.amazonaws.com",
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "203.0.113.66",
        "userAgent": "Boto3/1.34.0",
        "requestParameters": elements["request"],
        "responseElements": elements["response"],
        "eventID": format!("0e2e0000-0000-4000-8000-{n:012}"),
        "readOnly": false,
        "eventType": "AwsApiCall",
        "recipientAccountId": "123456789012"
    })
}

async fn plant_log(aws: &Aws, acct: &str, region: &str, at: OffsetDateTime, records: Vec<Value>) {
    let (y, m, d) = (at.year(), u8::from(at.month()), at.day());
    let key = format!(
        "AWSLogs/{acct}/CloudTrail/{region}/{y:04}/{m:02}/{d:02}/\
         {acct}_CloudTrail_{region}_{y:04}{m:02}{d:02}T{:02}{:02}Z_e2e0000000000001.json.gz",
        at.hour(),
        at.minute()
    );
    let body = serde_json::to_vec(&json!({ "Records": records })).expect("json");
    aws.s3
        .put_object()
        .bucket(BUCKET)
        .key(key)
        .body(ByteStream::from(gzip(&body)))
        .send()
        .await
        .expect("put log");
}

async fn running(aws: &Aws, region: &str) -> Vec<String> {
    let out = aws
        .ec2_in(region)
        .describe_instances()
        .send()
        .await
        .expect("describe");
    out.reservations()
        .iter()
        .flat_map(|r| r.instances())
        .filter(|i| {
            i.state()
                .and_then(|s| s.name())
                .is_some_and(|n| n.as_str() == "running" || n.as_str() == "pending")
        })
        .filter_map(|i| i.instance_id().map(str::to_string))
        .collect()
}

async fn run_one(aws: &Aws, region: &str) -> String {
    aws.ec2_in(region)
        .run_instances()
        .image_id(AMI)
        .instance_type(InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .expect("run")
        .instances()[0]
        .instance_id()
        .expect("id")
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_attacker_s_resources_are_removed_in_order_and_nothing_else() {
    let moto = Moto::start();
    let root = aws_root(&moto).await;
    let (me, me_secret) = user_with_keys(&root, "ir-responder", 1).await.remove(0);
    let (leaked, _) = user_with_keys(&root, "dev-alice", 1).await.remove(0);
    let acct = "123456789012";

    // Before the leak: a web server the company runs.
    let web = run_one(&root, "us-east-1").await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let since = OffsetDateTime::now_utc();
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // The attacker: a mining group in eu-north-1, a protected instance in ap-south-1, a
    // backdoor user with a key, a console password and an inline policy.
    let template = root
        .ec2_in("eu-north-1")
        .create_launch_template()
        .launch_template_name("xmr")
        .launch_template_data(
            RequestLaunchTemplateData::builder()
                .image_id(AMI)
                .instance_type(InstanceType::T3Micro)
                .build(),
        )
        .send()
        .await
        .expect("template")
        .launch_template()
        .and_then(|t| t.launch_template_id())
        .expect("template id")
        .to_string();
    root.autoscaling_in("eu-north-1")
        .create_auto_scaling_group()
        .auto_scaling_group_name("xmr-workers")
        .launch_template(
            aws_sdk_autoscaling::types::LaunchTemplateSpecification::builder()
                .launch_template_id(&template)
                .version("$Latest")
                .build(),
        )
        .min_size(2)
        .max_size(2)
        .desired_capacity(2)
        .availability_zones("eu-north-1a")
        .send()
        .await
        .expect("group");
    let guarded = run_one(&root, "ap-south-1").await;
    root.ec2_in("ap-south-1")
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
    user_with_keys(&root, "backup-svc-2", 1).await;
    root.iam
        .create_login_profile()
        .user_name("backup-svc-2")
        .password("Attacker-Passw0rd!")
        .send()
        .await
        .expect("login profile");
    root.iam
        .put_user_policy()
        .user_name("backup-svc-2")
        .policy_name("all")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        )
        .send()
        .await
        .expect("inline policy");

    // Its CloudTrail records, in the trail bucket where keyspill will find them.
    root.s3
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("bucket");
    root.cloudtrail_in("us-east-1")
        .create_trail()
        .name("org-trail")
        .s3_bucket_name(BUCKET)
        .is_multi_region_trail(true)
        .send()
        .await
        .expect("trail");
    let at = since + time::Duration::seconds(1);
    plant_log(
        &root,
        acct,
        "eu-north-1",
        at,
        vec![record(
            1,
            at,
            &leaked,
            "eu-north-1",
            "CreateAutoScalingGroup",
            json!({"request": {"autoScalingGroupName": "xmr-workers"}, "response": null}),
        )],
    )
    .await;
    plant_log(
        &root,
        acct,
        "ap-south-1",
        at,
        vec![record(
            2,
            at,
            &leaked,
            "ap-south-1",
            "RunInstances",
            json!({"request": {"instanceType": "t3.micro"},
                   "response": {"instancesSet": {"items": [{"instanceId": guarded}]}}}),
        )],
    )
    .await;
    plant_log(
        &root,
        acct,
        "us-east-1",
        at,
        vec![record(
            3,
            at,
            &leaked,
            "us-east-1",
            "CreateUser",
            json!({"request": {"userName": "backup-svc-2"}, "response": {"user": {"userName": "backup-svc-2"}}}),
        )],
    )
    .await;
    assert_eq!(running(&root, "eu-north-1").await.len(), 2);

    let journal = tempfile::tempdir().expect("journal dir");
    let jdir = journal.path().display().to_string();
    let since_arg = rfc3339(since);
    let t = Tmux::start(
        &creds(&moto, &me, &me_secret),
        &[
            "--key",
            &leaked,
            "--since",
            &since_arg,
            "--regions",
            "us-east-1,eu-north-1,ap-south-1",
            "--journal",
            &jdir,
        ],
    );
    t.wait_for("acct 123456789012", Duration::from_secs(20));
    t.keys(&["3"]);
    // Wait for attribution: the three records name the group, the instance and the user, and
    // the group's instances are the attacker's too (its group launched them).
    let attributed = |screen: &str| {
        let rows: Vec<&str> = screen
            .lines()
            .filter(|l| l.contains("LEAKED KEY"))
            .collect();
        let named = ["xmr-workers", guarded.as_str(), "backup-svc-2"]
            .iter()
            .all(|n| rows.iter().any(|r| r.contains(n)));
        let instances = rows.iter().filter(|r| r.contains("instance")).count();
        named && instances == 3
    };
    let start = Instant::now();
    let screen = loop {
        let screen = t.screen();
        if attributed(&screen) {
            break screen;
        }
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "the attacker's resources were not attributed; the screen shows:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    // What the company ran before is not in the default view.
    assert!(!screen.contains(&web), "{screen}");
    // The checklist sees the attacker's resources from the same sweep.
    t.keys(&["5"]);
    // Not "Checklist": the tab bar always says it.
    let checklist = t.wait_for("No attacker resource left", Duration::from_secs(5));
    assert!(
        checklist
            .lines()
            .any(|l| l.contains('✗') && l.contains("No attacker resource left")),
        "{checklist}"
    );
    t.keys(&["3"]);
    // The backdoor user's parts are read in the background after the sweep; the plan lists
    // them once they are in. Ask for the plan until it does, cancelling the early ones (a
    // cancelled plan runs nothing and journals nothing).
    let start = Instant::now();
    let dialog = loop {
        t.keys(&["a", "t"]);
        let dialog = t.wait_for("confirm", Duration::from_secs(5));
        if dialog.contains("delete console password") || start.elapsed() > Duration::from_secs(20) {
            break dialog;
        }
        t.keys(&["Escape"]);
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(dialog.contains("force-delete group"), "{dialog}");
    assert!(
        dialog.contains("turn termination protection off"),
        "{dialog}"
    );
    assert!(dialog.contains("delete console password"), "{dialog}");
    t.type_text("5");
    t.keys(&["Enter"]);
    let done = t.wait_for("finished", Duration::from_secs(60));
    assert!(!done.contains('✗'), "a step failed:\n{done}");

    // AWS afterwards: the group, the protected instance and the user are gone; the group's
    // instances do not come back; the web server is untouched.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = running(&root, "eu-north-1").await;
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "group instances came back: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let groups = root
        .autoscaling_in("eu-north-1")
        .describe_auto_scaling_groups()
        .send()
        .await
        .expect("groups");
    assert!(groups.auto_scaling_groups().is_empty());
    assert!(running(&root, "ap-south-1").await.is_empty());
    assert_eq!(running(&root, "us-east-1").await, vec![web]);
    let gone = root.iam.get_user().user_name("backup-svc-2").send().await;
    assert!(gone.is_err(), "backdoor user still exists");
    assert!(
        root.iam
            .get_user()
            .user_name("ir-responder")
            .send()
            .await
            .is_ok()
    );

    // After the removal and the sweep that follows it, the checklist agrees.
    t.keys(&["Escape", "5"]);
    let start = Instant::now();
    loop {
        let screen = t.screen();
        if screen
            .lines()
            .any(|l| l.contains('✓') && l.contains("No attacker resource left"))
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the checklist still sees attacker resources:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }

    // The journal: an intent and an outcome for every step.
    let text = std::fs::read_to_string(journal.path().join("journal.jsonl")).expect("journal");
    let intents = text.matches("\"kind\":\"intent\"").count();
    let outcomes = text.matches("\"kind\":\"outcome\"").count();
    assert!(intents >= 5, "{text}");
    assert_eq!(intents, outcomes, "{text}");
    assert!(
        text.contains("autoscaling:DeleteAutoScalingGroup"),
        "{text}"
    );
    assert!(text.contains("ec2:ModifyInstanceAttribute"), "{text}");

    // Evidence was kept before anything was removed: the plan's choice, snapshots of the
    // instances' volumes before the first termination, each kept thing journaled, and the
    // files on disk match their manifest.
    assert!(
        text.contains("\"kind\":\"preservation\"") && text.contains("\"skipped\":false"),
        "{text}"
    );
    let snapshot = text
        .find("\"call\":\"keep ec2:CreateSnapshot\"")
        .unwrap_or_else(|| panic!("no snapshot step: {text}"));
    let terminate = text
        .find("\"call\":\"ec2:TerminateInstances\"")
        .unwrap_or_else(|| panic!("no termination: {text}"));
    assert!(snapshot < terminate, "{text}");
    assert!(text.contains("\"kind\":\"kept\""), "{text}");
    let verified = std::process::Command::new(env!("CARGO_BIN_EXE_keyspill"))
        .args(["evidence", "verify"])
        .arg(journal.path())
        .output()
        .expect("runs");
    assert_eq!(verified.status.code(), Some(0), "{verified:?}");
}
