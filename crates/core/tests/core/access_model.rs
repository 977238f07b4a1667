//! The foothold model on synthetic incidents: each kind found from the trail and from live IAM,
//! closed from live state, re-opened by a new backdoor, and never "contained" unverified.

use std::collections::{BTreeMap, BTreeSet};

use keyspill_core::access::{
    AccessSnapshot, Acts, Assessment, Cleared, FootState, Inputs, Kind, Principal, Provenance,
    Provider, Remedy, RoleAccess, UserAccess, assess,
};
use keyspill_core::domain::{AccessKey, KeyStatus, KeysSnapshot, LastUsed, Timestamp};
use keyspill_core::timeline::Origin;
use keyspill_core::timeline::parse::parse_record;
use serde_json::{Value, json};
use time::Duration;
use time::macros::datetime;

const NOW: Timestamp = datetime!(2026-12-04 12:00:00 UTC);
const SINCE: Timestamp = datetime!(2026-12-04 09:00:00 UTC);
const ACCOUNT: &str = "111122223333";
const LEAKED: &str = "AKIA2DEVLEAKEDKEY001";
const BACKDOOR_KEY: &str = "AKIA2BACKDOORKEY0002";
const S1: &str = "ASIA2SESSIONONE00001";
const S2: &str = "ASIA2SESSIONTWO00002";

fn ts(t: Timestamp) -> String {
    keyspill_core::journal::format_ts(t)
}

/// A successful CloudTrail record made with `key`.
fn record(id: &str, t: Timestamp, key: &str, service: &str, name: &str, extra: Value) -> Value {
    let mut r = json!({
        "eventVersion": "1.08",
        "eventID": id,
        "eventTime": ts(t),
        "eventSource": format!("{service}.amazonaws.com"),
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.9",
        "userAgent": "aws-cli/2",
        "userIdentity": {
            "type": if key.starts_with("ASIA") { "AssumedRole" } else { "IAMUser" },
            "arn": if key.starts_with("ASIA") {
                format!("arn:aws:sts::{ACCOUNT}:assumed-role/deploy-role/x")
            } else {
                format!("arn:aws:iam::{ACCOUNT}:user/dev")
            },
            "accessKeyId": key,
        },
    });
    if let (Some(obj), Value::Object(more)) = (r.as_object_mut(), extra) {
        obj.extend(more);
    }
    r
}

fn assume(id: &str, t: Timestamp, by: &str, role: &str, minted: &str, hours: i64) -> Value {
    let expiry = (t + Duration::hours(hours))
        .format(time::macros::format_description!(
            "[month repr:short] [day padding:none], [year], [hour repr:12 padding:none]:[minute]:[second] [period]"
        ))
        .expect("format");
    record(
        id,
        t,
        by,
        "sts",
        "AssumeRole",
        json!({
            "requestParameters": {"roleArn": format!("arn:aws:iam::{ACCOUNT}:role/{role}"), "roleSessionName": "x"},
            "responseElements": {"credentials": {"accessKeyId": minted, "expiration": expiry}},
        }),
    )
}

