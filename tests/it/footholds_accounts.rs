//! `keyspill footholds --accounts` through the real binary, against moto: an organisation of
//! three accounts; the leaked key of the management account assumes the member's access role
//! and leaves a backdoor user there. The backdoor is a foothold of the member account and not
//! of the management account (the organisation trail holds both accounts' records); an account
//! the responder cannot enter is named with why, and the organisation is not contained while
//! it is not looked into.

use crate::common::{
    ADMIN_POLICY, Moto, aws_as, aws_root, organisation, role_policy, user_policy, user_with_keys,
};
use keyspill_aws::{Aws, accounts};
use serde_json::{Value, json};
use time::OffsetDateTime;

const MANAGEMENT: &str = "123456789012";

fn ts(t: OffsetDateTime) -> String {
    keyspill_core::journal::format_ts(t)
}

fn footholds(moto: &Moto, creds: &(String, String), args: &[&str]) -> (i32, String, String) {
    crate::footholds_headless::footholds_with(moto, None, creds, args)
}

/// A CloudTrail record as an organisation trail delivers it: `recipientAccountId` says whose.
fn record(
    t: OffsetDateTime,
    id: &str,
    account: &str,
    key: &str,
    name: &str,
    extra: Value,
) -> Value {
    let mut r = crate::footholds_headless::record(t, id, key, name, extra);
    r["recipientAccountId"] = account.into();
    r
}

/// Each member's access role, allowed everything (moto creates the role with the account, as
/// Organizations does; its policy is given here so that moto's authorisation lets it act).
async fn access_role(root: &Aws, member: &str) {
    let inside = accounts::enter(root, None, member, accounts::DEFAULT_ROLE, "aws")
        .await
        .expect("enter the member");
    role_policy(&inside, accounts::DEFAULT_ROLE, ADMIN_POLICY).await;
}

fn account<'a>(v: &'a Value, id: &str) -> &'a Value {
    v["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["account"] == id))
        .unwrap_or_else(|| panic!("no account {id} in {v:#}"))
}

fn has_foothold(report: &Value, kind: &str, id: &str) -> bool {
    report["footholds"]
        .as_array()
        .is_some_and(|rows| rows.iter().any(|r| r["kind"] == kind && r["id"] == id))
}

/// The organisation's incident: three accounts; dev's leaked key enters `workloads` and
/// leaves an admin user with a key there; the organisation trail holds both accounts'
/// records; the responder may do everything but enter `sandbox`. Authorisation is enforced
/// from here on.
pub(crate) struct OrgIncident {
    pub moto: Moto,
    pub responder: (String, String),
    pub leaked: String,
    pub workloads: String,
    pub sandbox: String,
    pub session_key: String,
    pub backdoor_key: String,
    /// An instance the attacker runs in `workloads`.
    pub instance: String,
    /// The organisation trail's file (kept with its directory).
    pub trail: std::path::PathBuf,
    pub logs: tempfile::TempDir,
    pub since: String,
}

pub(crate) async fn org_incident() -> OrgIncident {
    org_incident_with(false).await
}

