//! Help, support and what careprompt is.

use crate::app;
use crate::bot::data::{AppContext, Error};
use crate::cards;
use crate::store::StoreError;

pub fn commands() -> Vec<super::Command> {
    vec![support(), help(), about(), upcoming()]
}

/// Where to get help. Only you see the answer.
#[poise::command(slash_command)]
pub async fn support(ctx: AppContext<'_>) -> Result<(), Error> {
    let data = ctx.data();
    data.answer(&ctx, app::content::support(data.core())).await
}

/// What careprompt does and how to use its commands.
#[poise::command(slash_command)]
pub async fn help(ctx: AppContext<'_>) -> Result<(), Error> {
    ctx.data().answer(&ctx, app::content::help()).await
}

/// What careprompt is, and what it keeps about you.
#[poise::command(slash_command)]
pub async fn about(ctx: AppContext<'_>) -> Result<(), Error> {
    ctx.data().answer(&ctx, app::content::about()).await
}

/// The next reflection posts in this channel, for facilitators.
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MANAGE_CHANNELS"
)]
pub async fn upcoming(ctx: AppContext<'_>) -> Result<(), Error> {
    let data = ctx.data();
    let channel = ctx.interaction.channel_id.get();
    // A schedule that can no longer be read posts nothing, so there is nothing upcoming.
    let schedule = match data.store.schedule_for_channel(channel).await {
        Err(StoreError::Unreadable(_)) => None,
        read => read?,
    }
    .filter(|schedule| Some(schedule.guild_id) == ctx.interaction.guild_id.map(|id| id.get()));
    let card = match schedule {
        Some(schedule) => {
            let slots = super::schedule::upcoming(data, &schedule, 3)?;
            cards::schedule_preview_card(&data.library, &schedule, &slots)
        }
        None => cards::note_card(
            "This channel has no reflection post schedule. A server admin can set one up with /schedule set.".to_string(),
        ),
    };
    data.reply(&ctx, card, true).await
}
