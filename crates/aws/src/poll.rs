//! The one way keyspill polls AWS: every background source (keys, the timeline's live
//! LookupEvents and trail buckets, resources, cost) runs a [`Poller`], and every retry after
//! throttling uses a [`Backoff`].
//!
//! A poller polls at once, then every `interval`; at once on a refresh (`r`); never while
//! paused (a refresh still polls once), and again at once on resume. After a throttled or
//! failed poll it waits longer (doubling up to a cap, with jitter so that pollers and regions
//! do not retry in step) and returns to its interval after the next good poll. Polls of one
//! poller never overlap: a refresh asked for during a poll runs once it ends, so the newest
//! answer is always the last one applied (the console also drops answers older than the one
//! shown, by sequence number).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{Notify, watch};

use crate::{AwsError, ErrorKind};

/// How a poll went, for the next wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// AWS asked us to slow down.
    Throttled,
    /// The poll failed for another reason (unreachable, timed out, refused).
    Failed,
}

impl Outcome {
    pub fn of<T>(result: &Result<T, AwsError>) -> Outcome {
        match result {
            Ok(_) => Outcome::Ok,
            Err(e) => Outcome::from_failure(e),
        }
    }

    pub fn from_failure(e: &AwsError) -> Outcome {
        if e.kind == ErrorKind::Throttled {
            Outcome::Throttled
        } else {
            Outcome::Failed
        }
    }

    /// The worse of two outcomes (for a poll made of many calls).
    pub fn worst(self, other: Outcome) -> Outcome {
        use Outcome::*;
        match (self, other) {
            (Throttled, _) | (_, Throttled) => Throttled,
            (Failed, _) | (_, Failed) => Failed,
            _ => Ok,
        }
    }
}

/// Exponential backoff with jitter: `start`, then doubling up to `cap`, each wait varied by up
/// to a fifth either way.
#[derive(Debug, Clone)]
pub struct Backoff {
    start: Duration,
    cap: Duration,
    next: Duration,
    rng: u64,
}

/// Seeds for jitter differ between backoffs created in the same instant.
static SEEDS: AtomicU64 = AtomicU64::new(0);

