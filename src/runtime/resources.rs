//! The resource sweeper: every region at once and IAM, each result on screen as it arrives;
//! again every `RESOURCES_INTERVAL`, at once on `r` or after a removal, never while paused.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use super::{Ctx, now};
use keyspill_aws::resources;
use keyspill_core::app::Msg;
use keyspill_core::resources::ResourceRef;

/// A sweep costs a dozen requests per region: every two minutes keeps the pane current
/// without competing with the other pollers for API quota.
pub const RESOURCES_INTERVAL: Duration = Duration::from_secs(120);

/// How many principals' parts are read at once.
const PARTS_CONCURRENCY: usize = 4;

pub(super) async fn poller(ctx: Arc<Ctx>) {
    let mut paused = ctx.paused.subscribe();
    let mut forced = true;
    loop {
        if forced || !*paused.borrow() {
            sweep_once(&ctx).await;
        }
        forced = tokio::select! {
            _ = tokio::time::sleep(RESOURCES_INTERVAL) => false,
            _ = ctx.resources_refresh.notified() => true,
            _ = paused.changed() => !*paused.borrow(),
        };
    }
}

async fn sweep_once(ctx: &Arc<Ctx>) {
    let seq = ctx.next_seq();
    let regions = ctx.regions.get().cloned().unwrap_or_default();
    ctx.send(Msg::ResourcesStarted {
        seq,
        at: now(),
        regions: regions.clone(),
    });
    let aws = ctx.aws().await;
    // Every region on its own task, IAM alongside; each region on screen as it finishes.
    resources::sweep_each(aws, &regions, |sweep| {
        ctx.send(Msg::ResourcesRegion {
            seq,
            at: now(),
            sweep,
        })
    })
    .await;
    ctx.send(Msg::ResourcesDone { seq, at: now() });
}

/// Reads what each principal carries, for the removal plan.
pub(super) async fn fetch_parts(ctx: Arc<Ctx>, targets: Vec<ResourceRef>) {
    let aws = ctx.aws().await;
    futures_util::stream::iter(targets)
        .map(|target| async move {
            let parts = resources::principal_parts(aws, target.kind, &target.id).await;
            (target, parts)
        })
        .buffer_unordered(PARTS_CONCURRENCY)
        .for_each(|(target, parts)| {
            ctx.send(Msg::ResourceParts { target, parts });
            async {}
        })
        .await;
}
