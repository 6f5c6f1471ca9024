//! `/session` for facilitators: a theme's reflective session, planned privately, then run stage
//! by stage. Who may run one (managing the server, or holding its facilitator role) is checked
//! here on every command. A theme with `before_you_start` (bullying and harassment, equality and
//! diversity) first asks its facilitator, privately, and nothing is stored or posted until they
//! choose Start. Opening the session's thread is the platform's, so `start` says what to launch
//! and the adapter launches it.

use crate::app::checks::{find_theme, may_end_session, require_admin, require_facilitator};
use crate::app::{Answer, Core, Request};
use crate::cards::{
    confirm_card, note_card, plan_card, summary_card, Card, SessionRequest, SessionView,
};
use crate::domain::content::{Library, Story, Theme};
use crate::domain::session::{describe_duration, length};
use crate::error::{Error, UserError};
use crate::store::SessionRecord;

/// How long a session runs when the facilitator does not say.
const DEFAULT_MINUTES: u32 = 30;

/// The story a session shows: the one asked for (by id or title), or the theme's first.
pub fn pick_story<'a>(
    library: &'a Library,
    theme: &'a Theme,
    given: Option<&str>,
) -> Result<Option<&'a Story>, UserError> {
    let mut stories = library.stories_for(&theme.slug);
    match given.map(str::trim).filter(|given| !given.is_empty()) {
        None => Ok(stories.next()),
        Some(given) => library
            .stories
            .iter()
            .find(|story| story.id == given || story.title.eq_ignore_ascii_case(given))
            .map(Some)
            .ok_or_else(|| {
                let known: Vec<&str> = library
                    .stories_for(&theme.slug)
                    .map(|story| story.id.as_str())
                    .collect();
                UserError::BadInput(format!(
                    "I don't know the story \"{}\"; for {} try {}",
                    crate::domain::excerpt(given),
                    theme.title,
                    if known.is_empty() {
                        "leaving it out".to_string()
                    } else {
                        known.join(", ")
                    }
                ))
            }),
    }
}

/// `/session plan`: a session's outline to prepare with, privately.
pub async fn plan(
    core: Core<'_>,
    request: &Request,
    theme: &str,
    minutes: Option<u32>,
    story: Option<&str>,
) -> Result<Answer, Error> {
    require_facilitator(core.store, request, UserError::NotAllowedToFacilitate).await?;
    let theme = find_theme(core.library, theme)?;
    let story = pick_story(core.library, theme, story)?;
    let view = SessionView {
        id: 0,
        theme,
        story,
        minutes: length(minutes).unwrap_or(DEFAULT_MINUTES),
        auto: false,
    };
    Ok(Answer::private(plan_card(
        &view,
        core.settings.org_support(),
    )))
}

/// A session to launch, as the facilitator asked for it.
#[derive(Debug, Clone, Copy)]
pub struct Launch<'a> {
    pub place: u64,
    pub channel: u64,
    pub facilitator: u64,
    pub theme: &'a Theme,
    pub story: Option<&'a Story>,
    pub minutes: u32,
    pub auto: bool,
}

/// What `/session start` comes to.
#[derive(Debug)]
pub enum Start<'a> {
    /// A sensitive theme: the facilitator is asked first, privately.
    Ask(Answer),
    /// The session is to start now, in the channel it was asked in.
    Launch(Launch<'a>),
}

/// `/session start`, up to the point where the platform opens its thread.
pub async fn start<'a>(
    core: Core<'a>,
    request: &Request,
    theme: &str,
    minutes: Option<u32>,
    story: Option<&str>,
    auto: Option<bool>,
) -> Result<Start<'a>, Error> {
    let place = require_facilitator(core.store, request, UserError::NotAllowedToFacilitate).await?;
    let theme = find_theme(core.library, theme)?;
    let story = pick_story(core.library, theme, story)?;
    let minutes = length(minutes).unwrap_or(DEFAULT_MINUTES);
    let auto = auto.unwrap_or(false);
    if theme.session.before_you_start.is_some() {
        // Asked privately; nothing is stored or posted until the facilitator chooses Start.
        let asked = SessionRequest {
            theme,
            story,
            minutes,
            auto,
            asked_at: core.clock.now().timestamp(),
        };
        return Ok(Start::Ask(Answer::private(confirm_card(&asked))));
    }
    Ok(Start::Launch(Launch {
        place,
        channel: request.channel,
        facilitator: request.who.id,
        theme,
        story,
        minutes,
        auto,
    }))
}

/// Ends a session: records it, archives its thread and returns the facilitator's private
/// summary. `None` if it had ended already.
pub async fn finish(core: Core<'_>, session: &SessionRecord) -> Result<Option<Card>, Error> {
    let now = core.clock.now();
    if !core.scheduler.end_session(session, now).await? {
        return Ok(None);
    }
    tracing::info!(session = session.id, "a reflective session ended");
    let Some(view) = core.scheduler.session_view(session) else {
        return Ok(Some(note_card(
            "The session has ended. Only you can see this.".to_string(),
        )));
    };
    Ok(Some(summary_card(
        view.theme,
        session.stage + 1,
        u32::try_from(view.stages().len()).unwrap_or(u32::MAX),
        &describe_duration(now - session.started_at),
        session.thread_id,
    )))
}

/// `/session end`: the session running in the channel asked in ends, and its facilitator gets a
/// private summary.
pub async fn end(core: Core<'_>, request: &Request) -> Result<Answer, Error> {
    require_facilitator(core.store, request, UserError::NotAllowedToFacilitate).await?;
    let Some(session) = core.store.running_session_in(request.channel).await? else {
        return Err(UserError::Conflict(
            "There is no reflective session running in this channel.".to_string(),
        )
        .into());
    };
    may_end_session(request, session.facilitator_id)?;
    let card = finish(core, &session).await?.unwrap_or_else(|| {
        note_card("That session had already ended. Only you can see this.".to_string())
    });
    Ok(Answer::private(card))
}

/// `/session role`: the role, besides managing the server, whose members may run sessions;
/// `None` leaves it to managers only.
pub async fn role(core: Core<'_>, request: &Request, role: Option<u64>) -> Result<Answer, Error> {
    let place = require_admin(request)?;
    let role = role.filter(|role| *role != place);
    core.store
        .set_facilitator_role(place, role, core.clock.now())
        .await?;
    let text = match role {
        Some(role) => format!("Members with <@&{role}>, and anyone with Manage Server, can now run reflective sessions here."),
        None => "Only members with Manage Server can now run reflective sessions here.".to_string(),
    };
    Ok(Answer::private(note_card(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_story_is_the_one_named_or_the_themes_first() {
        let library = crate::library::built_in().expect("shipped");
        let theme = library
            .themes
            .iter()
            .find(|theme| library.stories_for(&theme.slug).count() > 1)
            .expect("a theme with stories");
        let mut stories = library.stories_for(&theme.slug);
        let first = stories.next().expect("a first");
        let second = stories.next().expect("a second");
        assert_eq!(pick_story(&library, theme, None), Ok(Some(first)));
        assert_eq!(pick_story(&library, theme, Some("  ")), Ok(Some(first)));
        assert_eq!(
            pick_story(&library, theme, Some(&second.title.to_uppercase())),
            Ok(Some(second))
        );
        let unknown = pick_story(&library, theme, Some("no such story")).expect_err("unknown");
        assert!(
            unknown.to_string().contains(&first.id),
            "the refusal names the theme's stories: {unknown}"
        );
    }
}
