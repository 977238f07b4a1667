//! Effective permissions on a large account: the grid the console recomputes after every
//! containment action, the escalation paths of one principal, and parsing the policies when an
//! access poll arrives.
//!
//!   cargo bench --bench permissions
//!
//! Target (the issue's): evaluating 200 principals x 60 actions against an account of 2,000
//! policies in <= 50 ms on one core. The account: 2,000 customer managed policies of 2 to 8
//! statements each (action lists with wildcards, `NotAction`, ARNs with wildcards, one
//! statement in five with a condition, one in ten a deny), 40 groups, 150 users (each in one
//! or two groups, three to six managed policies and an inline one) and 50 roles (the same,
//! one in five with a permissions boundary). The 60 actions are the grid's 41 and 19 more.
//! Also reported, against this project's own targets: the escalation paths and roles two hops
//! deep of one principal (<= 50 ms), and parsing the 2,000 documents (<= 50 ms: a poll's
//! arrival).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

mod support;
use keyspill_core::access::authz::escalate;
use keyspill_core::access::authz::{
    Authz, Context, Entity, Inline, Managed, Policy, SessionKind, Subject, Who, catalogue,
};
use support::{report, timed};
use time::macros::datetime;

const POLICIES: usize = 2_000;
const GROUPS: usize = 40;
const USERS: usize = 150;
const ROLES: usize = 50;
const TARGET: Duration = Duration::from_millis(50);
const ACCOUNT: &str = "111122223333";

/// A small deterministic generator: the same account every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SERVICES: &[&str] = &[
    "s3",
    "ec2",
    "iam",
    "lambda",
    "dynamodb",
    "sqs",
    "sns",
    "kms",
    "secretsmanager",
    "ssm",
    "logs",
    "cloudwatch",
    "cloudtrail",
    "rds",
    "ecs",
    "ecr",
    "eks",
    "sts",
    "glue",
    "athena",
    "kinesis",
    "route53",
    "elasticloadbalancing",
    "autoscaling",
    "cloudformation",
    "events",
    "states",
    "apigateway",
    "guardduty",
    "organizations",
];
const VERBS: &[&str] = &[
    "Get", "List", "Describe", "Put", "Create", "Delete", "Update", "Attach", "Detach", "Run",
    "Start", "Stop", "Modify", "Tag", "Invoke",
];
const NOUNS: &[&str] = &[
    "Object",
    "Bucket",
    "Instances",
    "User",
    "Role",
    "Policy",
    "Function",
    "Table",
    "Queue",
    "Topic",
    "Key",
    "SecretValue",
    "Parameter",
    "LogGroup",
    "Trail",
    "Stack",
    "Detector",
    "AccessKey",
    "LoginProfile",
    "Snapshot",
];

fn action(r: &mut Rng) -> String {
    let svc = SERVICES[r.below(SERVICES.len())];
    match r.below(10) {
        0 => format!("{svc}:*"),
        1 | 2 => format!("{svc}:{}*", VERBS[r.below(VERBS.len())]),
        _ => format!(
            "{svc}:{}{}",
            VERBS[r.below(VERBS.len())],
            NOUNS[r.below(NOUNS.len())]
        ),
    }
}

fn resource(r: &mut Rng) -> String {
    match r.below(6) {
        0 => format!("arn:aws:s3:::bucket-{}/*", r.below(200)),
        1 => format!("arn:aws:iam::{ACCOUNT}:user/team-{}/*", r.below(20)),
        2 => format!("arn:aws:iam::{ACCOUNT}:role/app-{}", r.below(50)),
        3 => format!("arn:aws:lambda:*:{ACCOUNT}:function:svc-{}*", r.below(30)),
        4 => format!("arn:aws:kms:eu-west-1:{ACCOUNT}:key/*"),
        _ => format!("arn:aws:dynamodb:*:{ACCOUNT}:table/t{}", r.below(100)),
    }
}

