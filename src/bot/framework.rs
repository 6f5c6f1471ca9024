//! The poise framework careprompt runs: its commands, its one error handler and its event
//! handler, wrapped so that each interaction is counted while it runs and refused once shutdown
//! starts.

use std::sync::{Arc, Mutex};

use poise::serenity_prelude as serenity;

use crate::bot::commands;
use crate::bot::data::{Data, Error};
use crate::bot::events;
use crate::bot::gate::Gate;
use crate::bot::on_error::on_error;
use crate::discord::{cards, Rest, RetryPolicy};
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

/// Wraps poise so each interaction is counted while it runs, and refused once shutdown starts.
pub struct GatedFramework {
    inner: poise::Framework<Data, Error>,
    gate: Arc<Gate>,
    /// How interactions refused during shutdown are answered: as every other REST call is.
    proxy_client: Option<reqwest::Client>,
    retry: RetryPolicy,
}

impl GatedFramework {
    /// The framework, taking its `Data` from `slot` when it first connects.
    pub fn new(
        gate: Arc<Gate>,
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
            gate,
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
