//! Building the game's account in a fresh moto, in a fixed order (see the module docs of
//! `gameday` for time and determinism).

use std::collections::{BTreeMap, VecDeque};

use aws_sdk_ec2::types::{InstanceType, ResourceType, Tag, TagSpecification};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, Runtime};
use aws_sdk_s3::primitives::ByteStream;
use serde_json::json;
use time::{Duration, OffsetDateTime, Time};

use super::attacker::{Engine, Ident, Who, store_package, zip_one};
use super::clients::{As, GLOBAL_REGION, Sent, moto_api};
use super::cost;
use super::history::{self, Cast, Person, RoleRef};
use super::record;
use super::rng::Rng;
use super::scenario::{RoleKind, Scenario, With};
use super::{Creds, Ordinary, Outside, PlantedLog, Seeded, SessionCreds};

/// The trail every scenario's account has.
const TRAIL_NAME: &str = "management-events";

/// What the ordinary functions run.
const ORDERS_CODE: &str = "import json\n\
def handler(event, context):\n    \
return {'statusCode': 200, 'body': json.dumps({'orders': []})}\n";

/// Seeds a fresh moto at `endpoint` (reached as moto's root) for `seed`, with every time
/// placed relative to `now`; see the module documentation for what that means for how long
/// it takes and for what is deterministic. Fails, in words, on the first call moto refuses.
pub async fn seed(
    endpoint: &str,
    scenario: &Scenario,
    seed: u64,
    now: OffsetDateTime,
) -> Result<Seeded, String> {
    // Boxed: building the account awaits many large futures, too big to nest in a caller's
    // (three seeds joined in one test task overflowed a debug build's stack).
    Box::pin(build(endpoint, scenario, seed, now)).await
}

