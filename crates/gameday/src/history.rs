//! Weeks of ordinary activity before the leak: the developer's own use of the key, CI
//! deploying through the deploy role, people signing in to the console, a nightly backup job,
//! Lambda assuming its role, a monitoring vendor polling. Pure: the same cast and generator
//! give the same records.

use time::{Duration, OffsetDateTime, Time, Weekday};

use super::events::{self, Minted};
use super::record::{self, Actor, Call, Planned};
use super::rng::Rng;

/// A user with the key it signs with (empty for console-only people).
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub name: String,
    pub user_id: String,
    pub key: String,
}

/// A role by name, id and ARN.
#[derive(Debug, Clone)]
pub(crate) struct RoleRef {
    pub name: String,
    pub id: String,
    pub arn: String,
}

/// Everything the history talks about, with the real names and ids moto gave.
#[derive(Debug, Clone)]
pub(crate) struct Cast {
    pub account: String,
    pub home: Vec<String>,
    pub developer: Person,
    /// Users other than the developer that deploy through the deploy role.
    pub ci: Vec<Person>,
    /// People who sign in to the console.
    pub console: Vec<Person>,
    /// Other users with an active key: scripted jobs.
    pub jobs: Vec<Person>,
    pub deploy_role: RoleRef,
    /// A Lambda execution role and the function (region, name) using it.
    pub lambda_roles: Vec<(RoleRef, String, String)>,
    /// A role assumed from another account, and that account.
    pub monitoring: Vec<(RoleRef, String)>,
    /// (region, name, ARN).
    pub functions: Vec<(String, String, String)>,
    /// (region, id).
    pub instances: Vec<(String, String)>,
    pub buckets: Vec<String>,
    pub trail_arn: String,
    /// The first day of history starts at this day's midnight.
    pub from: OffsetDateTime,
    /// Nothing is recorded at or after this time.
    pub until: OffsetDateTime,
}

const DEV_AGENTS: [&str; 2] = [
    "aws-cli/2.15.10 Python/3.11.6 Darwin/23.2.0 exe/x86_64 prompt/off",
    "Boto3/1.34.11 md/Botocore#1.34.11 ua/2.0 os/macos#23.2.0 md/arch#arm64 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.11",
];
const DEV_ADDRESSES: [&str; 2] = ["198.51.100.23", "192.0.2.10"];
const CI_AGENT: &str =
    "aws-cli/2.15.0 Python/3.11.6 Linux/6.2.0-1018-azure exe/x86_64.ubuntu.22 prompt/off";
const CONSOLE_AGENT: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15";
const JOB_AGENT: &str = "Boto3/1.28.57 md/Botocore#1.31.57 ua/2.0 os/linux#5.10.205-195.807.amzn2.x86_64 md/arch#x86_64 lang/python#3.9.18 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.31.57";
const MONITOR_AGENT: &str = "aws-sdk-java/1.12.500 Linux/5.10.199-190.747.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.7+7-LTS java/17.0.7 vendor/Amazon.com_Inc. cfg/retry-mode/standard";

/// A temporary key id, `ASIA` and 16 characters.
pub(crate) fn session_key(rng: &mut Rng) -> String {
    format!("ASIA{}", rng.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16))
}

/// A session token of the usual look (not a real token).
pub(crate) fn session_token(rng: &mut Rng) -> String {
    format!(
        "IQoJb3JpZ2luX2VjE{}",
        rng.chars(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
            96
        )
    )
}

struct Out<'a> {
    account: &'a str,
    until: OffsetDateTime,
    records: Vec<Planned>,
}

impl Out<'_> {
    fn push(&mut self, actor: &Actor, call: Call, rng: &mut Rng) {
        if call.time >= self.until {
            return;
        }
        let region = if call.service == "iam" || call.service == "signin" {
            "us-east-1".to_string()
        } else {
            call.region.clone()
        };
        let record = record::record(self.account, actor, &call, rng);
        self.records.push(Planned {
            region,
            time: call.time,
            record,
        });
    }
}

fn at(day: OffsetDateTime, hour: u64, minute: u64, second: u64) -> OffsetDateTime {
    day + Duration::seconds(i64::try_from(hour * 3600 + minute * 60 + second).unwrap_or(0))
}

