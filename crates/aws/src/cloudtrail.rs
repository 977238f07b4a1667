//! CloudTrail LookupEvents for one access key in one region, paced to the service's limit.
//!
//! AWS allows two LookupEvents requests per second per account per region and will not raise
//! that. A key's history therefore arrives fastest when every region is asked at once, each
//! region behind its own [`Pacer`]. The SDK's own retries are switched off on this path: its
//! back-off would send requests the pacer never saw. Instead a throttled page waits (500 ms,
//! doubling up to a cap), holds the whole region back for that long, and is asked again. A
//! throttle is counted, never reported as a failure.

use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_cloudtrail::config::retry::RetryConfig;
use aws_sdk_cloudtrail::operation::lookup_events::LookupEventsError;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::DateTime;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use tokio::time::Instant;

use crate::poll::Backoff;
use crate::{Aws, AwsError, ErrorKind, FromSdk};
use keyspill_core::domain::Timestamp;

/// The documented LookupEvents limit: requests per second, per account, per region.
pub const LOOKUP_EVENTS_TPS: f64 = 2.0;

/// Events per LookupEvents page (the service's maximum).
pub const PAGE_SIZE: i32 = 50;

/// The first wait after a throttle; each further throttle in a row doubles it.
pub const BACKOFF_START: Duration = Duration::from_millis(500);

/// The longest wait between two attempts at the same page.
pub const BACKOFF_CAP: Duration = Duration::from_secs(8);

/// How many times a page is asked again after a transient failure (a timeout or a 5xx that
/// carries an AWS error code) before the failure is reported. Throttles do not count here.
const TRANSIENT_RETRIES: u32 = 2;

const CALL: &str = "cloudtrail:LookupEvents";

/// A token bucket holding a single token, refilled at `rate_per_sec`: the first request goes
/// at once, every later one waits for its slot `1 / rate` after the previous slot. One pacer
/// per region, shared (behind an `Arc`) by every task that calls LookupEvents there.
#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    /// The earliest instant the next request may be sent; `None` before the first.
    next: Mutex<Option<Instant>>,
}

impl Pacer {
    /// A pacer allowing `rate_per_sec` requests per second with a burst of one. A rate that is
    /// not a positive finite number means no pacing at all.
    pub fn new(rate_per_sec: f64) -> Pacer {
        let interval = if rate_per_sec.is_finite() && rate_per_sec > 0.0 {
            Duration::from_secs_f64(1.0 / rate_per_sec)
        } else {
            Duration::ZERO
        };
        Pacer {
            interval,
            next: Mutex::new(None),
        }
    }

    /// A pacer at AWS's LookupEvents limit.
    pub fn lookup_events() -> Pacer {
        Pacer::new(LOOKUP_EVENTS_TPS)
    }

    /// The spacing between two requests.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Waits for this caller's slot. Slots are handed out in call order; a caller that is
    /// cancelled while waiting leaves its slot unused.
    pub async fn acquire(&self) {
        let slot = {
            let mut next = self
                .next
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }

    /// Keeps every caller of this pacer waiting until at least `delay` from now (after AWS
    /// has said the region is over its limit, nobody there should ask sooner).
    pub fn hold_off(&self, delay: Duration) {
        let mut next = self
            .next
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let until = Instant::now() + delay;
        *next = Some(next.map_or(until, |n| n.max(until)));
    }
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer::lookup_events()
    }
}

/// One page of a key's history in one region, handed to the caller as it arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupRecords {
    pub region: String,
    /// This page's records: each event's `CloudTrailEvent`, the full record as a JSON string.
    pub records: Vec<String>,
    /// Pages received so far in this lookup, this one included.
    pub pages: u32,
    /// Throttled answers absorbed so far in this lookup.
    pub throttled: u32,
    /// Events so far that came without a `CloudTrailEvent` and were left out.
    pub skipped: u32,
    /// This is the last page: there is nothing more to ask for.
    pub done: bool,
}

