//! Migrations carry a database made by an earlier careprompt across row for row, on both
//! backends.
//!
//! `tests/fixtures/main-0009/` holds every row of a database that careprompt made through its own
//! store when migration 0009 was its newest (`populate` below, run by that careprompt with
//! `CAREPROMPT_WRITE_MIGRATION_FIXTURE=1`), one file per backend. A test builds the tables of that
//! time with migrations 0001 to 0009 only, loads the rows, reads every row of every table, brings
//! the database up to date as careprompt does when it starts, and reads them all again: every
//! table is still there with every row, every old column holds what it held, and a column a later
//! migration added holds its default.

use std::collections::BTreeMap;
use std::path::PathBuf;

use careprompt::domain::holidays::BankHoliday;
use careprompt::domain::insights::UsageKind;
use careprompt::domain::planning::DuePlan;
use careprompt::domain::rotation::{Pick, RotationState};
use careprompt::domain::settings::ScheduleSettings;
use careprompt::domain::shards::ShardRange;
use careprompt::store::{
    BookmarkKind, Claim, ClaimOutcome, DeliveryKind, DeliveryState, DmState, DuePick, NewBookmark,
    NewSchedule, NewSession, Recorded, SessionStart, StagePost, Store, Usage, Worker,
    BOOKMARK_LIMIT,
};
use chrono::{DateTime, TimeZone, Utc};
use sqlx::migrate::Migrator;
use sqlx::{Connection, PgConnection, Row, SqliteConnection};

use crate::store::{
    postgres_admin, postgres_base_url, remove_sqlite_files, unique_name, with_database,
};
use crate::support::databases;

/// Set to write the fixture afresh from `populate`, on the code of the time it describes.
const WRITE_ENV: &str = "CAREPROMPT_WRITE_MIGRATION_FIXTURE";

/// The newest migration of the database the fixture holds.
const FIXTURE_VERSION: i64 = 9;

/// The columns added since the fixture was made, per table, and the value each must hold in a
/// row carried across (as the backend's quoting function writes it).
const ADDED_COLUMNS: &[(&str, &str, &str)] = &[
    ("bookmarks", "platform", "'discord'"),
    ("departed_guilds", "platform", "'discord'"),
    ("dm_deliveries", "platform", "'discord'"),
    ("dm_optins", "platform", "'discord'"),
    ("dm_status", "platform", "'discord'"),
    ("insight_secrets", "platform", "'discord'"),
    ("schedules", "platform", "'discord'"),
    ("session_counts", "platform", "'discord'"),
    ("session_roles", "platform", "'discord'"),
    ("sessions", "platform", "'discord'"),
    ("theme_mutes", "platform", "'discord'"),
    ("usage_counts", "platform", "'discord'"),
    ("usage_events", "platform", "'discord'"),
    ("usage_people", "platform", "'discord'"),
    ("usage_weeks", "platform", "'discord'"),
];

/// The tables added since the fixture was made: they start empty.
const ADDED_TABLES: &[&str] = &["people", "places"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    fn fixture(self) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/main-0009")
            .join(format!("{}.sql", self.name()))
    }

    /// The backend's function writing any value as an SQL literal that reads back as it.
    fn quote(self) -> &'static str {
        match self {
            Backend::Sqlite => "quote",
            Backend::Postgres => "quote_nullable",
        }
    }
}

/// A database of its own for one test, removed when the test is done with it.
struct Scratch {
    backend: Backend,
    url: String,
    sqlite_path: Option<PathBuf>,
    postgres_name: Option<String>,
}

impl Scratch {
    async fn new(backend: Backend) -> Scratch {
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
                Scratch {
                    backend,
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    sqlite_path: Some(path),
                    postgres_name: None,
                }
            }
            Backend::Postgres => {
                let base = postgres_base_url();
                let mut admin = postgres_admin(&base).await;
                let name = unique_name();
                databases::create_marked(&mut admin, &name)
                    .await
                    .unwrap_or_else(|err| panic!("{err}"));
                let _ = admin.close().await;
                Scratch {
                    backend,
                    url: with_database(&base, &name),
                    sqlite_path: None,
                    postgres_name: Some(name),
                }
            }
        }
    }

    async fn connect(&self) -> Conn {
        match self.backend {
            Backend::Sqlite => Conn::Sqlite(
                SqliteConnection::connect(&self.url)
                    .await
                    .expect("the scratch SQLite file opens"),
            ),
            Backend::Postgres => Conn::Postgres(
                PgConnection::connect(&self.url)
                    .await
                    .expect("the scratch PostgreSQL database opens"),
            ),
        }
    }

    async fn remove(self) {
        if let Some(path) = &self.sqlite_path {
            remove_sqlite_files(path);
        }
        if let Some(name) = &self.postgres_name {
            let mut admin = postgres_admin(&postgres_base_url()).await;
            if let Err(err) = databases::drop_marked(&mut admin, name).await {
                eprintln!("{err}");
            }
            let _ = admin.close().await;
        }
    }
}

