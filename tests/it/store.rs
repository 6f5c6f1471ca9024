//! The store, on both backends: every case below runs once on a fresh SQLite file and once on a
//! fresh PostgreSQL database, so the two backends are held to the same behaviour.
//!
//! PostgreSQL must be running (CI starts it): by default at
//! `postgres://postgres@127.0.0.1:5432/test`, or wherever `CAREPROMPT_TEST_POSTGRES_URL` points.
//! Each test creates its own database from there and drops it afterwards, so tests run in
//! parallel. Without PostgreSQL the `postgres_` tests fail; they never skip.

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use careprompt::domain::holidays::BankHoliday;
use careprompt::domain::insights::{week_of, Measure, Tally, UsageKind, WEEK_SECS};
use careprompt::domain::planning::DuePlan;
use careprompt::domain::platform::Platform;
use careprompt::domain::rotation::{Pick, RotationState};
use careprompt::domain::settings::ScheduleSettings;
use careprompt::domain::shards::ShardRange;
use careprompt::scheduler::retention::usage_cutoff;
use careprompt::store::{
    nonce_for, redact_url, Bookmark, BookmarkKind, Claim, ClaimOutcome, CreatedSchedule,
    DeliveryKind, DeliveryState, DmOptIn, DmStatus, DuePick, Erased, NewBookmark, NewSchedule,
    PersonReach, PersonRecord, PersonSeen, PlaceKind, PlaceReach, PlaceRecord, PlaceSeen, Purged,
    Recorded, Saved, Store, StoreError, ThemeMute, Usage, UserExport, Worker, BOOKMARK_LIMIT,
    ERASED_USER,
};
use chrono::{DateTime, TimeZone, Utc};
use sqlx::{Connection, PgConnection};

use crate::support::databases;

const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const POSTGRES_URL_ENV: &str = "CAREPROMPT_TEST_POSTGRES_URL";

static NEXT_DATABASE: AtomicU64 = AtomicU64::new(0);

pub(crate) fn unique_name() -> String {
    format!(
        "careprompt_t_{}_{}",
        std::process::id(),
        NEXT_DATABASE.fetch_add(1, Ordering::SeqCst)
    )
}

#[derive(Debug, Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

/// Runs `case` against a store on a database of its own, then removes that database, even when
/// the case panics (the panic is passed on afterwards).
async fn run<F, Fut>(backend: Backend, case: F)
where
    F: FnOnce(Store, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
            let url = format!("sqlite://{}?mode=rwc", path.display());
            let store = connect(&url).await;
            let outcome = tokio::spawn(case(store.clone(), url)).await;
            store.close().await;
            remove_sqlite_files(&path);
            rethrow(outcome);
        }
        Backend::Postgres => {
            let base = postgres_base_url();
            let mut admin = postgres_admin(&base).await;
            let name = unique_name();
            databases::create_marked(&mut admin, &name)
                .await
                .unwrap_or_else(|err| panic!("{err}"));
            let url = with_database(&base, &name);
            let store = connect(&url).await;
            let outcome = tokio::spawn(case(store.clone(), url)).await;
            store.close().await;
            if let Err(err) = databases::drop_marked(&mut admin, &name).await {
                eprintln!("{err}");
            }
            let _ = admin.close().await;
            rethrow(outcome);
        }
    }
}

fn rethrow(outcome: Result<(), tokio::task::JoinError>) {
    if let Err(err) = outcome {
        match err.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(err) => panic!("test case did not finish: {err}"),
        }
    }
}

async fn connect(url: &str) -> Store {
    Store::connect(url, 4)
        .await
        .unwrap_or_else(|err| panic!("connecting to {}: {err}", redact_url(url)))
}

pub(crate) fn remove_sqlite_files(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(file));
    }
}

pub(crate) fn postgres_base_url() -> String {
    std::env::var(POSTGRES_URL_ENV).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string())
}

pub(crate) async fn postgres_admin(base: &str) -> PgConnection {
    let shown = redact_url(base);
    match tokio::time::timeout(Duration::from_secs(15), PgConnection::connect(base)).await {
        Ok(Ok(connection)) => connection,
        Ok(Err(err)) => panic!(
            "PostgreSQL is not reachable at {shown}: {err}. The postgres_ store tests need it: \
             start it (CI does), or set {POSTGRES_URL_ENV} to one that runs."
        ),
        Err(_) => panic!(
            "PostgreSQL at {shown} did not answer within 15 seconds. The postgres_ store tests \
             need it: start it (CI does), or set {POSTGRES_URL_ENV} to one that runs."
        ),
    }
}

/// `base` with its database name replaced by `name`, keeping any query string.
pub(crate) fn with_database(base: &str, name: &str) -> String {
    let (head, query) = match base.split_once('?') {
        Some((head, query)) => (head, Some(query)),
        None => (base, None),
    };
    let authority_start = head.find("://").map_or(0, |index| index + 3);
    let server = match head[authority_start..].find('/') {
        Some(slash) => &head[..authority_start + slash],
        None => head,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

/// Two `#[tokio::test]`s per case: `$sqlite` on SQLite and `$postgres` on PostgreSQL. Cases take
/// `&Store`, or `&Store` and the database URL when they are marked `with_url`.
macro_rules! on_both_backends {
    ($sqlite:ident, $postgres:ident, $case:ident) => {
        #[tokio::test]
        async fn $sqlite() {
            run(
                Backend::Sqlite,
                |store, _url| async move { $case(&store).await },
            )
            .await;
        }

        #[tokio::test]
        async fn $postgres() {
            run(Backend::Postgres, |store, _url| async move {
                $case(&store).await
            })
            .await;
        }
    };
    ($sqlite:ident, $postgres:ident, $case:ident, with_url) => {
        #[tokio::test]
        async fn $sqlite() {
            run(Backend::Sqlite, |store, url| async move {
                $case(&store, &url).await
            })
            .await;
        }

        #[tokio::test]
        async fn $postgres() {
            run(Backend::Postgres, |store, url| async move {
                $case(&store, &url).await
            })
            .await;
        }
    };
}

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0)
        .single()
        .expect("a valid unix time")
}

const NOW: i64 = 1_780_000_000;

fn settings(cron: &str, timezone: &str, bank_holidays: &str, bullying: bool) -> ScheduleSettings {
    ScheduleSettings::parse(cron, timezone, bank_holidays, bullying).expect("valid settings")
}

fn schedule(guild_id: u64, channel_id: u64, created_by: u64) -> NewSchedule {
    NewSchedule {
        guild_id,
        channel_id,
        settings: settings("0 9 * * MON", "Europe/London", "england-and-wales", false),
        role_ping: None,
        thread: false,
        created_by,
        seed: 42,
        next_due: Some(at(NOW + 3600)),
    }
}

/// A rotation state as it looks after a few posts.
fn advanced(seed: u64, posts: u64) -> RotationState {
    let mut state = RotationState::new(seed);
    state.posts = posts;
    state.last_theme = Some("compassion".to_string());
    state.prompt_bags.insert(
        "compassion".to_string(),
        vec!["compassion-02".to_string(), "compassion-05".to_string()],
    );
    state
        .story_bags
        .insert("compassion".to_string(), vec!["story-7".to_string()]);
    state
}

const ALICE: u64 = 111_111_111_111_111_111;
const BOB: u64 = 222_222_222_222_222_222;
const GUILD: u64 = 900_000_000_000_000_001;
const OTHER_GUILD: u64 = 900_000_000_000_000_002;

// ---- migrations ----------------------------------------------------------------------------

async fn migrations_run_twice(store: &Store, url: &str) {
    let first = store
        .upsert_schedule(&schedule(GUILD, 10, ALICE), at(NOW))
        .await
        .expect("upsert");
    // Another process (or a restart) connects to the same database and runs migrations again.
    let again = Store::connect(url, 2)
        .await
        .expect("connecting again re-runs migrations without error");
    assert_eq!(again.backend(), store.backend());
    assert_eq!(
        again.schedule_for_channel(10).await.expect("read"),
        Some(first)
    );
    again.close().await;
    let third = Store::connect(url, 1).await.expect("and a third time");
    third.close().await;
}
on_both_backends!(
    sqlite_migrations_run_twice,
    postgres_migrations_run_twice,
    migrations_run_twice,
    with_url
);

async fn backend_is_named(store: &Store) {
    assert!(["sqlite", "postgres"].contains(&store.backend()));
}
on_both_backends!(
    sqlite_backend_is_named,
    postgres_backend_is_named,
    backend_is_named
);

// ---- schedules -----------------------------------------------------------------------------

async fn new_schedule_starts_a_fresh_rotation(store: &Store) {
    let mut new = schedule(GUILD, 10, ALICE);
    new.role_ping = Some(555_555_555_555_555_555);
    new.settings.include_bullying = true;
    new.thread = true;
    let record = store.upsert_schedule(&new, at(NOW)).await.expect("upsert");
    assert_eq!(record.guild_id, GUILD);
    assert_eq!(record.channel_id, 10);
    assert_eq!(record.settings, new.settings);
    assert_eq!(record.settings.cron(), "0 9 * * MON");
    assert!(record.settings.include_bullying);
    assert!(record.thread);
    assert!(!record.disabled && record.last_error.is_none() && record.paused_until.is_none());
    assert_eq!(record.role_ping, Some(555_555_555_555_555_555));
    assert!(!record.paused);
    assert_eq!(record.rotation, RotationState::new(42));
    assert_eq!(record.next_due, Some(at(NOW + 3600)));
    assert_eq!(record.created_by, ALICE);
    assert_eq!(record.created_at, at(NOW), "created at the time given");
    assert_eq!(
        store.schedule_for_channel(10).await.expect("read"),
        Some(record)
    );
    assert_eq!(store.schedule_for_channel(11).await.expect("read"), None);
}
on_both_backends!(
    sqlite_new_schedule_starts_a_fresh_rotation,
    postgres_new_schedule_starts_a_fresh_rotation,
    new_schedule_starts_a_fresh_rotation
);

async fn upsert_keeps_rotation_and_updates_config(store: &Store) {
    let first = store
        .upsert_schedule(&schedule(GUILD, 10, ALICE), at(NOW))
        .await
        .expect("create");
    let state = advanced(42, 3);
    assert!(store
        .advance_rotation(first.id, first.version, &state, Some(at(NOW + 7200)))
        .await
        .expect("advance"));

    let changed = NewSchedule {
        guild_id: GUILD,
        channel_id: 10,
        settings: settings("0 8 * * 1-5", "Europe/Belfast", "northern-ireland", true),
        role_ping: Some(777),
        thread: false,
        created_by: BOB,
        seed: 99,
        next_due: Some(at(NOW + 60)),
    };
    let second = store
        .upsert_schedule(&changed, at(NOW + 500))
        .await
        .expect("update");
    assert_eq!(second.id, first.id, "same schedule, not a new one");
    assert_eq!(second.rotation, state, "the rotation carries on");
    assert_eq!(second.settings.cron(), "0 8 * * 1-5");
    assert_eq!(second.settings.timezone_name(), "Europe/Belfast");
    assert_eq!(second.settings.bank_holidays_name(), "northern-ireland");
    assert!(second.settings.include_bullying);
    assert_eq!(second.role_ping, Some(777));
    assert_eq!(second.next_due, Some(at(NOW + 60)), "next_due is reset");
    assert!(
        second.version > first.version + 1,
        "every write moves the version on"
    );
    assert_eq!(second.created_by, ALICE, "the creator stays the first one");
    assert_eq!(second.created_at, first.created_at);
    assert_eq!(
        store.schedule_for_channel(10).await.expect("read"),
        Some(second.clone())
    );

    // Clearing next_due and the role ping works too.
    let cleared = NewSchedule {
        role_ping: None,
        next_due: None,
        ..changed
    };
    let third = store
        .upsert_schedule(&cleared, at(NOW))
        .await
        .expect("update again");
    assert_eq!(third.next_due, None);
    assert_eq!(third.role_ping, None);
    assert_eq!(third.rotation, state);
    assert_eq!(
        store
            .schedules_for_guild(GUILD)
            .await
            .expect("list")
            .schedules
            .len(),
        1
    );
}
on_both_backends!(
    sqlite_upsert_keeps_rotation_and_updates_config,
    postgres_upsert_keeps_rotation_and_updates_config,
    upsert_keeps_rotation_and_updates_config
);

async fn schedules_by_guild_and_delete(store: &Store) {
    let a = store
        .upsert_schedule(&schedule(GUILD, 10, ALICE), at(NOW))
        .await
        .expect("a");
    let b = store
        .upsert_schedule(&schedule(OTHER_GUILD, 20, ALICE), at(NOW))
        .await
        .expect("b");
    let c = store
        .upsert_schedule(&schedule(GUILD, 30, BOB), at(NOW))
        .await
        .expect("c");
    assert_eq!(
        store
            .schedules_for_guild(GUILD)
            .await
            .expect("list")
            .schedules,
        vec![a.clone(), c.clone()]
    );
    assert_eq!(
        store
            .schedules_for_guild(OTHER_GUILD)
            .await
            .expect("list")
            .schedules,
        vec![b.clone()]
    );
    assert!(store
        .schedules_for_guild(1)
        .await
        .expect("list")
        .schedules
        .is_empty());

    assert!(store.delete_schedule(10).await.expect("delete"));
    assert!(!store.delete_schedule(10).await.expect("delete again"));
    assert!(!store.delete_schedule(12345).await.expect("delete unknown"));
    assert_eq!(store.schedule_for_channel(10).await.expect("read"), None);
    assert_eq!(
        store
            .schedules_for_guild(GUILD)
            .await
            .expect("list")
            .schedules,
        vec![c]
    );

    // A channel set up again after a delete starts over.
    let again = store
        .upsert_schedule(&schedule(GUILD, 10, BOB), at(NOW))
        .await
        .expect("again");
    assert_ne!(again.id, a.id);
    assert_eq!(again.rotation, RotationState::new(42));
    assert_eq!(again.created_by, BOB);
}
on_both_backends!(
    sqlite_schedules_by_guild_and_delete,
    postgres_schedules_by_guild_and_delete,
    schedules_by_guild_and_delete
);

async fn advance_rotation_is_optimistic(store: &Store) {
    let record = store
        .upsert_schedule(&schedule(GUILD, 10, ALICE), at(NOW))
        .await
        .expect("create");
    let mine = advanced(42, 1);
    let theirs = advanced(42, 9);

    assert!(store
        .advance_rotation(record.id, record.version, &mine, Some(at(NOW + 100)))
        .await
        .expect("first writer"));
    // A second writer still holding the old version loses and changes nothing.
    assert!(!store
        .advance_rotation(record.id, record.version, &theirs, Some(at(NOW + 999)))
        .await
        .expect("second writer"));
    let now = store
        .schedule_for_channel(10)
        .await
        .expect("read")
        .expect("still there");
    assert_eq!(now.rotation, mine);
    assert_eq!(now.next_due, Some(at(NOW + 100)));
    assert_eq!(now.version, record.version + 1);

    // With the fresh version it wins, and can clear next_due.
    assert!(store
        .advance_rotation(now.id, now.version, &theirs, None)
        .await
        .expect("retry"));
    let after = store
        .schedule_for_channel(10)
        .await
        .expect("read")
        .expect("still there");
    assert_eq!(after.rotation, theirs);
    assert_eq!(after.next_due, None);

    // A settings change in between also makes a poster's snapshot stale.
    store
        .upsert_schedule(&schedule(GUILD, 10, ALICE), at(NOW))
        .await
        .expect("settings change");
    assert!(!store
        .advance_rotation(after.id, after.version, &mine, None)
        .await
        .expect("stale after settings change"));

    // An unknown schedule is a lost race too, not an error.
    assert!(!store
        .advance_rotation(after.id + 1000, 1, &mine, None)
        .await
        .expect("unknown schedule"));
}
on_both_backends!(
    sqlite_advance_rotation_is_optimistic,
    postgres_advance_rotation_is_optimistic,
    advance_rotation_is_optimistic
);

