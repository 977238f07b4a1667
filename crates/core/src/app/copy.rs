//! `y` and `Y`: the row under the cursor, on any tab, as its id (or ARN) and as JSON, put on
//! the operator's clipboard with OSC 52 by the runtime. A secret never goes in: the rows hold
//! none, and a CloudTrail record's credential fields are blanked (`redact`).

use serde_json::{Value, json};

use crate::app::cost::Focus;
use crate::app::keymap::Command;
use crate::app::msg::Effect;
use crate::app::state::{Level, State, Tab};
use crate::app::timeline::View;
use crate::domain::{LastUsed, Secret, Timestamp};
use crate::journal::format_ts;

/// What the cursor row gives: its id or ARN for `y`, its JSON for `Y`.
#[derive(Debug, Clone, PartialEq)]
pub struct Copied {
    pub short: String,
    pub json: Value,
}

/// `y` or `Y` on the focused tab.
pub fn on_copy(state: &mut State, cmd: Command) -> Vec<Effect> {
    let Some(row) = selection(state) else {
        state.flash(
            Level::Info,
            format!(
                "nothing to copy: no row is selected on the {} tab",
                state.tab.title()
            ),
        );
        return vec![];
    };
    let (what, text) = if cmd == Command::CopyJson {
        // Pretty, as it is pasted into a ticket or a chat.
        let text = serde_json::to_string_pretty(&row.json).unwrap_or_default();
        (format!("{} as JSON", row.short), text)
    } else {
        (row.short.clone(), row.short)
    };
    state.flash(Level::Ok, format!("{what} {}", crate::app::secret::COPIED));
    vec![Effect::Copy {
        what,
        text: Secret::new(text),
    }]
}

/// The row under the cursor of the focused tab (its open pane's row where one is open).
pub fn selection(state: &State) -> Option<Copied> {
    match state.tab {
        Tab::Keys => keys(state),
        Tab::Timeline => timeline(state),
        Tab::Resources => resources(state),
        Tab::Cost => cost(state),
        Tab::Checklist => checklist(state),
        Tab::Access => access(state),
    }
}

fn ts(t: Timestamp) -> Value {
    Value::String(format_ts(t))
}

fn keys(state: &State) -> Option<Copied> {
    let rows = state.key_rows();
    let row = rows.get(state.cursor_index(&rows)?)?;
    let f = row.flags;
    let flags: Vec<&str> = [
        (f.leaked, "leaked"),
        (f.new, "new"),
        (f.rotated, "rotated"),
        (f.quarantined, "quarantined"),
        (f.self_key, "self"),
    ]
    .into_iter()
    .filter_map(|(on, w)| on.then_some(w))
    .collect();
    let mut json = json!({ "access_key_id": row.key_id, "flags": flags });
    if let Some(k) = &row.key {
        json["user"] = json!(k.user);
        json["status"] = json!(k.status.as_str());
        json["created"] = ts(k.created);
        json["last_used"] = match &k.last_used {
            LastUsed::At {
                when,
                service,
                region,
            } => json!({ "at": format_ts(*when), "service": service, "region": region }),
            LastUsed::Never => json!("never"),
            _ => Value::Null,
        };
        if let Some(a) = &row.account {
            json["account"] = json!(a);
        }
    } else {
        json["in_iam"] = json!(false);
        json["account"] = json!(row.foreign_account);
    }
    Some(Copied {
        short: row.key_id.clone(),
        json,
    })
}

fn timeline(state: &State) -> Option<Copied> {
    if state.timeline.view == View::Sources {
        return sources(state);
    }
    let e = state.timeline.selected()?;
    let json = match serde_json::from_str::<Value>(&e.raw) {
        Ok(mut v) => {
            redact(&mut v);
            v
        }
        // Not JSON (a CSV row of the console's export): the fields the console read.
        Err(_) => json!({
            "eventID": &*e.id,
            "eventTime": format_ts(e.time),
            "eventSource": e.service.to_string(),
            "eventName": e.name.to_string(),
            "awsRegion": e.region.to_string(),
            "sourceIPAddress": e.source_ip.to_string(),
            "userAgent": e.user_agent.to_string(),
            "accessKeyId": e.access_key_id.to_string(),
            "errorCode": e.error_code.as_ref().map(|c| c.to_string()),
        }),
    };
    Some(Copied {
        short: e.id.to_string(),
        json,
    })
}

/// The sources view: the address and the agent at the top row of its two tables (one scroll
/// moves both), newest first as drawn. `y` copies the address, or the agent when there are
/// fewer addresses.
fn sources(state: &State) -> Option<Copied> {
    let t = &state.timeline;
    let s = t.store.summary();
    let leak = s.leak;
    let nth = |seen: &std::collections::BTreeMap<
        crate::timeline::model::Text,
        crate::timeline::store::Seen,
    >| {
        let mut all: Vec<_> = seen.iter().collect();
        all.sort_unstable_by(|a, b| b.1.first.cmp(&a.1.first).then_with(|| a.0.cmp(b.0)));
        let i = t.sources_scroll.min(all.len().checked_sub(1)?);
        let (value, seen) = all[i];
        Some((
            value.to_string(),
            json!({
                "value": value.to_string(),
                "first_seen": format_ts(seen.first),
                "last_seen": format_ts(seen.last),
                "events": seen.events,
                "since_leak": seen.since_leak,
                "new_since_leak": seen.new_since(leak),
            }),
        ))
    };
    let ip = nth(&s.source_ips);
    let agent = nth(&s.user_agents);
    let short = ip.as_ref().or(agent.as_ref())?.0.clone();
    Some(Copied {
        short,
        json: json!({
            "source_ip": ip.map(|(_, j)| j),
            "user_agent": agent.map(|(_, j)| j),
        }),
    })
}

