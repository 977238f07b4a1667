//! Every shape a responder is handed CloudTrail in, read back to the same events.
//!
//! The records are the real ones in `shared/data/cloudtrail` (all of them, whatever their own
//! container); only the container around them is built here, the way the tool that writes it
//! does (each builder names its source). Each shape is read with no key filter and with one
//! (the byte-level filter path of `files::scan_bytes`), whole and gzip'd, and must give the
//! events the records give on their own: same ids, times, names, sources, regions, source
//! IPs, access keys, errors and identities. Then malformed items of each shape are skipped
//! with a reason while the good ones around them are still read.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use crate::timeline_data::{Edit, mutate};
use keyspill_core::timeline::files::{keeps, scan_bytes, scan_paths};
use keyspill_core::timeline::parse::{Parsed, parse_document, parse_record};
use keyspill_core::timeline::prefilter::KeyFilter;
use keyspill_core::timeline::{Event, Origin};
use serde_json::{Map, Value, json};
use time::format_description::well_known::Rfc3339;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/cloudtrail")
}

fn origin() -> Origin {
    Origin::File {
        path: "shape".into(),
    }
}

/// Every record of the real data set that reads as an event, as its JSON: whatever file it
/// is in and whatever container it came in (a LookupEvents item gives its inner record).
static RECORDS: LazyLock<Vec<Value>> = LazyLock::new(|| {
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(data_dir().join("MANIFEST.json")).expect("MANIFEST.json"),
    )
    .expect("MANIFEST.json is JSON");
    let mut records = Vec::new();
    let mut expected = 0u64;
    for file in manifest["files"].as_array().expect("files[]") {
        let rel = file["path"].as_str().expect("path");
        let bytes = std::fs::read(data_dir().join(rel)).expect("data file");
        let parsed = parse_document(&bytes, &origin());
        records.extend(
            parsed
                .events
                .iter()
                .map(|e| serde_json::from_str::<Value>(&e.raw).expect("raw is JSON")),
        );
        expected += file["records"].as_u64().unwrap_or(0);
    }
    // The manifest counts fragments as records; they are not events.
    assert!(records.len() as u64 <= expected && records.len() >= 300);
    records
});

/// What must survive any container, as text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Seen {
    time: String,
    name: String,
    id: String,
    service: String,
    region: String,
    source_ip: String,
    key: String,
    error: String,
    arn: String,
    identity_type: String,
    minted: String,
}

impl Seen {
    fn of(e: &Event) -> Seen {
        Seen {
            time: e.time.format(&Rfc3339).expect("formats"),
            name: e.name.to_string(),
            // An id hashed from a record without eventID changes with the container's edits
            // (Logstash re-renders the time): that it is a hash is what holds.
            id: if e.id.starts_with("h:") {
                "h:".into()
            } else {
                e.id.to_string()
            },
            service: e.service.to_string(),
            region: e.region.to_string(),
            source_ip: e.source_ip.to_string(),
            key: e.access_key_id.to_string(),
            error: e.error_code.as_deref().unwrap_or_default().to_string(),
            arn: e.identity_arn.to_string(),
            identity_type: e.identity_type.to_string(),
            minted: e
                .minted
                .as_ref()
                .map(|m| m.key_id.clone())
                .unwrap_or_default(),
        }
    }

    /// Only what a summary row carries (the console's CSV columns, a SIEM table).
    fn summary(mut self) -> Seen {
        self.arn.clear();
        self.identity_type.clear();
        self.minted.clear();
        self
    }
}

fn seen(events: &[Event], summary: bool) -> Vec<Seen> {
    let mut out: Vec<Seen> = events
        .iter()
        .map(|e| {
            let s = Seen::of(e);
            if summary { s.summary() } else { s }
        })
        .collect();
    out.sort();
    out
}

/// The events the records give on their own.
fn direct(records: &[Value]) -> Vec<Event> {
    records
        .iter()
        .map(|r| parse_record(r, &origin()).expect("a real record parses"))
        .collect()
}

/// The call's name or service as a summary shows it: Insights events keep theirs under
/// `insightDetails`.
fn call(record: &Value, member: &str) -> String {
    match text(record, &[member]) {
        t if t.is_empty() => text(record, &["insightDetails", member]),
        t => t,
    }
}