/// [`org_incident`], the organisation trail also delivered as CloudTrail does: to a bucket of
/// the management account, one folder per account under `AWSLogs/o-…/`.
pub(crate) async fn org_incident_with(in_bucket: bool) -> OrgIncident {
    let moto = Moto::start();
    let root = aws_root(&moto).await;
    let members = organisation(&root, &["workloads", "sandbox"]).await;
    let (workloads, sandbox) = (members[0].clone(), members[1].clone());
    access_role(&root, &workloads).await;
    access_role(&root, &sandbox).await;

    // The responder may do everything but enter the sandbox.
    let responder = user_with_keys(&root, "responder", 1).await.remove(0);
    user_policy(&root, "responder", ADMIN_POLICY).await;
    root.iam
        .put_user_policy()
        .user_name("responder")
        .policy_name("not-the-sandbox")
        .policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny",
                "Action": "sts:AssumeRole",
                "Resource": format!("arn:aws:iam::{sandbox}:role/*")}]})
            .to_string(),
        )
        .send()
        .await
        .expect("deny policy");

    // The leak: dev's key enters the workloads account and leaves a user with a key there.
    let (leaked, leaked_secret) = user_with_keys(&root, "dev", 1).await.remove(0);
    user_policy(&root, "dev", ADMIN_POLICY).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let since = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("time");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let attacker = aws_as(&moto, &leaked, &leaked_secret).await;
    let role_arn = format!("arn:aws:iam::{workloads}:role/{}", accounts::DEFAULT_ROLE);
    let out = attacker
        .sts
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("keyspill-incident")
        .send()
        .await
        .expect("the attacker enters the member");
    let c = out.credentials().expect("credentials");
    let session_key = c.access_key_id().to_string();
    let inside = attacker.with_session(c.access_key_id(), c.secret_access_key(), c.session_token());
    inside
        .iam
        .create_user()
        .user_name("ops-backup")
        .send()
        .await
        .expect("backdoor user");
    user_policy(&inside, "ops-backup", ADMIN_POLICY).await;
    let instance = inside
        .ec2_in("us-east-1")
        .run_instances()
        .image_id("ami-03cf127a")
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .expect("the attacker's instance")
        .instances()
        .first()
        .and_then(|i| i.instance_id())
        .expect("instance id")
        .to_string();
    let backdoor_key = inside
        .iam
        .create_access_key()
        .user_name("ops-backup")
        .send()
        .await
        .expect("backdoor key")
        .access_key()
        .map(|k| k.access_key_id().to_string())
        .expect("key id");

    // The organisation trail: the AssumeRole in both accounts, the backdoor in the member's.
    let t = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("time");
    let expires = t + time::Duration::hours(1);
    let minted = json!({
        "requestParameters": {"roleArn": role_arn, "roleSessionName": "keyspill-incident"},
        "responseElements": {"credentials": {"accessKeyId": session_key, "expiration": ts(expires)}}});
    let records = vec![
        record(t, "m1", MANAGEMENT, &leaked, "AssumeRole", minted.clone()),
        record(t, "w1", &workloads, &leaked, "AssumeRole", minted),
        record(
            t,
            "w2",
            &workloads,
            &session_key,
            "CreateUser",
            json!({"requestParameters": {"userName": "ops-backup"}}),
        ),
        record(
            t,
            "w3",
            &workloads,
            &session_key,
            "CreateAccessKey",
            json!({"requestParameters": {"userName": "ops-backup"},
                "responseElements": {"accessKey": {"accessKeyId": backdoor_key, "userName": "ops-backup"}}}),
        ),
    ];
    let logs = tempfile::tempdir().expect("logs");
    let file = logs.path().join("org-trail.json");
    std::fs::write(&file, json!({"Records": records}).to_string()).expect("trail file");
    if in_bucket {
        deliver(&root, &records, t).await;
    }

    moto.enforce_auth();
    OrgIncident {
        moto,
        responder,
        leaked,
        workloads,
        sandbox,
        session_key,
        backdoor_key,
        instance,
        trail: file,
        logs,
        since: ts(since),
    }
}

