//! The foothold model's AWS side against moto: the access inventory (users, passwords, roles,
//! trust, revocations, providers), the actions that close footholds (revoke on users and roles,
//! delete a password, take principals out of a trust policy), the re-read of a plan's targets
//! when it runs, the re-verification of an interrupted rotation, and the pure model run on
//! live data until it says "contained".

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::common::{self, Moto, MotoOptions, aws_root, user_with_keys};
use keyspill::runtime::exec;
use keyspill_aws::{Aws, access, iam};
use keyspill_core::access::authz::{self, Effect, Word, parse::Matcher};
use keyspill_core::access::{
    AccessSnapshot, Acts, Assessment, FootState, Inputs, Principal, assess, policy,
};
use keyspill_core::app::msg::{ActionReport, Msg};
use keyspill_core::app::plan::{KeyRef, Plan, REVOKE_POLICY_NAME};
use keyspill_core::domain::{KeyStatus, KeysSnapshot, Timestamp};
use keyspill_core::journal::{self, Event, Journal, Target};
use keyspill_core::resources::plan::{RemovalPlan, Step, StepState};
use keyspill_core::resources::{Action, GLOBAL, Kind, ResourceRef};
use time::OffsetDateTime;
use tokio::sync::mpsc;

/// moto's account.
const ACCOUNT: &str = "123456789012";
const OUTSIDE: &str = "arn:aws:iam::999999999999:root";

async fn run(aws: &Aws, journal: &exec::SharedJournal, plan: Plan) -> Vec<Msg> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    exec::run_plan(aws, journal, &tx, plan).await;
    drop(tx);
    let mut msgs = Vec::new();
    while let Some(m) = rx.recv().await {
        msgs.push(m);
    }
    msgs
}

fn report(msgs: &[Msg]) -> &ActionReport {
    msgs.iter()
        .find_map(|m| match m {
            Msg::ActionFinished { report, .. } => Some(report),
            _ => None,
        })
        .expect("the action finished")
}

/// Runs a plan without a journal and returns its report.
async fn ran(aws: &Aws, plan: Plan) -> ActionReport {
    report(&run(aws, &None, plan).await).clone()
}

fn open_journal(dir: &std::path::Path) -> exec::SharedJournal {
    let (j, _) = Journal::open(dir, "tester@ci").expect("journal opens");
    Some(std::sync::Arc::new(std::sync::Mutex::new(j)))
}

fn journal_text(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join(journal::JOURNAL_FILE)).expect("journal readable")
}

fn trust_doc(principals: &[&str]) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"AWS": principals, "Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole"
        }]
    })
    .to_string()
}

/// A role with an administrator's inline policy: a role with no permissions at all can do
/// nothing, and the model counts it closed.
async fn role(aws: &Aws, name: &str, trust: &str) {
    aws.iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust)
        .send()
        .await
        .expect("create role");
    common::role_policy(aws, name, common::ADMIN_POLICY).await;
}

/// An administrator's inline policy on a user.
async fn admin(aws: &Aws, user: &str) {
    common::user_policy(aws, user, common::ADMIN_POLICY).await;
}

async fn password(aws: &Aws, user: &str) {
    aws.iam
        .create_login_profile()
        .user_name(user)
        .password("c0rrect-Horse-battery")
        .send()
        .await
        .expect("create login profile");
}

async fn oidc_provider(aws: &Aws) -> String {
    aws.iam
        .create_open_id_connect_provider()
        .url("https://token.actions.example.com")
        .thumbprint_list("a".repeat(40))
        .client_id_list("sts.amazonaws.com")
        .send()
        .await
        .expect("oidc")
        .open_id_connect_provider_arn()
        .expect("oidc arn")
        .to_string()
}

async fn saml_provider(aws: &Aws) -> String {
    aws.iam
        .create_saml_provider()
        .name("rogue-idp")
        .saml_metadata_document("x".repeat(1200))
        .send()
        .await
        .expect("saml")
        .saml_provider_arn()
        .expect("saml arn")
        .to_string()
}

/// IAM dates things to the second: waits past one so "before" and "after" differ.
async fn tick() {
    tokio::time::sleep(Duration::from_millis(1100)).await;
}

fn second(t: Timestamp) -> Timestamp {
    t.replace_nanosecond(0).expect("whole second")
}

