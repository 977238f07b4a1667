//! What the game's detection sources say: the GuardDuty findings the attacker's first minutes
//! would raise about the leaked key, and the AWS Health `AWS_RISK_CREDENTIALS_EXPOSED` event
//! AWS opens when it finds the key in public. Served by [`super::gaps`] in the wire format of
//! each API (GuardDuty's REST JSON, Health's JSON 1.1); moto has neither.

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::Seeded;
use super::record::event_time;

/// The detector id the game's GuardDuty answers with, in every region.
pub const DETECTOR: &str = "6ec5e9a7b0d4c0e1keyspillgame0001";

/// The findings, as `GetFindings` returns them (camelCase): in the region of the attacker's
/// first call, about the leaked key.
pub fn findings(seeded: &Seeded) -> Vec<Value> {
    let region = seeded
        .history
        .first()
        .map(|e| e.region.clone())
        .unwrap_or_else(|| "us-east-1".to_string());
    let first = seeded.leak_start;
    let last = seeded.history.iter().map(|e| e.at).max().unwrap_or(first);
    let finding = |n: u32, kind: &str, title: &str, severity: f64, count: usize| {
        let id = format!(
            "{:032x}",
            u128::from(n) << 64 | u128::from(seeded.leak_start.unix_timestamp().unsigned_abs())
        );
        json!({
            "accountId": seeded.account,
            "arn": format!("arn:aws:guardduty:{region}:{}:detector/{DETECTOR}/finding/{id}", seeded.account),
            "createdAt": event_time(last),
            "id": id,
            "partition": "aws",
            "region": region,
            "resource": {
                "resourceType": "AccessKey",
                "accessKeyDetails": {
                    "accessKeyId": seeded.leaked.key_id,
                    "principalId": "",
                    "userName": seeded.leaked.user,
                    "userType": "IAMUser",
                },
            },
            "schemaVersion": "2.0",
            "service": {
                "serviceName": "guardduty",
                "detectorId": DETECTOR,
                "eventFirstSeen": event_time(first),
                "eventLastSeen": event_time(last),
                "count": count,
                "archived": false,
            },
            "severity": severity,
            "title": title,
            "type": kind,
            "updatedAt": event_time(last),
        })
    };
    let calls = seeded.history.iter().filter(|e| e.ok).count().max(1);
    vec![
        finding(
            1,
            "PenTest:IAMUser/KaliLinux",
            &format!(
                "API ListBuckets was invoked from a Kali Linux computer by {}.",
                seeded.leaked.user
            ),
            5.0,
            calls,
        ),
        finding(
            2,
            "Persistence:IAMUser/AnomalousBehavior",
            &format!(
                "The user {} is anomalously invoking APIs commonly used in Persistence tactics.",
                seeded.leaked.user
            ),
            5.0,
            calls,
        ),
    ]
}

/// The Health event AWS opens for the exposed key, and the key as its affected entity.
#[derive(Debug, Clone)]
pub struct Exposed {
    pub arn: String,
    pub at: OffsetDateTime,
    pub key: String,
    pub account: String,
}

pub fn exposed(seeded: &Seeded, detected: OffsetDateTime) -> Exposed {
    Exposed {
        arn: format!(
            "arn:aws:health:global::event/IAM/AWS_RISK_CREDENTIALS_EXPOSED/AWS_RISK_CREDENTIALS_EXPOSED_{}",
            detected.unix_timestamp()
        ),
        at: detected,
        key: seeded.leaked.key_id.clone(),
        account: seeded.account.clone(),
    }
}

/// Health speaks Smithy RPC v2 CBOR: `DescribeEvents`' answer.
pub fn describe_events(e: &Exposed) -> Vec<u8> {
    let at = aws_smithy_types::DateTime::from_secs(e.at.unix_timestamp());
    let mut c = aws_smithy_cbor::Encoder::new(Vec::new());
    c.map(1).str("events").array(1).map(9);
    for (k, v) in [
        ("arn", e.arn.as_str()),
        ("service", "RISK"),
        ("eventTypeCode", "AWS_RISK_CREDENTIALS_EXPOSED"),
        ("eventTypeCategory", "issue"),
        ("region", "global"),
        ("statusCode", "open"),
        ("eventScopeCode", "ACCOUNT_SPECIFIC"),
    ] {
        c.str(k).str(v);
    }
    c.str("startTime").timestamp(&at);
    c.str("lastUpdatedTime").timestamp(&at);
    c.into_writer()
}

/// `DescribeAffectedEntities`' answer: the key.
pub fn describe_affected_entities(e: &Exposed) -> Vec<u8> {
    let at = aws_smithy_types::DateTime::from_secs(e.at.unix_timestamp());
    let mut c = aws_smithy_cbor::Encoder::new(Vec::new());
    c.map(1).str("entities").array(1).map(6);
    let entity_arn = format!("{}/entity/{}", e.arn, e.key);
    for (k, v) in [
        ("entityArn", entity_arn.as_str()),
        ("eventArn", e.arn.as_str()),
        ("entityValue", e.key.as_str()),
        ("awsAccountId", e.account.as_str()),
        ("statusCode", "IMPAIRED"),
    ] {
        c.str(k).str(v);
    }
    c.str("lastUpdatedTime").timestamp(&at);
    c.into_writer()
}
