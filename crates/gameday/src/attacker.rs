//! The attacker: the calls of its opening minutes (made while seeding) and of the game itself.
//!
//! Every call goes through the same gate before it reaches moto: [`authz::check`] decides, as
//! AWS would, whether the key still authenticates and whether the caller's policies allow the
//! call. A refused call is not sent to moto (which would accept it); it is written to the
//! trail as the failed event AWS would log: `InvalidClientTokenId` for a disabled or deleted
//! key, `ExpiredToken` for an expired session, `AccessDenied` (or the service's own code) when
//! a policy refuses it. Every call that is sent is recorded too, with the ids moto returned.
//!
//! During the game the attacker takes one scripted step per turn (`[[attacker.live]]`), trying
//! the leaked key first and then each backdoor key until one is accepted. The quarantine policy
//! AWS attached to the developer refuses most writes to the leaked key, so the backdoor does
//! most of the work; what quarantine does not cover (Auto Scaling, launch templates, reads)
//! the leaked key keeps doing until it is disabled. Each turn's records go to new log objects
//! in the trail bucket, unless the trail has stopped logging (then they are lost, as in AWS).

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;

use aws_sdk_ec2::types::{InstanceType, RequestLaunchTemplateData};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, Runtime};
use aws_sdk_s3::primitives::ByteStream;
use serde_json::json;
use time::{Duration, OffsetDateTime};
use tokio::sync::watch;

use super::authz::{self, Caller, Verdict};
use super::clients::{As, Failure, GLOBAL_REGION, Sent};
use super::events::{self, Group, Launch, Launched, Minted, NewFunction};
use super::history::RoleRef;
use super::record::{self, Actor, Call as Rec, Planned};
use super::rng::Rng;
use super::scenario::{Call, Scenario, Step, With};
use super::{AttackerEvent, Creds, Made, PlantedLog, Seeded, SessionCreds};

/// The policy the attacker gives its backdoor user.
pub(crate) const ADMIN_POLICY: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

const INVALID_TOKEN: (&str, &str) = (
    "InvalidClientTokenId",
    "The security token included in the request is invalid.",
);
const EXPIRED_TOKEN: (&str, &str) = (
    "ExpiredToken",
    "The security token included in the request is expired",
);

/// Which of the attacker's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Who {
    Leaked,
    Session,
    Backdoor(usize),
}

/// One set of credentials the attacker holds.
#[derive(Debug, Clone)]
pub(crate) struct Ident {
    pub kind: With,
    /// The IAM user, or the role of a session.
    pub user: String,
    /// The user's id, or the role's id.
    pub principal_id: String,
    pub key: String,
    pub secret: String,
    pub token: Option<String>,
    pub session_name: String,
    pub issued: OffsetDateTime,
    pub expires: OffsetDateTime,
    client: Option<As>,
}

impl Ident {
    pub(crate) fn user(kind: With, creds: &Creds, user_id: &str) -> Ident {
        Ident {
            kind,
            user: creds.user.clone(),
            principal_id: user_id.to_string(),
            key: creds.key_id.clone(),
            secret: creds.secret.clone(),
            token: None,
            session_name: String::new(),
            issued: OffsetDateTime::UNIX_EPOCH,
            expires: OffsetDateTime::UNIX_EPOCH,
            client: None,
        }
    }

    pub(crate) fn session(s: &SessionCreds, role_id: &str) -> Ident {
        Ident {
            kind: With::Session,
            user: s.role.clone(),
            principal_id: role_id.to_string(),
            key: s.key_id.clone(),
            secret: s.secret.clone(),
            token: Some(s.token.clone()),
            session_name: s.session_name.clone(),
            issued: s.issued,
            expires: s.expires,
            client: None,
        }
    }

    pub(crate) fn creds(&self) -> Creds {
        Creds {
            user: self.user.clone(),
            key_id: self.key.clone(),
            secret: self.secret.clone(),
        }
    }

    fn actor(&self, account: &str) -> Actor {
        match self.kind {
            With::Session => record::assumed_role(
                account,
                &self.user,
                &self.principal_id,
                &self.session_name,
                &self.key,
                self.issued,
            ),
            With::Leaked | With::Backdoor => {
                record::iam_user(account, &self.user, &self.principal_id, &self.key)
            }
        }
    }
}

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tried {
    /// Refused before reaching moto (bad key, policy): another identity may try.
    Refused,
    /// Sent; `ok` says whether moto accepted it.
    Sent { ok: bool },
}

/// The result of one sub-call.
enum Outcome<T> {
    Refused,
    Failed,
    Done(T),
}

/// Everything the attacker needs to act, during seeding and during the game.
pub(crate) struct Engine<'s> {
    pub scenario: &'s Scenario,
    pub endpoint: String,
    pub root: As,
    pub account: String,
    pub trail_name: String,
    pub trail_arn: String,
    pub trail_region: String,
    pub bucket: String,
    pub deploy_role: RoleRef,
    pub lambda_role_arn: String,
    /// Choices (regions, names, counts).
    pub rng: Rng,
    /// Record and object ids.
    pub ids: Rng,
    cache: authz::Cache,
    pub leaked: Ident,
    pub session: Option<Ident>,
    pub backdoors: Vec<Ident>,
    pub backdoor_user: String,
    pub backdoor_user_id: String,
    /// Index in `backdoor_names` of the next name to use when the backdoor must be re-made.
    pub next_backdoor: usize,
    /// The regions it has used.
    pub regions: Vec<String>,
    /// Regions it has not used yet (the live game moves there).
    pub fresh: VecDeque<String>,
    pub made: Made,
    /// What it launched: (region, instance type, count), for the cost history.
    pub fleet: Vec<(String, String, usize)>,
    /// Records not yet delivered.
    pub records: Vec<Planned>,
    pub events: Vec<AttackerEvent>,
    pub log: Option<Arc<dyn Fn(AttackerEvent) + Send + Sync>>,
    /// A launch template made this turn whose group is still to be made: (region, name, id).
    template: Option<(String, String, String)>,
    /// During the game (record times are real), not while seeding (times are scripted).
    pub live: bool,
}

