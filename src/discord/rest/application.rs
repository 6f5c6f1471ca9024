//! The application itself: who the bot is, and the slash commands it registers.

use poise::serenity_prelude as serenity;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serenity::http::{LightMethod, Request, Route};

use super::{Rest, RestError};

/// The bot's application, as far as start-up needs it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ApplicationInfo {
    pub id: serenity::ApplicationId,
}

impl Rest {
    /// Replaces the global (or one guild's) command list in a single call. Discord answers with
    /// the list it now holds, which nothing reads, but which must still be a list.
    pub async fn register_commands(
        &self,
        application_id: serenity::ApplicationId,
        guild_id: Option<serenity::GuildId>,
        commands: &[serde_json::Value],
    ) -> Result<(), RestError> {
        let body = serde_json::to_vec(commands).map_err(|err| RestError::Decode {
            method: "PUT",
            route: "/commands".into(),
            reason: err.to_string(),
        })?;
        let route = match guild_id {
            Some(guild_id) => Route::GuildCommands {
                application_id,
                guild_id,
            },
            None => Route::Commands { application_id },
        };
        let _: Vec<IgnoredAny> = self
            .send_json(Request::new(route, LightMethod::Put).body(Some(body)))
            .await?;
        Ok(())
    }

    pub async fn application_info(&self) -> Result<ApplicationInfo, RestError> {
        self.send_json(Request::new(
            Route::Oauth2ApplicationCurrent,
            LightMethod::Get,
        ))
        .await
    }
}