fn text(record: &Value, path: &[&str]) -> String {
    let mut at = record;
    for key in path {
        at = match at.get(key) {
            Some(v) => v,
            None => return String::new(),
        };
    }
    match at {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// A time as Logstash and Elasticsearch render `@timestamp`: milliseconds, `Z`.
fn millis(time: &str) -> String {
    let t = time::OffsetDateTime::parse(time, &Rfc3339).expect("real eventTime");
    let ms = t.millisecond();
    let base = t
        .replace_nanosecond(0)
        .expect("zero")
        .format(&Rfc3339)
        .expect("formats");
    format!("{}.{ms:03}Z", base.trim_end_matches('Z'))
}

// ---------------------------------------------------------------------------------------------
// The containers, built as their tools build them.

/// Logstash's `cloudtrail` codec (logstash-plugins/logstash-codec-cloudtrail): one event per
/// record, `eventTime` moved to `@timestamp`, `@version` added, written one JSON document per
/// line by the `file` or `stdout { codec => json_lines }` output.
fn logstash_codec(record: &Value) -> Value {
    let mut doc = record.as_object().cloned().unwrap_or_default();
    let time = doc.remove("eventTime").expect("eventTime");
    doc.insert(
        "@timestamp".into(),
        json!(millis(time.as_str().expect("string"))),
    );
    doc.insert("@version".into(), json!("1"));
    Value::Object(doc)
}

/// Logstash reading a JSON Lines file with the plain codec: the record kept as text in
/// `message`, `@timestamp` the time Logstash read it (not the event's).
fn logstash_message(record: &Value) -> Value {
    json!({
        "@timestamp": "2026-12-04T20:00:00.000Z",
        "@version": "1",
        "message": record.to_string(),
        "host": {"name": "ingest-1"},
        "log": {"file": {"path": "/var/log/cloudtrail/export.json"}},
        "event": {"original": record.to_string()},
    })
}

/// Elastic's `aws.cloudtrail` data stream (Elastic Agent / Filebeat through the integration's
/// ingest pipeline, elastic/integrations `packages/aws/data_stream/cloudtrail`): ECS fields,
/// empty values dropped, the original record in `event.original` when `preserve_original_event`
/// is set.
fn elastic_ecs(record: &Value, keep_original: bool) -> Value {
    let mut doc = Map::new();
    let mut put = |path: &str, value: Value| {
        let empty = matches!(&value, Value::Null) || value.as_str() == Some("");
        if empty {
            return;
        }
        let mut at = &mut doc;
        let parts: Vec<&str> = path.split('.').collect();
        let (last, parents) = parts.split_last().expect("path");
        for p in parents {
            at = at
                .entry(p.to_string())
                .or_insert_with(|| json!({}))
                .as_object_mut()
                .expect("object");
        }
        at.insert(last.to_string(), value);
    };
    put("@timestamp", json!(millis(&text(record, &["eventTime"]))));
    put("ecs.version", json!("8.11.0"));
    put("event.kind", json!("event"));
    put("event.dataset", json!("aws.cloudtrail"));
    put("data_stream.dataset", json!("aws.cloudtrail"));
    if keep_original {
        put("event.original", json!(record.to_string()));
    }
    put("event.id", json!(text(record, &["eventID"])));
    put("event.provider", json!(text(record, &["eventSource"])));
    put("event.action", json!(text(record, &["eventName"])));
    put("cloud.region", json!(text(record, &["awsRegion"])));
    put(
        "cloud.account.id",
        json!(text(record, &["userIdentity", "accountId"])),
    );
    put("source.address", json!(text(record, &["sourceIPAddress"])));
    put("user_agent.original", json!(text(record, &["userAgent"])));
    put(
        "user.name",
        json!(text(record, &["userIdentity", "userName"])),
    );
    for (ecs, path) in [
        ("aws.cloudtrail.event_version", &["eventVersion"][..]),
        ("aws.cloudtrail.event_type", &["eventType"]),
        ("aws.cloudtrail.event_category", &["eventCategory"]),
        ("aws.cloudtrail.error_code", &["errorCode"]),
        ("aws.cloudtrail.error_message", &["errorMessage"]),
        (
            "aws.cloudtrail.recipient_account_id",
            &["recipientAccountId"],
        ),
        (
            "aws.cloudtrail.user_identity.type",
            &["userIdentity", "type"],
        ),
        ("aws.cloudtrail.user_identity.arn", &["userIdentity", "arn"]),
        (
            "aws.cloudtrail.user_identity.access_key_id",
            &["userIdentity", "accessKeyId"],
        ),
    ] {
        put(ecs, json!(text(record, path)));
    }
    if let Some(read_only) = record.get("readOnly") {
        put("aws.cloudtrail.read_only", read_only.clone());
    }
    for (member, flat, as_text) in [
        (
            "requestParameters",
            "aws.cloudtrail.flattened.request_parameters",
            "aws.cloudtrail.request_parameters",
        ),
        (
            "responseElements",
            "aws.cloudtrail.flattened.response_elements",
            "aws.cloudtrail.response_elements",
        ),
        (
            "additionalEventData",
            "aws.cloudtrail.flattened.additional_eventdata",
            "aws.cloudtrail.additional_eventdata",
        ),
        (
            "insightDetails",
            "aws.cloudtrail.flattened.insight_details",
            "aws.cloudtrail.insight_details",
        ),
    ] {
        if let Some(v @ Value::Object(_)) = record.get(member) {
            put(flat, v.clone());
            put(as_text, json!(v.to_string()));
        }
    }
    Value::Object(doc)
}

/// A document as Elasticsearch hands it out (a search hit, an `elasticdump` line).
fn es_doc(source: Value, n: usize) -> Value {
    json!({
        "_index": ".ds-logs-aws.cloudtrail-default-2024.07.30-000001",
        "_id": format!("doc-{n}"),
        "_score": 1.0,
        "_source": source,
    })
}

/// The body of an Elasticsearch `_search` response.
fn es_search(sources: Vec<Value>) -> Value {
    let hits: Vec<Value> = sources
        .into_iter()
        .enumerate()
        .map(|(n, s)| es_doc(s, n))
        .collect();
    json!({
        "took": 12,
        "timed_out": false,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": hits.len(), "relation": "eq"}, "max_score": 1.0, "hits": hits},
    })
}

/// One Splunk result as its APIs write it: the event's text in `_raw`, Splunk's own fields
/// around it (`_time` in the search head's rendering).
fn splunk_result(record: &Value, n: usize) -> Value {
    json!({
        "_bkt": "aws~12~5C3A1E9B-7E55-4B0A-9D2F-2C1A8F0B6D11",
        "_cd": format!("12:{n}"),
        "_indextime": "1733342400",
        "_raw": record.to_string(),
        "_serial": n.to_string(),
        "_si": ["splunk-idx-1", "aws"],
        "_sourcetype": "aws:cloudtrail",
        "_time": format!("{}+00:00", millis(&text(record, &["eventTime"])).trim_end_matches('Z')),
        "host": "splunk-hf-1",
        "index": "aws",
        "linecount": "1",
        "source": "s3://trail-bucket/AWSLogs/111122223333/CloudTrail/",
        "sourcetype": "aws:cloudtrail",
        "splunk_server": "splunk-idx-1",
    })
}

/// Splunk's export endpoint (`/services/search/v2/jobs/export?output_mode=json`, and "Export
/// results" as JSON in Splunk Web): one line per result, `{"preview":false,"result":{…}}`, the
/// last marked `lastrow`.
fn splunk_export(records: &[Value]) -> String {
    let mut out = String::new();
    for (n, record) in records.iter().enumerate() {
        let mut line = json!({"preview": false, "offset": n, "result": splunk_result(record, n)});
        if n + 1 == records.len() {
            line["lastrow"] = json!(true);
        }
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

/// Splunk's search REST API (`/services/search/v2/jobs/{sid}/results?output_mode=json`).
fn splunk_results(records: &[Value]) -> Value {
    json!({
        "preview": false,
        "init_offset": 0,
        "messages": [],
        "fields": [{"name": "_raw"}, {"name": "_time"}, {"name": "sourcetype"}],
        "results": records.iter().enumerate().map(|(n, r)| splunk_result(r, n)).collect::<Vec<_>>(),
        "highlighted": {},
    })
}

/// A Splunk `| table eventTime eventName … userIdentity.accessKeyId` exported as JSON: the
/// fields Splunk extracted, with dotted names, no `_raw`.
fn splunk_table(records: &[Value]) -> Value {
    let rows: Vec<Value> = records
        .iter()
        .map(|r| {
            let mut row = Map::new();
            for member in ["eventName", "eventSource"] {
                let v = call(r, member);
                if !v.is_empty() {
                    row.insert(member.into(), json!(v));
                }
            }
            for (name, path) in [
                ("eventTime", &["eventTime"][..]),
                ("eventID", &["eventID"]),
                ("awsRegion", &["awsRegion"]),
                ("sourceIPAddress", &["sourceIPAddress"]),
                ("errorCode", &["errorCode"]),
                ("userIdentity.accessKeyId", &["userIdentity", "accessKeyId"]),
            ] {
                let v = text(r, path);
                if !v.is_empty() {
                    row.insert(name.into(), json!(v));
                }
            }
            Value::Object(row)
        })
        .collect();
    json!({"preview": false, "init_offset": 0, "messages": [], "results": rows})
}

/// The CloudTrail console's Event history, "Download events" → CSV: one row per event with
/// the page's columns (names from the CloudTrail User Guide), and in newer downloads the
/// record itself in `CloudTrail event`.
fn console_csv(records: &[Value], with_record: bool) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec![
        "Event ID",
        "Event time",
        "User name",
        "Event name",
        "Resource type",
        "Resource name",
        "AWS access key",
        "Event source",
        "AWS region",
        "Error code",
        "Source IP address",
        "Read-only",
    ];
    if with_record {
        header.push("CloudTrail event");
    }
    w.write_record(&header).expect("header");
    for r in records {
        let user = match text(r, &["userIdentity", "userName"]) {
            u if u.is_empty() => text(
                r,
                &[
                    "userIdentity",
                    "sessionContext",
                    "sessionIssuer",
                    "userName",
                ],
            ),
            u => u,
        };
        let resources = r.get("resources").and_then(Value::as_array);
        let first = |field: &str| {
            resources
                .and_then(|list| list.first())
                .map(|res| text(res, &[field]))
                .unwrap_or_default()
        };
        let mut row = vec![
            text(r, &["eventID"]),
            text(r, &["eventTime"]),
            user,
            call(r, "eventName"),
            first("type"),
            first("ARN"),
            text(r, &["userIdentity", "accessKeyId"]),
            call(r, "eventSource"),
            text(r, &["awsRegion"]),
            text(r, &["errorCode"]),
            text(r, &["sourceIPAddress"]),
            text(r, &["readOnly"]),
        ];
        if with_record {
            row.push(r.to_string());
        }
        w.write_record(&row).expect("row");
    }
    w.into_inner().expect("csv")
}

/// Kibana's Discover → Share → CSV of Elastic documents, with `event.original` among the
/// columns and `@timestamp` in Kibana's default display format (no time zone).
fn kibana_csv(records: &[Value]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "@timestamp",
        "event.action",
        "event.provider",
        "source.ip",
        "aws.cloudtrail.user_identity.access_key_id",
        "event.original",
    ])
    .expect("header");
    for r in records {
        let t = time::OffsetDateTime::parse(&text(r, &["eventTime"]), &Rfc3339).expect("time");
        let shown = format!(
            "{} {}, {} @ {:02}:{:02}:{:02}.000",
            &format!("{:?}", t.month())[..3],
            t.day(),
            t.year(),
            t.hour(),
            t.minute(),
            t.second()
        );
        w.write_record([
            shown,
            call(r, "eventName"),
            call(r, "eventSource"),
            text(r, &["sourceIPAddress"]),
            text(r, &["userIdentity", "accessKeyId"]),
            r.to_string(),
        ])
        .expect("row");
    }
    w.into_inner().expect("csv")
}

/// The console's "Download events" → JSON: the records in a `Records` array.
fn console_json(records: &[Value]) -> Vec<u8> {
    serde_json::to_vec_pretty(&json!({"Records": records})).expect("json")
}

/// Logstash's `json` filter with `target => "cloudtrail"` and the `message` removed.
fn logstash_json_target(record: &Value) -> Value {
    json!({
        "@timestamp": "2026-12-04T20:00:00.000Z",
        "@version": "1",
        "host": {"name": "ingest-1"},
        "cloudtrail": record,
    })
}

/// Logstash's `s3` input with the `json` codec over a log file, then `split { field =>
/// "Records" }`: each event holds one record as the object `Records`.
fn logstash_split(record: &Value) -> Value {
    json!({
        "@timestamp": "2026-12-04T20:00:00.000Z",
        "@version": "1",
        "Records": record,
    })
}

/// `aws logs filter-log-events` on the log group a trail sends to: the records as the
/// events' `message` text.
fn cloudwatch_filter_log_events(records: &[Value]) -> Value {
    let events: Vec<Value> = records
        .iter()
        .enumerate()
        .map(|(n, r)| {
            json!({
                "logStreamName": "111122223333_CloudTrail_us-east-1",
                "timestamp": 1_722_375_070_000u64 + n as u64,
                "message": r.to_string(),
                "ingestionTime": 1_722_375_071_000u64 + n as u64,
                "eventId": format!("3816243908473{n:010}"),
            })
        })
        .collect();
    json!({"events": events, "searchedLogStreams": []})
}

/// A CloudWatch Logs subscription delivered by Firehose to S3: gzip'd `DATA_MESSAGE` objects
/// written one after the other with nothing between them, up to 40 log events each.
fn cloudwatch_subscription(records: &[Value]) -> Vec<u8> {
    let mut out = String::new();
    for (chunk, group) in records.chunks(40).enumerate() {
        let events: Vec<Value> = group
            .iter()
            .enumerate()
            .map(|(n, r)| {
                json!({
                    "id": format!("{chunk}-{n}"),
                    "timestamp": 1_722_375_070_000u64,
                    "message": r.to_string(),
                })
            })
            .collect();
        out.push_str(
            &json!({
                "messageType": "DATA_MESSAGE",
                "owner": "111122223333",
                "logGroup": "aws-cloudtrail-logs-111122223333",
                "logStream": "111122223333_CloudTrail_us-east-1",
                "subscriptionFilters": ["to-firehose"],
                "logEvents": events,
            })
            .to_string(),
        );
    }
    gzip(out.as_bytes())
}

/// `aws cloudtrail get-query-results` for a CloudTrail Lake query selecting the main columns:
/// each row a list of one-column objects, every value a string, the time as Lake renders a
/// timestamp, `userIdentity` as a rendered struct.
fn cloudtrail_lake(records: &[Value]) -> Value {
    let rows: Vec<Value> = records
        .iter()
        .map(|r| {
            let member = |name: &str| match text(r, &["userIdentity", name]) {
                v if v.is_empty() => "null".to_string(),
                v => v,
            };
            let identity = format!(
                "{{type={}, principalid={}, arn={}, accountid={}, accesskeyid={}, username={}}}",
                member("type"),
                member("principalId"),
                member("arn"),
                member("accountId"),
                member("accessKeyId"),
                member("userName"),
            );
            let time = millis(&text(r, &["eventTime"]))
                .replace('T', " ")
                .replace('Z', "");
            let mut cells = vec![
                json!({"eventID": text(r, &["eventID"])}),
                json!({"eventTime": time}),
                json!({"eventSource": call(r, "eventSource")}),
                json!({"eventName": call(r, "eventName")}),
                json!({"awsRegion": text(r, &["awsRegion"])}),
                json!({"sourceIPAddress": text(r, &["sourceIPAddress"])}),
                json!({"userIdentity": identity}),
            ];
            let error = text(r, &["errorCode"]);
            if !error.is_empty() {
                cells.push(json!({"errorCode": error}));
            }
            cells.retain(|c| c.as_object().is_some_and(|m| m.values().all(|v| v != "")));
            Value::Array(cells)
        })
        .collect();
    json!({
        "QueryStatus": "FINISHED",
        "QueryStatistics": {
            "ResultsCount": rows.len(),
            "TotalResultsCount": rows.len(),
            "BytesScanned": 1_048_576,
        },
        "QueryResultRows": rows,
    })
}

/// A CloudWatch Logs Insights query (`fields @timestamp, @message`) exported as JSON.
fn logs_insights(records: &[Value]) -> Value {
    Value::Array(
        records
            .iter()
            .map(|r| {
                json!({
                    "@timestamp": text(r, &["eventTime"]).replace('T', " ").replace('Z', ".000"),
                    "@message": r.to_string(),
                    "@logStream": "111122223333_CloudTrail_us-east-1",
                    "@log": "111122223333:aws-cloudtrail-logs-111122223333",
                })
            })
            .collect(),
    )
}

/// Splunk's "Export results" as CSV: Splunk's fields, then the event's text in `_raw`.
fn splunk_csv(records: &[Value]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["_time", "host", "source", "sourcetype", "_raw"])
        .expect("header");
    for r in records {
        let time = millis(&text(r, &["eventTime"]));
        w.write_record([
            format!("{}+0000", time.trim_end_matches('Z')),
            "splunk-hf-1".into(),
            "s3://trail-bucket/AWSLogs/".into(),
            "aws:cloudtrail".into(),
            r.to_string(),
        ])
        .expect("row");
    }
    w.into_inner().expect("csv")
}