/// How a finished lookup went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupSummary {
    pub region: String,
    /// Records delivered through the callback.
    pub records: usize,
    pub pages: u32,
    pub throttled: u32,
    /// Events without a `CloudTrailEvent`, left out.
    pub skipped: u32,
    /// The newest `EventTime` seen (whole seconds); the next [`lookup_newer`] starts there.
    pub newest: Option<Timestamp>,
    /// Wall time from the first request to the last answer.
    pub elapsed: Duration,
}

/// Every event recorded for `key_id` in `region` (optionally between `start` and `end`,
/// both inclusive), newest first, 50 a page, following `NextToken` to the end. `on_page` is
/// called after every page, the last one too (with `done` set), so a view can grow while the
/// history is still arriving. Throttling is absorbed; any other failure ends the lookup with
/// an error in words (pages already delivered stay delivered).
pub async fn lookup_key(
    aws: &Aws,
    region: &str,
    key_id: &str,
    start: Option<Timestamp>,
    end: Option<Timestamp>,
    pacer: &Pacer,
    on_page: impl FnMut(LookupRecords),
) -> Result<LookupSummary, AwsError> {
    lookup(
        aws,
        region,
        LookupAttributeKey::AccessKeyId,
        key_id,
        (start, end),
        pacer,
        on_page,
    )
    .await
}

/// Every event named `name` in `region` from `start` on, paced and paged like
/// [`lookup_key`] (the footholds command asks for the trust changes it must date).
pub async fn lookup_name(
    aws: &Aws,
    region: &str,
    name: &str,
    start: Option<Timestamp>,
    pacer: &Pacer,
    on_page: impl FnMut(LookupRecords),
) -> Result<LookupSummary, AwsError> {
    lookup(
        aws,
        region,
        LookupAttributeKey::EventName,
        name,
        (start, None),
        pacer,
        on_page,
    )
    .await
}

async fn lookup(
    aws: &Aws,
    region: &str,
    key: LookupAttributeKey,
    value: &str,
    (start, end): (Option<Timestamp>, Option<Timestamp>),
    pacer: &Pacer,
    mut on_page: impl FnMut(LookupRecords),
) -> Result<LookupSummary, AwsError> {
    let client = unretried_client(aws, region);
    let attribute = LookupAttribute::builder()
        .attribute_key(key)
        .attribute_value(value)
        .build()
        .map_err(|e| AwsError::other(format!("{CALL}: {e}")))?;
    let began = Instant::now();
    let mut summary = LookupSummary {
        region: region.to_string(),
        records: 0,
        pages: 0,
        throttled: 0,
        skipped: 0,
        newest: None,
        elapsed: Duration::ZERO,
    };
    let mut token: Option<String> = None;
    loop {
        let mut backoff = Backoff::new(BACKOFF_START, BACKOFF_CAP);
        let mut transient_left = TRANSIENT_RETRIES;
        let out = loop {
            pacer.acquire().await;
            let result = client
                .lookup_events()
                .lookup_attributes(attribute.clone())
                .set_start_time(start.map(to_smithy))
                .set_end_time(end.map(to_smithy))
                .max_results(PAGE_SIZE)
                .set_next_token(token.clone())
                .send()
                .await;
            match result {
                Ok(out) => break out,
                Err(err) => match classify(&err) {
                    Failure::Throttled => {
                        summary.throttled += 1;
                        pacer.hold_off(backoff.failed());
                    }
                    Failure::Transient if transient_left > 0 => {
                        transient_left -= 1;
                        pacer.hold_off(backoff.failed());
                    }
                    _ => return Err(AwsError::from_sdk(CALL, &err)),
                },
            }
        };
        summary.pages += 1;
        let mut records = Vec::with_capacity(out.events().len());
        for event in out.events() {
            if let Some(t) = event.event_time() {
                let t = crate::to_ts(t);
                summary.newest = Some(summary.newest.map_or(t, |n| n.max(t)));
            }
            match event.cloud_trail_event() {
                Some(raw) if !raw.trim().is_empty() => records.push(raw.to_string()),
                _ => summary.skipped += 1,
            }
        }
        summary.records += records.len();
        token = out
            .next_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        let done = token.is_none();
        on_page(LookupRecords {
            region: region.to_string(),
            records,
            pages: summary.pages,
            throttled: summary.throttled,
            skipped: summary.skipped,
            done,
        });
        if done {
            summary.elapsed = began.elapsed();
            return Ok(summary);
        }
    }
}

