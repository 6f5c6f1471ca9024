//! The fault drills of issue 9: careprompt under a storm of Discord errors, a gateway that keeps
//! dropping, SIGKILL again and again, a database that goes away, and hostile input. Each drill
//! asserts what must hold however the fault lands (every post and DM exactly once, every
//! interaction answered exactly once, nothing panics, nobody sees another's data); none asserts
//! how fast anything happened. Waits have generous deadlines.

use std::collections::BTreeMap;
use std::time::Duration;

use careprompt::domain::shards::ShardRange;
use careprompt::store::{BookmarkKind, DeliveryState, NewBookmark, Store, BOOKMARK_LIMIT};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::bot::assert_pings_at_most;
use crate::cli::{stderr, ContentCopy};
use crate::process::{careprompt_command, latest_states, temp_database};
use crate::scale::{
    assert_each_once, channel, guild, members, server_address,
    violations_besides_the_global_rate_limit, Process, World,
};
use crate::scheduler::{at, temp_postgres_url, text_of, Scene, SceneSetup, WAIT};
use crate::support::outage::DatabaseLink;
use crate::support::{
    ButtonClick, CommandInvocation, FakeDiscord, Fault, InteractionReply, RouteMatch,
    ADMIN_PERMISSIONS, CHANNEL_ID, GATEWAY_WAIT, GUILD_ID, TOKEN,
};

/// Where every in-process drill's clock starts, half an hour before its posts are due.
const START: &str = "2027-01-04T08:30:00Z";
const SLOT: &str = "2027-01-04T09:00:00Z";

/// How long a drill waits for every post and DM to be settled.
const SETTLE_WAIT: Duration = Duration::from_secs(180);

/// What a person is told when a command needs the database and cannot reach it.
const TRY_AGAIN: &str = "try again shortly";

/// `count` servers laid out as the scale tests lay them out, each with one channel whose weekly
/// post falls due at [`SLOT`], and its members opted in to DMs. Returns every channel and every
/// person, each of whom is owed one DM.
async fn fan_out(scene: &Scene, count: u64) -> (Vec<u64>, Vec<u64>) {
    let places: Vec<(u64, u64)> = (0..count).map(|n| (guild(n), channel(n))).collect();
    scene.schedule_channels(&places, at(SLOT)).await;
    let memberships: Vec<(u64, u64)> = (0..count)
        .flat_map(|n| members(n).into_iter().map(move |member| (guild(n), member)))
        .collect();
    scene.opt_in(&memberships).await;
    let channels = places.iter().map(|(_, channel)| *channel).collect();
    let people = memberships.iter().map(|(_, member)| *member).collect();
    (channels, people)
}

