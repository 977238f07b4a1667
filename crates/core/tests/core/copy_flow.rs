//! `y` and `Y` on every tab: the cursor row's id and its JSON, handed to the runtime as one
//! `Effect::Copy`; a credential never goes in.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use keyspill_core::app::copy::{self, redact};
use keyspill_core::app::state::{State, Tab};
use keyspill_core::app::{Effect, Msg, update};
use serde_json::{Value, json};
use time::Duration;

use crate::fixture::*;

fn key(state: &mut State, code: KeyCode) -> Vec<Effect> {
    let modifiers = match code {
        KeyCode::Char(c) if c.is_ascii_uppercase() => KeyModifiers::SHIFT,
        _ => KeyModifiers::NONE,
    };
    update(state, Msg::Key(KeyEvent::new(code, modifiers)))
}

/// What `y` (or `Y`) put on the clipboard.
fn copied(state: &mut State, c: char) -> String {
    let effects = key(state, KeyCode::Char(c));
    match effects.as_slice() {
        [Effect::Copy { text, .. }] => text.expose().to_string(),
        other => panic!("{c} gave {other:?}"),
    }
}

fn copied_json(state: &mut State) -> Value {
    let text = copied(state, 'Y');
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn keys_loaded() -> State {
    keys_answered(snapshot(Some(false)))
}

#[test]
fn on_the_keys_tab_y_copies_the_key_id_and_y_upper_its_row() {
    let mut state = keys_loaded();
    assert_eq!(copied(&mut state, 'y'), K_LEAKED);
    let flash = flash_text(&state);
    assert!(
        flash.contains("OSC 52: your terminal must allow it"),
        "{flash}"
    );
    let j = copied_json(&mut state);
    assert_eq!(j["access_key_id"], K_LEAKED);
    assert_eq!(j["user"], "ci-deploy");
    assert_eq!(j["status"], "Active");
    assert_eq!(j["created"], "2025-03-10T10:00:00Z");
    assert_eq!(j["last_used"]["service"], "s3");
    assert_eq!(j["flags"], json!(["leaked", "quarantined"]));
    // The cursor moves, the copy follows it.
    key(&mut state, KeyCode::Char('j'));
    let second = state.key_rows()[1].key_id.clone();
    assert_ne!(second, K_LEAKED);
    assert_eq!(copied(&mut state, 'y'), second);
}

#[test]
fn with_no_row_there_is_nothing_to_copy_and_it_says_so() {
    let mut state = base(false);
    assert!(key(&mut state, KeyCode::Char('y')).is_empty());
    let flash = flash_text(&state);
    assert!(flash.contains("nothing to copy"), "{flash}");
    assert!(copy::selection(&state).is_none());
}

#[test]
fn on_the_timeline_y_copies_the_event_id_and_y_upper_its_raw_record() {
    let mut state = crate::timeline_tab::loaded();
    let (id, raw) = {
        let e = state
            .timeline
            .selected()
            .expect("an event under the cursor");
        (e.id.to_string(), e.raw.to_string())
    };
    assert_eq!(copied(&mut state, 'y'), id);
    let mut expected: Value = serde_json::from_str(&raw).expect("raw JSON");
    redact(&mut expected);
    assert_eq!(copied_json(&mut state), expected);
    assert_eq!(expected["eventID"], id.as_str());
    // With the raw record open over the table, the same row.
    key(&mut state, KeyCode::Enter);
    assert!(state.timeline.detail.is_some());
    assert_eq!(copied(&mut state, 'y'), id);
}

#[test]
fn in_the_timeline_sources_view_y_copies_the_newest_address() {
    let mut state = crate::timeline_tab::loaded();
    key(&mut state, KeyCode::Char('v'));
    let (ip, first) = {
        let s = state.timeline.store.summary();
        let newest = s
            .source_ips
            .iter()
            .max_by(|a, b| a.1.first.cmp(&b.1.first).then_with(|| b.0.cmp(a.0)))
            .expect("addresses in the fixture");
        (newest.0.to_string(), newest.1.first)
    };
    assert_eq!(copied(&mut state, 'y'), ip);
    let j = copied_json(&mut state);
    assert_eq!(j["source_ip"]["value"], ip.as_str());
    assert_eq!(
        j["source_ip"]["first_seen"],
        keyspill_core::journal::format_ts(first)
    );
    assert!(j["user_agent"]["value"].is_string(), "{j}");
}

#[test]
fn credentials_in_a_record_are_blanked() {
    let mut v = json!({
        "eventName": "AssumeRole",
        "requestParameters": {"roleArn": "arn:aws:iam::123456789012:role/x", "secretId": "db"},
        "responseElements": {
            "credentials": {
                "accessKeyId": "ASIAEXAMPLEEXAMPLE12",
                "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLETOKEN",
                "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "expiration": "Nov 22, 2026, 3:00:00 PM"
            }
        },
        "items": [{"password": "hunter2"}, {"newPassword": null}]
    });
    redact(&mut v);
    let text = v.to_string();
    for secret in ["IQoJb3JpZ2luX2VjEXAMPLETOKEN", "wJalrXUtnFEMI", "hunter2"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let creds = &v["responseElements"]["credentials"];
    assert_eq!(creds["accessKeyId"], "ASIAEXAMPLEEXAMPLE12", "ids stay");
    assert_eq!(creds["expiration"], "Nov 22, 2026, 3:00:00 PM");
    assert_eq!(
        v["requestParameters"]["secretId"], "db",
        "a name is not a secret"
    );
    assert_eq!(v["items"][1]["newPassword"], Value::Null);
}

#[test]
fn on_resources_y_copies_the_arn_or_id_and_y_upper_the_resource() {
    let mut state = crate::resources_flow::swept();
    let (short, id, kind) = {
        let (r, _) = state
            .resources
            .current()
            .expect("a resource under the cursor");
        (
            r.arn.clone().unwrap_or_else(|| r.id.clone()),
            r.id.clone(),
            r.kind.label(),
        )
    };
    assert_eq!(copied(&mut state, 'y'), short);
    let j = copied_json(&mut state);
    assert_eq!(j["id"], id.as_str());
    assert_eq!(j["kind"], kind);
    assert!(j["verdict"].is_string(), "{j}");
}

#[test]
fn on_cost_y_copies_the_top_row_of_the_focused_table() {
    let mut state = crate::cost_ui::started();
    crate::cost_ui::fetched(
        &mut state,
        1,
        Duration::minutes(1),
        Ok(crate::cost_ui::cost_data()),
        Ok(crate::cost_ui::anomalies_found()),
        2,
    );
    let service = state.cost.services[0].key.clone();
    assert_eq!(copied(&mut state, 'y'), service);
    let j = copied_json(&mut state);
    assert_eq!(j["service"], service.as_str());
    let r = &state.cost.services[0];
    assert_eq!(
        j["delta_daily_usd"],
        json!((r.delta * 100.0).round() / 100.0)
    );
    assert_eq!(j["spike"], json!(r.spike));

    // Scrolled one down: the next row.
    assert!(state.cost.services.len() > 1);
    key(&mut state, KeyCode::Char('j'));
    assert_eq!(copied(&mut state, 'y'), state.cost.services[1].key.clone());
    // The regions table (c moves the focus), then the anomalies.
    key(&mut state, KeyCode::Char('c'));
    let region = state.cost.regions[state.cost.scroll].key.clone();
    assert_eq!(copied(&mut state, 'y'), region);
    assert_eq!(copied_json(&mut state)["region"], region.as_str());
    key(&mut state, KeyCode::Char('c'));
    let Some(keyspill_core::cost::model::Anomalies::Found { anomalies, .. }) =
        state.cost.anomalies.data.clone()
    else {
        panic!("the fixture's anomalies");
    };
    let a = &anomalies[state.cost.scroll];
    assert_eq!(copied(&mut state, 'y'), a.id);
    assert_eq!(copied_json(&mut state)["monitor"], a.monitor.as_str());
}

#[test]
fn on_the_checklist_y_copies_the_step_id_and_y_upper_the_step_with_its_status() {
    let mut state = keys_loaded();
    key(&mut state, KeyCode::Char('5'));
    assert_eq!(state.tab, Tab::Checklist);
    let first = state.checklist.steps[0].id.clone();
    assert_eq!(copied(&mut state, 'y'), first);
    let j = copied_json(&mut state);
    assert_eq!(j["id"], first.as_str());
    assert_eq!(j["title"], state.checklist.steps[0].title.as_str());
    assert!(j["status"].is_string());
    key(&mut state, KeyCode::Char('j'));
    assert_eq!(copied(&mut state, 'y'), state.checklist.steps[1].id.clone());
}

#[test]
fn on_access_y_copies_the_foothold_id_and_y_upper_the_foothold() {
    let mut state = crate::access_flow::loaded(false);
    let (id, kind, st) = {
        let f = state.access.current().expect("a foothold under the cursor");
        (f.id.clone(), f.kind.label(), f.state.word())
    };
    assert_eq!(copied(&mut state, 'y'), id);
    let j = copied_json(&mut state);
    assert_eq!(j["id"], id.as_str());
    assert_eq!(j["kind"], kind);
    assert_eq!(j["state"], st);
}
