//! The service benchmark (issue 9): the release build of careprompt as a real process against the
//! fake Discord of the tests, on SQLite and on PostgreSQL, printing figures in plain tables.
//!
//! ```sh
//! cargo bench --bench service                              # the full sizes (about 25 minutes)
//! CAREPROMPT_BENCH_SCALE=quick cargo bench --bench service # small sizes, a minute or two
//! ```
//!
//! `CAREPROMPT_BENCH_ONLY=latency,fanout,memory,store` runs some sections only, and
//! `CAREPROMPT_BENCH_BACKENDS=sqlite` or `postgres` one backend. PostgreSQL is taken from
//! `CAREPROMPT_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`), as by the
//! tests; the bench creates and drops its own database there. Under `cargo test` the bench only
//! says how to run it. BENCHMARKS.md holds the figures of a full run and what they mean.
//!
//! Sections:
//! 1. Interaction latency, from the fake dispatching INTERACTION_CREATE to it reading the
//!    callback request: `/pack` (no database) and the Save button (a database write), at 1, 50
//!    and 500 interactions in flight; the same for a constant bot (this binary re-executed as a
//!    minimal serenity client) to show the fake's own share; CPU time per `/pack` of each.
//! 2. Fan-out: 2,000 channel schedules and 10,000 opted-in people due in the same second, the
//!    fake enforcing the global limit (50/s) and per-route buckets; then a second fan-out, whose
//!    DM channels are remembered.
//! 3. Memory and start-up: resident memory idle with 1,000 servers and 10,000 people, the peak
//!    during the fan-out, start to READY, and the binary's size.
//! 4. Store: bookmark insert and list among 1,000,000 bookmarks, and finding the due schedules
//!    among 100,000.

// The fake Discord of the tests. Its own unit tests' imports go unused here, where no `#[test]`
// runs (no test harness).
#[path = "../tests/it/support/mod.rs"]
#[allow(unused_imports)]
mod support;

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use careprompt::domain::settings::ScheduleSettings;
use careprompt::domain::shards::ShardRange;
use careprompt::store::{BookmarkKind, NewBookmark, NewSchedule, Store};
use futures_util::StreamExt;
use serde_json::Value;

use support::{
    ButtonClick, CommandInvocation, FakeConfig, FakeDiscord, RouteBuckets, APP_ID, TOKEN,
};

/// Set in the environment of this binary re-executed as the constant bot: the fake's proxy URL.
const CONSTANT_BOT: &str = "CAREPROMPT_BENCH_CONSTANT_BOT";

/// How long any one wait of the bench may take before it gives up.
const PATIENCE: Duration = Duration::from_secs(60);

#[derive(Clone, Debug)]
struct Sizes {
    /// (interactions in flight, interactions timed) for each latency row.
    latency: Vec<(usize, usize)>,
    /// Servers of the fan-out, each with one scheduled channel.
    fanout_servers: u64,
    /// Opted-in people of the fan-out, spread evenly over its servers.
    fanout_people: u64,
    /// Schedules posted again in the second fan-out.
    second_fanout: u64,
    idle_servers: u64,
    idle_people: u64,
    bookmarks: u64,
    store_schedules: u64,
    /// Timed runs of each store operation.
    store_runs: usize,
}

impl Sizes {
    fn full() -> Sizes {
        Sizes {
            latency: vec![(1, 1_000), (50, 5_000), (500, 10_000)],
            fanout_servers: 2_000,
            fanout_people: 10_000,
            second_fanout: 400,
            idle_servers: 1_000,
            idle_people: 10_000,
            bookmarks: 1_000_000,
            store_schedules: 100_000,
            store_runs: 2_000,
        }
    }

    fn quick() -> Sizes {
        Sizes {
            latency: vec![(1, 200), (50, 1_000), (500, 2_000)],
            fanout_servers: 100,
            fanout_people: 500,
            second_fanout: 20,
            idle_servers: 100,
            idle_people: 1_000,
            bookmarks: 20_000,
            store_schedules: 5_000,
            store_runs: 300,
        }
    }
}

