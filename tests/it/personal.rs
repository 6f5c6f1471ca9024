//! A person's own data end to end, against the fake Discord: saving from every card, paging and
//! removing bookmarks, `/mydata`, `/forget-me`, and a departed server forgotten after the
//! retention. The clock only moves when a test moves it; each wait is for something the fake or
//! the database shows.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use careprompt::clock::ManualClock;
use careprompt::config::Config;
use careprompt::store::{BookmarkKind, NewBookmark, Store, BOOKMARK_LIMIT};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};

use crate::bot::{base_config, spawn_bot_with_clock, Mode, RunningBot};
use crate::store::{postgres_admin, postgres_base_url, unique_name, with_database, Raw};
use crate::support::databases;
use crate::support::{
    ButtonClick, CommandInvocation, FakeDiscord, InteractionReply, ADMIN_PERMISSIONS, CHANNEL_ID,
    GATEWAY_WAIT, GUILD_ID, INTERACTION_TIMEOUT, TOKEN,
};

/// How long a test waits for the bot to do something it has been made to do.
const WAIT: Duration = Duration::from_secs(20);

/// Someone whose id is long enough that finding it anywhere in the database means it is theirs.
const PERSON: u64 = 777_000_000_000_000_777;
const SOMEONE_ELSE: u64 = 888_000_000_000_000_888;

const START: &str = "2027-03-20T12:00:00Z";

fn at(text: &str) -> DateTime<Utc> {
    text.parse().expect("an RFC 3339 time")
}

