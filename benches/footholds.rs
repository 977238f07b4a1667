//! The foothold model on a large account: the console runs it after every message (the clock
//! ticks four times a second), so it must cost a small part of a frame's budget.
//!
//!   cargo bench --bench footholds
//!
//! Targets (this project's, next to DESIGN.md's 2 ms frame and 50 ms filter change), on an
//! account with 2,000 users, 6,000 access keys, 5,000 roles (one in twenty trusting another
//! account) and a trail of 20,000 acts on access (keys created, users, passwords, roles, trust
//! changes, providers, chained sessions): one `update` of a clock tick in <= 2 ms (median; the
//! model runs on a tick only when a foothold expires), the model alone and an access poll
//! arriving (the model runs again) in <= 50 ms each. The poll figure includes cloning the
//! snapshot into the message.
//!
//! Every principal holds three of 500 managed policies, so the model also evaluates the
//! grid of every foothold that is not closed (the permissions issue's addition).
//!
//! The shape is an attacker with an admin key in a big account: thousands of principals, a
//! few hundred of them made after the leak, sessions chained a few hops deep. Criterion
//! reports its own statistics; afterwards the bench times the same operations by hand and
//! prints their medians next to the targets, with the ratio.

use std::collections::{BTreeMap, BTreeSet};
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

mod support;
use keyspill_core::access::authz::{Authz, Entity, Managed, Policy};
use keyspill_core::access::{
    AccessSnapshot, Acts, Inputs, Provider, RoleAccess, UserAccess, assess,
};
use keyspill_core::app::msg::Msg;
use keyspill_core::app::state::{Settings, State};
use keyspill_core::app::update;
use keyspill_core::domain::{AccessKey, KeyStatus, KeysSnapshot, LastUsed, Timestamp};
use keyspill_core::timeline::Origin;
use keyspill_core::timeline::parse::parse_record;
use serde_json::json;
use support::report;
use time::Duration as Span;
use time::macros::datetime;

const USERS: usize = 2_000;
const KEYS_PER_USER: usize = 3;
const ROLES: usize = 5_000;
const ACTS: usize = 20_000;

const TICK_TARGET: Duration = Duration::from_millis(2);
const MODEL_TARGET: Duration = Duration::from_millis(50);

const NOW: Timestamp = datetime!(2026-12-04 12:00:00 UTC);
const SINCE: Timestamp = datetime!(2026-12-04 06:00:00 UTC);
const ACCOUNT: &str = "111122223333";

fn key_id(n: usize) -> String {
    format!("AKIA{n:016}")
}

fn keys() -> KeysSnapshot {
    let mut keys = Vec::new();
    for u in 0..USERS {
        for k in 0..KEYS_PER_USER {
            let n = u * KEYS_PER_USER + k;
            // One user in ten got a key after the leak.
            let created = if u % 10 == 0 && k == 0 {
                SINCE + Span::minutes(n as i64 % 300)
            } else {
                SINCE - Span::days(30 + n as i64 % 300)
            };
            keys.push(AccessKey {
                user: format!("user-{u}"),
                key_id: key_id(n),
                status: if k == 2 {
                    KeyStatus::Inactive
                } else {
                    KeyStatus::Active
                },
                created,
                last_used: LastUsed::At {
                    when: NOW - Span::minutes(n as i64 % 600),
                    service: "s3".into(),
                    region: "us-east-1".into(),
                },
                quarantined: Some(false),
            });
        }
    }
    KeysSnapshot {
        keys,
        ..KeysSnapshot::default()
    }
}

