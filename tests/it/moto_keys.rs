//! The Keys tab's AWS paths against a real moto server: listing and flags, every action
//! verified by reading IAM back, the journal around each call, and failures shown in words.

use crate::common;
use std::collections::BTreeSet;

use common::{Moto, MotoOptions, aws_as, aws_root, key_status, user_with_keys};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use keyspill::runtime::exec;
use keyspill_aws::{ErrorKind, iam, sts};
use keyspill_core::app::plan::{KeyRef, Plan, REVOKE_POLICY_NAME};
use keyspill_core::app::state::{Dialog, Settings, State};
use keyspill_core::app::{Effect, Msg, update};
use keyspill_core::domain::{KeyStatus, LastUsed};
use keyspill_core::journal::{self, Journal};
use time::OffsetDateTime;
use tokio::sync::mpsc;

fn settings() -> Settings {
    Settings {
        read_only: false,
        profile: None,
        endpoint: None,
        regions: None,
        operator: "tester@ci".into(),
        local_offset: time::UtcOffset::UTC,
    }
}

fn key(code: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(code), KeyModifiers::NONE))
}

fn type_text(state: &mut State, text: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    for c in text.chars() {
        effects.extend(update(state, key(c)));
    }
    effects
}

fn enter(state: &mut State) -> Vec<Effect> {
    update(
        state,
        Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)),
    )
}

/// Runs a plan as the console would and returns every message it sent.
async fn run(aws: &keyspill_aws::Aws, journal: &exec::SharedJournal, plan: Plan) -> Vec<Msg> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    exec::run_plan(aws, journal, &tx, plan).await;
    drop(tx);
    let mut msgs = Vec::new();
    while let Some(m) = rx.recv().await {
        msgs.push(m);
    }
    msgs
}

fn report(msgs: &[Msg]) -> &keyspill_core::app::msg::ActionReport {
    msgs.iter()
        .find_map(|m| match m {
            Msg::ActionFinished { report, .. } => Some(report),
            _ => None,
        })
        .expect("the action finished")
}

fn open_journal(dir: &std::path::Path) -> exec::SharedJournal {
    let (j, _) = Journal::open(dir, "tester@ci").expect("journal opens");
    Some(std::sync::Arc::new(std::sync::Mutex::new(j)))
}

