//! Which theme, prompt and story a scheduled post carries. The whole decision is a pure function
//! of a small state that the store persists after each post, so a restart neither repeats nor
//! skips anything.

use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::domain::content::Library;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotationState {
    /// Fixed per schedule so each schedule has its own order of prompts.
    pub seed: u64,
    /// How many posts this schedule has made; mixes into every shuffle.
    pub posts: u64,
    /// The theme of the last post; the next post takes the theme after it.
    pub last_theme: Option<String>,
    /// Per theme, the prompt ids not yet used in the current round.
    #[serde(default)]
    pub prompt_bags: BTreeMap<String, Vec<String>>,
    /// Per theme, the story ids not yet used in the current round.
    #[serde(default)]
    pub story_bags: BTreeMap<String, Vec<String>>,
}

impl RotationState {
    pub fn new(seed: u64) -> RotationState {
        RotationState {
            seed,
            ..RotationState::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pick {
    pub theme: String,
    pub prompt_id: String,
    pub story_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RotationError {
    #[error("the schedule has no themes to rotate through")]
    NoThemes,
    #[error("theme \"{0}\" is not in the library")]
    UnknownTheme(String),
    #[error("theme \"{0}\" has no prompts")]
    NoPrompts(String),
}

/// Picks the next post for a schedule rotating through `order`, and returns the state to persist
/// once that post is delivered.
pub fn next_post(
    library: &Library,
    order: &[&str],
    state: &RotationState,
) -> Result<(Pick, RotationState), RotationError> {
    let theme_slug =
        next_theme(order, state.last_theme.as_deref()).ok_or(RotationError::NoThemes)?;
    let theme = library
        .theme(theme_slug)
        .ok_or_else(|| RotationError::UnknownTheme(theme_slug.to_string()))?;
    let mut next = state.clone();

    let prompt_ids: Vec<String> = theme
        .prompts
        .iter()
        .map(|prompt| prompt.id.clone())
        .collect();
    let prompt_id = draw(
        &mut next.prompt_bags,
        theme_slug,
        &prompt_ids,
        state.seed,
        state.posts,
        "prompt",
    )
    .ok_or_else(|| RotationError::NoPrompts(theme_slug.to_string()))?;

    let story_ids: Vec<String> = library
        .stories_for(theme_slug)
        .map(|story| story.id.clone())
        .collect();
    let story_id = draw(
        &mut next.story_bags,
        theme_slug,
        &story_ids,
        state.seed,
        state.posts,
        "story",
    );

    next.posts = state.posts.wrapping_add(1);
    next.last_theme = Some(theme_slug.to_string());
    Ok((
        Pick {
            theme: theme_slug.to_string(),
            prompt_id,
            story_id,
        },
        next,
    ))
}

/// The theme after `last` in `order`; the first one when `last` is unknown or no longer rotated.
pub fn next_theme<'a>(order: &[&'a str], last: Option<&str>) -> Option<&'a str> {
    let position = last.and_then(|last| order.iter().position(|slug| *slug == last));
    match position {
        Some(index) => order.get((index + 1) % order.len()).copied(),
        None => order.first().copied(),
    }
}

/// Takes one id from the theme's bag, refilling it with a fresh shuffle once it is empty. Ids that
/// have left the library since the bag was filled are dropped rather than posted.
fn draw(
    bags: &mut BTreeMap<String, Vec<String>>,
    theme: &str,
    available: &[String],
    seed: u64,
    posts: u64,
    kind: &str,
) -> Option<String> {
    if available.is_empty() {
        bags.remove(theme);
        return None;
    }
    let bag = bags.entry(theme.to_string()).or_default();
    bag.retain(|id| available.contains(id));
    if bag.is_empty() {
        let mut fresh = available.to_vec();
        let mut rng = ChaCha8Rng::seed_from_u64(mix(seed, posts, theme, kind));
        fresh.shuffle(&mut rng);
        *bag = fresh;
    }
    if bag.is_empty() {
        None
    } else {
        Some(bag.remove(0))
    }
}

/// A stable hash (FNV-1a): std's hasher may change between Rust releases, which would reshuffle
/// every persisted schedule after an upgrade.
fn mix(seed: u64, posts: u64, theme: &str, kind: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let bytes = seed
        .to_le_bytes()
        .into_iter()
        .chain(posts.to_le_bytes())
        .chain(theme.bytes())
        .chain([0])
        .chain(kind.bytes());
    for byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::content::{Prompt, Story, Theme};
    use std::collections::HashSet;

    fn theme(slug: &str, order: u32, prompts: usize, in_rotation: bool) -> Theme {
        Theme {
            slug: slug.to_string(),
            title: slug.to_string(),
            summary: "s".to_string(),
            about: "a".to_string(),
            colour: 0,
            in_rotation,
            order,
            guide_url: "https://example.org/guide".to_string(),
            presentation_url: None,
            prompts: (1..=prompts)
                .map(|n| Prompt {
                    id: format!("{slug}-{n:02}"),
                    text: format!("prompt {n}"),
                })
                .collect(),
            concern: None,
            session: Default::default(),
        }
    }

    fn library() -> Library {
        Library {
            themes: vec![
                theme("a", 1, 5, true),
                theme("b", 2, 3, true),
                theme("c", 3, 4, false),
            ],
            stories: vec![
                Story {
                    id: "s1".into(),
                    title: "S1".into(),
                    storyteller: "x".into(),
                    url: "https://example.org/1".into(),
                    themes: vec!["a".into()],
                    concern: None,
                },
                Story {
                    id: "s2".into(),
                    title: "S2".into(),
                    storyteller: "x".into(),
                    url: "https://example.org/2".into(),
                    themes: vec!["a".into(), "b".into()],
                    concern: None,
                },
            ],
            support_lines: vec![],
            ..Library::default()
        }
    }

    fn run(
        library: &Library,
        order: &[&str],
        state: RotationState,
        posts: usize,
    ) -> (Vec<Pick>, RotationState) {
        let mut state = state;
        let mut picks = Vec::new();
        for _ in 0..posts {
            let (pick, next) = next_post(library, order, &state).expect("rotation works");
            picks.push(pick);
            state = next;
        }
        (picks, state)
    }

    #[test]
    fn themes_advance_in_order_and_wrap() {
        let library = library();
        let order = library.rotation(false);
        assert_eq!(order, vec!["a", "b"]);
        let (picks, _) = run(&library, &order, RotationState::new(7), 5);
        let themes: Vec<&str> = picks.iter().map(|pick| pick.theme.as_str()).collect();
        assert_eq!(themes, vec!["a", "b", "a", "b", "a"]);
    }

    #[test]
    fn out_of_rotation_theme_only_when_included() {
        let library = library();
        let order = library.rotation(true);
        let (picks, _) = run(&library, &order, RotationState::new(1), 3);
        assert_eq!(picks[2].theme, "c");
    }

    #[test]
    fn no_prompt_repeats_until_the_bag_is_empty() {
        let library = library();
        let order = ["a"];
        let (picks, _) = run(&library, &order, RotationState::new(42), 15);
        for round in picks.chunks(5) {
            let ids: HashSet<&str> = round.iter().map(|pick| pick.prompt_id.as_str()).collect();
            assert_eq!(
                ids.len(),
                5,
                "a round of 5 uses every prompt once: {round:?}"
            );
        }
    }

    #[test]
    fn stories_rotate_too_and_themes_without_stories_get_none() {
        let library = library();
        let (picks, _) = run(&library, &["a", "c"], RotationState::new(3), 4);
        let a_stories: HashSet<_> = picks
            .iter()
            .filter(|pick| pick.theme == "a")
            .map(|pick| pick.story_id.clone())
            .collect();
        assert_eq!(a_stories.len(), 2);
        assert!(picks
            .iter()
            .filter(|pick| pick.theme == "c")
            .all(|pick| pick.story_id.is_none()));
    }

    #[test]
    fn restart_from_persisted_state_continues_exactly() {
        let library = library();
        let order = library.rotation(false);
        let (all_at_once, _) = run(&library, &order, RotationState::new(9), 12);
        let (first, middle) = run(&library, &order, RotationState::new(9), 5);
        let json = serde_json::to_string(&middle).expect("state serialises");
        let restored: RotationState = serde_json::from_str(&json).expect("state deserialises");
        let (rest, _) = run(&library, &order, restored, 7);
        let resumed: Vec<Pick> = first.into_iter().chain(rest).collect();
        assert_eq!(all_at_once, resumed);
    }

    #[test]
    fn same_seed_same_picks_and_different_seeds_differ() {
        let library = library();
        let order = ["a"];
        let (one, _) = run(&library, &order, RotationState::new(5), 10);
        let (two, _) = run(&library, &order, RotationState::new(5), 10);
        assert_eq!(one, two);
        let differs =
            (0..20u64).any(|seed| run(&library, &order, RotationState::new(seed), 5).0 != one[..5]);
        assert!(differs);
    }

    #[test]
    fn removed_prompts_are_never_posted() {
        let mut library = library();
        let (_, state) = run(&library, &["a"], RotationState::new(2), 1);
        library.themes[0].prompts.truncate(2);
        let (picks, _) = run(&library, &["a"], state, 6);
        assert!(picks
            .iter()
            .all(|pick| pick.prompt_id == "a-01" || pick.prompt_id == "a-02"));
    }

    #[test]
    fn unknown_last_theme_starts_again_at_the_first() {
        assert_eq!(next_theme(&["a", "b"], Some("gone")), Some("a"));
        assert_eq!(next_theme(&["a", "b"], Some("b")), Some("a"));
        assert_eq!(next_theme(&[], None), None);
    }

    #[test]
    fn empty_order_is_an_error() {
        let library = library();
        assert_eq!(
            next_post(&library, &[], &RotationState::new(0)),
            Err(RotationError::NoThemes)
        );
    }
}
