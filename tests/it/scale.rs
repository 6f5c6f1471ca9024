//! careprompt as several real processes on one PostgreSQL database, each running a range of the
//! bot's gateway shards: every post, every DM and every stage card of a reflective session goes
//! out exactly once, whether a process is killed, two are given the same shards, or the database
//! goes away for a while.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::PathBuf;
use std::process::Child;
use std::time::Duration;

use careprompt::domain::shards::ShardRange;
use careprompt::store::{DeliveryState, Store};

use crate::process::{careprompt_command, posts_per_channel, send_sigterm, sigkill};
use crate::scheduler::{drop_postgres, schedule_weekly, temp_postgres_url};
use crate::support::outage::DatabaseLink;
use crate::support::{dm_channel_id, FakeConfig, FakeDiscord, TOKEN};

/// The bot's shards in all, as `/gateway/bot` recommends and every process is told.
pub(crate) const SHARDS: u32 = 4;

/// How long a whole fan-out may take before the test gives up on it.
const DELIVERY_WAIT: Duration = Duration::from_secs(300);

/// Server `n`, which Discord puts on shard `n % 4`.
pub(crate) fn guild(n: u64) -> u64 {
    ((1_000_000 + n) << 22) | 1
}

pub(crate) fn channel(n: u64) -> u64 {
    700_000_000 + n
}

/// The members opted in to DMs on server `n`: one on each, three on every tenth.
pub(crate) fn members(n: u64) -> Vec<u64> {
    if n % 10 == 0 {
        vec![20_000 + n, 30_000 + n, 40_000 + n]
    } else {
        vec![20_000 + n]
    }
}

/// `careprompt run` in the background, its logs in a file; killed if the test ends early.
pub(crate) struct Process {
    child: Option<Child>,
    log: PathBuf,
}

impl Process {
    /// Starts `command` with its output in the file `log`.
    pub(crate) fn spawn(mut command: std::process::Command, log: PathBuf) -> Process {
        let out = File::create(&log).expect("a log file");
        let err = out.try_clone().expect("the same log file");
        command.stdout(out).stderr(err);
        Process {
            child: Some(command.spawn().expect("careprompt starts")),
            log,
        }
    }

