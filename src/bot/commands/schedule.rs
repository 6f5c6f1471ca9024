//! `/schedule` for server admins: reflection posts in a channel on a crontab schedule.
//!
//! Discord offers the command to members with Manage Server by default, and every subcommand
//! checks the member's permissions from the interaction again, so a server that opens the
//! command to everyone still cannot let anyone else change a schedule.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use poise::serenity_prelude as serenity;

use crate::app::checks::require_admin;
use crate::bot::data::request;
use crate::bot::data::{AppContext, Data, Error};
use crate::cards::{note_card, schedule_list_card, schedule_preview_card, schedule_saved_card};
use crate::domain::holidays::Region;
use crate::domain::planning::{plan, PreviewRequest, Slot};
use crate::domain::settings::SettingsChange;
use crate::error::UserError;
use crate::scheduler::PostNow;
use crate::store::{NewSchedule, ScheduleRecord, StoreError};

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

/// The channel's schedule, which must belong to this server.
pub async fn existing(data: &Data, guild: u64, channel: u64) -> Result<ScheduleRecord, Error> {
    match data.store.schedule_for_channel(channel).await {
        Ok(Some(schedule)) if schedule.guild_id == guild => Ok(schedule),
        Ok(_) => Err(UserError::NoSchedule(channel).into()),
        Err(StoreError::Unreadable(schedule)) if schedule.guild_id == guild => {
            Err(UserError::UnreadableSchedule(channel, schedule.reason).into())
        }
        Err(StoreError::Unreadable(_)) => Err(UserError::NoSchedule(channel).into()),
        Err(err) => Err(err.into()),
    }
}

/// The schedule's next slot still to come: its `next_due`, unless that has passed (the worker is
/// on it) or falls inside a pause, when it is the first slot after those.
fn next_slot(schedule: &ScheduleRecord, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let mut earliest = now;
    if schedule.paused {
        earliest = earliest.max(schedule.paused_until?);
    }
    match schedule.next_due {
        Some(due) if due > earliest => Some(due),
        _ => schedule
            .settings
            .schedule
            .next_after(earliest - chrono::Duration::seconds(1)),
    }
}

/// The channel's schedule, for a member allowed to manage it.
async fn admin_schedule(
    ctx: &AppContext<'_>,
    channel: &serenity::PartialChannel,
) -> Result<ScheduleRecord, Error> {
    let guild = require_admin(&request(ctx))?;
    existing(ctx.data(), guild, channel.id.get()).await
}

/// The next `count` slots of a schedule, from where it stands.
pub fn upcoming(data: &Data, schedule: &ScheduleRecord, count: usize) -> Result<Vec<Slot>, Error> {
    let now = data.clock.now();
    let from = next_slot(schedule, now).map_or(now, |slot| slot - chrono::Duration::seconds(1));
    Ok(plan(
        &data.library,
        &PreviewRequest {
            settings: schedule.settings.clone(),
            extra_holidays: data.settings.schedule.extra_holidays.clone(),
            from,
            count,
            state: schedule.rotation.clone(),
        },
    )?)
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
    let guild = require_admin(&request(&ctx))?;
    postable_kind(&channel)?;
    let data = ctx.data();
    let channel_id = channel.id.get();
    // A schedule that can no longer be read is set anew from the defaults.
    let current = match data.store.schedule_for_channel(channel_id).await {
        Err(StoreError::Unreadable(_)) => None,
        read => read?,
    };
    let current = current.filter(|schedule| schedule.guild_id == guild);
    let base = current
        .as_ref()
        .map_or(&data.settings.schedule.defaults, |schedule| {
            &schedule.settings
        });
    let settings = base
        .changed(&SettingsChange {
            cron: cron.as_deref(),
            timezone: timezone.as_deref(),
            bank_holidays: bank_holidays.map(BankHolidays::region),
            include_bullying,
        })
        .map_err(|err| UserError::BadInput(format!("{}: {err}", err.setting())))?;
    check_visible(data, channel_id).await?;
    let now = data.clock.now();
    let next_due = settings.schedule.next_after(now);
    let saved = data
        .store
        .upsert_schedule(
            &NewSchedule {
                guild_id: guild,
                channel_id,
                settings,
                role_ping: ping_role
                    .map(|role| role.get())
                    .or(current.as_ref().and_then(|schedule| schedule.role_ping))
                    .filter(|role| *role != guild),
                thread: thread.unwrap_or(current.as_ref().is_some_and(|schedule| schedule.thread)),
                created_by: ctx.interaction.user.id.get(),
                seed: rand::random(),
                next_due,
            },
            now,
        )
        .await?;
    data.scheduler.wake();
    tracing::info!(schedule = saved.id, "a schedule was set");
    let slots = upcoming(data, &saved, 3)?;
    let card = schedule_saved_card(&data.library, &saved, current.is_none(), &slots);
    data.reply(&ctx, card, true).await
}

/// Every schedule in this server, with its next and last post.
#[poise::command(slash_command, guild_only)]
async fn list(ctx: AppContext<'_>) -> Result<(), Error> {
    let guild = require_admin(&request(&ctx))?;
    let data = ctx.data();
    let listed = data.store.schedules_for_guild(guild).await?;
    let mut rows = Vec::new();
    for schedule in listed.schedules {
        let last = data
            .store
            .recent_deliveries(schedule.id, 1)
            .await?
            .into_iter()
            .next();
        rows.push((schedule, last));
    }
    data.reply(&ctx, schedule_list_card(&rows, &listed.unreadable), true)
        .await
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
    let schedule = admin_schedule(&ctx, &channel).await?;
    let slots = upcoming(data, &schedule, 6)?;
    let card = schedule_preview_card(&data.library, &schedule, &slots);
    data.reply(&ctx, card, true).await
}

