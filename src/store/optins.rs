//! `dm_optins` and `theme_mutes`: the servers whose scheduled cards a person asked to get by DM,
//! and the themes they keep out of their DMs. Both are the person's own: exported by `/mydata`,
//! erased by `/forget-me`.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{id_as_string, id_from_db, id_to_db, time_to_db, Pool, Store, StoreError};

/// One of the person's opt-ins, as `/mydata` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmOptIn {
    #[serde(serialize_with = "id_as_string")]
    pub guild_id: u64,
    pub opted_in_at: DateTime<Utc>,
}

/// One of the person's muted themes, as `/mydata` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThemeMute {
    pub theme: String,
    pub muted_at: DateTime<Utc>,
}

impl Store {
    /// Turns DMs from this server on or off for the person; false if nothing changed.
    pub async fn set_dm_optin(
        &self,
        user_id: u64,
        guild_id: u64,
        on: bool,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = with_pool!(self, pool => {
            if on {
                let mut tx = pool.begin().await?;
                let added = sqlx::query(
                    "INSERT INTO dm_optins (user_id, guild_id, opted_in_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (platform, user_id, guild_id) DO NOTHING",
                )
                .bind(id_to_db(user_id))
                .bind(id_to_db(guild_id))
                .bind(time_to_db(at))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                // Opting in again is how someone says they have opened their DMs.
                sqlx::query(
                    "UPDATE dm_status SET closed_at = NULL, told_at = NULL \
                     WHERE platform = 'discord' AND user_id = $1",
                )
                    .bind(id_to_db(user_id))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                added
            } else {
                sqlx::query(
                    "DELETE FROM dm_optins WHERE platform = 'discord' AND user_id = $1 \
                     AND guild_id = $2",
                )
                    .bind(id_to_db(user_id))
                    .bind(id_to_db(guild_id))
                    .execute(pool)
                    .await?
                    .rows_affected()
            }
        });
        Ok(done > 0)
    }

    /// The servers the person gets DMs from.
    pub async fn dm_optins(&self, user_id: u64) -> Result<Vec<u64>, StoreError> {
        let rows: Vec<i64> = with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT guild_id FROM dm_optins WHERE platform = 'discord' AND user_id = $1 \
                 ORDER BY guild_id",
            )
                .bind(id_to_db(user_id))
                .fetch_all(pool)
                .await?
        });
        Ok(rows.into_iter().map(id_from_db).collect())
    }

    /// Keeps a theme out of (or back in) the person's DMs; false if nothing changed.
    pub async fn set_theme_muted(
        &self,
        user_id: u64,
        theme: &str,
        muted: bool,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = with_pool!(self, pool => {
            if muted {
                sqlx::query(
                    "INSERT INTO theme_mutes (user_id, theme, muted_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (platform, user_id, theme) DO NOTHING",
                )
                .bind(id_to_db(user_id))
                .bind(theme)
                .bind(time_to_db(at))
                .execute(pool)
                .await?
                .rows_affected()
            } else {
                sqlx::query(
                    "DELETE FROM theme_mutes WHERE platform = 'discord' AND user_id = $1 \
                     AND theme = $2",
                )
                    .bind(id_to_db(user_id))
                    .bind(theme)
                    .execute(pool)
                    .await?
                    .rows_affected()
            }
        });
        Ok(done > 0)
    }

    pub async fn muted_themes(&self, user_id: u64) -> Result<Vec<String>, StoreError> {
        let rows: Vec<String> = with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT theme FROM theme_mutes WHERE platform = 'discord' AND user_id = $1 \
                 ORDER BY theme",
            )
                .bind(id_to_db(user_id))
                .fetch_all(pool)
                .await?
        });
        Ok(rows)
    }
}
