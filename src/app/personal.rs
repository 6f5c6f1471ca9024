//! What careprompt holds about the person asking: their bookmarks, a copy of all of it, and
//! erasing all of it. Every answer is private, and each acts only on the person asking.

use crate::app::{Answer, Core, File, Request};
use crate::cards::{self, Card, BOOKMARKS_PER_PAGE};
use crate::error::{Error, UserError};
use crate::store::Store;

/// The name of the file `/mydata` answers with.
pub const MY_DATA_FILE: &str = "careprompt-my-data.json";

/// How many bookmarks a person is offered as they type.
const SUGGESTIONS: usize = 25;

/// A page of the person's bookmarks, newest first; a page past the end (after removals) shows the
/// last page there is.
pub async fn bookmarks_page(store: &Store, person: u64, page: u32) -> Result<Card, Error> {
    let (mut bookmarks, total) = store
        .bookmarks_page(person, page * BOOKMARKS_PER_PAGE, BOOKMARKS_PER_PAGE)
        .await?;
    let mut page = page;
    if bookmarks.is_empty() && total > 0 {
        let last = (total - 1) / u64::from(BOOKMARKS_PER_PAGE);
        page = u32::try_from(last).unwrap_or_default();
        bookmarks = store
            .bookmarks_page(person, page * BOOKMARKS_PER_PAGE, BOOKMARKS_PER_PAGE)
            .await?
            .0;
    }
    Ok(cards::bookmarks_card(&bookmarks, page, total))
}

/// `/bookmarks list`: the first page of what the person saved.
pub async fn bookmarks(core: Core<'_>, request: &Request) -> Result<Answer, Error> {
    let card = bookmarks_page(core.store, request.who.id, 0).await?;
    Ok(Answer::private(card))
}

/// The person's own bookmarks whose names hold what they typed, as (name, bookmark id), for
/// the platform to offer as they type. A failure to read offers nothing.
pub async fn bookmark_suggestions(
    core: Core<'_>,
    request: &Request,
    typed: &str,
) -> Vec<(String, i64)> {
    let bookmarks = match core.store.bookmarks(request.who.id).await {
        Ok(bookmarks) => bookmarks,
        Err(err) => {
            tracing::warn!(error = %err, "could not read bookmarks to suggest");
            Vec::new()
        }
    };
    let wanted = typed.trim().to_lowercase();
    bookmarks
        .iter()
        .map(|bookmark| {
            (
                cards::bookmark_name(bookmark.kind, &bookmark.title, bookmark.body.as_deref()),
                bookmark.id,
            )
        })
        .filter(|(name, _)| wanted.is_empty() || name.to_lowercase().contains(&wanted))
        .take(SUGGESTIONS)
        .collect()
}

/// `/bookmarks remove`: `item` is a bookmark's id, as the suggestions offer it; only the person's
/// own can be removed.
pub async fn remove_bookmark(
    core: Core<'_>,
    request: &Request,
    item: &str,
) -> Result<Answer, Error> {
    let Ok(bookmark_id) = item.trim().parse::<i64>() else {
        return Err(UserError::BadInput(
            "choose the bookmark from the list Discord offers as you type".to_string(),
        )
        .into());
    };
    let removed = core
        .store
        .remove_bookmark(request.who.id, bookmark_id)
        .await?;
    let text = if removed {
        "Removed from your bookmarks. Only you can see this."
    } else {
        "You have no such bookmark, so nothing changed. /bookmarks list shows the ones you have."
    };
    Ok(Answer::private(cards::text_card(text)))
}

/// `/mydata`: everything careprompt holds about the person, in every server, as a file.
pub async fn my_data(core: Core<'_>, request: &Request) -> Result<Answer, Error> {
    let export = core.store.export_user(request.who.id).await?;
    let file = File {
        name: MY_DATA_FILE.to_string(),
        bytes: serde_json::to_vec_pretty(&export)?,
        description: None,
    };
    Ok(Answer::private(cards::my_data_card()).with_file(file))
}

/// `/forget-me`: asks first; the card's buttons erase, or not.
pub fn forget_me() -> Answer {
    Answer::private(cards::forget_me_card())
}
