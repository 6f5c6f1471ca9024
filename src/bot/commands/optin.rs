//! Prompts by DM: each person chooses, per server, and can keep themes out. What each answers is
//! `app::optin`'s.

use crate::app;
use crate::bot::data::{request, AppContext, Error};

pub fn commands() -> Vec<super::Command> {
    vec![optin(), optout(), mute(), unmute()]
}

/// Get this server's scheduled reflection cards by direct message too.
#[poise::command(slash_command, guild_only)]
pub async fn optin(ctx: AppContext<'_>) -> Result<(), Error> {
    let data = ctx.data();
    let answer = app::optin::optin(data.core(), &request(&ctx)).await?;
    data.answer(&ctx, answer).await
}

/// Stop getting this server's reflection cards by direct message.
#[poise::command(slash_command, guild_only)]
pub async fn optout(ctx: AppContext<'_>) -> Result<(), Error> {
    let data = ctx.data();
    let answer = app::optin::optout(data.core(), &request(&ctx)).await?;
    data.answer(&ctx, answer).await
}

/// Keep a theme out of your DMs, in every server.
#[poise::command(slash_command)]
pub async fn mute(
    ctx: AppContext<'_>,
    #[description = "The theme to leave out of your DMs"] theme: String,
) -> Result<(), Error> {
    set_muted(ctx, &theme, true).await
}

/// Let a muted theme back into your DMs.
#[poise::command(slash_command)]
pub async fn unmute(
    ctx: AppContext<'_>,
    #[description = "The theme to let back into your DMs"] theme: String,
) -> Result<(), Error> {
    set_muted(ctx, &theme, false).await
}

async fn set_muted(ctx: AppContext<'_>, theme: &str, muted: bool) -> Result<(), Error> {
    let data = ctx.data();
    let answer = app::optin::set_muted(data.core(), &request(&ctx), theme, muted).await?;
    data.answer(&ctx, answer).await
}