/// What a tracked key did in the attack: a backdoor user with a key, a password on an admin,
/// a role session and a chained one, a new role, a trust change and an OIDC provider.
fn attack() -> Acts {
    let t = |m: i64| SINCE + Duration::minutes(m);
    let records = vec![
        record(
            "e1",
            t(5),
            LEAKED,
            "iam",
            "CreateUser",
            json!({"requestParameters": {"userName": "backup-svc"}}),
        ),
        record(
            "e2",
            t(6),
            LEAKED,
            "iam",
            "CreateAccessKey",
            json!({
                "requestParameters": {"userName": "backup-svc"},
                "responseElements": {"accessKey": {"userName": "backup-svc", "accessKeyId": BACKDOOR_KEY, "status": "Active"}},
            }),
        ),
        record(
            "e3",
            t(7),
            LEAKED,
            "iam",
            "CreateLoginProfile",
            json!({"requestParameters": {"userName": "admin"}}),
        ),
        assume("e4", t(8), LEAKED, "deploy-role", S1, 12),
        assume("e5", t(9), S1, "prod-role", S2, 4),
        record(
            "e6",
            t(10),
            S1,
            "iam",
            "CreateRole",
            json!({"requestParameters": {"roleName": "evil-role"}}),
        ),
        record(
            "e7",
            t(11),
            S1,
            "iam",
            "UpdateAssumeRolePolicy",
            json!({"requestParameters": {"roleName": "deploy-role"}}),
        ),
        record(
            "e8",
            t(12),
            LEAKED,
            "iam",
            "CreateOpenIDConnectProvider",
            json!({
                "requestParameters": {"url": "https://evil.example"},
                "responseElements": {"openIDConnectProviderArn": format!("arn:aws:iam::{ACCOUNT}:oidc-provider/evil.example")},
            }),
        ),
        // Made by someone keyspill does not track: not the attacker's by evidence.
        record(
            "e9",
            t(13),
            "AKIA2SOMEONEELSE0009",
            "iam",
            "CreateUser",
            json!({"requestParameters": {"userName": "teammate"}}),
        ),
    ];
    let origin = Origin::File {
        path: "synthetic".into(),
    };
    let events: Vec<_> = records
        .iter()
        .map(|r| parse_record(r, &origin).expect("parses"))
        .collect();
    let mut acts = Acts::default();
    acts.note(&events);
    acts
}

fn key(user: &str, id: &str, status: KeyStatus, created: Timestamp) -> AccessKey {
    AccessKey {
        user: user.into(),
        key_id: id.into(),
        status,
        created,
        last_used: LastUsed::At {
            when: SINCE + Duration::minutes(30),
            service: "iam".into(),
            region: "us-east-1".into(),
        },
        quarantined: Some(false),
    }
}

fn keys() -> KeysSnapshot {
    KeysSnapshot {
        keys: vec![
            key("dev", LEAKED, KeyStatus::Active, SINCE - Duration::days(90)),
            key(
                "backup-svc",
                BACKDOOR_KEY,
                KeyStatus::Active,
                SINCE + Duration::minutes(6),
            ),
            key(
                "ops",
                "AKIA2OPSOLDKEY000003",
                KeyStatus::Active,
                SINCE - Duration::days(400),
            ),
        ],
        ..KeysSnapshot::default()
    }
}

fn user(name: &str, created: Timestamp, password: Option<Timestamp>) -> UserAccess {
    UserAccess {
        name: name.into(),
        arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}"),
        created,
        password,
        revoked_before: None,
    }
}

fn role(name: &str, created: Timestamp, trusts: &[&str]) -> RoleAccess {
    RoleAccess::new(
        name.into(),
        format!("arn:aws:iam::{ACCOUNT}:role/{name}"),
        created,
        json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": trusts}, "Action": "sts:AssumeRole"}
        ]})
        .to_string(),
    )
}

fn access() -> AccessSnapshot {
    let old = SINCE - Duration::days(200);
    AccessSnapshot {
        users: vec![
            user("dev", old, None),
            user("ops", old, None),
            user("admin", old, Some(SINCE + Duration::minutes(7))),
            user("backup-svc", SINCE + Duration::minutes(5), None),
        ],
        roles: vec![
            role(
                "deploy-role",
                old,
                &[
                    &format!("arn:aws:iam::{ACCOUNT}:root"),
                    "arn:aws:iam::999988887777:root",
                ],
            ),
            role(
                "prod-role",
                old,
                &[&format!("arn:aws:iam::{ACCOUNT}:role/deploy-role")],
            ),
            role(
                "evil-role",
                SINCE + Duration::minutes(10),
                &["arn:aws:iam::999988887777:root"],
            ),
            RoleAccess {
                service_linked: true,
                ..role(
                    "AWSServiceRoleForAutoScaling",
                    SINCE + Duration::minutes(20),
                    &[],
                )
            },
        ],
        providers: vec![Provider {
            arn: format!("arn:aws:iam::{ACCOUNT}:oidc-provider/evil.example"),
            kind: "oidc".into(),
            created: Some(SINCE + Duration::minutes(12)),
        }],
        ..AccessSnapshot::default()
    }
}

struct World {
    leaked: BTreeSet<String>,
    keys: KeysSnapshot,
    access: AccessSnapshot,
    acts: Acts,
    cleared: BTreeMap<String, Cleared>,
    now: Timestamp,
    keys_error: Option<String>,
    trust_closed: BTreeMap<String, Timestamp>,
    functions: Option<keyspill_core::access::Functions>,
}