/// The plan the Access tab draws for a trust foothold: the outside principals out of the
/// trust policy as the last poll read it.
fn untrust_plan(snapshot: &AccessSnapshot, role: &str) -> Plan {
    let doc = &snapshot
        .roles
        .iter()
        .find(|r| r.name == role)
        .expect("role in the inventory")
        .trust;
    let outside: Vec<_> = policy::trusted(doc)
        .into_iter()
        .filter(|p| p.is_outside(&[ACCOUNT]))
        .collect();
    assert!(!outside.is_empty(), "{doc}");
    Plan::Untrust {
        role: role.into(),
        after: policy::without(doc, &outside).expect("something to remove"),
        principals: outside,
        before: policy::pretty(doc),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_inventory_reads_passwords_trust_revocations_and_providers() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    let started = second(OffsetDateTime::now_utc());
    user_with_keys(&aws, "console-user", 0).await;
    password(&aws, "console-user").await;
    user_with_keys(&aws, "revoked-user", 0).await;
    let user_cut = "2026-11-20T08:00:00Z";
    iam::put_inline_policy(
        &aws,
        "revoked-user",
        REVOKE_POLICY_NAME,
        &Plan::revoke_policy_document(user_cut),
    )
    .await
    .expect("user revoke policy");
    // A second, later revocation under another name: the latest cut-off counts.
    iam::put_inline_policy(
        &aws,
        "revoked-user",
        "hand-written",
        &Plan::revoke_policy_document("2026-11-21T08:00:00Z"),
    )
    .await
    .expect("second policy");
    user_with_keys(&aws, "plain-user", 1).await;
    role(&aws, "partner-bridge", &trust_doc(&[OUTSIDE])).await;
    let role_cut = "2026-11-22T09:30:00Z";
    iam::put_role_policy(
        &aws,
        "partner-bridge",
        REVOKE_POLICY_NAME,
        &Plan::revoke_policy_document(role_cut),
    )
    .await
    .expect("role revoke policy");
    aws.iam
        .create_role()
        .role_name("AWSServiceRoleForSupport")
        .path("/aws-service-role/support.amazonaws.com/")
        .assume_role_policy_document(trust_doc(&[]))
        .send()
        .await
        .expect("service-linked role");
    let oidc = oidc_provider(&aws).await;
    let saml = saml_provider(&aws).await;
    let ended = OffsetDateTime::now_utc();

    let snap = access::inventory(&aws).await.expect("inventory");
    assert!(snap.warnings.is_empty(), "{:?}", snap.warnings);
    assert!(snap.password_unread.is_empty());
    let names: Vec<&str> = snap.users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["console-user", "plain-user", "revoked-user"]);
    let user = |n: &str| snap.users.iter().find(|u| u.name == n).expect("user");
    let console = user("console-user");
    let set = console.password.expect("the console password is read");
    assert!(set >= started && set <= ended, "{set}");
    assert_eq!(
        console.arn,
        format!("arn:aws:iam::{ACCOUNT}:user/console-user")
    );
    assert_eq!(console.revoked_before, None);
    assert_eq!(user("plain-user").password, None);
    assert_eq!(
        user("revoked-user").revoked_before,
        journal::parse_ts("2026-11-21T08:00:00Z")
    );

    let partner = snap
        .roles
        .iter()
        .find(|r| r.name == "partner-bridge")
        .expect("role");
    // The trust policy arrives as JSON the model can read, whatever encoding IAM used.
    let trusted: Vec<String> = policy::trusted(&partner.trust)
        .iter()
        .map(|t| t.value.clone())
        .collect();
    assert_eq!(trusted, [OUTSIDE, "ec2.amazonaws.com"]);
    assert_eq!(partner.revoked_before, journal::parse_ts(role_cut));
    assert!(!partner.service_linked);
    assert!(partner.created >= started && partner.created <= ended);
    let support = snap
        .roles
        .iter()
        .find(|r| r.name == "AWSServiceRoleForSupport")
        .expect("service-linked role");
    assert!(support.service_linked);
    assert_eq!(support.revoked_before, None);

    let kinds: BTreeMap<&str, (&str, Option<Timestamp>)> = snap
        .providers
        .iter()
        .map(|p| (p.arn.as_str(), (p.kind.as_str(), p.created)))
        .collect();
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    for (arn, kind) in [(&oidc, "oidc"), (&saml, "saml")] {
        let (k, created) = kinds[arn.as_str()];
        assert_eq!(k, kind);
        let created = created.expect("a creation date");
        assert!(created >= started && created <= ended, "{arn}: {created}");
    }
}

/// A proxy that forwards to moto but answers AccessDenied to the requests `refuse` picks
/// (their form body), naming `what` in the message as IAM does.
fn denying_proxy(
    moto_port: u16,
    refuse: fn(&str) -> bool,
    what: &'static str,
) -> crate::http::Server {
    use std::io::Write;
    crate::http::Server::start_raw(move |mut conn| {
        let Some(request) = crate::http::read_request(&mut conn, &mut Vec::new()) else {
            return;
        };
        if refuse(&request.text()) {
            let body = format!(
                "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\
                 <Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: x is not \
                 authorized to perform: {what}</Message></Error><RequestId>1</RequestId>\
                 </ErrorResponse>"
            );
            let head = format!(
                "HTTP/1.1 403 Forbidden\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n",
                body.len()
            );
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(body.as_bytes());
        } else {
            let _ = conn.write_all(&crate::http::forward(moto_port, &request));
        }
    })
}

