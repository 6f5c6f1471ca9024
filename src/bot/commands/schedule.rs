//! `/schedule` for server admins: reflection posts in a channel on a crontab schedule. What each
//! subcommand answers, and the check of who may run it, are `app::schedule`'s; here are Discord's
//! options, its channel kinds, whether careprompt can see a channel, and the deferral post-now
//! needs.
//!
//! Discord offers the command to members with Manage Server by default, and every subcommand
//! checks the member's permissions from the interaction again, so a server that opens the
//! command to everyone still cannot let anyone else change a schedule.

use poise::serenity_prelude as serenity;

use crate::app::{self, schedule::ScheduleChange};
use crate::bot::data::{request, AppContext, Data, Error, ReplyFailed};
use crate::domain::holidays::Region;
use crate::error::UserError;

pub fn commands() -> Vec<super::Command> {
    vec![schedule()]
}

/// Which bank holidays a schedule skips.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum BankHolidays {
    #[name = "England and Wales"]
    EnglandAndWales,
    #[name = "Scotland"]
    Scotland,
    #[name = "Northern Ireland"]
    NorthernIreland,
    #[name = "None: post on bank holidays too"]
    None,
}

impl BankHolidays {
    fn region(self) -> Option<Region> {
        match self {
            BankHolidays::EnglandAndWales => Some(Region::EnglandAndWales),
            BankHolidays::Scotland => Some(Region::Scotland),
            BankHolidays::NorthernIreland => Some(Region::NorthernIreland),
            BankHolidays::None => None,
        }
    }
}

/// Reflection posts in your channels: set them up, see them, pause or skip them.
#[poise::command(
    slash_command,
    guild_only,
    default_member_permissions = "MANAGE_GUILD",
    subcommands(
        "set", "list", "preview", "pause", "resume", "skip", "remove", "post_now"
    ),
    subcommand_required
)]
pub async fn schedule(_ctx: AppContext<'_>) -> Result<(), Error> {
    Ok(())
}

/// The channel option offers only text and announcement channels; the check here covers a
/// client that sends anything else.
fn postable_kind(channel: &serenity::PartialChannel) -> Result<(), UserError> {
    match channel.kind {
        serenity::ChannelType::Text | serenity::ChannelType::News => Ok(()),
        _ => Err(UserError::BadInput(
            "choose a text or announcement channel for the posts".to_string(),
        )),
    }
}

/// Asks Discord whether careprompt can see the channel, which is as much as can be known before
/// the first post.
async fn check_visible(data: &Data, channel: u64) -> Result<(), Error> {
    match data.rest.channel(channel).await {
        Ok(_) => Ok(()),
        Err(err) if matches!(err.status(), Some(403 | 404)) => Err(UserError::CannotPost(
            channel,
            "I can't see that channel. Give careprompt View Channel, Send Messages and Embed Links there, then try again".to_string(),
        )
        .into()),
        Err(err) => Err(err.into()),
    }
}

/// Post reflection prompts in a channel, or change how often. Unset options keep their value.
#[allow(clippy::too_many_arguments)] // one per slash-command option, as poise declares them
#[poise::command(slash_command, guild_only)]
async fn set(
    ctx: AppContext<'_>,
    #[description = "The channel to post in"]
    #[channel_types("Text", "News")]
    channel: serenity::PartialChannel,
    #[description = "When to post, as a crontab line: minute hour day month weekday (0 9 * * MON)"]
    #[max_length = 100]
    cron: Option<String>,
    #[description = "The time zone the times are in, such as Europe/London"]
    #[max_length = 64]
    timezone: Option<String>,
    #[description = "Which bank holidays to skip"] bank_holidays: Option<BankHolidays>,
    #[description = "Include the bullying and harassment theme in the rotation"]
    include_bullying: Option<bool>,
    #[description = "A role to ping with each post (nobody is pinged otherwise)"] ping_role: Option<
        serenity::RoleId,
    >,
    #[description = "Open a thread on each post for replies"] thread: Option<bool>,
) -> Result<(), Error> {
    let data = ctx.data();
    let channel_id = channel.id.get();
    let change = ScheduleChange {
        cron: cron.as_deref(),
        timezone: timezone.as_deref(),
        bank_holidays: bank_holidays.map(BankHolidays::region),
        include_bullying,
        ping_role: ping_role.map(|role| role.get()),
        thread,
    };
    let answer = app::schedule::set(
        data.core(),
        &request(&ctx),
        channel_id,
        postable_kind(&channel),
        &change,
        check_visible(data, channel_id),
    )
    .await?;
    data.answer(&ctx, answer).await
}