impl World {
    fn new() -> World {
        World {
            leaked: [LEAKED.to_string()].into(),
            keys: keys(),
            access: access(),
            acts: attack(),
            cleared: BTreeMap::new(),
            now: NOW,
            keys_error: None,
            trust_closed: BTreeMap::new(),
            functions: None,
        }
    }

    fn assess(&self) -> Assessment {
        let tracked = |k: &str| [LEAKED, BACKDOOR_KEY, S1, S2].contains(&k);
        let none = BTreeSet::new();
        assess(&Inputs {
            now: self.now,
            since: Some(SINCE),
            leaked: &self.leaked,
            response_keys: &none,
            self_key: None,
            self_user: Some("ops"),
            trusted_accounts: vec![ACCOUNT],
            foreign: &[],
            keys: Some(&self.keys),
            keys_error: self.keys_error.as_deref(),
            keys_at: Some(self.now),
            access: Some(&self.access),
            access_error: None,
            access_at: Some(self.now),
            acts: &self.acts,
            tracked: &tracked,
            cleared: &self.cleared,
            leaked_history: &Default::default(),
            trust_closed: &self.trust_closed,
            functions: self.functions.as_ref(),
            source_ip: None,
        })
    }
}

fn find(a: &Assessment, kind: Kind, id: &str) -> keyspill_core::access::Foothold {
    a.footholds
        .iter()
        .find(|f| f.kind == kind && f.id == id)
        .cloned()
        .unwrap_or_else(|| panic!("no {kind:?} {id} in {:#?}", a.footholds))
}

fn by_trail(f: &keyspill_core::access::Foothold) -> bool {
    matches!(f.provenance, Provenance::Trail { .. })
}

#[test]
fn every_kind_is_found_from_the_trail_and_live_iam() {
    let a = World::new().assess();
    assert!(!a.contained());
    let leaked = find(&a, Kind::LeakedKey, LEAKED);
    assert_eq!(leaked.state, FootState::Open);
    let backdoor = find(&a, Kind::AccessKey, BACKDOOR_KEY);
    assert!(
        backdoor.state == FootState::Open && by_trail(&backdoor),
        "{backdoor:?}"
    );
    let user = find(&a, Kind::User, "backup-svc");
    assert!(user.state == FootState::Open && by_trail(&user), "{user:?}");
    let password = find(&a, Kind::LoginProfile, "admin");
    assert!(password.state == FootState::Open && by_trail(&password));
    assert_eq!(
        password.remedy,
        Some(Remedy::DeletePassword {
            user: "admin".into()
        })
    );
    // The chained session: revoked on its own role and the one it was minted from.
    let s2 = find(&a, Kind::Session, S2);
    assert_eq!(s2.state, FootState::Open);
    assert_eq!(
        s2.remedy,
        Some(Remedy::Revoke(vec![
            Principal::Role("prod-role".into()),
            Principal::Role("deploy-role".into())
        ]))
    );
    assert_eq!(
        s2.expires,
        Some(SINCE + Duration::minutes(9) + Duration::hours(4))
    );
    assert!(s2.why.contains("valid until"), "{}", s2.why);
    assert_eq!(find(&a, Kind::Session, S1).state, FootState::Open);
    // Sessions a leaked key can mint out of the trail's sight, on its user.
    assert_eq!(find(&a, Kind::Session, "unseen:dev").state, FootState::Open);
    let evil = find(&a, Kind::Role, "evil-role");
    assert!(evil.state == FootState::Open && by_trail(&evil));
    // Trust: the changed role names the outside account; so does the attacker's new role.
    let trust = find(&a, Kind::Trust, "deploy-role");
    assert!(
        trust.why.contains("999988887777") && trust.why.contains("trust changed by"),
        "{}",
        trust.why
    );
    assert!(by_trail(&trust));
    assert_eq!(find(&a, Kind::Trust, "evil-role").state, FootState::Open);
    let idp = find(
        &a,
        Kind::IdentityProvider,
        &format!("arn:aws:iam::{ACCOUNT}:oidc-provider/evil.example"),
    );
    assert!(idp.state == FootState::Open && by_trail(&idp));
    // Made by an untracked caller before the trail says otherwise: no foothold of the
    // attacker's by evidence; the service-linked role is AWS's; the responder is not counted.
    assert!(!a.footholds.iter().any(|f| f.id == "teammate"));
    assert!(
        !a.footholds
            .iter()
            .any(|f| f.id.starts_with("AWSServiceRole"))
    );
    assert!(
        !a.footholds
            .iter()
            .any(|f| f.id == "ops" || f.id == "AKIA2OPSOLDKEY000003")
    );
    assert_eq!(a.headline(), format!("NOT CONTAINED ({} open)", a.open()));
}