impl<'s> Engine<'s> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        scenario: &'s Scenario,
        endpoint: &str,
        root: As,
        account: &str,
        leaked: Ident,
        rng: Rng,
        ids: Rng,
    ) -> Engine<'s> {
        Engine {
            scenario,
            endpoint: endpoint.to_string(),
            root,
            account: account.to_string(),
            trail_name: String::new(),
            trail_arn: String::new(),
            trail_region: GLOBAL_REGION.to_string(),
            bucket: String::new(),
            deploy_role: RoleRef {
                name: String::new(),
                id: String::new(),
                arn: String::new(),
            },
            lambda_role_arn: String::new(),
            rng,
            ids,
            cache: authz::Cache::default(),
            leaked,
            session: None,
            backdoors: Vec::new(),
            backdoor_user: String::new(),
            backdoor_user_id: String::new(),
            next_backdoor: 0,
            regions: Vec::new(),
            fresh: VecDeque::new(),
            made: Made::default(),
            fleet: Vec::new(),
            records: Vec::new(),
            events: Vec::new(),
            log: None,
            template: None,
            live: false,
        }
    }

    /// The time of a call that follows one made at `t`: `seconds` later in the script, or
    /// the present during the game.
    fn later(&self, t: OffsetDateTime, seconds: i64) -> OffsetDateTime {
        if self.live {
            OffsetDateTime::now_utc().max(t)
        } else {
            t + Duration::seconds(seconds)
        }
    }

    fn ident(&self, who: Who) -> Option<&Ident> {
        match who {
            Who::Leaked => Some(&self.leaked),
            Who::Session => self.session.as_ref(),
            Who::Backdoor(i) => self.backdoors.get(i),
        }
    }

    fn ident_mut(&mut self, who: Who) -> Option<&mut Ident> {
        match who {
            Who::Leaked => Some(&mut self.leaked),
            Who::Session => self.session.as_mut(),
            Who::Backdoor(i) => self.backdoors.get_mut(i),
        }
    }

    /// The SDK configuration of an identity (made once).
    async fn client(&mut self, who: Who) -> Option<As> {
        let endpoint = self.endpoint.clone();
        let ident = self.ident_mut(who)?;
        if ident.client.is_none() {
            ident.client =
                Some(As::new(&endpoint, &ident.key, &ident.secret, ident.token.as_deref()).await);
        }
        ident.client.clone()
    }

    /// Source address and user agent for a call (`scanner` for the secret scanner).
    fn voice(&self, who: Who, agent: Option<&str>) -> (String, String) {
        let a = &self.scenario.attacker;
        if agent == Some("scanner") {
            return (a.scanner_address.clone(), a.scanner_agent.clone());
        }
        let first = |v: &Vec<String>| v.first().cloned().unwrap_or_default();
        let last = |v: &Vec<String>| v.last().cloned().unwrap_or_default();
        match who {
            Who::Leaked | Who::Session => (first(&a.addresses), first(&a.agents)),
            Who::Backdoor(_) => (last(&a.addresses), last(&a.agents)),
        }
    }

    fn note(&mut self, event: AttackerEvent) {
        if let Some(log) = &self.log {
            log(event.clone());
        }
        self.events.push(event);
    }

    /// Records `call` as made by `who` (IAM calls are delivered to us-east-1).
    fn record(&mut self, who: Who, call: &Rec) {
        let Some(ident) = self.ident(who) else {
            return;
        };
        let actor = ident.actor(&self.account);
        self.record_as(&actor, call);
    }

    fn record_as(&mut self, actor: &Actor, call: &Rec) {
        let region = if call.service == "iam" {
            GLOBAL_REGION.to_string()
        } else {
            call.region.clone()
        };
        let record = record::record(&self.account, actor, call, &mut self.ids);
        self.records.push(Planned {
            region,
            time: call.time,
            record,
        });
    }

    /// Whether AWS would accept `actions` from `who` at `t`: `None` if so, else the error
    /// code and message it would answer with. Fails when moto cannot be asked.
    async fn refusal(
        &mut self,
        who: Who,
        actions: &[&str],
        t: OffsetDateTime,
        region: &str,
    ) -> Result<Option<(String, String)>, Failure> {
        let Some(ident) = self.ident(who).cloned() else {
            return Ok(Some(own(INVALID_TOKEN)));
        };
        let caller = match ident.kind {
            With::Session => Caller::Session {
                role: &ident.user,
                issued: ident.issued,
                expires: ident.expires,
            },
            With::Leaked | With::Backdoor => Caller::User {
                name: &ident.user,
                key: &ident.key,
            },
        };
        let verdict = authz::check(&self.root, &caller, actions, t, &mut self.cache).await?;
        Ok(match verdict {
            Verdict::Allowed => None,
            Verdict::BadToken => Some(own(INVALID_TOKEN)),
            Verdict::Expired => Some(own(EXPIRED_TOKEN)),
            Verdict::Denied { explicit, action } => {
                let arn = ident.actor(&self.account).arn;
                Some(denial(
                    &self.account,
                    region,
                    &arn,
                    &action,
                    explicit.as_deref(),
                ))
            }
        })
    }

    /// One call: the gate, then (if accepted) `exec` with the identity's client. `base` is the
    /// call's record without a response, used when it fails. `exec` returns the full record,
    /// a detail for the event and whatever the caller needs back.
    async fn sub<T, F, Fut>(
        &mut self,
        who: Who,
        action: &str,
        checks: &[&str],
        base: Rec,
        exec: F,
    ) -> Outcome<T>
    where
        F: FnOnce(As) -> Fut,
        Fut: Future<Output = Result<(Rec, String, T), Failure>>,
    {
        let t = base.time;
        let region = base.region.clone();
        let key = self.ident(who).map(|i| i.key.clone()).unwrap_or_default();
        let mut event = AttackerEvent {
            at: t,
            with: key,
            call: action.to_string(),
            region: region.clone(),
            ok: false,
            detail: String::new(),
            code: None,
        };
        match self.refusal(who, checks, t, &region).await {
            Ok(None) => {}
            Ok(Some((code, message))) => {
                self.record(who, &base.clone().failed(&code, &message));
                event.detail = format!("{code}: {message}");
                event.code = Some(code);
                self.note(event);
                return Outcome::Refused;
            }
            // Nothing is sent and nothing recorded when the gate itself cannot be asked.
            Err(e) => {
                tracing::warn!("game day: could not check the attacker's access: {e}");
                return Outcome::Refused;
            }
        }
        let Some(client) = self.client(who).await else {
            return Outcome::Refused;
        };
        match exec(client).await {
            Ok((call, detail, value)) => {
                self.record(who, &call);
                event.ok = true;
                event.detail = detail;
                self.note(event);
                Outcome::Done(value)
            }
            Err(f) => {
                let code = f.code.clone().unwrap_or_else(|| "InternalFailure".into());
                self.record(who, &base.failed(&code, &f.text));
                event.detail = format!("{code}: {}", f.text);
                event.code = Some(code);
                self.note(event);
                Outcome::Failed
            }
        }
    }

    /// A step's region reference (see the scenario file) to a region name.
    pub(crate) fn region_for(&mut self, reference: Option<&str>) -> String {
        let reference = reference.unwrap_or(GLOBAL_REGION);
        if reference == "new"
            && let Some(r) = self.fresh.front()
        {
            return r.clone();
        }
        if reference == "new" || reference == "any" {
            let r = self
                .rng
                .pick(&self.regions)
                .cloned()
                .unwrap_or_else(|| GLOBAL_REGION.to_string());
            return r;
        }
        if let Some(n) = reference.strip_prefix("attacker:") {
            let i = n.parse::<usize>().unwrap_or(0);
            if let Some(r) = self.regions.get(i) {
                return r.clone();
            }
        }
        reference.to_string()
    }

    /// A region now used: leaves the fresh list, joins the used list.
    fn used(&mut self, region: &str) {
        if let Some(i) = self.fresh.iter().position(|r| r == region) {
            self.fresh.remove(i);
        }
        if !self.regions.iter().any(|r| r == region) {
            self.regions.push(region.to_string());
        }
    }

    fn count(&mut self, step: &Step) -> u32 {
        let [lo, hi] = step.count.unwrap_or([1, 1]);
        u32::try_from(self.rng.range(u64::from(lo), u64::from(hi))).unwrap_or(1)
    }

    fn instance_type(&mut self) -> String {
        self.rng
            .pick(&self.scenario.attacker.instance_types)
            .cloned()
            .unwrap_or_else(|| "c5.4xlarge".into())
    }

    fn pooled(pool: &[String], n: usize) -> String {
        let base = pool
            .get(n % pool.len().max(1))
            .cloned()
            .unwrap_or_else(|| "worker".into());
        match n / pool.len().max(1) {
            0 => base,
            round => format!("{base}-{}", round + 1),
        }
    }

    /// Takes one step as `who` at `t`, in `region`.
    pub(crate) async fn step(
        &mut self,
        who: Who,
        step: &Step,
        region: &str,
        t: OffsetDateTime,
    ) -> Tried {
        let (ip, agent) = self.voice(who, step.agent.as_deref());
        let with = |c: Rec| c.from(&ip, &agent);
        let outcome = match step.call {
            Call::GetCallerIdentity => {
                let base = with(events::get_caller_identity(t, region));
                let r = region.to_string();
                self.sub(
                    who,
                    "sts:GetCallerIdentity",
                    &[],
                    base.clone(),
                    |c| async move {
                        let out = c
                            .sts(&r)
                            .get_caller_identity()
                            .send()
                            .await
                            .sent("sts:GetCallerIdentity")?;
                        Ok((base, out.arn().unwrap_or_default().to_string(), ()))
                    },
                )
                .await
            }
            Call::ListBuckets => {
                let base = with(events::list_buckets(t));
                self.sub(
                    who,
                    "s3:ListAllMyBuckets",
                    &["s3:ListAllMyBuckets"],
                    base.clone(),
                    |c| async move {
                        let out = c.s3().list_buckets().send().await.sent("s3:ListBuckets")?;
                        Ok((base, format!("{} buckets", out.buckets().len()), ()))
                    },
                )
                .await
            }
            Call::DescribeRegions => {
                let base = with(events::describe_regions(t, region));
                let r = region.to_string();
                self.sub(
                    who,
                    "ec2:DescribeRegions",
                    &["ec2:DescribeRegions"],
                    base.clone(),
                    |c| async move {
                        let out = c
                            .ec2(&r)
                            .describe_regions()
                            .all_regions(true)
                            .send()
                            .await
                            .sent("ec2:DescribeRegions")?;
                        Ok((base, format!("{} regions", out.regions().len()), ()))
                    },
                )
                .await
            }
            Call::DescribeInstances => {
                let base = with(events::describe_instances(t, region));
                let r = region.to_string();
                self.sub(
                    who,
                    "ec2:DescribeInstances",
                    &["ec2:DescribeInstances"],
                    base.clone(),
                    |c| async move {
                        let out = c
                            .ec2(&r)
                            .describe_instances()
                            .send()
                            .await
                            .sent("ec2:DescribeInstances")?;
                        let n: usize = out.reservations().iter().map(|r| r.instances().len()).sum();
                        Ok((base, format!("{n} instances in {r}"), ()))
                    },
                )
                .await
            }
            Call::CreateUser => self.create_user(who, t, &ip, &agent).await,
            Call::CreateAccessKey => self.persist(who, t, &ip, &agent).await,
            Call::AttachUserPolicy => {
                let user = self.backdoor_user.clone();
                let base = with(events::attach_user_policy(t, &user, ADMIN_POLICY));
                self.sub(
                    who,
                    "iam:AttachUserPolicy",
                    &["iam:AttachUserPolicy"],
                    base.clone(),
                    |c| async move {
                        c.iam()
                            .attach_user_policy()
                            .user_name(&user)
                            .policy_arn(ADMIN_POLICY)
                            .send()
                            .await
                            .sent("iam:AttachUserPolicy")?;
                        Ok((base, format!("AdministratorAccess on {user}"), ()))
                    },
                )
                .await
            }
            Call::AssumeRole => self.assume_role(who, t, region, &ip, &agent).await,
            Call::RunInstances => {
                let count = self.count(step);
                let kind = self.instance_type();
                let base = with(events::run_instances_refused(
                    t,
                    region,
                    &self.scenario.image,
                    &kind,
                    count,
                ));
                let (r, image, owner) = (
                    region.to_string(),
                    self.scenario.image.clone(),
                    self.account.clone(),
                );
                let out = self
                    .sub(
                        who,
                        "ec2:RunInstances",
                        &["ec2:RunInstances"],
                        base.clone(),
                        |c| async move {
                            let out = c
                                .ec2(&r)
                                .run_instances()
                                .image_id(&image)
                                .instance_type(InstanceType::from(kind.as_str()))
                                .min_count(i32::try_from(count).unwrap_or(1))
                                .max_count(i32::try_from(count).unwrap_or(1))
                                .send()
                                .await
                                .sent("ec2:RunInstances")?;
                            let launched = launched(out.instances());
                            let ids: Vec<&str> = launched.iter().map(|l| l.id.as_str()).collect();
                            let detail = format!("{} × {kind}: {}", launched.len(), ids.join(", "));
                            let call = events::run_instances(
                                t,
                                &r,
                                &Launch {
                                    image: &image,
                                    instance_type: &kind,
                                    count,
                                    key_name: None,
                                    reservation: out.reservation_id().unwrap_or_default(),
                                    owner: out.owner_id().unwrap_or(&owner),
                                    launched: &launched,
                                },
                            );
                            Ok((
                                call.from(&base.ip, &base.agent),
                                detail,
                                (launched.len(), kind),
                            ))
                        },
                    )
                    .await;
                match out {
                    Outcome::Done((n, kind)) => {
                        self.made.instances += n;
                        self.fleet.push((region.to_string(), kind, n));
                        self.used(region);
                        Outcome::Done(())
                    }
                    Outcome::Refused => Outcome::Refused,
                    Outcome::Failed => Outcome::Failed,
                }
            }
            Call::CreateAutoScalingGroup => {
                self.auto_scaling_group(who, step, t, region, &ip, &agent)
                    .await
            }
            Call::CreateFunction => self.create_function(who, t, region, &ip, &agent).await,
            Call::StopLogging => {
                let trail_region = self.trail_region.clone();
                let base = with(events::stop_logging(t, &trail_region, &self.trail_arn));
                let arn = self.trail_arn.clone();
                self.sub(
                    who,
                    "cloudtrail:StopLogging",
                    &["cloudtrail:StopLogging"],
                    base.clone(),
                    |c| async move {
                        c.cloudtrail(&trail_region)
                            .stop_logging()
                            .name(&arn)
                            .send()
                            .await
                            .sent("cloudtrail:StopLogging")?;
                        Ok((base, format!("stopped {arn}"), ()))
                    },
                )
                .await
            }
        };
        tried(&outcome)
    }

    async fn create_user(
        &mut self,
        who: Who,
        t: OffsetDateTime,
        ip: &str,
        agent: &str,
    ) -> Outcome<()> {
        let name = self.backdoor_user.clone();
        let base = events::create_user(t, &name, "", "", t).from(ip, agent);
        let base = Rec {
            response: serde_json::Value::Null,
            ..base
        };
        let account = self.account.clone();
        let (ip, agent) = (ip.to_string(), agent.to_string());
        let out = self
            .sub(
                who,
                "iam:CreateUser",
                &["iam:CreateUser"],
                base,
                |c| async move {
                    let out = c
                        .iam()
                        .create_user()
                        .user_name(&name)
                        .send()
                        .await
                        .sent("iam:CreateUser")?;
                    let user = out.user();
                    let id = user.map(|u| u.user_id().to_string()).unwrap_or_default();
                    let arn = user
                        .map(|u| u.arn().to_string())
                        .unwrap_or_else(|| format!("arn:aws:iam::{account}:user/{name}"));
                    let call = events::create_user(t, &name, &id, &arn, t).from(&ip, &agent);
                    Ok((call, format!("user {name}"), id))
                },
            )
            .await;
        match out {
            Outcome::Done(id) => {
                self.backdoor_user_id = id;
                Outcome::Done(())
            }
            Outcome::Refused => Outcome::Refused,
            Outcome::Failed => Outcome::Failed,
        }
    }

    /// A key for the backdoor user. During the game, when the responder removed the backdoor
    /// user, a new one is made first (user, key, admin policy) under the next name.
    async fn persist(&mut self, who: Who, t: OffsetDateTime, ip: &str, agent: &str) -> Outcome<()> {
        let exists = !self.backdoor_user.is_empty()
            && self
                .root
                .iam()
                .get_user()
                .user_name(&self.backdoor_user)
                .send()
                .await
                .is_ok();
        if !exists {
            let pool = self.scenario.attacker.backdoor_names.clone();
            let name = Self::pooled(&pool, self.next_backdoor);
            let previous = std::mem::replace(&mut self.backdoor_user, name);
            match self.create_user(who, t, ip, agent).await {
                Outcome::Done(()) => self.next_backdoor += 1,
                other => {
                    self.backdoor_user = previous;
                    return other;
                }
            }
            let policy =
                events::attach_user_policy(t, &self.backdoor_user, ADMIN_POLICY).from(ip, agent);
            let user = self.backdoor_user.clone();
            let attached = self
                .sub(
                    who,
                    "iam:AttachUserPolicy",
                    &["iam:AttachUserPolicy"],
                    policy.clone(),
                    |c| async move {
                        c.iam()
                            .attach_user_policy()
                            .user_name(&user)
                            .policy_arn(ADMIN_POLICY)
                            .send()
                            .await
                            .sent("iam:AttachUserPolicy")?;
                        Ok((policy, format!("AdministratorAccess on {user}"), ()))
                    },
                )
                .await;
            if !matches!(attached, Outcome::Done(())) {
                return attached;
            }
        }
        let user = self.backdoor_user.clone();
        let user_id = self.backdoor_user_id.clone();
        let base = events::create_access_key(t, &user, "", t).from(ip, agent);
        let base = Rec {
            response: serde_json::Value::Null,
            ..base
        };
        let (ip, agent) = (ip.to_string(), agent.to_string());
        let out = self
            .sub(
                who,
                "iam:CreateAccessKey",
                &["iam:CreateAccessKey"],
                base,
                |c| async move {
                    let out = c
                        .iam()
                        .create_access_key()
                        .user_name(&user)
                        .send()
                        .await
                        .sent("iam:CreateAccessKey")?;
                    let Some(k) = out.access_key() else {
                        return Err(Failure {
                            code: None,
                            text: "iam:CreateAccessKey: moto returned no key".into(),
                        });
                    };
                    let creds = Creds {
                        user: user.clone(),
                        key_id: k.access_key_id().to_string(),
                        secret: k.secret_access_key().to_string(),
                    };
                    let call =
                        events::create_access_key(t, &user, &creds.key_id, t).from(&ip, &agent);
                    Ok((call, format!("key {} for {user}", creds.key_id), creds))
                },
            )
            .await;
        match out {
            Outcome::Done(creds) => {
                self.backdoors
                    .push(Ident::user(With::Backdoor, &creds, &user_id));
                Outcome::Done(())
            }
            Outcome::Refused => Outcome::Refused,
            Outcome::Failed => Outcome::Failed,
        }
    }

    async fn assume_role(
        &mut self,
        who: Who,
        t: OffsetDateTime,
        region: &str,
        ip: &str,
        agent: &str,
    ) -> Outcome<()> {
        let role = self.deploy_role.clone();
        let session = self.scenario.attacker.session_name.clone();
        let base = events::assume_role(
            t,
            region,
            &Minted {
                role_arn: &role.arn,
                role_id: &role.id,
                session: &session,
                key: "",
                token: "",
                duration: 3600,
            },
        )
        .from(ip, agent);
        let base = Rec {
            response: serde_json::Value::Null,
            ..base
        };
        // The role's trust policy must name the caller.
        let caller_arn = self
            .ident(who)
            .map(|i| i.actor(&self.account).arn)
            .unwrap_or_default();
        let trusted = authz::trusts(&self.root, &role.name, &caller_arn)
            .await
            .unwrap_or(false);
        if !trusted && matches!(self.refusal(who, &[], t, region).await, Ok(None)) {
            let (code, message) = (
                "AccessDenied".to_string(),
                format!(
                    "User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {}",
                    role.arn
                ),
            );
            self.record(who, &base.failed(&code, &message));
            let key = self.ident(who).map(|i| i.key.clone()).unwrap_or_default();
            self.note(AttackerEvent {
                at: t,
                with: key,
                call: "sts:AssumeRole".into(),
                region: region.to_string(),
                ok: false,
                detail: format!("{code}: {message}"),
                code: Some(code),
            });
            return Outcome::Refused;
        }
        let r = region.to_string();
        let (ip, agent) = (ip.to_string(), agent.to_string());
        let out = self
            .sub(
                who,
                "sts:AssumeRole",
                &["sts:AssumeRole"],
                base,
                |c| async move {
                    let out = c
                        .sts(&r)
                        .assume_role()
                        .role_arn(&role.arn)
                        .role_session_name(&session)
                        .duration_seconds(3600)
                        .send()
                        .await
                        .sent("sts:AssumeRole")?;
                    let Some(k) = out.credentials() else {
                        return Err(Failure {
                            code: None,
                            text: "sts:AssumeRole: moto returned no credentials".into(),
                        });
                    };
                    let s = SessionCreds {
                        role: role.name.clone(),
                        session_name: session.clone(),
                        key_id: k.access_key_id().to_string(),
                        secret: k.secret_access_key().to_string(),
                        token: k.session_token().to_string(),
                        issued: t,
                        expires: t + Duration::seconds(3600),
                    };
                    let call = events::assume_role(
                        t,
                        &r,
                        &Minted {
                            role_arn: &role.arn,
                            role_id: &role.id,
                            session: &session,
                            key: &s.key_id,
                            token: &s.token,
                            duration: 3600,
                        },
                    )
                    .from(&ip, &agent);
                    Ok((call, format!("session {} as {}", s.key_id, role.name), s))
                },
            )
            .await;
        match out {
            Outcome::Done(s) => {
                self.session = Some(Ident::session(&s, &self.deploy_role.id));
                Outcome::Done(())
            }
            Outcome::Refused => Outcome::Refused,
            Outcome::Failed => Outcome::Failed,
        }
    }

    async fn auto_scaling_group(
        &mut self,
        who: Who,
        step: &Step,
        t: OffsetDateTime,
        region: &str,
        ip: &str,
        agent: &str,
    ) -> Outcome<()> {
        let name = Self::pooled(&self.scenario.attacker.group_names, self.made.groups);
        let size = self.count(step);
        let kind = self.instance_type();
        let image = self.scenario.image.clone();
        // A template made by an identity earlier this turn is used again.
        let template = match self.template.clone() {
            Some((r, n, id)) if r == region && n == format!("{name}-lt") => id,
            _ => {
                let lt_name = format!("{name}-lt");
                let base = events::create_launch_template(t, region, &lt_name, "", &image, &kind)
                    .from(ip, agent);
                let (r, image, kind) = (region.to_string(), image.clone(), kind.clone());
                let made = self
                    .sub(
                        who,
                        "ec2:CreateLaunchTemplate",
                        &["ec2:CreateLaunchTemplate"],
                        base.clone(),
                        |c| async move {
                            let out = c
                                .ec2(&r)
                                .create_launch_template()
                                .launch_template_name(&lt_name)
                                .launch_template_data(
                                    RequestLaunchTemplateData::builder()
                                        .image_id(&image)
                                        .instance_type(InstanceType::from(kind.as_str()))
                                        .build(),
                                )
                                .send()
                                .await
                                .sent("ec2:CreateLaunchTemplate")?;
                            let id = out
                                .launch_template()
                                .and_then(|l| l.launch_template_id())
                                .unwrap_or_default()
                                .to_string();
                            let call =
                                events::create_launch_template(t, &r, &lt_name, &id, &image, &kind)
                                    .from(&base.ip, &base.agent);
                            Ok((
                                call,
                                format!("launch template {lt_name} ({id})"),
                                (lt_name, id),
                            ))
                        },
                    )
                    .await;
                match made {
                    Outcome::Done((lt_name, id)) => {
                        self.template = Some((region.to_string(), lt_name, id.clone()));
                        id
                    }
                    Outcome::Refused => return Outcome::Refused,
                    Outcome::Failed => return Outcome::Failed,
                }
            }
        };
        let zone = format!("{region}a");
        // The group comes after its template: a second later in the script, at the real time
        // of the call during the game.
        let t = self.later(t, 1);
        let base = events::create_auto_scaling_group(
            t,
            region,
            &Group {
                name: &name,
                template_id: &template,
                size,
                zone: &zone,
            },
        )
        .from(ip, agent);
        let r = region.to_string();
        let group_name = name.clone();
        let made = self
            .sub(
                who,
                "autoscaling:CreateAutoScalingGroup",
                &["autoscaling:CreateAutoScalingGroup"],
                base.clone(),
                |c| async move {
                    c.autoscaling(&r)
                        .create_auto_scaling_group()
                        .auto_scaling_group_name(&group_name)
                        .launch_template(
                            aws_sdk_autoscaling::types::LaunchTemplateSpecification::builder()
                                .launch_template_id(&template)
                                .version("$Latest")
                                .build(),
                        )
                        .min_size(i32::try_from(size).unwrap_or(1))
                        .max_size(i32::try_from(size).unwrap_or(1))
                        .desired_capacity(i32::try_from(size).unwrap_or(1))
                        .availability_zones(&zone)
                        .send()
                        .await
                        .sent("autoscaling:CreateAutoScalingGroup")?;
                    let detail = format!("group {group_name} of {size} × {kind}");
                    Ok((base, detail, kind))
                },
            )
            .await;
        match made {
            Outcome::Done(kind) => {
                self.template = None;
                self.made.groups += 1;
                let n = usize::try_from(size).unwrap_or(0);
                self.made.instances += n;
                self.fleet.push((region.to_string(), kind, n));
                self.used(region);
                let launched_at = self.later(t, 1);
                self.group_launches(&name, region, launched_at).await;
                Outcome::Done(())
            }
            Outcome::Refused => Outcome::Refused,
            Outcome::Failed => Outcome::Failed,
        }
    }

    /// The instances a new group launched, recorded as Auto Scaling's own `RunInstances`.
    async fn group_launches(&mut self, group: &str, region: &str, t: OffsetDateTime) {
        let Ok(groups) = self
            .root
            .autoscaling(region)
            .describe_auto_scaling_groups()
            .auto_scaling_group_names(group)
            .send()
            .await
        else {
            return;
        };
        let ids: Vec<String> = groups
            .auto_scaling_groups()
            .iter()
            .flat_map(|g| g.instances())
            .filter_map(|i| i.instance_id().map(str::to_string))
            .collect();
        if ids.is_empty() {
            return;
        }
        let Ok(found) = self
            .root
            .ec2(region)
            .describe_instances()
            .set_instance_ids(Some(ids))
            .send()
            .await
        else {
            return;
        };
        let instances: Vec<aws_sdk_ec2::types::Instance> = found
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .cloned()
            .collect();
        let list = launched(&instances);
        let kind = instances
            .first()
            .and_then(|i| i.instance_type())
            .map(|k| k.as_str().to_string())
            .unwrap_or_default();
        let call = events::run_instances(
            t,
            region,
            &Launch {
                image: &self.scenario.image,
                instance_type: &kind,
                count: u32::try_from(list.len()).unwrap_or(0),
                key_name: None,
                reservation: found
                    .reservations()
                    .first()
                    .and_then(|r| r.reservation_id())
                    .unwrap_or_default(),
                owner: &self.account,
                launched: &list,
            },
        )
        .from("autoscaling.amazonaws.com", "autoscaling.amazonaws.com");
        let mut actor = record::assumed_role(
            &self.account,
            "AWSServiceRoleForAutoScaling",
            "AROAAUTOSCALINGSERVICE",
            "AutoScaling",
            "",
            t,
        );
        if let Some(map) = actor.identity.as_object_mut() {
            map.remove("accessKeyId");
            map.insert("invokedBy".into(), json!("autoscaling.amazonaws.com"));
        }
        self.record_as(&actor, &call);
    }

    async fn create_function(
        &mut self,
        who: Who,
        t: OffsetDateTime,
        region: &str,
        ip: &str,
        agent: &str,
    ) -> Outcome<()> {
        let name = Self::pooled(&self.scenario.attacker.function_names, self.made.functions);
        let role_arn = self.lambda_role_arn.clone();
        let base = events::create_function(
            t,
            region,
            &NewFunction {
                name: &name,
                arn: "",
                role_arn: &role_arn,
                code_size: 0,
                sha: "",
            },
        )
        .from(ip, agent);
        let r = region.to_string();
        let made = self
            .sub(
                who,
                "lambda:CreateFunction",
                &["lambda:CreateFunction", "iam:PassRole"],
                base.clone(),
                |c| async move {
                    let out = c
                        .lambda(&r)
                        .create_function()
                        .function_name(&name)
                        .runtime(Runtime::Python312)
                        .role(&role_arn)
                        .handler("main.handler")
                        .timeout(900)
                        .memory_size(3008)
                        .code(
                            FunctionCode::builder()
                                .zip_file(Blob::new(zip_one("main.py", RELAY_CODE)))
                                .build(),
                        )
                        .send()
                        .await
                        .sent("lambda:CreateFunction")?;
                    let arn = out.function_arn().unwrap_or_default().to_string();
                    let call = events::create_function(
                        t,
                        &r,
                        &NewFunction {
                            name: &name,
                            arn: &arn,
                            role_arn: &role_arn,
                            code_size: out.code_size(),
                            sha: out.code_sha256().unwrap_or_default(),
                        },
                    )
                    .from(&base.ip, &base.agent);
                    Ok((call, format!("function {name}"), ()))
                },
            )
            .await;
        if let Outcome::Done(()) = made {
            self.made.functions += 1;
            self.used(region);
        }
        made
    }

    /// Delivers the records not yet delivered: one new log object per region, named for
    /// `now`, unless the trail has stopped logging (they are dropped, as AWS would not have
    /// recorded them). Returns the objects written.
    pub(crate) async fn deliver(&mut self, now: OffsetDateTime) -> Vec<PlantedLog> {
        let records = std::mem::take(&mut self.records);
        if records.is_empty() {
            return Vec::new();
        }
        let logging = self
            .root
            .cloudtrail(&self.trail_region)
            .get_trail_status()
            .name(&self.trail_arn)
            .send()
            .await
            .map(|s| s.is_logging().unwrap_or(false));
        match logging {
            Ok(true) => {}
            Ok(false) => return Vec::new(),
            Err(e) => {
                tracing::warn!(
                    "game day: trail status unknown, records dropped: {}",
                    super::clients::failure("cloudtrail:GetTrailStatus", &e)
                );
                return Vec::new();
            }
        }
        let objects = match record::pack(
            &self.account,
            records,
            Duration::minutes(5),
            now,
            &mut self.ids,
        ) {
            Ok(o) => o,
            Err(e) => {
                tracing::warn!("game day: log objects not made: {e}");
                return Vec::new();
            }
        };
        let mut written = Vec::new();
        for o in objects {
            let put = self
                .root
                .s3()
                .put_object()
                .bucket(&self.bucket)
                .key(&o.key)
                .content_type("application/x-gzip")
                .body(ByteStream::from(o.body))
                .send()
                .await;
            match put {
                Ok(_) => written.push(PlantedLog {
                    key: o.key,
                    event_ids: o.event_ids,
                }),
                Err(e) => tracing::warn!(
                    "game day: log object {} not written: {}",
                    o.key,
                    super::clients::failure("s3:PutObject", &e)
                ),
            }
        }
        written
    }

    /// The identities to try during the game, in order: the leaked key, then each backdoor key.
    fn candidates(&self) -> Vec<Who> {
        std::iter::once(Who::Leaked)
            .chain((0..self.backdoors.len()).map(Who::Backdoor))
            .collect()
    }

    /// What a live step becomes once the attacker's limits are reached.
    async fn within_limits(&mut self, step: &Step) -> Step {
        let limits = &self.scenario.attacker.limits;
        let recon = Step {
            at: 0,
            call: Call::DescribeInstances,
            with: None,
            region: Some("any".into()),
            agent: None,
            count: None,
        };
        let full = match step.call {
            Call::RunInstances => self.made.instances >= limits.instances,
            Call::CreateAutoScalingGroup => {
                self.made.groups >= limits.groups || self.made.instances >= limits.instances
            }
            Call::CreateFunction => self.made.functions >= limits.functions,
            Call::CreateAccessKey => {
                let keys = self
                    .root
                    .iam()
                    .list_access_keys()
                    .user_name(&self.backdoor_user)
                    .send()
                    .await
                    .map(|o| o.access_key_metadata().len())
                    .unwrap_or(0);
                keys >= limits.backdoor_keys
            }
            _ => false,
        };
        if full { recon } else { step.clone() }
    }

    /// One live turn: the step, tried with each identity until one is accepted, then the
    /// records delivered.
    async fn turn(&mut self, step: &Step) {
        let step = self.within_limits(step).await;
        let region = self.region_for(step.region.as_deref());
        self.template = None;
        let now = OffsetDateTime::now_utc();
        for who in self.candidates() {
            if let Tried::Sent { .. } = self.step(who, &step, &region, now).await {
                break;
            }
        }
        self.deliver(OffsetDateTime::now_utc()).await;
    }
}