fn main() {
    if let Ok(proxy) = std::env::var(CONSTANT_BOT) {
        constant_bot(&proxy);
        return;
    }
    let benching = std::env::args().any(|arg| arg == "--bench");
    let scale = std::env::var("CAREPROMPT_BENCH_SCALE").ok();
    if !benching && scale.is_none() {
        println!("service: not run under `cargo test`; run `cargo bench --bench service`");
        return;
    }
    let sizes = match scale.as_deref() {
        Some("quick") => Sizes::quick(),
        Some("full") | None => Sizes::full(),
        Some(other) => panic!("CAREPROMPT_BENCH_SCALE={other}: use quick or full"),
    };
    let only = std::env::var("CAREPROMPT_BENCH_ONLY").unwrap_or_default();
    let wanted = |section: &str| only.is_empty() || only.split(',').any(|s| s.trim() == section);
    let backends = std::env::var("CAREPROMPT_BENCH_BACKENDS").unwrap_or_default();
    let backend_wanted =
        |name: &str| backends.is_empty() || backends.split(',').any(|s| s.trim() == name);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    println!(
        "careprompt service benchmark ({} sizes)",
        scale.as_deref().unwrap_or("full")
    );
    machine();
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_careprompt"));
    let size = std::fs::metadata(&binary).map(|m| m.len()).unwrap_or(0);
    println!(
        "binary: {} ({:.1} MiB)\n",
        binary.display(),
        size as f64 / MIB
    );

    runtime.block_on(async {
        if wanted("latency") {
            latency_of_constant_bot(&sizes).await;
        }
        for backend in [Backend::Sqlite, Backend::Postgres] {
            if !backend_wanted(backend.name()) {
                continue;
            }
            let Some(db) = Database::create(backend).await else {
                println!(
                    "{}: skipped, no server at {}\n",
                    backend.name(),
                    postgres_base()
                );
                continue;
            };
            println!("===== {} =====\n", backend.name());
            if wanted("latency") {
                latency_of_careprompt(&sizes, &db).await;
                db.reset().await;
            }
            if wanted("memory") {
                memory_and_start_up(&sizes, &db).await;
                db.reset().await;
            }
            if wanted("fanout") {
                fan_out(&sizes, &db).await;
                db.reset().await;
            }
            if wanted("store") {
                store(&sizes, &db).await;
            }
            db.drop().await;
        }
    });
}

const MIB: f64 = 1024.0 * 1024.0;

// ----- the machine -----

fn machine() {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, name)| name.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| kib_field(&text, "MemTotal:"))
        .map_or_else(
            || "unknown".into(),
            |kib| format!("{:.1} GiB", kib as f64 / 1024.0 / 1024.0),
        );
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("PRETTY_NAME="))
                .map(|name| name.trim_matches('"').to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| k.trim().to_string())
        .unwrap_or_default();
    let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("--version")
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("machine: {cores} cores, {cpu}, {memory} memory, {os} (Linux {kernel}), {rustc}");
}

// ----- processes and /proc -----

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// User plus system CPU time the process has used so far.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    let total = ticks(11) + ticks(12);
    Duration::from_secs_f64(total as f64 / clock_ticks_per_second())
}

fn kib_field(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find(|line| line.starts_with(name))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|value| value.parse().ok())
}

#[derive(Clone, Copy, Debug, Default)]
struct Memory {
    rss: u64,
    anonymous: u64,
    hwm: u64,
}

impl Memory {
    fn of(pid: u32) -> Memory {
        let rollup =
            std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        Memory {
            rss: kib_field(&rollup, "Rss:").unwrap_or(0) * 1024,
            anonymous: kib_field(&rollup, "Anonymous:").unwrap_or(0) * 1024,
            hwm: kib_field(&status, "VmHWM:").unwrap_or(0) * 1024,
        }
    }

    fn file_backed(&self) -> u64 {
        self.rss.saturating_sub(self.anonymous)
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / MIB)
}

/// A bot process in the background, its output in a log file; killed if the bench panics.
struct Bot {
    child: Option<Child>,
    log: PathBuf,
    started: Instant,
}

impl Bot {
    fn careprompt(fake: &FakeDiscord, database_url: &str, name: &str) -> Bot {
        let mut command = Command::new(env!("CARGO_BIN_EXE_careprompt"));
        command
            .arg("run")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("DISCORD_TOKEN", TOKEN)
            .env("CAREPROMPT_DISCORD__PROXY_URL", fake.proxy_base_url())
            .env("CAREPROMPT_DATABASE__URL", database_url)
            .env_remove("RUST_LOG");
        Bot::spawn(command, name)
    }

    fn constant(fake: &FakeDiscord) -> Bot {
        let mut command = Command::new(std::env::current_exe().expect("this binary"));
        command.env(CONSTANT_BOT, fake.proxy_base_url());
        Bot::spawn(command, "constant-bot")
    }

