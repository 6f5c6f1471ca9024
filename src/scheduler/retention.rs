//! Erasing what careprompt holds for servers it has left, once their retention period is over.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::store::Store;

/// How often departed servers are checked for data past its retention, after the check at
/// start-up.
fn purge_interval() -> chrono::Duration {
    chrono::Duration::days(1)
}

/// Erases the schedules and DM opt-ins of servers careprompt left more than `retention` ago: once
/// at start-up, then daily, on the bot's clock (so tests move it, and a restart loses nothing: a
/// server past its retention is caught by the next check, whenever that runs).
pub async fn purge_departed_guilds(
    store: Store,
    clock: Arc<dyn Clock>,
    retention: chrono::Duration,
    stop: CancellationToken,
) {
    loop {
        let now = clock.now();
        // A retention longer than the calendar reaches back keeps everything.
        if let Some(cutoff) = now.checked_sub_signed(retention) {
            if let Err(err) = store.purge_departed_guilds(cutoff).await {
                tracing::warn!(error = %err, "could not erase departed servers' data; trying again tomorrow");
            }
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = clock.sleep_until(now + purge_interval()) => {}
        }
    }
}
