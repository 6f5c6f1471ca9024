//! Figures for the work careprompt does most: loading content, planning schedules, choosing
//! prompts and building cards. `cargo bench` prints them; under `cargo test` each case runs once
//! as a smoke test.

// The tests' way of making and dropping only databases of their own.
#[path = "../tests/it/support/databases.rs"]
mod databases;

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use careprompt::cards;
use careprompt::check::check_cards;
use careprompt::discord::limits::check_message;
use careprompt::discord::render;
use careprompt::domain::content::DNA_OF_CARE_URL;
use careprompt::domain::planning::{plan, PreviewRequest};
use careprompt::domain::rotation::Pick;
use careprompt::domain::rotation::{next_post, RotationState};
use careprompt::domain::schedule::{parse_timezone, Schedule};
use careprompt::domain::settings::ScheduleSettings;
use careprompt::library::ContentSource;
use careprompt::store::{Claim, ClaimOutcome, DeliveryKind, DuePick, NewSchedule, Store};

/// Runs `work` repeatedly for about `budget` and prints the time per run.
fn measure(name: &str, full: bool, mut work: impl FnMut()) {
    let budget = if full {
        Duration::from_secs(2)
    } else {
        Duration::ZERO
    };
    work();
    let start = Instant::now();
    let mut runs: u32 = 0;
    loop {
        work();
        runs += 1;
        if start.elapsed() >= budget {
            break;
        }
    }
    let per_run = start.elapsed() / runs;
    println!("{name:<48} {per_run:>12.2?} per run ({runs} runs)");
}

fn main() {
    let full = std::env::args().any(|arg| arg == "--bench");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts");
    let library =
        careprompt::library::load(&ContentSource::Dir(dir.clone())).expect("shipped content loads");
    let tz = parse_timezone("Europe/London").expect("zone");
    let weekly = Schedule::parse("0 9 * * MON", tz).expect("schedule");
    let weekly_settings =
        ScheduleSettings::parse("0 9 * * MON", "Europe/London", "england-and-wales", false)
            .expect("settings");
    let from = chrono::DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z")
        .expect("time")
        .to_utc();

    measure("load and validate prompts/", full, || {
        black_box(careprompt::library::load(&ContentSource::Dir(dir.clone())).expect("loads"));
    });
    measure("parse a crontab line", full, || {
        black_box(Schedule::parse("30 8 * * 1-5", tz).expect("parses"));
    });
    measure("next firing of a weekly schedule", full, || {
        black_box(weekly.next_after(from));
    });
    measure("plan a year of weekly posts (with holidays)", full, || {
        let request = PreviewRequest {
            settings: weekly_settings.clone(),
            extra_holidays: Vec::new(),
            from,
            count: 52,
            state: RotationState::new(1),
        };
        black_box(plan(&library, &request).expect("plans"));
    });
    let order = library.rotation(false);
    let mut state = RotationState::new(3);
    measure("choose the next post (rotation step)", full, || {
        let (pick, next) = next_post(&library, &order, &state).expect("picks");
        black_box(pick);
        state = next;
    });
    let theme = &library.themes[1];
    measure("build and limit-check one post card", full, || {
        let card = cards::post_card(
            theme,
            &theme.prompts[0],
            library.stories_for(&theme.slug).next(),
            Some(1),
        );
        black_box(check_message(&render::post_body(&card, "cp1", None)));
    });
    measure("limit-check every card (careprompt check)", full, || {
        black_box(check_cards(&library, None));
    });
    measure("build every card", full, || {
        black_box(careprompt::cards::all_cards(
            &library,
            None,
            DNA_OF_CARE_URL,
        ));
    });

    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let schedules = if full { 10_000 } else { 200 };
    let sqlite = std::env::temp_dir().join(format!("careprompt-bench-{}.db", std::process::id()));
    let sqlite_url = format!("sqlite://{}?mode=rwc", sqlite.display());
    runtime.block_on(store_benches(
        "sqlite",
        &sqlite_url,
        schedules,
        full,
        &settings_for_store(),
    ));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", sqlite.display()));
    }
    match runtime.block_on(fresh_postgres()) {
        Some(url) => runtime.block_on(store_benches(
            "postgres",
            &url,
            schedules,
            full,
            &settings_for_store(),
        )),
        None => println!("postgres: skipped, no server at {}", postgres_base()),
    }

    let records = if full { 100_000 } else { 2_000 };
    let sqlite = std::env::temp_dir().join(format!("careprompt-bench-i-{}.db", std::process::id()));
    let sqlite_url = format!("sqlite://{}?mode=rwc", sqlite.display());
    runtime.block_on(insights_benches(
        "sqlite",
        &sqlite_url,
        records,
        full,
        &library,
    ));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", sqlite.display()));
    }
    match runtime.block_on(fresh_postgres()) {
        Some(url) => runtime.block_on(insights_benches("postgres", &url, records, full, &library)),
        None => println!("postgres: skipped, no server at {}", postgres_base()),
    }
}

