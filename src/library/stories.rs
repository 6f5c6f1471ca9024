//! `stories.toml`: Patient Voices stories, each linked to the themes it speaks to.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::files::{parse_file, ContentErrors, ContentSource, Text};
use super::validate::{check_text, check_url, is_slug, MAX_TITLE_CHARS};
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
    let Some((raw, text)) = parse_file::<RawStories>(source, path, errors) else {
        return Vec::new();
    };
    let mut seen: BTreeMap<String, ()> = BTreeMap::new();
    let mut stories = Vec::new();
    for story in raw.stories {
        let before = errors.0.len();
        let id = story.id.get_ref();
        if !is_slug(id) {
            errors.push_at(
                path,
                &text,
                story.id.span().start,
                format!("story id \"{id}\" may use only a-z, 0-9 and '-'"),
            );
        }
        if seen.insert(id.clone(), ()).is_some() {
            errors.push_at(
                path,
                &text,
                story.id.span().start,
                format!("duplicate story id \"{id}\""),
            );
        }
        check_text("title", &story.title, MAX_TITLE_CHARS, path, &text, errors);
        check_text(
            "storyteller",
            &story.storyteller,
            MAX_TITLE_CHARS,
            path,
            &text,
            errors,
        );
        check_url(&story.url, path, &text, errors);
        if story.themes.get_ref().is_empty() {
            errors.push_at(
                path,
                &text,
                story.themes.span().start,
                "a story needs at least one theme".to_string(),
            );
        }
        for theme in story.themes.get_ref() {
            if !known_slugs.iter().any(|slug| slug == theme.get_ref()) {
                errors.push_at(
                    path,
                    &text,
                    theme.span().start,
                    format!(
                        "unknown theme \"{}\"; known themes: {}",
                        theme.get_ref(),
                        known_slugs.join(", ")
                    ),
                );
            }
        }
        if errors.0.len() == before {
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
            });
        }
    }
    stories
}
