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
use keyspill_core::journal;
use keyspill_core::report;
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

/// The score: what the attacker holds now goes into the journal as the game's last word, then
/// the report is built from the journal and its score printed, so the game-over lines and
/// `keyspill report` give the same numbers.
fn score(dir: &Path, game: &GameEntry, holdings: &[String]) -> Vec<String> {
    let appended = journal::Journal::open(dir, "keyspill gameday").and_then(|(mut j, _)| {
        j.append(
            time::OffsetDateTime::now_utc(),
            journal::Event::Game {
                scenario: game.scenario.clone(),
                seed: game.seed,
                attacker_holds: holdings.to_vec(),
            },
        )
    });
    let mut out = match report::load(dir) {
        Ok(r) => report::game_over_lines(&r),
        Err(e) => vec!["game over".to_string(), format!("  no score: {e}")],
    };
    if let Err(e) = appended {
        out.push(format!(
            "  what the attacker holds could not be journaled: {e}"
        ));
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

/// `keyspill gameday --list`: each built-in scenario's name, then its title.
pub fn list() -> Vec<String> {
    let names = gameday::scenario_names();
    let width = names.iter().map(|n| n.len()).max().unwrap_or(0);
    names
        .into_iter()
        .map(|name| match gameday::scenario(name) {
            Ok(s) => format!("{name:<width$}  {}", s.title),
            Err(e) => format!("{name:<width$}  (cannot be read: {e})"),
        })
        .collect()
}

/// The most attacker calls kept for the end-of-game holdings.
const MAX_CALLS_KEPT: usize = 50_000;

/// The game a score is for.
struct GameEntry {
    scenario: String,
    seed: u64,
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
    // What moto lacks (LookupEvents, cost anomalies), served beside it: nothing on screen is
    // an emulator gap.
    let gaps = gameday::gaps::serve(&moto.endpoint, &seeded)
        .await
        .map_err(|e| eyre!("{e}"))?;
    let seeded = Arc::new(seeded);

    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let calls: Arc<std::sync::Mutex<Vec<gameday::AttackerEvent>>> = Arc::default();
    let attacker = if args.no_attacker {
        None
    } else {
        let (endpoint, seeded, scenario) =
            (moto.endpoint.clone(), seeded.clone(), scenario.clone());
        let (seed, speed) = (args.seed, args.speed);
        let calls = calls.clone();
        Some(tokio::spawn(async move {
            let log: Arc<dyn Fn(gameday::AttackerEvent) + Send + Sync> = Arc::new(move |e| {
                tracing::info!(target: "keyspill::gameday", "attacker: {} {} {} ok={} {}", e.with, e.call, e.region, e.ok, e.detail);
                // What it minted during the game is part of what it holds at the end. A game
                // runs for hours at most, a call every few seconds: the cap is never reached
                // by a real game, only by a runaway one.
                if let Ok(mut c) = calls.lock()
                    && c.len() < MAX_CALLS_KEPT
                {
                    c.push(e);
                }
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
        org: crate::cli::OrgArgs {
            accounts: None,
            role_name: keyspill_aws::accounts::DEFAULT_ROLE.into(),
        },
        operator: args.operator.clone(),
        bench_first_frame: false,
    };
    let holdings = {
        let (endpoint, seeded, calls) = (moto.endpoint.clone(), seeded.clone(), calls.clone());
        Arc::new(move || {
            let (endpoint, seeded) = (endpoint.clone(), seeded.clone());
            let live = calls.lock().map(|c| c.clone()).unwrap_or_default();
            async move { gameday::attacker_holdings(&endpoint, &seeded, &live).await }.boxed()
        })
    };
    let extra = Extra {
        static_credentials: Some((
            seeded.responder.key_id.clone(),
            seeded.responder.secret.clone(),
        )),
        service_endpoints: Some(keyspill_aws::ServiceEndpoints {
            cloudtrail: Some(gaps.endpoint.clone()),
            cost_explorer: Some(gaps.endpoint.clone()),
            guardduty: Some(gaps.endpoint.clone()),
            health: Some(gaps.endpoint.clone()),
        }),
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
    let live = calls.lock().map(|c| c.clone()).unwrap_or_default();
    let held = gameday::attacker_holdings(&moto.endpoint, &seeded, &live).await;
    let game = GameEntry {
        scenario: args.scenario.clone(),
        seed: args.seed,
    };
    for line in score(&dir, &game, &held) {
        println!("{line}");
    }
    drop(gaps);
    drop(moto);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn game_over_journals_the_holdings_and_prints_the_reports_score() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lines = [
            r#"{"ts":"2026-11-22T10:00:00Z","operator":"ic","kind":"game","scenario":"github-leak","seed":7,"attacker_holds":[]}"#,
            r#"{"ts":"2026-11-22T10:00:00Z","operator":"ic","kind":"milestone","milestone":"detected","at":"2026-11-22T10:00:00Z"}"#,
            r#"{"ts":"2026-11-22T10:10:00Z","operator":"ic","kind":"milestone","milestone":"contained","at":"2026-11-22T10:10:00Z"}"#,
        ];
        std::fs::write(
            dir.path().join(journal::JOURNAL_FILE),
            lines.join("\n") + "\n",
        )
        .expect("write");
        let game = GameEntry {
            scenario: "github-leak".into(),
            seed: 7,
        };
        let out = score(dir.path(), &game, &["backdoor user x".to_string()]);
        // Contained in 10 min (40), not eradicated (0), one holding (10), no collateral
        // (10), no evidence (0).
        assert_eq!(out[1], "  score 60 / 100, grade D", "{out:?}");
        assert!(out.contains(&"    - the attacker still held: backdoor user x".to_string()));
        // The report written afterwards gives the same number.
        let r = report::load(dir.path()).expect("report");
        let sc = r.game.and_then(|g| g.score).expect("score");
        assert_eq!((sc.points, sc.grade.as_str()), (60, "D"));
    }

    #[test]
    fn the_list_names_every_built_in_scenario_with_its_title() {
        let lines = list();
        let names = gameday::scenario_names();
        assert_eq!(lines.len(), names.len());
        for (line, name) in lines.iter().zip(names) {
            let title = gameday::scenario(name).expect("built in").title;
            assert!(line.starts_with(name) && line.ends_with(&title), "{line}");
        }
    }

    #[test]
    fn a_missing_moto_says_how_to_install_it() {
        let e = find_moto(Some(Path::new("/nonexistent/moto_server"))).expect_err("missing");
        assert!(e.contains("scripts/setup-moto"), "{e}");
    }
}