    fn spawn(mut command: Command, name: &str) -> Bot {
        let log = std::env::temp_dir().join(format!(
            "careprompt-bench-{}-{name}.log",
            std::process::id()
        ));
        let out = File::create(&log).expect("a log file");
        let err = out.try_clone().expect("the same log file");
        command.stdin(Stdio::null()).stdout(out).stderr(err);
        let started = Instant::now();
        let child = command.spawn().expect("the bot starts");
        Bot {
            child: Some(child),
            log,
            started,
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Stops it with SIGTERM (a clean stop), waiting for it to exit.
    async fn stop(mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let waiting = tokio::task::spawn_blocking(move || child.wait());
        let _ = tokio::time::timeout(PATIENCE, waiting).await;
        let _ = std::fs::remove_file(&self.log);
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

// ----- databases -----

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
}

fn postgres_base() -> String {
    std::env::var("CAREPROMPT_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// The bench's own database: a SQLite file in the temporary folder, or a PostgreSQL database
/// on the test server.
struct Database {
    backend: Backend,
    url: String,
}

const PG_NAME: &str = "careprompt_service_bench";

impl Database {
    async fn create(backend: Backend) -> Option<Database> {
        let db = match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!(
                    "careprompt-service-bench-{}.db",
                    std::process::id()
                ));
                Database {
                    backend,
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                }
            }
            Backend::Postgres => {
                let base = postgres_base();
                let server = base
                    .rsplit_once('/')
                    .map_or(base.as_str(), |(server, _)| server);
                Database {
                    backend,
                    url: format!("{server}/{PG_NAME}"),
                }
            }
        };
        db.reset_checked().await.then_some(db)
    }

    fn sqlite_path(&self) -> Option<String> {
        self.url
            .strip_prefix("sqlite://")
            .map(|rest| rest.trim_end_matches("?mode=rwc").to_string())
    }

    /// Makes the database empty.
    async fn reset_checked(&self) -> bool {
        match self.backend {
            Backend::Sqlite => {
                let path = self.sqlite_path().expect("a file");
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{path}{suffix}"));
                }
                true
            }
            Backend::Postgres => {
                use sqlx::Connection;
                let Ok(mut admin) = sqlx::PgConnection::connect(&postgres_base()).await else {
                    return false;
                };
                // Only a database the bench made is dropped (see support/databases.rs).
                match support::databases::create_marked(&mut admin, PG_NAME).await {
                    Ok(()) => true,
                    Err(err) => {
                        println!("{err}");
                        false
                    }
                }
            }
        }
    }

    async fn reset(&self) {
        assert!(self.reset_checked().await, "the bench database resets");
    }

    async fn drop(&self) {
        match self.backend {
            Backend::Sqlite => {
                self.reset().await;
            }
            Backend::Postgres => {
                support::databases::drop_marked_at(&postgres_base(), PG_NAME).await;
            }
        }
    }

    async fn store(&self) -> Store {
        Store::connect(&self.url, 4)
            .await
            .expect("the bench opens its database")
    }

    /// Runs statements the store has no call for (bulk loads), outside careprompt's API.
    async fn execute(&self, sql: &str) {
        match self.backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.url).await.expect("sqlite");
                sqlx::query(sql).execute(&pool).await.expect(sql);
                pool.close().await;
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.url).await.expect("postgres");
                sqlx::query(sql).execute(&pool).await.expect(sql);
                pool.close().await;
            }
        }
    }

    async fn columns(&self, table: &str) -> Vec<String> {
        match self.backend {
            Backend::Sqlite => {
                let pool = sqlx::SqlitePool::connect(&self.url).await.expect("sqlite");
                let names: Vec<String> =
                    sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{table}')"))
                        .fetch_all(&pool)
                        .await
                        .expect("columns");
                pool.close().await;
                names
            }
            Backend::Postgres => {
                let pool = sqlx::PgPool::connect(&self.url).await.expect("postgres");
                let names: Vec<String> = sqlx::query_scalar(
                    "SELECT column_name::TEXT FROM information_schema.columns \
                     WHERE table_name = $1 ORDER BY ordinal_position",
                )
                .bind(table)
                .fetch_all(&pool)
                .await
                .expect("columns");
                pool.close().await;
                names
            }
        }
    }

    /// `n` rows numbered from 0, as `s(x)`, for `INSERT ... SELECT ... FROM <this>`.
    fn series(&self, n: u64) -> (String, String) {
        match self.backend {
            Backend::Sqlite => (
                format!(
                    "WITH RECURSIVE s(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM s WHERE x < {})",
                    n.saturating_sub(1)
                ),
                "s".to_string(),
            ),
            Backend::Postgres => (
                String::new(),
                format!("generate_series(0, {}) AS s(x)", n.saturating_sub(1)),
            ),
        }
    }
}

// ----- the world: servers, schedules and people -----

/// Server `n`; Discord puts it on shard `n % shards`.
fn guild(n: u64) -> u64 {
    ((1_000_000 + n) << 22) | 1
}

fn channel(n: u64) -> u64 {
    700_000_000 + n
}

fn person(n: u64) -> u64 {
    20_000_000 + n
}

fn weekly() -> ScheduleSettings {
    ScheduleSettings::parse("0 9 * * MON", "Europe/London", "none", false).expect("settings")
}

/// One schedule a server and `people` opted in, spread over the servers in turn; every
/// schedule due a week from now.
async fn seed(db: &Database, servers: u64, people: u64) {
    let store = db.store().await;
    let now = chrono::Utc::now();
    let later = now + chrono::Duration::days(7);
    let settings = weekly();
    let schedules = futures_util::stream::iter(0..servers).map(|n| {
        let store = &store;
        let settings = settings.clone();
        async move {
            store
                .upsert_schedule(
                    &NewSchedule {
                        guild_id: guild(n),
                        channel_id: channel(n),
                        settings,
                        role_ping: None,
                        thread: false,
                        created_by: support::USER_ID,
                        seed: n,
                        next_due: Some(later),
                    },
                    now,
                )
                .await
                .expect("scheduled");
        }
    });
    schedules.buffer_unordered(4).collect::<Vec<()>>().await;
    let optins = futures_util::stream::iter(0..people).map(|n| {
        let store = &store;
        async move {
            store
                .set_dm_optin(
                    person(n),
                    guild(n % servers),
                    true,
                    now - chrono::Duration::hours(1),
                )
                .await
                .expect("opted in");
        }
    });
    optins.buffer_unordered(4).collect::<Vec<()>>().await;
    store.close().await;
}