/// A plain connection, outside the store, to read and write whatever the tables hold.
enum Conn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl Conn {
    /// Every row `sql` gives, each column read as text (NULL as `None`).
    async fn texts(&mut self, sql: &str) -> Vec<Vec<Option<String>>> {
        fn cells<R: Row>(row: &R) -> Vec<Option<String>>
        where
            for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
            usize: sqlx::ColumnIndex<R>,
        {
            (0..row.len())
                .map(|i| row.try_get(i).expect("a text column"))
                .collect()
        }
        match self {
            Conn::Sqlite(conn) => sqlx::query(sql)
                .fetch_all(conn)
                .await
                .unwrap_or_else(|err| panic!("{sql}: {err}"))
                .iter()
                .map(cells)
                .collect(),
            Conn::Postgres(conn) => sqlx::query(sql)
                .fetch_all(conn)
                .await
                .unwrap_or_else(|err| panic!("{sql}: {err}"))
                .iter()
                .map(cells)
                .collect(),
        }
    }

    async fn names(&mut self, sql: &str) -> Vec<String> {
        self.texts(sql)
            .await
            .into_iter()
            .filter_map(|row| row.into_iter().next().flatten())
            .collect()
    }

    /// Runs several statements.
    async fn script(&mut self, sql: &str) {
        self.try_script(sql)
            .await
            .unwrap_or_else(|err| panic!("running {sql}: {err}"));
    }

    /// Runs several statements, saying whether the database took them.
    async fn try_script(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        match self {
            Conn::Sqlite(conn) => sqlx::raw_sql(sql).execute(conn).await.map(|_| ()),
            Conn::Postgres(conn) => sqlx::raw_sql(sql).execute(conn).await.map(|_| ()),
        }
    }

    /// Brings the tables up to migration `last`, and no further.
    async fn migrate_to(&mut self, last: i64) {
        let mut migrator = match self {
            Conn::Sqlite(_) => sqlx::migrate!("./migrations/sqlite"),
            Conn::Postgres(_) => sqlx::migrate!("./migrations/postgres"),
        };
        let wanted: Vec<_> = migrator
            .migrations
            .iter()
            .filter(|migration| migration.version <= last)
            .cloned()
            .collect();
        assert_eq!(
            wanted.last().map(|migration| migration.version),
            Some(last),
            "migration {last} is there"
        );
        migrator.migrations = wanted.into();
        run_migrator(&migrator, self).await;
    }

    async fn close(self) {
        let _ = match self {
            Conn::Sqlite(conn) => conn.close().await,
            Conn::Postgres(conn) => conn.close().await,
        };
    }
}

async fn run_migrator(migrator: &Migrator, conn: &mut Conn) {
    match conn {
        Conn::Sqlite(conn) => migrator.run(conn).await,
        Conn::Postgres(conn) => migrator.run(conn).await,
    }
    .unwrap_or_else(|err| panic!("migrating: {err}"));
}

/// A table's columns, in order, and its rows (each value as its SQL literal), sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Table {
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// What the database holds: every table but sqlx's own record of migrations, by name. SQLite's
/// `sqlite_sequence` (the last id each AUTOINCREMENT table issued) is among them, and on
/// PostgreSQL the identity sequences are, as the table `pg_sequences`, so an id is never issued
/// twice after a migration.
async fn snapshot(conn: &mut Conn, backend: Backend) -> BTreeMap<String, Table> {
    let tables = match backend {
        Backend::Sqlite => {
            conn.names(
                "SELECT name FROM sqlite_schema WHERE type = 'table' \
                 AND name <> '_sqlx_migrations' ORDER BY name",
            )
            .await
        }
        Backend::Postgres => {
            conn.names(
                "SELECT table_name::TEXT FROM information_schema.tables \
                 WHERE table_schema = 'public' AND table_type = 'BASE TABLE' \
                 AND table_name <> '_sqlx_migrations' ORDER BY table_name",
            )
            .await
        }
    };
    let mut snapshot = BTreeMap::new();
    for table in tables {
        let columns = match backend {
            Backend::Sqlite => {
                conn.names(&format!(
                    "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
                ))
                .await
            }
            Backend::Postgres => {
                conn.names(&format!(
                    "SELECT column_name::TEXT FROM information_schema.columns \
                     WHERE table_schema = 'public' AND table_name = '{table}' \
                     ORDER BY ordinal_position"
                ))
                .await
            }
        };
        let rows = rows_of(conn, backend, &table, &columns).await;
        snapshot.insert(table, Table { columns, rows });
    }
    if backend == Backend::Postgres {
        let rows = conn
            .texts(
                "SELECT sequencename::TEXT, last_value::TEXT FROM pg_sequences \
                 WHERE schemaname = 'public'",
            )
            .await;
        let mut rows: Vec<Vec<String>> = rows
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|cell| cell.unwrap_or_else(|| "NULL".to_string()))
                    .collect()
            })
            .collect();
        rows.sort();
        snapshot.insert(
            "pg_sequences".to_string(),
            Table {
                columns: vec!["sequencename".to_string(), "last_value".to_string()],
                rows,
            },
        );
    }
    snapshot
}

