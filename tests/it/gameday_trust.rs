//! The `role-trust-backdoor` game-day scenario against moto: the leaked key writes the
//! attacker's own account into the deploy role's trust, and the attacker comes back through
//! it with sessions no key of the incident signed. The answer key (the leaked key, the trust,
//! the sessions minted through it) is what the console's model finds; closing the trust alone
//! leaves the sessions, and only revoking the role after the trust closed ends them, as the
//! live attacker shows.

use std::collections::BTreeMap;

use crate::common::{aws_as, aws_root};
use crate::gameday::{live_attacker, trail_records};
use keyspill::runtime::exec;
use keyspill_core::access::{Assessment, FootState, Kind, Provenance, Remedy, policy};
use keyspill_core::app::plan::{KeyRef, Plan};
use keyspill_core::domain::{KeyStatus, Timestamp};
use keyspill_gameday::{self as gameday, AttackerEvent, Seeded};
use serde_json::Value;
use time::OffsetDateTime;

/// The open footholds the attacker made (a vendor's standing trust left out), as the game's
/// truth names them.
fn attackers(a: &Assessment) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = a
        .footholds
        .iter()
        .filter(|f| f.state == FootState::Open)
        .filter(|f| !f.id.starts_with("unseen:"))
        .filter(|f| !(f.kind == Kind::Trust && f.provenance == Provenance::Standing))
        .filter(|f| {
            matches!(
                f.kind,
                Kind::LeakedKey | Kind::AccessKey | Kind::Session | Kind::Trust
            )
        })
        .map(|f| (f.kind.label().to_string(), f.id.clone()))
        .collect();
    out.sort();
    out
}

/// The console's model, knowing when its own change closed each trust.
async fn model(
    m: &crate::common::Moto,
    seeded: &Seeded,
    untrusted: BTreeMap<String, Timestamp>,
) -> Assessment {
    crate::gameday::console_model_with(m, seeded, untrusted).await
}