/// `/insights` over 52 weeks of one server holding `records` usage records (2,000 people, the
/// seven themes), as p50 and p99 of repeated runs of the whole report: the query, the
/// suppression, the chart and the CSV. Then drawing the chart alone. The records are written
/// straight into the tables, with their summaries: what is measured is reading them, and random
/// 16-byte people count the same as keyed hashes.
async fn insights_benches(
    backend: &str,
    url: &str,
    records: u64,
    full: bool,
    library: &careprompt::domain::content::Library,
) {
    use careprompt::domain::insights::{week_of, WEEK_SECS};
    use rand::{Rng, SeedableRng};

    const GUILD: i64 = 42;
    let store = Store::connect(url, 5)
        .await
        .expect("the bench database opens");
    let now = chrono::DateTime::parse_from_rfc3339("2027-12-01T10:00:00Z")
        .expect("time")
        .to_utc();
    let this_week = week_of(now.timestamp());
    let themes: Vec<&str> = library.themes.iter().map(|t| t.slug.as_str()).collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(17);
    let people: Vec<Vec<u8>> = (0..2_000)
        .map(|_| (0..16).map(|_| rng.gen::<u8>()).collect())
        .collect();
    let mut rows = std::collections::BTreeSet::new();
    while (rows.len() as u64) < records {
        let person = rng.gen_range(0..people.len());
        let week = this_week - rng.gen_range(0..52) * WEEK_SECS;
        let theme = themes[rng.gen_range(0..themes.len())];
        rows.insert((person, week, theme));
    }
    let rows: Vec<_> = rows.into_iter().collect();
    let insert = |count: usize| {
        let values: Vec<String> = (0..count)
            .map(|i| {
                format!(
                    "({GUILD}, ${}, ${}, ${}, 'saved')",
                    3 * i + 1,
                    3 * i + 2,
                    3 * i + 3
                )
            })
            .collect();
        format!(
            "INSERT INTO usage_events (guild_id, person, week, theme, kind) VALUES {}",
            values.join(", ")
        )
    };
    macro_rules! seed {
        ($conn:expr) => {{
            use sqlx::Connection;
            let mut conn = $conn;
            let mut tx = conn.begin().await.expect("begin");
            for chunk in rows.chunks(300) {
                let sql = insert(chunk.len());
                let mut query = sqlx::query(&sql);
                for (person, week, theme) in chunk {
                    query = query.bind(&people[*person]).bind(*week).bind(*theme);
                }
                query.execute(&mut *tx).await.expect("seed");
            }
            // The summaries record_usage keeps as each record arrives.
            for summary in [
                "INSERT INTO usage_weeks (guild_id, person, week, kind) \
                 SELECT DISTINCT guild_id, person, week, kind FROM usage_events",
                "INSERT INTO usage_people (guild_id, person, kind, theme, last_week) \
                 SELECT guild_id, person, kind, theme, MAX(week) FROM usage_events \
                 GROUP BY guild_id, person, kind, theme",
                "INSERT INTO usage_people (guild_id, person, kind, theme, last_week) \
                 SELECT guild_id, person, kind, '*', MAX(week) FROM usage_events \
                 GROUP BY guild_id, person, kind",
                "INSERT INTO usage_counts (guild_id, kind, week, theme, people) \
                 SELECT guild_id, kind, week, theme, COUNT(*) FROM usage_events \
                 GROUP BY guild_id, kind, week, theme",
                "INSERT INTO usage_counts (guild_id, kind, week, theme, people) \
                 SELECT guild_id, kind, week, '*', COUNT(*) FROM usage_weeks \
                 GROUP BY guild_id, kind, week",
            ] {
                sqlx::query(summary)
                    .execute(&mut *tx)
                    .await
                    .expect("summaries");
            }
            tx.commit().await.expect("commit");
            if backend == "postgres" {
                // What autovacuum does on its own within a minute of this many inserts: without
                // statistics PostgreSQL plans the query for an empty table, three times slower.
                sqlx::query("ANALYZE")
                    .execute(&mut conn)
                    .await
                    .expect("analyze");
            }
            conn.close().await.expect("close");
        }};
    }
    {
        if backend == "sqlite" {
            seed!(sqlx::SqliteConnection::connect(url)
                .await
                .expect("raw sqlite"));
        } else {
            seed!(sqlx::PgConnection::connect(url)
                .await
                .expect("raw postgres"));
        }
    }
    let runs = if full { 100 } else { 2 };
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let report = careprompt::insights::report(&store, library, GUILD as u64, 52, 5, now)
            .await
            .expect("report");
        times.push(start.elapsed());
        last = Some(report);
    }
    times.sort();
    let p99 = times[(times.len() * 99).div_ceil(100) - 1];
    let p50 = times[times.len() / 2];
    println!(
        "{:<48} {p50:>12.2?} p50, {p99:.2?} p99 ({runs} runs)",
        format!("{backend}: /insights, 52 weeks, {records} records")
    );
    let first = careprompt::domain::insights::first_week(now, 52);
    let mut query_times = Vec::new();
    let mut tallies = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        tallies = store
            .insight_tallies(GUILD as u64, first, 52)
            .await
            .expect("tallies");
        query_times.push(start.elapsed());
    }
    query_times.sort();
    println!(
        "{:<48} {:>12.2?} p50, {:.2?} p99 ({runs} runs)",
        format!("{backend}: of which the query"),
        query_times[query_times.len() / 2],
        query_times[(query_times.len() * 99).div_ceil(100) - 1]
    );
    let names = careprompt::insights::theme_names(library);
    measure(
        &format!("{backend}: of which the suppression"),
        full,
        || {
            black_box(careprompt::domain::insights::build_view(
                &tallies, &names, first, 52, 5,
            ));
        },
    );
    if let Some(careprompt::domain::insights::View::Figures(figures)) =
        last.map(|report| report.view)
    {
        measure(&format!("{backend}: draw the 52-week chart"), full, || {
            black_box(careprompt::insights::chart::savers_chart(&figures).expect("drawn"));
        });
    }
    store.close().await;
}