/// Everything the console's actions would do, applied to live state (and what the console
/// remembers of its own trust change).
fn close_everything(w: &mut World) {
    w.trust_closed.insert("deploy-role".into(), NOW);
    for k in &mut w.keys.keys {
        if k.key_id == LEAKED || k.key_id == BACKDOOR_KEY {
            k.status = KeyStatus::Inactive;
        }
    }
    for u in &mut w.access.users {
        if u.name == "dev" {
            u.revoked_before = Some(NOW);
        }
        if u.name == "admin" {
            u.password = None;
        }
    }
    w.access.users.retain(|u| u.name != "backup-svc");
    w.access.roles.retain(|r| r.name != "evil-role");
    w.access.providers.clear();
    for r in &mut w.access.roles {
        if r.name == "deploy-role" || r.name == "prod-role" {
            r.revoked_before = Some(NOW);
        }
        if r.name == "deploy-role" {
            *r = RoleAccess {
                revoked_before: r.revoked_before,
                ..role(
                    "deploy-role",
                    r.created,
                    &[&format!("arn:aws:iam::{ACCOUNT}:root")],
                )
            };
        }
    }
}

#[test]
fn closing_every_foothold_from_live_state_contains_and_a_new_backdoor_reopens() {
    let mut w = World::new();
    close_everything(&mut w);
    let a = w.assess();
    assert!(a.contained(), "{}", a.text());
    assert_eq!(a.headline(), "CONTAINED");
    for (kind, id) in [
        (Kind::LeakedKey, LEAKED),
        (Kind::AccessKey, BACKDOOR_KEY),
        (Kind::Session, S1),
        (Kind::Session, S2),
        (Kind::Session, "unseen:dev"),
        (Kind::LoginProfile, "admin"),
        (Kind::User, "backup-svc"),
        (Kind::Role, "evil-role"),
    ] {
        assert_eq!(find(&a, kind, id).state, FootState::Closed, "{kind:?} {id}");
    }
    assert!(
        find(&a, Kind::Session, S2)
            .why
            .starts_with("revoked: role prod-role")
    );
    // The changed trust, now without the outside account: left for review, not open.
    assert_eq!(
        find(&a, Kind::Trust, "deploy-role").state,
        FootState::Reduced
    );

    // A new key on an old user, no trail event for it yet: the incident is open again.
    w.keys.keys.push(key(
        "ops",
        "AKIA2SECONDBACKDOOR4",
        KeyStatus::Active,
        NOW - Duration::minutes(1),
    ));
    let a = w.assess();
    assert!(!a.contained());
    assert_eq!(a.headline(), "NOT CONTAINED (1 open)");
    let new = find(&a, Kind::AccessKey, "AKIA2SECONDBACKDOOR4");
    assert!(
        matches!(new.provenance, Provenance::Unknown { .. }),
        "{new:?}"
    );
}

#[test]
fn sessions_close_when_they_expire_or_their_role_is_deleted_and_only_a_late_enough_revoke_counts() {
    let mut w = World::new();
    // A revoke older than the session does not cover it.
    for r in &mut w.access.roles {
        if r.name == "prod-role" {
            r.revoked_before = Some(SINCE);
        }
    }
    assert_eq!(find(&w.assess(), Kind::Session, S2).state, FootState::Open);
    // Two hours on, the four-hour chained session has expired; the 12-hour one has not.
    w.now = NOW + Duration::hours(2);
    let a = w.assess();
    assert!(find(&a, Kind::Session, S2).why.starts_with("expired at"));
    assert_eq!(find(&a, Kind::Session, S1).state, FootState::Open);
    w.access.roles.retain(|r| r.name != "deploy-role");
    let a = w.assess();
    assert_eq!(
        find(&a, Kind::Session, S1).why,
        "role deploy-role no longer exists"
    );
}

