//! `careprompt run` as a real process: signals, exit codes, and what reaches its logs.

use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use careprompt::store::{DeliveryState, Store};

use crate::bot::repo;
use crate::scheduler::schedule_weekly;
use crate::support::{CommandInvocation, FakeDiscord, Fault, RouteMatch, GATEWAY_WAIT, TOKEN};

fn spawn_careprompt(fake: &FakeDiscord, token: &str) -> Child {
    spawn_careprompt_on(fake, token, "sqlite::memory:")
}

fn spawn_careprompt_on(fake: &FakeDiscord, token: &str, database_url: &str) -> Child {
    spawn_careprompt_with(fake, token, database_url, &[])
}

fn spawn_careprompt_with(
    fake: &FakeDiscord,
    token: &str,
    database_url: &str,
    extra_env: &[(&str, String)],
) -> Child {
    let mut command = careprompt_command(fake, token, database_url, extra_env);
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    command.spawn().expect("careprompt starts")
}

/// `careprompt run` against the fake, with its input closed and its output not yet directed.
pub(crate) fn careprompt_command(
    fake: &FakeDiscord,
    token: &str,
    database_url: &str,
    extra_env: &[(&str, String)],
) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_careprompt"));
    command
        .arg("run")
        .current_dir(repo())
        .env("DISCORD_TOKEN", token)
        .env("CAREPROMPT_DISCORD__PROXY_URL", fake.proxy_base_url())
        .env("CAREPROMPT_DATABASE__URL", database_url)
        // A killed process's claims are taken over by its successor after this long.
        .env("CAREPROMPT_PROCESSES__TAKEOVER_AFTER", "2s")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    for (name, value) in extra_env {
        command.env(name, value);
    }
    command
}

async fn wait_exit(child: Child) -> Output {
    let waiting = tokio::task::spawn_blocking(move || child.wait_with_output());
    tokio::time::timeout(Duration::from_secs(30), waiting)
        .await
        .expect("careprompt exits in time")
        .expect("join")
        .expect("output")
}

pub(crate) fn send_sigterm(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

#[tokio::test]
async fn sigterm_during_a_command_answers_it_then_exits_zero() {
    let fake = FakeDiscord::start().await;
    let child = spawn_careprompt(&fake, TOKEN);
    fake.wait_ready(GATEWAY_WAIT).await.expect("connected");
    fake.inject(Fault::RateLimit {
        route: RouteMatch::new("POST", "/interactions/"),
        retry_after_secs: 1.0,
        global: false,
        times: 1,
    });
    let token = fake
        .send_interaction(fake.command_interaction(&CommandInvocation::guild("support")))
        .await
        .expect("sent");
    fake.wait_request(
        |request| request.is("POST", "/interactions/") && request.status == 429,
        GATEWAY_WAIT,
    )
    .await
    .expect("the command is in flight");
    send_sigterm(&child);
    let output = wait_exit(child).await;
    let logs = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "logs:\n{logs}");
    let reply = fake
        .wait_reply(&token, Duration::from_secs(1))
        .await
        .expect("answered before exit");
    assert!(reply.ephemeral());
    assert!(logs.contains("shutting down"), "{logs}");
    fake.assert_no_violations();
}

#[tokio::test]
async fn failed_registration_exits_non_zero_with_a_reason() {
    let fake = FakeDiscord::start().await;
    fake.inject(Fault::Status {
        route: RouteMatch::new("PUT", "/applications/"),
        status: 400,
        body: serde_json::json!({"message": "Invalid Form Body", "code": 50035}),
        times: usize::MAX,
    });
    let output = wait_exit(spawn_careprompt(&fake, TOKEN)).await;
    let logs = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{logs}");
    assert!(logs.contains("registering slash commands"), "{logs}");
    assert_eq!(fake.connection_count(), 0);
}

#[tokio::test]
async fn a_bad_token_exits_non_zero() {
    let fake = FakeDiscord::start().await;
    let output = wait_exit(spawn_careprompt(&fake, crate::support::BAD_TOKEN)).await;
    let logs = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{logs}");
    assert!(logs.contains("DISCORD_TOKEN"), "{logs}");
}

