//! The Resources tab's inventory sweep over 17 regions when every request takes 100 ms, the
//! way a distant AWS endpoint does: all regions at once (`resources::sweep`) against the same
//! sweep done region by region (`sweep_region` for one region after the other, then
//! `sweep_iam`).
//!
//!   cargo bench --bench sweep            (SWEEP_ROUNDS=N to repeat; default 3)
//!
//! Target (DESIGN.md, Performance): "A 17-region inventory sweep at 100 ms per request: <= 1/12
//! of the sequential time", i.e. the sweep of all regions at once takes at most 1/12 of the
//! time of the one done region by region.
//!
//! The answers come from a moto server (the project's `.venv`, as the tests start it) seeded
//! with instances, key pairs, security groups, a launch template, an Auto Scaling group and a
//! Lambda function in several regions. Between the SDK and moto sits a small HTTP/1.1 proxy
//! made here. It reads each request whole (Content-Length or chunked body, several requests
//! per kept-alive connection, as AWS's front ends allow), holds it until 100 ms after its
//! first byte arrived, and then answers it in one of three ways:
//!
//! - record (the untimed warm-up sweep): forwards it to moto and keeps moto's answer, keyed by
//!   what identifies the request independent of signing: method, path and query, the
//!   `X-Amz-Target` header, the region and service of the SigV4 credential scope (each
//!   region's answers differ), and the body (stable form strings for EC2 and Auto Scaling,
//!   JSON for the rest). Dates, signatures, invocation ids and the retry counter are left out.
//! - replay (the first table): answers with the recorded response without touching moto. A
//!   request with no recording is forwarded to moto and counted ("forwarded N unrecorded
//!   requests"; there should be none).
//! - live (the second table): forwards every request to moto, as the warm-up does.
//!
//! Why replay: moto is one Python process. On a 2-core machine it needs 1.1-1.5 s of CPU to
//! work through the ~240 requests of one sweep, so with live answers the concurrent sweep is
//! bounded by moto's CPU, not by the 100 ms of latency nor by keyspill. The target is about
//! latency, so the first table models an AWS whose per-request time is the 100 ms; the second
//! shows what moto's CPU limits the same sweeps to on this machine, and a last line gives
//! moto's own time with no delay added.
//!
//! The replay table also shows the longest any replayed request took from its first byte in to
//! its answer written (the proxy's own overhead beyond the 100 ms), and each region's own time
//! in the last region-by-region sweep (its chain of dependent requests, in 100 ms steps).
//!
//! Every timed sweep, replayed or live, must find what the warm-up found (the seeded
//! instances, the same number of resources) with no failed cell, so a replay cannot hide a
//! broken sweep; otherwise the bench fails.

#[path = "../tests/it/common/mod.rs"]
mod common;
#[path = "support/proxy.rs"]
mod proxy;

use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use proxy::{DELAY, Mode, Proxy, REGIONS, connect, median};

use aws_sdk_ec2::types::{
    InstanceType, RequestLaunchTemplateData, ResourceType, Tag, TagSpecification,
};
use keyspill_aws::Aws;
use keyspill_aws::resources;
use keyspill_core::resources::{CellState, Kind, RegionSweep};

/// How the per-region breakdown names the IAM sweep.
const GLOBAL_NAME: &str = "IAM";
const TARGET_RATIO: f64 = 1.0 / 12.0;
const AMI: &str = "ami-03cf127a";

/// (region, instances launched there)
const SEEDED: [(&str, i32); 6] = [
    ("us-east-1", 3),
    ("eu-west-1", 2),
    ("ap-southeast-2", 2),
    ("sa-east-1", 1),
    ("eu-central-1", 2),
    ("ap-northeast-1", 1),
];

// ---- seeding (straight to moto, not through the proxy) ----

