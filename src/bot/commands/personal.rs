//! What careprompt holds about the person asking: their bookmarks, a copy of all of it, and
//! erasing all of it. What each answers is `app::personal`'s; here are Discord's options and the
//! suggestions Discord shows as the person types.

use poise::serenity_prelude as serenity;

use crate::app;
use crate::bot::data::{request, AppContext, Error};

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
    let answer = app::personal::bookmarks(data.core(), &request(&ctx)).await?;
    data.answer(&ctx, answer).await
}

/// Suggests only the asker's own bookmarks: the value is the bookmark's id.
async fn my_bookmarks(ctx: AppContext<'_>, partial: &str) -> serenity::CreateAutocompleteResponse {
    let choices = app::personal::bookmark_suggestions(ctx.data().core(), &request(&ctx), partial)
        .await
        .into_iter()
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
    let answer = app::personal::remove_bookmark(data.core(), &request(&ctx), &item).await?;
    data.answer(&ctx, answer).await
}

/// Everything careprompt holds about you, in every server, as a file only you see.
#[poise::command(slash_command)]
pub async fn mydata(ctx: AppContext<'_>) -> Result<(), Error> {
    let data = ctx.data();
    let answer = app::personal::my_data(data.core(), &request(&ctx)).await?;
    data.answer(&ctx, answer).await
}

/// Erase everything careprompt holds about you, in every server. It asks first.
#[poise::command(slash_command, rename = "forget-me")]
pub async fn forget_me(ctx: AppContext<'_>) -> Result<(), Error> {
    ctx.data().answer(&ctx, app::personal::forget_me()).await
}
