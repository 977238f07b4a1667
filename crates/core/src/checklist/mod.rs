//! The response checklist's steps: built in from `assets/checklist.toml`, extended or replaced
//! by the user's own file. Evaluating them against live state is `app::checklist`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

const BUILTIN: &str = include_str!("../../../../assets/checklist.toml");

/// The automatic checks keyspill knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Check {
    Manual,
    SelfIdentity,
    LeakedKeysInactive,
    SessionsRevoked,
    QuarantinePresent,
    NoNewActiveKeys,
    NoNewPrincipals,
    NoRootKeys,
    NoAttackerResources,
    TrailsLogging,
    CostReviewed,
    /// Zero open footholds, verified from live IAM (the same verdict as the header's).
    NoOpenFootholds,
}

impl Check {
    fn parse(s: &str) -> Option<Check> {
        Some(match s {
            "manual" => Check::Manual,
            "self-identity" => Check::SelfIdentity,
            "leaked-keys-inactive" => Check::LeakedKeysInactive,
            "sessions-revoked" => Check::SessionsRevoked,
            "quarantine-present" => Check::QuarantinePresent,
            "no-new-active-keys" => Check::NoNewActiveKeys,
            "no-new-principals" => Check::NoNewPrincipals,
            "no-root-keys" => Check::NoRootKeys,
            "no-attacker-resources" => Check::NoAttackerResources,
            "trails-logging" => Check::TrailsLogging,
            "cost-reviewed" => Check::CostReviewed,
            "no-open-footholds" => Check::NoOpenFootholds,
            _ => return None,
        })
    }

    /// Informational checks show what they see but never count as failing.
    pub fn informational(self) -> bool {
        self == Check::QuarantinePresent
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub id: String,
    pub title: String,
    pub why: String,
    pub check: Check,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    replace: bool,
    #[serde(default)]
    step: Vec<RawStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: String,
    title: String,
    #[serde(default)]
    why: String,
    #[serde(default = "manual")]
    check: String,
}

fn manual() -> String {
    "manual".into()
}

fn parse(text: &str, origin: &str) -> Result<(bool, Vec<Step>), String> {
    let raw: RawFile = toml::from_str(text).map_err(|e| format!("{origin}: {e}"))?;
    let mut steps = Vec::new();
    for s in raw.step {
        if s.id.trim().is_empty() {
            return Err(format!("{origin}: a step has an empty id"));
        }
        let check = Check::parse(&s.check).ok_or_else(|| {
            format!(
                "{origin}: step {}: unknown check {:?} (use \"manual\" or one keyspill knows)",
                s.id, s.check
            )
        })?;
        steps.push(Step {
            id: s.id,
            title: s.title,
            why: s.why,
            check,
        });
    }
    Ok((raw.replace, steps))
}

/// The built-in steps.
pub fn builtin() -> Vec<Step> {
    parse(BUILTIN, "assets/checklist.toml")
        .map(|(_, s)| s)
        .unwrap_or_default()
}

/// The built-in steps with a user's file applied: a step with a known id replaces that step
/// in place, a new id is added at the end; `replace = true` drops the built-in list.
pub fn load(user_file: Option<&Path>) -> Result<Vec<Step>, String> {
    let mut steps = builtin();
    let Some(path) = user_file else {
        return Ok(steps);
    };
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (replace, theirs) = parse(&text, &path.display().to_string())?;
    if replace {
        return Ok(theirs);
    }
    for s in theirs {
        match steps.iter_mut().find(|x| x.id == s.id) {
            Some(existing) => *existing = s,
            None => steps.push(s),
        }
    }
    Ok(steps)
}

/// `$XDG_CONFIG_HOME/keyspill/checklist.toml` when it exists.
pub fn default_user_file() -> Option<PathBuf> {
    let p = dirs::config_dir()?.join("keyspill").join("checklist.toml");
    p.exists().then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn the_builtin_list_parses_with_its_checks() {
        let steps = builtin();
        assert!(steps.len() >= 15, "{}", steps.len());
        assert_eq!(steps[0].id, "stop-exposure");
        assert!(steps.iter().any(|s| s.check == Check::LeakedKeysInactive));
        assert!(
            steps
                .iter()
                .all(|s| !s.title.is_empty() && !s.why.is_empty())
        );
        let mut ids: Vec<&str> = steps.iter().map(|s| s.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), steps.len(), "ids are unique");
    }

    #[test]
    fn a_user_file_replaces_by_id_and_adds() {
        let mut f = tempfile::NamedTempFile::new().expect("temp");
        writeln!(
            f,
            r#"
[[step]]
id = "cost"
title = "Finance told"
check = "manual"

[[step]]
id = "legal"
title = "Legal informed"
"#
        )
        .expect("write");
        let steps = load(Some(f.path())).expect("loads");
        let cost = steps.iter().find(|s| s.id == "cost").expect("cost");
        assert_eq!(
            (cost.title.as_str(), cost.check),
            ("Finance told", Check::Manual)
        );
        assert_eq!(steps.last().map(|s| s.id.as_str()), Some("legal"));
        assert_eq!(steps.len(), builtin().len() + 1);
    }

    #[test]
    fn replace_and_bad_files() {
        let mut f = tempfile::NamedTempFile::new().expect("temp");
        writeln!(
            f,
            "replace = true\n[[step]]\nid = \"only\"\ntitle = \"Only\""
        )
        .expect("w");
        assert_eq!(load(Some(f.path())).expect("loads").len(), 1);
        let mut bad = tempfile::NamedTempFile::new().expect("temp");
        writeln!(
            bad,
            "[[step]]\nid = \"x\"\ntitle = \"X\"\ncheck = \"telepathy\""
        )
        .expect("w");
        let e = load(Some(bad.path())).expect_err("unknown check");
        assert!(e.contains("telepathy"), "{e}");
        assert!(load(Some(Path::new("/nonexistent/checklist.toml"))).is_err());
    }
}