fn world_fake_config(shards: u32) -> FakeConfig {
    FakeConfig {
        shards,
        ..FakeConfig::default()
    }
}

fn add_servers(fake: &FakeDiscord, servers: u64) {
    for n in 0..servers {
        fake.add_guild(guild(n), &format!("Ward {n}"), &[(channel(n), "wellbeing")]);
    }
}

// ----- section 1: interaction latency -----

#[derive(Clone, Copy, Debug, Default)]
struct Latency {
    count: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
    refused: usize,
}

impl Latency {
    fn of(mut samples: Vec<Duration>, refused: usize) -> Latency {
        samples.sort_unstable();
        let n = samples.len();
        if n == 0 {
            return Latency::default();
        }
        let at = |q: f64| samples[((n as f64 * q).ceil() as usize).clamp(1, n) - 1];
        Latency {
            count: n,
            p50: at(0.50),
            p99: at(0.99),
            max: samples[n - 1],
            refused,
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// The fake as the latency section uses it: no interaction deadline (a late answer is timed, not
/// refused) and no checking of the answers, whose cost would be counted against the bot.
fn latency_fake_config() -> FakeConfig {
    FakeConfig {
        interaction_deadline: None,
        validate_interaction_answers: false,
        ..FakeConfig::default()
    }
}

/// Dispatches `payloads` keeping `in_flight` unanswered at a time, and times each from its
/// dispatch to the fake reading its callback.
async fn time_interactions(fake: &FakeDiscord, payloads: Vec<Value>, in_flight: usize) -> Latency {
    let mut events = fake.callback_events();
    let total = payloads.len();
    let mut queue = payloads.into_iter();
    let mut samples = Vec::with_capacity(total);
    let mut refused = 0;
    for d in queue.by_ref().take(in_flight) {
        fake.send_interaction(d).await.expect("dispatched");
    }
    while samples.len() < total {
        let event = tokio::time::timeout(PATIENCE, events.recv())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "no answer for {PATIENCE:?} ({} of {total} answered)",
                    samples.len()
                )
            })
            .expect("the fake runs");
        if !event.accepted {
            refused += 1;
        }
        samples.push(event.latency);
        if let Some(d) = queue.next() {
            fake.send_interaction(d).await.expect("dispatched");
        }
    }
    Latency::of(samples, refused)
}

fn pack_payloads(fake: &FakeDiscord, count: usize) -> Vec<Value> {
    let themes = [
        "compassion",
        "resilience",
        "whole-self",
        "equality-diversity",
    ];
    (0..count)
        .map(|i| {
            fake.command_interaction(
                &CommandInvocation::guild("pack").option_str("theme", themes[i % themes.len()]),
            )
        })
        .collect()
}

/// Clicks of a Save button (on a bot message that carries it), each by a different person (a
/// person keeps at most 500 bookmarks), starting at person `first`.
fn save_payloads(fake: &FakeDiscord, custom_id: &str, first: u64, count: usize) -> Vec<Value> {
    (0..count as u64)
        .map(|i| {
            fake.button_interaction(&ButtonClick::guild(custom_id).user(30_000_000 + first + i))
        })
        .collect()
}

struct LatencyRow {
    what: &'static str,
    in_flight: usize,
    latency: Latency,
    cpu: Option<Duration>,
}

fn print_latency(title: &str, rows: &[LatencyRow]) {
    println!("{title}");
    println!(
        "{:<12} {:>9} {:>8} {:>10} {:>10} {:>10} {:>8} {:>16}",
        "interaction", "in flight", "count", "p50", "p99", "max", "refused", "CPU per answer"
    );
    for row in rows {
        println!(
            "{:<12} {:>9} {:>8} {:>10} {:>10} {:>10} {:>8} {:>16}",
            row.what,
            row.in_flight,
            row.latency.count,
            ms(row.latency.p50),
            ms(row.latency.p99),
            ms(row.latency.max),
            row.latency.refused,
            row.cpu.map_or_else(
                || "-".to_string(),
                |cpu| format!(
                    "{:.1} us",
                    cpu.as_secs_f64() * 1e6 / row.latency.count as f64
                )
            ),
        );
    }
    println!();
}

/// Times `/pack` at each level, with the bot's CPU time over each run.
async fn pack_rows(fake: &FakeDiscord, bot: &Bot, sizes: &Sizes) -> Vec<LatencyRow> {
    let mut rows = Vec::new();
    for &(in_flight, count) in &sizes.latency {
        let payloads = pack_payloads(fake, count);
        let before = cpu_time(bot.pid());
        let latency = time_interactions(fake, payloads, in_flight).await;
        let cpu = cpu_time(bot.pid()).saturating_sub(before);
        rows.push(LatencyRow {
            what: "/pack",
            in_flight,
            latency,
            cpu: Some(cpu),
        });
    }
    rows
}