#[tokio::test]
async fn logs_hold_neither_tokens_nor_message_content() {
    let fake = FakeDiscord::start().await;
    let child = spawn_careprompt(&fake, TOKEN);
    fake.wait_ready(GATEWAY_WAIT).await.expect("connected");
    let mut shown = Vec::new();
    for invocation in [
        CommandInvocation::guild("prompt").option_str("theme", "compassion"),
        CommandInvocation::guild("pack").option_str("theme", "kindness and care"),
        CommandInvocation::guild("support"),
    ] {
        let reply = fake.run_command(invocation).await.expect("answered");
        shown.push(reply.token.clone());
        for embed in reply.embeds() {
            if let Some(text) = embed["description"].as_str() {
                shown.push(text.to_string());
            }
        }
    }
    // A dropped connection and then a refused reply make the bot log about both; reqwest's own
    // errors would carry the URL with the interaction token in it.
    let failed = fake.command_interaction(&CommandInvocation::guild("help"));
    shown.push(failed["token"].as_str().unwrap_or_default().to_string());
    send_failing_its_answer(&fake, failed).await;
    send_sigterm(&child);
    let output = wait_exit(child).await;
    assert_eq!(output.status.code(), Some(0));
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(
        logs.contains("command failed"),
        "the failure is logged:\n{logs}"
    );
    assert!(!logs.contains(TOKEN), "bot token in logs:\n{logs}");
    assert!(
        !logs.contains("kindness and care"),
        "typed input in logs:\n{logs}"
    );
    for secret in shown {
        assert!(!logs.contains(&secret), "{secret:?} in logs:\n{logs}");
    }
    fake.assert_no_violations();
}

/// Sends the interaction with its answer made to fail: the connection drops, and the retry is
/// refused.
async fn send_failing_its_answer(fake: &FakeDiscord, interaction: serde_json::Value) {
    fake.inject(Fault::DropConnection {
        route: RouteMatch::new("POST", "/interactions/"),
        times: 1,
    });
    fake.inject(Fault::Status {
        route: RouteMatch::new("POST", "/interactions/"),
        status: 400,
        body: serde_json::json!({"message": "x", "code": 50035}),
        times: 1,
    });
    fake.send_interaction(interaction).await.expect("sent");
    fake.wait_request(
        |request| request.is("POST", "/interactions/") && request.status == 400,
        GATEWAY_WAIT,
    )
    .await
    .expect("the retried reply was refused");
}

/// A command whose answer fails: each of its log lines, the REST client's retry deep inside it
/// as well as the one error handler's, carries its span with the command's name, and none
/// carries the id of the person, server, channel or interaction, or the option's value.
#[tokio::test]
async fn an_error_inside_a_command_is_logged_with_its_name_and_no_id() {
    let fake = FakeDiscord::start().await;
    let child = spawn_careprompt(&fake, TOKEN);
    fake.wait_ready(GATEWAY_WAIT).await.expect("connected");
    let value = "918273645";
    let failed = fake.command_interaction(
        &CommandInvocation::guild("bookmarks")
            .subcommand("remove")
            .option_str("item", value),
    );
    send_failing_its_answer(&fake, failed.clone()).await;
    send_sigterm(&child);
    let output = wait_exit(child).await;
    assert_eq!(output.status.code(), Some(0));
    let logs = String::from_utf8_lossy(&output.stderr);
    for said in ["Discord request failed; retrying", "command failed"] {
        let line = logs
            .lines()
            .find(|line| line.contains(said))
            .unwrap_or_else(|| panic!("{said:?} is logged:\n{logs}"));
        assert!(
            line.contains("interaction{n=") && line.contains("command=bookmarks remove"),
            "{said:?} is logged in the command's span:\n{line}"
        );
    }
    let token = failed["token"].as_str().expect("a token");
    assert!(
        !logs.contains(token),
        "the interaction's token in logs:\n{logs}"
    );
    // Ids are numbers, which the logs' times and counts are made of too: each is looked for as
    // a whole number.
    let numbers: Vec<&str> = logs
        .split(|c: char| !c.is_ascii_digit())
        .filter(|number| !number.is_empty())
        .collect();
    let ids = [
        failed["id"].as_str(),
        failed["guild_id"].as_str(),
        failed["channel_id"].as_str(),
        failed["member"]["user"]["id"].as_str(),
        Some(value),
    ];
    for id in ids {
        let id = id.expect("the interaction has it");
        assert!(!numbers.contains(&id), "{id:?} in logs:\n{logs}");
    }
    fake.assert_no_violations();
}

