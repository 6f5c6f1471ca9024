//! Posts in channels, and reading a channel's messages back.

use poise::serenity_prelude as serenity;
use serenity::http::{LightMethod, Request, Route};

use super::{Rest, RestError};

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
        let message: serde_json::Value = self.send_json(request).await?;
        message_id(&message).ok_or_else(|| RestError::Decode {
            method: "POST",
            route: "/channels/{id}/messages".into(),
            reason: "the message Discord returned has no id".into(),
        })
    }

    /// Up to `limit` (at most 100) of the channel's messages sent after the message or moment
    /// `after` (a snowflake), as Discord returns them.
    pub async fn messages_after(
        &self,
        channel_id: u64,
        after: u64,
        limit: u8,
    ) -> Result<Vec<serde_json::Value>, RestError> {
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

/// The id of a message or channel; Discord writes snowflakes as strings.
pub fn message_id(message: &serde_json::Value) -> Option<u64> {
    match message.get("id")? {
        serde_json::Value::String(text) => text.parse().ok(),
        serde_json::Value::Number(number) => number.as_u64(),
        _ => None,
    }
}