fn pack_cpu(rows: &[LatencyRow]) -> (Duration, usize) {
    rows.iter()
        .filter(|row| row.what == "/pack")
        .fold((Duration::ZERO, 0), |(cpu, n), row| {
            (cpu + row.cpu.unwrap_or_default(), n + row.latency.count)
        })
}

/// The constant bot's figures, kept to compare careprompt's with.
static CONSTANT_PACK_CPU: std::sync::Mutex<Option<f64>> = std::sync::Mutex::new(None);

async fn latency_of_constant_bot(sizes: &Sizes) {
    let fake = FakeDiscord::start_with(latency_fake_config()).await;
    let bot = Bot::constant(&fake);
    fake.wait_ready(PATIENCE)
        .await
        .expect("the constant bot connects");
    // Warm up: connections to the fake, the bot's first allocations.
    let warm = pack_payloads(&fake, 100);
    time_interactions(&fake, warm, 10).await;
    let mut rows = pack_rows(&fake, &bot, sizes).await;
    let (cpu, n) = pack_cpu(&rows);
    *CONSTANT_PACK_CPU.lock().expect("lock") = Some(cpu.as_secs_f64() / n.max(1) as f64);
    for &(in_flight, count) in &sizes.latency {
        let payloads = save_payloads(&fake, "cp:save:1:com-01", 0, count);
        let latency = time_interactions(&fake, payloads, in_flight).await;
        rows.push(LatencyRow {
            what: "button",
            in_flight,
            latency,
            cpu: None,
        });
    }
    print_latency(
        "1. Interaction latency, constant bot (a minimal serenity client answering every interaction with a constant message: the fake's own share)",
        &rows,
    );
    bot.stop().await;
}

async fn latency_of_careprompt(sizes: &Sizes, db: &Database) {
    let fake = FakeDiscord::start_with(latency_fake_config()).await;
    let bot = Bot::careprompt(&fake, &db.url, "latency");
    fake.wait_ready(PATIENCE)
        .await
        .unwrap_or_else(|err| panic!("careprompt connects: {err}\n{}", bot.logs()));
    let first = fake
        .run_command(CommandInvocation::guild("pack").option_str("theme", "compassion"))
        .await
        .expect("/pack answers");
    let save = first
        .buttons()
        .into_iter()
        .filter_map(|b| b["custom_id"].as_str().map(str::to_string))
        .find(|id| id.starts_with("cp:save:"))
        .expect("/pack's card has a Save button");
    let warm = pack_payloads(&fake, 100);
    time_interactions(&fake, warm, 10).await;
    let mut rows = pack_rows(&fake, &bot, sizes).await;
    let (cpu, n) = pack_cpu(&rows);
    let mut clicked = 0;
    for &(in_flight, count) in &sizes.latency {
        let payloads = save_payloads(&fake, &save, clicked, count);
        clicked += count as u64;
        let before = cpu_time(bot.pid());
        let latency = time_interactions(&fake, payloads, in_flight).await;
        let cpu = cpu_time(bot.pid()).saturating_sub(before);
        rows.push(LatencyRow {
            what: "Save",
            in_flight,
            latency,
            cpu: Some(cpu),
        });
    }
    print_latency(
        &format!(
            "1. Interaction latency, careprompt on {} (goals: p99 under 5 ms at 50 in flight, under 50 ms at 500)",
            db.backend.name()
        ),
        &rows,
    );
    let per_pack = cpu.as_secs_f64() / n.max(1) as f64;
    match *CONSTANT_PACK_CPU.lock().expect("lock") {
        Some(constant) => println!(
            "CPU per /pack: careprompt {:.1} us, constant bot {:.1} us: {:.2}x (goal: at most 2x)\n",
            per_pack * 1e6,
            constant * 1e6,
            per_pack / constant
        ),
        None => println!("CPU per /pack: careprompt {:.1} us\n", per_pack * 1e6),
    }
    let errors = fake
        .violations()
        .into_iter()
        .filter(|v| !v.contains("first response came"))
        .count();
    if errors > 0 {
        println!(
            "(the fake saw {errors} violations: {:?})\n",
            fake.violations().first()
        );
    }
    bot.stop().await;
}

