//! The containers a SIEM puts a CloudTrail record in, taken apart down to the record.
//!
//! Each shape is recognised by a member no CloudTrail record has at its top level, and only
//! when the object has no `eventTime` of its own (the caller checks that first):
//!
//! * an Elasticsearch search response: `hits.hits` is an array of hits;
//! * an Elasticsearch document as exported (`elasticdump`, the `_search` hits, Kibana's
//!   "inspect"): `_source` is an object;
//! * Splunk's export endpoint (JSON Lines of `{"preview":…,"result":{…}}`): `result` is an
//!   object, the record a JSON string in its `_raw`;
//! * Splunk's search REST API (`output_mode=json`): `results` is an array of such results;
//! * a Splunk result on its own: `_raw` is a string;
//! * a Logstash or Elastic document, with `@timestamp`: the original record as a JSON string in
//!   `event.original` (Elastic's ingest pipeline and Elastic Agent keep it there), `message`
//!   (Logstash's plain inputs, Filebeat before the pipeline runs) or `@message` (a CloudWatch
//!   Logs Insights export); failing that, the record whole under a member of its own (Logstash's
//!   `json` filter with a `target`); failing that, the record's own members at the top level
//!   with `eventTime` moved to `@timestamp` (what Logstash's `cloudtrail` codec emits); failing
//!   that, Elastic's ECS fields (`event.action`, `event.provider`, `aws.cloudtrail.*`…) rebuilt
//!   into a record;
//! * CloudWatch Logs (a trail sending to a log group): `events` or `logEvents` is an array
//!   (`aws logs filter-log-events`, a subscription's delivery), each event's `message` the
//!   record as a JSON string;
//! * a CloudTrail Lake query's results (`aws cloudtrail get-query-results`):
//!   `QueryResultRows` is an array of rows, each a list of one-column objects;
//! * any other wrapper (`{"expected": […]}`, `{"data": […]}`): a member that is an array whose
//!   first element looks like CloudTrail in one of these shapes.
//!
//! A record whose members were flattened to dotted names (a SIEM's table export:
//! `userIdentity.accessKeyId`) is nested again.
//!
//! A rebuilt record says so in a `keyspillRebuiltFrom` member, shown with the raw record.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::timeline::console_csv::{identity_cell, normalize_time};
use crate::timeline::parse::kind;

/// What an object without `eventTime` holds, when it is one of the SIEM shapes.
pub(crate) enum Inner<'a> {
    /// Several items, each read on its own; the word names them in reasons (`hit 3`).
    Many(&'static str, &'a [Value]),
    /// One item inside: a record, or another container.
    One(Cow<'a, Value>),
    /// The shape was recognised but holds nothing usable, and why.
    Bad(String),
    /// A line that carries no record by design (a Splunk export's progress line).
    Empty,
    /// Records rebuilt from rows of columns, each read on its own (`row 3`).
    Rows(Vec<Value>),
}

/// Whether `map` is one of the shapes above, by its members alone (nothing is parsed).
pub(crate) fn is_container(map: &Map<String, Value>) -> bool {
    map.get("hits")
        .is_some_and(|h| h.get("hits").is_some_and(Value::is_array))
        || ["_source", "result", "_raw", "@timestamp"]
            .iter()
            .any(|k| map.contains_key(*k))
        || ["results", "logEvents", "events", "QueryResultRows"]
            .iter()
            .any(|k| map.get(*k).is_some_and(Value::is_array))
        || map.get("message").is_some_and(Value::is_string)
        || is_splunk_progress(map)
        || wrapped_array(map).is_some()
}