/// Athena's CSV of a query over the CloudTrail table the console creates: every value quoted,
/// `useridentity` rendered as Athena renders a struct.
fn athena_csv(records: &[Value]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .from_writer(Vec::new());
    w.write_record([
        "eventtime",
        "eventsource",
        "eventname",
        "awsregion",
        "sourceipaddress",
        "useragent",
        "errorcode",
        "errormessage",
        "eventid",
        "useridentity",
    ])
    .expect("header");
    for r in records {
        let member = |name: &str| match text(r, &["userIdentity", name]) {
            v if v.is_empty() => "null".to_string(),
            v => v,
        };
        let identity = format!(
            "{{type={}, principalid={}, arn={}, accountid={}, invokedby={}, accesskeyid={}, \
             username={}, sessioncontext=null}}",
            member("type"),
            member("principalId"),
            member("arn"),
            member("accountId"),
            member("invokedBy"),
            member("accessKeyId"),
            member("userName"),
        );
        w.write_record([
            text(r, &["eventTime"]),
            call(r, "eventSource"),
            call(r, "eventName"),
            text(r, &["awsRegion"]),
            text(r, &["sourceIPAddress"]),
            text(r, &["userAgent"]),
            text(r, &["errorCode"]),
            text(r, &["errorMessage"]),
            text(r, &["eventID"]),
            identity,
        ])
        .expect("row");
    }
    w.into_inner().expect("csv")
}

