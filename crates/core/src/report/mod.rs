//! The incident report, written from the journal directory alone: no AWS call, so it can be
//! written later, on another machine, from a copied directory. `build` turns the journal's
//! entries into a `Report`; `markdown` and `json` render it; `write` puts it next to the
//! journal; the binary's `keyspill report` prints it.

use std::path::{Path, PathBuf};

use crate::journal::{self, Entry, JOURNAL_FILE};

mod build;
mod markdown;
mod model;
pub mod phases;
pub mod score;
mod sections;

pub use build::{build, collateral, score_inputs};
pub use markdown::markdown;
pub use model::{
    ActionRow, ChecklistRow, Cost, EvidenceRow, Fate, Format, Game, JournalFacts, KeyRow,
    MilestoneRow, NoteRow, Report, ResourceRow, Reverified, ServiceCost, Span, StateFrom,
    StepOutcome, StepRow, Summary, Total,
};
pub use score::{Inputs as ScoreInputs, Part as ScorePart, Score, game_over_lines, grade, score};

/// A journal read leniently.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Loaded {
    pub entries: Vec<Entry>,
    /// Lines skipped, with why: a torn last line, lines that are not entries.
    pub unreadable: Vec<String>,
}

/// Reads `dir/journal.jsonl`, skipping (and listing) what cannot be read.
pub fn read(dir: &Path) -> Result<Loaded, String> {
    let path = dir.join(JOURNAL_FILE);
    let raw = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (entries, torn, bad) = journal::entries(&raw);
    let mut unreadable = bad;
    if let Some(t) = torn {
        unreadable.push(format!("last line, cut off mid-write: {t}"));
    }
    Ok(Loaded {
        entries,
        unreadable,
    })
}

/// Reads the journal in `dir` and builds its report.
pub fn load(dir: &Path) -> Result<Report, String> {
    let loaded = read(dir)?;
    let mut report = build(&loaded.entries);
    report.journal.unreadable = loaded.unreadable;
    Ok(report)
}

/// The report as pretty JSON.
pub fn json(r: &Report) -> String {
    let mut s =
        serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

pub fn render(r: &Report, format: Format) -> String {
    match format {
        Format::Md => markdown(r),
        Format::Json => json(r),
    }
}

/// Writes `report.md` or `report.json` into the journal directory `dir`; returns its path.
pub fn write(dir: &Path, format: Format) -> Result<PathBuf, String> {
    let report = load(dir)?;
    let path = dir.join(format.file_name());
    let tmp = dir.join(format!(".{}.tmp", format.file_name()));
    std::fs::write(&tmp, render(&report, format))
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// Where the console keeps incident directories by default.
pub fn incidents_root() -> PathBuf {
    let one = journal::default_dir(None, time::OffsetDateTime::now_utc());
    one.parent().map(Path::to_path_buf).unwrap_or(one)
}

/// The incident directory under `root` whose journal was written last.
pub fn newest_incident(root: &Path) -> Option<PathBuf> {
    let dirs = std::fs::read_dir(root).ok()?;
    dirs.filter_map(Result::ok)
        .filter_map(|d| {
            let path = d.path();
            let modified = std::fs::metadata(path.join(JOURNAL_FILE))
                .ok()
                .filter(std::fs::Metadata::is_file)?
                .modified()
                .ok()?;
            Some((modified, path))
        })
        .max()
        .map(|(_, p)| p)
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_incident_is_the_one_written_last() {
        let root = tempfile::tempdir().expect("tempdir");
        assert_eq!(newest_incident(root.path()), None);
        let old = root.path().join("111111111111-2026-11-20");
        let new = root.path().join("222222222222-2026-11-01");
        let empty = root.path().join("333333333333-2026-12-01");
        for d in [&old, &new, &empty] {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        std::fs::write(old.join(JOURNAL_FILE), "").expect("write");
        std::fs::write(new.join(JOURNAL_FILE), "").expect("write");
        let past = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(old.join(JOURNAL_FILE))
            .and_then(|f| f.set_modified(past))
            .expect("set mtime");
        assert_eq!(newest_incident(root.path()), Some(new));
    }
}