#[tokio::test]
async fn sigterm_while_the_gateway_is_unreachable_still_exits() {
    let fake = FakeDiscord::start().await;
    // Point the bot at a gateway address where nothing listens, so no shard ever connects.
    fake.inject(Fault::Status {
        route: RouteMatch::new("GET", "/gateway"),
        status: 200,
        body: serde_json::json!({"url": "ws://127.0.0.1:9", "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999,
                                    "reset_after": 14_400_000, "max_concurrency": 1}}),
        times: usize::MAX,
    });
    let child = spawn_careprompt(&fake, TOKEN);
    fake.wait_request(|request| request.is("GET", "/gateway"), GATEWAY_WAIT)
        .await
        .expect("the bot asked where the gateway is");
    send_sigterm(&child);
    let output = wait_exit(child).await;
    let logs = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "logs:\n{logs}");
    assert!(logs.contains("received SIGTERM"), "{logs}");
    assert_eq!(fake.connection_count(), 0);
}

#[tokio::test]
async fn sigint_stops_the_bot_cleanly_too() {
    let fake = FakeDiscord::start().await;
    let child = spawn_careprompt(&fake, TOKEN);
    fake.wait_ready(GATEWAY_WAIT).await.expect("connected");
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let output = wait_exit(child).await;
    let logs = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "logs:\n{logs}");
    assert!(
        logs.contains("received SIGINT") && logs.contains("goodbye"),
        "{logs}"
    );
    fake.assert_no_violations();
}

// ---- scheduled posts across SIGKILL ----------------------------------------------------------

pub(crate) fn sigkill(child: &Child) {
    let status = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

pub(crate) fn temp_database() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let path = std::env::temp_dir().join(format!(
        "careprompt-process-{}-{}.db",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    format!("sqlite://{}?mode=rwc", path.display())
}

/// Schedules a weekly post in each channel whose slot came half a minute ago, so the process
/// posts them as soon as it starts.
async fn schedules_due_now(database_url: &str, channels: &[u64]) -> Store {
    let store = Store::connect(database_url, 2)
        .await
        .expect("the test opens the database");
    let now = chrono::Utc::now();
    for channel in channels {
        let place = (crate::support::GUILD_ID, *channel);
        schedule_weekly(
            &store,
            place,
            *channel,
            now - chrono::Duration::seconds(30),
            now,
        )
        .await;
    }
    store
}

/// The ledger state of each channel's latest slot.
pub(crate) async fn latest_states(store: &Store, channels: &[u64]) -> Vec<Option<DeliveryState>> {
    let mut states = Vec::new();
    for channel in channels {
        let schedule = store
            .schedule_for_channel(*channel)
            .await
            .expect("read")
            .expect("scheduled");
        let latest = store
            .recent_deliveries(schedule.id, 1)
            .await
            .expect("ledger")
            .into_iter()
            .next()
            .map(|row| row.state);
        states.push(latest);
    }
    states
}

async fn wait_all_sent(store: &Store, channels: &[u64]) {
    let mut ticks = tokio::time::interval(Duration::from_millis(50));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        ticks.tick().await;
        let states = latest_states(store, channels).await;
        if states
            .iter()
            .all(|state| *state == Some(DeliveryState::Sent))
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not every post was recorded as sent: {states:?}"
        );
    }
}

pub(crate) fn posts_per_channel(fake: &FakeDiscord) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for message in fake.created_messages() {
        let channel = message["channel_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        *counts.entry(channel).or_insert(0) += 1;
    }
    counts
}

