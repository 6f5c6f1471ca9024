//! A person's own cards: their bookmarks, `/forget-me`'s question and what it erased, and the
//! message that carries `/mydata`'s file.

use crate::cards::act::Act;
use crate::cards::answers::{shorten, text_card};
use crate::cards::model::{Action, Card, Colour, Panel, Style};
use crate::domain::bookmark::BookmarkKind;
use crate::store::{Bookmark, Erased};

/// Bookmarks shown on one page of `/bookmarks`.
pub const BOOKMARKS_PER_PAGE: u32 = 10;

fn kind_label(kind: BookmarkKind) -> &'static str {
    match kind {
        BookmarkKind::Prompt => "Prompt",
        BookmarkKind::Story => "Story",
        BookmarkKind::Pack => "Pack",
    }
}

/// How a bookmark is named in `/bookmarks remove`'s suggestions (Discord allows 100 characters).
/// A prompt is known by its words, anything else by its title.
pub fn bookmark_name(kind: BookmarkKind, title: &str, body: Option<&str>) -> String {
    let name = match (kind, body) {
        (BookmarkKind::Prompt, Some(body)) => format!("{title}: {body}"),
        _ => title.to_string(),
    };
    shorten(&format!("{} · {name}", kind_label(kind)), 100)
}

/// The longest link a bookmark shows; longer ones are left out so ten always fit in a message.
const LONGEST_BOOKMARK_LINK: usize = 240;

/// One page (from 0) of the person's bookmarks, newest first, as they were when saved. Each field
/// stays under 600 characters, so ten of them and the rest fit Discord's 6000.
pub fn bookmarks_card(bookmarks: &[Bookmark], page: u32, total: u64) -> Card {
    if total == 0 {
        return text_card(
            "You have no bookmarks yet. Use the Save button on a reflection post, or on the answer to /prompt, /story or /pack, to keep something here. Only you can see this.",
        );
    }
    let pages = total.div_ceil(u64::from(BOOKMARKS_PER_PAGE)).max(1);
    let first = u64::from(page) * u64::from(BOOKMARKS_PER_PAGE);
    let fields = bookmarks.iter().enumerate().map(|(index, bookmark)| {
        let name = shorten(
            &format!(
                "{}. {}: {}",
                first + index as u64 + 1,
                kind_label(bookmark.kind),
                bookmark.title
            ),
            100,
        );
        let mut value = bookmark
            .body
            .as_deref()
            .map(|body| shorten(body, 180))
            .unwrap_or_default();
        if let Some(url) = bookmark
            .url
            .as_deref()
            .filter(|url| url.chars().count() <= LONGEST_BOOKMARK_LINK)
        {
            if !value.is_empty() {
                value.push('\n');
            }
            value.push_str(url);
        }
        value.push_str(&format!(
            "\nSaved {}",
            bookmark.created_at.format("%-d %B %Y")
        ));
        (name, value, false)
    });
    let panel = Panel::new(
        "Your bookmarks",
        "Newest first, as each was when you saved it. Only you can see this. /bookmarks remove takes one away.",
        Colour::Neutral,
    )
    .fields(fields)
    .footer(format!("Page {} of {pages} · {total} saved", u64::from(page) + 1));
    let mut actions = Vec::new();
    if page > 0 {
        actions.push(Action::button(
            "Previous",
            Style::Secondary,
            Act::BookmarksPage { page: page - 1 },
        ));
    }
    if u64::from(page) + 1 < pages {
        actions.push(Action::button(
            "Next",
            Style::Secondary,
            Act::BookmarksPage { page: page + 1 },
        ));
    }
    Card::new(panel, actions)
}

/// The question `/forget-me` asks before erasing anything.
pub fn forget_me_card() -> Card {
    let panel = Panel::new(
        "Erase everything careprompt holds about you?",
        "This erases, in every server: your bookmarks, your DM opt-ins, the themes you muted, and careprompt's record of the DMs it sent you. Schedules you set up stay for your team, but no longer say who set them up. It cannot be undone. /mydata gives you a copy first, if you want one.",
        Colour::Neutral,
    );
    Card::new(
        panel,
        vec![
            Action::button("Erase my data", Style::Destructive, Act::ForgetConfirm),
            Action::button("Cancel", Style::Secondary, Act::ForgetCancel),
        ],
    )
}

fn count(number: u64, one: &str, many: &str) -> String {
    if number == 1 {
        format!("1 {one}")
    } else {
        format!("{number} {many}")
    }
}

/// What `/forget-me` erased.
pub fn forgotten_card(erased: &Erased) -> Card {
    let lines = [
        count(erased.bookmarks, "bookmark", "bookmarks"),
        count(erased.dm_optins, "DM opt-in", "DM opt-ins"),
        count(erased.theme_mutes, "muted theme", "muted themes"),
        count(erased.dm_deliveries, "record of a DM", "records of DMs"),
        count(
            erased.dm_status,
            "note about your DMs",
            "notes about your DMs",
        ),
        count(
            erased.usage_records,
            "usage record (what /insights counts, without your name)",
            "usage records (what /insights counts, without your name)",
        ),
    ];
    let mut text = format!(
        "Done. careprompt has erased everything it held about you, in every server:\n- {}",
        lines.join("\n- ")
    );
    if erased.schedules_anonymised > 0 {
        text.push_str(&format!(
            "\n{} you set up {} for your team, without your name.",
            count(erased.schedules_anonymised, "schedule", "schedules"),
            if erased.schedules_anonymised == 1 {
                "stays"
            } else {
                "stay"
            }
        ));
    }
    if erased.sessions_anonymised > 0 {
        text.push_str(&format!(
            "\n{} you ran {} for your team, without your name; any still running has ended.",
            count(
                erased.sessions_anonymised,
                "reflective session",
                "reflective sessions"
            ),
            if erased.sessions_anonymised == 1 {
                "stays"
            } else {
                "stay"
            }
        ));
    }
    text.push_str("\nIf you use careprompt again, it starts from nothing.");
    text_card(&text)
}

/// The message that carries `/mydata`'s file.
pub fn my_data_card() -> Card {
    text_card("Here is everything careprompt holds about you, in every server, as a JSON file. It includes how many usage records /insights counts you by: each holds a keyed hash of you, not your name or id, with a week, a theme and what you did. Only you can see this. /forget-me erases it.")
}