/// A CSV opened and saved again by a spreadsheet in a locale whose list separator is `;`:
/// a UTF-8 BOM, semicolons, CRLF line ends.
fn spreadsheet_resave(csv_bytes: &[u8]) -> Vec<u8> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv_bytes);
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .terminator(csv::Terminator::CRLF)
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    for row in reader.byte_records() {
        w.write_byte_record(&row.expect("row")).expect("write");
    }
    w.into_inner().expect("csv")
}

fn lines(docs: impl IntoIterator<Item = Value>) -> Vec<u8> {
    let mut out = String::new();
    for d in docs {
        out.push_str(&d.to_string());
        out.push('\n');
    }
    out.into_bytes()
}

/// Every shape, over the given records: (name, bytes, whether it carries only a summary).
fn shapes(records: &[Value]) -> Vec<(&'static str, Vec<u8>, bool)> {
    vec![
        (
            "logstash cloudtrail codec (JSON Lines)",
            lines(records.iter().map(logstash_codec)),
            false,
        ),
        (
            "logstash message (JSON Lines)",
            lines(records.iter().map(logstash_message)),
            false,
        ),
        (
            "elasticdump of logstash documents (JSON Lines)",
            lines(
                records
                    .iter()
                    .enumerate()
                    .map(|(n, r)| es_doc(logstash_codec(r), n)),
            ),
            false,
        ),
        (
            "elasticsearch search response, ECS with event.original",
            serde_json::to_vec_pretty(&es_search(
                records.iter().map(|r| elastic_ecs(r, true)).collect(),
            ))
            .expect("json"),
            false,
        ),
        (
            "elasticsearch search response, ECS without event.original",
            es_search(records.iter().map(|r| elastic_ecs(r, false)).collect())
                .to_string()
                .into_bytes(),
            false,
        ),
        (
            "array of elasticsearch documents",
            serde_json::to_vec(
                &records
                    .iter()
                    .enumerate()
                    .map(|(n, r)| es_doc(logstash_message(r), n))
                    .collect::<Vec<_>>(),
            )
            .expect("json"),
            false,
        ),
        (
            "splunk export (JSON Lines)",
            splunk_export(records).into_bytes(),
            false,
        ),
        (
            "splunk search results (JSON)",
            serde_json::to_vec_pretty(&splunk_results(records)).expect("json"),
            false,
        ),
        (
            "splunk table of extracted fields (JSON)",
            splunk_table(records).to_string().into_bytes(),
            true,
        ),
        (
            "console CSV with the record",
            console_csv(records, true),
            false,
        ),
        (
            "console CSV, columns only",
            console_csv(records, false),
            true,
        ),
        ("console JSON", console_json(records), false),
        (
            "logstash json filter with a target (JSON Lines)",
            lines(records.iter().map(logstash_json_target)),
            false,
        ),
        (
            "logstash json codec and split filter (JSON Lines)",
            lines(records.iter().map(logstash_split)),
            false,
        ),
        (
            "cloudwatch logs filter-log-events",
            serde_json::to_vec_pretty(&cloudwatch_filter_log_events(records)).expect("json"),
            false,
        ),
        (
            "cloudwatch logs subscription via firehose (gzip'd, concatenated)",
            cloudwatch_subscription(records),
            false,
        ),
        (
            "cloudwatch logs insights export",
            logs_insights(records).to_string().into_bytes(),
            false,
        ),
        ("splunk CSV export", splunk_csv(records), false),
        ("athena CSV", athena_csv(records), true),
        ("kibana CSV with event.original", kibana_csv(records), false),
        (
            "cloudtrail lake query results",
            serde_json::to_vec_pretty(&cloudtrail_lake(records)).expect("json"),
            true,
        ),
        (
            "elastic pipeline test output ({\"expected\": [ECS documents]})",
            serde_json::to_vec_pretty(&json!({
                "expected": records
                    .iter()
                    .enumerate()
                    .map(|(n, r)| elastic_ecs(r, n % 2 == 0))
                    .collect::<Vec<_>>()
            }))
            .expect("json"),
            false,
        ),
        (
            "console CSV re-saved by a spreadsheet (semicolons, BOM, CRLF)",
            spreadsheet_resave(&console_csv(records, true)),
            false,
        ),
    ]
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

/// The document as it is and gzip'd (once: a shape that is gzip'd already is not again).
fn plain_and_gzipped(doc: &[u8]) -> Vec<Vec<u8>> {
    if doc.starts_with(&[0x1f, 0x8b]) {
        vec![doc.to_vec()]
    } else {
        vec![doc.to_vec(), gzip(doc)]
    }
}

fn assert_clean(name: &str, parsed: &Parsed) {
    assert!(
        parsed.skipped.is_empty(),
        "{name}: {:?}",
        parsed.skipped.iter().take(3).collect::<Vec<_>>()
    );
}

#[test]
fn every_shape_gives_the_events_of_its_records() {
    let records = &*RECORDS;
    let expected_full = seen(&direct(records), false);
    let expected_summary = seen(&direct(records), true);
    for (name, doc, summary) in shapes(records) {
        let expected = if summary {
            &expected_summary
        } else {
            &expected_full
        };
        if !doc.starts_with(&[0x1f, 0x8b]) {
            let parsed = parse_document(&doc, &origin());
            assert_clean(name, &parsed);
            assert_eq!(parsed.events.len(), records.len(), "{name}");
            assert_eq!(&seen(&parsed.events, summary), expected, "{name}");
        }
        // The same through the local-files path, plain and gzip'd.
        for bytes in plain_and_gzipped(&doc) {
            let scanned = scan_bytes(&bytes, &origin(), None);
            assert_clean(name, &scanned);
            assert_eq!(&seen(&scanned.events, summary), expected, "{name} (scan)");
        }
    }
}

/// Keys of the real data: the one used most, and one that an AssumeRole minted (so its
/// minting call is kept too, where the shape carries the response).
fn filter_keys() -> (KeyFilter, BTreeSet<String>) {
    let events = direct(&RECORDS);
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for e in &events {
        if !e.access_key_id.is_empty() {
            *counts.entry(e.access_key_id.to_string()).or_default() += 1;
        }
    }
    let busiest = counts
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(k, _)| k.clone())
        .expect("keys in the data");
    let minted = events
        .iter()
        .filter_map(|e| e.minted.as_ref())
        .map(|m| m.key_id.clone())
        .find(|k| counts.contains_key(k))
        .expect("a minted key that acted");
    let keys: BTreeSet<String> = [busiest, minted].into_iter().collect();
    (KeyFilter::new(keys.iter().cloned()), keys)
}

