//! Scheduled posts end to end: `/schedule` against the fake Discord, and the worker posting each
//! slot exactly once on a clock the test moves. No test waits for real time to pass: the clock
//! only moves when a test moves it, and each wait is for something the fake or the database sees.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use careprompt::clock::{Clock, ManualClock};
use careprompt::config::Config;
use careprompt::store::{DeliveryState, Store};
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::bot::{base_config, spawn_bot_with_clock, Mode, RunningBot};
use crate::support::{
    ButtonClick, CommandInvocation, FakeConfig, FakeDiscord, Fault, InteractionReply, RouteMatch,
    ADMIN_PERMISSIONS, CHANNEL_ID, GATEWAY_WAIT, TOKEN,
};

/// How long a test waits for the bot to do something it has been made to do.
pub const WAIT: Duration = Duration::from_secs(20);

/// A second channel of the test guild.
pub const OTHER_CHANNEL: u64 = 1002;

pub fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("an RFC 3339 time")
}

pub(crate) fn temp_sqlite_url() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let path = std::env::temp_dir().join(format!(
        "careprompt-scheduler-{}-{}.db",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    format!("sqlite://{}?mode=rwc", path.display())
}

/// The fake, a bot on a clock the test moves, and the bot's database opened a second time so
/// the test can read the ledger.
pub struct Scene {
    pub fake: FakeDiscord,
    bot: Option<RunningBot>,
    pub clock: ManualClock,
    config: Config,
    pub store: Store,
    /// Dropped when the scene finishes.
    postgres_database: Option<String>,
}

/// A weekly schedule (09:00 on Mondays, London time) in `channel` of `guild`, as if an admin had
/// set it up at `now`, with its next post due at `due`; `seed` draws its cards.
pub async fn schedule_weekly(
    store: &Store,
    (guild, channel): (u64, u64),
    seed: u64,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) {
    let settings = careprompt::domain::settings::ScheduleSettings::parse(
        "0 9 * * MON",
        "Europe/London",
        "none",
        false,
    )
    .expect("valid settings");
    store
        .upsert_schedule(
            &careprompt::store::NewSchedule {
                guild_id: guild,
                channel_id: channel,
                settings,
                role_ping: None,
                thread: false,
                created_by: crate::support::USER_ID,
                seed,
                next_due: Some(due),
            },
            now,
        )
        .await
        .expect("scheduled");
}

/// How a [`Scene`] starts: the fake Discord's knobs, and the database.
pub struct SceneSetup {
    pub fake: FakeConfig,
    /// The database URL the bot is given.
    pub bot_database_url: String,
    /// The URL the test opens the same database by: the bot's, unless the bot's goes through a
    /// link the test cuts.
    pub test_database_url: String,
    /// A PostgreSQL database made for the scene, dropped when it finishes.
    pub postgres_database: Option<String>,
}

impl SceneSetup {
    /// Discord's defaults, and one database URL for the bot and the test.
    pub fn new(database_url: String) -> SceneSetup {
        SceneSetup {
            fake: FakeConfig::default(),
            bot_database_url: database_url.clone(),
            test_database_url: database_url,
            postgres_database: None,
        }
    }
}

/// A fresh database of its own on the test PostgreSQL server.
pub async fn temp_postgres_url() -> (String, String) {
    use sqlx::Connection;
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let base = crate::store::postgres_base_url();
    let name = format!(
        "careprompt_e2e_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = crate::store::postgres_admin(&base).await;
    crate::support::databases::create_marked(&mut admin, &name)
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    let _ = admin.close().await;
    (crate::store::with_database(&base, &name), name)
}

/// Drops a database made by [`temp_postgres_url`].
pub async fn drop_postgres(name: &str) {
    crate::support::databases::drop_marked_at(&crate::store::postgres_base_url(), name).await;
}

impl Scene {
    pub async fn start(start: &str, tweak: impl FnOnce(&mut Config)) -> Scene {
        let url = temp_sqlite_url();
        Scene::start_with(SceneSetup::new(url), start, tweak).await
    }

    pub async fn start_on_postgres(start: &str) -> Scene {
        let (url, name) = temp_postgres_url().await;
        let setup = SceneSetup {
            postgres_database: Some(name),
            ..SceneSetup::new(url)
        };
        Scene::start_with(setup, start, |_| {}).await
    }

    /// A scene as `setup` says: the fake's knobs, and where the bot and the test find the
    /// database.
    pub async fn start_with(
        setup: SceneSetup,
        start: &str,
        tweak: impl FnOnce(&mut Config),
    ) -> Scene {
        let fake = FakeDiscord::start_with(setup.fake).await;
        fake.add_guild_channel(OTHER_CHANNEL, "night-shift");
        let mut config = base_config(&fake, Mode::Proxy);
        config.database.url = setup.bot_database_url;
        tweak(&mut config);
        let clock = ManualClock::new(at(start));
        let mut bot =
            spawn_bot_with_clock(&fake, Mode::Proxy, TOKEN, config.clone(), clock.clone());
        bot.wait_settled(GATEWAY_WAIT).await;
        let store = Store::connect(&setup.test_database_url, 2)
            .await
            .expect("the test opens the bot's database");
        Scene {
            fake,
            bot: Some(bot),
            clock,
            config,
            store,
            postgres_database: setup.postgres_database,
        }
    }

    /// Stops the bot as SIGTERM would and starts a new one on the same database and clock.
    pub async fn restart(&mut self) {
        if let Some(bot) = self.bot.take() {
            bot.stop().await.expect("the bot stops cleanly");
        }
        let before = self.fake.identify_count();
        let mut bot = spawn_bot_with_clock(
            &self.fake,
            Mode::Proxy,
            TOKEN,
            self.config.clone(),
            self.clock.clone(),
        );
        bot.wait_settled(GATEWAY_WAIT).await;
        assert!(self.fake.identify_count() > before, "the new bot connected");
        self.bot = Some(bot);
    }

    pub async fn finish(mut self) {
        if let Some(bot) = self.bot.take() {
            bot.stop().await.expect("the bot shuts down cleanly");
        }
        self.store.close().await;
        if let Some(name) = &self.postgres_database {
            drop_postgres(name).await;
        }
        self.fake.assert_no_violations();
    }

    pub async fn admin(
        &self,
        subcommand: &str,
        build: impl FnOnce(CommandInvocation) -> CommandInvocation,
    ) -> InteractionReply {
        let invocation = build(
            CommandInvocation::guild("schedule")
                .subcommand(subcommand)
                .permissions(ADMIN_PERMISSIONS),
        );
        self.fake.run_command(invocation).await.expect("answered")
    }

    pub async fn set(&self, channel: u64, cron: &str) -> InteractionReply {
        self.admin("set", |c| {
            c.option_channel("channel", channel, 0)
                .option_str("cron", cron)
        })
        .await
    }

    /// Gives each (server, channel) a weekly schedule whose next post is due at `due`, as if set
    /// up earlier; the fake learns servers and channels it does not know yet.
    pub async fn schedule_channels(&self, places: &[(u64, u64)], due: DateTime<Utc>) {
        for (guild, channel) in places {
            let name = format!("ward-{channel}");
            if !self.fake.guild_ids().contains(guild) {
                self.fake
                    .add_guild(*guild, &format!("Trust {guild}"), &[(*channel, &name)]);
            } else if self.fake.guild_of_channel(*channel).is_none() {
                self.fake.add_channel_to_guild(*guild, *channel, &name);
            }
            schedule_weekly(
                &self.store,
                (*guild, *channel),
                *channel,
                due,
                self.clock.now(),
            )
            .await;
        }
    }

    /// Opts each (server, member) in to that server's cards by DM.
    pub async fn opt_in(&self, memberships: &[(u64, u64)]) {
        for (guild, member) in memberships {
            self.store
                .set_dm_optin(*member, *guild, true, self.clock.now())
                .await
                .expect("opted in");
        }
    }

    pub fn posts_in(&self, channel: u64) -> Vec<Value> {
        self.fake
            .created_messages()
            .into_iter()
            .filter(|m| m["channel_id"].as_str() == Some(channel.to_string().as_str()))
            .collect()
    }

    pub async fn wait_posts(&self, channel: u64, count: usize) -> Vec<Value> {
        self.fake
            .wait_posts(Some(channel), count, WAIT)
            .await
            .expect("the posts arrive")
    }

    /// Waits until the channel's schedule has a ledger row for `slot` in `state`.
    pub async fn wait_state(&self, channel: u64, slot: DateTime<Utc>, state: DeliveryState) {
        let mut ticks = tokio::time::interval(Duration::from_millis(20));
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            ticks.tick().await;
            if let Some(schedule) = self
                .store
                .schedule_for_channel(channel)
                .await
                .expect("read")
            {
                let rows = self
                    .store
                    .recent_deliveries(schedule.id, 50)
                    .await
                    .expect("ledger");
                if rows
                    .iter()
                    .any(|row| row.slot_at == slot && row.state == state)
                {
                    return;
                }
                if tokio::time::Instant::now() > deadline {
                    panic!("no {state:?} row for {slot}; ledger: {rows:#?}");
                }
            } else if tokio::time::Instant::now() > deadline {
                panic!("no schedule in {channel}");
            }
        }
    }
}

fn custom_ids(message: &Value) -> Vec<String> {
    message["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|button| button["custom_id"].as_str().map(str::to_string))
        .collect()
}

fn title(message: &Value) -> String {
    message["embeds"][0]["title"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

pub(crate) fn text_of(reply: &InteractionReply) -> String {
    let mut text = reply.content().unwrap_or_default();
    for embed in reply.embeds() {
        text.push_str(embed["description"].as_str().unwrap_or(""));
        for field in embed["fields"].as_array().into_iter().flatten() {
            text.push('\n');
            text.push_str(field["name"].as_str().unwrap_or(""));
            text.push(' ');
            text.push_str(field["value"].as_str().unwrap_or(""));
        }
    }
    text
}

#[tokio::test]
async fn a_scheduled_card_posts_once_with_its_buttons_and_save_keeps_one_bookmark() {
    let mut scene = Scene::start("2027-01-04T08:30:00Z", |_| {}).await;
    let reply = scene.set(CHANNEL_ID, "0 9 * * MON").await;
    assert!(reply.ephemeral());
    let shown = text_of(&reply);
    assert!(shown.contains("Mon 4 Jan 2027, 09:00 GMT"), "{shown}");
    assert!(
        shown.contains("Mon 18 Jan 2027, 09:00 GMT"),
        "three posts shown: {shown}"
    );
    assert!(
        scene.posts_in(CHANNEL_ID).is_empty(),
        "nothing before its time"
    );

    scene.clock.set(at("2027-01-04T09:00:00Z"));
    let posts = scene.wait_posts(CHANNEL_ID, 1).await;
    let post = &posts[0];
    assert!(title(post).starts_with("Time to reflect: "), "{post}");
    let ids = custom_ids(post);
    assert_eq!(ids.len(), 3, "Save, Facilitator pack and Support: {ids:?}");
    assert!(
        ids[0].starts_with("cp:save:")
            && ids[1].starts_with("cp:pack:")
            && ids[2].starts_with("cp:support:")
    );
    let request = scene
        .fake
        .requests()
        .into_iter()
        .find(|r| r.is("POST", &format!("/channels/{CHANNEL_ID}/messages")))
        .expect("the post request");
    let body = request.body.expect("a JSON body");
    assert_eq!(body["enforce_nonce"], true);
    assert!(body["nonce"]
        .as_str()
        .is_some_and(|nonce| nonce.len() <= 25));
    assert_eq!(body["allowed_mentions"]["parse"], serde_json::json!([]));
    assert!(
        body.get("content").is_none(),
        "no ping unless an admin set one"
    );
    scene
        .wait_state(CHANNEL_ID, at("2027-01-04T09:00:00Z"), DeliveryState::Sent)
        .await;

    // Save twice: one bookmark, and the second answer says so.
    let save = ids[0].clone();
    let first = scene
        .fake
        .click_button(ButtonClick::guild(&save).message(post.clone()))
        .await
        .expect("answered");
    assert!(first.ephemeral());
    assert!(
        first.content().unwrap_or_default().contains("Saved"),
        "{first:?}"
    );
    let second = scene
        .fake
        .click_button(ButtonClick::guild(&save).message(post.clone()))
        .await
        .expect("answered");
    assert!(second
        .content()
        .unwrap_or_default()
        .contains("already saved"));
    assert_eq!(
        scene
            .store
            .bookmarks(crate::support::USER_ID)
            .await
            .expect("bookmarks")
            .len(),
        1
    );
    let pack = scene
        .fake
        .click_button(ButtonClick::guild(&ids[1]).message(post.clone()))
        .await
        .expect("answered");
    assert!(pack.ephemeral());
    assert!(pack.embeds()[0]["title"]
        .as_str()
        .unwrap_or("")
        .starts_with("Facilitator pack"));
    let support = scene
        .fake
        .click_button(ButtonClick::guild(&ids[2]).message(post.clone()))
        .await
        .expect("answered");
    assert!(support.ephemeral());

    // After a restart, a week later, the next theme follows and the first post is not repeated.
    scene.restart().await;
    scene.clock.set(at("2027-01-11T09:00:00Z"));
    let posts = scene.wait_posts(CHANNEL_ID, 2).await;
    assert_eq!(posts.len(), 2);
    let library = crate::bot::shipped_library();
    let order: Vec<String> = library
        .rotation(false)
        .iter()
        .filter_map(|slug| library.theme(slug))
        .map(|theme| format!("Time to reflect: {}", theme.title))
        .collect();
    let first = order
        .iter()
        .position(|title_text| *title_text == title(&posts[0]))
        .expect("a theme in the rotation");
    assert_eq!(
        title(&posts[1]),
        order[(first + 1) % order.len()],
        "the rotation carried on across the restart"
    );
    scene.finish().await;
}

#[tokio::test]
async fn a_non_admin_is_refused_even_when_the_command_is_visible() {
    let scene = Scene::start("2027-01-04T08:30:00Z", |_| {}).await;
    let reply = scene
        .fake
        .run_command(
            CommandInvocation::guild("schedule")
                .subcommand("set")
                .option_channel("channel", CHANNEL_ID, 0),
        )
        .await
        .expect("answered");
    assert!(reply.ephemeral());
    assert!(
        reply
            .content()
            .unwrap_or_default()
            .contains("Manage Server"),
        "{reply:?}"
    );
    assert!(scene
        .store
        .schedule_for_channel(CHANNEL_ID)
        .await
        .expect("read")
        .is_none());
    let registered = scene.fake.registered_commands().expect("registered");
    let schedule = registered
        .as_array()
        .into_iter()
        .flatten()
        .find(|command| command["name"] == "schedule")
        .expect("the schedule command");
    assert_eq!(
        schedule["default_member_permissions"], "32",
        "Manage Server by default"
    );
    scene.finish().await;
}

#[tokio::test]
async fn bad_input_gets_a_private_specific_answer_and_changes_nothing() {
    let scene = Scene::start("2027-01-04T08:30:00Z", |_| {}).await;
    let cases: Vec<(CommandInvocation, &str)> = vec![
        (
            CommandInvocation::guild("schedule")
                .subcommand("set")
                .option_channel("channel", CHANNEL_ID, 0)
                .option_str("cron", "*/5 9 * * *"),
            "more than once an hour",
        ),
        (
            CommandInvocation::guild("schedule")
                .subcommand("set")
                .option_channel("channel", CHANNEL_ID, 0)
                .option_str("cron", "0 9 * *"),
            "5 fields",
        ),
        (
            CommandInvocation::guild("schedule")
                .subcommand("set")
                .option_channel("channel", CHANNEL_ID, 0)
                .option_str("timezone", "Europe/Londn"),
            "Europe/London",
        ),
        (
            CommandInvocation::guild("schedule")
                .subcommand("set")
                .option_channel("channel", 1003, 2),
            "text or announcement channel",
        ),
        (
            CommandInvocation::guild("schedule")
                .subcommand("set")
                .option_channel("channel", 4242, 0),
            "can't see that channel",
        ),
        (
            CommandInvocation::guild("schedule")
                .subcommand("pause")
                .option_channel("channel", CHANNEL_ID, 0),
            "no schedule",
        ),
    ];
    for (invocation, hint) in cases {
        let reply = scene
            .fake
            .run_command(invocation.permissions(ADMIN_PERMISSIONS))
            .await
            .expect("answered");
        assert!(reply.ephemeral(), "{hint}");
        let text = reply.content().unwrap_or_default();
        assert!(
            text.to_lowercase().contains(&hint.to_lowercase()),
            "{hint}: {text}"
        );
        assert!(scene
            .store
            .schedule_for_channel(CHANNEL_ID)
            .await
            .expect("read")
            .is_none());
    }
    scene.set(CHANNEL_ID, "0 9 * * MON").await;
    let before = scene
        .store
        .schedule_for_channel(CHANNEL_ID)
        .await
        .expect("read");
    let past = scene
        .admin("pause", |c| {
            c.option_channel("channel", CHANNEL_ID, 0)
                .option_str("until", "2027-01-03")
        })
        .await;
    assert!(
        past.content()
            .unwrap_or_default()
            .contains("not in the future"),
        "{past:?}"
    );
    let garbled = scene
        .admin("set", |c| {
            c.option_channel("channel", CHANNEL_ID, 0)
                .option_str("cron", "0 25 * * MON")
        })
        .await;
    assert!(garbled.ephemeral());
    assert_eq!(
        scene
            .store
            .schedule_for_channel(CHANNEL_ID)
            .await
            .expect("read"),
        before,
        "a refused change leaves the schedule as it was"
    );
    scene.finish().await;
}

#[tokio::test]
async fn nine_o_clock_stays_nine_o_clock_across_the_spring_change_and_holidays_are_skipped() {
    let scene = Scene::start("2027-03-22T08:30:00Z", |_| {}).await;
    scene.set(CHANNEL_ID, "0 9 * * MON").await;
    scene.clock.set(at("2027-03-22T09:00:00Z"));
    scene.wait_posts(CHANNEL_ID, 1).await;
    let first_theme = title(&scene.posts_in(CHANNEL_ID)[0]);
    // 29 March 2027 is Easter Monday, after the clocks went forward on the 28th.
    scene.clock.set(at("2027-03-29T08:00:00Z"));
    scene
        .wait_state(
            CHANNEL_ID,
            at("2027-03-29T08:00:00Z"),
            DeliveryState::Holiday,
        )
        .await;
    assert_eq!(
        scene.posts_in(CHANNEL_ID).len(),
        1,
        "no post on a bank holiday"
    );
    let list = scene.admin("list", |c| c).await;
    assert!(
        text_of(&list).contains("Easter Monday"),
        "{}",
        text_of(&list)
    );
    // 09:00 BST is 08:00 UTC.
    scene.clock.set(at("2027-04-05T08:00:00Z"));
    let posts = scene.wait_posts(CHANNEL_ID, 2).await;
    assert_ne!(
        title(&posts[1]),
        first_theme,
        "the skipped holiday did not use up a theme"
    );
    scene
        .wait_state(CHANNEL_ID, at("2027-04-05T08:00:00Z"), DeliveryState::Sent)
        .await;
    scene.finish().await;
}

#[tokio::test]
async fn a_slot_missed_while_down_posts_once_late_within_the_catch_up_and_is_recorded_after_it() {
    let mut scene = Scene::start("2027-01-04T08:30:00Z", |_| {}).await;
    scene.set(CHANNEL_ID, "0 9 * * MON").await;
    scene.set(OTHER_CHANNEL, "0 9 * * TUE").await;
    if let Some(bot) = scene.bot.take() {
        bot.stop().await.expect("stops");
    }
    // Down over Monday's slot (back within six hours) and Tuesday's (back after).
    scene.clock.set(at("2027-01-05T16:00:00Z"));
    scene.restart().await;
    scene
        .wait_state(
            OTHER_CHANNEL,
            at("2027-01-05T09:00:00Z"),
            DeliveryState::Missed,
        )
        .await;
    scene
        .wait_state(
            CHANNEL_ID,
            at("2027-01-04T09:00:00Z"),
            DeliveryState::Missed,
        )
        .await;
    assert!(scene.posts_in(OTHER_CHANNEL).is_empty());
    assert!(scene.posts_in(CHANNEL_ID).is_empty());
    if let Some(bot) = scene.bot.take() {
        bot.stop().await.expect("stops");
    }
    scene.clock.set(at("2027-01-11T11:00:00Z"));
    scene.restart().await;
    let posts = scene.wait_posts(CHANNEL_ID, 1).await;
    assert_eq!(posts.len(), 1, "one catch-up post");
    scene
        .wait_state(CHANNEL_ID, at("2027-01-11T09:00:00Z"), DeliveryState::Sent)
        .await;
    let list = scene.admin("list", |c| c).await;
    assert!(text_of(&list).contains("missed"), "{}", text_of(&list));
    scene.finish().await;
}

#[tokio::test]
async fn pause_skip_resume_and_post_now() {
    let scene = Scene::start("2027-01-04T08:30:00Z", |_| {}).await;
    scene.set(CHANNEL_ID, "0 9 * * MON").await;
    let paused = scene
        .admin("pause", |c| {
            c.option_channel("channel", CHANNEL_ID, 0)
                .option_str("until", "2027-01-12")
        })
        .await;
    assert!(paused.ephemeral());
    assert!(
        text_of(&paused).contains("until Tuesday 12 January 2027"),
        "{}",
        text_of(&paused)
    );
    scene.clock.set(at("2027-01-11T09:00:00Z"));
    // Nothing is due while paused: post-now still works, and moves the rotation on.
    let now = scene
        .admin("post-now", |c| c.option_channel("channel", CHANNEL_ID, 0))
        .await;
    assert!(now.ephemeral());
    assert!(text_of(&now).contains("Posted"), "{}", text_of(&now));
    let posts = scene.wait_posts(CHANNEL_ID, 1).await;
    assert_eq!(posts.len(), 1, "the paused slots were not posted");
    let skipped = scene
        .admin("skip", |c| c.option_channel("channel", CHANNEL_ID, 0))
        .await;
    assert!(
        text_of(&skipped).contains("Skipped the post on Monday 18 January"),
        "{}",
        text_of(&skipped)
    );
    scene.clock.set(at("2027-01-18T09:00:00Z"));
    scene
        .wait_state(
            CHANNEL_ID,
            at("2027-01-18T09:00:00Z"),
            DeliveryState::Skipped,
        )
        .await;
    scene.clock.set(at("2027-01-25T09:00:00Z"));
    let posts = scene.wait_posts(CHANNEL_ID, 2).await;
    assert_ne!(
        title(&posts[0]),
        title(&posts[1]),
        "post-now advanced the rotation"
    );
    let preview = scene
        .admin("preview", |c| c.option_channel("channel", CHANNEL_ID, 0))
        .await;
    assert_eq!(
        preview.embeds()[0]["fields"].as_array().map(Vec::len),
        Some(6)
    );
    let upcoming = scene
        .fake
        .run_command(CommandInvocation::guild("upcoming"))
        .await
        .expect("answered");
    assert!(
        text_of(&upcoming).contains("Mon 1 Feb 2027, 09:00 GMT"),
        "{}",
        text_of(&upcoming)
    );
    let removed = scene
        .admin("remove", |c| c.option_channel("channel", CHANNEL_ID, 0))
        .await;
    assert!(text_of(&removed).contains("Removed"));
    let none = scene
        .fake
        .run_command(CommandInvocation::guild("upcoming"))
        .await
        .expect("answered");
    assert!(
        text_of(&none).contains("no reflection post schedule"),
        "{}",
        text_of(&none)
    );
    scene.finish().await;
}

#[tokio::test]
async fn rate_limits_server_errors_and_dropped_connections_still_post_exactly_once() {
    faults_still_post_exactly_once(Scene::start("2027-01-04T08:30:00Z", |_| {}).await).await;
}

#[tokio::test]
async fn on_postgres_faults_still_post_exactly_once() {
    faults_still_post_exactly_once(Scene::start_on_postgres("2027-01-04T08:30:00Z").await).await;
}

async fn faults_still_post_exactly_once(scene: Scene) {
    scene.set(CHANNEL_ID, "0 9 * * MON").await;
    let route = RouteMatch::new("POST", format!("/channels/{CHANNEL_ID}/messages"));
    scene.fake.inject(Fault::RateLimit {
        route: route.clone(),
        retry_after_secs: 0.05,
        global: false,
        times: 1,
    });
    scene.fake.inject(Fault::ServerError {
        route: route.clone(),
        status: 502,
        times: 1,
    });
    // Discord posts it but the answer is lost: the retry carries the same nonce.
    scene.fake.inject(Fault::LoseAnswer { route, times: 1 });
    scene.clock.set(at("2027-01-04T09:00:00Z"));
    scene
        .wait_state(CHANNEL_ID, at("2027-01-04T09:00:00Z"), DeliveryState::Sent)
        .await;
    assert_eq!(scene.posts_in(CHANNEL_ID).len(), 1, "exactly one post");
    scene.finish().await;
}

#[tokio::test]
async fn a_post_whose_answer_never_came_is_found_in_the_channel_after_the_nonce_window() {
    let scene = Scene::start("2027-01-04T08:30:00Z", |_| {}).await;
    scene.set(CHANNEL_ID, "0 9 * * MON").await;
    let route = RouteMatch::new("POST", format!("/channels/{CHANNEL_ID}/messages"));
    // Every attempt reaches Discord and every answer is lost.
    scene.fake.inject(Fault::LoseAnswer { route, times: 50 });
    scene.clock.set(at("2027-01-04T09:00:00Z"));
    scene.wait_posts(CHANNEL_ID, 1).await;
    // Every try of the first step (the tests' retry policy makes four) has ended.
    scene
        .fake
        .wait_requests(|r| r.is("POST", "/channels/") && r.status == 0, 4, WAIT)
        .await
        .expect("the answers were lost");
    // Discord's window passes; careprompt must look before it sends again.
    scene.fake.clear_faults();
    scene.fake.forget_nonces();
    scene.clock.set(at("2027-01-04T09:10:00Z"));
    scene
        .wait_state(CHANNEL_ID, at("2027-01-04T09:00:00Z"), DeliveryState::Sent)
        .await;
    assert_eq!(
        scene.posts_in(CHANNEL_ID).len(),
        1,
        "found, not posted again"
    );
    assert!(scene
        .fake
        .requests()
        .iter()
        .any(|r| r.is("GET", &format!("/channels/{CHANNEL_ID}/messages"))));
    scene.finish().await;
}

#[tokio::test]
async fn a_post_that_never_arrived_is_sent_after_looking_and_an_unreadable_channel_is_uncertain() {
    let scene = Scene::start("2027-01-04T08:30:00Z", |_| {}).await;
    scene.set(CHANNEL_ID, "0 9 * * MON").await;
    scene.set(OTHER_CHANNEL, "0 9 * * MON").await;
    for channel in [CHANNEL_ID, OTHER_CHANNEL] {
        scene.fake.inject(Fault::DropConnection {
            route: RouteMatch::new("POST", format!("/channels/{channel}/messages")),
            times: 50,
        });
    }
    scene.clock.set(at("2027-01-04T09:00:00Z"));
    for channel in [CHANNEL_ID, OTHER_CHANNEL] {
        scene
            .fake
            .wait_requests(
                |r| r.is("POST", &format!("/channels/{channel}/messages")) && r.status == 0,
                4,
                WAIT,
            )
            .await
            .expect("tried");
    }
    scene.fake.clear_faults();
    scene.fake.inject(Fault::ServerError {
        route: RouteMatch::new("GET", format!("/channels/{OTHER_CHANNEL}/messages")),
        status: 500,
        times: 50,
    });
    scene.clock.set(at("2027-01-04T09:10:00Z"));
    scene
        .wait_state(CHANNEL_ID, at("2027-01-04T09:00:00Z"), DeliveryState::Sent)
        .await;
    scene
        .wait_state(
            OTHER_CHANNEL,
            at("2027-01-04T09:00:00Z"),
            DeliveryState::Uncertain,
        )
        .await;
    assert_eq!(scene.posts_in(CHANNEL_ID).len(), 1);
    assert!(
        scene.posts_in(OTHER_CHANNEL).is_empty(),
        "uncertain is never re-sent"
    );
    scene.fake.clear_faults();
    let list = scene.admin("list", |c| c).await;
    assert!(text_of(&list).contains("uncertain"), "{}", text_of(&list));
    scene.finish().await;
}

#[tokio::test]
async fn forbidden_marks_the_schedule_failing_and_a_deleted_channel_switches_it_off() {
    let scene = Scene::start("2027-01-04T08:30:00Z", |_| {}).await;
    scene.set(CHANNEL_ID, "0 9 * * MON").await;
    scene.set(OTHER_CHANNEL, "0 9 * * MON").await;
    scene.fake.inject(Fault::Status {
        route: RouteMatch::new("POST", format!("/channels/{CHANNEL_ID}/messages")),
        status: 403,
        body: crate::support::discord_error(50013, "Missing Permissions"),
        times: 1,
    });
    scene.fake.delete_channel(OTHER_CHANNEL);
    scene.clock.set(at("2027-01-04T09:00:00Z"));
    scene
        .wait_state(
            CHANNEL_ID,
            at("2027-01-04T09:00:00Z"),
            DeliveryState::Failed,
        )
        .await;
    scene
        .wait_state(
            OTHER_CHANNEL,
            at("2027-01-04T09:00:00Z"),
            DeliveryState::Failed,
        )
        .await;
    let list = scene.admin("list", |c| c).await;
    let text = text_of(&list);
    assert!(text.contains("not allowed to post there"), "{text}");
    assert!(text.contains("switched off"), "{text}");
    // The permission is fixed: the next slot posts. The deleted channel stays off.
    scene.clock.set(at("2027-01-11T09:00:00Z"));
    scene
        .wait_state(CHANNEL_ID, at("2027-01-11T09:00:00Z"), DeliveryState::Sent)
        .await;
    assert_eq!(scene.posts_in(CHANNEL_ID).len(), 1);
    let other = scene
        .store
        .schedule_for_channel(OTHER_CHANNEL)
        .await
        .expect("read")
        .expect("kept");
    assert!(other.disabled);
    scene.finish().await;
}

#[tokio::test]
async fn a_schedule_that_can_no_longer_be_read_is_switched_off_and_the_others_still_post() {
    let scene = Scene::start("2027-01-04T08:30:00Z", |_| {}).await;
    scene.set(CHANNEL_ID, "0 9 * * MON").await;
    scene.set(OTHER_CHANNEL, "0 9 * * MON").await;
    // As if a newer time-zone database had dropped the zone it was set in.
    let mut raw = crate::store::Raw::open(&scene.config.database.url).await;
    raw.execute(&format!(
        "UPDATE schedules SET timezone = 'Mars/Olympus' WHERE channel_id = {OTHER_CHANNEL}"
    ))
    .await;
    scene.clock.set(at("2027-01-04T09:00:00Z"));
    scene
        .wait_state(CHANNEL_ID, at("2027-01-04T09:00:00Z"), DeliveryState::Sent)
        .await;
    assert_eq!(scene.posts_in(CHANNEL_ID).len(), 1);
    assert!(scene.posts_in(OTHER_CHANNEL).is_empty());

    let list = scene.admin("list", |c| c).await;
    assert!(list.ephemeral());
    let text = text_of(&list);
    assert!(
        text.contains(&format!("<#{OTHER_CHANNEL}>: switched off")),
        "{text}"
    );
    assert!(text.contains("Mars/Olympus"), "{text}");
    let paused = scene
        .admin("pause", |c| c.option_channel("channel", OTHER_CHANNEL, 0))
        .await;
    assert!(paused.ephemeral());
    let text = paused.content().unwrap_or_default().to_string();
    assert!(text.contains("/schedule set"), "{text}");

    // Set again, it reads and posts at its next slot.
    scene.set(OTHER_CHANNEL, "0 9 * * MON").await;
    scene.clock.set(at("2027-01-11T09:00:00Z"));
    scene
        .wait_state(
            OTHER_CHANNEL,
            at("2027-01-11T09:00:00Z"),
            DeliveryState::Sent,
        )
        .await;
    assert_eq!(scene.posts_in(OTHER_CHANNEL).len(), 1);
    scene.finish().await;
}

#[tokio::test]
async fn two_hundred_schedules_due_at_one_minute_each_post_once_within_discord_s_limits() {
    let scene = Scene::start("2027-01-04T08:00:00Z", |_| {}).await;
    let places: Vec<(u64, u64)> = (0..200)
        .map(|n| (crate::support::GUILD_ID, 50_000 + n))
        .collect();
    scene
        .schedule_channels(&places, at("2027-01-04T09:00:00Z"))
        .await;
    scene.clock.set(at("2027-01-04T09:00:00Z"));
    scene
        .fake
        .wait_posts(None, 200, Duration::from_secs(60))
        .await
        .expect("every schedule posts");
    let mut per_channel = std::collections::HashMap::new();
    for message in scene.fake.created_messages() {
        *per_channel
            .entry(message["channel_id"].as_str().unwrap_or("").to_string())
            .or_insert(0) += 1;
    }
    assert_eq!(per_channel.len(), 200);
    assert!(per_channel.values().all(|count| *count == 1));
    assert!(
        scene.fake.requests().iter().all(|r| r.status != 429),
        "careprompt never tripped a rate limit"
    );
    scene.finish().await;
}

#[tokio::test]
async fn a_role_ping_is_the_only_mention_and_a_thread_opens_for_replies() {
    let scene = Scene::start("2027-01-04T08:30:00Z", |_| {}).await;
    let reply = scene
        .admin("set", |c| {
            c.option_channel("channel", CHANNEL_ID, 0)
                .option_role("ping_role", 3_000_000)
                .option_bool("thread", true)
        })
        .await;
    assert!(
        text_of(&reply).contains("<@&3000000>"),
        "{}",
        text_of(&reply)
    );
    scene.clock.set(at("2027-01-04T09:00:00Z"));
    scene.wait_posts(CHANNEL_ID, 1).await;
    let request = scene
        .fake
        .requests()
        .into_iter()
        .find(|r| r.is("POST", &format!("/channels/{CHANNEL_ID}/messages")))
        .expect("posted");
    let body = request.body.expect("body");
    assert_eq!(body["content"], "<@&3000000>");
    assert_eq!(
        body["allowed_mentions"]["roles"],
        serde_json::json!(["3000000"])
    );
    assert_eq!(body["allowed_mentions"]["users"], serde_json::json!([]));
    scene
        .fake
        .wait_request(
            |r| r.is("POST", "/channels/") && r.path.ends_with("/threads"),
            WAIT,
        )
        .await
        .expect("a thread was opened");
    scene.finish().await;
}

#[tokio::test]
async fn leaving_a_server_stops_its_schedules() {
    let scene = Scene::start("2027-01-04T08:30:00Z", |_| {}).await;
    scene.set(CHANNEL_ID, "0 9 * * MON").await;
    scene
        .fake
        .dispatch(
            "GUILD_DELETE",
            serde_json::json!({"id": crate::support::GUILD_ID.to_string()}),
        )
        .await;
    let mut ticks = tokio::time::interval(Duration::from_millis(20));
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        ticks.tick().await;
        if scene
            .store
            .due_schedules(
                at("2027-01-04T09:00:00Z"),
                10,
                &careprompt::domain::shards::ShardRange::ALL,
            )
            .await
            .expect("due")
            .due
            .is_empty()
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the departure was not recorded"
        );
    }
    scene.finish().await;
}

/// A schedule for 09:00 on Mondays, first due on 4 January 2027, written straight to the store for
/// a server the fake Discord need not know.
async fn schedule_for_monday_nine(store: &Store, guild_id: u64, channel_id: u64) {
    store
        .upsert_schedule(
            &careprompt::store::NewSchedule {
                guild_id,
                channel_id,
                settings: careprompt::domain::settings::ScheduleSettings::parse(
                    "0 9 * * MON",
                    "Europe/London",
                    "none",
                    false,
                )
                .expect("settings"),
                role_ping: None,
                thread: false,
                created_by: crate::support::USER_ID,
                seed: 1,
                next_due: Some(at("2027-01-04T09:00:00Z")),
            },
            at("2027-01-04T08:30:00Z"),
        )
        .await
        .expect("scheduled");
}

/// Waits until exactly `expected` servers have a post due at `when`.
async fn wait_due_guilds(scene: &Scene, when: &str, expected: &[u64], what: &str) {
    let everything = careprompt::domain::shards::ShardRange::ALL;
    let mut ticks = tokio::time::interval(Duration::from_millis(20));
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        ticks.tick().await;
        let mut guilds: Vec<u64> = scene
            .store
            .due_schedules(at(when), 10, &everything)
            .await
            .expect("due")
            .due
            .iter()
            .map(|schedule| schedule.guild_id)
            .collect();
        guilds.sort_unstable();
        if guilds == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: due in {guilds:?}"
        );
    }
}

