//! Erasing what careprompt holds for servers it has left, once their retention period is over,
//! and usage records once they are a year old.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use chrono::{DateTime, Utc};

use crate::clock::Clock;
use crate::domain::insights::KEPT_WEEKS;
use crate::store::Store;

/// How often departed servers are checked for data past its retention, after the check at
/// start-up.
fn purge_interval() -> chrono::Duration {
    chrono::Duration::days(1)
}

/// Usage records of weeks that started before this are deleted: the week under way and the 52
/// before it are kept, so the longest `/insights` view is whole and nothing older stays.
pub fn usage_cutoff(now: DateTime<Utc>) -> DateTime<Utc> {
    now - chrono::Duration::weeks(KEPT_WEEKS - 1)
}

/// Erases the schedules, DM opt-ins and usage records of servers careprompt left more than
/// `retention` ago, reflective sessions that ended more than `retention` ago, and usage records older than [`usage_cutoff`]: once
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
            if let Err(err) = store.purge_old_sessions(cutoff).await {
                tracing::warn!(error = %err, "could not delete old reflective sessions; trying again tomorrow");
            }
        }
        if let Err(err) = store.purge_old_usage(usage_cutoff(now)).await {
            tracing::warn!(error = %err, "could not delete old usage records; trying again tomorrow");
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = clock.sleep_until(now + purge_interval()) => {}
        }
    }
}
