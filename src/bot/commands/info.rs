//! Help, support and what careprompt is.

use crate::bot::data::{AppContext, Error};
use crate::check::DNA_OF_CARE_URL;
use crate::discord::cards;
use crate::domain::planning::{plan, PreviewRequest};
use crate::domain::rotation::RotationState;

pub fn commands() -> Vec<super::Command> {
    vec![support(), help(), about(), upcoming()]
}

/// Where to get help. Only you see the answer.
#[poise::command(slash_command)]
pub async fn support(ctx: AppContext<'_>) -> Result<(), Error> {
    let data = ctx.data();
    let lines = data.library.support_lines_for(data.library.nation);
    let card = cards::support_card(data.config.support.org.as_ref(), &lines);
    // Always private: nobody else should learn that someone asked for support.
    data.reply(&ctx, card, true).await
}

/// What careprompt does and how to use its commands.
#[poise::command(slash_command)]
pub async fn help(ctx: AppContext<'_>) -> Result<(), Error> {
    ctx.data().reply(&ctx, cards::help_card(), true).await
}

/// What careprompt is, and what it keeps about you.
#[poise::command(slash_command)]
pub async fn about(ctx: AppContext<'_>) -> Result<(), Error> {
    ctx.data()
        .reply(&ctx, cards::about_card(DNA_OF_CARE_URL), true)
        .await
}

/// The next reflection posts on the default schedule, for facilitators.
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MANAGE_CHANNELS"
)]
pub async fn upcoming(ctx: AppContext<'_>) -> Result<(), Error> {
    let data = ctx.data();
    let defaults = &data.config.schedule;
    let schedule = defaults.schedule().map_err(anyhow::Error::msg)?;
    let calendar = defaults.calendar().map_err(anyhow::Error::msg)?;
    let request = PreviewRequest {
        schedule,
        calendar,
        skip_holidays: true,
        from: data.clock.now(),
        count: 3,
        include_out_of_rotation: defaults.include_bullying,
        state: RotationState::new(0),
    };
    let slots = plan(&data.library, &request)?;
    let card = cards::upcoming_card(&data.library, defaults.cron.as_str(), &slots);
    data.reply(&ctx, card, true).await
}
