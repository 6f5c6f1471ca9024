//! Self-tests of the fake Discord with the real serenity / poise client: a tiny poise bot
//! defined here (not careprompt) connects in proxy mode and in default mode, registers its
//! commands, answers commands and a button, survives gateway closes and reconnects, and meets
//! injected rate limits and server errors. A sharded serenity client and raw gateway clients
//! check that each shard gets its own guilds and events. Unit tests of the OpenAPI check and the
//! payload builders live beside them in `src/`.

use std::sync::Arc;
use std::time::Duration;

// The stand-in as the tests run it, checking every request against Discord's OpenAPI file too.
use discord_standin::CheckedStandIn as FakeDiscord;
use discord_standin::StandInConfig as FakeConfig;
use discord_standin::{
    discord_error, shard_of_guild, ButtonClick, CommandInvocation, Fault, RouteBuckets, RouteMatch,
    BAD_TOKEN, CHANNEL_ID, GUILD_ID, TOKEN,
};
use poise::serenity_prelude as serenity;
use serde_json::{json, Value};
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(20);

/// An error the test bot met, as its `on_error` saw it.
#[derive(Clone, Debug)]
struct BotError {
    status: Option<u16>,
    code: Option<isize>,
    text: String,
}

fn bot_error(e: &serenity::Error) -> BotError {
    match e {
        serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(r)) => BotError {
            status: Some(r.status_code.as_u16()),
            code: Some(r.error.code),
            text: e.to_string(),
        },
        other => BotError {
            status: None,
            code: None,
            text: other.to_string(),
        },
    }
}

struct Data {
    errors: mpsc::UnboundedSender<BotError>,
}

type Ctx<'a> = poise::Context<'a, Data, serenity::Error>;

/// Echo a theme back
#[poise::command(slash_command)]
async fn echo(
    ctx: Ctx<'_>,
    #[description = "Theme to echo"] theme: String,
    #[description = "Only you see the answer"] private: Option<bool>,
) -> Result<(), serenity::Error> {
    let reply = poise::CreateReply::default()
        .content(format!("echo {theme}"))
        .embed(
            serenity::CreateEmbed::new()
                .title("Echo")
                .description(theme),
        )
        .components(vec![serenity::CreateActionRow::Buttons(vec![
            serenity::CreateButton::new("echo:again").label("Again"),
        ])])
        .allowed_mentions(serenity::CreateAllowedMentions::new())
        .ephemeral(private.unwrap_or(false));
    ctx.send(reply).await?;
    Ok(())
}

/// Answer after deferring
#[poise::command(slash_command)]
async fn slow(ctx: Ctx<'_>) -> Result<(), serenity::Error> {
    ctx.defer_ephemeral().await?;
    ctx.say("done slowly").await?;
    Ok(())
}

fn on_error(err: poise::FrameworkError<'_, Data, serenity::Error>) -> poise::BoxFuture<'_, ()> {
    Box::pin(async move {
        match err {
            poise::FrameworkError::Command { error, ctx, .. } => {
                let _ = ctx.data().errors.send(bot_error(&error));
            }
            poise::FrameworkError::EventHandler {
                error, framework, ..
            } => {
                let _ = framework.user_data.errors.send(bot_error(&error));
            }
            other => {
                if let Some(ctx) = other.ctx() {
                    let _ = ctx.data().errors.send(BotError {
                        status: None,
                        code: None,
                        text: other.to_string(),
                    });
                }
            }
        }
    })
}

/// Buttons reach the event handler, not poise's command dispatch.
fn on_event<'a>(
    framework: poise::FrameworkContext<'a, Data, serenity::Error>,
    event: &'a serenity::FullEvent,
) -> poise::BoxFuture<'a, Result<(), serenity::Error>> {
    Box::pin(async move {
        if let serenity::FullEvent::InteractionCreate {
            interaction: serenity::Interaction::Component(click),
        } = event
        {
            let update = serenity::CreateInteractionResponseMessage::new()
                .content(format!("clicked {}", click.data.custom_id))
                .components(vec![]);
            click
                .create_response(
                    framework.serenity_context,
                    serenity::CreateInteractionResponse::UpdateMessage(update),
                )
                .await?;
        }
        Ok(())
    })
}

#[derive(Clone, Copy)]
enum Register {
    Guild,
    Global,
}

struct Bot {
    errors: mpsc::UnboundedReceiver<BotError>,
    run: tokio::task::JoinHandle<Result<(), serenity::Error>>,
    _shards: Arc<serenity::ShardManager>,
}

impl Bot {
    async fn next_error(&mut self) -> BotError {
        tokio::time::timeout(WAIT, self.errors.recv())
            .await
            .expect("the bot reported no error in time")
            .expect("error channel closed")
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        self.run.abort();
    }
}

/// Builds the test bot on `http` and starts its client (the fake must already run: the
/// client asks it for the gateway URL while being built).
async fn start_bot(http: serenity::Http, register: Register) -> Bot {
    let (tx, rx) = mpsc::unbounded_channel();
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: vec![echo(), slow()],
            on_error,
            event_handler: on_event,
            ..Default::default()
        })
        .setup(move |ctx, _ready, framework| {
            Box::pin(async move {
                let cmds = &framework.options().commands;
                let registered = match register {
                    Register::Guild => {
                        poise::builtins::register_in_guild(
                            ctx,
                            cmds,
                            serenity::GuildId::new(GUILD_ID),
                        )
                        .await
                    }
                    Register::Global => poise::builtins::register_globally(ctx, cmds).await,
                };
                if let Err(e) = registered {
                    let _ = tx.send(bot_error(&e));
                    return Err(e);
                }
                Ok(Data { errors: tx })
            })
        })
        .build();
    let mut client = serenity::ClientBuilder::new_with_http(http, serenity::GatewayIntents::GUILDS)
        .framework(framework)
        .await
        .expect("build serenity client");
    let shards = client.shard_manager.clone();
    let run = tokio::spawn(async move { client.start().await });
    Bot {
        errors: rx,
        run,
        _shards: shards,
    }
}

fn echo_cmd(theme: &str) -> CommandInvocation {
    CommandInvocation::guild("echo").option_str("theme", theme)
}