async fn concurrent_advances_have_one_winner(store: &Store) {
    let record = store
        .upsert_schedule(&schedule(GUILD, 10, ALICE), at(NOW))
        .await
        .expect("create");
    let writers: Vec<_> = (0..8u64)
        .map(|n| {
            let store = store.clone();
            let (id, version) = (record.id, record.version);
            tokio::spawn(async move {
                store
                    .advance_rotation(id, version, &advanced(42, n + 1), None)
                    .await
            })
        })
        .collect();
    let mut winners = 0;
    for writer in writers {
        if writer.await.expect("writer task").expect("advance") {
            winners += 1;
        }
    }
    assert_eq!(winners, 1, "exactly one writer from the same version wins");
    let after = store
        .schedule_for_channel(10)
        .await
        .expect("read")
        .expect("still there");
    assert_eq!(after.version, record.version + 1);
}
on_both_backends!(
    sqlite_concurrent_advances_have_one_winner,
    postgres_concurrent_advances_have_one_winner,
    concurrent_advances_have_one_winner
);

async fn an_unreadable_schedule_is_left_out_of_the_batch_and_switched_off(
    store: &Store,
    url: &str,
) {
    let broken = store
        .upsert_schedule(&schedule(GUILD, 10, ALICE), at(NOW))
        .await
        .expect("create");
    let fine = store
        .upsert_schedule(&schedule(GUILD, 30, BOB), at(NOW))
        .await
        .expect("create");
    // As if a newer time-zone database had dropped the zone it was set in.
    let mut raw = Raw::open(url).await;
    raw.execute(&format!(
        "UPDATE schedules SET timezone = 'Mars/Olympus' WHERE id = {}",
        broken.id
    ))
    .await;

    let due = store
        .due_schedules(at(NOW + 3600), 10, &ShardRange::ALL)
        .await
        .expect("one bad row does not fail the batch");
    assert_eq!(
        due.due.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![fine.id]
    );
    assert_eq!(due.unreadable.len(), 1);
    let unreadable = &due.unreadable[0];
    assert_eq!(
        (unreadable.id, unreadable.guild_id, unreadable.channel_id),
        (broken.id, GUILD, 10)
    );
    assert!(
        unreadable.reason.contains("timezone") && unreadable.reason.contains("Mars/Olympus"),
        "{}",
        unreadable.reason
    );

    store
        .switch_off_unreadable(unreadable, at(NOW + 3600))
        .await
        .expect("switched off");
    let due = store
        .due_schedules(at(NOW + 3600), 10, &ShardRange::ALL)
        .await
        .expect("due");
    assert!(
        due.unreadable.is_empty(),
        "a switched-off schedule is not read again"
    );
    assert_eq!(due.due.len(), 1);
    let listed = store.schedules_for_guild(GUILD).await.expect("list");
    assert_eq!(listed.schedules, vec![fine.clone()]);
    assert_eq!(listed.unreadable.len(), 1);
    assert_eq!(
        raw.count(&format!(
            "SELECT COUNT(*) FROM schedules WHERE id = {} AND disabled = TRUE AND last_error IS NOT NULL",
            broken.id
        ))
        .await,
        1
    );
    assert!(matches!(
        store.schedule_for_channel(10).await,
        Err(StoreError::Unreadable(_))
    ));

    // Setting it again replaces the stored settings, and it reads and posts again.
    let again = store
        .upsert_schedule(&schedule(GUILD, 10, ALICE), at(NOW + 3600))
        .await
        .expect("set again");
    assert!(!again.disabled);
    assert!(store
        .schedules_for_guild(GUILD)
        .await
        .expect("list")
        .unreadable
        .is_empty());
}
on_both_backends!(
    sqlite_an_unreadable_schedule_is_left_out_of_the_batch_and_switched_off,
    postgres_an_unreadable_schedule_is_left_out_of_the_batch_and_switched_off,
    an_unreadable_schedule_is_left_out_of_the_batch_and_switched_off,
    with_url
);

// ---- per-person data -----------------------------------------------------------------------

/// A second, raw connection to the case's database, for writing rows that only the DM side's
/// code writes and for reading every table as it is.
pub(crate) enum Raw {
    Sqlite(sqlx::SqliteConnection),
    Postgres(PgConnection),
}

impl Raw {
    pub(crate) async fn open(url: &str) -> Raw {
        if url.starts_with("sqlite") {
            Raw::Sqlite(
                sqlx::SqliteConnection::connect(url)
                    .await
                    .expect("raw SQLite connection"),
            )
        } else {
            Raw::Postgres(
                PgConnection::connect(url)
                    .await
                    .expect("raw PostgreSQL connection"),
            )
        }
    }

    pub(crate) async fn execute(&mut self, sql: &str) {
        let done = match self {
            Raw::Sqlite(conn) => sqlx::query(sql).execute(conn).await.map(|_| ()),
            Raw::Postgres(conn) => sqlx::query(sql).execute(conn).await.map(|_| ()),
        };
        done.unwrap_or_else(|err| panic!("{sql}: {err}"));
    }

    pub(crate) async fn count(&mut self, sql: &str) -> i64 {
        let counted = match self {
            Raw::Sqlite(conn) => sqlx::query_scalar(sql).fetch_one(conn).await,
            Raw::Postgres(conn) => sqlx::query_scalar(sql).fetch_one(conn).await,
        };
        counted.unwrap_or_else(|err| panic!("{sql}: {err}"))
    }

    /// Polls until `sql` counts `expected`, for `within` at most.
    pub(crate) async fn wait_count(&mut self, sql: &str, expected: i64, within: Duration) {
        let mut ticks = tokio::time::interval(Duration::from_millis(20));
        let deadline = tokio::time::Instant::now() + within;
        loop {
            ticks.tick().await;
            let got = self.count(sql).await;
            if got == expected {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{sql} stayed at {got}, not {expected}"
            );
        }
    }

    /// Every column of every table careprompt made, read from the database itself, so a table
    /// added later is checked without anyone remembering to list it here.
    async fn columns(&mut self) -> Vec<(String, String)> {
        let found: Result<Vec<(String, String)>, sqlx::Error> =
            match self {
                Raw::Sqlite(conn) => {
                    sqlx::query_as(
                        "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
                     AND m.name <> '_sqlx_migrations' ORDER BY m.name, p.cid",
                    )
                    .fetch_all(conn)
                    .await
                }
                Raw::Postgres(conn) => sqlx::query_as(
                    "SELECT table_name::TEXT, column_name::TEXT FROM information_schema.columns \
                     WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations' \
                     ORDER BY table_name, ordinal_position",
                )
                .fetch_all(conn)
                .await,
            };
        let columns = found.expect("list the columns");
        assert!(
            columns.iter().any(|(table, _)| table == "bookmarks"),
            "the listing sees the tables: {columns:?}"
        );
        columns
    }

    /// Every (table, column) where some value mentions `id`.
    pub(crate) async fn mentions(&mut self, id: u64) -> Vec<(String, String)> {
        let mut found = Vec::new();
        for (table, column) in self.columns().await {
            let sql =
                format!("SELECT COUNT(*) FROM {table} WHERE CAST({column} AS TEXT) LIKE '%{id}%'");
            if self.count(&sql).await > 0 {
                found.push((table, column));
            }
        }
        found
    }

    pub(crate) async fn close(self) {
        let _ = match self {
            Raw::Sqlite(conn) => conn.close().await,
            Raw::Postgres(conn) => conn.close().await,
        };
    }
}

fn prompt_item(item_id: &str) -> NewBookmark {
    NewBookmark {
        kind: BookmarkKind::Prompt,
        item_id: item_id.to_string(),
        title: "Compassion".to_string(),
        body: Some(format!("The words of {item_id}")),
        url: Some("https://example.nhs.uk/compassion".to_string()),
    }
}

async fn save(store: &Store, user: u64, item: &NewBookmark, secs: i64) -> Saved {
    store
        .add_bookmark(user, item, at(secs), BOOKMARK_LIMIT)
        .await
        .expect("save")
}

async fn bookmarks_add_dedupe_remove_and_order(store: &Store) {
    assert!(store.bookmarks(ALICE).await.expect("empty").is_empty());
    let story = NewBookmark {
        kind: BookmarkKind::Story,
        item_id: "compassion-03".to_string(),
        title: "A story".to_string(),
        body: None,
        url: None,
    };
    assert_eq!(
        save(store, ALICE, &prompt_item("compassion-03"), NOW + 20).await,
        Saved::Added
    );
    assert_eq!(
        save(store, ALICE, &prompt_item("resilience-01"), NOW + 10).await,
        Saved::Added
    );
    assert_eq!(
        save(store, ALICE, &story, NOW + 30).await,
        Saved::Added,
        "a story with a prompt's id is a different item"
    );
    let mut reworded = prompt_item("compassion-03");
    reworded.body = Some("Reworded since".to_string());
    assert_eq!(
        save(store, ALICE, &reworded, NOW + 99).await,
        Saved::AlreadySaved,
        "a second save of the same item keeps the first"
    );
    assert_eq!(
        save(store, BOB, &prompt_item("compassion-03"), NOW + 5).await,
        Saved::Added,
        "someone else may save it too"
    );

    let alices = store.bookmarks(ALICE).await.expect("list");
    let order: Vec<(BookmarkKind, &str, i64)> = alices
        .iter()
        .map(|b| (b.kind, b.item_id.as_str(), b.created_at.timestamp()))
        .collect();
    assert_eq!(
        order,
        [
            (BookmarkKind::Story, "compassion-03", NOW + 30),
            (BookmarkKind::Prompt, "compassion-03", NOW + 20),
            (BookmarkKind::Prompt, "resilience-01", NOW + 10),
        ],
        "newest first"
    );
    assert_eq!(
        alices[1].body.as_deref(),
        Some("The words of compassion-03"),
        "the text as first saved"
    );
    assert_eq!(
        alices[1].url.as_deref(),
        Some("https://example.nhs.uk/compassion")
    );

    let bobs = store.bookmarks(BOB).await.expect("bob's");
    assert!(
        !store
            .remove_bookmark(ALICE, bobs[0].id)
            .await
            .expect("remove"),
        "Alice cannot remove Bob's bookmark"
    );
    assert_eq!(store.bookmarks(BOB).await.expect("bob's"), bobs);
    assert!(store
        .remove_bookmark(ALICE, alices[1].id)
        .await
        .expect("remove"));
    assert!(
        !store
            .remove_bookmark(ALICE, alices[1].id)
            .await
            .expect("again"),
        "already gone"
    );
    let left: Vec<i64> = store
        .bookmarks(ALICE)
        .await
        .expect("list")
        .iter()
        .map(|b| b.id)
        .collect();
    assert_eq!(left, [alices[0].id, alices[2].id]);
    assert_eq!(
        store.bookmarks(BOB).await.expect("bob's"),
        bobs,
        "Bob's untouched"
    );
}
on_both_backends!(
    sqlite_bookmarks_add_dedupe_remove_and_order,
    postgres_bookmarks_add_dedupe_remove_and_order,
    bookmarks_add_dedupe_remove_and_order
);

async fn bookmarks_page_newest_first(store: &Store) {
    // Saved in the same second as well as apart: the later save still comes first.
    for n in 0..25i64 {
        let item = prompt_item(&format!("p-{n:02}"));
        assert_eq!(save(store, ALICE, &item, NOW + n / 2).await, Saved::Added);
    }
    save(store, BOB, &prompt_item("bobs"), NOW + 100).await;
    let mut seen = Vec::new();
    for (offset, expected) in [(0, 10), (10, 10), (20, 5), (30, 0)] {
        let (page, total) = store.bookmarks_page(ALICE, offset, 10).await.expect("page");
        assert_eq!(total, 25);
        assert_eq!(page.len(), expected, "page at {offset}");
        seen.extend(page.into_iter().map(|b| b.item_id));
    }
    let newest_first: Vec<String> = (0..25).rev().map(|n| format!("p-{n:02}")).collect();
    assert_eq!(seen, newest_first);
    let all: Vec<String> = store
        .bookmarks(ALICE)
        .await
        .expect("all")
        .into_iter()
        .map(|b| b.item_id)
        .collect();
    assert_eq!(all, newest_first);
    assert_eq!(
        store.bookmarks_page(333, 0, 10).await.expect("a stranger"),
        (vec![], 0)
    );
}
on_both_backends!(
    sqlite_bookmarks_page_newest_first,
    postgres_bookmarks_page_newest_first,
    bookmarks_page_newest_first
);

async fn bookmarks_stop_at_the_limit(store: &Store) {
    for n in 0..BOOKMARK_LIMIT {
        let item = prompt_item(&format!("p-{n}"));
        assert_eq!(save(store, ALICE, &item, NOW).await, Saved::Added, "{n}");
    }
    assert_eq!(
        save(store, ALICE, &prompt_item("one-too-many"), NOW + 1).await,
        Saved::Full
    );
    assert_eq!(
        save(store, ALICE, &prompt_item("p-7"), NOW + 1).await,
        Saved::AlreadySaved,
        "a full list still says an item is saved already"
    );
    assert_eq!(
        save(store, BOB, &prompt_item("one-too-many"), NOW + 1).await,
        Saved::Added,
        "the limit is per person"
    );
    let (_, total) = store.bookmarks_page(ALICE, 0, 1).await.expect("count");
    assert_eq!(total, u64::from(BOOKMARK_LIMIT));
    let oldest = store.bookmarks(ALICE).await.expect("list")[0].id;
    assert!(store.remove_bookmark(ALICE, oldest).await.expect("remove"));
    assert_eq!(
        save(store, ALICE, &prompt_item("one-too-many"), NOW + 2).await,
        Saved::Added,
        "room again after a removal"
    );
}
on_both_backends!(
    sqlite_bookmarks_stop_at_the_limit,
    postgres_bookmarks_stop_at_the_limit,
    bookmarks_stop_at_the_limit
);

async fn racing_saves_do_not_pass_the_limit(store: &Store) {
    const LIMIT: u32 = 5;
    // Many rounds, each with its own person, so that a window between counting and inserting
    // is hit at least once if it exists.
    for round in 0..20u64 {
        let person = ALICE + round;
        for n in 0..LIMIT - 1 {
            let item = prompt_item(&format!("p-{n}"));
            assert_eq!(
                store
                    .add_bookmark(person, &item, at(NOW), LIMIT)
                    .await
                    .expect("save"),
                Saved::Added
            );
        }
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(8));
        let racers: Vec<_> = (0..8)
            .map(|n| {
                let store = store.clone();
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    store
                        .add_bookmark(
                            person,
                            &prompt_item(&format!("race-{n}")),
                            at(NOW + 1),
                            LIMIT,
                        )
                        .await
                        .expect("save")
                })
            })
            .collect();
        let mut added = 0;
        for racer in racers {
            match racer.await.expect("racer") {
                Saved::Added => added += 1,
                Saved::Full => {}
                Saved::AlreadySaved => panic!("each racer saves a different item"),
            }
        }
        assert_eq!(added, 1, "one racer takes the last place (round {round})");
        let (_, total) = store.bookmarks_page(person, 0, 1).await.expect("count");
        assert_eq!(total, u64::from(LIMIT), "round {round}");
    }
}
on_both_backends!(
    sqlite_racing_saves_do_not_pass_the_limit,
    postgres_racing_saves_do_not_pass_the_limit,
    racing_saves_do_not_pass_the_limit
);

