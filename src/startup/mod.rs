//! Start-up: one builder that turns the checked settings and the library into a running
//! careprompt (the store, the REST client, the scheduler, the operators' listener and the bot),
//! and a clean shutdown that answers every command already received. `careprompt run`, the
//! end-to-end tests and the benchmark all start careprompt through [`Application::build`], each
//! with its own Discord address, clock and database.

mod content;
mod http;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use metrics_exporter_prometheus::PrometheusHandle;
use poise::serenity_prelude as serenity;
use tokio_util::sync::{CancellationToken, DropGuard};
use tokio_util::task::TaskTracker;

use crate::bot::framework::{self, DataSlot, GatedFramework};
use crate::bot::registration::{invite_url, register, registration_payload};
use crate::bot::Data;
use crate::clock::{Clock, SystemClock};
use crate::config::{Settings, Token};
use crate::discord::rest::{GLOBAL_REQUESTS_PER_SECOND, SHARED_REQUESTS_PER_SECOND};
use crate::discord::{DiscordOutbox, Rest, RetryPolicy};
use crate::domain::content::Library;
use crate::domain::shards::ShardRange;
use crate::ops::{self, Shards};
use crate::platform::Presence;
use crate::scheduler::retention::purge_departed_guilds;
use crate::scheduler::{Scheduler, SchedulerOptions};
use crate::store::{redact_url, Store};

pub use content::{apply_pack_overrides, load_content, Loaded};

/// How long shutdown waits for the gateway connection to close once commands are finished.
const SHARD_CLOSE_WAIT: Duration = Duration::from_secs(5);

/// What start-up takes besides the settings: how Discord is reached, whose clock runs, and the
/// knobs that production leaves at their defaults and tests turn.
#[derive(Clone)]
pub struct StartOptions {
    /// Replaces serenity's HTTP client when no proxy is configured; tests reach a stand-in for
    /// Discord with it.
    pub http_client: Option<reqwest::Client>,
    pub retry: RetryPolicy,
    pub clock: Arc<dyn Clock>,
    /// How long shutdown waits for commands already received before closing the connection.
    pub shutdown_grace: Duration,
    /// The scheduler's tuning; its catch-up window, holidays, shards, takeover time and how long
    /// a session may run come from the settings.
    pub scheduler: SchedulerOptions,
}

impl Default for StartOptions {
    fn default() -> Self {
        StartOptions {
            http_client: None,
            retry: RetryPolicy::default(),
            clock: Arc::new(SystemClock),
            shutdown_grace: Duration::from_secs(10),
            scheduler: SchedulerOptions::default(),
        }
    }
}

/// careprompt, built and connected to its database and to Discord's REST API, ready to open its
/// gateway shards.
pub struct Application {
    client: serenity::Client,
    /// The interactions being handled, which shutdown finishes.
    in_flight: TaskTracker,
    store: Store,
    scheduler: Arc<Scheduler>,
    clock: Arc<dyn Clock>,
    retention: chrono::Duration,
    /// The gateway shards this process opens.
    gateway: ShardRange,
    grace: Duration,
    shards: Arc<Shards>,
    /// Stops the operators' listener, also when the application is dropped unstarted.
    operators: DropGuard,
}

