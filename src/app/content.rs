//! The DNA of Care library on request (themes, facilitator packs, prompts and stories) and what
//! careprompt is (help, about, where to get support).

use rand::seq::SliceRandom;
use rand::Rng;

use crate::app::checks::find_theme;
use crate::app::{Answer, Core};
use crate::cards;
use crate::domain::content::{Library, Theme, DNA_OF_CARE_URL};
use crate::error::Error;

/// A theme by name, or a random one when none was given.
fn theme_or_random<'a>(
    library: &'a Library,
    given: Option<&str>,
    rng: &mut impl Rng,
) -> Result<&'a Theme, Error> {
    match given {
        Some(given) => Ok(find_theme(library, given)?),
        None => library
            .themes
            .choose(rng)
            .ok_or_else(|| anyhow::anyhow!("the library has no themes")),
    }
}

/// `/themes`: each theme in a sentence, privately.
pub fn themes(library: &Library) -> Answer {
    Answer::private(cards::themes_card(library))
}

/// `/pack`: a theme's facilitator pack.
pub fn pack(
    library: &Library,
    theme: &str,
    private: Option<bool>,
    share: Option<bool>,
) -> Result<Answer, Error> {
    let theme = find_theme(library, theme)?;
    let card = cards::pack_card(library, theme);
    Ok(Answer::new(card, pack_is_private(theme, private, share)))
}

/// Packs are for sharing, so they go to the channel, except that looking up a theme outside the
/// rotation (bullying and harassment) says something about the person, so it stays private
/// unless they choose to share it.
pub fn pack_is_private(theme: &Theme, private: Option<bool>, share: Option<bool>) -> bool {
    match (private, share) {
        (Some(private), _) => private,
        (None, Some(share)) => !share,
        (None, None) => !theme.in_rotation,
    }
}

/// `/prompt`: a reflection prompt from the theme (a random theme if none), private unless shared.
pub fn prompt(
    library: &Library,
    theme: Option<&str>,
    share: Option<bool>,
    rng: &mut impl Rng,
) -> Result<Answer, Error> {
    let theme = theme_or_random(library, theme, rng)?;
    let prompt = theme
        .prompts
        .choose(rng)
        .ok_or_else(|| anyhow::anyhow!("theme {} has no prompts", theme.slug))?;
    let card = cards::prompt_card(theme, prompt);
    Ok(Answer::new(card, !share.unwrap_or(false)))
}

/// `/story`: a staff story from the theme (any theme if none), private unless shared.
pub fn story(
    library: &Library,
    theme: Option<&str>,
    share: Option<bool>,
    rng: &mut impl Rng,
) -> Result<Answer, Error> {
    let private = !share.unwrap_or(false);
    let candidates: Vec<_> = match theme {
        Some(given) => {
            let theme = find_theme(library, given)?;
            let stories: Vec<_> = library.stories_for(&theme.slug).collect();
            // Not an error: the person asked for something to watch, so they get the way to
            // the whole collection.
            if stories.is_empty() {
                return Ok(Answer::new(cards::no_story_card(theme), private));
            }
            stories
        }
        None => library.stories.iter().collect(),
    };
    let story = candidates
        .choose(rng)
        .ok_or_else(|| anyhow::anyhow!("the library has no stories"))?;
    Ok(Answer::new(cards::story_card(library, story), private))
}

/// Where to get support, for the nation the organisation works in, its own contact first.
pub fn support_card(core: Core<'_>) -> cards::Card {
    let nation = core.library.nation;
    let lines = core.library.support_lines_for(nation);
    cards::support_card(core.settings.org_support(), &lines, nation)
}

/// `/support`: always private, since nobody else should learn that someone asked for support.
pub fn support(core: Core<'_>) -> Answer {
    Answer::private(support_card(core))
}

/// `/help`: what careprompt does and how to use its commands, privately.
pub fn help() -> Answer {
    Answer::private(cards::help_card())
}

/// `/about`: what careprompt is and what it keeps, privately.
pub fn about() -> Answer {
    Answer::private(cards::about_card(DNA_OF_CARE_URL))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn library() -> Library {
        crate::library::built_in().expect("shipped")
    }

    #[test]
    fn packs_outside_the_rotation_are_private_by_default() {
        let library = library();
        let compassion = find_theme(&library, "compassion").expect("theme");
        let bullying = find_theme(&library, "bullying-and-harassment").expect("theme");
        assert!(!pack_is_private(compassion, None, None));
        assert!(pack_is_private(bullying, None, None));
        assert!(!pack_is_private(bullying, None, Some(true)));
        assert!(pack_is_private(compassion, Some(true), None));
        assert!(
            pack_is_private(compassion, Some(true), Some(true)),
            "private wins"
        );
    }

    #[test]
    fn a_prompt_comes_from_the_theme_asked_for_and_is_private_unless_shared() {
        let library = library();
        let resilience = find_theme(&library, "resilience").expect("theme");
        let mut rng = StdRng::seed_from_u64(25);
        for _ in 0..20 {
            let answer = prompt(&library, Some("resilience"), None, &mut rng).expect("a prompt");
            assert!(answer.private);
            let text = format!("{:?}", answer.card);
            assert!(
                resilience
                    .prompts
                    .iter()
                    .any(|prompt| text.contains(prompt.text.as_str())),
                "the prompt is one of the theme's: {text}"
            );
        }
        let shared = prompt(&library, None, Some(true), &mut rng).expect("a prompt");
        assert!(!shared.private);
        assert!(prompt(&library, Some("no such theme"), None, &mut rng).is_err());
    }

    #[test]
    fn a_story_is_from_the_theme_asked_for_or_the_way_to_the_collection() {
        let library = library();
        let mut rng = StdRng::seed_from_u64(25);
        for theme in &library.themes {
            let answer =
                story(&library, Some(&theme.slug), Some(true), &mut rng).expect("an answer");
            assert!(!answer.private, "shared");
            let expected: Vec<_> = library
                .stories_for(&theme.slug)
                .map(|story| cards::story_card(&library, story))
                .collect();
            if expected.is_empty() {
                assert_eq!(answer.card, cards::no_story_card(theme));
            } else {
                assert!(expected.contains(&answer.card), "a story of {}", theme.slug);
            }
        }
        assert!(story(&library, None, None, &mut rng).expect("any").private);
    }

    #[test]
    fn a_pack_answers_with_the_theme_pack_and_its_privacy() {
        let library = library();
        let bullying = find_theme(&library, "bullying-and-harassment").expect("theme");
        let answer = pack(&library, "bullying and harassment", None, None).expect("a pack");
        assert_eq!(answer.card, cards::pack_card(&library, bullying));
        assert!(answer.private);
        assert!(answer.files.is_empty() && answer.follow_ups.is_empty());
    }
}
