//! The real binary in a private tmux server, driven by keystrokes: shared by the end-to-end
//! tests.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use super::Moto;

/// A private tmux server running one keyspill, torn down on drop.
pub struct Tmux {
    socket: String,
    _home: tempfile::TempDir,
}

impl Tmux {
    /// Starts keyspill with a clean environment: only what is passed here.
    pub fn start(env: &[(&str, String)], args: &[&str]) -> Tmux {
        static N: AtomicU32 = AtomicU32::new(0);
        let socket = format!(
            "keyspill-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let home = tempfile::tempdir().expect("home");
        let mut cmd = vec![
            "env".to_string(),
            "-i".into(),
            format!("PATH={}", std::env::var("PATH").unwrap_or_default()),
            format!("HOME={}", home.path().display()),
            format!("XDG_STATE_HOME={}", home.path().join("state").display()),
            "TERM=xterm-256color".into(),
            "USER=e2e".into(),
            "AWS_EC2_METADATA_DISABLED=true".into(),
            format!(
                "AWS_CONFIG_FILE={}",
                home.path().join("no-config").display()
            ),
            format!(
                "AWS_SHARED_CREDENTIALS_FILE={}",
                home.path().join("no-creds").display()
            ),
        ];
        cmd.extend(env.iter().map(|(k, v)| format!("{k}={v}")));
        cmd.push(env!("CARGO_BIN_EXE_keyspill").to_string());
        cmd.extend(args.iter().map(|a| a.to_string()));
        let status = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "main",
            ])
            .args(["-x", "120", "-y", "40"])
            .args(&cmd)
            .status()
            .expect("tmux must be installed (Debian package tmux)");
        assert!(status.success(), "tmux new-session failed");
        let t = Tmux {
            socket,
            _home: home,
        };
        t.tmux(&["set-option", "-t", "main", "remain-on-exit", "on"]);
        t
    }

    pub fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "main"])
    }

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.tmux(&["send-keys", "-t", "main", k]);
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    /// Types text literally, one key at a time.
    pub fn type_text(&self, text: &str) {
        for c in text.chars() {
            self.tmux(&["send-keys", "-t", "main", "-l", &c.to_string()]);
            std::thread::sleep(Duration::from_millis(40));
        }
    }

    pub fn wait_for(&self, what: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(what) {
                return screen;
            }
            if start.elapsed() > timeout {
                panic!("waited {timeout:?} for {what:?}; the screen shows:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn exited(&self) -> bool {
        self.tmux(&["display-message", "-p", "-t", "main", "#{pane_dead}"])
            .trim()
            == "1"
    }

    /// Waits for keyspill to have exited (after a `q`), failing after `limit`.
    pub fn wait_exit(&self, limit: Duration) {
        let start = Instant::now();
        while !self.exited() {
            assert!(
                start.elapsed() < limit,
                "q did not quit; the screen:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

/// keyspill under tmux with made-up credentials and every call sent to a port nothing listens
/// on: the console as it is before (or without) any answer from AWS. `args` follow the
/// endpoint flag.
pub fn start_offline(args: &[&str]) -> Tmux {
    let endpoint = crate::common::dead_endpoint();
    let mut all = vec!["--endpoint-url", endpoint.as_str()];
    all.extend_from_slice(args);
    Tmux::start(
        &[
            ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "x".repeat(40)),
            ("AWS_REGION", "us-east-1".to_string()),
        ],
        &all,
    )
}

pub fn creds(moto: &Moto, key: &str, secret: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", key.to_string()),
        ("AWS_SECRET_ACCESS_KEY", secret.to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
        ("AWS_ENDPOINT_URL", moto.endpoint()),
    ]
}