/// One row of a CloudTrail Lake query's results (`aws cloudtrail get-query-results`): a list
/// of one-column objects, every value a string. The columns are put together into a record:
/// dotted names nested, `userIdentity` read from JSON or from the struct's rendering, the time
/// (`2024-07-30 21:31:10.000`, UTC) made RFC 3339. A row that is not a list is passed on as it
/// is, for the reader to say why it is not a record.
fn lake_row(row: &Value) -> Value {
    let Value::Array(cells) = row else {
        return row.clone();
    };
    let columns: Map<String, Value> = cells
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|cell| cell.iter().map(|(k, v)| (k.clone(), v.clone())))
        .collect();
    let mut record = unflatten(columns.iter());
    if let Some(Value::String(time)) = record.get("eventTime") {
        let time = normalize_time(time);
        record.insert("eventTime".into(), Value::String(time));
    }
    if let Some(Value::String(identity)) = record.get("userIdentity") {
        let identity = Value::Object(identity_cell(identity));
        record.insert("userIdentity".into(), identity);
    }
    for member in [
        "requestParameters",
        "responseElements",
        "additionalEventData",
    ] {
        if let Some(Value::String(text)) = record.get(member)
            && let Ok(value @ Value::Object(_)) = serde_json::from_str::<Value>(text)
        {
            record.insert(member.into(), value);
        }
    }
    record.insert(
        "keyspillRebuiltFrom".into(),
        Value::String("a CloudTrail Lake query's columns".into()),
    );
    Value::Object(record)
}

/// The first member of `map` that is an array whose first element looks like CloudTrail in
/// one of the shapes read here.
fn wrapped_array(map: &Map<String, Value>) -> Option<&[Value]> {
    map.values().find_map(|v| match v {
        Value::Array(items)
            if items
                .first()
                .and_then(Value::as_object)
                .is_some_and(looks_like_cloudtrail) =>
        {
            Some(items.as_slice())
        }
        _ => None,
    })
}

/// Whether an object is CloudTrail in one of the shapes read here, by its members alone: a
/// record, a log file, LookupEvents output or item, an EventBridge event, a SIEM container.
pub(crate) fn looks_like_cloudtrail(map: &Map<String, Value>) -> bool {
    [
        "eventTime",
        "Records",
        "Events",
        "CloudTrailEvent",
        "detail-type",
    ]
    .iter()
    .any(|k| map.contains_key(*k))
        || is_container(map)
}

/// A line of Splunk's export about the search itself (`preview`, `lastrow`, `messages`…),
/// with no result: nothing was lost, nothing to report.
fn is_splunk_progress(map: &Map<String, Value>) -> bool {
    map.contains_key("preview")
        && map.keys().all(|k| {
            matches!(
                k.as_str(),
                "preview"
                    | "offset"
                    | "init_offset"
                    | "lastrow"
                    | "messages"
                    | "fields"
                    | "highlighted"
            )
        })
}

/// A record whose members were flattened to dotted names (`userIdentity.accessKeyId`), as a
/// SIEM table export writes them, nested again; `None` when no member name has a dot (a
/// CloudTrail record's own members never do).
pub(crate) fn nested_again(map: &Map<String, Value>) -> Option<Value> {
    if !map.keys().any(|k| k.contains('.') && !k.contains('{')) {
        return None;
    }
    let mut record = unflatten(map.iter());
    record.insert(
        "keyspillRebuiltFrom".into(),
        Value::String("fields flattened to dotted names".into()),
    );
    Some(Value::Object(record))
}