/// Waits until every channel's post is recorded as sent and every DM it owes is settled. The
/// scheduler tries again what Discord or the database left open once its clock says so, so the
/// clock moves on a little (less than a retry interval) each time round, as time passes.
async fn settle(scene: &Scene, channels: &[u64]) {
    let deadline = tokio::time::Instant::now() + SETTLE_WAIT;
    loop {
        let states = latest_states(&scene.store, channels).await;
        let sent = states
            .iter()
            .all(|state| *state == Some(DeliveryState::Sent));
        let pending = scene
            .store
            .pending_fan_outs(10, &ShardRange::ALL)
            .await
            .expect("read");
        if sent && pending.is_empty() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not settled after {SETTLE_WAIT:?}: {states:?}, fan-outs pending: {}",
            pending.len()
        );
        scene.clock.advance(chrono::Duration::seconds(15));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// How many answers Discord accepted for each interaction, by token.
fn answers_per_interaction(fake: &FakeDiscord) -> BTreeMap<String, usize> {
    let mut answers = BTreeMap::new();
    for request in fake.requests() {
        if request.is("POST", "/interactions/") && (200..300).contains(&request.status) {
            let token = request.path.split('/').nth(5).unwrap_or_default();
            *answers.entry(token.to_string()).or_insert(0) += 1;
        }
    }
    answers
}

// ---- 1. a storm of Discord errors in the middle of a fan-out ---------------------------------

#[tokio::test]
async fn drill_a_storm_of_429s_500s_and_503s_mid_fan_out_delivers_each_post_and_dm_once() {
    let scene = Scene::start(START, |_| {}).await;
    let (channels, people) = fan_out(&scene, 40).await;
    scene.clock.set(at(SLOT));
    scene
        .fake
        .wait_posts(None, 8, WAIT)
        .await
        .expect("the fan-out is under way");

    // First global 429s, then 500s, then Cloudflare's 503 pages, on posts, DMs and opening DM
    // channels alike; each fault answers one request, in this order.
    let posts = RouteMatch::new("POST", "/channels/");
    let dm_channels = RouteMatch::new("POST", "/users/@me/channels");
    let storm = [
        Fault::RateLimit {
            route: posts.clone(),
            retry_after_secs: 0.3,
            global: true,
            times: 20,
        },
        Fault::RateLimit {
            route: dm_channels.clone(),
            retry_after_secs: 0.3,
            global: true,
            times: 5,
        },
        Fault::ServerError {
            route: posts.clone(),
            status: 500,
            times: 20,
        },
        Fault::ServerError {
            route: dm_channels.clone(),
            status: 500,
            times: 5,
        },
        Fault::ServerError {
            route: posts.clone(),
            status: 503,
            times: 20,
        },
        // And the worst of a storm: Discord posted, but its answer never came back.
        Fault::LoseAnswer {
            route: posts,
            times: 3,
        },
        Fault::ServerError {
            route: dm_channels,
            status: 503,
            times: 5,
        },
    ];
    for fault in storm {
        scene.fake.inject(fault);
    }
    settle(&scene, &channels).await;

    let answered = |status: u16| {
        scene
            .fake
            .requests()
            .iter()
            .filter(|request| request.status == status)
            .count()
    };
    assert_eq!(
        (answered(429), answered(500), answered(503), answered(0)),
        (25, 25, 25, 3),
        "the whole storm reached careprompt"
    );
    let global = scene.fake.requests().into_iter().find(|r| r.status == 429);
    assert!(global.is_some_and(|request| request.is("POST", "/")));
    assert_each_once(&scene.fake, &channels, &people);
    scene.finish().await;
}

// ---- 2. the gateway dropping every second or so, during a fan-out and interactions ----------

/// Disturbs the gateway every 1.2 s until `stop`, in turn dropping the TCP connection, closing
/// it with a resumable code and asking for a reconnect (op 7); returns how many times.
async fn gateway_chaos(fake: FakeDiscord, stop: CancellationToken) -> usize {
    let mut disturbed = 0;
    loop {
        tokio::select! {
            () = stop.cancelled() => return disturbed,
            () = tokio::time::sleep(Duration::from_millis(1200)) => {}
        }
        match disturbed % 3 {
            0 => fake.gateway_drop_tcp().await,
            1 => fake.gateway_close(4000).await,
            _ => fake.gateway_reconnect_op7().await,
        }
        disturbed += 1;
    }
}

/// The `n`th interaction of the gateway drill: commands and buttons, some reading and writing
/// the database, from seven people in turn.
fn mixed_interaction(fake: &FakeDiscord, n: usize) -> Value {
    let user = 60_000 + (n % 7) as u64;
    let command = |invocation: CommandInvocation| fake.command_interaction(&invocation.user(user));
    let click =
        |custom_id: &str| fake.button_interaction(&ButtonClick::guild(custom_id).user(user));
    match n % 8 {
        0 => command(CommandInvocation::guild("themes")),
        1 => command(CommandInvocation::guild("support")),
        2 => command(CommandInvocation::guild("prompt").option_str("theme", "resilience")),
        3 => command(CommandInvocation::guild("pack").option_str("theme", "compassion")),
        4 => command(CommandInvocation::guild("bookmarks").subcommand("list")),
        5 => click("cp:support:-"),
        6 => click("cp:pack:-:resilience"),
        _ => click("cp:save:-:p.com-01"),
    }
}

#[tokio::test]
async fn drill_the_gateway_dropping_again_and_again_loses_and_repeats_nothing() {
    let scene = Scene::start(START, |_| {}).await;
    let (channels, people) = fan_out(&scene, 30).await;

    let stop = CancellationToken::new();
    let chaos = tokio::spawn(gateway_chaos(scene.fake.clone(), stop.clone()));
    scene.clock.set(at(SLOT));
    let mut tokens = Vec::new();
    for n in 0..40 {
        let interaction = mixed_interaction(&scene.fake, n);
        tokens.push(
            scene
                .fake
                .send_interaction(interaction)
                .await
                .expect("dispatched"),
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for token in &tokens {
        scene
            .fake
            .wait_reply(token, Duration::from_secs(60))
            .await
            .unwrap_or_else(|err| panic!("interaction {token} was lost: {err:#}"));
    }
    stop.cancel();
    let disturbed = chaos.await.expect("the chaos task ran");
    assert!(
        disturbed >= 5,
        "the gateway was disturbed {disturbed} times"
    );
    scene
        .fake
        .wait_resumed(GATEWAY_WAIT)
        .await
        .expect("resumed after the last disturbance");
    settle(&scene, &channels).await;

    let answers = answers_per_interaction(&scene.fake);
    for token in &tokens {
        assert_eq!(answers.get(token), Some(&1), "{token} answered once");
    }
    assert_eq!(answers.len(), tokens.len(), "nothing else was answered");
    assert!(scene.fake.resumed_count() >= disturbed / 2);
    assert_each_once(&scene.fake, &channels, &people);
    // A second answer to an interaction is recorded as a violation by the fake.
    scene.finish().await;
}

// ---- 3. SIGKILL at random points of a fan-out, five times ------------------------------------

/// The seed of the SIGKILL drill: `CAREPROMPT_DRILL_SEED` repeats a run, else a fixed one.
fn drill_seed() -> u64 {
    std::env::var("CAREPROMPT_DRILL_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(0x0009_d711)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_sigkill_five_times_at_random_points_of_a_fan_out_posts_and_dms_each_once() {
    let seed = drill_seed();
    eprintln!("SIGKILL drill seed {seed}: CAREPROMPT_DRILL_SEED={seed} repeats this run");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut world = World::new(100).await;
    let expected = usize::try_from(world.guilds).expect("small") + world.dm_count();
    let mut killed = Vec::new();
    for round in 1..=5 {
        let mut process = world.start_on_shards(None);
        let received = world.fake.created_messages().len();
        let target = received + rng.gen_range(4..=20);
        let after = Duration::from_millis(rng.gen_range(0..250));
        world
            .fake
            .wait_posts(None, target, Duration::from_secs(120))
            .await
            .unwrap_or_else(|err| {
                panic!("round {round} posted nothing: {err:#}\n{}", process.logs())
            });
        tokio::time::sleep(after).await;
        process.kill();
        let now = world.fake.created_messages().len();
        eprintln!("round {round}: killed after message {target} (+{after:?}), {now} received");
        assert!(now < expected, "round {round} came before the end");
        killed.push(process);
    }
    let last = world.start_on_shards(None);
    world.wait_delivered(&[&last]).await;
    world.assert_exactly_once();
    for (round, process) in killed.iter().enumerate() {
        let logs = process.logs();
        assert!(!logs.contains("panicked"), "round {}:\n{logs}", round + 1);
    }
    // A process started straight after a SIGKILL cannot know what the killed one sent in its
    // last second, and Discord counts both against the bot's global limit: a global 429 or two
    // at a restart is what a crash costs (careprompt waits it out). Nothing else may be refused.
    assert_eq!(
        violations_besides_the_global_rate_limit(&world.fake),
        Vec::<String>::new()
    );
    world.finish(vec![last]).await;
}

// ---- 4. the database unavailable for a while -------------------------------------------------

#[tokio::test]
async fn drill_a_database_outage_keeps_content_commands_answering_and_posts_resume_after() {
    let (url, name) = temp_postgres_url().await;
    let link = DatabaseLink::start(server_address(&url)).await;
    let setup = SceneSetup {
        bot_database_url: link.url_through(&url),
        postgres_database: Some(name),
        ..SceneSetup::new(url)
    };
    let scene = Scene::start_with(setup, START, |_| {}).await;
    let (channels, people) = fan_out(&scene, 12).await;
    // Something of the asker's for /bookmarks to read, once it can.
    let asker = crate::support::USER_ID;
    let saved = scene
        .fake
        .click_button(ButtonClick::guild("cp:save:-:p.com-01").user(asker))
        .await
        .expect("answered");
    assert!(saved.content().unwrap_or_default().contains("Saved"));

    link.cut();
    // Commands that need no database answer as always.
    for invocation in [
        CommandInvocation::guild("pack").option_str("theme", "compassion"),
        CommandInvocation::guild("support"),
        CommandInvocation::guild("themes"),
        CommandInvocation::guild("prompt").option_str("theme", "resilience"),
    ] {
        let name = invocation.name.clone();
        let reply = scene.fake.run_command(invocation).await.expect("answered");
        assert!(!reply.embeds().is_empty(), "/{name} answered as usual");
        assert!(
            !text_of(&reply).contains(TRY_AGAIN),
            "/{name}: {}",
            text_of(&reply)
        );
    }
    // Those that need it say so, privately.
    let mut needing = Vec::new();
    for invocation in [
        CommandInvocation::guild("bookmarks").subcommand("list"),
        CommandInvocation::guild("optin"),
    ] {
        needing.push(scene.fake.run_command(invocation).await.expect("answered"));
    }
    needing.push(
        scene
            .fake
            .click_button(ButtonClick::guild("cp:save:-:p.com-02").user(asker))
            .await
            .expect("answered"),
    );
    for reply in &needing {
        assert!(reply.ephemeral(), "{:?}", reply.data);
        assert!(
            reply.content().unwrap_or_default().contains(TRY_AGAIN),
            "{:?}",
            reply.data
        );
    }

    // The posts fall due while the database is away: none can be claimed, so none goes out.
    let refused = link.refused();
    scene.clock.set(at(SLOT));
    let deadline = tokio::time::Instant::now() + WAIT;
    while link.refused() == refused {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the scheduler never tried the database"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(scene.fake.created_messages().is_empty());

    // Back: the posts and DMs go out by themselves, as the scheduler's clock moves on.
    link.restore();
    settle(&scene, &channels).await;
    assert_each_once(&scene.fake, &channels, &people);
    let listed = scene
        .fake
        .run_command(CommandInvocation::guild("bookmarks").subcommand("list"))
        .await
        .expect("answered");
    assert!(!text_of(&listed).contains(TRY_AGAIN), "{:?}", listed.data);
    scene.finish().await;
}

// ---- 5. hostile input ------------------------------------------------------------------------

/// Text a person could type: mentions, markdown, and Unicode that tends to break things.
fn hostile_texts() -> Vec<String> {
    let nasty = "@everyone @here <@123> <@!123> <@&456> <#1001> **bold** __u__ ||spoiler|| `code` \
                 ```block``` [link](https://example.com) > quote \u{202E}reversed\u{202C} \
                 a\u{200D}b\u{200B}c e\u{301}\u{301}\u{301} 👩\u{200D}⚕\u{FE0F} 𝕮𝖔𝖒𝖕𝖆𝖘𝖘𝖎𝖔𝖓 🏥";
    let longest = |max: usize| nasty.chars().cycle().take(max).collect::<String>();
    vec![
        "@everyone".to_string(),
        "<@123>".to_string(),
        "<@&456>".to_string(),
        "\u{202E}noissapmoc".to_string(),
        "compassion\u{200D}".to_string(),
        "🏥𝕮\u{301}".to_string(),
        nasty.to_string(),
        // The longest the option takes (crontab lines and item ids take 100), and the longest
        // any string option can be.
        longest(100),
        longest(6000),
    ]
}

/// Every message the bot sent (replies, edits, posts and DMs), with the role an admin configured
/// for posts: none of them lets anything else ping.
fn assert_nothing_pings(fake: &FakeDiscord, role: Option<u64>) -> usize {
    let mut checked = 0;
    for request in fake.requests() {
        let Some(body) = &request.body else {
            continue;
        };
        let message = if request.is("POST", "/interactions/") {
            match body["type"].as_u64() {
                Some(4 | 7) => &body["data"],
                _ => continue,
            }
        } else if request.is("*", "/webhooks/")
            || (request.is("POST", "/channels/") && request.path.ends_with("/messages"))
        {
            body
        } else {
            continue;
        };
        let configured = role.filter(|_| request.is("POST", "/channels/"));
        assert_pings_at_most(message, configured);
        if let Some(content) = message["content"].as_str() {
            let ping = configured.map(|role| format!("<@&{role}>"));
            assert!(
                !content.starts_with("<@&") || Some(content.to_string()) == ping,
                "{content}"
            );
        }
        checked += 1;
    }
    checked
}

/// `/schedule set` in the test channel with `role` to ping, then `/schedule post-now` a minute
/// later (a post-now takes the slot of its own moment); returns the channel's posts.
async fn post_now_pinging(scene: &Scene, role: u64) -> Vec<Value> {
    let set = scene
        .admin("set", |c| {
            c.option_channel("channel", CHANNEL_ID, 0)
                .option_role("ping_role", role)
        })
        .await;
    assert!(set.ephemeral());
    scene.clock.advance(chrono::Duration::minutes(1));
    let posted = scene
        .admin("post-now", |c| c.option_channel("channel", CHANNEL_ID, 0))
        .await;
    assert!(text_of(&posted).contains("Posted"), "{:?}", posted.data);
    scene.posts_in(CHANNEL_ID)
}

/// An autocomplete request for `/bookmarks remove item:<typed>`.
fn autocomplete(fake: &FakeDiscord, typed: &str) -> Value {
    let mut interaction = fake.command_interaction(
        &CommandInvocation::guild("bookmarks")
            .subcommand("remove")
            .option_str("item", typed),
    );
    interaction["type"] = json!(4);
    interaction["data"]["options"][0]["options"][0]["focused"] = json!(true);
    interaction
}

#[tokio::test]
async fn drill_hostile_text_is_answered_and_never_pings() {
    const ROLE: u64 = 456;
    let scene = Scene::start(START, |config| {
        config.support.org = Some(careprompt::config::OrgSupport {
            name: "@everyone **Ward 7** <@123>".into(),
            how: "Call <@&456> on `0000` ||now||".into(),
            when: Some("@here \u{202E}always".into()),
            url: None,
        });
    })
    .await;
    // A schedule whose role ping names the @everyone role pings nobody; then one with a real
    // role, which is the only mention careprompt ever allows.
    let first = post_now_pinging(&scene, GUILD_ID).await;
    assert!(first[0]
        .get("content")
        .and_then(Value::as_str)
        .unwrap_or("")
        .is_empty());

    for text in hostile_texts() {
        let member = |invocation: CommandInvocation| invocation;
        let admin = |invocation: CommandInvocation| invocation.permissions(ADMIN_PERMISSIONS);
        let schedule = |sub: &str| {
            CommandInvocation::guild("schedule")
                .subcommand(sub)
                .option_channel("channel", CHANNEL_ID, 0)
        };
        for invocation in [
            member(CommandInvocation::guild("pack").option_str("theme", &text)),
            member(CommandInvocation::guild("prompt").option_str("theme", &text)),
            member(CommandInvocation::guild("story").option_str("theme", &text)),
            member(CommandInvocation::guild("mute").option_str("theme", &text)),
            member(CommandInvocation::dm("unmute").option_str("theme", &text)),
            member(
                CommandInvocation::guild("bookmarks")
                    .subcommand("remove")
                    .option_str("item", &text),
            ),
            admin(schedule("set").option_str("cron", &text)),
            admin(schedule("set").option_str("timezone", &text)),
            admin(schedule("pause").option_str("until", &text)),
        ] {
            let what = format!("/{} {:.300}", invocation.name, json!(invocation.options));
            let reply = scene
                .fake
                .run_command(invocation)
                .await
                .unwrap_or_else(|err| {
                    panic!("{what} went unanswered: {:.2000}", format!("{err:#}"))
                });
            assert!(reply.ephemeral(), "{what}: a refusal is private");
        }
        let suggestions = scene
            .fake
            .run_interaction(autocomplete(&scene.fake, &text), Duration::from_secs(10))
            .await
            .expect("suggestions");
        assert_eq!(suggestions.callback_type, 8);
    }
    let support = scene
        .fake
        .run_command(CommandInvocation::guild("support"))
        .await
        .expect("answered");
    assert!(text_of(&support).contains("Ward 7"));

    let pinged = post_now_pinging(&scene, ROLE).await;
    assert_eq!(pinged.len(), 2);
    assert_eq!(pinged[1]["content"], format!("<@&{ROLE}>"));
    let checked = assert_nothing_pings(&scene.fake, Some(ROLE));
    assert!(checked > 80, "only {checked} messages checked");
    scene.finish().await;
}

/// The stored message an interaction's answer became, as a button on it is clicked.
fn answer_message(fake: &FakeDiscord, reply: &InteractionReply) -> Value {
    let id = reply.interaction_id.to_string();
    fake.messages_in(CHANNEL_ID)
        .into_iter()
        .find(|message| message["interaction_metadata"]["id"].as_str() == Some(id.as_str()))
        .expect("the answer is stored")
}

fn button_starting(reply: &InteractionReply, prefix: &str) -> String {
    reply
        .buttons()
        .iter()
        .filter_map(|button| button["custom_id"].as_str())
        .find(|id| id.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} button: {:?}", reply.data))
        .to_string()
}

/// A component interaction as a client could forge it: a button click with `component_type`
/// and `type` changed.
fn odd_click(fake: &FakeDiscord, custom_id: &str, component_type: u64, kind: u64) -> Value {
    let mut interaction = fake.button_interaction(&ButtonClick::guild(custom_id).user(BOB));
    interaction["data"]["component_type"] = json!(component_type);
    interaction["data"]["values"] = json!(["x"]);
    interaction["type"] = json!(kind);
    interaction
}

const ALICE: u64 = 64_001;
const TYPED_IN_SECRET: &str = "typed-by-someone-in-confidence";
const BOB: u64 = 64_002;

#[tokio::test]
async fn drill_hostile_payloads_and_tampered_buttons_never_panic_the_process_or_cross_people() {
    let fake = FakeDiscord::start().await;
    let database = temp_database();
    let store = Store::connect(&database, 2)
        .await
        .expect("the test's store");
    let now = chrono::Utc::now();
    for n in 0..12 {
        let item = NewBookmark {
            kind: BookmarkKind::Prompt,
            item_id: format!("alice-{n}"),
            title: format!("Alice's secret {n}"),
            body: Some(format!("Only Alice saved {n}")),
            url: None,
        };
        store
            .add_bookmark(ALICE, &item, now, BOOKMARK_LIMIT)
            .await
            .expect("saved");
    }
    let log = std::env::temp_dir().join(format!(
        "careprompt-drill-hostile-{}.log",
        std::process::id()
    ));
    let process = Process::spawn(
        careprompt_command(&fake, TOKEN, &database, &[]),
        log.clone(),
    );
    fake.wait_ready(GATEWAY_WAIT).await.expect("connected");
    let run = |invocation: CommandInvocation| fake.run_command(invocation);
    let mut bobs_answers = Vec::new();

    // Alice's private answers, and their buttons clicked by Bob.
    let listed = run(CommandInvocation::guild("bookmarks")
        .subcommand("list")
        .user(ALICE))
    .await
    .expect("answered");
    let next_page = button_starting(&listed, "cp:bookmarks:");
    let alices_list = answer_message(&fake, &listed);
    let asked = run(CommandInvocation::guild("forget-me").user(ALICE))
        .await
        .expect("answered");
    let alices_question = answer_message(&fake, &asked);
    for (custom_id, message) in [
        (next_page.clone(), alices_list.clone()),
        (
            button_starting(&asked, "cp:forget:-:erase"),
            alices_question.clone(),
        ),
        (
            button_starting(&asked, "cp:forget:-:cancel"),
            alices_question,
        ),
    ] {
        let reply = fake
            .click_button(ButtonClick::guild(&custom_id).user(BOB).message(message))
            .await
            .expect("answered");
        assert!(
            reply.ephemeral() && reply.callback_type == 4,
            "{:?}",
            reply.data
        );
        assert!(
            text_of(&reply).contains("someone else's private message"),
            "{custom_id}: {:?}",
            reply.data
        );
        bobs_answers.push(reply);
    }
    assert_eq!(store.bookmarks(ALICE).await.expect("read").len(), 12);
    // Alice's own button still works for her.
    let paged = fake
        .click_button(
            ButtonClick::guild(&next_page)
                .user(ALICE)
                .message(alices_list),
        )
        .await
        .expect("answered");
    assert_eq!(paged.callback_type, 7);
    assert!(
        text_of(&paged).contains("Alice's secret"),
        "{:?}",
        paged.data
    );

    // Bob names Alice's bookmark: nothing of hers changes.
    let alices_first = store.bookmarks(ALICE).await.expect("read")[0].id;
    bobs_answers.push(
        run(CommandInvocation::guild("bookmarks")
            .subcommand("remove")
            .option_str("item", &alices_first.to_string())
            .user(BOB))
        .await
        .expect("answered"),
    );
    assert_eq!(store.bookmarks(ALICE).await.expect("read").len(), 12);

    // Tampered custom ids, and components of kinds careprompt never sends.
    let tampered = [
        "xx:save:-:p.com-01".to_string(),
        "cp:save:-:p.com-01:extra".to_string(),
        "cp:save:abc:p.com-01".to_string(),
        "cp:save:-:p.no-such-prompt".to_string(),
        "cp:save:99999999:p.com-01".to_string(),
        format!("cp:save:-:p.{}", "x".repeat(5000)),
        "cp:\u{202E}:save".to_string(),
        "cp:bookmarks:7:1".to_string(),
        "cp:bookmarks:-:999999".to_string(),
        "cp:pack:-:no-such-theme".to_string(),
        format!("cp:forget:-:erase:{ALICE}"),
        String::new(),
    ];
    for custom_id in &tampered {
        let reply = fake
            .click_button(ButtonClick::guild(custom_id).user(BOB))
            .await
            .unwrap_or_else(|err| panic!("{custom_id:.40} went unanswered: {err:#}"));
        assert!(reply.ephemeral(), "{custom_id:.40}: {:?}", reply.data);
        bobs_answers.push(reply);
    }
    for component_type in [3, 99] {
        let reply = fake
            .run_interaction(
                odd_click(&fake, "cp:support:-", component_type, 3),
                Duration::from_secs(10),
            )
            .await
            .expect("answered");
        assert!(reply.ephemeral());
        bobs_answers.push(reply);
    }
    for answer in &bobs_answers {
        let text = serde_json::to_string(&answer.data).unwrap_or_default();
        assert!(
            !text.contains("Alice"),
            "Bob was shown Alice's data: {text}"
        );
    }
    assert_eq!(store.bookmarks(ALICE).await.expect("read").len(), 12);

    // Interactions of unknown kinds, and gateway payloads that are wrong in every way; none gets
    // an answer to wait for, and careprompt must go on answering after them.
    for kind in [1, 5, 99] {
        fake.send_interaction(odd_click(&fake, "cp:support:-", 2, kind))
            .await
            .expect("dispatched");
    }
    // What someone typed, in a payload serenity cannot read: it must not reach the logs either.
    fake.dispatch(
        "INTERACTION_CREATE",
        json!({"id": "77", "token": "fake-itok-77", "type": 2,
               "data": {"name": "pack", "options": [{"value": TYPED_IN_SECRET}]}}),
    )
    .await;
    fake.dispatch("INTERACTION_CREATE", json!({"id": 78, "type": "command"}))
        .await;
    fake.dispatch("GUILD_CREATE", json!({"id": "not-a-number", "channels": 5}))
        .await;
    fake.dispatch(
        "GUILD_DELETE",
        json!({"id": GUILD_ID.to_string(), "unavailable": "perhaps"}),
    )
    .await;
    fake.dispatch("CAREPROMPT_SURPRISE", json!({"anything": [1, 2, 3]}))
        .await;
    fake.dispatch("READY", Value::Null).await;
    fake.gateway_send_text("this is not JSON {").await;
    fake.gateway_send_text("[1, 2, 3]").await;
    fake.gateway_send_raw(json!({"op": 0, "t": "INTERACTION_CREATE", "s": null, "d": 5}))
        .await;
    fake.gateway_send_raw(json!({"op": 42, "d": {}})).await;
    fake.gateway_send_raw(json!({"no": "op"})).await;
    for _ in 0..3 {
        let reply = run(CommandInvocation::guild("support").user(ALICE))
            .await
            .expect("careprompt still answers");
        assert!(reply.ephemeral());
    }
    assert_eq!(store.bookmarks(ALICE).await.expect("read").len(), 12);

    let (code, logs) = process.stop().await;
    let _ = std::fs::remove_file(&log);
    assert_eq!(code, Some(0), "a clean stop:\n{logs}");
    assert!(!logs.contains("panicked"), "{logs}");
    assert!(!logs.contains(TYPED_IN_SECRET), "{logs}");
    fake.assert_no_violations();
    store.close().await;
}

#[test]
fn drill_a_prompts_folder_broken_every_way_at_once_is_listed_problem_by_problem() {
    let copy = ContentCopy::new("drill-broken");
    copy.edit("compassion.toml", |text| {
        text.replacen("id = \"com-02\"", "id = \"com-01\"", 1)
            .replacen("id = \"com-03\"", "id = \"com-\u{202E}03\"", 1)
    });
    copy.edit("resilience.toml", |text| {
        text.replacen(
            "[[prompt]]\nid = \"res-04\"",
            "[[prompt]\nid = \"res-04\"",
            1,
        )
    });
    copy.edit("whole-self.toml", |text| {
        text.replacen("guide_url = \"https://", "guide_url = \"ftp://", 1)
            .replacen("colour = \"#", "colour = \"nhs-blue", 1)
    });
    copy.edit("improvement-and-change.toml", |text| {
        let first = text.find("text = \"").expect("a prompt") + "text = \"".len();
        let second = text[first..].find("text = \"").expect("two prompts") + first + 8;
        let mut text = text.clone();
        text.insert_str(second, "ask @everyone and <@&456> ");
        format!("{text}\n[[prompt]]\nid = \"ic-99\"\ntext = \"  \"\n")
    });
    copy.edit("compassionate-leadership.toml", |text| {
        let long = "Reflect. ".repeat(600);
        text.replacen("text = \"", &format!("text = \"{long}"), 1)
    });
    copy.edit("bullying-and-harassment.toml", |text| {
        text.lines()
            .filter(|line| !line.starts_with("title = "))
            .collect::<Vec<_>>()
            .join("\n")
    });
    copy.edit("stories.toml", |text| {
        text.replacen("\"compassion\"", "\"compasion\"", 1)
    });
    copy.edit("support.toml", |text| {
        text.replacen("\n# Source:", "\n# Where from:", 1)
    });
    std::fs::write(
        copy.file("equality-and-diversity.toml"),
        b"slug = \"equality-and-diversity\"\ntitle = \"\xff\xfe broken\"\n",
    )
    .expect("write");
    std::fs::write(copy.file("empty.toml"), "").expect("write");
    std::fs::create_dir_all(copy.file("folder.toml")).expect("a folder named like a theme");

    let output = copy.check();
    let errors = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{errors}");
    assert!(!errors.contains("panicked"), "{errors}");
    for (file, problem) in [
        ("compassion.toml", "duplicate prompt id \"com-01\""),
        ("compassion.toml", "prompt id \"com-\u{202E}03\""),
        ("resilience.toml", ""),
        ("whole-self.toml", "is not an http(s) link"),
        ("whole-self.toml", "colour"),
        ("improvement-and-change.toml", "contains '@'"),
        ("improvement-and-change.toml", "is empty"),
        (
            "compassionate-leadership.toml",
            "characters long; the limit is",
        ),
        ("bullying-and-harassment.toml", "title"),
        ("stories.toml", "unknown theme \"compasion\""),
        ("support.toml", "# Source: ..."),
        ("equality-and-diversity.toml", "cannot read the file"),
        ("empty.toml", ""),
        ("folder.toml", "cannot read the file"),
    ] {
        let listed = errors
            .lines()
            .any(|line| line.contains(&format!("prompts/{file}")) && line.contains(problem));
        assert!(listed, "{file}: {problem:?} is not listed in:\n{errors}");
    }
}
