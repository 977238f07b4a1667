//! The merged timeline: events from every source, de-duplicated by id, newest first, with the
//! filtered view the tab shows and the summary strip's figures. Built for a million events: a
//! filter change is one pass of a SIMD substring search over a packed, lower-cased text column,
//! and rendering only reads the visible slice of `view`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use memchr::memmem;

use crate::domain::Timestamp;
use crate::timeline::model::{Event, Severity, Tactic, Text};
use crate::timeline::risk::{Context, RiskRules};

/// The quick filters `f` cycles through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quick {
    #[default]
    All,
    /// Events at or after the leak start: the owner's earlier use left out.
    SinceLeak,
    /// Severity high or critical.
    HighRisk,
    Errors,
    Tactic(Tactic),
}

impl Quick {
    /// The next quick filter in the cycle: all, since the leak, high-risk, errors, then each
    /// tactic.
    pub fn next(self) -> Quick {
        match self {
            Quick::All => Quick::SinceLeak,
            Quick::SinceLeak => Quick::HighRisk,
            Quick::HighRisk => Quick::Errors,
            Quick::Errors => Quick::Tactic(Tactic::ALL[0]),
            Quick::Tactic(t) => {
                let i = Tactic::ALL.iter().position(|x| *x == t).unwrap_or(0);
                match Tactic::ALL.get(i + 1) {
                    Some(n) => Quick::Tactic(*n),
                    None => Quick::All,
                }
            }
        }
    }

    pub fn label(self) -> String {
        match self {
            Quick::All => "all".into(),
            Quick::SinceLeak => "since the leak".into(),
            Quick::HighRisk => "high-risk".into(),
            Quick::Errors => "errors".into(),
            Quick::Tactic(t) => t.label().into(),
        }
    }

    fn admits(self, e: &Event, leak: Option<Timestamp>) -> bool {
        match self {
            Quick::All => true,
            Quick::SinceLeak => leak.is_none_or(|l| e.time >= l),
            Quick::HighRisk => e
                .risk
                .as_ref()
                .is_some_and(|r| r.severity >= Severity::High),
            Quick::Errors => e.failed(),
            Quick::Tactic(t) => e.risk.as_ref().is_some_and(|r| r.tactic == t),
        }
    }
}

/// What narrows the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// Case-insensitive text over every shown field.
    pub text: String,
    pub quick: Quick,
    /// Only events made with these keys (one branch of the chain), when set.
    pub keys: Option<BTreeSet<String>>,
}

impl Default for Filter {
    fn default() -> Self {
        Filter {
            text: String::new(),
            quick: Quick::All,
            keys: None,
        }
    }
}

/// When a source address or user agent was seen, and how often.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub first: Timestamp,
    pub last: Timestamp,
    pub events: usize,
    /// Of those, made at or after the leak start (all of them when it is unknown).
    pub since_leak: usize,
}

impl Seen {
    /// First seen at or after the leak start: an address or agent the owner never used.
    pub fn new_since(&self, leak: Option<Timestamp>) -> bool {
        leak.is_some_and(|l| self.first >= l)
    }
}

/// The summary strip: since when, from where, how bad. Tactics are counted for the events
/// since the leak start (every event when it is unknown); what came before is counted apart,
/// because before the leak it is the owner's own use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub first: Option<Timestamp>,
    pub last: Option<Timestamp>,
    pub events: usize,
    pub errors: usize,
    pub regions: BTreeSet<Text>,
    pub source_ips: BTreeMap<Text, Seen>,
    pub user_agents: BTreeMap<Text, Seen>,
    /// Of those, how many were first seen at or after the leak start (kept as events arrive,
    /// so the strip never walks the maps).
    pub new_source_ips: usize,
    pub new_user_agents: usize,
    /// Flagged events since the leak, by tactic.
    pub tactics: BTreeMap<Tactic, usize>,
    /// Of those, the calls refused for lack of permission.
    pub denied: BTreeMap<Tactic, usize>,
    /// The most severe verdict of each tactic since the leak.
    pub worst: BTreeMap<Tactic, Severity>,
    /// The leak start the counts are split at.
    pub leak: Option<Timestamp>,
    /// Events before the leak start, and those of them flagged, by tactic.
    pub before_leak: usize,
    pub tactics_before: BTreeMap<Tactic, usize>,
    /// Events whose id was already known (the same event from two sources).
    pub duplicates: usize,
    /// The earliest event the risk rules rate medium or worse: the first use of a tracked
    /// key that looks like an attacker's rather than the owner's routine (whatever the leak
    /// start, so it can be one).
    pub first_flagged: Option<Timestamp>,
}

