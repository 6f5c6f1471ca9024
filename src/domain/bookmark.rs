//! What a bookmark keeps of an item in the library: what it says when it is saved, so that it
//! reads the same after the library changes.

use serde::Serialize;

use super::content::Library;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BookmarkKind {
    Prompt,
    Story,
    Pack,
}

impl BookmarkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BookmarkKind::Prompt => "prompt",
            BookmarkKind::Story => "story",
            BookmarkKind::Pack => "pack",
        }
    }

    pub fn parse(text: &str) -> Option<BookmarkKind> {
        match text {
            "prompt" => Some(BookmarkKind::Prompt),
            "story" => Some(BookmarkKind::Story),
            "pack" => Some(BookmarkKind::Pack),
            _ => None,
        }
    }
}

/// What a bookmark keeps of the item, as it was when saved, so it outlives changes to `prompts/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBookmark {
    pub kind: BookmarkKind,
    pub item_id: String,
    pub title: String,
    pub body: Option<String>,
    pub url: Option<String>,
}

/// What a bookmark of the item keeps, from the library as it is now; `None` if the library has
/// no such item.
pub fn snapshot(library: &Library, kind: BookmarkKind, item_id: &str) -> Option<NewBookmark> {
    let (title, body, url) = match kind {
        BookmarkKind::Prompt => {
            let (theme, prompt) = library.find_prompt(item_id)?;
            (
                theme.title.clone(),
                Some(prompt.text.clone()),
                Some(theme.guide_url.clone()),
            )
        }
        BookmarkKind::Story => {
            let story = library.story(item_id)?;
            (
                story.title.clone(),
                Some(format!("Told by {}", story.storyteller)),
                Some(story.url.clone()),
            )
        }
        BookmarkKind::Pack => {
            let theme = library.theme(item_id)?;
            (
                format!("Facilitator pack: {}", theme.title),
                Some(theme.summary.clone()),
                Some(theme.guide_url.clone()),
            )
        }
    };
    Some(NewBookmark {
        kind,
        item_id: item_id.to_string(),
        title,
        body,
        url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Library {
        crate::library::built_in().expect("shipped content is valid")
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in [
            BookmarkKind::Prompt,
            BookmarkKind::Story,
            BookmarkKind::Pack,
        ] {
            assert_eq!(BookmarkKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(BookmarkKind::parse("Prompt"), None);
    }

    #[test]
    fn a_snapshot_keeps_what_the_item_says_now() {
        let library = shipped();
        let theme = &library.themes[0];
        let prompt = &theme.prompts[0];
        assert_eq!(
            snapshot(&library, BookmarkKind::Prompt, &prompt.id),
            Some(NewBookmark {
                kind: BookmarkKind::Prompt,
                item_id: prompt.id.clone(),
                title: theme.title.clone(),
                body: Some(prompt.text.clone()),
                url: Some(theme.guide_url.clone()),
            })
        );
        let pack = snapshot(&library, BookmarkKind::Pack, &theme.slug).expect("a theme's pack");
        assert_eq!(pack.title, format!("Facilitator pack: {}", theme.title));
        assert_eq!(pack.body.as_deref(), Some(theme.summary.as_str()));
        let story = &library.stories[0];
        let told = snapshot(&library, BookmarkKind::Story, &story.id).expect("a story");
        assert_eq!(told.body, Some(format!("Told by {}", story.storyteller)));
        assert_eq!(told.url.as_deref(), Some(story.url.as_str()));
        assert_eq!(
            snapshot(&library, BookmarkKind::Prompt, "no-such-prompt"),
            None
        );
        assert_eq!(snapshot(&library, BookmarkKind::Pack, &prompt.id), None);
    }
}
