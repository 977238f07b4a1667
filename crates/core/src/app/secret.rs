//! The rotated key's secret: masked until the operator reveals it on purpose (the screen is
//! shared), written to a 0600 file outside any git work tree, or copied to the clipboard.

use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent};

use crate::app::msg::Effect;
use crate::app::state::{Dialog, Level, Reveal, SecretDialog, State};
use crate::domain::{NewKey, Secret, key_short};
use crate::journal::Event;

/// What the room sees of a secret while it is masked: a mask of fixed width and nothing of
/// the secret, not even its length or its first characters (a photo of the wall screen must
/// not narrow the guess).
pub fn mask(_secret: &str) -> String {
    "••••••••••••••••".to_string()
}

/// The flash after any copy to the clipboard.
pub const COPIED: &str = "copied to the clipboard (OSC 52: your terminal must allow it)";

/// A rotation created a key: open the dialog, masked, with the file's default path in the
/// incident directory.
pub fn on_created(state: &mut State, new_key: NewKey, old_key: String) -> Vec<Effect> {
    state.response_keys.insert(new_key.key_id.clone());
    let base = state.journal_dir.clone();
    let path = match &base {
        Some(dir) => Path::new(dir)
            .join(default_file_name(&new_key))
            .display()
            .to_string(),
        // No incident directory: the operator types where (never the current directory).
        None => String::new(),
    };
    let quarantined = user_quarantined(state, &new_key.user);
    state.dialog = Some(Dialog::Secret(SecretDialog {
        new_key,
        old_key,
        path,
        editing_path: false,
        written: None,
        reveal: Reveal::Masked,
        quarantined,
        base,
    }));
    vec![]
}

/// `ci-deploy-AKIA….credentials.csv`: user names may hold `/`-free IAM characters only, but a
/// journal-borne name is not trusted to.
pub fn default_file_name(key: &NewKey) -> String {
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "+=,.@_-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!("{}-{}.credentials.csv", safe(&key.user), safe(&key.key_id))
}

/// Whether `user` carries an `AWSCompromisedKeyQuarantine*` policy, as the Keys poll or the
/// user's detail pane says.
fn user_quarantined(state: &State, user: &str) -> bool {
    let by_keys = state.keys.data.data.as_ref().is_some_and(|snap| {
        snap.keys
            .iter()
            .any(|k| k.user == user && k.quarantined == Some(true))
            || snap
                .users
                .iter()
                .any(|u| u.name == user && u.quarantined == Some(true))
    });
    let by_detail = state.keys.detail.as_ref().is_some_and(|d| {
        d.user == user
            && d.data.data.as_ref().is_some_and(|u| {
                u.attached_policies
                    .iter()
                    .any(|p| p.starts_with(crate::domain::QUARANTINE_PREFIX))
            })
    });
    by_keys || by_detail
}

/// The write finished: say where, and journal the path (never the secret).
pub fn on_written(state: &mut State, result: Result<String, String>) -> Vec<Effect> {
    let Some(Dialog::Secret(d)) = state.dialog.as_mut() else {
        return vec![];
    };
    let effects = match &result {
        Ok(path) => vec![journal(
            &d.new_key,
            format!("written to {path} (mode 0600)"),
        )],
        // Refused or failed: back in the path field, the reason under it.
        Err(_) => {
            d.editing_path = true;
            vec![]
        }
    };
    d.written = Some(result);
    effects
}

fn journal(key: &NewKey, detail: String) -> Effect {
    Effect::Journal(Event::SecretHandled {
        key_id: key.key_id.clone(),
        detail,
    })
}

