//! The calls the game records, each with the request and response shapes CloudTrail gives
//! them. Shared by the ordinary history and the attacker.

use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use super::record::{Call, epoch_millis, java_date};

pub(crate) fn get_caller_identity(t: OffsetDateTime, region: &str) -> Call {
    Call::new(t, region, "sts", "GetCallerIdentity", true)
}

pub(crate) fn list_buckets(t: OffsetDateTime) -> Call {
    Call::new(t, "us-east-1", "s3", "ListBuckets", true)
        .request(json!({"Host": "s3.amazonaws.com"}))
}

/// `ListObjects` on a bucket: an S3 data event.
pub(crate) fn list_objects(t: OffsetDateTime, region: &str, account: &str, bucket: &str) -> Call {
    Call::new(t, region, "s3", "ListObjects", true)
        .request(json!({"bucketName": bucket, "Host": format!("{bucket}.s3.{region}.amazonaws.com"), "list-type": "2"}))
        .data_event(json!([
            {"type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}"), "accountId": account},
        ]))
}

/// `GetObject` of one object: an S3 data event naming the object and its bucket.
pub(crate) fn get_object(
    t: OffsetDateTime,
    region: &str,
    account: &str,
    bucket: &str,
    key: &str,
    bytes: usize,
) -> Call {
    let mut c = Call::new(t, region, "s3", "GetObject", true)
        .request(json!({"bucketName": bucket, "Host": format!("{bucket}.s3.{region}.amazonaws.com"), "key": key}))
        .data_event(json!([
            {"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{bucket}/{key}")},
            {"type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}"), "accountId": account},
        ]));
    c.additional = Some(json!({"bytesTransferredIn": 0, "bytesTransferredOut": bytes}));
    c
}

/// `GetSecretValue`: a management read event, in LookupEvents too.
pub(crate) fn get_secret_value(t: OffsetDateTime, region: &str, account: &str, name: &str) -> Call {
    Call::new(t, region, "secretsmanager", "GetSecretValue", true).request(json!({
        "secretId": format!("arn:aws:secretsmanager:{region}:{account}:secret:{name}")
    }))
}

pub(crate) fn get_bucket_location(t: OffsetDateTime, bucket: &str) -> Call {
    Call::new(t, "us-east-1", "s3", "GetBucketLocation", true).request(
        json!({"bucketName": bucket, "Host": format!("{bucket}.s3.amazonaws.com"), "location": ""}),
    )
}

/// A bucket without a policy answers `NoSuchBucketPolicy`: an ordinary failure.
pub(crate) fn get_bucket_policy_missing(t: OffsetDateTime, bucket: &str) -> Call {
    Call::new(t, "us-east-1", "s3", "GetBucketPolicy", true)
        .request(json!({"bucketName": bucket, "Host": format!("{bucket}.s3.amazonaws.com"), "policy": ""}))
        .failed("NoSuchBucketPolicy", "The bucket policy does not exist")
}

pub(crate) fn describe_regions(t: OffsetDateTime, region: &str) -> Call {
    Call::new(t, region, "ec2", "DescribeRegions", true)
        .request(json!({"regionSet": {}, "allRegions": true}))
}

pub(crate) fn describe_instances(t: OffsetDateTime, region: &str) -> Call {
    Call::new(t, region, "ec2", "DescribeInstances", true)
        .request(json!({"instancesSet": {}, "filterSet": {}}))
}

pub(crate) fn describe_security_groups(t: OffsetDateTime, region: &str) -> Call {
    Call::new(t, region, "ec2", "DescribeSecurityGroups", true)
        .request(json!({"securityGroupSet": {}, "securityGroupIdSet": {}, "filterSet": {}}))
}

pub(crate) fn describe_snapshots(t: OffsetDateTime, region: &str) -> Call {
    Call::new(t, region, "ec2", "DescribeSnapshots", true).request(
        json!({"snapshotSet": {}, "ownersSet": {"items": [{"owner": "self"}]}, "sharedUsersSet": {}, "filterSet": {}}),
    )
}

