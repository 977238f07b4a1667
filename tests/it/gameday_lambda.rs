//! The `lambda-persistence` game-day scenario against moto: the leaked key gives a function
//! the company's IAM automation role and schedules it. The answer key (the leaked key, the
//! backdoor's key, the function) is what the console's model finds; deleting the backdoor
//! user only brings a new one from the function, with no key of the incident; deleting the
//! function first ends it.

use crate::common::{aws_as, aws_root};
use crate::gameday::{console_model, live_attacker, trail_records};
use keyspill_core::access::{Assessment, FootState, Kind};
use keyspill_core::resources::{Action, Kind as ResourceKind, ResourceRef};
use keyspill_gameday as gameday;
use serde_json::Value;

/// The open footholds that are credentials or functions, as the game's truth names them.
fn attackers(a: &Assessment) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = a
        .footholds
        .iter()
        .filter(|f| f.state == FootState::Open && !f.id.starts_with("unseen:"))
        .filter(|f| {
            matches!(
                f.kind,
                Kind::LeakedKey | Kind::AccessKey | Kind::Session | Kind::Function
            )
        })
        .map(|f| (f.kind.label().to_string(), f.id.clone()))
        .collect();
    out.sort();
    out
}

async fn remove(me: &keyspill_aws::Aws, kind: ResourceKind, region: &str, id: &str, how: Action) {
    Box::pin(keyspill_aws::resources::perform(
        me,
        &ResourceRef {
            kind,
            region: region.to_string(),
            id: id.to_string(),
            account: None,
        },
        &how,
    ))
    .await
    .unwrap_or_else(|e| panic!("{how:?} {id}: {e}"));
}

/// The backdoor users the attacker has now (users the seed did not make).
async fn backdoor_users(m: &crate::common::Moto, seeded: &gameday::Seeded) -> Vec<String> {
    let root = aws_root(m).await;
    let users = root.iam.list_users().send().await.expect("users");
    users
        .users()
        .iter()
        .map(|u| u.user_name().to_string())
        .filter(|n| !seeded.ordinary.users.contains(n))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scheduled_function_remakes_the_backdoor_until_it_is_removed_first() {
    let (m, scenario, seeded) = crate::gameday::seeded_now("lambda-persistence", 7).await;
    let [(region, function)] = seeded.scheduled.as_slice() else {
        panic!("one scheduled function: {:?}", seeded.scheduled);
    };
    let root = aws_root(&m).await;
    let records: Vec<Value> = trail_records(&root, &seeded.trail_bucket).await;
    let by_leaked = |name: &str| {
        records.iter().any(|r| {
            r["eventName"] == name
                && r["errorCode"].is_null()
                && r["userIdentity"]["accessKeyId"] == seeded.leaked.key_id.as_str()
        })
    };
    for name in ["CreateFunction20150331", "PutRule", "PutTargets"] {
        assert!(by_leaked(name), "no {name} by the leaked key");
    }

    // The answer key: the leaked key, the backdoor's key and the function (its role can do
    // anything to IAM).
    let truth = Box::pin(gameday::attacker_credentials(&m.endpoint(), &seeded))
        .await
        .expect("the game's truth");
    let id = format!("{region}/{function}");
    assert!(
        truth.contains(&("function".to_string(), id.clone())),
        "{truth:?}"
    );
    let kinds: Vec<&str> = truth.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["access-key", "function", "leaked-key"], "{truth:?}");
    let a = Box::pin(console_model(&m, &seeded)).await;
    assert_eq!(attackers(&a), truth, "{}", a.text());

    // The game: the responder disables the leaked key and deletes the backdoor user.
    let (seen, stop_tx, task) = live_attacker(&m, &seeded, &scenario, 7);
    let me = aws_as(&m, &seeded.responder.key_id, &seeded.responder.secret).await;
    root.iam
        .update_access_key()
        .user_name(&seeded.leaked.user)
        .access_key_id(&seeded.leaked.key_id)
        .status(aws_sdk_iam::types::StatusType::Inactive)
        .send()
        .await
        .expect("disable the leaked key");
    remove(
        &me,
        ResourceKind::User,
        keyspill_core::resources::GLOBAL,
        &seeded.backdoor_user,
        Action::DeleteUser,
    )
    .await;
    // The function runs and makes a new backdoor, signed by the session Lambda gave it.
    seen.wait(0, "the function remaking the backdoor user", |e| {
        e.call == "iam:CreateUser" && e.ok && e.with.starts_with("ASIA")
    })
    .await;
    let remade = backdoor_users(&m, &seeded).await;
    assert_eq!(remade.len(), 1, "{remade:?}");
    assert_ne!(remade[0], seeded.backdoor_user);
    // Its record (delivered at the end of the attacker's turn) names the function's role.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let records: Vec<Value> = trail_records(&root, &seeded.trail_bucket).await;
        if records.iter().any(|r| {
            r["eventName"] == "CreateUser"
                && r["userIdentity"]["type"] == "AssumedRole"
                && r["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"]
                    == "user-provisioner-lambda"
        }) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no CreateUser record by the function's role"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let a = Box::pin(console_model(&m, &seeded)).await;
    assert!(
        a.footholds
            .iter()
            .any(|f| f.kind == Kind::Function && f.id == id && f.state == FootState::Open),
        "{}",
        a.text()
    );
    assert!(!a.contained());

    // The function first, then the user it made: nothing comes back.
    remove(
        &me,
        ResourceKind::Function,
        region,
        function,
        Action::DeleteFunction,
    )
    .await;
    remove(
        &me,
        ResourceKind::User,
        keyspill_core::resources::GLOBAL,
        &remade[0],
        Action::DeleteUser,
    )
    .await;
    let n = seen.all().len();
    let n2 = seen.wait(n, "a turn", |_| true).await;
    seen.wait(n2, "another turn", |_| true).await;
    stop_tx.send(true).expect("stop");
    let returned = tokio::time::timeout(std::time::Duration::from_secs(10), task)
        .await
        .expect("the attacker stops")
        .expect("attacker task");
    assert!(
        !returned
            .iter()
            .skip(n)
            .any(|e| e.call == "iam:CreateUser" && e.ok),
        "a user made after the function was removed"
    );
    assert_eq!(backdoor_users(&m, &seeded).await, Vec::<String>::new());
    let truth = Box::pin(gameday::attacker_credentials(&m.endpoint(), &seeded))
        .await
        .expect("truth");
    assert_eq!(truth, Vec::<(String, String)>::new());
    let a = Box::pin(console_model(&m, &seeded)).await;
    assert_eq!(attackers(&a), truth, "{}", a.text());
    assert_eq!(
        a.footholds
            .iter()
            .find(|f| f.kind == Kind::Function && f.id == id)
            .map(|f| f.state),
        Some(FootState::Closed)
    );
}