async fn run(me: &keyspill_aws::Aws, plan: Plan) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    Box::pin(exec::run_plan(me, &None, &tx, plan)).await;
    drop(tx);
    while let Some(msg) = rx.recv().await {
        if let keyspill_core::app::msg::Msg::ActionFinished { report, .. } = msg {
            assert!(report.ok, "{}", report.summary);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trust_opened_to_the_attacker_is_held_until_closed_and_its_sessions_revoked_after() {
    let (m, scenario, seeded) = crate::gameday::seeded_now("role-trust-backdoor", 7).await;
    let door = scenario.trust.clone().expect("the scenario's trust");
    let session = seeded
        .session
        .clone()
        .expect("a session minted from outside");
    assert_eq!(session.role, door.role);
    let root = aws_root(&m).await;
    let records: Vec<Value> = trail_records(&root, &seeded.trail_bucket).await;
    let ok = |name: &str| -> Vec<&Value> {
        records
            .iter()
            .filter(|r| r["eventName"] == name && r["errorCode"].is_null())
            .collect()
    };
    // The trust change, signed with the leaked key, naming the attacker's account.
    let changed = ok("UpdateAssumeRolePolicy");
    assert_eq!(changed.len(), 1);
    assert_eq!(
        changed[0]["userIdentity"]["accessKeyId"],
        seeded.leaked.key_id.as_str()
    );
    assert!(
        changed[0]["requestParameters"]["policyDocument"]
            .as_str()
            .is_some_and(|d| d.contains(&door.account)),
        "{}",
        changed[0]
    );
    // Its way back in: an AssumeRole that names only its account, no key of this one.
    let from_outside: Vec<&Value> = ok("AssumeRole")
        .into_iter()
        .filter(|r| {
            r["userIdentity"]["type"] == "AWSAccount"
                && r["userIdentity"]["accountId"] == door.account.as_str()
        })
        .collect();
    assert_eq!(from_outside.len(), 1, "{from_outside:?}");
    let r = from_outside[0];
    assert_eq!(r["userIdentity"]["accountId"], door.account.as_str());
    assert!(r["userIdentity"]["accessKeyId"].is_null(), "{r}");
    assert!(
        r["requestParameters"]["roleArn"]
            .as_str()
            .is_some_and(|a| a.ends_with(&format!("role/{}", door.role)))
    );
    assert_eq!(
        r["responseElements"]["credentials"]["accessKeyId"],
        session.key_id.as_str()
    );
    // And what the session did: instances, signed with a key the incident never issued.
    assert!(
        ok("RunInstances")
            .iter()
            .any(|r| r["userIdentity"]["accessKeyId"] == session.key_id.as_str())
    );

    // The answer key: no user, no key of its own; the leaked key, the trust and the sessions
    // minted through it.
    let truth = gameday::attacker_credentials(&m.endpoint(), &seeded)
        .await
        .expect("the game's truth");
    let trust_sessions = format!("trust:{}", door.role);
    let expected = vec![
        ("leaked-key".to_string(), seeded.leaked.key_id.clone()),
        ("session".to_string(), trust_sessions.clone()),
        ("trust".to_string(), door.role.clone()),
    ];
    assert_eq!(truth, expected);
    let a = Box::pin(model(&m, &seeded, BTreeMap::new())).await;
    assert_eq!(attackers(&a), truth, "{}", a.text());
    let held = gameday::attacker_holdings(&m.endpoint(), &seeded, &[]).await;
    assert!(
        held.iter()
            .any(|h| h.contains(&format!("trusts account {}", door.account))),
        "{held:?}"
    );

    // The live attacker: the quarantine refuses the leaked key's launches; the session does it.
    let (seen, stop_tx, task) = live_attacker(&m, &seeded, &scenario, 7);
    seen.wait(0, "the session at work", |e| {
        e.ok && e.with == session.key_id
    })
    .await;

    // The responder disables the leaked key and takes the outside account out of the trust.
    let me = aws_as(&m, &seeded.responder.key_id, &seeded.responder.secret).await;
    run(
        &me,
        Plan::DisableKeys(vec![KeyRef {
            user: seeded.leaked.user.clone(),
            key_id: seeded.leaked.key_id.clone(),
            status: KeyStatus::Active,
            self_key: false,
        }]),
    )
    .await;
    let Some(Remedy::Untrust { role, principals }) = a
        .footholds
        .iter()
        .find(|f| f.kind == Kind::Trust && f.id == door.role)
        .and_then(|f| f.remedy.clone())
    else {
        panic!("no untrust remedy: {}", a.text());
    };
    let before = gameday_trust_document(&m, &door.role).await;
    let after = policy::without(&before, &principals).expect("a trust without the outsider");
    let untrusted_at = OffsetDateTime::now_utc();
    run(
        &me,
        Plan::Untrust {
            role: role.clone(),
            principals,
            before,
            after,
        },
    )
    .await;
    // The trust is closed, and still the session works: the model keeps it open.
    let n = seen.all().len();
    seen.wait(n, "the session still at work after the untrust", |e| {
        e.ok && e.with == session.key_id
    })
    .await;
    let untrusted: BTreeMap<String, Timestamp> = [(role.clone(), untrusted_at)].into();
    let a = Box::pin(model(&m, &seeded, untrusted.clone())).await;
    assert_eq!(
        attackers(&a),
        vec![("session".to_string(), trust_sessions.clone())],
        "{}",
        a.text()
    );
    let live = seen.all();
    let held = gameday::attacker_holdings(&m.endpoint(), &seeded, &live).await;
    assert!(
        held.iter()
            .any(|h| h.starts_with(&format!("session {}", session.key_id))),
        "{held:?}"
    );
    assert!(
        !held.iter().any(|h| h.contains("trusts account")),
        "{held:?}"
    );

    // Revoked after the trust closed: the session stops, and the attacker's attempt to come
    // back from its own account is refused by the role's trust as it is now.
    run(
        &me,
        Plan::RevokeSessions {
            principals: vec![keyspill_core::access::Principal::Role(role.clone())],
            cutoff: keyspill_core::journal::format_ts(OffsetDateTime::now_utc()),
        },
    )
    .await;
    let n = seen.all().len();
    seen.wait(n, "a way back in refused by the trust", |e| {
        e.call == "sts:AssumeRole" && !e.ok && e.code.as_deref() == Some("AccessDenied")
    })
    .await;
    let n = seen.all().len();
    seen.wait(n, "another turn", |e| e.call == "sts:AssumeRole")
        .await;
    stop_tx.send(true).expect("stop");
    let returned = tokio::time::timeout(std::time::Duration::from_secs(10), task)
        .await
        .expect("the attacker stops")
        .expect("attacker task");
    let late: Vec<&AttackerEvent> = returned.iter().skip(n).collect();
    assert!(late.iter().all(|e| !e.ok), "{late:#?}");
    let a = Box::pin(model(&m, &seeded, untrusted)).await;
    assert_eq!(
        attackers(&a),
        Vec::<(String, String)>::new(),
        "{}",
        a.text()
    );
    assert_eq!(
        gameday::attacker_credentials(&m.endpoint(), &seeded)
            .await
            .expect("truth"),
        Vec::<(String, String)>::new()
    );
    let held = gameday::attacker_holdings(&m.endpoint(), &seeded, &returned).await;
    assert!(
        !held
            .iter()
            .any(|h| h.starts_with("session") || h.contains("trusts account")),
        "{held:?}"
    );
}

/// The role's trust policy as IAM has it now, decoded.
async fn gameday_trust_document(m: &crate::common::Moto, role: &str) -> String {
    let root = aws_root(m).await;
    let out = root
        .iam
        .get_role()
        .role_name(role)
        .send()
        .await
        .expect("role");
    keyspill_aws::iam::decode_document(
        out.role()
            .and_then(|r| r.assume_role_policy_document())
            .unwrap_or_default(),
    )
}
