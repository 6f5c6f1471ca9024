//! The cards of a facilitated reflective session (`/session`): the private outline to plan with,
//! each stage card in the session's thread with the facilitator's buttons, and the summary.

use poise::serenity_prelude::{ButtonStyle, CreateButton, CreateEmbed, CreateEmbedFooter};

use crate::discord::cards::{pack_buttons, story_line, with_concern, Card, STORY_CREDIT};
use crate::discord::custom_id::{ButtonAction, SessionControl};
use crate::domain::content::{Story, Theme, DNA_OF_CARE_URL};
use crate::domain::session::{stages, starts, Stage, StageKind};

/// Why each ground rule is there is in the README's "Running a reflective session".
const GROUND_RULES: &str = "**Ground rules**\n\
- What is said here stays here: in the room, and in this thread.\n\
- No names of patients or colleagues.\n\
- Speak for yourself, from what you have seen and felt.\n\
- Anyone may pass, at any time, without saying why.\n\
- This is time to reflect, not to solve problems or raise complaints: those have their own routes, and /support lists people who can help.";

const CLOSE_THANKS: &str = "Thank you for taking part, and for listening to each other. \
If today brought something up, /support lists people who can help, whenever you need it. \
Anyone can keep a prompt for later with the Save button on careprompt's posts.";

/// A running or planned session, as far as its cards need to know it.
#[derive(Debug, Clone, Copy)]
pub struct SessionView<'a> {
    pub id: i64,
    pub theme: &'a Theme,
    pub story: Option<&'a Story>,
    pub minutes: u32,
    pub auto: bool,
}

impl SessionView<'_> {
    pub fn stages(&self) -> Vec<Stage> {
        stages(self.minutes, self.story.is_some())
    }
}

/// A stage's title, as its card and the outline show it.
fn stage_title(theme: &Theme, kind: StageKind) -> String {
    match kind {
        StageKind::Welcome => "Welcome and ground rules".to_string(),
        StageKind::Story => "The story".to_string(),
        StageKind::Question(index) => format!(
            "Reflection: question {} of {}",
            index + 1,
            theme.session.questions.len()
        ),
        StageKind::Close => "Close".to_string(),
    }
}

fn minutes(count: u32) -> String {
    if count == 1 {
        "1 minute".to_string()
    } else {
        format!("{count} minutes")
    }
}

/// What a stage card says, without its buttons.
fn stage_text(view: &SessionView<'_>, kind: StageKind) -> String {
    let session = &view.theme.session;
    match kind {
        StageKind::Welcome => format!("{}\n\n{GROUND_RULES}", session.opening),
        StageKind::Story => match view.story {
            Some(story) => format!(
                "{}\n\nWatch it together, or on your own, then come back.\n\n*{STORY_CREDIT}.*",
                story_line(story)
            ),
            None => String::new(),
        },
        StageKind::Question(index) => format!(
            "**{}**\n\nTake your time. Anyone may pass.",
            session.questions.get(index).map_or("", String::as_str)
        ),
        StageKind::Close => format!("**{}**\n\n{CLOSE_THANKS}", session.closing),
    }
}

fn control(view: &SessionView<'_>, stage: u32, control: SessionControl) -> CreateButton {
    let (label, style) = match control {
        SessionControl::Next => ("Next", ButtonStyle::Primary),
        SessionControl::Pause => ("Pause", ButtonStyle::Secondary),
        SessionControl::Resume => ("Resume", ButtonStyle::Success),
        SessionControl::End => ("End", ButtonStyle::Danger),
    };
    CreateButton::new(
        ButtonAction::Session {
            session: view.id,
            stage,
            control,
        }
        .custom_id(),
    )
    .label(label)
    .style(style)
}

/// How a stage card stands: on screen with its controls, paused, or over (no controls, so
/// nobody moves the session on from an old card).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardState {
    Live,
    Paused,
    Done,
}

