//! Everything careprompt holds about one person, in every server at once: exported by `/mydata`
//! and erased by `/forget-me`.

use serde::Serialize;

use super::bookmarks::{bookmark_from_row, bookmarks_sql, BookmarkRow};
use super::insights::{erase_usage_sql, person_hashes, HASHES_PER_STATEMENT, SECRETS_SQL};
use super::{
    id_as_string, id_from_db, id_to_db, time_from_db, Bookmark, CreatedSchedule, DmOptIn, DmStatus,
    Pool, Store, StoreError, ThemeMute, ERASED_USER,
};

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
    /// Records of what they did in a server (saved a card of a theme, opted in to DMs) that
    /// `/insights` counts people by. Each holds a keyed hash of them, not their id, so only the
    /// number is shown: the records say nothing that could be read back as theirs.
    pub usage_records: u64,
    /// Reflective sessions they ran (`/session`). Like schedules, they belong to the team:
    /// erasing the person ends any still running and forgets who ran them.
    pub sessions_run: Vec<SessionRun>,
}

/// A reflective session the person ran, as `/mydata` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionRun {
    #[serde(serialize_with = "id_as_string")]
    pub guild_id: u64,
    #[serde(serialize_with = "id_as_string")]
    pub channel_id: u64,
    pub theme: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub ended_at: Option<chrono::DateTime<chrono::Utc>>,
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
    /// Records `/insights` counted them by.
    pub usage_records: u64,
    /// Reflective sessions kept for their team (ended, if still running), without their name.
    pub sessions_anonymised: u64,
}

impl Erased {
    /// Rows deleted, not counting the schedules kept.
    pub fn rows_removed(&self) -> u64 {
        self.bookmarks
            + self.dm_optins
            + self.theme_mutes
            + self.dm_status
            + self.dm_deliveries
            + self.usage_records
    }
}

/// `schedules (guild_id, channel_id, created_at)` as stored.
type CreatedRow = (i64, i64, i64);
/// `dm_status (channel_id, closed_at, told_at)` as stored.
type StatusRow = (Option<i64>, Option<i64>, Option<i64>);

