//! Everything careprompt keeps: channel schedules with their rotation state and delivery ledger,
//! and what it holds about a person (their DM opt-ins, muted themes, DM ledger and bookmarks),
//! which they can export and erase.
//!
//! One `Store` type talks to SQLite or PostgreSQL, chosen by the URL, with the same SQL on both
//! (`$1` placeholders work on both). All SQL lives in this module, one file per group of tables;
//! queries are checked at run time, not against a database at build time. Migrations are
//! embedded and run at connect.
//!
//! Storage conventions, the same on both backends:
//! - Discord ids (snowflakes, `u64`) are `BIGINT` holding the id's 64 bits as a signed integer:
//!   real snowflakes (below 2^63) read as themselves in SQL, and every `u64` round-trips.
//! - A place or person of another platform is keyed by the number its row in `places` or
//!   `people` has (see `places`). Every table keyed by a server, channel or person has a
//!   `platform` column saying whose key it is, and a key is unique per platform. The queries
//!   behind the methods that take a Discord id read and write Discord's rows only.
//! - Times are `BIGINT` unix seconds, UTC; anything below a second is dropped.
//! - A schedule's rotation state is `rotation::RotationState` as JSON text.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serializer;

use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::Connection;

use crate::domain::rotation::RotationState;

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

mod bookmarks;
mod deliveries;
mod departed;
mod dms;
mod insights;
mod my_data;
mod optins;
mod places;
mod read_only;
mod redact;
mod saves;
mod schedules;
mod sessions;
mod shards;
mod workers;

pub use bookmarks::{Bookmark, BookmarkKind, NewBookmark, Saved, BOOKMARK_LIMIT};
pub use deliveries::{
    dm_nonce_for, nonce_for, Claim, ClaimOutcome, Delivery, DeliveryKind, DeliveryState, DuePick,
    Recorded,
};
pub use departed::Purged;
pub use dms::{DmDelivery, DmState, DmStatus, PendingFanOut};
pub use my_data::{Erased, SessionRun, UserExport};
pub use optins::{DmOptIn, ThemeMute};
pub use places::{
    PersonReach, PersonRecord, PersonSeen, PlaceKind, PlaceReach, PlaceRecord, PlaceSeen,
};
pub use read_only::{Contents, ROWS_COUNTED, SERVERS_LISTED};
pub use redact::redact_url;
pub use saves::Usage;
pub use schedules::{
    CreatedSchedule, DueSchedules, GuildSchedules, NewSchedule, ScheduleRecord, UnreadableSchedule,
};
pub use sessions::{session_nonce, NewSession, SessionRecord, SessionStart, StagePost};
pub use workers::{Worker, WorkerRecord};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Each SQLite connection's page cache, as SQLite takes it: a negative size is in KiB.
const SQLITE_CACHE_KIB: &str = "-512";

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
    #[error(
        "the database was set up by a newer careprompt (it has change {0}, which this version \
         does not know): run that newer version, or a backup of the database made for this one"
    )]
    NewerSchema(i64),
    #[error(
        "the database is not up to date for this careprompt (it lacks change {0}): run \
         `careprompt migrate` first"
    )]
    OlderSchema(i64),
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("the database holds something careprompt cannot read: {0}")]
    Corrupt(String),
    #[error("schedule {} can no longer be read: {}", .0.id, .0.reason)]
    Unreadable(UnreadableSchedule),
    /// A platform gave an id that is not one of its own (for Discord, not a snowflake).
    #[error("{0:?} is not an id of that platform")]
    NotAnId(String),
}

fn id_as_string<S: Serializer>(id: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(id)
}

/// The database, SQLite or PostgreSQL. Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    /// Saves waiting to be written together (see `saves`).
    saves: Arc<saves::Saves>,
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
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
    fn new(pool: Pool) -> Store {
        Store {
            pool,
            saves: Arc::default(),
        }
    }

    /// Connects and brings the tables up to date. `url` is `sqlite://FILE?mode=rwc` (`mode=rwc`
    /// creates the file), `sqlite::memory:` (gone when the store closes; for trials and tests)
    /// or `postgres://USER:PASSWORD@HOST/DATABASE`. Errors name the backend and never show the
    /// password.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        let max_connections = max_connections.max(1);
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => connect_sqlite(url).await,
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

    /// Whether the database answers, for `/readyz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Waits for queries in flight, then closes every connection.
    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await)
    }
}

