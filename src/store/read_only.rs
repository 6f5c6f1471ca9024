//! A database opened to read, never to change: no migrations, and a connection the database
//! itself holds to reading (SQLite's read-only mode, PostgreSQL's read-only transactions), so a
//! write anywhere in careprompt fails rather than happens. `careprompt try --database` reads what
//! a database holds before it uses it, and `careprompt insights` reads its figures this way.
//!
//! Also the mark `try` leaves in a database it made (`made_by_try`, migration 0009).

use std::collections::BTreeSet;
use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

use super::{
    connect_error, id_from_db, probe_postgres, time_to_db, Pool, Store, StoreError,
    CONNECT_TIMEOUT, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS,
};

/// sqlx's record of the migrations applied, which holds nothing of anyone's.
const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

/// The table `try` marks its databases in.
const TRY_MARK_TABLE: &str = "made_by_try";

/// Rows counted in one table at most: enough to say "many".
pub const ROWS_COUNTED: u64 = 10_000;

/// Servers listed at most.
pub const SERVERS_LISTED: usize = 20;

/// What a database holds, as [`Store::contents`] read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contents {
    /// Each table holding rows, with how many (up to [`ROWS_COUNTED`]); sqlx's record of
    /// migrations and `try`'s mark are not counted.
    pub tables: Vec<(String, u64)>,
    /// The servers (guilds) any table names, in order, up to [`SERVERS_LISTED`].
    pub servers: Vec<u64>,
    /// The careprompt processes the `workers` table names.
    pub workers: Vec<String>,
    /// Whether `careprompt try` marked the database as one it made.
    pub made_by_try: bool,
}

impl Contents {
    /// Nothing at all: no rows in any table (perhaps no tables).
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }
}

