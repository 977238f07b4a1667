//! `keyspill timeline --engine athena|auto` through the binary against moto: the window's trail
//! objects are sized from their listing; Athena's workgroup (with its cutoff), database and
//! table are created only when the operator types the workgroup's name; each query's estimate
//! is said before it runs; the rows (moto serves the ones queued here, as Athena would answer
//! the SQL it was sent) come out as timeline events, minted credentials searched in a second
//! round; the objects themselves are never downloaded. Below the threshold, auto reads here.

use std::process::Command;

use crate::common::{self, Moto};
use crate::timeline_collect::{log_object, trail_to_bucket};
use serde_json::{Value, json};
use time::OffsetDateTime;

const ACCOUNT: &str = "123456789012";
const LEAKED: &str = "AKIA2ATHENALEAKED001";
const SESSION: &str = "ASIA2ATHENASESSION02";

fn timeline(moto: &Moto, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_keyspill"))
        .arg("timeline")
        .args(["--regions", "us-east-1", "--key", LEAKED, "--since", "3h"])
        .args(["--format", "jsonl"])
        .args(args)
        .env_remove("AWS_PROFILE")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )
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

/// A result row in the query's column order; `""` is NULL (no value, as Athena sends it).
fn row(values: &[&str]) -> Value {
    let data: Vec<Value> = values
        .iter()
        .map(|v| {
            if v.is_empty() {
                json!({})
            } else {
                json!({"VarCharValue": v})
            }
        })
        .collect();
    json!({ "Data": data })
}

fn header() -> Value {
    row(&keyspill_core::timeline::athena::COLUMNS)
}

/// One event as the key query selects it.
fn event(
    id: &str,
    at: &str,
    source: &str,
    name: &str,
    key: &str,
    req: Value,
    resp: Value,
) -> Value {
    let (req, resp) = (req.to_string(), resp.to_string());
    let resp = if resp == "null" { "" } else { resp.as_str() };
    row(&[
        id,
        at,
        source,
        name,
        "us-east-1",
        "198.51.100.7",
        "aws-cli/2",
        "IAMUser",
        &format!("arn:aws:iam::{ACCOUNT}:user/dev"),
        key,
        "",
        "",
        "false",
        &req,
        resp,
        "",
        ACCOUNT,
    ])
}

