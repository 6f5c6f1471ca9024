//! `stories.toml`: Patient Voices stories, each linked to the themes it speaks to.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::files::{ContentErrors, ContentSource, Text};
use super::validate::{is_slug, FileChecker, MAX_TITLE_CHARS};
use crate::domain::content::Story;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStories {
    #[serde(default, rename = "story")]
    stories: Vec<RawStory>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStory {
    id: Text,
    title: Text,
    storyteller: Text,
    url: Text,
    themes: Spanned<Vec<Text>>,
}

pub(super) fn load_stories(
    source: &ContentSource,
    path: &Path,
    known_slugs: &[String],
    errors: &mut ContentErrors,
) -> Vec<Story> {
    let Some((raw, mut file)) = FileChecker::open::<RawStories>(source, path, errors) else {
        return Vec::new();
    };
    let mut seen = HashSet::new();
    let mut stories = Vec::new();
    for story in raw.stories {
        let checked = file.entry(|file| {
            let id = story.id.get_ref();
            let at = story.id.span().start;
            if !is_slug(id) {
                file.error_at(
                    at,
                    format!("story id \"{id}\" may use only a-z, 0-9 and '-'"),
                );
            }
            if !seen.insert(id.clone()) {
                file.error_at(at, format!("duplicate story id \"{id}\""));
            }
            file.text("title", &story.title, MAX_TITLE_CHARS);
            file.text("storyteller", &story.storyteller, MAX_TITLE_CHARS);
            file.url(&story.url);
            if story.themes.get_ref().is_empty() {
                file.error_at(
                    story.themes.span().start,
                    "a story needs at least one theme".to_string(),
                );
            }
            for theme in story.themes.get_ref() {
                if !known_slugs.iter().any(|slug| slug == theme.get_ref()) {
                    file.error_at(
                        theme.span().start,
                        format!(
                            "unknown theme \"{}\"; known themes: {}",
                            theme.get_ref(),
                            known_slugs.join(", ")
                        ),
                    );
                }
            }
        });
        if checked.is_some() {
            stories.push(Story {
                id: story.id.into_inner(),
                title: story.title.into_inner(),
                storyteller: story.storyteller.into_inner(),
                url: story.url.into_inner(),
                themes: story
                    .themes
                    .into_inner()
                    .into_iter()
                    .map(Spanned::into_inner)
                    .collect(),
                concern: None,
            });
        }
    }
    stories
}