fn check_registration(body: &Value) {
    let cmds = body.as_array().expect("an array of commands");
    let echo = cmds
        .iter()
        .find(|c| c["name"] == "echo")
        .expect("echo registered");
    assert_eq!(echo["description"], "Echo a theme back");
    assert_eq!(echo["options"][0]["name"], "theme");
    assert_eq!(echo["options"][0]["type"], 3);
    assert_eq!(echo["options"][0]["required"], true);
    assert_eq!(echo["options"][1]["name"], "private");
    assert_eq!(echo["options"][1]["type"], 5);
    assert!(cmds.iter().any(|c| c["name"] == "slow"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_mode_end_to_end() -> anyhow::Result<()> {
    let fake = FakeDiscord::start().await;
    let _bot = start_bot(fake.proxy_http(TOKEN), Register::Guild).await;
    fake.wait_ready(WAIT).await?;

    let put = fake
        .wait_request(
            |r| r.is("PUT", "/applications/1000/guilds/2000/commands"),
            WAIT,
        )
        .await?;
    assert_eq!(put.status, 200);
    assert!(!put.tls);
    assert_eq!(put.header("authorization"), Some("Bot fake-token-abc"));
    check_registration(&fake.registered_commands().expect("a registration"));
    assert!(fake
        .requests()
        .iter()
        .any(|r| r.is("GET", "/oauth2/applications/@me") && r.status == 200));

    let reply = fake
        .run_command(echo_cmd("compassion").option_bool("private", true))
        .await?;
    assert_eq!(reply.callback_type, 4);
    assert_eq!(reply.content().as_deref(), Some("echo compassion"));
    assert!(reply.ephemeral());
    assert_eq!(reply.embeds()[0]["title"], "Echo");
    assert_eq!(reply.embeds()[0]["description"], "compassion");
    assert_eq!(reply.buttons()[0]["custom_id"], "echo:again");
    assert!(reply.allowed_mentions().is_some());

    let deferred = fake.run_command(CommandInvocation::guild("slow")).await?;
    assert_eq!(deferred.callback_type, 5);
    assert_eq!(deferred.content().as_deref(), Some("done slowly"));
    assert!(deferred.ephemeral());

    let dm = fake
        .run_command(CommandInvocation::dm("echo").option_str("theme", "kindness"))
        .await?;
    assert_eq!(dm.content().as_deref(), Some("echo kindness"));
    assert!(!dm.ephemeral());

    let click = fake.click_button(ButtonClick::guild("echo:again")).await?;
    assert_eq!(click.callback_type, 7);
    assert_eq!(click.content().as_deref(), Some("clicked echo:again"));

    // Each disturbance: serenity RESUMEs the session and commands work again. The command
    // is dispatched at once, so it is either replayed on RESUME or sent live after it.
    for case in ["close 4000", "close 1000", "op 7", "drop tcp"] {
        match case {
            "close 4000" => fake.gateway_close(4000).await,
            "close 1000" => fake.gateway_close(1000).await,
            "op 7" => fake.gateway_reconnect_op7().await,
            _ => fake.gateway_drop_tcp().await,
        }
        let reply = fake.run_command(echo_cmd(case)).await?;
        assert_eq!(reply.content(), Some(format!("echo {case}")));
        fake.wait_resumed(WAIT).await?;
    }
    assert_eq!(
        fake.identify_count(),
        1,
        "reconnects resumed, no new IDENTIFY"
    );
    let resumes: Vec<Value> = fake
        .gateway_frames()
        .into_iter()
        .filter(|f| f["op"] == 6)
        .collect();
    assert_eq!(resumes.len(), 4);
    assert_eq!(resumes[0]["d"]["token"], "Bot fake-token-abc");
    assert!(fake.connection_count() >= 5);

    fake.assert_no_violations();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_mode_end_to_end_retries_rate_limits() -> anyhow::Result<()> {
    let fake = FakeDiscord::start().await;
    let _bot = start_bot(fake.default_mode_http(TOKEN), Register::Global).await;
    fake.wait_ready(WAIT).await?;
    let put = fake
        .wait_request(|r| r.is("PUT", "/applications/1000/commands"), WAIT)
        .await?;
    assert!(put.tls, "default mode goes to https://discord.com");
    assert_eq!(put.header("host"), Some("discord.com"));
    check_registration(&fake.registered_commands().expect("a registration"));

    let reply = fake.run_command(echo_cmd("hope")).await?;
    assert_eq!(reply.content().as_deref(), Some("echo hope"));

    // A 429 on the callback: serenity's rate limiter waits `retry-after` and retries.
    fake.inject(Fault::RateLimit {
        route: RouteMatch::new("POST", "/api/v10/interactions/"),
        retry_after_secs: 0.05,
        global: false,
        times: 1,
    });
    let reply = fake.run_command(echo_cmd("patience")).await?;
    assert_eq!(reply.content().as_deref(), Some("echo patience"));
    let callbacks: Vec<u16> = fake
        .requests()
        .iter()
        .filter(|r| r.is("POST", "/api/v10/interactions/"))
        .map(|r| r.status)
        .collect();
    assert_eq!(callbacks, [204, 429, 204]);

    // A global 429 on a channel post is retried too.
    fake.inject(Fault::RateLimit {
        route: RouteMatch::new("POST", "/channels/"),
        retry_after_secs: 0.05,
        global: true,
        times: 1,
    });
    let http = fake.default_mode_http(TOKEN);
    let msg = http
        .send_message(
            serenity::ChannelId::new(CHANNEL_ID),
            vec![],
            &json!({"content": "hi"}),
        )
        .await?;
    assert_eq!(msg.content, "hi");
    let posts: Vec<u16> = fake
        .requests()
        .iter()
        .filter(|r| r.is("POST", "/channels/"))
        .map(|r| r.status)
        .collect();
    assert_eq!(posts, [429, 200]);
    assert!(fake.requests().iter().all(|r| r.tls));
    assert_eq!(fake.created_messages().len(), 1);

    fake.assert_no_violations();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_mode_rate_limit_reaches_the_bot_as_an_error() -> anyhow::Result<()> {
    let fake = FakeDiscord::start().await;
    let mut bot = start_bot(fake.proxy_http(TOKEN), Register::Guild).await;
    fake.wait_ready(WAIT).await?;
    fake.wait_request(|r| r.is("PUT", "/applications/"), WAIT)
        .await?;

    fake.inject(Fault::RateLimit {
        route: RouteMatch::new("POST", "/api/v10/interactions/"),
        retry_after_secs: 0.05,
        global: false,
        times: 1,
    });
    let d = fake.command_interaction(&echo_cmd("x"));
    fake.send_interaction(d).await?;
    let err = bot.next_error().await;
    assert_eq!(err.status, Some(429), "{err:?}");
    // Discord's 429 body has no `code`, so serenity reports code -1 with a decode note.
    assert!(!err.text.is_empty());
    let callbacks: Vec<u16> = fake
        .requests()
        .iter()
        .filter(|r| r.is("POST", "/api/v10/interactions/"))
        .map(|r| r.status)
        .collect();
    assert_eq!(callbacks, [429], "serenity does not retry in proxy mode");
    fake.assert_no_violations();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_token_makes_start_fail() -> anyhow::Result<()> {
    let fake = FakeDiscord::start().await;
    let mut bot = start_bot(fake.proxy_http(BAD_TOKEN), Register::Guild).await;
    let outcome = tokio::time::timeout(WAIT, &mut bot.run)
        .await
        .expect("client.start() did not return")?;
    assert!(outcome.is_err(), "start() must fail, got {outcome:?}");
    let identify = fake
        .gateway_frames()
        .into_iter()
        .find(|f| f["op"] == 2)
        .expect("an IDENTIFY");
    assert_eq!(identify["d"]["token"], "Bot fake-token-bad");
    assert_eq!(fake.identify_count(), 0);
    assert!(fake
        .requests()
        .iter()
        .any(|r| r.is("GET", "/oauth2/applications/@me") && r.status == 401));
    fake.assert_no_violations();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_failure_reaches_the_bot() -> anyhow::Result<()> {
    let fake = FakeDiscord::start().await;
    fake.inject(Fault::Status {
        route: RouteMatch::new("PUT", "/api/v10/applications/"),
        status: 403,
        body: discord_error(50001, "Missing Access"),
        times: 1,
    });
    let mut bot = start_bot(fake.proxy_http(TOKEN), Register::Guild).await;
    let err = bot.next_error().await;
    assert_eq!((err.status, err.code), (Some(403), Some(50001)), "{err:?}");
    assert!(fake.registered_commands().is_none());
    fake.assert_no_violations();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_bodies_are_rejected_like_discord() -> anyhow::Result<()> {
    let fake = FakeDiscord::start().await;
    for http in [fake.proxy_http(TOKEN), fake.default_mode_http(TOKEN)] {
        let channel = serenity::ChannelId::new(CHANNEL_ID);
        let long_title = json!({"embeds": [{"title": "x".repeat(300)}]});
        match http.send_message(channel, vec![], &long_title).await {
            Err(serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(r))) => {
                assert_eq!(r.status_code.as_u16(), 400);
                assert_eq!(r.error.code, 50035);
                assert_eq!(r.error.message, "Invalid Form Body");
                assert_eq!(r.error.errors.len(), 1);
                assert_eq!(r.error.errors[0].path, "embeds.0.title");
                assert_eq!(r.error.errors[0].code, "BASE_TYPE_MAX_LENGTH");
            }
            other => panic!("expected a 400, got {other:?}"),
        }
        let v = fake.take_violations();
        assert_eq!(v.len(), 1, "{v:?}");
        assert!(v[0].contains("embeds.0.title"), "{v:?}");

        match http
            .send_message(channel, vec![], &json!({"content": " "}))
            .await
        {
            Err(serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(r))) => {
                assert_eq!((r.status_code.as_u16(), r.error.code), (400, 50006));
            }
            other => panic!("expected 50006, got {other:?}"),
        }
        assert_eq!(fake.take_violations().len(), 1);

        let ok = http
            .send_message(channel, vec![], &json!({"content": "fine"}))
            .await?;
        assert_eq!(ok.content, "fine");
        fake.assert_no_violations();
    }
    assert_eq!(fake.created_messages().len(), 2);
    Ok(())
}

fn raw_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}

/// With `route_buckets`, a channel takes 5 messages per window, counted down in the headers, and
/// the sixth is answered 429 with scope `user`; another channel has a bucket of its own. (A long
/// window, so that no pause of a loaded machine resets the bucket mid-test.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_buckets_count_down_and_refuse_like_discord() -> anyhow::Result<()> {
    let fake = FakeDiscord::start_with(FakeConfig {
        route_buckets: Some(RouteBuckets {
            channel_messages: (5, Duration::from_secs(600)),
            ..RouteBuckets::default()
        }),
        ..FakeConfig::default()
    })
    .await;
    fake.add_guild_channel(CHANNEL_ID + 1, "second");
    let client = raw_client();
    let post = |channel: u64| {
        client
            .post(format!(
                "{}/api/v10/channels/{channel}/messages",
                fake.proxy_base_url()
            ))
            .header("authorization", format!("Bot {TOKEN}"))
            .header("content-type", "application/json")
            .body(r#"{"content": "hi"}"#)
    };
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap_or("").to_string())
    };
    let mut remaining = Vec::new();
    for _ in 0..5 {
        let r = post(CHANNEL_ID).send().await?;
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(header(&r, "x-ratelimit-limit").as_deref(), Some("5"));
        remaining.push(header(&r, "x-ratelimit-remaining").unwrap_or_default());
    }
    assert_eq!(remaining, ["4", "3", "2", "1", "0"]);
    let r = post(CHANNEL_ID).send().await?;
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(header(&r, "x-ratelimit-scope").as_deref(), Some("user"));
    assert_eq!(header(&r, "x-ratelimit-remaining").as_deref(), Some("0"));
    let body: Value = serde_json::from_slice(&r.bytes().await?)?;
    assert_eq!(body["global"], false);
    assert!(body["retry_after"]
        .as_f64()
        .is_some_and(|s| s > 0.0 && s <= 600.0));
    let r = post(CHANNEL_ID + 1).send().await?;
    assert_eq!(r.status().as_u16(), 200, "a bucket per channel");
    assert_eq!(header(&r, "x-ratelimit-remaining").as_deref(), Some("4"));
    let violations = fake.take_violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert!(violations[0].contains("route rate limit"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_faults_look_like_discord() -> anyhow::Result<()> {
    let fake = FakeDiscord::start().await;
    let client = raw_client();
    let url = format!(
        "{}/api/v10/channels/{CHANNEL_ID}/messages",
        fake.proxy_base_url()
    );
    let post = || {
        client
            .post(&url)
            .header("authorization", format!("Bot {TOKEN}"))
            .header("content-type", "application/json")
            .body(r#"{"content": "hi"}"#)
    };
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap_or("").to_string())
    };

    let route = || RouteMatch::new("POST", "/channels/");
    fake.inject(Fault::RateLimit {
        route: route(),
        retry_after_secs: 0.05,
        global: false,
        times: 1,
    });
    let r = post().send().await?;
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(header(&r, "retry-after").as_deref(), Some("1"));
    assert_eq!(header(&r, "x-ratelimit-remaining").as_deref(), Some("0"));
    assert_eq!(header(&r, "x-ratelimit-scope").as_deref(), Some("user"));
    assert_eq!(
        header(&r, "x-ratelimit-reset-after").as_deref(),
        Some("0.050")
    );
    assert!(header(&r, "x-ratelimit-bucket").is_some());
    assert!(header(&r, "x-ratelimit-global").is_none());
    let body: Value = serde_json::from_slice(&r.bytes().await?)?;
    assert_eq!(body["message"], "You are being rate limited.");
    assert_eq!(body["retry_after"], 0.05);
    assert_eq!(body["global"], false);

    fake.inject(Fault::RateLimit {
        route: route(),
        retry_after_secs: 0.05,
        global: true,
        times: 1,
    });
    let r = post().send().await?;
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(header(&r, "x-ratelimit-global").as_deref(), Some("true"));
    assert_eq!(header(&r, "x-ratelimit-scope").as_deref(), Some("global"));
    let body: Value = serde_json::from_slice(&r.bytes().await?)?;
    assert_eq!(body["global"], true);

    for status in [500, 502, 503] {
        fake.inject(Fault::ServerError {
            route: route(),
            status,
            times: 1,
        });
        let r = post().send().await?;
        assert_eq!(r.status().as_u16(), status);
        assert_eq!(header(&r, "content-type").as_deref(), Some("text/html"));
        assert!(r.text().await?.starts_with("<html>"));
    }

    fake.inject(Fault::DropConnection {
        route: route(),
        times: 1,
    });
    assert!(post().send().await.is_err(), "the connection is dropped");

    fake.inject(Fault::Status {
        route: route(),
        status: 403,
        body: discord_error(50001, "Missing Access"),
        times: 1,
    });
    let r = post().send().await?;
    assert_eq!(r.status().as_u16(), 403);

    let r = post().send().await?;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(header(&r, "x-ratelimit-limit").as_deref(), Some("5"));
    let msg: Value = serde_json::from_slice(&r.bytes().await?)?;
    assert_eq!(msg["content"], "hi");

    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 429, 500, 502, 503, 0, 403, 200]);
    fake.assert_no_violations();

    // Unknown routes, wrong methods and a missing token.
    let base = fake.proxy_base_url();
    let r = client
        .get(format!("{base}/api/v10/no/such/route"))
        .header("authorization", format!("Bot {TOKEN}"))
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 404);
    let r = client.put(format!("{base}/api/v10/gateway")).send().await?;
    assert_eq!(r.status().as_u16(), 405);
    assert_eq!(fake.take_violations().len(), 2);
    let r = client
        .get(format!("{base}/api/v10/users/@me"))
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 401);

    // The HTTPS listener answers as discord.com.
    let r = fake
        .default_mode_client()
        .get("https://discord.com/api/v10/gateway")
        .send()
        .await?;
    let gw: Value = serde_json::from_slice(&r.bytes().await?)?;
    assert_eq!(gw["url"], fake.ws_url());
    fake.assert_no_violations();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_are_acknowledged() -> anyhow::Result<()> {
    let fake = FakeDiscord::start_with(FakeConfig {
        heartbeat_interval_ms: 250,
        ..FakeConfig::default()
    })
    .await;
    let _bot = start_bot(fake.proxy_http(TOKEN), Register::Guild).await;
    fake.wait_ready(WAIT).await?;
    fake.wait_heartbeats(4, WAIT).await?;
    // An unacknowledged heartbeat would have made serenity reconnect.
    assert_eq!(fake.connection_count(), 1);
    assert_eq!(fake.identify_count(), 1);
    fake.assert_no_violations();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_first_response_voids_the_interaction() -> anyhow::Result<()> {
    // A zero deadline makes every first response "late" without waiting 3 s.
    let fake = FakeDiscord::start_with(FakeConfig {
        interaction_deadline: Some(Duration::ZERO),
        ..FakeConfig::default()
    })
    .await;
    let mut bot = start_bot(fake.proxy_http(TOKEN), Register::Guild).await;
    fake.wait_ready(WAIT).await?;
    let err = fake
        .run_command(echo_cmd("late"))
        .await
        .expect_err("a late answer is rejected");
    assert!(err.to_string().contains("later than"), "{err}");
    let bot_err = bot.next_error().await;
    assert_eq!(
        (bot_err.status, bot_err.code),
        (Some(404), Some(10062)),
        "{bot_err:?}"
    );
    assert_eq!(fake.take_violations().len(), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_nonces_threads_and_dms() -> anyhow::Result<()> {
    let fake = FakeDiscord::start().await;
    let http = fake.proxy_http(TOKEN);
    let channel = serenity::ChannelId::new(CHANNEL_ID);

    // A file alone is not an empty message (multipart: payload_json + files[0]).
    let with_file = serenity::CreateMessage::new().add_file(serenity::CreateAttachment::bytes(
        b"hello".to_vec(),
        "note.txt",
    ));
    channel.send_message(&http, with_file).await?;
    let post = fake
        .wait_request(|r| r.is("POST", "/channels/"), WAIT)
        .await?;
    assert!(post
        .header("content-type")
        .is_some_and(|c| c.starts_with("multipart/form-data")));
    assert!(post.body.is_some(), "payload_json is recorded as the body");

    // enforce_nonce makes a retried send idempotent.
    let once = || {
        serenity::CreateMessage::new()
            .content("only once")
            .nonce(serenity::Nonce::String("checkin-42".into()))
            .enforce_nonce(true)
    };
    let first = channel.send_message(&http, once()).await?;
    let second = channel.send_message(&http, once()).await?;
    assert_eq!(first.id, second.id);
    assert_eq!(fake.created_messages().len(), 2);

    // Edits and deletes of stored messages.
    let edited = channel
        .edit_message(
            &http,
            first.id,
            serenity::EditMessage::new().content("edited"),
        )
        .await?;
    assert_eq!(edited.content, "edited");
    assert!(edited.edited_timestamp.is_some());

    // Threads: started from a message, then posted in; a 101-character name is refused.
    let thread = channel
        .create_thread_from_message(&http, first.id, serenity::CreateThread::new("Check-in"))
        .await?;
    assert_eq!(thread.parent_id, Some(channel));
    thread.id.say(&http, "in the thread").await?;
    assert_eq!(fake.threads().len(), 1);
    let long = serenity::CreateThread::new("n".repeat(101));
    match channel
        .create_thread_from_message(&http, first.id, long)
        .await
    {
        Err(serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(r))) => {
            assert_eq!(r.error.errors[0].path, "name");
        }
        other => panic!("expected a 400, got {other:?}"),
    }
    assert_eq!(fake.take_violations().len(), 1);

    // DMs: open the channel, send; a user who blocks DMs gets 50007.
    let user = serenity::UserId::new(5001);
    let dm = user.create_dm_channel(&http).await?;
    assert_eq!(dm.id.get(), discord_standin::dm_channel_id(5001));
    dm.id.say(&http, "hello in private").await?;
    fake.block_dms(5002);
    let blocked = serenity::UserId::new(5002).create_dm_channel(&http).await?;
    match blocked.id.say(&http, "hello?").await {
        Err(serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(r))) => {
            assert_eq!((r.status_code.as_u16(), r.error.code), (403, 50007));
        }
        other => panic!("expected 50007, got {other:?}"),
    }
    assert_eq!(fake.dm_users(), [5001, 5002]);
    assert_eq!(fake.messages_in(dm.id.get()).len(), 1);
    assert_eq!(fake.created_messages().len(), 4);
    fake.assert_no_violations();
    Ok(())
}

type RawWs =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect_raw(fake: &FakeDiscord) -> RawWs {
    let url = format!("{}/?v=10&encoding=json", fake.ws_url());
    tokio_tungstenite::connect_async(url)
        .await
        .expect("connect to the fake gateway")
        .0
}

/// The next frame: JSON for text, `{"close": code}` for a close frame.
async fn next_frame(ws: &mut RawWs) -> Value {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a gateway frame in time")
            .expect("stream open")
            .expect("frame");
        match msg {
            Message::Text(t) => return serde_json::from_str(&t).expect("JSON frame"),
            Message::Close(f) => return json!({"close": f.map(|f| u16::from(f.code))}),
            _ => continue,
        }
    }
}

async fn send_frame(ws: &mut RawWs, v: Value) {
    use futures_util::SinkExt;
    ws.send(tokio_tungstenite::tungstenite::Message::Text(v.to_string()))
        .await
        .expect("send frame");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_gateway_and_interaction_protocol() -> anyhow::Result<()> {
    let fake = FakeDiscord::start().await;
    let props = json!({"os": "linux", "browser": "raw", "device": "raw"});

    // A wrong token: close 4004.
    let mut ws = connect_raw(&fake).await;
    assert_eq!(next_frame(&mut ws).await["op"], 10);
    send_frame(
        &mut ws,
        json!({"op": 2, "d": {"token": BAD_TOKEN, "intents": 1, "properties": props}}),
    )
    .await;
    assert_eq!(next_frame(&mut ws).await, json!({"close": 4004}));

    // IDENTIFY, READY, GUILD_CREATE, heartbeat ACK, dispatches with rising `s`.
    let mut ws = connect_raw(&fake).await;
    let hello = next_frame(&mut ws).await;
    assert_eq!(hello["d"]["heartbeat_interval"], 41250);
    send_frame(
        &mut ws,
        json!({"op": 2, "d": {"token": TOKEN, "intents": 1, "properties": props}}),
    )
    .await;
    let ready = next_frame(&mut ws).await;
    assert_eq!(
        (ready["t"].as_str(), ready["s"].as_u64()),
        (Some("READY"), Some(1))
    );
    assert_eq!(ready["d"]["resume_gateway_url"], fake.ws_url());
    let session = ready["d"]["session_id"]
        .as_str()
        .expect("session")
        .to_string();
    let guild = next_frame(&mut ws).await;
    assert_eq!(
        (guild["t"].as_str(), guild["s"].as_u64()),
        (Some("GUILD_CREATE"), Some(2))
    );
    send_frame(&mut ws, json!({"op": 1, "d": 2})).await;
    assert_eq!(next_frame(&mut ws).await, json!({"op": 11}));
    fake.dispatch(
        "TYPING_START",
        json!({"channel_id": "1001", "user_id": "5000", "timestamp": 0}),
    )
    .await;
    assert_eq!(next_frame(&mut ws).await["s"], 3);

    // Disconnect; a dispatch made meanwhile is replayed after RESUME, then RESUMED.
    drop(ws);
    fake.wait_disconnected(WAIT).await?;
    fake.dispatch(
        "TYPING_START",
        json!({"channel_id": "1001", "user_id": "5000", "timestamp": 1}),
    )
    .await;
    let mut ws = connect_raw(&fake).await;
    send_frame(
        &mut ws,
        json!({"op": 6, "d": {"token": TOKEN, "session_id": "nope", "seq": 3}}),
    )
    .await;
    assert_eq!(next_frame(&mut ws).await["op"], 10);
    assert_eq!(next_frame(&mut ws).await, json!({"op": 9, "d": false}));
    send_frame(
        &mut ws,
        json!({"op": 6, "d": {"token": TOKEN, "session_id": session, "seq": 3}}),
    )
    .await;
    let replayed = next_frame(&mut ws).await;
    assert_eq!(
        (replayed["s"].as_u64(), replayed["d"]["timestamp"].as_u64()),
        (Some(4), Some(1))
    );
    let resumed = next_frame(&mut ws).await;
    assert_eq!(
        (resumed["t"].as_str(), resumed["s"].as_u64()),
        (Some("RESUMED"), Some(5))
    );
    fake.wait_resumed_count(1, WAIT).await?;

    // An interaction answered by hand over REST.
    let token = fake
        .send_interaction(fake.command_interaction(&echo_cmd("raw")))
        .await?;
    let create = next_frame(&mut ws).await;
    assert_eq!(create["t"], "INTERACTION_CREATE");
    let id = create["d"]["id"].as_str().expect("id").to_string();
    let base = format!("{}/api/v10", fake.proxy_base_url());
    let client = raw_client();
    let post = |url: String, body: Value| {
        client
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    let callback = format!("{base}/interactions/{id}/{token}/callback");
    let r = post(
        format!("{callback}?with_response=true"),
        json!({"type": 5, "data": {"flags": 64}}),
    )
    .await?;
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = serde_json::from_slice(&r.bytes().await?)?;
    assert_eq!(body["interaction"]["response_message_loading"], true);
    assert_eq!(body["interaction"]["response_message_ephemeral"], true);
    assert_eq!(body["resource"]["type"], 5);

    let webhook = format!("{base}/webhooks/1000/{token}");
    let first = post(webhook.clone(), json!({"content": "later"})).await?;
    let first: Value = serde_json::from_slice(&first.bytes().await?)?;
    assert_eq!(first["content"], "later");
    assert_eq!(first["flags"], 64, "the deferral's ephemeral flag stays");
    let reply = fake.wait_reply(&token, WAIT).await?;
    assert_eq!(
        (reply.callback_type, reply.content().as_deref()),
        (5, Some("later"))
    );
    assert!(reply.ephemeral());

    let again = post(
        callback.clone(),
        json!({"type": 4, "data": {"content": "x"}}),
    )
    .await?;
    assert_eq!(again.status().as_u16(), 400);
    let v = fake.take_violations();
    assert!(v[0].contains("already acknowledged"), "{v:?}");

    let second = post(webhook.clone(), json!({"content": "more"})).await?;
    let second: Value = serde_json::from_slice(&second.bytes().await?)?;
    assert_ne!(second["id"], first["id"]);
    let edited = client
        .patch(format!("{webhook}/messages/@original"))
        .header("content-type", "application/json")
        .body(json!({"content": "edited"}).to_string())
        .send()
        .await?;
    assert_eq!(edited.status().as_u16(), 200);
    let original: Value = serde_json::from_slice(
        &client
            .get(format!("{webhook}/messages/@original"))
            .send()
            .await?
            .bytes()
            .await?,
    )?;
    assert_eq!(original["content"], "edited");
    assert_eq!(fake.followups(&token).len(), 3);

    // A follow-up on an unknown token, and a callback with an invalid body.
    let r = post(
        format!("{base}/webhooks/1000/unknown-token"),
        json!({"content": "x"}),
    )
    .await?;
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(fake.take_violations().len(), 1);
    let token2 = fake
        .send_interaction(fake.command_interaction(&echo_cmd("bad")))
        .await?;
    let id2 = next_frame(&mut ws).await["d"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let r = post(
        format!("{base}/interactions/{id2}/{token2}/callback"),
        json!({"type": 4, "data": {"content": "x".repeat(2001)}}),
    )
    .await?;
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = serde_json::from_slice(&r.bytes().await?)?;
    assert_eq!(
        body["errors"]["data"]["content"]["_errors"][0]["code"],
        "BASE_TYPE_MAX_LENGTH"
    );
    let err = fake.wait_reply(&token2, WAIT).await.expect_err("rejected");
    assert!(err.to_string().contains("data.content"), "{err}");
    assert_eq!(fake.take_violations().len(), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_interaction_token_refuses_followups() -> anyhow::Result<()> {
    // A zero lifetime makes every follow-up come "after 15 minutes".
    let fake = FakeDiscord::start_with(FakeConfig {
        interaction_token_lifetime: Duration::ZERO,
        ..FakeConfig::default()
    })
    .await;
    let mut bot = start_bot(fake.proxy_http(TOKEN), Register::Guild).await;
    fake.wait_ready(WAIT).await?;
    let err = fake
        .run_command(CommandInvocation::guild("slow"))
        .await
        .expect_err("the follow-up is refused");
    assert!(err.to_string().contains("token used after"), "{err}");
    let bot_err = bot.next_error().await;
    assert_eq!(
        (bot_err.status, bot_err.code),
        (Some(401), Some(50027)),
        "{bot_err:?}"
    );
    assert_eq!(fake.take_violations().len(), 1);
    Ok(())
}

// ----- many guilds and sharding -----

/// Guilds on each shard of two, by Discord's `(guild_id >> 22) % num_shards`; [`GUILD_ID`] is
/// on shard 0.
const WARD_ON_SHARD_1: u64 = (1 << 22) | 2001;
const WARD_ON_SHARD_1_CHANNEL: u64 = 1101;
const CLINIC_ON_SHARD_1: u64 = (3 << 22) | 2002;
const CLINIC_ON_SHARD_1_CHANNEL: u64 = 1102;
const THEATRE_ON_SHARD_0: u64 = (2 << 22) | 2003;
const THEATRE_ON_SHARD_0_CHANNEL: u64 = 1103;

/// Adds three guilds to the default one: two of them on shard 1 of 2, one more on shard 0.
fn add_two_shard_world(fake: &FakeDiscord) {
    for (guild, shard) in [
        (GUILD_ID, 0),
        (WARD_ON_SHARD_1, 1),
        (CLINIC_ON_SHARD_1, 1),
        (THEATRE_ON_SHARD_0, 0),
    ] {
        assert_eq!(shard_of_guild(guild, 2), shard, "guild {guild}");
    }
    fake.add_guild(
        WARD_ON_SHARD_1,
        "Ward 9",
        &[(WARD_ON_SHARD_1_CHANNEL, "wellbeing")],
    );
    fake.add_guild(
        CLINIC_ON_SHARD_1,
        "Outpatients",
        &[(CLINIC_ON_SHARD_1_CHANNEL, "staff-room")],
    );
    fake.add_guild(
        THEATRE_ON_SHARD_0,
        "Theatres",
        &[(THEATRE_ON_SHARD_0_CHANNEL, "recovery")],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_bot_recommends_the_configured_shards() -> anyhow::Result<()> {
    let fake = FakeDiscord::start().await;
    let gateway = fake.proxy_http(TOKEN).get_bot_gateway().await?;
    assert_eq!(gateway.shards, 1, "one shard by default");

    let fake = FakeDiscord::start_with(FakeConfig {
        shards: 3,
        ..FakeConfig::default()
    })
    .await;
    for http in [fake.proxy_http(TOKEN), fake.default_mode_http(TOKEN)] {
        let gateway = http.get_bot_gateway().await?;
        assert_eq!(gateway.shards, 3);
        assert_eq!(gateway.url, fake.ws_url());
        assert_eq!(gateway.session_start_limit.max_concurrency, 1);
    }
    fake.assert_no_violations();
    Ok(())
}

/// What a sharded serenity client saw, with the shard that saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seen {
    Ready {
        shard: u32,
        shard_in_ready: Option<[u32; 2]>,
        guilds: Vec<u64>,
    },
    GuildCreate {
        shard: u32,
        guild: u64,
    },
    Interaction {
        shard: u32,
        guild: Option<u64>,
    },
}

/// Records every READY, GUILD_CREATE and interaction with its shard, and answers each
/// interaction with the shard that got it.
struct ShardRecorder(mpsc::UnboundedSender<Seen>);

#[serenity::async_trait]
impl serenity::EventHandler for ShardRecorder {
    async fn ready(&self, ctx: serenity::Context, ready: serenity::Ready) {
        let mut guilds: Vec<u64> = ready.guilds.iter().map(|g| g.id.get()).collect();
        guilds.sort_unstable();
        let _ = self.0.send(Seen::Ready {
            shard: ctx.shard_id.0,
            shard_in_ready: ready.shard.map(|s| [s.id.0, s.total]),
            guilds,
        });
    }

    async fn guild_create(
        &self,
        ctx: serenity::Context,
        guild: serenity::Guild,
        _is_new: Option<bool>,
    ) {
        let _ = self.0.send(Seen::GuildCreate {
            shard: ctx.shard_id.0,
            guild: guild.id.get(),
        });
    }

    async fn interaction_create(&self, ctx: serenity::Context, interaction: serenity::Interaction) {
        let serenity::Interaction::Command(cmd) = interaction else {
            return;
        };
        let _ = self.0.send(Seen::Interaction {
            shard: ctx.shard_id.0,
            guild: cmd.guild_id.map(|g| g.get()),
        });
        let answer = serenity::CreateInteractionResponseMessage::new()
            .content(format!("shard {}", ctx.shard_id.0));
        let _ = cmd
            .create_response(&ctx, serenity::CreateInteractionResponse::Message(answer))
            .await;
    }
}

/// Waits for the next thing the recorder saw.
async fn next_seen(seen: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    tokio::time::timeout(WAIT, seen.recv())
        .await
        .expect("the client saw nothing in time")
        .expect("recorder gone")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autosharded_client_gets_each_shards_guilds_and_interactions() -> anyhow::Result<()> {
    let fake = FakeDiscord::start_with(FakeConfig {
        shards: 2,
        ..FakeConfig::default()
    })
    .await;
    add_two_shard_world(&fake);
    let (tx, mut seen) = mpsc::unbounded_channel();
    let mut client = serenity::ClientBuilder::new_with_http(
        fake.proxy_http(TOKEN),
        serenity::GatewayIntents::GUILDS,
    )
    .event_handler(ShardRecorder(tx))
    .await?;
    let shards = client.shard_manager.clone();
    // start_autosharded boots as many shards as /gateway/bot recommends, 5 s apart.
    let run = tokio::spawn(async move { client.start_autosharded().await });
    fake.wait_shards_ready(&[0, 1], 2, WAIT).await?;
    let mut identified = fake.identified_shards();
    identified.sort_unstable();
    assert_eq!(identified, [[0, 2], [1, 2]]);

    // Each shard's READY lists its own guilds only, and each GUILD_CREATE comes on the shard
    // of its guild.
    let mut readies = Vec::new();
    let mut guild_creates = Vec::new();
    while readies.len() < 2 || guild_creates.len() < 4 {
        match next_seen(&mut seen).await {
            ready @ Seen::Ready { .. } => readies.push(ready),
            Seen::GuildCreate { shard, guild } => guild_creates.push((guild, shard)),
            other => panic!("unexpected {other:?}"),
        }
    }
    readies.sort_by_key(|r| match r {
        Seen::Ready { shard, .. } => *shard,
        _ => u32::MAX,
    });
    let mut shard_0_guilds = vec![GUILD_ID, THEATRE_ON_SHARD_0];
    shard_0_guilds.sort_unstable();
    let mut shard_1_guilds = vec![WARD_ON_SHARD_1, CLINIC_ON_SHARD_1];
    shard_1_guilds.sort_unstable();
    assert_eq!(
        readies,
        [
            Seen::Ready {
                shard: 0,
                shard_in_ready: Some([0, 2]),
                guilds: shard_0_guilds
            },
            Seen::Ready {
                shard: 1,
                shard_in_ready: Some([1, 2]),
                guilds: shard_1_guilds
            },
        ]
    );
    guild_creates.sort_unstable();
    let mut expected: Vec<(u64, u32)> = [
        GUILD_ID,
        WARD_ON_SHARD_1,
        CLINIC_ON_SHARD_1,
        THEATRE_ON_SHARD_0,
    ]
    .iter()
    .map(|g| (*g, shard_of_guild(*g, 2)))
    .collect();
    expected.sort_unstable();
    assert_eq!(guild_creates, expected);

    // Joining a guild: its GUILD_CREATE reaches the shard that holds it.
    const NEW_WARD: u64 = (5 << 22) | 2004;
    assert_eq!(shard_of_guild(NEW_WARD, 2), 1);
    fake.add_guild(NEW_WARD, "Ward 12", &[(1104, "wellbeing")]);
    assert_eq!(
        next_seen(&mut seen).await,
        Seen::GuildCreate {
            shard: 1,
            guild: NEW_WARD
        }
    );

    // An interaction goes to its guild's shard only: a second delivery would be a second
    // callback, which the fake rejects as a violation.
    let reply = fake
        .run_command(
            CommandInvocation::guild("where").in_guild(WARD_ON_SHARD_1, WARD_ON_SHARD_1_CHANNEL),
        )
        .await?;
    assert_eq!(reply.content().as_deref(), Some("shard 1"));
    assert_eq!(fake.messages_in(WARD_ON_SHARD_1_CHANNEL).len(), 1);
    let on_shard_0 = fake.run_command(CommandInvocation::guild("where")).await?;
    assert_eq!(on_shard_0.content().as_deref(), Some("shard 0"));
    let in_dm = fake.run_command(CommandInvocation::dm("where")).await?;
    assert_eq!(
        in_dm.content().as_deref(),
        Some("shard 0"),
        "DMs go to shard 0"
    );
    let mut interactions = Vec::new();
    while interactions.len() < 3 {
        interactions.push(next_seen(&mut seen).await);
    }
    assert_eq!(
        interactions,
        [
            Seen::Interaction {
                shard: 1,
                guild: Some(WARD_ON_SHARD_1)
            },
            Seen::Interaction {
                shard: 0,
                guild: Some(GUILD_ID)
            },
            Seen::Interaction {
                shard: 0,
                guild: None
            },
        ]
    );

    // Disturbing one shard: only that shard resumes; the other keeps its connection.
    let connections = fake.connection_count();
    fake.gateway_close_shard(1, 4000).await;
    fake.wait_resumed(WAIT).await?;
    assert_eq!(fake.resumed_count(), 1);
    assert_eq!(fake.connection_count(), connections + 1);
    assert_eq!(fake.identify_count(), 2, "resumed, not re-identified");
    let again = fake
        .run_command(
            CommandInvocation::guild("where")
                .in_guild(CLINIC_ON_SHARD_1, CLINIC_ON_SHARD_1_CHANNEL),
        )
        .await?;
    assert_eq!(again.content().as_deref(), Some("shard 1"));

    shards.shutdown_all().await;
    run.abort();
    fake.assert_no_violations();
    Ok(())
}

/// Connects a raw client, IDENTIFYs with `shard` and returns it with its READY.
async fn identify_raw(fake: &FakeDiscord, shard: Value) -> (RawWs, Value) {
    let mut ws = connect_raw(fake).await;
    assert_eq!(next_frame(&mut ws).await["op"], 10);
    let props = json!({"os": "linux", "browser": "raw", "device": "raw"});
    send_frame(
        &mut ws,
        json!({"op": 2, "d": {"token": TOKEN, "intents": 1, "properties": props,
                              "shard": shard}}),
    )
    .await;
    let ready = next_frame(&mut ws).await;
    assert_eq!(ready["t"], "READY", "{ready}");
    (ws, ready)
}

/// The ids of the guilds a READY lists, sorted.
fn ready_guilds(ready: &Value) -> Vec<u64> {
    let mut ids: Vec<u64> = ready["d"]["guilds"]
        .as_array()
        .expect("guilds")
        .iter()
        .map(|g| {
            assert_eq!(g["unavailable"], true);
            g["id"].as_str().expect("id").parse().expect("snowflake")
        })
        .collect();
    ids.sort_unstable();
    ids
}

/// The guild ids of the next `n` frames, which must be GUILD_CREATEs, sorted.
async fn guild_creates(ws: &mut RawWs, n: usize) -> Vec<u64> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let frame = next_frame(ws).await;
        assert_eq!(frame["t"], "GUILD_CREATE", "{frame}");
        ids.push(
            frame["d"]["id"]
                .as_str()
                .expect("id")
                .parse()
                .expect("snowflake"),
        );
    }
    ids.sort_unstable();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_sessions_get_only_their_shards_events() -> anyhow::Result<()> {
    let fake = FakeDiscord::start().await;
    add_two_shard_world(&fake);

    // READY lists exactly the shard's guilds, echoes the shard, then one GUILD_CREATE each.
    let (mut ws0, ready0) = identify_raw(&fake, json!([0, 2])).await;
    assert_eq!(ready0["d"]["shard"], json!([0, 2]));
    let mut shard_0_guilds = vec![GUILD_ID, THEATRE_ON_SHARD_0];
    shard_0_guilds.sort_unstable();
    assert_eq!(ready_guilds(&ready0), shard_0_guilds);
    assert_eq!(guild_creates(&mut ws0, 2).await, shard_0_guilds);
    let (mut ws1, ready1) = identify_raw(&fake, json!([1, 2])).await;
    assert_eq!(ready1["d"]["shard"], json!([1, 2]));
    let mut shard_1_guilds = vec![WARD_ON_SHARD_1, CLINIC_ON_SHARD_1];
    shard_1_guilds.sort_unstable();
    assert_eq!(ready_guilds(&ready1), shard_1_guilds);
    assert_eq!(guild_creates(&mut ws1, 2).await, shard_1_guilds);
    fake.wait_shards_ready(&[0, 1], 2, WAIT).await?;

    // An interaction in a shard-1 guild reaches shard 1 only: the next frame shard 0 gets is
    // the DM interaction sent after it, and the next one shard 1 gets is a shard-1 event.
    let in_ward = fake
        .command_interaction(&echo_cmd("ward").in_guild(WARD_ON_SHARD_1, WARD_ON_SHARD_1_CHANNEL));
    assert_eq!(in_ward["channel"]["name"], "wellbeing");
    assert_eq!(in_ward["channel"]["guild_id"], WARD_ON_SHARD_1.to_string());
    fake.send_interaction(in_ward).await?;
    let got = next_frame(&mut ws1).await;
    assert_eq!(got["t"], "INTERACTION_CREATE");
    assert_eq!(got["d"]["guild_id"], WARD_ON_SHARD_1.to_string());
    assert_eq!(got["s"], 4, "each session counts its own seq");
    fake.send_interaction(fake.command_interaction(&CommandInvocation::dm("echo")))
        .await?;
    let got = next_frame(&mut ws0).await;
    assert_eq!(got["t"], "INTERACTION_CREATE");
    assert!(got["d"].get("guild_id").is_none(), "the DM one: {got}");
    // Routing by `id` for GUILD_* events, by the channel's guild without a `guild_id`.
    fake.dispatch(
        "GUILD_DELETE",
        json!({"id": CLINIC_ON_SHARD_1.to_string(), "unavailable": true}),
    )
    .await;
    assert_eq!(next_frame(&mut ws1).await["t"], "GUILD_DELETE");
    fake.dispatch(
        "TYPING_START",
        json!({"channel_id": THEATRE_ON_SHARD_0_CHANNEL.to_string(), "user_id": "5000",
               "timestamp": 0}),
    )
    .await;
    assert_eq!(next_frame(&mut ws0).await["t"], "TYPING_START");

    // A second client on shard 1 gets a session of its own; both receive shard 1's events.
    let (mut ws1b, ready1b) = identify_raw(&fake, json!([1, 2])).await;
    assert_ne!(ready1b["d"]["session_id"], ready1["d"]["session_id"]);
    assert_eq!(guild_creates(&mut ws1b, 2).await, shard_1_guilds);
    let typing_in_ward = json!({"channel_id": WARD_ON_SHARD_1_CHANNEL.to_string(),
        "guild_id": WARD_ON_SHARD_1.to_string(), "user_id": "5000", "timestamp": 1});
    fake.dispatch("TYPING_START", typing_in_ward).await;
    assert_eq!(next_frame(&mut ws1).await["d"]["timestamp"], 1);
    assert_eq!(next_frame(&mut ws1b).await["d"]["timestamp"], 1);
    assert_eq!(fake.identified_shards(), [[0, 2], [1, 2], [1, 2]]);

    // Dropping shard 1's connections leaves shard 0 connected; RESUME finds a session by id
    // and replays only what that session missed.
    fake.gateway_drop_tcp_shard(1).await;
    drop(ws1);
    drop(ws1b);
    assert_eq!(fake.connected_shards(), [[0, 2]]);
    fake.dispatch(
        "TYPING_START",
        json!({"channel_id": WARD_ON_SHARD_1_CHANNEL.to_string(),
               "guild_id": WARD_ON_SHARD_1.to_string(), "user_id": "5000", "timestamp": 2}),
    )
    .await;
    let mut ws1 = connect_raw(&fake).await;
    assert_eq!(next_frame(&mut ws1).await["op"], 10);
    send_frame(
        &mut ws1,
        json!({"op": 6, "d": {"token": TOKEN, "session_id": ready1["d"]["session_id"],
                              "seq": 6}}),
    )
    .await;
    let replayed = next_frame(&mut ws1).await;
    assert_eq!(
        (replayed["s"].as_u64(), replayed["d"]["timestamp"].as_u64()),
        (Some(7), Some(2))
    );
    assert_eq!(next_frame(&mut ws1).await["t"], "RESUMED");
    assert_eq!(fake.connected_shards(), [[0, 2], [1, 2]]);

    // A guild joined now: GUILD_CREATE to the live shard-1 session (and kept for the other).
    const NEW_WARD: u64 = (7 << 22) | 2005;
    fake.add_guild(NEW_WARD, "Ward 14", &[(1105, "wellbeing")]);
    let joined = next_frame(&mut ws1).await;
    assert_eq!(joined["t"], "GUILD_CREATE");
    assert_eq!(joined["d"]["id"], NEW_WARD.to_string());
    assert_eq!(joined["d"]["channels"][0]["id"], "1105");
    assert_eq!(fake.guild_of_channel(1105), Some(NEW_WARD));
    fake.dispatch(
        "TYPING_START",
        json!({"channel_id": CHANNEL_ID.to_string(), "guild_id": GUILD_ID.to_string(),
               "user_id": "5000", "timestamp": 3}),
    )
    .await;
    assert_eq!(
        next_frame(&mut ws0).await["d"]["timestamp"],
        3,
        "shard 0 got no shard-1 event"
    );
    fake.assert_no_violations();
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_shard_closes_with_4010() -> anyhow::Result<()> {
    let fake = FakeDiscord::start().await;
    let props = json!({"os": "linux", "browser": "raw", "device": "raw"});
    for (shard, close) in [
        (json!([2, 2]), 4010),
        (json!([0, 0]), 4010),
        (json!([1]), 4002),
    ] {
        let mut ws = connect_raw(&fake).await;
        assert_eq!(next_frame(&mut ws).await["op"], 10);
        send_frame(
            &mut ws,
            json!({"op": 2, "d": {"token": TOKEN, "intents": 1, "properties": props,
                                  "shard": shard}}),
        )
        .await;
        assert_eq!(
            next_frame(&mut ws).await,
            json!({"close": close}),
            "{shard}"
        );
    }
    assert_eq!(fake.identify_count(), 0);
    let violations = fake.take_violations();
    assert_eq!(violations.len(), 3, "{violations:?}");
    assert!(
        violations[0].contains("invalid shard [2, 2]"),
        "{violations:?}"
    );

    // serenity's IDENTIFY for a shard beyond the count is refused too (serenity then keeps
    // retrying the shard, 5 s apart).
    let mut client = serenity::ClientBuilder::new_with_http(
        fake.proxy_http(TOKEN),
        serenity::GatewayIntents::GUILDS,
    )
    .await?;
    let run = tokio::spawn(async move { client.start_shard(3, 2).await });
    fake.wait_gateway_frame(|f| f["op"] == 2 && f["d"]["shard"] == json!([3, 2]), WAIT)
        .await?;
    run.abort();
    let violations = fake.take_violations();
    assert!(
        !violations.is_empty()
            && violations
                .iter()
                .all(|v| v.contains("invalid shard [3, 2]")),
        "{violations:?}"
    );
    assert_eq!(fake.identify_count(), 0);
    assert!(fake.connected_shards().is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_finds_channels_in_every_guild() -> anyhow::Result<()> {
    let fake = FakeDiscord::start().await;
    add_two_shard_world(&fake);
    fake.add_channel_to_guild(WARD_ON_SHARD_1, 1106, "night-shift");
    let http = fake.proxy_http(TOKEN);
    let ward = serenity::GuildId::new(WARD_ON_SHARD_1);
    let channel = serenity::ChannelId::new(WARD_ON_SHARD_1_CHANNEL);

    let found = channel
        .to_channel(&http)
        .await?
        .guild()
        .expect("a guild channel");
    assert_eq!((found.guild_id, found.name.as_str()), (ward, "wellbeing"));
    let listed = ward.channels(&http).await?;
    assert_eq!(listed.len(), 2);
    assert!(listed.values().all(|c| c.guild_id == ward));
    assert_eq!(http.get_guild(ward).await?.name, "Ward 9");
    let member = ward.member(&http, serenity::UserId::new(5000)).await?;
    assert_eq!(member.guild_id, ward);
    assert_eq!(fake.guild_of_channel(1106), Some(WARD_ON_SHARD_1));
    assert_eq!(
        fake.guild_ids(),
        [
            GUILD_ID,
            WARD_ON_SHARD_1,
            CLINIC_ON_SHARD_1,
            THEATRE_ON_SHARD_0
        ]
    );

    // Posts and threads there; a thread belongs to its parent's guild.
    let posted = channel.say(&http, "in another ward").await?;
    assert_eq!(fake.messages_in(WARD_ON_SHARD_1_CHANNEL).len(), 1);
    let thread = channel
        .create_thread_from_message(&http, posted.id, serenity::CreateThread::new("Check-in"))
        .await?;
    assert_eq!(thread.guild_id, ward);

    // Guild commands register in any guild the bot is in, not in others.
    let ward_commands = format!(
        "{}/api/v10/applications/1000/guilds/{WARD_ON_SHARD_1}/commands",
        fake.proxy_base_url()
    );
    let client = raw_client();
    let put = |url: String| {
        client
            .put(url)
            .header("authorization", format!("Bot {TOKEN}"))
            .header("content-type", "application/json")
            .body(json!([{"name": "where", "description": "Which shard"}]).to_string())
            .send()
    };
    assert_eq!(put(ward_commands).await?.status().as_u16(), 200);
    let elsewhere = format!(
        "{}/api/v10/applications/1000/guilds/999/commands",
        fake.proxy_base_url()
    );
    assert_eq!(put(elsewhere).await?.status().as_u16(), 403);

    // Unknown guilds and deleted channels answer as Discord does.
    match http.get_guild(serenity::GuildId::new(999)).await {
        Err(serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(r))) => {
            assert_eq!((r.status_code.as_u16(), r.error.code), (404, 10004));
        }
        other => panic!("expected Unknown Guild, got {other:?}"),
    }
    fake.delete_channel(WARD_ON_SHARD_1_CHANNEL);
    match channel.say(&http, "gone").await {
        Err(serenity::Error::Http(serenity::HttpError::UnsuccessfulRequest(r))) => {
            assert_eq!((r.status_code.as_u16(), r.error.code), (404, 10003));
        }
        other => panic!("expected Unknown Channel, got {other:?}"),
    }
    assert_eq!(ward.channels(&http).await?.len(), 1);
    fake.assert_no_violations();
    Ok(())
}

/// A dropped connection gets not one byte of an answer (not even a status line), and the next
/// connection is answered; a request to the gateway that is not a websocket handshake is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_gets_no_answer_at_all() -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let fake = FakeDiscord::start().await;
    fake.inject(Fault::DropConnection {
        route: RouteMatch::new("GET", "/gateway"),
        times: 1,
    });
    let base = fake.proxy_base_url();
    let mut tcp = tokio::net::TcpStream::connect(base.trim_start_matches("http://")).await?;
    tcp.write_all(
        format!("GET /api/v10/gateway HTTP/1.1\r\nhost: discord.com\r\nauthorization: Bot {TOKEN}\r\n\r\n")
            .as_bytes(),
    )
    .await?;
    let mut answer = Vec::new();
    // The connection ends with a close or a reset; either way, nothing was written.
    let _ = tokio::time::timeout(WAIT, tcp.read_to_end(&mut answer))
        .await
        .expect("the stand-in closes the connection");
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
    assert_eq!(fake.requests().last().map(|r| r.status), Some(0));

    let client = raw_client();
    let r = client.get(format!("{base}/api/v10/gateway")).send().await?;
    assert_eq!(r.status().as_u16(), 200);

    let gateway = fake.ws_url().replace("ws://", "http://");
    let r = client
        .get(format!("{gateway}/?v=10&encoding=json"))
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(fake.connection_count(), 0);
    fake.assert_no_violations();
    Ok(())
}