async fn seed(aws: &Aws) -> Result<usize, String> {
    let mut launched = 0;
    for (n, (region, count)) in SEEDED.iter().enumerate() {
        let ec2 = aws.ec2_in(region);
        ec2.create_key_pair()
            .key_name("bench-key")
            .send()
            .await
            .map_err(|e| format!("key pair in {region}: {e}"))?;
        let sg = ec2
            .create_security_group()
            .group_name("bench-open")
            .description("bench")
            .send()
            .await
            .map_err(|e| format!("security group in {region}: {e}"))?
            .group_id()
            .unwrap_or_default()
            .to_string();
        ec2.run_instances()
            .image_id(AMI)
            .instance_type(InstanceType::T3Micro)
            .min_count(*count)
            .max_count(*count)
            .key_name("bench-key")
            .security_group_ids(sg)
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::Instance)
                    .tags(
                        Tag::builder()
                            .key("Name")
                            .value(format!("miner-{n}"))
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .map_err(|e| format!("instances in {region}: {e}"))?;
        launched += *count as usize;
    }

    // An Auto Scaling group (two more instances) and a function, in us-east-1.
    let region = "us-east-1";
    let template = aws
        .ec2_in(region)
        .create_launch_template()
        .launch_template_name("bench-template")
        .launch_template_data(
            RequestLaunchTemplateData::builder()
                .image_id(AMI)
                .instance_type(InstanceType::T3Micro)
                .build(),
        )
        .send()
        .await
        .map_err(|e| format!("launch template: {e}"))?
        .launch_template()
        .and_then(|t| t.launch_template_id())
        .unwrap_or_default()
        .to_string();
    aws.autoscaling_in(region)
        .create_auto_scaling_group()
        .auto_scaling_group_name("bench-miners")
        .launch_template(
            aws_sdk_autoscaling::types::LaunchTemplateSpecification::builder()
                .launch_template_id(template)
                .version("$Latest")
                .build(),
        )
        .min_size(1)
        .max_size(4)
        .desired_capacity(2)
        .availability_zones("us-east-1a")
        .send()
        .await
        .map_err(|e| format!("auto scaling group: {e}"))?;
    launched += 2;
    let role = aws
        .iam
        .create_role()
        .role_name("bench-fn")
        .assume_role_policy_document("{}")
        .send()
        .await
        .map_err(|e| format!("role: {e}"))?
        .role()
        .map(|r| r.arn().to_string())
        .unwrap_or_default();
    aws.lambda_in(region)
        .create_function()
        .function_name("bench-fn")
        .runtime(aws_sdk_lambda::types::Runtime::Python312)
        .role(role)
        .handler("h.h")
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(b"zz".to_vec()))
                .build(),
        )
        .send()
        .await
        .map_err(|e| format!("function: {e}"))?;
    Ok(launched)
}

// ---- the two ways to sweep ----

fn all_regions() -> Vec<String> {
    REGIONS.iter().map(|r| r.to_string()).collect()
}

async fn at_once(aws: &Aws) -> Vec<RegionSweep> {
    resources::sweep(aws, &all_regions()).await
}

/// Each region in turn, then IAM; with each one's (name, seconds, requests through `proxy`).
async fn one_by_one(aws: &Aws, proxy: &Proxy) -> (Vec<RegionSweep>, Vec<(String, f64, usize)>) {
    let mut out = Vec::new();
    let mut each = Vec::new();
    for region in REGIONS.iter().copied().chain([GLOBAL_NAME]) {
        let (before, began) = (proxy.requests(), Instant::now());
        out.push(if region == GLOBAL_NAME {
            resources::sweep_iam(aws).await
        } else {
            resources::sweep_region(aws, region).await
        });
        each.push((
            region.to_string(),
            began.elapsed().as_secs_f64(),
            proxy.requests() - before,
        ));
    }
    (out, each)
}

/// What a sweep found.
struct Found {
    instances: usize,
    resources: usize,
    /// Cells that failed (Lightsail's "not here" is not a failure).
    failed: Vec<String>,
}

fn found(sweeps: &[RegionSweep]) -> Found {
    let instances = sweeps
        .iter()
        .flat_map(|s| &s.resources)
        .filter(|r| r.kind == Kind::Instance)
        .count();
    let resources = sweeps.iter().map(|s| s.resources.len()).sum();
    let failed = sweeps
        .iter()
        .flat_map(|s| {
            s.cells.iter().filter_map(move |(k, c)| match c {
                CellState::Failed(e) => Some(format!("{} {k}: {e}", s.region)),
                _ => None,
            })
        })
        .collect();
    Found {
        instances,
        resources,
        failed,
    }
}