#[tokio::test]
async fn a_server_that_adds_careprompt_back_gets_its_schedules_again() {
    let mut scene = Scene::start("2027-01-04T08:30:00Z", |_| {}).await;
    scene.set(CHANNEL_ID, "0 9 * * MON").await;
    // Removed while careprompt was away, and listed again by the next READY.
    scene
        .store
        .guild_departed(crate::support::GUILD_ID, at("2027-01-04T08:31:00Z"))
        .await
        .expect("departed");
    wait_due_guilds(&scene, "2027-01-04T09:00:00Z", &[], "the departure holds").await;
    scene.restart().await;
    wait_due_guilds(
        &scene,
        "2027-01-04T09:00:00Z",
        &[crate::support::GUILD_ID],
        "a server READY lists is back",
    )
    .await;

    // Removed while connected, then added back: its GUILD_CREATE brings the schedules back.
    let returning = 24_680 << 22;
    let returning_channel = 13_579;
    schedule_for_monday_nine(&scene.store, returning, returning_channel).await;
    scene
        .fake
        .dispatch(
            "GUILD_DELETE",
            serde_json::json!({"id": returning.to_string()}),
        )
        .await;
    wait_due_guilds(
        &scene,
        "2027-01-04T09:00:00Z",
        &[crate::support::GUILD_ID],
        "the removal stops the schedule",
    )
    .await;
    scene
        .fake
        .add_guild(returning, "Ward 24", &[(returning_channel, "wellbeing")]);
    let mut both = vec![crate::support::GUILD_ID, returning];
    both.sort_unstable();
    wait_due_guilds(
        &scene,
        "2027-01-04T09:00:00Z",
        &both,
        "the server that added careprompt back",
    )
    .await;
    scene.finish().await;
}