/// The inside of a SIEM container, or `None` when `map` is none of the shapes above.
pub(crate) fn unwrap(map: &Map<String, Value>) -> Option<Inner<'_>> {
    if let Some(hits) = map.get("hits")
        && let Some(Value::Array(items)) = hits.get("hits")
    {
        return Some(Inner::Many("hit", items));
    }
    if let Some(source) = map.get("_source") {
        return Some(match source {
            Value::Object(_) => Inner::One(Cow::Borrowed(source)),
            other => Inner::Bad(format!("_source is a JSON {}", kind(other))),
        });
    }
    if let Some(Value::Array(items)) = map.get("results") {
        return Some(Inner::Many("result", items));
    }
    if let Some(result) = map.get("result") {
        return Some(match result {
            Value::Object(inner) => splunk_result(inner, "result."),
            other => Inner::Bad(format!("result is a JSON {}", kind(other))),
        });
    }
    if map.contains_key("_raw") {
        return Some(splunk_result(map, ""));
    }
    if is_splunk_progress(map) {
        return Some(Inner::Empty);
    }
    if map.contains_key("@timestamp") {
        return Some(elastic(map));
    }
    for member in ["logEvents", "events"] {
        if let Some(Value::Array(items)) = map.get(member) {
            return Some(Inner::Many("log event", items));
        }
    }
    if let Some(Value::Array(rows)) = map.get("QueryResultRows") {
        return Some(Inner::Rows(rows.iter().map(lake_row).collect()));
    }
    // Any other wrapper (`{"expected": […]}` of Elastic's pipeline tests, `{"data": […]}`,
    // `{"items": […]}`): the member that is an array of CloudTrail-shaped objects.
    if let Some(items) = wrapped_array(map) {
        return Some(Inner::Many("item", items));
    }
    if let Some(Value::String(text)) = map.get("message") {
        // A CloudWatch Logs event (`filter-log-events`, a subscription's `logEvents`): the
        // record as the message's text.
        return Some(match serde_json::from_str::<Value>(text) {
            Ok(inner @ Value::Object(_)) => Inner::One(Cow::Owned(inner)),
            Ok(other) => Inner::Bad(format!("message holds a JSON {}", kind(&other))),
            Err(e) => Inner::Bad(format!("message is not JSON ({e})")),
        });
    }
    None
}

/// A Splunk result: the record in `_raw`; where `_raw` is missing or unreadable, the fields
/// Splunk extracted (`userIdentity.accessKeyId` as a flat name) when they include `eventTime`.
fn splunk_result<'a>(result: &'a Map<String, Value>, at: &str) -> Inner<'a> {
    let raw_error = match result.get("_raw") {
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(inner @ Value::Object(_)) => return Inner::One(Cow::Owned(inner)),
            Ok(other) => format!("{at}_raw holds a JSON {}", kind(&other)),
            Err(e) => format!("{at}_raw is not JSON ({e})"),
        },
        Some(other) => format!("{at}_raw is a JSON {}", kind(other)),
        None => format!("{at}_raw is missing"),
    };
    let extracted = unflatten(result.iter().filter(|(k, _)| !k.starts_with('_')));
    if extracted.get("eventTime").is_some_and(Value::is_string) {
        let mut record = extracted;
        record.insert(
            "keyspillRebuiltFrom".into(),
            Value::String("Splunk's extracted fields (no _raw record)".into()),
        );
        return Inner::One(Cow::Owned(Value::Object(record)));
    }
    Inner::Bad(format!(
        "{raw_error} and the extracted fields have no eventTime"
    ))
}

/// A Logstash or Elastic document (it has `@timestamp`).
fn elastic(map: &Map<String, Value>) -> Inner<'_> {
    // The original record, kept as text, is the truth whenever it is there.
    let mut original_error = None;
    for path in ["event.original", "message", "@message"] {
        if let Some(Value::String(text)) = field(map, path) {
            match serde_json::from_str::<Value>(text) {
                Ok(inner @ Value::Object(_)) => return Inner::One(Cow::Owned(inner)),
                Ok(other) => original_error = Some(format!("{path} holds a JSON {}", kind(&other))),
                Err(e) => original_error = Some(format!("{path} is not JSON ({e})")),
            }
        }
    }
    // Logstash's `json` filter with a `target`: the record whole, under a member of its own.
    if let Some(inner) = map.values().find(|v| {
        v.get("eventTime").is_some()
            && [
                "eventVersion",
                "eventName",
                "eventSource",
                "userIdentity",
                "insightDetails",
            ]
            .iter()
            .any(|k| v.get(*k).is_some())
    }) {
        return Inner::One(Cow::Borrowed(inner));
    }
    let has_record_members = ["eventName", "eventSource", "userIdentity", "eventID"]
        .iter()
        .any(|k| map.contains_key(*k));
    if has_record_members {
        // Logstash's cloudtrail codec: the record's members, eventTime renamed.
        let mut record: Map<String, Value> = map
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "@timestamp" | "@version"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(time) = map.get("@timestamp") {
            record.insert("eventTime".into(), timestamp(time));
        }
        return Inner::One(Cow::Owned(Value::Object(record)));
    }
    if ["event.action", "event.provider", "aws.cloudtrail"]
        .iter()
        .any(|path| field(map, path).is_some())
    {
        return Inner::One(Cow::Owned(Value::Object(from_ecs(map))));
    }
    Inner::Bad(original_error.unwrap_or_else(|| {
        "a document with @timestamp but no CloudTrail record (no event.original, message, \
         eventName or event.action)"
            .into()
    }))
}