/// Whether a timed sweep found what the warm-up found, with no failed cell; says why not.
fn complete(what: &str, sweeps: &[RegionSweep], warm: &Found) -> bool {
    let f = found(sweeps);
    let same = f.instances == warm.instances && f.resources == warm.resources;
    if !same {
        println!(
            "  {what}: found {} instances and {} resources; the warm-up found {} and {}",
            f.instances, f.resources, warm.instances, warm.resources
        );
    }
    for e in &f.failed {
        println!("  {what}: failed cell: {e}");
    }
    same && f.failed.is_empty()
}

/// Medians of one table: (all at once s, its requests, region by region s, its requests).
struct Medians {
    at_once: f64,
    at_once_requests: usize,
    one_by_one: f64,
    one_by_one_requests: usize,
    /// The last round's region-by-region sweep, one region (or IAM) at a time: (name, s,
    /// requests).
    each: Vec<(String, f64, usize)>,
}

impl Medians {
    fn ratio(&self) -> f64 {
        self.at_once / self.one_by_one
    }
}

/// `rounds` rounds of (all at once, then region by region), printed one row per round.
fn timed(
    runtime: &tokio::runtime::Runtime,
    aws: &Aws,
    proxy: &Proxy,
    rounds: usize,
    warm: &Found,
    correct: &mut bool,
) -> Medians {
    println!(
        "{:>5} {:>12} {:>10} {:>12} {:>10} {:>8}",
        "round", "at_once_s", "requests", "one_by_one_s", "requests", "ratio"
    );
    let (mut t_a, mut t_b, mut n_a, mut n_b) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut last = Vec::new();
    for round in 1..=rounds {
        let before = proxy.requests();
        let began = Instant::now();
        let a = runtime.block_on(at_once(aws));
        let secs_a = began.elapsed().as_secs_f64();
        let req_a = proxy.requests() - before;

        let before = proxy.requests();
        let began = Instant::now();
        let (b, each) = runtime.block_on(one_by_one(aws, proxy));
        let secs_b = began.elapsed().as_secs_f64();
        let req_b = proxy.requests() - before;

        println!(
            "{round:>5} {secs_a:>12.3} {req_a:>10} {secs_b:>12.3} {req_b:>10} {:>8.4}",
            secs_a / secs_b
        );
        *correct &= complete("all at once", &a, warm);
        *correct &= complete("region by region", &b, warm);
        t_a.push(secs_a);
        t_b.push(secs_b);
        n_a.push(req_a as f64);
        n_b.push(req_b as f64);
        last = each;
    }
    Medians {
        at_once: median(t_a),
        at_once_requests: median(n_a) as usize,
        one_by_one: median(t_b),
        one_by_one_requests: median(n_b) as usize,
        each: last,
    }
}

fn verdict(m: &Medians) -> String {
    let ratio = m.ratio();
    format!(
        "median: all at once {:.3} s ({} requests), region by region {:.3} s ({} requests), \
         ratio {ratio:.4} (1/{:.1}); target <= {TARGET_RATIO:.4}: {}",
        m.at_once,
        m.at_once_requests,
        m.one_by_one,
        m.one_by_one_requests,
        1.0 / ratio,
        if ratio <= TARGET_RATIO { "ok" } else { "MISS" }
    )
}