#[tokio::test]
async fn a_server_left_while_careprompt_was_away_stops_its_schedules_at_the_next_start() {
    let mut scene = Scene::start("2027-01-04T08:30:00Z", |_| {}).await;
    scene.set(CHANNEL_ID, "0 9 * * MON").await;
    // A server careprompt was removed from while it was not connected: no GUILD_DELETE came, and
    // READY no longer lists it.
    let gone = 987_654_321 << 22;
    schedule_for_monday_nine(&scene.store, gone, 555_555).await;
    scene.restart().await;
    let everything = careprompt::domain::shards::ShardRange::ALL;
    let mut ticks = tokio::time::interval(Duration::from_millis(20));
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        ticks.tick().await;
        let due = scene
            .store
            .due_schedules(at("2027-01-04T09:00:00Z"), 10, &everything)
            .await
            .expect("due")
            .due;
        let guilds: Vec<u64> = due.iter().map(|schedule| schedule.guild_id).collect();
        if guilds == [crate::support::GUILD_ID] {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the departure was not noticed: {guilds:?}"
        );
    }
    assert_eq!(
        scene.store.known_guilds(&everything).await.expect("known"),
        [crate::support::GUILD_ID],
        "the server still listed keeps its schedule"
    );
    scene.finish().await;
}
