//! The application itself: who the bot is, and the slash commands it registers.

use poise::serenity_prelude as serenity;
use serenity::http::{LightMethod, Request, Route};

use super::{Rest, RestError};

impl Rest {
    /// Replaces the global (or one guild's) command list in a single call.
    pub async fn register_commands(
        &self,
        application_id: serenity::ApplicationId,
        guild_id: Option<serenity::GuildId>,
        commands: &[serde_json::Value],
    ) -> Result<Vec<serde_json::Value>, RestError> {
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
        self.send_json(Request::new(route, LightMethod::Put).body(Some(body)))
            .await
    }

    pub async fn application_info(&self) -> Result<serenity::CurrentApplicationInfo, RestError> {
        self.send_json(Request::new(
            Route::Oauth2ApplicationCurrent,
            LightMethod::Get,
        ))
        .await
    }
}