#[test]
fn every_shape_with_a_key_filter_keeps_exactly_the_keys_events() {
    let records = &*RECORDS;
    let (filter, keys) = filter_keys();
    let all = direct(records);
    let full: Vec<Event> = all.iter().filter(|e| keeps(&filter, e)).cloned().collect();
    // A summary row names the key that acted, not the one a call minted.
    let by_key: Vec<Event> = all
        .iter()
        .filter(|e| keys.contains(&*e.access_key_id))
        .cloned()
        .collect();
    assert!(full.len() > by_key.len() && by_key.len() >= 20, "{keys:?}");
    for (name, doc, summary) in shapes(records) {
        let expected = if summary {
            seen(&by_key, true)
        } else {
            seen(&full, false)
        };
        for bytes in plain_and_gzipped(&doc) {
            let scanned = scan_bytes(&bytes, &origin(), Some(&filter));
            assert_clean(name, &scanned);
            assert_eq!(seen(&scanned.events, summary), expected, "{name}");
        }
        // A key that is nowhere: nothing, and nothing skipped.
        let none = KeyFilter::new(["AKIANOTINTHEDATA0000".to_string()]);
        let scanned = scan_bytes(&doc, &origin(), Some(&none));
        assert!(scanned.events.is_empty(), "{name}");
        assert_clean(name, &scanned);
    }
}

