//! CloudTrail as CSV: the console's event-history download ("Export to CSV" on the Event
//! history page) first, and the CSV other tools write of the same events (Splunk's and
//! Kibana's CSV exports, Athena query results).
//!
//! Its columns are the page's: `Event ID`, `Event time`, `User name`, `Event name`,
//! `Resource type`, `Resource name`, `AWS access key`, `Event source`, `AWS region`,
//! `Error code`, `Source IP address`, `Read-only`, and in newer downloads the whole record as
//! JSON text in `CloudTrail event` (column names from the AWS CloudTrail User Guide, "Viewing
//! CloudTrail events in the CloudTrail console"). Columns are found by name, whatever their
//! order, case, spacing or punctuation, so a download with columns hidden or reordered, or a
//! spreadsheet's re-save, still reads.
//!
//! Other tools' names for the same columns are read too: Splunk's `_raw` and `_time`,
//! Kibana's `@timestamp`, `event.original` and ECS or dotted record paths
//! (`event.action`, `userIdentity.accessKeyId`), Athena's lower-case members and its
//! `useridentity` struct rendered as `{type=…, arn=…, accesskeyid=…}`.
//!
//! A row whose record cell (`CloudTrail event`, `_raw`, `event.original`, `message`) holds a
//! JSON object is that record. Otherwise the row's cells are turned into a record with the
//! fields they name, marked `"keyspillRebuiltFrom": "the CSV columns …"` so the detail pane
//! says that the request and response are not known.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::timeline::parse::KeepRow;

/// The columns keyspill reads, as found in the header.
#[derive(Debug, Default)]
struct Columns {
    record: Option<usize>,
    time: Option<usize>,
    id: Option<usize>,
    name: Option<usize>,
    source: Option<usize>,
    region: Option<usize>,
    ip: Option<usize>,
    key: Option<usize>,
    user: Option<usize>,
    error: Option<usize>,
    read_only: Option<usize>,
    resource_type: Option<usize>,
    resource_name: Option<usize>,
    identity: Option<usize>,
    arn: Option<usize>,
    identity_type: Option<usize>,
    agent: Option<usize>,
    message: Option<usize>,
    /// The record column's name as written, for reasons.
    record_name: String,
}

impl Columns {
    fn from_header(header: &csv::ByteRecord) -> Columns {
        let mut c = Columns::default();
        for (i, cell) in header.iter().enumerate() {
            // The console's names first, then what Splunk (`_raw`, `_time`), Kibana
            // (`@timestamp`, ECS names, dotted record paths) and Athena (lower-case record
            // members, `useridentity` as a struct) call the same column.
            let slot = match normalize(cell).as_str() {
                "cloudtrailevent" | "raw" | "eventoriginal" | "message" => {
                    if c.record.is_none() {
                        c.record_name = String::from_utf8_lossy(cell).trim().to_string();
                    }
                    &mut c.record
                }
                "eventtime" | "timestamp" | "time" => &mut c.time,
                "eventid" => &mut c.id,
                "eventname" | "eventaction" => &mut c.name,
                "eventsource" | "eventprovider" => &mut c.source,
                "awsregion" | "region" | "cloudregion" => &mut c.region,
                "sourceipaddress" | "sourceip" | "sourceaddress" => &mut c.ip,
                "awsaccesskey"
                | "accesskeyid"
                | "accesskey"
                | "useridentityaccesskeyid"
                | "awscloudtrailuseridentityaccesskeyid" => &mut c.key,
                "username" | "useridentityusername" => &mut c.user,
                "errorcode" | "awscloudtrailerrorcode" => &mut c.error,
                "errormessage" | "awscloudtrailerrormessage" => &mut c.message,
                "readonly" | "awscloudtrailreadonly" => &mut c.read_only,
                "resourcetype" => &mut c.resource_type,
                "resourcename" => &mut c.resource_name,
                "useridentity" => &mut c.identity,
                "useridentityarn" | "awscloudtrailuseridentityarn" => &mut c.arn,
                "useridentitytype" | "awscloudtrailuseridentitytype" => &mut c.identity_type,
                "useragent" | "useragentoriginal" => &mut c.agent,
                _ => continue,
            };
            slot.get_or_insert(i);
        }
        c
    }
}