/// The constant bot: a minimal serenity client in proxy mode, as careprompt connects, answering
/// every command and button with the same short private message.
fn constant_bot(proxy: &str) {
    use serenity::all::{
        ApplicationId, ClientBuilder, Context, CreateInteractionResponse,
        CreateInteractionResponseMessage, EventHandler, GatewayIntents, HttpBuilder, Interaction,
    };

    struct Constant;

    #[serenity::async_trait]
    impl EventHandler for Constant {
        async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
            let reply = CreateInteractionResponse::Message(
                CreateInteractionResponseMessage::new()
                    .content("Thank you.")
                    .ephemeral(true),
            );
            let _ = match interaction {
                Interaction::Command(command) => command.create_response(&ctx.http, reply).await,
                Interaction::Component(click) => click.create_response(&ctx.http, reply).await,
                _ => Ok(()),
            };
        }
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let http = HttpBuilder::new(TOKEN)
            .proxy(proxy)
            .ratelimiter_disabled(true)
            .application_id(ApplicationId::new(APP_ID))
            .build();
        let mut client = ClientBuilder::new_with_http(http, GatewayIntents::GUILDS)
            .event_handler(Constant)
            .await
            .expect("a client");
        client.start().await.expect("the constant bot runs");
    });
}

// ----- section 2: fan-out -----

/// Sets every schedule (or those of the first `only` servers) due at `slot`.
async fn make_due(db: &Database, slot: chrono::DateTime<chrono::Utc>, only: Option<u64>) {
    let filter = only.map_or_else(String::new, |n| {
        format!(" WHERE channel_id < {}", channel(n))
    });
    db.execute(&format!(
        "UPDATE schedules SET next_due = {}{filter}",
        slot.timestamp()
    ))
    .await;
}

/// The next whole second at least `ahead` from now, as the database stores slots, and the same
/// moment on this process's monotonic clock.
fn slot_after(ahead: Duration) -> (chrono::DateTime<chrono::Utc>, Instant) {
    let now = chrono::Utc::now();
    let instant_now = Instant::now();
    let slot_secs = (now + chrono::Duration::from_std(ahead).expect("small")).timestamp() + 1;
    let slot = chrono::DateTime::from_timestamp(slot_secs, 0).expect("a time");
    let until = (slot - now).to_std().expect("in the future");
    (slot, instant_now + until)
}

struct FanOut {
    took: Duration,
    paced_requests: usize,
    rate: f64,
    rate_limited: usize,
    /// 429s by route and scope.
    rate_limited_by: std::collections::BTreeMap<String, usize>,
    dm_opens: usize,
    posts: usize,
}