async fn saves_racing_a_removal_of_the_oldest_stay_within_the_limit(store: &Store) {
    const LIMIT: u32 = 5;
    for round in 0..20u64 {
        let person = BOB + round;
        for n in 0..LIMIT - 1 {
            let item = prompt_item(&format!("p-{n}"));
            store
                .add_bookmark(person, &item, at(NOW), LIMIT)
                .await
                .expect("save");
        }
        // The row saves queue on goes away while they wait.
        let oldest = store.bookmarks(person).await.expect("list")[LIMIT as usize - 2].id;
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(9));
        let remover = {
            let store = store.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                store.remove_bookmark(person, oldest).await.expect("remove")
            })
        };
        let savers: Vec<_> = (0..8)
            .map(|n| {
                let store = store.clone();
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    let item = prompt_item(&format!("race-{n}"));
                    store
                        .add_bookmark(person, &item, at(NOW + 1), LIMIT)
                        .await
                        .expect("save")
                })
            })
            .collect();
        assert!(remover.await.expect("remover"));
        let mut added = 0;
        for saver in savers {
            if saver.await.expect("saver") == Saved::Added {
                added += 1;
            }
        }
        let (_, total) = store.bookmarks_page(person, 0, 1).await.expect("count");
        assert!(total <= u64::from(LIMIT), "round {round}: {total}");
        assert_eq!(total, u64::from(LIMIT) - 2 + added, "round {round}");
        assert!((1..=2).contains(&added), "round {round}: {added}");
    }
}
on_both_backends!(
    sqlite_saves_racing_a_removal_of_the_oldest_stay_within_the_limit,
    postgres_saves_racing_a_removal_of_the_oldest_stay_within_the_limit,
    saves_racing_a_removal_of_the_oldest_stay_within_the_limit
);

/// Alice and Bob each have opt-ins, mutes, a DM status, DM records, bookmarks and a schedule
/// they set up. The DM tables are written raw: their own code lives on the DM side.
async fn two_people(store: &Store, raw: &mut Raw) -> (i64, i64) {
    let inserts = [
        format!("INSERT INTO dm_optins (user_id, guild_id, opted_in_at) VALUES ({ALICE}, {GUILD}, {NOW}), ({ALICE}, {OTHER_GUILD}, {}), ({BOB}, {GUILD}, {})", NOW + 1, NOW + 2),
        format!("INSERT INTO theme_mutes (user_id, theme, muted_at) VALUES ({ALICE}, 'bullying-and-harassment', {}), ({BOB}, 'resilience', {})", NOW + 3, NOW + 3),
        format!("INSERT INTO dm_status (user_id, channel_id, closed_at, told_at) VALUES ({ALICE}, 5555, {}, NULL), ({BOB}, 6666, NULL, NULL)", NOW + 4),
        format!("INSERT INTO dm_deliveries (user_id, card_key, delivery_id, state, claimed_at, message_id) VALUES ({ALICE}, 'k1', NULL, 'sent', {NOW}, 77), ({ALICE}, 'k2', NULL, 'failed', {NOW}, NULL), ({ALICE}, 'k3', NULL, 'sent', {NOW}, 79), ({BOB}, 'k1', NULL, 'sent', {NOW}, 78)"),
    ];
    for sql in inserts {
        raw.execute(&sql).await;
    }
    for (user, item, secs) in [
        (ALICE, "compassion-01", NOW + 10),
        (BOB, "bob-only-prompt", NOW + 11),
        (ALICE, "resilience-04", NOW + 12),
        (BOB, "compassion-01", NOW + 13),
    ] {
        assert_eq!(
            save(store, user, &prompt_item(item), secs).await,
            Saved::Added
        );
    }
    // Usage records: Alice's second Save of compassion in the same week adds nothing.
    for (guild, user, theme, kind, secs) in [
        (GUILD, ALICE, "compassion", UsageKind::Saved, NOW + 10),
        (GUILD, ALICE, "compassion", UsageKind::Saved, NOW + 20),
        (GUILD, ALICE, "", UsageKind::OptedIn, NOW),
        (OTHER_GUILD, ALICE, "resilience", UsageKind::Saved, NOW + 12),
        (GUILD, BOB, "compassion", UsageKind::Saved, NOW + 13),
    ] {
        store
            .record_usage(guild, user, theme, kind, at(secs))
            .await
            .expect("record usage");
    }
    let alices = store
        .upsert_schedule(&schedule(GUILD, 10, ALICE), at(NOW))
        .await
        .expect("alice's schedule");
    let bobs = store
        .upsert_schedule(&schedule(OTHER_GUILD, 20, BOB), at(NOW))
        .await
        .expect("bob's schedule");
    (alices.id, bobs.id)
}

async fn export_holds_exactly_the_persons_data(store: &Store, url: &str) {
    let mut raw = Raw::open(url).await;
    two_people(store, &mut raw).await;
    let alices_schedule = store
        .schedule_for_channel(10)
        .await
        .expect("read")
        .expect("exists");
    let bookmarks = store.bookmarks(ALICE).await.expect("bookmarks");
    let export = store.export_user(ALICE).await.expect("export");
    assert_eq!(
        export,
        UserExport {
            user_id: ALICE,
            dm_optins: vec![
                DmOptIn {
                    guild_id: GUILD,
                    opted_in_at: at(NOW),
                },
                DmOptIn {
                    guild_id: OTHER_GUILD,
                    opted_in_at: at(NOW + 1),
                },
            ],
            muted_themes: vec![ThemeMute {
                theme: "bullying-and-harassment".to_string(),
                muted_at: at(NOW + 3),
            }],
            dm_status: Some(DmStatus {
                channel_id: Some(5555),
                closed_at: Some(at(NOW + 4)),
                told_at: None,
            }),
            bookmarks: vec![
                Bookmark {
                    id: bookmarks[0].id,
                    kind: BookmarkKind::Prompt,
                    item_id: "resilience-04".to_string(),
                    title: "Compassion".to_string(),
                    body: Some("The words of resilience-04".to_string()),
                    url: Some("https://example.nhs.uk/compassion".to_string()),
                    created_at: at(NOW + 12),
                },
                Bookmark {
                    id: bookmarks[1].id,
                    kind: BookmarkKind::Prompt,
                    item_id: "compassion-01".to_string(),
                    title: "Compassion".to_string(),
                    body: Some("The words of compassion-01".to_string()),
                    url: Some("https://example.nhs.uk/compassion".to_string()),
                    created_at: at(NOW + 10),
                },
            ],
            dms_sent: 2,
            dm_records: 3,
            schedules_created: vec![CreatedSchedule {
                guild_id: GUILD,
                channel_id: 10,
                created_at: alices_schedule.created_at,
            }],
            usage_records: 3,
            sessions_run: vec![],
        }
    );
    // Every row about Alice in every table is accounted for by the export.
    for (table, rows) in [
        ("dm_optins", export.dm_optins.len()),
        ("theme_mutes", export.muted_themes.len()),
        ("dm_status", usize::from(export.dm_status.is_some())),
        ("dm_deliveries", export.dm_records as usize),
        ("bookmarks", export.bookmarks.len()),
    ] {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE user_id = {ALICE}");
        assert_eq!(raw.count(&sql).await, rows as i64, "{table}");
    }

    let json = serde_json::to_value(&export).expect("export serialises");
    assert_eq!(json["user_id"], ALICE.to_string(), "ids are strings");
    assert_eq!(json["dm_optins"][1]["guild_id"], OTHER_GUILD.to_string());
    assert_eq!(json["dm_status"]["channel_id"], "5555");
    assert_eq!(json["bookmarks"][0]["kind"], "prompt");
    assert_eq!(
        json["schedules_created"][0]["channel_id"], "10",
        "ids are strings"
    );
    let text = json.to_string();
    for bobs in [
        BOB.to_string(),
        "bob-only-prompt".to_string(),
        "6666".to_string(),
        "resilience\"".to_string(),
    ] {
        assert!(!text.contains(&bobs), "nothing of Bob's ({bobs}): {text}");
    }

    let nobody = store.export_user(333).await.expect("export of a stranger");
    assert_eq!(
        nobody,
        UserExport {
            user_id: 333,
            dm_optins: vec![],
            muted_themes: vec![],
            dm_status: None,
            bookmarks: vec![],
            dms_sent: 0,
            dm_records: 0,
            schedules_created: vec![],
            usage_records: 0,
            sessions_run: vec![],
        }
    );
    raw.close().await;
}
on_both_backends!(
    sqlite_export_holds_exactly_the_persons_data,
    postgres_export_holds_exactly_the_persons_data,
    export_holds_exactly_the_persons_data,
    with_url
);

async fn erase_forgets_the_person_and_keeps_the_team_schedule(store: &Store, url: &str) {
    let mut raw = Raw::open(url).await;
    let (alices_schedule, bobs_schedule) = two_people(store, &mut raw).await;
    let bob_before = store.export_user(BOB).await.expect("bob's export");
    let schedule_before = store
        .schedule_for_channel(10)
        .await
        .expect("read")
        .expect("exists");
    let mentioned: Vec<String> = raw
        .mentions(ALICE)
        .await
        .into_iter()
        .map(|(table, _)| table)
        .collect();
    for table in [
        "bookmarks",
        "dm_optins",
        "theme_mutes",
        "dm_status",
        "dm_deliveries",
        "schedules",
    ] {
        assert!(
            mentioned.iter().any(|found| found == table),
            "the check sees Alice in {table} before: {mentioned:?}"
        );
    }

    assert_eq!(
        store.erase_user(ALICE).await.expect("erase"),
        Erased {
            bookmarks: 2,
            dm_optins: 2,
            theme_mutes: 1,
            dm_status: 1,
            dm_deliveries: 3,
            schedules_anonymised: 1,
            usage_records: 3,
            sessions_anonymised: 0,
        }
    );
    assert_eq!(
        raw.mentions(ALICE).await,
        Vec::<(String, String)>::new(),
        "no row in any table mentions Alice"
    );
    assert_eq!(
        store.export_user(ALICE).await.expect("export after erase"),
        UserExport {
            user_id: ALICE,
            dm_optins: vec![],
            muted_themes: vec![],
            dm_status: None,
            bookmarks: vec![],
            dms_sent: 0,
            dm_records: 0,
            schedules_created: vec![],
            usage_records: 0,
            sessions_run: vec![],
        },
        "nothing about Alice is left"
    );

    let kept = store
        .schedule_for_channel(10)
        .await
        .expect("read")
        .expect("the team's schedule stays");
    assert_eq!(kept.id, alices_schedule);
    assert_eq!(kept.created_by, ERASED_USER, "but forgets who set it up");
    assert_eq!(
        ScheduleWithoutCreator::from(kept),
        ScheduleWithoutCreator::from(schedule_before),
        "and nothing else about it changes"
    );
    assert_eq!(
        store.export_user(BOB).await.expect("bob's export"),
        bob_before,
        "Bob's data is untouched"
    );
    let bobs = store
        .schedule_for_channel(20)
        .await
        .expect("read")
        .expect("bob's schedule");
    assert_eq!(bobs.id, bobs_schedule);
    assert_eq!(bobs.created_by, BOB);

    assert_eq!(
        store.erase_user(ALICE).await.expect("erase again"),
        Erased::default()
    );
    assert_eq!(
        store.erase_user(444).await.expect("erase a stranger"),
        Erased::default()
    );
    // Anonymised schedules are nobody's data: they don't show up as the erased user's.
    assert!(store
        .export_user(ERASED_USER)
        .await
        .expect("export of id 0")
        .schedules_created
        .is_empty());
    raw.close().await;
}
on_both_backends!(
    sqlite_erase_forgets_the_person_and_keeps_the_team_schedule,
    postgres_erase_forgets_the_person_and_keeps_the_team_schedule,
    erase_forgets_the_person_and_keeps_the_team_schedule,
    with_url
);

async fn departed_servers_are_forgotten_after_the_retention(store: &Store, url: &str) {
    let mut raw = Raw::open(url).await;
    let (alices_schedule, bobs_schedule) = two_people(store, &mut raw).await;
    raw.execute(&format!(
        "INSERT INTO deliveries (schedule_id, slot_at, state) VALUES ({alices_schedule}, 1000, 'sent'), ({bobs_schedule}, 1000, 'sent')"
    ))
    .await;
    store
        .guild_departed(GUILD, at(NOW))
        .await
        .expect("careprompt leaves GUILD");
    assert_eq!(
        store.purge_departed_guilds(at(NOW)).await.expect("purge"),
        Purged::default(),
        "not before the retention has passed"
    );
    assert!(store
        .schedule_for_channel(10)
        .await
        .expect("read")
        .is_some());

    assert_eq!(
        store
            .purge_departed_guilds(at(NOW + 1))
            .await
            .expect("purge"),
        Purged {
            guilds: 1,
            schedules: 1,
            dm_optins: 2,
            usage_records: 3,
        }
    );
    assert!(store
        .schedule_for_channel(10)
        .await
        .expect("read")
        .is_none());
    let left = |table: &str, filter: String| format!("SELECT COUNT(*) FROM {table} WHERE {filter}");
    assert_eq!(
        raw.count(&left(
            "deliveries",
            format!("schedule_id = {alices_schedule}")
        ))
        .await,
        0,
        "its ledger goes with it"
    );
    assert_eq!(
        raw.count(&left("dm_optins", format!("guild_id = {GUILD}")))
            .await,
        0
    );
    assert_eq!(
        raw.count(&left("departed_guilds", "TRUE".to_string()))
            .await,
        0
    );
    assert_eq!(
        raw.count(&left("insight_secrets", format!("guild_id = {GUILD}")))
            .await,
        0,
        "the server's secret goes with its usage records"
    );
    for summary in ["usage_weeks", "usage_people"] {
        assert_eq!(
            raw.count(&left(summary, format!("guild_id = {GUILD}")))
                .await,
            0,
            "{summary} goes with the records"
        );
    }
    assert_eq!(
        store.usage_records_of(ALICE).await.expect("count"),
        1,
        "usage records in other servers stay"
    );
    assert_eq!(
        store.bookmarks(ALICE).await.expect("bookmarks").len(),
        2,
        "bookmarks belong to the person and stay"
    );
    assert_eq!(
        store.export_user(ALICE).await.expect("export").dm_optins,
        vec![DmOptIn {
            guild_id: OTHER_GUILD,
            opted_in_at: at(NOW + 1),
        }],
        "opt-ins for other servers stay"
    );
    assert!(store
        .schedule_for_channel(20)
        .await
        .expect("read")
        .is_some());
    assert_eq!(
        raw.count(&left(
            "deliveries",
            format!("schedule_id = {bobs_schedule}")
        ))
        .await,
        1
    );
    assert_eq!(
        store
            .purge_departed_guilds(at(NOW + 99))
            .await
            .expect("again"),
        Purged::default()
    );
    raw.close().await;
}
on_both_backends!(
    sqlite_departed_servers_are_forgotten_after_the_retention,
    postgres_departed_servers_are_forgotten_after_the_retention,
    departed_servers_are_forgotten_after_the_retention,
    with_url
);

// ---- insights ------------------------------------------------------------------------------

fn tally(tallies: &[Tally], measure: Measure, week: Option<i64>, theme: Option<&str>) -> u64 {
    tallies
        .iter()
        .filter(|t| t.measure == measure && t.week == week && t.theme.as_deref() == theme)
        .map(|t| t.count)
        .sum()
}