/// The first moment of `date` in `tz` (after a clock change that skips midnight, the first that
/// exists).
fn start_of(date: NaiveDate, tz: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    (0..3).find_map(|hour| {
        tz.from_local_datetime(&date.and_hms_opt(hour, 0, 0)?)
            .earliest()
            .map(|at| at.with_timezone(&Utc))
    })
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
    let schedule = admin_schedule(&ctx, &channel).await?;
    let tz = schedule.settings.schedule.timezone();
    let now = data.clock.now();
    let resume_at = match until.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => {
            let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
                UserError::BadInput(
                    "write the date as year-month-day, such as 2027-01-04".to_string(),
                )
            })?;
            let today = now.with_timezone(&tz).date_naive();
            if date <= today {
                return Err(UserError::BadInput(format!(
                    "{text} is not in the future; choose a date after today ({today})"
                ))
                .into());
            }
            Some(
                start_of(date, tz)
                    .ok_or_else(|| UserError::BadInput("that date cannot be used".to_string()))?,
            )
        }
    };
    data.store.pause_schedule(schedule.id, resume_at).await?;
    data.scheduler.wake();
    let text = match resume_at {
        Some(at) => format!(
            "Paused posts in <#{}> until {}. Posts that fall before then are not sent later.",
            schedule.channel_id,
            at.with_timezone(&tz).format("%A %-d %B %Y")
        ),
        None => format!(
            "Paused posts in <#{}>. Use /schedule resume to start them again.",
            schedule.channel_id
        ),
    };
    data.reply(&ctx, note_card(text), true).await
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
    let schedule = admin_schedule(&ctx, &channel).await?;
    let next = schedule.settings.schedule.next_after(data.clock.now());
    data.store.resume_schedule(schedule.id, next).await?;
    data.scheduler.wake();
    let tz = schedule.settings.schedule.timezone();
    let text = match next {
        Some(at) => format!(
            "Posts in <#{}> start again. The next is {}.",
            schedule.channel_id,
            at.with_timezone(&tz).format("%A %-d %B %Y, %H:%M %Z")
        ),
        None => format!(
            "<#{}> is resumed, but its schedule has no more dates.",
            schedule.channel_id
        ),
    };
    data.reply(&ctx, note_card(text), true).await
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
    let schedule = admin_schedule(&ctx, &channel).await?;
    let Some(slot) = next_slot(&schedule, data.clock.now()) else {
        return Err(UserError::Conflict(
            "That schedule has no post coming up to skip. A schedule paused until resumed has none."
                .to_string(),
        )
        .into());
    };
    let following = schedule.settings.schedule.next_after(slot);
    if !data
        .store
        .skip_slot(schedule.id, schedule.version, slot, following)
        .await?
    {
        return Err(UserError::Conflict(
            "That post is going out right now, or the schedule just changed. Check /schedule list and try again.".to_string(),
        )
        .into());
    }
    data.scheduler.wake();
    let tz = schedule.settings.schedule.timezone();
    let when = |at: DateTime<Utc>| {
        at.with_timezone(&tz)
            .format("%A %-d %B, %H:%M %Z")
            .to_string()
    };
    let text = match following {
        Some(next) => format!(
            "Skipped the post on {} in <#{}>. The next is {}, with the theme that was due.",
            when(slot),
            schedule.channel_id,
            when(next)
        ),
        None => format!(
            "Skipped the post on {} in <#{}>.",
            when(slot),
            schedule.channel_id
        ),
    };
    data.reply(&ctx, note_card(text), true).await
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
    let schedule = admin_schedule(&ctx, &channel).await?;
    data.store.delete_schedule(schedule.channel_id).await?;
    data.scheduler.wake();
    let text = format!(
        "Removed the schedule for <#{}>. Nothing more will be posted there.",
        schedule.channel_id
    );
    data.reply(&ctx, note_card(text), true).await
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
    let schedule = admin_schedule(&ctx, &channel).await?;
    // Posting waits its turn under Discord's limits, which can take longer than the 3 seconds a
    // first answer has.
    data.rest
        .defer(ctx.interaction.id, &ctx.interaction.token, true)
        .await
        .map_err(crate::bot::data::ReplyFailed)?;
    let outcome = data
        .scheduler
        .post_now(&schedule)
        .await
        .unwrap_or_else(|err| {
            tracing::error!(error = %format!("{err:#}"), "post-now failed");
            PostNow::Failed {
                reason: "something went wrong on careprompt's side".to_string(),
            }
        });
    let text = match outcome {
        PostNow::Posted { .. } => format!("Posted the next card in <#{}>.", schedule.channel_id),
        PostNow::Busy => "A post for that channel is going out right now; check /schedule list in a moment.".to_string(),
        PostNow::Pending { reason } => format!(
            "The card is claimed but not posted yet: {reason}. careprompt keeps trying, and /schedule list shows how it went."
        ),
        PostNow::Failed { reason } => format!("The card could not be posted: {reason}."),
    };
    data.answer_deferred(&ctx, note_card(text)).await
}