fn main() -> ExitCode {
    let rounds: usize = std::env::var("SWEEP_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    if !proxy::ensure_moto("sweep") {
        return ExitCode::FAILURE;
    }
    let moto = common::Moto::start();
    let proxy = match Proxy::start(moto.port) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("sweep bench: proxy: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sweep bench: no tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let direct = runtime.block_on(connect(moto.endpoint()));
    let launched = match runtime.block_on(seed(&direct)) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("sweep bench: seeding moto failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let aws = runtime.block_on(connect(proxy.endpoint()));

    // Untimed: moto builds each region's state on first use, and the proxy records every
    // answer.
    proxy.set_mode(Mode::Record);
    let before = proxy.requests();
    let warm = found(&runtime.block_on(at_once(&aws)));
    let warm_requests = proxy.requests() - before;
    println!(
        "inventory sweep, {} regions + IAM, {} ms per request; {launched} instances seeded in \
         {} regions, {} found ({} resources in all)",
        REGIONS.len(),
        DELAY.as_millis(),
        SEEDED.len(),
        warm.instances,
        warm.resources,
    );
    println!(
        "warm-up (untimed, live moto): {warm_requests} requests, {} distinct answers recorded",
        proxy.recordings()
    );
    let mut correct = warm.instances == launched && warm.failed.is_empty();
    for f in &warm.failed {
        println!("  warm-up: failed cell: {f}");
    }
    println!("target: all at once <= 1/12 ({TARGET_RATIO:.4}) of region by region");

    println!();
    println!(
        "== AWS-like: every request answered {} ms after it arrives, from the answers recorded \
         in the warm-up (moto not involved) ==",
        DELAY.as_millis()
    );
    proxy.set_mode(Mode::Replay);
    let (replayed_before, unrecorded_before) = (proxy.replayed(), proxy.unrecorded());
    let replay = timed(&runtime, &aws, &proxy, rounds, &warm, &mut correct);
    let unrecorded = proxy.unrecorded() - unrecorded_before;
    println!("{}", verdict(&replay));
    println!(
        "replayed {} answers, the longest {:.1} ms from the request's first byte to its \
         answer written; forwarded {unrecorded} unrecorded requests",
        proxy.replayed() - replayed_before,
        proxy.shared.longest_replay_us.load(Ordering::SeqCst) as f64 / 1000.0
    );
    println!("region by region, last round, each region's own time (requests):");
    for row in replay.each.chunks(6) {
        let cells: Vec<String> = row
            .iter()
            .map(|(name, secs, n)| format!("{name} {secs:.3} s ({n})"))
            .collect();
        println!("  {}", cells.join(", "));
    }
    if let Ok(keys) = proxy.shared.unrecorded_keys.lock() {
        for k in keys.iter() {
            println!("  unrecorded: {k}");
        }
    }

    println!();
    println!(
        "== live moto: every request held {} ms, then forwarded to moto (one Python process; \
         its CPU bounds the concurrent sweep on this machine) ==",
        DELAY.as_millis()
    );
    proxy.set_mode(Mode::Live);
    let live = timed(&runtime, &aws, &proxy, rounds, &warm, &mut correct);
    println!("{}", verdict(&live));

    // The same sweeps with nothing added: what the emulator itself costs. All at once, that
    // is moto working through every request of every region, a floor no client-side
    // concurrency can go below while moto answers.
    proxy.set_delay(Duration::ZERO);
    let mut bare_together = Vec::new();
    let mut bare_apart = Vec::new();
    for _ in 0..rounds {
        let began = Instant::now();
        let a = runtime.block_on(at_once(&aws));
        bare_together.push(began.elapsed().as_secs_f64());
        let began = Instant::now();
        let (b, _) = runtime.block_on(one_by_one(&aws, &proxy));
        bare_apart.push(began.elapsed().as_secs_f64());
        correct &= complete("all at once, no delay", &a, &warm);
        correct &= complete("region by region, no delay", &b, &warm);
    }
    let (z_a, z_b) = (median(bare_together), median(bare_apart));
    println!(
        "live moto, no delay added (moto's own time): all at once {z_a:.3} s, region by region \
         {z_b:.3} s"
    );

    println!();
    println!(
        "summary: AWS-like (replayed) ratio {:.4}, {}; live moto ratio {:.4}, {}; forwarded \
         {unrecorded} unrecorded requests",
        replay.ratio(),
        if replay.ratio() <= TARGET_RATIO {
            "ok"
        } else {
            "MISS"
        },
        live.ratio(),
        if live.ratio() <= TARGET_RATIO {
            "ok"
        } else {
            "MISS (moto's CPU)"
        },
    );
    println!(
        "every sweep found what the warm-up found and no cell failed: {}",
        if correct { "yes" } else { "NO" }
    );
    drop(moto);
    if correct {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
