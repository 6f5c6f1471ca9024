//! The state every command, button and background task shares.

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::discord::cards::Card;
use crate::discord::Rest;
use crate::domain::content::Library;
use crate::domain::settings::ScheduleSettings;
use crate::error::ReplyFailed;
use crate::scheduler::Scheduler;
use crate::store::Store;

pub use crate::error::Error;

pub type AppContext<'a> = poise::ApplicationContext<'a, Data, Error>;

/// Shared state for every command, button and background task.
pub struct Data {
    pub library: Arc<Library>,
    pub config: Arc<Config>,
    pub rest: Rest,
    pub clock: Arc<dyn Clock>,
    pub store: Store,
    /// The configuration's `[schedule]`, parsed once: what a new schedule starts from.
    pub defaults: ScheduleSettings,
    pub scheduler: Arc<Scheduler>,
}

impl Data {
    /// Where to get support, for the nation the organisation works in, its own contact first.
    pub fn support_card(&self) -> Card {
        let lines = self.library.support_lines_for(self.library.nation);
        crate::discord::cards::support_card(self.config.support.org.as_ref(), &lines)
    }

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
