//! Posts in channels, and reading a channel's messages back.

use poise::serenity_prelude as serenity;
use serde::Deserialize;
use serenity::http::{LightMethod, Request, Route};

use super::{Rest, RestError, WithId};

/// A message read back from a channel, with what careprompt recognises its own posts by.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ChannelMessage {
    pub id: serenity::MessageId,
    #[serde(default)]
    pub components: Vec<MessageComponent>,
}

/// A row of a message's components, or a button in one: only a button has a `custom_id`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MessageComponent {
    pub custom_id: Option<String>,
    #[serde(default)]
    pub components: Vec<MessageComponent>,
}

impl Rest {
    /// Posts a message in a channel and returns the id Discord gave it.
    pub async fn create_message(
        &self,
        channel_id: u64,
        body: &serde_json::Value,
    ) -> Result<u64, RestError> {
        let bytes = serde_json::to_vec(body).map_err(|err| RestError::Decode {
            method: "POST",
            route: "/channels/{id}/messages".into(),
            reason: err.to_string(),
        })?;
        let request = Request::new(
            Route::ChannelMessages {
                channel_id: serenity::ChannelId::new(channel_id.max(1)),
            },
            LightMethod::Post,
        )
        .body(Some(bytes));
        let message: WithId<serenity::MessageId> = self.send_json(request).await?;
        Ok(message.id.get())
    }

    /// Up to `limit` (at most 100) of the channel's messages sent after the message or moment
    /// `after` (a snowflake), as Discord returns them.
    pub async fn messages_after(
        &self,
        channel_id: u64,
        after: u64,
        limit: u8,
    ) -> Result<Vec<ChannelMessage>, RestError> {
        let request = Request::new(
            Route::ChannelMessages {
                channel_id: serenity::ChannelId::new(channel_id.max(1)),
            },
            LightMethod::Get,
        )
        .params(Some(vec![
            ("after", after.to_string()),
            ("limit", limit.clamp(1, 100).to_string()),
        ]));
        self.send_json(request).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_keeps_its_id_and_buttons_and_nothing_else() {
        let message: ChannelMessage = serde_json::from_value(serde_json::json!({
            "id": "5", "content": "hello", "embeds": [],
            "components": [{"type": 1, "id": 1, "components": [
                {"type": 2, "id": 2, "custom_id": "cp:save:42:com-01", "disabled": false}]}]
        }))
        .expect("a message");
        assert_eq!(message.id.get(), 5);
        assert_eq!(
            message.components[0].components[0].custom_id.as_deref(),
            Some("cp:save:42:com-01")
        );
        let bare: ChannelMessage =
            serde_json::from_value(serde_json::json!({"id": 6})).expect("a message");
        assert!(bare.components.is_empty());
    }
}
