//! The permission evaluation, table-tested on the policy examples AWS documents for identity
//! policies (managing one's own credentials, MFA, source IP, region, boundaries, NotAction,
//! the revocation and quarantine policies), and the escalation paths.

use keyspill_core::access::authz::escalate::{self, Reach};
use keyspill_core::access::authz::eval::Res;
use keyspill_core::access::authz::{
    Authz, Context, Entity, Inline, Managed, Policy, SessionKind, Subject, Verdict, Who, Word,
};
use time::macros::datetime;

const ACCT: &str = "111122223333";

fn now() -> time::OffsetDateTime {
    datetime!(2026-12-04 12:00 UTC)
}

fn user_arn(n: &str) -> String {
    format!("arn:aws:iam::{ACCT}:user/{n}")
}

fn role_arn(n: &str) -> String {
    format!("arn:aws:iam::{ACCT}:role/{n}")
}

fn inline(name: &str, doc: &str) -> Inline {
    let policy = Policy::parse(doc);
    assert_eq!(policy.error, None, "{name}: {doc}");
    Inline {
        name: name.into(),
        policy,
    }
}

fn managed(name: &str, doc: &str) -> (String, Managed) {
    let arn = format!("arn:aws:iam::{ACCT}:policy/{name}");
    (
        arn.clone(),
        Managed {
            arn,
            name: name.into(),
            version: "v1".into(),
            policy: Policy::parse(doc),
            other_versions: 0,
        },
    )
}

fn user(authz: &mut Authz, name: &str, docs: &[&str]) {
    authz.users.insert(
        name.into(),
        Entity {
            arn: user_arn(name),
            id: format!("AIDA{}", name.to_uppercase()),
            inline: docs
                .iter()
                .enumerate()
                .map(|(n, d)| inline(&format!("p{n}"), d))
                .collect(),
            ..Default::default()
        },
    );
}

fn role(authz: &mut Authz, name: &str, trust: &str, docs: &[&str]) {
    authz.roles.insert(
        name.into(),
        Entity {
            arn: role_arn(name),
            inline: docs
                .iter()
                .enumerate()
                .map(|(n, d)| inline(&format!("p{n}"), d))
                .collect(),
            trust: Some(Policy::parse(trust)),
            ..Default::default()
        },
    );
}

fn word(authz: &Authz, who: &Who, action: &str, res: Res<'_>, ctx: &Context) -> Word {
    authz
        .bind(who)
        .expect("principal listed")
        .evaluate(action, res, ctx)
        .word()
}

fn eval(authz: &Authz, who: &Who, action: &str, ctx: &Context) -> Verdict {
    authz
        .bind(who)
        .expect("principal listed")
        .evaluate(action, Res::Any, ctx)
}

fn key() -> Context {
    Context::long_term(now())
}

fn dev() -> Who {
    Who::User("dev".into())
}

const ADMIN: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