fn tried<T>(o: &Outcome<T>) -> Tried {
    match o {
        Outcome::Refused => Tried::Refused,
        Outcome::Failed => Tried::Sent { ok: false },
        Outcome::Done(_) => Tried::Sent { ok: true },
    }
}

fn own((a, b): (&str, &str)) -> (String, String) {
    (a.to_string(), b.to_string())
}

/// The error AWS answers a refused call with: its code differs per service.
fn denial(
    account: &str,
    region: &str,
    arn: &str,
    action: &str,
    explicit: Option<&str>,
) -> (String, String) {
    let service = action.split(':').next().unwrap_or_default();
    let resource = match service {
        "ec2" => format!("arn:aws:ec2:{region}:{account}:*"),
        "iam" => format!("arn:aws:iam::{account}:*"),
        "lambda" => format!("arn:aws:lambda:{region}:{account}:function:*"),
        "cloudtrail" => format!("arn:aws:cloudtrail:{region}:{account}:trail/*"),
        _ => "*".to_string(),
    };
    let why = match explicit {
        Some(policy) => {
            format!("with an explicit deny in an identity-based policy: {policy}")
        }
        None => format!("because no identity-based policy allows the {action} action"),
    };
    let message =
        format!("User: {arn} is not authorized to perform: {action} on resource: {resource} {why}");
    match service {
        "ec2" => (
            "Client.UnauthorizedOperation".into(),
            format!("You are not authorized to perform this operation. {message}"),
        ),
        "lambda" => ("AccessDeniedException".into(), message),
        _ => ("AccessDenied".into(), message),
    }
}

