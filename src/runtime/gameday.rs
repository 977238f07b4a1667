//! `keyspill gameday`: a leaked-key incident on a laptop. Starts moto from the project's own
//! virtualenv, seeds the scenario, lets the simulated attacker loose, and opens the console on
//! it as the responder. When the console closes, the attacker stops, the score is printed and
//! moto goes away.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use color_eyre::eyre::eyre;
use futures_util::FutureExt;

use crate::cli::{ConsoleArgs, GamedayArgs, Regions};
use crate::runtime::{Extra, GameInfo, run_console_with};
use keyspill_core::journal::{self, Milestone};
use keyspill_gameday as gameday;

/// The pinned emulator the project's script installs.
const SETUP_HINT: &str = "run scripts/setup-moto from the keyspill checkout (it creates .venv \
                          with the pinned moto[server]), or pass --moto PATH";

/// moto_server, killed when dropped (the console's exit, a panic, an error).
struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where moto is: `--moto`, `$KEYSPILL_MOTO`, `.venv` here, or `.venv` in the checkout this
/// binary was built from.
fn find_moto(explicit: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(p) = explicit {
        return if p.exists() {
            Ok(p.to_path_buf())
        } else {
            Err(format!(
                "--moto {}: no such file; {SETUP_HINT}",
                p.display()
            ))
        };
    }
    let candidates = [
        std::env::var_os("KEYSPILL_MOTO").map(PathBuf::from),
        Some(PathBuf::from(".venv/bin/moto_server")),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.exists())
        .ok_or_else(|| format!("moto is not installed: {SETUP_HINT}"))
}