/// The follow-up poll once the history is loaded: events for `key_id` in `region` at or
/// after `since` (usually [`LookupSummary::newest`]), paced like [`lookup_key`]. The start
/// time is inclusive, so the newest event already held comes back once more; the caller
/// de-duplicates by event id.
pub async fn lookup_newer(
    aws: &Aws,
    region: &str,
    key_id: &str,
    since: Timestamp,
    pacer: &Pacer,
    on_page: impl FnMut(LookupRecords),
) -> Result<LookupSummary, AwsError> {
    lookup_key(aws, region, key_id, Some(since), None, pacer, on_page).await
}

/// The region's CloudTrail client with the SDK's retries off, so that every request passes
/// through the pacer and the back-off above is the only one.
fn unretried_client(aws: &Aws, region: &str) -> aws_sdk_cloudtrail::Client {
    let conf = aws
        .cloudtrail_in(region)
        .config()
        .to_builder()
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_cloudtrail::Client::from_conf(conf)
}

enum Failure {
    Throttled,
    Transient,
    Final,
}

fn classify(err: &SdkError<LookupEventsError, HttpResponse>) -> Failure {
    match err {
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            let code = se.err().code();
            let as_words = AwsError::from_sdk(CALL, err);
            if as_words.kind == ErrorKind::Throttled || status == 429 {
                Failure::Throttled
            } else if status >= 500 && code.is_some() {
                Failure::Transient
            } else {
                Failure::Final
            }
        }
        SdkError::TimeoutError(_) => Failure::Transient,
        SdkError::DispatchFailure(df) if df.is_timeout() => Failure::Transient,
        _ => Failure::Final,
    }
}

fn to_smithy(t: Timestamp) -> DateTime {
    DateTime::from_secs_and_nanos(t.unix_timestamp(), t.nanosecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn near(got: Duration, want_ms: u64) -> bool {
        let want = Duration::from_millis(want_ms);
        got >= want && got < want + Duration::from_millis(150)
    }

    #[tokio::test]
    async fn pacer_spaces_requests_after_the_first() {
        let pacer = Pacer::new(4.0);
        let t0 = Instant::now();
        let mut at = Vec::new();
        for _ in 0..4 {
            pacer.acquire().await;
            at.push(t0.elapsed());
        }
        for (got, want) in at.iter().zip([0, 250, 500, 750]) {
            assert!(near(*got, want), "{at:?}");
        }
    }

    #[tokio::test]
    async fn pacer_refills_only_one_token_after_idling() {
        let pacer = Pacer::new(4.0);
        pacer.acquire().await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        let t0 = Instant::now();
        pacer.acquire().await;
        assert!(near(t0.elapsed(), 0));
        pacer.acquire().await;
        assert!(near(t0.elapsed(), 250), "{:?}", t0.elapsed());
    }

    #[tokio::test]
    async fn hold_off_delays_every_caller() {
        let pacer = Pacer::new(4.0);
        pacer.acquire().await;
        pacer.hold_off(Duration::from_millis(400));
        let t0 = Instant::now();
        pacer.acquire().await;
        assert!(near(t0.elapsed(), 400), "{:?}", t0.elapsed());
        pacer.acquire().await;
        assert!(near(t0.elapsed(), 650), "{:?}", t0.elapsed());
    }

    #[test]
    fn no_rate_means_no_pacing() {
        assert_eq!(Pacer::new(0.0).interval(), Duration::ZERO);
        assert_eq!(Pacer::new(f64::NAN).interval(), Duration::ZERO);
        assert_eq!(Pacer::new(4.0).interval(), Duration::from_millis(250));
        assert_eq!(Pacer::default().interval(), Duration::from_millis(500));
    }
}