pub(crate) fn create_tags(
    t: OffsetDateTime,
    region: &str,
    resource: &str,
    key: &str,
    value: &str,
) -> Call {
    Call::new(t, region, "ec2", "CreateTags", false)
        .request(json!({
            "resourcesSet": {"items": [{"resourceId": resource}]},
            "tagSet": {"items": [{"key": key, "value": value}]},
        }))
        .response(json!({"_return": true}))
}

pub(crate) fn describe_log_groups(t: OffsetDateTime, region: &str) -> Call {
    Call::new(t, region, "logs", "DescribeLogGroups", true)
}

pub(crate) fn list_functions(t: OffsetDateTime, region: &str) -> Call {
    Call::new(t, region, "lambda", "ListFunctions20150331", true)
}

pub(crate) fn get_function(t: OffsetDateTime, region: &str, name: &str) -> Call {
    Call::new(t, region, "lambda", "GetFunction20150331v2", true)
        .request(json!({"functionName": name}))
}

pub(crate) fn update_function_code(
    t: OffsetDateTime,
    region: &str,
    name: &str,
    arn: &str,
    sha: &str,
) -> Call {
    Call::new(t, region, "lambda", "UpdateFunctionCode20150331v2", false)
        .request(json!({"functionName": name, "publish": false, "dryRun": false}))
        .response(json!({
            "functionName": name,
            "functionArn": arn,
            "codeSha256": sha,
            "state": "Pending",
            "lastUpdateStatus": "InProgress",
        }))
}

pub(crate) fn publish_version(
    t: OffsetDateTime,
    region: &str,
    name: &str,
    arn: &str,
    version: u32,
) -> Call {
    Call::new(t, region, "lambda", "PublishVersion20150331", false)
        .request(json!({"functionName": name}))
        .response(json!({
            "functionName": name,
            "functionArn": format!("{arn}:{version}"),
            "version": version.to_string(),
        }))
}

pub(crate) fn list_users(t: OffsetDateTime) -> Call {
    Call::new(t, "us-east-1", "iam", "ListUsers", true)
}

pub(crate) fn get_account_summary(t: OffsetDateTime) -> Call {
    Call::new(t, "us-east-1", "iam", "GetAccountSummary", true)
}

pub(crate) fn get_trail_status(t: OffsetDateTime, region: &str, trail_arn: &str) -> Call {
    Call::new(t, region, "cloudtrail", "GetTrailStatus", true).request(json!({"name": trail_arn}))
}

/// A successful console sign-in (recorded in us-east-1).
pub(crate) fn console_login(t: OffsetDateTime) -> Call {
    let mut c = Call::new(t, "us-east-1", "signin", "ConsoleLogin", false)
        .response(json!({"ConsoleLogin": "Success"}));
    c.event_type = "AwsConsoleSignIn";
    c.additional = Some(json!({
        "LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
        "MobileVersion": "No",
        "MFAUsed": "Yes",
    }));
    c
}

/// What an `AssumeRole` gave back, as its record shows it.
pub(crate) struct Minted<'a> {
    pub role_arn: &'a str,
    pub role_id: &'a str,
    pub session: &'a str,
    pub key: &'a str,
    pub token: &'a str,
    pub duration: i64,
}

pub(crate) fn assume_role(t: OffsetDateTime, region: &str, m: &Minted<'_>) -> Call {
    let account = m.role_arn.split(':').nth(4).unwrap_or_default();
    let role = m.role_arn.rsplit('/').next().unwrap_or_default();
    Call::new(t, region, "sts", "AssumeRole", false)
        .request(json!({
            "roleArn": m.role_arn,
            "roleSessionName": m.session,
            "durationSeconds": m.duration,
        }))
        .response(json!({
            "credentials": {
                "accessKeyId": m.key,
                "sessionToken": m.token,
                "expiration": java_date(t + Duration::seconds(m.duration), true),
            },
            "assumedRoleUser": {
                "assumedRoleId": format!("{}:{}", m.role_id, m.session),
                "arn": format!("arn:aws:sts::{account}:assumed-role/{role}/{}", m.session),
            },
        }))
}