/// People are counted once per cell and once per margin, the ledgers give posts and DMs, and no
/// table holds anyone's id for it.
async fn insight_figures_count_distinct_people(store: &Store, url: &str) {
    let mut raw = Raw::open(url).await;
    let week0 = week_of(NOW);
    let week1 = week0 + WEEK_SECS;
    let people: Vec<u64> = (1..=6).map(|n| 500_000_000_000_000_000 + n).collect();
    // Week 0: people 1-4 save compassion, 1-2 also resilience (twice each); week 1: 1-3
    // compassion. Person 6 opts in. Someone in another server saves too.
    let mut events = Vec::new();
    for &p in &people[..4] {
        events.push((GUILD, p, "compassion", UsageKind::Saved, week0 + 10));
    }
    for &p in &people[..2] {
        events.push((GUILD, p, "resilience", UsageKind::Saved, week0 + 20));
        events.push((GUILD, p, "resilience", UsageKind::Saved, week0 + 30));
    }
    for &p in &people[..3] {
        events.push((GUILD, p, "compassion", UsageKind::Saved, week1 + 5));
    }
    events.push((GUILD, people[5], "", UsageKind::OptedIn, week1 + 6));
    events.push((
        OTHER_GUILD,
        people[0],
        "compassion",
        UsageKind::Saved,
        week0 + 10,
    ));
    for (guild, user, theme, kind, secs) in events {
        store
            .record_usage(guild, user, theme, kind, at(secs))
            .await
            .expect("record");
    }
    // Two posts in week 0 (compassion, resilience), one in week 1, and one failed; DMs of them.
    let posting = store
        .upsert_schedule(&schedule(GUILD, 10, ALICE), at(NOW))
        .await
        .expect("schedule");
    let other = store
        .upsert_schedule(&schedule(OTHER_GUILD, 20, BOB), at(NOW))
        .await
        .expect("other schedule");
    let id = posting.id;
    raw.execute(&format!(
        "INSERT INTO deliveries (id, schedule_id, slot_at, state, theme) VALUES          (901, {id}, {}, 'sent', 'compassion'), (902, {id}, {}, 'sent', 'resilience'),          (903, {id}, {}, 'sent', 'compassion'), (904, {id}, {}, 'failed', 'compassion'),          (905, {}, {}, 'sent', 'compassion')",
        week0 + 100,
        week0 + 200,
        week1 + 100,
        week1 + 200,
        other.id,
        week0 + 100
    ))
    .await;
    raw.execute(&format!(
        "INSERT INTO dm_deliveries (user_id, card_key, delivery_id, state, claimed_at) VALUES          ({ALICE}, 'a1', 901, 'sent', {NOW}), ({BOB}, 'b1', 901, 'sent', {NOW}),          ({ALICE}, 'a2', 902, 'sent', {NOW}), ({BOB}, 'b2', 902, 'skipped', {NOW}),          ({ALICE}, 'a3', 903, 'sent', {NOW}), ({BOB}, 'b5', 905, 'sent', {NOW})"
    ))
    .await;
    raw.execute(&format!(
        "INSERT INTO dm_optins (user_id, guild_id, opted_in_at) VALUES ({ALICE}, {GUILD}, {NOW}), ({BOB}, {GUILD}, {NOW})"
    ))
    .await;

    assert_eq!(
        store.guild_of_delivery(901).await.expect("read"),
        Some(GUILD)
    );
    assert_eq!(store.guild_of_delivery(999).await.expect("read"), None);
    let tallies = store
        .insight_tallies(GUILD, week0, 2)
        .await
        .expect("tallies");
    let t = |m, w: Option<i64>, th: Option<&str>| tally(&tallies, m, w, th);
    use Measure::*;
    assert_eq!(t(Savers, Some(week0), Some("compassion")), 4);
    assert_eq!(t(Savers, Some(week0), Some("resilience")), 2);
    assert_eq!(
        t(Savers, Some(week0), None),
        4,
        "each person once in a week's total"
    );
    assert_eq!(t(Savers, Some(week1), Some("compassion")), 3);
    assert_eq!(
        t(Savers, None, Some("compassion")),
        4,
        "each person once over the weeks"
    );
    assert_eq!(t(Savers, None, None), 4);
    assert_eq!(t(Posts, Some(week0), Some("compassion")), 1);
    assert_eq!(t(Posts, Some(week0), Some("resilience")), 1);
    assert_eq!(
        t(Posts, Some(week1), Some("compassion")),
        1,
        "a failed post is no post"
    );
    assert_eq!(t(Dms, Some(week0), Some("compassion")), 2);
    assert_eq!(
        t(Dms, Some(week0), Some("resilience")),
        1,
        "a skipped DM is no DM"
    );
    assert_eq!(t(DmPeople, Some(week0), None), 2);
    assert_eq!(t(DmPeople, None, None), 2);
    assert_eq!(t(OptedIn, None, None), 1);
    assert_eq!(t(OptedInNow, None, None), 2);
    assert_eq!(t(PeopleEver, None, None), 5);
    // A window that starts later leaves the earlier week out, but not who ever used it.
    let later = store.insight_tallies(GUILD, week1, 1).await.expect("later");
    assert_eq!(tally(&later, Savers, None, None), 3);
    assert_eq!(tally(&later, Posts, Some(week0), Some("compassion")), 0);
    assert_eq!(tally(&later, PeopleEver, None, None), 5);

    // Nobody's id is kept for insights, and each person's count is theirs alone.
    for &p in &people {
        let found: Vec<String> = raw.mentions(p).await.into_iter().map(|(t, _)| t).collect();
        assert!(found.is_empty(), "{p} is in {found:?}");
    }
    assert_eq!(store.usage_records_of(people[0]).await.expect("count"), 4);
    assert_eq!(store.usage_records_of(people[5]).await.expect("count"), 1);
    assert_eq!(store.usage_records_of(ALICE).await.expect("count"), 0);
    raw.close().await;
}
on_both_backends!(
    sqlite_insight_figures_count_distinct_people,
    postgres_insight_figures_count_distinct_people,
    insight_figures_count_distinct_people,
    with_url
);

/// `/forget-me` erases a person's usage records in every server and nobody else's, and records
/// are kept for the week under way and the 52 before it.
async fn usage_records_are_erased_on_request_and_after_53_weeks(store: &Store, url: &str) {
    let mut raw = Raw::open(url).await;
    let now = week_of(NOW) + 3 * 24 * 3600;
    let kept_from = week_of(now) - 52 * WEEK_SECS;
    for (guild, user, secs) in [
        (GUILD, ALICE, kept_from - 1),
        (GUILD, ALICE, kept_from),
        (OTHER_GUILD, ALICE, now),
        (GUILD, BOB, kept_from - WEEK_SECS),
        (GUILD, BOB, now),
    ] {
        store
            .record_usage(guild, user, "compassion", UsageKind::Saved, at(secs))
            .await
            .expect("record");
    }
    assert_eq!(store.usage_records_of(ALICE).await.expect("count"), 3);
    assert_eq!(
        store
            .purge_old_usage(usage_cutoff(at(now)))
            .await
            .expect("purge"),
        2,
        "the two from before the 53 weeks go"
    );
    assert_eq!(store.usage_records_of(ALICE).await.expect("count"), 2);
    assert_eq!(store.usage_records_of(BOB).await.expect("count"), 1);
    assert_eq!(
        raw.count("SELECT COUNT(*) FROM usage_weeks").await,
        3,
        "the weeks summarised go with their records"
    );
    let erased = store.erase_user(ALICE).await.expect("erase");
    assert_eq!(erased.usage_records, 2);
    assert_eq!(store.usage_records_of(ALICE).await.expect("count"), 0);
    assert_eq!(store.usage_records_of(BOB).await.expect("count"), 1);
    assert_eq!(
        raw.count("SELECT COUNT(*) FROM usage_events").await,
        1,
        "only Bob's record is left"
    );
    assert_eq!(
        (
            raw.count("SELECT COUNT(*) FROM usage_weeks").await,
            raw.count("SELECT COUNT(*) FROM usage_people").await
        ),
        (1, 2),
        "only Bob's summaries are left: his week, and his last week in the theme and in any"
    );
    // The counts forget Alice too: her week is empty again, Bob's still holds him.
    let tallies = store
        .insight_tallies(GUILD, kept_from, 53)
        .await
        .expect("tallies");
    for week in [kept_from, week_of(now)] {
        let bobs = u64::from(week == week_of(now));
        assert_eq!(
            (
                tally(&tallies, Measure::Savers, Some(week), Some("compassion")),
                tally(&tallies, Measure::Savers, Some(week), None)
            ),
            (bobs, bobs),
            "week {week}"
        );
    }
    raw.close().await;
}
on_both_backends!(
    sqlite_usage_records_are_erased_on_request_and_after_53_weeks,
    postgres_usage_records_are_erased_on_request_and_after_53_weeks,
    usage_records_are_erased_on_request_and_after_53_weeks,
    with_url
);

// ---- a Save and its usage record ---------------------------------------------------------

/// What `usage_counts` holds, as (server, kind, week, theme, people), and what the records and
/// their summaries say it must hold: each cell counts the people of its records, each week
/// ('*') the people of `usage_weeks`; `usage_people` holds each person's last week per theme and
/// in any. Equal on both sides means nobody was lost or counted twice.
type CountRow = (i64, String, i64, String, i64);
type LastWeekRow = (i64, String, String, Vec<u8>, i64);

impl Raw {
    async fn count_rows(&mut self, sql: &str) -> Vec<CountRow> {
        let rows = match self {
            Raw::Sqlite(conn) => sqlx::query_as(sql).fetch_all(conn).await,
            Raw::Postgres(conn) => sqlx::query_as(sql).fetch_all(conn).await,
        };
        rows.unwrap_or_else(|err| panic!("{sql}: {err}"))
    }

    async fn last_week_rows(&mut self, sql: &str) -> Vec<LastWeekRow> {
        let rows = match self {
            Raw::Sqlite(conn) => sqlx::query_as(sql).fetch_all(conn).await,
            Raw::Postgres(conn) => sqlx::query_as(sql).fetch_all(conn).await,
        };
        rows.unwrap_or_else(|err| panic!("{sql}: {err}"))
    }

    /// Asserts that the counts and summaries agree with the records.
    async fn assert_usage_consistent(&mut self) {
        let kept = self
            .count_rows(
                "SELECT guild_id, kind, week, theme, people FROM usage_counts WHERE people <> 0 \
                 ORDER BY guild_id, kind, week, theme",
            )
            .await;
        let recounted = self
            .count_rows(
                "SELECT guild_id, kind, week, theme, COUNT(*) FROM usage_events \
                 GROUP BY guild_id, kind, week, theme \
                 UNION ALL SELECT guild_id, kind, week, '*', COUNT(*) FROM usage_weeks \
                 GROUP BY guild_id, kind, week ORDER BY 1, 2, 3, 4",
            )
            .await;
        assert_eq!(kept, recounted, "usage_counts against the records");
        let weeks_of_records = self
            .count_rows(
                "SELECT guild_id, kind, week, '*', COUNT(DISTINCT person) FROM usage_events \
                 GROUP BY guild_id, kind, week ORDER BY 1, 2, 3",
            )
            .await;
        let weeks = self
            .count_rows(
                "SELECT guild_id, kind, week, '*', COUNT(*) FROM usage_weeks \
                 GROUP BY guild_id, kind, week ORDER BY 1, 2, 3",
            )
            .await;
        assert_eq!(weeks, weeks_of_records, "usage_weeks against the records");
        let people = self
            .last_week_rows(
                "SELECT guild_id, kind, theme, person, last_week FROM usage_people \
                 ORDER BY 1, 2, 3, 4",
            )
            .await;
        let last_weeks = self
            .last_week_rows(
                "SELECT guild_id, kind, theme, person, MAX(week) FROM usage_events \
                 WHERE theme <> '' GROUP BY guild_id, kind, theme, person \
                 UNION ALL SELECT guild_id, kind, '*', person, MAX(week) FROM usage_events \
                 GROUP BY guild_id, kind, person ORDER BY 1, 2, 3, 4",
            )
            .await;
        assert_eq!(people, last_weeks, "usage_people against the records");
    }
}

fn themes(list: &[&str]) -> Vec<String> {
    list.iter().map(|theme| theme.to_string()).collect()
}

fn saved_in<'a>(guild_id: u64, user_id: u64, themes: &'a [String], secs: i64) -> Usage<'a> {
    Usage {
        guild_id,
        user_id,
        themes,
        kind: UsageKind::Saved,
        at: at(secs),
    }
}

async fn save_counted(
    store: &Store,
    user: u64,
    item: &NewBookmark,
    themes: &[String],
    secs: i64,
) -> Saved {
    store
        .save_bookmark(
            user,
            item,
            at(secs),
            BOOKMARK_LIMIT,
            Some(&saved_in(GUILD, user, themes, secs)),
        )
        .await
        .expect("save")
}

async fn savers(store: &Store, week: i64, theme: Option<&str>) -> u64 {
    let tallies = store
        .insight_tallies(GUILD, week, 1)
        .await
        .expect("tallies");
    tally(&tallies, Measure::Savers, Some(week), theme)
}

/// A Save writes its bookmark and its usage record together; a second Save of the same theme in
/// the week, or of the same item, adds no record; a full list saves nothing and counts nothing.
async fn a_save_and_its_usage_record_are_written_together_and_counted_once(
    store: &Store,
    url: &str,
) {
    let mut raw = Raw::open(url).await;
    let week = week_of(NOW);
    let compassion = themes(&["compassion"]);
    let both = themes(&["resilience", "compassion"]);
    let story = NewBookmark {
        kind: BookmarkKind::Story,
        item_id: "compassion-03".to_string(),
        title: "A story".to_string(),
        body: None,
        url: Some("https://example.nhs.uk/story".to_string()),
    };
    assert_eq!(
        save_counted(store, ALICE, &prompt_item("p1"), &compassion, NOW).await,
        Saved::Added
    );
    assert_eq!(store.usage_records_of(ALICE).await.expect("count"), 1);
    assert_eq!(savers(store, week, Some("compassion")).await, 1);
    assert_eq!(
        save_counted(store, ALICE, &prompt_item("p1"), &compassion, NOW + 5).await,
        Saved::AlreadySaved
    );
    assert_eq!(
        save_counted(store, ALICE, &prompt_item("p2"), &compassion, NOW + 6).await,
        Saved::Added
    );
    assert_eq!(
        store.usage_records_of(ALICE).await.expect("count"),
        1,
        "one record per theme and week, however many Saves"
    );
    // A story of two themes counts in both: one new record, and the week once.
    assert_eq!(
        save_counted(store, ALICE, &story, &both, NOW + 7).await,
        Saved::Added
    );
    assert_eq!(store.usage_records_of(ALICE).await.expect("count"), 2);
    assert_eq!(savers(store, week, Some("resilience")).await, 1);
    assert_eq!(savers(store, week, Some("compassion")).await, 1);
    assert_eq!(savers(store, week, None).await, 1);
    // Bob saves the story this week, and again next week: a Save of an item saved already
    // counts too, in the week it was made.
    save_counted(store, BOB, &story, &both, NOW).await;
    assert_eq!(
        save_counted(store, BOB, &story, &both, NOW + WEEK_SECS).await,
        Saved::AlreadySaved
    );
    assert_eq!(store.usage_records_of(BOB).await.expect("count"), 4);
    assert_eq!(savers(store, week, None).await, 2);
    assert_eq!(savers(store, week + WEEK_SECS, None).await, 1);
    // A full list: nothing saved, nothing counted.
    let full = store
        .save_bookmark(
            ALICE,
            &prompt_item("p3"),
            at(NOW + 8),
            3,
            Some(&saved_in(GUILD, ALICE, &themes(&["whole-self"]), NOW + 8)),
        )
        .await
        .expect("save");
    assert_eq!(full, Saved::Full);
    assert_eq!(store.usage_records_of(ALICE).await.expect("count"), 2);
    assert_eq!(savers(store, week, Some("whole-self")).await, 0);
    // A Save counted nowhere (a DM answer) writes only the bookmark.
    assert_eq!(
        store
            .save_bookmark(ALICE, &prompt_item("p4"), at(NOW + 9), BOOKMARK_LIMIT, None)
            .await
            .expect("save"),
        Saved::Added
    );
    assert_eq!(store.usage_records_of(ALICE).await.expect("count"), 2);
    raw.assert_usage_consistent().await;
    raw.close().await;
}
on_both_backends!(
    sqlite_a_save_and_its_usage_record_are_written_together_and_counted_once,
    postgres_a_save_and_its_usage_record_are_written_together_and_counted_once,
    a_save_and_its_usage_record_are_written_together_and_counted_once,
    with_url
);