/// Where Elastic's CloudTrail pipeline puts each record member it keeps (its
/// `ingest_pipeline/default.yml`, elastic/integrations `packages/aws`): ECS path, then the
/// record's path.
const ECS_FIELDS: [(&str, &[&str]); 18] = [
    ("@timestamp", &["eventTime"]),
    ("event.id", &["eventID"]),
    ("event.provider", &["eventSource"]),
    ("event.action", &["eventName"]),
    ("cloud.region", &["awsRegion"]),
    ("source.address", &["sourceIPAddress"]),
    ("user_agent.original", &["userAgent"]),
    ("aws.cloudtrail.event_version", &["eventVersion"]),
    ("aws.cloudtrail.event_type", &["eventType"]),
    ("aws.cloudtrail.event_category", &["eventCategory"]),
    ("aws.cloudtrail.error_code", &["errorCode"]),
    ("aws.cloudtrail.error_message", &["errorMessage"]),
    ("aws.cloudtrail.read_only", &["readOnly"]),
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
    ("cloud.account.id", &["userIdentity", "accountId"]),
];

/// A record rebuilt from an ECS document that lost its original.
fn from_ecs(map: &Map<String, Value>) -> Map<String, Value> {
    let mut record = Map::new();
    for (ecs, path) in ECS_FIELDS {
        if let Some(value) = field(map, ecs) {
            let value = if ecs == "@timestamp" {
                timestamp(value)
            } else {
                value.clone()
            };
            put(&mut record, path, value);
        }
    }
    if !record.contains_key("sourceIPAddress")
        && let Some(ip) = field(map, "source.ip")
    {
        record.insert("sourceIPAddress".into(), ip.clone());
    }
    if let Some(name) = field(map, "user.name") {
        put(&mut record, &["userIdentity", "userName"], name.clone());
    }
    // The request and response as objects (what the risk rules and minted keys read), or as
    // the text the pipeline also keeps.
    for (flat, text, member) in [
        (
            "aws.cloudtrail.flattened.request_parameters",
            "aws.cloudtrail.request_parameters",
            "requestParameters",
        ),
        (
            "aws.cloudtrail.flattened.response_elements",
            "aws.cloudtrail.response_elements",
            "responseElements",
        ),
        (
            "aws.cloudtrail.flattened.additional_eventdata",
            "aws.cloudtrail.additional_eventdata",
            "additionalEventData",
        ),
        (
            "aws.cloudtrail.flattened.insight_details",
            "aws.cloudtrail.insight_details",
            "insightDetails",
        ),
    ] {
        let value = field(map, flat).cloned().or_else(|| {
            field(map, text)
                .and_then(Value::as_str)
                .and_then(|s| serde_json::from_str::<Value>(s).ok())
        });
        if let Some(value) = value {
            record.insert(member.into(), value);
        }
    }
    record.insert(
        "keyspillRebuiltFrom".into(),
        Value::String("Elastic's ECS fields (no original record)".into()),
    );
    record
}

