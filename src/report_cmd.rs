//! `keyspill report`: the incident report from a journal directory alone.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use keyspill_core::journal::JOURNAL_FILE;
use keyspill_core::report::{incidents_root, load, newest_incident, render};

use crate::cli::ReportArgs;

/// `keyspill report`.
pub fn run(args: &ReportArgs) -> ExitCode {
    let dir = match &args.journal {
        // The journal file itself names its directory.
        Some(p) if p.is_file() && p.file_name().is_some_and(|n| n == JOURNAL_FILE) => p
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")),
        Some(p) => p.clone(),
        None => {
            let root = incidents_root();
            match newest_incident(&root) {
                Some(d) => {
                    eprintln!(
                        "keyspill report: using {} (the newest incident under {})",
                        d.display(),
                        root.display()
                    );
                    d
                }
                None => {
                    eprintln!(
                        "keyspill report: no incident journal under {}: give the incident \
                         directory with --journal DIR",
                        root.display()
                    );
                    return ExitCode::from(2);
                }
            }
        }
    };
    if !dir.join(JOURNAL_FILE).is_file() {
        eprintln!(
            "keyspill report: {} holds no incident journal ({JOURNAL_FILE}): give the incident \
             directory with --journal DIR",
            dir.display()
        );
        return ExitCode::from(2);
    }
    let report = match load(&dir) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("keyspill report: {e}");
            return ExitCode::FAILURE;
        }
    };
    let text = render(&report, args.format);
    match &args.out {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &text) {
                eprintln!("keyspill report: {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
            eprintln!("keyspill report: wrote {}", path.display());
        }
        None => {
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush())
                && e.kind() != std::io::ErrorKind::BrokenPipe
            {
                eprintln!("keyspill report: writing output: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let n = report.journal.unreadable.len();
    if n > 0 {
        eprintln!(
            "keyspill report: {n} line{} of the journal could not be read (listed in the report)",
            if n == 1 { "" } else { "s" }
        );
    }
    ExitCode::SUCCESS
}
