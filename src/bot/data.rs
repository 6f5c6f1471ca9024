//! The state every command, button and background task shares.

use std::sync::Arc;

use crate::cards::Card;
use crate::clock::Clock;
use crate::config::Settings;
use crate::discord::{Rest, RestError};
use crate::domain::content::Library;
use crate::ops::Shards;
use crate::platform::Presence;
use crate::scheduler::Scheduler;
use crate::store::Store;

pub use crate::error::Error;

/// The answer to an interaction could not be delivered, so no other answer can be either.
#[derive(Debug, thiserror::Error)]
#[error("could not answer the interaction: {0}")]
pub struct ReplyFailed(#[from] pub RestError);

/// A click careprompt cannot act on: the person is told, and nothing changes.
#[derive(Debug, thiserror::Error)]
#[error("that button no longer works")]
pub struct StaleButton;

pub type AppContext<'a> = poise::ApplicationContext<'a, Data, Error>;

/// Shared state for every command, button and background task.
pub struct Data {
    pub library: Arc<Library>,
    pub settings: Arc<Settings>,
    pub rest: Rest,
    pub clock: Arc<dyn Clock>,
    pub store: Store,
    pub scheduler: Arc<Scheduler>,
    /// Which shards are connected, for `/readyz`.
    pub shards: Arc<Shards>,
    /// Departure: what the gateway says about the servers careprompt is in.
    pub presence: Presence,
}

/// Told once, privately, to someone whose DMs careprompt could not deliver.
const CLOSED_DM_NOTICE: &str = "I couldn't send you a card by DM: Discord says your DMs are closed to me. To get them, allow direct messages from server members (Server menu, Privacy Settings) and use /optin again; or use /optout to stop trying.";

impl Data {
    /// A private reply is the first chance to tell someone their DMs are closed; the notice is
    /// given once. A failure to check never holds up the reply itself.
    async fn add_closed_dm_notice(&self, ctx: &AppContext<'_>, card: &mut Card) {
        let user = ctx.interaction.user.id.get();
        match self
            .store
            .take_closed_dm_notice(user, self.clock.now())
            .await
        {
            Ok(true) => {
                card.note = Some(match card.note.take() {
                    Some(text) => format!("{text}\n\n{CLOSED_DM_NOTICE}"),
                    None => CLOSED_DM_NOTICE.to_string(),
                });
            }
            Ok(false) => {}
            Err(err) => tracing::warn!(error = %err, "could not check for a closed-DM notice"),
        }
    }

    /// Where to get support, for the nation the organisation works in, its own contact first.
    pub fn support_card(&self) -> Card {
        let nation = self.library.nation;
        let lines = self.library.support_lines_for(nation);
        crate::cards::support_card(self.settings.org_support(), &lines, nation)
    }

    /// Gives a command's deferred answer (see `Rest::defer`) its card.
    pub async fn answer_deferred(&self, ctx: &AppContext<'_>, card: Card) -> Result<(), Error> {
        self.rest
            .edit_original(ctx.interaction.application_id, &ctx.interaction.token, card)
            .await
            .map_err(ReplyFailed)?;
        Ok(())
    }

    /// Answers the command with a card; `ephemeral` replies are seen only by the person who asked.
    pub async fn reply(
        &self,
        ctx: &AppContext<'_>,
        mut card: Card,
        ephemeral: bool,
    ) -> Result<(), Error> {
        if ephemeral {
            self.add_closed_dm_notice(ctx, &mut card).await;
        }
        self.rest
            .respond(ctx.interaction.id, &ctx.interaction.token, card, ephemeral)
            .await
            .map_err(ReplyFailed)?;
        Ok(())
    }
}