fn workday(day: OffsetDateTime) -> bool {
    !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// The ordinary records between `cast.from` and `cast.until`, oldest first.
pub(crate) fn ordinary(cast: &Cast, rng: &mut Rng) -> Vec<Planned> {
    let mut out = Out {
        account: &cast.account,
        until: cast.until,
        records: Vec::new(),
    };
    let first = cast.from.replace_time(Time::MIDNIGHT);
    let days = (cast.until - first).whole_days() + 1;
    let mut version = 40u32;
    for d in 0..days {
        let day = first + Duration::days(d);
        if workday(day) {
            developer_day(cast, day, rng, &mut out);
            for ci in &cast.ci {
                ci_day(cast, ci, day, &mut version, rng, &mut out);
            }
            for person in &cast.console {
                if rng.chance(0.45) {
                    console_visit(cast, person, day, rng, &mut out);
                }
            }
        }
        for job in &cast.jobs {
            nightly_job(cast, job, day, rng, &mut out);
        }
        for (role, function, region) in &cast.lambda_roles {
            lambda_day(role, function, region, day, rng, &mut out);
        }
        for (role, vendor) in &cast.monitoring {
            monitoring_day(cast, role, vendor, day, rng, &mut out);
        }
    }
    out.records.sort_by_key(|a| a.time);
    out.records
}

fn pick_region<'a>(cast: &'a Cast, rng: &mut Rng) -> &'a str {
    if cast.home.len() > 1 && rng.chance(0.3) {
        &cast.home[1]
    } else {
        &cast.home[0]
    }
}

/// The developer at work: a morning and an afternoon at the CLI, now and then through the
/// deploy role.
fn developer_day(cast: &Cast, day: OffsetDateTime, rng: &mut Rng, out: &mut Out<'_>) {
    if !rng.chance(0.85) {
        return;
    }
    let dev = &cast.developer;
    let actor = record::iam_user(&cast.account, &dev.name, &dev.user_id, &dev.key);
    let agent = *rng.pick(&DEV_AGENTS).unwrap_or(&DEV_AGENTS[0]);
    let ip = *rng.pick(&DEV_ADDRESSES).unwrap_or(&DEV_ADDRESSES[0]);
    for start_hour in [rng.range(8, 10), rng.range(13, 16)] {
        let mut t = at(day, start_hour, rng.below(60), rng.below(60));
        let calls = rng.range(4, 11);
        for _ in 0..calls {
            t += Duration::seconds(i64::try_from(rng.range(5, 400)).unwrap_or(60));
            let region = pick_region(cast, rng);
            let call = match rng.below(10) {
                0 => events::get_caller_identity(t, region),
                1 | 2 => events::describe_instances(t, region),
                3 => events::describe_security_groups(t, region),
                4 => events::list_buckets(t),
                5 => match rng.pick(&cast.buckets) {
                    Some(b) if rng.chance(0.3) => events::get_bucket_policy_missing(t, b),
                    Some(b) => events::get_bucket_location(t, b),
                    None => events::list_buckets(t),
                },
                6 => events::list_functions(t, region),
                7 => match cast.functions.first() {
                    Some((r, name, _)) => events::get_function(t, r, name),
                    None => events::list_functions(t, region),
                },
                8 => events::describe_log_groups(t, region),
                _ => events::describe_instances(t, region),
            };
            out.push(&actor, call.from(ip, agent), rng);
        }
        // Now and then the developer works through the deploy role.
        if rng.chance(0.2) {
            t += Duration::seconds(30);
            let session = format!("{}-{}", dev.name, t.unix_timestamp());
            let key = session_key(rng);
            let token = session_token(rng);
            let minted = Minted {
                role_arn: &cast.deploy_role.arn,
                role_id: &cast.deploy_role.id,
                session: &session,
                key: &key,
                token: &token,
                duration: 3600,
            };
            out.push(
                &actor,
                events::assume_role(t, "us-east-1", &minted).from(ip, agent),
                rng,
            );
            let role_actor = record::assumed_role(
                &cast.account,
                &cast.deploy_role.name,
                &cast.deploy_role.id,
                &session,
                &key,
                t,
            );
            for _ in 0..rng.range(1, 3) {
                t += Duration::seconds(i64::try_from(rng.range(10, 120)).unwrap_or(30));
                let region = pick_region(cast, rng);
                out.push(
                    &role_actor,
                    events::describe_instances(t, region).from(ip, agent),
                    rng,
                );
            }
        }
    }
}

