//! careprompt on Discord: start-up, command registration, the one error handler, and a clean
//! shutdown that answers every command already received.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use poise::serenity_prelude as serenity;
use tokio::sync::watch;

use crate::cards::{self, Card};
use crate::clock::{Clock, SystemClock};
use crate::commands;
use crate::config::{Config, Token};
use crate::content::Library;
use crate::discord::{Rest, RestError, RetryPolicy};
use crate::error::{ReplyFailed, UserError, GENERIC_FAILURE};
use crate::store::{redact_url, Store};

pub use crate::error::Error;

pub type AppContext<'a> = poise::ApplicationContext<'a, Data, Error>;

/// What the bot needs to read or post anything: a channel post needs View Channel, Send Messages
/// and Embed Links; slash command replies need no permission at all.
/// How long shutdown waits for the gateway connection to close once commands are finished.
const SHARD_CLOSE_WAIT: Duration = Duration::from_secs(5);

pub const INVITE_PERMISSIONS: u64 = (1 << 10) | (1 << 11) | (1 << 14);

/// Shared state for every command.
pub struct Data {
    pub library: Arc<Library>,
    pub config: Arc<Config>,
    pub rest: Rest,
    pub clock: Arc<dyn Clock>,
    pub store: Store,
}

impl Data {
    /// Answers the command with a card; `ephemeral` replies are seen only by the person who asked.
    pub async fn reply(
        &self,
        ctx: &AppContext<'_>,
        card: Card,
        ephemeral: bool,
    ) -> Result<(), Error> {
        self.rest
            .respond(ctx.interaction.id, &ctx.interaction.token, card, ephemeral)
            .await
            .map_err(ReplyFailed)?;
        Ok(())
    }
}

/// Knobs that production leaves at their defaults and tests turn.
#[derive(Clone)]
pub struct BotOptions {
    /// Replaces serenity's HTTP client when no proxy is configured; tests use it to reach a fake
    /// Discord that poses as discord.com.
    pub http_client: Option<reqwest::Client>,
    pub retry: RetryPolicy,
    pub clock: Arc<dyn Clock>,
    /// How long shutdown waits for commands already received before closing the connection.
    pub shutdown_grace: Duration,
}

impl Default for BotOptions {
    fn default() -> Self {
        BotOptions {
            http_client: None,
            retry: RetryPolicy::default(),
            clock: Arc::new(SystemClock),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Counts commands in flight and closes the door to new ones at shutdown.
#[derive(Debug)]
pub struct Gate {
    accepting: AtomicBool,
    in_flight: watch::Sender<usize>,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            accepting: AtomicBool::new(true),
            in_flight: watch::channel(0).0,
        }
    }
}

#[derive(Debug)]
pub struct Pass<'a>(&'a Gate);

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        self.0
            .in_flight
            .send_modify(|count| *count = count.saturating_sub(1));
    }
}

impl Gate {
    /// Counts an interaction in. `Err` means shutdown has begun; the pass is still held so that
    /// telling the person to try again also finishes before the process exits.
    pub fn enter(&self) -> Result<Pass<'_>, Pass<'_>> {
        // Counting first and checking after means a command is never missed by `drain`.
        self.in_flight.send_modify(|count| *count += 1);
        let pass = Pass(self);
        if self.accepting.load(Ordering::SeqCst) {
            Ok(pass)
        } else {
            Err(pass)
        }
    }

    /// Stops taking new commands and waits up to `grace` for the ones in flight.
    pub async fn drain(&self, grace: Duration) -> bool {
        self.accepting.store(false, Ordering::SeqCst);
        let mut receiver = self.in_flight.subscribe();
        let drained = tokio::time::timeout(grace, receiver.wait_for(|count| *count == 0)).await;
        drained.is_ok()
    }
}

/// Wraps poise so each interaction is counted while it runs, and refused once shutdown starts.
struct GatedFramework {
    inner: poise::Framework<Data, Error>,
    gate: Arc<Gate>,
    proxy_client: Option<reqwest::Client>,
    retry: RetryPolicy,
}