impl Store {
    /// The sessions the person ran, oldest first.
    async fn sessions_run_by(&self, user_id: u64) -> Result<Vec<SessionRun>, StoreError> {
        let sql = "SELECT guild_id, channel_id, theme, started_at, ended_at FROM sessions \
                   WHERE platform = 'discord' AND facilitator_id = $1 AND facilitator_id <> $2 \
                   ORDER BY id";
        let rows: Vec<(i64, i64, String, i64, Option<i64>)> = with_pool!(self, pool => {
            sqlx::query_as(sql)
                .bind(id_to_db(user_id))
                .bind(id_to_db(ERASED_USER))
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|(guild_id, channel_id, theme, started_at, ended_at)| {
                Ok(SessionRun {
                    guild_id: id_from_db(guild_id),
                    channel_id: id_from_db(channel_id),
                    theme,
                    started_at: time_from_db(started_at, "sessions.started_at")?,
                    ended_at: ended_at
                        .map(|at| time_from_db(at, "sessions.ended_at"))
                        .transpose()?,
                })
            })
            .collect()
    }

    /// Everything held about the person in every server, read at one moment.
    pub async fn export_user(&self, user_id: u64) -> Result<UserExport, StoreError> {
        let id = id_to_db(user_id);
        let optins_sql = "SELECT guild_id, opted_in_at FROM dm_optins \
                          WHERE platform = 'discord' AND user_id = $1 \
                          ORDER BY opted_in_at, guild_id";
        let mutes_sql = "SELECT theme, muted_at FROM theme_mutes \
                         WHERE platform = 'discord' AND user_id = $1 ORDER BY muted_at, theme";
        let status_sql = "SELECT channel_id, closed_at, told_at FROM dm_status \
                          WHERE platform = 'discord' AND user_id = $1";
        let dms_sql =
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN state = 'sent' THEN 1 ELSE 0 END), 0) \
                       FROM dm_deliveries WHERE platform = 'discord' AND user_id = $1";
        let bookmarks_sql = bookmarks_sql();
        // ERASED_USER marks schedules whose creator is forgotten; they are nobody's data.
        let schedules_sql = "SELECT guild_id, channel_id, created_at FROM schedules \
                             WHERE platform = 'discord' AND created_by = $1 AND created_by <> $2 \
                             ORDER BY id";
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
        let usage_records = self.usage_records_of(user_id).await?;
        let sessions_run = self.sessions_run_by(user_id).await?;
        Ok(UserExport {
            user_id,
            dm_optins,
            muted_themes,
            dm_status,
            bookmarks,
            dms_sent: u64::try_from(dms_sent).unwrap_or_default(),
            dm_records: u64::try_from(dm_records).unwrap_or_default(),
            schedules_created,
            usage_records,
            sessions_run,
        })
    }

    /// Deletes every row about the person in every server, all or nothing, and says how many
    /// went from each table.
    ///
    /// A schedule the person set up belongs to their team, so it is NOT deleted: its `created_by`
    /// is set to `ERASED_USER` (0) instead, which forgets who set it up.
    pub async fn erase_user(&self, user_id: u64) -> Result<Erased, StoreError> {
        let id = id_to_db(user_id);
        let sqlite = matches!(self.pool, Pool::Sqlite(_));
        let erased = with_pool!(self, pool => {
            let mut tx = if sqlite {
                pool.begin_with("BEGIN IMMEDIATE").await?
            } else {
                pool.begin().await?
            };
            if !sqlite {
                // The lock a Save by the person holds to its commit: the erasure comes wholly
                // after a Save in flight (bookmark and usage record), or wholly before one.
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            // The person's hash under each server's secret finds their usage records; read
            // after the lock, so a secret a Save just made is among them.
            let secrets: Vec<Vec<u8>> = sqlx::query_scalar(SECRETS_SQL)
                .fetch_all(&mut *tx)
                .await?;
            let hashes = person_hashes(&secrets, user_id)?;
            let mut erased = Erased::default();
            for chunk in hashes.chunks(HASHES_PER_STATEMENT) {
                let [cells, weeks, records, in_weeks, people] = erase_usage_sql(chunk.len());
                for (sql, counted) in [
                    (cells, false),
                    (weeks, false),
                    (records, true),
                    (in_weeks, false),
                    (people, false),
                ] {
                    let mut query = sqlx::query(&sql);
                    for hash in chunk {
                        query = query.bind(hash);
                    }
                    let gone = query.execute(&mut *tx).await?.rows_affected();
                    if counted {
                        erased.usage_records += gone;
                    }
                }
            }
            for (table, count) in [
                ("bookmarks", &mut erased.bookmarks),
                ("dm_optins", &mut erased.dm_optins),
                ("theme_mutes", &mut erased.theme_mutes),
                ("dm_status", &mut erased.dm_status),
                ("dm_deliveries", &mut erased.dm_deliveries),
            ] {
                *count = sqlx::query(&format!(
                    "DELETE FROM {table} WHERE platform = 'discord' AND user_id = $1"
                ))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            erased.schedules_anonymised = sqlx::query(
                "UPDATE schedules SET created_by = $1 \
                 WHERE platform = 'discord' AND created_by = $2 AND created_by <> $1",
            )
            .bind(id_to_db(ERASED_USER))
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            // A running session with nobody to move it on is ended, so the channel is free.
            erased.sessions_anonymised = sqlx::query(
                "UPDATE sessions SET facilitator_id = $1, state = 'ended', \
                 ended_at = COALESCE(ended_at, stage_started_at), stage_deadline = NULL \
                 WHERE platform = 'discord' AND facilitator_id = $2 AND facilitator_id <> $1",
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
}
