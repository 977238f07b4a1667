//! Searching a trail with Amazon Athena instead of downloading it: when, at what cost, and the
//! SQL. An organisation's trail over weeks can be hundreds of gigabytes; one machine in a war
//! room cannot download and scan that in the hour that matters, while Athena scans it where
//! it lies and bills by the byte.
//!
//! Facts used (AWS documentation): Athena bills USD 5 per TB scanned, at least 10 MB a query;
//! a gzip trail object is scanned at its stored size; CloudTrail delivers to
//! `[prefix/]AWSLogs/[o-id/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/`, which partition projection
//! maps to (account, region, day) without crawling or loading partitions.

use serde_json::{Map, Value, json};
use time::Date;
use time::macros::format_description;

/// USD per TiB scanned (AWS prices the terabyte as 2^40 bytes here).
pub const USD_PER_TIB: f64 = 5.0;
/// The least a query is billed for.
pub const MIN_BILLED_BYTES: u64 = 10 * 1024 * 1024;
/// `--engine auto` searches with Athena when the window's trail objects add up to more than
/// this: 10 GiB is minutes to tens of minutes of download on a good link before the scan
/// starts, and USD 0.05 a query on Athena.
pub const AUTO_THRESHOLD_BYTES: u64 = 10 * 1024 * 1024 * 1024;
/// The workgroup's cutoff unless told: no query scans more than 1 TiB (USD 5).
pub const DEFAULT_CUTOFF_BYTES: u64 = 1 << 40;
/// Rounds of "what did the credentials found so far mint": the chain is followed this deep.
pub const MAX_ROUNDS: usize = 8;

/// Which engine searches the trail logs in S3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// Download and scan here.
    Local,
    /// Query with Athena.
    Athena,
    /// Athena above [`AUTO_THRESHOLD_BYTES`] in the window, local below.
    #[default]
    Auto,
}

impl Engine {
    /// Whether a window of `bytes` is searched with Athena.
    pub fn uses_athena(self, bytes: u64) -> bool {
        match self {
            Engine::Local => false,
            Engine::Athena => true,
            Engine::Auto => bytes > AUTO_THRESHOLD_BYTES,
        }
    }
}

/// What a query scanning `bytes` costs, in USD.
pub fn cost_usd(bytes: u64) -> f64 {
    bytes.max(MIN_BILLED_BYTES) as f64 / (1u64 << 40) as f64 * USD_PER_TIB
}

/// `12.3 GiB`, `850 MiB`, `4 KiB`.
pub fn size_text(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 || v >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0} {}", UNITS[unit])
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// What the room reads before a query runs.
pub fn estimate_text(bytes: u64) -> String {
    format!(
        "scans about {} (about USD {:.2} at USD 5 per TB)",
        size_text(bytes),
        cost_usd(bytes)
    )
}

/// The table over one trail's logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub database: String,
    pub name: String,
    /// `s3://bucket/[prefix/]AWSLogs/[o-id/]`, with its trailing slash.
    pub location: String,
    /// The accounts whose logs it holds (one, or the organisation's).
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    /// The first day projected.
    pub from: Date,
}

impl Table {
    /// The table for a trail's bucket and prefix (and organisation, for an organisation
    /// trail): its name is made from the bucket and prefix, so one trail has one table.
    pub fn for_trail(
        database: &str,
        bucket: &str,
        prefix: Option<&str>,
        org: Option<&str>,
        accounts: Vec<String>,
        regions: Vec<String>,
        from: Date,
    ) -> Table {
        let mut location = format!("s3://{bucket}/");
        if let Some(p) = prefix.filter(|p| !p.is_empty()) {
            location.push_str(p.trim_matches('/'));
            location.push('/');
        }
        location.push_str("AWSLogs/");
        if let Some(o) = org {
            location.push_str(o);
            location.push('/');
        }
        let source = format!("{bucket}_{}", prefix.unwrap_or(""));
        let name: String = format!("cloudtrail_{source}")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(120)
            .collect();
        Table {
            database: database.to_string(),
            name: name.trim_end_matches('_').to_string(),
            location,
            accounts,
            regions,
            from,
        }
    }

    fn qualified(&self) -> String {
        format!("`{}`.`{}`", self.database, self.name)
    }
}

/// `CREATE DATABASE`, once.
pub fn create_database_sql(database: &str) -> String {
    format!("CREATE DATABASE IF NOT EXISTS `{database}`")
}

const DAY: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]/[month]/[day]");

fn day(d: Date) -> String {
    d.format(DAY).unwrap_or_default()
}

/// Only what the projection and the query may name: account ids, region names, key ids and
/// database, table and bucket names never need more, and a value from a trail (an attacker
/// can plant records) must not become SQL.
fn plain(s: &str, extra: &[char]) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
}

