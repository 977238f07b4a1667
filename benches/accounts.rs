//! The inventory sweep of an organisation: 20 accounts × 17 regions when every request takes
//! 100 ms, all accounts at once (`accounts::sweep_all`) against the same sweep done account by
//! account (each account's regions at once, as one account's sweep always is).
//!
//!   cargo bench --bench accounts         (ACCOUNTS_ROUNDS=N to repeat; default 2)
//!
//! `cpu_s` is the CPU time the process (keyspill's sweep and the proxy) used during the sweep
//! of all accounts at once, on every core: near twice its wall time on two cores, the sweep
//! was bound by CPU, not by the 100 ms.
//!
//! `ACCOUNTS_DELAY_MS=0` times the same sweeps with no latency: what is left is CPU (the
//! client's and the proxy's, on the same cores), the floor under the concurrent sweep.
//! `KEYSPILL_MAX_IN_FLIGHT=N` changes the bound on requests in flight (`keyspill_aws::http`).
//!
//! Target (issue 18): "a sweep of 20 accounts × 17 regions at 100 ms per request finishes in
//! at most 1/12 of the time of the same sweep done account by account".
//!
//! moto holds an organisation of 20 member accounts, entered through
//! `OrganizationAccountAccessRole`; some accounts have instances in some regions. Requests
//! pass through the benches' latency proxy (`support/proxy.rs`): a warm-up sweep records each
//! answer (keyed by the signing key too, so every account's session gets its own answers),
//! then the timed sweeps are answered from the recordings 100 ms after each request arrives,
//! without moto (one Python process, whose CPU would otherwise bound the concurrent sweep; see
//! `benches/sweep.rs`). Every timed sweep must find the seeded instances in their accounts with
//! no failed cell, or the bench fails.

#[path = "../tests/it/common/mod.rs"]
mod common;
#[path = "support/proxy.rs"]
mod proxy;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;

use aws_sdk_ec2::types::InstanceType;
use keyspill_aws::{Aws, accounts};
use keyspill_core::resources::{CellState, Kind, RegionSweep};
use proxy::{DELAY, Mode, Proxy, REGIONS, connect, median};

const ACCOUNTS: usize = 20;
const TARGET_RATIO: f64 = 1.0 / 12.0;
const AMI: &str = "ami-03cf127a";

/// The organisation and its members; instances in every third account. Returns the member
/// ids and the instances launched per account.
async fn organisation(root: &Aws) -> Result<(Vec<String>, BTreeMap<String, usize>), String> {
    let org = root.organizations();
    org.create_organization()
        .send()
        .await
        .map_err(|e| format!("create organization: {e}"))?;
    let mut ids = Vec::new();
    for n in 0..ACCOUNTS {
        let made = org
            .create_account()
            .account_name(format!("member-{n:02}"))
            .email(format!("member-{n:02}@example.com"))
            .send()
            .await
            .map_err(|e| format!("create account: {e}"))?;
        let id = made
            .create_account_status()
            .and_then(|s| s.account_id())
            .ok_or("no account id")?
            .to_string();
        ids.push(id);
    }
    let mut launched = BTreeMap::new();
    for (n, id) in ids.iter().enumerate().filter(|(n, _)| n % 3 == 0) {
        let aws = accounts::enter(root, None, id, accounts::DEFAULT_ROLE, "aws")
            .await
            .map_err(|e| e.to_string())?;
        let region = REGIONS[n % REGIONS.len()];
        aws.ec2_in(region)
            .run_instances()
            .image_id(AMI)
            .instance_type(InstanceType::T3Micro)
            .min_count(2)
            .max_count(2)
            .send()
            .await
            .map_err(|e| format!("run instances: {e}"))?;
        launched.insert(id.clone(), 2);
    }
    Ok((ids, launched))
}

/// Instances found per account, and the failed cells.
fn tally(found: &[(String, RegionSweep)]) -> (BTreeMap<String, usize>, Vec<String>) {
    let mut per = BTreeMap::new();
    let mut failed = Vec::new();
    for (account, s) in found {
        let n = s
            .resources
            .iter()
            .filter(|r| r.kind == Kind::Instance)
            .count();
        if n > 0 {
            *per.entry(account.clone()).or_default() += n;
        }
        for (kind, cell) in &s.cells {
            if let CellState::Failed(f) = cell {
                failed.push(format!("{account} {} {kind}: {}", s.region, f.text));
            }
        }
    }
    (per, failed)
}

/// CPU time this process has used (user and system, every thread), from `/proc/self/stat`
/// (Linux; `None` elsewhere): with the wall time it shows whether a sweep waited or worked.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

async fn at_once(entered: &[(String, Aws)], regions: &[String]) -> Vec<(String, RegionSweep)> {
    let mut out = Vec::new();
    accounts::sweep_all(entered, regions, |a, s| out.push((a.to_string(), s))).await;
    out
}

async fn one_by_one(entered: &[(String, Aws)], regions: &[String]) -> Vec<(String, RegionSweep)> {
    let mut out = Vec::new();
    for (id, aws) in entered {
        for s in keyspill_aws::resources::sweep(aws, regions).await {
            out.push((id.clone(), s));
        }
    }
    out
}