#[test]
fn explicit_deny_wins_and_nothing_allowed_is_an_implicit_deny() {
    let mut a = Authz::default();
    user(
        &mut a,
        "dev",
        &[
            ADMIN,
            r#"{"Statement":[{"Sid":"NoTrail","Effect":"Deny","Action":"cloudtrail:*","Resource":"*"}]}"#,
        ],
    );
    user(&mut a, "empty", &[]);
    match eval(&a, &dev(), "cloudtrail:StopLogging", &key()) {
        Verdict::Denied { by: Some(by), .. } => {
            assert_eq!(by.statement, "NoTrail");
            assert_eq!(by.policy, "inline user/dev:p1");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        word(&a, &dev(), "iam:CreateUser", Res::Any, &key()),
        Word::Allowed
    );
    assert!(matches!(
        eval(&a, &Who::User("empty".into()), "s3:GetObject", &key()),
        Verdict::Denied { by: None, .. }
    ));
}

#[test]
fn not_action_and_action_wildcards_match_without_case() {
    // AWS's example: everything except IAM.
    let mut a = Authz::default();
    user(
        &mut a,
        "dev",
        &[r#"{"Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}"#],
    );
    assert_eq!(
        word(&a, &dev(), "IAM:CreateUser", Res::Any, &key()),
        Word::Denied
    );
    assert_eq!(
        word(&a, &dev(), "ec2:RunInstances", Res::Any, &key()),
        Word::Allowed
    );
    let mut b = Authz::default();
    user(
        &mut b,
        "dev",
        &[r#"{"Statement":{"Effect":"Allow","Action":["S3:Get*","s3:List*"],"Resource":"*"}}"#],
    );
    assert_eq!(
        word(&b, &dev(), "s3:GetObject", Res::Any, &key()),
        Word::Allowed
    );
    assert_eq!(
        word(&b, &dev(), "s3:PutObject", Res::Any, &key()),
        Word::Denied
    );
}

#[test]
fn managing_ones_own_credentials_reaches_only_oneself() {
    // AWS's example "allows IAM users to manage their own credentials", trimmed.
    let mut a = Authz::default();
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Sid":"OwnKeys","Effect":"Allow",
        "Action":["iam:CreateAccessKey","iam:DeleteAccessKey","iam:UpdateAccessKey"],
        "Resource":"arn:aws:iam::*:user/${aws:username}"}]}"#;
    user(&mut a, "dev", &[doc]);
    user(&mut a, "ops-admin", &[ADMIN]);
    let own = user_arn("dev");
    let other = user_arn("ops-admin");
    assert_eq!(
        word(&a, &dev(), "iam:CreateAccessKey", Res::Arn(&own), &key()),
        Word::Allowed
    );
    assert_eq!(
        word(&a, &dev(), "iam:CreateAccessKey", Res::Arn(&other), &key()),
        Word::Denied
    );
    match eval(&a, &dev(), "iam:CreateAccessKey", &key()) {
        Verdict::Allowed { on: Some(on), .. } => {
            assert_eq!(on, vec!["arn:aws:iam::*:user/dev".to_string()]);
        }
        other => panic!("{other:?}"),
    }
    // No path to the administrator through its keys.
    let reach = escalate::reach(
        &a,
        &Subject {
            who: dev(),
            ctx: key(),
        },
    );
    assert!(
        !reach
            .paths
            .iter()
            .any(|p| p.method.starts_with("CreateAccessKey")),
        "{reach:?}"
    );
}

#[test]
fn mfa_conditions_deny_the_attackers_credentials() {
    // AWS's example: deny everything but MFA setup unless signed in with MFA.
    let doc = r#"{"Statement":[
        {"Effect":"Allow","Action":"*","Resource":"*"},
        {"Sid":"DenyAllExceptListedIfNoMFA","Effect":"Deny",
         "NotAction":["iam:CreateVirtualMFADevice","iam:EnableMFADevice","sts:GetSessionToken"],
         "Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;
    let mut a = Authz::default();
    user(&mut a, "dev", &[doc]);
    // A long-term key carries no MFA key at all: IfExists makes the deny apply.
    assert_eq!(
        word(&a, &dev(), "ec2:RunInstances", Res::Any, &key()),
        Word::Denied
    );
    let session = Context::session(now(), SessionKind::AssumedRole, now());
    assert_eq!(
        word(&a, &dev(), "ec2:RunInstances", Res::Any, &session),
        Word::Denied
    );
    assert_eq!(
        word(&a, &dev(), "sts:GetSessionToken", Res::Any, &key()),
        Word::Allowed
    );
}

#[test]
fn source_ip_is_decided_only_when_given() {
    // AWS's example: deny access from outside an address range.
    let doc = r#"{"Statement":[
        {"Effect":"Allow","Action":"*","Resource":"*"},
        {"Effect":"Deny","Action":"*","Resource":"*","Condition":{
          "NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]},
          "Bool":{"aws:ViaAWSService":"false"}}}]}"#;
    let mut a = Authz::default();
    user(&mut a, "dev", &[doc]);
    match eval(&a, &dev(), "s3:GetObject", &key()) {
        Verdict::Conditional { on, .. } => assert_eq!(on, vec!["aws:sourceip".to_string()]),
        other => panic!("{other:?}"),
    }
    let mut inside = key();
    inside.source_ip = Some("203.0.113.7".parse().expect("ip"));
    assert_eq!(
        word(&a, &dev(), "s3:GetObject", Res::Any, &inside),
        Word::Allowed
    );
    let mut outside = key();
    outside.source_ip = Some("198.51.100.7".parse().expect("ip"));
    assert_eq!(
        word(&a, &dev(), "s3:GetObject", Res::Any, &outside),
        Word::Denied
    );
}