/// The table, with partition projection over (account, region, day), the CloudTrail SerDe
/// reading the logs as delivered. Refuses names that are not plain.
pub fn create_table_sql(t: &Table) -> Result<String, String> {
    if !plain(&t.database, &['_']) || !plain(&t.name, &['_']) {
        return Err(format!("not a plain name: {}.{}", t.database, t.name));
    }
    if !t.location.starts_with("s3://")
        || !plain(
            t.location.trim_start_matches("s3://"),
            &['-', '_', '.', '/', '!', '*', '(', ')'],
        )
    {
        return Err(format!("not a plain S3 location: {}", t.location));
    }
    if let Some(bad) = t
        .accounts
        .iter()
        .chain(&t.regions)
        .find(|v| !plain(v, &['-']))
    {
        return Err(format!("not an account or region: {bad:?}"));
    }
    Ok(format!(
        "CREATE EXTERNAL TABLE IF NOT EXISTS {table} (
  eventversion STRING,
  useridentity STRUCT<type: STRING, principalid: STRING, arn: STRING, accountid: STRING,
    invokedby: STRING, accesskeyid: STRING, username: STRING>,
  eventtime STRING,
  eventsource STRING,
  eventname STRING,
  awsregion STRING,
  sourceipaddress STRING,
  useragent STRING,
  errorcode STRING,
  errormessage STRING,
  requestparameters STRING,
  responseelements STRING,
  additionaleventdata STRING,
  requestid STRING,
  eventid STRING,
  readonly STRING,
  eventtype STRING,
  recipientaccountid STRING
)
PARTITIONED BY (account STRING, region STRING, day STRING)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION '{location}'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.account.type' = 'enum',
  'projection.account.values' = '{accounts}',
  'projection.region.type' = 'enum',
  'projection.region.values' = '{regions}',
  'projection.day.type' = 'date',
  'projection.day.range' = '{from},NOW',
  'projection.day.format' = 'yyyy/MM/dd',
  'projection.day.interval' = '1',
  'projection.day.interval.unit' = 'DAYS',
  'storage.location.template' = '{location}${{account}}/CloudTrail/${{region}}/${{day}}'
)",
        table = t.qualified(),
        location = t.location,
        accounts = t.accounts.join(","),
        regions = t.regions.join(","),
        from = day(t.from),
    ))
}

/// The columns the key query selects, in order; [`row_record`] reads them back.
pub const COLUMNS: [&str; 17] = [
    "eventid",
    "eventtime",
    "eventsource",
    "eventname",
    "awsregion",
    "sourceipaddress",
    "useragent",
    "identity_type",
    "identity_arn",
    "access_key_id",
    "errorcode",
    "errormessage",
    "readonly",
    "requestparameters",
    "responseelements",
    "additionaleventdata",
    "recipientaccountid",
];

/// An access key id as AWS makes them: what may be named in a query.
pub fn is_key_id(k: &str) -> bool {
    (16..=128).contains(&k.len()) && plain(k, &[])
}

/// Every event of `keys` in `accounts` from `from` to `to` (days, inclusive), in the table's
/// regions (the partitions pruned: only those are scanned). Refuses a key that is not one.
pub fn key_query_sql(
    t: &Table,
    accounts: &[String],
    keys: &[String],
    from: Date,
    to: Date,
) -> Result<String, String> {
    if keys.is_empty() {
        return Err("no key to search for".into());
    }
    if let Some(bad) = keys.iter().find(|k| !is_key_id(k)) {
        return Err(format!("not an access key id: {bad:?}"));
    }
    if let Some(bad) = accounts
        .iter()
        .find(|a| a.len() != 12 || !a.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!("not an account id: {bad:?}"));
    }
    let quoted = |v: &[String]| {
        v.iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Ok(format!(
        "SELECT eventid, eventtime, eventsource, eventname, awsregion, sourceipaddress, useragent,
  useridentity.type AS identity_type, useridentity.arn AS identity_arn,
  useridentity.accesskeyid AS access_key_id, errorcode, errormessage, readonly,
  requestparameters, responseelements, additionaleventdata, recipientaccountid
FROM {table}
WHERE day BETWEEN '{from}' AND '{to}'
  AND account IN ({accounts})
  AND region IN ({regions})
  AND useridentity.accesskeyid IN ({keys})
ORDER BY eventtime",
        table = t.qualified(),
        from = day(from),
        to = day(to),
        accounts = quoted(accounts),
        regions = quoted(&t.regions),
        keys = quoted(keys),
    ))
}