async fn build(
    endpoint: &str,
    scenario: &Scenario,
    seed: u64,
    now: OffsetDateTime,
) -> Result<Seeded, String> {
    let now = now.replace_nanosecond(0).map_err(|e| format!("now: {e}"))?;
    if now - OffsetDateTime::now_utc() > Duration::minutes(1) {
        return Err(format!(
            "now ({}) is in the future: seeding would wait for it",
            record::event_time(now)
        ));
    }
    // Whether the leak is meant to happen in the present (the game) rather than the past.
    let meant_live = now + Duration::seconds(i64::from(scenario.pace.lead_in_seconds))
        > OffsetDateTime::now_utc();
    // moto's own ids (instances, keys, users) follow its random generator: seed it too.
    moto_api(endpoint, &format!("/moto-api/seed?a={seed}"), String::new()).await?;
    let root = As::root(endpoint).await;
    let iam = root.iam();

    // The seed's choices, drawn in a fixed order before anything depends on moto's answers.
    let mut names = Rng::new(seed, "names");
    let developer = names
        .pick(&scenario.developer.names)
        .cloned()
        .ok_or("the scenario names no developer")?;
    let pool = &scenario.attacker.backdoor_names;
    let backdoor_index = usize::try_from(names.below(pool.len() as u64)).unwrap_or(0);
    let backdoor_user = pool
        .get(backdoor_index)
        .cloned()
        .ok_or("the scenario names no backdoor user")?;
    let mut attacker_pool = scenario.attacker.regions.clone();
    names.shuffle(&mut attacker_pool);
    let history_regions: Vec<String> = attacker_pool
        .iter()
        .take(scenario.attacker.history_regions)
        .cloned()
        .collect();
    let live_regions: Vec<String> = attacker_pool
        .iter()
        .skip(scenario.attacker.history_regions)
        .take(scenario.attacker.live_regions)
        .cloned()
        .collect();
    let bucket_tag = names.hex(8);
    let artifacts_tag = names.hex(6);
    let backups_tag = names.hex(6);

    // The responder comes first: the console runs as it.
    new_user(&root, &scenario.responder.name).await?;
    attach_user(
        &root,
        &scenario.responder.name,
        super::attacker::ADMIN_POLICY,
    )
    .await?;
    let responder_key = new_key(&root, &scenario.responder.name).await?;
    let account = As::new(endpoint, &responder_key.key_id, &responder_key.secret, None)
        .await
        .sts(GLOBAL_REGION)
        .get_caller_identity()
        .send()
        .await
        .sent("sts:GetCallerIdentity")?
        .account()
        .unwrap_or("123456789012")
        .to_string();

    let mut ordinary = Ordinary {
        users: vec![scenario.responder.name.clone()],
        ..Ordinary::default()
    };

    for g in &scenario.groups {
        iam.create_group()
            .group_name(&g.name)
            .send()
            .await
            .sent("iam:CreateGroup")?;
        for p in &g.policies {
            iam.attach_group_policy()
                .group_name(&g.name)
                .policy_arn(p)
                .send()
                .await
                .sent("iam:AttachGroupPolicy")?;
        }
        if let Some(inline) = &g.inline {
            iam.put_group_policy()
                .group_name(&g.name)
                .policy_name(&inline.name)
                .policy_document(inline.document())
                .send()
                .await
                .sent("iam:PutGroupPolicy")?;
        }
        ordinary.groups.push(g.name.clone());
    }

    // Ordinary users: (person, their active key if any, console user).
    let mut people: Vec<(Person, bool)> = Vec::new();
    for u in &scenario.users {
        let user_id = new_user(&root, &u.name).await?;
        let mut active = String::new();
        for i in 0..u.keys {
            let k = new_key(&root, &u.name).await?;
            if i < u.inactive {
                iam.update_access_key()
                    .user_name(&u.name)
                    .access_key_id(&k.key_id)
                    .status(aws_sdk_iam::types::StatusType::Inactive)
                    .send()
                    .await
                    .sent("iam:UpdateAccessKey")?;
            } else {
                active = k.key_id;
            }
        }
        if u.console {
            iam.create_login_profile()
                .user_name(&u.name)
                .password(format!("Gameday-{}!", names.hex(12)))
                .send()
                .await
                .sent("iam:CreateLoginProfile")?;
        }
        for g in &u.groups {
            iam.add_user_to_group()
                .group_name(g)
                .user_name(&u.name)
                .send()
                .await
                .sent("iam:AddUserToGroup")?;
        }
        for p in &u.policies {
            attach_user(&root, &u.name, p).await?;
        }
        ordinary.users.push(u.name.clone());
        people.push((
            Person {
                name: u.name.clone(),
                user_id,
                key: active,
            },
            u.console,
        ));
    }

    // The developer whose key leaks.
    let developer_id = new_user(&root, &developer).await?;
    for g in &scenario.developer.groups {
        iam.add_user_to_group()
            .group_name(g)
            .user_name(&developer)
            .send()
            .await
            .sent("iam:AddUserToGroup")?;
    }
    let leaked = new_key(&root, &developer).await?;
    ordinary.users.push(developer.clone());

    // Roles.
    let mut roles: BTreeMap<String, RoleRef> = BTreeMap::new();
    for r in &scenario.roles {
        let mut principals = Vec::new();
        for u in &r.trusted_users {
            let name = if u == "developer" { &developer } else { u };
            principals.push(format!("arn:aws:iam::{account}:user/{name}"));
        }
        if let Some(a) = &r.trusted_account {
            principals.push(format!("arn:aws:iam::{a}:root"));
        }
        let principal = match &r.service {
            Some(s) => json!({"Service": s}),
            None => json!({"AWS": principals}),
        };
        let trust = json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]
        });
        let out = iam
            .create_role()
            .role_name(&r.name)
            .assume_role_policy_document(trust.to_string())
            .send()
            .await
            .sent("iam:CreateRole")?;
        let role = out.role().ok_or("iam:CreateRole: moto returned no role")?;
        roles.insert(
            r.name.clone(),
            RoleRef {
                name: r.name.clone(),
                id: role.role_id().to_string(),
                arn: role.arn().to_string(),
            },
        );
        for p in &r.policies {
            iam.attach_role_policy()
                .role_name(&r.name)
                .policy_arn(p)
                .send()
                .await
                .sent("iam:AttachRolePolicy")?;
        }
        if let Some(m) = &r.managed {
            let made = iam
                .create_policy()
                .policy_name(&m.name)
                .policy_document(m.document())
                .send()
                .await
                .sent("iam:CreatePolicy")?;
            let arn = made
                .policy()
                .and_then(|p| p.arn())
                .ok_or("iam:CreatePolicy: moto returned no ARN")?
                .to_string();
            iam.attach_role_policy()
                .role_name(&r.name)
                .policy_arn(&arn)
                .send()
                .await
                .sent("iam:AttachRolePolicy")?;
            ordinary.policies.push(m.name.clone());
        }
        ordinary.roles.push(r.name.clone());
    }
    let role_of = |kind: RoleKind| {
        scenario
            .roles
            .iter()
            .find(|r| r.kind == kind)
            .and_then(|r| roles.get(&r.name))
            .cloned()
    };
    let deploy_role = role_of(RoleKind::Deploy).ok_or("the scenario has no deploy role")?;
    let lambda_role = match &scenario.attacker.function_role {
        Some(name) => roles.get(name).cloned(),
        None => role_of(RoleKind::Lambda),
    }
    .ok_or("the scenario has no role for the attacker's functions")?;

    // Buckets and the trail.
    let org = &scenario.org;
    let trail_bucket = format!("aws-cloudtrail-logs-{account}-{bucket_tag}");
    let buckets = [
        trail_bucket.clone(),
        format!("{org}-artifacts-{artifacts_tag}"),
        format!("{org}-backups-{backups_tag}"),
    ];
    let s3 = root.s3();
    for b in &buckets {
        s3.create_bucket()
            .bucket(b)
            .send()
            .await
            .sent("s3:CreateBucket")?;
        ordinary.buckets.push(b.clone());
    }
    // The company's data, when the scenario is about data.
    if let Some(data) = &scenario.data {
        s3.create_bucket()
            .bucket(&data.bucket)
            .send()
            .await
            .sent("s3:CreateBucket")?;
        for (n, key) in data.objects.iter().enumerate() {
            let body = format!(
                "id,name,email,plan\n{n}001,Ana Example,ana{n}@example.com,enterprise\n\
                 {n}002,Bo Example,bo{n}@example.com,team\n"
            );
            s3.put_object()
                .bucket(&data.bucket)
                .key(key)
                .body(aws_sdk_s3::primitives::ByteStream::from(body.into_bytes()))
                .send()
                .await
                .sent("s3:PutObject")?;
        }
        ordinary.buckets.push(data.bucket.clone());
    }
    let trail_region = scenario
        .home_regions
        .first()
        .cloned()
        .unwrap_or_else(|| GLOBAL_REGION.into());
    let trail = root
        .cloudtrail(&trail_region)
        .create_trail()
        .name(TRAIL_NAME)
        .s3_bucket_name(&trail_bucket)
        .is_multi_region_trail(true)
        .include_global_service_events(true)
        .send()
        .await
        .sent("cloudtrail:CreateTrail")?;
    let trail_arn = trail.trail_arn().unwrap_or_default().to_string();
    root.cloudtrail(&trail_region)
        .start_logging()
        .name(&trail_arn)
        .send()
        .await
        .sent("cloudtrail:StartLogging")?;

    // Workloads in the home regions.
    let region_of = |r: &str| scenario.home_region(r).unwrap_or_else(|| r.to_string());
    for k in &scenario.key_pairs {
        let region = region_of(&k.region);
        root.ec2(&region)
            .create_key_pair()
            .key_name(&k.name)
            .send()
            .await
            .sent("ec2:CreateKeyPair")?;
        ordinary.key_pairs.push((region, k.name.clone()));
    }
    let mut group_ids: BTreeMap<(String, String), String> = BTreeMap::new();
    for g in &scenario.security_groups {
        let region = region_of(&g.region);
        let out = root
            .ec2(&region)
            .create_security_group()
            .group_name(&g.name)
            .description(&g.description)
            .send()
            .await
            .sent("ec2:CreateSecurityGroup")?;
        group_ids.insert(
            (region.clone(), g.name.clone()),
            out.group_id().unwrap_or_default().to_string(),
        );
        ordinary.security_groups.push((region, g.name.clone()));
    }
    for i in &scenario.instances {
        let region = region_of(&i.region);
        let mut run = root
            .ec2(&region)
            .run_instances()
            .image_id(&scenario.image)
            .instance_type(InstanceType::from(i.instance_type.as_str()))
            .min_count(1)
            .max_count(1)
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::Instance)
                    .tags(Tag::builder().key("Name").value(&i.name).build())
                    .build(),
            );
        if let Some(k) = &i.key_pair {
            run = run.key_name(k);
        }
        if let Some(g) = &i.security_group
            && let Some(id) = group_ids.get(&(region.clone(), g.clone()))
        {
            run = run.security_group_ids(id);
        }
        let out = run.send().await.sent("ec2:RunInstances")?;
        for made in out.instances() {
            if let Some(id) = made.instance_id() {
                ordinary.instances.push((region.clone(), id.to_string()));
            }
        }
    }
    let mut functions = Vec::new();
    for f in &scenario.functions {
        let region = region_of(&f.region);
        let role = roles
            .get(&f.role)
            .ok_or_else(|| format!("function {}: no role {}", f.name, f.role))?;
        let out = root
            .lambda(&region)
            .create_function()
            .function_name(&f.name)
            .runtime(Runtime::Python312)
            .role(&role.arn)
            .handler("main.handler")
            .code(
                FunctionCode::builder()
                    .zip_file(Blob::new(zip_one("main.py", ORDERS_CODE)))
                    .build(),
            )
            .send()
            .await
            .sent("lambda:CreateFunction")?;
        // Where the console's evidence step downloads it from (an emulator gap filled).
        store_package(&root, &region, &f.name, &zip_one("main.py", ORDERS_CODE)).await;
        functions.push((
            region.clone(),
            f.name.clone(),
            out.function_arn().unwrap_or_default().to_string(),
        ));
        ordinary.functions.push((region, f.name.clone()));
    }

    // Weeks of ordinary activity, delivered while the clock runs to the leak.
    let mut leak_start = now + Duration::seconds(i64::from(scenario.pace.lead_in_seconds));
    let from =
        (now - Duration::days(i64::from(scenario.history_days))).replace_time(Time::MIDNIGHT);
    let mut console = Vec::new();
    let mut ci = Vec::new();
    let mut jobs = Vec::new();
    for (person, is_console) in people {
        let deploys = scenario
            .roles
            .iter()
            .any(|r| r.kind == RoleKind::Deploy && r.trusted_users.contains(&person.name));
        if deploys && !person.key.is_empty() {
            ci.push(person);
        } else if is_console {
            console.push(person);
        } else if !person.key.is_empty() {
            jobs.push(person);
        }
    }
    let cast = Cast {
        account: account.clone(),
        home: scenario.home_regions.clone(),
        developer: Person {
            name: developer.clone(),
            user_id: developer_id.clone(),
            key: leaked.key_id.clone(),
        },
        ci,
        console,
        jobs,
        deploy_role: deploy_role.clone(),
        lambda_roles: scenario
            .functions
            .iter()
            .filter_map(|f| {
                let role = roles.get(&f.role)?;
                let kind = scenario.roles.iter().find(|r| r.name == f.role)?.kind;
                (kind == RoleKind::Lambda)
                    .then(|| (role.clone(), f.name.clone(), region_of(&f.region)))
            })
            .collect(),
        monitoring: scenario
            .roles
            .iter()
            .filter(|r| r.kind == RoleKind::Monitoring)
            .filter_map(|r| Some((roles.get(&r.name)?.clone(), r.trusted_account.clone()?)))
            .collect(),
        functions: functions.clone(),
        instances: ordinary.instances.clone(),
        buckets: buckets.to_vec(),
        trail_arn: trail_arn.clone(),
        from,
        until: now,
    };
    let mut history_ids = Rng::new(seed, "history");
    let ordinary_records = history::ordinary(&cast, &mut history_ids);
    let objects = record::pack(
        &account,
        ordinary_records,
        Duration::hours(6),
        now,
        &mut history_ids,
    )?;
    let mut planted = Vec::with_capacity(objects.len() + 8);
    for o in objects {
        s3.put_object()
            .bucket(&trail_bucket)
            .key(&o.key)
            .content_type("application/x-gzip")
            .body(ByteStream::from(o.body))
            .send()
            .await
            .sent("s3:PutObject")?;
        planted.push(PlantedLog {
            key: o.key,
            event_ids: o.event_ids,
        });
    }

    // The attacker's opening, each call at its planned time.
    let mut engine = Engine::new(
        scenario,
        endpoint,
        root.clone(),
        &account,
        Ident::user(With::Leaked, &leaked, &developer_id),
        Rng::new(seed, "attacker-history"),
        Rng::new(seed, "attacker-history-ids"),
    );
    engine.trail_name = TRAIL_NAME.to_string();
    engine.trail_arn = trail_arn.clone();
    engine.trail_region = trail_region.clone();
    engine.bucket = trail_bucket.clone();
    engine.deploy_role = deploy_role.clone();
    if let Some(door) = &scenario.trust {
        engine.trust_role = Some(
            roles
                .get(&door.role)
                .cloned()
                .ok_or_else(|| format!("trust role {} was not made", door.role))?,
        );
        let mut ids = Rng::new(seed, "attacker-outside");
        engine.outside = Some(Ident::outside(&door.account, &door.principal, &mut ids));
    }
    engine.lambda_role_arn = lambda_role.arn.clone();
    engine.backdoor_user = backdoor_user.clone();
    engine.next_backdoor = backdoor_index + 1;
    engine.regions = history_regions.clone();
    engine.fresh = live_regions.iter().cloned().collect::<VecDeque<_>>();
    // Building took longer than the lead-in. When the leak was meant to be in the present,
    // it moves to the next whole second, so that everything ordinary still predates it (the
    // attacker's records keep their content and order; only their times move). A leak placed
    // in the past stays where it was.
    let clock = OffsetDateTime::now_utc();
    if meant_live && clock >= leak_start {
        let next = clock.replace_nanosecond(0).unwrap_or(clock) + Duration::seconds(1);
        tracing::info!(
            "game day: building the account took {} longer than the lead-in; the leak moves to {}",
            next - leak_start,
            record::event_time(next)
        );
        leak_start = next;
    }
    for step in &scenario.attacker.history {
        let at = leak_start + Duration::seconds(i64::from(step.at));
        wait_until(at).await;
        let who = match step.with {
            Some(With::Session) => Who::Session,
            Some(With::Backdoor) => Who::Backdoor(0),
            Some(With::Outside) => Who::Outside,
            _ => Who::Leaked,
        };
        let region = engine.region_for(step.region.as_deref());
        // Boxed: a step's future holds every kind of call, too big to nest on the stack.
        Box::pin(engine.step(who, step, &region, at)).await;
    }
    // No record is delivered before the time it names.
    if let Some(last) = engine.records.iter().map(|p| p.time).max() {
        wait_until(last).await;
    }
    let delivered = engine
        .deliver(OffsetDateTime::now_utc().max(leak_start))
        .await;
    planted.extend(delivered);

    // AWS finds the key in public and quarantines it: the team is called.
    attach_user(&root, &developer, &scenario.developer.quarantine_policy).await?;

    // Cost Explorer: quiet weeks, then the attacker's fleet.
    let cost_anomalies =
        cost::seed_costs(endpoint, scenario, seed, now, leak_start, &engine.fleet).await?;

    let mut regions = scenario.home_regions.clone();
    regions.extend(history_regions.iter().cloned());
    regions.extend(live_regions.iter().cloned());
    regions.dedup();
    Ok(Seeded {
        account,
        responder: responder_key,
        leaked,
        leak_start,
        regions,
        trail_bucket,
        backdoor_user,
        backdoor_keys: engine.backdoors.iter().map(Ident::creds).collect(),
        session: engine.session.as_ref().map(|s| SessionCreds {
            role: s.user.clone(),
            session_name: s.session_name.clone(),
            key_id: s.key.clone(),
            secret: s.secret.clone(),
            token: s.token.clone().unwrap_or_default(),
            issued: s.issued,
            expires: s.expires,
        }),
        scheduled: engine.scheduled.clone(),
        outside: engine.outside.as_ref().map(|o| Outside {
            account: o.home.clone().unwrap_or_default(),
            user: o.user.clone(),
            principal_id: o.principal_id.clone(),
            key_id: o.key.clone(),
            secret: o.secret.clone(),
            role: engine
                .trust_role
                .as_ref()
                .map(|r| r.name.clone())
                .unwrap_or_default(),
        }),
        trail_name: TRAIL_NAME.to_string(),
        trail_arn,
        home_regions: scenario.home_regions.clone(),
        attacker_regions: history_regions,
        live_regions,
        deploy_role: deploy_role.name,
        lambda_role: lambda_role.name,
        ordinary,
        made: engine.made,
        planted,
        history: engine.events,
        cost_anomalies,
    })
}

