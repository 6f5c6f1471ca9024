//! The DNA of Care library on request: themes, facilitator packs, prompts and stories.

use rand::seq::SliceRandom;

use crate::bot::checks::find_theme;
use crate::bot::data::{AppContext, Error};
use crate::cards;
use crate::domain::content::{Library, Theme};

pub fn commands() -> Vec<super::Command> {
    vec![themes(), pack(), prompt(), story()]
}

/// A theme by name, or a random one when none was given.
fn theme_or_random<'a>(library: &'a Library, given: Option<&str>) -> Result<&'a Theme, Error> {
    match given {
        Some(given) => Ok(find_theme(library, given)?),
        None => library
            .themes
            .choose(&mut rand::thread_rng())
            .ok_or_else(|| anyhow::anyhow!("the library has no themes")),
    }
}

/// The DNA of Care themes, each in a sentence.
#[poise::command(slash_command)]
pub async fn themes(ctx: AppContext<'_>) -> Result<(), Error> {
    let data = ctx.data();
    let card = cards::themes_card(&data.library);
    data.reply(&ctx, card, true).await
}

/// A theme's facilitator pack: the guide, the presentation and its stories.
#[poise::command(slash_command)]
pub async fn pack(
    ctx: AppContext<'_>,
    #[description = "Which theme"] theme: String,
    #[description = "Show it only to you (themes outside the rotation are private unless shared)"]
    private: Option<bool>,
    #[description = "Post it in the channel for your team"] share: Option<bool>,
) -> Result<(), Error> {
    let data = ctx.data();
    let theme = find_theme(&data.library, &theme)?;
    let card = cards::pack_card(&data.library, theme);
    data.reply(&ctx, card, pack_is_private(theme, private, share))
        .await
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

/// A reflection prompt, just for you unless you share it.
#[poise::command(slash_command)]
pub async fn prompt(
    ctx: AppContext<'_>,
    #[description = "Which theme (a random one if you leave it out)"] theme: Option<String>,
    #[description = "Post it in the channel for your team"] share: Option<bool>,
) -> Result<(), Error> {
    let data = ctx.data();
    let theme = theme_or_random(&data.library, theme.as_deref())?;
    let prompt = theme
        .prompts
        .choose(&mut rand::thread_rng())
        .ok_or_else(|| anyhow::anyhow!("theme {} has no prompts", theme.slug))?;
    let card = cards::prompt_card(theme, prompt);
    data.reply(&ctx, card, !share.unwrap_or(false)).await
}

/// A staff story to watch, just for you unless you share it.
#[poise::command(slash_command)]
pub async fn story(
    ctx: AppContext<'_>,
    #[description = "Which theme (any theme if you leave it out)"] theme: Option<String>,
    #[description = "Post it in the channel for your team"] share: Option<bool>,
) -> Result<(), Error> {
    let data = ctx.data();
    let library = &data.library;
    let candidates: Vec<_> = match theme.as_deref() {
        Some(given) => {
            let theme = find_theme(library, given)?;
            let stories: Vec<_> = library.stories_for(&theme.slug).collect();
            // Not an error: the person asked for something to watch, so they get the way to
            // the whole collection.
            if stories.is_empty() {
                let card = cards::no_story_card(theme);
                return data.reply(&ctx, card, !share.unwrap_or(false)).await;
            }
            stories
        }
        None => library.stories.iter().collect(),
    };
    let story = candidates
        .choose(&mut rand::thread_rng())
        .ok_or_else(|| anyhow::anyhow!("the library has no stories"))?;
    let card = cards::story_card(library, story);
    data.reply(&ctx, card, !share.unwrap_or(false)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::content::Library;

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
}