/// A header cell in a comparable form: lower case letters and digits only (`Read-only` and
/// `read only` are both `readonly`).
fn normalize(cell: &[u8]) -> String {
    cell.iter()
        .filter(|b| b.is_ascii_alphanumeric())
        .map(|b| b.to_ascii_lowercase() as char)
        .collect()
}

/// Whether a document is shaped like CSV: it does not open like JSON and its first line is
/// text with a comma, a semicolon or a tab in it. Cheap: only the first line (at most 64 KiB)
/// is looked at.
pub(crate) fn looks_like_csv(text: &[u8]) -> bool {
    delimiter(text).is_some()
}

/// The separator of a CSV document: of `,`, `;` (a spreadsheet's re-save in a locale whose
/// decimal mark is a comma) and tab, the one its first line holds most; `None` when the
/// document does not look like CSV.
fn delimiter(text: &[u8]) -> Option<u8> {
    if matches!(text.first(), None | Some(b'{' | b'[')) {
        return None;
    }
    let head = text.get(..text.len().min(64 << 10)).unwrap_or(text);
    let first_line = head.split(|&b| b == b'\n').next().unwrap_or(head);
    // Text, not binary (a gzip member inside, a stray image) that happens to hold a comma.
    if !first_line
        .iter()
        .all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\r'))
    {
        return None;
    }
    [b',', b';', b'\t']
        .into_iter()
        .map(|d| (first_line.iter().filter(|&&b| b == d).count(), d))
        .filter(|(n, _)| *n > 0)
        .max_by_key(|(n, _)| *n)
        .map(|(_, d)| d)
}

/// Read the rows of a console CSV download. `visit` gets each row's label (`line 7`) and its
/// record, or why it has none. With `keep`, only rows whose bytes it accepts are turned into
/// records (the others are not looked at). `Err` when the document is not an event-history
/// CSV at all.
pub(crate) fn rows(
    text: &[u8],
    keep: Option<KeepRow<'_>>,
    mut visit: impl FnMut(String, Result<Value, String>),
) -> Result<(), String> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .delimiter(delimiter(text).unwrap_or(b','))
        .from_reader(text);
    let header = reader
        .byte_headers()
        .map_err(|e| format!("not CSV ({e})"))?
        .clone();
    let columns = Columns::from_header(&header);
    if columns.record.is_none() && (columns.time.is_none() || columns.name.is_none()) {
        return Err(
            "not CloudTrail: neither JSON nor a CSV with a \"CloudTrail event\" column, or both \
             \"Event time\" and \"Event name\""
                .into(),
        );
    }
    let mut row = csv::ByteRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_byte_record(&mut row) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                visit(format!("line {line}"), Err(format!("not CSV ({e})")));
                // A broken quote swallows the rest of the file: one reason is enough.
                break;
            }
        }
        let label = format!("line {}", row.position().map_or(line, |p| p.line()));
        if row.iter().all(|cell| cell.trim_ascii().is_empty()) {
            continue;
        }
        if keep.is_some_and(|keep| !keep(row.as_slice())) {
            continue;
        }
        visit(label, record_of(&row, &columns));
    }
    Ok(())
}