/// Saves at once by twenty people, each saving five items of two themes, some of them twice at
/// the same moment: each person is counted once in each theme and once in the week, and every
/// count agrees with the records.
async fn saves_at_once_are_each_counted_once(store: &Store, url: &str) {
    let mut raw = Raw::open(url).await;
    let week = week_of(NOW);
    let people: Vec<u64> = (1..=20).map(|n| 700_000_000_000_000_000 + n).collect();
    let theme_of = |item: u64| {
        if item % 2 == 0 {
            themes(&["compassion"])
        } else {
            themes(&["resilience", "compassion"])
        }
    };
    let saves = people.iter().flat_map(|&person| {
        // Item 0 twice at once, by the same person.
        [0u64, 0, 1, 2, 3, 4]
            .into_iter()
            .map(move |item| (person, item))
    });
    let outcomes = futures_util::future::join_all(saves.map(|(person, item)| {
        let themes = theme_of(item);
        async move {
            save_counted(
                store,
                person,
                &prompt_item(&format!("p{item}")),
                &themes,
                NOW,
            )
            .await
        }
    }))
    .await;
    assert_eq!(
        outcomes
            .iter()
            .filter(|saved| **saved == Saved::Added)
            .count(),
        people.len() * 5
    );
    assert_eq!(
        outcomes
            .iter()
            .filter(|saved| **saved == Saved::AlreadySaved)
            .count(),
        people.len()
    );
    for &person in &people {
        assert_eq!(store.usage_records_of(person).await.expect("count"), 2);
        assert_eq!(store.bookmarks(person).await.expect("bookmarks").len(), 5);
    }
    assert_eq!(savers(store, week, Some("compassion")).await, 20);
    assert_eq!(savers(store, week, Some("resilience")).await, 20);
    assert_eq!(savers(store, week, None).await, 20);
    raw.assert_usage_consistent().await;
    raw.close().await;
}
on_both_backends!(
    sqlite_saves_at_once_are_each_counted_once,
    postgres_saves_at_once_are_each_counted_once,
    saves_at_once_are_each_counted_once,
    with_url
);

/// /forget-me right after a Save erases the Save's record with its bookmark, and /forget-me at
/// the same moment as a Save comes wholly before or wholly after it: the person keeps both the
/// bookmark and its record, or neither.
async fn forget_me_after_a_save_takes_its_record_too(store: &Store, url: &str) {
    let mut raw = Raw::open(url).await;
    let week = week_of(NOW);
    let compassion = themes(&["compassion"]);
    save_counted(store, BOB, &prompt_item("p1"), &compassion, NOW).await;
    save_counted(store, ALICE, &prompt_item("p1"), &compassion, NOW).await;
    let erased = store.erase_user(ALICE).await.expect("erase");
    assert_eq!((erased.bookmarks, erased.usage_records), (1, 1));
    assert_eq!(store.usage_records_of(ALICE).await.expect("count"), 0);
    assert_eq!(
        savers(store, week, Some("compassion")).await,
        1,
        "Bob alone"
    );
    raw.assert_usage_consistent().await;

    for round in 0..12u64 {
        let person = 800_000_000_000_000_000 + round;
        let item = prompt_item("p1");
        let (saved, erased) = tokio::join!(
            save_counted(store, person, &item, &compassion, NOW + 1),
            store.erase_user(person)
        );
        assert_eq!(saved, Saved::Added);
        let erased = erased.expect("erase");
        let kept = (
            store.bookmarks(person).await.expect("bookmarks").len() as u64,
            store.usage_records_of(person).await.expect("count"),
        );
        assert!(
            kept == (1, 1) && (erased.bookmarks, erased.usage_records) == (0, 0)
                || kept == (0, 0) && (erased.bookmarks, erased.usage_records) == (1, 1),
            "round {round}: kept {kept:?}, erased {erased:?}"
        );
    }
    raw.assert_usage_consistent().await;
    raw.close().await;
}
on_both_backends!(
    sqlite_forget_me_after_a_save_takes_its_record_too,
    postgres_forget_me_after_a_save_takes_its_record_too,
    forget_me_after_a_save_takes_its_record_too,
    with_url
);

/// A process keeps a server's secret once read. Another process (a second store on the same
/// database) forgets the server, secret and all, and a Save arrives again: the first process
/// notices the secret it holds is no longer the stored one, and writes the record under the
/// stored one, so /forget-me still finds it and nobody is counted under two secrets.
async fn a_secret_erased_by_another_process_is_not_used(store: &Store, url: &str) {
    let mut raw = Raw::open(url).await;
    let other = Store::connect(url, 2).await.expect("a second process");
    let week = week_of(NOW);
    let compassion = themes(&["compassion"]);
    save_counted(store, ALICE, &prompt_item("p1"), &compassion, NOW).await;
    let first: Vec<u8> = match &mut raw {
        Raw::Sqlite(conn) => sqlx::query_scalar("SELECT secret FROM insight_secrets")
            .fetch_one(conn)
            .await
            .expect("secret"),
        Raw::Postgres(conn) => sqlx::query_scalar("SELECT secret FROM insight_secrets")
            .fetch_one(conn)
            .await
            .expect("secret"),
    };
    other.guild_departed(GUILD, at(NOW)).await.expect("left");
    let purged = other
        .purge_departed_guilds(at(NOW + 1))
        .await
        .expect("purge");
    assert_eq!(purged.usage_records, 1);
    assert_eq!(
        raw.count("SELECT COUNT(*) FROM insight_secrets").await,
        0,
        "the secret went with the server"
    );
    // Back in the server: the first process saves for Bob, and again for Alice.
    save_counted(store, BOB, &prompt_item("p1"), &compassion, NOW + 2).await;
    save_counted(store, ALICE, &prompt_item("p2"), &compassion, NOW + 3).await;
    assert_eq!(raw.count("SELECT COUNT(*) FROM insight_secrets").await, 1);
    assert_eq!(store.usage_records_of(BOB).await.expect("count"), 1);
    assert_eq!(store.usage_records_of(ALICE).await.expect("count"), 1);
    assert_eq!(savers(store, week, Some("compassion")).await, 2);
    // The second process made the secret this time; the first, holding the one it made, saves
    // for Carol under the stored one.
    other
        .guild_departed(GUILD, at(NOW + 4))
        .await
        .expect("left");
    other
        .purge_departed_guilds(at(NOW + 5))
        .await
        .expect("purge");
    other
        .record_usage(GUILD, BOB, "compassion", UsageKind::Saved, at(NOW + 6))
        .await
        .expect("record");
    let carol = 333_333_333_333_333_333;
    save_counted(store, carol, &prompt_item("p1"), &compassion, NOW + 7).await;
    assert_eq!(store.usage_records_of(carol).await.expect("count"), 1);
    assert_eq!(other.usage_records_of(carol).await.expect("count"), 1);
    assert_eq!(
        savers(store, week, Some("compassion")).await,
        2,
        "Bob and Carol"
    );
    let stored: Vec<u8> = match &mut raw {
        Raw::Sqlite(conn) => sqlx::query_scalar("SELECT secret FROM insight_secrets")
            .fetch_one(conn)
            .await
            .expect("secret"),
        Raw::Postgres(conn) => sqlx::query_scalar("SELECT secret FROM insight_secrets")
            .fetch_one(conn)
            .await
            .expect("secret"),
    };
    assert_ne!(stored, first);
    assert_eq!(
        store.erase_user(carol).await.expect("erase").usage_records,
        1,
        "/forget-me finds the record"
    );
    raw.assert_usage_consistent().await;
    other.close().await;
    raw.close().await;
}
on_both_backends!(
    sqlite_a_secret_erased_by_another_process_is_not_used,
    postgres_a_secret_erased_by_another_process_is_not_used,
    a_secret_erased_by_another_process_is_not_used,
    with_url
);

/// A schedule with its creator blanked out, to compare everything else.
#[derive(Debug, PartialEq)]
struct ScheduleWithoutCreator(careprompt::store::ScheduleRecord);

impl From<careprompt::store::ScheduleRecord> for ScheduleWithoutCreator {
    fn from(mut record: careprompt::store::ScheduleRecord) -> Self {
        record.created_by = ERASED_USER;
        ScheduleWithoutCreator(record)
    }
}

// ---- ids and times -------------------------------------------------------------------------

async fn u64_ids_round_trip_losslessly(store: &Store) {
    let huge = [u64::MAX, (i64::MAX as u64) + 1, i64::MAX as u64, 0];
    let new = NewSchedule {
        guild_id: u64::MAX,
        channel_id: (i64::MAX as u64) + 1,
        role_ping: Some(u64::MAX - 1),
        created_by: u64::MAX - 2,
        seed: u64::MAX,
        ..schedule(GUILD, 0, ALICE)
    };
    let record = store.upsert_schedule(&new, at(NOW)).await.expect("upsert");
    assert_eq!(record.guild_id, u64::MAX);
    assert_eq!(record.channel_id, (i64::MAX as u64) + 1);
    assert_eq!(record.role_ping, Some(u64::MAX - 1));
    assert_eq!(record.created_by, u64::MAX - 2);
    assert_eq!(record.rotation.seed, u64::MAX);
    assert_eq!(
        store
            .schedule_for_channel((i64::MAX as u64) + 1)
            .await
            .expect("read"),
        Some(record.clone())
    );
    assert_eq!(
        store
            .schedules_for_guild(u64::MAX)
            .await
            .expect("list")
            .schedules,
        vec![record]
    );
    assert_eq!(
        store
            .export_user(u64::MAX - 2)
            .await
            .expect("export")
            .schedules_created
            .len(),
        1
    );

    for user in huge {
        assert_eq!(
            save(store, user, &prompt_item(&format!("p-{user}")), NOW).await,
            Saved::Added
        );
    }
    for user in huge {
        let export = store.export_user(user).await.expect("export");
        assert_eq!(export.user_id, user);
        assert_eq!(export.bookmarks.len(), 1, "only their own bookmark");
        assert_eq!(export.bookmarks[0].item_id, format!("p-{user}"));
    }
    assert_eq!(
        store.erase_user(u64::MAX).await.expect("erase").bookmarks,
        1
    );
    assert!(store.bookmarks(u64::MAX).await.expect("gone").is_empty());
    assert_eq!(
        store
            .bookmarks(i64::MAX as u64)
            .await
            .expect("others kept")
            .len(),
        1
    );
    assert!(store
        .delete_schedule((i64::MAX as u64) + 1)
        .await
        .expect("delete"));
}
on_both_backends!(
    sqlite_u64_ids_round_trip_losslessly,
    postgres_u64_ids_round_trip_losslessly,
    u64_ids_round_trip_losslessly
);

async fn times_are_kept_to_the_second_in_utc(store: &Store) {
    let precise = at(NOW) + chrono::Duration::milliseconds(987);
    let new = NewSchedule {
        next_due: Some(precise),
        ..schedule(GUILD, 10, ALICE)
    };
    let record = store.upsert_schedule(&new, at(NOW)).await.expect("upsert");
    assert_eq!(record.next_due, Some(at(NOW)), "sub-second part dropped");
    let early = at(-86_400);
    assert!(store
        .advance_rotation(record.id, record.version, &record.rotation, Some(early))
        .await
        .expect("advance"));
    assert_eq!(
        store
            .schedule_for_channel(10)
            .await
            .expect("read")
            .expect("exists")
            .next_due,
        Some(early),
        "times before 1970 work too"
    );
}
on_both_backends!(
    sqlite_times_are_kept_to_the_second_in_utc,
    postgres_times_are_kept_to_the_second_in_utc,
    times_are_kept_to_the_second_in_utc
);

// ---- connecting ----------------------------------------------------------------------------

#[tokio::test]
async fn a_bad_postgres_url_names_the_backend_and_hides_the_password() {
    let url = "postgres://postgres:sekrit@127.0.0.1:1/x";
    let started = std::time::Instant::now();
    let err = Store::connect(url, 1)
        .await
        .expect_err("nothing listens on port 1");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "fails promptly"
    );
    let message = err.to_string();
    let debug = format!("{err:?}");
    match &err {
        StoreError::Connect { backend, reason } => {
            assert_eq!(*backend, "postgres");
            assert!(!reason.contains("sekrit"), "{reason}");
        }
        other => panic!("expected Connect, got {other:?}"),
    }
    assert!(message.contains("postgres"), "{message}");
    assert!(message.contains("127.0.0.1:1"), "says where: {message}");
    assert!(!message.contains("sekrit"), "{message}");
    assert!(!debug.contains("sekrit"), "{debug}");
}

#[tokio::test]
async fn a_wrong_postgres_password_is_not_repeated() {
    // Trust auth accepts any password, so use a database that does not exist to get an error
    // from the server itself, with a password in the URL.
    let base = with_database(&postgres_base_url(), "careprompt_no_such_database");
    let url = base.replacen("://postgres@", "://postgres:sekrit@", 1);
    let err = Store::connect(&url, 1)
        .await
        .expect_err("the database does not exist");
    let message = err.to_string();
    assert!(
        matches!(
            err,
            StoreError::Connect {
                backend: "postgres",
                ..
            }
        ),
        "{message}"
    );
    assert!(!message.contains("sekrit"), "{message}");
}

#[tokio::test]
async fn a_bad_sqlite_path_names_the_backend() {
    let url = "sqlite:///careprompt-no-such-dir/sub/x.db?mode=rwc";
    match Store::connect(url, 1).await {
        Err(StoreError::Connect { backend, reason }) => {
            assert_eq!(backend, "sqlite");
            assert!(reason.contains("careprompt-no-such-dir"), "{reason}");
        }
        other => panic!("expected Connect, got {other:?}"),
    }
}

#[tokio::test]
async fn an_unknown_scheme_is_refused() {
    match Store::connect("mysql://root:sekrit@db/x", 1).await {
        Err(err @ StoreError::Connect { .. }) => {
            assert!(!err.to_string().contains("sekrit"), "{err}");
        }
        other => panic!("expected Connect, got {other:?}"),
    }
}

#[tokio::test]
async fn in_memory_sqlite_keeps_its_data_for_the_store_s_life() {
    let store = Store::connect("sqlite::memory:", 4)
        .await
        .expect("in-memory SQLite");
    assert_eq!(store.backend(), "sqlite");
    store
        .upsert_schedule(&schedule(GUILD, 10, ALICE), at(NOW))
        .await
        .expect("upsert");
    let readers: Vec<_> = (0..6)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.schedule_for_channel(10).await })
        })
        .collect();
    for reader in readers {
        assert!(reader.await.expect("task").expect("read").is_some());
    }
    store.close().await;
}

#[test]
fn with_database_swaps_only_the_database_name() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "t1"),
        "postgres://postgres@127.0.0.1:5432/t1"
    );
    assert_eq!(
        with_database("postgres://u:p@h/test?sslmode=disable", "t2"),
        "postgres://u:p@h/t2?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h", "t3"), "postgres://h/t3");
}

// ---- the delivery ledger -------------------------------------------------------------------

fn due_pick(theme: &str, prompt: &str, after: RotationState) -> DuePick {
    DuePick {
        pick: Pick {
            theme: theme.to_string(),
            prompt_id: prompt.to_string(),
            story_id: Some("story-1".to_string()),
        },
        rotation_after: after,
    }
}

fn slot_plan(next: i64) -> DuePlan {
    DuePlan {
        next_due: Some(at(next)),
        ..DuePlan::default()
    }
}

/// The claim of a new schedule's first slot, at `NOW + 3600`.
fn first_slot_claim<'a>(
    record: &careprompt::store::ScheduleRecord,
    plan: &'a DuePlan,
    claimer: &'a str,
) -> Claim<'a> {
    Claim {
        schedule_id: record.id,
        version: record.version,
        kind: DeliveryKind::Scheduled,
        plan: Some(plan),
        post: Some((
            at(NOW + 3600),
            due_pick("compassion", "compassion-02", advanced(42, 1)),
        )),
        claimer,
    }
}