/// The rows of `columns` of `table`, each value as its SQL literal, sorted.
async fn rows_of(
    conn: &mut Conn,
    backend: Backend,
    table: &str,
    columns: &[String],
) -> Vec<Vec<String>> {
    let quoted: Vec<String> = columns
        .iter()
        .map(|column| format!("{}(\"{column}\")", backend.quote()))
        .collect();
    let sql = format!("SELECT {} FROM \"{table}\"", quoted.join(", "));
    let mut rows: Vec<Vec<String>> = conn
        .texts(&sql)
        .await
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|cell| cell.unwrap_or_else(|| "NULL".to_string()))
                .collect()
        })
        .collect();
    rows.sort();
    rows
}

/// Loads the fixture into a database brought up to its migration, and reads it back.
async fn load_fixture(scratch: &Scratch) -> BTreeMap<String, Table> {
    let rows = std::fs::read_to_string(scratch.backend.fixture())
        .unwrap_or_else(|err| panic!("reading {}: {err}", scratch.backend.fixture().display()));
    let mut conn = scratch.connect().await;
    conn.migrate_to(FIXTURE_VERSION).await;
    conn.script(&rows).await;
    let loaded = snapshot(&mut conn, scratch.backend).await;
    conn.close().await;
    loaded
}

/// The case: the fixture's database, brought up to date by careprompt's own start-up, holds
/// every row it held.
async fn a_database_made_by_an_earlier_careprompt_is_carried_across(backend: Backend) {
    if std::env::var_os(WRITE_ENV).is_some() {
        write_fixture(backend).await;
    }
    let scratch = Scratch::new(backend).await;
    let before = load_fixture(&scratch).await;
    for (table, contents) in &before {
        assert!(
            !contents.rows.is_empty(),
            "the fixture holds rows in every table, but none in {table}"
        );
    }

    let store = Store::connect(&scratch.url, 2)
        .await
        .unwrap_or_else(|err| panic!("careprompt opens the old database: {err}"));
    store.close().await;

    let mut conn = scratch.connect().await;
    let after = snapshot(&mut conn, backend).await;
    for (table, old) in &before {
        let Some(new) = after.get(table) else {
            panic!("{table} is gone after the migrations");
        };
        if table == "pg_sequences" {
            // The sequences there were, each where it was; a new table's is new.
            let kept: Vec<Vec<String>> = new
                .rows
                .iter()
                .filter(|row| old.rows.iter().any(|before| before[0] == row[0]))
                .cloned()
                .collect();
            assert_eq!(&kept, &old.rows, "every sequence is where it was");
            continue;
        }
        for column in &old.columns {
            assert!(
                new.columns.contains(column),
                "{table}.{column} is gone after the migrations"
            );
        }
        let added: Vec<&String> = new
            .columns
            .iter()
            .filter(|column| !old.columns.contains(column))
            .collect();
        let expected: Vec<&str> = ADDED_COLUMNS
            .iter()
            .filter(|(t, _, _)| t == table)
            .map(|(_, column, _)| *column)
            .collect();
        assert_eq!(
            added, expected,
            "{table} gained exactly the columns expected"
        );
        // The old columns, row for row.
        let kept = rows_of(&mut conn, backend, table, &old.columns).await;
        assert_eq!(
            &kept, &old.rows,
            "{table} holds the same rows after the migrations"
        );
        // And every new column holds its default in every row carried across.
        for (_, column, default) in ADDED_COLUMNS.iter().filter(|(t, _, _)| t == table) {
            let values = rows_of(&mut conn, backend, table, &[column.to_string()]).await;
            assert_eq!(values.len(), old.rows.len());
            assert!(
                values.iter().all(|row| row == &[default.to_string()]),
                "{table}.{column} holds {default} in every old row: {values:?}"
            );
        }
    }
    for (table, contents) in &after {
        if before.contains_key(table) {
            continue;
        }
        assert!(
            ADDED_TABLES.contains(&table.as_str()),
            "{table} is a table no migration was expected to add"
        );
        assert!(contents.rows.is_empty(), "{table} starts empty");
    }
    for table in ADDED_TABLES {
        assert!(after.contains_key(*table), "{table} was added");
    }
    keys_are_unique_per_platform(&mut conn, &after).await;
    conn.close().await;
    scratch.remove().await;
}

/// Every table keyed by a platform's ids takes the same keys again under another platform, and
/// refuses them again under the same one.
async fn keys_are_unique_per_platform(conn: &mut Conn, tables: &BTreeMap<String, Table>) {
    for (table, _, _) in ADDED_COLUMNS {
        // Ids the database issues are left to it.
        let columns: Vec<&str> = tables[*table]
            .columns
            .iter()
            .map(String::as_str)
            .filter(|column| !["id", "platform"].contains(column))
            .collect();
        let copy = |platform: &str| {
            format!(
                "INSERT INTO {table} ({columns}, platform) SELECT {columns}, '{platform}' \
                 FROM {table} WHERE platform = 'discord'",
                columns = columns.join(", ")
            )
        };
        conn.script(&copy("teams")).await;
        assert!(
            conn.try_script(&copy("discord")).await.is_err(),
            "{table} takes a Discord key twice"
        );
    }
}