async fn connect_sqlite(url: &str) -> Result<Store, StoreError> {
    let fail = |reason: String| connect_error("sqlite", url, reason);
    let options = SqliteConnectOptions::from_str(url).map_err(|err| fail(err.to_string()))?;
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    // One connection for the store's whole life. An in-memory database lives only while a
    // connection to it is open. A file lets one writer in at a time, and a second connection
    // that wants to write waits by sleeping and polling (up to 100 ms a turn), which is what made
    // Save's slowest answers slow under load; reads take microseconds, so queueing everything on
    // one connection costs them nothing, and there is one page cache and one thread instead of
    // one per connection.
    let pool_options = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        // A connection to a file on this machine does not drop: no round trip to the
        // connection's thread to check it before each use.
        .test_before_acquire(false);
    let options = if in_memory {
        options
    } else {
        // Readers (the `sqlite3` shell, a backup) don't wait for the writer, and the writer doesn't
        // wait for them. careprompt reads a few rows at a time by index, and the operating system
        // caches the file anyway, so SQLite's own page cache can be small.
        options
            .journal_mode(SqliteJournalMode::Wal)
            .pragma("cache_size", SQLITE_CACHE_KIB)
    };
    let pool = pool_options
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(|err| fail(err.to_string()))?;
    if let Err(err) = SQLITE_MIGRATIONS.run(&pool).await {
        pool.close().await;
        return Err(migrate_error(err));
    }
    tracing::debug!(backend = "sqlite", "database ready");
    Ok(Store::new(Pool::Sqlite(pool)))
}

async fn connect_postgres(url: &str, max_connections: u32) -> Result<Store, StoreError> {
    let fail = |reason: String| connect_error("postgres", url, reason);
    let options = PgConnectOptions::from_str(url).map_err(|err| fail(err.to_string()))?;
    probe_postgres(&options, &fail).await?;
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(|err| fail(err.to_string()))?;
    // Several processes may start at once: the migrator holds an advisory lock while it runs.
    if let Err(err) = POSTGRES_MIGRATIONS.run(&pool).await {
        pool.close().await;
        return Err(migrate_error(err));
    }
    tracing::debug!(backend = "postgres", "database ready");
    Ok(Store::new(Pool::Postgres(pool)))
}

/// One plain connection first: the pool retries a refused connection until its timeout and then
/// reports only that it timed out, while this reports why.
async fn probe_postgres(
    options: &PgConnectOptions,
    fail: &impl Fn(String) -> StoreError,
) -> Result<(), StoreError> {
    let probe = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(options)).await;
    match probe {
        Ok(Ok(connection)) => {
            if let Err(err) = connection.close().await {
                tracing::debug!(error = %err, "closing the probe connection failed");
            }
            Ok(())
        }
        Ok(Err(err)) => Err(fail(err.to_string())),
        Err(_) => Err(fail(format!(
            "no answer within {} seconds",
            CONNECT_TIMEOUT.as_secs()
        ))),
    }
}

fn connect_error(backend: &'static str, url: &str, reason: String) -> StoreError {
    StoreError::Connect {
        backend,
        reason: format!("{}: {}", redact_url(url), redact::scrub(url, &reason)),
    }
}

/// A migration the database has but this binary lacks means a newer careprompt wrote it, and
/// this one must not touch it.
fn migrate_error(err: MigrateError) -> StoreError {
    match err {
        MigrateError::VersionMissing(version) => StoreError::NewerSchema(version),
        other => StoreError::Migrate(other),
    }
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
                    settings: crate::domain::settings::ScheduleSettings::parse(
                        "0 9 * * MON",
                        "Europe/London",
                        "none",
                        false,
                    )
                    .expect("valid settings"),
                    role_ping: None,
                    thread: false,
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