impl Backoff {
    pub fn new(start: Duration, cap: Duration) -> Backoff {
        let clock = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let n = SEEDS.fetch_add(1, Ordering::Relaxed);
        Backoff::seeded(start, cap, clock ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// A backoff whose jitter is fixed by `seed` (tests).
    pub fn seeded(start: Duration, cap: Duration, seed: u64) -> Backoff {
        Backoff {
            start,
            cap: cap.max(start),
            next: start,
            rng: seed | 1,
        }
    }

    /// The wait after one more failure: the current step with jitter; the step then doubles.
    pub fn failed(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(self.cap);
        self.jitter(base)
    }

    /// A success: the next failure waits `start` again.
    pub fn reset(&mut self) {
        self.next = self.start;
    }

    fn jitter(&mut self, d: Duration) -> Duration {
        // xorshift64: plenty for spreading retries.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let unit = (self.rng >> 11) as f64 / (1u64 << 53) as f64; // [0, 1)
        d.mul_f64(0.8 + 0.4 * unit)
    }
}

/// A source's polling schedule. Build one per source, then either hand it the poll
/// ([`Poller::run`]) or drive it from a loop of your own ([`Poller::wait`] after each pass).
#[derive(Debug)]
pub struct Poller {
    interval: Duration,
    refresh: Arc<Notify>,
    paused: Option<watch::Receiver<bool>>,
    backoff: Backoff,
    delay: Duration,
}

impl Poller {
    /// Polls every `interval`; after failures waits longer, up to `max_backoff`.
    pub fn new(interval: Duration, max_backoff: Duration, refresh: Arc<Notify>) -> Poller {
        let start = (interval * 2).min(max_backoff);
        Poller {
            interval,
            refresh,
            paused: None,
            backoff: Backoff::new(start, max_backoff),
            delay: interval,
        }
    }

    /// Follows the console's pause switch.
    pub fn pausable(mut self, paused: Option<watch::Receiver<bool>>) -> Poller {
        self.paused = paused;
        self
    }

    /// The wait before the next poll, given how the last one went.
    pub fn after(&mut self, outcome: Outcome) -> Duration {
        self.delay = match outcome {
            Outcome::Ok => {
                self.backoff.reset();
                self.interval
            }
            Outcome::Throttled | Outcome::Failed => self.backoff.failed().max(self.interval),
        };
        self.delay
    }

    fn is_paused(&self) -> bool {
        self.paused.as_ref().is_some_and(|p| *p.borrow())
    }

    /// Waits until the next poll is due: the delay set by [`Poller::after`] passed (never while
    /// paused), a refresh was asked for, or polling resumed. False once the pause switch is
    /// gone (the console is closing).
    pub async fn wait(&mut self) -> bool {
        loop {
            let paused = self.is_paused();
            let delay = self.delay;
            let refresh = self.refresh.clone();
            // The switch's new position, or `None` once it is gone.
            let changed = async {
                match self.paused.as_mut() {
                    Some(p) => match p.changed().await {
                        Ok(()) => Some(*p.borrow()),
                        Err(_) => None,
                    },
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(delay), if !paused => return true,
                _ = refresh.notified() => return true,
                now_paused = changed => match now_paused {
                    None => return false,
                    Some(false) => return true,
                    Some(true) => {}
                },
            }
        }
    }

    /// Polls now, then whenever [`Poller::wait`] says, until the pause switch is dropped.
    pub async fn run<F, Fut>(mut self, mut poll: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Outcome>,
    {
        loop {
            let outcome = poll().await;
            self.after(outcome);
            if !self.wait().await {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn backoff_doubles_to_its_cap_with_at_most_a_fifth_of_jitter() {
        let mut b = Backoff::seeded(S, 8 * S, 42);
        let waits: Vec<Duration> = (0..6).map(|_| b.failed()).collect();
        for (w, base) in waits.iter().zip([1, 2, 4, 8, 8, 8]) {
            let base = Duration::from_secs(base);
            assert!(
                *w >= base.mul_f64(0.8) && *w <= base.mul_f64(1.2),
                "{w:?} vs {base:?}"
            );
        }
        b.reset();
        let w = b.failed();
        assert!(w <= S.mul_f64(1.2), "a success starts over: {w:?}");
    }

    #[test]
    fn jitter_differs_between_seeds_so_retries_do_not_march_in_step() {
        let a: Vec<Duration> = {
            let mut b = Backoff::seeded(S, 8 * S, 1);
            (0..4).map(|_| b.failed()).collect()
        };
        let c: Vec<Duration> = {
            let mut b = Backoff::seeded(S, 8 * S, 2);
            (0..4).map(|_| b.failed()).collect()
        };
        assert_ne!(a, c);
    }

    #[test]
    fn the_worst_outcome_of_a_poll_decides() {
        assert_eq!(Outcome::Ok.worst(Outcome::Failed), Outcome::Failed);
        assert_eq!(
            Outcome::Failed.worst(Outcome::Throttled),
            Outcome::Throttled
        );
        assert_eq!(Outcome::Ok.worst(Outcome::Ok), Outcome::Ok);
        let throttled: Result<(), AwsError> = Err(AwsError::new(ErrorKind::Throttled, "slow"));
        assert_eq!(Outcome::of(&throttled), Outcome::Throttled);
        let denied: Result<(), AwsError> = Err(AwsError::access_denied("iam:ListUsers"));
        assert_eq!(Outcome::of(&denied), Outcome::Failed);
    }

    #[test]
    fn failures_wait_longer_than_the_interval_and_a_success_returns_to_it() {
        let mut p = Poller::new(15 * S, 120 * S, Arc::new(Notify::new()));
        assert_eq!(p.after(Outcome::Ok), 15 * S);
        let first = p.after(Outcome::Throttled);
        let second = p.after(Outcome::Throttled);
        assert!(first >= 24 * S, "{first:?}");
        assert!(second > first, "{second:?} after {first:?}");
        for _ in 0..10 {
            assert!(p.after(Outcome::Failed) <= 144 * S);
        }
        assert_eq!(p.after(Outcome::Ok), 15 * S);
    }

    /// Counts polls while the test drives time, the refresh and the pause switch.
    async fn counted(poller: Poller) -> (Arc<AtomicU64>, tokio::task::JoinHandle<()>) {
        let polls = Arc::new(AtomicU64::new(0));
        let n = polls.clone();
        let task = tokio::spawn(poller.run(move || {
            let n = n.clone();
            async move {
                n.fetch_add(1, Ordering::SeqCst);
                Outcome::Ok
            }
        }));
        (polls, task)
    }

    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn polls_at_once_then_every_interval_and_at_once_on_refresh() {
        let refresh = Arc::new(Notify::new());
        let (_tx, rx) = watch::channel(false);
        let poller = Poller::new(10 * S, 60 * S, refresh.clone()).pausable(Some(rx));
        let (polls, _task) = counted(poller).await;
        settle().await;
        assert_eq!(polls.load(Ordering::SeqCst), 1, "the first poll is at once");
        tokio::time::advance(9 * S).await;
        settle().await;
        assert_eq!(polls.load(Ordering::SeqCst), 1);
        tokio::time::advance(2 * S).await;
        settle().await;
        assert_eq!(polls.load(Ordering::SeqCst), 2, "then every interval");
        refresh.notify_one();
        settle().await;
        assert_eq!(polls.load(Ordering::SeqCst), 3, "a refresh polls at once");
    }

    #[tokio::test(start_paused = true)]
    async fn paused_polls_only_on_refresh_and_at_once_on_resume() {
        let refresh = Arc::new(Notify::new());
        let (tx, rx) = watch::channel(false);
        let poller = Poller::new(10 * S, 60 * S, refresh.clone()).pausable(Some(rx));
        let (polls, task) = counted(poller).await;
        settle().await;
        assert!(tx.send(true).is_ok());
        settle().await;
        tokio::time::advance(100 * S).await;
        settle().await;
        assert_eq!(polls.load(Ordering::SeqCst), 1, "nothing while paused");
        refresh.notify_one();
        settle().await;
        assert_eq!(
            polls.load(Ordering::SeqCst),
            2,
            "r still polls once while paused"
        );
        assert!(tx.send(false).is_ok());
        settle().await;
        assert_eq!(polls.load(Ordering::SeqCst), 3, "resuming polls at once");
        drop(tx);
        settle().await;
        assert!(task.is_finished(), "the poller ends with the pause switch");
    }
}