/// Waits until the fake holds `expected` posts, then reads what happened from `slot` on.
async fn wait_fan_out(fake: &FakeDiscord, bot: &Bot, slot: Instant, expected: usize) -> FanOut {
    let deadline = Instant::now() + Duration::from_secs(3600);
    while fake.post_count() < expected {
        assert!(
            Instant::now() < deadline,
            "the fan-out did not finish: {} of {expected} posts\n{}",
            fake.post_count(),
            bot.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let requests = fake.requests();
    let after: Vec<_> = requests.iter().filter(|r| r.received >= slot).collect();
    let last = after
        .iter()
        .filter(|r| r.is("POST", "/channels/") && r.path.ends_with("/messages") && r.status == 200)
        .map(|r| r.received)
        .max()
        .unwrap_or(slot);
    let took = last.duration_since(slot);
    let paced = after
        .iter()
        .filter(|r| !r.is("*", "/interactions/") && !r.is("*", "/webhooks/"))
        .filter(|r| r.received <= last)
        .count();
    FanOut {
        took,
        paced_requests: paced,
        rate: paced as f64 / took.as_secs_f64().max(1e-9),
        rate_limited: after.iter().filter(|r| r.status == 429).count(),
        // Each 429 is also one of the fake's violations, which says which limit it was.
        rate_limited_by: {
            let mut by: std::collections::BTreeMap<String, usize> = Default::default();
            for v in fake.take_violations() {
                let kind = if v.contains("global rate limit") {
                    "global"
                } else if v.contains("route rate limit") {
                    "route bucket"
                } else {
                    "other violation"
                };
                let route = v.split(": ").next().unwrap_or("");
                *by.entry(format!("{} ({kind})", without_ids(route)))
                    .or_default() += 1;
            }
            by
        },
        dm_opens: after
            .iter()
            .filter(|r| r.is("POST", "/users/@me/channels"))
            .count(),
        posts: after
            .iter()
            .filter(|r| r.is("POST", "/channels/") && r.status == 200)
            .count(),
    }
}

/// A path with its ids as `{id}`.
fn without_ids(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if !seg.is_empty() && seg.chars().all(|c| c.is_ascii_digit()) {
                "{id}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn print_fan_out(title: &str, people: u64, run: &FanOut) {
    println!("{title}");
    println!("{:<44} {:>14}", "figure", "value");
    let rows = [
        (
            "slot to last delivery",
            format!("{:.1} s", run.took.as_secs_f64()),
        ),
        ("messages delivered (posts and DMs)", run.posts.to_string()),
        (
            "requests counted by the global limit",
            run.paced_requests.to_string(),
        ),
        ("requests per second", format!("{:.1}/s", run.rate)),
        (
            "fraction of 50/s (goal >= 0.95)",
            format!("{:.3}", run.rate / 50.0),
        ),
        ("429s received (goal 0)", run.rate_limited.to_string()),
        (
            "DM channels opened (POST /users/@me/channels)",
            format!("{} for {people} people", run.dm_opens),
        ),
    ];
    for (what, value) in rows {
        println!("{what:<44} {value:>14}");
    }
    for (route, n) in &run.rate_limited_by {
        println!("  {n} x {route}");
    }
    println!();
}

async fn fan_out(sizes: &Sizes, db: &Database) {
    let servers = sizes.fanout_servers;
    let people = sizes.fanout_people;
    // Discord recommends a shard per 1,000 servers or so.
    let shards = u32::try_from(servers.div_ceil(1_000)).expect("few");
    let fake = FakeDiscord::start_with(FakeConfig {
        route_buckets: Some(RouteBuckets::default()),
        ..world_fake_config(shards)
    })
    .await;
    add_servers(&fake, servers);
    let seeding = Instant::now();
    seed(db, servers, people).await;
    let seeded_in = seeding.elapsed();
    // The slot comes once careprompt is up and idle.
    let (slot, slot_at) = slot_after(Duration::from_secs(12));
    make_due(db, slot, None).await;
    let bot = Bot::careprompt(&fake, &db.url, "fanout");
    fake.wait_shards_ready(&(0..shards).collect::<Vec<_>>(), shards, PATIENCE)
        .await
        .unwrap_or_else(|err| panic!("careprompt connects: {err}\n{}", bot.logs()));
    let ready = bot.started.elapsed();
    tokio::time::sleep_until(tokio::time::Instant::from_std(
        slot_at - Duration::from_secs(1),
    ))
    .await;
    let idle = Memory::of(bot.pid());
    let expected = usize::try_from(servers + people).expect("small");
    let first = wait_fan_out(&fake, &bot, slot_at, expected).await;
    let peak = Memory::of(bot.pid());
    print_fan_out(
        &format!(
            "2. Fan-out on {}: {servers} channel schedules and {people} opted-in people due at one slot, \
             the fake enforcing 50 requests/s and per-route buckets (5 per 5 s per channel, \
             50 per s for opening DM channels)",
            db.backend.name()
        ),
        people,
        &first,
    );
    bot.stop().await;

    // Next week's slot for some of the servers: their people's DM channels are remembered.
    let again = sizes.second_fanout;
    // Within careprompt's start-up, whose requests the fan-out's must leave room for.
    let (slot, slot_at) = slot_after(Duration::from_secs(1));
    make_due(db, slot, Some(again)).await;
    let bot = Bot::careprompt(&fake, &db.url, "fanout-again");
    let people_again = (0..people).filter(|n| n % servers < again).count();
    let second = wait_fan_out(
        &fake,
        &bot,
        slot_at,
        expected + usize::try_from(again).expect("small") + people_again,
    )
    .await;
    print_fan_out(
        &format!(
            "2b. Second fan-out on {} (next week's slot for {again} of the schedules, careprompt restarted): \
             DM channels remembered",
            db.backend.name()
        ),
        people_again as u64,
        &second,
    );
    bot.stop().await;
    println!(
        "3. Memory during the fan-out on {} ({servers} servers, {people} people; seeding took {:.1} s)",
        db.backend.name(),
        seeded_in.as_secs_f64()
    );
    println!("{:<44} {:>14}", "figure", "value");
    println!("{:<44} {:>14}", "start to READY on every shard", ms(ready));
    println!(
        "{:<44} {:>14}",
        "resident, idle before the slot",
        mib(idle.rss)
    );
    println!(
        "{:<44} {:>14}",
        "peak resident (VmHWM) after the fan-out",
        mib(peak.hwm)
    );
    println!("{:<44} {:>14}", "resident after the fan-out", mib(peak.rss));
    println!(
        "{:<44} {:>14}",
        "  of which anonymous / file-backed",
        format!("{} / {}", mib(peak.anonymous), mib(peak.file_backed()))
    );
    println!();
}

// ----- section 3: memory and start-up -----

async fn memory_and_start_up(sizes: &Sizes, db: &Database) {
    let servers = sizes.idle_servers;
    let people = sizes.idle_people;
    let fake = FakeDiscord::start_with(world_fake_config(1)).await;
    add_servers(&fake, servers);
    seed(db, servers, people).await;
    let bot = Bot::careprompt(&fake, &db.url, "memory");
    fake.wait_ready(PATIENCE)
        .await
        .unwrap_or_else(|err| panic!("careprompt connects: {err}\n{}", bot.logs()));
    let ready = bot.started.elapsed();
    // Idle: connected, every GUILD_CREATE handled, nothing due for a week.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let idle = Memory::of(bot.pid());
    let cpu = cpu_time(bot.pid());
    println!(
        "3. Memory and start-up on {} ({servers} servers, {people} opted-in people, idle)",
        db.backend.name()
    );
    println!("{:<44} {:>14}", "figure", "value");
    println!(
        "{:<44} {:>14}",
        "start to READY (goal under 1 s)",
        ms(ready)
    );
    println!(
        "{:<44} {:>14}",
        "resident (goal under 20 MiB)",
        mib(idle.rss)
    );
    println!("{:<44} {:>14}", "  anonymous", mib(idle.anonymous));
    println!(
        "{:<44} {:>14}",
        "  file-backed (Rss - Anonymous)",
        mib(idle.file_backed())
    );
    println!(
        "{:<44} {:>14}",
        "peak resident so far (VmHWM)",
        mib(idle.hwm)
    );
    println!("{:<44} {:>14}", "CPU time from start to idle", ms(cpu));
    println!();
    bot.stop().await;
}

// ----- section 4: store -----

async fn time_each<F, Fut>(runs: usize, mut work: F) -> Latency
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut samples = Vec::with_capacity(runs);
    for i in 0..runs {
        let start = Instant::now();
        work(i).await;
        samples.push(start.elapsed());
    }
    Latency::of(samples, 0)
}

async fn store(sizes: &Sizes, db: &Database) {
    let store = db.store().await;
    let bookmarks = sizes.bookmarks;
    // A hundred bookmarks each, well under the 500 a person may keep.
    let users: u64 = (bookmarks / 100).max(1);
    let loading = Instant::now();
    let (with, from) = db.series(bookmarks);
    db.execute(&format!(
        "{with} INSERT INTO bookmarks (user_id, kind, item_id, title, body, url, created_at) \
         SELECT 1000000 + x % {users}, 'prompt', 'bench-' || x, 'A saved prompt', \
         'What helped you through a hard shift this week?', NULL, 1700000000 + x FROM {from}"
    ))
    .await;
    db.execute("ANALYZE").await;
    let loaded_in = loading.elapsed();
    let now = chrono::Utc::now();
    let runs = sizes.store_runs;
    let insert = time_each(runs, |i| {
        let store = &store;
        async move {
            let item = NewBookmark {
                kind: BookmarkKind::Prompt,
                item_id: format!("new-{i}"),
                title: "A saved prompt".to_string(),
                body: Some("What helped you through a hard shift this week?".to_string()),
                url: None,
            };
            store
                .add_bookmark(1_000_000 + (i as u64 * 7919) % users, &item, now, 500)
                .await
                .expect("saved");
        }
    })
    .await;
    let list = time_each(runs, |i| {
        let store = &store;
        async move {
            let (page, _) = store
                .bookmarks_page(1_000_000 + (i as u64 * 104_729) % users, 0, 10)
                .await
                .expect("listed");
            assert!(!page.is_empty());
        }
    })
    .await;

    // Schedules: one made by careprompt, copied; one in a hundred due.
    let count = sizes.store_schedules;
    let start = chrono::DateTime::parse_from_rfc3339("2027-01-04T09:00:00Z")
        .expect("time")
        .to_utc();
    store
        .upsert_schedule(
            &NewSchedule {
                guild_id: guild(0),
                channel_id: channel(0),
                settings: weekly(),
                role_ping: None,
                thread: false,
                created_by: 7,
                seed: 0,
                next_due: Some(start),
            },
            start,
        )
        .await
        .expect("scheduled");
    let columns: Vec<String> = db
        .columns("schedules")
        .await
        .into_iter()
        .filter(|c| c != "id")
        .collect();
    let values: Vec<String> = columns
        .iter()
        .map(|c| match c.as_str() {
            "channel_id" => "t.channel_id + s.x".to_string(),
            "guild_id" => "t.guild_id + CAST(s.x / 10 AS BIGINT) * 4194304".to_string(),
            "next_due" => {
                "CASE WHEN s.x % 100 = 0 THEN t.next_due ELSE t.next_due + 604800 END".to_string()
            }
            other => format!("t.{other}"),
        })
        .collect();
    let (with, from) = db.series(count);
    db.execute(&format!(
        "{with} INSERT INTO schedules ({}) SELECT {} FROM schedules t, {from} \
         WHERE t.channel_id = {} AND s.x > 0",
        columns.join(", "),
        values.join(", "),
        channel(0)
    ))
    .await;
    db.execute("ANALYZE").await;
    let due_at = start + chrono::Duration::seconds(1);
    let due = time_each(runs.min(500), |_| {
        let store = &store;
        async move {
            let found = store
                .due_schedules(due_at, 500, &ShardRange::ALL)
                .await
                .expect("due");
            assert!(!found.due.is_empty());
        }
    })
    .await;
    store.close().await;
    println!(
        "4. Store on {} ({bookmarks} bookmarks of {users} people, loaded in {:.1} s; {count} schedules, 1 in 100 due)",
        db.backend.name(),
        loaded_in.as_secs_f64()
    );
    println!(
        "{:<44} {:>8} {:>10} {:>10} {:>10}",
        "operation", "runs", "p50", "p99", "max"
    );
    for (what, l) in [
        ("save a bookmark (add_bookmark)", insert),
        ("list a page of 10 bookmarks", list),
        ("find the due schedules (at most 500)", due),
    ] {
        println!(
            "{what:<44} {:>8} {:>10} {:>10} {:>10}",
            l.count,
            ms(l.p50),
            ms(l.p99),
            ms(l.max)
        );
    }
    println!();
}
