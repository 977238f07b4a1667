//! CloudTrail records as AWS delivers them, and the gzip'd log objects that hold them.
//!
//! The shape follows the real records in `data/cloudtrail/` (stratus-red-team and the AWS
//! documentation): `eventVersion` 1.09, a `userIdentity` per caller type, `tlsDetails`,
//! `readOnly` as a JSON boolean, IAM dates in the `Aug 1, 2024 1:33:28 PM` style, and so on.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{Value, json};
use time::{Duration, OffsetDateTime, UtcOffset};

use super::rng::Rng;

/// Who made a call, as the record's `userIdentity` says it.
#[derive(Debug, Clone)]
pub(crate) struct Actor {
    pub identity: Value,
    /// The access key the call was signed with (empty for AWS services).
    pub key: String,
    /// The ARN used in AccessDenied messages.
    pub arn: String,
}

/// An IAM user signing with its access key.
pub(crate) fn iam_user(account: &str, name: &str, user_id: &str, key: &str) -> Actor {
    let arn = format!("arn:aws:iam::{account}:user/{name}");
    Actor {
        identity: json!({
            "type": "IAMUser",
            "principalId": user_id,
            "arn": arn,
            "accountId": account,
            "accessKeyId": key,
            "userName": name,
        }),
        key: key.to_string(),
        arn,
    }
}

/// An IAM user in the console: a console session key and the MFA flag in the session context.
pub(crate) fn console_user(
    account: &str,
    name: &str,
    user_id: &str,
    key: &str,
    signed_in: OffsetDateTime,
) -> Actor {
    let mut actor = iam_user(account, name, user_id, key);
    if let Some(map) = actor.identity.as_object_mut() {
        map.insert(
            "sessionContext".into(),
            json!({
                "sessionIssuer": {},
                "webIdFederationData": {},
                "attributes": {"creationDate": event_time(signed_in), "mfaAuthenticated": "true"},
            }),
        );
    }
    actor
}

/// A session of an assumed role, signing with its `ASIA…` key.
pub(crate) fn assumed_role(
    account: &str,
    role: &str,
    role_id: &str,
    session: &str,
    key: &str,
    issued: OffsetDateTime,
) -> Actor {
    let arn = format!("arn:aws:sts::{account}:assumed-role/{role}/{session}");
    Actor {
        identity: json!({
            "type": "AssumedRole",
            "principalId": format!("{role_id}:{session}"),
            "arn": arn,
            "accountId": account,
            "accessKeyId": key,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": role_id,
                    "arn": format!("arn:aws:iam::{account}:role/{role}"),
                    "accountId": account,
                    "userName": role,
                },
                "webIdFederationData": {},
                "attributes": {"creationDate": event_time(issued), "mfaAuthenticated": "false"},
            },
        }),
        key: key.to_string(),
        arn,
    }
}

/// An AWS service acting for the account (Lambda assuming a function's role, say).
pub(crate) fn aws_service(service: &str) -> Actor {
    Actor {
        identity: json!({"type": "AWSService", "invokedBy": service}),
        key: String::new(),
        arn: service.to_string(),
    }
}

/// A principal of another account (a vendor assuming a role it is trusted with).
pub(crate) fn other_account(account: &str, principal_id: &str) -> Actor {
    Actor {
        identity: json!({"type": "AWSAccount", "principalId": principal_id, "accountId": account}),
        key: String::new(),
        arn: format!("arn:aws:iam::{account}:root"),
    }
}

/// One API call to record.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub time: OffsetDateTime,
    pub region: String,
    /// `ec2`, `iam`, `sts`, `s3`, `lambda`, `autoscaling`, `cloudtrail`, `signin`, `logs`.
    pub service: &'static str,
    pub name: String,
    pub read_only: bool,
    pub request: Value,
    pub response: Value,
    /// `(errorCode, errorMessage)`.
    pub error: Option<(String, String)>,
    pub ip: String,
    pub agent: String,
    /// `AwsApiCall`, or `AwsConsoleSignIn` for a console sign-in.
    pub event_type: &'static str,
    pub additional: Option<Value>,
    /// A data event's `resources`: set, the record is a data event (`eventCategory` `Data`),
    /// which only a trail with data event selectors records and LookupEvents never returns.
    pub data_resources: Option<Value>,
}

impl Call {
    /// A successful API call with no request or response details yet.
    pub(crate) fn new(
        time: OffsetDateTime,
        region: &str,
        service: &'static str,
        name: &str,
        read_only: bool,
    ) -> Call {
        Call {
            time,
            region: region.to_string(),
            service,
            name: name.to_string(),
            read_only,
            request: Value::Null,
            response: Value::Null,
            error: None,
            ip: String::new(),
            agent: String::new(),
            event_type: "AwsApiCall",
            additional: None,
            data_resources: None,
        }
    }

    /// Makes it a data event on these resources (`[{"type": …, "ARN": …}]`).
    pub(crate) fn data_event(mut self, resources: Value) -> Call {
        self.data_resources = Some(resources);
        self
    }

