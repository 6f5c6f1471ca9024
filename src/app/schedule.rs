//! `/schedule` for server admins (reflection posts in a channel on a crontab schedule) and
//! `/upcoming` for facilitators. Every `/schedule` command checks the person's rights here, so a
//! server that opens the command to everyone still cannot let anyone else change a schedule.

use std::future::Future;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use crate::app::checks::require_admin;
use crate::app::{Answer, Core, Request};
use crate::cards::{note_card, schedule_list_card, schedule_preview_card, schedule_saved_card};
use crate::domain::holidays::Region;
use crate::domain::planning::{plan, PreviewRequest, Slot};
use crate::domain::settings::SettingsChange;
use crate::error::{Error, UserError};
use crate::scheduler::PostNow;
use crate::store::{NewSchedule, ScheduleRecord, StoreError};

/// The channel's schedule, which must belong to this server.
pub async fn existing(core: Core<'_>, place: u64, channel: u64) -> Result<ScheduleRecord, Error> {
    match core.store.schedule_for_channel(channel).await {
        Ok(Some(schedule)) if schedule.guild_id == place => Ok(schedule),
        Ok(_) => Err(UserError::NoSchedule(channel).into()),
        Err(StoreError::Unreadable(schedule)) if schedule.guild_id == place => {
            Err(UserError::UnreadableSchedule(channel, schedule.reason).into())
        }
        Err(StoreError::Unreadable(_)) => Err(UserError::NoSchedule(channel).into()),
        Err(err) => Err(err.into()),
    }
}

/// The channel's schedule, for a person allowed to manage it.
pub async fn admin_schedule(
    core: Core<'_>,
    request: &Request,
    channel: u64,
) -> Result<ScheduleRecord, Error> {
    let place = require_admin(request)?;
    existing(core, place, channel).await
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

/// The next `count` slots of a schedule, from where it stands.
pub fn upcoming_slots(
    core: Core<'_>,
    schedule: &ScheduleRecord,
    count: usize,
) -> Result<Vec<Slot>, Error> {
    let now = core.clock.now();
    let from = next_slot(schedule, now).map_or(now, |slot| slot - chrono::Duration::seconds(1));
    Ok(plan(
        core.library,
        &PreviewRequest {
            settings: schedule.settings.clone(),
            extra_holidays: core.settings.schedule.extra_holidays.clone(),
            from,
            count,
            state: schedule.rotation.clone(),
        },
    )?)
}

/// `/upcoming`: the next reflection posts in the channel asked in.
pub async fn upcoming(core: Core<'_>, request: &Request) -> Result<Answer, Error> {
    // A schedule that can no longer be read posts nothing, so there is nothing upcoming.
    let schedule = match core.store.schedule_for_channel(request.channel).await {
        Err(StoreError::Unreadable(_)) => None,
        read => read?,
    }
    .filter(|schedule| Some(schedule.guild_id) == request.place);
    let card = match schedule {
        Some(schedule) => {
            let slots = upcoming_slots(core, &schedule, 3)?;
            schedule_preview_card(core.library, &schedule, &slots)
        }
        None => note_card(
            "This channel has no reflection post schedule. A server admin can set one up with /schedule set.".to_string(),
        ),
    };
    Ok(Answer::private(card))
}

/// What `/schedule set` was asked to change; what is left out keeps its value.
#[derive(Debug, Clone, Default)]
pub struct ScheduleChange<'a> {
    pub cron: Option<&'a str>,
    pub timezone: Option<&'a str>,
    /// `Some(None)`: post on bank holidays too.
    pub bank_holidays: Option<Option<Region>>,
    pub include_bullying: Option<bool>,
    pub ping_role: Option<u64>,
    pub thread: Option<bool>,
}

/// `/schedule set`: posts in `channel`, set anew or changed. `postable` says whether the
/// platform can post cards in a channel of that kind, and `visible` asks it whether careprompt
/// can see the channel; it is asked only once the change is known to be sound.
pub async fn set(
    core: Core<'_>,
    request: &Request,
    channel: u64,
    postable: Result<(), UserError>,
    change: &ScheduleChange<'_>,
    visible: impl Future<Output = Result<(), Error>>,
) -> Result<Answer, Error> {
    let place = require_admin(request)?;
    postable?;
    // A schedule that can no longer be read is set anew from the defaults.
    let current = match core.store.schedule_for_channel(channel).await {
        Err(StoreError::Unreadable(_)) => None,
        read => read?,
    };
    let current = current.filter(|schedule| schedule.guild_id == place);
    let base = current
        .as_ref()
        .map_or(&core.settings.schedule.defaults, |schedule| {
            &schedule.settings
        });
    let settings = base
        .changed(&SettingsChange {
            cron: change.cron,
            timezone: change.timezone,
            bank_holidays: change.bank_holidays,
            include_bullying: change.include_bullying,
        })
        .map_err(|err| UserError::BadInput(format!("{}: {err}", err.setting())))?;
    visible.await?;
    let now = core.clock.now();
    let next_due = settings.schedule.next_after(now);
    let saved = core
        .store
        .upsert_schedule(
            &NewSchedule {
                guild_id: place,
                channel_id: channel,
                settings,
                role_ping: change
                    .ping_role
                    .or(current.as_ref().and_then(|schedule| schedule.role_ping))
                    .filter(|role| *role != place),
                thread: change
                    .thread
                    .unwrap_or(current.as_ref().is_some_and(|schedule| schedule.thread)),
                created_by: request.who.id,
                seed: rand::random(),
                next_due,
            },
            now,
        )
        .await?;
    core.scheduler.wake();
    tracing::info!(schedule = saved.id, "a schedule was set");
    let slots = upcoming_slots(core, &saved, 3)?;
    let card = schedule_saved_card(core.library, &saved, current.is_none(), &slots);
    Ok(Answer::private(card))
}