/// Refuses `GetLoginProfile` for user `locked`, as IAM does for a caller whose policy denies
/// it on one user.
fn password_denying_proxy(moto_port: u16) -> crate::http::Server {
    denying_proxy(
        moto_port,
        |t| t.contains("Action=GetLoginProfile&") && t.contains("UserName=locked"),
        "iam:GetLoginProfile on resource: user locked",
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_that_cannot_be_read_is_named_not_taken_for_absent() {
    let moto = Moto::start();
    let root = aws_root(&moto).await;
    user_with_keys(&root, "locked", 0).await;
    password(&root, "locked").await;
    user_with_keys(&root, "open", 0).await;
    let proxy = password_denying_proxy(moto.port);
    let through = Aws::connect(&keyspill_aws::ConnectOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(proxy.endpoint()),
        static_credentials: Some(("AKIAIOSFODNN7EXAMPLE".into(), "secret".into())),
        max_attempts: 1,
        ..keyspill_aws::ConnectOptions::default()
    })
    .await;
    let snap = access::inventory(&through).await.expect("inventory");
    assert_eq!(snap.password_unread, ["locked"]);
    assert_eq!(snap.users.len(), 2);
    assert!(
        snap.warnings
            .iter()
            .any(|w| w.contains("locked") && w.contains("iam:GetLoginProfile")),
        "{:?}",
        snap.warnings
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_inventory_fails_when_iam_cannot_be_listed() {
    let aws = Aws::connect(&keyspill_aws::ConnectOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(common::dead_endpoint()),
        static_credentials: Some(("AKIAIOSFODNN7EXAMPLE".into(), "secret".into())),
        max_attempts: 1,
        ..keyspill_aws::ConnectOptions::default()
    })
    .await;
    let err = access::inventory(&aws).await.expect_err("no IAM to read");
    assert!(
        err.text.contains("GetAccountAuthorizationDetails")
            || err.text.contains("OpenIDConnect")
            || err.text.contains("SAML"),
        "{}",
        err.text
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn revoking_a_user_and_a_role_attaches_a_verified_policy_to_each() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    user_with_keys(&aws, "alice", 0).await;
    role(&aws, "deploy", &trust_doc(&[])).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = open_journal(dir.path());
    let cutoff = "2026-12-04T10:00:00Z".to_string();
    let msgs = run(
        &aws,
        &journal,
        Plan::RevokeSessions {
            principals: vec![
                Principal::User("alice".into()),
                Principal::Role("deploy".into()),
            ],
            cutoff: cutoff.clone(),
        },
    )
    .await;
    let r = report(&msgs);
    assert!(r.ok, "{}", r.summary);
    assert!(
        r.summary.contains(&format!(
            "verified: user alice denies sessions issued before {cutoff}"
        )),
        "{}",
        r.summary
    );
    assert!(
        r.summary.contains(&format!(
            "verified: role deploy denies sessions issued before {cutoff}"
        )),
        "{}",
        r.summary
    );

    let held = iam::role_inline_policy(&aws, "deploy", REVOKE_POLICY_NAME)
        .await
        .expect("read")
        .expect("on the role");
    assert_eq!(policy::revocation_cutoff(&held), journal::parse_ts(&cutoff));
    // The model reads both back.
    let snap = access::inventory(&aws).await.expect("inventory");
    assert_eq!(snap.users[0].revoked_before, journal::parse_ts(&cutoff));
    assert_eq!(snap.roles[0].revoked_before, journal::parse_ts(&cutoff));

    // One intent and one outcome per principal; the role is named as a resource.
    let text = journal_text(dir.path());
    let resumed = journal::read_back(text.as_bytes());
    assert!(resumed.pending.is_empty());
    assert!(
        text.contains("\"call\":\"iam:PutUserPolicy AWSRevokeOlderSessions\""),
        "{text}"
    );
    assert!(
        text.contains("\"call\":\"iam:PutRolePolicy AWSRevokeOlderSessions\""),
        "{text}"
    );
    assert!(
        text.contains(r#""resource":{"kind":"iam-role","region":"global","id":"deploy"}"#),
        "{text}"
    );
    assert_eq!(text.matches("\"kind\":\"outcome\"").count(), 2, "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_console_password_is_verified_gone() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    user_with_keys(&aws, "backup-svc", 0).await;
    password(&aws, "backup-svc").await;
    assert!(
        iam::login_profile(&aws, "backup-svc")
            .await
            .expect("read")
            .is_some()
    );
    let plan = Plan::DeletePassword {
        user: "backup-svc".into(),
    };
    let r = ran(&aws, plan.clone()).await;
    assert!(r.ok, "{}", r.summary);
    assert!(
        r.summary
            .contains("verified: user backup-svc has no console password"),
        "{}",
        r.summary
    );
    assert_eq!(
        iam::login_profile(&aws, "backup-svc").await.expect("read"),
        None
    );
    // Run again (the room confirmed twice): nothing to delete is not a failure.
    let r = ran(&aws, plan).await;
    assert!(r.ok, "{}", r.summary);
    assert!(r.summary.contains("already gone"), "{}", r.summary);
}

#[tokio::test(flavor = "multi_thread")]
async fn untrusting_takes_out_the_outside_principal_and_keeps_the_rest() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    let own = format!("arn:aws:iam::{ACCOUNT}:root");
    role(&aws, "partner-bridge", &trust_doc(&[&own, OUTSIDE])).await;
    let snap = access::inventory(&aws).await.expect("inventory");
    let plan = untrust_plan(&snap, "partner-bridge");

    let r = ran(&aws, plan).await;
    assert!(r.ok, "{}", r.summary);
    assert!(
        r.summary
            .contains("verified: role partner-bridge now trusts"),
        "{}",
        r.summary
    );
    let now = iam::role_trust(&aws, "partner-bridge")
        .await
        .expect("trust");
    let trusted: Vec<String> = policy::trusted(&now)
        .iter()
        .map(|t| t.value.clone())
        .collect();
    assert_eq!(trusted, [own.as_str(), "ec2.amazonaws.com"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn untrusting_is_refused_without_writing_when_the_trust_changed_after_the_plan() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    let own = format!("arn:aws:iam::{ACCOUNT}:root");
    role(&aws, "partner-bridge", &trust_doc(&[&own, OUTSIDE])).await;
    let snap = access::inventory(&aws).await.expect("inventory");
    let plan = untrust_plan(&snap, "partner-bridge");

    // While the dialog is open, someone adds another account.
    let changed = trust_doc(&[&own, OUTSIDE, "arn:aws:iam::888888888888:root"]);
    iam::update_trust(&aws, "partner-bridge", &changed)
        .await
        .expect("someone else's change");

    let r = ran(&aws, plan).await;
    assert!(!r.ok, "{}", r.summary);
    assert!(
        r.summary.contains(
            "the trust policy of role partner-bridge changed since the dialog opened; nothing \
             written"
        ),
        "{}",
        r.summary
    );
    assert!(
        r.summary.contains("arn:aws:iam::888888888888:root"),
        "{}",
        r.summary
    );
    // Still the other person's policy, outside principal included.
    let now = iam::role_trust(&aws, "partner-bridge")
        .await
        .expect("trust");
    assert!(iam::same_document(&now, &changed), "{now}");
}

#[tokio::test(flavor = "multi_thread")]
async fn key_plans_re_read_their_keys_and_say_what_changed_since_the_dialog() {
    let moto = Moto::start_with(MotoOptions {
        record: true,
        ..Default::default()
    });
    let aws = aws_root(&moto).await;
    let keys = user_with_keys(&aws, "alice", 2).await;
    let shown = |k: &str| KeyRef {
        user: "alice".into(),
        key_id: k.to_string(),
        status: KeyStatus::Active,
        self_key: false,
    };
    // Someone else disables the first key after the dialog showed it Active.
    iam::set_key_status(&aws, "alice", &keys[0].0, KeyStatus::Inactive)
        .await
        .expect("colleague's disable");
    let r = ran(&aws, Plan::DisableKeys(vec![shown(&keys[0].0)])).await;
    assert!(r.ok, "{}", r.summary);
    assert!(
        r.summary
            .contains("already Inactive: changed since the dialog opened"),
        "{}",
        r.summary
    );
    // Only the colleague's call reached IAM.
    let updates = moto
        .recorded_requests()
        .iter()
        .filter(|l| l.contains("Action=UpdateAccessKey"))
        .count();
    assert_eq!(updates, 1);

    // A key that changed, but not to the plan's target: the plan runs and says so.
    let r = ran(&aws, Plan::DeleteKeys(vec![shown(&keys[0].0)])).await;
    assert!(r.ok, "{}", r.summary);
    assert!(
        r.summary
            .contains("changed since the dialog opened: was Active, now Inactive"),
        "{}",
        r.summary
    );
    assert!(r.summary.contains("verified deleted"), "{}", r.summary);

    // Gone since the dialog: deleting is done already, enabling cannot be.
    let r = ran(&aws, Plan::DeleteKeys(vec![shown(&keys[0].0)])).await;
    assert!(
        r.ok && r.summary.contains("already deleted"),
        "{}",
        r.summary
    );
    let mut gone = shown(&keys[0].0);
    gone.status = KeyStatus::Inactive;
    let r = ran(&aws, Plan::EnableKeys(vec![gone])).await;
    assert!(!r.ok, "{}", r.summary);
    assert!(r.summary.contains("no longer listed"), "{}", r.summary);
    // The untouched key was never in play.
    assert!(
        common::key_status(&aws, "alice")
            .await
            .contains(&(keys[1].0.clone(), "Active".into()))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_removal_skips_a_target_gone_since_the_plan_was_drawn() {
    let moto = Moto::start_with(MotoOptions {
        record: true,
        ..Default::default()
    });
    let aws = aws_root(&moto).await;
    let oidc = oidc_provider(&aws).await;
    let saml = saml_provider(&aws).await;
    let step = |kind: Kind, id: &str, action: Action| Step {
        target: ResourceRef {
            kind,
            region: GLOBAL.into(),
            id: id.to_string(),
            account: None,
        },
        name: id.to_string(),
        action,
        needs: Vec::new(),
    };
    let plan = RemovalPlan {
        steps: vec![
            step(Kind::OidcProvider, &oidc, Action::DeleteOidcProvider),
            step(Kind::SamlProvider, &saml, Action::DeleteSamlProvider),
        ],
        targets: 2,
        ..RemovalPlan::default()
    };
    // A colleague deletes the OIDC provider while the plan is on screen.
    aws.iam
        .delete_open_id_connect_provider()
        .open_id_connect_provider_arn(&oidc)
        .send()
        .await
        .expect("colleague's delete");

    let dir = tempfile::tempdir().expect("tempdir");
    let journal = open_journal(dir.path());
    let msgs = run(&aws, &journal, Plan::RemoveResources(plan)).await;
    let r = report(&msgs);
    assert!(r.ok, "{}", r.summary);
    let first: Vec<&StepState> = msgs
        .iter()
        .filter_map(|m| match m {
            Msg::RemovalStep { index: 0, state } => Some(state),
            _ => None,
        })
        .collect();
    let gone = "already gone since the plan was drawn";
    assert!(
        matches!(first[..], [StepState::Done(d)] if d.contains(gone)),
        "{first:?}"
    );
    let deletes = moto
        .recorded_requests()
        .iter()
        .filter(|l| l.contains("Action=DeleteOpenIDConnectProvider"))
        .count();
    assert_eq!(deletes, 1, "only the colleague's delete was sent");
    let snap = access::inventory(&aws).await.expect("inventory");
    assert!(snap.providers.is_empty(), "{:?}", snap.providers);
    let text = journal_text(dir.path());
    assert!(
        text.contains("already gone since the plan was drawn"),
        "{text}"
    );
    assert!(journal::read_back(text.as_bytes()).pending.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn reverifying_an_interrupted_rotation_names_the_key_it_created() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    user_with_keys(&aws, "alice", 1).await;
    user_with_keys(&aws, "bob", 1).await;
    tick().await;
    // The journal's clock runs a minute ahead of AWS's: the intents are stamped then.
    let aws_clock = OffsetDateTime::now_utc();
    let stamped = aws_clock + time::Duration::seconds(60);
    tick().await;
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let (mut j, _) = Journal::open(dir.path(), "tester@ci").expect("journal");
        for (id, user) in [("rot-a", "alice"), ("rot-b", "bob")] {
            j.append(
                stamped,
                Event::Action {
                    action_id: id.into(),
                    label: format!("rotate ({user})"),
                },
            )
            .expect("append");
            j.append(
                stamped,
                Event::Intent {
                    action_id: id.into(),
                    step: 0,
                    call: "iam:CreateAccessKey".into(),
                    target: Target {
                        user: Some(user.into()),
                        ..Target::default()
                    },
                },
            )
            .expect("append");
        }
    }
    // alice's CreateAccessKey reached IAM before the crash; bob's did not.
    let new_key = iam::create_key(&aws, "alice")
        .await
        .expect("created")
        .key_id;

    let (j, resumed) = Journal::open(dir.path(), "tester@ci").expect("reopen");
    assert_eq!(resumed.pending.len(), 2);
    assert!(resumed.pending.iter().all(|p| p.at.is_some()));
    let journal = Some(std::sync::Arc::new(std::sync::Mutex::new(j)));
    let (tx, mut rx) = mpsc::unbounded_channel();
    exec::reverify(&aws, &journal, &tx, resumed.pending).await;
    drop(tx);
    let mut found = BTreeMap::new();
    while let Some(msg) = rx.recv().await {
        if let Msg::Reverified {
            action_id,
            detail,
            created_key,
        } = msg
        {
            found.insert(action_id, (detail, created_key));
        }
    }
    let (detail, created) = &found["rot-a"];
    assert_eq!(created.as_deref(), Some(new_key.as_str()), "{detail}");
    assert!(
        detail.contains(&format!("rotation interrupted: new key {new_key}")),
        "{detail}"
    );
    assert!(detail.contains("is this incident's"), "{detail}");
    let (detail, created) = &found["rot-b"];
    assert_eq!(created, &None, "{detail}");
    assert!(detail.contains("before a key was created"), "{detail}");

    // The journal keeps the key as this response's own for the next session.
    let resumed = journal::read_back(journal_text(dir.path()).as_bytes());
    assert!(resumed.pending.is_empty());
    assert_eq!(resumed.created_keys, [new_key]);
}

/// The model's answer on what IAM says now.
fn model(
    keys: &KeysSnapshot,
    access: &AccessSnapshot,
    leaked: &BTreeSet<String>,
    since: Timestamp,
) -> Assessment {
    let now = OffsetDateTime::now_utc();
    let none = BTreeSet::new();
    let tracked = |k: &str| leaked.contains(k);
    let cleared = BTreeMap::new();
    let acts = Acts::default();
    assess(&Inputs {
        now,
        since: Some(since),
        leaked,
        response_keys: &none,
        self_key: None,
        self_user: None,
        trusted_accounts: vec![ACCOUNT],
        foreign: &[],
        keys: Some(keys),
        keys_error: None,
        keys_at: Some(now),
        access: Some(access),
        access_error: None,
        access_at: Some(now),
        acts: &acts,
        tracked: &tracked,
        cleared: &cleared,
        leaked_history: &Default::default(),
        trust_closed: &Default::default(),
        functions: None,
        source_ip: None,
    })
}

async fn reassess(aws: &Aws, leaked: &BTreeSet<String>, since: Timestamp) -> Assessment {
    let keys = iam::fetch_keys(aws).await.expect("keys");
    let access = access::inventory(aws).await.expect("access");
    model(&keys, &access, leaked, since)
}

fn state_of(a: &Assessment, handle: &str) -> Option<FootState> {
    a.footholds
        .iter()
        .find(|f| f.handle() == handle)
        .map(|f| f.state)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backdoor_denied_everything_by_aws_managed_policy_is_closed_and_its_grid_says_why() {
    let moto = Moto::start_with(MotoOptions {
        managed_policies: true,
        ..MotoOptions::default()
    });
    let aws = aws_root(&moto).await;
    let leaked_key = user_with_keys(&aws, "dev", 1).await.remove(0).0;
    admin(&aws, "dev").await;
    tick().await;
    let since = OffsetDateTime::now_utc();
    tick().await;
    let backdoor = user_with_keys(&aws, "contractor", 1).await.remove(0).0;
    admin(&aws, "contractor").await;
    let leaked: BTreeSet<String> = [leaked_key].into();
    let handle = format!("access-key:{backdoor}");

    let a = reassess(&aws, &leaked, since).await;
    assert_eq!(state_of(&a, &handle), Some(FootState::Open), "{}", a.text());
    let f = a
        .footholds
        .iter()
        .find(|f| f.handle() == handle)
        .expect("row");
    let snap = access::inventory(&aws).await.expect("inventory");
    let actions: Vec<String> = authz::catalogue::actions()
        .iter()
        .map(|a| a.to_string())
        .collect();
    let can = keyspill_core::access::can(f, Some(&snap.authz), &actions, OffsetDateTime::now_utc());
    assert!(can.values().all(|w| *w == Word::Allowed), "{can:?}");

    // The responder attaches AWS's deny-all managed policy: read by version, it decides.
    aws.iam
        .attach_user_policy()
        .user_name("contractor")
        .policy_arn("arn:aws:iam::aws:policy/AWSDenyAll")
        .send()
        .await
        .expect("deny all");
    let a = reassess(&aws, &leaked, since).await;
    let f = a
        .footholds
        .iter()
        .find(|f| f.handle() == handle)
        .expect("row");
    assert_eq!(f.state, FootState::Closed, "{}", a.text());
    assert!(
        f.why
            .starts_with("every high-impact action is denied, AWSDenyAll"),
        "{}",
        f.why
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_model_on_live_iam_opens_each_foothold_and_closes_it_through_the_executor() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    // Before the leak: the developer whose key leaks, and a partner role that trusts another
    // account (a standing foothold).
    let (leaked_key, leaked_secret) = user_with_keys(&aws, "dev", 1).await.remove(0);
    admin(&aws, "dev").await;
    role(&aws, "partner-bridge", &trust_doc(&[OUTSIDE])).await;
    tick().await;
    let since = OffsetDateTime::now_utc();
    tick().await;
    // The attacker uses the key, then leaves a user with a key and a password, a role it can
    // assume from its own account, and an identity provider. No trail is read: the model
    // must see all of it from IAM alone.
    let attacker = common::aws_as(&moto, &leaked_key, &leaked_secret).await;
    attacker
        .sts
        .get_caller_identity()
        .send()
        .await
        .expect("the leaked key works");
    let backdoor_key = user_with_keys(&aws, "backup-svc", 1).await.remove(0).0;
    admin(&aws, "backup-svc").await;
    password(&aws, "backup-svc").await;
    role(&aws, "ops-admin", &trust_doc(&[OUTSIDE])).await;
    let oidc = oidc_provider(&aws).await;
    let leaked: BTreeSet<String> = [leaked_key.clone()].into();

    let a = reassess(&aws, &leaked, since).await;
    let expected_open: BTreeSet<String> = [
        format!("leaked-key:{leaked_key}"),
        format!("access-key:{backdoor_key}"),
        "session:unseen:dev".to_string(),
        "user:backup-svc".into(),
        "login-profile:backup-svc".into(),
        "role:ops-admin".into(),
        "trust:ops-admin".into(),
        "trust:partner-bridge".into(),
        format!("identity-provider:{oidc}"),
    ]
    .into();
    assert_eq!(a.open_handles(), expected_open, "{}", a.text());
    assert!(!a.contained());

    // Keys: disabled, they stay listed and are closed.
    let key = |user: &str, id: &str| KeyRef {
        user: user.into(),
        key_id: id.into(),
        status: KeyStatus::Active,
        self_key: false,
    };
    let r = ran(
        &aws,
        Plan::DisableKeys(vec![
            key("dev", &leaked_key),
            key("backup-svc", &backdoor_key),
        ]),
    )
    .await;
    assert!(r.ok, "{}", r.summary);
    let a = reassess(&aws, &leaked, since).await;
    let leaked_handle = format!("leaked-key:{leaked_key}");
    let backdoor_handle = format!("access-key:{backdoor_key}");
    assert_eq!(state_of(&a, &leaked_handle), Some(FootState::Closed));
    assert_eq!(state_of(&a, &backdoor_handle), Some(FootState::Closed));
    // The key is off, but what it minted unseen still works until revoked.
    assert_eq!(
        state_of(&a, "session:unseen:dev"),
        Some(FootState::Open),
        "{}",
        a.text()
    );

    let r = ran(
        &aws,
        Plan::RevokeSessions {
            principals: vec![Principal::User("dev".into())],
            cutoff: journal::format_ts(OffsetDateTime::now_utc()),
        },
    )
    .await;
    assert!(r.ok, "{}", r.summary);
    let r = ran(
        &aws,
        Plan::DeletePassword {
            user: "backup-svc".into(),
        },
    )
    .await;
    assert!(r.ok, "{}", r.summary);
    let snap = access::inventory(&aws).await.expect("inventory");
    let r = ran(&aws, untrust_plan(&snap, "partner-bridge")).await;
    assert!(r.ok, "{}", r.summary);

    let a = reassess(&aws, &leaked, since).await;
    assert_eq!(
        state_of(&a, "session:unseen:dev"),
        Some(FootState::Closed),
        "{}",
        a.text()
    );
    // With no trail, a password or a trust that is gone leaves nothing to list.
    assert_eq!(
        state_of(&a, "login-profile:backup-svc"),
        None,
        "{}",
        a.text()
    );
    assert_eq!(state_of(&a, "trust:partner-bridge"), None, "{}", a.text());
    // A user with neither password nor Active key is no longer open, only reduced.
    assert_eq!(
        state_of(&a, "user:backup-svc"),
        Some(FootState::Reduced),
        "{}",
        a.text()
    );
    let still: BTreeSet<String> = [
        "role:ops-admin".to_string(),
        "trust:ops-admin".into(),
        format!("identity-provider:{oidc}"),
    ]
    .into();
    assert_eq!(a.open_handles(), still, "{}", a.text());

    // What only removal closes: the Resources tab's plan, run by the same executor.
    let step = |kind: Kind, id: &str, action: Action| Step {
        target: ResourceRef {
            kind,
            region: GLOBAL.into(),
            id: id.to_string(),
            account: None,
        },
        name: id.to_string(),
        action,
        needs: Vec::new(),
    };
    let plan = RemovalPlan {
        steps: vec![
            step(Kind::User, "backup-svc", Action::DeleteUser),
            step(Kind::Role, "ops-admin", Action::DeleteRole),
            step(Kind::OidcProvider, &oidc, Action::DeleteOidcProvider),
        ],
        targets: 3,
        ..RemovalPlan::default()
    };
    let r = ran(&aws, Plan::RemoveResources(plan)).await;
    assert!(r.ok, "{}", r.summary);

    let a = reassess(&aws, &leaked, since).await;
    assert!(a.open_handles().is_empty(), "{}", a.text());
    assert!(a.contained(), "{}", a.text());
    assert_eq!(a.headline(), "CONTAINED");
    assert_eq!(state_of(&a, &leaked_handle), Some(FootState::Closed));
    assert_eq!(state_of(&a, "session:unseen:dev"), Some(FootState::Closed));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_trusting_an_account_of_the_organisation_is_not_outside() {
    let moto = Moto::start();
    let aws = aws_root(&moto).await;
    // Not in an organisation yet: none, and no warning.
    let before = access::inventory(&aws).await.expect("inventory");
    assert_eq!(before.organization, None, "{:?}", before.warnings);

    let org = aws.organizations();
    org.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("organisation");
    org.create_account()
        .account_name("workloads")
        .email("workloads@example.com")
        .send()
        .await
        .expect("member account");
    let accounts = org.list_accounts().send().await.expect("accounts");
    let member = accounts
        .accounts()
        .iter()
        .filter_map(|a| a.id())
        .find(|id| *id != ACCOUNT)
        .expect("a member besides the management account")
        .to_string();
    role(
        &aws,
        "from-workloads",
        &trust_doc(&[&format!("arn:aws:iam::{member}:root")]),
    )
    .await;
    role(&aws, "from-vendor", &trust_doc(&[OUTSIDE])).await;

    let snapshot = access::inventory(&aws).await.expect("inventory");
    let o = snapshot
        .organization
        .as_ref()
        .expect("the organisation is read");
    assert!(o.id.starts_with("o-"), "{o:?}");
    assert!(o.accounts.contains(&member), "{o:?}");
    let keys = iam::fetch_keys(&aws).await.expect("keys");
    let a = model(
        &keys,
        &snapshot,
        &BTreeSet::new(),
        OffsetDateTime::now_utc(),
    );
    assert_eq!(state_of(&a, "trust:from-workloads"), None, "{}", a.text());
    assert_eq!(state_of(&a, "trust:from-vendor"), Some(FootState::Open));
    let vendor = a
        .footholds
        .iter()
        .find(|f| f.handle() == "trust:from-vendor")
        .expect("vendor trust");
    assert!(
        vendor
            .why
            .contains(&format!("outside the organisation {}", o.id)),
        "{}",
        vendor.why
    );
}

const QUARANTINE: &str = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2";
const S3_READ: &str = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess";

fn allow(actions: &[&str]) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]
    })
    .to_string()
}

async fn managed_policy(aws: &Aws, name: &str, document: &str) -> String {
    aws.iam
        .create_policy()
        .policy_name(name)
        .policy_document(document)
        .send()
        .await
        .expect("create policy")
        .policy()
        .and_then(|p| p.arn())
        .expect("policy arn")
        .to_string()
}

/// Actions of a statement that lists them (lower-cased, as the model keeps them).
fn actions_of(s: &authz::Statement) -> Vec<String> {
    match &s.actions {
        Matcher::Is(a) | Matcher::Not(a) => a.clone(),
    }
}

/// How many requests moto recorded for an IAM action.
fn sent(moto: &Moto, action: &str) -> usize {
    let needle = format!("Action={action}&");
    moto.recorded_requests()
        .iter()
        .filter(|l| l.contains(&needle))
        .count()
}

/// A user in a group, with inline, customer managed (two versions) and AWS managed policies;
/// a role with an instance profile, a trust policy and a customer managed boundary; a role
/// with an AWS managed boundary. (moto 5.2 keeps no permissions boundary on users: it drops
/// `PutUserPermissionsBoundary`, so boundaries are put on roles, which the sweep reads the
/// same way.)
async fn seed_authz(aws: &Aws) -> (String, String) {
    user_with_keys(aws, "dev", 0).await;
    aws.iam
        .tag_user()
        .user_name("dev")
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key("team")
                .value("payments")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("tag user");
    iam::put_inline_policy(
        aws,
        "dev",
        "dev-inline",
        &serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "Read", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                 "Resource": "*"},
                {"Effect": "Deny", "Action": "iam:DeleteUser", "Resource": "*"}
            ]
        })
        .to_string(),
    )
    .await
    .expect("user inline policy");
    aws.iam
        .create_group()
        .group_name("devs")
        .send()
        .await
        .expect("group");
    aws.iam
        .add_user_to_group()
        .group_name("devs")
        .user_name("dev")
        .send()
        .await
        .expect("into group");
    aws.iam
        .put_group_policy()
        .group_name("devs")
        .policy_name("devs-inline")
        .policy_document(allow(&["ec2:DescribeInstances"]))
        .send()
        .await
        .expect("group inline policy");

    let deploy = managed_policy(aws, "deploy", &allow(&["lambda:UpdateFunctionCode"])).await;
    aws.iam
        .create_policy_version()
        .policy_arn(&deploy)
        .policy_document(allow(&[
            "lambda:UpdateFunctionCode",
            "lambda:InvokeFunction",
        ]))
        .set_as_default(true)
        .send()
        .await
        .expect("second version");
    let boundary = managed_policy(aws, "dev-boundary", &allow(&["s3:*", "ec2:*"])).await;
    // Customer managed, but attached to nothing: not in the model.
    managed_policy(aws, "spare", &allow(&["sqs:*"])).await;
    aws.iam
        .attach_group_policy()
        .group_name("devs")
        .policy_arn(&deploy)
        .send()
        .await
        .expect("attach to group");
    aws.iam
        .attach_user_policy()
        .user_name("dev")
        .policy_arn(QUARANTINE)
        .send()
        .await
        .expect("attach quarantine");

    role(aws, "app", &trust_doc(&[OUTSIDE])).await;
    aws.iam
        .put_role_permissions_boundary()
        .role_name("app")
        .permissions_boundary(&boundary)
        .send()
        .await
        .expect("role boundary");
    aws.iam
        .attach_role_policy()
        .role_name("app")
        .policy_arn(&deploy)
        .send()
        .await
        .expect("attach to role");
    aws.iam
        .create_instance_profile()
        .instance_profile_name("app-profile")
        .send()
        .await
        .expect("instance profile");
    aws.iam
        .add_role_to_instance_profile()
        .instance_profile_name("app-profile")
        .role_name("app")
        .send()
        .await
        .expect("role in profile");
    role(aws, "bare", &trust_doc(&[])).await;
    aws.iam
        .put_role_permissions_boundary()
        .role_name("bare")
        .permissions_boundary(S3_READ)
        .send()
        .await
        .expect("AWS managed boundary");
    (deploy, boundary)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_inventory_reads_every_identity_policy_into_the_authorisation_model() {
    let moto = Moto::start_with(MotoOptions {
        managed_policies: true,
        record: true,
    });
    let aws = aws_root(&moto).await;
    let (deploy, boundary) = seed_authz(&aws).await;

    let snap = access::inventory(&aws).await.expect("inventory");
    assert!(snap.warnings.is_empty(), "{:?}", snap.warnings);
    let authz = &snap.authz;
    assert!(authz.unread.is_empty(), "{:?}", authz.unread);
    // The foothold model's view is unchanged.
    let users: Vec<&str> = snap.users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(users, ["dev"]);
    let roles: Vec<&str> = snap.roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(roles, ["app", "bare"]);

    let dev = &authz.users["dev"];
    assert_eq!(dev.arn, format!("arn:aws:iam::{ACCOUNT}:user/dev"));
    let user_id = aws
        .iam
        .get_user()
        .user_name("dev")
        .send()
        .await
        .expect("get user")
        .user()
        .map(|u| u.user_id().to_string());
    assert_eq!(Some(dev.id.clone()), user_id);
    assert!(!dev.id.is_empty());
    assert_eq!(dev.groups, ["devs"]);
    assert_eq!(dev.attached, [QUARANTINE]);
    assert_eq!(dev.boundary, None);
    assert_eq!(dev.tags.get("team").map(String::as_str), Some("payments"));
    assert_eq!(dev.trust, None);
    let [inline] = &dev.inline[..] else {
        panic!("one inline policy: {:?}", dev.inline);
    };
    assert_eq!(inline.name, "dev-inline");
    assert_eq!(inline.policy.error, None);
    let labels: Vec<&str> = inline
        .policy
        .statements
        .iter()
        .map(|s| s.label.as_str())
        .collect();
    assert_eq!(labels, ["Read", "#2"]);
    assert_eq!(
        actions_of(&inline.policy.statements[0]),
        ["s3:getobject", "s3:listbucket"]
    );
    assert_eq!(inline.policy.statements[1].effect, Effect::Deny);

    let devs = &authz.groups["devs"];
    assert_eq!(devs.arn, format!("arn:aws:iam::{ACCOUNT}:group/devs"));
    let group_id = aws
        .iam
        .get_group()
        .group_name("devs")
        .send()
        .await
        .expect("get group")
        .group()
        .map(|g| g.group_id().to_string());
    assert_eq!(Some(devs.id.clone()), group_id);
    assert_eq!(devs.attached, [deploy.as_str()]);
    assert_eq!(devs.inline.len(), 1);
    assert_eq!(devs.inline[0].name, "devs-inline");
    assert_eq!(
        actions_of(&devs.inline[0].policy.statements[0]),
        ["ec2:describeinstances"]
    );

    let app = &authz.roles["app"];
    assert_eq!(app.arn, format!("arn:aws:iam::{ACCOUNT}:role/app"));
    let role_id = aws
        .iam
        .get_role()
        .role_name("app")
        .send()
        .await
        .expect("get role")
        .role()
        .map(|r| r.role_id().to_string());
    assert_eq!(Some(app.id.clone()), role_id);
    assert!(app.instance_profile);
    assert_eq!(app.attached, [deploy.as_str()]);
    assert_eq!(app.boundary.as_deref(), Some(boundary.as_str()));
    let trust = app.trust.as_ref().expect("the trust policy, parsed");
    assert_eq!(trust.error, None);
    assert_eq!(trust.statements.len(), 1);
    assert_eq!(actions_of(&trust.statements[0]), ["sts:assumerole"]);
    assert!(trust.statements[0].principals.is_some());
    let bare = &authz.roles["bare"];
    assert!(!bare.instance_profile);
    assert_eq!(bare.boundary.as_deref(), Some(S3_READ));
    assert!(bare.attached.is_empty());

    // Only what something uses: the spare policy is not there.
    let used: BTreeSet<&str> = authz.policies.keys().map(String::as_str).collect();
    assert_eq!(
        used,
        BTreeSet::from([deploy.as_str(), boundary.as_str(), QUARANTINE, S3_READ])
    );
    let d = &authz.policies[&deploy];
    assert_eq!((d.name.as_str(), d.version.as_str()), ("deploy", "v2"));
    assert_eq!(d.other_versions, 1);
    assert_eq!(
        actions_of(&d.policy.statements[0]),
        ["lambda:updatefunctioncode", "lambda:invokefunction"]
    );
    let q = &authz.policies[QUARANTINE];
    assert_eq!(q.name, "AWSCompromisedKeyQuarantineV2");
    assert_eq!(q.policy.error, None);
    assert_eq!(q.policy.statements.len(), 1);
    assert_eq!(q.policy.statements[0].effect, Effect::Deny);
    assert!(
        actions_of(&q.policy.statements[0]).contains(&"iam:createaccesskey".to_string()),
        "{:?}",
        q.policy.statements[0]
    );
    let s3 = &authz.policies[S3_READ];
    assert_eq!(s3.name, "AmazonS3ReadOnlyAccess");
    assert!(!s3.policy.statements.is_empty());

    // The next poll names the AWS managed policies' versions again but reads no document it
    // has read before (this process may have read them already, for another test).
    let versions_read = sent(&moto, "GetPolicyVersion");
    assert!(versions_read <= 2, "{versions_read}");
    assert_eq!(sent(&moto, "GetPolicy"), 2);
    let again = access::inventory(&aws).await.expect("second inventory");
    assert_eq!(again.authz, snap.authz);
    assert_eq!(sent(&moto, "GetPolicy"), 4);
    assert_eq!(sent(&moto, "GetPolicyVersion"), versions_read);
}

/// Refuses `GetPolicy` on the quarantine policy.
fn get_policy_denying_proxy(moto_port: u16) -> crate::http::Server {
    denying_proxy(
        moto_port,
        |t| t.contains("Action=GetPolicy&") && t.contains("AWSCompromisedKeyQuarantineV2"),
        "iam:GetPolicy on resource: policy AWSCompromisedKeyQuarantineV2",
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_managed_policy_that_cannot_be_read_is_named_and_the_rest_is_still_read() {
    let moto = Moto::start_with(MotoOptions {
        managed_policies: true,
        ..Default::default()
    });
    let root = aws_root(&moto).await;
    let (deploy, boundary) = seed_authz(&root).await;
    let proxy = get_policy_denying_proxy(moto.port);
    let through = Aws::connect(&keyspill_aws::ConnectOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(proxy.endpoint()),
        static_credentials: Some(("AKIAIOSFODNN7EXAMPLE".into(), "secret".into())),
        max_attempts: 1,
        ..keyspill_aws::ConnectOptions::default()
    })
    .await;
    let snap = access::inventory(&through).await.expect("inventory");
    let unread: Vec<&str> = snap.authz.unread.keys().map(String::as_str).collect();
    assert_eq!(unread, [QUARANTINE]);
    assert!(
        snap.authz.unread[QUARANTINE].contains("iam:GetPolicy"),
        "{:?}",
        snap.authz.unread
    );
    assert!(!snap.authz.policies.contains_key(QUARANTINE));
    for arn in [deploy.as_str(), boundary.as_str(), S3_READ] {
        assert!(snap.authz.policies.contains_key(arn), "{arn}");
    }
    assert!(
        snap.warnings
            .iter()
            .any(|w| w.contains(QUARANTINE) && w.contains("iam:GetPolicy")),
        "{:?}",
        snap.warnings
    );
    // The rest of the inventory is whole.
    assert_eq!(snap.users.len(), 1);
    assert_eq!(snap.authz.users["dev"].attached, [QUARANTINE]);
}
