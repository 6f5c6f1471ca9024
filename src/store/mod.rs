//! Everything careprompt keeps: channel schedules with their rotation state, and the little it
//! holds about a person (whether they want DMs, their bookmarks), which they can export and erase.
//!
//! One `Store` type talks to SQLite or PostgreSQL, chosen by the URL, with the same SQL on both
//! (`$1` placeholders work on both). All SQL lives in this module; queries are checked at run
//! time, not against a database at build time. Migrations are embedded and run at connect.
//!
//! Storage conventions, the same on both backends:
//! - Discord ids (snowflakes, `u64`) are `BIGINT` holding the id's 64 bits as a signed integer:
//!   real snowflakes (below 2^63) read as themselves in SQL, and every `u64` round-trips.
//! - Times are `BIGINT` unix seconds, UTC; anything below a second is dropped.
//! - A schedule's rotation state is `rotation::RotationState` as JSON text.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::Connection;

use crate::domain::rotation::RotationState;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// How long connecting may take before it counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// `created_by` of a schedule whose creator's data was erased.
pub const ERASED_USER: u64 = 0;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `reason` has any password in the URL replaced by `***`.
    #[error("could not connect to the {backend} database: {reason}")]
    Connect {
        backend: &'static str,
        reason: String,
    },
    #[error("could not bring the database tables up to date: {0}")]
    Migrate(#[source] MigrateError),
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("the database holds something careprompt cannot read: {0}")]
    Corrupt(String),
}

/// A channel's schedule as set up by `/schedule`, before it has an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSchedule {
    pub guild_id: u64,
    pub channel_id: u64,
    pub cron: String,
    pub timezone: String,
    pub bank_holidays: String,
    pub include_bullying: bool,
    pub role_ping: Option<u64>,
    /// The Discord user setting it up.
    pub created_by: u64,
    /// Seeds the rotation of a new schedule; ignored when the channel already has one.
    pub seed: u64,
    pub next_due: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRecord {
    pub id: i64,
    pub guild_id: u64,
    pub channel_id: u64,
    pub cron: String,
    pub timezone: String,
    pub bank_holidays: String,
    pub include_bullying: bool,
    pub role_ping: Option<u64>,
    pub paused: bool,
    pub rotation: RotationState,
    /// Changes on every write to the schedule; pass it back to `advance_rotation`.
    pub version: i64,
    pub next_due: Option<DateTime<Utc>>,
    /// The Discord user who set it up, or `ERASED_USER` once their data is erased.
    pub created_by: u64,
    pub created_at: DateTime<Utc>,
}

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

fn id_as_string<S: Serializer>(id: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(id)
}

/// The database, SQLite or PostgreSQL. Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to whichever pool the store has. The body is compiled once per
/// backend, so the same query text and binds serve both.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            Pool::Sqlite($pool) => $body,
            Pool::Postgres($pool) => $body,
        }
    };
}

/// The columns of `schedules` that `ScheduleRow` reads, in its order.
macro_rules! schedule_columns {
    () => {
        "id, guild_id, channel_id, cron, timezone, bank_holidays, include_bullying, role_ping, \
         paused, rotation, version, next_due, created_by, created_at"
    };
}

impl fmt::Debug for Store {
    /// Only the backend: the pool's settings include the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .finish()
    }
}

