//! `careprompt try`: the real careprompt (commands, cards, scheduler, store, privacy rules)
//! against the stand-in for Discord, on this machine, with a web page in place of Discord's app.
//! Nothing is faked in careprompt itself; only Discord is stood in for, and nothing leaves the
//! machine.

mod guard;
mod people;
mod view;
mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use chrono::Utc;
use discord_standin::{StandIn, StandInConfig, CHANNEL_ID, TOKEN};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock::ManualClock;
use crate::config::{self, Config, Token};
use crate::startup::{load_content, Application, Loaded, StartOptions};
use crate::store::Store;

pub use guard::{ForeignDatabase, CLAIMER_PREFIX};
pub use people::{Person, PEOPLE};

/// Where the page is served unless `--listen` says otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8700";

/// How long start-up waits for careprompt to connect to the stand-in and register its commands.
const READY_WAIT: Duration = Duration::from_secs(30);

/// What `careprompt try` was asked for.
#[derive(Debug, Clone)]
pub struct TryOptions {
    pub listen: SocketAddr,
    /// Keep the data in this database; otherwise a temporary SQLite file, removed at the end.
    pub database: Option<String>,
    /// careprompt's clock at the start; now unless a test needs a particular week.
    pub starts_at: Option<chrono::DateTime<Utc>>,
}

/// A temporary SQLite file, removed (with its journal files) when dropped.
struct TemporaryDatabase {
    path: PathBuf,
}

impl TemporaryDatabase {
    fn new() -> TemporaryDatabase {
        let stamp = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        let name = format!("careprompt-try-{}-{stamp}.sqlite", std::process::id());
        TemporaryDatabase {
            path: std::env::temp_dir().join(name),
        }
    }

    fn url(&self) -> String {
        format!("sqlite://{}?mode=rwc", self.path.display())
    }
}

impl Drop for TemporaryDatabase {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut path = self.path.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

/// What the page's handlers share: the stand-in, careprompt's clock and store, and the files
/// careprompt attached to its answers.
pub(crate) struct TryState {
    pub discord: StandIn,
    pub clock: ManualClock,
    pub store: Store,
    /// What was typed or clicked on the page, by interaction.
    pub asked: Mutex<Vec<Asked>>,
    /// Bumped when the page must redraw without the stand-in changing (a jump of the clock).
    pub nudged: tokio::sync::watch::Sender<u64>,
}

/// One command typed or button clicked on the page, and the files careprompt answered it with.
#[derive(Debug, Clone)]
pub(crate) struct Asked {
    pub interaction_id: u64,
    pub user_id: u64,
    /// How the page describes it after the person's name, e.g. `used /optin`.
    pub shown: String,
    pub files: Vec<(String, Vec<u8>)>,
}

/// `careprompt try`, started: the stand-in, careprompt, and the page.
pub struct TryOut {
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    bot: JoinHandle<anyhow::Result<()>>,
    page: web::Page,
    state: Arc<TryState>,
    _database: Option<TemporaryDatabase>,
}

impl TryOut {
    /// Starts everything and returns once the page answers and careprompt is ready.
    pub async fn start(options: TryOptions) -> anyhow::Result<TryOut> {
        let starts_at = options.starts_at.unwrap_or_else(Utc::now);
        if let Some(url) = &options.database {
            // Before anything is written to it, and before the stand-in's READY reaches it.
            guard::claim(url, starts_at).await?;
        }
        if !options.listen.ip().is_loopback() {
            tracing::warn!(
                address = %options.listen,
                "the try-out page listens beyond this machine, as --listen asked: anyone who can \
                 reach this address can use it"
            );
        }
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .with_context(|| format!("cannot listen on {}", options.listen))?;
        let address = listener.local_addr()?;

        let discord = StandIn::listen(StandInConfig::default())
            .await
            .context("cannot start the stand-in for Discord")?;
        let (database, url) = match options.database {
            Some(url) => (None, url),
            None => {
                let file = TemporaryDatabase::new();
                let url = file.url();
                (Some(file), url)
            }
        };

        let mut config = Config::default();
        config.database.url = url;
        // Everything careprompt sends to Discord goes to the stand-in instead.
        config.discord.proxy_url = Some(discord.proxy_base_url());
        let loaded = config::LoadedConfig::from_config(config);
        let Loaded { settings, library } = load_content(&loaded)
            .map_err(|errors| anyhow::anyhow!("the built-in content: {}", errors.join("; ")))?;
        let clock = ManualClock::new(starts_at);
        let mut options = StartOptions {
            clock: Arc::new(clock.clone()),
            ..StartOptions::default()
        };
        // Its process is told from a real careprompt's by this name in `workers`.
        options.scheduler.claimer = guard::claimer();
        // The stand-in's token: a real one in DISCORD_TOKEN is never read, so never sent.
        let application = Application::build(settings, library, Token::new(TOKEN), options)
            .await
            .context("cannot build careprompt")?;
        let store = application.store().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let bot = tokio::spawn(application.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        discord
            .wait_ready(READY_WAIT)
            .await
            .context("careprompt did not connect to the stand-in")?;
        wait_for_commands(&discord).await?;

        let state = Arc::new(TryState {
            discord,
            clock,
            store,
            asked: Mutex::new(Vec::new()),
            nudged: tokio::sync::watch::channel(0).0,
        });
        let page = web::Page::serve(listener, state.clone());
        Ok(TryOut {
            address,
            stop: Some(stop),
            bot,
            page,
            state,
            _database: database,
        })
    }

    /// Where the page is.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The stand-in careprompt talks to, for tests that check what it refuses.
    pub fn discord(&self) -> &StandIn {
        &self.state.discord
    }

    /// Stops careprompt and the page; the temporary database goes with `self`.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.page.stop();
        let bot = std::mem::replace(&mut self.bot, tokio::spawn(async { Ok(()) }));
        bot.await.context("careprompt's task failed")?
    }
}

/// careprompt registers its commands once connected; the page suggests them from that.
async fn wait_for_commands(discord: &StandIn) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + READY_WAIT;
    while discord.registered_commands().is_none() {
        if tokio::time::Instant::now() > deadline {
            anyhow::bail!("careprompt did not register its commands");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Runs `careprompt try` until `shutdown` completes.
pub async fn run(options: TryOptions, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let running = TryOut::start(options).await?;
    tracing::info!(
        "careprompt try: open http://{} (a local try-out; nothing leaves this machine)",
        running.address()
    );
    shutdown.await;
    running.stop().await
}

/// The channel the page shows.
pub(crate) const CHANNEL: u64 = CHANNEL_ID;
