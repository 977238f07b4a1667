//! `keyspill footholds`: the foothold model, headless, for tickets and automation. The same
//! inputs as the console (IAM's keys and access, the trail of the leaked keys and what they
//! minted, the journal's rotations and clearances) give the same answer. Exit status 0 either
//! way: "not contained" is an answer, not an error.

use std::collections::{BTreeMap, BTreeSet};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use crate::cli::{FootholdsArgs, FootholdsFormat, Regions};
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
    let (assessment, authz, notes) = assess_account(
        &aws,
        &args,
        leaked,
        response_keys,
        (cleared, untrusted),
        since,
        now,
    )
    .await;
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

/// The model for the account `aws` reaches, the account's policies (when they could be read)
/// and notes on what could not be read.
pub async fn assess_account(
    aws: &Aws,
    args: &FootholdsArgs,
    leaked: BTreeSet<String>,
    response_keys: BTreeSet<String>,
    (cleared, trust_closed): (
        BTreeMap<String, keyspill_core::access::Cleared>,
        BTreeMap<String, Timestamp>,
    ),
    mut since: Option<Timestamp>,
    now: Timestamp,
) -> (Assessment, Option<std::sync::Arc<Authz>>, Vec<String>) {
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
        match (&args.aws.regions, &identity) {
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
        keys: leaked.iter().cloned().collect(),
        from: since.map(|s| s - time::Duration::days(1)),
        until: None,
        logs: args.logs.clone(),
        regions: region_list,
        account: identity.as_ref().map(|i| i.account.clone()),
        live: false,
        poke: Arc::default(),
        paused: None,
        intervals: collect::Intervals::default(),
    };
    let sink: Arc<Mutex<Trail>> = Arc::default();
    let into = sink.clone();
    collect::run(
        identity.as_ref().map(|_| aws.clone()),
        request,
        Arc::new(move |u| {
            if let Ok(mut s) = into.lock() {
                match u {
                    Update::Events(ev) => s.0.note(&ev),
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
        .filter(|e| leaked.contains(&e.by_key) || chains.contains(&e.by_key))
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
        .filter(|e| leaked.contains(&e.by_key) || chains.contains(&e.by_key))
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
    trusted.extend(args.trust_accounts.iter().map(String::as_str));
    let tracked = |k: &str| leaked.contains(k) || chains.contains(k);
    let keys_error = keys.as_ref().err().map(|e| e.to_string());
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
        keys: keys.as_ref().ok(),
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
        source_ip: args.source_ip,
    });
    let authz = access.ok().map(|a| a.authz);
    (assessment, authz, notes)
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