async fn killed_mid_send_then_restarted(processed: bool) {
    let fake = FakeDiscord::start().await;
    let database = temp_database();
    let channels = [crate::support::CHANNEL_ID];
    let store = schedules_due_now(&database, &channels).await;
    fake.inject(Fault::Stall {
        route: RouteMatch::new("POST", "/channels/"),
        processed,
        times: 1,
    });
    let child = spawn_careprompt_on(&fake, TOKEN, &database);
    fake.wait_request(
        |request| request.is("POST", "/channels/"),
        Duration::from_secs(30),
    )
    .await
    .expect("the post was being sent");
    sigkill(&child);
    let killed = wait_exit(child).await;
    assert_eq!(killed.status.code(), None, "killed by a signal");
    assert_eq!(
        latest_states(&store, &channels).await,
        vec![Some(DeliveryState::Claimed)],
        "claimed, and not recorded"
    );
    assert_eq!(fake.created_messages().len(), usize::from(processed));

    let child = spawn_careprompt_on(&fake, TOKEN, &database);
    wait_all_sent(&store, &channels).await;
    send_sigterm(&child);
    let output = wait_exit(child).await;
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        posts_per_channel(&fake).into_values().collect::<Vec<_>>(),
        vec![1],
        "exactly one post"
    );
    fake.assert_no_violations();
}

#[tokio::test]
async fn sigkill_after_the_claim_and_before_the_send_posts_once_after_a_restart() {
    killed_mid_send_then_restarted(false).await;
}

#[tokio::test]
async fn sigkill_after_the_send_and_before_the_record_posts_once_after_a_restart() {
    killed_mid_send_then_restarted(true).await;
}

