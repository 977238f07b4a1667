//! Gathers the timeline from every source and reports as it goes: local files (`--logs`),
//! LookupEvents in every region at once (paced per region), and the trail logs in S3. Keys
//! minted by a tracked key are tracked too, and every source is asked again for them until no
//! new key turns up.
//!
//! Live (the console), every source keeps going on its own schedule, none waits for another:
//! each region runs its own loop (its history, retried until it loads, then newer events every
//! interval, with its own backoff after a failure), the trail buckets are listed again every
//! interval, and `--logs` directories are looked at again for files that appeared or changed.
//! The operator's `r` wakes every one of them at once; `p` holds them all.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use tokio::sync::Notify;

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
    /// After the history, keep polling every source for newer events (and retrying the ones
    /// that failed).
    pub live: bool,
    /// Wakes every live source at once (the operator's `r`). Wake it with `notify_waiters`:
    /// the collector keeps one waiter on it at all times and passes the wake on to each source.
    pub poke: Arc<Notify>,
    /// While this says true, live polling waits (the operator's `p`); `r` still polls.
    pub paused: Option<tokio::sync::watch::Receiver<bool>>,
    /// How often each live source polls.
    pub intervals: Intervals,
    /// Search the trail buckets with Athena instead of downloading, when the engine says so
    /// for the window's size (`None`: download). Not when live: a search is one pass.
    pub athena: Option<AthenaSearch>,
    /// Find and read the trail logs as this caller instead (the management account, whose
    /// organisation trail's bucket holds every member's folder), for `account`'s folder.
    pub trails_via: Option<Aws>,
}

/// The engine and keyspill's Athena objects.
#[derive(Debug, Clone, Default)]
pub struct AthenaSearch {
    pub engine: keyspill_core::timeline::athena::Engine,
    pub setup: crate::athena::Setup,
}

/// How often each source is asked again once live. The defaults are the constants below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Intervals {
    /// LookupEvents, per region.
    pub lookup: Duration,
    /// Listing the trail buckets.
    pub trails: Duration,
    /// Looking at `--logs` directories for new or changed files.
    pub files: Duration,
}

impl Default for Intervals {
    fn default() -> Intervals {
        Intervals {
            lookup: LIVE_INTERVAL,
            trails: TRAIL_INTERVAL,
            files: FILES_INTERVAL,
        }
    }
}

/// How often LookupEvents is asked for newer events once the history is in.
pub const LIVE_INTERVAL: Duration = Duration::from_secs(30);
/// How often, once the history is in, the trail buckets are listed again for new log objects
/// (CloudTrail delivers about every five minutes; a game day's attacker more often).
pub const TRAIL_INTERVAL: Duration = Duration::from_secs(20);
/// How often `--logs` paths are looked at again for new or changed files (a responder syncing
/// the trail bucket into a folder while the console runs).
pub const FILES_INTERVAL: Duration = Duration::from_secs(15);
/// Files remembered per watch of `--logs` (path, size, modification time); past this the
/// rest are not watched, and the files pane says so.
const MAX_WATCHED_FILES: usize = 500_000;
/// Objects downloaded at once.
const FETCH_CONCURRENCY: usize = 16;
const MAX_PROBLEMS: usize = 5;
/// Downloaded objects waiting for the parser, at most.
const PARSE_QUEUE: usize = 4;

type Emit = Arc<dyn Fn(Update) + Send + Sync>;
/// A log object as listed: bucket, key and size.
type Listed = (String, String, i64);

/// A list of sources' own wake-ups: a `Notify` shared by several waiters wakes only one of
/// them with `notify_one`, and `notify_waiters` misses one busy polling, so each source waits
/// on its own and a wake is passed to every one (one busy polling keeps it for when it is
/// done, as a [`Poller`] expects).
#[derive(Default)]
struct Wakers(Mutex<Vec<Arc<Notify>>>);

impl Wakers {
    fn add(&self) -> Arc<Notify> {
        let n = Arc::new(Notify::new());
        self.push(n.clone());
        n
    }

    fn push(&self, n: Arc<Notify>) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(n);
    }

    fn wake(&self) {
        for n in self.0.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            n.notify_one();
        }
    }
}

