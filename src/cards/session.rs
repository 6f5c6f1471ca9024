//! The cards of a facilitated reflective session (`/session`): the private outline and brief to
//! plan with, the private question a sensitive theme asks before anything is posted, each stage
//! card in the session's thread with the facilitator's buttons, and the summary. The words and
//! rules (ground rules, brief, pointers) are the domain's; this module lays them out as cards.

use crate::cards::act::{Act, SessionBegin, SessionControl};
use crate::cards::answers::note_card;
use crate::cards::content::{
    concern_of, pack_buttons, story_line, with_concern, CONCERN_FIELD, STORY_CREDIT,
};
use crate::cards::model::{Action, Card, Colour, Panel, Style};
use crate::config::OrgSupport;
use crate::domain::content::{Story, Theme, DNA_OF_CARE_URL};
use crate::domain::session::{
    facilitator_brief, ground_rules, stages, starts, Stage, StageKind, AUTO_ADVICE,
    CONCERN_POINTER, CONFIRM_WINDOW, STORY_STAGE_NOTE, SUPPORT_FROM_THE_START,
};

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

impl<'a> SessionView<'a> {
    pub fn stages(&self) -> Vec<Stage> {
        stages(self.minutes, self.story.is_some())
    }

    /// Where to raise a concern, when the session carries it: its theme's, or its story's.
    pub fn concern(&self) -> Option<&'a str> {
        concern_of(Some(self.theme), self.story.into_iter())
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

/// The ground rules as a card shows them.
fn ground_rules_text(concern_part: bool) -> String {
    let rules: Vec<String> = ground_rules(concern_part)
        .iter()
        .map(|rule| format!("- {rule}"))
        .collect();
    format!("**Ground rules**\n{}", rules.join("\n"))
}

/// What a stage card says, without its buttons.
fn stage_text(view: &SessionView<'_>, kind: StageKind) -> String {
    let session = &view.theme.session;
    match kind {
        StageKind::Welcome => format!(
            "{}\n\n{}\n\n{SUPPORT_FROM_THE_START}",
            session.opening,
            ground_rules_text(view.concern().is_some())
        ),
        StageKind::Story => match view.story {
            Some(story) => format!(
                "{}\n\n{STORY_STAGE_NOTE}\n\n*{STORY_CREDIT}.*",
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

fn control(view: &SessionView<'_>, stage: u32, control: SessionControl) -> Action {
    let (label, style) = match control {
        SessionControl::Next => ("Next", Style::Primary),
        SessionControl::Pause => ("Pause", Style::Secondary),
        SessionControl::Resume => ("Resume", Style::Positive),
        SessionControl::End => ("End", Style::Destructive),
    };
    Action::button(
        label,
        style,
        Act::Session {
            session: view.id,
            stage,
            control,
        },
    )
}

/// How a stage card stands: on screen with its controls, paused, or over (no controls, so
/// nobody moves the session on from an old card).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardState {
    Live,
    Paused,
    Done,
}

/// The card for stage `index` of the session, in its thread. A session that carries where to
/// raise a concern shows it in full on its first and last cards, which a facilitator reads out,
/// and one line pointing to them on the cards between, so no card is a wall of routes on a phone.
pub fn stage_card(view: &SessionView<'_>, index: u32, state: CardState) -> Option<Card> {
    let stages = view.stages();
    let position = usize::try_from(index).ok()?;
    let stage = *stages.get(position)?;
    let theme = view.theme;
    let mut panel = Panel::new(
        format!("{}: {}", theme.title, stage_title(theme, stage.kind)),
        stage_text(view, stage.kind),
        Colour::Theme(theme.colour),
    )
    .field("Suggested time", minutes(stage.minutes), true);
    if state == CardState::Paused {
        panel = panel.field("Paused", "The facilitator has paused the session.", true);
    }
    // The first and last cards say where /support is in their own words, so the routes go
    // without the pointer to it that other cards add.
    let first_or_last = position == 0 || position + 1 == stages.len();
    panel = match view.concern() {
        Some(concern) if first_or_last => panel.field(CONCERN_FIELD, concern, false),
        Some(_) => panel.field(CONCERN_FIELD, CONCERN_POINTER, false),
        None => panel,
    };
    panel = panel.footer(format!(
        "Reflective session · stage {} of {} · {}{}",
        index + 1,
        stages.len(),
        minutes(view.minutes),
        if view.auto {
            ", moving on when each stage's time is up"
        } else {
            ""
        }
    ));
    let mut actions = Vec::new();
    if state != CardState::Done {
        actions.push(control(view, index, SessionControl::Next));
        actions.push(if state == CardState::Paused {
            control(view, index, SessionControl::Resume)
        } else {
            control(view, index, SessionControl::Pause)
        });
        actions.push(control(view, index, SessionControl::End));
    }
    match stage.kind {
        StageKind::Story => {
            if let Some(story) = view.story {
                actions.push(Action::link("Watch the story", &story.url));
            }
        }
        StageKind::Close => actions.extend(pack_buttons(theme, DNA_OF_CARE_URL)),
        StageKind::Welcome | StageKind::Question(_) => {}
    }
    Some(Card::new(panel, actions))
}

/// How the organisation's own support contact reads in the facilitator's brief.
fn own_support(org: &OrgSupport) -> String {
    let mut contact = format!("{}, {}", org.name, org.how);
    if let Some(when) = &org.when {
        contact.push_str(&format!(" ({when})"));
    }
    contact
}

/// The facilitator's brief, as its own embed, so nothing of it can be taken for part of what
/// participants see.
fn brief_panel(theme: &Theme, org: Option<&OrgSupport>) -> Panel {
    let contact = org.map(own_support);
    let brief: Vec<String> = facilitator_brief(&theme.session, contact.as_deref())
        .iter()
        .map(|point| format!("- {point}"))
        .collect();
    Panel::new(
        "For you only: before you start",
        brief.join("\n"),
        Colour::Theme(theme.colour),
    )
}

/// The private outline a facilitator prepares with: the stages with their timings, the story,
/// the questions in order and the theme's facilitator's guide, and the brief participants never
/// see.
pub fn plan_card(view: &SessionView<'_>, org: Option<&OrgSupport>) -> Card {
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
    let plan = Panel::new(
        format!("Plan: a reflective session on {}", theme.title),
        format!(
            "{}\n\n{}\n\n{}",
            minutes(view.minutes),
            outline.join("\n"),
            ground_rules_text(view.concern().is_some())
        ),
        Colour::Theme(theme.colour),
    );
    let brief = brief_panel(theme, org)
        .footer("Only you can see this. /session start runs it in a thread in your channel.");
    Card {
        note: None,
        panels: vec![with_concern(plan, view.concern()), brief],
        actions: pack_buttons(theme, DNA_OF_CARE_URL),
    }
}

/// What a facilitator asked `/session start` for, before the session exists.
#[derive(Debug, Clone, Copy)]
pub struct SessionRequest<'a> {
    pub theme: &'a Theme,
    pub story: Option<&'a Story>,
    pub minutes: u32,
    pub auto: bool,
    /// When the question below was asked, in Unix seconds.
    pub asked_at: i64,
}

impl SessionRequest<'_> {
    fn begin(&self, auto: bool) -> Act {
        Act::SessionBegin(SessionBegin {
            asked_at: self.asked_at,
            minutes: self.minutes,
            auto,
            theme: self.theme.slug.clone(),
            story: self.story.map(|story| story.id.clone()),
        })
    }
}

/// The private question a theme with `before_you_start` asks before its session starts: what to
/// confirm and why, with Start and Cancel. Nothing is posted, and no thread opened, until Start.
pub fn confirm_card(request: &SessionRequest<'_>) -> Card {
    let theme = request.theme;
    let mut text = theme.session.before_you_start.clone().unwrap_or_default();
    if request.auto {
        text.push_str(&format!("\n\n{AUTO_ADVICE}"));
    }
    text.push_str(&format!(
        "\n\nNothing is posted, and no thread is opened, until you choose Start. This question lapses after {} minutes.",
        CONFIRM_WINDOW.num_minutes()
    ));
    let panel = Panel::new(
        format!("Before a reflective session on {} starts", theme.title),
        text,
        Colour::Theme(theme.colour),
    )
    .footer("Only you can see this.");
    let start =
        |label: &str, auto: bool, style: Style| Action::button(label, style, request.begin(auto));
    let mut actions = if request.auto {
        vec![
            start("Start, moving it on myself", false, Style::Primary),
            start("Start with auto", true, Style::Secondary),
        ]
    } else {
        vec![start("Start the session", false, Style::Primary)]
    };
    actions.push(Action::button(
        "Cancel",
        Style::Secondary,
        Act::SessionCancel,
    ));
    Card::new(panel, actions)
}

/// The private summary the facilitator gets when the session ends. It does not suggest the words
/// written in the thread are gone: Discord keeps the thread, and people in the channel can read it.
pub fn summary_card(
    theme: &Theme,
    reached: u32,
    of: u32,
    ran_for: &str,
    thread: Option<u64>,
) -> Card {
    let place = thread.map_or_else(String::new, |thread| format!(" in <#{thread}>"));
    let text = format!(
        "The reflective session on {}{place} has ended. It reached stage {reached} of {of} and ran for {ran_for}. The thread is archived: Discord keeps it, and people in the channel can still read it; careprompt kept nothing anyone wrote in it. Only you can see this.",
        theme.title
    );
    note_card(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discord::{limits, render};
    use crate::domain::content::{Library, Nation};
    use crate::domain::session::LENGTHS;

    fn shipped() -> Library {
        crate::library::built_in().expect("shipped")
    }

    fn text(card: &Card) -> String {
        render::json(card).to_string()
    }

    /// Every view a facilitator could start on `theme`: each length, with no story and with each
    /// story of the library.
    fn views<'a>(library: &'a Library, theme: &'a Theme) -> Vec<SessionView<'a>> {
        let stories = std::iter::once(None).chain(library.stories.iter().map(Some));
        stories
            .flat_map(|story| {
                LENGTHS.map(|minutes| SessionView {
                    id: i64::MAX,
                    theme,
                    story,
                    minutes,
                    auto: true,
                })
            })
            .collect()
    }

    fn stage_cards(view: &SessionView<'_>) -> Vec<Card> {
        (0..)
            .map_while(|index| stage_card(view, index, CardState::Paused))
            .collect()
    }

    #[test]
    fn every_session_card_fits_in_every_nation() {
        let mut library = shipped();
        for nation in Nation::ALL {
            library.set_nation(nation);
            let cards = crate::cards::all_cards(&library, None, DNA_OF_CARE_URL);
            let sessions: Vec<_> = cards
                .iter()
                .filter(|(label, _)| label.starts_with("session "))
                .collect();
            // Seven themes, ten choices of story, three lengths, a plan and five or six stages.
            assert!(sessions.len() >= 7 * 10 * 3 * 6, "{}", sessions.len());
            for (label, card) in sessions {
                let problems = limits::check_message(&render::json(card));
                assert!(problems.is_empty(), "{nation}: {label}: {problems:?}");
            }
        }
    }

    #[test]
    fn the_concern_routes_are_in_full_on_the_first_and_last_cards_and_pointed_to_between() {
        let mut library = shipped();
        for (nation, route) in [
            (Nation::England, "Freedom to Speak Up Guardian"),
            (Nation::Wales, "Respect and Resolution"),
            (Nation::Scotland, "Bullying and Harassment Policy"),
            (Nation::NorthernIreland, "dignity at work policy"),
        ] {
            library.set_nation(nation);
            for theme in &library.themes {
                for view in views(&library, theme) {
                    let carries = theme.slug == "bullying-and-harassment"
                        || view.story.is_some_and(|story| story.id == "choice");
                    assert_eq!(view.concern().is_some(), carries, "{}", theme.slug);
                    let cards = stage_cards(&view);
                    let last = cards.len() - 1;
                    for (index, card) in cards.iter().enumerate() {
                        let text = text(card);
                        let label = format!("{nation} {} stage {index}", theme.slug);
                        let full = text.contains(route);
                        let pointer = text.contains(CONCERN_POINTER);
                        match (carries, index == 0 || index == last) {
                            (true, true) => assert!(full && !pointer, "{label}: {text}"),
                            (true, false) => assert!(!full && pointer, "{label}: {text}"),
                            (false, _) => assert!(
                                !full && !pointer && !text.contains(CONCERN_FIELD),
                                "{label}: {text}"
                            ),
                        }
                    }
                    let plan = text(&plan_card(&view, None));
                    assert_eq!(
                        plan.contains(route),
                        carries,
                        "{nation} plan {}",
                        theme.slug
                    );
                }
            }
        }
    }

    #[test]
    fn every_welcome_card_lets_anyone_step_out_offers_support_and_is_honest_about_the_thread() {
        let library = shipped();
        for theme in &library.themes {
            for view in views(&library, theme) {
                let welcome = text(&stage_cards(&view)[0]);
                for rule in [
                    "Anyone may pass, or step out, at any time, without saying why.",
                    "This thread can be read by anyone in the channel, now and after it is archived",
                    "the facilitator may need to act on it, and will talk to that person first",
                    "/support lists people who can help",
                ] {
                    assert!(welcome.contains(rule), "{}: {rule}", theme.slug);
                }
                let lower = welcome.to_lowercase();
                for wrong in ["stays here", "raise complaints", "complaint"] {
                    assert!(!lower.contains(wrong), "{}: {wrong}", theme.slug);
                }
                // The rule about concerns says where the route is.
                let route = if view.concern().is_some() {
                    "set out under \\\"Raising a concern\\\" below"
                } else {
                    "a manager who is not involved can help"
                };
                assert!(welcome.contains(route), "{}: {welcome}", theme.slug);
            }
        }
    }

    #[test]
    fn the_plan_carries_the_facilitators_brief_and_no_stage_card_does() {
        let library = shipped();
        let org = OrgSupport {
            name: "Staff wellbeing service".into(),
            how: "Call 01234 567890".into(),
            when: Some("Weekdays 8am to 6pm".into()),
            url: None,
        };
        for theme in &library.themes {
            let view = views(&library, theme)[0];
            let plan = plan_card(&view, Some(&org));
            assert_eq!(plan.panels.len(), 2, "{}", theme.slug);
            let brief = render::json(&plan)["embeds"][1].clone();
            assert_eq!(brief["title"], "For you only: before you start");
            let brief = brief["description"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            for point in [
                "check on anyone who becomes upset or steps out",
                "Stay on for a few minutes after the close",
                "Staff wellbeing service, Call 01234 567890 (Weekdays 8am to 6pm)",
                "may be at risk",
                "When not to run one",
            ] {
                assert!(brief.contains(point), "{}: {point}: {brief}", theme.slug);
            }
            if let Some(before) = &theme.session.before_you_start {
                assert!(brief.contains(before.as_str()), "{}", theme.slug);
            }
            for card in stage_cards(&view) {
                let text = text(&card);
                assert!(
                    !text.contains("Stay on for a few minutes"),
                    "{}",
                    theme.slug
                );
                assert!(!text.contains("When not to run one"), "{}", theme.slug);
            }
        }
        let brief = render::json(&plan_card(&views(&library, &library.themes[0])[0], None))
            ["embeds"][1]
            .to_string();
        assert!(brief.contains("careprompt has none set"), "{brief}");
    }

    #[test]
    fn the_bullying_session_asks_its_facilitator_first_and_says_why() {
        let library = shipped();
        let theme = library.theme("bullying-and-harassment").expect("theme");
        let request = SessionRequest {
            theme,
            story: library.story("choice"),
            minutes: 45,
            auto: false,
            asked_at: 1_800_000_000,
        };
        let card = confirm_card(&request);
        let asked = text(&card);
        for point in [
            "you do not manage this team",
            "no concern about anyone in it is being looked into",
            "People cannot speak freely about bullying in front of someone who manages them",
            "unfair to the person it is about",
            "Nothing is posted, and no thread is opened, until you choose Start",
        ] {
            assert!(asked.contains(point), "{point}: {asked}");
        }
        let rows = render::json(&card)["components"].clone();
        let ids: Vec<Act> = rows
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
            .filter_map(|button| {
                button["custom_id"]
                    .as_str()
                    .and_then(|id| Act::parse(id).ok())
            })
            .collect();
        assert_eq!(
            ids,
            [
                Act::SessionBegin(SessionBegin {
                    asked_at: 1_800_000_000,
                    minutes: 45,
                    auto: false,
                    theme: theme.slug.clone(),
                    story: Some("choice".into()),
                }),
                Act::SessionCancel,
            ]
        );
        // Asked for auto: advised against, with a way to start without it.
        let automatic = confirm_card(&SessionRequest {
            auto: true,
            ..request
        });
        let asked = text(&automatic);
        assert!(asked.contains(AUTO_ADVICE), "{asked}");
        assert_eq!(automatic.actions.len(), 3);
        let equality = library.theme("equality-and-diversity").expect("theme");
        assert!(equality.session.before_you_start.is_some());
        for theme in &library.themes {
            let asks = matches!(
                theme.slug.as_str(),
                "bullying-and-harassment" | "equality-and-diversity"
            );
            assert_eq!(
                theme.session.before_you_start.is_some(),
                asks,
                "{}",
                theme.slug
            );
        }
    }

    #[test]
    fn an_old_card_cannot_move_the_session_on_and_the_summary_does_not_say_the_words_are_gone() {
        let library = shipped();
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
            done.actions.is_empty(),
            "an old card cannot move the session on"
        );
        let summary = text(&summary_card(theme, 6, 6, "45 minutes", Some(7)));
        assert!(
            summary.contains("Discord keeps it, and people in the channel can still read it"),
            "{summary}"
        );
    }
}