/// A result row (values in [`COLUMNS`] order, `None` for NULL) as the CloudTrail record it
/// came from, for the same parser as every other source.
pub fn row_record(values: &[Option<String>]) -> Value {
    let get = |i: usize| values.get(i).cloned().flatten().filter(|v| !v.is_empty());
    let json_or_null = |i: usize| {
        get(i)
            .and_then(|v| serde_json::from_str::<Value>(&v).ok())
            .unwrap_or(Value::Null)
    };
    let mut identity = Map::new();
    for (i, name) in [(7, "type"), (8, "arn"), (9, "accessKeyId")] {
        if let Some(v) = get(i) {
            identity.insert(name.into(), v.into());
        }
    }
    let mut r = json!({
        "eventID": get(0),
        "eventTime": get(1),
        "eventSource": get(2),
        "eventName": get(3),
        "awsRegion": get(4),
        "sourceIPAddress": get(5),
        "userAgent": get(6),
        "userIdentity": identity,
        "requestParameters": json_or_null(13),
        "responseElements": json_or_null(14),
        "additionalEventData": json_or_null(15),
        "recipientAccountId": get(16),
    });
    if let Some(o) = r.as_object_mut() {
        for (i, name) in [(10, "errorCode"), (11, "errorMessage")] {
            if let Some(v) = get(i) {
                o.insert(name.into(), v.into());
            }
        }
        if let Some(v) = get(12) {
            o.insert("readOnly".into(), (v == "true").into());
        }
        o.retain(|_, v| !v.is_null());
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn table() -> Table {
        Table::for_trail(
            "keyspill",
            "org-trail-logs",
            Some("audit/"),
            Some("o-abc123def4"),
            vec!["111122223333".into(), "444455556666".into()],
            vec!["us-east-1".into(), "eu-west-1".into()],
            date!(2026 - 11 - 20),
        )
    }

    #[test]
    fn auto_uses_athena_only_above_the_threshold() {
        assert!(!Engine::Auto.uses_athena(AUTO_THRESHOLD_BYTES));
        assert!(Engine::Auto.uses_athena(AUTO_THRESHOLD_BYTES + 1));
        assert!(Engine::Athena.uses_athena(0));
        assert!(!Engine::Local.uses_athena(u64::MAX));
    }

    #[test]
    fn cost_is_five_dollars_a_terabyte_with_a_ten_megabyte_floor() {
        assert!((cost_usd(1 << 40) - 5.0).abs() < 1e-9);
        assert!((cost_usd(0) - cost_usd(MIN_BILLED_BYTES)).abs() < 1e-12);
        assert_eq!(
            estimate_text(200 * (1 << 30)),
            "scans about 200 GiB (about USD 0.98 at USD 5 per TB)"
        );
        assert_eq!(size_text(1536), "1.5 KiB");
        assert_eq!(size_text(AUTO_THRESHOLD_BYTES), "10 GiB");
        assert_eq!(size_text(322), "322 B");
    }

    #[test]
    fn the_table_is_named_for_its_trail_and_projects_account_region_and_day() {
        let t = table();
        assert_eq!(t.name, "cloudtrail_org_trail_logs_audit");
        assert_eq!(
            t.location,
            "s3://org-trail-logs/audit/AWSLogs/o-abc123def4/"
        );
        insta::assert_snapshot!("athena_create_table", create_table_sql(&t).expect("sql"));
    }

    #[test]
    fn the_key_query_prunes_partitions_and_names_only_key_ids() {
        let t = table();
        let sql = key_query_sql(
            &t,
            &["111122223333".into()],
            &["AKIA2DEVLEAKEDKEY001".into(), "ASIA2SESSIONONE00001".into()],
            date!(2026 - 11 - 20),
            date!(2026 - 12 - 05),
        )
        .expect("sql");
        insta::assert_snapshot!("athena_key_query", sql);
        // A "key" from a planted record never reaches the SQL.
        let planted = "AKIA' OR '1'='1".to_string();
        let one = ["111122223333".to_string()];
        assert!(key_query_sql(&t, &one, &[planted], t.from, t.from).is_err());
        let key = ["AKIA2DEVLEAKEDKEY001".to_string()];
        assert!(key_query_sql(&t, &["1111') --".into()], &key, t.from, t.from).is_err());
        let mut bad = t.clone();
        bad.regions.push("us-east-1' --".into());
        assert!(create_table_sql(&bad).is_err());
    }

    #[test]
    fn a_row_becomes_the_record_it_came_from() {
        let row: Vec<Option<String>> = vec![
            Some("e-1".into()),
            Some("2026-12-04T10:00:00Z".into()),
            Some("iam.amazonaws.com".into()),
            Some("CreateUser".into()),
            Some("us-east-1".into()),
            Some("198.51.100.7".into()),
            Some("aws-cli/2".into()),
            Some("IAMUser".into()),
            Some("arn:aws:iam::111122223333:user/dev".into()),
            Some("AKIA2DEVLEAKEDKEY001".into()),
            None,
            None,
            Some("false".into()),
            Some(r#"{"userName":"ops-backup"}"#.into()),
            None,
            None,
            Some("111122223333".into()),
        ];
        let r = row_record(&row);
        assert_eq!(r["userIdentity"]["accessKeyId"], "AKIA2DEVLEAKEDKEY001");
        assert_eq!(r["requestParameters"]["userName"], "ops-backup");
        assert_eq!(r["readOnly"], false);
        assert!(r.get("errorCode").is_none() && r.get("responseElements").is_none());
        let origin = crate::timeline::model::Origin::File {
            path: "athena".into(),
        };
        let e = crate::timeline::parse::parse_record(&r, &origin).expect("parses");
        assert_eq!(&*e.name, "CreateUser");
        assert_eq!(&*e.access_key_id, "AKIA2DEVLEAKEDKEY001");
    }
}
