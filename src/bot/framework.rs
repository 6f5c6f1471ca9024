//! The poise framework careprompt runs: its commands, its one error handler and its event
//! handler, wrapped so that each interaction is counted while it runs and refused once shutdown
//! starts.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use poise::serenity_prelude as serenity;
use tokio_util::task::task_tracker::TaskTrackerToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;

use crate::bot::commands;
use crate::bot::data::{Data, Error};
use crate::bot::events;
use crate::bot::on_error::on_error;
use crate::cards::{self, Act};
use crate::discord::{Rest, RetryPolicy};
use crate::error::UserError;

/// The shared state, made before the client connects and handed to poise on the first READY,
/// which is when poise asks for it.
#[derive(Default)]
pub struct DataSlot(Mutex<Option<Data>>);

impl DataSlot {
    pub fn fill(&self, data: Data) {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(data);
    }

    fn take(&self) -> Option<Data> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    }
}

/// Counts an interaction in. `Err` means shutdown has begun; it is counted all the same, so
/// that telling the person to try again also finishes before the process exits.
fn enter(in_flight: &TaskTracker) -> Result<TaskTrackerToken, TaskTrackerToken> {
    // Counting first and checking after means an interaction is never missed by `finish`.
    let token = in_flight.token();
    if in_flight.is_closed() {
        Err(token)
    } else {
        Ok(token)
    }
}

/// Stops taking interactions and waits up to `grace` for those in flight; `false` if some were
/// still running when it ended.
pub async fn finish(in_flight: &TaskTracker, grace: Duration) -> bool {
    in_flight.close();
    tokio::time::timeout(grace, in_flight.wait()).await.is_ok()
}

/// Numbers interactions, so that the log lines of one can be told from another's.
static INTERACTIONS: AtomicU64 = AtomicU64::new(0);

/// The span an interaction's log lines carry: a number of its own and what it is (the command
/// with its subcommand, "schedule set", or the button, "save"), never who used it, where, or
/// what they gave.
fn interaction_span(interaction: &serenity::Interaction) -> tracing::Span {
    let n = INTERACTIONS.fetch_add(1, Ordering::Relaxed) + 1;
    match interaction {
        serenity::Interaction::Command(command) => {
            tracing::info_span!("interaction", n, command = %command_name(&command.data))
        }
        serenity::Interaction::Component(click) => {
            let button =
                Act::parse(&click.data.custom_id).map_or("unknown", |action| action.name());
            tracing::info_span!("interaction", n, button)
        }
        serenity::Interaction::Autocomplete(typing) => {
            tracing::info_span!("interaction", n, autocomplete = %command_name(&typing.data))
        }
        _ => tracing::info_span!("interaction", n),
    }
}

/// A command's name followed by its subcommand group's and subcommand's, as poise qualifies
/// them ("bookmarks remove"): names careprompt registered, never an option's value.
fn command_name(data: &serenity::CommandData) -> String {
    let mut name = data.name.clone();
    let mut options = &data.options;
    while let Some((sub, inner)) = options.iter().find_map(|option| match &option.value {
        serenity::CommandDataOptionValue::SubCommand(inner)
        | serenity::CommandDataOptionValue::SubCommandGroup(inner) => Some((&option.name, inner)),
        _ => None,
    }) {
        name.push(' ');
        name.push_str(sub);
        options = inner;
    }
    name
}

/// Wraps poise so each interaction is counted while it runs, and refused once shutdown starts.
pub struct GatedFramework {
    inner: poise::Framework<Data, Error>,
    in_flight: TaskTracker,
    /// How interactions refused during shutdown are answered: as every other REST call is.
    proxy_client: Option<reqwest::Client>,
    retry: RetryPolicy,
}

impl GatedFramework {
    /// The framework, taking its `Data` from `slot` when it first connects, and counting the
    /// interactions it handles in `in_flight`.
    pub fn new(
        in_flight: TaskTracker,
        slot: Arc<DataSlot>,
        proxy_client: Option<reqwest::Client>,
        retry: RetryPolicy,
    ) -> GatedFramework {
        let inner = poise::Framework::builder()
            .options(poise::FrameworkOptions {
                commands: commands::all(),
                on_error: |error| Box::pin(on_error(error)),
                event_handler: |framework, event| Box::pin(events::handle(framework, event)),
                ..Default::default()
            })
            .initialize_owners(false)
            .setup(move |ctx, ready, _framework| {
                Box::pin(async move {
                    tracing::info!(
                        shard = ctx.shard_id.0,
                        guilds = ready.guilds.len(),
                        "connected to Discord"
                    );
                    slot.take()
                        .ok_or_else(|| anyhow::anyhow!("the bot's shared state was not made"))
                })
            })
            .build();
        GatedFramework {
            inner,
            in_flight,
            proxy_client,
            retry,
        }
    }
}

#[serenity::async_trait]
impl serenity::Framework for GatedFramework {
    async fn init(&mut self, client: &serenity::Client) {
        self.inner.init(client).await;
    }

    async fn dispatch(&self, ctx: serenity::Context, event: serenity::FullEvent) {
        crate::memory::note_activity();
        let serenity::FullEvent::InteractionCreate { interaction } = &event else {
            self.inner.dispatch(ctx, event).await;
            return;
        };
        let span = interaction_span(interaction);
        let command = match interaction {
            serenity::Interaction::Command(command) => command.data.name.clone(),
            serenity::Interaction::Component(_) => "button".to_string(),
            serenity::Interaction::Autocomplete(_) => "autocomplete".to_string(),
            _ => "other".to_string(),
        };
        match enter(&self.in_flight) {
            Ok(_pass) => {
                let started = std::time::Instant::now();
                self.inner.dispatch(ctx, event).instrument(span).await;
                metrics::counter!("careprompt_interactions_total", "command" => command.clone())
                    .increment(1);
                metrics::histogram!("careprompt_interaction_seconds", "command" => command)
                    .record(started.elapsed().as_secs_f64());
            }
            Err(_pass) => self.refuse(&ctx, interaction).instrument(span).await,
        }
    }
}

impl GatedFramework {
    /// Tells the person, privately, that careprompt is restarting and to try again shortly.
    async fn refuse(&self, ctx: &serenity::Context, interaction: &serenity::Interaction) {
        let answerable = match interaction {
            serenity::Interaction::Command(command) => Some((command.id, &command.token)),
            serenity::Interaction::Component(component) => Some((component.id, &component.token)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn shutdown_waits_for_interactions_in_flight_and_refuses_new_ones() {
        let in_flight = TaskTracker::new();
        let pass = enter(&in_flight).expect("open before shutdown");
        let finishing = {
            let in_flight = in_flight.clone();
            tokio::spawn(async move { finish(&in_flight, Duration::from_secs(30)).await })
        };
        tokio::task::yield_now().await;
        assert!(!finishing.is_finished());
        drop(pass);
        assert!(
            finishing.await.expect("join"),
            "shutdown goes on once the interaction is done"
        );
        assert!(enter(&in_flight).is_err(), "closed after shutdown began");
    }

    #[tokio::test]
    async fn shutdown_gives_up_after_the_grace_period() {
        let in_flight = TaskTracker::new();
        let _stuck = enter(&in_flight);
        assert!(!finish(&in_flight, Duration::from_millis(1)).await);
    }
}