#[test]
fn without_a_trail_what_appeared_after_the_leak_is_of_unknown_origin_and_can_be_cleared() {
    let mut w = World::new();
    w.acts = Acts::default();
    let a = w.assess();
    for (kind, id) in [
        (Kind::AccessKey, BACKDOOR_KEY),
        (Kind::User, "backup-svc"),
        (Kind::LoginProfile, "admin"),
        (Kind::Role, "evil-role"),
    ] {
        let f = find(&a, kind, id);
        assert_eq!(f.state, FootState::Open, "{kind:?} {id}");
        assert!(matches!(f.provenance, Provenance::Unknown { .. }), "{f:?}");
    }
    // A trust outside the account with no evidence of a change: standing, and open.
    assert!(matches!(
        find(&a, Kind::Trust, "deploy-role").provenance,
        Provenance::Standing
    ));
    w.cleared.insert(
        "login-profile:admin".into(),
        Cleared {
            by: "ic@laptop".into(),
            at: ts(NOW),
            reason: "the admin reset her own password at 09:07, confirmed by phone".into(),
        },
    );
    let f = find(&w.assess(), Kind::LoginProfile, "admin");
    assert_eq!(f.state, FootState::Closed);
    assert!(f.why.starts_with("cleared by ic@laptop"), "{}", f.why);
    // Evidence cannot be cleared away.
    let mut w = World::new();
    w.cleared.insert(
        "login-profile:admin".into(),
        Cleared {
            by: "x".into(),
            at: ts(NOW),
            reason: "no".into(),
        },
    );
    assert_eq!(
        find(&w.assess(), Kind::LoginProfile, "admin").state,
        FootState::Open
    );
}

#[test]
fn a_quarantined_key_stays_open_and_nothing_is_contained_unverified() {
    let mut w = World::new();
    close_everything(&mut w);
    for k in &mut w.keys.keys {
        if k.key_id == LEAKED {
            k.status = KeyStatus::Active;
            k.quarantined = Some(true);
        }
    }
    let f = find(&w.assess(), Kind::LeakedKey, LEAKED);
    assert_eq!(f.state, FootState::Open);
    assert!(f.why.contains("quarantine"), "{}", f.why);

    let mut w = World::new();
    close_everything(&mut w);
    w.keys_error = Some("AccessDenied".into());
    let a = w.assess();
    assert_eq!(a.open(), 0);
    assert!(!a.contained());
    assert_eq!(a.headline(), "NOT CONTAINED (unverified)");
}

#[test]
fn the_json_report_has_the_fields_tickets_read() {
    let a = World::new().assess();
    let v: Value = serde_json::to_value(a.report()).expect("json");
    assert_eq!(v["contained"], false);
    let rows = v["footholds"].as_array().expect("rows");
    let s2 = rows.iter().find(|r| r["id"] == S2).expect("session row");
    assert_eq!(s2["kind"], "session");
    assert_eq!(s2["state"], "open");
    assert_eq!(s2["principal"], "role prod-role");
    assert!(
        s2["expires"]
            .as_str()
            .is_some_and(|e| e.starts_with("2026-12-04T13:09"))
    );
    assert!(
        rows.iter()
            .all(|r| r["why"].as_str().is_some_and(|w| !w.is_empty()))
    );
}

#[test]
fn the_organisation_s_accounts_are_not_outside() {
    let mut w = World::new();
    w.access.organization = Some(keyspill_core::access::Organization {
        id: "o-abc123".into(),
        management_account: "444455556666".into(),
        accounts: vec![ACCOUNT.into(), "999988887777".into()],
        accounts_unread: None,
    });
    let a = w.assess();
    // deploy-role trusts 999988887777, a member: no outside trust; evil-role likewise.
    assert!(
        !a.footholds
            .iter()
            .any(|f| f.kind == Kind::Trust && f.state == FootState::Open)
    );
    // The attacker's changed trust is still noted, for review.
    assert_eq!(
        find(&a, Kind::Trust, "deploy-role").state,
        FootState::Reduced
    );

    // From a member account the members cannot be listed: only the management account is
    // known to be inside, and the why says so.
    w.access.organization = Some(keyspill_core::access::Organization {
        id: "o-abc123".into(),
        management_account: "444455556666".into(),
        accounts: vec![],
        accounts_unread: Some("AccessDenied".into()),
    });
    let f = find(&w.assess(), Kind::Trust, "deploy-role");
    assert_eq!(f.state, FootState::Open);
    assert!(f.why.contains("--trust-account"), "{}", f.why);
}