#[test]
fn a_condition_it_cannot_know_is_never_allowed() {
    // AWS's example: deny outside two regions. The region of the attacker's next call is not
    // known: conditional, and the key is named.
    let doc = r#"{"Statement":[
        {"Effect":"Allow","Action":"*","Resource":"*"},
        {"Sid":"DenyAllOutsideRequestedRegions","Effect":"Deny",
         "NotAction":["iam:*","sts:*"],"Resource":"*",
         "Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-central-1","eu-west-1"]}}}]}"#;
    let mut a = Authz::default();
    user(&mut a, "dev", &[doc]);
    match eval(&a, &dev(), "ec2:RunInstances", &key()) {
        Verdict::Conditional { on, by } => {
            assert_eq!(on, vec!["aws:requestedregion".to_string()]);
            assert_eq!(
                by.map(|b| b.statement).as_deref(),
                Some("DenyAllOutsideRequestedRegions")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        word(&a, &dev(), "iam:CreateUser", Res::Any, &key()),
        Word::Allowed
    );
    // An allow that hangs on an unknown key is conditional too.
    let mut b = Authz::default();
    user(
        &mut b,
        "dev",
        &[
            r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*",
              "Condition":{"StringEquals":{"s3:prefix":"home/"}}}}"#,
        ],
    );
    assert_eq!(
        word(&b, &dev(), "s3:ListBucket", Res::Any, &key()),
        Word::Conditional
    );
}

#[test]
fn a_permissions_boundary_must_allow_too() {
    // AWS's example: a boundary that allows S3 and CloudWatch only.
    let mut a = Authz::default();
    let (arn, m) = managed(
        "DevBoundary",
        r#"{"Statement":{"Effect":"Allow","Action":["s3:*","cloudwatch:*"],"Resource":"*"}}"#,
    );
    a.policies.insert(arn.clone(), m);
    user(&mut a, "dev", &[ADMIN]);
    a.users.get_mut("dev").expect("dev").boundary = Some(arn);
    assert_eq!(
        word(&a, &dev(), "s3:GetObject", Res::Any, &key()),
        Word::Allowed
    );
    match eval(&a, &dev(), "iam:CreateUser", &key()) {
        Verdict::Denied { by: None, why } => assert!(why.contains("DevBoundary"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn revocation_denies_sessions_issued_before_the_cut_and_not_keys() {
    // The console's own revocation (AWS's "revoke active sessions" policy).
    let revoke = r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"*",
        "Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-12-04T11:00:00Z"}}}}"#;
    let mut a = Authz::default();
    role(&mut a, "deploy", "{\"Statement\":[]}", &[ADMIN, revoke]);
    let deploy = Who::Role("deploy".into());
    let before = Context::session(
        now(),
        SessionKind::AssumedRole,
        datetime!(2026-12-04 10:30 UTC),
    );
    let after = Context::session(
        now(),
        SessionKind::AssumedRole,
        datetime!(2026-12-04 11:30 UTC),
    );
    assert_eq!(
        word(&a, &deploy, "ec2:RunInstances", Res::Any, &before),
        Word::Denied
    );
    assert_eq!(
        word(&a, &deploy, "ec2:RunInstances", Res::Any, &after),
        Word::Allowed
    );
}

#[test]
fn session_limits_apply_whatever_the_policies_say() {
    let mut a = Authz::default();
    user(&mut a, "dev", &[ADMIN]);
    let token = Context::session(now(), SessionKind::SessionToken, now());
    assert_eq!(
        word(&a, &dev(), "iam:CreateUser", Res::Any, &token),
        Word::Denied
    );
    assert_eq!(
        word(&a, &dev(), "sts:AssumeRole", Res::Any, &token),
        Word::Allowed
    );
    assert_eq!(
        word(&a, &dev(), "ec2:RunInstances", Res::Any, &token),
        Word::Allowed
    );
    let fed = Context::session(now(), SessionKind::Federation, now());
    assert_eq!(
        word(&a, &dev(), "sts:AssumeRole", Res::Any, &fed),
        Word::Denied
    );
    assert_eq!(
        word(&a, &dev(), "s3:GetObject", Res::Any, &fed),
        Word::Conditional
    );
}