    pub(crate) fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            sigkill(&child);
            let _ = child.wait();
        }
    }

    /// Stops it with SIGTERM and returns its exit code and logs.
    pub(crate) async fn stop(mut self) -> (Option<i32>, String) {
        let Some(mut child) = self.child.take() else {
            return (None, self.logs());
        };
        send_sigterm(&child);
        let waiting = tokio::task::spawn_blocking(move || child.wait());
        let status = tokio::time::timeout(Duration::from_secs(60), waiting)
            .await
            .expect("careprompt exits in time")
            .expect("join")
            .expect("status");
        (status.code(), self.logs())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The fake Discord with `guilds` servers over four shards, and a PostgreSQL database in which
/// each server has a weekly schedule whose slot came half a minute ago and members opted in.
pub(crate) struct World {
    pub(crate) fake: FakeDiscord,
    pub(crate) store: Store,
    pub(crate) database_url: String,
    database_name: String,
    pub(crate) guilds: u64,
    logs: PathBuf,
    started: usize,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

/// One of these tests at a time: each runs several processes, and on a small machine more at
/// once would starve the fake Discord, whose clock then sees bunched requests. For the same
/// reason the fake gets threads of its own (`multi_thread`), so that sending hundreds of
/// GUILD_CREATEs does not hold up the requests it is timing.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl World {
    pub(crate) async fn new(guilds: u64) -> World {
        let turn = ONE_AT_A_TIME.lock().await;
        let fake = FakeDiscord::start_with(FakeConfig {
            shards: SHARDS,
            ..FakeConfig::default()
        })
        .await;
        for n in 0..guilds {
            fake.add_guild(guild(n), &format!("Ward {n}"), &[(channel(n), "wellbeing")]);
        }
        let (database_url, database_name) = temp_postgres_url().await;
        let store = Store::connect(&database_url, 4)
            .await
            .expect("the test opens the database");
        let now = chrono::Utc::now();
        for n in 0..guilds {
            let due = now - chrono::Duration::seconds(30);
            schedule_weekly(&store, (guild(n), channel(n)), n, due, now).await;
            for member in members(n) {
                store
                    .set_dm_optin(member, guild(n), true, now - chrono::Duration::minutes(5))
                    .await
                    .expect("opted in");
            }
        }
        let logs = std::env::temp_dir().join(format!("careprompt-scale-{database_name}"));
        std::fs::create_dir_all(&logs).expect("a folder for the logs");
        World {
            fake,
            store,
            database_url,
            database_name,
            guilds,
            logs,
            started: 0,
            _turn: turn,
        }
    }

    pub(crate) fn dm_count(&self) -> usize {
        (0..self.guilds).map(|n| members(n).len()).sum()
    }

    /// Starts a process for `shards` ("0-1"), or for every shard when `None`, on `database_url`.
    pub(crate) fn start(&mut self, shards: Option<&str>, database_url: &str) -> Process {
        self.start_with(shards, database_url, Vec::new())
    }

    fn start_with(
        &mut self,
        shards: Option<&str>,
        database_url: &str,
        mut env: Vec<(&'static str, String)>,
    ) -> Process {
        self.started += 1;
        let log = self.logs.join(format!("process-{}.log", self.started));
        if let Some(range) = shards {
            env.push(("CAREPROMPT_SHARDS", range.to_string()));
            env.push(("CAREPROMPT_TOTAL_SHARDS", SHARDS.to_string()));
        }
        Process::spawn(
            careprompt_command(&self.fake, TOKEN, database_url, &env),
            log,
        )
    }

    pub(crate) fn start_on_shards(&mut self, shards: Option<&str>) -> Process {
        let url = self.database_url.clone();
        self.start(shards, &url)
    }

    /// Waits until Discord received every post and DM, and the database recorded them all.
    pub(crate) async fn wait_delivered(&self, processes: &[&Process]) {
        let expected = usize::try_from(self.guilds).expect("small") + self.dm_count();
        let deadline = tokio::time::Instant::now() + DELIVERY_WAIT;
        let mut ticks = tokio::time::interval(Duration::from_millis(250));
        loop {
            ticks.tick().await;
            let received = self.fake.created_messages().len();
            if received >= expected && self.all_recorded().await {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                let logs: Vec<String> = processes.iter().map(|p| p.logs()).collect();
                panic!(
                    "after {DELIVERY_WAIT:?}, Discord had {received} of {expected} messages\n{}",
                    logs.join("\n----\n")
                );
            }
        }
    }

    async fn all_recorded(&self) -> bool {
        let pending = self
            .store
            .pending_fan_outs(10, &ShardRange::ALL)
            .await
            .expect("read");
        if !pending.is_empty() {
            return false;
        }
        for n in 0..self.guilds {
            let schedule = self
                .store
                .schedule_for_channel(channel(n))
                .await
                .expect("read")
                .expect("scheduled");
            let latest = self
                .store
                .recent_deliveries(schedule.id, 1)
                .await
                .expect("ledger");
            if latest.first().map(|row| row.state) != Some(DeliveryState::Sent) {
                return false;
            }
        }
        true
    }

    /// Every server's channel has exactly one post, and every member exactly one DM.
    pub(crate) fn assert_exactly_once(&self) {
        let channels: Vec<u64> = (0..self.guilds).map(channel).collect();
        let people: Vec<u64> = (0..self.guilds).flat_map(members).collect();
        assert_each_once(&self.fake, &channels, &people);
    }

    pub(crate) async fn finish(self, processes: Vec<Process>) {
        for process in processes {
            let (code, logs) = process.stop().await;
            assert_eq!(code, Some(0), "a clean stop; logs:\n{logs}");
        }
        self.store.close().await;
        drop_postgres(&self.database_name).await;
        let _ = std::fs::remove_dir_all(&self.logs);
    }
}

/// Discord received exactly one message in each of `channels` and exactly one DM for each of
/// `people`, and nothing else.
pub(crate) fn assert_each_once(fake: &FakeDiscord, channels: &[u64], people: &[u64]) {
    let counts = posts_per_channel(fake);
    let mut wrong = BTreeMap::new();
    let places = channels
        .iter()
        .map(|channel| (format!("channel {channel}"), *channel))
        .chain(
            people
                .iter()
                .map(|person| (format!("{person}'s DMs"), dm_channel_id(*person))),
        );
    for (place, channel) in places {
        let received = counts.get(&channel.to_string()).copied().unwrap_or(0);
        if received != 1 {
            wrong.insert(place, received);
        }
    }
    assert!(wrong.is_empty(), "not exactly once: {wrong:?}");
    let expected = channels.len() + people.len();
    assert_eq!(counts.values().sum::<usize>(), expected, "nothing else");
}

/// The host and port of a `postgres://user@host:port/db` URL.
pub(crate) fn server_address(url: &str) -> std::net::SocketAddr {
    let authority = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split('/').next())
        .expect("a URL");
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:5432")
    };
    std::net::ToSocketAddrs::to_socket_addrs(&host)
        .expect("the server's address")
        .next()
        .expect("an address")
}