#[test]
fn a_disabled_key_s_refused_attempts_do_not_reopen_its_revoked_sessions() {
    let mut w = World::new();
    close_everything(&mut w);
    assert!(w.assess().contained());
    // After the revocation, the attacker keeps trying the disabled key: CloudTrail logs each
    // refusal with the key id.
    let mut refused = record(
        "e99",
        NOW + Duration::minutes(5),
        LEAKED,
        "ec2",
        "RunInstances",
        json!({}),
    );
    refused["errorCode"] = json!("InvalidClientTokenId");
    let origin = Origin::File {
        path: "late".into(),
    };
    w.acts
        .note(&[parse_record(&refused, &origin).expect("parses")]);
    w.now = NOW + Duration::minutes(6);
    assert!(w.assess().contained(), "{}", w.assess().text());
    // A call that worked after the cut-off is another matter: it could have minted a session.
    let worked = record(
        "e100",
        NOW + Duration::minutes(7),
        LEAKED,
        "sts",
        "GetCallerIdentity",
        json!({}),
    );
    w.acts
        .note(&[parse_record(&worked, &origin).expect("parses")]);
    let a = w.assess();
    assert_eq!(find(&a, Kind::Session, "unseen:dev").state, FootState::Open);
}

/// Sessions minted through a trust the attacker opened to its own account are never in the
/// trail under a key of the incident: the model holds them open until the role denies tokens
/// issued before the trust closed, or 12 hours have passed.
#[test]
fn sessions_minted_through_an_opened_trust_outlive_the_trust_until_revoked() {
    let id = "trust:deploy-role";
    let mut w = World::new();
    // The tracked key put 999988887777 in deploy-role's trust: it mints at will.
    let a = w.assess();
    let f = find(&a, Kind::Session, id);
    assert_eq!(f.state, FootState::Open);
    assert!(f.why.contains("at will"), "{}", f.why);
    assert!(f.remedy.is_none(), "revoking first is not enough: {f:?}");
    assert_eq!(f.principal, "role deploy-role");

    // Everything closed, the trust included, the role revoked at NOW, the trust closed at NOW.
    close_everything(&mut w);
    assert_eq!(
        find(&w.assess(), Kind::Session, id).state,
        FootState::Closed
    );

    // The trust closed after the revocation: sessions minted in between still work.
    w.trust_closed
        .insert("deploy-role".into(), NOW + Duration::minutes(3));
    w.now = NOW + Duration::minutes(4);
    let a = w.assess();
    let f = find(&a, Kind::Session, id);
    assert_eq!(f.state, FootState::Open, "{}", a.text());
    assert!(f.why.contains("revoke on role deploy-role"), "{}", f.why);
    assert!(!a.contained());
    assert_eq!(
        f.expires,
        Some(NOW + Duration::minutes(3) + Duration::hours(12))
    );
    // Twelve hours after the trust closed, whatever was minted has expired.
    w.now = NOW + Duration::minutes(3) + Duration::hours(12);
    assert_eq!(
        find(&w.assess(), Kind::Session, id).state,
        FootState::Closed
    );

    // Revoked after the trust closed: closed.
    w.now = NOW + Duration::minutes(6);
    for r in &mut w.access.roles {
        if r.name == "deploy-role" {
            r.revoked_before = Some(NOW + Duration::minutes(5));
        }
    }
    let f = find(&w.assess(), Kind::Session, id);
    assert_eq!(f.state, FootState::Closed);
    assert!(f.why.starts_with("revoked: role deploy-role"), "{}", f.why);

    // The role deleted: closed, and still listed.
    w.access.roles.retain(|r| r.name != "deploy-role");
    let f = find(&w.assess(), Kind::Session, id);
    assert_eq!(f.state, FootState::Closed);
    assert!(f.why.contains("deleted"), "{}", f.why);
}

