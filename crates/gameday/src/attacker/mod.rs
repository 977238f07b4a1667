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

mod compute;
mod data;
mod live;
mod persistence;
mod schedule;
mod steps;

pub(crate) use compute::{store_package, zip_one};
pub use live::attacker;
pub(crate) use persistence::{SESSION_LIFE, minted_session};

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

/// Where a function's calls come from, and as what (Lambda's egress, its runtime's SDK).
const LAMBDA_ADDRESS: &str = "198.51.100.17";
const LAMBDA_AGENT: &str = "Boto3/1.34.145 md/Botocore#1.34.145 ua/2.0 os/linux#5.10.227-239.884.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.7 exec-env/AWS_Lambda_python3.12 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.145";

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
    /// The attacker's own account, through a trust it opened.
    Outside,
    /// One of its scheduled functions, running as its role.
    Function,
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
    /// The account it belongs to, when not the game's (the attacker's own).
    pub home: Option<String>,
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
            home: None,
            client: None,
        }
    }

    /// The attacker's user in its own account: `account`'s principal, with a key this game
    /// makes up (moto does not check a caller's key).
    pub(crate) fn outside(account: &str, name: &str, ids: &mut Rng) -> Ident {
        let mut id = |prefix: &str| {
            let tail: String = ids
                .uuid()
                .replace('-', "")
                .to_uppercase()
                .chars()
                .take(16)
                .collect();
            format!("{prefix}{tail}")
        };
        Ident {
            kind: With::Outside,
            user: name.to_string(),
            principal_id: id("AIDA"),
            key: id("AKIA"),
            secret: ids.uuid().replace('-', ""),
            token: None,
            session_name: String::new(),
            issued: OffsetDateTime::UNIX_EPOCH,
            expires: OffsetDateTime::UNIX_EPOCH,
            home: Some(account.to_string()),
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
            home: None,
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
            With::Outside => {
                record::other_account(self.home.as_deref().unwrap_or(account), &self.principal_id)
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
pub(super) enum Outcome<T> {
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
    /// The role whose trust the attacker opens to its own account (`[trust]`).
    pub trust_role: Option<RoleRef>,
    /// The attacker's user in its own account, when the scenario has a `[trust]`.
    pub outside: Option<Ident>,
    /// Its functions on a schedule: (region, name).
    pub scheduled: Vec<(String, String)>,
    /// The function it made last: (region, name, ARN).
    pub last_function: Option<(String, String, String)>,
    /// The session of the scheduled function running now.
    pub runner: Option<Ident>,
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
            trust_role: None,
            outside: None,
            scheduled: Vec::new(),
            last_function: None,
            runner: None,
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
            Who::Outside => self.outside.as_ref(),
            Who::Function => self.runner.as_ref(),
        }
    }

    fn ident_mut(&mut self, who: Who) -> Option<&mut Ident> {
        match who {
            Who::Leaked => Some(&mut self.leaked),
            Who::Session => self.session.as_mut(),
            Who::Backdoor(i) => self.backdoors.get_mut(i),
            Who::Outside => self.outside.as_mut(),
            Who::Function => self.runner.as_mut(),
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
        if who == Who::Function {
            return (LAMBDA_ADDRESS.to_string(), LAMBDA_AGENT.to_string());
        }
        let first = |v: &Vec<String>| v.first().cloned().unwrap_or_default();
        let last = |v: &Vec<String>| v.last().cloned().unwrap_or_default();
        match who {
            Who::Leaked | Who::Session => (first(&a.addresses), first(&a.agents)),
            Who::Backdoor(_) | Who::Outside | Who::Function => {
                (last(&a.addresses), last(&a.agents))
            }
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
            // Its own account lets it do anything; this account's side is the role's trust,
            // which `assume_role` checks.
            With::Outside => return Ok(None),
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
}

pub(super) fn tried<T>(o: &Outcome<T>) -> Tried {
    match o {
        Outcome::Refused => Tried::Refused,
        Outcome::Failed => Tried::Sent { ok: false },
        Outcome::Done(_) => Tried::Sent { ok: true },
    }
}

pub(super) fn own((a, b): (&str, &str)) -> (String, String) {
    (a.to_string(), b.to_string())
}

/// The error AWS answers a refused call with: its code differs per service.
pub(super) fn denial(
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
pub(super) fn launched(instances: &[aws_sdk_ec2::types::Instance]) -> Vec<Launched> {
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