#[test]
fn resource_denies_take_away_what_they_cover() {
    let mut a = Authz::default();
    user(
        &mut a,
        "dev",
        &[r#"{"Statement":[
            {"Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::logs/*","arn:aws:s3:::data/*"]},
            {"Sid":"NoData","Effect":"Deny","Action":"s3:Get*","Resource":"arn:aws:s3:::data/*"},
            {"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::data/in/*"},
            {"Sid":"NoPut","Effect":"Deny","Action":"s3:Put*","Resource":"arn:aws:s3:::data/*"}]}"#],
    );
    match eval(&a, &dev(), "s3:GetObject", &key()) {
        Verdict::Allowed { on: Some(on), .. } => {
            assert_eq!(on, vec!["arn:aws:s3:::logs/*".to_string()])
        }
        other => panic!("{other:?}"),
    }
    match eval(&a, &dev(), "s3:PutObject", &key()) {
        Verdict::Denied { by: Some(by), .. } => assert_eq!(by.statement, "NoPut"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        word(
            &a,
            &dev(),
            "s3:GetObject",
            Res::Arn("arn:aws:s3:::data/x"),
            &key()
        ),
        Word::Denied
    );
}

#[test]
fn groups_managed_policies_and_an_unreadable_policy() {
    let mut a = Authz::default();
    let (arn, m) = managed(
        "Ops",
        r#"{"Statement":{"Effect":"Allow","Action":"ec2:*","Resource":"*"}}"#,
    );
    a.policies.insert(arn.clone(), m);
    a.groups.insert(
        "ops".into(),
        Entity {
            arn: format!("arn:aws:iam::{ACCT}:group/ops"),
            attached: vec![arn],
            ..Default::default()
        },
    );
    user(&mut a, "dev", &[]);
    a.users.get_mut("dev").expect("dev").groups = vec!["ops".into()];
    assert_eq!(
        word(&a, &dev(), "ec2:RunInstances", Res::Any, &key()),
        Word::Allowed
    );
    // A policy the poll could not read may allow or deny anything.
    a.users
        .get_mut("dev")
        .expect("dev")
        .attached
        .push(format!("arn:aws:iam::{ACCT}:policy/Unreadable"));
    assert_eq!(
        word(&a, &dev(), "ec2:RunInstances", Res::Any, &key()),
        Word::Conditional
    );
    assert_eq!(
        word(&a, &dev(), "iam:CreateUser", Res::Any, &key()),
        Word::Conditional
    );
}

#[test]
fn the_quarantine_policy_denies_what_it_lists_and_leaves_the_rest() {
    // A trimmed AWSCompromisedKeyQuarantineV2: it denies writes that spread access and
    // launch compute, not reads.
    let mut a = Authz::default();
    let (arn, m) = managed(
        "AWSCompromisedKeyQuarantineV2",
        r#"{"Statement":[{"Effect":"Deny","Action":["iam:AttachUserPolicy","iam:CreateAccessKey",
            "iam:CreateUser","ec2:RunInstances","lambda:CreateFunction"],"Resource":["*"]}]}"#,
    );
    a.policies.insert(arn.clone(), m);
    user(&mut a, "dev", &[ADMIN]);
    a.users.get_mut("dev").expect("dev").attached = vec![arn];
    assert_eq!(
        word(&a, &dev(), "iam:CreateAccessKey", Res::Any, &key()),
        Word::Denied
    );
    assert_eq!(
        word(&a, &dev(), "s3:GetObject", Res::Any, &key()),
        Word::Allowed
    );
}

fn trust_account() -> String {
    format!(
        r#"{{"Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCT}:root"}},"Action":"sts:AssumeRole"}}}}"#
    )
}

fn trust_named(arn: &str) -> String {
    format!(
        r#"{{"Statement":{{"Effect":"Allow","Principal":{{"AWS":"{arn}"}},"Action":"sts:AssumeRole"}}}}"#
    )
}