fn access() -> AccessSnapshot {
    let users: Vec<UserAccess> = (0..USERS)
        .map(|u| UserAccess {
            name: format!("user-{u}"),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/user-{u}"),
            created: if u % 20 == 0 {
                SINCE + Span::minutes(u as i64 % 300)
            } else {
                SINCE - Span::days(100)
            },
            password: (u % 7 == 0).then_some(SINCE - Span::days(50)),
            revoked_before: (u % 13 == 0).then_some(NOW - Span::hours(1)),
        })
        .collect();
    let roles: Vec<RoleAccess> = (0..ROLES)
        .map(|r| {
            let outside = r % 20 == 0;
            let principals = if outside {
                json!([format!("arn:aws:iam::{ACCOUNT}:root"), "arn:aws:iam::999988887777:root"])
            } else {
                json!(format!("arn:aws:iam::{ACCOUNT}:role/role-{}", (r + 1) % ROLES))
            };
            let trust = json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": principals, "Service": "ec2.amazonaws.com"},
                 "Action": "sts:AssumeRole"}]})
            .to_string();
            RoleAccess {
                revoked_before: (r % 11 == 0).then_some(NOW - Span::hours(2)),
                ..RoleAccess::new(
                    format!("role-{r}"),
                    format!("arn:aws:iam::{ACCOUNT}:role/role-{r}"),
                    if r % 25 == 0 {
                        SINCE + Span::minutes(r as i64 % 300)
                    } else {
                        SINCE - Span::days(200)
                    },
                    trust,
                )
            }
        })
        .collect();
    let providers = (0..20)
        .map(|p| Provider {
            arn: format!("arn:aws:iam::{ACCOUNT}:oidc-provider/idp-{p}.example"),
            kind: "oidc".into(),
            created: Some(SINCE + Span::minutes(p)),
        })
        .collect();
    let authz = authz(&users, &roles);
    AccessSnapshot {
        users,
        roles,
        providers,
        authz: authz.into(),
        ..AccessSnapshot::default()
    }
}

