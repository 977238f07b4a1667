//! What the benches that print their own figures share: medians of hand-timed runs, reported
//! next to their targets with the ratio.

use std::time::{Duration, Instant};

pub fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

/// One line: the median, the target, the ratio and MET or MISSED.
pub fn report(label: &str, xs: Vec<Duration>, target: Duration) {
    let m = median(xs);
    let ratio = m.as_secs_f64() / target.as_secs_f64();
    let verdict = if m <= target { "MET" } else { "MISSED" };
    println!(
        "{label:<58} median {:>8.3} ms  target <= {:>3} ms  ({ratio:.2} of target): {verdict}",
        m.as_secs_f64() * 1e3,
        target.as_millis()
    );
}

/// `runs` timings of `f`.
#[allow(dead_code)]
pub fn timed(runs: usize, mut f: impl FnMut()) -> Vec<Duration> {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect()
}