#[test]
fn roles_it_can_assume_two_hops_deep() {
    let mut a = Authz::default();
    // dev may assume anything its policy allows; `hop` trusts the account; `admin` trusts
    // only `hop` by name; `mfa-only` wants MFA, which the attacker lacks.
    user(
        &mut a,
        "dev",
        &[r#"{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}}"#],
    );
    role(&mut a, "hop", &trust_account(), &[]);
    role(&mut a, "admin", &trust_named(&role_arn("hop")), &[ADMIN]);
    role(
        &mut a,
        "mfa-only",
        &format!(
            r#"{{"Statement":{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCT}:root"}},"Action":"sts:AssumeRole","Condition":{{"Bool":{{"aws:MultiFactorAuthPresent":"true"}}}}}}}}"#
        ),
        &[ADMIN],
    );
    role(
        &mut a,
        "external",
        &trust_named("arn:aws:iam::999988887777:root"),
        &[ADMIN],
    );
    let reach: Reach = escalate::reach(
        &a,
        &Subject {
            who: dev(),
            ctx: key(),
        },
    );
    let hops: Vec<(String, Option<String>, bool)> = reach
        .assumable
        .iter()
        .map(|h| (h.role.clone(), h.via.clone(), h.admin))
        .collect();
    assert_eq!(
        hops,
        vec![
            ("admin".to_string(), Some("hop".to_string()), true),
            ("hop".to_string(), None, false),
        ]
    );
    // Without sts:AssumeRole in its own policy, a trust naming the account is not enough;
    // a trust naming the user is.
    let mut b = Authz::default();
    user(&mut b, "dev", &[]);
    role(&mut b, "hop", &trust_account(), &[]);
    role(&mut b, "mine", &trust_named(&user_arn("dev")), &[]);
    let reach = escalate::reach(
        &b,
        &Subject {
            who: dev(),
            ctx: key(),
        },
    );
    let roles: Vec<&str> = reach.assumable.iter().map(|h| h.role.as_str()).collect();
    assert_eq!(roles, vec!["mine"]);
}

#[test]
fn escalation_paths_name_their_permissions_and_targets() {
    let mut a = Authz::default();
    user(
        &mut a,
        "dev",
        &[r#"{"Statement":[
            {"Effect":"Allow","Action":["iam:CreateAccessKey","iam:PassRole","ec2:RunInstances"],"Resource":"*"},
            {"Effect":"Allow","Action":"iam:PutUserPolicy","Resource":"arn:aws:iam::*:user/${aws:username}"}]}"#],
    );
    user(&mut a, "ops-admin", &[ADMIN]);
    user(&mut a, "reader", &[]);
    let ec2_trust = r#"{"Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}"#;
    role(&mut a, "builder", ec2_trust, &[ADMIN]);
    a.roles
        .get_mut("builder")
        .expect("builder")
        .instance_profile = true;
    role(&mut a, "no-profile", ec2_trust, &[ADMIN]);
    let reach = escalate::reach(
        &a,
        &Subject {
            who: dev(),
            ctx: key(),
        },
    );
    let find = |m: &str| {
        reach
            .paths
            .iter()
            .find(|p| p.method.starts_with(m))
            .unwrap_or_else(|| panic!("no path {m}: {reach:?}"))
    };
    let keys = find("CreateAccessKey on another user");
    assert_eq!(keys.word, Word::Allowed);
    assert_eq!(keys.targets[0].name, "user ops-admin");
    assert!(keys.targets[0].admin);
    assert_eq!(keys.targets.len(), 2);
    let pass = find("PassRole to EC2");
    let names: Vec<&str> = pass.targets.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, vec!["role builder"]);
    assert!(find("PutUserPolicy on itself").targets[0].admin);
    assert!(
        !reach
            .paths
            .iter()
            .any(|p| p.method.starts_with("AttachUserPolicy"))
    );
    assert!(
        !reach
            .paths
            .iter()
            .any(|p| p.method.starts_with("PassRole to Lambda"))
    );
    // Administrators' paths come first.
    assert!(reach.paths[0].targets.iter().any(|t| t.admin));
}