#[tokio::test]
async fn sqlite_a_database_made_by_an_earlier_careprompt_is_carried_across() {
    a_database_made_by_an_earlier_careprompt_is_carried_across(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres_a_database_made_by_an_earlier_careprompt_is_carried_across() {
    a_database_made_by_an_earlier_careprompt_is_carried_across(Backend::Postgres).await;
}

// ---- writing the fixture ---------------------------------------------------------------------

/// Tables whose rows others refer to, first; the rest follow by name.
const PARENTS_FIRST: &[&str] = &["schedules", "deliveries", "sessions"];

/// Makes a database with careprompt's store, as a real install fills it, and writes its rows as
/// the fixture: plain INSERTs, parents first, then the ids each table has issued so far.
async fn write_fixture(backend: Backend) {
    let scratch = Scratch::new(backend).await;
    let store = Store::connect(&scratch.url, 2)
        .await
        .unwrap_or_else(|err| panic!("connecting: {err}"));
    populate(&store).await;
    store.close().await;

    let mut conn = scratch.connect().await;
    let versions = conn
        .names("SELECT CAST(MAX(version) AS TEXT) FROM _sqlx_migrations")
        .await;
    assert_eq!(
        versions,
        vec![FIXTURE_VERSION.to_string()],
        "the fixture is written by the careprompt whose newest migration is {FIXTURE_VERSION}"
    );
    let tables = snapshot(&mut conn, backend).await;
    conn.close().await;
    scratch.remove().await;

    let mut order: Vec<&String> = tables
        .keys()
        .filter(|name| PARENTS_FIRST.contains(&name.as_str()))
        .collect();
    order.sort_by_key(|name| PARENTS_FIRST.iter().position(|parent| parent == name));
    order.extend(tables.keys().filter(|name| {
        !PARENTS_FIRST.contains(&name.as_str())
            && !["sqlite_sequence", "pg_sequences"].contains(&name.as_str())
    }));
    let mut out = format!(
        "-- Every row of a database careprompt made through its own store with migrations 0001 to \
         {FIXTURE_VERSION:04} ({} flavour).\n-- Written by tests/it/migrations.rs with \
         {WRITE_ENV}=1 on that careprompt; loaded by the same file's migration test.\n",
        backend.name()
    );
    for name in order {
        let table = &tables[name];
        for row in &table.rows {
            out.push_str(&format!(
                "INSERT INTO {name} ({}) VALUES ({});\n",
                table.columns.join(", "),
                row.join(", ")
            ));
        }
    }
    if let Some(sequences) = tables.get("sqlite_sequence") {
        out.push_str("DELETE FROM sqlite_sequence;\n");
        for row in &sequences.rows {
            out.push_str(&format!(
                "INSERT INTO sqlite_sequence (name, seq) VALUES ({});\n",
                row.join(", ")
            ));
        }
    }
    if let Some(sequences) = tables.get("pg_sequences") {
        for row in &sequences.rows {
            if row[1] != "NULL" {
                out.push_str(&format!("SELECT setval('{}', {}, true);\n", row[0], row[1]));
            }
        }
    }
    let path = backend.fixture();
    std::fs::create_dir_all(path.parent().expect("a folder")).expect("the fixtures folder");
    std::fs::write(&path, out).unwrap_or_else(|err| panic!("writing {}: {err}", path.display()));
}

// ---- what a real install holds ----------------------------------------------------------------

/// 2026-05-28, a Thursday, in the afternoon.
const NOW: i64 = 1_780_000_000;
const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;

/// Snowflakes of the sizes Discord issues.
const WARD_7: u64 = 1_187_331_605_713_211_433;
const THEATRES: u64 = 1_204_118_934_017_654_824;
const CLOSED_TRUST: u64 = 1_151_220_481_902_256_189;
const WARD_7_GENERAL: u64 = 1_187_331_606_288_973_855;
const WARD_7_HUDDLE: u64 = 1_191_004_772_563_841_094;
const THEATRES_TEAM: u64 = 1_204_119_301_771_149_362;
const THEATRES_GONE: u64 = 1_204_119_418_004_381_737;
const CLOSED_TRUST_CHANNEL: u64 = 1_151_220_482_531_404_860;
const NURSE_LEAD: u64 = 693_187_552_210_591_745;
const HCA: u64 = 1_013_577_093_148_442_704;
const SURGEON: u64 = 431_892_105_734_258_688;
const ODP: u64 = 1_122_604_317_550_133_309;
const LEAVER: u64 = 885_431_702_114_623_498;
const SHY: u64 = 947_021_355_860_812_116;
const WARD_7_WELLBEING_ROLE: u64 = 1_187_340_112_906_637_402;
const THEATRES_LEADS_ROLE: u64 = 1_204_125_630_118_226_001;

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().expect("a valid time")
}

fn settings(cron: &str, bank_holidays: &str, bullying: bool) -> ScheduleSettings {
    ScheduleSettings::parse(cron, "Europe/London", bank_holidays, bullying).expect("valid settings")
}

fn bag(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| item.to_string()).collect()
}

fn rotation_after(seed: u64, posts: u64, theme: &str) -> RotationState {
    let mut state = RotationState::new(seed);
    state.posts = posts;
    state.last_theme = Some(theme.to_string());
    state
        .prompt_bags
        .insert(theme.to_string(), bag(&["compassion-03", "compassion-07"]));
    state
        .story_bags
        .insert(theme.to_string(), bag(&["story-civility-2"]));
    state
}