/// Starts moto on a free loopback port and waits until it says where.
fn start_moto(bin: &Path, log: &Path) -> Result<Moto, String> {
    let log_file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let mut child = Command::new(bin)
        .args(["-H", "127.0.0.1", "-p", "0"])
        .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log_file))
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let started = Instant::now();
    loop {
        let port = std::fs::File::open(log).ok().and_then(|f| {
            std::io::BufReader::new(f)
                .lines()
                .map_while(Result::ok)
                .find_map(|l| {
                    let rest = l.split("Running on http://127.0.0.1:").nth(1)?;
                    rest.chars()
                        .take_while(char::is_ascii_digit)
                        .collect::<String>()
                        .parse::<u16>()
                        .ok()
                })
        });
        if let Some(port) = port {
            return Ok(Moto {
                child,
                endpoint: format!("http://127.0.0.1:{port}"),
            });
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "moto exited ({status}) before it started; its log is {}",
                log.display()
            ));
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            return Err(format!(
                "moto did not start in 30 s; its log is {}",
                log.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `1 h 12 min` from seconds.
fn words(seconds: i64) -> String {
    let m = seconds.max(0) / 60;
    if m >= 60 {
        format!("{} h {:02} min", m / 60, m % 60)
    } else if m > 0 {
        format!("{m} min {:02} s", seconds.max(0) % 60)
    } else {
        format!("{} s", seconds.max(0))
    }
}

/// The score, from the journal the console wrote and what the attacker still holds.
fn score(dir: &Path, holdings: &[String]) -> Vec<String> {
    let raw = std::fs::read(dir.join(journal::JOURNAL_FILE)).unwrap_or_default();
    let r = journal::read_back(&raw);
    let at = |m: Milestone| r.milestones.get(&m).and_then(|t| journal::parse_ts(t));
    let started = r.opened_at;
    let mut out = vec!["game over".to_string()];
    for (m, what) in [
        (
            Milestone::Contained,
            "contained (every leaked key inactive)",
        ),
        (
            Milestone::Eradicated,
            "eradicated (nothing of the attacker's left)",
        ),
    ] {
        out.push(match (started, at(m)) {
            (Some(s), Some(t)) => format!("  {what} after {}", words((t - s).whole_seconds())),
            _ => format!("  not {}", what.split(' ').next().unwrap_or("")),
        });
    }
    if holdings.is_empty() {
        out.push("  the attacker holds nothing".into());
    } else {
        out.push("  the attacker still holds:".into());
        out.extend(holdings.iter().map(|h| format!("    {h}")));
    }
    out.push(format!(
        "  journal and report: {} (keyspill report --journal {})",
        dir.display(),
        dir.display()
    ));
    out
}

pub async fn run(
    args: GamedayArgs,
    started: Instant,
    local_offset: time::UtcOffset,
) -> color_eyre::Result<()> {
    let scenario = gameday::scenario(&args.scenario).map_err(|e| eyre!("{e}"))?;
    let bin = find_moto(args.moto.as_deref()).map_err(|e| eyre!("{e}"))?;
    let dir = match &args.journal {
        Some(d) => d.clone(),
        None => {
            let stamp = time::OffsetDateTime::now_utc()
                .format(time::macros::format_description!(
                    "[year][month][day]T[hour][minute][second]Z"
                ))
                .unwrap_or_else(|_| "game".into());
            dirs::state_dir()
                .or_else(dirs::data_local_dir)
                .unwrap_or_else(std::env::temp_dir)
                .join("keyspill")
                .join("gameday")
                .join(stamp)
        }
    };
    std::fs::create_dir_all(&dir).map_err(|e| eyre!("{}: {e}", dir.display()))?;
    eprintln!("gameday: starting moto ({})…", bin.display());
    let moto = start_moto(&bin, &dir.join("moto.log")).map_err(|e| eyre!("{e}"))?;
    eprintln!(
        "gameday: seeding scenario {} with seed {}…",
        args.scenario, args.seed
    );
    let now = time::OffsetDateTime::now_utc();
    let seeded = gameday::seed(&moto.endpoint, &scenario, args.seed, now)
        .await
        .map_err(|e| eyre!("seeding failed: {e}"))?;
    let seeded = Arc::new(seeded);

    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let attacker = if args.no_attacker {
        None
    } else {
        let (endpoint, seeded, scenario) =
            (moto.endpoint.clone(), seeded.clone(), scenario.clone());
        let (seed, speed) = (args.seed, args.speed);
        Some(tokio::spawn(async move {
            let log: Arc<dyn Fn(gameday::AttackerEvent) + Send + Sync> = Arc::new(|e| {
                tracing::info!(target: "keyspill::gameday", "attacker: {} {} {} ok={} {}", e.with, e.call, e.region, e.ok, e.detail);
            });
            gameday::attacker(&endpoint, &seeded, &scenario, seed, speed, stop_rx, log).await
        }))
    };

    let console = ConsoleArgs {
        aws: crate::cli::AwsArgs {
            profile: None,
            region: Some("us-east-1".into()),
            regions: Regions::List(seeded.regions.clone()),
            endpoint_url: Some(moto.endpoint.clone()),
        },
        keys: vec![seeded.leaked.key_id.clone()],
        since: Some(seeded.leak_start),
        read_only: false,
        theme: args.theme,
        logs: Vec::new(),
        rules: None,
        journal: Some(dir.clone()),
        cost_days: 30,
        trust_accounts: Vec::new(),
        source_ip: None,
        operator: args.operator.clone(),
        bench_first_frame: false,
    };
    let holdings = {
        let (endpoint, seeded) = (moto.endpoint.clone(), seeded.clone());
        Arc::new(move || {
            let (endpoint, seeded) = (endpoint.clone(), seeded.clone());
            async move { gameday::attacker_holdings(&endpoint, &seeded).await }.boxed()
        })
    };
    let extra = Extra {
        static_credentials: Some((
            seeded.responder.key_id.clone(),
            seeded.responder.secret.clone(),
        )),
        game: Some(GameInfo {
            scenario: args.scenario.clone(),
            seed: args.seed,
            holdings,
        }),
    };
    let result = run_console_with(console, started, local_offset, extra).await;

    let _ = stop.send(true);
    if let Some(a) = attacker {
        let _ = tokio::time::timeout(Duration::from_secs(10), a).await;
    }
    let held = gameday::attacker_holdings(&moto.endpoint, &seeded).await;
    for line in score(&dir, &held) {
        println!("{line}");
    }
    drop(moto);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_in_words() {
        assert_eq!(words(42), "42 s");
        assert_eq!(words(125), "2 min 05 s");
        assert_eq!(words(4320), "1 h 12 min");
        assert_eq!(words(-3), "0 s");
    }

    #[test]
    fn a_missing_moto_says_how_to_install_it() {
        let e = find_moto(Some(Path::new("/nonexistent/moto_server"))).expect_err("missing");
        assert!(e.contains("scripts/setup-moto"), "{e}");
    }
}
