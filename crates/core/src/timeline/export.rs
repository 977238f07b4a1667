//! The normalized timeline as the ticket or the SIEM wants it: JSON Lines, CSV, or a table.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::fmt::clip_chars;
use crate::journal::format_ts;
use crate::timeline::model::Event;

/// One exported event. Field names follow CloudTrail's where CloudTrail has the field.
#[derive(Debug, Serialize)]
pub struct Row<'a> {
    #[serde(rename = "eventID")]
    pub event_id: &'a str,
    #[serde(rename = "eventTime")]
    pub event_time: String,
    #[serde(rename = "eventSource")]
    pub event_source: &'a str,
    #[serde(rename = "eventName")]
    pub event_name: &'a str,
    #[serde(rename = "awsRegion")]
    pub aws_region: &'a str,
    #[serde(rename = "sourceIPAddress")]
    pub source_ip: &'a str,
    #[serde(rename = "userAgent")]
    pub user_agent: &'a str,
    #[serde(rename = "identityArn")]
    pub identity_arn: &'a str,
    #[serde(rename = "accessKeyId")]
    pub access_key_id: &'a str,
    pub chain: &'a str,
    #[serde(rename = "errorCode")]
    pub error_code: &'a str,
    #[serde(rename = "errorMessage")]
    pub error_message: &'a str,
    pub tactic: &'a str,
    pub severity: &'a str,
}

impl<'a> Row<'a> {
    pub fn of(e: &'a Event, chains: &'a BTreeMap<String, String>) -> Row<'a> {
        Row {
            event_id: &e.id,
            event_time: format_ts(e.time),
            event_source: &e.service,
            event_name: &e.name,
            aws_region: &e.region,
            source_ip: &e.source_ip,
            user_agent: &e.user_agent,
            identity_arn: &e.identity_arn,
            access_key_id: &e.access_key_id,
            chain: chains.get(&*e.access_key_id).map_or("", String::as_str),
            error_code: e.error_code.as_deref().unwrap_or(""),
            error_message: e.error_message.as_deref().unwrap_or(""),
            tactic: e.risk.as_ref().map_or("", |r| r.tactic.label()),
            severity: e.risk.as_ref().map_or("", |r| r.severity.label()),
        }
    }
}

pub fn write_jsonl<'a>(
    out: &mut impl Write,
    events: impl Iterator<Item = &'a Event>,
    chains: &BTreeMap<String, String>,
) -> io::Result<()> {
    for e in events {
        serde_json::to_writer(&mut *out, &Row::of(e, chains))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

pub fn write_csv<'a>(
    out: &mut impl Write,
    events: impl Iterator<Item = &'a Event>,
    chains: &BTreeMap<String, String>,
) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    for e in events {
        w.serialize(Row::of(e, chains)).map_err(io::Error::other)?;
    }
    w.flush()
}

/// A fixed-width table for reading in a terminal or pasting into a ticket.
pub fn write_table<'a>(
    out: &mut impl Write,
    events: impl Iterator<Item = &'a Event>,
    chains: &BTreeMap<String, String>,
) -> io::Result<()> {
    writeln!(
        out,
        "{:<20}  {:<14}  {:<10}  {:<28}  {:<22}  {:<15}  {:<22}  TACTIC",
        "TIME (UTC)", "REGION", "SERVICE", "EVENT", "IDENTITY", "SOURCE IP", "ERROR"
    )?;
    for e in events {
        // The chain for tracked keys, else the key, else the principal (console sign-ins).
        let who = chains.get(&*e.access_key_id).cloned().unwrap_or_else(|| {
            if e.access_key_id.is_empty() {
                e.identity_arn.rsplit(':').next().unwrap_or("").to_string()
            } else {
                e.access_key_id.to_string()
            }
        });
        let tactic = e
            .risk
            .as_ref()
            .map(|r| format!("{} ({})", r.tactic.label(), r.severity.label()))
            .unwrap_or_default();
        writeln!(
            out,
            "{:<20}  {:<14}  {:<10}  {:<28}  {:<22}  {:<15}  {:<22}  {}",
            format_ts(e.time),
            clip_chars(&e.region, 14),
            clip_chars(e.service_short(), 10),
            clip_chars(&e.name, 28),
            clip_chars(&who, 22),
            clip_chars(&e.source_ip, 15),
            clip_chars(e.error_code.as_deref().unwrap_or(""), 22),
            tactic
        )?;
    }
    Ok(())
}