fn journal_text(dir: &std::path::Path) -> String {
    std::fs::read_to_string(dir.join(journal::JOURNAL_FILE)).expect("journal readable")
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_every_key_with_flags_and_last_use() {
    let moto = Moto::start_with(MotoOptions {
        managed_policies: true,
        ..Default::default()
    });
    let root = aws_root(&moto).await;
    let responder = user_with_keys(&root, "ir-responder", 1).await.remove(0);
    user_with_keys(&root, "ci-deploy", 2).await;
    let leaked = user_with_keys(&root, "dev-alice", 1).await.remove(0);
    root.iam
        .attach_user_policy()
        .user_name("dev-alice")
        .policy_arn("arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2")
        .send()
        .await
        .expect("attach quarantine");
    // IAM dates have one-second resolution: make the backdoor visibly newer than the leak.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let backdoor = user_with_keys(&root, "backup-svc-2", 1).await.remove(0);
    // The attacker uses the leaked key in a region the account never uses.
    let attacker = aws_as(&moto, &leaked.0, &leaked.1).await;
    let _ = attacker
        .ec2_in("ap-south-1")
        .describe_instances()
        .send()
        .await;

    let me = aws_as(&moto, &responder.0, &responder.1).await;
    let identity = sts::identity(&me).await.expect("identity");
    assert_eq!(
        identity.access_key_id.as_deref(),
        Some(responder.0.as_str())
    );
    assert!(
        identity.arn.ends_with(":user/ir-responder"),
        "{}",
        identity.arn
    );

    let snap = iam::fetch_keys(&me).await.expect("keys");
    assert_eq!(snap.keys.len(), 5);
    assert_eq!(snap.users.len(), 4);
    assert_eq!(snap.root_keys_present, Some(false));
    let alice = snap
        .keys
        .iter()
        .find(|k| k.key_id == leaked.0)
        .expect("leaked key listed");
    assert_eq!(alice.quarantined, Some(true));
    match &alice.last_used {
        LastUsed::At {
            region, service, ..
        } => {
            assert_eq!(region, "ap-south-1");
            assert_eq!(service, "ec2");
        }
        other => panic!("expected a last use, got {other:?}"),
    }
    let never = snap
        .keys
        .iter()
        .find(|k| k.user == "ci-deploy")
        .expect("ci key");
    assert_eq!(never.last_used, LastUsed::Never);
    assert_eq!(never.quarantined, Some(false));

    // Through the pure core: flags and ordering as the operator sees them.
    let mut state = State::new(settings(), OffsetDateTime::now_utc());
    state.leaked.insert(leaked.0.clone());
    let at = OffsetDateTime::now_utc();
    update(
        &mut state,
        Msg::Identity {
            seq: 1,
            at,
            result: Ok(identity),
        },
    );
    update(
        &mut state,
        Msg::Keys {
            seq: 2,
            at,
            result: Ok(snap),
        },
    );
    let rows = state.key_rows();
    assert_eq!(rows[0].key_id, leaked.0, "leaked first");
    assert!(rows[0].flags.leaked && rows[0].flags.quarantined);
    assert_eq!(
        state.keys.cursor.as_deref(),
        Some(leaked.0.as_str()),
        "leaked key selected"
    );
    let b = rows
        .iter()
        .find(|r| r.key_id == backdoor.0)
        .expect("backdoor row");
    assert!(b.flags.new, "created after the leak started");
    assert_eq!(
        rows[1].key_id, backdoor.0,
        "new keys right after leaked ones"
    );
    let me_row = rows
        .iter()
        .find(|r| r.key_id == responder.0)
        .expect("own row");
    assert!(me_row.flags.self_key && !me_row.flags.new);
    let ci_new = rows
        .iter()
        .filter(|r| r.user() == "ci-deploy" && r.flags.new)
        .count();
    assert_eq!(ci_new, 0, "keys from before the leak are not NEW");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_leaked_key_iam_does_not_know_still_gets_a_row_with_its_owner() {
    let moto = Moto::start();
    let root = aws_root(&moto).await;
    user_with_keys(&root, "someone", 1).await;
    let snap = iam::fetch_keys(&root).await.expect("keys");
    let ghost = "AKIAZZZZZZZZZZZZZZZZ".to_string();
    let mut state = State::new(settings(), OffsetDateTime::now_utc());
    state.leaked.insert(ghost.clone());
    let at = OffsetDateTime::now_utc();
    let effects = update(
        &mut state,
        Msg::Keys {
            seq: 1,
            at,
            result: Ok(snap),
        },
    );
    assert_eq!(effects, vec![Effect::LookupKeyInfo(ghost.clone())]);
    let account = sts::key_account(&root, &ghost)
        .await
        .expect("owner account");
    update(
        &mut state,
        Msg::KeyInfo {
            key_id: ghost.clone(),
            result: Ok(account),
        },
    );
    let row = state
        .key_rows()
        .into_iter()
        .find(|r| r.key_id == ghost)
        .expect("ghost row");
    assert!(row.key.is_none());
    assert_eq!(row.foreign_account.as_deref(), Some("123456789012"));
}

#[tokio::test(flavor = "multi_thread")]
async fn disable_enable_delete_are_verified_and_journalled() {
    let moto = Moto::start();
    let root = aws_root(&moto).await;
    let (k1, _) = user_with_keys(&root, "alice", 2).await.remove(0);
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = open_journal(dir.path());
    let target = KeyRef {
        user: "alice".into(),
        key_id: k1.clone(),
        status: KeyStatus::Active,
        self_key: false,
    };

    let msgs = run(&root, &journal, Plan::DisableKeys(vec![target.clone()])).await;
    let r = report(&msgs);
    assert!(r.ok, "{}", r.summary);
    assert!(r.summary.contains("verified Inactive"), "{}", r.summary);
    let statuses = key_status(&root, "alice").await;
    assert!(statuses.contains(&(k1.clone(), "Inactive".into())));
    // What the screen gets is what IAM said afterwards.
    assert!(
        r.observed[0]
            .keys
            .contains(&(k1.clone(), KeyStatus::Inactive))
    );

    let msgs = run(&root, &journal, Plan::EnableKeys(vec![target.clone()])).await;
    assert!(report(&msgs).ok);
    assert!(
        key_status(&root, "alice")
            .await
            .contains(&(k1.clone(), "Active".into()))
    );

    let msgs = run(&root, &journal, Plan::DeleteKeys(vec![target.clone()])).await;
    let r = report(&msgs);
    assert!(
        r.ok && r.summary.contains("verified deleted"),
        "{}",
        r.summary
    );
    assert!(
        !key_status(&root, "alice")
            .await
            .iter()
            .any(|(id, _)| id == &k1)
    );

    // Deleting it again (a second dialog drawn before the first ran): the plan re-reads the
    // key, finds it gone, sends nothing and says so.
    let msgs = run(&root, &journal, Plan::DeleteKeys(vec![target])).await;
    let r = report(&msgs);
    assert!(r.ok, "{}", r.summary);
    assert!(r.summary.contains("already deleted"), "{}", r.summary);

    // Every call has an intent before and an outcome after it.
    let text = journal_text(dir.path());
    let resumed = journal::read_back(text.as_bytes());
    assert!(resumed.pending.is_empty());
    assert_eq!(resumed.actions.len(), 4);
    let intents = text.matches("\"kind\":\"intent\"").count();
    let outcomes = text.matches("\"kind\":\"outcome\"").count();
    assert_eq!((intents, outcomes), (4, 4));
    let first_intent = text.find("\"kind\":\"intent\"").expect("intent");
    let first_outcome = text.find("\"kind\":\"outcome\"").expect("outcome");
    assert!(first_intent < first_outcome);
}

#[tokio::test(flavor = "multi_thread")]
async fn rotation_creates_a_working_key_disables_the_old_and_never_journals_the_secret() {
    let moto = Moto::start();
    let root = aws_root(&moto).await;
    let (old, _) = user_with_keys(&root, "alice", 1).await.remove(0);
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = open_journal(dir.path());
    let msgs = run(
        &root,
        &journal,
        Plan::RotateKey(KeyRef {
            user: "alice".into(),
            key_id: old.clone(),
            status: KeyStatus::Active,
            self_key: false,
        }),
    )
    .await;
    let r = report(&msgs);
    assert!(r.ok, "{}", r.summary);
    let new_key = msgs
        .iter()
        .find_map(|m| match m {
            Msg::SecretCreated { new_key, .. } => Some(new_key.clone()),
            _ => None,
        })
        .expect("secret shown once");
    let statuses = key_status(&root, "alice").await;
    assert!(statuses.contains(&(old.clone(), "Inactive".into())));
    assert!(statuses.contains(&(new_key.key_id.clone(), "Active".into())));
    // The new credentials work.
    let as_alice = aws_as(&moto, &new_key.key_id, new_key.secret.expose()).await;
    let id = sts::identity(&as_alice).await.expect("new key works");
    assert!(id.arn.ends_with(":user/alice"), "{}", id.arn);

    let text = journal_text(dir.path());
    assert!(
        !text.contains(new_key.secret.expose()),
        "secret in the journal"
    );
    assert!(text.contains(&new_key.key_id));
    let resumed = journal::read_back(text.as_bytes());
    assert_eq!(resumed.created_keys, vec![new_key.key_id.clone()]);

    // Written for the operator: mode 0600, and never over an existing file.
    let path = dir.path().join("alice.secret.csv");
    let path = path.to_str().expect("utf-8 path");
    exec::write_secret(path, None, &new_key).expect("written");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(path).expect("exists").permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    assert!(
        std::fs::read_to_string(path)
            .expect("read")
            .contains(new_key.secret.expose())
    );
    assert!(
        exec::write_secret(path, None, &new_key).is_err(),
        "must not overwrite"
    );

    // A user already at two keys cannot rotate: the error says what to do.
    user_with_keys(&root, "bob", 2).await;
    let bob_key = key_status(&root, "bob").await.remove(0).0;
    let msgs = run(
        &root,
        &journal,
        Plan::RotateKey(KeyRef {
            user: "bob".into(),
            key_id: bob_key.clone(),
            status: KeyStatus::Active,
            self_key: false,
        }),
    )
    .await;
    let r = report(&msgs);
    assert!(!r.ok);
    assert!(
        r.summary.contains("delete the inactive one first"),
        "{}",
        r.summary
    );
    assert!(
        key_status(&root, "bob")
            .await
            .contains(&(bob_key, "Active".into()))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn revoking_sessions_attaches_a_verified_deny_policy() {
    let moto = Moto::start();
    let root = aws_root(&moto).await;
    user_with_keys(&root, "alice", 1).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = open_journal(dir.path());
    let cutoff = "2026-11-22T10:00:00Z".to_string();
    let msgs = run(
        &root,
        &journal,
        Plan::RevokeSessions {
            principals: vec![keyspill_core::access::Principal::User("alice".into())],
            cutoff: cutoff.clone(),
        },
    )
    .await;
    let r = report(&msgs);
    assert!(r.ok, "{}", r.summary);
    let doc = iam::inline_policy(&root, "alice", REVOKE_POLICY_NAME)
        .await
        .expect("read back")
        .expect("policy present");
    let v: serde_json::Value = serde_json::from_str(&doc).expect("json policy");
    assert_eq!(v["Statement"][0]["Effect"], "Deny");
    assert_eq!(
        v["Statement"][0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"],
        cutoff.as_str()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_own_key_needs_the_lockout_word_before_anything_runs() {
    let moto = Moto::start();
    let root = aws_root(&moto).await;
    let (me_key, me_secret) = user_with_keys(&root, "ir-responder", 1).await.remove(0);
    let me = aws_as(&moto, &me_key, &me_secret).await;
    let mut state = State::new(settings(), OffsetDateTime::now_utc());
    let at = OffsetDateTime::now_utc();
    update(
        &mut state,
        Msg::Identity {
            seq: 1,
            at,
            result: sts::identity(&me).await,
        },
    );
    update(
        &mut state,
        Msg::Keys {
            seq: 2,
            at,
            result: iam::fetch_keys(&me).await,
        },
    );
    assert_eq!(state.keys.cursor.as_deref(), Some(me_key.as_str()));
    assert!(update(&mut state, key('d')).is_empty());
    let tail = &me_key[16..];
    type_text(&mut state, tail);
    assert!(
        enter(&mut state).is_empty(),
        "first stage alone must not act"
    );
    let Some(Dialog::Confirm(c)) = &state.dialog else {
        panic!("a second, warning stage is open");
    };
    assert_eq!(c.current().map(|s| s.expected.as_str()), Some("LOCKOUT"));
    type_text(&mut state, "LOCKOUT");
    let effects = enter(&mut state);
    assert!(matches!(&effects[..], [Effect::Execute(Plan::DisableKeys(k))] if k[0].self_key));
}

#[tokio::test(flavor = "multi_thread")]
async fn access_denied_on_list_users_shows_the_missing_permission_in_the_pane() {
    let moto = Moto::start();
    let root = aws_root(&moto).await;
    let (k, s) = user_with_keys(&root, "limited", 1).await.remove(0);
    root.iam
        .put_user_policy()
        .user_name("limited")
        .policy_name("sts-only")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}"#,
        )
        .send()
        .await
        .expect("policy");
    moto.enforce_auth();
    let limited = aws_as(&moto, &k, &s).await;
    assert!(sts::identity(&limited).await.is_ok(), "identity is allowed");
    let err = iam::fetch_keys(&limited)
        .await
        .expect_err("ListUsers is denied");
    assert_eq!(err.kind, ErrorKind::AccessDenied);
    assert_eq!(err.text, "AccessDenied: missing permission iam:ListUsers");
    assert_eq!(err.permission.as_deref(), Some("iam:ListUsers"));

    let mut state = State::new(settings(), OffsetDateTime::now_utc());
    update(
        &mut state,
        Msg::Keys {
            seq: 1,
            at: OffsetDateTime::now_utc(),
            result: Err(err),
        },
    );
    let backend = ratatui::backend::TestBackend::new(100, 20);
    let mut terminal = ratatui::Terminal::new(backend).expect("terminal");
    let theme = keyspill_core::ui::Theme::monochrome();
    terminal
        .draw(|f| keyspill_core::ui::render(f, &state, &theme))
        .expect("draw");
    let screen = format!("{}", terminal.backend());
    assert!(
        screen.contains("AccessDenied: missing permission iam:ListUsers"),
        "{screen}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_endpoint_is_an_error_in_words_not_a_hang() {
    let aws = keyspill_aws::Aws::connect(&keyspill_aws::ConnectOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(common::dead_endpoint()),
        static_credentials: Some(("AKIAIOSFODNN7EXAMPLE".into(), "x".repeat(40))),
        max_attempts: 1,
        ..Default::default()
    })
    .await;
    let started = std::time::Instant::now();
    let err = sts::identity(&aws).await.expect_err("nothing listens");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(err.kind, ErrorKind::Unreachable, "{}", err.text);
    assert!(
        err.text.contains("cannot reach the AWS endpoint"),
        "{}",
        err.text
    );
    let err = iam::fetch_keys(&aws).await.expect_err("nothing listens");
    assert_eq!(err.kind, ErrorKind::Unreachable);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_intent_without_outcome_is_reverified_against_iam() {
    let moto = Moto::start();
    let root = aws_root(&moto).await;
    let (k, _) = user_with_keys(&root, "alice", 1).await.remove(0);
    let dir = tempfile::tempdir().expect("tempdir");
    // A session wrote its intent, made the call, and died before writing the outcome.
    {
        let (mut j, _) = Journal::open(dir.path(), "tester@ci").expect("journal");
        let now = OffsetDateTime::now_utc();
        j.append(
            now,
            journal::Event::Action {
                action_id: "a1".into(),
                label: "disable".into(),
            },
        )
        .expect("append");
        j.append(
            now,
            journal::Event::Intent {
                action_id: "a1".into(),
                step: 0,
                call: "iam:UpdateAccessKey Inactive".into(),
                target: journal::Target {
                    user: Some("alice".into()),
                    key_id: Some(k.clone()),
                    resource: None,
                    account: None,
                },
            },
        )
        .expect("append");
    }
    iam::set_key_status(&root, "alice", &k, KeyStatus::Inactive)
        .await
        .expect("the call went through");

    let (j, resumed) = Journal::open(dir.path(), "tester@ci").expect("reopen");
    assert_eq!(resumed.pending.len(), 1);
    let mut state = State::new(settings(), OffsetDateTime::now_utc());
    let effects = update(
        &mut state,
        Msg::JournalOpened(Ok(keyspill_core::app::msg::JournalOpened {
            dir: dir.path().display().to_string(),
            resumed,
        })),
    );
    let [Effect::Reverify(pending)] = &effects[..] else {
        panic!("expected one re-verification, got {effects:?}");
    };
    assert_eq!(state.actions[0].outcome, journal::Outcome::Unknown);

    let journal = Some(std::sync::Arc::new(std::sync::Mutex::new(j)));
    let (tx, mut rx) = mpsc::unbounded_channel();
    exec::reverify(&root, &journal, &tx, pending.clone()).await;
    drop(tx);
    let msg = rx.recv().await.expect("a result");
    update(&mut state, msg);
    match &state.actions[0].outcome {
        journal::Outcome::Reverified(d) => assert!(d.contains("is Inactive"), "{d}"),
        other => panic!("expected re-verified, got {other:?}"),
    }
    let resumed = journal::read_back(journal_text(dir.path()).as_bytes());
    assert!(resumed.pending.is_empty(), "recorded as re-verified");
}

#[tokio::test(flavor = "multi_thread")]
async fn selecting_pre_leak_keys_picks_only_active_keys_from_before_the_leak() {
    let moto = Moto::start();
    let root = aws_root(&moto).await;
    let old = user_with_keys(&root, "ci", 2).await;
    iam::set_key_status(&root, "ci", &old[1].0, KeyStatus::Inactive)
        .await
        .expect("disable");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let since = OffsetDateTime::now_utc();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let fresh = user_with_keys(&root, "later", 1).await;
    let mut state = State::new(settings(), since);
    state.since_flag = Some(since);
    update(
        &mut state,
        Msg::Keys {
            seq: 1,
            at: since,
            result: iam::fetch_keys(&root).await,
        },
    );
    update(&mut state, key('a'));
    let expected: BTreeSet<String> = [old[0].0.clone()].into();
    assert_eq!(state.keys.selected, expected);
    assert!(!state.keys.selected.contains(&fresh[0].0));
}

/// A proxy in front of moto that passes the mutating key calls on to moto (which applies
/// them) and then drops the connection without a reply, as a network that fails between
/// IAM's answer and keyspill would; everything else is forwarded whole.
fn reply_dropping_proxy(moto_port: u16) -> crate::http::Server {
    use std::io::Write;
    crate::http::Server::start_raw(move |mut conn| {
        let Some(request) = crate::http::read_request(&mut conn, &mut Vec::new()) else {
            return;
        };
        let answer = crate::http::forward(moto_port, &request);
        let text = request.text();
        let mutating = ["UpdateAccessKey", "DeleteAccessKey", "PutUserPolicy"]
            .iter()
            .any(|a| text.contains(&format!("Action={a}&")));
        if !mutating {
            let _ = conn.write_all(&answer);
        }
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mutation_whose_reply_is_lost_is_read_back_before_it_is_journaled() {
    let moto = Moto::start();
    let root = aws_root(&moto).await;
    let (k1, _) = user_with_keys(&root, "alice", 1).await.remove(0);
    let proxy = reply_dropping_proxy(moto.port);
    let through_proxy = keyspill_aws::Aws::connect(&keyspill_aws::ConnectOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(proxy.endpoint()),
        static_credentials: Some((
            "AKIAIOSFODNN7EXAMPLE".into(),
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        )),
        max_attempts: 1,
        ..keyspill_aws::ConnectOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = open_journal(dir.path());
    let target = KeyRef {
        user: "alice".into(),
        key_id: k1.clone(),
        status: KeyStatus::Active,
        self_key: false,
    };

    // IAM applied the disable; keyspill never heard back. The read-back says it is done.
    let msgs = run(
        &through_proxy,
        &journal,
        Plan::DisableKeys(vec![target.clone()]),
    )
    .await;
    let r = report(&msgs);
    assert!(r.ok, "{}", r.summary);
    assert!(r.summary.contains("the reply was lost"), "{}", r.summary);
    assert!(r.summary.contains("verified Inactive"), "{}", r.summary);
    assert!(
        key_status(&root, "alice")
            .await
            .contains(&(k1.clone(), "Inactive".into()))
    );

    let cutoff = "2026-12-04T10:00:00Z".to_string();
    let msgs = run(
        &through_proxy,
        &journal,
        Plan::RevokeSessions {
            principals: vec![keyspill_core::access::Principal::User("alice".into())],
            cutoff: cutoff.clone(),
        },
    )
    .await;
    let r = report(&msgs);
    assert!(
        r.ok && r.summary.contains("the reply was lost"),
        "{}",
        r.summary
    );
    assert!(r.summary.contains(&cutoff), "{}", r.summary);

    let msgs = run(&through_proxy, &journal, Plan::DeleteKeys(vec![target])).await;
    let r = report(&msgs);
    assert!(r.ok, "{}", r.summary);
    assert!(r.summary.contains("verified deleted"), "{}", r.summary);
    assert!(
        !key_status(&root, "alice")
            .await
            .iter()
            .any(|(id, _)| id == &k1)
    );

    // The journal holds the outcome IAM confirmed, not a failure.
    let text = journal_text(dir.path());
    let resumed = journal::read_back(text.as_bytes());
    assert!(resumed.pending.is_empty());
    assert_eq!(text.matches("\"ok\":false").count(), 0, "{text}");
    assert_eq!(text.matches("the reply was lost").count(), 3, "{text}");
}
