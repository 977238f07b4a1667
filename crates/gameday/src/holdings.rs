//! What the attacker still has at the end of a game, read from moto as its root: everything
//! in the game's regions and in IAM that the seed did not make for the company, plus the
//! leaked key and the minted session while they still work.

use futures_util::future::join_all;
use time::OffsetDateTime;

use super::authz::{self, Caller, Verdict};
use super::clients::As;
use super::{AttackerEvent, Outside, Seeded};

/// The attacker's holdings in words, IAM first, then region by region in the game's order:
/// `backdoor user backup-svc-2 with 2 active keys (AdministratorAccess)`,
/// `3 instances in sa-east-1`, `lambda xmr-relay in eu-north-1`. Empty when it holds nothing.
/// Something moto cannot be asked about is reported as such rather than left out.
///
/// `live` is what the attacker did during the game: the sessions it minted then count too.
pub async fn attacker_holdings(
    endpoint: &str,
    seeded: &Seeded,
    live: &[AttackerEvent],
) -> Vec<String> {
    let root = As::root(endpoint).await;
    let mut out = Vec::new();
    iam_holdings(&root, seeded, live, &mut out).await;
    let regional = join_all(
        seeded
            .regions
            .iter()
            .map(|region| region_holdings(&root, seeded, region)),
    )
    .await;
    out.extend(regional.into_iter().flatten());
    out
}