/// CI deploys the function a few times a day through the deploy role.
fn ci_day(
    cast: &Cast,
    ci: &Person,
    day: OffsetDateTime,
    version: &mut u32,
    rng: &mut Rng,
    out: &mut Out<'_>,
) {
    let actor = record::iam_user(&cast.account, &ci.name, &ci.user_id, &ci.key);
    let runner = format!("192.0.2.{}", rng.range(130, 140));
    for _ in 0..rng.range(1, 4) {
        let mut t = at(day, rng.range(9, 18), rng.below(60), rng.below(60));
        out.push(
            &actor,
            events::get_caller_identity(t, "us-east-1").from(&runner, CI_AGENT),
            rng,
        );
        t += Duration::seconds(2);
        let session = format!("gh-actions-{}", rng.range(1_000_000, 9_999_999));
        let key = session_key(rng);
        let token = session_token(rng);
        let minted = Minted {
            role_arn: &cast.deploy_role.arn,
            role_id: &cast.deploy_role.id,
            session: &session,
            key: &key,
            token: &token,
            duration: 3600,
        };
        out.push(
            &actor,
            events::assume_role(t, "us-east-1", &minted).from(&runner, CI_AGENT),
            rng,
        );
        let role = record::assumed_role(
            &cast.account,
            &cast.deploy_role.name,
            &cast.deploy_role.id,
            &session,
            &key,
            t,
        );
        for (region, name, arn) in &cast.functions {
            t += Duration::seconds(i64::try_from(rng.range(5, 40)).unwrap_or(10));
            let sha = rng.chars(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                43,
            ) + "=";
            let update = events::update_function_code(t, region, name, arn, &sha);
            let update = if rng.chance(0.04) {
                update.failed(
                    "ResourceConflictException",
                    "The operation cannot be performed at this time. An update is in progress for resource",
                )
            } else {
                update
            };
            out.push(&role, update.from(&runner, CI_AGENT), rng);
            t += Duration::seconds(i64::try_from(rng.range(3, 20)).unwrap_or(5));
            *version += 1;
            out.push(
                &role,
                events::publish_version(t, region, name, arn, *version).from(&runner, CI_AGENT),
                rng,
            );
        }
        for (region, id) in &cast.instances {
            t += Duration::seconds(i64::try_from(rng.range(2, 15)).unwrap_or(5));
            out.push(
                &role,
                events::describe_instances(t, region).from(&runner, CI_AGENT),
                rng,
            );
            if rng.chance(0.5) {
                t += Duration::seconds(1);
                out.push(
                    &role,
                    events::create_tags(t, region, id, "deployed-version", &format!("v{version}"))
                        .from(&runner, CI_AGENT),
                    rng,
                );
            }
        }
    }
}

/// A person signs in to the console and looks around.
fn console_visit(
    cast: &Cast,
    person: &Person,
    day: OffsetDateTime,
    rng: &mut Rng,
    out: &mut Out<'_>,
) {
    let mut t = at(day, rng.range(8, 17), rng.below(60), rng.below(60));
    let ip = format!("192.0.2.{}", rng.range(20, 40));
    let mut signin = record::iam_user(&cast.account, &person.name, &person.user_id, "");
    if let Some(map) = signin.identity.as_object_mut() {
        map.remove("accessKeyId");
    }
    out.push(
        &signin,
        events::console_login(t).from(&ip, CONSOLE_AGENT),
        rng,
    );
    let key = session_key(rng);
    let actor = record::console_user(&cast.account, &person.name, &person.user_id, &key, t);
    for _ in 0..rng.range(3, 8) {
        t += Duration::seconds(i64::try_from(rng.range(5, 240)).unwrap_or(30));
        let region = pick_region(cast, rng);
        let call = match rng.below(6) {
            0 => events::list_users(t),
            1 => events::get_account_summary(t),
            2 => events::list_buckets(t),
            3 => events::get_trail_status(t, "us-east-1", &cast.trail_arn),
            _ => events::describe_instances(t, region),
        };
        out.push(&actor, call.from(&ip, CONSOLE_AGENT), rng);
    }
}

/// A scripted job at night: lists buckets and snapshots.
fn nightly_job(cast: &Cast, job: &Person, day: OffsetDateTime, rng: &mut Rng, out: &mut Out<'_>) {
    let actor = record::iam_user(&cast.account, &job.name, &job.user_id, &job.key);
    let mut t = at(day, 2, rng.range(0, 20), rng.below(60));
    out.push(
        &actor,
        events::list_buckets(t).from("192.0.2.60", JOB_AGENT),
        rng,
    );
    for b in &cast.buckets {
        t += Duration::seconds(1);
        out.push(
            &actor,
            events::get_bucket_location(t, b).from("192.0.2.60", JOB_AGENT),
            rng,
        );
    }
    for region in &cast.home {
        t += Duration::seconds(i64::try_from(rng.range(1, 5)).unwrap_or(2));
        out.push(
            &actor,
            events::describe_snapshots(t, region).from("192.0.2.60", JOB_AGENT),
            rng,
        );
    }
}