fn main() -> ExitCode {
    let rounds: usize = std::env::var("ACCOUNTS_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2)
        .max(1);
    if !proxy::ensure_moto("accounts") {
        return ExitCode::FAILURE;
    }
    let moto = common::Moto::start();
    let proxy = match Proxy::start(moto.port) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("accounts bench: proxy: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    else {
        eprintln!("accounts bench: no tokio runtime");
        return ExitCode::FAILURE;
    };
    let direct = runtime.block_on(connect(moto.endpoint()));
    let (ids, launched) = match runtime.block_on(organisation(&direct)) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("accounts bench: seeding moto failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let root = runtime.block_on(connect(proxy.endpoint()));
    // Entered once (untimed), as the console does when it starts.
    proxy.set_mode(Mode::Live);
    proxy.set_delay(std::time::Duration::ZERO);
    let mut entered = Vec::new();
    for id in &ids {
        match runtime.block_on(accounts::enter(
            &root,
            None,
            id,
            accounts::DEFAULT_ROLE,
            "aws",
        )) {
            Ok(aws) => entered.push((id.clone(), aws)),
            Err(e) => {
                eprintln!("accounts bench: cannot enter {id}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let regions: Vec<String> = REGIONS.iter().map(|r| r.to_string()).collect();

    // Recorded account by account: all at once, moto (one Python process) cannot answer
    // thousands of requests before the SDK's timeouts.
    proxy.set_mode(Mode::Record);
    let before = proxy.requests();
    let warm = runtime.block_on(one_by_one(&entered, &regions));
    let (warm_found, warm_failed) = tally(&warm);
    println!(
        "organisation sweep: {} accounts × {} regions (+ IAM each), {} ms per request; \
         instances seeded in {} accounts",
        entered.len(),
        regions.len(),
        DELAY.as_millis(),
        launched.len()
    );
    println!(
        "warm-up (untimed, live moto): {} requests, {} distinct answers recorded",
        proxy.requests() - before,
        proxy.recordings()
    );
    let mut correct = warm_found == launched && warm_failed.is_empty();
    for f in warm_failed.iter().take(10) {
        println!("  warm-up: failed cell: {f}");
    }
    let delay = std::env::var("ACCOUNTS_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(std::time::Duration::from_millis)
        .unwrap_or(DELAY);
    proxy.set_delay(delay);
    proxy.set_mode(Mode::Replay);
    println!(
        "at most {} requests in flight; {} ms per request in the timed sweeps",
        keyspill_aws::http::in_flight_for(keyspill_aws::http::raise_open_files()),
        delay.as_millis()
    );
    println!("target: all accounts at once <= 1/12 ({TARGET_RATIO:.4}) of account by account");
    println!(
        "{:>5} {:>12} {:>8} {:>10} {:>12} {:>14} {:>10} {:>8}",
        "round",
        "at_once_s",
        "cpu_s",
        "requests",
        "connections",
        "one_by_one_s",
        "requests",
        "ratio"
    );
    let (mut t_a, mut t_b) = (Vec::new(), Vec::new());
    let unrecorded_before = proxy.unrecorded();
    for round in 1..=rounds {
        let before = proxy.requests();
        let conns = proxy.connections();
        let began = Instant::now();
        let cpu = cpu_seconds();
        let a = runtime.block_on(at_once(&entered, &regions));
        let secs_a = began.elapsed().as_secs_f64();
        let cpu_a = cpu.zip(cpu_seconds()).map_or(f64::NAN, |(b, e)| e - b);
        let conns = proxy.connections() - conns;
        let req_a = proxy.requests() - before;
        let before = proxy.requests();
        let began = Instant::now();
        let b = runtime.block_on(one_by_one(&entered, &regions));
        let secs_b = began.elapsed().as_secs_f64();
        let req_b = proxy.requests() - before;
        println!(
            "{round:>5} {secs_a:>12.3} {cpu_a:>8.2} {req_a:>10} {conns:>12} {secs_b:>14.3} {req_b:>10} {:>8.4}",
            secs_a / secs_b
        );
        for (what, sweep) in [("all at once", &a), ("account by account", &b)] {
            let (found, failed) = tally(sweep);
            if found != launched || !failed.is_empty() {
                println!("  {what}: found {found:?}, failed {failed:?}");
                correct = false;
            }
        }
        t_a.push(secs_a);
        t_b.push(secs_b);
    }
    let (a, b) = (median(t_a), median(t_b));
    let ratio = a / b;
    println!(
        "median: all at once {a:.3} s, account by account {b:.3} s, ratio {ratio:.4}: {}; \
         forwarded {} unrecorded requests",
        if ratio <= TARGET_RATIO {
            "MET"
        } else {
            "MISSED"
        },
        proxy.unrecorded() - unrecorded_before
    );
    println!(
        "every sweep found the seeded instances in their accounts and no cell failed: {}",
        if correct { "yes" } else { "NO" }
    );
    drop(moto);
    if correct {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