#[serenity::async_trait]
impl serenity::Framework for GatedFramework {
    async fn init(&mut self, client: &serenity::Client) {
        self.inner.init(client).await;
    }

    async fn dispatch(&self, ctx: serenity::Context, event: serenity::FullEvent) {
        let serenity::FullEvent::InteractionCreate { interaction } = &event else {
            self.inner.dispatch(ctx, event).await;
            return;
        };
        match self.gate.enter() {
            Ok(_pass) => self.inner.dispatch(ctx, event).await,
            Err(_pass) => {
                if let serenity::Interaction::Command(command) = interaction {
                    let rest = Rest::new(ctx.http.clone(), self.proxy_client.clone(), self.retry);
                    let card = cards::error_card(&UserError::ShuttingDown.to_string());
                    if let Err(err) = rest.respond(command.id, &command.token, card, true).await {
                        tracing::warn!(error = %err, "could not tell someone careprompt is restarting");
                    }
                }
            }
        }
    }
}

/// The command list as Discord receives it, with each `theme` option offering the library's
/// themes as choices.
pub fn registration_payload(library: &Library) -> Vec<serde_json::Value> {
    let commands = commands::all();
    let choices: Vec<serde_json::Value> = library
        .themes
        .iter()
        .map(|theme| serde_json::json!({"name": theme.title, "value": theme.slug}))
        .collect();
    poise::builtins::create_application_commands(&commands)
        .iter()
        .filter_map(|command| serde_json::to_value(command).ok())
        .map(|mut command| {
            if let Some(options) = command
                .get_mut("options")
                .and_then(serde_json::Value::as_array_mut)
            {
                for option in options {
                    if option.get("name").and_then(serde_json::Value::as_str) == Some("theme") {
                        option["choices"] = serde_json::Value::Array(choices.clone());
                    }
                }
            }
            command
        })
        .collect()
}

/// Registers the commands, retrying within the policy; a registration that never succeeds ends
/// the process, since a bot that cannot register answers nothing.
async fn register(
    rest: &Rest,
    application_id: serenity::ApplicationId,
    config: &Config,
    payload: &[serde_json::Value],
) -> anyhow::Result<()> {
    if config.discord.dev_guild_ids.is_empty() {
        rest.register_commands(application_id, None, payload)
            .await
            .context("registering slash commands globally failed")?;
        tracing::info!(
            commands = payload.len(),
            "registered slash commands globally (they can take up to an hour to appear)"
        );
    } else {
        for guild in &config.discord.dev_guild_ids {
            rest.register_commands(
                application_id,
                Some(serenity::GuildId::new(*guild)),
                payload,
            )
            .await
            .with_context(|| format!("registering slash commands in guild {guild} failed"))?;
        }
        tracing::info!(
            commands = payload.len(),
            guilds = config.discord.dev_guild_ids.len(),
            "registered slash commands in the development guilds"
        );
    }
    Ok(())
}

pub fn invite_url(application_id: serenity::ApplicationId) -> String {
    format!(
        "https://discord.com/oauth2/authorize?client_id={application_id}&scope=bot%20applications.commands&permissions={INVITE_PERMISSIONS}"
    )
}

/// A stalled connection must not hold a command (and so shutdown) forever; these bounds turn it
/// into an error that `Rest` retries.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

fn http_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .context("building the HTTP client")
}

fn build_http(
    config: &Config,
    token: &Token,
    options: &BotOptions,
) -> anyhow::Result<(serenity::Http, Option<reqwest::Client>)> {
    match &config.discord.proxy_url {
        Some(url) => {
            let client = http_client()?;
            // serenity ignores a proxy unless its own rate limiter is off; `Rest` honours 429s instead.
            let http = serenity::HttpBuilder::new(token.expose())
                .client(client.clone())
                .proxy(url.trim_end_matches('/'))
                .ratelimiter_disabled(true)
                .build();
            Ok((http, Some(client)))
        }
        None => {
            let client = match &options.http_client {
                Some(client) => client.clone(),
                None => http_client()?,
            };
            Ok((
                serenity::HttpBuilder::new(token.expose())
                    .client(client)
                    .build(),
                None,
            ))
        }
    }
}

