//! `keyspill timeline`: the merged, rated timeline on stdout, a summary on stderr.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use crate::cli::{Format, Regions, TimelineArgs};
use keyspill_aws::collect::{self, Progress, SourceState, Update};
use keyspill_aws::{Aws, ConnectOptions, regions, sts};
use keyspill_core::timeline::export;
use keyspill_core::timeline::risk::RiskRules;
use keyspill_core::timeline::store::Store;

/// How far before `--since` the API sources read, to learn the regions the key used before
/// the leak (the baseline for "region never seen before").
const BASELINE_DAYS: i64 = 7;

#[derive(Default)]
struct Collected {
    updates: Vec<Update>,
}

/// Every `--logs` path must exist before anything is read: a mistyped path is a usage error,
/// not an empty timeline.
pub fn check_logs(paths: &[std::path::PathBuf]) -> Result<(), String> {
    for path in paths {
        if let Err(e) = std::fs::metadata(path) {
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
                _ => e.to_string(),
            };
            return Err(format!("--logs {}: {why}", path.display()));
        }
    }
    Ok(())
}

pub async fn run_timeline(args: TimelineArgs) -> ExitCode {
    let user_rules = args
        .rules
        .clone()
        .or_else(keyspill_core::timeline::risk::default_user_file);
    let rules = match RiskRules::load(user_rules.as_deref()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("keyspill timeline: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = check_logs(&args.logs) {
        eprintln!("keyspill timeline: {e}");
        return ExitCode::from(2);
    }
    if args.no_api && args.logs.is_empty() {
        eprintln!("keyspill timeline: --no-api reads only --logs: give at least one --logs PATH");
        return ExitCode::from(2);
    }
    if !args.no_api && args.keys.is_empty() && args.logs.is_empty() {
        eprintln!(
            "keyspill timeline: name the leaked keys with --key (the AWS sources search by key), \
             or read files with --logs"
        );
        return ExitCode::from(2);
    }

    // Creating Athena's objects is agreed to by typing the workgroup's name.
    if let Some(typed) = &args.athena_create
        && typed != &args.athena_workgroup
    {
        eprintln!(
            "keyspill timeline: --athena-create must repeat the workgroup's name ({}) to agree \
             to creating it; it says {typed:?}",
            args.athena_workgroup
        );
        return ExitCode::from(2);
    }
    let mut notes: Vec<String> = Vec::new();
    let mut aws = None;
    let mut account = None;
    let mut region_list = Vec::new();
    if !args.no_api && !args.keys.is_empty() {
        let client = Aws::connect(&ConnectOptions {
            profile: args.aws.profile.clone(),
            region: args.aws.region.clone(),
            endpoint_url: args.aws.endpoint_url.clone(),
            static_credentials: None,
            max_attempts: 3,
            session_token: None,
            service_endpoints: keyspill_aws::ServiceEndpoints::from_env(),
        })
        .await;
        match sts::identity(&client).await {
            Ok(id) => {
                account = Some(id.account.clone());
                region_list = match &args.aws.regions {
                    Regions::List(l) => l.clone(),
                    Regions::All => match regions::enabled(&client, id.partition()).await {
                        Ok(r) => r,
                        Err(e) => {
                            notes.push(format!("regions: {e}; using {}", client.region()));
                            vec![client.region()]
                        }
                    },
                };
                aws = Some(client);
            }
            Err(e) => {
                notes.push(format!("AWS sources skipped: {e}"));
                if args.logs.is_empty() {
                    eprintln!("keyspill timeline: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }

    let request = collect::Request {
        keys: args.keys.clone(),
        from: args.since.map(|s| s - time::Duration::days(BASELINE_DAYS)),
        until: args.until,
        logs: args.logs.clone(),
        regions: region_list,
        account,
        live: false,
        poke: Arc::default(),
        paused: None,
        intervals: collect::Intervals::default(),
        trails_via: None,
        athena: Some(collect::AthenaSearch {
            engine: args.engine.into(),
            setup: keyspill_aws::athena::Setup {
                workgroup: args.athena_workgroup.clone(),
                database: args.athena_database.clone(),
                output: args.athena_output.clone(),
                create: args.athena_create.is_some(),
                cutoff_bytes: args.athena_cutoff_gib.saturating_mul(1 << 30),
            },
        }),
    };
    let collected = Arc::new(Mutex::new(Collected::default()));
    let sink = collected.clone();
    // Athena's lines go out as they come: each query's estimate is read before it runs.
    let said = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    collect::run(
        aws,
        request,
        Arc::new(move |u| {
            if let Update::Progress(Progress::Trails(t)) = &u {
                let from = said.swap(t.athena.len(), std::sync::atomic::Ordering::SeqCst);
                for line in t.athena.iter().skip(from) {
                    eprintln!("keyspill timeline: Athena: {line}");
                }
            }
            if let Ok(mut c) = sink.lock() {
                c.updates.push(u);
            }
        }),
    )
    .await;
    let updates = match collected.lock() {
        Ok(mut c) => std::mem::take(&mut c.updates),
        Err(_) => Vec::new(),
    };

    let mut store = Store::new();
    let mut baseline = HashSet::new();
    let mut chains: BTreeMap<String, String> = BTreeMap::new();
    let mut regions_seen: BTreeMap<String, collect::RegionProgress> = BTreeMap::new();
    let mut trails = None;
    let mut files = None;
    for u in updates {
        match u {
            Update::Events(ev) => {
                store.admit(ev, &rules, &mut baseline, args.since);
            }
            Update::Chains(c) => {
                for (k, text, _) in c {
                    chains.insert(k, text);
                }
            }
            Update::Progress(Progress::Region(r, p)) => {
                regions_seen.insert(r, p);
            }
            Update::Progress(Progress::Trails(p)) => trails = Some(p),
            Update::Progress(Progress::Files(p)) => files = Some(p),
        }
    }

    let in_window = |e: &&keyspill_core::timeline::Event| {
        args.since.is_none_or(|s| e.time >= s) && args.until.is_none_or(|u| e.time <= u)
    };
    let mut events: Vec<&keyspill_core::timeline::Event> =
        store.iter_newest_first().filter(in_window).collect();
    events.reverse();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = match args.format {
        Format::Jsonl => export::write_jsonl(&mut out, events.iter().copied(), &chains),
        Format::Csv => export::write_csv(&mut out, events.iter().copied(), &chains),
        Format::Table => export::write_table(&mut out, events.iter().copied(), &chains),
    }
    .and_then(|()| out.flush());
    if let Err(e) = written {
        // A closed pipe (`| head`) is not a failure worth a message.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("keyspill timeline: writing output: {e}");
            return ExitCode::FAILURE;
        }
    }

    // The summary, on stderr so stdout stays machine-readable.
    let s = store.summary();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "keyspill timeline: {} events written ({} collected, {} duplicates dropped, {} failed calls)",
        events.len(),
        s.events,
        s.duplicates,
        s.errors
    );
    if let (Some(first), Some(last)) = (s.first, s.last) {
        let _ = writeln!(
            err,
            "  first {}  last {}  · {} regions · {} source IPs · {} user agents",
            keyspill_core::journal::format_ts(first),
            keyspill_core::journal::format_ts(last),
            s.regions.len(),
            s.source_ips.len(),
            s.user_agents.len()
        );
    }
    if !s.tactics.is_empty() {
        let t: Vec<String> = s
            .tactics
            .iter()
            .map(|(t, n)| format!("{} {n}", t.label()))
            .collect();
        let when = if s.leak.is_some() {
            " since the leak start"
        } else {
            ""
        };
        let _ = writeln!(err, "  flagged{when}: {}", t.join(", "));
    }
    if s.before_leak > 0 {
        let t: Vec<String> = s
            .tactics_before
            .iter()
            .map(|(t, n)| format!("{} {n}", t.label()))
            .collect();
        let _ = writeln!(
            err,
            "  before the leak start (the owner's own use): {} events, flagged: {}",
            s.before_leak,
            if t.is_empty() {
                "none".to_string()
            } else {
                t.join(", ")
            }
        );
    }
    let derived = chains.len().saturating_sub(args.keys.len());
    if derived > 0 {
        let _ = writeln!(err, "  {derived} derived credential(s):");
        for c in chains.values().filter(|c| c.contains('→')) {
            let _ = writeln!(err, "    {c}");
        }
    }
    if let Some(f) = files {
        let _ = writeln!(
            err,
            "  files: {} read, {} events, {} skipped in {} files",
            f.files, f.events, f.skipped, f.skipped_files
        );
        if f.reasons.len() < f.skipped {
            let _ = writeln!(
                err,
                "    (the first {} reasons; every skip is counted)",
                f.reasons.len()
            );
        }
        for s in &f.reasons {
            let _ = writeln!(err, "    skipped {s}");
        }
    }
    if !regions_seen.is_empty() {
        let pages: u32 = regions_seen.values().map(|r| r.pages).sum();
        let throttled: u32 = regions_seen.values().map(|r| r.throttled).sum();
        let _ = writeln!(
            err,
            "  LookupEvents: {} regions, {pages} pages, {throttled} throttled answers retried",
            regions_seen.len()
        );
        for (r, p) in &regions_seen {
            if let SourceState::Error(e) = &p.state {
                let _ = writeln!(err, "    {r}: {e}");
            }
        }
    }
    if let Some(t) = trails {
        let _ = writeln!(
            err,
            "  trail logs: {} trails, {} objects in the window, {} fetched, {} events, {} skipped in {} objects",
            t.trails, t.objects, t.fetched, t.events, t.skipped, t.skipped_objects
        );
        for p in &t.problems {
            let _ = writeln!(err, "    {p}");
        }
        if !t.athena.is_empty() {
            let _ = writeln!(err, "    Athena: {}", t.athena.join("; "));
        }
        // A pass that failed as a whole (no bucket listed, no trail found) says why, once.
        if let SourceState::Error(e) = &t.state
            && t.problems.is_empty()
        {
            let _ = writeln!(err, "    {e}");
        }
    }
    for n in notes {
        let _ = writeln!(err, "  {n}");
    }
    ExitCode::SUCCESS
}
