//! The DNA of Care library on request: themes, facilitator packs, prompts and stories. What each
//! answers is `app::content`'s; here are only Discord's options.

use crate::app;
use crate::bot::data::{AppContext, Error};

pub fn commands() -> Vec<super::Command> {
    vec![themes(), pack(), prompt(), story()]
}

/// The DNA of Care themes, each in a sentence.
#[poise::command(slash_command)]
pub async fn themes(ctx: AppContext<'_>) -> Result<(), Error> {
    let data = ctx.data();
    data.answer(&ctx, app::content::themes(&data.library)).await
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
    let answer = app::content::pack(&data.library, &theme, private, share)?;
    data.answer(&ctx, answer).await
}

/// A reflection prompt, just for you unless you share it.
#[poise::command(slash_command)]
pub async fn prompt(
    ctx: AppContext<'_>,
    #[description = "Which theme (a random one if you leave it out)"] theme: Option<String>,
    #[description = "Post it in the channel for your team"] share: Option<bool>,
) -> Result<(), Error> {
    let data = ctx.data();
    let answer = app::content::prompt(
        &data.library,
        theme.as_deref(),
        share,
        &mut rand::thread_rng(),
    )?;
    data.answer(&ctx, answer).await
}

/// A staff story to watch, just for you unless you share it.
#[poise::command(slash_command)]
pub async fn story(
    ctx: AppContext<'_>,
    #[description = "Which theme (any theme if you leave it out)"] theme: Option<String>,
    #[description = "Post it in the channel for your team"] share: Option<bool>,
) -> Result<(), Error> {
    let data = ctx.data();
    let answer = app::content::story(
        &data.library,
        theme.as_deref(),
        share,
        &mut rand::thread_rng(),
    )?;
    data.answer(&ctx, answer).await
}