fn explain_start_error(err: RestError) -> anyhow::Error {
    match err.status() {
        Some(401) => anyhow::anyhow!(
            "Discord rejected the bot token (401 Unauthorized): check DISCORD_TOKEN"
        ),
        _ => {
            anyhow::Error::new(err).context("could not read the application's details from Discord")
        }
    }
}

/// Runs the bot until `shutdown` completes, then finishes the commands in flight and disconnects.
pub async fn run(
    config: Config,
    library: Library,
    token: Token,
    options: BotOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store = Store::connect(&config.database.url, config.database.max_connections)
        .await
        .with_context(|| format!("opening the database {}", redact_url(&config.database.url)))?;
    tracing::info!(backend = store.backend(), "database ready");
    let (http, proxy_client) = build_http(&config, &token, &options)?;
    let config = Arc::new(config);
    let library = Arc::new(library);
    let gate = Arc::new(Gate::default());

    let setup_state = (
        library.clone(),
        config.clone(),
        proxy_client.clone(),
        options.retry,
        options.clock.clone(),
        store.clone(),
    );
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: commands::all(),
            on_error: |error| Box::pin(on_error(error)),
            ..Default::default()
        })
        .initialize_owners(false)
        .setup(move |ctx, ready, _framework| {
            let (library, config, proxy_client, retry, clock, store) = setup_state;
            Box::pin(async move {
                tracing::info!(
                    shard = ctx.shard_id.0,
                    guilds = ready.guilds.len(),
                    "connected to Discord"
                );
                Ok(Data {
                    library,
                    config,
                    rest: Rest::new(ctx.http.clone(), proxy_client, retry),
                    clock,
                    store,
                })
            })
        })
        .build();
    let gated = GatedFramework {
        inner: framework,
        gate: gate.clone(),
        proxy_client: proxy_client.clone(),
        retry: options.retry,
    };

    let mut client = serenity::ClientBuilder::new_with_http(http, serenity::GatewayIntents::GUILDS)
        .framework(gated)
        .await
        .context("building the Discord client")?;

    let rest = Rest::new(client.http.clone(), proxy_client, options.retry);
    let application = rest.application_info().await.map_err(explain_start_error)?;
    client.http.set_application_id(application.id);
    register(
        &rest,
        application.id,
        &config,
        &registration_payload(&library),
    )
    .await?;
    tracing::info!(invite = %invite_url(application.id), "invite careprompt to a server with this link");

    let shard_manager = client.shard_manager.clone();
    let grace = options.shutdown_grace;
    let mut start = std::pin::pin!(client.start());
    let mut shutdown = std::pin::pin!(shutdown);
    let result = tokio::select! {
        result = &mut start => result,
        () = &mut shutdown => {
            tracing::info!("shutting down: finishing the commands already received");
            if !gate.drain(grace).await {
                tracing::warn!(grace_secs = grace.as_secs(), "some commands were still running when the grace period ended");
            }
            shard_manager.shutdown_all().await;
            // With no shard connected yet (Discord unreachable, or a shard restarting) serenity's
            // shutdown does not end `start`, so the wait for it is bounded.
            match tokio::time::timeout(SHARD_CLOSE_WAIT, &mut start).await {
                Ok(result) => result,
                Err(_) => {
                    tracing::warn!("the gateway connection did not close in time; exiting anyway");
                    Ok(())
                }
            }
        }
    };
    // Interactions that arrived while the shards were closing are answered before exit too.
    if !gate.drain(grace).await {
        tracing::warn!("some commands were still running when careprompt stopped");
    }
    store.close().await;
    match result {
        Ok(()) => {
            tracing::info!("disconnected from Discord; goodbye");
            Ok(())
        }
        Err(serenity::Error::Gateway(serenity::GatewayError::InvalidAuthentication)) => {
            Err(anyhow::anyhow!(
                "Discord's gateway rejected the bot token (close code 4004): check DISCORD_TOKEN"
            ))
        }
        Err(err) => {
            Err(anyhow::Error::new(err).context("the connection to Discord's gateway failed"))
        }
    }
}

