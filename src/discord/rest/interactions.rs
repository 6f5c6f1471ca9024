//! Answers to interactions: the first answer (a card, an update of the clicked message, a file,
//! or a deferral) and the later edit of a deferred one.

use std::time::Duration;

use poise::serenity_prelude as serenity;
use serenity::http::{LightMethod, Request, Route};

use super::{Rest, RestError};
use crate::cards::Card;
use crate::discord::render::{components, embeds, no_pings};

/// Discord voids an interaction's token for a first answer after 3 seconds; the margin covers the
/// time between Discord sending the interaction and careprompt starting to answer it.
const INTERACTION_REPLY_WINDOW: Duration = Duration::from_millis(2500);

/// Discord's code for "this interaction has already been acknowledged": when a retried callback
/// gets it, the first attempt did arrive.
const ALREADY_ACKNOWLEDGED: i64 = 40060;

impl Rest {
    /// Answers a slash command with a card.
    pub async fn respond(
        &self,
        interaction_id: serenity::InteractionId,
        token: &str,
        card: Card,
        ephemeral: bool,
    ) -> Result<(), RestError> {
        let message = interaction_message(card, ephemeral);
        let response = serenity::CreateInteractionResponse::Message(message);
        self.callback(interaction_id, token, &response, None).await
    }

    /// Answers a button click by replacing the message the button is on (type 7), which keeps
    /// an ephemeral message ephemeral.
    pub async fn update_message(
        &self,
        interaction_id: serenity::InteractionId,
        token: &str,
        card: Card,
    ) -> Result<(), RestError> {
        self.callback(interaction_id, token, &update_response(card), None)
            .await
    }

    /// Answers a slash command with a card and one file attached to it.
    pub async fn respond_with_file(
        &self,
        interaction_id: serenity::InteractionId,
        token: &str,
        card: Card,
        ephemeral: bool,
        file: serenity::CreateAttachment,
    ) -> Result<(), RestError> {
        // Discord matches the file part (`files[0]`) to the message's `attachments` entry with
        // id 0; a fresh attachment carries id 0.
        let message = interaction_message(card, ephemeral).add_file(file.clone());
        let response = serenity::CreateInteractionResponse::Message(message);
        self.callback(interaction_id, token, &response, Some(file))
            .await
    }

    /// Sends a further answer to an interaction with one file. A first answer carries one file
    /// here (serenity numbers a fresh attachment 0, and its number is not ours to set), so a
    /// second file goes in a follow-up, private if `ephemeral`.
    pub async fn followup_with_file(
        &self,
        application_id: serenity::ApplicationId,
        token: &str,
        text: &str,
        ephemeral: bool,
        file: serenity::CreateAttachment,
    ) -> Result<(), RestError> {
        let decode = |err: serde_json::Error| RestError::Decode {
            method: "POST",
            route: "/webhooks".into(),
            reason: err.to_string(),
        };
        let message = serenity::CreateInteractionResponseFollowup::new()
            .content(text)
            .ephemeral(ephemeral)
            .allowed_mentions(no_pings())
            .add_file(file.clone());
        let request = Request::new(
            Route::WebhookFollowupMessages {
                application_id,
                token,
            },
            LightMethod::Post,
        )
        .multipart(Some(serenity::http::Multipart {
            upload: serenity::http::MultipartUpload::Attachments(vec![file]),
            fields: Vec::new(),
            payload_json: Some(serde_json::to_string(&message).map_err(decode)?),
        }));
        self.send(request).await.map(|_| ())
    }

    async fn callback(
        &self,
        interaction_id: serenity::InteractionId,
        token: &str,
        response: &serenity::CreateInteractionResponse,
        file: Option<serenity::CreateAttachment>,
    ) -> Result<(), RestError> {
        let decode = |err: serde_json::Error| RestError::Decode {
            method: "POST",
            route: "/interactions".into(),
            reason: err.to_string(),
        };
        let request = Request::new(
            Route::InteractionResponse {
                interaction_id,
                token,
            },
            LightMethod::Post,
        );
        let request = match file {
            None => request.body(Some(serde_json::to_vec(response).map_err(decode)?)),
            Some(file) => request.multipart(Some(serenity::http::Multipart {
                upload: serenity::http::MultipartUpload::Attachments(vec![file]),
                fields: Vec::new(),
                payload_json: Some(serde_json::to_string(response).map_err(decode)?),
            })),
        };
        let deadline = tokio::time::Instant::now() + INTERACTION_REPLY_WINDOW;
        match self.send_before(request, Some(deadline)).await {
            Ok(_) => Ok(()),
            Err(err) if err.code() == Some(ALREADY_ACKNOWLEDGED) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Acknowledges an interaction now and answers it later with [`Rest::edit_original`], for
    /// work that may take longer than Discord's 3 seconds.
    pub async fn defer(
        &self,
        interaction_id: serenity::InteractionId,
        token: &str,
        ephemeral: bool,
    ) -> Result<(), RestError> {
        let response = serenity::CreateInteractionResponse::Defer(
            serenity::CreateInteractionResponseMessage::new().ephemeral(ephemeral),
        );
        self.callback(interaction_id, token, &response, None).await
    }

    /// Replaces a deferred answer with a card.
    pub async fn edit_original(
        &self,
        application_id: serenity::ApplicationId,
        token: &str,
        card: Card,
    ) -> Result<(), RestError> {
        let body = serde_json::to_vec(&edit_response(card)).map_err(|err| RestError::Decode {
            method: "PATCH",
            route: "/webhooks".into(),
            reason: err.to_string(),
        })?;
        let request = Request::new(
            Route::WebhookOriginalInteractionResponse {
                application_id,
                token,
            },
            LightMethod::Patch,
        )
        .body(Some(body));
        self.send(request).await.map(|_| ())
    }
}

pub fn interaction_message(
    card: Card,
    ephemeral: bool,
) -> serenity::CreateInteractionResponseMessage {
    let mut message = serenity::CreateInteractionResponseMessage::new()
        .embeds(embeds(&card))
        .components(components(&card))
        .allowed_mentions(no_pings())
        .ephemeral(ephemeral);
    if let Some(content) = card.note {
        message = message.content(content);
    }
    message
}

/// The answer that replaces the clicked message with a card (type 7).
pub fn update_response(card: Card) -> serenity::CreateInteractionResponse {
    let message = serenity::CreateInteractionResponseMessage::new()
        .embeds(embeds(&card))
        .components(components(&card))
        .allowed_mentions(no_pings())
        // An update replaces the whole message, so a card without a note clears the old text.
        .content(card.note.unwrap_or_default());
    serenity::CreateInteractionResponse::UpdateMessage(message)
}

/// A deferred answer's card, as it replaces the deferral.
pub fn edit_response(card: Card) -> serenity::EditInteractionResponse {
    let mut edit = serenity::EditInteractionResponse::new()
        .embeds(embeds(&card))
        .components(components(&card))
        .allowed_mentions(no_pings());
    if let Some(content) = card.note {
        edit = edit.content(content);
    }
    edit
}
