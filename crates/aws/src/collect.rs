//! Gathers the timeline from every source and reports as it goes: local files (`--logs`),
//! LookupEvents in every region at once (paced per region), and the trail logs in S3. Keys
//! minted by a tracked key are tracked too, and every source is asked again for them until no
//! new key turns up.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::stream;
use futures_util::{FutureExt, StreamExt};

use crate::cloudtrail::{self, Pacer};
use crate::poll::{Outcome, Poller};
use crate::{Aws, trails};
use keyspill_core::domain::{Failure, Timestamp};
use keyspill_core::timeline::chain::Tracker;
use keyspill_core::timeline::files;
use keyspill_core::timeline::model::{Event, Origin};
use keyspill_core::timeline::parse::parse_record;
use keyspill_core::timeline::prefilter::KeyFilter;
pub use keyspill_core::timeline::progress::{
    ChainInfo, FileProgress, Progress, RegionProgress, SourceState, TrailProgress, Update, chains,
};

/// What to collect.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The leaked keys. Empty: every event in the local files, and no API source.
    pub keys: Vec<String>,
    /// Read from here on (the API sources); `None` reads all they hold.
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub logs: Vec<PathBuf>,
    /// Regions for LookupEvents and trail logs.
    pub regions: Vec<String>,
    /// The account whose trail logs to read (from `sts:GetCallerIdentity`).
    pub account: Option<String>,
    /// After the history, keep polling LookupEvents for newer events.
    pub live: bool,
    /// Wakes the live polling at once (the operator's `r`).
    pub poke: Arc<tokio::sync::Notify>,
    /// While this says true, live polling waits (the operator's `p`); `r` still polls.
    pub paused: Option<tokio::sync::watch::Receiver<bool>>,
}

/// How often LookupEvents is asked for newer events once the history is in.
pub const LIVE_INTERVAL: Duration = Duration::from_secs(30);
/// How often, once the history is in, the trail buckets are listed again for new log objects
/// (CloudTrail delivers about every five minutes; a game day's attacker more often).
pub const TRAIL_INTERVAL: Duration = Duration::from_secs(20);
/// Objects downloaded at once.
const FETCH_CONCURRENCY: usize = 16;
const MAX_PROBLEMS: usize = 5;
/// Downloaded objects waiting for the parser, at most.
const PARSE_QUEUE: usize = 4;

type Emit = Arc<dyn Fn(Update) + Send + Sync>;

