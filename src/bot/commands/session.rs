//! `/session` for facilitators: a theme's reflective session, planned privately, then run stage
//! by stage in a public thread of the team's channel. What each subcommand answers is
//! `app::session`'s; opening the thread and posting in it are Discord's, and stay here. Who may run one (Manage Server, or the
//! server's facilitator role) is checked (`app::checks`) on every command and every button,
//! not left to Discord's command permissions. A theme with `before_you_start` (bullying
//! and harassment, equality and diversity) first asks its facilitator, privately, and nothing is
//! stored or posted until they choose Start.

use chrono::{DateTime, Utc};
use poise::serenity_prelude as serenity;

use crate::app;
use crate::app::checks::may_facilitate;
use crate::app::session::{Launch, Start};
use crate::bot::data::{request, rights};
use crate::bot::data::{AppContext, Data, Error, ReplyFailed, StaleButton};
use crate::cards::{note_card, text_card, SessionBegin};
use crate::discord::RestError;
use crate::domain::content::Theme;
use crate::domain::session::{deadline, length, stages, thread_archive_minutes, CONFIRM_WINDOW};
use crate::error::UserError;
use crate::platform::Failure;
use crate::scheduler::StagePosted;
use crate::store::{NewSession, SessionRecord, SessionStart};

pub fn commands() -> Vec<super::Command> {
    vec![session()]
}

/// How long a session runs.
#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum Length {
    #[name = "30 minutes"]
    Thirty,
    #[name = "45 minutes"]
    FortyFive,
    #[name = "60 minutes"]
    Sixty,
}

impl Length {
    fn minutes(self) -> u32 {
        match self {
            Length::Thirty => 30,
            Length::FortyFive => 45,
            Length::Sixty => 60,
        }
    }
}

/// Run a reflective session on a theme with your team, stage by stage, in a thread.
#[poise::command(
    slash_command,
    guild_only,
    subcommands("plan", "start", "end", "role"),
    subcommand_required
)]
pub async fn session(_ctx: AppContext<'_>) -> Result<(), Error> {
    Ok(())
}

/// A session's outline to prepare with: stages, story, questions and timings. Only you see it.
#[poise::command(slash_command, guild_only)]
async fn plan(
    ctx: AppContext<'_>,
    #[description = "Which theme"] theme: String,
    #[description = "How long (30 minutes if you leave it out)"] minutes: Option<Length>,
    #[description = "A story by its name (the theme's first if you leave it out)"]
    #[max_length = 100]
    story: Option<String>,
) -> Result<(), Error> {
    let data = ctx.data();
    let answer = app::session::plan(
        data.core(),
        &request(&ctx),
        &theme,
        minutes.map(Length::minutes),
        story.as_deref(),
    )
    .await?;
    data.answer(&ctx, answer).await
}

/// Why Discord refused to open the thread or post in it, in words a facilitator can act on.
fn thread_refusal(err: &RestError, channel: u64) -> Option<UserError> {
    match err.status()? {
        403 => Some(UserError::CannotPost(
            channel,
            "careprompt needs the Create Public Threads and Send Messages in Threads permissions there. Ask someone with Manage Server to give them, then try again".to_string(),
        )),
        404 => Some(UserError::CannotPost(
            channel,
            "I can't see that channel".to_string(),
        )),
        _ => None,
    }
}

/// The thread's name: the theme and the date, inside Discord's 100 characters.
fn thread_name(theme: &Theme, now: DateTime<Utc>) -> String {
    format!(
        "Reflective session: {}, {}",
        theme.title,
        now.format("%-d %B %Y")
    )
    .chars()
    .take(100)
    .collect()
}