impl Store {
    /// Connects and brings the tables up to date. `url` is `sqlite://FILE?mode=rwc` (`mode=rwc`
    /// creates the file), `sqlite::memory:` (gone when the store closes; for trials and tests)
    /// or `postgres://USER:PASSWORD@HOST/DATABASE`. Errors name the backend and never show the
    /// password.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        let max_connections = max_connections.max(1);
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => connect_sqlite(url, max_connections).await,
            "postgres" | "postgresql" => connect_postgres(url, max_connections).await,
            _ => Err(StoreError::Connect {
                backend: "unknown",
                reason: format!(
                    "{} is not a database URL careprompt knows: use sqlite://FILE?mode=rwc, \
                     sqlite::memory: or postgres://USER:PASSWORD@HOST/DATABASE",
                    redact_url(url)
                ),
            }),
        }
    }

    pub fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// Waits for queries in flight, then closes every connection.
    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await)
    }

    /// Creates the channel's schedule, or changes its settings if it has one: the rotation carries
    /// on where it was, `next_due` is replaced and `version` moves on.
    pub async fn upsert_schedule(
        &self,
        new: &NewSchedule,
        at: DateTime<Utc>,
    ) -> Result<ScheduleRecord, StoreError> {
        let rotation = rotation_json(&RotationState::new(new.seed))?;
        let now = time_to_db(at);
        let sql = concat!(
            "INSERT INTO schedules (guild_id, channel_id, cron, timezone, bank_holidays, \
             include_bullying, role_ping, paused, rotation, version, next_due, created_by, \
             created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE, $8, 1, $9, $10, $11) \
             ON CONFLICT (channel_id) DO UPDATE SET \
             guild_id = excluded.guild_id, cron = excluded.cron, timezone = excluded.timezone, \
             bank_holidays = excluded.bank_holidays, \
             include_bullying = excluded.include_bullying, role_ping = excluded.role_ping, \
             next_due = excluded.next_due, version = schedules.version + 1 \
             RETURNING ",
            schedule_columns!()
        );
        let row: ScheduleRow = with_pool!(self, pool => {
            sqlx::query_as(sql)
                .bind(id_to_db(new.guild_id))
                .bind(id_to_db(new.channel_id))
                .bind(&new.cron)
                .bind(&new.timezone)
                .bind(&new.bank_holidays)
                .bind(new.include_bullying)
                .bind(new.role_ping.map(id_to_db))
                .bind(&rotation)
                .bind(new.next_due.map(time_to_db))
                .bind(id_to_db(new.created_by))
                .bind(now)
                .fetch_one(pool)
                .await?
        });
        row.into_record()
    }

    pub async fn schedule_for_channel(
        &self,
        channel_id: u64,
    ) -> Result<Option<ScheduleRecord>, StoreError> {
        let sql = concat!(
            "SELECT ",
            schedule_columns!(),
            " FROM schedules WHERE channel_id = $1"
        );
        let row: Option<ScheduleRow> = with_pool!(self, pool => {
            sqlx::query_as(sql)
                .bind(id_to_db(channel_id))
                .fetch_optional(pool)
                .await?
        });
        row.map(ScheduleRow::into_record).transpose()
    }

    /// The guild's schedules, oldest first.
    pub async fn schedules_for_guild(
        &self,
        guild_id: u64,
    ) -> Result<Vec<ScheduleRecord>, StoreError> {
        let sql = concat!(
            "SELECT ",
            schedule_columns!(),
            " FROM schedules WHERE guild_id = $1 ORDER BY id"
        );
        let rows: Vec<ScheduleRow> = with_pool!(self, pool => {
            sqlx::query_as(sql)
                .bind(id_to_db(guild_id))
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(ScheduleRow::into_record).collect()
    }

    /// Removes the channel's schedule and its delivery ledger; false if it had none.
    pub async fn delete_schedule(&self, channel_id: u64) -> Result<bool, StoreError> {
        let sql = "DELETE FROM schedules WHERE channel_id = $1";
        let done = with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(id_to_db(channel_id))
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }

    /// Saves the rotation state and next slot after a post, but only if the schedule is still at
    /// `expected_version`: false means another process (or a settings change) wrote it first, and
    /// the caller should read it again. On success the version is `expected_version + 1`.
    pub async fn advance_rotation(
        &self,
        schedule_id: i64,
        expected_version: i64,
        state: &RotationState,
        next_due: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let rotation = rotation_json(state)?;
        let sql = "UPDATE schedules SET rotation = $1, next_due = $2, version = version + 1 \
                   WHERE id = $3 AND version = $4";
        let done = with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(&rotation)
                .bind(next_due.map(time_to_db))
                .bind(schedule_id)
                .bind(expected_version)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done == 1)
    }

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

const BOOKMARKS_SQL: &str =
    "SELECT prompt_id, created_at FROM bookmarks WHERE user_id = $1 ORDER BY created_at, id";

async fn connect_sqlite(url: &str, max_connections: u32) -> Result<Store, StoreError> {
    let fail = |reason: String| connect_error("sqlite", url, reason);
    let options = SqliteConnectOptions::from_str(url).map_err(|err| fail(err.to_string()))?;
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let pool_options = if in_memory {
        // An in-memory database lives only while a connection to it is open, so keep exactly one
        // connection for the store's whole life.
        SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    } else {
        SqlitePoolOptions::new().max_connections(max_connections)
    };
    let options = if in_memory {
        options
    } else {
        // Readers don't wait for the writer, and the writer doesn't wait for readers.
        options.journal_mode(SqliteJournalMode::Wal)
    };
    let pool = pool_options
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(|err| fail(err.to_string()))?;
    if let Err(err) = SQLITE_MIGRATIONS.run(&pool).await {
        pool.close().await;
        return Err(StoreError::Migrate(err));
    }
    tracing::debug!(backend = "sqlite", "database ready");
    Ok(Store {
        pool: Pool::Sqlite(pool),
    })
}

async fn connect_postgres(url: &str, max_connections: u32) -> Result<Store, StoreError> {
    let fail = |reason: String| connect_error("postgres", url, reason);
    let options = PgConnectOptions::from_str(url).map_err(|err| fail(err.to_string()))?;
    // One plain connection first: the pool retries a refused connection until its timeout and
    // then reports only that it timed out, while this reports why.
    let probe = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options)).await;
    match probe {
        Ok(Ok(connection)) => {
            if let Err(err) = connection.close().await {
                tracing::debug!(error = %err, "closing the probe connection failed");
            }
        }
        Ok(Err(err)) => return Err(fail(err.to_string())),
        Err(_) => {
            return Err(fail(format!(
                "no answer within {} seconds",
                CONNECT_TIMEOUT.as_secs()
            )))
        }
    }
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(|err| fail(err.to_string()))?;
    // Several processes may start at once: the migrator holds an advisory lock while it runs.
    if let Err(err) = POSTGRES_MIGRATIONS.run(&pool).await {
        pool.close().await;
        return Err(StoreError::Migrate(err));
    }
    tracing::debug!(backend = "postgres", "database ready");
    Ok(Store {
        pool: Pool::Postgres(pool),
    })
}

