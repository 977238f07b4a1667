//! `keyspill footholds` through the real binary, against moto: every foothold kind found from
//! planted trail logs and live IAM, each closed from live state, and what is seen without a
//! trail at all.

use std::process::Command;

use crate::common::{
    ADMIN_POLICY, Moto, MotoOptions, aws_root, role_policy, user_policy, user_with_keys,
};
use keyspill_aws::Aws;
use serde_json::{Value, json};
use time::OffsetDateTime;

const OUTSIDE: &str = "arn:aws:iam::999999999999:root";

fn ts(t: OffsetDateTime) -> String {
    keyspill_core::journal::format_ts(t)
}

fn footholds(moto: &Moto, creds: &(String, String), args: &[&str]) -> (i32, String, String) {
    footholds_with(moto, None, creds, args)
}

/// `keyspill footholds`, its CloudTrail calls sent to `cloudtrail` when given (moto has no
/// LookupEvents).
pub(crate) fn footholds_with(
    moto: &Moto,
    cloudtrail: Option<&str>,
    creds: &(String, String),
    args: &[&str],
) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keyspill"));
    if let Some(endpoint) = cloudtrail {
        cmd.env("AWS_ENDPOINT_URL_CLOUDTRAIL", endpoint);
    }
    let out = cmd
        .arg("footholds")
        .args(["--regions", "us-east-1"])
        .args(args)
        .env_remove("AWS_PROFILE")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", &creds.0)
        .env("AWS_SECRET_ACCESS_KEY", &creds.1)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .output()
        .expect("keyspill runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn row<'a>(v: &'a Value, kind: &str, id: &str) -> &'a Value {
    v["footholds"]
        .as_array()
        .and_then(|rows| rows.iter().find(|r| r["kind"] == kind && r["id"] == id))
        .unwrap_or_else(|| panic!("no {kind} {id} in {v:#}"))
}

pub(crate) fn record(t: OffsetDateTime, id: &str, key: &str, name: &str, extra: Value) -> Value {
    let service = if name.starts_with("Assume") {
        "sts"
    } else {
        "iam"
    };
    let mut r = json!({
        "eventVersion": "1.08", "eventID": id, "eventTime": ts(t),
        "eventSource": format!("{service}.amazonaws.com"), "eventName": name,
        "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2",
        "userIdentity": {"type": "IAMUser", "accessKeyId": key,
            "arn": "arn:aws:iam::123456789012:user/dev"},
    });
    if let (Some(o), Value::Object(more)) = (r.as_object_mut(), extra) {
        o.extend(more);
    }
    r
}

fn trust(principals: &[&str]) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": principals}, "Action": "sts:AssumeRole"}]})
    .to_string()
}

struct Incident {
    leaked: String,
    backdoor_key: String,
    session: String,
    provider: String,
    since: OffsetDateTime,
}

