//! What careprompt holds about a person: their bookmarks, and (written by the DM side) their
//! opt-ins, muted themes and DM ledger. Private: only that person sees it, and they can export
//! and erase all of it, in every server at once.

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use super::{
    id_as_string, id_from_db, id_to_db, time_from_db, time_to_db, Pool, Store, StoreError,
    ERASED_USER,
};

/// How many bookmarks one person may hold.
pub const BOOKMARK_LIMIT: u32 = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BookmarkKind {
    Prompt,
    Story,
    Pack,
}

impl BookmarkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BookmarkKind::Prompt => "prompt",
            BookmarkKind::Story => "story",
            BookmarkKind::Pack => "pack",
        }
    }

    pub fn parse(text: &str) -> Option<BookmarkKind> {
        match text {
            "prompt" => Some(BookmarkKind::Prompt),
            "story" => Some(BookmarkKind::Story),
            "pack" => Some(BookmarkKind::Pack),
            _ => None,
        }
    }
}

/// What a bookmark keeps of the item, as it was when saved, so it outlives changes to `prompts/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBookmark {
    pub kind: BookmarkKind,
    pub item_id: String,
    pub title: String,
    pub body: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bookmark {
    pub id: i64,
    pub kind: BookmarkKind,
    pub item_id: String,
    pub title: String,
    pub body: Option<String>,
    pub url: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What saving came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    Added,
    /// The person had already saved the item; they still have one bookmark of it.
    AlreadySaved,
    /// The person holds [`BOOKMARK_LIMIT`] bookmarks already; nothing was saved.
    Full,
}

/// Everything careprompt holds about one person, for `/mydata`. Ids are strings, as Discord
/// writes them, so that JSON readers that use floating point don't round them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserExport {
    #[serde(serialize_with = "id_as_string")]
    pub user_id: u64,
    /// Servers whose scheduled cards they asked to get by DM.
    pub dm_optins: Vec<DmOptIn>,
    /// Themes they keep out of their DMs, in every server.
    pub muted_themes: Vec<ThemeMute>,
    /// Their DM channel and whether DMs to them work; `None` if careprompt never wrote to them.
    pub dm_status: Option<DmStatus>,
    /// Newest first.
    pub bookmarks: Vec<Bookmark>,
    /// Cards careprompt sent them by DM.
    pub dms_sent: u64,
    /// Every card careprompt recorded for them by DM, whatever came of it (sent, failed,
    /// skipped or being sent), so that the export accounts for every row.
    pub dm_records: u64,
    /// Channel schedules they set up. The schedules belong to the team, so erasing the person
    /// keeps them and only forgets who set them up.
    pub schedules_created: Vec<CreatedSchedule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmOptIn {
    #[serde(serialize_with = "id_as_string")]
    pub guild_id: u64,
    pub opted_in_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThemeMute {
    pub theme: String,
    pub muted_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DmStatus {
    #[serde(serialize_with = "opt_id_as_string")]
    pub channel_id: Option<u64>,
    /// When Discord refused a DM to them (their DMs are closed); DMs pause until they open.
    pub closed_at: Option<DateTime<Utc>>,
    /// When careprompt told them so.
    pub told_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CreatedSchedule {
    #[serde(serialize_with = "id_as_string")]
    pub guild_id: u64,
    #[serde(serialize_with = "id_as_string")]
    pub channel_id: u64,
    pub created_at: DateTime<Utc>,
}

/// How many rows `erase_user` removed from each table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Erased {
    pub bookmarks: u64,
    pub dm_optins: u64,
    pub theme_mutes: u64,
    pub dm_status: u64,
    pub dm_deliveries: u64,
    /// Schedules kept for their team, now without the person's name on them.
    pub schedules_anonymised: u64,
}

impl Erased {
    /// Rows deleted, not counting the schedules kept.
    pub fn rows_removed(&self) -> u64 {
        self.bookmarks + self.dm_optins + self.theme_mutes + self.dm_status + self.dm_deliveries
    }
}

/// What `purge_departed_guilds` removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub guilds: u64,
    pub schedules: u64,
    pub dm_optins: u64,
}

fn opt_id_as_string<S: Serializer>(id: &Option<u64>, serializer: S) -> Result<S::Ok, S::Error> {
    match id {
        Some(id) => serializer.collect_str(id),
        None => serializer.serialize_none(),
    }
}

/// Removals racing a save can move the oldest bookmark from under it this many times before
/// the save goes ahead on the count alone.
const LOCK_ATTEMPTS: u32 = 8;

const BOOKMARK_COLUMNS: &str = "id, kind, item_id, title, body, url, created_at";

/// `bookmarks (id, kind, item_id, title, body, url, created_at)` as stored.
type BookmarkRow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
);
/// `schedules (guild_id, channel_id, created_at)` as stored.
type CreatedRow = (i64, i64, i64);
/// `dm_status (channel_id, closed_at, told_at)` as stored.
type StatusRow = (Option<i64>, Option<i64>, Option<i64>);