/// Counts `e` for `key`; returns the change in how many entries are new since `leak`.
fn see(
    map: &mut BTreeMap<Text, Seen>,
    key: &Text,
    e: &Event,
    after: bool,
    leak: Option<Timestamp>,
) -> isize {
    if key.is_empty() {
        return 0;
    }
    match map.get_mut(key) {
        Some(s) => {
            let was = s.new_since(leak);
            s.first = s.first.min(e.time);
            s.last = s.last.max(e.time);
            s.events += 1;
            s.since_leak += usize::from(after);
            isize::from(s.new_since(leak)) - isize::from(was)
        }
        None => {
            map.insert(
                key.clone(),
                Seen {
                    first: e.time,
                    last: e.time,
                    events: 1,
                    since_leak: usize::from(after),
                },
            );
            isize::from(leak.is_some_and(|l| e.time >= l))
        }
    }
}

#[derive(Debug, Default)]
pub struct Store {
    events: Vec<Event>,
    /// Hash of an event id → the event with it. Another id with the same hash (rare) goes to
    /// `collided`; both are compared by id.
    ids: HashMap<u64, u32>,
    collided: HashMap<u64, Vec<u32>>,
    /// Every event index, newest first.
    order: Vec<u32>,
    /// Lower-cased searchable text of every event, one line each, in insertion order.
    text: Vec<u8>,
    /// End offset of each event's line in `text`.
    text_end: Vec<usize>,
    filter: Filter,
    /// The indices passing the filter, newest first.
    view: Vec<u32>,
    summary: Summary,
}