/// Before the leak: the developer (whose key leaks, an administrator), an admin without a
/// password, the responder, and deploy-role (an administrator's role). After: what the
/// attacker made, with the trail it left: a backdoor administrator, and a role for outsiders
/// that works only in one region.
async fn incident(aws: &Aws, logs: &std::path::Path) -> Incident {
    let leaked = user_with_keys(aws, "dev", 1).await.remove(0).0;
    user_policy(aws, "dev", ADMIN_POLICY).await;
    user_with_keys(aws, "admin", 0).await;
    user_policy(aws, "admin", ADMIN_POLICY).await;
    aws.iam
        .create_role()
        .role_name("deploy-role")
        .assume_role_policy_document(trust(&["arn:aws:iam::123456789012:root"]))
        .send()
        .await
        .expect("deploy-role");
    role_policy(aws, "deploy-role", ADMIN_POLICY).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let since = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("time");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

    let backdoor_key = user_with_keys(aws, "backup-svc", 1).await.remove(0).0;
    user_policy(aws, "backup-svc", ADMIN_POLICY).await;
    aws.iam
        .create_login_profile()
        .user_name("admin")
        .password("Attacker-Pw-12345!")
        .send()
        .await
        .expect("password on admin");
    aws.iam
        .create_role()
        .role_name("evil-role")
        .assume_role_policy_document(trust(&[OUTSIDE]))
        .send()
        .await
        .expect("evil-role");
    role_policy(
        aws,
        "evil-role",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
            "Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}]}"#,
    )
    .await;
    aws.iam
        .update_assume_role_policy()
        .role_name("deploy-role")
        .policy_document(trust(&["arn:aws:iam::123456789012:root", OUTSIDE]))
        .send()
        .await
        .expect("trust changed");
    let provider = aws
        .iam
        .create_open_id_connect_provider()
        .url("https://tokens.evil.example")
        .client_id_list("sts.amazonaws.com")
        .thumbprint_list("a".repeat(40))
        .send()
        .await
        .expect("provider")
        .open_id_connect_provider_arn()
        .unwrap_or_default()
        .to_string();

    let session = "ASIA2ATTACKERSESS001".to_string();
    let t = since + time::Duration::seconds(1);
    let expires = OffsetDateTime::now_utc() + time::Duration::hours(1);
    let records = vec![
        record(
            t,
            "t1",
            &leaked,
            "CreateUser",
            json!({"requestParameters": {"userName": "backup-svc"}}),
        ),
        record(
            t,
            "t2",
            &leaked,
            "CreateAccessKey",
            json!({
            "requestParameters": {"userName": "backup-svc"},
            "responseElements": {"accessKey": {"userName": "backup-svc", "accessKeyId": backdoor_key}}}),
        ),
        record(
            t,
            "t3",
            &leaked,
            "CreateLoginProfile",
            json!({"requestParameters": {"userName": "admin"}}),
        ),
        record(
            t,
            "t4",
            &leaked,
            "AssumeRole",
            json!({
            "requestParameters": {"roleArn": "arn:aws:iam::123456789012:role/deploy-role"},
            "responseElements": {"credentials": {"accessKeyId": session, "expiration": ts(expires)}}}),
        ),
        record(
            t,
            "t5",
            &session,
            "CreateRole",
            json!({"requestParameters": {"roleName": "evil-role"}}),
        ),
        record(
            t,
            "t6",
            &session,
            "UpdateAssumeRolePolicy",
            json!({"requestParameters": {"roleName": "deploy-role"}}),
        ),
        record(
            t,
            "t7",
            &leaked,
            "CreateOpenIDConnectProvider",
            json!({
            "requestParameters": {"url": "https://tokens.evil.example"},
            "responseElements": {"openIDConnectProviderArn": provider}}),
        ),
    ];
    std::fs::write(logs, json!({"Records": records}).to_string()).expect("trail file");
    Incident {
        leaked,
        backdoor_key,
        session,
        provider,
        since,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_foothold_kind_from_the_trail_and_iam_then_closed_from_live_state() {
    // AWS's managed policies loaded: the quarantine policy is attached below.
    let moto = Moto::start_with(MotoOptions {
        managed_policies: true,
        ..MotoOptions::default()
    });
    let aws = aws_root(&moto).await;
    let me = user_with_keys(&aws, "ir-responder", 1).await.remove(0);
    let dir = tempfile::tempdir().expect("dir");
    let logs = dir.path().join("trail.json");
    let i = incident(&aws, &logs).await;
    let since = ts(i.since);
    let base = [
        "--key",
        i.leaked.as_str(),
        "--since",
        since.as_str(),
        "--logs",
        logs.to_str().expect("utf-8"),
    ];

    let (code, out, err) = footholds(&moto, &me, &base);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["contained"], false);
    for (kind, id) in [
        ("leaked-key", i.leaked.as_str()),
        ("access-key", i.backdoor_key.as_str()),
        ("session", i.session.as_str()),
        ("user", "backup-svc"),
        ("login-profile", "admin"),
        ("role", "evil-role"),
        ("trust", "deploy-role"),
        ("trust", "evil-role"),
        ("identity-provider", i.provider.as_str()),
    ] {
        let r = row(&v, kind, id);
        assert_eq!(r["state"], "open", "{kind} {id}: {r}");
        assert!(r["why"].as_str().is_some_and(|w| !w.is_empty()), "{r}");
    }
    // The evidence names the key that acted.
    let short = keyspill_core::domain::key_short(&i.leaked);
    assert!(
        row(&v, "login-profile", "admin")["origin"]
            .as_str()
            .is_some_and(|o| o.contains(&short))
    );
    assert_eq!(
        row(&v, "session", &i.session)["principal"],
        "role deploy-role"
    );
    assert!(row(&v, "session", &i.session)["expires"].is_string());
    assert!(
        row(&v, "trust", "deploy-role")["why"]
            .as_str()
            .is_some_and(|w| w.contains("999999999999"))
    );
    // The responder is not the attacker.
    assert!(!out.contains("ir-responder"), "{out}");
    // Without --action there is no verdict per action.
    assert!(row(&v, "access-key", &i.backdoor_key).get("can").is_none());

    // What each can still do. AWS quarantines the leaked key: the quarantine policy (moto's
    // copy of AWS's managed policy, read by version) denies new keys (and S3 reads), not
    // reading secrets.
    aws.iam
        .attach_user_policy()
        .user_name("dev")
        .policy_arn("arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2")
        .send()
        .await
        .expect("quarantine");
    let asked = [
        &base[..],
        &[
            "--action",
            "iam:CreateAccessKey",
            "--action",
            "secretsmanager:GetSecretValue",
        ],
    ]
    .concat();
    let (code, out, err) = footholds(&moto, &me, &asked);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let can = |kind: &str, id: &str| row(&v, kind, id)["can"].clone();
    assert_eq!(
        can("leaked-key", &i.leaked),
        json!({"iam:CreateAccessKey": "denied", "secretsmanager:GetSecretValue": "allowed"})
    );
    assert_eq!(
        can("access-key", &i.backdoor_key),
        json!({"iam:CreateAccessKey": "allowed", "secretsmanager:GetSecretValue": "allowed"})
    );
    assert_eq!(
        can("session", &i.session),
        json!({"iam:CreateAccessKey": "allowed", "secretsmanager:GetSecretValue": "allowed"})
    );
    // The outsiders' role works in one region: which region the next call names is not
    // known.
    assert_eq!(
        can("trust", "evil-role"),
        json!({"iam:CreateAccessKey": "conditional", "secretsmanager:GetSecretValue": "conditional"})
    );
    // No role trusts the attacker's identity provider yet.
    assert_eq!(
        can("identity-provider", &i.provider),
        json!({"iam:CreateAccessKey": "denied", "secretsmanager:GetSecretValue": "denied"})
    );
    // A malformed action is refused before any call.
    let (code, _, err) = footholds(
        &moto,
        &me,
        &[&base[..], &["--action", "CreateAccessKey"]].concat(),
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not an IAM action"), "{err}");

    // Close every one of them in IAM, as the console's actions would.
    for (user, key) in [("dev", &i.leaked), ("backup-svc", &i.backdoor_key)] {
        aws.iam
            .update_access_key()
            .user_name(user)
            .access_key_id(key)
            .status(aws_sdk_iam::types::StatusType::Inactive)
            .send()
            .await
            .expect("disable");
    }
    aws.iam
        .delete_login_profile()
        .user_name("admin")
        .send()
        .await
        .expect("password");
    let cutoff = ts(OffsetDateTime::now_utc() + time::Duration::seconds(1));
    let deny = keyspill_core::app::plan::Plan::revoke_policy_document(&cutoff);
    aws.iam
        .put_role_policy()
        .role_name("deploy-role")
        .policy_name("AWSRevokeOlderSessions")
        .policy_document(&deny)
        .send()
        .await
        .expect("revoke on the role");
    aws.iam
        .put_user_policy()
        .user_name("dev")
        .policy_name("AWSRevokeOlderSessions")
        .policy_document(&deny)
        .send()
        .await
        .expect("revoke on the user");
    aws.iam
        .update_assume_role_policy()
        .role_name("deploy-role")
        .policy_document(trust(&["arn:aws:iam::123456789012:root"]))
        .send()
        .await
        .expect("trust narrowed");
    // CloudTrail dates that change (IAM cannot): the trail's event history says when.
    let narrowed = OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let trail = crate::lookup_server::LookupServer::start();
    trail.add_records(
        "us-east-1",
        [json!({
            "eventVersion": "1.09",
            "eventID": "narrowed-1",
            "eventTime": ts(narrowed),
            "eventSource": "iam.amazonaws.com",
            "eventName": "UpdateAssumeRolePolicy",
            "awsRegion": "us-east-1",
            "userIdentity": {"type": "IAMUser", "accessKeyId": me.0,
                "arn": "arn:aws:iam::123456789012:user/responder"},
            "requestParameters": {"roleName": "deploy-role", "policyDocument": "{}"},
        })],
    );
    aws.iam
        .delete_role_policy()
        .role_name("evil-role")
        .policy_name("rights")
        .send()
        .await
        .expect("evil-role's policy");
    aws.iam
        .delete_role()
        .role_name("evil-role")
        .send()
        .await
        .expect("evil-role");
    aws.iam
        .delete_open_id_connect_provider()
        .open_id_connect_provider_arn(&i.provider)
        .send()
        .await
        .expect("provider");

    // The role was revoked before its trust closed: a session the outside account minted in
    // between still works.
    let (code, out, err) = footholds_with(&moto, Some(&trail.endpoint()), &me, &base);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["contained"], false, "{v:#}");
    assert_eq!(row(&v, "session", "trust:deploy-role")["state"], "open");
    // Revoked again, after the change: closed.
    let cutoff = ts(narrowed + time::Duration::seconds(1));
    aws.iam
        .put_role_policy()
        .role_name("deploy-role")
        .policy_name("AWSRevokeOlderSessions")
        .policy_document(keyspill_core::app::plan::Plan::revoke_policy_document(
            &cutoff,
        ))
        .send()
        .await
        .expect("revoke on the role again");
    // Without the trail's event history (moto has none) the command says the change could
    // not be dated: it is then only known to be before this reading of IAM.
    let (_, _, err) = footholds(&moto, &me, &base);
    assert!(err.contains("trust changes:"), "{err}");
    let (code, out, err) = footholds_with(&moto, Some(&trail.endpoint()), &me, &base);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["contained"], true, "{v:#}");
    assert_eq!(row(&v, "session", "trust:deploy-role")["state"], "closed");
    for (kind, id) in [
        ("leaked-key", i.leaked.as_str()),
        ("access-key", i.backdoor_key.as_str()),
        ("session", i.session.as_str()),
        ("login-profile", "admin"),
        ("role", "evil-role"),
        ("identity-provider", i.provider.as_str()),
    ] {
        assert_eq!(row(&v, kind, id)["state"], "closed", "{kind} {id}");
    }
    // The user is left without a credential: reduced, to be removed; the trust the attacker
    // changed now names only this account: reduced, for review.
    assert_eq!(row(&v, "user", "backup-svc")["state"], "reduced");
    assert_eq!(row(&v, "trust", "deploy-role")["state"], "reduced");

    let (code, out, _) = footholds_with(
        &moto,
        Some(&trail.endpoint()),
        &me,
        &[&base[..], &["--format", "text"]].concat(),
    );
    assert_eq!(code, 0);
    assert!(out.starts_with("CONTAINED\n"), "{out}");
    // Closed, every foothold can do nothing.
    let (code, out, err) = footholds_with(
        &moto,
        Some(&trail.endpoint()),
        &me,
        &[&base[..], &["--action", "s3:GetObject"]].concat(),
    );
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(
        row(&v, "session", &i.session)["can"],
        json!({"s3:GetObject": "denied"})
    );
    assert_eq!(
        row(&v, "leaked-key", &i.leaked)["can"],
        json!({"s3:GetObject": "denied"})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_trail_what_appeared_after_the_leak_is_a_foothold_of_unknown_origin() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    let me = user_with_keys(&aws, "ir-responder", 1).await.remove(0);
    let dir = tempfile::tempdir().expect("dir");
    let i = incident(&aws, &dir.path().join("unused.json")).await;
    let since = ts(i.since);
    let (code, out, err) = footholds(
        &moto,
        &me,
        &["--key", &i.leaked, "--since", &since, "--format", "json"],
    );
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["contained"], false);
    for (kind, id) in [
        ("access-key", i.backdoor_key.as_str()),
        ("user", "backup-svc"),
        ("role", "evil-role"),
        ("identity-provider", i.provider.as_str()),
    ] {
        let r = row(&v, kind, id);
        assert_eq!(r["state"], "open", "{kind} {id}");
        assert!(
            r["origin"]
                .as_str()
                .is_some_and(|o| o.starts_with("unknown origin")),
            "{r}"
        );
    }
    // The outside trust is seen from IAM alone.
    assert_eq!(row(&v, "trust", "deploy-role")["state"], "open");
}