/// The instances of a `RunInstances` or `DescribeInstances` answer, as records name them.
fn launched(instances: &[aws_sdk_ec2::types::Instance]) -> Vec<Launched> {
    instances
        .iter()
        .map(|i| Launched {
            id: i.instance_id().unwrap_or_default().to_string(),
            private_ip: i.private_ip_address().unwrap_or_default().to_string(),
            subnet: i.subnet_id().unwrap_or_default().to_string(),
            vpc: i.vpc_id().unwrap_or_default().to_string(),
            zone: i
                .placement()
                .and_then(|p| p.availability_zone())
                .unwrap_or_default()
                .to_string(),
        })
        .collect()
}

/// What the attacker's functions pretend to run.
const RELAY_CODE: &str = "import os, urllib.request\n\
def handler(event, context):\n    \
return urllib.request.urlopen(os.environ.get('POOL', 'http://203.0.113.45:3333')).status\n";

/// A zip archive holding one stored (uncompressed) file: enough for Lambda's `ZipFile`.
pub(crate) fn zip_one(name: &str, content: &str) -> Vec<u8> {
    let mut crc = flate2::Crc::new();
    crc.update(content.as_bytes());
    let crc = crc.sum();
    let size = u32::try_from(content.len()).unwrap_or(u32::MAX);
    let name_len = u16::try_from(name.len()).unwrap_or(u16::MAX);
    let mut out = Vec::new();
    // Local file header.
    out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    out.extend_from_slice(&20u16.to_le_bytes()); // version needed
    out.extend_from_slice(&0u16.to_le_bytes()); // flags
    out.extend_from_slice(&0u16.to_le_bytes()); // method: stored
    out.extend_from_slice(&0u16.to_le_bytes()); // time
    out.extend_from_slice(&0x21u16.to_le_bytes()); // date: 1980-01-01
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&name_len.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // extra length
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(content.as_bytes());
    let central = u32::try_from(out.len()).unwrap_or(u32::MAX);
    // Central directory entry.
    out.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    out.extend_from_slice(&20u16.to_le_bytes()); // made by
    out.extend_from_slice(&20u16.to_le_bytes()); // version needed
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0x21u16.to_le_bytes());
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&name_len.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // extra
    out.extend_from_slice(&0u16.to_le_bytes()); // comment
    out.extend_from_slice(&0u16.to_le_bytes()); // disk
    out.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
    out.extend_from_slice(&0u32.to_le_bytes()); // external attributes
    out.extend_from_slice(&0u32.to_le_bytes()); // offset of the local header
    out.extend_from_slice(name.as_bytes());
    let central_size = u32::try_from(out.len()).unwrap_or(u32::MAX) - central;
    // End of central directory.
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&central_size.to_le_bytes());
    out.extend_from_slice(&central.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// Builds the live attacker's state from the seeded game, reading what it needs from moto.
async fn engine_for<'s>(
    endpoint: &str,
    seeded: &Seeded,
    scenario: &'s Scenario,
    seed: u64,
) -> Engine<'s> {
    let root = As::root(endpoint).await;
    let user_id = |name: String| {
        let root = root.clone();
        async move {
            root.iam()
                .get_user()
                .user_name(&name)
                .send()
                .await
                .ok()
                .and_then(|u| u.user().map(|u| u.user_id().to_string()))
                .unwrap_or_default()
        }
    };
    let role = |name: String| {
        let root = root.clone();
        async move {
            let out = root.iam().get_role().role_name(&name).send().await.ok();
            let r = out.as_ref().and_then(|o| o.role());
            RoleRef {
                id: r.map(|r| r.role_id().to_string()).unwrap_or_default(),
                arn: r.map(|r| r.arn().to_string()).unwrap_or_default(),
                name,
            }
        }
    };
    let developer_id = user_id(seeded.leaked.user.clone()).await;
    let backdoor_id = user_id(seeded.backdoor_user.clone()).await;
    let deploy = role(seeded.deploy_role.clone()).await;
    let lambda = role(seeded.lambda_role.clone()).await;
    let leaked = Ident::user(With::Leaked, &seeded.leaked, &developer_id);
    let mut e = Engine::new(
        scenario,
        endpoint,
        root,
        &seeded.account,
        leaked,
        Rng::new(seed, "attacker-live"),
        Rng::new(seed, "attacker-live-ids"),
    );
    e.trail_name = seeded.trail_name.clone();
    e.trail_arn = seeded.trail_arn.clone();
    e.trail_region = seeded
        .home_regions
        .first()
        .cloned()
        .unwrap_or_else(|| GLOBAL_REGION.into());
    e.bucket = seeded.trail_bucket.clone();
    e.deploy_role = deploy;
    e.lambda_role_arn = lambda.arn;
    e.backdoor_user = seeded.backdoor_user.clone();
    e.backdoor_user_id = backdoor_id.clone();
    e.backdoors = seeded
        .backdoor_keys
        .iter()
        .map(|c| Ident::user(With::Backdoor, c, &backdoor_id))
        .collect();
    if let Some(s) = &seeded.session {
        e.session = Some(Ident::session(s, &e.deploy_role.id));
    }
    let pool = &scenario.attacker.backdoor_names;
    e.next_backdoor = pool
        .iter()
        .position(|n| *n == seeded.backdoor_user)
        .map_or(0, |i| i + 1);
    e.regions = seeded.attacker_regions.clone();
    e.fresh = seeded.live_regions.iter().cloned().collect();
    e.made = seeded.made;
    e
}