/// Sleeps until the wall clock reaches `t` (at once when it already has).
async fn wait_until(t: OffsetDateTime) {
    let left = t - OffsetDateTime::now_utc();
    if left.is_positive() {
        let left = std::time::Duration::try_from(left).unwrap_or_default();
        tokio::time::sleep(left).await;
    }
}

/// Creates a user; returns its id.
async fn new_user(root: &As, name: &str) -> Result<String, String> {
    let out = root
        .iam()
        .create_user()
        .user_name(name)
        .send()
        .await
        .sent("iam:CreateUser")?;
    Ok(out
        .user()
        .map(|u| u.user_id().to_string())
        .unwrap_or_default())
}

async fn new_key(root: &As, user: &str) -> Result<Creds, String> {
    let out = root
        .iam()
        .create_access_key()
        .user_name(user)
        .send()
        .await
        .sent("iam:CreateAccessKey")?;
    let k = out
        .access_key()
        .ok_or("iam:CreateAccessKey: moto returned no key")?;
    Ok(Creds {
        user: user.to_string(),
        key_id: k.access_key_id().to_string(),
        secret: k.secret_access_key().to_string(),
    })
}

async fn attach_user(root: &As, user: &str, policy: &str) -> Result<(), String> {
    root.iam()
        .attach_user_policy()
        .user_name(user)
        .policy_arn(policy)
        .send()
        .await
        .sent("iam:AttachUserPolicy")?;
    Ok(())
}