fn connect_error(backend: &'static str, url: &str, reason: String) -> StoreError {
    StoreError::Connect {
        backend,
        reason: format!("{}: {}", redact_url(url), scrub(url, &reason)),
    }
}

/// The URL with any password (`user:PASSWORD@host` or `?password=...`) replaced by `***`, for
/// logs and error messages.
pub fn redact_url(url: &str) -> String {
    let mut redacted = url.to_string();
    let mut spans = secret_spans(url);
    // Replace from the end so earlier spans keep their offsets.
    spans.sort_unstable_by_key(|span| std::cmp::Reverse(span.0));
    for (start, end) in spans {
        redacted.replace_range(start..end, "***");
    }
    redacted
}

/// Byte ranges of the passwords in a URL.
fn secret_spans(url: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let Some(scheme_end) = url.find("://") else {
        return spans;
    };
    let authority_start = scheme_end + 3;
    let rest = &url[authority_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    if let Some(at) = authority.rfind('@') {
        if let Some(colon) = authority[..at].find(':') {
            if colon + 1 < at {
                spans.push((authority_start + colon + 1, authority_start + at));
            }
        }
    }
    if let Some(query_start) = url.find('?') {
        let query_end = url[query_start..]
            .find('#')
            .map_or(url.len(), |hash| query_start + hash);
        let mut offset = query_start + 1;
        for pair in url[offset..query_end].split('&') {
            if let Some((key, value)) = pair.split_once('=') {
                if key.eq_ignore_ascii_case("password") && !value.is_empty() {
                    let start = offset + key.len() + 1;
                    spans.push((start, start + value.len()));
                }
            }
            offset += pair.len() + 1;
        }
    }
    spans
}

/// `text` with every password from `url` (as written, and percent-decoded) replaced by `***`.
fn scrub(url: &str, text: &str) -> String {
    let mut scrubbed = text.to_string();
    for (start, end) in secret_spans(url) {
        let raw = &url[start..end];
        for secret in [raw.to_string(), percent_decode(raw)] {
            if !secret.is_empty() {
                scrubbed = scrubbed.replace(&secret, "***");
            }
        }
    }
    scrubbed
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[index], hex) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                index += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// `user_settings (dm_opt_in, dm_opt_in_at)` as stored.
type SettingsRow = (bool, i64);
/// `bookmarks (prompt_id, created_at)` as stored.
type BookmarkRow = (String, i64);
/// `schedules (guild_id, channel_id, created_at)` as stored.
type CreatedRow = (i64, i64, i64);

/// A `schedules` row as stored; `into_record` turns it into Rust types.
#[derive(sqlx::FromRow)]
struct ScheduleRow {
    id: i64,
    guild_id: i64,
    channel_id: i64,
    cron: String,
    timezone: String,
    bank_holidays: String,
    include_bullying: bool,
    role_ping: Option<i64>,
    paused: bool,
    rotation: String,
    version: i64,
    next_due: Option<i64>,
    created_by: i64,
    created_at: i64,
}

impl ScheduleRow {
    fn into_record(self) -> Result<ScheduleRecord, StoreError> {
        let rotation = serde_json::from_str(&self.rotation).map_err(|err| {
            StoreError::Corrupt(format!(
                "schedule {} has a rotation state that is not valid: {err}",
                self.id
            ))
        })?;
        Ok(ScheduleRecord {
            id: self.id,
            guild_id: id_from_db(self.guild_id),
            channel_id: id_from_db(self.channel_id),
            cron: self.cron,
            timezone: self.timezone,
            bank_holidays: self.bank_holidays,
            include_bullying: self.include_bullying,
            role_ping: self.role_ping.map(id_from_db),
            paused: self.paused,
            rotation,
            version: self.version,
            next_due: self
                .next_due
                .map(|secs| time_from_db(secs, "schedules.next_due"))
                .transpose()?,
            created_by: id_from_db(self.created_by),
            created_at: time_from_db(self.created_at, "schedules.created_at")?,
        })
    }
}

fn bookmark_from_row((prompt_id, created_at): BookmarkRow) -> Result<Bookmark, StoreError> {
    Ok(Bookmark {
        prompt_id,
        created_at: time_from_db(created_at, "bookmarks.created_at")?,
    })
}

fn rotation_json(state: &RotationState) -> Result<String, StoreError> {
    serde_json::to_string(state)
        .map_err(|err| StoreError::Corrupt(format!("cannot write a rotation state: {err}")))
}

/// A Discord id as stored: the same 64 bits, read as signed. Lossless for every `u64`.
fn id_to_db(id: u64) -> i64 {
    i64::from_ne_bytes(id.to_ne_bytes())
}

fn id_from_db(stored: i64) -> u64 {
    u64::from_ne_bytes(stored.to_ne_bytes())
}

/// Whole unix seconds; anything below a second is dropped.
fn time_to_db(at: DateTime<Utc>) -> i64 {
    at.timestamp()
}

fn time_from_db(secs: i64, column: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp(secs, 0)
        .ok_or_else(|| StoreError::Corrupt(format!("{column} holds {secs}, which is not a time")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_signed_storage() {
        for id in [
            0,
            1,
            1_234_567_890_123_456_789,
            i64::MAX as u64,
            1 << 63,
            u64::MAX,
        ] {
            assert_eq!(id_from_db(id_to_db(id)), id);
        }
        assert_eq!(
            id_to_db(1_234_567_890_123_456_789),
            1_234_567_890_123_456_789
        );
        assert_eq!(id_to_db(u64::MAX), -1);
    }

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            redact_url("postgres://postgres:sekrit@127.0.0.1:1/x"),
            "postgres://postgres:***@127.0.0.1:1/x"
        );
        assert_eq!(
            redact_url("postgres://me@db/x?sslmode=require&password=p%40ss&x=1"),
            "postgres://me@db/x?sslmode=require&password=***&x=1"
        );
        assert_eq!(
            redact_url("postgresql://a:b@c@host/db?Password=z#frag"),
            "postgresql://a:***@host/db?Password=***#frag"
        );
        assert_eq!(redact_url("postgres://me@db/x"), "postgres://me@db/x");
        assert_eq!(redact_url("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(
            redact_url("sqlite://data/careprompt.db?mode=rwc"),
            "sqlite://data/careprompt.db?mode=rwc"
        );
    }

    #[test]
    fn scrub_hides_encoded_and_decoded_passwords() {
        let url = "postgres://u:p%40ss@host/db";
        assert_eq!(
            scrub(url, "failed for p@ss and p%40ss"),
            "failed for *** and ***"
        );
        assert_eq!(scrub("postgres://u@host/db", "nothing"), "nothing");
    }

    #[test]
    fn percent_decoding_leaves_broken_escapes_alone() {
        assert_eq!(percent_decode("a%20b%zz%4"), "a b%zz%4");
    }

    async fn memory() -> Store {
        match Store::connect("sqlite::memory:", 4).await {
            Ok(store) => store,
            Err(err) => panic!("in-memory SQLite opens: {err}"),
        }
    }

    #[tokio::test]
    async fn a_corrupt_rotation_state_is_reported_not_guessed() {
        let store = memory().await;
        let Pool::Sqlite(pool) = &store.pool else {
            panic!("sqlite::memory: is SQLite");
        };
        sqlx::query(
            "INSERT INTO schedules (guild_id, channel_id, cron, timezone, bank_holidays, \
             include_bullying, rotation, created_by, created_at) \
             VALUES (1, 2, '0 9 * * MON', 'Europe/London', 'none', FALSE, '{not json', 3, 0)",
        )
        .execute(pool)
        .await
        .expect("raw insert");
        match store.schedule_for_channel(2).await {
            Err(StoreError::Corrupt(message)) => assert!(message.contains("rotation"), "{message}"),
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_slot_can_be_claimed_once_and_goes_with_its_schedule() {
        let store = memory().await;
        let schedule = store
            .upsert_schedule(
                &NewSchedule {
                    guild_id: 1,
                    channel_id: 2,
                    cron: "0 9 * * MON".into(),
                    timezone: "Europe/London".into(),
                    bank_holidays: "none".into(),
                    include_bullying: false,
                    role_ping: None,
                    created_by: 3,
                    seed: 4,
                    next_due: None,
                },
                Utc::now(),
            )
            .await
            .expect("upsert");
        let Pool::Sqlite(pool) = &store.pool else {
            panic!("sqlite::memory: is SQLite");
        };
        let claim = "INSERT INTO deliveries (schedule_id, slot_at, state, claimed_by, claimed_at, \
                     nonce) VALUES ($1, 1000, 'claimed', 'shard-0', 990, 'n1')";
        sqlx::query(claim)
            .bind(schedule.id)
            .execute(pool)
            .await
            .expect("first claim");
        assert!(sqlx::query(claim)
            .bind(schedule.id)
            .execute(pool)
            .await
            .is_err());
        assert!(sqlx::query(
            "INSERT INTO deliveries (schedule_id, slot_at, state) VALUES ($1, 2000, 'lost')"
        )
        .bind(schedule.id)
        .execute(pool)
        .await
        .is_err());
        assert!(store.delete_schedule(2).await.expect("delete"));
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM deliveries")
            .fetch_one(pool)
            .await
            .expect("count");
        assert_eq!(left, 0);
    }

    #[tokio::test]
    async fn unknown_schemes_are_refused_by_name() {
        match Store::connect("mysql://root:hunter2@db/x", 1).await {
            Err(StoreError::Connect { backend, reason }) => {
                assert_eq!(backend, "unknown");
                assert!(!reason.contains("hunter2"), "{reason}");
                assert!(reason.contains("sqlite://"), "{reason}");
            }
            other => panic!("expected Connect, got {other:?}"),
        }
    }
}