/// The attacker during the game: one scripted step every few seconds (the scenario's pace
/// divided by `speed`, varied by up to a quarter either way) until `stop` turns true (or its
/// sender is dropped). Each call is passed to `log` as it happens; all of them are returned.
///
/// Its choices (step order, regions, names, counts, the pauses) are the same for a seed; what
/// succeeds depends on what the responder has done by then.
pub async fn attacker(
    endpoint: &str,
    seeded: &Seeded,
    scenario: &Scenario,
    seed: u64,
    speed: f64,
    mut stop: watch::Receiver<bool>,
    log: Arc<dyn Fn(AttackerEvent) + Send + Sync>,
) -> Vec<AttackerEvent> {
    let mut engine = engine_for(endpoint, seeded, scenario, seed).await;
    engine.log = Some(log);
    engine.live = true;
    let speed = if speed.is_finite() && speed > 0.0 {
        speed
    } else {
        1.0
    };
    let base = scenario.pace.attacker_seconds / speed;
    let mut pause_rng = Rng::new(seed, "attacker-pace");
    let mut turn = 0usize;
    loop {
        if *stop.borrow() {
            break;
        }
        let pause = base * (0.75 + 0.5 * pause_rng.unit());
        let pause = std::time::Duration::from_secs_f64(pause.clamp(0.01, 3600.0));
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
                continue;
            }
        }
        if *stop.borrow() {
            break;
        }
        let Some(step) = scenario
            .attacker
            .live
            .get(turn % scenario.attacker.live.len().max(1))
        else {
            break;
        };
        turn += 1;
        engine.turn(step).await;
    }
    engine.events
}