/// The one place command failures are turned into a private message and a log line. Log lines
/// name the command and the kind of failure, never what anyone typed.
async fn on_error(error: poise::FrameworkError<'_, Data, Error>) {
    use poise::FrameworkError as E;
    let (ctx, message) = match error {
        E::Command { error, ctx, .. } => {
            let command = ctx.command().qualified_name.clone();
            if let Some(failed) = error.downcast_ref::<ReplyFailed>() {
                // The token cannot take another answer either; trying would only delay shutdown.
                tracing::error!(command = %command, error = %failed, "command failed");
                return;
            }
            match error.downcast_ref::<UserError>() {
                Some(user_error) => {
                    tracing::info!(command = %command, kind = user_error.kind(), "command refused");
                    (ctx, user_error.to_string())
                }
                None => {
                    tracing::error!(command = %command, error = %error, "command failed");
                    (ctx, GENERIC_FAILURE.to_string())
                }
            }
        }
        E::ArgumentParse { ctx, error, .. } => {
            tracing::info!(command = %ctx.command().qualified_name, "command had bad options");
            let reason =
                if error.is::<poise::TooManyArguments>() || error.is::<poise::TooFewArguments>() {
                    "an option was missing or extra".to_string()
                } else {
                    "an option had a value I could not use".to_string()
                };
            (ctx, UserError::BadInput(reason).to_string())
        }
        E::GuildOnly { ctx, .. } => (ctx, UserError::GuildOnly.to_string()),
        E::DmOnly { ctx, .. } => (ctx, UserError::DmOnly.to_string()),
        E::MissingUserPermissions {
            missing_permissions,
            ctx,
            ..
        } => {
            let needed = missing_permissions.map_or_else(
                || "right".to_string(),
                |permissions| permissions.to_string(),
            );
            (ctx, UserError::MissingPermission(needed).to_string())
        }
        E::MissingBotPermissions {
            missing_permissions,
            ctx,
            ..
        } => {
            tracing::warn!(command = %ctx.command().qualified_name, missing = %missing_permissions, "careprompt lacks a permission here");
            let text = format!(
                "I need the {missing_permissions} permission in this channel to do that. Please ask a server admin."
            );
            (ctx, text)
        }
        E::SubcommandRequired { ctx, .. } => (
            ctx,
            UserError::BadInput("that command needs a subcommand".to_string()).to_string(),
        ),
        E::CommandCheckFailed {
            error: Some(error),
            ctx,
            ..
        } => match error.downcast_ref::<UserError>() {
            Some(user_error) => (ctx, user_error.to_string()),
            None => {
                tracing::error!(command = %ctx.command().qualified_name, error = %error, "command check failed");
                (ctx, GENERIC_FAILURE.to_string())
            }
        },
        E::CommandCheckFailed { ctx, .. }
        | E::CooldownHit { ctx, .. }
        | E::NotAnOwner { ctx, .. }
        | E::NsfwOnly { ctx, .. }
        | E::PermissionFetchFailed { ctx, .. } => {
            tracing::info!(command = %ctx.command().qualified_name, "command not allowed here");
            (ctx, GENERIC_FAILURE.to_string())
        }
        E::CommandPanic { ctx, .. } => {
            tracing::error!(command = %ctx.command().qualified_name, "command panicked");
            (ctx, GENERIC_FAILURE.to_string())
        }
        E::CommandStructureMismatch {
            ctx, description, ..
        } => {
            tracing::warn!(command = %ctx.command().qualified_name, description, "a command arrived with options that do not match its definition");
            let reason = "its options did not match the command; if Discord shows an old version, reopen the app and try again";
            (
                poise::Context::Application(ctx),
                UserError::BadInput(reason.to_string()).to_string(),
            )
        }
        E::UnknownInteraction {
            interaction,
            framework,
            ..
        } => {
            tracing::warn!(command = %interaction.data.name, "received a command careprompt does not have");
            let rest = &framework.user_data().await.rest;
            let card =
                cards::error_card("I don't have that command any more. /help lists what I can do.");
            if let Err(err) = rest
                .respond(interaction.id, &interaction.token, card, true)
                .await
            {
                tracing::warn!(error = %err, "could not answer an unknown command");
            }
            return;
        }
        E::Setup { error, .. } => {
            tracing::error!(error = %error, "setting up the bot failed");
            return;
        }
        E::EventHandler { error, .. } => {
            tracing::error!(error = %error, "an event handler failed");
            return;
        }
        other => {
            let _ = other;
            tracing::warn!("a framework event careprompt does not use went unhandled");
            return;
        }
    };
    let poise::Context::Application(app) = ctx else {
        return;
    };
    let card = cards::error_card(&message);
    if let Err(err) = app
        .data()
        .rest
        .respond(app.interaction.id, &app.interaction.token, card, true)
        .await
    {
        tracing::warn!(command = %app.command().qualified_name, error = %err, "could not send an error reply");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Library {
        Library::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts"))
            .expect("shipped content")
    }

    #[test]
    fn registration_offers_every_theme_as_a_choice() {
        let library = shipped();
        let payload = registration_payload(&library);
        let names: Vec<&str> = payload
            .iter()
            .filter_map(|command| command["name"].as_str())
            .collect();
        for expected in [
            "themes", "pack", "prompt", "story", "support", "help", "about", "upcoming",
        ] {
            assert!(
                names.contains(&expected),
                "{expected} missing from {names:?}"
            );
        }
        let pack = payload
            .iter()
            .find(|command| command["name"] == "pack")
            .expect("pack");
        let theme = &pack["options"][0];
        assert_eq!(theme["name"], "theme");
        assert_eq!(theme["type"], 3);
        assert_eq!(theme["required"], true);
        let choices = theme["choices"].as_array().expect("choices");
        assert_eq!(choices.len(), 7);
        assert_eq!(choices[1]["value"], "compassion");
        for command in &payload {
            let description = command["description"].as_str().expect("description");
            assert!(
                (1..=100).contains(&description.chars().count()),
                "{description}"
            );
        }
        let upcoming = payload
            .iter()
            .find(|command| command["name"] == "upcoming")
            .expect("upcoming");
        assert_eq!(upcoming["default_member_permissions"], "16");
    }

    #[test]
    fn invite_asks_for_exactly_view_send_and_embed() {
        let url = invite_url(serenity::ApplicationId::new(42));
        assert!(
            url.contains("client_id=42") && url.contains("permissions=19456"),
            "{url}"
        );
        assert!(url.contains("applications.commands"));
    }

    #[tokio::test]
    async fn gate_waits_for_commands_in_flight_and_refuses_new_ones() {
        let gate = Arc::new(Gate::default());
        let pass = gate.enter().expect("open before shutdown");
        let draining = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.drain(Duration::from_secs(30)).await })
        };
        tokio::task::yield_now().await;
        assert!(!draining.is_finished());
        drop(pass);
        assert!(
            draining.await.expect("join"),
            "drain completes once the command is done"
        );
        assert!(gate.enter().is_err(), "closed after shutdown began");
    }

    #[tokio::test]
    async fn gate_gives_up_after_the_grace_period() {
        let gate = Gate::default();
        let _stuck = gate.enter();
        assert!(!gate.drain(Duration::from_millis(1)).await);
    }
}
