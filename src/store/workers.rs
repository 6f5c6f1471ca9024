//! `workers`: the careprompt processes sharing this database, each saying every few seconds that
//! it is alive. A post, DM or session stage card claimed by a process not heard from within the
//! takeover time is finished by another; a process that stops cleanly leaves at once, so nothing
//! waits for it.

use chrono::{DateTime, Utc};

use super::{time_from_db, time_to_db, Pool, Store, StoreError};
use crate::domain::shards::ShardRange;

/// A process asking for work: the name its claims carry, and the servers it looks after.
#[derive(Debug, Clone, Copy)]
pub struct Worker<'a> {
    pub claimer: &'a str,
    pub shards: ShardRange,
    /// Another process last heard from before this is taken to be dead.
    pub alive_since: DateTime<Utc>,
}

/// A process as it last reported itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerRecord {
    pub claimer: String,
    pub shards: String,
    pub started_at: DateTime<Utc>,
    pub seen_at: DateTime<Utc>,
}

/// A process silent this long is gone for good, and its row is cleared away.
const FORGET_AFTER: chrono::Duration = chrono::Duration::days(1);

impl Store {
    /// Says the process is alive (and which shards it runs), and clears away processes long gone.
    pub async fn heartbeat(
        &self,
        claimer: &str,
        shards: &ShardRange,
        started_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO workers (claimer, shards, started_at, seen_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (claimer) DO UPDATE SET seen_at = excluded.seen_at, \
                 shards = excluded.shards",
            )
            .bind(claimer)
            .bind(shards.to_string())
            .bind(time_to_db(started_at))
            .bind(time_to_db(now))
            .execute(pool)
            .await?;
            sqlx::query("DELETE FROM workers WHERE seen_at < $1")
                .bind(time_to_db(now - FORGET_AFTER))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The process is stopping: whatever it leaves claimed may be taken over at once.
    pub async fn retire(&self, claimer: &str) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM workers WHERE claimer = $1")
                .bind(claimer)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The processes that have reported, most recently started first.
    pub async fn workers(&self) -> Result<Vec<WorkerRecord>, StoreError> {
        let rows: Vec<(String, String, i64, i64)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT claimer, shards, started_at, seen_at FROM workers \
                 ORDER BY started_at DESC, claimer",
            )
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(claimer, shards, started_at, seen_at)| {
                Ok(WorkerRecord {
                    claimer,
                    shards,
                    started_at: time_from_db(started_at, "workers.started_at")?,
                    seen_at: time_from_db(seen_at, "workers.seen_at")?,
                })
            })
            .collect()
    }
}