pub(crate) fn create_user(
    t: OffsetDateTime,
    name: &str,
    user_id: &str,
    arn: &str,
    created: OffsetDateTime,
) -> Call {
    Call::new(t, "us-east-1", "iam", "CreateUser", false)
        .request(json!({"userName": name}))
        .response(json!({"user": {
            "path": "/",
            "userName": name,
            "userId": user_id,
            "arn": arn,
            "createDate": java_date(created, false),
        }}))
}

pub(crate) fn create_access_key(
    t: OffsetDateTime,
    user: &str,
    key: &str,
    created: OffsetDateTime,
) -> Call {
    Call::new(t, "us-east-1", "iam", "CreateAccessKey", false)
        .request(json!({"userName": user}))
        .response(json!({"accessKey": {
            "userName": user,
            "accessKeyId": key,
            "status": "Active",
            "createDate": java_date(created, false),
        }}))
}

pub(crate) fn attach_user_policy(t: OffsetDateTime, user: &str, policy_arn: &str) -> Call {
    Call::new(t, "us-east-1", "iam", "AttachUserPolicy", false)
        .request(json!({"userName": user, "policyArn": policy_arn}))
}

/// An EventBridge rule on a schedule.
pub(crate) fn put_rule(t: OffsetDateTime, region: &str, rule: &str, expression: &str) -> Call {
    Call::new(t, region, "events", "PutRule", false)
        .request(json!({"name": rule, "scheduleExpression": expression, "state": "ENABLED"}))
}

/// A function as the target of a rule.
pub(crate) fn put_targets(t: OffsetDateTime, region: &str, rule: &str, function_arn: &str) -> Call {
    Call::new(t, region, "events", "PutTargets", false).request(json!({
        "rule": rule,
        "targets": [{"id": "1", "arn": function_arn}],
    }))
}

/// A role's trust policy replaced: CloudTrail logs the new document as sent.
pub(crate) fn update_assume_role_policy(t: OffsetDateTime, role: &str, document: &str) -> Call {
    Call::new(t, "us-east-1", "iam", "UpdateAssumeRolePolicy", false)
        .request(json!({"roleName": role, "policyDocument": document}))
}

/// An instance as `RunInstances` reported it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Launched {
    pub id: String,
    pub private_ip: String,
    pub subnet: String,
    pub vpc: String,
    pub zone: String,
}

pub(crate) struct Launch<'a> {
    pub image: &'a str,
    pub instance_type: &'a str,
    pub count: u32,
    pub key_name: Option<&'a str>,
    pub reservation: &'a str,
    pub owner: &'a str,
    pub launched: &'a [Launched],
}

pub(crate) fn run_instances(t: OffsetDateTime, region: &str, l: &Launch<'_>) -> Call {
    let mut item = json!({"imageId": l.image, "minCount": l.count, "maxCount": l.count});
    if let (Some(k), Some(map)) = (l.key_name, item.as_object_mut()) {
        map.insert("keyName".into(), json!(k));
    }
    let items: Vec<Value> = l
        .launched
        .iter()
        .enumerate()
        .map(|(i, x)| {
            json!({
                "instanceId": x.id,
                "imageId": l.image,
                "currentInstanceBootMode": "legacy-bios",
                "instanceState": {"code": 0, "name": "pending"},
                "privateDnsName": format!("ip-{}.{region}.compute.internal", x.private_ip.replace('.', "-")),
                "amiLaunchIndex": i,
                "productCodes": {},
                "instanceType": l.instance_type,
                "launchTime": epoch_millis(t),
                "placement": {"availabilityZone": x.zone, "tenancy": "default"},
                "monitoring": {"state": "disabled"},
                "subnetId": x.subnet,
                "vpcId": x.vpc,
                "privateIpAddress": x.private_ip,
                "stateReason": {"code": "pending", "message": "pending"},
                "architecture": "x86_64",
                "rootDeviceType": "ebs",
                "rootDeviceName": "/dev/xvda",
                "blockDeviceMapping": {},
                "virtualizationType": "hvm",
                "hypervisor": "xen",
                "sourceDestCheck": true,
                "ebsOptimized": false,
            })
        })
        .collect();
    Call::new(t, region, "ec2", "RunInstances", false)
        .request(json!({
            "instancesSet": {"items": [item]},
            "instanceType": l.instance_type,
            "blockDeviceMapping": {},
            "monitoring": {"enabled": false},
            "disableApiTermination": false,
            "disableApiStop": false,
        }))
        .response(json!({
            "reservationId": l.reservation,
            "ownerId": l.owner,
            "groupSet": {},
            "instancesSet": {"items": items},
        }))
}