/// The card for stage `index` of the session, in its thread. The bullying and harassment
/// theme's cards each carry where to raise a concern.
pub fn stage_card(view: &SessionView<'_>, index: u32, state: CardState) -> Option<Card> {
    let stages = view.stages();
    let stage = *stages.get(usize::try_from(index).ok()?)?;
    let theme = view.theme;
    let mut embed = CreateEmbed::new()
        .title(format!(
            "{}: {}",
            theme.title,
            stage_title(theme, stage.kind)
        ))
        .description(stage_text(view, stage.kind))
        .colour(theme.colour)
        .field("Suggested time", minutes(stage.minutes), true);
    if state == CardState::Paused {
        embed = embed.field("Paused", "The facilitator has paused the session.", true);
    }
    embed = with_concern(embed, theme).footer(CreateEmbedFooter::new(format!(
        "Reflective session · stage {} of {} · {}{}",
        index + 1,
        stages.len(),
        minutes(view.minutes),
        if view.auto {
            ", moving on when each stage's time is up"
        } else {
            ""
        }
    )));
    let mut buttons = Vec::new();
    if state != CardState::Done {
        buttons.push(control(view, index, SessionControl::Next));
        buttons.push(if state == CardState::Paused {
            control(view, index, SessionControl::Resume)
        } else {
            control(view, index, SessionControl::Pause)
        });
        buttons.push(control(view, index, SessionControl::End));
    }
    match stage.kind {
        StageKind::Story => {
            if let Some(story) = view.story {
                buttons.push(CreateButton::new_link(&story.url).label("Watch the story"));
            }
        }
        StageKind::Close => buttons.extend(pack_buttons(theme, DNA_OF_CARE_URL)),
        StageKind::Welcome | StageKind::Question(_) => {}
    }
    Some(Card {
        content: None,
        embeds: vec![embed],
        buttons,
    })
}

/// The private outline a facilitator prepares with: the stages with their timings, the story,
/// the questions in order and the theme's facilitator's guide.
pub fn plan_card(view: &SessionView<'_>) -> Card {
    let theme = view.theme;
    let stages = view.stages();
    let outline: Vec<String> = stages
        .iter()
        .zip(starts(&stages))
        .enumerate()
        .map(|(number, (stage, start))| {
            let detail = match stage.kind {
                StageKind::Welcome => format!(": {}", theme.session.opening),
                StageKind::Story => view
                    .story
                    .map(|story| format!(": {}", story_line(story)))
                    .unwrap_or_default(),
                StageKind::Question(index) => theme
                    .session
                    .questions
                    .get(index)
                    .map(|question| format!(": {question}"))
                    .unwrap_or_default(),
                StageKind::Close => format!(": {}", theme.session.closing),
            };
            format!(
                "{}. **{}** (from minute {start}, {}){detail}",
                number + 1,
                stage_title(theme, stage.kind),
                minutes(stage.minutes)
            )
        })
        .collect();
    let embed = CreateEmbed::new()
        .title(format!("Plan: a reflective session on {}", theme.title))
        .description(format!(
            "{}\n\n{}\n\n{GROUND_RULES}",
            minutes(view.minutes),
            outline.join("\n")
        ))
        .colour(theme.colour)
        .footer(CreateEmbedFooter::new(
            "Only you can see this. /session start runs it in a thread in your channel.",
        ));
    Card {
        content: None,
        embeds: vec![with_concern(embed, theme)],
        buttons: pack_buttons(theme, DNA_OF_CARE_URL),
    }
}

/// The private summary the facilitator gets when the session ends.
pub fn summary_card(
    theme: &Theme,
    reached: u32,
    of: u32,
    ran_for: &str,
    thread: Option<u64>,
) -> Card {
    let place = thread.map_or_else(String::new, |thread| format!(" in <#{thread}>"));
    let text = format!(
        "The reflective session on {}{place} has ended. It reached stage {reached} of {of} and ran for {ran_for}. The thread is archived; careprompt kept nothing anyone wrote in it. Only you can see this.",
        theme.title
    );
    crate::discord::cards::note_card(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discord::limits;

    #[test]
    fn every_stage_of_every_shipped_theme_fits_and_the_bullying_one_says_where_to_speak_up() {
        let library = crate::library::built_in().expect("shipped");
        let cards = crate::discord::cards::all_cards(&library, None, DNA_OF_CARE_URL);
        let sessions: Vec<_> = cards
            .iter()
            .filter(|(label, _)| label.starts_with("session "))
            .collect();
        // Seven themes, three lengths, a plan and five stages each, six with a story.
        assert!(sessions.len() >= 7 * 3 * 6, "{}", sessions.len());
        for (label, card) in sessions {
            let problems = limits::check_message(&card.to_json());
            assert!(problems.is_empty(), "{label}: {problems:?}");
            let text = serde_json::to_string(&card.to_json()).expect("json");
            assert_eq!(
                label.contains("bullying-and-harassment"),
                text.contains("Raising a concern"),
                "{label}"
            );
        }
        let theme = library.theme("resilience").expect("theme");
        let view = SessionView {
            id: 1,
            theme,
            story: None,
            minutes: 30,
            auto: false,
        };
        assert!(stage_card(&view, 4, CardState::Live).is_some());
        assert!(stage_card(&view, 5, CardState::Live).is_none());
        let done = stage_card(&view, 0, CardState::Done).expect("a stage");
        assert!(
            done.buttons.is_empty(),
            "an old card cannot move the session on"
        );
    }
}