    pub(crate) fn request(mut self, v: Value) -> Call {
        self.request = v;
        self
    }

    pub(crate) fn response(mut self, v: Value) -> Call {
        self.response = v;
        self
    }

    pub(crate) fn failed(mut self, code: &str, message: &str) -> Call {
        self.error = Some((code.to_string(), message.to_string()));
        self.response = Value::Null;
        self
    }

    pub(crate) fn from(mut self, ip: &str, agent: &str) -> Call {
        self.ip = ip.to_string();
        self.agent = agent.to_string();
        self
    }
}

/// The host name a client of `service` in `region` talks to.
fn host(service: &str, region: &str) -> String {
    match service {
        "iam" => "iam.amazonaws.com".into(),
        "signin" => "signin.aws.amazon.com".into(),
        "s3" if region == "us-east-1" => "s3.amazonaws.com".into(),
        _ => format!("{service}.{region}.amazonaws.com"),
    }
}

/// The full record. `eventID` and `requestID` come from `rng`.
pub(crate) fn record(account: &str, actor: &Actor, call: &Call, rng: &mut Rng) -> Value {
    let mut r = serde_json::Map::new();
    r.insert("eventVersion".into(), json!("1.09"));
    r.insert("userIdentity".into(), actor.identity.clone());
    r.insert("eventTime".into(), json!(event_time(call.time)));
    r.insert(
        "eventSource".into(),
        json!(format!("{}.amazonaws.com", call.service)),
    );
    r.insert("eventName".into(), json!(call.name));
    r.insert("awsRegion".into(), json!(call.region));
    r.insert("sourceIPAddress".into(), json!(call.ip));
    r.insert("userAgent".into(), json!(call.agent));
    if let Some((code, message)) = &call.error {
        r.insert("errorCode".into(), json!(code));
        r.insert("errorMessage".into(), json!(message));
    }
    r.insert("requestParameters".into(), call.request.clone());
    r.insert("responseElements".into(), call.response.clone());
    if let Some(extra) = &call.additional {
        r.insert("additionalEventData".into(), extra.clone());
    }
    r.insert("requestID".into(), json!(rng.uuid()));
    r.insert("eventID".into(), json!(rng.uuid()));
    r.insert("readOnly".into(), json!(call.read_only));
    r.insert("eventType".into(), json!(call.event_type));
    match &call.data_resources {
        Some(resources) => {
            r.insert("resources".into(), resources.clone());
            r.insert("managementEvent".into(), json!(false));
            r.insert("recipientAccountId".into(), json!(account));
            r.insert("eventCategory".into(), json!("Data"));
        }
        None => {
            r.insert("managementEvent".into(), json!(true));
            r.insert("recipientAccountId".into(), json!(account));
            r.insert("eventCategory".into(), json!("Management"));
        }
    }
    if call.event_type == "AwsApiCall" && !actor.key.is_empty() {
        r.insert(
            "tlsDetails".into(),
            json!({
                "tlsVersion": "TLSv1.3",
                "cipherSuite": "TLS_AES_128_GCM_SHA256",
                "clientProvidedHostHeader": host(call.service, &call.region),
            }),
        );
    }
    Value::Object(r)
}

