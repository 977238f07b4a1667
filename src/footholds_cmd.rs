//! `keyspill footholds`: the foothold model, headless, for tickets and automation. The same
//! inputs as the console (IAM's keys and access, the trail of the leaked keys and what they
//! minted, the journal's rotations and clearances) give the same answer. Exit status 0 either
//! way: "not contained" is an answer, not an error.

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use crate::cli::{Accounts, FootholdsArgs, FootholdsFormat, Regions};
use keyspill_aws::accounts::{self, Member};
use keyspill_aws::collect::{self, Update};
use keyspill_aws::{Aws, ConnectOptions, access, iam, regions, sts};
use keyspill_core::access::authz::Authz;
use keyspill_core::access::{Acts, Assessment, Inputs, assess};
use keyspill_core::domain::Timestamp;
use keyspill_core::journal;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// What the collector found: the acts on the account's access, every tracked key, and the
/// sources that failed.
type Trail = (Acts, BTreeSet<String>, Vec<String>);

pub async fn run(args: FootholdsArgs) -> ExitCode {
    let now = time::OffsetDateTime::now_utc();

    // The journal, when given: what this response did and decided.
    let resumed = match &args.journal {
        Some(dir) => match std::fs::read(dir.join(journal::JOURNAL_FILE)) {
            Ok(raw) => Some(journal::read_back(&raw)),
            Err(e) => {
                eprintln!("keyspill footholds: {}: {e}", dir.display());
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let mut leaked: BTreeSet<String> = args.keys.iter().cloned().collect();
    let mut response_keys = BTreeSet::new();
    let mut cleared = BTreeMap::new();
    let mut untrusted = BTreeMap::new();
    let mut since = args.since;
    if let Some(r) = &resumed {
        leaked.extend(r.leaked_keys.iter().cloned());
        response_keys.extend(r.created_keys.iter().cloned());
        cleared = r.cleared.clone();
        untrusted = keyspill_core::app::access::untrusted(
            r.actions
                .iter()
                .map(|a| (a.label.as_str(), a.at, &a.outcome)),
        );
        since = since.or(r.since);
    }
    if leaked.is_empty() {
        eprintln!("keyspill footholds: name the leaked keys with --key (or give --journal)");
        return ExitCode::from(2);
    }

    let aws = Aws::connect(&ConnectOptions {
        profile: args.aws.profile.clone(),
        region: args.aws.region.clone(),
        endpoint_url: args.aws.endpoint_url.clone(),
        static_credentials: None,
        max_attempts: 3,
        session_token: None,
        service_endpoints: keyspill_aws::ServiceEndpoints::from_env(),
    })
    .await;
    // With --accounts, the organisation's accounts are trusted by this account's roles too.
    let org_trusted: Vec<String> = match &args.org.accounts {
        Some(_) => accounts::list(&aws)
            .await
            .map(|m| m.into_iter().map(|m| m.id).collect())
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let own = assess_account(
        &aws,
        &Reach::from(&args),
        Scope {
            leaked: leaked.clone(),
            followed: BTreeSet::new(),
            response_keys,
            cleared,
            trust_closed: untrusted,
            since,
            trusted: org_trusted,
            trails_via: None,
        },
        now,
    )
    .await;
    if let Some(which) = &args.org.accounts {
        return organisation(&aws, &args, which, (own, leaked), now).await;
    }
    let Assessed {
        assessment,
        authz,
        notes,
        ..
    } = own;
    for n in &notes {
        eprintln!("keyspill footholds: {n}");
    }
    match args.format {
        FootholdsFormat::Json => match serde_json::to_string_pretty(&if args.actions.is_empty() {
            assessment.report()
        } else {
            assessment.report_can(authz.as_deref(), &args.actions, now)
        }) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("keyspill footholds: {e}");
                return ExitCode::FAILURE;
            }
        },
        FootholdsFormat::Text => print!("{}", assessment.text()),
    }
    ExitCode::SUCCESS
}

/// Where and what to read, for every account alike.
#[derive(Debug, Clone)]
pub struct Reach {
    pub regions: Regions,
    /// Trail files read besides the AWS sources (an organisation trail's: every account's).
    pub logs: Vec<std::path::PathBuf>,
    pub trust_accounts: Vec<String>,
    pub source_ip: Option<std::net::IpAddr>,
}

impl From<&FootholdsArgs> for Reach {
    fn from(a: &FootholdsArgs) -> Reach {
        Reach {
            regions: a.aws.regions.clone(),
            logs: a.logs.clone(),
            trust_accounts: a.trust_accounts.clone(),
            source_ip: a.source_ip,
        }
    }
}

/// What one account's model needs besides the account.
pub struct Scope {
    /// The leaked keys (this account's, or foreign ones it was told of).
    pub leaked: BTreeSet<String>,
    /// Credentials followed into this account from another (sessions the leaked keys minted
    /// for a role here): searched for and tracked like the leaked keys, but not this
    /// account's to disable.
    pub followed: BTreeSet<String>,
    /// Keys this response created (rotations), from the journal.
    pub response_keys: BTreeSet<String>,
    pub cleared: BTreeMap<String, keyspill_core::access::Cleared>,
    /// When this response's own trust changes applied, per role.
    pub trust_closed: BTreeMap<String, Timestamp>,
    pub since: Option<Timestamp>,
    /// Accounts a role may trust besides this one and `--trust-account`s (the organisation's).
    pub trusted: Vec<String>,
    /// Read the trail logs as this caller (see `collect::Request::trails_via`).
    pub trails_via: Option<Aws>,
}

/// One account's model.
pub struct Assessed {
    pub assessment: Assessment,
    /// The account's policies, when they could be read.
    pub authz: Option<std::sync::Arc<Authz>>,
    /// What could not be read.
    pub notes: Vec<String>,
    pub identity: Option<keyspill_core::domain::Identity>,
    /// The leak's start as used: the scope's, else the leaked keys' creation.
    pub since: Option<Timestamp>,
    /// Every credential the tracked ones minted, as the trail shows.
    pub minted: BTreeSet<String>,
    /// The account's access keys, when they could be read.
    pub keys: Option<keyspill_core::domain::KeysSnapshot>,
    /// What another account runs that was made after the leak started (`assess_members`
    /// sweeps it), newest first, at most [`MOST_MEMBER_RESOURCES`].
    pub resources: Vec<keyspill_core::resources::Resource>,
    /// Another account's session (`assess_members`), through which the console acts there.
    pub session: Option<Aws>,
}

/// Resources listed per other account.
pub const MOST_MEMBER_RESOURCES: usize = 50;

/// The model for the account `aws` reaches.
pub async fn assess_account(aws: &Aws, reach: &Reach, scope: Scope, now: Timestamp) -> Assessed {
    let Scope {
        leaked,
        followed,
        response_keys,
        cleared,
        trust_closed,
        mut since,
        trusted: also_trusted,
        trails_via,
    } = scope;
    let search: BTreeSet<String> = leaked.union(&followed).cloned().collect();
    let aws = aws.clone();
    let mut notes: Vec<String> = Vec::new();
    let identity = match sts::identity(&aws).await {
        Ok(id) => Some(id),
        Err(e) => {
            notes.push(format!("identity: {e}"));
            None
        }
    };
    let (keys, access) = tokio::join!(iam::fetch_keys(&aws), access::inventory(&aws));
    let keys_at = Some(time::OffsetDateTime::now_utc());
    let region_list =
        match (&reach.regions, &identity) {
            (Regions::List(l), _) => l.clone(),
            (Regions::All, Some(id)) => regions::enabled(&aws, id.partition())
                .await
                .unwrap_or_else(|e| {
                    notes.push(format!("regions: {e}; using {}", aws.region()));
                    vec![aws.region()]
                }),
            (Regions::All, None) => vec![aws.region()],
        };

    // The leak's start: the flag, the journal, else the leaked keys' creation.
    if since.is_none()
        && let Ok(k) = &keys
    {
        since = k
            .keys
            .iter()
            .filter(|k| leaked.contains(&k.key_id))
            .map(|k| k.created)
            .min();
    }
    // Leaked keys IAM does not list: whose are they?
    let mut foreign = Vec::new();
    if let Ok(k) = &keys {
        for id in leaked
            .iter()
            .filter(|id| !k.keys.iter().any(|x| &x.key_id == *id))
        {
            foreign.push((id.clone(), sts::key_account(&aws, id).await.ok()));
        }
    }

    // The trail: what the leaked keys and everything they minted did.
    let request = collect::Request {
        keys: search.iter().cloned().collect(),
        from: since.map(|s| s - time::Duration::days(1)),
        until: None,
        logs: reach.logs.clone(),
        regions: region_list,
        account: identity.as_ref().map(|i| i.account.clone()),
        live: false,
        poke: Arc::default(),
        paused: None,
        intervals: collect::Intervals::default(),
        athena: None,
        trails_via,
    };
    let sink: Arc<Mutex<Trail>> = Arc::default();
    let into = sink.clone();
    // An organisation trail holds every member's calls: this account's model takes only
    // what its own trail recorded (and records that do not say whose they are).
    let own_account = identity.as_ref().map(|i| i.account.clone());
    collect::run(
        identity.as_ref().map(|_| aws.clone()),
        request,
        Arc::new(move |u| {
            if let Ok(mut s) = into.lock() {
                match u {
                    Update::Events(ev) => match &own_account {
                        Some(me) if ev.iter().any(|e| !recorded_in(e, me)) => {
                            let here: Vec<_> =
                                ev.iter().filter(|e| recorded_in(e, me)).cloned().collect();
                            s.0.note(&here);
                        }
                        _ => s.0.note(&ev),
                    },
                    Update::Chains(c) => s.1.extend(c.into_iter().map(|(k, _, _)| k)),
                    Update::Progress(collect::Progress::Region(r, p)) => {
                        if let collect::SourceState::Error(e) = &p.state {
                            s.2.push(format!("LookupEvents {r}: {e}"));
                        }
                    }
                    Update::Progress(_) => {}
                }
            }
        }),
    )
    .await;
    let (acts, chains, trail_notes) = match sink.lock() {
        Ok(mut s) => std::mem::take(&mut *s),
        Err(_) => Default::default(),
    };
    notes.extend(trail_notes);

    // The functions the trail shows a tracked credential made: do they still exist?
    let function_regions: BTreeSet<String> = acts
        .iter()
        .filter(|e| search.contains(&e.by_key) || chains.contains(&e.by_key))
        .filter_map(|e| match &e.act {
            keyspill_core::access::Act::FunctionCreated { region, .. } => Some(region.clone()),
            _ => None,
        })
        .collect();
    let mut functions = keyspill_core::access::Functions::default();
    for region in function_regions {
        match keyspill_aws::resources::functions_in(&aws, &region).await {
            Ok(found) => {
                functions
                    .present
                    .extend(found.into_iter().map(|f| (region.clone(), f.id)));
                functions.swept.insert(region);
            }
            Err(e) => notes.push(format!("functions in {region}: {e}")),
        }
    }

    // Trusts a tracked credential changed: when did each last change? IAM cannot say, the
    // trail can (IAM's events are delivered to us-east-1). The trust as it is now was set by
    // the latest change, so sessions minted through an earlier one cannot be newer than that.
    let changed: BTreeMap<String, Timestamp> = acts
        .iter()
        .filter(|e| search.contains(&e.by_key) || chains.contains(&e.by_key))
        .filter_map(|e| match &e.act {
            keyspill_core::access::Act::TrustChanged { role } => Some((role.clone(), e.time)),
            _ => None,
        })
        .fold(BTreeMap::new(), |mut m, (role, t)| {
            let first = m.entry(role).or_insert(t);
            *first = (*first).min(t);
            m
        });
    let mut trust_closed = trust_closed;
    if let Some(from) = changed.values().min().copied() {
        match last_trust_changes(&aws, from).await {
            Ok(last) => {
                for (role, t) in last.into_iter().filter(|(r, _)| changed.contains_key(r)) {
                    trust_closed.insert(role, t);
                }
            }
            Err(e) => notes.push(format!(
                "trust changes: {e}; a trust the attacker changed counts as closed only now"
            )),
        }
    }

    let account = identity.as_ref().map(|i| i.account.as_str());
    let mut trusted: Vec<&str> = account.into_iter().collect();
    trusted.extend(reach.trust_accounts.iter().map(String::as_str));
    trusted.extend(also_trusted.iter().map(String::as_str));
    let tracked = |k: &str| search.contains(k) || chains.contains(k);
    let keys_error = keys.as_ref().err().map(|e| e.to_string());
    let keys = keys.ok();
    let access_error = access.as_ref().err().map(|e| e.to_string());
    let access_at: Option<Timestamp> = access.is_ok().then_some(now);
    let assessment = assess(&Inputs {
        now,
        since,
        leaked: &leaked,
        response_keys: &response_keys,
        self_key: identity.as_ref().and_then(|i| i.access_key_id.as_deref()),
        self_user: identity.as_ref().and_then(|i| i.iam_user_name()),
        trusted_accounts: trusted,
        foreign: &foreign,
        keys: keys.as_ref(),
        keys_error: keys_error.as_deref(),
        keys_at,
        access: access.as_ref().ok(),
        access_error: access_error.as_deref(),
        access_at,
        acts: &acts,
        tracked: &tracked,
        cleared: &cleared,
        leaked_history: &Default::default(),
        // When this response's own trust changes applied (from its journal): a trust closed
        // otherwise is bounded by this reading of IAM.
        trust_closed: &trust_closed,
        functions: Some(&functions),
        source_ip: reach.source_ip,
    });
    let authz = access.ok().map(|a| a.authz);
    Assessed {
        assessment,
        authz,
        notes,
        identity,
        since,
        minted: chains,
        keys,
        resources: Vec::new(),
        session: None,
    }
}

/// The event was recorded by `account`'s trail, or its record does not say whose
/// (`recipientAccountId`, read from the record kept with the event: the console holds a
/// million events, so it is not a field of its own).
fn recorded_in(e: &keyspill_core::timeline::Event, account: &str) -> bool {
    if !e.raw.contains("recipientAccountId") {
        return true;
    }
    serde_json::from_str::<serde_json::Value>(&e.raw)
        .ok()
        .and_then(|v| v["recipientAccountId"].as_str().map(|a| a == account))
        .unwrap_or(true)
}

/// The latest successful `UpdateAssumeRolePolicy` per role since `from`, from the trail's
/// event history in us-east-1 (where IAM's events are delivered).
async fn last_trust_changes(
    aws: &Aws,
    from: Timestamp,
) -> Result<BTreeMap<String, Timestamp>, keyspill_aws::AwsError> {
    let pacer = keyspill_aws::cloudtrail::Pacer::lookup_events();
    let mut last: BTreeMap<String, Timestamp> = BTreeMap::new();
    keyspill_aws::cloudtrail::lookup_name(
        aws,
        "us-east-1",
        "UpdateAssumeRolePolicy",
        Some(from),
        &pacer,
        |page| {
            for raw in &page.records {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(raw) else {
                    continue;
                };
                if !v["errorCode"].is_null() {
                    continue;
                }
                let (Some(role), Some(t)) = (
                    v["requestParameters"]["roleName"].as_str(),
                    v["eventTime"]
                        .as_str()
                        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok()),
                ) else {
                    continue;
                };
                let at = last.entry(role.to_string()).or_insert(t);
                *at = (*at).max(t);
            }
        },
    )
    .await?;
    Ok(last)
}

/// One other account's outcome: its model, or why it could not be looked into.
type Entered = Result<Assessed, String>;

/// `--accounts`: this account's model, then every other account's at once, each entered
/// through `--role-name`, with the leaked keys and everything they minted followed there (a
/// role session in a member account acts in that account's trail, not this one's). Contained
/// only when every active account was entered and is contained: an account nobody could look
/// into is not known to be clean.
async fn organisation(
    aws: &Aws,
    args: &FootholdsArgs,
    which: &Accounts,
    (own, leaked): (Assessed, BTreeSet<String>),
    now: Timestamp,
) -> ExitCode {
    let own_id = own.identity.as_ref().map(|i| i.account.clone());
    let partition = own
        .identity
        .as_ref()
        .map(|i| i.partition().to_string())
        .unwrap_or_else(|| "aws".into());
    // A role session minted in this account for a member's role acts in the member's trail;
    // the leaked keys' own AssumeRole calls are recorded there too.
    let followed: BTreeSet<String> = leaked.union(&own.minted).cloned().collect();
    let side = OwnSide {
        id: own_id.clone(),
        partition,
        since: own.since,
        followed,
    };
    let (members, listing, results) = assess_members(
        aws,
        &side,
        which,
        &args.org.role_name,
        &Reach::from(args),
        now,
    )
    .await;
    let own_name = members
        .iter()
        .find(|m| Some(&m.id) == own_id.as_ref())
        .map(|m| m.name.clone())
        .unwrap_or_default();
    let own_row = (
        own_id.clone().unwrap_or_else(|| "unknown".into()),
        own_name,
        String::new(),
        Ok(own),
    );
    let rows: Vec<(String, String, String, Entered)> = std::iter::once(own_row)
        .chain(
            results
                .into_iter()
                .map(|(m, r)| (m.id, m.name, m.status, r)),
        )
        .collect();
    let looked: Vec<(&str, &str, Option<bool>)> = rows
        .iter()
        .map(|(id, _, status, r)| {
            (
                id.as_str(),
                status.as_str(),
                r.as_ref().ok().map(|a| a.assessment.contained()),
            )
        })
        .collect();
    let verdict = Verdict::of(&looked, listing.is_some());
    for (id, _, _, r) in &rows {
        if let Ok(a) = r {
            for n in &a.notes {
                eprintln!("keyspill footholds: {id}: {n}");
            }
        }
    }
    match args.format {
        FootholdsFormat::Json => {
            let accounts: Vec<serde_json::Value> = rows
                .iter()
                .map(|(id, name, status, r)| {
                    let mut row = serde_json::json!({"account": id, "name": name});
                    if !status.is_empty() {
                        row["status"] = status.clone().into();
                    }
                    match r {
                        Ok(a) => {
                            let report = if args.actions.is_empty() {
                                serde_json::to_value(a.assessment.report())
                            } else {
                                serde_json::to_value(a.assessment.report_can(
                                    a.authz.as_deref(),
                                    &args.actions,
                                    now,
                                ))
                            };
                            row["entered"] = true.into();
                            row["report"] = report.unwrap_or_default();
                            if !a.resources.is_empty() {
                                row["made_since_leak"] = a
                                    .resources
                                    .iter()
                                    .map(|r| {
                                        serde_json::json!({
                                            "kind": r.kind.label(),
                                            "region": r.region,
                                            "id": r.id,
                                            "state": r.state,
                                            "created": r.created.map(keyspill_core::journal::format_ts),
                                        })
                                    })
                                    .collect();
                            }
                        }
                        Err(why) => {
                            row["entered"] = false.into();
                            row["why"] = why.clone().into();
                        }
                    }
                    row
                })
                .collect();
            let mut out = serde_json::json!({
                "contained": verdict.contained,
                "verdict": verdict.text,
                "accounts": accounts,
            });
            if let Some(e) = &listing {
                out["listing"] = e.clone().into();
            }
            match serde_json::to_string_pretty(&out) {
                Ok(s) => println!("{s}"),
                Err(e) => {
                    eprintln!("keyspill footholds: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        FootholdsFormat::Text => {
            if let Some(e) = &listing {
                println!("the organisation's accounts could not be listed: {e}\n");
            }
            for (id, name, _, r) in &rows {
                let name = if name.is_empty() {
                    String::new()
                } else {
                    format!(" ({name})")
                };
                match r {
                    Ok(a) => {
                        print!("== account {id}{name} ==\n{}", a.assessment.text());
                        for r in &a.resources {
                            println!(
                                "made since the leak started: {} {} in {} ({})",
                                r.kind.label(),
                                r.id,
                                r.region,
                                r.state
                            );
                        }
                        println!();
                    }
                    Err(why) => println!("== account {id}{name}: not entered: {why} ==\n"),
                }
            }
            println!("{}", verdict.text);
        }
    }
    ExitCode::SUCCESS
}

/// This account as the other accounts' models need it.
pub struct OwnSide {
    pub id: Option<String>,
    pub partition: String,
    /// The leak's start.
    pub since: Option<Timestamp>,
    /// What to follow into the other accounts: the leaked keys and what they minted.
    pub followed: BTreeSet<String>,
}

/// Every other account's model, all at once: the accounts (listed from Organizations, or as
/// named), why they could not be listed (`all` only), and each other account's model or why
/// it could not be entered.
pub async fn assess_members(
    aws: &Aws,
    own: &OwnSide,
    which: &Accounts,
    role_name: &str,
    reach: &Reach,
    now: Timestamp,
) -> (Vec<Member>, Option<String>, Vec<(Member, Entered)>) {
    let own_id = own.id.clone();
    let listed = accounts::list(aws).await;
    let (members, listing): (Vec<Member>, Option<String>) = match (which, listed) {
        (Accounts::All, Ok(m)) => (m, None),
        (Accounts::All, Err(e)) => (Vec::new(), Some(e.to_string())),
        // Named accounts: their names when the organisation can be listed.
        (Accounts::List(ids), listed) => {
            let known = listed.unwrap_or_default();
            let named = ids
                .iter()
                .map(|id| {
                    known
                        .iter()
                        .find(|m| &m.id == id)
                        .cloned()
                        .unwrap_or(Member {
                            id: id.clone(),
                            name: String::new(),
                            status: String::new(),
                        })
                })
                .collect();
            (named, None)
        }
    };
    // The organisation's accounts trust one another by design (the management account is in
    // every member's OrganizationAccountAccessRole): not a foothold.
    let org: Vec<String> = members
        .iter()
        .map(|m| m.id.clone())
        .chain(own_id.clone())
        .collect();
    let others: Vec<Member> = members
        .iter()
        .filter(|m| own_id.as_deref() != Some(m.id.as_str()))
        .cloned()
        .collect();
    let results: Vec<(Member, Entered)> =
        futures_util::future::join_all(others.into_iter().map(|m| {
            let (org, followed, own_id) = (org.clone(), own.followed.clone(), own_id.clone());
            Box::pin(async move {
                if closed(&m.status) {
                    let why = format!("the account is {}", m.status);
                    return (m, Err(why));
                }
                let entered =
                    accounts::enter(aws, own_id.as_deref(), &m.id, role_name, &own.partition).await;
                let member = match entered {
                    Ok(member) => member,
                    Err(e) => return (m, Err(format!("cannot enter: {e}"))),
                };
                let scope = Scope {
                    leaked: BTreeSet::new(),
                    followed,
                    response_keys: BTreeSet::new(),
                    cleared: BTreeMap::new(),
                    trust_closed: BTreeMap::new(),
                    since: own.since,
                    trusted: org,
                    // An organisation trail delivers every member's logs to the management
                    // account's bucket, which a member's role usually cannot read.
                    trails_via: Some(aws.clone()),
                };
                let mut assessed = assess_account(&member, reach, scope, now).await;
                // What it runs that was made since the leak started, every region at once.
                if let Some(since) = own.since {
                    let regions = match &reach.regions {
                        Regions::List(l) => l.clone(),
                        Regions::All => regions::enabled(&member, &own.partition)
                            .await
                            .unwrap_or_else(|_| vec![member.region()]),
                    };
                    let mut after: Vec<keyspill_core::resources::Resource> =
                        keyspill_aws::resources::sweep(&member, &regions)
                            .await
                            .into_iter()
                            .flat_map(|s| s.resources)
                            .filter(|r| r.created.is_some_and(|c| c >= since))
                            .collect();
                    after.sort_by_key(|r| std::cmp::Reverse(r.created));
                    after.truncate(MOST_MEMBER_RESOURCES);
                    assessed.resources = after;
                }
                assessed.session = Some(member);
                (m, Ok(assessed))
            })
        }))
        .await;
    (members, listing, results)
}

use keyspill_core::app::access::closed_account as closed;

/// The organisation's answer, in one sentence.
#[derive(Debug, PartialEq, Eq)]
struct Verdict {
    contained: bool,
    text: String,
}

impl Verdict {
    /// `accounts`: each account's id, status and whether it is contained (`None`: not
    /// entered).
    fn of(accounts: &[(&str, &str, Option<bool>)], listing_failed: bool) -> Verdict {
        let open: Vec<&str> = accounts
            .iter()
            .filter(|(_, _, c)| *c == Some(false))
            .map(|(id, ..)| *id)
            .collect();
        let unseen: Vec<&str> = accounts
            .iter()
            .filter(|(_, status, c)| c.is_none() && !closed(status))
            .map(|(id, ..)| *id)
            .collect();
        let contained = open.is_empty() && unseen.is_empty() && !listing_failed;
        let mut why = Vec::new();
        if !open.is_empty() {
            why.push(format!("not contained in {}", open.join(", ")));
        }
        if !unseen.is_empty() {
            why.push(format!("not looked into: {}", unseen.join(", ")));
        }
        if listing_failed {
            why.push("the organisation's other accounts could not be listed".into());
        }
        let text = if contained {
            format!("Across {} accounts: contained.", accounts.len())
        } else {
            format!(
                "Across {} accounts: NOT contained: {}.",
                accounts.len(),
                why.join("; ")
            )
        };
        Verdict { contained, text }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_organisation_is_contained_only_when_every_active_account_was_looked_into_and_is() {
        let all_in = [("1", "", Some(true)), ("2", "ACTIVE", Some(true))];
        assert_eq!(
            Verdict::of(&all_in, false),
            Verdict {
                contained: true,
                text: "Across 2 accounts: contained.".into()
            }
        );
        // A closed account cannot be entered and cannot be used either.
        let closed_one = [("1", "", Some(true)), ("2", "SUSPENDED", None)];
        assert!(Verdict::of(&closed_one, false).contained);
        let v = Verdict::of(
            &[
                ("1", "", Some(false)),
                ("2", "ACTIVE", None),
                ("3", "", Some(true)),
            ],
            true,
        );
        assert!(!v.contained);
        assert_eq!(
            v.text,
            "Across 3 accounts: NOT contained: not contained in 1; not looked into: 2; \
             the organisation's other accounts could not be listed."
        );
        // Every account contained, but the others could not be listed: not known.
        assert!(!Verdict::of(&all_in, true).contained);
    }
}
