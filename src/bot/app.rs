//! Start-up and a clean shutdown that answers every command already received.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use poise::serenity_prelude as serenity;
use tokio_util::sync::CancellationToken;

use crate::bot::commands;
use crate::bot::data::{Data, Error};
use crate::bot::events;
use crate::bot::gate::Gate;
use crate::bot::on_error::on_error;
use crate::bot::ops;
use crate::bot::registration::{invite_url, register, registration_payload};
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Token};
use crate::discord::cards;
use crate::discord::rest::{GLOBAL_REQUESTS_PER_SECOND, SHARED_REQUESTS_PER_SECOND};
use crate::discord::{Rest, RestError, RetryPolicy};
use crate::domain::content::Library;
use crate::domain::shards::ShardRange;
use crate::error::UserError;
use crate::scheduler::{Scheduler, SchedulerOptions};
use crate::store::{redact_url, Store};

/// How long shutdown waits for the gateway connection to close once commands are finished.
const SHARD_CLOSE_WAIT: Duration = Duration::from_secs(5);

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
    /// The scheduler's tuning; its catch-up window, holidays, shards and takeover time come from
    /// the configuration and `shards`.
    pub scheduler: SchedulerOptions,
    /// The gateway shards this process runs (`--shards`); `None` runs every shard Discord
    /// recommends.
    pub shards: Option<ShardRange>,
}

impl Default for BotOptions {
    fn default() -> Self {
        BotOptions {
            http_client: None,
            retry: RetryPolicy::default(),
            clock: Arc::new(SystemClock),
            shutdown_grace: Duration::from_secs(10),
            scheduler: SchedulerOptions::default(),
            shards: None,
        }
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
        let command = match interaction {
            serenity::Interaction::Command(command) => command.data.name.clone(),
            serenity::Interaction::Component(_) => "button".to_string(),
            serenity::Interaction::Autocomplete(_) => "autocomplete".to_string(),
            _ => "other".to_string(),
        };
        match self.gate.enter() {
            Ok(_pass) => {
                let started = std::time::Instant::now();
                self.inner.dispatch(ctx, event).await;
                metrics::counter!("careprompt_interactions_total", "command" => command.clone())
                    .increment(1);
                metrics::histogram!("careprompt_interaction_seconds", "command" => command)
                    .record(started.elapsed().as_secs_f64());
            }
            Err(_pass) => {
                let answerable = match interaction {
                    serenity::Interaction::Command(command) => Some((command.id, &command.token)),
                    serenity::Interaction::Component(component) => {
                        Some((component.id, &component.token))
                    }
                    _ => None,
                };
                if let Some((id, token)) = answerable {
                    let rest = Rest::new(ctx.http.clone(), self.proxy_client.clone(), self.retry);
                    let card = cards::text_card(&UserError::ShuttingDown.to_string());
                    if let Err(err) = rest.respond(id, token, card, true).await {
                        tracing::warn!(error = %err, "could not tell someone careprompt is restarting");
                    }
                }
            }
        }
    }
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

    let defaults = config
        .schedule
        .settings()
        .context("the [schedule] settings are not valid")?;
    let catch_up = config
        .schedule
        .catch_up_window()
        .map_err(anyhow::Error::msg)
        .context("schedule.catch_up is not valid")?;
    let retention = config
        .privacy
        .retention_period()
        .map_err(anyhow::Error::msg)
        .context("privacy.retention is not valid")?;
    let takeover_after = config
        .processes
        .takeover_period()
        .map_err(anyhow::Error::msg)
        .context("processes.takeover_after is not valid")?;