#[tokio::test]
async fn sigkill_in_the_middle_of_200_due_schedules_posts_each_exactly_once() {
    let fake = FakeDiscord::start().await;
    let database = temp_database();
    let channels: Vec<u64> = (0..200).map(|n| 60_000 + n).collect();
    for channel in &channels {
        fake.add_guild_channel(*channel, &format!("ward-{channel}"));
    }
    let store = schedules_due_now(&database, &channels).await;
    let child = spawn_careprompt_on(&fake, TOKEN, &database);
    fake.wait_posts(None, 60, Duration::from_secs(60))
        .await
        .expect("posting began");
    sigkill(&child);
    wait_exit(child).await;
    let before_restart = fake.created_messages().len();
    assert!(before_restart < 200, "killed part way: {before_restart}");

    let child = spawn_careprompt_on(&fake, TOKEN, &database);
    wait_all_sent(&store, &channels).await;
    send_sigterm(&child);
    let output = wait_exit(child).await;
    assert_eq!(output.status.code(), Some(0));
    let counts = posts_per_channel(&fake);
    assert_eq!(counts.len(), 200, "every channel got its post");
    assert!(
        counts.values().all(|count| *count == 1),
        "a channel got more than one: {counts:?}"
    );
    // Restarted straight after a SIGKILL, the new process cannot know what the killed one sent
    // in its last second: a global 429 at the restart is what a crash costs (see the SIGKILL
    // drill). Nothing else may be refused.
    assert_eq!(
        crate::scale::violations_besides_the_global_rate_limit(&fake),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn sigterm_while_a_post_is_being_sent_finishes_it_then_exits_zero() {
    let fake = FakeDiscord::start().await;
    let database = temp_database();
    let channels = [crate::support::CHANNEL_ID];
    let store = schedules_due_now(&database, &channels).await;
    fake.inject(Fault::RateLimit {
        route: RouteMatch::new("POST", "/channels/"),
        retry_after_secs: 1.0,
        global: false,
        times: 1,
    });
    let child = spawn_careprompt_on(&fake, TOKEN, &database);
    fake.wait_request(
        |request| request.is("POST", "/channels/") && request.status == 429,
        Duration::from_secs(30),
    )
    .await
    .expect("the post is waiting out a rate limit");
    send_sigterm(&child);
    let output = wait_exit(child).await;
    let logs = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "logs:\n{logs}");
    assert_eq!(
        latest_states(&store, &channels).await,
        vec![Some(DeliveryState::Sent)],
        "the send already begun was finished and recorded:\n{logs}"
    );
    assert_eq!(fake.created_messages().len(), 1);
    fake.assert_no_violations();
}

#[tokio::test]
async fn sigkill_in_the_middle_of_the_dms_sends_each_person_one() {
    let fake = FakeDiscord::start().await;
    let database = temp_database();
    let channels = [crate::support::CHANNEL_ID];
    let store = schedules_due_now(&database, &channels).await;
    let people: Vec<u64> = (0..40).map(|n| 6_000 + n).collect();
    let earlier = chrono::Utc::now() - chrono::Duration::minutes(5);
    for person in &people {
        store
            .set_dm_optin(*person, crate::support::GUILD_ID, true, earlier)
            .await
            .expect("opted in");
    }
    let child = spawn_careprompt_on(&fake, TOKEN, &database);
    fake.wait_posts(None, 1 + 10, Duration::from_secs(60))
        .await
        .expect("the DMs began");
    sigkill(&child);
    wait_exit(child).await;
    assert!(
        fake.created_messages().len() < 1 + people.len(),
        "killed part way"
    );

    let child = spawn_careprompt_on(&fake, TOKEN, &database);
    fake.wait_posts(None, 1 + people.len(), Duration::from_secs(60))
        .await
        .expect("every DM went out");
    let mut ticks = tokio::time::interval(Duration::from_millis(50));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        ticks.tick().await;
        if store
            .pending_fan_outs(10, &careprompt::domain::shards::ShardRange::ALL)
            .await
            .expect("read")
            .is_empty()
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the DMs were never settled"
        );
    }
    send_sigterm(&child);
    let output = wait_exit(child).await;
    assert_eq!(output.status.code(), Some(0));
    let counts = posts_per_channel(&fake);
    for person in &people {
        let channel = crate::support::dm_channel_id(*person).to_string();
        assert_eq!(
            counts.get(&channel),
            Some(&1),
            "{person} got exactly one DM"
        );
    }
    assert_eq!(counts.len(), 1 + people.len());
    // As in the schedules' SIGKILL test: a global 429 straight after the restart is what the
    // crash costs; nothing else may be refused.
    assert_eq!(
        crate::scale::violations_besides_the_global_rate_limit(&fake),
        Vec::<String>::new()
    );
}

/// The value of the Prometheus sample `name{labels}` in `text`, or 0 when it is absent.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (key, value) = line.rsplit_once(' ')?;
            (key == series).then(|| value.parse::<f64>().ok()).flatten()
        })
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_health_and_readiness_match_what_discord_received() {
    let fake = FakeDiscord::start().await;
    let database = temp_database();
    let channels: Vec<u64> = (0..3).map(|n| 70_000 + n).collect();
    for channel in &channels {
        fake.add_guild_channel(*channel, &format!("ward-{channel}"));
    }
    let store = schedules_due_now(&database, &channels).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let child = spawn_careprompt_with(
        &fake,
        TOKEN,
        &database,
        &[("CAREPROMPT_METRICS__LISTEN", format!("127.0.0.1:{port}"))],
    );
    fake.wait_ready(GATEWAY_WAIT).await.expect("connected");
    wait_all_sent(&store, &channels).await;
    fake.run_command(CommandInvocation::guild("themes"))
        .await
        .expect("answered");
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let health = client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status().as_u16(), 200);
    let mut ready = 0;
    for _ in 0..100 {
        let status = client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .expect("readyz")
            .status()
            .as_u16();
        if status == 200 {
            ready = status;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(
        ready, 200,
        "ready once connected with the database answering"
    );
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert_eq!(
        sample(&metrics, "careprompt_deliveries_total{outcome=\"sent\"}") as usize,
        fake.created_messages().len(),
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            "careprompt_interactions_total{command=\"themes\"}"
        ),
        1.0,
        "{metrics}"
    );
    assert_eq!(
        sample(&metrics, "careprompt_shards_connected"),
        1.0,
        "{metrics}"
    );
    // Labels carry names, never ids.
    for line in metrics.lines().filter(|line| !line.starts_with('#')) {
        let key = line.rsplit_once(' ').map_or(line, |(key, _)| key);
        assert!(
            key.chars().filter(char::is_ascii_digit).count() <= 6,
            "an id in a label: {line}"
        );
    }
    send_sigterm(&child);
    let output = wait_exit(child).await;
    assert_eq!(output.status.code(), Some(0));
    fake.assert_no_violations();
}