/// Start a reflective session in this channel: careprompt opens a thread and runs it stage by
/// stage.
#[poise::command(slash_command, guild_only)]
async fn start(
    ctx: AppContext<'_>,
    #[description = "Which theme"] theme: String,
    #[description = "How long (30 minutes if you leave it out)"] minutes: Option<Length>,
    #[description = "A story by its name (the theme's first if you leave it out)"]
    #[max_length = 100]
    story: Option<String>,
    #[description = "Move on by itself when each stage's time is up"] auto: Option<bool>,
) -> Result<(), Error> {
    let data = ctx.data();
    let started = app::session::start(
        data.core(),
        &request(&ctx),
        &theme,
        minutes.map(Length::minutes),
        story.as_deref(),
        auto,
    )
    .await?;
    let launch = match started {
        Start::Ask(question) => return data.answer(&ctx, question).await,
        Start::Launch(launch) => launch,
    };
    let answer = StartedFrom {
        interaction: ctx.interaction.id,
        application: ctx.interaction.application_id,
        token: &ctx.interaction.token,
        to_click: false,
    };
    run(data, &launch, answer).await
}

/// The interaction a start is answered on: the `/session start` command itself, or the Start
/// button of the question asked before it.
struct StartedFrom<'a> {
    interaction: serenity::InteractionId,
    application: serenity::ApplicationId,
    token: &'a str,
    /// A click replaces the question it answers; a command gets an answer of its own.
    to_click: bool,
}

/// Records the session, opens its thread and posts its first stage, then tells the facilitator
/// privately where it is, or why it could not start.
async fn run(data: &Data, launch: &Launch<'_>, answer: StartedFrom<'_>) -> Result<(), Error> {
    let now = data.clock.now();
    let first_deadline = stages(launch.minutes, launch.story.is_some())
        .first()
        .map(|first| deadline(first, now));
    let started = data
        .store
        .start_session(
            &NewSession {
                guild_id: launch.place,
                channel_id: launch.channel,
                facilitator_id: launch.facilitator,
                theme: &launch.theme.slug,
                story_id: launch.story.map(|story| story.id.as_str()),
                minutes: launch.minutes,
                auto: launch.auto,
            },
            first_deadline.filter(|_| launch.auto),
            now,
        )
        .await?;
    let session = match started {
        SessionStart::Started(session) => *session,
        SessionStart::Busy(running) => {
            let place = running.thread_id.unwrap_or(running.channel_id);
            return Err(UserError::Conflict(format!(
                "A reflective session is already running in this channel, in <#{place}>. End it with /session end (or its End button) before starting another."
            ))
            .into());
        }
    };
    // Opening the thread and posting can wait their turn under Discord's limits, longer than
    // the 3 seconds a first answer has. A click's question gives way at once, so its Start
    // cannot be pressed twice.
    let acknowledged = if answer.to_click {
        let starting =
            text_card("Starting your session: opening its thread. Only you can see this.");
        data.rest
            .update_message(answer.interaction, answer.token, starting)
            .await
    } else {
        data.rest
            .defer(answer.interaction, answer.token, true)
            .await
    };
    acknowledged.map_err(ReplyFailed)?;
    let text = match open_and_post(data, &session, launch.theme, now).await {
        Ok(thread) => format!(
            "Your reflective session on {} has started in <#{thread}>. Use the buttons on each card to move on, pause or end it; /session end ends it from anywhere in the channel. Stay on for a few minutes after the close, and check on anyone who steps out.",
            launch.theme.title
        ),
        Err(reason) => reason,
    };
    data.rest
        .edit_original(answer.application, answer.token, note_card(text))
        .await
        .map_err(ReplyFailed)?;
    Ok(())
}

/// The facilitator's answer to the question asked before a sensitive theme's session: Start
/// begins it as `/session start` would have, if the question has not lapsed; Cancel, or a lapsed
/// question, changes nothing. Either way the question gives way to the answer.
pub async fn answer_question(
    data: &Data,
    click: &serenity::ComponentInteraction,
    begin: Option<SessionBegin>,
) -> Result<(), Error> {
    let guild = click.guild_id.ok_or(StaleButton)?.get();
    let replace = |text: &str| {
        let card = text_card(&format!("{text} Only you can see this."));
        async move {
            data.rest
                .update_message(click.id, &click.token, card)
                .await
                .map_err(ReplyFailed)
        }
    };
    let Some(begin) = begin else {
        replace("Not started: nothing was posted.").await?;
        return Ok(());
    };
    may_facilitate(
        &data.store,
        guild,
        &rights(click.member.as_ref()),
        UserError::NotAllowedToFacilitate,
    )
    .await?;
    let asked_at = DateTime::from_timestamp(begin.asked_at, 0).ok_or(StaleButton)?;
    if data.clock.now() - asked_at > CONFIRM_WINDOW {
        replace("That question has lapsed, so nothing was posted. Use /session start again when you are ready.").await?;
        return Ok(());
    }
    let theme = data.library.theme(&begin.theme).ok_or(StaleButton)?;
    let story = match &begin.story {
        Some(id) => Some(data.library.story(id).ok_or(StaleButton)?),
        None => None,
    };
    let minutes = length(Some(begin.minutes)).ok_or(StaleButton)?;
    let launch = Launch {
        place: guild,
        channel: click.channel_id.get(),
        facilitator: click.user.id.get(),
        theme,
        story,
        minutes,
        auto: begin.auto,
    };
    let answer = StartedFrom {
        interaction: click.id,
        application: click.application_id,
        token: &click.token,
        to_click: true,
    };
    run(data, &launch, answer).await
}