/// Processes that split the shards split Discord's global budget, each pacing its own share. They
/// cannot see each other's requests, so on a machine as loaded as the test's (several bot
/// processes, PostgreSQL and the fake on two cores) a stall now and then bunches their requests
/// into a global 429, which careprompt waits out. A few of those are what sharing without a proxy
/// costs; processes that each took the whole budget would draw hundreds.
fn assert_budget_shared(fake: &FakeDiscord) {
    let requests = fake.requests().len();
    let violations = fake.take_violations();
    let (global, other): (Vec<String>, Vec<String>) = violations
        .into_iter()
        .partition(|violation| violation.contains("global rate limit"));
    assert_eq!(other, Vec::<String>::new());
    eprintln!("{} global 429s in {requests} requests", global.len());
    assert!(
        global.len() * 100 <= requests,
        "{} global 429s in {requests} requests: {global:?}",
        global.len()
    );
}

/// Discord's global rate limit is per bot: processes that each think they own every shard
/// together send more than it allows, and are answered 429, which is all that is expected of
/// such a mistake.
pub(crate) fn violations_besides_the_global_rate_limit(fake: &FakeDiscord) -> Vec<String> {
    fake.take_violations()
        .into_iter()
        .filter(|violation| !violation.contains("global rate limit"))
        .collect()
}

/// A port on 127.0.0.1 that nothing listens on just now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// What a process's `/metrics` says, read as Prometheus text.
async fn scrape(port: u16) -> prometheus_parse::Scrape {
    let text = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .expect("/metrics answers")
        .text()
        .await
        .expect("text");
    let lines = text.lines().map(|line| Ok(line.to_string()));
    prometheus_parse::Scrape::parse(lines).expect("Prometheus text")
}

/// The value of counter `metric` with label `outcome`, 0 when absent.
fn counter(scrape: &prometheus_parse::Scrape, metric: &str, outcome: &str) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|sample| sample.metric == metric && sample.labels.get("outcome") == Some(outcome))
        .map(|sample| match sample.value {
            prometheus_parse::Value::Counter(value) => value,
            ref other => panic!("{metric} is not a counter: {other:?}"),
        })
        .sum()
}

fn gauge(scrape: &prometheus_parse::Scrape, metric: &str) -> f64 {
    scrape
        .samples
        .iter()
        .find(|sample| sample.metric == metric)
        .map_or(0.0, |sample| match sample.value {
            prometheus_parse::Value::Gauge(value) => value,
            ref other => panic!("{metric} is not a gauge: {other:?}"),
        })
}