#[test]
fn a_standing_outside_trust_is_the_trust_foothold_alone() {
    let mut w = World::new();
    w.acts = Acts::default();
    let a = w.assess();
    assert_eq!(find(&a, Kind::Trust, "deploy-role").state, FootState::Open);
    assert!(
        !a.footholds.iter().any(|f| f.id == "trust:deploy-role"),
        "{}",
        a.text()
    );
    // Once the console saw it outside and then closed, its sessions count.
    w.trust_closed.insert("deploy-role".into(), NOW);
    for r in &mut w.access.roles {
        if r.name == "deploy-role" {
            *r = role(
                "deploy-role",
                r.created,
                &[&format!("arn:aws:iam::{ACCOUNT}:root")],
            );
        }
    }
    let f = find(&w.assess(), Kind::Session, "trust:deploy-role");
    assert_eq!(f.state, FootState::Open);
    assert!(matches!(f.provenance, Provenance::Standing));
}

/// A function the leaked key made runs with its role's rights on its own schedule: open while
/// it exists, whatever happens to the keys; closed once a sweep no longer finds it.
#[test]
fn a_function_the_attacker_made_is_a_foothold_while_it_exists() {
    use keyspill_core::access::Functions;
    let mut w = World::new();
    let made = record(
        "f1",
        SINCE + Duration::minutes(8),
        LEAKED,
        "lambda",
        "CreateFunction20150331",
        json!({"requestParameters": {
            "functionName": "support-sync",
            "role": format!("arn:aws:iam::{ACCOUNT}:role/prod-role"),
        }}),
    );
    let origin = Origin::File { path: "t".into() };
    w.acts
        .note(&[parse_record(&made, &origin).expect("parses")]);
    let id = "us-east-1/support-sync";
    // Before any sweep: not verified, open.
    let f = find(&w.assess(), Kind::Function, id);
    assert_eq!(f.state, FootState::Open);
    assert!(f.why.starts_with("not verified"), "{}", f.why);
    assert_eq!(f.principal, "role prod-role");
    // Swept, present: open even with every key and session closed.
    close_everything(&mut w);
    w.functions = Some(Functions {
        swept: ["us-east-1".to_string()].into(),
        present: [("us-east-1".to_string(), "support-sync".to_string())].into(),
    });
    let a = w.assess();
    let f = find(&a, Kind::Function, id);
    assert_eq!(f.state, FootState::Open, "{}", a.text());
    assert!(f.why.contains("runs as role prod-role"), "{}", f.why);
    assert!(!a.contained());
    // Its region could not be read: still open, and says why.
    w.functions = Some(Functions::default());
    let f = find(&w.assess(), Kind::Function, id);
    assert_eq!(f.state, FootState::Open);
    assert!(f.why.contains("could not be read"), "{}", f.why);
    // Swept and gone: closed, and the incident is contained again.
    w.functions = Some(Functions {
        swept: ["us-east-1".to_string()].into(),
        present: Default::default(),
    });
    let a = w.assess();
    assert_eq!(find(&a, Kind::Function, id).state, FootState::Closed);
    assert!(a.contained(), "{}", a.text());
}

#[test]
fn a_session_for_another_account_s_role_is_open_until_it_expires_and_names_where_to_close_it() {
    const MEMBER: &str = "444455556666";
    const S3: &str = "ASIA2SESSIONMEMBER03";
    let mut w = World::new();
    let mut record = assume(
        "m1",
        SINCE + Duration::minutes(30),
        LEAKED,
        "deploy-role",
        S3,
        12,
    );
    record["requestParameters"]["roleArn"] =
        format!("arn:aws:iam::{MEMBER}:role/deploy-role").into();
    let origin = Origin::File {
        path: "synthetic".into(),
    };
    w.acts
        .note(&[parse_record(&record, &origin).expect("parses")]);
    // This account has a deploy-role too; deleting it closes this account's session only.
    w.access.roles.retain(|r| r.name != "deploy-role");
    let a = w.assess();
    let theirs = find(&a, Kind::Session, S3);
    assert_eq!(theirs.state, FootState::Open, "{theirs:?}");
    assert!(
        theirs.why.contains(&format!("in account {MEMBER}")),
        "{}",
        theirs.why
    );
    assert_eq!(theirs.principal, format!("role deploy-role in {MEMBER}"));
    // Nothing here revokes it, and this account's policies say nothing of what it can do.
    assert!(theirs.remedy.is_none() && theirs.subject.is_none());
    assert_eq!(
        find(&a, Kind::Session, S1).why,
        "role deploy-role no longer exists"
    );
    // Past its expiry it is over wherever its role is.
    w.now = SINCE + Duration::hours(13);
    assert!(
        find(&w.assess(), Kind::Session, S3)
            .why
            .starts_with("expired at")
    );
}

