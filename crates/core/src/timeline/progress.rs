//! How the timeline's sources report: the progress of each source and the updates the
//! collector (in `keyspill-aws`) sends to the console and to `keyspill timeline`.

use crate::domain::{Failure, Timestamp};
use crate::timeline::chain::Tracker;
use crate::timeline::model::Event;

/// Where one source stands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SourceState {
    #[default]
    Waiting,
    Loading,
    /// History loaded; now polling for newer events.
    Live,
    Done,
    Error(Failure),
}

/// LookupEvents in one region.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegionProgress {
    pub state: SourceState,
    pub pages: u32,
    pub events: usize,
    pub throttled: u32,
    /// While failing (live): failed polls in a row, and when the region is asked again.
    pub failures: u32,
    pub retry_at: Option<Timestamp>,
}

/// Trail logs in S3.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TrailProgress {
    pub state: SourceState,
    pub trails: usize,
    pub objects: usize,
    pub fetched: usize,
    pub events: usize,
    /// Objects, records and lines that could not be used (an object over the size cap, a
    /// download that failed, a damaged record…), all counted.
    pub skipped: usize,
    /// Objects with at least one of them.
    pub skipped_objects: usize,
    /// Problems in words (per region, per object), the first few.
    pub problems: Vec<String>,
    /// Every trail found (with or without a readable bucket): name and `IsLogging` (`None`
    /// when its status could not be read). The checklist's logging check reads this.
    pub logging: Vec<(String, Option<bool>)>,
    /// Discovery has run (so an empty `logging` means "no trail", not "not looked yet").
    pub discovered: bool,
    /// While failing (live): when the buckets are listed again.
    pub retry_at: Option<Timestamp>,
    /// The Athena search, when the window was searched there, line by line: the engine
    /// chosen and why, what was created, each query's estimate before it runs and its rows
    /// after.
    pub athena: Vec<String>,
}

/// `--logs` files.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileProgress {
    pub state: SourceState,
    pub files: usize,
    pub events: usize,
    /// Files, records and lines that could not be used, all counted.
    pub skipped: usize,
    /// Files with at least one of them.
    pub skipped_files: usize,
    /// The first of them in words, with the file (a few per file, at most
    /// [`MAX_REASONS`](crate::timeline::files::MAX_REASONS)): a progress message never carries
    /// one entry per bad record.
    pub reasons: Vec<String>,
}

impl FileProgress {
    /// Counts a scan's skipped files and records, and keeps its reasons while there is room.
    pub fn add_skipped(&mut self, scan: &crate::timeline::files::FileScan) {
        self.skipped += scan.skipped_count;
        self.skipped_files += scan.skipped_files;
        let room = crate::timeline::files::MAX_REASONS.saturating_sub(self.reasons.len());
        self.reasons
            .extend(scan.skipped.iter().take(room).map(|s| s.to_string()));
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    Region(String, RegionProgress),
    Trails(TrailProgress),
    Files(FileProgress),
}

/// A tracked key: its chain in words and its branch (itself and every key it minted).
pub type ChainInfo = (String, String, Vec<String>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    Events(Vec<Event>),
    Chains(Vec<ChainInfo>),
    Progress(Progress),
}

/// Every tracked key with its chain and branch.
pub fn chains(tracker: &Tracker) -> Vec<ChainInfo> {
    tracker
        .keys()
        .map(|k| (k.to_string(), tracker.chain_text(k), tracker.branch(k)))
        .collect()
}