/// `@timestamp` as an RFC 3339 string: Elasticsearch hands back what was indexed, which may
/// be epoch milliseconds (its default numeric date format) rather than text.
fn timestamp(value: &Value) -> Value {
    let millis = value.as_i64().map(i128::from).or_else(|| {
        value
            .as_f64()
            .filter(|f| f.is_finite() && f.abs() < 1e17)
            .map(|f| f as i128)
    });
    let text = millis
        .and_then(|ms| time::OffsetDateTime::from_unix_timestamp_nanos(ms * 1_000_000).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        });
    match text {
        Some(text) => Value::String(text),
        None => value.clone(),
    }
}

/// The value at a dotted path: as one flat member (`"event.original": …`), nested objects, or
/// any mix of the two (Elasticsearch accepts all three for the same field).
pub(crate) fn field<'a>(map: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(v) = map.get(path) {
        return Some(v);
    }
    // Try each split point: `a.b.c` as `a` then `b.c`, `a.b` then `c`.
    path.match_indices('.').find_map(|(at, _)| {
        let (head, rest) = (path.get(..at)?, path.get(at + 1..)?);
        match map.get(head)? {
            Value::Object(inner) => field(inner, rest),
            _ => None,
        }
    })
}

/// Set `value` at a path of members, creating objects on the way (an existing non-object in
/// the way is replaced).
fn put(record: &mut Map<String, Value>, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut at = record;
    for key in parents {
        let slot = at
            .entry((*key).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let Value::Object(inner) = slot else {
            return;
        };
        at = inner;
    }
    at.insert((*last).to_string(), value);
}

/// Members with dotted names (`userIdentity.accessKeyId`) as nested objects. Splunk's
/// multivalue fields (`resources{}.ARN`) keep their names.
fn unflatten<'a>(members: impl Iterator<Item = (&'a String, &'a Value)>) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, value) in members {
        if name.contains('{') {
            out.insert(name.clone(), value.clone());
        } else {
            let path: Vec<&str> = name.split('.').collect();
            put(&mut out, &path, value.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn dotted_fields_flat_nested_and_mixed() {
        let m = obj(
            json!({"event.original": "a", "aws": {"cloudtrail.error_code": "E"},
            "user": {"name": "n"}}),
        );
        assert_eq!(field(&m, "event.original"), Some(&json!("a")));
        assert_eq!(field(&m, "aws.cloudtrail.error_code"), Some(&json!("E")));
        assert_eq!(field(&m, "user.name"), Some(&json!("n")));
        assert_eq!(field(&m, "user.id"), None);
        assert_eq!(field(&m, "user.name.x"), None);
    }

    #[test]
    fn unflatten_nests_dotted_names() {
        let m = obj(
            json!({"userIdentity.accessKeyId": "K", "userIdentity.type": "IAMUser",
            "resources{}.ARN": ["a"], "eventName": "X"}),
        );
        let out = unflatten(m.iter());
        assert_eq!(
            Value::Object(out),
            json!({"userIdentity": {"accessKeyId": "K", "type": "IAMUser"},
                "resources{}.ARN": ["a"], "eventName": "X"})
        );
    }

    #[test]
    fn numeric_timestamps_are_epoch_milliseconds() {
        assert_eq!(
            timestamp(&json!(1_722_375_070_250u64)),
            json!("2024-07-30T21:31:10.25Z")
        );
        assert_eq!(
            timestamp(&json!("2024-07-30T21:31:10Z")),
            json!("2024-07-30T21:31:10Z")
        );
        assert_eq!(timestamp(&json!(1e300)), json!(1e300));
        assert_eq!(timestamp(&json!(null)), json!(null));
    }

    #[test]
    fn nothing_to_unwrap_in_a_plain_object() {
        assert!(unwrap(&obj(json!({"eventVersion": "1.08"}))).is_none());
    }
}
