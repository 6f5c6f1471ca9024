//! Prompts by direct message: each person's DM channel and whether DMs reach them (`dm_status`),
//! and the DM ledger that sends each card to each person exactly once. Who opted in where, and
//! their muted themes, are in `optins`. All of it is about one person: exported by `/mydata`,
//! erased by `/forget-me`.

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use super::places::platform_from_db;
use super::shards::{on_shards, BindShards};
use super::{id_from_db, id_to_db, time_from_db, time_to_db, Pool, Store, StoreError, Worker};
use crate::domain::platform::Platform;
use crate::domain::shards::ShardRange;

/// One row of the DM ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmDelivery {
    pub id: i64,
    pub user_id: u64,
    pub claimed_at: DateTime<Utc>,
    pub channel_id: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DmState {
    Sent,
    /// Discord refused it; their DMs are closed.
    Failed,
    /// Too late, or no longer wanted (opted out or muted meanwhile).
    Skipped,
}

impl DmState {
    fn as_str(self) -> &'static str {
        match self {
            DmState::Sent => "sent",
            DmState::Failed => "failed",
            DmState::Skipped => "skipped",
        }
    }
}

/// A channel post whose DMs are still owed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingFanOut {
    pub delivery_id: i64,
    /// Whose server `guild_id` is, and whose people get its DMs.
    pub platform: Platform,
    pub guild_id: u64,
    pub slot_at: DateTime<Utc>,
    pub theme: String,
    pub prompt_id: String,
}

impl PendingFanOut {
    /// Names the card a DM carries: the same card posted by several servers at the same slot
    /// reaches a person once.
    pub fn card_key(&self) -> String {
        format!("{}:{}", self.slot_at.timestamp(), self.prompt_id)
    }
}

/// `deliveries (id, slot_at, theme, prompt_id)` and the schedule's guild and platform, as stored.
type FanOutRow = (i64, i64, i64, Option<String>, Option<String>, String);

/// A person's `dm_status` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmStatus {
    #[serde(serialize_with = "opt_id_as_string")]
    pub channel_id: Option<u64>,
    /// When Discord refused a DM to them (their DMs are closed); DMs pause until they open.
    pub closed_at: Option<DateTime<Utc>>,
    /// When careprompt told them so.
    pub told_at: Option<DateTime<Utc>>,
}

fn opt_id_as_string<S: Serializer>(id: &Option<u64>, serializer: S) -> Result<S::Ok, S::Error> {
    match id {
        Some(id) => serializer.collect_str(id),
        None => serializer.serialize_none(),
    }
}

impl Store {
    /// Channel posts of these shards' servers whose DMs are still owed.
    pub async fn pending_fan_outs(
        &self,
        limit: u32,
        shards: &ShardRange,
    ) -> Result<Vec<PendingFanOut>, StoreError> {
        let sql = format!(
            "SELECT d.id, s.guild_id, d.slot_at, d.theme, d.prompt_id, s.platform FROM deliveries d \
             JOIN schedules s ON s.id = d.schedule_id \
             WHERE d.dms_pending = TRUE AND {} ORDER BY d.id LIMIT $1",
            on_shards("s.guild_id", 2)
        );
        let rows: Vec<FanOutRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
            .bind(i64::from(limit))
            .bind_shards(shards)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .filter_map(|(id, guild, slot, theme, prompt, platform)| {
                Some((id, guild, slot, theme?, prompt?, platform))
            })
            .map(
                |(delivery_id, guild_id, slot, theme, prompt_id, platform)| {
                    Ok(PendingFanOut {
                        delivery_id,
                        platform: platform_from_db(&platform, "schedules")?,
                        guild_id: id_from_db(guild_id),
                        slot_at: time_from_db(slot, "deliveries.slot_at")?,
                        theme,
                        prompt_id,
                    })
                },
            )
            .collect()
    }