impl Store {
    /// Saves an item for the person, unless they saved it before or already hold `limit`
    /// bookmarks. The limit holds under concurrent saves: see the lock below.
    pub async fn add_bookmark(
        &self,
        user_id: u64,
        item: &NewBookmark,
        at: DateTime<Utc>,
        limit: u32,
    ) -> Result<Saved, StoreError> {
        let id = id_to_db(user_id);
        // Saves by one person queue on a lock of their oldest bookmark (PostgreSQL row lock;
        // on SQLite any write takes the database's one write lock), so the count the insert
        // checks includes every save committed before it. One row, taken first, cannot deadlock.
        // If that row was removed while waiting, the next oldest is locked instead; a person
        // with no bookmarks yet is far from the limit, so needs no lock.
        let lock = "UPDATE bookmarks SET user_id = user_id \
                    WHERE id = (SELECT MIN(id) FROM bookmarks WHERE user_id = $1)";
        let held = "SELECT COUNT(*) FROM bookmarks WHERE user_id = $1";
        let exists =
            "SELECT COUNT(*) FROM bookmarks WHERE user_id = $1 AND kind = $2 AND item_id = $3";
        let insert = "INSERT INTO bookmarks \
                      (user_id, kind, item_id, title, body, url, created_at) \
                      SELECT $1, $2, $3, $4, $5, $6, $7 \
                      WHERE (SELECT COUNT(*) FROM bookmarks WHERE user_id = $1) < $8 \
                      ON CONFLICT (user_id, kind, item_id) DO NOTHING";
        let saved = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut attempts = 0;
            loop {
                let locked = sqlx::query(lock).bind(id).execute(&mut *tx).await?.rows_affected();
                if locked > 0 {
                    break;
                }
                let count: i64 = sqlx::query_scalar(held).bind(id).fetch_one(&mut *tx).await?;
                attempts += 1;
                if count == 0 || attempts >= LOCK_ATTEMPTS {
                    break;
                }
            }
            let before: i64 = sqlx::query_scalar(exists)
                .bind(id)
                .bind(item.kind.as_str())
                .bind(&item.item_id)
                .fetch_one(&mut *tx)
                .await?;
            let saved = if before > 0 {
                Saved::AlreadySaved
            } else {
                let added = sqlx::query(insert)
                    .bind(id)
                    .bind(item.kind.as_str())
                    .bind(&item.item_id)
                    .bind(&item.title)
                    .bind(&item.body)
                    .bind(&item.url)
                    .bind(time_to_db(at))
                    .bind(i64::from(limit))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if added == 1 {
                    Saved::Added
                } else {
                    // Nothing inserted: a concurrent save of the same item won, or the limit.
                    let now: i64 = sqlx::query_scalar(exists)
                        .bind(id)
                        .bind(item.kind.as_str())
                        .bind(&item.item_id)
                        .fetch_one(&mut *tx)
                        .await?;
                    if now > 0 {
                        Saved::AlreadySaved
                    } else {
                        Saved::Full
                    }
                }
            };
            tx.commit().await?;
            saved
        });
        Ok(saved)
    }

    /// Removes one of the person's own bookmarks; false if they hold no bookmark with that id.
    pub async fn remove_bookmark(
        &self,
        user_id: u64,
        bookmark_id: i64,
    ) -> Result<bool, StoreError> {
        let sql = "DELETE FROM bookmarks WHERE user_id = $1 AND id = $2";
        let done = with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(id_to_db(user_id))
                .bind(bookmark_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }

    /// One page of the person's bookmarks, newest first, and how many they hold in all.
    pub async fn bookmarks_page(
        &self,
        user_id: u64,
        offset: u32,
        limit: u32,
    ) -> Result<(Vec<Bookmark>, u64), StoreError> {
        let id = id_to_db(user_id);
        let page_sql = format!(
            "SELECT {BOOKMARK_COLUMNS} FROM bookmarks WHERE user_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
        );
        let count_sql = "SELECT COUNT(*) FROM bookmarks WHERE user_id = $1";
        let (rows, total): (Vec<BookmarkRow>, i64) = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let rows = sqlx::query_as(&page_sql)
                .bind(id)
                .bind(i64::from(limit))
                .bind(i64::from(offset))
                .fetch_all(&mut *tx)
                .await?;
            let total = sqlx::query_scalar(count_sql)
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            (rows, total)
        });
        let bookmarks = rows
            .into_iter()
            .map(bookmark_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((bookmarks, u64::try_from(total).unwrap_or_default()))
    }

    /// All of the person's bookmarks, newest first.
    pub async fn bookmarks(&self, user_id: u64) -> Result<Vec<Bookmark>, StoreError> {
        let sql = bookmarks_sql();
        let rows: Vec<BookmarkRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(id_to_db(user_id))
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(bookmark_from_row).collect()
    }

    /// Everything held about the person in every server, read at one moment.
    pub async fn export_user(&self, user_id: u64) -> Result<UserExport, StoreError> {
        let id = id_to_db(user_id);
        let optins_sql = "SELECT guild_id, opted_in_at FROM dm_optins WHERE user_id = $1 \
                          ORDER BY opted_in_at, guild_id";
        let mutes_sql =
            "SELECT theme, muted_at FROM theme_mutes WHERE user_id = $1 ORDER BY muted_at, theme";
        let status_sql = "SELECT channel_id, closed_at, told_at FROM dm_status WHERE user_id = $1";
        let dms_sql =
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN state = 'sent' THEN 1 ELSE 0 END), 0) \
                       FROM dm_deliveries WHERE user_id = $1";
        let bookmarks_sql = bookmarks_sql();
        // ERASED_USER marks schedules whose creator is forgotten; they are nobody's data.
        let schedules_sql = "SELECT guild_id, channel_id, created_at FROM schedules \
                             WHERE created_by = $1 AND created_by <> $2 ORDER BY id";
        #[allow(clippy::type_complexity)] // one tuple per table, read together
        let (optins, mutes, status, dms, bookmarks, schedules): (
            Vec<(i64, i64)>,
            Vec<(String, i64)>,
            Option<StatusRow>,
            (i64, i64),
            Vec<BookmarkRow>,
            Vec<CreatedRow>,
        ) = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            if self.backend() == "postgres" {
                // One snapshot for every read (SQLite transactions are snapshots already).
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    .execute(&mut *tx)
                    .await?;
            }
            let optins = sqlx::query_as(optins_sql).bind(id).fetch_all(&mut *tx).await?;
            let mutes = sqlx::query_as(mutes_sql).bind(id).fetch_all(&mut *tx).await?;
            let status = sqlx::query_as(status_sql)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let dms = sqlx::query_as(dms_sql).bind(id).fetch_one(&mut *tx).await?;
            let bookmarks = sqlx::query_as(&bookmarks_sql)
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
            let schedules = sqlx::query_as(schedules_sql)
                .bind(id)
                .bind(id_to_db(ERASED_USER))
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            (optins, mutes, status, dms, bookmarks, schedules)
        });

        let dm_optins = optins
            .into_iter()
            .map(|(guild_id, at)| {
                Ok(DmOptIn {
                    guild_id: id_from_db(guild_id),
                    opted_in_at: time_from_db(at, "dm_optins.opted_in_at")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let muted_themes = mutes
            .into_iter()
            .map(|(theme, at)| {
                Ok(ThemeMute {
                    theme,
                    muted_at: time_from_db(at, "theme_mutes.muted_at")?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let optional_time =
            |at: Option<i64>, column: &str| at.map(|at| time_from_db(at, column)).transpose();
        let dm_status = match status {
            Some((channel_id, closed_at, told_at)) => Some(DmStatus {
                channel_id: channel_id.map(id_from_db),
                closed_at: optional_time(closed_at, "dm_status.closed_at")?,
                told_at: optional_time(told_at, "dm_status.told_at")?,
            }),
            None => None,
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
        let (dm_records, dms_sent) = dms;
        Ok(UserExport {
            user_id,
            dm_optins,
            muted_themes,
            dm_status,
            bookmarks,
            dms_sent: u64::try_from(dms_sent).unwrap_or_default(),
            dm_records: u64::try_from(dm_records).unwrap_or_default(),
            schedules_created,
        })
    }

    /// Deletes every row about the person in every server, all or nothing, and says how many
    /// went from each table.
    ///
    /// A schedule the person set up belongs to their team, so it is NOT deleted: its `created_by`
    /// is set to `ERASED_USER` (0) instead, which forgets who set it up.
    pub async fn erase_user(&self, user_id: u64) -> Result<Erased, StoreError> {
        let id = id_to_db(user_id);
        let erased = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut erased = Erased::default();
            for (table, count) in [
                ("bookmarks", &mut erased.bookmarks),
                ("dm_optins", &mut erased.dm_optins),
                ("theme_mutes", &mut erased.theme_mutes),
                ("dm_status", &mut erased.dm_status),
                ("dm_deliveries", &mut erased.dm_deliveries),
            ] {
                *count = sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1"))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            erased.schedules_anonymised = sqlx::query(
                "UPDATE schedules SET created_by = $1 WHERE created_by = $2 AND created_by <> $1",
            )
            .bind(id_to_db(ERASED_USER))
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            erased
        });
        // No user id in the log: the point is to forget them.
        tracing::info!(
            rows_removed = erased.rows_removed(),
            schedules_kept = erased.schedules_anonymised,
            "erased a person's data"
        );
        Ok(erased)
    }

    /// Forgets the servers careprompt left before `left_before`: their schedules (and with them
    /// their delivery ledger) and their members' DM opt-ins for them. Bookmarks belong to the
    /// person, not the server, so they stay.
    pub async fn purge_departed_guilds(
        &self,
        left_before: DateTime<Utc>,
    ) -> Result<Purged, StoreError> {
        let cutoff = time_to_db(left_before);
        let gone = "SELECT guild_id FROM departed_guilds WHERE left_at < $1";
        let purged = with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let schedules = sqlx::query(&format!("DELETE FROM schedules WHERE guild_id IN ({gone})"))
                .bind(cutoff)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let dm_optins = sqlx::query(&format!("DELETE FROM dm_optins WHERE guild_id IN ({gone})"))
                .bind(cutoff)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let guilds = sqlx::query("DELETE FROM departed_guilds WHERE left_at < $1")
                .bind(cutoff)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            Purged { guilds, schedules, dm_optins }
        });
        if purged.guilds > 0 {
            tracing::info!(
                servers = purged.guilds,
                schedules = purged.schedules,
                dm_optins = purged.dm_optins,
                "forgot servers careprompt left longer ago than the retention period"
            );
        }
        Ok(purged)
    }
}

fn bookmarks_sql() -> String {
    format!(
        "SELECT {BOOKMARK_COLUMNS} FROM bookmarks WHERE user_id = $1 \
         ORDER BY created_at DESC, id DESC"
    )
}

fn bookmark_from_row(
    (id, kind, item_id, title, body, url, created_at): BookmarkRow,
) -> Result<Bookmark, StoreError> {
    Ok(Bookmark {
        id,
        kind: BookmarkKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("bookmarks.kind holds {kind:?}")))?,
        item_id,
        title,
        body,
        url,
        created_at: time_from_db(created_at, "bookmarks.created_at")?,
    })
}
