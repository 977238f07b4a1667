//! Screens of the Resources tab, rendered into a `TestBackend` from a state built the way the
//! runtime builds it: CloudTrail events of the leaked key go into the timeline, a sweep
//! arrives region by region, parts of suspicious principals arrive, keys are pressed. The
//! snapshots hold text only; styles are checked cell by cell further down.

use crate::fixture;
use crate::screen;
use screen::{draw, find, row_text, screen_text};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use fixture::*;
use keyspill_core::app::plan::Plan;
use keyspill_core::app::state::{Dialog, State, Tab};
use keyspill_core::app::{Effect, Msg, update};
use keyspill_core::domain::{Failure, Timestamp};
use keyspill_core::resources::attribute::Verdict;
use keyspill_core::resources::plan::{StepState, ready};
use keyspill_core::resources::{
    Action, CellState, GLOBAL, Kind, Parts, RegionSweep, Resource, ResourceRef, RoleParts, Sharing,
    UserParts,
};
use keyspill_core::timeline::Origin;
use keyspill_core::timeline::parse::parse_record;
use keyspill_core::ui::Theme;
use keyspill_core::ui::theme::ThemeName;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};
use serde_json::{Value, json};
use time::Duration;
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;

// ---------------------------------------------------------------------------------------------
// The account: what the leaked key did, and what a sweep finds
// ---------------------------------------------------------------------------------------------

const ACCOUNT: &str = "123456789012";
const NEW_REGION: &str = "ap-south-1";
const BACKDOOR_KEY: &str = "AKIA2BACKDOORUSERK01";
const MINER: &str = "i-0f3a9c2e7b1d4a6e8";
const ASG_1: &str = "i-0a11b22c33d44e55f";
const ASG_2: &str = "i-0a66b77c88d99e00f";
const OPEN_SG: &str = "sg-0c4f1e2a9b7d3e5f1";
const WEB_SG: &str = "sg-07e1d2c3b4a596870";
const TEMPLATE: &str = "lt-0e7d6c5b4a3928170";
const PUBLIC_AMI: &str = "ami-0b5e4d3c2b1a09f87";
const PROD: &str = "i-0d1e2f3a4b5c6d7e8";

fn at(h: u8, m: u8, s: u8) -> Timestamp {
    datetime!(2026-11-22 00:00 UTC)
        .replace_hour(h)
        .and_then(|t| t.replace_minute(m))
        .and_then(|t| t.replace_second(s))
        .expect("a valid time of day")
}

fn iam_arn(path: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:{path}")
}

/// One CloudTrail record of a write call made with the leaked key.
fn record(
    n: usize,
    time: Timestamp,
    service: &str,
    region: &str,
    name: &str,
    request: Value,
    response: Value,
) -> Value {
    json!({
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDA2CIDEPLOYUSER001",
            "arn": iam_arn("user/ci/ci-deploy"),
            "accountId": ACCOUNT,
            "accessKeyId": K_LEAKED,
            "userName": "ci-deploy"
        },
        "eventTime": time.format(&Rfc3339).expect("RFC 3339"),
        "eventSource": format!("{service}.amazonaws.com"),
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "185.220.101.47",
        "userAgent": "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-kali3-amd64",
        "requestParameters": request,
        "responseElements": response,
        "eventID": format!("5e0c1e0b-0000-4000-8000-{n:012}"),
        "readOnly": false,
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCOUNT
    })
}