impl Store {
    /// Opens the database at `url` to read only, without bringing its tables up to date. `None`
    /// when there is none yet: a SQLite file that does not exist (which this does not create), or
    /// an in-memory database.
    pub async fn open_read_only(url: &str) -> Result<Option<Store>, StoreError> {
        let scheme = url.split(':').next().unwrap_or_default();
        match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => open_sqlite_read_only(url).await,
            "postgres" | "postgresql" => open_postgres_read_only(url).await.map(Some),
            // Store::connect's error, which names the schemes careprompt knows.
            _ => Store::connect(url, 1).await.map(Some),
        }
    }

    /// What the database holds, read from its catalogue rather than from a list of
    /// careprompt's tables, so that it is the same whichever careprompt's migrations made them.
    pub async fn contents(&self) -> Result<Contents, StoreError> {
        let sqlite = matches!(self.pool, Pool::Sqlite(_));
        let (tables_sql, guild_tables_sql) = if sqlite {
            (
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
                 ORDER BY name",
                "SELECT m.name FROM sqlite_schema m, pragma_table_info(m.name) c \
                 WHERE m.type = 'table' AND c.name = 'guild_id' ORDER BY m.name",
            )
        } else {
            (
                "SELECT table_name::TEXT FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
                 ORDER BY table_name",
                "SELECT c.table_name::TEXT FROM information_schema.columns c \
                 JOIN information_schema.tables t ON t.table_schema = c.table_schema \
                 AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE' \
                 WHERE c.table_schema = current_schema() AND c.column_name = 'guild_id' \
                 ORDER BY c.table_name",
            )
        };
        let (names, guild_tables): (Vec<String>, Vec<String>) = with_pool!(self, pool => {
            (
                sqlx::query_scalar(tables_sql).fetch_all(pool).await?,
                sqlx::query_scalar(guild_tables_sql).fetch_all(pool).await?,
            )
        });
        let mut contents = Contents::default();
        let mut servers = BTreeSet::new();
        for name in names {
            let table = quoted(&name);
            let rows: i64 = with_pool!(self, pool => {
                sqlx::query_scalar(&format!(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM {table} LIMIT {ROWS_COUNTED}) r"
                ))
                .fetch_one(pool)
                .await?
            });
            if rows == 0 || name == MIGRATIONS_TABLE {
                continue;
            }
            if name == TRY_MARK_TABLE {
                contents.made_by_try = true;
                continue;
            }
            if guild_tables.contains(&name) {
                let ids: Vec<i64> = with_pool!(self, pool => {
                    sqlx::query_scalar(&format!(
                        "SELECT DISTINCT guild_id FROM {table} WHERE guild_id IS NOT NULL \
                         ORDER BY guild_id LIMIT {SERVERS_LISTED}"
                    ))
                    .fetch_all(pool)
                    .await?
                });
                servers.extend(ids.into_iter().map(id_from_db));
            }
            if name == "workers" {
                contents.workers = with_pool!(self, pool => {
                    sqlx::query_scalar("SELECT claimer FROM workers ORDER BY claimer")
                        .fetch_all(pool)
                        .await?
                });
            }
            contents
                .tables
                .push((name, u64::try_from(rows).unwrap_or_default()));
        }
        contents.servers = servers.into_iter().take(SERVERS_LISTED).collect();
        Ok(contents)
    }

    /// Refuses a database whose tables are not exactly those of this careprompt: one made by a
    /// newer careprompt, or one not brought up to date, which a read-only store cannot do.
    pub async fn ensure_up_to_date(&self) -> Result<(), StoreError> {
        let (migrator, exists_sql): (&Migrator, &str) = match self.pool {
            Pool::Sqlite(_) => (
                &SQLITE_MIGRATIONS,
                "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = $1",
            ),
            Pool::Postgres(_) => (
                &POSTGRES_MIGRATIONS,
                "SELECT COUNT(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = $1",
            ),
        };
        let recorded: i64 = with_pool!(self, pool => {
            sqlx::query_scalar(exists_sql)
                .bind(MIGRATIONS_TABLE)
                .fetch_one(pool)
                .await?
        });
        let applied: Vec<i64> = if recorded > 0 {
            with_pool!(self, pool => {
                sqlx::query_scalar(&format!(
                    "SELECT version FROM {MIGRATIONS_TABLE} WHERE success ORDER BY version"
                ))
                .fetch_all(pool)
                .await?
            })
        } else {
            Vec::new()
        };
        let known: Vec<i64> = migrator.iter().map(|migration| migration.version).collect();
        if let Some(newer) = applied.iter().find(|version| !known.contains(version)) {
            return Err(StoreError::NewerSchema(*newer));
        }
        match known.iter().find(|version| !applied.contains(version)) {
            Some(missing) => Err(StoreError::OlderSchema(*missing)),
            None => Ok(()),
        }
    }

    /// Marks the database as one `careprompt try` made.
    pub async fn mark_made_by_try(&self, at: DateTime<Utc>) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO made_by_try (id, made_at) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
            )
            .bind(time_to_db(at))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Takes `try`'s mark off: `careprompt run` uses the database for real.
    pub async fn unmark_made_by_try(&self) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM made_by_try").execute(pool).await?;
        });
        Ok(())
    }
}

/// A table's name as an SQL identifier, quoted (both backends quote with `"`).
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

async fn open_sqlite_read_only(url: &str) -> Result<Option<Store>, StoreError> {
    let fail = |reason: String| connect_error("sqlite", url, reason);
    let options = SqliteConnectOptions::from_str(url).map_err(|err| fail(err.to_string()))?;
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let file = options.get_filename().to_path_buf();
    if in_memory || !file.exists() {
        return Ok(None);
    }
    // With no write-ahead log or rollback journal beside it, no careprompt has the file open
    // (careprompt keeps its log while it runs), and everything committed is in the file itself:
    // read as immutable, SQLite takes no locks and makes no files beside it, which even a
    // read-only connection to a file in WAL mode otherwise does (`-wal` and `-shm`).
    let quiet = !with_suffix(&file, "-wal").exists() && !with_suffix(&file, "-journal").exists();
    let options = options
        .read_only(true)
        .create_if_missing(false)
        .immutable(quiet);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(|err| fail(err.to_string()))?;
    Ok(Some(Store::new(Pool::Sqlite(pool))))
}

fn with_suffix(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

async fn open_postgres_read_only(url: &str) -> Result<Store, StoreError> {
    let fail = |reason: String| connect_error("postgres", url, reason);
    let options = PgConnectOptions::from_str(url)
        .map_err(|err| fail(err.to_string()))?
        // Every transaction of every connection reads only; PostgreSQL refuses any write.
        .options([("default_transaction_read_only", "on")]);
    probe_postgres(&options, &fail).await?;
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(|err| fail(err.to_string()))?;
    Ok(Store::new(Pool::Postgres(pool)))
}