/// `/schedule list`: every schedule in the server, with its next and last post.
pub async fn list(core: Core<'_>, request: &Request) -> Result<Answer, Error> {
    let place = require_admin(request)?;
    let listed = core.store.schedules_for_guild(place).await?;
    let mut rows = Vec::new();
    for schedule in listed.schedules {
        let last = core
            .store
            .recent_deliveries(schedule.id, 1)
            .await?
            .into_iter()
            .next();
        rows.push((schedule, last));
    }
    Ok(Answer::private(schedule_list_card(
        &rows,
        &listed.unreadable,
    )))
}

/// `/schedule preview`: the next six posts in a channel.
pub async fn preview(core: Core<'_>, request: &Request, channel: u64) -> Result<Answer, Error> {
    let schedule = admin_schedule(core, request, channel).await?;
    let slots = upcoming_slots(core, &schedule, 6)?;
    Ok(Answer::private(schedule_preview_card(
        core.library,
        &schedule,
        &slots,
    )))
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

/// `/schedule pause`: no posts in a channel until `until` (a date), or until resumed.
pub async fn pause(
    core: Core<'_>,
    request: &Request,
    channel: u64,
    until: Option<&str>,
) -> Result<Answer, Error> {
    let schedule = admin_schedule(core, request, channel).await?;
    let tz = schedule.settings.schedule.timezone();
    let now = core.clock.now();
    let resume_at = match until.map(str::trim) {
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
    core.store.pause_schedule(schedule.id, resume_at).await?;
    core.scheduler.wake();
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
    Ok(Answer::private(note_card(text)))
}

/// `/schedule resume`: posts in a paused channel again, from its next slot.
pub async fn resume(core: Core<'_>, request: &Request, channel: u64) -> Result<Answer, Error> {
    let schedule = admin_schedule(core, request, channel).await?;
    let next = schedule.settings.schedule.next_after(core.clock.now());
    core.store.resume_schedule(schedule.id, next).await?;
    core.scheduler.wake();
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
    Ok(Answer::private(note_card(text)))
}

/// `/schedule skip`: the next post in a channel is skipped; the themes carry on where they were.
pub async fn skip(core: Core<'_>, request: &Request, channel: u64) -> Result<Answer, Error> {
    let schedule = admin_schedule(core, request, channel).await?;
    let Some(slot) = next_slot(&schedule, core.clock.now()) else {
        return Err(UserError::Conflict(
            "That schedule has no post coming up to skip. A schedule paused until resumed has none."
                .to_string(),
        )
        .into());
    };
    let following = schedule.settings.schedule.next_after(slot);
    if !core
        .store
        .skip_slot(schedule.id, schedule.version, slot, following)
        .await?
    {
        return Err(UserError::Conflict(
            "That post is going out right now, or the schedule just changed. Check /schedule list and try again.".to_string(),
        )
        .into());
    }
    core.scheduler.wake();
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
    Ok(Answer::private(note_card(text)))
}

/// `/schedule remove`: no more posts in a channel, and its schedule forgotten.
pub async fn remove(core: Core<'_>, request: &Request, channel: u64) -> Result<Answer, Error> {
    let schedule = admin_schedule(core, request, channel).await?;
    core.store.delete_schedule(schedule.channel_id).await?;
    core.scheduler.wake();
    let text = format!(
        "Removed the schedule for <#{}>. Nothing more will be posted there.",
        schedule.channel_id
    );
    Ok(Answer::private(note_card(text)))
}

/// `/schedule post-now`, once `admin_schedule` has found the schedule: its next card posted now,
/// the themes moving on as if it had been scheduled. Posting waits its turn under the platform's
/// limits, so the platform may need to hold the person's answer open first.
pub async fn post_now(core: Core<'_>, schedule: &ScheduleRecord) -> Answer {
    let outcome = core
        .scheduler
        .post_now(schedule)
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
    Answer::private(note_card(text))
}
