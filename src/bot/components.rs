//! Buttons on careprompt's messages. Each click is answered privately, from what its custom id
//! carries, so a click works the same after a restart.

use poise::serenity_prelude as serenity;

use crate::bot::data::{Data, Error};
use crate::discord::cards::{self, Card};
use crate::discord::custom_id::ButtonAction;
use crate::error::{ReplyFailed, UserError};

/// A click careprompt cannot act on: the person is told, and nothing changes.
#[derive(Debug, thiserror::Error)]
#[error("that button no longer works")]
pub struct StaleButton;

pub async fn handle(data: &Data, click: &serenity::ComponentInteraction) -> Result<(), Error> {
    let action = ButtonAction::parse(&click.data.custom_id).map_err(|_| StaleButton)?;
    let card = match action {
        ButtonAction::Save { prompt_id, .. } => save(data, click, &prompt_id).await?,
        ButtonAction::Pack { theme, .. } => {
            let theme = data.library.theme(&theme).ok_or(StaleButton)?;
            cards::pack_card(&data.library, theme)
        }
        ButtonAction::Support { .. } => data.support_card(),
    };
    data.rest
        .respond(click.id, &click.token, card, true)
        .await
        .map_err(ReplyFailed)?;
    Ok(())
}

async fn save(
    data: &Data,
    click: &serenity::ComponentInteraction,
    prompt_id: &str,
) -> Result<Card, Error> {
    let Some((theme, prompt)) = data.library.find_prompt(prompt_id) else {
        return Err(UserError::Conflict(
            "That prompt is no longer in the library, so it can't be saved.".to_string(),
        )
        .into());
    };
    let added = data
        .store
        .add_bookmark(click.user.id.get(), &prompt.id, data.clock.now())
        .await?;
    let text = if added {
        format!(
            "Saved to your bookmarks: \"{}\" ({}). Only you can see this.",
            prompt.text, theme.title
        )
    } else {
        "You had already saved this one, so it is still in your bookmarks once. Only you can see this.".to_string()
    };
    Ok(cards::error_card(&text))
}
