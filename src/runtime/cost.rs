//! The Cost Explorer poller: once at start, then hourly, at once on `r`; never while paused,
//! and never more than one request in flight (this one task makes them one after another).

use std::sync::Arc;
use std::time::Duration;

use super::{Ctx, now};
use keyspill_aws::cost;
use keyspill_core::app::Msg;
use keyspill_core::app::state::Source;

/// Cost Explorer data changes a few times a day and every request is billed: hourly is
/// plenty, and `r` is there for the impatient.
pub const COST_INTERVAL: Duration = Duration::from_secs(3600);

pub(super) async fn poller(ctx: Arc<Ctx>, days: u32) {
    let meter = cost::Meter::new();
    let mut paused = ctx.paused.subscribe();
    let mut forced = true;
    loop {
        if forced || !*paused.borrow() {
            ctx.send(Msg::FetchStarted(Source::Cost));
            let seq = ctx.next_seq();
            let today = now().date();
            let to = today.next_day().unwrap_or(today);
            let from = to
                .checked_sub(time::Duration::days(i64::from(days)))
                .unwrap_or(today);
            let aws = ctx.aws().await;
            let data = cost::daily(aws, &meter, from, to).await;
            let anomalies = cost::anomalies(aws, &meter, today).await;
            ctx.send(Msg::CostFetched {
                seq,
                at: now(),
                window: (from, to),
                data: data.map_err(|e| e.to_string()),
                anomalies: anomalies.map_err(|e| e.to_string()),
                requests: meter.requests(),
            });
        }
        forced = tokio::select! {
            _ = tokio::time::sleep(COST_INTERVAL) => false,
            _ = ctx.cost_refresh.notified() => true,
            _ = paused.changed() => !*paused.borrow(),
        };
    }
}
