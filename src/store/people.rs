//! What careprompt holds about a person: whether they want DMs and their bookmarks. Private:
//! only that person sees it, and they can export and erase it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{
    id_as_string, id_from_db, id_to_db, time_from_db, time_to_db, Pool, Store, StoreError,
    ERASED_USER,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bookmark {
    pub prompt_id: String,
    pub created_at: DateTime<Utc>,
}

/// Everything careprompt holds about one person, for `/mydata`. Ids are strings, as Discord
/// writes them, so that JSON readers that use floating point don't round them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserExport {
    #[serde(serialize_with = "id_as_string")]
    pub user_id: u64,
    pub dm_opt_in: bool,
    /// When they last turned DMs on or off; `None` if they never chose.
    pub dm_opt_in_changed_at: Option<DateTime<Utc>>,
    /// Oldest first.
    pub bookmarks: Vec<Bookmark>,
    /// Channel schedules they set up. The schedules belong to the team, so erasing the person
    /// keeps them and only forgets who set them up.
    pub schedules_created: Vec<CreatedSchedule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatedSchedule {
    #[serde(serialize_with = "id_as_string")]
    pub guild_id: u64,
    #[serde(serialize_with = "id_as_string")]
    pub channel_id: u64,
    pub created_at: DateTime<Utc>,
}

const BOOKMARKS_SQL: &str =
    "SELECT prompt_id, created_at FROM bookmarks WHERE user_id = $1 ORDER BY created_at, id";

/// `user_settings (dm_opt_in, dm_opt_in_at)` as stored.
type SettingsRow = (bool, i64);
/// `bookmarks (prompt_id, created_at)` as stored.
type BookmarkRow = (String, i64);
/// `schedules (guild_id, channel_id, created_at)` as stored.
type CreatedRow = (i64, i64, i64);

impl Store {
    /// Records whether the person wants direct messages, and when they chose.
    pub async fn set_dm_opt_in(
        &self,
        user_id: u64,
        opted_in: bool,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO user_settings (user_id, dm_opt_in, dm_opt_in_at) \
                   VALUES ($1, $2, $3) \
                   ON CONFLICT (user_id) DO UPDATE SET \
                   dm_opt_in = excluded.dm_opt_in, dm_opt_in_at = excluded.dm_opt_in_at";
        with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(id_to_db(user_id))
                .bind(opted_in)
                .bind(time_to_db(at))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// False unless the person has opted in.
    pub async fn dm_opt_in(&self, user_id: u64) -> Result<bool, StoreError> {
        let sql = "SELECT dm_opt_in FROM user_settings WHERE user_id = $1";
        let opted_in: Option<bool> = with_pool!(self, pool => {
            sqlx::query_scalar(sql)
                .bind(id_to_db(user_id))
                .fetch_optional(pool)
                .await?
        });
        Ok(opted_in.unwrap_or(false))
    }

    /// False if the person had already bookmarked the prompt (its time stays the first one).
    pub async fn add_bookmark(
        &self,
        user_id: u64,
        prompt_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let sql = "INSERT INTO bookmarks (user_id, prompt_id, created_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (user_id, prompt_id) DO NOTHING";
        let done = with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(id_to_db(user_id))
                .bind(prompt_id)
                .bind(time_to_db(at))
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done == 1)
    }

    /// False if the person had no such bookmark.
    pub async fn remove_bookmark(&self, user_id: u64, prompt_id: &str) -> Result<bool, StoreError> {
        let sql = "DELETE FROM bookmarks WHERE user_id = $1 AND prompt_id = $2";
        let done = with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(id_to_db(user_id))
                .bind(prompt_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }

    /// The person's bookmarks, oldest first.
    pub async fn bookmarks(&self, user_id: u64) -> Result<Vec<Bookmark>, StoreError> {
        let rows: Vec<BookmarkRow> = with_pool!(self, pool => {
            sqlx::query_as(BOOKMARKS_SQL)
                .bind(id_to_db(user_id))
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(bookmark_from_row).collect()
    }

    /// Everything held about the person, read at one moment.
    pub async fn export_user(&self, user_id: u64) -> Result<UserExport, StoreError> {
        let id = id_to_db(user_id);
        let settings_sql = "SELECT dm_opt_in, dm_opt_in_at FROM user_settings WHERE user_id = $1";
        // ERASED_USER marks schedules whose creator is forgotten; they are nobody's data.
        let schedules_sql = "SELECT guild_id, channel_id, created_at FROM schedules \
                             WHERE created_by = $1 AND created_by <> $2 ORDER BY id";
        let (settings, bookmarks, schedules): (
            Option<SettingsRow>,
            Vec<BookmarkRow>,
            Vec<CreatedRow>,
        ) = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            if self.backend() == "postgres" {
                // One snapshot for all three reads (SQLite transactions are snapshots already).
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .execute(&mut *tx)
                    .await?;
            }
            let settings = sqlx::query_as(settings_sql)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let bookmarks = sqlx::query_as(BOOKMARKS_SQL)
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
            let schedules = sqlx::query_as(schedules_sql)
                .bind(id)
                .bind(id_to_db(ERASED_USER))
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            (settings, bookmarks, schedules)
        });

        let (dm_opt_in, dm_opt_in_changed_at) = match settings {
            Some((opted_in, at)) => (
                opted_in,
                Some(time_from_db(at, "user_settings.dm_opt_in_at")?),
            ),
            None => (false, None),
        };
        let bookmarks = bookmarks
            .into_iter()
            .map(bookmark_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let schedules_created = schedules
            .into_iter()
            .map(|(guild_id, channel_id, created_at)| {
                Ok(CreatedSchedule {
                    guild_id: id_from_db(guild_id),
                    channel_id: id_from_db(channel_id),
                    created_at: time_from_db(created_at, "schedules.created_at")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(UserExport {
            user_id,
            dm_opt_in,
            dm_opt_in_changed_at,
            bookmarks,
            schedules_created,
        })
    }

    /// Deletes every row about the person, all or nothing, and returns how many were deleted.
    ///
    /// A schedule the person set up belongs to their team, so it is NOT deleted: its `created_by`
    /// is set to `ERASED_USER` (0) instead, which forgets who set it up. Those schedules are not
    /// counted in the result.
    pub async fn erase_user(&self, user_id: u64) -> Result<u64, StoreError> {
        let id = id_to_db(user_id);
        let (removed, anonymised) = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let bookmarks = sqlx::query("DELETE FROM bookmarks WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let settings = sqlx::query("DELETE FROM user_settings WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let anonymised = sqlx::query(
                "UPDATE schedules SET created_by = $1 WHERE created_by = $2 AND created_by <> $1",
            )
            .bind(id_to_db(ERASED_USER))
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            (bookmarks + settings, anonymised)
        });
        // No user id in the log: the point is to forget them.
        tracing::info!(
            rows_removed = removed,
            schedules_kept = anonymised,
            "erased a person's data"
        );
        Ok(removed)
    }
}

fn bookmark_from_row((prompt_id, created_at): BookmarkRow) -> Result<Bookmark, StoreError> {
    Ok(Bookmark {
        prompt_id,
        created_at: time_from_db(created_at, "bookmarks.created_at")?,
    })
}
