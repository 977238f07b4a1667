//! The Cost Explorer poller: once at start, then hourly, at once on `r`; never while paused,
//! and never more than one request in flight (this one task makes them one after another).

use std::sync::Arc;
use std::time::Duration;

use super::{Ctx, now};
use keyspill_aws::cost;
use keyspill_aws::poll::{Outcome, Poller};
use keyspill_core::app::Msg;
use keyspill_core::app::state::Source;

/// Cost Explorer data changes a few times a day and every request is billed: hourly is
/// plenty, and `r` is there for the impatient.
pub const COST_INTERVAL: Duration = Duration::from_secs(3600);

pub(super) async fn poller(ctx: Arc<Ctx>, days: u32) {
    let meter = cost::Meter::new();
    let poller = Poller::new(COST_INTERVAL, COST_INTERVAL * 4, ctx.cost_refresh.clone())
        .pausable(Some(ctx.paused.subscribe()));
    poller
        .run(|| async {
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
            let outcome = Outcome::of(&data);
            ctx.send(Msg::CostFetched {
                seq,
                at: now(),
                window: (from, to),
                data,
                anomalies,
                requests: meter.requests(),
            });
            outcome
        })
        .await;
}