/// Every principal's policies: three of 500 customer managed policies each (one in ten an
/// administrator's, one in seven denying CloudTrail, some conditioned on MFA), so the model
/// computes the grid of every foothold that is not closed.
fn authz(users: &[UserAccess], roles: &[RoleAccess]) -> Authz {
    const POLICIES: usize = 500;
    const SERVICES: &[&str] = &[
        "s3", "ec2", "lambda", "dynamodb", "sqs", "kms", "ssm", "rds",
    ];
    let arn = |n: usize| format!("arn:aws:iam::{ACCOUNT}:policy/p{n}");
    let mut a = Authz::default();
    for n in 0..POLICIES {
        let mut statements = vec![json!({"Effect": "Allow",
            "Action": ["s3:Get*", "ec2:Describe*", format!("{}:*", SERVICES[n % SERVICES.len()])],
            "Resource": "*"})];
        if n % 10 == 0 {
            statements.push(json!({"Effect": "Allow", "Action": "*", "Resource": "*"}));
        }
        if n % 7 == 0 {
            statements.push(json!({"Effect": "Deny", "Action": "cloudtrail:*", "Resource": "*"}));
        }
        if n % 5 == 0 {
            statements.push(
                json!({"Effect": "Allow", "Action": "iam:*", "Resource": "*",
                "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}),
            );
        }
        let doc = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
        a.policies.insert(
            arn(n),
            Managed {
                arn: arn(n),
                name: format!("p{n}"),
                version: "v1".into(),
                policy: Policy::parse(&doc),
                other_versions: 0,
            },
        );
    }
    let three = |i: usize| {
        vec![
            arn(i % POLICIES),
            arn((i * 7) % POLICIES),
            arn((i * 13) % POLICIES),
        ]
    };
    for (i, u) in users.iter().enumerate() {
        a.users.insert(
            u.name.clone(),
            Entity {
                arn: u.arn.clone(),
                attached: three(i),
                ..Default::default()
            },
        );
    }
    for (i, r) in roles.iter().enumerate() {
        a.roles.insert(
            r.name.clone(),
            Entity {
                arn: r.arn.clone(),
                attached: three(i + 1),
                trust: Some(Policy::parse(&r.trust)),
                ..Default::default()
            },
        );
    }
    a
}

/// The trail: the leaked key and the sessions it chained, creating and changing access.
fn events() -> Vec<keyspill_core::timeline::Event> {
    let origin = Origin::File {
        path: "bench".into(),
    };
    let leaked = key_id(0);
    let mut out = Vec::with_capacity(ACTS);
    let mut session_keys: Vec<String> = vec![leaked.clone()];
    for n in 0..ACTS {
        let t = SINCE + Span::seconds(n as i64);
        let by = session_keys[n % session_keys.len().min(8)].clone();
        let (service, name, extra) = match n % 8 {
            0 => {
                let minted = format!("ASIA{n:016}");
                session_keys.push(minted.clone());
                (
                    "sts",
                    "AssumeRole",
                    json!({"requestParameters": {"roleArn": format!("arn:aws:iam::{ACCOUNT}:role/role-{}", n % ROLES)},
                       "responseElements": {"credentials": {"accessKeyId": minted,
                           "expiration": keyspill_core::journal::format_ts(t + Span::hours(12))}}}),
                )
            }
            1 => (
                "iam",
                "CreateAccessKey",
                json!({"requestParameters": {"userName": format!("user-{}", n % USERS)},
                   "responseElements": {"accessKey": {"accessKeyId": key_id(n % (USERS * KEYS_PER_USER))}}}),
            ),
            2 => (
                "iam",
                "CreateUser",
                json!({"requestParameters": {"userName": format!("user-{}", n % USERS)}}),
            ),
            3 => (
                "iam",
                "CreateLoginProfile",
                json!({"requestParameters": {"userName": format!("user-{}", n % USERS)}}),
            ),
            4 => (
                "iam",
                "CreateRole",
                json!({"requestParameters": {"roleName": format!("role-{}", n % ROLES)}}),
            ),
            5 => (
                "iam",
                "UpdateAssumeRolePolicy",
                json!({"requestParameters": {"roleName": format!("role-{}", n % ROLES)}}),
            ),
            6 => (
                "iam",
                "CreateOpenIDConnectProvider",
                json!({"responseElements": {"openIDConnectProviderArn": format!("arn:aws:iam::{ACCOUNT}:oidc-provider/idp-{}.example", n % 20)}}),
            ),
            _ => ("ec2", "RunInstances", json!({})),
        };
        let mut r = json!({"eventID": format!("e{n}"), "eventTime": keyspill_core::journal::format_ts(t),
            "eventSource": format!("{service}.amazonaws.com"), "eventName": name, "awsRegion": "us-east-1",
            "userIdentity": {"type": "IAMUser", "accessKeyId": by, "arn": format!("arn:aws:iam::{ACCOUNT}:user/user-0")}});
        if let (Some(o), serde_json::Value::Object(more)) = (r.as_object_mut(), extra) {
            o.extend(more);
        }
        if let Ok(e) = parse_record(&r, &origin) {
            out.push(e);
        }
    }
    out
}

struct World {
    keys: KeysSnapshot,
    access: AccessSnapshot,
    acts: Acts,
    leaked: BTreeSet<String>,
    tracked: BTreeSet<String>,
}

fn world() -> (World, Vec<keyspill_core::timeline::Event>) {
    let events = events();
    let mut acts = Acts::default();
    acts.note(&events);
    let mut tracked: BTreeSet<String> = [key_id(0)].into();
    tracked.extend(
        events
            .iter()
            .filter_map(|e| e.minted.as_ref().map(|m| m.key_id.clone())),
    );
    (
        World {
            keys: keys(),
            access: access(),
            acts,
            leaked: [key_id(0)].into(),
            tracked,
        },
        events,
    )
}

fn model(w: &World) -> usize {
    let none = BTreeSet::new();
    let cleared = BTreeMap::new();
    let tracked = |k: &str| w.tracked.contains(k);
    assess(&Inputs {
        now: NOW,
        since: Some(SINCE),
        leaked: &w.leaked,
        response_keys: &none,
        self_key: None,
        self_user: None,
        trusted_accounts: vec![ACCOUNT],
        foreign: &[],
        keys: Some(&w.keys),
        keys_error: None,
        keys_at: Some(NOW),
        access: Some(&w.access),
        access_error: None,
        access_at: Some(NOW),
        acts: &w.acts,
        tracked: &tracked,
        cleared: &cleared,
        leaked_history: &Default::default(),
        trust_closed: &Default::default(),
        functions: None,
        source_ip: None,
    })
    .footholds
    .len()
}

/// The console holding the same account and trail.
fn console(w: &World, events: Vec<keyspill_core::timeline::Event>) -> State {
    let settings = Settings {
        read_only: false,
        profile: None,
        endpoint: None,
        regions: Some(vec!["us-east-1".into()]),
        operator: "bench@host".into(),
        local_offset: time::UtcOffset::UTC,
    };
    let mut state = State::new(settings, NOW);
    state.leaked = w.leaked.clone();
    state.since_flag = Some(SINCE);
    update(
        &mut state,
        Msg::Keys {
            seq: 1,
            at: NOW,
            result: Ok(w.keys.clone()),
        },
    );
    update(
        &mut state,
        Msg::Access {
            seq: 1,
            at: NOW,
            result: Ok(w.access.clone()),
        },
    );
    update(
        &mut state,
        Msg::TimelineChains(
            w.tracked
                .iter()
                .map(|k| (k.clone(), String::new(), vec![k.clone()]))
                .collect(),
        ),
    );
    update(&mut state, Msg::TimelineEvents { at: NOW, events });
    state
}

fn footholds(c: &mut Criterion) {
    let (w, events) = world();
    let mut state = console(&w, events);
    let n = model(&w);
    println!(
        "account: {USERS} users, {} keys, {ROLES} roles, {} acts kept; {n} footholds",
        w.keys.keys.len(),
        w.acts.by_event.len()
    );
    let mut t = NOW;
    let mut alone = Vec::new();
    for _ in 0..30 {
        let start = Instant::now();
        black_box(model(&w));
        alone.push(start.elapsed());
    }
    let mut polls = Vec::new();
    for n in 0..30 {
        let start = Instant::now();
        black_box(update(
            &mut state,
            Msg::Access {
                seq: 10 + n,
                at: NOW,
                result: Ok(w.access.clone()),
            },
        ));
        polls.push(start.elapsed());
    }
    let mut ticks = Vec::new();
    for _ in 0..200 {
        t += Span::milliseconds(250);
        let start = Instant::now();
        black_box(update(&mut state, Msg::Tick(t)));
        ticks.push(start.elapsed());
    }
    c.bench_function("model alone", |b| b.iter(|| black_box(model(&w))));
    let mut seq = 1_000;
    c.bench_function("update(Access)", |b| {
        b.iter(|| {
            seq += 1;
            black_box(update(
                &mut state,
                Msg::Access {
                    seq,
                    at: NOW,
                    result: Ok(w.access.clone()),
                },
            ))
        })
    });
    c.bench_function("update(Tick)", |b| {
        b.iter(|| {
            t += Span::milliseconds(250);
            black_box(update(&mut state, Msg::Tick(t)))
        })
    });

    // The permissions view's escalation walk on this account (every user and role), which
    // the view runs when it opens and when the policies change.
    let subject = keyspill_core::access::authz::Subject {
        who: keyspill_core::access::authz::Who::User("user-0".into()),
        ctx: keyspill_core::access::authz::Context::long_term(NOW),
    };
    let mut walks = Vec::new();
    for _ in 0..10 {
        let start = Instant::now();
        black_box(keyspill_core::access::authz::escalate::reach(
            &w.access.authz,
            &subject,
        ));
        walks.push(start.elapsed());
    }

    println!();
    report("the model alone (headless, once)", alone, MODEL_TARGET);
    report(
        "escalation walk of one user (the w view), this account",
        walks,
        MODEL_TARGET,
    );
    report(
        "an access poll arriving (the model runs again)",
        polls,
        MODEL_TARGET,
    );
    report(
        "one clock tick (no foothold expires in it)",
        ticks,
        TICK_TARGET,
    );
    println!(
        "(a tick across a foothold's expiry runs the model once: the cost of a poll arriving)"
    );
}

criterion_group!(benches, footholds);
criterion_main!(benches);