#[test]
fn a_directory_of_exports_is_read_csv_included() {
    let dir = tempfile::tempdir().expect("tempdir");
    let records = &*RECORDS;
    let mut total = 0;
    for (n, (_, doc, _)) in shapes(records).into_iter().enumerate() {
        let ext = if doc.starts_with(&[0x1f, 0x8b]) {
            "json.gz"
        } else if !matches!(doc.first(), Some(b'{' | b'[')) {
            "csv"
        } else if doc.first() == Some(&b'{') && doc.iter().filter(|&&b| b == b'\n').count() > 2 {
            "jsonl"
        } else {
            "json"
        };
        std::fs::write(dir.path().join(format!("export-{n:02}.{ext}")), doc).expect("write");
        total += records.len();
    }
    // Access key CSVs lying next to the exports are never opened.
    for name in [
        "ci-AKIAEXAMPLE.secret.csv",
        "alice_accessKeys.csv",
        "credentials.csv",
    ] {
        std::fs::write(
            dir.path().join(name),
            "Access key ID,Secret access key\nAKIAEXAMPLE,wJalrXUtnFEMI/K7MDENG\n",
        )
        .expect("write");
    }
    let scan = scan_paths(&[dir.path().to_path_buf()], None);
    assert_eq!(scan.files, shapes(&[]).len());
    assert!(scan.skipped.is_empty(), "{:?}", scan.skipped);
    assert_eq!(scan.events.len(), total);
}

// ---------------------------------------------------------------------------------------------
// Each shape's own details.

fn stratus(name: &str) -> Vec<Value> {
    serde_json::from_slice(
        &std::fs::read(data_dir().join(format!("stratus-red-team/{name}.json"))).expect("file"),
    )
    .expect("array")
}

fn reasons(parsed: &Parsed) -> Vec<String> {
    parsed.skipped.iter().map(|s| s.reason.clone()).collect()
}

#[test]
fn the_record_inside_wins_over_the_siem_time() {
    // Logstash stamps the time it read the line; the record's eventTime is the event's time.
    let records = stratus("aws.persistence.sts-federation-token");
    let doc = lines(records.iter().map(logstash_message));
    let parsed = parse_document(&doc, &origin());
    let times: BTreeSet<String> = parsed
        .events
        .iter()
        .map(|e| e.time.format(&Rfc3339).expect("formats"))
        .collect();
    let real: BTreeSet<String> = records.iter().map(|r| text(r, &["eventTime"])).collect();
    assert_eq!(times, real);
    // The raw record kept for the detail pane is the original, not the SIEM document.
    assert!(parsed.events.iter().all(|e| !e.raw.contains("@timestamp")));
}

#[test]
fn rebuilt_records_say_where_they_came_from() {
    let records = stratus("aws.persistence.iam-create-admin-user");
    let ecs = parse_document(
        es_search(records.iter().map(|r| elastic_ecs(r, false)).collect())
            .to_string()
            .as_bytes(),
        &origin(),
    );
    let csv = parse_document(&console_csv(&records, false), &origin());
    let with_record = parse_document(&console_csv(&records, true), &origin());
    for (parsed, word) in [(&ecs, "ECS"), (&csv, "CSV columns")] {
        assert_eq!(parsed.events.len(), records.len());
        for e in &parsed.events {
            let raw: Value = serde_json::from_str(&e.raw).expect("raw");
            let from = raw["keyspillRebuiltFrom"].as_str().unwrap_or_default();
            assert!(from.contains(word), "{from:?}");
        }
    }
    assert!(
        with_record
            .events
            .iter()
            .all(|e| !e.raw.contains("keyspillRebuiltFrom"))
    );
    // The CreateAccessKey's new key survives the ECS rebuild (flattened response elements).
    let minted: Vec<String> = ecs
        .events
        .iter()
        .filter_map(|e| e.minted.as_ref().map(|m| m.key_id.clone()))
        .collect();
    let real: Vec<String> = direct(&records)
        .iter()
        .filter_map(|e| e.minted.as_ref().map(|m| m.key_id.clone()))
        .collect();
    assert_eq!(minted, real);
    assert_eq!(minted.len(), 1);
}