    // The REST client and the scheduler exist only once the client does, which is after the
    // framework is built; the framework's setup runs later still, on the first READY.
    let shared: Arc<OnceLock<(Rest, Arc<Scheduler>)>> = Arc::new(OnceLock::new());
    let shards = Arc::new(ops::Shards::default());
    let stop_ops = CancellationToken::new();
    if let Some(address) = config.metrics.address().map_err(anyhow::Error::msg)? {
        // Bound before connecting, so a taken port stops careprompt at once with a clear reason.
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("listening for metrics on {address}"))?;
        match ops::recorder() {
            Some(handle) => {
                tracing::info!(address = %address, "serving /metrics, /healthz and /readyz");
                tokio::spawn(ops::serve(
                    listener,
                    handle,
                    shards.clone(),
                    store.clone(),
                    stop_ops.clone(),
                ));
            }
            None => tracing::warn!("metrics could not be recorded; the listener is off"),
        }
    }
    let setup_state = (
        library.clone(),
        config.clone(),
        options.clock.clone(),
        store.clone(),
        defaults,
        shared.clone(),
        shards.clone(),
    );
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: commands::all(),
            on_error: |error| Box::pin(on_error(error)),
            event_handler: |framework, event| Box::pin(events::handle(framework, event)),
            ..Default::default()
        })
        .initialize_owners(false)
        .setup(move |ctx, ready, _framework| {
            let (library, config, clock, store, defaults, shared, shards) = setup_state;
            Box::pin(async move {
                tracing::info!(
                    shard = ctx.shard_id.0,
                    guilds = ready.guilds.len(),
                    "connected to Discord"
                );
                let (rest, scheduler) = shared
                    .get()
                    .cloned()
                    .ok_or_else(|| anyhow::anyhow!("the scheduler was not started"))?;
                Ok(Data {
                    library,
                    config,
                    rest,
                    clock,
                    store,
                    defaults,
                    scheduler,
                    shards,
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

    // A process given a range looks after that range's servers, and takes that share of the
    // global rate limit; one process alone runs every shard Discord recommends and owns them all.
    let (gateway, owned) = match options.shards {
        Some(range) => (range, range),
        None => {
            rest.wait_turn().await;
            let recommended = client
                .http
                .get_bot_gateway()
                .await
                .context("asking Discord how many gateway shards to run")?
                .shards;
            let every = ShardRange::new(0, recommended.max(1) - 1, recommended.max(1))
                .map_err(anyhow::Error::msg)?;
            (every, ShardRange::ALL)
        }
    };
    shards.set_expected(usize::try_from(gateway.count()).unwrap_or(usize::MAX));
    let per_second = if owned.is_all() {
        GLOBAL_REQUESTS_PER_SECOND
    } else {
        owned.share_of(SHARED_REQUESTS_PER_SECOND)
    };
    let rest = rest.paced_at(per_second);
    tracing::info!(shards = %gateway, total = gateway.total(), "running gateway shards");

    let scheduler = Arc::new(Scheduler::new(
        store.clone(),
        rest.clone(),
        library.clone(),
        options.clock.clone(),
        SchedulerOptions {
            catch_up,
            extra_holidays: config.schedule.extra_holidays.clone(),
            shards: owned,
            takeover_after,
            ..options.scheduler.clone()
        },
    ));
    let _ = shared.set((rest, scheduler.clone()));
    // Started once here, not on READY: posts go out even while the gateway reconnects.
    let stop_scheduler = CancellationToken::new();
    let worker = tokio::spawn(scheduler.run(stop_scheduler.clone()));
    let purger = tokio::spawn(purge_departed_guilds(
        store.clone(),
        options.clock.clone(),
        retention,
        stop_scheduler.clone(),
    ));

    let shard_manager = client.shard_manager.clone();
    let grace = options.shutdown_grace;
    // serenity counts the end of this range as included.
    let mut start =
        std::pin::pin!(client.start_shard_range(gateway.first()..gateway.last(), gateway.total()));
    let mut shutdown = std::pin::pin!(shutdown);
    let result = tokio::select! {
        result = &mut start => result,
        () = &mut shutdown => {
            tracing::info!("shutting down: finishing the commands already received and the posts being sent");
            stop_scheduler.cancel();
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
    stop_scheduler.cancel();
    match tokio::time::timeout(grace, worker).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => tracing::error!(error = %err, "the scheduler stopped with a fault"),
        Err(_) => tracing::warn!("posts were still being sent when the grace period ended; they are finished at the next start"),
    }
    if tokio::time::timeout(grace, purger).await.is_err() {
        tracing::warn!("erasing departed servers' data was still running when the grace period ended; it runs again at the next start");
    }
    stop_ops.cancel();
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

/// How often departed servers are checked for data past its retention, after the check at
/// start-up.
fn purge_interval() -> chrono::Duration {
    chrono::Duration::days(1)
}

/// Erases the schedules and DM opt-ins of servers careprompt left more than `retention` ago: once
/// at start-up, then daily, on the bot's clock (so tests move it, and a restart loses nothing: a
/// server past its retention is caught by the next check, whenever that runs).
async fn purge_departed_guilds(
    store: Store,
    clock: Arc<dyn Clock>,
    retention: chrono::Duration,
    stop: CancellationToken,
) {
    loop {
        let now = clock.now();
        // A retention longer than the calendar reaches back keeps everything.
        if let Some(cutoff) = now.checked_sub_signed(retention) {
            if let Err(err) = store.purge_departed_guilds(cutoff).await {
                tracing::warn!(error = %err, "could not erase departed servers' data; trying again tomorrow");
            }
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = clock.sleep_until(now + purge_interval()) => {}
        }
    }
}
