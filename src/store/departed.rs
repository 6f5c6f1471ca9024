//! `departed_guilds`: the servers careprompt was removed from. Their schedules stop at once, and
//! after the retention period careprompt forgets them.

use chrono::{DateTime, Utc};

use super::shards::{on_shards, BindShards};
use super::{id_from_db, id_to_db, time_to_db, Pool, Store, StoreError};
use crate::domain::shards::ShardRange;

/// What `purge_departed_guilds` removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub guilds: u64,
    pub schedules: u64,
    pub dm_optins: u64,
    /// Usage records `/insights` counted people by; the server's secret goes with them.
    pub usage_records: u64,
}

impl Store {
    /// careprompt was removed from the server: its schedules stop at once.
    pub async fn guild_departed(&self, guild_id: u64, at: DateTime<Utc>) -> Result<(), StoreError> {
        let sql = "INSERT INTO departed_guilds (guild_id, left_at) VALUES ($1, $2) \
                   ON CONFLICT (platform, guild_id) DO NOTHING";
        with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(id_to_db(guild_id))
                .bind(time_to_db(at))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The Discord servers careprompt holds schedules or DM opt-ins for, on these shards, and has
    /// not been removed from.
    pub async fn known_guilds(&self, shards: &ShardRange) -> Result<Vec<u64>, StoreError> {
        let on_shards = on_shards("guild_id", 1);
        self.guild_ids(
            &format!(
                "SELECT guild_id FROM schedules WHERE platform = 'discord' AND {on_shards} \
                 UNION SELECT guild_id FROM dm_optins WHERE platform = 'discord' AND {on_shards} \
                 EXCEPT SELECT guild_id FROM departed_guilds WHERE platform = 'discord'"
            ),
            shards,
        )
        .await
    }

    /// The Discord servers on these shards careprompt was removed from and has not yet forgotten.
    pub async fn departed_guilds(&self, shards: &ShardRange) -> Result<Vec<u64>, StoreError> {
        self.guild_ids(
            &format!(
                "SELECT guild_id FROM departed_guilds WHERE platform = 'discord' AND {}",
                on_shards("guild_id", 1)
            ),
            shards,
        )
        .await
    }

    /// careprompt is in the server (again): its schedules carry on.
    pub async fn guild_present(&self, guild_id: u64) -> Result<(), StoreError> {
        let sql = "DELETE FROM departed_guilds WHERE platform = 'discord' AND guild_id = $1";
        with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(id_to_db(guild_id))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The ids `sql` selects for these shards, in order.
    async fn guild_ids(&self, sql: &str, shards: &ShardRange) -> Result<Vec<u64>, StoreError> {
        let ids: Vec<i64> = with_pool!(self, pool => {
            sqlx::query_scalar(sql)
                .bind_shards(shards)
                .fetch_all(pool)
                .await?
        });
        let mut ids: Vec<u64> = ids.into_iter().map(id_from_db).collect();
        ids.sort_unstable();
        Ok(ids)
    }

    /// Forgets the servers careprompt left before `left_before`: their schedules (and with them
    /// their delivery ledger), their members' DM opt-ins for them, and
    /// their usage records with the secret they were hashed under, and their reflective sessions
    /// and facilitator role. Bookmarks belong to the
    /// person, not the server, so they stay.
    pub async fn purge_departed_guilds(
        &self,
        left_before: DateTime<Utc>,
    ) -> Result<Purged, StoreError> {
        let cutoff = time_to_db(left_before);
        // Whatever their platform; a key names a server only with its platform.
        let gone = "SELECT platform, guild_id FROM departed_guilds WHERE left_at < $1";
        let due: bool = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM departed_guilds WHERE left_at < $1)")
                .bind(cutoff)
                .fetch_one(pool)
                .await?
        });
        if !due {
            return Ok(Purged::default());
        }
        let sqlite = matches!(self.pool, Pool::Sqlite(_));
        let purged = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            if !sqlite {
                // A Save in flight may be writing a usage record under a secret erased here:
                // this waits for every such Save to commit, so its record is seen and deleted
                // below, and holds later ones back until the secret is gone, when they see it so
                // and write under a new one (see `saves`).
                sqlx::query("LOCK TABLE usage_events IN SHARE MODE")
                    .execute(&mut *tx)
                    .await?;
            }
            let schedules = sqlx::query(&format!("DELETE FROM schedules WHERE (platform, guild_id) IN ({gone})"))
                .bind(cutoff)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let dm_optins = sqlx::query(&format!("DELETE FROM dm_optins WHERE (platform, guild_id) IN ({gone})"))
                .bind(cutoff)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let usage_records =
                sqlx::query(&format!("DELETE FROM usage_events WHERE (platform, guild_id) IN ({gone})"))
                    .bind(cutoff)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            for table in [
                "usage_weeks",
                "usage_people",
                "usage_counts",
                "session_counts",
                "insight_secrets",
                "sessions",
                "session_roles",
            ] {
                sqlx::query(&format!("DELETE FROM {table} WHERE (platform, guild_id) IN ({gone})"))
                    .bind(cutoff)
                    .execute(&mut *tx)
                    .await?;
            }
            let guilds = sqlx::query("DELETE FROM departed_guilds WHERE left_at < $1")
                .bind(cutoff)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Purged { guilds, schedules, dm_optins, usage_records }
        });
        // Their secrets go from memory too (a secret held is checked before use, but a
        // forgotten server's has no business staying).
        self.saves.forget_secrets();
        if purged.guilds > 0 {
            tracing::info!(
                servers = purged.guilds,
                schedules = purged.schedules,
                dm_optins = purged.dm_optins,
                usage_records = purged.usage_records,
                "forgot servers careprompt left longer ago than the retention period"
            );
        }
        Ok(purged)
    }
}