/// The request of a refused `RunInstances` (no response).
pub(crate) fn run_instances_refused(
    t: OffsetDateTime,
    region: &str,
    image: &str,
    instance_type: &str,
    count: u32,
) -> Call {
    Call::new(t, region, "ec2", "RunInstances", false).request(json!({
        "instancesSet": {"items": [{"imageId": image, "minCount": count, "maxCount": count}]},
        "instanceType": instance_type,
        "blockDeviceMapping": {},
        "monitoring": {"enabled": false},
        "disableApiTermination": false,
        "disableApiStop": false,
    }))
}

pub(crate) fn create_launch_template(
    t: OffsetDateTime,
    region: &str,
    name: &str,
    id: &str,
    image: &str,
    instance_type: &str,
) -> Call {
    Call::new(t, region, "ec2", "CreateLaunchTemplate", false)
        .request(json!({"CreateLaunchTemplateRequest": {
            "LaunchTemplateName": name,
            "LaunchTemplateData": {"ImageId": image, "InstanceType": instance_type},
        }}))
        .response(if id.is_empty() {
            Value::Null
        } else {
            json!({"CreateLaunchTemplateResponse": {"launchTemplate": {
                "launchTemplateId": id,
                "launchTemplateName": name,
                "defaultVersionNumber": 1,
                "latestVersionNumber": 1,
            }}})
        })
}

pub(crate) struct Group<'a> {
    pub name: &'a str,
    pub template_id: &'a str,
    pub size: u32,
    pub zone: &'a str,
}

pub(crate) fn create_auto_scaling_group(t: OffsetDateTime, region: &str, g: &Group<'_>) -> Call {
    Call::new(t, region, "autoscaling", "CreateAutoScalingGroup", false).request(json!({
        "autoScalingGroupName": g.name,
        "launchTemplate": {"launchTemplateId": g.template_id, "version": "$Latest"},
        "minSize": g.size,
        "maxSize": g.size,
        "desiredCapacity": g.size,
        "availabilityZones": [g.zone],
    }))
}

pub(crate) struct NewFunction<'a> {
    pub name: &'a str,
    pub arn: &'a str,
    pub role_arn: &'a str,
    pub code_size: i64,
    pub sha: &'a str,
}

pub(crate) fn create_function(t: OffsetDateTime, region: &str, f: &NewFunction<'_>) -> Call {
    let request = json!({
        "functionName": f.name,
        "runtime": "python3.12",
        "role": f.role_arn,
        "handler": "main.handler",
        "code": {},
        "timeout": 900,
        "memorySize": 3008,
        "publish": true,
    });
    let response = if f.arn.is_empty() {
        Value::Null
    } else {
        json!({
            "functionName": f.name,
            "functionArn": f.arn,
            "runtime": "python3.12",
            "role": f.role_arn,
            "handler": "main.handler",
            "codeSize": f.code_size,
            "timeout": 900,
            "memorySize": 3008,
            "codeSha256": f.sha,
            "version": "1",
            "state": "Pending",
            "packageType": "Zip",
        })
    };
    Call::new(t, region, "lambda", "CreateFunction20150331", false)
        .request(request)
        .response(response)
}

pub(crate) fn stop_logging(t: OffsetDateTime, region: &str, trail_arn: &str) -> Call {
    Call::new(t, region, "cloudtrail", "StopLogging", false).request(json!({"name": trail_arn}))
}