async fn a_due_slot_is_claimed_once_sent_once_and_moves_the_rotation(store: &Store) {
    let record = store
        .upsert_schedule(&schedule(GUILD, 10, ALICE), at(NOW))
        .await
        .expect("create");
    let due = store
        .due_schedules(at(NOW + 3600), 10, &ShardRange::ALL)
        .await
        .expect("due")
        .due;
    assert_eq!(due.len(), 1);
    assert!(store
        .due_schedules(at(NOW + 3599), 10, &ShardRange::ALL)
        .await
        .expect("due")
        .due
        .is_empty());
    let plan = slot_plan(NOW + 3600 + 604_800);
    let claim = first_slot_claim(&record, &plan, "one");
    let ClaimOutcome::Claimed(delivery) = store.claim(&claim, at(NOW + 3601)).await.expect("claim")
    else {
        panic!("the first claim wins");
    };
    assert_eq!(delivery.state, DeliveryState::Claimed);
    assert_eq!(delivery.channel_id, 10);
    assert_eq!(
        delivery.nonce.as_deref(),
        Some(nonce_for(delivery.id).as_str())
    );
    assert!(delivery
        .nonce
        .as_deref()
        .is_some_and(|nonce| nonce.len() <= 25));
    assert_eq!(
        delivery.pick.as_ref().map(|pick| pick.prompt_id.as_str()),
        Some("compassion-02")
    );
    // The same read of the schedule cannot claim again: its version moved on.
    assert_eq!(
        store.claim(&claim, at(NOW + 3602)).await.expect("claim"),
        ClaimOutcome::Busy
    );
    let fresh = store
        .schedule_for_channel(10)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(fresh.next_due, Some(at(NOW + 3600 + 604_800)));
    assert_eq!(
        fresh.rotation,
        RotationState::new(42),
        "not moved until it is sent"
    );
    // While a claim is open, no other claim of the schedule is made.
    let manual = Claim {
        version: fresh.version,
        kind: DeliveryKind::Manual,
        plan: None,
        post: Some((
            at(NOW + 3700),
            due_pick("resilience", "resilience-01", advanced(42, 9)),
        )),
        ..claim.clone()
    };
    assert_eq!(
        store.claim(&manual, at(NOW + 3700)).await.expect("claim"),
        ClaimOutcome::Busy
    );

    store
        .heartbeat("one", &ShardRange::ALL, at(NOW), at(NOW))
        .await
        .expect("alive");
    assert_eq!(
        store
            .open_claims(&worker("one", at(NOW)))
            .await
            .expect("open")
            .len(),
        1
    );
    assert!(
        store
            .open_claims(&worker("two", at(NOW)))
            .await
            .expect("open")
            .is_empty(),
        "its process is alive"
    );
    assert_eq!(
        store
            .open_claims(&worker("two", at(NOW + 9999)))
            .await
            .expect("open")
            .len(),
        1,
        "its process has not been heard from"
    );

    assert_eq!(
        store.record_sent(delivery.id, 777).await.expect("record"),
        Recorded::Done
    );
    assert_eq!(
        store.record_sent(delivery.id, 778).await.expect("record"),
        Recorded::AlreadySettled,
        "recorded once"
    );
    let sent = store
        .schedule_for_channel(10)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(sent.rotation, advanced(42, 1), "moved on with the post");
    let rows = store
        .recent_deliveries(record.id, 10)
        .await
        .expect("ledger");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].state, DeliveryState::Sent);
    assert_eq!(rows[0].message_id, Some(777));
    assert!(store
        .open_claims(&worker("one", at(NOW)))
        .await
        .expect("open")
        .is_empty());
}
on_both_backends!(
    sqlite_a_due_slot_is_claimed_once_sent_once_and_moves_the_rotation,
    postgres_a_due_slot_is_claimed_once_sent_once_and_moves_the_rotation,
    a_due_slot_is_claimed_once_sent_once_and_moves_the_rotation
);

async fn missed_holiday_failed_and_skipped_slots_are_recorded(store: &Store) {
    let record = store
        .upsert_schedule(&schedule(GUILD, 10, ALICE), at(NOW))
        .await
        .expect("create");
    let plan = DuePlan {
        missed: vec![at(NOW + 100), at(NOW + 200)],
        holidays: vec![(
            at(NOW + 300),
            BankHoliday {
                date: chrono::NaiveDate::from_ymd_opt(2027, 3, 29).expect("date"),
                name: "Easter Monday".to_string(),
            },
        )],
        next_due: Some(at(NOW + 3600)),
        ..DuePlan::default()
    };
    let claim = Claim {
        schedule_id: record.id,
        version: record.version,
        kind: DeliveryKind::Scheduled,
        plan: Some(&plan),
        post: None,
        claimer: "one",
    };
    assert_eq!(
        store.claim(&claim, at(NOW + 400)).await.expect("claim"),
        ClaimOutcome::Recorded
    );
    let states: Vec<(DeliveryState, Option<String>)> = store
        .recent_deliveries(record.id, 10)
        .await
        .expect("ledger")
        .into_iter()
        .map(|row| (row.state, row.detail))
        .collect();
    assert_eq!(
        states,
        vec![
            (DeliveryState::Holiday, Some("Easter Monday".to_string())),
            (DeliveryState::Missed, None),
            (DeliveryState::Missed, None),
        ]
    );

    // A refused post: failed with its reason, and the schedule says why until the next success.
    let fresh = store
        .schedule_for_channel(10)
        .await
        .expect("read")
        .expect("kept");
    let post = Claim {
        version: fresh.version,
        plan: None,
        kind: DeliveryKind::Manual,
        post: Some((
            at(NOW + 500),
            due_pick("compassion", "compassion-01", advanced(42, 1)),
        )),
        ..claim.clone()
    };
    let ClaimOutcome::Claimed(delivery) = store.claim(&post, at(NOW + 500)).await.expect("claim")
    else {
        panic!("claimed");
    };
    assert_eq!(
        store
            .settle_unsent(
                delivery.id,
                DeliveryState::Failed,
                "no permission",
                false,
                at(NOW + 501)
            )
            .await
            .expect("settle"),
        Recorded::Done
    );
    let failing = store
        .schedule_for_channel(10)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(failing.last_error.as_deref(), Some("no permission"));
    assert_eq!(failing.last_error_at, Some(at(NOW + 501)));
    assert!(!failing.disabled);
    assert_eq!(
        failing.rotation,
        RotationState::new(42),
        "a failed post does not use a prompt"
    );

    // Skipping the next slot records it and moves on; a second skip of it is refused.
    assert!(store
        .skip_slot(
            failing.id,
            failing.version,
            at(NOW + 3600),
            Some(at(NOW + 7200))
        )
        .await
        .expect("skip"));
    assert!(!store
        .skip_slot(
            failing.id,
            failing.version,
            at(NOW + 3600),
            Some(at(NOW + 7200))
        )
        .await
        .expect("skip"));
    let skipped = store
        .schedule_for_channel(10)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(skipped.next_due, Some(at(NOW + 7200)));

    // A deleted channel switches the schedule off.
    let post = Claim {
        version: skipped.version,
        post: Some((
            at(NOW + 600),
            due_pick("compassion", "compassion-01", advanced(42, 1)),
        )),
        ..post
    };
    let ClaimOutcome::Claimed(delivery) = store.claim(&post, at(NOW + 600)).await.expect("claim")
    else {
        panic!("claimed");
    };
    store
        .settle_unsent(
            delivery.id,
            DeliveryState::Failed,
            "gone",
            true,
            at(NOW + 601),
        )
        .await
        .expect("settle");
    assert!(
        store
            .schedule_for_channel(10)
            .await
            .expect("read")
            .expect("kept")
            .disabled
    );
    assert!(store
        .due_schedules(at(NOW + 99_999), 10, &ShardRange::ALL)
        .await
        .expect("due")
        .due
        .is_empty());
}
on_both_backends!(
    sqlite_missed_holiday_failed_and_skipped_slots_are_recorded,
    postgres_missed_holiday_failed_and_skipped_slots_are_recorded,
    missed_holiday_failed_and_skipped_slots_are_recorded
);

async fn pauses_and_departed_servers_hold_posts_back(store: &Store) {
    let record = store
        .upsert_schedule(&schedule(GUILD, 10, ALICE), at(NOW))
        .await
        .expect("create");
    let other = store
        .upsert_schedule(&schedule(OTHER_GUILD, 11, ALICE), at(NOW))
        .await
        .expect("create");
    let later = at(NOW + 10_000);
    assert_eq!(
        store
            .due_schedules(later, 10, &ShardRange::ALL)
            .await
            .expect("due")
            .due
            .len(),
        2
    );
    assert_eq!(
        store.next_wake(&ShardRange::ALL).await.expect("wake"),
        Some(at(NOW + 3600))
    );

    assert!(store
        .pause_schedule(record.id, Some(at(NOW + 20_000)))
        .await
        .expect("pause"));
    let due: Vec<i64> = store
        .due_schedules(later, 10, &ShardRange::ALL)
        .await
        .expect("due")
        .due
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(due, vec![other.id], "paused until later");
    assert_eq!(
        store
            .due_schedules(at(NOW + 20_000), 10, &ShardRange::ALL)
            .await
            .expect("due")
            .due
            .len(),
        2,
        "due again once the pause ends"
    );
    assert!(store.pause_schedule(record.id, None).await.expect("pause"));
    assert_eq!(
        store
            .due_schedules(at(NOW + 99_999), 10, &ShardRange::ALL)
            .await
            .expect("due")
            .due
            .len(),
        1
    );
    assert!(store
        .resume_schedule(record.id, Some(at(NOW + 50_000)))
        .await
        .expect("resume"));
    let resumed = store
        .schedule_for_channel(10)
        .await
        .expect("read")
        .expect("kept");
    assert!(!resumed.paused && resumed.paused_until.is_none());
    assert_eq!(resumed.next_due, Some(at(NOW + 50_000)));

    store
        .guild_departed(OTHER_GUILD, at(NOW))
        .await
        .expect("left");
    store
        .guild_departed(OTHER_GUILD, at(NOW + 1))
        .await
        .expect("left twice");
    let due: Vec<i64> = store
        .due_schedules(at(NOW + 60_000), 10, &ShardRange::ALL)
        .await
        .expect("due")
        .due
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(
        due,
        vec![record.id],
        "a server careprompt left posts nothing"
    );
    store.guild_present(OTHER_GUILD).await.expect("back");
    assert_eq!(
        store
            .due_schedules(at(NOW + 60_000), 10, &ShardRange::ALL)
            .await
            .expect("due")
            .due
            .len(),
        2
    );
}
on_both_backends!(
    sqlite_pauses_and_departed_servers_hold_posts_back,
    postgres_pauses_and_departed_servers_hold_posts_back,
    pauses_and_departed_servers_hold_posts_back
);

async fn racing_claims_of_one_slot_have_one_winner(store: &Store) {
    let record = store
        .upsert_schedule(&schedule(GUILD, 10, ALICE), at(NOW))
        .await
        .expect("create");
    let plan = slot_plan(NOW + 7200);
    let mut racers = Vec::new();
    for n in 0..8 {
        let store = store.clone();
        let plan = plan.clone();
        let record = record.clone();
        racers.push(tokio::spawn(async move {
            let claimer = format!("process-{n}");
            let claim = Claim {
                schedule_id: record.id,
                version: record.version,
                kind: DeliveryKind::Scheduled,
                plan: Some(&plan),
                post: Some((
                    at(NOW + 3600),
                    due_pick("compassion", "compassion-01", advanced(42, 1)),
                )),
                claimer: &claimer,
            };
            store.claim(&claim, at(NOW + 3600)).await
        }));
    }
    let mut winners = 0;
    for racer in racers {
        match racer.await.expect("join") {
            Ok(ClaimOutcome::Claimed(_)) => winners += 1,
            Ok(ClaimOutcome::Busy) => {}
            Ok(other) => panic!("unexpected {other:?}"),
            // SQLite may report a writer that waited too long; that claim simply did not win.
            Err(StoreError::Query(_)) => {}
            Err(err) => panic!("{err}"),
        }
    }
    assert_eq!(winners, 1);
    assert_eq!(
        store
            .recent_deliveries(record.id, 10)
            .await
            .expect("ledger")
            .len(),
        1
    );
}
on_both_backends!(
    sqlite_racing_claims_of_one_slot_have_one_winner,
    postgres_racing_claims_of_one_slot_have_one_winner,
    racing_claims_of_one_slot_have_one_winner
);

// ---- several processes -----------------------------------------------------------------------

/// A process called `claimer` at `now`, looking after every server, that takes a process silent
/// for a minute to be dead.
fn worker(claimer: &str, now: DateTime<Utc>) -> Worker<'_> {
    Worker {
        claimer,
        shards: ShardRange::ALL,
        alive_since: now - chrono::Duration::minutes(1),
    }
}

/// A schedule's slot claimed by `claimer` at `NOW + 3601`.
async fn claimed_slot(store: &Store, channel: u64, claimer: &str) -> i64 {
    let record = store
        .upsert_schedule(&schedule(GUILD, channel, ALICE), at(NOW))
        .await
        .expect("create");
    let plan = slot_plan(NOW + 3600 + 604_800);
    let claim = first_slot_claim(&record, &plan, claimer);
    match store.claim(&claim, at(NOW + 3601)).await.expect("claim") {
        ClaimOutcome::Claimed(delivery) => delivery.id,
        other => panic!("not claimed: {other:?}"),
    }
}

async fn a_dead_process_s_claim_is_taken_over_by_exactly_one_other(store: &Store) {
    let id = claimed_slot(store, 10, "gone").await;
    store
        .heartbeat("gone", &ShardRange::ALL, at(NOW), at(NOW + 3601))
        .await
        .expect("alive");
    let later = at(NOW + 3601 + 30);
    assert!(
        store
            .open_claims(&worker("two", later))
            .await
            .expect("open")
            .is_empty(),
        "heard from 30 seconds ago: alive, its claims are its own"
    );

    let much_later = at(NOW + 3601 + 600);
    for name in ["two", "three"] {
        store
            .heartbeat(name, &ShardRange::ALL, much_later, much_later)
            .await
            .expect("alive");
    }
    let seen_by_two = store
        .open_claims(&worker("two", much_later))
        .await
        .expect("open");
    let seen_by_three = store
        .open_claims(&worker("three", much_later))
        .await
        .expect("open");
    assert_eq!(seen_by_two.len(), 1, "silent for ten minutes: dead");
    assert_eq!(seen_by_two, seen_by_three);
    let (two, three) = tokio::join!(
        store.take_claim(&seen_by_two[0], "two"),
        store.take_claim(&seen_by_three[0], "three")
    );
    let (two, three) = (two.expect("take"), three.expect("take"));
    assert!(
        two ^ three,
        "exactly one takes it: two {two}, three {three}"
    );
    let (winner, loser) = if two {
        ("two", "three")
    } else {
        ("three", "two")
    };

    assert!(!store
        .resend_claim(id, loser, much_later)
        .await
        .expect("resend"));
    assert!(store
        .resend_claim(id, winner, much_later)
        .await
        .expect("resend"));
    let taken = store.delivery(id).await.expect("read").expect("kept");
    assert_eq!(taken.claimed_by.as_deref(), Some(winner));
    assert_eq!(taken.claimed_at, Some(much_later));
    assert_eq!(taken.attempts, 1);
    assert!(
        store
            .open_claims(&worker(loser, much_later))
            .await
            .expect("open")
            .is_empty(),
        "the winner is alive: the claim is not the loser's to take"
    );
    assert!(
        !store
            .take_claim(&seen_by_two[0], loser)
            .await
            .expect("take"),
        "a stale read cannot take it either"
    );

    // A process that stops cleanly hands its claims over at once.
    store.retire(winner).await.expect("retire");
    assert_eq!(
        store
            .open_claims(&worker(loser, much_later))
            .await
            .expect("open")
            .len(),
        1
    );
    let workers = store.workers().await.expect("workers");
    assert!(workers.iter().all(|w| w.claimer != winner), "{workers:?}");
}
on_both_backends!(
    sqlite_a_dead_process_s_claim_is_taken_over_by_exactly_one_other,
    postgres_a_dead_process_s_claim_is_taken_over_by_exactly_one_other,
    a_dead_process_s_claim_is_taken_over_by_exactly_one_other
);

/// A server id on `shard` of 4.
fn guild_on_shard(shard: u64, n: u64) -> u64 {
    ((4 * (n + 1_000_000) + shard) << 22) | 7
}