/// An organisation trail to `org-trail`, and `records` in their accounts' folders.
async fn deliver(root: &Aws, records: &[Value], t: OffsetDateTime) {
    root.s3
        .create_bucket()
        .bucket("org-trail")
        .send()
        .await
        .expect("bucket");
    root.cloudtrail
        .create_trail()
        .name("organization")
        .s3_bucket_name("org-trail")
        .is_multi_region_trail(true)
        .is_organization_trail(true)
        .send()
        .await
        .expect("organisation trail");
    let org = root
        .organizations()
        .describe_organization()
        .send()
        .await
        .expect("organisation")
        .organization()
        .and_then(|o| o.id())
        .expect("organisation id")
        .to_string();
    let day = format!("{:04}/{:02}/{:02}", t.year(), u8::from(t.month()), t.day());
    let mut by_account: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
    for r in records {
        let account = r["recipientAccountId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        by_account.entry(account).or_default().push(r.clone());
    }
    for (account, records) in by_account {
        root.s3
            .put_object()
            .bucket("org-trail")
            .key(format!(
                "AWSLogs/{org}/{account}/CloudTrail/us-east-1/{day}/{account}_CloudTrail_us-east-1_x.json.gz"
            ))
            .body(crate::timeline_collect::log_object(records).into())
            .send()
            .await
            .expect("log object");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_member_s_trail_is_read_from_the_organisation_trail_s_bucket() {
    let OrgIncident {
        moto,
        responder,
        leaked,
        workloads,
        since,
        logs: _logs,
        ..
    } = org_incident_with(true).await;
    // No --logs: the member's folder in the management account's bucket is the trail.
    let (code, out, err) = footholds(
        &moto,
        &responder,
        &[
            "--key",
            &leaked,
            "--since",
            &since,
            "--accounts",
            &workloads,
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    let w = account(&v, &workloads);
    let user = w["report"]["footholds"]
        .as_array()
        .and_then(|rows| {
            rows.iter()
                .find(|r| r["kind"] == "user" && r["id"] == "ops-backup")
        })
        .unwrap_or_else(|| panic!("{w:#}\n{err}"));
    let origin = user["origin"].as_str().unwrap_or_default();
    assert!(
        !origin.starts_with("unknown origin"),
        "the trail explains it: {user:#}\n{err}"
    );
    assert!(
        !has_foothold(&account(&v, MANAGEMENT)["report"], "user", "ops-backup"),
        "{v:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backdoor_in_a_member_account_is_that_account_s_and_an_account_not_entered_says_why() {
    let OrgIncident {
        moto,
        responder,
        leaked,
        workloads,
        sandbox,
        session_key,
        backdoor_key,
        instance,
        trail,
        since,
        // Bound, so that the trail's directory lives as long as the test.
        logs: _logs,
        ..
    } = org_incident().await;
    let path = trail.to_string_lossy().into_owned();
    let (code, out, err) = footholds(
        &moto,
        &responder,
        &[
            "--key",
            &leaked,
            "--since",
            &since,
            "--logs",
            &path,
            "--accounts",
            "all",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    assert_eq!(v["contained"], false, "{v:#}");
    assert_eq!(v["accounts"].as_array().map(Vec::len), Some(3), "{v:#}");

    // The management account: its leaked key; not the member's backdoor.
    let own = account(&v, MANAGEMENT);
    assert_eq!(own["entered"], true, "{own:#}");
    assert!(
        has_foothold(&own["report"], "leaked-key", &leaked),
        "{own:#}"
    );
    assert!(
        !has_foothold(&own["report"], "user", "ops-backup"),
        "{own:#}"
    );

    // The member: the backdoor user and its key, open.
    let w = account(&v, &workloads);
    assert_eq!(w["entered"], true, "{w:#}");
    assert_eq!(w["name"], "workloads");
    for (kind, id) in [
        ("user", "ops-backup"),
        ("access-key", backdoor_key.as_str()),
        ("session", session_key.as_str()),
    ] {
        let row = w["report"]["footholds"]
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["kind"] == kind && r["id"] == id))
            .unwrap_or_else(|| panic!("no {kind} {id} in {w:#}"));
        assert_eq!(row["state"], "open", "{row:#}");
    }
    assert_eq!(w["report"]["contained"], false, "{w:#}");
    // And what the attacker runs there, made since the leak started.
    assert!(
        w["made_since_leak"].as_array().is_some_and(|rs| rs
            .iter()
            .any(|r| r["id"] == instance.as_str() && r["region"] == "us-east-1")),
        "{w:#}"
    );

    // The sandbox could not be entered, and says why.
    let s = account(&v, &sandbox);
    assert_eq!(s["entered"], false, "{s:#}");
    let why = s["why"].as_str().unwrap_or_default();
    assert!(
        why.contains("cannot enter") && why.contains("AccessDenied"),
        "{why}"
    );
    let verdict = v["verdict"].as_str().unwrap_or_default();
    assert!(
        verdict.contains(&format!("not looked into: {sandbox}")),
        "{verdict}"
    );
    assert!(verdict.contains(&workloads), "{verdict}");

    // Text says the same, account by account.
    let (code, text, err) = footholds(
        &moto,
        &responder,
        &[
            "--key",
            &leaked,
            "--since",
            &since,
            "--logs",
            &path,
            "--accounts",
            &format!("{workloads},{sandbox}"),
            "--format",
            "text",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains(&format!("== account {workloads} (workloads) ==")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "== account {sandbox} (sandbox): not entered: cannot enter"
        )),
        "{text}"
    );
    assert!(text.contains("ops-backup"), "{text}");
    assert!(
        text.trim_end().ends_with('.') && text.contains("Across 3 accounts: NOT contained"),
        "{text}"
    );
}