fn condition(r: &mut Rng) -> String {
    match r.below(4) {
        0 => r#""Condition":{"StringEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]}}"#
            .into(),
        1 => r#""Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#.into(),
        2 => r#""Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}"#.into(),
        _ => r#""Condition":{"DateGreaterThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}"#.into(),
    }
}

fn document(r: &mut Rng) -> String {
    let n = 2 + r.below(7);
    let mut statements = Vec::new();
    for i in 0..n {
        let effect = if r.below(10) == 0 { "Deny" } else { "Allow" };
        let actions: Vec<String> = (0..3 + r.below(8))
            .map(|_| format!("\"{}\"", action(r)))
            .collect();
        let act_key = if r.below(20) == 0 {
            "NotAction"
        } else {
            "Action"
        };
        let res = if r.below(2) == 0 {
            "\"*\"".to_string()
        } else {
            let rs: Vec<String> = (0..1 + r.below(3))
                .map(|_| format!("\"{}\"", resource(r)))
                .collect();
            format!("[{}]", rs.join(","))
        };
        let cond = if r.below(5) == 0 {
            format!(",{}", condition(r))
        } else {
            String::new()
        };
        statements.push(format!(
            r#"{{"Sid":"S{i}","Effect":"{effect}","{act_key}":[{}],"Resource":{res}{cond}}}"#,
            actions.join(",")
        ));
    }
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        statements.join(",")
    )
}

fn policy_arn(n: usize) -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy/p{n}")
}

/// The documents, as the poll hands them over.
fn documents() -> Vec<String> {
    let mut r = Rng(42);
    (0..POLICIES).map(|_| document(&mut r)).collect()
}

