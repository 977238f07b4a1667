//! `keyspill evidence verify`: the evidence a plan kept, hashed again against its manifest.

use std::io::Write;
use std::process::ExitCode;

use keyspill_core::report::{incidents_root, newest_incident};

use crate::cli::{EvidenceArgs, EvidenceCommand};
use crate::runtime::evidence::{evidence_dir, verify};

/// `keyspill evidence`.
pub fn run(args: &EvidenceArgs) -> ExitCode {
    match &args.command {
        EvidenceCommand::Verify { dir } => verify_cmd(dir.as_deref()),
    }
}

fn verify_cmd(dir: Option<&std::path::Path>) -> ExitCode {
    let dir = match dir {
        Some(d) => d.to_path_buf(),
        None => {
            let root = incidents_root();
            match newest_incident(&root) {
                Some(d) => {
                    eprintln!(
                        "keyspill evidence: using {} (the newest incident under {})",
                        d.display(),
                        root.display()
                    );
                    d
                }
                None => {
                    eprintln!(
                        "keyspill evidence: no incident under {}: give the incident directory \
                         (keyspill evidence verify DIR)",
                        root.display()
                    );
                    return ExitCode::from(2);
                }
            }
        }
    };
    let Some(evidence) = evidence_dir(&dir) else {
        eprintln!(
            "keyspill evidence: {} holds no evidence manifest (evidence/manifest.jsonl): give an \
             incident directory or its evidence directory",
            dir.display()
        );
        return ExitCode::from(2);
    };
    let v = match verify(&evidence) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("keyspill evidence: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    let mut text = String::new();
    for p in v.problems() {
        text.push_str(&p);
        text.push('\n');
    }
    text.push_str(&v.summary());
    text.push('\n');
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("keyspill evidence: writing output: {e}");
        return ExitCode::FAILURE;
    }
    if v.clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