/// The lines the child writes to its standard error (piped), as they come.
pub(crate) fn stderr_lines(child: &mut Child) -> tokio::sync::mpsc::UnboundedReceiver<String> {
    use std::io::BufRead as _;
    let stderr = child.stderr.take().expect("stderr is piped");
    let (lines_tx, lines) = tokio::sync::mpsc::unbounded_channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines_tx.send(line);
        }
    });
    lines
}

#[tokio::test]
async fn try_logs_one_line_with_its_address_and_leaves_nothing_behind() {
    let scratch =
        std::env::temp_dir().join(format!("careprompt-try-process-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).expect("scratch folder");
    // try never reads it: it must start and answer all the same.
    let secret = "a-real-looking-token-that-must-never-be-read";
    let mut child = Command::new(env!("CARGO_BIN_EXE_careprompt"))
        .args(["try", "--listen", "127.0.0.1:0"])
        .current_dir(&scratch)
        .env("DISCORD_TOKEN", secret)
        .env("TMPDIR", &scratch)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("careprompt try starts");
    let mut lines = stderr_lines(&mut child);
    let first = tokio::time::timeout(GATEWAY_WAIT, lines.recv())
        .await
        .expect("try logs in time")
        .expect("a line");
    let address = first
        .split("open http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("the first line gives the address: {first}"))
        .to_string();
    assert!(address.starts_with("127.0.0.1:"), "{first}");
    let page = reqwest::get(format!("http://{address}/"))
        .await
        .expect("the page answers")
        .text()
        .await
        .expect("text");
    assert!(page.contains("nothing leaves this machine"), "{page}");
    assert!(
        std::fs::read_dir(&scratch).expect("scratch").count() > 0,
        "the temporary database is in TMPDIR while try runs"
    );

    send_sigterm(&child);
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("exit status");
    assert_eq!(status.code(), Some(0));
    let mut rest = Vec::new();
    while let Some(line) = lines.recv().await {
        rest.push(line);
    }
    assert_eq!(
        rest,
        Vec::<String>::new(),
        "one line only; then:\n{rest:#?}"
    );
    let left: Vec<_> = std::fs::read_dir(&scratch)
        .expect("scratch")
        .map_while(Result::ok)
        .map(|entry| entry.file_name())
        .collect();
    assert!(left.is_empty(), "try left {left:?} behind");
    let _ = std::fs::remove_dir_all(&scratch);
}

// ---- a reflective session across SIGKILL -----------------------------------------------------

/// An automatic session is started by one process, which is then stopped for the welcome's
/// minutes; the next process finds the welcome's time up at its first step, moves the session on
/// and is killed while the story card is on its way (before Discord acted on it, or after); a
/// third carries the session on to its end. Every stage is posted exactly once.
async fn session_killed_mid_stage_then_restarted(processed: bool) {
    use crate::sessions::{
        assert_each_stage_once, carry_on_to_the_end, session_command, text_of, thread,
        wait_stage_sent, wait_stages,
    };
    let fake = FakeDiscord::start().await;
    let database = temp_database();
    let store = Store::connect(&database, 2)
        .await
        .expect("the test opens the database");
    let mut raw = crate::store::Raw::open(&database).await;
    let wait = Duration::from_secs(60);

    let child = spawn_careprompt_on(&fake, TOKEN, &database);
    fake.wait_ready(GATEWAY_WAIT).await.expect("connected");
    let started = fake
        .run_command(
            session_command("start")
                .option_str("theme", "compassion")
                .option_bool("auto", true),
        )
        .await
        .expect("answered");
    assert!(started.ephemeral());
    let thread = thread(&fake);
    wait_stages(&fake, thread, 1).await;
    raw.wait_count(
        "SELECT COUNT(*) FROM session_posts WHERE stage = 0 AND message_id IS NOT NULL",
        1,
        wait,
    )
    .await;
    send_sigterm(&child);
    assert_eq!(wait_exit(child).await.status.code(), Some(0));

    // The binary runs on the real clock, so the welcome's minutes pass while careprompt is
    // stopped by moving the session's times back by them.
    let session = store
        .running_session_in(crate::support::CHANNEL_ID)
        .await
        .expect("read")
        .expect("running");
    let welcome = session
        .stage_deadline
        .expect("an automatic stage has a deadline")
        - session.stage_started_at;
    let back = welcome.num_seconds();
    raw.execute(&format!(
        "UPDATE sessions SET started_at = started_at - {back}, \
         stage_started_at = stage_started_at - {back}, stage_deadline = stage_deadline - {back}"
    ))
    .await;
    raw.execute(&format!(
        "UPDATE session_posts SET claimed_at = claimed_at - {back}"
    ))
    .await;

    fake.inject(Fault::Stall {
        route: RouteMatch::new("POST", format!("/channels/{thread}/messages")),
        processed,
        times: 1,
    });
    let child = spawn_careprompt_on(&fake, TOKEN, &database);
    wait_stage_sent(&fake, thread, session.id, 1).await;
    sigkill(&child);
    assert_eq!(wait_exit(child).await.status.code(), None, "killed");
    let killed = store
        .session(session.id)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(killed.stage, 1, "moved on by the clock");
    assert!(killed.stage_deadline.is_some(), "the story is timed");
    assert_eq!(
        raw.count("SELECT COUNT(*) FROM session_posts WHERE stage = 1 AND message_id IS NULL")
            .await,
        1,
        "claimed, and not recorded"
    );
    assert_eq!(fake.messages_in(thread).len(), 1 + usize::from(processed));

    // The next process takes the dead one's claim over once it has gone unheard for the takeover
    // time, and finishes it.
    let child = spawn_careprompt_on(&fake, TOKEN, &database);
    raw.wait_count(
        "SELECT COUNT(*) FROM session_posts WHERE stage = 1 AND message_id IS NOT NULL",
        1,
        wait,
    )
    .await;
    let stages = wait_stages(&fake, thread, 2).await;
    assert!(text_of(&stages[1]).contains("The story"), "{}", stages[1]);
    let carried = store
        .session(session.id)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(
        (carried.stage, carried.stage_deadline),
        (1, killed.stage_deadline),
        "the story keeps the time it was given, and is not moved on again"
    );

    // The facilitator carries it on to the close and ends it, through this process: its clicks
    // reach the shard once it has identified (the first two processes did before it).
    fake.wait_identify_count(3, GATEWAY_WAIT)
        .await
        .expect("the third process connected");
    carry_on_to_the_end(&fake, thread, 2).await;
    send_sigterm(&child);
    assert_eq!(wait_exit(child).await.status.code(), Some(0));

    assert_each_stage_once(&fake, thread, session.id);
    assert_eq!(
        posts_per_channel(&fake).into_values().sum::<usize>(),
        6,
        "nothing else posted"
    );
    // As for posts: a restart straight after a SIGKILL may draw a global 429, and nothing else.
    assert_eq!(
        crate::scale::violations_besides_the_global_rate_limit(&fake),
        Vec::<String>::new()
    );
    raw.close().await;
    store.close().await;
}

#[tokio::test]
async fn sigkill_after_a_stage_is_claimed_and_before_it_is_sent_posts_it_once_after_a_restart() {
    session_killed_mid_stage_then_restarted(false).await;
}

#[tokio::test]
async fn sigkill_after_a_stage_is_sent_and_before_it_is_recorded_posts_it_once_after_a_restart() {
    session_killed_mid_stage_then_restarted(true).await;
}