/// Waits until the process's `/readyz` says every shard it runs is connected.
async fn wait_ready(port: u16) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let status = reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
            .await
            .map(|response| response.status().as_u16());
        if status.as_ref().is_ok_and(|code| *code == 200) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never ready: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_on_four_shards_post_and_dm_each_exactly_once() {
    let mut world = World::new(300).await;
    let split = [("0-1", 2.0), ("2", 1.0), ("3", 1.0)];
    let ports: Vec<u16> = split.iter().map(|_| free_port()).collect();
    let url = world.database_url.clone();
    let processes: Vec<Process> = split
        .iter()
        .zip(&ports)
        .map(|((range, _), port)| {
            let listen = ("CAREPROMPT_METRICS__LISTEN", format!("127.0.0.1:{port}"));
            world.start_with(Some(range), &url, vec![listen])
        })
        .collect();
    for port in &ports {
        wait_ready(*port).await;
    }
    world
        .wait_delivered(&processes.iter().collect::<Vec<_>>())
        .await;
    world.assert_exactly_once();
    let mut identified = world.fake.identified_shards();
    identified.sort_unstable();
    assert_eq!(
        identified,
        [[0, SHARDS], [1, SHARDS], [2, SHARDS], [3, SHARDS]],
        "each shard run by one process"
    );

    // What the operators' metrics add up to is what Discord received.
    let mut posts = 0.0;
    let mut dms = 0.0;
    for ((_, shards), port) in split.iter().zip(&ports) {
        let scrape = scrape(*port).await;
        posts += counter(&scrape, "careprompt_deliveries_total", "sent");
        dms += counter(&scrape, "careprompt_dms_total", "sent");
        assert_eq!(gauge(&scrape, "careprompt_shards"), *shards);
        assert_eq!(gauge(&scrape, "careprompt_shards_connected"), *shards);
    }
    assert_eq!(posts as u64, world.guilds);
    assert_eq!(dms as usize, world.dm_count());
    assert_budget_shared(&world.fake);
    world.finish(processes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_mid_fan_out_and_started_again_loses_and_repeats_nothing() {
    let mut world = World::new(300).await;
    let mut lower = world.start_on_shards(Some("0-1"));
    let others = vec![
        world.start_on_shards(Some("2")),
        world.start_on_shards(Some("3")),
    ];
    world
        .fake
        .wait_posts(None, 150, DELIVERY_WAIT)
        .await
        .expect("the fan-out is under way");
    lower.kill();
    let received = world.fake.created_messages().len();
    assert!(
        received < usize::try_from(world.guilds).expect("small") + world.dm_count(),
        "killed part way"
    );
    let restarted = world.start_on_shards(Some("0-1"));
    let mut processes = others;
    processes.push(restarted);
    world
        .wait_delivered(&processes.iter().collect::<Vec<_>>())
        .await;
    world.assert_exactly_once();
    assert_budget_shared(&world.fake);
    world.finish(processes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_given_the_same_shards_still_post_each_once() {
    let mut world = World::new(100).await;
    let processes = vec![
        world.start_on_shards(Some("0-3")),
        world.start_on_shards(Some("0-3")),
    ];
    world
        .wait_delivered(&processes.iter().collect::<Vec<_>>())
        .await;
    world.assert_exactly_once();
    world
        .fake
        .wait_identify_count(8, Duration::from_secs(60))
        .await
        .expect("both ran every shard");
    assert_eq!(
        violations_besides_the_global_rate_limit(&world.fake),
        Vec::<String>::new()
    );
    world.finish(processes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_going_away_mid_fan_out_loses_and_repeats_nothing() {
    let mut world = World::new(60).await;
    let link = DatabaseLink::start(server_address(&world.database_url)).await;
    let through_link = link.url_through(&world.database_url);
    let process = world.start(None, &through_link);
    world
        .fake
        .wait_posts(None, 20, DELIVERY_WAIT)
        .await
        .expect("the fan-out is under way");
    link.cut();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let during = world.fake.created_messages().len();
    link.restore();
    assert!(
        link.refused() > 0,
        "careprompt tried the database while it was away"
    );
    assert!(
        during < usize::try_from(world.guilds).expect("small") + world.dm_count(),
        "the outage came before the end"
    );
    world.wait_delivered(&[&process]).await;
    world.assert_exactly_once();
    world.fake.assert_no_violations();
    world.finish(vec![process]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_on_a_killed_process_s_shard_is_finished_by_the_process_that_takes_it_over() {
    use crate::sessions::{
        assert_each_stage_once, button, carry_on_to_the_end, click, session_command, thread,
        wait_stage_sent, wait_stages, FACILITATOR,
    };
    use crate::support::{Fault, RouteMatch, GATEWAY_WAIT};
    let mut world = World::new(4).await;
    let mut lower = world.start_on_shards(Some("0-1"));
    let upper = world.start_on_shards(Some("2-3"));
    world.wait_delivered(&[&lower, &upper]).await;
    world
        .fake
        .wait_shards_ready(&[0, 1], SHARDS, GATEWAY_WAIT)
        .await
        .expect("the lower shards connected");
    let mut raw = crate::store::Raw::open(&world.database_url).await;

    // The test's server is on shard 0: the lower process runs its session, and is killed while
    // the story card, after Next, is on its way and Discord has posted it.
    let started = world
        .fake
        .run_command(session_command("start").option_str("theme", "compassion"))
        .await
        .expect("answered");
    assert!(started.ephemeral());
    let thread = thread(&world.fake);
    let stages = wait_stages(&world.fake, thread, 1).await;
    let session = world
        .store
        .running_session_in(thread)
        .await
        .expect("read")
        .expect("running");
    world.fake.inject(Fault::Stall {
        route: RouteMatch::new("POST", format!("/channels/{thread}/messages")),
        processed: true,
        times: 1,
    });
    click(&world.fake, FACILITATOR, &button(&stages[0], "Next")).await;
    wait_stage_sent(&world.fake, thread, session.id, 1).await;
    lower.kill();
    assert_eq!(
        raw.count("SELECT COUNT(*) FROM session_posts WHERE stage = 1 AND message_id IS NULL")
            .await,
        1,
        "claimed, and not recorded"
    );

    // A process given every shard takes the killed one's claim over once it has gone unheard,
    // while the upper process, whose shards the server is not on, leaves the session alone.
    let whole = world.start_on_shards(Some("0-3"));
    raw.wait_count(
        "SELECT COUNT(*) FROM session_posts WHERE stage = 1 AND message_id IS NOT NULL",
        1,
        DELIVERY_WAIT,
    )
    .await;
    // The facilitator's clicks reach the server's shard once the new process has identified it
    // (the killed process did so before).
    let deadline = tokio::time::Instant::now() + DELIVERY_WAIT;
    let shard_0 = [0, SHARDS];
    while world
        .fake
        .identified_shards()
        .iter()
        .filter(|shard| **shard == shard_0)
        .count()
        < 2
        || !world.fake.connected_shards().contains(&shard_0)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "shard 0 never connected again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    carry_on_to_the_end(&world.fake, thread, 2).await;
    assert_each_stage_once(&world.fake, thread, session.id);
    assert!(whole.logs().contains("posted a session stage"));
    assert!(
        !upper.logs().contains("posted a session stage"),
        "{}",
        upper.logs()
    );
    assert_eq!(
        violations_besides_the_global_rate_limit(&world.fake),
        Vec::<String>::new()
    );
    raw.close().await;
    world.finish(vec![upper, whole]).await;
}
