//! The resource sweeper: every region at once and IAM, each result on screen as it arrives;
//! again every `RESOURCES_INTERVAL`, at once on `r` or after a removal, never while paused.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use super::{Ctx, now};
use keyspill_aws::ErrorKind;
use keyspill_aws::poll::{Outcome, Poller};
use keyspill_aws::resources;
use keyspill_core::app::Msg;
use keyspill_core::resources::CellState;
use keyspill_core::resources::ResourceRef;

/// A sweep costs a dozen requests per region: every two minutes keeps the pane current
/// without competing with the other pollers for API quota.
pub const RESOURCES_INTERVAL: Duration = Duration::from_secs(120);

/// How many principals' parts are read at once.
const PARTS_CONCURRENCY: usize = 4;

pub(super) async fn poller(ctx: Arc<Ctx>) {
    let poller = Poller::new(
        RESOURCES_INTERVAL,
        RESOURCES_INTERVAL * 4,
        ctx.resources_refresh.clone(),
    )
    .pausable(Some(ctx.paused.subscribe()));
    poller.run(|| sweep_once(&ctx)).await;
}

/// One sweep. Its cells say what failed where; the sweep backs off only when every cell that
/// failed was throttled or failed (AWS or the network is in trouble, not one permission).
async fn sweep_once(ctx: &Arc<Ctx>) -> Outcome {
    let seq = ctx.next_seq();
    let regions = ctx.regions.get().cloned().unwrap_or_default();
    ctx.send(Msg::ResourcesStarted {
        seq,
        at: now(),
        regions: regions.clone(),
    });
    let aws = ctx.aws().await;
    // Every region on its own task, IAM alongside; each region on screen as it finishes.
    let (mut cells, mut throttled, mut failed) = (0usize, 0usize, 0usize);
    resources::sweep_each(aws, &regions, |sweep| {
        for (_, cell) in &sweep.cells {
            cells += 1;
            match cell {
                CellState::Failed(e) if e.kind == ErrorKind::Throttled => throttled += 1,
                CellState::Failed(e) if e.kind.is_transient() => failed += 1,
                _ => {}
            }
        }
        ctx.send(Msg::ResourcesRegion {
            seq,
            at: now(),
            sweep,
        })
    })
    .await;
    ctx.send(Msg::ResourcesDone { seq, at: now() });
    if cells > 0 && throttled + failed == cells {
        if throttled > 0 {
            Outcome::Throttled
        } else {
            Outcome::Failed
        }
    } else {
        Outcome::Ok
    }
}

/// Reads what each principal carries, for the removal plan.
pub(super) async fn fetch_parts(ctx: Arc<Ctx>, targets: Vec<ResourceRef>) {
    let own = ctx.aws().await;
    let ctx = &ctx;
    futures_util::stream::iter(targets)
        .map(|target| async move {
            // Another account's principal is read there, through the session its poll
            // entered; one not entered now is asked for again with that account's next answer.
            let parts = match &target.account {
                None => resources::principal_parts(own, target.kind, &target.id).await,
                Some(a) => match ctx.member(a).await {
                    Ok(aws) => resources::principal_parts(&aws, target.kind, &target.id).await,
                    Err(_) => return None,
                },
            };
            Some((target, parts))
        })
        .buffer_unordered(PARTS_CONCURRENCY)
        .for_each(|found| {
            if let Some((target, parts)) = found {
                ctx.send(Msg::ResourceParts { target, parts });
            }
            async {}
        })
        .await;
}