impl Application {
    /// Connects the store, starts the operators' listener, builds the bot, reads the application
    /// from Discord and registers its commands, and plans the shards and the scheduler. Nothing is
    /// posted and no shard is opened until [`Application::run_until_stopped`].
    pub async fn build(
        settings: Settings,
        library: Library,
        token: Token,
        options: StartOptions,
    ) -> anyhow::Result<Application> {
        let database = &settings.database;
        let store = Store::connect(&database.url, database.max_connections)
            .await
            .with_context(|| format!("opening the database {}", redact_url(&database.url)))?;
        tracing::info!(backend = store.backend(), "database ready");
        let shards = Arc::new(Shards::default());
        let stop_operators = CancellationToken::new();
        if let Some(address) = settings.metrics_listen {
            serve_operators(address, &shards, &store, &stop_operators).await?;
        }
        let operators = stop_operators.drop_guard();

        let discord = http::discord_http(
            settings.discord.proxy_url.as_deref(),
            &token,
            options.http_client.as_ref(),
        )?;
        let in_flight = TaskTracker::new();
        let slot = Arc::new(DataSlot::default());
        let framework = GatedFramework::new(
            in_flight.clone(),
            slot.clone(),
            discord.proxy_client.clone(),
            options.retry,
        );
        let client =
            serenity::ClientBuilder::new_with_http(discord.http, serenity::GatewayIntents::GUILDS)
                .framework(framework)
                .await
                .context("building the Discord client")?;

        let rest = Rest::new(client.http.clone(), discord.proxy_client, options.retry);
        let application = rest
            .application_info()
            .await
            .map_err(http::explain_start_error)?;
        client.http.set_application_id(application.id);
        register(
            &rest,
            application.id,
            &settings.discord.dev_guild_ids,
            &registration_payload(&library),
        )
        .await?;
        tracing::info!(invite = %invite_url(application.id), "invite careprompt to a server with this link");

        let plan = plan_shards(&rest, &client, settings.processes.shards).await?;
        shards.set_expected(usize::try_from(plan.gateway.count()).unwrap_or(usize::MAX));
        let per_second = if plan.owned.is_all() {
            GLOBAL_REQUESTS_PER_SECOND
        } else {
            plan.owned.share_of(SHARED_REQUESTS_PER_SECOND)
        };
        let rest = rest.paced_at(per_second);
        tracing::info!(shards = %plan.gateway, total = plan.gateway.total(), "running gateway shards");

        let library = Arc::new(library);
        let scheduler = Arc::new(Scheduler::new(
            store.clone(),
            Arc::new(DiscordOutbox::new(rest.clone())),
            library.clone(),
            options.clock.clone(),
            SchedulerOptions {
                catch_up: settings.schedule.catch_up,
                extra_holidays: settings.schedule.extra_holidays.clone(),
                shards: plan.owned,
                takeover_after: settings.processes.takeover_after,
                session_archive_after: settings.sessions.archive_after,
                ..options.scheduler
            },
        ));
        let retention = settings.privacy.retention;
        slot.fill(Data {
            library,
            settings: Arc::new(settings),
            rest,
            clock: options.clock.clone(),
            store: store.clone(),
            scheduler: scheduler.clone(),
            shards: shards.clone(),
            presence: Presence::new(store.clone()),
        });
        Ok(Application {
            client,
            in_flight,
            store,
            scheduler,
            clock: options.clock,
            retention,
            gateway: plan.gateway,
            grace: options.shutdown_grace,
            shards,
            operators,
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Which of this process's shards are connected with their servers settled, as `/readyz`
    /// reports it.
    pub fn shards(&self) -> Arc<Shards> {
        self.shards.clone()
    }

    /// Opens the gateway shards and runs the scheduler and the retention purge until `shutdown`
    /// completes, then finishes the commands in flight and the posts being sent, and disconnects.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Application {
            mut client,
            in_flight,
            store,
            scheduler,
            clock,
            retention,
            gateway,
            grace,
            shards: _,
            operators,
        } = self;
        // Started once here, not on READY: posts go out even while the gateway reconnects.
        let stop_scheduler = CancellationToken::new();
        let worker = tokio::spawn(scheduler.run(stop_scheduler.clone()));
        let purger = tokio::spawn(purge_departed_guilds(
            store.clone(),
            clock,
            retention,
            stop_scheduler.clone(),
        ));
        tokio::spawn(crate::memory::hand_back_when_quiet(stop_scheduler.clone()));

        let shard_manager = client.shard_manager.clone();
        // serenity counts the end of this range as included.
        let mut start = std::pin::pin!(
            client.start_shard_range(gateway.first()..gateway.last(), gateway.total())
        );
        let mut shutdown = std::pin::pin!(shutdown);
        let result = tokio::select! {
            result = &mut start => result,
            () = &mut shutdown => {
                tracing::info!("shutting down: finishing the commands already received and the posts being sent");
                stop_scheduler.cancel();
                if !framework::finish(&in_flight, grace).await {
                    tracing::warn!(grace_secs = grace.as_secs(), "some commands were still running when the grace period ended");
                }
                shard_manager.shutdown_all().await;
                // With no shard connected yet (Discord unreachable, or a shard restarting)
                // serenity's shutdown does not end `start`, so the wait for it is bounded.
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
        if !framework::finish(&in_flight, grace).await {
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
        drop(operators);
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
}

/// Binds before anything talks to Discord, so a taken port stops careprompt at once with a clear
/// reason.
async fn serve_operators(
    address: SocketAddr,
    shards: &Arc<Shards>,
    store: &Store,
    stop: &CancellationToken,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("listening for metrics on {address}"))?;
    let Some(handle): Option<PrometheusHandle> = ops::recorder() else {
        tracing::warn!("metrics could not be recorded; the listener is off");
        return Ok(());
    };
    tracing::info!(address = %address, "serving /metrics, /healthz and /readyz");
    tokio::spawn(ops::serve(
        listener,
        handle,
        shards.clone(),
        store.clone(),
        stop.clone(),
    ));
    Ok(())
}

/// Which shards this process opens, and whose servers it looks after.
struct ShardPlan {
    gateway: ShardRange,
    owned: ShardRange,
}

/// A process given a range looks after that range's servers, and takes that share of the global
/// rate limit; one process alone runs every shard Discord recommends and owns them all.
async fn plan_shards(
    rest: &Rest,
    client: &serenity::Client,
    given: Option<ShardRange>,
) -> anyhow::Result<ShardPlan> {
    if let Some(range) = given {
        return Ok(ShardPlan {
            gateway: range,
            owned: range,
        });
    }
    rest.wait_turn().await;
    let recommended = client
        .http
        .get_bot_gateway()
        .await
        .context("asking Discord how many gateway shards to run")?
        .shards
        .max(1);
    Ok(ShardPlan {
        gateway: ShardRange::new(0, recommended - 1, recommended).map_err(anyhow::Error::msg)?,
        owned: ShardRange::ALL,
    })
}