fn id_hash(id: &str) -> u64 {
    // Ids are attacker-influenced only as far as CloudTrail lets them be; a fixed-key hasher is
    // fine for de-duplication, collisions are compared exactly.
    let mut h = DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// The text the `/` filter searches: every field the table shows.
fn search_line(e: &Event, out: &mut Vec<u8>) {
    let tactic = e.risk.as_ref().map_or("", |r| r.tactic.label());
    let fields = [
        &*e.region,
        &*e.service,
        &*e.name,
        &*e.identity_arn,
        &*e.access_key_id,
        &*e.source_ip,
        &*e.user_agent,
        e.error_code.as_deref().unwrap_or(""),
        tactic,
        if e.denied() { "denied" } else { "" },
    ];
    for f in fields {
        for b in f.bytes() {
            // A newline separates events; never let a field contain one.
            out.push(if b == b'\n' {
                b' '
            } else {
                b.to_ascii_lowercase()
            });
        }
        out.push(b'\t');
    }
    out.push(b'\n');
}

impl Store {
    pub fn new() -> Self {
        Store::default()
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    /// The filtered events, newest first.
    pub fn view_len(&self) -> usize {
        self.view.len()
    }

    /// The `i`-th event of the filtered view.
    pub fn view_get(&self, i: usize) -> Option<&Event> {
        let idx = *self.view.get(i)?;
        self.events.get(idx as usize)
    }

    /// Every event, newest first, ignoring the filter.
    pub fn iter_newest_first(&self) -> impl Iterator<Item = &Event> {
        self.order
            .iter()
            .filter_map(|i| self.events.get(*i as usize))
    }

    /// Position of an event id in the filtered view.
    pub fn view_position(&self, id: &str) -> Option<usize> {
        let want: Vec<u32> = self
            .with_hash(id_hash(id))
            .filter(|i| self.events.get(*i as usize).is_some_and(|e| *e.id == *id))
            .collect();
        self.view.iter().position(|i| want.contains(i))
    }

    /// Indices of events whose id hashes to `hash`.
    fn with_hash(&self, hash: u64) -> impl Iterator<Item = u32> + '_ {
        self.ids
            .get(&hash)
            .copied()
            .into_iter()
            .chain(self.collided.get(&hash).into_iter().flatten().copied())
    }

    fn known(&self, id: &str, hash: u64) -> bool {
        self.with_hash(hash)
            .any(|i| self.events.get(i as usize).is_some_and(|e| *e.id == *id))
    }

    /// Adds events, dropping ids already present. Returns how many were new.
    pub fn insert(&mut self, batch: Vec<Event>) -> usize {
        let first_new = self.events.len();
        for e in batch {
            let h = id_hash(&e.id);
            if self.known(&e.id, h) {
                self.summary.duplicates += 1;
                continue;
            }
            let idx = self.events.len() as u32;
            if let std::collections::hash_map::Entry::Vacant(slot) = self.ids.entry(h) {
                slot.insert(idx);
            } else {
                self.collided.entry(h).or_default().push(idx);
            }
            search_line(&e, &mut self.text);
            self.text_end.push(self.text.len());
            self.account(&e);
            self.events.push(e);
        }
        let added = self.events.len() - first_new;
        if added == 0 {
            return 0;
        }
        // Sort the new indices, then merge them into the existing order in one pass.
        let events = &self.events;
        let newer = |a: &u32, b: &u32| {
            let (ea, eb) = (&events[*a as usize], &events[*b as usize]);
            eb.time.cmp(&ea.time).then_with(|| ea.id.cmp(&eb.id))
        };
        let mut fresh: Vec<u32> = (first_new as u32..events.len() as u32).collect();
        fresh.sort_by(newer);
        let mut merged = Vec::with_capacity(self.order.len() + fresh.len());
        let (mut a, mut b) = (self.order.iter().peekable(), fresh.iter().peekable());
        loop {
            match (a.peek(), b.peek()) {
                (Some(x), Some(y)) => {
                    if newer(x, y) != std::cmp::Ordering::Greater {
                        merged.push(**x);
                        a.next();
                    } else {
                        merged.push(**y);
                        b.next();
                    }
                }
                (Some(x), None) => {
                    merged.push(**x);
                    a.next();
                }
                (None, Some(y)) => {
                    merged.push(**y);
                    b.next();
                }
                (None, None) => break,
            }
        }
        self.order = merged;
        self.refilter();
        added
    }

    fn account(&mut self, e: &Event) {
        let s = &mut self.summary;
        s.events += 1;
        s.first = Some(s.first.map_or(e.time, |f| f.min(e.time)));
        s.last = Some(s.last.map_or(e.time, |l| l.max(e.time)));
        if e.failed() {
            s.errors += 1;
        }
        if !e.region.is_empty() && !s.regions.contains(&e.region) {
            s.regions.insert(e.region.clone());
        }
        let after = s.leak.is_none_or(|l| e.time >= l);
        let d = see(&mut s.source_ips, &e.source_ip, e, after, s.leak);
        s.new_source_ips = s.new_source_ips.saturating_add_signed(d);
        let d = see(&mut s.user_agents, &e.user_agent, e, after, s.leak);
        s.new_user_agents = s.new_user_agents.saturating_add_signed(d);
        if !after {
            s.before_leak += 1;
        }
        if let Some(r) = &e.risk {
            if r.severity >= Severity::Medium {
                s.first_flagged = Some(s.first_flagged.map_or(e.time, |f| f.min(e.time)));
            }
            if after {
                *s.tactics.entry(r.tactic).or_default() += 1;
                if e.denied() {
                    *s.denied.entry(r.tactic).or_default() += 1;
                }
                let worst = s.worst.entry(r.tactic).or_insert(r.severity);
                *worst = (*worst).max(r.severity);
            } else {
                *s.tactics_before.entry(r.tactic).or_default() += 1;
            }
        }
    }

    /// Splits the summary's counts at a new leak start (one pass over the events when it
    /// changes; nothing otherwise).
    pub fn set_leak(&mut self, leak: Option<Timestamp>) {
        if self.summary.leak == leak {
            return;
        }
        let duplicates = self.summary.duplicates;
        self.summary = Summary {
            leak,
            duplicates,
            ..Summary::default()
        };
        let events = std::mem::take(&mut self.events);
        for e in &events {
            self.account(e);
        }
        self.events = events;
        if self.filter.quick == Quick::SinceLeak {
            self.refilter();
        }
    }

    /// How many events of the filtered view are at or after `t` (the view is newest first,
    /// so they are its first ones): where the leak-start line goes.
    pub fn view_since(&self, t: Timestamp) -> usize {
        self.view
            .partition_point(|i| self.events.get(*i as usize).is_some_and(|e| e.time >= t))
    }

    /// Replaces the filter and recomputes the view.
    pub fn set_filter(&mut self, filter: Filter) {
        if filter != self.filter {
            self.filter = filter;
            self.refilter();
        }
    }

    /// Which events (by insertion index) contain the filter text. Hits come in ascending
    /// order, so the event a hit belongs to is found by walking forward, not by searching.
    fn text_matches(&self, needle: &str) -> Vec<bool> {
        let needle = needle.to_lowercase();
        let mut hit = vec![false; self.events.len()];
        let finder = memmem::Finder::new(needle.as_bytes());
        let mut idx = 0;
        let mut pos = 0;
        while pos < self.text.len() {
            let Some(off) = finder.find(&self.text[pos..]) else {
                break;
            };
            let at = pos + off;
            while self.text_end.get(idx).is_some_and(|end| *end <= at) {
                idx += 1;
            }
            let Some(h) = hit.get_mut(idx) else {
                break;
            };
            *h = true;
            // One hit per event is enough: go on from the next event's line.
            pos = self.text_end.get(idx).copied().unwrap_or(self.text.len());
            idx += 1;
        }
        hit
    }

    fn refilter(&mut self) {
        let f = &self.filter;
        let leak = self.summary.leak;
        let text = (!f.text.is_empty()).then(|| self.text_matches(&f.text));
        let events = &self.events;
        self.view = self
            .order
            .iter()
            .copied()
            .filter(|i| {
                let i = *i as usize;
                let Some(e) = events.get(i) else {
                    return false;
                };
                text.as_ref()
                    .is_none_or(|t| t.get(i).copied().unwrap_or(false))
                    && f.quick.admits(e, leak)
                    && f.keys
                        .as_ref()
                        .is_none_or(|k| k.contains(&*e.access_key_id))
            })
            .collect();
    }

    /// Rates new events with `rules` and adds them. Regions the tracked keys used before the
    /// leak (`since`) form the baseline for "region never seen before"; when it grows, every
    /// event is rated again.
    pub fn admit(
        &mut self,
        mut events: Vec<Event>,
        rules: &RiskRules,
        baseline: &mut HashSet<String>,
        since: Option<Timestamp>,
    ) -> usize {
        self.set_leak(since);
        let mut grew = false;
        if let Some(since) = since {
            for e in events
                .iter()
                .filter(|e| e.time < since && !e.region.is_empty())
            {
                grew |= baseline.insert(e.region.to_string());
            }
        }
        let ctx = Context {
            baseline_regions: baseline,
        };
        if grew && !self.is_empty() {
            self.update_all(|e| e.risk = rules.classify(e, &ctx));
        }
        rules.annotate(&mut events, &ctx);
        self.insert(events)
    }

    /// Re-applies a function to every event (new risk rules, say) and rebuilds derived data.
    pub fn update_all(&mut self, mut f: impl FnMut(&mut Event)) {
        let events = std::mem::take(&mut self.events);
        let filter = self.filter.clone();
        let (leak, duplicates) = (self.summary.leak, self.summary.duplicates);
        *self = Store::default();
        self.filter = filter;
        self.summary.leak = leak;
        self.summary.duplicates = duplicates;
        let mut events = events;
        for e in &mut events {
            f(e);
        }
        self.insert(events);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::model::{Origin, Risk};
    use std::sync::Arc;
    use time::macros::datetime;

    pub(crate) fn ev(id: &str, secs: i64, name: &str) -> Event {
        Event {
            id: id.into(),
            time: datetime!(2026-11-22 10:00:00 UTC) + time::Duration::seconds(secs),
            service: "ec2.amazonaws.com".into(),
            name: name.into(),
            region: "us-east-1".into(),
            source_ip: "198.51.100.7".into(),
            user_agent: "aws-cli/2".into(),
            identity_type: "IAMUser".into(),
            identity_arn: "arn:aws:iam::123456789012:user/alice".into(),
            access_key_id: "AKIAAAAAAAAAAAAA1234".into(),
            error_code: None,
            error_message: None,
            read_only: None,
            mfa_used: None,
            minted: None,
            origin: Origin::File { path: "x".into() },
            raw: Arc::from("{}"),
            risk: None,
        }
    }

    fn ids(s: &Store) -> Vec<String> {
        (0..s.view_len())
            .filter_map(|i| s.view_get(i).map(|e| e.id.to_string()))
            .collect()
    }

    #[test]
    fn newest_first_and_deduplicated_across_batches() {
        let mut s = Store::new();
        assert_eq!(s.insert(vec![ev("a", 10, "X"), ev("b", 30, "Y")]), 2);
        assert_eq!(s.insert(vec![ev("c", 20, "Z"), ev("a", 10, "X")]), 1);
        assert_eq!(ids(&s), ["b", "c", "a"]);
        assert_eq!(s.summary().duplicates, 1);
        assert_eq!(s.summary().events, 3);
        assert_eq!(s.summary().first, Some(datetime!(2026-11-22 10:00:10 UTC)));
    }

    #[test]
    fn text_filter_is_case_insensitive_and_per_event() {
        let mut s = Store::new();
        let mut other = ev("b", 2, "StopLogging");
        other.region = "ap-south-1".into();
        s.insert(vec![ev("a", 1, "RunInstances"), other]);
        s.set_filter(Filter {
            text: "STOPLOG".into(),
            ..Filter::default()
        });
        assert_eq!(ids(&s), ["b"]);
        // A needle spanning two fields of one line does not cross into the next event.
        s.set_filter(Filter {
            text: "ap-south-1".into(),
            ..Filter::default()
        });
        assert_eq!(ids(&s), ["b"]);
        s.set_filter(Filter {
            text: "nothing-like-this".into(),
            ..Filter::default()
        });
        assert_eq!(s.view_len(), 0);
    }

    #[test]
    fn a_text_every_event_holds_keeps_every_event() {
        let mut s = Store::new();
        s.insert(
            (0..50)
                .map(|i| ev(&format!("e{i}"), i, "RunInstances"))
                .collect(),
        );
        s.set_filter(Filter {
            text: "runinstances".into(),
            ..Filter::default()
        });
        assert_eq!(s.view_len(), 50);
        s.set_filter(Filter {
            text: "ec2".into(),
            ..Filter::default()
        });
        assert_eq!(s.view_len(), 50);
    }

    #[test]
    fn quick_filters_and_branches() {
        let mut s = Store::new();
        let mut stop = ev("stop", 3, "StopLogging");
        stop.risk = Some(Risk {
            tactic: Tactic::DefenseEvasion,
            severity: Severity::Critical,
            rule: "r".into(),
        });
        let mut denied = ev("denied", 2, "RunInstances");
        denied.error_code = Some("Client.UnauthorizedOperation".into());
        denied.access_key_id = "ASIAAAAAAAAAAAAA9999".into();
        s.insert(vec![ev("plain", 1, "ListBuckets"), stop, denied]);
        s.set_filter(Filter {
            quick: Quick::HighRisk,
            ..Filter::default()
        });
        assert_eq!(ids(&s), ["stop"]);
        s.set_filter(Filter {
            quick: Quick::Errors,
            ..Filter::default()
        });
        assert_eq!(ids(&s), ["denied"]);
        s.set_filter(Filter {
            quick: Quick::Tactic(Tactic::DefenseEvasion),
            ..Filter::default()
        });
        assert_eq!(ids(&s), ["stop"]);
        s.set_filter(Filter {
            keys: Some(["ASIAAAAAAAAAAAAA9999".to_string()].into()),
            ..Filter::default()
        });
        assert_eq!(ids(&s), ["denied"]);
        assert_eq!(s.summary().errors, 1);
        assert_eq!(s.summary().tactics.get(&Tactic::DefenseEvasion), Some(&1));
    }

    #[test]
    fn the_summary_counts_tactics_since_the_leak_and_sources_first_seen() {
        let rated = |id: &str, secs: i64, tactic: Tactic, ip: &str| {
            let mut e = ev(id, secs, "X");
            e.source_ip = ip.into();
            e.risk = Some(Risk {
                tactic,
                severity: Severity::Low,
                rule: "r".into(),
            });
            e
        };
        let mut s = Store::new();
        let mut refused = rated("d", 40, Tactic::CredentialAccess, "203.0.113.9");
        refused.error_code = Some("Client.UnauthorizedOperation".into());
        s.insert(vec![
            rated("a", 10, Tactic::Recon, "198.51.100.7"),
            rated("b", 20, Tactic::Recon, "198.51.100.7"),
            rated("c", 30, Tactic::Recon, "203.0.113.9"),
            refused,
        ]);
        // No leak start known: everything counts.
        assert_eq!(s.summary().tactics.get(&Tactic::Recon), Some(&3));
        assert_eq!(s.summary().before_leak, 0);
        let leak = datetime!(2026-11-22 10:00:25 UTC);
        s.set_leak(Some(leak));
        let sum = s.summary();
        assert_eq!(sum.tactics.get(&Tactic::Recon), Some(&1));
        assert_eq!(sum.tactics_before.get(&Tactic::Recon), Some(&2));
        assert_eq!(sum.denied.get(&Tactic::CredentialAccess), Some(&1));
        assert_eq!(sum.before_leak, 2);
        assert_eq!(sum.events, 4);
        let old = sum.source_ips.get("198.51.100.7").expect("seen");
        assert_eq!((old.events, old.since_leak), (2, 0));
        assert!(!old.new_since(sum.leak));
        let new = sum.source_ips.get("203.0.113.9").expect("seen");
        assert_eq!((new.events, new.since_leak), (2, 2));
        assert_eq!(new.first, datetime!(2026-11-22 10:00:30 UTC));
        assert_eq!(new.last, datetime!(2026-11-22 10:00:40 UTC));
        assert!(new.new_since(sum.leak));
        assert_eq!((sum.new_source_ips, sum.new_user_agents), (1, 0));
        // An older sighting of a new address makes it the owner's after all.
        let mut earlier = ev("e", 5, "X");
        earlier.source_ip = "203.0.113.9".into();
        s.insert(vec![earlier]);
        assert_eq!(s.summary().new_source_ips, 0);
        // The quick filter leaves the owner's earlier use out, and follows the leak start.
        s.set_filter(Filter {
            quick: Quick::SinceLeak,
            ..Filter::default()
        });
        assert_eq!(ids(&s), ["d", "c"]);
        s.set_leak(Some(datetime!(2026-11-22 10:00:15 UTC)));
        assert_eq!(ids(&s), ["d", "c", "b"]);
        s.set_leak(Some(leak));
        s.set_filter(Filter::default());
        // The leak line's place in the view, and "denied" is searchable.
        assert_eq!(s.view_since(leak), 2);
        s.set_filter(Filter {
            text: "denied".into(),
            ..Filter::default()
        });
        assert_eq!(ids(&s), ["d"]);
    }

    #[test]
    fn quick_filter_cycle_visits_every_tactic_and_returns() {
        let mut q = Quick::All;
        let mut seen = 0;
        loop {
            q = q.next();
            seen += 1;
            if q == Quick::All {
                break;
            }
        }
        assert_eq!(seen, 4 + Tactic::ALL.len());
    }

    #[test]
    fn equal_times_order_by_id_and_positions_are_found() {
        let mut s = Store::new();
        s.insert(vec![ev("b", 0, "X"), ev("a", 0, "X")]);
        assert_eq!(ids(&s), ["a", "b"]);
        assert_eq!(s.view_position("b"), Some(1));
        assert_eq!(s.view_position("zzz"), None);
    }
}