fn pick(theme: &str, prompt: &str, story: Option<&str>, state: RotationState) -> DuePick {
    DuePick {
        pick: Pick {
            theme: theme.to_string(),
            prompt_id: prompt.to_string(),
            story_id: story.map(str::to_string),
        },
        rotation_after: state,
    }
}

fn worker(claimer: &str, now: i64) -> Worker<'_> {
    Worker {
        claimer,
        shards: ShardRange::ALL,
        alive_since: at(now - 60),
    }
}

fn item(kind: BookmarkKind, id: &str, title: &str, body: Option<&str>) -> NewBookmark {
    NewBookmark {
        kind,
        item_id: id.to_string(),
        title: title.to_string(),
        body: body.map(str::to_string),
        url: Some(format!("https://www.england.nhs.uk/dna-of-care/{id}")),
    }
}

/// Claims a schedule's next slot for `claimer`, choosing what it posts.
async fn claim(
    store: &Store,
    channel: u64,
    plan: &DuePlan,
    post: Option<(i64, DuePick)>,
    kind: DeliveryKind,
    claimer: &str,
    now: i64,
) -> Option<i64> {
    let record = store
        .schedule_for_channel(channel)
        .await
        .expect("read")
        .expect("the channel has a schedule");
    let claim = Claim {
        schedule_id: record.id,
        version: record.version,
        kind,
        plan: (kind == DeliveryKind::Scheduled).then_some(plan),
        post: post.map(|(slot, due)| (at(slot), due)),
        claimer,
    };
    match store.claim(&claim, at(now)).await.expect("claim") {
        ClaimOutcome::Claimed(delivery) => Some(delivery.id),
        ClaimOutcome::Recorded => None,
        ClaimOutcome::Busy => panic!("the schedule of {channel} was busy"),
    }
}