struct Shared {
    tracker: Mutex<Tracker>,
    emit: Emit,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Tracker> {
        self.tracker.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands `events` on, then announces the chains of any key they minted (in that order, so
    /// a chain never shows before its events). Returns the newly tracked keys.
    fn deliver(&self, events: Vec<Event>, follow: bool) -> Vec<String> {
        let (fresh, announce) = if follow {
            let mut tracker = self.lock();
            let before: BTreeSet<String> = tracker.keys().map(str::to_string).collect();
            tracker.observe_all(&events);
            let fresh: Vec<String> = tracker
                .keys()
                .filter(|k| !before.contains(*k))
                .map(str::to_string)
                .collect();
            let announce = (!fresh.is_empty()).then(|| chains(&tracker));
            (fresh, announce)
        } else {
            (Vec::new(), None)
        };
        (self.emit)(Update::Events(events));
        if let Some(c) = announce {
            (self.emit)(Update::Chains(c));
        }
        fresh
    }
}

/// Collects from every source the request names, reporting through `emit`. Returns when the
/// history is in (and, with `live`, never: it keeps polling until dropped).
pub async fn run(aws: Option<Aws>, req: Request, emit: Emit) {
    let req = Arc::new(req);
    let shared = Arc::new(Shared {
        tracker: Mutex::new(Tracker::new(req.keys.iter().cloned())),
        emit,
    });
    (shared.emit)(Update::Chains(chains(&shared.lock())));

    if !req.logs.is_empty() {
        scan_local(&shared, &req).boxed().await;
    }
    let Some(aws) = aws else {
        return;
    };
    if req.keys.is_empty() {
        return;
    }
    let pacers: Arc<HashMap<String, Arc<Pacer>>> = Arc::new(
        req.regions
            .iter()
            .map(|r| (r.clone(), Arc::new(Pacer::lookup_events())))
            .collect(),
    );
    let newest: Arc<Mutex<BTreeMap<(String, String), Timestamp>>> = Arc::default();
    // Each stage is boxed so that its Send-ness is checked with concrete lifetimes (the
    // compiler cannot prove it through nested stream combinators otherwise).
    let lookups = lookup_history(&shared, &aws, &req, &pacers, &newest).boxed();
    let logs = scan_trails(&shared, &aws, &req).boxed();
    futures_util::future::join(lookups, logs).await;
    if req.live {
        poll_newer(&shared, &aws, &req, &pacers, &newest)
            .boxed()
            .await;
    }
}

/// `--logs`: scan, follow minted keys, scan again for the new ones, until none is new.
async fn scan_local(shared: &Arc<Shared>, req: &Request) {
    let mut progress = FileProgress {
        state: SourceState::Loading,
        ..FileProgress::default()
    };
    (shared.emit)(Update::Progress(Progress::Files(progress.clone())));
    let mut pending: Option<Vec<String>> = (!req.keys.is_empty()).then(|| req.keys.clone());
    let mut first = true;
    loop {
        let paths = req.logs.clone();
        let keys = pending.clone();
        let scan = tokio::task::spawn_blocking(move || {
            let filter = keys.map(KeyFilter::new);
            files::scan_paths(&paths, filter.as_ref())
        })
        .await;
        let scan = match scan {
            Ok(s) => s,
            Err(e) => {
                progress.state =
                    SourceState::Error(Failure::other(format!("file scan stopped: {e}")));
                break;
            }
        };
        if first {
            progress.files = scan.files;
            progress.skipped = scan.skipped_count;
            progress.skipped_files = scan.skipped_files;
            progress.reasons = scan.skipped.iter().map(|s| s.to_string()).collect();
        }
        first = false;
        progress.events += scan.events.len();
        let fresh = shared.deliver(scan.events, pending.is_some());
        (shared.emit)(Update::Progress(Progress::Files(progress.clone())));
        if fresh.is_empty() {
            break;
        }
        pending = Some(fresh);
    }
    if progress.state == SourceState::Loading {
        progress.state = SourceState::Done;
    }
    (shared.emit)(Update::Progress(Progress::Files(progress)));
}

/// Parses LookupEvents' `CloudTrailEvent` strings.
fn parse_lookup(region: &str, records: &[String]) -> (Vec<Event>, usize) {
    let origin = Origin::LookupEvents {
        region: region.into(),
    };
    let mut events = Vec::with_capacity(records.len());
    let mut bad = 0;
    for r in records {
        match serde_json::from_str::<serde_json::Value>(r)
            .map_err(|e| e.to_string())
            .and_then(|v| parse_record(&v, &origin))
        {
            Ok(e) => events.push(e),
            Err(_) => bad += 1,
        }
    }
    (events, bad)
}

/// LookupEvents for every tracked key in every region at once; keys minted along the way are
/// looked up too.
async fn lookup_history(
    shared: &Arc<Shared>,
    aws: &Aws,
    req: &Arc<Request>,
    pacers: &Arc<HashMap<String, Arc<Pacer>>>,
    newest: &Arc<Mutex<BTreeMap<(String, String), Timestamp>>>,
) {
    let progress: Arc<Mutex<BTreeMap<String, RegionProgress>>> = Arc::new(Mutex::new(
        req.regions
            .iter()
            .map(|r| (r.clone(), RegionProgress::default()))
            .collect(),
    ));
    let mut round: Vec<String> = req.keys.clone();
    let mut asked: BTreeSet<String> = BTreeSet::new();
    while !round.is_empty() {
        asked.extend(round.iter().cloned());
        let jobs: Vec<(String, String)> = round
            .iter()
            .flat_map(|k| req.regions.iter().map(move |r| (k.clone(), r.clone())))
            .collect();
        let found: Vec<Vec<String>> = stream::iter(jobs.into_iter().map(|(key, region)| {
            let (shared, aws, req) = (shared.clone(), aws.clone(), req.clone());
            let (progress, pacers, newest) = (progress.clone(), pacers.clone(), newest.clone());
            // Boxed so the future's Send-ness is settled here, with concrete lifetimes.
            async move {
                lookup_one(
                    &shared, &aws, &key, &region, &req, &pacers, &progress, &newest,
                )
                .await
            }
            .boxed()
        }))
        .buffer_unordered(64)
        .collect()
        .await;
        round = found
            .into_iter()
            .flatten()
            .filter(|k| !asked.contains(k))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
    }
    let regions = progress.lock().unwrap_or_else(|p| p.into_inner()).clone();
    for (region, mut p) in regions {
        if p.state == SourceState::Loading || p.state == SourceState::Waiting {
            p.state = if req.live {
                SourceState::Live
            } else {
                SourceState::Done
            };
            (shared.emit)(Update::Progress(Progress::Region(region, p)));
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn lookup_one(
    shared: &Arc<Shared>,
    aws: &Aws,
    key: &str,
    region: &str,
    req: &Request,
    pacers: &HashMap<String, Arc<Pacer>>,
    progress: &Mutex<BTreeMap<String, RegionProgress>>,
    newest: &Mutex<BTreeMap<(String, String), Timestamp>>,
) -> Vec<String> {
    let Some(pacer) = pacers.get(region) else {
        return Vec::new();
    };
    let report = |f: &dyn Fn(&mut RegionProgress)| {
        let mut all = progress.lock().unwrap_or_else(|p| p.into_inner());
        let p = all.entry(region.to_string()).or_default();
        f(p);
        (shared.emit)(Update::Progress(Progress::Region(
            region.to_string(),
            p.clone(),
        )));
    };
    report(&|p| p.state = SourceState::Loading);
    let mut fresh = Vec::new();
    let result = cloudtrail::lookup_key(aws, region, key, req.from, req.until, pacer, |page| {
        let (events, _bad) = parse_lookup(region, &page.records);
        let n = events.len();
        if let Some(t) = events.iter().map(|e| e.time).max() {
            let mut newest = newest.lock().unwrap_or_else(|p| p.into_inner());
            let slot = newest
                .entry((key.to_string(), region.to_string()))
                .or_insert(t);
            *slot = (*slot).max(t);
        }
        fresh.extend(shared.deliver(events, true));
        report(&|p| {
            p.pages += 1;
            p.events += n;
            p.throttled = p.throttled.max(page.throttled);
        });
    })
    .await;
    if let Err(e) = result {
        report(&|p| p.state = SourceState::Error(e.clone()));
    }
    fresh
}

/// After the history: ask each region for newer events of every tracked key, forever.
async fn poll_newer(
    shared: &Arc<Shared>,
    aws: &Aws,
    req: &Arc<Request>,
    pacers: &Arc<HashMap<String, Arc<Pacer>>>,
    newest: &Arc<Mutex<BTreeMap<(String, String), Timestamp>>>,
) {
    let mut poller = Poller::new(LIVE_INTERVAL, LIVE_INTERVAL * 4, req.poke.clone())
        .pausable(req.paused.clone());
    // The history was just read: the first live poll is one interval away.
    poller.after(Outcome::Ok);
    while poller.wait().await {
        let keys: Vec<String> = shared.lock().keys().map(str::to_string).collect();
        let jobs: Vec<(String, String)> = keys
            .iter()
            .flat_map(|k| req.regions.iter().map(move |r| (k.clone(), r.clone())))
            .collect();
        let outcome = stream::iter(jobs.into_iter().map(|(key, region)| {
            let (shared, aws, req) = (shared.clone(), aws.clone(), req.clone());
            let (pacers, newest) = (pacers.clone(), newest.clone());
            async move {
                let Some(pacer) = pacers.get(&region) else {
                    return Outcome::Ok;
                };
                let since = newest
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(&(key.clone(), region.clone()))
                    .copied()
                    .or(req.from);
                let Some(since) = since else {
                    return Outcome::Ok;
                };
                let result = cloudtrail::lookup_newer(&aws, &region, &key, since, pacer, |page| {
                    let (events, _) = parse_lookup(&region, &page.records);
                    if let Some(t) = events.iter().map(|e| e.time).max() {
                        let mut n = newest.lock().unwrap_or_else(|p| p.into_inner());
                        let slot = n.entry((key.clone(), region.clone())).or_insert(t);
                        *slot = (*slot).max(t);
                    }
                    shared.deliver(events, true);
                })
                .await;
                Outcome::of(&result)
            }
            .boxed()
        }))
        .buffer_unordered(64)
        .fold(Outcome::Ok, |worst, o| async move { worst.worst(o) })
        .await;
        poller.after(outcome);
    }
}

/// The trail logs in S3 for the incident window, every trail and region, filtered to the
/// tracked keys; objects are fetched again for keys minted along the way.
async fn scan_trails(shared: &Arc<Shared>, aws: &Aws, req: &Request) {
    let mut progress = TrailProgress {
        state: SourceState::Loading,
        ..TrailProgress::default()
    };
    let emit = |p: &TrailProgress| (shared.emit)(Update::Progress(Progress::Trails(p.clone())));
    emit(&progress);
    let (found, problems) = trails::discover(aws, &req.regions).boxed().await;
    progress
        .problems
        .extend(problems.into_iter().take(MAX_PROBLEMS));
    let with_bucket: Vec<&trails::Trail> = found.iter().filter(|t| t.bucket.is_some()).collect();
    progress.trails = with_bucket.len();
    progress.logging = found.iter().map(|t| (t.name.clone(), t.logging)).collect();
    progress.discovered = true;
    emit(&progress);
    let Some(account) = req.account.clone() else {
        progress.state = SourceState::Error(Failure::other(
            "account unknown: cannot find its trail logs",
        ));
        emit(&progress);
        return;
    };
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    let mut first = true;
    let mut with_bucket: Vec<trails::Trail> = with_bucket.into_iter().cloned().collect();
    let mut poller = Poller::new(TRAIL_INTERVAL, TRAIL_INTERVAL * 6, req.poke.clone())
        .pausable(req.paused.clone());
    loop {
        // A pass whose every listing was throttled or failed waits longer before the next.
        let mut outcome = Outcome::Ok;
        let mut listed = false;
        let now = time::OffsetDateTime::now_utc();
        // The first pass reads the whole window; later passes (live) the last two days, for
        // objects delivered since.
        let from = if first {
            req.from.unwrap_or(now - time::Duration::days(7)).date()
        } else {
            (now - time::Duration::days(1)).date()
        };
        let to = req.until.unwrap_or(now).date();

        // Every object in the window not read yet, per bucket.
        let mut objects: Vec<(String, String, i64)> = Vec::new();
        for trail in &with_bucket {
            let Some(bucket) = trail.bucket.clone() else {
                continue;
            };
            let orgs: Vec<Option<String>> = if trail.organization {
                match trails::organization_ids(aws, &bucket, trail.prefix.as_deref())
                    .boxed()
                    .await
                {
                    Ok(ids) if !ids.is_empty() => ids.into_iter().map(Some).collect(),
                    _ => vec![None],
                }
            } else {
                vec![None]
            };
            let mut prefixes = Vec::new();
            for org in &orgs {
                for region in trail.log_regions(&req.regions) {
                    prefixes.extend(trails::day_prefixes(
                        trail.prefix.as_deref(),
                        &account,
                        org.as_deref(),
                        &region,
                        from,
                        to,
                    ));
                }
            }
            match trails::list_objects(aws, &bucket, &prefixes).boxed().await {
                Ok(list) => {
                    listed = true;
                    for (key, size) in list {
                        if seen.insert((bucket.clone(), key.clone())) {
                            objects.push((bucket.clone(), key, size));
                        }
                    }
                }
                Err(e) => {
                    outcome = outcome.worst(Outcome::from_failure(&e));
                    if progress.problems.len() < MAX_PROBLEMS {
                        progress.problems.push(format!("{bucket}: {e}"));
                    }
                }
            }
            progress.objects = objects.len();
            emit(&progress);
        }
        if listed {
            outcome = Outcome::Ok;
        }

        let mut pending: Vec<String> = shared.lock().keys().map(str::to_string).collect();
        if objects.is_empty() {
            pending.clear();
        }
        let mut first_read = true;
        while !pending.is_empty() {
            let filter = Arc::new(KeyFilter::new(pending.clone()));
            let mut by_bucket: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
            for (b, k, size) in &objects {
                by_bucket
                    .entry(b.clone())
                    .or_default()
                    .push((k.clone(), *size));
            }
            let mut fresh = Vec::new();
            for (bucket, keys) in by_bucket {
                // Bounded, and each download holds room for its bytes until they are parsed:
                // downloads cannot run ahead of parsing (memory stays flat whatever the
                // bucket holds).
                let (tx, mut rx) = tokio::sync::mpsc::channel::<trails::Fetched>(PARSE_QUEUE);
                let room = trails::download_room();
                // The download future owns the sender: the channel closes when it is done.
                let fetch = trails::fetch_listed(aws, &bucket, keys, FETCH_CONCURRENCY, room, tx);
                let bucket_ref = &bucket;
                let filter = filter.clone();
                let consume = async {
                    while let Some(fetched) = rx.recv().await {
                        if first_read {
                            progress.fetched += 1;
                        }
                        let trails::Fetched { key, body, .. } = &fetched;
                        match body {
                            Ok(_) => {
                                let origin = Origin::S3 {
                                    bucket: bucket_ref.as_str().into(),
                                    key: key.as_str().into(),
                                };
                                let f = filter.clone();
                                // The object (and the download room it holds) goes to the
                                // parser and is dropped there, once read.
                                let parsed = tokio::task::spawn_blocking(move || {
                                    let bytes = fetched.body.as_deref().unwrap_or_default();
                                    files::scan_bytes(bytes, &origin, Some(&f))
                                })
                                .await
                                .unwrap_or_default();
                                progress.events += parsed.events.len();
                                // Later passes re-read the same objects for new keys only: their
                                // damage was counted the first time.
                                if first_read && parsed.skipped_count > 0 {
                                    progress.skipped += parsed.skipped_count;
                                    progress.skipped_objects += 1;
                                    for s in &parsed.skipped {
                                        if progress.problems.len() < MAX_PROBLEMS {
                                            progress.problems.push(s.to_string());
                                        }
                                    }
                                }
                                fresh.extend(shared.deliver(parsed.events, true));
                            }
                            Err(e) => {
                                if first_read {
                                    progress.skipped += 1;
                                    progress.skipped_objects += 1;
                                }
                                if first_read && progress.problems.len() < MAX_PROBLEMS {
                                    progress.problems.push(format!("{key}: {e}"));
                                }
                            }
                        }
                        emit(&progress);
                    }
                };
                futures_util::future::join(fetch, consume).await;
            }
            first_read = false;
            pending = fresh;
        }
        first = false;
        if !req.live || req.until.is_some() {
            break;
        }
        progress.state = SourceState::Live;
        emit(&progress);
        poller.after(outcome);
        if !poller.wait().await {
            break;
        }
        // Trails come and go (and stop logging): look again before listing.
        let (found, _) = trails::discover(aws, &req.regions).boxed().await;
        if !found.is_empty() {
            progress.logging = found.iter().map(|t| (t.name.clone(), t.logging)).collect();
            with_bucket = found.into_iter().filter(|t| t.bucket.is_some()).collect();
            progress.trails = with_bucket.len();
        }
    }
    progress.state = SourceState::Done;
    emit(&progress);
}