/// One row's record: the `CloudTrail event` cell when it holds a JSON object, else the cells.
fn record_of(row: &csv::ByteRecord, c: &Columns) -> Result<Value, String> {
    let cell = |at: Option<usize>| -> String {
        at.and_then(|i| row.get(i))
            .map(|b| String::from_utf8_lossy(b).trim().to_string())
            .unwrap_or_default()
    };
    let whole = cell(c.record);
    let whole_problem = if whole.is_empty() {
        None
    } else {
        match serde_json::from_str::<Value>(&whole) {
            Ok(record @ Value::Object(_)) => return Ok(record),
            Ok(_) => Some(format!("the {:?} cell is not a JSON object", c.record_name)),
            Err(_) => Some(format!(
                "the {:?} cell is not JSON (cut short?)",
                c.record_name
            )),
        }
    };
    let time = cell(c.time);
    if time.is_empty() {
        return Err(match whole_problem {
            Some(problem) => format!("{problem}, and no Event time"),
            None => "no Event time and no CloudTrail event".into(),
        });
    }
    if time.contains(" @ ") {
        // Kibana's display format (`Jul 30, 2024 @ 21:31:10.000`), in a time zone the file
        // does not name: guessing it would move every event.
        return Err(format!(
            "time {time:?} is in Kibana's display format, without a time zone (export again \
             with dateFormat set to ISO 8601 and dateFormat:tz to UTC)"
        ));
    }
    let mut record = Map::new();
    let mut set = |name: &str, value: String| {
        if !value.is_empty() {
            record.insert(name.into(), Value::String(value));
        }
    };
    set("eventTime", normalize_time(&time));
    set("eventID", cell(c.id));
    set("eventName", cell(c.name));
    set("eventSource", cell(c.source));
    set("awsRegion", cell(c.region));
    set("sourceIPAddress", cell(c.ip));
    set("errorCode", cell(c.error));
    set("errorMessage", cell(c.message));
    set("userAgent", cell(c.agent));
    set("readOnly", cell(c.read_only).to_ascii_lowercase());
    let mut identity = identity_cell(&cell(c.identity));
    for (name, value) in [
        ("userName", cell(c.user)),
        ("accessKeyId", cell(c.key)),
        ("arn", cell(c.arn)),
        ("type", cell(c.identity_type)),
    ] {
        if !value.is_empty() {
            identity.insert(name.into(), Value::String(value));
        }
    }
    if !identity.is_empty() {
        record.insert("userIdentity".into(), Value::Object(identity));
    }
    let (kind, name) = (cell(c.resource_type), cell(c.resource_name));
    if !kind.is_empty() || !name.is_empty() {
        record.insert("resources".into(), json!([{"type": kind, "name": name}]));
    }
    let from = match whole_problem {
        Some(problem) => format!("the CSV columns ({problem})"),
        None => "the CSV columns (no column with the whole record)".into(),
    };
    record.insert("keyspillRebuiltFrom".into(), Value::String(from));
    Ok(Value::Object(record))
}

/// A `userIdentity` cell: a JSON object as it is, or the members keyspill reads from Athena's
/// rendering of the struct (`{type=IAMUser, principalid=…, arn=…, accesskeyid=…, …}`).
pub(crate) fn identity_cell(text: &str) -> Map<String, Value> {
    if text.is_empty() {
        return Map::new();
    }
    if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text) {
        return map;
    }
    let mut out = Map::new();
    for (athena, member) in [
        ("type", "type"),
        ("arn", "arn"),
        ("accesskeyid", "accessKeyId"),
        ("username", "userName"),
        ("accountid", "accountId"),
    ] {
        if let Some(value) = struct_member(text, athena) {
            out.insert(member.into(), Value::String(value.to_string()));
        }
    }
    out
}

/// The first `name=value` of a rendered struct, the name at the start of a member (after `{`
/// or a space), the value up to the next `,` or `}`; `null` is none.
fn struct_member<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let pattern = format!("{name}=");
    let mut from = 0usize;
    while let Some(found) = text.get(from..)?.find(&pattern) {
        let at = from + found;
        let before = text.get(..at)?.chars().next_back();
        if matches!(before, Some('{' | ' ')) {
            let rest = text.get(at + pattern.len()..)?;
            let end = rest.find([',', '}']).unwrap_or(rest.len());
            let value = rest.get(..end)?.trim();
            return (!value.is_empty() && value != "null").then_some(value);
        }
        from = at + pattern.len();
    }
    None
}