/// Athena's answers, in the order the queries are sent.
fn queue(moto: &Moto, results: Vec<Vec<Value>>) {
    let body = json!({
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "results": results
            .into_iter()
            .map(|rows| json!({"rows": rows, "column_info": []}))
            .collect::<Vec<_>>(),
    });
    moto.http(
        "POST",
        "/moto-api/static/athena/query-results",
        "application/json",
        &body.to_string(),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn athena_searches_the_window_after_a_typed_agreement_and_auto_reads_a_small_one_here() {
    let moto = Moto::start();
    let root = common::aws_root(&moto).await;
    trail_to_bucket(&root, "org-audit").await;
    root.s3
        .create_bucket()
        .bucket("athena-results")
        .send()
        .await
        .expect("results bucket");
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("time");
    let at = |minutes_ago: i64| {
        keyspill_core::journal::format_ts(now - time::Duration::minutes(minutes_ago))
    };
    let day = format!(
        "{:04}/{:02}/{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    );
    // One object in the window: what a download would read. Athena never reads it here.
    let marker = json!({
        "eventVersion": "1.08", "eventID": "downloaded-1", "eventTime": at(50),
        "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances", "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2",
        "userIdentity": {"type": "IAMUser", "accessKeyId": LEAKED,
            "arn": format!("arn:aws:iam::{ACCOUNT}:user/dev")},
    });
    root.s3
        .put_object()
        .bucket("trail-logs")
        .key(format!(
            "AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/{day}/{ACCOUNT}_CloudTrail_us-east-1_x.json.gz"
        ))
        .body(log_object(vec![marker]).into())
        .send()
        .await
        .expect("object");

    // Not agreed: nothing is created, and the message says how to agree.
    let (code, _, err) = timeline(&moto, &["--engine", "athena", "--athena-create", "keyspil"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("must repeat the workgroup's name (keyspill)"),
        "{err}"
    );
    let (code, out, err) = timeline(&moto, &["--engine", "athena"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("--athena-create keyspill creates it"), "{err}");
    assert!(
        !out.contains("downloaded-1"),
        "athena was asked for, nothing downloaded:\n{out}"
    );

    // Agreed: workgroup, database and table, then two rounds of the key query.
    let assume = event(
        "athena-1",
        &at(40),
        "sts.amazonaws.com",
        "AssumeRole",
        LEAKED,
        json!({"roleArn": format!("arn:aws:iam::{ACCOUNT}:role/deploy"), "roleSessionName": "x"}),
        json!({"credentials": {"accessKeyId": SESSION, "expiration": at(-60)}}),
    );
    let create_user = event(
        "athena-2",
        &at(30),
        "iam.amazonaws.com",
        "CreateUser",
        SESSION,
        json!({"userName": "ops-backup"}),
        Value::Null,
    );
    queue(
        &moto,
        vec![
            vec![],
            vec![],
            vec![header(), assume],
            vec![header(), create_user],
        ],
    );
    let (code, out, err) = timeline(
        &moto,
        &[
            "--engine",
            "athena",
            "--athena-create",
            "keyspill",
            "--athena-output",
            "s3://athena-results/keyspill/",
            "--athena-cutoff-gib",
            "200",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let ids: Vec<String> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| {
            v["eventID"]
                .as_str()
                .or(v["id"].as_str())
                .map(str::to_string)
        })
        .collect();
    assert!(
        out.contains("athena-1") && out.contains("athena-2"),
        "{ids:?}\n{out}"
    );
    assert!(!out.contains("downloaded-1"), "{out}");
    // Said before the queries ran, in order.
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("Athena: ")).collect();
    let position = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in\n{err}"))
    };
    assert!(
        position("searched with Athena (--engine athena)") < position("created workgroup keyspill")
    );
    assert!(
        position("query 1 in keyspill.cloudtrail_trail_logs for 1 key(s): scans about")
            < position("query 1 (")
    );
    assert!(
        position("query 1 (") < position("query 2 in keyspill.cloudtrail_trail_logs for 1 key(s)")
    );
    assert!(err.contains("USD 0.00 at USD 5 per TB"), "{err}");

    // What Athena was sent and how the workgroup was made.
    let athena = root.athena_in("us-east-1");
    let group = athena
        .get_work_group()
        .work_group("keyspill")
        .send()
        .await
        .expect("workgroup");
    let config = group
        .work_group()
        .and_then(|w| w.configuration())
        .expect("configuration");
    assert_eq!(
        config.bytes_scanned_cutoff_per_query(),
        Some(200 * (1 << 30))
    );
    assert_eq!(config.enforce_work_group_configuration(), Some(true));
    let listed = athena
        .list_query_executions()
        .work_group("keyspill")
        .send()
        .await
        .expect("executions");
    let mut sent = Vec::new();
    for id in listed.query_execution_ids() {
        let q = athena
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .expect("execution");
        sent.push(
            q.query_execution()
                .and_then(|q| q.query())
                .unwrap_or_default()
                .to_string(),
        );
    }
    assert!(
        sent.iter()
            .any(|q| q.starts_with("CREATE DATABASE IF NOT EXISTS `keyspill`")),
        "{sent:#?}"
    );
    assert!(
        sent.iter().any(|q| q
            .contains("CREATE EXTERNAL TABLE IF NOT EXISTS `keyspill`.`cloudtrail_trail_logs`")
            && q.contains("LOCATION 's3://trail-logs/AWSLogs/'")
            && q.contains(&format!("'projection.account.values' = '{ACCOUNT}'"))),
        "{sent:#?}"
    );
    let key_query = |key: &str| {
        sent.iter().any(|q| {
            q.starts_with("SELECT eventid")
                && q.contains(&format!("useridentity.accesskeyid IN ('{key}')"))
                && q.contains(&format!("AND account IN ('{ACCOUNT}')"))
                && q.contains(&format!("AND '{day}'"))
        })
    };
    assert!(key_query(LEAKED) && key_query(SESSION), "{sent:#?}");

    // A window this small, on auto, is read here: the object is downloaded.
    let (code, out, err) = timeline(&moto, &["--engine", "auto"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("read here (Athena is used above 10 GiB with --engine auto)"),
        "{err}"
    );
    assert!(out.contains("downloaded-1"), "{out}");
}