fn temp_sqlite() -> (String, std::path::PathBuf) {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let path = std::env::temp_dir().join(format!(
        "careprompt-personal-{}-{}.db",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    (format!("sqlite://{}?mode=rwc", path.display()), path)
}

/// The fake, a bot on a clock the test moves, the bot's database opened a second time, and a raw
/// connection to it for reading every table.
pub(crate) struct Scene {
    pub(crate) fake: FakeDiscord,
    bot: Option<RunningBot>,
    pub(crate) clock: ManualClock,
    pub(crate) store: Store,
    raw: Option<Raw>,
    /// On PostgreSQL: the admin connection and the database to drop at the end.
    postgres: Option<(PgConnection, String)>,
    /// The bot's database, for a restart.
    url: String,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

impl Scene {
    async fn start(tweak: impl FnOnce(&mut Config)) -> Scene {
        Scene::start_on(Backend::Sqlite, tweak).await
    }

    pub(crate) async fn start_on(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Scene {
        let (url, postgres) = match backend {
            Backend::Sqlite => (temp_sqlite().0, None),
            Backend::Postgres => {
                let base = postgres_base_url();
                let mut admin = postgres_admin(&base).await;
                let name = unique_name();
                databases::create_marked(&mut admin, &name)
                    .await
                    .unwrap_or_else(|err| panic!("{err}"));
                (with_database(&base, &name), Some((admin, name)))
            }
        };
        let fake = FakeDiscord::start().await;
        let mut config = base_config(&fake, Mode::Proxy);
        config.database.url = url.clone();
        tweak(&mut config);
        let clock = ManualClock::new(at(START));
        let mut bot = spawn_bot_with_clock(&fake, Mode::Proxy, TOKEN, config, clock.clone());
        bot.wait_settled(GATEWAY_WAIT).await;
        let store = Store::connect(&url, 2)
            .await
            .expect("the test opens the bot's database");
        let raw = Raw::open(&url).await;
        Scene {
            fake,
            bot: Some(bot),
            clock,
            store,
            raw: Some(raw),
            postgres,
            url,
        }
    }

    /// Stops the bot and starts another on the same database, clock and fake, as after a
    /// restart; the clock moves on by `by` while careprompt is stopped.
    pub(crate) async fn restart_later(&mut self, by: chrono::Duration) {
        if let Some(bot) = self.bot.take() {
            bot.stop().await.expect("the bot shuts down cleanly");
        }
        self.clock.advance(by);
        let mut config = base_config(&self.fake, Mode::Proxy);
        config.database.url = self.url.clone();
        let mut bot =
            spawn_bot_with_clock(&self.fake, Mode::Proxy, TOKEN, config, self.clock.clone());
        bot.wait_settled(GATEWAY_WAIT).await;
        self.bot = Some(bot);
    }

    fn raw(&mut self) -> &mut Raw {
        self.raw.as_mut().expect("open until the scene finishes")
    }

    pub(crate) async fn finish(mut self) {
        if let Some(bot) = self.bot.take() {
            bot.stop().await.expect("the bot shuts down cleanly");
        }
        if let Some(raw) = self.raw.take() {
            raw.close().await;
        }
        self.store.close().await;
        if let Some((mut admin, name)) = self.postgres.take() {
            if let Err(err) = databases::drop_marked(&mut admin, &name).await {
                eprintln!("{err}");
            }
            let _ = admin.close().await;
        }
        self.fake.assert_no_violations();
    }

    pub(crate) async fn command(&self, invocation: CommandInvocation) -> InteractionReply {
        self.fake.run_command(invocation).await.expect("answered")
    }

    /// `/schedule set` in the test channel by `user`, as an admin.
    async fn set_schedule_as(&self, user: u64) {
        let reply = self
            .command(
                CommandInvocation::guild("schedule")
                    .subcommand("set")
                    .option_channel("channel", CHANNEL_ID, 0)
                    .option_str("cron", "0 9 * * MON")
                    .permissions(ADMIN_PERMISSIONS)
                    .user(user),
            )
            .await;
        assert!(reply.ephemeral());
        assert!(self
            .store
            .schedule_for_channel(CHANNEL_ID)
            .await
            .expect("read")
            .is_some_and(|schedule| schedule.created_by == user));
    }

    /// `user` clicks the button on the newest message that carries it.
    pub(crate) async fn click(&self, user: u64, custom_id: &str) -> InteractionReply {
        let mut click = ButtonClick::guild(custom_id).user(user);
        if let Some(message) = self.fake.message_with_button(custom_id) {
            click = click.message(message);
        }
        self.fake.click_button(click).await.expect("answered")
    }

    pub(crate) async fn execute(&mut self, sql: &str) {
        self.raw().execute(sql).await;
    }

    pub(crate) async fn count(&mut self, sql: &str) -> i64 {
        self.raw().count(sql).await
    }

    /// Every (table, column) where a value mentions `id`, over every table in the database, so
    /// a table added later cannot be forgotten.
    pub(crate) async fn mentions(&mut self, id: u64) -> Vec<(String, String)> {
        self.raw().mentions(id).await
    }

    /// Polls the database until `sql` counts `expected`.
    pub(crate) async fn wait_count(&mut self, sql: &str, expected: i64) {
        self.raw().wait_count(sql, expected, WAIT).await;
    }

    async fn seed_bookmarks(&self, user: u64, count: u32) {
        for n in 0..count {
            let item = NewBookmark {
                kind: BookmarkKind::Prompt,
                item_id: format!("seed-{n:03}"),
                title: format!("Title {n:03}"),
                body: Some(format!("Words of {n:03}")),
                url: Some(format!("https://example.nhs.uk/{n}")),
            };
            let when = at(START) - chrono::Duration::days(1) + chrono::Duration::seconds(n.into());
            self.store
                .add_bookmark(user, &item, when, BOOKMARK_LIMIT)
                .await
                .expect("seed a bookmark");
        }
    }
}

fn save_id(reply: &InteractionReply) -> String {
    reply
        .buttons()
        .iter()
        .filter_map(|button| button["custom_id"].as_str())
        .find(|id| id.starts_with("cp:save:"))
        .unwrap_or_else(|| panic!("a Save button: {:?}", reply.buttons()))
        .to_string()
}

fn labels(reply: &InteractionReply) -> Vec<(String, String)> {
    reply
        .buttons()
        .iter()
        .map(|button| {
            (
                button["label"].as_str().unwrap_or("").to_string(),
                button["custom_id"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn button_labels(reply: &InteractionReply) -> Vec<String> {
    labels(reply).into_iter().map(|(label, _)| label).collect()
}

fn field_names(reply: &InteractionReply) -> Vec<String> {
    reply.embeds()[0]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|field| field["name"].as_str().unwrap_or("").to_string())
        .collect()
}

fn button_id(reply: &InteractionReply, label: &str) -> String {
    labels(reply)
        .into_iter()
        .find(|(name, _)| name == label)
        .unwrap_or_else(|| panic!("a {label} button: {:?}", labels(reply)))
        .1
}

#[tokio::test]
async fn save_from_every_card_keeps_one_and_stops_at_the_limit() {
    let mut scene = Scene::start(|_| {}).await;
    let prompt = scene
        .command(
            CommandInvocation::guild("prompt")
                .option_str("theme", "compassion")
                .user(PERSON),
        )
        .await;
    let save = save_id(&prompt);
    assert!(save.starts_with("cp:save:-:p."), "{save}");
    let first = scene.click(PERSON, &save).await;
    assert!(first.ephemeral());
    assert!(
        first.content().unwrap_or_default().contains("Saved"),
        "{first:?}"
    );
    let second = scene.click(PERSON, &save).await;
    assert!(second.ephemeral());
    assert!(
        second
            .content()
            .unwrap_or_default()
            .contains("already saved"),
        "{second:?}"
    );
    let saved = scene.store.bookmarks(PERSON).await.expect("bookmarks");
    assert_eq!(saved.len(), 1, "saving twice keeps one");
    let prompt_text = prompt.embeds()[0]["description"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert_eq!(
        saved[0].body.as_deref(),
        Some(prompt_text.as_str()),
        "what it said"
    );

    let story = scene
        .command(CommandInvocation::guild("story").user(PERSON))
        .await;
    let pack = scene
        .command(
            CommandInvocation::guild("pack")
                .option_str("theme", "resilience")
                .user(PERSON),
        )
        .await;
    for reply in [&story, &pack] {
        let answer = scene.click(PERSON, &save_id(reply)).await;
        assert!(answer.ephemeral());
        assert!(
            answer.content().unwrap_or_default().contains("Saved"),
            "{answer:?}"
        );
    }
    // Someone else's click saves for them, not for the person who asked.
    scene.click(SOMEONE_ELSE, &save).await;
    let kinds: Vec<BookmarkKind> = scene
        .store
        .bookmarks(PERSON)
        .await
        .expect("bookmarks")
        .iter()
        .map(|bookmark| bookmark.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            BookmarkKind::Pack,
            BookmarkKind::Story,
            BookmarkKind::Prompt
        ]
    );
    assert_eq!(
        scene
            .store
            .bookmarks(SOMEONE_ELSE)
            .await
            .expect("theirs")
            .len(),
        1
    );

    // Up to the limit, then a clear message and nothing more saved.
    scene.seed_bookmarks(PERSON, BOOKMARK_LIMIT - 3).await;
    let another = scene
        .command(
            CommandInvocation::guild("pack")
                .option_str("theme", "compassion")
                .user(PERSON),
        )
        .await;
    let full = scene.click(PERSON, &save_id(&another)).await;
    assert!(full.ephemeral());
    let text = full.content().unwrap_or_default();
    assert!(
        text.contains("500 bookmarks") && text.contains("/bookmarks remove"),
        "{text}"
    );
    let total = scene
        .count(&format!(
            "SELECT COUNT(*) FROM bookmarks WHERE user_id = {PERSON}"
        ))
        .await;
    assert_eq!(total, i64::from(BOOKMARK_LIMIT));
    scene.finish().await;
}

#[tokio::test]
async fn bookmarks_page_through_25_and_remove_offers_only_mine() {
    let scene = Scene::start(|_| {}).await;
    scene.seed_bookmarks(PERSON, 25).await;
    scene.seed_bookmarks(SOMEONE_ELSE, 3).await;

    let first = scene
        .command(
            CommandInvocation::guild("bookmarks")
                .subcommand("list")
                .user(PERSON),
        )
        .await;
    assert!(first.ephemeral());
    let names = field_names(&first);
    assert_eq!(names.len(), 10);
    assert!(
        names[0].starts_with("1. Prompt: Title 024"),
        "newest first: {names:?}"
    );
    assert!(names[9].starts_with("10. Prompt: Title 015"), "{names:?}");
    let value = first.embeds()[0]["fields"][0]["value"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        value.contains("Words of 024") && value.contains("https://example.nhs.uk/24"),
        "each with its text and link: {value}"
    );
    assert_eq!(button_labels(&first), ["Next"]);

    let second = scene.click(PERSON, &button_id(&first, "Next")).await;
    assert_eq!(second.callback_type, 7, "the same message is updated");
    let names = field_names(&second);
    assert_eq!(names.len(), 10);
    assert!(names[0].starts_with("11. Prompt: Title 014"), "{names:?}");
    assert_eq!(button_labels(&second), ["Previous", "Next"]);
    let third = scene.click(PERSON, &button_id(&second, "Next")).await;
    assert_eq!(third.callback_type, 7);
    let names = field_names(&third);
    assert_eq!(names.len(), 5);
    assert!(names[4].starts_with("25. Prompt: Title 000"), "{names:?}");
    assert_eq!(button_labels(&third), ["Previous"]);
    let back = scene.click(PERSON, &button_id(&third, "Previous")).await;
    assert_eq!(field_names(&back), field_names(&second));
    // Someone else clicking the same button is refused, and sees none of these.
    let theirs = scene.click(SOMEONE_ELSE, &button_id(&back, "Next")).await;
    assert!(theirs.ephemeral() && theirs.callback_type == 4);
    assert!(theirs.embeds().is_empty());
    assert!(theirs
        .content()
        .unwrap_or_default()
        .contains("someone else's private message"));

    // Autocomplete for /bookmarks remove offers my items only.
    let mine = scene.store.bookmarks(PERSON).await.expect("mine");
    let others = scene.store.bookmarks(SOMEONE_ELSE).await.expect("theirs");
    let suggest = |partial: &str| {
        let invocation = CommandInvocation::guild("bookmarks")
            .subcommand("remove")
            .option(json!({"name": "item", "type": 3, "value": partial, "focused": true}))
            .user(PERSON);
        let mut d = scene.fake.command_interaction(&invocation);
        d["type"] = json!(4);
        d
    };
    let offered = scene
        .fake
        .run_interaction(suggest(""), INTERACTION_TIMEOUT)
        .await
        .expect("suggestions");
    assert_eq!(offered.callback_type, 8);
    let choices = offered.callback_data["choices"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(choices.len(), 25);
    let ids: Vec<String> = choices
        .iter()
        .map(|choice| choice["value"].as_str().unwrap_or("").to_string())
        .collect();
    for choice in &ids {
        assert!(
            mine.iter().any(|b| &b.id.to_string() == choice),
            "{choice} is mine"
        );
        assert!(
            !others.iter().any(|b| &b.id.to_string() == choice),
            "{choice} is not theirs"
        );
    }
    let narrowed = scene
        .fake
        .run_interaction(suggest("title 007"), INTERACTION_TIMEOUT)
        .await
        .expect("suggestions");
    let narrowed = narrowed.callback_data["choices"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(narrowed.len(), 1, "{narrowed:?}");
    assert!(narrowed[0]["name"]
        .as_str()
        .unwrap_or("")
        .contains("Words of 007"));
    let chosen = narrowed[0]["value"].as_str().unwrap_or("").to_string();

    let removed = scene
        .command(
            CommandInvocation::guild("bookmarks")
                .subcommand("remove")
                .option_str("item", &chosen)
                .user(PERSON),
        )
        .await;
    assert!(removed.ephemeral());
    assert!(
        removed.content().unwrap_or_default().contains("Removed"),
        "{removed:?}"
    );
    let left = scene.store.bookmarks(PERSON).await.expect("mine");
    assert_eq!(left.len(), 24);
    assert!(!left.iter().any(|b| b.id.to_string() == chosen));

    // Someone else's bookmark id typed in by hand is not mine to remove.
    let refused = scene
        .command(
            CommandInvocation::guild("bookmarks")
                .subcommand("remove")
                .option_str("item", &others[0].id.to_string())
                .user(PERSON),
        )
        .await;
    assert!(refused.ephemeral());
    assert!(refused
        .content()
        .unwrap_or_default()
        .contains("no such bookmark"));
    assert_eq!(
        scene.store.bookmarks(SOMEONE_ELSE).await.expect("theirs"),
        others
    );
    scene.finish().await;
}

#[tokio::test]
async fn mydata_is_exactly_what_is_stored_and_forget_me_leaves_nothing() {
    mydata_and_forget_me(Backend::Sqlite).await;
}

#[tokio::test]
async fn mydata_and_forget_me_on_postgres() {
    mydata_and_forget_me(Backend::Postgres).await;
}

async fn mydata_and_forget_me(backend: Backend) {
    let mut scene = Scene::start_on(backend, |_| {}).await;
    // A schedule the person set up, a bookmark, and the rows the DM side keeps about them.
    scene.set_schedule_as(PERSON).await;
    let prompt = scene
        .command(CommandInvocation::guild("prompt").user(PERSON))
        .await;
    scene.click(PERSON, &save_id(&prompt)).await;
    scene.seed_bookmarks(SOMEONE_ELSE, 2).await;
    for sql in [
        format!("INSERT INTO dm_optins (user_id, guild_id, opted_in_at) VALUES ({PERSON}, {GUILD_ID}, 1800000000), ({SOMEONE_ELSE}, {GUILD_ID}, 1800000000)"),
        format!("INSERT INTO theme_mutes (user_id, theme, muted_at) VALUES ({PERSON}, 'resilience', 1800000001)"),
        format!("INSERT INTO dm_status (user_id, channel_id, closed_at, told_at) VALUES ({PERSON}, 424242, 1800000002, 1800000003)"),
        format!("INSERT INTO dm_deliveries (user_id, card_key, state, claimed_at, message_id) VALUES ({PERSON}, 'card-1', 'sent', 1800000004, 99), ({PERSON}, 'card-2', 'skipped', 1800000005, NULL)"),
    ] {
        scene.execute(&sql).await;
    }

    let mydata = scene
        .command(CommandInvocation::guild("mydata").user(PERSON))
        .await;
    assert!(mydata.ephemeral());
    let attachments = mydata.data["attachments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(attachments.len(), 1, "{:?}", mydata.data);
    assert_eq!(attachments[0]["filename"], "careprompt-my-data.json");
    let callback = scene
        .fake
        .requests()
        .into_iter()
        .find(|request| {
            request
                .path
                .contains(&format!("/interactions/{}/", mydata.interaction_id))
        })
        .expect("the callback was recorded");
    assert_eq!(callback.files.len(), 1);
    assert_eq!(callback.files[0].0, "files[0]");
    let file: Value = serde_json::from_slice(&callback.files[0].1).expect("the file is JSON");
    let stored = scene.store.export_user(PERSON).await.expect("export");
    assert_eq!(file, serde_json::to_value(&stored).expect("serialises"));
    assert_eq!(stored.dm_optins.len(), 1);
    assert_eq!(stored.muted_themes.len(), 1);
    assert!(stored.dm_status.is_some());
    assert_eq!((stored.dms_sent, stored.dm_records), (1, 2));
    assert_eq!(stored.bookmarks.len(), 1);
    assert_eq!(stored.schedules_created.len(), 1);
    assert_eq!(
        stored.usage_records, 1,
        "the Save was counted for /insights"
    );
    assert_eq!(file["user_id"], PERSON.to_string());

    let ask = scene
        .command(CommandInvocation::guild("forget-me").user(PERSON))
        .await;
    assert!(ask.ephemeral());
    let confirm = button_id(&ask, "Erase my data");
    assert!(
        !confirm.contains(&PERSON.to_string()),
        "the id names nobody"
    );
    let cancel = scene.click(PERSON, &button_id(&ask, "Cancel")).await;
    assert_eq!(cancel.callback_type, 7);
    assert!(cancel
        .content()
        .unwrap_or_default()
        .contains("Nothing was erased"));
    assert_eq!(
        scene.store.export_user(PERSON).await.expect("export"),
        stored
    );

    // The confirm button erases whoever clicks it, never the person it was shown to.
    scene.click(SOMEONE_ELSE, &confirm).await;
    assert_eq!(
        scene.store.export_user(PERSON).await.expect("export"),
        stored
    );
    assert!(scene
        .store
        .bookmarks(SOMEONE_ELSE)
        .await
        .expect("theirs")
        .is_empty());

    let before = scene.mentions(PERSON).await;
    assert!(
        before.len() >= 6,
        "the check sees the person first: {before:?}"
    );
    // Cancelling took the buttons away: asking again brings them back.
    let ask = scene
        .command(CommandInvocation::guild("forget-me").user(PERSON))
        .await;
    let done = scene.click(PERSON, &button_id(&ask, "Erase my data")).await;
    assert_eq!(done.callback_type, 7);
    let text = done.content().unwrap_or_default();
    assert!(
        text.contains("1 bookmark")
            && text.contains("1 DM opt-in")
            && text.contains("1 muted theme")
            && text.contains("2 records of DMs")
            && text.contains("1 schedule you set up stays")
            && text.contains("1 usage record"),
        "{text}"
    );
    assert_eq!(
        scene.mentions(PERSON).await,
        Vec::<(String, String)>::new(),
        "no row in any table mentions them"
    );
    let schedule = scene
        .store
        .schedule_for_channel(CHANNEL_ID)
        .await
        .expect("read")
        .expect("the team's schedule stays");
    assert_eq!(schedule.created_by, careprompt::store::ERASED_USER);
    assert_eq!(
        scene.count("SELECT COUNT(*) FROM usage_events").await,
        0,
        "their usage record went too"
    );
    scene.finish().await;
}

#[tokio::test]
async fn a_departed_server_is_forgotten_after_the_retention() {
    let mut scene = Scene::start(|_| {}).await;
    scene.set_schedule_as(PERSON).await;
    scene
        .execute(&format!(
            "INSERT INTO dm_optins (user_id, guild_id, opted_in_at) VALUES ({PERSON}, {GUILD_ID}, 1800000000), ({PERSON}, 31337, 1800000000)"
        ))
        .await;
    scene.seed_bookmarks(PERSON, 2).await;

    scene
        .fake
        .dispatch("GUILD_DELETE", json!({"id": GUILD_ID.to_string()}))
        .await;
    scene
        .wait_count(
            &format!("SELECT COUNT(*) FROM departed_guilds WHERE guild_id = {GUILD_ID}"),
            1,
        )
        .await;
    // Within the retention nothing goes: the server may add careprompt back.
    scene.clock.advance(chrono::Duration::days(29));
    tokio::task::yield_now().await;
    assert!(scene
        .store
        .schedule_for_channel(CHANNEL_ID)
        .await
        .expect("read")
        .is_some());

    scene.clock.advance(chrono::Duration::days(2));
    scene
        .wait_count(
            &format!("SELECT COUNT(*) FROM schedules WHERE guild_id = {GUILD_ID}"),
            0,
        )
        .await;
    scene
        .wait_count(
            &format!("SELECT COUNT(*) FROM dm_optins WHERE guild_id = {GUILD_ID}"),
            0,
        )
        .await;
    scene
        .wait_count("SELECT COUNT(*) FROM departed_guilds", 0)
        .await;
    assert_eq!(
        scene
            .count(&format!(
                "SELECT COUNT(*) FROM dm_optins WHERE user_id = {PERSON}"
            ))
            .await,
        1,
        "opt-ins for other servers stay"
    );
    assert_eq!(
        scene
            .store
            .bookmarks(PERSON)
            .await
            .expect("bookmarks")
            .len(),
        2,
        "bookmarks belong to the person and stay"
    );
    scene.finish().await;
}