async fn each_process_schedules_only_its_shards_servers(store: &Store) {
    for shard in 0..4 {
        for n in 0..3 {
            let guild = guild_on_shard(shard, n);
            store
                .upsert_schedule(&schedule(guild, 100 * shard + n + 1, ALICE), at(NOW))
                .await
                .expect("create");
        }
    }
    let lower = ShardRange::new(0, 1, 4).expect("range");
    let upper = ShardRange::new(2, 3, 4).expect("range");
    let due_at = at(NOW + 3600);
    let lower_due = store
        .due_schedules(due_at, 100, &lower)
        .await
        .expect("due")
        .due;
    let upper_due = store
        .due_schedules(due_at, 100, &upper)
        .await
        .expect("due")
        .due;
    assert_eq!((lower_due.len(), upper_due.len()), (6, 6));
    assert!(lower_due.iter().all(|s| lower.owns(s.guild_id)));
    assert!(upper_due.iter().all(|s| upper.owns(s.guild_id)));
    assert_eq!(
        store
            .due_schedules(due_at, 100, &ShardRange::ALL)
            .await
            .expect("due")
            .due
            .len(),
        12
    );
    let only_shard_3 = ShardRange::new(3, 3, 4).expect("range");
    assert_eq!(
        store.next_wake(&only_shard_3).await.expect("wake"),
        Some(due_at)
    );
    let known = store.known_guilds(&only_shard_3).await.expect("known");
    assert_eq!(known.len(), 3);
    assert!(known.iter().all(|guild| only_shard_3.owns(*guild)));
    store.guild_departed(known[0], at(NOW)).await.expect("left");
    assert_eq!(
        store
            .known_guilds(&only_shard_3)
            .await
            .expect("known")
            .len(),
        2,
        "a server left is no longer known"
    );
    assert_eq!(
        store
            .departed_guilds(&only_shard_3)
            .await
            .expect("departed"),
        vec![known[0]]
    );
    let other_shard = ShardRange::new(2, 2, 4).expect("range");
    assert!(store
        .departed_guilds(&other_shard)
        .await
        .expect("departed")
        .is_empty());
}
on_both_backends!(
    sqlite_each_process_schedules_only_its_shards_servers,
    postgres_each_process_schedules_only_its_shards_servers,
    each_process_schedules_only_its_shards_servers
);

async fn two_processes_fanning_out_one_post_never_share_a_dm(store: &Store) {
    let id = claimed_slot(store, 10, "one").await;
    assert_eq!(
        store.record_sent(id, 777).await.expect("record"),
        Recorded::Done
    );
    for user in 1..=40u64 {
        store
            .set_dm_optin(user, GUILD, true, at(NOW))
            .await
            .expect("opt in");
    }
    let now = at(NOW + 3700);
    for name in ["a", "b"] {
        store
            .heartbeat(name, &ShardRange::ALL, now, now)
            .await
            .expect("alive");
    }
    let posts = store
        .pending_fan_outs(10, &ShardRange::ALL)
        .await
        .expect("pending");
    assert_eq!(posts.len(), 1);
    assert!(store
        .pending_fan_outs(10, &ShardRange::new(1, 3, 4).expect("range"))
        .await
        .expect("pending")
        .iter()
        .all(|post| ShardRange::new(1, 3, 4).expect("range").owns(post.guild_id)));
    let (a, b) = (worker("a", now), worker("b", now));
    let (for_a, for_b) = tokio::join!(
        store.claim_dms(&posts[0], &a, now),
        store.claim_dms(&posts[0], &b, now)
    );
    let (for_a, for_b) = (for_a.expect("claim"), for_b.expect("claim"));
    let mut every: Vec<u64> = for_a.iter().chain(&for_b).map(|dm| dm.user_id).collect();
    every.sort_unstable();
    assert_eq!(
        every,
        (1..=40).collect::<Vec<_>>(),
        "each DM to exactly one"
    );

    // "a" stops answering with its DMs unsent; "b" takes them over once it is taken for dead.
    let later = now + chrono::Duration::minutes(5);
    store
        .heartbeat("b", &ShardRange::ALL, now, later)
        .await
        .expect("alive");
    let again = store
        .claim_dms(&posts[0], &worker("b", later), later)
        .await
        .expect("claim");
    assert_eq!(again.len(), 40, "its own and the dead process's");
    assert!(
        store
            .claim_dms(&posts[0], &worker("c", later), later)
            .await
            .expect("claim")
            .is_empty(),
        "b is alive: nothing for c"
    );
}
on_both_backends!(
    sqlite_two_processes_fanning_out_one_post_never_share_a_dm,
    postgres_two_processes_fanning_out_one_post_never_share_a_dm,
    two_processes_fanning_out_one_post_never_share_a_dm
);

// ---- reflective sessions -------------------------------------------------------------------

fn new_session(channel: u64, facilitator: u64) -> careprompt::store::NewSession<'static> {
    careprompt::store::NewSession {
        guild_id: GUILD,
        channel_id: channel,
        facilitator_id: facilitator,
        theme: "resilience",
        story_id: Some("story-1"),
        minutes: 45,
        auto: true,
    }
}

/// Starts a session in a free channel.
async fn started(
    store: &Store,
    channel: u64,
    facilitator: u64,
    deadline: Option<DateTime<Utc>>,
) -> careprompt::store::SessionRecord {
    match store
        .start_session(&new_session(channel, facilitator), deadline, at(NOW))
        .await
        .expect("start")
    {
        careprompt::store::SessionStart::Started(session) => *session,
        careprompt::store::SessionStart::Busy(_) => panic!("the channel was free"),
    }
}

async fn one_running_session_per_channel(store: &Store) {
    use careprompt::store::SessionStart;
    let deadline = at(NOW) + chrono::Duration::minutes(5);
    let first = started(store, 10, ALICE, Some(deadline)).await;
    assert_eq!(
        (first.stage, first.minutes, first.auto, first.running),
        (0, 45, true, true)
    );
    assert_eq!(first.stage_deadline, Some(deadline));
    store
        .set_session_thread(first.id, 77)
        .await
        .expect("thread");
    match store
        .start_session(&new_session(10, BOB), None, at(NOW))
        .await
        .expect("second start")
    {
        SessionStart::Busy(running) => {
            assert_eq!((running.id, running.thread_id), (first.id, Some(77)));
        }
        SessionStart::Started(_) => panic!("a second session started in the same channel"),
    }
    started(store, 11, BOB, None).await;
    // /session end works from the thread as well as the channel.
    let from_thread = store.running_session_in(77).await.expect("read");
    assert_eq!(from_thread.map(|session| session.id), Some(first.id));
    let archive_after = chrono::Duration::hours(4);
    assert_eq!(
        store
            .next_session_wake(&ShardRange::ALL, archive_after)
            .await
            .expect("read"),
        Some(deadline),
        "the automatic stage is up before any session has run too long"
    );

    assert!(store.end_session(first.id, at(NOW)).await.expect("end"));
    assert!(!store.end_session(first.id, at(NOW)).await.expect("once"));
    assert!(store.running_session_in(10).await.expect("read").is_none());
    assert_eq!(
        store
            .next_session_wake(&ShardRange::ALL, archive_after)
            .await
            .expect("read"),
        Some(at(NOW) + archive_after),
        "a session moved on by hand wakes the worker when it has run too long"
    );
    let elsewhere = (0..4)
        .map(|shard| ShardRange::new(shard, shard, 4).expect("range"))
        .find(|range| !range.owns(GUILD))
        .expect("a shard without the server");
    assert_eq!(
        store
            .next_session_wake(&elsewhere, archive_after)
            .await
            .expect("read"),
        None,
        "another process's server"
    );
    started(store, 10, BOB, None).await;
}
on_both_backends!(
    sqlite_one_running_session_per_channel,
    postgres_one_running_session_per_channel,
    one_running_session_per_channel
);

async fn a_session_moves_pauses_and_posts_each_stage_once(store: &Store) {
    use careprompt::store::StagePost;
    let session = started(store, 10, ALICE, None).await;
    let id = session.id;
    let me = worker("one", at(NOW));
    assert_eq!(
        store
            .claim_stage_post(id, 0, &me, at(NOW))
            .await
            .expect("claim"),
        StagePost::Fresh
    );
    assert_eq!(
        store
            .claim_stage_post(id, 0, &me, at(NOW + 5))
            .await
            .expect("again"),
        StagePost::Taken(at(NOW)),
        "its own claim, from when it was first made"
    );
    store.record_stage_post(id, 0, 5_000).await.expect("record");
    assert_eq!(
        store
            .claim_stage_post(id, 0, &me, at(NOW))
            .await
            .expect("posted"),
        StagePost::Posted(5_000)
    );
    assert_eq!(store.posted_stages(id).await.expect("count"), 1);

    let later = at(NOW) + chrono::Duration::minutes(3);
    assert!(store
        .move_session(id, 0, 1, Some(later), at(NOW))
        .await
        .expect("move"));
    assert!(
        !store
            .move_session(id, 0, 1, None, at(NOW))
            .await
            .expect("a second click"),
        "only one click moves a stage on"
    );
    assert!(store
        .pause_session(id, 1, Some(120), None)
        .await
        .expect("pause"));
    assert!(!store
        .pause_session(id, 1, Some(60), None)
        .await
        .expect("paused already"));
    let paused = store.session(id).await.expect("read").expect("there");
    assert_eq!(
        (paused.stage, paused.paused_left, paused.stage_deadline),
        (1, Some(120), None)
    );
    assert!(store
        .pause_session(id, 1, None, Some(later))
        .await
        .expect("resume"));
    let resumed = store.session(id).await.expect("read").expect("there");
    assert_eq!(
        (resumed.paused_left, resumed.stage_deadline),
        (None, Some(later))
    );
}
on_both_backends!(
    sqlite_a_session_moves_pauses_and_posts_each_stage_once,
    postgres_a_session_moves_pauses_and_posts_each_stage_once,
    a_session_moves_pauses_and_posts_each_stage_once
);

async fn a_dead_process_s_stage_claim_is_taken_over_by_exactly_one_other(store: &Store) {
    use careprompt::store::StagePost;
    let session = started(store, 10, ALICE, None).await;
    store
        .set_session_thread(session.id, 77)
        .await
        .expect("thread");
    let id = session.id;
    store
        .heartbeat("gone", &ShardRange::ALL, at(NOW), at(NOW))
        .await
        .expect("alive");
    assert_eq!(
        store
            .claim_stage_post(id, 0, &worker("gone", at(NOW)), at(NOW))
            .await
            .expect("claim"),
        StagePost::Fresh
    );

    let soon = at(NOW + 30);
    store
        .heartbeat("two", &ShardRange::ALL, soon, soon)
        .await
        .expect("alive");
    assert_eq!(
        store
            .claim_stage_post(id, 0, &worker("two", soon), soon)
            .await
            .expect("claim"),
        StagePost::Held,
        "heard from 30 seconds ago: alive, its claim is its own"
    );
    assert!(store
        .claims_held_elsewhere(&worker("two", soon))
        .await
        .expect("read"));
    assert!(
        !store
            .claims_held_elsewhere(&worker("gone", soon))
            .await
            .expect("read"),
        "its own claim is not held elsewhere"
    );
    let elsewhere = (0..4)
        .map(|shard| ShardRange::new(shard, shard, 4).expect("range"))
        .find(|range| !range.owns(GUILD))
        .expect("a shard without the server");
    let other_shards = Worker {
        shards: elsewhere,
        ..worker("two", soon)
    };
    assert!(
        !store
            .claims_held_elsewhere(&other_shards)
            .await
            .expect("read"),
        "another process's server"
    );

    let much_later = at(NOW + 600);
    for name in ["two", "three"] {
        store
            .heartbeat(name, &ShardRange::ALL, much_later, much_later)
            .await
            .expect("alive");
    }
    let (two, three) = (worker("two", much_later), worker("three", much_later));
    let (by_two, by_three) = tokio::join!(
        store.claim_stage_post(id, 0, &two, much_later),
        store.claim_stage_post(id, 0, &three, much_later)
    );
    let (by_two, by_three) = (by_two.expect("claim"), by_three.expect("claim"));
    let (winner, loser) = match (by_two, by_three) {
        (StagePost::Taken(since), StagePost::Held) => {
            assert_eq!(since, at(NOW));
            (two, three)
        }
        (StagePost::Held, StagePost::Taken(since)) => {
            assert_eq!(since, at(NOW));
            (three, two)
        }
        other => panic!("not exactly one taker: {other:?}"),
    };
    assert!(!store
        .reclaim_stage_post(id, 0, loser.claimer, much_later)
        .await
        .expect("reclaim"));
    assert!(store
        .reclaim_stage_post(id, 0, winner.claimer, much_later)
        .await
        .expect("reclaim"));
    assert_eq!(
        store
            .claim_stage_post(id, 0, &loser, much_later)
            .await
            .expect("claim"),
        StagePost::Held,
        "the winner is alive: the claim is not the loser's to take"
    );

    // A process that stops cleanly hands its claim over at once, from when it sent last.
    store.retire(winner.claimer).await.expect("retire");
    assert_eq!(
        store
            .claim_stage_post(id, 0, &loser, much_later)
            .await
            .expect("claim"),
        StagePost::Taken(much_later)
    );
    store.record_stage_post(id, 0, 5_000).await.expect("record");
    assert_eq!(
        store
            .claim_stage_post(id, 0, &winner, much_later)
            .await
            .expect("claim"),
        StagePost::Posted(5_000)
    );
    assert!(!store.claims_held_elsewhere(&winner).await.expect("read"));
}
on_both_backends!(
    sqlite_a_dead_process_s_stage_claim_is_taken_over_by_exactly_one_other,
    postgres_a_dead_process_s_stage_claim_is_taken_over_by_exactly_one_other,
    a_dead_process_s_stage_claim_is_taken_over_by_exactly_one_other
);

/// Two processes whose first step comes before their first heartbeat race for a dead process's
/// stage claim. Neither is known to be alive, so only the compare and swap on the claim's
/// attempts keeps the second out: the claim's row is held locked until both have read it and
/// wait to take it, so both read the same attempts.
#[tokio::test]
async fn postgres_two_unheard_takers_of_a_stage_claim_are_decided_by_its_attempts() {
    run(Backend::Postgres, |store, url| async move {
        use careprompt::store::StagePost;
        let session = started(&store, 10, ALICE, None).await;
        let id = session.id;
        assert_eq!(
            store
                .claim_stage_post(id, 0, &worker("gone", at(NOW)), at(NOW))
                .await
                .expect("claim"),
            StagePost::Fresh
        );
        let mut holder = PgConnection::connect(&url).await.expect("connect");
        sqlx::query("BEGIN")
            .execute(&mut holder)
            .await
            .expect("begin");
        sqlx::query(&format!(
            "SELECT 1 FROM session_posts WHERE session_id = {id} AND stage = 0 FOR UPDATE"
        ))
        .execute(&mut holder)
        .await
        .expect("lock the claim");
        let mut watcher = Raw::open(&url).await;
        let much_later = at(NOW + 600);
        let (two, three) = (worker("two", much_later), worker("three", much_later));
        let (by_two, by_three, ()) = tokio::join!(
            store.claim_stage_post(id, 0, &two, much_later),
            store.claim_stage_post(id, 0, &three, much_later),
            async {
                watcher
                    .wait_count(
                        "SELECT COUNT(*) FROM pg_stat_activity \
                         WHERE datname = current_database() AND wait_event_type = 'Lock'",
                        2,
                        Duration::from_secs(30),
                    )
                    .await;
                sqlx::query("COMMIT")
                    .execute(&mut holder)
                    .await
                    .expect("release");
            }
        );
        let outcomes = [by_two.expect("claim"), by_three.expect("claim")];
        let taken = outcomes
            .iter()
            .filter(|outcome| **outcome == StagePost::Taken(at(NOW)))
            .count();
        let held = outcomes
            .iter()
            .filter(|outcome| **outcome == StagePost::Held)
            .count();
        assert_eq!((taken, held), (1, 1), "{outcomes:?}");
    })
    .await;
}