#[test]
fn malformed_items_are_skipped_with_a_reason_and_the_rest_read() {
    let records = stratus("aws.defense-evasion.organizations-leave");
    assert_eq!(records.len(), 3);
    let good = |n: usize| records[n].to_string();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "logstash message that is not a record",
            lines([
                logstash_message(&records[0]),
                json!({"@timestamp": "2024-01-01T00:00:00.000Z", "message": "GET / 200"}),
                logstash_message(&records[1]),
            ]),
            "line 2: message is not JSON",
        ),
        (
            "elasticsearch hit whose _source is text",
            es_search(vec![
                logstash_codec(&records[0]),
                json!("oops"),
                logstash_codec(&records[1]),
            ])
            .to_string()
            .into_bytes(),
            "hit 2: _source is a JSON string",
        ),
        (
            "splunk export line with a cut _raw",
            {
                let mut cut = splunk_result(&records[1], 1);
                cut["_raw"] = json!(&good(1)[..40]);
                lines([
                    json!({"preview": false, "result": splunk_result(&records[0], 0)}),
                    json!({"preview": false, "result": cut}),
                    json!({"preview": false, "result": splunk_result(&records[2], 2)}),
                ])
            },
            "line 2: result._raw is not JSON",
        ),
        (
            "splunk result whose record has no eventTime",
            {
                let mut doc = splunk_results(&records);
                let mut fragment = records[1].clone();
                fragment
                    .as_object_mut()
                    .expect("object")
                    .remove("eventTime");
                doc["results"][1]["_raw"] = json!(fragment.to_string());
                doc.to_string().into_bytes()
            },
            "result 2: no eventTime",
        ),
        (
            "console CSV row without a time or a record",
            {
                let mut csv = console_csv(&records, true);
                csv.extend_from_slice(b"id-x,,someone,GetCallerIdentity,,,,,,,,,\n");
                csv
            },
            "line 5: no Event time and no CloudTrail event",
        ),
        (
            "console CSV row with a time that is not one",
            {
                let mut csv = console_csv(&records, false);
                csv.extend_from_slice(b"id-y,yesterday,someone,GetCallerIdentity,,,,,,,,\n");
                csv
            },
            "line 5: eventTime \"yesterday\" is not an RFC 3339 time",
        ),
        (
            "cloudwatch log event whose message is plain text",
            {
                let mut doc = cloudwatch_filter_log_events(&records);
                doc["events"][1]["message"] = json!("START RequestId: 1 Version: $LATEST");
                doc.to_string().into_bytes()
            },
            "log event 2: message is not JSON",
        ),
        (
            "athena CSV row with a time that is not one",
            {
                let mut csv = athena_csv(&records);
                csv.extend_from_slice(
                    b"\"30/07/2024\",\"\",\"GetCallerIdentity\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"\n",
                );
                csv
            },
            "line 5: eventTime \"30/07/2024\" is not an RFC 3339 time",
        ),
        (
            "subscription delivery cut short after whole objects",
            {
                let whole = json!({"messageType": "DATA_MESSAGE", "logEvents": [
                    {"id": "1", "timestamp": 1, "message": good(0)},
                    {"id": "2", "timestamp": 2, "message": good(2)},
                ]})
                .to_string();
                let next = json!({"messageType": "DATA_MESSAGE", "logEvents": [
                    {"id": "3", "timestamp": 3, "message": good(1)},
                ]})
                .to_string();
                format!("{whole}{}", &next[..next.len() / 2]).into_bytes()
            },
            "object 2: not JSON (",
        ),
        (
            "ECS document whose @timestamp is not a time",
            {
                let mut bad = elastic_ecs(&records[1], false);
                bad["@timestamp"] = json!("last tuesday");
                es_search(vec![
                    elastic_ecs(&records[0], false),
                    bad,
                    elastic_ecs(&records[2], false),
                ])
                .to_string()
                .into_bytes()
            },
            "hit 2: eventTime \"last tuesday\" is not an RFC 3339 time",
        ),
        (
            "splunk table row without eventTime",
            {
                let mut doc = splunk_table(&records);
                doc["results"][1]
                    .as_object_mut()
                    .expect("row")
                    .remove("eventTime");
                doc.to_string().into_bytes()
            },
            "result 2: no eventTime",
        ),
        (
            "logs insights row whose @message is cut",
            {
                let mut doc = logs_insights(&records);
                doc[1]["@message"] = json!(&good(1)[..30]);
                doc.to_string().into_bytes()
            },
            "record 2: @message is not JSON",
        ),
        (
            "cloudtrail lake row without a time",
            {
                let mut doc = cloudtrail_lake(&records);
                let row = doc["QueryResultRows"][1].as_array_mut().expect("row");
                row.retain(|cell| cell.get("eventTime").is_none());
                doc.to_string().into_bytes()
            },
            "row 2: no eventTime",
        ),
        (
            "kibana CSV row with Kibana's display time",
            {
                let mut csv =
                    b"@timestamp,event.action,aws.cloudtrail.user_identity.access_key_id,\
                                event.original\n"
                        .to_vec();
                for r in &records {
                    let mut w = csv::Writer::from_writer(Vec::new());
                    w.write_record([
                        text(r, &["eventTime"]),
                        call(r, "eventName"),
                        String::new(),
                        r.to_string(),
                    ])
                    .expect("row");
                    csv.extend(w.into_inner().expect("csv"));
                }
                csv.extend_from_slice(
                    b"\"Jul 30, 2024 @ 21:31:10.000\",GetCallerIdentity,AKIAEXAMPLE,\n",
                );
                csv
            },
            "line 5: time \"Jul 30, 2024 @ 21:31:10.000\" is in Kibana's display format",
        ),
    ];
    for (name, doc, reason) in cases {
        for bytes in [doc.clone(), gzip(&doc)] {
            let parsed = scan_bytes(&bytes, &origin(), None);
            let why = reasons(&parsed);
            assert_eq!(why.len(), 1, "{name}: {why:?}");
            assert!(why[0].starts_with(reason), "{name}: {why:?}");
            let expected = if name.contains("CSV") { 3 } else { 2 };

            assert_eq!(parsed.events.len(), expected, "{name}");
        }
    }
}

#[test]
fn a_csv_that_is_not_event_history_is_refused_without_echoing_it() {
    // IAM's "Download .csv file" for a new access key: it must never be shown back.
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let doc = format!("Access key ID,Secret access key\nAKIAIOSFODNN7EXAMPLE,{secret}\n");
    let parsed = parse_document(doc.as_bytes(), &origin());
    assert!(parsed.events.is_empty());
    let why = reasons(&parsed);
    assert_eq!(why.len(), 1, "{why:?}");
    assert!(why[0].contains("neither JSON nor a CSV with"), "{why:?}");
    assert!(!why[0].contains(secret) && !why[0].contains("AKIA"));
    let filter = KeyFilter::new(["AKIAIOSFODNN7EXAMPLE".to_string()]);
    let scanned = scan_bytes(doc.as_bytes(), &origin(), Some(&filter));
    assert!(scanned.events.is_empty());
    assert!(reasons(&scanned).iter().all(|r| !r.contains(secret)));
}

