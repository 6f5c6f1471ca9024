//! What careprompt holds about the person asking: their bookmarks, a copy of all of it, and
//! erasing all of it. Every answer is private, and each acts only on the person asking.

use poise::serenity_prelude as serenity;

use crate::bot::components::bookmarks_page;
use crate::bot::data::ReplyFailed;
use crate::bot::data::{AppContext, Error};
use crate::cards;
use crate::error::UserError;

pub fn commands() -> Vec<super::Command> {
    vec![bookmarks(), mydata(), forget_me()]
}

/// Your saved prompts, stories and packs. Only you see them.
#[poise::command(slash_command, subcommands("list", "remove"), subcommand_required)]
pub async fn bookmarks(_ctx: AppContext<'_>) -> Result<(), Error> {
    Ok(())
}

/// What you saved, newest first, ten a page. Only you see them.
#[poise::command(slash_command)]
async fn list(ctx: AppContext<'_>) -> Result<(), Error> {
    let data = ctx.data();
    let card = bookmarks_page(data, ctx.interaction.user.id.get(), 0).await?;
    data.reply(&ctx, card, true).await
}

/// Suggests only the asker's own bookmarks: the value is the bookmark's id.
async fn my_bookmarks(ctx: AppContext<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let user_id = ctx.interaction.user.id.get();
    let bookmarks = match ctx.data().store.bookmarks(user_id).await {
        Ok(bookmarks) => bookmarks,
        Err(err) => {
            tracing::warn!(error = %err, "could not read bookmarks to suggest");
            Vec::new()
        }
    };
    let wanted = partial.trim().to_lowercase();
    let choices = bookmarks
        .iter()
        .map(|bookmark| {
            (
                cards::bookmark_name(bookmark.kind, &bookmark.title, bookmark.body.as_deref()),
                bookmark.id,
            )
        })
        .filter(|(name, _)| wanted.is_empty() || name.to_lowercase().contains(&wanted))
        .take(25)
        .map(|(name, id)| serenity::AutocompleteChoice::new(name, id.to_string()))
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

/// Take one item out of your bookmarks.
#[poise::command(slash_command)]
async fn remove(
    ctx: AppContext<'_>,
    #[description = "Which bookmark (start typing to see yours)"]
    #[autocomplete = "my_bookmarks"]
    #[max_length = 100]
    item: String,
) -> Result<(), Error> {
    let data = ctx.data();
    let Ok(bookmark_id) = item.trim().parse::<i64>() else {
        return Err(UserError::BadInput(
            "choose the bookmark from the list Discord offers as you type".to_string(),
        )
        .into());
    };
    let removed = data
        .store
        .remove_bookmark(ctx.interaction.user.id.get(), bookmark_id)
        .await?;
    let text = if removed {
        "Removed from your bookmarks. Only you can see this."
    } else {
        "You have no such bookmark, so nothing changed. /bookmarks list shows the ones you have."
    };
    data.reply(&ctx, cards::text_card(text), true).await
}

/// Everything careprompt holds about you, in every server, as a file only you see.
#[poise::command(slash_command)]
pub async fn mydata(ctx: AppContext<'_>) -> Result<(), Error> {
    let data = ctx.data();
    let export = data
        .store
        .export_user(ctx.interaction.user.id.get())
        .await?;
    let json = serde_json::to_vec_pretty(&export)?;
    let file = serenity::CreateAttachment::bytes(json, "careprompt-my-data.json");
    data.rest
        .respond_with_file(
            ctx.interaction.id,
            &ctx.interaction.token,
            cards::my_data_card(),
            true,
            file,
        )
        .await
        .map_err(ReplyFailed)?;
    Ok(())
}

/// Erase everything careprompt holds about you, in every server. It asks first.
#[poise::command(slash_command, rename = "forget-me")]
pub async fn forget_me(ctx: AppContext<'_>) -> Result<(), Error> {
    ctx.data().reply(&ctx, cards::forget_me_card(), true).await
}