async fn an_ended_session_s_stage_is_never_claimed(store: &Store) {
    use careprompt::store::StagePost;
    let session = started(store, 10, ALICE, None).await;
    let id = session.id;
    let me = worker("one", at(NOW));
    assert_eq!(
        store
            .claim_stage_post(id, 0, &me, at(NOW))
            .await
            .expect("claim"),
        StagePost::Fresh
    );
    assert!(store.end_session(id, at(NOW + 5)).await.expect("end"));
    assert_eq!(
        store
            .claim_stage_post(id, 0, &me, at(NOW + 10))
            .await
            .expect("claim"),
        StagePost::Held,
        "an open claim of an ended session is not taken again"
    );
    assert_eq!(
        store
            .claim_stage_post(id, 1, &me, at(NOW + 10))
            .await
            .expect("claim"),
        StagePost::Held,
        "nor is a new stage of it claimed"
    );
}
on_both_backends!(
    sqlite_an_ended_session_s_stage_is_never_claimed,
    postgres_an_ended_session_s_stage_is_never_claimed,
    an_ended_session_s_stage_is_never_claimed
);

async fn a_server_s_facilitator_role_is_set_and_cleared(store: &Store) {
    assert_eq!(store.facilitator_role(GUILD).await.expect("read"), None);
    store
        .set_facilitator_role(GUILD, Some(42), at(NOW))
        .await
        .expect("set");
    store
        .set_facilitator_role(GUILD, Some(43), at(NOW))
        .await
        .expect("change");
    assert_eq!(store.facilitator_role(GUILD).await.expect("read"), Some(43));
    assert_eq!(
        store.facilitator_role(OTHER_GUILD).await.expect("read"),
        None
    );
    store
        .set_facilitator_role(GUILD, None, at(NOW))
        .await
        .expect("clear");
    assert_eq!(store.facilitator_role(GUILD).await.expect("read"), None);
}
on_both_backends!(
    sqlite_a_server_s_facilitator_role_is_set_and_cleared,
    postgres_a_server_s_facilitator_role_is_set_and_cleared,
    a_server_s_facilitator_role_is_set_and_cleared
);

async fn a_facilitator_s_sessions_are_exported_then_kept_without_them(store: &Store) {
    use careprompt::store::SessionRun;
    let session = started(store, 10, ALICE, None).await;
    assert_eq!(
        store.export_user(ALICE).await.expect("export").sessions_run,
        vec![SessionRun {
            guild_id: GUILD,
            channel_id: 10,
            theme: "resilience".to_string(),
            started_at: at(NOW),
            ended_at: None,
        }]
    );
    assert_eq!(
        store
            .erase_user(ALICE)
            .await
            .expect("erase")
            .sessions_anonymised,
        1
    );
    let kept = store
        .session(session.id)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!((kept.facilitator_id, kept.running), (0, false));
    assert!(store
        .export_user(ALICE)
        .await
        .expect("export")
        .sessions_run
        .is_empty());
    // Sessions are deleted once they ended longer ago than the retention.
    assert_eq!(store.purge_old_sessions(at(NOW)).await.expect("purge"), 0);
    assert_eq!(
        store.purge_old_sessions(at(NOW + 1)).await.expect("purge"),
        1
    );
    assert!(store.session(session.id).await.expect("read").is_none());
}
on_both_backends!(
    sqlite_a_facilitator_s_sessions_are_exported_then_kept_without_them,
    postgres_a_facilitator_s_sessions_are_exported_then_kept_without_them,
    a_facilitator_s_sessions_are_exported_then_kept_without_them
);

// ---- places and people of other platforms ----------------------------------------------------

const TEAMS_SERVICE: &str = "https://smba.trafficmanager.net/uk/";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const TEAM_THREAD: &str = "19:team-ward-7@thread.tacv2";
const CHANNEL_THREAD: &str = "19:3c1f6b0a9d2e4f7c@thread.tacv2";

fn teams_team() -> PlaceSeen<'static> {
    PlaceSeen {
        platform: Platform::Teams,
        external_id: TEAM_THREAD,
        kind: PlaceKind::Team,
        parent: None,
        reach: PlaceReach {
            service_url: Some(TEAMS_SERVICE.to_string()),
            tenant_id: Some(TENANT.to_string()),
            team_id: Some(TEAM_THREAD.to_string()),
            conversation_id: None,
        },
    }
}

fn teams_channel(team: u64) -> PlaceSeen<'static> {
    PlaceSeen {
        platform: Platform::Teams,
        external_id: CHANNEL_THREAD,
        kind: PlaceKind::Channel,
        parent: Some(team),
        reach: PlaceReach {
            service_url: Some(TEAMS_SERVICE.to_string()),
            tenant_id: Some(TENANT.to_string()),
            team_id: Some(TEAM_THREAD.to_string()),
            conversation_id: Some(CHANNEL_THREAD.to_string()),
        },
    }
}

async fn a_place_is_numbered_once_and_keeps_what_reaching_it_takes(store: &Store) {
    let team = store.place_id(&teams_team(), at(NOW)).await.expect("team");
    let channel = store
        .place_id(&teams_channel(team), at(NOW + 1))
        .await
        .expect("channel");
    assert_ne!(team, channel);
    assert_eq!(
        store
            .place_id(&teams_channel(team), at(NOW + 2))
            .await
            .expect("again"),
        channel,
        "seen again: the same number"
    );
    let expected = PlaceRecord {
        id: channel,
        platform: Platform::Teams,
        external_id: CHANNEL_THREAD.to_string(),
        kind: PlaceKind::Channel,
        parent: Some(team),
        reach: teams_channel(team).reach,
        created_at: at(NOW + 1),
        updated_at: at(NOW + 2),
    };
    assert_eq!(
        store.place(channel).await.expect("read"),
        Some(expected.clone())
    );
    assert_eq!(
        store
            .find_place(Platform::Teams, CHANNEL_THREAD)
            .await
            .expect("found"),
        Some(expected)
    );

    // The conversation moved to another service URL; what is not given again is kept.
    let moved = PlaceSeen {
        parent: None,
        reach: PlaceReach {
            service_url: Some("https://smba.trafficmanager.net/emea/".to_string()),
            ..PlaceReach::default()
        },
        ..teams_channel(team)
    };
    assert_eq!(
        store.place_id(&moved, at(NOW + 3)).await.expect("moved"),
        channel
    );
    let record = store.place(channel).await.expect("read").expect("there");
    assert_eq!(
        record.reach,
        PlaceReach {
            service_url: Some("https://smba.trafficmanager.net/emea/".to_string()),
            ..teams_channel(team).reach
        }
    );
    assert_eq!(record.parent, Some(team));
    assert_eq!(
        (record.created_at, record.updated_at),
        (at(NOW + 1), at(NOW + 3))
    );

    // Discord's places are keyed by their snowflakes, and have no rows.
    let discord = PlaceSeen {
        platform: Platform::Discord,
        external_id: "900000000000000001",
        kind: PlaceKind::Team,
        parent: None,
        reach: PlaceReach::default(),
    };
    assert_eq!(
        store.place_id(&discord, at(NOW)).await.expect("discord"),
        GUILD
    );
    assert_eq!(
        store
            .find_place(Platform::Discord, "900000000000000001")
            .await
            .expect("read"),
        None
    );
    assert_eq!(store.place(GUILD).await.expect("read"), None);
    let not_a_snowflake = PlaceSeen {
        external_id: CHANNEL_THREAD,
        ..discord
    };
    assert!(matches!(
        store.place_id(&not_a_snowflake, at(NOW)).await,
        Err(StoreError::NotAnId(_))
    ));
    assert_eq!(
        store
            .find_place(Platform::Teams, "19:never-seen@thread.tacv2")
            .await
            .expect("read"),
        None
    );
}
on_both_backends!(
    sqlite_a_place_is_numbered_once_and_keeps_what_reaching_it_takes,
    postgres_a_place_is_numbered_once_and_keeps_what_reaching_it_takes,
    a_place_is_numbered_once_and_keeps_what_reaching_it_takes
);

const TEAMS_USER: &str = "29:1GcS4EyB_oSI8A88XmWBN7NJFyMqe3QGnJdgLfFGkJnVelzRGos0bPbpsfJjcbAD22bmKc4GMbrY2g4JDrrA8vM06X1-cHHle4zOE6U4ttcc";

fn teams_person() -> PersonSeen<'static> {
    PersonSeen {
        platform: Platform::Teams,
        external_id: TEAMS_USER,
        reach: PersonReach {
            tenant_id: Some(TENANT.to_string()),
            aad_object_id: Some("00aa23bd-4b9d-4e48-8d7e-1c2f2c8a1b57".to_string()),
            service_url: Some(TEAMS_SERVICE.to_string()),
            conversation_id: None,
        },
    }
}

async fn a_person_is_numbered_once_and_keeps_what_reaching_them_takes(store: &Store) {
    let person = store
        .person_id(&teams_person(), at(NOW))
        .await
        .expect("person");
    // Their one-to-one conversation is opened later, and remembered.
    let with_chat = PersonSeen {
        reach: PersonReach {
            conversation_id: Some("a:1Xq9sGx0Tb2cF4v".to_string()),
            ..PersonReach::default()
        },
        ..teams_person()
    };
    assert_eq!(
        store
            .person_id(&with_chat, at(NOW + 60))
            .await
            .expect("again"),
        person
    );
    let expected = PersonRecord {
        id: person,
        platform: Platform::Teams,
        external_id: TEAMS_USER.to_string(),
        reach: PersonReach {
            conversation_id: Some("a:1Xq9sGx0Tb2cF4v".to_string()),
            ..teams_person().reach
        },
        created_at: at(NOW),
        updated_at: at(NOW + 60),
    };
    assert_eq!(
        store.person(person).await.expect("read"),
        Some(expected.clone())
    );
    assert_eq!(
        store
            .find_person(Platform::Teams, TEAMS_USER)
            .await
            .expect("found"),
        Some(expected)
    );
    let another = PersonSeen {
        external_id: "29:another",
        reach: PersonReach::default(),
        ..teams_person()
    };
    assert_ne!(
        store.person_id(&another, at(NOW)).await.expect("another"),
        person
    );
    let alice = PersonSeen {
        platform: Platform::Discord,
        external_id: "111111111111111111",
        reach: PersonReach::default(),
    };
    assert_eq!(
        store.person_id(&alice, at(NOW)).await.expect("alice"),
        ALICE
    );
    assert_eq!(
        store
            .find_person(Platform::Discord, "111111111111111111")
            .await
            .expect("read"),
        None
    );
}
on_both_backends!(
    sqlite_a_person_is_numbered_once_and_keeps_what_reaching_them_takes,
    postgres_a_person_is_numbered_once_and_keeps_what_reaching_them_takes,
    a_person_is_numbered_once_and_keeps_what_reaching_them_takes
);

async fn two_processes_seeing_a_new_place_at_once_make_one_row(store: &Store, url: &str) {
    let other = connect(url).await;
    let mut asks = Vec::new();
    for n in 0..16u32 {
        let process = if n % 2 == 0 {
            store.clone()
        } else {
            other.clone()
        };
        asks.push(tokio::spawn(async move {
            let place = process
                .place_id(&teams_team(), at(NOW + i64::from(n)))
                .await
                .expect("place");
            let person = process
                .person_id(&teams_person(), at(NOW + i64::from(n)))
                .await
                .expect("person");
            (place, person)
        }));
    }
    let mut answers = Vec::new();
    for ask in asks {
        answers.push(ask.await.expect("joined"));
    }
    assert!(
        answers.iter().all(|answer| *answer == answers[0]),
        "every process got the same numbers: {answers:?}"
    );
    other.close().await;
    let mut raw = Raw::open(url).await;
    assert_eq!(raw.count("SELECT COUNT(*) FROM places").await, 1);
    assert_eq!(raw.count("SELECT COUNT(*) FROM people").await, 1);
    raw.close().await;
}
on_both_backends!(
    sqlite_two_processes_seeing_a_new_place_at_once_make_one_row,
    postgres_two_processes_seeing_a_new_place_at_once_make_one_row,
    two_processes_seeing_a_new_place_at_once_make_one_row,
    with_url
);

/// A Teams schedule written as a Teams adapter would: in the Teams channel numbered `channel` of
/// the team numbered `team`, with the settings of the Discord schedule of channel 10.
async fn teams_schedule(raw: &mut Raw, team: u64, channel: u64, next_due: i64) {
    raw.execute(&format!(
        "INSERT INTO schedules (platform, guild_id, channel_id, cron, timezone, bank_holidays, \
         include_bullying, rotation, created_by, created_at, next_due) \
         SELECT 'teams', {team}, {channel}, cron, timezone, bank_holidays, include_bullying, \
         rotation, created_by, created_at, {next_due} FROM schedules \
         WHERE platform = 'discord' AND channel_id = 10"
    ))
    .await;
}

async fn the_shard_filter_applies_to_discord_servers_only(store: &Store, url: &str) {
    store
        .upsert_schedule(&schedule(GUILD, 10, ALICE), at(NOW))
        .await
        .expect("discord schedule");
    let team = store.place_id(&teams_team(), at(NOW)).await.expect("team");
    let channel = store
        .place_id(&teams_channel(team), at(NOW))
        .await
        .expect("channel");
    let mut raw = Raw::open(url).await;
    teams_schedule(&mut raw, team, channel, NOW + 600).await;
    // Keys are unique per platform: a Teams channel may have Discord's channel 10's number.
    teams_schedule(&mut raw, team, 10, NOW + 1200).await;
    raw.close().await;

    let now = at(NOW + 7200);
    let total = 4;
    // The shard Discord's formula would put the team on, were it a Discord server.
    let formula_shard = u32::try_from((team >> 22) % u64::from(total)).expect("small");
    let other_shard = (formula_shard + 1) % total;
    let teams_due = |range: ShardRange| async move {
        let due = store.due_schedules(now, 10, &range).await.expect("due");
        let mut teams: Vec<u64> = due
            .due
            .iter()
            .filter(|record| record.platform == Platform::Teams)
            .map(|record| record.channel_id)
            .collect();
        teams.sort_unstable();
        let discord: Vec<u64> = due
            .due
            .iter()
            .filter(|record| record.platform == Platform::Discord)
            .map(|record| record.guild_id)
            .collect();
        assert!(discord.iter().all(|guild| range.owns(*guild)));
        teams
    };
    let mut both = vec![10, channel];
    both.sort_unstable();
    let on_formula = ShardRange::new(formula_shard, formula_shard, total).expect("range");
    assert_eq!(
        teams_due(on_formula.with_other_platforms(false)).await,
        Vec::<u64>::new(),
        "the team's number is not a snowflake: no shard holds it"
    );
    let elsewhere = ShardRange::new(other_shard, other_shard, total).expect("range");
    assert_eq!(
        teams_due(elsewhere.with_other_platforms(true)).await,
        both,
        "the process serving other platforms has them, whatever its shards"
    );
    assert_eq!(teams_due(ShardRange::ALL).await, both);
    let first = ShardRange::new(0, 1, total).expect("range");
    let rest = ShardRange::new(2, 3, total).expect("range");
    assert_eq!(
        teams_due(first).await,
        both,
        "shard 0's process serves them"
    );
    assert_eq!(teams_due(rest).await, Vec::<u64>::new());

    // The Teams schedules wake only the process serving them.
    let discord_due = store
        .schedule_for_channel(10)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(discord_due.platform, Platform::Discord);
    assert_eq!(discord_due.guild_id, GUILD);
    let owner = ShardRange::new(0, total - 1, total).expect("range");
    assert_eq!(
        store.next_wake(&owner).await.expect("wake"),
        Some(at(NOW + 600))
    );
    assert_eq!(
        store
            .next_wake(&owner.with_other_platforms(false))
            .await
            .expect("wake"),
        discord_due.next_due
    );
    // Departures are Discord's to tell: a Teams team is never among the servers Discord lists.
    assert_eq!(
        store.known_guilds(&ShardRange::ALL).await.expect("known"),
        vec![GUILD]
    );
    assert!(store.delete_schedule(10).await.expect("deleted"));
    assert_eq!(
        teams_due(ShardRange::ALL).await,
        both,
        "only Discord's went"
    );
}
on_both_backends!(
    sqlite_the_shard_filter_applies_to_discord_servers_only,
    postgres_the_shard_filter_applies_to_discord_servers_only,
    the_shard_filter_applies_to_discord_servers_only,
    with_url
);