/// Field names whose values are credentials (CloudTrail records `sessionToken` in the answers
/// to `AssumeRole` and `GetSessionToken`, for one), compared without case.
const SECRET_FIELDS: [&str; 9] = [
    "secretaccesskey",
    "sessiontoken",
    "password",
    "newpassword",
    "oldpassword",
    "secretstring",
    "secretbinary",
    "privatekey",
    "keymaterial",
];

/// Blanks every credential in a JSON document, however deep.
pub fn redact(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                if SECRET_FIELDS.contains(&k.to_ascii_lowercase().as_str()) && !child.is_null() {
                    *child = json!("<redacted by keyspill>");
                } else {
                    redact(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

fn resources(state: &State) -> Option<Copied> {
    let (r, attribution) = state.resources.current()?;
    let tags: serde_json::Map<String, Value> =
        r.tags.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let mut json = json!({
        "kind": r.kind.label(),
        "region": r.region,
        "id": r.id,
        "arn": r.arn,
        "name": r.name,
        "created": r.created.map(format_ts),
        "state": r.state,
        "tags": tags,
        "related": r.related.iter().map(|x| x.to_string()).collect::<Vec<_>>(),
    });
    if let Some(a) = attribution {
        json["verdict"] = json!(a.verdict.label());
        json["events"] = a
            .events
            .iter()
            .map(|l| {
                json!({
                    "eventID": l.event_id,
                    "eventTime": format_ts(l.time),
                    "eventName": l.name,
                    "accessKeyId": l.key,
                    "creates": l.creates,
                })
            })
            .collect();
    }
    Some(Copied {
        short: r.arn.clone().unwrap_or_else(|| r.id.clone()),
        json,
    })
}

/// The Cost tab has no row cursor: its focused table's top row (where `j`/`k` scroll to).
fn cost(state: &State) -> Option<Copied> {
    let c = &state.cost;
    let usd = |x: f64| (x * 100.0).round() / 100.0;
    let row = match c.focus {
        Focus::Services => c.services.get(c.scroll).map(|r| ("service", r)),
        Focus::Regions => c.regions.get(c.scroll).map(|r| ("region", r)),
        Focus::Anomalies => {
            let Some(crate::cost::model::Anomalies::Found { anomalies, .. }) = &c.anomalies.data
            else {
                return None;
            };
            let a = anomalies.get(c.scroll)?;
            return Some(Copied {
                short: a.id.clone(),
                json: json!({
                    "anomaly_id": a.id,
                    "start": a.start.map(|d| d.to_string()),
                    "end": a.end.map(|d| d.to_string()),
                    "impact_usd": usd(a.impact),
                    "max_impact_usd": usd(a.max_impact),
                    "score": a.score,
                    "monitor": a.monitor,
                }),
            });
        }
    };
    let (what, r) = row?;
    Some(Copied {
        short: r.key.clone(),
        json: json!({
            what: r.key,
            "baseline_daily_usd": usd(r.baseline),
            "since_daily_usd": usd(r.since),
            "delta_daily_usd": usd(r.delta),
            "total_since_usd": usd(r.total_since),
            "peak_usd": usd(r.peak),
            "peak_day": r.peak_day.map(|d| d.to_string()),
            "spike_days": r.spike_days.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            "spike": r.spike,
            "new_spend": r.new_spend,
            "window": c.window.map(|(a, b)| [a.to_string(), b.to_string()]),
        }),
    })
}

fn checklist(state: &State) -> Option<Copied> {
    let (step, status) = crate::app::checklist::evaluate(state)
        .into_iter()
        .nth(state.checklist.cursor)?;
    let notes: Vec<Value> = state
        .checklist
        .notes
        .iter()
        .filter(|n| n.step.as_deref() == Some(step.id.as_str()))
        .map(|n| json!(n.text))
        .collect();
    Some(Copied {
        short: step.id.clone(),
        json: json!({
            "id": step.id,
            "title": step.title,
            "status": status.word(),
            "detail": status.detail(),
            "why": step.why,
            "notes": notes,
        }),
    })
}

fn access(state: &State) -> Option<Copied> {
    let f = state.access.current()?;
    let provenance = match &f.provenance {
        crate::access::Provenance::Leaked => json!("leaked"),
        crate::access::Provenance::Trail {
            event_id,
            time,
            by_key,
        } => json!({ "eventID": event_id, "eventTime": format_ts(*time), "accessKeyId": by_key }),
        crate::access::Provenance::Unknown { appeared } => {
            json!({ "unknown": true, "appeared": format_ts(*appeared) })
        }
        other => json!(format!("{other:?}")),
    };
    Some(Copied {
        short: f.id.clone(),
        json: json!({
            "kind": f.kind.label(),
            "id": f.id,
            "principal": f.principal,
            "state": f.state.word(),
            "why": f.why,
            "expires": f.expires.map(format_ts),
            "provenance": provenance,
        }),
    })
}