async fn iam_holdings(root: &As, seeded: &Seeded, live: &[AttackerEvent], out: &mut Vec<String>) {
    let iam = root.iam();
    match iam.list_users().send().await {
        Ok(users) => {
            for u in users.users() {
                let name = u.user_name();
                if seeded.ordinary.users.iter().any(|o| o == name) {
                    continue;
                }
                let active = iam
                    .list_access_keys()
                    .user_name(name)
                    .send()
                    .await
                    .map(|k| {
                        k.access_key_metadata()
                            .iter()
                            .filter(|m| {
                                m.status()
                                    .is_some_and(|s| *s == aws_sdk_iam::types::StatusType::Active)
                            })
                            .count()
                    })
                    .unwrap_or(0);
                let policies: Vec<String> = iam
                    .list_attached_user_policies()
                    .user_name(name)
                    .send()
                    .await
                    .map(|p| {
                        p.attached_policies()
                            .iter()
                            .filter_map(|a| a.policy_name().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                let keys = match active {
                    0 => "no active key".to_string(),
                    1 => "1 active key".to_string(),
                    n => format!("{n} active keys"),
                };
                let mut line = format!("backdoor user {name} with {keys}");
                if !policies.is_empty() {
                    line.push_str(&format!(" ({})", policies.join(", ")));
                }
                out.push(line);
            }
        }
        Err(e) => out.push(format!(
            "IAM users unknown: {}",
            keyspill_aws::error::failure("iam:ListUsers", &e)
        )),
    }
    match authz::key_is_active(root, &seeded.leaked.user, &seeded.leaked.key_id).await {
        Ok(true) => out.push(format!(
            "leaked key {} of {} still active",
            seeded.leaked.key_id, seeded.leaked.user
        )),
        Ok(false) => {}
        Err(e) => out.push(format!("leaked key status unknown: {e}")),
    }
    if let Some(o) = &seeded.outside {
        match open_to(root, o).await {
            Ok(true) => out.push(format!(
                "role {} trusts account {} (the attacker's own): it can mint sessions at will",
                o.role, o.account
            )),
            Ok(false) => {}
            Err(e) => out.push(format!("trust of role {} unknown: {e}", o.role)),
        }
    }
    let mut cache = authz::Cache::default();
    let now = OffsetDateTime::now_utc();
    for s in sessions(seeded, live) {
        let caller = Caller::Session {
            role: &s.role,
            issued: s.issued,
            expires: s.expires,
        };
        match authz::check(root, &caller, &["ec2:RunInstances"], now, &mut cache).await {
            Ok(Verdict::Allowed) => out.push(format!(
                "session {} of role {} valid until {}",
                s.key_id,
                s.role,
                super::record::event_time(s.expires)
            )),
            Ok(_) => {}
            Err(e) => out.push(format!("session {} status unknown: {e}", s.key_id)),
        }
    }
}

/// Whether the role's trust still lets the attacker's own account in.
async fn open_to(root: &As, o: &Outside) -> Result<bool, String> {
    authz::trusts(root, &o.role, &format!("arn:aws:iam::{}:root", o.account))
        .await
        .map_err(|e| e.to_string())
}

/// A session the attacker holds: the role, its key, when it was issued and when it expires.
struct Held {
    role: String,
    key_id: String,
    issued: OffsetDateTime,
    expires: OffsetDateTime,
}

/// The sessions minted before the game and during it.
fn sessions(seeded: &Seeded, live: &[AttackerEvent]) -> Vec<Held> {
    let mut out: Vec<Held> = seeded
        .session
        .iter()
        .map(|s| Held {
            role: s.role.clone(),
            key_id: s.key_id.clone(),
            issued: s.issued,
            expires: s.expires,
        })
        .collect();
    for e in live {
        if let Some((key_id, role)) = super::attacker::minted_session(e) {
            out.push(Held {
                role,
                key_id,
                issued: e.at,
                expires: e.at + super::attacker::SESSION_LIFE,
            });
        }
    }
    out
}

async fn region_holdings(root: &As, seeded: &Seeded, region: &str) -> Vec<String> {
    let mut out = Vec::new();
    let ordinary = &seeded.ordinary;
    match root.ec2(region).describe_instances().send().await {
        Ok(found) => {
            let live = found
                .reservations()
                .iter()
                .flat_map(|r| r.instances())
                .filter(|i| {
                    i.state().and_then(|s| s.name()).is_some_and(|n| {
                        !matches!(
                            n,
                            aws_sdk_ec2::types::InstanceStateName::Terminated
                                | aws_sdk_ec2::types::InstanceStateName::ShuttingDown
                        )
                    })
                })
                .filter(|i| {
                    let id = i.instance_id().unwrap_or_default();
                    !ordinary
                        .instances
                        .iter()
                        .any(|(r, o)| r == region && o == id)
                })
                .count();
            match live {
                0 => {}
                1 => out.push(format!("1 instance in {region}")),
                n => out.push(format!("{n} instances in {region}")),
            }
        }
        Err(e) => out.push(format!(
            "instances in {region} unknown: {}",
            keyspill_aws::error::failure("ec2:DescribeInstances", &e)
        )),
    }
    match root
        .autoscaling(region)
        .describe_auto_scaling_groups()
        .send()
        .await
    {
        Ok(groups) => {
            for g in groups.auto_scaling_groups() {
                out.push(format!(
                    "auto scaling group {} in {region} (desired {})",
                    g.auto_scaling_group_name().unwrap_or_default(),
                    g.desired_capacity().unwrap_or(0)
                ));
            }
        }
        Err(e) => out.push(format!(
            "auto scaling groups in {region} unknown: {}",
            keyspill_aws::error::failure("autoscaling:DescribeAutoScalingGroups", &e)
        )),
    }
    match root.lambda(region).list_functions().send().await {
        Ok(fs) => {
            for f in fs.functions() {
                let name = f.function_name().unwrap_or_default();
                if !ordinary
                    .functions
                    .iter()
                    .any(|(r, o)| r == region && o == name)
                {
                    out.push(format!("lambda {name} in {region}"));
                }
            }
        }
        Err(e) => out.push(format!(
            "functions in {region} unknown: {}",
            keyspill_aws::error::failure("lambda:ListFunctions", &e)
        )),
    }
    match root.ec2(region).describe_launch_templates().send().await {
        Ok(ts) => {
            for t in ts.launch_templates() {
                out.push(format!(
                    "launch template {} in {region}",
                    t.launch_template_name().unwrap_or_default()
                ));
            }
        }
        Err(e) => out.push(format!(
            "launch templates in {region} unknown: {}",
            keyspill_aws::error::failure("ec2:DescribeLaunchTemplates", &e)
        )),
    }
    out
}

/// The credentials the attacker can still use, named as the console's foothold model names
/// them: `("leaked-key", id)` while the leaked key is Active, `("access-key", id)` for every
/// Active key of a user the seed did not make for the company, `("session", id)` while the
/// minted session can still act. The game's truth, for comparing with what the console says.
pub async fn attacker_credentials(
    endpoint: &str,
    seeded: &Seeded,
) -> Result<Vec<(String, String)>, String> {
    let root = As::root(endpoint).await;
    let iam = root.iam();
    let mut out = Vec::new();
    if authz::key_is_active(&root, &seeded.leaked.user, &seeded.leaked.key_id)
        .await
        .map_err(|e| e.to_string())?
    {
        out.push(("leaked-key".to_string(), seeded.leaked.key_id.clone()));
    }
    let users = iam
        .list_users()
        .send()
        .await
        .map_err(|e| keyspill_aws::error::failure("iam:ListUsers", &e).to_string())?;
    for u in users.users() {
        let name = u.user_name();
        if seeded.ordinary.users.iter().any(|o| o == name) {
            continue;
        }
        let keys = iam
            .list_access_keys()
            .user_name(name)
            .send()
            .await
            .map_err(|e| keyspill_aws::error::failure("iam:ListAccessKeys", &e).to_string())?;
        for k in keys.access_key_metadata() {
            let active = k
                .status()
                .is_some_and(|s| *s == aws_sdk_iam::types::StatusType::Active);
            // The responder's own key is the response's, not the attacker's.
            if let (true, Some(id)) = (active, k.access_key_id())
                && id != seeded.leaked.key_id
                && id != seeded.responder.key_id
            {
                out.push(("access-key".to_string(), id.to_string()));
            }
        }
    }
    // A trust open to the attacker's account; the sessions minted through it, which the
    // console names by the role (their AssumeRole records carry no key of the incident).
    let mut through_trust = false;
    if let Some(o) = &seeded.outside
        && open_to(&root, o).await?
    {
        out.push(("trust".to_string(), o.role.clone()));
        through_trust = true;
    }
    if let Some(s) = &seeded.session {
        let caller = Caller::Session {
            role: &s.role,
            issued: s.issued,
            expires: s.expires,
        };
        let mut cache = authz::Cache::default();
        let verdict = authz::check(
            &root,
            &caller,
            &["ec2:RunInstances"],
            OffsetDateTime::now_utc(),
            &mut cache,
        )
        .await
        .map_err(|e| e.to_string())?;
        match &seeded.outside {
            Some(o) if o.role == s.role => through_trust |= verdict == Verdict::Allowed,
            _ if verdict == Verdict::Allowed => {
                out.push(("session".to_string(), s.key_id.clone()));
            }
            _ => {}
        }
    }
    out.extend(acting_functions(&root, seeded).await?);
    if let (true, Some(o)) = (through_trust, &seeded.outside) {
        out.push((
            "session".to_string(),
            format!("{}{}", keyspill_core::access::TRUST_SESSIONS, o.role),
        ));
    }
    out.sort();
    Ok(out)
}

/// What a function's role may do that makes it a way back in (a sample of the console's grid:
/// IAM writes, compute, data).
const FUNCTION_REACH: [&str; 4] = [
    "iam:CreateUser",
    "iam:CreateAccessKey",
    "ec2:RunInstances",
    "s3:GetObject",
];

/// The attacker's functions whose role can still act, named as the console names them:
/// `("function", "region/name")`.
async fn acting_functions(root: &As, seeded: &Seeded) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut cache = authz::Cache::default();
    let now = OffsetDateTime::now_utc();
    for region in &seeded.regions {
        let listed = root
            .lambda(region)
            .list_functions()
            .send()
            .await
            .map_err(|e| keyspill_aws::error::failure("lambda:ListFunctions", &e).to_string())?;
        for f in listed.functions() {
            let name = f.function_name().unwrap_or_default();
            if seeded
                .ordinary
                .functions
                .iter()
                .any(|(r, o)| r == region && o == name)
            {
                continue;
            }
            let Some(role) = f.role().and_then(|r| r.rsplit('/').next()) else {
                continue;
            };
            // Each run is a fresh session: issued now, after any revocation.
            let caller = Caller::Session {
                role,
                issued: now,
                expires: now + time::Duration::minutes(15),
            };
            let mut acts = false;
            for action in FUNCTION_REACH {
                acts |= authz::check(root, &caller, &[action], now, &mut cache)
                    .await
                    .map_err(|e| e.to_string())?
                    == Verdict::Allowed;
            }
            if acts {
                out.push(("function".to_string(), format!("{region}/{name}")));
            }
        }
    }
    Ok(out)
}