/// `2024-08-01T13:33:28Z`, as CloudTrail writes `eventTime`.
pub(crate) fn event_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Aug 1, 2024 1:33:28 PM`, the date style of IAM's response elements. With `comma`, STS's
/// `Aug 1, 2024, 1:33:28 PM`.
pub(crate) fn java_date(t: OffsetDateTime, comma: bool) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let month = MONTHS
        .get(usize::from(u8::from(t.month())) - 1)
        .copied()
        .unwrap_or("Jan");
    let (hour, half) = match t.hour() {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    format!(
        "{month} {}, {}{} {hour}:{:02}:{:02} {half}",
        t.day(),
        t.year(),
        if comma { "," } else { "" },
        t.minute(),
        t.second()
    )
}

/// Milliseconds since the epoch, as EC2 writes `launchTime` in CloudTrail.
pub(crate) fn epoch_millis(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

/// A record waiting to be delivered, with the region whose folder it goes to.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub region: String,
    pub time: OffsetDateTime,
    pub record: Value,
}

/// A log object ready to be put in the trail bucket.
#[derive(Debug, Clone)]
pub(crate) struct LogObject {
    pub key: String,
    pub body: Vec<u8>,
    pub event_ids: Vec<String>,
}

/// `AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16 chars>.json.gz`.
pub(crate) fn object_key(
    account: &str,
    region: &str,
    delivered: OffsetDateTime,
    rng: &mut Rng,
) -> String {
    let t = delivered.to_offset(UtcOffset::UTC);
    let (y, m, d) = (t.year(), u8::from(t.month()), t.day());
    let unique = rng.chars(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        16,
    );
    format!(
        "AWSLogs/{account}/CloudTrail/{region}/{y:04}/{m:02}/{d:02}/\
         {account}_CloudTrail_{region}_{y:04}{m:02}{d:02}T{:02}{:02}Z_{unique}.json.gz",
        t.hour(),
        t.minute()
    )
}

/// gzip'd `{"Records":[…]}`.
pub(crate) fn gzip_records(records: &[Value]) -> Result<Vec<u8>, String> {
    let text = serde_json::to_vec(&json!({ "Records": records })).map_err(|e| e.to_string())?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&text).map_err(|e| e.to_string())?;
    gz.finish().map_err(|e| e.to_string())
}

/// Records grouped into log objects the way a trail delivers them: one object per region and
/// `block` of time, named after its delivery (the block's end plus five minutes, never later
/// than `latest`), records in time order. Objects come out ordered by region, then time, and
/// draw their names from `rng` in that order.
pub(crate) fn pack(
    account: &str,
    records: Vec<Planned>,
    block: Duration,
    latest: OffsetDateTime,
    rng: &mut Rng,
) -> Result<Vec<LogObject>, String> {
    let block_s = block.whole_seconds().max(1);
    let mut groups: BTreeMap<(String, i64), Vec<Planned>> = BTreeMap::new();
    for p in records {
        let slot = p.time.unix_timestamp().div_euclid(block_s);
        groups.entry((p.region.clone(), slot)).or_default().push(p);
    }
    let mut out = Vec::with_capacity(groups.len());
    for ((region, slot), mut items) in groups {
        items.sort_by_key(|a| a.time);
        let newest = items.last().map_or(latest, |p| p.time);
        let block_end =
            OffsetDateTime::from_unix_timestamp((slot + 1) * block_s).map_err(|e| e.to_string())?;
        let delivered = (block_end + Duration::minutes(5)).min(latest).max(newest);
        let key = object_key(account, &region, delivered, rng);
        let event_ids = items
            .iter()
            .map(|p| {
                p.record
                    .get("eventID")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        let values: Vec<Value> = items.into_iter().map(|p| p.record).collect();
        out.push(LogObject {
            key,
            body: gzip_records(&values)?,
            event_ids,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn dates_are_written_the_way_aws_writes_them() {
        let t = datetime!(2024-08-01 13:33:28 UTC);
        assert_eq!(event_time(t), "2024-08-01T13:33:28Z");
        assert_eq!(java_date(t, false), "Aug 1, 2024 1:33:28 PM");
        assert_eq!(java_date(t, true), "Aug 1, 2024, 1:33:28 PM");
        assert_eq!(
            java_date(datetime!(2024-12-31 00:05:09 UTC), false),
            "Dec 31, 2024 12:05:09 AM"
        );
        assert_eq!(epoch_millis(datetime!(1970-01-01 00:00:01 UTC)), 1000);
    }

    #[test]
    fn object_keys_follow_the_delivery_layout() {
        let mut rng = Rng::new(1, "k");
        let key = object_key(
            "123456789012",
            "eu-west-1",
            datetime!(2025-03-02 04:07:00 UTC),
            &mut rng,
        );
        let (dir, name) = key.rsplit_once('/').expect("folder");
        assert_eq!(dir, "AWSLogs/123456789012/CloudTrail/eu-west-1/2025/03/02");
        assert!(
            name.starts_with("123456789012_CloudTrail_eu-west-1_20250302T0407Z_"),
            "{name}"
        );
        assert!(name.ends_with(".json.gz"));
        assert_eq!(
            name.len(),
            "123456789012_CloudTrail_eu-west-1_20250302T0407Z_".len() + 16 + 8
        );
    }

    #[test]
    fn a_packed_object_parses_as_a_log_file() {
        let mut rng = Rng::new(2, "p");
        let actor = iam_user("123456789012", "dev", "AIDAEXAMPLE", "AKIAEXAMPLE");
        let t = datetime!(2025-03-02 04:07:00 UTC);
        let records = (0..3)
            .map(|i| Planned {
                region: "us-east-1".into(),
                time: t + Duration::minutes(i),
                record: record(
                    "123456789012",
                    &actor,
                    &Call::new(
                        t + Duration::minutes(i),
                        "us-east-1",
                        "ec2",
                        "DescribeInstances",
                        true,
                    ),
                    &mut rng,
                ),
            })
            .collect();
        let objects = pack(
            "123456789012",
            records,
            Duration::hours(6),
            t + Duration::days(1),
            &mut rng,
        )
        .expect("pack");
        assert_eq!(objects.len(), 1);
        let origin = keyspill_core::timeline::model::Origin::File {
            path: "x.json.gz".into(),
        };
        let text = keyspill_core::timeline::parse::decompress(&objects[0].body).expect("gzip");
        let parsed = keyspill_core::timeline::parse::parse_document(&text, &origin);
        assert_eq!(parsed.events.len(), 3);
        assert!(parsed.skipped.is_empty());
        // Delivered five minutes after the six-hour block ends.
        assert!(
            objects[0].key.contains("_20250302T0605Z_"),
            "{}",
            objects[0].key
        );
    }
}