/// Fills every table as weeks of use would: schedules posting (sent, failed, uncertain, missed,
/// on a holiday, skipped, one claim still open), DMs fanned out from posts, opt-ins and muted
/// themes, closed DMs, bookmarks with their usage records, reflective sessions run and running,
/// a facilitator role, a server careprompt was removed from, two processes sharing the work, a
/// person who asked to be forgotten, and the mark a try-out leaves.
async fn populate(store: &Store) {
    let start = NOW - 5 * WEEK;

    // Schedules, set up over a few days.
    let schedules = [
        (
            WARD_7,
            WARD_7_GENERAL,
            "0 9 * * MON",
            "england-and-wales",
            false,
            None,
            false,
            NURSE_LEAD,
        ),
        (
            WARD_7,
            WARD_7_HUDDLE,
            "30 7 * * MON-FRI",
            "none",
            true,
            Some(WARD_7_WELLBEING_ROLE),
            true,
            HCA,
        ),
        (
            THEATRES,
            THEATRES_TEAM,
            "0 12 * * WED",
            "scotland",
            false,
            None,
            true,
            SURGEON,
        ),
        (
            THEATRES,
            THEATRES_GONE,
            "0 8 1 * *",
            "northern-ireland",
            false,
            None,
            false,
            LEAVER,
        ),
        (
            CLOSED_TRUST,
            CLOSED_TRUST_CHANNEL,
            "0 9 * * FRI",
            "england-and-wales",
            false,
            None,
            false,
            ODP,
        ),
    ];
    for (i, (guild, channel, cron, holidays, bullying, role, thread, by)) in
        schedules.into_iter().enumerate()
    {
        let offset = i64::try_from(i).expect("small");
        store
            .upsert_schedule(
                &NewSchedule {
                    guild_id: guild,
                    channel_id: channel,
                    settings: settings(cron, holidays, bullying),
                    role_ping: role,
                    thread,
                    created_by: by,
                    seed: 7_000 + offset.unsigned_abs(),
                    next_due: Some(at(start + DAY + offset * HOUR)),
                },
                at(start + offset * HOUR),
            )
            .await
            .expect("schedule set");
    }
    // An admin changed one's settings later: its rotation carries on, its version moves.
    store
        .upsert_schedule(
            &NewSchedule {
                guild_id: WARD_7,
                channel_id: WARD_7_GENERAL,
                settings: settings("0 9 * * MON,THU", "england-and-wales", true),
                role_ping: None,
                thread: false,
                created_by: NURSE_LEAD,
                seed: 1,
                next_due: Some(at(start + DAY)),
            },
            at(start + 2 * HOUR),
        )
        .await
        .expect("schedule changed");

    // Ward 7's general channel: missed slots and a holiday while down, then a post that went out.
    let plan = DuePlan {
        missed: vec![at(start + DAY), at(start + 4 * DAY)],
        holidays: vec![(
            at(start + 7 * DAY),
            BankHoliday {
                date: chrono::NaiveDate::from_ymd_opt(2026, 5, 4).expect("date"),
                name: "Early May bank holiday".to_string(),
            },
        )],
        next_due: Some(at(start + 14 * DAY)),
        ..DuePlan::default()
    };
    let sent = claim(
        store,
        WARD_7_GENERAL,
        &plan,
        Some((
            start + 11 * DAY,
            pick(
                "compassion",
                "compassion-04",
                Some("story-compassion-1"),
                rotation_after(7_000, 1, "compassion"),
            ),
        )),
        DeliveryKind::Scheduled,
        "careprompt-a1f3",
        start + 11 * DAY + 2,
    )
    .await
    .expect("claimed");
    assert_eq!(
        store
            .record_sent(sent, 1_245_001_224_781_914_162)
            .await
            .expect("recorded"),
        Recorded::Done
    );

    // Opt-ins and mutes, before the DMs of that post were sent.
    for (user, guild, when) in [
        (NURSE_LEAD, WARD_7, start),
        (HCA, WARD_7, start + HOUR),
        (SHY, WARD_7, start + 2 * HOUR),
        (LEAVER, WARD_7, start + 3 * HOUR),
        (SURGEON, THEATRES, start + DAY),
        (ODP, THEATRES, start + DAY + HOUR),
        (ODP, CLOSED_TRUST, start + DAY + 2 * HOUR),
    ] {
        assert!(store
            .set_dm_optin(user, guild, true, at(when))
            .await
            .expect("opt in"));
        store
            .record_usage(guild, user, "", UsageKind::OptedIn, at(when))
            .await
            .expect("counted");
    }
    store
        .set_theme_muted(HCA, "bullying-and-harassment", true, at(start + 2 * DAY))
        .await
        .expect("muted");
    store
        .set_theme_muted(HCA, "civility", true, at(start + 2 * DAY + 60))
        .await
        .expect("muted");
    store
        .remember_dm_channel(NURSE_LEAD, 1_180_000_000_000_000_111)
        .await
        .expect("remembered");
    store
        .remember_dm_channel(HCA, 1_180_000_000_000_000_222)
        .await
        .expect("remembered");
    store
        .remember_dm_channel(SHY, 1_180_000_000_000_000_333)
        .await
        .expect("remembered");

    // The post's DMs: sent to most, refused for one (whose DMs are closed), one left claimed.
    let fan_out_at = start + 11 * DAY + 30;
    store
        .heartbeat(
            "careprompt-a1f3",
            &ShardRange::ALL,
            at(start),
            at(fan_out_at),
        )
        .await
        .expect("alive");
    let posts = store
        .pending_fan_outs(10, &ShardRange::ALL)
        .await
        .expect("pending");
    assert_eq!(posts.len(), 1);
    let dms = store
        .claim_dms(
            &posts[0],
            &worker("careprompt-a1f3", fan_out_at),
            at(fan_out_at),
        )
        .await
        .expect("claimed");
    assert_eq!(dms.len(), 4, "four opted in on ward 7");
    for (n, dm) in dms.iter().enumerate() {
        match dm.user_id {
            SHY => {
                store
                    .settle_dm(
                        dm.id,
                        DmState::Failed,
                        None,
                        Some("Cannot send messages to this user"),
                    )
                    .await
                    .expect("settled");
                store
                    .dms_closed(SHY, at(fan_out_at + 5))
                    .await
                    .expect("closed");
                assert!(store
                    .take_closed_dm_notice(SHY, at(fan_out_at + 6))
                    .await
                    .expect("told"));
            }
            // Still claimed when the process sending it stopped.
            HCA => {}
            _ => store
                .settle_dm(
                    dm.id,
                    DmState::Sent,
                    Some(1_245_001_230_000_000_000 + u64::try_from(n).expect("small")),
                    None,
                )
                .await
                .expect("settled"),
        }
    }
    store
        .fan_out_done(sent)
        .await
        .expect("not yet done: one is claimed");

    // The huddle channel: a failed post (a permission missing), then one whose fate is unknown.
    let failed = claim(
        store,
        WARD_7_HUDDLE,
        &DuePlan {
            next_due: Some(at(start + 2 * DAY)),
            ..DuePlan::default()
        },
        Some((
            start + DAY + HOUR,
            pick(
                "civility",
                "civility-02",
                None,
                rotation_after(7_001, 1, "civility"),
            ),
        )),
        DeliveryKind::Scheduled,
        "careprompt-a1f3",
        start + DAY + HOUR + 1,
    )
    .await
    .expect("claimed");
    store
        .settle_unsent(
            failed,
            DeliveryState::Failed,
            "careprompt lacks Send Messages in #huddle",
            false,
            at(start + DAY + HOUR + 3),
        )
        .await
        .expect("settled");
    let uncertain = claim(
        store,
        WARD_7_HUDDLE,
        &DuePlan {
            next_due: Some(at(start + 3 * DAY)),
            ..DuePlan::default()
        },
        Some((
            start + 2 * DAY,
            pick(
                "civility",
                "civility-05",
                None,
                rotation_after(7_001, 2, "civility"),
            ),
        )),
        DeliveryKind::Scheduled,
        "careprompt-a1f3",
        start + 2 * DAY + 1,
    )
    .await
    .expect("claimed");
    store
        .settle_unsent(
            uncertain,
            DeliveryState::Uncertain,
            "Discord did not answer; not posted again",
            false,
            at(start + 2 * DAY + 40),
        )
        .await
        .expect("settled");
    let record = store
        .schedule_for_channel(WARD_7_HUDDLE)
        .await
        .expect("read")
        .expect("there");
    assert!(store
        .skip_slot(
            record.id,
            record.version,
            at(start + 3 * DAY),
            Some(at(NOW + DAY))
        )
        .await
        .expect("skipped"));
    store
        .pause_schedule(record.id, Some(at(NOW + 2 * WEEK)))
        .await
        .expect("paused");

    // Theatres: a manual post sent into a thread, and a scheduled claim still open.
    let manual = claim(
        store,
        THEATRES_TEAM,
        &DuePlan::default(),
        Some((
            start + 2 * DAY + 5 * HOUR,
            pick(
                "resilience",
                "resilience-01",
                Some("story-resilience-3"),
                rotation_after(7_002, 1, "resilience"),
            ),
        )),
        DeliveryKind::Manual,
        "careprompt-b702",
        start + 2 * DAY + 5 * HOUR,
    )
    .await
    .expect("claimed");
    store
        .record_sent(manual, 1_245_020_118_201_338_880)
        .await
        .expect("recorded");
    let theatres_post = store
        .pending_fan_outs(10, &ShardRange::ALL)
        .await
        .expect("pending")
        .into_iter()
        .find(|post| post.delivery_id == manual)
        .expect("the manual post owes DMs");
    let theatres_at = start + 2 * DAY + 5 * HOUR + 10;
    let dms = store
        .claim_dms(
            &theatres_post,
            &worker("careprompt-b702", theatres_at),
            at(theatres_at),
        )
        .await
        .expect("claimed");
    assert_eq!(dms.len(), 2, "two opted in on theatres");
    for dm in dms {
        store
            .settle_dm(
                dm.id,
                DmState::Sent,
                Some(1_245_020_118_300_000_000 + dm.user_id % 1000),
                None,
            )
            .await
            .expect("settled");
    }
    store.fan_out_done(manual).await.expect("done");
    let open = claim(
        store,
        THEATRES_TEAM,
        &DuePlan {
            next_due: Some(at(NOW + WEEK)),
            ..DuePlan::default()
        },
        Some((
            NOW - HOUR,
            pick(
                "resilience",
                "resilience-06",
                None,
                rotation_after(7_002, 2, "resilience"),
            ),
        )),
        DeliveryKind::Scheduled,
        "careprompt-b702",
        NOW - HOUR + 1,
    )
    .await;
    assert!(open.is_some(), "a claim still open");
    // A channel that was deleted: its schedule is switched off.
    let gone = claim(
        store,
        THEATRES_GONE,
        &DuePlan {
            next_due: Some(at(NOW + 30 * DAY)),
            ..DuePlan::default()
        },
        Some((
            start + 3 * DAY,
            pick(
                "wellbeing",
                "wellbeing-01",
                None,
                rotation_after(7_003, 1, "wellbeing"),
            ),
        )),
        DeliveryKind::Scheduled,
        "careprompt-b702",
        start + 3 * DAY,
    )
    .await
    .expect("claimed");
    store
        .settle_unsent(
            gone,
            DeliveryState::Failed,
            "the channel no longer exists",
            true,
            at(start + 3 * DAY + 1),
        )
        .await
        .expect("settled");

    // Bookmarks, each Save counted for /insights.
    let compassion = bag(&["compassion"]);
    let two_themes = bag(&["civility", "compassion"]);
    let resilience = bag(&["resilience"]);
    let saves = [
        (
            NURSE_LEAD,
            WARD_7,
            item(
                BookmarkKind::Prompt,
                "compassion-04",
                "Noticing",
                Some("When did you last notice a colleague struggling?"),
            ),
            &compassion,
            start + 11 * DAY + HOUR,
        ),
        (
            NURSE_LEAD,
            WARD_7,
            item(
                BookmarkKind::Story,
                "story-compassion-1",
                "A night shift on ward 7",
                None,
            ),
            &two_themes,
            start + 11 * DAY + 2 * HOUR,
        ),
        (
            HCA,
            WARD_7,
            item(
                BookmarkKind::Prompt,
                "compassion-04",
                "Noticing",
                Some("When did you last notice a colleague struggling?"),
            ),
            &compassion,
            start + 12 * DAY,
        ),
        (
            HCA,
            WARD_7,
            item(
                BookmarkKind::Pack,
                "pack-team-huddle",
                "Team huddle pack",
                Some("Five prompts for a ten-minute huddle"),
            ),
            &compassion,
            start + 19 * DAY,
        ),
        (
            SURGEON,
            THEATRES,
            item(
                BookmarkKind::Prompt,
                "resilience-01",
                "After a hard list",
                Some("What helped you reset after a difficult case?"),
            ),
            &resilience,
            start + 2 * DAY + 6 * HOUR,
        ),
        (
            ODP,
            THEATRES,
            item(
                BookmarkKind::Prompt,
                "resilience-01",
                "After a hard list",
                Some("What helped you reset after a difficult case?"),
            ),
            &resilience,
            start + 3 * DAY,
        ),
        (
            LEAVER,
            WARD_7,
            item(BookmarkKind::Prompt, "compassion-04", "Noticing", None),
            &compassion,
            start + 12 * DAY,
        ),
    ];
    for (user, guild, bookmark, themes, when) in &saves {
        let usage = Usage {
            guild_id: *guild,
            user_id: *user,
            themes,
            kind: UsageKind::Saved,
            at: at(*when),
        };
        store
            .save_bookmark(*user, bookmark, at(*when), BOOKMARK_LIMIT, Some(&usage))
            .await
            .expect("saved");
    }
    // One removed again, so ids have a gap.
    let (hca_marks, _) = store.bookmarks_page(HCA, 0, 10).await.expect("page");
    let pack = hca_marks
        .iter()
        .find(|mark| mark.kind == BookmarkKind::Pack)
        .expect("the pack");
    assert!(store.remove_bookmark(HCA, pack.id).await.expect("removed"));

    // Reflective sessions: one run to its end, one running and paused, one running on its own.
    store
        .set_facilitator_role(WARD_7, Some(WARD_7_WELLBEING_ROLE), at(start))
        .await
        .expect("role set");
    store
        .set_facilitator_role(THEATRES, Some(THEATRES_LEADS_ROLE), at(start + DAY))
        .await
        .expect("role set");
    let sessions = [
        (
            WARD_7,
            WARD_7_GENERAL,
            NURSE_LEAD,
            "compassion",
            Some("story-compassion-1"),
            45,
            false,
            start + 10 * DAY,
        ),
        (
            THEATRES,
            THEATRES_TEAM,
            SURGEON,
            "resilience",
            None,
            30,
            true,
            NOW - 2 * HOUR,
        ),
        (
            WARD_7,
            WARD_7_HUDDLE,
            HCA,
            "civility",
            Some("story-civility-2"),
            20,
            false,
            NOW - HOUR,
        ),
    ];
    let mut ids = Vec::new();
    for (n, (guild, channel, facilitator, theme, story, minutes, auto, when)) in
        sessions.into_iter().enumerate()
    {
        let started = store
            .start_session(
                &NewSession {
                    guild_id: guild,
                    channel_id: channel,
                    facilitator_id: facilitator,
                    theme,
                    story_id: story,
                    minutes,
                    auto,
                },
                auto.then(|| at(when + 5 * 60)),
                at(when),
            )
            .await
            .expect("started");
        let SessionStart::Started(session) = started else {
            panic!("the channel was free");
        };
        let thread = 1_245_100_000_000_000_000 + u64::try_from(n).expect("small");
        store
            .set_session_thread(session.id, thread)
            .await
            .expect("thread");
        let me = worker("careprompt-a1f3", when);
        assert_eq!(
            store
                .claim_stage_post(session.id, 0, &me, at(when + 1))
                .await
                .expect("claim"),
            StagePost::Fresh
        );
        store
            .record_stage_post(session.id, 0, thread + 10)
            .await
            .expect("posted");
        ids.push((session.id, when));
    }
    let (finished, when) = ids[0];
    for stage in 1..=3u32 {
        let moment = when + i64::from(stage) * 10 * 60;
        assert!(store
            .move_session(finished, stage - 1, stage, None, at(moment))
            .await
            .expect("moved"));
        assert_eq!(
            store
                .claim_stage_post(
                    finished,
                    stage,
                    &worker("careprompt-a1f3", moment),
                    at(moment)
                )
                .await
                .expect("claim"),
            StagePost::Fresh
        );
        store
            .record_stage_post(
                finished,
                stage,
                1_245_100_000_000_001_000 + u64::from(stage),
            )
            .await
            .expect("posted");
    }
    assert!(store
        .end_session(finished, at(when + 45 * 60))
        .await
        .expect("ended"));
    let (paused, _) = ids[1];
    assert!(store
        .pause_session(paused, 0, Some(170), None)
        .await
        .expect("paused"));
    let (waiting, when_waiting) = ids[2];
    assert!(store
        .move_session(waiting, 0, 1, None, at(when_waiting + 600))
        .await
        .expect("moved"));
    // The next stage card was claimed by a process that then stopped.
    assert_eq!(
        store
            .claim_stage_post(
                waiting,
                1,
                &worker("careprompt-b702", when_waiting + 601),
                at(when_waiting + 601)
            )
            .await
            .expect("claim"),
        StagePost::Fresh
    );

    // careprompt was removed from the closed trust's server.
    store
        .guild_departed(CLOSED_TRUST, at(NOW - 3 * DAY))
        .await
        .expect("departed");

    // A person who asked to be forgotten: their schedule stays, as the team's.
    store.erase_user(LEAVER).await.expect("erased");

    // Two processes share the work.
    store
        .heartbeat(
            "careprompt-a1f3",
            &ShardRange::new(0, 0, 2).expect("range"),
            at(NOW - DAY),
            at(NOW),
        )
        .await
        .expect("alive");
    store
        .heartbeat(
            "careprompt-b702",
            &ShardRange::new(1, 1, 2).expect("range"),
            at(NOW - DAY),
            at(NOW - 5),
        )
        .await
        .expect("alive");
    store
        .mark_made_by_try(at(start - DAY))
        .await
        .expect("marked");
}