/// Lambda assumes the function's execution role when it scales out.
fn lambda_day(
    role: &RoleRef,
    function: &str,
    region: &str,
    day: OffsetDateTime,
    rng: &mut Rng,
    out: &mut Out<'_>,
) {
    let actor = record::aws_service("lambda.amazonaws.com");
    for _ in 0..rng.range(3, 7) {
        let t = at(day, rng.below(24), rng.below(60), rng.below(60));
        let key = session_key(rng);
        let token = session_token(rng);
        let minted = Minted {
            role_arn: &role.arn,
            role_id: &role.id,
            session: function,
            key: &key,
            token: &token,
            duration: 43_200,
        };
        out.push(
            &actor,
            events::assume_role(t, region, &minted)
                .from("lambda.amazonaws.com", "lambda.amazonaws.com"),
            rng,
        );
    }
}

/// A monitoring vendor assumes its role every three hours and reads the home regions.
fn monitoring_day(
    cast: &Cast,
    role: &RoleRef,
    vendor: &str,
    day: OffsetDateTime,
    rng: &mut Rng,
    out: &mut Out<'_>,
) {
    let caller = record::other_account(vendor, "AIDAJ6R2Q4EXAMPLEVNDR");
    let ip = "192.0.2.200";
    for slot in 0..8u64 {
        let mut t = at(day, slot * 3, rng.range(0, 5), rng.below(60));
        let session = format!("monitoring-{}", rng.hex(8));
        let key = session_key(rng);
        let token = session_token(rng);
        let minted = Minted {
            role_arn: &role.arn,
            role_id: &role.id,
            session: &session,
            key: &key,
            token: &token,
            duration: 3600,
        };
        out.push(
            &caller,
            events::assume_role(t, "us-east-1", &minted).from(ip, MONITOR_AGENT),
            rng,
        );
        let actor = record::assumed_role(&cast.account, &role.name, &role.id, &session, &key, t);
        for region in &cast.home {
            t += Duration::seconds(1);
            let describe = events::describe_instances(t, region);
            let describe = if rng.chance(0.03) {
                describe.failed("Client.RequestLimitExceeded", "Request limit exceeded.")
            } else {
                describe
            };
            out.push(&actor, describe.from(ip, MONITOR_AGENT), rng);
            t += Duration::seconds(1);
            out.push(
                &actor,
                events::describe_security_groups(t, region).from(ip, MONITOR_AGENT),
                rng,
            );
            t += Duration::seconds(1);
            out.push(
                &actor,
                events::list_functions(t, region).from(ip, MONITOR_AGENT),
                rng,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn cast() -> Cast {
        let person = |n: &str, k: &str| Person {
            name: n.into(),
            user_id: format!("id-{n}"),
            key: k.into(),
        };
        let role = |n: &str| RoleRef {
            name: n.into(),
            id: format!("AROA{n}"),
            arn: format!("arn:aws:iam::123456789012:role/{n}"),
        };
        Cast {
            account: "123456789012".into(),
            home: vec!["us-east-1".into(), "eu-west-1".into()],
            developer: person("dev", "AKIADEV"),
            ci: vec![person("ci", "AKIACI")],
            console: vec![person("carol", "")],
            jobs: vec![person("backup", "AKIABACKUP")],
            deploy_role: role("deploy-role"),
            lambda_roles: vec![(role("fn-role"), "orders".into(), "us-east-1".into())],
            monitoring: vec![(role("monitor"), "111122223333".into())],
            functions: vec![(
                "us-east-1".into(),
                "orders".into(),
                "arn:aws:lambda:us-east-1:123456789012:function:orders".into(),
            )],
            instances: vec![("us-east-1".into(), "i-0123".into())],
            buckets: vec!["b1".into()],
            trail_arn: "arn:aws:cloudtrail:us-east-1:123456789012:trail/t".into(),
            from: datetime!(2025-02-01 00:00 UTC),
            until: datetime!(2025-02-22 10:00 UTC),
        }
    }

    #[test]
    fn the_history_is_the_same_for_the_same_seed() {
        let a = ordinary(&cast(), &mut Rng::new(5, "history"));
        let b = ordinary(&cast(), &mut Rng::new(5, "history"));
        let c = ordinary(&cast(), &mut Rng::new(6, "history"));
        assert_eq!(a.len(), b.len());
        assert!(a.iter().zip(&b).all(|(x, y)| x.record == y.record));
        assert!(a.len() != c.len() || a.iter().zip(&c).any(|(x, y)| x.record != y.record));
    }

    #[test]
    fn the_history_stays_in_its_window_and_home_regions_and_uses_the_developer_key() {
        let c = cast();
        let records = ordinary(&c, &mut Rng::new(9, "history"));
        assert!(records.len() > 800, "{}", records.len());
        assert!(records.iter().all(|p| p.time >= c.from && p.time < c.until));
        assert!(records.iter().all(|p| c.home.contains(&p.region)));
        assert!(
            records
                .iter()
                .any(|p| p.record["userIdentity"]["accessKeyId"] == "AKIADEV")
        );
    }
}