/// Every schedule in this server, with its next and last post.
#[poise::command(slash_command, guild_only)]
async fn list(ctx: AppContext<'_>) -> Result<(), Error> {
    let data = ctx.data();
    let answer = app::schedule::list(data.core(), &request(&ctx)).await?;
    data.answer(&ctx, answer).await
}

/// The next six posts in a channel: when, theme, prompt and story.
#[poise::command(slash_command, guild_only)]
async fn preview(
    ctx: AppContext<'_>,
    #[description = "The channel"]
    #[channel_types("Text", "News")]
    channel: serenity::PartialChannel,
) -> Result<(), Error> {
    let data = ctx.data();
    let answer = app::schedule::preview(data.core(), &request(&ctx), channel.id.get()).await?;
    data.answer(&ctx, answer).await
}

/// Stop posting in a channel for a while, for example over a holiday.
#[poise::command(slash_command, guild_only)]
async fn pause(
    ctx: AppContext<'_>,
    #[description = "The channel"]
    #[channel_types("Text", "News")]
    channel: serenity::PartialChannel,
    #[description = "Start again on this date, written 2027-01-04 (leave out to pause until resumed)"]
    #[max_length = 10]
    until: Option<String>,
) -> Result<(), Error> {
    let data = ctx.data();
    let answer = app::schedule::pause(
        data.core(),
        &request(&ctx),
        channel.id.get(),
        until.as_deref(),
    )
    .await?;
    data.answer(&ctx, answer).await
}

/// Start posting in a paused channel again, from its next slot.
#[poise::command(slash_command, guild_only)]
async fn resume(
    ctx: AppContext<'_>,
    #[description = "The channel"]
    #[channel_types("Text", "News")]
    channel: serenity::PartialChannel,
) -> Result<(), Error> {
    let data = ctx.data();
    let answer = app::schedule::resume(data.core(), &request(&ctx), channel.id.get()).await?;
    data.answer(&ctx, answer).await
}

/// Skip the next post in a channel. The themes carry on where they were.
#[poise::command(slash_command, guild_only)]
async fn skip(
    ctx: AppContext<'_>,
    #[description = "The channel"]
    #[channel_types("Text", "News")]
    channel: serenity::PartialChannel,
) -> Result<(), Error> {
    let data = ctx.data();
    let answer = app::schedule::skip(data.core(), &request(&ctx), channel.id.get()).await?;
    data.answer(&ctx, answer).await
}

/// Stop posting in a channel and forget its schedule.
#[poise::command(slash_command, guild_only)]
async fn remove(
    ctx: AppContext<'_>,
    #[description = "The channel"]
    #[channel_types("Text", "News")]
    channel: serenity::PartialChannel,
) -> Result<(), Error> {
    let data = ctx.data();
    let answer = app::schedule::remove(data.core(), &request(&ctx), channel.id.get()).await?;
    data.answer(&ctx, answer).await
}

/// Post the next card in a channel now. The themes move on as if it had been scheduled.
#[poise::command(slash_command, guild_only, rename = "post-now")]
async fn post_now(
    ctx: AppContext<'_>,
    #[description = "The channel"]
    #[channel_types("Text", "News")]
    channel: serenity::PartialChannel,
) -> Result<(), Error> {
    let data = ctx.data();
    let schedule =
        app::schedule::admin_schedule(data.core(), &request(&ctx), channel.id.get()).await?;
    // Posting waits its turn under Discord's limits, which can take longer than the 3 seconds a
    // first answer has.
    data.rest
        .defer(ctx.interaction.id, &ctx.interaction.token, true)
        .await
        .map_err(ReplyFailed)?;
    let answer = app::schedule::post_now(data.core(), &schedule).await;
    data.answer_deferred(&ctx, answer.card).await
}