fn settings_for_store() -> ScheduleSettings {
    ScheduleSettings::parse("0 9 * * MON", "Europe/London", "none", false).expect("settings")
}

fn postgres_base() -> String {
    std::env::var("CAREPROMPT_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// A database of the bench's own on the test server, made empty.
async fn fresh_postgres() -> Option<String> {
    use sqlx::Connection;
    let base = postgres_base();
    let mut admin = sqlx::PgConnection::connect(&base).await.ok()?;
    let name = "careprompt_bench";
    // Only a database the bench made is dropped and made again.
    if let Err(err) = databases::create_marked(&mut admin, name).await {
        println!("{err}");
        return None;
    }
    let server = base
        .rsplit_once('/')
        .map_or(base.as_str(), |(server, _)| server);
    Some(format!("{server}/{name}"))
}

/// Finding the due schedules among `count`, and one delivery's claim and record, as the
/// scheduler does them.
async fn store_benches(
    backend: &str,
    url: &str,
    count: u64,
    full: bool,
    settings: &ScheduleSettings,
) {
    let store = Store::connect(url, 5)
        .await
        .expect("the bench database opens");
    let start = chrono::DateTime::parse_from_rfc3339("2027-01-04T09:00:00Z")
        .expect("time")
        .to_utc();
    for channel in 0..count {
        // One schedule in a hundred is due; the rest wait a week.
        let due = if channel % 100 == 0 {
            start
        } else {
            start + chrono::Duration::days(7)
        };
        store
            .upsert_schedule(
                &NewSchedule {
                    guild_id: 1 + channel / 10,
                    channel_id: 1_000_000 + channel,
                    settings: settings.clone(),
                    role_ping: None,
                    thread: false,
                    created_by: 7,
                    seed: channel,
                    next_due: Some(due),
                },
                start,
            )
            .await
            .expect("scheduled");
    }
    let now = start + chrono::Duration::seconds(1);
    let due_label = format!("{backend}: find the due schedules among {count}");
    measure_async(&due_label, full, || async {
        black_box(
            store
                .due_schedules(now, 500, &careprompt::domain::shards::ShardRange::ALL)
                .await
                .expect("due"),
        );
    })
    .await;
    let mut slot = start;
    let pick = DuePick {
        pick: Pick {
            theme: "compassion".to_string(),
            prompt_id: "com-01".to_string(),
            story_id: None,
        },
        rotation_after: RotationState::new(1),
    };
    let schedule = store
        .schedule_for_channel(1_000_001)
        .await
        .expect("read")
        .expect("scheduled");
    let claim_label = format!("{backend}: claim and record one delivery");
    let mut version = schedule.version;
    measure_async(&claim_label, full, || {
        slot += chrono::Duration::minutes(1);
        // Each claim and record moves the schedule's version on by two.
        let read_at = version;
        version += 2;
        let claim = Claim {
            schedule_id: schedule.id,
            version: read_at,
            kind: DeliveryKind::Manual,
            plan: None,
            post: Some((slot, pick.clone())),
            claimer: "bench",
        };
        let store = &store;
        async move {
            let ClaimOutcome::Claimed(delivery) = store.claim(&claim, slot).await.expect("claim")
            else {
                panic!("the bench's claim is the only one");
            };
            store.record_sent(delivery.id, 42).await.expect("record");
        }
    })
    .await;
    store.close().await;
}

/// Like `measure`, for work that awaits.
async fn measure_async<F, Fut>(name: &str, full: bool, mut work: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let budget = if full {
        Duration::from_secs(2)
    } else {
        Duration::ZERO
    };
    work().await;
    let start = Instant::now();
    let mut runs: u32 = 0;
    loop {
        work().await;
        runs += 1;
        if start.elapsed() >= budget {
            break;
        }
    }
    let per_run = start.elapsed() / runs;
    println!("{name:<48} {per_run:>12.2?} per run ({runs} runs)");
}