#[test]
fn console_csv_columns_in_any_order_case_and_time_form() {
    let records = stratus("aws.defense-evasion.cloudtrail-stop");
    let r = &records[0];
    let key = text(r, &["userIdentity", "accessKeyId"]);
    let doc = format!(
        "\u{feff}source ip address,EVENT NAME,aws access key,event time,Event ID\r\n\
         {},{},{key},\"{}\",{}\r\n\r\n",
        text(r, &["sourceIPAddress"]),
        text(r, &["eventName"]),
        text(r, &["eventTime"])
            .replace('T', " ")
            .trim_end_matches('Z'),
        text(r, &["eventID"]),
    );
    let parsed = parse_document(doc.as_bytes(), &origin());
    assert_clean("reordered", &parsed);
    let e = &parsed.events[0];
    let real = &direct(&records)[0];
    assert_eq!(
        (&e.time, &e.name, &e.access_key_id, &e.source_ip, &e.id),
        (
            &real.time,
            &real.name,
            &real.access_key_id,
            &real.source_ip,
            &real.id
        )
    );
}

#[test]
fn splunk_progress_lines_are_not_reported_and_other_objects_are() {
    let records = stratus("aws.defense-evasion.cloudtrail-stop");
    let doc = lines([
        json!({"preview": true, "messages": [{"type": "INFO", "text": "search started"}]}),
        json!({"preview": false, "offset": 0, "result": splunk_result(&records[0], 0)}),
        json!({"preview": false, "offset": 1, "lastrow": true}),
        json!({"preview": false, "weather": "sunny"}),
    ]);
    let parsed = parse_document(&doc, &origin());
    assert_eq!(parsed.events.len(), 1);
    assert_eq!(reasons(&parsed), vec!["line 4: no eventTime".to_string()]);
}

#[test]
fn containers_nested_without_end_are_refused() {
    let records = stratus("aws.defense-evasion.cloudtrail-stop");
    let mut doc = logstash_message(&records[0]);
    for _ in 0..10 {
        doc = json!({"@timestamp": "2024-01-01T00:00:00.000Z", "message": doc.to_string()});
    }
    let parsed = parse_document(doc.to_string().as_bytes(), &origin());
    assert!(parsed.events.is_empty());
    assert_eq!(parsed.skipped.len(), 1);
    assert!(
        parsed.skipped[0].reason.contains("nested more than"),
        "{:?}",
        parsed.skipped
    );
    // A few levels, as real pipelines stack them, are fine; so is an @timestamp indexed as
    // epoch milliseconds.
    let mut codec = logstash_codec(&records[0]);
    let when =
        time::OffsetDateTime::parse(&text(&records[0], &["eventTime"]), &Rfc3339).expect("time");
    codec["@timestamp"] = json!(when.unix_timestamp() * 1000);
    let parsed = parse_document(es_search(vec![codec]).to_string().as_bytes(), &origin());
    assert_eq!(parsed.events.len(), 1, "{:?}", parsed.skipped);
    assert_eq!(parsed.events[0].time, when);
    let three = es_search(vec![logstash_message(&records[0])]);
    assert_eq!(
        parse_document(three.to_string().as_bytes(), &origin())
            .events
            .len(),
        1
    );
}

#[test]
fn gzip_inside_gzip_is_named() {
    let records = stratus("aws.defense-evasion.cloudtrail-stop");
    let twice = gzip(&cloudwatch_subscription(&records));
    for filter in [
        None,
        Some(KeyFilter::new(["AKIANOTINTHEDATA0000".to_string()])),
    ] {
        let scanned = scan_bytes(&twice, &origin(), filter.as_ref());
        assert!(scanned.events.is_empty());
        let why = reasons(&scanned);
        assert_eq!(why.len(), 1, "{why:?}");
        assert!(why[0].starts_with("gzip inside gzip"), "{why:?}");
    }
}

#[test]
fn concatenated_objects_that_are_not_cloudtrail_are_one_reason() {
    let doc = "{\"level\":\"info\",\"msg\":\"a\"}{\"level\":\"info\",\"msg\":\"b\"}".repeat(50);
    let parsed = parse_document(doc.as_bytes(), &origin());
    assert!(parsed.events.is_empty());
    let why = reasons(&parsed);
    assert_eq!(why.len(), 1, "{why:?}");
    assert!(why[0].starts_with("not JSON ("), "{why:?}");
    // Once a delivery opened like CloudTrail, each further object is read or reported.
    let records = stratus("aws.defense-evasion.cloudtrail-stop");
    let first = json!({"logEvents": [{"id": "1", "message": records[0].to_string()}]});
    let doc = format!("{first}{{\"msg\":\"x\"}}7");
    let parsed = parse_document(doc.as_bytes(), &origin());
    assert_eq!(parsed.events.len(), 1);
    assert_eq!(
        reasons(&parsed),
        vec![
            "object 2: no eventTime".to_string(),
            "object 3: not a JSON object (a JSON number)".to_string()
        ]
    );
}

/// A byte edit of a built shape: flip, insert (bytes that matter to JSON and CSV drawn more
/// often) or delete.
fn edit() -> impl proptest::strategy::Strategy<Value = Edit> {
    use proptest::prelude::*;
    let byte = prop_oneof![
        any::<u8>(),
        prop::sample::select(b"{}[]\",:;\\ \n\r@_".to_vec())
    ];
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(at, m)| Edit::Flip(at, m)),
        (any::<usize>(), byte).prop_map(|(at, b)| Edit::Insert(at, b)),
        any::<usize>().prop_map(Edit::Delete),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 96, ..Default::default() })]

    /// Damaged exports of every shape never panic, with a key filter or without; what is
    /// skipped always says why, and no more events come out than records went in.
    #[test]
    fn damaged_shapes_never_panic(
        which in 0usize..64,
        edits in proptest::collection::vec(edit(), 1..12),
    ) {
        let records = stratus("aws.defense-evasion.organizations-leave");
        let all = shapes(&records);
        let (name, doc, _) = &all[which % all.len()];
        let damaged = mutate(doc.clone(), &edits);
        let filter = KeyFilter::new(
            records.iter().map(|r| text(r, &["userIdentity", "accessKeyId"])),
        );
        for f in [None, Some(&filter)] {
            let scanned = scan_bytes(&damaged, &origin(), f);
            proptest::prop_assert!(scanned.events.len() <= records.len(), "{name}");
            proptest::prop_assert!(
                scanned.skipped.iter().all(|s| !s.reason.trim().is_empty()),
                "{name}"
            );
        }
    }
}
