use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

use keyspill::cli::{Cli, Command};

fn main() -> ExitCode {
    let started = Instant::now();
    let cli = Cli::parse();
    if let Err(e) = color_eyre::install() {
        eprintln!("keyspill: {e}");
    }
    let log_note = init_logging();
    let args = match cli.command {
        Some(Command::Console(a)) => a,
        Some(Command::Timeline(t)) => {
            return match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(keyspill::headless::run_timeline(t)),
                Err(e) => {
                    eprintln!("keyspill: cannot start the async runtime: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Some(Command::Report(r)) => return keyspill::report_cmd::run(&r),
        Some(Command::Evidence(e)) => return keyspill::evidence_cmd::run(&e),
        Some(Command::Footholds(f)) => {
            return match tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt.block_on(keyspill::footholds_cmd::run(f)),
                Err(e) => {
                    eprintln!("keyspill: cannot start the async runtime: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Some(Command::Gameday(g)) if g.list => {
            for line in keyspill::runtime::gameday::list() {
                println!("{line}");
            }
            return ExitCode::SUCCESS;
        }
        Some(Command::Gameday(g)) => {
            return run_async(log_note, move |offset| {
                keyspill::runtime::gameday::run(g, started, offset)
            });
        }
        None => cli.console,
    };
    // Before the terminal is taken over: a mistyped --logs path is said plainly.
    if let Err(e) = keyspill::headless::check_logs(&args.logs) {
        eprintln!("keyspill: {e}");
        return ExitCode::from(2);
    }
    run_async(log_note, move |offset| {
        keyspill::runtime::run_console(args, started, offset)
    })
}

/// Runs the console (or the game day around it) on a two-thread runtime.
fn run_async<F, Fut>(log_note: Option<String>, body: F) -> ExitCode
where
    F: FnOnce(time::UtcOffset) -> Fut,
    Fut: std::future::Future<Output = color_eyre::Result<()>>,
{
    // Read while the process has one thread: the time crate refuses once there are more.
    let local_offset = time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("keyspill: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(body(local_offset)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("keyspill: {e:?}");
            if let Some(note) = log_note {
                eprintln!("{note}");
            }
            ExitCode::FAILURE
        }
    }
}

/// Logs go to a file, never to the terminal the console draws on. Returns where, in words.
fn init_logging() -> Option<String> {
    let dir = dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .unwrap_or_else(std::env::temp_dir)
        .join("keyspill");
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join("keyspill.log");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("KEYSPILL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("keyspill=info,warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .try_init()
        .ok()?;
    Some(format!("log: {}", path.display()))
}
