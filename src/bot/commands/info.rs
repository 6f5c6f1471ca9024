//! Help, support and what careprompt is.

use crate::app;
use crate::bot::data::{request, AppContext, Error};

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
    let answer = app::schedule::upcoming(data.core(), &request(&ctx)).await?;
    data.answer(&ctx, answer).await
}