fn account(docs: &[String]) -> Authz {
    let mut r = Rng(7);
    let mut a = Authz::default();
    for (n, d) in docs.iter().enumerate() {
        a.policies.insert(
            policy_arn(n),
            Managed {
                arn: policy_arn(n),
                name: format!("p{n}"),
                version: "v1".into(),
                policy: Policy::parse(d),
                other_versions: n % 3,
            },
        );
    }
    let attached = |r: &mut Rng| -> Vec<String> {
        (0..3 + r.below(4))
            .map(|_| policy_arn(r.below(POLICIES)))
            .collect()
    };
    let inline = |r: &mut Rng| -> Vec<Inline> {
        vec![Inline {
            name: "inline".into(),
            policy: Policy::parse(&document(r)),
        }]
    };
    for g in 0..GROUPS {
        a.groups.insert(
            format!("g{g}"),
            Entity {
                arn: format!("arn:aws:iam::{ACCOUNT}:group/g{g}"),
                attached: (0..3).map(|_| policy_arn(r.below(POLICIES))).collect(),
                ..Default::default()
            },
        );
    }
    let trust = format!(
        r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"sts:AssumeRole"}},
            {{"Effect":"Allow","Principal":{{"Service":"ec2.amazonaws.com"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    for u in 0..USERS {
        let groups = (0..1 + r.below(2))
            .map(|_| format!("g{}", r.below(GROUPS)))
            .collect();
        a.users.insert(
            format!("u{u}"),
            Entity {
                arn: format!("arn:aws:iam::{ACCOUNT}:user/team-{}/u{u}", u % 20),
                id: format!("AIDA{u:016}"),
                inline: inline(&mut r),
                attached: attached(&mut r),
                groups,
                ..Default::default()
            },
        );
    }
    for n in 0..ROLES {
        a.roles.insert(
            format!("app-{n}"),
            Entity {
                arn: format!("arn:aws:iam::{ACCOUNT}:role/app-{n}"),
                inline: inline(&mut r),
                attached: attached(&mut r),
                boundary: (n % 5 == 0).then(|| policy_arn(r.below(POLICIES))),
                trust: Some(Policy::parse(&trust)),
                instance_profile: n % 2 == 0,
                ..Default::default()
            },
        );
    }
    a
}

/// The grid's 41 actions and 19 more: 60.
fn sixty() -> Vec<&'static str> {
    let mut v = catalogue::actions();
    v.extend([
        "s3:DeleteObject",
        "s3:PutBucketAcl",
        "dynamodb:Scan",
        "dynamodb:GetItem",
        "rds:ModifyDBInstance",
        "ec2:CreateSnapshot",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:CreateKeyPair",
        "ecr:GetAuthorizationToken",
        "ecs:RunTask",
        "glue:CreateDevEndpoint",
        "cloudformation:CreateStack",
        "logs:DeleteLogGroup",
        "events:PutRule",
        "sns:Publish",
        "sqs:SendMessage",
        "kinesis:PutRecord",
        "iam:CreatePolicy",
        "iam:SetDefaultPolicyVersion",
    ]);
    assert_eq!(v.len(), 60);
    v
}

fn principals(a: &Authz) -> Vec<Who> {
    a.users
        .keys()
        .map(|n| Who::User(n.clone()))
        .chain(a.roles.keys().map(|n| Who::Role(n.clone())))
        .collect()
}

/// Every principal's grid: the figure the issue names.
fn grids(a: &Authz, who: &[Who], actions: &[&str], now: time::OffsetDateTime) -> usize {
    let key = Context::long_term(now);
    let session = Context::session(now, SessionKind::AssumedRole, now);
    let mut allowed = 0;
    for w in who {
        let ctx = if matches!(w, Who::User(_)) {
            &key
        } else {
            &session
        };
        if let Some(b) = a.bind(w) {
            allowed += b
                .grid(actions, ctx)
                .iter()
                .filter(|c| c.verdict.word() == keyspill_core::access::authz::Word::Allowed)
                .count();
        }
    }
    allowed
}

fn permissions(c: &mut Criterion) {
    let now = datetime!(2026-12-04 12:00 UTC);
    let docs = documents();
    let a = account(&docs);
    let who = principals(&a);
    assert_eq!(who.len(), USERS + ROLES);
    let actions = sixty();
    let subject = Subject {
        who: Who::User("u3".into()),
        ctx: Context::long_term(now),
    };
    let allowed = grids(&a, &who, &actions, now);
    let reach = escalate::reach(&a, &subject);
    println!(
        "account: {} policies, {} principals, {} actions; {allowed} cells allowed; u3 has {} \
         escalation paths and {} assumable roles",
        a.policies.len(),
        who.len(),
        actions.len(),
        reach.paths.len(),
        reach.assumable.len()
    );

    c.bench_function("grid 200 principals x 60 actions", |b| {
        b.iter(|| black_box(grids(&a, &who, &actions, now)))
    });
    c.bench_function("escalation paths and roles of one user", |b| {
        b.iter(|| black_box(escalate::reach(&a, &subject).paths.len()))
    });
    c.bench_function("parse 2,000 policy documents", |b| {
        b.iter(|| {
            black_box(
                docs.iter()
                    .map(|d| Policy::parse(d).statements.len())
                    .sum::<usize>(),
            )
        })
    });

    println!("\nAgainst the targets (one thread, medians of hand-timed runs):");
    report(
        "grid: 200 principals x 60 actions, 2,000 policies",
        timed(30, || {
            black_box(grids(&a, &who, &actions, now));
        }),
        TARGET,
    );
    report(
        "escalation paths + roles two hops deep, one user",
        timed(30, || {
            black_box(escalate::reach(&a, &subject));
        }),
        TARGET,
    );
    report(
        "parsing the 2,000 documents (an access poll arrives)",
        timed(30, || {
            black_box(
                docs.iter()
                    .map(|d| Policy::parse(d).statements.len())
                    .sum::<usize>(),
            );
        }),
        TARGET,
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(5));
    targets = permissions
}
criterion_main!(benches);