/// A key while the secret dialog is open (Ctrl-C never closes it: see `update`).
pub fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Some(Dialog::Secret(s)) = state.dialog.as_mut() else {
        return vec![];
    };
    if s.editing_path {
        match key.code {
            KeyCode::Esc => s.editing_path = false,
            KeyCode::Backspace => {
                s.path.pop();
            }
            KeyCode::Enter => {
                // What can be said without the file system is said here; the runtime resolves
                // the path and refuses a git work tree, an existing file or a missing directory
                // (`check_path`), and its answer comes back as `Msg::SecretWritten`.
                return match typed_path_problem(&s.path, s.base.is_some()) {
                    None => {
                        s.editing_path = false;
                        s.written = None;
                        vec![Effect::WriteSecret {
                            path: s.path.trim().to_string(),
                            base: s.base.clone(),
                            key: s.new_key.clone(),
                        }]
                    }
                    Some(e) => {
                        s.written = Some(Err(e));
                        vec![]
                    }
                };
            }
            KeyCode::Char(ch) => s.path.push(ch),
            _ => {}
        }
        return vec![];
    }
    // The warning stands only until the next key: anything but `v` keeps the secret masked.
    if s.reveal == Reveal::Warned && key.code != KeyCode::Char('v') {
        s.reveal = Reveal::Masked;
    }
    match key.code {
        KeyCode::Char('v') => {
            s.reveal = match s.reveal {
                Reveal::Masked => Reveal::Warned,
                Reveal::Warned => Reveal::Shown,
                Reveal::Shown => Reveal::Masked,
            };
            if s.reveal == Reveal::Shown {
                return vec![journal(&s.new_key, "shown on screen".into())];
            }
        }
        KeyCode::Char('w') => {
            s.editing_path = true;
            s.written = None;
        }
        KeyCode::Char('c') | KeyCode::Char('y') => {
            let effects = vec![
                Effect::Copy {
                    what: format!("secret of {}", key_short(&s.new_key.key_id)),
                    text: Secret::new(s.new_key.secret.expose().to_string()),
                },
                journal(&s.new_key, "copied to the clipboard (OSC 52)".into()),
            ];
            state.flash(Level::Ok, format!("secret {COPIED}"));
            return effects;
        }
        KeyCode::Enter => {
            let id = key_short(&s.new_key.key_id);
            state.dialog = None;
            state.flash(
                Level::Info,
                format!("secret of {id} closed; it cannot be shown again"),
            );
        }
        _ => {}
    }
    vec![]
}

/// Where a typed path would write the secret, or why not there: `~/` is the home directory,
/// a relative path is under `base` (the incident directory); the directory must exist, the
/// file must not, and no directory up from it may hold `.git` (a directory, or a file as in
/// a linked worktree or a submodule): a secret in a work tree is one `git add` from a commit.
/// What is wrong with a typed path that can be told without the file system.
fn typed_path_problem(typed: &str, has_base: bool) -> Option<String> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Some("type the path of a new file".into());
    }
    if !has_base && !typed.starts_with("~/") && !Path::new(typed).is_absolute() {
        return Some(NO_BASE.into());
    }
    None
}

const NO_BASE: &str = "no incident directory is open to put a relative path in: type a full path";

/// Resolves a typed path (`~/`, or relative to `base`) and refuses what must not be written:
/// a path inside a git work tree, an existing file, a missing directory. It reads the file
/// system, so the runtime calls it, just before writing.
pub fn check_path(typed: &str, base: Option<&Path>) -> Result<PathBuf, String> {
    let typed = typed.trim();
    if let Some(e) = typed_path_problem(typed, base.is_some()) {
        return Err(e);
    }
    let path = match typed.strip_prefix("~/") {
        Some(rest) => dirs::home_dir()
            .ok_or("no home directory to put ~ in front of")?
            .join(rest),
        None => PathBuf::from(typed),
    };
    let path = if path.is_absolute() {
        path
    } else {
        match base {
            Some(b) => b.join(path),
            None => return Err(NO_BASE.into()),
        }
    };
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(format!("{}: not a file's path", path.display()));
    };
    // Symbolic links resolved, so `.git` is looked for where the file really goes.
    let dir = std::fs::canonicalize(parent).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("no directory {}", parent.display()),
        _ => format!("{}: {e}", parent.display()),
    })?;
    if !dir.is_dir() {
        return Err(format!("{}: not a directory", dir.display()));
    }
    let file = dir.join(name);
    if std::fs::symlink_metadata(&file).is_ok() {
        return Err(format!(
            "{} already exists: keyspill never overwrites a file",
            file.display()
        ));
    }
    if let Some(tree) = git_work_tree(&dir) {
        return Err(format!(
            "{} is inside the git work tree {}: choose a directory outside it",
            file.display(),
            tree.display()
        ));
    }
    Ok(file)
}

/// The nearest directory from `dir` up that holds `.git`, whether a directory or a file.
pub fn git_work_tree(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| std::fs::symlink_metadata(d.join(".git")).is_ok())
        .map(Path::to_path_buf)
}