    /// Claims a DM for every member opted in on the post's server who has not muted its theme
    /// and whose DMs are open, once per person and card, and returns every DM of this post this
    /// process is to send: the ones it just claimed, its own from before, and those claimed by
    /// processes no longer alive, which it takes over. Two processes never get the same DM.
    pub async fn claim_dms(
        &self,
        post: &PendingFanOut,
        worker: &Worker<'_>,
        now: DateTime<Utc>,
    ) -> Result<Vec<DmDelivery>, StoreError> {
        let card_key = post.card_key();
        let rows: Vec<(i64, i64, i64, Option<i64>)> = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO dm_deliveries \
                 (platform, user_id, card_key, delivery_id, state, claimed_at, claimed_by) \
                 SELECT o.platform, o.user_id, $1, $2, 'claimed', $3, $7 FROM dm_optins o \
                 WHERE o.platform = $8 AND o.guild_id = $4 AND o.opted_in_at <= $5 \
                 AND NOT EXISTS (SELECT 1 FROM theme_mutes m WHERE m.platform = o.platform \
                                 AND m.user_id = o.user_id AND m.theme = $6) \
                 AND NOT EXISTS (SELECT 1 FROM dm_status t WHERE t.platform = o.platform \
                                 AND t.user_id = o.user_id AND t.closed_at IS NOT NULL) \
                 ON CONFLICT (platform, user_id, card_key) DO NOTHING",
            )
            .bind(&card_key)
            .bind(post.delivery_id)
            .bind(time_to_db(now))
            .bind(id_to_db(post.guild_id))
            .bind(time_to_db(post.slot_at))
            .bind(&post.theme)
            .bind(worker.claimer)
            .bind(post.platform.as_str())
            .execute(&mut *tx)
            .await?;
            // On PostgreSQL the update locks each row it takes, and a second process's update
            // waits, then sees the row's new claimer alive and leaves it.
            sqlx::query(
                "UPDATE dm_deliveries SET claimed_by = $1 \
                 WHERE card_key = $2 AND platform = $5 AND state = 'claimed' \
                 AND (delivery_id = $3 OR delivery_id IS NULL) \
                 AND (claimed_by IS NULL OR claimed_by = $1 OR NOT EXISTS \
                      (SELECT 1 FROM workers w WHERE w.claimer = dm_deliveries.claimed_by \
                       AND w.seen_at >= $4))",
            )
            .bind(worker.claimer)
            .bind(&card_key)
            .bind(post.delivery_id)
            .bind(time_to_db(worker.alive_since))
            .bind(post.platform.as_str())
            .execute(&mut *tx)
            .await?;
            let rows = sqlx::query_as(
                "SELECT d.id, d.user_id, d.claimed_at, t.channel_id FROM dm_deliveries d \
                 LEFT JOIN dm_status t ON t.platform = d.platform AND t.user_id = d.user_id \
                 WHERE d.card_key = $1 AND d.platform = $4 AND d.state = 'claimed' \
                 AND d.claimed_by = $3 AND (d.delivery_id = $2 OR d.delivery_id IS NULL) \
                 ORDER BY d.id",
            )
            .bind(&card_key)
            .bind(post.delivery_id)
            .bind(worker.claimer)
            .bind(post.platform.as_str())
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            rows
        });
        rows.into_iter()
            .map(|(id, user, claimed_at, channel)| {
                Ok(DmDelivery {
                    id,
                    user_id: id_from_db(user),
                    claimed_at: time_from_db(claimed_at, "dm_deliveries.claimed_at")?,
                    channel_id: channel.map(id_from_db),
                })
            })
            .collect()
    }

    /// The post's DMs are all settled: it owes nothing more.
    pub async fn fan_out_done(&self, delivery_id: i64) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE deliveries SET dms_pending = FALSE WHERE id = $1 AND NOT EXISTS \
                 (SELECT 1 FROM dm_deliveries d WHERE d.delivery_id = $1 AND d.state = 'claimed')",
            )
            .bind(delivery_id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn settle_dm(
        &self,
        dm_id: i64,
        state: DmState,
        message_id: Option<u64>,
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE dm_deliveries SET state = $1, message_id = $2, detail = $3 \
                 WHERE id = $4 AND state = 'claimed'",
            )
            .bind(state.as_str())
            .bind(message_id.map(id_to_db))
            .bind(detail)
            .bind(dm_id)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Remembers the person's DM channel, so it is opened once.
    pub async fn remember_dm_channel(
        &self,
        user_id: u64,
        channel_id: u64,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO dm_status (user_id, channel_id) VALUES ($1, $2) \
                 ON CONFLICT (platform, user_id) DO UPDATE SET channel_id = excluded.channel_id",
            )
            .bind(id_to_db(user_id))
            .bind(id_to_db(channel_id))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Discord refused a DM because the person's DMs are closed: DMs to them pause until they
    /// opt in again, and they are told once.
    pub async fn dms_closed(&self, user_id: u64, at: DateTime<Utc>) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO dm_status (user_id, closed_at) VALUES ($1, $2) \
                 ON CONFLICT (platform, user_id) DO UPDATE SET \
                 closed_at = COALESCE(dm_status.closed_at, excluded.closed_at)",
            )
            .bind(id_to_db(user_id))
            .bind(time_to_db(at))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// True once for a person whose DMs were found closed and who has not been told yet; the
    /// telling is recorded in the same step.
    pub async fn take_closed_dm_notice(
        &self,
        user_id: u64,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE dm_status SET told_at = $1 \
                 WHERE platform = 'discord' AND user_id = $2 AND closed_at IS NOT NULL \
                 AND told_at IS NULL",
            )
            .bind(time_to_db(at))
            .bind(id_to_db(user_id))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(done > 0)
    }
}