/// An event time as written by the console or a spreadsheet, as RFC 3339 where it can be
/// told: RFC 3339 as it is; a date and time without a zone is taken as UTC (the console
/// downloads UTC); epoch seconds. Anything else is passed on for the parser to reject.
pub(crate) fn normalize_time(s: &str) -> String {
    if let Ok(secs) = s.parse::<f64>()
        && secs.is_finite()
        && let Ok(t) = OffsetDateTime::from_unix_timestamp(secs.trunc() as i64)
        && let Ok(text) = t.format(&Rfc3339)
    {
        return text;
    }
    let bytes = s.as_bytes();
    let zoned = bytes.len() > 19
        && bytes
            .get(19..)
            .is_some_and(|rest| rest.iter().any(|b| matches!(b, b'Z' | b'z' | b'+' | b'-')));
    let dated = bytes.len() >= 19
        && bytes.get(4) == Some(&b'-')
        && bytes.get(7) == Some(&b'-')
        && matches!(bytes.get(10), Some(b'T' | b' '))
        && bytes.get(13) == Some(&b':');
    if dated && !zoned {
        return format!("{s}Z");
    }
    // `+0000` (Splunk's `_time`) for `+00:00`.
    let n = bytes.len();
    if dated
        && n > 24
        && matches!(bytes.get(n - 5), Some(b'+' | b'-'))
        && bytes
            .get(n - 4..)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        && let (Some(head), Some(tail)) = (s.get(..n - 2), s.get(n - 2..))
    {
        return format!("{head}:{tail}");
    }
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_are_matched_loosely() {
        let header = csv::ByteRecord::from(vec![
            "Event name",
            "EVENT TIME",
            "Read-only",
            "aws access key",
            "CloudTrail event",
        ]);
        let c = Columns::from_header(&header);
        assert_eq!(
            (c.name, c.time, c.read_only, c.key, c.record),
            (Some(0), Some(1), Some(2), Some(3), Some(4))
        );
        assert_eq!(c.ip, None);
    }

    #[test]
    fn times() {
        assert_eq!(
            normalize_time("2024-08-01T12:00:00Z"),
            "2024-08-01T12:00:00Z"
        );
        assert_eq!(
            normalize_time("2024-08-01 12:00:00"),
            "2024-08-01 12:00:00Z"
        );
        assert_eq!(
            normalize_time("2024-08-01T12:00:00.123"),
            "2024-08-01T12:00:00.123Z"
        );
        assert_eq!(
            normalize_time("2024-08-01T14:00:00+02:00"),
            "2024-08-01T14:00:00+02:00"
        );
        assert_eq!(normalize_time("1722513600"), "2024-08-01T12:00:00Z");
        assert_eq!(
            normalize_time("2024-08-01T12:00:00.000+0000"),
            "2024-08-01T12:00:00.000+00:00"
        );
        assert_eq!(normalize_time("Aug 1, 2024"), "Aug 1, 2024");
    }

    #[test]
    fn athena_user_identity_struct() {
        let cell = "{type=AssumedRole, principalid=AROA1:s, arn=arn:aws:sts::1:assumed-role/r/s, \
                    accountid=1, invokedby=null, accesskeyid=ASIA1, username=null, \
                    sessioncontext={attributes={mfaauthenticated=false}, sessionissuer={type=Role, \
                    arn=arn:aws:iam::1:role/r}}}";
        let m = identity_cell(cell);
        assert_eq!(m.get("type"), Some(&json!("AssumedRole")));
        assert_eq!(
            m.get("arn"),
            Some(&json!("arn:aws:sts::1:assumed-role/r/s"))
        );
        assert_eq!(m.get("accessKeyId"), Some(&json!("ASIA1")));
        assert_eq!(m.get("userName"), None);
        assert_eq!(
            identity_cell("{\"accessKeyId\":\"K\"}").get("accessKeyId"),
            Some(&json!("K"))
        );
        assert!(identity_cell("").is_empty());
    }

    #[test]
    fn csv_shape_is_told_from_the_first_line() {
        assert!(looks_like_csv(b"Event ID,Event time\n1,2"));
        assert!(looks_like_csv(b"\"Event ID\",\"Event time\""));
        assert!(!looks_like_csv(b"{\"a\":1,\"b\":2}"));
        assert!(!looks_like_csv(b"[1,2]"));
        assert!(!looks_like_csv(b"plain text\nwith, a comma later"));
        assert_eq!(delimiter(b"Event ID;Event time;Event name\n"), Some(b';'));
        assert_eq!(delimiter(b"Event ID\tEvent time\n"), Some(b'\t'));
        assert_eq!(delimiter(b"a,b;c,d\n"), Some(b','));
        assert!(!looks_like_csv(b""));
        assert!(!looks_like_csv(b"\x1f\x8b\x08\x00,,"));
    }
}
