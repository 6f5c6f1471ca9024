//! Prompts by DM: each person chooses, per server, and can keep themes out. Every answer is
//! private.

use crate::app::checks::find_theme;
use crate::bot::data::{AppContext, Error};
use crate::cards::note_card;
use crate::domain::insights::UsageKind;
use crate::error::UserError;

pub fn commands() -> Vec<super::Command> {
    vec![optin(), optout(), mute(), unmute()]
}

fn guild_of(ctx: &AppContext<'_>) -> Result<u64, UserError> {
    ctx.interaction
        .guild_id
        .map(|guild| guild.get())
        .ok_or(UserError::GuildOnly)
}

/// Get this server's scheduled reflection cards by direct message too.
#[poise::command(slash_command, guild_only)]
pub async fn optin(ctx: AppContext<'_>) -> Result<(), Error> {
    let guild = guild_of(&ctx)?;
    let data = ctx.data();
    let user = ctx.interaction.user.id.get();
    let added = data
        .store
        .set_dm_optin(user, guild, true, data.clock.now())
        .await?;
    if added {
        // Counted for /insights; a failure to count never holds up the answer.
        if let Err(err) = data
            .store
            .record_usage(guild, user, "", UsageKind::OptedIn, data.clock.now())
            .await
        {
            tracing::warn!(error = %err, "could not count an opt-in for insights");
        }
    }
    let text = if added {
        "From now on, each card this server's schedules post is also sent to you by DM. /mute keeps a theme out of your DMs, and /optout stops them."
    } else {
        "You already get this server's cards by DM. If your DMs were closed, they will be tried again from the next card."
    };
    data.reply(&ctx, note_card(text.to_string()), true).await
}

/// Stop getting this server's reflection cards by direct message.
#[poise::command(slash_command, guild_only)]
pub async fn optout(ctx: AppContext<'_>) -> Result<(), Error> {
    let guild = guild_of(&ctx)?;
    let data = ctx.data();
    let user = ctx.interaction.user.id.get();
    let removed = data
        .store
        .set_dm_optin(user, guild, false, data.clock.now())
        .await?;
    let text = if removed {
        "Done: no more DMs from this server's schedules. The posts in the channel carry on."
    } else {
        "You were not getting this server's cards by DM, so nothing has changed."
    };
    data.reply(&ctx, note_card(text.to_string()), true).await
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
    let theme = find_theme(&data.library, theme)?;
    let changed = data
        .store
        .set_theme_muted(
            ctx.interaction.user.id.get(),
            &theme.slug,
            muted,
            data.clock.now(),
        )
        .await?;
    let title = &theme.title;
    let text = match (muted, changed) {
        (true, true) => format!(
            "{title} is now left out of your DMs. The channel posts are not affected. /unmute brings it back."
        ),
        (true, false) => format!("{title} was already left out of your DMs."),
        (false, true) => format!("{title} is back in your DMs."),
        (false, false) => format!("{title} was not muted."),
    };
    data.reply(&ctx, note_card(text), true).await
}