/// What the leaked key did after the leak: an IAM backdoor, a miner fleet in a region the
/// account never used, an AMI of production made public, an existing group opened up.
fn attacker_events() -> Vec<keyspill_core::timeline::Event> {
    let policy_arn = iam_arn("policy/ops-maintenance");
    let calls = vec![
        (
            at(9, 42, 10),
            "iam",
            "us-east-1",
            "CreateUser",
            json!({"userName": "backdoor"}),
            json!({"user": {"userName": "backdoor", "arn": iam_arn("user/backdoor")}}),
        ),
        (
            at(9, 42, 31),
            "iam",
            "us-east-1",
            "CreateLoginProfile",
            json!({"userName": "backdoor", "passwordResetRequired": false}),
            Value::Null,
        ),
        (
            at(9, 42, 55),
            "iam",
            "us-east-1",
            "CreateAccessKey",
            json!({"userName": "backdoor"}),
            json!({"accessKey": {"accessKeyId": BACKDOOR_KEY, "userName": "backdoor"}}),
        ),
        (
            at(9, 43, 20),
            "iam",
            "us-east-1",
            "AttachUserPolicy",
            json!({"userName": "backdoor", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
            Value::Null,
        ),
        (
            at(9, 44, 2),
            "iam",
            "us-east-1",
            "CreatePolicy",
            json!({"policyName": "ops-maintenance"}),
            json!({"policy": {"arn": policy_arn, "policyName": "ops-maintenance"}}),
        ),
        (
            at(9, 45, 40),
            "iam",
            "us-east-1",
            "CreateRole",
            json!({"roleName": "ec2-maintenance"}),
            json!({"role": {"roleName": "ec2-maintenance", "arn": iam_arn("role/ec2-maintenance")}}),
        ),
        (
            at(9, 46, 0),
            "iam",
            "us-east-1",
            "AttachRolePolicy",
            json!({"roleName": "ec2-maintenance", "policyArn": policy_arn}),
            Value::Null,
        ),
        (
            at(10, 5, 12),
            "ec2",
            NEW_REGION,
            "CreateKeyPair",
            json!({"keyName": "miner-key"}),
            json!({"keyName": "miner-key", "keyPairId": "key-0a1b2c3d4e5f60718"}),
        ),
        (
            at(10, 5, 40),
            "ec2",
            NEW_REGION,
            "CreateSecurityGroup",
            json!({"groupName": "open-all", "groupDescription": "ssh"}),
            json!({"_return": true, "groupId": OPEN_SG}),
        ),
        (
            at(10, 6, 2),
            "ec2",
            NEW_REGION,
            "AuthorizeSecurityGroupIngress",
            json!({"groupId": OPEN_SG, "ipPermissions": {"items": [{"ipProtocol": "-1"}]}}),
            json!({"_return": true}),
        ),
        (
            at(10, 7, 30),
            "ec2",
            NEW_REGION,
            "CreateLaunchTemplate",
            json!({"CreateLaunchTemplateRequest": {"LaunchTemplateName": "xmr-template"}}),
            json!({"CreateLaunchTemplateResponse": {"launchTemplate": {
                "launchTemplateId": TEMPLATE, "launchTemplateName": "xmr-template"}}}),
        ),
        (
            at(10, 9, 11),
            "autoscaling",
            NEW_REGION,
            "CreateAutoScalingGroup",
            json!({"autoScalingGroupName": "xmr-pool", "minSize": 2, "maxSize": 20,
                "launchTemplate": {"launchTemplateId": TEMPLATE}}),
            Value::Null,
        ),
        (
            at(10, 12, 45),
            "ec2",
            NEW_REGION,
            "RunInstances",
            json!({"instanceType": "c5.24xlarge", "keyName": "miner-key",
                "disableApiTermination": true,
                "groupSet": {"items": [{"groupId": OPEN_SG}]}}),
            json!({"instancesSet": {"items": [{"instanceId": MINER}]}}),
        ),
        (
            at(11, 2, 0),
            "ec2",
            "us-east-1",
            "CreateImage",
            json!({"instanceId": PROD, "name": "golden-backup", "noReboot": true}),
            json!({"imageId": PUBLIC_AMI}),
        ),
        (
            at(11, 3, 30),
            "ec2",
            "us-east-1",
            "ModifyImageAttribute",
            json!({"imageId": PUBLIC_AMI,
                "launchPermission": {"add": {"items": [{"group": "all"}]}}}),
            json!({"_return": true}),
        ),
        (
            at(11, 20, 0),
            "ec2",
            "eu-west-1",
            "AuthorizeSecurityGroupIngress",
            json!({"groupId": WEB_SG, "ipPermissions": {"items": [{"fromPort": 22}]}}),
            json!({"_return": true}),
        ),
    ];
    let origin = Origin::File {
        path: "detonation.json".into(),
    };
    calls
        .into_iter()
        .enumerate()
        .map(|(n, (t, service, region, name, req, resp))| {
            let v = record(n + 1, t, service, region, name, req, resp);
            parse_record(&v, &origin).expect("a valid record")
        })
        .collect()
}

fn r(kind: Kind, id: &str) -> ResourceRef {
    let region = if kind.is_global() { GLOBAL } else { NEW_REGION };
    ResourceRef {
        kind,
        region: region.into(),
        id: id.into(),
        account: None,
    }
}

fn res(
    kind: Kind,
    region: &str,
    id: &str,
    name: &str,
    created: Timestamp,
    state: &str,
) -> Resource {
    let mut x = Resource::new(kind, region, id);
    x.name = name.into();
    x.created = Some(created);
    x.state = state.into();
    x
}

fn ap_south() -> Vec<Resource> {
    let mut asg = res(
        Kind::AutoScalingGroup,
        NEW_REGION,
        "xmr-pool",
        "",
        at(10, 9, 11),
        "InService",
    );
    asg.details = vec![("desired".into(), "2 (max 20)".into())];
    asg.related = vec![r(Kind::LaunchTemplate, TEMPLATE)];
    let template = res(
        Kind::LaunchTemplate,
        NEW_REGION,
        TEMPLATE,
        "xmr-template",
        at(10, 7, 30),
        "",
    );
    let key_pair = res(
        Kind::KeyPair,
        NEW_REGION,
        "miner-key",
        "",
        at(10, 5, 12),
        "",
    );
    let sg = res(
        Kind::SecurityGroup,
        NEW_REGION,
        OPEN_SG,
        "open-all",
        at(10, 5, 40),
        "",
    );
    let mut miner = res(
        Kind::Instance,
        NEW_REGION,
        MINER,
        "xmr-worker",
        at(10, 12, 45),
        "running",
    );
    miner.protected = true;
    miner.tags = vec![("Name".into(), "xmr-worker".into())];
    miner.details = vec![
        ("type".into(), "c5.24xlarge".into()),
        ("public IP".into(), "13.233.41.7".into()),
    ];
    miner.related = vec![
        r(Kind::SecurityGroup, OPEN_SG),
        r(Kind::KeyPair, "miner-key"),
    ];
    let pooled = |id: &str, s: u8| {
        let mut i = res(Kind::Instance, NEW_REGION, id, "", at(10, 9, s), "running");
        i.related = vec![
            r(Kind::AutoScalingGroup, "xmr-pool"),
            r(Kind::LaunchTemplate, TEMPLATE),
            r(Kind::SecurityGroup, OPEN_SG),
        ];
        i.details = vec![("type".into(), "c5.24xlarge".into())];
        i
    };
    vec![
        asg,
        template,
        key_pair,
        sg,
        miner,
        pooled(ASG_1, 40),
        pooled(ASG_2, 41),
    ]
}

fn us_east() -> Vec<Resource> {
    let old = datetime!(2025-04-02 08:15 UTC);
    let mut ami = res(
        Kind::Image,
        "us-east-1",
        PUBLIC_AMI,
        "golden-backup",
        at(11, 2, 0),
        "available",
    );
    ami.sharing = Sharing::Public { accounts: vec![] };
    ami.related = vec![ResourceRef {
        kind: Kind::Instance,
        region: "us-east-1".into(),
        id: PROD.into(),
        account: None,
    }];
    let mut snap = res(
        Kind::Snapshot,
        "us-east-1",
        "snap-04c2a1b0e9f8d7c6b",
        "db-nightly",
        datetime!(2024-10-01 02:00 UTC),
        "completed",
    );
    snap.sharing = Sharing::Accounts(vec!["210987654321".into()]);
    vec![
        res(
            Kind::Instance,
            "us-east-1",
            PROD,
            "web-prod-1",
            old,
            "running",
        ),
        res(
            Kind::Instance,
            "us-east-1",
            "i-0aa1bb2cc3dd4ee5f",
            "web-prod-2",
            old,
            "running",
        ),
        // Made after the leak; no event of the leaked key names it.
        res(
            Kind::Function,
            "us-east-1",
            "update-check",
            "",
            at(12, 31, 7),
            "Active",
        ),
        res(
            Kind::Function,
            "us-east-1",
            "billing-report",
            "",
            datetime!(2025-01-20 10:00 UTC),
            "Active",
        ),
        res(
            Kind::SecurityGroup,
            "us-east-1",
            "sg-0123456789abcdef0",
            "default",
            datetime!(2023-05-01 00:00 UTC),
            "",
        ),
        res(
            Kind::KeyPair,
            "us-east-1",
            "ops-2024",
            "",
            datetime!(2024-01-09 12:00 UTC),
            "",
        ),
        snap,
        ami,
    ]
}

fn eu_west() -> Vec<Resource> {
    let mut web = res(
        Kind::SecurityGroup,
        "eu-west-1",
        WEB_SG,
        "web",
        datetime!(2024-03-04 10:00 UTC),
        "",
    );
    web.details = vec![("vpc".into(), "vpc-0e1f2a3b".into())];
    vec![
        web,
        res(
            Kind::Instance,
            "eu-west-1",
            "i-0e7c1f9a2b3c4d5e6",
            "etl-runner",
            datetime!(2025-09-12 07:30 UTC),
            "stopped",
        ),
    ]
}

fn iam() -> Vec<Resource> {
    let old = |y: i32| {
        datetime!(2024-06-11 08:29 UTC)
            .replace_year(y)
            .expect("year")
    };
    let user = |name: &str, path: &str, created: Timestamp| {
        let mut u = res(Kind::User, GLOBAL, name, "", created, "");
        u.arn = Some(iam_arn(&format!("user/{path}{name}")));
        u
    };
    let mut role = res(Kind::Role, GLOBAL, "ec2-maintenance", "", at(9, 45, 40), "");
    role.arn = Some(iam_arn("role/ec2-maintenance"));
    role.details = vec![("trusts".into(), "ec2.amazonaws.com".into())];
    let mut org = res(
        Kind::Role,
        GLOBAL,
        "OrganizationAccountAccessRole",
        "",
        old(2023),
        "",
    );
    org.arn = Some(iam_arn("role/OrganizationAccountAccessRole"));
    let policy_arn = iam_arn("policy/ops-maintenance");
    let mut policy = res(
        Kind::Policy,
        GLOBAL,
        &policy_arn,
        "ops-maintenance",
        at(9, 44, 2),
        "",
    );
    policy.arn = Some(policy_arn.clone());
    vec![
        user("alice", "", old(2024)),
        user("backdoor", "", at(9, 42, 10)),
        user("ci-deploy", "ci/", datetime!(2025-03-10 09:59 UTC)),
        user("reporting", "svc/", datetime!(2026-01-15 07:44 UTC)),
        user("responder", "ops/", datetime!(2026-10-01 08:59 UTC)),
        role,
        org,
        policy,
    ]
}

fn backdoor_parts() -> Parts {
    Parts::User(UserParts {
        login_profile: true,
        access_keys: vec![BACKDOOR_KEY.into()],
        mfa_devices: vec![iam_arn("mfa/backdoor")],
        inline_policies: vec!["keepalive".into()],
        attached_policies: vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()],
        groups: vec!["admins".into()],
        unread: vec!["signing certificates: AccessDenied".into()],
        ..UserParts::default()
    })
}

fn role_parts() -> Parts {
    Parts::Role(RoleParts {
        attached_policies: vec![iam_arn("policy/ops-maintenance")],
        instance_profiles: vec!["ec2-maintenance-profile".into()],
        ..RoleParts::default()
    })
}

/// What each kind answered in a region: how many, or why none could be read.
fn cells(region: &str, resources: &[Resource]) -> Vec<(&'static str, CellState)> {
    let kinds: &[Kind] = if region == GLOBAL {
        &[Kind::User, Kind::Role, Kind::Policy, Kind::OidcProvider]
    } else {
        &[
            Kind::Instance,
            Kind::AutoScalingGroup,
            Kind::LaunchTemplate,
            Kind::Function,
            Kind::Lightsail,
            Kind::KeyPair,
            Kind::SecurityGroup,
            Kind::Snapshot,
            Kind::Image,
        ]
    };
    kinds
        .iter()
        .map(|&k| {
            let n = resources.iter().filter(|r| r.kind == k).count();
            let state = match (region, k) {
                ("eu-west-3", Kind::Function) => CellState::Failed(Failure::other(
                    "AccessDenied: not authorized to perform lambda:ListFunctions",
                )),
                ("sa-east-1" | "ap-northeast-3", Kind::Lightsail) => {
                    CellState::Unavailable("Lightsail is not offered in this region".into())
                }
                _ => CellState::Ok(n),
            };
            (k.label(), state)
        })
        .collect()
}

fn sweep(region: &str, resources: Vec<Resource>) -> RegionSweep {
    RegionSweep {
        cells: cells(region, &resources),
        region: region.into(),
        resources,
    }
}

/// Every region's inventory, in the order the sweep delivers them.
fn inventory() -> Vec<RegionSweep> {
    let mut out = vec![
        sweep(NEW_REGION, ap_south()),
        sweep(GLOBAL, iam()),
        sweep("us-east-1", us_east()),
        sweep("eu-west-1", eu_west()),
    ];
    for region in regions() {
        if !out.iter().any(|s| s.region == region) {
            out.push(sweep(&region, vec![]));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// States, reached through `update`
// ---------------------------------------------------------------------------------------------

fn key(code: KeyCode) -> Msg {
    let modifiers = match code {
        KeyCode::Char(c) if c.is_ascii_uppercase() => KeyModifiers::SHIFT,
        _ => KeyModifiers::NONE,
    };
    Msg::Key(KeyEvent::new(code, modifiers))
}

fn press(state: &mut State, c: char) -> Vec<Effect> {
    update(state, key(KeyCode::Char(c)))
}

fn press_code(state: &mut State, code: KeyCode) -> Vec<Effect> {
    update(state, key(code))
}

const SWEEP_STARTED: Timestamp = datetime!(2026-11-22 14:02:31 UTC);
const SWEEP_DONE: Timestamp = datetime!(2026-11-22 14:02:57 UTC);

/// Identity known, the leaked key's events in the timeline, on the Resources tab, nothing
/// swept yet.
fn before_sweep() -> State {
    let mut s = base(false);
    update(
        &mut s,
        Msg::Identity {
            seq: 1,
            at: NOW - Duration::seconds(40),
            result: Ok(identity()),
        },
    );
    update(
        &mut s,
        Msg::TimelineEvents {
            at: NOW - Duration::seconds(30),
            events: attacker_events(),
        },
    );
    press(&mut s, '3');
    assert_eq!(s.tab, Tab::Resources);
    s
}

/// A sweep under way: the first `answered` regions have answered.
fn mid_sweep(answered: usize) -> State {
    let mut s = before_sweep();
    update(
        &mut s,
        Msg::ResourcesStarted {
            seq: 1,
            at: SWEEP_STARTED,
            regions: regions(),
        },
    );
    for (i, sw) in inventory().into_iter().take(answered).enumerate() {
        let region = sw.region.clone();
        let effects = update(
            &mut s,
            Msg::ResourcesRegion {
                seq: 1,
                at: SWEEP_STARTED + Duration::seconds(2 * i as i64 + 2),
                sweep: sw,
            },
        );
        deliver_parts(&mut s, effects, &region);
    }
    s
}

/// Answers a request for principals' parts, as the runtime would.
fn deliver_parts(s: &mut State, effects: Vec<Effect>, region: &str) {
    for e in effects {
        let Effect::FetchParts(targets) = e else {
            panic!("unexpected effect after {region}: {e:?}");
        };
        for target in targets {
            let parts = match target.id.as_str() {
                "backdoor" => backdoor_parts(),
                "ec2-maintenance" => role_parts(),
                other => panic!("parts asked for {other}"),
            };
            update(s, Msg::ResourceParts { target, parts });
        }
    }
}

/// The whole sweep in, 12 s before now.
fn swept() -> State {
    let mut s = mid_sweep(usize::MAX);
    update(
        &mut s,
        Msg::ResourcesDone {
            seq: 1,
            at: SWEEP_DONE,
        },
    );
    s
}

/// Moves the cursor onto the resource with id `id`.
fn cursor_to(s: &mut State, id: &str) {
    press(s, 'g');
    for _ in 0..s.resources.rows.len() {
        if s.resources.current().is_some_and(|(r, _)| r.id == id) {
            return;
        }
        press(s, 'j');
    }
    panic!("{id} is not in the table");
}

fn backdoor_detail() -> State {
    let mut s = swept();
    cursor_to(&mut s, "backdoor");
    assert!(press_code(&mut s, KeyCode::Enter).is_empty());
    assert_eq!(s.resources.detail, Some(0));
    s
}

/// `a` (everything the leaked key made), then `t`: the plan to confirm.
fn plan_dialog() -> State {
    let mut s = swept();
    press(&mut s, 'a');
    assert!(press(&mut s, 't').is_empty());
    assert!(
        matches!(&s.dialog, Some(Dialog::Confirm(c)) if matches!(c.plan, Plan::RemoveResources(_))),
        "{:?}",
        s.dialog
    );
    s
}

fn plan_dialog_scrolled() -> State {
    let mut s = plan_dialog();
    for _ in 0..3 {
        press_code(&mut s, KeyCode::Down);
    }
    press_code(&mut s, KeyCode::PageDown);
    // Letters go into the field, even j and k.
    for c in "9k".chars() {
        press(&mut s, c);
    }
    press_code(&mut s, KeyCode::Backspace);
    s
}

/// The plan confirmed and running: the first steps done, turning termination protection off
/// denied, what needs it not attempted, one step running.
fn removal_running() -> State {
    let mut s = plan_dialog();
    let expected = match &s.dialog {
        Some(Dialog::Confirm(c)) => c.stages[0].expected.clone(),
        _ => unreachable!(),
    };
    for c in expected.chars() {
        press(&mut s, c);
    }
    let effects = press_code(&mut s, KeyCode::Enter);
    let plan = match effects.as_slice() {
        [Effect::Execute(Plan::RemoveResources(p))] => p.clone(),
        other => panic!("expected the plan to run, got {other:?}"),
    };
    update(
        &mut s,
        Msg::ActionStarted {
            id: "a-0001".into(),
            label: plan.label(),
            at: NOW - Duration::seconds(20),
        },
    );
    // The executor's rule, applied up to the image: skip what a failure blocks.
    let mut states = vec![StepState::Pending; plan.steps.len()];
    for (i, step) in plan.steps.iter().enumerate() {
        let next = if let Err(why) = ready(&plan, &states, i) {
            StepState::Skipped(why)
        } else if step.action == Action::DisableTerminationProtection {
            StepState::Failed(format!(
                "instance {}: AccessDenied: User: {} is not authorized to perform: \
                 ec2:ModifyInstanceAttribute on resource: arn:aws:ec2:{NEW_REGION}:{ACCOUNT}:\
                 instance/{MINER} with an explicit deny in a service control policy",
                step.name,
                iam_arn("user/ops/responder")
            ))
        } else if step.action == Action::UnshareImage {
            StepState::Running
        } else if step.action.keeps() {
            StepState::Done("kept 1 file".into())
        } else {
            StepState::Done(format!("{}; verified gone", step.action.call()))
        };
        let stop = next == StepState::Running;
        states[i] = next.clone();
        update(
            &mut s,
            Msg::RemovalStep {
                index: i,
                state: next,
            },
        );
        if stop {
            break;
        }
    }
    s
}

/// Everything swept, none of it made or touched by the leak.
fn nothing_suspicious() -> State {
    let mut s = base(false);
    update(
        &mut s,
        Msg::Identity {
            seq: 1,
            at: NOW - Duration::seconds(40),
            result: Ok(identity()),
        },
    );
    press(&mut s, '3');
    update(
        &mut s,
        Msg::ResourcesStarted {
            seq: 1,
            at: SWEEP_STARTED,
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
        },
    );
    for sw in [sweep("us-east-1", us_east()), sweep("eu-west-1", eu_west())] {
        let mut sw = sw;
        // Without the attacker's events and with no trace of the AMI's creation after the
        // leak, everything is from before.
        sw.resources
            .retain(|r| r.created.is_some_and(|c| c < SINCE));
        update(
            &mut s,
            Msg::ResourcesRegion {
                seq: 1,
                at: SWEEP_STARTED,
                sweep: sw,
            },
        );
    }
    let mut empty_iam = sweep(GLOBAL, vec![]);
    empty_iam.cells.clear();
    update(
        &mut s,
        Msg::ResourcesRegion {
            seq: 1,
            at: SWEEP_STARTED,
            sweep: empty_iam,
        },
    );
    update(
        &mut s,
        Msg::ResourcesDone {
            seq: 1,
            at: SWEEP_DONE,
        },
    );
    s
}

/// A sweep just started: nothing has answered.
fn sweeping_nothing_yet() -> State {
    let mut s = before_sweep();
    update(
        &mut s,
        Msg::ResourcesStarted {
            seq: 1,
            at: SWEEP_STARTED,
            regions: regions(),
        },
    );
    s
}

// ---------------------------------------------------------------------------------------------
// Drawing and reading the screen
// ---------------------------------------------------------------------------------------------

fn default_theme() -> Theme {
    Theme::new(ThemeName::Default, false)
}

fn screen(state: &State, w: u16, h: u16) -> Terminal<TestBackend> {
    draw(state, &default_theme(), w, h)
}

fn on_screen(buf: &Buffer, needle: &str) -> bool {
    find(buf, needle).is_some()
}

// ---------------------------------------------------------------------------------------------
// The state itself (so a snapshot cannot hide a wrong fixture)
// ---------------------------------------------------------------------------------------------

#[test]
fn the_fixture_attributes_as_an_incident_commander_would() {
    let s = swept();
    let t = &s.resources;
    let verdict = |id: &str| {
        let i = t
            .resources
            .iter()
            .position(|r| r.id == id)
            .unwrap_or_else(|| panic!("{id} swept"));
        t.verdict_of(i)
    };
    assert_eq!(verdict("backdoor"), Verdict::LeakedKey);
    assert_eq!(verdict(MINER), Verdict::LeakedKey);
    assert_eq!(verdict(PUBLIC_AMI), Verdict::LeakedKey);
    assert_eq!(verdict("update-check"), Verdict::AfterLeak);
    // The group's instances are the attacker's too, through the group.
    assert_eq!(verdict(ASG_1), Verdict::LeakedKey);
    let launcher = |id: &str| {
        let i = t.resources.iter().position(|r| r.id == id)?;
        t.attribution.get(i)?.launched_by.clone()
    };
    assert_eq!(launcher(ASG_2).map(|l| l.id), Some("xmr-pool".to_string()));
    assert_eq!(verdict(WEB_SG), Verdict::Touched);
    assert_eq!(verdict(PROD), Verdict::Touched);
    assert_eq!(verdict("alice"), Verdict::Before);
    let strip = keyspill_core::app::resources::region_summaries(&s);
    let new: Vec<&str> = strip
        .iter()
        .filter(|r| r.new_region)
        .map(|r| r.region.as_str())
        .collect();
    assert_eq!(new, [NEW_REGION]);
    // The backdoor's parts were asked for and arrived.
    assert!(
        t.resources
            .iter()
            .any(|r| r.id == "backdoor" && matches!(r.parts, Parts::User(_)))
    );
}

// ---------------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------------

#[test]
fn tab_80x24() {
    let terminal = screen(&swept(), 80, 24);
    insta::assert_snapshot!("resources_80x24", terminal.backend());
}

#[test]
fn tab_160x45() {
    let terminal = screen(&swept(), 160, 45);
    insta::assert_snapshot!("resources_160x45", terminal.backend());
}

#[test]
fn tab_showing_everything_120x40() {
    let mut s = swept();
    press(&mut s, 'v');
    assert!(s.resources.show_all);
    s.flash = None;
    let terminal = screen(&s, 120, 40);
    insta::assert_snapshot!("resources_all_120x40", terminal.backend());
}

#[test]
fn region_strip_mid_sweep_120x30() {
    let terminal = screen(&mid_sweep(3), 120, 30);
    insta::assert_snapshot!("resources_mid_sweep_120x30", terminal.backend());
}

#[test]
fn region_strip_mid_sweep_80x24() {
    let terminal = screen(&mid_sweep(3), 80, 24);
    insta::assert_snapshot!("resources_mid_sweep_80x24", terminal.backend());
}

#[test]
fn backdoor_detail_120x40() {
    let terminal = screen(&backdoor_detail(), 120, 40);
    insta::assert_snapshot!("resources_detail_backdoor_120x40", terminal.backend());
}

#[test]
fn backdoor_detail_side_by_side_160x45() {
    let terminal = screen(&backdoor_detail(), 160, 45);
    insta::assert_snapshot!("resources_detail_backdoor_160x45", terminal.backend());
}

#[test]
fn backdoor_detail_scrolled_80x24() {
    let mut s = backdoor_detail();
    for _ in 0..6 {
        press(&mut s, 'j');
    }
    assert_eq!(s.resources.detail, Some(6));
    let terminal = screen(&s, 80, 24);
    insta::assert_snapshot!(
        "resources_detail_backdoor_scrolled_80x24",
        terminal.backend()
    );
}

#[test]
fn removal_mid_run_120x40() {
    let mut s = removal_running();
    s.flash = None;
    let terminal = screen(&s, 120, 40);
    insta::assert_snapshot!("resources_removal_running_120x40", terminal.backend());
}

#[test]
fn removal_mid_run_80x24() {
    let mut s = removal_running();
    s.flash = None;
    let terminal = screen(&s, 80, 24);
    insta::assert_snapshot!("resources_removal_running_80x24", terminal.backend());
}

#[test]
fn plan_dialog_80x24() {
    let terminal = screen(&plan_dialog(), 80, 24);
    insta::assert_snapshot!("resources_plan_80x24", terminal.backend());
}

#[test]
fn plan_dialog_scrolled_80x24() {
    let terminal = screen(&plan_dialog_scrolled(), 80, 24);
    insta::assert_snapshot!("resources_plan_scrolled_80x24", terminal.backend());
}

#[test]
fn plan_dialog_160x45() {
    let terminal = screen(&plan_dialog(), 160, 45);
    insta::assert_snapshot!("resources_plan_160x45", terminal.backend());
}

#[test]
fn empty_before_any_sweep_80x24() {
    let terminal = screen(&before_sweep(), 80, 24);
    insta::assert_snapshot!("resources_empty_never_swept_80x24", terminal.backend());
}

#[test]
fn empty_while_the_first_regions_are_awaited_80x24() {
    let terminal = screen(&sweeping_nothing_yet(), 80, 24);
    insta::assert_snapshot!("resources_empty_sweeping_80x24", terminal.backend());
}

#[test]
fn empty_nothing_suspicious_80x24() {
    let terminal = screen(&nothing_suspicious(), 80, 24);
    insta::assert_snapshot!(
        "resources_empty_nothing_suspicious_80x24",
        terminal.backend()
    );
}

// ---------------------------------------------------------------------------------------------
// Behaviour, independent of the reviewed snapshots
// ---------------------------------------------------------------------------------------------

#[test]
fn the_new_region_is_marked_new_in_the_strip_in_the_danger_style() {
    for (w, h) in [(80, 24), (160, 45)] {
        let terminal = screen(&swept(), w, h);
        let buf = terminal.backend().buffer();
        let needle = format!("NEW {NEW_REGION}");
        let (x, y) = find(buf, &needle).unwrap_or_else(|| {
            panic!("{needle} at {w}x{h}:\n{}", screen_text(buf));
        });
        // The strip is above the table's header.
        let (_, header) = find(buf, "VERDICT").expect("table header");
        assert!(y < header, "the strip is at the top");
        for i in 0..needle.chars().count() as u16 {
            assert_eq!(
                buf[(x + i, y)].fg,
                crate::screen::colour(|t| t.danger),
                "cell {i} of {needle}"
            );
        }
        // No other region is called new.
        let count = screen_text(buf).matches("NEW ").count();
        assert_eq!(count, 1, "{}", screen_text(buf));
    }
}

#[test]
fn the_title_counts_verdicts_and_says_how_fresh() {
    let s = swept();
    let counts = s.resources.counts();
    let n = |v: Verdict| counts.get(&v).copied().unwrap_or(0);
    assert!(n(Verdict::LeakedKey) >= 8 && n(Verdict::Before) >= 11);
    let terminal = screen(&s, 160, 45);
    let top = row_text(terminal.backend().buffer(), 2);
    let expected = format!(
        "LEAKED KEY {} · AFTER LEAK {} · TOUCHED {} · BEFORE {}",
        n(Verdict::LeakedKey),
        n(Verdict::AfterLeak),
        n(Verdict::Touched),
        n(Verdict::Before)
    );
    for needle in [
        expected.as_str(),
        "suspicious only (v: all)",
        "updated 12 s ago",
    ] {
        assert!(top.contains(needle), "{needle} in {top:?}");
    }
    // Mid-sweep: how far it got, with a spinner.
    let terminal = screen(&mid_sweep(3), 160, 45);
    let top = row_text(terminal.backend().buffer(), 2);
    assert!(top.contains("sweeping 3/18 regions ⠋"), "{top:?}");
    // At 80 columns the counts still fit.
    let terminal = screen(&s, 80, 24);
    let top = row_text(terminal.backend().buffer(), 2);
    let expected = format!(
        "LEAKED {} AFTER {} TOUCHED {} BEFORE {}",
        n(Verdict::LeakedKey),
        n(Verdict::AfterLeak),
        n(Verdict::Touched),
        n(Verdict::Before)
    );
    for needle in [expected.as_str(), "12 s ago"] {
        assert!(top.contains(needle), "{needle} in {top:?}");
    }
}

#[test]
fn regions_still_sweeping_show_a_spinner_and_failures_a_marker() {
    let s = mid_sweep(3);
    let terminal = screen(&s, 160, 45);
    let buf = terminal.backend().buffer();
    assert!(on_screen(buf, "eu-west-1 0/0 ⠋"), "{}", screen_text(buf));
    let s = swept();
    let terminal = screen(&s, 160, 45);
    let buf = terminal.backend().buffer();
    assert!(on_screen(buf, "eu-west-3 0/0 ⚠1"), "{}", screen_text(buf));
    assert!(
        on_screen(buf, "lambda: AccessDenied"),
        "the failure in words:\n{}",
        screen_text(buf)
    );
    assert!(
        on_screen(buf, "IAM 3/8"),
        "global is IAM:\n{}",
        screen_text(buf)
    );
}

#[test]
fn the_strip_is_capped_on_a_small_screen_and_says_what_it_left_out() {
    let terminal = screen(&swept(), 80, 24);
    let buf = terminal.backend().buffer();
    let text = screen_text(buf);
    assert!(text.contains("more"), "{text}");
    let (_, header) = find(buf, "VERDICT").expect("table header");
    // Header, tabs, border, at most four strip lines.
    assert!(header <= 3 + 4, "the strip took too much:\n{text}");
}

#[test]
fn the_cursor_stays_visible_at_the_bottom_of_a_long_table() {
    let mut s = swept();
    press(&mut s, 'v');
    press(&mut s, 'G');
    let last = s.resources.rows.len() - 1;
    assert_eq!(s.resources.cursor_row(), Some(last));
    let id = s
        .resources
        .current()
        .map(|(r, _)| r.display_name().to_string())
        .expect("cursor");
    for (w, h) in [(80, 24), (120, 30), (160, 45)] {
        let terminal = screen(&s, w, h);
        let buf = terminal.backend().buffer();
        let (_, y) = find(buf, "▶ ").unwrap_or_else(|| {
            panic!("no cursor at {w}x{h}:\n{}", screen_text(buf));
        });
        assert!(
            row_text(buf, y).contains(&id),
            "cursor row at {w}x{h} is not {id}:\n{}",
            screen_text(buf)
        );
        assert!(buf[(3, y)].modifier.contains(Modifier::REVERSED));
    }
}

#[test]
fn protected_instances_and_public_images_are_marked_in_the_table() {
    let terminal = screen(&swept(), 160, 45);
    let buf = terminal.backend().buffer();
    let (_, y) = find(buf, MINER).expect("the miner's row");
    assert!(row_text(buf, y).contains("PROTECTED xmr-worker"));
    let (x, y) = find(buf, "PUBLIC golden-backup").expect("the public AMI's row");
    assert_eq!(buf[(x, y)].fg, crate::screen::colour(|t| t.danger));
    // Narrow, the marks stay (shorter).
    let terminal = screen(&swept(), 80, 24);
    let buf = terminal.backend().buffer();
    assert!(on_screen(buf, "PROT xmr-worker"), "{}", screen_text(buf));
}

#[test]
fn verdict_tags_have_their_styles() {
    let mut s = swept();
    press(&mut s, 'v');
    // Off the first row, so the cursor's reverse does not mix in.
    press(&mut s, 'G');
    let terminal = screen(&s, 160, 45);
    let buf = terminal.backend().buffer();
    let cell = |label: &str| {
        // The first table row carrying the label, skipping the title line.
        (4..buf.area.height)
            .find_map(|y| {
                let row = row_text(buf, y);
                row.find(&format!(" {label} "))
                    .filter(|_| row.starts_with("│▶") || row.starts_with("│ "))
                    .map(|bx| {
                        let x = row[..bx + 1].chars().count() as u16;
                        buf[(x, y)].clone()
                    })
            })
            .unwrap_or_else(|| panic!("{label} in the table"))
    };
    let lk = cell("LEAKED KEY");
    assert_eq!(lk.fg, crate::screen::colour(|t| t.danger));
    assert!(lk.modifier.contains(Modifier::BOLD));
    assert_eq!(cell("AFTER LEAK").fg, crate::screen::colour(|t| t.warn));
    assert_eq!(cell("TOUCHED").fg, crate::screen::colour(|t| t.warn));
    assert_eq!(cell("BEFORE").fg, crate::screen::colour(|t| t.dim));
}

#[test]
fn the_detail_shows_the_backdoor_parts_in_deletion_order_and_its_events() {
    let terminal = screen(&backdoor_detail(), 160, 45);
    let buf = terminal.backend().buffer();
    // Side by side: only the detail's part of the screen.
    let (x0, y0) = find(buf, "iam-user backdoor · j/k scroll").expect("the detail's title");
    let text = (y0..buf.area.height)
        .map(|y| {
            row_text(buf, y)
                .chars()
                .skip(usize::from(x0) - 1)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n");
    let order = [
        "1. console password",
        "2. access key AKIA2BACKDOORUSERK01",
        "3. MFA device",
        "4. inline policy keepalive",
        "5. attached policy arn:aws:iam::aws:policy/AdministratorAccess",
        "6. member of group admins",
        "could not list: signing certificates: AccessDenied",
    ];
    let mut last = 0;
    for needle in order {
        let at = text
            .find(needle)
            .unwrap_or_else(|| panic!("{needle}:\n{text}"));
        assert!(at > last, "{needle} out of order");
        last = at;
    }
    // Newest event first; the creating one marked.
    let attach = text.find("AttachUserPolicy").expect("AttachUserPolicy");
    let create = text.find("09:42:10Z  CreateUser").expect("CreateUser");
    assert!(attach < create, "newest first:\n{text}");
    let line = text
        .lines()
        .find(|l| l.contains("09:42:10Z  CreateUser"))
        .expect("the CreateUser line");
    assert!(line.contains("creates"), "{line}");
    assert!(
        text.lines()
            .filter(|l| l.contains("creates"))
            .all(|l| l.contains("CreateUser")),
        "only the creating call is marked:\n{text}"
    );
    assert!(
        text.contains("made by CreateUser at 2026-11-22 09:42Z with key AKIA…K7Q4"),
        "{text}"
    );
}

#[test]
fn the_detail_never_scrolls_past_its_end() {
    let mut s = backdoor_detail();
    s.resources.detail = Some(u16::MAX);
    let terminal = screen(&s, 120, 40);
    let text = screen_text(terminal.backend().buffer());
    // The last line (the oldest event) is still drawn.
    assert!(text.contains("CreateUser"), "{text}");
}

#[test]
fn the_removal_pane_counts_steps_and_keeps_the_running_one_in_view() {
    let s = removal_running();
    let removal = s.resources.removal.as_ref().expect("removal pane");
    let running = removal
        .states
        .iter()
        .position(|st| *st == StepState::Running)
        .expect("a running step");
    let failed = removal
        .states
        .iter()
        .filter(|st| matches!(st, StepState::Failed(_)))
        .count();
    let skipped = removal
        .states
        .iter()
        .filter(|st| matches!(st, StepState::Skipped(_)))
        .count();
    assert_eq!(failed, 1);
    assert!(skipped >= 2, "the terminate step and what needs it");
    for (w, h) in [(80, 24), (120, 40), (160, 45)] {
        let terminal = screen(&s, w, h);
        let buf = terminal.backend().buffer();
        let text = screen_text(buf);
        assert!(
            text.contains(&format!("{failed} failed")),
            "{w}x{h}:\n{text}"
        );
        assert!(
            text.contains(&format!("{:>2}. ", running + 1)),
            "{w}x{h}:\n{text}"
        );
        assert!(
            text.contains("running…"),
            "running step at {w}x{h}:\n{text}"
        );
        // The failure stays in sight, pinned when the window follows the running step.
        assert!(text.contains("✗"), "the failure at {w}x{h}:\n{text}");
    }
    // Scrolled far away, the running step is still in view.
    let mut far = removal_running();
    if let Some(r) = far.resources.removal.as_mut() {
        r.scroll = u16::MAX;
    }
    let terminal = screen(&far, 80, 24);
    assert!(
        screen_text(terminal.backend().buffer()).contains("running…"),
        "{}",
        screen_text(terminal.backend().buffer())
    );
}

#[test]
fn a_finished_removal_says_esc_closes() {
    let mut s = removal_running();
    update(
        &mut s,
        Msg::ActionFinished {
            id: "a-0001".into(),
            at: NOW,
            report: keyspill_core::app::msg::ActionReport {
                account: None,
                ok: false,
                summary: "6/20 steps done".into(),
                observed: vec![],
            },
        },
    );
    assert!(s.resources.removal.as_ref().is_some_and(|r| r.finished));
    let terminal = screen(&s, 120, 40);
    let text = screen_text(terminal.backend().buffer());
    assert!(text.contains("finished — Esc closes"), "{text}");
}

#[test]
fn the_long_plan_scrolls_and_keeps_the_prompt_and_field() {
    let plain = screen(&plan_dialog(), 80, 24);
    let buf = plain.backend().buffer();
    let text = screen_text(buf);
    assert!(text.contains("↑/↓ PgUp/PgDn scroll · lines 1–"), "{text}");
    let scrolled = screen(&plan_dialog_scrolled(), 80, 24);
    let stext = screen_text(scrolled.backend().buffer());
    assert!(stext.contains("scroll · lines 14–"), "{stext}");
    // Step 1 scrolled away, later steps came in.
    assert!(text.contains("  1. "), "{text}");
    assert!(!stext.contains("  1. "), "{stext}");
    // Typed text is in the field.
    assert!(stext.contains("> 9▏"), "{stext}");
    // Roomy enough: no scrolling at all.
    let big = screen(&plan_dialog(), 160, 100);
    let btext = screen_text(big.backend().buffer());
    assert!(!btext.contains("PgUp/PgDn scroll"), "{btext}");
    // Whatever the size, the prompt, its expected text and the field are drawn.
    let s = plan_dialog();
    let expected = match &s.dialog {
        Some(Dialog::Confirm(c)) => c.stages[0].expected.clone(),
        _ => unreachable!(),
    };
    for h in 8..=45 {
        for w in [20, 40, 80, 120] {
            let terminal = screen(&s, w, h);
            let text = screen_text(terminal.backend().buffer());
            for needle in [format!("Type  {expected}  to"), "> ▏".to_string()] {
                assert!(text.contains(&needle), "{needle:?} at {w}x{h}:\n{text}");
            }
        }
    }
}

#[test]
fn a_scroll_past_the_end_stops_at_the_last_line() {
    let mut s = plan_dialog();
    if let Some(Dialog::Confirm(c)) = s.dialog.as_mut() {
        c.scroll = u16::MAX;
    }
    let terminal = screen(&s, 80, 24);
    let text = screen_text(terminal.backend().buffer());
    assert!(text.contains("Type the number of resources"), "{text}");
    let (from, to, of) = lines_shown(&text).expect("the scroll hint");
    assert_eq!(to, of, "{text}");
    assert!(from > 1);
}

/// `lines X–Y of N` from the dialog's scroll hint.
fn lines_shown(text: &str) -> Option<(u32, u32, u32)> {
    let rest = text.split("lines ").nth(1)?;
    let (range, rest) = rest.split_once(" of ")?;
    let (a, b) = range.split_once('–')?;
    let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((a.parse().ok()?, b.parse().ok()?, n.parse().ok()?))
}

#[test]
fn empty_states_say_what_to_do() {
    let text = screen_text(screen(&before_sweep(), 80, 24).backend().buffer());
    assert!(text.contains("press r to sweep"), "{text}");
    let text = screen_text(screen(&sweeping_nothing_yet(), 80, 24).backend().buffer());
    assert!(text.contains("sweeping…"), "{text}");
    let s = nothing_suspicious();
    let total = s.resources.resources.len();
    let text = screen_text(screen(&s, 100, 24).backend().buffer());
    assert!(
        text.contains(&format!(
            "Nothing the leak made or touched — v shows all {total} resources"
        )),
        "{text}"
    );
}

#[test]
fn footer_hints_are_the_resources_tab_own() {
    let s = swept();
    let terminal = screen(&s, 120, 30);
    let footer = row_text(terminal.backend().buffer(), 29);
    for needle in ["space select", "t remove", "v all / suspicious"] {
        assert!(footer.contains(needle), "{needle} in {footer:?}");
    }
    assert!(!footer.contains("disable"), "{footer:?}");
    let terminal = screen(&backdoor_detail(), 120, 30);
    let footer = row_text(terminal.backend().buffer(), 29);
    assert!(footer.contains("Esc close"), "{footer:?}");
}

#[test]
fn monochrome_theme_uses_no_colour() {
    let theme = Theme::monochrome();
    for (i, state) in [
        swept(),
        mid_sweep(3),
        backdoor_detail(),
        removal_running(),
        plan_dialog(),
        nothing_suspicious(),
    ]
    .iter()
    .enumerate()
    {
        let terminal = draw(state, &theme, 120, 40);
        for cell in &terminal.backend().buffer().content {
            assert_eq!(
                cell.fg,
                Color::Reset,
                "state {i}: fg on {:?}",
                cell.symbol()
            );
            assert_eq!(
                cell.bg,
                Color::Reset,
                "state {i}: bg on {:?}",
                cell.symbol()
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// No size panics
// ---------------------------------------------------------------------------------------------

fn sizes() -> Vec<(u16, u16)> {
    let mut sizes: Vec<(u16, u16)> = Vec::new();
    for w in (1..=200).step_by(9) {
        for h in (1..=60).step_by(4) {
            sizes.push((w, h));
        }
    }
    sizes.extend([
        (1, 1),
        (20, 6),
        (21, 7),
        (80, 24),
        (84, 12),
        (110, 14),
        (119, 30),
        (120, 30),
        (149, 40),
        (150, 40),
        (160, 45),
        (200, 60),
    ]);
    sizes
}

fn render_every_size(name: &str, state: &State) {
    let theme = default_theme();
    for (w, h) in sizes() {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            screen::draw_unchecked(state, &theme, w, h)
        }));
        let terminal = result.unwrap_or_else(|_| panic!("{name} panicked at {w}x{h}"));
        let buf = terminal.backend().buffer();
        assert_eq!((buf.area.width, buf.area.height), (w, h));
    }
}

macro_rules! every_size {
    ($($test:ident => $state:expr),+ $(,)?) => {
        $(
            #[test]
            fn $test() {
                render_every_size(stringify!($test), &$state);
            }
        )+
    };
}

every_size! {
    sizes_swept => swept(),
    sizes_mid_sweep => mid_sweep(3),
    sizes_detail => backdoor_detail(),
    sizes_removal => removal_running(),
    sizes_plan => plan_dialog(),
    sizes_plan_scrolled => plan_dialog_scrolled(),
    sizes_never_swept => before_sweep(),
    sizes_nothing_suspicious => nothing_suspicious(),
}

#[test]
fn sizes_detail_and_removal_together() {
    let mut s = removal_running();
    cursor_to(&mut s, "backdoor");
    press_code(&mut s, KeyCode::Enter);
    assert!(s.resources.detail.is_some() && s.resources.removal.is_some());
    render_every_size("detail and removal", &s);
}