struct Shared {
    tracker: Mutex<Tracker>,
    emit: Emit,
    /// Every live source: woken by the operator's `r`.
    poked: Wakers,
    /// The regions: woken when a key is minted, so its history is asked for at once.
    minted: Wakers,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Tracker> {
        self.tracker.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn keys(&self) -> Vec<String> {
        self.lock().keys().map(str::to_string).collect()
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
        if !fresh.is_empty() {
            self.minted.wake();
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
        poked: Wakers::default(),
        minted: Wakers::default(),
    });
    (shared.emit)(Update::Chains(chains(&shared.lock())));
    let work = async {
        let watch = if !req.logs.is_empty() {
            // What the files were before the first scan: a file changed during it is read
            // again (the timeline drops the events it already holds).
            let known = if req.live {
                let paths = req.logs.clone();
                tokio::task::spawn_blocking(move || watched_files(&paths))
                    .await
                    .ok()
            } else {
                None
            };
            let progress = scan_local(&shared, &req).boxed().await;
            known.map(|k| (k, progress))
        } else {
            None
        };
        let local = async {
            if let Some((known, progress)) = watch {
                watch_local(&shared, &req, known, progress).boxed().await;
            }
        };
        let api = async {
            let Some(aws) = aws.as_ref() else {
                return;
            };
            if req.keys.is_empty() {
                return;
            }
            // Each stage is boxed so that its Send-ness is checked with concrete lifetimes
            // (the compiler cannot prove it through nested combinators otherwise).
            let lookups = lookup_regions(&shared, aws, &req).boxed();
            let logs = scan_trails(&shared, req.trails_via.as_ref().unwrap_or(aws), &req).boxed();
            futures_util::future::join(lookups, logs).await;
        };
        futures_util::future::join(local, api).await;
    };
    // The relay never ends: the work decides when `run` returns.
    futures_util::future::select(
        work.boxed(),
        relay(req.poke.clone(), shared.clone()).boxed(),
    )
    .await;
}

/// Passes every wake of `poke` on to each live source.
async fn relay(poke: Arc<Notify>, shared: Arc<Shared>) {
    let mut next = std::pin::pin!(poke.notified());
    // Registered before anything can poke, so that `notify_waiters` reaches it.
    next.as_mut().enable();
    loop {
        next.as_mut().await;
        next.set(poke.notified());
        next.as_mut().enable();
        shared.poked.wake();
    }
}

/// `--logs`: scan, follow minted keys, scan again for the new ones, until none is new.
async fn scan_local(shared: &Arc<Shared>, req: &Request) -> FileProgress {
    let mut progress = FileProgress {
        state: SourceState::Loading,
        ..FileProgress::default()
    };
    (shared.emit)(Update::Progress(Progress::Files(progress.clone())));
    let keys = (!req.keys.is_empty()).then(|| req.keys.clone());
    if let Err(e) = read_following(
        shared,
        req.logs.clone(),
        &req.logs,
        keys,
        true,
        &mut progress,
    )
    .await
    {
        progress.state = SourceState::Error(Failure::other(format!("file scan stopped: {e}")));
    }
    if progress.state == SourceState::Loading {
        progress.state = SourceState::Done;
    }
    (shared.emit)(Update::Progress(Progress::Files(progress.clone())));
    progress
}

/// Reads `paths` (every event, or with `keys` those of the tracked keys), then all of `all`
/// again for each key those reads mint, until none is new. The first read's files (with
/// `count_files`) and problems are counted in `progress`; later reads only look again.
async fn read_following(
    shared: &Shared,
    mut paths: Vec<PathBuf>,
    all: &[PathBuf],
    mut pending: Option<Vec<String>>,
    count_files: bool,
    progress: &mut FileProgress,
) -> Result<(), tokio::task::JoinError> {
    let mut first = true;
    loop {
        let keys = pending.clone();
        let scan = tokio::task::spawn_blocking(move || {
            let filter = keys.map(KeyFilter::new);
            files::scan_paths(&paths, filter.as_ref())
        })
        .await?;
        if first {
            if count_files {
                progress.files += scan.files;
            }
            progress.add_skipped(&scan);
        }
        first = false;
        progress.events += scan.events.len();
        let fresh = shared.deliver(scan.events, pending.is_some());
        (shared.emit)(Update::Progress(Progress::Files(progress.clone())));
        if fresh.is_empty() {
            return Ok(());
        }
        pending = Some(fresh);
        paths = all.to_vec();
    }
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

/// LookupEvents in every region at once, each region on its own. Without `live`: rounds, each
/// asking every region for the keys it has not been asked about, until a round mints no new
/// key. With `live`: each region loops on its own schedule and never returns.
async fn lookup_regions(shared: &Arc<Shared>, aws: &Aws, req: &Arc<Request>) {
    let mut works: Vec<RegionWork> = req
        .regions
        .iter()
        .map(|r| RegionWork::new(r.clone()))
        .collect();
    for w in &works {
        w.emit(shared);
    }
    if req.live {
        let loops = works.into_iter().map(|w| {
            let (shared, aws, req) = (shared.clone(), aws.clone(), req.clone());
            let waker = shared.poked.add();
            // A minted key wakes the region too: its history is asked for at once.
            shared.minted.push(waker.clone());
            async move { follow_region(w, &shared, &aws, &req, waker).await }.boxed()
        });
        futures_util::future::join_all(loops).await;
        return;
    }
    loop {
        let round = works.iter_mut().map(|w| {
            async move {
                let result = w.pass(shared, aws, req).await;
                w.settle(result, false, None);
                w.emit(shared);
            }
            .boxed()
        });
        futures_util::future::join_all(round).await;
        let keys = shared.keys();
        if works
            .iter()
            .all(|w| keys.iter().all(|k| w.asked.contains(k)))
        {
            break;
        }
    }
}

/// One region, live: a pass at once (the history), then one every interval, at once on `r` or
/// when a key is minted; after a failure the next pass waits longer (the region's own backoff,
/// with jitter), and a pass that succeeds brings the region back to `Live`.
async fn follow_region(
    mut work: RegionWork,
    shared: &Arc<Shared>,
    aws: &Aws,
    req: &Request,
    waker: Arc<Notify>,
) {
    let interval = req.intervals.lookup;
    let mut poller = Poller::new(interval, interval * 4, waker).pausable(req.paused.clone());
    loop {
        let result = work.pass(shared, aws, req).await;
        let outcome = match &result {
            Ok(()) => Outcome::Ok,
            Err(e) => Outcome::from_failure(e),
        };
        let delay = poller.after(outcome);
        let retry_at = time::OffsetDateTime::now_utc() + delay;
        work.settle(result, true, Some(retry_at));
        work.emit(shared);
        if !poller.wait().await {
            return;
        }
    }
}

/// Where LookupEvents stands in one region.
struct RegionWork {
    region: String,
    pacer: Pacer,
    progress: RegionProgress,
    /// Keys whose history is in, with the newest event time seen for each (the next newer
    /// poll starts there).
    loaded: BTreeMap<String, Option<Timestamp>>,
    /// Keys whose history was asked for, loaded or not.
    asked: BTreeSet<String>,
    /// Without `live`, a failed history stays failed: the first failure, kept on show.
    failed: Option<Failure>,
}

impl RegionWork {
    fn new(region: String) -> RegionWork {
        RegionWork {
            region,
            pacer: Pacer::lookup_events(),
            progress: RegionProgress::default(),
            loaded: BTreeMap::new(),
            asked: BTreeSet::new(),
            failed: None,
        }
    }

    fn emit(&self, shared: &Shared) {
        (shared.emit)(Update::Progress(Progress::Region(
            self.region.clone(),
            self.progress.clone(),
        )));
    }

    /// One pass over the tracked keys: the history of each key not loaded yet (without
    /// `live`: not asked yet), then, with `live`, newer events of each key already loaded.
    /// Every key is tried whatever happened to the one before; the first failure is returned.
    async fn pass(&mut self, shared: &Shared, aws: &Aws, req: &Request) -> Result<(), Failure> {
        let mut first_failure = None;
        for key in shared.keys() {
            let loaded = self.loaded.get(&key).copied();
            let history = loaded.is_none();
            // Without `live` a key is asked once (a loaded key was asked).
            if !req.live && self.asked.contains(&key) {
                continue;
            }
            self.asked.insert(key.clone());
            let start = loaded.flatten().or(req.from);
            if history && !matches!(self.progress.state, SourceState::Error(_)) {
                self.progress.state = SourceState::Loading;
                self.emit(shared);
            }
            let mut newest = loaded.flatten();
            let mut throttled_seen = 0;
            let (region, progress) = (&self.region, &mut self.progress);
            let result =
                cloudtrail::lookup_key(aws, region, &key, start, req.until, &self.pacer, |page| {
                    let (events, _bad) = parse_lookup(region, &page.records);
                    let n = events.len();
                    if let Some(t) = events.iter().map(|e| e.time).max() {
                        newest = Some(newest.map_or(t, |x| x.max(t)));
                    }
                    shared.deliver(events, true);
                    progress.pages += 1;
                    progress.events += n;
                    progress.throttled += page.throttled.saturating_sub(throttled_seen);
                    throttled_seen = page.throttled;
                    // An answer: whatever failed before in this region works now.
                    if matches!(progress.state, SourceState::Error(_) | SourceState::Waiting) {
                        progress.state = if history {
                            SourceState::Loading
                        } else {
                            SourceState::Live
                        };
                    }
                    (shared.emit)(Update::Progress(Progress::Region(
                        region.clone(),
                        progress.clone(),
                    )));
                })
                .await;
            match result {
                Ok(summary) => {
                    let newest = match (newest, summary.newest) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        (a, b) => a.or(b),
                    };
                    self.loaded.insert(key, newest);
                }
                Err(e) => {
                    if !req.live && self.failed.is_none() {
                        self.failed = Some(e.clone());
                    }
                    first_failure.get_or_insert(e);
                }
            }
        }
        first_failure.map_or(Ok(()), Err)
    }

    /// The region's state after a pass.
    fn settle(&mut self, result: Result<(), Failure>, live: bool, retry_at: Option<Timestamp>) {
        let p = &mut self.progress;
        match result {
            Err(e) => {
                p.failures += 1;
                p.retry_at = if live { retry_at } else { None };
                p.state = SourceState::Error(e);
            }
            Ok(()) => {
                p.failures = 0;
                p.retry_at = None;
                p.state = match &self.failed {
                    Some(e) => SourceState::Error(e.clone()),
                    None if live => SourceState::Live,
                    None => SourceState::Done,
                };
            }
        }
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
    // Nothing found and every region failed to say: the pass failed (retried when live).
    let mut discovery_failed = found
        .is_empty()
        .then(|| problems.first().map(|p| Failure::other(p.clone())))
        .flatten();
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
    // Every object read so far, and the keys every one of them has been searched for.
    let mut read: Vec<Listed> = Vec::new();
    let mut searched: BTreeSet<String> = BTreeSet::new();
    // Buckets whose whole window has been listed: later passes list only the last two days.
    let mut windowed: BTreeSet<String> = BTreeSet::new();
    let mut with_bucket: Vec<trails::Trail> = with_bucket.into_iter().cloned().collect();
    let interval = req.intervals.trails;
    let mut poller =
        Poller::new(interval, interval * 6, shared.poked.add()).pausable(req.paused.clone());
    loop {
        // A pass whose every listing was throttled or failed waits longer before the next,
        // and shows as failed until one succeeds.
        let mut outcome = Outcome::Ok;
        let mut listed = false;
        let mut failure: Option<Failure> = None;
        let now = time::OffsetDateTime::now_utc();
        // A bucket's first good listing reads the whole window; later ones (live) the last two
        // days, for objects delivered since.
        let window = req.from.unwrap_or(now - time::Duration::days(7)).date();
        let recent = (now - time::Duration::days(1)).date();
        let to = req.until.unwrap_or(now).date();

        // Every object in the window not read yet, per bucket.
        let mut objects: Vec<Listed> = Vec::new();
        for trail in &with_bucket {
            let Some(bucket) = trail.bucket.clone() else {
                continue;
            };
            let from = if windowed.contains(&bucket) {
                recent
            } else {
                window
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
                    windowed.insert(bucket.clone());
                    // A listing problem of this bucket is over.
                    let said = format!("{bucket}: ");
                    progress.problems.retain(|p| !p.starts_with(&said));
                    for (key, size) in list {
                        if seen.insert((bucket.clone(), key.clone())) {
                            objects.push((bucket.clone(), key, size));
                        }
                    }
                }
                Err(e) => {
                    outcome = outcome.worst(Outcome::from_failure(&e));
                    let said = format!("{bucket}: {e}");
                    if progress.problems.len() < MAX_PROBLEMS && !progress.problems.contains(&said)
                    {
                        progress.problems.push(said);
                    }
                    failure.get_or_insert(e);
                }
            }
            progress.objects = seen.len();
            emit(&progress);
        }
        if listed {
            outcome = Outcome::Ok;
            failure = None;
        }
        if let Some(e) = discovery_failed.take() {
            outcome = outcome.worst(Outcome::from_failure(&e));
            failure.get_or_insert(e);
        }

        // Too much to download: Athena searches it where it lies.
        if let Some(search) = req.athena.as_ref().filter(|_| !req.live) {
            let bytes: u64 = objects
                .iter()
                .map(|(_, _, n)| u64::try_from(*n).unwrap_or(0))
                .sum();
            if search.engine.uses_athena(bytes) {
                let done = search_with_athena(
                    shared,
                    aws,
                    req,
                    search,
                    (&with_bucket, &objects, &account),
                    &mut progress,
                )
                .boxed()
                .await;
                progress.state = match done {
                    Ok(()) => SourceState::Done,
                    Err(e) => SourceState::Error(e),
                };
                emit(&progress);
                return;
            }
            progress.athena.push(format!(
                "{} of trail logs in the window: read here (Athena is used above {} with \
                 --engine auto)",
                keyspill_core::timeline::athena::size_text(bytes),
                keyspill_core::timeline::athena::size_text(
                    keyspill_core::timeline::athena::AUTO_THRESHOLD_BYTES
                )
            ));
        }

        // What to read, in turn: the new objects for every tracked key (their damage counted
        // here), the objects read before for keys tracked since (learnt from another source),
        // then everything read so far for each key those reads mint.
        let keys_now = shared.keys();
        let late: Vec<String> = keys_now
            .iter()
            .filter(|k| !searched.contains(*k))
            .cloned()
            .collect();
        let mut jobs: VecDeque<(Vec<Listed>, Vec<String>, bool)> = VecDeque::new();
        if !objects.is_empty() {
            jobs.push_back((objects.clone(), keys_now.clone(), true));
        }
        if !late.is_empty() && !read.is_empty() {
            jobs.push_back((read.clone(), late, false));
        }
        searched.extend(keys_now);
        read.extend(objects);
        while let Some((job, pending, first_read)) = jobs.pop_front() {
            let filter = Arc::new(KeyFilter::new(pending.clone()));
            let mut by_bucket: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
            for (b, k, size) in &job {
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
            let fresh: Vec<String> = fresh
                .into_iter()
                .filter(|k| searched.insert(k.clone()))
                .collect();
            if !fresh.is_empty() {
                jobs.push_back((read.clone(), fresh, false));
            }
        }
        if !req.live || req.until.is_some() {
            if let Some(e) = failure {
                progress.state = SourceState::Error(e);
                emit(&progress);
                return;
            }
            break;
        }
        let delay = poller.after(outcome);
        (progress.state, progress.retry_at) = match failure {
            Some(e) => (
                SourceState::Error(e),
                Some(time::OffsetDateTime::now_utc() + delay),
            ),
            None => (SourceState::Live, None),
        };
        emit(&progress);
        if !poller.wait().await {
            break;
        }
        // Trails come and go (and stop logging): look again before listing.
        let (found, problems) = trails::discover(aws, &req.regions).boxed().await;
        if !found.is_empty() {
            progress.logging = found.iter().map(|t| (t.name.clone(), t.logging)).collect();
            with_bucket = found.into_iter().filter(|t| t.bucket.is_some()).collect();
            progress.trails = with_bucket.len();
        } else if let Some(p) = problems.first() {
            discovery_failed = Some(Failure::other(p.clone()));
        }
    }
    progress.state = SourceState::Done;
    emit(&progress);
}

/// The window searched with Athena: per trail bucket (and organization), its table (created
/// only with the operator's agreement), then rounds of the key query, each round for the
/// keys the previous ones minted, every row delivered like any other source's events.
async fn search_with_athena(
    shared: &Arc<Shared>,
    aws: &Aws,
    req: &Request,
    search: &AthenaSearch,
    (found, objects, account): (&[trails::Trail], &[Listed], &str),
    progress: &mut TrailProgress,
) -> Result<(), Failure> {
    use keyspill_core::timeline::athena::{self as plan, Table};
    let emit = |p: &TrailProgress| (shared.emit)(Update::Progress(Progress::Trails(p.clone())));
    let now = time::OffsetDateTime::now_utc();
    let from = req.from.unwrap_or(now - time::Duration::days(7)).date();
    let to = req.until.unwrap_or(now).date();
    let total: u64 = objects
        .iter()
        .map(|(_, _, n)| u64::try_from(*n).unwrap_or(0))
        .sum();
    progress.athena.push(format!(
        "{} of trail logs in the window: searched with Athena ({})",
        plan::size_text(total),
        match search.engine {
            plan::Engine::Athena => "--engine athena".to_string(),
            _ => format!(
                "over {} with --engine auto",
                plan::size_text(plan::AUTO_THRESHOLD_BYTES)
            ),
        }
    ));
    emit(progress);
    let mut buckets: BTreeSet<(String, Option<String>)> = BTreeSet::new();
    let mut minted_rounds = 0;
    for trail in found {
        let Some(bucket) = trail.bucket.clone() else {
            continue;
        };
        if !buckets.insert((bucket.clone(), trail.prefix.clone())) {
            continue;
        }
        let bytes: u64 = objects
            .iter()
            .filter(|(b, _, _)| *b == bucket)
            .map(|(_, _, n)| u64::try_from(*n).unwrap_or(0))
            .sum();
        let region = trails::bucket_region(aws, &bucket)
            .await
            .unwrap_or_else(|_| trail.home_region.clone());
        let orgs: Vec<Option<String>> = if trail.organization {
            match trails::organization_ids(aws, &bucket, trail.prefix.as_deref()).await {
                Ok(ids) if !ids.is_empty() => ids.into_iter().map(Some).collect(),
                _ => vec![None],
            }
        } else {
            vec![None]
        };
        for org in orgs {
            // An organization's table holds every member's folder, each query only this
            // account's: one table serves every account's search.
            let accounts = match &org {
                Some(o) => trails::account_ids(aws, &bucket, trail.prefix.as_deref(), o)
                    .await
                    .unwrap_or_default(),
                None => Vec::new(),
            };
            let accounts = if accounts.iter().any(|a| a == account) {
                accounts
            } else {
                vec![account.to_string()]
            };
            let table = Table::for_trail(
                &search.setup.database,
                &bucket,
                trail.prefix.as_deref(),
                org.as_deref(),
                accounts,
                req.regions.clone(),
                from,
            );
            for made in crate::athena::ensure(aws, &region, &search.setup, &table).await? {
                progress.athena.push(format!("created {made}"));
            }
            let mut searched: BTreeSet<String> = BTreeSet::new();
            for round in 1..=plan::MAX_ROUNDS {
                let (keys, refused): (Vec<String>, Vec<String>) = shared
                    .keys()
                    .into_iter()
                    .filter(|k| searched.insert(k.clone()))
                    .partition(|k| plan::is_key_id(k));
                for k in refused {
                    if progress.problems.len() < MAX_PROBLEMS {
                        progress
                            .problems
                            .push(format!("not searched with Athena, not a key id: {k:?}"));
                    }
                }
                if keys.is_empty() {
                    break;
                }
                let sql = plan::key_query_sql(&table, &[account.to_string()], &keys, from, to)
                    .map_err(Failure::other)?;
                progress.athena.push(format!(
                    "query {round} in {}.{} for {} key(s): {}",
                    table.database,
                    table.name,
                    keys.len(),
                    plan::estimate_text(bytes)
                ));
                emit(progress);
                let mut batch: Vec<Event> = Vec::new();
                let mut delivered = 0usize;
                let mut unreadable = 0usize;
                let mut origin: Option<Origin> = None;
                let mut flush = |batch: &mut Vec<Event>| {
                    delivered += batch.len();
                    shared.deliver(std::mem::take(batch), true);
                };
                let done = crate::athena::run(aws, &region, &search.setup, &sql, |id, row| {
                    let record = plan::row_record(&row);
                    let origin = origin.get_or_insert_with(|| Origin::Athena { query: id.into() });
                    match parse_record(&record, origin) {
                        Ok(e) => batch.push(e),
                        Err(_) => unreadable += 1,
                    }
                    if batch.len() >= 1000 {
                        flush(&mut batch);
                    }
                })
                .await?;
                flush(&mut batch);
                progress.events += delivered;
                progress.skipped += unreadable;
                if done.rows >= crate::athena::MOST_ROWS && progress.problems.len() < MAX_PROBLEMS {
                    progress.problems.push(format!(
                        "Athena query {round} ({}) was read to its first {} rows only",
                        done.id,
                        crate::athena::MOST_ROWS
                    ));
                }
                progress.athena.push(format!(
                    "query {round} ({}): {} rows, {} scanned",
                    done.id,
                    done.rows,
                    plan::size_text(done.scanned_bytes)
                ));
                emit(progress);
                minted_rounds = minted_rounds.max(round);
            }
        }
    }
    if minted_rounds == plan::MAX_ROUNDS {
        progress.problems.push(format!(
            "Athena: the chain of minted credentials went {} rounds deep; deeper ones were not \
             searched",
            plan::MAX_ROUNDS
        ));
    }
    Ok(())
}

/// A log file's size and modification time: a file whose pair changes is read again.
type Stamp = (u64, Option<SystemTime>);

/// The log files under `paths` (as `files::scan_paths` chooses them: a path named on its own
/// whatever its name, log file names inside directories, links to directories not followed),
/// with their stamps; at most [`MAX_WATCHED_FILES`], the second value says how many more.
fn watched_files(paths: &[PathBuf]) -> (BTreeMap<PathBuf, Stamp>, usize) {
    fn stamp(meta: &std::fs::Metadata) -> Stamp {
        (meta.len(), meta.modified().ok())
    }
    let mut out = BTreeMap::new();
    let mut over = 0;
    let mut dirs: Vec<PathBuf> = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() => {
                out.insert(path.clone(), stamp(&m));
            }
            Ok(m) if m.is_dir() => dirs.push(path.clone()),
            _ => {}
        }
    }
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                dirs.push(path);
            } else if (kind.is_file() || kind.is_symlink())
                && files::is_log_file_name(&entry.file_name().to_string_lossy())
            {
                // A link is followed to a file, never to a directory.
                match std::fs::metadata(&path) {
                    Ok(m) if m.is_file() => {
                        if out.len() < MAX_WATCHED_FILES {
                            out.insert(path, stamp(&m));
                        } else {
                            over += 1;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    (out, over)
}

/// `--logs`, live: every interval (and on `r`) the paths are looked at again and only the files
/// that appeared or changed (size or modification time) are read, for every tracked key; a key
/// they mint sends every file through the scan again, for that key only.
async fn watch_local(
    shared: &Arc<Shared>,
    req: &Request,
    known: (BTreeMap<PathBuf, Stamp>, usize),
    mut progress: FileProgress,
) {
    let (mut known, first_over) = known;
    let interval = req.intervals.files;
    let mut poller =
        Poller::new(interval, interval * 4, shared.poked.add()).pausable(req.paused.clone());
    if progress.state == SourceState::Done {
        progress.state = SourceState::Live;
    }
    (shared.emit)(Update::Progress(Progress::Files(progress.clone())));
    // The first scan just read everything: the first look is one interval away.
    poller.after(Outcome::Ok);
    let mut told_over = false;
    while poller.wait().await {
        let paths = req.logs.clone();
        let Ok((now, now_over)) = tokio::task::spawn_blocking(move || watched_files(&paths)).await
        else {
            poller.after(Outcome::Failed);
            continue;
        };
        let changed: Vec<PathBuf> = now
            .iter()
            .filter(|(p, s)| known.get(*p) != Some(*s))
            .map(|(p, _)| p.clone())
            .collect();
        let added = now.keys().filter(|p| !known.contains_key(*p)).count();
        known = now;
        let over = now_over.max(first_over);
        if over > 0 && !told_over {
            told_over = true;
            if progress.reasons.len() < files::MAX_REASONS {
                progress.reasons.push(format!(
                    "{over} files past the first {MAX_WATCHED_FILES} are not watched for changes"
                ));
            }
        }
        if changed.is_empty() {
            poller.after(Outcome::Ok);
            continue;
        }
        progress.files += added;
        let keys = (!req.keys.is_empty()).then(|| shared.keys());
        // The changed files' problems are counted once per change (a file still being
        // written is read again when it grows).
        let _ = read_following(shared, changed, &req.logs, keys, false, &mut progress).await;
        poller.after(Outcome::Ok);
    }
}
