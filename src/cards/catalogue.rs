//! Every card careprompt can build from a library, each with a label, so `check` (and the
//! tests) can prove each fits a platform's limits before the bot ever sends it.

use crate::cards::content::{
    about_card, help_card, no_story_card, pack_card, post_card, prompt_card, story_card,
    support_card, themes_card,
};
use crate::cards::model::Card;
use crate::cards::personal::{forget_me_card, my_data_card};
use crate::cards::session::{
    confirm_card, plan_card, stage_card, CardState, SessionRequest, SessionView,
};
use crate::config::OrgSupport;
use crate::domain::content::{Library, Nation, Story};

/// Every card the bot can build from this library, with a label, for `check`.
pub fn all_cards(
    library: &Library,
    org: Option<&OrgSupport>,
    dna_of_care_url: &str,
) -> Vec<(String, Card)> {
    let mut cards = vec![
        ("themes".to_string(), themes_card(library)),
        ("help".to_string(), help_card()),
        ("about".to_string(), about_card(dna_of_care_url)),
        ("forget-me".to_string(), forget_me_card()),
        ("mydata".to_string(), my_data_card()),
    ];
    // Every nation's, not only the configured one's, so a line added for Wales cannot break
    // /support for an organisation that switches to Wales later.
    for nation in Nation::ALL {
        cards.push((
            format!("support ({nation})"),
            support_card(org, &library.support_lines_for(nation), nation),
        ));
    }
    for theme in &library.themes {
        cards.push((format!("pack {}", theme.slug), pack_card(library, theme)));
        for prompt in &theme.prompts {
            cards.push((format!("prompt {}", prompt.id), prompt_card(theme, prompt)));
        }
    }
    for story in &library.stories {
        cards.push((format!("story {}", story.id), story_card(library, story)));
    }
    for theme in &library.themes {
        if library.stories_for(&theme.slug).next().is_none() {
            cards.push((format!("no story {}", theme.slug), no_story_card(theme)));
        }
    }
    cards.extend(session_cards(library, org));
    cards
}

/// Every session card of every theme at every length, with no story and with each story in the
/// library (a facilitator may choose any, and a story can bring a concern part with it), and the
/// longest session id a button can carry; and the question asked before a session starts, where
/// a theme asks one, with the longest time a button can carry.
fn session_cards(library: &Library, org: Option<&OrgSupport>) -> Vec<(String, Card)> {
    let mut cards = Vec::new();
    for theme in &library.themes {
        let stories = std::iter::once(None).chain(library.stories.iter().map(Some));
        for story in stories {
            let with = story.map_or_else(|| "no story".to_string(), |story| story.id.clone());
            if theme.session.before_you_start.is_some() {
                for auto in [false, true] {
                    let request = SessionRequest {
                        theme,
                        story,
                        minutes: 60,
                        auto,
                        asked_at: i64::MAX,
                    };
                    cards.push((
                        format!("session question {} ({with}, auto {auto})", theme.slug),
                        confirm_card(&request),
                    ));
                }
            }
            for minutes in crate::domain::session::LENGTHS {
                let view = SessionView {
                    id: i64::MAX,
                    theme,
                    story,
                    minutes,
                    auto: true,
                };
                let label = format!("{} ({minutes} minutes, {with})", theme.slug);
                cards.push((format!("session plan {label}"), plan_card(&view, org)));
                let mut index = 0;
                while let Some(card) = stage_card(&view, index, CardState::Paused) {
                    index += 1;
                    cards.push((format!("session {label} stage {index}"), card));
                }
            }
        }
    }
    cards
}

/// Every scheduled post this library can make, with a label, for `check`: each prompt with each
/// story of its theme (a post carries at most one, and one may bring a concern part with it), or
/// with none for a theme without, and the longest delivery id a button can carry.
pub fn all_posts(library: &Library) -> Vec<(String, Card)> {
    let mut posts = Vec::new();
    for theme in &library.themes {
        let mut stories: Vec<Option<&Story>> = library.stories_for(&theme.slug).map(Some).collect();
        if stories.is_empty() {
            stories.push(None);
        }
        for prompt in &theme.prompts {
            for story in &stories {
                let with = story.map_or("no story", |story| story.id.as_str());
                posts.push((
                    format!("post {} ({with})", prompt.id),
                    post_card(theme, prompt, *story, Some(i64::MAX)),
                ));
            }
        }
    }
    posts
}