/// Opens the session's thread and posts its first stage; on a refusal, forgets the session so
/// nothing is left half-made, and says why.
async fn open_and_post(
    data: &Data,
    session: &SessionRecord,
    theme: &Theme,
    now: DateTime<Utc>,
) -> Result<u64, String> {
    let channel = session.channel_id;
    let undo = |reason: String| async move {
        if let Err(err) = data.store.delete_session(session.id).await {
            tracing::warn!(session = session.id, error = %err, "could not forget a session that did not start");
        }
        reason
    };
    // Discord is not to archive the thread by itself while careprompt may still run the
    // session in it.
    let archive_minutes = thread_archive_minutes(data.settings.sessions.archive_after);
    let thread = match data
        .rest
        .create_thread(channel, &thread_name(theme, now), archive_minutes)
        .await
    {
        Ok(thread) => thread,
        Err(err) => {
            tracing::warn!(session = session.id, error = %err, "could not open a session's thread");
            let reason = thread_refusal(&err, channel).map_or_else(
                || "The session could not start: Discord did not open its thread. Please try again in a minute.".to_string(),
                |refusal| refusal.to_string(),
            );
            return Err(undo(reason).await);
        }
    };
    if let Err(err) = data.store.set_session_thread(session.id, thread).await {
        tracing::warn!(session = session.id, error = %err, "could not record a session's thread");
        return Err(undo(crate::error::GENERIC_FAILURE.to_string()).await);
    }
    let opened = SessionRecord {
        thread_id: Some(thread),
        ..session.clone()
    };
    match data.scheduler.post_stage(&opened).await {
        Ok(StagePosted::Refused(failure)) => {
            // Without Send Messages in Threads the thread would stand empty: take it away.
            if let Err(err) = data.rest.delete_thread(thread).await {
                tracing::warn!(session = session.id, error = %err, "could not delete the thread of a session that did not start");
            }
            let reason = if failure == Failure::Forbidden {
                "careprompt needs the Send Messages in Threads permission there. Ask someone with Manage Server to give it, then try again".to_string()
            } else {
                "its thread was closed as it opened".to_string()
            };
            Err(undo(UserError::CannotPost(channel, reason).to_string()).await)
        }
        Ok(_) => {
            data.scheduler.wake();
            Ok(thread)
        }
        Err(err) => {
            tracing::warn!(session = session.id, error = %format!("{err:#}"), "could not post a session's first stage");
            Ok(thread)
        }
    }
}

/// End the reflective session running in this channel; you get a private summary.
#[poise::command(slash_command, guild_only)]
async fn end(ctx: AppContext<'_>) -> Result<(), Error> {
    let data = ctx.data();
    let answer = app::session::end(data.core(), &request(&ctx)).await?;
    data.answer(&ctx, answer).await
}

/// Choose the role, besides Manage Server, whose members may run reflective sessions here.
#[poise::command(slash_command, guild_only)]
async fn role(
    ctx: AppContext<'_>,
    #[description = "The facilitators' role (leave out to allow Manage Server only)"] role: Option<
        serenity::RoleId,
    >,
) -> Result<(), Error> {
    let data = ctx.data();
    let answer =
        app::session::role(data.core(), &request(&ctx), role.map(|role| role.get())).await?;
    data.answer(&ctx, answer).await
}
