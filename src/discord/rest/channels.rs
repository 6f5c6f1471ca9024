//! DM channels, threads (on posts, and for reflective sessions), and whether the bot can see a
//! channel.

use poise::serenity_prelude as serenity;
use serde::de::IgnoredAny;
use serenity::http::{LightMethod, Request, Route};

use super::{Rest, RestError, WithId};

impl Rest {
    /// Opens a public thread on a message, for replies to a post.
    pub async fn start_thread(
        &self,
        channel_id: u64,
        message_id: u64,
        name: &str,
    ) -> Result<(), RestError> {
        let body = serde_json::to_vec(
            &serenity::CreateThread::new(name)
                .auto_archive_duration(serenity::AutoArchiveDuration::OneDay),
        )
        .map_err(|err| RestError::Decode {
            method: "POST",
            route: "/channels/{id}/messages/{id}/threads".into(),
            reason: err.to_string(),
        })?;
        let request = Request::new(
            Route::ChannelMessageThreads {
                channel_id: serenity::ChannelId::new(channel_id.max(1)),
                message_id: serenity::MessageId::new(message_id.max(1)),
            },
            LightMethod::Post,
        )
        .body(Some(body));
        self.send(request).await.map(|_| ())
    }

    /// Opens a public thread in a channel, not on any message, and returns its id. Discord
    /// archives it after `archive_minutes` of quiet, which must be one of the times it takes
    /// (`domain::session::THREAD_ARCHIVE_MINUTES`).
    pub async fn create_thread(
        &self,
        channel_id: u64,
        name: &str,
        archive_minutes: u16,
    ) -> Result<u64, RestError> {
        let thread = serenity::CreateThread::new(name)
            .kind(serenity::ChannelType::PublicThread)
            .auto_archive_duration(serenity::AutoArchiveDuration::from(archive_minutes));
        let route = Route::ChannelThreads {
            channel_id: serenity::ChannelId::new(channel_id.max(1)),
        };
        let request = with_body(Request::new(route, LightMethod::Post), &thread)?;
        let thread: WithId<serenity::ChannelId> = self.send_json(request).await?;
        Ok(thread.id.get())
    }

    /// Archives a thread, which keeps what was said but closes it to new replies until someone
    /// writes in it again.
    pub async fn archive_thread(&self, thread_id: u64) -> Result<(), RestError> {
        let route = Route::Channel {
            channel_id: serenity::ChannelId::new(thread_id.max(1)),
        };
        let archived = serde_json::json!({"archived": true});
        let request = with_body(Request::new(route, LightMethod::Patch), &archived)?;
        self.send(request).await.map(|_| ())
    }

    /// Deletes a thread careprompt opened, with what is in it.
    pub async fn delete_thread(&self, thread_id: u64) -> Result<(), RestError> {
        let route = Route::Channel {
            channel_id: serenity::ChannelId::new(thread_id.max(1)),
        };
        self.send(Request::new(route, LightMethod::Delete))
            .await
            .map(|_| ())
    }

    /// Opens (or finds) the DM channel with a person and returns its id.
    pub async fn open_dm(&self, user_id: u64) -> Result<u64, RestError> {
        let body = serde_json::to_vec(&serde_json::json!({"recipient_id": user_id.to_string()}))
            .map_err(|err| RestError::Decode {
                method: "POST",
                route: "/users/@me/channels".into(),
                reason: err.to_string(),
            })?;
        let channel: WithId<serenity::ChannelId> = self
            .send_json(Request::new(Route::UserMeDmChannels, LightMethod::Post).body(Some(body)))
            .await?;
        Ok(channel.id.get())
    }

    /// Whether the bot can see the channel: Discord answers 403 or 404 when it cannot. Nothing of
    /// the channel is read, but its answer must still be one.
    pub async fn channel(&self, channel_id: u64) -> Result<(), RestError> {
        let _: IgnoredAny = self
            .send_json(Request::new(
                Route::Channel {
                    channel_id: serenity::ChannelId::new(channel_id.max(1)),
                },
                LightMethod::Get,
            ))
            .await?;
        Ok(())
    }
}

/// The request with `body` as its JSON.
fn with_body<'a>(
    request: Request<'a>,
    body: &impl serde::Serialize,
) -> Result<Request<'a>, RestError> {
    let bytes = serde_json::to_vec(body).map_err(|err| RestError::Decode {
        method: super::method_name(*request.method_ref()),
        route: super::route_label(request.route_ref()),
        reason: err.to_string(),
    })?;
    Ok(request.body(Some(bytes)))
}