#[test]
fn another_account_s_open_footholds_or_an_account_not_looked_into_keep_the_answer_open() {
    use keyspill_core::access::Verified;
    use keyspill_core::app::access::{MemberModel, Members, merge_members};
    const MEMBER: &str = "444455556666";
    let contained_here = || Assessment {
        footholds: Vec::new(),
        verified: Verified::At(NOW),
        dropped_acts: 0,
    };
    assert!(contained_here().contained());
    let theirs = World::new().assess();
    let open_there = theirs
        .footholds
        .iter()
        .filter(|f| f.state == FootState::Open)
        .count();
    assert!(open_there > 0);
    let member = |outcome: Result<Assessment, String>, status: &str| MemberModel {
        id: MEMBER.into(),
        name: "workloads".into(),
        status: status.into(),
        outcome,
        keys: None,
        resources: Vec::new(),
    };
    let members = |accounts: Vec<MemberModel>, listing: Option<String>| Members {
        role: "OrganizationAccountAccessRole".into(),
        at: NOW,
        listing,
        accounts,
    };

    // Their footholds join ours, named with their account, with nothing to act with here.
    let mut a = contained_here();
    merge_members(
        &mut a,
        &members(vec![member(Ok(theirs.clone()), "ACTIVE")], None),
    );
    assert!(!a.contained());
    assert_eq!(a.open(), open_there);
    let user = a
        .footholds
        .iter()
        .find(|f| f.id == format!("{MEMBER}:backup-svc"))
        .unwrap_or_else(|| panic!("{:#?}", a.footholds));
    assert!(
        user.principal
            .ends_with("· account 444455556666 (workloads)"),
        "{}",
        user.principal
    );
    // A user the attacker made there is removed from the Resources tab, where that account's
    // rows are; its permission grid is that account's, which the console does not hold.
    assert!(matches!(user.remedy, Some(Remedy::Remove)) && user.subject.is_none());
    // Keys, sessions and passwords keep their remedy: the console acts there through the
    // account's session (`access_flow`).
    let theirs_of = |kind: Kind| {
        a.footholds
            .iter()
            .filter(move |f| f.id.starts_with(MEMBER) && f.kind == kind)
    };
    assert!(
        theirs_of(Kind::AccessKey)
            .chain(theirs_of(Kind::LeakedKey))
            .all(|f| matches!(f.remedy, Some(Remedy::DisableKey { .. })))
    );
    assert!(theirs_of(Kind::Session).any(|f| matches!(f.remedy, Some(Remedy::Revoke(_)))));

    // An account that could not be entered leaves the answer unverified, not contained.
    let mut a = contained_here();
    merge_members(
        &mut a,
        &members(
            vec![member(Err("cannot enter: AccessDenied".into()), "ACTIVE")],
            None,
        ),
    );
    assert_eq!(
        a.verified,
        Verified::No(
            "account 444455556666 (workloads) not looked into: cannot enter: AccessDenied".into()
        )
    );
    assert!(!a.contained());
    // A closed account cannot be entered, and nothing can act in it.
    let mut a = contained_here();
    merge_members(
        &mut a,
        &members(vec![member(Err("closed".into()), "SUSPENDED")], None),
    );
    assert!(a.contained());
    // Nor can the answer be "contained" when the organisation could not be listed.
    let mut a = contained_here();
    merge_members(&mut a, &members(Vec::new(), Some("AccessDenied".into())));
    assert!(!a.contained());
}
